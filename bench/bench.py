#!/usr/bin/python3
"""bench.py: the measuring half of bench/run (see bench/README).

Runs every scenario for carrier, msmtp, curl and Python's smtplib in the
same run, against the servers and delay proxy that bench/run started (their
ports come in BENCH_* environment variables), and prints the tables and the
target summary.  Not meant to be run by hand: use bench/run.
"""

import argparse
import base64
import datetime
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

PY = "/usr/bin/python3"
FROM = "sender@example.test"
HOST = "127.0.0.1"
TOOLS = ["carrier", "msmtp", "curl", "smtplib"]
PEERS = ["msmtp", "curl", "smtplib"]

# smtplib, as python3 -c: MODE HOST PORT CA USER FROM FILE COUNT RCPT...
# (USER "-": no AUTH; the password comes from BENCH_PASS).  COUNT messages
# over one connection, then QUIT.
SMTPLIB = r"""
import os, smtplib, ssl, sys
mode, host, port, ca, user, frm, path, count = sys.argv[1:9]
rcpts = sys.argv[9:]
with open(path, 'rb') as f:
    data = f.read()
if mode == 'tls':
    s = smtplib.SMTP_SSL(host, int(port),
                         context=ssl.create_default_context(cafile=ca))
else:
    s = smtplib.SMTP(host, int(port))
if mode == 'starttls':
    s.starttls(context=ssl.create_default_context(cafile=ca))
if user != '-':
    s.login(user, os.environ['BENCH_PASS'])
for i in range(int(count)):
    s.sendmail(frm, rcpts, data)
s.quit()
"""


def env(name):
    v = os.environ.get(name)
    if not v:
        sys.exit("bench.py: %s not set (run bench/run, not bench.py)" % name)
    return v


class Ctx:
    pass


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Messages

def write_small(path, size=2048):
    """A plain-text message of exactly SIZE octets, CRLF line ends."""
    head = ("From: Sender <%s>\r\n"
            "To: Rcpt <rcpt1@example.test>\r\n"
            "Subject: carrier benchmark message\r\n"
            "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
            "Message-ID: <bench.%d@example.test>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n" % (FROM, size))
    words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
             "eiusmod tempor incididunt ut labore et dolore magna aliqua").split()
    rnd = random.Random(7)
    body = []
    n = len(head)
    while n < size:
        line = " ".join(rnd.choice(words) for _ in range(10))
        if len(body) == 10:
            line = "." + line          # one line to dot-stuff
        body.append(line + "\r\n")
        n += len(line) + 2
    text = (head + "".join(body)).encode()
    text = text[:size - 2].rstrip(b"\r\n")
    text += b"x" * (size - 2 - len(text)) + b"\r\n"
    with open(path, "wb") as f:
        f.write(text)


def write_big(path, size, eol=b"\r\n"):
    """About SIZE octets: a text part, then base64 lines (76 + EOL) of
    pseudo-random data, as a large attachment is sent.  Written in chunks
    (the generator's memory does not grow with SIZE)."""
    head = ("From: Sender <%s>\r\n"
            "To: Rcpt <rcpt1@example.test>\r\n"
            "Subject: carrier benchmark, large message\r\n"
            "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
            "Message-ID: <bench.big.%d@example.test>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
            "\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n"
            ".\r\n..a line to dot-stuff\r\n"
            "--b\r\nContent-Type: application/octet-stream\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" % (FROM, size)).encode()
    tail = b"--b--\r\n"
    rnd = random.Random(11)
    raw = bytes(rnd.getrandbits(8) for _ in range(57 * 4096))
    block = base64.encodebytes(raw).replace(b"\n", b"\r\n")   # 76-char lines
    if eol != b"\r\n":
        head, tail, block = (x.replace(b"\r\n", eol)
                             for x in (head, tail, block))
    line = 76 + len(eol)
    with open(path, "wb") as f:
        f.write(head)
        n = len(head) + len(tail)
        while n + len(block) <= size:
            f.write(block)
            n += len(block)
        rest = (size - n) // line
        f.write(block[:rest * line])
        f.write(tail)


def write_prepared(src, dst):
    """The transmission form of the message SRC (LF line ends, no line
    longer than a few hundred octets) as the reference client sends it
    after DATA: CRLF line ends, dot-stuffed, then the final dot."""
    with open(src, "rb") as i, open(dst, "wb") as o:
        for line in i:
            line = line.rstrip(b"\r\n")
            o.write((b"." if line.startswith(b".") else b"") + line +
                    b"\r\n")
        o.write(b".\r\n")


# ---------------------------------------------------------------------------
# Commands

class Scenario:
    def __init__(self, key, title, port, mode="plain", nrcpt=1, msg=None,
                 delayed=False, count=1, proxy_port=None):
        self.key = key
        self.title = title
        self.port = port               # the port the client connects to
        self.mode = mode               # plain | starttls | tls
        self.nrcpt = nrcpt
        self.msg = msg
        self.delayed = delayed
        self.count = count
        self.proxy_port = proxy_port   # set when through the delay proxy

    @property
    def auth(self):
        return self.mode != "plain"

    @property
    def rcpts(self):
        return ["rcpt%d@example.test" % i for i in range(1, self.nrcpt + 1)]


