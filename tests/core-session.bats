#!/usr/bin/env bats
# Core suite: successful SMTP sessions over TCP, the exact commands carrier
# sends (SPEC 2 and 3: EHLO/HELO, PIPELINING, SIZE=, ESMTP options, the
# recipients, 452 rounds), the -v transcript, -4/-6 and --source.

load lib/common
load lib/core

@test "success with PIPELINING: exact commands, exact data, nothing printed, exit 0" {
	fake_start ''
	run_carrier -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE
		RCPT TO:<b@x.test>
		DATA
		QUIT
	EOF
	assert_data 1 "$STD_WIRE"
	# The server's view: exactly the message, no more, no less.
	assert_bytes "$FAKE_DIR/message.1" "${STD_WIRE%$'.\r\n'}"
}

@test "PIPELINING: MAIL, every RCPT and DATA go in one flight" {
	# The server answers MAIL only, then closes: whatever the client sent
	# after MAIL was sent without waiting for a reply.
	fake_start 'MAIL 250 2.1.0 Ok | close'
	run_carrier -f a@x.test b@x.test c@x.test d@x.test <"$(test_message)"
	fake_done
	assert_status 74
	assert_failure_line '^carrier: RCPT( TO)?(:<[^>]*>)?( refused)?: .*closed'
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE
		RCPT TO:<b@x.test>
		RCPT TO:<c@x.test>
		RCPT TO:<d@x.test>
		DATA
	EOF
}

@test "no PIPELINING: exact commands and data, exit 0" {
	fake_start 'capabilities 8BITMIME, SIZE 10485760'
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
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
	assert_data 1 "$STD_WIRE"
}

@test "no PIPELINING: each command waits for the previous reply" {
	fake_start <<-'EOF'
		capabilities 8BITMIME, SIZE 10485760
		MAIL 250 2.1.0 Ok | close
	EOF
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 74
	assert_failure_line '^carrier: RCPT( TO)?(:<[^>]*>)?( refused)?: .*closed'
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE
		RCPT TO:<b@x.test>
	EOF
}

@test "EHLO refused (502): HELO, and then no ESMTP parameters at all" {
	fake_start 'EHLO 502 5.5.2 Error: command not recognized'
	run_carrier -f a@x.test --mail-option X-ONE=1 --rcpt-option NOTIFY=NEVER \
		b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_commands <<-'EOF'
		EHLO client.test
		HELO client.test
		MAIL FROM:<a@x.test>
		RCPT TO:<b@x.test>
		DATA
		QUIT
	EOF
	assert_data 1 "$STD_WIRE"
}

@test "HELO fallback after EHLO 500, 501, 504 and 550 as well" {
	local round
	fake_start <<-'EOF'
		connections 4
		EHLO 500 5.5.1 no EHLO here
		EHLO 501 5.5.1 no EHLO here
		EHLO 504 5.5.1 no EHLO here
		EHLO 550 5.5.1 no EHLO here
	EOF
	for ((round = 1; round <= 4; round++)); do
		run_carrier -f a@x.test b@x.test <"$(test_message)"
		assert_status 0
		assert_quiet
	done
	fake_done
	assert_equal "$(grep -c '^HELO client.test$' "$FAKE_DIR/commands")" 4
	assert_equal "$(grep -c '^MAIL FROM:<a@x.test>$' "$FAKE_DIR/commands")" 4
}

@test "SIZE= is the size after CRLF normalisation and before dot-stuffing" {
	fake_start ''
	# 14 + 4 + 5 + 3 = 26 octets once every line ends in CRLF; dot-stuffing
	# adds 2 more on the wire, which SIZE must not count (RFC 1870).
	run_carrier -f a@x.test b@x.test <"$(msg 'Subject: s\n\n.a\r\n..b\rc')"
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=26'
	assert_data 1 $'Subject: s\r\n\r\n..a\r\n...b\r\nc\r\n.\r\n'
}

