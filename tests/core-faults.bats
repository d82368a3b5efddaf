#!/usr/bin/env bats
# Core suite: a broken or hostile dialogue (SPEC 3; THREATS C, D and the
# fault points of (b)): 74 the server went away, 75 temporary failures and
# timeouts, 76 protocol errors; when QUIT and RSET are sent and when not;
# a failed QUIT after an accepted message; SIGPIPE.
#
# Stall tests run carrier with --timeout 1 and must end within 4 s.

load lib/common
load lib/core

# send [ARGS...]: test_message from a@x.test to b@x.test and c@x.test
# through the current fake server, with CARRIER_TIMEOUT (default 3 here).
send() {
	CARRIER_TIMEOUT=${CARRIER_TIMEOUT:-3} run_carrier -f a@x.test "$@" \
		b@x.test c@x.test <"$(test_message)"
}

# stalled STAGE-REGEX: after `timer_start; CARRIER_TIMEOUT=1 send`: exit
# 75 within 4 s, a stderr line naming the stage and the timeout, no QUIT
# and no RSET afterwards (a dialogue out of step cannot go on).
stalled() {
	assert_elapsed_below 4000
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_failure_line "^carrier: $1.*tim(ed|e) ?out"
	wire_lacks QUIT
	wire_lacks RSET
}

# --- 74: the server went away ------------------------------------------------

@test "74: closed before the greeting: one line, nothing sent" {
	fake_start 'greeting close'
	send
	fake_done
	assert_status 74
	assert_equal "$output" ""
	assert_stderr_line '^carrier: greeting: .*closed'
	[[ ! -s $FAKE_DIR/wire ]]
}

@test "74: closed after EHLO" {
	fake_start 'EHLO close'
	send
	fake_done
	assert_status 74
	assert_stderr_line '^carrier: EHLO: .*closed'
	wire_lacks QUIT
}

@test "74: closed after MAIL (no PIPELINING): one line, no QUIT" {
	fake_start <<-'EOF'
		capabilities 8BITMIME, SIZE 10485760
		MAIL close
	EOF
	send
	fake_done
	assert_status 74
	assert_equal "$output" ""
	assert_failure_line '^carrier: MAIL( FROM)?(:<[^>]*>)?( refused)?: .*closed'
	wire_lacks QUIT
	wire_lacks RSET
	fake_refute_sent --partial 'RCPT'
}

