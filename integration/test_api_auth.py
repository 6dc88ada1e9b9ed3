"""/api/auth on the real `mcpbox up`: first-run setup once, login with cookies
(HttpOnly, SameSite=Strict, no Secure without TLS) or bearer tokens, CSRF on
state-changing cookie requests, refresh rotation with reuse detection, logout and
password change revoking sessions as seen by a SECOND gateway process on the same
data dir, login limits (429 with Retry-After, also for the right password) and
their expiry, and a kill -9 of the credentials actor keeping sessions and limits.
The windows are shortened through DATA/mcpbox.conf (login_window_s).
"""
import http.client
import json
import os
import re
import subprocess
import time

import pytest

from conftest import bin_path, free_port, proc_env, wait_for
from test_restart_safety import System

PASSWORD = "correct horse battery"
WINDOW_S = 15


class Http:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, headers=None, raw=None):
        h = {"Accept": "application/json"}
        if body is not None or raw is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                                else None)
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            text = resp.read()
            cookies = resp.headers.get_all("Set-Cookie") or []
            parsed = json.loads(text) if text else None
            return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), cookies, parsed
        finally:
            conn.close()


def cookie_value(cookies, name):
    for c in cookies:
        m = re.match(rf"{name}=([^;]*)", c)
        if m:
            return m.group(1), c
    return None, None


@pytest.fixture
def auth(procs, tmpdir_short):
    with open(os.path.join(tmpdir_short, "mcpbox.conf"), "w") as f:
        f.write(f"login_window_s = {WINDOW_S}\n")
    s = System(procs, tmpdir_short)
    s.http = Http(s.port)
    # a second gateway process on the same data dir
    s.port2 = free_port()
    s.gw2 = procs.start([bin_path("mcpbox-gateway"), "--data-dir", tmpdir_short,
                         "--http-port", str(s.port2)], name="gateway2")
    s.http2 = Http(s.port2)
    def second_up():
        try:
            return s.http2.request("GET", "/api/auth/me")[0] == 401
        except OSError:
            return False
    wait_for(second_up, timeout=20, what="second gateway")
    yield s
    if s.up.poll() is None:
        s.up.terminate()
        assert s.up.wait(timeout=15) == 0, s.log()


def login(http, username="admin", password=PASSWORD, mode=None, client_headers=None):
    body = {"username": username, "password": password}
    if mode:
        body["mode"] = mode
    return http.request("POST", "/api/auth/login", body, client_headers)


def cli_in(s, text, *args):
    return subprocess.run([bin_path("mcpbox"), *args, "--data-dir", s.data_dir], input=text,
                          capture_output=True, text=True, timeout=60, env=proc_env())


def setup_admin(s):
    status, _, _, body = s.http.request("POST", "/api/auth/setup",
                                        {"username": "admin", "password": PASSWORD})
    assert status == 201, body
    return body


def test_setup_only_once_and_strict_bodies(auth):
    s = auth
    for bad, code in (({"username": "ad", "password": PASSWORD}, 400),
                      ({"username": "admin", "password": "short"}, 400),
                      ({"username": "1admin", "password": PASSWORD}, 400),
                      ({"username": "admin", "password": 12345678901234}, 400),
                      ({"username": "admin", "password": PASSWORD, "extra": "x"}, 400),
                      ({"username": "admin"}, 400)):
        status, _, _, body = s.http.request("POST", "/api/auth/setup", bad)
        assert status == code and set(body["error"]) == {"code", "message"}, (bad, body)
    status, _, _, body = s.http.request("POST", "/api/auth/setup", raw=b"[1, 2]")
    assert status == 400
    status, _, _, body = s.http.request("POST", "/api/auth/setup", raw=b"{\"a\": 1, \"a\": 2}")
    assert status == 400
    status, _, _, body = s.http.request("POST", "/api/auth/setup", raw=b"x" * 20000)
    assert status == 413
    status, _, _, body = s.http.request("POST", "/api/auth/setup", {"username": "admin",
                                        "password": PASSWORD}, {"Content-Type": "text/plain"})
    assert status == 415
    assert setup_admin(s)["user"]["username"] == "admin"
    status, _, _, body = s.http.request("POST", "/api/auth/setup",
                                        {"username": "other", "password": PASSWORD})
    assert status == 409 and body["error"]["code"] == "conflict", body
    status, _, _, body = s.http2.request("POST", "/api/auth/setup",
                                         {"username": "other", "password": PASSWORD})
    assert status == 409
    # the local operator may still add admins with the CLI (password on stdin)
    assert cli_in(s, "short\n", "admin", "create", "--username", "second").returncode == 1
    r = cli_in(s, "second admin password\n", "admin", "create", "--username", "second")
    assert r.returncode == 0 and "second admin password" not in r.stdout + r.stderr, r
    assert login(s.http, "second", "second admin password")[0] == 200
    assert cli_in(s, PASSWORD + "\n", "admin", "create", "--username", "SECOND").returncode == 1
    assert s.http.request("GET", "/api/nothing")[0] == 404
    assert s.http.request("GET", "/api/auth/login")[0] == 405


