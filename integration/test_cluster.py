"""A small cluster of executor hosts, built from network namespaces.

The broker runs in a namespace of its own ("the main machine", with its
tcp:// endpoint and CURVE); three executor hosts run `mcpbox executor` in
three other namespaces, each joined to it by a veth pair with its own
addresses, over TCP + CURVE, allowed with `mcpbox executors allow`. A slow
HTTP server in the broker's namespace is what the tools call, and it tells
which host made each request (its source address), so where the work went
is read from the outside, not from the executors' own accounts.

Shown here:
  - calls spread across the hosts, which announce their slots and labels;
  - a host torn down mid-load (its link deleted, its processes killed, its
    namespace removed): its in-flight calls are answered `worker_lost`
    within the heartbeat window, never run again elsewhere; the other
    calls go on;
  - the host comes back and receives work again;
  - an executor with a key the main machine did not allow is refused;
  - a revoked host is dropped while connected;
  - a host whose link is slowed (tc tbf: this kernel has no netem) gets
    less work than the others.

The test process talks to the broker over its ipc:// socket (a path on the
shared filesystem), as the gateway would; the gateway itself is not needed
to show where the broker sends work. Needs root and iproute2; skipped
otherwise.
"""
import http.server  # noqa: F401  (the server script below uses it)
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from busclient import BusClient
from conftest import Procs, bin_path, proc_env, wait_for

PREFIX = f"mbc{os.getpid() % 100000}"
HOSTS = (1, 2, 3)
SERVER = "10.77.0.1"            # the slow HTTP server, in the broker's namespace
PORT = 8080
BROKER_PORT = 5555
HEARTBEAT_MS = 500              # liveness: 3 beats (1.5 s)


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, timeout=10)


def _root_ok():
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("tc"):
        return False
    name = PREFIX + "probe"
    try:
        return _ip("netns", "add", name, check=False).returncode == 0
    finally:
        _ip("netns", "del", name, check=False)


pytestmark = pytest.mark.skipif(not _root_ok(), reason="needs root, ip netns and tc")

SERVER_SCRIPT = r'''
import http.server, sys, threading, time, urllib.parse
lock = threading.Lock()
def say(line):
    with lock:                      # one whole line at a time
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        say("start " + self.client_address[0])
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        time.sleep(int(query.get("ms", ["0"])[0]) / 1000)
        body = b'{"ok": true}'
        say(self.client_address[0])     # before the answer leaves
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H)
srv.daemon_threads = True
say("ready")
srv.serve_forever()
'''

TOOL = '''
async def main(url: str):
    response = await http.get(url)
    return response.status_code
'''


