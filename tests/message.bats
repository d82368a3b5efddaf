#!/usr/bin/env bats
# Message handling (SPEC 5, smtplib's send_message()): recipients from the
# headers with -t, Resent- blocks, the envelope sender, Bcc removal, the
# mbox "From " line, SMTPUTF8 and 8BITMIME, and the checks made before
# connecting (THREATS I01, I11-I15, B04, B05, B08-B13, R02).

load lib/common
load lib/core

setup() {
	# No user configuration, netrc or queue of the machine's may leak in.
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$HOME"
}

# send FILE ARGS...: through a fresh default fake server; the caller
# checks status, stderr, commands and data.
send() {
	local file=$1
	shift
	fake_start "${SCENARIO:-}"
	run_carrier "$@" <"$file"
	fake_wait
}

# refuse STATUS REGEX FILE ARGS...: carrier, run against the current fake
# server, exits with STATUS, prints nothing on stdout and one stderr line
# matching REGEX.  The test ends with no_connection.
refuse() {
	local want=$1 re=$2 file=$3
	shift 3
	run_carrier "$@" <"$file"
	assert_status "$want"
	assert_equal "$output" ""
	assert_stderr_line "$re"
}

# no_connection: stops the fake server; it never saw a connection.
no_connection() {
	fake_stop
	refute_connected
}

# refuse_on_reading STATUS REGEX FILE ARGS...: one refusal of what the
# message holds, with a fresh fake server that sees no transaction (the
# session opens while the message is read: EHLO, then QUIT).
refuse_on_reading() {
	fake_start ''
	refuse "$@"
	refute_transaction
}

# refuse_before_connecting STATUS REGEX FILE ARGS...: one refusal with a
# fresh fake server that never sees a connection.
refuse_before_connecting() {
	fake_start ''
	refuse "$@"
	no_connection
}

# expect_mail SENDER DATA RCPT...: the server got exactly EHLO, MAIL
# FROM:<SENDER> SIZE=n, one RCPT each, DATA, QUIT, and message 1 arrived
# as DATA (a bash string with CRLF and the terminator, no dot-stuffing);
# n is DATA's octets without the terminator.
expect_mail() {
	local sender=$1 want=$2 size r
	shift 2
	size=$(($(printf '%s' "$want" | wc -c) - 3))
	{
		echo 'EHLO client.test'
		echo "MAIL FROM:<$sender> SIZE=$size"
		for r in "$@"; do echo "RCPT TO:<$r>"; done
		echo DATA
		echo QUIT
	} | fake_assert_commands
	assert_data 1 "$want"
}

# ------------------------------------------------------------------ -t

@test "-t: every To, Cc and Bcc field counts; groups, display names and comments stay out of the envelope" {
	local m
	m=$(msg 'From: "Alice, A." <a@x.test>\nTo: Team: e@x.test, "F, G" <f@x.test>;, undisclosed-recipients:;\nCc: (a (nested) comment) k@x.test\nTo: =?UTF-8?B?w6lsaXNl?= <g@x.test>, h@x.test (H. Comment)\nBcc: "Secret, S." <s@x.test>\nCc: "john doe"@x.test, j@[192.0.2.1]\nBcc: t@x.test\nSubject: s\n\nbody\n')
	send "$m" -t
	assert_status 0
	assert_quiet
	expect_mail a@x.test $'From: "Alice, A." <a@x.test>\r\nTo: Team: e@x.test, "F, G" <f@x.test>;, undisclosed-recipients:;\r\nCc: (a (nested) comment) k@x.test\r\nTo: =?UTF-8?B?w6lsaXNl?= <g@x.test>, h@x.test (H. Comment)\r\nCc: "john doe"@x.test, j@[192.0.2.1]\r\nSubject: s\r\n\r\nbody\r\n.\r\n' \
		e@x.test f@x.test g@x.test h@x.test k@x.test '"john doe"@x.test' 'j@[192.0.2.1]' s@x.test t@x.test
}

@test "-t: folded address fields (LF, CRLF, space, tab) and an obsolete route" {
	local m
	m=$(msg 'From: a@x.test\r\nTo: b@x.test,\r\n  c@x.test,\n\tDee\n <d@x.test>\nCc: <@r1.test,@r2.test:e@x.test>,\r\n\r\n\tf@x.test\n\nx\n')
	# (the CRLF CRLF above ends the header block: f@x.test is body text)
	send "$m" -t
	assert_status 0
	assert_quiet
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test,\r\n  c@x.test,\r\n\tDee\r\n <d@x.test>\r\nCc: <@r1.test,@r2.test:e@x.test>,\r\n\r\n\tf@x.test\r\n\r\nx\r\n.\r\n' \
		b@x.test c@x.test d@x.test e@x.test
}

