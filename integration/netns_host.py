"""A test host with an address of its own: a network namespace joined to
this one by a veth pair, so a server in it is reached over a real
(private, RFC 1918) address — never over loopback, which the SSRF rules
keep unreachable by design. Needs root (CI runs as root); tests skip
otherwise.

    with NetnsHost("src") as host:          # host.address: "10.213.x.2"
        proc = host.popen(["node", "server.js"], env=...)

The address is 10.213.<a>.<b>/30 from the test's pid and a counter, and
the interface names are short and unique per process, so several test
runs on one machine do not collide."""
import itertools
import os
import shutil
import socket
import subprocess
import threading

_counter = itertools.count()


def netns_available():
    if os.geteuid() != 0 or not shutil.which("ip"):
        return False
    probe = f"mbprobe{os.getpid()}"
    ok = subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ok


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


class NetnsHost:
    def __init__(self, tag="h"):
        n = next(_counter)
        pid = os.getpid()
        self.ns = f"mb{tag}{pid}_{n}"
        self.host_if = f"mbh{pid % 100000}{n}"[:15]
        self.peer_if = f"mbp{pid % 100000}{n}"[:15]
        slot = (pid * 7 + n) % (250 * 64)
        a, b = divmod(slot, 64)
        self.gateway = f"10.213.{a}.{b * 4 + 1}"
        self.address = f"10.213.{a}.{b * 4 + 2}"
        self.procs = []

    def __enter__(self):
        _ip("netns", "add", self.ns)
        try:
            _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.peer_if)
            _ip("link", "set", self.peer_if, "netns", self.ns)
            _ip("addr", "add", f"{self.gateway}/30", "dev", self.host_if)
            _ip("link", "set", self.host_if, "up")
            _ip("-n", self.ns, "addr", "add", f"{self.address}/30", "dev", self.peer_if)
            _ip("-n", self.ns, "link", "set", self.peer_if, "up")
            _ip("-n", self.ns, "link", "set", "lo", "up")
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def popen(self, argv, **kwargs):
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *argv],
                                start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def __exit__(self, *exc):
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, 9)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        _ip("link", "del", self.host_if, check=False)
        _ip("netns", "del", self.ns, check=False)


class LoopbackTrap:
    """A listener on 127.0.0.1 that counts every connection: what the SSRF
    rules refuse (a redirect to loopback) must never reach it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()

    def close(self):
        self.sock.close()