@test "no SIZE= when the server does not offer SIZE" {
	fake_start 'capabilities PIPELINING, 8BITMIME'
	run_carrier -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_sent 'MAIL FROM:<a@x.test>'
	assert_data 1 "$STD_WIRE"
}

@test "--mail-option and --rcpt-option are passed verbatim, in order" {
	# Scripted replies: the built-in ones refuse unknown parameters (555).
	fake_start <<-'EOF'
		MAIL 250 2.1.0 Ok
		RCPT 250 2.1.5 Ok
	EOF
	run_carrier -f a@x.test --mail-option X-ONE=1 --mail-option XTWO \
		--rcpt-option NOTIFY=NEVER --rcpt-option 'X-R=a+2Bb' \
		b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$STD_SIZE X-ONE=1 XTWO
		RCPT TO:<b@x.test> NOTIFY=NEVER X-R=a+2Bb
		RCPT TO:<c@x.test> NOTIFY=NEVER X-R=a+2Bb
		DATA
		QUIT
	EOF
}

@test "several recipients: one RCPT each, in command-line order, one message" {
	fake_start ''
	run_carrier -f a@x.test d@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	assert_equal "$(grep '^RCPT' "$FAKE_DIR/commands")" \
		"$(printf 'RCPT TO:<%s>\n' d@x.test b@x.test c@x.test)"
	assert_equal "$(grep -c '^DATA$' "$FAKE_DIR/commands")" 1
	[[ ! -e $FAKE_DIR/data.2 ]]
}

@test "duplicate recipients are sent once" {
	fake_start ''
	run_carrier -f a@x.test b@x.test c@x.test b@x.test -- c@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	assert_equal "$(grep '^RCPT' "$FAKE_DIR/commands")" \
		"$(printf 'RCPT TO:<%s>\n' b@x.test c@x.test)"
}

@test "the sender comes from the From header when -f is not given" {
	fake_start ''
	run_carrier b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_sent "MAIL FROM:<a@x.test> SIZE=$STD_SIZE"
}

@test "-f '<>' is the null sender" {
	fake_start ''
	run_carrier -f '<>' b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_sent "MAIL FROM:<> SIZE=$STD_SIZE"
}

@test "--message-file: the message comes from the file, standard input is not read" {
	local file
	file=$(msg 'Subject: from the file\n\nbody\n')
	fake_start ''
	run_carrier -f a@x.test --message-file "$file" b@x.test <"$(msg 'Subject: stdin\n\nnot this\n')"
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=32'
	assert_data 1 $'Subject: from the file\r\n\r\nbody\r\n.\r\n'
}

@test "452 after 100 recipients: the rest go in further transactions on the same connection" {
	local i scenario rcpts=()
	# The k-th RCPT of the session gets the k-th reply: 100 accepted, the
	# other 150 deferred; then 100 of those, 50 deferred; then the last 50.
	scenario=$(
		for ((i = 0; i < 100; i++)); do echo 'RCPT 250 2.1.5 Ok'; done
		for ((i = 0; i < 150; i++)); do echo 'RCPT 452 4.5.3 Error: too many recipients'; done
		for ((i = 0; i < 100; i++)); do echo 'RCPT 250 2.1.5 Ok'; done
		for ((i = 0; i < 50; i++)); do echo 'RCPT 452 4.5.3 Error: too many recipients'; done
		echo 'RCPT 250 2.1.5 Ok'
	)
	for ((i = 1; i <= 250; i++)); do rcpts+=("r$i@x.test"); done
	fake_start "$scenario"
	run_carrier -f a@x.test "${rcpts[@]}" <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	# One connection, three transactions: 250, 150 and 50 RCPTs.
	[[ $(grep -c '^--- connection' "$FAKE_DIR/commands") -eq 0 ]]
	assert_equal "$(grep -c '^MAIL FROM:<a@x.test>' "$FAKE_DIR/commands")" 3
	assert_equal "$(grep -c '^DATA$' "$FAKE_DIR/commands")" 3
	assert_equal "$(grep -c '^QUIT$' "$FAKE_DIR/commands")" 1
	local t1 t2 t3
	t1=$(awk '/^MAIL/{n++} n==1 && /^RCPT/' "$FAKE_DIR/commands")
	t2=$(awk '/^MAIL/{n++} n==2 && /^RCPT/' "$FAKE_DIR/commands")
	t3=$(awk '/^MAIL/{n++} n==3 && /^RCPT/' "$FAKE_DIR/commands")
	assert_equal "$t1" "$(for ((i = 1; i <= 250; i++)); do echo "RCPT TO:<r$i@x.test>"; done)"
	assert_equal "$t2" "$(for ((i = 101; i <= 250; i++)); do echo "RCPT TO:<r$i@x.test>"; done)"
	assert_equal "$t3" "$(for ((i = 201; i <= 250; i++)); do echo "RCPT TO:<r$i@x.test>"; done)"
	assert_data 1 "$STD_WIRE"
	assert_data 2 "$STD_WIRE"
	assert_data 3 "$STD_WIRE"
	[[ ! -e $FAKE_DIR/data.4 ]]
}

