#!/usr/bin/env bats
# msmtp's command line with msmtp's meaning (carrier(1), COMING FROM
# MSMTP): the renamed options, settings as --key=value, -P, conflicts.

load lib/common
load lib/core

setup() {
	export HOME=$BATS_TEST_TMPDIR/home LC_ALL=C
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
	mkdir -p "$HOME"
}

# run_c ARGS...: carrier with no server chosen for it.
run_c() {
	run --separate-stderr "$CARRIER" "$@"
}

# A configuration file that would be mailed if --file meant the message.
rc_with_secret() {
	local rc=$BATS_TEST_TMPDIR/msmtprc
	printf 'account default\nhost 127.0.0.1\nport %s\nfrom a@x.test\npassword s3cr3t-never-mailed\n' "$1" >"$rc"
	chmod 600 "$rc"
	echo "$rc"
}

@test "--file=RC is the configuration file (msmtp's -C), never the message" {
	fake_start ''
	local rc
	rc=$(rc_with_secret "$FAKE_PORT")
	run_c --file="$rc" --helo t.test b@x.test <"$(test_message)"
	assert_success
	fake_assert_sent --partial 'MAIL FROM:<a@x.test>'
	run fake_data
	assert_output --partial 'Subject: test'
	refute_output --partial s3cr3t
}

@test "--message-file: the message from a file (carrier's old --file)" {
	fake_start ''
	local m=$BATS_TEST_TMPDIR/m.eml
	printf 'Subject: from file\n\nbody\n' >"$m"
	run_carrier -f a@x.test --message-file "$m" b@x.test </dev/null
	assert_success
	run fake_data
	assert_output --partial 'Subject: from file'
}

@test "--tls: STARTTLS as in msmtp, so --tls to a server without STARTTLS is 82" {
	fake_start ''
	run_carrier --tls -f a@x.test b@x.test <"$(test_message)"
	assert_status 82
	assert_stderr_line 'STARTTLS'
}

@test "--tls=off and --tls-starttls=off -P: the modes as msmtp writes them" {
	run_c -P --host h.test --tls --tls-starttls=off b@x.test
	assert_success
	assert_line 'tls = on connect'
	assert_line 'port = 465'
	run_c -P --host h.test --tls=off b@x.test
	assert_line 'tls = off'
	run_c -P --host h.test --tls b@x.test
	assert_line 'tls = STARTTLS'
}

@test "conflicts: --tls-on-connect with --starttls, two queries, --queue-only with --flush: 64 naming both" {
	run_c --tls-on-connect --starttls b@x.test
	assert_status 64
	assert_stderr 'carrier: --starttls: cannot be used with --tls-on-connect'
	run_c --verify a@x.test --noop
	assert_status 64
	assert_stderr 'carrier: --noop: cannot be used with --verify'
	run_c --queue-only --flush
	assert_status 64
	assert_stderr 'carrier: --flush: cannot be used with --queue-only'
	run_c --tls-starttls=off --starttls b@x.test
	assert_status 64
	assert_stderr 'carrier: --starttls: cannot be used with --tls-starttls=off'
	run_c --tls=off --tls-on-connect b@x.test
	assert_status 64
	assert_stderr 'carrier: --tls-on-connect: cannot be used with --tls=off'
}

@test "--configure and --password are refused with one 64 line" {
	run_c --configure=a@x.test
	assert_status 64
	assert_stderr_line '^carrier: --configure: not supported by carrier: write the account by hand'
	run_c --password=hunter2 b@x.test
	assert_status 64
	assert_stderr_line '^carrier: --password: never on the command line'
}

@test "-a ACCOUNT, and settings as --key=value override the account, even to unset" {
	local rc=$BATS_TEST_TMPDIR/rc
	printf 'defaults\ntimeout 30\naccount work\nhost w.test\nuser wu\ndsn_notify success\nfrom w@w.test\naccount default\nhost d.test\n' >"$rc"
	run_c -C "$rc" -a work -P b@x.test
	assert_success
	assert_line 'account = work'
	assert_line 'host = w.test'
	assert_line 'user = wu'
	assert_line 'dsn_notify = SUCCESS'
	assert_line 'timeout = 30'
	run_c -C "$rc" -a work -P --user= --dsn-notify=off --timeout=off --domain=e.test --tls-trust-file=/ca.pem b@x.test
	assert_success
	assert_line 'user = '
	assert_line 'dsn_notify = '
	assert_line 'timeout = 0'
	assert_line 'domain = e.test'
	assert_line 'tls_trust_file = /ca.pem'
}

