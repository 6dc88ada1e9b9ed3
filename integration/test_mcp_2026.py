"""The 2026-07-28 generation of /mcp on the real mcpbox-gateway, beside the
2025 sessions: stateless requests (no Mcp-Session-Id is made), the 2026
refusals with their HTTP statuses, and subscriptions/listen streams — the
acknowledgement first, list_changed tagged with the subscription id, fed
by the same change as the 2025 GET streams, the filter honoured, keepalives,
and streams that clients drop (the gateway must neither crash nor write to
them; CI runs this under ASan).

The tool list is changed through the registry / approval stand-ins of
mcp_fakes.py, as in test_mcp_sse.py (its `listing` fixture).
"""
import json
import socket
import time

from test_mcp_http import ACCEPT, Stream
from test_mcp_sse import listing, next_event, open_stream  # noqa: F401 (fixture)

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "pytest-2026", "version": "1"},
}
SUB = "io.modelcontextprotocol/subscriptionId"


def post26(gw, method, params, rid=1, headers=None):
    h = {"Accept": ACCEPT, "Content-Type": "application/json",
         "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method}
    h.update(headers or {})
    status, head, body = gw.request("POST", {"jsonrpc": "2.0", "id": rid, "method": method,
                                             "params": params}, h)
    return status, head, json.loads(body)


class Listen(Stream):
    """A POST subscriptions/listen read on a raw socket."""

    def __init__(self, gw, notifications, rid="listen-1"):
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "subscriptions/listen",
                           "params": {"_meta": META, "notifications": notifications}}).encode()
        self.sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
        self.sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: " + gw.host.encode() +
                          b"\r\nAccept: " + ACCEPT.encode() +
                          b"\r\nContent-Type: application/json"
                          b"\r\nMCP-Protocol-Version: 2026-07-28"
                          b"\r\nMcp-Method: subscriptions/listen"
                          b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
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

    def message(self, timeout=10):
        return json.loads(next_event(self, timeout)["data"])


def test_requests_are_stateless_and_results_typed(listing):
    status, head, body = post26(listing, "server/discover", {"_meta": META})
    assert status == 200 and "mcp-session-id" not in head, (status, head)
    result = body["result"]
    assert result["supportedVersions"] == ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"]
    assert result["capabilities"] == {"tools": {"listChanged": True}, "logging": {}}
    assert result["resultType"] == "complete"
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcpbox"
    status, head, body = post26(listing, "tools/list", {"_meta": META}, rid="a")
    assert status == 200 and "mcp-session-id" not in head
    assert body["id"] == "a" and body["result"]["cacheScope"] == "private"
    assert 0 <= body["result"]["ttlMs"] <= 1000
    # a call without a session, answered like a 2025 one plus resultType
    status, _, body = post26(listing, "tools/call",
                             {"name": "mcpbox_list_servers", "arguments": {}, "_meta": META},
                             headers={"Mcp-Name": "mcpbox_list_servers"})
    assert status == 200 and body["result"]["resultType"] == "complete", body
    assert body["result"]["isError"] is False
    # the 2025 session of the fixture still works beside it
    assert listing.rpc(listing.probe_session, "tools/list")["result"]["tools"]


def test_refusals_carry_the_id_and_the_status(listing):
    cases = [
        ("server/discover", {}, {}, 400, -32602),
        ("server/discover", {"_meta": {**META, "io.modelcontextprotocol/protocolVersion": "v9"}},
         {"MCP-Protocol-Version": "v9"}, 400, -32022),
        ("server/discover", {"_meta": {**META, "io.modelcontextprotocol/protocolVersion": "v9"}},
         {}, 400, -32020),
        ("tools/list", {"_meta": META}, {"Mcp-Method": "tools/LIST"}, 400, -32020),
        ("tools/call", {"name": "mcpbox_list_servers", "_meta": META}, {}, 400, -32020),
        ("tools/call", {"name": "mcpbox_list_servers", "_meta": META},
         {"Mcp-Name": "=?base64?bWNwYm94X2xpc3Rfc2VydmVycw==?="}, 200, None),
        ("initialize", {"_meta": META}, {}, 404, -32601),
        ("ping", {"_meta": META}, {}, 404, -32601),
        ("resources/list", {"_meta": META}, {}, 404, -32601),
    ]
    for rid, (method, params, headers, status, code) in enumerate(cases, start=100):
        got, head, body = post26(listing, method, params, rid=rid, headers=headers)
        assert got == status and body["id"] == rid, (method, headers, got, body)
        assert "mcp-session-id" not in head
        if code is None:
            assert "result" in body, body
        else:
            assert body["error"]["code"] == code, (method, body)
    _, _, body = post26(listing, "server/discover",
                        {"_meta": {**META, "io.modelcontextprotocol/protocolVersion": "v9"}},
                        headers={"MCP-Protocol-Version": "v9"})
    assert body["error"]["data"] == {
        "supported": ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"], "requested": "v9"}


def test_listen_gets_the_change_the_2025_stream_gets(listing):
    legacy = open_stream(listing, listing.initialize())
    assert legacy.status == 200
    next_event(legacy)                                  # the priming event
    listen = Listen(listing, {"toolsListChanged": True, "promptsListChanged": True})
    assert listen.status == 200 and listen.headers["content-type"] == "text/event-stream"
    ack = listen.message()
    assert ack["method"] == "notifications/subscriptions/acknowledged", ack
    assert ack["params"] == {"notifications": {"toolsListChanged": True},
                             "_meta": {SUB: "listen-1"}}
    for _ in range(2):                                  # approve, then revoke
        listing.change()
        changed = listen.message()
        assert changed == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed",
                           "params": {"_meta": {SUB: "listen-1"}}}
        assert json.loads(next_event(legacy)["data"])["method"] == \
            "notifications/tools/list_changed"
    # keepalive comments keep the stream open (1 s in this fixture)
    before = getattr(listen, "comments", 0)
    deadline = time.monotonic() + 5
    while getattr(listen, "comments", 0) == before and time.monotonic() < deadline:
        try:
            next_event(listen, timeout=0.5)
        except AssertionError:
            pass
    assert getattr(listen, "comments", 0) > before


def test_the_filter_is_honoured(listing):
    listen = Listen(listing, {"promptsListChanged": True}, rid=9)
    ack = listen.message()
    assert ack["params"] == {"notifications": {}, "_meta": {SUB: 9}}
    watcher = Listen(listing, {"toolsListChanged": True}, rid=10)
    watcher.message()
    listing.change()
    assert watcher.message()["method"] == "notifications/tools/list_changed"
    # nothing but keepalives on the prompts-only stream
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        try:
            event = next_event(listen, timeout=0.5)
        except AssertionError:
            continue
        raise AssertionError(f"a prompts-only stream got {event}")


def test_dropped_listen_streams_are_forgotten(listing):
    """Clients that vanish (before and after their acknowledgement) do not
    take the gateway down, and later streams still get every change."""
    for i in range(20):
        gone = Listen(listing, {"toolsListChanged": True}, rid=i)
        if i % 2:
            gone.message()
        gone.sock.close()
    listing.change()
    survivor = Listen(listing, {"toolsListChanged": True}, rid="s")
    survivor.message()
    listing.change()
    assert survivor.message()["params"]["_meta"][SUB] == "s"
    survivor.sock.close()
    listing.change()
    assert listing.proc.poll() is None
    status, _, body = post26(listing, "server/discover", {"_meta": META})
    assert status == 200, body
