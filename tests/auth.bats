#!/usr/bin/env bats
# auth.bats: SMTP AUTH (RFC 4954) against tests/fakesmtp.py.
#
# SPEC section 2 (Authentication) and section 3 (exit statuses); THREATS
# rows I04, I10, T21, P12-P17, B16 and fault point 11.  Every test checks
# the exit status, the stderr line and the exact command lines the server
# recorded (AUTH continuation lines included).
#
# The fake server listens on loopback, where carrier allows AUTH in clear;
# the T21 tests reach it through a relay on a non-loopback address of this
# machine (skipped when it has none).  Every carrier run is detached from
# the controlling terminal (setsid) so that a missing secret can never hang
# on a prompt; the prompt test gives it a pseudo-terminal with expect.

load lib/common

USER_NAME=alice
PASS='s3cr3t-Horse'

setup() {
	# Nothing from the caller's own configuration or netrc.
	export HOME=$BATS_TEST_TMPDIR/home
	export XDG_CONFIG_HOME=$HOME/.config
	mkdir -p "$HOME"
	unset NETRC CARRIER_PASSWORD
	MSG=$(test_message)
	RELAY_PID=
}

teardown() {
	[[ -n $RELAY_PID ]] && { kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null; }
	fake_teardown
}

# auth_run ARGS...: like run_carrier, but without a controlling terminal,
# to the host:port in $TARGET_HOST/$TARGET_PORT when set (the relay).
auth_run() {
	run --separate-stderr setsid -w "$CARRIER" \
		--host "${TARGET_HOST:-127.0.0.1}" --port "${TARGET_PORT:-$FAKE_PORT}" \
		--timeout "${CARRIER_TIMEOUT:-5}" --helo client.test "$@"
}

# send ARGS...: auth_run ARGS -f a@x.test b@x.test < message
send() {
	auth_run "$@" -f a@x.test b@x.test <"$MSG"
}

# b64 PRINTF-FORMAT [ARGS]: base64 (one line) of printf's output.
b64() {
	# shellcheck disable=SC2059
	printf "$@" | base64 -w0
}

# unb64 TEXT: decoded bytes, NUL shown as \0 and ^A as \1 (for asserts).
unb64() {
	printf '%s' "$1" | base64 -d | sed -e 's/\x00/\\0/g' -e 's/\x01/\\1/g'
}

# The command lines of a complete, successful session after the AUTH lines.
DELIVERED=$'MAIL FROM:<a@x.test>\nRCPT TO:<b@x.test>\nDATA\nQUIT'

# config TEXT: writes TEXT (printf %b) to $HOME/carrier.conf, mode 600,
# and prints its name.
config() {
	local f=$HOME/carrier.conf
	printf '%b\n' "$1" >"$f"
	chmod 600 "$f"
	printf '%s\n' "$f"
}

# refute_sent TEXT: no command line the server received contains TEXT
# (also when it received none: common.bash's fake_refute_sent needs one).
refute_sent() {
	if grep -qF -- "$1" "$FAKE_DIR/commands" 2>/dev/null; then
		echo "sent: $(grep -F -- "$1" "$FAKE_DIR/commands")" >&2
		return 1
	fi
}

# server_challenge N: the base64 text of the N-th 334 the server sent.
server_challenge() {
	sed -n 's/^S: 334 //p' "$FAKE_DIR/transcript" | sed -n "${1:-1}p"
}

# --------------------------------------------------------------------------
# Mechanisms

@test "PLAIN with an initial response: AUTH PLAIN <b64> in one line" {
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		$DELIVERED
	EOF
	run fake_transcript
	assert_line 'S: 235 2.7.0 Authentication successful'
}