def msmtp_account(c, sc):
    """The msmtprc account for SC (one per scenario, written on demand)."""
    name = "s_" + sc.key
    if name in c.msmtp_accounts:
        return name
    lines = ["account " + name, "host " + HOST, "port %d" % sc.port,
             "from " + FROM]
    if sc.mode == "plain":
        lines += ["auth off", "tls off"]
    else:
        lines += ["tls on", "tls_trust_file " + c.ca,
                  "tls_starttls " + ("on" if sc.mode == "starttls" else "off"),
                  "auth plain", "user " + c.user, "password " + c.password]
    with open(c.msmtprc, "a") as f:
        f.write("\n".join(lines) + "\n\n")
    os.chmod(c.msmtprc, 0o600)
    c.msmtp_accounts.add(name)
    return name


def command(c, tool, sc, msg=None):
    """argv, stdin path (or None) and extra environment for one message."""
    msg = msg or sc.msg
    extra = {}
    if tool == "carrier":
        argv = [c.carrier, "--host", HOST, "--port", str(sc.port), "-f", FROM]
        if sc.mode == "starttls":
            argv += ["--starttls", "--tls-ca", c.ca]
        elif sc.mode == "tls":
            argv += ["--tls-on-connect", "--tls-ca", c.ca]
        if sc.auth:
            argv += ["--user", c.user]
            extra["CARRIER_PASSWORD"] = c.password
        return argv + ["--"] + sc.rcpts, msg, extra
    if tool == "msmtp":
        acct = msmtp_account(c, sc)
        return (["msmtp", "-C", c.msmtprc, "-a", acct, "-f", FROM, "--"]
                + sc.rcpts, msg, extra)
    if tool == "curl":
        scheme = "smtps" if sc.mode == "tls" else "smtp"
        argv = ["curl", "-q", "-sS", "--url",
                "%s://%s:%d" % (scheme, HOST, sc.port), "--mail-from", FROM]
        for r in sc.rcpts:
            argv += ["--mail-rcpt", r]
        if sc.mode == "starttls":
            argv += ["--ssl-reqd"]
        if sc.auth:
            argv += ["--cacert", c.ca, "--user", c.user + ":" + c.password,
                     "--login-options", "AUTH=PLAIN"]
        if getattr(sc, "lf", False):
            argv += ["--crlf"]    # else curl sends the bare LFs as they are
        return argv + ["--upload-file", msg], None, extra
    if tool == "ref":
        return ([c.refsend, HOST, str(sc.port), FROM, sc.prepared]
                + sc.rcpts, None, extra)
    if tool == "smtplib":
        extra["BENCH_PASS"] = c.password
        return ([PY, "-c", SMTPLIB, sc.mode, HOST, str(sc.port), c.ca,
                 c.user if sc.auth else "-", FROM, msg, str(sc.count)]
                + sc.rcpts, None, extra)
    raise ValueError(tool)


# ---------------------------------------------------------------------------
# Running and measuring

class Result:
    def __init__(self):
        self.ok = True
        self.err = ""
        self.wall = None     # seconds
        self.cpu = None      # seconds, user + system
        self.rss = None      # KiB, peak resident set
        self.rt = None       # round trips per message (proxy)


def spawn_wait(c, argv, stdin_path, extra, timeout):
    """Run ARGV once under bench/spawn.c, which reports wall time (around
    fork..wait4), CPU (user + system) and peak RSS from the child's rusage:
    the numbers /usr/bin/time prints, in microseconds instead of its 10 ms
    steps.  ARGV is killed after TIMEOUT seconds."""
    e = dict(c.base_env)
    e.update(extra)
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    errf = open(c.errfile, "wb")
    try:
        os.unlink(c.costfile)
    except FileNotFoundError:
        pass
    try:
        # Its own process group, so that an interrupted run can end the
        # command with it.
        p = subprocess.Popen([c.spawn, c.costfile, str(int(timeout))] + argv,
                             stdin=stdin, stdout=subprocess.DEVNULL,
                             stderr=errf, env=e, cwd=c.home,
                             start_new_session=True)
        try:
            p.wait(timeout + 30)
        except BaseException:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
            if not isinstance(sys.exc_info()[1], subprocess.TimeoutExpired):
                raise
    finally:
        if stdin_path:
            stdin.close()
        errf.close()
    r = Result()
    try:
        with open(c.costfile) as f:
            wall, user, system, rss, status = f.read().split()
        r.wall = float(wall)
        r.cpu = float(user) + float(system)
        r.rss = int(rss)
        status = int(status)
    except (OSError, ValueError):
        status = -1
    if status != 0:
        r.ok = False
        with open(c.errfile, "rb") as f:
            tail = f.read()[-600:].decode(errors="replace").strip()
        r.err = ("killed after %ds" % timeout if status == 137 else
                 "exit %d" % status) + (": " + tail if tail else "")
    return r


def proxy_records(c, want, port, timeout=5.0):
    """Wait for WANT new connection records for PORT; returns their rts."""
    deadline = time.monotonic() + timeout
    got = []
    while True:
        try:
            with open(c.record) as f:
                f.seek(c.record_off)
                data = f.read()
        except FileNotFoundError:
            data = ""
        lines = data.splitlines(keepends=True)
        complete = [l for l in lines if l.endswith("\n")]
        got = []
        for l in complete:
            m = re.match(r"port=(\d+) rt=(\d+)", l)
            if m and int(m.group(1)) == port:
                got.append(int(m.group(2)))
        if len(got) >= want or time.monotonic() > deadline:
            c.record_off += sum(len(l) for l in complete)
            return got
        time.sleep(0.01)


