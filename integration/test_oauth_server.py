"""MCPbox as the OAuth 2.1 authorization server of its own /mcp, on the real
`mcpbox up`: metadata (RFC 9728, RFC 8414), dynamic registration (RFC 7591),
Client ID Metadata Documents (served here on a loopback alias that the test
hooks count as public, over http: MCPBOX_TEST_PUBLIC_NET, MCPBOX_TEST_CIMD_HTTP),
/authorize with the consent page (sign-in, approve, deny, wrong password),
/token (PKCE S256, single-use codes bound to client, redirect_uri and
resource; rotating refresh tokens with reuse detection), /revoke (RFC 7009),
the admin's revocation (CLI), expiry with a short configured lifetime, and a
kill -9 of credentials keeping every token. The access token's check is
remote.verify, the remote listener's one check.
"""
import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.parse

import msgpack
import pytest

from busclient import BusClient
from conftest import bin_path, free_port, proc_env, wait_for
from test_restart_safety import System

PASSWORD = "correct horse battery"
REDIRECT = "http://127.0.0.1:7777/callback"


class Web:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, headers=None, form=None, cookie=None):
        h = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if cookie:
            h["Cookie"] = cookie
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            text = resp.read()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            headers["set-cookie"] = resp.headers.get_all("Set-Cookie") or []
            return resp.status, headers, text
        finally:
            conn.close()

    def json(self, method, path, **kw):
        status, headers, text = self.request(method, path, **kw)
        return status, headers, (json.loads(text) if text else None)


def pkce():
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(48)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
        .rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture
def box(procs, tmpdir_short, monkeypatch):
    monkeypatch.setenv("MCPBOX_TEST_PUBLIC_NET", "127.77.0.0/16")
    monkeypatch.setenv("MCPBOX_TEST_CIMD_HTTP", "1")
    remote_port = free_port()
    with open(os.path.join(tmpdir_short, "mcpbox.conf"), "w") as f:
        f.write(f"oauth_access_ttl_s = 3\nremote_listen = 127.0.0.1:{remote_port}\n")
    s = System(procs, tmpdir_short)
    s.web = Web(s.port)
    s.base = f"http://127.0.0.1:{s.port}"
    s.resource = s.base + "/mcp"
    s.remote_port = remote_port
    status, _, body = s.web.json("POST", "/api/auth/setup",
                                 body={"username": "admin", "password": PASSWORD})
    assert status == 201, body
    s.bus = BusClient("ipc://" + os.path.join(tmpdir_short, "run", "bus"), 5000)
    yield s
    s.bus.close()


def register(s, name="Test client", redirects=(REDIRECT,)):
    status, _, body = s.web.json("POST", "/register",
                                 body={"client_name": name, "redirect_uris": list(redirects)})
    assert status == 201, body
    return body["client_id"]


def authorize_params(s, client_id, challenge, **over):
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
              "code_challenge": challenge, "code_challenge_method": "S256",
              "state": "st-" + secrets.token_hex(4), "resource": s.resource}
    params.update(over)
    return {k: v for k, v in params.items() if v is not None}


def consent_page(s, params):
    status, headers, text = s.web.request("GET", "/authorize?" + urllib.parse.urlencode(params))
    page = text.decode()
    assert status == 200, page
    request = re.search(r'name="request" value="([^"]+)"', page).group(1)
    cookie = next(c.split(";")[0] for c in headers["set-cookie"]
                  if c.startswith("mcpbox_consent="))
    return page, headers, request, cookie


def approve(s, params, password=PASSWORD, decision="approve"):
    _, _, request, cookie = consent_page(s, params)
    status, headers, text = s.web.request("POST", "/authorize", cookie=cookie, form={
        "request": request, "decision": decision, "username": "admin", "password": password})
    return status, headers, text


def location_query(headers):
    assert "location" in headers, headers
    url = urllib.parse.urlsplit(headers["location"])
    return url, dict(urllib.parse.parse_qsl(url.query))