@test "-t: duplicates are sent once, and command-line recipients come first" {
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test, c@x.test\nCc: B@X.TEST, <c@x.test>\nBcc: Bee <b@x.test>, z@x.test\n\nx\n')
	send "$m" -t z@x.test '<y@x.test>' b@x.test
	assert_status 0
	assert_quiet
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test, c@x.test\r\nCc: B@X.TEST, <c@x.test>\r\n\r\nx\r\n.\r\n' \
		z@x.test y@x.test b@x.test c@x.test
}

@test "without -t the headers give no recipient: only the command line counts" {
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test\nCc: c@x.test\nBcc: d@x.test\n\nx\n')
	send "$m" z@x.test
	assert_status 0
	assert_quiet
	# Bcc is removed all the same (smtplib's send_message does too).
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test\r\nCc: c@x.test\r\n\r\nx\r\n.\r\n' \
		z@x.test
}

@test "-t and no recipient anywhere: 65, nothing sent" {
	local m
	m=$(msg 'From: a@x.test\nTo: undisclosed-recipients:;\nBcc:\nCc: <>\nSubject: s\n\nTo: body@x.test\n')
	refuse_on_reading 65 '^carrier: no recipients: ' "$m" -t
}

@test "no recipient and no -t: 64, nothing sent" {
	refuse_before_connecting 64 '^carrier: no recipients: ' "$(test_message)" -f a@x.test
}

@test "malformed address fields: 65 naming the field, nothing sent" {
	local m field value
	fake_start ''
	while IFS='|' read -r field value; do
		m=$(msg "From: a@x.test\n$field: $value\n\nx\n")
		refuse 65 "^carrier: $field: " "$m" -t
	done <<-'EOF'
		To|alice@example.org)<bob@example.com>
		To|a@b<<c@d>
		Cc|<b@x.test
		Cc|"unterminated@x.test
		Bcc|b@@x.test
		To|b@x.test (open comment
		Bcc|group: b@x.test
	EOF
	refute_transaction
}

@test "a malformed From is named too when it gives the sender" {
	local m
	m=$(msg 'From: a@x.test)\nTo: b@x.test\n\nx\n')
	refuse_on_reading 65 '^carrier: From: ' "$m" -t
}

# ------------------------------------------------------------- Resent-

@test "Resent-: no block: To, Cc, Bcc and From; a Resent-To without Resent-Date is no block" {
	local m
	m=$(msg 'Resent-To: r@x.test\nResent-From: rf@x.test\nFrom: a@x.test\nTo: b@x.test\n\nx\n')
	send "$m" -t
	assert_status 0
	assert_quiet
	expect_mail a@x.test $'Resent-To: r@x.test\r\nResent-From: rf@x.test\r\nFrom: a@x.test\r\nTo: b@x.test\r\n\r\nx\r\n.\r\n' b@x.test
}

@test "Resent-: one block: Resent-To/Cc/Bcc and Resent-From; both Bcc and Resent-Bcc removed" {
	local m
	m=$(msg 'Resent-Date: Fri, 02 Jan 2015 00:00:00 +0000\nResent-From: r@x.test\nResent-To: rt@x.test\nResent-Cc: rc@x.test\nResent-Bcc: rb@x.test\nFrom: a@x.test\nTo: b@x.test\nCc: c@x.test\nBcc: bb@x.test\n\nx\n')
	send "$m" -t
	assert_status 0
	assert_quiet
	expect_mail r@x.test $'Resent-Date: Fri, 02 Jan 2015 00:00:00 +0000\r\nResent-From: r@x.test\r\nResent-To: rt@x.test\r\nResent-Cc: rc@x.test\r\nFrom: a@x.test\r\nTo: b@x.test\r\nCc: c@x.test\r\n\r\nx\r\n.\r\n' \
		rt@x.test rc@x.test rb@x.test
}

@test "Resent-: one block without -t: the sender is Resent-Sender, else Resent-From" {
	local m
	m=$(msg 'Resent-Date: Fri, 02 Jan 2015 00:00:00 +0000\nResent-From: r@x.test\nResent-Sender: rs@x.test\nFrom: a@x.test\nSender: s@x.test\n\nx\n')
	send "$m" z@x.test
	assert_status 0
	fake_assert_sent --regexp '^MAIL FROM:<rs@x\.test> SIZE=[0-9]+$'
	m=$(msg 'Resent-Date: Fri, 02 Jan 2015 00:00:00 +0000\nResent-From: r@x.test\nFrom: a@x.test\nSender: s@x.test\n\nx\n')
	send "$m" z@x.test
	assert_status 0
	fake_assert_sent --regexp '^MAIL FROM:<r@x\.test> SIZE=[0-9]+$'
}