def run_one(c, tool, sc, timeout):
    argv, stdin_path, extra = command(c, tool, sc)
    if sc.proxy_port:
        # Skip records of anything earlier.
        proxy_records(c, 0, sc.proxy_port, timeout=0)
    r = spawn_wait(c, argv, stdin_path, extra, timeout)
    if sc.proxy_port and r.ok:
        rts = proxy_records(c, 1, sc.proxy_port)
        r.rt = (sum(rts) / len(rts)) if rts else None
    return r


def run_many(c, tool, sc, count, timeout, msgs):
    """COUNT messages, one process each (carrier, msmtp, curl), or one
    smtplib process over one connection; or carrier --batch."""
    if tool == "smtplib":
        sc2 = Scenario(sc.key, sc.title, sc.port, sc.mode, sc.nrcpt, sc.msg,
                       count=count)
        argv, stdin_path, extra = command(c, tool, sc2)
        return spawn_wait(c, argv, stdin_path, extra, timeout)
    if tool == "carrier-batch":
        argv, _, extra = command(c, "carrier", sc)
        files = []
        for m in msgs[:count]:
            files += ["--message-file", m]
        argv = argv[:1] + ["--batch"] + files + argv[1:]
        return spawn_wait(c, argv, None, extra, timeout)
    total = Result()
    total.wall = total.cpu = 0.0
    total.rss = 0
    t0 = time.monotonic()
    for i in range(count):
        argv, stdin_path, extra = command(c, tool, sc, msg=msgs[i % len(msgs)])
        r = spawn_wait(c, argv, stdin_path, extra, timeout)
        total.cpu += r.cpu
        total.rss = max(total.rss, r.rss)
        if not r.ok:
            total.ok, total.err = False, "message %d: %s" % (i + 1, r.err)
            break
        if time.monotonic() - t0 > timeout:
            total.ok, total.err = False, "over %ds" % timeout
            break
    total.wall = time.monotonic() - t0
    return total


def gnu_time(c, tool, sc, timeout):
    """One run under /usr/bin/time -f '%e %U %S %M' (a cross-check of
    bench/spawn.c's numbers); returns its line."""
    argv, stdin_path, extra = command(c, tool, sc)
    out = os.path.join(c.work, "gnutime.out")
    r = spawn_wait(c, ["/usr/bin/time", "-f", "%e s wall, %U s user, "
                       "%S s sys, %M KB max RSS", "-o", out] + argv,
                   stdin_path, extra, timeout)
    if not r.ok:
        return "FAIL (%s)" % r.err
    with open(out) as f:
        return f.read().strip()


def instructions(c, tool, sc, tag):
    """Instructions executed (valgrind callgrind, all threads, dynamic
    loading included).  Returns (count or None, callgrind output file)."""
    argv, stdin_path, extra = command(c, tool, sc)
    out = os.path.join(c.work, "callgrind.%s.%s.out" % (tool, tag))
    logf = os.path.join(c.work, "callgrind.%s.%s.log" % (tool, tag))
    vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
          "--log-file=" + logf]
    r = spawn_wait(c, vg + argv, stdin_path, extra, 120)
    if not r.ok:
        return None, out, r.err
    n = None
    with open(logf) as f:
        for line in f:
            m = re.search(r"Collected : (\d+)", line)
            if m:
                n = int(m.group(1))
    return n, out, None


# ---------------------------------------------------------------------------
# Output

def fmt(v, kind):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if kind == "ms":
        return "%.0f ms" % (v * 1000) if v < 10 else "%.1f s" % v
    if kind == "s":
        return "%.2f s" % v
    if kind == "cpu_ms":
        return "%.1f ms" % (v * 1000)
    if kind == "rt":
        return "%.1f" % v
    if kind == "mb":
        return "%.1f MB" % (v / 1024.0)
    if kind == "minstr":
        return "%.2f M" % (v / 1e6)
    if kind == "rate":
        return "%.0f msg/s" % v if v >= 10 else "%.1f msg/s" % v
    return str(v)


def ratio(a, b):
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) \
            or not b:
        return "-"
    return "%.2f" % (a / b)


