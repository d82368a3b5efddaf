#!/usr/bin/env bats
# sendmail -bs: the SMTP session on standard input read strictly (THREATS
# I18, SMTP smuggling, CVE-2023-51764 class): only CRLF.CRLF ends the data,
# a bare LF or CR in it is refused with 550 and ends the session, and
# input that ends inside the data relays nothing and is exit 65.

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

# bs SCRIPT: `sendmail -bs` with SCRIPT (printf %b) on standard input,
# against a fresh default fake server, which the caller waits for
# (fake_done) or stops (no_transaction).
bs() {
	fake_start ''
	# Under the name sendmail the server comes from the configuration
	# (carrier's own options are refused there).
	mkdir -p "$XDG_CONFIG_HOME/carrier"
	printf 'account default\nhost 127.0.0.1\nport %s\ndomain client.test\ntimeout 5\n' \
		"$FAKE_PORT" >"$XDG_CONFIG_HOME/carrier/config"
	chmod 600 "$XDG_CONFIG_HOME/carrier/config"
	run --separate-stderr "$SENDMAIL" -bs < <(printf '%b' "$1")
}

HEAD='EHLO local.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n'
SMUGGLED='MAIL FROM:<ceo@a.test>\r\nRCPT TO:<victim@c.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nwire the money\r\n.\r\nQUIT\r\n'

# refused_bare WHAT: the reply to the data was "550 5.5.2 bare <WHAT>",
# the session ended there (no reply after it), exit 65 with one line, and
# the server never saw a transaction.
refused_bare() {
	assert_status 65
	assert_stderr_line "^sendmail: DATA: bare $1 in the message data; transaction refused, session ended\$"
	assert_line --index 0 --regexp '^220 '
	assert_line --index $((${#lines[@]} - 1)) "550 5.5.2 bare <$1> in message data; use CRLF"$'\r'
	refute_line --regexp '^(221|250 2\.0\.0 Ok: relayed)'
	no_transaction
}

# no_transaction: stops the fake server, which never saw a connection
# (carrier opens its session at the first relayed transaction): no MAIL,
# no message.
no_transaction() {
	fake_stop
	refute_connected
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
		no_transaction
	done
}

@test "-bs: CRLF.CRLF ends the data; dot-stuffed lines are un-stuffed; the next transaction is relayed too" {
	bs "${HEAD}Subject: one\r\n\r\n..dot\r\n.\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\nSubject: two\r\n\r\nhi\r\n.\r\nQUIT\r\n"
	fake_done
	assert_status 0
	assert_equal "$stderr" ""
	assert_equal "$(printf '%s\n' "${lines[@]}" | grep -c '^250 2.0.0 Ok: relayed')" 2
	assert_line --index $((${#lines[@]} - 1)) --regexp '^221 '
	fake_assert_sent 'RCPT TO:<b@x.test>'
	fake_assert_sent 'RCPT TO:<c@x.test>'
	run grep -c $'^\\.dot\r$' "$FAKE_DIR/message.1"
	assert_output 1
	[[ -e $FAKE_DIR/message.2 ]]
}
