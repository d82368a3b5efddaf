# shellcheck shell=bash
# tests/lib/realmta.bash: private, loopback-only Postfix + Dovecot for tests.
#
#   load 'lib/realmta'            # from a tests/*.bats file
#   setup_file()    { realmta_start "$BATS_FILE_TMPDIR"; }
#   teardown_file() { realmta_stop  "$BATS_FILE_TMPDIR"; }
#
# Nothing here reads or writes /etc/postfix or /etc/dovecot, uses the system's
# ports or relays off the machine.  Both servers run from a private work
# directory created with mktemp under /tmp (mode 0755: Postfix and Dovecot
# drop privileges, and a mode-0700 bats temporary directory would lock them
# out of their own sockets and maildirs; /tmp also keeps Unix socket paths
# short).  DIR (the caller's directory) gets a symlink DIR/realmta to it, the
# file DIR/realmta.env with every REAL_* variable, and, after realmta_stop,
# copies of both servers' logs (DIR/realmta-postfix.log, -dovecot.log).
#
# Servers (all on 127.0.0.1, and on [::1] with the same port numbers when the
# machine has IPv6 loopback, REAL_HAVE_IPV6=1):
#   REAL_SMTP_PORT        Postfix smtpd, plain: no STARTTLS, no AUTH.  Accepts
#                         mail for the test mailboxes from anybody (an "MX").
#   REAL_SUBMISSION_PORT  Postfix smtpd: MAIL before STARTTLS gets 530 5.7.0
#                         "Must issue a STARTTLS command first"; AUTH is
#                         offered only after STARTTLS; RCPT before AUTH gets
#                         530 5.7.0 "... Authentication required".
#   REAL_SMTPS_PORT       Postfix smtpd, implicit TLS (wrapper mode), AUTH
#                         offered at once; RCPT before AUTH gets 530 as above.
#   REAL_LMTP_PORT        Dovecot LMTP over TCP (no TLS, no AUTH).
#   REAL_LMTP_SOCKET      Dovecot LMTP over a Unix socket (mode 0666).
# All Postfix listeners offer PIPELINING SIZE(200 MiB) VRFY ETRN
# ENHANCEDSTATUSCODES 8BITMIME DSN SMTPUTF8 CHUNKING; Dovecot LMTP offers
# 8BITMIME CHUNKING ENHANCEDSTATUSCODES PIPELINING (no SMTPUTF8, no SIZE).
# SASL (Postfix asks Dovecot; REAL_SASL_MECHS): PLAIN LOGIN CRAM-MD5
# SCRAM-SHA-1 SCRAM-SHA-256; a wrong password gets 535 5.7.8.
# With REALMTA_OAUTH2_INTROSPECT=URL (and REALMTA_OAUTH2_CA=FILE, the CA of
# URL's certificate) set for realmta_start, Dovecot also offers XOAUTH2 and
# OAUTHBEARER (REAL_SASL_MECHS says so) through an oauth2 passdb that POSTs
# each bearer token to URL (RFC 7662 introspection) and accepts it when the
# answer has "active": true and "username" equal to the login name.  URL
# must be on loopback.
# TLS: certificate from tests/lib/mkcerts for localhost, 127.0.0.1 and ::1,
# signed by the CA in REAL_CA (verify with host name REAL_TLS_NAME=localhost
# or the IP address).  Override the generator with REALMTA_MKCERTS=PROGRAM.
#
# Mailboxes (maildirs REAL_MAILDIR_ROOT/NAME/{new,cur,tmp}):
#   alice  <- alice@example.test, alice@localhost  (REAL_USER/REAL_PASS,
#             REAL_ADDR); Postfix and both LMTP listeners
#   bob    <- bob@example.test, bob@localhost      (REAL_USER2/REAL_PASS2,
#             REAL_ADDR2); the password has a space, a quote, @ and !
#   jorg   <- jörg@example.test (REAL_UTF8_ADDR, REAL_UTF8_USER): Postfix only,
#             for SMTPUTF8 (Dovecot 2.3 has no SMTPUTF8); no password
# LMTP also takes the bare user name (RCPT TO:<alice>).  Unknown users get
# 550 5.1.1 at RCPT time (Postfix and LMTP alike); any other domain gets 554
# 5.7.1 "Relay access denied" from Postfix, authenticated or not.  Nothing is
# ever relayed: master.cf has no smtp client and every non-local transport is
# error:.  Postfix delivers itself (virtual(8)); Dovecot delivers LMTP mail.
#
# What a delivered file holds: what the client sent, byte for byte, after
# dot-unstuffing and with CRLF turned into LF, below header fields that the
# servers put in front (Postfix here adds no Message-ID/Date/From, rewrites no
# address and keeps Bcc:, Return-Path: and Content-Length:):
#   via Postfix (any of the three smtpd ports), 4 fields:
#       Return-Path: <SENDER>
#       X-Original-To: RCPT
#       Delivered-To: RCPT
#       Received: from HELO (unknown [127.0.0.1])
#       \tby mx.example.test (Postfix) with PROTO id QUEUEID
#       \tfor <RCPT>; DATE
#     PROTO: SMTP, ESMTP, ESMTPS (TLS), ESMTPSA (TLS+AUTH), UTF8SMTP(S)(A)
#     ("for <RCPT>" only when the transaction had one recipient).
#   via Dovecot LMTP, 3 fields:
#       Return-Path: <SENDER>
#       Delivered-To: RCPT
#       Received: from HELO ([127.0.0.1])        (Unix socket: "from HELO")
#       \tby lmtp.example.test with LMTP
#       \tid ...
#       \t(envelope-from <SENDER>)
#       \tfor <RCPT>; DATE
# realmta_strip_trace removes exactly these (see there).
# One more change by Postfix (not by Dovecot): a line in the header section
# that is neither a header field nor a continuation ends the headers, and
# Postfix puts an empty line before it.

