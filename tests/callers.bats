#!/usr/bin/env bats
# Real callers (SPEC 4, 5, 8): programs that hand mail to sendmail, each
# run with carrier as its sendmail (a symlink named `sendmail`, never the
# system's /usr/sbin/sendmail), sending through the fake server.  carrier
# finds the server in $XDG_CONFIG_HOME/carrier/config, as it would in a
# user's setup.  What the server recorded is checked: envelope and data.
#
# Debian packages: bsd-mailx, git-email, libmailtools-perl (git
# send-email needs Mail::Address), php-cli, mutt, mailutils (its
# mail.mailutils coexists with bsd-mailx; /usr/bin/mail stays bsd-mailx).
# cron is not run (it is a daemon): its sendmail command line (Debian's
# "-FCronDaemon -i -B8BITMIME -oem USER") is used exactly and its message
# is reproduced in its shape (From/To/Subject, MIME and X-Cron-Env
# fields, no Date, no Message-ID; the lines of do_command.c as written
# here from memory, not checked against cron's source).

load lib/common
load lib/core

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$HOME" "$BATS_TEST_TMPDIR/bin"
	SENDMAIL=$BATS_TEST_TMPDIR/bin/sendmail
	ln -sf "$CARRIER" "$SENDMAIL"
	ME=$(id -un)
}

# need PROGRAM PACKAGE: skip when PROGRAM is missing.
need() {
	command -v "$1" >/dev/null || skip "$1 is not installed (Debian package $2)"
}

need_git_send_email() {
	[[ -x $(git --exec-path 2>/dev/null)/git-send-email ]] ||
		skip 'git send-email is not installed (Debian package git-email)'
}

# start [CONFIG-LINES]: a default fake server, and carrier's configuration
# pointing at it (HELO client.test, maildomain x.test), plus CONFIG-LINES
# (printf %b).
start() {
	fake_start ''
	mkdir -p "$XDG_CONFIG_HOME/carrier"
	printf 'defaults\ntimeout 5\n\naccount default\nhost 127.0.0.1\nport %s\ndomain client.test\nmaildomain x.test\n%b' \
		"$FAKE_PORT" "${1:-}" >"$XDG_CONFIG_HOME/carrier/config"
	chmod 600 "$XDG_CONFIG_HOME/carrier/config"
}

# envelope SENDER [PARAMS] -- RCPT...: the commands were exactly EHLO,
# MAIL FROM:<SENDER> SIZE=n[ PARAMS], the RCPTs, DATA, QUIT, where n is
# the size of the message the server stored.
envelope() {
	local sender=$1 params='' r size
	shift
	if [[ $1 != -- ]]; then
		params=" $1"
		shift
	fi
	shift
	size=$(wc -c <"$FAKE_DIR/message.1")
	{
		echo 'EHLO client.test'
		echo "MAIL FROM:<$sender> SIZE=$size$params"
		for r in "$@"; do echo "RCPT TO:<$r>"; done
		echo DATA
		echo QUIT
	} | fake_assert_commands
}

# masked_message N: message N as stored (CRLF, un-stuffed) with the
# value of a Date of carrier's form replaced by DATE and the random part
# of a Message-ID of carrier's form by ID.
DATE_RE='(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [1-9][0-9]? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 2[0-9]{3} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [-+][0-9]{4}'
masked_message() {
	sed -E "s/^Date: $DATE_RE\r\$/Date: DATE\r/; s/^Message-ID: <[0-9a-f]{16}\.[0-9a-f]{16}@/Message-ID: <ID@/" \
		"$FAKE_DIR/message.${1:-1}"
}

# assert_message EXPECTED: masked_message 1 is exactly EXPECTED.
assert_message() {
	masked_message 1 >"$BATS_TEST_TMPDIR/masked"
	assert_bytes "$BATS_TEST_TMPDIR/masked" "$1"
}

# header_count NAME: how many header fields NAME message 1 has.
header_count() {
	sed -n '/^\r$/q;p' "$FAKE_DIR/message.1" | grep -ci "^$1:"
}

# ------------------------------------------------------------ bsd-mailx

