#!/usr/bin/env bats
# oauth2.bats: OAuth2 built in (carrier(1) OAUTH2): --oauth2-login (device
# grant, code grant with PKCE on a loopback redirect), the token file,
# refresh at send time under a lock, the one refresh and retry after a
# refused token, --oauth2-logout, and the exit statuses of each failure.
#
# The provider is tests/oauth2server.py over HTTPS on loopback with the
# test CA (tests/lib/mkcerts); the SMTP server is tests/fakesmtp.py.

load lib/common

USER_NAME=alice

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$HOME/.config XDG_STATE_HOME=$HOME/state
	mkdir -p "$HOME"
	unset NETRC CARRIER_PASSWORD
	export LC_ALL=C
	need_certs
	MSG=$(test_message)
	TOKEN_PID=
	TOKEN_FILE=$XDG_STATE_HOME/carrier/oauth2/work
}

teardown() {
	[[ -n $TOKEN_PID ]] && { kill "$TOKEN_PID" 2>/dev/null; wait "$TOKEN_PID" 2>/dev/null; }
	fake_teardown
}

# token_start [SCENARIO]: the provider, scenario from the argument or
# standard input; sets TOKEN_DIR, TOKEN_PORT, TOKEN_URL.
token_start() {
	TOKEN_DIR=$(mktemp -d "$BATS_TEST_TMPDIR/provider.XXXXXX")
	if [[ $# -gt 0 ]]; then
		printf '%s\n' "$1" >"$TOKEN_DIR/scenario"
	elif read -r -t 0 2>/dev/null; then
		cat >"$TOKEN_DIR/scenario"
	else
		: >"$TOKEN_DIR/scenario"
	fi
	"$PYTHON" "$REPO/tests/oauth2server.py" --dir "$TOKEN_DIR" \
		--cert "$CERTS/server.pem" --key "$CERTS/server-key.pem" \
		--scenario "$TOKEN_DIR/scenario" --max-time 60 \
		</dev/null >"$TOKEN_DIR/stdout" 2>"$TOKEN_DIR/stderr" 3>&- &
	TOKEN_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s $TOKEN_DIR/port ]] && break
		sleep 0.05
	done
	[[ -s $TOKEN_DIR/port ]] || { cat "$TOKEN_DIR/stderr" >&2; return 1; }
	TOKEN_PORT=$(<"$TOKEN_DIR/port")
	TOKEN_URL=https://127.0.0.1:$TOKEN_PORT
}

# configure [EXTRA-LINES]: the account "work" for the fake SMTP server and
# the provider, XOAUTH2 as alice, the test CA; EXTRA-LINES (printf %b)
# appended.
configure() {
	mkdir -p "$XDG_CONFIG_HOME/carrier"
	local f=$XDG_CONFIG_HOME/carrier/config
	printf '%b\n' "account work" "host 127.0.0.1" "port ${FAKE_PORT:-25}" \
		"user $USER_NAME" "auth xoauth2" "from a@x.test" \
		"tls_trust_file $CERTS/ca.pem" \
		"oauth2_provider custom" "oauth2_client_id carrier-test" \
		"oauth2_token_endpoint $TOKEN_URL/token" \
		"oauth2_authorization_endpoint $TOKEN_URL/authorize" \
		"oauth2_scope mail offline" "${1:-}" >"$f"
	chmod 600 "$f"
}

# seed ACCESS REFRESH EXPIRES-IN: a token file as a login leaves it.
seed() {
	mkdir -p -m 700 "$XDG_STATE_HOME/carrier/oauth2"
	printf '{"access_token":"%s","expires_at":%d,"refresh_token":"%s"}\n' \
		"$1" $(($(date +%s) + $3)) "$2" >"$TOKEN_FILE"
	chmod 600 "$TOKEN_FILE"
}

# send ARGS...: the message to b@x.test through the account.
send() {
	run --separate-stderr setsid -w "$CARRIER" --account work --helo client.test \
		--timeout "${CARRIER_TIMEOUT:-5}" "$@" b@x.test <"$MSG"
}

# login ARGS...: carrier --oauth2-login --account work.
login() {
	run --separate-stderr setsid -w "$CARRIER" --account work --oauth2-login "$@"
}

# requests: the provider's request log.
requests() { cat "$TOKEN_DIR/requests" 2>/dev/null; }

# stored KEY: a member of the token file.
stored() {
	"$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' \
		"$TOKEN_FILE" "$1"
}

# smtp_for TOKEN: the fake SMTP server accepts alice with TOKEN only.
smtp_for() {
	fake_start <<-EOF
		capabilities AUTH XOAUTH2 OAUTHBEARER
		auth-secret $USER_NAME $1
	EOF
}

