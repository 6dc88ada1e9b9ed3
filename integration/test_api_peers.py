"""Who may reach /api and /ws, login limits per address and per username, and
logins that never stall other requests — on one real `mcpbox up` for the module.

- Two more gateway processes on the same data dir listen on 0.0.0.0, one with
  api_allow_remote. A client connecting from one of this machine's non-loopback
  addresses (or, as root, from 10.213.7.1 on a dummy interface the module makes
  and removes) is a remote peer: /api and the /ws upgrade answer it 403 unless
  api_allow_remote is set, when they reach authentication (401). /mcp keeps its
  own Host rules either way.
- The client binds its socket to 127.0.0.2, 127.0.0.3 …: loopback, but distinct
  peers to the gateway, so failures per address and per username are told apart.
- While several logins hash (Argon2id on the credentials actor's worker threads),
  /health and an authenticated GET /api/auth/me are timed.
"""
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import Procs, bin_path, free_port, proc_env, wait_for
from test_restart_safety import System

PASSWORD = "correct horse battery"
DUMMY_IF, DUMMY_ADDR = "mbtest0", "10.213.7.1"


def request(port, method, path, body=None, headers=None, source=None, host="127.0.0.1"):
    """One request from `source` (an address of this machine) to host:port."""
    h = {"Accept": "application/json"}
    if body is not None:
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    conn = http.client.HTTPConnection(host, port, timeout=30,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                     headers=h)
        resp = conn.getresponse()
        text = resp.read()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed
    finally:
        conn.close()