@test "PLAIN without initial response (--no-initial-response): AUTH PLAIN, 334, credentials" {
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --no-initial-response
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN
		$(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		$DELIVERED
	EOF
	run fake_transcript
	assert_line 'S: 334 '
}

@test "LOGIN with an initial response: AUTH LOGIN <b64 user>, then the password" {
	fake_start <<-EOF
		capabilities AUTH LOGIN
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH LOGIN $(b64 %s "$USER_NAME")
		$(b64 %s "$PASS")
		$DELIVERED
	EOF
}

@test "LOGIN without initial response: Username: and Password: challenges" {
	fake_start <<-EOF
		capabilities AUTH LOGIN
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --no-initial-response
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH LOGIN
		$(b64 %s "$USER_NAME")
		$(b64 %s "$PASS")
		$DELIVERED
	EOF
	run fake_transcript
	assert_line 'S: 334 VXNlcm5hbWU6'
	assert_line 'S: 334 UGFzc3dvcmQ6'
}

@test "CRAM-MD5: the response is USER and HMAC-MD5(password, challenge) in hex" {
	fake_start <<-EOF
		capabilities AUTH CRAM-MD5
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	local challenge expected
	challenge=$(server_challenge 1)
	expected=$("$PYTHON" -c '
import base64, hmac, sys
user, pw, ch = sys.argv[1:]
d = hmac.new(pw.encode(), base64.b64decode(ch), "md5").hexdigest()
print(base64.b64encode(("%s %s" % (user, d)).encode()).decode())' "$USER_NAME" "$PASS" "$challenge")
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH CRAM-MD5
		$expected
		$DELIVERED
	EOF
}

@test "SCRAM-SHA-256 against the server's RFC 5802 implementation" {
	fake_start <<-EOF
		capabilities AUTH SCRAM-SHA-256
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	local -a c
	mapfile -t c < <(fake_commands)
	assert_equal "${#c[@]}" 8
	assert_equal "${c[0]}" 'EHLO client.test'
	assert_regex "${c[1]}" '^AUTH SCRAM-SHA-256 [A-Za-z0-9+/]+=*$'
	# client-first: no channel binding, the user, a nonce
	assert_regex "$(unb64 "${c[1]#AUTH SCRAM-SHA-256 }")" '^n,,n=alice,r=[^,]{16,}$'
	# client-final: c=biws (base64 of "n,,"), the server's nonce, a proof
	assert_regex "$(unb64 "${c[2]}")" '^c=biws,r=[^,]+,p=[A-Za-z0-9+/]{43}=$'
	# the (empty) answer to the server-final message, then the mail
	assert_equal "${c[3]}" ''
	assert_equal "$(printf '%s\n' "${c[@]:4}")" "$DELIVERED"
	run fake_transcript
	assert_line --regexp '^S: 334 dj'	# base64 of v=<server signature>
	assert_line 'S: 235 2.7.0 Authentication successful'
}

@test "SCRAM-SHA-1 against the server's RFC 5802 implementation" {
	fake_start <<-EOF
		capabilities AUTH SCRAM-SHA-1
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	local -a c
	mapfile -t c < <(fake_commands)
	assert_equal "${#c[@]}" 8
	assert_regex "${c[1]}" '^AUTH SCRAM-SHA-1 [A-Za-z0-9+/]+=*$'
	assert_regex "$(unb64 "${c[1]#AUTH SCRAM-SHA-1 }")" '^n,,n=alice,r=[^,]{16,}$'
	# SHA-1: a 20-octet proof
	assert_regex "$(unb64 "${c[2]}")" '^c=biws,r=[^,]+,p=[A-Za-z0-9+/]{27}=$'
	assert_equal "${c[3]}" ''
	assert_equal "$(printf '%s\n' "${c[@]:4}")" "$DELIVERED"
}

@test "SCRAM-SHA-256 with a wrong password: 77 with the server's text" {
	fake_start <<-EOF
		capabilities AUTH SCRAM-SHA-256
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=wrong-password send --user "$USER_NAME"
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH SCRAM-SHA-256 refused: 535 5.7.8 Error: authentication failed'
	fake_wait
	local -a c
	mapfile -t c < <(fake_commands)
	assert_equal "${#c[@]}" 4
	assert_regex "${c[1]}" '^AUTH SCRAM-SHA-256 '
	assert_regex "$(unb64 "${c[2]}")" '^c=biws,r='
	assert_equal "${c[3]}" 'QUIT'
	refute_output
}

@test "SCRAM-SHA-1 with a wrong password: 77 with the server's text" {
	fake_start <<-EOF
		capabilities AUTH SCRAM-SHA-1
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=wrong-password send --user "$USER_NAME"
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH SCRAM-SHA-1 refused: 535 5.7.8 Error: authentication failed'
	fake_wait
	run fake_commands
	assert_equal "${#lines[@]}" 4
	assert_line --index 3 'QUIT'
}

@test "SCRAM: 235 without the server's proof (v=) is not success (77)" {
	# A server that does not know the password cannot sign the exchange:
	# carrier does not take its word for it.
	fake_start <<-'EOF'
		capabilities AUTH SCRAM-SHA-256
		auth SCRAM-SHA-256 235 2.7.0 trust me
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 77
	assert_regex "$stderr" '^carrier: .*SCRAM-SHA-256.*: the server did not prove it knows the password$'
	fake_wait
	run fake_commands
	assert_equal "${#lines[@]}" 3
	assert_line --index 1 --regexp '^AUTH SCRAM-SHA-256 [A-Za-z0-9+/]+=*$'
	assert_line --index 2 'QUIT'
}

@test "XOAUTH2: the token from passwordeval in a config file" {
	fake_start <<-EOF
		capabilities AUTH XOAUTH2 PLAIN
		auth-secret $USER_NAME ya29.tok3n-Value
	EOF
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\nauth XOAUTH2\npasswordeval echo ya29.tok3n-Value")
	send --config "$conf"
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH XOAUTH2 $(b64 'user=%s\1auth=Bearer %s\1\1' "$USER_NAME" ya29.tok3n-Value)
		$DELIVERED
	EOF
}

@test "XOAUTH2 with --auth XOAUTH2 on the command line; a refused token is 77" {
	fake_start <<-EOF
		capabilities AUTH XOAUTH2
		auth-secret $USER_NAME good-token
	EOF
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npasswordeval echo bad-token")
	send --config "$conf" --auth XOAUTH2
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH XOAUTH2 refused: 535 5.7.8 Error: authentication failed'
	fake_wait
	# Google's error challenge is acknowledged with an empty line.
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH XOAUTH2 $(b64 'user=%s\1auth=Bearer %s\1\1' "$USER_NAME" bad-token)

		QUIT
	EOF
}

@test "OAUTHBEARER: gs2 header, host, port and the bearer token (RFC 7628)" {
	fake_start <<-EOF
		capabilities AUTH OAUTHBEARER
		auth-secret $USER_NAME ya29.tok3n-Value
	EOF
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npasswordeval echo ya29.tok3n-Value")
	send --config "$conf" --auth OAUTHBEARER
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH OAUTHBEARER $(b64 'n,a=%s,\1host=127.0.0.1\1port=%s\1auth=Bearer %s\1\1' "$USER_NAME" "$FAKE_PORT" ya29.tok3n-Value)
		$DELIVERED
	EOF
}

@test "OAUTHBEARER refused: the error challenge gets ^A, then 77" {
	fake_start <<-EOF
		capabilities AUTH OAUTHBEARER
		auth-secret $USER_NAME good-token
	EOF
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npasswordeval echo bad-token")
	send --config "$conf" --auth OAUTHBEARER
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH OAUTHBEARER refused: 535 5.7.8 Error: authentication failed'
	fake_wait
	run fake_commands
	assert_line --index 2 "$(b64 '\1')"
	assert_line --index 3 'QUIT'
}

@test "EXTERNAL with a client certificate over STARTTLS: AUTH EXTERNAL =, no password needed" {
	need_certs
	fake_start <<-EOF
		tls-cert server.pem
		tls-client-ca client-ca.pem
		capabilities PIPELINING
		capabilities-tls AUTH EXTERNAL PLAIN
	EOF
	# No secret source at all: EXTERNAL must not ask for one.
	send --starttls --tls-ca "$CERTS/ca.pem" --tls-cert "$CERTS/client.pem" \
		--tls-key "$CERTS/client-key.pem" --user "$USER_NAME" --auth EXTERNAL
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		STARTTLS
		EHLO client.test
		AUTH EXTERNAL =
		$DELIVERED
	EOF
}

# --------------------------------------------------------------------------
# Choosing the mechanism

@test "default order: of LOGIN PLAIN CRAM-MD5, CRAM-MD5 is tried first" {
	fake_start <<-EOF
		capabilities AUTH LOGIN PLAIN CRAM-MD5
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_success
	fake_wait
	run fake_commands
	assert_equal "${#lines[@]}" 7
	assert_line --index 1 'AUTH CRAM-MD5'
	refute_sent 'AUTH PLAIN'
	refute_sent 'AUTH LOGIN'
}

@test "default order: SCRAM-SHA-256 before SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN" {
	fake_start <<-EOF
		capabilities AUTH LOGIN PLAIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_success
	fake_wait
	run fake_commands
	assert_line --index 1 --regexp '^AUTH SCRAM-SHA-256 '
	assert_equal "$(grep -c '^AUTH ' "$FAKE_DIR/commands")" 1
}

@test "a mechanism refused as such (504, 534, 538) after being advertised: the next one is tried" {
	local reply
	for reply in '504 5.5.4 CRAM-MD5 not available' \
	    '534 5.7.9 Authentication mechanism is too weak' \
	    '538 5.7.11 Encryption required for requested authentication mechanism'; do
		fake_start <<-EOF
			capabilities AUTH LOGIN PLAIN CRAM-MD5
			auth-secret $USER_NAME $PASS
			auth CRAM-MD5 $reply
		EOF
		CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
		assert_success
		assert_equal "$stderr" ''
		fake_wait
		fake_assert_commands <<-EOF
			EHLO client.test
			AUTH CRAM-MD5
			AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
			$DELIVERED
		EOF
	done
}

@test "535 5.7.8 (bad credentials): 77 at once, no other mechanism tried with the same secret" {
	local reply
	for reply in '535 5.7.8 Error: authentication failed' \
	    '554 5.7.8 credentials invalid'; do
		fake_start <<-EOF
			capabilities AUTH LOGIN PLAIN CRAM-MD5
			auth CRAM-MD5 $reply
		EOF
		CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
		assert_failure 77
		assert_equal "$stderr" "carrier: AUTH CRAM-MD5 refused: $reply"
		fake_wait
		fake_assert_commands <<-EOF
			EHLO client.test
			AUTH CRAM-MD5
			QUIT
		EOF
	done
}

@test "every mechanism refused: 77 with the last reply's text" {
	fake_start <<-EOF
		capabilities AUTH LOGIN PLAIN CRAM-MD5
		auth CRAM-MD5 504 5.5.4 no CRAM
		auth PLAIN 534 5.7.9 no PLAIN
		auth LOGIN 535 5.7.8 no LOGIN either
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH LOGIN refused: 535 5.7.8 no LOGIN either'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH CRAM-MD5
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		AUTH LOGIN $(b64 %s "$USER_NAME")
		QUIT
	EOF
}

@test "--auth PLAIN forces PLAIN although CRAM-MD5 is offered" {
	fake_start <<-EOF
		capabilities AUTH LOGIN PLAIN CRAM-MD5
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --auth PLAIN
	assert_success
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		$DELIVERED
	EOF
}

@test "--auth PLAIN, refused: 77, no fallback to another mechanism" {
	fake_start <<-EOF
		capabilities AUTH LOGIN PLAIN CRAM-MD5
		auth PLAIN 535 5.7.8 Bad credentials
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --auth PLAIN
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH PLAIN refused: 535 5.7.8 Bad credentials'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		QUIT
	EOF
}

@test "--auth on: the default order" {
	fake_start <<-EOF
		capabilities AUTH LOGIN PLAIN CRAM-MD5
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --auth on
	assert_success
	fake_wait
	run fake_commands
	assert_line --index 1 'AUTH CRAM-MD5'
}

@test "--auth off: no AUTH although --user is given and AUTH is offered" {
	fake_start <<-EOF
		capabilities AUTH LOGIN PLAIN CRAM-MD5
	EOF
	send --user "$USER_NAME" --auth off
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		$DELIVERED
	EOF
}

@test "no --user: no AUTH, no secret looked for" {
	fake_start 'capabilities AUTH PLAIN'
	send
	assert_success
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		$DELIVERED
	EOF
}

@test "--auth with an unknown mechanism is a usage error (64)" {
	fake_start 'capabilities AUTH PLAIN'
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --auth PLAIN,BOGUS
	assert_failure 64
	refute_output
	assert_regex "$stderr" "^carrier: .*BOGUS"
	fake_stop
	refute_sent 'AUTH'
	refute_sent 'MAIL'
}

# --------------------------------------------------------------------------
# Failures (THREATS P12-P17)

@test "P17: AUTH not offered, --user given: 82 (not offered), no AUTH, QUIT" {
	fake_start 'capabilities PIPELINING, 8BITMIME'
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 82
	assert_regex "$stderr" '^carrier: AUTH: not offered by the server'
	assert_equal "${#stderr_lines[@]}" 1
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		QUIT
	EOF
}

@test "P17: AUTH offered before STARTTLS only: 82 after TLS, no AUTH" {
	need_certs
	fake_start <<-EOF
		tls-cert server.pem
		capabilities AUTH PLAIN LOGIN
		capabilities-tls PIPELINING
	EOF
	CARRIER_PASSWORD=$PASS send --starttls --tls-ca "$CERTS/ca.pem" --user "$USER_NAME"
	assert_failure 82
	assert_equal "$stderr" 'carrier: AUTH: not offered by the server'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		STARTTLS
		EHLO client.test
		QUIT
	EOF
}

@test "no usable mechanism: 82 naming what the server offered" {
	fake_start 'capabilities AUTH NTLM GSSAPI'
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 82
	assert_equal "$stderr" 'carrier: AUTH: no usable mechanism (the server offers: NTLM GSSAPI)'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		QUIT
	EOF
}

@test "--auth PLAIN but the server offers only LOGIN CRAM-MD5: 82 naming them" {
	fake_start 'capabilities AUTH LOGIN CRAM-MD5'
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --auth PLAIN
	assert_failure 82
	assert_equal "$stderr" 'carrier: AUTH: no usable mechanism (the server offers: LOGIN CRAM-MD5)'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		QUIT
	EOF
}

@test "P16: 535 to AUTH is 77" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN
		auth 535 5.7.8 Error: authentication failed: bad password
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH PLAIN refused: 535 5.7.8 Error: authentication failed: bad password'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		QUIT
	EOF
}

@test "P16: 534 (mechanism too weak) is 77" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN
		auth 534 5.7.9 Authentication mechanism is too weak
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH PLAIN refused: 534 5.7.9 Authentication mechanism is too weak'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		QUIT
	EOF
}

@test "P16: 454 (temporary failure) is 75, no other mechanism tried" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN LOGIN
		auth 454 4.7.0 Temporary authentication failure
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 75
	assert_equal "$stderr" 'carrier: AUTH: 454 4.7.0 Temporary authentication failure'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		QUIT
	EOF
}

@test "P16: 421 to AUTH is 75 and the connection is closed without QUIT" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN LOGIN
		auth 421 4.4.2 fake.test closing connection | close
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 75
	assert_equal "$stderr" 'carrier: AUTH: 421 4.4.2 fake.test closing connection'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
	EOF
}

