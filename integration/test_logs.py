"""The logs service (mcpbox-logkeeper) over the real bus, with the real
broker and the real approval actor (which owns log_retention_days).

Records are sent the way every process's log spool sends them (op `ingest`,
common/logspool.c); the outcome is judged on the database file itself:
  - a batch sent twice writes its rows once; a malformed record is refused
    alone; a malformed batch is refused whole;
  - queries filter, count and page with a cursor; stats give p50/p95;
  - new rows (never duplicates) are published as `exec.log` / `activity`;
  - secret-looking keys never reach the file (nor its WAL);
  - retention deletes exactly the rows older than the window, in batches,
    while ingestion goes on, and follows a policy change without a restart.
"""
import os
import sqlite3
import threading
import time

import msgpack
import pytest
import zmq

from busclient import BusClient
from conftest import bin_path, proc_env, wait_for

DAY_MS = 86400 * 1000


def now_ms():
    return int(time.time() * 1000)


class Logs:
    def __init__(self, procs, data_dir, **env):
        self.procs = procs
        self.dir = data_dir
        self.db = os.path.join(data_dir, "mcpbox.db")
        self.broker = procs.start([bin_path("mcpbox-broker"), "--data-dir", data_dir],
                                  name="broker")
        wait_for(lambda: os.path.exists(os.path.join(data_dir, "run", "bus")),
                 what="broker socket")
        self.bus = BusClient("ipc://" + os.path.join(data_dir, "run", "bus"), 5000)
        self.approval = procs.start([bin_path("mcpbox-approval"), "--data-dir", data_dir],
                                    name="approval")
        wait_for(lambda: self.bus.call("approval", {"op": "health"}, 300).get("ok"),
                 what="approval answering")
        self.env = env
        self.logkeeper = None
        self.start_logkeeper()

    def start_logkeeper(self):
        self.logkeeper = self.procs.start(
            [bin_path("mcpbox-logkeeper"), "--data-dir", self.dir],
            name="logkeeper", env=proc_env(**self.env))
        wait_for(lambda: self.call("health", 300).get("ok"), what="logkeeper answering")

    def call(self, op, timeout_ms=5000, **fields):
        return self.bus.call("logs", {"op": op, **fields}, timeout_ms)

    def ok(self, op, **fields):
        reply = self.call(op, **fields)
        assert reply.get("ok") is True, (op, reply)
        return reply

    def ingest(self, records, source="test-src"):
        return self.ok("ingest", source=source, records=records)

    def rows(self, sql, *args):
        with sqlite3.connect(self.db, timeout=10) as db:
            return db.execute(sql, args).fetchall()

    def close(self):
        self.bus.close()


@pytest.fixture
def logs(procs, tmpdir_short):
    system = Logs(procs, tmpdir_short)
    yield system
    system.close()


def exec_record(rid, ts=None, **fields):
    record = {"rid": rid, "kind": "exec", "ts": ts or now_ms(), "tool_id": "tool-1",
              "tool_name": "weather", "server_id": "srv-1", "success": True,
              "duration_ms": 5, "args": {"city": "Oslo"}}
    record.update(fields)
    return record


def activity_record(rid, ts=None, **fields):
    record = {"rid": rid, "kind": "activity", "ts": ts or now_ms(), "type": "server.created",
              "level": "info", "message": "created", "server_id": "srv-1"}
    record.update(fields)
    return record


def test_ingest_is_idempotent_on_record_id(logs):
    records = [exec_record(f"n1-{i}") for i in range(20)]
    records += [activity_record(f"n1-a{i}") for i in range(5)]
    assert logs.ingest(records) == {"ok": True, "accepted": 25, "duplicates": 0, "rejected": 0}
    # the same batch again (its acknowledgement was lost): nothing twice
    assert logs.ingest(records) == {"ok": True, "accepted": 0, "duplicates": 25, "rejected": 0}
    # a batch mixing old and new ids writes only the new ones
    again = records[:3] + [exec_record("n1-new")]
    assert logs.ingest(again)["accepted"] == 1
    assert logs.rows("SELECT COUNT(*) FROM execution_logs")[0][0] == 21
    assert logs.rows("SELECT COUNT(*) FROM activity_log")[0][0] == 5
    assert logs.rows("SELECT COUNT(DISTINCT record_id) FROM execution_logs")[0][0] == 21


