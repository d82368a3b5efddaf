#!/usr/bin/env bats
# carrier as the delivery program of a Postfix pipe(8) transport: the
# private loopback Postfix of tests/lib/realmta.bash hands mail for
# pipe.test to "sendmail -C CONF -i -f ${sender} -- ${recipient}" (a link
# to carrier), run as nobody, and carrier sends it on to a relay on
# 127.0.0.1.
# pipe(8) defers a recipient only when its program exits 75 (EX_TEMPFAIL)
# and bounces it on most other statuses, so a relay that is down must make
# carrier exit 75 (carrier(1), EXIT STATUS): the message then waits in
# Postfix's deferred queue, no bounce goes to the sender, and Postfix
# delivers it once the relay is back.  The relay is tests/fakesmtp.py,
# started on the very port that refused the connections before.
# tests/run-all runs this file against the ASan build and the regular build
# (in the pipe the sanitizers' default exit status, 1, applies: a report
# makes Postfix bounce the message, and the test fails).

load lib/common
load lib/realmta

setup_file() {
	realmta_start "$BATS_FILE_TMPDIR" || return 1
	# pipe(8) runs carrier as nobody, in Postfix's environment (HOME of
	# nobody, LANG=C), not this one: a copy in the private work directory
	# (under /tmp, mode 0755) is reachable wherever the build lives.  The
	# configuration holds no secret; it belongs to root, mode 0644.
	export PIPE_DIR=$REAL_DIR/pipe
	export PIPE_CONF=$PIPE_DIR/carrier.conf
	mkdir -p "$PIPE_DIR"
	cp "$CARRIER" "$PIPE_DIR/carrier" || return 1
	ln -s carrier "$PIPE_DIR/sendmail"
	chmod 0755 "$PIPE_DIR" "$PIPE_DIR/carrier"
	# -i: as with any sendmail, a line holding only a dot would otherwise
	# end the message there.
	# shellcheck disable=SC2016 # pipe(8) macros, expanded by Postfix
	realmta_pipe_transport pipe.test "$PIPE_DIR/sendmail" -C "$PIPE_CONF" \
	    -i -f '${sender}' -- '${recipient}'
}

teardown_file() {
	realmta_stop "$BATS_FILE_TMPDIR"
}

setup() {
	realmta_clear
	M=$BATS_TEST_TMPDIR
}

# relay_at PORT: carrier's configuration in the pipe sends to 127.0.0.1:PORT.
relay_at() {
	printf '%s\n' 'host 127.0.0.1' "port $1" 'domain client.test' \
	    'timeout 10' >"$PIPE_CONF"
	chmod 0644 "$PIPE_CONF"
}

# submit FROM TO FILE: sends FILE to the private Postfix's plain SMTP port
# with Python's smtplib and prints the queue id from the reply to DATA.
submit() {
	"$PYTHON" - "$@" <<-'EOF'
		import os, re, smtplib, sys
		frm, to, path = sys.argv[1:]
		s = smtplib.SMTP('127.0.0.1', int(os.environ['REAL_SMTP_PORT']),
		                 local_hostname='client.test', timeout=20)
		s.ehlo('client.test')
		s.mail(frm)
		code, resp = s.rcpt(to)
		if code != 250:
		    sys.exit('RCPT TO:<%s>: %d %r' % (to, code, resp))
		with open(path, 'rb') as f:
		    code, resp = s.data(f.read())
		m = re.search(rb'queued as ([0-9A-Za-z]+)', resp)
		if code != 250 or not m:
		    sys.exit('DATA: %d %r' % (code, resp))
		s.quit()
		print(m.group(1).decode())
	EOF
}

# log_wait REGEX [COUNT [TIMEOUT]]: waits until COUNT (default 1) lines of
# the Postfix log match the extended REGEX, TIMEOUT (default 15) seconds at
# most; else fails with the log's tail.
log_wait() {
	local re=$1 count=${2:-1} timeout=${3:-15} n i
	for ((i = 0; ; i++)); do
		n=$(grep -E -c -- "$re" "$REAL_POSTFIX_LOG") || true
		((n >= count)) && return 0
		if ((i >= timeout * 10)); then
			echo "after ${timeout}s, $n line(s) of the Postfix log match"
			echo "  $re"
			echo "wanted $count; the log ends with:"
			tail -n 20 "$REAL_POSTFIX_LOG"
			return 1
		fi
		sleep 0.1
	done
}

# wait_deferred QID: waits (5 s at most) until QID is in the deferred queue
# (between retries it is in the active queue for a moment).
wait_deferred() {
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -n $(find "$REAL_DIR/spool/deferred" -type f -name "$1") ]] &&
		    return 0
		sleep 0.1
	done
	echo "$1 is not in the deferred queue:"
	find "$REAL_DIR/spool" -name "$1"
	postqueue -c "$REAL_DIR/etc" -p
	return 1
}

# no_bounce QID: Postfix bounced nothing of QID and made no bounce for it,
# and the sender (alice) got nothing.
no_bounce() {
	local n
	if grep -E "$1: .*(status=bounced|non-delivery notification)" \
	    "$REAL_POSTFIX_LOG"; then
		echo "Postfix bounced $1 (log lines above)"
		return 1
	fi
	n=$(realmta_messages alice | wc -l)
	((n == 0)) || { echo "the sender got $n message(s)"; return 1; }
}