@test "-P prints the settings, never the password, and connects nowhere" {
	local rc
	rc=$(rc_with_secret "$(closed_port)")
	printf 'user u\n' >>"$rc"
	run_c -P -C "$rc" b@x.test
	assert_success
	assert_line 'password = *'
	refute_output --partial s3cr3t
}

@test "-P shows the recipients after aliases and maildomain, a bad one with its reason, and reads nothing" {
	local al=$BATS_TEST_TMPDIR/aliases
	printf 'team: b@c.test, d@e.test\n' >"$al"
	run_c -P --host h.test --aliases="$al" --maildomain=x.test -t team zed 'a b<' </dev/full
	assert_success
	assert_line "recipients = b@c.test d@e.test zed@x.test a b< (address: <a b<@x.test> contains a space outside quotes) (and those of To, Cc, Bcc)"
	assert_line "from = (the message's Sender or From field)"
	run_c -P --host h.test --aliases=/nonexistent team
	assert_success
	assert_line 'recipients = team (/nonexistent: No such file or directory)'
}

@test "msmtp's on/off forms and valueless settings: --auth, --syslog=on, --remove-bcc-headers, --tls-certcheck=off" {
	run_c -P --host h.test --auth --user u --syslog=on --remove-bcc-headers --tls-certcheck=off b@x.test
	assert_success
	assert_line 'auth = on'
	assert_line 'syslog = LOG_USER'
	assert_line 'tls_certcheck = off'
	run_c -P --host h.test --tls-crl-file=/x b@x.test
	assert_status 64
	assert_stderr 'carrier: --tls-crl-file: tls_crl_file is not supported by carrier'
}

@test "--rmqs sends ETRN; -S names the server, its greeting (escaped) then its capabilities" {
	fake_start 'rcpt 250 ok'
	run_carrier --rmqs=@x.test
	fake_assert_sent 'ETRN @x.test'
	fake_stop
	fake_start $'greeting 220-fake.test ESMTP first\\n220 second \\x1b[31mred\ncapabilities PIPELINING, SIZE 1000'
	run_carrier -S
	assert_success
	assert_line --index 0 "server 127.0.0.1 port $FAKE_PORT"
	assert_line --index 1 'greeting fake.test ESMTP first'
	assert_line --index 2 'greeting second \033[31mred'
	assert_line --index 3 'PIPELINING'
	assert_line --index 4 'SIZE 1000'
}

@test "--read-envelope-from: the message's From decides the envelope sender, not the account's from; -f still wins" {
	fake_start $'connections 2'
	local rc m=$BATS_TEST_TMPDIR/m.eml
	rc=$BATS_TEST_TMPDIR/rc
	printf 'account default\nhost 127.0.0.1\nport %s\nfrom acct@x.test\n' "$FAKE_PORT" >"$rc"
	chmod 600 "$rc"
	printf 'From: Me <me@y.test>\nTo: b@x.test\nSubject: r\n\nbody\n' >"$m"
	run_c --file="$rc" --helo t.test --read-envelope-from b@x.test <"$m"
	assert_success
	run_c --file="$rc" --helo t.test --read-envelope-from -f given@z.test b@x.test <"$m"
	assert_success
	fake_wait
	run fake_commands
	assert_line --index 1 --regexp '^MAIL FROM:<me@y\.test>'
	assert_line --regexp '^MAIL FROM:<given@z\.test>'
	refute_line --partial 'acct@x.test'
}

# An msmtprc with three accounts on the fake server, each with its own
# EHLO name, so the commands show which account was used.
rc_by_from() {
	local rc=$BATS_TEST_TMPDIR/rc
	printf 'defaults\nhost 127.0.0.1\nport %s\naccount work\nfrom *@work.test\ndomain work.helo\naccount other\nfrom bob@other.test\ndomain other.helo\naccount default\nfrom d@d.test\ndomain default.helo\n' "$1" >"$rc"
	chmod 600 "$rc"
	echo "$rc"
}

