"""An attacker's pass over external sources' OAuth client (issue 13,
docs/DESIGN.md section 14) on a real `mcpbox up`: a hostile source and
authorization server (hostile_as.py, on a test host with an address of its
own, approved by the admin as a private host, with a second port playing
"another origin" that records what reaches it) answer the token endpoint,
the registration endpoint, discovery and the authorization response in
every wrong way. For each: the authorization fails with a clear page or
exit status, nothing is stored (the source is not authorized), nothing
reaches the other origin or loopback, and MCPbox goes on working (the same
source, well-behaved again, is authorized and called).

- token answers: too large, slow drip, not JSON, an array, a huge number,
  deep nesting, an access token with CR/LF, a space or non-ASCII (it would
  go into the Bearer header), token_type not Bearer, expires_in negative,
  huge or a float, and redirects (307) to another origin, to loopback and
  to the metadata address: a token endpoint's redirect is not followed (it
  would carry the code and verifier, or the refresh token, away);
- registration answers: a client_id too long, with CR/LF, non-ASCII or a
  number; redirect_uris not holding ours (another URI; a string); redirects
  likewise not followed; a client secret is used (client_secret_post);
- discovery: an authorization_endpoint javascript:/data:/with a bidi
  control/with userinfo, an issuer mismatch, a resource of another origin or
  not a path prefix of the source's, 5000 authorization servers;
- the authorization response's `iss` (RFC 9207, mix-up): compared with the
  authorization server's issuer when present;
- the callback: a code with CR/LF, a huge code, a state naming another
  source, many callbacks at once;
- a refresh (forced by a 401) answered by a redirect to another origin: not
  followed, the tokens kept, the next refresh works;
- a token answer without expires_in is kept as not expiring;
- a source that redirects the authorized call to another origin never
  gets the bearer there.
"""
import json
import os
import re
import sys
import time
import http.client as http_client
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, quote, urlencode, urlparse

import pytest

from api_client import api  # noqa: F401  (fixture)
from conftest import wait_for
from netns_host import LoopbackTrap, NetnsHost, netns_available

HERE = os.path.dirname(os.path.abspath(__file__))
PORT, THIEF = 3040, 3041

