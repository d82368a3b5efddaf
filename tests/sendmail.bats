#!/usr/bin/env bats
# sendmail compatibility (SPEC 4, and the sendmail-mode rules of SPEC 5):
# carrier run as `sendmail` (a symlink) or with --sendmail: the lone-dot
# rule, sendmail's flags, the headers added to locally submitted mail,
# local names (aliases, maildomain), and what is refused (THREATS I03,
# I05, I06, I16, B17).

load lib/common
load lib/core

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$HOME"
	SENDMAIL=$BATS_TEST_TMPDIR/sendmail
	ln -sf "$CARRIER" "$SENDMAIL"
	# A message that needs nothing added in sendmail mode.
	FULL='From: a@x.test\nTo: b@x.test\nDate: Thu, 01 Jan 2015 00:00:00 +0000\nMessage-ID: <m@x.test>\n'
	FULL_WIRE=$'From: a@x.test\r\nTo: b@x.test\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\r\nMessage-ID: <m@x.test>\r\n'
}

# conn_config: what run_carrier puts on the command line (the fake
# server, --timeout 5, --helo client.test) as a defaults section; under
# the name sendmail carrier takes these from its configuration only.
conn_config() {
	printf 'defaults\ntimeout 5\ndomain client.test\n'
	[[ -n ${FAKE_PORT:-} ]] && printf 'host 127.0.0.1\nport %s\n' "$FAKE_PORT"
	printf '\n'
}

# run_sendmail ARGS...: carrier through the `sendmail` symlink, stdout in
# $output and stderr in $stderr, against the current fake server: the
# user's file ($XDG_CONFIG_HOME) holds conn_config and an account
# default, and the file written by `config` gets conn_config in front.
run_sendmail() {
	mkdir -p "$XDG_CONFIG_HOME/carrier"
	{ conn_config; printf 'account default\n'; } >"$XDG_CONFIG_HOME/carrier/config"
	chmod 600 "$XDG_CONFIG_HOME/carrier/config"
	if [[ -f $BATS_TEST_TMPDIR/config.in ]]; then
		{ conn_config; cat "$BATS_TEST_TMPDIR/config.in"; } >"$BATS_TEST_TMPDIR/config"
	fi
	run --separate-stderr "$SENDMAIL" "$@"
}

# sendmail_msg BODY-BYTES ARGS...: sends $FULL + an empty line + BODY
# (printf %b) through `sendmail` and a fresh default fake server.
sendmail_msg() {
	local m
	m=$(msg "$FULL\n$1")
	shift
	fake_start "${SCENARIO:-}"
	run_sendmail "$@" <"$m"
	fake_wait
}

# expect_mail SENDER DATA RCPT...: exactly EHLO, MAIL FROM:<SENDER>
# SIZE=n, the RCPTs, DATA, QUIT; message 1 is DATA (CRLF, terminator, no
# dot-stuffing), n its octets without the terminator.
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

# masked_data N: message N with the value of an added Date replaced by
# DATE and the random part of an added Message-ID by ID, each only when it
# has exactly the form carrier writes (RFC 5322 3.3, English names).
DATE_RE='(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [1-9][0-9]? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 2[0-9]{3} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [-+][0-9]{4}'
masked_data() {
	sed -E "s/^Date: $DATE_RE\r\$/Date: DATE\r/; s/^Message-ID: <[0-9a-f]{16}\.[0-9a-f]{16}@/Message-ID: <ID@/" \
		"$FAKE_DIR/data.${1:-1}"
}

# assert_masked_data N EXPECTED: masked_data N is exactly EXPECTED.
assert_masked_data() {
	masked_data "$1" >"$BATS_TEST_TMPDIR/masked"
	assert_bytes "$BATS_TEST_TMPDIR/masked" "$2"
}

# config TEXT: writes TEXT (printf %b) as a mode-600 configuration file
# and prints its name (for sendmail's -C; run_sendmail adds conn_config).
config() {
	local f=$BATS_TEST_TMPDIR/config
	printf '%b' "$1" >"$f.in"
	cp "$f.in" "$f"
	chmod 600 "$f"
	printf '%s\n' "$f"
}

