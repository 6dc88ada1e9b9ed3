"""test_up.py — `mcpbox up` end to end: start, status, crash recovery, stop.

Runs the real binaries from $MCPBOX_BUILD_DIR/bin (default <repo>/build):
`mcpbox up` with all its children on a short temporary data directory and a
free port, then checks what an operator relies on:

  - `mcpbox status` turns ok, and the URL line is printed;
  - a second `up` on the same data directory refuses and names the first;
  - every actor, killed with SIGKILL, is restarted and serves again
    (a new pid answers `health`); the gateway serves /health again;
  - the broker, killed with SIGKILL, is restarted and every actor finds it
    again without being restarted itself;
  - SIGTERM stops everything: exit 0, no process left, lock removed;
  - `up` killed with SIGKILL leaves no orphans, and a new `up` starts;
  - `migrate` twice (the second applies nothing), `--version`, `keygen`.

Debian's /usr/bin/python3 with pytest; no other dependency.
"""
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

BUILD_DIR = os.environ.get("MCPBOX_BUILD_DIR",
                           os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build"))
BIN_DIR = os.path.join(BUILD_DIR, "bin")
MCPBOX = os.path.join(BIN_DIR, "mcpbox")

EXECUTORS = 2

STARTUP_S = 20          # up -> status ok
RECOVERY_S = 15         # kill -9 of one actor -> serving again
BROKER_RECOVERY_S = 20  # kill -9 of the broker -> everything ok again
STOP_S = 10             # SIGTERM -> up exited


# --- helpers ----------------------------------------------------------------

def env():
    e = dict(os.environ)
    e["MCPBOX_HEARTBEAT_MS"] = "250"
    return e


def mcpbox(*args, timeout=30):
    return subprocess.run([MCPBOX, *args], capture_output=True, text=True,
                          timeout=timeout, env=env())


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout, interval=0.2, up=None):
    """Poll predicate() until it returns a truthy value; fail after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if up is not None:
            up.assert_running()
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})"
                + (up.logs() if up is not None else ""))


def process_name(pid):
    """Basename of argv[0] of pid, or None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0", 1)[0].decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return os.path.basename(argv0) or None


def child_pids(pid):
    pids = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return pids
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except FileNotFoundError:
            pass
    return pids


def descendants(pid):
    out, todo = [], child_pids(pid)
    while todo:
        p = todo.pop()
        out.append(p)
        todo += child_pids(p)
    return out


def children_by_name(pid):
    """{process name: sorted [pids]} of the live children of pid."""
    found = {}
    for child in child_pids(pid):
        name = process_name(child)
        if name:
            found.setdefault(name, []).append(child)
    return {name: sorted(pids) for name, pids in found.items()}


def alive_mcpbox(pids):
    """The pids that still run an mcpbox process."""
    return [p for p in pids if (process_name(p) or "").startswith("mcpbox")]


def constellation():
    """The constellation table, as `mcpbox status --json` gives it."""
    r = mcpbox("status", "--data-dir", "/nonexistent/mcpbox-up", "--json")
    return json.loads(r.stdout)["constellation"]


# Process name -> bus service name it serves (the gateway serves none), for
# every process `up` starts besides the broker.
ROWS = {row["process"]: row for row in constellation()}
ACTOR_SERVICES = {name: row["service"] for name, row in ROWS.items()
                  if name != "mcpbox-broker"}


def expected_count(name):
    return EXECUTORS if ROWS[name].get("count_option") else ROWS[name]["count"]


def status_json(data_dir):
    r = mcpbox("status", "--data-dir", data_dir, "--json", timeout=15)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = None
    return r.returncode, doc


def service_pid(data_dir, service):
    """The pid that answered `service`'s health request, or None."""
    _, doc = status_json(data_dir)
    entry = ((doc or {}).get("services") or {}).get(service) or {}
    return entry.get("pid") if entry.get("status") == "ok" else None


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Up:
    """A running `mcpbox up`, its output in files (never a pipe that fills)."""

    def __init__(self, data_dir, port, *extra):
        self.data_dir = data_dir
        self.port = port
        self.log_dir = tempfile.mkdtemp(prefix="mblog", dir="/tmp")
        self.out_path = os.path.join(self.log_dir, "stdout")
        self.err_path = os.path.join(self.log_dir, "stderr")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(
                [MCPBOX, "up", "--data-dir", data_dir, "--http-port", str(port),
                 "--executors", str(EXECUTORS), *extra],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env())
        self.pid = self.proc.pid

    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def logs(self):
        return (f"\n--- up stdout ---\n{self.stdout()}"
                f"\n--- up stderr (tail) ---\n{self.stderr()[-6000:]}")

    def assert_running(self):
        if self.proc.poll() is not None:
            pytest.fail(f"mcpbox up exited with {self.proc.returncode}" + self.logs())

    def children(self):
        return children_by_name(self.pid)

    def wait_all_ok(self, timeout):
        def all_ok():
            rc, doc = status_json(self.data_dir)
            return doc if rc == 0 and doc and doc.get("ok") else None
        return wait_until("mcpbox status to report every service ok", all_ok,
                          timeout, up=self)

    def close(self):
        """Teardown: whatever state the test left, leave nothing running."""
        if self.proc.poll() is None:
            kids = descendants(self.pid)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            for p in alive_mcpbox(kids):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(self.log_dir, ignore_errors=True)


