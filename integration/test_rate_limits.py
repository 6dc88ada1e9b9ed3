"""mcp_rate_limit_rpm on the real processes: the budget is held by the approval
actor, so two gateway processes on one data directory draw on one budget per
client; a change of the policy applies to the next call; a refused call is a
JSON-RPC error saying when to retry, with a Retry-After header.

One `mcpbox up` (test_restart_safety.System) plus a second mcpbox-gateway on
the same data directory and another port. Calls are of a cheap management
tool (mcpbox_list_servers): the limit counts every tools/call.
"""
import http.client
import json
import os
import shutil
import tempfile
import time

import pytest

from busclient import BusClient
from conftest import Procs, bin_path, free_port, wait_for
from test_remote_listener import Mcp, create_token
from test_restart_safety import ACCEPT, System

TOOL = "mcpbox_list_servers"
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


@pytest.fixture(scope="module")
def two():
    data_dir = os.path.realpath(tempfile.mkdtemp(prefix="mb", dir="/tmp"))
    procs = Procs(data_dir)
    try:
        remote = [free_port(), free_port()]
        with open(os.path.join(data_dir, "mcpbox.conf"), "w") as f:
            f.write(f"remote_listen = 127.0.0.1:{remote[0]}\n")
        s = System(procs, data_dir)
        s.remote = remote
        s.port2 = free_port()
        procs.start([bin_path("mcpbox-gateway"), "--data-dir", data_dir,
                     "--http-port", str(s.port2), "--remote-listen",
                     f"127.0.0.1:{remote[1]}"], name="gateway-2")

        def second_up():
            try:
                return post(s.port2, "tools/list", {}, client="probe")[0] == 200
            except OSError:
                return False
        wait_for(second_up, timeout=20, what="second gateway")
        s.bus = BusClient("ipc://" + os.path.join(data_dir, "run", "bus"), 5000)
        yield s
        s.bus.close()
    finally:
        procs.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def post(port, method, params, client, rid=1):
    """A 2026-era (stateless) request as client `client`: (status, headers, body)."""
    params = dict(params, _meta=dict(META, **{"io.modelcontextprotocol/clientInfo":
                                              {"name": client, "version": "1"}}))
    headers = {"Accept": ACCEPT, "Content-Type": "application/json",
               "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method}
    if method == "tools/call":
        headers["Mcp-Name"] = params["name"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("POST", "/mcp", body=json.dumps({"jsonrpc": "2.0", "id": rid,
                     "method": method, "params": params}).encode(), headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(resp.read())
    finally:
        conn.close()


def call(port, client):
    return post(port, "tools/call", {"name": TOOL, "arguments": {}}, client)


def allowed(status, body):
    assert status == 200, body
    if "result" in body:
        assert body["result"]["isError"] is False, body
        return True
    assert body["error"]["code"] == -32000, body
    return False


def set_rpm(s, rpm):
    r = s.cli("policy", "set", "mcp_rate_limit_rpm", str(rpm))
    assert r.returncode == 0, r.stderr


def test_two_gateways_share_one_budget(two):
    s = two
    set_rpm(s, 10)
    ports = [s.port, s.port2]
    outcomes = []
    for i in range(16):
        status, head, body = call(ports[i % 2], "shared-client")
        outcomes.append((ports[i % 2], allowed(status, body), head, body))
    # ten in all, not ten per gateway (a token comes back every 6 s: at most
    # one more if the loop was slow)
    granted = [o for o in outcomes if o[1]]
    assert 10 <= len(granted) <= 11, [o[1] for o in outcomes]
    assert {o[0] for o in granted} == set(ports)
    refused = [o for o in outcomes if not o[1]]
    assert {o[0] for o in refused} == set(ports)
    for _, _, head, body in refused:
        retry = int(head["retry-after"])
        assert 1 <= retry <= 6, head
        error = body["error"]
        assert error["data"]["retryAfter"] == retry and error["data"]["limit"] == 10
        assert 0 < error["data"]["retryAfterMs"] <= 6000
        assert "retry after" in error["message"] and body["id"] == 1
    assert "retry-after" not in granted[0][2]
    # another client, and a 2025 session, have budgets of their own
    assert allowed(*_sb(call(s.port2, "other-client")))
    for _ in range(10):
        assert "result" in s.rpc("tools/call", {"name": TOOL, "arguments": {}})
    reply = s.rpc("tools/call", {"name": TOOL, "arguments": {}})
    assert reply["error"]["code"] == -32000, reply
    stats = s.bus.call("approval", {"op": "rate.stats"})
    assert stats["ok"] and stats["limit_rpm"] == 10 and stats["clients"] >= 3, stats
    assert stats["limited"] >= len(refused) + 1, stats


def _sb(reply):
    return reply[0], reply[2]


def test_limit_changes_live(two):
    s = two
    set_rpm(s, 10)
    while allowed(*_sb(call(s.port, "live-client"))):
        pass
    # raised: 10000 a minute is a token every 6 ms, at once, no restart
    set_rpm(s, 10000)
    time.sleep(0.05)
    assert allowed(*_sb(call(s.port2, "live-client")))
    got = sum(allowed(*_sb(call(s.port, "fresh-client"))) for _ in range(15))
    assert got == 15
    # lowered: the full bucket of 10000 is cut to 10 by the next call
    set_rpm(s, 10)
    got = [allowed(*_sb(call(s.port2, "fresh-client"))) for _ in range(14)]
    assert 10 <= got.count(True) <= 11 and got[-1] is False, got
    set_rpm(s, 300)


def test_a_remote_token_has_one_budget_across_gateways_and_sessions(two):
    s = two
    token = create_token(s, "rate-bot")
    # one session on each gateway's remote listener, the same token
    sessions = [Mcp(port, token) for port in s.remote]
    set_rpm(s, 10)
    got = []
    for i in range(14):
        reply = sessions[i % 2].rpc("tools/call", {"name": TOOL, "arguments": {}})
        got.append("result" in reply)
        if "error" in reply:
            assert reply["error"]["code"] == -32000 and reply["error"]["data"]["limit"] == 10
    assert 10 <= got.count(True) <= 11 and got[-2:] == [False, False], got
    # a new session on the local port is another client
    assert "result" in Mcp(s.port).rpc("tools/call", {"name": TOOL, "arguments": {}})
    set_rpm(s, 300)


def test_refused_client_id_is_checked(two):
    # the op is the actor's: a bad client key is bad_request, never a free call
    s = two
    for bad in ("", " ", "x" * 201, 7):
        reply = s.bus.call("approval", {"op": "rate.take", "client": bad})
        assert reply["ok"] is False and reply["error"]["code"] == "bad_request", (bad, reply)
    reply = s.bus.call("approval", {"op": "rate.take"})
    assert reply["error"]["code"] == "bad_request"
