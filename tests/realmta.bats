#!/usr/bin/env bats
# Self-test of the real-server test bed (tests/lib/realmta.bash): a private
# Postfix + Dovecot on loopback, driven by Python's smtplib.  Needs no carrier.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load 'lib/realmta'

# `run --separate-stderr` (realmta logs on stderr; stdout is the result).
bats_require_minimum_version 1.5.0

PY=/usr/bin/python3

setup_file() {
	realmta_start "$BATS_FILE_TMPDIR"
	# The Python side of the tests: mta.py CMD ... (see the bottom of this
	# file).
	_write_mta_py >"$BATS_FILE_TMPDIR/mta.py"
	export MTA_PY=$BATS_FILE_TMPDIR/mta.py
}

teardown_file() {
	realmta_stop "$BATS_FILE_TMPDIR"
}

setup() {
	realmta_clear
}

# sent_vs_delivered SENT FILE: FILE (a delivered message) minus the servers'
# trace fields is SENT with CRLF turned into LF, byte for byte.
sent_vs_delivered() {
	diff <(sed 's/\r$//' "$1") <(realmta_strip_trace "$2")
}

# mkmsg FILE: a message with CRLF line ends, 8-bit text, a leading-dot line, a
# folded header and a Bcc that the server must keep.
mkmsg() {
	printf '%s\r\n' \
	    'From: Sender <sender@example.test>' \
	    'To: Alice <alice@example.test>' \
	    'Bcc: hidden@example.test' \
	    "Subject: realmta self-test $BATS_TEST_NUMBER" \
	    '  folded continuation' \
	    'Message-ID: <realmta.'"$BATS_TEST_NUMBER"'@example.test>' \
	    'Content-Type: text/plain; charset=utf-8' \
	    'Content-Transfer-Encoding: 8bit' \
	    '' \
	    'Grüße aus dem Test.' \
	    '.a line that starts with a dot' \
	    '..two dots' \
	    '.' \
	    'trailing spaces   ' \
	    'last line' >"$1"
}

@test "realmta: variables exported, servers on loopback only" {
	local v
	for v in REAL_SMTP_PORT REAL_SUBMISSION_PORT REAL_SMTPS_PORT \
	    REAL_LMTP_PORT; do
		[[ ${!v} =~ ^[0-9]+$ ]] || fail "$v=${!v}"
	done
	[ -S "$REAL_LMTP_SOCKET" ]
	[ -s "$REAL_CA" ]
	[ -d "$REAL_MAILDIR_ROOT/$REAL_USER" ]
	[ -d "$REAL_MAILDIR_ROOT/$REAL_USER2" ]
	[ -d "$REAL_MAILDIR_ROOT/$REAL_UTF8_USER" ]
	[ -n "$REAL_PASS" ] && [ -n "$REAL_PASS2" ]
	[ -s "$BATS_FILE_TMPDIR/realmta.env" ]
	# Every listener of ours is bound to 127.0.0.1 or ::1, nothing else.
	run ss -Hltn
	assert_success
	for v in "$REAL_SMTP_PORT" "$REAL_SUBMISSION_PORT" "$REAL_SMTPS_PORT" \
	    "$REAL_LMTP_PORT"; do
		run bash -c "ss -Hltn '( sport = :$v )' | awk '{print \$4}'"
		assert_success
		assert_line "127.0.0.1:$v"
		refute_line --regexp '^(0\.0\.0\.0|\*|\[::\]):'
		if ((REAL_HAVE_IPV6)); then assert_line "[::1]:$v"; fi
	done
}

@test "realmta: the private Postfix cannot relay and uses no DNS" {
	local pc=(postconf -c "$REAL_DIR/etc")
	run "${pc[@]}" -h relayhost relay_domains mydestination
	assert_success
	assert_output ''
	run "${pc[@]}" -h default_transport relay_transport
	assert_output --partial 'error:'
	refute_output --regexp '^(smtp|relay)'
	run "${pc[@]}" -h smtp_dns_support_level smtpd_peername_lookup
	assert_output $'disabled\nno'
	# No smtp client at all in master.cf.
	run "${pc[@]}" -M
	assert_success
	assert_line --regexp '^virtual +unix '
	refute_line --regexp '^(smtp|relay|local) +unix '
	# The system's configuration is not used.
	run "${pc[@]}" -h config_directory
	assert_output "$REAL_DIR/etc"
}

