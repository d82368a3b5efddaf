#!/usr/bin/env bats
# threats.bats: the rows of THREATS.md (the catalogue of attacks and
# faults, kept outside the repository) that no other suite covered, and
# the fault points of its section (b) in every variant (silent stall, slow
# drip, FIN, RST; close_notify and truncation after TLS).
# tests/THREATS-COVERAGE.md maps every row to its tests.
#
# Exit statuses are SPEC section 3's (it governs where THREATS suggests
# another): 74 connection lost, 75 4xx/421/timeout, 76 malformed or
# unexpected reply, 69 a greeting other than 220 or 421, 81 the message
# refused, 83 TLS.  Every failing case checks the status, the stderr
# line(s) and what the server received.
#
# Runs against $CARRIER, which tests/run-all points at the ASan build: the
# big-data tests use 50 MiB there (200/100 MiB otherwise) and bound memory
# with `ulimit -v` only for the regular build (ASan reserves terabytes of
# virtual memory).

load lib/common
load lib/core

setup_file() {
	need_certs
}

setup() {
	# Nothing from the caller's own configuration, netrc or password.
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$HOME/.config
	mkdir -p "$HOME"
	unset NETRC CARRIER_PASSWORD
	RELAY_PID= PUB_DIR=
}

teardown() {
	if [[ -n ${RELAY_PID:-} ]]; then
		kill "$RELAY_PID" 2>/dev/null || true
		wait "$RELAY_PID" 2>/dev/null || true
	fi
	[[ -z ${PUB_DIR:-} ]] || rm -rf "$PUB_DIR"
	fake_teardown
}

# ---- helpers ------------------------------------------------------------

# send3 [ARGS...]: the test message from a@x.test to b, c and d@x.test.
send3() {
	run_carrier "$@" -f a@x.test b@x.test c@x.test d@x.test <"$(test_message)"
}

# send1 [ARGS...]: the test message from a@x.test to b@x.test.
send1() {
	run_carrier "$@" -f a@x.test b@x.test <"$(test_message)"
}

# is_asan: $CARRIER is the ASan/UBSan build.
is_asan() {
	[[ $CARRIER == *asan* ]] || nm "$CARRIER" 2>/dev/null | grep -q '__asan_init'
}

# limit_memory: `ulimit -v KIB` prefix for a big-data run of the regular
# build; nothing under ASan.  Usage: bash -c "$(limit_memory 300000) ..."
limit_memory() {
	is_asan || printf 'ulimit -v %s;' "$1"
}

# outcome_line N: the JSON report's recipient N (0-based) as
# "address accepted stage code".
json_rcpt() {
	"$PYTHON" -c 'import json, sys
r = json.loads(sys.stdin.read())["recipients"][int(sys.argv[1])]
print(r["address"], r["accepted"], r["stage"], r["code"])' "$1" <<<"$output"
}

