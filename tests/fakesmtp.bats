#!/usr/bin/env bats
# Self-test of tests/fakesmtp.py and tests/lib/common.bash, without carrier:
# the fake server is driven by Python's smtplib and by raw sockets.

load lib/common

# tcp BYTES: sends BYTES (with \r, \n, \xHH escapes) to the fake server in one
# write, then prints all it answers until it closes (5 s at most).
tcp() {
	# One sendall(): the bytes reach the server in one piece, as the
	# tests of pipelined input need (a shell's printf may write twice).
	"$PYTHON" -c 'import socket, sys
data = sys.argv[1].encode("latin-1").decode("unicode_escape").encode("latin-1")
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5)
s.sendall(data)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    pass
sys.stdout.buffer.write(out)' "$1" "$FAKE_PORT"
}

# py CODE: runs Python code with smtplib, ssl, base64, os imported, PORT
# set to the fake server's port and CA to the test CA.
py() {
	"$PYTHON" -c "import os, smtplib, ssl, base64, socket, time
PORT = int(os.environ.get('FAKE_PORT') or 0)
CA = os.environ.get('CERTS', '') + '/ca.pem'
$1"
}

@test "defaults: a whole smtplib session is recorded" {
	fake_start ''
	run py '
s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.test")
print(s.ehlo("client.test"))
print(s.sendmail("a@x.test", ["b@x.test"], b"Subject: hi\r\n\r\n.dot\r\nend\r\n"))
s.quit()'
	assert_success
	assert_line "(250, b'fake.test\\nPIPELINING\\n8BITMIME\\nSIZE 10485760')"
	assert_line '{}'
	fake_wait
	fake_assert_commands <<-'EOF'
		ehlo client.test
		mail FROM:<a@x.test> size=26
		rcpt TO:<b@x.test>
		data
		quit
	EOF
	[ "$(fake_data 1)" = $'Subject: hi\r\n\r\n..dot\r\nend\r\n.\r' ]
	cmp "$FAKE_DIR/message.1" <(printf 'Subject: hi\r\n\r\n.dot\r\nend\r\n')
	run fake_transcript
	assert_line 'S: 220 fake.test ESMTP'
	assert_line 'S: 250 2.0.0 Ok: queued as FAKE1'
	assert_line '*** message data: 30 octets -> data.1'
}

@test "defaults: built-in replies over /dev/tcp, pipelined" {
	fake_start ''
	run tcp 'HELO c\r\nNOOP\r\nVRFY x\r\nEXPN x\r\nHELP\r\nRSET\r\nXYZZY\r\nRCPT TO:<b@x>\r\nDATA\r\nQUIT\r\n'
	fake_wait
	assert_equal "$(printf '%s\n' "${lines[@]}" | cut -c1-3 | tr '\n' ' ')" \
		"220 250 250 252 502 214 250 500 503 503 221 "
	assert_line $'503 5.5.1 Error: need MAIL command\r'
	assert_equal "$(fake_wire)" $'HELO c\r\nNOOP\r\nVRFY x\r\nEXPN x\r\nHELP\r\nRSET\r\nXYZZY\r\nRCPT TO:<b@x>\r\nDATA\r\nQUIT\r'
}

@test "sequences: EHLO 502 then HELO; the last entry repeats" {
	fake_start <<-'EOF'
		# the first EHLO is refused, the later ones get this too
		EHLO 502 5.5.2 Error: command not recognized
		NOOP 250 first
		NOOP 251 second
	EOF
	run py '
s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.test")
s.ehlo_or_helo_if_needed()
print(s.does_esmtp, s.noop(), s.noop(), s.noop())
s.quit()'
	assert_output "False (250, b'first') (251, b'second') (251, b'second')"
	fake_wait
	fake_assert_commands <<-'EOF'
		ehlo client.test
		helo client.test
		noop
		noop
		noop
		quit
	EOF
}