class Cluster:
    def __init__(self, root):
        self.root = root
        self.procs = Procs(root)
        self.env = proc_env(MCPBOX_HEARTBEAT_MS=str(HEARTBEAT_MS))
        self.data = os.path.join(root, "main")
        self.central = PREFIX + "c"
        self.executors = {}
        mcpbox = bin_path("mcpbox")
        self._run([mcpbox, "keygen", "--data-dir", self.data, "--name", "broker"])
        os.makedirs(os.path.join(self.data, "keys", "allowed"), exist_ok=True)
        for host in HOSTS:
            self._run([mcpbox, "keygen", "--out", self.key(host, public=True)])
            self._run([mcpbox, "executors", "--data-dir", self.data, "allow",
                       self.key(host, public=True), "--name", f"host{host}"])
        self._run([mcpbox, "keygen", "--out", os.path.join(root, "rogue")])

        _ip("netns", "add", self.central)
        self._in(self.central, "ip", "link", "set", "lo", "up")
        self._in(self.central, "ip", "addr", "add", f"{SERVER}/32", "dev", "lo")
        self.broker = self.procs.start(
            ["ip", "netns", "exec", self.central, bin_path("mcpbox-broker"),
             "--data-dir", self.data, "--log-level", "debug",
             "--tcp-endpoint", f"tcp://0.0.0.0:{BROKER_PORT}"], name="broker", env=self.env)
        self.server_log = os.path.join(root, "server.out")
        with open(self.server_log, "wb") as out:
            self.server = self.procs.start(
                ["ip", "netns", "exec", self.central, sys.executable, "-c", SERVER_SCRIPT,
                 SERVER, str(PORT)], name="server", stdout=out)
        sock = os.path.join(self.data, "run", "bus")
        wait_for(lambda: os.path.exists(sock), what="broker socket")
        wait_for(lambda: "ready" in self.served_text(), what="HTTP server")
        self.client = BusClient("ipc://" + sock)
        for host in HOSTS:
            self.add_host(host)

    def _run(self, argv):
        subprocess.run(argv, check=True, capture_output=True, timeout=30, env=self.env)

    def _in(self, ns, *argv):
        subprocess.run(["ip", "netns", "exec", ns, *argv], check=True,
                       capture_output=True, timeout=10)

    def key(self, host, public=False):
        path = os.path.join(self.root, f"host{host}")
        return path if public else path + "_secret"

    def ns(self, host):
        return f"{PREFIX}h{host}"

    def link(self, host):
        return f"{PREFIX}v{host}"

    def add_host(self, host, key=None):
        """The host's namespace, its link to the main machine, its executor."""
        ns, link = self.ns(host), self.link(host)
        _ip("netns", "add", ns)
        _ip("link", "add", link, "netns", self.central, "type", "veth",
            "peer", "name", "eth0", "netns", ns)
        self._in(self.central, "ip", "addr", "add", f"10.77.{host}.1/24", "dev", link)
        self._in(self.central, "ip", "link", "set", link, "up")
        self._in(ns, "ip", "link", "set", "lo", "up")
        self._in(ns, "ip", "addr", "add", f"10.77.{host}.2/24", "dev", "eth0")
        self._in(ns, "ip", "link", "set", "eth0", "up")
        self._in(ns, "ip", "route", "add", f"{SERVER}/32", "via", f"10.77.{host}.1")
        self.executors[host] = self.start_executor(host, key or self.key(host))

    def start_executor(self, host, key):
        return self.procs.start(
            ["ip", "netns", "exec", self.ns(host), bin_path("mcpbox"), "executor",
             "--broker", f"tcp://10.77.{host}.1:{BROKER_PORT}",
             "--broker-key", os.path.join(self.data, "keys", "broker"),
             "--key-file", key, "--slots", "2", "--label", f"zone=ns{host}",
             "--label", "remote", "--log-level", "debug"],
            name=f"executor{host}", env=self.env)

    def remove_host(self, host):
        """The host vanishes: no link (so no FIN or RST reaches the broker),
        its processes killed, its namespace gone."""
        self._in(self.central, "ip", "link", "del", self.link(host))
        proc = self.executors.pop(host)
        os.killpg(proc.pid, 9)
        proc.wait(timeout=10)
        _ip("netns", "del", self.ns(host))

    def registered(self):
        """How many times a remote worker was registered (the broker's log)."""
        with open(self.broker.log_file.name, "rb") as f:
            return f.read().count(b"ready for 'sandbox'")

    def served_text(self):
        with open(self.server_log, "rb") as f:
            return f.read().decode()

    def arrived(self, host=None):
        """Requests the HTTP server has begun to answer (from one host)."""
        if host is None:
            return self.served_text().count("start ")
        return self.served_text().count(f"start 10.77.{host}.2\n")

    def served(self):
        """Requests the HTTP server answered, by host number."""
        counts = {}
        for line in self.served_text().splitlines():
            if line.startswith("10.77."):
                host = int(line.split(".")[2])
                counts[host] = counts.get(host, 0) + 1
        return counts

    def send_call(self, ms, timeout_ms=20000):
        return self.client.send("sandbox", {
            "op": "run", "code": TOOL, "timeout_ms": timeout_ms,
            "arguments": {"url": f"http://{SERVER}:{PORT}/?ms={ms}"},
            "allowed_hosts": [f"{SERVER}:{PORT}"]}, timeout_ms=timeout_ms + 5000)

    def calls(self, count, in_flight, ms):
        """count calls, in_flight at once: a new one as soon as any is
        answered (a slow host must not hold the others back)."""
        replies, pending, sent = [], set(), 0
        deadline = time.monotonic() + 60
        while sent < count or pending:
            while sent < count and len(pending) < in_flight:
                pending.add(self.send_call(ms))
                sent += 1
            self.client.collect(0.02)
            for request_id in [i for i in pending if i in self.client.early]:
                pending.discard(request_id)
                replies.append(self.client.early.pop(request_id))
            assert time.monotonic() < deadline, "calls not answered in 60 s"
        return replies

    def close(self):
        try:
            self.client.close()
        except Exception:
            pass
        self.procs.cleanup()
        for host in HOSTS:
            _ip("netns", "del", self.ns(host), check=False)
        _ip("netns", "del", self.central, check=False)


@pytest.fixture(scope="module")
def cluster():
    root = tempfile.mkdtemp(prefix="mb", dir="/tmp")
    c = Cluster(root)
    try:
        wait_for(lambda: c.registered() >= len(HOSTS), timeout=20, what="three hosts joined")
        yield c
    finally:
        c.close()
        shutil.rmtree(root, ignore_errors=True)


def _ok(reply):
    return reply.get("ok") and reply.get("success") and reply.get("result_json") == "200"


def test_calls_spread_across_hosts(cluster):
    before = cluster.served()
    replies = cluster.calls(18, in_flight=6, ms=150)
    assert all(_ok(r) for r in replies), replies
    after = cluster.served()
    spread = {h: after.get(h, 0) - before.get(h, 0) for h in HOSTS}
    assert sum(spread.values()) == 18
    assert all(n >= 3 for n in spread.values()), spread


