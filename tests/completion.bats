#!/usr/bin/env bats
# Shell completions: completions/carrier.bash driven directly through
# COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT, the zsh and fish files checked
# for syntax, and fish asked for real completions.

load lib/common

BASH_COMPLETION=$REPO/completions/carrier.bash
ZSH_COMPLETION=$REPO/completions/_carrier
FISH_COMPLETION=$REPO/completions/carrier.fish

setup() {
	# The account tests must not see the user's or the system's file.
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
	mkdir -p "$HOME" "$XDG_CONFIG_HOME/carrier"
}

# complete WORD...: runs _carrier as bash would for the command line made
# of the WORDs, the cursor at the end of the last one (pass "" to complete
# a new word), and prints COMPREPLY one entry a line, sorted.
complete_words() {
	# shellcheck source=/dev/null
	source "$BASH_COMPLETION"
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_carrier carrier "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
}

@test "bash: the file registers _carrier for carrier and sendmail" {
	run bash -c "source '$BASH_COMPLETION' && complete -p carrier && complete -p sendmail"
	assert_success
	assert_line 'complete -F _carrier carrier'
	assert_line 'complete -F _carrier sendmail'
}

@test "bash: an option prefix completes to the long options" {
	run complete_words carrier --tls-
	assert_success
	assert_output "$(printf '%s\n' --tls-ca --tls-cert --tls-cert-file \
		--tls-certcheck= --tls-fingerprint --tls-host-override --tls-key \
		--tls-key-file --tls-no-verify --tls-on-connect --tls-priorities \
		--tls-priority --tls-starttls= --tls-trust-file)"
}

@test "bash: --start offers --starttls and --starttls=" {
	run complete_words carrier --start
	assert_success
	assert_output "$(printf '%s\n' --starttls --starttls=)"
}

@test "bash: --starttls= offers required and optional (= split off, as bash does)" {
	run complete_words carrier --starttls = ""
	assert_success
	assert_output "$(printf '%s\n' optional required)"
	run complete_words carrier --starttls = r
	assert_output required
}

@test "bash: --starttls= as one word (no = in COMP_WORDBREAKS)" {
	run complete_words carrier --starttls=
	assert_success
	assert_output "$(printf '%s\n' --starttls=optional --starttls=required)"
}

@test "bash: --auth PL completes to PLAIN" {
	run complete_words carrier --host mx.example --auth PL
	assert_success
	assert_output PLAIN
}

@test "bash: --auth completes the last element of a comma list, any case" {
	run complete_words carrier --auth scram-sha-256,cr
	assert_success
	assert_output scram-sha-256,CRAM-MD5
	run complete_words carrier --auth PLAIN,SCRAM
	assert_output "$(printf '%s\n' PLAIN,SCRAM-SHA-1 PLAIN,SCRAM-SHA-1-PLUS \
		PLAIN,SCRAM-SHA-256 PLAIN,SCRAM-SHA-256-PLUS)"
}

@test "bash: --auth with nothing typed offers every mechanism, on and off" {
	run complete_words carrier --auth ""
	assert_success
	assert_output "$(printf '%s\n' CRAM-MD5 EXTERNAL LOGIN OAUTHBEARER PLAIN \
		SCRAM-SHA-1 SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-256-PLUS XOAUTH2 \
		off on)"
}

@test "bash: --debug= offers 1 and 2, --report offers json" {
	run complete_words carrier --debug = ""
	assert_output "$(printf '%s\n' 1 2)"
	run complete_words carrier --report ""
	assert_output json
	run complete_words carrier --report=
	assert_output --report=json
}

@test "bash: --account lists the accounts of \$XDG_CONFIG_HOME/carrier/config" {
	cat >"$XDG_CONFIG_HOME/carrier/config" <<-'EOF'
		# a comment: account commented
		defaults
		port 587

		account work
		host smtp.example.com
		  account   "personal" : work
		account default : work
	EOF
	run complete_words carrier --account ""
	assert_success
	assert_output "$(printf '%s\n' default personal work)"
	run complete_words carrier --account p
	assert_output personal
}