@test "Resent-: two blocks with -t: 65 naming them, nothing sent" {
	local m
	m=$(msg 'Resent-Date: Sat, 03 Jan 2015 00:00:00 +0000\nResent-From: s@x.test\nResent-To: st@x.test\nResent-Date: Fri, 02 Jan 2015 00:00:00 +0000\nResent-From: r@x.test\nResent-To: rt@x.test\nFrom: a@x.test\nTo: b@x.test\n\nx\n')
	refuse_on_reading 65 '^carrier: message: .*2 Resent- blocks' "$m" -t
}

# -------------------------------------------------------------- sender

@test "sender: From when there is nothing else" {
	local m
	m=$(msg 'From: Alice <a@x.test>\nTo: b@x.test\n\nx\n')
	send "$m" -t
	assert_status 0
	fake_assert_sent --regexp '^MAIL FROM:<a@x\.test> SIZE=[0-9]+$'
}

@test "sender: Sender before From" {
	local m
	m=$(msg 'From: Alice <a@x.test>\nSender: Sec <sec@x.test>\nTo: b@x.test\n\nx\n')
	send "$m" -t
	assert_status 0
	fake_assert_sent --regexp '^MAIL FROM:<sec@x\.test> SIZE=[0-9]+$'
}

@test "sender: the account's from before Sender and From, -f before the account" {
	local m cfg=$BATS_TEST_TMPDIR/config
	printf 'account default\nfrom cfg@x.test\n' >"$cfg"
	chmod 600 "$cfg"
	m=$(msg 'From: Alice <a@x.test>\nSender: sec@x.test\nTo: b@x.test\n\nx\n')
	send "$m" --config "$cfg" -t
	assert_status 0
	fake_assert_sent --regexp '^MAIL FROM:<cfg@x\.test> SIZE=[0-9]+$'
	send "$m" --config "$cfg" -f '<arg@x.test>' -t
	assert_status 0
	fake_assert_sent --regexp '^MAIL FROM:<arg@x\.test> SIZE=[0-9]+$'
	# The headers are not touched by any of this.
	assert_data 1 $'From: Alice <a@x.test>\r\nSender: sec@x.test\r\nTo: b@x.test\r\n\r\nx\r\n.\r\n'
}

@test "sender: From: MAILER-DAEMON <> is MAIL FROM:<>" {
	local m
	m=$(msg 'From: MAILER-DAEMON <>\nTo: b@x.test\n\nx\n')
	send "$m" -t
	assert_status 0
	assert_quiet
	fake_assert_sent 'MAIL FROM:<> SIZE=43'
}

@test "several From addresses without Sender: 65 naming From, nothing sent" {
	local m
	fake_start ''
	m=$(msg 'From: a@x.test, c@x.test\nTo: b@x.test\n\nx\n')
	refuse 65 '^carrier: From: .*Sender' "$m" -t
	# Two From fields are several addresses too.
	m=$(msg 'From: a@x.test\nFrom: c@x.test\nTo: b@x.test\n\nx\n')
	refuse 65 '^carrier: From: .*Sender' "$m" -t
	refute_transaction
}

@test "several From addresses with a Sender: the Sender; with -f: -f" {
	local m
	m=$(msg 'From: a@x.test, c@x.test\nSender: s@x.test\nTo: b@x.test\n\nx\n')
	send "$m" -t
	assert_status 0
	fake_assert_sent --regexp '^MAIL FROM:<s@x\.test> SIZE=[0-9]+$'
	m=$(msg 'From: a@x.test, c@x.test\nTo: b@x.test\n\nx\n')
	send "$m" -t -f f@x.test
	assert_status 0
	fake_assert_sent --regexp '^MAIL FROM:<f@x\.test> SIZE=[0-9]+$'
}

@test "no sender anywhere (native form): 65, nothing sent" {
	local m
	m=$(msg 'To: b@x.test\nSubject: no from\n\nx\n')
	refuse_on_reading 65 '^carrier: no sender: ' "$m" -t
}

# ----------------------------------------------------------------- Bcc

@test "Bcc and Resent-Bcc are removed with their continuation lines: case variants, empty, repeated, last" {
	local m
	m=$(msg 'From: a@x.test\nBCC: u@x.test,\n\tv@x.test\n (comment)\nTo: b@x.test\nbCc:\nX-Bcc: keep@x.test\nbcc: w@x.test\nResent-bcc: rb@x.test\nBccx: keep2\nSubject: s\nBcc: last@x.test\n\nbody\n')
	send "$m" -t
	assert_status 0
	assert_quiet
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test\r\nX-Bcc: keep@x.test\r\nBccx: keep2\r\nSubject: s\r\n\r\nbody\r\n.\r\n' \
		b@x.test u@x.test v@x.test w@x.test last@x.test
}

