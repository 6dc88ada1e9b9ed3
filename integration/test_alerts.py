"""Webhook alerts on the real processes: the alerts actor of `mcpbox up`
delivers to a loopback HTTP receiver this test runs, in the three formats;
a delivery answered 500 is tried again and then delivered; a crash loop of
an executor (killed three times) and the tunnel going down (the cloudflared
stand-in of test_tunnel.py, which prints its token) are alerted; log loss
and retention failures are alerted from their activity events (published
here as logkeeper publishes them: a stand-in publisher, since filling a
spool or breaking the database on cue is not possible from outside); no
body carries a secret; a full queue drops and counts; only the admin's CLI
sets URLs (no management tool can).
"""
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from busclient import BusClient
from conftest import Procs, bin_path, proc_env, wait_for
from mcp_fakes import StandInBus
from test_restart_safety import System, child_pids
from test_tunnel import CLOUDFLARED_STANDIN, wait_state

QUEUE_MAX = 12


class Receiver:
    """A loopback webhook receiver: records every POST (path, headers, body,
    the status answered); /flaky answers 500 twice then 200; /down answers
    500 while `down` is set; /hang waits until released."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()
        self.flaky = 0
        self.down = False               # /down answers 500 while set
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = 200
                    if self.path.startswith("/flaky"):
                        receiver.flaky += 1
                        status = 500 if receiver.flaky <= 2 else 200
                    if self.path.startswith("/down") and receiver.down:
                        status = 500
                    receiver.got.append((self.path, dict(self.headers), body, status))
                if self.path.startswith("/hang"):
                    receiver.release.wait(20)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, prefix):
        with self.lock:
            return [(json.loads(g[2]), g[2]) for g in self.got if g[0].startswith(prefix)]

    def answered(self, prefix):
        """(body, status) of each POST to prefix, in arrival order."""
        with self.lock:
            return [(json.loads(g[2]), g[3]) for g in self.got if g[0].startswith(prefix)]

    def close(self):
        self.release.set()
        self.server.shutdown()


@pytest.fixture(scope="module")
def system():
    base = os.path.realpath(tempfile.mkdtemp(prefix="mba", dir="/tmp"))
    data_dir = os.path.join(base, "d")
    os.makedirs(data_dir, mode=0o700)
    standin_dir = os.path.join(base, "standin")
    os.makedirs(standin_dir)
    standin = os.path.join(standin_dir, "cloudflared-standin")
    with open(standin, "w") as f:
        f.write(CLOUDFLARED_STANDIN)
    os.chmod(standin, 0o755)
    with open(os.path.join(standin_dir, "mode"), "w") as f:
        f.write("ok")
    with open(os.path.join(data_dir, "mcpbox.conf"), "w") as f:
        f.write(f"alerts_retry_ms = 100\nalerts_queue_max = {QUEUE_MAX}\n"
                f"alerts_crash_loop_count = 3\nalerts_crash_loop_window_s = 120\n"
                f"tunnel_cloudflared_path = {standin}\n"
                "tunnel_backoff_min_ms = 200\ntunnel_backoff_max_ms = 1000\n")
    procs = Procs(base)
    receiver = Receiver()
    try:
        s = System(procs, data_dir)
        s.standin_dir = standin_dir
        s.receiver = receiver
        s.bus = BusClient("ipc://" + os.path.join(data_dir, "run", "bus"), 5000)
        yield s
        s.bus.close()
        s.up.terminate()
        rc = s.up.wait(timeout=20)
        assert rc == 0, f"mcpbox up exited {rc} on SIGTERM:\n{s.log()}"
    finally:
        receiver.close()
        procs.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def add(s, path, fmt, *extra):
    r = s.cli("alerts", "add", s.receiver.url(path), "--format", fmt, "--json", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["hook"]["id"]


def hooks(s):
    r = s.cli("alerts", "list", "--json")
    assert r.returncode == 0, r.stderr
    return {h["id"]: h for h in json.loads(r.stdout)["hooks"]}


def test_three_formats_retried_on_500_and_urls_only_by_the_admin(system):
    s = system
    ids = {"json": add(s, "/json", "json"), "slack": add(s, "/flaky/slack", "slack"),
           "discord": add(s, "/discord", "discord")}
    for hook_id in ids.values():
        r = s.cli("alerts", "test", hook_id)
        assert r.returncode == 0 and "queued" in r.stdout, (r.stdout, r.stderr)
    wait_for(lambda: len(s.receiver.bodies("/json")) == 1 and len(s.receiver.bodies("/discord")) == 1
             and len(s.receiver.bodies("/flaky")) == 3, timeout=15, what="three deliveries")
    body, _ = s.receiver.bodies("/json")[0]
    assert body["source"] == "mcpbox" and body["alert"] == "alert.test"
    assert body["level"] == "info" and body["facts"] == {"hook": ids["json"]}
    assert body["time"].endswith("Z") and body["summary"]
    slack = [b for b, _ in s.receiver.bodies("/flaky")]
    assert all(set(b) == {"text"} and "[MCPbox] INFO alert.test" in b["text"] for b in slack)
    discord, _ = s.receiver.bodies("/discord")[0]
    assert discord["content"].startswith("[MCPbox] INFO alert.test")
    assert discord["allowed_mentions"] == {"parse": []} and len(discord["content"]) <= 2000
    with s.receiver.lock:
        types = {g[1].get("Content-Type") for g in s.receiver.got}
    assert types == {"application/json"}
    # the 500s were retried, then delivered: sent 1, failed 0, last HTTP 200
    listed = wait_for(lambda: (lambda h: h if h[ids["slack"]]["sent"] == 1 else None)(hooks(s)),
                      timeout=10, what="slack hook sent")
    assert listed[ids["slack"]]["failed"] == 0 and listed[ids["slack"]]["last_status"] == 200
    stats = s.bus.call("alerts", {"op": "stats"})
    assert stats["retries"] >= 2 and stats["sent"] >= 3, stats
    # the URL is shown cut: a webhook's path is its secret
    assert listed[ids["slack"]]["url"].endswith("…") and "slack" not in listed[ids["slack"]]["url"]
    # refused URLs, formats and events
    for bad in (["ftp://127.0.0.1/x", "--format", "json"],
                ["http://user:pw@127.0.0.1/x", "--format", "json"],
                ["http://127.0.0.1/x#frag", "--format", "json"],
                [s.receiver.url("/x"), "--format", "xml"],
                [s.receiver.url("/x"), "--format", "json", "--events", "nope"]):
        r = s.cli("alerts", "add", *bad)
        assert r.returncode != 0, bad
    # no management tool reaches alerts: the LLM cannot set a URL
    names = s.listed()
    assert not [n for n in names if "alert" in n or "hook" in n], names
    for hook_id in ids.values():
        assert s.cli("alerts", "remove", hook_id).returncode == 0


def test_crash_loop_of_an_executor(system):
    s = system
    add(s, "/crash", "json", "--events", "process.crash_loop")

    def executor_1():
        # the supervisor names each child in its environment
        for pid in child_pids(s.up.pid):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if b"MCPBOX_PROCESS=mcpbox-executor-1\0" in f.read():
                        return pid
            except OSError:
                pass
        return None
    for _ in range(3):
        old = wait_for(executor_1, timeout=20, what="mcpbox-executor-1")
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: (executor_1() or old) != old, timeout=20, what="restarted")
    got = wait_for(lambda: s.receiver.bodies("/crash"), timeout=15, what="crash loop alert")
    body, _ = got[0]
    assert body["alert"] == "process.crash_loop" and body["level"] == "error"
    assert body["facts"]["process"] == "mcpbox-executor-1"
    assert body["facts"]["crashes"] == 3 and "SIGKILL" in body["facts"]["last_cause"]
    assert len(got) == 1            # once per window


def test_tunnel_down_and_no_secret_in_any_body(system):
    s = system
    add(s, "/tunnel", "slack", "--events", "tunnel.down")
    add(s, "/loss", "json", "--events", "logs.lost,retention.failed")
    token = "eyJ" + secrets.token_urlsafe(120)
    r = subprocess.run([bin_path("mcpbox"), "tunnel", "configure", "--provider", "cloudflared",
                        "--token-stdin", "--data-dir", s.data_dir], input=token + "\n",
                       capture_output=True, text=True, timeout=30, env=proc_env())
    assert r.returncode == 0, r.stderr
    assert s.cli("tunnel", "start").returncode == 0
    st = wait_state(s.data_dir, "connected")
    with open(os.path.join(s.standin_dir, "mode"), "w") as f:
        f.write("exit")
    os.kill(st["pid"], signal.SIGTERM)
    got = wait_for(lambda: s.receiver.bodies("/tunnel"), timeout=15, what="tunnel.down alert")
    assert "tunnel.down" in got[0][0]["text"]
    with open(os.path.join(s.standin_dir, "mode"), "w") as f:
        f.write("ok")
    assert s.cli("tunnel", "stop").returncode == 0

    # log loss and a failed prune, as logkeeper announces them, with a secret
    # in the record's message and details
    secret = "sk-" + secrets.token_hex(20)
    pub = StandInBus(s.data_dir)
    # id 0: as logkeeper announces a record it could not store (an id the
    # alerter examined already would be skipped; one past logkeeper's newest
    # row would move its catch-up cursor, see catchup.c)
    fresh = 0
    try:
        def announce():
            for kind, level, details in (
                    ("logs.dropped", "error", {"dropped": 7, "api_token": secret,
                                               "note": secret, "args": {"password": secret}}),
                    ("logs.pruned", "error", {"failed": True, "deleted": 0, "cookie": secret})):
                pub.publish("activity", {"id": fresh, "type": kind, "level": level,
                                         "server_id": None, "message": f"lost; key={secret}",
                                         "details": details, "source": "mcpbox-gateway",
                                         "created_at": "2026-12-06T05:00:00.000Z"})

        def seen():
            names = {b["alert"] for b, _ in s.receiver.bodies("/loss")}
            return names >= {"logs.lost", "retention.failed"}
        # a new subscriber misses what is published before it is joined:
        # announced again only if nothing came within 2 s
        for _ in range(5):
            announce()
            try:
                wait_for(seen, timeout=2, what="loss alerts")
                break
            except AssertionError:
                pass
        assert seen(), (s.bus.call("alerts", {"op": "stats"}), [g[0] for g in s.receiver.got])
    finally:
        pub.close()
    lost = [b for b, _ in s.receiver.bodies("/loss") if b["alert"] == "logs.lost"][0]
    assert lost["facts"] == {"dropped": 7, "source": "mcpbox-gateway"}, lost
    with s.receiver.lock:
        raw = [g[2] for g in s.receiver.got]
    for body in raw:
        assert secret.encode() not in body and token.encode() not in body
        assert token[:40].encode() not in body


def test_queue_overflow_is_counted(system):
    s = system
    hook = add(s, "/hang", "json", "--events", "alert.test")
    before = wait_for(lambda: (lambda st: st if st["queued"] == 0 else None)(
        s.bus.call("alerts", {"op": "stats"})), timeout=15, what="an empty queue")
    outs = [s.cli("alerts", "test", hook).stdout for _ in range(QUEUE_MAX + 3)]
    assert sum("queued" in o for o in outs) == QUEUE_MAX, outs
    assert sum("dropped" in o for o in outs) == 3, outs
    stats = s.bus.call("alerts", {"op": "stats"})
    assert stats["dropped"] - before["dropped"] == 3 and stats["queued"] == QUEUE_MAX, stats
    s.receiver.release.set()
    wait_for(lambda: s.bus.call("alerts", {"op": "stats"})["queued"] == 0, timeout=15,
             what="the queue drained")

    def recorded():
        with sqlite3.connect(os.path.join(s.data_dir, "mcpbox.db"), timeout=10) as db:
            return db.execute("SELECT details FROM activity_log WHERE type = 'alerts.dropped'"
                              ).fetchall()
    # every drop so far (the earlier tests' floods included) is reported
    total = s.bus.call("alerts", {"op": "stats"})["dropped"]
    wait_for(lambda: sum(json.loads(d)["dropped"] for (d,) in recorded()) == total,
             timeout=10, what="alerts.dropped activity with every drop")
    # removed: no more deliveries
    assert s.cli("alerts", "remove", hook).returncode == 0
    assert hook not in hooks(s)
    r = s.cli("alerts", "test", hook)
    assert r.returncode == 1 and "not_found" in r.stderr + r.stdout


def test_the_admin_api_and_never_a_whole_url(system):
    """/api/alerts: the dashboard's door to the same hooks. A session is
    needed (and CSRF by cookie); the alerts actor validates as for the CLI;
    no answer ever carries a URL's secret path."""
    from test_api_auth import Http, cookie_value
    s = system
    http = Http(s.port)
    assert http.request("GET", "/api/alerts")[0] == 401
    assert http.request("POST", "/api/alerts", {"url": s.receiver.url("/x"),
                                                "format": "json"})[0] == 401
    status, _, _, body = http.request("POST", "/api/auth/setup",
                                      {"username": "alertsadmin", "password": "alerts api pw 1"})
    assert status == 201, body
    status, _, cookies, body = http.request("POST", "/api/auth/login",
                                            {"username": "alertsadmin",
                                             "password": "alerts api pw 1"})
    assert status == 200, body
    cookie = {"Cookie": f"mcpbox_session={cookie_value(cookies, 'mcpbox_session')[0]}"}
    admin = dict(cookie, **{"X-CSRF-Token": body["csrf_token"]})

    secret = "T0P-s3cret-" + "abcdef0123456789" * 2
    hook = {"url": s.receiver.url(f"/api-hook/{secret}"), "format": "slack",
            "events": ["circuit.opened", "tunnel.down"]}
    # by cookie without the CSRF header: refused, nothing added
    assert http.request("POST", "/api/alerts", hook, cookie)[0] == 403
    # the same refusals as `mcpbox alerts add`
    for bad in ({"url": "ftp://127.0.0.1/x", "format": "json"},
                {"url": "http://user:pw@127.0.0.1/x", "format": "json"},
                {"url": "http://127.0.0.1/x#frag", "format": "json"},
                {"url": s.receiver.url("/x"), "format": "xml"},
                {"url": s.receiver.url("/x"), "format": "json", "events": ["nope"]},
                {"url": s.receiver.url("/x"), "format": "json", "events": "circuit.opened"},
                {"url": s.receiver.url("/x"), "format": "json", "events": ["a"] * 9},
                {"url": s.receiver.url("/x"), "format": "json", "created_by": "llm"},
                {"url": "x" * 3000, "format": "json"},
                {"format": "json"}):
        status, _, _, body = http.request("POST", "/api/alerts", bad, admin)
        assert status == 400, (bad, status, body)
    status, _, _, body = http.request("GET", "/api/alerts", None, admin)
    assert status == 200 and all("api-hook" not in h["url"] for h in body["hooks"]), body

    status, _, _, made = http.request("POST", "/api/alerts", hook, admin)
    assert status == 201, made
    hook_id = made["hook"]["id"]
    assert made["hook"]["format"] == "slack"
    assert made["hook"]["events"] == "circuit.opened,tunnel.down"
    status, _, _, listed = http.request("GET", "/api/alerts", None, admin)
    assert status == 200
    mine = [h for h in listed["hooks"] if h["id"] == hook_id]
    assert len(mine) == 1 and mine[0]["created_by"] == "dashboard:alertsadmin", mine
    assert mine[0]["url"].startswith(f"http://127.0.0.1:{s.receiver.port}/api-h")
    assert secret not in json.dumps(made) and secret not in json.dumps(listed)
    assert secret not in s.cli("alerts", "list", "--json").stdout

    status, _, _, body = http.request("POST", f"/api/alerts/{hook_id}/test", {}, admin)
    assert status == 200 and body["queued"] is True, body
    delivered = wait_for(lambda: s.receiver.bodies("/api-hook/"), timeout=15,
                         what="the test alert")
    assert "alert.test" in delivered[0][0]["text"]

    status, _, _, body = http.request("DELETE", f"/api/alerts/{hook_id}", None, admin)
    assert status == 200 and body["id"] == hook_id, body
    assert http.request("DELETE", f"/api/alerts/{hook_id}", None, admin)[0] == 404
    assert http.request("POST", f"/api/alerts/{hook_id}/test", {}, admin)[0] == 404
    status, _, _, listed = http.request("GET", "/api/alerts", None, admin)
    assert hook_id not in {h["id"] for h in listed["hooks"]}


