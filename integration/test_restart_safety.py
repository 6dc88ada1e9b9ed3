"""Restart safety: `kill -9` of the registry or the approval actor in the middle of
the create → publish → approve → start → call flow loses nothing committed, and the
flow goes on once `mcpbox up` has restarted the actor.

Runs the real `mcpbox up` (as the README does) on a short data dir and a free port,
drives it over raw MCP Streamable HTTP (JSON-RPC POSTs with Mcp-Session-Id, one
session for the whole test: the gateway is never restarted) and the admin CLI, and
finds the actors among up's children by name through /proc/*/cmdline.
"""
import http.client
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import bin_path, free_port, proc_env, wait_for

ACCEPT = "application/json, text/event-stream"
RECOVERY_S = 20

CODE_V1 = '''
async def main(name: str, times: int = 1) -> dict:
    """Repeats a name."""
    return json.loads(json.dumps({"name": name, "times": times, "echo": [name] * times}))
'''
CODE_V2 = CODE_V1.replace('"echo"', '"names"')


# --- processes -------------------------------------------------------------------

def mcpbox(*args, timeout=30):
    return subprocess.run([bin_path("mcpbox"), *args], capture_output=True, text=True,
                          timeout=timeout, env=proc_env())


def process_name(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return os.path.basename(f.read().split(b"\0", 1)[0].decode(errors="replace")) or None
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


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


def child_named(up_pid, name):
    """The pid of up's live child called `name`, or None."""
    for pid in child_pids(up_pid):
        if process_name(pid) == name:
            return pid
    return None


def status_ok(data_dir):
    return mcpbox("status", "--data-dir", data_dir, timeout=15).returncode == 0


class System:
    def __init__(self, procs, data_dir):
        self.data_dir = data_dir
        self.port = free_port()
        self.up = procs.start([bin_path("mcpbox"), "up", "--data-dir", data_dir,
                               "--http-port", str(self.port)], name="up")
        wait_for(lambda: self.alive() and status_ok(data_dir), timeout=30,
                 interval=0.2, what="mcpbox status exit 0")
        self.session = self.initialize()

    def alive(self):
        assert self.up.poll() is None, f"mcpbox up exited:\n{self.log()}"
        return True

    def log(self):
        self.up.log_file.flush()
        with open(self.up.log_file.name, errors="replace") as f:
            return f.read()[-6000:]

    def kill_and_wait_restart(self, name):
        """SIGKILL up's child `name`; wait until a new one runs and status is ok."""
        old = child_named(self.up.pid, name)
        assert old, f"no {name} among up's children"
        os.kill(old, signal.SIGKILL)
        new = wait_for(lambda: self.alive() and (lambda p: p if p and p != old else None)(
            child_named(self.up.pid, name)), timeout=RECOVERY_S, interval=0.1,
            what=f"{name} restarted")
        wait_for(lambda: status_ok(self.data_dir), timeout=RECOVERY_S, interval=0.2,
                 what=f"status ok after {name} restart")
        return old, new

    def cli(self, *args):
        return mcpbox(*args, "--data-dir", self.data_dir)

    # --- raw MCP over HTTP ------------------------------------------------------------
    def post(self, message, session=None, timeout=40):
        headers = {"Accept": ACCEPT, "Content-Type": "application/json",
                   "MCP-Protocol-Version": "2025-11-25"}
        if session:
            headers["Mcp-Session-Id"] = session
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", "/mcp", body=json.dumps(message).encode(), headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def initialize(self):
        status, headers, body = self.post({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "pytest-restart", "version": "1"}}})
        assert status == 200, body
        session = headers["mcp-session-id"]
        status, _, _ = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"},
                                 session)
        assert status == 202
        return session

    def rpc(self, method, params=None, timeout=40):
        status, _, body = self.post({"jsonrpc": "2.0", "id": 7, "method": method,
                                     "params": params or {}}, self.session, timeout)
        assert status == 200, (status, body)
        return json.loads(body)

    def call(self, name, arguments=None):
        reply = self.rpc("tools/call", {"name": name, "arguments": arguments or {}})
        assert "result" in reply, reply
        return reply["result"]

    def manage(self, name, arguments=None):
        result = self.call(name, arguments)
        assert result["isError"] is False, (name, result)
        return result["structuredContent"]

    def manage_retry(self, name, arguments=None, timeout=10):
        """A management call right after a restart: the gateway may briefly answer
        'not available' while the new actor registers with the broker."""
        def attempt():
            result = self.call(name, arguments)
            return result if result["isError"] is False else None
        return wait_for(attempt, timeout=timeout, interval=0.2, what=name)["structuredContent"]

    def listed(self):
        names, cursor = [], None
        while True:
            reply = self.rpc("tools/list", {"cursor": cursor} if cursor else {})
            assert "result" in reply, reply
            names += [t["name"] for t in reply["result"]["tools"]]
            cursor = reply["result"].get("nextCursor")
            if not cursor:
                return names


