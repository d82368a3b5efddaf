#!/usr/bin/env bats
# Configuration (SPEC 6): msmtprc syntax, account selection (--account,
# the account whose `from` matches the sender, `default`), command-line
# options over the account, the default file locations, and the errors
# (exit 78).

load lib/common
load lib/core

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$HOME"
	CFG=$BATS_TEST_TMPDIR/carrierrc
}

# write_config [FILE] < TEXT: the configuration (mode 600).
write_config() {
	local f=${1:-$CFG}
	mkdir -p "$(dirname "$f")"
	cat >"$f"
	chmod 600 "$f"
}

# run_plain ARGS...: carrier with only ARGS (no --host/--port of
# run_carrier), the test message on standard input.
run_plain() {
	run --separate-stderr "$CARRIER" "$@" <"$(test_message)"
}

# sent_from SENDER: the fake server got exactly one message from SENDER
# to b@x.test, with the HELO name of the configuration.
sent_from() {
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<$1> SIZE=135
		RCPT TO:<b@x.test>
		DATA
		QUIT
	EOF
	# test_message as it arrives: CRLF, then the terminator.
	assert_data 1 $'From: Alice <a@x.test>\r\nTo: Bob <b@x.test>\r\nSubject: test\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\r\nMessage-ID: <test@x.test>\r\n\r\nHello.\r\n.\r\n'
}

# accounts CLOSED: a configuration with defaults, three accounts and
# `account default : two`; the accounts "one" and "two" use the fake
# server, "other" the closed port CLOSED.
accounts() {
	write_config <<-EOF
		# carrier test configuration
		defaults
		timeout 5
		domain client.test
		auth off
		tls off

		account one
		host 127.0.0.1
		port ${FAKE_PORT:-$1}
		from one@x.test

		account two : one
		from two@x.test

		account other
		host 127.0.0.1
		port $1
		from other@x.test

		account wild : one
		from *@wild.test

		account default : two
	EOF
}

@test "defaults, accounts and 'account default : NAME': the default account, its from first" {
	fake_start ''
	accounts "$(closed_port)"
	run_plain --config "$CFG" b@x.test
	fake_wait
	assert_status 0
	assert_quiet
	sent_from two@x.test
}

@test "--account NAME chooses the account" {
	fake_start ''
	accounts "$(closed_port)"
	run_plain --config "$CFG" --account one b@x.test
	fake_wait
	assert_status 0
	assert_quiet
	sent_from one@x.test
	# "other" is the closed port: the connection is refused.
	run_plain --config "$CFG" --account other b@x.test
	assert_status 75
}

@test "without --account: the account whose from matches -f (case-insensitive, patterns too)" {
	local closed
	closed=$(closed_port)
	fake_start ''
	accounts "$closed"
	run_plain --config "$CFG" -f ONE@X.TEST b@x.test
	fake_wait
	assert_status 0
	sent_from ONE@X.TEST
	fake_start ''
	accounts "$closed"
	run_plain --config "$CFG" -f someone@wild.test b@x.test
	fake_wait
	assert_status 0
	sent_from someone@wild.test
	# -f matching "other" selects it: its closed port.
	run_plain --config "$CFG" -f other@x.test b@x.test
	assert_status 75
}

@test "without --account and no matching from: 'default'" {
	fake_start ''
	accounts "$(closed_port)"
	run_plain --config "$CFG" -f nobody@x.test b@x.test
	fake_wait
	assert_status 0
	sent_from nobody@x.test
}

@test "command-line options override the account: --port, --host, --helo, -f" {
	local closed
	closed=$(closed_port)
	fake_start ''
	accounts "$closed"
	run_plain --config "$CFG" --account other --port "$FAKE_PORT" b@x.test
	fake_wait
	assert_status 0
	sent_from other@x.test
	fake_start ''
	write_config <<-EOF
		account default
		host no-such-host.invalid
		port $FAKE_PORT
		domain config.test
		from cfg@x.test
	EOF
	run_plain --config "$CFG" --host 127.0.0.1 --helo client.test -f arg@x.test b@x.test
	fake_wait
	assert_status 0
	sent_from arg@x.test
}

