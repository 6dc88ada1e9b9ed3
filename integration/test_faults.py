"""Faults under load: kill -9 of every process of `mcpbox up`, in turn,
while a second process keeps a bounded load on the system.

The load (LOAD_SCRIPT, its own process) sends, one after another, registry
writes (`server.create`, each with a new name) and reads (`server.list`)
over the bus, and GET /health to the gateway, and records every answer by
kind. Meanwhile each actor, then the broker, then the gateway is killed
with SIGKILL; after each kill the test waits for `mcpbox status` to be ok
again (the supervisor restarts the process; the others find a restarted
broker by themselves) and records how long that took.

Afterwards:
  - every request the load sent was answered: a result, an error from the
    system (`worker_lost`, `no_worker`, `unavailable`…), or, for a request
    in flight on a broker that died, the client's own deadline answer (as
    proto/bus_client.c gives it one second past the deadline): at most one
    such per broker kill, since the load has one bus request in flight;
  - every write acknowledged ok is in the registry (nothing committed lost);
  - the system is healthy again by itself, and the recovery times are
    bounded.
The figures are printed (run with -s to see them).

A second test fills the data directory (a small tmpfs) while the system
runs: the registry's writes are refused with `unavailable` "the disk is
full" (never a hang or a crash), nothing committed before is lost, and once
space is freed writes succeed again by themselves.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import free_port
from test_up import ACTOR_SERVICES, RECOVERY_S, BROKER_RECOVERY_S, Up, service_pid, \
    status_json, wait_until

INTEGRATION = os.path.dirname(os.path.abspath(__file__))

LOAD_SCRIPT = r'''
import json, os, sys, time, urllib.request
sys.path.insert(0, sys.argv[1])
from busclient import BusClient
endpoint, base, out, stop = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
client = BusClient(endpoint)
stats = {"sent": 0, "answered": 0, "ok": 0, "errors": {}, "client_deadline": 0,
         "health": {}, "created": []}

def count(table, key):
    table[key] = table.get(key, 0) + 1

def bus(body, timeout_ms=2000):
    stats["sent"] += 1
    request_id = client.send("registry", body, timeout_ms=timeout_ms)
    try:
        reply = client.receive(request_id, wait_s=timeout_ms / 1000 + 1)
    except Exception:
        stats["client_deadline"] += 1       # what bus_client answers locally
        return None
    stats["answered"] += 1
    if reply.get("ok"):
        stats["ok"] += 1
    else:
        count(stats["errors"], (reply.get("error") or {}).get("code", "?"))
    return reply

i = 0
while not os.path.exists(stop):
    i += 1
    name = "fault_%05d" % i
    reply = bus({"op": "server.create", "name": name})
    if reply and reply.get("ok"):
        stats["created"].append(name)
    bus({"op": "server.list", "page": 1, "page_size": 5})
    try:
        with urllib.request.urlopen(base + "/health", timeout=3) as r:
            count(stats["health"], str(r.status))
    except urllib.error.HTTPError as e:
        count(stats["health"], str(e.code))
    except OSError:
        count(stats["health"], "connection_error")
    time.sleep(0.02)
with open(out, "w") as f:
    json.dump(stats, f)
'''


def _all_names(client_call):
    names, page = set(), 1
    while True:
        reply = client_call({"op": "server.list", "page": page, "page_size": 100})
        assert reply.get("ok"), reply
        names.update(s["name"] for s in reply["servers"])
        if page * 100 >= reply["total"]:
            return names
        page += 1


def test_kill_each_process_under_load(tmp_path):
    data_dir = f"/tmp/mbf{os.getpid()}"
    os.makedirs(data_dir, exist_ok=True)
    port = free_port()
    up = Up(data_dir, port)
    load = None
    try:
        up.wait_all_ok(30)
        out, stop = str(tmp_path / "load.json"), str(tmp_path / "stop")
        load = subprocess.Popen([sys.executable, "-c", LOAD_SCRIPT, INTEGRATION,
                                 "ipc://" + os.path.join(data_dir, "run", "bus"),
                                 f"http://127.0.0.1:{port}", out, stop],
                                env=dict(os.environ, MCPBOX_HEARTBEAT_MS="250"))
        time.sleep(1.0)
        recovery = {}
        victims = [(name, service) for name, service in ACTOR_SERVICES.items()
                   if service] + [("mcpbox-broker", None), ("mcpbox-gateway", None)]
        for name, service in victims:
            if service:
                pid = service_pid(data_dir, service)
            else:
                pid = up.children().get(name, [None])[0]
            assert pid, (name, up.logs())
            count = len(up.children().get(name, []))
            started = time.monotonic()
            os.kill(pid, signal.SIGKILL)

            def replaced():
                # as many processes of that name as before, the killed one
                # not among them, and everything ok (its service answers)
                kids = up.children().get(name, [])
                if pid in kids or len(kids) != count:
                    return False
                if service and service_pid(data_dir, service) in (None, pid):
                    return False
                rc, doc = status_json(data_dir)
                return rc == 0 and doc and doc.get("ok") and _http_ok(port)
            wait_until(f"{name} replaced and everything ok", replaced,
                       BROKER_RECOVERY_S if name == "mcpbox-broker" else RECOVERY_S, up=up)
            recovery[name] = round(time.monotonic() - started, 2)
            time.sleep(0.3)             # load on the recovered system
        open(stop, "w").close()
        load.wait(timeout=30)
        with open(out) as f:
            stats = json.load(f)
        stats_print = {k: v for k, v in stats.items() if k != "created"}
        print(f"\nfault injection: {json.dumps(stats_print)}; created {len(stats['created'])}; "
              f"recovery s {json.dumps(recovery)}")

        assert stats["sent"] == stats["answered"] + stats["client_deadline"]
        assert stats["client_deadline"] <= 1, stats_print     # the broker kill only
        assert stats["ok"] > 0 and stats["created"]
        # nothing committed was lost
        from busclient import BusClient
        with BusClient("ipc://" + os.path.join(data_dir, "run", "bus")) as client:
            names = _all_names(lambda body: client.call("registry", body, timeout_ms=5000))
        missing = [n for n in stats["created"] if n not in names]
        assert not missing, missing
        # healthy again by itself
        rc, doc = status_json(data_dir)
        assert rc == 0 and doc.get("ok"), doc
        assert _http_ok(port)
    finally:
        if load and load.poll() is None:
            load.kill()
        up.close()
        subprocess.run(["rm", "-rf", data_dir])


def _http_ok(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def test_full_disk_refuses_writes_then_recovers(tmp_path):
    """The data directory on a small tmpfs, filled up: writes to the
    registry, credentials and approval are answered `unavailable` "the disk
    is full" (never a hang or a crash), what was committed before stays, and
    once space is freed writes succeed again by themselves."""
    data_dir = f"/tmp/mbd{os.getpid()}"
    os.makedirs(data_dir, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", data_dir],
            capture_output=True).returncode != 0:
        os.rmdir(data_dir)
        pytest.skip("needs root to mount a tmpfs")
    up = None
    try:
        port = free_port()
        up = Up(data_dir, port)
        up.wait_all_ok(30)
        from busclient import BusClient
        endpoint = "ipc://" + os.path.join(data_dir, "run", "bus")
        with BusClient(endpoint) as client:
            def create(name):
                return client.call("registry", {"op": "server.create", "name": name},
                                   timeout_ms=5000)
            before = [f"before_{i}" for i in range(5)]
            assert all(create(n).get("ok") for n in before)
            filler = os.path.join(data_dir, "filler")
            subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"],
                           capture_output=True)          # until the disk is full
            replies = [create(f"full_{i}") for i in range(40)]
            # the other writers answer the same way
            others = [client.call("credentials", {"op": "secret_set", "server_id": "srv_full",
                                                   "key": f"K{i}", "value": "v" * 4000},
                                  timeout_ms=5000) for i in range(20)]
            others += [client.call("approval", {"op": "policy.set", "key": "network_access_policy",
                                                "value": v, "changed_by": "faults"},
                                   timeout_ms=5000) for v in ("allow_all_public", "require_approval") * 10]
            refused_others = [r for r in others if not r.get("ok")]
            assert refused_others, others[-1]
            assert all(r["error"]["code"] == "unavailable"
                       and "disk is full" in r["error"]["message"] for r in refused_others), \
                refused_others[:3]
            refused = [r for r in replies if not r.get("ok")]
            # each answered; once SQLite needs a new page, an error, not a hang
            assert refused, replies[-1]
            assert all(r["error"]["code"] == "unavailable"
                       and "disk is full" in r["error"]["message"] for r in refused), refused[:3]
            codes = {}
            for r in refused:
                codes[r["error"]["code"]] = codes.get(r["error"]["code"], 0) + 1
            os.unlink(filler)
            wait_until("writes to succeed again",
                       lambda: create(f"after_{time.monotonic_ns()}").get("ok"), 15, up=up)
            assert client.call("credentials", {"op": "secret_set", "server_id": "srv_full",
                                               "key": "AFTER", "value": "v"},
                               timeout_ms=5000).get("ok")
            assert client.call("approval", {"op": "policy.set", "key": "network_access_policy",
                                            "value": "require_approval", "changed_by": "faults"},
                               timeout_ms=5000).get("ok")
            names = _all_names(lambda body: client.call("registry", body, timeout_ms=5000))
            assert set(before) <= names
            ok_during = [f"full_{i}" for i, r in enumerate(replies) if r.get("ok")]
            assert set(ok_during) <= names
            print(f"\nfull disk: registry {len(replies)} writes, {len(ok_during)} ok before "
                  f"the disk filled up, refused {codes}; credentials refused "
                  f"{sum(1 for r in others[:20] if not r.get('ok'))}/20, approval refused "
                  f"{sum(1 for r in others[20:] if not r.get('ok'))}/20")
        rc, doc = status_json(data_dir)
        assert rc == 0 and doc.get("ok"), doc
    finally:
        if up:
            up.close()
        subprocess.run(["umount", "-l", data_dir])
        subprocess.run(["rm", "-rf", data_dir])


def test_locked_database_is_answered_then_recovers():
    """Another process holds the database's write lock for a while: the
    registry's writes meanwhile are answered (ok once the lock is released
    within the busy timeout, or `unavailable` "database busy"), never left
    hanging; afterwards writes succeed and every acknowledged one is kept."""
    import sqlite3
    data_dir = f"/tmp/mbl{os.getpid()}"
    os.makedirs(data_dir, exist_ok=True)
    up = None
    try:
        port = free_port()
        up = Up(data_dir, port)
        up.wait_all_ok(30)
        from busclient import BusClient
        with BusClient("ipc://" + os.path.join(data_dir, "run", "bus")) as client:
            lock = sqlite3.connect(os.path.join(data_dir, "mcpbox.db"), timeout=10,
                                   isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")
            held = time.monotonic()
            ids = [client.send("registry", {"op": "server.create", "name": f"locked_{i}"},
                               timeout_ms=15000) for i in range(5)]
            time.sleep(1.5)
            lock.execute("ROLLBACK")
            lock.close()
            replies = [client.receive(i, wait_s=20) for i in ids]
            waited = time.monotonic() - held
            for r in replies:
                assert r.get("ok") or (r["error"]["code"] == "unavailable"
                                       and "busy" in r["error"]["message"]), r
            assert client.call("registry", {"op": "server.create", "name": "after_lock"},
                               timeout_ms=5000).get("ok")
            names = _all_names(lambda body: client.call("registry", body, timeout_ms=5000))
            kept = [f"locked_{i}" for i, r in enumerate(replies) if r.get("ok")]
            assert set(kept) <= names and "after_lock" in names
            print(f"\nlocked database: 5 writes during a 1.5 s lock, {len(kept)} ok, "
                  f"{5 - len(kept)} busy, all answered within {waited:.1f} s")
        rc, doc = status_json(data_dir)
        assert rc == 0 and doc.get("ok"), doc
    finally:
        if up:
            up.close()
        subprocess.run(["rm", "-rf", data_dir])