@pytest.fixture
def system(procs, tmpdir_short):
    s = System(procs, tmpdir_short)
    yield s
    if s.up.poll() is None:
        s.up.terminate()
        rc = s.up.wait(timeout=15)
        assert rc == 0, f"mcpbox up exited {rc} on SIGTERM:\n{s.log()}"


def snapshot(system, server_id):
    """What the registry has committed for a server: its tools with versions/hashes."""
    server = system.manage_retry("mcpbox_get_server", {"server_id": server_id})
    tools = {}
    for t in server["tools"]:
        got = system.manage_retry("mcpbox_get_tool", {"tool_id": t["id"]})
        versions = system.manage_retry("mcpbox_list_tool_versions", {"tool_id": t["id"]})
        tools[t["name"]] = {
            "id": t["id"], "current_version": got["current_version"],
            "python_code": got["python_code"], "input_schema": got["input_schema"],
            "versions": [v["version"] for v in versions["versions"]],
        }
    return {"name": server["name"], "status": server["status"], "tools": tools}


def test_registry_killed_mid_flow_loses_nothing(system):
    s = system
    server_id = s.manage("mcpbox_create_server", {"name": "rs", "description": "restart"})["id"]
    tool_id = s.manage("mcpbox_create_tool", {"server_id": server_id, "name": "echo",
                                              "python_code": CODE_V1})["id"]
    s.manage("mcpbox_update_tool", {"tool_id": tool_id, "python_code": CODE_V2})
    before = snapshot(s, server_id)
    assert before["tools"]["echo"]["current_version"] == 2
    assert before["tools"]["echo"]["versions"] == [1, 2] or \
        sorted(before["tools"]["echo"]["versions"]) == [1, 2]

    old, new = s.kill_and_wait_restart("mcpbox-registry")
    assert old != new
    after = snapshot(s, server_id)
    assert after == before, (before, after)

    # a create in flight while the registry dies: it either committed (and then is
    # there exactly once) or not at all, and retrying after the restart works
    outcome = {}

    def create():
        try:
            outcome["result"] = s.call("mcpbox_create_tool", {
                "server_id": server_id, "name": "inflight", "python_code": CODE_V1})
        except Exception as e:   # noqa: BLE001 - recorded and judged below
            outcome["error"] = e
    worker = threading.Thread(target=create)
    worker.start()
    time.sleep(0.005)
    s.kill_and_wait_restart("mcpbox-registry")
    worker.join(60)
    assert not worker.is_alive(), "the in-flight tools/call never returned"
    assert "error" not in outcome, outcome
    tools = s.manage_retry("mcpbox_list_tools", {"server_id": server_id})["tools"]
    names = [t["name"] for t in tools]
    if outcome["result"]["isError"] is False:
        assert names.count("inflight") == 1, names
    else:
        assert names.count("inflight") <= 1, names
        if "inflight" not in names:
            s.manage("mcpbox_create_tool", {"server_id": server_id, "name": "inflight",
                                            "python_code": CODE_V1})
    assert snapshot(s, server_id)["tools"]["echo"] == before["tools"]["echo"]

    # the flow goes on: publish, approve with the CLI, start, call
    assert s.manage("mcpbox_request_publish", {"tool_id": tool_id})["status"] == "pending_review"
    approved = s.cli("approvals", "approve", "tool", tool_id)
    assert approved.returncode == 0, approved.stderr
    assert s.manage("mcpbox_start_server", {"server_id": server_id})["status"] == "running"
    wait_for(lambda: "rs__echo" in s.listed(), timeout=5, what="rs__echo listed")
    result = s.call("rs__echo", {"name": "a", "times": 2})
    assert result.get("isError") is False, result
    assert result["structuredContent"] == {"name": "a", "times": 2, "names": ["a", "a"]}

    # a running server stays running (and callable) across another registry restart
    s.kill_and_wait_restart("mcpbox-registry")
    wait_for(lambda: "rs__echo" in s.listed(), timeout=5, what="rs__echo listed after restart")
    result = s.call("rs__echo", {"name": "b"})
    assert result["structuredContent"] == {"name": "b", "times": 1, "names": ["b"]}, result
    assert snapshot(s, server_id)["status"] == "running"


