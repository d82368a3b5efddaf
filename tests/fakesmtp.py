#!/usr/bin/python3
r"""fakesmtp: a scriptable fake SMTP/LMTP server for carrier's protocol tests.

Usage:
  fakesmtp.py --dir DIR --scenario FILE [--listen 127.0.0.1|::1] [--port N]
              [--unix PATH] [--certs DIR] [--max-time SECONDS]

It listens on a loopback port (an ephemeral one; with --port N, port N) or a
Unix socket, writes the port (or the socket path) to DIR/port and its pid to
DIR/pid, serves the scenario's number of connections one after the other,
then exits.  It always exits after --max-time seconds (default 30), whatever
the client does.  Python 3 standard library only.

Exit status (also written to DIR/status): 0 done, 1 internal error
(traceback on stderr), 2 usage or scenario error, 3 --max-time reached.

Recordings in DIR, each written (unbuffered) as soon as the bytes arrive:
  commands    every command line received (CRLF or LF removed), one a line,
              AUTH continuation lines and lines sent after a close or stall
              included, message data not; before the commands of connection
              N >= 2 a line "--- connection N"
  data.N      message N (counted across connections) as received after the
              354: still dot-stuffed, with the final CRLF.CRLF; for BDAT the
              chunks' bytes one after the other
  message.N   message N as a server stores it: un-stuffed, no terminator
              (only when the message was complete)
  transcript  "C: " and "S: " lines (CRLF implied; other bytes escaped as in
              Python's repr, so a bare LF shows as \n) and "*** " event lines
              (tls started ... sni: NAME, closed (FIN), stalled, client sent
              plaintext instead of a TLS handshake, max-time reached, ...)
  wire        every byte received outside TLS (not the TLS records)
  turns       one line "turn" each time the server, having sent something,
              had to read again for the client's next bytes: the client's
              round trips, the connect counting as the first.  A "sleep"
              part takes in (outside TLS) what arrived meanwhile, so delay
              a reply with it and what a client pipelines behind that
              reply is not counted as a turn of its own

SCENARIO FILE
-------------
One directive a line.  Blank lines and lines starting with "#" are ignored;
leading and trailing blanks are removed (write \x20 for a trailing space).
Directive and verb names are case-insensitive.

Session settings:
  hostname NAME            name in the default greeting and EHLO (fake.test)
  connections N            connections to serve before exiting (1)
  lmtp                     LMTP: LHLO instead of EHLO/HELO (which get 500),
                           one reply per accepted recipient after the data
  capabilities KW, KW...   EHLO keyword lines, comma-separated (default
                           PIPELINING, 8BITMIME, SIZE 10485760); nothing
                           after the word: no keywords; a leading "+" adds
                           to the list ("capabilities +CHUNKING, AUTH PLAIN");
                           \x2c is a comma inside a keyword line
  capabilities-tls KW,...  the keywords after TLS (default: the same as
                           before); "+" adds to the pre-TLS list
  tls-cert FILE            enables STARTTLS, added to the EHLO keywords
                           before TLS; relative names are looked up in --certs
  tls-key FILE             default: tls-cert's FILE with -key.pem for .pem
  tls-client-ca FILE [optional]   ask for a client certificate signed by it
                           (required unless "optional")
  tls-protocols MIN [MAX]  TLS versions (1.0 ... 1.3), e.g. "1.0 1.1"
  implicit-tls             handshake first, greeting over TLS (port 465)
  starttls-hidden          do not add STARTTLS to the EHLO keywords
  starttls-inject BYTES    STARTTLS is answered "220 2.0.0 Ready to start TLS"
                           and BYTES in the same send(), then the handshake
  auth-secret USER PASS    the built-in AUTH mechanisms check these (without
                           it they accept anything, except SCRAM: 454)
  scram-binding MODE       SCRAM-*-PLUS with a channel binding that is not
                           this connection's: "wrong" checks the client's
                           c= against it (and answers e=channel-bindings-
                           dont-match), "wrong-signed" signs with it
                           without checking (a server on another channel)

Replies.  Each is a sequence: the k-th time the step happens it gets the
k-th entry, the last entry repeats; counts run across connections.
  VERB RESPONSE            a command verb: EHLO, HELO, LHLO, MAIL, RCPT,
                           DATA, BDAT, RSET, NOOP, VRFY, EXPN, HELP, QUIT,
                           STARTTLS, or any other word (XCLIENT ...)
  rcpt ADDR RESPONSE       RCPT to ADDR (with or without <>; an address that
                           starts with 3 digits needs <>); RCPTs matched by
                           an address do not use the plain RCPT sequence
  greeting RESPONSE        one entry per connection
  data-end RESPONSE        reply to the end of the message data (DATA or
                           BDAT LAST); LMTP: one entry per recipient reply
  data-end ADDR RESPONSE   LMTP: the reply for recipient ADDR
  mid-data N RESPONSE      once N octets of a message have arrived (one
                           entry per message): "mid-data 1000 reset"
  after-tls RESPONSE       right after each TLS handshake, before reading
  auth [MECH] RESPONSE     the server's replies in an AUTH exchange: the
                           k-th reply of each exchange is the k-th entry
                           (restarting with every AUTH command); the exchange
                           goes on while a 334 is sent.  Without MECH: any
                           mechanism without a script of its own.  "AUTH
                           RESPONSE" is the same.  A client "*" gets 501.
BDAT: a chunk's bytes are read before the reply; a chunk is answered from
the BDAT sequence, the LAST chunk from data-end.

Built-in behaviour (and what "default" means): Postfix-like replies.
Greeting 220 NAME ESMTP (LMTP), EHLO 250 and the keywords, HELO 250, MAIL
250, RCPT 250, DATA 354 then the data then 250 2.0.0 Ok: queued as FAKEn
(LMTP: 250 per accepted recipient), BDAT 250 (502 when CHUNKING is not
offered), RSET/NOOP 250, VRFY 252, EXPN 502, HELP 214, QUIT 221 and close
(close-notify over TLS),
STARTTLS 220 and the handshake (454 without tls-cert), unknown verb 500;
503 for a bad sequence (RCPT before MAIL, DATA without recipients: 554), 555
for a MAIL/RCPT parameter whose keyword was not offered (any after HELO), 552
for MAIL SIZE= over the offered SIZE.  AUTH: PLAIN, LOGIN, CRAM-MD5,
SCRAM-SHA-1, SCRAM-SHA-256, SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS (over
TLS: tls-exporter under TLS 1.3, tls-unique under 1.2; plain SCRAM with the
"y" flag fails when a -PLUS is offered), XOAUTH2, OAUTHBEARER, EXTERNAL (client
certificate) when offered in an "AUTH ..." keyword, 504 for others, 503 when
no AUTH is offered.  "default" in after-tls, mid-data and auth scripts does
nothing.

A RESPONSE is one or more parts separated by " | " (a bar with blanks around
it), done in order; the bytes of consecutive parts go out in one send():
  NNN text                 a reply; the text is unescaped, then split at LF
                           into lines, each sent with CRLF: "250-a\n250 b"
  raw BYTES                exact bytes, no CRLF added: "raw 250 ok\n"
  default                  what the built-in behaviour does here
  long NNN LEN             "NNN ", LEN times "x", CRLF (an overlong line)
  endless NNN              "NNN-xxx..." lines without end (until the client
                           goes away or --max-time)
  drip MS [PART]           the rest of this response one byte every MS ms
  sleep MS                 wait MS milliseconds
  close                    FIN (over TLS without close_notify: truncation);
                           then read and record until the client closes
  close-notify             TLS close_notify, then FIN
  reset                    RST (SO_LINGER 0); the connection ends
  stall                    never send anything again; keep reading and
                           recording until the client closes
  freeze                   stop reading and writing (the client's writes
                           block once the window fills) until it closes
  tls                      TLS handshake now (the default STARTTLS response
                           is "220 2.0.0 Ready to start TLS | tls")
An unsolicited reply is one more part: "MAIL default | 421 4.3.2 Bye | close".
A response is exactly what it says: "QUIT 221 bye" does not close.
Escapes in replies and raw bytes: \r \n \t \\ \xNN (" \x7c " for " | ").

The effect of a reply is judged by its first three bytes: DATA answered 354
reads message data, RCPT answered 2xx accepts the recipient, an AUTH step
answered 334 reads a continuation line, EHLO 2xx ends the transaction, etc.

After a "tls" part, a client that sends plaintext (or had pipelined bytes
after STARTTLS) is recorded as an event and the session stays in clear.
Not possible: faults inside the TLS handshake itself.

Example:
  capabilities PIPELINING, AUTH PLAIN LOGIN, CHUNKING
  EHLO 502 5.5.2 no
  EHLO default
  rcpt bob@x.test 550 5.1.1 User unknown
  auth LOGIN 334 VXNlcm5hbWU6
  auth LOGIN 334 UGFzc3dvcmQ6
  auth LOGIN 235 2.7.0 ok
  data-end 250 ok | 421 4.3.2 going down | close
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import select
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import warnings


class ScenarioError(Exception):
    pass


# ---------------------------------------------------------------------------
# Escapes

_ESCAPE = re.compile(r'\\(x[0-9A-Fa-f]{2}|[rnt\\]|.?)', re.S)
_SIMPLE = {'r': b'\r', 'n': b'\n', 't': b'\t', '\\': b'\\'}


def unescape(text):
    """Scenario text to bytes: \\r \\n \\t \\\\ \\xNN; other text as UTF-8."""
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(text):
        out += text[pos:m.start()].encode()
        esc = m.group(1)
        if esc in _SIMPLE:
            out += _SIMPLE[esc]
        elif esc.startswith('x') and len(esc) == 3:
            out.append(int(esc[1:], 16))
        else:
            raise ScenarioError('unknown escape \\%s in %r' % (esc, text))
        pos = m.end()
    out += text[pos:].encode()
    return bytes(out)


def escape(data):
    """Bytes to a readable one-line string, as Python's repr() would."""
    out = []
    for b in data:
        if b == 0x5c:
            out.append('\\\\')
        elif 0x20 <= b < 0x7f:
            out.append(chr(b))
        elif b == 0x0d:
            out.append('\\r')
        elif b == 0x0a:
            out.append('\\n')
        elif b == 0x09:
            out.append('\\t')
        else:
            out.append('\\x%02x' % b)
    return ''.join(out)