pytestmark = pytest.mark.skipif(not netns_available(), reason="needs root and ip netns")

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_no_follow = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def http(method, url, body=None, timeout=60, follow=True):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with (_opener if follow else _no_follow).open(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


def _listening(url):
    try:
        return http("GET", url, timeout=1)[0] == 200
    except OSError:
        return False


class Hostile:
    def __init__(self, address):
        self.base = f"http://{address}:{PORT}"
        self.mcp = f"{self.base}/mcp"

    def set(self, revoke=False, **modes):
        modes = {k: modes.get(k, "ok") for k in ("token", "register", "meta", "authorize", "mcp")}
        modes["revoke"] = revoke
        code, _, body = http("POST", f"{self.base}/_set", modes)
        assert code == 200, body

    def seen(self):
        code, _, body = http("GET", f"{self.base}/_seen")
        assert code == 200, body
        return json.loads(body)


@pytest.fixture
def world(api):  # noqa: F811
    trap = LoopbackTrap()
    with NetnsHost("ha") as host:
        log = open(os.path.join(api.data_dir, "hostile_as.log"), "wb")
        host.popen([sys.executable, os.path.join(HERE, "hostile_as.py"), str(PORT), str(THIEF),
                    str(trap.port)], stdout=log, stderr=log)
        wait_for(lambda: _listening(f"http://{host.address}:{PORT}/_seen"), timeout=30,
                 what="hostile AS")
        server = api.manage("mcpbox_create_server", {"name": "hostile"})
        # the admin allows the test host, every port: the thief is an allowed origin too
        api.admin.ok("POST", f"/api/servers/{server['id']}/hosts",
                     {"host": host.address}, expect=201)
        api.server_id = server["id"]
        src = Hostile(host.address)
        source_id = api.manage("mcpbox_add_external_source", {
            "server_id": server["id"], "name": "hostile", "url": src.mcp,
            "auth_type": "oauth"})["source_id"]
        try:
            yield api, src, trap, source_id
        finally:
            trap.close()
            log.close()


def authorize(s, source_id):
    r = s.cli("sources", "authorize", source_id)
    found = re.search(r"https?://\S+/authorize\?\S+", r.stdout)
    return r.returncode, found.group(0) if found else None, r.stdout + r.stderr


def oauth_state(s, source_id):
    r = s.cli("sources", "list", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    row = [row for row in json.loads(r.stdout)["sources"] if row["id"] == source_id][0]
    return row["oauth"]


def callback_url(s, query):
    return f"http://127.0.0.1:{s.port}/sources/oauth/callback?" + query


def open_url(url):
    """The admin's browser: the AS answers 302 to the callback; (status, page)."""
    code, headers, _ = http("GET", url, follow=False)
    assert code == 302, (code, headers)
    code, _, page = http("GET", headers["Location"])
    return code, page


def assert_works_again(s, src, source_id):
    """MCPbox unaffected: the same source, well-behaved, is authorized and discovered."""
    src.set()
    rc, url, out = authorize(s, source_id)
    assert rc == 0 and url, out
    code, page = open_url(url)
    assert code == 200 and "authorized" in page.lower(), (code, page)
    assert oauth_state(s, source_id)["state"] == "authorized"
    found = s.manage("mcpbox_discover_external_tools", {"source_id": source_id})
    assert [t["name"] for t in found["tools"]] == ["t"], found
    assert src.seen()["mcp_auth"][-1].startswith("Bearer at-"), src.seen()
    assert s.rpc("ping")["result"] == {}


TOKEN_MODES = ["big", "notjson", "array", "hugenum", "deep", "crlf", "nonascii", "space",
               "type", "notype", "negexp", "bigexp", "floatexp",
               "redirect-other", "redirect-loopback", "redirect-metadata"]


def test_hostile_token_answers_store_nothing(world):
    s, src, trap, source_id = world
    for mode in TOKEN_MODES:
        src.set(token=mode)
        rc, url, out = authorize(s, source_id)
        assert rc == 0 and url, (mode, out)
        code, page = open_url(url)
        assert code in (400, 502) and "Not authorized" in page, (mode, code, page)
        assert "<script" not in page and "X-Injected" not in page, (mode, page)
        seen = src.seen()
        assert len(seen["token"]) == 1, (mode, seen)       # asked once, not followed
        assert seen["thief"] == [], (mode, seen)           # no code or verifier elsewhere
        assert oauth_state(s, source_id)["state"] != "authorized", mode
        if mode.startswith("redirect"):
            assert "redirect" in page, (mode, page)
    assert trap.hits == 0
    assert_works_again(s, src, source_id)


def test_slow_drip_token_answer_ends_at_the_deadline(world):
    s, src, _, source_id = world
    src.set(token="drip")
    rc, url, out = authorize(s, source_id)
    assert rc == 0 and url, out
    started = time.monotonic()
    code, page = open_url(url)
    assert code == 502 and "Not authorized" in page, (code, page)
    assert time.monotonic() - started < 45
    assert oauth_state(s, source_id)["state"] != "authorized"
    assert_works_again(s, src, source_id)


@pytest.mark.parametrize("mode, words", [
    ("bigid", "client_id"), ("ctrl", "client_id"), ("nonascii", "client_id"),
    ("numid", "client_id"), ("otheruri", "redirect_uris"), ("urisstring", "redirect_uris"),
    ("redirect-other", "redirect"), ("redirect-loopback", "redirect")])
def test_hostile_registration_answers(world, mode, words):
    s, src, trap, source_id = world
    src.set(register=mode)
    rc, url, out = authorize(s, source_id)
    assert rc != 0 and url is None and words in out, out
    assert "X-Injected" not in out
    seen = src.seen()
    assert len(seen["register"]) == 1 and seen["thief"] == [] and seen["authorize"] == 0, seen
    assert trap.hits == 0
    assert oauth_state(s, source_id)["state"] == "none"
    assert_works_again(s, src, source_id)


def test_registration_with_a_client_secret(world):
    s, src, _, source_id = world
    src.set(register="secret")
    rc, url, out = authorize(s, source_id)
    assert rc == 0 and url, out
    assert "sekret-42" not in out
    code, page = open_url(url)
    assert code == 200, page
    form = parse_qs(src.seen()["token"][-1])
    assert form["client_secret"] == ["sekret-42"] and form["client_id"] == ["client-s"]
    assert oauth_state(s, source_id)["state"] == "authorized"


@pytest.mark.parametrize("mode, words", [
    ("js", "authorization_endpoint"), ("data", "authorization_endpoint"),
    ("userinfo", "authorization_endpoint"), ("bidi", "authorization_endpoint"),
    ("issuer", "issuer"),
    ("resource", "not for this source"), ("prefix", "not for this source")])
def test_hostile_discovery(world, mode, words):
    s, src, _, source_id = world
    src.set(meta=mode)
    rc, url, out = authorize(s, source_id)
    assert rc != 0 and url is None and words in out, out
    assert "javascript:" not in out and "data:text" not in out and "admin:pw" not in out, out
    seen = src.seen()
    assert seen["register"] == [] and seen["authorize"] == 0, seen
    assert oauth_state(s, source_id)["state"] == "none"
    # the dashboard's route refuses it the same way
    status, body = s.admin.req("POST", f"/api/sources/{source_id}/authorize")
    assert status >= 400 and "authorization_url" not in json.dumps(body), (status, body)
    assert_works_again(s, src, source_id)


def test_many_authorization_servers_the_first_is_used(world):
    s, src, _, source_id = world
    src.set(meta="many")
    rc, url, out = authorize(s, source_id)
    assert (rc == 0 and url and url.startswith(src.base + "/authorize?")) or \
        (rc != 0 and url is None), out


def test_iss_mixup_is_refused(world):
    """RFC 9207: an authorization response whose iss is not the issuer the
    authorization was begun with (a mix-up: the code came from another AS)
    is refused before the code is sent anywhere."""
    s, src, _, source_id = world
    for modes in ({"meta": "iss"}, {"authorize": "iss-wrong"}, {"meta": "iss-absent"}):
        src.set(**modes)
        rc, url, out = authorize(s, source_id)
        assert rc == 0 and url, out
        code, page = open_url(url)
        assert code == 400 and "iss" in page, (modes, code, page)
        assert src.seen()["token"] == [], modes        # the code went nowhere
        assert oauth_state(s, source_id)["state"] != "authorized"
    # the right iss is accepted, promised or not
    for modes in ({"authorize": "iss-right"}, {"meta": "iss-absent", "authorize": "iss-right"}):
        src.set(**modes)
        rc, url, out = authorize(s, source_id)
        code, page = open_url(url)
        assert code == 200, (modes, page)
        assert oauth_state(s, source_id)["state"] == "authorized"


def test_hostile_callbacks(world):
    s, src, _, source_id = world
    rc, url, out = authorize(s, source_id)
    assert rc == 0 and url, out
    code, headers, _ = http("GET", url, follow=False)
    good = {k: v[0] for k, v in parse_qs(urlparse(headers["Location"]).query).items()}
    state = good["state"]
    other = s.manage("mcpbox_add_external_source", {
        "server_id": s.server_id, "name": "other", "url": src.mcp,
        "auth_type": "oauth"})["source_id"]
    cases = [
        "code=" + quote("a\r\nX-Injected: yes") + "&state=" + quote(state),
        "code=" + "c" * 3000 + "&state=" + quote(state + "x"),
        # the random part of this source's state under another source's id
        "code=x&state=" + quote(other + "." + state.split(".", 1)[1]),
        "code=x&state=" + "s" * 3000,
        "code=x&state=" + quote(state) + "&iss=%ff%fe",
    ]
    for query in cases:
        code, _, page = http("GET", callback_url(s, query))
        assert 400 <= code < 500 or code == 502, (query[:40], code, page)
        assert "X-Injected" not in page
    # a 20 KB query (within the gateway's 32 KB head, or 431 past it): refused, nothing consumed
    for query in ("code=" + "c" * 20000 + "&state=" + quote(state), "code=x&state=" + "s" * 20000):
        try:
            code = http("GET", callback_url(s, query))[0]
            assert 400 <= code < 500, code
        except (ConnectionError, http_client.HTTPException):
            pass
    # many at once, forged: all refused, the gateway unaffected
    forged = [callback_url(s, urlencode({"code": f"c{i}", "state": f"{source_id}.{'B' * 43}"}))
              for i in range(40)]
    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda u: http("GET", u)[0], forged))
    assert all(400 <= c < 500 for c in codes), codes
    assert src.seen()["token"] == []
    # the genuine callback still works (none of the above consumed it), once:
    # the same callback many times at once is exchanged by exactly one
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: http("GET", callback_url(s, urlencode(good))),
                                range(8)))
    assert [a[0] for a in answers].count(200) == 1, [a[0] for a in answers]
    assert all(a[0] == 200 or 400 <= a[0] < 500 for a in answers), answers
    assert len(src.seen()["token"]) == 1
    assert oauth_state(s, source_id)["state"] == "authorized"
    assert oauth_state(s, other)["state"] == "none"