@test "account by -f: subaddress bob+tag@ picks from bob@, SOMEONE@WORK.TEST matches *@work.test" {
	fake_start $'connections 3'
	local rc
	rc=$(rc_by_from "$FAKE_PORT")
	printf 'Subject: s\n\nbody\n' >"$BATS_TEST_TMPDIR/m"
	run_c -C "$rc" -f bob+tag@other.test r@x.test <"$BATS_TEST_TMPDIR/m"
	assert_success
	run_c -C "$rc" -f SOMEONE@WORK.TEST r@x.test <"$BATS_TEST_TMPDIR/m"
	assert_success
	run_c -C "$rc" -f nobody@else.test r@x.test <"$BATS_TEST_TMPDIR/m"
	assert_success
	fake_wait
	run fake_commands
	assert_line --index 0 'EHLO other.helo'
	assert_line --index 1 --regexp '^MAIL FROM:<bob\+tag@other\.test>'
	assert_line 'EHLO work.helo'
	assert_line --regexp '^MAIL FROM:<SOMEONE@WORK\.TEST>'
	assert_line 'EHLO default.helo'
}

@test "account by the message's sender with --read-envelope-from; -t alone does not choose by From" {
	fake_start $'connections 3'
	local rc m=$BATS_TEST_TMPDIR/m
	rc=$(rc_by_from "$FAKE_PORT")
	printf 'From: Bob <bob+list@other.test>\nTo: r@x.test\nSubject: s\n\nbody\n' >"$m"
	run_c -C "$rc" -v --read-envelope-from -t <"$m"
	assert_success
	stderr_has '^\* configuration file .*/rc, account other$'
	run_c -C "$rc" -t <"$m"
	assert_success
	run_c -C "$rc" --read-envelope-from -a work r@x.test <"$m"
	assert_success
	fake_wait
	run fake_commands
	assert_line --index 0 'EHLO other.helo'
	assert_line --index 1 --regexp '^MAIL FROM:<bob\+list@other\.test>'
	assert_line 'EHLO default.helo'
	assert_line 'EHLO work.helo'
}

@test "--read-envelope-from with a message file that cannot be read: 66 before any connection" {
	local rc
	rc=$(rc_by_from "$(closed_port)")
	run_c -C "$rc" --read-envelope-from --message-file "$BATS_TEST_TMPDIR/none" r@x.test
	assert_status 66
	assert_stderr "carrier: $BATS_TEST_TMPDIR/none: No such file or directory"
}

# An LMTP server on a Unix socket that also answers EHLO and HELO, as some
# do: only the protocol carrier speaks tells LMTP's per-recipient replies.
lenient_lmtp_socket() {
	fake_start --unix <<-'EOF2'
		lmtp
		EHLO 250 fake.test
		HELO 250 fake.test
		data-end bob@x.test 550 5.2.1 mailbox disabled
	EOF2
}

@test "a Unix socket path speaks LMTP without --lmtp: one reply per recipient, a refused one is 79" {
	lenient_lmtp_socket
	CARRIER_HELO=c.test run_carrier -f a@x.test amy@x.test bob@x.test <"$(test_message)"
	assert_status 79
	assert_stderr_line '^carrier: .*bob@x\.test.*550 5\.2\.1 mailbox disabled'
	fake_wait
	run fake_commands
	assert_line --index 0 'LHLO c.test'
	refute_line --regexp '^EHLO'
}

@test "a Unix socket with --protocol=smtp, or the account's protocol smtp, speaks EHLO" {
	lenient_lmtp_socket
	run_carrier --protocol=smtp -P r@x.test
	assert_success
	assert_line 'protocol = smtp'
	local rc=$BATS_TEST_TMPDIR/rc
	printf 'account default\nsocket %s\nprotocol smtp\n' "$FAKE_SOCKET" >"$rc"
	run_c -C "$rc" --helo c.test -f a@x.test amy@x.test <"$(test_message)"
	assert_success
	fake_wait
	run fake_commands
	assert_line --index 0 'EHLO c.test'
}

@test "from_full_name (msmtp 1.8.24): the display name of the From carrier adds, as -F; -F wins" {
	fake_start $'connections 2'
	local rc=$BATS_TEST_TMPDIR/rc m=$BATS_TEST_TMPDIR/m
	printf 'account default\nhost 127.0.0.1\nport %s\ndomain c.test\nfrom a@x.test\nfrom_full_name Jane Doe\n' "$FAKE_PORT" >"$rc"
	chmod 600 "$rc"
	printf 'To: b@x.test\nSubject: s\n\nbody\n' >"$m"
	run_c -C "$rc" b@x.test <"$m"
	assert_success
	run_c -C "$rc" -F 'J. D.' b@x.test <"$m"
	assert_success
	fake_wait
	run fake_message 1
	assert_line --index 0 --regexp '^From: Jane Doe <a@x\.test>'
	run fake_message 2
	assert_line --index 0 --regexp '^From: "J\. D\." <a@x\.test>'
}

