"""The gateway's remote listener (the port a tunnel forwards to) on a real
`mcpbox up`: only /mcp (and OAuth) there, every request with a credential;
service tokens made, used and revoked through the CLI; the local-only
management tools refused and hidden there unless the policy
remote_tool_editing is enabled (live); the activity record of a remote call
names its token; the local port unaffected."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from busclient import BusClient
from conftest import Procs, bin_path, free_port, proc_env, wait_for

ACCEPT = "application/json, text/event-stream"
LOCAL_ONLY = {"mcpbox_create_server", "mcpbox_delete_server",
              "mcpbox_create_tool", "mcpbox_update_tool", "mcpbox_delete_tool",
              "mcpbox_rollback_tool", "mcpbox_add_external_source",
              "mcpbox_import_external_tools"}


def mcpbox(data_dir, *args):
    return subprocess.run([bin_path("mcpbox"), *args, "--data-dir", data_dir],
                          capture_output=True, text=True, timeout=30, env=proc_env())


def request(port, method, path, body=None, headers=None, host=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        h = dict(headers or {})
        if host:
            h["Host"] = host
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def raw_request(port, text):
    """Bytes as sent (no client normalises the path); the status line's code."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(text.encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


class Mcp:
    """A 2025-11-25 MCP session over one port, with a bearer token or none."""

    def __init__(self, port, token=None):
        self.port, self.token = port, token
        status, headers, body = self.post({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "pytest-remote", "version": "1"}}})
        assert status == 200, (status, body)
        self.session = headers["mcp-session-id"]
        assert self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})[0] == 202

    def post(self, message):
        h = {"Accept": ACCEPT, "Content-Type": "application/json",
             "MCP-Protocol-Version": "2025-11-25"}
        if getattr(self, "session", None):
            h["Mcp-Session-Id"] = self.session
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        return request(self.port, "POST", "/mcp", message, h)

    def rpc(self, method, params=None):
        status, _, body = self.post({"jsonrpc": "2.0", "id": 7, "method": method,
                                     "params": params or {}})
        assert status == 200, (status, body)
        return json.loads(body)

    def listed(self):
        names, cursor = [], None
        while True:
            reply = self.rpc("tools/list", {"cursor": cursor} if cursor else {})
            names += [t["name"] for t in reply["result"]["tools"]]
            cursor = reply["result"].get("nextCursor")
            if not cursor:
                return names


@pytest.fixture(scope="module")
def system():
    # one system for the module; ipc:// paths must be short: a /tmp directory
    data_dir = tempfile.mkdtemp(prefix="mbrl", dir="/tmp")
    procs = Procs(data_dir)
    port, remote = free_port(), free_port()
    with open(os.path.join(data_dir, "mcpbox.conf"), "w") as f:
        f.write(f"remote_listen = 127.0.0.1:{remote}\n")
    up = procs.start([bin_path("mcpbox"), "up", "--data-dir", data_dir,
                      "--http-port", str(port)], name="up")

    def ready():
        assert up.poll() is None, "mcpbox up exited"
        return mcpbox(data_dir, "status").returncode == 0
    wait_for(ready, timeout=40, interval=0.2, what="mcpbox status exit 0")

    class S:
        pass
    s = S()
    s.data_dir, s.port, s.remote, s.up = data_dir, port, remote, up
    s.bus = BusClient("ipc://" + os.path.join(data_dir, "run", "bus"), 10000)
    yield s
    up.terminate()
    rc = up.wait(timeout=20)
    up.log_file.flush()
    with open(up.log_file.name, errors="replace") as f:
        log = f.read()
    procs.cleanup()
    shutil.rmtree(data_dir, ignore_errors=True)
    assert rc == 0, f"mcpbox up exited {rc} on SIGTERM:\n{log[-4000:]}"
    assert "Sanitizer" not in log, log[-4000:]


def create_token(system, name):
    r = mcpbox(system.data_dir, "tokens", "create", name)
    assert r.returncode == 0, r.stderr
    token = [w for w in r.stdout.split() if w.startswith("mcpbox_st_")]
    assert len(token) == 1, r.stdout
    return token[0]


