#!/usr/bin/env bats
# Happy Eyeballs (RFC 8305): a host name with several addresses, some of
# which swallow every packet, in a network namespace of the test's own.
# carrier must not spend its whole --timeout on a dead address: the next
# attempt starts 250 ms later, families alternate, the first connection
# to complete wins.

load lib/common
load lib/core

# he_up: a namespace with loopback and a veth pair; the addresses given
# to he_blackhole are reached through a neighbour entry with a MAC nobody
# has, so their packets vanish (the SYN is never answered, no error comes
# back).  IPv4 192.0.2.1 and IPv6 2001:db8:1::1 are on the veth, so that
# AI_ADDRCONFIG keeps both families.
he_up() {
	HE_NS=carrier-he-$$-$BATS_TEST_NUMBER
	if ! { ip netns add "$HE_NS" &&
		ip -n "$HE_NS" link set lo up &&
		ip -n "$HE_NS" link add he0 type veth peer name he1 &&
		ip -n "$HE_NS" link set he0 up &&
		ip -n "$HE_NS" link set he1 up &&
		ip -n "$HE_NS" addr add 2001:db8:1::1/64 dev he0 nodad &&
		ip -n "$HE_NS" addr add 192.0.2.1/24 dev he0; } 2>/dev/null ||
		! unshare -m true 2>/dev/null; then
		he_down
		skip "cannot make a network or mount namespace here"
	fi
	HE_HOSTS=$BATS_TEST_TMPDIR/hosts
	: >"$HE_HOSTS"
}

# he_blackhole ADDR...: packets to ADDR go nowhere.
he_blackhole() {
	local a
	for a in "$@"; do
		ip -n "$HE_NS" neigh add "$a" lladdr 02:00:00:00:00:01 dev he0 \
			nud permanent || fail "neighbour entry for $a"
	done
}

# he_name NAME ADDR...: NAME resolves to the ADDRs (hosts file order).
he_name() {
	local name=$1 a
	shift
	for a in "$@"; do printf '%s %s\n' "$a" "$name" >>"$HE_HOSTS"; done
}

he_down() {
	[[ -n ${HE_NS:-} ]] && ip netns del "$HE_NS" 2>/dev/null
	HE_NS=
}

teardown() {
	fake_teardown
	he_down
}

# he_run ARGS...: carrier in the namespace, $HE_HOSTS as /etc/hosts, with
# -v (the "connecting to" lines), stdout and stderr apart.
he_run() {
	run --separate-stderr ip netns exec "$HE_NS" unshare -m sh -c \
		'mount --bind "$0" /etc/hosts && exec "$@"' "$HE_HOSTS" \
		"$CARRIER" --helo client.test -v "$@" <"$(test_message)"
}

# attempts: the addresses carrier started to connect to, in order.
attempts() {
	sed -n 's/^\* connecting to //p' <<<"$stderr"
}

@test "an IPv6 address that swallows the SYN costs the IPv4 one 250 ms, not the timeout" {
	he_up
	he_blackhole 2001:db8:1::2
	he_name relay.test 2001:db8:1::2 127.0.0.1
	fake_start --netns "$HE_NS" --listen 127.0.0.1 ''
	timer_start
	he_run --host relay.test --port "$FAKE_PORT" --timeout 5 -f a@x.test b@x.test
	assert_elapsed_below 2500
	assert_status 0
	fake_wait
	run attempts
	assert_output "$(printf '[2001:db8:1::2]:%s\n127.0.0.1:%s' "$FAKE_PORT" "$FAKE_PORT")"
}

@test "every address dead: each started within the timeout, IPv6 and IPv4 in turn, then 75 at the deadline" {
	local port
	he_up
	he_blackhole 2001:db8:1::2 2001:db8:1::3 192.0.2.9 192.0.2.10
	he_name relay.test 2001:db8:1::2 2001:db8:1::3 192.0.2.9 192.0.2.10
	port=$(closed_port)
	timer_start
	he_run --host relay.test --port "$port" --timeout 2 -f a@x.test b@x.test
	assert_elapsed_below 4000
	assert_status 75
	assert_equal "$(grep -v '^\*' <<<"$stderr")" "carrier: connect: relay.test port $port: timed out"
	# The order within a family is the resolver's (RFC 6724); the
	# families take turns, IPv6 first.
	run attempts
	[[ ${#lines[@]} -eq 4 ]] || fail "attempts: $output"
	[[ ${lines[0]} == '[2001:db8:1::'* && ${lines[1]} == 192.0.2.* &&
		${lines[2]} == '[2001:db8:1::'* && ${lines[3]} == 192.0.2.* ]] ||
		fail "families do not alternate: $output"
	[[ $(printf '%s\n' "${lines[@]}" | sort -u | wc -l) -eq 4 ]] ||
		fail "an address tried twice: $output"
}

@test "-4 and -6 still restrict the candidates" {
	he_up
	he_blackhole 2001:db8:1::2
	he_name relay.test 2001:db8:1::2 127.0.0.1
	fake_start --netns "$HE_NS" --listen 127.0.0.1 ''
	he_run -4 --host relay.test --port "$FAKE_PORT" --timeout 5 -f a@x.test b@x.test
	assert_status 0
	fake_wait
	run attempts
	assert_output "127.0.0.1:$FAKE_PORT"
	he_run -6 --host relay.test --port "$FAKE_PORT" --timeout 1 -f a@x.test b@x.test
	assert_status 75
	run attempts
	assert_output "[2001:db8:1::2]:$FAKE_PORT"
}
