"""Helpers for the sandbox suites (test_sandbox_*.py).

Everything here judges the sandbox by OUTCOME: a `Trap` sets up things a tool
must not be able to touch (a marker path in a world-writable directory, a
host file readable by everyone, a listening TCP socket, a canary in the
executor's environment) and checks afterwards that none of them was reached.

Tools run through `mcpbox sandbox run|validate` (the product's CLI, which
runs `mcpbox-executor --oneshot`), through `mcpbox-executor --oneshot`
directly (for requests the CLI cannot make, like test_inject_os), or through
a real broker + one long-lived executor (`BusExecutor`).
"""
import json
import os
import secrets as pysecrets
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from busclient import BusClient
from conftest import Procs, bin_path, proc_env, wait_for

CANARY_ENV = "MCPBOX_SBX_CANARY"
NOBODY = 65534


class Result:
    """One finished sandbox command: exit code, parsed JSON (or None), raw text."""

    def __init__(self, rc, text, stderr, elapsed):
        self.rc = rc
        self.text = text
        self.stderr = stderr
        self.elapsed = elapsed
        try:
            self.data = json.loads(text) if text.strip() else None
        except ValueError:
            self.data = None

    @property
    def error_type(self):
        error = (self.data or {}).get("error") or {}
        return error.get("type")

    @property
    def success(self):
        return bool((self.data or {}).get("success"))

    @property
    def result(self):
        """The tool's value: `result` (CLI) or decoded `result_json` (executor)."""
        data = self.data or {}
        if "result" in data:
            return data["result"]
        if data.get("result_json") is not None:
            return json.loads(data["result_json"])
        return None

    def everything(self):
        """All output as one string, for "never appears anywhere" checks."""
        return self.text + "\n" + self.stderr

    def __repr__(self):
        return f"Result(rc={self.rc}, elapsed={self.elapsed:.2f}, text={self.text[:1500]!r}, " \
               f"stderr={self.stderr[:300]!r})"


def _env(extra_env=None):
    env = proc_env(**{CANARY_ENV: "envcanary-" + pysecrets.token_hex(8)})
    env.update(extra_env or {})
    return env


def sandbox_cli(mode, code, workdir, args=None, secrets=None, timeout=None, modules=(),
                hosts=(), policy=None, env=None, wait=60, name="tool.py"):
    """`mcpbox sandbox run|validate FILE.py ...`; the file is written to workdir."""
    path = os.path.join(workdir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(code)
    argv = [bin_path("mcpbox"), "sandbox", mode, path]
    if args is not None:
        argv += ["--args", json.dumps(args)]
    for key, value in (secrets or {}).items():
        argv += ["--secret", f"{key}={value}"]
    if timeout is not None:
        argv += ["--timeout", str(timeout)]
    for module in modules:
        argv += ["--module", module]
    for host in hosts:
        argv += ["--allow-host", host]
    if policy:
        argv += ["--policy", policy]
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=wait, env=_env(env),
                          start_new_session=True)
    return Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def sandbox_run(code, workdir, **kw):
    return sandbox_cli("run", code, workdir, **kw)


def sandbox_validate(code, workdir, **kw):
    return sandbox_cli("validate", code, workdir, **kw)


def oneshot(request, env=None, wait=60):
    """`mcpbox-executor --oneshot` with `request` (a dict) as JSON on stdin.
    Its own session, so a tool signalling its process group reaches no test."""
    started = time.monotonic()
    proc = subprocess.run([bin_path("mcpbox-executor"), "--oneshot", "--log-level", "warn"],
                          input=json.dumps(request), capture_output=True, text=True,
                          timeout=wait, env=_env(env), start_new_session=True)
    return Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def run_injected(code, timeout_ms=5000, **fields):
    """Run with the REAL os and sys modules handed to the tool (test builds
    only): the Python layer is bypassed on purpose, the process layer
    (rlimits, uid, seccomp) must hold alone."""
    request = {"op": "run", "code": code, "timeout_ms": timeout_ms, "test_inject_os": True}
    request.update(fields)
    return oneshot(request)