@test "replies: multi-line, escapes, raw bytes, long line" {
	fake_start <<-'EOF'
		greeting 220-first\n220-second\tt\n220 last
		NOOP raw 250 bare LF\n
		NOOP raw 250-no end\r\n250 x
		HELP long 214 20
		QUIT 221 bye\x21 | close
	EOF
	tcp 'NOOP\r\nNOOP\r\nHELP\r\nQUIT\r\n' >"$BATS_TEST_TMPDIR/out"
	fake_wait
	# Exactly these bytes: "250 x" has no line end.
	cmp "$BATS_TEST_TMPDIR/out" <(printf '220-first\r\n220-second\tt\r\n220 last\r\n250 bare LF\n250-no end\r\n250 x214 xxxxxxxxxxxxxxxxxxxx\r\n221 bye!\r\n')
	run fake_transcript
	assert_line 'S: 250 bare LF\n'
	assert_line 'S: 250 x'
	assert_line 'S: 220-second\tt'
}

@test "rcpt by address, data-end, unsolicited 421 after the reply" {
	fake_start <<-'EOF'
		rcpt bob@x.test 550 5.1.1 User unknown
		rcpt <Carol@X.test> 451 4.3.0 later
		data-end 250 2.0.0 taken | 421 4.3.2 going down | close
	EOF
	run py '
s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.test")
print(s.sendmail("a@x.test", ["bob@x.test", "carol@x.test", "dave@x.test"], "Subject: x\r\n\r\nhi\r\n"))
try:
    print(s.noop())
except smtplib.SMTPServerDisconnected as e:
    print("disconnected")'
	assert_line "{'bob@x.test': (550, b'5.1.1 User unknown'), 'carol@x.test': (451, b'4.3.0 later')}"
	assert_line "(421, b'4.3.2 going down')"
	fake_wait
	fake_assert_sent 'noop'
	run fake_events
	assert_line 'closed (FIN)'
}

@test "faults: close, reset, stall (until the client gives up), drip" {
	fake_start 'greeting close'
	run py '
try:
    smtplib.SMTP("127.0.0.1", PORT)
except smtplib.SMTPServerDisconnected as e:
    print("disconnected:", e)'
	assert_output --partial 'disconnected: Connection unexpectedly closed'
	fake_wait

	fake_start 'MAIL reset'
	run py '
s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.test")
try:
    s.mail("a@x.test")
except (ConnectionResetError, smtplib.SMTPServerDisconnected) as e:
    print(e)'
	assert_output --partial 'Connection reset by peer'
	fake_wait

	fake_start 'EHLO stall'
	run py '
s = socket.create_connection(("127.0.0.1", PORT))
s.recv(100)
s.sendall(b"EHLO client.test\r\n")
s.settimeout(0.5)
try:
    s.recv(100)
except TimeoutError:
    s.sendall(b"MORE\r\n")
    time.sleep(0.1)
    print("timeout")'
	assert_output 'timeout'
	fake_wait
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MORE
	EOF
	run fake_events
	assert_line 'stalled'
	assert_line 'client closed'

	fake_start 'NOOP drip 30 250 ok'
	run py '
s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.test")
t = time.time(); r = s.noop(); t = time.time() - t
print(r, t > 0.2)
s.quit()'
	assert_output "(250, b'ok') True"
	fake_wait
}

@test "faults: endless continuation lines stop when the client leaves" {
	fake_start 'EHLO endless 250'
	run bash -c 'exec 4<>/dev/tcp/127.0.0.1/$FAKE_PORT; printf "EHLO c\r\n" >&4; head -n 5 <&4 | tail -n 1'
	assert_output --regexp '^250-x{70}'
	fake_wait
	run fake_events
	assert_line 'endless continuation lines 250-xxx...'
	assert_line --partial 'endless lines stopped'
}

