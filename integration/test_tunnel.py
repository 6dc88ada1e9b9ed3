"""The tunnel actor on a real `mcpbox up` (one per module).

SSH provider against a real sshd (Debian's openssh-server) that this test
starts as root on a spare loopback port, with a throw-away host key and an
authorized_keys holding the actor's public key: connect -> connected, the
forwarded remote port reaches the gateway's real remote listener (a 401 with
its metadata pointer for a request without a token); the ssh child killed -> it
reconnects; stop -> the child is gone and the port closed; a wrong pinned host
key -> refused and reported as error, never connected.

cloudflared provider: Cloudflare cannot be reached from here, so the executable
is a stand-in, CLOUDFLARED_STANDIN below (written to tunnel_cloudflared_path),
which prints cloudflared's log lines. With it: the token is in the child's
environment and not in /proc/PID/cmdline, nor in any reply, log or file under
the data directory; status parsed from its lines; restart on exit; stop is TERM
then KILL after 5 s; a configuration change restarts the running client.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import msgpack
import pytest
import zmq

from busclient import BusClient
from conftest import bin_path, free_port, proc_env, wait_for

SSHD = "/usr/sbin/sshd"

CLOUDFLARED_STANDIN = r'''#!/usr/bin/python3
# A stand-in for cloudflared (tests only): prints cloudflared's log lines.
# Its behaviour comes from the file "mode" beside it: "ok" keeps running,
# "exit" exits 1 after registering, "stubborn" ignores SIGTERM.
import os, signal, sys, time
here = os.path.dirname(os.path.abspath(__file__))
mode = open(os.path.join(here, "mode")).read().strip()
token = os.environ.get("TUNNEL_TOKEN", "")
with open(os.path.join(here, "seen"), "a") as f:
    f.write(f"{os.getpid()} argv={sys.argv[1:]} token_len={len(token)}\n")
def say(text):
    print(time.strftime("%Y-%m-%dT%H:%M:%SZ"), text, flush=True)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
say("INF Starting tunnel tunnelID=00000000-0000-0000-0000-000000000000")
say("INF Retrying connection in up to 1s, a client that leaks its token: " + token)
time.sleep(0.2)
say("INF Registered tunnel connection connIndex=0 connection=x event=0 ip=198.41.200.13 location=ams01 protocol=quic")
if mode == "exit":
    time.sleep(0.3)
    say("ERR Serve tunnel error error=\"stand-in exits\"")
    sys.exit(1)
while True:
    time.sleep(1)
'''


def cli(data_dir, *args, stdin=None, timeout=30):
    return subprocess.run([bin_path("mcpbox"), "tunnel", *args, "--data-dir", data_dir],
                          input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=proc_env())


def status(data_dir):
    r = cli(data_dir, "status", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def wait_state(data_dir, state, timeout=10, pid_not=None):
    def check():
        s = status(data_dir)
        if s["state"] == state and (pid_not is None or s["pid"] not in (0, pid_not)):
            return s
        return None
    return wait_for(check, timeout=timeout, interval=0.1, what=f"tunnel {state}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def ssh_keypair(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
    with open(path + ".pub") as f:
        return " ".join(f.read().split()[:2])


def reaches_listener(port):
    """Through the forwarded port: the gateway's real remote listener answers
    (only /mcp there, and a 401 with the metadata pointer without a token)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Accept: application/json, text/event-stream\r\nContent-Length: 2\r\n"
                  b"Connection: close\r\n\r\n{}")
        data = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    return (head.startswith("http/1.1 401")
            and "www-authenticate: bearer resource_metadata=" in head)