@test "Bcc as the last field, its continuation line without a final newline: removed whole" {
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test\nBcc: c@x.test,\n d@x.test')
	send "$m" -t
	assert_status 0
	assert_quiet
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test\r\n.\r\n' \
		b@x.test c@x.test d@x.test
}

@test "a Bcc continuation line that arrives in a later read is still part of the Bcc field" {
	# The writer pauses between a field and its continuation line (a
	# slow pipe): carrier sees them in two reads.
	fake_start ''
	run_carrier -t < <(
		printf 'From: a@x.test\nTo: b@x.test\nBcc: c@x.test,\n'
		sleep 1
		printf ' d@x.test\nBcc: e@x.test\nSubject: s\n\nx\n'
	)
	fake_wait
	assert_status 0
	assert_quiet
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test\r\nSubject: s\r\n\r\nx\r\n.\r\n' \
		b@x.test c@x.test d@x.test e@x.test
}

@test "obsolete 'Bcc :' (blanks before the colon) is a Bcc field: removed, and a recipient with -t" {
	# RFC 5322 4.5.3 obs-bcc; receiving MTAs (Postfix's is_header) read it
	# as a header, so leaving it would show the Bcc to every recipient.
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test\nBcc : s@x.test\nSubject: s\n\nx\n')
	send "$m" -t
	assert_status 0
	fake_assert_sent 'RCPT TO:<s@x.test>'
	refute grep -qi 'bcc' "$FAKE_DIR/data.1"
	assert_data 1 $'From: a@x.test\r\nTo: b@x.test\r\nSubject: s\r\n\r\nx\r\n.\r\n'
}

@test "--keep-bcc keeps Bcc and Resent-Bcc; -t still sends to them" {
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test\nBcc: c@x.test,\n d@x.test\nResent-Bcc: e@x.test\n\nx\n')
	send "$m" -t --keep-bcc
	assert_status 0
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test\r\nBcc: c@x.test,\r\n d@x.test\r\nResent-Bcc: e@x.test\r\n\r\nx\r\n.\r\n' \
		b@x.test c@x.test d@x.test
}

@test "Bcc in the body or in an attached message/rfc822 part: untouched, no recipient" {
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: message/rfc822\n\nFrom: old@x.test\nBcc: inner@x.test\n\nold\n--XX--\nBcc: tail@x.test\n')
	send "$m" -t
	assert_status 0
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nFrom: old@x.test\r\nBcc: inner@x.test\r\n\r\nold\r\n--XX--\r\nBcc: tail@x.test\r\n.\r\n' \
		b@x.test
}

# ---------------------------------------------------------------- mbox

@test "a leading mbox 'From ' line is removed and never gives the sender" {
	local m
	m=$(msg 'From other@y.test Thu Jan  1 00:00:00 2015\nFrom: a@x.test\nTo: b@x.test\n\nFrom here on\n')
	send "$m" -t
	assert_status 0
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test\r\n\r\nFrom here on\r\n.\r\n' \
		b@x.test
}

# ------------------------------------------------------ SMTPUTF8, 8BIT

@test "SMTPUTF8 offered, non-ASCII sender: MAIL carries SMTPUTF8 and BODY=8BITMIME" {
	SCENARIO='capabilities +SMTPUTF8' send "$(test_message)" -f 'jörg@x.test' b@x.test
	assert_status 0
	assert_quiet
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<jörg@x.test> SIZE=135 BODY=8BITMIME SMTPUTF8
		RCPT TO:<b@x.test>
		DATA
		QUIT
	EOF
}

@test "SMTPUTF8 offered, non-ASCII recipient from a To field" {
	local m
	m=$(msg 'From: a@x.test\nTo: Ünal <ünal@bücher.test>\n\nx\n')
	SCENARIO='capabilities +SMTPUTF8' send "$m" -t
	assert_status 0
	assert_quiet
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=53 BODY=8BITMIME SMTPUTF8
		RCPT TO:<ünal@bücher.test>
		DATA
		QUIT
	EOF
}

@test "SMTPUTF8 not offered, non-ASCII address: 82 before MAIL, one line" {
	fake_start ''
	run_carrier -f 'jörg@x.test' b@x.test <"$(test_message)"
	fake_wait
	assert_status 82
	assert_equal "$output" ""
	assert_stderr_line '^carrier: SMTPUTF8: '
	fake_assert_commands <<-'EOF'
		EHLO client.test
		QUIT
	EOF
}