@test "P16: 503 to AUTH is 77, never success (unlike smtplib)" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN
		auth 503 5.5.1 Error: already authenticated
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH PLAIN refused: 503 5.5.1 Error: already authenticated'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		QUIT
	EOF
}

@test "P16: 538, 530, 504, 500 are 77; 432, 451 are 75; never a MAIL" {
	local code want text
	for code in 538:77 530:77 504:77 500:77 432:75 451:75; do
		want=${code#*:} code=${code%:*}
		text="$code ${code:0:1}.7.0 refused with $code"
		fake_start "capabilities AUTH PLAIN
auth $text"
		CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
		assert_equal "$code:$status" "$code:$want"
		if [[ $want == 77 ]]; then
			assert_equal "$stderr" "carrier: AUTH PLAIN refused: $text"
		else
			assert_equal "$stderr" "carrier: AUTH: $text"
		fi
		fake_wait
		fake_assert_commands <<-EOF
			EHLO client.test
			AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
			QUIT
		EOF
	done
}

@test "P16: a 2xx other than 235 (250) is not success" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN
		auth 250 2.0.0 ok whatever
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 76
	assert_equal "$stderr" 'carrier: AUTH: 250 2.0.0 ok whatever'
	fake_wait
	refute_sent 'MAIL FROM'
}

