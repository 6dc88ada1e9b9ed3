"""The executor pool as the broker reports it (service `broker`, op `workers`:
broker/broker_workers.c), on a real mcpbox-broker with real mcpbox-executors:

  - each executor says where it runs and which process it is (host, pid,
    process, restarts from the supervisor's MCPBOX_PROCESS/MCPBOX_RESTARTS);
  - the figures move: calls served per worker, calls in flight while a tool
    runs, last_seen advancing with heartbeats;
  - hostile peers: a worker may not register for `broker`; an `about` that
    is not a msgpack map, or too large, is refused; a hostile request body
    or field is answered bad_request/unknown_op, never crashes the broker;
  - under `mcpbox up`: /api/dashboard shows the pool, and an executor killed
    with SIGKILL comes back with restarts 1 (test_up-style, real supervisor).
"""
import json
import os
import signal
import socket
import struct
import subprocess

import msgpack
import pytest
import zmq

from api_client import api  # noqa: F401 (the fixture)
from busclient import BusClient
from conftest import bin_path, proc_env, wait_for
from standin import StandInWorker

HOST = socket.gethostname()
SPIN = "async def main() -> int:\n    while True:\n        pass\n"    # held until its timeout
QUICK = "async def main():\n    return 2\n"


def pool(client, service="sandbox"):
    reply = client.call("broker", {"op": "workers", "service": service}, timeout_ms=2000)
    assert reply["ok"], reply
    return reply


@pytest.fixture
def bus(procs, tmpdir_short):
    procs.start([bin_path("mcpbox-broker"), "--data-dir", tmpdir_short], name="broker")
    sock = os.path.join(tmpdir_short, "run", "bus")
    wait_for(lambda: os.path.exists(sock), what="broker socket")
    client = BusClient("ipc://" + sock)
    yield client
    client.close()


def start_executor(procs, data_dir, name, restarts):
    return procs.start([bin_path("mcpbox-executor"), "--data-dir", data_dir, "--credit", "2"],
                       name=name, env=proc_env(MCPBOX_PROCESS=name, MCPBOX_RESTARTS=restarts))


def test_pool_figures_move_with_real_executors(bus, procs, tmpdir_short):
    a = start_executor(procs, tmpdir_short, "executor-a", 0)
    b = start_executor(procs, tmpdir_short, "executor-b", 3)
    wait_for(lambda: pool(bus)["total"] == 2, timeout=15, what="two executors registered")
    first = pool(bus)
    by_pid = {w["about"]["pid"]: w for w in first["workers"]}
    assert set(by_pid) == {a.pid, b.pid}, first
    for proc, name, restarts in ((a, "executor-a", 0), (b, "executor-b", 3)):
        w = by_pid[proc.pid]
        assert w["service"] == "sandbox" and w["origin"] == "local", w
        assert w["about"]["host"] == HOST and w["about"]["process"] == name, w
        assert w["about"]["restarts"] == restarts and w["about"]["slots"] == 2, w
        assert w["about"]["labels"] == {}, w
        assert w["credit"] == 2 and w["in_flight"] == 0 and w["served"] == 0, w
        assert w["registered_at"].endswith("Z") and w["idle_ms"] >= 0, w
        # ipc: the kernel's peer credentials (uid:gid:pid) confirm the pid it announced
        assert w["address"].endswith(f":{proc.pid}"), w
    assert first["stats"]["workers"] == 2 and first["total"] == 2 and first["listed"] == 2

    # served: 6 quick calls, spread by the broker's rotation
    for _ in range(6):
        reply = bus.call("sandbox", {"op": "run", "code": QUICK, "timeout_ms": 5000},
                         timeout_ms=10000)
        assert reply["ok"] and reply["success"], reply
    after = pool(bus)
    served = {w["about"]["pid"]: w["served"] for w in after["workers"]}
    assert sum(served.values()) == 6 and all(n > 0 for n in served.values()), after

    # in flight: two calls that spin until their 1.5 s timeout are held meanwhile
    ids = [bus.send("sandbox", {"op": "run", "code": SPIN, "timeout_ms": 1500},
                    timeout_ms=10000) for _ in range(2)]
    busy = wait_for(lambda: (lambda p: p if sum(w["in_flight"] for w in p["workers"]) == 2
                             else None)(pool(bus)), timeout=5, what="two calls in flight")
    assert all(w["in_flight"] <= w["credit"] for w in busy["workers"]), busy
    for i in ids:
        reply = bus.receive(i, 15)
        assert reply["ok"] and reply["error"]["type"] == "Timeout", reply
    done = pool(bus)
    assert sum(w["in_flight"] for w in done["workers"]) == 0, done
    assert sum(w["served"] for w in done["workers"]) == 8, done
    # the broker answered every query itself: no worker for `broker` exists
    everything = bus.call("broker", {"op": "workers"}, timeout_ms=2000)
    assert {w["service"] for w in everything["workers"]} == {"sandbox"}, everything

    # a worker that goes away leaves the pool (DISCONNECT on SIGTERM)
    b.send_signal(signal.SIGTERM)
    b.wait(timeout=10)
    wait_for(lambda: [w["about"]["pid"] for w in pool(bus)["workers"]] == [a.pid],
             timeout=5, what="the stopped executor gone from the pool")


