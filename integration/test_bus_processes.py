"""The bus across real processes: the mcpbox-broker binary, worker and client
helper processes (tests/helpers), ipc and CURVE tcp sockets."""
import os
import re
import signal
import subprocess
import time

import pytest

from busclient import BusClient

from conftest import (HEARTBEAT_MS, bin_path, free_port, helper_path, proc_env,
                      wait_for)


def start_broker(procs, data_dir, *extra):
    broker = procs.start([bin_path("mcpbox-broker"), "--data-dir", data_dir, *extra],
                         name="broker")
    sock = os.path.join(data_dir, "run", "bus")
    wait_for(lambda: os.path.exists(sock), what="broker socket")
    return broker, "ipc://" + sock


def start_worker(procs, endpoint, service="echo", *extra):
    return procs.start([helper_path("bus_echo_worker"), endpoint, service, *extra],
                       name="worker")


def call(endpoint, service="echo", op="ping", timeout_ms=2000, count=1, inflight=1,
         interval_ms=0, wait=30):
    out = subprocess.run(
        [helper_path("bus_call"), endpoint, service, op, "--timeout", str(timeout_ms),
         "--count", str(count), "--inflight", str(inflight), "--interval-ms", str(interval_ms)],
        capture_output=True, text=True, timeout=wait, env=proc_env())
    return [parse(line) for line in out.stdout.splitlines() if line.startswith("reply ")]


def parse(line):
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    fields["ok"] = line.startswith("reply ok")
    if "pid" in fields:
        fields["pid"] = int(fields["pid"])
    fields["ms"] = int(fields["ms"])
    return fields


def wait_served(endpoint, service="echo", timeout=10):
    return wait_for(lambda: all(r["ok"] for r in call(endpoint, service, timeout_ms=500) or [{"ok": False}]),
                    timeout=timeout, what=f"service {service} served")


def test_request_reaches_the_one_live_worker(procs, tmpdir_short):
    _, endpoint = start_broker(procs, tmpdir_short)
    worker = start_worker(procs, endpoint)
    wait_served(endpoint)
    replies = call(endpoint, count=5)
    assert len(replies) == 5
    assert all(r["ok"] and r["pid"] == worker.pid for r in replies)


def test_load_is_spread_over_three_workers(procs, tmpdir_short):
    _, endpoint = start_broker(procs, tmpdir_short)
    workers = [start_worker(procs, endpoint, "echo", "--delay-ms", "50") for _ in range(3)]
    wait_for(lambda: len({r.get("pid") for r in call(endpoint, count=6, inflight=3)}) == 3,
             timeout=10, what="all three workers registered")
    replies = call(endpoint, count=60, inflight=3)
    assert len(replies) == 60 and all(r["ok"] for r in replies)
    per_worker = {w.pid: sum(1 for r in replies if r["pid"] == w.pid) for w in workers}
    # each worker holds one at a time and 3 are in flight: each gets a fair share
    assert all(n >= 10 for n in per_worker.values()), per_worker


def test_worker_killed_mid_request_yields_worker_lost(procs, tmpdir_short):
    _, endpoint = start_broker(procs, tmpdir_short)
    worker = start_worker(procs, endpoint, "slow", "--delay-ms", "30000")
    wait_for(lambda: os.path.exists(f"/proc/{worker.pid}"), what="worker")
    time.sleep(3 * HEARTBEAT_MS / 1000)       # registered
    client = subprocess.Popen(
        [helper_path("bus_call"), endpoint, "slow", "work", "--timeout", "20000"],
        stdout=subprocess.PIPE, text=True, env=proc_env())
    time.sleep(0.5)                           # the request is now held by the worker
    worker.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    out, _ = client.communicate(timeout=20)
    elapsed = time.monotonic() - killed_at
    replies = [parse(line) for line in out.splitlines() if line.startswith("reply ")]
    assert len(replies) == 1
    assert replies[0].get("error") == "worker_lost"
    # liveness is 3 heartbeats; allow one more interval and scheduling slack
    assert elapsed < 5 * HEARTBEAT_MS / 1000 + 1.0, elapsed


def test_no_worker_at_deadline(procs, tmpdir_short):
    _, endpoint = start_broker(procs, tmpdir_short)
    started = time.monotonic()
    replies = call(endpoint, "nobody", timeout_ms=700)
    elapsed = time.monotonic() - started
    assert [r.get("error") for r in replies] == ["no_worker"]
    assert 0.65 < elapsed < 1.6, elapsed      # at the deadline, not at the client's grace


