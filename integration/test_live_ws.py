"""GET /ws on the real `mcpbox up` (actors/gateway/live.c): refused before the upgrade
without a session cookie (401) or from another Origin (403); a well-formed but unknown
session is closed (4401) before any message; a valid one gets "connected", pong for
ping, and an activity record written by ANOTHER process (credentials, a failed login)
within a second; a level filter holds it back. Then, on one more system: a tool call and
an approval decision reach the socket as log messages within a second; a client that
does not read is told how many messages it lost (what it got plus what it was told it
lost is everything) while the gateway keeps serving the others promptly; signing out
closes that session's open socket with 4401 at once."""
import json
import os
import socket
import threading
import time

import pytest

websocket = pytest.importorskip("websocket")    # python3-websocket (scripts/deps.sh)

from test_api_auth import Http, cookie_value, PASSWORD  # noqa: E402
from test_restart_safety import System  # noqa: E402


@pytest.fixture
def live(procs, tmpdir_short):
    s = System(procs, tmpdir_short)
    s.http = Http(s.port)
    status, _, _, body = s.http.request("POST", "/api/auth/setup",
                                        {"username": "admin", "password": PASSWORD})
    assert status == 201, body
    status, _, cookies, body = s.http.request("POST", "/api/auth/login",
                                              {"username": "admin", "password": PASSWORD})
    assert status == 200, body
    s.session = cookie_value(cookies, "mcpbox_session")[0]
    s.csrf = body["csrf_token"]
    s.url = f"ws://127.0.0.1:{s.port}/ws"
    s.origin = f"http://127.0.0.1:{s.port}"
    yield s
    s.up.terminate()
    s.up.wait(timeout=20)


def connect(s, cookie=None, origin=None, **kw):
    header = [f"Cookie: mcpbox_session={cookie}"] if cookie else []
    return websocket.create_connection(s.url, header=header, origin=origin or s.origin, timeout=5,
                                       **kw)


def until_pong(ws):
    """Read (at most 20 messages) until the pong: what was queued before it is skipped."""
    for _ in range(20):
        if json.loads(ws.recv()) == {"type": "pong"}:
            return
    raise AssertionError("no pong")


def failed_login(s):
    s.http.request("POST", "/api/auth/login", {"username": "admin", "password": "not the password"})


def test_refused_before_upgrade(live):
    s = live
    for cookie, origin, status in ((None, None, 401), (s.session, "http://evil.example", 403),
                                   (s.session, f"http://127.0.0.1:{s.port + 1}", 403)):
        with pytest.raises(websocket.WebSocketBadStatusException) as e:
            connect(s, cookie, origin)
        assert e.value.status_code == status
    # a well-formed session nobody issued: closed with 4401, nothing sent before
    ws = connect(s, "A" * 43)
    opcode, frame = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE and int.from_bytes(frame[:2], "big") == 4401
    ws.close()


def test_connected_ping_and_activity_from_another_process(live):
    s = live
    ws = connect(s, s.session)
    assert json.loads(ws.recv()) == {"type": "connected"}
    # (only failed logins: the fixture's own login may still be on its way)
    ws.send(json.dumps({"type": "filter", "types": ["auth.login_failed"]}))
    ws.send('{"type":"ping"}')
    until_pong(ws)
    ws.send('{"type":"nonsense"}')
    assert json.loads(ws.recv())["type"] == "error"
    # a failed login is recorded by the credentials process, committed by logkeeper,
    # published on the bus, and must reach this socket within a second
    start = time.monotonic()
    failed_login(s)
    msg = json.loads(ws.recv())
    took = time.monotonic() - start
    assert msg["type"] == "log" and msg["data"]["type"] == "auth.login_failed", msg
    assert set(msg["data"]) == {"id", "type", "level", "server_id", "message", "details",
                                "source", "created_at"}
    assert took < 1.0, took
    # a filter for errors only holds the next warning back
    ws.send(json.dumps({"type": "filter", "level": "error", "types": None, "server_id": None}))
    ws.send('{"type":"ping"}')
    until_pong(ws)
    failed_login(s)
    ws.settimeout(1.5)
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv()
    ws.close()


CODE = """
async def main(name: str) -> dict:
    return {"hi": name}
"""


def as_admin(s, method, path, body=None, session=None):
    status, _, _, parsed = s.http.request(method, path, body if body is not None else {},
                                          {"Cookie": f"mcpbox_session={session}",
                                           "X-CSRF-Token": s.csrf})
    return status, parsed


def until_log(ws, type_, deadline_s=1.0):
    """Read until a log message of this type; returns (message, seconds waited)."""
    start = time.monotonic()
    while True:
        left = deadline_s - (time.monotonic() - start)
        assert left > 0, f"no {type_} within {deadline_s} s"
        ws.settimeout(left)
        msg = json.loads(ws.recv())
        if msg.get("type") == "log" and msg["data"]["type"] == type_:
            return msg, time.monotonic() - start