@test "P13: endless 334 challenges: a protocol error (76) within 5, never mail" {
	# smtplib gives up after _MAXCHALLENGE = 5; a challenge after the
	# mechanism has finished is an unexpected reply (SPEC 3: 76), as
	# session.c's MAX_CHALLENGES check says.  Cancelling with * is fine.
	fake_start <<-'EOF'
		capabilities AUTH LOGIN
		auth 334 VXNlcm5hbWU6
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --no-initial-response
	assert_failure 76
	assert_regex "$stderr" '^carrier: AUTH( LOGIN)?: .*challenge'
	assert_equal "${#stderr_lines[@]}" 1
	fake_wait
	run fake_commands
	# AUTH LOGIN, at most 5 answers, then nothing but an optional * / QUIT
	local n
	n=$(grep -vc -e '^EHLO ' -e '^AUTH ' -e '^\*$' -e '^QUIT$' "$FAKE_DIR/commands")
	((n <= 5))
	refute_sent 'MAIL FROM'
}

@test "P12: a challenge that is not base64 (334 Rubbish): * sent, 77" {
	fake_start <<-'EOF'
		capabilities AUTH LOGIN
		auth 334 Rubbish
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --no-initial-response
	assert_failure 77
	# SPEC 3: the line names the stage (AUTH)
	assert_regex "$stderr" '^carrier: AUTH( LOGIN)?: bad challenge from the server: .*not valid base64$'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH LOGIN
		*
		QUIT
	EOF
	run fake_transcript
	assert_line 'S: 501 5.7.0 Authentication cancelled'
}

@test "P12: strict base64: =AAA, AA=A, AAA=BBB, non-alphabet are all cancelled" {
	local ch
	for ch in '=AAA' 'AA=A' 'AAA=BBB' 'QUFB!A==' 'QUF' 'QUFBQQ= ='; do
		fake_start "capabilities AUTH LOGIN
auth 334 $ch"
		CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --no-initial-response
		assert_equal "$ch:$status" "$ch:77"
		fake_wait
		assert_equal "$(fake_commands)" $'EHLO client.test\nAUTH LOGIN\n*\nQUIT'
	done
}

@test "P14: CRAM-MD5 with an empty challenge (334 ): cancelled with *, 77" {
	fake_start <<-'EOF'
		capabilities AUTH CRAM-MD5
		auth 334\x20
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 77
	assert_regex "$stderr" '^carrier: AUTH( CRAM-MD5)?: bad challenge from the server: .*empty challenge$'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH CRAM-MD5
		*
		QUIT
	EOF
}

@test "P14: CRAM-MD5 with a large challenge (6000 octets) is answered" {
	local ch expected
	ch=$(head -c 6000 /dev/zero | tr '\0' 'c' | base64 -w0)
	fake_start <<-EOF
		capabilities AUTH CRAM-MD5
		auth 334 $ch
		auth 235 2.7.0 ok
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_success
	expected=$("$PYTHON" -c '
import base64, hmac, sys
d = hmac.new(sys.argv[2].encode(), b"c" * 6000, "md5").hexdigest()
print(base64.b64encode(("%s %s" % (sys.argv[1], d)).encode()).decode())' "$USER_NAME" "$PASS")
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH CRAM-MD5
		$expected
		$DELIVERED
	EOF
}

@test "P14: a challenge line over 8192 octets is a protocol error (76), no crash" {
	local ch
	ch=$(head -c 12288 /dev/zero | tr '\0' 'c' | base64 -w0)
	fake_start <<-EOF
		capabilities AUTH CRAM-MD5
		auth 334 $ch
		auth 235 2.7.0 ok
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 76
	assert_regex "$stderr" '^carrier: AUTH: '
	fake_wait
	refute_sent 'MAIL FROM'
}

@test "P15: PLAIN initial response that would make the line exceed 512 octets goes after 334" {
	local long_user
	long_user=$(printf 'u%.0s' {1..400})
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $long_user $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$long_user"
	assert_success
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN
		$(b64 '\0%s\0%s' "$long_user" "$PASS")
		$DELIVERED
	EOF
}

@test "fault 11: close (74) or stall (75) after AUTH, after each 334 answer, after the last line; no QUIT" {
	# AUTH LOGIN without initial response: the server's k-th reply is the
	# fault, after k client lines.
	local k fault want msg i
	local -a sent=("AUTH LOGIN" "$(b64 %s "$USER_NAME")" "$(b64 %s "$PASS")")
	for k in 1 2 3; do
		for fault in close stall; do
			local script='capabilities AUTH LOGIN'
			((k > 1)) && script+=$'\nauth 334 VXNlcm5hbWU6'
			((k > 2)) && script+=$'\nauth 334 UGFzc3dvcmQ6'
			script+=$'\nauth '$fault
			fake_start "$script"
			CARRIER_TIMEOUT=1 CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --no-initial-response
			if [[ $fault == close ]]; then
				want=74 msg='carrier: AUTH: connection closed by the server'
			else
				want=75 msg='carrier: AUTH: timed out waiting for the server'
			fi
			assert_equal "$k $fault:$status" "$k $fault:$want"
			assert_equal "$stderr" "$msg"
			fake_wait
			assert_equal "$(fake_commands)" "$(printf '%s\n' 'EHLO client.test' "${sent[@]:0:k}")"
		done
	done
}

@test "fault 11: connection closed right after AUTH PLAIN <initial response>: 74, no other mechanism" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN LOGIN
		auth close
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 74
	assert_equal "$stderr" 'carrier: AUTH: connection closed by the server'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
	EOF
}

