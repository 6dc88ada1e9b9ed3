"""The gateway's side of external sources' OAuth (actors/gateway/
source_oauth_routes.c, docs/DESIGN.md section 14) on a real `mcpbox up`, with
sources on a test host with an address of its own (netns_host.py), approved
as a private host. The whole authorize → callback → call → refresh cycle is
integration/test_source_oauth.py; here:

- the callback page is inert: the authorization server's `error` shown
  escaped, no script, CSP default-src 'none', 400 for missing or forged
  parameters, GET only, and not served on the remote listener;
- GET /api/servers/{id}/sources carries an oauth source's state;
- POST /api/sources/{id}/authorize: the authorization URL (RFC 7591
  registration at the SDK's authorization server), refused without the
  admin's session or CSRF token, for a source that is not oauth, or unknown;
- a source that sends the token back: the OAuth access token is redacted
  from the call's result and its execution log;
- an authorization server that registers MCPbox as a confidential client
  (client_secret_post, client_secret_basic): the code exchange and every
  refresh authenticate the way it was registered;
- a Client ID Metadata Document: with source_oauth_client_metadata_url set,
  the gateway serves MCPbox's document at that path (both listeners) and an
  authorization server that supports them gets that URL as client_id, with
  no registration request.
"""
import http.client
import json
import os
import urllib.request
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from api_client import api  # noqa: F401  (fixture)
from conftest import free_port, wait_for
from netns_host import NetnsHost, netns_available

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = os.path.join(HERE, "node", "node_modules", ".bin", "node")
CIMD_SOURCE = os.path.join(HERE, "node", "lib", "oauth_source.mjs")      # advertises CIMD
DCR_SOURCE = os.path.join(HERE, "node", "lib", "oauth_mcp_server.mjs")   # a real AS, RFC 7591
CIMD_URL = "https://mcpbox.example/sources/oauth/client.json"
CALLBACK = "/sources/oauth/callback"
CONFIDENTIAL = {3014: "client_secret_post", 3016: "client_secret_basic"}   # port: method

pytestmark = pytest.mark.skipif(
    not netns_available() or not os.path.exists(NODE),
    reason="needs root, ip netns and integration/node's npm packages")


