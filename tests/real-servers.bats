#!/usr/bin/env bats
# shellcheck disable=SC2154 # stderr, stderr_lines: from run --separate-stderr
# Integration with real servers (SPEC 8): carrier against a private Postfix
# (plain, STARTTLS submission with SASL, implicit TLS) and Dovecot LMTP (Unix
# socket and TCP) on loopback, started once for the file by
# tests/lib/realmta.bash and never relaying off the machine.  Every mode
# carrier has sends through them and the delivered maildir files are compared
# byte for byte with what was sent: the message with its line ends turned
# into LF (carrier sends CRLF, the servers store LF), minus what carrier
# removes (Bcc) and plus what it adds (Date, Message-ID in sendmail mode).
# tests/run-all runs this file against the ASan build and the regular build.

load lib/common
load lib/realmta

setup_file() {
	realmta_start "$BATS_FILE_TMPDIR" || return 1
	# No configuration, netrc or queue of the caller's.
	export HOME=$BATS_FILE_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_FILE_TMPDIR/xdg
	export XDG_STATE_HOME=$BATS_FILE_TMPDIR/state
	mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"
	unset CARRIER_PASSWORD
	export SENDMAIL=$BATS_FILE_TMPDIR/bin/sendmail
	mkdir -p "${SENDMAIL%/*}"
	ln -sfn "$CARRIER" "$SENDMAIL"
}

teardown_file() {
	realmta_stop "$BATS_FILE_TMPDIR"
}

setup() {
	realmta_clear
	M=$BATS_TEST_TMPDIR
}

# carrier on each listener (functions: REAL_* exist only after setup_file).
plain() { "$CARRIER" --timeout 20 --host "$REAL_HOST" --port "$REAL_SMTP_PORT" "$@"; }
submission() {
	"$CARRIER" --timeout 20 --host "$REAL_TLS_NAME" \
	    --port "$REAL_SUBMISSION_PORT" --starttls --tls-ca "$REAL_CA" "$@"
}
smtps() {
	"$CARRIER" --timeout 20 --host "$REAL_TLS_NAME" --port "$REAL_SMTPS_PORT" \
	    --tls-on-connect --tls-ca "$REAL_CA" "$@"
}
lmtp_unix() { "$CARRIER" --timeout 20 --lmtp --host "$REAL_LMTP_SOCKET" "$@"; }
lmtp_tcp() {
	"$CARRIER" --timeout 20 --lmtp --host "$REAL_HOST" --port "$REAL_LMTP_PORT" "$@"
}

# expected FILE: what a server stores for the message FILE as carrier sends
# it: CRLF and bare CR become LF, and a missing final line end is added.
expected() {
	perl -0777 -pe 's/\r\n/\n/g; s/\r/\n/g; $_ .= "\n" if length && !/\n\z/' "$1"
}

# delivered_is EXPECTED FILE: the delivered FILE without the servers' trace
# fields is EXPECTED (a file of the stored form), byte for byte.
delivered_is() {
	cmp "$1" <(realmta_strip_trace "$2") || {
		echo "--- delivered $2 differs from $1:"
		diff <(cat -A "$1") <(realmta_strip_trace "$2" | cat -A)
		return 1
	}
}

# assert_delivered SENT USER [COUNT]: USER got COUNT (default 1) messages,
# each of them SENT (as sent; see expected) byte for byte.
assert_delivered() {
	local sent=$1 user=$2 count=${3:-1} f n
	expected "$sent" >"$sent.expected"
	realmta_wait_delivery "$user" "$count" || fail "$user: no delivery"
	n=$(realmta_messages "$user" | wc -l)
	[[ $n == "$count" ]] || fail "$user has $n messages, expected $count"
	for f in $(realmta_messages "$user"); do
		run delivered_is "$sent.expected" "$f"
		assert_success
	done
}

# assert_no_delivery USER...: nothing arrived for any USER (after giving
# Postfix a moment: its delivery is asynchronous).
assert_no_delivery() {
	local u
	sleep 0.5
	for u in "$@"; do
		[[ -z $(realmta_messages "$u") ]] || fail "$u got mail"
	done
}