def metadata_pointer(headers, port):
    return f'resource_metadata="http://127.0.0.1:{port}/.well-known/oauth-protected-resource"'


def test_no_credential_is_401_with_the_metadata_pointer(system):
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "x", "version": "1"}}}
    h = {"Accept": ACCEPT, "Content-Type": "application/json"}
    for extra in ({}, {"Authorization": "Basic YWRtaW46cGFzcw=="}):
        status, headers, body = request(system.remote, "POST", "/mcp", init, {**h, **extra})
        assert status == 401, body
        challenge = headers["www-authenticate"]
        assert challenge.startswith("Bearer ")
        assert metadata_pointer(headers, system.remote) in challenge
        assert "invalid_token" not in challenge
    for bad in ("Bearer", "Bearer a b", "Bearer \"x\"", "bearer " + "x" * 3000):
        status, headers, _ = request(system.remote, "POST", "/mcp", init, {**h, "Authorization": bad})
        assert status == 401, (bad[:20], status)
        assert metadata_pointer(headers, system.remote) in headers["www-authenticate"]
    # beyond the gateway's header bound (32 KB) answered 431, never served
    status, _, _ = request(system.remote, "POST", "/mcp", init,
                           {**h, "Authorization": "Bearer " + "x" * 40000})
    assert status == 431
    status, headers, _ = request(system.remote, "POST", "/mcp", init,
                                 {**h, "Authorization": "Bearer mcpbox_st_" + "A" * 43})
    assert status == 401
    assert 'error="invalid_token"' in headers["www-authenticate"]
    # a GET stream and a DELETE need one too
    for method in ("GET", "DELETE"):
        assert request(system.remote, method, "/mcp", None,
                       {"Accept": "text/event-stream"})[0] == 401


def test_only_mcp_is_served_there(system):
    token = create_token(system, "paths")
    auth = {"Authorization": f"Bearer {token}"}
    for method, path in (("GET", "/api/auth/me"), ("GET", "/api/tools"), ("POST", "/api/auth/login"),
                         ("GET", "/health"), ("GET", "/"), ("GET", "/index.html"),
                         ("GET", "/style.css"), ("GET", "/app/main.js"), ("GET", "/mcp/"),
                         ("GET", "/mcpx"), ("GET", "/ws")):
        status, _, _ = request(system.remote, method, path, None, auth)
        assert status == 404, (method, path, status)
    # a websocket upgrade at /ws is answered 404 as plain HTTP, not upgraded
    status, headers, _ = request(system.remote, "GET", "/ws", None, {
        **auth, "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"})
    assert status == 404
    for path in ("/%2e%2e/api/auth/me", "/mcp/..%2fapi/tools", "/%61pi/tools",
                 "/./api/tools", "/mcp/../api/tools", "/.%2e/web/index.html"):
        assert raw_request(system.remote, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Authorization: Bearer {token}\r\n\r\n") == 404, path
    # the same paths on the local port are still served
    assert request(system.port, "GET", "/health")[0] == 200
    assert request(system.port, "GET", "/index.html")[0] == 200
    assert request(system.port, "GET", "/api/auth/me")[0] == 401


def test_a_token_works_and_a_revoked_one_is_401(system):
    token = create_token(system, "phone")
    listed = mcpbox(system.data_dir, "tokens", "list", "--json")
    assert listed.returncode == 0
    names = {t["name"]: t for t in json.loads(listed.stdout)["tokens"]}
    assert "phone" in names and token not in listed.stdout
    assert mcpbox(system.data_dir, "tokens", "create", "phone").returncode == 1  # live name
    mcp = Mcp(system.remote, token)
    assert "mcpbox_list_servers" in mcp.listed()
    reply = mcp.rpc("tools/call", {"name": "mcpbox_list_servers", "arguments": {}})
    assert reply["result"]["isError"] is False
    # a wrong Host is refused before anything else
    status, _, _ = request(system.remote, "POST", "/mcp", {"jsonrpc": "2.0", "id": 1,
                           "method": "ping"}, {"Authorization": f"Bearer {token}"},
                           host="evil.example")
    assert status == 403
    # last use recorded
    listed = json.loads(mcpbox(system.data_dir, "tokens", "list", "--json").stdout)
    assert [t for t in listed["tokens"] if t["name"] == "phone"][0]["last_used_at"]
    r = mcpbox(system.data_dir, "tokens", "revoke", "phone")
    assert r.returncode == 0, r.stderr
    status, headers, _ = mcp.post({"jsonrpc": "2.0", "id": 8, "method": "ping"})
    assert status == 401 and 'error="invalid_token"' in headers["www-authenticate"]
    assert mcpbox(system.data_dir, "tokens", "revoke", "phone").returncode == 1
    every = json.loads(mcpbox(system.data_dir, "tokens", "list", "--all", "--json").stdout)
    assert [t for t in every["tokens"] if t["name"] == "phone"][0]["revoked_at"]
    # the name can be used again, with a new token; revoke by id
    again = create_token(system, "phone")
    assert again != token
    Mcp(system.remote, again)
    live = json.loads(mcpbox(system.data_dir, "tokens", "list", "--json").stdout)
    ident = [t for t in live["tokens"] if t["name"] == "phone"][0]["id"]
    assert mcpbox(system.data_dir, "tokens", "revoke", str(ident)).returncode == 0
    probe = Mcp.__new__(Mcp)         # a client that never initialized
    probe.port, probe.token, probe.session = system.remote, again, None
    assert probe.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})[0] == 401