def test_broker_restart_under_connected_client_and_worker(procs, tmpdir_short):
    broker, endpoint = start_broker(procs, tmpdir_short)
    worker = start_worker(procs, endpoint)
    wait_served(endpoint)
    # one long-lived client: a request every 100 ms for ~8 s
    client = procs.start([helper_path("bus_call"), endpoint, "echo", "tick", "--timeout", "1000",
                          "--count", "80", "--interval-ms", "100"], name="client",
                         stdout=subprocess.PIPE)
    time.sleep(1.5)
    broker.send_signal(signal.SIGKILL)
    broker.wait()
    time.sleep(0.3)
    start_broker(procs, tmpdir_short)
    out, _ = client.communicate(timeout=40)
    replies = [parse(line) for line in out.decode().splitlines() if line.startswith("reply ")]
    assert len(replies) == 80
    assert worker.poll() is None, "the worker must not need a restart"
    # served before the kill, and again at the end, by the same worker process
    assert replies[0]["ok"] and replies[0]["pid"] == worker.pid
    assert all(r["ok"] and r["pid"] == worker.pid for r in replies[-20:]), replies[-20:]
    # what was lost in between was answered, never left hanging
    assert all(r["ok"] or r["error"] in ("timeout", "no_worker") for r in replies)


def keygen(tmpdir, name):
    """Key pairs come from the product's own `mcpbox keygen`."""
    path = os.path.join(tmpdir, "keys", name)
    subprocess.run([bin_path("mcpbox"), "keygen", "--data-dir", tmpdir, "--out", path],
                   check=True, capture_output=True, env=proc_env())
    return path, path + "_secret"


def test_tcp_curve_allowlist(procs, tmpdir_short):
    broker_pub, broker_secret = keygen(tmpdir_short, "broker")
    known_pub, known_secret = keygen(tmpdir_short, "known")
    _, stranger_secret = keygen(tmpdir_short, "stranger")
    allow = os.path.join(tmpdir_short, "allowed")
    os.makedirs(allow)
    with open(known_pub, "rb") as src, open(os.path.join(allow, "known"), "wb") as dst:
        dst.write(src.read())
    port = free_port()
    tcp = f"tcp://127.0.0.1:{port}"
    _, endpoint = start_broker(procs, tmpdir_short, "--tcp-endpoint", tcp,
                               "--curve-secret", broker_secret, "--curve-allow", allow)

    # an unknown key and a plain-text worker never get to serve
    start_worker(procs, tcp, "sandbox", "--server-public", broker_pub, "--secret", stranger_secret)
    start_worker(procs, tcp, "sandbox")
    time.sleep(1.5)
    assert [r.get("error") for r in call(endpoint, "sandbox", timeout_ms=800)] == ["no_worker"]

    # the allowlisted key is served
    known = start_worker(procs, tcp, "sandbox", "--server-public", broker_pub, "--secret", known_secret)
    wait_served(endpoint, "sandbox")
    assert all(r["pid"] == known.pid for r in call(endpoint, "sandbox", count=3))
    # the pool query tells the remote worker apart: origin tcp, its address, what it served
    with BusClient(endpoint) as client:
        pool = client.call("broker", {"op": "workers", "service": "sandbox"}, timeout_ms=2000)
    assert [(w["origin"], w["address"], w["served"] >= 3) for w in pool["workers"]] \
        == [("tcp", "127.0.0.1", True)], pool

    # an allowlisted remote peer may not register for other services
    start_worker(procs, tcp, "credentials", "--server-public", broker_pub, "--secret", known_secret)
    time.sleep(1.0)
    assert [r.get("error") for r in call(endpoint, "credentials", timeout_ms=800)] == ["no_worker"]


def test_plain_text_client_on_tcp_is_refused(procs, tmpdir_short):
    zmq = pytest.importorskip("zmq")
    broker_pub, broker_secret = keygen(tmpdir_short, "broker")
    allow = os.path.join(tmpdir_short, "allowed")
    os.makedirs(allow)
    port = free_port()
    start_broker(procs, tmpdir_short, "--tcp-endpoint", f"tcp://127.0.0.1:{port}",
                 "--curve-secret", broker_secret, "--curve-allow", allow)
    ctx = zmq.Context()
    try:
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://127.0.0.1:{port}")
        sock.send_multipart([b"MBC1", b"\x01", b"echo", (1).to_bytes(8, "big"),
                             (500).to_bytes(4, "big"), b"\x81\xa2op\xa4ping"])
        assert sock.poll(1500) == 0, "a plain-text peer got an answer"
    finally:
        ctx.destroy(linger=0)
