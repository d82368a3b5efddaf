#!/usr/bin/env bats
# Differential test against msmtp itself (issue 14): an msmtp user switches
# by changing only the program's name.  Each case runs /usr/bin/msmtp and
# carrier with the same argv, the same msmtprc and the same message, one
# after the other against one fake server (a connection each), then
# compares what each sent: every command line (EHLO name, AUTH, MAIL and
# its parameters, the RCPT list), the message bytes, and success or
# failure.  Where carrier differs on purpose, the case asserts the
# difference and names the line of carrier(1) COMING FROM MSMTP that lists

load lib/common

MSMTP=/usr/bin/msmtp

setup() {
	[[ -x $MSMTP ]] || skip "msmtp is not installed"
	export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
	export LC_ALL=C TZ=UTC
	mkdir -p "$HOME" "$XDG_CONFIG_HOME"
	RC=$BATS_TEST_TMPDIR/rc
	MSG=$BATS_TEST_TMPDIR/msg
	TPL=$BATS_TEST_TMPDIR/tpl
	mkdir -p "$TPL"
	# No SIZE: carrier sends SIZE= when offered, msmtp never (see the case).
	SCEN='capabilities PIPELINING, 8BITMIME'
	FAKE_OPTS=()
	message 'From: Ann <ann@x.test>' 'To: bob@y.test' 'Subject: hi' \
		'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' \
		'' 'Hello.'
}

# message LINE...: the message both programs read, LF line ends.
message() {
	printf '%s\n' "$@" >"$MSG"
}

# file PATH: a file (an msmtprc, an aliases file) read from standard
# input, written afresh before each program runs, with @PORT@ replaced by
# that run's fake server port; mode 0600 as msmtp wants for an msmtprc.
file() {
	local n
	n=$(find "$TPL" -name '*.path' | wc -l)
	cat >"$TPL/$n.text"
	printf '%s' "$1" >"$TPL/$n.path"
}

# rc [PATH]: an msmtprc (default $RC) from standard input, with this
# run's server as the default host and port: "defaults" with host, port
# and domain come first, so a case's accounts inherit them.
rc() {
	{
		printf 'defaults\nhost 127.0.0.1\nport @PORT@\ndomain client.test\n'
		cat
	} | file "${1:-$RC}"
}

# plain_rc: the msmtprc of most cases, a default account sending as
# ann@x.test.
plain_rc() {
	rc <<<$'account default\nfrom ann@x.test'
}

# agree ARGS...: with plain_rc, both ARGS, and the same success.
# agree_fail ARGS...: the same failure.
agree() {
	plain_rc
	both "$@"
	same
}
agree_fail() {
	plain_rc
	both "$@"
	same_fail
}

# auth_rc LINES: a server offering AUTH PLAIN LOGIN for u/s3cret, and
# plain_rc's account with LINES added.
auth_rc() {
	SCEN=$AUTHSCEN
	rc <<<"account default
from ann@x.test
$1"
}

# send_alike: both -C $RC bob@y.test, the same success.
# fail_alike: the same failure.
send_alike() {
	both -C "$RC" bob@y.test
	same
}
fail_alike() {
	both -C "$RC" bob@y.test
	same_fail
}