@test "bsd-mailx: mail -s SUBJECT ADDR (sendmail -i -t): From, Date, Message-ID added" {
	need bsd-mailx bsd-mailx
	start
	printf 'set sendmail=%s\n' "$SENDMAIL" >"$BATS_TEST_TMPDIR/mailrc"
	printf 'Hello from mailx.\n' | LC_ALL=C.UTF-8 MAILRC=$BATS_TEST_TMPDIR/mailrc bsd-mailx -n -s 'mailx subject' b@x.test
	fake_wait
	envelope "$ME@x.test" -- b@x.test
	assert_message "From: <$ME@x.test>"$'\r\nDate: DATE\r\nMessage-ID: <ID@x.test>\r\nTo: b@x.test\r\nSubject: mailx subject\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset="UTF-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHello from mailx.\r\n'
}

@test "bsd-mailx: -r FROM -c CC -b BCC (sendmail -i -t -f FROM): Bcc removed, every recipient" {
	need bsd-mailx bsd-mailx
	start
	printf 'set sendmail=%s\n' "$SENDMAIL" >"$BATS_TEST_TMPDIR/mailrc"
	printf 'line 1\n.\nline 3\n' | LC_ALL=C.UTF-8 MAILRC=$BATS_TEST_TMPDIR/mailrc bsd-mailx -n -r 'Me Myself <me@x.test>' \
		-c c@x.test -b d@x.test -s 'with copies' b@x.test
	fake_wait
	envelope me@x.test -- b@x.test c@x.test d@x.test
	assert_message $'Date: DATE\r\nMessage-ID: <ID@x.test>\r\nFrom: Me Myself <me@x.test>\r\nTo: b@x.test\r\nSubject: with copies\r\nCc: c@x.test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset="UTF-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nline 1\r\n.\r\nline 3\r\n'
	refute grep -qi '^bcc' "$FAKE_DIR/data.1"
}

# ------------------------------------------------------ git send-email

