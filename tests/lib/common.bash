# common.bash: loaded by every bats file with `load lib/common`.
#
# Provides bats-support/bats-assert, $REPO, $CARRIER, the fake SMTP server
# helpers (fake_*), run_carrier, test certificates (need_certs) and a
# default teardown.  The fake server's scenario syntax is documented at the
# top of tests/fakesmtp.py.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

# `run --separate-stderr` needs bats >= 1.5 (Debian 12 has 1.8).
bats_require_minimum_version 1.5.0

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The test runner points CARRIER at the ASan build sometimes.
CARRIER=${CARRIER:-$REPO/carrier}
FAKESMTP=$REPO/tests/fakesmtp.py
PYTHON=/usr/bin/python3
export REPO CARRIER

# Fake servers started by this test (pids), for fake_teardown.
FAKE_PIDS=()

# fake_start [--unix] [--netns NS] [--listen ADDR] [--port N] [--max-time S]
#            [SCENARIO]
# Starts tests/fakesmtp.py in the background with SCENARIO (a string), or
# with the scenario read from standard input (a heredoc) when no SCENARIO
# is given; nothing on standard input means the defaults.  It listens on
# port N with --port N, else on an ephemeral port.  Waits up to 5 s until it
# listens.  Sets and exports:
#   FAKE_DIR   its fresh directory under $BATS_TEST_TMPDIR (recordings)
#   FAKE_PORT  its TCP port (with --unix: empty)
#   FAKE_SOCKET  with --unix: the socket path ($FAKE_DIR/fake.sock)
#   FAKE_PID   its pid
# Relative certificate names in the scenario are looked up in $CERTS
# (see need_certs).  --max-time defaults to $FAKE_MAX_TIME, else 30.
# Fails, showing the server's error, if it does not start.
fake_start() {
	local opts=() unix='' i netns=()
	while [[ $# -gt 0 && $1 == --* ]]; do
		case $1 in
		--unix) unix=1 ;;
		--netns)
			netns=(ip netns exec "$2")
			shift
			;;
		--listen | --port | --max-time)
			opts+=("$1" "$2")
			shift
			;;
		*)
			echo "fake_start: unknown option $1" >&2
			return 1
			;;
		esac
		shift
	done
	FAKE_DIR=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	if [[ $# -gt 0 ]]; then
		printf '%s\n' "$1" >"$FAKE_DIR/scenario"
	elif read -r -t 0 2>/dev/null; then
		# Something (a heredoc, a file) is on standard input; a terminal or
		# an idle pipe inherited from the caller would block `cat`.
		cat >"$FAKE_DIR/scenario"
	else
		: >"$FAKE_DIR/scenario"
	fi
	FAKE_SOCKET=
	if [[ -n $unix ]]; then
		FAKE_SOCKET=$FAKE_DIR/fake.sock
		opts+=(--unix "$FAKE_SOCKET")
	fi
	[[ -n ${CERTS:-} ]] && opts+=(--certs "$CERTS")
	[[ " ${opts[*]} " == *" --max-time "* ]] || opts+=(--max-time "${FAKE_MAX_TIME:-30}")
	# fd 3 closed: bats waits for whoever holds it open.
	"${netns[@]}" "$PYTHON" "$FAKESMTP" --dir "$FAKE_DIR" --scenario "$FAKE_DIR/scenario" "${opts[@]}" \
		</dev/null >"$FAKE_DIR/stdout" 2>"$FAKE_DIR/stderr" 3>&- &
	FAKE_PID=$!
	FAKE_PIDS+=("$FAKE_PID")
	for ((i = 0; i < 100; i++)); do
		[[ -s $FAKE_DIR/port ]] && break
		if ! kill -0 "$FAKE_PID" 2>/dev/null; then
			echo "fake_start: fakesmtp exited:" >&2
			cat "$FAKE_DIR/stderr" >&2
			return 1
		fi
		sleep 0.05
	done
	if [[ ! -s $FAKE_DIR/port ]]; then
		echo "fake_start: fakesmtp did not listen within 5 s" >&2
		cat "$FAKE_DIR/stderr" >&2
		return 1
	fi
	FAKE_PORT=
	[[ -n $unix ]] || FAKE_PORT=$(<"$FAKE_DIR/port")
	export FAKE_DIR FAKE_PORT FAKE_SOCKET FAKE_PID
}

# closed_port: a loopback TCP port nothing listens on (the kernel's pick;
# fake_start --port can listen on it later).
closed_port() {
	"$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# fake_wait [SECONDS]: waits until the current fake server exits (it does
# after its scenario's connections), up to SECONDS (default 10); then kills
# it.  Returns 0 when it exited by itself with status 0; otherwise prints
# why (killed, max-time, scenario error, traceback) and returns 1.  Works
# in a subshell too (`run fake_wait`): the status comes from $FAKE_DIR/status.
fake_wait() {
	local limit=${1:-10} i status
	for ((i = 0; i < limit * 20; i++)); do
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$FAKE_PID" 2>/dev/null; then
		kill "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null || true
		echo "fake_wait: fakesmtp still running after ${limit}s: killed" >&2
		fake_diag >&2
		return 1
	fi
	wait "$FAKE_PID" 2>/dev/null || true
	status=$(cat "$FAKE_DIR/status" 2>/dev/null) || status='unknown (killed?)'
	if [[ $status != 0 ]]; then
		echo "fake_wait: fakesmtp exited with status $status" >&2
		fake_diag >&2
		return 1
	fi
}

# fake_stop: kills the current fake server now, without complaint.
fake_stop() {
	kill "$FAKE_PID" 2>/dev/null || true
	wait "$FAKE_PID" 2>/dev/null || true
}

# fake_teardown: kills every fake server this test started that still runs.
# The default teardown below calls it; a file that defines its own
# teardown() must call it too.
fake_teardown() {
	local pid
	for pid in "${FAKE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	FAKE_PIDS=()
	testhost_down
}

# testhost_up: a test host of our own, a network namespace joined to this
# one by a veth pair, for what must be seen from a non-loopback address
# (SPEC 2: credentials in clear only to loopback).  Sets TESTHOST_NS and
# TESTHOST_ADDR (the namespace's address); skips when namespaces cannot be
# made here.  Traffic stays on this machine, between our two ends.
testhost_up() {
	local n=$(( (BATS_TEST_NUMBER + $$) % 250 + 1 ))
	TESTHOST_NS=carrier-test-$$-$BATS_TEST_NUMBER
	TESTHOST_ADDR=10.203.$n.2
	TESTHOST_VETH=ct$$t$BATS_TEST_NUMBER
	TESTHOST_VETH=${TESTHOST_VETH:0:15}
	if ! { ip netns add "$TESTHOST_NS" &&
		ip link add "$TESTHOST_VETH" type veth peer name ctpeer netns "$TESTHOST_NS" &&
		ip addr add "10.203.$n.1/30" dev "$TESTHOST_VETH" &&
		ip link set "$TESTHOST_VETH" up &&
		ip -n "$TESTHOST_NS" addr add "$TESTHOST_ADDR/30" dev ctpeer &&
		ip -n "$TESTHOST_NS" link set ctpeer up &&
		ip -n "$TESTHOST_NS" link set lo up; } 2>/dev/null; then
		testhost_down
		skip "cannot make a network namespace here"
	fi
}

# testhost_down: removes the namespace (its veth end takes ours with it).
testhost_down() {
	[[ -n ${TESTHOST_NS:-} ]] || return 0
	ip netns del "$TESTHOST_NS" 2>/dev/null || true
	ip link del "$TESTHOST_VETH" 2>/dev/null || true
	TESTHOST_NS=
}

teardown() {
	fake_teardown
}

# fake_diag: the server's stderr and transcript, for failure messages.
fake_diag() {
	echo "--- fakesmtp stderr ($FAKE_DIR)"
	cat "$FAKE_DIR/stderr" 2>/dev/null
	echo "--- fakesmtp transcript"
	cat "$FAKE_DIR/transcript" 2>/dev/null
}

# Recordings of the current fake server (see tests/fakesmtp.py).
fake_commands() { cat "$FAKE_DIR/commands"; }      # command lines, one a line
fake_data() { cat "$FAKE_DIR/data.${1:-1}"; }      # message N as on the wire
fake_message() { cat "$FAKE_DIR/message.${1:-1}"; } # message N as stored
fake_transcript() { cat "$FAKE_DIR/transcript"; }
fake_wire() { cat "$FAKE_DIR/wire"; }              # clear bytes from the client
fake_events() { sed -n 's/^\*\*\* //p' "$FAKE_DIR/transcript"; }

# fake_assert_commands: the commands received are exactly those on
# standard input (a heredoc), e.g.
#   fake_assert_commands <<'EOF'
#   EHLO client.test
#   QUIT
#   EOF
fake_assert_commands() {
	assert_equal "$(fake_commands)" "$(cat)"
}

# fake_assert_sent [--partial|--regexp] LINE: some command line equals LINE
# (contains it, matches it).  fake_refute_sent: none does.  Same options
# and messages as bats-assert's assert_line/refute_line.
# (assert_line reads the caller's $output and $lines: bash's dynamic scope.)
# shellcheck disable=SC2034
fake_assert_sent() {
	local output
	local -a lines=()
	output=$(fake_commands)
	[[ -n $output ]] && mapfile -t lines <<<"$output"
	assert_line "$@"
}
# shellcheck disable=SC2034
fake_refute_sent() {
	local output
	local -a lines=()
	output=$(fake_commands)
	[[ -n $output ]] && mapfile -t lines <<<"$output"
	refute_line "$@"
}

# run_carrier ARGS...: runs carrier against the current fake server, with
# stdout in $output and stderr in $stderr (run --separate-stderr):
#   $CARRIER --host 127.0.0.1 --port $FAKE_PORT --timeout $CARRIER_TIMEOUT
#            --helo $CARRIER_HELO ARGS...
# CARRIER_TIMEOUT defaults to 5, CARRIER_HELO to client.test (set it empty
# to leave --helo out).  With a Unix socket fake (fake_start --unix) the
# host is the socket path and there is no --port.
run_carrier() {
	local conn=(--host 127.0.0.1 --port "$FAKE_PORT")
	[[ -n ${FAKE_SOCKET:-} ]] && conn=(--host "$FAKE_SOCKET")
	local helo=()
	[[ -n ${CARRIER_HELO-client.test} ]] && helo=(--helo "${CARRIER_HELO-client.test}")
	run --separate-stderr "$CARRIER" "${conn[@]}" --timeout "${CARRIER_TIMEOUT:-5}" \
		"${helo[@]}" "$@"
}

# test_message [FILE]: writes a small valid message to FILE (default
# $BATS_TEST_TMPDIR/message.eml) and prints its name:
#   run_carrier -f a@x.test b@x.test <"$(test_message)"
test_message() {
	local file=${1:-$BATS_TEST_TMPDIR/message.eml}
	printf '%s\n' 'From: Alice <a@x.test>' 'To: Bob <b@x.test>' \
		'Subject: test' 'Date: Thu, 01 Jan 2015 00:00:00 +0000' \
		'Message-ID: <test@x.test>' '' 'Hello.' >"$file"
	printf '%s\n' "$file"
}

# need_certs: makes the test certificates (tests/lib/mkcerts) once per bats
# run and exports CERTS, their directory.  Call it before fake_start in
# tests that use TLS (or in setup_file).
need_certs() {
	CERTS=${CARRIER_CERTS:-${BATS_RUN_TMPDIR:-$BATS_TEST_TMPDIR}/certs}
	"$REPO/tests/lib/mkcerts" "$CERTS" || return 1
	export CERTS
}

# resolver_is_fenced: true when host names are looked up in /etc/hosts
# alone, as tests/run-all arranges in a private mount namespace.  Where it
# cannot (a chroot or container without namespaces), a test that looks up
# a name that does not exist would ask a DNS server off the machine: such
# a test skips that part ($UNFENCED says why).
UNFENCED='host names may reach a DNS server here (no private nsswitch.conf): not looking up a missing name'
resolver_is_fenced() {
	grep -Eq '^hosts:[[:space:]]*files[[:space:]]*$' /etc/nsswitch.conf
}
