"""An OAuth-protected external MCP source through a whole `mcpbox up`: the
authorize → callback → call → expiry → refresh → call cycle of issue 13,
with a restart of the credentials actor in the middle.

The source (integration/node/lib/oauth_mcp_server.mjs) is the official
SDK's McpServer behind its bearer-auth middleware, with a real
authorization server on another origin (the SDK's mcpAuthRouter: RFC 8414
metadata, RFC 7591 registration, PKCE S256 checked, `resource` (RFC 8707)
required and bound to the source's /mcp, rotating refresh tokens, short
access tokens), on a test host with an address of its own (netns_host.py),
approved by the admin as a private host (loopback stays unreachable).
Its test-only /_test endpoints say what the AS saw (grants by type, 401s,
every token issued) and drop tokens on demand.

- `mcpbox sources authorize ID` prints the AS's URL (S256, state, resource,
  the redirect to MCPbox's own callback); the pending authorization survives
  a credentials restart; a real HTTP client opening it is redirected to
  the gateway's callback, which answers authorized; the callback is single
  use and a forged state is refused;
- discover, import, approve, call through MCPbox's /mcp: the AS's token;
- past the access token's expiry a call still works, refreshed before use
  (no 401 seen by the source), the refresh token rotated;
- kill -9 of the credentials actor: calls go on with the stored tokens (no
  new authorization);
- a token the source refuses (401 at call time) is refreshed once and the
  call retried;
- no token issued by the AS, nor the state or code of the callback, is
  found in clear in the data directory (the database, its WAL, the logs);
- a refused refresh: the call answers an error saying to run
  `mcpbox sources authorize`, `mcpbox sources list` shows it; authorizing
  again makes calls work again;
- calls at once, with rotating refresh tokens (past expiry, and all
  refused with a 401): every call works and no refresh token is used twice
  (credentials' lease makes the refreshes take turns);
- the same source over the legacy HTTP+SSE transport: authorized, called,
  a 401 refreshed and retried;
- hostile AS metadata (the token endpoint on loopback, on the metadata
  address, which the admin cannot allow): authorize is refused with the
  reason, nothing registered or stored, no callback accepted for it, the
  loopback listener never reached, MCPbox unaffected.
"""
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest

from api_client import api  # noqa: F401  (fixture)
from conftest import wait_for
from netns_host import LoopbackTrap, NetnsHost, netns_available

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = os.path.join(HERE, "node", "node_modules", ".bin", "node")
SOURCE = os.path.join(HERE, "node", "lib", "oauth_mcp_server.mjs")
PORT, AS_PORT = 3010, 3011                  # the source and its AS
HOSTILE = {"loopback": (3020, 3021), "metadata": (3030, 3031)}
TTL_S = 10     # short access tokens: expiry is seen; a just-refreshed one outlives a loaded CI

pytestmark = pytest.mark.skipif(
    not netns_available() or not os.path.exists(NODE),
    reason="needs root, ip netns and integration/node's npm packages")

# a real user agent, no proxy from the environment
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, timeout=20):
    """(status, final URL, body text) of a request, following redirects."""
    req = urllib.request.Request(url, method=method)
    try:
        with _opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.geturl(), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.geturl(), e.read().decode(errors="replace")


class Source:
    def __init__(self, address, port, as_port):
        self.base = f"http://{address}:{port}"
        self.mcp = f"{self.base}/mcp"
        self.issuer = f"http://{address}:{as_port}"

    def status(self):
        code, _, body = http("GET", f"{self.base}/_test/status")
        assert code == 200, body
        return json.loads(body)

    def post(self, path):
        code, _, body = http("POST", f"{self.base}{path}")
        assert code == 200, body


def _listening(url):
    try:
        return http("GET", url, timeout=1)[0] == 200
    except OSError:
        return False


@pytest.fixture
def world(api):  # noqa: F811
    trap = LoopbackTrap()
    with NetnsHost("oa") as host:
        log = open(os.path.join(api.data_dir, "oauth_source.log"), "wb")
        endpoints = {None: (PORT, AS_PORT),
                     f"http://127.0.0.1:{trap.port}/token": HOSTILE["loopback"],
                     "http://169.254.169.254/latest/api/token": HOSTILE["metadata"]}
        for token_endpoint, (port, as_port) in endpoints.items():
            argv = [NODE, SOURCE, "--address", host.address, "--port", str(port),
                    "--as-port", str(as_port), "--access-ttl", str(TTL_S)]
            host.popen(argv + (["--token-endpoint", token_endpoint] if token_endpoint else []),
                       stdout=log, stderr=log)
        for port, as_port in endpoints.values():
            wait_for(lambda: _listening(f"http://{host.address}:{port}/_test/status")
                     and _listening(f"http://{host.address}:{as_port}"
                                    "/.well-known/oauth-authorization-server"),
                     timeout=30, what=f"OAuth source on port {port}")
        server = api.manage("mcpbox_create_server", {"name": "cloud"})
        # the admin allows the test host (every port: the source and its AS)
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


