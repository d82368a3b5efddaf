#!/usr/bin/env bats
# TLS and STARTTLS: SPEC sections 2 (TLS) and 3, THREATS.md section A
# (T01-T23) and the TLS fault points of section (b).
#
# Every failing case checks three things: the exit status (SPEC 3: 82 for
# STARTTLS not offered or refused with 5xx, 75 for 4xx and timeouts, 83 for
# every TLS or certificate failure, 74 for a connection lost after TLS, 76
# for unexpected replies), the one line on standard error, and what the
# fake server received: its `commands` (every line, over TLS or not) and
# its `wire` (the bytes that came outside TLS).  "Nothing after STARTTLS"
# means: no EHLO, AUTH, MAIL, ... ever reached the server after a failed
# STARTTLS, in clear or over TLS.

load lib/common

setup_file() {
	export CERTS=$BATS_FILE_TMPDIR/certs
	"$REPO/tests/lib/mkcerts" "$CERTS"
	# badsig.pem (T17): server.pem with one bit of its signature flipped;
	# same names, same issuer, same key, but the CA's signature is wrong.
	"$PYTHON" - "$CERTS" <<-'EOF'
		import base64, re, sys
		d = sys.argv[1]
		pem = open(d + '/server.pem').read()
		b64 = re.search(r'-----BEGIN CERTIFICATE-----(.*?)-----END', pem, re.S).group(1)
		der = bytearray(base64.b64decode(b64))
		der[-1] ^= 1
		with open(d + '/badsig.pem', 'w') as f:
		    f.write('-----BEGIN CERTIFICATE-----\n')
		    f.write(base64.encodebytes(bytes(der)).decode())
		    f.write('-----END CERTIFICATE-----\n')
	EOF
	cp "$CERTS/server-key.pem" "$CERTS/badsig-key.pem"
	# Pins: "SHA256:" + hex of the DER certificate (mkcerts' server.sha256).
	SERVER_PIN=$(<"$CERTS/server.sha256")
	SELFSIGNED_PIN=SHA256:$(certtool --certificate-info --infile \
		"$CERTS/selfsigned.pem" --outder 2>/dev/null | sha256sum | cut -c1-64)
	export SERVER_PIN SELFSIGNED_PIN
}

teardown() {
	fake_teardown
	if [[ -n ${RELAY_PID:-} ]]; then
		kill "$RELAY_PID" 2>/dev/null || true
		wait "$RELAY_PID" 2>/dev/null || true
	fi
}

# ---- helpers ----

# send ARGS...: delivers the test message from a@x.test to b@x.test with
# run_carrier ARGS... (so $status, $output, $stderr).
send() {
	run_carrier "$@" -f a@x.test b@x.test <"$(test_message)"
}

# send_tls ARGS...: send with the server name `localhost` (the test
# certificates' name) and the test CA.
send_tls() {
	send --host localhost --tls-ca "$CERTS/ca.pem" "$@"
}

# assert_stderr LINE: standard error is exactly this one line.
assert_stderr() {
	assert_equal "$stderr" "$1"
}

# assert_stderr_names_starttls: standard error is one line, a diagnostic
# for the STARTTLS stage (the wording for injected bytes is carrier's).
assert_stderr_names_starttls() {
	assert_regex "$stderr" '^carrier: STARTTLS( refused)?: [^'$'\n'']+$'
}

# stderr_as_lines: points bats-assert's assert_line/refute_line at stderr.
stderr_as_lines() {
	output=$stderr
	lines=("${stderr_lines[@]}")
}

# server_got WIRE [CMD...]: waits for the fake server, then checks that it
# received exactly WIRE (printf %b escapes) outside TLS, optionally
# followed by binary TLS records (a ClientHello sent to a server that stayed
# in clear) holding no SMTP command; and exactly the command lines CMD...
# (over TLS or not).  Lines of such a ClientHello that the server recorded
# as commands are allowed only then, and none may start with an SMTP verb.
server_got() {
	local wire=$1
	shift
	fake_wait
	"$PYTHON" - "$FAKE_DIR" "$wire" "$@" <<-'EOF'
		import re, sys
		d, want, cmds = sys.argv[1], sys.argv[2], sys.argv[3:]
		want = want.encode().decode('unicode_escape').encode('latin-1')
		wire = open(d + '/wire', 'rb').read()
		got = open(d + '/commands', 'rb').read().split(b'\n')
		if got and got[-1] == b'':
		    got.pop()
		verb = re.compile(rb'(?i)^(EHLO|HELO|LHLO|STARTTLS|AUTH|MAIL|RCPT|DATA|BDAT|RSET|NOOP|QUIT|VRFY|EXPN)\b')
		problems = []
		rest = wire[len(want):]
		if not wire.startswith(want):
		    problems.append('clear bytes differ')
		elif rest and not rest.startswith(b'\x16\x03'):
		    problems.append('more clear bytes than expected')
		elif rest and re.search(rb'(EHLO|HELO|AUTH|MAIL|RCPT|DATA|QUIT) ', rest):
		    problems.append('an SMTP command after the TLS records')
		head = [c.decode('latin-1') for c in got[:len(cmds)]]
		if head != cmds:
		    problems.append('commands differ')
		extra = got[len(cmds):]
		if extra and not rest:
		    problems.append('more commands than expected')
		if any(verb.match(x) for x in extra):
		    problems.append('an SMTP command after the expected ones')
		if problems:
		    print('server_got: ' + '; '.join(problems))
		    print('expected wire:    %r' % want)
		    print('received wire:    %r' % wire[:400])
		    print('expected commands: %r' % cmds)
		    print('received commands: %r' % got[:40])
		    sys.exit(1)
	EOF
}

# assert_delivered: message 1 arrived intact (the test message, CRLF).
assert_delivered() {
	cmp "$FAKE_DIR/message.1" <(sed 's/$/\r/' "$BATS_TEST_TMPDIR/message.eml")
}

