#!/usr/bin/env bats
# The core scenarios under valgrind's memcheck: zero errors, no definite
# leaks, no file descriptor left open at exit.  Uses the regular build
# (valgrind and ASan do not mix).

load lib/common

setup() {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	VG_LOG=$BATS_TEST_TMPDIR/vg.log
}

# vg ARGS...: carrier under memcheck against the fake server.
vg() {
	run --separate-stderr valgrind -q --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite \
		--track-fds=yes --log-file="$VG_LOG" \
		"$REPO/carrier" --host 127.0.0.1 --port "$FAKE_PORT" --timeout 5 \
		--helo client.test "$@"
}

vg_clean() {
	if [[ $status -eq 99 ]] || grep -q 'ERROR SUMMARY: [1-9]' "$VG_LOG"; then
		cat "$VG_LOG" >&2
		return 1
	fi
	# --track-fds: every descriptor open at exit came from the parent.
	local open inherited
	open=$(grep -c 'Open file descriptor' "$VG_LOG" || true)
	inherited=$(grep -c '<inherited from parent>' "$VG_LOG" || true)
	if [[ $open -ne $inherited ]]; then
		cat "$VG_LOG" >&2
		return 1
	fi
}

@test "valgrind: a pipelined send with a refused recipient" {
	fake_start <<'EOF2'
rcpt bob@x.test 550 5.1.1 User unknown
EOF2
	vg -f a@x.test alice@x.test bob@x.test < "$(test_message)"
	assert_equal "$status" 79
	vg_clean
}

@test "valgrind: CHUNKING, -v, JSON report" {
	fake_start <<'EOF2'
capabilities +CHUNKING
EOF2
	vg -v --report=json -f a@x.test alice@x.test < "$(test_message)"
	assert_equal "$status" 0
	vg_clean
}

@test "valgrind: a timeout and a lost connection" {
	fake_start <<'EOF2'
MAIL stall
EOF2
	run --separate-stderr valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --log-file="$VG_LOG" \
		"$REPO/carrier" --host 127.0.0.1 --port "$FAKE_PORT" --timeout 1 \
		-f a@x.test b@x.test < "$(test_message)"
	assert_equal "$status" 75
	vg_clean
}

@test "valgrind: STARTTLS with verification" {
	need_certs
	fake_start <<'EOF2'
tls-cert server.pem
EOF2
	run --separate-stderr valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --log-file="$VG_LOG" \
		"$REPO/carrier" --host localhost --port "$FAKE_PORT" --timeout 10 \
		--starttls --tls-ca "$CERTS/ca.pem" -f a@x.test b@x.test \
		< "$(test_message)"
	assert_equal "$status" 0
	vg_clean
}

@test "valgrind: AUTH PLAIN and a parse of -t headers" {
	fake_start <<'EOF2'
capabilities +AUTH PLAIN LOGIN
EOF2
	printf 'From: A <a@x.test>\nTo: b@x.test, "C" <c@x.test>\nBcc: d@x.test\n\nhi\n' \
		> "$BATS_TEST_TMPDIR/m"
	CARRIER_PASSWORD=secret vg --user alice -t < "$BATS_TEST_TMPDIR/m"
	assert_equal "$status" 0
	vg_clean
}