@test "realmta: plain SMTP: EHLO, delivery byte for byte" {
	mkmsg "$BATS_TEST_TMPDIR/m.eml"
	run "$PY" "$MTA_PY" ehlo plain
	assert_success
	assert_line 'PIPELINING'
	assert_line 'CHUNKING'
	assert_line '8BITMIME'
	assert_line 'SMTPUTF8'
	refute_line --partial 'AUTH'
	refute_line 'STARTTLS'
	run "$PY" "$MTA_PY" send plain - - sender@example.test "$REAL_ADDR" \
	    <"$BATS_TEST_TMPDIR/m.eml"
	assert_success
	assert_output '{}'
	realmta_wait_delivery alice 1
	f=$(realmta_last_message alice)
	run sent_vs_delivered "$BATS_TEST_TMPDIR/m.eml" "$f"
	assert_success
	# Exactly the documented fields were prepended.
	run head -n 6 "$f"
	assert_line --index 0 'Return-Path: <sender@example.test>'
	assert_line --index 1 "X-Original-To: $REAL_ADDR"
	assert_line --index 2 "Delivered-To: $REAL_ADDR"
	assert_line --index 3 --regexp '^Received: from \[127\.0\.0\.1\] \(unknown \[127\.0\.0\.1\]\)$'
	assert_line --index 4 --regexp "^	by $REAL_MTA_NAME \(Postfix\) with ESMTP id [0-9A-F]+$"
	assert_line --index 5 --regexp "^	for <$REAL_ADDR>; "
	[ "$(wc -l <"$f")" -eq $(($(wc -l <"$BATS_TEST_TMPDIR/m.eml") + 6)) ]
}

@test "realmta: plain SMTP: unknown user 550 and relaying 554 at RCPT" {
	run "$PY" "$MTA_PY" send plain - - sender@example.test \
	    nosuchuser@example.test <<<$'Subject: x\r\n\r\nx\r\n'
	assert_failure
	assert_output --partial "550, b'5.1.1 <nosuchuser@example.test>"
	run "$PY" "$MTA_PY" send plain - - sender@example.test \
	    someone@example.com <<<$'Subject: x\r\n\r\nx\r\n'
	assert_failure
	assert_output --partial "554, b'5.7.1 <someone@example.com>: Relay access denied"
	# One good and one bad recipient: only the good one gets it.
	run "$PY" "$MTA_PY" send plain - - sender@example.test \
	    someone@example.com "$REAL_ADDR2" <<<$'Subject: x\r\n\r\nx\r\n'
	assert_success
	assert_output --partial "'someone@example.com': (554"
	realmta_wait_delivery bob 1
	run grep 'example.com' "$REAL_POSTFIX_LOG"
	refute_output --partial 'status='
}