def alerts_pid(s):
    """The pid of mcpbox-alerts (the supervisor names each child in its environment)."""
    for pid in child_pids(s.up.pid):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if b"MCPBOX_PROCESS=mcpbox-alerts\0" in f.read():
                    return pid
        except OSError:
            pass
    return None


def outbox_rows(s):
    with sqlite3.connect(os.path.join(s.data_dir, "mcpbox.db"), timeout=10) as db:
        return db.execute("SELECT id, attempts FROM alert_outbox").fetchall()


def test_a_delivery_in_backoff_survives_a_kill_of_the_alerts_actor(system):
    # Last in this file: it restarts the alerts actor (its in-memory stats
    # start again at zero, which test_queue_overflow_is_counted compares).
    s = system
    s.receiver.down = True
    hook = add(s, "/down", "json", "--events", "alert.test")
    old = wait_for(lambda: alerts_pid(s), timeout=20, what="mcpbox-alerts")
    # the earlier tests' deliveries reached their final state (rows deleted)
    wait_for(lambda: outbox_rows(s) == [], timeout=15, what="an empty outbox")
    r = s.cli("alerts", "test", hook)
    assert r.returncode == 0 and "queued" in r.stdout, (r.stdout, r.stderr)
    # answered 500: the delivery is in backoff, its row in the outbox
    wait_for(lambda: s.receiver.answered("/down"), timeout=15, what="a first attempt")
    os.kill(old, signal.SIGKILL)
    first = s.receiver.answered("/down")
    assert first and all(status == 500 for _, status in first), first
    delivery = first[0][0]["id"]
    assert len(delivery) == 36 and all(b["id"] == delivery for b, _ in first), first
    assert [row[0] for row in outbox_rows(s)] == [delivery]
    s.receiver.down = False
    # the supervisor restarts the actor, which sends what its outbox holds
    new = wait_for(lambda: (alerts_pid(s) or old) != old and alerts_pid(s), timeout=30,
                   what="mcpbox-alerts restarted")
    assert new != old
    wait_for(lambda: any(status == 200 for _, status in s.receiver.answered("/down")),
             timeout=30, what="the alert delivered after the restart")
    wait_for(lambda: outbox_rows(s) == [], timeout=10, what="the outbox emptied")
    got = s.receiver.answered("/down")
    # one alert, one id; delivered exactly once (every earlier attempt was a 500)
    assert {b["id"] for b, _ in got} == {delivery}, got
    assert [status for _, status in got].count(200) == 1, got
    assert got[-1][1] == 200 and got[0][0]["alert"] == "alert.test"
    # the broker may still route one request to the killed worker (worker_lost)
    stats = wait_for(lambda: (lambda st: st if "sent" in st else None)(
        s.bus.call("alerts", {"op": "stats"})), timeout=15, what="the new worker's stats")
    assert stats.get("sent") == 1 and stats.get("failed") == 0 and stats.get("queued") == 0, stats
    assert s.cli("alerts", "remove", hook).returncode == 0