def test_hosts_announce_slots_and_labels(cluster):
    reply = cluster.client.call("broker", {"op": "workers", "service": "sandbox"})
    remote = [w for w in reply["workers"] if w["origin"] == "tcp"]
    assert sorted(w["about"]["labels"]["zone"] for w in remote) == ["ns1", "ns2", "ns3"]
    for worker in remote:
        assert worker["about"]["labels"]["remote"] == ""
        assert worker["about"]["slots"] == 2 and worker["credit"] == 2
        zone = int(worker["about"]["labels"]["zone"][2:])
        assert worker["address"] == f"10.77.{zone}.2", worker


def test_unknown_key_is_refused(cluster):
    registered = cluster.registered()
    rogue = cluster.start_executor(1, os.path.join(cluster.root, "rogue_secret"))
    try:
        time.sleep(4 * HEARTBEAT_MS / 1000)     # its handshakes had time to fail
        assert cluster.registered() == registered
        replies = cluster.calls(6, in_flight=6, ms=50)
        assert all(_ok(r) for r in replies), replies
        with open(rogue.log_file.name, "rb") as f:
            assert b"call answered" not in f.read()
    finally:
        os.killpg(rogue.pid, 9)
        rogue.wait(timeout=10)


def test_lost_host_in_flight_calls_error_the_rest_go_on(cluster):
    before = cluster.served()
    arrived = cluster.arrived()
    arrived_by = {host: cluster.arrived(host) for host in HOSTS}
    ids = [cluster.send_call(2500) for _ in range(6)]   # 2 slots x 3 hosts
    # all six reached the server: each host holds two
    wait_for(lambda: cluster.arrived() - arrived >= 6, timeout=15, what="six calls in flight")
    started = time.monotonic()
    cluster.remove_host(2)
    replies = {i: cluster.client.receive(i, wait_s=20) for i in ids}
    elapsed = time.monotonic() - started
    lost = [r for r in replies.values() if not r.get("ok")]
    done = [r for r in replies.values() if _ok(r)]
    assert len(lost) == 2 and len(done) == 4, replies
    assert all(r["error"]["code"] == "worker_lost" for r in lost), lost
    assert elapsed < 10, elapsed
    # nothing was run twice: the lost calls were not sent to another host
    time.sleep(0.5)
    for host in (1, 3):
        assert cluster.arrived(host) - arrived_by[host] == 2, cluster.served_text()
        assert cluster.served().get(host, 0) - before.get(host, 0) == 2, before
    # the others go on
    replies = cluster.calls(8, in_flight=4, ms=50)
    assert all(_ok(r) for r in replies), replies


def test_host_comes_back_and_gets_work(cluster):
    registered = cluster.registered()
    cluster.add_host(2)
    wait_for(lambda: cluster.registered() > registered, timeout=20, what="host 2 rejoined")
    before = cluster.served()
    replies = cluster.calls(12, in_flight=6, ms=150)
    assert all(_ok(r) for r in replies), replies
    assert cluster.served().get(2, 0) > before.get(2, 0)


def test_slow_link_gets_less_work(cluster):
    link = cluster.link(3)
    shape = ["tbf", "rate", "16kbit", "burst", "1600", "latency", "5s"]
    subprocess.run(["ip", "netns", "exec", cluster.central, "tc", "qdisc", "add", "dev", link,
                    "root", *shape], check=True, timeout=10)
    subprocess.run(["ip", "netns", "exec", cluster.ns(3), "tc", "qdisc", "add", "dev", "eth0",
                    "root", *shape], check=True, timeout=10)
    try:
        before = cluster.served()
        replies = cluster.calls(30, in_flight=4, ms=100)
        assert all(_ok(r) for r in replies), replies
        after = cluster.served()
        share = {h: after.get(h, 0) - before.get(h, 0) for h in HOSTS}
        assert share[3] < 0.75 * min(share[1], share[2]), share
    finally:
        subprocess.run(["ip", "netns", "exec", cluster.central, "tc", "qdisc", "del", "dev",
                        link, "root"], timeout=10)


def test_revoked_host_is_dropped_while_connected(cluster):
    subprocess.run([bin_path("mcpbox"), "executors", "--data-dir", cluster.data, "revoke",
                    "host1"], check=True, capture_output=True, timeout=10, env=cluster.env)
    time.sleep(3 * HEARTBEAT_MS / 1000 + 0.5)
    with open(cluster.broker.log_file.name, "rb") as f:
        assert b"no longer allowed" in f.read()
    before = cluster.served()
    replies = cluster.calls(8, in_flight=4, ms=50)
    assert all(_ok(r) for r in replies), replies
    assert cluster.served().get(1, 0) == before.get(1, 0)
