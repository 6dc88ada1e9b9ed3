"""Shared fixtures for the integration tests: real processes, real sockets.

Binaries come from $MCPBOX_BUILD_DIR (default: <repo>/build): bin/ holds the
product, tests/ the test helpers. Every process a test starts is registered
with the `procs` fixture, which kills whatever is still running at teardown.
Data directories are short paths under /tmp, since ipc:// socket paths must
fit in 107 bytes.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("MCPBOX_BUILD_DIR", os.path.join(REPO, "build"))
HEARTBEAT_MS = 250


def bin_path(name):
    return os.path.join(BUILD, "bin", name)


def helper_path(name):
    return os.path.join(BUILD, "tests", name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def constellation():
    """The processes of one MCPbox (common/constellation.c), in start order,
    as `mcpbox status --json` lists them: [{process, service, order, count}]."""
    import json
    r = subprocess.run([bin_path("mcpbox"), "status", "--json",
                        "--data-dir", "/nonexistent/mcpbox-constellation"],
                       capture_output=True, text=True, timeout=30)
    return json.loads(r.stdout)["constellation"]


def bus_services():
    """{bus service: process} for every process that serves one."""
    return {row["service"]: row["process"] for row in constellation() if row["service"]}


def proc_env(**extra):
    env = dict(os.environ)
    env["MCPBOX_HEARTBEAT_MS"] = str(HEARTBEAT_MS)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Procs:
    """Starts processes with logs in the test's directory; kills leftovers."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.started = []

    def start(self, argv, name=None, env=None, stdout=None):
        name = name or os.path.basename(argv[0])
        log = open(os.path.join(self.logdir, f"{name}.{len(self.started)}.log"), "wb")
        proc = subprocess.Popen(
            argv,
            stdout=stdout if stdout is not None else log,
            stderr=log,
            env=env or proc_env(),
            start_new_session=True,
        )
        proc.log_file = log
        self.started.append(proc)
        return proc

    def cleanup(self):
        for proc in self.started:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
            proc.log_file.close()


@pytest.fixture
def tmpdir_short():
    path = tempfile.mkdtemp(prefix="mb", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def procs(tmpdir_short):
    manager = Procs(tmpdir_short)
    yield manager
    manager.cleanup()


def pytest_configure(config):
    # a test file whose calls all run the real sandbox but whose name does
    # not say so (test_cluster.py): the sanitized CI pass skips it with the
    # sandbox suites (-k "not sandbox")
    config.addinivalue_line("markers", "sandbox: runs the real sandbox on every call")
