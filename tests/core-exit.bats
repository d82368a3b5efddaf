#!/usr/bin/env bats
# Core suite: exit statuses decided before or outside a broken dialogue
# (SPEC 3): 64 usage, 65 bad message or address, 66 no input, 67 all
# recipients refused, 68 unknown host, 69 service refused at the
# greeting, 75 no connection (refused, unreachable, timed out), 71 --source,
# 79 partial, 80 sender refused, 81 data refused.  Each failure checks the
# status and the stderr line; local failures check that nothing was sent.

load lib/common
load lib/core

# --- 64: usage -----------------------------------------------------------

# usage_error REGEX ARGS...: carrier (pointed at a fake server, started
# once per test) exits 64 with one stderr line matching REGEX, and never
# connects (a client that connects is recorded before it gets a greeting).
usage_error() {
	local re=$1
	shift
	[[ -n ${FAKE_PID:-} ]] || fake_start ''
	run_carrier "$@" -f a@x.test b@x.test <"$(test_message)"
	assert_status 64
	assert_equal "$output" ""
	assert_stderr_line "$re"
	refute_connected
}

@test "64: an unknown long option is named" {
	usage_error '^carrier: --no-such-option: ' --no-such-option
}

@test "64: an unknown sendmail flag (-Z) is named" {
	usage_error '^carrier: -Z: ' -Z /tmp/carrier-x.log
}

@test "64: --timeout 0, -1, abc and 1.5 are usage errors" {
	usage_error '^carrier: --timeout: .*0' --timeout 0
	usage_error '^carrier: --timeout: .*-1' --timeout -1
	usage_error '^carrier: --timeout: .*abc' --timeout abc
	usage_error '^carrier: --timeout: .*1\.5' --timeout 1.5
}

@test "64: --port 70000 and --port 0" {
	usage_error '^carrier: --port: .*70000' --port 70000
	usage_error '^carrier: --port: .*0' --port 0
}

@test "64: --starttls=bogus" {
	usage_error '^carrier: --starttls: .*bogus' --starttls=bogus
}

@test "64: --debug=3 and --report=xml" {
	usage_error '^carrier: --debug: .*3' --debug=3
	usage_error '^carrier: --report: .*xml' --report=xml
}

@test "64: CR LF in --mail-option or --rcpt-option: nothing sent (THREATS I03)" {
	usage_error '^carrier: --mail-option: ' --mail-option $'X-A=1\r\nRCPT TO:<evil@x.test>'
	usage_error '^carrier: --rcpt-option: ' --rcpt-option $'NOTIFY=NEVER\nDATA'
}

@test "64: a long option without its value is named" {
	# As the last argument, so getopt has nothing to take as its value.
	fake_start ''
	run --separate-stderr "$CARRIER" -f a@x.test b@x.test --host
	assert_status 64
	assert_stderr_line '^carrier: --host: '
	run --separate-stderr "$CARRIER" -f a@x.test b@x.test --message-file
	assert_status 64
	assert_stderr_line '^carrier: --message-file: '
	run --separate-stderr "$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" b@x.test -f
	assert_status 64
	assert_stderr_line '^carrier: -f: '
	fake_stop
	refute_connected
}

# --- 65: bad message or address -----------------------------------------

# data_error REGEX ARGS...: exit 65, one stderr line matching REGEX,
# nothing connected (as usage_error), or with REFUTE=refute_transaction
# no transaction.  The message is $MESSAGE, else
# test_message.
data_error() {
	local re=$1
	shift
	[[ -n ${FAKE_PID:-} ]] || fake_start ''
	run_carrier "$@" <"${MESSAGE:-$(test_message)}"
	assert_status 65
	assert_equal "$output" ""
	assert_stderr_line "$re"
	# What only the message shows is found while the session opens
	# (REFUTE=refute_transaction); the command line's, before.
	${REFUTE:-refute_connected}
}

@test "65: CR LF in the sender (-f 'a@b\\r\\nDATA'): nothing reaches the server" {
	data_error '^carrier: [^:]+: .*a@x\.test' -f $'a@x.test\r\nDATA' b@x.test
}

@test "65: CR, LF or another control character in a recipient" {
	data_error '^carrier: [^:]+: .*b@x\.test' -f a@x.test $'b@x.test\r\nRSET'
	data_error '^carrier: [^:]+: .*b@x\.test' -f a@x.test $'b@x.test\nRSET'
	data_error '^carrier: [^:]+: .*b@x\.test' -f a@x.test $'b@x.test\rRSET'
	data_error '^carrier: [^:]+: .*@x\.test' -f a@x.test $'b\x01@x.test'
	data_error '^carrier: [^:]+: .*b@x\.test' -f a@x.test c@x.test $'b@x.test\x7f'
}