# ---------------------------------------------------------------------------
# Scenario

KEYWORDS = ('default', 'raw', 'long', 'endless', 'drip', 'sleep', 'close',
            'close-notify', 'reset', 'stall', 'freeze', 'tls')
_CODE = re.compile(r'^[0-9]{3}')
_PART_SEP = re.compile(r'\s+\|\s+')


def is_response_start(token):
    return bool(_CODE.match(token)) or token.lower() in KEYWORDS


def _int(text, what):
    if not re.fullmatch(r'[0-9]+', text or ''):
        raise ScenarioError('%s: a number is needed, got %r' % (what, text))
    return int(text)


def parse_part(text):
    """One part of a RESPONSE; returns a list of (kind, args...) tuples."""
    word, _, rest = text.partition(' ')
    kw = word.lower()
    if _CODE.match(text):
        return [('bytes', b''.join(line + b'\r\n'
                                   for line in unescape(text).split(b'\n')))]
    if kw == 'raw':
        if not rest:
            raise ScenarioError('raw needs bytes')
        return [('bytes', unescape(rest.lstrip(' ')))]
    if kw == 'long':
        code, _, n = rest.strip().partition(' ')
        if not re.fullmatch(r'[0-9]{3}', code):
            raise ScenarioError('long NNN LEN: bad code %r' % code)
        return [('bytes', code.encode() + b' ' + b'x' * _int(n.strip(), 'long') + b'\r\n')]
    if kw == 'endless':
        if not re.fullmatch(r'[0-9]{3}', rest.strip()):
            raise ScenarioError('endless NNN: bad code %r' % rest)
        return [('endless', rest.strip().encode())]
    if kw in ('drip', 'sleep'):
        ms, _, more = rest.strip().partition(' ')
        parts = [(kw, _int(ms, kw))]
        if more.strip():
            if kw == 'sleep':
                raise ScenarioError('sleep MS takes nothing after MS (use " | ")')
            parts += parse_part(more.strip())
        return parts
    if kw in ('default', 'close', 'close-notify', 'reset', 'stall', 'freeze', 'tls'):
        if rest.strip():
            raise ScenarioError('%s takes no argument (parts are separated by " | "): %r'
                                % (kw, text))
        return [(kw,)]
    raise ScenarioError('not a response (NNN text, raw, default, close, ...): %r' % text)


def parse_response(text):
    text = text.strip()
    if not text:
        raise ScenarioError('unknown directive, or a verb without a response')
    parts = []
    for piece in _PART_SEP.split(text):
        parts += parse_part(piece.strip())
    return parts


def reply(text):
    """A built-in reply as a RESPONSE."""
    return [('bytes', b''.join(line.encode() + b'\r\n' for line in text.split('\n')))]


def norm_addr(addr):
    addr = addr.strip()
    if addr.startswith('<') and addr.endswith('>'):
        addr = addr[1:-1]
    return addr.lower()


DEFAULT_CAPS = ['PIPELINING', '8BITMIME', 'SIZE 10485760']