@pytest.fixture
def data_dir():
    # Short on purpose: ipc:// socket paths must fit in 107 bytes.
    path = tempfile.mkdtemp(prefix="mb", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start_up():
    started = []

    def start(data_dir, port=None, *extra):
        up = Up(data_dir, port or free_port(), *extra)
        started.append(up)
        return up
    yield start
    for up in started:
        up.close()


# --- the small commands ------------------------------------------------------

def test_version_and_help():
    r = mcpbox("--version")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"mcpbox \d+\.\d+\.\d+\n", r.stdout), r.stdout

    r = mcpbox("--help")
    assert r.returncode == 0
    for command in ("up", "status", "migrate", "keygen"):
        assert re.search(rf"^\s+{command}\s", r.stdout, re.M), r.stdout
        rc = mcpbox(command, "--help")
        assert rc.returncode == 0, rc.stderr
        assert "usage: mcpbox " + command in rc.stdout
        assert "--data-dir" in rc.stdout

    r = mcpbox("frobnicate")
    assert r.returncode == 2
    assert "unknown command" in r.stderr

    r = mcpbox("up", "--no-such-flag")
    assert r.returncode == 2
    assert "no-such-flag" in r.stderr

    r = mcpbox("up", "--executors", "33", "--data-dir", "/tmp/mb-never-created")
    assert r.returncode == 2
    assert "executors" in r.stderr
    assert not os.path.exists("/tmp/mb-never-created")


def test_migrate_twice(data_dir):
    first = mcpbox("migrate", "--data-dir", data_dir)
    assert first.returncode == 0, first.stderr
    m = re.fullmatch(r"applied (\d+) migration\(s\); schema version (\d+)\n",
                     first.stdout)
    assert m, first.stdout
    assert int(m.group(1)) >= 1
    version = int(m.group(2))
    assert version >= 1

    # Flags anywhere on the line.
    second = mcpbox("--data-dir", data_dir, "migrate")
    assert second.returncode == 0, second.stderr
    assert second.stdout == f"applied 0 migration(s); schema version {version}\n"
    assert os.path.exists(os.path.join(data_dir, "mcpbox.db"))