# ------------------------------------------------------- the lone dot

@test "as sendmail: a line holding only '.' ends the input (LF and CRLF)" {
	sendmail_msg 'line1\n.\nafter\n' b@x.test
	assert_status 0
	assert_quiet
	expect_mail a@x.test "$FULL_WIRE"$'\r\nline1\r\n.\r\n' b@x.test
	sendmail_msg 'line1\r\n.\r\nafter\r\n' b@x.test
	assert_status 0
	expect_mail a@x.test "$FULL_WIRE"$'\r\nline1\r\n.\r\n' b@x.test
}

@test "as sendmail: '..', ' .' and '. ' lines do not end the input" {
	sendmail_msg '..\n .\n. \nend\n' b@x.test
	assert_status 0
	assert_data 1 "$FULL_WIRE"$'\r\n...\r\n .\r\n.. \r\nend\r\n.\r\n'
}

@test "--sendmail: the lone-dot rule too" {
	local m
	m=$(msg "$FULL\nline1\n.\nafter\n")
	fake_start ''
	run_carrier --sendmail b@x.test <"$m"
	fake_wait
	assert_status 0
	assert_quiet
	expect_mail a@x.test "$FULL_WIRE"$'\r\nline1\r\n.\r\n' b@x.test
}

@test "-i and -oi: a '.' line is message text, dot-stuffed on the wire" {
	local flag
	for flag in -i -oi; do
		sendmail_msg 'line1\n.\nafter\n' "$flag" b@x.test
		assert_status 0
		assert_quiet
		assert_data 1 "$FULL_WIRE"$'\r\nline1\r\n..\r\nafter\r\n.\r\n'
	done
}

@test "carrier (not sendmail) always reads to the end of the input" {
	local m
	m=$(msg "$FULL\nline1\n.\nafter\n")
	fake_start ''
	run_carrier b@x.test <"$m"
	fake_wait
	assert_status 0
	assert_data 1 "$FULL_WIRE"$'\r\nline1\r\n..\r\nafter\r\n.\r\n'
}

# ------------------------------------------------------------ flags

@test "-t as sendmail: recipients from the headers, Bcc removed" {
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test\nCc: c@x.test\nBcc: d@x.test\nDate: Thu, 01 Jan 2015 00:00:00 +0000\nMessage-ID: <m@x.test>\n\nx\n')
	fake_start ''
	run_sendmail -t -i <"$m"
	fake_wait
	assert_status 0
	assert_quiet
	expect_mail a@x.test $'From: a@x.test\r\nTo: b@x.test\r\nCc: c@x.test\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\r\nMessage-ID: <m@x.test>\r\n\r\nx\r\n.\r\n' \
		b@x.test c@x.test d@x.test
}

@test "-f and -r, separate and glued: the envelope sender, headers untouched" {
	local args
	for args in '-f s@x.test' '-fs@x.test' '-r s@x.test' '-rs@x.test' '-f <s@x.test>'; do
		# shellcheck disable=SC2086
		sendmail_msg 'x\n' $args b@x.test
		assert_status 0
		assert_quiet
		expect_mail s@x.test "$FULL_WIRE"$'\r\nx\r\n.\r\n' b@x.test
	done
}

@test "-f '<>' is the null sender" {
	sendmail_msg 'x\n' -f '<>' b@x.test
	assert_status 0
	expect_mail '' "$FULL_WIRE"$'\r\nx\r\n.\r\n' b@x.test
}