class Table:
    def __init__(self, title, note=""):
        self.title = title
        self.note = note
        self.rows = []

    def add(self, label, values, kind):
        """VALUES: tool -> number, str (failure) or None."""
        self.rows.append((label, values, kind))

    def render(self):
        head = ["scenario"] + TOOLS + ["carrier/" + p for p in PEERS]
        body = []
        for label, values, kind in self.rows:
            cells = [label] + [fmt(values.get(t), kind) for t in TOOLS]
            cells += [ratio(values.get("carrier"), values.get(p))
                      for p in PEERS]
            body.append(cells)
        w = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
        out = ["", "== " + self.title + " =="]
        if self.note:
            out.append(self.note)
        line = lambda cells: " | ".join(
            cells[0].ljust(w[0]) if i == 0 else cells[i].rjust(w[i])
            for i in range(len(cells)))
        out.append(line(head))
        out.append("-+-".join("-" * x for x in w))
        out += [line(r) for r in body]
        return "\n".join(out)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--batch-only", action="store_true",
                    help="only the batch of 50 through the delay proxy")
    ap.add_argument("--large-only", action="store_true",
                    help="only the 100 MB row against the reference client")
    a = ap.parse_args()

    c = Ctx()
    c.work = env("BENCH_WORK")
    c.carrier = env("BENCH_CARRIER")
    c.ca = env("BENCH_CA")
    c.user = env("BENCH_USER")
    c.password = env("BENCH_PASS")
    c.record = env("BENCH_PROXY_RECORD")
    c.record_off = 0
    c.home = os.path.join(c.work, "home")
    os.makedirs(c.home, exist_ok=True)
    c.errfile = os.path.join(c.work, "stderr.last")
    c.costfile = os.path.join(c.work, "cost.last")
    c.spawn = env("BENCH_SPAWN")
    c.refsend = env("BENCH_REFSEND")
    c.msmtprc = os.path.join(c.work, "msmtprc")
    c.msmtp_accounts = set()
    with open(c.msmtprc, "w") as f:
        f.write("defaults\nsyslog off\nlogfile\n\n")
    os.chmod(c.msmtprc, 0o600)
    # A clean, fixed environment for every tool: no user configuration
    # (HOME is empty), C locale.
    c.base_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                          "/usr/bin:/sbin:/bin",
                  "HOME": c.home, "LANG": "C", "LC_ALL": "C"}
    runs = max(1, a.runs)
    sink = int(env("BENCH_SINK_PORT"))
    smtp = int(env("BENCH_SMTP_PORT"))
    sub = int(env("BENCH_SUB_PORT"))
    smtps = int(env("BENCH_SMTPS_PORT"))
    p_sink = int(env("BENCH_PROXY_SINK_PORT"))
    p_smtp = int(env("BENCH_PROXY_SMTP_PORT"))
    p_sub = int(env("BENCH_PROXY_SUB_PORT"))
    p_smtps = int(env("BENCH_PROXY_SMTPS_PORT"))
    delay_ms = float(os.environ.get("BENCH_DELAY_MS", "25"))

    small = os.path.join(c.work, "2k.eml")
    write_small(small)
    big = os.path.join(c.work, "100m.eml")
    log("writing the 100 MB message")
    write_big(big, 100 * 1024 * 1024)
    msgs = []
    msgdir = os.path.join(c.work, "msgs")
    os.makedirs(msgdir, exist_ok=True)
    for i in range(a.messages):
        p = os.path.join(msgdir, "%03d.eml" % i)
        shutil.copyfile(small, p)
        msgs.append(p)

    o = subprocess.run([c.carrier, "--help"], capture_output=True, text=True)
    have_batch = "--batch" in o.stdout + o.stderr

    failures = []
    results = {}   # key -> tool -> list of Result

    def S(key, title, port, **kw):
        return Scenario(key, title, port, **kw)

    delayed = [
        S("chunk1", "2 KB, 1 rcpt, plain; PIPELINING+CHUNKING (smtpd)",
          p_smtp, nrcpt=1, msg=small, delayed=True, proxy_port=p_smtp),
        S("chunk5", "2 KB, 5 rcpt, plain; PIPELINING+CHUNKING (smtpd)",
          p_smtp, nrcpt=5, msg=small, delayed=True, proxy_port=p_smtp),
        S("pipe1", "2 KB, 1 rcpt, plain; PIPELINING only (smtp-sink)",
          p_sink, nrcpt=1, msg=small, delayed=True, proxy_port=p_sink),
        S("pipe5", "2 KB, 5 rcpt, plain; PIPELINING only (smtp-sink)",
          p_sink, nrcpt=5, msg=small, delayed=True, proxy_port=p_sink),
        S("starttls3", "2 KB, 3 rcpt, STARTTLS + AUTH PLAIN (smtpd)",
          p_sub, mode="starttls", nrcpt=3, msg=small, delayed=True,
          proxy_port=p_sub),
        S("tls3", "2 KB, 3 rcpt, implicit TLS + AUTH PLAIN (smtpd)",
          p_smtps, mode="tls", nrcpt=3, msg=small, delayed=True,
          proxy_port=p_smtps),
    ]
    nodelay = S("nodelay", "2 KB, 1 rcpt, plain, no delay (smtp-sink)",
                sink, msg=small)
    big_sc = S("big", "100 MB, 1 rcpt, loopback (smtp-sink, DATA)", sink,
               msg=big)
    big_chunk = S("bigchunk", "100 MB, 1 rcpt, loopback (smtpd, CHUNKING)",
                  smtp, msg=big)
    many = S("many", "%d x 2 KB, loopback (smtp-sink)" % a.messages, sink,
             msg=small)

    def record(key, tool, r, what):
        results.setdefault(key, {}).setdefault(tool, []).append(r)
        if not r.ok:
            failures.append("%s / %s / %s: %s" % (what, tool, key, r.err))

    if a.batch_only:
        slow_batch(c, a, runs, msgs, p_sink, p_smtp, delay_ms, have_batch)
        return 0
    if a.large_only:
        large_lf(c, sink)
        return 0

    t_start = time.monotonic()

    # Warm up: page cache, binaries, the servers' first processes.
    log("warming up")
    for tool in TOOLS:
        run_one(c, tool, nodelay, 30)
        run_one(c, tool, delayed[0], 30)

    # -- delayed scenarios, round-robin over the tools.
    for sc in delayed:
        log("%s (%d runs each)" % (sc.title, runs))
        for i in range(runs):
            for tool in TOOLS:
                record(sc.key, tool, run_one(c, tool, sc, 30), "delayed")

    # -- 2 KB without delay.
    log("%s (%d runs each)" % (nodelay.title, runs))
    for i in range(runs):
        for tool in TOOLS:
            record("nodelay", tool, run_one(c, tool, nodelay, 30), "nodelay")

    # -- instructions (deterministic enough: fewer runs).
    instr = {}
    iruns = min(runs, 3)
    log("instructions under callgrind (%d runs each)" % iruns)
    for tool in TOOLS:
        counts = []
        # Python under callgrind takes seconds; one run (counts vary < 1%).
        for i in range(1 if tool == "smtplib" else iruns):
            n, out, err = instructions(c, tool, nodelay, str(i))
            if err:
                failures.append("callgrind / %s: %s" % (tool, err))
                break
            counts.append(n)
        instr[tool] = median(counts)
    c.carrier_callgrind = os.path.join(c.work, "callgrind.carrier.0.out")

    # -- 100 MB (and 1 GB).
    bigs = [(big_sc, runs if runs < 5 else 5)]
    for sc, n in bigs:
        log("%s (%d runs each)" % (sc.title, n))
        for i in range(n):
            for tool in TOOLS:
                record(sc.key, tool, run_one(c, tool, sc, 180), "big")
    log("%s (carrier only, %d runs)" % (big_chunk.title, min(runs, 3)))
    for i in range(min(runs, 3)):
        record(big_chunk.key, "carrier", run_one(c, "carrier", big_chunk, 180),
               "big")
    gnutime = {}
    for tool in ("carrier", "curl"):
        gnutime[tool] = gnu_time(c, tool, big_sc, 180)
    if a.big:
        gb = os.path.join(c.work, "1g.eml")
        log("writing the 1 GB message")
        write_big(gb, 1024 * 1024 * 1024)
        gb_sc = S("gb", "1 GB, 1 rcpt, loopback (smtp-sink, DATA)", sink,
                  msg=gb)
        log("%s (1 run each; not smtplib, which would hold several GB)"
            % gb_sc.title)
        for tool in ("carrier", "msmtp", "curl"):
            record(gb_sc.key, tool, run_one(c, tool, gb_sc, 600), "big")
        gbc = S("gbchunk", "1 GB, 1 rcpt, loopback (smtpd, CHUNKING)", smtp,
                msg=gb)
        record(gbc.key, "carrier", run_one(c, "carrier", gbc, 600), "big")
        os.remove(gb)

    # -- many messages.
    mruns = min(runs, 3)
    log("%s (%d runs each)" % (many.title, mruns))
    mtools = TOOLS + (["carrier-batch"] if have_batch else [])
    for i in range(mruns):
        for tool in mtools:
            record("many", tool, run_many(c, tool, many, a.messages, 300,
                                          msgs), "many")

    elapsed = time.monotonic() - t_start

    # ----------------------------------------------------------------- report
    def vals(key, metric, agg=median):
        out = {}
        for tool in TOOLS:
            rs = results.get(key, {}).get(tool)
            if not rs:
                continue
            if not all(r.ok for r in rs):
                out[tool] = "FAIL"
                continue
            out[tool] = agg([getattr(r, metric) for r in rs])
        return out

    print()
    print("carrier benchmark: %s; %d runs per scenario (medians; round trips:"
          " means); delay %.0f ms each way (one exchange = %.0f ms)"
          % (os.environ.get("BENCH_CARRIER_NAME", c.carrier), runs,
             delay_ms, 2 * delay_ms))
    tools_v = {}
    for t, cmd in (("carrier", [c.carrier, "--version"]),
                   ("msmtp", ["msmtp", "--version"]),
                   ("curl", ["curl", "--version"]),
                   ("smtplib", [PY, "--version"])):
        try:
            o = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=10)
            tools_v[t] = (o.stdout or o.stderr).splitlines()[0].strip()
        except Exception:
            tools_v[t] = "?"
    print("tools: " + "; ".join("%s = %s" % kv for kv in tools_v.items()))

    t = Table("Round trips per message (counted by bench/delayproxy.py)",
              "(lower is better; ratios < 1 favour carrier)")
    for sc in delayed:
        t.add(sc.title, vals(sc.key, "rt", mean), "rt")
    print(t.render())

    t = Table("Wall time per message, %.0f ms each way" % delay_ms)
    for sc in delayed:
        t.add(sc.title, vals(sc.key, "wall"), "ms")
    print(t.render())

    t = Table("2 KB, 1 recipient, no delay (smtp-sink on loopback)")
    t.add("wall", vals("nodelay", "wall"), "ms")
    t.add("CPU (user+sys)", vals("nodelay", "cpu"), "cpu_ms")
    t.add("peak RSS", vals("nodelay", "rss"), "mb")
    t.add("instructions (callgrind)", instr, "minstr")
    print(t.render())

    t = Table("Large message on loopback")
    keys = [(big_sc, "big")]
    if a.big:
        keys.append((None, "gb"))
    for sc, key in keys:
        lab = "100 MB" if key == "big" else "1 GB"
        t.add(lab + " (smtp-sink, DATA): wall", vals(key, "wall"), "s")
        t.add(lab + " (smtp-sink, DATA): CPU", vals(key, "cpu"), "s")
        t.add(lab + " (smtp-sink, DATA): peak RSS", vals(key, "rss"), "mb")
    for key, lab in (("bigchunk", "100 MB"), ("gbchunk", "1 GB")):
        if key in results:
            v = vals(key, "wall")
            t.add(lab + " (smtpd, BDAT; carrier only): wall", v, "s")
            t.add(lab + " (smtpd, BDAT; carrier only): CPU",
                  vals(key, "cpu"), "s")
            t.add(lab + " (smtpd, BDAT; carrier only): peak RSS",
                  vals(key, "rss"), "mb")
    print(t.render())
    for tool, line in gnutime.items():
        print("cross-check, 100 MB, %s under /usr/bin/time: %s" % (tool, line))

    t = Table("%d messages of 2 KB (smtp-sink on loopback)" % a.messages,
              "(carrier, msmtp, curl: a process per message; smtplib: one "
              "connection; higher is better here, ratios > 1 favour carrier)")
    rate = {}
    for tool in TOOLS:
        rs = results.get("many", {}).get(tool)
        if rs and all(r.ok for r in rs):
            rate[tool] = a.messages / median([r.wall for r in rs])
        elif rs:
            rate[tool] = "FAIL"
    t.add("messages per second", rate, "rate")
    print(t.render())
    if have_batch:
        rs = results.get("many", {}).get("carrier-batch")
        if rs and all(r.ok for r in rs):
            b = a.messages / median([r.wall for r in rs])
            print("carrier --batch (one connection): %s; carrier --batch/"
                  "smtplib %s"
                  % (fmt(b, "rate"), ratio(b, rate.get("smtplib"))))
        else:
            print("carrier --batch (one connection): FAIL")
    else:
        print("carrier --batch (one connection): n/a (not in carrier --help)")
    slow_batch(c, a, runs, msgs, p_sink, p_smtp, delay_ms, have_batch)
    large_lf(c, sink)

    # ------------------------------------------------------------- targets
    print()
    print("== Targets (issue 7) ==")

    def met(ok):
        return "MET    " if ok else "NOT MET"

    def num(v):
        return isinstance(v, (int, float))

    lines = []
    for keys, limit, what in (
            (["chunk1", "chunk5"], 4,
             "round trips <= 4, plain, PIPELINING+CHUNKING"),
            (["pipe1", "pipe5"], 5,
             "round trips <= 5, plain, PIPELINING only"),
            (["starttls3"], 8, "round trips <= 8, STARTTLS + AUTH PLAIN"),
            (["tls3"], 8, "round trips <= 8, implicit TLS + AUTH PLAIN")):
        vs = [vals(k, "rt", mean).get("carrier") for k in keys]
        ok = all(num(v) and v <= limit + 1e-9 for v in vs)
        lines.append("%s %s: carrier %s" % (met(ok), what, ", ".join(
            fmt(v, "rt") for v in vs)))
    for key, lab in (("big", "100 MB"), ("gb", "1 GB")):
        if key not in results:
            continue
        w, cpu, rss = (vals(key, m) for m in ("wall", "cpu", "rss"))
        cw, cc, cr = w.get("carrier"), cpu.get("carrier"), rss.get("carrier")
        ok = num(cw) and num(w.get("curl")) and cw <= w["curl"]
        lines.append("%s %s wall <= curl's: carrier %s, curl %s"
                     % (met(ok), lab, fmt(cw, "s"), fmt(w.get("curl"), "s")))
        ok = num(cc) and num(cpu.get("curl")) and cc <= cpu["curl"]
        lines.append("%s %s CPU <= curl's: carrier %s, curl %s"
                     % (met(ok), lab, fmt(cc, "s"), fmt(cpu.get("curl"), "s")))
        ok = num(cr) and cr < 8 * 1024
        lines.append("%s %s peak RSS < 8 MB: carrier %s"
                     % (met(ok), lab, fmt(cr, "mb")))
    for key, lab in (("bigchunk", "100 MB BDAT"), ("gbchunk", "1 GB BDAT")):
        if key in results:
            cr = vals(key, "rss").get("carrier")
            ok = num(cr) and cr < 8 * 1024
            lines.append("%s %s peak RSS < 8 MB: carrier %s"
                         % (met(ok), lab, fmt(cr, "mb")))
    w = vals("nodelay", "wall")
    ok = num(w.get("carrier")) and num(w.get("curl")) and \
        w["carrier"] <= w["curl"]
    lines.append("%s 2 KB no delay, wall <= curl's: carrier %s, curl %s"
                 % (met(ok), fmt(w.get("carrier"), "ms"),
                    fmt(w.get("curl"), "ms")))
    ci, mi = instr.get("carrier"), instr.get("msmtp")
    ok = num(ci) and num(mi) and ci <= mi / 2
    lines.append("%s 2 KB no delay, instructions <= msmtp's / 2: carrier %s,"
                 " msmtp %s (half: %s)"
                 % (met(ok), fmt(ci, "minstr"), fmt(mi, "minstr"),
                    fmt(mi / 2 if num(mi) else None, "minstr")))
    for l in lines:
        print(l)
    print("(%d of %d targets met; measuring took %.0f s)"
          % (sum(l.startswith("MET") for l in lines), len(lines), elapsed))

    if failures:
        print()
        print("== Failures ==")
        for f in failures[:40]:
            print(f)

    if a.profile:
        profile(c, delayed, nodelay, big_sc)
    return 1 if failures else 0


