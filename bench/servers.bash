# shellcheck shell=bash
# bench/servers.bash: the benchmark's own loopback servers (sourced by
# bench/run; independent of the test suite's tests/lib/realmta.bash).
#
#   bench_servers_start WORKDIR   starts everything, sets the BENCH_* variables
#   bench_servers_stop  WORKDIR   stops what was started (by pid), idempotent
#
# Servers, all on 127.0.0.1 only:
#   BENCH_SINK_PORT   Postfix smtp-sink: PIPELINING, no CHUNKING (smtp-sink
#                     has no BDAT at all), no AUTH/XCLIENT/XFORWARD.
#   BENCH_SMTP_PORT   private Postfix smtpd, plain: PIPELINING and CHUNKING.
#   BENCH_SUB_PORT    the same smtpd with STARTTLS required and AUTH PLAIN
#                     (SASL by a private Dovecot auth service).
#   BENCH_SMTPS_PORT  the same smtpd with TLS from the first byte (wrapper
#                     mode) and AUTH PLAIN.
# Postfix accepts any user at example.test (plain port: from loopback;
# submission/smtps: after AUTH) and hands every message to discard(8).  It
# never relays: relay_domains is empty, every transport is discard: and there
# is no smtp client in master.cf.  Nothing touches /etc/postfix or
# /etc/dovecot, and nothing listens on anything but 127.0.0.1.
#
# The private Postfix and Dovecot live under a mktemp directory in /tmp (mode
# 0755: both drop privileges and must reach their sockets; /tmp also keeps
# Unix socket paths short); WORKDIR/mta is a symlink to it.

BENCH_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO=$(cd "$BENCH_LIBDIR/.." && pwd)
BENCH_SMTP_SINK=
BENCH_USER=alice
BENCH_PASS='alice-bench-secret'
BENCH_DOMAIN=example.test

_bench_log() { printf 'bench: %s\n' "$*" >&2; }

_bench_port_free() {
	[[ -z $(ss -Hltn "( sport = :$1 )" 2>/dev/null) ]]
}

