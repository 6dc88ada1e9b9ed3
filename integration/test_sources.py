"""External MCP sources through a whole `mcpbox up` (the management tools, the
registry's source.* ops, the executor's `source` op, the admin API), against
sources on a test host with an address of its own (netns_host.py; the address
is approved by the admin as a private host — loopback stays unreachable):

- hostile sources (hostile_source.py: an oversized answer, an endless SSE
  stream sent as fast as it goes (one that trickles is bounded by time in
  test_source_client.py), malformed JSON-RPC, a redirect to loopback, one to the metadata
  address): discovery is refused with the reason, nothing is stored (no
  listing, no tool, tool_count 0; import says to discover first), the
  source's health shows the error (GET /api/servers/{id}/sources), the
  loopback listener is never reached, and MCPbox keeps answering;
- a source's fields are checked (scheme, oauth takes no secret, bearer/header need
  their secret and header names);
- a source on the legacy HTTP+SSE transport (server-everything in sse mode):
  added, discovered, imported, approved and called through MCPbox;
- a bearer credential kept as a server secret reaches the source, and when
  the source echoes it back the passthrough tool's result and its
  execution log show it redacted;
- a tool the source stops offering (hostile_source.py /shifting, whose list
  the test sets) is marked removed on rediscovery: not listed, a call is
  refused "removed at the source", the admin sees it (activity
  source.tool_removed once, `mcpbox tools show`, the server's page); when
  the source offers it again unchanged it is callable again at once, and
  when it comes back changed it needs approval again.
The server-everything flow with the official SDK client is in
integration/node/tests/external_sources.test.mjs.
"""
import json
import os
import socket
import sys
import urllib.request

import pytest

from api_client import api  # noqa: F401  (fixture)
from conftest import wait_for
from netns_host import LoopbackTrap, NetnsHost, netns_available

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 3003
SSE_PORT = 3002
NODE = os.path.join(HERE, "node", "node_modules", ".bin", "node")
EVERYTHING = os.path.join(HERE, "node", "node_modules", "@modelcontextprotocol",
                          "server-everything", "dist", "index.js")

pytestmark = pytest.mark.skipif(not netns_available(), reason="needs root and ip netns")


def _open(address, port):
    try:
        socket.create_connection((address, port), timeout=0.3).close()
        return True
    except OSError:
        return False


@pytest.fixture
def world(api):  # noqa: F811
    trap = LoopbackTrap()
    with NetnsHost("hs") as host:
        log = open(os.path.join(api.data_dir, "hostile.log"), "wb")
        host.popen([sys.executable, os.path.join(HERE, "hostile_source.py"), str(PORT),
                    str(trap.port)], stdout=log, stderr=log)
        if os.path.exists(EVERYTHING):
            host.popen([NODE, EVERYTHING, "sse"], env={**os.environ, "PORT": str(SSE_PORT)},
                       stdout=log, stderr=log)
            wait_for(lambda: _open(host.address, SSE_PORT), timeout=30, what="legacy SSE source")
        wait_for(lambda: _open(host.address, PORT), timeout=20, what="hostile source")
        server = api.manage("mcpbox_create_server", {"name": "nas"})
        # the admin allows the test host (every port)
        api.admin.ok("POST", f"/api/servers/{server['id']}/hosts",
                     {"host": host.address}, expect=201)
        try:
            yield api, host, trap, server["id"]
        finally:
            trap.close()
            log.close()


def error_text(result):
    assert result["isError"] is True, result
    return result["content"][0]["text"]


@pytest.mark.parametrize("path, words", [
    ("big", ["larger than 4 MB"]),
    ("firehose", ["larger than 4 MB"]),
    ("malformed", ["malformed JSON-RPC"]),
    ("redirect", ["redirect to 'http://127.0.0.1:"]),
    ("metadata", ["redirect to 'http://169.254.169.254/"]),
])
def test_hostile_source_is_refused_and_nothing_is_stored(world, path, words):
    s, host, trap, server_id = world
    source = s.manage("mcpbox_add_external_source", {
        "server_id": server_id, "name": path, "url": f"http://{host.address}:{PORT}/{path}"})
    text = error_text(s.call("mcpbox_discover_external_tools", {"source_id": source["source_id"]}))
    assert any(w in text for w in words), text
    assert trap.hits == 0
    health = s.admin.ok("GET", f"/api/servers/{server_id}/sources")["sources"][0]
    assert health["status"] == "error" and health["tool_count"] == 0, health
    assert any(w in health["last_error"] for w in words), health
    assert health["last_contact_at"] is None
    text = error_text(s.call("mcpbox_import_external_tools",
                             {"source_id": source["source_id"], "tool_names": ["anything"]}))
    assert "discover" in text
    assert s.manage("mcpbox_list_tools", {"server_id": server_id})["total"] == 0
    # MCPbox is unaffected
    assert s.rpc("ping")["result"] == {}
    assert s.cli("status").returncode == 0