@test "74: closed after the pipelined MAIL" {
	fake_start 'MAIL close'
	send
	fake_done
	assert_status 74
	assert_failure_line '^carrier: MAIL( FROM)?(:<[^>]*>)?( refused)?: .*closed'
	wire_lacks QUIT
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "74: reset (RST) after MAIL" {
	fake_start 'MAIL reset'
	send
	fake_done
	assert_status 74
	assert_failure_line '^carrier: MAIL( FROM)?(:<[^>]*>)?( refused)?: .*(reset|lost|closed)'
}

@test "74: closed after the 354, in the middle of the message data" {
	local big=$BATS_TEST_TMPDIR/big.eml
	big_message "$big" 300000
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		mid-data 20000 close
	EOF
	run_carrier -f a@x.test b@x.test <"$big"
	fake_done
	assert_status 74
	assert_equal "$output" ""
	assert_stderr_line '^carrier: [^:]+: .*(closed|lost)'
	wire_lacks QUIT
}

@test "74: closed after the final dot, before the reply: delivery status unknown" {
	fake_start 'data-end close'
	send
	fake_done
	assert_status 74
	assert_equal "$output" ""
	assert_stderr_line '^carrier: end of data: .*closed.*delivery status unknown'
	assert_data 1 "$STD_WIRE"
}

@test "74: reset after the final dot, before the reply: delivery status unknown" {
	fake_start 'data-end reset'
	send
	fake_done
	assert_status 74
	assert_stderr_line '^carrier: end of data: .*delivery status unknown'
}

@test "SIGPIPE: a reset in the middle of a large message is 74 or 75, never death by signal" {
	local big=$BATS_TEST_TMPDIR/big.eml
	big_message "$big" 4000000
	fake_start 'mid-data 65536 reset'
	run_carrier -f a@x.test b@x.test <"$big"
	fake_done
	# 141 would be 128 + SIGPIPE.
	[[ $status -eq 74 || $status -eq 75 ]] || assert_status 74
	assert_equal "$output" ""
	assert_stderr_line '^carrier: [^:]+: .*(reset|lost|closed|pipe)'
}

# --- 75: 421 ---------------------------------------------------------------

@test "75: greeting 421: closed at once, no EHLO, no QUIT" {
	fake_start 'greeting 421 4.3.2 Service shutting down'
	send
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_stderr_line '^carrier: greeting: 421 4\.3\.2 Service shutting down$'
	[[ ! -s $FAKE_DIR/wire ]]
}

@test "75: EHLO 421: no HELO, no QUIT" {
	fake_start 'EHLO 421 4.3.2 Service shutting down'
	send
	fake_done
	assert_status 75
	assert_stderr_line '^carrier: (EHLO|HELO)[^:]*: 421 4\.3\.2 Service shutting down$'
	fake_assert_commands <<<'EHLO client.test'
	wire_lacks QUIT
}

@test "75: MAIL 421 (PIPELINING): one line, no RSET, no QUIT" {
	fake_start 'MAIL 421 4.3.2 Service shutting down'
	send
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_failure_line '^carrier: MAIL( FROM)?(:<[^>]*>)?( refused)?: 421 4\.3\.2 Service shutting down$'
	wire_lacks RSET
	wire_lacks QUIT
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "75: MAIL 421 (no PIPELINING): one line, no RCPT, no RSET, no QUIT" {
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		MAIL 421 4.3.2 Service shutting down
	EOF
	send
	fake_done
	assert_status 75
	assert_failure_line '^carrier: MAIL( FROM)?(:<[^>]*>)?( refused)?: 421 4\.3\.2 Service shutting down$'
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE
	EOF
	wire_lacks QUIT
}

@test "75: RCPT 421: no RSET, no QUIT, no message" {
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		rcpt c@x.test 421 4.3.2 Service shutting down
	EOF
	send
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_equal "$output" ""
	assert_failure_line '421 4\.3\.2 Service shutting down$'
	wire_lacks RSET
	wire_lacks QUIT
	wire_lacks DATA
}

@test "75: RCPT 421 with PIPELINING: no RSET, no QUIT, no message" {
	fake_start 'rcpt b@x.test 421 4.3.2 Service shutting down'
	send
	fake_done
	assert_status 75
	assert_failure_line '421 4\.3\.2 Service shutting down$'
	wire_lacks RSET
	wire_lacks QUIT
	# The server took the pipelined DATA (it accepted c@x.test): nothing came.
	[[ ! -s $FAKE_DIR/data.1 ]]
}

@test "75: DATA 421: one line, no RSET, no QUIT, no message" {
	fake_start 'DATA 421 4.3.2 Service shutting down'
	send
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_stderr_line '^carrier: DATA[^:]*: 421 4\.3\.2 Service shutting down$'
	wire_lacks RSET
	wire_lacks QUIT
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "75: 421 to the end of data (no PIPELINING): one line, no RSET, no QUIT" {
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		data-end 421 4.3.2 Service shutting down
	EOF
	send
	fake_done
	assert_status 75
	assert_stderr_line '^carrier: [^:]+: 421 4\.3\.2 Service shutting down$'
	wire_lacks RSET
	wire_lacks QUIT
}

@test "75: an unsolicited 421 and close after the MAIL reply" {
	fake_start 'MAIL default | 421 4.3.2 Bye | close'
	send
	fake_done
	assert_status 75
	assert_failure_line '^carrier: .*421 4\.3\.2 Bye$'
	wire_lacks RSET
	wire_lacks QUIT
	[[ ! -e $FAKE_DIR/data.1 ]]
}

# --- 75: other 4xx -------------------------------------------------------------

@test "75: MAIL 451: one line, RSET then QUIT" {
	fake_start 'MAIL 451 4.3.0 Error: queue file write error'
	send
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_stderr 'carrier: MAIL FROM:<a@x.test> refused: 451 4.3.0 Error: queue file write error'
	assert_equal "$(tail -n 2 "$FAKE_DIR/commands")" $'RSET\nQUIT'
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "75: every RCPT 4xx: a line for each, RSET, QUIT, no message" {
	fake_start 'RCPT 450 4.2.0 Greylisted, try again later'
	send
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_stderr 'carrier: <b@x.test>: 450 4.2.0 Greylisted, try again later
carrier: <c@x.test>: 450 4.2.0 Greylisted, try again later'
	assert_equal "$(tail -n 2 "$FAKE_DIR/commands")" $'RSET\nQUIT'
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "75: every recipient refused, one 4xx among 5xx" {
	fake_start <<-'EOF'
		rcpt b@x.test 550 5.1.1 User unknown
		rcpt c@x.test 452 4.2.2 Mailbox full
	EOF
	send
	fake_done
	assert_status 75
	assert_stderr 'carrier: <b@x.test>: 550 5.1.1 User unknown
carrier: <c@x.test>: 452 4.2.2 Mailbox full'
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "75: 452 to the first recipient is a refusal, not a deferral" {
	fake_start 'RCPT 452 4.5.3 Error: too many recipients'
	send
	fake_done
	assert_status 75
	assert_stderr 'carrier: <b@x.test>: 452 4.5.3 Error: too many recipients
carrier: <c@x.test>: 452 4.5.3 Error: too many recipients'
	assert_equal "$(grep -c '^MAIL' "$FAKE_DIR/commands")" 1
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "75: DATA 451: one line, RSET then QUIT, no message" {
	fake_start 'DATA 451 4.3.0 Try again later'
	send
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_stderr_line '^carrier: DATA[^:]*: 451 4\.3\.0 Try again later$'
	assert_equal "$(tail -n 2 "$FAKE_DIR/commands")" $'RSET\nQUIT'
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "75: 451 to the end of data: one line" {
	fake_start 'data-end 451 4.3.0 Error: queue file write error'
	send
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_stderr_line '^carrier: [^:]+: 451 4\.3\.0 Error: queue file write error$'
	[[ $(tail -n 1 "$FAKE_DIR/commands") == QUIT ]]
}

# --- 75: stalls (--timeout 1) -----------------------------------------------

@test "75: stall before the greeting" {
	fake_start 'greeting stall'
	timer_start
	CARRIER_TIMEOUT=1 send
	stalled 'greeting'
	[[ ! -s $FAKE_DIR/wire ]]
}

@test "75: stall in the middle of a multi-line greeting" {
	fake_start 'greeting raw 220-fake.test first line\r\n | stall'
	timer_start
	CARRIER_TIMEOUT=1 send
	stalled 'greeting'
}

@test "75: stall after EHLO" {
	fake_start 'EHLO stall'
	timer_start
	CARRIER_TIMEOUT=1 send
	stalled 'EHLO'
}

@test "75: stall in the middle of the EHLO reply" {
	fake_start 'EHLO raw 250-fake.test\r\n250-PIPELINING\r\n | stall'
	timer_start
	CARRIER_TIMEOUT=1 send
	stalled 'EHLO'
}

@test "75: stall after MAIL" {
	fake_start 'MAIL stall'
	timer_start
	CARRIER_TIMEOUT=1 send
	stalled 'MAIL'
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "75: stall after the last RCPT (no PIPELINING)" {
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		rcpt c@x.test stall
	EOF
	timer_start
	CARRIER_TIMEOUT=1 send
	stalled 'RCPT'
	wire_lacks DATA
}

@test "75: stall after DATA" {
	fake_start 'DATA stall'
	timer_start
	CARRIER_TIMEOUT=1 send
	stalled 'DATA'
	[[ ! -s $FAKE_DIR/data.1 ]]
}

@test "75: stall after the final dot: delivery status unknown" {
	# Without PIPELINING: QUIT is not already on its way after the data.
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		data-end stall
	EOF
	timer_start
	CARRIER_TIMEOUT=1 send
	stalled 'end of data'
	assert_stderr_line '^carrier: end of data: .*delivery status unknown'
	assert_data 1 "$STD_WIRE"
}

@test "75: the server stops reading in the middle of the data (zero window)" {
	local big=$BATS_TEST_TMPDIR/big.eml
	big_message "$big" 8000000
	fake_start <<-'EOF'
		capabilities PIPELINING, SIZE 100000000
		mid-data 65536 freeze
	EOF
	timer_start
	CARRIER_TIMEOUT=1 run_carrier -f a@x.test b@x.test <"$big"
	# Reading the 8 MB message is not part of the limit: allow 6 s.
	assert_elapsed_below 6000
	fake_stop
	assert_status 75
	assert_equal "$output" ""
	assert_stderr_line '^carrier: [^:]+: .*tim(ed|e) ?out'
}

@test "75: connect timeout (a listener whose backlog is full drops the SYN)" {
	local port pid
	# Not a fake server: a socket that listens, never accepts, and whose
	# backlog is already full; it goes away by itself after 6 s.
	"$PYTHON" -c 'import socket, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(0)
port = l.getsockname()[1]
held = []
for _ in range(8):
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    held.append(c)
time.sleep(0.3)
print(port, flush=True)
time.sleep(6)' >"$BATS_TEST_TMPDIR/backlog.port" 3>&- &
	pid=$!
	for ((round = 0; round < 50; round++)); do
		[[ -s $BATS_TEST_TMPDIR/backlog.port ]] && break
		sleep 0.05
	done
	port=$(<"$BATS_TEST_TMPDIR/backlog.port")
	timer_start
	run --separate-stderr "$CARRIER" --host 127.0.0.1 --port "$port" --timeout 1 \
		-f a@x.test b@x.test <"$(test_message)"
	assert_elapsed_below 4000
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	assert_status 75
	assert_equal "$output" ""
	assert_stderr_line '^carrier: (connect|greeting): .*tim(ed|e) ?out'
}

@test "75: a reply dripping one byte every 300 ms: one limit for the whole reply" {
	fake_start 'greeting drip 300 220 fake.test ESMTP a rather long greeting line'
	timer_start
	CARRIER_TIMEOUT=1 send
	stalled 'greeting'
}

# --- 76: protocol errors -----------------------------------------------------

@test "76: garbage instead of a greeting: one line, nothing sent" {
	fake_start 'greeting raw garbage\r\n'
	send
	fake_done
	assert_status 76
	assert_equal "$output" ""
	assert_stderr_line '^carrier: greeting: '
	[[ ! -s $FAKE_DIR/wire ]]
}

@test "76: garbage reply to MAIL: no RSET, no QUIT" {
	fake_start 'MAIL raw +OK ready\r\n'
	send
	fake_done
	assert_status 76
	assert_equal "$output" ""
	assert_failure_line '^carrier: MAIL( FROM)?(:<[^>]*>)?( refused)?: '
	wire_lacks QUIT
	wire_lacks RSET
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "76: malformed reply codes: 25O, 2500, ' 250', 250x" {
	local round
	fake_start <<-'EOF'
		connections 4
		MAIL raw 25O ok\r\n
		MAIL raw 2500 ok\r\n
		MAIL raw \x20250 ok\r\n
		MAIL raw 250x ok\r\n
	EOF
	for ((round = 1; round <= 4; round++)); do
		send
		assert_status 76
		assert_failure_line '^carrier: MAIL( FROM)?(:<[^>]*>)?( refused)?: '
	done
	fake_done
	wire_lacks QUIT
}

@test "76: reply code 199 to MAIL, 600 to RCPT" {
	fake_start 'MAIL 199 2.1.0 odd'
	send
	fake_done
	assert_status 76
	assert_failure_line '^carrier: MAIL( FROM)?(:<[^>]*>)?( refused)?: '
	wire_lacks QUIT
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		RCPT 600 6.0.0 odd
	EOF
	send
	fake_done
	assert_status 76
	assert_failure_line '^carrier: RCPT( TO)?(:<[^>]*>)?( refused)?: '
	wire_lacks QUIT
	wire_lacks DATA
}

@test "76: a multi-line reply whose codes differ" {
	fake_start 'EHLO 250-fake.test\n251-PIPELINING\n550 SIZE 1000'
	send
	fake_done
	assert_status 76
	assert_equal "$output" ""
	assert_stderr_line '^carrier: EHLO: '
	fake_refute_sent --partial 'MAIL'
	wire_lacks QUIT
}

@test "76: a reply line over 8192 octets (8193, 9000); 8192 octets is fine" {
	local round
	# "250 " and LEN x: 8192 octets, then 8193, then 9000 (CRLF excluded).
	fake_start <<-'EOF'
		connections 3
		MAIL long 250 8188
		MAIL long 250 8189
		MAIL long 250 8996
	EOF
	send
	assert_status 0
	assert_quiet
	for ((round = 2; round <= 3; round++)); do
		send
		assert_status 76
		assert_failure_line '^carrier: MAIL( FROM)?(:<[^>]*>)?( refused)?: '
	done
	fake_done
	assert_data 1 "$STD_WIRE"
	[[ ! -s $FAKE_DIR/data.2 ]]
	assert_equal "$(grep -c '^QUIT$' "$FAKE_DIR/commands")" 1
}

@test "76: a reply of more than 1000 lines (endless continuation)" {
	fake_start 'EHLO endless 250'
	timer_start
	send
	assert_elapsed_below 4000
	fake_done
	assert_status 76
	assert_stderr_line '^carrier: EHLO: '
	wire_lacks QUIT
}

@test "76: an EHLO reply of 1001 lines; 1000 lines is fine" {
	local k s1000='EHLO 250-fake.test' s1001
	for ((k = 2; k < 1000; k++)); do s1000+="\\n250-X-KEY$k"; done
	s1001="$s1000\\n250-X-KEY1000\\n250 PIPELINING"
	s1000+='\n250 PIPELINING'
	fake_start "connections 2
$s1000
$s1001"
	send
	assert_status 0
	assert_quiet
	send
	fake_done
	assert_status 76
	assert_stderr_line '^carrier: EHLO: '
	assert_equal "$(grep -c '^MAIL' "$FAKE_DIR/commands")" 1
}

@test "76: EHLO 502 then HELO 502" {
	fake_start <<-'EOF'
		EHLO 502 5.5.2 Error: command not recognized
		HELO 502 5.5.2 Error: command not recognized
	EOF
	send
	fake_done
	assert_status 76
	assert_equal "$output" ""
	assert_stderr_line '^carrier: HELO[^:]*: 502 5\.5\.2 Error: command not recognized$'
	fake_refute_sent --partial 'MAIL'
}

@test "76: an unexpected 354 to MAIL" {
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		MAIL 354 go ahead
	EOF
	send
	fake_done
	assert_status 76
	assert_failure_line '^carrier: MAIL( FROM)?(:<[^>]*>)?( refused)?: 354 go ahead$'
	fake_refute_sent --partial 'RCPT'
}

@test "76: RCPT answered 354 is a protocol error, not a refusal (THREATS P06)" {
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		RCPT 354 go on
	EOF
	send
	fake_done
	assert_status 76
	assert_equal "$output" ""
	assert_stderr_line '^carrier: RCPT( TO)?(:<[^>]*>)?( refused)?: 354 go on$'
	fake_refute_sent 'DATA'
	wire_lacks 'Hello.'
}

@test "a 2xx to RCPT other than 250 and 251 (252, 299) accepts the recipient (THREATS P06: the first digit decides)" {
	fake_start <<-'EOF'
		rcpt b@x.test 252 2.1.5 Cannot verify, but will accept
		rcpt c@x.test 299 2.1.5 Ok, oddly
	EOF
	send
	fake_done
	assert_status 0
	assert_quiet
	assert_data 1 "$STD_WIRE"
}

@test "multi-line replies: a 220- greeting, EHLO lines whose text starts with digits (THREATS P01)" {
	fake_start <<-'EOF'
		greeting 220-fake.test ESMTP\n220-234 more greeting\n220 ready
		EHLO 250-fake.test\n250-250 looks like a code\n250-PIPELINING\n250 SIZE 10485760
	EOF
	send
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE
		RCPT TO:<b@x.test>
		RCPT TO:<c@x.test>
		DATA
		QUIT
	EOF
}

@test "odd SIZE keywords (no number, huge, negative, not a number) break nothing (THREATS P10)" {
	local round
	fake_start <<-'EOF'
		connections 4
		EHLO 250-fake.test\n250-PIPELINING\n250 SIZE
		EHLO 250-fake.test\n250-PIPELINING\n250 SIZE 99999999999999999999999
		EHLO 250-fake.test\n250-PIPELINING\n250 SIZE -1
		EHLO 250-fake.test\n250-PIPELINING\n250 size abc
	EOF
	for ((round = 1; round <= 4; round++)); do
		send
		assert_status 0
		assert_quiet
	done
	fake_done
	assert_equal "$(grep -cE "^MAIL FROM:<a@x.test>( SIZE=$STD_SIZE)?\$" "$FAKE_DIR/commands")" 4
	for ((round = 1; round <= 4; round++)); do
		assert_data "$round" "$STD_WIRE"
	done
}

@test "replies ending in a bare LF and code-only replies are accepted" {
	fake_start <<-'EOF'
		greeting raw 220 fake.test ESMTP\n
		EHLO raw 250-fake.test\n250-PIPELINING\n250 SIZE 10485760\n
		MAIL raw 250\r\n
		RCPT raw 250 \r\n
	EOF
	send
	fake_done
	assert_status 0
	assert_quiet
	assert_data 1 "$STD_WIRE"
}

@test "a bare CR never ends a reply line: the greeting is not complete (THREATS P08)" {
	fake_start 'greeting raw 220 fake.test ESMTP\r | stall'
	timer_start
	CARRIER_TIMEOUT=1 send
	stalled 'greeting'
	[[ ! -s $FAKE_DIR/wire ]]
}

@test "76: an extra reply after the greeting is found before EHLO (THREATS P11)" {
	fake_start 'greeting 220 fake.test ESMTP\n250 2.0.0 nobody asked'
	send
	fake_done
	assert_status 76
	assert_equal "$output" ""
	assert_stderr_line '^carrier: greeting: '
	[[ ! -s $FAKE_DIR/wire ]]
}

@test "76: an extra reply to MAIL without PIPELINING is found before RCPT (THREATS P11)" {
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		MAIL 250 2.1.0 Ok\n250 2.1.0 Ok again
	EOF
	send
	fake_done
	assert_status 76
	assert_equal "$output" ""
	assert_stderr_line '^carrier: MAIL( FROM)?(:<[^>]*>)?: '
	fake_refute_sent --partial 'RCPT'
	wire_lacks 'Hello.'
}

@test "76: an extra reply to RCPT without PIPELINING is found before the next command (THREATS P11)" {
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		rcpt b@x.test 250 2.1.5 Ok\n354 End data with <CR><LF>.<CR><LF>
	EOF
	send
	fake_done
	assert_status 76
	assert_equal "$output" ""
	assert_stderr_line '^carrier: RCPT( TO)?(:<[^>]*>)?: '
	fake_refute_sent 'RCPT TO:<c@x.test>'
	fake_refute_sent 'DATA'
	wire_lacks 'Hello.'
}

@test "76: a reply injected after the 354 is not the end-of-data reply (THREATS U1, P11)" {
	# The server says 354 and at once a 250 no data was sent for; its real
	# answer to the message is 554.  Exit 0 would report a refused message
	# as delivered.
	fake_start <<-'EOF'
		DATA 354 End data with <CR><LF>.<CR><LF> | 250 2.0.0 Ok: queued
		data-end 554 5.7.1 Message rejected
	EOF
	run_carrier -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 76
	assert_equal "$output" ""
	assert_failure_line '^carrier: (DATA|end of data)'
}

# --- QUIT and RSET ---------------------------------------------------------------

@test "a failed QUIT after the message was accepted changes nothing: 421, 500, garbage, close, reset, silence" {
	# One connection per QUIT reply, in this order (the k-th QUIT gets the
	# k-th entry); the last one never answers (--timeout 1).
	fake_start <<-'EOF'
		connections 6
		QUIT 421 4.3.2 Bye
		QUIT 500 5.5.1 What
		QUIT raw garbage\r\n
		QUIT close
		QUIT reset
		QUIT stall
	EOF
	local round
	for ((round = 1; round <= 5; round++)); do
		send
		assert_status 0
		assert_quiet
	done
	timer_start
	CARRIER_TIMEOUT=1 send
	assert_elapsed_below 4000
	assert_status 0
	assert_quiet
	fake_done
	for ((round = 1; round <= 6; round++)); do
		assert_data "$round" "$STD_WIRE"
	done
	assert_equal "$(grep -c '^QUIT$' "$FAKE_DIR/commands")" 6
}

@test "QUIT is the last command after a successful transaction, and nothing follows it" {
	fake_start ''
	send
	fake_done
	assert_status 0
	assert_equal "$(wire_lines | tail -n 1)" QUIT
	assert_equal "$(grep -c '^QUIT$' "$FAKE_DIR/commands")" 1
}

@test "RSET refused or the connection closed at RSET: the status stays the sender refusal" {
	local round
	fake_start <<-'EOF'
		connections 3
		MAIL 550 5.7.1 Sender rejected
		RSET 421 4.3.2 Bye
		RSET 500 5.5.1 No
		RSET close
	EOF
	for ((round = 1; round <= 3; round++)); do
		send
		assert_status 80
		assert_failure_line '^carrier: MAIL FROM:<a@x\.test> refused: 550 5\.7\.1 Sender rejected$'
	done
	fake_done
	assert_equal "$(grep -c '^RSET$' "$FAKE_DIR/commands")" 3
}
