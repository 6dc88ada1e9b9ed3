"""GET /ws on the real `mcpbox up` (actors/gateway/live.c): refused before the upgrade
without a session cookie (401) or from another Origin (403); a well-formed but unknown
session is closed (4401) before any message; a valid one gets "connected", pong for
ping, and an activity record written by ANOTHER process (credentials, a failed login)
within a second; a level filter holds it back."""
import json
import os
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
    s.url = f"ws://127.0.0.1:{s.port}/ws"
    s.origin = f"http://127.0.0.1:{s.port}"
    yield s
    s.up.terminate()
    s.up.wait(timeout=20)


def connect(s, cookie=None, origin=None):
    header = [f"Cookie: mcpbox_session={cookie}"] if cookie else []
    return websocket.create_connection(s.url, header=header, origin=origin or s.origin, timeout=5)


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
