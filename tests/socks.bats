#!/usr/bin/env bats
# SOCKS5 proxies (RFC 1928, RFC 1929): --proxy socks5://[user@]host:port
# and socks5h:// (the proxy resolves the server's name), msmtp's
# proxy_host/proxy_port.  A scripted proxy (tests/fakesocks.py) for every
# reply and fault; microsocks, a real SOCKS5 server from Debian, started
# privately on loopback.

load lib/common
load lib/core

FAKESOCKS=$REPO/tests/fakesocks.py

setup() {
	export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
	mkdir -p "$HOME"
	SOCKS_PIDS=()
}

teardown() {
	local p
	for p in "${SOCKS_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	fake_teardown
}

# socks_start ARGS...: the scripted proxy (fakesocks.py ARGS); sets
# SOCKS_DIR and SOCKS_PORT.
socks_start() {
	local i
	SOCKS_DIR=$(mktemp -d "$BATS_TEST_TMPDIR/socks.XXXXXX")
	"$PYTHON" "$FAKESOCKS" --dir "$SOCKS_DIR" "$@" \
		</dev/null >"$SOCKS_DIR/log" 2>&1 3>&- &
	SOCKS_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		[[ -s $SOCKS_DIR/port ]] && break
		sleep 0.05
	done
	SOCKS_PORT=$(<"$SOCKS_DIR/port")
}

# requests: what the proxy was asked, one line each.
requests() { cat "$SOCKS_DIR/requests"; }

# send_via URL ARGS...: carrier through the proxy at URL; ARGS name the
# server (--host, --port).
send_via() {
	run --separate-stderr "$CARRIER" --helo client.test --timeout 5 \
		--proxy "$1" "${@:2}" -f a@x.test b@x.test <"$(test_message)"
}

@test "socks5://: the server's name resolved here, its address asked of the proxy; delivered" {
	fake_start ''
	socks_start
	send_via "socks5://127.0.0.1:$SOCKS_PORT" --host localhost --port "$FAKE_PORT"
	assert_status 0
	assert_equal "$stderr" ''
	fake_wait
	run requests
	assert_line 'methods 00'
	assert_line "connect 1 127.0.0.1 $FAKE_PORT"
}

@test "socks5h://: the proxy gets the name (ATYP 3) and resolves it" {
	fake_start ''
	socks_start --map mx.onion.test=127.0.0.1
	send_via "socks5h://127.0.0.1:$SOCKS_PORT" --host mx.onion.test --port "$FAKE_PORT"
	assert_status 0
	fake_wait
	run requests
	assert_line "connect 3 mx.onion.test $FAKE_PORT"
}

@test "a user in the URL: RFC 1929 login with the password from CARRIER_PROXY_PASSWORD, never argv" {
	fake_start ''
	socks_start --method userpass --user bob --password 's3cr3t pw' \
		--map localhost=127.0.0.1
	CARRIER_PROXY_PASSWORD='s3cr3t pw' send_via "socks5h://bob@127.0.0.1:$SOCKS_PORT" \
		--host localhost --port "$FAKE_PORT"
	assert_status 0
	fake_wait
	run requests
	assert_line 'methods 0002'
	assert_line 'login bob 9'
}

@test "the proxy refuses the login: 77; it accepts no method offered: 77" {
	socks_start --method userpass --user bob --password right
	CARRIER_PROXY_PASSWORD=wrong send_via "socks5://bob@127.0.0.1:$SOCKS_PORT" \
		--host 127.0.0.1 --port 25
	assert_status 77
	assert_stderr_line '^carrier: SOCKS proxy: the user name and password were refused$'
	socks_start --method reject
	send_via "socks5://127.0.0.1:$SOCKS_PORT" --host 127.0.0.1 --port 25
	assert_status 77
	assert_stderr_line '^carrier: SOCKS proxy: it accepts none of the methods offered'
}

@test "every SOCKS reply code: 75 for failure, unreachable, refused, TTL; 69 for the ruleset; 76 otherwise" {
	local rep want text
	while read -r rep want text; do
		socks_start --rep "$rep"
		send_via "socks5://127.0.0.1:$SOCKS_PORT" --host 127.0.0.1 --port 25
		assert_equal "$rep:$status" "$rep:$want"
		assert_stderr_line "^carrier: SOCKS proxy: connect to 127\\.0\\.0\\.1 port 25: $text\$"
	done <<-'EOF'
		1 75 general SOCKS server failure
		2 69 connection not allowed by ruleset
		3 75 network unreachable
		4 75 host unreachable
		5 75 connection refused
		6 75 TTL expired
		7 76 command not supported
		8 76 address type not supported
		99 76 unknown reply code
	EOF
}