@test "set_to_header (msmtp 1.8.29): To, Cc and Bcc become one To of the envelope's recipients, folded; undisclosed_recipients wins" {
	fake_start $'connections 2'
	local rc=$BATS_TEST_TMPDIR/rc m=$BATS_TEST_TMPDIR/m
	printf 'account default\nhost 127.0.0.1\nport %s\ndomain c.test\nfrom a@x.test\nset_to_header on\n' "$FAKE_PORT" >"$rc"
	chmod 600 "$rc"
	printf 'To: Bee <b@x.test>\nCc: c@x.test\nBcc: secret@x.test\nSubject: s\n\nbody\n' >"$m"
	run_c -C "$rc" -t long-recipient-number-one@example.test long-recipient-number-two@example.test <"$m"
	assert_success
	run_c -C "$rc" --undisclosed-recipients=on b@x.test <"$m"
	assert_success
	fake_wait
	run tr -d '\r' <"$FAKE_DIR/message.1"
	assert_line --index 0 'To: long-recipient-number-one@example.test,'
	assert_line --index 1 ' long-recipient-number-two@example.test, b@x.test, c@x.test, secret@x.test'
	assert_line --index 2 'Subject: s'
	refute_line --regexp '^(Cc|Bcc):'
	run tr -d '\r' <"$FAKE_DIR/message.2"
	assert_line --index 0 'To: undisclosed-recipients:;'
	refute_line --regexp '^(Cc|Bcc):'
}

@test "from %F (msmtp 1.8.29): the envelope sender is the message's From, -P says so; -f still wins" {
	fake_start $'connections 2'
	local rc=$BATS_TEST_TMPDIR/rc m=$BATS_TEST_TMPDIR/m
	printf 'account default\nhost 127.0.0.1\nport %s\ndomain c.test\nfrom %%F\n' "$FAKE_PORT" >"$rc"
	chmod 600 "$rc"
	printf 'From: Ann <ann@x.test>\nTo: b@x.test\nSubject: s\n\nbody\n' >"$m"
	run_c -C "$rc" --sendmail -P b@x.test
	assert_success
	assert_line "from = (the message's Sender or From field)"
	run_c -C "$rc" --sendmail b@x.test <"$m"
	assert_success
	run_c -C "$rc" --sendmail -f other@x.test b@x.test <"$m"
	assert_success
	fake_wait
	run fake_commands
	assert_line --index 1 --regexp '^MAIL FROM:<ann@x\.test> '
	assert_line --index 7 --regexp '^MAIL FROM:<other@x\.test> '
}

@test "every long option of msmtp --help is known to carrier; only --configure, --tls-crl-file and --tls-min-dh-prime-bits are refused, each with its reason" {
	command -v msmtp >/dev/null || skip "msmtp is installed by make deps"
	local opts opt known=0 refused=()
	opts=$(msmtp --help | sed -n 's/^ *\(-[A-Za-z], \)\{0,1\}--\([a-z0-9][a-z0-9-]*\).*/\2/p' | sort -u)
	[ "$(wc -l <<<"$opts")" -ge 45 ]
	for opt in $opts; do
		# With and without a value: neither may be unknown.
		run_c --"$opt" </dev/null
		[[ $stderr != *"unknown option"* ]] || { echo "unknown: --$opt"; return 1; }
		if msmtp --help | grep -qE -- "--$opt\[?="; then
			run_c --"$opt"=1 -P a@example.test </dev/null
			[[ $stderr != *"unknown option"* ]] || { echo "unknown: --$opt=1"; return 1; }
		fi
		[[ $stderr == *"not supported by carrier"* ]] && refused+=("$opt")
		known=$((known + 1))
	done
	echo "msmtp's long options: $known known to carrier, refused: ${refused[*]}"
	assert_equal "$(printf '%s\n' "${refused[@]}" | sort | tr '\n' ' ')" 'configure tls-crl-file tls-min-dh-prime-bits '
}