@test "-F NAME and -FNAME: From: NAME <sender> added when the message has no From" {
	local m
	m=$(msg 'To: b@x.test\nDate: Thu, 01 Jan 2015 00:00:00 +0000\nMessage-ID: <m@x.test>\n\nx\n')
	local rest=$'To: b@x.test\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\r\nMessage-ID: <m@x.test>\r\n\r\nx\r\n.\r\n'
	fake_start ''
	run_sendmail -F 'Joe Bloggs' -f s@x.test b@x.test <"$m"
	fake_wait
	assert_status 0
	assert_quiet
	expect_mail s@x.test $'From: Joe Bloggs <s@x.test>\r\n'"$rest" b@x.test
	fake_start ''
	run_sendmail -FCronDaemon -fs@x.test b@x.test <"$m"
	fake_wait
	assert_status 0
	expect_mail s@x.test $'From: CronDaemon <s@x.test>\r\n'"$rest" b@x.test
}

@test "-F with RFC 5322 specials: the name is a quoted string" {
	local m
	m=$(msg 'To: b@x.test\nDate: Thu, 01 Jan 2015 00:00:00 +0000\nMessage-ID: <m@x.test>\n\nx\n')
	fake_start ''
	run_sendmail -F 'Joe Q. Public' -f s@x.test b@x.test <"$m"
	fake_wait
	assert_status 0
	assert_data 1 $'From: "Joe Q. Public" <s@x.test>\r\nTo: b@x.test\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\r\nMessage-ID: <m@x.test>\r\n\r\nx\r\n.\r\n'
	fake_start ''
	run_sendmail -F 'Doe, "JJ" (x) \ y <z@w>' -f s@x.test b@x.test <"$m"
	fake_wait
	assert_status 0
	assert_data 1 $'From: "Doe, \\"JJ\\" (x) \\\\ y <z@w>" <s@x.test>\r\nTo: b@x.test\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\r\nMessage-ID: <m@x.test>\r\n\r\nx\r\n.\r\n'
}

@test "-F when the message has a From: nothing added, nothing changed" {
	sendmail_msg 'x\n' -F 'Joe Bloggs' -f s@x.test b@x.test
	assert_status 0
	expect_mail s@x.test "$FULL_WIRE"$'\r\nx\r\n.\r\n' b@x.test
}

@test "-F with CR, LF or another control byte: 64, nothing sent, no header injected (I05)" {
	local name
	fake_start ''
	for name in $'Joe\r\nBcc: evil@x.test' $'Joe\nX-Injected: 1' $'Joe\x01'; do
		run_sendmail -F "$name" -f s@x.test b@x.test <"$(msg 'To: b@x.test\n\nx\n')"
		assert_status 64
		assert_stderr_line '^sendmail: -F: .*control character'
	done
	fake_stop
	refute_connected
}

@test "sendmail mode: Date and Message-ID added when missing, with From: <sender>" {
	local m
	m=$(msg 'To: b@x.test\nSubject: s\n\nx\n')
	fake_start ''
	run_sendmail -C "$(config 'account default\nmaildomain x.test\n')" -f s@x.test b@x.test <"$m"
	fake_wait
	assert_status 0
	assert_quiet
	assert_masked_data 1 $'From: <s@x.test>\r\nDate: DATE\r\nMessage-ID: <ID@x.test>\r\nTo: b@x.test\r\nSubject: s\r\n\r\nx\r\n.\r\n'
}

@test "sendmail mode: only what is missing is added" {
	local m
	m=$(msg 'From: a@x.test\nTo: b@x.test\nmessage-id: <m@x.test>\n\nx\n')
	fake_start ''
	run_sendmail b@x.test <"$m"
	fake_wait
	assert_status 0
	assert_masked_data 1 $'Date: DATE\r\nFrom: a@x.test\r\nTo: b@x.test\r\nmessage-id: <m@x.test>\r\n\r\nx\r\n.\r\n'
	m=$(msg 'From: a@x.test\nTo: b@x.test\nDATE: Thu, 01 Jan 2015 00:00:00 +0000\n\nx\n')
	fake_start ''
	run_sendmail b@x.test <"$m"
	fake_wait
	assert_status 0
	masked_data 1 | head -n 1 | grep -qE '^Message-ID: <ID@[^>]+>'$'\r''$'
	assert_equal "$(masked_data 1 | tail -n +2)" "$(printf 'From: a@x.test\r\nTo: b@x.test\r\nDATE: Thu, 01 Jan 2015 00:00:00 +0000\r\n\r\nx\r\n.\r\n')"
}