def test_what_is_published_while_the_alerter_is_down_is_caught_up(system):
    # The alerter's own crashes are published (by mcpbox up's supervisor)
    # while it is down: it hears of them only by asking logkeeper for the
    # activity after its cursor when it starts again (catchup.c).
    s = system
    add(s, "/selfcrash", "json", "--events", "process.crash_loop")
    for _ in range(3):
        old = wait_for(lambda: alerts_pid(s), timeout=30, what="mcpbox-alerts")
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: (alerts_pid(s) or old) != old, timeout=30, what="restarted")
    got = wait_for(lambda: s.receiver.bodies("/selfcrash"), timeout=20,
                   what="the alerter's own crash loop alert")
    body, _ = got[0]
    assert body["alert"] == "process.crash_loop"
    assert body["facts"]["process"] == "mcpbox-alerts", body
    assert body["facts"]["crashes"] == 3 and "SIGKILL" in body["facts"]["last_cause"]
    # caught up once: a restart does not raise it again
    with sqlite3.connect(os.path.join(s.data_dir, "mcpbox.db"), timeout=10) as db:
        cursor = db.execute("SELECT last_activity_id FROM alert_cursor").fetchone()[0]
        newest = db.execute("SELECT max(id) FROM activity_log").fetchone()[0]
    assert 0 < cursor <= newest
    wait_for(lambda: s.bus.call("alerts", {"op": "stats"}).get("ok"), timeout=15,
             what="the alerter answers")
    assert len(s.receiver.bodies("/selfcrash")) == 1