# assert_no_token TOKEN...: neither stdout, stderr nor the log holds a
# token, in clear or base64 (alone or inside XOAUTH2's string).
assert_no_token() {
	local all=$output$'\n'$stderr t k e
	[[ -f $HOME/carrier.log ]] && all+=$'\n'$(cat "$HOME/carrier.log")
	for t in "$@"; do
		local -a bad=("$t" "$(printf 'user=%s\1auth=Bearer %s\1\1' "$USER_NAME" "$t" | base64 -w0)")
		for k in 0 1 2; do
			e=$(printf '%*s%s' "$k" '' "$t" | base64 -w0)
			((k == 0)) || e=${e:4}
			bad+=("${e:0:${#e}-4}")
		done
		for e in "${bad[@]}"; do
			if [[ $all == *"$e"* ]]; then
				echo "found a secret ($t as $e) in the output" >&2
				return 1
			fi
		done
	done
}

# ---------------------------------------------------------------------
# At send time

@test "a valid access token from the token file: XOAUTH2 with it, no refresh" {
	token_start
	smtp_for ya29.seeded
	configure
	seed ya29.seeded 1//seed 3600
	send -v
	assert_success
	fake_assert_sent "AUTH XOAUTH2 $(printf 'user=alice\1auth=Bearer ya29.seeded\1\1' | base64 -w0)"
	assert_equal "$(requests)" ""
	assert_no_token ya29.seeded 1//seed
}

@test "OAUTHBEARER carries the token and the host when named" {
	token_start
	smtp_for ya29.seeded
	configure "auth oauthbearer"
	seed ya29.seeded 1//seed 3600
	send
	assert_success
	run grep -c '^AUTH OAUTHBEARER ' "$FAKE_DIR/commands"
	assert_output 1
}

@test "a token that expires within a minute is refreshed first; without rotation the refresh token stays" {
	token_start "refresh-token 1//seed"
	smtp_for ya29.at1
	configure
	seed ya29.old 1//seed 30
	send -v --log "$HOME/carrier.log" --report=json
	assert_success
	assert_output --partial '"exit":0}'
	assert_equal "$(requests)" "refresh ok"
	assert_equal "$(stored access_token)" ya29.at1
	assert_equal "$(stored refresh_token)" 1//seed
	assert_no_token ya29.at1 ya29.old 1//seed
	run stat -c %a "$TOKEN_FILE"
	assert_output 600
}

@test "as sendmail, with no terminal (cron, PHP): the account chosen by -f, its token refreshed and used" {
	token_start "refresh-token 1//seed"
	smtp_for ya29.at1
	configure
	seed ya29.old 1//seed 30
	ln -sf "$CARRIER" "$BATS_TEST_TMPDIR/sendmail"
	run --separate-stderr setsid -w "$BATS_TEST_TMPDIR/sendmail" -i \
		-f a@x.test b@x.test <"$MSG"
	assert_success
	assert_equal "$stderr" ''
	fake_assert_sent "AUTH XOAUTH2 $(printf 'user=alice\1auth=Bearer ya29.at1\1\1' | base64 -w0)"
	assert_equal "$(requests)" "refresh ok"
	assert_no_token ya29.at1 ya29.old 1//seed
}

@test "a rotated refresh token replaces the old one in the token file" {
	token_start "refresh-token 1//seed
refresh rotate"
	smtp_for ya29.at1
	configure
	seed ya29.old 1//seed 0
	send
	assert_success
	assert_equal "$(stored refresh_token)" 1//rt1
	# The next refresh uses the rotated token (the old one is refused).
	seed ya29.old "$(stored refresh_token)" 0
	fake_stop
	smtp_for ya29.at2
	configure
	send
	assert_success
	assert_equal "$(requests)" $'refresh rotate\nrefresh rotate'
}

@test "invalid_grant: exit 77 and 'run carrier --oauth2-login --account work'" {
	token_start "refresh invalid_grant"
	smtp_for ya29.x
	configure
	seed ya29.old 1//revoked 0
	send
	assert_failure 77
	assert_equal "$stderr" "carrier: OAuth2: the provider refused the refresh token (invalid_grant: test: invalid_grant): run carrier --oauth2-login --account work"
	assert_equal "$(fake_commands)" ""
}

@test "not logged in: exit 77 with the login hint" {
	token_start
	smtp_for ya29.x
	configure
	send
	assert_failure 77
	assert_equal "$stderr" "carrier: OAuth2: not logged in (no token file): run carrier --oauth2-login --account work"
}