@test "a proxy that does not speak SOCKS5, or answers malformed: 76; one that cannot be reached: 75" {
	socks_start --method garbage
	send_via "socks5://127.0.0.1:$SOCKS_PORT" --host 127.0.0.1 --port 25
	assert_status 76
	assert_stderr_line '^carrier: SOCKS proxy: the proxy does not speak SOCKS5$'
	socks_start --reply-hex 05000007
	send_via "socks5://127.0.0.1:$SOCKS_PORT" --host 127.0.0.1 --port 25
	assert_status 76
	assert_stderr_line '^carrier: SOCKS proxy: malformed reply from the proxy \(unknown address type\)$'
	local closed
	closed=$(closed_port)
	send_via "socks5://127.0.0.1:$closed" --host 127.0.0.1 --port 25
	assert_status 75
	assert_stderr_line "^carrier: SOCKS proxy connect: 127\\.0\\.0\\.1 port $closed: Connection refused\$"
}

@test "STARTTLS through the tunnel: SNI and the certificate check use the server's own name" {
	need_certs
	fake_start 'tls-cert server.pem'
	socks_start --map localhost=127.0.0.1
	send_via "socks5h://127.0.0.1:$SOCKS_PORT" --host localhost --port "$FAKE_PORT" \
		--starttls --tls-ca "$CERTS/ca.pem"
	assert_status 0
	fake_wait
	run fake_events
	assert_line --partial 'sni: localhost'
}

@test "through a proxy on loopback the server is not local: no AUTH in clear text" {
	fake_start 'capabilities +AUTH PLAIN'
	socks_start
	CARRIER_PASSWORD=pw send_via "socks5://127.0.0.1:$SOCKS_PORT" --host 127.0.0.1 \
		--port "$FAKE_PORT" --user u
	assert_status 78
	assert_stderr_line '^carrier: AUTH: refusing to send credentials over an unencrypted connection'
}

@test "msmtp's proxy_host and proxy_port in the account: the proxy resolves the name" {
	fake_start ''
	socks_start --map relay.test=127.0.0.1
	mkdir -p "$XDG_CONFIG_HOME/carrier"
	printf 'account default\nhost relay.test\nport %s\nproxy_host 127.0.0.1\nproxy_port %s\n' \
		"$FAKE_PORT" "$SOCKS_PORT" >"$XDG_CONFIG_HOME/carrier/config"
	chmod 600 "$XDG_CONFIG_HOME/carrier/config"
	run --separate-stderr "$CARRIER" --helo client.test -f a@x.test b@x.test \
		<"$(test_message)"
	assert_status 0
	fake_wait
	run requests
	assert_line "connect 3 relay.test $FAKE_PORT"
}

@test "microsocks (a real SOCKS5 server), with and without a user: delivered" {
	command -v microsocks >/dev/null || skip 'microsocks is not installed'
	local port
	fake_start --max-time 20 $'connections 2'
	port=$(closed_port)
	microsocks -i 127.0.0.1 -p "$port" >/dev/null 2>&1 3>&- &
	SOCKS_PIDS+=($!)
	sleep 0.3
	send_via "socks5h://127.0.0.1:$port" --host localhost --port "$FAKE_PORT"
	assert_status 0
	local port2
	port2=$(closed_port)
	microsocks -i 127.0.0.1 -p "$port2" -u bob -P 'pw of bob' >/dev/null 2>&1 3>&- &
	SOCKS_PIDS+=($!)
	sleep 0.3
	CARRIER_PROXY_PASSWORD='pw of bob' send_via "socks5://bob@127.0.0.1:$port2" \
		--host 127.0.0.1 --port "$FAKE_PORT"
	assert_status 0
	fake_wait
	CARRIER_PROXY_PASSWORD=wrong send_via "socks5://bob@127.0.0.1:$port2" \
		--host 127.0.0.1 --port "$FAKE_PORT"
	assert_status 77
}