@test "SMTPUTF8 not offered, non-ASCII domains only: sent, the domains in A-labels (IDNA2008)" {
	send "$(test_message)" -f 'a@bücher.test' 'b@Bücher.test' 'info@例え.テスト'
	assert_status 0
	assert_quiet
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@xn--bcher-kva.test> SIZE=135
		RCPT TO:<b@xn--bcher-kva.test>
		RCPT TO:<info@xn--r8jz45g.xn--zckzah>
		DATA
		QUIT
	EOF
}

@test "SMTPUTF8 offered, non-ASCII domain: sent as it is (U-labels) with SMTPUTF8" {
	SCENARIO='capabilities +SMTPUTF8' send "$(test_message)" -f a@x.test 'b@bücher.test'
	assert_status 0
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=135 BODY=8BITMIME SMTPUTF8
		RCPT TO:<b@bücher.test>
		DATA
		QUIT
	EOF
}

@test "SMTPUTF8 not offered, a domain that is no valid IDNA2008 name: 65 naming it, no MAIL" {
	send "$(test_message)" -f a@x.test 'b@☃.test'
	assert_status 65
	assert_equal "$output" ""
	# Bytes that are not ASCII are escaped on a terminal (strvis).
	assert_stderr_line '^carrier: recipient: <b@\\342\\230\\203\.test>: the domain is not a valid internationalized name \(string contains a disallowed character\)$'
	fake_assert_commands <<-'EOF'
		EHLO client.test
		QUIT
	EOF
	send "$(test_message)" -f 'a@אb.test' b@x.test
	assert_status 65
	assert_stderr_line '^carrier: sender: <a@\\327\\220b\.test>: the domain is not a valid internationalized name \(string has forbidden bi-directional properties\)$'
}

@test "SMTPUTF8 not offered, non-ASCII local part and domain: still 82 (the local part needs SMTPUTF8)" {
	send "$(test_message)" -f a@x.test 'jörg@bücher.test'
	assert_status 82
	assert_stderr_line '^carrier: SMTPUTF8: '
	fake_refute_sent --partial 'MAIL FROM'
}

@test "SMTPUTF8 offered before STARTTLS only counts as not offered" {
	need_certs
	fake_start <<-'EOF'
		tls-cert server.pem
		capabilities PIPELINING, 8BITMIME, SMTPUTF8
		capabilities-tls PIPELINING, 8BITMIME
	EOF
	run_carrier --starttls --tls-ca "$CERTS/ca.pem" -f 'jörg@x.test' b@x.test <"$(test_message)"
	fake_wait
	assert_status 82
	stderr_has '^carrier: SMTPUTF8: '
	fake_refute_sent --partial 'MAIL FROM'
}

@test "--smtputf8: SMTPUTF8 on an ASCII transaction when offered, 82 when not" {
	SCENARIO='capabilities +SMTPUTF8' send "$(test_message)" --smtputf8 -f a@x.test b@x.test
	assert_status 0
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=135 BODY=8BITMIME SMTPUTF8'
	send "$(test_message)" --smtputf8 -f a@x.test b@x.test
	assert_status 82
	stderr_has '^carrier: SMTPUTF8: '
	fake_refute_sent --partial 'MAIL FROM'
}

@test "8-bit body with 8BITMIME offered: BODY=8BITMIME and no SMTPUTF8" {
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test\n\ncaf\xc3\xa9\n')
	SCENARIO='capabilities +SMTPUTF8' send "$m" -t
	assert_status 0
	assert_quiet
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=39 BODY=8BITMIME'
}

# ---------------------------------------- checks before connecting (I01)

@test "CR or LF in -f: 65 before connecting" {
	local m
	fake_start ''
	m=$(test_message)
	refuse 65 '^carrier: address: .*control character' "$m" -f $'a@x.test\r\nDATA' b@x.test
	refuse 65 '^carrier: address: .*control character' "$m" -f $'a@x.test\rRSET' b@x.test
	refuse 65 '^carrier: address: .*control character' "$m" -f $'a@x.test\nRSET' b@x.test
	no_connection
}

@test "CR, LF, TAB or another control byte in a command-line recipient: 65 before connecting" {
	local m r
	m=$(test_message)
	fake_start ''
	for r in $'b@x.test\r\nRCPT TO:<evil@x.test>' $'b@x.test\nDATA' $'b@x.test\r' $'b\t@x.test' $'b\x7f@x.test' $'b\x1b@x.test'; do
		refuse 65 '^carrier: address: .*control character' "$m" -f a@x.test "$r"
	done
	no_connection
}