@test "faults: mid-data reset, freeze and the max-time limit" {
	fake_start 'mid-data 100 reset'
	run py '
s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.test")
try:
    s.sendmail("a@x.test", ["b@x.test"], b"x" * 100000)
except (ConnectionResetError, BrokenPipeError, smtplib.SMTPServerDisconnected) as e:
    print("lost")'
	assert_output 'lost'
	fake_wait
	run fake_events
	assert_line --regexp '^[0-9]+ octets of message data received$'
	assert_line 'reset (RST)'
	[ ! -e "$FAKE_DIR/message.1" ]

	fake_start --max-time 1 'greeting freeze'
	exec 4<>"/dev/tcp/127.0.0.1/$FAKE_PORT"
	run fake_wait 3
	exec 4>&-
	assert_failure
	assert_output --partial 'fake_wait: fakesmtp exited with status 3'
	run fake_events
	assert_line 'frozen: not reading any more'
	assert_line 'max-time (1s) reached: exiting'
}

@test "STARTTLS: smtplib with the test CA, capabilities-tls, SNI" {
	need_certs
	fake_start <<-'EOF'
		tls-cert server.pem
		capabilities PIPELINING, AUTH PLAIN
		capabilities-tls +SIZE 1000
	EOF
	run py '
s = smtplib.SMTP("localhost", PORT)
s.ehlo("client.test")
print(sorted(s.esmtp_features))
s.starttls(context=ssl.create_default_context(cafile=CA))
s.ehlo("client.test")
print(sorted(s.esmtp_features))
s.sendmail("a@x.test", ["b@x.test"], "Subject: x\r\n\r\nsecret\r\n")
s.quit()'
	assert_success
	assert_line "['auth', 'pipelining', 'starttls']"
	assert_line "['auth', 'pipelining', 'size']"
	fake_wait
	run fake_events
	assert_line --regexp '^tls started: TLSv1.3 .*, sni: localhost$'
	# Nothing after STARTTLS went in clear.
	assert_equal "$(fake_wire)" $'ehlo client.test\r\nSTARTTLS\r'
	assert_equal "$(fake_message 1)" $'Subject: x\r\n\r\nsecret\r'
	fake_assert_sent 'mail FROM:<a@x.test> size=22'
}

@test "STARTTLS: handshake refused by the client, 454, plaintext after 220" {
	need_certs
	fake_start 'tls-cert selfsigned.pem'
	run py '
s = smtplib.SMTP("localhost", PORT)
try:
    s.starttls(context=ssl.create_default_context(cafile=CA))
except ssl.SSLCertVerificationError as e:
    print("verify failed")'
	assert_output 'verify failed'
	fake_wait
	run fake_events
	assert_line --partial 'tls handshake failed'

	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS 454 4.7.0 not now
	EOF
	run tcp 'STARTTLS\r\nQUIT\r\n'
	assert_line $'454 4.7.0 not now\r'
	fake_wait

	fake_start <<-'EOF'
		tls-cert server.pem
		STARTTLS 220 go ahead | 220 plaintext instead
	EOF
	run tcp 'STARTTLS\r\nQUIT\r\n'
	assert_line $'220 plaintext instead\r'
	fake_wait
}

@test "STARTTLS injection: bytes in the same send, clear data recorded" {
	need_certs
	fake_start <<-'EOF'
		tls-cert server.pem
		starttls-inject 250-fake.test\r\n250 AUTH PLAIN\r\n
	EOF
	# A client that sends EHLO in clear after the 220 (instead of a TLS
	# ClientHello) is recorded; the server then stays in clear.
	run bash -c 'exec 4<>/dev/tcp/127.0.0.1/$FAKE_PORT
		printf "STARTTLS\r\n" >&4; sleep 0.2; printf "EHLO c\r\nQUIT\r\n" >&4
		timeout 5 cat <&4'
	assert_equal "${lines[1]}" $'220 2.0.0 Ready to start TLS\r'
	assert_equal "${lines[2]}" $'250-fake.test\r'
	assert_equal "${lines[3]}" $'250 AUTH PLAIN\r'
	fake_wait
	run fake_events
	assert_line 'client sent plaintext instead of a TLS handshake; staying in clear'
	fake_assert_commands <<-'EOF'
		STARTTLS
		EHLO c
		QUIT
	EOF
	# The injected bytes went out with the 220 in one send().
	run fake_transcript
	assert_line 'S: 250 AUTH PLAIN'

	# A client that pipelines after STARTTLS.
	fake_start 'tls-cert server.pem'
	run tcp 'STARTTLS\r\nMAIL FROM:<a@x>\r\nQUIT\r\n'
	fake_wait
	run fake_events
	assert_line --regexp 'client sent [0-9]+ bytes in clear after STARTTLS, before the handshake: MAIL FROM:<a@x>'
}