@test "bash: --account reads the file given earlier with --config or -C" {
	printf 'account other\naccount second : other\n' >"$BATS_TEST_TMPDIR/other.rc"
	echo 'account work' >"$XDG_CONFIG_HOME/carrier/config"
	run complete_words carrier --config "$BATS_TEST_TMPDIR/other.rc" --account ""
	assert_output "$(printf '%s\n' other second)"
	run complete_words carrier -C "$BATS_TEST_TMPDIR/other.rc" --account = s
	assert_output second
	run complete_words carrier "--config=$BATS_TEST_TMPDIR/other.rc" --account o
	assert_output other
}

@test "bash: --account falls back to ~/.config/carrier/config" {
	unset XDG_CONFIG_HOME
	mkdir -p "$HOME/.config/carrier"
	echo 'account home' >"$HOME/.config/carrier/config"
	run complete_words carrier --account ""
	assert_output home
}

@test "bash: file values for --message-file, --file, --config, -C, --tls-ca and --log" {
	mkdir -p "$BATS_TEST_TMPDIR/files"
	touch "$BATS_TEST_TMPDIR/files/message.eml" "$BATS_TEST_TMPDIR/files/mine.pem"
	cd "$BATS_TEST_TMPDIR/files"
	run complete_words carrier --message-file me
	assert_output message.eml
	run complete_words carrier --file mi
	assert_output mine.pem
	run complete_words carrier --config = mi
	assert_output mine.pem
	run complete_words carrier -C mi
	assert_output mine.pem
	run complete_words carrier --tls-ca m
	assert_output "$(printf '%s\n' message.eml mine.pem)"
	run complete_words carrier --log=mi
	assert_output --log=mine.pem
}

@test "bash: a recipient position completes nothing; short flags complete" {
	run complete_words carrier -f a@example.org ""
	assert_success
	assert_output ''
	run complete_words sendmail -b
	assert_output "$(printf '%s\n' -bi -bm -bp -bs)"
}

@test "bash: under the name sendmail no long option is offered (only sendmail's flags are options there)" {
	run complete_words sendmail --
	assert_success
	assert_output ''
	run complete_words /usr/sbin/sendmail --ho
	assert_output ''
	run complete_words carrier --ho
	assert_output '--host'
}

@test "bash: --queue-remove lists the ids in the queue directory" {
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$XDG_STATE_HOME/carrier/queue/failed"
	touch "$XDG_STATE_HOME/carrier/queue/1732600000.a1b2.env" \
		"$XDG_STATE_HOME/carrier/queue/1732600000.a1b2.msg" \
		"$XDG_STATE_HOME/carrier/queue/1732600100.c3d4.env"
	run complete_words carrier --queue-remove ""
	assert_output "$(printf '%s\n' 1732600000.a1b2 1732600100.c3d4)"
	run complete_words carrier --queue-remove 1732600100
	assert_output 1732600100.c3d4
}

@test "bash: --queue-remove also lists the queues the configuration names with 'queue DIR'" {
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$XDG_STATE_HOME/carrier/queue" "$BATS_TEST_TMPDIR/q2" "$HOME/q3"
	touch "$XDG_STATE_HOME/carrier/queue/1732600000.a1b2.env" \
		"$BATS_TEST_TMPDIR/q2/1732600000.a1b2.env" \
		"$BATS_TEST_TMPDIR/q2/1732600200.e5f6.env" \
		"$HOME/q3/1732600300.0a0b.env"
	# The key turns queueing on for the account (src/setup.c); a quoted
	# value, CRLF and "~/" as src/config.c reads them; queue_x is no key.
	printf 'account work\nqueue "%s"\r\naccount home\n  queue ~/q3\nqueue_x %s\n' \
		"$BATS_TEST_TMPDIR/q2" "$BATS_TEST_TMPDIR" >"$XDG_CONFIG_HOME/carrier/config"
	run complete_words carrier --queue-remove ""
	assert_output "$(printf '%s\n' 1732600000.a1b2 1732600200.e5f6 1732600300.0a0b)"
	# --queue=DIR on the line: that directory alone.
	run complete_words carrier --queue="$HOME/q3" --queue-remove ""
	assert_output 1732600300.0a0b
}