@test "the refusal of an address with CR, BS, BEL or ESC shows them escaped, never raw (U3)" {
	local m r
	m=$(test_message)
	fake_start ''
	for r in $'b@x.test\r\nDATA' $'b\b@x.test' $'b\a@x.test' $'b\e[2J@x.test'; do
		refuse 65 '^carrier: address: .*control character' "$m" -f a@x.test "$r"
		assert_stderr_clean
	done
	no_connection
}

@test "CR/LF, a control byte or NUL in a To address with -t: 65 before connecting" {
	local m
	fake_start ''
	# A CRLF inside the angle brackets splits the field: malformed.
	m=$(msg 'From: a@x.test\nTo: <b@x.test\r\nRCPT TO:<evil@x.test>>\n\nx\n')
	refuse 65 '^carrier: To: ' "$m" -t
	m=$(msg 'From: a@x.test\nTo: "b\x01"@x.test\n\nx\n')
	refuse 65 '^carrier: To: ' "$m" -t
	m=$(msg 'From: a@x.test\nTo: b\x0b@x.test\n\nx\n')
	refuse 65 '^carrier: To: ' "$m" -t
	m=$(msg 'From: a@x.test\nTo: b@x.test\x00\n\nx\n')
	refuse 65 '^carrier: message: .*NUL' "$m" -t
	refute_transaction
}

@test "an address of 254 octets goes; 255 octets is 65 before connecting (sender and recipient)" {
	local l64 d189 ok long
	l64=$(printf 'l%.0s' {1..64})
	d189=$(printf 'a%.0s' {1..63}).$(printf 'b%.0s' {1..63}).$(printf 'c%.0s' {1..61})
	ok=$l64@$d189
	long=$l64@${d189}d
	assert_equal "${#ok}" 254
	send "$(test_message)" -f "$ok" "$ok"
	assert_status 0
	fake_assert_sent "RCPT TO:<$ok>"
	fake_start ''
	refuse 65 '^carrier: address: .*longer than 254' "$(test_message)" -f a@x.test "$long"
	refuse 65 '^carrier: address: .*longer than 254' "$(test_message)" -f "$long" b@x.test
	# A local part over 64 octets is refused as well.
	refuse 65 '^carrier: address: .*local part' "$(test_message)" -f a@x.test "${l64}l@x.test"
	no_connection
}

# ------------------------------------------------------------ R02, B12

@test "a header block over 1 MiB: 65 before connecting" {
	local f=$BATS_TEST_TMPDIR/big.eml
	{
		printf 'From: a@x.test\nTo: b@x.test\n'
		seq -f 'X-Pad-%05g: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' 15000
		printf '\nbody\n'
	} >"$f"
	refuse_on_reading 65 '^carrier: message: header block larger than' "$f" -t
}

@test "1 MiB of header without any line end: 65 before connecting" {
	local f=$BATS_TEST_TMPDIR/nonl.eml
	{
		printf 'From: a@x.test\nTo: b@x.test\nX-Long: '
		head -c 1100000 /dev/zero | tr '\0' 'a'
	} >"$f"
	refuse_on_reading 65 '^carrier: message: header (line|block) (longer|larger) than' "$f" -t
}

@test "a header line without a colon ends the header block: what follows is body, never recipients" {
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test\nnot a header\nBcc: c@x.test\n\nx\n')
	send "$m" -t
	assert_status 0
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test\r\nnot a header\r\nBcc: c@x.test\r\n\r\nx\r\n.\r\n' \
		b@x.test
}

@test "-t: a folded To of 300 addresses and a header line over 998 octets: every address once, the line as it is" {
	local f=$BATS_TEST_TMPDIR/long.eml i want
	{
		printf 'From: a@x.test\nTo: r0@x.test'
		for ((i = 1; i < 300; i++)); do printf ',\n r%d@x.test' "$i"; done
		printf '\nCc: r7@x.test, r299@x.test\nX-Long: %s\n\nx\n' "$(head -c 2000 /dev/zero | tr '\0' y)"
	} >"$f"
	send "$f" -t
	assert_status 0
	assert_quiet
	run grep -c '^RCPT TO:<r[0-9]*@x.test>$' "$FAKE_DIR/commands"
	assert_output 300
	fake_assert_sent 'RCPT TO:<r299@x.test>'
	grep -q "^X-Long: $(head -c 2000 /dev/zero | tr '\0' y)"$'\r$' "$FAKE_DIR/data.1"
}

@test "-t: headers only, without a final newline; empty input with -t is 65" {
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test')
	send "$m" -t
	assert_status 0
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test\r\n.\r\n' b@x.test
	refuse_on_reading 65 '^carrier: no recipients: ' /dev/null -t
}

# --------------------------------------------------- address forms (B)