SLOW_BATCH = 50


def run_batch_rt(c, tool, sc, msgs, timeout):
    """SLOW_BATCH messages through the delay proxy: run_many, plus the
    round trips per message over every connection the run opened."""
    proxy_records(c, 0, sc.proxy_port, timeout=0)
    r = run_many(c, tool, sc, SLOW_BATCH, timeout, msgs)
    if r.ok:
        conns = 1 if tool in ("carrier-batch", "smtplib") else SLOW_BATCH
        rts = proxy_records(c, conns, sc.proxy_port, timeout=10)
        r.rt = sum(rts) / SLOW_BATCH if len(rts) == conns else None
    return r


def slow_batch(c, a, runs, msgs, p_sink, p_smtp, delay_ms, have_batch):
    """The batch of 50 x 2 KB through the delay proxy (issue 17): carrier
    --batch over one connection with DATA (smtp-sink) and with CHUNKING
    (smtpd), msmtp and curl as one process per message, smtplib's
    sendmail() (send_message's wire) in one connection.  Prints wall time, round trips per
    message and the ratios carrier/peer."""
    if not have_batch:
        print("batch of %d: n/a (carrier has no --batch)" % SLOW_BATCH)
        return
    sink = Scenario("sbsink", "smtp-sink", p_sink, msg=msgs[0],
                    delayed=True, proxy_port=p_sink)
    smtpd = Scenario("sbsmtpd", "smtpd", p_smtp, msg=msgs[0], delayed=True,
                     proxy_port=p_smtp)
    rows = [("carrier --batch, DATA (smtp-sink)", "carrier-batch", sink),
            ("carrier --batch, CHUNKING (smtpd)", "carrier-batch", smtpd),
            ("msmtp, a process per message (smtp-sink)", "msmtp", sink),
            ("curl, a process per message (smtp-sink)", "curl", sink),
            ("smtplib sendmail(), one connection (smtp-sink)", "smtplib",
             sink)]
    n = min(runs, 3)
    res = {}
    log("batch of %d through the delay proxy (%d runs each)"
        % (SLOW_BATCH, n))
    for i in range(n):
        for label, tool, sc in rows:
            res.setdefault(label, []).append(
                run_batch_rt(c, tool, sc, msgs, 300))
    print()
    print("Batch of %d x 2 KB, %.0f ms each way (one exchange = %.0f ms);"
          " medians of %d runs" % (SLOW_BATCH, delay_ms, 2 * delay_ms, n))
    print("%-52s %10s %14s" % ("", "wall", "rt/message"))
    walls = {}
    for label, _, _ in rows:
        rs = res[label]
        if not all(r.ok for r in rs):
            print("%-52s FAIL: %s" % (label, [r.err for r in rs if not
                                              r.ok][0][:200]))
            continue
        walls[label] = median([r.wall for r in rs])
        rt = [r.rt for r in rs if r.rt is not None]
        print("%-52s %8.2f s %14s" % (label, walls[label],
                                       "%.2f" % mean(rt) if rt else "?"))
    print()
    for mine in (rows[0][0], rows[1][0]):
        for label, _, _ in rows[2:]:
            if mine in walls and label in walls:
                print("%s / %s: %s" % (mine, label.split(",")[0],
                                       ratio(walls[mine], walls[label])))
    # The limit: after the first message (4 round trips with CHUNKING, 5
    # with DATA), the 49 further ones need at most 3 round trips in all
    # with CHUNKING, 1.1 each with DATA.
    for label, first, limit in ((rows[1][0], 4, 3.0),
                                (rows[0][0], 5, 49 * 1.1)):
        rs = res[label]
        rt = [r.rt for r in rs if r.ok and r.rt is not None]
        if rt:
            extra = mean(rt) * SLOW_BATCH - first
            print("%s %s: the 49 further messages add %.1f round trips "
                  "(limit %.1f)" % ("MET    " if extra <= limit + 1e-9 else
                                    "NOT MET", label, extra, limit))


