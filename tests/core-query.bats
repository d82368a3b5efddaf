#!/usr/bin/env bats
# Core suite: the query modes (SPEC 1 and 3): --features, --verify,
# --expn, --noop, --server-help[=TOPIC], --command.  Each reply is printed
# as "CODE text" on stdout; exit 0 for 2xx and 3xx, 75 for 4xx, 67 for 5xx
# to VRFY or EXPN, 76 for any other 5xx; several failures: the worst
# (permanent before temporary; of two as bad, the first).
# The reply is the output: a refused query prints nothing on stderr.

load lib/common
load lib/core

@test "--features: one line per EHLO keyword, with its parameters; EHLO and QUIT only" {
	fake_start 'capabilities PIPELINING, SIZE 10485760, AUTH PLAIN LOGIN, 8BITMIME, ENHANCEDSTATUSCODES'
	run_carrier --features </dev/null
	fake_done
	assert_status 0
	assert_equal "$stderr" ""
	assert_output "PIPELINING
SIZE 10485760
AUTH PLAIN LOGIN
8BITMIME
ENHANCEDSTATUSCODES"
	fake_assert_commands <<-'EOF'
		EHLO client.test
		QUIT
	EOF
}

@test "--features: server bytes are escaped on stdout too" {
	fake_start 'capabilities PIPELINING, X-EVIL \x1b[2J\x07'
	run_carrier --features </dev/null
	fake_done
	assert_status 0
	assert_line 'PIPELINING'
	assert_line --regexp '^X-EVIL .*\[2J'
	if printf '%s' "$output" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]'; then
		printf '%s' "$output" | od -c | batslib_decorate 'raw control bytes on stdout' | fail
	fi
}

@test "--verify: VRFY, 252 printed, exit 0" {
	fake_start ''
	run_carrier --verify bob@x.test </dev/null
	fake_done
	assert_status 0
	assert_equal "$stderr" ""
	assert_output '252 2.0.0 Cannot VRFY user, but will accept message'
	fake_assert_commands <<-'EOF'
		EHLO client.test
		VRFY bob@x.test
		QUIT
	EOF
}

@test "--verify: 250 with a multi-line reply, one 'CODE text' line each" {
	fake_start 'VRFY 250-Bob One <bob@x.test>\n250 Bob Two <bob2@x.test>'
	run_carrier --verify bob </dev/null
	fake_done
	assert_status 0
	assert_equal "$stderr" ""
	assert_output '250 Bob One <bob@x.test>
250 Bob Two <bob2@x.test>'
	fake_assert_sent 'VRFY bob'
}

@test "--verify: 550 is 67" {
	fake_start 'VRFY 550 5.1.1 <nobody@x.test>: Recipient address rejected'
	run_carrier --verify nobody@x.test </dev/null
	fake_done
	assert_status 67
	assert_output '550 5.1.1 <nobody@x.test>: Recipient address rejected'
	assert_equal "$stderr" ""
	[[ $(tail -n 1 "$FAKE_DIR/commands") == QUIT ]]
}

@test "--verify: 450 is 75" {
	fake_start 'VRFY 450 4.7.1 Try later'
	run_carrier --verify bob@x.test </dev/null
	fake_done
	assert_status 75
	assert_output '450 4.7.1 Try later'
	assert_equal "$stderr" ""
}

@test "--expn: the built-in 502 is a 5xx to EXPN: 67" {
	# SPEC 3 (and carrier(1)): "67 for 5xx to VRFY or EXPN".
	fake_start ''
	run_carrier --expn staff@x.test </dev/null
	fake_done
	assert_status 67
	assert_output '502 5.5.1 Error: EXPN not available'
	assert_equal "$stderr" ""
	fake_assert_commands <<-'EOF'
		EHLO client.test
		EXPN staff@x.test
		QUIT
	EOF
}

@test "--expn: 550 is 67, 250 lists are printed whole" {
	fake_start 'EXPN 550 5.1.1 No such list'
	run_carrier --expn staff@x.test </dev/null
	fake_done
	assert_status 67
	assert_output '550 5.1.1 No such list'
	assert_equal "$stderr" ""
	fake_start 'EXPN 250-Alice <a@x.test>\n250-Bob <b@x.test>\n250 Carol <c@x.test>'
	run_carrier --expn staff@x.test </dev/null
	fake_done
	assert_status 0
	assert_output '250 Alice <a@x.test>
250 Bob <b@x.test>
250 Carol <c@x.test>'
}

@test "--noop: NOOP, 250 printed, exit 0" {
	fake_start ''
	run_carrier --noop </dev/null
	fake_done
	assert_status 0
	assert_equal "$stderr" ""
	assert_output '250 2.0.0 Ok'
	fake_assert_commands <<-'EOF'
		EHLO client.test
		NOOP
		QUIT
	EOF
}

