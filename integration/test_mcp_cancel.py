"""notifications/cancelled for an in-flight tools/call, all the way down:
gateway -> bus CANCEL -> broker -> worker CANCEL -> executor kills the child.

Real broker, real gateway, real mcpbox-executor with credit 1 (so the next
call can only run once the cancelled one has let go of the executor);
registry and approval are the stand-ins of mcp_fakes.py. Judged by
outcome: no JSON-RPC response for the cancelled id, no CPU used by the
executor's sandbox children within a second, and the next call on the same
executor answers quickly.
"""
import json
import os
import subprocess
import threading
import time

from conftest import bin_path, wait_for
from mcp_fakes import StandIns
from test_mcp_http import Gateway, start_broker, start_gateway, stop_cleanly

import pytest

SPIN = "async def main() -> int:\n    while True:\n        pass\n"
QUICK = "async def main(n: int) -> int:\n    return n + 1\n"
NOBODY = 65534


def sandbox_children(executor_pid):
    """{pid: cpu ticks} of the executor's children running as nobody."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                status = f.read()
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        uid = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("Uid:"))
        if ppid == executor_pid and uid == NOBODY:
            out[int(name)] = utime + stime
    return out


def cpu_busy(executor_pid, window=0.3):
    """True if any sandbox child of the executor used CPU during window."""
    before = sandbox_children(executor_pid)
    time.sleep(window)
    after = sandbox_children(executor_pid)
    return any(after[pid] > before.get(pid, after[pid]) for pid in after if pid in before)


@pytest.fixture
def cancellable(procs, tmpdir_short):
    migrate = subprocess.run([bin_path("mcpbox"), "migrate", "--data-dir", tmpdir_short],
                             capture_output=True, text=True, timeout=30)
    assert migrate.returncode == 0, migrate.stderr
    start_broker(procs, tmpdir_short)
    executor = procs.start([bin_path("mcpbox-executor"), "--data-dir", tmpdir_short,
                            "--credit", "1"], name="executor")
    # executors fetch a job's server secrets from the real credentials actor
    procs.start([bin_path("mcpbox-credentials"), "--data-dir", tmpdir_short], name="credentials")
    fakes = StandIns(tmpdir_short)
    wait_for(lambda: fakes.bus.call("credentials", {"op": "health"}, 500).get("ok"),
             timeout=30, what="credentials")
    wait_for(lambda: fakes.bus.call("sandbox", {"op": "validate", "code": QUICK},
                                    2000).get("ok"), timeout=30, what="executor")
    sid = fakes.registry.add_server("demo")
    for name, code in (("spin", SPIN), ("quick", QUICK)):
        checked = fakes.bus.call("sandbox", {"op": "validate", "code": code})
        tid = fakes.registry.add_tool_unchecked(sid, name, code, checked["input_schema"])
        fakes.approval.admin_approve(tid)
    proc, port = start_gateway(procs, tmpdir_short)
    gw = Gateway(proc, port)
    gw.executor = executor
    yield gw
    if proc.poll() is None:
        stop_cleanly(proc)
    fakes.stop()


def test_cancelled_call_gets_no_response_and_its_child_dies(cancellable):
    gw = cancellable
    session = gw.initialize()
    wait_for(lambda: "demo__spin" in [t["name"] for t in gw.list_all(session)],
             what="tools listed")
    answer = {}

    def call():
        answer["reply"] = gw.post({"jsonrpc": "2.0", "id": "spin-1", "method": "tools/call",
                                   "params": {"name": "demo__spin", "arguments": {}}},
                                  session, "2025-11-25", timeout=40)
    caller = threading.Thread(target=call)
    caller.start()
    # the tool is spinning in a sandbox child
    wait_for(lambda: cpu_busy(gw.executor.pid), timeout=10, what="the tool running")

    status, _, body = gw.post({"jsonrpc": "2.0", "method": "notifications/cancelled",
                               "params": {"requestId": "spin-1", "reason": "user"}},
                              session, "2025-11-25")
    assert status == 202 and body == b""
    cancelled_at = time.monotonic()

    # no response for that id: the POST ends with 202 and no body
    caller.join(timeout=5)
    assert not caller.is_alive()
    status, headers, body = answer["reply"]
    assert status == 202 and body == b"", (status, body)
    # within a second the child no longer uses CPU (it is gone)
    wait_for(lambda: not cpu_busy(gw.executor.pid, 0.2), timeout=1.0,
             what="the sandbox child stopped")
    assert time.monotonic() - cancelled_at < 1.5
    time.sleep(0.3)
    assert not cpu_busy(gw.executor.pid, 0.3)

    # the executor (credit 1) is free: the next call answers at once
    started = time.monotonic()
    result = gw.call(session, "demo__quick", {"n": 41}, timeout=10)
    assert result["isError"] is False, result
    assert json.loads(result["content"][0]["text"]) == 42, result
    assert time.monotonic() - started < 3

    # a cancel for an unknown or finished id is ignored (202, nothing else)
    for rid in ("spin-1", "never", 7):
        status, _, body = gw.post({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                   "params": {"requestId": rid}}, session, "2025-11-25")
        assert status == 202 and body == b""
    log = stop_cleanly(gw.proc)
    assert "tools/call demo__spin cancelled by the client (1 bus request cancelled)" in log


def test_cancel_from_another_session_does_nothing(cancellable):
    gw = cancellable
    session, other = gw.initialize(), gw.initialize()
    wait_for(lambda: "demo__quick" in [t["name"] for t in gw.list_all(session)],
             what="tools listed")
    answer = {}

    def call():
        answer["reply"] = gw.post({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
                                   "params": {"name": "demo__spin", "arguments": {}}},
                                  session, "2025-11-25", timeout=40)
    caller = threading.Thread(target=call)
    caller.start()
    wait_for(lambda: cpu_busy(gw.executor.pid), timeout=10, what="the tool running")
    gw.post({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5}},
            other, "2025-11-25")
    time.sleep(0.5)
    assert cpu_busy(gw.executor.pid)            # still running: not that session's
    assert caller.is_alive()
    gw.post({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5}},
            session, "2025-11-25")
    caller.join(timeout=5)
    assert answer["reply"][0] == 202
