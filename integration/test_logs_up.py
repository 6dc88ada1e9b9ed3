"""Logs end to end under `mcpbox up`: every process, real sockets, one
database file, judged on that file.

  - a burst of 10,000 tool calls leaves exactly 10,000 execution log rows
    while logkeeper is killed with SIGKILL twice during the burst (and
    restarted by the supervisor): the gateway's log spool keeps every
    record until logkeeper acknowledges it, logkeeper's record ids make a
    resend harmless;
  - arguments named like secrets never reach the file or its WAL;
  - every activity type appears when its action happens, from the process
    where it happens (the `source` column);
  - `mcpbox logs tail|query|stats` read it back;
  - the gateway's `execution_logs = off` stops execution records only:
    the tool.called activity and every other gateway's records go on.

Runs the real binaries from $MCPBOX_BUILD_DIR/bin; Debian's python3 only.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

import pytest

from busclient import BusClient
from conftest import BUILD, free_port, wait_for

MCPBOX = os.path.join(BUILD, "bin", "mcpbox")
GATEWAY = os.path.join(BUILD, "bin", "mcpbox-gateway")
ACCEPT = "application/json, text/event-stream"
# MCPBOX_LOGS_BURST shortens the burst for a quick local run, or lengthens it
# (scripts/soak.sh logs); the claim is 10,000
BURST = int(os.environ.get("MCPBOX_LOGS_BURST", "10000"))
# seconds allowed for the burst: 20 calls/s at the least, and 20 minutes
BURST_S = max(1200, BURST // 20)
CALLERS = 8


def env(**extra):
    e = dict(os.environ)
    e["MCPBOX_HEARTBEAT_MS"] = "250"
    e.update({k: str(v) for k, v in extra.items()})
    return e


def cli(data_dir, *args, timeout=30):
    return subprocess.run([MCPBOX, *args, "--data-dir", data_dir], capture_output=True,
                          text=True, timeout=timeout, env=env())


class Mcp:
    """A minimal MCP Streamable HTTP client on one keep-alive connection."""

    def __init__(self, port, name="pytest-logs"):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.ids = 0
        status, headers, body = self.post({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": name, "version": "1"}}})
        assert status == 200, body
        self.session = headers["mcp-session-id"]
        status, _, _ = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert status == 202

    def post(self, message):
        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        if getattr(self, "session", None):
            headers["Mcp-Session-Id"] = self.session
            headers["MCP-Protocol-Version"] = "2025-11-25"
        body = json.dumps(message).encode()
        try:
            self.conn.request("POST", "/mcp", body=body, headers=headers)
            resp = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # the gateway closed the idle keep-alive connection (5 s; a slow,
            # loaded machine makes a test's pauses longer): it read nothing
            # of this request, so send it again on a new connection
            self.conn.close()
            self.conn.request("POST", "/mcp", body=body, headers=headers)
            resp = self.conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()

    def call(self, name, arguments):
        self.ids += 1
        status, _, body = self.post({"jsonrpc": "2.0", "id": self.ids, "method": "tools/call",
                                     "params": {"name": name, "arguments": arguments}})
        assert status == 200, body
        return json.loads(body)["result"]

    def manage(self, name, arguments):
        result = self.call(name, arguments)
        assert result.get("isError") is False, (name, result)
        return result["structuredContent"]

    def close(self):
        self.conn.close()


class Up:
    def __init__(self, **extra_env):
        self.dir = tempfile.mkdtemp(prefix="mbl", dir="/tmp")
        self.port = free_port()
        self.err = open(os.path.join(self.dir, "up.err"), "w")
        self.proc = subprocess.Popen(
            [MCPBOX, "up", "--data-dir", self.dir, "--http-port", str(self.port),
             "--executors", "2"],
            stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err, env=env(**extra_env))
        self.db = os.path.join(self.dir, "mcpbox.db")
        self.bus = None

        def ready():
            assert self.proc.poll() is None, self.log()
            r = cli(self.dir, "status", "--json", timeout=15)
            try:
                return json.loads(r.stdout).get("ok")
            except ValueError:
                return False
        wait_for(ready, timeout=60, interval=0.3, what="mcpbox up ready")
        self.bus = BusClient("ipc://" + os.path.join(self.dir, "run", "bus"), 5000)

    def log(self):
        self.err.flush()
        with open(os.path.join(self.dir, "up.err"), errors="replace") as f:
            return f.read()[-6000:]

    def rows(self, sql, *args):
        with sqlite3.connect(self.db, timeout=10) as db:
            return db.execute(sql, args).fetchall()

    def pid_of(self, service):
        reply = self.bus.call(service, {"op": "health"}, 2000)
        assert reply.get("ok"), reply
        return reply["pid"]

    def close(self):
        if self.bus:
            self.bus.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def up():
    # the first retention prune two seconds after start, not a minute; a
    # lockout after two failed logins
    system = Up(MCPBOX_LOG_PRUNE_FIRST_S=2, MCPBOX_LOGIN_MAX_FAILURES=2)
    yield system
    system.close()


def make_tool(up, mcp, server, tool, code):
    sid = mcp.manage("mcpbox_create_server", {"name": server})["id"]
    tid = mcp.manage("mcpbox_create_tool", {"server_id": sid, "name": tool,
                                            "python_code": code})["id"]
    mcp.manage("mcpbox_request_publish", {"tool_id": tid})
    r = cli(up.dir, "approvals", "approve", "tool", tid)
    assert r.returncode == 0, r.stderr
    mcp.manage("mcpbox_start_server", {"server_id": sid})
    full = f"{server}__{tool}"

    def callable_now():
        result = mcp.call(full, {"n": -1} if "n:" in code else {"password": "x", "note": "y"})
        return result.get("isError") is False
    wait_for(callable_now, timeout=15, what=f"{full} callable")
    return sid, tid, full


def test_burst_with_logkeeper_killed_twice_loses_nothing(up):
    mcp = Mcp(up.port)
    _, tid, full = make_tool(up, mcp, "burst", "echo", "async def main(n: int):\n    return n\n")
    mcp.close()
    # each caller's session may make more calls a minute than the default
    # mcp_rate_limit_rpm (300): this test is about logs, not the limit
    assert cli(up.dir, "policy", "set", "mcp_rate_limit_rpm", "10000").returncode == 0
    done = [0]
    failures = []
    uncertain = []      # the connection broke before the answer: ran or not
    broken = []         # why, for the assertion's message
    lock = threading.Lock()
    counter = iter(range(BURST))

    def caller():
        client = Mcp(up.port, name="burst-caller")
        try:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                try:
                    result = client.call(full, {"n": n})
                except (http.client.HTTPException, OSError) as e:
                    # never sent again: a second send could be a second run
                    with lock:
                        uncertain.append(n)
                        broken.append(f"{n}: {e!r}")
                        done[0] += 1
                    client.close()
                    client = Mcp(up.port, name="burst-caller")
                    continue
                with lock:
                    done[0] += 1
                    if result.get("isError") is not False:
                        failures.append(result)
        finally:
            client.close()

    threads = [threading.Thread(target=caller) for _ in range(CALLERS)]
    for t in threads:
        t.start()
    killed = []
    for at in (BURST * 3 // 10, BURST * 65 // 100):
        wait_for(lambda: done[0] >= at, timeout=BURST_S, interval=0.05, what=f"{at} calls")
        pid = up.pid_of("logs")
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
        # the supervisor brings it back; the burst goes on meanwhile
        wait_for(lambda: up.bus.call("logs", {"op": "health"}, 1000).get("pid") not in (None, pid),
                 timeout=30, interval=0.2, what="logkeeper restarted")
    for t in threads:
        t.join(timeout=BURST_S)
    assert done[0] == BURST and not failures, failures[:3]
    assert len(set(killed)) == 2
    # a loaded machine may drop an HTTP connection now and then; such a call
    # may or may not have run, so it is not counted either way
    assert len(uncertain) <= BURST // 200, broken[:10]
    answered = BURST - len(uncertain)

    def ns():
        return [n for (n,) in up.rows(
            "SELECT json_extract(input_args, '$.n') FROM execution_logs"
            " WHERE tool_id = ? AND is_test = 0"
            " AND json_extract(input_args, '$.n') >= 0", tid)]
    wait_for(lambda: len(set(ns()) - set(uncertain)) >= answered, timeout=180, interval=0.5,
             what=f"{answered} execution log rows (have {len(ns())})")
    time.sleep(2)                   # a late resend must not add a row
    logged = ns()
    # every answered call has exactly one row; nothing twice
    assert len(logged) == len(set(logged))
    assert set(range(BURST)) - set(uncertain) <= set(logged)
    assert len(logged) == answered + len(set(uncertain) & set(logged))
    if not uncertain:
        assert len(logged) == BURST
    # the crashes are in the activity log, from the supervisor
    crashed = up.rows("SELECT details FROM activity_log WHERE type = 'process.crashed'"
                      " AND source = 'mcpbox-up'")
    assert {json.loads(d)["pid"] for (d,) in crashed} >= set(killed)
    # and nothing was lost anywhere: /health says so
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=10)
    conn.request("GET", "/health")
    health = json.loads(conn.getresponse().read())
    conn.close()
    assert health["log_records_lost"] == 0, health
    assert health["gateway"]["log_spool"]["dropped"] == 0
    assert health["gateway"]["log_spool"]["acked"] >= 2 * BURST


def test_secret_named_arguments_never_reach_the_file(up):
    mcp = Mcp(up.port)
    code = "async def main(password: str, note: str):\n    return len(password)\n"
    _, tid, full = make_tool(up, mcp, "redact", "login", code)
    secret = "pw-Q7z-never-logged-91"
    token = "tok-8Hh-never-logged-22"
    result = mcp.call(full, {"password": secret, "note": "visible-note-5"})
    assert result["isError"] is False
    mcp.manage("mcpbox_test_code", {"tool_id": tid,
                                    "arguments": {"password": token, "note": "visible-note-6"}})
    wait_for(lambda: up.rows("SELECT COUNT(*) FROM execution_logs WHERE tool_id = ?"
                             " AND input_args LIKE '%visible-note-%'", tid)[0][0] >= 2,
             timeout=15, what="the runs logged")
    logs = mcp.manage("mcpbox_get_tool_logs", {"tool_id": tid, "limit": 50})["logs"]
    assert all(entry["input_args"]["password"] == "[REDACTED]" for entry in logs)
    mcp.close()
    blob = b""
    for suffix in ("", "-wal"):
        if os.path.exists(up.db + suffix):
            with open(up.db + suffix, "rb") as f:
                blob += f.read()
    assert b"visible-note-5" in blob and b"visible-note-6" in blob
    assert secret.encode() not in blob and token.encode() not in blob


def test_every_activity_type_from_where_it_happens(up):
    mcp = Mcp(up.port)
    sid = mcp.manage("mcpbox_create_server", {"name": "acts"})["id"]
    code = "async def main(n: int):\n    return n + 1\n"
    tid = mcp.manage("mcpbox_create_tool", {"server_id": sid, "name": "inc",
                                            "python_code": code})["id"]
    mcp.manage("mcpbox_update_tool", {"tool_id": tid, "description": "adds one"})
    mcp.manage("mcpbox_update_tool", {"tool_id": tid, "python_code": code + "# v3\n"})
    mcp.manage("mcpbox_test_code", {"tool_id": tid, "arguments": {"n": 1}})
    mcp.manage("mcpbox_request_publish", {"tool_id": tid})
    assert cli(up.dir, "approvals", "approve", "tool", tid).returncode == 0
    mcp.manage("mcpbox_start_server", {"server_id": sid})
    wait_for(lambda: mcp.call("acts__inc", {"n": 1}).get("isError") is False, timeout=15,
             what="acts__inc callable")
    assert cli(up.dir, "approvals", "revoke", "tool", tid).returncode == 0
    module = mcp.manage("mcpbox_request_module", {"tool_id": tid, "module_name": "xml.etree.ElementTree",
                                                  "justification": "parse"})
    assert cli(up.dir, "approvals", "reject", "module", module["request_id"],
               "--reason", "no").returncode == 0
    network = mcp.manage("mcpbox_request_network_access",
                         {"tool_id": tid, "host": "api.example.com",
                          "justification": "data"})
    assert cli(up.dir, "approvals", "approve", "network",
               network["request_id"]).returncode == 0
    mcp.manage("mcpbox_rollback_tool", {"tool_id": tid, "version": 1})
    assert cli(up.dir, "policy", "set", "log_retention_days", "90").returncode == 0
    assert cli(up.dir, "policy", "profile", "strict").returncode == 0
    mcp.manage("mcpbox_stop_server", {"server_id": sid})
    mcp.manage("mcpbox_delete_tool", {"tool_id": tid})
    mcp.manage("mcpbox_delete_server", {"server_id": sid})
    mcp.close()
    # an executor crash: the supervisor reports it and the restart
    executor = up.bus.call("sandbox", {"op": "health"}, 2000)["pid"]
    os.kill(executor, signal.SIGKILL)

    expected = {
        "server.created": "mcpbox-registry", "tool.created": "mcpbox-registry",
        "tool.updated": "mcpbox-registry", "tool.rolled_back": "mcpbox-registry",
        "server.started": "mcpbox-registry", "server.stopped": "mcpbox-registry",
        "tool.deleted": "mcpbox-registry", "server.deleted": "mcpbox-registry",
        "tool.tested": "mcpbox-gateway", "tool.called": "mcpbox-gateway",
        "tool.publish_requested": "mcpbox-approval",
        "approval.tool_approved": "mcpbox-approval",
        "approval.tool_revoked": "mcpbox-approval",
        "module.requested": "mcpbox-approval", "approval.module_rejected": "mcpbox-approval",
        "network.requested": "mcpbox-approval",
        "approval.network_approved": "mcpbox-approval",
        "policy.changed": "mcpbox-approval", "policy.profile_applied": "mcpbox-approval",
        "process.crashed": "mcpbox-up", "process.restarted": "mcpbox-up",
        "logs.pruned": "mcpbox-logkeeper",
    }

    def seen():
        rows = up.rows("SELECT type, source FROM activity_log")
        got = {}
        for type_, source in rows:
            got.setdefault(type_, set()).add(source)
        return got
    got = wait_for(lambda: (lambda g: g if set(expected) <= set(g) else None)(seen()),
                   timeout=30, interval=0.5, what="every activity type")
    for type_, source in expected.items():
        assert got[type_] == {source}, (type_, got[type_])
    # the server is named where there is one, and details are structured
    row = up.rows("SELECT server_id, details FROM activity_log WHERE type = 'server.created'"
                  " AND server_id = ?", sid)
    assert row and json.loads(row[0][1])["name"] == "acts"
    rejected = up.rows("SELECT details, level FROM activity_log"
                       " WHERE type = 'approval.module_rejected'")[0]
    assert json.loads(rejected[0])["reason"] == "no" and rejected[1] == "warning"
    policy = [json.loads(d) for (d,) in up.rows(
        "SELECT details FROM activity_log WHERE type = 'policy.changed'")]
    assert {"key": "log_retention_days", "value": "90"}.items() <= policy[-1].items()
    def executor_crash():
        crashes = [json.loads(d) for (d,) in up.rows(
            "SELECT details FROM activity_log WHERE type = 'process.crashed'")]
        return [c for c in crashes if c["pid"] == executor]
    mine = wait_for(executor_crash, timeout=20, interval=0.3, what="the executor's crash")
    assert len(mine) == 1, mine
    wait_for(lambda: any("executor" in json.loads(d)["process"] for (d,) in up.rows(
        "SELECT details FROM activity_log WHERE type = 'process.restarted'")),
        timeout=20, interval=0.3, what="the executor's restart")
    assert mine[0]["signal"] == signal.SIGKILL and "executor" in mine[0]["process"], mine

    # the CLI reads the same: query as JSON, filtered by type and server name
    r = cli(up.dir, "logs", "query", "--type", "server.created", "--json")
    assert r.returncode == 0, r.stderr
    assert "acts" in {a["details"]["name"] for a in json.loads(r.stdout)["activity"]}
    r = cli(up.dir, "logs", "query", "--type-prefix", "approval.", "--json")
    assert {a["type"] for a in json.loads(r.stdout)["activity"]} >= {
        "approval.tool_approved", "approval.tool_revoked", "approval.module_rejected",
        "approval.network_approved"}
    r = cli(up.dir, "logs", "query", "--exec", "--tool", tid, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["total"] >= 2
    r = cli(up.dir, "logs", "tail", "--type", "tool.deleted")
    assert r.returncode == 0 and "tool.deleted" in r.stdout and "acts__inc" in r.stdout
    r = cli(up.dir, "logs", "stats", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["tools"]
    r = cli(up.dir, "logs", "query", "--server", "no_such_server")
    assert r.returncode == 1 and "no server named" in r.stderr
    r = cli(up.dir, "logs", "query", "--exec", "--type", "x")
    assert r.returncode == 2


def test_tail_follow_prints_new_records(up):
    proc = subprocess.Popen([MCPBOX, "logs", "tail", "--follow", "--type", "server.created",
                             "--json", "--limit", "1", "--data-dir", up.dir],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    try:
        time.sleep(1.5)
        mcp = Mcp(up.port)
        mcp.manage("mcpbox_create_server", {"name": "followed"})
        mcp.close()
        lines = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(json.loads(line))
            if any(a["details"].get("name") == "followed" for a in lines):
                break
        assert any(a["details"].get("name") == "followed" for a in lines), lines
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def http_json(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        resp = conn.getresponse()
        text = resp.read()
        return resp.status, json.loads(text) if text else None
    finally:
        conn.close()


def test_logins_lockouts_and_secrets_from_credentials(up):
    """The credentials actor's activity under `mcpbox up`: admin created,
    login, failed logins, a lockout, a secret placeholder and its value set,
    never the value or the password."""
    password = "pw-never-in-the-log-4471"
    status, body = http_json(up.port, "POST", "/api/auth/setup",
                             {"username": "logadmin", "password": password})
    assert status == 201, body
    status, _ = http_json(up.port, "POST", "/api/auth/login",
                          {"username": "logadmin", "password": password})
    assert status == 200
    wrong = "wrong-password-never-logged-9"
    statuses = [http_json(up.port, "POST", "/api/auth/login",
                          {"username": "logadmin", "password": wrong})[0] for _ in range(3)]
    assert statuses[:2] == [401, 401] and statuses[2] == 429, statuses
    mcp = Mcp(up.port)
    sid = mcp.manage("mcpbox_create_server", {"name": "secretive"})["id"]
    mcp.manage("mcpbox_create_server_secret", {"server_id": sid, "key": "API_TOKEN",
                                               "description": "for the log test"})
    mcp.close()
    value = "sk-value-never-in-the-log-6120"
    r = subprocess.run([MCPBOX, "secrets", "set", "secretive", "API_TOKEN", "--data-dir",
                        up.dir], input=value + "\n", capture_output=True, text=True,
                       timeout=30, env=env())
    assert r.returncode == 0, r.stderr

    expected = {"auth.admin_created", "auth.login", "auth.login_failed", "auth.locked_out",
                "secret.created", "secret.value_set"}

    def seen():
        rows = up.rows("SELECT type, source, level, server_id, message FROM activity_log"
                       " WHERE type LIKE 'auth.%' OR type LIKE 'secret.%'")
        return rows if expected <= {row[0] for row in rows} else None
    rows = wait_for(seen, timeout=20, interval=0.3, what="the credentials activity")
    for type_, source, level, server_id, message in rows:
        if type_ in expected:
            assert source == "mcpbox-credentials", (type_, source)
            assert password not in message and wrong not in message and value not in message
    by_type = {}
    for type_, source, level, server_id, message in rows:
        by_type.setdefault(type_, []).append((level, server_id))
    assert len(by_type["auth.login_failed"]) == 2
    assert {level for level, _ in by_type["auth.locked_out"]} == {"warning"}
    assert {server for _, server in by_type["secret.created"]} == {sid}
    assert {server for _, server in by_type["secret.value_set"]} == {sid}
    blob = b""
    for suffix in ("", "-wal"):
        if os.path.exists(up.db + suffix):
            with open(up.db + suffix, "rb") as f:
                blob += f.read()
    assert password.encode() not in blob and wrong.encode() not in blob
    assert value.encode() not in blob


def test_execution_logs_off_keeps_activity_and_other_records(up):
    """A second gateway with execution_logs off, beside up's own (on): calls
    through it leave their tool.called activity and no execution row; calls
    through the first, made meanwhile, are all logged."""
    mcp_on = Mcp(up.port, name="logs-on-client")
    _, tid, full = make_tool(up, mcp_on, "offswitch", "echo",
                             "async def main(n: int):\n    return n\n")
    port = free_port()
    err = open(os.path.join(up.dir, "gateway-off.err"), "w")
    gateway = subprocess.Popen([GATEWAY, "--data-dir", up.dir, "--http-port", str(port),
                                "--execution-logs=off"], stdin=subprocess.DEVNULL,
                               stdout=err, stderr=err, env=env())
    try:
        def listening():
            assert gateway.poll() is None, "the execution_logs=off gateway exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(listening, timeout=20, interval=0.2, what="the second gateway")
        mcp_off = Mcp(port, name="logs-off-client")
        tries = [0]

        def callable_off():
            tries[0] += 1
            return mcp_off.call(full, {"n": -1}).get("isError") is False
        wait_for(callable_off, timeout=15, what=f"{full} callable through the second gateway")
        calls = 40
        for n in range(calls):
            assert mcp_off.call(full, {"n": 1000 + n})["isError"] is False
            assert mcp_on.call(full, {"n": 2000 + n})["isError"] is False
        mcp_off.close()
        mcp_on.close()

        def logged(client, low):
            return up.rows("SELECT count(*) FROM execution_logs WHERE tool_id = ?"
                           " AND client_name = ? AND json_extract(input_args, '$.n') >= ?",
                           tid, client, low)[0][0]

        def activity(client):
            return sum(1 for (d,) in up.rows(
                "SELECT details FROM activity_log WHERE type = 'tool.called'"
                " AND source = 'mcpbox-gateway' AND json_extract(details, '$.tool_id') = ?",
                tid) if json.loads(d)["client"] == client)
        wait_for(lambda: logged("logs-on-client", 2000) == calls
                 and activity("logs-off-client") >= calls + 1, timeout=30, interval=0.3,
                 what="the records of both gateways")
        time.sleep(1)
        assert logged("logs-off-client", 0) == 0
        assert logged("logs-on-client", 2000) == calls
        # the calls, and the readiness calls that ran
        assert calls + 1 <= activity("logs-off-client") <= calls + tries[0]
        status, health = http_json(port, "GET", "/health")
        assert health["gateway"]["log_spool"]["dropped"] == 0, health
    finally:
        gateway.send_signal(signal.SIGTERM)
        try:
            assert gateway.wait(15) == 0
        except subprocess.TimeoutExpired:
            gateway.kill()
            gateway.wait()
        err.close()


def _data_dir_files(root):
    """Every regular file under the data dir (the database, its WAL and
    shared memory, the process logs, anything else), as (path, bytes)."""
    for top, _, names in os.walk(root):
        for name in names:
            path = os.path.join(top, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    yield path, f.read()


def test_secret_values_under_neutral_names_never_reach_the_file(up):
    """The server's secret VALUE arrives as an argument named `note` (not a
    secret-looking name) and comes back in the result, stdout and error:
    the execution log keeps "[REDACTED]" in each, and no file under the data
    dir (database, WAL, process logs) holds the value."""
    mcp = Mcp(up.port)
    code = ("async def main(note: str, password: str = '', fail: bool = False):\n"
            "    print('note is ' + note)\n"
            "    if fail:\n"
            "        raise ValueError('refused ' + note)\n"
            "    return {'echo': note, 'mine': secrets.get('SIGNING_KEY')}\n")
    sid, tid, full = make_tool(up, mcp, "neutral", "echo", code)
    mcp.manage("mcpbox_create_server_secret", {"server_id": sid, "key": "SIGNING_KEY",
                                               "description": "for the log test"})
    value = "sv-" + os.urandom(9).hex() + "-neutral"
    r = subprocess.run([MCPBOX, "secrets", "set", "neutral", "SIGNING_KEY", "--data-dir",
                        up.dir], input=value + "\n", capture_output=True, text=True,
                       timeout=30, env=env())
    assert r.returncode == 0, r.stderr
    assert value not in r.stdout + r.stderr

    answers = [mcp.call(full, {"note": value}),
               mcp.call(full, {"note": "before " + value + " after", "fail": True})]
    tested = mcp.call("mcpbox_test_code", {"tool_id": tid, "arguments": {"note": value}})
    answers.append(tested)
    assert answers[0]["isError"] is False, answers[0]
    assert answers[1]["isError"] is True, answers[1]
    for answer in answers:
        assert value not in json.dumps(answer), answer
    # the tool did get the value: its own secret came back redacted
    assert answers[0]["structuredContent"]["mine"] == "[REDACTED]", answers[0]
    mcp.close()

    def runs():
        rows = up.rows("SELECT input_args, result, stdout, error, is_test FROM execution_logs"
                       " WHERE tool_id = ? AND json_extract(input_args, '$.note') != 'y'",
                       tid)                 # not the readiness calls (note 'y')
        by_kind = {}
        for input_args, result, stdout, error, is_test in rows:
            args = json.loads(input_args)
            kind = ("test" if is_test else "fail" if args.get("fail") else "call")
            by_kind[kind] = (args, result, stdout, error)
        return by_kind if len(by_kind) == 3 else None
    by_kind = wait_for(runs, timeout=20, interval=0.3, what="the three runs logged")
    args, result, stdout, _ = by_kind["call"]
    assert args["note"] == "[REDACTED]"
    assert "[REDACTED]" in result and "[REDACTED]" in stdout, (result, stdout)
    args, _, stdout, error = by_kind["fail"]
    assert args["note"] == "before [REDACTED] after", args
    assert "[REDACTED]" in error and "[REDACTED]" in stdout, (error, stdout)
    assert by_kind["test"][0]["note"] == "[REDACTED]"

    # the database, its WAL, and every other file under the data dir
    files = dict(_data_dir_files(up.dir))
    assert up.db in files and up.db + "-wal" in files, sorted(files)
    for path, blob in files.items():
        assert value.encode() not in blob, f"the secret's value is in {path}"
        assert value.encode().hex().encode() not in blob, path
    assert any(b"before [REDACTED] after" in blob for blob in files.values())


def _health(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/health")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def test_a_full_spool_is_counted_in_health_and_reported(up):
    """A second gateway whose log spool holds 4 records (log_spool_records),
    beside up's own; logkeeper stopped (SIGSTOP) while 8 tool calls go
    through it: 16 records are held or in flight, the rest are dropped,
    counted in /health's log_records_lost, and once logkeeper answers again
    a logs.dropped activity record says how many."""
    mcp_on = Mcp(up.port, name="spool-setup")
    _, tid, full = make_tool(up, mcp_on, "spooled", "echo",
                             "async def main(n: int):\n    return n\n")
    mcp_on.close()
    port = free_port()
    err = open(os.path.join(up.dir, "gateway-small.err"), "w")
    gateway = subprocess.Popen([GATEWAY, "--data-dir", up.dir, "--http-port", str(port),
                                "--log-spool-records", "4"], stdin=subprocess.DEVNULL,
                               stdout=err, stderr=err, env=env())
    logkeeper = None
    try:
        def listening():
            assert gateway.poll() is None, "the small-spool gateway exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(listening, timeout=20, interval=0.2, what="the second gateway")
        mcp = Mcp(port, name="small-spool-client")
        wait_for(lambda: mcp.call(full, {"n": -1}).get("isError") is False, timeout=15,
                 what=f"{full} callable through the second gateway")
        # everything so far acknowledged: the spool is empty
        wait_for(lambda: _health(port)["gateway"]["log_spool"]["queued"] == 0, timeout=15,
                 interval=0.2, what="the small spool drained")
        before = _health(port)
        assert before["gateway"]["log_spool"]["dropped"] == 0, before

        logkeeper = up.pid_of("logs")
        os.kill(logkeeper, signal.SIGSTOP)
        calls = 8
        for n in range(calls):
            assert mcp.call(full, {"n": 500 + n})["isError"] is False
        mcp.close()
        health = _health(port)
        spool = health["gateway"]["log_spool"]
        # two records a call (execution + tool.called), four held
        assert spool["queued"] == 4, spool
        assert spool["dropped"] == 2 * calls - 4, spool
        assert health["log_records_lost"] >= spool["dropped"], health
        assert health["log_records_lost"] > 0

        os.kill(logkeeper, signal.SIGCONT)
        logkeeper = None

        def reported():
            rows = up.rows("SELECT level, details FROM activity_log WHERE type = 'logs.dropped'"
                           " AND source = 'mcpbox-gateway'")
            return rows or None
        rows = wait_for(reported, timeout=30, interval=0.3, what="the logs.dropped record")
        level, details = rows[0]
        details = json.loads(details)
        assert level == "error"
        assert details["dropped"] == 2 * calls - 4 and details["max_records"] == 4, details
        # the held ones arrived; the count stays in /health
        wait_for(lambda: _health(port)["gateway"]["log_spool"]["queued"] == 0, timeout=30,
                 interval=0.3, what="the held records delivered")
        assert _health(port)["log_records_lost"] >= 2 * calls - 4
    finally:
        if logkeeper:
            os.kill(logkeeper, signal.SIGCONT)
        gateway.send_signal(signal.SIGTERM)
        try:
            gateway.wait(15)
        except subprocess.TimeoutExpired:
            gateway.kill()
            gateway.wait()
        err.close()


def test_tail_by_server_shows_only_that_servers_records(up):
    mcp = Mcp(up.port)
    kept = mcp.manage("mcpbox_create_server", {"name": "tail_kept"})["id"]
    other = mcp.manage("mcpbox_create_server", {"name": "tail_other"})["id"]
    for sid, name in ((kept, "one"), (other, "two"), (kept, "three")):
        mcp.manage("mcpbox_create_tool", {"server_id": sid, "name": name,
                                          "python_code": "async def main():\n    return 1\n"})
    mcp.close()

    def tail(server):
        r = cli(up.dir, "logs", "tail", "--server", server, "--json", "--limit", "50")
        assert r.returncode == 0, r.stderr
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def complete():
        records = tail("tail_kept")
        names = {r["details"].get("tool_name") for r in records if r["type"] == "tool.created"}
        return records if names >= {"one", "three"} else None
    records = wait_for(complete, timeout=15, interval=0.3, what="tail --server tail_kept")
    assert records and all(r["server_id"] == kept for r in records), records
    assert {r["type"] for r in records} >= {"server.created", "tool.created"}
    assert "two" not in {r["details"].get("tool_name") for r in records}
    # by id the same, and the other server's only its own
    assert {json.dumps(r, sort_keys=True) for r in tail(kept)} \
        == {json.dumps(r, sort_keys=True) for r in records}
    others = tail("tail_other")
    assert others and all(r["server_id"] == other for r in others), others
    assert "two" in {r["details"].get("tool_name") for r in others}
    missing = cli(up.dir, "logs", "tail", "--server", "no_such_server", "--json")
    assert missing.returncode != 0 and "no server named" in missing.stderr, missing