@test "65: the diagnostic for an address with CR shows it escaped" {
	data_error '^carrier: [^:]+: .*a@x\.test' -f $'a@x.test\r\nDATA' b@x.test
	assert_stderr_clean
}

@test "65: an address that would make a command line over 512 octets" {
	local long
	long=$(printf 'x%.0s' {1..600})@x.test
	data_error '^carrier: [^:]+: .*xxxx' -f a@x.test "$long"
}

@test "64: no recipient and no -t, said before standard input is read" {
	# A pipe that never ends: the old code read it all first.
	run --separate-stderr timeout 5 "$CARRIER" -f a@x.test < <(sleep 30)
	assert_status 64
	assert_stderr_line '^carrier: no recipients: give them as arguments, or -t to read them from the message$'
}

@test "65: no sender: no -f and no From header in the native form" {
	MESSAGE=$(msg 'To: b@x.test\nSubject: anonymous\n\nhi\n') REFUTE=refute_transaction \
		data_error '^carrier: no sender' b@x.test
}

@test "65: a NUL byte in the message, wherever it is" {
	MESSAGE=$(msg 'Subject: x\n\nbefore\x00after\n') REFUTE=refute_transaction \
		data_error '^carrier: message: .*NUL' -f a@x.test b@x.test
	# Far into the message, after the first read.
	local big=$BATS_TEST_TMPDIR/nul.eml
	big_message "$big" 400000
	printf 'tail\0\n' >>"$big"
	FAKE_PID='' MESSAGE=$big REFUTE=refute_transaction \
		data_error '^carrier: message: .*NUL' -f a@x.test b@x.test
}

# --- 66: no input ---------------------------------------------------------

@test "66: --message-file that does not exist, and a directory" {
	fake_start ''
	run_carrier -f a@x.test --message-file "$BATS_TEST_TMPDIR/missing.eml" b@x.test </dev/null
	assert_status 66
	assert_equal "$output" ""
	assert_stderr_line "^carrier: .*missing\.eml.*: No such file or directory$"
	run_carrier -f a@x.test --message-file "$BATS_TEST_TMPDIR" b@x.test </dev/null
	assert_status 66
	assert_stderr_line '^carrier: .*: Is a directory$'
	fake_stop
	refute_connected
}

# --- 67: every recipient refused ----------------------------------------

@test "67: every recipient 5xx without PIPELINING: RSET, no DATA, QUIT" {
	fake_start <<-'EOF'
		capabilities 8BITMIME, SIZE 10485760
		rcpt b@x.test 550 5.1.1 <b@x.test>: Recipient address rejected: User unknown
		rcpt c@x.test 553 5.7.1 <c@x.test>: Relay access denied
	EOF
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 67
	assert_equal "$output" ""
	assert_stderr "carrier: <b@x.test>: 550 5.1.1 <b@x.test>: Recipient address rejected: User unknown
carrier: <c@x.test>: 553 5.7.1 <c@x.test>: Relay access denied"
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE
		RCPT TO:<b@x.test>
		RCPT TO:<c@x.test>
		RSET
		QUIT
	EOF
}

@test "67: every recipient 5xx with PIPELINING: the pipelined DATA is refused, RSET, no message" {
	fake_start 'RCPT 550 5.1.1 User unknown'
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 67
	assert_equal "$output" ""
	assert_stderr "carrier: <b@x.test>: 550 5.1.1 User unknown
carrier: <c@x.test>: 550 5.1.1 User unknown"
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE
		RCPT TO:<b@x.test>
		RCPT TO:<c@x.test>
		DATA
		RSET
		QUIT
	EOF
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "67: pipelined DATA answered 354 although every RCPT failed: a lone '.', never the message" {
	fake_start <<-'EOF'
		RCPT 550 5.1.1 User unknown
		DATA 354 go ahead anyway
	EOF
	run_carrier -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 67
	assert_stderr_line '^carrier: <b@x\.test>: 550 5\.1\.1 User unknown$'
	# RFC 2920 3.1: the terminator alone, an empty message.
	assert_data 1 $'.\r\n'
	fake_refute_sent --partial 'Hello.'
	[[ $(tail -n 1 "$FAKE_DIR/commands") == QUIT ]]
}

# --- 68, 69, 71: the connection ------------------------------------------

@test "68: a host name that does not exist (75 if the resolver says EAI_AGAIN)" {
	local gai
	resolver_is_fenced || skip "$UNFENCED"
	# What this machine's resolver answers decides the status (SPEC 3).
	gai=$("$PYTHON" -c 'import socket
try:
    socket.getaddrinfo("nosuchhost.invalid", 25)
    print("found")
except socket.gaierror as e:
    print("again" if e.errno == socket.EAI_AGAIN else "noname")')
	timer_start
	run --separate-stderr "$CARRIER" --host nosuchhost.invalid --timeout 3 \
		-f a@x.test b@x.test <"$(test_message)"
	assert_elapsed_below 5000
	assert_equal "$output" ""
	assert_stderr_line '^carrier: [^:]+: nosuchhost\.invalid'
	case $gai in
	noname) assert_status 68 ;;
	again) assert_status 75 ;;
	*) fail "the resolver found nosuchhost.invalid" ;;
	esac
}