def test_refresh_answered_by_a_redirect_keeps_the_refresh_token_home(world):
    """A 401 at call time forces a refresh; the token endpoint answers it with a
    307 to another origin: not followed (the refresh token stays), a transient
    failure (the tokens are kept, still authorized), and the next refresh works."""
    s, src, _, source_id = world
    rc, url, out = authorize(s, source_id)
    code, page = open_url(url)
    assert code == 200, page
    src.set(token="redirect-other", revoke=True)
    result = s.call("mcpbox_discover_external_tools", {"source_id": source_id})
    assert result["isError"] is True, result
    seen = src.seen()
    assert len(seen["token"]) == 1 and "grant_type=refresh_token" in seen["token"][0], seen
    assert seen["thief"] == [], seen
    assert oauth_state(s, source_id)["state"] == "authorized"
    src.set()       # the AS answers again: the kept refresh token works
    found = s.manage("mcpbox_discover_external_tools", {"source_id": source_id})
    assert [t["name"] for t in found["tools"]] == ["t"], found
    assert "grant_type=refresh_token" in src.seen()["token"][0]


def test_token_without_expiry_and_no_bearer_on_cross_origin_redirect(world):
    s, src, _, source_id = world
    src.set(token="noexpiry")
    rc, url, out = authorize(s, source_id)
    code, page = open_url(url)
    assert code == 200, page
    state = oauth_state(s, source_id)
    assert state["state"] == "authorized" and not state.get("expires_at_ms"), state
    found = s.manage("mcpbox_discover_external_tools", {"source_id": source_id})
    assert [t["name"] for t in found["tools"]] == ["t"], found
    # the source now sends the authorized request to another origin: no bearer there
    src.set(token="noexpiry", mcp="redirect-other")
    result = s.call("mcpbox_discover_external_tools", {"source_id": source_id})
    seen = src.seen()
    assert seen["thief"], seen
    assert all(t["authorization"] is None for t in seen["thief"]), seen
    assert "at-" not in json.dumps(result)
