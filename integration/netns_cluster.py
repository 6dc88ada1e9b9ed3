"""A cluster of executor hosts built from network namespaces (root only).

The broker runs in a namespace of its own ("the main machine", tcp://
endpoint with CURVE); each executor host runs `mcpbox executor` in another
namespace, joined to it by a veth pair with its own addresses (10.77.N.2 on
the host, 10.77.N.1 on the main machine), allowed with `mcpbox executors
allow`. A slow HTTP server on 10.77.0.1 in the broker's namespace is what
the tools call; it writes one line per request with the caller's address, so
where the work went is read from outside the executors. The test process
reaches the broker over its ipc:// socket (a path on the shared filesystem).

Used by integration/test_cluster.py and bench/hosts_bench.py.
"""
import os
import shutil
import subprocess
import sys
import time

from busclient import BusClient
from conftest import Procs, bin_path, proc_env, wait_for

PREFIX = f"mbc{os.getpid() % 100000}"
SERVER = "10.77.0.1"            # the slow HTTP server, in the broker's namespace
PORT = 8080
BROKER_PORT = 5555


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, timeout=10)


def root_ok():
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("tc"):
        return False
    name = PREFIX + "probe"
    try:
        return _ip("netns", "add", name, check=False).returncode == 0
    finally:
        _ip("netns", "del", name, check=False)


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
    def __init__(self, root, hosts=(1, 2, 3), slots=2, heartbeat_ms=500, code=None):
        self.root = root
        self.hosts = tuple(hosts)
        self.slots = slots
        self.code = code or TOOL
        self.procs = Procs(root)
        self.executors = {}
        self.central = PREFIX + "c"
        self.client = None
        try:
            self._start(heartbeat_ms)
        except BaseException:
            self.close()
            raise

    def _start(self, heartbeat_ms):
        root = self.root
        self.env = proc_env(MCPBOX_HEARTBEAT_MS=str(heartbeat_ms))
        self.data = os.path.join(root, "main")
        mcpbox = bin_path("mcpbox")
        self._run([mcpbox, "keygen", "--data-dir", self.data, "--name", "broker"])
        os.makedirs(os.path.join(self.data, "keys", "allowed"), exist_ok=True)
        for host in self.hosts:
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
        for host in self.hosts:
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
             "--key-file", key, "--slots", str(self.slots), "--label", f"zone=ns{host}",
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
            "op": "run", "code": self.code, "timeout_ms": timeout_ms,
            "arguments": {"url": f"http://{SERVER}:{PORT}/?ms={ms}"},
            "allowed_hosts": [f"{SERVER}:{PORT}"]}, timeout_ms=timeout_ms + 5000)

    def start_credentials(self):
        """The real credentials actor on the main machine (its database
        migrated, a master key from the environment); once."""
        if getattr(self, "credentials", None):
            return
        self.credentials = True
        self._run([bin_path("mcpbox"), "migrate", "--data-dir", self.data])
        env = dict(self.env, MCPBOX_ENCRYPTION_KEY=os.urandom(32).hex())
        self.procs.start([bin_path("mcpbox-credentials"), "--data-dir", self.data],
                         name="credentials", env=env)
        wait_for(lambda: self._credentials_up(), timeout=30, what="credentials serving")

    def _credentials_up(self):
        try:
            return self.client.call("credentials", {"op": "health"}, timeout_ms=1000,
                                    wait_s=2).get("ok")
        except Exception:
            return False

    def serve_central(self, argv, name):
        """A process on the main machine (the broker's namespace: it listens
        on SERVER too); its output in ROOT/NAME.out."""
        with open(os.path.join(self.root, name + ".out"), "wb") as out:
            return self.procs.start(["ip", "netns", "exec", self.central, *argv], name=name,
                                    stdout=out)

    def in_host(self, host, *argv):
        """Run a command inside a host's namespace; its CompletedProcess."""
        return subprocess.run(["ip", "netns", "exec", self.ns(host), *argv],
                              capture_output=True, text=True, timeout=30, env=self.env)

    def joined(self, count, timeout=30):
        wait_for(lambda: self.registered() >= count, timeout=timeout,
                 what=f"{count} hosts joined")

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
        if self.client:
            self.client.close()
        self.procs.cleanup()
        for host in self.hosts:
            _ip("netns", "del", self.ns(host), check=False)
        _ip("netns", "del", self.central, check=False)
