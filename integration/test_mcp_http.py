"""/mcp on the real mcpbox-gateway: MCP Streamable HTTP, raw HTTP.

Every status-code rule of the endpoint (actors/gateway/mcp_endpoint.c and
mcp_rpc.c) is checked with http.client or a raw socket against the real
gateway and the real broker. For tools/list and tools/call the registry
and approval actors are played by the stand-ins of mcp_fakes.py (named as
such: they are not the real actors), and the sandbox is the real
mcpbox-executor.
"""
import http.client
import json
import os
import re
import socket
import threading
import time

import pytest

from conftest import bin_path, free_port, wait_for
from mcp_fakes import StandIns

ACCEPT = "application/json, text/event-stream"
VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26"]


# --- processes ----------------------------------------------------------------

def start_broker(procs, data_dir):
    broker = procs.start([bin_path("mcpbox-broker"), "--data-dir", data_dir], name="broker")
    wait_for(lambda: os.path.exists(os.path.join(data_dir, "run", "bus")), what="broker")
    wait_for(lambda: os.path.exists(os.path.join(data_dir, "run", "ev-in")), what="broker events")
    return broker


def start_gateway(procs, data_dir, *extra):
    port = free_port()
    gateway = procs.start([bin_path("mcpbox-gateway"), "--data-dir", data_dir,
                           "--http-port", str(port), "--mcp-keepalive-s", "1", *extra],
                          name="gateway")

    def listening():
        assert gateway.poll() is None, "gateway exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False
    wait_for(listening, what="gateway listening")
    return gateway, port


def stop_cleanly(proc):
    proc.terminate()
    rc = proc.wait(timeout=10)
    proc.log_file.flush()
    with open(proc.log_file.name, errors="replace") as f:
        log = f.read()
    assert rc == 0, log[-4000:]
    return log


class Gateway:
    def __init__(self, proc, port):
        self.proc = proc
        self.port = port
        self.host = f"127.0.0.1:{port}"

    # --- raw HTTP ------------------------------------------------------------------
    def request(self, method="POST", body=None, headers=None, conn=None, timeout=20):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            conn.request(method, "/mcp", body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            if own:
                conn.close()

    def post(self, message, session=None, version=None, headers=None, **kw):
        h = {"Accept": ACCEPT, "Content-Type": "application/json"}
        if session:
            h["Mcp-Session-Id"] = session
        if version:
            h["MCP-Protocol-Version"] = version
        h.update(headers or {})
        return self.request("POST", message, h, **kw)

    # --- MCP ------------------------------------------------------------------------
    def initialize(self, version="2025-11-25"):
        status, headers, body = self.post({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": {},
                       "clientInfo": {"name": "pytest", "version": "1"}}})
        assert status == 200, body
        session = headers["mcp-session-id"]
        status, _, _ = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"},
                                 session, version)
        assert status == 202
        return session

    def rpc(self, session, method, params=None, rid=7, version="2025-11-25", timeout=40):
        message = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        status, headers, body = self.post(message, session, version, timeout=timeout)
        assert status == 200, (status, body)
        assert headers["content-type"] == "application/json"
        reply = json.loads(body)
        assert reply["jsonrpc"] == "2.0" and reply["id"] == rid
        return reply

    def call(self, session, name, arguments=None, timeout=40):
        reply = self.rpc(session, "tools/call", {"name": name, "arguments": arguments or {}},
                         timeout=timeout)
        assert "result" in reply, reply
        return reply["result"]

    def list_all(self, session):
        """Every tool, page by page; starts again when the list changed
        under its cursor (-32602), as a client would."""
        for _ in range(10):
            tools, cursor = [], None
            while True:
                params = {"cursor": cursor} if cursor else {}
                reply = self.rpc(session, "tools/list", params)
                if "error" in reply:
                    assert cursor and reply["error"]["code"] == -32602, reply
                    break
                tools += reply["result"]["tools"]
                cursor = reply["result"].get("nextCursor")
                if not cursor:
                    return tools
        raise AssertionError("the tool list never held still")