class Up:
    def __init__(self, base):
        self.dir = os.path.join(base, "data")
        os.makedirs(self.dir, mode=0o700)
        self.standin_dir = os.path.join(base, "standin")
        os.makedirs(self.standin_dir)
        self.standin = os.path.join(self.standin_dir, "cloudflared-standin")
        with open(self.standin, "w") as f:
            f.write(CLOUDFLARED_STANDIN)
        os.chmod(self.standin, 0o755)
        self.set_mode("ok")
        # the tunnel forwards to the gateway's real remote listener
        self.listener_port = free_port()
        with open(os.path.join(self.dir, "mcpbox.conf"), "w") as f:
            f.write(f"remote_listen = 127.0.0.1:{self.listener_port}\n"
                    f"tunnel_target = 127.0.0.1:{self.listener_port}\n"
                    f"tunnel_cloudflared_path = {self.standin}\n"
                    "tunnel_backoff_min_ms = 200\n"
                    "tunnel_backoff_max_ms = 1000\n")
        self.log_path = os.path.join(base, "up.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([bin_path("mcpbox"), "up", "--data-dir", self.dir,
                                      "--http-port", str(free_port())],
                                     stdout=self.log, stderr=self.log, env=proc_env(),
                                     start_new_session=True)
        wait_for(lambda: self.check_alive() and subprocess.run(
            [bin_path("mcpbox"), "status", "--data-dir", self.dir], capture_output=True,
            env=proc_env()).returncode == 0, timeout=30, interval=0.2, what="mcpbox up")
        self.sub = zmq.Context.instance().socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"tunnel.status")
        self.sub.connect("ipc://" + os.path.join(self.dir, "run", "ev-out"))
        time.sleep(0.3)         # the subscription reaches the broker

    def check_alive(self):
        assert self.proc.poll() is None, self.text()
        return True

    def text(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def set_mode(self, mode):
        with open(os.path.join(self.standin_dir, "mode"), "w") as f:
            f.write(mode)

    def events(self):
        got = []
        while self.sub.poll(100):
            topic, body = self.sub.recv_multipart()
            got.append(msgpack.unpackb(body, raw=False))
        return got

    def stop(self):
        self.sub.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


class Sshd:
    def __init__(self, base, authorized):
        self.dir = os.path.join(base, "sshd")
        os.makedirs(self.dir)
        self.port = free_port()
        self.host_key_path = os.path.join(self.dir, "host_key")
        self.host_key = ssh_keypair(self.host_key_path)
        self.authorized = os.path.join(self.dir, "authorized_keys")
        with open(self.authorized, "w") as f:
            f.write(authorized + "\n")
        config = os.path.join(self.dir, "sshd_config")
        with open(config, "w") as f:
            f.write(f"ListenAddress 127.0.0.1\nPort {self.port}\nHostKey {self.host_key_path}\n"
                    f"AuthorizedKeysFile {self.authorized}\nPidFile none\nStrictModes no\n"
                    "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                    "PermitRootLogin prohibit-password\nAllowTcpForwarding remote\n"
                    "GatewayPorts no\nX11Forwarding no\nAllowAgentForwarding no\n"
                    "LogLevel VERBOSE\n")
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # privilege separation
        self.log_path = os.path.join(self.dir, "sshd.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", config],
                                     stdout=self.log, stderr=self.log)
        wait_for(lambda: port_open(self.port), timeout=10, what="sshd listening")

    def text(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def up():
    base = tempfile.mkdtemp(prefix="mbt", dir="/tmp")
    u = Up(base)
    yield u
    u.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def sshd(up):
    if os.geteuid() != 0 or not os.path.exists(SSHD):
        pytest.skip("needs root and openssh-server (scripts/deps.sh --test)")
    # the actor makes its key at the first ssh configuration
    r = cli(up.dir, "configure", "--provider", "ssh", "--ssh-host", "127.0.0.1",
            "--ssh-user", "root", "--ssh-host-key", "ssh-ed25519 " + "A" * 68, "--json")
    assert r.returncode == 0, r.stderr
    public = json.loads(r.stdout)["ssh"]["public_key"]
    assert public.startswith("ssh-ed25519 ") and public.endswith(" mcpbox-tunnel")
    s = Sshd(up.dir + "-sshd", public)
    yield s
    s.stop()


def test_unconfigured_is_disconnected_and_status_ok(up):
    s = status(up.dir)
    assert (s["provider"], s["state"], s["enabled"], s["pid"]) == ("none", "disconnected",
                                                                   False, 0)
    assert s["target"] == f"127.0.0.1:{up.listener_port}"
    assert "token" not in s
    assert subprocess.run([bin_path("mcpbox"), "status", "--data-dir", up.dir],
                          capture_output=True, env=proc_env()).returncode == 0
    r = cli(up.dir, "start")
    assert r.returncode == 1 and "no tunnel provider" in r.stderr


@pytest.mark.parametrize("args, field", [
    (["--provider", "telnet"], "provider"),
    (["--ssh-host", "-oProxyCommand=touch /tmp/pwned"], "ssh_host"),
    (["--ssh-user", "root;id"], "ssh_user"),
    (["--ssh-host-key", "ssh-dss AAAAB3NzaC1kc3MAAACBAP"], "ssh_host_key"),
    (["--ssh-remote-host", "0.0.0.0 -R 1:x:1"], "ssh_remote_host"),
])
def test_configure_refuses_bad_fields(up, args, field):
    before = status(up.dir)
    r = cli(up.dir, "configure", *args)
    assert r.returncode == 1, r.stdout
    assert field in r.stderr and "bad_request" in r.stderr
    after = status(up.dir)
    assert after["ssh"] == before["ssh"] and after["provider"] == before["provider"]


def test_configure_refuses_bad_fields_on_the_bus(up):
    """What the CLI cannot send: a second known_hosts line, wrong types, unknown fields."""
    bus = BusClient("ipc://" + os.path.join(up.dir, "run", "bus"), default_timeout_ms=5000)
    try:
        for body, field in [
            ({"ssh_host_key": "ssh-ed25519 " + "A" * 40 + " x\n* ssh-ed25519 " + "B" * 40},
             "ssh_host_key"),
            ({"ssh_port": "22"}, "ssh_port"),
            ({"ssh_remote_port": 70000}, "ssh_remote_port"),
            ({"token": "short"}, "token"),
            ({"token": "a" * 40 + " b"}, "token"),
            ({"cloudflared_path": "/bin/sh"}, "cloudflared_path"),
        ]:
            reply = bus.call("tunnel", {"op": "configure", **body})
            assert reply["ok"] is False and reply["error"]["code"] == "bad_request", reply
            assert field in reply["error"]["message"]
    finally:
        bus.close()


def test_ssh_connects_forwards_reconnects_and_stops(up, sshd):
    r = cli(up.dir, "configure", "--provider", "ssh", "--ssh-host", "127.0.0.1",
            "--ssh-port", str(sshd.port), "--ssh-user", "root",
            "--ssh-host-key", sshd.host_key + " comment-dropped",
            "--ssh-remote-host", "127.0.0.1", "--ssh-remote-port", str(free_port()))
    assert r.returncode == 0, r.stderr
    remote = status(up.dir)["ssh"]["remote_port"]
    up.events()
    assert cli(up.dir, "start").returncode == 0
    s = wait_state(up.dir, "connected")
    pid = s["pid"]
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = f.read().split(b"\0")
    assert b"StrictHostKeyChecking=yes" in argv and b"ExitOnForwardFailure=yes" in argv
    assert b"BatchMode=yes" in argv and any(a.startswith(b"ServerAliveInterval=") for a in argv)
    with open(os.path.join(up.dir, "tunnel", "known_hosts")) as f:
        assert f.read() == f"mcpbox-tunnel {sshd.host_key}\n"
    assert os.stat(os.path.join(up.dir, "tunnel", "id_ed25519")).st_mode & 0o777 == 0o600
    assert reaches_listener(remote)
    states = [e["state"] for e in up.events()]
    assert states[-2:] == ["connecting", "connected"], states

    os.kill(pid, signal.SIGKILL)
    s = wait_state(up.dir, "connected", pid_not=pid)
    assert s["restarts"] >= 1 and s["pid"] != pid
    assert reaches_listener(remote)
    assert "error" in [e["state"] for e in up.events()]

    new_pid = s["pid"]
    r = cli(up.dir, "stop", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["state"] == "disconnected"
    assert not alive(new_pid)
    wait_for(lambda: not port_open(remote), timeout=5, what="remote port closed")
    assert status(up.dir)["enabled"] is False


def test_ssh_wrong_host_key_is_refused(up, sshd):
    other = ssh_keypair(os.path.join(sshd.dir, "impostor"))
    remote = free_port()
    accepted_before = sshd.text().count("Accepted publickey")
    r = cli(up.dir, "configure", "--provider", "ssh", "--ssh-host", "127.0.0.1",
            "--ssh-port", str(sshd.port), "--ssh-user", "root", "--ssh-host-key", other,
            "--ssh-remote-port", str(remote))
    assert r.returncode == 0, r.stderr
    up.events()
    assert cli(up.dir, "start").returncode == 0
    s = wait_state(up.dir, "error")
    assert "host key" in s["message"], s
    time.sleep(0.5)                 # a retry or two under the 200 ms backoff
    states = [e["state"] for e in up.events()]
    assert "connected" not in states and "error" in states, states
    assert status(up.dir)["state"] != "connected"
    assert not port_open(remote)
    assert sshd.text().count("Accepted publickey") == accepted_before
    assert cli(up.dir, "stop").returncode == 0


def test_cloudflared_standin_supervision(up):
    token = "eyJ" + secrets.token_urlsafe(120)
    r = cli(up.dir, "configure", "--provider", "cloudflared", "--token-stdin", "--json",
            stdin=token + "\n")
    assert r.returncode == 0, r.stderr
    assert token not in r.stdout and json.loads(r.stdout)["has_token"] is True
    up.set_mode("ok")
    assert cli(up.dir, "start").returncode == 0
    s = wait_state(up.dir, "connected")
    pid = s["pid"]
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        cmdline = f.read()
    assert token.encode() not in cmdline
    # the stand-in is a script: python3, its path, then the arguments
    assert cmdline.split(b"\0")[-4:-1] == [b"tunnel", b"--no-autoupdate", b"run"]
    with open(f"/proc/{pid}/environ", "rb") as f:
        assert b"TUNNEL_TOKEN=" + token.encode() in f.read().split(b"\0")
    assert s["connections"] == 1 and token not in json.dumps(s)

    # a configuration change restarts the running client with the new token
    restarts = s["restarts"]
    old_token, token = token, "eyJ" + secrets.token_urlsafe(120)
    r = cli(up.dir, "configure", "--token-stdin", stdin=token)
    assert r.returncode == 0, r.stderr
    s = wait_state(up.dir, "connected", pid_not=pid)
    assert not alive(pid)
    pid = s["pid"]
    with open(f"/proc/{pid}/environ", "rb") as f:
        assert b"TUNNEL_TOKEN=" + token.encode() in f.read().split(b"\0")
    assert s["restarts"] == restarts    # a deliberate restart, not a failure

    # restart on exit: the next run registers, then exits 1
    up.set_mode("exit")
    os.kill(pid, signal.SIGTERM)
    wait_state(up.dir, "error")
    up.set_mode("ok")
    s = wait_state(up.dir, "connected", timeout=10, pid_not=pid)
    assert s["restarts"] >= 1

    # TERM, then KILL after 5 s
    up.set_mode("stubborn")
    os.kill(s["pid"], signal.SIGKILL)
    s = wait_state(up.dir, "connected", pid_not=s["pid"])
    stubborn = s["pid"]
    started = time.monotonic()
    r = cli(up.dir, "stop", "--json")
    took = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    assert not alive(stubborn)
    assert 4.5 <= took <= 9, took
    assert "KILL" in up.text()

    # the token: in no log line, reply or file under the data directory
    log = up.text()
    assert token not in log and old_token not in log and "[REDACTED]" in log
    for root, _, names in os.walk(up.dir):
        for name in names:
            path = os.path.join(root, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    data = f.read()
                    assert token.encode() not in data and old_token.encode() not in data, path
