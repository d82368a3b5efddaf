# core.bash: helpers for the core suites (tests/core-*.bats), loaded after
# lib/common:   load lib/common;  load lib/core
#
# Conventions of the core suites:
#   sender a@x.test, recipients b@x.test, c@x.test, d@x.test;
#   every test that expects a failure checks the exit status and stderr;
#   every stall test uses --timeout 1 and checks the elapsed time;
#   a loop around `run` must not count with a variable named i: bats'
#   own `run` (bats_version_lt) assigns a global i.

# msg BYTES: writes BYTES (printf %b escapes: \n \r \t \xHH) to a fresh
# file under $BATS_TEST_TMPDIR and prints its name.
msg() {
	local f
	f=$(mktemp "$BATS_TEST_TMPDIR/msg.XXXXXX")
	printf '%b' "$1" >"$f"
	printf '%s\n' "$f"
}

# show BYTES-FILE: a file's bytes, one line per line, escapes visible.
show() {
	"$PYTHON" -c 'import sys
for l in open(sys.argv[1], "rb").read().splitlines(True): print(repr(l)[2:-1])' "$1"
}

# assert_bytes FILE EXPECTED: FILE holds exactly the bytes EXPECTED (a
# bash string; use $'...' for CR and LF).
assert_bytes() {
	local file=$1 want=$2
	if [[ ! -e $file ]]; then
		fail "$file does not exist"
		return 1
	fi
	if ! cmp -s "$file" <(printf '%s' "$want"); then
		{
			echo "-- expected bytes"
			show <(printf '%s' "$want")
			echo "-- actual bytes of $file"
			show "$file"
			echo "--"
		} | fail "bytes differ"
		return 1
	fi
}

# assert_data N EXPECTED: message N arrived as EXPECTED (dot-stuffed, with
# the terminator), exactly.
assert_data() {
	assert_bytes "$FAKE_DIR/data.$1" "$2"
}

# assert_quiet: nothing on stdout, nothing on stderr.
assert_quiet() {
	assert_equal "$output" ""
	assert_equal "$stderr" ""
}

# assert_stderr TEXT: stderr is exactly TEXT (lines joined by newlines).
assert_stderr() {
	assert_equal "$stderr" "$1"
}

# assert_stderr_line REGEX: stderr is exactly one line, and it matches the
# extended regular expression REGEX (anchor it yourself).
assert_stderr_line() {
	local n
	n=$(printf '%s' "$stderr" | grep -c '')
	if [[ $n -ne 1 ]] || ! printf '%s\n' "$stderr" | grep -qE -- "$1"; then
		batslib_print_kv_single_or_multi 8 regexp "$1" stderr "$stderr" |
			batslib_decorate 'stderr is not one line matching' | fail
		return 1
	fi
}

# stderr_has REGEX: some stderr line matches REGEX.
stderr_has() {
	if ! printf '%s\n' "$stderr" | grep -qE -- "$1"; then
		batslib_print_kv_single_or_multi 8 regexp "$1" stderr "$stderr" |
			batslib_decorate 'no stderr line matches' | fail
		return 1
	fi
}

# assert_stderr_clean: no raw control byte (other than newline) on stderr:
# no ESC, BEL, BS, CR, DEL, C1 controls (U3, THREATS I09).
assert_stderr_clean() {
	if printf '%s' "$stderr" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f\x80-\x9f]'; then
		printf '%s' "$stderr" | od -c | head -30 |
			batslib_decorate 'raw control bytes on stderr' | fail
		return 1
	fi
}

# assert_status N: $status is N (with stdout and stderr shown otherwise).
assert_status() {
	if [[ $status -ne $1 ]]; then
		batslib_print_kv_single_or_multi 8 expected "$1" actual "$status" \
			stdout "$output" stderr "$stderr" |
			batslib_decorate 'wrong exit status' | fail
		return 1
	fi
}

# wire_lines: what the client sent in clear, CR removed (commands and
# message data alike; the wire is complete even when the server stopped
# recording commands because the client had gone).
wire_lines() {
	tr -d '\r' <"$FAKE_DIR/wire"
}

