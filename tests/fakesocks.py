#!/usr/bin/env python3
"""fakesocks.py: a scriptable SOCKS5 proxy (RFC 1928, RFC 1929) for tests.

  fakesocks.py --dir DIR [--method none|userpass|reject|garbage]
               [--user U --password P] [--rep N] [--reply-hex HEX]
               [--map NAME=ADDR]... [--max-time S]

Listens on an ephemeral port of 127.0.0.1 and writes it to DIR/port, then
serves connections one after another until --max-time (default 20 s):

  --method    what it answers to the greeting: none (0x00), userpass
              (0x02, then checks --user/--password and answers 1/0 or
              1/1), reject (0xFF), garbage (an SMTP greeting instead of
              SOCKS5).
  --rep N     the REP field of its reply to CONNECT (0: it connects).
  --reply-hex the raw reply to CONNECT instead (malformed replies).
  --map       NAME=ADDR: how it resolves a name sent with ATYP 3; an
              unmapped name is refused with REP 4.  Only 127.0.0.1 and
              ::1 are ever connected to: the tests stay on this machine.

Each request is logged to DIR/requests, one line per connection:
"methods HEX", "login USER PASSWORD-LENGTH", "connect ATYP ADDR PORT".
On success it relays bytes both ways until either side closes.
"""
import argparse
import ipaddress
import os
import select
import socket
import struct
import sys
import time


def log(d, line):
    with open(os.path.join(d, 'requests'), 'a') as f:
        f.write(line + '\n')


def recv_exact(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def relay(a, b):
    socks = [a, b]
    while True:
        r, _, _ = select.select(socks, [], [], 30)
        if not r:
            return
        for s in r:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


def serve(c, args):
    ver, n = recv_exact(c, 2)
    methods = recv_exact(c, n)
    log(args.dir, 'methods %s' % methods.hex())
    if args.method == 'garbage':
        c.sendall(b'220 not a socks proxy\r\n')
        return
    if args.method == 'reject':
        c.sendall(b'\x05\xff')
        return
    if args.method == 'userpass':
        c.sendall(b'\x05\x02')
        v, ul = recv_exact(c, 2)
        user = recv_exact(c, ul).decode()
        pl = recv_exact(c, 1)[0]
        pw = recv_exact(c, pl).decode()
        log(args.dir, 'login %s %d' % (user, len(pw)))
        ok = user == args.user and pw == args.password
        c.sendall(b'\x01\x00' if ok else b'\x01\x01')
        if not ok:
            return
    else:
        c.sendall(b'\x05\x00')
    ver, cmd, rsv, atyp = recv_exact(c, 4)
    if atyp == 1:
        addr = socket.inet_ntop(socket.AF_INET, recv_exact(c, 4))
    elif atyp == 4:
        addr = socket.inet_ntop(socket.AF_INET6, recv_exact(c, 16))
    else:
        addr = recv_exact(c, recv_exact(c, 1)[0]).decode('ascii', 'replace')
    port = struct.unpack('>H', recv_exact(c, 2))[0]
    log(args.dir, 'connect %d %s %d' % (atyp, addr, port))
    if args.reply_hex is not None:
        c.sendall(bytes.fromhex(args.reply_hex))
        return
    target = dict(m.split('=', 1) for m in args.map).get(addr, addr) \
        if atyp == 3 else addr
    rep = args.rep
    try:
        ip = ipaddress.ip_address(target)
    except ValueError:
        ip = None
    if rep == 0 and (ip is None or not ip.is_loopback):
        rep = 4  # never leave the machine
    if rep != 0:
        c.sendall(struct.pack('>BBBB4sH', 5, rep, 0, 1, b'\0' * 4, 0))
        return
    try:
        up = socket.create_connection((target, port), timeout=5)
    except OSError:
        c.sendall(struct.pack('>BBBB4sH', 5, 5, 0, 1, b'\0' * 4, 0))
        return
    c.sendall(struct.pack('>BBBB4sH', 5, 0, 0, 1,
                          socket.inet_aton('127.0.0.1'), 1080))
    relay(c, up)
    up.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--method', default='none',
                    choices=['none', 'userpass', 'reject', 'garbage'])
    ap.add_argument('--user', default='')
    ap.add_argument('--password', default='')
    ap.add_argument('--rep', type=int, default=0)
    ap.add_argument('--reply-hex')
    ap.add_argument('--map', action='append', default=[])
    ap.add_argument('--max-time', type=float, default=20)
    args = ap.parse_args()
    ls = socket.socket()
    ls.bind(('127.0.0.1', 0))
    ls.listen(8)
    with open(os.path.join(args.dir, 'port.tmp'), 'w') as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(os.path.join(args.dir, 'port.tmp'),
              os.path.join(args.dir, 'port'))
    end = time.time() + args.max_time
    while time.time() < end:
        r, _, _ = select.select([ls], [], [], max(0.1, end - time.time()))
        if not r:
            break
        c, _ = ls.accept()
        c.settimeout(10)
        try:
            serve(c, args)
        except (EOFError, OSError):
            pass
        finally:
            c.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