def test_hostile_records_are_refused_alone(logs):
    good = exec_record("h-good")
    bad = [
        {"rid": "h-1", "kind": "exec", "ts": now_ms()},                    # no success
        {"rid": "h-2", "kind": "nope", "ts": now_ms()},
        {"rid": "h 3", "kind": "exec", "ts": now_ms(), "success": True},   # rid charset
        {"rid": "h-4", "kind": "exec", "ts": 5, "success": True},          # ts range
        activity_record("h-5", type="Bad Type"),
        activity_record("h-6", level="loud"),
        exec_record("h-7", duration_ms=-1),
        exec_record("h-8", args=[1, 2]),                                   # args not a map
        exec_record("h-9", tool_id="x" * 65),
        "not a map",
    ]
    reply = logs.ingest([good] + bad)
    assert reply["accepted"] == 1 and reply["rejected"] == len(bad)
    assert logs.rows("SELECT record_id FROM execution_logs") == [("h-good",)]
    # a batch that is not one is refused whole
    for body in ({"op": "ingest", "source": "s", "records": []},
                 {"op": "ingest", "source": "s", "records": [good] * 1001},
                 {"op": "ingest", "records": [good]},
                 {"op": "ingest", "source": "s\x01", "records": [good]},
                 {"op": "ingest", "source": "s", "records": "x"}):
        reply = logs.bus.call("logs", body)
        assert reply["ok"] is False and reply["error"]["code"] == "bad_request", body
    # long texts are cut with a marker; invalid UTF-8 is replaced, not stored raw
    big = "r" * 20000
    logs.ingest([exec_record("h-big", result=big, stdout="s" * 20000, error="e" * 9000,
                             tool_name=b"\xff\xfe".decode("latin-1"))])
    result, stdout, error = logs.rows(
        "SELECT result, stdout, error FROM execution_logs WHERE record_id = 'h-big'")[0]
    assert len(result.encode()) < 10240 + 64 and "[truncated, 20000 bytes]" in result
    assert len(stdout.encode()) < 10240 + 64 and "[truncated, 20000 bytes]" in stdout
    assert len(error.encode()) < 5120 + 64 and "[truncated, 9000 bytes]" in error


def test_secrets_never_reach_the_database_file(logs):
    secrets = ["hunter2-pw-7f3a", "tok-9b1c-secret", "AKIA-key-5e6d", "cookie-c0ffee",
               "nested-bearer-1234", "privkey-zz99"]
    args = {"city": "Oslo", "password": secrets[0],
            "opts": {"auth_token": secrets[1], "list": [{"X-Api-Key": secrets[2]}]},
            "Cookie": secrets[3], "headers": {"Authorization": {"v": secrets[4]}},
            "private_key": secrets[5]}
    logs.ingest([exec_record("s-1", args=args),
                 activity_record("s-2", details={"client_secret": secrets[1], "n": 1})])
    stored = logs.rows("SELECT input_args FROM execution_logs WHERE record_id = 's-1'")[0][0]
    assert '"city":"Oslo"' in stored and stored.count("[REDACTED]") == 6
    # the bytes on disk: the database file and its write-ahead log
    blob = b""
    for suffix in ("", "-wal"):
        path = logs.db + suffix
        if os.path.exists(path):
            with open(path, "rb") as f:
                blob += f.read()
    assert b"Oslo" in blob
    for secret in secrets:
        assert secret.encode() not in blob, secret
    # and the query answers
    rows = logs.ok("exec.query", tool_id="tool-1")["logs"]
    assert rows[0]["input_args"]["password"] == "[REDACTED]"