@test "--host HOST:PORT overrides the account's host and port" {
	fake_start ''
	write_config <<-EOF
		account default
		host no-such-host.invalid
		port $(closed_port)
		domain client.test
	EOF
	run_plain --config "$CFG" --host "127.0.0.1:$FAKE_PORT" -f a@x.test b@x.test
	assert_status 0
	fake_wait
	sent_from a@x.test
}

@test "an unknown account: 78 naming it" {
	accounts "$(closed_port)"
	run_plain --config "$CFG" --account nope b@x.test
	assert_status 78
	assert_equal "$output" ""
	assert_stderr_line "^carrier: no account 'nope' in $CFG"
	# With no configuration file at all.
	run_plain --account nope b@x.test
	assert_status 78
	assert_stderr_line "^carrier: no account 'nope'"
}

@test "an unknown key: 78 with FILE:LINE and the key" {
	write_config <<-'EOF'
		defaults
		tls off

		account a
		hots mail.x.test
	EOF
	run_plain --config "$CFG" b@x.test
	assert_status 78
	assert_equal "$output" ""
	assert_stderr_line "^carrier: $CFG:5: unknown key 'hots'\$"
}

@test "bad values: 78 with FILE:LINE naming the key" {
	local line
	while IFS= read -r line; do
		printf 'account default\n%s\n' "$line" | write_config
		run_plain --config "$CFG" b@x.test
		assert_status 78
		assert_stderr_line "^carrier: $CFG:2: .*'${line%% *}'"
	done <<-'EOF'
		port 99999
		port abc
		timeout soon
		tls maybe
		protocol ftp
		auth on off
		tls_fingerprint AB:CD
		dsn_notify sometimes
		dsn_return body
		set_date_header on
	EOF
}

@test "a file holding a password that others can read: 78 with the chmod hint" {
	local mode
	for mode in 640 604 660 606 644; do
		printf 'account default\nhost 127.0.0.1\nuser u\npassword secret\n' >"$CFG"
		chmod "$mode" "$CFG"
		run_plain --config "$CFG" b@x.test
		assert_status 78
		assert_stderr_line "^carrier: $CFG: .*\\(chmod 600 $CFG\\)\$"
		refute [ "$(printf '%s' "$stderr" | grep -c secret)" -ne 0 ]
	done
}

@test "a password file of mode 600 is used; a file without a password may be readable" {
	fake_start ''
	write_config <<-EOF
		account default
		host 127.0.0.1
		port $FAKE_PORT
		domain client.test
		auth off
		password secret
	EOF
	run_plain --config "$CFG" -f a@x.test b@x.test
	fake_wait
	assert_status 0
	sent_from a@x.test
	fake_start ''
	printf 'account default\nhost 127.0.0.1\nport %s\ndomain client.test\n' "$FAKE_PORT" >"$CFG"
	chmod 644 "$CFG"
	run_plain --config "$CFG" -f a@x.test b@x.test
	fake_wait
	assert_status 0
	sent_from a@x.test
}

@test "a missing --config or -C file: 78 naming it" {
	run_plain --config "$BATS_TEST_TMPDIR/nope" b@x.test
	assert_status 78
	assert_stderr_line "^carrier: $BATS_TEST_TMPDIR/nope: No such file or directory\$"
	run_plain -C "$BATS_TEST_TMPDIR/nope" b@x.test
	assert_status 78
	assert_stderr_line "^carrier: $BATS_TEST_TMPDIR/nope: "
}

@test "\$XDG_CONFIG_HOME/carrier/config is read by default, before ~/.config/carrier/config" {
	fake_start ''
	write_config "$XDG_CONFIG_HOME/carrier/config" <<-EOF
		account default
		host 127.0.0.1
		port $FAKE_PORT
		domain client.test
		from xdg@x.test
	EOF
	write_config "$HOME/.config/carrier/config" <<-'EOF'
		account default
		from home@x.test
		port 1
	EOF
	run_plain b@x.test
	fake_wait
	assert_status 0
	sent_from xdg@x.test
}