def test_the_local_port_needs_no_token(system):
    mcp = Mcp(system.port)
    assert LOCAL_ONLY <= set(mcp.listed())


def activity(system, type_prefix):
    reply = system.bus.call("logs", {"op": "activity.query", "type_prefix": type_prefix,
                                     "limit": 200})
    assert reply["ok"], reply
    return reply["activity"]


def test_local_only_tools_are_refused_and_hidden_until_the_policy_allows(system):
    token = create_token(system, "assistant")
    remote, local = Mcp(system.remote, token), Mcp(system.port)
    assert mcpbox(system.data_dir, "policy", "set", "remote_tool_editing",
                  "disabled").returncode == 0
    names = set(remote.listed())
    assert not names & LOCAL_ONLY, names & LOCAL_ONLY
    assert {"mcpbox_list_servers", "mcpbox_test_code", "mcpbox_request_publish"} <= names
    assert LOCAL_ONLY <= set(local.listed())           # the local port lists them all
    # the 2026 era (stateless) follows the same policy
    status, _, body = request(system.remote, "POST", "/mcp", {
        "jsonrpc": "2.0", "id": 3, "method": "tools/list",
        "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                             "io.modelcontextprotocol/clientCapabilities": {},
                             "io.modelcontextprotocol/clientInfo": {"name": "p", "version": "1"}}}},
        {"Accept": ACCEPT, "Content-Type": "application/json",
         "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list",
         "Authorization": f"Bearer {token}"})
    assert status == 200, body
    listed26 = {t["name"] for t in json.loads(body)["result"]["tools"]}
    assert "mcpbox_list_servers" in listed26 and not listed26 & LOCAL_ONLY
    for tool in sorted(LOCAL_ONLY):
        reply = remote.rpc("tools/call", {"name": tool, "arguments": {"name": "nope"}})
        assert reply["error"]["code"] == -32602, (tool, reply)
        assert "remote_tool_editing" in reply["error"]["message"]
    # nothing was made: the local port sees no server
    servers = local.rpc("tools/call", {"name": "mcpbox_list_servers", "arguments": {}})
    assert servers["result"]["structuredContent"]["total"] == 0
    refused = wait_for(lambda: [a for a in activity(system, "remote.tool_refused")
                                if a["details"]["tool"] == "mcpbox_create_server"],
                       what="remote.tool_refused activity")
    assert refused[0]["details"]["caller"] == "assistant"
    assert refused[0]["level"] == "warning" and "assistant" in refused[0]["message"]

    # the policy changes: applied live, no restart
    assert mcpbox(system.data_dir, "policy", "set", "remote_tool_editing",
                  "enabled").returncode == 0
    wait_for(lambda: LOCAL_ONLY <= set(remote.listed()), timeout=5, what="tools listed remotely")
    made = remote.rpc("tools/call", {"name": "mcpbox_create_server",
                                     "arguments": {"name": "from_phone"}})
    assert made["result"]["isError"] is False, made
    called = wait_for(lambda: [a for a in activity(system, "remote.tool_called")
                               if a["details"]["tool"] == "mcpbox_create_server"],
                      what="remote.tool_called activity")
    assert called[0]["details"]["caller"] == "assistant"
    assert called[0]["details"]["caller_kind"] == "service_token"
    # a plain read is recorded too, with the token's name
    remote.rpc("tools/call", {"name": "mcpbox_list_servers", "arguments": {}})
    wait_for(lambda: [a for a in activity(system, "remote.tool_called")
                      if a["details"]["tool"] == "mcpbox_list_servers"
                      and a["details"]["caller"] == "assistant"],
             what="activity of a remote read")
    # and back: hidden and refused again
    assert mcpbox(system.data_dir, "policy", "set", "remote_tool_editing",
                  "disabled").returncode == 0
    wait_for(lambda: not set(remote.listed()) & LOCAL_ONLY, timeout=5, what="tools hidden")
    reply = remote.rpc("tools/call", {"name": "mcpbox_delete_server",
                                      "arguments": {"server_id": made["result"]
                                                    ["structuredContent"]["id"]}})
    assert reply["error"]["code"] == -32602