REALMTA_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Fixed test identities.
REALMTA_USERS=(alice bob)
declare -gA REALMTA_PASSWORDS=(
	[alice]='alice-secret'
	[bob]="Bob's p@ss w0rd!"
)
REALMTA_DOMAIN=example.test
# A mailbox with a non-ASCII address, known to Postfix only (SMTPUTF8 tests).
REALMTA_UTF8_ADDR='jörg@example.test'
REALMTA_UTF8_USER=jorg
REALMTA_MTA_NAME=mx.example.test
REALMTA_LMTP_NAME=lmtp.example.test
# Mail files belong to this uid/gid (Dovecot refuses to deliver as root).
REALMTA_MAIL_USER=nobody
REALMTA_MAIL_GROUP=nogroup

_realmta_log() { printf 'realmta: %s\n' "$*" >&2; }

# _realmta_port_free PORT: true when nothing listens on PORT (TCP, v4 or v6).
_realmta_port_free() {
	[[ -z $(ss -Hltn "( sport = :$1 )" 2>/dev/null) ]]
}

# _realmta_pick_ports N: prints N distinct free ports in 20000-40000.
_realmta_pick_ports() {
	local n=$1 got=() p i tries=0
	while ((${#got[@]} < n)); do
		((tries++ < 1000)) || { _realmta_log "no free port"; return 1; }
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 20001))
		for i in "${got[@]}"; do [[ $i == "$p" ]] && continue 2; done
		_realmta_port_free "$p" || continue
		got+=("$p")
	done
	echo "${got[@]}"
}

# _realmta_wait_listen PORT [TIMEOUT]: wait until something listens on PORT.
_realmta_wait_listen() {
	local port=$1 deadline=$((SECONDS + ${2:-10}))
	while _realmta_port_free "$port"; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

_realmta_wait_socket() {
	local path=$1 deadline=$((SECONDS + ${2:-10}))
	until [[ -S $path ]]; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

# _realmta_wait_pid_gone PID [TIMEOUT]
_realmta_wait_pid_gone() {
	local pid=$1 deadline=$((SECONDS + ${2:-10}))
	while kill -0 "$pid" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

_realmta_have_ipv6() {
	[[ -r /proc/net/if_inet6 ]] &&
	    grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# _realmta_oauth2_passdb W: with REALMTA_OAUTH2_INTROSPECT, write the
# oauth2 passdb's settings file and print its block (first, for the bearer
# mechanisms only).
_realmta_oauth2_passdb() {
	local w=$1 url=${REALMTA_OAUTH2_INTROSPECT:-}
	[[ -n $url ]] || return 0
	case $url in
	http://127.0.0.1:* | https://127.0.0.1:* | http://localhost:* | https://localhost:*) ;;
	*) _realmta_log "REALMTA_OAUTH2_INTROSPECT must be on loopback: $url"; return 1 ;;
	esac
	install -m 0644 "${REALMTA_OAUTH2_CA:?REALMTA_OAUTH2_CA}" "$w/certs/oauth2-ca.pem" || return 1
	printf '%s\n' 'introspection_mode = post' "introspection_url = $url" \
	    'force_introspection = yes' 'active_attribute = active' \
	    'active_value = true' 'username_attribute = username' \
	    "tls_ca_cert_file = $w/certs/oauth2-ca.pem" >"$w/dovecot/oauth2.conf.ext"
	chmod 0644 "$w/dovecot/oauth2.conf.ext"
	printf '%s\n' 'passdb {' '  driver = oauth2' \
	    '  mechanisms = xoauth2 oauthbearer' \
	    "  args = $w/dovecot/oauth2.conf.ext" '}'
}

_realmta_write_dovecot_conf() {
	local w=$1 lmtp_port=$2 addrs=$3 u
	local uid gid
	uid=$(id -u "$REALMTA_MAIL_USER") gid=$(getent group "$REALMTA_MAIL_GROUP" | cut -d: -f3)
	: >"$w/dovecot/users"
	for u in "${REALMTA_USERS[@]}"; do
		# user:password:uid:gid:gecos:home:shell:extra
		printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$u" "${REALMTA_PASSWORDS[$u]}" \
		    "$uid" "$gid" "$w/mail/$u" >>"$w/dovecot/users"
	done
	chmod 0644 "$w/dovecot/users"
	local oauth2_passdb
	oauth2_passdb=$(_realmta_oauth2_passdb "$w") || return 1
	cat >"$w/dovecot/dovecot.conf" <<EOF
# Private Dovecot for carrier's tests (tests/lib/realmta.bash).
base_dir = $w/dovecot/run
state_dir = $w/dovecot/state
instance_name = $(basename "$w")
log_path = $w/dovecot.log
info_log_path = $w/dovecot.log
protocols = lmtp
listen = $addrs
ssl = no
hostname = $REALMTA_LMTP_NAME
postmaster_address = postmaster@$REALMTA_DOMAIN
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256${REALMTA_OAUTH2_INTROSPECT:+ xoauth2 oauthbearer}
auth_verbose = yes
# No 2 s pause after a failed authentication: tests try wrong passwords.
auth_failure_delay = 0
mail_location = maildir:$w/mail/%n
lmtp_hdr_delivery_address = final
shutdown_clients = yes
$oauth2_passdb
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $w/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $w/dovecot/users
}
service lmtp {
  inet_listener lmtp {
    address = $addrs
    port = $lmtp_port
  }
  unix_listener $w/lmtp.sock {
    mode = 0666
  }
}
# No growing "auth penalty" delay (2 s up to 15 s) after failed logins from
# 127.0.0.1: without this socket Dovecot's auth process disables it.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
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

_realmta_write_postfix_conf() {
	local w=$1 smtp=$2 sub=$3 smtps=$4 v6=$5 u d a
	local protos=ipv4 binds=(127.0.0.1) uid gid
	uid=$(id -u "$REALMTA_MAIL_USER") gid=$(getent group "$REALMTA_MAIL_GROUP" | cut -d: -f3)
	if ((v6)); then protos=all binds+=('[::1]'); fi
	: >"$w/etc/vmailbox"
	for u in "${REALMTA_USERS[@]}"; do
		for d in "$REALMTA_DOMAIN" localhost; do
			printf '%s@%s %s/\n' "$u" "$d" "$u" >>"$w/etc/vmailbox"
		done
	done
	printf '%s %s/\n' "$REALMTA_UTF8_ADDR" "$REALMTA_UTF8_USER" >>"$w/etc/vmailbox"
	cat >"$w/etc/main.cf" <<EOF
# Private Postfix for carrier's tests (tests/lib/realmta.bash).
# Loopback only, delivers only to the test users, never relays.
compatibility_level = 3.6
queue_directory = $w/spool
data_directory = $w/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = $REALMTA_MTA_NAME
mydomain = $REALMTA_DOMAIN
myorigin = \$mydomain
inet_interfaces = loopback-only
inet_protocols = $protos
mynetworks_style = host
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_banner = \$myhostname ESMTP carrier-test
biff = no
maillog_file = $w/postfix.log
maillog_file_prefixes = $w
# Local delivery and relaying are impossible.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:5.1.1 local delivery disabled in tests
relay_domains =
relayhost =
relay_transport = error:5.7.1 no relaying in tests
default_transport = error:5.7.1 no relaying in tests
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
# The test users' maildirs, written by Postfix's virtual(8).  (Not Dovecot
# LMTP: Dovecot 2.3 has no SMTPUTF8, and Postfix would bounce SMTPUTF8 mail.)
virtual_mailbox_domains = $REALMTA_DOMAIN localhost
virtual_mailbox_maps = texthash:$w/etc/vmailbox
virtual_mailbox_base = $w/mail
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_mailbox_limit = 0
virtual_alias_maps =
virtual_transport = virtual
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient
# Deliver what was sent: no header rewriting, no added headers.
local_header_rewrite_clients =
remote_header_rewrite_domain =
always_add_missing_headers = no
# Keep Bcc:, Resent-Bcc:, Content-Length: and Return-Path: as sent (by default
# cleanup(8) deletes them), so tests see exactly what the client sent.
message_drop_headers =
# Fast tests: no error sleeps, short retries.
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200
in_flow_delay = 0
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 10s
notify_classes =
message_size_limit = 209715200
# TLS and SASL, switched on per listener in master.cf.
smtpd_tls_cert_file = $w/certs/server.pem
smtpd_tls_key_file = $w/certs/server-key.pem
smtpd_tls_security_level = none
smtpd_tls_loglevel = 1
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
# Submission and smtps: no RCPT before AUTH (530), never relay (554).
realmta_submission_recipient_restrictions = reject_unlisted_recipient,
  permit_sasl_authenticated,
  check_client_access static:{530 5.7.0 Authentication required}
EOF
	{
		echo '# service type  private unpriv  chroot  wakeup  maxproc command'
		for a in "${binds[@]}"; do
			cat <<EOF
$a:$smtp inet n - n - - smtpd
  -o syslog_name=postfix/smtp
$a:$sub inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=\$realmta_submission_recipient_restrictions
$a:$smtps inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=\$realmta_submission_recipient_restrictions
EOF
		done
		cat <<'EOF'
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
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	} >"$w/etc/master.cf"
}

# realmta_start DIR
#   Starts a private Dovecot and Postfix (see the top of this file), waits
#   until every listener answers and exports the REAL_* variables.  A previous
#   instance recorded in DIR is stopped first.  Returns non-zero (after
#   printing the servers' logs to stderr and cleaning up) if anything fails.
realmta_start() {
	local i
	# The ports are picked free, but another process may take one before
	# a server binds it: start again with new ports, twice at most.
	for i in 1 2 3; do
		_realmta_start_once "$@" && return 0
		((i < 3)) && _realmta_log "start failed; again with other ports"
	done
	return 1
}

_realmta_start_once() {
	local dir=${1:?realmta_start DIR}
	local w ports smtp sub smtps lmtp v6=0 addrs=127.0.0.1 p u
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	realmta_stop "$dir" 2>/dev/null

	if ! command -v dovecot >/dev/null || [[ ! -x /usr/sbin/postfix ]]; then
		_realmta_log "postfix/dovecot missing: run 'make deps' (sh .ci/deps)"
		return 1
	fi
	_realmta_have_ipv6 && v6=1 && addrs='127.0.0.1, ::1'

	w=$(mktemp -d /tmp/realmta.XXXXXX) || return 1
	chmod 0755 "$w"
	ln -sfn "$w" "$dir/realmta"
	mkdir -p "$w"/{etc,spool/private,data,certs,dovecot/run,dovecot/state,mail}
	chown postfix "$w/spool/private" "$w/data" && chmod 0700 "$w/spool/private" "$w/data"
	for u in "${REALMTA_USERS[@]}" "$REALMTA_UTF8_USER"; do
		mkdir -p "$w/mail/$u"
		chown "$REALMTA_MAIL_USER:$REALMTA_MAIL_GROUP" "$w/mail/$u"
		chmod 0700 "$w/mail/$u"
	done
	: >"$w/postfix.log"
	: >"$w/dovecot.log"

	if ! "${REALMTA_MKCERTS:-$REALMTA_LIBDIR/mkcerts}" "$w/certs" \
	    >"$w/mkcerts.log" 2>&1 || [[ ! -s $w/certs/ca.pem ||
	    ! -s $w/certs/server.pem || ! -s $w/certs/server-key.pem ]]; then
		_realmta_log "tests/lib/mkcerts $w/certs failed:"
		cat "$w/mkcerts.log" >&2
		_realmta_fail "$dir"
		return 1
	fi

	ports=$(_realmta_pick_ports 4) || { _realmta_fail "$dir"; return 1; }
	read -r smtp sub smtps lmtp <<<"$ports"

	_realmta_write_dovecot_conf "$w" "$lmtp" "$addrs" || { _realmta_fail "$dir"; return 1; }
	_realmta_write_postfix_conf "$w" "$smtp" "$sub" "$smtps" "$v6"
	# Postfix re-reads (300 ms sleeps, ~2 s) a main.cf modified this second.
	touch -d '-1 minute' "$w/etc/main.cf" "$w/etc/master.cf" "$w/etc/vmailbox"

	if ! dovecot -c "$w/dovecot/dovecot.conf" >"$w/dovecot.start" 2>&1; then
		_realmta_log "dovecot failed to start:"
		cat "$w/dovecot.start" >&2
		_realmta_fail "$dir"
		return 1
	fi
	if ! _realmta_wait_socket "$w/lmtp.sock" ||
	    ! _realmta_wait_socket "$w/spool/private/auth" ||
	    ! _realmta_wait_listen "$lmtp"; then
		_realmta_log "dovecot did not open its listeners"
		_realmta_fail "$dir"
		return 1
	fi

	# "postfix start" runs "postfix check" first; any warning is an error.
	if ! postfix -c "$w/etc" start >"$w/postfix.start" 2>&1 ||
	    grep -E -q -i 'warning|fatal|error' "$w/postfix.start"; then
		_realmta_log "postfix failed to start (or postfix check warned):"
		cat "$w/postfix.start" >&2
		_realmta_fail "$dir"
		return 1
	fi
	for p in "$smtp" "$sub" "$smtps"; do
		_realmta_wait_listen "$p" || {
			_realmta_log "postfix does not listen on $p"
			_realmta_fail "$dir"
			return 1
		}
	done

	export REAL_DIR=$w
	export REAL_HOST=127.0.0.1
	export REAL_TLS_NAME=localhost
	export REAL_HAVE_IPV6=$v6
	export REAL_SMTP_PORT=$smtp
	export REAL_SUBMISSION_PORT=$sub
	export REAL_SMTPS_PORT=$smtps
	export REAL_LMTP_PORT=$lmtp
	export REAL_LMTP_SOCKET=$w/lmtp.sock
	export REAL_CA=$w/certs/ca.pem
	export REAL_MAILDIR_ROOT=$w/mail
	export REAL_DOMAIN=$REALMTA_DOMAIN
	export REAL_MTA_NAME=$REALMTA_MTA_NAME
	export REAL_LMTP_NAME=$REALMTA_LMTP_NAME
	export REAL_USER=alice
	export REAL_PASS=${REALMTA_PASSWORDS[alice]}
	export REAL_ADDR=alice@$REALMTA_DOMAIN
	export REAL_USER2=bob
	export REAL_PASS2=${REALMTA_PASSWORDS[bob]}
	export REAL_ADDR2=bob@$REALMTA_DOMAIN
	export REAL_UTF8_ADDR=$REALMTA_UTF8_ADDR
	export REAL_UTF8_USER=$REALMTA_UTF8_USER
	export REAL_POSTFIX_LOG=$w/postfix.log
	export REAL_DOVECOT_LOG=$w/dovecot.log
	export REAL_SASL_MECHS='PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256'
	[[ -n ${REALMTA_OAUTH2_INTROSPECT:-} ]] && REAL_SASL_MECHS+=' XOAUTH2 OAUTHBEARER'
	export -f realmta_wait_delivery realmta_messages realmta_last_message \
	    realmta_strip_trace realmta_clear realmta_stop _realmta_log \
	    _realmta_wait_pid_gone

	{
		local v
		for v in REAL_DIR REAL_HOST REAL_TLS_NAME REAL_HAVE_IPV6 \
		    REAL_SMTP_PORT REAL_SUBMISSION_PORT REAL_SMTPS_PORT \
		    REAL_LMTP_PORT REAL_LMTP_SOCKET REAL_CA REAL_MAILDIR_ROOT \
		    REAL_DOMAIN REAL_MTA_NAME REAL_LMTP_NAME REAL_USER REAL_PASS \
		    REAL_ADDR REAL_USER2 REAL_PASS2 REAL_ADDR2 REAL_UTF8_ADDR \
		    REAL_UTF8_USER REAL_POSTFIX_LOG \
		    REAL_DOVECOT_LOG REAL_SASL_MECHS; do
			printf 'export %s=%q\n' "$v" "${!v}"
		done
	} >"$dir/realmta.env"
}

# realmta_pipe_transport DOMAIN ARGV...
#   Once per instance, after realmta_start: the running Postfix accepts mail
#   for any address in DOMAIN (a relay domain; none of it is delivered
#   locally) and hands each recipient to the pipe(8) transport "testpipe",
#   which runs ARGV as REALMTA_MAIL_USER (nobody) with the message as queued
#   on standard input (no flags: no From_ line, no Return-Path:, LF line
#   ends).  ARGV's words may use pipe(8)'s macros (${sender}, ${recipient})
#   and hold no blanks; the program must be one that user can reach (under
#   REAL_DIR, say).  pipe(8) defers the recipient when the program exits 75
#   (EX_TEMPFAIL) and bounces it on most other statuses.  This transport is
#   the one way out of this Postfix that is not error:, so ARGV must talk to
#   loopback only.  Reloads Postfix and waits until the transport is there.
realmta_pipe_transport() {
	local domain=${1:?realmta_pipe_transport DOMAIN ARGV...} w=$REAL_DIR a
	shift
	(($#)) || { _realmta_log "realmta_pipe_transport: no ARGV"; return 1; }
	for a in "$@"; do
		[[ -n $a && $a != *[[:space:]]* ]] ||
		    { _realmta_log "realmta_pipe_transport: blank in '$a'"; return 1; }
	done
	if [[ -e $w/etc/transport ]]; then
		_realmta_log "realmta_pipe_transport: already called"
		return 1
	fi
	printf '%s testpipe:\n' "$domain" >"$w/etc/transport"
	# One recipient per delivery: ${recipient} is one address.
	postconf -c "$w/etc" -e "relay_domains = $domain" \
	    "transport_maps = texthash:$w/etc/transport" \
	    'testpipe_destination_recipient_limit = 1' || return 1
	printf 'testpipe  unix  -       n       n       -       -       pipe\n  user=%s argv=%s\n' \
	    "$REALMTA_MAIL_USER" "$*" >>"$w/etc/master.cf"
	touch -d '-1 minute' "$w/etc/main.cf" "$w/etc/master.cf" "$w/etc/transport"
	if ! postfix -c "$w/etc" reload >"$w/postfix.reload" 2>&1 ||
	    grep -E -q -i 'warning|fatal|error' "$w/postfix.reload"; then
		_realmta_log "postfix reload failed (or warned):"
		cat "$w/postfix.reload" >&2
		return 1
	fi
	# The master makes the transport's socket when it has re-read master.cf.
	_realmta_wait_socket "$w/spool/private/testpipe" || {
		_realmta_log "no pipe transport after postfix reload"
		tail -n 15 "$w/postfix.log" >&2
		return 1
	}
}

# Print both logs, then stop whatever runs and remove the work directory.
_realmta_fail() {
	local dir=$1 w
	w=$(readlink "$dir/realmta" 2>/dev/null) || w=
	if [[ -n $w ]]; then
		[[ -s $w/dovecot.log ]] && { echo '--- dovecot.log'; tail -n 30 "$w/dovecot.log"; } >&2
		[[ -s $w/postfix.log ]] && { echo '--- postfix.log'; tail -n 30 "$w/postfix.log"; } >&2
	fi
	realmta_stop "$dir"
}

# realmta_stop DIR
#   Stops the Postfix and Dovecot started by realmta_start DIR (by the PIDs in
#   their own pid files, never by name), waits until they are gone, copies
#   their logs to DIR/realmta-postfix.log and DIR/realmta-dovecot.log and
#   removes the work directory.  Safe to call when nothing runs.
realmta_stop() {
	local dir=${1:?realmta_stop DIR} w pid pids rc=0 i
	w=$(readlink "$dir/realmta" 2>/dev/null) || return 0
	[[ $w == /tmp/realmta.* ]] || { rm -f "$dir/realmta"; return 0; }
	if [[ -d $w ]]; then
		# Both masters at once (each needs about a second to finish):
		# Postfix's master.pid in its queue directory, Dovecot's in base_dir.
		pids=()
		for pid in "$(sed -n '1s/ //gp' "$w/spool/pid/master.pid" 2>/dev/null)" \
		    "$(sed -n 1p "$w/dovecot/run/master.pid" 2>/dev/null)"; do
			# Only a live master of ours (pid files may be stale).
			[[ $pid =~ ^[0-9]+$ ]] || continue
			[[ $(cat "/proc/$pid/comm" 2>/dev/null) == @(master|dovecot) ]] ||
			    continue
			kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
		done
		for pid in "${pids[@]}"; do
			_realmta_wait_pid_gone "$pid" 10 || {
				_realmta_log "master $pid did not stop; killing it"
				kill -KILL "$pid" 2>/dev/null
				rc=1
			}
		done
		cp -f "$w/postfix.log" "$dir/realmta-postfix.log" 2>/dev/null
		cp -f "$w/dovecot.log" "$dir/realmta-dovecot.log" 2>/dev/null
		# Children of the masters may need a moment to exit.
		for i in 1 2 3 4 5 6 7 8 9 10; do
			rm -rf "$w" 2>/dev/null && break
			sleep 0.1
		done
		[[ ! -e $w ]] || { _realmta_log "could not remove $w"; rc=1; }
	fi
	rm -f "$dir/realmta"
	return $rc
}

# realmta_messages USER
#   Prints the paths of the messages in USER's maildir new/, oldest first
#   (by the time each file arrived in new/).
realmta_messages() {
	local user=${1:?realmta_messages USER}
	local d=$REAL_MAILDIR_ROOT/$user/new
	[[ -d $d ]] || return 0
	find "$d" -maxdepth 1 -type f -printf '%C@ %p\n' | sort -n | cut -d' ' -f2-
}

# realmta_wait_delivery USER [COUNT [TIMEOUT]]
#   Waits until USER's maildir new/ holds at least COUNT (default 1) messages;
#   gives up after TIMEOUT seconds (default 10) with status 1 and a note on
#   stderr (plus the tail of the Postfix log).
realmta_wait_delivery() {
	local user=${1:?realmta_wait_delivery USER [COUNT [TIMEOUT]]}
	local count=${2:-1} timeout=${3:-10} n i
	local d=$REAL_MAILDIR_ROOT/$user/new
	# Polls every 50 ms; counts polls, so it waits at least TIMEOUT.
	for ((i = 0; ; i++)); do
		n=0
		[[ -d $d ]] && n=$(find "$d" -maxdepth 1 -type f | wc -l)
		((n >= count)) && return 0
		if ((i >= timeout * 20)); then
			_realmta_log "$user has $n message(s) after ${timeout}s, wanted $count"
			tail -n 15 "$REAL_POSTFIX_LOG" >&2 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
}

# realmta_last_message USER
#   Prints the path of the newest message in USER's maildir new/ (status 1
#   if there is none).
realmta_last_message() {
	local last
	last=$(realmta_messages "${1:?realmta_last_message USER}" | tail -n 1)
	[[ -n $last ]] || return 1
	printf '%s\n' "$last"
}

# realmta_strip_trace FILE
#   Prints the delivered FILE without the header fields the servers put in
#   front of the message: the first Return-Path:, X-Original-To: and
#   Delivered-To: fields, and leading Received: fields whose "by" names our
#   Postfix ("by mx.example.test (Postfix)") or our Dovecot ("by
#   lmtp.example.test with LMTP"), each with its continuation lines, until the
#   first other field.  What remains is what the client sent (after
#   dot-unstuffing), with LF line ends; compare with e.g.
#     diff <(sed 's/\r$//' sent.eml) <(realmta_strip_trace "$file")
realmta_strip_trace() {
	awk -v lmtp="$REAL_LMTP_NAME" -v mta="$REAL_MTA_NAME" '
	function flush_field(   low) {
		if (field == "") return
		low = tolower(field)
		if (!seen_rp && low ~ /^return-path:/) { seen_rp = 1; field = ""; return }
		if (!seen_xo && low ~ /^x-original-to:/) { seen_xo = 1; field = ""; return }
		if (!seen_dt && low ~ /^delivered-to:/) { seen_dt = 1; field = ""; return }
		if (low ~ /^received:/ && \
		    (index(field, "by " lmtp " with LMTP") || \
		     index(field, "by " mta " (Postfix)"))) { field = ""; return }
		done = 1
		printf "%s", field
		field = ""
	}
	done { print; next }
	/^[ \t]/ && field != "" { field = field $0 "\n"; next }
	{ flush_field(); if (done) { print; next } field = $0 "\n" }
	END { flush_field() }
	' "${1:?realmta_strip_trace FILE}"
}

# realmta_clear [USER...]
#   Removes every delivered message of USER (default: all test users).
realmta_clear() {
	local u users=("$@")
	((${#users[@]})) || mapfile -t users < <(ls "$REAL_MAILDIR_ROOT")
	for u in "${users[@]}"; do
		rm -f "$REAL_MAILDIR_ROOT/$u"/new/* "$REAL_MAILDIR_ROOT/$u"/cur/*
	done
}