@test "~/.config/carrier/config is read when XDG_CONFIG_HOME is not set" {
	fake_start ''
	unset XDG_CONFIG_HOME
	write_config "$HOME/.config/carrier/config" <<-EOF
		account default
		host 127.0.0.1
		port $FAKE_PORT
		domain client.test
		from home@x.test
	EOF
	run_plain b@x.test
	fake_wait
	assert_status 0
	sent_from home@x.test
}

@test "lines before any account belong to the account 'default' (msmtp 1.2 files)" {
	fake_start ''
	write_config <<-EOF
		host 127.0.0.1
		port $FAKE_PORT
		domain client.test
		from old@x.test
	EOF
	run_plain --config "$CFG" b@x.test
	fake_wait
	assert_status 0
	sent_from old@x.test
}

@test "a typical msmtprc works unchanged: defaults with a logfile, an account, account default" {
	fake_start ''
	# As msmtp's documentation writes it: tabs, comments, quotes, CRLF
	# on one line, and keys carrier only accepts for compatibility.
	write_config "$HOME/.msmtprc" <<-EOF
		# Set default values for all following accounts.
		defaults
		auth           off
		tls            off
		tls_trust_file /etc/ssl/certs/ca-certificates.crt
		logfile        ~/.msmtp.log

		# A freemail service
		account        freemail
		host           127.0.0.1
		port           $FAKE_PORT
		from           "joe_smith@x.test"
		domain         client.test
		syslog         off

		# Set a default account
		account default : freemail
	EOF
	sed -i 's/^auth.*/&\r/' "$HOME/.msmtprc"
	run_plain --config "$HOME/.msmtprc" b@x.test
	fake_wait
	assert_status 0
	assert_quiet
	sent_from joe_smith@x.test
	# The log line went to ~/.msmtp.log.
	[[ -s $HOME/.msmtp.log ]] || fail "no log in $HOME/.msmtp.log"
	run grep -c 'b@x.test' "$HOME/.msmtp.log"
	assert_output 1
	refute grep -q secret "$HOME/.msmtp.log"
}

@test "--helo with CR, LF or a blank: 64, nothing sent (I02)" {
	local h
	fake_start ''
	for h in $'client.test\r\nRSET' $'client.test\rRSET' $'client.test\nRSET' 'client test'; do
		run --separate-stderr "$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" --helo "$h" -f a@x.test b@x.test <"$(test_message)"
		assert_status 64
		assert_stderr_line '^carrier: --helo: contains a (control character|space)$'
	done
	fake_stop
	refute_connected
}

@test "the configuration's domain with a CR or another control byte: 78 naming it, no EHLO sent (I02)" {
	fake_start ''
	printf 'account default\nhost 127.0.0.1\nport %s\ndomain client.test\rMAIL FROM:<evil@x.test>\n' "$FAKE_PORT" | write_config
	run_plain --config "$CFG" -f a@x.test b@x.test
	fake_stop
	assert_status 78
	assert_stderr_line "^carrier: $CFG:4: .*'domain'"
	refute_connected
	wire_lacks 'MAIL FROM:<evil@x.test>'
}

@test "the configuration's from with a CR: 65 before connecting (I01)" {
	fake_start ''
	printf 'account default\nhost 127.0.0.1\nport %s\ndomain client.test\nfrom a@x.test\rRSET\n' "$FAKE_PORT" | write_config
	run_plain --config "$CFG" b@x.test
	fake_stop
	assert_status 65
	assert_stderr_line '^carrier: address: .*control character'
	assert_stderr_clean
	refute_connected
}

# ------------------------------------------- lines that run commands

# eval_config FILE MODE LINES...: an account for the fake server, with
# user u and LINES (printf %b each), written to FILE with MODE.
eval_config() {
	local f=$1 mode=$2 l
	shift 2
	{
		printf 'account default\nhost 127.0.0.1\nport %s\ndomain client.test\nuser u\n' "$FAKE_PORT"
		for l in "$@"; do printf '%b\n' "$l"; done
	} >"$f"
	chmod "$mode" "$f"
}

