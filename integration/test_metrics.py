"""GET /metrics and the circuit breaker toward the sandbox, under `mcpbox up`:
every process real (broker, registry, approval, credentials, tunnel,
logkeeper, two executors, the gateway), real sockets.

  - the exposition passes Prometheus's own parser and linter
    (`promtool check metrics`, Debian's prometheus package), and each family
    moves when its cause happens: calls by tool and outcome, stage
    histograms, calls in flight, bus round trips, log spool counters,
    logkeeper's ingestion, process crashes/restarts (an executor killed);
  - a stopped actor (SIGSTOP) does not stall the scrape: it is reported as
    mcpbox_scrape_source_up 0 and counted in mcpbox_scrape_errors_total;
  - who may scrape: loopback without a credential; another address only
    with the metrics_token bearer (403 without a token configured);
  - the circuit: every executor killed under N calls -> open (worker_lost),
    the next call answered at once with a JSON-RPC error, /health and
    /metrics say so, circuit.opened / circuit.closed activity; when the
    executors are back (the supervisor restarts them) and circuit_open_s
    has passed, one probe call closes it.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import bin_path, free_port, proc_env, wait_for
from test_alerts import Receiver
from test_logs_up import Mcp, Up, cli

FAILURES = 3        # circuit_failures
OPEN_S = 2          # circuit_open_s
TOKEN = "A" * 20 + "b-_" + "9" * 20        # 43 base64url characters

QUICK = "async def main(n: int) -> int:\n    return n + 1\n"
FAIL = "async def main(n: int) -> int:\n    raise ValueError('no')\n"
NAP = ("import datetime\n\nasync def main(s: float) -> str:\n"
       "    end = datetime.datetime.now() + datetime.timedelta(seconds=s)\n"
       "    while datetime.datetime.now() < end:\n        pass\n    return 'ok'\n")
SPIN = "async def main(n: int) -> int:\n    while True:\n        pass\n"

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


# --- helpers -------------------------------------------------------------------

def http_get(port, path, host="127.0.0.1", source=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def scrape(port):
    status, headers, body = http_get(port, "/metrics")
    assert status == 200, body
    assert headers["content-type"].startswith("text/plain; version=0.0.4"), headers
    return body.decode()


def parse(text):
    """{(name, frozenset(labels)): value} of every sample."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples, name):
    """The sum of a family's samples over every label set (hosts)."""
    return sum(v for (n, _), v in samples.items() if n == name)


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, (r.stdout, r.stderr)


def rpc(mcp, name, arguments):
    """A tools/call's whole JSON-RPC answer, timed."""
    mcp.ids += 1
    started = time.monotonic()
    status, _, body = mcp.post({"jsonrpc": "2.0", "id": mcp.ids, "method": "tools/call",
                                "params": {"name": name, "arguments": arguments}})
    assert status == 200, body
    return json.loads(body), time.monotonic() - started


def make_tool(up, mcp, sid, tool, code, timeout_ms=None):
    tid = mcp.manage("mcpbox_create_tool", {"server_id": sid, "name": tool,
                                            "python_code": code})["id"]
    if timeout_ms:
        mcp.manage("mcpbox_update_tool", {"tool_id": tid, "timeout_ms": timeout_ms})
    mcp.manage("mcpbox_request_publish", {"tool_id": tid})
    r = cli(up.dir, "approvals", "approve", "tool", tid)
    assert r.returncode == 0, r.stderr
    return tid