def get(port, path, method="GET"):
    """(status, lower-cased headers, body text) from 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return (resp.status, {k.lower(): v for k, v in resp.getheaders()},
                resp.read().decode(errors="replace"))
    finally:
        conn.close()


def _listening(address, port, path):
    try:
        conn = http.client.HTTPConnection(address, port, timeout=1)
        conn.request("GET", path)
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


@pytest.fixture
def world(request, tmpdir_short):
    remote_port = free_port()
    with open(os.path.join(tmpdir_short, "mcpbox.conf"), "w") as f:
        f.write(f"source_oauth_client_metadata_url = {CIMD_URL}\n"
                f"remote_listen = 127.0.0.1:{remote_port}\n")
    s = request.getfixturevalue("api")
    s.remote_port = remote_port
    with NetnsHost("oc") as host:
        log = open(os.path.join(tmpdir_short, "sources.log"), "wb")
        host.popen([NODE, CIMD_SOURCE, "3004", host.address], stdout=log, stderr=log)
        host.popen([NODE, DCR_SOURCE, "--address", host.address, "--port", "3010",
                    "--as-port", "3011"], stdout=log, stderr=log)
        host.popen([NODE, DCR_SOURCE, "--address", host.address, "--port", "3012",
                    "--as-port", "3013", "--echo-token"], stdout=log, stderr=log)
        for port, method in CONFIDENTIAL.items():
            host.popen([NODE, DCR_SOURCE, "--address", host.address, "--port", str(port),
                        "--as-port", str(port + 1), "--access-ttl", "30",
                        "--client-auth", method], stdout=log, stderr=log)
        wait_for(lambda: _listening(host.address, 3004,
                                    "/.well-known/oauth-authorization-server")
                 and _listening(host.address, 3010, "/_test/status")
                 and _listening(host.address, 3012, "/_test/status")
                 and all(_listening(host.address, p, "/_test/status") for p in CONFIDENTIAL),
                 timeout=30, what="the OAuth sources")
        server = s.manage("mcpbox_create_server", {"name": "oc"})
        s.admin.ok("POST", f"/api/servers/{server['id']}/hosts", {"host": host.address},
                   expect=201)
        try:
            yield s, host, server["id"]
        finally:
            log.close()


def add_source(s, server_id, name, url, auth="oauth"):
    return s.manage("mcpbox_add_external_source", {
        "server_id": server_id, "name": name, "url": url, "auth_type": auth})["source_id"]


def test_callback_page_is_inert(world):
    s, _, _ = world
    evil = "<script>alert(1)</script>\"'&"
    status, headers, body = get(s.port, CALLBACK + "?" + urlencode(
        {"error": "access_denied", "error_description": evil, "state": "x"}))
    assert status == 400, body
    assert headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert "access_denied" in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body, body
    assert "<script" not in body.lower() and "&quot;&#39;&amp;" in body, body
    # missing or forged parameters
    for query in ("", "?code=abc", "?state=abc", "?code=abc&state=not-a-source.xyz",
                  "?code=abc&state=" + "a" * 3000, "?code=a&code=b&state=c"):
        status, _, body = get(s.port, CALLBACK + query)
        assert 400 <= status < 500 and "<script" not in body.lower(), (query, status, body)
    # past the gateway's request-line bound the connection is refused outright
    try:
        status = get(s.port, CALLBACK + "?code=abc&state=" + "a" * 5000)[0]
    except (http.client.RemoteDisconnected, ConnectionResetError):
        status = 431
    assert 400 <= status < 500
    # an unknown source named by a well-formed state
    status, _, body = get(s.port, CALLBACK + "?code=abc&state=0b5e7c2a-1d2f-4a3b-9c8d-"
                          "7e6f5a4b3c2d." + "A" * 43)
    assert status == 404 and "Not authorized" in body, (status, body)
    status, headers, _ = get(s.port, CALLBACK + "?code=a&state=b", method="POST")
    assert status == 405 and headers.get("allow") == "GET"
    # the remote listener (what a tunnel exposes) does not serve it
    wait_for(lambda: _listening("127.0.0.1", s.remote_port, "/.well-known/"
                                "oauth-authorization-server"), timeout=10,
             what="the remote listener")
    status, _, _ = get(s.remote_port, CALLBACK + "?code=a&state=b")
    assert status == 404


def test_api_authorize_registers_and_refuses(world):
    s, host, server_id = world
    source_id = add_source(s, server_id, "dcr", f"http://{host.address}:3010/mcp")
    path = f"/api/sources/{source_id}/authorize"
    # the admin's session and CSRF token are required
    assert s.http.request("POST", path, {})[0] == 401
    assert s.admin.req("POST", path, {}, csrf=False)[0] == 403
    answer = s.admin.ok("POST", path, {})
    assert answer["registration"] == "dynamic", answer
    url = urlparse(answer["authorization_url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"http://{host.address}:3011/authorize"
    assert query["redirect_uri"] == answer["redirect_uri"] == \
        f"http://127.0.0.1:{s.port}{CALLBACK}"
    assert query["resource"] == f"http://{host.address}:3010/mcp"
    assert query["state"].startswith(source_id + ".")
    conn = http.client.HTTPConnection(host.address, 3010, timeout=10)
    conn.request("GET", "/_test/status")
    seen = json.loads(conn.getresponse().read())
    conn.close()
    assert seen["registrations"] == 1 and seen["clients"][0]["client_id"] == query["client_id"]
    row = [r for r in json.loads(s.cli("sources", "list", "--json").stdout)["sources"]
           if r["id"] == source_id][0]
    assert row["oauth"]["state"] == "pending", row
    # not an oauth source; an unknown one; a body it does not take
    plain = add_source(s, server_id, "plain", f"http://{host.address}:3010/mcp", auth="none")
    # the dashboard's list carries the OAuth state of oauth sources only
    listed = s.admin.ok("GET", f"/api/servers/{server_id}/sources")
    rows = {r["id"]: r for r in listed["sources"]}
    assert rows[source_id]["oauth"]["state"] == "pending", rows
    assert "oauth" not in rows[plain] and "ok" not in listed, listed
    status, body = s.admin.req("POST", f"/api/sources/{plain}/authorize", {})
    assert status == 400 and "OAuth" in body["error"]["message"], body
    status, body = s.admin.req("POST", "/api/sources/0b5e7c2a-1d2f-4a3b-9c8d-7e6f5a4b3c2d"
                               "/authorize", {})
    assert status == 404, body
    status, body = s.admin.req("POST", path, {"scope": "x"})
    assert status == 400, body


def test_client_id_metadata_document(world):
    s, host, server_id = world
    doc_path = urlparse(CIMD_URL).path
    for port in (s.port, s.remote_port):
        status, headers, body = get(port, doc_path)
        assert status == 200, (port, status, body)
        doc = json.loads(body)
        assert doc["client_id"] == CIMD_URL
        assert doc["redirect_uris"] == [f"http://127.0.0.1:{s.port}{CALLBACK}"]
        assert doc["token_endpoint_auth_method"] == "none"
        assert doc["grant_types"] == ["authorization_code", "refresh_token"]
    source_id = add_source(s, server_id, "cimd", f"http://{host.address}:3004/mcp")
    r = s.cli("sources", "authorize", source_id, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    answer = json.loads(r.stdout)
    assert answer["registration"] == "client_id_metadata_document", answer
    query = {k: v[0] for k, v in parse_qs(urlparse(answer["authorization_url"]).query).items()}
    assert query["client_id"] == CIMD_URL
    assert query["code_challenge_method"] == "S256"
    assert query["scope"] == "mcp"           # the resource's scopes_supported
    # the human form says what to do
    r = s.cli("sources", "authorize", source_id)
    assert r.returncode == 0 and "Open this URL" in r.stdout and CALLBACK in r.stdout, r.stdout


def test_token_sent_back_by_the_source_is_redacted(world):
    s, host, server_id = world
    source_id = add_source(s, server_id, "echo", f"http://{host.address}:3012/mcp")
    r = s.cli("sources", "authorize", source_id, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    url = json.loads(r.stdout)["authorization_url"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as landed:        # the AS redirects to the callback
        assert landed.status == 200 and "Source authorized" in landed.read().decode()
    found = s.manage("mcpbox_discover_external_tools", {"source_id": source_id})
    assert "echo_token" in [t["name"] for t in found["tools"]], found
    imported = s.manage("mcpbox_import_external_tools",
                        {"source_id": source_id, "tool_names": ["echo_token"]})
    tool_id = imported["imported_tools"][0]["id"]
    s.manage("mcpbox_request_publish", {"tool_id": tool_id})
    assert s.cli("approvals", "approve", "tool", tool_id).returncode == 0
    s.manage("mcpbox_start_server", {"server_id": server_id})
    wait_for(lambda: "oc__echo_token" in s.listed(), what="oc__echo_token listed")
    result = s.call("oc__echo_token", {})
    assert result["isError"] is False, result
    assert result["content"][0]["text"] == "you sent Bearer [REDACTED]", result
    conn = http.client.HTTPConnection(host.address, 3012, timeout=10)
    conn.request("GET", "/_test/status")
    issued = json.loads(conn.getresponse().read())["issued"]
    conn.close()
    tokens = issued["access"] + issued["refresh"]
    assert tokens
    logs = wait_for(lambda: s.manage("mcpbox_get_tool_logs", {"tool_id": tool_id})["logs"],
                    what="the call's execution log")
    text = json.dumps(logs) + json.dumps(result)
    assert not [t for t in tokens if t in text], "a token in the result or the log"


def _fixture_status(address, port):
    conn = http.client.HTTPConnection(address, port, timeout=10)
    conn.request("GET", "/_test/status")
    seen = json.loads(conn.getresponse().read())
    conn.close()
    return seen


@pytest.mark.parametrize("port", sorted(CONFIDENTIAL))
def test_confidential_client_authenticates_as_registered(world, port):
    s, host, server_id = world
    method = CONFIDENTIAL[port]
    source_id = add_source(s, server_id, f"conf{port}", f"http://{host.address}:{port}/mcp")
    r = s.cli("sources", "authorize", source_id, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    url = json.loads(r.stdout)["authorization_url"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as landed:
        assert "Source authorized" in landed.read().decode()
    # 30 s tokens are always within the minute before expiry: every use refreshes
    found = s.manage("mcpbox_discover_external_tools", {"source_id": source_id})
    assert "whoami" in [t["name"] for t in found["tools"]], found
    seen = _fixture_status(host.address, port)
    assert seen["clients"][0]["token_endpoint_auth_method"] == method, seen
    assert seen["grants"]["authorization_code"] == 1, seen
    assert seen["grants"]["refresh_token"] >= 1, seen
    want = "basic" if method == "client_secret_basic" else "post"
    assert seen["token_auth"] and set(seen["token_auth"]) == {want}, seen
