#!/usr/bin/env bats
# Core suite: the message bytes on the wire (SPEC 5): every bare CR or LF
# becomes CRLF, lines beginning with "." are dot-stuffed, exactly one
# terminator (THREATS I07 SMTP smuggling, I08 dot-stuffing, B11 empty
# input), SIZE= counts the normalised octets.

load lib/common
load lib/core

# send_bytes BYTES [ARGS...]: sends a message made of BYTES (printf %b)
# from a@x.test to b@x.test through a fresh default fake server; expects
# exit 0 and silence.
send_bytes() {
	local file
	file=$(msg "$1")
	shift
	fake_start ''
	run_carrier -f a@x.test "$@" b@x.test <"$file"
	fake_done
	assert_status 0
	assert_quiet
}

@test "an empty message is one empty line: SIZE=2, then the terminator" {
	fake_start ''
	run_carrier -f a@x.test b@x.test </dev/null
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=2'
	assert_data 1 $'\r\n.\r\n'
}

@test "a message without a final newline gets CRLF before the terminator" {
	send_bytes 'Subject: x\n\nlast line'
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=25'
	assert_data 1 $'Subject: x\r\n\r\nlast line\r\n.\r\n'
}

@test "headers only, no newline at all" {
	send_bytes 'Subject: x'
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=12'
	assert_data 1 $'Subject: x\r\n.\r\n'
}

@test "bare LF, bare CR and CRLF, mixed, all arrive as CRLF" {
	send_bytes 'A: 1\nB: 2\rC: 3\r\n\r\nl1\rl2\nl3\r\nl4\r\r\nl5\n\nl7\r'
	assert_data 1 $'A: 1\r\nB: 2\r\nC: 3\r\n\r\nl1\r\nl2\r\nl3\r\nl4\r\n\r\nl5\r\n\r\nl7\r\n.\r\n'
	local norm=$'A: 1\r\nB: 2\r\nC: 3\r\n\r\nl1\r\nl2\r\nl3\r\nl4\r\n\r\nl5\r\n\r\nl7\r\n'
	fake_assert_sent "MAIL FROM:<a@x.test> SIZE=${#norm}"
	assert_bytes "$FAKE_DIR/message.1" "$norm"
}

@test "a file that is already CRLF is sent unchanged" {
	send_bytes 'Subject: crlf\r\n\r\none\r\ntwo\r\n'
	assert_data 1 $'Subject: crlf\r\n\r\none\r\ntwo\r\n.\r\n'
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=27'
}

@test "dot-stuffing: lines '.', '..', '.x', a first line '.', a last line '.' without newline" {
	send_bytes '.\nSubject: dots\n\n.\n..\n.x\nx.\n. \n.\r\n...\n.'
	assert_data 1 $'..\r\nSubject: dots\r\n\r\n..\r\n...\r\n..x\r\nx.\r\n.. \r\n..\r\n....\r\n..\r\n.\r\n'
	# The server un-stuffs it back to the normalised input.
	local norm=$'.\r\nSubject: dots\r\n\r\n.\r\n..\r\n.x\r\nx.\r\n. \r\n.\r\n...\r\n.\r\n'
	assert_bytes "$FAKE_DIR/message.1" "$norm"
	fake_assert_sent "MAIL FROM:<a@x.test> SIZE=${#norm}"
}