# --------------------------------------------------------------------------
# I04: credentials that cannot be carried are refused, never sent raw

@test "I04: CR LF in the password with LOGIN: refused before any AUTH line" {
	fake_start 'capabilities AUTH LOGIN'
	CARRIER_PASSWORD=$'pw\r\nMAIL FROM:<evil@x.test>' send --user "$USER_NAME"
	assert_failure 77
	assert_regex "$stderr" '^carrier: AUTH( LOGIN)?: .*LOGIN cannot carry a CR or LF in the password$'
	fake_wait
	refute_sent 'evil'
	refute_sent 'AUTH'
	refute grep -q 'evil' "$FAKE_DIR/wire"
}

@test "I04: CR LF in the password with PLAIN: only inside the base64, never a line" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN
		auth-secret alice pw\r\nMAIL FROM:<evil@x.test>
	EOF
	CARRIER_PASSWORD=$'pw\r\nMAIL FROM:<evil@x.test>' send --user "$USER_NAME"
	assert_success
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0alice\0pw\r\nMAIL FROM:<evil@x.test>')
		$DELIVERED
	EOF
	refute grep -q 'evil' "$FAKE_DIR/wire"
}

@test "I04: CR LF in the user name with LOGIN is refused" {
	fake_start 'capabilities AUTH LOGIN'
	CARRIER_PASSWORD=$PASS send --user $'alice\r\nRCPT TO:<evil@x.test>'
	assert_failure 77
	assert_regex "$stderr" '^carrier: AUTH( LOGIN)?: .*LOGIN cannot carry a CR or LF in the user name$'
	fake_wait
	fake_assert_commands <<-'EOF'
		EHLO client.test
		QUIT
	EOF
	refute grep -q 'evil' "$FAKE_DIR/wire"
}

@test "I04: a NUL byte in the passwordeval output is refused (78), nothing sent" {
	fake_start 'capabilities AUTH PLAIN'
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npasswordeval printf 'pw\\\\000evil\\\\n'")
	send --config "$conf"
	assert_failure 78
	assert_regex "$stderr" '^carrier: passwordeval: .*NUL'
	fake_stop
	refute_sent 'AUTH'
}

# --------------------------------------------------------------------------
# Secret sources (SPEC section 2: config password, passwordeval, netrc,
# CARRIER_PASSWORD, terminal prompt; B16)

@test "source: CARRIER_PASSWORD (-v names the source, not the secret)" {
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" -v
	assert_success
	assert_regex "$stderr" 'password from CARRIER_PASSWORD'
	refute_regex "$stderr" "$PASS"
	fake_wait
	fake_assert_sent "AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")"
}

@test "source: config password (file mode 600) wins over CARRIER_PASSWORD" {
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npassword $PASS")
	CARRIER_PASSWORD=not-this-one send --config "$conf" -v
	assert_success
	assert_regex "$stderr" 'password from config password'
	fake_wait
	fake_assert_sent "AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")"
}

@test "source: a config file holding a password readable by others (644) is 78 with a chmod hint" {
	fake_start 'capabilities AUTH PLAIN'
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npassword $PASS")
	chmod 644 "$conf"
	CARRIER_PASSWORD=$PASS send --config "$conf"
	assert_failure 78
	assert_equal "$stderr" "carrier: $conf: holds a password, so it must not be readable by others (chmod 600 $conf)"
	refute_regex "$stderr" "$PASS"
	fake_stop
	assert_equal "$(fake_commands)" ''
}

@test "source: passwordeval: the first line of its output (CRLF removed)" {
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npasswordeval printf '%s\\\\r\\\\nsecond line\\\\n' $PASS")
	CARRIER_PASSWORD=not-this-one send --config "$conf" -v
	assert_success
	assert_regex "$stderr" 'password from passwordeval'
	fake_wait
	fake_assert_sent "AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")"
}

@test "source: passwordeval false: 78 naming its exit status, no AUTH" {
	fake_start 'capabilities AUTH PLAIN'
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npasswordeval false")
	CARRIER_PASSWORD=$PASS send --config "$conf"
	assert_failure 78
	assert_equal "$stderr" 'carrier: passwordeval: the command failed with exit status 1'
	fake_stop
	refute_sent 'AUTH'
	refute_sent 'MAIL'
}

@test "B16: a failing passwordeval aborts before connecting" {
	fake_start 'capabilities AUTH PLAIN'
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npasswordeval exit 3")
	send --config "$conf"
	assert_failure 78
	assert_equal "$stderr" 'carrier: passwordeval: the command failed with exit status 3'
	fake_stop
	assert_equal "$(fake_commands)" ''
}

@test "B16: passwordeval printing an empty line is 78" {
	fake_start 'capabilities AUTH PLAIN'
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npasswordeval echo")
	CARRIER_PASSWORD=$PASS send --config "$conf"
	assert_failure 78
	assert_regex "$stderr" '^carrier: passwordeval: no password from the command'
	fake_stop
	refute_sent 'AUTH'
}