# install_files: the files of file/rc for the current fake server.
install_files() {
	local t p
	for t in "$TPL"/*.text; do
		[[ -e $t ]] || continue
		p=$(<"${t%.text}.path")
		mkdir -p "$(dirname "$p")"
		# msmtp wants a port even for a Unix socket.
		sed "s/@PORT@/${FAKE_PORT:-25}/g" "$t" >"$p"
		chmod 600 "$p"
	done
}

# settle: waits until the fake server has ended every connection it took
# (its recordings are complete then), up to 2 s.
settle() {
	local i from ended
	for ((i = 0; i < 200; i++)); do
		from=$(grep -c '^\*\*\* connection [0-9]* from' "$FAKE_DIR/transcript" || true)
		ended=$(grep -c '^\*\*\* connection [0-9]* ended' "$FAKE_DIR/transcript" || true)
		[[ $from == "$ended" ]] && return 0
		sleep 0.01
	done
}

# take DIR: moves what the server recorded since the last take (commands,
# messages, transcript) into DIR, so each program's share reads as if it
# had had a server of its own.
take() {
	local dir=$1 n=0 f
	mkdir -p "$dir"
	tail -n +$((TAKEN_LINES + 1)) "$FAKE_DIR/commands" | { grep -v '^--- connection ' || true; } >"$dir/commands"
	TAKEN_LINES=$(wc -l <"$FAKE_DIR/commands")
	tail -n +$((TAKEN_TRANSCRIPT + 1)) "$FAKE_DIR/transcript" >"$dir/transcript"
	TAKEN_TRANSCRIPT=$(wc -l <"$FAKE_DIR/transcript")
	while [[ -e $FAKE_DIR/data.$((TAKEN_MSGS + 1)) ]]; do
		TAKEN_MSGS=$((TAKEN_MSGS + 1)) n=$((n + 1))
		for f in data message; do
			[[ -e $FAKE_DIR/$f.$TAKEN_MSGS ]] && cp "$FAKE_DIR/$f.$TAKEN_MSGS" "$dir/$f.$n"
		done
	done
	return 0
}

# run_one PROG DIR ARGS...: PROG with ARGS (@PORT@ and @SOCKET@ replaced
# by the server's) and $MSG on standard input; its share of the server's
# recordings goes to DIR.  Leaves run's status, output and stderr.
run_one() {
	local prog=$1 dir=$2
	shift 2
	install_files
	local args=("${@//@PORT@/$FAKE_PORT}")
	run --separate-stderr "$prog" "${args[@]//@SOCKET@/$FAKE_SOCKET}" <"$MSG"
	settle
	take "$dir"
}

# both ARGS...: msmtp ARGS, then carrier ARGS: the same argv, files and
# message, one after the other against one fake server playing $SCEN for
# two connections (started with fake_start $FAKE_OPTS).  Sets M_STATUS,
# M_OUT, M_ERR, M_DIR and C_STATUS, C_OUT, C_ERR, C_DIR.
both() {
	fake_start "${FAKE_OPTS[@]}" "connections 2
$SCEN" || return 1
	TAKEN_LINES=0 TAKEN_TRANSCRIPT=0 TAKEN_MSGS=0
	M_DIR=$(mktemp -d "$BATS_TEST_TMPDIR/msmtp.XXXXXX")
	C_DIR=$(mktemp -d "$BATS_TEST_TMPDIR/carrier.XXXXXX")
	run_one "$MSMTP" "$M_DIR" "$@"
	M_STATUS=$status M_OUT=$output M_ERR=$stderr
	run_one "$CARRIER" "$C_DIR" "$@"
	C_STATUS=$status C_OUT=$output C_ERR=$stderr
	# Both connected: the server must have played its part without error.
	if [[ $(grep -c '^\*\*\* connection [0-9]* ended' "$FAKE_DIR/transcript" || true) == 2 ]]; then
		fake_wait 5 || return 1
	else
		fake_stop
	fi
	# Shown when the case fails.
	printf '%s exit %s: %s\n' msmtp "$M_STATUS" "$M_ERR" carrier "$C_STATUS" "$C_ERR"
}

# commands_of DIR: the command lines received, AUTH continuation lines
# included.  carrier sends its first AUTH LOGIN line with the command
# (COMING FROM MSMTP: AUTH LOGIN with the user name as initial response);
# it is split here as msmtp sends it.
commands_of() {
	sed 's/^\(AUTH LOGIN\) \(.*\)/\1\n\2/' "$1/commands" 2>/dev/null
}

# session_of DIR: commands_of, without the RSET and QUIT that end a
# failed session (COMING FROM MSMTP: after a failure carrier ends the
# session with QUIT, msmtp closes the connection).
session_of() {
	commands_of "$1" | sed -e :a -e '$!{N;ba' -e '}' \
		-e 's/\(\nRSET\)\{0,1\}\nQUIT$//; s/^QUIT$//'
}

# message_of DIR [N]: message N as received, with the values of Date and
# Message-ID fields that the input message did not have replaced by
# <generated> (each program makes its own).
message_of() {
	[[ -e $1/data.${2:-1} ]] || return 0
	awk 'NR == FNR { have[$0 "\r"] = 1; next }
	     !body && /^(Date|Message-ID):/ && !($0 in have) {
		sub(/:.*/, ": <generated>\r") }
	     /^\r$/ { body = 1 }
	     { print }' "$MSG" "$1/data.${2:-1}"
}

# outcome STATUS: "success" or "failure" (exit statuses differ on purpose
# between the two: msmtp's sysexits are coarser).
outcome() {
	if [[ $1 -eq 0 ]]; then echo success; else echo failure; fi
}

# same: both sent the same commands and message bytes, and both succeeded.
same() {
	same_commands
	same_message
	same_outcome
	assert_equal "msmtp exit $M_STATUS" 'msmtp exit 0'
}

# same_fail: as same, but both failed, each saying why on standard error.
same_fail() {
	same_commands
	same_message
	same_outcome
	assert_equal "msmtp $(outcome "$M_STATUS")" 'msmtp failure'
}

# same_sorted: as same, the RCPT commands compared as a set (msmtp sends
# an alias's addresses last first).
same_sorted() {
	assert_equal "$(commands_of "$C_DIR" | sort)" "$(commands_of "$M_DIR" | sort)"
	same_message
	same_outcome
}

same_commands() {
	if [[ $M_STATUS -eq 0 ]]; then
		assert_equal "$(commands_of "$C_DIR")" "$(commands_of "$M_DIR")"
		return
	fi
	assert_equal "$(session_of "$C_DIR")" "$(session_of "$M_DIR")"
	# Where msmtp had connected, carrier said goodbye.
	if [[ -s $M_DIR/commands ]]; then
		run tail -n 1 "$C_DIR/commands"
		assert_output QUIT
	fi
}

same_message() {
	assert_equal "$(message_of "$C_DIR" | od -c)" "$(message_of "$M_DIR" | od -c)"
}

same_outcome() {
	assert_equal "carrier $(outcome "$C_STATUS")" "carrier $(outcome "$M_STATUS")"
	if [[ $M_STATUS -ne 0 ]]; then
		[[ -n $M_ERR ]] || fail "msmtp failed without a word"
		[[ -n $C_ERR ]] || fail "carrier failed without a word"
	fi
}

# refute_mail DIR: that server got no MAIL command.
refute_mail() {
	run grep -ci '^MAIL ' "$1/commands"
	assert_output 0
}

# sent_in DIR LINE: that server got exactly LINE as a command.
sent_in() {
	grep -qxF -- "$2" "$1/commands" ||
		fail "not sent to $1: $2 (got: $(cat "$1/commands"))"
}