def test_source_fields_are_checked(world):
    s, host, _, server_id = world
    base = {"server_id": server_id, "name": "x", "url": f"http://{host.address}:{PORT}/auth"}
    for extra, word in [({"url": "ftp://nas/mcp"}, "url"),
                        ({"url": "http://nas/a b"}, "url"),
                        ({"auth_type": "oauth", "auth_secret_name": "K"}, "auth_secret_name"),
                        ({"auth_type": "bearer"}, "auth_secret_name"),
                        ({"auth_type": "bearer", "auth_secret_name": "lower"}, "auth_secret_name"),
                        ({"auth_type": "header", "auth_secret_name": "K"}, "auth_header_name"),
                        ({"auth_type": "header", "auth_secret_name": "K",
                          "auth_header_name": "Mcp-Session-Id"}, "auth_header_name"),
                        ({"auth_secret_name": "K"}, "auth_secret_name")]:
        text = error_text(s.call("mcpbox_add_external_source", {**base, **extra}))
        assert word in text, (extra, text)
    s.manage("mcpbox_add_external_source", base)
    assert "already exists" in error_text(s.call("mcpbox_add_external_source", base))
    assert s.admin.ok("GET", f"/api/servers/{server_id}/sources")["total"] == 1
    status, body = s.admin.req("GET", "/api/servers/00000000-0000-4000-8000-000000000000/sources")
    assert status == 404 and body["error"]["code"], body


def test_bearer_credential_is_used_and_redacted(world):
    s, host, _, server_id = world
    s.manage("mcpbox_create_server_secret", {"server_id": server_id, "key": "NAS_TOKEN"})
    source = s.manage("mcpbox_add_external_source", {
        "server_id": server_id, "name": "auth", "url": f"http://{host.address}:{PORT}/auth",
        "auth_type": "bearer", "auth_secret_name": "NAS_TOKEN"})
    # no value yet: refused with the secret's name, nothing stored
    text = error_text(s.call("mcpbox_discover_external_tools", {"source_id": source["source_id"]}))
    assert "NAS_TOKEN" in text, text
    s.admin.ok("PUT", f"/api/servers/{server_id}/secrets/NAS_TOKEN", {"value": "tok-123"})
    found = s.manage("mcpbox_discover_external_tools", {"source_id": source["source_id"]})
    assert [t["name"] for t in found["tools"]] == ["whoami"]
    imported = s.manage("mcpbox_import_external_tools",
                        {"source_id": source["source_id"], "tool_names": ["whoami"]})
    tool_id = imported["imported_tools"][0]["id"]
    s.manage("mcpbox_request_publish", {"tool_id": tool_id})
    assert s.cli("approvals", "approve", "tool", tool_id).returncode == 0
    s.manage("mcpbox_start_server", {"server_id": server_id})
    wait_for(lambda: "nas__whoami" in s.listed(), what="nas__whoami listed")
    result = s.call("nas__whoami", {})
    assert result["isError"] is False, result
    assert result["content"][0]["text"] == "you sent Bearer [REDACTED]", result
    logs = wait_for(lambda: s.manage("mcpbox_get_tool_logs", {"tool_id": tool_id})["logs"],
                    what="the call's execution log")
    assert logs[0]["success"] is True
    assert "tok-123" not in json.dumps(logs), logs
    health = s.admin.ok("GET", f"/api/servers/{server_id}/sources")["sources"][0]
    assert health["status"] == "active" and health["last_contact_at"], health


@pytest.mark.skipif(not os.path.exists(EVERYTHING), reason="needs integration/node's npm packages")
def test_legacy_sse_source_end_to_end(world):
    s, host, _, server_id = world
    source = s.manage("mcpbox_add_external_source", {
        "server_id": server_id, "name": "legacy", "transport_type": "sse",
        "url": f"http://{host.address}:{SSE_PORT}/sse"})
    found = s.manage("mcpbox_discover_external_tools", {"source_id": source["source_id"]})
    assert "echo" in [t["name"] for t in found["tools"]], found
    imported = s.manage("mcpbox_import_external_tools",
                        {"source_id": source["source_id"], "tool_names": ["echo"]})
    tool_id = imported["imported_tools"][0]["id"]
    s.manage("mcpbox_request_publish", {"tool_id": tool_id})
    assert s.cli("approvals", "approve", "tool", tool_id).returncode == 0
    s.manage("mcpbox_start_server", {"server_id": server_id})
    wait_for(lambda: "nas__echo" in s.listed(), what="nas__echo listed")
    result = s.call("nas__echo", {"message": "over the legacy stream"})
    assert result["isError"] is False, result
    assert result["content"][0]["text"] == "Echo: over the legacy stream"
    row = s.admin.ok("GET", f"/api/servers/{server_id}/sources")["sources"][0]
    assert row["transport_type"] == "sse" and row["status"] == "active", row