@test "git send-email --smtp-server=PATH (sendmail -i RCPTS): a real patch arrives whole and applies" {
	need_git_send_email
	perl -MMail::Address -e 1 2>/dev/null || skip 'git send-email needs Mail::Address (libmailtools-perl)'
	local repo=$BATS_TEST_TMPDIR/repo
	export GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@x.test GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@x.test
	export GIT_AUTHOR_DATE='2015-01-01T00:00:00Z' GIT_COMMITTER_DATE='2015-01-01T00:00:00Z'
	git init -q "$repo"
	printf 'one\n' >"$repo/f.txt"
	git -C "$repo" add f.txt
	git -C "$repo" commit -qm init
	printf '.\ntwo\n..\n' >>"$repo/f.txt"
	# The commit message holds a lone '.' line: git passes -i.
	git -C "$repo" commit -qam $'add two\n\nA body line.\n.\nThe line above is a lone dot.'
	git -C "$repo" format-patch -q -1 -o "$BATS_TEST_TMPDIR/patches"
	start
	run git -C "$repo" send-email --smtp-server="$SENDMAIL" --to=b@x.test --cc='Cee <c@x.test>' \
		--from='Dev <dev@x.test>' --suppress-cc=all --confirm=never "$BATS_TEST_TMPDIR"/patches/*.patch </dev/null
	assert_success
	assert_line "Sendmail: $SENDMAIL -i b@x.test c@x.test"
	fake_wait
	envelope dev@x.test -- b@x.test c@x.test
	# git wrote From, Date and Message-Id itself: carrier adds nothing.
	assert_equal "$(header_count From)" 1
	assert_equal "$(header_count Date)" 1
	assert_equal "$(header_count Message-Id)" 1
	grep -qx $'Subject: \\[PATCH\\] add two\r' "$FAKE_DIR/message.1"
	grep -qx $'Cc: Cee <c@x.test>\r' "$FAKE_DIR/message.1"
	# The body is the patch's body, byte for byte (CRLF on the wire).
	diff <(sed '1,/^$/d' "$BATS_TEST_TMPDIR"/patches/*.patch) <(tr -d '\r' <"$FAKE_DIR/message.1" | sed '1,/^$/d')
	# And the received mail applies with git am on the parent commit.
	git clone -q "$repo" "$BATS_TEST_TMPDIR/clone"
	git -C "$BATS_TEST_TMPDIR/clone" reset -q --hard HEAD~1
	tr -d '\r' <"$FAKE_DIR/message.1" | git -C "$BATS_TEST_TMPDIR/clone" am -q
	assert_equal "$(git -C "$BATS_TEST_TMPDIR/clone" rev-parse 'HEAD^{tree}')" "$(git -C "$repo" rev-parse 'HEAD^{tree}')"
	assert_equal "$(git -C "$BATS_TEST_TMPDIR/clone" log -1 --format=%B)" "$(git -C "$repo" log -1 --format=%B)"
}

@test "git send-email --envelope-sender (sendmail -f SENDER -i RCPTS)" {
	need_git_send_email
	perl -MMail::Address -e 1 2>/dev/null || skip 'git send-email needs Mail::Address (libmailtools-perl)'
	local f=$BATS_TEST_TMPDIR/0001-x.patch
	printf 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: Dev <dev@x.test>\nDate: Thu, 1 Jan 2015 00:00:00 +0000\nSubject: [PATCH] x\n\nbody\n---\n f | 1 +\n' >"$f"
	start
	run git send-email --smtp-server="$SENDMAIL" --envelope-sender=bounce@x.test --to=b@x.test \
		--from='Dev <dev@x.test>' --suppress-cc=all --confirm=never "$f" </dev/null
	assert_success
	fake_wait
	envelope bounce@x.test -- b@x.test
}

# ----------------------------------------------------------------- cron

@test "cron: sendmail -FCronDaemon -i -B8BITMIME -oem USER, cron's message (no Date, no Message-ID)" {
	printf 'root: admin@x.test\n' >"$BATS_TEST_TMPDIR/aliases"
	start "aliases $BATS_TEST_TMPDIR/aliases\n"
	# Debian cron: popen("/usr/sbin/sendmail -FCronDaemon -i -B8BITMIME
	# -oem root"), then these lines, then the job's output.
	{
		printf 'From: root (Cron Daemon)\n'
		printf 'To: root\n'
		printf 'Subject: Cron <root@host> /usr/local/bin/job\n'
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=UTF-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n'
		printf 'X-Cron-Env: <SHELL=/bin/sh>\n'
		printf 'X-Cron-Env: <HOME=/root>\n'
		printf 'X-Cron-Env: <PATH=/usr/bin:/bin>\n'
		printf 'X-Cron-Env: <LOGNAME=root>\n'
		printf '\n'
		printf 'job output\n.\nr\xc3\xa9sum\xc3\xa9\n'
	} >"$BATS_TEST_TMPDIR/cron.msg"
	run --separate-stderr "$SENDMAIL" -FCronDaemon -i -B8BITMIME -oem root <"$BATS_TEST_TMPDIR/cron.msg"
	fake_wait
	assert_status 0
	assert_quiet
	# The sender is the From field's address ("root"), qualified with the
	# account's maildomain: smarthosts refuse unqualified senders.
	envelope root@x.test BODY=8BITMIME -- admin@x.test
	assert_message $'Date: DATE\r\nMessage-ID: <ID@x.test>\r\nFrom: root (Cron Daemon)\r\nTo: root\r\nSubject: Cron <root@host> /usr/local/bin/job\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nX-Cron-Env: <SHELL=/bin/sh>\r\nX-Cron-Env: <HOME=/root>\r\nX-Cron-Env: <PATH=/usr/bin:/bin>\r\nX-Cron-Env: <LOGNAME=root>\r\n\r\njob output\r\n.\r\nr\xc3\xa9sum\xc3\xa9\r\n'
}

# ------------------------------------------------------------------ PHP

@test "PHP mail() (sendmail -t -i -fSENDER): CRLF headers, LF body, Bcc removed" {
	need php php-cli
	start
	run --separate-stderr php -n -d "sendmail_path=$SENDMAIL -t -i" -r '
		$ok = mail("b@x.test", "php subject", "line1\nline2\n.\nend",
			"From: Web <web@x.test>\r\nCc: c@x.test\r\nBcc: d@x.test", "-fbounce@x.test");
		exit($ok ? 0 : 1);'
	assert_status 0
	assert_equal "$stderr" ""
	fake_wait
	envelope bounce@x.test -- b@x.test c@x.test d@x.test
	assert_message $'Date: DATE\r\nMessage-ID: <ID@x.test>\r\nTo: b@x.test\r\nSubject: php subject\r\nFrom: Web <web@x.test>\r\nCc: c@x.test\r\n\r\nline1\r\nline2\r\n.\r\nend\r\n'
}

# ----------------------------------------------------------------- mutt

@test "mutt (sendmail -oem -oi -f FROM -- RCPTS): exactly mutt's message" {
	need mutt mutt
	start
	cat >"$BATS_TEST_TMPDIR/muttrc" <<-EOF
		set sendmail="$SENDMAIL -oem -oi"
		set use_envelope_from=yes
		set from="Me Myself <me@x.test>"
		set use_from=yes
		set record=""
		set charset="utf-8"
		set hostname="x.test"
	EOF
	printf 'mutt body\n.\nafter the dot\n' >"$BATS_TEST_TMPDIR/body"
	run --separate-stderr mutt -n -F "$BATS_TEST_TMPDIR/muttrc" -s 'mutt subject' \
		-c c@x.test -b d@x.test -- b@x.test <"$BATS_TEST_TMPDIR/body"
	assert_status 0
	fake_wait
	envelope me@x.test -- b@x.test c@x.test d@x.test
	# mutt wrote Date and Message-ID itself: nothing added, nothing changed.
	assert_equal "$(header_count Date)" 1
	assert_equal "$(header_count Message-ID)" 1
	sed -E 's/^Date: .*\r$/Date: DATE\r/; s/^Message-ID: <[^>]+@x\.test>\r$/Message-ID: <MUTT@x.test>\r/' \
		"$FAKE_DIR/message.1" >"$BATS_TEST_TMPDIR/got"
	assert_bytes "$BATS_TEST_TMPDIR/got" $'Date: DATE\r\nFrom: Me Myself <me@x.test>\r\nTo: b@x.test\r\nCc: c@x.test\r\nSubject: mutt subject\r\nMessage-ID: <MUTT@x.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Disposition: inline\r\n\r\nmutt body\r\n.\r\nafter the dot\r\n'
}

# ----------------------------------------------------- GNU mailutils

@test "GNU mailutils mail (sendmail -oi -f USER@HOST -t): no From in the message, carrier adds it" {
	need mail.mailutils mailutils
	start
	printf 'mailutils body\n' | mail.mailutils -E "set sendmail=sendmail://$SENDMAIL" -s 'mu subject' b@x.test
	fake_wait
	# mailutils gives -f with the login name at the local host name.
	local sender
	sender=$(sed -n 's/^MAIL FROM:<\([^>]*\)> .*/\1/p' "$FAKE_DIR/commands")
	[[ $sender == "$ME@"* ]] || fail "sender $sender"
	envelope "$sender" -- b@x.test
	# mailutils writes Date but neither From nor Message-ID.
	sed -E 's/^Date: .*\r$/Date: MU\r/; s/^User-Agent: mail \(GNU Mailutils [0-9.]+\)\r$/User-Agent: mail (GNU Mailutils V)\r/' "$FAKE_DIR/message.1" |
		sed -E "s/^Message-ID: <[0-9a-f]{16}\.[0-9a-f]{16}@x\.test>\r\$/Message-ID: <ID@x.test>\r/" >"$BATS_TEST_TMPDIR/got"
	assert_bytes "$BATS_TEST_TMPDIR/got" "From: <$sender>"$'\r\nMessage-ID: <ID@x.test>\r\nSubject: mu subject\r\nTo: <b@x.test>\r\nUser-Agent: mail (GNU Mailutils V)\r\nDate: MU\r\n\r\nmailutils body\r\n'
}