# Scenario helpers.
AUTHSCEN='capabilities PIPELINING, 8BITMIME, AUTH PLAIN LOGIN
auth-secret u s3cret'

# tls_scen [implicit]: a TLS server with the test CA's certificate.
tls_scen() {
	need_certs
	SCEN="tls-cert server.pem
capabilities PIPELINING, 8BITMIME"
	[[ ${1:-} == implicit ]] && SCEN+=$'\nimplicit-tls'
	return 0
}

# tls_rc on|off: plain_rc's account with TLS on, tls_starttls on or off,
# trusting the test CA.
tls_rc() {
	rc <<<"account default
from ann@x.test
tls on
tls_starttls $1
tls_trust_file $CERTS/ca.pem"
}

# ---- the command line, option by option ----

@test "--host --port --domain -f: the same session and bytes" {
	both --host=127.0.0.1 --port=@PORT@ --domain=client.test -f ann@x.test bob@y.test
	same
}

@test "--host with separate values, --from=, two recipients" {
	both --host 127.0.0.1 --port @PORT@ --domain client.test --from=ann@x.test bob@y.test carol@y.test
	same
}

@test "-C RC: host, port, domain and from of the default account" {
	agree -C "$RC" bob@y.test
}

@test "--file=RC is -C" {
	agree --file="$RC" bob@y.test
}

@test "-a ACCOUNT picks the account" {
	rc <<<$'account default\nfrom def@x.test\naccount work\nfrom work@w.test\ndomain work.test'
	both -C "$RC" -a work bob@y.test
	same
}

@test "--account=ACCOUNT picks the account" {
	rc <<<$'account default\nfrom def@x.test\naccount work\nfrom work@w.test'
	both -C "$RC" --account=work bob@y.test
	same
}

@test "account default : work inherits, then overrides" {
	rc <<<$'account work\nfrom work@w.test\ndomain work.test\naccount default : work\ndsn_notify failure'
	SCEN+=$'\ncapabilities +DSN'
	send_alike
}

@test "an account inheriting two others, the later one winning" {
	rc <<<$'account a\nfrom a@w.test\naccount b\ndomain b.test\naccount c : a, b\ndsn_return headers'
	SCEN+=$'\ncapabilities +DSN'
	both -C "$RC" -a c bob@y.test
	same
}

@test "--timeout=5 and --timeout=off" {
	rc <<<$'account default\nfrom ann@x.test\ntimeout 30'
	both -C "$RC" --timeout=5 bob@y.test
	same
	both -C "$RC" --timeout=off bob@y.test
	same
}

@test "--protocol=smtp" {
	agree -C "$RC" --protocol=smtp bob@y.test
}

@test "--protocol=lmtp: LHLO and per-recipient replies" {
	SCEN+=$'\nlmtp\ndata-end bob@y.test 250 ok\ndata-end carol@y.test 250 ok'
	agree -C "$RC" --protocol=lmtp bob@y.test carol@y.test
}

@test "LMTP: a recipient refused after the data fails both" {
	SCEN+=$'\nlmtp\ndata-end bob@y.test 250 ok\ndata-end carol@y.test 550 5.1.1 no such user'
	rc <<<$'account default\nfrom ann@x.test\nprotocol lmtp'
	both -C "$RC" bob@y.test carol@y.test
	same_fail
}

@test "--domain overrides the account's domain in EHLO" {
	rc <<<$'account default\nfrom ann@x.test\ndomain acct.test'
	both -C "$RC" --domain=cli.test bob@y.test
	same
}

@test "--auth=plain --user --passwordeval: the same AUTH PLAIN line" {
	SCEN=$AUTHSCEN
	agree -C "$RC" --auth=plain --user=u --passwordeval='echo s3cret' bob@y.test
}

@test "--auth=login: the same AUTH LOGIN exchange, carrier's user name as initial response (COMING FROM MSMTP: AUTH LOGIN initial response)" {
	auth_rc ''
	both -C "$RC" --auth=login --user=u --passwordeval='echo s3cret' bob@y.test
	same
	sent_in "$M_DIR" 'AUTH LOGIN'
	sent_in "$C_DIR" 'AUTH LOGIN dQ=='
}

@test "auth plain with password in the file" {
	auth_rc $'auth plain\nuser u\npassword s3cret'
	send_alike
}

@test "passwordeval in the file, auth login" {
	auth_rc $'auth login\nuser u\npasswordeval printf %s s3cret'
	send_alike
}

@test "a wrong password: both fail at AUTH, no MAIL" {
	auth_rc $'auth plain\nuser u\npassword wrong'
	fail_alike
}

@test "--auth=off: no AUTH although the account asks" {
	auth_rc $'auth plain\nuser u\npassword s3cret'
	both -C "$RC" --auth=off bob@y.test
	same
}

@test "--user= unsets the user: no AUTH" {
	auth_rc $'auth plain\nuser u\npassword s3cret'
	both -C "$RC" --auth=off --user= bob@y.test
	same
}

@test "--tls --tls-trust-file: STARTTLS, EHLO again, the same session" {
	tls_scen
	agree -C "$RC" --tls --tls-trust-file="$CERTS/ca.pem" bob@y.test
}

@test "--tls=on --tls-starttls=on in the file's words" {
	tls_scen
	tls_rc on
	send_alike
}