@test "a token endpoint that refuses connections: exit 75" {
	TOKEN_URL=https://127.0.0.1:$(closed_port)
	smtp_for ya29.x
	configure
	seed ya29.old 1//seed 0
	send
	assert_failure 75
	assert_regex "$stderr" "^carrier: token endpoint $TOKEN_URL/token: .*(onnect|refused)"
}

@test "a token endpoint that never answers: exit 75 after --timeout" {
	token_start "refresh hang"
	smtp_for ya29.x
	configure
	seed ya29.old 1//seed 0
	CARRIER_TIMEOUT=2 send
	assert_failure 75
	assert_regex "$stderr" "^carrier: token endpoint $TOKEN_URL/token: .*(imed out|imeout)"
}

@test "a token endpoint answering 5xx: exit 75" {
	token_start "refresh 500"
	smtp_for ya29.x
	configure
	seed ya29.old 1//seed 0
	send
	assert_failure 75
	assert_equal "$stderr" "carrier: token endpoint $TOKEN_URL/token: HTTP status 500"
}

@test "a malformed token response: exit 76 with its own line" {
	token_start "refresh malformed"
	smtp_for ya29.x
	configure
	seed ya29.old 1//seed 0
	send
	assert_failure 76
	assert_equal "$stderr" "carrier: token endpoint $TOKEN_URL/token: malformed answer (HTTP status 200): access_token is not a string"
}

@test "a token response that is not JSON: exit 76" {
	token_start "refresh notjson"
	smtp_for ya29.x
	configure
	seed ya29.old 1//seed 0
	send
	assert_failure 76
	assert_regex "$stderr" "^carrier: token endpoint $TOKEN_URL/token: malformed answer \(HTTP status 200\): not JSON"
}

@test "invalid_client: exit 78, check the client id" {
	token_start "refresh invalid_client"
	smtp_for ya29.x
	configure
	seed ya29.old 1//seed 0
	send
	assert_failure 78
	assert_regex "$stderr" "^carrier: token endpoint $TOKEN_URL/token: invalid_client: the provider refuses the client"
}

@test "the token endpoint's certificate is verified: an untrusted one is exit 83" {
	token_start "refresh-token 1//seed"
	smtp_for ya29.x
	configure
	sed -i '/^tls_trust_file/d' "$XDG_CONFIG_HOME/carrier/config"
	seed ya29.old 1//seed 0
	send
	assert_failure 83
	assert_regex "$stderr" "^carrier: token endpoint $TOKEN_URL/token: "
	assert_equal "$(requests)" ""
}

@test "a token file readable by others is refused: exit 78" {
	token_start
	smtp_for ya29.seeded
	configure
	seed ya29.seeded 1//seed 3600
	chmod 640 "$TOKEN_FILE"
	send
	assert_failure 78
	assert_equal "$stderr" "carrier: $TOKEN_FILE: holds tokens, so it must not be accessible by others (chmod 600 $TOKEN_FILE)"
}

@test "a token file that is not JSON: exit 78, log in again" {
	token_start
	smtp_for ya29.seeded
	configure
	seed ya29.seeded 1//seed 3600
	echo garbage >"$TOKEN_FILE"
	send
	assert_failure 78
	assert_regex "$stderr" "^carrier: $TOKEN_FILE: not a token file \(not JSON .*\): run carrier --oauth2-login again$"
}

@test "oauth2_client_secret_eval runs for the refresh; its output is the client secret" {
	token_start "refresh-token 1//seed
client-secret cl13nt-s3cret"
	smtp_for ya29.at1
	configure "oauth2_client_secret_eval echo cl13nt-s3cret"
	seed ya29.old 1//seed 0
	send -v
	assert_success
	assert_equal "$(requests)" "refresh ok"
	assert_no_token cl13nt-s3cret
}

@test "oauth2_client_secret_eval in a file others can write is refused: exit 78" {
	token_start
	smtp_for ya29.at1
	configure "oauth2_client_secret_eval echo cl13nt-s3cret"
	chmod 620 "$XDG_CONFIG_HOME/carrier/config"
	seed ya29.old 1//seed 0
	send
	assert_failure 78
	assert_equal "$stderr" "carrier: $XDG_CONFIG_HOME/carrier/config: refusing to run oauth2_client_secret_eval: its group can write the file (chmod go-w)"
}

@test "auth plain with an oauth2 provider is a configuration error: exit 78" {
	token_start
	smtp_for ya29.at1
	configure "auth plain"
	send
	assert_failure 78
	assert_equal "$stderr" "carrier: oauth2_provider: auth PLAIN cannot carry an OAuth2 token: use auth xoauth2 or oauthbearer"
}