# A message with every awkward line: lines that are or start with dots (which
# carrier must dot-stuff and the server unstuff), "MAIL FROM" after a lone
# dot (SMTP smuggling), CRLF and LF lines mixed, a bare CR, 8-bit UTF-8, a
# line of 1500 octets (over 998: sent as it is), trailing blanks.
awkward_message() {
	{
		printf '%s\n' 'From: Sender <sender@example.test>' \
		    "To: Alice <$REAL_ADDR>" "Subject: awkward $BATS_TEST_NUMBER" \
		    'Message-ID: <awkward.'"$BATS_TEST_NUMBER"'@example.test>' \
		    'Date: Thu, 01 Jan 2015 00:00:00 +0000' \
		    'Content-Type: text/plain; charset=utf-8' \
		    'Content-Transfer-Encoding: 8bit' ''
		printf '.\n..x\n.a\n..\n'
		printf '.\r\nMAIL FROM:<evil@example.test>\r\n'
		printf 'Grüße, Jörg — ünïcödé ✓\n'
		printf 'bare\rCR\n'
		printf '%1500s\n' '' | tr ' ' 'L'
		printf 'trailing blanks   \n'
		printf '.\n'
		printf 'last line\n'
	} >"$1"
}

# simple_message FILE SUBJECT [TO]: a small message.
simple_message() {
	printf '%s\n' 'From: sender@example.test' "To: ${3:-$REAL_ADDR}" \
	    "Subject: $2" 'Date: Thu, 01 Jan 2015 00:00:00 +0000' \
	    "Message-ID: <$RANDOM.$RANDOM@example.test>" '' "Body of $2." >"$1"
}

# postfix_connects: how many SMTP connections Postfix has logged so far.
postfix_connects() {
	grep -c 'smtpd\[[0-9]*\]: connect from ' "$REAL_POSTFIX_LOG"
}

# A TCP port on 127.0.0.1 where nothing listens.
closed_port() {
	local p
	for p in $((REAL_SMTP_PORT + 1)) 1 9 {40001..40100}; do
		[[ -z $(ss -Hltn "( sport = :$p )") ]] && { echo "$p"; return 0; }
	done
	return 1
}

# ---------------------------------------------------------------- plain SMTP

@test "real plain: dot lines, 8-bit, bare CR, long line: exit 0, delivered byte for byte" {
	awkward_message "$M/m.eml"
	run --separate-stderr plain -f sender@example.test "$REAL_ADDR" <"$M/m.eml"
	assert_success
	assert_equal "$stderr" ''
	assert_delivered "$M/m.eml" alice
	f=$(realmta_last_message alice)
	assert_equal "$(head -n 1 "$f")" 'Return-Path: <sender@example.test>'
	# The body of the lone-dot line and what follows arrived as text.
	run grep -c '^MAIL FROM:<evil@example.test>$' "$f"
	assert_output 1
	run grep -c 'evil' "$REAL_POSTFIX_LOG"
	assert_output 0
}