@test "--server-help and --server-help=TOPIC" {
	fake_start <<-'EOF'
		connections 2
		HELP 214-2.0.0 Commands supported:\n214 2.0.0 EHLO HELO MAIL RCPT DATA
		HELP 214 2.0.0 MAIL FROM:<address> [SIZE=n]
	EOF
	run_carrier --server-help </dev/null
	assert_status 0
	assert_equal "$stderr" ""
	assert_output '214 2.0.0 Commands supported:
214 2.0.0 EHLO HELO MAIL RCPT DATA'
	run_carrier --server-help=MAIL </dev/null
	fake_done
	assert_status 0
	assert_equal "$stderr" ""
	assert_output '214 2.0.0 MAIL FROM:<address> [SIZE=n]'
	fake_assert_commands <<-'EOF'
		EHLO client.test
		HELP
		QUIT
		--- connection 2
		EHLO client.test
		HELP MAIL
		QUIT
	EOF
}

@test "--command: the line verbatim; 500 is 76" {
	fake_start ''
	run_carrier --command 'XYZZY a b' </dev/null
	fake_done
	assert_status 76
	assert_output '500 5.5.2 Error: command not recognized'
	assert_equal "$stderr" ""
	fake_assert_commands <<-'EOF'
		EHLO client.test
		XYZZY a b
		QUIT
	EOF
}

@test "--command is repeatable: every command in order, one reply line each" {
	fake_start 'XYZZY 250 2.0.0 plugh'
	run_carrier --command 'NOOP' --command 'XYZZY a b' --command 'RSET' </dev/null
	fake_done
	assert_status 0
	assert_equal "$stderr" ""
	assert_output '250 2.0.0 Ok
250 2.0.0 plugh
250 2.0.0 Ok'
	fake_assert_commands <<-'EOF'
		EHLO client.test
		NOOP
		XYZZY a b
		RSET
		QUIT
	EOF
}

@test "--command: 4xx is 75; with a 5xx as well, the permanent one wins (76), as in --batch" {
	fake_start 'XYZZY 451 4.3.0 later'
	run_carrier --command 'XYZZY' </dev/null
	fake_done
	assert_status 75
	assert_output '451 4.3.0 later'
	assert_equal "$stderr" ""
	fake_start 'XYZZY 451 4.3.0 later'
	run_carrier --command 'PLUGH' --command 'XYZZY' --command 'NOOP' </dev/null
	fake_done
	assert_status 76
	assert_output '500 5.5.2 Error: command not recognized
451 4.3.0 later
250 2.0.0 Ok'
	fake_assert_sent 'NOOP'
}

@test "--command: a 421 ends the queries: no further command, no QUIT, 75" {
	fake_start 'NOOP 421 4.3.2 Service shutting down | close'
	run_carrier --command NOOP --command RSET --command 'XYZZY' </dev/null
	fake_done
	assert_status 75
	assert_output '421 4.3.2 Service shutting down'
	fake_assert_commands <<-'EOF'
		EHLO client.test
		NOOP
	EOF
	wire_lacks QUIT
}

@test "--command with CR LF is a usage error, nothing sent" {
	fake_start ''
	run_carrier --command $'NOOP\r\nMAIL FROM:<evil@x.test>' </dev/null
	fake_stop
	assert_status 64
	assert_equal "$output" ""
	assert_stderr_line '^carrier: --command: '
	refute_connected
}

@test "a query against a refused greeting: 421 is 75, one stderr line, nothing on stdout" {
	fake_start 'greeting 421 4.3.2 Service shutting down'
	run_carrier --noop </dev/null
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_stderr_line '^carrier: greeting: 421 4\.3\.2 Service shutting down$'
}

@test "a query that times out: 75 within the limit, no QUIT" {
	fake_start 'NOOP stall'
	timer_start
	CARRIER_TIMEOUT=1 run_carrier --noop </dev/null
	assert_elapsed_below 4000
	fake_done
	assert_status 75
	assert_equal "$output" ""
	assert_stderr_line '^carrier: NOOP: .*tim(ed|e) ?out'
	wire_lacks QUIT
}

@test "a query over an RFC 821 server (EHLO refused): HELO, then the command" {
	fake_start 'EHLO 502 5.5.2 Error: command not recognized'
	run_carrier --noop </dev/null
	fake_done
	assert_status 0
	assert_output '250 2.0.0 Ok'
	fake_assert_commands <<-'EOF'
		EHLO client.test
		HELO client.test
		NOOP
		QUIT
	EOF
}
