#!/usr/bin/env bats
# -t produces the same envelope as Python's smtplib send_message() on the
# same input (issue 3): both send to the fake server, whose recorded MAIL
# and RCPT commands are compared.  smtplib reads only the first To/Cc/Bcc
# field, so the messages here have one of each; duplicates are removed on
# both sides before comparing, as carrier sends a recipient once.

load lib/common

# envelope_of DIR: the sender, then the recipients sorted (smtplib takes
# To, Bcc, Cc in that order, carrier To, Cc, Bcc: the set is what counts),
# parameters cut, verbs upper-cased (smtplib writes them in lower case).
# smtplib turns an empty group ("undisclosed-recipients:;") into RCPT
# TO:<>, a command no server takes; carrier sends no recipient for it, so
# that line is left out on both sides.
envelope_of() {
	sed -n 's/^mail FROM:\(<[^>]*>\).*/MAIL FROM:\1/Ip' "$1/commands"
	sed -n 's/^rcpt TO:\(<[^>]*>\).*/RCPT TO:\1/Ip' "$1/commands" |
		grep -vx 'RCPT TO:<>' | sort -u
}

compare() {
	local msg=$BATS_TEST_TMPDIR/msg
	printf '%b' "$1" > "$msg"

	fake_start 'capabilities PIPELINING, 8BITMIME'
	run --separate-stderr /usr/bin/python3 -c '
import email, email.policy, smtplib, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                     policy=email.policy.compat32)
with smtplib.SMTP("127.0.0.1", int(sys.argv[2])) as s:
    s.send_message(msg)
' "$msg" "$FAKE_PORT"
	assert_success
	fake_wait
	local py=$FAKE_DIR

	fake_start 'capabilities PIPELINING, 8BITMIME'
	run_carrier -t < "$msg"
	assert_success
	fake_wait
	assert_equal "$(envelope_of "$FAKE_DIR")" "$(envelope_of "$py")"
}

@test "smtplib and carrier -t agree: plain To, Cc, Bcc with display names" {
	compare 'From: Ann <ann@x.test>\nTo: Bob <bob@x.test>, carol@x.test\nCc: "Dan, D." <dan@x.test>\nBcc: eve@x.test\nSubject: s\n\nbody\n'
}

@test "smtplib and carrier -t agree: Sender wins over From" {
	compare 'From: a@x.test, b@x.test\nSender: s@x.test\nTo: t@x.test\n\nbody\n'
}

@test "smtplib and carrier -t agree: one Resent- block" {
	compare 'From: a@x.test\nTo: old@x.test\nResent-Date: Thu, 26 Nov 2026 06:00:00 +0000\nResent-From: r@x.test\nResent-To: new@x.test\nResent-Cc: new2@x.test\n\nbody\n'
}

@test "smtplib and carrier -t agree: groups, comments and a quoted local part" {
	compare 'From: (the sender) a@x.test\nTo: team: b@x.test, c@x.test;, "d e"@x.test\nCc: undisclosed-recipients:;\n\nbody\n'
}

@test "smtplib and carrier -t agree: the null sender" {
	compare 'From: MAILER-DAEMON <>\nTo: bounce@x.test\n\nbody\n'
}