@test "TLS faults: post-TLS EHLO stall, close with and without close_notify" {
	need_certs
	fake_start <<-'EOF'
		tls-cert server.pem
		EHLO default
		EHLO stall
	EOF
	run py '
s = smtplib.SMTP("localhost", PORT, timeout=0.5)
s.starttls(context=ssl.create_default_context(cafile=CA))
try:
    s.ehlo()
except (TimeoutError, smtplib.SMTPServerDisconnected) as e:
    print(e)'
	assert_output --partial 'timed out'
	fake_wait

	for how in close close-notify; do
		fake_start <<-EOF
			tls-cert server.pem
			after-tls $how
		EOF
		run py '
s = smtplib.SMTP("localhost", PORT)
s.starttls(context=ssl.create_default_context(cafile=CA))
try:
    s.ehlo()
except smtplib.SMTPServerDisconnected:
    print("disconnected")'
		assert_output 'disconnected'
		fake_wait
		run fake_events
		if [ "$how" = close ]; then
			assert_line 'closed (FIN) without close_notify'
		else
			assert_line --regexp '^tls close_notify (sent|exchanged)'
		fi
	done
}

@test "TLS options: hostname, starttls-hidden, tls-protocols, QUIT close_notify" {
	need_certs
	fake_start <<-'EOF'
		hostname mx.fake.test
		tls-cert server.pem
		starttls-hidden
		tls-protocols 1.2 1.2
	EOF
	run py '
s = smtplib.SMTP("localhost", PORT)
print(s.ehlo())
print(s.docmd("STARTTLS"))
s.sock = ssl.create_default_context(cafile=CA).wrap_socket(s.sock, server_hostname="localhost")
s.file = None
print(s.ehlo()[0])
s.quit()'
	assert_output "(250, b'mx.fake.test\\nPIPELINING\\n8BITMIME\\nSIZE 10485760')
(220, b'2.0.0 Ready to start TLS')
250"
	fake_wait
	run fake_events
	assert_line --regexp '^tls started: TLSv1.2 '
	# Python's client may close before our close_notify lands.
	assert_line --regexp '^tls close_notify (exchanged|sent)'
}

@test "implicit TLS and a client certificate (AUTH EXTERNAL)" {
	need_certs
	fake_start <<-'EOF'
		implicit-tls
		tls-cert server.pem
		tls-client-ca client-ca.pem
		capabilities AUTH EXTERNAL
	EOF
	run py '
ctx = ssl.create_default_context(cafile=CA)
ctx.load_cert_chain(os.environ["CERTS"] + "/client.pem", os.environ["CERTS"] + "/client-key.pem")
s = smtplib.SMTP_SSL("localhost", PORT, context=ctx)
print(s.ehlo())
print(s.docmd("AUTH", "EXTERNAL ="))
s.quit()'
	assert_line "(250, b'fake.test\\nAUTH EXTERNAL')"
	assert_line "(235, b'2.7.0 Authentication successful')"
	fake_wait
	run fake_events
	assert_line --regexp 'tls started: .*client certificate: commonName=client.test'
	assert_equal "$(fake_wire)" ''
}