@test "--tls --tls-starttls=off: implicit TLS" {
	tls_scen implicit
	agree -C "$RC" --tls --tls-starttls=off --tls-trust-file="$CERTS/ca.pem" bob@y.test
}

@test "tls_starttls off in the account: implicit TLS" {
	tls_scen implicit
	tls_rc off
	send_alike
}

@test "--tls with AUTH PLAIN after STARTTLS" {
	tls_scen
	SCEN+=$'\ncapabilities-tls PIPELINING, 8BITMIME, AUTH PLAIN\nauth-secret u s3cret'
	rc <<<$'account default\nfrom ann@x.test\nauth on\nuser u\npassword s3cret'
	both -C "$RC" --tls --tls-trust-file="$CERTS/ca.pem" bob@y.test
	same
}

@test "--tls-certcheck=off: an untrusted certificate accepted by both" {
	tls_scen
	SCEN=${SCEN/server.pem/selfsigned.pem}
	agree -C "$RC" --tls --tls-certcheck=off bob@y.test
}

@test "an untrusted certificate: both fail after STARTTLS, nothing sent" {
	tls_scen
	SCEN=${SCEN/server.pem/selfsigned.pem}
	plain_rc
	both -C "$RC" --tls --tls-trust-file="$CERTS/ca.pem" bob@y.test
	same_outcome
	refute_mail "$M_DIR"
	refute_mail "$C_DIR"
}

@test "--tls-fingerprint=SHA-256 pin, in msmtp's colon form" {
	tls_scen
	local fp
	fp=$(certtool --fingerprint --hash=sha256 --infile="$CERTS/server.pem" 2>/dev/null |
		sed 's/../&:/g; s/:$//' | tr a-f A-F)
	agree -C "$RC" --tls --tls-fingerprint="$fp" bob@y.test
}

@test "--tls-key-file and --tls-cert-file: a client certificate" {
	tls_scen
	SCEN+=$'\ntls-client-ca client-ca.pem'
	plain_rc
	both -C "$RC" --tls --tls-trust-file="$CERTS/ca.pem" \
		--tls-key-file="$CERTS/client-key.pem" --tls-cert-file="$CERTS/client.pem" bob@y.test
	same
}

@test "--tls-priorities=NORMAL:-VERS-TLS1.3" {
	tls_scen
	plain_rc
	both -C "$RC" --tls --tls-trust-file="$CERTS/ca.pem" --tls-priorities=NORMAL:-VERS-TLS1.3 bob@y.test
	same
	run grep -c 'tls started: TLSv1.2' "$M_DIR/transcript" "$C_DIR/transcript"
	assert_output "$M_DIR/transcript:1
$C_DIR/transcript:1"
}

@test "--tls-host-override=localhost: the name checked and sent as SNI" {
	tls_scen
	agree -C "$RC" --tls --tls-trust-file="$CERTS/ca.pem" --tls-host-override=localhost bob@y.test
}

@test "--tls-min-dh-prime-bits: refused by carrier (COMING FROM MSMTP: tls_min_dh_prime_bits refused)" {
	tls_scen
	plain_rc
	both -C "$RC" --tls --tls-trust-file="$CERTS/ca.pem" --tls-min-dh-prime-bits=2048 bob@y.test
	assert_equal "$M_STATUS" 0
	assert_equal "$C_STATUS" 64
	[[ $C_ERR == *tls-min-dh-prime-bits* ]]
	refute_mail "$C_DIR"
}

# ---- DSN, headers, logging ----

@test "--dsn-notify and --dsn-return: the same NOTIFY= and RET=" {
	SCEN+=$'\ncapabilities +DSN'
	agree -C "$RC" --dsn-notify=success,failure --dsn-return=hdrs bob@y.test
}

@test "-N never -R full (sendmail's forms)" {
	SCEN+=$'\ncapabilities +DSN'
	agree -C "$RC" -N never -R full bob@y.test
}

@test "-N failure,delay and --dsn-notify=off: the file's dsn settings unset" {
	SCEN+=$'\ncapabilities +DSN'
	rc <<<$'account default\nfrom ann@x.test\ndsn_notify success\ndsn_return full'
	both -C "$RC" -N failure,delay bob@y.test
	same
	both -C "$RC" --dsn-notify=off --dsn-return=off bob@y.test
	same
}

@test "DSN asked of a server without DSN: msmtp fails, carrier warns and sends without it (COMING FROM MSMTP: DSN not offered)" {
	plain_rc
	both -C "$RC" -N success bob@y.test
	assert_equal "$(outcome "$M_STATUS") $(outcome "$C_STATUS")" 'failure success'
	refute_mail "$M_DIR"
	sent_in "$C_DIR" 'MAIL FROM:<ann@x.test>'
	sent_in "$C_DIR" 'RCPT TO:<bob@y.test>'
	assert_equal "$C_ERR" 'carrier: warning: the server does not offer DSN; delivery status notification options not sent'
}

@test "--set-from-header=on with -F: From replaced with the name" {
	agree -C "$RC" --set-from-header=on -F 'Ann Example' bob@y.test
}

@test "--set-from-header=on on a message without From: carrier's From has angle brackets (COMING FROM MSMTP: From: <address>)" {
	message 'To: bob@y.test' 'Subject: hi' 'Date: Thu, 01 Jan 2015 00:00:00 +0000' \
		'Message-ID: <m1@x.test>' '' 'Hello.'
	plain_rc
	both -C "$RC" --set-from-header=on bob@y.test
	same_commands
	same_outcome
	assert_equal "$(message_of "$C_DIR" | sed 's/^From: <ann@x.test>/From: ann@x.test/')" \
		"$(message_of "$M_DIR")"
}