class Scenario:
    def __init__(self, text, certs_dir=None):
        self.certs_dir = certs_dir
        self.hostname = 'fake.test'
        self.connections = 1
        self.lmtp = False
        self.caps = list(DEFAULT_CAPS)
        self.caps_tls = None          # None: same as self.caps
        caps_tls = None               # the directive's value, used at the end
        self.tls_cert = self.tls_key = self.tls_client_ca = None
        self.tls_client_optional = False
        self.tls_protocols = None
        self.implicit_tls = False
        self.starttls_hidden = False
        self.auth_secret = None
        self.scram_binding = None
        # key -> list of entries; keys: ('verb', 'MAIL'), ('rcpt', addr),
        # 'greeting', 'data-end', ('data-end', addr), 'after-tls',
        # 'mid-data' (entries are (n, response)), ('auth', MECH or '*')
        self.rules = {}
        self.used = {}
        for num, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            try:
                if line.split(' ', 1)[0].lower() == 'capabilities-tls':
                    # Resolved at the end: "+" adds to the final pre-TLS list.
                    caps_tls = line.partition(' ')[2]
                    continue
                self._directive(line)
            except ScenarioError as e:
                raise ScenarioError('scenario line %d: %s: %s' % (num, line, e))
        if caps_tls is not None:
            self.caps_tls = self._caps_list(caps_tls, self.caps)
        if self.tls_cert and not self.tls_key:
            self.tls_key = re.sub(r'(\.pem|\.crt)?$', '-key.pem', self.tls_cert, count=1)
        if self.implicit_tls and not self.tls_cert:
            raise ScenarioError('implicit-tls needs tls-cert')
        self.tls_ctx = self._tls_context() if self.tls_cert else None

    def _add(self, key, entry):
        self.rules.setdefault(key, []).append(entry)

    def next(self, key):
        """The entry for the next occurrence of KEY (the last one repeats)."""
        entries = self.rules.get(key)
        if not entries:
            return None
        k = self.used.get(key, 0)
        self.used[key] = k + 1
        return entries[min(k, len(entries) - 1)]

    def has(self, key):
        return bool(self.rules.get(key))

    def _path(self, name):
        if self.certs_dir and not os.path.isabs(name):
            return os.path.join(self.certs_dir, name)
        return name

    def _selector(self, rest):
        """Split "[SELECTOR] RESPONSE": the selector is any first word that
        cannot start a response (an address, a mechanism name)."""
        first, _, more = rest.partition(' ')
        if first and not is_response_start(first):
            return first, more
        return None, rest

    @staticmethod
    def _caps_list(value, base):
        value = value.strip()
        add = value.startswith('+')
        if add:
            value = value[1:]
        items = [unescape(v.strip()).decode('utf-8', 'surrogateescape')
                 for v in value.split(',') if v.strip()]
        return list(base) + items if add else items

    def _directive(self, line):
        word, _, rest = line.partition(' ')
        word = word.lower()
        rest = rest.strip()
        if word == 'hostname':
            self.hostname = rest
        elif word == 'connections':
            self.connections = _int(rest, word)
        elif word in ('lmtp', 'implicit-tls', 'starttls-hidden'):
            if rest:
                raise ScenarioError('takes no argument')
            setattr(self, word.replace('-', '_'), True)
        elif word == 'capabilities':
            self.caps = self._caps_list(rest, self.caps)
        elif word == 'tls-cert':
            self.tls_cert = self._path(rest)
        elif word == 'tls-key':
            self.tls_key = self._path(rest)
        elif word == 'tls-client-ca':
            name, _, opt = rest.partition(' ')
            if opt.strip() not in ('', 'optional'):
                raise ScenarioError('tls-client-ca FILE [optional]')
            self.tls_client_ca = self._path(name)
            self.tls_client_optional = bool(opt.strip())
        elif word == 'tls-protocols':
            versions = rest.split()
            if not 1 <= len(versions) <= 2 or any(
                    v not in ('1.0', '1.1', '1.2', '1.3') for v in versions):
                raise ScenarioError('tls-protocols MIN [MAX] with 1.0 ... 1.3')
            self.tls_protocols = (versions[0], versions[-1])
        elif word == 'starttls-inject':
            self._add(('verb', 'STARTTLS'),
                      reply('220 2.0.0 Ready to start TLS') + [('bytes', unescape(rest)), ('tls',)])
        elif word == 'auth-secret':
            parts = rest.split(' ', 1)
            if len(parts) != 2:
                raise ScenarioError('auth-secret USER PASSWORD')
            self.auth_secret = (unescape(parts[0]), unescape(parts[1]))
        elif word == 'scram-binding':
            if rest not in ('wrong', 'wrong-signed'):
                raise ScenarioError('scram-binding wrong|wrong-signed')
            self.scram_binding = rest
        elif word in ('greeting', 'after-tls'):
            self._add(word, parse_response(rest))
        elif word == 'mid-data':
            n, _, resp = rest.partition(' ')
            self._add('mid-data', (_int(n, word), parse_response(resp)))
        elif word == 'data-end':
            sel, resp = self._selector(rest)
            self._add(('data-end', norm_addr(sel)) if sel else 'data-end', parse_response(resp))
        elif word == 'rcpt':
            sel, resp = self._selector(rest)
            self._add(('rcpt', norm_addr(sel)) if sel else ('verb', 'RCPT'), parse_response(resp))
        elif word == 'auth':
            sel, resp = self._selector(rest)
            self._add(('auth', sel.upper() if sel else '*'), parse_response(resp))
        elif re.fullmatch(r'[A-Za-z][A-Za-z0-9_-]*', word):
            # Any other word is a command verb.
            self._add(('verb', word.upper()), parse_response(rest))
        else:
            raise ScenarioError('unknown directive')

    def _tls_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            ctx.load_cert_chain(self.tls_cert, self.tls_key)
            if self.tls_client_ca:
                ctx.load_verify_locations(self.tls_client_ca)
        except (OSError, ssl.SSLError) as e:
            raise ScenarioError('TLS files %s: %s' % (
                ', '.join(filter(None, (self.tls_cert, self.tls_key, self.tls_client_ca))), e))
        if self.tls_client_ca:
            ctx.verify_mode = ssl.CERT_OPTIONAL if self.tls_client_optional else ssl.CERT_REQUIRED
        if self.tls_protocols:
            v = {'1.0': ssl.TLSVersion.TLSv1, '1.1': ssl.TLSVersion.TLSv1_1,
                 '1.2': ssl.TLSVersion.TLSv1_2, '1.3': ssl.TLSVersion.TLSv1_3}
            lo, hi = self.tls_protocols
            if lo in ('1.0', '1.1'):
                # OpenSSL 3 refuses TLS < 1.2 at its default security level.
                ctx.set_ciphers('DEFAULT:@SECLEVEL=0')
            with warnings.catch_warnings():
                # Old versions are deprecated: that is the point here.
                warnings.simplefilter('ignore', DeprecationWarning)
                ctx.minimum_version, ctx.maximum_version = v[lo], v[hi]
        return ctx


# ---------------------------------------------------------------------------
# Recordings

