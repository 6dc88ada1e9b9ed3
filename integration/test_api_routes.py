"""The admin API's guards on the real `mcpbox up`, for every route the server
itself lists (GET /api/docs on a gateway started with --enable-docs), so a new
route cannot be forgotten: no session → 401 (no token, a well-formed unknown
token, a malformed header); a cookie without the CSRF header on a state change
→ 403 and nothing changed; /api/docs absent without the flag. Bounds: an
oversized body 413, bad JSON / unknown or mistyped fields 400, unknown ids and
hostile path segments 404, limit and cursor out of range 400."""
from api_client import api  # noqa: F401  (fixture)

FAKE_TOKEN = "A" * 43
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


UNKNOWN_ID = "0b7a3a6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


def concrete(path):
    return path.replace("{id}", UNKNOWN_ID).replace("{}", "x1")


def routes(s):
    status, body = s.admin.req("GET", "/api/docs")
    assert status == 404, "docs served without --enable-docs"
    status, _, _, body = s.docs_http.request("GET", "/api/docs")
    assert status == 401
    status, _, _, body = s.docs_http.request(
        "GET", "/api/docs", headers={"Authorization": f"Bearer {s.bearer}"})
    assert status == 200, body
    return body["routes"]


def test_every_route_needs_a_session(api):
    s = api
    listed = routes(s)
    assert len(listed) >= 45, listed
    guarded = [r for r in listed if r["session"]]
    open_routes = {(r["method"], r["path"]) for r in listed if not r["session"]}
    assert open_routes == {("POST", "/api/auth/setup"), ("POST", "/api/auth/login"),
                           ("POST", "/api/auth/refresh"), ("GET", "/api/auth/status")}
    for r in guarded:
        path = concrete(r["path"])
        body = {} if r["method"] in ("POST", "PUT", "PATCH") else None
        for http in (s.http, s.docs_http):
            if r["path"] == "/api/docs" and http is s.http:
                continue            # 404 there: the flag is off
            for headers in ({}, {"Authorization": f"Bearer {FAKE_TOKEN}"},
                            {"Cookie": f"mcpbox_session={FAKE_TOKEN}",
                             "X-CSRF-Token": FAKE_TOKEN},
                            {"Authorization": "Bearer not a token"}):
                status, _, _, answer = http.request(r["method"], path, body, headers)
                assert status == 401, (r, headers, status, answer)
                assert set(answer["error"]) == {"code", "message"}
    # the open status route tells the UI that setup is done
    status, _, _, answer = s.http.request("GET", "/api/auth/status")
    assert status == 200 and answer == {"setup_required": False}


def test_cookie_without_csrf_changes_nothing(api):
    s = api
    changing = [r for r in routes(s) if r["session"] and r["method"] in STATE_CHANGING]
    assert len(changing) >= 20
    server = s.admin.ok("POST", "/api/servers", {"name": "keep", "description": "d"},
                        expect=201)["server"]
    before = (s.admin.ok("GET", "/api/servers"), s.admin.ok("GET", "/api/settings"),
              s.admin.ok("GET", f"/api/servers/{server['id']}/secrets"),
              s.admin.ok("GET", f"/api/servers/{server['id']}/hosts"))
    for r in changing:
        path = concrete(r["path"].replace("/api/servers/{id}", f"/api/servers/{server['id']}"))
        body = {} if r["method"] in ("POST", "PUT", "PATCH") else None
        status, answer = s.admin.req(r["method"], path, body, csrf=False)
        assert status == 403 and answer["error"]["code"] == "csrf", (r, status, answer)
    # the real thing, each with a valid body: still refused
    sid = server["id"]
    for method, path, body in (
            ("POST", "/api/servers", {"name": "new"}),
            ("DELETE", f"/api/servers/{sid}", None),
            ("POST", f"/api/servers/{sid}/stop", {}),
            ("POST", f"/api/servers/{sid}/secrets", {"key": "K", "value": "v"}),
            ("POST", f"/api/servers/{sid}/hosts", {"host": "example.com"}),
            ("PUT", "/api/settings", {"tool_approval_mode": "auto_approve"}),
            ("POST", "/api/settings/profile", {"name": "permissive"})):
        status, answer = s.admin.req(method, path, body, csrf=False)
        assert status == 403, (method, path, answer)
        # a wrong token is no better than none
        status, answer = s.admin.req(method, path, body, csrf=False,
                                     headers={"X-CSRF-Token": FAKE_TOKEN})
        assert status == 403, (method, path, answer)
    after = (s.admin.ok("GET", "/api/servers"), s.admin.ok("GET", "/api/settings"),
             s.admin.ok("GET", f"/api/servers/{sid}/secrets"),
             s.admin.ok("GET", f"/api/servers/{sid}/hosts"))
    assert after == before
    # a bearer token needs no CSRF header (no ambient credential)
    status, _, _, answer = s.http.request("POST", "/api/servers", {"name": "bearer_made"},
                                          {"Authorization": f"Bearer {s.bearer}"})
    assert status == 201, answer