@test "outside sendmail mode nothing is added: no From, Date or Message-ID" {
	local m
	m=$(msg 'To: b@x.test\nSubject: s\n\nx\n')
	fake_start ''
	run_carrier -f s@x.test b@x.test <"$m"
	fake_wait
	assert_status 0
	expect_mail s@x.test $'To: b@x.test\r\nSubject: s\r\n\r\nx\r\n.\r\n' b@x.test
}

@test "config set_from_header off, set_date_header off, set_msgid_header off: nothing added" {
	local m cfg
	m=$(msg 'To: b@x.test\nSubject: s\n\nx\n')
	cfg=$(config 'defaults\nset_from_header off\nset_date_header off\nset_msgid_header off\naccount default\n')
	fake_start ''
	run_sendmail -C "$cfg" -f s@x.test b@x.test <"$m"
	fake_wait
	assert_status 0
	expect_mail s@x.test $'To: b@x.test\r\nSubject: s\r\n\r\nx\r\n.\r\n' b@x.test
	# Each one alone, and msmtp's older names.
	cfg=$(config 'account default\nset_date_header off\n')
	fake_start ''
	run_sendmail -C "$cfg" -f s@x.test b@x.test <"$m"
	fake_wait
	assert_masked_data 1 $'From: <s@x.test>\r\nMessage-ID: <ID@'"$(masked_data 1 | sed -n 's/^Message-ID: <ID@\([^>]*\)>\r$/\1/p')"$'>\r\nTo: b@x.test\r\nSubject: s\r\n\r\nx\r\n.\r\n'
	refute grep -q '^Date:' "$FAKE_DIR/data.1"
	cfg=$(config 'account default\nadd_missing_from_header off\nadd_missing_date_header off\nset_msgid_header off\n')
	fake_start ''
	run_sendmail -C "$cfg" -f s@x.test b@x.test <"$m"
	fake_wait
	expect_mail s@x.test $'To: b@x.test\r\nSubject: s\r\n\r\nx\r\n.\r\n' b@x.test
}

@test "config set_from_header on: carrier adds From outside sendmail mode when asked" {
	local m
	m=$(msg 'To: b@x.test\nSubject: s\n\nx\n')
	fake_start ''
	run_carrier --config "$(config 'account default\nset_from_header on\n')" -f s@x.test b@x.test <"$m"
	fake_wait
	assert_status 0
	expect_mail s@x.test $'From: <s@x.test>\r\nTo: b@x.test\r\nSubject: s\r\n\r\nx\r\n.\r\n' b@x.test
}

# -------------------------------------------------------------- DSN

@test "-N never and -N success,failure,delay: RCPT NOTIFY= when DSN is offered" {
	SCENARIO='capabilities +DSN' sendmail_msg 'x\n' -N never b@x.test c@x.test
	assert_status 0
	assert_quiet
	fake_assert_sent 'RCPT TO:<b@x.test> NOTIFY=NEVER'
	fake_assert_sent 'RCPT TO:<c@x.test> NOTIFY=NEVER'
	SCENARIO='capabilities +DSN' sendmail_msg 'x\n' -N success,failure b@x.test
	assert_status 0
	fake_assert_sent 'RCPT TO:<b@x.test> NOTIFY=SUCCESS,FAILURE'
	SCENARIO='capabilities +DSN' sendmail_msg 'x\n' -Ndelay,Failure b@x.test
	assert_status 0
	fake_assert_sent 'RCPT TO:<b@x.test> NOTIFY=DELAY,FAILURE'
}