# wire_has LINE / wire_lacks LINE: a line the client sent is (is not)
# exactly LINE.
wire_has() {
	if ! wire_lines | grep -qxF -- "$1"; then
		wire_lines | head -50 | batslib_decorate "the client never sent '$1'" | fail
		return 1
	fi
}
wire_lacks() {
	if wire_lines | grep -qxF -- "$1"; then
		wire_lines | head -50 | batslib_decorate "the client sent '$1'" | fail
		return 1
	fi
}

# refute_connected: the fake server (stopped with fake_stop) never saw a
# connection: no transcript line for it, no command, no message data.
refute_connected() {
	if grep -q 'connection 1 from' "$FAKE_DIR/transcript" 2>/dev/null; then
		fake_diag | batslib_decorate 'the client connected' | fail
		return 1
	fi
	[[ ! -s $FAKE_DIR/commands ]] || { fake_commands | fail 'commands were received'; return 1; }
	[[ ! -e $FAKE_DIR/data.1 ]] || { fail 'message data was received'; return 1; }
}

# refute_transaction: the fake server saw no transaction: no connection,
# or (carrier opens the session while it reads the message) one that ended
# with QUIT after EHLO, with no MAIL, RCPT, DATA or BDAT and no message
# data.  Stops the fake server.
refute_transaction() {
	local n
	if grep -q 'connection 1 from' "$FAKE_DIR/transcript" 2>/dev/null; then
		for ((n = 0; n < 100; n++)); do
			grep -q 'connection 1 ended' "$FAKE_DIR/transcript" && break
			sleep 0.05
		done
		fake_stop
		if fake_commands | grep -qE '^(MAIL|RCPT|DATA|BDAT)' ||
			[[ $(fake_commands | tail -n 1) != QUIT ]]; then
			fake_diag | batslib_decorate 'a transaction began, or no QUIT' | fail
			return 1
		fi
	else
		fake_stop
	fi
	[[ ! -e $FAKE_DIR/data.1 ]] || { fail 'message data was received'; return 1; }
}

# timer_start / assert_elapsed_below MS: wall clock of what ran between.
timer_start() {
	T0=$(date +%s%N)
}
assert_elapsed_below() {
	local ms=$((($(date +%s%N) - T0) / 1000000))
	if [[ $ms -ge $1 ]]; then
		fail "took ${ms} ms (limit $1 ms)"
		return 1
	fi
}

# big_message FILE OCTETS: a plain message of about OCTETS octets, 78-octet
# lines.
big_message() {
	{
		printf 'From: a@x.test\nSubject: big\n\n'
		yes 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopq' |
			head -c "$2"
	} >"$1"
}

# The message of test_message (common.bash) as it must arrive after the
# 354: CRLF line ends, then the terminator; STD_SIZE is its SIZE= value
# (octets after CRLF normalisation, without the terminator).
STD_SIZE=135
STD_WIRE=$'From: Alice <a@x.test>\r\nTo: Bob <b@x.test>\r\nSubject: test\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\r\nMessage-ID: <test@x.test>\r\n\r\nHello.\r\n.\r\n'

# assert_failure_line REGEX: every stderr line is a "carrier: " line and
# one of them matches REGEX.  For tests about a status, where whether the
# recipients never tried get lines of their own is not the point (the
# tests that check "one line" use assert_stderr_line).
assert_failure_line() {
	if printf '%s\n' "$stderr" | grep -qv '^carrier: '; then
		printf '%s\n' "$stderr" | batslib_decorate 'stderr has lines not starting with "carrier: "' | fail
		return 1
	fi
	stderr_has "$1"
}

# fake_done [SECONDS]: fake_wait, and when the server did not end well,
# what carrier said too (its status and stderr from the last run).
fake_done() {
	if ! fake_wait "$@"; then
		printf 'carrier: status %s\n--- carrier stderr\n%s\n' "${status-}" "${stderr-}" >&2
		return 1
	fi
}