@test "452 rounds: a later transaction that fails after one was delivered is partial (79), not 75" {
	# b@x.test gets the message in the first transaction; the second one,
	# for c@x.test, is refused at MAIL (451).  A 75 would invite the caller
	# to send the whole message again, to b@x.test a second time.
	fake_start <<-'EOF'
		RCPT 250 2.1.5 Ok
		RCPT 452 4.5.3 Error: too many recipients
		MAIL 250 2.1.0 Ok
		MAIL 451 4.3.0 Error: queue file write error
	EOF
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 79
	assert_equal "$output" ""
	assert_failure_line '451 4\.3\.0 Error: queue file write error$'
	assert_data 1 "$STD_WIRE"
	[[ ! -s $FAKE_DIR/data.2 ]]
}

@test "-v: the dialogue on stderr with '> ' and '< ', the data as one summary line, stdout empty" {
	fake_start ''
	run_carrier -v -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_equal "$output" ""
	local -a lines
	mapfile -t lines <<<"$stderr"
	assert_line '< 220 fake.test ESMTP'
	assert_line '> EHLO client.test'
	assert_line '< 250-fake.test'
	assert_line '< 250-PIPELINING'
	assert_line '< 250 SIZE 10485760'
	assert_line "> MAIL FROM:<a@x.test> SIZE=$STD_SIZE"
	assert_line '> RCPT TO:<b@x.test>'
	assert_line '> DATA'
	assert_line '< 354 End data with <CR><LF>.<CR><LF>'
	assert_line '< 250 2.0.0 Ok: queued as FAKE1'
	assert_line '> QUIT'
	assert_line '< 221 2.0.0 Bye'
	# The message data: one line with its size, never the text.
	assert_line --regexp "(^|[^0-9])$STD_SIZE octets"
	refute_line --partial 'Hello.'
	refute_line --partial 'Subject: test'
	# EHLO is sent before MAIL, and the greeting comes first.
	assert_equal "$(printf '%s\n' "$stderr" | grep -E '^[<>] ' | head -2)" \
		$'< 220 fake.test ESMTP\n> EHLO client.test'
}

@test "-vv and --debug=2: every transcript line starts with a timestamp" {
	local opt
	fake_start 'connections 3'
	for opt in -vv --debug=2; do
		run_carrier "$opt" -f a@x.test b@x.test <"$(test_message)"
		assert_status 0
		assert_equal "$output" ""
		local -a lines
		mapfile -t lines <<<"$stderr"
		assert_line --regexp '^[^ ]*[0-9]{2}:[0-9]{2}:[0-9]{2}[^ ]* > EHLO client\.test$'
		assert_line --regexp '^[^ ]*[0-9]{2}:[0-9]{2}:[0-9]{2}[^ ]* < 221 2\.0\.0 Bye$'
		refute_line --regexp '^[<>] '
	done
	# -v alone: no timestamps.
	run_carrier --debug=1 -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	local -a lines
	mapfile -t lines <<<"$stderr"
	assert_line '> EHLO client.test'
	assert_line '< 221 2.0.0 Bye'
}