need_root() {
	[[ $(id -u) == 0 ]] || skip 'needs root (chown nobody)'
}

@test "passwordeval in a file owned by another user: 78, the command not run (I20)" {
	need_root
	local ran=$BATS_TEST_TMPDIR/ran
	fake_start 'capabilities AUTH PLAIN'
	eval_config "$CFG" 644 "passwordeval touch $ran; echo pw"
	chown nobody "$CFG"
	run_plain --config "$CFG" -f a@x.test b@x.test
	fake_stop
	assert_status 78
	assert_stderr_line "^carrier: $CFG: refusing to run passwordeval: the file belongs to another user \\(uid $(id -u nobody)\\), not to you or root\$"
	[[ ! -e $ran ]]
	refute_connected
}

@test "passwordeval and eval in a group-writable file: 78, the command not run (I20)" {
	local ran=$BATS_TEST_TMPDIR/ran
	fake_start 'capabilities AUTH PLAIN'
	eval_config "$CFG" 664 "passwordeval touch $ran; echo pw"
	run_plain --config "$CFG" -f a@x.test b@x.test
	assert_status 78
	assert_stderr_line "^carrier: $CFG: refusing to run passwordeval: its group can write the file \\(chmod go-w\\)\$"
	[[ ! -e $ran ]]
	eval_config "$CFG" 664 "eval touch $ran; echo auth off"
	run_plain --config "$CFG" -f a@x.test b@x.test
	assert_status 78
	assert_stderr_line "^carrier: $CFG:6: refusing to run eval: its group can write the file \\(chmod go-w\\)\$"
	[[ ! -e $ran ]]
	eval_config "$CFG" 646 "eval touch $ran; echo auth off"
	run_plain --config "$CFG" -f a@x.test b@x.test
	assert_status 78
	assert_stderr_line "^carrier: $CFG:6: refusing to run eval: others can write the file \\(chmod go-w\\)\$"
	[[ ! -e $ran ]]
	fake_stop
	refute_connected
}

@test "eval in a file owned by another user: 78, the command not run (I20)" {
	need_root
	local ran=$BATS_TEST_TMPDIR/ran
	fake_start ''
	eval_config "$CFG" 644 "eval touch $ran; echo auth off"
	chown nobody "$CFG"
	run_plain --config "$CFG" -f a@x.test b@x.test
	fake_stop
	assert_status 78
	assert_stderr_line "^carrier: $CFG:6: refusing to run eval: the file belongs to another user \\(uid $(id -u nobody)\\), not to you or root\$"
	[[ ! -e $ran ]]
	refute_connected
}

@test "passwordeval and eval in the caller's own 0600 file: both run" {
	local ran=$BATS_TEST_TMPDIR/ran
	fake_start <<-'EOF'
		capabilities AUTH PLAIN
		auth-secret u pw
	EOF
	eval_config "$CFG" 600 "eval touch $ran; echo auth plain" "passwordeval echo pw"
	run_plain --config "$CFG" -f a@x.test b@x.test
	fake_wait
	assert_status 0
	assert_equal "$stderr" ''
	[[ -e $ran ]]
	fake_assert_sent "AUTH PLAIN $(printf '\0u\0pw' | base64 -w0)"
}

@test "passwordeval past --timeout: its process group killed, 78 within seconds (I20)" {
	fake_start 'capabilities AUTH PLAIN'
	# The background sleep holds the output pipe open after `echo`.
	eval_config "$CFG" 600 "passwordeval sleep 30 & echo pw"
	local t0=$SECONDS
	run --separate-stderr timeout 10 "$CARRIER" --config "$CFG" --timeout 2 -f a@x.test b@x.test <"$(test_message)"
	local took=$((SECONDS - t0))
	fake_stop
	assert_status 78
	assert_stderr_line '^carrier: passwordeval: the command did not finish within 2 s \(killed\)$'
	[[ $took -lt 10 ]] || fail "took $took s"
	refute_connected
}