def get_code(s, client_id, challenge, **over):
    params = authorize_params(s, client_id, challenge, **over)
    status, headers, text = approve(s, params)
    assert status == 302, text
    url, query = location_query(headers)
    assert f"{url.scheme}://{url.netloc}{url.path}" == params["redirect_uri"]
    assert query["state"] == params["state"] and query["iss"] == s.base
    return query["code"]


def token(s, **form):
    return s.web.json("POST", "/token", form=form)


def exchange(s, client_id, code, verifier, **over):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": client_id, "code_verifier": verifier, "resource": s.resource}
    form.update(over)
    return token(s, **{k: v for k, v in form.items() if v is not None})


def verify(s, access):
    reply = s.bus.call("credentials", {"op": "remote.verify", "token": access,
                                       "resource": s.resource})
    return reply


def live(s, access):
    return verify(s, access)["ok"] is True


def test_metadata_and_registration(box):
    s = box
    status, headers, body = s.web.json("GET", "/.well-known/oauth-protected-resource/mcp")
    assert status == 200 and body["resource"] == s.resource, body
    assert body["authorization_servers"] == [s.base]
    assert headers["access-control-allow-origin"] == "*"
    assert s.web.json("GET", "/.well-known/oauth-protected-resource")[2] == body
    status, _, meta = s.web.json("GET", "/.well-known/oauth-authorization-server")
    assert status == 200 and meta["issuer"] == s.base
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint_auth_methods_supported"] == ["none"]
    assert meta["client_id_metadata_document_supported"] is True
    assert set(meta["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    for key in ("authorization_endpoint", "token_endpoint", "registration_endpoint",
                "revocation_endpoint"):
        assert meta[key].startswith(s.base + "/")
    status, headers, _ = s.web.request("GET", "/token")
    assert status == 405 and headers["allow"] == "POST, OPTIONS"
    status, headers, _ = s.web.request("OPTIONS", "/register",
                                       headers={"Origin": "https://app.example",
                                                "Access-Control-Request-Method": "POST"})
    assert status == 204 and headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    # registration: validated redirect URIs, public clients only, bounded bodies
    for bad, error in (
            ({"client_name": "x", "redirect_uris": ["http://evil.example/cb"]},
             "invalid_redirect_uri"),
            ({"client_name": "x", "redirect_uris": ["javascript:alert(1)"]},
             "invalid_redirect_uri"),
            ({"client_name": "x", "redirect_uris": ["https://a.example/cb#frag"]},
             "invalid_redirect_uri"),
            ({"client_name": "x", "redirect_uris": []}, "invalid_redirect_uri"),
            ({"client_name": "x", "redirect_uris": [REDIRECT] * 9}, "invalid_redirect_uri"),
            ({"client_name": "x", "redirect_uris": [REDIRECT],
              "token_endpoint_auth_method": "client_secret_basic"}, "invalid_client_metadata"),
            ({"client_name": "x", "redirect_uris": [REDIRECT],
              "grant_types": ["implicit"]}, "invalid_client_metadata"),
            ({"client_name": "\u202eevil", "redirect_uris": [REDIRECT]},
             "invalid_client_metadata"),
            ({"client_name": "", "redirect_uris": [REDIRECT]}, "invalid_client_metadata"),
            ({"redirect_uris": [REDIRECT]}, "invalid_client_metadata")):
        status, _, body = s.web.json("POST", "/register", body=bad)
        assert status == 400 and body["error"] == error, (bad, body)
    status, _, body = s.web.json("POST", "/register", body=b"x" * 20000)
    assert status == 413 and body["error"] == "invalid_request"
    status, _, body = s.web.json("POST", "/register", body=b"{\"a\":1,\"a\":2}")
    assert status == 400
    status, _, body = s.web.json("POST", "/register", form={"client_name": "x"})
    assert status == 415
    status, _, body = s.web.json("POST", "/register", body={
        "client_name": "Loopback app", "redirect_uris": ["http://localhost:9/cb",
                                                         "http://[::1]:9/cb",
                                                         "https://app.example/cb"]})
    assert status == 201 and body["client_id"].startswith("mcpbox-"), body
    assert body["token_endpoint_auth_method"] == "none"
    assert len(body["redirect_uris"]) == 3


def test_authorize_consent_and_code_edges(box):
    s = box
    name = "<script>alert(1)</script> & Co"
    client_id = register(s, name)
    verifier, challenge = pkce()
    # before client and redirect_uri are checked: a page, never a redirect
    for params in (authorize_params(s, "mcpbox-unknown", challenge),
                   authorize_params(s, client_id, challenge, redirect_uri="http://127.0.0.1:1/x"),
                   authorize_params(s, client_id, challenge, redirect_uri=None)):
        status, headers, text = s.web.request("GET", "/authorize?" +
                                              urllib.parse.urlencode(params))
        assert status == 400 and "location" not in headers, (params, status, text)
    # then errors go back to the client
    for over, error in (({"code_challenge_method": "plain"}, "invalid_request"),
                        ({"code_challenge_method": None}, "invalid_request"),
                        ({"code_challenge": "short"}, "invalid_request"),
                        ({"response_type": "token"}, "unsupported_response_type"),
                        ({"resource": "https://elsewhere.example/mcp"}, "invalid_target")):
        params = authorize_params(s, client_id, challenge, **over)
        status, headers, _ = s.web.request("GET", "/authorize?" + urllib.parse.urlencode(params))
        assert status == 302, over
        _, query = location_query(headers)
        assert query["error"] == error and query["state"] == params["state"], (over, query)
    # the consent page: the name as text, strict CSP, no inline script or style
    params = authorize_params(s, client_id, challenge)
    page, headers, request, cookie = consent_page(s, params)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "form-action 'self' http://127.0.0.1:7777" in csp
    assert "<style" not in page and " style=" not in page and "<script" not in page
    assert 'for="username">Username<' in page and 'for="password">Password<' in page
    assert ">Approve</button>" in page and ">Deny</button>" in page
    assert "HttpOnly" in next(c for c in headers["set-cookie"] if "mcpbox_consent" in c)
    # the form without its cookie, or with another's: refused
    form = {"request": request, "decision": "approve", "username": "admin",
            "password": PASSWORD}
    assert s.web.request("POST", "/authorize", form=form)[0] == 403
    _, _, _, other_cookie = consent_page(s, params)
    assert s.web.request("POST", "/authorize", form=form, cookie=other_cookie)[0] == 403
    # a wrong password shows the page again, the request stays usable
    status, _, text = s.web.request("POST", "/authorize", cookie=cookie,
                                    form=dict(form, password="wrong password!!"))
    assert status == 200 and "Wrong username or password." in text.decode()
    status, _, text = s.web.request("POST", "/authorize", cookie=cookie,
                                    form=dict(form, username="", password=""))
    assert status == 200 and "Wrong username or password." in text.decode()
    # deny → access_denied, and the request is spent
    status, headers, _ = s.web.request("POST", "/authorize", cookie=cookie,
                                       form=dict(form, decision="deny"))
    assert status == 302
    _, query = location_query(headers)
    assert query["error"] == "access_denied" and query["state"] == params["state"]
    assert s.web.request("POST", "/authorize", cookie=cookie, form=form)[0] == 400
    # approve → a code; the code is single use and bound to everything
    code = get_code(s, client_id, challenge)
    status, _, body = exchange(s, client_id, code, pkce()[0])
    assert status == 400 and body["error"] == "invalid_grant", body     # PKCE mismatch
    status, _, body = exchange(s, client_id, code, verifier)
    assert status == 400 and body["error"] == "invalid_grant", body     # spent by the try
    code = get_code(s, client_id, challenge)
    status, _, body = exchange(s, client_id, code, verifier, redirect_uri="http://127.0.0.1:7777/x")
    assert status == 400 and body["error"] == "invalid_grant"
    code = get_code(s, client_id, challenge)
    status, _, body = exchange(s, client_id, code, verifier, resource="https://x.example/mcp")
    assert status == 400 and body["error"] == "invalid_target"
    other = register(s, "Other")
    code = get_code(s, client_id, challenge)
    status, _, body = exchange(s, other, code, verifier)
    assert status == 400 and body["error"] == "invalid_grant"
    status, _, body = exchange(s, "mcpbox-nobody", code, verifier)
    assert status == 401 and body["error"] == "invalid_client"
    status, _, body = exchange(s, client_id, code, verifier, code_verifier=None)
    assert status == 400 and body["error"] == "invalid_request"
    status, _, body = token(s, grant_type="password", client_id=client_id)
    assert status == 400 and body["error"] == "unsupported_grant_type"
    status, _, body = exchange(s, client_id, code, verifier, client_secret="s")
    assert status == 401 and body["error"] == "invalid_client"
    # a good exchange, then the same code again revokes what it issued
    code = get_code(s, client_id, challenge)
    status, headers, tokens = exchange(s, client_id, code, verifier)
    assert status == 200 and tokens["token_type"] == "Bearer", tokens
    assert headers["cache-control"] == "no-store" and 0 < tokens["expires_in"] <= 3
    assert live(s, tokens["access_token"])
    v = verify(s, tokens["access_token"])
    assert v["kind"] == "oauth" and v["name"] == name and v["resource"] == s.resource
    assert s.bus.call("credentials", {"op": "remote.verify", "token": tokens["access_token"],
                                      "resource": "https://x.example/mcp"})["ok"] is False
    status, _, body = exchange(s, client_id, code, verifier)
    assert status == 400 and body["error"] == "invalid_grant"
    assert not live(s, tokens["access_token"])
    # the admin's view over /api: listed by name; revoke ends its tokens
    _, _, tokens = exchange(s, client_id, get_code(s, client_id, challenge), verifier)
    status, _, login = s.web.json("POST", "/api/auth/login", body={
        "username": "admin", "password": PASSWORD, "mode": "bearer"})
    auth = {"Authorization": "Bearer " + login["access_token"]}
    status, _, body = s.web.json("GET", "/api/oauth/clients", headers=auth)
    assert status == 200, body
    row = next(c for c in body["clients"] if c["client_id"] == client_id)
    assert row["client_name"] == name and row["active_grants"] == 1 and row["approved_at"] > 0
    assert s.web.json("GET", "/api/oauth/clients")[0] == 401
    status, _, body = s.web.json("POST", "/api/oauth/clients/revoke", headers=auth,
                                 body={"client_id": "mcpbox-nobody"})
    assert status == 404 and body["error"]["code"] == "not_found"
    status, _, body = s.web.json("POST", "/api/oauth/clients/revoke", headers=auth,
                                 body={"client_id": client_id})
    assert status == 200 and body["revoked_grants"] == 1, body
    assert not live(s, tokens["access_token"])
    status, _, body = token(s, grant_type="refresh_token", client_id=client_id,
                            refresh_token=tokens["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"
    # sign-in on the consent page is limited like /api/auth/login: after 5
    # failures even the right password is refused, with Retry-After (two
    # failures were made above)
    params = authorize_params(s, client_id, challenge)
    for _ in range(3):
        status, _, text = approve(s, params, password="wrong password!!")
        assert status == 200 and "Wrong username or password." in text.decode()
    status, headers, text = approve(s, params)
    assert status == 429 and int(headers["retry-after"]) > 0, text
    assert "location" not in headers


def remote_ping(s, access):
    conn = http.client.HTTPConnection("127.0.0.1", s.remote_port, timeout=30)
    try:
        conn.request("POST", "/mcp", body=json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "aud", "version": "1"}}}).encode(),
            headers={"Authorization": "Bearer " + access, "Content-Type": "application/json",
                     "Accept": "application/json, text/event-stream"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_audience_at_the_remote_listener(box):
    """A token is good only for the resource it was issued for (RFC 8707): one
    from the local port's /authorize is refused by the remote listener; one
    issued through the remote listener itself is accepted there."""
    s = box
    client_id = register(s, "Audience app")
    verifier, challenge = pkce()
    _, _, local = exchange(s, client_id, get_code(s, client_id, challenge), verifier)
    assert live(s, local["access_token"])
    assert remote_ping(s, local["access_token"]) == 401
    remote = System.__new__(System)
    remote.web = Web(s.remote_port)
    remote.base = f"http://127.0.0.1:{s.remote_port}"
    remote.resource = remote.base + "/mcp"
    status, _, meta = remote.web.json("GET", "/.well-known/oauth-protected-resource/mcp")
    assert status == 200 and meta["resource"] == remote.resource
    code = get_code(remote, client_id, challenge)
    status, _, body = exchange(remote, client_id, code, verifier)
    assert status == 200, body
    assert remote_ping(s, body["access_token"]) == 200


def test_host_and_origin_are_checked_like_mcp(box):
    """DNS rebinding and cross-origin forms: every OAuth route answers only
    the Host names of its listener's /mcp allowlist (local: the loopback
    names; remote: those and remote_public_url's host), and the consent
    form is accepted only from the consent page's own origin (or from a
    client that sends no Origin, which no browser form does)."""
    s = box
    rebound = {"Host": "attacker.example"}
    for port in (s.port, s.remote_port):
        web = Web(port)
        for method, path, kw in (
                ("GET", "/.well-known/oauth-authorization-server", {}),
                ("GET", "/.well-known/oauth-protected-resource/mcp", {}),
                ("GET", "/authorize?client_id=x&redirect_uri=" + REDIRECT, {}),
                ("POST", "/register", {"body": {"client_name": "x",
                                                "redirect_uris": [REDIRECT]}}),
                ("POST", "/token", {"form": {"grant_type": "refresh_token",
                                             "refresh_token": "x", "client_id": "x"}}),
                ("POST", "/revoke", {"form": {"token": "x", "client_id": "x"}})):
            status, _, text = web.request(method, path, headers=dict(rebound), **kw)
            assert status == 403, (port, path, status, text)
            assert b"attacker.example" not in text
        # the loopback names are this server's on both listeners
        status, _, meta = web.json("GET", "/.well-known/oauth-authorization-server",
                                   headers={"Host": f"localhost:{port}"})
        assert status == 200 and meta["issuer"] == f"http://localhost:{port}", meta
    # the consent form: another origin (another port of this host is the
    # same site, so SameSite=Strict lets the cookie through) or "null" (a
    # sandboxed frame) is refused, and the pending request survives it
    client_id = register(s, "Origin app")
    verifier, challenge = pkce()
    params = authorize_params(s, client_id, challenge)
    page, headers, request, cookie = consent_page(s, params)
    assert headers["referrer-policy"] == "same-origin"      # so a browser sends its Origin
    assert '<meta name="referrer" content="same-origin">' in page
    form = {"request": request, "decision": "approve", "username": "admin",
            "password": PASSWORD}
    for origin in ("http://127.0.0.1:7777", "http://attacker.example", "null",
                   f"http://127.0.0.1:{s.port}.attacker.example",
                   f"ftp://127.0.0.1:{s.port}", "x" * 600):
        status, headers, text = s.web.request("POST", "/authorize", form=form, cookie=cookie,
                                              headers={"Origin": origin})
        assert status == 403 and "location" not in headers, (origin, status, text)
    status, headers, text = s.web.request("POST", "/authorize", form=form, cookie=cookie,
                                          headers={"Origin": f"http://127.0.0.1:{s.port}"})
    assert status == 302, text
    _, query = location_query(headers)
    status, _, body = exchange(s, client_id, query["code"], verifier)
    assert status == 200, body


def test_refresh_rotation_revocation_expiry_restart_and_cimd(box):
    s = box
    client_id = register(s, "Rotating app")
    verifier, challenge = pkce()
    _, _, first = exchange(s, client_id, get_code(s, client_id, challenge), verifier)
    # rotation: each refresh gives a new pair and ends the old one
    status, _, second = token(s, grant_type="refresh_token", client_id=client_id,
                              refresh_token=first["refresh_token"], resource=s.resource)
    assert status == 200 and second["refresh_token"] != first["refresh_token"], second
    assert live(s, second["access_token"]) and not live(s, first["access_token"])
    status, _, body = token(s, grant_type="refresh_token", client_id=register(s, "Thief"),
                            refresh_token=second["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"
    assert live(s, second["access_token"])          # another client's try changes nothing
    # reuse of the old refresh token revokes the whole family
    status, _, body = token(s, grant_type="refresh_token", client_id=client_id,
                            refresh_token=first["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"
    assert not live(s, second["access_token"])
    status, _, body = token(s, grant_type="refresh_token", client_id=client_id,
                            refresh_token=second["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"
    # RFC 7009: revoke by the client; unknown tokens are answered 200 too
    _, _, third = exchange(s, client_id, get_code(s, client_id, challenge), verifier)
    assert s.web.json("POST", "/revoke", form={"token": "nonsense", "client_id": client_id})[0] \
        == 200
    status, _, _ = s.web.json("POST", "/revoke", form={"token": third["refresh_token"],
                                                       "client_id": client_id,
                                                       "token_type_hint": "refresh_token"})
    assert status == 200 and not live(s, third["access_token"])
    # restart of credentials (kill -9) keeps tokens; then expiry (3 s lifetime)
    _, _, fourth = exchange(s, client_id, get_code(s, client_id, challenge), verifier)
    s.kill_and_wait_restart("mcpbox-credentials")
    assert live(s, fourth["access_token"])
    wait_for(lambda: not live(s, fourth["access_token"]), timeout=10, interval=0.25,
             what="access token expiry")
    status, _, fifth = token(s, grant_type="refresh_token", client_id=client_id,
                             refresh_token=fourth["refresh_token"])
    assert status == 200 and live(s, fifth["access_token"])
    # the admin revokes the client: every token of it ends; the CLI lists it
    r = subprocess.run([bin_path("mcpbox"), "oauth", "clients", "list", "--data-dir",
                        s.data_dir], capture_output=True, text=True, timeout=30, env=proc_env())
    assert r.returncode == 0 and "Rotating app" in r.stdout, r
    r = subprocess.run([bin_path("mcpbox"), "oauth", "revoke", client_id, "--data-dir",
                        s.data_dir], capture_output=True, text=True, timeout=30, env=proc_env())
    assert r.returncode == 0, r
    assert not live(s, fifth["access_token"])
    status, _, body = token(s, grant_type="refresh_token", client_id=client_id,
                            refresh_token=fifth["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"
    # a Client ID Metadata Document served on a "public" loopback alias
    docs = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            doc = docs.get(self.path)
            body = json.dumps(doc).encode() if isinstance(doc, dict) else (doc or b"")
            self.send_response(200 if doc is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.77.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.77.0.1:{server.server_address[1]}"
        url = base + "/client.json"
        docs["/client.json"] = {"client_id": url, "client_name": "Metadata app",
                                "redirect_uris": [REDIRECT],
                                "token_endpoint_auth_method": "none"}
        docs["/wrong-id.json"] = {"client_id": base + "/other.json", "client_name": "X",
                                  "redirect_uris": [REDIRECT]}
        docs["/big.json"] = b"{" + b" " * 40000 + b"}"
        page, _, _, _ = consent_page(s, authorize_params(s, url, challenge))
        assert "Metadata app" in page
        code = get_code(s, url, challenge)
        status, _, tokens = exchange(s, url, code, verifier)
        assert status == 200 and verify(s, tokens["access_token"])["name"] == "Metadata app"
        for path in ("/wrong-id.json", "/big.json", "/missing.json"):
            status, headers, text = s.web.request("GET", "/authorize?" + urllib.parse.urlencode(
                authorize_params(s, base + path, challenge)))
            assert status == 400 and "location" not in headers, (path, text)
        # loopback outside the test's public net is refused by the SSRF rules
        status, _, text = s.web.request("GET", "/authorize?" + urllib.parse.urlencode(
            authorize_params(s, f"http://127.0.0.1:{server.server_address[1]}/client.json",
                             challenge)))
        assert status == 400 and b"loopback" in text, text
    finally:
        server.shutdown()