def test_queries_filter_count_and_page(logs):
    base = now_ms() - 3600 * 1000
    records = []
    for i in range(30):
        records.append(exec_record(f"q-{i}", ts=base + i * 1000,
                                   tool_id="tool-a" if i % 3 else "tool-b",
                                   success=i % 5 != 0, duration_ms=i,
                                   is_test=(i == 7)))
    records += [activity_record(f"qa-{i}", ts=base + i, type="tool.called" if i % 2 else "server.started",
                                level="error" if i == 3 else "info",
                                server_id="srv-x" if i < 4 else "srv-y") for i in range(10)]
    logs.ingest(records)
    page = logs.ok("exec.query", tool_id="tool-a", limit=7)
    assert page["total"] == 20 and len(page["logs"]) == 7
    seen = [row["id"] for row in page["logs"]]
    assert seen == sorted(seen, reverse=True)
    while page["next_cursor"] is not None:
        page = logs.ok("exec.query", tool_id="tool-a", limit=7, cursor=page["next_cursor"])
        seen += [row["id"] for row in page["logs"]]
    assert len(seen) == 20 and len(set(seen)) == 20
    assert logs.ok("exec.query", success=False)["total"] == 6
    assert logs.ok("exec.query", is_test=True)["total"] == 1
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((base + 10000) / 1000)) + ".000Z"
    assert logs.ok("exec.query", since=since)["total"] == 20
    assert logs.ok("exec.query", since=base + 10000, until=base + 20000)["total"] == 10
    # oldest first after a cursor: how `logs tail --follow` reads
    asc = logs.ok("exec.query", order="asc", limit=5)["logs"]
    assert [r["id"] for r in asc] == sorted(r["id"] for r in asc)
    row = asc[0]
    for field in ("id", "success", "duration_ms", "error", "input_args", "result", "stdout",
                  "executed_by", "created_at", "tool_id", "server_id", "is_test"):
        assert field in row
    assert logs.ok("activity.query", type="server.started")["total"] == 5
    assert logs.ok("activity.query", type_prefix="tool.")["total"] == 5
    assert logs.ok("activity.query", level="error")["total"] == 1
    assert logs.ok("activity.query", server_id="srv-x")["total"] == 4
    for bad in ({"limit": 0}, {"limit": 201}, {"cursor": -1}, {"order": "up"},
                {"since": "yesterday"}, {"type_prefix": "a*"}, {"success": 1}):
        op = "activity.query" if "type_prefix" in bad else "exec.query"
        reply = logs.call(op, **bad)
        assert reply["ok"] is False and reply["error"]["code"] == "bad_request", bad


def test_stats_per_tool(logs):
    records = [exec_record(f"st-{i}", tool_id="tool-s", duration_ms=i + 1, success=i >= 10)
               for i in range(100)]
    records += [exec_record("st-old", tool_id="tool-s", duration_ms=99999,
                            ts=now_ms() - 2 * DAY_MS)]
    records += [exec_record("st-test", tool_id="tool-s", duration_ms=99999, is_test=True)]
    logs.ingest(records)
    stats = logs.ok("exec.stats", window_s=86400, tool_id="tool-s")
    [tool] = stats["tools"]
    assert tool["calls"] == 100 and tool["errors"] == 10
    assert tool["p50_ms"] == 50 and tool["p95_ms"] == 95
    with_tests = logs.ok("exec.stats", window_s=86400, tool_id="tool-s", include_tests=True)
    assert with_tests["tools"][0]["calls"] == 101


def test_new_rows_are_published_once(logs):
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.connect("ipc://" + os.path.join(logs.dir, "run", "ev-out"))
    sub.setsockopt(zmq.SUBSCRIBE, b"exec.log")
    sub.setsockopt(zmq.SUBSCRIBE, b"activity")
    time.sleep(0.5)   # the subscription reaches the broker
    records = [exec_record("ev-1"), activity_record("ev-2")]
    logs.ingest(records)
    logs.ingest(records)              # duplicates: no second event
    got = []
    while sub.poll(1000):
        topic, body = sub.recv_multipart()
        got.append((topic, msgpack.unpackb(body)))
    sub.close(0)
    ctx.term()
    assert sorted(t for t, _ in got) == [b"activity", b"exec.log"]
    event = dict(got)[b"exec.log"]
    assert event["tool_id"] == "tool-1" and event["success"] is True and "id" in event


@pytest.fixture
def pruning(procs, tmpdir_short):
    system = Logs(procs, tmpdir_short, MCPBOX_LOG_PRUNE_FIRST_S=4,
                  MCPBOX_LOG_PRUNE_BATCH=100, MCPBOX_LOG_PRUNE_EVERY_S=3600)
    yield system
    system.close()


