#!/usr/bin/env bats
# --batch: several messages over one session (--batch --message-file A --message-file B,
# --maildir DIR, --mbox FILE).  Each message has its own envelope (-t per
# message), one result line per message on stdout, a failure of one does
# not stop the others, the exit status is the worst outcome, and a
# connection lost between messages is opened again for the next ones.

load lib/common
load lib/core

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$HOME"
	M=$BATS_TEST_TMPDIR/m
	mkdir -p "$M"
	cd "$BATS_TEST_TMPDIR" || return 1
}

# mk NAME TO [HEADER...]: writes m/NAME, a message From a@x.test To TO
# with the extra header lines, Subject NAME and the body "Body NAME.",
# and prints its name (relative to $BATS_TEST_TMPDIR, the current dir).
mk() {
	local name=$1 to=$2
	shift 2
	{
		printf 'From: a@x.test\nTo: %s\n' "$to"
		[[ $# -gt 0 ]] && printf '%s\n' "$@"
		printf 'Subject: %s\n\nBody %s.\n' "$name" "$name"
	} >"$M/$name"
	printf 'm/%s\n' "$name"
}

# as_sent FILE: FILE with CRLF line ends (message.N of the fake server).
as_sent() {
	sed 's/$/\r/' "$1"
}

# assert_message N FILE: the fake server stored FILE as message N.
assert_message() {
	if ! cmp -s "$FAKE_DIR/message.$1" <(as_sent "$2"); then
		{
			echo "-- expected ($2)"
			show <(as_sent "$2")
			echo "-- message.$1"
			show "$FAKE_DIR/message.$1"
		} | batslib_decorate "message $1 differs" | fail
		return 1
	fi
}

# run_batch4: --batch -t over the files $a $b $c $d, to the fake server,
# which is then done.
run_batch4() {
	run_carrier --batch --message-file "$a" --message-file "$b" --message-file "$c" --message-file "$d" -t
	fake_done
}

# connections: how many connections the fake server saw.
connections() {
	grep -c '^\*\*\* connection [0-9]* from' "$FAKE_DIR/transcript"
}

@test "--batch with three --message-file: one connection, three transactions, one line per message" {
	local a b c
	a=$(mk one r@x.test) b=$(mk two r@x.test) c=$(mk three r@x.test)
	fake_start ''
	run_carrier --batch --message-file "$a" --message-file "$b" --message-file "$c" -f s@x.test r@x.test
	fake_done
	assert_status 0
	assert_equal "$output" "$a: delivered
$b: delivered
$c: delivered"
	assert_equal "$stderr" ""
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<s@x.test> SIZE=$(as_sent "$a" | wc -c)
		RCPT TO:<r@x.test>
		DATA
		MAIL FROM:<s@x.test> SIZE=$(as_sent "$b" | wc -c)
		RCPT TO:<r@x.test>
		DATA
		MAIL FROM:<s@x.test> SIZE=$(as_sent "$c" | wc -c)
		RCPT TO:<r@x.test>
		DATA
		QUIT
	EOF
	assert_message 1 "$a"
	assert_message 2 "$b"
	assert_message 3 "$c"
}

@test "-t per message: each message its own recipients (To, Cc, Bcc), Bcc removed from each" {
	local a b
	a=$(mk one b1@x.test 'Cc: c1@x.test' 'Bcc: d1@x.test')
	b=$(mk two b2@x.test 'Bcc: d2@x.test, e2@x.test')
	fake_start ''
	run_carrier --batch --message-file "$a" --message-file "$b" -t
	fake_done
	assert_status 0
	assert_equal "$output" "$a: delivered
$b: delivered"
	assert_equal "$stderr" ""
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=$(grep -v '^Bcc' "$M/one" | sed 's/$/\r/' | wc -c)
		RCPT TO:<b1@x.test>
		RCPT TO:<c1@x.test>
		RCPT TO:<d1@x.test>
		DATA
		MAIL FROM:<a@x.test> SIZE=$(grep -v '^Bcc' "$M/two" | sed 's/$/\r/' | wc -c)
		RCPT TO:<b2@x.test>
		RCPT TO:<d2@x.test>
		RCPT TO:<e2@x.test>
		DATA
		QUIT
	EOF
	grep -v '^Bcc' "$M/one" >"$M/one.sent"
	grep -v '^Bcc' "$M/two" >"$M/two.sent"
	assert_message 1 "$M/one.sent"
	assert_message 2 "$M/two.sent"
}

@test "a message refused in the middle does not stop the others: exit 67, one stderr line naming it" {
	local a b c
	a=$(mk one b1@x.test) b=$(mk two b2@x.test) c=$(mk three b3@x.test)
	fake_start 'rcpt b2@x.test 550 5.1.1 No such user'
	run_carrier --batch --message-file "$a" --message-file "$b" --message-file "$c" -t
	fake_done
	assert_status 67
	assert_equal "$output" "$a: delivered
$b: not delivered
$c: delivered"
	assert_stderr_line "^carrier: $b: <b2@x\.test>: 550 5\.1\.1 No such user$"
	assert_equal "$(grep -c '^MAIL' "$FAKE_DIR/commands")" 3
	assert_equal "$(connections)" 1
	assert_message 1 "$a"
	assert_message 2 "$c"
}

@test "exit status the worst: some recipients refused only: 79" {
	local a b
	a=$(mk one b1@x.test) b=$(mk two 'b2@x.test, c2@x.test')
	fake_start 'rcpt c2@x.test 550 5.1.1 No such user'
	run_carrier --batch --message-file "$a" --message-file "$b" -t
	fake_done
	assert_status 79
	assert_equal "$output" "$a: delivered
$b: delivered to some recipients"
	assert_stderr_line "^carrier: $b: <c2@x\.test>: 550 5\.1\.1 No such user$"
}

@test "exit status the worst: a 451 to the data (75) is worse than some recipients refused (79); one stderr line for each failure" {
	local a b c
	a=$(mk one b1@x.test) b=$(mk two 'b2@x.test, c2@x.test') c=$(mk three b3@x.test)
	fake_start <<-'EOF'
		rcpt c2@x.test 550 5.1.1 No such user
		data-end default
		data-end default
		data-end 451 4.3.0 Try again later
	EOF
	run_carrier --batch --message-file "$a" --message-file "$b" --message-file "$c" -t
	fake_done
	assert_status 75
	assert_equal "$output" "$a: delivered
$b: delivered to some recipients
$c: not delivered, try again later"
	# Nothing more: no line for b3, whose RCPT was accepted.
	assert_stderr "carrier: $b: <c2@x.test>: 550 5.1.1 No such user
carrier: $c: message refused: 451 4.3.0 Try again later"
}

@test "exit status the worst: a permanent refusal (67) is worse than a temporary one (75), whatever the order" {
	local a b c
	a=$(mk one b1@x.test) b=$(mk two b2@x.test) c=$(mk three b3@x.test)
	fake_start <<-'EOF'
		rcpt b1@x.test 450 4.2.0 Greylisted
		rcpt b2@x.test 550 5.1.1 No such user
	EOF
	run_carrier --batch --message-file "$a" --message-file "$b" --message-file "$c" -t
	fake_done
	assert_status 67
	assert_equal "$output" "$a: not delivered, try again later
$b: not delivered
$c: delivered"
	assert_stderr "carrier: $a: <b1@x.test>: 450 4.2.0 Greylisted
carrier: $b: <b2@x.test>: 550 5.1.1 No such user"
	assert_message 1 "$c"
}

@test "a --message-file that cannot be read is reported (66), the others are sent" {
	local a c
	a=$(mk one b1@x.test) c=$(mk three b3@x.test)
	fake_start ''
	run_carrier --batch --message-file "$a" --message-file m/missing --message-file "$c" -t
	fake_done
	assert_status 66
	assert_equal "$output" "$a: delivered
m/missing: not delivered
$c: delivered"
	assert_stderr_line '^carrier: (m/missing: )+No such file or directory$'
	assert_message 1 "$a"
	assert_message 2 "$c"
}

@test "--maildir: new/ then cur/, each in name order, over one connection; tmp/ and dot files are skipped" {
	mkdir -p md/new md/cur md/tmp
	mk n2 n2@x.test >/dev/null
	mk n1 n1@x.test >/dev/null
	mk c1 c1@x.test >/dev/null
	mk t1 t1@x.test >/dev/null
	cp m/n2 md/new/1700000002.M2P2.host
	cp m/n1 md/new/1700000001.M1P1.host
	cp m/c1 md/cur/1600000000.M0P0.host:2,S
	cp m/t1 md/tmp/1700000003.M3P3.host
	cp m/t1 md/new/.hidden
	fake_start ''
	run_carrier --maildir md -t
	fake_done
	assert_status 0
	assert_equal "$output" "md/new/1700000001.M1P1.host: delivered
md/new/1700000002.M2P2.host: delivered
md/cur/1600000000.M0P0.host:2,S: delivered"
	assert_equal "$stderr" ""
	assert_equal "$(connections)" 1
	assert_equal "$(grep '^RCPT' "$FAKE_DIR/commands")" 'RCPT TO:<n1@x.test>
RCPT TO:<n2@x.test>
RCPT TO:<c1@x.test>'
	assert_message 1 m/n1
	assert_message 2 m/n2
	assert_message 3 m/c1
	# A maildir without new/ is an input error, before any connection.
	fake_start ''
	run_carrier --maildir m -t
	fake_stop
	assert_status 66
	assert_stderr_line '^carrier: m/new: No such file or directory$'
	refute_connected
}

# mbox3: an mbox of three messages, each followed by an empty line (as
# mbox writers do); the second has a "From " line inside a paragraph and
# the first a quoted ">From ".
mbox3() {
	cat >box <<-'EOF'
		From a@x.test Thu Jan  1 00:00:00 2015
		From: a@x.test
		To: b1@x.test
		Subject: one

		Body one.
		>From the quoted line.

		From a@x.test Thu Jan  1 00:00:01 2015
		From: a@x.test
		To: b2@x.test
		Subject: two

		Body two,
		From inside a paragraph: not a new message.

		From a@x.test Thu Jan  1 00:00:02 2015
		From: a@x.test
		To: b3@x.test
		Subject: three

		Body three.

	EOF
}

@test "--mbox with three messages: split at From lines after an empty line, the From line not sent" {
	mbox3
	fake_start ''
	run_carrier --mbox box -t
	fake_done
	assert_status 0
	assert_equal "$output" "box:1: delivered
box:2: delivered
box:3: delivered"
	assert_equal "$stderr" ""
	assert_equal "$(connections)" 1
	assert_equal "$(grep '^RCPT' "$FAKE_DIR/commands")" 'RCPT TO:<b1@x.test>
RCPT TO:<b2@x.test>
RCPT TO:<b3@x.test>'
	local i
	for i in 1 2 3; do
		refute grep -q '^From a@x\.test Thu' "$FAKE_DIR/message.$i"
		grep -q '^From: a@x.test' "$FAKE_DIR/message.$i"
	done
	grep -q '^From inside a paragraph: not a new message' "$FAKE_DIR/message.2"
	grep -q 'Body three\.' "$FAKE_DIR/message.3"
}

@test "--mbox: the empty line before the next From line belongs to the mbox, not to the message" {
	mbox3
	fake_start ''
	run_carrier --mbox box -t
	fake_done
	assert_status 0
	# RFC 4155: the writer adds an empty line after each message; the
	# reader (Python's mailbox, mutt, ...) takes it away again.
	printf 'From: a@x.test\nTo: b2@x.test\nSubject: two\n\nBody two,\nFrom inside a paragraph: not a new message.\n' >two
	printf 'From: a@x.test\nTo: b3@x.test\nSubject: three\n\nBody three.\n' >three
	assert_message 2 two
	assert_message 3 three
}

@test "a connection lost between messages: the next ones go over a new connection" {
	local a b c d
	a=$(mk one b1@x.test) b=$(mk two b2@x.test) c=$(mk three b3@x.test) d=$(mk four b4@x.test)
	# The server closes the connection after its 250 to the second message.
	fake_start <<-'EOF'
		connections 2
		data-end default
		data-end 250 2.0.0 Ok: queued | close
		data-end default
	EOF
	run_batch4
	assert_status 0
	assert_equal "$output" "$a: delivered
$b: delivered
$c: delivered
$d: delivered"
	assert_equal "$stderr" ""
	assert_equal "$(connections)" 2
	assert_equal "$(sed -n '/^--- connection 2/,$p' "$FAKE_DIR/commands" | grep '^RCPT')" 'RCPT TO:<b3@x.test>
RCPT TO:<b4@x.test>'
	local i
	for i in 1 2 3 4; do [[ -e $FAKE_DIR/message.$i ]]; done
	[[ ! -e $FAKE_DIR/message.5 ]]
	assert_message 3 "$c"
	assert_message 4 "$d"
}

@test "a 421 to one MAIL: that message is not delivered (75), the next go over a new connection" {
	local a b c d
	a=$(mk one b1@x.test) b=$(mk two b2@x.test) c=$(mk three b3@x.test) d=$(mk four b4@x.test)
	fake_start <<-'EOF'
		connections 2
		MAIL default
		MAIL default
		MAIL 421 4.3.2 Shutting down | close
		MAIL default
	EOF
	run_batch4
	assert_status 75
	assert_equal "$output" "$a: delivered
$b: delivered
$c: not delivered, try again later
$d: delivered"
	stderr_has "^carrier: $c: MAIL FROM: 421 4\.3\.2 Shutting down$"
	assert_equal "$(connections)" 2
	assert_equal "$(sed -n '/^--- connection 2/,$p' "$FAKE_DIR/commands" | grep '^RCPT')" 'RCPT TO:<b4@x.test>'
	assert_message 3 "$d"
}

@test "--batch without a message is a usage error (64), before any connection" {
	fake_start ''
	run_carrier --batch -f a@x.test b@x.test </dev/null
	fake_stop
	assert_status 64
	assert_equal "$output" ""
	assert_stderr_line '^carrier: --batch: no message'
	refute_connected
}

# turns: the client's round trips as the fake server counted them.
turns() {
	wc -l <"$FAKE_DIR/turns"
}

@test "pipelining across messages, CHUNKING: 5 messages cost one round trip after EHLO; RSET ahead of each later one" {
	local a b c d e
	a=$(mk one r@x.test) b=$(mk two r@x.test) c=$(mk three r@x.test) d=$(mk four r@x.test) e=$(mk five r@x.test)
	# The first MAIL is answered late: whatever the client pipelines has
	# arrived by then.
	fake_start <<-'EOF'
		capabilities +CHUNKING
		MAIL sleep 400 | default
		MAIL default
	EOF
	run_carrier --batch --message-file "$a" --message-file "$b" --message-file "$c" --message-file "$d" --message-file "$e" -f s@x.test r@x.test
	fake_done
	assert_status 0
	assert_equal "$output" "$a: delivered
$b: delivered
$c: delivered
$d: delivered
$e: delivered"
	assert_equal "$stderr" ""
	# greeting, EHLO, the five messages, QUIT
	assert_equal "$(turns)" 4
	assert_equal "$(grep -c '^MAIL' "$FAKE_DIR/commands")" 5
	assert_equal "$(grep -c '^RSET' "$FAKE_DIR/commands")" 4
	assert_equal "$(head -n 4 "$FAKE_DIR/commands" | sed 's/ .*//')" 'EHLO
MAIL
RCPT
BDAT'
	assert_message 1 "$a"
	assert_message 5 "$e"
}

@test "pipelining across messages, PIPELINING alone: each further message costs one round trip (MAIL/RCPT/DATA behind the end of data)" {
	local a b c d e
	a=$(mk one r@x.test) b=$(mk two r@x.test) c=$(mk three r@x.test) d=$(mk four r@x.test) e=$(mk five r@x.test)
	fake_start <<-'EOF'
		data-end sleep 300 | default
	EOF
	run_carrier --batch --message-file "$a" --message-file "$b" --message-file "$c" --message-file "$d" --message-file "$e" -f s@x.test r@x.test
	fake_done
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | grep -c ': delivered$')" 5
	# greeting, EHLO, one per message, the last one's end of data, QUIT:
	# 9 (one message after the other: 13)
	assert_equal "$(turns)" 9
	[[ $(grep -c '^RSET' "$FAKE_DIR/commands") -eq 0 ]]
	assert_message 3 "$c"
}

@test "pipelining across messages: a refusal in the middle of the flight changes nothing for the others (CHUNKING)" {
	local a b c d
	a=$(mk one b1@x.test) b=$(mk two b2@x.test) c=$(mk three b3@x.test) d=$(mk four b4@x.test)
	fake_start <<-'EOF'
		capabilities +CHUNKING
		MAIL sleep 400 | default
		MAIL default
		rcpt b2@x.test 550 5.1.1 No such user
	EOF
	run_batch4
	assert_status 67
	assert_equal "$output" "$a: delivered
$b: not delivered
$c: delivered
$d: delivered"
	assert_equal "$stderr" "carrier: $b: <b2@x.test>: 550 5.1.1 No such user"
	assert_equal "$(turns)" 4
	# The RSET ahead of the third transaction closes the second's (whose
	# BDAT the server refused: no valid recipients).
	assert_equal "$(grep -c '^RSET' "$FAKE_DIR/commands")" 3
	assert_message 3 "$c"
	assert_message 4 "$d"
	[[ ! -e $FAKE_DIR/message.5 ]]
}

@test "pipelining across messages: a 421 in the middle of the flight; the messages behind it go again over a new connection, each delivered once" {
	local a b c d
	a=$(mk one b1@x.test) b=$(mk two b2@x.test) c=$(mk three b3@x.test) d=$(mk four b4@x.test)
	fake_start <<-'EOF'
		connections 2
		capabilities +CHUNKING
		MAIL sleep 400 | default
		MAIL 421 4.3.2 Shutting down | close
		MAIL default
	EOF
	run_batch4
	assert_status 75
	assert_equal "$output" "$a: delivered
$b: not delivered, try again later
$c: delivered
$d: delivered"
	assert_equal "$stderr" "carrier: $b: MAIL FROM: 421 4.3.2 Shutting down"
	assert_equal "$(connections)" 2
	assert_equal "$(sed -n '/^--- connection 2/,$p' "$FAKE_DIR/commands" | grep '^RCPT')" 'RCPT TO:<b3@x.test>
RCPT TO:<b4@x.test>'
	# The server records what arrives after its close (messages 2 to 4),
	# but accepted only the first message there; the second connection
	# carries the third and the fourth.
	assert_equal "$(grep -c '^S: 250 2\.0\.0 Ok: queued' "$FAKE_DIR/transcript")" 3
	assert_message 1 "$a"
	assert_message 5 "$c"
	assert_message 6 "$d"
	[[ ! -e $FAKE_DIR/message.7 ]]
}

@test "pipelining across messages over LMTP: each recipient's reply in order, a refused one only for its message" {
	local a b c
	a=$(mk one b1@x.test) b=$(mk two b2@x.test) c=$(mk three b3@x.test)
	fake_start <<-'EOF'
		lmtp
		data-end sleep 300 | default
		data-end b2@x.test 452 4.2.2 Mailbox full
	EOF
	run_carrier --lmtp --batch --message-file "$a" --message-file "$b" --message-file "$c" -t
	fake_done
	assert_status 75
	assert_equal "$output" "$a: delivered
$b: not delivered, try again later
$c: delivered"
	assert_equal "$stderr" "carrier: $b: <b2@x.test>: 452 4.2.2 Mailbox full"
	# greeting, LHLO, one per message, the last one's end of data, QUIT
	assert_equal "$(turns)" 7
}

@test "pipelining across messages: 452 too many recipients in the flight; the further round follows the messages behind it, each outcome its own" {
	local a b c
	a=$(mk one 'b1@x.test, b2@x.test, b3@x.test') b=$(mk two b4@x.test) c=$(mk three b5@x.test)
	fake_start <<-'EOF'
		capabilities +CHUNKING
		MAIL sleep 400 | default
		MAIL default
		rcpt b3@x.test 452 4.5.3 Too many recipients
		rcpt b3@x.test default
	EOF
	run_carrier --batch --message-file "$a" --message-file "$b" --message-file "$c" -t
	fake_done
	assert_status 0
	assert_equal "$output" "$a: delivered
$b: delivered
$c: delivered"
	assert_equal "$stderr" ""
	# The third transaction's RCPT was the last one of the flight; the
	# further round for b3 comes after it, alone.
	assert_equal "$(grep '^RCPT' "$FAKE_DIR/commands")" 'RCPT TO:<b1@x.test>
RCPT TO:<b2@x.test>
RCPT TO:<b3@x.test>
RCPT TO:<b4@x.test>
RCPT TO:<b5@x.test>
RCPT TO:<b3@x.test>'
	assert_message 4 "$a"
}

@test "pipelining across messages: 120 messages with CHUNKING, more than the window holds (100), all delivered in order over one connection" {
	local i args=()
	for i in $(seq 120); do args+=(--message-file "$(mk "m$i" r@x.test)"); done
	fake_start <<-'EOF'
		capabilities +CHUNKING
	EOF
	run_carrier --batch "${args[@]}" -f s@x.test r@x.test
	fake_done
	assert_status 0
	assert_equal "$(grep -c ': delivered$' <<<"$output")" 120
	assert_equal "$(sed -n '120p' <<<"$output")" "m/m120: delivered"
	assert_equal "$(connections)" 1
	assert_message 120 "$M/m120"
}