def test_hostile_workers_and_requests(bus, tmpdir_short):
    endpoint = "ipc://" + os.path.join(tmpdir_short, "run", "bus")
    ctx = zmq.Context.instance()

    def ready(*frames):
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(endpoint)
        s.send_multipart([b"MBW1", b"\x01", *frames])
        answered = s.poll(2000)
        reply = s.recv_multipart() if answered else None
        s.close()
        return reply

    disconnect = [b"MBW1", b"\x05"]
    credit = struct.pack(">I", 4)
    assert ready(b"broker", credit) == disconnect                      # the broker's own
    assert ready(b"sandbox", credit, b"\xc1") == disconnect            # not msgpack
    assert ready(b"sandbox", credit, msgpack.packb([1, 2])) == disconnect  # not a map
    assert ready(b"sandbox", credit, msgpack.packb({"host": "x" * 5000})) == disconnect
    assert ready(b"sandbox", credit, b"") == disconnect                # empty
    assert pool(bus)["total"] == 0
    assert pool(bus)["stats"]["protocol_errors"] >= 5

    # what a worker says of itself is passed on as it is: the reader bounds it
    probe = {"host": "<img src=x onerror=alert(1)>", "labels": {"zone": "<script>"}}
    w = StandInWorker(tmpdir_short, service="sandbox", about=probe, credit=3)
    w.start()
    try:
        seen = wait_for(lambda: pool(bus)["workers"], timeout=5, what="stand-in listed")
        assert seen[0]["about"] == probe and seen[0]["credit"] == 3
    finally:
        w.stop()
        w.join(5)

    assert bus.call("broker", {"op": "nope"})["error"]["code"] == "unknown_op"
    assert bus.call("broker", {"nothing": 1})["error"]["code"] == "bad_request"
    assert bus.call("broker", {"op": "workers", "service": "Bad Name"})["error"]["code"] \
        == "bad_request"
    assert bus.call("broker", {"op": "workers", "service": 7})["error"]["code"] == "bad_request"
    rid = bus.send_raw("broker", b"\x93\x01\x02\x03")       # an array, not a map
    assert bus.receive(rid, 5)["error"]["code"] == "bad_request"
    health = bus.call("broker", {"op": "health"})
    assert health["ok"] and health["service"] == "broker", health