def test_calls_decisions_slow_client_and_sign_out(live):
    s = live
    cookie = s.session                  # the fixture's admin session; s.session becomes MCP's
    s.session = s.initialize()
    ws = connect(s, cookie)
    assert json.loads(ws.recv()) == {"type": "connected"}
    ws.send(json.dumps({"type": "filter", "types": ["tool.called", "approval."]}))
    ws.send('{"type":"ping"}')
    until_pong(ws)

    # --- an approval decision and a tool call, each within a second -------------------
    sid = s.manage("mcpbox_create_server", {"name": "livews"})["id"]
    tid = s.manage("mcpbox_create_tool", {"server_id": sid, "name": "hi", "python_code": CODE})["id"]
    s.manage("mcpbox_start_server", {"server_id": sid})
    s.manage("mcpbox_request_publish", {"tool_id": tid})
    start = time.monotonic()
    status, body = as_admin(s, "POST", f"/api/approvals/tools/{tid}/approve", session=cookie)
    assert status == 200, body
    msg, _ = until_log(ws, "approval.tool_approved")
    took = time.monotonic() - start
    assert msg["data"]["server_id"] == sid and msg["data"]["details"]["id"] == tid, msg
    assert took < 1.0, f"approval reached /ws after {took:.3f} s"
    start = time.monotonic()
    result = s.call("livews__hi", {"name": "x"})
    assert result.get("isError") is False and result["structuredContent"] == {"hi": "x"}, result
    msg, _ = until_log(ws, "tool.called")
    took = time.monotonic() - start
    assert msg["data"]["details"]["tool_id"] == tid and "livews__hi" in msg["data"]["message"], msg
    assert took < 1.0, f"tool call reached /ws after {took:.3f} s (call included)"

    # --- a client that does not read ----------------------------------------------------
    # a tiny receive buffer, and it never reads: the gateway's socket stops being
    # writable, its queue fills (256 messages) and the rest is dropped and counted
    slow = connect(s, cookie, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 2048),))
    assert json.loads(slow.recv()) == {"type": "connected"}
    slow.send(json.dumps({"type": "filter", "types": ["policy."]}))
    slow.send('{"type":"ping"}')
    until_pong(slow)
    # a prompt reader of the same events, in a thread
    fast = connect(s, cookie)
    assert json.loads(fast.recv()) == {"type": "connected"}
    fast.send(json.dumps({"type": "filter", "types": ["policy."]}))
    fast.send('{"type":"ping"}')
    until_pong(fast)
    seen = {"policy": 0, "dropped": 0, "other": []}
    stop = threading.Event()

    def read_fast():
        fast.settimeout(0.2)
        while not stop.is_set():
            try:
                m = json.loads(fast.recv())
            except websocket.WebSocketTimeoutException:
                continue
            if m.get("type") == "log":
                seen["policy"] += 1
            elif m.get("type") == "dropped":
                seen["dropped"] += m["count"]
            else:
                seen["other"].append(m)
    reader = threading.Thread(target=read_fast)
    reader.start()
    choices = {"tool_approval_mode": ("require_approval", "auto_approve"),
               "network_access_policy": ("require_approval", "allow_all_public"),
               "module_approval_mode": ("require_approval", "auto_approve"),
               "remote_tool_editing": ("disabled", "enabled"),
               "redact_secrets_in_output": ("enabled", "disabled"),
               "log_retention_days": (30, 31), "mcp_rate_limit_rpm": (10000, 9999)}
    puts = 130                      # each changes 7 settings: 7 policy.changed events
    made = puts * len(choices)
    slowest = 0.0
    flood = time.monotonic()
    try:
        for i in range(puts):
            body = {k: v[(i + 1) % 2] for k, v in choices.items()}
            t0 = time.monotonic()
            status, answer = as_admin(s, "PUT", "/api/settings", body, cookie)
            slowest = max(slowest, time.monotonic() - t0)
            assert status == 200, answer
        flood = time.monotonic() - flood
        # the prompt reader gets every one of them, promptly, while the slow one is stuck
        wait_deadline = time.monotonic() + 5
        while seen["policy"] < made and time.monotonic() < wait_deadline:
            time.sleep(0.05)
        assert seen["policy"] == made and seen["dropped"] == 0, seen
        assert slowest < 1.0, f"an admin request took {slowest:.3f} s during the flood"
        # the gateway answers as fast as before (the stuck socket costs it nothing)
        t0 = time.monotonic()
        status, _, _, _ = s.http.request("GET", "/api/auth/me",
                                         headers={"Cookie": f"mcpbox_session={cookie}"})
        assert status == 200 and time.monotonic() - t0 < 0.5
    finally:
        stop.set()
        reader.join()
    # the slow client reads at last: what it got plus what it was told it lost is everything
    got = lost = 0
    slow.settimeout(5)
    while got + lost < made:
        m = json.loads(slow.recv())
        if m.get("type") == "log":
            assert m["data"]["type"] == "policy.changed", m
            got += 1
        elif m.get("type") == "dropped":
            lost += m["count"]
    assert lost > 0 and got + lost == made, (got, lost)
    assert got >= 256, f"only {got} delivered: the queue did not hold its 256"
    print(f"flood: {made} events in {flood:.2f} s; the reader that did not read got {got}, "
          f"was told of {lost} dropped; slowest admin request {slowest * 1000:.0f} ms")
    slow.close()
    fast.close()

    # --- signing out closes this session's socket with 4401 at once ---------------------
    ws.settimeout(5)
    start = time.monotonic()
    status, body = as_admin(s, "POST", "/api/auth/logout", session=cookie)
    assert status in (200, 204), body
    while True:
        opcode, frame = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
    took = time.monotonic() - start
    assert int.from_bytes(frame[:2], "big") == 4401, frame
    assert took < 1.0, f"closed {took:.3f} s after sign-out"
    ws.close()