def raw(port, data, timeout=5):
    """Send bytes, read until the server closes (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            pass
        return b"".join(chunks)


def status_of(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.") else None


def json_error(body):
    reply = json.loads(body)
    assert reply["jsonrpc"] == "2.0" and "error" in reply and reply["id"] is None, reply
    return reply["error"]["code"]


@pytest.fixture
def gw(procs, tmpdir_short):
    """Broker and gateway only (the HTTP rules need nothing else)."""
    start_broker(procs, tmpdir_short)
    proc, port = start_gateway(procs, tmpdir_short)
    yield Gateway(proc, port)
    if proc.poll() is None:
        stop_cleanly(proc)


@pytest.fixture
def system(procs, tmpdir_short):
    """Broker, the real executor and credentials (executors fetch a job's secrets
    from it), the registry/approval stand-ins, gateway."""
    import subprocess
    migrate = subprocess.run([bin_path("mcpbox"), "migrate", "--data-dir", tmpdir_short],
                             capture_output=True, text=True, timeout=30)
    assert migrate.returncode == 0, migrate.stderr
    start_broker(procs, tmpdir_short)
    procs.start([bin_path("mcpbox-executor"), "--data-dir", tmpdir_short], name="executor")
    procs.start([bin_path("mcpbox-credentials"), "--data-dir", tmpdir_short], name="credentials")
    fakes = StandIns(tmpdir_short)
    wait_for(lambda: fakes.bus.call("credentials", {"op": "health"}, 500).get("ok"),
             timeout=30, what="credentials")
    # the executor is up when it validates
    wait_for(lambda: fakes.bus.call("sandbox", {"op": "validate",
                                                "code": "async def main():\n    return 1\n"},
                                    2000).get("ok"), timeout=30, what="executor")
    proc, port = start_gateway(procs, tmpdir_short)
    gateway = Gateway(proc, port)
    gateway.fakes = fakes
    yield gateway
    if proc.poll() is None:
        stop_cleanly(proc)
    fakes.stop()


# --- initialize and version negotiation -------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_initialize_negotiates_a_supported_version(gw, version):
    status, headers, body = gw.post({"jsonrpc": "2.0", "id": "init-1", "method": "initialize",
                                     "params": {"protocolVersion": version, "capabilities": {},
                                                "clientInfo": {"name": "t", "version": "0"}}})
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f]{64}", headers["mcp-session-id"])
    reply = json.loads(body)
    assert reply["id"] == "init-1"
    result = reply["result"]
    assert result["protocolVersion"] == version
    assert result["capabilities"] == {"tools": {"listChanged": True}, "logging": {}}
    assert result["serverInfo"]["name"] == "mcpbox"
    assert isinstance(result["serverInfo"]["version"], str)


def test_initialize_with_an_unsupported_version_gets_our_latest(gw):
    """Specification 2025-11-25 (lifecycle, version negotiation): the server
    answers with a version it supports, its latest, and the session works
    in that version; the client decides whether to go on."""
    for requested in ("2024-11-05", "1.0", "2099-01-01"):
        status, headers, body = gw.post({"jsonrpc": "2.0", "id": 3, "method": "initialize",
                                         "params": {"protocolVersion": requested,
                                                    "capabilities": {}}})
        assert status == 200
        reply = json.loads(body)
        assert "error" not in reply, reply
        assert reply["result"]["protocolVersion"] == VERSIONS[0] == "2025-11-25"
        session = headers["mcp-session-id"]
        # the session is usable with the version it was given
        status, _, body = gw.post({"jsonrpc": "2.0", "id": 4, "method": "ping"},
                                  session, VERSIONS[0])
        assert status == 200 and json.loads(body)["result"] == {}
    # no protocolVersion at all is still an invalid request
    status, headers, body = gw.post({"jsonrpc": "2.0", "id": 4, "method": "initialize",
                                     "params": {}})
    assert status == 200 and json.loads(body)["error"]["code"] == -32602
    assert "mcp-session-id" not in headers


def test_session_ids_are_distinct(gw):
    ids = {gw.initialize() for _ in range(5)}
    assert len(ids) == 5


# --- Accept, Content-Type ---------------------------------------------------------------

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}}}


@pytest.mark.parametrize("accept", [None, "application/json", "text/event-stream", "*/*",
                                    "application/json, text/event-stream;q=0",
                                    "text/html, application/xml"])
def test_post_without_both_accept_types_is_406(gw, accept):
    headers = {"Content-Type": "application/json"}
    if accept:
        headers["Accept"] = accept
    status, h, body = gw.request("POST", INIT, headers)
    assert status == 406
    assert json_error(body) == -32000


@pytest.mark.parametrize("accept", ["text/event-stream, application/json",
                                    "Application/JSON; q=0.9, TEXT/event-stream",
                                    "application/json;charset=utf-8 , text/event-stream;q=0.5"])
def test_post_accept_variants_pass(gw, accept):
    status, _, _ = gw.request("POST", INIT, {"Accept": accept, "Content-Type": "application/json"})
    assert status == 200


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "application/json; charset=latin1", "application/jsonx"])
def test_post_with_wrong_content_type_is_415(gw, ctype):
    headers = {"Accept": ACCEPT}
    if ctype:
        headers["Content-Type"] = ctype
    status, _, body = gw.request("POST", INIT, headers)
    assert status == 415
    assert json_error(body) == -32000


def test_post_content_type_with_utf8_charset_passes(gw):
    status, _, _ = gw.request("POST", INIT, {"Accept": ACCEPT,
                                             "Content-Type": "application/json; charset=UTF-8"})
    assert status == 200


# --- sessions and the protocol-version header ---------------------------------------------

def test_request_without_session_is_400(gw):
    status, _, body = gw.post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert status == 400
    assert json_error(body) == -32000
    status, _, _ = gw.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert status == 400


def test_unknown_or_malformed_session_is_404(gw):
    gw.initialize()
    for session in ("0" * 64, "f" * 64, "nope", "A" * 64, "0" * 63):
        status, _, body = gw.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, session)
        assert status == 404, session
        assert json_error(body) == -32001


@pytest.mark.parametrize("bad", ["invalid-protocol-version", "2000-01-01", "2099-01-01",
                                 "2024-11-05"])
def test_unsupported_protocol_version_header_is_400(gw, bad):
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    # before initialize (no session), as the conformance suite sends it
    status, _, _ = gw.post(message, version=bad)
    assert status == 400
    # after initialize, with a valid session
    session = gw.initialize()
    status, _, body = gw.post(message, session, bad)
    assert status == 400
    assert json_error(body) == -32000
    # and on initialize itself
    status, headers, _ = gw.post(INIT, version=bad)
    assert status == 400 and "mcp-session-id" not in headers


def test_protocol_version_header_absent_or_supported_passes(gw):
    session = gw.initialize()
    for version in VERSIONS + [None]:
        status, _, body = gw.post({"jsonrpc": "2.0", "id": 9, "method": "ping"}, session, version)
        assert status == 200, version
        assert json.loads(body) == {"jsonrpc": "2.0", "id": 9, "result": {}}


def test_delete_ends_the_session(gw):
    session = gw.initialize()
    status, headers, body = gw.request("DELETE", None, {"Mcp-Session-Id": session,
                                                        "MCP-Protocol-Version": "2025-11-25"})
    assert status == 200 and body == b""
    status, _, body = gw.post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, session)
    assert status == 404 and json_error(body) == -32001
    status, _, _ = gw.request("DELETE", None, {"Mcp-Session-Id": session})
    assert status == 404
    status, _, _ = gw.request("GET", None, {"Mcp-Session-Id": session, "Accept": "text/event-stream"})
    assert status == 404
    # DELETE without a session id
    status, _, _ = gw.request("DELETE", None, {})
    assert status == 400


def test_sessions_expire_when_idle(procs, tmpdir_short):
    start_broker(procs, tmpdir_short)
    proc, port = start_gateway(procs, tmpdir_short, "--mcp-session-idle-s", "1")
    gw = Gateway(proc, port)
    session = gw.initialize()
    assert gw.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, session)[0] == 200
    time.sleep(0.6)
    assert gw.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, session)[0] == 200
    time.sleep(0.6)     # activity keeps it alive
    assert gw.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, session)[0] == 200
    time.sleep(1.6)
    assert gw.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, session)[0] == 404
    stop_cleanly(proc)


def test_full_session_table_drops_the_least_recently_used(procs, tmpdir_short):
    start_broker(procs, tmpdir_short)
    proc, port = start_gateway(procs, tmpdir_short, "--mcp-sessions-max", "2")
    gw = Gateway(proc, port)
    first = gw.initialize()
    second = gw.initialize()
    time.sleep(0.01)
    assert gw.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, first)[0] == 200
    third = gw.initialize()          # second is the least recently used
    assert gw.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, second)[0] == 404
    assert gw.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, first)[0] == 200
    assert gw.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, third)[0] == 200
    stop_cleanly(proc)


# --- JSON-RPC shape ------------------------------------------------------------------------

def test_notifications_and_responses_are_202_without_body(gw):
    session = gw.initialize()
    for message in ({"jsonrpc": "2.0", "method": "notifications/initialized"},
                    {"jsonrpc": "2.0", "method": "notifications/cancelled",
                     "params": {"requestId": 5}},
                    {"jsonrpc": "2.0", "method": "notifications/whatever"},
                    {"jsonrpc": "2.0", "id": 99, "result": {}},
                    {"jsonrpc": "2.0", "id": 98, "error": {"code": -1, "message": "x"}}):
        status, headers, body = gw.post(message, session)
        assert status == 202, message
        assert body == b""
        assert headers.get("content-length") == "0"


def test_ping(gw):
    session = gw.initialize()
    assert gw.rpc(session, "ping", rid="p-1") == {"jsonrpc": "2.0", "id": "p-1", "result": {}}
    assert gw.rpc(session, "ping", {}, rid=0)["result"] == {}


def test_unknown_method_is_200_with_32601(gw):
    session = gw.initialize()
    for method in ("nope", "resources/list", "prompts/list", "tools/delete"):
        reply = gw.rpc(session, method, rid=42)
        assert reply["error"]["code"] == -32601


def test_malformed_json_is_400_32700(gw):
    session = gw.initialize()
    for body in (b"{", b"", b"not json", b'{"jsonrpc": "2.0", "id": 1, "method": "ping"',
                 b"\xff\xfe{}", b'{"a": 1, "a": 2}'):
        status, headers, raw_body = gw.post(body, session)
        assert status == 400, body
        assert headers["content-type"] == "application/json"
        assert json_error(raw_body) == -32700


def test_batches_are_400_32600(gw):
    session = gw.initialize()
    batch = [{"jsonrpc": "2.0", "id": 901, "method": "ping", "params": {}},
             {"jsonrpc": "2.0", "id": 902, "method": "ping", "params": {}}]
    status, _, body = gw.post(batch, session, "2025-11-25")
    assert status == 400
    assert json_error(body) == -32600
    status, _, body = gw.post([], session)
    assert status == 400 and json_error(body) == -32600


def test_invalid_jsonrpc_messages_are_400_32600(gw):
    session = gw.initialize()
    for message in ({"id": 1, "method": "ping"},
                    {"jsonrpc": "1.0", "id": 1, "method": "ping"},
                    {"jsonrpc": "2.0", "id": 1, "method": 5},
                    {"jsonrpc": "2.0", "id": 1},
                    {"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"},
                    {"jsonrpc": "2.0", "id": None, "method": "ping"},
                    {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": "x"},
                    "just a string", 42, None):
        status, _, body = gw.post(json.dumps(message).encode(), session)
        assert status == 400, message
        assert json_error(body) == -32600


def test_params_must_be_an_object(gw):
    session = gw.initialize()
    reply = gw.rpc(session, "ping", [1, 2])
    assert reply["error"]["code"] == -32602


# --- body limits ---------------------------------------------------------------------------

def test_oversize_body_is_413(gw):
    session = gw.initialize()
    big = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * (1 << 20) + b'"}}'
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=20)
    status, headers, body = gw.post(big, session, conn=conn)
    assert status == 413
    assert json_error(body) == -32000
    # the refused body was skipped: the connection serves the next request
    status, _, body = gw.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, session, conn=conn)
    assert status == 200 and json.loads(body)["id"] == 2
    conn.close()
    # a body of exactly 1 MiB is read
    padding = (1 << 20) - len(b'{"jsonrpc":"2.0","id":1,"method":"ping"}')
    exact = b'{"jsonrpc":"2.0","id":1,"method":"ping"}' + b" " * padding
    assert len(exact) == 1 << 20
    status, _, body = gw.post(exact, session)
    assert status == 200 and json.loads(body)["result"] == {}


def test_declared_huge_length_is_refused_at_once(gw):
    reply = raw(gw.port, b"POST /mcp HTTP/1.1\r\nHost: " + gw.host.encode() +
                b"\r\nAccept: " + ACCEPT.encode() + b"\r\nContent-Type: application/json\r\n"
                b"Content-Length: 999999999999\r\n\r\n{", timeout=5)
    assert status_of(reply) == 413


def chunked_post(port, host, chunks, session=None, trailer=b""):
    head = (b"POST /mcp HTTP/1.1\r\nHost: " + host.encode() + b"\r\nAccept: " + ACCEPT.encode() +
            b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n")
    if session:
        head += b"Mcp-Session-Id: " + session.encode() + b"\r\n"
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n" + trailer + b"\r\n"
    return raw(port, head + b"\r\n" + body, timeout=10)


def test_chunked_body_is_read(gw):
    session = gw.initialize()
    message = json.dumps({"jsonrpc": "2.0", "id": 5, "method": "ping"}).encode()
    reply = chunked_post(gw.port, gw.host, [message[:7], message[7:20], message[20:]], session,
                         trailer=b"X-Trailer: yes\r\n")
    assert status_of(reply) == 200
    head, _, body = reply.partition(b"\r\n\r\n")
    assert json.loads(body) == {"jsonrpc": "2.0", "id": 5, "result": {}}
    # and the same through http.client's own chunked encoding
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    conn.request("POST", "/mcp", body=iter([message[:10], message[10:]]), encode_chunked=True,
                 headers={"Accept": ACCEPT, "Content-Type": "application/json",
                          "Mcp-Session-Id": session, "Transfer-Encoding": "chunked"})
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["id"] == 5
    conn.close()


def test_chunked_oversize_body_is_413(gw):
    session = gw.initialize()
    chunks = [b"a" * 65536] * 17           # 1 MiB + 64 KiB
    reply = chunked_post(gw.port, gw.host, chunks, session)
    assert status_of(reply) == 413
    # one chunk that declares more than the limit
    reply = raw(gw.port, b"POST /mcp HTTP/1.1\r\nHost: " + gw.host.encode() +
                b"\r\nAccept: " + ACCEPT.encode() + b"\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n200000\r\n" + b"a" * 100)
    assert status_of(reply) == 413


def test_malformed_chunked_and_framing_are_400(gw):
    session = gw.initialize()
    base = (b"POST /mcp HTTP/1.1\r\nHost: " + gw.host.encode() + b"\r\nAccept: " +
            ACCEPT.encode() + b"\r\nContent-Type: application/json\r\nMcp-Session-Id: " +
            session.encode() + b"\r\n")
    for tail in (b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
                 b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
                 b"Transfer-Encoding: gzip\r\n\r\n",
                 b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
                 b"Content-Length: -5\r\n\r\n",
                 b"Content-Length: 12abc\r\n\r\n"):
        assert status_of(raw(gw.port, base + tail)) == 400, tail
    # no length at all
    assert status_of(raw(gw.port, base + b"\r\n")) == 411


def test_keep_alive_survives_early_refusals(gw):
    session = gw.initialize()
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    try:
        ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
        seen = []
        for headers in ({"Accept": "text/html", "Content-Type": "application/json"},
                        {"Accept": ACCEPT, "Content-Type": "text/plain"},
                        {"Accept": ACCEPT, "Content-Type": "application/json",
                         "Mcp-Session-Id": session}):
            status, _, _ = gw.request("POST", ping, headers, conn=conn)
            seen.append((status, conn.sock.getsockname()))
        assert [s for s, _ in seen] == [406, 415, 200]
        assert len({a for _, a in seen}) == 1
    finally:
        conn.close()


def test_refused_large_bodies_then_posts_on_one_connection(gw):
    """An answer given before a large body was read used to leave lws 4.1.6
    spinning when the next request on the connection had a body."""
    session = gw.initialize()
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    try:
        big = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * 300000 + b'"}}'
        for i in range(6):
            status, _, _ = gw.post(big, session, headers={"Accept": "text/html"}, conn=conn)
            assert status == 406
            status, _, body = gw.post({"jsonrpc": "2.0", "id": i, "method": "ping"}, session,
                                      conn=conn)
            assert status == 200 and json.loads(body)["id"] == i
    finally:
        conn.close()


def test_requests_pipelined_behind_a_body_close_the_connection(gw):
    """lws 4.1.6 would busy-loop on bytes read past a POST body; the gateway
    closes such a connection instead, and stays responsive."""
    session = gw.initialize()
    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
    one = (b"POST /mcp HTTP/1.1\r\nHost: " + gw.host.encode() + b"\r\nAccept: " + ACCEPT.encode() +
           b"\r\nContent-Type: application/json\r\nMcp-Session-Id: " + session.encode() +
           b"\r\nContent-Length: " + str(len(ping)).encode() + b"\r\n\r\n" + ping)
    for _ in range(5):
        raw(gw.port, one + one, timeout=5)
    assert gw.rpc(session, "ping")["result"] == {}

    def cpu_ticks():
        with open(f"/proc/{gw.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])        # utime + stime
    before = cpu_ticks()
    time.sleep(1)
    assert cpu_ticks() - before < os.sysconf("SC_CLK_TCK") // 4, "the gateway is spinning"


def test_h2c_upgrade_is_declined_and_the_post_served(gw):
    session = gw.initialize()
    message = json.dumps({"jsonrpc": "2.0", "id": 3, "method": "ping"}).encode()
    reply = raw(gw.port, b"POST /mcp HTTP/1.1\r\nHost: " + gw.host.encode() +
                b"\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nAccept: " + ACCEPT.encode() +
                b"\r\nContent-Type: application/json\r\nMcp-Session-Id: " + session.encode() +
                b"\r\nContent-Length: " + str(len(message)).encode() +
                b"\r\nConnection: close\r\n\r\n" + message, timeout=5)
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    assert json.loads(reply.partition(b"\r\n\r\n")[2])["id"] == 3


# --- Host and Origin -----------------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:{port}",
                                  "localhost.evil.com", "127.0.0.2:{port}", "[::2]:{port}",
                                  "localhost:{port}@evil", "localhost:99999"])
def test_bad_host_is_403(gw, host):
    status, _, body = gw.request("POST", INIT, {"Host": host.format(port=gw.port),
                                                "Accept": ACCEPT,
                                                "Content-Type": "application/json"})
    assert status == 403
    assert json_error(body) == -32000


@pytest.mark.parametrize("host", ["localhost", "localhost:{port}", "127.0.0.1",
                                  "127.0.0.1:{port}", "[::1]:{port}", "LOCALHOST:{port}"])
def test_local_hosts_pass(gw, host):
    status, _, _ = gw.request("POST", INIT, {"Host": host.format(port=gw.port),
                                             "Accept": ACCEPT, "Content-Type": "application/json"})
    assert status == 200


def test_missing_host_is_403(gw):
    reply = raw(gw.port, b"POST /mcp HTTP/1.0\r\nAccept: " + ACCEPT.encode() +
                b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    assert status_of(reply) == 403


def test_bad_origin_is_403_and_good_origin_gets_cors(gw):
    for origin in ("http://evil.example.com", "null", "https://localhost.evil.com",
                   "file://", "http://127.0.0.1.nip.io:8000"):
        status, _, body = gw.request("POST", INIT, {"Origin": origin, "Accept": ACCEPT,
                                                    "Content-Type": "application/json"})
        assert status == 403, origin
    for origin in ("http://localhost:3000", "https://127.0.0.1", "http://[::1]:6274"):
        status, headers, _ = gw.request("POST", INIT, {"Origin": origin, "Accept": ACCEPT,
                                                       "Content-Type": "application/json"})
        assert status == 200
        assert headers["access-control-allow-origin"] == origin
        assert "mcp-session-id" in headers["access-control-expose-headers"].lower()
    status, headers, _ = gw.request("OPTIONS", None, {"Origin": "http://localhost:3000",
                                                      "Access-Control-Request-Method": "POST"})
    assert status == 204
    assert "POST" in headers["access-control-allow-methods"]
    assert "mcp-session-id" in headers["access-control-allow-headers"].lower()
    status, _, _ = gw.request("OPTIONS", None, {"Origin": "http://evil.example.com"})
    assert status == 403


def test_allowed_hosts_and_origins_config(procs, tmpdir_short):
    start_broker(procs, tmpdir_short)
    proc, port = start_gateway(procs, tmpdir_short, "--allowed-hosts", "mybox.lan, other:8443",
                               "--allowed-origins", "https://app.example.com")
    gw = Gateway(proc, port)
    ok = {"Accept": ACCEPT, "Content-Type": "application/json"}
    assert gw.request("POST", INIT, dict(ok, Host=f"mybox.lan:{port}"))[0] == 200
    assert gw.request("POST", INIT, dict(ok, Host="other:8443"))[0] == 200
    assert gw.request("POST", INIT, dict(ok, Host="other:8444"))[0] == 403
    assert gw.request("POST", INIT, dict(ok, Origin="https://app.example.com"))[0] == 200
    assert gw.request("POST", INIT, dict(ok, Origin="http://mybox.lan:8000"))[0] == 200
    assert gw.request("POST", INIT, dict(ok, Origin="https://evil.example.com"))[0] == 403
    stop_cleanly(proc)
    out = procs.start([bin_path("mcpbox-gateway"), "--data-dir", tmpdir_short,
                       "--http-port", str(free_port()), "--allowed-hosts", "bad host!"],
                      name="badconf")
    assert out.wait(timeout=10) == 2


def test_other_methods_are_405(gw):
    for method in ("PUT", "PATCH", "HEAD"):
        status, headers, _ = gw.request(method, None, {})
        assert status == 405, method
        assert headers["allow"] == "GET, POST, DELETE, OPTIONS"


# --- SSE -------------------------------------------------------------------------------------

class Stream:
    """A GET /mcp stream read on a raw socket."""

    def __init__(self, port, host, session, accept="text/event-stream", headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()).encode()
        self.sock.sendall(b"GET /mcp HTTP/1.1\r\nHost: " + host.encode() +
                          b"\r\nAccept: " + accept.encode() +
                          b"\r\nMcp-Session-Id: " + session.encode() + b"\r\n" +
                          extra + b"\r\n")
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in
                        (line.split(":", 1) for line in lines[1:] if ":" in line)}

    def read_until(self, marker, timeout=10):
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                chunk = None
            if chunk == b"":
                raise EOFError(self.buffer)
            if chunk:
                self.buffer += chunk
            if time.monotonic() > deadline:
                raise AssertionError(f"no {marker!r} in {self.buffer!r}")
        before, _, self.buffer = self.buffer.partition(marker)
        return before + marker

    def closed(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def test_sse_stream_headers_keepalive_and_rules(gw):
    session = gw.initialize()
    # Accept must list text/event-stream
    status, _, body = gw.request("GET", None, {"Mcp-Session-Id": session,
                                               "Accept": "application/json"})
    assert status == 406
    status, _, _ = gw.request("GET", None, {"Accept": "text/event-stream"})
    assert status == 400
    status, _, _ = gw.request("GET", None, {"Accept": "text/event-stream",
                                            "Mcp-Session-Id": "0" * 64})
    assert status == 404
    status, _, _ = gw.request("GET", None, {"Accept": "text/event-stream",
                                            "Mcp-Session-Id": session,
                                            "MCP-Protocol-Version": "2099-01-01"})
    assert status == 400

    stream = Stream(gw.port, gw.host, session)
    assert stream.status == 200
    assert stream.headers["content-type"] == "text/event-stream"
    assert stream.headers["cache-control"].startswith("no-cache")
    assert stream.headers["mcp-session-id"] == session
    assert "content-length" not in stream.headers
    started = time.monotonic()
    stream.read_until(b": keepalive\n\n", timeout=5)
    stream.read_until(b": keepalive\n\n", timeout=5)
    assert time.monotonic() - started < 4          # every second in this test
    # one stream per session
    status, _, body = gw.request("GET", None, {"Accept": "text/event-stream",
                                               "Mcp-Session-Id": session})
    assert status == 409
    # POSTs still work beside the stream
    assert gw.rpc(session, "ping")["result"] == {}
    # DELETE ends the session and closes its stream
    assert gw.request("DELETE", None, {"Mcp-Session-Id": session})[0] == 200
    assert stream.closed()
    stream.close()


def test_sse_stream_closed_by_the_client_frees_the_slot(gw):
    session = gw.initialize()
    first = Stream(gw.port, gw.host, session)
    assert first.status == 200
    first.close()
    wait_for(lambda: Stream(gw.port, gw.host, session).status == 200, timeout=5,
             what="a new stream after the first closed")


def test_gateway_with_open_streams_stops_cleanly(gw):
    streams = [Stream(gw.port, gw.host, gw.initialize()) for _ in range(3)]
    assert all(s.status == 200 for s in streams)
    log = stop_cleanly(gw.proc)
    assert "stopped" in log
    for s in streams:
        s.close()


# --- tools/list and tools/call with the stand-ins and the real executor ---------------------

# the management tools that must be there (the reference's names); the list a
# test counts with is the server's own (management()), so adding a tool does
# not touch this file
REQUIRED_MANAGEMENT = ["mcpbox_list_servers", "mcpbox_get_server", "mcpbox_create_server",
              "mcpbox_delete_server", "mcpbox_start_server", "mcpbox_stop_server",
              "mcpbox_get_server_modules", "mcpbox_list_tools", "mcpbox_get_tool",
              "mcpbox_create_tool", "mcpbox_update_tool", "mcpbox_delete_tool",
              "mcpbox_list_tool_versions", "mcpbox_rollback_tool", "mcpbox_test_code",
              "mcpbox_validate_code", "mcpbox_create_server_secret",
              "mcpbox_list_server_secrets", "mcpbox_request_publish", "mcpbox_request_module",
              "mcpbox_request_network_access", "mcpbox_get_tool_status",
              "mcpbox_list_pending_requests", "mcpbox_get_tool_logs"]


def management(system, session):
    """The management tools the gateway lists (mcpbox_*, never a server__tool)."""
    return [t["name"] for t in system.list_all(session)
            if t["name"].startswith("mcpbox_") and "__" not in t["name"]]

ADD_CODE = '''async def main(a: int, b: int = 2) -> dict:
    """Add two numbers."""
    return {"sum": a + b, "inputs": [a, b]}
'''
FAIL_CODE = '''async def main(x: str):
    y = 1
    raise ValueError("bad value: " + x)
'''
TEXT_CODE = '''async def main(name: str):
    return "hello " + name
'''


def test_tools_list_management_tools(system):
    session = system.initialize()
    tools = system.list_all(session)
    names = [t["name"] for t in tools]
    assert names == management(system, session)       # nothing else listed yet
    assert len(set(names)) == len(names)
    assert set(REQUIRED_MANAGEMENT) <= set(names), set(REQUIRED_MANAGEMENT) - set(names)
    for tool in tools:
        schema = tool["inputSchema"]
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert tool["description"]
        for required in schema.get("required", []):
            assert required in schema["properties"]
    assert not any("approve" in n or "reject" in n or "revoke" in n for n in names)


def test_tools_list_pagination_and_cursors(system):
    reg, appr = system.fakes.registry, system.fakes.approval
    sid = reg.add_server("bulk")
    for i in range(150):
        tid = reg.add_tool_unchecked(sid, f"t{i:03d}", f"async def main():\n    return {i}\n")
        appr.admin_approve(tid, event=False)
    # a tool that is not approved and one of a stopped server never show
    reg.add_tool_unchecked(sid, "unapproved", "async def main():\n    return 0\n")
    stopped = reg.add_server("stopped", status="stopped")
    appr.admin_approve(reg.add_tool_unchecked(stopped, "x", "async def main():\n    return 0\n"),
                       event=False)
    session = system.initialize()
    MANAGEMENT = management(system, session)
    first = system.rpc(session, "tools/list")["result"]
    assert len(first["tools"]) == 100
    cursor = first["nextCursor"]
    second = system.rpc(session, "tools/list", {"cursor": cursor})["result"]
    assert len(second["tools"]) == 150 + len(MANAGEMENT) - 100 and "nextCursor" not in second
    names = [t["name"] for t in first["tools"] + second["tools"]]
    assert names[:len(MANAGEMENT)] == MANAGEMENT
    assert names[len(MANAGEMENT):] == sorted(f"bulk__t{i:03d}" for i in range(150))
    # bad cursors
    for bad in ("nope", "0" * 32, "g" * 32, cursor + "0", 17):
        reply = system.rpc(session, "tools/list", {"cursor": bad})
        assert reply["error"]["code"] == -32602, bad
    # a cursor from before a change of the list is refused
    appr.admin_approve([t for t, v in reg.tools.items() if v["name"] == "unapproved"][0])
    wait_for(lambda: len(system.list_all(session)) == len(MANAGEMENT) + 151, what="list grew")
    reply = system.rpc(session, "tools/list", {"cursor": cursor})
    assert reply["error"]["code"] == -32602


def test_tools_call_rules_for_names_and_arguments(system):
    session = system.initialize()
    reply = system.rpc(session, "tools/call", {"name": "no_such_tool", "arguments": {}})
    assert reply["error"]["code"] == -32602
    reply = system.rpc(session, "tools/call", {"name": "srv__missing", "arguments": {}})
    assert reply["error"]["code"] == -32602
    reply = system.rpc(session, "tools/call", {"arguments": {}})
    assert reply["error"]["code"] == -32602
    reply = system.rpc(session, "tools/call", {"name": "mcpbox_list_servers", "arguments": [1]})
    assert reply["error"]["code"] == -32602
    # schema violations are tool errors, found before anything is sent
    before = len(system.fakes.registry_worker.requests)
    for arguments, fragment in (({"page": 0}, "page"), ({"page": "1"}, "expected integer"),
                                ({"nope": 1}, "unexpected property 'nope'"),
                                ({"page_size": 101}, "at most 100")):
        result = system.call(session, "mcpbox_list_servers", arguments)
        assert result["isError"] is True, arguments
        assert fragment in result["content"][0]["text"]
    result = system.call(session, "mcpbox_create_server", {})
    assert result["isError"] and "missing required property 'name'" in result["content"][0]["text"]
    assert len(system.fakes.registry_worker.requests) == before


def test_the_whole_flow_create_approve_start_call(system):
    fakes = system.fakes
    session = system.initialize()
    stream = Stream(system.port, system.host, session)
    assert stream.status == 200

    created = system.call(session, "mcpbox_create_server", {"name": "calc", "description": "math"})
    assert created["isError"] is False and created["structuredContent"]["success"] is True
    sid = created["structuredContent"]["id"]
    assert json.loads(created["content"][0]["text"]) == created["structuredContent"]
    # a duplicate is a tool error with the registry's message
    dup = system.call(session, "mcpbox_create_server", {"name": "calc"})
    assert dup["isError"] and "conflict" in dup["content"][0]["text"]

    tool = system.call(session, "mcpbox_create_tool",
                       {"server_id": sid, "name": "add", "python_code": ADD_CODE})
    assert tool["isError"] is False, tool
    tid = tool["structuredContent"]["id"]
    assert tool["structuredContent"]["status"] == "draft"
    create_req = fakes.registry_worker.sent("tool.create")[-1]
    assert create_req["created_by"] == "llm" and create_req["change_source"] == "llm"

    got = system.call(session, "mcpbox_get_tool", {"tool_id": tid})["structuredContent"]
    assert got["python_code"] == ADD_CODE and got["input_schema"]["required"] == ["a"]

    tested = system.call(session, "mcpbox_test_code",
                         {"tool_id": tid, "arguments": {"a": 40}})["structuredContent"]
    assert tested["success"] is True and tested["result"] == {"sum": 42, "inputs": [40, 2]}
    assert isinstance(tested["duration_ms"], int)
    bad_test = system.call(session, "mcpbox_test_code",
                           {"tool_id": tid, "arguments": {"b": 1}})["structuredContent"]
    assert bad_test["success"] is False and bad_test["error"]["type"] == "ValidationError"

    published = system.call(session, "mcpbox_request_publish", {"tool_id": tid, "notes": "pls"})
    assert published["structuredContent"]["status"] == "pending_review"
    status = system.call(session, "mcpbox_get_tool_status", {"tool_id": tid})
    assert status["structuredContent"]["approval_status"] == "pending_review"
    pending = system.call(session, "mcpbox_list_pending_requests")["structuredContent"]
    assert pending["summary"]["tools"] == 1

    # not callable yet: not approved, not started
    assert "calc__add" not in [t["name"] for t in system.list_all(session)]
    fakes.approval.admin_approve(tid)
    started = system.call(session, "mcpbox_start_server", {"server_id": sid})
    assert started["structuredContent"]["status"] == "running"
    assert started["structuredContent"]["registered_tools"] == 1
    stream.read_until(b'"method":"notifications/tools/list_changed"', timeout=10)

    tools = {t["name"]: t for t in system.list_all(session)}
    assert tools["calc__add"]["description"] == "Add two numbers."
    assert tools["calc__add"]["inputSchema"]["required"] == ["a"]

    result = system.call(session, "calc__add", {"a": 1, "b": 5})
    assert result["isError"] is False
    assert result["structuredContent"] == {"sum": 6, "inputs": [1, 5]}
    assert json.loads(result["content"][0]["text"]) == {"sum": 6, "inputs": [1, 5]}

    # invalid arguments never reach the sandbox
    bad = system.call(session, "calc__add", {"a": "one"})
    assert bad["isError"] and "arguments.a: expected integer, got string" in bad["content"][0]["text"]
    bad = system.call(session, "calc__add", {"b": 1})
    assert bad["isError"] and "missing required property 'a'" in bad["content"][0]["text"]

    server = system.call(session, "mcpbox_get_server", {"server_id": sid})["structuredContent"]
    assert server["name"] == "calc" and server["tool_count"] == 1
    assert server["tools"][0]["approval_status"] == "approved"
    assert server["allowed_hosts"] == []
    assert server["pending_requests"] == {"modules": [], "network": []}

    modreq = system.call(session, "mcpbox_request_module",
                         {"tool_id": tid, "module_name": "xml.etree.ElementTree",
                          "justification": "parse feeds"})["structuredContent"]
    assert modreq["success"] and modreq["status"] == "pending" and modreq["request_id"]
    netreq = system.call(session, "mcpbox_request_network_access",
                         {"tool_id": tid, "host": "API.Example.com.", "justification": "data"})
    assert netreq["structuredContent"]["host"] == "api.example.com"
    assert netreq["structuredContent"]["port"] is None
    server = system.call(session, "mcpbox_get_server", {"server_id": sid})["structuredContent"]
    assert len(server["pending_requests"]["modules"]) == 1
    assert len(server["pending_requests"]["network"]) == 1
    forbidden = system.call(session, "mcpbox_request_module",
                            {"tool_id": tid, "module_name": "os", "justification": "x"})
    assert forbidden["isError"] and "forbidden" in forbidden["content"][0]["text"]

    modules = system.call(session, "mcpbox_get_server_modules", {"server_id": sid})
    assert modules["structuredContent"]["is_custom_config"] is False
    fakes.approval.admin_approve_module(modreq["request_id"])
    # the approval.changed event (or at worst the 1 s age rule) refreshes the cache
    modules = wait_for(lambda: (lambda m: m if "xml.etree.ElementTree" in m["allowed_modules"]
                                else None)(system.call(session, "mcpbox_get_server_modules",
                                                       {"server_id": sid})["structuredContent"]),
                       timeout=3, what="module approval seen")
    assert modules["is_custom_config"] is True

    # new code has no approval: the tool disappears, the stream says so, and
    # the answer says it needs review
    updated = system.call(session, "mcpbox_update_tool",
                          {"tool_id": tid, "python_code": ADD_CODE.replace("a + b", "a + b + 0")})
    assert updated["structuredContent"]["changed"] is True
    assert updated["structuredContent"]["approval_status"] == "draft"
    assert "needs review" in updated["structuredContent"]["message"]
    assert "callable at once" not in updated["structuredContent"]["message"]
    stream.read_until(b"notifications/tools/list_changed", timeout=10)
    reply = system.rpc(session, "tools/call", {"name": "calc__add", "arguments": {"a": 1}})
    assert reply["error"]["code"] == -32602
    versions = system.call(session, "mcpbox_list_tool_versions", {"tool_id": tid})
    assert versions["structuredContent"]["total_versions"] == 2
    rolled = system.call(session, "mcpbox_rollback_tool", {"tool_id": tid, "version": 1})
    assert rolled["structuredContent"]["current_version"] == 3
    # version 3 has version 1's code, whose approval is still on record: the
    # answer says so instead of "approval was reset"
    assert rolled["structuredContent"]["approval_status"] == "approved"
    assert "callable at once" in rolled["structuredContent"]["message"], rolled
    assert "reset" not in rolled["structuredContent"]["message"]
    # and updating back to already-approved code says the same
    again = system.call(session, "mcpbox_update_tool",
                        {"tool_id": tid, "python_code": ADD_CODE.replace("a + b", "a + b + 0")})
    assert again["structuredContent"]["approval_status"] == "draft"
    again = system.call(session, "mcpbox_update_tool", {"tool_id": tid, "python_code": ADD_CODE})
    assert again["structuredContent"]["approval_status"] == "approved"
    assert "callable at once" in again["structuredContent"]["message"], again
    wait_for(lambda: "calc__add" in [t["name"] for t in system.list_all(session)],
             what="rolled-back code callable again")

    stopped = system.call(session, "mcpbox_stop_server", {"server_id": sid})
    assert stopped["structuredContent"]["status"] == "stopped"
    wait_for(lambda: "calc__add" not in [t["name"] for t in system.list_all(session)],
             timeout=3, what="stopped server's tool gone")
    stream.read_until(b"notifications/tools/list_changed", timeout=10)
    stream.close()


def test_user_tool_failures_and_text_results(system):
    reg, appr = system.fakes.registry, system.fakes.approval
    sid = reg.add_server("demo")
    checked = system.fakes.bus.call("sandbox", {"op": "validate", "code": FAIL_CODE})
    fail = reg.add_tool_unchecked(sid, "fail", FAIL_CODE, checked["input_schema"])
    checked = system.fakes.bus.call("sandbox", {"op": "validate", "code": TEXT_CODE})
    text = reg.add_tool_unchecked(sid, "hello", TEXT_CODE, checked["input_schema"])
    appr.admin_approve(fail)
    appr.admin_approve(text)
    session = system.initialize()
    MANAGEMENT = management(system, session)
    wait_for(lambda: len(system.list_all(session)) == len(MANAGEMENT) + 2, what="tools listed")
    result = system.call(session, "demo__fail", {"x": "zz"})
    assert result["isError"] is True
    assert result["content"][0]["text"] == "ValueError: bad value: zz (line 3)"
    result = system.call(session, "demo__hello", {"name": "you"})
    assert result["isError"] is False
    assert result["content"] == [{"type": "text", "text": "hello you"}]
    assert "structuredContent" not in result


NUL_CODE = """async def main() -> dict:
    return {"text": "a\\x00b", "list": ["\\x00"]}