@test "75: connection refused on a closed loopback port (EX_TEMPFAIL: try again later)" {
	local port
	port=$(closed_port)
	run --separate-stderr "$CARRIER" --host 127.0.0.1 --port "$port" --timeout 3 \
		-f a@x.test b@x.test <"$(test_message)"
	assert_status 75
	assert_equal "$output" ""
	assert_stderr_line "^carrier: [^:]+: .*$port.*[Rr]efused"
}

@test "69: greeting 554: QUIT, no EHLO" {
	fake_start 'greeting 554 5.3.2 No SMTP service here'
	run_carrier -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 69
	assert_equal "$output" ""
	assert_stderr_line '^carrier: greeting: 554 5\.3\.2 No SMTP service here$'
	fake_assert_commands <<<'QUIT'
}

# --- sendmail mode: every class worth retrying but 69 exits 75 ------------

@test "sendmail mode (--sendmail): 68, 74 and 75 exit 75 (EX_TEMPFAIL); 69 stays; --report=json keeps the precise class" {
	local port
	port=$(closed_port)
	run --separate-stderr "$CARRIER" --sendmail --host 127.0.0.1 --port "$port" \
		--helo client.test --timeout 3 -f a@x.test b@x.test <"$(test_message)"
	assert_status 75
	assert_stderr_line "^sendmail: connect: 127\.0\.0\.1 port $port: Connection refused\$"
	# 74: the connection lost before the greeting.
	fake_start 'greeting close'
	run --separate-stderr "$CARRIER" --sendmail --host 127.0.0.1 --port "$FAKE_PORT" \
		--helo client.test --timeout 3 --report=json -f a@x.test b@x.test <"$(test_message)"
	fake_stop
	assert_status 75
	assert_stderr_line '^sendmail: greeting: connection closed before the greeting$'
	[[ $output == *'"exit":74}' ]] || fail "JSON: $output"
	# The same in carrier's own mode: 74.
	fake_start 'greeting close'
	run --separate-stderr "$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" \
		--helo client.test --timeout 3 -f a@x.test b@x.test <"$(test_message)"
	fake_stop
	assert_status 74
	# 69: a server that answers and refuses service is not retried.
	fake_start 'greeting 554 5.3.2 No SMTP service here'
	run --separate-stderr "$CARRIER" --sendmail --host 127.0.0.1 --port "$FAKE_PORT" \
		--helo client.test -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 69
	assert_stderr_line '^sendmail: greeting: 554 5\.3\.2 No SMTP service here$'
	# 68: no such host.
	resolver_is_fenced || return 0
	run --separate-stderr "$CARRIER" --sendmail --host nosuchhost.invalid \
		--helo client.test --timeout 3 -f a@x.test b@x.test <"$(test_message)"
	assert_status 75
	assert_stderr_line '^sendmail: host name lookup: nosuchhost\.invalid: '
	run --separate-stderr "$CARRIER" --host nosuchhost.invalid \
		--helo client.test --timeout 3 -f a@x.test b@x.test <"$(test_message)"
	assert_status 68
}

@test "71: --source on an address this host does not have" {
	fake_start ''
	run_carrier --source 198.51.100.7 -f a@x.test b@x.test <"$(test_message)"
	fake_stop
	assert_status 71
	assert_equal "$output" ""
	assert_stderr_line '^carrier: [^:]+: .*198\.51\.100\.7'
	refute_connected
}

# --- 79: partial -----------------------------------------------------------