def test_keygen(data_dir):
    r = mcpbox("keygen", "--data-dir", data_dir)
    assert r.returncode == 0, r.stderr
    key = re.search(r"^public key: (\S{40})$", r.stdout, re.M)
    assert key, r.stdout
    keys_dir = os.path.join(data_dir, "keys")
    public = os.path.join(keys_dir, "executor")
    secret = public + "_secret"
    assert stat.S_IMODE(os.stat(keys_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert key.group(1) in open(public).read()
    assert "secret-key" in open(secret).read()
    assert "secret-key" not in open(public).read()
    assert not [f for f in os.listdir(keys_dir) if ".tmp" in f]

    # No overwrite without --force; nothing changed by the refusal.
    before = open(secret).read()
    again = mcpbox("keygen", "--data-dir", data_dir)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert open(secret).read() == before

    forced = mcpbox("keygen", "--data-dir", data_dir, "--force")
    assert forced.returncode == 0, forced.stderr
    assert open(secret).read() != before
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600

    out = os.path.join(data_dir, "elsewhere")
    named = mcpbox("keygen", "--out", out)
    assert named.returncode == 0, named.stderr
    assert stat.S_IMODE(os.stat(out + "_secret").st_mode) == 0o600

    bad = mcpbox("keygen", "--data-dir", data_dir, "--name", "../escape")
    assert bad.returncode == 2


def test_status_when_not_running(data_dir):
    r = mcpbox("status", "--data-dir", data_dir)
    assert r.returncode == 1
    assert f"MCPbox is not running for {os.path.realpath(data_dir)}" in r.stdout

    rc, doc = status_json(data_dir)
    assert rc == 1
    assert doc["running"] is False and doc["ok"] is False


# --- up -------------------------------------------------------------------------

def test_up_supervises_and_stops(data_dir, start_up):
    up = start_up(data_dir)
    doc = up.wait_all_ok(STARTUP_S)
    base = f"http://127.0.0.1:{up.port}"
    assert (f"MCPbox is up: dashboard {base}/, MCP endpoint {base}/mcp, "
            f"health {base}/health") in up.stdout()
    # every URL it prints answers (an MCP endpoint refuses a bare GET, but
    # it is there: not a 404)
    printed = re.findall(r"https?://[^\s,]+", up.stdout())
    assert printed
    for url in printed:
        try:
            status = urllib.request.urlopen(url, timeout=5).status
        except urllib.error.HTTPError as e:
            status = e.code
        assert status != 404 and status < 500, (url, status)
    assert f"data dir: {os.path.realpath(data_dir)}" in up.stdout()

    # Everything runs, each process once (executors: as asked).
    kids = up.children()
    assert len(kids.get("mcpbox-broker", [])) == 1, kids
    for name in ACTOR_SERVICES:
        assert len(kids.get(name, [])) == expected_count(name), kids
    for service in set(s for s in ACTOR_SERVICES.values() if s):
        assert doc["services"][service]["status"] == "ok", doc
    wait_until("the gateway to answer /health", lambda: http_ok(base + "/health"),
               RECOVERY_S, up=up)

    # One `up` per data directory.
    second = mcpbox("up", "--data-dir", data_dir, "--http-port", str(free_port()),
                    timeout=15)
    assert second.returncode != 0
    assert (f"mcpbox up is already running for {os.path.realpath(data_dir)} "
            f"(pid {up.pid})") in second.stderr, second.stderr
    up.assert_running()

    seen = set(p for pids in up.children().values() for p in pids)

    # Each actor, killed with SIGKILL, comes back and serves again.
    for name, service in ACTOR_SERVICES.items():
        before = up.children()
        victim = before[name][0]
        os.kill(victim, signal.SIGKILL)

        def replaced():
            now = up.children().get(name, [])
            fresh = [p for p in now if p not in seen]
            return fresh if victim not in now and len(now) == len(before[name]) else None
        fresh = wait_until(f"{name} to be restarted", replaced, RECOVERY_S, up=up)
        seen.update(fresh)

        if service is None:
            wait_until("the restarted gateway to answer /health",
                       lambda: http_ok(base + "/health"), RECOVERY_S, up=up)
            continue

        def serving_again():
            rc, doc = status_json(data_dir)
            if rc != 0 or not doc or not doc.get("ok"):
                return None
            pid = doc["services"][service].get("pid")
            if name == "mcpbox-executor":
                # Two executors share "sandbox": either may answer, but
                # never the dead one.
                return pid in up.children()[name] and pid != victim
            return pid == fresh[0]
        wait_until(f"{service} to be served by the new {name}", serving_again,
                   RECOVERY_S, up=up)
        if name == "mcpbox-executor":
            # The new executor itself answers too: ask until it does.
            wait_until("the new executor to answer health",
                       lambda: service_pid(data_dir, "sandbox") == fresh[0],
                       RECOVERY_S, interval=0.05, up=up)

    # The broker, killed with SIGKILL, comes back; the actors reconnect on
    # their own and are not restarted.
    before = up.children()
    broker = before["mcpbox-broker"][0]
    actors_before = {n: p for n, p in before.items() if n != "mcpbox-broker"}
    os.kill(broker, signal.SIGKILL)
    wait_until("the broker to be restarted",
               lambda: (up.children().get("mcpbox-broker") or [broker])[0] != broker,
               RECOVERY_S, up=up)
    doc = up.wait_all_ok(BROKER_RECOVERY_S)
    after = up.children()
    seen.update(after["mcpbox-broker"])
    assert {n: p for n, p in after.items() if n != "mcpbox-broker"} == actors_before
    assert wait_until("the gateway to answer /health after the broker restart",
                      lambda: http_ok(base + "/health"), RECOVERY_S, up=up)

    # SIGTERM: everything stops, exit status 0, nothing left behind.
    everything = seen | set(descendants(up.pid))
    up.proc.send_signal(signal.SIGTERM)
    try:
        rc = up.proc.wait(STOP_S)
    except subprocess.TimeoutExpired:
        pytest.fail("mcpbox up did not exit within 10 s of SIGTERM" + up.logs())
    assert rc == 0, up.logs()
    assert alive_mcpbox(everything) == [], up.logs()
    assert not os.path.exists(os.path.join(data_dir, "run", "up.lock"))
    assert not os.path.exists(os.path.join(data_dir, "run", "bus"))
    r = mcpbox("status", "--data-dir", data_dir)
    assert r.returncode == 1 and "not running" in r.stdout
    restarts = re.findall(r"\(pid \d+\) killed by signal SIGKILL; restarting in \d+ ms",
                          up.stderr())
    assert len(restarts) == len(ACTOR_SERVICES) + 1, up.stderr()


def processes_using(data_dir):
    """Pids of live processes whose command line names data_dir."""
    found = []
    needle = os.path.realpath(data_dir).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in cmdline and process_name(int(entry)):
            found.append(int(entry))
    return found


def test_up_prints_urls_only_once_the_gateway_listens(data_dir, start_up):
    up = start_up(data_dir)
    wait_until("the URL line", lambda: "MCPbox is up" in up.stdout(), STARTUP_S, up=up)
    # Printed only after the gateway wrote its pid: it answers right away.
    with socket.create_connection(("127.0.0.1", up.port), timeout=2):
        pass
    with open(os.path.join(data_dir, "run", "gateway.ready")) as f:
        assert int(f.read()) == up.children()["mcpbox-gateway"][0]


def test_up_busy_port_stops_everything(data_dir):
    """The HTTP port taken: `up` exits non-zero within 10 s, says why,
    never prints the URLs, and leaves no process behind."""
    log_dir = tempfile.mkdtemp(prefix="mblog", dir="/tmp")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            out_path = os.path.join(log_dir, "stdout")
            err_path = os.path.join(log_dir, "stderr")
            started = time.monotonic()
            with open(out_path, "w") as out, open(err_path, "w") as err:
                proc = subprocess.Popen(
                    [MCPBOX, "up", "--data-dir", data_dir, "--http-port", str(port),
                     "--executors", "1"],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env())
            seen = set()
            while proc.poll() is None and time.monotonic() - started < 10:
                seen.update(descendants(proc.pid))
                time.sleep(0.05)
            elapsed = time.monotonic() - started
            if proc.poll() is None:
                kids = descendants(proc.pid)
                proc.kill()
                proc.wait()
                for p in alive_mcpbox(kids):
                    os.kill(p, signal.SIGKILL)
                pytest.fail("mcpbox up still ran 10 s after start with its port taken")
            output = open(out_path).read()
            errors = open(err_path).read()
        assert proc.returncode != 0, errors
        assert elapsed < 10, elapsed
        assert "MCPbox is up" not in output, output
        assert "mcpbox-gateway" in errors and str(port) in errors, errors
        assert "stopping everything" in errors, errors
        assert len(seen) >= 2, "the broker and actors were started"
        assert alive_mcpbox(seen) == [], errors
        assert processes_using(data_dir) == [], errors
        assert not os.path.exists(os.path.join(data_dir, "run", "up.lock"))
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


def test_up_killed_leaves_no_orphans(data_dir, start_up):
    up = start_up(data_dir)
    up.wait_all_ok(STARTUP_S)
    kids = descendants(up.pid)
    assert len(alive_mcpbox(kids)) >= len(ACTOR_SERVICES) + EXECUTORS

    up.proc.kill()
    up.proc.wait(STOP_S)
    wait_until("the children of a SIGKILLed up to exit",
               lambda: alive_mcpbox(kids) == [], 10)

    # The lock died with it: a new `up` on the same directory starts.
    again = start_up(data_dir)
    again.wait_all_ok(STARTUP_S)
    again.proc.send_signal(signal.SIGTERM)
    assert again.proc.wait(STOP_S) == 0, again.logs()


def test_up_tcp_endpoint_makes_broker_keys(data_dir, start_up):
    tcp_port = free_port()
    up = start_up(data_dir, None, "--tcp-endpoint", f"tcp://127.0.0.1:{tcp_port}")
    up.wait_all_ok(STARTUP_S)
    keys = os.path.join(data_dir, "keys")
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(keys, "allowed")).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(keys, "broker_secret")).st_mode) == 0o600
    assert f"remote executors: tcp://127.0.0.1:{tcp_port}" in up.stdout()
    with socket.create_connection(("127.0.0.1", tcp_port), timeout=2):
        pass    # the broker listens there (CURVE itself is the broker's test)

    # SIGINT (Ctrl-C) stops like SIGTERM.
    up.proc.send_signal(signal.SIGINT)
    assert up.proc.wait(STOP_S) == 0, up.logs()

    bad = mcpbox("up", "--data-dir", data_dir, "--tcp-endpoint", "udp://x:1")
    assert bad.returncode == 2
    assert "tcp-endpoint" in bad.stderr