@test "realmta: submission: STARTTLS then AUTH required, delivery" {
	mkmsg "$BATS_TEST_TMPDIR/m.eml"
	run "$PY" "$MTA_PY" ehlo submission-notls
	assert_success
	assert_line 'STARTTLS'
	refute_line --partial 'AUTH'
	run "$PY" "$MTA_PY" send submission-notls - - "$REAL_ADDR" "$REAL_ADDR2" \
	    <<<$'Subject: x\r\n\r\nx\r\n'
	assert_failure
	assert_output --partial '530'
	assert_output --partial 'Must issue a STARTTLS command first'
	run "$PY" "$MTA_PY" ehlo submission-tls
	assert_success
	assert_line "AUTH $REAL_SASL_MECHS"
	run "$PY" "$MTA_PY" send submission - - "$REAL_ADDR" "$REAL_ADDR2" \
	    <<<$'Subject: x\r\n\r\nx\r\n'
	assert_failure
	assert_output --partial "530, b'5.7.0"
	assert_output --partial 'Authentication required'
	run "$PY" "$MTA_PY" send submission "$REAL_USER" "$REAL_PASS" \
	    "$REAL_ADDR" "$REAL_ADDR2" <"$BATS_TEST_TMPDIR/m.eml"
	assert_success
	assert_output '{}'
	realmta_wait_delivery bob 1
	f=$(realmta_last_message bob)
	run sent_vs_delivered "$BATS_TEST_TMPDIR/m.eml" "$f"
	assert_success
	run grep -c "by $REAL_MTA_NAME (Postfix) with ESMTPSA id" "$f"
	assert_output 1
	# Authenticated, still no relaying.
	run "$PY" "$MTA_PY" send submission "$REAL_USER" "$REAL_PASS" \
	    "$REAL_ADDR" someone@example.com <<<$'Subject: x\r\n\r\nx\r\n'
	assert_failure
	assert_output --partial "554, b'5.7.1 <someone@example.com>: Relay access denied"
}

@test "realmta: submission: every SASL mechanism, wrong password 535" {
	local m
	for m in $REAL_SASL_MECHS; do
		run "$PY" "$MTA_PY" auth "$m" "$REAL_USER" "$REAL_PASS"
		assert_success
		assert_output --regexp '^235 '
		run "$PY" "$MTA_PY" auth "$m" "$REAL_USER2" "$REAL_PASS2"
		assert_success
		assert_output --regexp '^235 '
		run "$PY" "$MTA_PY" auth "$m" "$REAL_USER" wrong-password
		assert_failure
		assert_output --regexp '^535 5\.7\.8 '
	done
	# The user name may carry the domain.
	run "$PY" "$MTA_PY" auth PLAIN "$REAL_ADDR" "$REAL_PASS"
	assert_output --regexp '^235 '
}

@test "realmta: TLS certificate verifies against REAL_CA, by name and by IP" {
	run "$PY" "$MTA_PY" ehlo submission-tls
	assert_success
	run "$PY" "$MTA_PY" ehlo smtps
	assert_success
	assert_line "AUTH $REAL_SASL_MECHS"
	run "$PY" "$MTA_PY" ehlo smtps-ip
	assert_success
	# Without the CA the certificate is refused.
	run "$PY" "$MTA_PY" ehlo smtps-noca
	assert_failure
	assert_output --partial 'CERTIFICATE_VERIFY_FAILED'
}

@test "realmta: implicit TLS (smtps): AUTH, delivery byte for byte" {
	mkmsg "$BATS_TEST_TMPDIR/m.eml"
	run "$PY" "$MTA_PY" send smtps - - "$REAL_ADDR" "$REAL_ADDR2" \
	    <<<$'Subject: x\r\n\r\nx\r\n'
	assert_failure
	assert_output --partial 'Authentication required'
	run "$PY" "$MTA_PY" send smtps "$REAL_USER2" "$REAL_PASS2" \
	    "$REAL_ADDR2" "$REAL_ADDR" alice@localhost <"$BATS_TEST_TMPDIR/m.eml"
	assert_success
	assert_output '{}'
	realmta_wait_delivery alice 2
	for f in $(realmta_messages alice); do
		run sent_vs_delivered "$BATS_TEST_TMPDIR/m.eml" "$f"
		assert_success
	done
	# shellcheck disable=SC2046 # the paths have no spaces
	run cat $(realmta_messages alice)
	assert_line "Delivered-To: $REAL_ADDR"
	assert_line 'Delivered-To: alice@localhost'
}

