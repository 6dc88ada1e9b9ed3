"""The admin API on a real `mcpbox up` for the test_api_*.py files: one system
(every actor), a second gateway process on the same data dir started with
--enable-docs (its GET /api/docs is the route list the tests walk), an admin
signed in by cookie (with its CSRF token) and by bearer token."""
import os

import pytest

from conftest import bin_path, free_port, wait_for
from test_api_auth import Http, cookie_value
from test_restart_safety import System

PASSWORD = "correct horse battery"


class Admin:
    """Requests as the signed-in admin: by cookie (+ CSRF unless told not to)."""

    def __init__(self, http, session, csrf):
        self.http, self.session, self.csrf = http, session, csrf

    def req(self, method, path, body=None, csrf=True, raw=None, headers=None):
        h = {"Cookie": f"mcpbox_session={self.session}"}
        if csrf:
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        status, _, _, parsed = self.http.request(method, path, body, h, raw=raw)
        return status, parsed

    def ok(self, method, path, body=None, expect=200):
        status, parsed = self.req(method, path, body)
        assert status == expect, (method, path, status, parsed)
        return parsed


@pytest.fixture
def api(procs, tmpdir_short):
    s = System(procs, tmpdir_short)
    s.http = Http(s.port)
    s.docs_port = free_port()
    procs.start([bin_path("mcpbox-gateway"), "--data-dir", tmpdir_short,
                 "--http-port", str(s.docs_port), "--enable-docs"], name="gateway-docs")
    s.docs_http = Http(s.docs_port)

    def docs_up():
        try:
            return s.docs_http.request("GET", "/api/auth/me")[0] == 401
        except OSError:
            return False
    wait_for(docs_up, timeout=20, what="gateway with --enable-docs")
    status, _, _, body = s.http.request("POST", "/api/auth/setup",
                                        {"username": "admin", "password": PASSWORD})
    assert status == 201, body
    status, _, cookies, body = s.http.request("POST", "/api/auth/login",
                                              {"username": "admin", "password": PASSWORD})
    assert status == 200, body
    s.admin = Admin(s.http, cookie_value(cookies, "mcpbox_session")[0], body["csrf_token"])
    status, _, _, body = s.http.request("POST", "/api/auth/login",
                                        {"username": "admin", "password": PASSWORD,
                                         "mode": "bearer"})
    assert status == 200, body
    s.bearer = body["access_token"]
    yield s
    if s.up.poll() is None:
        s.up.terminate()
        assert s.up.wait(timeout=15) == 0, s.log()