# _bench_pick_ports N: N distinct free TCP ports in 30000-45000.
_bench_pick_ports() {
	local n=$1 got=() p i tries=0
	while ((${#got[@]} < n)); do
		((tries++ < 1000)) || { _bench_log "no free port"; return 1; }
		p=$((30000 + (RANDOM * 32768 + RANDOM) % 15001))
		for i in "${got[@]}"; do [[ $i == "$p" ]] && continue 2; done
		_bench_port_free "$p" || continue
		got+=("$p")
	done
	echo "${got[@]}"
}

_bench_wait_listen() { # PORT [TIMEOUT]
	local deadline=$((SECONDS + ${2:-10}))
	while _bench_port_free "$1"; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

_bench_wait_socket() { # PATH [TIMEOUT]
	local deadline=$((SECONDS + ${2:-10}))
	until [[ -S $1 ]]; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

_bench_wait_gone() { # PID [TIMEOUT]
	local deadline=$((SECONDS + ${2:-10}))
	while kill -0 "$1" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

bench_find_smtp_sink() {
	local p
	for p in /usr/sbin/smtp-sink /usr/lib/postfix/sbin/smtp-sink \
	    /usr/libexec/postfix/smtp-sink; do
		[[ -x $p ]] && { BENCH_SMTP_SINK=$p; return 0; }
	done
	p=$(command -v smtp-sink) && { BENCH_SMTP_SINK=$p; return 0; }
	return 1
}

_bench_write_dovecot_conf() {
	local w=$1
	printf '%s:{PLAIN}%s::::::\n' "$BENCH_USER" "$BENCH_PASS" >"$w/dovecot/users"
	chmod 0644 "$w/dovecot/users"
	cat >"$w/dovecot/dovecot.conf" <<EOF
# Private Dovecot for carrier's benchmark: SASL for Postfix only.
base_dir = $w/dovecot/run
state_dir = $w/dovecot/state
instance_name = bench-$(basename "$w")
log_path = $w/dovecot.log
info_log_path = $w/dovecot.log
protocols = none
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $w/dovecot/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$w/dovecot/home
}
service auth {
  unix_listener $w/spool/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
}

_bench_write_postfix_conf() {
	local w=$1 smtp=$2 sub=$3 smtps=$4
	cat >"$w/etc/main.cf" <<EOF
# Private Postfix for carrier's benchmark (bench/servers.bash).
# Loopback only; accepts mail for $BENCH_DOMAIN and discards it; never relays.
compatibility_level = 3.6
queue_directory = $w/spool
data_directory = $w/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.$BENCH_DOMAIN
mydomain = $BENCH_DOMAIN
myorigin = \$mydomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks_style = host
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP carrier-bench
biff = no
maillog_file = $w/postfix.log
maillog_file_prefixes = $w
# Everything for $BENCH_DOMAIN is accepted and discarded; nothing else is.
mydestination = $BENCH_DOMAIN
local_recipient_maps =
alias_maps =
alias_database =
local_transport = discard:bench
relay_domains =
relayhost =
relay_transport = discard:bench
default_transport = discard:bench
virtual_transport = discard:bench
smtpd_relay_restrictions = reject_unauth_destination
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
in_flow_delay = 0
notify_classes =
message_size_limit = 0
mailbox_size_limit = 0
smtpd_tls_cert_file = $w/certs/server.pem
smtpd_tls_key_file = $w/certs/server-key.pem
smtpd_tls_security_level = none
smtpd_tls_loglevel = 0
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
bench_auth_recipient_restrictions = permit_sasl_authenticated,
  check_client_access static:{530 5.7.0 Authentication required}
EOF
	cat >"$w/etc/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$smtp inet n - n - - smtpd
  -o syslog_name=postfix/smtp
127.0.0.1:$sub inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=\$bench_auth_recipient_restrictions
127.0.0.1:$smtps inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=\$bench_auth_recipient_restrictions
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# bench_servers_start WORKDIR: start smtp-sink, Dovecot (auth) and Postfix.
bench_servers_start() {
	local dir=${1:?bench_servers_start WORKDIR} w ports sink smtp sub smtps p
	bench_find_smtp_sink || { _bench_log "smtp-sink not found (package postfix)"; return 1; }
	command -v dovecot >/dev/null && [[ -x /usr/sbin/postfix ]] || {
		_bench_log "postfix/dovecot missing (packages postfix, dovecot-core)"
		return 1
	}
	w=$(mktemp -d /tmp/carrier-bench-mta.XXXXXX) || return 1
	chmod 0755 "$w"
	ln -sfn "$w" "$dir/mta"
	mkdir -p "$w"/{etc,spool/private,data,certs,dovecot/run,dovecot/state,dovecot/home}
	chown postfix "$w/spool/private" "$w/data" && chmod 0700 "$w/spool/private" "$w/data"
	: >"$w/postfix.log"
	: >"$w/dovecot.log"

	"$BENCH_REPO/tests/lib/mkcerts" "$w/certs" >"$w/mkcerts.log" 2>&1 &&
	    [[ -s $w/certs/ca.pem && -s $w/certs/server.pem ]] || {
		_bench_log "tests/lib/mkcerts failed:"; cat "$w/mkcerts.log" >&2
		return 1
	}
	ports=$(_bench_pick_ports 4) || return 1
	read -r sink smtp sub smtps <<<"$ports"

	# smtp-sink: -a no AUTH, -C no XCLIENT, -F no XFORWARD; -u to drop root.
	"$BENCH_SMTP_SINK" -a -C -F -u nobody -t 30 "127.0.0.1:$sink" 64 \
	    >"$w/smtp-sink.log" 2>&1 &
	echo $! >"$w/smtp-sink.pid"

	_bench_write_dovecot_conf "$w"
	_bench_write_postfix_conf "$w" "$smtp" "$sub" "$smtps"
	if ! dovecot -c "$w/dovecot/dovecot.conf" >"$w/dovecot.start" 2>&1; then
		_bench_log "dovecot failed to start:"; cat "$w/dovecot.start" "$w/dovecot.log" >&2
		return 1
	fi
	_bench_wait_socket "$w/spool/private/auth" || {
		_bench_log "dovecot did not open its auth socket"; cat "$w/dovecot.log" >&2
		return 1
	}
	if ! postfix -c "$w/etc" start >"$w/postfix.start" 2>&1 ||
	    grep -E -q -i 'warning|fatal|error' "$w/postfix.start"; then
		_bench_log "postfix failed to start (or postfix check warned):"
		cat "$w/postfix.start" >&2
		return 1
	fi
	for p in "$sink" "$smtp" "$sub" "$smtps"; do
		_bench_wait_listen "$p" || {
			_bench_log "nothing listens on $p"; tail -n 20 "$w/postfix.log" "$w/smtp-sink.log" >&2
			return 1
		}
	done
	BENCH_MTA_DIR=$w
	BENCH_CA=$w/certs/ca.pem
	BENCH_SINK_PORT=$sink
	BENCH_SMTP_PORT=$smtp
	BENCH_SUB_PORT=$sub
	BENCH_SMTPS_PORT=$smtps
	export BENCH_MTA_DIR BENCH_CA BENCH_SINK_PORT BENCH_SMTP_PORT \
	    BENCH_SUB_PORT BENCH_SMTPS_PORT BENCH_USER BENCH_PASS BENCH_DOMAIN
}

# bench_servers_stop WORKDIR: stop smtp-sink, Postfix and Dovecot (by the
# pids they recorded) and remove their directory.  Safe to call twice.
bench_servers_stop() {
	local dir=${1:?bench_servers_stop WORKDIR} w pid pids=() i
	w=$(readlink "$dir/mta" 2>/dev/null) || return 0
	[[ $w == /tmp/carrier-bench-mta.* && -d $w ]] || { rm -f "$dir/mta"; return 0; }
	pid=$(cat "$w/smtp-sink.pid" 2>/dev/null)
	if [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == smtp-sink ]]; then
		kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
	fi
	for pid in "$(sed -n '1s/ //gp' "$w/spool/pid/master.pid" 2>/dev/null)" \
	    "$(sed -n 1p "$w/dovecot/run/master.pid" 2>/dev/null)"; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == @(master|dovecot) ]] || continue
		kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
	done
	for pid in "${pids[@]}"; do
		_bench_wait_gone "$pid" 10 || { _bench_log "$pid did not stop; killing it"; kill -KILL "$pid" 2>/dev/null; }
	done
	for i in 1 2 3 4 5 6 7 8 9 10; do
		rm -rf "$w" 2>/dev/null && break
		sleep 0.1
	done
	[[ ! -e $w ]] || _bench_log "could not remove $w"
	rm -f "$dir/mta"
}
