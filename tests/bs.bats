#!/usr/bin/env bats
# sendmail -bs: the SMTP session on standard input read strictly (THREATS
# I18, SMTP smuggling, CVE-2023-51764 class): only CRLF.CRLF ends the data,
# a bare LF or CR in it is refused with 550 and ends the session, and
# input that ends inside the data relays nothing and is exit 65.  And the
# session relayed live (carrier(1) -bs): each MAIL, RCPT and RSET goes on
# to the server at once and its reply comes back as it was; the reply to
# the data is the server's; a server that cannot be reached gets a 4xx
# naming the cause, or with a queue the transaction is queued.

load lib/common
load lib/core

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	export LC_ALL=C.UTF-8
	mkdir -p "$HOME"
	SENDMAIL=$BATS_TEST_TMPDIR/sendmail
	ln -sf "$CARRIER" "$SENDMAIL"
}

# bs_config PORT [LINE...]: the configuration for `sendmail -bs` toward
# 127.0.0.1:PORT, with LINEs added to the account.  Under the name
# sendmail the server comes from the configuration (carrier's own options
# are refused there).
bs_config() {
	local port=$1
	shift
	mkdir -p "$XDG_CONFIG_HOME/carrier"
	{
		printf 'account default\nhost 127.0.0.1\nport %s\ndomain client.test\ntimeout 5\n' "$port"
		[[ $# -eq 0 ]] || printf '%s\n' "$@"
	} >"$XDG_CONFIG_HOME/carrier/config"
	chmod 600 "$XDG_CONFIG_HOME/carrier/config"
}

# bs SCRIPT [SCENARIO]: `sendmail -bs` with SCRIPT (printf %b) on standard
# input, against a fresh fake server (SCENARIO, default none), which the
# caller waits for (fake_done).
bs() {
	fake_start "${2:-}"
	bs_config "$FAKE_PORT"
	run --separate-stderr "$SENDMAIL" -bs < <(printf '%b' "$1")
}

# replies: the replies carrier gave its client, CR removed, without the
# greeting and the EHLO reply (lines 250-... and the last one).
replies() {
	printf '%s\n' "${lines[@]}" | tr -d '\r' | sed '1d; /^250-/d; /^250 ENHANCEDSTATUSCODES$/d'
}

# assert_replies LINE...: replies are the LINEs; RELAYED is how a relayed
# transaction's data and the session end.
assert_replies() {
	assert_equal "$(replies)" "$(printf '%s\n' "$@")"
}
RELAYED=('354 End data with <CR><LF>.<CR><LF>' '250 2.0.0 Ok: queued as FAKE1' '221 2.0.0 Bye')

HEAD='EHLO local.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n'
SMUGGLED='MAIL FROM:<ceo@a.test>\r\nRCPT TO:<victim@c.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nwire the money\r\n.\r\nQUIT\r\n'

# refused_bare WHAT: the reply to the data was "550 5.5.2 bare <WHAT>",
# the session ended there (no reply after it), exit 65 with one line, and
# the server never saw the data.
refused_bare() {
	assert_status 65
	assert_stderr_line "^sendmail: DATA: bare $1 in the message data; transaction refused, session ended\$"
	assert_line --index 0 --regexp '^220 '
	assert_line --index $((${#lines[@]} - 1)) "550 5.5.2 bare <$1> in message data; use CRLF"$'\r'
	refute_line --regexp '^(221|250 2\.0\.0 Ok: queued)'
	nothing_relayed
}

# nothing_relayed: the fake server saw the transaction's MAIL and RCPT
# (relayed as they came) and then QUIT: no DATA, no message.
nothing_relayed() {
	fake_done
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test>
		RCPT TO:<b@x.test>
		QUIT
	EOF
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "-bs: 'body LF . LF' then a second transaction: 550 bare <LF>, nothing relayed, no second transaction" {
	bs "${HEAD}body\n.\n$SMUGGLED"
	refused_bare LF
}

@test "-bs: 'CRLF . LF' then a second transaction: 550 bare <LF>, nothing relayed" {
	bs "${HEAD}body\r\n.\n$SMUGGLED"
	refused_bare LF
}

@test "-bs: 'LF . CRLF' then a second transaction: 550 bare <LF>, nothing relayed" {
	bs "${HEAD}body\n.\r\n$SMUGGLED"
	refused_bare LF
}

@test "-bs: a bare LF inside a line of the data: 550 bare <LF>" {
	bs "${HEAD}Subject: s\r\n\r\nline one\nline two\r\n.\r\nQUIT\r\n"
	refused_bare LF
}

@test "-bs: a data line of a dot, CR and X (a CR without LF) is refused with 550 bare <CR>, never a silent end" {
	bs "${HEAD}Subject: s\r\n\r\n.\rX\r\n.\r\n$SMUGGLED"
	refused_bare CR
}

@test "-bs: input that ends inside DATA: 65, nothing relayed" {
	local tail
	for tail in 'body\r\n' 'body\r\n.' 'body\r\n.\r' 'body' ''; do
		bs "${HEAD}Subject: s\r\n\r\n$tail"
		assert_status 65
		assert_stderr_line '^sendmail: DATA: the input ended before <CR><LF>\.<CR><LF>; nothing relayed$'
		assert_line --index $((${#lines[@]} - 1)) --regexp '^354 '
		nothing_relayed
	done
}

@test "-bs: CRLF.CRLF ends the data; dot-stuffed lines are un-stuffed; the next transaction is relayed too" {
	bs "${HEAD}Subject: one\r\n\r\n..dot\r\n.\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\nSubject: two\r\n\r\nhi\r\n.\r\nQUIT\r\n"
	fake_done
	assert_status 0
	assert_equal "$stderr" ""
	assert_equal "$(printf '%s\n' "${lines[@]}" | grep -c '^250 2.0.0 Ok: queued as FAKE')" 2
	assert_line --index $((${#lines[@]} - 1)) --regexp '^221 '
	fake_assert_sent 'RCPT TO:<b@x.test>'
	fake_assert_sent 'RCPT TO:<c@x.test>'
	run grep -c $'^\\.dot\r$' "$FAKE_DIR/message.1"
	assert_output 1
	[[ -e $FAKE_DIR/message.2 ]]
}

# ------------------------------------------------------------ relayed live

EHLO_LOCAL='EHLO local.test\r\n'
MSG='Subject: s\r\n\r\nhi\r\n.\r\n'

@test "-bs: a RCPT the server refuses with 550 5.1.1 gets exactly that reply; the other recipient gets the message" {
	bs "${EHLO_LOCAL}MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<nobody@x.test>\r\nDATA\r\n${MSG}QUIT\r\n" \
		'rcpt nobody@x.test 550 5.1.1 <nobody@x.test>: Recipient address rejected: User unknown'
	fake_done
	assert_status 0
	assert_equal "$stderr" ''
	assert_replies \
		'250 2.1.0 Ok' \
		'250 2.1.5 Ok' \
		'550 5.1.1 <nobody@x.test>: Recipient address rejected: User unknown' \
		"${RELAYED[@]}"
	# One command, one reply: each goes on when the client gives it.
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test>
		RCPT TO:<b@x.test>
		RCPT TO:<nobody@x.test>
		DATA
		QUIT
	EOF
}

@test "-bs: a 451 to MAIL is passed back as it came; the next MAIL is asked again" {
	bs "${EHLO_LOCAL}MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n${MSG}QUIT\r\n" \
		"$(printf '%s\n' 'MAIL 451-4.7.1 greylisted,\n451 4.7.1 try again later' 'MAIL default')"
	fake_done
	assert_status 0
	assert_equal "$stderr" ''
	assert_replies \
		'451-4.7.1 greylisted,' \
		'451 4.7.1 try again later' \
		'503 5.5.1 need MAIL first' \
		'250 2.1.0 Ok' \
		'250 2.1.5 Ok' \
		"${RELAYED[@]}"
}

@test "-bs: the reply to the data is the server's: a 554 5.7.1 spam refusal reaches the client" {
	bs "${EHLO_LOCAL}MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n${MSG}QUIT\r\n" \
		'data-end 554 5.7.1 Message rejected as spam'
	fake_done
	assert_status 0
	assert_equal "$stderr" ''
	assert_line --index $((${#lines[@]} - 2)) $'554 5.7.1 Message rejected as spam\r'
	assert_line --index $((${#lines[@]} - 1)) $'221 2.0.0 Bye\r'
}

@test "-bs: SIZE and BODY given on MAIL go on to the server; a bad value or another parameter is refused and not sent" {
	bs "${EHLO_LOCAL}MAIL FROM:<a@x.test> SIZE=12x\r\nMAIL FROM:<a@x.test> BODY=BINARYMIME\r\nMAIL FROM:<a@x.test> AUTH=<>\r\nMAIL FROM:<a@x.test> SIZE=42 BODY=8bitmime\r\nRCPT TO:<b@x.test> NOTIFY=NEVER\r\nRCPT TO:<b@x.test>\r\nEHLO local.test\r\nQUIT\r\n"
	fake_done
	assert_status 0
	assert_equal "$stderr" ''
	assert_equal "$(printf '%s\n' "${lines[@]}" | tr -d '\r' | sed 1d)" "$(cat <<-'EOF'
		250-client.test
		250-8BITMIME
		250-SIZE
		250-SMTPUTF8
		250 ENHANCEDSTATUSCODES
		501 5.5.4 bad SIZE or BODY value
		501 5.5.4 bad SIZE or BODY value
		555 5.5.4 MAIL parameter not supported
		250 2.1.0 Ok
		555 5.5.4 RCPT parameters are not supported
		250 2.1.5 Ok
		250-client.test
		250-8BITMIME
		250-SIZE 10485760
		250-SMTPUTF8
		250 ENHANCEDSTATUSCODES
		221 2.0.0 Bye
	EOF
	)"
	# The second EHLO ends the transaction (RFC 5321 4.1.4): RSET.
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=42 BODY=8BITMIME
		RCPT TO:<b@x.test>
		RSET
		QUIT
	EOF
}

@test "-bs: RSET is mirrored with the server's reply; RSET before any MAIL is answered without connecting" {
	bs "${EHLO_LOCAL}RSET\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRSET\r\nRCPT TO:<c@x.test>\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n${MSG}QUIT\r\n" \
		'RSET 250 2.0.0 Reset by the server'
	fake_done
	assert_status 0
	assert_equal "$stderr" ''
	assert_replies \
		'250 2.0.0 Ok' \
		'250 2.1.0 Ok' \
		'250 2.1.5 Ok' \
		'250 2.0.0 Reset by the server' \
		'503 5.5.1 need MAIL first' \
		'250 2.1.0 Ok' \
		'250 2.1.5 Ok' \
		"${RELAYED[@]}"
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test>
		RCPT TO:<b@x.test>
		RSET
		MAIL FROM:<a@x.test>
		RCPT TO:<c@x.test>
		DATA
		QUIT
	EOF
}

@test "-bs: a server that cannot be reached: MAIL gets 451 4.4.1 naming the cause, one line on stderr, the session goes on; exit 0" {
	local port
	port=$(closed_port)
	bs_config "$port"
	run --separate-stderr "$SENDMAIL" -bs < <(printf '%b' "${EHLO_LOCAL}MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nNOOP\r\nQUIT\r\n")
	assert_status 0
	assert_replies \
		"451 4.4.1 connect: 127.0.0.1 port $port: Connection refused" \
		'503 5.5.1 need MAIL first' \
		'250 2.0.0 Ok' \
		'221 2.0.0 Bye'
	assert_stderr_line "^sendmail: connect: 127\\.0\\.0\\.1 port $port: Connection refused\$"
	assert_equal "${#stderr_lines[@]}" 1
}

@test "-bs: the connection lost under RCPT: 451 4.4.2 naming it, one line on stderr; the next MAIL opens a new session" {
	bs "${EHLO_LOCAL}MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<c@x.test>\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n${MSG}QUIT\r\n" \
		"$(printf 'connections 2\nRCPT close\nRCPT default')"
	fake_done
	assert_status 0
	assert_replies \
		'250 2.1.0 Ok' \
		'451 4.4.2 RCPT TO: connection closed by the server' \
		'503 5.5.1 need MAIL first' \
		'250 2.1.0 Ok' \
		'250 2.1.5 Ok' \
		"${RELAYED[@]}"
	assert_stderr_line '^sendmail: RCPT TO: connection closed by the server$'
	assert_equal "${#stderr_lines[@]}" 1
	fake_assert_sent '--- connection 2'
}

@test "-bs: a server that cannot be reached, with a queue: 250 with the queue id, the whole transaction in the queue" {
	local port id
	port=$(closed_port)
	bs_config "$port" "queue $BATS_TEST_TMPDIR/q"
	run --separate-stderr "$SENDMAIL" -bs < <(printf '%b' "${EHLO_LOCAL}MAIL FROM:<a@x.test> BODY=8BITMIME\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n${MSG}QUIT\r\n")
	assert_status 0
	assert_line --index $((${#lines[@]} - 2)) --regexp $'^250 2\\.0\\.0 Ok: queued as [0-9a-f]+\\.[0-9a-f]+\r$'
	id=${lines[${#lines[@]} - 2]##* }
	id=${id%$'\r'}
	assert_stderr_line "^sendmail: queued as $id in $BATS_TEST_TMPDIR/q: connect: 127\\.0\\.0\\.1 port $port: Connection refused\$"
	assert_equal "${#stderr_lines[@]}" 1
	run grep -E '^(sender|recipient|body) ' "$BATS_TEST_TMPDIR/q/$id.env"
	assert_output $'sender a@x.test\nrecipient b@x.test\nrecipient c@x.test\nbody 8BITMIME'
	# The message with what sendmail mode adds, as it will be sent.
	run tr -d '\r' <"$BATS_TEST_TMPDIR/q/$id.msg"
	assert_line --index 0 'From: <a@x.test>'
	assert_line 'Subject: s'
	assert_line 'hi'
}

@test "-bs: with a queue, a transaction whose data never ended is not queued" {
	local port
	port=$(closed_port)
	bs_config "$port" "queue $BATS_TEST_TMPDIR/q"
	run --separate-stderr "$SENDMAIL" -bs < <(printf '%b' "${EHLO_LOCAL}MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nSubject: s\r\n\r\nhalf")
	assert_status 65
	assert_stderr_line '^sendmail: DATA: the input ended before <CR><LF>\.<CR><LF>; nothing relayed$'
	assert [ -z "$(find "$BATS_TEST_TMPDIR/q" -name '*.env' 2>/dev/null)" ]
}

@test "-bs: a sender that is not ASCII toward a server without SMTPUTF8: 553 5.6.7, nothing sent" {
	bs "${EHLO_LOCAL}MAIL FROM:<j\xc3\xb6rg@x.test>\r\nQUIT\r\n"
	fake_done
	assert_status 0
	assert_equal "$stderr" ''
	assert_equal "$(replies)" $'553 5.6.7 SMTPUTF8: the server does not offer SMTPUTF8\n221 2.0.0 Bye'
	fake_refute_sent --regexp '^MAIL'
}

@test "-bs: a message carrier cannot take (a NUL byte): 554 5.6.0, RSET to the server, no data sent" {
	bs "${EHLO_LOCAL}MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nSubject: s\r\n\r\nh\0i\r\n.\r\nQUIT\r\n"
	fake_done
	assert_status 0
	assert_line --index $((${#lines[@]} - 2)) --regexp $'^554 5\\.6\\.0 .*NUL'
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test>
		RCPT TO:<b@x.test>
		RSET
		QUIT
	EOF
}

@test "-bs: a PHP client (proc_open of sendmail -bs, as Symfony Mailer does) sees the server's refusal at RCPT and its reply to the data" {
	command -v php >/dev/null || skip 'php-cli is not installed'
	fake_start 'rcpt nobody@x.test 550 5.1.1 <nobody@x.test>: Recipient address rejected: User unknown'
	bs_config "$FAKE_PORT"
	cat >"$BATS_TEST_TMPDIR/client.php" <<-'PHP'
		<?php
		// Speak SMTP to `sendmail -bs` as a PHP mailer does: one command,
		// then its whole reply; print each reply's last line.
		$p = proc_open([$argv[1], '-bs'], [0 => ['pipe', 'r'], 1 => ['pipe', 'w']], $pipes);
		function reply($out) {
			while (($l = fgets($out)) !== false) {
				if (strlen($l) < 4 || $l[3] !== '-') { echo rtrim($l), "\n"; return; }
			}
		}
		function say($in, $out, $line) { fwrite($in, "$line\r\n"); fflush($in); reply($out); }
		reply($pipes[1]);
		foreach (['EHLO php.test', 'MAIL FROM:<a@x.test>', 'RCPT TO:<b@x.test>',
		    'RCPT TO:<nobody@x.test>', 'DATA'] as $c)
			say($pipes[0], $pipes[1], $c);
		say($pipes[0], $pipes[1], "Subject: from php\r\n\r\nhello\r\n.");
		say($pipes[0], $pipes[1], 'QUIT');
		fclose($pipes[0]);
		fclose($pipes[1]);
		echo 'exit ', proc_close($p), "\n";
	PHP
	run --separate-stderr php "$BATS_TEST_TMPDIR/client.php" "$SENDMAIL"
	fake_done
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$output" "$(cat <<-'EOF'
		220 client.test carrier ESMTP (sendmail -bs)
		250 ENHANCEDSTATUSCODES
		250 2.1.0 Ok
		250 2.1.5 Ok
		550 5.1.1 <nobody@x.test>: Recipient address rejected: User unknown
		354 End data with <CR><LF>.<CR><LF>
		250 2.0.0 Ok: queued as FAKE1
		221 2.0.0 Bye
		exit 0
	EOF
	)"
	run tr -d '\r' <"$FAKE_DIR/message.1"
	assert_line 'Subject: from php'
	assert_line 'hello'
}

@test "-bs -odq: each transaction goes into the queue without trying the server" {
	local port id
	port=$(closed_port)
	bs_config "$port" "queue $BATS_TEST_TMPDIR/q"
	run --separate-stderr "$SENDMAIL" -bs -odq < <(printf '%b' "${EHLO_LOCAL}MAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n${MSG}QUIT\r\n")
	assert_status 0
	assert_line --index $((${#lines[@]} - 2)) --regexp $'^250 2\\.0\\.0 Ok: queued as [0-9a-f]+\\.[0-9a-f]+\r$'
	id=${lines[${#lines[@]} - 2]##* }
	id=${id%$'\r'}
	assert_stderr_line "^sendmail: queued as $id in $BATS_TEST_TMPDIR/q \\(not sent: -odq\\)\$"
	assert_equal "${#stderr_lines[@]}" 1
	run grep -E '^(sender|recipient|attempts) ' "$BATS_TEST_TMPDIR/q/$id.env"
	assert_output $'sender a@x.test\nrecipient b@x.test\nattempts 0'
}