def test_approval_killed_keeps_pending_requests(system):
    s = system
    server_id = s.manage("mcpbox_create_server", {"name": "ap"})["id"]
    first = s.manage("mcpbox_create_tool", {"server_id": server_id, "name": "first",
                                            "python_code": CODE_V1})["id"]
    second = s.manage("mcpbox_create_tool", {"server_id": server_id, "name": "second",
                                             "python_code": CODE_V2})["id"]
    assert s.manage("mcpbox_request_publish", {"tool_id": first,
                                               "notes": "n1"})["status"] == "pending_review"
    assert s.cli("approvals", "approve", "tool", first).returncode == 0
    assert s.manage("mcpbox_request_publish", {"tool_id": second,
                                               "notes": "n2"})["status"] == "pending_review"
    s.manage("mcpbox_start_server", {"server_id": server_id})
    wait_for(lambda: "ap__first" in s.listed(), timeout=5, what="ap__first listed")

    s.kill_and_wait_restart("mcpbox-approval")

    status = s.manage_retry("mcpbox_get_tool_status", {"tool_id": second})
    assert status["approval_status"] == "pending_review", status
    assert status["publish_notes"] == "n2"
    assert s.manage_retry("mcpbox_get_tool_status",
                          {"tool_id": first})["approval_status"] == "approved"
    listing = s.cli("approvals", "list", "--kind", "tool", "--json")
    assert listing.returncode == 0, listing.stderr
    assert second in listing.stdout and first not in listing.stdout, listing.stdout
    pending = s.manage("mcpbox_list_pending_requests")
    assert [t.get("tool_id", t.get("id")) for t in pending["pending_tools"]] == [second], pending

    # the approved tool stayed callable; the pending one becomes callable once approved
    result = s.call("ap__first", {"name": "x"})
    assert result["structuredContent"] == {"name": "x", "times": 1, "echo": ["x"]}, result
    assert "ap__second" not in s.listed()
    approved = s.cli("approvals", "approve", "tool", second)
    assert approved.returncode == 0, approved.stderr
    wait_for(lambda: "ap__second" in s.listed(), timeout=5, what="ap__second listed")
    result = s.call("ap__second", {"name": "y", "times": 2})
    assert result["structuredContent"] == {"name": "y", "times": 2, "names": ["y", "y"]}, result
    # decisions made after the restart survive another one
    s.kill_and_wait_restart("mcpbox-approval")
    assert s.manage_retry("mcpbox_get_tool_status",
                          {"tool_id": second})["approval_status"] == "approved"
    wait_for(lambda: "ap__second" in s.listed(), timeout=5, what="ap__second still listed")
