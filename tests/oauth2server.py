#!/usr/bin/env python3
"""oauth2server.py: a scripted OAuth2 provider over HTTPS on 127.0.0.1, for
carrier's OAuth2 tests (tests/oauth2.bats).

Usage: oauth2server.py --dir DIR --cert FILE --key FILE [--scenario FILE]
                       [--max-time S]
Listens on an ephemeral port of 127.0.0.1 and writes it to DIR/port.  Runs
until killed or --max-time (default 60) seconds have passed.

Endpoints:
  POST /device     device authorization (RFC 8628 3.1)
  GET  /authorize  the authorization endpoint (RFC 6749 4.1.1, PKCE of
                   RFC 7636): records code_challenge, state and
                   redirect_uri, answers 302 to redirect_uri?code=..&state=..
  POST /token      grant_type refresh_token, device_code (RFC 8628 3.4) and
                   authorization_code (verifies the PKCE code_verifier,
                   redirect_uri and the code)
  POST /introspect RFC 7662 for a token=... form: {"active": true|false},
                   with "username" when active and introspect-user is set
                   (what Dovecot's oauth2 passdb compares with the login)

Tokens it issues: access tokens "ya29.atN", refresh tokens "1//rtN", N
counting from 1 across the run.  A refresh token is valid when the scenario
names it (refresh-token) or the server issued it and did not rotate it away.

Recordings in DIR:
  requests  one line per request: "ENDPOINT OUTCOME", e.g. "refresh ok",
            "refresh invalid_grant", "poll authorization_pending",
            "authorize ok", "code ok", "code pkce-mismatch", "device ok";
            never a token
  issued    "access TOKEN" / "refresh TOKEN", one a line, as issued

Scenario (one directive a line, # comments).  A sequence: the k-th request
of the kind gets the k-th entry, the last entry repeats:
  refresh OUTCOME...    ok | rotate | invalid_grant | invalid_client |
                        malformed | notjson | hang | 500 |
                        temporarily_unavailable
  poll OUTCOME...       ok | authorization_pending | slow_down |
                        expired_token | access_denied | malformed
  authorize OUTCOME     ok | access_denied | wrong-state
  device OUTCOME        ok | malformed | invalid_client
  refresh-token TOKEN   a refresh token that is valid from the start
  lifetime SECONDS      expires_in of issued access tokens (default 3600)
  introspect-user NAME  the owner of every active token, for /introspect
  delay SECONDS         wait before answering each refresh (concurrency)
  interval SECONDS      the device grant's interval (default 1)
  device-expires S      the device code's expires_in (default 60)
  client-secret SECRET  every token request must carry it
"""

import argparse
import base64
import hashlib
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, scenario):
        self.lock = threading.Lock()
        self.seq = {}
        self.counts = {}
        self.n = 0
        self.valid_refresh = set()
        self.access = set()
        self.lifetime = 3600
        self.delay = 0.0
        self.interval = 1
        self.device_expires = 60
        self.client_secret = None
        self.introspect_user = None
        self.pending_code = None    # (code, challenge, redirect_uri)
        for line in scenario.splitlines():
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            word, _, rest = line.partition(' ')
            if word in ('refresh', 'poll', 'authorize', 'device'):
                self.seq[word] = rest.split()
            elif word == 'refresh-token':
                self.valid_refresh.add(rest)
            elif word == 'lifetime':
                self.lifetime = int(rest)
            elif word == 'delay':
                self.delay = float(rest)
            elif word == 'interval':
                self.interval = int(rest)
            elif word == 'device-expires':
                self.device_expires = int(rest)
            elif word == 'client-secret':
                self.client_secret = rest
            elif word == 'introspect-user':
                self.introspect_user = rest
            else:
                raise SystemExit('oauth2server: unknown directive %r' % word)

    def next(self, kind, default='ok'):
        with self.lock:
            k = self.counts.get(kind, 0)
            self.counts[kind] = k + 1
            s = self.seq.get(kind, [default])
            return s[min(k, len(s) - 1)]

    def issue(self, with_refresh):
        with self.lock:
            self.n += 1
            body = {'access_token': 'ya29.at%d' % self.n,
                    'token_type': 'Bearer', 'expires_in': self.lifetime}
            self.access.add(body['access_token'])
            lines = ['access ' + body['access_token']]
            if with_refresh:
                body['refresh_token'] = '1//rt%d' % self.n
                self.valid_refresh.add(body['refresh_token'])
                lines.append('refresh ' + body['refresh_token'])
            with open(os.path.join(ARGS.dir, 'issued'), 'a') as f:
                f.write(''.join(x + '\n' for x in lines))
            return body


def record(line):
    with open(os.path.join(ARGS.dir, 'requests'), 'a') as f:
        f.write(line + '\n')