def test_bounds(api):
    s = api
    a = s.admin
    server = a.ok("POST", "/api/servers", {"name": "b1"}, expect=201)["server"]
    sid = server["id"]
    # bodies
    status, answer = a.req("POST", "/api/servers", raw=b'{"name": "' + b"x" * 17000 + b'"}')
    assert status == 413 and answer["error"]["code"] == "too_large"
    status, answer = a.req("PATCH", f"/api/tools/{UNKNOWN_ID}",
                           raw=b'{"python_code": "' + b"x" * 300000 + b'"}')
    assert status == 413
    for raw in (b"{", b"[1]", b'"s"', b'{"name": "a", "name": "b"}', b"\xff\xfe"):
        status, answer = a.req("POST", "/api/servers", raw=raw)
        assert status == 400 and answer["error"]["code"] == "bad_request", (raw, answer)
    for body in ({"name": 5}, {"name": ""}, {"name": "n", "extra": 1}, {},
                 {"name": "x" * 65}):
        status, answer = a.req("POST", "/api/servers", body)
        assert status == 400, (body, answer)
    status, answer = a.req("POST", f"/api/servers/{sid}/hosts", {"host": "h.example",
                                                                   "port": 70000})
    assert status == 400 and "port" in answer["error"]["message"]
    status, answer = a.req("POST", "/api/approvals/tools/bulk",
                           {"ids": ["a"] * 101, "action": "approve"})
    assert status == 400
    status, answer = a.req("POST", "/api/approvals/tools/bulk", {"ids": ["a"], "action": "x"})
    assert status == 400
    status, answer = a.req("PUT", "/api/settings", {"log_retention_days": 0})
    assert status == 400
    status, answer = a.req("PUT", "/api/settings", {"no_such_setting": "x"})
    assert status == 400
    status, answer = a.req("GET", f"/api/servers/{sid}", raw=b"{}")
    assert status == 400
    status, answer = a.req("POST", "/api/servers", {"name": "t"},
                           headers={"Content-Type": "text/plain"})
    assert status == 415
    # ids
    u = UNKNOWN_ID
    for path in ("/api/servers/nope", "/api/servers/nope/secrets", "/api/servers/nope/hosts",
                 "/api/tools/nope", "/api/tools/nope/versions", "/api/tools/nope/diff",
                 "/api/servers/%2e%2e", "/api/servers/a%20b", "/api/approvals/bogus",
                 "/api/tools/nope/versions/1", "/api/nothing", "/api/servers/",
                 f"/api/servers/{u}", f"/api/servers/{u}/secrets", f"/api/servers/{u}/hosts",
                 f"/api/servers/{u}/modules", f"/api/tools/{u}", f"/api/tools/{u}/versions",
                 f"/api/tools/{u}/versions/1", f"/api/tools/{u}/diff",
                 f"/api/tools/{u}/diff?from=1&to=current", f"/api/servers/{sid}/x",
                 f"/api/tools/{u}/versions/0", f"/api/tools/{u}/versions/abc"):
        status, answer = a.req("GET", path)
        assert status == 404, (path, status, answer)
        error = answer["error"]     # the /api router's shape, or the server's for
        assert (error["code"] if isinstance(error, dict) else error) == "not_found", (path, answer)
    for path, body in ((f"/api/approvals/tools/{u}/approve", {}),
                       ("/api/approvals/tools/nope/approve", {}),
                       (f"/api/approvals/modules/{u}/reject", {"reason": "no"}),
                       (f"/api/servers/{u}/start", {}), (f"/api/tools/{u}/rollback",
                                                         {"version": 1}),
                       (f"/api/tools/{u}/test", {}), (f"/api/servers/{u}/secrets",
                                                       {"key": "K", "value": "v"})):
        status, answer = a.req("POST", path, body)
        assert status == 404, (path, status, answer)
    status, answer = a.req("DELETE", f"/api/servers/{u}")
    assert status == 404, answer
    status, answer = a.req("PUT", f"/api/servers/{sid}/secrets/K", {"value": "v"})
    assert status == 200, answer          # secret_set creates the row
    status, answer = a.req("DELETE", f"/api/servers/{sid}/secrets/NOPE")
    assert status == 404
    status, answer = a.req("GET", "/api/servers", headers={"Cookie": "mcpbox_session=x"})
    assert status == 401
    status, _ = a.req("PATCH", "/api/servers")
    assert status == 405
    # lists
    for query in ("limit=0", "limit=101", "limit=abc", "limit=-1", "cursor=zz",
                  "limit=5&limit=6", "cursor=-3"):
        for path in ("/api/servers", "/api/logs", "/api/activity", "/api/approvals/tools",
                     f"/api/tools/{UNKNOWN_ID}/versions"):
            status, answer = a.req("GET", f"{path}?{query}")
            assert status == 400, (path, query, answer)
    status, answer = a.req("GET", "/api/logs?success=maybe")
    assert status == 400
    status, answer = a.req("GET", "/api/logs/stats?window_s=0")
    assert status == 400
    status, answer = a.req("GET", "/api/servers?" + "&".join(f"a{i}=1" for i in range(17)))
    assert status == 400
    # pagination walks every server once
    for i in range(4):
        a.ok("POST", "/api/servers", {"name": f"p{i}"}, expect=201)
    seen, cursor = [], None
    for _ in range(10):
        page = a.ok("GET", "/api/servers?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["servers"]) <= 2
        seen += [x["name"] for x in page["servers"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(["b1", "p0", "p1", "p2", "p3"]), seen