@test "AUTH: scripted exchange, exact client lines, refused and endless" {
	fake_start <<-'EOF'
		capabilities AUTH LOGIN CRAM-MD5
		auth LOGIN 334 VXNlcm5hbWU6
		auth LOGIN 334 UGFzc3dvcmQ6
		auth LOGIN 235 2.7.0 welcome
		auth CRAM-MD5 504 5.5.4 advertised but refused
	EOF
	run tcp 'AUTH CRAM-MD5\r\nAUTH LOGIN\r\ndXNlcg==\r\ncGFzcw==\r\nQUIT\r\n'
	assert_equal "$(printf '%s\n' "${lines[@]}" | tr -d '\r')" "220 fake.test ESMTP
504 5.5.4 advertised but refused
334 VXNlcm5hbWU6
334 UGFzc3dvcmQ6
235 2.7.0 welcome
221 2.0.0 Bye"
	fake_wait
	fake_assert_commands <<-'EOF'
		AUTH CRAM-MD5
		AUTH LOGIN
		dXNlcg==
		cGFzcw==
		QUIT
	EOF

	fake_start <<-'EOF'
		capabilities AUTH PLAIN
		auth 334 bW9yZQ==
	EOF
	run py '
s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.test")
try:
    s.login("u", "p")
except smtplib.SMTPException as e:
    print(e)'
	assert_output --partial 'Server AUTH mechanism infinite loop'
	fake_wait
}

@test "AUTH: built-in mechanisms check auth-secret (PLAIN, CRAM-MD5, SCRAM)" {
	fake_start <<-'EOF'
		connections 3
		capabilities AUTH PLAIN CRAM-MD5 SCRAM-SHA-256
		auth-secret user pencil
	EOF
	run py '
import hashlib, hmac, secrets
def login(mech, password):
    s = smtplib.SMTP("127.0.0.1", PORT)
    s.ehlo()
    s.user, s.password = "user", password
    try:
        if mech.startswith("SCRAM"):
            print(s.auth(mech, scram(password), initial_response_ok=True))
        else:
            print(s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_"))))
    except smtplib.SMTPAuthenticationError as e:
        print(e.smtp_code)
    s.close()
def scram(password):
    # RFC 5802 client, SHA-256, no channel binding.
    cnonce = secrets.token_urlsafe(18)
    first_bare = "n=user,r=" + cnonce
    state = {}
    def step(challenge=None):
        if challenge is None:
            return "n,," + first_bare
        challenge = challenge.decode()
        if challenge.startswith("v="):
            return ""
        f = dict(kv.split("=", 1) for kv in challenge.split(","))
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(f["s"]), int(f["i"]))
        ck = hmac.new(salted, b"Client Key", "sha256").digest()
        without = "c=biws,r=" + f["r"]
        msg = ",".join([first_bare, challenge, without]).encode()
        sig = hmac.new(hashlib.sha256(ck).digest(), msg, "sha256").digest()
        return without + ",p=" + base64.b64encode(bytes(a ^ b for a, b in zip(ck, sig))).decode()
    return step
login("PLAIN", "wrong")
login("CRAM-MD5", "pencil")
login("SCRAM-SHA-256", "pencil")'
	assert_success
	assert_output "535
(235, b'2.7.0 Authentication successful')
(235, b'2.7.0 Authentication successful')"
	fake_wait
	run fake_commands
	assert_line --regexp '^AUTH PLAIN '
	assert_line '--- connection 2'
	assert_line 'AUTH CRAM-MD5'
	assert_line --regexp '^AUTH SCRAM-SHA-256 biws'
}