def test_public_url_names_the_metadata_and_the_allowed_host(system):
    """A second gateway on the same system, with remote_public_url set (the
    address a tunnel publishes): the 401 points at that URL's metadata and its
    host is allowed there; another Host is 403."""
    procs = Procs(system.data_dir)
    try:
        port, remote = free_port(), free_port()
        gw = procs.start([bin_path("mcpbox-gateway"), "--data-dir", system.data_dir,
                          "--http-port", str(port), "--remote-listen", f"127.0.0.1:{remote}",
                          "--remote-public-url", "https://MCP.Example.com/"], name="gw-public")

        def listening():
            assert gw.poll() is None, "gateway exited"
            try:
                return request(remote, "GET", "/")[0] == 404
            except OSError:
                return False
        wait_for(listening, what="second gateway's remote listener")
        h = {"Accept": ACCEPT, "Content-Type": "application/json"}
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        status, headers, _ = request(remote, "POST", "/mcp", ping, h,
                                     host="mcp.example.com")
        assert status == 401
        assert headers["www-authenticate"] == ('Bearer resource_metadata="https://mcp.example.com'
                                               '/.well-known/oauth-protected-resource"')
        assert request(remote, "POST", "/mcp", ping, h, host="evil.example")[0] == 403
        assert request(remote, "POST", "/mcp", ping, h, host="mcp.example.com.evil.example")[0] == 403
        token = create_token(system, "public")
        status, _, body = request(remote, "POST", "/mcp", {
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "x", "version": "1"}}},
            {**h, "Authorization": f"Bearer {token}", "Origin": "https://mcp.example.com"},
            host="mcp.example.com")
        assert status == 200, body
        # a browser Origin of another site is refused (no CORS for it)
        status, _, _ = request(remote, "POST", "/mcp", ping,
                               {**h, "Authorization": f"Bearer {token}",
                                "Origin": "https://evil.example"}, host="mcp.example.com")
        assert status == 403
        # a malformed public URL is a configuration error: exit 2
        bad = subprocess.run([bin_path("mcpbox-gateway"), "--data-dir", system.data_dir,
                              "--http-port", str(free_port()), "--remote-public-url",
                              "https://user@mcp.example.com/path"],
                             capture_output=True, text=True, timeout=20, env=proc_env())
        assert bad.returncode == 2, bad.stderr
        assert "remote_public_url" in bad.stderr
    finally:
        procs.cleanup()