def test_cookies_csrf_bearer_refresh_and_revocation(auth):
    s = auth
    setup_admin(s)
    status, _, cookies, body = login(s.http)
    assert status == 200, body
    session, session_cookie = cookie_value(cookies, "mcpbox_session")
    refresh, refresh_cookie = cookie_value(cookies, "mcpbox_refresh")
    for c in (session_cookie, refresh_cookie):
        assert "HttpOnly" in c and "SameSite=Strict" in c and "Secure" not in c, c
    assert "Path=/;" in session_cookie and "Path=/api/auth" in refresh_cookie
    assert session not in json.dumps(body) and refresh not in json.dumps(body)
    csrf = body["csrf_token"]
    jar = {"Cookie": f"mcpbox_session={session}; mcpbox_refresh={refresh}"}

    # reading with the cookie needs no CSRF token; changing state does
    status, _, _, me = s.http.request("GET", "/api/auth/me", headers=jar)
    assert status == 200 and me["user"]["username"] == "admin" and me["auth"] == "cookie"
    status, _, _, body = s.http.request("POST", "/api/auth/logout", {}, jar)
    assert status == 403 and body["error"]["code"] == "csrf"
    status, _, _, body = s.http.request("POST", "/api/auth/logout", {},
                                        {**jar, "X-CSRF-Token": "A" * 43})
    assert status == 403
    assert s.http.request("GET", "/api/auth/me", headers=jar)[0] == 200   # still logged in

    # bearer tokens work without CSRF, in either gateway
    status, _, cookies_b, bearer = login(s.http, mode="bearer")
    assert status == 200 and not cookies_b
    auth_b = {"Authorization": f"Bearer {bearer['access_token']}"}
    assert s.http2.request("GET", "/api/auth/me", headers=auth_b)[3]["auth"] == "bearer"
    assert s.http.request("GET", "/api/auth/me",
                          headers={"Authorization": "Bearer nope"})[0] == 401
    assert s.http.request("GET", "/api/auth/me",
                          headers={"Authorization": "Basic YTpi"})[0] == 401

    # refresh rotates; the old refresh token replayed revokes the whole family
    status, _, _, r1 = s.http.request("POST", "/api/auth/refresh",
                                      {"refresh_token": bearer["refresh_token"], "mode": "bearer"})
    assert status == 200 and r1["refresh_token"] != bearer["refresh_token"]
    assert s.http.request("GET", "/api/auth/me", headers=auth_b)[0] == 401     # rotated away
    auth_r1 = {"Authorization": f"Bearer {r1['access_token']}"}
    assert s.http2.request("GET", "/api/auth/me", headers=auth_r1)[0] == 200
    status, _, _, body = s.http2.request("POST", "/api/auth/refresh",
                                         {"refresh_token": bearer["refresh_token"]})
    assert status == 401 and "reused" in body["error"]["message"]
    assert s.http.request("GET", "/api/auth/me", headers=auth_r1)[0] == 401
    assert s.http.request("POST", "/api/auth/refresh",
                          {"refresh_token": r1["refresh_token"]})[0] == 401

    # refresh by cookie needs the CSRF header; then new cookies
    assert s.http.request("POST", "/api/auth/refresh", {}, jar)[0] == 403
    status, _, cookies2, body = s.http.request("POST", "/api/auth/refresh", {},
                                               {**jar, "X-CSRF-Token": csrf})
    assert status == 200, body
    session2, _ = cookie_value(cookies2, "mcpbox_session")
    refresh2, _ = cookie_value(cookies2, "mcpbox_refresh")
    jar2 = {"Cookie": f"mcpbox_session={session2}; mcpbox_refresh={refresh2}",
            "X-CSRF-Token": body["csrf_token"]}
    # logout in gateway 1 is seen by gateway 2 at once
    assert s.http2.request("GET", "/api/auth/me", headers=jar2)[0] == 200
    status, _, cleared, _ = s.http.request("POST", "/api/auth/logout", {}, jar2)
    assert status == 200 and any("Max-Age=0" in c for c in cleared)
    assert s.http2.request("GET", "/api/auth/me", headers=jar2)[0] == 401

    # password change revokes every session of that admin, in every gateway
    sessions = [login(s.http, mode="bearer")[3] for _ in range(2)]
    heads = [{"Authorization": f"Bearer {t['access_token']}"} for t in sessions]
    assert all(s.http2.request("GET", "/api/auth/me", headers=h)[0] == 200 for h in heads)
    status, _, _, body = s.http.request("POST", "/api/auth/password",
                                        {"current_password": "wrong password!!",
                                         "new_password": "another long password"}, heads[0])
    assert status == 401
    status, _, _, body = s.http.request("POST", "/api/auth/password",
                                        {"current_password": PASSWORD,
                                         "new_password": "another long password"}, heads[0])
    assert status == 200, body
    assert all(s.http2.request("GET", "/api/auth/me", headers=h)[0] == 401 for h in heads)
    assert login(s.http)[0] == 401
    assert login(s.http, password="another long password")[0] == 200