def ws_upgrade(port, source, host, origin_host):
    """A websocket upgrade of /ws: the status it is answered with."""
    status, _, _ = request(port, "GET", "/ws", headers={
        "Host": origin_host, "Origin": f"http://{origin_host}", "Connection": "Upgrade",
        "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, source=source, host=host)
    return status


def non_loopback_address():
    """(address, made): an IPv4 address of this machine off 127.0.0.0/8,
    made on a dummy interface when there is none (root only)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        address = line.split()[3].split("/")[0]
        if not address.startswith("127."):
            return address, False
    if os.geteuid() != 0:
        pytest.skip("no non-loopback IPv4 address here, and making one on a dummy "
                    "interface needs root")
    for argv in (["ip", "link", "add", DUMMY_IF, "type", "dummy"],
                 ["ip", "addr", "add", DUMMY_ADDR + "/32", "dev", DUMMY_IF],
                 ["ip", "link", "set", DUMMY_IF, "up"]):
        subprocess.run(argv, check=True, capture_output=True)
    return DUMMY_ADDR, True


@pytest.fixture(scope="module")
def system():
    data_dir = os.path.realpath(tempfile.mkdtemp(prefix="mb", dir="/tmp"))
    procs = Procs(data_dir)
    made = False
    try:
        s = System(procs, data_dir)
        s.remote, made = non_loopback_address()
        s.open_port, s.closed_port = free_port(), free_port()
        for port, extra in ((s.closed_port, []), (s.open_port, ["--api-allow-remote"])):
            procs.start([bin_path("mcpbox-gateway"), "--data-dir", data_dir, "--http-host",
                         "0.0.0.0", "--http-port", str(port), *extra], name=f"gateway-{port}")
        for port in (s.closed_port, s.open_port):
            def up(port=port):
                try:
                    return request(port, "GET", "/health")[0] == 200
                except OSError:
                    return False
            wait_for(up, timeout=20, what=f"gateway on 0.0.0.0:{port}")
        status, _, body = request(s.port, "POST", "/api/auth/setup",
                                  {"username": "admin", "password": PASSWORD})
        assert status == 201, body
        for name in ("victim", "bystander"):
            r = subprocess.run([bin_path("mcpbox"), "admin", "create", "--username", name,
                                "--data-dir", data_dir], input=PASSWORD + "\n",
                               capture_output=True, text=True, timeout=30, env=proc_env())
            assert r.returncode == 0, r.stderr
        yield s
        if s.up.poll() is None:
            s.up.terminate()
            assert s.up.wait(timeout=15) == 0, s.log()
    finally:
        procs.cleanup()
        if made:
            subprocess.run(["ip", "link", "del", DUMMY_IF], capture_output=True)
        shutil.rmtree(data_dir, ignore_errors=True)


# --- /api and /ws: loopback only unless api_allow_remote ----------------------------

def test_remote_peer_refused_unless_allowed(system):
    s = system
    remote = s.remote
    # a remote peer, on the gateway without api_allow_remote: 403 before any route
    # or credential is looked at
    for method, path, body in (("GET", "/api/auth/me", None),
                               ("POST", "/api/auth/login", {"username": "admin",
                                                            "password": PASSWORD}),
                               ("GET", "/api/servers", None), ("GET", "/api/nothing", None)):
        status, _, answer = request(s.closed_port, method, path, body, source=remote,
                                    host=remote)
        assert status == 403, (path, status, answer)
        assert answer["error"]["code"] == "forbidden" and "loopback" in answer["error"]["message"]
    assert ws_upgrade(s.closed_port, remote, remote, f"127.0.0.1:{s.closed_port}") == 403
    # the same gateway answers a loopback peer (127.0.0.2 too): the peer decides,
    # not the address it listens on
    for source in ("127.0.0.1", "127.0.0.2"):
        assert request(s.closed_port, "GET", "/api/auth/me", source=source)[0] == 401
        assert ws_upgrade(s.closed_port, source, "127.0.0.1",
                          f"127.0.0.1:{s.closed_port}") == 401

    # with api_allow_remote the same requests reach authentication
    status, _, answer = request(s.open_port, "GET", "/api/auth/me", source=remote, host=remote)
    assert status == 401 and answer["error"]["code"] == "unauthorized", answer
    assert request(s.open_port, "GET", "/api/nothing", source=remote, host=remote)[0] == 404
    assert ws_upgrade(s.open_port, remote, remote, f"127.0.0.1:{s.open_port}") == 401
    status, _, tokens = request(s.open_port, "POST", "/api/auth/login",
                                {"username": "admin", "password": PASSWORD, "mode": "bearer"},
                                source=remote, host=remote)
    assert status == 200, tokens
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    status, _, me = request(s.open_port, "GET", "/api/auth/me", headers=bearer, source=remote,
                            host=remote)
    assert status == 200 and me["user"]["username"] == "admin", me
    # a valid token does not open the closed gateway to a remote peer
    assert request(s.closed_port, "GET", "/api/auth/me", headers=bearer, source=remote,
                   host=remote)[0] == 403


def test_mcp_keeps_its_own_rules_for_remote_peers(system):
    s = system
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "pytest-peers", "version": "1"}}}
    mcp_headers = {"Accept": "application/json, text/event-stream",
                   "MCP-Protocol-Version": "2025-11-25"}
    for port in (s.closed_port, s.open_port):
        # api_allow_remote is not /mcp's rule: an allowed Host is answered...
        status, headers, _ = request(port, "POST", "/mcp", init,
                                     {**mcp_headers, "Host": f"127.0.0.1:{port}"},
                                     source=s.remote, host=s.remote)
        assert status == 200 and headers.get("mcp-session-id"), (port, status)
        # ...and a Host that is not allowed is refused by /mcp's own check
        status, _, body = request(port, "POST", "/mcp", init,
                                  {**mcp_headers, "Host": f"{s.remote}:{port}"},
                                  source=s.remote, host=s.remote)
        assert status == 403 and b"Host" in (body if isinstance(body, bytes)
                                             else json.dumps(body).encode()), (port, body)


# --- login limits: per client address and per username, apart ------------------------

def login(s, username, password, source):
    return request(s.port, "POST", "/api/auth/login",
                   {"username": username, "password": password}, source=source)


def all_statuses(one, items):
    with ThreadPoolExecutor(len(items)) as pool:
        return [answer[0] for answer in pool.map(one, items)]


def test_failures_from_many_addresses_lock_the_username(system):
    s = system
    sources = [f"127.0.0.{i}" for i in range(2, 7)]
    # one failure from each address (at once: the two hashing threads share them)
    assert all_statuses(lambda source: login(s, "victim", "wrong password!!", source),
                        sources) == [401] * len(sources)
    # the username is locked from every address, a fresh one too, right password too
    for source in ("127.0.0.7", "127.0.0.2"):
        status, headers, body = login(s, "Victim", PASSWORD, source)
        assert status == 429 and body["error"]["code"] == "rate_limited", body
        assert 1 <= int(headers["retry-after"]) <= 60
    # no address is locked: another username from them still signs in
    for source in (sources[0], sources[-1]):
        assert login(s, "bystander", PASSWORD, source)[0] == 200, source


def test_failures_against_many_usernames_lock_the_address(system):
    s = system
    names = ["admin", "nobody1", "nobody2", "nobody3", "nobody4"]
    # one failure for each username
    assert all_statuses(lambda name: login(s, name, "wrong password!!", "127.0.0.20"),
                        names) == [401] * len(names)
    # the address is locked for every username, the right password too
    status, headers, body = login(s, "bystander", PASSWORD, "127.0.0.20")
    assert status == 429 and 1 <= int(headers["retry-after"]) <= 60, body
    # other addresses are not, and no username is
    assert login(s, "bystander", PASSWORD, "127.0.0.21")[0] == 200
    assert login(s, "admin", PASSWORD, "127.0.0.21")[0] == 200
    assert login(s, "nobody1", "wrong password!!", "127.0.0.21")[0] == 401


# --- a login never stalls other requests ---------------------------------------------

LOGINS = 6


def test_hashing_logins_do_not_stall_other_requests(system):
    s = system
    status, _, tokens = request(s.port, "POST", "/api/auth/login",
                                {"username": "admin", "password": PASSWORD, "mode": "bearer"},
                                source="127.0.0.30")
    assert status == 200, tokens
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    # one login alone: about one hash (it verifies the password once)
    alone = []
    for _ in range(3):
        started = time.monotonic()
        assert login(s, "admin", PASSWORD, "127.0.0.31")[0] == 200
        alone.append(time.monotonic() - started)
    one_login = statistics.median(alone)

    done, results = threading.Event(), []
    barrier = threading.Barrier(LOGINS + 1)

    def one(i):
        barrier.wait()
        started = time.monotonic()
        status = login(s, "admin", PASSWORD, f"127.0.0.{40 + i}")[0]
        results.append((status, time.monotonic() - started))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(LOGINS)]
    for t in threads:
        t.start()
    barrier.wait()
    burst_started = time.monotonic()
    time.sleep(0.01)
    health, me = [], []
    # probe until the last login is answered: every probe overlaps the hashing
    while len(results) < LOGINS:
        started = time.monotonic()
        assert request(s.port, "GET", "/health")[0] == 200
        health.append(time.monotonic() - started)
        started = time.monotonic()
        status, _, body = request(s.port, "GET", "/api/auth/me", headers=bearer)
        assert status == 200, body
        me.append(time.monotonic() - started)
        if time.monotonic() - burst_started > 20:
            break
    burst = time.monotonic() - burst_started
    for t in threads:
        t.join(timeout=30)
    assert len(results) == LOGINS and all(st == 200 for st, _ in results), results
    # the probes ran from just after the logins were sent until the last was
    # answered, so all of them while hashing was under way
    assert len(me) >= 3, (burst, one_login, len(me))
    figures = (f"one login {one_login * 1000:.0f} ms; {LOGINS} concurrent logins took "
               f"{burst * 1000:.0f} ms; during them /health median "
               f"{statistics.median(health) * 1000:.1f} ms max {max(health) * 1000:.1f} ms, "
               f"/api/auth/me median {statistics.median(me) * 1000:.1f} ms "
               f"max {max(me) * 1000:.1f} ms over {len(me)} probes")
    print(figures)
    # a stalled bus loop would hold /api/auth/me for hash times (the queued
    # logins' hashes one after another): the probes answer well under one
    # login — the median under a quarter of one; the worst, which scheduling
    # noise on a loaded machine may stretch, under one and a half
    assert statistics.median(me) < one_login / 4, figures
    assert statistics.median(health) < one_login / 4, figures
    assert max(me) < 1.5 * one_login and max(health) < 1.5 * one_login, figures