# colon_pin "SHA256:hex": the -v form, "SHA256:AB:CD:...".
colon_pin() {
	local hex=${1#SHA256:}
	hex=${hex^^}
	printf 'SHA256:%s\n' "$(sed 's/../&:/g; s/:$//' <<<"$hex")"
}

# ms_since START_NS: milliseconds elapsed since START_NS ($(date +%s%N)).
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# The clear-text prefix of every STARTTLS session.
PRE='EHLO client.test\r\nSTARTTLS\r\n'

# ---- successful sessions ----

@test "--tls-on-connect: implicit TLS verified against --tls-ca, message delivered" {
	fake_start <<-'EOF'
		implicit-tls
		tls-cert server.pem
		capabilities PIPELINING, 8BITMIME, SIZE 10485760, STARTTLS
	EOF
	send_tls --tls-on-connect
	assert_success
	assert_stderr ''
	# Nothing in clear; STARTTLS offered over TLS is not used (T12).
	server_got '' 'EHLO client.test' 'MAIL FROM:<a@x.test> SIZE=135' \
		'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	assert_delivered
	run fake_events
	assert_line --regexp '^tls started: TLSv1\.[23] .*, sni: localhost$'
}

@test "--starttls: verified handshake, EHLO sent again over TLS, message delivered" {
	# Python's server sends two TLS 1.3 NewSessionTickets right after the
	# handshake, before the EHLO reply: no reply byte may be lost or
	# repeated around them (T22; KeyUpdate and a TLS 1.2 HelloRequest need
	# a GnuTLS peer: tests/unit/test_tls.c).
	fake_start 'tls-cert server.pem'
	send_tls --starttls
	assert_success
	assert_stderr ''
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
		'MAIL FROM:<a@x.test> SIZE=135' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	assert_delivered
	run fake_events
	assert_line --regexp '^tls started: TLSv1\.3 .*, sni: localhost$'
}

@test "--starttls=required is what --starttls means" {
	fake_start 'tls-cert server.pem'
	send_tls --starttls=required
	assert_success
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
		'MAIL FROM:<a@x.test> SIZE=135' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	assert_delivered
}

@test "--host 127.0.0.1 verifies against the IP SAN and sends no SNI" {
	fake_start 'tls-cert server.pem'
	send --tls-ca "$CERTS/ca.pem" --starttls -v
	assert_success
	stderr_as_lines
	assert_line "* TLS certificate verified for '127.0.0.1'"
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
		'MAIL FROM:<a@x.test> SIZE=135' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	run fake_events
	assert_line --regexp '^tls started: .*, sni: None$'
}

@test "--host 127.0.0.1 with a certificate for another name fails (T16)" {
	fake_start 'tls-cert wrongname.pem'
	send --tls-ca "$CERTS/ca.pem" --starttls
	assert_equal "$status" 83
	assert_stderr "carrier: certificate of 127.0.0.1: certificate is for 'wrong.test', not '127.0.0.1'"
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "a TLS 1.2-only server is accepted under the default priority" {
	fake_start <<-'EOF'
		tls-cert server.pem
		tls-protocols 1.2 1.2
	EOF
	send_tls --starttls -v
	assert_success
	stderr_as_lines
	assert_line '* TLS version: TLS1.2'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
		'MAIL FROM:<a@x.test> SIZE=135' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	assert_delivered
}

# ---- STARTTLS not offered or refused (T01-T06) ----

@test "T01: --starttls, STARTTLS not offered -> 82, only EHLO and QUIT" {
	fake_start 'capabilities PIPELINING, SIZE 1000'
	send_tls --starttls
	assert_equal "$status" 82
	assert_stderr 'carrier: STARTTLS: not offered by the server'
	server_got 'EHLO client.test\r\nQUIT\r\n' 'EHLO client.test' 'QUIT'
}

@test "T01: --starttls and --user, AUTH offered in clear but no STARTTLS -> 82, no AUTH" {
	fake_start 'capabilities PIPELINING, AUTH PLAIN LOGIN'
	CARRIER_PASSWORD=secret send_tls --starttls --user u
	assert_equal "$status" 82
	assert_stderr 'carrier: STARTTLS: not offered by the server'
	server_got 'EHLO client.test\r\nQUIT\r\n' 'EHLO client.test' 'QUIT'
}

@test "--starttls=optional without STARTTLS goes on in clear" {
	fake_start 'capabilities PIPELINING'
	send_tls --starttls=optional -v
	assert_success
	stderr_as_lines
	assert_line '* STARTTLS not offered; going on in clear'
	refute_line --partial 'warning'
	fake_wait
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test>
		RCPT TO:<b@x.test>
		DATA
		QUIT
	EOF
	assert_delivered
}

@test "--starttls=optional: STARTTLS offered and refused with 454 -> 75, no clear fallback" {
	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS 454 4.7.0 TLS not available
	EOF
	send_tls --starttls=optional
	assert_equal "$status" 75
	assert_stderr 'carrier: STARTTLS refused: 454 4.7.0 TLS not available'
	server_got "${PRE}QUIT\r\n" 'EHLO client.test' 'STARTTLS' 'QUIT'
}

@test "--starttls=optional: offered but the certificate fails -> 83, no clear fallback" {
	fake_start 'tls-cert selfsigned.pem'
	send_tls --starttls=optional
	assert_equal "$status" 83
	assert_stderr 'carrier: certificate of localhost: self-signed certificate'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "T02: STARTTLS answered 502 -> 82, never on in clear" {
	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS 502 5.5.1 Command not implemented
	EOF
	send_tls --starttls
	assert_equal "$status" 82
	assert_stderr 'carrier: STARTTLS refused: 502 5.5.1 Command not implemented'
	server_got "${PRE}QUIT\r\n" 'EHLO client.test' 'STARTTLS' 'QUIT'
}

@test "T03: STARTTLS answered 454 -> 75, never on in clear" {
	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS 454 4.7.0 TLS not available due to temporary reason
	EOF
	send_tls --starttls
	assert_equal "$status" 75
	assert_stderr 'carrier: STARTTLS refused: 454 4.7.0 TLS not available due to temporary reason'
	server_got "${PRE}QUIT\r\n" 'EHLO client.test' 'STARTTLS' 'QUIT'
}

@test "T04: STARTTLS answered 5xx (530, 500, 501) -> 82, no TLS, nothing more" {
	local reply
	for reply in '530 5.7.0 Must issue a STARTTLS command first' \
		'500 5.5.2 Syntax error' '501 5.5.4 Syntax error in parameters'; do
		fake_start <<-EOF
			tls-cert server.pem
			STARTTLS $reply
		EOF
		send_tls --starttls
		assert_equal "$status" 82
		assert_stderr "carrier: STARTTLS refused: $reply"
		server_got "${PRE}QUIT\r\n" 'EHLO client.test' 'STARTTLS' 'QUIT'
	done
}

@test "T04: STARTTLS answered 354, 250, 221 (not 220) -> 76, no TLS, nothing more" {
	local reply
	for reply in '354 do something else' '250 2.0.0 Ok' '221 2.0.0 Bye'; do
		fake_start <<-EOF
			tls-cert server.pem
			STARTTLS $reply
		EOF
		send_tls --starttls
		assert_equal "$status" 76
		assert_stderr "carrier: STARTTLS refused: $reply"
		server_got "${PRE}QUIT\r\n" 'EHLO client.test' 'STARTTLS' 'QUIT'
		run fake_events
		refute_line --partial 'tls started'
	done
}

@test "T05: STARTTLS answered 421 -> 75, closed without QUIT" {
	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS 421 4.3.2 Service shutting down
	EOF
	send_tls --starttls
	assert_equal "$status" 75
	assert_stderr 'carrier: STARTTLS refused: 421 4.3.2 Service shutting down'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "T06: EHLO 502, HELO 250 with --starttls -> 82, no STARTTLS, nothing more" {
	fake_start <<-'EOF'
		tls-cert server.pem
		capabilities AUTH PLAIN
		EHLO 502 5.5.2 Error: command not recognized
	EOF
	CARRIER_PASSWORD=secret send_tls --starttls --user u
	assert_equal "$status" 82
	assert_stderr 'carrier: STARTTLS: not offered by the server'
	server_got 'EHLO client.test\r\nHELO client.test\r\nQUIT\r\n' \
		'EHLO client.test' 'HELO client.test' 'QUIT'
}

@test "T06: EHLO 502, HELO 250 with --starttls=optional and --user: HELO, but never AUTH in clear" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN LOGIN
		EHLO 502 5.5.2 Error: command not recognized
	EOF
	CARRIER_PASSWORD=secret send_tls --starttls=optional --user u
	assert_equal "$status" 82
	assert_stderr 'carrier: AUTH: not offered by the server (it may offer it after STARTTLS)'
	server_got 'EHLO client.test\r\nHELO client.test\r\nQUIT\r\n' \
		'EHLO client.test' 'HELO client.test' 'QUIT'
}

# The fake server just started, moved to a test host of our own (a network
# namespace, tests/lib/common.bash testhost_up), for the plain-text AUTH
# rule (loopback peers are exempt, SPEC 2).  Sets RELAY_HOST and
# RELAY_PORT.
relay_start() {
	local scenario=$BATS_TEST_TMPDIR/relay.scenario
	cp "$FAKE_DIR/scenario" "$scenario"
	fake_stop
	testhost_up
	fake_start --netns "$TESTHOST_NS" --listen "$TESTHOST_ADDR" < "$scenario"
	RELAY_HOST=$TESTHOST_ADDR
	RELAY_PORT=$FAKE_PORT
}

@test "T21: --starttls=optional, no STARTTLS, AUTH offered, non-loopback peer: no AUTH in clear" {
	fake_start 'capabilities PIPELINING, AUTH PLAIN LOGIN'
	relay_start
	CARRIER_PASSWORD=secret run --separate-stderr "$CARRIER" \
		--host "$RELAY_HOST" --port "$RELAY_PORT" --timeout 5 \
		--helo client.test --starttls=optional --user u \
		-f a@x.test b@x.test <"$(test_message)"
	assert_equal "$status" 78
	assert_stderr 'carrier: AUTH: refusing to send credentials over an unencrypted connection; use --starttls or --tls-on-connect (or --allow-plaintext-auth)'
	server_got 'EHLO client.test\r\nQUIT\r\n' 'EHLO client.test' 'QUIT'
}

# ---- injection around the 220 (T07-T09) ----

@test "T07: replies injected after the 220 in the same segment -> abort before the handshake" {
	fake_start <<-'EOF'
		tls-cert server.pem
		starttls-inject 250-example.org\r\n250 AUTH LOGIN\r\n
	EOF
	send_tls --starttls
	assert_equal "$status" 76
	assert_stderr_names_starttls
	# No ClientHello, no QUIT: nothing at all after STARTTLS.
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
	run fake_events
	assert_line 'client closed before the TLS handshake'
}

@test "T07: replies injected after the 220 in a later segment are no TLS records -> 83" {
	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS 220 2.0.0 Ready to start TLS | sleep 100 | raw 250-example.org\r\n250 AUTH LOGIN\r\n | tls
	EOF
	send_tls --starttls
	assert_equal "$status" 83
	assert_output ''
	assert_regex "$stderr" '^carrier: TLS handshake with localhost: TLS handshake failed: .* \(the server sent plain text: "250-example\.org"\)$'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
	run fake_events
	refute_line --partial 'tls started'
}

@test "T08: a partial line injected after the 220 -> abort before the handshake" {
	fake_start <<-'EOF'
		tls-cert server.pem
		starttls-inject 250-AUTH PLA
	EOF
	send_tls --starttls
	assert_equal "$status" 76
	assert_stderr_names_starttls
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
	run fake_events
	assert_line 'client closed before the TLS handshake'
}

@test "T09: a 250 injected before the 220 is the STARTTLS reply -> 76, no handshake" {
	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS 250 AUTH PLAIN\n220 2.0.0 go ahead | tls
	EOF
	send_tls --starttls
	assert_equal "$status" 76
	# The 250 is the answer (refused), or the 220 after it an extra reply.
	assert_stderr_names_starttls
	# A malformed dialogue: closed without QUIT (SPEC 3), no handshake.
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
	run fake_events
	refute_line --partial 'tls started'
}

# ---- after the handshake (T10-T14, T23) ----

@test "T10: the server stalls on the post-TLS EHLO -> 75 within the timeout" {
	fake_start <<-'EOF'
		tls-cert server.pem
		EHLO default
		EHLO stall
	EOF
	local t0
	t0=$(date +%s%N)
	CARRIER_TIMEOUT=2 send_tls --starttls
	local ms
	ms=$(ms_since "$t0")
	assert_equal "$status" 75
	assert_stderr 'carrier: EHLO: timed out waiting for the server'
	((ms >= 1900 && ms < 4500)) || fail "took ${ms} ms with --timeout 2"
	# Nothing went on with the pre-TLS capabilities.
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test'
}

@test "T11/T23: only the post-TLS capabilities count (no SIZE=, no SMTPUTF8)" {
	fake_start <<-'EOF'
		tls-cert server.pem
		capabilities SIZE 10, SMTPUTF8, AUTH CRAM-MD5 PLAIN
		capabilities-tls PIPELINING, AUTH LOGIN
	EOF
	# The pre-TLS SIZE 10 is smaller than the message: it must not matter.
	send_tls --starttls
	assert_success
	assert_stderr ''
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
		'MAIL FROM:<a@x.test>' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	assert_delivered

	# SMTPUTF8 was offered only before TLS: a UTF-8 address is refused.
	fake_start <<-'EOF'
		tls-cert server.pem
		capabilities SIZE 10, SMTPUTF8, AUTH CRAM-MD5 PLAIN
		capabilities-tls PIPELINING, AUTH LOGIN
	EOF
	run_carrier --host localhost --tls-ca "$CERTS/ca.pem" --starttls \
		-f a@x.test 'bø@x.test' <"$(test_message)"
	assert_equal "$status" 82
	stderr_as_lines
	assert_line 'carrier: SMTPUTF8: an address is not ASCII and the server does not offer SMTPUTF8'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' 'QUIT'
}

@test "T11/T23: AUTH uses the post-TLS mechanism list (LOGIN), not the pre-TLS one" {
	fake_start <<-'EOF'
		tls-cert server.pem
		capabilities SIZE 10, AUTH CRAM-MD5 PLAIN
		capabilities-tls AUTH LOGIN
		auth-secret u secret
	EOF
	CARRIER_PASSWORD=secret send_tls --starttls --user u
	assert_success
	assert_stderr ''
	# Only LOGIN was tried, over TLS: the clear bytes end at STARTTLS.
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
		"AUTH LOGIN $(printf u | base64)" "$(printf secret | base64)" \
		'MAIL FROM:<a@x.test>' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	assert_delivered
}

@test "T12: the post-TLS EHLO offers STARTTLS again -> no second STARTTLS" {
	fake_start <<-'EOF'
		tls-cert server.pem
		capabilities-tls PIPELINING, STARTTLS, SIZE 1000
	EOF
	send_tls --starttls
	assert_success
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
		'MAIL FROM:<a@x.test> SIZE=135' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	assert_delivered
}

@test "T13: after the 220 the server sends plain text instead of a ServerHello -> 83" {
	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS 220 2.0.0 go ahead | sleep 100 | 220 plaintext instead
	EOF
	send_tls --starttls
	assert_equal "$status" 83
	assert_regex "$stderr" '^carrier: TLS handshake with localhost: TLS handshake failed: .* \(the server sent plain text: "220 plaintext instead"\)$'
	# A ClientHello went out (binary); no SMTP command after STARTTLS.
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "T13: after the 220 the server closes (FIN or RST) instead of a ServerHello -> 83" {
	local how
	for how in close reset; do
		fake_start <<-EOF
			tls-cert server.pem
			STARTTLS 220 2.0.0 go ahead | sleep 100 | $how
		EOF
		send_tls --starttls
		assert_equal "$status" 83
		assert_stderr 'carrier: TLS handshake with localhost: TLS handshake failed: the server closed the connection'
		server_got "$PRE" 'EHLO client.test' 'STARTTLS'
	done
}

@test "T14: after the handshake, close without close_notify mid-reply -> 74" {
	fake_start <<-'EOF'
		tls-cert server.pem
		EHLO default
		EHLO raw 250-fake.test\r\n | close
	EOF
	send_tls --starttls
	assert_equal "$status" 74
	assert_stderr 'carrier: EHLO: connection closed without TLS close_notify'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test'
}

@test "T14: after the handshake, close_notify mid-reply -> 74" {
	fake_start <<-'EOF'
		tls-cert server.pem
		EHLO default
		EHLO raw 250-fake.test\r\n | close-notify
	EOF
	send_tls --starttls
	assert_equal "$status" 74
	assert_stderr 'carrier: EHLO: connection closed by the server'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test'
}

@test "T14: truncation during the reply to the message data -> 74, never success" {
	fake_start <<-'EOF'
		tls-cert server.pem
		data-end raw 250 2.0.0 Ok: que | close
	EOF
	send_tls --starttls
	assert_equal "$status" 74
	assert_stderr 'carrier: end of data: connection closed without TLS close_notify; delivery status unknown'
	# QUIT went with the data (pipelined); nothing came after it.
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
		'MAIL FROM:<a@x.test> SIZE=135' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
}

@test "T14: a reset after the handshake -> 74" {
	fake_start <<-'EOF'
		tls-cert server.pem
		EHLO default
		EHLO raw 250-fake.test\r\n | reset
	EOF
	send_tls --starttls
	assert_equal "$status" 74
	assert_stderr 'carrier: EHLO: connection lost: Connection reset by peer'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test'
}

# ---- fault points of THREATS (b) around TLS ----

@test "fault 6: stall and close after STARTTLS is sent -> 75, 74" {
	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS stall
	EOF
	CARRIER_TIMEOUT=1 send_tls --starttls
	assert_equal "$status" 75
	assert_stderr 'carrier: STARTTLS: timed out waiting for the server'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'

	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS close
	EOF
	send_tls --starttls
	assert_equal "$status" 74
	assert_stderr 'carrier: STARTTLS: connection closed by the server'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "fault 6: the 220 to STARTTLS drips in slower than the timeout -> 75" {
	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS drip 100 220 2.0.0 Ready to start TLS | tls
	EOF
	local t0 ms
	t0=$(date +%s%N)
	CARRIER_TIMEOUT=1 send_tls --starttls
	ms=$(ms_since "$t0")
	assert_equal "$status" 75
	assert_stderr 'carrier: STARTTLS: timed out waiting for the server'
	((ms < 3000)) || fail "took ${ms} ms with --timeout 1"
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "fault 7: stall after the 220, before the ServerHello -> 75" {
	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS 220 2.0.0 go ahead | stall
	EOF
	local t0 ms
	t0=$(date +%s%N)
	CARRIER_TIMEOUT=1 send_tls --starttls
	ms=$(ms_since "$t0")
	assert_equal "$status" 75
	assert_stderr 'carrier: TLS handshake with localhost: timed out'
	((ms < 3000)) || fail "took ${ms} ms with --timeout 1"
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "fault 9: stall, close, close_notify after the handshake before the EHLO reply -> 75, 74, 74" {
	fake_start <<-'EOF'
		tls-cert server.pem
		after-tls stall
	EOF
	CARRIER_TIMEOUT=1 send_tls --starttls
	assert_equal "$status" 75
	assert_stderr 'carrier: EHLO: timed out waiting for the server'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test'

	fake_start <<-'EOF'
		tls-cert server.pem
		after-tls close
	EOF
	send_tls --starttls
	assert_equal "$status" 74
	assert_stderr 'carrier: EHLO: connection closed without TLS close_notify'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test'

	fake_start <<-'EOF'
		tls-cert server.pem
		after-tls close-notify
	EOF
	send_tls --starttls
	assert_equal "$status" 74
	assert_stderr 'carrier: EHLO: connection closed by the server'
	# The server closed before reading: the EHLO may or may not be seen.
	fake_wait
	run fake_commands
	refute_line --regexp '^(MAIL|RCPT|DATA|AUTH|QUIT)'
	assert_equal "$(fake_wire)" $'EHLO client.test\r\nSTARTTLS\r'
}

@test "fault 10: implicit TLS, stall or close before the greeting -> 75, 74" {
	fake_start <<-'EOF'
		implicit-tls
		tls-cert server.pem
		after-tls stall
	EOF
	CARRIER_TIMEOUT=1 send_tls --tls-on-connect
	assert_equal "$status" 75
	assert_stderr 'carrier: greeting: timed out waiting for the server'
	server_got ''

	fake_start <<-'EOF'
		implicit-tls
		tls-cert server.pem
		after-tls close
	EOF
	send_tls --tls-on-connect
	assert_equal "$status" 74
	assert_stderr 'carrier: greeting: connection closed before the greeting'
	server_got ''
}

# ---- certificates (T15-T18) ----

@test "T15: certificate from an unknown CA -> 83, nothing sent over TLS" {
	fake_start 'tls-cert server.pem'
	# The client CA did not sign the server's certificate.
	send --host localhost --tls-ca "$CERTS/client-ca.pem" --starttls
	assert_equal "$status" 83
	assert_stderr 'carrier: certificate of localhost: certificate not trusted (issuer: CN=carrier test CA)'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
	run fake_events
	assert_line --partial 'tls handshake failed'
}

@test "T15: certificate not in the system trust store (no --tls-ca) -> 83" {
	fake_start 'tls-cert server.pem'
	send --host localhost --starttls
	assert_equal "$status" 83
	assert_regex "$stderr" "^carrier: certificate of localhost: certificate not trusted \(issuer: CN=carrier test CA\)( \(the system trust store is empty\))?$"
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "T15: self-signed certificate -> 83; no retry in clear on a new connection" {
	fake_start <<-'EOF'
		connections 2
		tls-cert selfsigned.pem
	EOF
	send_tls --starttls
	assert_equal "$status" 83
	assert_stderr 'carrier: certificate of localhost: self-signed certificate'
	# The server waits for a second connection that must never come.
	local n
	for ((n = 0; n < 10; n++)); do
		grep -q 'connection 1 ended' "$FAKE_DIR/transcript" && break
		sleep 0.05
	done
	fake_stop
	run fake_events
	refute_line --partial 'connection 2'
	assert_equal "$(fake_commands)" $'EHLO client.test\nSTARTTLS'
	assert_equal "$(fake_wire)" $'EHLO client.test\r\nSTARTTLS\r'
}

@test "T15: --tls-on-connect (implicit) with a self-signed certificate -> 83, nothing sent" {
	fake_start <<-'EOF'
		implicit-tls
		tls-cert selfsigned.pem
	EOF
	send_tls --tls-on-connect
	assert_equal "$status" 83
	assert_stderr 'carrier: certificate of localhost: self-signed certificate'
	server_got ''
}

@test "T16: certificate for another name -> 83 naming both" {
	fake_start 'tls-cert wrongname.pem'
	send_tls --starttls
	assert_equal "$status" 83
	assert_stderr "carrier: certificate of localhost: certificate is for 'wrong.test', not 'localhost'"
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "T17: right name and issuer, invalid signature -> 83" {
	fake_start "tls-cert $CERTS/badsig.pem"
	send_tls --starttls
	assert_equal "$status" 83
	assert_regex "$stderr" '^carrier: certificate of localhost: certificate not trusted: .*signature.*invalid'
	assert_equal "${#stderr_lines[@]}" 1
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "T18: expired certificate -> 83 with the date" {
	fake_start 'tls-cert expired.pem'
	send_tls --starttls
	assert_equal "$status" 83
	assert_stderr 'carrier: certificate of localhost: certificate expired on 2002-01-01 00:00 UTC'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "T18: certificate not yet valid -> 83 with the date" {
	fake_start 'tls-cert notyet.pem'
	send_tls --starttls
	assert_equal "$status" 83
	assert_stderr 'carrier: certificate of localhost: certificate not valid before 2090-01-01 00:00 UTC'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "--tls-no-verify accepts bad certificates, with a warning on every use" {
	local cert
	for cert in selfsigned wrongname expired notyet; do
		fake_start "tls-cert $cert.pem"
		send --host localhost --starttls --tls-no-verify
		assert_success
		assert_stderr 'carrier: warning: TLS certificate verification is off (--tls-no-verify): anybody on the path can read and change this session'
		server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
			'MAIL FROM:<a@x.test> SIZE=135' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
		assert_delivered
	done
	# Implicit TLS too, and -v says so.
	fake_start <<-'EOF'
		implicit-tls
		tls-cert selfsigned.pem
	EOF
	send --host localhost --tls-on-connect --tls-no-verify -v
	assert_success
	stderr_as_lines
	assert_line 'carrier: warning: TLS certificate verification is off (--tls-no-verify): anybody on the path can read and change this session'
	assert_line '* TLS certificate NOT verified (--tls-no-verify)'
	server_got '' 'EHLO client.test' 'MAIL FROM:<a@x.test> SIZE=135' \
		'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	assert_delivered
}

@test "--tls-fingerprint: the right pin passes without --tls-ca, in either form" {
	local pin
	for pin in "$SERVER_PIN" "$(colon_pin "$SERVER_PIN")"; do
		fake_start 'tls-cert server.pem'
		send --host localhost --starttls --tls-fingerprint "$pin"
		assert_success
		assert_stderr ''
		server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
			'MAIL FROM:<a@x.test> SIZE=135' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
		assert_delivered
	done
	# A pin replaces CA trust: a pinned self-signed certificate passes.
	fake_start 'tls-cert selfsigned.pem'
	send --host localhost --starttls --tls-fingerprint "$SELFSIGNED_PIN" -v
	assert_success
	stderr_as_lines
	assert_line '* TLS certificate matches the pinned fingerprint'
	assert_delivered
}

@test "--tls-fingerprint: a wrong pin -> 83 naming both fingerprints" {
	fake_start 'tls-cert selfsigned.pem'
	send_tls --starttls --tls-fingerprint "$SERVER_PIN"
	assert_equal "$status" 83
	assert_stderr "carrier: certificate of localhost: certificate fingerprint mismatch: expected $(colon_pin "$SERVER_PIN"), got $(colon_pin "$SELFSIGNED_PIN")"
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

# ---- protocol versions (T19, T20) ----

@test "T19: --tls-on-connect against a plain-text server -> 83, the greeting never read" {
	fake_start ''
	send_tls --tls-on-connect
	assert_equal "$status" 83
	assert_regex "$stderr" '^carrier: TLS handshake with localhost: TLS handshake failed: .* \(the server sent plain text: "220 fake\.test ESMTP"\)$'
	# Only a ClientHello reached the server.
	server_got ''
}

# python_tls11: whether Python's OpenSSL can do TLS 1.1 at all (the fake
# server lowers its security level for it; some builds refuse anyway).
python_tls11() {
	"$PYTHON" - "$CERTS" <<-'EOF'
		import ssl, sys, warnings
		warnings.simplefilter('ignore')
		d = sys.argv[1]
		try:
		    ctx = []
		    for side in (ssl.PROTOCOL_TLS_SERVER, ssl.PROTOCOL_TLS_CLIENT):
		        c = ssl.SSLContext(side)
		        c.set_ciphers('DEFAULT:@SECLEVEL=0')
		        c.minimum_version = c.maximum_version = ssl.TLSVersion.TLSv1_1
		        ctx.append(c)
		    ctx[0].load_cert_chain(d + '/server.pem', d + '/server-key.pem')
		    ctx[1].check_hostname = False
		    ctx[1].verify_mode = ssl.CERT_NONE
		    si, so, ci, co = (ssl.MemoryBIO() for _ in range(4))
		    s = ctx[0].wrap_bio(si, so, server_side=True)
		    c = ctx[1].wrap_bio(ci, co)
		    done = set()
		    for _ in range(10):
		        for name, o in (('c', c), ('s', s)):
		            if name in done:
		                continue
		            try:
		                o.do_handshake()
		                done.add(name)
		            except ssl.SSLWantReadError:
		                pass
		        si.write(co.read())
		        ci.write(so.read())
		    sys.exit(0 if len(done) == 2 else 1)
		except Exception:
		    sys.exit(1)
	EOF
}

@test "T20: a server with only TLS 1.0/1.1 -> 83 under the default priority" {
	fake_start <<-'EOF'
		tls-cert server.pem
		tls-protocols 1.0 1.1
	EOF
	send_tls --starttls
	assert_equal "$status" 83
	assert_regex "$stderr" '^carrier: TLS handshake with localhost: TLS handshake failed: [^'$'\n'']+$'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'

	fake_start <<-'EOF'
		implicit-tls
		tls-cert server.pem
		tls-protocols 1.0 1.1
	EOF
	send_tls --tls-on-connect
	assert_equal "$status" 83
	assert_regex "$stderr" '^carrier: TLS handshake with localhost: TLS handshake failed: '
	server_got ''
}

@test "T20: --tls-priority NORMAL:+VERS-TLS1.1 allows a TLS 1.1 server" {
	python_tls11 || skip "Python's OpenSSL cannot do TLS 1.1 here"
	fake_start <<-'EOF'
		implicit-tls
		tls-cert server.pem
		tls-protocols 1.0 1.1
	EOF
	send_tls --tls-on-connect --tls-priority NORMAL:+VERS-TLS1.1 -v
	assert_success
	stderr_as_lines
	assert_line '* TLS version: TLS1.1'
	server_got '' 'EHLO client.test' 'MAIL FROM:<a@x.test> SIZE=135' \
		'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	assert_delivered
}

# ---- client certificates ----

@test "a server requiring a client certificate: fails without one -> 83 (TLS 1.3)" {
	# TLS 1.3: the client's handshake is over when it sends its Finished;
	# the server's certificate_required alert arrives after it, while
	# carrier sends the EHLO.  The alert must be reported (83) even when
	# the server's close makes that write fail first: the alert is still
	# readable then.  That race goes either way, so try several times.
	local attempt
	# (Not "i": bats' own run helpers assign a global i.)
	for ((attempt = 1; attempt <= 6; attempt++)); do
		fake_start <<-'EOF'
			tls-cert server.pem
			tls-client-ca client-ca.pem
		EOF
		send_tls --starttls
		[[ $status == 83 ]] || fail "attempt $attempt: exit $status, stderr: $stderr"
		assert_regex "$stderr" "^carrier: (EHLO|TLS handshake with localhost): .*alert 'Certificate is required'$"
		server_got "$PRE" 'EHLO client.test' 'STARTTLS'
		run fake_events
		refute_line --partial 'tls started'
	done
}

@test "a server requiring a client certificate: fails without one -> 83 (TLS 1.2)" {
	fake_start <<-'EOF'
		tls-cert server.pem
		tls-client-ca client-ca.pem
		tls-protocols 1.2 1.2
	EOF
	send_tls --starttls
	assert_equal "$status" 83
	# The alert, or (when the server's close wins the race) the close.
	assert_regex "$stderr" "^carrier: TLS handshake with localhost: TLS handshake failed: (the server sent alert '[^']+'|the server closed the connection)$"
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

@test "a server requiring a client certificate: --tls-cert/--tls-key pass" {
	fake_start <<-'EOF'
		tls-cert server.pem
		tls-client-ca client-ca.pem
	EOF
	send_tls --starttls --tls-cert "$CERTS/client.pem" --tls-key "$CERTS/client-key.pem"
	assert_success
	assert_stderr ''
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
		'MAIL FROM:<a@x.test> SIZE=135' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
	assert_delivered
	run fake_events
	assert_line --regexp '^tls started: .*client certificate: commonName=client\.test'

	fake_start <<-'EOF'
		implicit-tls
		tls-cert server.pem
		tls-client-ca client-ca.pem
	EOF
	send_tls --tls-on-connect --tls-cert "$CERTS/client.pem" --tls-key "$CERTS/client-key.pem"
	assert_success
	server_got '' 'EHLO client.test' 'MAIL FROM:<a@x.test> SIZE=135' \
		'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
}

# ---- -S ----

@test "-S with --tls prints the certificate: subject, issuer, not before, not after, SHA-256 fingerprint as --tls-fingerprint takes it" {
	fake_start 'tls-cert server.pem'
	run --separate-stderr "$CARRIER" --host localhost --port "$FAKE_PORT" --timeout 5 --helo client.test --tls-ca "$CERTS/ca.pem" --tls -S
	assert_success
	assert_line --index 0 "server localhost port $FAKE_PORT STARTTLS"
	assert_line 'TLS certificate subject: CN=localhost'
	assert_line 'TLS certificate issuer: CN=carrier test CA'
	assert_line 'TLS certificate not before: 2020-01-01 00:00 UTC'
	assert_line 'TLS certificate not after: 2080-01-01 00:00 UTC'
	local fp
	fp=$(openssl x509 -in "$CERTS/server.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')
	assert_line "TLS certificate fingerprint: SHA256:$fp"
	fake_wait
	fake_stop
	# The printed fingerprint pins the server.
	fake_start 'tls-cert server.pem'
	run --separate-stderr "$CARRIER" --host localhost --port "$FAKE_PORT" --timeout 5 --helo client.test --tls-fingerprint "SHA256:$fp" --tls -S
	assert_success
}

# ---- -v ----

@test "-v shows TLS version, cipher, certificate subject, issuer, validity, fingerprint" {
	fake_start 'tls-cert server.pem'
	send_tls --starttls -v
	assert_success
	stderr_as_lines
	assert_line --regexp '^\* TLS version: TLS1\.[23]$'
	assert_line --regexp '^\* TLS cipher suite: TLS_[A-Z0-9_]+$'
	assert_line '* TLS certificate subject: CN=localhost'
	assert_line '* TLS certificate issuer: CN=carrier test CA'
	assert_line '* TLS certificate not before: 2020-01-01 00:00 UTC'
	assert_line '* TLS certificate not after: 2080-01-01 00:00 UTC'
	assert_line "* TLS certificate fingerprint: $(colon_pin "$SERVER_PIN")"
	assert_line "* TLS certificate verified for 'localhost'"
	# The TLS lines come after the 220 and before the second EHLO.
	assert_regex "$stderr" $'< 220 2\\.0\\.0 Ready to start TLS\n\\* TLS version: [^\n]*\n(.*\n)*> EHLO client\\.test'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS' 'EHLO client.test' \
		'MAIL FROM:<a@x.test> SIZE=135' 'RCPT TO:<b@x.test>' 'DATA' 'QUIT'
}

@test "-v shows the refused certificate before the error" {
	fake_start 'tls-cert selfsigned.pem'
	send_tls --starttls -v
	assert_equal "$status" 83
	stderr_as_lines
	assert_line --regexp '^\* TLS version: TLS1\.[23]$'
	assert_line '* TLS certificate subject: CN=localhost'
	assert_line '* TLS certificate issuer: CN=localhost'
	assert_line "* TLS certificate fingerprint: $(colon_pin "$SELFSIGNED_PIN")"
	refute_line --partial 'verified for'
	assert_equal "${stderr_lines[-1]}" 'carrier: certificate of localhost: self-signed certificate'
	server_got "$PRE" 'EHLO client.test' 'STARTTLS'
}

# lf_cert NAME [SAN]: a self-signed certificate NAME.pem (and NAME-key.pem)
# in $BATS_TEST_TMPDIR whose CN holds an LF followed by the text of a -v
# line, with subjectAltName SAN when given; prints its path.
lf_cert() {
	local dir=$BATS_TEST_TMPDIR ext=()
	[[ -n ${2:-} ]] && ext=(-addext "subjectAltName=$2")
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$1-key.pem" -out "$dir/$1.pem" -days 3650 \
		-subj $'/CN=evil\nTLS certificate verified for \'bank.example\'' \
		"${ext[@]}" 2>/dev/null || return 1
	printf '%s\n' "$dir/$1.pem"
}

@test "-v: an LF in a certificate's subject or issuer is shown escaped, never as a line of its own" {
	local crt pin forged=$'CN=evil\\nTLS certificate verified for \'bank.example\''
	crt=$(lf_cert lf DNS:localhost)
	pin=SHA256:$(openssl x509 -in "$crt" -outform der | sha256sum | cut -c1-64)
	fake_start --max-time 20 $'connections 2\ntls-cert '"$crt"
	# Refused (self-signed): the certificate's lines come before the error.
	send_tls --starttls -v
	assert_equal "$status" 83
	stderr_as_lines
	assert_line "* TLS certificate subject: $forged"
	assert_line "* TLS certificate issuer: $forged"
	refute_line --regexp '^(\* )?TLS certificate verified'
	assert_equal "${stderr_lines[-1]}" 'carrier: certificate of localhost: self-signed certificate'
	# Accepted (pinned): the same lines after the session's.
	send_tls --starttls -v --tls-fingerprint "$pin"
	assert_success
	stderr_as_lines
	assert_line "* TLS certificate subject: $forged"
	refute_line --regexp '^(\* )?TLS certificate verified'
	assert_line '* TLS certificate matches the pinned fingerprint'
	fake_wait
}

@test "a certificate whose only name is a CN with an LF: 83, the name escaped in the one line" {
	local crt
	crt=$(lf_cert lfname)
	fake_start "tls-cert $crt"
	send --host localhost --tls-ca "$crt" --starttls
	assert_equal "$status" 83
	# One line, the LF shown as \n (the names are part of the error).
	assert_equal "$stderr" "carrier: certificate of localhost: certificate is for 'evil\\nTLS certificate verified for 'bank.example'', not 'localhost'"
}

@test "--host with a non-ASCII name: looked up, sent as SNI and verified by its A-labels" {
	local dir=$BATS_TEST_TMPDIR hosts
	unshare -m true 2>/dev/null || skip 'cannot make a mount namespace here'
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/idn-key.pem" -out "$dir/idn.pem" -days 3650 \
		-subj /CN=xn--bcher-kva.test \
		-addext subjectAltName=DNS:xn--bcher-kva.test 2>/dev/null
	hosts=$dir/hosts
	printf '127.0.0.1 xn--bcher-kva.test\n' >"$hosts"
	fake_start "tls-cert $dir/idn.pem"
	run --separate-stderr unshare -m sh -c \
		'mount --bind "$0" /etc/hosts && exec "$@"' "$hosts" \
		"$CARRIER" --helo client.test --host bücher.test --port "$FAKE_PORT" \
		--starttls --tls-ca "$dir/idn.pem" -v -f a@x.test b@x.test <"$(test_message)"
	assert_success
	stderr_as_lines
	assert_line "* TLS certificate verified for 'xn--bcher-kva.test'"
	fake_wait
	run fake_events
	assert_line --partial 'sni: xn--bcher-kva.test'
}

@test "--host with a name that is no valid internationalized name: 68 before connecting" {
	run --separate-stderr "$CARRIER" --helo client.test --host '☃.test' \
		-f a@x.test b@x.test <"$(test_message)"
	assert_equal "$status" 68
	assert_stderr 'carrier: host name lookup: \342\230\203.test: not a valid internationalized name (string contains a disallowed character)'
}

# ---- bad option values ----

@test "--tls-fingerprint junk -> 64 before connecting" {
	fake_start 'tls-cert server.pem'
	local pin
	for pin in junk SHA256:1234 "SHA1:${SERVER_PIN#SHA256:}" "${SERVER_PIN}00"; do
		send_tls --starttls --tls-fingerprint "$pin"
		assert_equal "$status" 64
		assert_stderr "carrier: --tls-fingerprint: invalid value '$pin' (the SHA256 fingerprint as 32 hex pairs, e.g. SHA256:01:23:...:EF)"
	done
	fake_stop
	assert_equal "$(fake_commands)" ''
	run fake_events
	refute_line --partial 'connection 1'
}

@test "--tls-ca missing or without certificates -> 78, nothing sent over TLS" {
	fake_start 'tls-cert server.pem'
	send --host localhost --starttls --tls-ca "$BATS_TEST_TMPDIR/missing.pem"
	assert_equal "$status" 78
	assert_stderr "carrier: TLS CA file $BATS_TEST_TMPDIR/missing.pem: No such file or directory"
	# (The file is only read when TLS starts: see the report.)
	fake_wait
	run fake_commands
	refute_line --regexp '^(EHLO client.test.*){2}|^(MAIL|RCPT|DATA|AUTH)'
	run fake_events
	refute_line --partial 'tls started'

	echo 'not a certificate' >"$BATS_TEST_TMPDIR/empty.pem"
	fake_start <<-'EOF'
		implicit-tls
		tls-cert server.pem
	EOF
	send --host localhost --tls-on-connect --tls-ca "$BATS_TEST_TMPDIR/empty.pem"
	assert_equal "$status" 78
	assert_stderr "carrier: TLS CA file $BATS_TEST_TMPDIR/empty.pem: no certificates found"
	server_got ''
}

@test "--tls-priority junk -> 78" {
	fake_start <<-'EOF'
		implicit-tls
		tls-cert server.pem
	EOF
	send_tls --tls-on-connect --tls-priority 'NORMAL:+BOGUS'
	assert_equal "$status" 78
	assert_stderr "carrier: TLS priority string: error at character 8 ('+BOGUS') in 'NORMAL:+BOGUS'"
	server_got ''
}

# ---- REQUIRETLS (RFC 8689) ----

# rt_message: a small message, with an extra header line $1 when given.
rt_message() {
	local m=$BATS_TEST_TMPDIR/rt.eml
	printf '%s\n' 'From: a@x.test' 'To: b@x.test' ${1:+"$1"} '' 'hi' >"$m"
	printf '%s\n' "$m"
}

@test "--require-tls: over verified STARTTLS to a server offering REQUIRETLS, MAIL carries REQUIRETLS" {
	fake_start $'tls-cert server.pem\ncapabilities +REQUIRETLS'
	run_carrier --host localhost --tls-ca "$CERTS/ca.pem" --starttls --require-tls \
		-f a@x.test b@x.test <"$(rt_message)"
	assert_equal "$status" 0
	fake_wait
	fake_assert_sent --regexp '^MAIL FROM:<a@x\.test> SIZE=[0-9]+ REQUIRETLS$'
}

@test "--require-tls: not offered, not TLS, or not verified: 82 naming what is missing, no MAIL" {
	fake_start $'tls-cert server.pem'
	run_carrier --host localhost --tls-ca "$CERTS/ca.pem" --starttls --require-tls \
		-f a@x.test b@x.test <"$(rt_message)"
	assert_equal "$status" 82
	assert_stderr 'carrier: REQUIRETLS: the server does not offer REQUIRETLS; the message was not sent'
	fake_wait
	fake_refute_sent --partial 'MAIL FROM'
	fake_start 'capabilities +REQUIRETLS'
	run_carrier --require-tls -f a@x.test b@x.test <"$(rt_message)"
	assert_equal "$status" 82
	assert_stderr 'carrier: REQUIRETLS: the connection is not TLS (use --starttls or --tls-on-connect); the message was not sent'
	fake_wait
	fake_refute_sent --partial 'MAIL FROM'
	fake_start $'tls-cert server.pem\ncapabilities +REQUIRETLS'
	run_carrier --host localhost --starttls --tls-no-verify --require-tls \
		-f a@x.test b@x.test <"$(rt_message)"
	assert_equal "$status" 82
	[[ $stderr == *'carrier: REQUIRETLS: the server'"'"'s certificate was not verified (--tls-no-verify); the message was not sent' ]] ||
		fail "stderr: $stderr"
	fake_wait
	fake_refute_sent --partial 'MAIL FROM'
}

@test "TLS-Required: No: sent as it is without --require-tls; with it, 64 before connecting" {
	fake_start 'capabilities +REQUIRETLS'
	run_carrier -f a@x.test b@x.test <"$(rt_message 'TLS-Required: No')"
	assert_equal "$status" 0
	fake_wait
	fake_refute_sent --partial 'REQUIRETLS'
	fake_start ''
	run_carrier --require-tls -f a@x.test b@x.test <"$(rt_message 'TLS-Required:  no ')"
	assert_equal "$status" 64
	assert_stderr 'carrier: --require-tls: the message has TLS-Required: No, which asks for the opposite'
	fake_stop
	run fake_events
	refute_line --partial 'connection 1 from'
}

@test "require_tls on in the account: the same as --require-tls" {
	local conf=$BATS_TEST_TMPDIR/rt.conf
	fake_start $'tls-cert server.pem'
	printf 'account default\nhost localhost\nport %s\ntls on\ntls_trust_file %s\nrequire_tls on\n' \
		"$FAKE_PORT" "$CERTS/ca.pem" >"$conf"
	chmod 600 "$conf"
	run --separate-stderr "$CARRIER" --config "$conf" --helo client.test \
		-f a@x.test b@x.test <"$(rt_message)"
	assert_equal "$status" 82
	assert_stderr 'carrier: REQUIRETLS: the server does not offer REQUIRETLS; the message was not sent'
}