@test "SMTP smuggling: \\n.\\n, \\r\\n.\\r\\n, \\n.\\r\\n, \\r.\\r in the body arrive as body text" {
	send_bytes 'Subject: smuggle\n\nline1\n.\nMAIL FROM:<evil@x.test>\r\n.\r\nRCPT TO:<victim@x.test>\n.\r\nDATA\r\n.\nQUIT\r.\rend\r\n'
	local norm=$'Subject: smuggle\r\n\r\nline1\r\n.\r\nMAIL FROM:<evil@x.test>\r\n.\r\nRCPT TO:<victim@x.test>\r\n.\r\nDATA\r\n.\r\nQUIT\r\n.\r\nend\r\n'
	assert_data 1 $'Subject: smuggle\r\n\r\nline1\r\n..\r\nMAIL FROM:<evil@x.test>\r\n..\r\nRCPT TO:<victim@x.test>\r\n..\r\nDATA\r\n..\r\nQUIT\r\n..\r\nend\r\n.\r\n'
	assert_bytes "$FAKE_DIR/message.1" "$norm"
	# The server saw one message, one terminator, and no smuggled command.
	fake_assert_commands <<-EOF
		EHLO client.test
		MAIL FROM:<a@x.test> SIZE=${#norm}
		RCPT TO:<b@x.test>
		DATA
		QUIT
	EOF
	assert_equal "$(grep -c 'message data: ' "$FAKE_DIR/transcript")" 1
	[[ ! -e $FAKE_DIR/data.2 ]]
}

@test "a large message (spooled) with CRLF split across reads and dots at block boundaries" {
	local input=$BATS_TEST_TMPDIR/big.eml want=$BATS_TEST_TMPDIR/big.wire
	# Input blocks of 128 KiB and 64 KiB both start or end at these offsets:
	# a CRLF split across two reads, a bare CR at the end of a block before
	# a line that begins with a dot, a dot opening a block.
	local size
	size=$("$PYTHON" - "$input" "$want" <<-'EOF'
		import re, sys
		line = b'The quick brown fox jumps over the lazy dog 0123456789\n'
		data = bytearray(b'Subject: big\n\n')
		while len(data) < 700000:
		    data += line
		def put(off, b):
		    data[off:off + len(b)] = b
		for k in (65536, 131072, 196608, 262144, 393216, 524288):
		    put(k - 1, b'\r\n')          # CRLF split across two reads
		    put(k + 200, b'\n.')
		put(327679, b'\r.x')             # bare CR at a block's end, dot next
		put(458751, b'\n..\n')           # LF at a block's end, then ".."
		data += b'.'                     # a last line "." without newline
		open(sys.argv[1], 'wb').write(data)
		norm = re.sub(rb'\r\n|\r|\n', b'\r\n', bytes(data))
		if not norm.endswith(b'\r\n'):
		    norm += b'\r\n'
		wire = re.sub(rb'(^|\r\n)\.', rb'\1..', norm) + b'.\r\n'
		open(sys.argv[2], 'wb').write(wire)
		print(len(norm))
	EOF
	)
	fake_start 'connections 2'
	run_carrier -f a@x.test --message-file "$input" b@x.test </dev/null
	assert_status 0
	assert_quiet
	# The same through a pipe (reads of whatever size the pipe gives).
	run_carrier -f a@x.test b@x.test < <(cat "$input")
	fake_done
	assert_status 0
	assert_quiet
	assert_equal "$(grep -c "^MAIL FROM:<a@x.test> SIZE=$size\$" "$FAKE_DIR/commands")" 2
	cmp "$FAKE_DIR/data.1" "$want"
	cmp "$FAKE_DIR/data.2" "$want"
}

@test "8-bit data: BODY=8BITMIME when 8BITMIME is offered, the bytes unchanged" {
	send_bytes 'Subject: caf\xc3\xa9\n\nna\xc3\xafve \xff\n'
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=28 BODY=8BITMIME'
	assert_data 1 $'Subject: caf\xc3\xa9\r\n\r\nna\xc3\xafve \xff\r\n.\r\n'
}

@test "8-bit data to a server without 8BITMIME: no BODY=, sent as it is" {
	local file
	file=$(msg 'Subject: caf\xc3\xa9\n\nna\xc3\xafve\n')
	fake_start 'capabilities PIPELINING, SIZE 10485760'
	run_carrier -f a@x.test b@x.test <"$file"
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=26'
	assert_data 1 $'Subject: caf\xc3\xa9\r\n\r\nna\xc3\xafve\r\n.\r\n'
}

@test "a line over 998 octets is sent as it is, silently without -v" {
	local long
	long=$(printf 'y%.0s' {1..2000})
	send_bytes "Subject: long\n\n$long\nend\n"
	assert_data 1 "Subject: long"$'\r\n\r\n'"$long"$'\r\nend\r\n.\r\n'
}

@test "a leading mbox 'From ' line is removed" {
	send_bytes 'From a@x.test Thu Jan  1 00:00:00 2015\nSubject: mbox\n\nFrom here on.\n'
	assert_data 1 $'Subject: mbox\r\n\r\nFrom here on.\r\n.\r\n'
	fake_assert_sent 'MAIL FROM:<a@x.test> SIZE=32'
}