# mkmsg FILE ID: a message with CRLF line ends (smtplib sends bytes as they
# are), the header fields carrier would otherwise add in sendmail mode (From,
# Date, Message-ID), 8-bit text and dot lines.
mkmsg() {
	printf '%s\r\n' 'From: Alice <alice@example.test>' \
	    'To: Someone <someone@pipe.test>' \
	    "Subject: through pipe(8) $2" \
	    'Date: Thu, 01 Jan 2015 00:00:00 +0000' \
	    "Message-ID: <$2@example.test>" '' \
	    'Grüße.' '.a line that starts with a dot' '..two dots' '.' \
	    'last line' >"$1"
}

@test "pipe(8): relay down, carrier exits 75: deferred, no bounce; relay back: Postfix delivers it" {
	local port qid re
	port=$(closed_port)
	relay_at "$port"
	mkmsg "$M/m.eml" deferred
	qid=$(submit alice@example.test someone@pipe.test "$M/m.eml") ||
	    fail "submission failed: $qid"

	# Deferred with carrier's message (it ran as sendmail), then once more
	# after a queue flush: it stays in the queue, retried.
	re="$qid: to=<someone@pipe.test>, relay=testpipe, .*dsn=4\.3\.0, status=deferred \(temporary failure\. Command output: sendmail: connect: 127\.0\.0\.1 port $port: Connection refused"
	log_wait "$qid: to=<someone@pipe.test>, relay=testpipe, .*status="
	run grep -F "$qid: to=" "$REAL_POSTFIX_LOG"
	assert_line --index 0 --regexp "$re"
	postqueue -c "$REAL_DIR/etc" -f
	log_wait "$re" 2
	wait_deferred "$qid"
	run postqueue -c "$REAL_DIR/etc" -p
	assert_success
	assert_line --regexp "^$qid +[0-9]+ .* alice@example\.test\$"
	assert_line "(temporary failure. Command output: sendmail: connect: 127.0.0.1 port $port: Connection refused)"
	assert_line --regexp '^ +someone@pipe\.test$'
	run no_bounce "$qid"
	assert_success

	# The relay comes back on that port; a flush sends the message.
	fake_start --port "$port" ''
	postqueue -c "$REAL_DIR/etc" -f
	log_wait "$qid: to=<someone@pipe.test>, relay=testpipe, .*dsn=2\.0\.0, status=sent \(delivered via testpipe service\)"
	fake_wait
	fake_assert_sent 'EHLO client.test'
	fake_assert_sent --regexp '^MAIL FROM:<alice@example\.test>( |$)'
	fake_assert_sent 'RCPT TO:<someone@pipe.test>'
	fake_assert_sent 'DATA'
	assert_equal "$(grep -c '^RCPT' "$FAKE_DIR/commands")" 1
	# What the relay got: the message as submitted, byte for byte, below the
	# one Received: field of our Postfix.
	grep -q $'^\tby mx\\.example\\.test (Postfix) with ESMTP id '"$qid"$'\r$' \
	    "$FAKE_DIR/message.1" || fail "no Received: field of $qid"
	run cmp "$M/m.eml" <(realmta_strip_trace "$FAKE_DIR/message.1")
	assert_success
	log_wait "$qid: removed"
	run postqueue -c "$REAL_DIR/etc" -p
	assert_output 'Mail queue is empty'
	run no_bounce "$qid"
	assert_success
}

@test "pipe(8), contrast: relay refuses at the greeting (554), carrier exits 69: Postfix bounces to the sender" {
	local qid bqid bounce
	fake_start 'greeting 554 5.7.1 no mail here'
	relay_at "$FAKE_PORT"
	mkmsg "$M/m.eml" bounced
	qid=$(submit alice@example.test other@pipe.test "$M/m.eml") ||
	    fail "submission failed: $qid"
	# "service unavailable": pipe(8)'s words for exit 69 (EX_UNAVAILABLE).
	log_wait "$qid: to=<other@pipe.test>, relay=testpipe, .*dsn=5\.3\.0, status=bounced \(service unavailable\. Command output: sendmail: greeting: 554 5\.7\.1 no mail here"
	log_wait "$qid: sender non-delivery notification: [0-9A-Za-z]+\$"
	bqid=$(sed -En "s/.* $qid: sender non-delivery notification: ([0-9A-Za-z]+)\$/\1/p" \
	    "$REAL_POSTFIX_LOG")
	log_wait "$bqid: to=<alice@example\.test>, relay=virtual, .*status=sent"
	realmta_wait_delivery alice 1 15
	bounce=$(realmta_last_message alice)
	run grep -c -e '^From: Mail Delivery System <MAILER-DAEMON@example\.test>$' \
	    -e '^Final-Recipient: rfc822; other@pipe\.test$' \
	    -e '^Diagnostic-Code: x-unix; sendmail: greeting: 554 5\.7\.1 no mail here$' \
	    -e '^Message-ID: <bounced@example\.test>$' "$bounce"
	assert_output 4 || { cat "$bounce"; false; }
	fake_wait
	log_wait "$qid: removed"
	log_wait "$bqid: removed"
	run postqueue -c "$REAL_DIR/etc" -p
	assert_output 'Mail queue is empty'
}