def b64url_sha256(s):
    d = hashlib.sha256(s.encode()).digest()
    return base64.urlsafe_b64encode(d).decode().rstrip('=')


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype='application/json'):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def error(self, code, status=400):
        self.send(status, {'error': code, 'error_description': 'test: ' + code})

    def form(self):
        n = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(n).decode()
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path != '/authorize':
            return self.send(404, {'error': 'not_found'})
        q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
        outcome = S.next('authorize')
        if q.get('code_challenge_method') != 'S256' or not q.get('code_challenge') \
                or q.get('response_type') != 'code' or not q.get('state'):
            record('authorize bad-request')
            return self.send(400, {'error': 'invalid_request'})
        redirect = q['redirect_uri']
        code = 'c0de.%d' % time.time_ns()
        with S.lock:
            S.pending_code = (code, q['code_challenge'], redirect)
        if outcome == 'access_denied':
            params = {'error': 'access_denied', 'state': q['state']}
        elif outcome == 'wrong-state':
            params = {'code': code, 'state': 'not-' + q['state']}
        else:
            params = {'code': code, 'state': q['state']}
        record('authorize ' + outcome)
        self.send_response(302)
        self.send_header('Location', redirect + '?' + urllib.parse.urlencode(params))
        self.send_header('Content-Length', '0')
        self.send_header('Connection', 'close')
        self.end_headers()
        self.close_connection = True

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        f = self.form()
        if path == '/device':
            return self.device(f)
        if path == '/introspect':
            active = f.get('token') in S.access
            record('introspect %s' % ('active' if active else 'inactive'))
            answer = {'active': active}
            if active and S.introspect_user:
                answer['username'] = S.introspect_user
            return self.send(200, answer)
        if path != '/token':
            return self.send(404, {'error': 'not_found'})
        if S.client_secret is not None and f.get('client_secret') != S.client_secret:
            record('token invalid_client')
            return self.error('invalid_client', 401)
        grant = f.get('grant_type')
        if grant == 'refresh_token':
            return self.refresh(f)
        if grant == 'urn:ietf:params:oauth:grant-type:device_code':
            return self.poll(f)
        if grant == 'authorization_code':
            return self.code(f)
        record('token unsupported_grant_type')
        return self.error('unsupported_grant_type')

    def device(self, f):
        outcome = S.next('device')
        record('device ' + outcome)
        if outcome == 'malformed':
            return self.send(200, b'{"device_code": "x", "user_code": 5}')
        if outcome != 'ok':
            return self.error(outcome)
        port = self.server.server_address[1]
        self.send(200, {'device_code': 'dev1ce.c0de', 'user_code': 'WDJB-MJHT',
                        'verification_uri': 'https://127.0.0.1:%d/verify' % port,
                        'expires_in': S.device_expires, 'interval': S.interval})

    def poll(self, f):
        outcome = S.next('poll')
        record('poll ' + outcome)
        if f.get('device_code') != 'dev1ce.c0de':
            return self.error('invalid_grant')
        if outcome == 'ok':
            return self.send(200, S.issue(True))
        if outcome == 'malformed':
            return self.send(200, b'{"access_token": ')
        return self.error(outcome)

    def code(self, f):
        with S.lock:
            pending, S.pending_code = S.pending_code, None
        if pending is None or f.get('code') != pending[0]:
            record('code bad-code')
            return self.error('invalid_grant')
        if f.get('redirect_uri') != pending[2]:
            record('code redirect-mismatch')
            return self.error('invalid_grant')
        if b64url_sha256(f.get('code_verifier', '')) != pending[1]:
            record('code pkce-mismatch')
            return self.error('invalid_grant')
        record('code ok')
        self.send(200, S.issue(True))

    def refresh(self, f):
        outcome = S.next('refresh')
        if S.delay:
            time.sleep(S.delay)
        rt = f.get('refresh_token')
        if outcome in ('ok', 'rotate') and rt not in S.valid_refresh:
            outcome = 'invalid_grant'
        record('refresh ' + outcome)
        if outcome == 'ok':
            return self.send(200, S.issue(False))
        if outcome == 'rotate':
            with S.lock:
                S.valid_refresh.discard(rt)
            return self.send(200, S.issue(True))
        if outcome == 'malformed':
            return self.send(200, b'{"access_token": ["not", "a", "string"]}')
        if outcome == 'notjson':
            return self.send(200, b'<html>gateway</html>', 'text/html')
        if outcome == 'hang':
            time.sleep(ARGS.max_time)
            return None
        if outcome == '500':
            return self.send(500, b'oops', 'text/plain')
        return self.error(outcome, 401 if outcome == 'invalid_client' else 400)


def main():
    global ARGS, S
    p = argparse.ArgumentParser()
    p.add_argument('--dir', required=True)
    p.add_argument('--cert', required=True)
    p.add_argument('--key', required=True)
    p.add_argument('--scenario')
    p.add_argument('--max-time', type=float, default=60)
    ARGS = p.parse_args()
    text = open(ARGS.scenario).read() if ARGS.scenario else ''
    S = State(text)
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    httpd.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    tmp = os.path.join(ARGS.dir, 'port.tmp')
    with open(tmp, 'w') as f:
        f.write('%d\n' % httpd.server_address[1])
    os.rename(tmp, os.path.join(ARGS.dir, 'port'))
    threading.Timer(ARGS.max_time, lambda: os._exit(0)).start()
    httpd.serve_forever()


if __name__ == '__main__':
    sys.exit(main())