@test "--set-from-header=off --set-date-header=off --set-msgid-header=off: nothing added" {
	message 'To: bob@y.test' 'Subject: hi' '' 'Hello.'
	agree -C "$RC" --set-from-header=off --set-date-header=off --set-msgid-header=off bob@y.test
}

@test "message without Date, Message-ID, From: msmtp adds all three, carrier none (COMING FROM MSMTP: native form adds no Date, Message-ID or From)" {
	message 'To: bob@y.test' 'Subject: hi' '' 'Hello.'
	plain_rc
	both -C "$RC" bob@y.test
	same_commands
	same_outcome
	run message_of "$M_DIR"
	assert_line $'Date: <generated>\r'
	assert_line $'Message-ID: <generated>\r'
	assert_line $'From: ann@x.test\r'
	run message_of "$C_DIR"
	assert_output $'To: bob@y.test\r\nSubject: hi\r\n\r\nHello.\r\n.\r'
}

@test "--set-date-header=auto --set-msgid-header=auto: added by both" {
	message 'From: Ann <ann@x.test>' 'To: bob@y.test' 'Subject: hi' '' 'Hello.'
	agree -C "$RC" --set-date-header=auto --set-msgid-header=auto bob@y.test
}

@test "--remove-bcc-headers with -t: Bcc gone, its address a recipient" {
	message 'From: Ann <ann@x.test>' 'To: bob@y.test' 'Cc: carol@y.test' 'Bcc: dan@y.test' \
		'Subject: hi' 'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' '' 'Hello.'
	agree -C "$RC" -t --remove-bcc-headers
}

@test "-t and the same address on the command line: carrier sends one RCPT (COMING FROM MSMTP: each recipient once)" {
	plain_rc
	both -C "$RC" -t bob@y.test
	same_message
	same_outcome
	run grep -c '^RCPT TO:<bob@y.test>$' "$M_DIR/commands" "$C_DIR/commands"
	assert_output "$M_DIR/commands:2
$C_DIR/commands:1"
}

@test "--remove-bcc-headers=off: Bcc kept" {
	message 'From: Ann <ann@x.test>' 'To: bob@y.test' 'Bcc: dan@y.test' \
		'Subject: hi' 'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' '' 'Hello.'
	agree -C "$RC" -t --remove-bcc-headers=off
}

@test "--undisclosed-recipients: To/Cc/Bcc replaced" {
	message 'From: Ann <ann@x.test>' 'To: bob@y.test' 'Cc: carol@y.test' \
		'Subject: hi' 'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' '' 'Hello.'
	agree -C "$RC" -t --undisclosed-recipients
}

@test "--logfile=FILE and -X FILE: both log, the same session" {
	plain_rc
	local log=$BATS_TEST_TMPDIR/log
	both -C "$RC" --logfile="$log" bob@y.test
	same
	both -C "$RC" -X "$log" --logfile-time-format=%Y bob@y.test
	same
	[[ -s $log ]]
}

@test "--syslog=off and --syslog: the same session" {
	plain_rc
	both -C "$RC" --syslog=off bob@y.test
	same
	both -C "$RC" --syslog=LOG_MAIL bob@y.test
	same
}

@test "--aliases=FILE: a local name expanded to its addresses" {
	file "$BATS_TEST_TMPDIR/aliases" <<<$'# team\nteam: bob@y.test, carol@y.test\ndefault: dan@y.test'
	plain_rc
	both -C "$RC" --aliases="$BATS_TEST_TMPDIR/aliases" team frank@y.test
	same_sorted
	both -C "$RC" --aliases="$BATS_TEST_TMPDIR/aliases" eve
	same
}

@test "aliases: a name after a list alias takes the default alias in carrier only (COMING FROM MSMTP: the default alias)" {
	file "$BATS_TEST_TMPDIR/aliases" <<<$'team: bob@y.test, carol@y.test\ndefault: dan@y.test'
	plain_rc
	both -C "$RC" --aliases="$BATS_TEST_TMPDIR/aliases" team eve
	same_message
	same_outcome
	sent_in "$M_DIR" 'RCPT TO:<eve>'
	sent_in "$C_DIR" 'RCPT TO:<dan@y.test>'
}

@test "aliases in the file, with -t" {
	file "$BATS_TEST_TMPDIR/aliases" <<<$'team: bob@y.test, carol@y.test'
	message 'From: Ann <ann@x.test>' 'To: team' 'Subject: hi' \
		'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' '' 'Hello.'
	rc <<<"account default
from ann@x.test
aliases $BATS_TEST_TMPDIR/aliases"
	both -C "$RC" -t
	same_sorted
}

@test "--auto-from=on --maildomain=x.test: the user at that domain" {
	rc <<<$'account default'
	both -C "$RC" --auto-from=on --maildomain=x.test bob@y.test
	same
}

@test "--maildomain alone with from %U@ substitution" {
	rc <<<$'account default\nfrom %U@x.test'
	send_alike
}

@test "-f overrides the account's from" {
	rc <<<$'account default\nfrom acct@x.test'
	both -C "$RC" -f given@x.test bob@y.test
	same
}