def authorize(s, source_id):
    """`mcpbox sources authorize ID`: (exit code, the URL printed or None, output)."""
    # no --http-port here: the CLI takes the callback's address from the running
    # gateway (this `up` was given its port on the command line, not in a file)
    r = s.cli("sources", "authorize", source_id)
    out = r.stdout + r.stderr
    found = re.search(r"https?://\S+/authorize\?\S+", r.stdout)
    return r.returncode, found.group(0) if found else None, out


def source_row(s, source_id):
    r = s.cli("sources", "list", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    rows = [row for row in json.loads(r.stdout)["sources"] if row["id"] == source_id]
    assert len(rows) == 1, r.stdout
    return rows[0]


def oauth_state(s, source_id):
    return source_row(s, source_id)["oauth"]["state"]


def whoami(s, name="cloud__whoami"):
    result = s.call(name, {})
    assert result["isError"] is False, result
    return json.loads(result["content"][0]["text"])


def import_and_start(s, server_id, source_id, prefix="cloud"):
    """Discover, import, publish, approve both tools, start the server."""
    found = s.manage("mcpbox_discover_external_tools", {"source_id": source_id})
    assert sorted(t["name"] for t in found["tools"]) == ["add", "whoami"], found
    imported = s.manage("mcpbox_import_external_tools",
                        {"source_id": source_id, "tool_names": ["add", "whoami"]})
    for tool in imported["imported_tools"]:
        s.manage("mcpbox_request_publish", {"tool_id": tool["id"]})
        assert s.cli("approvals", "approve", "tool", tool["id"]).returncode == 0
    s.manage("mcpbox_start_server", {"server_id": server_id})
    wait_for(lambda: {f"{prefix}__whoami", f"{prefix}__add"} <= set(s.listed()),
             what="tools listed")


def secrets_at_rest(data_dir, secrets):
    """The files under data_dir holding any of secrets in clear."""
    found = []
    for root, _, files in os.walk(data_dir):
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            found += [(path, t[:8]) for t in secrets if t.encode() in data]
    return found


def test_authorize_callback_call_expiry_refresh_restart(world):
    s, host, trap, server_id = world
    src = Source(host.address, PORT, AS_PORT)
    source_id = s.manage("mcpbox_add_external_source", {
        "server_id": server_id, "name": "cloud", "url": src.mcp,
        "auth_type": "oauth"})["source_id"]
    # not authorized yet: discovery says what to do
    text = error_text(s.call("mcpbox_discover_external_tools", {"source_id": source_id}))
    assert "mcpbox sources authorize" in text, text
    assert oauth_state(s, source_id) == "none"

    # 1. authorize: the URL to open, on the AS found through the source's metadata
    rc, url, out = authorize(s, source_id)
    assert rc == 0 and url, out
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    assert f"{parsed.scheme}://{parsed.netloc}" == src.issuer, url
    redirect = f"http://127.0.0.1:{s.port}/sources/oauth/callback"
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["resource"] == src.mcp
    assert query["redirect_uri"] == redirect
    assert len(query["state"]) >= 22
    seen = src.status()
    assert seen["registrations"] == 1, seen
    client_id = seen["clients"][0]["client_id"]
    assert query["client_id"] == client_id
    assert seen["clients"][0]["redirect_uris"] == [redirect]
    assert oauth_state(s, source_id) == "pending"

    # the pending authorization (state, verifier) survives a credentials restart
    s.kill_and_wait_restart("mcpbox-credentials")

    # a forged state is refused and exchanges nothing
    code, _, body = http("GET", f"{redirect}?code=forged&state={source_id}.{'A' * 43}")
    assert 400 <= code < 500, (code, body)
    assert src.status()["grants"]["authorization_code"] == 0

    # 2. the admin opens the URL: the AS approves at once and redirects to MCPbox's callback
    code, landed, body = http("GET", url)
    assert landed.startswith(redirect + "?"), landed
    assert code == 200 and "authorized" in body.lower(), (code, body)
    seen = src.status()
    assert seen["grants"]["authorization_code"] == 1, seen
    assert seen["last_token_request"]["resource"] == src.mcp, seen
    assert seen["last_token_request"]["redirect_uri"] == redirect, seen
    # the callback is single use
    code, _, body = http("GET", landed)
    assert 400 <= code < 500, (code, body)
    assert src.status()["refused"]["authorization_code"] == 0  # never reached the AS again
    assert oauth_state(s, source_id) == "authorized"
    landed_query = {k: v[0] for k, v in parse_qs(urlparse(landed).query).items()}
    # neither the state nor the code is kept or logged in clear
    assert secrets_at_rest(s.data_dir, [landed_query["state"].rsplit(".", 1)[-1],
                                        landed_query["code"]]) == []

    # 3. discover, import, approve, call through MCPbox
    import_and_start(s, server_id, source_id)
    result = s.call("cloud__add", {"a": 2, "b": 40})
    assert result["isError"] is False and result["content"][0]["text"] == "42", result
    me = whoami(s)
    assert me["client_id"] == client_id and me["resource"] == src.mcp, me

    # 4. past the access token's expiry: refreshed before use (the source saw no 401)
    expiry_ms = src.status()["access_expires_at_ms"]
    wait_for(lambda: time.time() * 1000 > expiry_ms + 250, timeout=TTL_S + 5,
             what="the access token's expiry")
    before = src.status()
    after_expiry = whoami(s)
    seen = src.status()
    assert after_expiry["token"] != me["token"], (me, after_expiry)
    assert seen["grants"]["refresh_token"] > before["grants"]["refresh_token"], seen
    assert seen["mcp"]["unauthorized"] == before["mcp"]["unauthorized"], seen
    assert seen["refresh_reused"] == 0, seen  # the rotated refresh token was kept

    # 5. kill -9 the credentials actor: the stored tokens survive
    s.kill_and_wait_restart("mcpbox-credentials")
    wait_for(lambda: s.call("cloud__whoami", {})["isError"] is False, timeout=10,
             interval=0.2, what="a call after the credentials restart")
    seen = src.status()
    assert seen["grants"]["authorization_code"] == 1, seen
    assert seen["refresh_reused"] == 0, seen

    # 6. long tokens are kept between calls (no refresh per call) ...
    src.post("/_test/config?access_ttl=3600")
    whoami(s)  # this one may refresh the short token it held
    before = src.status()
    kept = whoami(s)
    assert whoami(s)["token"] == kept["token"]
    assert src.status()["grants"] == before["grants"]
    # ... and one the source refuses (401 at call time) is refreshed once, the call retried
    src.post("/_test/revoke?what=access")
    retried = whoami(s)
    seen = src.status()
    assert retried["token"] != kept["token"]
    assert seen["mcp"]["unauthorized"] > before["mcp"]["unauthorized"], seen
    assert seen["grants"]["refresh_token"] == before["grants"]["refresh_token"] + 1, seen

    # 7. nothing the AS issued is in clear at rest (database, WAL, logs)
    issued = seen["issued"]["access"] + seen["issued"]["refresh"]
    assert len(issued) >= 6
    assert secrets_at_rest(s.data_dir, issued) == []
    # (the scan reads the database: the source's URL, stored in clear, is found)
    assert secrets_at_rest(s.data_dir, [src.mcp])

    # 8. the AS refuses the refresh: a clear error, shown in the list
    src.post("/_test/revoke?what=all")
    text = error_text(s.call("cloud__whoami", {}))
    assert "mcpbox sources authorize" in text, text
    assert src.status()["refused"]["refresh_token"] >= 1
    assert oauth_state(s, source_id) == "needs_authorization"
    table = s.cli("sources", "list").stdout
    assert "needs_authorization" in table, table
    # not refreshed again and again: the next call says the same without asking the AS
    refused = src.status()["refused"]["refresh_token"]
    assert "mcpbox sources authorize" in error_text(s.call("cloud__whoami", {}))
    assert src.status()["refused"]["refresh_token"] == refused

    # 9. authorized again, calls work again
    rc, url, out = authorize(s, source_id)
    assert rc == 0 and url, out
    code, _, body = http("GET", url)
    assert code == 200 and "authorized" in body.lower(), (code, body)
    assert whoami(s)["client_id"]
    assert src.status()["grants"]["authorization_code"] == 2
    assert oauth_state(s, source_id) == "authorized"
    assert trap.hits == 0
    assert secrets_at_rest(s.data_dir, src.status()["issued"]["access"]
                           + src.status()["issued"]["refresh"]) == []



def test_legacy_sse_source_with_oauth(world):
    """The same OAuth source over the legacy HTTP+SSE transport: the token
    goes on the stream's GET and on every POSTed message; a 401 on the
    stream is refreshed once and the conversation retried."""
    s, host, _, server_id = world
    src = Source(host.address, PORT, AS_PORT)
    source_id = s.manage("mcpbox_add_external_source", {
        "server_id": server_id, "name": "legacy", "url": f"{src.base}/mcp/sse",
        "transport_type": "sse", "auth_type": "oauth"})["source_id"]
    rc, url, out = authorize(s, source_id)
    assert rc == 0 and url, out
    assert parse_qs(urlparse(url).query)["resource"] == [src.mcp]
    code, _, body = http("GET", url)
    assert code == 200 and "authorized" in body.lower(), (code, body)
    import_and_start(s, server_id, source_id)
    result = s.call("cloud__add", {"a": 20, "b": 22})
    assert result["isError"] is False and result["content"][0]["text"] == "42", result
    src.post("/_test/config?access_ttl=3600")
    kept = whoami(s)
    before = src.status()
    src.post("/_test/revoke?what=access")
    retried = whoami(s)
    seen = src.status()
    assert retried["token"] != kept["token"] and retried["client_id"] == kept["client_id"]
    assert seen["mcp"]["unauthorized"] > before["mcp"]["unauthorized"], seen
    assert seen["grants"]["refresh_token"] == before["grants"]["refresh_token"] + 1, seen

@pytest.mark.parametrize("variant, address", [("loopback", "'127.0.0.1'"),
                                              ("metadata", "'169.254.169.254'")])
def test_hostile_token_endpoint_is_refused_and_nothing_stored(world, variant, address):
    s, host, trap, server_id = world
    port, as_port = HOSTILE[variant]
    src = Source(host.address, port, as_port)
    source_id = s.manage("mcpbox_add_external_source", {
        "server_id": server_id, "name": variant, "url": src.mcp,
        "auth_type": "oauth"})["source_id"]
    # the admin cannot allow the inside addresses
    for inside in ("127.0.0.1", "169.254.169.254"):
        status, body = s.admin.req("POST", f"/api/servers/{server_id}/hosts", {"host": inside})
        assert status == 403, (status, body)
    rc, url, out = authorize(s, source_id)
    assert rc != 0 and url is None, out
    assert "token_endpoint is refused" in out and address in out, out
    seen = src.status()
    assert seen["registrations"] == 0 and seen["authorizations"] == 0, seen
    assert trap.hits == 0
    assert oauth_state(s, source_id) == "none"
    # nothing pending: a callback for it is refused
    code, _, _ = http("GET", f"http://127.0.0.1:{s.port}/sources/oauth/callback"
                      f"?code=x&state={source_id}.{'A' * 43}")
    assert 400 <= code < 500
    # MCPbox is unaffected
    assert s.rpc("ping")["result"] == {}
    assert s.cli("status").returncode == 0


def test_concurrent_calls_share_one_refresh_chain(world):
    """Rotating refresh tokens and calls at once: two callers refreshing
    with the same refresh token would get the second refused (invalid_grant)
    and the source dropped to needs_authorization. Credentials' lease makes
    them take turns: every call works, no refresh token is used twice."""
    s, host, _, server_id = world
    src = Source(host.address, PORT, AS_PORT)
    source_id = s.manage("mcpbox_add_external_source", {
        "server_id": server_id, "name": "cloud", "url": src.mcp,
        "auth_type": "oauth"})["source_id"]
    rc, url, out = authorize(s, source_id)
    assert rc == 0 and url, out
    code, _, body = http("GET", url)
    assert code == 200 and "authorized" in body.lower(), (code, body)
    import_and_start(s, server_id, source_id)

    def burst(n=6):
        with ThreadPoolExecutor(n) as pool:
            results = list(pool.map(lambda _: s.call("cloud__whoami", {}), range(n)))
        assert all(r["isError"] is False for r in results), results
        seen = src.status()
        assert seen["refresh_reused"] == 0 and seen["refused"]["refresh_token"] == 0, seen
        return seen

    # short tokens past their expiry: every call wants a refresh before use
    expiry_ms = src.status()["access_expires_at_ms"]
    wait_for(lambda: time.time() * 1000 > expiry_ms + 250, timeout=TTL_S + 5,
             what="the access token's expiry")
    before = src.status()["grants"]["refresh_token"]
    assert burst()["grants"]["refresh_token"] > before
    # long tokens all refused at once: every call sees a 401 and asks for a refresh
    src.post("/_test/config?access_ttl=3600")
    burst(1)
    src.post("/_test/revoke?what=access")
    before = src.status()
    seen = burst()
    assert seen["mcp"]["unauthorized"] > before["mcp"]["unauthorized"], seen
    assert seen["grants"]["refresh_token"] > before["grants"]["refresh_token"], seen
    assert oauth_state(s, source_id) == "authorized"