@test "B16: an empty password: an empty config password is unset (as in msmtp), an empty netrc one is sent" {
	# msmtp's conf.c: an empty `password` argument means no password, so
	# the next source is asked (SPEC 6: an msmtprc works unchanged).
	fake_start 'capabilities AUTH PLAIN'
	local conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npassword \"\"")
	CARRIER_PASSWORD=next-source send --config "$conf" -v
	assert_success
	assert_regex "$stderr" 'password from CARRIER_PASSWORD'
	fake_wait
	fake_assert_sent "AUTH PLAIN $(b64 '\0%s\0next-source' "$USER_NAME")"
	# An empty password that a source does give is used as it is: PLAIN
	# \0alice\0, LOGIN an empty line (RFC 4954: empty continuation).
	printf 'machine 127.0.0.1 login %s password ""\n' "$USER_NAME" >"$HOME/netrc"
	chmod 600 "$HOME/netrc"
	fake_start 'capabilities AUTH PLAIN'
	NETRC=$HOME/netrc send --user "$USER_NAME"
	assert_success
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0' "$USER_NAME")
		$DELIVERED
	EOF
	fake_start 'capabilities AUTH LOGIN'
	NETRC=$HOME/netrc send --user "$USER_NAME"
	assert_success
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH LOGIN $(b64 %s "$USER_NAME")

		$DELIVERED
	EOF
}

@test "B16: a non-ASCII password: its UTF-8 bytes in PLAIN, and SCRAM succeeds" {
	local pw='pässwörd-ß'
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $pw
	EOF
	CARRIER_PASSWORD=$pw send --user "$USER_NAME"
	assert_success
	fake_wait
	fake_assert_sent "AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$pw")"
	fake_start <<-EOF
		capabilities AUTH SCRAM-SHA-256
		auth-secret $USER_NAME $pw
	EOF
	CARRIER_PASSWORD=$pw send --user "$USER_NAME"
	assert_success
	fake_wait
}

@test "source: netrc via \$NETRC (mode 600), machine = host" {
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	printf 'machine 127.0.0.1 login %s password %s\n' "$USER_NAME" "$PASS" >"$HOME/netrc"
	chmod 600 "$HOME/netrc"
	NETRC=$HOME/netrc CARRIER_PASSWORD=not-this-one send --user "$USER_NAME" -v
	assert_success
	assert_regex "$stderr" 'password from netrc'
	fake_wait
	fake_assert_sent "AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")"
}

@test "source: ~/.netrc when NETRC is unset" {
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	printf 'machine other.test login %s password wrong\nmachine 127.0.0.1\n  login %s\n  password %s\n' \
		"$USER_NAME" "$USER_NAME" "$PASS" >"$HOME/.netrc"
	chmod 600 "$HOME/.netrc"
	send --user "$USER_NAME"
	assert_success
	fake_wait
	fake_assert_sent "AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")"
}

@test "source: netrc login mismatch: the entry is not used (78 without another source)" {
	fake_start 'capabilities AUTH PLAIN'
	printf 'machine 127.0.0.1 login alice password %s\n' "$PASS" >"$HOME/netrc"
	chmod 600 "$HOME/netrc"
	NETRC=$HOME/netrc send --user bob
	assert_failure 78
	assert_regex "$stderr" '^carrier: password: none found for bob at 127.0.0.1'
	refute_regex "$stderr" "$PASS"
	fake_stop
	refute_sent 'AUTH'
}

@test "source: netrc login mismatch falls through to CARRIER_PASSWORD" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN
		auth-secret bob bobs-pass
	EOF
	printf 'machine 127.0.0.1 login alice password %s\n' "$PASS" >"$HOME/netrc"
	chmod 600 "$HOME/netrc"
	NETRC=$HOME/netrc CARRIER_PASSWORD=bobs-pass send --user bob
	assert_success
	fake_wait
	fake_assert_sent "AUTH PLAIN $(b64 '\0bob\0bobs-pass')"
}

@test "source: a netrc with a password readable by others is 78" {
	fake_start 'capabilities AUTH PLAIN'
	printf 'machine 127.0.0.1 login %s password %s\n' "$USER_NAME" "$PASS" >"$HOME/netrc"
	chmod 644 "$HOME/netrc"
	NETRC=$HOME/netrc CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 78
	assert_regex "$stderr" "^carrier: $HOME/netrc: accessible by others; .*chmod 600"
	fake_stop
	refute_sent 'AUTH'
}

@test "source: no terminal and no source: 78, no AUTH" {
	fake_start 'capabilities AUTH PLAIN'
	send --user "$USER_NAME"
	assert_failure 78
	assert_equal "$stderr" 'carrier: password: none found for alice at 127.0.0.1: set password or passwordeval in the account, add the host to ~/.netrc, set CARRIER_PASSWORD, or run from a terminal'
	fake_stop
	refute_sent 'AUTH'
}

@test "source: the prompt on a pseudo-terminal; the password is not echoed" {
	command -v expect >/dev/null || skip "expect is not installed (make deps)"
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	export PASS USER_NAME MSG
	run --separate-stderr expect -c '
		set timeout 10
		spawn -noecho $env(CARRIER) --host 127.0.0.1 --port $env(FAKE_PORT) \
			--timeout 5 --helo client.test --user $env(USER_NAME) \
			--message-file $env(MSG) -f a@x.test b@x.test
		expect {
			"Password for alice" {}
			timeout { puts "NO PROMPT"; exit 101 }
			eof { puts "EOF BEFORE PROMPT"; exit 102 }
		}
		send -- "$env(PASS)\r"
		expect {
			eof {}
			timeout { puts "NO EXIT"; exit 103 }
		}
		lassign [wait] pid spawnid oserr value
		exit $value'
	assert_success
	assert_output --partial 'Password for alice'
	refute_output --partial "$PASS"
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		$DELIVERED
	EOF
}

# --------------------------------------------------------------------------
# I10: secrets are never shown (-vv, --report=json, --log)

