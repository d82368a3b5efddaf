#!/usr/bin/env bats
# real-oauth2.bats: OAuth2 end to end with real servers.  carrier logs in
# (--oauth2-login, device grant) against the local token service
# (tests/oauth2server.py over HTTPS with the test CA), then sends through
# the private Postfix (tests/lib/realmta.bash), whose SASL is a private
# Dovecot with an oauth2 passdb that asks the token service's introspection
# endpoint (RFC 7662) about each bearer token.  Loopback only.

load lib/common
load lib/realmta

setup_file() {
	need_certs
	export HOME=$BATS_FILE_TMPDIR/home
	export XDG_CONFIG_HOME=$BATS_FILE_TMPDIR/xdg
	export XDG_STATE_HOME=$BATS_FILE_TMPDIR/state
	mkdir -p "$HOME" "$XDG_CONFIG_HOME/carrier" "$XDG_STATE_HOME"
	unset CARRIER_PASSWORD NETRC
	export TOKEN_DIR=$BATS_FILE_TMPDIR/provider
	mkdir -p "$TOKEN_DIR"
	printf '%s\n' 'introspect-user alice' 'poll ok' >"$TOKEN_DIR/scenario"
	"$PYTHON" "$REPO/tests/oauth2server.py" --dir "$TOKEN_DIR" \
		--cert "$CERTS/server.pem" --key "$CERTS/server-key.pem" \
		--scenario "$TOKEN_DIR/scenario" --max-time 600 \
		</dev/null >"$TOKEN_DIR/stdout" 2>"$TOKEN_DIR/stderr" 3>&- &
	echo $! >"$TOKEN_DIR/pid"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s $TOKEN_DIR/port ]] && break
		sleep 0.05
	done
	[[ -s $TOKEN_DIR/port ]] || { cat "$TOKEN_DIR/stderr" >&2; return 1; }
	export TOKEN_URL=https://127.0.0.1:$(<"$TOKEN_DIR/port")
	# One CA for the token service and Postfix: carrier trusts the same
	# store for both.
	printf '#!/bin/sh\ncp %q/*.pem "$1"/\n' "$CERTS" >"$BATS_FILE_TMPDIR/mkcerts"
	chmod +x "$BATS_FILE_TMPDIR/mkcerts"
	REALMTA_MKCERTS=$BATS_FILE_TMPDIR/mkcerts \
	REALMTA_OAUTH2_INTROSPECT=$TOKEN_URL/introspect REALMTA_OAUTH2_CA=$CERTS/ca.pem \
		realmta_start "$BATS_FILE_TMPDIR" || return 1
}

teardown_file() {
	realmta_stop "$BATS_FILE_TMPDIR"
	[[ -s $TOKEN_DIR/pid ]] && kill "$(<"$TOKEN_DIR/pid")" 2>/dev/null
	true
}

setup() {
	realmta_clear
	MSG=$(test_message)
}

# configure MECH: the account "work": the submission port with STARTTLS,
# alice, MECH, the token service.
configure() {
	local f=$XDG_CONFIG_HOME/carrier/config
	printf '%s\n' "account work" "host $REAL_TLS_NAME" "port $REAL_SUBMISSION_PORT" \
		"tls on" "tls_starttls on" "tls_trust_file $REAL_CA" \
		"user $REAL_USER" "auth $1" "from $REAL_ADDR" \
		"oauth2_provider custom" "oauth2_client_id carrier-test" \
		"oauth2_token_endpoint $TOKEN_URL/token" \
		"oauth2_device_endpoint $TOKEN_URL/device" \
		"oauth2_scope mail offline" >"$f"
	chmod 600 "$f"
}

@test "real OAuth2: --oauth2-login, then XOAUTH2 and OAUTHBEARER through Postfix + Dovecot's oauth2 passdb: 0" {
	[[ $REAL_SASL_MECHS == *XOAUTH2* ]]
	configure xoauth2
	run --separate-stderr setsid -w "$CARRIER" --account work --oauth2-login
	assert_success
	assert_line --partial 'carrier: account work is logged in'
	local mech n=0
	for mech in xoauth2 oauthbearer; do
		configure $mech
		run --separate-stderr setsid -w "$CARRIER" --account work --timeout 20 \
			--helo client.test "$REAL_ADDR" <"$MSG"
		assert_success
		assert_equal "$stderr" ''
		realmta_wait_delivery alice $((++n))
	done
	run grep -c '^introspect active$' "$TOKEN_DIR/requests"
	assert_output 2
	# Dovecot checked the token, and nothing logged it.
	local tok
	tok=$(sed -n 's/^access //p' "$TOKEN_DIR/issued" | head -n 1)
	[[ -n $tok ]]
	run grep -F -c -- "$tok" "$REAL_DOVECOT_LOG" "$REAL_POSTFIX_LOG"
	refute_output --regexp ':[1-9]'
}

@test "real OAuth2: a token the service does not know: Dovecot refuses, one refresh, invalid_grant: 77" {
	configure xoauth2
	local f=$XDG_STATE_HOME/carrier/oauth2/work
	[[ -f $f ]] || skip "needs the login of the test before"
	"$PYTHON" - "$f" <<-'PY'
		import json, sys
		d = json.load(open(sys.argv[1])); d['access_token'] = 'ya29.unknown'
		d['refresh_token'] = '1//unknown'
		json.dump(d, open(sys.argv[1], 'w'))
	PY
	run --separate-stderr setsid -w "$CARRIER" --account work --timeout 20 \
		--helo client.test "$REAL_ADDR" <"$MSG"
	assert_failure 77
	assert_equal "$stderr" 'carrier: OAuth2: the provider refused the refresh token (invalid_grant: test: invalid_grant): run carrier --oauth2-login --account work'
	# Dovecot asked, the token was not active, carrier refreshed once
	assert_equal "$(tail -n 2 "$TOKEN_DIR/requests")" $'introspect inactive\nrefresh invalid_grant'
}