def _offer(host, *tools):
    """What /shifting lists from now on: (name, description) pairs."""
    body = json.dumps({"tools": [{"name": n, "description": d, "inputSchema": {
        "type": "object", "properties": {}}} for n, d in tools]}).encode()
    request = urllib.request.Request(f"http://{host.address}:{PORT}/shifting-set", data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).read()


def _activities(s, kind):
    rows = s.admin.ok("GET", "/api/activity?limit=100")["activity"]
    return [r for r in rows if r["type"] == kind]


def test_a_tool_removed_at_the_source(world):
    s, host, _, server_id = world
    _offer(host, ("alpha", "A"), ("beta", "B"))
    source = s.manage("mcpbox_add_external_source", {
        "server_id": server_id, "name": "shifty", "url": f"http://{host.address}:{PORT}/shifting"})
    sid = source["source_id"]
    s.manage("mcpbox_discover_external_tools", {"source_id": sid})
    imported = s.manage("mcpbox_import_external_tools",
                        {"source_id": sid, "tool_names": ["alpha", "beta"]})
    ids = {t["name"]: t["id"] for t in imported["imported_tools"]}
    for tool_id in ids.values():
        s.manage("mcpbox_request_publish", {"tool_id": tool_id})
        assert s.cli("approvals", "approve", "tool", tool_id).returncode == 0
    s.manage("mcpbox_start_server", {"server_id": server_id})
    wait_for(lambda: {"nas__alpha", "nas__beta"} <= set(s.listed()), what="both listed")
    assert s.call("nas__beta", {})["content"][0]["text"] == "called beta"

    # the source stops offering beta
    _offer(host, ("alpha", "A"))
    found = s.manage("mcpbox_discover_external_tools", {"source_id": sid})
    assert found["removed_tools"] == ["beta"] and found["restored_tools"] == [], found
    assert "no longer offered" in found["message"], found
    wait_for(lambda: "nas__beta" not in s.listed(), what="beta unlisted")
    text = error_text(s.call("nas__beta", {}))
    assert "removed at the source" in text and "'shifty'" in text, text
    assert s.call("nas__alpha", {})["content"][0]["text"] == "called alpha"
    # the admin sees it: the activity, the CLI, the server's page
    gone = wait_for(lambda: _activities(s, "source.tool_removed"), what="source.tool_removed")
    assert len(gone) == 1 and gone[0]["details"]["tool_id"] == ids["beta"], gone
    shown = s.cli("tools", "show", ids["beta"])
    assert shown.returncode == 0 and "Removed:" in shown.stdout, shown.stdout
    tool = json.loads(s.cli("tools", "show", ids["beta"], "--json").stdout)["tool"]
    assert tool["removed_at"], tool
    page = {t["id"]: t for t in s.admin.ok("GET", f"/api/servers/{server_id}")["tools"]}
    assert page[ids["beta"]]["removed_at"] and page[ids["alpha"]]["removed_at"] is None, page
    # still gone on the next discovery: reported, not recorded again
    again = s.manage("mcpbox_discover_external_tools", {"source_id": sid})
    assert again["removed_tools"] == ["beta"], again

    # offered again, unchanged: callable again at once (its approval still holds)
    _offer(host, ("alpha", "A"), ("beta", "B"))
    back = s.manage("mcpbox_discover_external_tools", {"source_id": sid})
    assert [(t["id"], t["changed"]) for t in back["restored_tools"]] == [(ids["beta"], False)]
    assert back["removed_tools"] == [] and back["changed_tools"] == [], back
    wait_for(lambda: "nas__beta" in s.listed(), what="beta listed again")
    assert s.call("nas__beta", {})["content"][0]["text"] == "called beta"
    restored = wait_for(lambda: _activities(s, "source.tool_restored"),
                        what="source.tool_restored")
    assert restored[0]["details"]["changed"] is False, restored
    assert len(_activities(s, "source.tool_removed")) == 1    # not again on rediscovery

    # gone, then back changed: restored as a change that needs approval again
    _offer(host, ("alpha", "A"))
    s.manage("mcpbox_discover_external_tools", {"source_id": sid})
    wait_for(lambda: "nas__beta" not in s.listed(), what="beta unlisted again")
    _offer(host, ("alpha", "A"), ("beta", "B, changed"))
    back = s.manage("mcpbox_discover_external_tools", {"source_id": sid})
    assert [(t["id"], t["changed"]) for t in back["restored_tools"]] == [(ids["beta"], True)]
    assert [t["id"] for t in back["changed_tools"]] == [ids["beta"]], back
    reply = s.rpc("tools/call", {"name": "nas__beta", "arguments": {}})
    assert "removed at the source" not in json.dumps(reply), reply
    assert "nas__beta" not in s.listed()
    s.manage("mcpbox_request_publish", {"tool_id": ids["beta"]})
    assert s.cli("approvals", "approve", "tool", ids["beta"]).returncode == 0
    wait_for(lambda: "nas__beta" in s.listed(), what="changed beta listed once approved")
    assert s.call("nas__beta", {})["content"][0]["text"] == "called beta"