@test "79: one recipient refused: one line for it, the message still goes to the others" {
	fake_start 'rcpt c@x.test 550 5.1.1 <c@x.test>: Recipient address rejected: User unknown'
	run_carrier -f a@x.test b@x.test c@x.test d@x.test <"$(test_message)"
	fake_done
	assert_status 79
	assert_equal "$output" ""
	assert_stderr 'carrier: <c@x.test>: 550 5.1.1 <c@x.test>: Recipient address rejected: User unknown'
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE
		RCPT TO:<b@x.test>
		RCPT TO:<c@x.test>
		RCPT TO:<d@x.test>
		DATA
		QUIT
	EOF
	assert_data 1 "$STD_WIRE"
}

@test "79: refusals 4xx and 5xx among accepted recipients, without PIPELINING" {
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		rcpt b@x.test 450 4.2.0 <b@x.test>: Recipient address rejected: Greylisted
		rcpt d@x.test 550 5.1.1 User unknown
	EOF
	run_carrier -f a@x.test b@x.test c@x.test d@x.test <"$(test_message)"
	fake_done
	assert_status 79
	assert_stderr 'carrier: <b@x.test>: 450 4.2.0 <b@x.test>: Recipient address rejected: Greylisted
carrier: <d@x.test>: 550 5.1.1 User unknown'
	fake_assert_sent 'DATA'
	assert_data 1 "$STD_WIRE"
}

@test "a multi-line refusal is one line, its texts joined by single spaces" {
	fake_start 'rcpt c@x.test 550-5.1.1 The email account that you tried to reach\n550-5.1.1 does not exist.\n550 5.1.1 Please try again.'
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 79
	assert_stderr_line '^carrier: <c@x\.test>: 550 5\.1\.1 The email account that you tried to reach 5\.1\.1 does not exist\. 5\.1\.1 Please try again\.$'
}

# --- 80: sender refused ------------------------------------------------------

@test "80: MAIL 553 with PIPELINING: one line, RSET then QUIT, no message" {
	fake_start 'MAIL 553 5.7.1 <a@x.test>: Sender address rejected: not owned by user'
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 80
	assert_equal "$output" ""
	assert_stderr 'carrier: MAIL FROM:<a@x.test> refused: 553 5.7.1 <a@x.test>: Sender address rejected: not owned by user'
	[[ ! -e $FAKE_DIR/data.1 ]]
	assert_equal "$(tail -n 2 "$FAKE_DIR/commands")" $'RSET\nQUIT'
}

@test "80: MAIL 553 without PIPELINING: one line, no RCPT, RSET then QUIT" {
	fake_start <<-'EOF'
		capabilities 8BITMIME
		MAIL 553 5.7.1 Sender rejected
	EOF
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 80
	assert_equal "$output" ""
	assert_stderr 'carrier: MAIL FROM:<a@x.test> refused: 553 5.7.1 Sender rejected'
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test>
		RSET
		QUIT
	EOF
}

# --- 81: data refused ------------------------------------------------------

@test "81: DATA 554: one line, RSET then QUIT, no message" {
	fake_start 'DATA 554 5.5.1 Error: no valid recipients'
	run_carrier -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 81
	assert_equal "$output" ""
	assert_stderr_line '^carrier: DATA[^:]*: 554 5\.5\.1 Error: no valid recipients$'
	[[ ! -e $FAKE_DIR/data.1 ]]
	assert_equal "$(tail -n 2 "$FAKE_DIR/commands")" $'RSET\nQUIT'
}

@test "81: 554 to the end of data: one line, the connection ends with QUIT" {
	fake_start 'data-end 554 5.7.1 Message rejected as spam'
	run_carrier -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 81
	assert_equal "$output" ""
	assert_stderr_line '^carrier: [^:]+: 554 5\.7\.1 Message rejected as spam$'
	assert_data 1 "$STD_WIRE"
	[[ $(tail -n 1 "$FAKE_DIR/commands") == QUIT ]]
}

@test "81: a message one octet over the server's SIZE limit is not sent; at the limit it is" {
	fake_start "capabilities PIPELINING, SIZE $((STD_SIZE - 1))"
	run_carrier -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 81
	assert_equal "$output" ""
	assert_stderr_line "^carrier: [^:]+: .*$STD_SIZE.*$((STD_SIZE - 1))"
	fake_refute_sent --partial 'MAIL FROM'
	[[ ! -e $FAKE_DIR/data.1 ]]
	fake_start "capabilities PIPELINING, SIZE $STD_SIZE"
	run_carrier -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	assert_data 1 "$STD_WIRE"
}
