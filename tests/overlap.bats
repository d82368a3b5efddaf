#!/usr/bin/env bats
# The session opens while the message is read (issue 17): connect, the
# greeting and EHLO go on while standard input is still open; MAIL waits
# for the whole message (SIZE= exact), and a message refused on reading
# ends the session with QUIT and the input's exit status.

load lib/common
load lib/core

setup() {
	export HOME=$BATS_TEST_TMPDIR/home LC_ALL=C
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$HOME"
	FIFO=$BATS_TEST_TMPDIR/in.fifo
	mkfifo "$FIFO"
}

# start_fed ARGS...: carrier against the fake server in the background,
# its standard input the fifo, held open for writing on fd 5.
start_fed() {
	"$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" --timeout 5 \
		--helo client.test "$@" <"$FIFO" >"$BATS_TEST_TMPDIR/out" \
		2>"$BATS_TEST_TMPDIR/err" 3>&- &
	CARRIER_PID=$!
	exec 5>"$FIFO"
}

# ehlo_seen: the fake server received EHLO within 5 s (the input still open).
ehlo_seen() {
	local n
	for ((n = 0; n < 100; n++)); do
		grep -q '^EHLO ' "$FAKE_DIR/commands" 2>/dev/null && return 0
		sleep 0.05
	done
	fake_diag | batslib_decorate 'no EHLO while the input was open' | fail
}

# finish: closes the input, waits for carrier: $status, $output, $stderr.
finish() {
	exec 5>&-
	status=0
	wait "$CARRIER_PID" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/out")
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
}

# ehlo_quit_only: the fake server, run to its end, saw EHLO and QUIT alone
# and no message data.
ehlo_quit_only() {
	fake_wait
	fake_assert_commands <<-'EOF'
		EHLO client.test
		QUIT
	EOF
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "overlap: EHLO before the input is closed, then MAIL with the exact SIZE" {
	fake_start ''
	start_fed -f a@x.test b@x.test
	printf 'From: a@x.test\nSubject: slow\n\n' >&5
	ehlo_seen
	fake_refute_sent --partial 'MAIL'
	printf 'line one\nline two\n' >&5
	finish
	assert_status 0
	assert_equal "$stderr" ""
	fake_wait
	# 48 octets in 5 lines, each LF made CRLF: 53.
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=53
		RCPT TO:<b@x.test>
		DATA
		QUIT
	EOF
	assert_equal "$(fake_message)" $'From: a@x.test\r\nSubject: slow\r\n\r\nline one\r\nline two\r'
}

@test "overlap: -t: EHLO before the input is closed, the recipients from the message after it" {
	fake_start ''
	start_fed -t -f a@x.test
	printf 'From: a@x.test\n' >&5
	ehlo_seen
	printf 'To: c@x.test, d@x.test\nSubject: t\n\nhi\n' >&5
	finish
	assert_status 0
	fake_wait
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=58
		RCPT TO:<c@x.test>
		RCPT TO:<d@x.test>
		DATA
		QUIT
	EOF
}

@test "overlap: a NUL byte after EHLO: 65, its line, QUIT and no MAIL" {
	fake_start ''
	start_fed -f a@x.test b@x.test
	printf 'From: a@x.test\nSubject: x\n\n' >&5
	ehlo_seen
	printf 'before\0after\n' >&5
	finish
	assert_status 65
	assert_equal "$output" ""
	assert_stderr_line '^carrier: message: contains a NUL byte$'
	ehlo_quit_only
}

@test "overlap: a header block over 1 MiB after EHLO (-t): 65, QUIT and no MAIL" {
	fake_start ''
	start_fed -t
	printf 'From: a@x.test\nTo: b@x.test\n' >&5
	ehlo_seen
	yes 'X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' |
		head -c 1200000 >&5 || true
	finish
	assert_status 65
	assert_stderr_line '^carrier: message: header block larger than'
	ehlo_quit_only
}

@test "overlap: no sender in the message after EHLO: 65, QUIT and no MAIL" {
	fake_start ''
	start_fed b@x.test
	printf 'To: b@x.test\n' >&5
	ehlo_seen
	printf 'Subject: anonymous\n\nhi\n' >&5
	finish
	assert_status 65
	assert_stderr_line '^carrier: no sender'
	ehlo_quit_only
}

@test "overlap: -v: the session's lines up to EHLO, then MAIL and the data" {
	fake_start ''
	start_fed -v -f a@x.test b@x.test
	printf 'From: a@x.test\n' >&5
	ehlo_seen
	printf 'Subject: v\n\nhi\n' >&5
	finish
	assert_status 0
	fake_wait
	local order
	order=$(printf '%s\n' "$stderr" | grep -E '^(> |< 220 |\* message data)' | cut -c1-12)
	assert_equal "$order" "$(printf '%s\n' '< 220 fake.t' '> EHLO clien' '> MAIL FROM:' '> RCPT TO:<b' '> DATA' '* message da' '> QUIT')"
}

@test "overlap: a server that cannot be reached while the message is read: 75 after the whole input" {
	local port
	port=$(closed_port)
	"$CARRIER" --host 127.0.0.1 --port "$port" --timeout 5 --helo client.test \
		-f a@x.test b@x.test <"$FIFO" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	CARRIER_PID=$!
	exec 5>"$FIFO"
	printf 'From: a@x.test\n\n' >&5
	sleep 0.3
	# Still reading: it waits for the input before it reports.
	kill -0 "$CARRIER_PID"
	printf 'hi\n' >&5
	finish
	assert_status 75
	assert_stderr_line "^carrier: .*127\.0\.0\.1.*$port.*: "
}

@test "overlap: not with --message-file that cannot be read (66 before connecting)" {
	fake_start ''
	run_carrier -f a@x.test --message-file "$BATS_TEST_TMPDIR/missing.eml" b@x.test </dev/null
	assert_status 66
	assert_stderr_line '^carrier: .*missing\.eml.*: No such file or directory$'
	fake_stop
	refute_connected
}

@test "overlap: a server that closes the session while a slow input is read: a new session carries the message" {
	fake_start <<-'EOF'
		connections 2
		EHLO 250 fake.test | close
		EHLO 250 fake.test
	EOF
	start_fed -f a@x.test b@x.test
	printf 'From: a@x.test\n' >&5
	ehlo_seen
	sleep 1.5
	printf 'Subject: slow\n\nhi\n' >&5
	finish
	assert_status 0
	assert_equal "$stderr" ""
	fake_wait
	# QUIT to the closed session is harmless (RFC 5321 4.1.1.10).
	fake_assert_commands <<-'EOF'
		EHLO client.test
		QUIT
		--- connection 2
		EHLO client.test
		MAIL FROM:<a@x.test>
		RCPT TO:<b@x.test>
		DATA
		QUIT
	EOF
}

@test "overlap: a regular file under 1 MiB is read before connecting; a larger one while the session opens" {
	local small=$BATS_TEST_TMPDIR/small.eml big=$BATS_TEST_TMPDIR/big.eml
	printf 'From: a@x.test\n\nbefore\0after\n' >"$small"
	fake_start ''
	run_carrier -f a@x.test b@x.test <"$small"
	assert_status 65
	assert_stderr_line '^carrier: message: contains a NUL byte$'
	fake_stop
	refute_connected
	big_message "$big" 2000000
	printf 'tail\0\n' >>"$big"
	fake_start ''
	run_carrier -f a@x.test b@x.test <"$big"
	assert_status 65
	assert_stderr_line '^carrier: message: contains a NUL byte$'
	ehlo_quit_only
}