@test "LMTP over a Unix socket: LHLO and one reply per recipient" {
	fake_start --unix <<-'EOF'
		lmtp
		rcpt nobody@x.test 550 5.1.1 no such user
		data-end bob@x.test 452 4.2.2 mailbox full
	EOF
	run "$PYTHON" -c '
import os, socket
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["FAKE_SOCKET"])
s.sendall(b"EHLO c\r\nLHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<amy@x.test>\r\nRCPT TO:<nobody@x.test>\r\nRCPT TO:<bob@x.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode().replace("\r\n", "|"))'
	assert_output '220 fake.test LMTP|500 5.5.1 Error: this is LMTP, use LHLO|250-fake.test|250-PIPELINING|250-8BITMIME|250 SIZE 10485760|250 2.1.0 Ok|250 2.1.5 Ok|550 5.1.1 no such user|250 2.1.5 Ok|354 End data with <CR><LF>.<CR><LF>|250 2.0.0 <amy@x.test> Ok: queued as FAKE1|452 4.2.2 mailbox full|221 2.0.0 Bye|'
	fake_wait
	assert_equal "$(fake_message 1)" $'hi\r'
}

@test "CHUNKING: BDAT chunks, replies and the LAST chunk" {
	fake_start <<-'EOF'
		capabilities +CHUNKING
		BDAT 250 2.0.0 chunk ok
		data-end 250 2.0.0 message ok
	EOF
	run tcp 'MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nBDAT 7\r\nline 1\nBDAT 9 LAST\r\n.line 2\r\nQUIT\r\n'
	assert_equal "$(printf '%s\n' "${lines[@]}" | tr -d '\r' | tail -n 3)" "250 2.0.0 chunk ok
250 2.0.0 message ok
221 2.0.0 Bye"
	fake_wait
	cmp "$FAKE_DIR/data.1" <(printf 'line 1\n.line 2\r\n')
	cmp "$FAKE_DIR/message.1" <(printf 'line 1\n.line 2\r\n')
	fake_assert_commands <<-'EOF'
		MAIL FROM:<a@x>
		RCPT TO:<b@x>
		BDAT 7
		BDAT 9 LAST
		QUIT
	EOF
}

@test "connections: several in turn, greeting sequence, IPv6" {
	fake_start --listen ::1 <<-'EOF'
		connections 2
		greeting 421 4.3.2 busy | close
		greeting default
	EOF
	[ "$(cat "$FAKE_DIR/port")" = "$FAKE_PORT" ]
	run py '
for i in range(2):
    try:
        s = smtplib.SMTP("::1", PORT, local_hostname="client.test")
        s.sendmail("a@x.test", ["b@x.test"], "m%d\r\n" % i)
        s.quit()
        print("sent")
    except smtplib.SMTPConnectError as e:
        print(e.smtp_code)'
	assert_output $'421\nsent'
	fake_wait
	fake_assert_commands <<-'EOF'
		--- connection 2
		ehlo client.test
		mail FROM:<a@x.test> size=4
		rcpt TO:<b@x.test>
		data
		quit
	EOF
	assert_equal "$(fake_message 1)" $'m1\r'
}

@test "--port: listens on the port asked for (one that refused before)" {
	local port
	port=$(closed_port)
	run py "socket.create_connection(('127.0.0.1', $port), 2)"
	assert_failure
	assert_output --partial ConnectionRefusedError
	fake_start --port "$port" ''
	assert_equal "$FAKE_PORT" "$port"
	run py '
s = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.test")
s.sendmail("a@x.test", ["b@x.test"], "m\r\n")
s.quit()'
	assert_success
	fake_wait
	fake_assert_sent 'rcpt TO:<b@x.test>'
}

@test "recordings: bare LF, NUL and 8-bit bytes are kept; transcript escapes" {
	fake_start ''
	run tcp 'NOOP \x00\xff\nX\r\x07\r\nQUIT\r\n'
	fake_wait
	cmp "$FAKE_DIR/commands" <(printf 'NOOP \0\377\nX\r\a\nQUIT\n')
	run fake_transcript
	assert_line 'C: NOOP \x00\xff\n'
	assert_line 'C: X\r\x07'
}

@test "scenario errors are reported by fake_start" {
	run fake_start 'NOOP 250 ok | bogus'
	assert_failure
	assert_output --partial "scenario line 1: NOOP 250 ok | bogus: not a response"
	run fake_start 'connections many'
	assert_failure
	assert_output --partial 'a number is needed'
}