# assert_no_secret PASSWORD: neither stdout, stderr nor the log (if any)
# holds PASSWORD, its base64, the PLAIN string's base64, or any AUTH
# payload the server received (the initial response and every line after
# AUTH but * and empty lines); the transcript shows <redacted> instead.
assert_no_secret() {
	local pw=$1 all p
	all=$output$'\n'$stderr
	[[ -f $HOME/carrier.log ]] && all+=$'\n'$(cat "$HOME/carrier.log")
	local -a bad=("$pw" "$(b64 %s "$pw")" "$(b64 '\0%s\0%s' "$USER_NAME" "$pw")")
	# The password's base64 at each of the 3 alignments inside a longer
	# string (PLAIN, XOAUTH2, ...): the quads that hold only its bytes.
	local k e
	for k in 0 1 2; do
		e=$(printf '%*s%s' "$k" '' "$pw" | base64 -w0)
		((k == 0)) || e=${e:4}
		bad+=("${e:0:${#e}-4}")
	done
	while IFS= read -r p; do
		[[ -n $p && $p != '*' ]] && bad+=("$p")
	done < <(awk '/^AUTH [^ ]+ / { print $3; a = 1; next }
		/^AUTH / { a = 1; next }
		a && /^(MAIL|RCPT|DATA|QUIT|RSET|EHLO|HELO|NOOP|STARTTLS)( |$)/ { a = 0 }
		a { print }' "$FAKE_DIR/commands")
	for p in "${bad[@]}"; do
		if [[ $all == *"$p"* ]]; then
			echo "secret material shown: $p" >&2
			return 1
		fi
	done
	assert_regex "$stderr" '<redacted>'
}

@test "I10: -vv and --report=json never show a secret, for every mechanism" {
	local mech ir
	for mech in PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256; do
		for ir in --auth=on --no-initial-response; do
			fake_start <<-EOF
				capabilities AUTH $mech
				auth-secret $USER_NAME $PASS
			EOF
			rm -f "$HOME/carrier.log"
			CARRIER_PASSWORD=$PASS send --user "$USER_NAME" -vv --report=json \
				--log "$HOME/carrier.log" "$ir"
			assert_equal "$mech $ir:$status" "$mech $ir:0"
			assert_regex "$stderr" "> AUTH $mech"
			assert_output --partial '"exit":0'
			[[ -s $HOME/carrier.log ]]
			fake_wait
			assert_no_secret "$PASS"
		done
	done
}

@test "I10: the -v transcript shows AUTH PLAIN <redacted> and <redacted> continuation lines" {
	fake_start <<-EOF
		capabilities AUTH PLAIN LOGIN
		auth-secret $USER_NAME $PASS
		auth PLAIN 534 5.7.9 no
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" -v
	assert_success
	assert_regex "$stderr" $'(^|\n)> AUTH PLAIN <redacted>(\n|$)'
	assert_regex "$stderr" $'(^|\n)> AUTH LOGIN <redacted>(\n|$)'
	assert_regex "$stderr" $'(^|\n)> <redacted>(\n|$)'
	fake_wait
}

@test "I10: OAuth tokens are never shown (XOAUTH2, OAUTHBEARER)" {
	local mech conf
	conf=$(config "account default\nhost 127.0.0.1\nuser $USER_NAME\npasswordeval echo ya29.tok3n-Value")
	for mech in XOAUTH2 OAUTHBEARER; do
		fake_start <<-EOF
			capabilities AUTH $mech
			auth-secret $USER_NAME ya29.tok3n-Value
		EOF
		send --config "$conf" --auth "$mech" -vv --report=json
		assert_equal "$mech:$status" "$mech:0"
		fake_wait
		assert_no_secret ya29.tok3n-Value
	done
}

@test "I10: a failed AUTH with --report=json and -vv shows no secret either" {
	fake_start <<-'EOF'
		capabilities AUTH PLAIN LOGIN
		auth 535 5.7.8 Error: authentication failed
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" -vv --report=json --log "$HOME/carrier.log"
	assert_failure 77
	assert_output --partial '"exit"'
	fake_wait
	assert_no_secret "$PASS"
}

# --------------------------------------------------------------------------
# T21: never AUTH in clear over a non-local connection

# relay_start: the fake server just started, moved to a test host of our
# own (a network namespace, tests/lib/common.bash testhost_up), so that
# carrier sees a non-loopback peer; sets TARGET_HOST and TARGET_PORT.
relay_start() {
	local scenario=$BATS_TEST_TMPDIR/relay.scenario
	cp "$FAKE_DIR/scenario" "$scenario"
	fake_stop
	testhost_up
	fake_start --netns "$TESTHOST_NS" --listen "$TESTHOST_ADDR" < "$scenario"
	TARGET_HOST=$TESTHOST_ADDR
	TARGET_PORT=$FAKE_PORT
}

@test "T21: credentials are refused over clear TCP to a non-local peer (78), nothing leaks" {
	fake_start 'capabilities AUTH PLAIN LOGIN'
	relay_start
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_failure 78
	assert_equal "$stderr" 'carrier: AUTH: refusing to send credentials over an unencrypted connection; use --starttls or --tls-on-connect (or --allow-plaintext-auth)'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		QUIT
	EOF
	refute grep -qF "$(b64 '\0%s\0%s' "$USER_NAME" "$PASS")" "$FAKE_DIR/wire"
}

@test "T21: --starttls=optional and no STARTTLS offered: still no AUTH in clear (78)" {
	fake_start 'capabilities AUTH PLAIN LOGIN'
	relay_start
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --starttls=optional
	assert_failure 78
	assert_regex "$stderr" '^carrier: AUTH: refusing to send credentials over an unencrypted connection'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		QUIT
	EOF
}

@test "T21: --allow-plaintext-auth permits AUTH in clear to a non-local peer" {
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	relay_start
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --allow-plaintext-auth
	assert_success
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		$DELIVERED
	EOF
}

@test "T21: over STARTTLS to a non-local peer AUTH is sent (after TLS only)" {
	need_certs
	fake_start <<-EOF
		tls-cert server.pem
		capabilities PIPELINING
		capabilities-tls AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	relay_start
	# The certificate names 127.0.0.1, not the relay's address: pin it.
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --starttls \
		--tls-fingerprint "$(<"$CERTS/server.sha256")"
	assert_success
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		STARTTLS
		EHLO client.test
		AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")
		$DELIVERED
	EOF
	# Nothing of the credentials in the clear bytes.
	refute grep -qF "$(b64 '\0%s\0%s' "$USER_NAME" "$PASS")" "$FAKE_DIR/wire"
	refute grep -qF 'AUTH' "$FAKE_DIR/wire"
}

@test "config allow_plaintext_auth on has the same effect as the option" {
	fake_start <<-EOF
		capabilities AUTH PLAIN
		auth-secret $USER_NAME $PASS
	EOF
	relay_start
	local conf
	conf=$(config "account default\nhost $TARGET_HOST\nuser $USER_NAME\npassword $PASS\nallow_plaintext_auth on")
	auth_run --config "$conf" -f a@x.test b@x.test <"$MSG"
	assert_success
	fake_wait
	fake_assert_sent "AUTH PLAIN $(b64 '\0%s\0%s' "$USER_NAME" "$PASS")"
}

# --- SCRAM with channel binding (RFC 5802, RFC 5929, RFC 9266) ----------
# The fake computes the binding on its own side of the TLS connection:
# tls-unique under TLS 1.2, tls-exporter under TLS 1.3.

# scram_plus_start [DIRECTIVES...]: a STARTTLS server offering both SCRAM
# families after TLS, with the extra scenario lines given.
scram_plus_start() {
	need_certs
	fake_start <<-EOF
		tls-cert server.pem
		capabilities-tls AUTH SCRAM-SHA-256 SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS
		auth-secret $USER_NAME $PASS
		$(printf '%s\n' "$@")
	EOF
}

# assert_scram_plus MECH CBTYPE: the client-first and client-final lines
# name the binding type; c= carries more than the gs2 header.
assert_scram_plus() {
	local -a c
	mapfile -t c < <(fake_commands)
	assert_regex "${c[3]}" "^AUTH $1 [A-Za-z0-9+/]+=*\$"
	assert_regex "$(unb64 "${c[3]#AUTH "$1" }")" "^p=$2,,n=alice,r=[^,]{16,}\$"
	# "p=TYPE,," and at least 12 octets of binding
	assert_regex "$(unb64 "${c[4]}")" '^c=[A-Za-z0-9+/]{32,}=*,r=[^,]+,p='
	assert_equal "${c[5]}" ''
}

@test "SCRAM-SHA-256-PLUS is preferred over TLS 1.3, bound with tls-exporter: 0" {
	scram_plus_start
	CARRIER_PASSWORD=$PASS send --starttls --tls-ca "$CERTS/ca.pem" --user "$USER_NAME"
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	assert_scram_plus SCRAM-SHA-256-PLUS tls-exporter
	run fake_transcript
	assert_line --partial 'tls started: TLSv1.3'
	assert_line 'S: 235 2.7.0 Authentication successful'
}

@test "SCRAM-SHA-256-PLUS over TLS 1.2 is bound with tls-unique: 0" {
	scram_plus_start 'tls-protocols 1.2 1.2'
	CARRIER_PASSWORD=$PASS send --starttls --tls-ca "$CERTS/ca.pem" --user "$USER_NAME"
	assert_success
	assert_equal "$stderr" ''
	fake_wait
	assert_scram_plus SCRAM-SHA-256-PLUS tls-unique
}

@test "SCRAM-SHA-1-PLUS when named, over TLS 1.2 and TLS 1.3: 0" {
	local v t
	for v in 1.2 1.3; do
		scram_plus_start "tls-protocols $v $v"
		CARRIER_PASSWORD=$PASS send --starttls --tls-ca "$CERTS/ca.pem" \
			--user "$USER_NAME" --auth scram-sha-1-plus
		assert_success
		assert_equal "$stderr" ''
		fake_wait
		t=tls-exporter; [[ $v == 1.2 ]] && t=tls-unique
		assert_scram_plus SCRAM-SHA-1-PLUS $t
		# a 20-octet proof
		assert_regex "$(unb64 "$(fake_commands | sed -n 5p)")" ',p=[A-Za-z0-9+/]{27}=$'
		fake_teardown
	done
}

@test "SCRAM-PLUS: a server whose binding differs answers e=channel-bindings-dont-match: 77" {
	scram_plus_start 'scram-binding wrong'
	CARRIER_PASSWORD=$PASS send --starttls --tls-ca "$CERTS/ca.pem" --user "$USER_NAME"
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH: bad challenge from the server: SCRAM-SHA-256-PLUS: server reported error: channel-bindings-dont-match'
	fake_wait
	local -a c
	mapfile -t c < <(fake_commands)
	assert_equal "${c[5]}" '*'
	assert_equal "${c[6]}" 'QUIT'
	refute_output
}

@test "SCRAM-PLUS: a server that signs another channel's binding is not believed: 77, no mail" {
	scram_plus_start 'scram-binding wrong-signed'
	CARRIER_PASSWORD=$PASS send --starttls --tls-ca "$CERTS/ca.pem" --user "$USER_NAME"
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH: bad challenge from the server: SCRAM-SHA-256-PLUS: the server'"'"'s signature is wrong: the server does not know the password or is not at the other end of this TLS channel'
	fake_wait
	run fake_commands
	refute_line --partial 'MAIL FROM'
}

@test "SCRAM-PLUS is not tried in clear; plain SCRAM says n when nothing binds: 0" {
	fake_start <<-EOF
		capabilities AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME"
	assert_success
	fake_wait
	local -a c
	mapfile -t c < <(fake_commands)
	assert_regex "$(unb64 "${c[1]#AUTH SCRAM-SHA-256 }")" '^n,,n=alice,'
}

@test "SCRAM-PLUS named but the connection has no TLS: 77" {
	fake_start <<-EOF
		capabilities AUTH SCRAM-SHA-256-PLUS
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --user "$USER_NAME" --auth SCRAM-SHA-256-PLUS
	assert_failure 77
	assert_equal "$stderr" 'carrier: AUTH: SCRAM-SHA-256-PLUS needs a TLS channel binding, and this connection has none'
	fake_wait
	fake_assert_commands <<-EOF
		EHLO client.test
		QUIT
	EOF
}

@test "plain SCRAM over TLS when the server offers no -PLUS: flag y (RFC 5802 6): 0" {
	need_certs
	fake_start <<-EOF
		tls-cert server.pem
		capabilities-tls AUTH SCRAM-SHA-256
		auth-secret $USER_NAME $PASS
	EOF
	CARRIER_PASSWORD=$PASS send --starttls --tls-ca "$CERTS/ca.pem" --user "$USER_NAME"
	assert_success
	fake_wait
	local -a c
	mapfile -t c < <(fake_commands)
	assert_regex "$(unb64 "${c[3]#AUTH SCRAM-SHA-256 }")" '^y,,n=alice,'
	assert_equal "$(unb64 "${c[4]}" | cut -d, -f1)" 'c=eSws'
}

@test "plain SCRAM named while the server offers -PLUS: flag n, not y: 0" {
	scram_plus_start
	CARRIER_PASSWORD=$PASS send --starttls --tls-ca "$CERTS/ca.pem" --user "$USER_NAME" --auth scram-sha-256
	assert_success
	fake_wait
	local -a c
	mapfile -t c < <(fake_commands)
	assert_regex "$(unb64 "${c[3]#AUTH SCRAM-SHA-256 }")" '^n,,n=alice,'
}