class Recorder:
    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.commands = self._open('commands')
        self.transcript = self._open('transcript')
        self.wire = self._open('wire')
        self.turns = self._open('turns')
        self.messages = 0
        self.data = None

    def _open(self, name):
        # Unbuffered: every write is a write(2), nothing is lost on a crash.
        return open(os.path.join(self.dir, name), 'wb', buffering=0)

    def log(self, text):
        with self.lock:
            self.transcript.write(text.encode('utf-8', 'replace') + b'\n')

    def event(self, text):
        self.log('*** ' + text)

    def lines(self, prefix, data):
        """Log bytes as C:/S: lines; a CRLF ending is implied, any other
        ending (bare LF, none) shows escaped."""
        for line in re.findall(rb'[^\n]*\n|[^\n]+', data):
            shown = line[:-2] if line.endswith(b'\r\n') else line
            self.log(prefix + escape(shown))

    def connection(self, n, peer):
        if n > 1:
            self.commands.write(b'--- connection %d\n' % n)
        self.event('connection %d from %s' % (n, peer))

    def command(self, line):
        self.commands.write(line + b'\n')

    def clear(self, data):
        self.wire.write(data)

    def begin_message(self):
        self.messages += 1
        self.data = self._open('data.%d' % self.messages)
        return self.messages

    def message_bytes(self, data):
        self.data.write(data)

    def end_message(self, stuffed):
        """Write message.N from data.N: un-stuffed and without the
        terminator for DATA, a copy for BDAT."""
        n = self.messages
        self.data.close()
        self.data = None
        src = os.path.join(self.dir, 'data.%d' % n)
        tmp = os.path.join(self.dir, '.message.%d' % n)
        with open(src, 'rb') as fin, open(tmp, 'wb') as fout:
            if not stuffed:
                while True:
                    block = fin.read(1 << 20)
                    if not block:
                        break
                    fout.write(block)
            else:
                prev = None
                line_start = True
                for line in fin:
                    if prev is not None:
                        fout.write(prev)
                    # Only a dot at the start of a line (after CRLF) is stuffing.
                    prev = line[1:] if line_start and line.startswith(b'.') else line
                    line_start = line.endswith(b'\r\n')
                # The last line is the terminator's ".\r\n" (now "\r\n"): dropped.
        os.rename(tmp, os.path.join(self.dir, 'message.%d' % n))

    def abort_message(self):
        if self.data:
            self.data.close()
            self.data = None


# ---------------------------------------------------------------------------
# One connection

class Closed(Exception):
    """The connection is over (client gone, reset, handshake failed)."""