@test "eval past --timeout: 78 naming the line, within seconds" {
	fake_start ''
	eval_config "$CFG" 600 'eval sleep 30; echo auth off'
	local t0=$SECONDS
	run --separate-stderr timeout 10 "$CARRIER" --config "$CFG" --timeout 2 -f a@x.test b@x.test <"$(test_message)"
	assert_status 78
	assert_stderr_line "^carrier: $CFG:6: the command did not finish within 2 s \\(killed\\)\$"
	[[ $((SECONDS - t0)) -lt 10 ]] || fail "took $((SECONDS - t0)) s"
	fake_stop
	refute_connected
}

@test "passwordeval may read the terminal: its process group has it while it runs" {
	command -v script >/dev/null || skip 'script(1) (util-linux) is not installed'
	fake_start <<-'EOF'
		capabilities AUTH PLAIN
		auth-secret u pw
	EOF
	eval_config "$CFG" 600 'passwordeval read p </dev/tty; echo "$p"'
	local m
	m=$(test_message)
	# script(1) runs carrier on a new terminal, typing its input there.
	run --separate-stderr timeout 20 script -qec \
		"'$CARRIER' --config '$CFG' --timeout 5 -f a@x.test b@x.test <'$m'" /dev/null <<<'pw'
	fake_wait
	assert_status 0
	fake_assert_sent "AUTH PLAIN $(printf '\0u\0pw' | base64 -w0)"
}

# ------------------------------------------- one parser for both sides

@test "dsn_notify and dsn_return from the account go on the wire in upper case, as -N and -R do" {
	fake_start 'capabilities +DSN'
	write_config <<-EOF
		account default
		host 127.0.0.1
		port $FAKE_PORT
		domain client.test
		dsn_notify success,Delay
		dsn_return hdrs
	EOF
	run_plain --config "$CFG" -f a@x.test b@x.test
	fake_wait
	assert_status 0
	assert_quiet
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=135 RET=HDRS'
	fake_assert_sent 'RCPT TO:<b@x.test> NOTIFY=SUCCESS,DELAY'
}

@test "host HOST:PORT in the account: the same syntax as --host" {
	fake_start ''
	printf 'account default\nhost 127.0.0.1:%s\ndomain client.test\n' "$FAKE_PORT" | write_config
	run_plain --config "$CFG" -f a@x.test b@x.test
	fake_wait
	assert_status 0
	assert_quiet
	sent_from a@x.test
}

@test "host with a bad port in the account: 78 naming the line, as --host is 64" {
	fake_start ''
	printf 'account default\nhost 127.0.0.1:99999\n' | write_config
	run_plain --config "$CFG" -f a@x.test b@x.test
	assert_status 78
	assert_stderr_line "^carrier: $CFG:2: invalid value '127.0.0.1:99999' for 'host' \\(.*1 to 65535\\)\$"
	run_plain --host '127.0.0.1:99999' -f a@x.test b@x.test
	assert_status 64
	assert_stderr_line "^carrier: --host: invalid value '127.0.0.1:99999' \\(.*1 to 65535\\)\$"
	fake_stop
	refute_connected
}

@test "timeout above 86400: 78 in the account, 64 on the command line (one maximum)" {
	fake_start ''
	printf 'account default\nhost 127.0.0.1\nport %s\ntimeout 86401\n' "$FAKE_PORT" | write_config
	run_plain --config "$CFG" -f a@x.test b@x.test
	assert_status 78
	assert_stderr_line "^carrier: $CFG:4: invalid value '86401' for 'timeout' \\(a number of seconds, 1 to 86400\\)\$"
	run_plain --config "$CFG" --timeout 86401 -f a@x.test b@x.test
	assert_status 64
	assert_stderr_line "^carrier: --timeout: invalid value '86401' \\(a number of seconds, 1 to 86400\\)\$"
	fake_stop
	refute_connected
}