class Trap:
    """What a tool must never reach, and the check that it did not."""

    def __init__(self, root):
        os.chmod(root, 0o777)
        self.root = root
        self.dir = os.path.join(root, "trap")
        os.mkdir(self.dir)
        os.chmod(self.dir, 0o777)              # a uid-65534 child COULD write here
        self.marker = os.path.join(self.dir, "MARKER")
        self.secret = "hostsecret-" + pysecrets.token_hex(12)
        self.hostfile = os.path.join(root, "hostfile")
        with open(self.hostfile, "w") as f:
            f.write(self.secret + "\n")
        os.chmod(self.hostfile, 0o644)         # readable by all
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]

    def fill(self, code):
        return (code.replace("@MARKER@", self.marker).replace("@HOSTFILE@", self.hostfile)
                .replace("@PORT@", str(self.port)).replace("@TRAPDIR@", self.dir))

    def connections(self):
        """Connections that reached the listener (accepted now, so none is missed:
        a completed TCP handshake waits in the backlog)."""
        count = 0
        while True:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return count
            conn.close()
            count += 1

    def assert_untouched(self, result, escaped_word="ESCAPED"):
        text = result.everything()
        assert not os.path.exists(self.marker), f"marker was created: {result!r}"
        assert os.listdir(self.dir) == [], f"something was written in the trap dir: {result!r}"
        assert self.secret not in text, f"host file content leaked: {result!r}"
        with open(self.hostfile) as f:
            assert f.read() == self.secret + "\n", "host file was modified"
        assert self.connections() == 0, f"the test's socket received a connection: {result!r}"
        assert "envcanary-" not in text, f"the executor's environment leaked: {result!r}"
        if escaped_word:
            assert escaped_word not in text, f"the tool reports an escape: {result!r}"

    def close(self):
        self.listener.close()


@pytest.fixture
def trap(tmpdir_short):
    t = Trap(tmpdir_short)
    yield t
    t.close()


# --- a real broker and one long-lived executor --------------------------------

class BusExecutor:
    """mcpbox-broker + one mcpbox-executor on an ipc:// socket, and a client."""

    def __init__(self, data_dir, logdir, extra_env=None):
        self.procs = Procs(logdir)
        self.data_dir = data_dir
        env = _env({"MCPBOX_HEARTBEAT_MS": "250", **(extra_env or {})})
        self.broker = self.procs.start([bin_path("mcpbox-broker"), "--data-dir", data_dir],
                                       name="broker", env=env)
        sock = os.path.join(data_dir, "run", "bus")
        wait_for(lambda: os.path.exists(sock), what="broker socket")
        self.endpoint = "ipc://" + sock
        self.executor = self.procs.start([bin_path("mcpbox-executor"), "--data-dir", data_dir],
                                         name="executor", env=env)
        self.client = BusClient(self.endpoint)
        wait_for(self._healthy, timeout=15, what="executor serving 'sandbox'")

    def _healthy(self):
        try:
            reply = self.client.call("sandbox", {"op": "health"}, timeout_ms=1000, wait_s=2)
        except Exception:
            return False
        return reply.get("ok") and reply.get("pid") == self.executor.pid

    def health_pid(self):
        reply = self.client.call("sandbox", {"op": "health"}, timeout_ms=2000)
        assert reply.get("ok"), reply
        return reply["pid"]

    def run(self, code, timeout_ms=5000, wait_s=None, **fields):
        """One `run` request; returns (reply dict, elapsed seconds)."""
        body = {"op": "run", "code": code, "timeout_ms": timeout_ms}
        body.update(fields)
        started = time.monotonic()
        reply = self.client.call("sandbox", body, timeout_ms=timeout_ms + 5000, wait_s=wait_s)
        return reply, time.monotonic() - started

    def assert_still_serving(self):
        """A trivial call succeeds, answered by the same executor process."""
        assert self.executor.poll() is None, "the executor process died"
        reply, _ = self.run("async def main():\n    return 'still here'\n")
        assert reply.get("ok") and reply.get("success"), reply
        assert json.loads(reply["result_json"]) == "still here"
        assert self.health_pid() == self.executor.pid

    def close(self):
        self.client.close()
        self.procs.cleanup()


def bus_executor_fixture():
    """A module-scoped fixture: one broker + executor for a whole test file."""
    @pytest.fixture(scope="module")
    def bus():
        root = tempfile.mkdtemp(prefix="mb", dir="/tmp")
        b = BusExecutor(root, root)
        yield b
        b.close()
        shutil.rmtree(root, ignore_errors=True)
    return bus