class Session:
    def __init__(self, scenario, rec, sock, number):
        self.sc = scenario
        self.rec = rec
        self.sock = sock          # the plain socket (detached once TLS starts)
        self.io = sock            # what we read and write: sock or the TLS socket
        self.number = number
        self.tls = False
        self.peer_cert = None
        self.buf = bytearray()    # received, not yet used
        self.out = bytearray()    # to send at the next flush
        self.drip = 0
        self.muted = False        # after stall/close: never send again
        self.first_code = None    # code of the first bytes sent by a response
        self.tx = None            # sender of the open transaction
        self.rcpts = []           # accepted recipients, in order
        self.authenticated = False
        self.helo_mode = False    # HELO (not EHLO) was accepted
        self.bdat_open = False
        self.mid = None           # pending mid-data entry (octets, response)
        self.received = 0         # octets of the current message
        self.answered = True      # sent since the last read (or connect)

    # -- I/O --------------------------------------------------------------

    def recv(self):
        if self.answered:
            self.rec.turns.write(b'turn\n')
            self.answered = False
        return self._recv()

    def drain(self):
        """After a sleep: take in what the client sent meanwhile."""
        while not self.tls:
            try:
                ready, _, _ = select.select([self.sock], [], [], 0)
            except (OSError, ValueError):
                return
            if not ready:
                return
            data = self._recv()
            if not data:
                return        # EOF: the next recv sees it again
            self.buf += data
            self.answered = False

    def _recv(self):
        try:
            data = self.io.recv(65536)
        except ConnectionResetError:
            self.rec.event('connection reset by the client')
            raise Closed()
        except ssl.SSLError as e:
            self.rec.event('tls error while reading: %s' % e)
            raise Closed()
        if not self.tls:
            self.rec.clear(data)
        return data

    def readline(self):
        """A line with its terminator; at EOF the partial line, then None."""
        while True:
            i = self.buf.find(b'\n')
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            data = self.recv()
            if not data:
                if self.buf:
                    line = bytes(self.buf)
                    self.buf.clear()
                    self.rec.event('client closed after an unterminated line')
                    return line
                return None
            self.buf += data

    def read_exact(self, n):
        while len(self.buf) < n:
            data = self.recv()
            if not data:
                self.rec.event('client closed in the middle of a BDAT chunk')
                raise Closed()
            self.buf += data
        chunk = bytes(self.buf[:n])
        del self.buf[:n]
        return chunk

    def flush(self):
        data, self.out = bytes(self.out), bytearray()
        if not data or self.muted:
            return
        self.rec.lines('S: ', data)
        self.answered = True
        try:
            if self.drip:
                for i in range(len(data)):
                    self.io.sendall(data[i:i + 1])
                    time.sleep(self.drip / 1000)
            else:
                self.io.sendall(data)
        except OSError as e:
            self.rec.event('send failed: %s' % e)
            raise Closed()

    # -- faults -----------------------------------------------------------

    def close_write(self):
        # FIN only, so that what the client still sends is recorded.
        # socket.socket.shutdown leaves the TLS socket's state alone.
        try:
            socket.socket.shutdown(self.io, socket.SHUT_WR)
        except OSError:
            pass

    def do_close_notify(self):
        if not self.tls:
            self.rec.event('close-notify without TLS: a plain close')
        else:
            # unwrap() sends close_notify, then waits for the client's.
            self.io.settimeout(2)
            try:
                self.io = self.io.unwrap()
                self.rec.event('tls close_notify exchanged')
            except (OSError, ValueError) as e:
                self.rec.event('tls close_notify sent (%s)' % e)
            self.io.settimeout(None)
            self.tls = False
        self.close_write()
        self.muted = True
        self.rec.event('closed (FIN)')

    def do_reset(self):
        self.io.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.rec.event('reset (RST)')
        self.io.close()
        raise Closed()

    def do_freeze(self):
        # Not reading fills the receive window: the client's writes block.
        self.rec.event('frozen: not reading any more')
        poll = select.poll()
        poll.register(self.io.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        poll.poll()
        self.rec.event('client closed while frozen')
        raise Closed()

    def do_endless(self, code):
        self.rec.event('endless continuation lines %s-xxx...' % code.decode())
        block = (code + b'-' + b'x' * 70 + b'\r\n') * 100
        try:
            while True:
                self.io.sendall(block)
        except OSError as e:
            self.rec.event('endless lines stopped: %s' % e)
            raise Closed()

    # -- responses --------------------------------------------------------

    def respond(self, response, default=None):
        """Run a response (a list of parts); returns the code of the first
        bytes sent (0 when they are not a code), or None."""
        # Saved and restored: a response can run another one (the tls part
        # runs after-tls).
        saved = self.first_code, self.drip, self.out
        self.first_code, self.drip, self.out = None, 0, bytearray()
        try:
            self._run(response, default)
            self.flush()
            return self.first_code
        finally:
            self.first_code, self.drip, self.out = saved

    def _run(self, parts, default):
        for part in parts:
            if self.muted:
                return
            kind = part[0]
            if kind == 'bytes':
                if self.first_code is None:
                    head = part[1][:3]
                    self.first_code = int(head) if re.fullmatch(rb'[0-9]{3}', head) else 0
                self.out += part[1]
                continue
            if kind == 'default':
                self._run(default() if default else [], None)
                continue
            self.flush()
            if kind == 'drip':
                self.drip = part[1]
                self.rec.event('dripping one byte every %d ms' % part[1])
            elif kind == 'sleep':
                time.sleep(part[1] / 1000)
                self.drain()
            elif kind == 'endless':
                if self.first_code is None:
                    self.first_code = int(part[1])
                self.do_endless(part[1])
            elif kind == 'close':
                self.close_write()
                self.muted = True
                self.rec.event('closed (FIN)%s' % (' without close_notify' if self.tls else ''))
            elif kind == 'close-notify':
                self.do_close_notify()
            elif kind == 'reset':
                self.do_reset()
            elif kind == 'stall':
                self.muted = True
                self.rec.event('stalled')
            elif kind == 'freeze':
                self.do_freeze()
            elif kind == 'tls':
                self.start_tls()
            else:
                raise AssertionError(kind)

    def step(self, key, default):
        """Answer with the scenario's entry for KEY, else the default."""
        entry = self.sc.next(key)
        return self.respond(entry if entry is not None else default(), default)

    # -- TLS --------------------------------------------------------------

    def start_tls(self, implicit=False):
        if self.tls:
            self.rec.event('tls requested while TLS is active: ignored')
            return
        if not self.sc.tls_ctx:
            self.rec.event('tls requested but no tls-cert in the scenario')
            return
        if not implicit:
            if self.buf:
                # RFC 3207: the client must wait for the 220 (and see the
                # response-injection attack, THREATS T07).
                self.rec.event('client sent %d bytes in clear after STARTTLS, before the '
                               'handshake: %s; staying in clear' % (len(self.buf), escape(self.buf)))
                return
            first = self.sock.recv(1, socket.MSG_PEEK)
            if not first:
                self.rec.event('client closed before the TLS handshake')
                raise Closed()
            if first[0] != 0x16:    # not a TLS handshake record
                self.rec.event('client sent plaintext instead of a TLS handshake; '
                               'staying in clear')
                return
        sni = []
        self.sc.tls_ctx.sni_callback = lambda sslobj, name, ctx: sni.append(name)
        try:
            tls = self.sc.tls_ctx.wrap_socket(self.sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.rec.event('tls handshake failed: %s' % e)
            raise Closed()
        self.io = tls
        self.tls = True
        self.peer_cert = tls.getpeercert() or None
        subject = ''
        if self.peer_cert:
            subject = ', client certificate: ' + ','.join(
                '%s=%s' % kv for rdn in self.peer_cert.get('subject', ()) for kv in rdn)
        self.rec.event('tls started: %s %s, sni: %s%s' % (
            tls.version(), tls.cipher()[0], sni[0] if sni else '(none)', subject))
        # RFC 3207 4.2: forget everything learnt before TLS.
        self.authenticated = self.helo_mode = False
        self.tx, self.rcpts = None, []
        self.step('after-tls', lambda: [])

    # -- the dialogue -----------------------------------------------------

    def serve(self):
        if self.sc.implicit_tls:
            self.start_tls(implicit=True)
        word = 'LMTP' if self.sc.lmtp else 'ESMTP'
        self.step('greeting', lambda: reply('220 %s %s' % (self.sc.hostname, word)))
        while True:
            raw = self.readline()
            if raw is None:
                self.rec.event('client closed')
                return
            self.rec.lines('C: ', raw)
            line = raw[:-1] if raw.endswith(b'\n') else raw
            if line.endswith(b'\r'):
                line = line[:-1]
            self.rec.command(line)
            self.command(line)

    def command(self, line):
        verb, _, arg = line.decode('utf-8', 'surrogateescape').partition(' ')
        verb = verb.upper()
        if verb == 'AUTH':
            return self.cmd_AUTH(arg)
        if verb == 'BDAT':
            return self.cmd_BDAT(arg)
        handler = getattr(self, 'cmd_' + verb, None) if verb.isalpha() else None
        default = (lambda: handler(arg)) if handler else \
            (lambda: reply('500 5.5.2 Error: command not recognized'))
        key = ('verb', verb)
        if verb == 'RCPT':
            addr = self.path_arg(arg, 'TO:')
            if addr is not None and self.sc.has(('rcpt', norm_addr(addr))):
                key = ('rcpt', norm_addr(addr))
        code = self.step(key, default)
        after = getattr(self, 'after_' + verb.lower(), None)
        if after:
            after(code, arg)

    @staticmethod
    def path_arg(arg, prefix):
        """The address of MAIL FROM:<a> / RCPT TO:<a>, or None."""
        m = re.match(re.escape(prefix) + r'\s*<([^>]*)>', arg, re.I)
        return m.group(1) if m else None

    def ehlo_reply(self):
        caps = self.sc.caps
        if self.tls and self.sc.caps_tls is not None:
            caps = self.sc.caps_tls
        caps = list(caps)
        if (self.sc.tls_cert and not self.tls and not self.sc.starttls_hidden
                and 'STARTTLS' not in (c.upper() for c in caps)):
            caps.append('STARTTLS')
        lines = [self.sc.hostname] + caps
        return reply('\n'.join('250%s%s' % ('-' if i < len(lines) - 1 else ' ', l)
                               for i, l in enumerate(lines)))

    def offered(self):
        caps = self.sc.caps_tls if self.tls and self.sc.caps_tls is not None else self.sc.caps
        return [c.upper() for c in caps]

    def cmd_EHLO(self, arg):
        if self.sc.lmtp:
            return reply('500 5.5.1 Error: this is LMTP, use LHLO')
        if not arg.strip():
            return reply('501 5.5.4 Syntax: EHLO hostname')
        return self.ehlo_reply()

    def cmd_HELO(self, arg):
        if self.sc.lmtp:
            return reply('500 5.5.1 Error: this is LMTP, use LHLO')
        if not arg.strip():
            return reply('501 5.5.4 Syntax: HELO hostname')
        return reply('250 %s' % self.sc.hostname)

    def cmd_LHLO(self, arg):
        if not self.sc.lmtp:
            return reply('500 5.5.2 Error: command not recognized')
        if not arg.strip():
            return reply('501 5.5.4 Syntax: LHLO hostname')
        return self.ehlo_reply()

    def after_ehlo(self, code, arg):
        if code and code // 100 == 2:
            self.tx, self.rcpts = None, []
            self.helo_mode = False
    after_lhlo = after_ehlo

    def after_helo(self, code, arg):
        if code and code // 100 == 2:
            self.tx, self.rcpts = None, []
            self.helo_mode = True     # no ESMTP parameters from now on

    # ESMTP parameter -> the EHLO keyword that allows it (RFC 1870, 6152,
    # 3461, 6531, 4954).
    PARAMS = {'SIZE': 'SIZE', 'BODY': '8BITMIME', 'SMTPUTF8': 'SMTPUTF8',
              'RET': 'DSN', 'ENVID': 'DSN', 'NOTIFY': 'DSN', 'ORCPT': 'DSN',
              'AUTH': 'AUTH'}

    def bad_params(self, arg):
        """A 555 reply for a parameter the server did not offer (any after
        HELO), or None."""
        keywords = set() if self.helo_mode else {c.split()[0].split('=')[0]
                                                 for c in self.offered() if c}
        for param in arg.partition('>')[2].split():
            name = param.split('=')[0].upper()
            if self.PARAMS.get(name, name) not in keywords:
                return reply('555 5.5.4 Unsupported option: %s' % param)
        return None

    def size_limit(self):
        for cap in self.offered():
            m = re.fullmatch(r'SIZE\s+([0-9]+)', cap)
            if m and int(m.group(1)) > 0:
                return int(m.group(1))
        return None

    def cmd_MAIL(self, arg):
        if self.tx is not None:
            return reply('503 5.5.1 Error: nested MAIL command')
        if self.path_arg(arg, 'FROM:') is None:
            return reply('501 5.5.4 Syntax: MAIL FROM:<address>')
        bad = self.bad_params(arg)
        if bad:
            return bad
        m = re.search(r'\sSIZE=([0-9]+)', arg, re.I)
        limit = self.size_limit()
        if m and limit and int(m.group(1)) > limit:
            return reply('552 5.3.4 Message size exceeds fixed limit')
        return reply('250 2.1.0 Ok')

    def after_mail(self, code, arg):
        if code and code // 100 == 2:
            self.tx = self.path_arg(arg, 'FROM:') or ''
            self.rcpts = []

    def cmd_RCPT(self, arg):
        if self.tx is None:
            return reply('503 5.5.1 Error: need MAIL command')
        if self.path_arg(arg, 'TO:') is None:
            return reply('501 5.5.4 Syntax: RCPT TO:<address>')
        return self.bad_params(arg) or reply('250 2.1.5 Ok')

    def after_rcpt(self, code, arg):
        addr = self.path_arg(arg, 'TO:')
        if code and code // 100 == 2 and addr is not None:
            self.rcpts.append(addr)

    def cmd_DATA(self, arg):
        if arg.strip():
            return reply('501 5.5.4 Syntax: DATA')
        if self.tx is None:
            return reply('503 5.5.1 Error: need RCPT command')
        if not self.rcpts:
            return reply('554 5.5.1 Error: no valid recipients')
        return reply('354 End data with <CR><LF>.<CR><LF>')

    def after_data(self, code, arg):
        if code == 354 and not self.muted:
            self.read_data()

    def start_message(self):
        n = self.rec.begin_message()
        entry = self.sc.next('mid-data')
        self.mid = list(entry) if entry else None
        self.received = 0
        return n

    def message_bytes(self, chunk):
        self.rec.message_bytes(chunk)
        self.received += len(chunk)
        if self.mid and self.received >= self.mid[0]:
            self.rec.event('%d octets of message data received' % self.received)
            response, self.mid = self.mid[1], None
            self.respond(response)

    def read_data(self):
        n = self.start_message()
        tail = b'\r\n'    # the data begins at the start of a line
        while True:
            if self.buf:
                chunk, self.buf = bytes(self.buf), bytearray()
            else:
                chunk = self.recv()
                if not chunk:
                    self.rec.event('client closed during the message data (%d octets in data.%d)'
                                   % (self.received, n))
                    self.rec.abort_message()
                    raise Closed()
            window = tail + chunk
            end = window.find(b'\r\n.\r\n')
            if end >= 0:
                cut = end + 5 - len(tail)
                self.buf[:0] = chunk[cut:]     # pipelined commands after the data
                chunk = chunk[:cut]
            self.message_bytes(chunk)
            if end >= 0:
                break
            tail = window[-4:]
        self.rec.event('message data: %d octets -> data.%d' % (self.received, n))
        self.rec.end_message(stuffed=True)
        self.message_done(n)

    def message_done(self, n, refusal=None):
        """The replies to the end of message N (REFUSAL: the built-in reply
        when the message cannot be taken, for BDAT)."""
        if refusal or not self.sc.lmtp:
            self.step('data-end', lambda: reply(
                refusal or '250 2.0.0 Ok: queued as FAKE%d' % n))
        else:
            for addr in self.rcpts:
                if self.muted:
                    break
                key = ('data-end', norm_addr(addr))
                if not self.sc.has(key):
                    key = 'data-end'
                self.step(key, lambda: reply('250 2.0.0 <%s> Ok: queued as FAKE%d' % (addr, n)))
        self.tx, self.rcpts = None, []

    def bdat_refusal(self):
        if 'CHUNKING' not in self.offered():
            return '502 5.5.1 Error: BDAT not advertised'
        if self.tx is None:
            return '503 5.5.1 Error: need MAIL command'
        if not self.rcpts:
            return '554 5.5.1 Error: no valid recipients'
        return None

    def cmd_BDAT(self, arg):
        """RFC 3030.  The chunk follows the command at once, whatever the
        reply, so it is read first.  A chunk's reply comes from the BDAT
        sequence, the LAST chunk's from data-end (it ends the message)."""
        m = re.fullmatch(r'\s*([0-9]+)(\s+LAST)?\s*', arg, re.I)
        if not m:
            self.step(('verb', 'BDAT'), lambda: reply('501 5.5.4 Syntax: BDAT size [LAST]'))
            return
        size, last = int(m.group(1)), bool(m.group(2))
        if not self.bdat_open:
            self.start_message()
            self.bdat_open = True
        self.message_bytes(self.read_exact(size))
        self.rec.event('BDAT chunk: %d octets%s' % (size, ' (LAST)' if last else ''))
        if not last:
            self.step(('verb', 'BDAT'),
                      lambda: reply(self.bdat_refusal() or '250 2.0.0 Ok: %d octets' % size))
            return
        n = self.rec.messages
        self.bdat_open = False
        self.rec.event('message data: %d octets -> data.%d' % (self.received, n))
        self.rec.end_message(stuffed=False)
        self.message_done(n, self.bdat_refusal())

    def cmd_RSET(self, arg):
        return reply('250 2.0.0 Ok')

    def after_rset(self, code, arg):
        self.tx, self.rcpts = None, []
        if self.bdat_open:
            self.bdat_open = False
            self.rec.abort_message()

    def cmd_NOOP(self, arg):
        return reply('250 2.0.0 Ok')

    def cmd_VRFY(self, arg):
        return reply('252 2.0.0 Cannot VRFY user, but will accept message')

    def cmd_EXPN(self, arg):
        return reply('502 5.5.1 Error: EXPN not available')

    def cmd_HELP(self, arg):
        return reply('214 2.0.0 Help: see RFC 5321')

    def cmd_QUIT(self, arg):
        # Over TLS a real server (Postfix) ends with close_notify.
        return reply('221 2.0.0 Bye') + [('close-notify',) if self.tls else ('close',)]

    def cmd_STARTTLS(self, arg):
        if arg.strip():
            return reply('501 5.5.4 Syntax: STARTTLS')
        if self.tls:
            return reply('503 5.5.1 Error: TLS already active')
        if not self.sc.tls_ctx:
            return reply('454 4.7.0 TLS not available')
        return reply('220 2.0.0 Ready to start TLS') + [('tls',)]

    # -- AUTH -------------------------------------------------------------

    def cmd_AUTH(self, arg):
        mech, _, initial = arg.strip().partition(' ')
        mech = mech.upper()
        script = self.sc.rules.get(('auth', mech)) or self.sc.rules.get(('auth', '*'))
        if script:
            self.rec.event('AUTH %s: scripted' % mech)
            replies = iter(script)
            last = script[-1]

            def exchange(line):
                return self.respond(next(replies, last))
        else:
            gen = self.builtin_auth(mech, initial.strip())

            def exchange(line):
                try:
                    text = next(gen) if line is None else gen.send(line)
                except StopIteration:
                    text = '535 5.7.8 Error: unexpected response'
                return self.respond(reply(text))
        code = exchange(None)
        while code == 334:
            raw = self.readline()
            if raw is None:
                self.rec.event('client closed during AUTH')
                raise Closed()
            self.rec.lines('C: ', raw)
            line = raw.rstrip(b'\n').rstrip(b'\r')
            self.rec.command(line)
            if line == b'*':
                code = self.respond(reply('501 5.7.0 Authentication cancelled'))
                break
            code = exchange(line)
        if code == 235:
            self.authenticated = True

    def builtin_auth(self, mech, initial):
        """Generator: yields reply texts, receives the client's lines."""
        offered = []
        for cap in self.offered():
            if cap.startswith('AUTH ') or cap.startswith('AUTH='):
                offered += cap[5:].split()
        if not mech:
            yield '501 5.5.4 Syntax: AUTH mechanism'
            return
        if self.authenticated:
            yield '503 5.5.1 Error: already authenticated'
            return
        if self.tx is not None:
            yield '503 5.5.1 Error: MAIL transaction in progress'
            return
        if not offered:
            yield '503 5.5.1 Error: authentication not enabled'
            return
        if mech not in offered:
            yield '504 5.5.4 Unrecognized authentication type'
            return
        ok, bad = '235 2.7.0 Authentication successful', '535 5.7.8 Error: authentication failed'
        undecodable = '501 5.5.2 Cannot decode response'
        first = initial.encode() if initial else None

        def decode(b64):
            if b64 == b'=':
                return b''
            try:
                return base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError):
                return None

        def check(user, password):
            s = self.sc.auth_secret
            return s is None or (user, password) == s

        if mech in ('PLAIN', 'XOAUTH2', 'OAUTHBEARER', 'EXTERNAL'):
            if first is None:
                first = yield '334 '
            data = decode(first)
            if data is None:
                yield undecodable
            elif mech == 'PLAIN':
                fields = data.split(b'\0')
                yield ok if len(fields) == 3 and check(fields[1], fields[2]) else bad
            elif mech == 'EXTERNAL':
                yield ok if getattr(self, 'peer_cert', None) else bad
            else:
                # XOAUTH2 "user=U^Aauth=Bearer T^A^A";
                # OAUTHBEARER "n,a=U,^Ahost=...^Aauth=Bearer T^A^A".
                m_user = re.search(rb'(?:^user=|^n,a=)([^,\x01]*)', data)
                m_tok = re.search(rb'\x01auth=Bearer ([^\x01]*)\x01', data)
                if m_user and m_tok and check(m_user.group(1), m_tok.group(1)):
                    yield ok
                elif mech == 'XOAUTH2':
                    # RFC-less but Google's: an error challenge, then 535.
                    yield '334 ' + base64.b64encode(b'{"status":"401"}').decode()
                    yield bad
                else:
                    yield '334 ' + base64.b64encode(b'{"status":"invalid_token"}').decode()
                    yield bad
        elif mech == 'LOGIN':
            user = first if first is not None else (yield '334 VXNlcm5hbWU6')
            password = yield '334 UGFzc3dvcmQ6'
            user, password = decode(user), decode(password)
            if user is None or password is None:
                yield undecodable
            else:
                yield ok if check(user, password) else bad
        elif mech == 'CRAM-MD5':
            challenge = ('<%d.%d@%s>' % (os.getpid(), time.time_ns(), self.sc.hostname)).encode()
            data = decode((yield '334 ' + base64.b64encode(challenge).decode()))
            if data is None or b' ' not in data:
                yield undecodable
                return
            user, digest = data.rsplit(b' ', 1)
            s = self.sc.auth_secret
            good = s is None or (user == s[0] and digest.lower() == hmac.new(
                s[1], challenge, 'md5').hexdigest().encode())
            yield ok if good else bad
        elif mech in ('SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS',
                      'SCRAM-SHA-256-PLUS'):
            yield from self.scram(mech, first, decode,
                                  any(m.endswith('-PLUS') for m in offered))
        else:
            yield '504 5.5.4 Unrecognized authentication type'

    def channel_binding(self):
        """(type, data) of this TLS connection, computed on the server's
        side: tls-exporter (RFC 9266) under TLS 1.3, tls-unique under 1.2;
        (None, None) in clear."""
        if not self.tls:
            return None, None
        if self.io.version() != 'TLSv1.3':
            return 'tls-unique', self.io.get_channel_binding('tls-unique')
        return 'tls-exporter', tls_exporter(self.io)

    def scram(self, mech, first, decode, plus_offered):
        """RFC 5802 server side, with channel binding for -PLUS."""
        bad = '535 5.7.8 Error: authentication failed'
        if self.sc.auth_secret is None:
            yield '454 4.7.0 %s needs auth-secret in the scenario' % mech
            return
        user_ok, password = self.sc.auth_secret
        h = 'sha1' if mech.startswith('SCRAM-SHA-1') else 'sha256'
        if first is None:
            first = yield '334 '
        client_first = decode(first)
        m = client_first and re.fullmatch(rb'([ny]|p=[A-Za-z0-9.-]+),([^,]*,)(n=[^,]*,r=([^,]+)(?:,.*)?)', client_first)
        if not m:
            yield '501 5.5.2 Bad SCRAM client-first-message'
            return
        flag, _, client_first_bare, cnonce = m.groups()
        gs2 = m.group(1) + b',' + m.group(2)
        cb_type, cb = self.channel_binding()
        if mech.endswith('-PLUS'):
            if cb is None or flag != b'p=' + cb_type.encode():
                yield '535 5.7.8 Error: wrong channel binding type'
                return
            if self.sc.scram_binding:
                cb = bytes(b ^ 0xff for b in cb)
            gs2 += cb
        elif flag == b'y' and plus_offered:
            # RFC 5802 6: the client could bind, yet a -PLUS is offered:
            # someone removed it from what the client saw.
            yield bad
            return
        user = re.match(rb'n=([^,]*)', client_first_bare).group(1)
        user = user.replace(b'=2C', b',').replace(b'=3D', b'=')
        salt, iterations = secrets.token_bytes(16), 4096
        nonce = cnonce + base64.b64encode(secrets.token_bytes(18))
        server_first = b'r=%s,s=%s,i=%d' % (nonce, base64.b64encode(salt), iterations)
        client_final = decode((yield '334 ' + base64.b64encode(server_first).decode()))
        m = client_final and re.fullmatch(rb'(c=([^,]*),r=([^,]*)(?:,.*)?),p=([^,]*)', client_final)
        if not m or m.group(3) != nonce:
            yield bad
            return
        without_proof, proof = m.group(1), decode(m.group(4))
        signed_only = self.sc.scram_binding == 'wrong-signed'
        if signed_only:
            # Sign the messages as this server sees them, on its channel.
            without_proof = b'c=' + base64.b64encode(gs2) + b',r=' + nonce
        elif decode(m.group(2)) != gs2:
            err = b'e=channel-bindings-dont-match' if mech.endswith('-PLUS') else None
            if err:
                yield '334 ' + base64.b64encode(err).decode()
            yield bad
            return
        salted = hashlib.pbkdf2_hmac(h, password, salt, iterations)
        client_key = hmac.new(salted, b'Client Key', h).digest()
        auth_message = client_first_bare + b',' + server_first + b',' + without_proof
        signature = hmac.new(hashlib.new(h, client_key).digest(), auth_message, h).digest()
        expected = bytes(a ^ b for a, b in zip(client_key, signature))
        if not signed_only and (user != user_ok or proof is None or
                                not hmac.compare_digest(proof, expected)):
            yield bad
            return
        server_key = hmac.new(salted, b'Server Key', h).digest()
        server_final = b'v=' + base64.b64encode(hmac.new(server_key, auth_message, h).digest())
        yield '334 ' + base64.b64encode(server_final).decode()
        yield '235 2.7.0 Authentication successful'


def tls_exporter(sslsock):
    """RFC 9266 tls-exporter of a TLS 1.3 connection.  Python's ssl has
    no exporter before 3.13, so ask OpenSSL through ctypes; the SSL* is the
    second field after PyObject_HEAD of _ssl._SSLSocket (CPython 3.8 to
    3.12)."""
    import ctypes

    lib = ctypes.CDLL(_libssl_path())
    ptr = ctypes.c_void_p.from_address(
        id(sslsock._sslobj) + 3 * ctypes.sizeof(ctypes.c_void_p)).value
    out = ctypes.create_string_buffer(32)
    label = b'EXPORTER-Channel-Binding'
    f = lib.SSL_export_keying_material
    f.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                  ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                  ctypes.c_size_t, ctypes.c_int]
    if f(ptr, out, 32, label, len(label), b'', 0, 1) != 1:
        raise RuntimeError('SSL_export_keying_material failed')
    return out.raw