@test "fish: --queue-remove lists the ids of the default queue and of 'queue DIR'" {
	command -v fish >/dev/null || skip "fish is not installed (apt-get install fish)"
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$XDG_STATE_HOME/carrier/queue" "$BATS_TEST_TMPDIR/q2"
	touch "$XDG_STATE_HOME/carrier/queue/1732600000.a1b2.env" \
		"$BATS_TEST_TMPDIR/q2/1732600200.e5f6.env"
	printf 'account work\nqueue %s\n' "$BATS_TEST_TMPDIR/q2" >"$XDG_CONFIG_HOME/carrier/config"
	run fish -c "source '$FISH_COMPLETION'; complete -C 'carrier --queue-remove '"
	assert_success
	assert_line --regexp '^1732600000\.a1b2'
	assert_line --regexp '^1732600200\.e5f6'
	assert_equal "${#lines[@]}" 2
}

@test "zsh: completions/_carrier has valid syntax" {
	command -v zsh >/dev/null || skip "zsh is not installed (apt-get install zsh)"
	run zsh -n "$ZSH_COMPLETION"
	assert_success
	assert_output ''
	run head -n 1 "$ZSH_COMPLETION"
	assert_output '#compdef carrier'
}

@test "zsh: the queue ids come from the default queue and from 'queue DIR'" {
	command -v zsh >/dev/null || skip "zsh is not installed (apt-get install zsh)"
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$XDG_STATE_HOME/carrier/queue" "$BATS_TEST_TMPDIR/q2"
	touch "$XDG_STATE_HOME/carrier/queue/1732600000.a1b2.env" \
		"$BATS_TEST_TMPDIR/q2/1732600000.a1b2.env" \
		"$BATS_TEST_TMPDIR/q2/1732600200.e5f6.env"
	printf 'account work\nqueue "%s"\r\n' "$BATS_TEST_TMPDIR/q2" >"$XDG_CONFIG_HOME/carrier/config"
	# The helper alone, outside the completion system: _describe shown.
	sed -n '/^_carrier_queue_ids() {/,/^}/p' "$ZSH_COMPLETION" >"$BATS_TEST_TMPDIR/q.zsh"
	run zsh -c 'source "$1"; _describe() { print -l -- ${(P)4}; }
		words=(carrier --queue-remove ""); CURRENT=3; _carrier_queue_ids' zsh \
		"$BATS_TEST_TMPDIR/q.zsh"
	assert_success
	assert_output "$(printf '%s\n' 1732600000.a1b2 1732600200.e5f6)"
}

@test "fish: completions/carrier.fish has valid syntax" {
	command -v fish >/dev/null || skip "fish is not installed (apt-get install fish)"
	run fish -n "$FISH_COMPLETION"
	assert_success
	assert_output ''
}

@test "fish: --starttls= lists required and optional" {
	command -v fish >/dev/null || skip "fish is not installed (apt-get install fish)"
	run fish -c "source '$FISH_COMPLETION'; complete -C 'carrier --starttls='"
	assert_success
	assert_line --regexp '^--starttls=required'
	assert_line --regexp '^--starttls=optional'
	assert_equal "${#lines[@]}" 2
}

@test "fish: --auth and --account complete" {
	command -v fish >/dev/null || skip "fish is not installed (apt-get install fish)"
	printf 'account work\naccount default : work\n' >"$XDG_CONFIG_HOME/carrier/config"
	run fish -c "source '$FISH_COMPLETION'; complete -C 'carrier --auth PLAIN,SC'"
	assert_line --regexp '^PLAIN,SCRAM-SHA-256'
	assert_line --regexp '^PLAIN,SCRAM-SHA-1'
	run fish -c "source '$FISH_COMPLETION'; complete -C 'carrier --account '"
	assert_line --regexp '^work'
	assert_line --regexp '^default'
}