def executor_pids(up):
    out = subprocess.run(["pgrep", "-P", str(up.proc.pid), "-x", "mcpbox-executor"],
                         capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def activity(up, kind):
    return up.rows("SELECT message FROM activity_log WHERE type = ?", kind)


@pytest.fixture(scope="module")
def up():
    system = Up(MCPBOX_CIRCUIT_FAILURES=FAILURES, MCPBOX_CIRCUIT_OPEN_S=OPEN_S)
    mcp = Mcp(system.port, name="pytest-metrics")
    sid = mcp.manage("mcpbox_create_server", {"name": "demo"})["id"]
    make_tool(system, mcp, sid, "quick", QUICK)
    make_tool(system, mcp, sid, "fail", FAIL)
    make_tool(system, mcp, sid, "nap", NAP)
    make_tool(system, mcp, sid, "spin", SPIN, timeout_ms=60000)
    mcp.manage("mcpbox_start_server", {"server_id": sid})
    wait_for(lambda: mcp.call("demo__quick", {"n": 1}).get("isError") is False,
             timeout=15, what="demo__quick callable")
    system.mcp = mcp
    yield system
    mcp.close()
    system.close()


# --- the exposition ---------------------------------------------------------------

def test_scrape_is_valid_and_every_family_moves_with_its_cause(up):
    mcp = up.mcp
    before_text = scrape(up.port)
    promtool(before_text)
    before = parse(before_text)
    for service in ("registry", "approval", "credentials", "tunnel", "logs", "sandbox"):
        assert value(before, "mcpbox_up", service=service) == 1, service
    assert value(before, "mcpbox_tunnel_state", state="disconnected") == 1
    assert value(before, "mcpbox_circuit_state", state="closed") == 1
    # the executor pool as the broker sees it: two executors of 4 slots, this host
    assert total(before, "mcpbox_executors") == 2
    assert total(before, "mcpbox_executor_slots") == 8
    assert value(before, "mcpbox_executors", host=socket.gethostname()) == 2

    assert mcp.call("demo__quick", {"n": 1})["isError"] is False
    assert mcp.call("demo__quick", {"n": 2})["isError"] is False
    assert mcp.call("demo__fail", {"n": 1})["isError"] is True
    reply, _ = rpc(mcp, "demo__nope", {})
    assert reply["error"]["code"] == -32602
    # a client's name never becomes a label
    reply, _ = rpc(mcp, 'x__"}\nevil 1', {})
    assert "error" in reply
    assert mcp.manage("mcpbox_list_servers", {})["servers"]

    # a call in flight while it naps
    napper = threading.Thread(target=lambda: mcp_nap(up.port))
    napper.start()
    try:
        wait_for(lambda: value(parse(scrape(up.port)), "mcpbox_tool_calls_in_flight") == 1,
                 timeout=10, what="one call in flight")
    finally:
        napper.join(timeout=30)

    # logkeeper acknowledged the calls' records (the spool emptied)
    def settled():
        s = parse(scrape(up.port))
        return s if (value(s, "mcpbox_log_spool_records", process="mcpbox-gateway") == 0
                     and value(s, "mcpbox_tool_calls_in_flight") == 0) else None
    after = wait_for(settled, timeout=15, what="the gateway's spool emptied")
    text = scrape(up.port)
    promtool(text)
    assert 'evil' not in text

    def moved(name, by=1, **labels):
        delta = value(after, name, **labels) - value(before, name, **labels)
        assert delta >= by, (name, labels, value(before, name, **labels),
                             value(after, name, **labels))

    moved("mcpbox_tool_calls_total", 2, tool="demo__quick", outcome="ok")
    moved("mcpbox_tool_calls_total", 1, tool="demo__fail", outcome="tool_error")
    moved("mcpbox_tool_calls_total", 1, tool="demo__nap", outcome="ok")
    moved("mcpbox_tool_calls_total", 2, tool="_unknown", outcome="error")
    moved("mcpbox_tool_calls_total", 1, tool="mcpbox_list_servers", outcome="ok")
    for stage in ("gateway", "bus", "sandbox"):
        moved("mcpbox_tool_call_stage_seconds_count", 4, stage=stage)
    # the nap's 0.6 s is in the sandbox stage, not the others
    sandbox_s = (value(after, "mcpbox_tool_call_stage_seconds_sum", stage="sandbox")
                 - value(before, "mcpbox_tool_call_stage_seconds_sum", stage="sandbox"))
    assert sandbox_s >= 0.55, sandbox_s
    moved("mcpbox_bus_request_seconds_count", 4, service="sandbox")
    moved("mcpbox_bus_request_seconds_count", 1, service="registry")
    moved("mcpbox_log_records_spooled_total", 4, process="mcpbox-gateway")
    moved("mcpbox_log_records_acked_total", 4, process="mcpbox-gateway")
    moved("mcpbox_logkeeper_records_ingested_total", 4)
    moved("mcpbox_broker_requests_total", 5)
    assert total(after, "mcpbox_executor_calls_served_total") - \
        total(before, "mcpbox_executor_calls_served_total") >= 4
    assert value(after, "mcpbox_log_records_dropped_total", process="mcpbox-gateway") == 0
    assert value(after, "mcpbox_mcp_sessions") >= 1


def mcp_nap(port):
    client = Mcp(port, name="pytest-nap")
    try:
        assert client.call("demo__nap", {"s": 0.6})["isError"] is False
    finally:
        client.close()


def test_a_stopped_actor_does_not_stall_the_scrape(up):
    pid = up.pid_of("tunnel")
    before = parse(scrape(up.port))
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        text = scrape(up.port)
        took = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    promtool(text)
    after = parse(text)
    assert took < 3.0, took
    assert value(after, "mcpbox_scrape_source_up", service="tunnel", op="status") == 0
    assert value(after, "mcpbox_up", service="tunnel") == 0
    assert (value(after, "mcpbox_scrape_errors_total", service="tunnel", op="status")
            == value(before, "mcpbox_scrape_errors_total", service="tunnel", op="status") + 1)
    # what the others know is still there
    assert value(after, "mcpbox_up", service="registry") == 1
    assert not any(name == "mcpbox_tunnel_state" for name, _ in after)
    wait_for(lambda: value(parse(scrape(up.port)), "mcpbox_up", service="tunnel") == 1,
             timeout=10, what="tunnel back in the scrape")


def non_loopback_ipv4():
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        address = line.split()[3].split("/")[0]
        if not address.startswith("127."):
            return address
    pytest.skip("no non-loopback IPv4 address on this machine")


def test_who_may_scrape(up, procs):
    remote = non_loopback_ipv4()
    ports = {}
    for token in ("", TOKEN):
        port = free_port()
        procs.start([bin_path("mcpbox-gateway"), "--data-dir", up.dir, "--http-host", "0.0.0.0",
                     "--http-port", str(port)],
                    env=proc_env(MCPBOX_METRICS_TOKEN=token), name=f"gateway-{port}")
        ports[token] = port

        def listening(port=port):
            try:
                return http_get(port, "/health")[0] in (200, 503)
            except OSError:
                return False
        wait_for(listening, timeout=20, what="the second gateway")
    # loopback: no credential needed
    assert http_get(ports[""], "/metrics")[0] == 200
    # another address: never without a configured token, even with a bearer
    status, _, _ = http_get(ports[""], "/metrics", host=remote, source=remote,
                            headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 403
    # with one: 401 without it or with a wrong one, 200 with it
    status, headers, _ = http_get(ports[TOKEN], "/metrics", host=remote, source=remote)
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    wrong = TOKEN[:-1] + "x"
    status, _, _ = http_get(ports[TOKEN], "/metrics", host=remote, source=remote,
                            headers={"Authorization": f"Bearer {wrong}"})
    assert status == 401
    status, _, body = http_get(ports[TOKEN], "/metrics", host=remote, source=remote,
                               headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and b"mcpbox_up" in body
    # a malformed token in the configuration is refused at start-up
    bad = procs.start([bin_path("mcpbox-gateway"), "--data-dir", up.dir,
                       "--http-port", str(free_port())],
                      env=proc_env(MCPBOX_METRICS_TOKEN="short"), name="gateway-bad")
    assert bad.wait(timeout=20) == 2


def test_a_rate_limited_call_counts_under_its_tool(up):
    """A call the rate limit refuses is counted under the tool it named (a
    management or catalog tool; any other name is still _unknown) with
    outcome rate_limited, not as an error of _unknown."""
    r = cli(up.dir, "policy", "set", "mcp_rate_limit_rpm", "10")
    assert r.returncode == 0, r.stderr
    client = Mcp(up.port, name="pytest-rate")
    try:
        before = parse(scrape(up.port))
        # spend the session's budget (10 at once, then one every 6 s)
        for _ in range(20):
            reply, _ = rpc(client, "mcpbox_list_servers", {})
            if "error" in reply:
                break
        assert reply["error"]["code"] == -32000 and "retryAfter" in reply["error"]["data"]
        refused = {"mcpbox_list_servers": 1}
        for name in ("demo__quick", "demo__quick", "mcpbox_list_servers", "demo__nope",
                     'x__"}\nevil 1'):
            reply, _ = rpc(client, name, {"n": 1} if name == "demo__quick" else {})
            if "error" in reply and "Rate limit" in reply["error"]["message"]:
                label = name if name in ("demo__quick", "mcpbox_list_servers") else "_unknown"
                refused[label] = refused.get(label, 0) + 1
        assert refused.get("demo__quick"), refused       # 6 s never passed in between
        after = parse(scrape(up.port))
    finally:
        client.close()
        r = cli(up.dir, "policy", "set", "mcp_rate_limit_rpm", "300")
        assert r.returncode == 0, r.stderr
    for label, count in refused.items():
        delta = (value(after, "mcpbox_tool_calls_total", tool=label, outcome="rate_limited")
                 - value(before, "mcpbox_tool_calls_total", tool=label, outcome="rate_limited"))
        assert delta == count, (label, delta, count)
    assert value(after, "mcpbox_tool_calls_total", tool="_unknown", outcome="error") == \
        value(before, "mcpbox_tool_calls_total", tool="_unknown", outcome="error")
    assert "evil" not in scrape(up.port)


# --- the circuit breaker ----------------------------------------------------------

def test_circuit_opens_when_every_executor_dies_and_closes_when_they_return(up):
    mcp = up.mcp
    # the admin's webhook for circuit.opened (the alerts actor, test_alerts.py's receiver)
    receiver = Receiver()
    r = cli(up.dir, "alerts", "add", receiver.url("/circuit"), "--format", "json",
            "--events", "circuit.opened", "--json")
    assert r.returncode == 0, r.stderr
    before = parse(scrape(up.port))
    pids = executor_pids(up)
    assert len(pids) == 2, pids

    # FAILURES calls running in the sandbox, then every executor killed
    answers = []

    def spin():
        client = Mcp(up.port, name="pytest-spin")
        try:
            answers.append(client.call("demo__spin", {"n": 1}))
        finally:
            client.close()
    spinners = [threading.Thread(target=spin) for _ in range(FAILURES)]
    for t in spinners:
        t.start()
    wait_for(lambda: value(parse(scrape(up.port)), "mcpbox_tool_calls_in_flight") == FAILURES,
             timeout=15, what="the spinning calls in flight")
    wait_for(lambda: total(parse(scrape(up.port)), "mcpbox_executor_busy") >= FAILURES,
             timeout=10, what="the executors holding the calls")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    for t in spinners:
        t.join(timeout=30)
    assert len(answers) == FAILURES
    assert all(a["isError"] for a in answers), answers

    # open: the next call is answered at once, without the sandbox
    reply, took = rpc(mcp, "demo__quick", {"n": 1})
    assert took < 0.5, took
    error = reply["error"]
    assert error["code"] == -32000 and "circuit" in error["message"], error
    assert error["data"]["reason"] == "circuit_open"
    assert 1 <= error["data"]["retry_after_s"] <= OPEN_S
    assert error["data"]["retryAfter"] == error["data"]["retry_after_s"]
    status, _, body = http_get(up.port, "/health")
    assert json.loads(body)["gateway"]["circuit"]["state"] in ("open", "half_open")
    opened = parse(scrape(up.port))
    assert value(opened, "mcpbox_circuit_opened_total") == \
        value(before, "mcpbox_circuit_opened_total") + 1
    assert value(opened, "mcpbox_circuit_rejected_total") >= 1
    assert value(opened, "mcpbox_tool_calls_total", tool="demo__spin",
                 outcome="sandbox_unavailable") >= FAILURES
    assert value(opened, "mcpbox_tool_calls_total", tool="demo__quick",
                 outcome="circuit_open") >= 1
    wait_for(lambda: activity(up, "circuit.opened"), timeout=10, what="circuit.opened")
    try:
        wait_for(lambda: any(b"circuit.opened" in raw for _, raw in receiver.bodies("/circuit")),
                 timeout=15, what="the circuit.opened webhook")
    finally:
        receiver.close()
    assert value(opened, "mcpbox_broker_worker_lost_total") >= \
        value(before, "mcpbox_broker_worker_lost_total") + FAILURES

    # the supervisor restarts the executors; after OPEN_S one probe closes it
    wait_for(lambda: len(set(executor_pids(up)) - set(pids)) == 2, timeout=30,
             what="executors restarted")

    def closed_by_a_call():
        reply, _ = rpc(mcp, "demo__quick", {"n": 41})
        return "result" in reply and reply["result"]["isError"] is False
    wait_for(closed_by_a_call, timeout=30, interval=0.3, what="a call through again")
    after = parse(scrape(up.port))
    assert value(after, "mcpbox_circuit_state", state="closed") == 1
    assert value(after, "mcpbox_circuit_closed_total") == \
        value(before, "mcpbox_circuit_closed_total") + 1
    status, _, body = http_get(up.port, "/health")
    assert json.loads(body)["gateway"]["circuit"]["state"] == "closed"
    wait_for(lambda: activity(up, "circuit.closed"), timeout=10, what="circuit.closed")
    # the killed executors are counted as crashes and restarts
    wait_for(lambda: value(parse(scrape(up.port)), "mcpbox_process_restarts_total",
                           process="mcpbox-executor") >= 2,
             timeout=15, what="executor restarts counted")
    final = parse(scrape(up.port))
    assert value(final, "mcpbox_process_crashes_total", process="mcpbox-executor") >= 2
    # and by the pool: the new executors say they are restarts
    wait_for(lambda: total(parse(scrape(up.port)), "mcpbox_executor_restarts_total") >= 2
             and total(parse(scrape(up.port)), "mcpbox_executors") == 2,
             timeout=15, what="the pool back with its restarts")


# --- crash counts across a gateway restart -------------------------------------------

def child_pid(up, name):
    out = subprocess.run(["pgrep", "-P", str(up.proc.pid), "-x", name],
                         capture_output=True, text=True).stdout.split()
    assert len(out) == 1, (name, out)
    return int(out[0])


def test_crash_counts_survive_a_gateway_restart(up):
    """mcpbox up counts crashes and restarts (DATA/run/processes.json), not
    the gateway's memory: a kill -9 of the gateway that exports them does
    not take the counters back (Prometheus counters only go down when
    their exporter restarts, and here the exporter restarted but the
    count lives on)."""
    def crashes(samples, process):
        return value(samples, "mcpbox_process_crashes_total", process=process)

    def restarts(samples, process):
        return value(samples, "mcpbox_process_restarts_total", process=process)

    start = parse(scrape(up.port))
    registry = child_pid(up, "mcpbox-registry")
    os.kill(registry, signal.SIGKILL)
    counted = wait_for(
        lambda: (lambda s: s if restarts(s, "mcpbox-registry") >= restarts(start, "mcpbox-registry")
                 + 1 else None)(parse(scrape(up.port))),
        timeout=20, what="the registry's restart counted")
    assert crashes(counted, "mcpbox-registry") == crashes(start, "mcpbox-registry") + 1

    gateway = child_pid(up, "mcpbox-gateway")
    os.kill(gateway, signal.SIGKILL)

    def back():
        try:
            if child_pid(up, "mcpbox-gateway") == gateway:
                return None
            return parse(scrape(up.port))
        except (OSError, AssertionError, http.client.HTTPException):
            return None
    after = wait_for(back, timeout=30, interval=0.2, what="the gateway restarted")
    text = scrape(up.port)
    promtool(text)
    after = parse(text)
    # nothing went back: every process's counts are at least what they were
    for process in ("mcpbox-registry", "mcpbox-executor", "mcpbox-approval"):
        assert crashes(after, process) >= crashes(counted, process), process
        assert restarts(after, process) >= restarts(counted, process), process
    assert crashes(after, "mcpbox-registry") == crashes(counted, "mcpbox-registry")
    # and the gateway's own crash is one of them
    assert crashes(after, "mcpbox-gateway") == crashes(counted, "mcpbox-gateway") + 1
    assert restarts(after, "mcpbox-gateway") == restarts(counted, "mcpbox-gateway") + 1