LARGE_RUNS = 3
LARGE_TOOLS = ["ref", "carrier", "curl", "msmtp", "smtplib"]


def large_lf(c, sink):
    """100 MB with LF line ends to smtp-sink on loopback (issue 17): carrier
    (standard input), curl (--upload-file --crlf), msmtp (standard input)
    and smtplib's sendmail() (which makes the line ends CRLF itself) beside bench/refsend.c, which sends the transmission form prepared
    before timing (the receiver's limit).  Three runs, round-robin; medians
    as ratios to the reference: wall, CPU (user+sys), peak RSS."""
    src = os.path.join(c.work, "100m-lf.eml")
    log("writing the 100 MB message with LF line ends and its prepared form")
    write_big(src, 100 * 1024 * 1024, eol=b"\n")
    sc = Scenario("biglf", "100 MB, LF, loopback (smtp-sink, DATA)", sink,
                  msg=src)
    sc.lf = True
    sc.prepared = os.path.join(c.work, "100m-lf.prepared")
    write_prepared(src, sc.prepared)
    log("%s (%d runs each)" % (sc.title, LARGE_RUNS))
    for tool in LARGE_TOOLS:      # warm: page cache, binaries
        run_one(c, tool, sc, 180)
    res = {}
    for i in range(LARGE_RUNS):
        for tool in LARGE_TOOLS:
            res.setdefault(tool, []).append(run_one(c, tool, sc, 180))
    print()
    print("100 MB, LF line ends, smtp-sink on loopback; medians of %d runs;"
          " ratio = tool / reference (bench/refsend.c: the prepared bytes "
          "by sendfile)" % LARGE_RUNS)
    print("%-9s %9s %7s %11s %7s %9s %7s   %s" % (
        "", "wall", "ratio", "CPU", "ratio", "peak RSS", "ratio",
        "wall of each run"))
    ref, mine = {}, None
    for tool in LARGE_TOOLS:
        rs = res[tool]
        if not all(r.ok for r in rs):
            print("%-9s FAIL: %s" % (tool, [r.err for r in rs
                                           if not r.ok][0][:200]))
            continue
        m = {k: median([getattr(r, k) for r in rs])
             for k in ("wall", "cpu", "rss")}
        if tool == "ref":
            ref = m
        print("%-9s %9s %7s %11s %7s %9s %7s   %s" % (
            tool, fmt(m["wall"], "s"), ratio(m["wall"], ref.get("wall")),
            fmt(m["cpu"], "s"), ratio(m["cpu"], ref.get("cpu")),
            fmt(m["rss"], "mb"), ratio(m["rss"], ref.get("rss")),
            " ".join("%.2f" % r.wall for r in rs)))
        if tool == "carrier":
            mine = m
    if ref and mine:
        m = mine
        ok = m["wall"] <= 1.1 * ref["wall"]
        print("%s 100 MB LF: carrier's wall within 10%% of the reference's "
              "(%s vs %s); CPU %s, peak RSS %s (issue 17: no worse than "
              "0.11-0.18 s, about 5.5 MB)"
              % ("MET    " if ok else "NOT MET", fmt(m["wall"], "s"),
                 fmt(ref["wall"], "s"), fmt(m["cpu"], "s"),
                 fmt(m["rss"], "mb")))
    os.remove(src)
    os.remove(sc.prepared)