@test "realmta: LMTP over the Unix socket: delivery byte for byte, 550 at RCPT" {
	mkmsg "$BATS_TEST_TMPDIR/m.eml"
	run "$PY" "$MTA_PY" ehlo lmtp-unix
	assert_success
	assert_line 'PIPELINING'
	assert_line 'CHUNKING'
	assert_line '8BITMIME'
	run "$PY" "$MTA_PY" send lmtp-unix - - sender@example.test "$REAL_ADDR" \
	    <"$BATS_TEST_TMPDIR/m.eml"
	assert_success
	assert_output '{}'
	realmta_wait_delivery alice 1
	f=$(realmta_last_message alice)
	run sent_vs_delivered "$BATS_TEST_TMPDIR/m.eml" "$f"
	assert_success
	run head -n 7 "$f"
	assert_line --index 0 'Return-Path: <sender@example.test>'
	assert_line --index 1 "Delivered-To: $REAL_ADDR"
	assert_line --index 2 --regexp '^Received: from '
	assert_line --index 3 "	by $REAL_LMTP_NAME with LMTP"
	assert_line --index 4 --regexp '^	id '
	assert_line --index 5 '	(envelope-from <sender@example.test>)'
	assert_line --index 6 --regexp "^	for <$REAL_ADDR>; "
	run "$PY" "$MTA_PY" send lmtp-unix - - sender@example.test \
	    nosuchuser@example.test <<<$'Subject: x\r\n\r\nx\r\n'
	assert_failure
	assert_output --partial '550, b"5.1.1 <nosuchuser@example.test> User doesn'"'"'t exist'
}

@test "realmta: LMTP over TCP: one reply per recipient after DATA" {
	mkmsg "$BATS_TEST_TMPDIR/m.eml"
	run "$PY" "$MTA_PY" lmtp-multi "$BATS_TEST_TMPDIR/m.eml" \
	    "$REAL_ADDR" nosuchuser@example.test "$REAL_USER2"
	assert_success
	assert_line --index 0 --regexp '^RCPT <alice@example.test> 250 '
	assert_line --index 1 --regexp '^RCPT <nosuchuser@example.test> 550 5\.1\.1 '
	assert_line --index 2 --regexp '^RCPT <bob> 250 '
	assert_line --index 3 --regexp '^DATA 354 '
	assert_line --index 4 --regexp '^DOT 250 2\.0\.0 <alice@example.test> '
	assert_line --index 5 --regexp '^DOT 250 2\.0\.0 <bob> '
	realmta_wait_delivery alice 1
	realmta_wait_delivery bob 1
	run sent_vs_delivered "$BATS_TEST_TMPDIR/m.eml" "$(realmta_last_message bob)"
	assert_success
}

@test "realmta: SMTPUTF8 through Postfix to a UTF-8 mailbox" {
	printf '%s\r\n' 'From: Jörg <jörg@example.test>' \
	    "To: $REAL_UTF8_ADDR" 'Subject: Grüße' '' 'Ünïcödé body' \
	    >"$BATS_TEST_TMPDIR/u.eml"
	run "$PY" "$MTA_PY" send plain-smtputf8 - - 'jörg@example.test' \
	    "$REAL_UTF8_ADDR" <"$BATS_TEST_TMPDIR/u.eml"
	assert_success
	assert_output '{}'
	realmta_wait_delivery "$REAL_UTF8_USER" 1
	f=$(realmta_last_message "$REAL_UTF8_USER")
	run sent_vs_delivered "$BATS_TEST_TMPDIR/u.eml" "$f"
	assert_success
	run grep -c 'with UTF8SMTP id' "$f"
	assert_output 1
}

@test "realmta: CHUNKING (BDAT) through Postfix, byte for byte" {
	mkmsg "$BATS_TEST_TMPDIR/m.eml"
	run "$PY" "$MTA_PY" bdat "$BATS_TEST_TMPDIR/m.eml" "$REAL_ADDR"
	assert_success
	assert_line --regexp '^250 2\.0\.0 Ok: [0-9]+ bytes queued as'
	realmta_wait_delivery alice 1
	run sent_vs_delivered "$BATS_TEST_TMPDIR/m.eml" "$(realmta_last_message alice)"
	assert_success
}