@test "-F NAME with a message without From" {
	message 'To: bob@y.test' 'Subject: hi' 'Date: Thu, 01 Jan 2015 00:00:00 +0000' \
		'Message-ID: <m1@x.test>' '' 'Hello.'
	agree -C "$RC" -F 'Ann Example' bob@y.test
}

@test "--read-envelope-from: the sender from the message's From" {
	rc <<<$'account default\nfrom acct@x.test'
	both -C "$RC" --read-envelope-from bob@y.test
	same
}

@test "-t: To, Cc and Bcc are recipients, Bcc removed" {
	message 'From: Ann <ann@x.test>' 'To: Bob <bob@y.test>, carol@y.test' 'Cc: "Dan, D." <dan@y.test>' \
		'Bcc: eve@y.test' 'Subject: hi' 'Date: Thu, 01 Jan 2015 00:00:00 +0000' \
		'Message-ID: <m1@x.test>' '' 'Hello.'
	agree -C "$RC" -t
}

@test "--read-recipients with an extra recipient on the command line" {
	message 'From: Ann <ann@x.test>' 'To: bob@y.test' 'Subject: hi' \
		'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' '' 'Hello.'
	agree -C "$RC" --read-recipients frank@y.test
}

@test "-t with folded To and a group" {
	message 'From: Ann <ann@x.test>' 'To: team: bob@y.test,' ' carol@y.test;' 'Cc: undisclosed-recipients:;' \
		'Subject: hi' 'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' '' 'Hello.'
	agree -C "$RC" -t
}

@test "-t --read-envelope-from: envelope entirely from the message" {
	message 'From: Ann <ann@x.test>' 'To: bob@y.test' 'Cc: carol@y.test' 'Subject: hi' \
		'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' '' 'Hello.'
	rc <<<$'account default\nfrom acct@x.test'
	both -C "$RC" -t --read-envelope-from
	same
}

# ---- sendmail's flags ----

@test "sendmail flags -oi -i -odi -oem -bm -v: accepted, the same session" {
	plain_rc
	both -C "$RC" -oi -odi -oem -bm bob@y.test
	same
	both -C "$RC" -i -v bob@y.test
	same
}

@test "-d: as -v, the same session" {
	agree -C "$RC" -d bob@y.test
}

@test "-oi: a line with a lone dot is message text" {
	message 'From: Ann <ann@x.test>' 'To: bob@y.test' 'Subject: hi' \
		'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' '' 'a' '.' 'b' '.dot'
	agree -C "$RC" -oi bob@y.test
}

@test "ignored sendmail flags -G -h -L -m -n -O" {
	agree -C "$RC" -G -m -n -h 10 -L carrier -O Opt=1 bob@y.test
}

@test "-B 8BITMIME: BODY= from carrier only (COMING FROM MSMTP: -B and -V are sent)" {
	plain_rc
	both -C "$RC" -B 8BITMIME bob@y.test
	same_message
	same_outcome
	sent_in "$M_DIR" 'MAIL FROM:<ann@x.test>'
	sent_in "$C_DIR" 'MAIL FROM:<ann@x.test> BODY=8BITMIME'
}

@test "-- ends the options" {
	agree -C "$RC" -- bob@y.test
}

# ---- the message bytes ----

@test "bytes: CRLF input, dots, no final newline" {
	printf 'From: Ann <ann@x.test>\r\nTo: bob@y.test\r\nSubject: h\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\r\nMessage-ID: <m1@x.test>\r\n\r\n.\r\n..x\r\nend' >"$MSG"
	agree -C "$RC" bob@y.test
}

@test "bytes: mixed LF and CRLF, a long line" {
	printf 'From: Ann <ann@x.test>\nTo: bob@y.test\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\nMessage-ID: <m1@x.test>\n\n%0999d\nx\n' 0 >"$MSG"
	agree -C "$RC" bob@y.test
}

@test "bytes: 8-bit text goes with BODY=8BITMIME from carrier only (COMING FROM MSMTP: BODY=8BITMIME for 8-bit text)" {
	message 'From: Ann <ann@x.test>' 'To: bob@y.test' $'Subject: h\xc3\xa9' \
		'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' '' $'caf\xc3\xa9'
	plain_rc
	both -C "$RC" bob@y.test
	same_message
	same_outcome
	sent_in "$M_DIR" 'MAIL FROM:<ann@x.test>'
	sent_in "$C_DIR" 'MAIL FROM:<ann@x.test> BODY=8BITMIME'
}

@test "bytes: a bare CR becomes CRLF in carrier only (COMING FROM MSMTP: a bare CR sent as CRLF)" {
	printf 'From: Ann <ann@x.test>\nTo: bob@y.test\nDate: Thu, 01 Jan 2015 00:00:00 +0000\nMessage-ID: <m1@x.test>\n\nx\ry\n' >"$MSG"
	plain_rc
	both -C "$RC" bob@y.test
	same_commands
	same_outcome
	run message_of "$M_DIR"
	assert_line $'x\ry\r'
	run message_of "$C_DIR"
	assert_line --index 5 $'x\r'
	assert_line --index 6 $'y\r'
}

# ---- the account chosen by the sender ----

@test "-f matching an account's from picks that account" {
	rc <<<$'account default\nfrom def@x.test\naccount work\nfrom work@w.test\ndomain work.test'
	both -C "$RC" -f work@w.test bob@y.test
	same
}

@test "-f matching an account's wildcard from" {
	rc <<<$'account default\nfrom def@x.test\naccount work\nfrom *@w.test\ndomain work.test'
	both -C "$RC" -f someone@w.test bob@y.test
	same
}