@test "20 concurrent sends with an expired token make exactly one refresh" {
	token_start "refresh-token 1//seed
delay 1"
	fake_start <<-EOF
		connections 20
		capabilities AUTH XOAUTH2 OAUTHBEARER
		auth-secret $USER_NAME ya29.at1
	EOF
	configure
	seed ya29.old 1//seed 0
	local i pids=()
	for ((i = 0; i < 20; i++)); do
		setsid -w "$CARRIER" --account work --helo client.test --timeout 20 \
			b@x.test <"$MSG" >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
		pids+=($!)
	done
	local failed=0
	for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
	cat "$BATS_TEST_TMPDIR"/out.* >&2
	assert_equal "$failed" 0
	assert_equal "$(requests)" "refresh ok"
	run grep -c '^MAIL FROM' "$FAKE_DIR/commands"
	assert_output 20
}

@test "kill -9 during a refresh leaves the token file usable" {
	token_start "refresh-token 1//seed
refresh rotate
delay 3"
	smtp_for ya29.at1
	configure
	seed ya29.old 1//seed 0
	local before
	before=$(cat "$TOKEN_FILE")
	setsid "$CARRIER" --account work --helo client.test b@x.test <"$MSG" >/dev/null 2>&1 &
	local pid=$!
	sleep 1
	kill -9 "$pid"
	wait "$pid" || true
	assert_equal "$(cat "$TOKEN_FILE")" "$before"
	run ls "$XDG_STATE_HOME/carrier/oauth2"
	assert_output $'work\nwork.lock'
	# Still a token file carrier reads: the next send refreshes with the
	# old refresh token (the provider rotated it away meanwhile: 77).
	fake_stop
	smtp_for ya29.x
	configure
	send
	assert_failure 77
	assert_regex "$stderr" "invalid_grant.*run carrier --oauth2-login --account work$"
}

# ---------------------------------------------------------------------
# The retry after a refused token

@test "XOAUTH2 refused with the 334 error challenge and 535: one refresh, one retry" {
	token_start "refresh-token 1//seed"
	smtp_for ya29.at1
	configure
	seed ya29.revoked 1//seed 3600
	send
	assert_success
	assert_equal "$(requests)" "refresh ok"
	run grep -c '^AUTH XOAUTH2 ' "$FAKE_DIR/commands"
	assert_output 2
	assert_equal "$(stored access_token)" ya29.at1
}

@test "a refreshed token refused too: exit 77 after exactly one refresh" {
	token_start "refresh-token 1//seed"
	smtp_for ya29.never
	configure
	seed ya29.revoked 1//seed 3600
	send
	assert_failure 77
	assert_regex "$stderr" "^carrier: AUTH XOAUTH2 refused: 535 5.7.8"
	assert_equal "$(requests)" "refresh ok"
	run grep -c '^AUTH XOAUTH2 ' "$FAKE_DIR/commands"
	assert_output 2
}

# ---------------------------------------------------------------------
# Login and logout