def _libssl_path():
    """The libssl the _ssl module is linked with (ldd-free: from the
    process's maps)."""
    with open('/proc/self/maps') as maps:
        for line in maps:
            path = line.split()[-1]
            if '/libssl.so' in path:
                return path
    raise RuntimeError('libssl is not loaded')


# ---------------------------------------------------------------------------
# Main

STATUS_DIR = None

def main():
    ap = argparse.ArgumentParser(usage='%(prog)s --dir DIR --scenario FILE [options]',
                                 description=__doc__.split('\n', 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--scenario', required=True)
    # Loopback, or 10.203.x.2: a test host in a network namespace the
    # tests made themselves (tests/lib/common.bash testhost_up).
    ap.add_argument('--listen', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--unix')
    ap.add_argument('--certs', help='directory for relative certificate names')
    ap.add_argument('--max-time', type=float, default=30)
    args = ap.parse_args()
    if args.listen not in ('127.0.0.1', '::1') and \
            not args.listen.startswith('10.203.'):
        ap.error('--listen: loopback or a test host (10.203.x.2) only')

    os.makedirs(args.dir, exist_ok=True)
    global STATUS_DIR
    STATUS_DIR = args.dir
    try:
        with open(args.scenario, encoding='utf-8') as f:
            scenario = Scenario(f.read(), args.certs)
    except (OSError, ScenarioError) as e:
        print('fakesmtp: %s' % e, file=sys.stderr)
        return 2
    rec = Recorder(args.dir)

    def give_up():
        rec.event('max-time (%gs) reached: exiting' % args.max_time)
        write_status(args.dir, 3)
        os._exit(3)
    timer = threading.Timer(args.max_time, give_up)
    timer.daemon = True
    timer.start()

    if args.unix:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.unlink(args.unix)
        except FileNotFoundError:
            pass
        listener.bind(args.unix)
        where = args.unix
    else:
        family = socket.AF_INET6 if ':' in args.listen else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.bind((args.listen, args.port))
        where = str(listener.getsockname()[1])
    listener.listen(8)
    for name, value in (('pid', str(os.getpid())), ('port', where)):
        tmp = os.path.join(args.dir, '.%s.tmp' % name)
        with open(tmp, 'w') as f:
            f.write(value + '\n')
        os.rename(tmp, os.path.join(args.dir, name))
    rec.event('listening on %s' % where)

    for number in range(1, scenario.connections + 1):
        conn, peer = listener.accept()
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            # Replies go out at once, as a real server's would; Nagle
            # would add a delayed-ACK wait to every reply.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rec.connection(number, peer or 'unix socket')
        session = Session(scenario, rec, conn, number)
        try:
            session.serve()
        except Closed:
            pass
        except OSError as e:
            rec.event('connection error: %s' % e)
        finally:
            rec.abort_message()
            try:
                session.io.close()
                conn.close()
            except OSError:
                pass
            rec.event('connection %d ended' % number)
    listener.close()
    if args.unix:
        os.unlink(args.unix)
    rec.event('done')
    return 0


def write_status(directory, status):
    """DIR/status: the exit status, for callers that are not our parent."""
    try:
        with open(os.path.join(directory, '.status.tmp'), 'w') as f:
            f.write('%d\n' % status)
        os.rename(os.path.join(directory, '.status.tmp'), os.path.join(directory, 'status'))
    except OSError:
        pass


if __name__ == '__main__':
    try:
        status = main()
    except SystemExit as e:     # argparse
        status = e.code if isinstance(e.code, int) else 2
    except BaseException:
        traceback.print_exc()
        status = 1
    if STATUS_DIR:
        write_status(STATUS_DIR, status)
    sys.exit(status)