@test "-R full|hdrs: MAIL RET=; -V: MAIL ENVID= xtext-encoded; -B: BODY=" {
	SCENARIO='capabilities +DSN' sendmail_msg 'x\n' -R full -V 'q+1=2 x' -B 8BITMIME -N failure b@x.test
	assert_status 0
	assert_quiet
	fake_assert_commands <<-'EOF'
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=98 BODY=8BITMIME RET=FULL ENVID=q+2B1+3D2+20x
		RCPT TO:<b@x.test> NOTIFY=FAILURE
		DATA
		QUIT
	EOF
	SCENARIO='capabilities +DSN' sendmail_msg 'x\n' -R hdrs -Vabc b@x.test
	assert_status 0
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=98 RET=HDRS ENVID=abc'
	sendmail_msg 'x\n' -B 7BIT b@x.test
	assert_status 0
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=98 BODY=7BIT'
}

@test "-V with CR/LF: xtext-encoded, no command injected (I03)" {
	SCENARIO='capabilities +DSN' sendmail_msg 'x\n' -V $'id\r\nRSET' b@x.test
	assert_status 0
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=98 ENVID=id+0D+0ARSET'
	fake_refute_sent 'RSET'
	wire_lacks 'RSET'
}

@test "DSN flags without DSN offered: one warning line, no parameter, exit 0" {
	sendmail_msg 'x\n' -N success,failure -R hdrs -V id1 b@x.test
	assert_status 0
	assert_equal "$output" ""
	assert_stderr_line '^sendmail: warning: the server does not offer DSN'
	expect_mail a@x.test "$FULL_WIRE"$'\r\nx\r\n.\r\n' b@x.test
}

@test "bad values of -N, -R, -B and -V: 64 naming the flag, nothing sent" {
	local flag value
	fake_start ''
	while IFS='|' read -r flag value; do
		run_sendmail "$flag" "$value" b@x.test <"$(msg "$FULL\nx\n")"
		assert_status 64
		assert_stderr_line "^sendmail: $flag: "
	done <<-'EOF'
		-N|sometimes
		-N|never,success
		-R|body
		-B|BINARYMIME
		-V|
	EOF
	fake_stop
	refute_connected
}

# --------------------------------------------- accepted and ignored

@test "-oem -oee -odi -odb -U -L tag -h 5 -bm -oXfoo change nothing" {
	sendmail_msg 'line\n' -oem -oee -odi -odb -U -L tag -h 5 -bm -oXfoo -f s@x.test b@x.test
	assert_status 0
	assert_quiet
	expect_mail s@x.test "$FULL_WIRE"$'\r\nline\r\n.\r\n' b@x.test
	# The lone-dot rule still holds (none of them is -oi).
	sendmail_msg 'line\n.\nmore\n' -oem -odi -bm b@x.test
	assert_status 0
	assert_data 1 "$FULL_WIRE"$'\r\nline\r\n.\r\n'
}

@test "-bi and newaliases: exit 0, nothing printed, no connection" {
	fake_start ''
	run_sendmail -bi </dev/null
	assert_status 0
	assert_quiet
	ln -s "$CARRIER" "$BATS_TEST_TMPDIR/newaliases"
	run --separate-stderr "$BATS_TEST_TMPDIR/newaliases" </dev/null
	assert_status 0
	assert_quiet
	fake_stop
	refute_connected
}

@test "-bp and mailq with an empty queue: 'Mail queue is empty'" {
	run --separate-stderr "$SENDMAIL" -bp
	assert_status 0
	assert_output 'Mail queue is empty'
	assert_equal "$stderr" ""
	ln -s "$CARRIER" "$BATS_TEST_TMPDIR/mailq"
	run --separate-stderr "$BATS_TEST_TMPDIR/mailq"
	assert_status 0
	assert_output 'Mail queue is empty'
}

# ------------------------------------------------------ refused flags

@test "unknown flags: 64 naming the flag, 'sendmail:' prefix, nothing sent (B17)" {
	local flag
	fake_start ''
	for flag in -X -O -bd -bt -bv -G -M -d; do
		run_sendmail "$flag" b@x.test <"$(msg "$FULL\nx\n")"
		assert_status 64
		assert_equal "$output" ""
		assert_stderr_line "^sendmail: (${flag}: |-b: ${flag} )"
	done
	fake_stop
	refute_connected
}