"""


def test_a_result_holding_nul_reaches_the_client(system):
    """U+0000 in a tool's result is text like any other: the client gets it
    escaped as \\u0000, not 'the result could not be read'."""
    reg, appr = system.fakes.registry, system.fakes.approval
    sid = reg.add_server("demo")
    checked = system.fakes.bus.call("sandbox", {"op": "validate", "code": NUL_CODE})
    tool = reg.add_tool_unchecked(sid, "nul", NUL_CODE, checked["input_schema"])
    appr.admin_approve(tool)
    session = system.initialize()
    MANAGEMENT = management(system, session)
    wait_for(lambda: len(system.list_all(session)) == len(MANAGEMENT) + 1, what="tools listed")
    result = system.call(session, "demo__nul", {})
    assert result["isError"] is False, result
    assert json.loads(result["content"][0]["text"]) == {"text": "a\x00b", "list": ["\x00"]}


def test_revocation_holds_without_an_event(system):
    reg, appr = system.fakes.registry, system.fakes.approval
    sid = reg.add_server("rev")
    checked = system.fakes.bus.call("sandbox", {"op": "validate", "code": TEXT_CODE})
    tid = reg.add_tool_unchecked(sid, "hello", TEXT_CODE, checked["input_schema"])
    appr.admin_approve(tid)
    session = system.initialize()
    wait_for(lambda: system.call(session, "rev__hello", {"name": "a"})["isError"] is False,
             what="callable")
    appr.admin_revoke(tid, event=False)          # an event that got lost
    time.sleep(1.1)
    reply = system.rpc(session, "tools/call", {"name": "rev__hello", "arguments": {"name": "a"}})
    assert reply["error"]["code"] == -32602


def test_many_calls_in_flight(system):
    reg, appr = system.fakes.registry, system.fakes.approval
    sid = reg.add_server("par")
    code = "async def main(n: int):\n    return {'n': n}\n"
    checked = system.fakes.bus.call("sandbox", {"op": "validate", "code": code})
    appr.admin_approve(reg.add_tool_unchecked(sid, "echo", code, checked["input_schema"]))
    session = system.initialize()
    MANAGEMENT = management(system, session)
    wait_for(lambda: len(system.list_all(session)) == len(MANAGEMENT) + 1, what="tool listed")
    results = {}

    def one(n):
        results[n] = system.call(session, "par__echo", {"n": n}, timeout=60)
    threads = [threading.Thread(target=one, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert sorted(results) == list(range(16))
    assert all(results[n]["structuredContent"] == {"n": n} for n in range(16))


def test_internal_errors_do_not_leak(system):
    session = system.initialize()
    system.fakes.registry.fail_catalog = True
    reply = system.rpc(session, "tools/call", {"name": "x__y", "arguments": {}})
    text = json.dumps(reply)
    assert "/secret/path" not in text
    assert reply["result"]["isError"] is True
    # tools/list still answers (with what it has: the management tools)
    listed = [t["name"] for t in system.list_all(session)]
    system.fakes.registry.fail_catalog = False
    assert listed == management(system, session)


def test_validate_code_tool(system):
    session = system.initialize()
    ok = system.call(session, "mcpbox_validate_code", {"code": ADD_CODE})["structuredContent"]
    assert ok["valid"] is True and ok["has_main"] is True and ok["error"] is None
    assert [p["name"] for p in ok["parameters"]] == ["a", "b"]
    for code in ("async def helper():\n    pass\n", "def main(:\n", "x = ().__class__\n"):
        bad = system.call(session, "mcpbox_validate_code", {"code": code})["structuredContent"]
        assert bad["valid"] is False and bad["error"]["message"], code


def test_without_registry_a_call_fails_closed(procs, tmpdir_short):
    start_broker(procs, tmpdir_short)
    proc, port = start_gateway(procs, tmpdir_short)
    gw = Gateway(proc, port)
    session = gw.initialize()
    started = time.monotonic()
    result = gw.call(session, "srv__tool", {})
    assert result["isError"] is True and "catalog" in result["content"][0]["text"]
    assert time.monotonic() - started < 8
    result = gw.call(session, "mcpbox_list_servers")
    assert result["isError"] is True and "not available" in result["content"][0]["text"]
    stop_cleanly(proc)


# --- the same flow with the real registry and approval actors -------------------------

@pytest.fixture
def real_system(procs, tmpdir_short):
    """Broker, the real registry, approval and executor, and the gateway.
    Skipped while those actors do not serve the ops /mcp needs yet."""
    import subprocess
    from busclient import BusClient
    migrate = subprocess.run([bin_path("mcpbox"), "migrate", "--data-dir", tmpdir_short],
                             capture_output=True, text=True, timeout=30)
    if migrate.returncode != 0:
        pytest.skip(f"mcpbox migrate failed: {migrate.stderr[-300:]}")
    start_broker(procs, tmpdir_short)
    for name in ("mcpbox-registry", "mcpbox-approval", "mcpbox-executor", "mcpbox-credentials"):
        procs.start([bin_path(name), "--data-dir", tmpdir_short], name=name)
    bus = BusClient("ipc://" + os.path.join(tmpdir_short, "run", "bus"))
    for service, op in (("registry", "catalog"), ("approval", "effective")):
        reply = wait_for(lambda: (lambda r: r if r.get("ok") or r["error"]["code"] not in
                                  ("no_worker", "timeout") else None)(
                                      bus.call(service, {"op": op}, 2000)),
                         timeout=30, what=f"{service} {op}")
        if not reply.get("ok"):
            bus.close()
            pytest.skip(f"the real {service} does not serve {op} yet: {reply['error']}")
    proc, port = start_gateway(procs, tmpdir_short)
    gateway = Gateway(proc, port)
    gateway.bus = bus
    yield gateway
    if proc.poll() is None:
        stop_cleanly(proc)
    bus.close()


def test_flow_with_the_real_actors(real_system):
    gw = real_system
    session = gw.initialize()
    stream = Stream(gw.port, gw.host, session)
    server = gw.call(session, "mcpbox_create_server", {"name": "real", "description": "r"})
    assert server["isError"] is False, server
    sid = server["structuredContent"]["id"]
    tool = gw.call(session, "mcpbox_create_tool",
                   {"server_id": sid, "name": "add", "python_code": ADD_CODE})
    assert tool["isError"] is False, tool
    tid = tool["structuredContent"]["id"]
    tested = gw.call(session, "mcpbox_test_code", {"tool_id": tid, "arguments": {"a": 1}})
    assert tested["structuredContent"]["result"] == {"sum": 3, "inputs": [1, 2]}, tested
    published = gw.call(session, "mcpbox_request_publish", {"tool_id": tid})
    assert published["isError"] is False, published
    assert published["structuredContent"]["status"] == "pending_review"
    # the admin approves (over the bus, as the REST API will)
    reply = gw.bus.call("approval", {"op": "review.approve", "kind": "tool", "id": tid,
                                     "reviewed_by": "admin"})
    assert reply.get("ok"), reply
    started = gw.call(session, "mcpbox_start_server", {"server_id": sid})
    assert started["isError"] is False, started
    stream.read_until(b"notifications/tools/list_changed", timeout=10)
    wait_for(lambda: "real__add" in [t["name"] for t in gw.list_all(session)],
             timeout=5, what="real__add listed")
    result = gw.call(session, "real__add", {"a": 2, "b": 3})
    assert result["structuredContent"] == {"sum": 5, "inputs": [2, 3]}, result
    status = gw.call(session, "mcpbox_get_tool_status", {"tool_id": tid})
    assert status["structuredContent"]["approval_status"] == "approved"
    got = gw.call(session, "mcpbox_get_server", {"server_id": sid})["structuredContent"]
    assert got["tools"][0]["approval_status"] == "approved", got
    # a code change un-publishes it at once
    gw.call(session, "mcpbox_update_tool",
            {"tool_id": tid, "python_code": ADD_CODE.replace("a + b", "b + a")})
    wait_for(lambda: "real__add" not in [t["name"] for t in gw.list_all(session)],
             timeout=5, what="real__add gone after the code changed")
    stream.close()


def test_validate_code_reports_every_problem_against_the_servers_modules(system):
    """validate_code runs a call's checks with the server's own allowlist and
    lists every problem with its line, earliest first; a forbidden module is
    never suggested for mcpbox_request_module; has_main stays truthful."""
    session = system.initialize()
    sid = system.fakes.registry.add_server("tools")
    with system.fakes.approval.lock:
        system.fakes.approval.modules.append({"id": "m1", "server_id": sid, "tool_id": None,
                                              "module_name": "shlex", "status": "approved"})
        system.fakes.approval.changed()
    code = ("import shlex\n"
            "import random\n"
            "import os\n"
            "\n"
            "async def main(path: str):\n"
            "    data = open(path).read()\n"
            "    return eval(data)\n")
    out = system.call(session, "mcpbox_validate_code",
                      {"code": code, "server_id": sid})["structuredContent"]
    assert out["valid"] is False and out["has_main"] is True, out
    message = out["error"]["message"]
    lines = [int(n) for n in re.findall(r"^line (\d+):", message, re.M)]
    assert lines == [2, 3, 6, 7], message                   # shlex is this server's
    assert out["error"]["line"] == 2
    random_line = next(m for m in message.splitlines() if m.startswith("line 2:"))
    os_line = next(m for m in message.splitlines() if m.startswith("line 3:"))
    assert "mcpbox_request_module" in random_line
    assert "never available" in os_line and "mcpbox_request_module" not in os_line
    assert "'open' is not available" in message and "'eval' is not available" in message

    # without the server: shlex is not among the default modules
    out = system.call(session, "mcpbox_validate_code", {"code": code})["structuredContent"]
    lines = [int(n) for n in re.findall(r"^line (\d+):", out["error"]["message"], re.M)]
    assert lines == [1, 2, 3, 6, 7], out

    # no main, refused anyway: has_main is false and the missing main is a problem too
    out = system.call(session, "mcpbox_validate_code",
                      {"code": "import os\nasync def helper():\n    pass\n"})["structuredContent"]
    assert out["valid"] is False and out["has_main"] is False
    assert "async def main" in out["error"]["message"] and "line 1:" in out["error"]["message"]

    # a clean tool for this server
    out = system.call(session, "mcpbox_validate_code",
                      {"code": "import shlex\nasync def main(s: str):\n    return shlex.split(s)\n",
                       "server_id": sid})["structuredContent"]
    assert out["valid"] is True and out["error"] is None, out


def test_optional_parameters_accept_null_through_the_gateway(system):
    """Optional[X] / X | None: the schema from the sandbox is nullable, the
    gateway's schema check lets null through, the tool receives None."""
    session = system.initialize()
    sid = system.fakes.registry.add_server("opt")
    code = ("from typing import Optional\n"
            "async def main(limit: Optional[int] = None, name: str | None = None):\n"
            "    return {\"limit\": limit, \"name\": name}\n")
    tool = system.call(session, "mcpbox_create_tool",
                       {"server_id": sid, "name": "opt", "python_code": code})
    assert tool["isError"] is False, tool
    tid = tool["structuredContent"]["id"]
    system.fakes.approval.admin_approve(tid)
    wait_for(lambda: "opt__opt" in [t["name"] for t in system.list_all(session)],
             timeout=10, what="the tool listed")
    tools = {t["name"]: t for t in system.list_all(session)}
    props = tools["opt__opt"]["inputSchema"]["properties"]
    assert props["limit"]["type"] == ["integer", "null"] and props["name"]["type"] == ["string", "null"]
    result = system.call(session, "opt__opt", {"limit": None, "name": None})
    assert result["isError"] is False and result["structuredContent"] == {"limit": None, "name": None}, result
    result = system.call(session, "opt__opt", {"limit": 3})
    assert result["structuredContent"] == {"limit": 3, "name": None}, result
    bad = system.call(session, "opt__opt", {"limit": "x"})
    assert bad["isError"] and "expected integer or null" in bad["content"][0]["text"], bad