@test "syslog daemon: accepted in the account as on the command line" {
	fake_start ''
	printf 'account default\nhost 127.0.0.1\nport %s\ndomain client.test\nsyslog LOG_DAEMON\n' "$FAKE_PORT" | write_config
	run_plain --config "$CFG" -f a@x.test b@x.test
	fake_wait
	assert_status 0
	assert_quiet
	sent_from a@x.test
	fake_start ''
	run_plain --host 127.0.0.1 --port "$FAKE_PORT" --helo client.test --syslog=daemon -f a@x.test b@x.test
	fake_wait
	assert_status 0
	assert_quiet
}

@test "--auth with a mechanism msmtp knows and carrier lacks: 64 naming it, as the account's auth is 78" {
	fake_start ''
	run_plain --host 127.0.0.1 --port "$FAKE_PORT" --user u --auth plain,gssapi -f a@x.test b@x.test
	assert_status 64
	assert_stderr_line '^carrier: --auth: GSSAPI is not supported by carrier$'
	printf 'account default\nhost 127.0.0.1\nport %s\nuser u\nauth plain,gssapi\n' "$FAKE_PORT" | write_config
	run_plain --config "$CFG" -f a@x.test b@x.test
	assert_status 78
	assert_stderr_line "^carrier: $CFG:5: auth GSSAPI is not supported by carrier\$"
	fake_stop
	refute_connected
}

@test "--tls-fingerprint with a SHA-1 value: 64 naming it, as the account's is 78" {
	fake_start ''
	local sha1=00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33
	run_plain --host 127.0.0.1 --port "$FAKE_PORT" --tls-fingerprint "$sha1" -f a@x.test b@x.test
	assert_status 64
	assert_stderr_line '^carrier: --tls-fingerprint: SHA-1 and MD5 fingerprints are not supported by carrier: use the SHA256 fingerprint$'
	fake_stop
	refute_connected
}

# msmtprc_at FILE FROM: an msmtp user file that sends to the fake server.
msmtprc_at() {
	write_config "$1" <<-EOF
		account default
		host 127.0.0.1
		port $FAKE_PORT
		domain client.test
		from $2
	EOF
}

@test "without a carrier file, msmtp's ~/.msmtprc is read first, and -v names it and the account" {
	fake_start ''
	msmtprc_at "$HOME/.msmtprc" rc@x.test
	msmtprc_at "$XDG_CONFIG_HOME/msmtp/config" xdg@x.test
	run_plain -v b@x.test
	fake_wait
	assert_status 0
	assert_equal "$(printf '%s\n' "$stderr" | head -1)" "* configuration file $HOME/.msmtprc, account default"
	sent_from rc@x.test
}

@test "msmtp's \$XDG_CONFIG_HOME/msmtp/config, and ~/.config/msmtp/config without XDG_CONFIG_HOME; a carrier file wins" {
	fake_start $'connections 3'
	msmtprc_at "$XDG_CONFIG_HOME/msmtp/config" xdg@x.test
	msmtprc_at "$HOME/.config/msmtp/config" home@x.test
	run_plain b@x.test
	assert_status 0
	(unset XDG_CONFIG_HOME; run_plain b@x.test; assert_status 0)
	msmtprc_at "$XDG_CONFIG_HOME/carrier/config" carrier@x.test
	run_plain b@x.test
	assert_status 0
	fake_wait
	run fake_commands
	assert_line --index 1 --regexp '^MAIL FROM:<xdg@x\.test>'
	assert_line --regexp '^MAIL FROM:<home@x\.test>'
	assert_line --regexp '^MAIL FROM:<carrier@x\.test>'
}

@test "~/.msmtprc that holds a password and is readable by others: 78, as carrier's own file" {
	write_config "$HOME/.msmtprc" <<-'EOF'
		account default
		host 127.0.0.1
		user u
		password secret
	EOF
	chmod 644 "$HOME/.msmtprc"
	run_plain b@x.test
	assert_status 78
	assert_stderr "carrier: $HOME/.msmtprc: holds a password, so it must not be readable by others (chmod 600 $HOME/.msmtprc)"
}