@test "a flag that needs a value and has none: 64 naming it" {
	local flag
	for flag in -f -F -N -R -V -B -L -C; do
		run --separate-stderr "$SENDMAIL" "$flag" </dev/null
		assert_status 64
		assert_stderr_line "^sendmail: $flag: needs a value"
	done
}

@test "-bs: an SMTP session on standard input and output, relayed to the server" {
	fake_start ''
	run_sendmail -bs < <(printf 'EHLO local.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\nSubject: s\r\n\r\nhi\r\n.\r\nQUIT\r\n')
	fake_wait
	assert_status 0
	assert_equal "$stderr" ""
	assert_line --index 0 --regexp '^220 '
	assert_line --regexp '^354 '
	assert_line --index $((${#lines[@]} - 1)) --regexp '^221 '
	fake_assert_sent 'RCPT TO:<b@x.test>'
	# As for any message in sendmail mode: the missing From, Date and
	# Message-ID are added before the header block as it came.
	run tr -d '\r' < "$FAKE_DIR/message.1"
	assert_line --index 0 'From: <a@x.test>'
	assert_line --index 1 --regexp '^Date: '
	assert_line --index 2 --regexp '^Message-ID: <'
	assert_line --index 3 'Subject: s'
	assert_line --index 4 'hi'	# bats drops the empty line
}

@test "after --, '-dash@x.test' is a recipient; before it, an unknown option" {
	sendmail_msg 'x\n' -f s@x.test -- -dash@x.test b@x.test
	assert_status 0
	assert_quiet
	expect_mail s@x.test "$FULL_WIRE"$'\r\nx\r\n.\r\n' -dash@x.test b@x.test
	fake_start ''
	run_sendmail -f s@x.test -dash@x.test <"$(msg "$FULL\nx\n")"
	fake_stop
	assert_status 64
	assert_stderr_line '^sendmail: -d: unknown option'
	refute_connected
}

@test "sendmail argv injection: -X FILE refused, -oQ ignored, an address after -- never an option; no file written (I06)" {
	local d=$BATS_TEST_TMPDIR/inj
	mkdir -p "$d"
	fake_start ''
	run_sendmail -X"$d/log.php" b@x.test <"$(msg "$FULL\nx\n")"
	fake_stop
	assert_status 64
	assert_stderr_line '^sendmail: -X: unknown option'
	refute_connected
	sendmail_msg 'x\n' -oQ"$d/queue" -f s@x.test b@x.test
	assert_status 0
	sendmail_msg 'x\n' -f s@x.test -- "-X$d/log2@x.test" b@x.test
	assert_status 0
	fake_assert_sent "RCPT TO:<-X$d/log2@x.test>"
	# A sender with a blank outside quotes is no address: 65.
	fake_start ''
	run_sendmail -f "a -X$d/log3@x.test" b@x.test <"$(msg "$FULL\nx\n")"
	fake_stop
	assert_status 65
	assert_stderr_line '^sendmail: address: .*space'
	refute_connected
	run ls -A "$d"
	assert_output ''
}

# ------------------------------------- carrier's options under the name

LONG_REFUSED="carrier's own options are not accepted under the name sendmail"

@test "I16: --log, --file, --host, --queue under the name sendmail: 64 naming each; no file written, nothing sent" {
	local d=$BATS_TEST_TMPDIR/inj other_dir other_port opt
	mkdir -p "$d"
	printf 'From: a@x.test\nSubject: private\n\nthe secret file\n' >"$d/secret"
	# A second server, for --host: it must not be contacted either.
	fake_start ''
	other_dir=$FAKE_DIR other_port=$FAKE_PORT
	fake_start ''
	for opt in "--log=$d/shell.php" "--file=$d/secret" "--host=127.0.0.1:$other_port" \
		"--queue=$d/queue" "--config=$d/secret" --tls-no-verify --sendmail; do
		# Before the recipients, and after them.
		run_sendmail -odq -fa@x.test "$opt" b@x.test <"$(msg "$FULL\nx\n")"
		assert_status 64
		assert_stderr_line "^sendmail: ${opt%%=*}: $LONG_REFUSED"
		run_sendmail -fa@x.test b@x.test "$opt" <"$(msg "$FULL\nx\n")"
		assert_status 64
		assert_stderr_line "^sendmail: ${opt%%=*}: $LONG_REFUSED"
	done
	# PHPMailer CVE-2016-10033's shape: a crafted -f value, then --log.
	run_sendmail -t -i '-fattacker\' "--log=$d/shell2.php" 'x"@example.com' <"$(msg "$FULL\nx\n")"
	assert_status 64
	assert_stderr_line "^sendmail: --log: $LONG_REFUSED"
	fake_stop
	refute_connected
	FAKE_DIR=$other_dir refute_connected
	run ls -A "$d"
	assert_output 'secret'
	refute [ -e "$XDG_STATE_HOME/carrier" ]
}

@test "I16: a flag-like word after the first recipient: 64 naming it, nothing sent; after -- an address" {
	local w
	fake_start ''
	for w in -oi -t -fevil@x.test -v -C/dev/null --; do
		run_sendmail -i b@x.test "$w" <"$(msg "$FULL\nx\n")"
		assert_status 64
		assert_stderr_line "^sendmail: $w: after the first recipient: sendmail's flags go before the recipients"
	done
	fake_stop
	refute_connected
	sendmail_msg 'x\n' -i -- b@x.test -oi@x.test
	assert_status 0
	expect_mail a@x.test "$FULL_WIRE"$'\r\nx\r\n.\r\n' b@x.test -oi@x.test
}

@test "I16: carrier --sendmail keeps carrier's options (the user's own command line)" {
	local d=$BATS_TEST_TMPDIR/own
	mkdir -p "$d"
	fake_start ''
	run_carrier --sendmail -i -fa@x.test b@x.test --log="$d/log" <"$(msg "$FULL\nx\n")"
	fake_wait
	assert_status 0
	assert [ -s "$d/log" ]
	expect_mail a@x.test "$FULL_WIRE"$'\r\nx\r\n.\r\n' b@x.test
}

# cfg_file FILE OWNER MODE: the connection (conn_config) and an account
# default in FILE, owned by OWNER, with MODE.
cfg_file() {
	{ conn_config; printf 'account default\nmaildomain x.test\n'; } >"$1"
	chown "$2" "$1"
	chmod "$3" "$1"
}

@test "I16: -C under the name sendmail: a file of another user, or group-writable, refused (78); the caller's own 0600 file used" {
	[[ $(id -u) == 0 ]] || skip 'needs root (chown nobody)'
	local d=$BATS_TEST_TMPDIR/c
	mkdir -p "$d"
	fake_start ''
	cfg_file "$d/foreign" nobody 644
	run_sendmail -C "$d/foreign" -fa@x.test b@x.test <"$(msg "$FULL\nx\n")"
	assert_status 78
	assert_stderr_line "^sendmail: $d/foreign: refusing -C under the name sendmail: the file belongs to another user \\(uid $(id -u nobody)\\), not to you or root\$"
	cfg_file "$d/group" "$(id -u)" 620
	run_sendmail -C"$d/group" -fa@x.test b@x.test <"$(msg "$FULL\nx\n")"
	assert_status 78
	assert_stderr_line "^sendmail: $d/group: refusing -C under the name sendmail: its group can write the file \\(chmod go-w\\)\$"
	fake_stop
	refute_connected
	fake_start ''
	cfg_file "$d/own" "$(id -u)" 600
	run_sendmail -C "$d/own" -fa@x.test b@x.test <"$(msg "$FULL\nx\n")"
	fake_wait
	assert_status 0
	assert_quiet
	expect_mail a@x.test "$FULL_WIRE"$'\r\nx\r\n.\r\n' b@x.test
	# carrier's own command line may name any readable file.
	fake_start ''
	run_carrier --sendmail -C "$d/foreign" -fa@x.test b@x.test <"$(msg "$FULL\nx\n")"
	fake_wait
	assert_status 0
}

@test "the stderr prefix is 'sendmail:' as sendmail and 'carrier:' as carrier" {
	SCENARIO='rcpt b@x.test 550 5.1.1 User unknown' sendmail_msg 'x\n' b@x.test
	assert_status 67
	assert_stderr_line '^sendmail: <b@x\.test>: 550 5\.1\.1 User unknown$'
	fake_start 'rcpt b@x.test 550 5.1.1 User unknown'
	run_carrier b@x.test <"$(msg "$FULL\nx\n")"
	fake_wait
	assert_status 67
	assert_stderr_line '^carrier: <b@x\.test>: 550 5\.1\.1 User unknown$'
}

# ------------------------------------------------------- local names

@test "local names: aliases first, then maildomain; an alias to a bare name is qualified too" {
	printf '# aliases\nroot: admin@x.test, ops\nbob:bob@y.test\n' >"$BATS_TEST_TMPDIR/aliases"
	local cfg
	cfg=$(config "account default\naliases $BATS_TEST_TMPDIR/aliases\nmaildomain x.test\n")
	sendmail_msg 'x\n' -C "$cfg" -f s@x.test root carol bob dave@z.test
	assert_status 0
	assert_quiet
	expect_mail s@x.test "$FULL_WIRE"$'\r\nx\r\n.\r\n' \
		admin@x.test ops@x.test carol@x.test bob@y.test dave@z.test
}

@test "local names with -t: a To: root is looked up as well" {
	printf 'root: admin@x.test\n' >"$BATS_TEST_TMPDIR/aliases"
	local cfg m
	cfg=$(config "account default\naliases $BATS_TEST_TMPDIR/aliases\n")
	m=$(msg 'From: a@x.test\nTo: root\nDate: Thu, 01 Jan 2015 00:00:00 +0000\nMessage-ID: <m@x.test>\n\nx\n')
	fake_start ''
	run_sendmail -C "$cfg" -t -i <"$m"
	fake_wait
	assert_status 0
	fake_assert_sent 'RCPT TO:<admin@x.test>'
	fake_refute_sent 'RCPT TO:<root>'
}

@test "local names without aliases or maildomain: sent as they are" {
	sendmail_msg 'x\n' -f s@x.test root
	assert_status 0
	expect_mail s@x.test "$FULL_WIRE"$'\r\nx\r\n.\r\n' root
}

@test "an aliases file that cannot be read: 78 naming it, nothing sent" {
	local cfg
	cfg=$(config "account default\naliases $BATS_TEST_TMPDIR/no-such-aliases\n")
	fake_start ''
	run_sendmail -C "$cfg" -f s@x.test root <"$(msg "$FULL\nx\n")"
	fake_stop
	assert_status 78
	assert_stderr_line "^sendmail: $BATS_TEST_TMPDIR/no-such-aliases: "
	refute_connected
}

@test "sendmail mode without any sender: the login name at maildomain, also in the added From" {
	local me m
	me=$(id -un)
	m=$(msg 'To: b@x.test\nDate: Thu, 01 Jan 2015 00:00:00 +0000\nMessage-ID: <m@x.test>\n\nx\n')
	fake_start ''
	run_sendmail -C "$(config 'account default\nmaildomain x.test\n')" b@x.test <"$m"
	fake_wait
	assert_status 0
	assert_quiet
	expect_mail "$me@x.test" "From: <$me@x.test>"$'\r\nTo: b@x.test\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\r\nMessage-ID: <m@x.test>\r\n\r\nx\r\n.\r\n' b@x.test
	# Without maildomain: the login name at the local host name.
	fake_start ''
	run_sendmail b@x.test <"$m"
	fake_wait
	assert_status 0
	fake_assert_sent --regexp "^MAIL FROM:<$me@[^>@]+> SIZE=[0-9]+\$"
}