@test "realmta: strip_trace keeps a sender's own Return-Path and Received" {
	printf '%s\r\n' 'Return-Path: <own@example.test>' \
	    'Received: from elsewhere by relay.example.test; Thu, 1 Jan 2026 00:00:00 +0000' \
	    'Subject: own trace' '' 'x' >"$BATS_TEST_TMPDIR/t.eml"
	run "$PY" "$MTA_PY" send plain - - sender@example.test "$REAL_ADDR" \
	    <"$BATS_TEST_TMPDIR/t.eml"
	assert_success
	run "$PY" "$MTA_PY" send lmtp-tcp - - sender@example.test "$REAL_ADDR2" \
	    <"$BATS_TEST_TMPDIR/t.eml"
	assert_success
	realmta_wait_delivery alice 1
	realmta_wait_delivery bob 1
	run sent_vs_delivered "$BATS_TEST_TMPDIR/t.eml" "$(realmta_last_message alice)"
	assert_success
	run sent_vs_delivered "$BATS_TEST_TMPDIR/t.eml" "$(realmta_last_message bob)"
	assert_success
}

@test "realmta: wait_delivery times out; messages and clear" {
	run realmta_wait_delivery alice 1 1
	assert_failure
	assert_output --partial 'alice has 0 message(s)'
	run realmta_last_message alice
	assert_failure
	for i in 1 2 3; do
		"$PY" "$MTA_PY" send lmtp-unix - - s@example.test "$REAL_ADDR" \
		    <<<$'Subject: n'"$i"$'\r\n\r\nbody '"$i"$'\r\n' >/dev/null
	done
	realmta_wait_delivery alice 3
	run realmta_messages alice
	assert_equal "${#lines[@]}" 3
	# shellcheck disable=SC2046 # the paths have no spaces
	run grep -h '^Subject:' $(realmta_messages alice)
	assert_output $'Subject: n1\nSubject: n2\nSubject: n3'
	run grep '^Subject:' "$(realmta_last_message alice)"
	assert_output 'Subject: n3'
	realmta_clear alice
	run realmta_messages alice
	assert_output ''
}

@test "realmta: a second instance starts, stops and cleans up, twice" {
	local d=$BATS_TEST_TMPDIR/second w i
	for i in 1 2; do
		# In a subshell: the suite's own REAL_* stay as they are.
		run --separate-stderr bash -c 'source "$1/lib/realmta.bash" &&
		    realmta_start "$2" && echo "$REAL_DIR $REAL_SMTP_PORT $REAL_LMTP_PORT" &&
		    "$3" "$4" send plain - - a@example.test "$REAL_ADDR" \
		        <<<$'"'"'Subject: second\r\n\r\nx\r\n'"'"' >/dev/null &&
		    realmta_wait_delivery alice 1 &&
		    realmta_stop "$2"' _ "$BATS_TEST_DIRNAME" "$d" "$PY" "$MTA_PY"
		assert_success
		read -r w p lp <<<"${lines[0]}"
		[[ $w == /tmp/realmta.* ]]
		[ "$p" != "$REAL_SMTP_PORT" ]
		[ ! -e "$w" ]
		[ ! -e "$d/realmta" ]
		[ -s "$d/realmta-postfix.log" ]
		run grep -c 'status=sent' "$d/realmta-postfix.log"
		assert_output 1
		# Nothing listens on its ports any more; ours still do.
		[[ -z $(ss -Hltn "( sport = :$p or sport = :$lp )") ]]
		[[ -n $(ss -Hltn "( sport = :$REAL_SMTP_PORT )") ]]
	done
	# Stopping again is harmless.
	run realmta_stop "$d"
	assert_success
}