def profile(c, delayed, nodelay, big_sc):
    """Where carrier spends its time: callgrind's top functions and phases
    (2 KB, no delay), strace -c (2 KB and 100 MB), callgrind per octet
    (10 MB, carrier and curl), -vv timestamps (100 MB; 2 KB delayed)."""
    print()
    print("== Profile: carrier, 2 KB no delay, callgrind top functions "
          "(self cost) ==")
    if os.path.exists(c.carrier_callgrind) and shutil.which("callgrind_annotate"):
        o = subprocess.run(["callgrind_annotate", "--auto=no",
                            "--threshold=95", c.carrier_callgrind],
                           capture_output=True, text=True)
        rows = [l for l in o.stdout.splitlines()
                if re.match(r"^\s*[0-9,]+ \(", l)]
        print("\n".join(rows[:16]))
        # Inclusive costs of the phases of the process.
        o = subprocess.run(["callgrind_annotate", "--auto=no",
                            "--inclusive=yes",
                            "--threshold=100", c.carrier_callgrind],
                           capture_output=True, text=True)
        phases = (("rtld.c:_dl_start ", "loading and relocating libraries"),
                  ("dl-init.c:_dl_init ", "library constructors"),
                  ("main.c:main ", "carrier's main()"),
                  ("exit.c:exit ", "exit handlers, destructors"))
        print("-- phases (inclusive):")
        for key, what in phases:
            for l in o.stdout.splitlines():
                if key in l + " ":
                    print("   %-34s %s" % (what, l.split(")")[0].strip() + ")"))
                    break
    if shutil.which("strace"):
        for sc in (nodelay, big_sc):
            print()
            print("== Profile: carrier, %s: strace -c -f ==" % sc.title)
            argv, stdin_path, extra = command(c, "carrier", sc)
            out = os.path.join(c.work, "strace.out")
            spawn_wait(c, ["strace", "-c", "-f", "-o", out] + argv,
                       stdin_path, extra, 300)
            with open(out) as f:
                print("".join(f.readlines()[:25]).rstrip())
    # The large message: hot loops per byte (10 MB, carrier and curl).
    ten = os.path.join(c.work, "10m.eml")
    write_big(ten, 10 * 1024 * 1024)
    sc10 = Scenario("ten", "10 MB (smtp-sink, DATA)", big_sc.port, msg=ten)
    for tool in ("carrier", "curl"):
        n, out, err = instructions(c, tool, sc10, "10m")
        print()
        print("== Profile: %s, %s, callgrind: %s instructions, %s per "
              "octet; top functions (self cost) ==" % (
                  tool, sc10.title, fmt(n, "minstr"),
                  "%.1f" % (n / (10 * 1024 * 1024)) if n else "?"))
        if err or not shutil.which("callgrind_annotate"):
            print(err or "callgrind_annotate missing")
            continue
        o = subprocess.run(["callgrind_annotate", "--auto=no",
                            "--threshold=95", out],
                           capture_output=True, text=True)
        rows = [l for l in o.stdout.splitlines()
                if re.match(r"^\s*[0-9,]+ \(", l)]
        print("\n".join(rows[1:11]))
    print()
    print("== Profile: carrier -vv, %s (timestamps: where the wall time "
          "goes) ==" % big_sc.title)
    argv, stdin_path, extra = command(c, "carrier", big_sc)
    argv = argv[:1] + ["-vv"] + argv[1:]
    print(datetime.datetime.now().strftime("%H:%M:%S.%f") +
          " (process started)")
    spawn_wait(c, argv, stdin_path, extra, 180)
    with open(c.errfile, errors="replace") as f:
        print("\n".join(l.rstrip() for l in f if " < 250-" not in l))
    print(datetime.datetime.now().strftime("%H:%M:%S.%f") +
          " (process ended)")

    for sc in delayed:
        if sc.key not in ("chunk1", "starttls3"):
            continue
        print()
        print("== Profile: carrier -vv, %s ==" % sc.title)
        argv, stdin_path, extra = command(c, "carrier", sc)
        argv = argv[:1] + ["-vv"] + argv[1:]
        spawn_wait(c, argv, stdin_path, extra, 30)
        with open(c.errfile, errors="replace") as f:
            lines = [l.rstrip() for l in f
                     if "TLS certificate" not in l][:60]
        print("\n".join(lines))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