@test "-f '' and -f '<>' are the null sender" {
	send "$(test_message)" -f '' b@x.test
	assert_status 0
	fake_assert_sent "MAIL FROM:<> SIZE=135"
	send "$(test_message)" -f '<>' b@x.test
	assert_status 0
	fake_assert_sent "MAIL FROM:<> SIZE=135"
}

@test "address forms that go as written: <a@b> once bracketed, quoted local part, address literals" {
	send "$(test_message)" -f '<a@x.test>' '<b@x.test>' '"john doe"@x.test' 'u@[192.0.2.1]' 'u@[IPv6:2001:db8::1]'
	assert_status 0
	assert_quiet
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=135
		RCPT TO:<b@x.test>
		RCPT TO:<"john doe"@x.test>
		RCPT TO:<u@[192.0.2.1]>
		RCPT TO:<u@[IPv6:2001:db8::1]>
		DATA
		QUIT
	EOF
}

@test "a blank or an angle bracket outside quotes in a command-line address: 65 before connecting" {
	fake_start ''
	refuse 65 '^carrier: address: .*space' "$(test_message)" -f a@x.test 'b@x.test c@x.test'
	refuse 65 "^carrier: address: .*'<' or '>'" "$(test_message)" -f a@x.test '<<b@x.test>>'
	refuse 65 "^carrier: address: .*'<' or '>'" "$(test_message)" -f a@x.test 'b@x.test>RCPT TO:<c@x.test'
	no_connection
}

@test "a command-line address that is no address (a@@x, @x, a@, a@x..y, a(b)@x): 65 before connecting" {
	local a
	fake_start ''
	for a in 'a@@x.test' '@x.test' 'b@' 'b@x..test' 'b(c)@x.test' 'b;c@x.test'; do
		refuse 65 '^carrier: address: ' "$(test_message)" -f a@x.test "$a"
	done
	no_connection
}

@test "a comma list on the command line: each address its own RCPT (or 65), never one RCPT with a comma" {
	fake_start ''
	run_carrier -f a@x.test 'b@x.test,c@x.test' <"$(test_message)"
	if [[ $status -eq 65 ]]; then
		fake_stop
		refute_connected
	else
		fake_wait
		assert_status 0
		fake_assert_sent 'RCPT TO:<b@x.test>'
		fake_assert_sent 'RCPT TO:<c@x.test>'
	fi
	fake_refute_sent 'RCPT TO:<b@x.test,c@x.test>'
}

@test "invalid UTF-8 (stray, overlong, surrogate, truncated) or a C1 control in an address: 65 even with SMTPUTF8" {
	local a
	fake_start 'capabilities +SMTPUTF8'
	for a in $'\x80b@x.test' $'b\xc3(@x.test' $'\xc0\xafb@x.test' $'\xed\xa0\x80b@x.test' $'b@x.test\xc3'; do
		refuse 65 '^carrier: address: .*not valid UTF-8' "$(test_message)" -f a@x.test "$a"
		assert_stderr_clean
	done
	refuse 65 '^carrier: address: .*control character' "$(test_message)" -f a@x.test $'b\xc2\x85c@x.test'
	no_connection
}

# ------------------------------------------- a file that changes (I17)

# crlf_file FILE OCTETS: a message of about OCTETS octets already in CRLF
# form, so that a large one is sent from the file itself.
crlf_file() {
	big_message "$1.lf" "$2"
	echo >>"$1.lf"
	sed 's/$/\r/' "$1.lf" >"$1"
	rm -f "$1.lf"
}

# grows_during_greeting FILE BYTES: in the background, once the fake server
# has the connection (carrier read FILE before connecting), appends BYTES
# (printf %b) to FILE while the greeting is delayed.
grows_during_greeting() {
	local file=$1 bytes=$2
	(
		for ((n = 0; n < 200; n++)); do
			grep -q 'connection 1 from' "$FAKE_DIR/transcript" 2>/dev/null && break
			sleep 0.02
		done
		printf '%b' "$bytes" >>"$file"
	) 3>&- &
}

# What an attacker appends: commands after a BDAT chunk, and bytes that
# transmission form forbids inside DATA.
GROWTH='RSET\r\nMAIL FROM:<ceo@corp.test>\r\nRCPT TO:<victim@x.test>\r\nBDAT 20 LAST\r\n0123456789\n.\n\0\r.\r\n'

# no_transaction_completed: the server got no injected command and no
# complete message.
no_transaction_completed() {
	fake_refute_sent RSET
	fake_refute_sent --partial 'ceo@corp.test'
	fake_refute_sent --partial 'victim@x.test'
	[[ ! -e $FAKE_DIR/message.1 ]] || fail 'a message was completed'
	wire_lacks RSET
}