@test "-v: bytes from the server are escaped, never raw on the terminal (ESC, BEL, BS, CR, C1)" {
	fake_start <<-'EOF'
		greeting 220 fake.test \x1b[2J\x1b]52;c;cHduZWQ=\x07 ESMTP\x08\x08\rspoof \x9b1m
		EHLO 250-fake.test \x1b[31mred\n250 SIZE 10485760
	EOF
	run_carrier -v -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_equal "$output" ""
	assert_stderr_clean
	# The text is still there, escaped.
	stderr_has '^< 220 fake\.test .*\[2J'
	stderr_has '^< 250-fake\.test .*\[31mred'
}

@test "a refusal line escapes the server's bytes too" {
	fake_start 'rcpt c@x.test 550 5.1.1 \x1b[2J\x07gone\rok\x9b'
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
	fake_done
	assert_status 79
	assert_equal "$output" ""
	assert_stderr_clean
	assert_stderr_line '^carrier: <c@x\.test>: 550 5\.1\.1 .*\[2J.*gone.*ok'
}

@test "a NUL byte in a reply is a protocol error (76), never a silent cut (THREATS P08)" {
	fake_start <<-'EOF'
		connections 2
		rcpt c@x.test 550 5.1.1 before\x00after
		MAIL 250 2.1.0 Ok
		MAIL 553 5.7.1 sender\x00rejected
	EOF
	run_carrier -f a@x.test b@x.test c@x.test <"$(test_message)"
	assert_status 76
	assert_equal "$output" ""
	assert_stderr_clean
	assert_stderr_line '^carrier: RCPT( TO)?(:<[^>]*>)?: .*NUL'
	run_carrier -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 76
	assert_stderr_clean
	assert_stderr_line '^carrier: MAIL( FROM)?(:<[^>]*>)?: .*NUL'
	# Nothing delivered, no QUIT after a malformed reply.
	[[ ! -s $FAKE_DIR/data.1 ]]
	wire_lacks QUIT
}

@test "IPv6: --host ::1 --port, and --host [::1]:PORT" {
	fake_start --listen ::1 'connections 2'
	run_carrier -f a@x.test b@x.test <"$(test_message)" --host ::1 --port "$FAKE_PORT"
	assert_status 0
	assert_quiet
	run --separate-stderr "$CARRIER" --host "[::1]:$FAKE_PORT" --timeout 5 \
		--helo client.test -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	assert_equal "$(grep -c "connection [12] from ('::1'" "$FAKE_DIR/transcript")" 2
	assert_data 1 "$STD_WIRE"
	assert_data 2 "$STD_WIRE"
}

@test "-6 and -4 restrict the address family" {
	fake_start --listen ::1 ''
	run_carrier -6 -f a@x.test b@x.test <"$(test_message)" --host ::1
	fake_done
	assert_status 0
	assert_quiet
	fake_start ''
	run_carrier -4 -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	# An IPv6 literal has no IPv4 address: nothing to connect to.
	fake_start ''
	run_carrier -4 --host ::1 -f a@x.test b@x.test <"$(test_message)"
	assert_status 68
	assert_stderr_line '^carrier: [^:]+: .*::1'
	fake_stop
	refute_connected
}

@test "--source binds the local address before connecting" {
	fake_start 'connections 2'
	run_carrier --source 127.0.0.2 -f a@x.test b@x.test <"$(test_message)"
	assert_status 0
	assert_quiet
	run_carrier --source 127.0.0.1 -f a@x.test b@x.test <"$(test_message)"
	fake_done
	assert_status 0
	assert_quiet
	grep -q "connection 1 from ('127.0.0.2'" "$FAKE_DIR/transcript"
	grep -q "connection 2 from ('127.0.0.1'" "$FAKE_DIR/transcript"
}
