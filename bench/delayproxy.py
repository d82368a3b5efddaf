#!/usr/bin/python3
"""delayproxy: a loopback TCP proxy that adds a fixed delay each way and
counts round trips.

    delayproxy.py [--delay MS] [--record FILE] [--ready FILE]
                  [--idle-timeout S] [--lifetime S]
                  LISTEN_PORT:TARGET_HOST:TARGET_PORT ...

Every chunk of bytes read from one side is written to the other side DELAY
milliseconds (default 25) after it was read, in order, so that one exchange
(request there, answer back) costs 2 x DELAY.  A shutdown (EOF) is passed on
the same way, after the data before it.

The connection itself costs one round trip, as on a real link: the proxy
opens its connection to the target 3 x DELAY after the client connected (the
SYN, SYN-ACK, ACK and, on the server's side, accept() of a real link), so a
server greeting reaches the client after 2 round trips and a client that
speaks first (TLS from the first byte) has its first bytes at the server
after 1.5 round trips, both as on a real link.

Round trips are counted, not guessed: the connect counts as one, and every
time data from the server follows data from the client (a change of
direction client->server then server->client; the connect counts as client
data) is one more.  Server data that follows the client's EOF is not a
round trip the client waited for and is not counted.

When a connection is over (both directions shut), one line is appended to
the record file (and printed on stdout without --record):

    port=LISTEN_PORT rt=N c2s=BYTES s2c=BYTES secs=DURATION

Only loopback: listens on 127.0.0.1, and refuses targets that are not
loopback addresses.  Bounded: a connection idle for --idle-timeout seconds
(default 60) is closed, and the proxy exits after --lifetime seconds
(default 3600) or on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import ipaddress
import os
import signal
import sys
import time


class Conn:
    def __init__(self, port):
        self.port = port
        self.rt = 1          # the connect
        self.last = "C"      # the connect counts as client data
        self.client_eof = False
        self.c2s = 0
        self.s2c = 0
        self.t0 = time.monotonic()


class Proxy:
    def __init__(self, delay, record, idle):
        self.delay = delay
        self.record = record
        self.idle = idle
        self.active = set()

    def note(self, conn):
        line = "port=%d rt=%d c2s=%d s2c=%d secs=%.4f\n" % (
            conn.port, conn.rt, conn.c2s, conn.s2c,
            time.monotonic() - conn.t0)
        if self.record:
            with open(self.record, "a") as f:
                f.write(line)
        else:
            sys.stdout.write(line)
            sys.stdout.flush()

    async def pump(self, conn, reader, get_writer, side):
        """Read from one side, deliver to the other DELAY later, in order."""
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()

        async def deliver():
            writer = await get_writer()
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if writer is None:
                    continue          # the other side never connected
                if data is None:
                    try:
                        if writer.can_write_eof():
                            writer.write_eof()
                    except (OSError, RuntimeError):
                        pass
                    return
                try:
                    writer.write(data)
                    await writer.drain()
                except (OSError, RuntimeError):
                    return

        task = asyncio.create_task(deliver())
        try:
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(65536),
                                                  self.idle)
                except (asyncio.TimeoutError, OSError):
                    data = b""
                now = loop.time()
                if not data:
                    if side == "C":
                        conn.client_eof = True
                    await queue.put((now + self.delay, None))
                    break
                if side == "C":
                    conn.c2s += len(data)
                    conn.last = "C"
                else:
                    conn.s2c += len(data)
                    if conn.last == "C" and not conn.client_eof:
                        conn.rt += 1
                    conn.last = "S"
                await queue.put((now + self.delay, data))
        finally:
            await task

    async def handle(self, creader, cwriter, port, thost, tport):
        conn = Conn(port)
        loop = asyncio.get_running_loop()
        connected = loop.create_future()

        async def connect():
            await asyncio.sleep(3 * self.delay)
            try:
                sr, sw = await asyncio.open_connection(thost, tport)
                connected.set_result((sr, sw))
            except OSError as e:
                connected.set_result((None, None))
                print("delayproxy: connect %s:%d: %s" % (thost, tport, e),
                      file=sys.stderr)

        async def server_writer():
            return (await connected)[1]

        async def client_writer():
            return cwriter

        ctask = asyncio.create_task(connect())
        up = asyncio.create_task(
            self.pump(conn, creader, server_writer, "C"))
        sreader, swriter = await connected
        if sreader is None:
            # Nothing to talk to: drop the client.
            up.cancel()
            cwriter.close()
            return
        down = asyncio.create_task(
            self.pump(conn, sreader, client_writer, "S"))
        await asyncio.gather(up, down, ctask, return_exceptions=True)
        for w in (cwriter, swriter):
            try:
                w.close()
            except Exception:
                pass
        self.note(conn)

    async def serve(self, maps, ready, lifetime):
        servers = []
        for lport, thost, tport in maps:
            async def cb(r, w, lport=lport, thost=thost, tport=tport):
                t = asyncio.current_task()
                self.active.add(t)
                try:
                    await self.handle(r, w, lport, thost, tport)
                finally:
                    self.active.discard(t)
            srv = await asyncio.start_server(cb, "127.0.0.1", lport,
                                             reuse_address=True)
            servers.append(srv)
        if ready:
            with open(ready + ".tmp", "w") as f:
                f.write("%d\n" % os.getpid())
            os.rename(ready + ".tmp", ready)
        stop = asyncio.get_running_loop().create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(
                sig, lambda: stop.done() or stop.set_result(None))
        try:
            await asyncio.wait_for(stop, lifetime)
        except asyncio.TimeoutError:
            print("delayproxy: lifetime over, exiting", file=sys.stderr)
        for s in servers:
            s.close()
        for t in list(self.active):
            t.cancel()


def loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--delay", type=float, default=25.0,
                    help="milliseconds added each way (25)")
    ap.add_argument("--record", help="append one line per connection here")
    ap.add_argument("--ready", help="write our pid here once listening")
    ap.add_argument("--idle-timeout", type=float, default=60.0)
    ap.add_argument("--lifetime", type=float, default=3600.0)
    ap.add_argument("maps", nargs="+",
                    metavar="LISTEN_PORT:TARGET_HOST:TARGET_PORT")
    a = ap.parse_args()
    maps = []
    for m in a.maps:
        try:
            lp, th, tp = m.rsplit(":", 2)
            maps.append((int(lp), th.strip("[]"), int(tp)))
        except ValueError:
            ap.error("bad mapping %r" % m)
        if not loopback(maps[-1][1]):
            ap.error("target %r is not a loopback address" % maps[-1][1])
    proxy = Proxy(a.delay / 1000.0, a.record, a.idle_timeout)
    asyncio.run(proxy.serve(maps, a.ready, a.lifetime))


if __name__ == "__main__":
    main()