@test "-f bob+tag@ picks the account whose from is bob@" {
	rc <<<$'account default\nfrom def@x.test\naccount other\nfrom bob@other.test\ndomain other.test'
	both -C "$RC" -f bob+tag@other.test bob@y.test
	same
}

@test "--read-envelope-from: the From header picks the account" {
	message 'From: Work <work@w.test>' 'To: bob@y.test' 'Subject: hi' \
		'Date: Thu, 01 Jan 2015 00:00:00 +0000' 'Message-ID: <m1@x.test>' '' 'Hello.'
	rc <<<$'account default\nfrom def@x.test\naccount work\nfrom work@w.test\ndomain work.test'
	both -C "$RC" --read-envelope-from bob@y.test
	same
}

@test "-f SOMEONE@W.TEST matches from *@w.test in carrier only (COMING FROM MSMTP: domains compared without regard to case)" {
	rc <<<$'account default\nfrom def@x.test\naccount work\nfrom *@w.test\ndomain work.test'
	both -C "$RC" -f SOMEONE@W.TEST bob@y.test
	same_outcome
	run commands_of "$M_DIR"
	assert_line --index 0 'EHLO client.test'
	run commands_of "$C_DIR"
	assert_line --index 0 'EHLO work.test'
}

# ---- msmtp's own files ----

@test "~/.msmtprc is read when there is no carrier configuration" {
	rc "$HOME/.msmtprc" <<<$'account default\nfrom ann@x.test'
	both bob@y.test
	same
}

@test "\$XDG_CONFIG_HOME/msmtp/config is read" {
	rc "$XDG_CONFIG_HOME/msmtp/config" <<<$'account default\nfrom ann@x.test'
	both bob@y.test
	same
}

@test "~/.msmtprc with -a ACCOUNT" {
	rc "$HOME/.msmtprc" <<<$'account default\nfrom def@x.test\naccount work\nfrom work@w.test'
	both -a work bob@y.test
	same
}

@test "from_full_name: unknown to msmtp 1.8.23, read by carrier as newer msmtp releases do" {
	message 'To: bob@y.test' 'Subject: hi' 'Date: Thu, 01 Jan 2015 00:00:00 +0000' \
		'Message-ID: <m1@x.test>' '' 'Hello.'
	rc <<<$'account default\nfrom ann@x.test\nfrom_full_name Ann Example\nset_from_header on'
	both -C "$RC" bob@y.test
	assert_equal "$M_STATUS $(outcome "$C_STATUS")" '78 success'
	[[ $M_ERR == *'unknown command from_full_name'* ]]
	run message_of "$C_DIR"
	assert_line --index 0 $'From: Ann Example <ann@x.test>\r'
}

# ---- errors ----

@test "error: an unknown account" {
	agree_fail -C "$RC" -a nosuch bob@y.test
}

@test "error: a refused recipient: msmtp sends nothing, carrier the others and exit 79 (COMING FROM MSMTP: refused recipients)" {
	SCEN+=$'\nrcpt carol@y.test 550 5.1.1 no such user'
	plain_rc
	both -C "$RC" bob@y.test carol@y.test
	same_commands
	# COMING FROM MSMTP: refused recipients do not stop the others.
	assert_equal "$(outcome "$M_STATUS") $C_STATUS" 'failure 79'
	refute [ -e "$M_DIR/message.1" ]
	assert_equal "$(message_of "$C_DIR")" "$(sed 's/$/\r/' "$MSG"; printf '.\r')"
	assert_equal "$C_ERR" 'carrier: <carol@y.test>: 550 5.1.1 no such user'
}

@test "error: 5xx at MAIL" {
	SCEN+=$'\nMAIL 553 5.7.1 sender rejected'
	agree_fail -C "$RC" bob@y.test
}

@test "error: 4xx at DATA end" {
	SCEN+=$'\ndata-end 451 4.3.0 try later'
	agree_fail -C "$RC" bob@y.test
}

@test "error: connection refused" {
	local port
	port=$(closed_port)
	run --separate-stderr "$MSMTP" --host=127.0.0.1 --port="$port" -f ann@x.test bob@y.test <"$MSG"
	M_STATUS=$status M_ERR=$stderr
	run --separate-stderr "$CARRIER" --host=127.0.0.1 --port="$port" -f ann@x.test bob@y.test <"$MSG"
	C_STATUS=$status C_ERR=$stderr
	same_outcome	# Both say "try again later" (EX_TEMPFAIL), the status cron and MTAs
	# read as "deferred".
	assert_equal "$M_STATUS $C_STATUS" '75 75'
}

@test "error: no recipients with -t" {
	message 'From: Ann <ann@x.test>' 'Subject: hi' '' 'Hello.'
	agree_fail -C "$RC" -t
}

@test "error: no recipients and no -t: carrier says so before reading (COMING FROM MSMTP: exit 64 before anything is read)" {
	plain_rc
	both -C "$RC"
	same_outcome
	assert_equal "$C_STATUS" 64
}

@test "error: a configuration file that does not exist" {
	both -C "$BATS_TEST_TMPDIR/nosuch" bob@y.test
	same_fail
}

@test "error: a passwordeval that fails" {
	auth_rc $'auth plain\nuser u\npasswordeval false'
	fail_alike
}