@test "--oauth2-login, device grant: pending, slow_down (interval + 5 s), then the tokens" {
	token_start "poll authorization_pending slow_down ok"
	configure "oauth2_device_endpoint $TOKEN_URL/device"
	local t0=$SECONDS
	login
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 "To sign in account work, open $TOKEN_URL/verify"
	assert_line --index 1 "and enter the code WDJB-MJHT"
	assert_line --partial "carrier: account work is logged in (tokens in $TOKEN_FILE)"
	(( SECONDS - t0 >= 8 ))
	assert_equal "$(requests)" $'device ok\npoll authorization_pending\npoll slow_down\npoll ok'
	assert_equal "$(stored refresh_token)" 1//rt1
	assert_equal "$(stat -c %a "$TOKEN_FILE") $(stat -c %a "${TOKEN_FILE%/*}")" "600 700"
	assert_no_token ya29.at1 1//rt1 dev1ce.c0de
}

@test "--oauth2-login, device grant: expired_token is exit 77" {
	token_start "poll expired_token"
	configure "oauth2_device_endpoint $TOKEN_URL/device"
	login
	assert_failure 77
	assert_equal "$stderr" "carrier: --oauth2-login: the code expired before the sign-in was done: run carrier --oauth2-login again"
	refute [ -e "$TOKEN_FILE" ]
}

@test "--oauth2-login, device grant: access_denied is exit 77" {
	token_start "poll authorization_pending access_denied"
	configure "oauth2_device_endpoint $TOKEN_URL/device"
	login
	assert_failure 77
	assert_equal "$stderr" "carrier: --oauth2-login: the sign-in was denied (access_denied)"
	refute [ -e "$TOKEN_FILE" ]
}

@test "--oauth2-login, device grant: a malformed device answer is exit 76" {
	token_start "device malformed"
	configure "oauth2_device_endpoint $TOKEN_URL/device"
	login
	assert_failure 76
	assert_equal "$stderr" "carrier: device endpoint $TOKEN_URL/device: malformed answer (HTTP status 200): user_code is not a string"
}

# browse: the "browser": waits for the login's address on its output, opens
# it (the provider redirects to carrier's loopback listener).
browse() {
	local out=$1 url i
	for ((i = 0; i < 100; i++)); do
		url=$(grep -m1 '^https://' "$out" 2>/dev/null) && break
		sleep 0.05
	done
	curl -sS --max-time 10 --cacert "$CERTS/ca.pem" -L -o "$BATS_TEST_TMPDIR/page" "$url"
}

# login_code: --oauth2-login in the background, browse, wait.
login_code() {
	local out=$BATS_TEST_TMPDIR/login.out err=$BATS_TEST_TMPDIR/login.err
	setsid -w "$CARRIER" --account work --oauth2-login >"$out" 2>"$err" &
	local pid=$!
	browse "$out" || true
	local rc=0
	wait "$pid" || rc=$?
	output=$(cat "$out") stderr=$(cat "$err") status=$rc
	mapfile -t lines <"$out"
}

@test "--oauth2-login, code grant with PKCE on a loopback redirect" {
	token_start
	configure
	login_code
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_regex "$output" "redirect_uri=http%3A%2F%2F127.0.0.1%3A[0-9]+%2F&"
	assert_regex "$output" "code_challenge_method=S256"
	assert_line "carrier: account work is logged in (tokens in $TOKEN_FILE)"
	assert_equal "$(requests)" $'authorize ok\ncode ok'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/page")" "carrier got the answer; you may close this window."
	assert_equal "$(stored access_token)" ya29.at1
}

@test "--oauth2-login, code grant: a redirect with another state is refused (77)" {
	token_start "authorize wrong-state"
	configure
	login_code
	assert_equal "$status" 77
	assert_equal "$stderr" "carrier: --oauth2-login: the redirect's state does not match this login's: refused"
	assert_equal "$(requests)" "authorize wrong-state"
	refute [ -e "$TOKEN_FILE" ]
}

@test "--oauth2-login, code grant: the user denies (77)" {
	token_start "authorize access_denied"
	configure
	login_code
	assert_equal "$status" 77
	assert_equal "$stderr" "carrier: --oauth2-login: the provider refused the sign-in (access_denied)"
}

@test "login, then send: the token from the login is used" {
	token_start
	configure
	login_code
	assert_equal "$status" 0
	smtp_for ya29.at1
	configure
	send
	assert_success
	assert_equal "$(requests)" $'authorize ok\ncode ok'
}

@test "--oauth2-logout removes the token file; again: not logged in" {
	configure
	seed ya29.seeded 1//seed 3600
	run --separate-stderr "$CARRIER" --account work --oauth2-logout
	assert_success
	assert_output "carrier: account work is logged out (removed $TOKEN_FILE)"
	refute [ -e "$TOKEN_FILE" ]
	run --separate-stderr "$CARRIER" --account work --oauth2-logout
	assert_success
	assert_output "carrier: account work was not logged in (no $TOKEN_FILE)"
}

@test "--oauth2-login without oauth2_provider: exit 78" {
	mkdir -p "$XDG_CONFIG_HOME/carrier"
	printf 'account work\nhost 127.0.0.1\n' >"$XDG_CONFIG_HOME/carrier/config"
	login
	assert_failure 78
	assert_equal "$stderr" "carrier: oauth2_provider: not set for account 'work'"
}

@test "--oauth2-provider with an unknown name: exit 64" {
	run --separate-stderr "$CARRIER" --oauth2-provider yahoo --oauth2-login
	assert_failure 64
	assert_equal "$stderr" "carrier: --oauth2-provider: invalid value 'yahoo' (google, microsoft or custom)"
}

@test "a token endpoint out of reach with --queue: the message is queued (exit 0)" {
	TOKEN_URL=https://127.0.0.1:$(closed_port)
	smtp_for ya29.x
	configure
	seed ya29.old 1//seed 0
	send --queue="$HOME/queue"
	assert_success
	assert_regex "$stderr" "^carrier: queued as [^ ]+ in $HOME/queue: token endpoint $TOKEN_URL/token: "
	run --separate-stderr "$CARRIER" --list-queue --queue="$HOME/queue"
	assert_output --partial "b@x.test"
}
