#!/usr/bin/env bats
# The offline queue (issue 10): --queue[=DIR] and the `queue DIR` key
# queue a message whose attempt failed for a reason worth retrying (68,
# 69, 74, 75) and exit 0 with one stderr line; --queue-only and -odq queue
# without trying; --flush and -q deliver what is due, one connection per
# account, under a lock, removing an entry only after its 2xx; permanent
# failures go to failed/ with the server's reply; backoff and maximum age
# (the `next` and `first` lines of ID.env are edited instead of a fake
# clock); --list-queue / -bp, --queue-remove; 0700 directories; kill -9
# while writing and while flushing leaves whole entries or none.

load lib/common
load lib/core

setup() {
	# No user configuration or queue of the machine's may leak in.
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$HOME"
	Q=$BATS_TEST_TMPDIR/queue
	QRE=$(re_escape "$Q")
	# test_message as stored in ID.msg: as transmitted, CRLF, no terminator.
	STD_MSG=${STD_WIRE%.$'\r\n'}
}

# re_escape STRING: STRING as a literal in an extended regular expression.
re_escape() {
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

# ids [DIR]: the ids of the entries of the queue (DIR/ID.env), sorted.
ids() {
	local f dir=${1:-$Q}
	for f in "$dir"/*.env; do
		[[ -e $f ]] && basename "$f" .env
	done | sort
}

# count_ids [DIR]: how many entries.
count_ids() {
	ids "$@" | grep -c . || true
}

# the_id: sets ID to the id of the only entry (fails otherwise).
the_id() {
	local v
	v=$(ids)
	if [[ -z $v || $(grep -c . <<<"$v") -ne 1 ]]; then
		{ echo "expected exactly one entry in $Q, found:"; ls -la "$Q" 2>&1; } | fail
		return 1
	fi
	ID=$v
}

# env_value ID KEY [DIR]: the value of KEY in DIR/ID.env (lines joined).
env_value() {
	sed -n "s/^$2 //p" "${3:-$Q}/$1.env"
}

# env_set ID KEY VALUE: rewrites the KEY line of ID.env (it must exist).
env_set() {
	grep -q "^$2 " "$Q/$1.env" || { fail "$1.env has no $2 line"; return 1; }
	sed -i "s/^$2 .*/$2 $3/" "$Q/$1.env"
}

# next_of ID: the time of ID's next attempt as --flush and --list-queue
# write it.
next_of() {
	date -d "@$(env_value "$1" next)" +%Y-%m-%dT%H:%M:%S%z
}

# all_due: every entry's `next` is in the past.
all_due() {
	local id
	for id in $(ids); do
		env_set "$id" next $(($(date +%s) - 1))
	done
}

# queue_only [ARGS...]: queues test_message for b@x.test without trying.
queue_only() {
	run --separate-stderr "$CARRIER" --queue-only --queue="$Q" -f a@x.test "$@" b@x.test <"$(test_message)"
	assert_status 0
}

# listed [DIR]: the ids that --list-queue shows (the first word of every
# line that does not start with a blank), sorted.
listed() {
	"$CARRIER" --queue="${1:-$Q}" --list-queue | grep -v '^Mail queue is empty$' |
		grep -v '^[[:space:]]' | awk '{print $1}' | sort
}

# assert_queue_whole [REFERENCE]: every entry (ID.env) has its ID.msg,
# equal to the file REFERENCE when given, and --list-queue lists exactly
# the entries (so every ID.env parses, and nothing in tmp/ is listed).
assert_queue_whole() {
	local id ref=${1:-}
	for id in $(ids); do
		if [[ ! -f $Q/$id.msg ]]; then
			{ echo "entry $id has an .env but no .msg:"; ls -laR "$Q"; } | fail
			return 1
		fi
		if [[ -n $ref ]] && ! cmp -s "$Q/$id.msg" "$ref"; then
			fail "entry $id: $id.msg ($(stat -c %s "$Q/$id.msg") octets) is not the whole message ($(stat -c %s "$ref") octets)"
			return 1
		fi
	done
	assert_equal "$(listed)" "$(ids)"
}

# mails: how many MAIL commands the current fake server received.
mails() {
	grep -c '^MAIL FROM' "$FAKE_DIR/commands" 2>/dev/null || true
}

# flush_healthy: makes the only entry ($ID) due and flushes it to a healthy
# server, which takes it.
flush_healthy() {
	all_due
	fake_start ''
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 0
	assert_output "$ID: delivered"
}

# flush_delivers_to RCPT: flush_healthy, and the server got it for RCPT
# alone; the queue is then empty.
flush_delivers_to() {
	flush_healthy
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE
		RCPT TO:<$1>
		DATA
		QUIT
	EOF
	assert_equal "$(ids)" ""
}

# traced SYSCALLS K CMD...: runs CMD under strace, killed (SIGKILL) when it
# enters the K-th call of SYSCALLS; $status is 137 when it was killed.
# LeakSanitizer cannot work under ptrace: off for this run only.
traced() {
	local sc=$1 k=$2
	shift 2
	run --separate-stderr env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -o /dev/null -e trace="$sc" -e inject="$sc:signal=KILL:when=$k" "$@"
}

need_strace() {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
}

# ------------------------------------------------ queueing on a failure

@test "421 at the greeting: queued (exit 0), kept until due, then flushed to the server once it is back" {
	fake_start 'greeting 421 4.3.2 Service busy | close'
	run_carrier --queue="$Q" -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_equal "$output" ""
	stderr_has "^carrier: queued as [^ ]+ in $QRE: greeting: 421 4\.3\.2 Service busy$"
	the_id
	stderr_has "^carrier: queued as $ID in "
	assert_equal "$(env_value "$ID" sender)" a@x.test
	assert_equal "$(env_value "$ID" recipient)" b@x.test
	assert_equal "$(env_value "$ID" attempts)" 1
	assert_equal "$(env_value "$ID" error)" 'greeting: 421 4.3.2 Service busy'
	# First retry after 5 minutes.
	assert_equal $(($(env_value "$ID" next) - $(env_value "$ID" first))) 300
	assert_bytes "$Q/$ID.msg" "$STD_MSG"

	# The server is back, but the entry is not due yet: --flush=due tries
	# nothing and says when the next attempt is.
	fake_start ''
	run_carrier --queue="$Q" --flush=due
	assert_status 0
	assert_output "$ID: waiting, next attempt $(next_of "$ID")"
	assert_equal "$stderr" ""
	assert_equal "$(ids)" "$ID"
	# Due: delivered once, then removed.
	all_due
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 0
	assert_output "$ID: delivered"
	assert_equal "$stderr" ""
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE
		RCPT TO:<b@x.test>
		DATA
		QUIT
	EOF
	assert_data 1 "$STD_WIRE"
	assert_equal "$(ids)" ""
	[[ ! -e $Q/$ID.msg ]]
	run --separate-stderr "$CARRIER" --queue="$Q" --list-queue
	assert_status 0
	assert_output 'Mail queue is empty'
}

@test "a timeout is queued (75 -> 0), then flushed" {
	fake_start 'greeting stall'
	timer_start
	CARRIER_TIMEOUT=1 run_carrier --queue="$Q" -f a@x.test b@x.test <"$(test_message)"
	assert_elapsed_below 4000
	fake_stop
	assert_status 0
	assert_equal "$output" ""
	stderr_has "^carrier: queued as [^ ]+ in $QRE: greeting: .*timed out"
	the_id
	assert_equal "$(env_value "$ID" attempts)" 1
	flush_healthy
	assert_data 1 "$STD_WIRE"
	assert_equal "$(ids)" ""
}

@test "a refused connection is queued (75 -> 0), then flushed" {
	local closed
	closed=$(closed_port)
	run --separate-stderr "$CARRIER" --host 127.0.0.1 --port "$closed" --timeout 5 \
		--queue="$Q" -f a@x.test b@x.test <"$(test_message)"
	assert_status 0
	assert_equal "$output" ""
	stderr_has "^carrier: queued as [^ ]+ in $QRE: connect: 127\.0\.0\.1 port $closed: Connection refused$"
	the_id
	flush_healthy
	assert_equal "$stderr" ""
	assert_data 1 "$STD_WIRE"
	assert_equal "$(ids)" ""
}

@test "every failure worth retrying is queued with its reason: lost connection (74), 4xx to MAIL or data (75), unknown host (68)" {
	local scenario re i=0
	while IFS='|' read -r scenario re; do
		i=$((i + 1))
		rm -rf "$Q"
		fake_start "$scenario"
		run_carrier --queue="$Q" -f a@x.test b@x.test <"$(test_message)"
		fake_stop
		assert_status 0
		assert_equal "$output" ""
		stderr_has "^carrier: queued as [^ ]+ in $QRE: $re"
		the_id
		env_value "$ID" error | grep -qE -- "$re" || fail "case $i: error line: $(env_value "$ID" error)"
	done <<-'EOF'
		MAIL close|.*(closed|lost|reset)
		MAIL 452 4.3.1 Insufficient system storage|MAIL FROM:<a@x\.test> refused: 452 4\.3\.1 Insufficient system storage$
		data-end 451 4.3.0 Try again later|.*451 4\.3\.0 Try again later$
	EOF
	resolver_is_fenced || return 0
	rm -rf "$Q"
	run --separate-stderr "$CARRIER" --host no-such-host.invalid --timeout 5 \
		--queue="$Q" -f a@x.test b@x.test <"$(test_message)"
	assert_status 0
	stderr_has "^carrier: queued as [^ ]+ in $QRE: host name lookup: no-such-host\.invalid"
	the_id
}

@test "queued on a failure: the notice is the only line on stderr" {
	# Issue 10: "exits 0 with one line on stderr saying it was queued and
	# why".  The line names the id, the directory and the reason.
	fake_start 'greeting 421 4.3.2 Service busy | close'
	run_carrier --queue="$Q" -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_equal "$output" ""
	assert_stderr_line "^carrier: queued as [^ ]+ in $QRE: greeting: 421 4\.3\.2 Service busy$"
}

@test "every recipient deferred (450): queued with the server's reply as the reason" {
	fake_start 'RCPT 450 4.2.0 Greylisted, come back later'
	run_carrier --queue="$Q" -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 0
	the_id
	assert_equal "$(env_value "$ID" recipient | tr '\n' ' ')" 'b@x.test c@x.test '
	# The reason given and recorded is the server's, not an empty string.
	env_value "$ID" error | grep -q '450 4\.2\.0 Greylisted' ||
		fail "error line of $ID.env: '$(env_value "$ID" error)'"
	stderr_has "^carrier: queued as $ID in $QRE: .*450 4\.2\.0 Greylisted"
}

@test "a permanent failure is not queued: 550 to the data exits 81, 553 to MAIL exits 80" {
	fake_start 'data-end 550 5.7.1 Message rejected'
	run_carrier --queue="$Q" -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 81
	assert_equal "$output" ""
	assert_stderr_line '^carrier: .*550 5\.7\.1 Message rejected$'
	assert_equal "$(ids)" ""
	fake_start 'MAIL 553 5.1.8 Sender address rejected'
	run_carrier --queue="$Q" -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 80
	stderr_has '553 5\.1\.8 Sender address rejected$'
	[[ $stderr != *'queued as'* ]] || fail "queued: $stderr"
	assert_equal "$(ids)" ""
}

@test "--queue-only and -odq queue without connecting (due at once); -bp and mailq list them; -q flushes both over one connection" {
	fake_start ''
	run_carrier --queue-only --queue="$Q" -f a@x.test b@x.test <"$(test_message)"
	assert_status 0
	assert_equal "$output" ""
	assert_stderr_line "^carrier: queued as [^ ]+ in $QRE \(not sent: --queue-only\)$"
	run_carrier -odq --queue="$Q" -f a@x.test c@x.test <"$(test_message)"
	assert_status 0
	assert_stderr_line "^carrier: queued as [^ ]+ in $QRE "
	fake_stop
	refute_connected
	assert_equal "$(count_ids)" 2
	local id
	for id in $(ids); do
		assert_equal "$(env_value "$id" attempts)" 0
		assert_equal "$(env_value "$id" next)" "$(env_value "$id" first)"
		assert_equal "$(env_value "$id" error)" ""
	done

	run --separate-stderr "$CARRIER" -bp --queue="$Q"
	assert_status 0
	for id in $(ids); do assert_line --partial "$id"; done
	assert_line --partial '<b@x.test>'
	assert_line --partial '<c@x.test>'
	ln -s "$CARRIER" "$BATS_TEST_TMPDIR/mailq"
	# Under the name mailq only sendmail's flags count: the queue comes
	# from the configuration.
	printf 'account default\nqueue %s\n' "$Q" >"$BATS_TEST_TMPDIR/mailq.conf"
	chmod 600 "$BATS_TEST_TMPDIR/mailq.conf"
	run --separate-stderr "$BATS_TEST_TMPDIR/mailq" -C "$BATS_TEST_TMPDIR/mailq.conf"
	assert_status 0
	for id in $(ids); do assert_line --partial "$id"; done

	fake_start ''
	run_carrier -q --queue="$Q"
	fake_done
	assert_status 0
	assert_equal "${#lines[@]}" 2
	for id in $(ids); do assert_line "$id: delivered"; done
	assert_equal "$stderr" ""
	# One connection, two transactions.
	refute grep -q '^--- connection 2' "$FAKE_DIR/commands"
	assert_equal "$(mails)" 2
	assert_equal "$(grep -c '^EHLO' "$FAKE_DIR/commands")" 1
	fake_assert_sent 'RCPT TO:<b@x.test>'
	fake_assert_sent 'RCPT TO:<c@x.test>'
	assert_equal "$(ids)" ""
}

@test "the configuration key 'queue DIR' turns queueing on" {
	fake_start 'greeting 421 4.3.2 Service busy | close'
	mkdir -p "$XDG_CONFIG_HOME/carrier"
	printf 'defaults\nqueue %s\n' "$Q" >"$XDG_CONFIG_HOME/carrier/config"
	chmod 600 "$XDG_CONFIG_HOME/carrier/config"
	cp "$XDG_CONFIG_HOME/carrier/config" "$BATS_TEST_TMPDIR/rc"
	run_carrier --config "$BATS_TEST_TMPDIR/rc" -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	stderr_has "^carrier: queued as [^ ]+ in $QRE: greeting: 421"
	the_id
	# Without the key (and without --queue) the failure is the exit status.
	fake_start 'greeting 421 4.3.2 Service busy | close'
	run_carrier --config /dev/null -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 75
	assert_stderr_line '^carrier: greeting: 421 4\.3\.2 Service busy$'
	assert_equal "$(ids)" "$ID"
}

@test "the queue directory: \$XDG_STATE_HOME/carrier/queue by default, 0700 with tmp/ and failed/ (even with umask 000), entries 0600" {
	umask 000
	fake_start 'greeting 421 4.3.2 Service busy | close'
	run_carrier --queue -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	Q=$XDG_STATE_HOME/carrier/queue
	stderr_has "^carrier: queued as [^ ]+ in $(re_escape "$Q"): "
	the_id
	assert_equal "$(stat -c %a "$Q")" 700
	assert_equal "$(stat -c %a "$Q/tmp")" 700
	assert_equal "$(stat -c %a "$XDG_STATE_HOME/carrier")" 700
	assert_equal "$(stat -c %a "$Q/$ID.env")" 600
	assert_equal "$(stat -c %a "$Q/$ID.msg")" 600
	# A permanent failure at the flush creates failed/, 0700 too.
	all_due
	fake_start 'data-end 554 5.7.1 No'
	run_carrier --queue --flush
	fake_done
	assert_status 81
	assert_equal "$(stat -c %a "$Q/failed")" 700
	assert_equal "$(stat -c %a "$Q/failed/$ID.msg")" 600
	assert_equal "$(stat -c %a "$Q/failed/$ID.env")" 600
	# The lock file is not readable by others either.
	assert_equal "$(stat -c %a "$Q/.lock")" 600
}

# ------------------------------------------------------- list and remove

@test "--list-queue and -bp: one line per entry with its id, age, sender, recipients, attempts and last error" {
	fake_start 'greeting 421 4.3.2 Service busy | close'
	run_carrier --queue="$Q" -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 0
	local failed_id other
	failed_id=$(ids)
	env_set "$failed_id" first $(($(date +%s) - 7500))
	queue_only
	other=$(ids | grep -vx "$failed_id")
	run --separate-stderr "$CARRIER" --queue="$Q" --list-queue
	assert_status 0
	assert_equal "$stderr" ""
	# Oldest first; every field on the entry's own line.
	assert_regex "${lines[0]}" "^$failed_id .*2h05m"
	assert_regex "${lines[0]}" '<a@x\.test>'
	assert_regex "${lines[0]}" '<b@x\.test>, <c@x\.test>'
	assert_regex "${lines[0]}" 'attempts 1'
	assert_regex "${lines[0]}" 'greeting: 421 4\.3\.2 Service busy'
	assert_regex "${lines[1]}" "^$other .*0h00m"
	assert_regex "${lines[1]}" 'attempts 0'
	assert_equal "${#lines[@]}" 2
}

@test "--list-queue: tmp/ leftovers, orphan .msg files and unparseable .env files are not entries (those reported); no directory is an empty queue" {
	run --separate-stderr "$CARRIER" --queue="$Q" --list-queue
	assert_status 0
	assert_output 'Mail queue is empty'
	[[ ! -e $Q ]]
	queue_only
	the_id
	# A copy of a whole entry in tmp/, a lone .msg, a truncated .env.
	cp "$Q/$ID.env" "$Q/tmp/1.deadbeef.env"
	cp "$Q/$ID.msg" "$Q/tmp/1.deadbeef.msg"
	cp "$Q/$ID.msg" "$Q/2.deadbeef.msg"
	head -n 2 "$Q/$ID.env" >"$Q/3.deadbeef.env"
	: >"$Q/4.deadbeef.env"
	cp "$Q/$ID.msg" "$Q/4.deadbeef.msg"
	run --separate-stderr "$CARRIER" --queue="$Q" --list-queue
	assert_status 0
	refute_output --partial deadbeef
	assert_equal "$(listed)" "$ID"
	assert_equal "$stderr" "carrier: 3.deadbeef: invalid queue entry: no recipient
carrier: 4.deadbeef: invalid queue entry: empty"
	# Nor are they flushed: they stay, reported, and the flush says so.
	fake_start ''
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 65
	assert_output "$ID: delivered"
	assert_equal "$stderr" "carrier: 3.deadbeef: invalid queue entry, not sent: no recipient
carrier: 4.deadbeef: invalid queue entry, not sent: empty"
	assert_equal "$(mails)" 1
	assert_equal "$(ids)" "$(printf '%s\n' 3.deadbeef 4.deadbeef)"
}

@test "--queue-remove ID removes the entry; an unknown id exits 64; a path is refused" {
	queue_only
	queue_only
	local a b
	a=$(ids | head -n 1)
	b=$(ids | tail -n 1)
	run --separate-stderr "$CARRIER" --queue="$Q" --queue-remove "$a"
	assert_status 0
	assert_quiet
	[[ ! -e $Q/$a.env && ! -e $Q/$a.msg ]]
	assert_equal "$(listed)" "$b"
	run --separate-stderr "$CARRIER" --queue="$Q" --queue-remove "$a"
	assert_status 64
	assert_equal "$output" ""
	assert_stderr_line "^carrier: queue: no entry $a$"
	run --separate-stderr "$CARRIER" --queue="$Q" --queue-remove ../queue/"$b"
	assert_status 64
	assert_stderr_line '^carrier: --queue-remove: .*not a queue id'
	run --separate-stderr "$CARRIER" --queue="$Q" --queue-remove .lock
	assert_status 64
	assert_stderr_line '^carrier: --queue-remove: '
	assert_equal "$(listed)" "$b"
}

# ---------------------------------------------------------------- flush

@test "--flush=due: due entries over one connection, oldest first; an entry leaves the queue only after its 2xx; a 4xx defers it; those not due are listed last with their time" {
	local now a b c d
	now=$(date +%s)
	queue_only; a=$(ids)
	queue_only; b=$(ids | grep -vx "$a")
	queue_only; c=$(ids | grep -vx -e "$a" -e "$b")
	queue_only; d=$(ids | grep -vx -e "$a" -e "$b" -e "$c")
	env_set "$a" first $((now - 40))
	env_set "$b" first $((now - 30))
	env_set "$c" first $((now - 20))
	env_set "$d" first $((now - 10))
	env_set "$d" next $((now + 3600))	# not due
	fake_start <<-'EOF'
		data-end default
		data-end 451 4.3.0 Try again later
		data-end default
	EOF
	run_carrier --queue="$Q" --flush=due
	fake_done
	assert_status 75
	assert_equal "$output" "$a: delivered
$b: deferred, next attempt $(next_of "$b")
$c: delivered
$d: waiting, next attempt $(next_of "$d")"
	assert_stderr_line '^carrier: .*451 4\.3\.0 Try again later$'
	refute grep -q '^--- connection 2' "$FAKE_DIR/commands"
	assert_equal "$(mails)" 3
	assert_equal "$(ids)" "$(printf '%s\n' "$b" "$d" | sort)"
	assert_equal "$(env_value "$b" attempts)" 1
	assert_regex "$(env_value "$b" error)" '451 4\.3\.0 Try again later$'
	assert_equal $(($(env_value "$b" next) - $(env_value "$b" last))) 300
	assert_equal "$(env_value "$d" attempts)" 0
	assert_queue_whole
}

@test "flush: a permanent failure moves the entry to failed/ with the server's reply; the exit status reports it" {
	queue_only
	the_id
	cp "$Q/$ID.msg" "$BATS_TEST_TMPDIR/ref.msg"
	fake_start 'data-end 554 5.7.1 Message looks like spam'
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 81
	assert_output "$ID: failed"
	assert_stderr_line '^carrier: .*554 5\.7\.1 Message looks like spam$'
	assert_equal "$(ids)" ""
	assert_equal "$(ids "$Q/failed")" "$ID"
	assert_regex "$(env_value "$ID" error "$Q/failed")" '554 5\.7\.1 Message looks like spam$'
	cmp "$Q/failed/$ID.msg" "$BATS_TEST_TMPDIR/ref.msg"
	run --separate-stderr "$CARRIER" --queue="$Q" -bp
	assert_output 'Mail queue is empty'
	# Nothing is tried again.
	fake_start ''
	run_carrier --queue="$Q" --flush
	assert_status 0
	assert_quiet
	fake_stop
	refute_connected
}

@test "flush: every recipient refused (550): failed/ with the server's reply, exit 67, the refusal on stderr" {
	queue_only
	the_id
	fake_start 'RCPT 550 5.1.1 No such user'
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 67
	assert_output "$ID: failed"
	assert_equal "$(ids)" ""
	assert_equal "$(ids "$Q/failed")" "$ID"
	# The reason recorded is the server's reply, not "recipients refused".
	assert_regex "$(env_value "$ID" error "$Q/failed")" '550 5\.1\.1 No such user'
	assert_stderr_line '^carrier: .*<b@x\.test>.*550 5\.1\.1 No such user$'
}

@test "flush: recipients refused permanently while others were accepted are recorded and not retried" {
	fake_start 'greeting 421 4.3.2 Service busy | close'
	run_carrier --queue="$Q" -f a@x.test b@x.test c@x.test d@x.test <"$(test_message)"
	fake_done
	assert_status 0
	the_id
	all_due
	fake_start <<-'EOF'
		rcpt c@x.test 550 5.1.1 No such user
		rcpt d@x.test 451 4.2.1 Mailbox busy
	EOF
	run_carrier --queue="$Q" --flush
	fake_done
	local flush_status=$status flush_stderr=$stderr
	assert_status 75
	assert_output "$ID: deferred, next attempt $(next_of "$ID")"
	# Only d is kept, for the next try.
	assert_equal "$(env_value "$ID" recipient)" d@x.test
	assert_regex "$(env_value "$ID" error)" '451 4\.2\.1 Mailbox busy'
	flush_delivers_to d@x.test
	# The refusals were told: c's for good, d's for now.
	stderr=$flush_stderr status=$flush_status
	stderr_has '<c@x\.test>.*550 5\.1\.1 No such user'
	stderr_has '<d@x\.test>.*451 4\.2\.1 Mailbox busy'
}

@test "flush: one recipient refused (550), the other accepted: removed, exit 79, the refusal on stderr" {
	run --separate-stderr "$CARRIER" --queue-only --queue="$Q" -f a@x.test b@x.test c@x.test <"$(test_message)"
	assert_status 0
	the_id
	fake_start 'rcpt c@x.test 550 5.1.1 No such user'
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 79
	assert_output "$ID: delivered, some recipients refused"
	assert_equal "$(ids)" ""
	assert_equal "$(mails)" 1
	assert_stderr_line '^carrier: .*<c@x\.test>.*550 5\.1\.1 No such user$'
}

@test "flush: a recipient deferred (452) whose further transaction loses the connection stays queued, alone; the next flush sends it only" {
	run --separate-stderr "$CARRIER" --queue-only --queue="$Q" -f a@x.test b@x.test c@x.test <"$(test_message)"
	assert_status 0
	the_id
	# b takes the message; c gets 452, and the transaction for c dies at
	# MAIL.
	fake_start <<-'EOF'
		rcpt c@x.test 452 4.5.3 Too many recipients
		MAIL default
		MAIL close
	EOF
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 75
	assert_output "$ID: deferred, next attempt $(next_of "$ID")"
	assert_stderr_line "^carrier: $ID: <c@x\.test>: MAIL FROM: connection closed by the server$"
	assert_equal "$(ls "$FAKE_DIR" | grep -c "^message\.")" 1
	assert_equal "$(ids)" "$ID"
	assert_equal "$(env_value "$ID" recipient)" c@x.test
	assert_equal "$(env_value "$ID" attempts)" 1
	assert_regex "$(env_value "$ID" error)" '<c@x\.test>: MAIL FROM'
	flush_delivers_to c@x.test
}

@test "flush: the DSN parameters and BODY recorded with the entry are sent" {
	queue_only -N success,failure -R hdrs -V env42 -B 8BITMIME
	the_id
	assert_equal "$(env_value "$ID" dsn_notify)" SUCCESS,FAILURE
	assert_equal "$(env_value "$ID" dsn_envid)" env42
	fake_start 'capabilities +DSN'
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 0
	assert_output "$ID: delivered"
	# As a direct send with the same options would.
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE BODY=8BITMIME RET=HDRS ENVID=env42
		RCPT TO:<b@x.test> NOTIFY=SUCCESS,FAILURE
		DATA
		QUIT
	EOF
}

@test "flush: an entry whose .env holds a CR-injected dsn_envid, or a bad body type, is never sent: reported, kept, exit 65" {
	local inj bad good
	queue_only; inj=$(ids)
	queue_only; bad=$(ids | grep -vx "$inj")
	queue_only; good=$(ids | grep -vx -e "$inj" -e "$bad")
	printf 'dsn_envid E1\rRCPT TO:<injected@evil.test>\n' >>"$Q/$inj.env"
	printf 'body BINARYMIME\n' >>"$Q/$bad.env"
	fake_start 'capabilities +DSN'
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 65
	# The good one still goes, alone.
	assert_output "$good: delivered"
	stderr_has "^carrier: $inj: invalid queue entry, not sent: line 8: dsn_envid holds a control character$"
	stderr_has "^carrier: $bad: invalid queue entry, not sent: line 8: body is not 7BIT or 8BITMIME$"
	assert_equal "${#stderr_lines[@]}" 2
	assert_equal "$(mails)" 1
	refute grep -q -e injected -e BINARYMIME "$FAKE_DIR/wire"
	assert_equal "$(ids)" "$(printf '%s\n' "$inj" "$bad" | sort)"
	run --separate-stderr "$CARRIER" --queue="$Q" -bp
	assert_status 0
	assert_output 'Mail queue is empty'
	stderr_has "^carrier: $inj: invalid queue entry: line 8: dsn_envid holds a control character$"
}

@test "flush: an entry whose .msg (or .env) is a symlink is never sent: the .msg one moves to failed/ (66), the .env one is reported" {
	local other=$BATS_TEST_TMPDIR/secret.eml m e
	printf 'Subject: secret\r\n\r\nTOP SECRET\r\n' >"$other"
	queue_only; m=$(ids)
	queue_only; e=$(ids | grep -vx "$m")
	rm "$Q/$m.msg"
	ln -s "$other" "$Q/$m.msg"
	mv "$Q/$e.env" "$BATS_TEST_TMPDIR/e.env"
	ln -s "$BATS_TEST_TMPDIR/e.env" "$Q/$e.env"
	fake_start ''
	run_carrier --queue="$Q" --flush
	fake_stop
	assert_status 65
	assert_output "$m: failed"
	stderr_has "^carrier: $e: invalid queue entry, not sent: $QRE/$e\\.env is not a regular file owned by you$"
	stderr_has "^carrier: $m: queue: $QRE/$m\\.msg is not a regular file owned by you$"
	# The message is read before any connection: none was needed.
	refute_connected
	assert_equal "$(ids)" "$e"
	assert_equal "$(ids "$Q/failed")" "$m"
	[[ -L $Q/failed/$m.msg ]]
	# The .msg alone: the first permanent failure's status, 66.
	rm "$Q/$e.env"
	queue_only; m=$(ids)
	ln -sf "$other" "$Q/$m.msg"
	fake_start ''
	run_carrier --queue="$Q" --flush
	fake_stop
	assert_status 66
	assert_output "$m: failed"
	assert_stderr_line "^carrier: $m: queue: $QRE/$m\\.msg is not a regular file owned by you$"
	refute_connected
}

@test "a queue directory that is a symlink is refused (78) by --flush, --list-queue, --queue-only and --queue-remove" {
	local link=$BATS_TEST_TMPDIR/link
	queue_only
	the_id
	ln -s "$Q" "$link"
	fake_start ''
	run_carrier --queue="$link" --flush
	assert_status 78
	assert_output ''
	assert_stderr_line "^carrier: queue directory: $(re_escape "$link") must be a directory owned by you with mode 0700$"
	fake_stop
	refute_connected
	run --separate-stderr "$CARRIER" --queue="$link" --list-queue
	assert_status 78
	assert_stderr_line "^carrier: queue directory: $(re_escape "$link") must be"
	run --separate-stderr "$CARRIER" --queue-only --queue="$link" -f a@x.test b@x.test <"$(test_message)"
	assert_status 78
	assert_stderr_line "^carrier: queue directory: $(re_escape "$link") must be"
	run --separate-stderr "$CARRIER" --queue="$link" --queue-remove "$ID"
	assert_status 78
	assert_stderr_line "^carrier: queue directory: $(re_escape "$link") must be"
	assert_equal "$(ids)" "$ID"
}

@test "flush: entries grouped by account, one connection for each account" {
	local port1 dir1 port2 dir2
	fake_start ''
	port1=$FAKE_PORT dir1=$FAKE_DIR
	fake_start ''
	port2=$FAKE_PORT dir2=$FAKE_DIR
	cat >"$BATS_TEST_TMPDIR/rc" <<-EOF
		defaults
		timeout 5
		domain client.test
		auth off
		tls off
		account one
		host 127.0.0.1
		port $port1
		from one@x.test
		account two
		host 127.0.0.1
		port $port2
		from two@x.test
	EOF
	chmod 600 "$BATS_TEST_TMPDIR/rc"
	local rc=$BATS_TEST_TMPDIR/rc acct
	for acct in one two one; do
		run --separate-stderr "$CARRIER" --config "$rc" --account "$acct" --queue-only \
			--queue="$Q" "$acct-rcpt@x.test" <"$(test_message)"
		assert_status 0
	done
	assert_equal "$(count_ids)" 3
	run --separate-stderr "$CARRIER" --config "$rc" --queue="$Q" --flush
	assert_status 0
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 3
	FAKE_DIR=$dir1 FAKE_PID=${FAKE_PIDS[0]} fake_done
	FAKE_DIR=$dir1 fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<one@x.test> SIZE=$STD_SIZE
		RCPT TO:<one-rcpt@x.test>
		DATA
		MAIL FROM:<one@x.test> SIZE=$STD_SIZE
		RCPT TO:<one-rcpt@x.test>
		DATA
		QUIT
	EOF
	FAKE_DIR=$dir2 FAKE_PID=${FAKE_PIDS[1]} fake_done
	FAKE_DIR=$dir2 fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<two@x.test> SIZE=$STD_SIZE
		RCPT TO:<two-rcpt@x.test>
		DATA
		QUIT
	EOF
	assert_equal "$(ids)" ""
}

# ------------------------------------- issue 13: where, when, and for whom

@test "--flush and -q send every entry now, whatever its retry time (as sendmail -q and postqueue -f do)" {
	fake_start 'greeting 421 4.3.2 Service busy | close'
	run_carrier --queue="$Q" -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	the_id
	# Its first retry is 5 minutes away; the relay is back now.
	(($(env_value "$ID" next) > $(date +%s))) || fail "the entry is due already"
	fake_start ''
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 0
	assert_output "$ID: delivered"
	assert_equal "$stderr" ""
	assert_equal "$(ids)" ""
	# -q, sendmail's spelling, too.
	fake_start 'greeting 421 4.3.2 Service busy | close'
	run_carrier --queue="$Q" -f a@x.test b@x.test <"$(test_message)"
	fake_done
	the_id
	fake_start ''
	run_carrier --queue="$Q" -q
	fake_done
	assert_status 0
	assert_output "$ID: delivered"
	assert_equal "$(ids)" ""
}

@test "--flush=due sends only what is due; --flush=VALUE other than due is a usage error (64)" {
	local due later
	queue_only; due=$(ids)
	queue_only; later=$(ids | grep -vx "$due")
	env_set "$later" next $(($(date +%s) + 600))
	fake_start ''
	run_carrier --queue="$Q" --flush=due
	fake_done
	assert_status 0
	assert_output "$due: delivered
$later: waiting, next attempt $(next_of "$later")"
	assert_equal "$(mails)" 1
	assert_equal "$(ids)" "$later"
	run --separate-stderr "$CARRIER" --queue="$Q" --flush=now
	assert_status 64
	assert_equal "$output" ""
	assert_stderr_line "^carrier: --flush: 'now' is not due$"
	assert_equal "$(ids)" "$later"
}

@test "--list-queue and -bp show the time of each entry's next attempt" {
	queue_only
	the_id
	env_set "$ID" next $(($(date +%s) + 3600))
	run --separate-stderr "$CARRIER" --queue="$Q" --list-queue
	assert_status 0
	assert_output "$ID  0h00m  <a@x.test>  attempts 0  next $(next_of "$ID")  to <b@x.test>"
	run --separate-stderr "$CARRIER" --queue="$Q" -bp
	assert_status 0
	assert_output --partial "  next $(next_of "$ID")  "
}

# user_config HOST PORT: a user configuration whose server is HOST:PORT,
# with the queue $Q.
user_config() {
	mkdir -p "$XDG_CONFIG_HOME/carrier"
	printf 'defaults\nhost %s\nport %s\ntimeout 5\ndomain client.test\nqueue %s\n' \
		"$1" "$2" "$Q" >"$XDG_CONFIG_HOME/carrier/config"
	chmod 600 "$XDG_CONFIG_HOME/carrier/config"
}

@test "an entry keeps the command line's connection settings: a plain --flush sends to them, not to the configuration's server" {
	local port wrong
	port=$(closed_port)
	fake_start ''
	wrong=$FAKE_PORT
	local wrong_dir=$FAKE_DIR wrong_pid=$FAKE_PID
	# The configuration names another server (127.0.0.2 is loopback,
	# where nothing listens).
	user_config 127.0.0.2 "$wrong"
	CARRIER_PASSWORD=secret run --separate-stderr "$CARRIER" --host 127.0.0.1 --port "$port" --user bob \
		--auth PLAIN -f a@x.test b@x.test <"$(test_message)"
	assert_status 0
	stderr_has "^carrier: queued as [^ ]+ in $QRE: connect: 127\\.0\\.0\\.1 port $port: Connection refused$"
	the_id
	assert_equal "$(env_value "$ID" option)" "--host=127.0.0.1
--port=$port
--user=bob
--auth=PLAIN"
	# The relay is back on that port: the flush goes there.
	fake_start --port "$port" 'capabilities +AUTH PLAIN'
	CARRIER_PASSWORD=secret run --separate-stderr "$CARRIER" --flush
	fake_done
	assert_status 0
	assert_output "$ID: delivered"
	assert_equal "$stderr" ""
	fake_assert_sent 'RCPT TO:<b@x.test>'
	grep -q '^AUTH PLAIN ' "$FAKE_DIR/commands" || fail "no AUTH PLAIN"
	assert_equal "$(ids)" ""
	FAKE_DIR=$wrong_dir FAKE_PID=$wrong_pid fake_stop
	FAKE_DIR=$wrong_dir refute_connected
	# No secret in the entry, ever.
	grep -rq secret "$Q" && fail "a secret in the queue: $(grep -r secret "$Q")"
	true
}

@test "an option given to --flush replaces the stored one, and only that one" {
	local closed
	closed=$(closed_port)
	user_config 127.0.0.2 "$(closed_port)"
	run --separate-stderr "$CARRIER" --host 127.0.0.1 --port "$closed" -f a@x.test b@x.test <"$(test_message)"
	assert_status 0
	the_id
	# The port of the flush, the host of the entry (the configuration's
	# 127.0.0.2 would be refused).
	fake_start ''
	run --separate-stderr "$CARRIER" --flush --port "$FAKE_PORT"
	fake_done
	assert_status 0
	assert_output "$ID: delivered"
	assert_equal "$(ids)" ""
}

@test "an entry whose account no longer exists is sent nowhere: it stays queued, and the flush says why (78)" {
	fake_start ''
	cat >"$BATS_TEST_TMPDIR/rc" <<-EOF
		defaults
		timeout 5
		domain client.test
		host 127.0.0.1
		port $FAKE_PORT
		account old
		from old@x.test
	EOF
	chmod 600 "$BATS_TEST_TMPDIR/rc"
	run --separate-stderr "$CARRIER" --config "$BATS_TEST_TMPDIR/rc" --account old \
		--queue-only --queue="$Q" b@x.test <"$(test_message)"
	assert_status 0
	the_id
	assert_equal "$(env_value "$ID" account)" old
	# The account is gone; the defaults still name a server that works.
	sed -i '/^account old$/,$d' "$BATS_TEST_TMPDIR/rc"
	run --separate-stderr "$CARRIER" --config "$BATS_TEST_TMPDIR/rc" --queue="$Q" --flush
	assert_status 78
	assert_output "$ID: not sent"
	assert_stderr_line "^carrier: $ID: .*no account 'old'"
	fake_stop
	refute_connected
	assert_equal "$(ids)" "$ID"
	assert_equal "$(env_value "$ID" attempts)" 0
}

@test "with a queue, recipients greylisted while others took the message are queued for themselves: exit 0, one line each, marked in the report; the flush sends only them" {
	fake_start 'rcpt c@x.test 451 4.7.1 Greylisted, try again later'
	run_carrier --queue="$Q" --report=json -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_stderr_line "^carrier: <c@x\\.test>: queued as [^ ]+ in $QRE: 451 4\\.7\\.1 Greylisted, try again later$"
	the_id
	stderr_has "queued as $ID in"
	assert_equal "$(env_value "$ID" recipient)" c@x.test
	assert_equal "$(mails)" 1
	run "$PYTHON" -c 'import json, sys
r = json.loads(sys.argv[1])
print(r["exit"], [(x["address"], x["accepted"], x["queued"]) for x in r["recipients"]])' "$output"
	assert_output "0 [('b@x.test', True, False), ('c@x.test', False, True)]"
	flush_delivers_to c@x.test
}

@test "with a queue, a partial delivery with one recipient greylisted and one refused for good: the greylisted one is queued, exit 79; without a queue nothing is queued (79)" {
	fake_start <<-'EOF'
		rcpt c@x.test 451 4.7.1 Greylisted
		rcpt d@x.test 550 5.1.1 No such user
	EOF
	run_carrier --queue="$Q" -f a@x.test b@x.test c@x.test d@x.test <"$(test_message)"
	fake_done
	assert_status 79
	stderr_has '^carrier: <d@x\.test>: 550 5\.1\.1 No such user$'
	stderr_has "^carrier: <c@x\\.test>: queued as [^ ]+ in $QRE: 451 4\\.7\\.1 Greylisted$"
	assert_equal "${#stderr_lines[@]}" 2
	the_id
	assert_equal "$(env_value "$ID" recipient)" c@x.test
	rm -rf "$Q"
	fake_start 'rcpt c@x.test 451 4.7.1 Greylisted'
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 79
	assert_stderr_line '^carrier: <c@x\.test>: 451 4\.7\.1 Greylisted$'
	[[ ! -e $Q ]]
}

# ------------------------------------------------------ backoff and age

@test "backoff: not tried before its next time; then 5 min, 10 min, 20 min ... up to 4 h" {
	fake_start <<-'EOF'
		connections 4
		greeting 421 4.3.2 Service busy | close
	EOF
	queue_only
	the_id
	env_set "$ID" next $(($(date +%s) + 60))
	run_carrier --queue="$Q" --flush=due
	assert_status 0
	assert_output "$ID: waiting, next attempt $(next_of "$ID")"
	assert_equal "$stderr" ""
	assert_equal "$(env_value "$ID" attempts)" 0
	[[ ! -s $FAKE_DIR/commands ]]
	local want attempts=0 last
	for want in 300 600 1200; do
		all_due
		run_carrier --queue="$Q" --flush=due
		assert_status 75
		assert_output "$ID: deferred, next attempt $(next_of "$ID")"
		assert_stderr_line "^carrier: $ID: greeting: 421 4\\.3\\.2 Service busy$"
		attempts=$((attempts + 1))
		assert_equal "$(env_value "$ID" attempts)" "$attempts"
		last=$(env_value "$ID" last)
		(($(date +%s) - last <= 5 && last <= $(date +%s))) || fail "last $last is not now"
		assert_equal $(($(env_value "$ID" next) - last)) "$want"
	done
	# The wait stops doubling at 4 hours.
	env_set "$ID" attempts 11
	all_due
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 75
	assert_equal "$(env_value "$ID" attempts)" 12
	assert_equal $(($(env_value "$ID" next) - $(env_value "$ID" last))) 14400
	assert_equal "$(grep -c '^\*\*\* connection [0-9]* from' "$FAKE_DIR/transcript")" 4
}

@test "backoff: a tmp/ID.env left by a kill -9 does not stop the entry's updates" {
	# The state a flush killed between writing tmp/ID.env and renaming it
	# leaves behind (see the strace tests below).
	queue_only
	the_id
	cp "$Q/$ID.env" "$Q/tmp/$ID.env"
	fake_start <<-'EOF'
		connections 2
		greeting 421 4.3.2 Service busy | close
	EOF
	run_carrier --queue="$Q" --flush
	assert_status 75
	assert_output "$ID: deferred, next attempt $(next_of "$ID")"
	assert_stderr_line "^carrier: $ID: greeting: 421 4\\.3\\.2 Service busy$"
	assert_equal "$(env_value "$ID" attempts)" 1
	assert_regex "$(env_value "$ID" error)" '421 4\.3\.2 Service busy'
	assert_equal $(($(env_value "$ID" next) - $(env_value "$ID" last))) 300
	# So --flush=due does not try it again at once.
	run_carrier --queue="$Q" --flush=due
	assert_status 0
	assert_output "$ID: waiting, next attempt $(next_of "$ID")"
	fake_stop
	assert_equal "$(grep -c '^\*\*\* connection [0-9]* from' "$FAKE_DIR/transcript")" 1
}

@test "maximum age: a temporary failure of an entry older than 5 days (or --queue-max-age) moves it to failed/" {
	fake_start <<-'EOF'
		connections 3
		greeting 421 4.3.2 Service busy | close
	EOF
	local now id
	queue_only
	the_id
	now=$(date +%s)
	# 4 days old: retried later.
	env_set "$ID" first $((now - 4 * 86400))
	run_carrier --queue="$Q" --flush
	assert_status 75
	assert_output "$ID: deferred, next attempt $(next_of "$ID")"
	assert_stderr_line "^carrier: $ID: greeting: 421 4\\.3\\.2 Service busy$"
	assert_equal "$(ids)" "$ID"
	# The same with --queue-max-age 3: given up.
	all_due
	run_carrier --queue="$Q" --queue-max-age 3 --flush
	assert_status 75
	assert_stderr_line "^carrier: $ID: greeting: 421 4\\.3\\.2 Service busy$"
	assert_equal "$(ids)" ""
	assert_equal "$(ids "$Q/failed")" "$ID"
	assert_regex "$(env_value "$ID" error "$Q/failed")" 'greeting: 421 4\.3\.2 Service busy'
	[[ -f $Q/failed/$ID.msg ]]
	# Default 5 days: 5 days and a minute old is too old.
	queue_only
	id=$(ids)
	env_set "$id" first $((now - 5 * 86400 - 60))
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 75
	assert_stderr_line "^carrier: $id: greeting: 421 4\\.3\\.2 Service busy$"
	assert_equal "$(ids)" ""
	assert_equal "$(ids "$Q/failed")" "$(printf '%s\n' "$ID" "$id" | sort)"
	# --queue-max-age must be a positive number of days.
	run --separate-stderr "$CARRIER" --queue="$Q" --queue-max-age 0 --flush
	assert_status 64
	assert_stderr_line '^carrier: --queue-max-age: '
}

@test "maximum age: the entry given up is reported as failed, not as deferred" {
	fake_start 'greeting 421 4.3.2 Service busy | close'
	queue_only
	the_id
	env_set "$ID" first $(($(date +%s) - 6 * 86400))
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 75
	assert_equal "$(ids "$Q/failed")" "$ID"
	# It is in failed/ and will never be tried again: "deferred" would lie.
	assert_output "$ID: failed"
}

# ------------------------------------------------------------- the lock

@test "two flushes at once: the second is refused (75) while the first runs; each message is sent once" {
	local i
	for i in 1 2 3; do queue_only; done
	fake_start <<-'EOF'
		connections 2
		data-end sleep 300 | default
	EOF
	"$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" --timeout 5 --helo client.test \
		--queue="$Q" --flush >"$BATS_TEST_TMPDIR/first.out" 2>"$BATS_TEST_TMPDIR/first.err" 3>&- &
	local first=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^MAIL' "$FAKE_DIR/commands" 2>/dev/null && break
		sleep 0.05
	done
	run_carrier --queue="$Q" --flush
	assert_status 75
	assert_equal "$output" ""
	assert_stderr_line '^carrier: queue: another flush is running$'
	wait "$first" || fail "the first flush exited $?: $(cat "$BATS_TEST_TMPDIR/first.err")"
	assert_equal "$(grep -c ': delivered$' "$BATS_TEST_TMPDIR/first.out")" 3
	assert_equal "$(cat "$BATS_TEST_TMPDIR/first.err")" ""
	fake_stop
	assert_equal "$(mails)" 3
	[[ ! -e $FAKE_DIR/message.4 ]]
	assert_equal "$(ids)" ""
}

@test "two flushes started together, three times over: every message is delivered exactly once" {
	local round i
	local -a pid st
	for round in 1 2 3; do
		for i in 1 2; do queue_only; done
		fake_start 'connections 2'
		for i in 0 1; do
			"$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" --timeout 5 --helo client.test \
				--queue="$Q" --flush >"$BATS_TEST_TMPDIR/f$i.out" 2>"$BATS_TEST_TMPDIR/f$i.err" 3>&- &
			pid[i]=$!
		done
		for i in 0 1; do
			st[i]=0
			wait "${pid[i]}" || st[i]=$?
		done
		fake_stop
		for i in 0 1; do
			if [[ ${st[i]} -eq 75 ]]; then
				assert_equal "$(cat "$BATS_TEST_TMPDIR/f$i.err")" 'carrier: queue: another flush is running'
			elif [[ ${st[i]} -ne 0 ]]; then
				fail "round $round: flush $i exited ${st[i]}: $(cat "$BATS_TEST_TMPDIR/f$i.err")"
			fi
		done
		assert_equal "$(mails)" 2
		assert_equal "$(cat "$BATS_TEST_TMPDIR/f0.out" "$BATS_TEST_TMPDIR/f1.out" | grep -c ': delivered$')" 2
		assert_equal "$(ids)" ""
	done
}

# ------------------------------------------------------------- kill -9

@test "kill -9 at random moments while queueing a large message from a slow pipe: whole entries only, tmp/ never listed" {
	local big=$BATS_TEST_TMPDIR/big.eml ref=$BATS_TEST_TMPDIR/ref.msg
	big_message "$big" 3000000
	# slow_feed: the message in 6 pieces, 20 ms apart.
	slow_feed() {
		local i
		for ((i = 0; i < 6; i++)); do
			dd if="$big" bs=500000 skip=$i count=1 status=none 2>/dev/null
			sleep 0.02
		done
		dd if="$big" bs=500000 skip=6 status=none 2>/dev/null
	}
	# A whole run: the reference entry, and how long it takes.
	local t0 full
	t0=$(date +%s%N)
	slow_feed | "$CARRIER" --queue-only --queue="$BATS_TEST_TMPDIR/refq" -f a@x.test b@x.test 2>/dev/null
	full=$((($(date +%s%N) - t0) / 1000000))
	cp "$BATS_TEST_TMPDIR"/refq/*.msg "$ref"
	local try pid n before killed=0
	local -a tmpfiles
	shopt -s nullglob
	for ((try = 1; try <= 10; try++)); do
		mkdir -p "$Q/tmp"
		tmpfiles=("$Q"/tmp/*)
		before=${#tmpfiles[@]}
		slow_feed | "$CARRIER" --queue-only --queue="$Q" -f a@x.test b@x.test 2>/dev/null 3>&- &
		pid=$!
		if ((try % 2)); then
			# Anywhere from the start to a little after the end.
			n=$((RANDOM % (full + full / 4 + 1)))
			sleep "$((n / 1000)).$(printf '%03d' $((n % 1000)))"
		else
			# Once the writing has begun (a new file in tmp/), soon after.
			while kill -0 "$pid" 2>/dev/null; do
				tmpfiles=("$Q"/tmp/*)
				((${#tmpfiles[@]} > before)) && break
				sleep 0.002
			done
			sleep "0.00$((RANDOM % 10))"
		fi
		kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
		wait "$pid" 2>/dev/null || true
		assert_queue_whole "$ref"
	done
	echo "# $killed of 10 runs killed, $(count_ids) entries, $(find "$Q/tmp" -type f | wc -l) files left in tmp/" >&3
	[[ $killed -gt 0 ]]
}

@test "kill -9 at each step of writing an entry (strace): no entry or a whole one, never a tmp/ file" {
	need_strace
	local ref=$BATS_TEST_TMPDIR/ref.msg sc k finished runs=0
	printf '%s' "$STD_MSG" >"$ref"
	for sc in write fsync '?rename,?renameat,?renameat2'; do
		finished=
		for ((k = 1; k <= 40; k++)); do
			traced "$sc" "$k" "$CARRIER" --queue-only --queue="$Q" -f a@x.test b@x.test <"$(test_message)"
			runs=$((runs + 1))
			assert_queue_whole "$ref" || {
				echo "(carrier was killed on entering call $k of $sc)" >&2
				return 1
			}
			if [[ $status -ne 137 ]]; then
				assert_status 0
				finished=1
				break
			fi
		done
		[[ -n $finished ]] || fail "$sc: still killed at call $k"
	done
	echo "# $runs runs, $(count_ids) entries, $(find "$Q/tmp" -type f | wc -l) files left in tmp/" >&3
	# Some runs were killed with a file in tmp/: it was never listed.
	[[ -n $(find "$Q/tmp" -type f) ]]
}

@test "kill -9 during a flush stalled at the end of data: the entry stays whole; the next flush delivers it exactly once" {
	queue_only
	the_id
	cp "$Q/$ID.msg" "$BATS_TEST_TMPDIR/ref.msg"
	fake_start 'data-end stall'
	"$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" --timeout 20 --helo client.test \
		--queue="$Q" --flush >/dev/null 2>&1 3>&- &
	local pid=$! i
	for ((i = 0; i < 100; i++)); do
		[[ -e $FAKE_DIR/message.1 ]] && break
		sleep 0.05
	done
	[[ -e $FAKE_DIR/message.1 ]] || fail "the message never arrived"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	fake_stop
	# Never answered: still queued, whole, attempts unchanged.
	assert_queue_whole "$BATS_TEST_TMPDIR/ref.msg"
	assert_equal "$(ids)" "$ID"
	assert_equal "$(env_value "$ID" attempts)" 0
	# The lock died with the process.
	fake_start ''
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 0
	assert_output "$ID: delivered"
	assert_equal "$(mails)" 1
	[[ -e $FAKE_DIR/message.1 && ! -e $FAKE_DIR/message.2 ]]
	assert_equal "$(ids)" ""
	# And never again.
	fake_start ''
	run_carrier --queue="$Q" --flush
	assert_status 0
	assert_quiet
	fake_stop
	refute_connected
}

# kill_flush_steps SCENARIO SYSCALLS...: for each of SYSCALLS, for K = 1,
# 2, ...: a fresh entry, a flush to a server playing SCENARIO killed at
# the K-th call (until a flush completes); after each, the queue holds
# whole entries only, and a completed flush to a good server delivers
# each remaining entry exactly once.
kill_flush_steps() {
	local scenario=$1 sc k finished runs=0 n before
	shift
	fake_start "connections 60
$scenario"
	local bad_port=$FAKE_PORT
	fake_start 'connections 60'
	for sc in "$@"; do
		finished=
		for ((k = 1; k <= 20; k++)); do
			rm -rf "$Q"
			queue_only
			traced "$sc" "$k" "$CARRIER" --host 127.0.0.1 --port "$bad_port" --timeout 5 \
				--helo client.test --queue="$Q" --flush
			local traced_status=$status
			runs=$((runs + 1))
			assert_queue_whole || {
				echo "(the flush was killed on entering call $k of $sc)" >&2
				return 1
			}
			n=$(count_ids)
			all_due
			before=$(mails)
			run_carrier --queue="$Q" --flush
			assert_status 0
			assert_equal $(($(mails) - before)) "$n"
			assert_equal "$(ids)" ""
			if [[ $traced_status -ne 137 ]]; then
				finished=1
				break
			fi
		done
		[[ -n $finished ]] || fail "$sc: still killed at call $k"
	done
	echo "# $runs killed flushes" >&3
}

@test "kill -9 at each step of a flush that delivers, and of one that defers (strace)" {
	need_strace
	kill_flush_steps '' '?unlink,?unlinkat' fsync
	kill_flush_steps 'data-end 451 4.3.0 Try again later' fsync '?rename,?renameat,?renameat2'
}

@test "kill -9 at each step of moving an entry to failed/ (strace): the queue never keeps a half entry" {
	need_strace
	kill_flush_steps 'data-end 554 5.7.1 No' '?rename,?renameat,?renameat2' fsync '?unlink,?unlinkat'
}

@test "flush, pipelined across entries: a 421 in the middle of the flight; the entries behind it stay queued (75), only the one answered 2xx leaves" {
	local r
	for r in b1 b2 b3; do
		run --separate-stderr "$CARRIER" --queue-only --queue="$Q" -f a@x.test "$r@x.test" <"$(test_message)"
		assert_status 0
	done
	fake_start <<-'EOF'
		capabilities +CHUNKING
		MAIL sleep 400 | default
		MAIL 421 4.3.2 Shutting down | close
	EOF
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 75
	assert_equal "$(grep -c ': delivered$' <<<"$output")" 1
	assert_equal "$(grep -c ': deferred' <<<"$output")" 2
	assert_equal "$(grep -c . <<<"$stderr")" 2
	stderr_has '^carrier: [^ ]+: MAIL FROM: 421 4\.3\.2 Shutting down$'
	stderr_has '^carrier: [^ ]+: not sent: the session ended before this message was answered \(MAIL FROM: 421 4\.3\.2 Shutting down\)$'
	# All three went out in one flight; one connection, no new one.
	assert_equal "$(mails)" 3
	refute grep -q '^--- connection 2' "$FAKE_DIR/commands"
	assert_equal "$(count_ids)" 2
	local first
	first=$(sed -n 's/^RCPT TO:<\(.*\)>$/\1/p' "$FAKE_DIR/commands" | head -n 1)
	for id in $(ids); do
		refute grep -q "$first" "$Q/$id.env"
	done
	assert_queue_whole
}

@test "flush, pipelined across entries: each transaction, and a further round after a 452, carries its own entry's DSN parameters" {
	run --separate-stderr "$CARRIER" --queue-only --queue="$Q" -f a@x.test -N success -V one b1@x.test c1@x.test <"$(test_message)"
	assert_status 0
	sleep 1.1	# the entries are flushed oldest first
	run --separate-stderr "$CARRIER" --queue-only --queue="$Q" -f a@x.test -N never -V two b2@x.test <"$(test_message)"
	assert_status 0
	fake_start <<-'EOF'
		capabilities +CHUNKING, DSN
		MAIL sleep 400 | default
		MAIL default
		rcpt c1@x.test 452 4.5.3 Too many recipients
		rcpt c1@x.test default
	EOF
	run_carrier --queue="$Q" --flush
	fake_done
	assert_status 0
	assert_equal "$(grep -c ': delivered$' <<<"$output")" 2
	assert_equal "$(grep '^MAIL\|^RCPT' "$FAKE_DIR/commands" | sed 's/ SIZE=[0-9]*//')" 'MAIL FROM:<a@x.test> ENVID=one
RCPT TO:<b1@x.test> NOTIFY=SUCCESS
RCPT TO:<c1@x.test> NOTIFY=SUCCESS
MAIL FROM:<a@x.test> ENVID=two
RCPT TO:<b2@x.test> NOTIFY=NEVER
MAIL FROM:<a@x.test> ENVID=one
RCPT TO:<c1@x.test> NOTIFY=SUCCESS'
	assert_equal "$(ids)" ""
}