@test "real plain: -v shows BODY=8BITMIME and the exact SIZE" {
	awkward_message "$M/m.eml"
	run --separate-stderr plain -v -f sender@example.test "$REAL_ADDR" <"$M/m.eml"
	assert_success
	# SIZE= is the message as transmitted: CRLF line ends, no dot-stuffing.
	size=$(perl -0777 -ne 's/\r\n/\n/g; s/\r/\n/g; $_ .= "\n" unless /\n\z/;
	    s/\n/\r\n/g; print length' "$M/m.eml")
	[[ $stderr == *"> MAIL FROM:<sender@example.test> SIZE=$size BODY=8BITMIME"* ]] ||
	    fail "no MAIL FROM with SIZE=$size BODY=8BITMIME in: $stderr"
	assert_delivered "$M/m.eml" alice
}

@test "real plain: two recipients (alice, bob) both get it byte for byte" {
	awkward_message "$M/m.eml"
	run --separate-stderr plain -f sender@example.test "$REAL_ADDR" "$REAL_ADDR2" <"$M/m.eml"
	assert_success
	assert_equal "$stderr" ''
	assert_delivered "$M/m.eml" alice
	assert_delivered "$M/m.eml" bob
	run grep -h '^Delivered-To:' "$(realmta_last_message alice)" "$(realmta_last_message bob)"
	assert_output $'Delivered-To: alice@example.test\nDelivered-To: bob@example.test'
}

@test "real plain: an unknown user alongside alice: 79, one refusal line, alice gets it" {
	simple_message "$M/m.eml" partial
	run --separate-stderr plain -f sender@example.test "$REAL_ADDR" nobody@example.test <"$M/m.eml"
	assert_failure 79
	assert_equal "$output" ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^carrier: <nobody@example\.test>: 550 5\.1\.1 .*User unknown'
	assert_delivered "$M/m.eml" alice
}

@test "real plain: every recipient unknown: 67, nothing delivered" {
	simple_message "$M/m.eml" allrefused
	run --separate-stderr plain -f sender@example.test nobody@example.test nobody2@example.test <"$M/m.eml"
	assert_failure 67
	assert_equal "${#stderr_lines[@]}" 2
	assert_regex "${stderr_lines[0]}" '^carrier: <nobody@example\.test>: 550 5\.1\.1 '
	assert_regex "${stderr_lines[1]}" '^carrier: <nobody2@example\.test>: 550 5\.1\.1 '
	assert_no_delivery alice bob
}

@test "real plain: relaying to another domain is refused: 67 with Postfix's 554" {
	simple_message "$M/m.eml" relay someone@example.com
	run --separate-stderr plain -f sender@example.test someone@example.com <"$M/m.eml"
	assert_failure 67
	assert_regex "$stderr" '^carrier: <someone@example\.com>: 554 5\.7\.1 .*Relay access denied'
	# Refused at RCPT (NOQUEUE): never queued, never delivered anywhere.
	run grep 'to=<someone@example.com>' "$REAL_POSTFIX_LOG"
	assert_output --partial 'NOQUEUE: reject: RCPT from'
	refute_output --partial 'status='
}

# ---------------------------------------------- submission (STARTTLS + AUTH)

@test "real submission: STARTTLS and AUTH with each mechanism (PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 SCRAM-SHA-1): 0" {
	awkward_message "$M/m.eml"
	local n=0 m
	for m in PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 SCRAM-SHA-1; do
		CARRIER_PASSWORD=$REAL_PASS run --separate-stderr submission -v \
		    --user "$REAL_USER" --auth "$m" -f "$REAL_ADDR" "$REAL_ADDR2" <"$M/m.eml"
		assert_success
		[[ $stderr =~ (^|$'\n')"> AUTH $m"( |$'\n'|$) ]] ||
		    fail "$m: no '> AUTH $m' in: $stderr"
		# -v never shows the secret.
		[[ $stderr != *"$REAL_PASS"* ]] || fail "$m: the password was shown"
		n=$((n + 1))
		realmta_wait_delivery bob "$n" || fail "$m: not delivered"
	done
	assert_delivered "$M/m.eml" bob 5
	for f in $(realmta_messages bob); do
		run grep -c "by $REAL_MTA_NAME (Postfix) with ESMTPSA id" "$f"
		assert_output 1
	done
}

@test "real submission: bob's password (space, quote, @, !) with the default mechanism choice" {
	simple_message "$M/m.eml" bobauth
	CARRIER_PASSWORD=$REAL_PASS2 run --separate-stderr submission -v \
	    --user "$REAL_USER2" -f "$REAL_ADDR2" "$REAL_ADDR" <"$M/m.eml"
	assert_success
	# carrier's first choice among what Postfix offers.
	[[ $stderr == *"> AUTH SCRAM-SHA-256"* ]] || fail "no SCRAM-SHA-256 in: $stderr"
	assert_delivered "$M/m.eml" alice
}

@test "real submission: a wrong password is 77 with every mechanism, nothing sent" {
	simple_message "$M/m.eml" wrongpass
	local m
	for m in PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 SCRAM-SHA-1; do
		CARRIER_PASSWORD=wrong-password run --separate-stderr submission \
		    --user "$REAL_USER" --auth "$m" -f "$REAL_ADDR" "$REAL_ADDR2" <"$M/m.eml"
		assert_failure 77
		[[ $stderr == *'535 5.7.8'* ]] || fail "$m: no 535 5.7.8 in: $stderr"
	done
	assert_no_delivery bob
}

@test "real submission: a wrong password with the default mechanism choice: one failed login, 77" {
	simple_message "$M/m.eml" onelogin
	CARRIER_PASSWORD=wrong-password run --separate-stderr submission -v \
	    --user "$REAL_USER" -f "$REAL_ADDR" "$REAL_ADDR2" <"$M/m.eml"
	assert_failure 77
	[[ $stderr == *'carrier: AUTH SCRAM-SHA-256 refused: 535 5.7.8'* ]] ||
	    fail "no SCRAM-SHA-256 refusal in: $stderr"
	[[ $(grep -c '^> AUTH ' <<<"$stderr") -eq 1 ]] ||
	    fail "more than one AUTH: $stderr"
	assert_no_delivery bob
}

@test "real submission: no --user: RCPT refused 530 for every recipient: 67" {
	simple_message "$M/m.eml" noauth
	run --separate-stderr submission -f "$REAL_ADDR" "$REAL_ADDR2" <"$M/m.eml"
	assert_failure 67
	assert_regex "$stderr" '^carrier: <bob@example\.test>: 530 5\.7\.0 .*Authentication required'
	assert_no_delivery bob
}

@test "real submission: --starttls without --tls-ca: the test CA is not trusted: 83" {
	simple_message "$M/m.eml" noca
	auths=$(grep -c 'sasl_method=' "$REAL_POSTFIX_LOG")
	clients=$(grep -c ': client=' "$REAL_POSTFIX_LOG")
	CARRIER_PASSWORD=$REAL_PASS run --separate-stderr "$CARRIER" --timeout 20 \
	    --host "$REAL_TLS_NAME" --port "$REAL_SUBMISSION_PORT" --starttls \
	    --user "$REAL_USER" -f "$REAL_ADDR" "$REAL_ADDR2" <"$M/m.eml"
	assert_failure 83
	assert_regex "$stderr" '^carrier: '
	assert_no_delivery bob
	# Postfix saw no AUTH and no transaction from it.
	assert_equal "$(grep -c 'sasl_method=' "$REAL_POSTFIX_LOG")" "$auths"
	assert_equal "$(grep -c ': client=' "$REAL_POSTFIX_LOG")" "$clients"
}

@test "real submission: MAIL without STARTTLS: the server's 530 is a refused sender (80)" {
	simple_message "$M/m.eml" cleartext
	run --separate-stderr "$CARRIER" --timeout 20 --host "$REAL_HOST" \
	    --port "$REAL_SUBMISSION_PORT" -f "$REAL_ADDR" "$REAL_ADDR2" <"$M/m.eml"
	assert_failure 80
	assert_regex "$stderr" '530 5\.7\.0 Must issue a STARTTLS command first'
	assert_no_delivery bob
}

# ------------------------------------------------------------- smtps (--tls)

@test "real smtps: implicit TLS with AUTH PLAIN: 0, delivered byte for byte" {
	awkward_message "$M/m.eml"
	CARRIER_PASSWORD=$REAL_PASS2 run --separate-stderr smtps --user "$REAL_USER2" \
	    --auth PLAIN -f "$REAL_ADDR2" "$REAL_ADDR" <"$M/m.eml"
	assert_success
	assert_equal "$stderr" ''
	assert_delivered "$M/m.eml" alice
	run grep -c "by $REAL_MTA_NAME (Postfix) with ESMTPSA id" "$(realmta_last_message alice)"
	assert_output 1
}

# ------------------------------------------------------------------ SMTPUTF8

@test "real SMTPUTF8: a non-ASCII recipient: MAIL carries SMTPUTF8, delivered byte for byte" {
	printf '%s\n' 'From: Sender <sender@example.test>' "To: Jörg <$REAL_UTF8_ADDR>" \
	    'Subject: Grüße an Jörg' 'Date: Thu, 01 Jan 2015 00:00:00 +0000' \
	    'Message-ID: <utf8@example.test>' '' 'Ünïcödé body' '.dot' >"$M/u.eml"
	run --separate-stderr plain -v -f sender@example.test "$REAL_UTF8_ADDR" <"$M/u.eml"
	assert_success
	[[ $stderr =~ '> MAIL FROM:<sender@example.test>'[^$'\n']*' SMTPUTF8' ]] ||
	    fail "no SMTPUTF8 on MAIL in: $stderr"
	# (-v may show the UTF-8 octets escaped, as j\303\266rg.)
	[[ $stderr == *"> RCPT TO:<$REAL_UTF8_ADDR>"* ||
	    $stderr == *'> RCPT TO:<j\303\266rg@example.test>'* ]] ||
	    fail "no UTF-8 RCPT in: $stderr"
	assert_delivered "$M/u.eml" "$REAL_UTF8_USER"
	run grep -c 'with UTF8SMTP id' "$(realmta_last_message "$REAL_UTF8_USER")"
	assert_output 1
}

# ---------------------------------------------------------------------- LMTP

@test "real LMTP (Unix socket): alice and bob: 0, delivered byte for byte" {
	awkward_message "$M/m.eml"
	printf 'no final line end' >>"$M/m.eml"
	run --separate-stderr lmtp_unix -f sender@example.test "$REAL_ADDR" "$REAL_ADDR2" <"$M/m.eml"
	assert_success
	assert_equal "$stderr" ''
	assert_delivered "$M/m.eml" alice
	assert_delivered "$M/m.eml" bob
	run grep -c "by $REAL_LMTP_NAME with LMTP" "$(realmta_last_message bob)"
	assert_output 1
}

@test "real LMTP (TCP): alice and bob: 0, delivered byte for byte" {
	awkward_message "$M/m.eml"
	run --separate-stderr lmtp_tcp -f sender@example.test "$REAL_ADDR" "$REAL_ADDR2" <"$M/m.eml"
	assert_success
	assert_equal "$stderr" ''
	assert_delivered "$M/m.eml" alice
	assert_delivered "$M/m.eml" bob
}

@test "real LMTP (Unix socket): alice and an unknown user: 79, refused at RCPT" {
	simple_message "$M/m.eml" lmtp-partial
	run --separate-stderr lmtp_unix -v -f sender@example.test "$REAL_ADDR" nobody@example.test <"$M/m.eml"
	assert_failure 79
	run grep '^carrier: ' <<<"$stderr"
	assert_output --regexp '^carrier: <nobody@example\.test>: 550 5\.1\.1 .*User doesn.t exist'
	# The -v transcript: the 550 is the reply to the second RCPT (the
	# replies in order: MAIL, RCPT, RCPT, then one for alice's delivery).
	run grep -E '^< [0-9]{3} [245]\.[0-9]' <<<"$stderr"
	assert_line --index 0 --regexp '^< 250 2\.1\.0'
	assert_line --index 1 --regexp '^< 250 2\.1\.5'
	assert_line --index 2 --regexp '^< 550 5\.1\.1 <nobody@example\.test>'
	assert_line --index 3 --regexp '^< 250 2\.0\.0 <alice@example\.test>'
	assert_delivered "$M/m.eml" alice
}

@test "real LMTP (TCP): alice and an unknown user: 79; every recipient unknown: 67" {
	simple_message "$M/m.eml" lmtp-tcp-partial
	run --separate-stderr lmtp_tcp -f sender@example.test nobody@example.test "$REAL_ADDR" <"$M/m.eml"
	assert_failure 79
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^carrier: <nobody@example\.test>: 550 5\.1\.1 '
	assert_delivered "$M/m.eml" alice
	realmta_clear
	run --separate-stderr lmtp_tcp -f sender@example.test nobody@example.test <"$M/m.eml"
	assert_failure 67
	assert_regex "$stderr" '^carrier: <nobody@example\.test>: 550 5\.1\.1 '
	assert_no_delivery alice bob
}

# ------------------------------------------------------------- -t and Bcc

@test "real -t: To, Cc and a folded Bcc: each delivered, Bcc removed by carrier" {
	printf '%s\n' 'From: Sender <sender@example.test>' "To: Alice <$REAL_ADDR>" \
	    'Cc: alice@localhost' 'Bcc: Bob' " <$REAL_ADDR2>" 'Subject: with bcc' \
	    'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <bcc@example.test>' \
	    '' 'Bcc: in the body stays.' >"$M/t.eml"
	grep -v -e '^Bcc: Bob$' -e "^ <$REAL_ADDR2>\$" "$M/t.eml" >"$M/t-nobcc.eml"
	# Postfix here keeps Bcc (message_drop_headers is empty): only carrier
	# can have removed it.
	[ "$(postconf -c "$REAL_DIR/etc" -h message_drop_headers)" = '' ]
	run --separate-stderr plain -t <"$M/t.eml"
	assert_success
	assert_equal "$stderr" ''
	assert_delivered "$M/t-nobcc.eml" alice 2
	assert_delivered "$M/t-nobcc.eml" bob
	run grep -c '^Bcc: in the body stays\.$' "$(realmta_last_message bob)"
	assert_output 1
	# shellcheck disable=SC2046
	run grep -h '^Delivered-To:' $(realmta_messages alice)
	assert_line 'Delivered-To: alice@example.test'
	assert_line 'Delivered-To: alice@localhost'
}

# ------------------------------------------------------------ sendmail mode

@test "real sendmail -i -t (symlink): Date and Message-ID added, the rest byte for byte" {
	printf '%s\n' 'From: Sender <sender@example.test>' "To: $REAL_ADDR" \
	    "Cc: $REAL_ADDR2" 'Subject: from cron' '' 'line one' '.' 'after the dot' \
	    >"$M/s.eml"
	# Under the name sendmail the server comes from the configuration.
	printf 'account default\ntimeout 20\nhost %s\nport %s\n' "$REAL_HOST" \
	    "$REAL_SMTP_PORT" >"$M/sendmail.conf"
	chmod 600 "$M/sendmail.conf"
	run --separate-stderr "$SENDMAIL" -C "$M/sendmail.conf" -i -t <"$M/s.eml"
	assert_success
	assert_equal "$stderr" ''
	local u f
	for u in alice bob; do
		realmta_wait_delivery "$u"
		f=$(realmta_last_message "$u")
		assert_equal "$(head -n 1 "$f")" 'Return-Path: <sender@example.test>'
		realmta_strip_trace "$f" >"$M/$u.got"
		# Exactly one of each, in the header section, in the right form.
		run awk '/^$/ { exit } /^Date:/ { print }' "$M/$u.got"
		assert_output --regexp '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}$'
		run awk '/^$/ { exit } /^Message-I[Dd]:/ { print }' "$M/$u.got"
		assert_output --regexp '^Message-I[Dd]: <[^<>@ ]+@[^<> ]+>$'
		# Without them the message is what was sent (with its "." line,
		# since -i).
		run diff "$M/s.eml" <(awk 'h && /^$/ { h = 0 }
		    h && /^(Date|Message-I[Dd]):/ { next } { print }' h=1 "$M/$u.got")
		assert_success
	done
	# One Message-ID for both copies.
	assert_equal "$(grep '^Message-I' "$M/alice.got")" "$(grep '^Message-I' "$M/bob.got")"
}

@test "real sendmail -bs: relayed live to Postfix, an unknown user is refused at its RCPT with Postfix's own 550 5.1.1" {
	printf 'account default\ntimeout 20\nhost %s\nport %s\n' "$REAL_HOST" \
	    "$REAL_SMTP_PORT" >"$M/sendmail.conf"
	chmod 600 "$M/sendmail.conf"
	run --separate-stderr "$SENDMAIL" -C "$M/sendmail.conf" -bs < <(printf '%s\r\n' \
	    'EHLO client.test' 'MAIL FROM:<sender@example.test>' "RCPT TO:<$REAL_ADDR>" \
	    'RCPT TO:<nobody@example.test>' DATA 'Subject: -bs live' '' 'hello' . QUIT)
	assert_success
	assert_equal "$stderr" ''
	mapfile -t lines < <(printf '%s\n' "${lines[@]}" | tr -d '\r' | grep -v '^250-')
	assert_regex "${lines[2]}" '^250 2\.1\.0 '
	assert_regex "${lines[3]}" '^250 2\.1\.5 '
	assert_regex "${lines[4]}" '^550 5\.1\.1 <nobody@example\.test>: .*User unknown'
	assert_regex "${lines[5]}" '^354 '
	assert_regex "${lines[6]}" '^250 2\.0\.0 Ok: .*queued as '
	assert_equal "${lines[7]}" '221 2.0.0 Bye'
	realmta_wait_delivery alice
	run grep -c '^Subject: -bs live$' "$(realmta_last_message alice)"
	assert_output 1
}

@test "real --sendmail without -i: a lone '.' ends the message" {
	printf '%s\n' 'From: sender@example.test' "To: $REAL_ADDR" 'Subject: lone dot' \
	    'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <lonedot@example.test>' \
	    '' 'before' '.' 'after' >"$M/s.eml"
	head -n 7 "$M/s.eml" >"$M/s-cut.eml"
	run --separate-stderr "$CARRIER" --sendmail --timeout 20 --host "$REAL_HOST" \
	    --port "$REAL_SMTP_PORT" "$REAL_ADDR" <"$M/s.eml"
	assert_success
	assert_delivered "$M/s-cut.eml" alice
}

# -------------------------------------------------------------------- batch

@test "real --batch: three files, three deliveries over one connection" {
	local i
	for i in 1 2 3; do simple_message "$M/b$i.eml" "batch $i"; done
	before=$(postfix_connects)
	run --separate-stderr plain --batch --message-file "$M/b1.eml" --message-file "$M/b2.eml" \
	    --message-file "$M/b3.eml" -f sender@example.test "$REAL_ADDR"
	assert_success
	assert_equal "$output" "$M/b1.eml: delivered"$'\n'"$M/b2.eml: delivered"$'\n'"$M/b3.eml: delivered"
	assert_equal "$stderr" ''
	realmta_wait_delivery alice 3
	for i in 1 2 3; do
		f=$(grep -l "^Subject: batch $i\$" "$REAL_MAILDIR_ROOT"/alice/new/*)
		[ "$(wc -l <<<"$f")" -eq 1 ] || fail "batch $i: delivered ${f:-never}"
		expected "$M/b$i.eml" >"$M/b$i.exp"
		run delivered_is "$M/b$i.exp" "$f"
		assert_success
	done
	# One connection: Postfix logged one more "connect from", and its
	# disconnect line counts three transactions.
	for i in $(seq 100); do
		grep -q 'disconnect from .* mail=3 ' "$REAL_POSTFIX_LOG" && break
		sleep 0.05
	done
	assert_equal "$(postfix_connects)" $((before + 1))
	run grep -c 'disconnect from .* mail=3 rcpt=3 ' "$REAL_POSTFIX_LOG"
	assert_output 1
}

@test "real --batch of 20, pipelined across messages (PIPELINING and CHUNKING): each delivered once, one connection, no improper pipelining in Postfix's log" {
	local i args=()
	for i in $(seq 20); do
		simple_message "$M/p$i.eml" "pipelined $i"
		args+=(--message-file "$M/p$i.eml")
	done
	before=$(postfix_connects)
	run --separate-stderr plain --batch "${args[@]}" -f sender@example.test "$REAL_ADDR"
	assert_success
	assert_equal "$(grep -c ': delivered$' <<<"$output")" 20
	assert_equal "$stderr" ''
	realmta_wait_delivery alice 20
	for i in $(seq 20); do
		f=$(grep -l "^Subject: pipelined $i\$" "$REAL_MAILDIR_ROOT"/alice/new/*)
		[ "$(wc -l <<<"$f")" -eq 1 ] || fail "message $i: delivered ${f:-never}"
	done
	for i in $(seq 100); do
		grep -q 'disconnect from .* mail=20 ' "$REAL_POSTFIX_LOG" && break
		sleep 0.05
	done
	assert_equal "$(postfix_connects)" $((before + 1))
	run grep -c 'disconnect from .* mail=20 rcpt=20 .*bdat=20 ' "$REAL_POSTFIX_LOG"
	assert_output 1
	run grep -c 'improper command pipelining' "$REAL_POSTFIX_LOG"
	assert_output 0
}

# -------------------------------------------------------------------- queue

@test "real queue: server down: queued (0); --flush later delivers it, queue empty" {
	local q=$M/queue port id
	port=$(closed_port) || skip 'no closed port found'
	simple_message "$M/m.eml" queued
	run --separate-stderr "$CARRIER" --timeout 20 --queue="$q" --host "$REAL_HOST" \
	    --port "$port" -f sender@example.test "$REAL_ADDR" <"$M/m.eml"
	assert_success
	assert_regex "$stderr" "queued as [^ ]+ in $q: "
	id=$(sed -n 's/.*queued as \([^ ]*\) in .*/\1/p' <<<"$stderr")
	run "$CARRIER" --list-queue --queue="$q"
	assert_success
	assert_line --index 0 --regexp "^$id .*<sender@example.test>.*attempts 1 .*<$REAL_ADDR>"
	# The first retry is due 5 minutes after the failed attempt (carrier(1)):
	# a --flush=due now leaves it queued.
	run --separate-stderr "$CARRIER" --flush=due --queue="$q" --host "$REAL_HOST" \
	    --port "$REAL_SMTP_PORT"
	assert_success
	assert_regex "$output" "^$id: waiting, next attempt "
	[ -e "$q/$id.msg" ]
	assert_no_delivery alice
	# Five minutes later (the retry time in the entry's envelope moved back).
	grep -q '^next [0-9]*$' "$q/$id.env"
	sed -i 's/^next [0-9]*$/next 1/' "$q/$id.env"
	run --separate-stderr "$CARRIER" --timeout 20 --flush=due --queue="$q" \
	    --host "$REAL_HOST" --port "$REAL_SMTP_PORT"
	assert_success
	assert_equal "$output" "$id: delivered"
	assert_delivered "$M/m.eml" alice
	run "$CARRIER" --list-queue --queue="$q"
	assert_success
	assert_output 'Mail queue is empty'
	[ ! -e "$q/$id.msg" ] && [ ! -e "$q/$id.env" ]
}

@test "real queue: --queue-only, then --flush over STARTTLS with AUTH delivers at once" {
	local q=$M/queue
	awkward_message "$M/m.eml"
	run --separate-stderr "$CARRIER" --queue-only --queue="$q" -f "$REAL_ADDR" \
	    "$REAL_ADDR2" <"$M/m.eml"
	assert_success
	run "$CARRIER" --list-queue --queue="$q"
	assert_line --index 0 --partial "<$REAL_ADDR2>"
	CARRIER_PASSWORD=$REAL_PASS run --separate-stderr submission --flush \
	    --queue="$q" --user "$REAL_USER"
	assert_success
	assert_regex "$output" '^[^ ]+: delivered$'
	assert_delivered "$M/m.eml" bob
	run "$CARRIER" --list-queue --queue="$q"
	assert_output 'Mail queue is empty'
}