def test_retention_deletes_exactly_the_old_rows_in_batches_while_ingesting(pruning):
    logs = pruning
    now = now_ms()
    window = 30 * DAY_MS
    old, kept = [], []
    for i in range(1250):
        old.append(exec_record(f"old-e{i}", ts=now - window - 60000 - i * 1000))
    for i in range(350):
        old.append(activity_record(f"old-a{i}", ts=now - window - 60000 - i * 7000))
    for i in range(300):
        kept.append(exec_record(f"keep-e{i}", ts=now - window + 120000 + i * 1000))
    for i in range(50):
        kept.append(activity_record(f"keep-a{i}", ts=now - 10 * DAY_MS))
    for chunk in range(0, len(old + kept), 500):
        logs.ingest((old + kept)[chunk:chunk + 500])
    assert logs.rows("SELECT COUNT(*) FROM execution_logs")[0][0] == 1550

    # ingestion goes on while the prune runs
    stop = threading.Event()
    sent = []

    def keep_ingesting():
        client = BusClient("ipc://" + os.path.join(logs.dir, "run", "bus"), 5000)
        n = 0
        while not stop.is_set() and n < 2000:
            batch = [exec_record(f"live-{n + k}") for k in range(10)]
            reply = client.call("logs", {"op": "ingest", "source": "live", "records": batch})
            assert reply["ok"] is True
            sent.extend(r["rid"] for r in batch)
            n += 10
            time.sleep(0.01)
        client.close()

    writer = threading.Thread(target=keep_ingesting)
    writer.start()
    try:
        pruned = wait_for(lambda: logs.ok("activity.query", type="logs.pruned")["activity"],
                          timeout=30, what="the first prune")
    finally:
        stop.set()
        writer.join(timeout=30)
    details = pruned[0]["details"]
    assert details["execution_logs"] == 1250 and details["activity_log"] == 350
    assert details["deleted"] == 1600 and details["retention_days"] == 30
    assert details["batch_max"] == 100 and details["batches"] >= 16
    assert logs.rows("SELECT COUNT(*) FROM execution_logs WHERE record_id LIKE 'old-%'")[0][0] == 0
    assert logs.rows("SELECT COUNT(*) FROM activity_log WHERE record_id LIKE 'old-%'")[0][0] == 0
    assert logs.rows("SELECT COUNT(*) FROM execution_logs WHERE record_id LIKE 'keep-%'")[0][0] == 300
    assert logs.rows("SELECT COUNT(*) FROM activity_log WHERE record_id LIKE 'keep-%'")[0][0] == 50
    live = logs.rows("SELECT COUNT(*) FROM execution_logs WHERE record_id LIKE 'live-%'")[0][0]
    assert sent and live == len(sent)

    # a shorter window applies without a restart (approval.changed -> policy.get)
    pid = logs.logkeeper.pid
    reply = logs.bus.call("approval", {"op": "policy.set", "key": "log_retention_days",
                                       "value": 5, "changed_by": "admin"})
    assert reply["ok"] is True, reply
    wait_for(lambda: len(logs.ok("activity.query", type="logs.pruned")["activity"]) == 2,
             timeout=20, what="the prune after the policy change")
    second = logs.ok("activity.query", type="logs.pruned")["activity"][0]["details"]
    assert second["retention_days"] == 5
    assert second["execution_logs"] == 300 and second["activity_log"] == 50
    assert logs.ok("retention.get")["retention_days"] == 5
    assert logs.logkeeper.pid == pid and logs.logkeeper.poll() is None


def test_no_prune_before_the_policy_is_known(procs, tmpdir_short):
    # without approval nothing is pruned: a default must not delete what a
    # longer configured window keeps
    broker = procs.start([bin_path("mcpbox-broker"), "--data-dir", tmpdir_short], name="broker")
    wait_for(lambda: os.path.exists(os.path.join(tmpdir_short, "run", "bus")), what="broker")
    procs.start([bin_path("mcpbox-logkeeper"), "--data-dir", tmpdir_short], name="logkeeper",
                env=proc_env(MCPBOX_LOG_PRUNE_FIRST_S=1))
    bus = BusClient("ipc://" + os.path.join(tmpdir_short, "run", "bus"), 5000)
    wait_for(lambda: bus.call("logs", {"op": "health"}, 300).get("ok"), what="logkeeper")
    old = [exec_record(f"o-{i}", ts=now_ms() - 400 * DAY_MS) for i in range(10)]
    assert bus.call("logs", {"op": "ingest", "source": "t", "records": old})["accepted"] == 10
    time.sleep(3)
    status = bus.call("logs", {"op": "retention.get"})
    assert status["retention_days"] is None
    page = bus.call("logs", {"op": "exec.query"})
    assert page["total"] == 10
    reply = bus.call("logs", {"op": "retention.prune"})
    assert reply["ok"] is False and reply["error"]["code"] == "unavailable"
    bus.close()
    assert broker.poll() is None