def test_sse_stream_and_delete_over_the_remote_listener(system):
    token = create_token(system, "stream")
    mcp = Mcp(system.remote, token)
    conn = http.client.HTTPConnection("127.0.0.1", system.remote, timeout=10)
    try:
        conn.request("GET", "/mcp", headers={
            "Accept": "text/event-stream", "Mcp-Session-Id": mcp.session,
            "MCP-Protocol-Version": "2025-11-25", "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Content-Type").startswith("text/event-stream")
        # a tools/list_changed pushed on this stream when the policy changes
        assert mcpbox(system.data_dir, "policy", "set", "remote_tool_editing",
                      "enabled").returncode == 0
        line = b""
        while b"list_changed" not in line:
            line = resp.fp.readline()
            assert line, "stream closed"
    finally:
        conn.close()
        mcpbox(system.data_dir, "policy", "set", "remote_tool_editing", "disabled")
    # without the token the stream is refused
    status, _, _ = request(system.remote, "GET", "/mcp", None, {
        "Accept": "text/event-stream", "Mcp-Session-Id": mcp.session})
    assert status == 401
    status, _, _ = request(system.remote, "DELETE", "/mcp", None, {
        "Mcp-Session-Id": mcp.session, "Authorization": f"Bearer {token}"})
    assert status == 200
    assert mcp.post({"jsonrpc": "2.0", "id": 2, "method": "ping"})[0] == 404


def test_a_session_belongs_to_the_credential_that_opened_it(system):
    one, two = create_token(system, "owner-one"), create_token(system, "owner-two")
    mine = Mcp(system.remote, one)
    assert "result" in mine.rpc("ping")
    ping = {"jsonrpc": "2.0", "id": 5, "method": "ping"}
    h = {"Accept": ACCEPT, "Content-Type": "application/json",
         "MCP-Protocol-Version": "2025-11-25", "Mcp-Session-Id": mine.session}
    # another token, or the local port, cannot continue it
    assert request(system.remote, "POST", "/mcp", ping,
                   {**h, "Authorization": f"Bearer {two}"})[0] == 404
    assert request(system.port, "POST", "/mcp", ping, h)[0] == 404
    assert request(system.remote, "DELETE", "/mcp", None,
                   {**h, "Authorization": f"Bearer {two}"})[0] == 404
    assert "result" in mine.rpc("ping")            # still the owner's
    # nor can a token take over a local session
    local = Mcp(system.port)
    assert request(system.remote, "POST", "/mcp", ping,
                   {**h, "Mcp-Session-Id": local.session,
                    "Authorization": f"Bearer {one}"})[0] == 404
    assert "result" in local.rpc("ping")


def test_bodies_sent_before_the_credential_is_checked_are_kept(system):
    """The body arrives while credentials is asked: chunked, and in pieces."""
    token = create_token(system, "bodies")
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                  "clientInfo": {"name": "chunky", "version": "1"}}}).encode()
    head = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Accept: application/json, text/event-stream\r\nConnection: close\r\n"
            f"Authorization: Bearer {token}\r\n").encode()
    half = len(body) // 2
    chunked = (head + b"Transfer-Encoding: chunked\r\n\r\n"
               + b"%x\r\n" % half + body[:half] + b"\r\n"
               + b"%x\r\n" % (len(body) - half) + body[half:] + b"\r\n0\r\n\r\n")
    plain = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    for raw in (chunked, plain):
        with socket.create_connection(("127.0.0.1", system.remote), timeout=10) as s:
            s.sendall(raw[:len(raw) - 40])
            time.sleep(0.05)
            s.sendall(raw[len(raw) - 40:])
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        assert data.startswith(b"HTTP/1.1 200"), data[:300]
        assert b"mcp-session-id" in data.lower() and b'"protocolVersion"' in data
    # a declared body far over the bound is refused at once, as on the local port
    big = head + b"Content-Length: %d\r\n\r\n" % (17 << 20)
    with socket.create_connection(("127.0.0.1", system.remote), timeout=10) as s:
        s.sendall(big)
        first = s.recv(200)
    assert first.startswith(b"HTTP/1.1 413"), first