# The Python half: mta.py CMD ...; environment REAL_* from realmta_start.
#   ehlo MODE                     print the EHLO/LHLO keywords, one a line
#   send MODE USER PASS FROM TO...  message on stdin; login unless USER is -;
#                                 prints sendmail()'s refused dict, or the
#                                 exception (exit 1)
#   auth MECH USER PASS           on submission after STARTTLS; prints the
#                                 final reply "CODE TEXT" (exit 1 unless 235)
#   lmtp-multi FILE RCPT...       LMTP over TCP by hand, one line per reply
#   bdat FILE RCPT                plain SMTP with BDAT in 3 chunks
# MODE: plain, plain-smtputf8, submission (STARTTLS), submission-notls,
# submission-tls (ehlo after STARTTLS), smtps, smtps-ip, smtps-noca,
# lmtp-unix, lmtp-tcp.
_write_mta_py() {
	cat <<'EOF'
import base64, hashlib, hmac, os, smtplib, socket, ssl, sys

E = os.environ
HOST = E['REAL_HOST']
# The EHLO name, given: smtplib's default comes from the machine's host name
# (an address literal such as [127.0.1.1] where /etc/hosts maps it there).
HELO = '[127.0.0.1]'


def ctx(ca=True):
    c = ssl.create_default_context(cafile=E['REAL_CA'] if ca else None)
    if not ca:
        c.load_default_certs()
    return c


def connect(mode):
    kw = dict(timeout=10, local_hostname=HELO)
    if mode in ('plain', 'plain-smtputf8'):
        s = smtplib.SMTP(HOST, int(E['REAL_SMTP_PORT']), **kw)
    elif mode in ('submission', 'submission-tls'):
        s = smtplib.SMTP(E['REAL_TLS_NAME'], int(E['REAL_SUBMISSION_PORT']),
                         **kw)
        s.starttls(context=ctx())
    elif mode == 'submission-notls':
        s = smtplib.SMTP(HOST, int(E['REAL_SUBMISSION_PORT']), **kw)
    elif mode == 'smtps':
        s = smtplib.SMTP_SSL(E['REAL_TLS_NAME'], int(E['REAL_SMTPS_PORT']),
                             context=ctx(), **kw)
    elif mode == 'smtps-ip':
        s = smtplib.SMTP_SSL(HOST, int(E['REAL_SMTPS_PORT']), context=ctx(),
                             **kw)
    elif mode == 'smtps-noca':
        s = smtplib.SMTP_SSL(E['REAL_TLS_NAME'], int(E['REAL_SMTPS_PORT']),
                             context=ctx(False), **kw)
    elif mode == 'lmtp-unix':
        s = smtplib.LMTP(E['REAL_LMTP_SOCKET'], **kw)
    elif mode == 'lmtp-tcp':
        s = smtplib.LMTP(HOST, int(E['REAL_LMTP_PORT']), **kw)
    else:
        sys.exit('bad mode ' + mode)
    s.ehlo()
    return s


def b64(b):
    return base64.b64encode(b if isinstance(b, bytes) else b.encode()).decode()


def scram(s, mech, user, pw):
    h = 'sha1' if mech == 'SCRAM-SHA-1' else 'sha256'
    nonce = b64(os.urandom(18))
    name = user.replace('=', '=3D').replace(',', '=2C')
    bare = 'n=%s,r=%s' % (name, nonce)
    code, resp = s.docmd('AUTH', mech + ' ' + b64('n,,' + bare))
    if code != 334:
        return code, resp
    first = base64.b64decode(resp).decode()
    a = dict(kv.split('=', 1) for kv in first.split(','))
    assert a['r'].startswith(nonce)
    salted = hashlib.pbkdf2_hmac(h, pw.encode(), base64.b64decode(a['s']),
                                 int(a['i']))
    ckey = hmac.new(salted, b'Client Key', h).digest()
    stored = hashlib.new(h, ckey).digest()
    final = 'c=%s,r=%s' % (b64('n,,'), a['r'])
    msg = ('%s,%s,%s' % (bare, first, final)).encode()
    sig = hmac.new(stored, msg, h).digest()
    proof = bytes(x ^ y for x, y in zip(ckey, sig))
    code, resp = s.docmd(b64(final + ',p=' + b64(proof)))
    if code == 334:
        skey = hmac.new(salted, b'Server Key', h).digest()
        want = 'v=' + b64(hmac.new(skey, msg, h).digest())
        if base64.b64decode(resp).decode() != want:
            return 0, b'server signature mismatch'
        code, resp = s.docmd('')
    return code, resp


def auth(mech, user, pw):
    s = connect('submission')
    s.user, s.password = user, pw
    try:
        if mech.startswith('SCRAM-'):
            code, resp = scram(s, mech, user, pw)
        else:
            obj = {'PLAIN': s.auth_plain, 'LOGIN': s.auth_login,
                   'CRAM-MD5': s.auth_cram_md5}[mech]
            code, resp = s.auth(mech, obj, initial_response_ok=False)
    except smtplib.SMTPAuthenticationError as e:
        code, resp = e.smtp_code, e.smtp_error
    print(code, resp.decode(errors='replace'))
    return 0 if code == 235 else 1


def send(mode, user, pw, frm, rcpts):
    msg = sys.stdin.buffer.read()
    s = connect(mode)
    opts = ['SMTPUTF8'] if mode == 'plain-smtputf8' else []
    try:
        if user != '-':
            s.login(user, pw)
        print(s.sendmail(frm, rcpts, msg, mail_options=opts))
    except smtplib.SMTPException as e:
        print(repr(e))
        return 1
    s.quit()
    return 0


class Raw:
    def __init__(self, sock):
        self.s = sock
        self.f = sock.makefile('rb')

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError('connection closed')
            lines.append(line.rstrip(b'\r\n').decode())
            if line[3:4] != b'-':
                return lines

    def cmd(self, data):
        self.s.sendall(data)
        return self.reply()


def wire(path):
    data = open(path, 'rb').read()
    if not data.endswith(b'\r\n'):
        data += b'\r\n'
    return data


def lmtp_multi(path, rcpts):
    r = Raw(socket.create_connection((HOST, int(E['REAL_LMTP_PORT'])), 10))
    r.reply()
    r.cmd(b'LHLO realmta.test\r\n')
    r.cmd(b'MAIL FROM:<sender@example.test>\r\n')
    ok = []
    for rc in rcpts:
        rep = r.cmd(b'RCPT TO:<%s>\r\n' % rc.encode())[-1]
        print('RCPT <%s> %s' % (rc, rep))
        if rep.startswith('250'):
            ok.append(rc)
    print('DATA', r.cmd(b'DATA\r\n')[-1])
    body = b''.join((b'.' + l if l.startswith(b'.') else l)
                    for l in wire(path).splitlines(True))
    r.s.sendall(body + b'.\r\n')
    for rc in ok:
        print('DOT', r.reply()[-1])
    r.cmd(b'QUIT\r\n')
    return 0


def bdat(path, rcpt):
    data = wire(path)
    r = Raw(socket.create_connection((HOST, int(E['REAL_SMTP_PORT'])), 10))
    r.reply()
    r.cmd(b'EHLO realmta.test\r\n')
    for c in (b'MAIL FROM:<sender@example.test> BODY=8BITMIME\r\n',
              b'RCPT TO:<%s>\r\n' % rcpt.encode()):
        rep = r.cmd(c)[-1]
        if not rep.startswith('250'):
            print(rep)
            return 1
    n = len(data) // 3
    chunks = [data[:n], data[n:2 * n], data[2 * n:]]
    for i, ch in enumerate(chunks):
        last = b' LAST' if i == len(chunks) - 1 else b''
        rep = r.cmd(b'BDAT %d%s\r\n' % (len(ch), last) + ch)[-1]
        print(rep)
        if not rep.startswith('250'):
            return 1
    r.cmd(b'QUIT\r\n')
    return 0


def main(a):
    if a[0] == 'ehlo':
        try:
            s = connect(a[1])
        except (OSError, smtplib.SMTPException) as e:
            print(repr(e))
            return 1
        for k in s.ehlo_resp.decode().split('\n')[1:]:
            print(k)
        s.quit()
        return 0
    if a[0] == 'send':
        return send(a[1], a[2], a[3], a[4], a[5:])
    if a[0] == 'auth':
        return auth(a[1], a[2], a[3])
    if a[0] == 'lmtp-multi':
        return lmtp_multi(a[1], a[2:])
    if a[0] == 'bdat':
        return bdat(a[1], a[2])
    sys.exit('bad command')


sys.exit(main(sys.argv[1:]))
EOF
}
