#!/usr/bin/env python3
"""Load-benchmark harness for simplejwt (standard library only).

Subcommands (normally run through the wrappers in bench/):

    harness.py side-by-side [--out FILE]   bench/side_by_side.sh
    harness.py cost-growth  [--out FILE]   bench/cost_growth.sh

See bench/README.md for what each measures and the environment knobs.
Every load figure comes from wrk with the parameters of
../shared/anchors/load.sh (wrk -t1 -c64 -d10s --timeout 10s over loopback,
its scenario.lua and RESULT lines), so the figures are comparable with
../shared/anchors/BASELINE.md.
"""

import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
SHARED = os.path.abspath(os.environ.get("SHARED_DIR", os.path.join(ROOT, "..", "shared")))
TARGET_DIR = os.path.abspath(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")))
BIN = os.environ.get("SIMPLEJWT_BIN", os.path.join(TARGET_DIR, "release", "simplejwt"))
EXAMPLES = os.path.join(TARGET_DIR, "release", "examples")
SCENARIO_LUA = os.path.join(SHARED, "anchors", "load", "scenario.lua")
TOKENS_LUA = os.path.join(BENCH, "lua", "tokens_once.lua")
PROFILES = os.path.join(SHARED, "conformance", "profiles.py")
ADAPTERS = {
    "ours": os.path.join(SHARED, "conformance", "targets", "simplejwt-rs.sh"),
    "reference": os.path.join(SHARED, "conformance", "targets", "simplejwt.sh"),
}

ALICE = {"username": "alice", "password": "alice-Password-1"}
SEED_USERS = [("alice", "alice-Password-1", True), ("bob", "bob-Password-1", False),
              ("carol", "carol-Password-1", True)]

# ---- knobs -------------------------------------------------------------------

def env(name, default):
    v = os.environ.get(name)
    return default if v is None or v == "" else v


DURATION = env("DURATION", "10s")
CONNECTIONS = int(env("CONNECTIONS", "64"))
WRK_THREADS = int(env("WRK_THREADS", "1"))
TIMEOUT = env("TIMEOUT", "10s")
STATE_DIR = env("CONFORMANCE_STATE_DIR", "/tmp/simplejwt-bench-state")


def seconds(d):
    """wrk duration (10s, 2m, 1h, bare seconds) -> seconds."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", d.strip())
    if not m:
        raise SystemExit(f"bad duration {d!r} (use e.g. 10s, 2m)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


# ---- machine and run metadata ------------------------------------------------

def sh(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, **kw).stdout.strip()
    except Exception:
        return ""


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def mem_total():
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1048576:.1f} GiB"
    except OSError:
        pass
    return "?"


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


KNOBS = ["DURATION", "CONNECTIONS", "WRK_THREADS", "TIMEOUT", "TARGETS", "SCENARIOS",
         "LOGIN_CONNECTIONS", "ROTATE_TOKENS_OURS", "ROTATE_TOKENS_REF", "ROTATE_RATE_OURS",
         "ROTATE_RATE_REF", "IDLE_WAIT", "NO_BUILD", "GUNICORN_WORKERS", "GUNICORN_WORKER_CLASS",
         "GUNICORN_THREADS", "CONFORMANCE_BACKEND", "SIZES", "BLACKLISTED_FRACTION",
         "EXPIRED_FRACTION", "FLUSH_ROWS", "FLUSH_EXPIRED_FRACTION", "FLUSH_BATCH", "FLUSH_SLICE",
         "FLUSH_SCENARIO", "BLACKLIST_TOKENS", "BLACKLIST_RATE", "KEEP_DB", "SHARED_DIR",
         "CARGO_TARGET_DIR", "SIMPLEJWT_BIN"]


def command_line(wrapper, argv):
    knobs = [f"{k}={shlex.quote(os.environ[k])}" for k in KNOBS if os.environ.get(k)]
    knobs += [f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items())
              if k.startswith("SIMPLEJWT_") and k not in KNOBS]
    return " ".join(knobs + [wrapper] + [shlex.quote(a) for a in argv])


def git_rev():
    rev = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]) or "?"
    dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    return rev + ("+dirty" if dirty else "")


def header_lines(title, command, load_before):
    return [
        f"# {title}",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- command: `{command}`",
        f"- machine: nproc={os.cpu_count()} ({sh(['nproc']) or '?'} usable), CPU \"{cpu_model()}\", "
        f"{mem_total()} RAM, kernel {platform.release()}",
        f"- tree: simplejwt {git_rev()}; {sh(['rustc', '--version']) or 'rustc ?'}; "
        f"{(sh(['sh', '-c', 'wrk --version 2>&1 | head -n 1']) or 'wrk ?').split(' Copyright')[0]}",
        f"- load: wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{DURATION} --timeout {TIMEOUT} over loopback, "
        f"on the same cores as the servers",
        f"- loadavg before: {load_before}",
    ]


# ---- processes ---------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        raw = f.read()
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    return comm, int(fields[1]), int(fields[11]) + int(fields[12])  # comm, ppid, utime+stime


SHELLS = {"bash", "sh", "dash", "sleep", "setsid", "timeout"}


def process_tree(root):
    """root and its descendants, without shells (the adapters' wrapper scripts)."""
    children = {}
    comms = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            comm, ppid, _ = _stat(int(d))
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
        comms[int(d)] = comm
    out, i = [root], 0
    while i < len(out):
        out += children.get(out[i], [])
        i += 1
    return [p for p in out if p in comms and comms[p] not in SHELLS]


def rss_kib(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            total += _stat(p)[2]
        except (OSError, ValueError, IndexError):
            pass
    return total


TICK = os.sysconf("SC_CLK_TCK")


class Sampler:
    """Peak of the summed VmRSS of a process tree (every ~100 ms) and its CPU use.
    For a single-process target the kernel's high-water mark is used too:
    /proc/PID/clear_refs=5 resets VmHWM at the start, VmHWM is read at the end."""

    def __init__(self, root):
        self.root = root
        self.peak_kib = 0
        self.stop_evt = threading.Event()
        self.pids = process_tree(root)
        self.single = len(self.pids) == 1
        if self.single:
            try:
                with open(f"/proc/{root}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                self.single = False
        self.t0 = time.monotonic()
        self.cpu0 = {p: cpu_ticks([p]) for p in self.pids}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        n = 0
        while not self.stop_evt.is_set():
            if n % 10 == 0:
                self.pids = process_tree(self.root)
                for p in self.pids:
                    self.cpu0.setdefault(p, 0)  # started during the window: all its CPU counts
            self.peak_kib = max(self.peak_kib, sum(rss_kib(p) for p in self.pids))
            n += 1
            self.stop_evt.wait(0.1)

    def stop(self):
        self.stop_evt.set()
        self.thread.join()
        pids = process_tree(self.root) or self.pids
        self.peak_kib = max(self.peak_kib, sum(rss_kib(p) for p in pids))
        if self.single:
            self.peak_kib = max(self.peak_kib, rss_kib(self.root, "VmHWM"))
        elapsed = time.monotonic() - self.t0
        used = sum(max(0, cpu_ticks([p]) - self.cpu0.get(p, 0)) for p in pids)
        return {"peak_rss_mib": self.peak_kib / 1024, "cpu_pct": 100.0 * used / TICK / max(elapsed, 1e-6),
                "processes": len(pids)}


def wait_idle(root, max_wait):
    """Waits until the target's tree uses < 10 % of a core (e.g. the reference
    still working off a queue of logins). Returns seconds waited."""
    t0 = time.monotonic()
    time.sleep(1)  # let the previous run drain (as load.sh)
    while time.monotonic() - t0 < max_wait:
        pids = process_tree(root)
        a = cpu_ticks(pids)
        time.sleep(0.5)
        if (cpu_ticks(pids) - a) / TICK / 0.5 < 0.10:
            break
    return time.monotonic() - t0


def http_ok(url, timeout=1.0):
    try:
        urllib.request.urlopen(url, timeout=timeout)
        return True
    except urllib.error.HTTPError:
        return True  # it answers
    except Exception:
        return False


def wait_http(url, proc=None, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_ok(url):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before answering {url}")
        time.sleep(0.1)
    raise RuntimeError(f"no answer from {url} after {timeout}s")


def post_json(url, payload, timeout=180):
    req = urllib.request.Request(url, method="POST", data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=timeout))


def login(base):
    body = post_json(base + "/api/token/", ALICE)
    return body["access"], body["refresh"]


def minted_pair(workdir, profile="default"):
    """alice's (access, refresh), signed with the profile's key by
    bench/tools/mint_tokens.rs — valid on every target, and obtained without a
    login, so no password hash runs before a scenario (it would add the
    hashing memory to the RSS of scenarios that never hash)."""
    pair = []
    for kind in ("access", "refresh"):
        path = os.path.join(workdir, f"pair-{kind}.txt")
        mint(path, 1, profile, kind=kind)
        with open(path) as f:
            pair.append(f.read().strip())
    return pair[0], pair[1]


def profile_env(profile):
    out = subprocess.run([sys.executable, PROFILES, "env", profile], capture_output=True,
                         text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, v = line[len("export "):].split("=", 1)
            result[k] = shlex.split(v)[0] if v else ""
    return result


def clean_env(profile=None, **extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLE_JWT_")}
    if profile:
        e.update(profile_env(profile))
    e.update({k: str(v) for k, v in extra.items()})
    return e


def mint(path, count, profile, kind="refresh", **extra):
    t0 = time.monotonic()
    e = clean_env(profile, **extra)
    with open(path, "w") as f:
        subprocess.run([os.path.join(EXAMPLES, "mint_tokens"), "--count", str(count), "--user-id", "1",
                        "--kind", kind], stdout=f, env=e, check=True)
    log(f"minted {count} {kind} tokens ({profile}) in {time.monotonic() - t0:.1f}s")


# ---- targets -----------------------------------------------------------------

class AdapterTarget:
    """ours / reference, started through the conformance adapters."""

    def __init__(self, name, profile):
        self.name, self.profile = name, profile
        self.adapter = ADAPTERS[name]
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.pidfile = os.path.join(STATE_DIR, ("simplejwt-rs-" if name == "ours" else "simplejwt-")
                                    + f"{self.port}.pid")

    def env(self):
        e = dict(os.environ, CONFORMANCE_STATE_DIR=STATE_DIR)
        if self.name == "ours":
            e["SIMPLEJWT_BIN"] = BIN
        else:
            e.setdefault("GUNICORN_WORKER_CLASS", "gthread")
            e.setdefault("GUNICORN_WORKERS", "2")
            e.setdefault("GUNICORN_THREADS", "4")
        return e

    def start(self):
        log(f"starting {self.name} (profile {self.profile}) on {self.base}")
        subprocess.run([self.adapter, "start", self.profile, str(self.port)], cwd=ROOT, env=self.env(),
                       check=True, stdout=sys.stderr)
        with open(self.pidfile) as f:
            self.pid = int(f.read().strip())
        return self

    def stop(self):
        subprocess.run([self.adapter, "stop", str(self.port)], cwd=ROOT, env=self.env(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sqlite_path(self):
        if self.name != "ours" or env("CONFORMANCE_BACKEND", "sqlite") != "sqlite":
            return None
        return os.path.join(STATE_DIR, f"simplejwt-rs-{self.port}.db", "db.sqlite3")


class CeilingTarget:
    def __init__(self, mode):
        self.name = "ceiling" if mode == "plain" else "ceiling-decode"
        self.mode = mode
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self):
        log(f"starting {self.name} on {self.base}")
        self.proc = subprocess.Popen([os.path.join(EXAMPLES, "ceiling"), "--bind", f"127.0.0.1:{self.port}",
                                      "--mode", self.mode], env=clean_env("default"),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self.pid = self.proc.pid
        wait_http(self.base + "/api/protected/", self.proc, 30)
        return self

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def sqlite_path(self):
        return None


class DirectServer:
    """Our binary started the way the adapter does it (migrate, createuser,
    serve), on a database we seed first: for cost_growth.sh."""

    def __init__(self, workdir, profile="default"):
        self.name = "ours"
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.db = os.path.join(workdir, "db.sqlite3")
        self.url = f"sqlite://{self.db}?mode=rwc"
        self.profile = profile
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = clean_env(profile, DATABASE_URL=self.url)
        self.logfile = os.path.join(workdir, "server.log")

    def prepare(self):
        subprocess.run([BIN, "migrate"], env=self.env, check=True, capture_output=True)
        for name, password, active in SEED_USERS:
            subprocess.run([BIN, "createuser", name, "--password-stdin"] + ([] if active else ["--inactive"]),
                           input=password, text=True, env=self.env, check=True, capture_output=True)

    def seed(self, rows, blacklisted, expired):
        t0 = time.monotonic()
        out = subprocess.run([os.path.join(EXAMPLES, "seed_tokens"), "--outstanding", str(rows),
                              "--blacklisted-fraction", str(blacklisted), "--expired-fraction", str(expired)],
                             env=self.env, check=True, capture_output=True, text=True)
        log(out.stdout.strip())
        return time.monotonic() - t0

    def start(self):
        self.log = open(self.logfile, "ab")
        self.proc = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{self.port}"], env=self.env,
                                     stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.pid = self.proc.pid
        wait_http(self.base + "/api/protected/", self.proc, 60)
        return self

    def stop(self):
        if getattr(self, "proc", None) and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def sqlite_path(self):
        return self.db


def db_counts(path):
    if not path or not os.path.exists(path):
        return None
    try:
        c = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        o = c.execute("SELECT COUNT(*) FROM outstanding_tokens").fetchone()[0]
        b = c.execute("SELECT COUNT(*) FROM blacklisted_tokens").fetchone()[0]
        c.close()
        return {"outstanding": o, "blacklisted": b}
    except sqlite3.Error as e:
        log(f"cannot count rows in {path}: {e}")
        return None


# ---- wrk -----------------------------------------------------------------------

def wrk_cmd(url, lua, duration, connections):
    return ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}", "--timeout", TIMEOUT,
            "-s", lua, url]


def parse_result(out, err=""):
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"wrk printed no RESULT line:\n{out}\n{err}")


def wrk_env(method="GET", body="", auth="", **extra):
    e = dict(os.environ, LOAD_METHOD=method, LOAD_BODY=body, LOAD_AUTH=auth, WRK_THREADS=str(WRK_THREADS))
    e.update({k: str(v) for k, v in extra.items()})
    return e


def run_wrk(url, lua, wenv, duration=None, connections=None):
    p = subprocess.run(wrk_cmd(url, lua, duration or DURATION, connections or CONNECTIONS),
                       capture_output=True, text=True, env=wenv)
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stderr.strip()}")
    return parse_result(p.stdout, p.stderr)


def start_wrk(url, lua, wenv, duration, connections):
    return subprocess.Popen(wrk_cmd(url, lua, duration, connections), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=wenv)


def summarize(r):
    """wrk RESULT -> figures (errors = non-2xx/3xx + socket errors, as load.sh;
    for the one-token-per-request script, every non-200)."""
    rps = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0
    sock = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
    status = r.get("non200", r["err_status"])
    return {"rps": rps, "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "max_ms": r["max_us"] / 1000, "errors": status + sock, "err_status": status,
            "err_socket": sock, "requests": r["requests"], "raw": r}


# ---- scenarios -------------------------------------------------------------------

def scenario_request(name, access, refresh):
    """(method, path, body, auth) as in anchors/load.sh."""
    return {
        "protected": ("GET", "/api/protected/", "", f"Bearer {access}"),
        "verify": ("POST", "/api/token/verify/", json.dumps({"token": access}), ""),
        "refresh": ("POST", "/api/token/refresh/", json.dumps({"refresh": refresh}), ""),
        "login": ("POST", "/api/token/", json.dumps(ALICE), ""),
    }[name]


def measure(target, fn, idle_wait):
    waited = wait_idle(target.pid, idle_wait)
    sampler = Sampler(target.pid)
    try:
        result = fn()
    finally:
        usage = sampler.stop()
    result.update(usage)
    if waited > 3:
        result.setdefault("notes", []).append(f"waited {waited:.0f}s for the server to go idle first")
    return result


def simple_scenario(target, name, tokens):
    access, refresh = tokens()
    method, path, body, auth = scenario_request(name, access, refresh)
    return summarize(run_wrk(target.base + path, SCENARIO_LUA, wrk_env(method, body, auth)))


def under_login_scenario(target, tokens):
    """protected at CONNECTIONS while a second wrk saturates login with
    LOGIN_CONNECTIONS for the same window (started 1 s earlier, ends 1 s later)."""
    access, _ = tokens()
    login_conns = int(env("LOGIN_CONNECTIONS", "8"))
    login_dur = f"{seconds(DURATION) + 2:g}s"
    _, lpath, lbody, _ = scenario_request("login", "", "")
    lw = start_wrk(target.base + lpath, SCENARIO_LUA, wrk_env("POST", lbody, ""), login_dur, login_conns)
    time.sleep(1)
    try:
        res = summarize(run_wrk(target.base + "/api/protected/", SCENARIO_LUA,
                                wrk_env("GET", "", f"Bearer {access}")))
    finally:
        out, err = lw.communicate()
    lres = summarize(parse_result(out, err))
    res["login"] = lres
    res.setdefault("notes", []).append(
        f"login at the same time ({login_conns} connections, {login_dur}): {lres['rps']:.1f} req/s, "
        f"p50 {lres['p50_ms']:.0f} ms, p99 {lres['p99_ms']:.0f} ms, errors {lres['errors']}")
    return res


def once_scenario(target, path, field, count, profile, workdir, tag):
    """Every request its own freshly minted refresh token (sent once)."""
    tokfile = os.path.join(workdir, f"tokens-{tag}.txt")
    mint(tokfile, count, profile)
    before = db_counts(target.sqlite_path())
    r = run_wrk(target.base + path, TOKENS_LUA, wrk_env(TOKENS_FILE=tokfile, TOKENS_FIELD=field))
    res = summarize(r)
    after = db_counts(target.sqlite_path())
    os.unlink(tokfile)
    notes = res.setdefault("notes", [])
    ok = r["requests"] - r.get("non200", 0)
    if r.get("statuses"):
        notes.append("non-200 statuses: " + ", ".join(f"{s['status']}×{s['count']}" for s in r["statuses"]))
    if r.get("exhausted"):
        res["exhausted"] = True
        notes.append(f"TOKENS EXHAUSTED after {r['sent']} (minted {count}): the rate is a lower bound; "
                     f"raise the token count")
    if before and after:
        added = after["blacklisted"] - before["blacklisted"]
        notes.append(f"database: +{added} blacklisted rows for {ok} 200 responses "
                     f"(up to {CONNECTIONS} more may complete after wrk stops)")
        res["db_before"], res["db_after"] = before, after
    return res


# ---- side by side ----------------------------------------------------------------

ALL_SCENARIOS = ["protected", "verify", "refresh", "refresh_rotate", "login", "protected_under_login"]
CEILING_SCENARIOS = {"protected"}


def build():
    if env("NO_BUILD", "") in ("1", "true", "yes"):
        return
    cmd = ["cargo", "build", "--release", "--bin", "simplejwt", "--example", "ceiling", "--example", "mint_tokens",
           "--example", "seed_tokens"]
    log("building: " + " ".join(cmd) + " (NO_BUILD=1 to skip)")
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=sys.stderr)


def check_tools():
    missing = [p for p in [BIN, os.path.join(EXAMPLES, "ceiling"), os.path.join(EXAMPLES, "mint_tokens"),
                           os.path.join(EXAMPLES, "seed_tokens"), SCENARIO_LUA] if not os.path.exists(p)]
    if not shutil.which("wrk"):
        missing.append("wrk (apt-get install -y wrk)")
    if missing:
        raise SystemExit("missing: " + ", ".join(missing) + "\n(build with cargo build --release --bins --examples)")


def run_target(kind, scenarios, workdir, results, idle_wait):
    """Runs the scenarios that apply to one target; appends rows to results."""
    dur = seconds(DURATION)
    if kind in ("ceiling", "ceiling-decode"):
        if "protected" not in scenarios:
            return
        t = CeilingTarget("plain" if kind == "ceiling" else "decode").start()
        try:
            tokfile = os.path.join(workdir, "access.txt")
            mint(tokfile, 1, "default", kind="access", SIMPLE_JWT_ACCESS_TOKEN_LIFETIME="1d")
            access = open(tokfile).read().strip()
            # the same request bytes as ours: the plain ceiling ignores the header
            results.append(dict(target=kind, scenario="protected", **measure(
                t, lambda: summarize(run_wrk(t.base + "/api/protected/", SCENARIO_LUA,
                                             wrk_env("GET", "", f"Bearer {access}"))), idle_wait)))
        finally:
            t.stop()
        return

    rate = {"ours": float(env("ROTATE_RATE_OURS", "25000")), "reference": float(env("ROTATE_RATE_REF", "1500"))}
    default_scen = [s for s in scenarios if s != "refresh_rotate"]
    if default_scen:
        t = AdapterTarget(kind, "default").start()
        try:
            def tokens():
                return minted_pair(workdir)
            for s in ["protected", "verify", "refresh", "login", "protected_under_login"]:
                if s not in default_scen:
                    continue
                log(f"{kind}: {s} ({DURATION})")
                try:
                    if s == "protected_under_login":
                        row = measure(t, lambda: under_login_scenario(t, tokens), idle_wait)
                    else:
                        row = measure(t, lambda: simple_scenario(t, s, tokens), idle_wait)
                except Exception as e:  # keep going: one failed scenario must not lose the others
                    log(f"{kind}: {s} failed: {e}")
                    row = {"failed": str(e)}
                results.append(dict(target=kind, scenario=s, **row))
        finally:
            t.stop()
    if "refresh_rotate" in scenarios:
        override = os.environ.get("ROTATE_TOKENS_OURS" if kind == "ours" else "ROTATE_TOKENS_REF")
        count = int(override) if override else int(math.ceil(rate[kind] * dur * 1.3)) + 1000
        t = AdapterTarget(kind, "rotate").start()
        try:
            log(f"{kind}: refresh_rotate ({DURATION}, {count} tokens)")
            try:
                row = measure(t, lambda: once_scenario(t, "/api/token/refresh/", "refresh", count, "rotate",
                                                       workdir, kind), idle_wait)
            except Exception as e:
                log(f"{kind}: refresh_rotate failed: {e}")
                row = {"failed": str(e)}
            results.append(dict(target=kind, scenario="refresh_rotate", **row))
        finally:
            t.stop()


def fmt(v, nd=1):
    if v is None:
        return "—"
    if isinstance(v, float):
        if nd == 0 or abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def find(results, target, scenario):
    for r in results:
        if r["target"] == target and r["scenario"] == scenario and "rps" in r:
            return r
    return None


def ratio(a, b):
    if not a or not b or not b.get("rps"):
        return None
    return a["rps"] / b["rps"]


def side_by_side_report(results, meta):
    lines = header_lines("simplejwt: side by side with the reference and the ceiling", meta["command"],
                         meta["load_before"])
    lines += [
        f"- loadavg after: {meta['load_after']}",
        f"- targets: **ours** = `simplejwt serve` via ../shared/conformance/targets/simplejwt-rs.sh "
        f"({env('CONFORMANCE_BACKEND', 'sqlite')}); **reference** = djangorestframework-simplejwt 5.5.1 via "
        f"simplejwt.sh, gunicorn {os.environ.get('GUNICORN_WORKER_CLASS', 'gthread')} "
        f"{os.environ.get('GUNICORN_WORKERS', '2')} workers × {os.environ.get('GUNICORN_THREADS', '4')} threads; "
        f"**ceiling** = bench/tools/ceiling.rs (bare axum, same JSON), **ceiling-decode** = the same plus one "
        f"HS256 decode (jsonwebtoken)",
        f"- scenarios: {', '.join(meta['scenarios'])}; profile `default` except refresh_rotate (profile "
        f"`rotate`: ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION, a fresh minted token per request); "
        f"protected_under_login = protected at {CONNECTIONS} connections while login runs with "
        f"{env('LOGIN_CONNECTIONS', '8')} connections",
        f"- errors: non-2xx/3xx + socket errors (refresh_rotate: every non-200); peak RSS: summed VmRSS "
        f"of the server's processes sampled every 100 ms (and VmHWM for one-process servers); "
        f"CPU: server processes, % of one core",
        "",
        "## Results",
        "",
        "| scenario | target | req/s | p50 ms | p99 ms | max ms | errors | requests | peak RSS MiB | server CPU % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    order = {t: i for i, t in enumerate(["ours", "ceiling-decode", "ceiling", "reference"])}
    rows = sorted(results, key=lambda r: (ALL_SCENARIOS.index(r["scenario"]), order.get(r["target"], 9)))
    for r in rows:
        if "failed" in r:
            lines.append(f"| {r['scenario']} | {r['target']} | FAILED: {r['failed'][:80]} | | | | | | | |")
            continue
        lines.append(
            f"| {r['scenario']} | {r['target']} | {fmt(r['rps'])}{' ≥ (tokens exhausted)' if r.get('exhausted') else ''} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{r['max_ms']:.1f} | {r['errors']} | {r['requests']:,} | {r['peak_rss_mib']:.1f} | "
            f"{r['cpu_pct']:.0f} |")
    lines += ["", "## Ratios (req/s)", "",
              "| scenario | ours | reference | ours / reference | ceiling-decode (protected) | "
              "ours / ceiling-decode |",
              "|---|---:|---:|---:|---:|---:|"]
    cdec = find(results, "ceiling-decode", "protected")
    for s in meta["scenarios"]:
        o, ref = find(results, "ours", s), find(results, "reference", s)
        vs_ceiling = s in ("protected", "verify", "protected_under_login")
        rr, rc = ratio(o, ref), ratio(o, cdec) if vs_ceiling else None
        lines.append(f"| {s} | {fmt(o and o['rps'])} | {fmt(ref and ref['rps'])} | "
                     f"{'—' if rr is None else f'{rr:,.1f}×'} | {fmt(cdec and cdec['rps']) if vs_ceiling else '—'} | "
                     f"{'—' if rc is None else f'{rc * 100:.0f} %'} |")
    lines += ["", "## Issue #11 targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += targets_table(results)
    notes = []
    for r in rows:
        for n in r.get("notes", []):
            notes.append(f"- {r['target']} / {r['scenario']}: {n}")
        if "cpu_pct" in r and r["cpu_pct"] < 100 and r["scenario"] != "login":
            notes.append(f"- {r['target']} / {r['scenario']}: the server used {r['cpu_pct']:.0f} % of one core "
                         f"(of {100 * (os.cpu_count() or 1)} %): not bound by its own CPU but by the client "
                         f"(wrk -t{WRK_THREADS} on the same cores) or by waiting (locks, fsync, a queue)")
    for n in meta.get("notes", []):
        notes.append(f"- {n}")
    if notes:
        lines += ["", "## Notes", ""] + notes
    return "\n".join(lines) + "\n"


def targets_table(results):
    o = {s: find(results, "ours", s) for s in ALL_SCENARIOS}
    ref = {s: find(results, "reference", s) for s in ALL_SCENARIOS}
    cdec = find(results, "ceiling-decode", "protected")
    out = []

    def row(name, value, text, ok):
        verdict = "n/a (not measured)" if value is None else ("met" if ok else "**NOT met**")
        out.append(f"| {name} | {text if value is not None else '—'} | {verdict} |")

    def rx(s, need):
        v = ratio(o[s], ref[s])
        exhausted = any(x and x.get("exhausted") for x in (o[s], ref[s]))
        text = (f"{v:,.1f}×" + (" (tokens exhausted: not valid)" if exhausted else "")) if v else ""
        row(f"{s} ≥ {need}× reference", v, text, v is not None and v >= need)

    rx("protected", 100)
    v = ratio(o["protected"], cdec)
    row("protected ≥ 60 % of ceiling-decode", v, f"{v * 100:.0f} %" if v else "", v is not None and v >= 0.6)
    p = o["protected"]
    row("protected p99 < 5 ms", p, f"{p['p99_ms']:.2f} ms" if p else "", p is not None and p["p99_ms"] < 5)
    v = ratio(o["verify"], cdec)
    row("verify ≥ 80 % of ceiling-decode", v, f"{v * 100:.0f} %" if v else "", v is not None and v >= 0.8)
    rx("refresh", 40)
    rx("refresh_rotate", 20)
    r = o["refresh_rotate"]
    row("refresh_rotate: no double-spend / refused fresh token (non-200 = 0)", r,
        f"{r['errors']} non-200 of {r['requests']:,}" if r else "", r is not None and r["errors"] == 0)
    rx("login", 10)
    u = o["protected_under_login"]
    row("protected p99 < 20 ms while logins saturate the hashing pool", u,
        f"{u['p99_ms']:.2f} ms ({u['login']['rps']:.1f} logins/s)" if u else "", u is not None and u["p99_ms"] < 20)
    row("RSS < 30 MiB at 64 connections on protected", p, f"{p['peak_rss_mib']:.1f} MiB" if p else "",
        p is not None and p["peak_rss_mib"] < 30)
    lg = o["login"]
    if lg and p:
        conc = int(os.environ.get("SIMPLEJWT_HASH_CONCURRENCY") or os.cpu_count() or 1)
        bound = p["peak_rss_mib"] + conc * 19 + 8
        row(f"login storm RSS bounded (≤ protected RSS + {conc} × 19 MiB + 8 MiB = {bound:.0f} MiB)", lg,
            f"{lg['peak_rss_mib']:.1f} MiB", lg["peak_rss_mib"] <= bound)
    else:
        row("login storm RSS bounded", None, "", False)
    return out


def side_by_side(argv):
    out_path = os.path.join(BENCH, "results", "latest.md")
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--out" and args:
            out_path = args.pop(0)
        elif a.startswith("--out="):
            out_path = a.split("=", 1)[1]
        else:
            raise SystemExit("usage: side_by_side.sh [--out FILE]   (knobs: see bench/README.md)")
    command = command_line("bench/side_by_side.sh", argv)
    targets = env("TARGETS", "ceiling ours reference").split()
    expanded = []
    for t in targets:
        if t not in ("ceiling", "ceiling-plain", "ceiling-decode", "ours", "reference"):
            raise SystemExit(f"unknown target {t!r} (ours, reference, ceiling, ceiling-plain, ceiling-decode)")
        expanded += {"ceiling": ["ceiling", "ceiling-decode"], "ceiling-plain": ["ceiling"]}.get(t, [t])
    scenarios = env("SCENARIOS", " ".join(ALL_SCENARIOS)).split()
    for s in scenarios:
        if s not in ALL_SCENARIOS:
            raise SystemExit(f"unknown scenario {s!r} ({', '.join(ALL_SCENARIOS)})")
    scenarios = [s for s in ALL_SCENARIOS if s in scenarios]
    build()
    check_tools()
    os.makedirs(STATE_DIR, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="simplejwt-bench.")
    idle_wait = float(env("IDLE_WAIT", "90"))
    meta = {"command": command, "load_before": loadavg(), "scenarios": scenarios, "notes": []}
    results = []
    t0 = time.monotonic()
    try:
        for kind in expanded:
            try:
                run_target(kind, scenarios, workdir, results, idle_wait)
            except Exception as e:
                log(f"{kind}: {e}")
                meta["notes"].append(f"{kind}: could not run: {e}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    meta["load_after"] = loadavg()
    meta["notes"].append(f"whole run: {time.monotonic() - t0:.0f} s")
    report = side_by_side_report(results, meta)
    write_outputs(out_path, report, {"meta": meta, "results": results})
    print(report)


def write_outputs(out_path, report, data):
    d = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(d, exist_ok=True)
    with open(out_path, "w") as f:
        f.write(report)
    base = out_path[:-3] if out_path.endswith(".md") else out_path
    with open(base + ".json", "w") as f:
        json.dump(data, f, indent=1, default=str)
    log(f"wrote {out_path} and {base}.json")


# ---- cost growth -------------------------------------------------------------------

GROWTH_SCENARIOS = ["protected", "refresh", "blacklist"]


def growth_one(size, scenarios, root_dir, idle_wait):
    rows = []
    dur = seconds(DURATION)
    srv = DirectServer(os.path.join(root_dir, f"rows-{size}"))
    try:
        srv.prepare()
        seed_s = srv.seed(size, float(env("BLACKLISTED_FRACTION", "0.5")), float(env("EXPIRED_FRACTION", "0")))
        srv.start()
        for s in scenarios:
            log(f"cost growth: {size} rows: {s} ({DURATION})")
            before = db_counts(srv.db)
            try:
                if s == "blacklist":
                    override = os.environ.get("BLACKLIST_TOKENS")
                    count = int(override) if override else int(
                        math.ceil(float(env("BLACKLIST_RATE", "25000")) * dur * 1.3)) + 1000
                    row = measure(srv, lambda: once_scenario(srv, "/api/token/blacklist/", "refresh", count,
                                                             "default", srv.workdir, "blacklist"), idle_wait)
                else:
                    row = measure(srv, lambda: simple_scenario(srv, s, lambda: login(srv.base)), idle_wait)
            except Exception as e:
                log(f"{s} failed: {e}")
                row = {"failed": str(e)}
            row.update(size=size, scenario=s, seed_s=seed_s, rows_before=before, rows_after=db_counts(srv.db))
            rows.append(row)
    finally:
        srv.stop()
        if env("KEEP_DB", "") not in ("1", "true"):
            shutil.rmtree(srv.workdir, ignore_errors=True)
    return rows


def flush_test(root_dir, idle_wait):
    """Seeds FLUSH_ROWS (half expired by default), then runs flushexpiredtokens
    while wrk measures FLUSH_SCENARIO in back-to-back FLUSH_SLICE windows."""
    size = int(env("FLUSH_ROWS", "1000000"))
    slice_d = env("FLUSH_SLICE", "1s")
    scen = env("FLUSH_SCENARIO", "protected")
    srv = DirectServer(os.path.join(root_dir, "flush"))
    result = {"rows": size, "slices": []}
    try:
        srv.prepare()
        result["seed_s"] = srv.seed(size, float(env("BLACKLISTED_FRACTION", "0.5")),
                                    float(env("FLUSH_EXPIRED_FRACTION", "0.5")))
        srv.start()
        result["rows_before"] = db_counts(srv.db)
        access, refresh = login(srv.base)
        if scen == "blacklist":  # writes: compete with the flush for SQLite's write lock
            path = "/api/token/blacklist/"
            per_slice = int(math.ceil(float(env("BLACKLIST_RATE", "25000")) * seconds(slice_d) * 1.3)) + 1000
        else:
            method, path, body, auth = scenario_request(scen, access, refresh)
            wenv = wrk_env(method, body, auth)
        wait_idle(srv.pid, idle_wait)
        cmd = [BIN, "flushexpiredtokens"]
        if os.environ.get("FLUSH_BATCH"):
            cmd += ["--batch", os.environ["FLUSH_BATCH"]]
        t_start = time.monotonic()
        flush = None
        flush_t0 = flush_t1 = None
        ended = {}

        def watch(proc):
            proc.wait()
            ended["t"] = time.monotonic()
        sampler = Sampler(srv.pid)
        pre, post = 2, 1
        for i in range(100000):
            if flush is None and i == pre:
                log("flush: starting " + " ".join(cmd))
                flush_t0 = time.monotonic()
                flush = subprocess.Popen(cmd, env=srv.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                threading.Thread(target=watch, args=(flush,), daemon=True).start()
            s0 = time.monotonic()
            if scen == "blacklist":
                tokfile = os.path.join(srv.workdir, "tokens-slice.txt")
                mint(tokfile, per_slice, "default")
                s0 = time.monotonic()
                r = summarize(run_wrk(srv.base + path, TOKENS_LUA,
                                      wrk_env(TOKENS_FILE=tokfile, TOKENS_FIELD="refresh"), duration=slice_d))
            else:
                r = summarize(run_wrk(srv.base + path, SCENARIO_LUA, wenv, duration=slice_d))
            s1 = time.monotonic()
            if flush is not None and flush_t1 is None and "t" in ended:
                flush_t1 = ended["t"]
            during = flush_t0 is not None and s1 > flush_t0 and (flush_t1 is None or s0 < flush_t1)
            r.pop("raw", None)
            r.update(t0=s0 - t_start, t1=s1 - t_start, during_flush=during)
            result["slices"].append(r)
            if flush_t1 is not None:
                post -= 1
                if post < 0:
                    break
        usage = sampler.stop()
        out, err = flush.communicate()  # output is a line or two: no pipe deadlock
        result["flush_exit"] = flush.returncode
        result["flush_output"] = (out + err).strip()
        m = re.search(r"Deleted (\d+)", err + out)
        result["deleted"] = int(m.group(1)) if m else None
        result["rows_after"] = db_counts(srv.db)
        result["usage"] = usage
        result["flush_s"] = flush_t1 - flush_t0
        result["flush_start"] = flush_t0 - t_start
        result["scenario"] = scen
    finally:
        srv.stop()
        if env("KEEP_DB", "") not in ("1", "true"):
            shutil.rmtree(srv.workdir, ignore_errors=True)
    return result


def cost_growth_report(rows, flush, meta):
    lines = header_lines("simplejwt: cost growth with the token tables", meta["command"], meta["load_before"])
    lines += [
        f"- loadavg after: {meta['load_after']}",
        f"- server: `simplejwt serve` (SQLite, profile `default`) started directly on a database seeded by "
        f"bench/tools/seed_tokens.rs with N outstanding rows, {float(env('BLACKLISTED_FRACTION', '0.5')) * 100:.0f} % "
        f"blacklisted, {float(env('EXPIRED_FRACTION', '0')) * 100:.0f} % expired",
        "- blacklist: POST /api/token/blacklist/ with a fresh minted refresh token per request (each adds one "
        "outstanding and one blacklisted row, so the tables grow during that scenario: see rows at end)",
        "",
    ]
    if rows:
        lines += ["## Throughput by table size", "",
                  "| rows at start (outstanding / blacklisted) | scenario | req/s | p50 ms | p99 ms | max ms | errors | "
                  "peak RSS MiB | rows at end |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---|"]
        for r in rows:
            rb, ra = r.get("rows_before"), r.get("rows_after")
            rbs = f"{rb['outstanding']:,} / {rb['blacklisted']:,}" if rb else "?"
            ras = f"{ra['outstanding']:,} / {ra['blacklisted']:,}" if ra else "?"
            if "failed" in r:
                lines.append(f"| {rbs} | {r['scenario']} | FAILED: {r['failed'][:80]} | | | | | | {ras} |")
                continue
            lines.append(f"| {rbs} | {r['scenario']} | {fmt(r['rps'])} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                         f"{r['max_ms']:.1f} | {r['errors']} | {r['peak_rss_mib']:.1f} | {ras} |")
        sizes = sorted({r["size"] for r in rows})
        scens = [s for s in GROWTH_SCENARIOS if any(r["scenario"] == s for r in rows)]
        lines += ["", "## Flatness (req/s by seeded rows)", "",
                  "| scenario | " + " | ".join(f"{s:,}" for s in sizes) + " | largest / smallest |",
                  "|---|" + "---:|" * (len(sizes) + 1)]
        for s in scens:
            vals = []
            for n in sizes:
                r = next((x for x in rows if x["size"] == n and x["scenario"] == s and "rps" in x), None)
                vals.append(r["rps"] if r else None)
            first = next((v for v in vals if v), None)
            last = next((v for v in reversed(vals) if v), None)
            rr = f"{last / first * 100:.0f} %" if first and last else "—"
            lines.append(f"| {s} | " + " | ".join(fmt(v) for v in vals) + f" | {rr} |")
        lines += ["", "Seeding times: " + ", ".join(
            f"{n:,} rows {next(x['seed_s'] for x in rows if x['size'] == n):.1f} s" for n in sizes)]
    if flush:
        sl = flush["slices"]
        pre = [s for s in sl if s["t1"] <= flush["flush_start"]]
        dur = [s for s in sl if s["during_flush"]]

        def agg(group):
            if not group:
                return None
            req = sum(s["requests"] for s in group)
            span = sum(s["t1"] - s["t0"] for s in group)
            return {"rps": req / span if span else 0, "p99_worst": max(s["p99_ms"] for s in group),
                    "max": max(s["max_ms"] for s in group), "errors": sum(s["errors"] for s in group)}

        a_pre, a_dur = agg(pre), agg(dur)
        rb, ra = flush.get("rows_before"), flush.get("rows_after")
        lines += ["", "## flushexpiredtokens under traffic", "",
                  f"- database: {rb['outstanding']:,} outstanding / {rb['blacklisted']:,} blacklisted rows, "
                  f"{float(env('FLUSH_EXPIRED_FRACTION', '0.5')) * 100:.0f} % expired (seeded in {flush['seed_s']:.1f} s); "
                  f"after: {ra['outstanding']:,} / {ra['blacklisted']:,}" if rb and ra else "- database: ?",
                  f"- `simplejwt flushexpiredtokens{(' --batch ' + os.environ['FLUSH_BATCH']) if os.environ.get('FLUSH_BATCH') else ''}`: "
                  f"deleted {flush.get('deleted')} rows in {flush['flush_s']:.1f} s (exit {flush['flush_exit']}; "
                  f"the process's wall time, started with the server serving)",
                  f"- load: {flush['scenario']} in back-to-back wrk windows of {env('FLUSH_SLICE', '1s')} "
                  f"(-c{CONNECTIONS}), 2 before the flush, then until 1 after it",
                  "",
                  "| window | req/s | worst p99 ms | max ms | errors |",
                  "|---|---:|---:|---:|---:|"]
        for name, a in (("before the flush", a_pre), ("during the flush", a_dur)):
            if a:
                lines.append(f"| {name} | {fmt(a['rps'])} | {a['p99_worst']:.2f} | {a['max']:.1f} | {a['errors']} |")
        lines += ["", "<details><summary>every window</summary>", "",
                  "| t s | flush | req/s | p50 ms | p99 ms | max ms | errors |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for s in sl:
            lines.append(f"| {s['t0']:.1f}–{s['t1']:.1f} | {'yes' if s['during_flush'] else ''} | {fmt(s['rps'])} | "
                         f"{s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['max_ms']:.1f} | {s['errors']} |")
        lines += ["", "</details>"]
    for n in meta.get("notes", []):
        lines.append(f"\n- {n}")
    return "\n".join(lines) + "\n"


def cost_growth(argv):
    out_path = os.path.join(BENCH, "results", "cost_growth.md")
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--out" and args:
            out_path = args.pop(0)
        elif a.startswith("--out="):
            out_path = a.split("=", 1)[1]
        else:
            raise SystemExit("usage: cost_growth.sh [--out FILE]   (knobs: see bench/README.md)")
    command = command_line("bench/cost_growth.sh", argv)
    raw_sizes = env("SIZES", "1000 10000 100000 1000000")
    sizes = [] if raw_sizes == "none" else [int(float(x)) for x in raw_sizes.split()]
    scenarios = env("SCENARIOS", " ".join(GROWTH_SCENARIOS)).split()
    for s in scenarios:
        if s not in GROWTH_SCENARIOS:
            raise SystemExit(f"unknown scenario {s!r} ({', '.join(GROWTH_SCENARIOS)})")
    scenarios = [s for s in GROWTH_SCENARIOS if s in scenarios]  # blacklist last: it grows the tables
    build()
    check_tools()
    root_dir = tempfile.mkdtemp(prefix="simplejwt-growth.")
    idle_wait = float(env("IDLE_WAIT", "30"))
    meta = {"command": command, "load_before": loadavg(), "notes": []}
    rows, flush = [], None
    t0 = time.monotonic()
    try:
        for n in sizes:
            rows += growth_one(n, scenarios, root_dir, idle_wait)
        if int(env("FLUSH_ROWS", "1000000")) > 0:
            flush = flush_test(root_dir, idle_wait)
    finally:
        if env("KEEP_DB", "") not in ("1", "true"):
            shutil.rmtree(root_dir, ignore_errors=True)
        else:
            log(f"kept databases under {root_dir}")
    meta["load_after"] = loadavg()
    meta["notes"].append(f"whole run: {time.monotonic() - t0:.0f} s")
    report = cost_growth_report(rows, flush, meta)
    write_outputs(out_path, report, {"meta": meta, "rows": rows, "flush": flush})
    print(report)


def main():
    def on_term(*_):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    if len(sys.argv) < 2 or sys.argv[1] not in ("side-by-side", "cost-growth"):
        raise SystemExit(__doc__)
    (side_by_side if sys.argv[1] == "side-by-side" else cost_growth)(sys.argv[2:])


if __name__ == "__main__":
    main()