# fault_matrix: runs many fault cases at once, one fake server each, and
# checks them all; every case is one line on standard input, fields
# separated by "@@" (blanks around a field are ignored):
#   STATUS @@ STDERR-REGEX @@ SCENARIO @@ ARGS @@ LACKS @@ RCPTS
# SCENARIO is fakesmtp directives separated by " ;; ".  ARGS are more
# carrier arguments (split on blanks).  LACKS: the command lines that
# must not be on the wire (default "QUIT RSET": after a fault, a 421 or
# a timeout the dialogue is over; "-" for none).  RCPTS: the recipients
# (default b@x.test c@x.test d@x.test).  carrier runs with --timeout 1
# and CARRIER_PASSWORD=pw; each case must end within 4 s of its start
# (THREATS R06: the deadline is per reply, never per read), with nothing
# on stdout, every stderr line a "carrier: " line without raw control
# bytes, one of them matching STDERR-REGEX.  The cases run concurrently
# (all the stalls cost one timeout together), so they do not use `run`.
fault_matrix() {
	local -a st=() re=() dirs=() lacks=() pids=() names=() f
	local line n=0 k msgfile problems='' x
	msgfile=$(test_message)
	while IFS= read -r line; do
		[[ -z ${line//[[:space:]]/} || $line == \#* ]] && continue
		IFS=$'\x1f' read -r -a f <<<"${line//@@/$'\x1f'}"
		for ((x = 0; x < 6; x++)); do
			f[x]=${f[x]-}
			f[x]=${f[x]#"${f[x]%%[![:space:]]*}"}
			f[x]=${f[x]%"${f[x]##*[![:space:]]}"}
		done
		fake_start --max-time 15 "${f[2]// ;; /$'\n'}" || return 1
		st+=("${f[0]}")
		re+=("${f[1]}")
		dirs+=("$FAKE_DIR")
		lacks+=("${f[4]:-QUIT RSET}")
		names+=("${f[2]}${f[3]:+ [${f[3]}]}")
		# shellcheck disable=SC2086
		(
			t0=$(date +%s%N) rc=0
			CARRIER_PASSWORD=pw "$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" \
				--timeout 1 --helo client.test ${f[3]} -f a@x.test \
				${f[5]:-b@x.test c@x.test d@x.test} \
				<"$msgfile" >"$FAKE_DIR/c.out" 2>"$FAKE_DIR/c.err" || rc=$?
			echo "$rc" >"$FAKE_DIR/c.rc"
			echo $((($(date +%s%N) - t0) / 1000000)) >"$FAKE_DIR/c.ms"
		) 3>&- &
		pids+=($!)
		n=$((n + 1))
	done
	for ((k = 0; k < n; k++)); do
		wait "${pids[k]}" || true
	done
	local d rc ms err word why
	for ((k = 0; k < n; k++)); do
		d=${dirs[k]}
		rc=$(<"$d/c.rc")
		ms=$(<"$d/c.ms")
		err=$(<"$d/c.err")
		why=''
		[[ $rc == "${st[k]}" ]] || why+=" status $rc (want ${st[k]});"
		((ms < 4000)) || why+=" took $ms ms;"
		[[ ! -s $d/c.out ]] || why+=" stdout not empty;"
		if printf '%s\n' "$err" | grep -qv '^carrier: '; then
			why+=" a stderr line is not a carrier: line;"
		fi
		printf '%s\n' "$err" | grep -qE -- "${re[k]}" || why+=" no stderr line matches /${re[k]}/;"
		if printf '%s' "$err" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]'; then
			why+=" raw control bytes on stderr;"
		fi
		if [[ ${lacks[k]} != - ]]; then
			for word in ${lacks[k]}; do
				if tr -d '\r' <"$d/wire" 2>/dev/null | grep -qxF -- "$word"; then
					why+=" $word was sent;"
				fi
			done
		fi
		if [[ -n $why ]]; then
			problems+="case $((k + 1)): ${names[k]}:$why"$'\n'"    stderr: ${err//$'\n'/ / }"$'\n'
		fi
	done
	fake_teardown
	if [[ -n $problems ]]; then
		printf '%s' "$problems" | batslib_decorate 'fault cases that failed' | fail
		return 1
	fi
}

# ---- I02, F01: before the dialogue ------------------------------------------

@test "I02: a host name (gethostname) with CR LF as the default EHLO name: refused before connecting" {
	fake_start ''
	# A private UTS namespace, so that the machine's name is not touched.
	if ! unshare --uts true 2>/dev/null; then
		skip "unshare --uts is not permitted here"
	fi
	run --separate-stderr unshare --uts "$PYTHON" -c '
import os, socket, sys
socket.sethostname("evil\r\nMAIL FROM:<x@y>")
os.execv(sys.argv[1], sys.argv[1:])' "$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" \
		--timeout 5 -f a@x.test b@x.test <"$(test_message)"
	fake_stop
	# SPEC 3: a bad configuration value (the EHLO name) is 78; the name is
	# shown escaped.
	assert_status 78
	assert_stderr_clean
	assert_stderr_line '^carrier: EHLO name: .*evil\\r\\nMAIL'
	refute_connected
}

@test "F01: Unix socket missing, not a socket or a directory: 75; not reachable (EACCES, as nobody): 69; each naming the path" {
	local pub
	# Outside $BATS_TEST_TMPDIR, which nobody cannot enter.
	pub=$(mktemp -d /tmp/carrier-f01.XXXXXX)
	PUB_DIR=$pub
	chmod 755 "$pub"
	mkdir "$pub/priv" "$pub/dir.sock"
	chmod 700 "$pub/priv"
	touch "$pub/file.sock"
	"$PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$pub/priv/s.sock"
	run --separate-stderr "$CARRIER" --host "$pub/none.sock" -f a@x.test b@x.test <"$(test_message)"
	assert_status 75
	assert_stderr_line "^carrier: connect: $pub/none\\.sock: No such file or directory\$"
	run --separate-stderr "$CARRIER" --host "$pub/file.sock" -f a@x.test b@x.test <"$(test_message)"
	assert_status 75
	assert_stderr_line "^carrier: connect: $pub/file\\.sock: Connection refused\$"
	run --separate-stderr "$CARRIER" --host "$pub/dir.sock" -f a@x.test b@x.test <"$(test_message)"
	assert_status 75
	assert_stderr_line "^carrier: connect: $pub/dir\\.sock: "
	if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
		run --separate-stderr env HOME="$pub" XDG_CONFIG_HOME="$pub" \
			setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$CARRIER" --host "$pub/priv/s.sock" -f a@x.test b@x.test <"$(test_message)"
		assert_status 69
		assert_stderr_line "^carrier: connect: $pub/priv/s\\.sock: Permission denied\$"
	fi
}

# ---- P03: truncated replies -----------------------------------------------------

@test "P03: a reply cut short ('2', '25', '250', '250-a') by the server's close: 74, never a reply" {
	local round
	fake_start <<-'EOF'
		connections 4
		MAIL raw 2 | close
		MAIL raw 25 | close
		MAIL raw 250 | close
		MAIL raw 250-a\r\n | close
	EOF
	for ((round = 1; round <= 4; round++)); do
		send1
		assert_equal "cut $round: $status" "cut $round: 74"
		assert_failure_line '^carrier: MAIL FROM: connection closed'
	done
	fake_done
	[[ ! -e $FAKE_DIR/data.1 ]]
	wire_lacks QUIT
}

# ---- P05, P06: reply codes out of range, unknown codes ------------------

@test "P05: greeting 199, 099, 600, 999: 76 'out of range', nothing sent" {
	local round
	fake_start <<-'EOF'
		connections 4
		greeting 199 fake.test hello
		greeting 099 fake.test hello
		greeting 600 fake.test hello
		greeting 999 fake.test hello
	EOF
	for ((round = 1; round <= 4; round++)); do
		send1
		assert_status 76
		assert_equal "$output" ""
		assert_stderr_line '^carrier: greeting: .*out of range'
	done
	fake_done
	[[ ! -s $FAKE_DIR/wire ]]
}

@test "P05: 600 to EHLO, 199 to DATA, 999 to the end of data: 76, never success" {
	fake_start <<-'EOF'
		connections 3
		EHLO 600 fake.test
		EHLO default
		DATA 199 go ahead
		DATA default
		data-end 999 queued
	EOF
	send1
	assert_status 76
	assert_stderr_line '^carrier: EHLO: .*out of range'
	send1
	assert_status 76
	assert_stderr_line '^carrier: DATA: .*out of range'
	send1
	assert_status 76
	assert_stderr_line '^carrier: end of data: .*out of range.*delivery status unknown'
	fake_done
	# EHLO 600: no HELO, no MAIL; DATA 199: no message; after the malformed
	# replies nothing else (the QUIT of connection 3 went with the data).
	assert_equal "$(fake_commands)" "EHLO client.test
--- connection 2
EHLO client.test
MAIL FROM:<a@x.test> SIZE=$STD_SIZE
RCPT TO:<b@x.test>
DATA
--- connection 3
EHLO client.test
MAIL FROM:<a@x.test> SIZE=$STD_SIZE
RCPT TO:<b@x.test>
DATA
QUIT"
	[[ ! -s $FAKE_DIR/data.2 ]]
}

@test "P06: unknown codes are judged by the first digit: 299, 455, 556 to MAIL; 455, 556 to RCPT" {
	fake_start 'MAIL 299 2.1.0 odd but fine'
	send1
	fake_done
	assert_status 0
	assert_quiet
	assert_data 1 "$STD_WIRE"

	fake_start 'MAIL 455 4.5.4 Parameters cannot be accommodated'
	send1
	fake_done
	assert_status 75
	assert_stderr_line '^carrier: MAIL FROM:<a@x\.test> refused: 455 4\.5\.4 '
	[[ ! -e $FAKE_DIR/data.1 ]]
	fake_assert_sent RSET

	fake_start 'MAIL 556 5.1.10 Recipient address has null MX'
	send1
	fake_done
	assert_status 80
	assert_stderr_line '^carrier: MAIL FROM:<a@x\.test> refused: 556 5\.1\.10 '
	[[ ! -e $FAKE_DIR/data.1 ]]

	fake_start <<-'EOF'
		rcpt b@x.test 556 5.1.10 null MX
		rcpt c@x.test 455 4.5.4 later
	EOF
	send3
	fake_done
	assert_status 79
	assert_stderr 'carrier: <b@x.test>: 556 5.1.10 null MX
carrier: <c@x.test>: 455 4.5.4 later'
	assert_data 1 "$STD_WIRE"
}

@test "P06: 334 where no AUTH is going on (EHLO, MAIL, DATA, end of data) is a protocol error (76)" {
	fake_start <<-'EOF'
		connections 4
		capabilities SIZE 10485760
		EHLO 334 VXNlcm5hbWU6
		EHLO default
		MAIL 334 VXNlcm5hbWU6
		MAIL default
		DATA 334 VXNlcm5hbWU6
		DATA default
		data-end 334 VXNlcm5hbWU6
	EOF
	send1
	assert_status 76
	assert_stderr_line '^carrier: EHLO[^:]*: 334 VXNlcm5hbWU6$'
	send1
	assert_status 76
	assert_stderr_line '^carrier: MAIL FROM[^:]*(:<a@x\.test>)?[^:]*: 334 VXNlcm5hbWU6$'
	send1
	assert_status 76
	assert_stderr_line '^carrier: DATA[^:]*: 334 VXNlcm5hbWU6$'
	send1
	assert_status 76
	assert_stderr_line '^carrier: (end of data|message)[^:]*: 334 VXNlcm5hbWU6'
	fake_done
	# No HELO after the EHLO 334, no RCPT after the MAIL 334, no message
	# after the DATA 334; AUTH is never sent.
	fake_refute_sent --regexp '^(HELO|AUTH)'
	assert_equal "$(awk '/^--- connection 2/{n=1} /^--- connection 3/{n=0} n' "$FAKE_DIR/commands" | grep -c '^RCPT')" 0
	# Only connection 4 got a 354: its message is message 1.
	assert_data 1 "$STD_WIRE"
	[[ ! -e $FAKE_DIR/data.2 ]]
}

@test "P06: 299 and 455 and 556 to the end of data: 0, 75, 81" {
	fake_start <<-'EOF'
		connections 3
		data-end 299 2.0.0 queued, oddly
		data-end 455 4.3.0 later
		data-end 556 5.7.1 no
	EOF
	send1
	assert_status 0
	assert_quiet
	send1
	assert_status 75
	assert_stderr_line '^carrier: [^:]+: 455 4\.3\.0 later$'
	send1
	assert_status 81
	assert_stderr_line '^carrier: [^:]+: 556 5\.7\.1 no$'
	fake_done
}

# ---- P18, P19: greeting and EHLO/HELO variants -----------------------------

@test "P18: greeting 500, 530, 221, 354, 250 and a multi-line 554: 69, no EHLO" {
	local round
	fake_start <<-'EOF'
		connections 6
		greeting 500 5.5.1 What
		greeting 530 5.7.0 Authentication required
		greeting 221 2.0.0 Bye
		greeting 354 go ahead
		greeting 250 fake.test
		greeting 554-5.7.1 No SMTP service here\n554 5.7.1 Go away
	EOF
	for ((round = 1; round <= 6; round++)); do
		send1
		assert_status 69
		assert_equal "$output" ""
		assert_stderr_line '^carrier: greeting: [0-9]{3} '
	done
	fake_done
	assert_stderr 'carrier: greeting: 554 5.7.1 No SMTP service here 5.7.1 Go away'
	fake_refute_sent --regexp '^(EHLO|HELO|MAIL)'
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "P18: a multi-line 421- greeting: 75, closed at once, nothing sent" {
	fake_start 'greeting 421-4.3.2 Too busy\n421 4.3.2 Try later'
	send1
	fake_done
	assert_status 75
	assert_stderr 'carrier: greeting: 421 4.3.2 Too busy 4.3.2 Try later'
	[[ ! -s $FAKE_DIR/wire ]]
}

@test "P19: EHLO 530 falls back to HELO like 500/501/502/504/550; no ESMTP parameter after" {
	fake_start 'EHLO 530 5.7.0 Must issue a STARTTLS command first'
	send1
	fake_done
	assert_status 0
	assert_quiet
	fake_assert_commands <<-'EOF'
		EHLO client.test
		HELO client.test
		MAIL FROM:<a@x.test>
		RCPT TO:<b@x.test>
		DATA
		QUIT
	EOF
}

@test "P19: EHLO answered 220 goes on (2xx), 221 and a close is 74, 354 is 76: never HELO" {
	fake_start <<-'EOF'
		connections 3
		EHLO 220 fake.test
		EHLO 221 2.0.0 Bye | close
		EHLO 354 go ahead
	EOF
	send1
	assert_status 0
	assert_quiet
	send1
	assert_status 74
	assert_stderr_line '^carrier: [^:]+: connection closed'
	send1
	assert_status 76
	assert_stderr_line '^carrier: EHLO[^:]*: 354 go ahead$'
	fake_done
	fake_refute_sent --partial 'HELO'
	assert_data 1 "$STD_WIRE"
	[[ ! -e $FAKE_DIR/data.2 ]]
	# After EHLO 354 the session ends: no MAIL on connection 3.
	assert_equal "$(sed -n '/^--- connection 3/,$p' "$FAKE_DIR/commands" | grep -c '^MAIL')" 0
}

@test "P19: HELO (after EHLO 502) answered 220 goes on; 221 with a close 74; 354 76; 421 75; 500 501 502 504 530 550 76" {
	local round want
	local -a wants=(0 74 76 75 76 76 76 76 76 76)
	fake_start <<-'EOF'
		connections 10
		EHLO 502 5.5.2 Error: command not recognized
		HELO 220 fake.test
		HELO 221 2.0.0 Bye | close
		HELO 354 go ahead
		HELO 421 4.3.2 Shutting down | close
		HELO 500 5.5.1 What
		HELO 501 5.5.4 Syntax
		HELO 502 5.5.2 No
		HELO 504 5.5.2 Not implemented
		HELO 530 5.7.0 Authentication required
		HELO 550 5.7.1 Go away
	EOF
	for ((round = 0; round < 10; round++)); do
		want=${wants[round]}
		send1
		assert_equal "HELO reply $((round + 1)): $status" "HELO reply $((round + 1)): $want"
		assert_equal "$output" ""
		if [[ $want == 0 ]]; then
			assert_equal "$stderr" ""
		else
			assert_stderr_line '^carrier: (HELO|MAIL)[^:]*: '
		fi
	done
	fake_done
	# Only the first connection got as far as MAIL, and the second (221,
	# then closed) tried one; nothing after a 421 (no QUIT).
	assert_equal "$(grep -c '^MAIL' "$FAKE_DIR/commands")" 2
	assert_data 1 "$STD_WIRE"
	assert_equal "$(sed -n '/^--- connection 4$/,/^--- connection 5$/p' "$FAKE_DIR/commands")" \
		$'--- connection 4\nEHLO client.test\nHELO client.test\n--- connection 5'
}

@test "P19/T06: EHLO 500 and HELO 250 with --starttls: 82, neither MAIL nor AUTH in clear" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN
		EHLO 500 5.5.1 What
	EOF
	CARRIER_PASSWORD=pw send1 --starttls --user alice
	fake_done
	assert_status 82
	assert_stderr_line '^carrier: STARTTLS: '
	fake_refute_sent --regexp '^(MAIL|AUTH|RCPT|STARTTLS)'
}

# ---- P20: enhanced status codes ---------------------------------------------

@test "P20: the basic code decides, never the enhanced code (250 5.0.0, 550 4.7.0, 250 9.9.9, 550 9.9.9, 250 5.7.1)" {
	fake_start <<-'EOF'
		MAIL 250 5.0.0 Ok, whatever that says
		rcpt b@x.test 550 4.7.0 Temporary-looking but permanent
		rcpt c@x.test 250 9.9.9 Accepted
		rcpt d@x.test 550 9.9.9 Refused
		data-end 250 5.7.1 Queued despite the text
	EOF
	send3 --report=json
	fake_done
	assert_status 79
	assert_stderr 'carrier: <b@x.test>: 550 4.7.0 Temporary-looking but permanent
carrier: <d@x.test>: 550 9.9.9 Refused'
	assert_data 1 "$STD_WIRE"
	# The report: 4.7.0 is an enhanced code (class 4 parses); 9.9.9 is none.
	run "$PYTHON" -c 'import json, sys
r = json.loads(sys.argv[1])
for x in r["recipients"]:
    print(x["address"], x["accepted"], x["code"], repr(x["enhanced"]))
print("exit", r["exit"])' "$output"
	assert_output "b@x.test False 550 '4.7.0'
c@x.test True 250 None
d@x.test False 550 None
exit 79"
}

@test "P20: 451 2.0.0 to the data is a temporary failure (75), 250 4.2.0 accepted" {
	fake_start <<-'EOF'
		connections 2
		data-end 451 2.0.0 Looks fine, is not
		data-end 250 4.2.0 Looks deferred, is accepted
	EOF
	send1
	assert_status 75
	assert_stderr_line '^carrier: [^:]+: 451 2\.0\.0 Looks fine, is not$'
	send1
	assert_status 0
	assert_quiet
	fake_done
}

@test "P20: an overlong enhanced code (2.1.0000...0, 8000 digits) is text, the reply still parses" {
	local digits
	digits=$(printf '0%.0s' {1..8000})
	fake_start "MAIL 250 2.1.$digits ok"
	send1 --report=json
	fake_done
	assert_status 0
	assert_data 1 "$STD_WIRE"
}

# ---- P22, F07, F10, F15: RSET, MAIL, DATA and end-of-data replies -----------

@test "P22: RSET answered 451, 554, or reset: the sender refusal stays the outcome (80)" {
	local round
	fake_start <<-'EOF'
		connections 3
		capabilities SIZE 10485760
		MAIL 550 5.7.1 Sender rejected
		RSET 451 4.3.0 Not now
		RSET 554 5.5.1 No
		RSET reset
	EOF
	for ((round = 1; round <= 3; round++)); do
		send1
		assert_status 80
		assert_stderr_line '^carrier: MAIL FROM:<a@x\.test> refused: 550 5\.7\.1 Sender rejected$'
	done
	fake_done
	assert_equal "$(grep -c '^RSET$' "$FAKE_DIR/commands")" 3
	# A refused RSET is ignored (QUIT follows); after a reset nothing can.
	assert_equal "$(grep -c '^QUIT$' "$FAKE_DIR/commands")" 2
}

@test "F07: MAIL 452, 550, 552, 555 and the server gone at RSET: 75, 80, 80, 80" {
	local round
	local -a wants=(75 80 80 80)
	fake_start <<-'EOF'
		connections 4
		capabilities SIZE 10485760
		MAIL 452 4.3.1 Insufficient system storage
		MAIL 550 5.7.1 Sender rejected
		MAIL 552 5.3.4 Message size exceeds fixed limit
		MAIL 555 5.5.4 Unsupported option: SIZE
		RSET close
	EOF
	for ((round = 0; round < 4; round++)); do
		send1
		assert_equal "round $round: $status" "round $round: ${wants[round]}"
		assert_equal "$output" ""
		assert_stderr_line '^carrier: MAIL FROM:<a@x\.test> refused: (452|550|552|555) '
	done
	fake_done
	fake_refute_sent --partial 'RCPT'
	fake_refute_sent 'QUIT'
	assert_equal "$(grep -c '^RSET$' "$FAKE_DIR/commands")" 4
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "F10: DATA answered 250 (76) or 503 (81): no message data ever" {
	fake_start <<-'EOF'
		connections 2
		capabilities SIZE 10485760
		DATA 250 2.0.0 Ok
		DATA 503 5.5.1 Error: need RCPT command
	EOF
	send1
	assert_status 76
	assert_stderr_line '^carrier: DATA[^:]*: 250 2\.0\.0 Ok$'
	send1
	assert_status 81
	assert_stderr_line '^carrier: DATA[^:]*: 503 5\.5\.1 Error: need RCPT command$'
	fake_done
	wire_lacks 'Hello.'
	[[ ! -e $FAKE_DIR/data.1 ]]
	# RSET after the refusal (503), not after the protocol error.
	assert_equal "$(grep -c '^RSET$' "$FAKE_DIR/commands")" 1
}

@test "F15: 452, 552, 550 to the end of data: 75, 81, 81; one line each" {
	fake_start <<-'EOF'
		connections 3
		data-end 452 4.3.1 Insufficient system storage
		data-end 552 5.3.4 Message too big
		data-end 550 5.7.1 Spam
	EOF
	send1
	assert_status 75
	assert_stderr_line '^carrier: [^:]+: 452 4\.3\.1 Insufficient system storage$'
	send1
	assert_status 81
	assert_stderr_line '^carrier: [^:]+: 552 5\.3\.4 Message too big$'
	send1
	assert_status 81
	assert_stderr_line '^carrier: [^:]+: 550 5\.7\.1 Spam$'
	fake_done
	assert_data 3 "$STD_WIRE"
}

# ---- F05, F06: 421 and unsolicited 421 ----------------------------------------

@test "F05: 421 to HELO (after EHLO 502): 75, no QUIT" {
	fake_start <<-'EOF'
		EHLO 502 5.5.2 Error: command not recognized
		HELO 421 4.3.2 Shutting down | close
	EOF
	send1
	fake_done
	assert_status 75
	assert_stderr_line '^carrier: HELO[^:]*: 421 4\.3\.2 Shutting down$'
	fake_assert_commands <<-'EOF'
		EHLO client.test
		HELO client.test
	EOF
}

@test "F05: 421 to the second RCPT: 75; the report names the recipient never tried" {
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		rcpt c@x.test 421 4.3.2 Shutting down | close
	EOF
	send3 --report=json
	fake_done
	assert_status 75
	assert_failure_line '421 4\.3\.2 Shutting down$'
	fake_refute_sent 'RCPT TO:<d@x.test>'
	wire_lacks RSET
	wire_lacks QUIT
	assert_equal "$(json_rcpt 0)" 'b@x.test True RCPT 250'
	assert_equal "$(json_rcpt 1)" 'c@x.test False RCPT 421'
	# d@x.test: never attempted (no stage, no code).
	assert_equal "$(json_rcpt 2)" 'd@x.test False None None'
}

@test "F06: an unsolicited 421 in the same segment as the EHLO reply is a temporary failure (75), not a protocol error" {
	# RFC 5321 3.8: a server going down may send 421 at any time; the
	# client reads it where it expected the next reply.  SPEC 3: "421 at
	# any stage" is 75.
	fake_start 'EHLO default | 421 4.3.2 Shutting down | close'
	send1
	fake_done
	assert_status 75
	assert_stderr_line '^carrier: [^:]+: 421 4\.3\.2 Shutting down$'
	wire_lacks QUIT
	wire_lacks RSET
}

@test "F06: an unsolicited 421 after the EHLO reply, read as the MAIL reply: 75, no RSET, no QUIT" {
	fake_start 'EHLO default | sleep 200 | 421 4.3.2 Shutting down | close'
	send1
	fake_done
	assert_status 75
	assert_stderr_line '^carrier: MAIL[^:]*: 421 4\.3\.2 Shutting down$'
	wire_lacks QUIT
	wire_lacks RSET
	[[ ! -e $FAKE_DIR/data.1 ]]
}

@test "F06/F11: 421 and a reset while the message data is written: 74 or 75, no SIGPIPE, the stage named" {
	local big=$BATS_TEST_TMPDIR/big.eml
	big_message "$big" 4000000
	fake_start <<-'EOF'
		capabilities SIZE 100000000
		mid-data 20000 421 4.3.2 Shutting down | reset
	EOF
	run_carrier -f a@x.test b@x.test <"$big"
	fake_done
	[[ $status -eq 74 || $status -eq 75 ]] || assert_status 74
	assert_equal "$output" ""
	# U3: the line names the stage (the message data), not "sending".
	assert_stderr_line '^carrier: (DATA|data|message|message data|end of data)[^:]*: '
}

# ---- F16: slow drip ----------------------------------------------------------

@test "F16/R06: replies dripping slower than the limit at MAIL and at the end of data: 75 after one limit" {
	fault_matrix <<-'EOF'
		75 @@ ^carrier: MAIL[^:]*: .*timed out @@ MAIL drip 150 250 2.1.0 Ok, a slow but complete reply @@ @@ @@ b@x.test
		75 @@ ^carrier: end of data: .*timed out.*delivery status unknown @@ capabilities SIZE 10485760 ;; data-end drip 150 250 2.0.0 Ok: queued as 12345678 @@ @@ @@ b@x.test
	EOF
}

# ---- F17: signals ------------------------------------------------------------

@test "F17: SIGTERM or SIGINT while waiting for the end-of-data reply: never exit 0" {
	local sig pid rc round
	for sig in TERM INT; do
		fake_start <<-'EOF'
			capabilities SIZE 10485760
			data-end stall
		EOF
		# A background job of a non-interactive shell ignores SIGINT:
		# give carrier the default disposition back.
		env --default-signal=INT "$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" \
			--timeout 10 --helo client.test -f a@x.test b@x.test <"$(test_message)" \
			>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
		pid=$!
		for ((round = 0; round < 100; round++)); do
			grep -q stalled "$FAKE_DIR/transcript" 2>/dev/null && break
			sleep 0.05
		done
		timer_start
		kill -s "$sig" "$pid"
		rc=0
		wait "$pid" || rc=$?
		# The signal ended it (not the 10 s limit), and not as a success.
		assert_elapsed_below 3000
		assert_equal "SIG$sig: $((rc != 0))" "SIG$sig: 1"
		assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" ""
		fake_done
		assert_data 1 "$STD_WIRE"
	done
}

@test "F17: SIGSTOP and SIGCONT (and SIGCHLD, SIGWINCH) during a wait do not break the dialogue" {
	local pid rc=0
	fake_start <<-'EOF'
		capabilities SIZE 10485760
		data-end sleep 800 | 250 2.0.0 Ok: queued
	EOF
	"$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" --timeout 5 --helo client.test \
		-f a@x.test b@x.test <"$(test_message)" >"$BATS_TEST_TMPDIR/out" \
		2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	sleep 0.3
	kill -STOP "$pid"
	sleep 0.2
	kill -CONT "$pid"
	kill -CHLD "$pid"
	kill -WINCH "$pid"
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err")" ""
	fake_done
	assert_data 1 "$STD_WIRE"
}

# ---- F18, F19: LMTP -------------------------------------------------------------

@test "F18: LMTP, LHLO answered 500 or 502: 76, no HELO or EHLO fallback" {
	fake_start --unix <<-'EOF'
		lmtp
		connections 2
		LHLO 500 5.5.1 What
		LHLO 502 5.5.2 No
	EOF
	send1 --lmtp
	assert_status 76
	assert_stderr_line '^carrier: LHLO[^:]*: 500 5\.5\.1 What$'
	send1 --lmtp
	assert_status 76
	assert_stderr_line '^carrier: LHLO[^:]*: 502 5\.5\.2 No$'
	fake_done
	fake_refute_sent --regexp '^(EHLO|HELO|MAIL)'
}

@test "F19: LMTP replies 250, 452, 550 after the data: one line per refused recipient, 79" {
	fake_start --unix <<-'EOF'
		lmtp
		data-end b@x.test 250 2.0.0 <b@x.test> delivered
		data-end c@x.test 452 4.2.2 <c@x.test> Mailbox full
		data-end d@x.test 550 5.1.1 <d@x.test> User unknown
	EOF
	send3 --lmtp
	fake_done
	assert_status 79
	assert_equal "$output" ""
	assert_stderr 'carrier: <c@x.test>: 452 4.2.2 <c@x.test> Mailbox full
carrier: <d@x.test>: 550 5.1.1 <d@x.test> User unknown'
	assert_data 1 "$STD_WIRE"
}

@test "F19: LMTP, all refused after the data: 67; with a 4xx among them: 75" {
	fake_start --unix <<-'EOF'
		lmtp
		connections 2
		data-end 550 5.1.1 User unknown
		data-end 550 5.1.1 User unknown
		data-end 550 5.1.1 User unknown
		data-end 550 5.1.1 User unknown
		data-end 451 4.3.0 Try later
		data-end 550 5.1.1 User unknown
	EOF
	send3 --lmtp
	assert_status 67
	assert_equal "$(grep -c '^carrier: <' <<<"$stderr")" 3
	send3 --lmtp
	assert_status 75
	stderr_has '^carrier: <c@x\.test>: 451 4\.3\.0 Try later$'
	fake_done
}

@test "F19: LMTP, the connection closes after the first recipient's reply: 79, the rest 'delivery status unknown' (never a 250), the cause named" {
	fake_start --unix <<-'EOF'
		lmtp
		capabilities SIZE 10485760
		data-end 250 2.0.0 <b@x.test> delivered | close
	EOF
	send3 --lmtp --report=json
	fake_done
	# b@x.test has the message: partial (a 74 or 75 would invite sending
	# it to b@x.test again), as for 452 rounds.
	assert_status 79
	# c and d: unknown; their RCPT 250 is no delivery reply.
	stderr_has '^carrier: <c@x\.test>: delivery status unknown'
	stderr_has '^carrier: <d@x\.test>: delivery status unknown'
	refute_regex "$stderr" '<[cd]@x\.test>: 250'
	# U3: why the status is unknown (the connection closed at the end of
	# data) is said somewhere.
	stderr_has 'closed'
	run "$PYTHON" -c 'import json, sys
for x in json.loads(sys.argv[1])["recipients"]:
    print(x["address"], x["accepted"], x["stage"], x["code"])' "$output"
	assert_line --index 0 --regexp '^b@x\.test True (RCPT|delivery) 250$'
	assert_line --index 1 'c@x.test False delivery None'
	assert_line --index 2 'd@x.test False delivery None'
	wire_lacks QUIT
}

# ---- F21: CHUNKING --------------------------------------------------------------

@test "F21: BDAT LAST answered 554 or 451: 81 or 75, no other BDAT, RSET without PIPELINING" {
	fake_start <<-'EOF'
		connections 2
		capabilities CHUNKING, SIZE 10485760
		data-end 554 5.7.1 Rejected
		data-end 451 4.3.0 Later
	EOF
	send1
	assert_status 81
	assert_stderr_line '^carrier: [^:]+: 554 5\.7\.1 Rejected$'
	send1
	assert_status 75
	assert_stderr_line '^carrier: [^:]+: 451 4\.3\.0 Later$'
	fake_done
	assert_equal "$(grep -c '^BDAT' "$FAKE_DIR/commands")" 2
	fake_refute_sent 'DATA'
	assert_equal "$(grep -c '^RSET$' "$FAKE_DIR/commands")" 2
	# The chunk is the message as it is: no dot-stuffing, no terminator.
	assert_equal "$(fake_commands | grep '^BDAT' | sort -u)" "BDAT $STD_SIZE LAST"
}

@test "F21: PIPELINING and CHUNKING: MAIL refused, the pipelined BDAT fails too: 80, no second chunk" {
	fake_start <<-'EOF'
		capabilities PIPELINING, CHUNKING, SIZE 10485760
		MAIL 550 5.7.1 Sender rejected
	EOF
	send1
	fake_done
	assert_status 80
	assert_stderr_line '^carrier: MAIL FROM:<a@x\.test> refused: 550 5\.7\.1 Sender rejected$'
	assert_equal "$(grep -c '^BDAT' "$FAKE_DIR/commands")" 1
}

# ---- F22: standard input fails part way ---------------------------------------

@test "F22: a read error on standard input part way through the message: nonzero, EHLO and QUIT at most, never MAIL" {
	fake_start ''
	# Standard input is a TCP socket that delivers 100 kB, then a reset:
	# read(2) fails with ECONNRESET in the middle of the message.
	run --separate-stderr "$PYTHON" -c '
import os, socket, struct, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
c = socket.create_connection(l.getsockname()); s, _ = l.accept(); l.close()
pid = os.fork()
if pid == 0:
    s.close(); os.dup2(c.fileno(), 0); c.close()
    os.execv(sys.argv[1], sys.argv[1:])
c.close()
s.sendall(b"From: a@x.test\nSubject: cut\n\n" + b"y" * 77 + b"\n" * 1300)
time.sleep(0.3)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))' "$CARRIER" --host 127.0.0.1 --port "$FAKE_PORT" \
		--timeout 5 --helo client.test -f a@x.test b@x.test
	# SPEC 3: 66, the message cannot be read (THREATS suggests EX_IOERR).
	assert_status 66
	assert_equal "$output" ""
	assert_stderr_line '^carrier: [^:]+: .*(reset|Connection)'
	refute_transaction
}

# ---- B01, B02, B03: what the message holds ----------------------------------------

@test "B01: a 2000-octet line: sent as it is, a warning at -v only" {
	local long file
	long=$(printf 'z%.0s' {1..2000})
	file=$(msg "Subject: long\n\n$long\n")
	fake_start 'connections 2'
	run_carrier -v -f a@x.test b@x.test <"$file"
	assert_status 0
	assert_equal "$output" ""
	stderr_has 'warning: .*longer than 998'
	run_carrier -f a@x.test b@x.test <"$file"
	assert_status 0
	assert_quiet
	fake_done
	assert_data 1 "Subject: long"$'\r\n\r\n'"$long"$'\r\n.\r\n'
	assert_data 2 "Subject: long"$'\r\n\r\n'"$long"$'\r\n.\r\n'
}

@test "B02: control bytes (SOH, BEL, BS, VT, FF, ESC, DEL) in the message go byte for byte" {
	local file
	file=$(msg 'Subject: ctl\x1b[31m\n\na\x01b\x07c\x08d\x0be\x0cf\x1bg\x7fh\n')
	fake_start ''
	run_carrier -f a@x.test b@x.test <"$file"
	fake_done
	assert_status 0
	assert_quiet
	assert_data 1 $'Subject: ctl\x1b[31m\r\n\r\na\x01b\x07c\x08d\x0be\x0cf\x1bg\x7fh\r\n.\r\n'
}

@test "B03: 8-bit data without 8BITMIME: no BODY=, the bytes as they are, a warning at -v only" {
	local file
	file=$(msg 'Subject: caf\xc3\xa9\n\n\xff\xfe na\xc3\xafve\n')
	fake_start <<-'EOF'
		connections 2
		capabilities PIPELINING, SIZE 10485760
	EOF
	run_carrier -v -f a@x.test b@x.test <"$file"
	assert_status 0
	assert_equal "$output" ""
	stderr_has 'warning: 8-bit data.*8BITMIME'
	run_carrier -f a@x.test b@x.test <"$file"
	assert_status 0
	assert_quiet
	fake_done
	fake_refute_sent --partial 'BODY='
	assert_data 2 $'Subject: caf\xc3\xa9\r\n\r\n\xff\xfe na\xc3\xafve\r\n.\r\n'
}

# ---- I09: what the terminal sees --------------------------------------------------

@test "I09: bidi overrides and OSC 52 in a refusal are escaped (no raw 8-bit or control byte)" {
	fake_start 'rcpt b@x.test 550 5.1.1 \xe2\x80\xaeexe.txt \x1b]52;c;ZXZpbA==\x07 done'
	send1
	fake_done
	assert_status 67
	assert_stderr_clean
	if printf '%s' "$stderr" | LC_ALL=C grep -q $'[\x80-\xff]'; then
		fail "raw 8-bit bytes on stderr: $stderr"
	fi
	assert_stderr_line '^carrier: <b@x\.test>: 550 5\.1\.1 .*exe\.txt .*52;c;ZXZpbA==.* done$'
}

# ---- R01-R05: resources -------------------------------------------------------------

@test "R01: a 200 MiB message through a pipe (50 MiB under ASan): streamed, memory bounded, byte count exact" {
	local mib=200 nlines size want line='The quick brown fox jumps over the lazy dog. 0123456789 abcdefg'
	is_asan && mib=50
	# 64-octet lines (63 + LF): CRLF adds one octet per line.  (Not
	# $lines: `run` sets that.)
	nlines=$((mib * 1024 * 1024 / 64))
	fake_start 'capabilities PIPELINING, 8BITMIME, SIZE 1000000000'
	run --separate-stderr bash -c "$(limit_memory 300000) { printf 'Subject: big\n\n'; yes '$line' | head -n $nlines; } |
		\"\$CARRIER\" --host 127.0.0.1 --port $FAKE_PORT --timeout 20 --helo client.test -f a@x.test b@x.test"
	fake_done 60
	assert_status 0
	assert_quiet
	size=$((16 + nlines * (${#line} + 2)))
	fake_assert_sent "MAIL FROM:<a@x.test> SIZE=$size"
	want=$((size + 3))
	assert_equal "$(stat -c %s "$FAKE_DIR/data.1")" "$want"
	assert_equal "$(head -c 16 "$FAKE_DIR/data.1" | od -An -c | tr -s ' ')" ' S u b j e c t : b i g \r \n \r \n'
	assert_equal "$(tail -c 8 "$FAKE_DIR/data.1" | od -An -c | tr -s ' ')" ' e f g \r \n . \r \n'
}

@test "R02: 100 MiB of header fields with -t: 65 before MAIL, fast, memory bounded" {
	fake_start ''
	timer_start
	run --separate-stderr bash -c "$(limit_memory 100000) { printf 'From: a@x.test\nTo: b@x.test\n'; yes 'X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' | head -c 104857600; } |
		\"\$CARRIER\" --host 127.0.0.1 --port $FAKE_PORT --timeout 5 --helo client.test -t"
	assert_elapsed_below 10000
	assert_status 65
	assert_equal "$output" ""
	assert_stderr_line '^carrier: message: header block larger than'
	refute_transaction
}

@test "R03: the server floods the greeting line without CRLF: 76 'too long' within seconds, the flood bounded" {
	local port
	# Not fakesmtp (it logs what it sends): a flood of 64 MiB at most.
	"$PYTHON" -c 'import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
print(l.getsockname()[1], flush=True)
c, _ = l.accept(); sent = 0
try:
    c.sendall(b"220 ")
    while sent < 64 << 20:
        c.sendall(b"x" * 65536); sent += 65536
except OSError:
    pass
open(sys.argv[1], "w").write(str(sent))' "$BATS_TEST_TMPDIR/flooded" >"$BATS_TEST_TMPDIR/flood.port" 3>&- &
	RELAY_PID=$!
	for ((round = 0; round < 100; round++)); do
		[[ -s $BATS_TEST_TMPDIR/flood.port ]] && break
		sleep 0.05
	done
	port=$(<"$BATS_TEST_TMPDIR/flood.port")
	timer_start
	run --separate-stderr "$CARRIER" --host 127.0.0.1 --port "$port" --timeout 5 \
		--helo client.test -f a@x.test b@x.test <"$(test_message)"
	assert_elapsed_below 3000
	assert_status 76
	assert_stderr_line '^carrier: greeting: .*too long'
	wait "$RELAY_PID" || true
	RELAY_PID=
	# carrier stopped reading long before the 64 MiB were out.
	(($(<"$BATS_TEST_TMPDIR/flooded") < 64 << 20))
}

@test "R04: a 100 MiB body line without a newline (50 MiB under ASan), starting with a dot: stuffed, CRLF added, memory bounded" {
	local mib=100 n
	is_asan && mib=50
	n=$((mib * 1024 * 1024))
	fake_start 'capabilities PIPELINING, SIZE 1000000000'
	run --separate-stderr bash -c "$(limit_memory 300000) { printf 'Subject: one line\n\n.'; head -c $n /dev/zero | tr '\\0' a; } |
		\"\$CARRIER\" --host 127.0.0.1 --port $FAKE_PORT --timeout 20 --helo client.test -f a@x.test b@x.test"
	fake_done 60
	assert_status 0
	assert_quiet
	# "Subject: one line\r\n\r\n" (21) + ".." + n + CRLF + ".\r\n".
	assert_equal "$(stat -c %s "$FAKE_DIR/data.1")" "$((21 + 2 + n + 2 + 3))"
	assert_equal "$(head -c 26 "$FAKE_DIR/data.1" | od -An -c | tr -s ' ')" "$(printf 'Subject: one line\r\n\r\n..aaa' | od -An -c | tr -s ' ')"
	assert_equal "$(tail -c 8 "$FAKE_DIR/data.1" | od -An -c | tr -s ' ')" ' a a a \r \n . \r \n'
}

@test "R05: during a stall: one socket and no other new descriptor, no child (passwordeval reaped)" {
	local pid base basepid conf round fds
	conf=$HOME/carrier.conf
	printf 'account default\nhost localhost\nuser alice\npasswordeval echo s3cret\n' >"$conf"
	chmod 600 "$conf"
	fake_start <<-'EOF'
		capabilities AUTH PLAIN, SIZE 10485760
		auth 235 2.7.0 ok
		MAIL stall
	EOF
	# The descriptors the shell gives a background child: a sleep started
	# the same way shows them (listed once it surely runs).
	sleep 30 </dev/null >/dev/null 2>&1 3>&- &
	basepid=$!
	# Host localhost: a refused ::1 first, where it resolves so, must leave
	# no descriptor behind either.  (The account's passwordeval is used for
	# the account's host only: no --host.)
	"$CARRIER" --config "$conf" --port "$FAKE_PORT" --timeout 3 \
		--helo client.test -f a@x.test b@x.test <"$(test_message)" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	for ((round = 0; round < 100; round++)); do
		grep -q stalled "$FAKE_DIR/transcript" 2>/dev/null && break
		sleep 0.05
	done
	base=$(ls "/proc/$basepid/fd" | sort -n | tr '\n' ' ')
	kill "$basepid" 2>/dev/null || true
	wait "$basepid" 2>/dev/null || true
	fds=$(ls -l "/proc/$pid/fd" | awk 'NR > 1 {print $9, $11}' | sort -n)
	local children
	children=$(ps -o pid=,stat=,comm= --ppid "$pid" || true)
	kill "$pid" 2>/dev/null || true
	wait "$pid" || true
	[[ -z $children ]] || fail "carrier has children while waiting: $children"
	local extra
	extra=$(awk -v base="$base" 'BEGIN { n = split(base, b, " "); for (i = 1; i <= n; i++) skip[b[i]] = 1 }
		!($1 in skip) { print }' <<<"$fds")
	assert_equal "$(grep -c 'socket:' <<<"$extra")" 1
	assert_equal "$(grep -vc 'socket:' <<<"$extra")" 0
	fake_assert_sent 'AUTH PLAIN AGFsaWNlAHMzY3JldA=='
}

# ---- fault points of THREATS (b): stall, drip, FIN, RST at every point ------

@test "(b) 2: a reset right after the server accepted: 74 at the greeting every time, never 69 'cannot connect'" {
	# The connection was made (the server accepted it); how soon the RST
	# follows must not change the class (SPEC 3: 69 cannot connect, 74 the
	# server closed the connection).  Five tries: the timing varies.
	local round
	fake_start <<-'EOF'
		connections 5
		greeting reset
	EOF
	for ((round = 1; round <= 5; round++)); do
		send1
		assert_equal "try $round: $status" "try $round: 74"
		assert_stderr_line '^carrier: greeting: .*(reset|lost|closed)'
	done
	fake_done
	[[ ! -s $FAKE_DIR/wire ]]
}

@test "(b) 2-5: before and in the middle of the greeting and the EHLO reply: stall, drip 75; FIN, RST 74" {
	fault_matrix <<-'EOF'
		# 2: after accept, before the greeting
		75 @@ ^carrier: greeting: .*timed out @@ greeting stall
		75 @@ ^carrier: greeting: .*timed out @@ greeting drip 300 220 fake.test ESMTP
		74 @@ ^carrier: greeting: .*closed @@ greeting close
		74 @@ ^carrier: greeting: .*(reset|lost|closed) @@ greeting sleep 100 | reset
		# 3: after a 220- line
		75 @@ ^carrier: greeting: .*timed out @@ greeting raw 220-fake.test first line\r\n | stall
		75 @@ ^carrier: greeting: .*timed out @@ greeting raw 220-fake.test first line\r\n | drip 300 220 fake.test ESMTP
		74 @@ ^carrier: greeting: .*closed @@ greeting raw 220-fake.test first line\r\n | close
		74 @@ ^carrier: greeting: .*(reset|lost|closed) @@ greeting raw 220-fake.test first line\r\n | sleep 100 | reset
		# 4: after EHLO
		75 @@ ^carrier: EHLO: .*timed out @@ EHLO stall
		75 @@ ^carrier: EHLO: .*timed out @@ EHLO drip 300 250-fake.test\n250 PIPELINING
		74 @@ ^carrier: EHLO: .*closed @@ EHLO close
		74 @@ ^carrier: EHLO: .*(reset|lost) @@ EHLO reset
		# 5: after a 250- line
		75 @@ ^carrier: EHLO: .*timed out @@ EHLO raw 250-fake.test\r\n250-PIPELINING\r\n | stall
		75 @@ ^carrier: EHLO: .*timed out @@ EHLO raw 250-fake.test\r\n | drip 300 250 PIPELINING
		74 @@ ^carrier: EHLO: .*closed @@ EHLO raw 250-fake.test\r\n250-PIPELINING\r\n | close
		74 @@ ^carrier: EHLO: .*(reset|lost) @@ EHLO raw 250-fake.test\r\n250-PIPELINING\r\n | reset
	EOF
}

@test "(b) 12-14: after MAIL, after the first, middle and last RCPT, inside a pipelined group, after DATA" {
	fault_matrix <<-'EOF'
		# 12: after the (pipelined) MAIL
		75 @@ ^carrier: MAIL FROM: .*timed out @@ MAIL stall
		75 @@ ^carrier: MAIL FROM: .*timed out @@ MAIL drip 300 250 2.1.0 Ok
		74 @@ ^carrier: MAIL FROM: .*closed @@ MAIL close
		74 @@ ^carrier: MAIL FROM: .*(reset|lost) @@ MAIL reset
		# 13: after the first, the middle and the last RCPT (one at a time)
		75 @@ ^carrier: RCPT TO: .*timed out @@ capabilities SIZE 10485760 ;; rcpt b@x.test stall
		74 @@ ^carrier: RCPT TO: .*closed @@ capabilities SIZE 10485760 ;; rcpt b@x.test close
		74 @@ ^carrier: RCPT TO: .*(reset|lost) @@ capabilities SIZE 10485760 ;; rcpt b@x.test reset
		75 @@ ^carrier: RCPT TO: .*timed out @@ capabilities SIZE 10485760 ;; rcpt c@x.test stall
		75 @@ ^carrier: RCPT TO: .*timed out @@ capabilities SIZE 10485760 ;; rcpt c@x.test drip 300 250 2.1.5 Ok
		74 @@ ^carrier: RCPT TO: .*closed @@ capabilities SIZE 10485760 ;; rcpt c@x.test close
		74 @@ ^carrier: RCPT TO: .*(reset|lost) @@ capabilities SIZE 10485760 ;; rcpt c@x.test reset
		75 @@ ^carrier: RCPT TO: .*timed out @@ capabilities SIZE 10485760 ;; rcpt d@x.test stall
		74 @@ ^carrier: RCPT TO: .*closed @@ capabilities SIZE 10485760 ;; rcpt d@x.test close
		74 @@ ^carrier: RCPT TO: .*(reset|lost) @@ capabilities SIZE 10485760 ;; rcpt d@x.test reset
		# 13: the middle reply of a pipelined group (MAIL, 3 RCPT, DATA)
		75 @@ ^carrier: RCPT TO: .*timed out @@ rcpt c@x.test stall
		75 @@ ^carrier: RCPT TO: .*timed out @@ rcpt c@x.test drip 300 250 2.1.5 Ok
		74 @@ ^carrier: RCPT TO: .*closed @@ rcpt c@x.test close
		74 @@ ^carrier: RCPT TO: .*(reset|lost) @@ rcpt c@x.test reset
		# 14: after DATA, before the 354
		75 @@ ^carrier: DATA: .*timed out @@ capabilities SIZE 10485760 ;; DATA stall
		75 @@ ^carrier: DATA: .*timed out @@ capabilities SIZE 10485760 ;; DATA drip 300 354 End data with <CR><LF>.<CR><LF>
		74 @@ ^carrier: DATA: .*closed @@ capabilities SIZE 10485760 ;; DATA close
		74 @@ ^carrier: DATA: .*(reset|lost) @@ capabilities SIZE 10485760 ;; DATA reset
	EOF
}

@test "(b) 16, 19, 20: after the final dot, after BDAT, at RSET after a failure" {
	fault_matrix <<-'EOF'
		# 16: after the final dot, before the reply (no PIPELINING: no QUIT in flight)
		75 @@ ^carrier: end of data: .*timed out.*delivery status unknown @@ capabilities SIZE 10485760 ;; data-end stall
		75 @@ ^carrier: end of data: .*timed out.*delivery status unknown @@ capabilities SIZE 10485760 ;; data-end drip 300 250 2.0.0 Ok: queued
		74 @@ ^carrier: end of data: .*closed.*delivery status unknown @@ capabilities SIZE 10485760 ;; data-end close
		74 @@ ^carrier: end of data: .*(reset|lost).*delivery status unknown @@ capabilities SIZE 10485760 ;; data-end reset
		# 19: after the BDAT chunk (BDAT n LAST)
		75 @@ ^carrier: end of data: .*timed out.*delivery status unknown @@ capabilities CHUNKING, SIZE 10485760 ;; data-end stall
		75 @@ ^carrier: end of data: .*timed out.*delivery status unknown @@ capabilities CHUNKING, SIZE 10485760 ;; data-end drip 300 250 2.0.0 Ok: queued
		74 @@ ^carrier: end of data: .*closed.*delivery status unknown @@ capabilities CHUNKING, SIZE 10485760 ;; data-end close
		74 @@ ^carrier: end of data: .*(reset|lost).*delivery status unknown @@ capabilities CHUNKING, SIZE 10485760 ;; data-end reset
		# 20: RSET after a refused MAIL: the refusal stays the outcome, bounded
		80 @@ ^carrier: MAIL FROM:<a@x.test> refused: 550 @@ capabilities SIZE 10485760 ;; MAIL 550 5.7.1 Sender rejected ;; RSET stall @@ @@ QUIT
		80 @@ ^carrier: MAIL FROM:<a@x.test> refused: 550 @@ capabilities SIZE 10485760 ;; MAIL 550 5.7.1 Sender rejected ;; RSET drip 300 250 2.0.0 Ok @@ @@ QUIT
		80 @@ ^carrier: MAIL FROM:<a@x.test> refused: 550 @@ capabilities SIZE 10485760 ;; MAIL 550 5.7.1 Sender rejected ;; RSET close @@ @@ QUIT
		80 @@ ^carrier: MAIL FROM:<a@x.test> refused: 550 @@ capabilities SIZE 10485760 ;; MAIL 550 5.7.1 Sender rejected ;; RSET reset @@ @@ QUIT
	EOF
}

@test "(b) 18: LMTP, before the first and between per-recipient replies: 75/74 when none delivered, else 79; the cause named" {
	fault_matrix <<-'EOF'
		# Before the first recipient's reply: nothing delivered.
		75 @@ ^carrier: end of data: .*timed out.*delivery status unknown @@ lmtp ;; capabilities SIZE 10485760 ;; data-end b@x.test stall @@ --lmtp
		74 @@ ^carrier: end of data: .*closed.*delivery status unknown @@ lmtp ;; capabilities SIZE 10485760 ;; data-end b@x.test close @@ --lmtp
		# After b@x.test's 250: partial (79), c and d unknown, and the cause
		# (timeout, close, reset) on stderr (U3).
		79 @@ ^carrier: .*timed out @@ lmtp ;; capabilities SIZE 10485760 ;; data-end b@x.test 250 2.0.0 ok ;; data-end c@x.test stall @@ --lmtp
		79 @@ ^carrier: .*timed out @@ lmtp ;; capabilities SIZE 10485760 ;; data-end b@x.test 250 2.0.0 ok ;; data-end c@x.test drip 300 250 2.0.0 ok @@ --lmtp
		79 @@ ^carrier: .*closed @@ lmtp ;; capabilities SIZE 10485760 ;; data-end b@x.test 250 2.0.0 ok ;; data-end c@x.test close @@ --lmtp
		79 @@ ^carrier: .*(reset|lost) @@ lmtp ;; capabilities SIZE 10485760 ;; data-end b@x.test 250 2.0.0 ok ;; data-end c@x.test reset @@ --lmtp
	EOF
}

@test "(b) 6, 9, 10, 11 and 12-16 over TLS: RST, drip, close_notify and truncation" {
	fault_matrix <<-EOF
		# 11: AUTH (close and stall: auth.bats)
		74 @@ ^carrier: AUTH: .*(reset|lost) @@ capabilities +AUTH PLAIN ;; auth reset @@ --user alice
		75 @@ ^carrier: AUTH: .*timed out @@ capabilities +AUTH PLAIN ;; auth drip 300 235 2.7.0 Authentication successful @@ --user alice
		# 6: after STARTTLS (stall, close, drip: tls.bats)
		74 @@ ^carrier: STARTTLS: .*(reset|lost) @@ tls-cert server.pem ;; STARTTLS reset @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
		# 9: after the handshake, the EHLO reply drips
		75 @@ ^carrier: EHLO: .*timed out @@ tls-cert server.pem ;; EHLO default ;; EHLO drip 300 250-fake.test\n250 PIPELINING @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
		# 10: implicit TLS, before the greeting
		74 @@ ^carrier: greeting: .*closed @@ implicit-tls ;; tls-cert server.pem ;; after-tls close-notify @@ --host localhost --tls-ca $CERTS/ca.pem --tls-on-connect
		74 @@ ^carrier: greeting: .*(reset|lost|closed) @@ implicit-tls ;; tls-cert server.pem ;; after-tls reset @@ --host localhost --tls-ca $CERTS/ca.pem --tls-on-connect
		75 @@ ^carrier: greeting: .*timed out @@ implicit-tls ;; tls-cert server.pem ;; greeting drip 300 220 fake.test ESMTP @@ --host localhost --tls-ca $CERTS/ca.pem --tls-on-connect
		# 12-16 after STARTTLS: close_notify (a clean close, still a loss) and truncation
		74 @@ ^carrier: MAIL FROM: connection closed by the server @@ tls-cert server.pem ;; MAIL close-notify @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
		74 @@ ^carrier: MAIL FROM: connection closed without TLS close_notify @@ tls-cert server.pem ;; MAIL close @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
		75 @@ ^carrier: MAIL FROM: .*timed out @@ tls-cert server.pem ;; MAIL stall @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
		74 @@ ^carrier: RCPT TO: connection closed by the server @@ tls-cert server.pem ;; capabilities SIZE 10485760 ;; rcpt c@x.test close-notify @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
		74 @@ ^carrier: DATA: connection closed without TLS close_notify @@ tls-cert server.pem ;; capabilities SIZE 10485760 ;; DATA close @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
		74 @@ ^carrier: DATA: .*(reset|lost) @@ tls-cert server.pem ;; capabilities SIZE 10485760 ;; DATA reset @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
		74 @@ ^carrier: end of data: .*without TLS close_notify.*delivery status unknown @@ tls-cert server.pem ;; capabilities SIZE 10485760 ;; mid-data 50 close @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
		74 @@ ^carrier: end of data: connection closed by the server; delivery status unknown @@ tls-cert server.pem ;; capabilities SIZE 10485760 ;; data-end close-notify @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
		74 @@ ^carrier: end of data: .*(reset|lost).*delivery status unknown @@ tls-cert server.pem ;; capabilities SIZE 10485760 ;; data-end reset @@ --host localhost --tls-ca $CERTS/ca.pem --starttls
	EOF
}

@test "(b) 421: an unsolicited 421 and a close after the EHLO, MAIL, RCPT, 354 and in place of the data, BDAT and AUTH replies: 75" {
	fault_matrix <<-'EOF'
		75 @@ ^carrier: MAIL[^:]*: 421 4\.3\.2 Bye$ @@ EHLO default | sleep 200 | 421 4.3.2 Bye | close
		75 @@ 421 4\.3\.2 Bye$ @@ capabilities SIZE 10485760 ;; MAIL 250 2.1.0 Ok | sleep 200 | 421 4.3.2 Bye | close
		75 @@ 421 4\.3\.2 Bye$ @@ capabilities SIZE 10485760 ;; rcpt c@x.test 250 2.1.5 Ok | sleep 200 | 421 4.3.2 Bye | close
		75 @@ 421 4\.3\.2 Bye$ @@ capabilities SIZE 10485760 ;; DATA 354 go ahead | sleep 300 | 421 4.3.2 Bye | close
		75 @@ 421 4\.3\.2 Bye$ @@ capabilities SIZE 10485760 ;; data-end 421 4.3.2 Bye | close
		75 @@ 421 4\.3\.2 Bye$ @@ capabilities CHUNKING, SIZE 10485760 ;; data-end 421 4.3.2 Bye | close
		75 @@ ^carrier: AUTH[^:]*: 421 4\.3\.2 Bye$ @@ capabilities +AUTH PLAIN ;; auth 421 4.3.2 Bye | close @@ --user alice
	EOF
}

@test "(b) 18 + 421: LMTP, a 421 in place of a recipient's reply: nothing read after it, the rest 'delivery status unknown'; 79 after a delivery, else 75" {
	fake_start <<-'EOF'
		lmtp
		capabilities SIZE 10485760
		data-end b@x.test 250 2.0.0 <b@x.test> delivered
		data-end c@x.test 421 4.3.2 Shutting down | close
	EOF
	send3 --lmtp
	fake_done
	# b@x.test has the message: partial.
	assert_status 79
	stderr_has '^carrier: <c@x\.test>: 421 4\.3\.2 Shutting down$'
	stderr_has '^carrier: <d@x\.test>: delivery status unknown'
	wire_lacks QUIT
	# The 421 first: SPEC 3, 421 at any stage is 75.
	fake_start <<-'EOF'
		lmtp
		capabilities SIZE 10485760
		data-end b@x.test 421 4.3.2 Shutting down | close
	EOF
	send3 --lmtp
	fake_done
	assert_status 75
	stderr_has '421 4\.3\.2 Shutting down$'
	stderr_has '^carrier: <[cd]@x\.test>: delivery status unknown'
	wire_lacks QUIT
}

# proxy_start FAULT UPSTREAM-PORT: a TCP relay to the fake server that
# passes everything from the client, and from the server the clear text
# and then only the first TLS record (the ServerHello); then FAULT: stall,
# close (FIN) or reset.  Sets PROXY_PORT and RELAY_PID; the record's type
# and handshake message type go to $BATS_TEST_TMPDIR/proxy.port.sent.
proxy_start() {
	rm -f "$BATS_TEST_TMPDIR/proxy.port" "$BATS_TEST_TMPDIR/proxy.port.sent"
	"$PYTHON" -c 'import socket, struct, sys, threading, time
fault, up = sys.argv[1], int(sys.argv[2])
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
open(sys.argv[3] + ".tmp", "w").write(str(l.getsockname()[1]))
import os; os.rename(sys.argv[3] + ".tmp", sys.argv[3])
c, _ = l.accept(); u = socket.create_connection(("127.0.0.1", up))
def c2u():
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            u.sendall(d)
    except OSError:
        pass
threading.Thread(target=c2u, daemon=True).start()
buf = b""
while True:
    d = u.recv(65536)
    if not d:
        break
    buf += d
    if buf[:2] in (b"\x16\x03",):
        if len(buf) >= 5 and len(buf) >= 5 + int.from_bytes(buf[3:5], "big"):
            c.sendall(buf[:5 + int.from_bytes(buf[3:5], "big")])
            # What went through: record type 22 (handshake), message 2 (ServerHello).
            open(sys.argv[3] + ".sent", "w").write("%d %d" % (buf[0], buf[5]))
            break
        continue
    c.sendall(buf); buf = b""
if fault == "close":
    c.shutdown(socket.SHUT_WR)
elif fault == "reset":
    # Wake the reader thread first: a socket in use is not really closed.
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.shutdown(socket.SHUT_RD); time.sleep(0.1); c.close()
time.sleep(8)' "$1" "$2" "$BATS_TEST_TMPDIR/proxy.port" 3>&- &
	RELAY_PID=$!
	local round
	for ((round = 0; round < 100; round++)); do
		[[ -s $BATS_TEST_TMPDIR/proxy.port ]] && break
		sleep 0.05
	done
	PROXY_PORT=$(<"$BATS_TEST_TMPDIR/proxy.port")
}

@test "(b) 8, 10: in the middle of the handshake (after the ServerHello): stall 75, FIN or RST 83, nothing sent in clear" {
	local fault mode want
	for mode in tls-on-connect starttls; do
		for fault in stall close reset; do
			[[ $mode == starttls && $fault != close ]] && continue
			if [[ $mode == tls-on-connect ]]; then
				fake_start --max-time 15 $'implicit-tls\ntls-cert server.pem'
			else
				fake_start --max-time 15 'tls-cert server.pem'
			fi
			proxy_start "$fault" "$FAKE_PORT"
			CARRIER_TIMEOUT=1 run --separate-stderr "$CARRIER" --host localhost --port "$PROXY_PORT" \
				--timeout 1 --helo client.test --tls-ca "$CERTS/ca.pem" "--$mode" \
				-f a@x.test b@x.test <"$(test_message)"
			want=83
			[[ $fault == stall ]] && want=75
			assert_equal "$mode $fault: $status" "$mode $fault: $want"
			assert_equal "$output" ""
			assert_stderr_line '^carrier: TLS handshake with localhost: '
			# The ServerHello reached carrier: the fault was mid-handshake.
			assert_equal "$(cat "$BATS_TEST_TMPDIR/proxy.port.sent")" '22 2'
			kill "$RELAY_PID" 2>/dev/null || true
			wait "$RELAY_PID" 2>/dev/null || true
			RELAY_PID=
			fake_wait || true
			# Nothing but EHLO and STARTTLS in clear; nothing over TLS.
			if grep -qE '^(MAIL|RCPT|DATA|AUTH|QUIT)' "$FAKE_DIR/commands"; then
				fail "$mode $fault: sent $(cat "$FAKE_DIR/commands")"
			fi
			fake_teardown
		done
	done
}