@test "error: a server greeting 554" {
	SCEN+=$'\ngreeting 554 5.3.2 go away'
	agree_fail -C "$RC" bob@y.test
}

# ---- other modes ----

@test "-P: neither connects, both succeed" {
	plain_rc
	both -C "$RC" -P bob@y.test
	same
	refute_mail "$M_DIR"
	[[ ! -s $C_DIR/commands ]]
}

@test "--rmqs=@domain: the same ETRN" {
	SCEN+=$'\ncapabilities +ETRN\nETRN 250 2.0.0 Queuing started'
	agree -C "$RC" --rmqs=@y.test
}

@test "--rmqs refused by the server: both fail, carrier shows the reply" {
	SCEN+=$'\ncapabilities +ETRN\nETRN 458 4.0.0 unable to queue'
	plain_rc
	both -C "$RC" --rmqs=@y.test
	same_commands
	assert_equal "$(outcome "$M_STATUS") $(outcome "$C_STATUS")" 'failure failure'
	[[ $M_ERR == *'458 4.0.0 unable to queue'* ]]
	# carrier prints the reply on standard output, as for a success.
	[[ "$C_OUT$C_ERR" == *'458 4.0.0 unable to queue'* ]]
}

@test "-S: the same EHLO, both succeed" {
	agree -C "$RC" -S
}

@test "SIZE offered: carrier sends SIZE= (COMING FROM MSMTP: SIZE= sent when offered)" {
	SCEN='capabilities PIPELINING, 8BITMIME, SIZE 1000000'
	plain_rc
	both -C "$RC" bob@y.test
	same_message
	same_outcome
	sent_in "$M_DIR" 'MAIL FROM:<ann@x.test>'
	run grep -c '^MAIL FROM:<ann@x.test> SIZE=[0-9]*$' "$C_DIR/commands"
	assert_output 1
}

# ---- the other documented differences ----

@test "--host with -C: msmtp drops the file, carrier keeps the account's from (COMING FROM MSMTP: --host keeps the account's settings)" {
	rc <<<$'account default\nfrom acct@x.test'
	both -C "$RC" --host=127.0.0.1 --port=@PORT@ --domain=client.test bob@y.test
	# msmtp has no sender at all: "envelope-from address is missing".
	assert_equal "$(outcome "$M_STATUS") $(outcome "$C_STATUS")" 'failure success'
	[[ $M_ERR == *'envelope-from address is missing'* ]]
	sent_in "$C_DIR" 'MAIL FROM:<acct@x.test>'
}

@test "--host to another host with -C: neither sends the account's password (COMING FROM MSMTP: --host keeps the account's settings)" {
	SCEN=$AUTHSCEN
	rc <<<$'account default\nhost mail.invalid\nfrom acct@x.test\nauth plain\nuser u\npassword s3cret'
	both -C "$RC" --host=127.0.0.1 --port=@PORT@ --domain=client.test -f ann@x.test bob@y.test
	run grep -c czNjcmV0 "$M_DIR/commands" "$C_DIR/commands"
	assert_output "$M_DIR/commands:0
$C_DIR/commands:0"
}

@test "no -f and no from: msmtp fails, carrier takes the message's From (COMING FROM MSMTP: the envelope sender is the message's From)" {
	rc <<<$'account default'
	both -C "$RC" bob@y.test
	assert_equal "$(outcome "$M_STATUS") $(outcome "$C_STATUS")" 'failure success'
	[[ $M_ERR == *'envelope-from address is missing'* ]]
	sent_in "$C_DIR" 'MAIL FROM:<ann@x.test>'
}

@test "no domain: msmtp says EHLO localhost, carrier the host's name (COMING FROM MSMTP: the EHLO name is the host's FQDN)" {
	both --host=127.0.0.1 --port=@PORT@ -f ann@x.test bob@y.test
	same_message
	same_outcome
	sent_in "$M_DIR" 'EHLO localhost'
	run head -n 1 "$C_DIR/commands"
	assert_output --regexp '^EHLO [^ ]+$'
	refute_output 'EHLO localhost'
}

@test "--socket=PATH --protocol=lmtp: the same LMTP session over a Unix socket" {
	FAKE_OPTS=(--unix)
	SCEN+=$'\nlmtp'
	agree -C "$RC" --socket=@SOCKET@ --protocol=lmtp bob@y.test
}

@test "--socket=PATH without a protocol: msmtp speaks SMTP, carrier LMTP (COMING FROM MSMTP: a socket path speaks LMTP)" {
	FAKE_OPTS=(--unix)
	SCEN+=$'\nlmtp'
	plain_rc
	both -C "$RC" --socket=@SOCKET@ bob@y.test
	assert_equal "$(outcome "$M_STATUS") $(outcome "$C_STATUS")" 'failure success'
	sent_in "$M_DIR" 'EHLO client.test'
	sent_in "$C_DIR" 'LHLO client.test'
}

@test "-S with TLS: both print the certificate's SHA-256 fingerprint" {
	tls_scen
	local fp
	fp=$(certtool --fingerprint --hash=sha256 --infile="$CERTS/server.pem" 2>/dev/null)
	plain_rc
	both -C "$RC" --tls --tls-trust-file="$CERTS/ca.pem" -S
	same
	[[ $(tr -d : <<<"$M_OUT" | tr A-F a-f) == *"$fp"* ]]
	[[ $(tr -d : <<<"$C_OUT" | tr A-F a-f) == *"$fp"* ]]
}