def test_login_limits_expiry_and_credentials_restart(auth):
    s = auth
    setup_admin(s)
    status, _, _, tokens = login(s.http, mode="bearer")     # a session made before
    assert status == 200, tokens
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    started = time.monotonic()
    for _ in range(5):
        assert login(s.http, password="wrong password!")[0] == 401
    status, headers, _, body = login(s.http)            # the right password, still refused
    assert status == 429 and body["error"]["code"] == "rate_limited", body
    assert 1 <= int(headers["retry-after"]) <= WINDOW_S
    assert login(s.http2)[0] == 429                      # every gateway

    # kill -9 of credentials under mcpbox up: the session and the limits survive
    s.kill_and_wait_restart("mcpbox-credentials")
    wait_for(lambda: s.http.request("GET", "/api/auth/me", headers=bearer)[0] == 200,
             timeout=10, what="session after restart")
    assert time.monotonic() - started < WINDOW_S - 1, "too slow to check the limit held"
    assert login(s.http)[0] == 429
    # and they expire with their window
    time.sleep(max(0.0, WINDOW_S + 1 - (time.monotonic() - started)))
    assert login(s.http)[0] == 200

    # an unknown username is limited the same way, and answers like a wrong password
    for _ in range(5):
        assert login(s.http, username="nobody")[0] == 401
    assert login(s.http, username="nobody")[0] == 429
    # a locked-out admin: reset-password by the operator clears the username's
    # failures and revokes its sessions
    for _ in range(5):
        login(s.http, password="wrong password!", client_headers=None)
    assert login(s.http)[0] == 429
    r = cli_in(s, "a brand new password\n", "admin", "reset-password", "--username", "admin")
    assert r.returncode == 0, r.stderr
    assert s.http.request("GET", "/api/auth/me", headers=bearer)[0] == 401


# /api and /ws from a non-loopback peer, with and without api_allow_remote, and the
# login limits per client address and per username: integration/test_api_peers.py