# grown_file_refused SCENARIO: a 390 KiB CRLF file grows while the server
# of SCENARIO delays its greeting; carrier exits 66 with one line and the
# server got no injected command and no complete message.
grown_file_refused() {
	local f=$BATS_TEST_TMPDIR/big.eml
	crlf_file "$f" $((390 * 1024))
	fake_start "$1"
	grows_during_greeting "$f" "$GROWTH"
	run_carrier -f a@x.test b@x.test <"$f"
	fake_done
	assert_status 66
	assert_equal "$output" ""
	assert_stderr_line '^carrier: reading the message: the file changed after it was checked$'
	no_transaction_completed
}

@test "a large CRLF file that grows during the greeting (CHUNKING, PIPELINING): 66, no byte of the growth sent, no message" {
	grown_file_refused $'capabilities +CHUNKING\ngreeting sleep 1500 | default'
}

@test "a large CRLF file that grows during the greeting (DATA): 66, no final dot, no message" {
	grown_file_refused 'greeting sleep 1500 | default'
	if [[ -e $FAKE_DIR/data.1 ]]; then
		! grep -q $'\r\n\\.\r\n' "$FAKE_DIR/data.1" || fail 'the final dot was sent'
	fi
}

@test "a large CRLF file that does not change: sent from the file, exactly" {
	local f=$BATS_TEST_TMPDIR/big.eml
	crlf_file "$f" $((390 * 1024))
	fake_start 'capabilities +CHUNKING'
	run_carrier -f a@x.test b@x.test <"$f"
	fake_done
	assert_status 0
	assert_quiet
	cmp "$f" "$FAKE_DIR/message.1"
}

# spooled_message FILE: a 3 MB message with LF line ends (so it is spooled),
# dot lines first in the body, at 128 KiB and 1 MiB boundaries, doubled, and
# last; writes FILE and FILE.wire, the bytes expected after the 354.
spooled_message() {
	"$PYTHON" - "$1" <<-'PY'
		import sys
		body = [b".first"]
		n = 6
		while n < 3 * 1024 * 1024:
		    l = b"line %d ..." % n
		    if n in (131070, 131072, 1048574, 1048576) or n % 700001 < 11:
		        l = b"." + l
		    body.append(l)
		    n += len(l) + 1
		body.append(b"..")
		raw = b"From: a@x.test\nSubject: dots\n\n" + b"\n".join(body) + b"\n"
		open(sys.argv[1], "wb").write(raw)
		crlf = raw.replace(b"\n", b"\r\n").split(b"\r\n")[:-1]
		wire = b"".join((b"." if l.startswith(b".") else b"") + l + b"\r\n"
		                for l in crlf) + b".\r\n"
		open(sys.argv[1] + ".wire", "wb").write(wire)
		open(sys.argv[1] + ".raw", "wb").write(b"".join(l + b"\r\n" for l in crlf))
	PY
}

@test "a spooled message is sent from the spool (sendfile): DATA dot-stuffed, exactly" {
	local m=$BATS_TEST_TMPDIR/dots.eml
	spooled_message "$m"
	SCENARIO='capabilities PIPELINING, SIZE 10485760' send "$m" -f a@x.test b@x.test
	assert_status 0
	assert_equal "$stderr" ""
	cmp "$FAKE_DIR/data.1" "$m.wire"
	fake_assert_sent "MAIL FROM:<a@x.test> SIZE=$(stat -c %s "$m.raw")"
}

@test "a spooled message is sent from the spool (sendfile): BDAT as it is, exactly" {
	local m=$BATS_TEST_TMPDIR/dots.eml
	spooled_message "$m"
	SCENARIO='capabilities +CHUNKING' send "$m" -f a@x.test b@x.test
	assert_status 0
	assert_equal "$stderr" ""
	cmp "$FAKE_DIR/data.1" "$m.raw"
	fake_assert_sent "BDAT $(stat -c %s "$m.raw") LAST"
}

@test "a spooled message with more dot lines than listed: DATA dot-stuffed, exactly" {
	local m=$BATS_TEST_TMPDIR/many.eml
	{
		printf 'From: a@x.test\n\n'
		yes '.a dot line to stuff, and more text to fill it up' | head -c 1000000
	} >"$m"
	"$PYTHON" -c 'import sys
raw = open(sys.argv[1], "rb").read().replace(b"\n", b"\r\n")
if not raw.endswith(b"\r\n"): raw += b"\r\n"
open(sys.argv[1] + ".wire", "wb").write(raw.replace(b"\r\n.", b"\r\n..") + b".\r\n")' "$m"
	send "$m" -f a@x.test b@x.test
	assert_status 0
	assert_equal "$stderr" ""
	cmp "$FAKE_DIR/data.1" "$m.wire"
}