def test_up_dashboard_pool_and_restart(api):
    """The pool on /api/dashboard under `mcpbox up`; a killed executor is
    restarted by the supervisor and shows restarts 1 (also in `mcpbox status`)."""
    def executors():
        dash = api.admin.ok("GET", "/api/dashboard")
        return dash["executors"]

    ex = wait_for(lambda: (lambda e: e if len(e) == 2 else None)(executors()),
                  timeout=15, what="two executors on the dashboard")
    names = sorted(e["process"] for e in ex)
    assert all(e["host"] == HOST and e["restarts"] == 0 and e["credit"] >= 1 for e in ex), ex
    assert len(set(names)) == 2, ex
    assert api.admin.ok("GET", "/api/dashboard")["executors_registered"] == 2

    # a call through the admin API is served by one of them
    client = BusClient("ipc://" + os.path.join(api.data_dir, "run", "bus"))
    try:
        reply = client.call("sandbox", {"op": "run", "code": QUICK, "timeout_ms": 5000},
                            timeout_ms=10000)
        assert reply["ok"], reply
    finally:
        client.close()
    assert sum(e["served"] for e in executors()) >= 1

    victim = ex[0]
    os.kill(victim["pid"], signal.SIGKILL)

    def restarted():
        now = executors()
        back = [e for e in now if e["process"] == victim["process"] and e["pid"] != victim["pid"]]
        return back[0] if back and len(now) == 2 else None
    back = wait_for(restarted, timeout=20, interval=0.2, what="the killed executor back, restarted")
    assert back["restarts"] == 1 and back["served"] == 0, back
    other = [e for e in executors() if e["process"] != victim["process"]][0]
    assert other["restarts"] == 0, other

    # `mcpbox status` shows the same pool
    r = subprocess.run([bin_path("mcpbox"), "status", "--json", "--data-dir", api.data_dir],
                       capture_output=True, text=True, timeout=30, env=proc_env())
    listed = {e["process"]: e for e in json.loads(r.stdout)["executors"]}
    assert listed[victim["process"]]["restarts"] == 1 and listed[victim["process"]]["host"] == HOST
    assert listed[other["process"]]["restarts"] == 0, listed
    r = subprocess.run([bin_path("mcpbox"), "status", "--data-dir", api.data_dir],
                       capture_output=True, text=True, timeout=30, env=proc_env())
    assert r.returncode == 0 and "executors: 2 registered" in r.stdout, r.stdout
    line = [x for x in r.stdout.splitlines() if victim["process"] in x][0]
    assert line.split()[-1] == "1" and HOST in line, r.stdout
    assert listed[victim["process"]]["labels"] == {}, listed


def test_status_lists_labels_cleaned(bus, tmpdir_short):
    """`mcpbox status` shows each executor's labels; what a worker says of
    itself reaches the terminal cleaned (no escape sequences)."""
    probe = {"host": "evil\x1b[2Jhost", "process": "executor-z", "pid": 42, "restarts": 0,
             "labels": {"zone": "lab", "gpu": "", "bad": 5, "esc": "\x1b]0;title\x07"}}
    w = StandInWorker(tmpdir_short, service="sandbox", about=probe, credit=2)
    w.start()
    try:
        wait_for(lambda: pool(bus)["total"] == 1, timeout=5, what="stand-in listed")
        r = subprocess.run([bin_path("mcpbox"), "status", "--data-dir", tmpdir_short],
                           capture_output=True, text=True, timeout=30, env=proc_env())
        assert "\x1b" not in r.stdout, r.stdout
        line = [x for x in r.stdout.splitlines() if "executor-z" in x][0]
        assert "zone=lab" in line and "gpu" in line and "bad" not in line, line
        r = subprocess.run([bin_path("mcpbox"), "status", "--json", "--data-dir", tmpdir_short],
                           capture_output=True, text=True, timeout=30, env=proc_env())
        row = json.loads(r.stdout)["executors"][0]
        assert row["labels"] == {"zone": "lab", "gpu": "", "esc": "\x1b]0;title\x07"}, row
        assert row["pid"] == 42 and row["credit"] == 2, row
    finally:
        w.stop()
        w.join(5)
