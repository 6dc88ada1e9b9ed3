"""The registry actor (service `registry`) over the real bus: the real
mcpbox-broker, mcpbox-registry and mcpbox-executor processes (the executor
answers the registry's {"op": "validate"} schema requests), against the
contract in docs/BUS_OPS.md (section registry).

Each test gets its own data directory, migrated with `mcpbox migrate`.

Frames spoken here (proto/README.md):
  client  out: "MBC1" | 0x01 | service | id (u64 BE) | timeout_ms (u32 BE) | body
          in:  "MBC1" | 0x02 | id (u64 BE) | body
  events  SUB on ipc://DATA/run/ev-out: topic | msgpack body

Set MCPBOX_VALGRIND=1 to also run the registry under valgrind through one
sequence (slow).
"""
import hashlib
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import time
import uuid

import msgpack

from busclient import BusClient
import pytest
import zmq

from conftest import HEARTBEAT_MS, bin_path, proc_env, wait_for

CODE_ADD = ('async def main(a: int, b: int):\n'
            '    """Add two numbers."""\n'
            '    return a + b\n')
CODE_ECHO = 'async def main(text: str, times: int = 1):\n    return text * times\n'
CODE_HELLO = 'async def main():\n    return "hello"\n'


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


# --- a bus client and an event subscriber -----------------------------------------

def Bus(data_dir):
    """integration/busclient.py; replies that arrive early are kept in .early."""
    return BusClient("ipc://" + os.path.join(data_dir, "run", "bus"), default_timeout_ms=5000)


class Events:
    """SUB socket on DATA/run/ev-out for `tools.changed`."""

    def __init__(self, data_dir):
        self.sock = zmq.Context.instance().socket(zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SUBSCRIBE, b"tools.changed")
        self.sock.connect("ipc://" + os.path.join(data_dir, "run", "ev-out"))

    def next(self, wait_s=3.0):
        if not self.sock.poll(int(wait_s * 1000)):
            raise AssertionError(f"no tools.changed event in {wait_s}s")
        topic, body = self.sock.recv_multipart()
        assert topic == b"tools.changed"
        return msgpack.unpackb(body, raw=False)

    def none(self, wait_s=0.5):
        if self.sock.poll(int(wait_s * 1000)):
            raise AssertionError(f"unexpected event: {self.sock.recv_multipart()}")

    def close(self):
        self.sock.close()


# --- the constellation ---------------------------------------------------------------

class Constellation:
    def __init__(self, procs, data_dir, env=None):
        self.procs = procs
        self.data = data_dir
        self.env = env or proc_env()
        self.registry = None
        self.executor = None
        self.bus = None

    def migrate(self):
        r = subprocess.run([bin_path("mcpbox"), "migrate", "--data-dir", self.data],
                           capture_output=True, text=True, env=self.env, timeout=30)
        assert r.returncode == 0, r.stderr

    def start_broker(self):
        self.procs.start([bin_path("mcpbox-broker"), "--data-dir", self.data],
                         name="broker", env=self.env)
        wait_for(lambda: os.path.exists(os.path.join(self.data, "run", "bus")),
                 what="broker socket")
        self.bus = Bus(self.data)

    def start_executor(self):
        self.executor = self.procs.start([bin_path("mcpbox-executor"), "--data-dir", self.data],
                                         name="executor", env=self.env)
        self.wait_served("sandbox")

    def start_registry(self, prefix=(), wait_s=10):
        self.registry = self.procs.start(
            [*prefix, bin_path("mcpbox-registry"), "--data-dir", self.data],
            name="registry", env=self.env)
        self.wait_served("registry", wait_s)
        return self.registry

    def wait_served(self, service, wait_s=10):
        def served():
            reply = self.bus.call(service, {"op": "health"}, timeout_ms=500)
            return reply.get("ok") and reply.get("service") == service
        wait_for(served, timeout=wait_s, interval=0.05, what=f"service {service}")

    def kill_registry(self):
        os.killpg(self.registry.pid, signal.SIGKILL)
        self.registry.wait(timeout=10)

    def call(self, body, timeout_ms=5000):
        return self.bus.call("registry", body, timeout_ms)


@pytest.fixture
def reg(procs, tmpdir_short):
    c = Constellation(procs, tmpdir_short)
    c.migrate()
    c.start_broker()
    c.start_executor()
    c.start_registry()
    yield c
    c.bus.close()


def ok(reply):
    assert reply.get("ok") is True, reply
    return reply


def refused(reply, code, field=None):
    assert reply.get("ok") is False, reply
    assert reply["error"]["code"] == code, reply
    if field is not None:
        assert reply["error"]["message"].startswith(field + ":"), reply
    return reply["error"]["message"]


def make_server(c, name="demo", **extra):
    return ok(c.call({"op": "server.create", "name": name, **extra}))["server"]


def make_tool(c, server_id, name="add", code=CODE_ADD, **extra):
    return ok(c.call({"op": "tool.create", "server_id": server_id, "name": name,
                      "python_code": code, **extra}))["tool"]


def catalog(c):
    return ok(c.call({"op": "catalog"}))


# --- start-up ------------------------------------------------------------------------

def test_refuses_to_start_on_an_unmigrated_database(procs, tmpdir_short):
    c = Constellation(procs, tmpdir_short)
    c.start_broker()
    proc = procs.start([bin_path("mcpbox-registry"), "--data-dir", tmpdir_short], name="registry")
    assert proc.wait(timeout=10) == 1
    proc.log_file.flush()
    with open(proc.log_file.name) as f:
        log = f.read()
    assert "mcpbox migrate" in log, log
    c.bus.close()


def test_health_names_what_the_registry_owns(reg):
    health = ok(reg.call({"op": "health"}))
    assert health["service"] == "registry" and health["process"] == "mcpbox-registry"
    assert set(health["owns"]) >= {"servers", "tools", "tool_versions", "external_mcp_sources"}


# --- servers -------------------------------------------------------------------------

def test_server_create_get_list_delete(reg):
    server = make_server(reg, "weather", description="forecasts")
    assert uuid.UUID(server["id"]).version == 4 and server["id"] == server["id"].lower()
    assert server["name"] == "weather" and server["description"] == "forecasts"
    assert server["status"] == "ready" and server["default_timeout_ms"] == 30000
    assert server["created_at"].endswith("Z") and len(server["created_at"]) == 24
    assert server["tool_count"] == 0

    got = ok(reg.call({"op": "server.get", "server_id": server["id"]}))["server"]
    assert got["tools"] == [] and got["tool_count"] == 0
    assert {k: got[k] for k in server} == server
    # ids are case-insensitive on the way in
    ok(reg.call({"op": "server.get", "server_id": server["id"].upper()}))

    assert "conflict" == reg.call({"op": "server.create", "name": "weather"})["error"]["code"]
    other = make_server(reg, "other", default_timeout_ms=60000)
    assert other["default_timeout_ms"] == 60000 and other["description"] == ""

    listed = ok(reg.call({"op": "server.list"}))
    assert listed["total"] == 2 and listed["page"] == 1 and listed["page_size"] == 50
    assert [s["name"] for s in listed["servers"]] == ["weather", "other"]

    deleted = ok(reg.call({"op": "server.delete", "server_id": server["id"]}))
    assert deleted["deleted"] is True
    refused(reg.call({"op": "server.get", "server_id": server["id"]}), "not_found")
    refused(reg.call({"op": "server.delete", "server_id": server["id"]}), "not_found")
    assert ok(reg.call({"op": "server.list"}))["total"] == 1
    # the name is free again
    make_server(reg, "weather")


def test_server_list_pages(reg):
    names = [f"s{i}" for i in range(7)]
    for name in names:
        make_server(reg, name)
    page = ok(reg.call({"op": "server.list", "page": 2, "page_size": 3}))
    assert page["total"] == 7 and page["page"] == 2 and page["page_size"] == 3
    assert [s["name"] for s in page["servers"]] == names[3:6]
    last = ok(reg.call({"op": "server.list", "page": 3, "page_size": 3}))
    assert [s["name"] for s in last["servers"]] == names[6:]
    assert ok(reg.call({"op": "server.list", "page": 9}))["servers"] == []
    assert len(ok(reg.call({"op": "server.list", "page_size": 100}))["servers"]) == 7
    for bad in ({"page": 0}, {"page": -1}, {"page": 1000001}):
        refused(reg.call({"op": "server.list", **bad}), "bad_request", "page")
    for bad in ({"page_size": 0}, {"page_size": 101}, {"page_size": "10"}, {"page_size": 2.5}):
        refused(reg.call({"op": "server.list", **bad}), "bad_request", "page_size")


def test_server_start_and_stop(reg):
    server = make_server(reg)
    make_tool(reg, server["id"])
    started = ok(reg.call({"op": "server.start", "server_id": server["id"]}))
    assert started["server"]["status"] == "running" and started["changed"] is True
    assert started["enabled_tools"] == 1
    again = ok(reg.call({"op": "server.start", "server_id": server["id"]}))
    assert again["changed"] is False and again["server"]["status"] == "running"
    stopped = ok(reg.call({"op": "server.stop", "server_id": server["id"]}))
    assert stopped["server"]["status"] == "stopped" and stopped["changed"] is True
    missing = str(uuid.uuid4())
    refused(reg.call({"op": "server.start", "server_id": missing}), "not_found")
    refused(reg.call({"op": "server.stop", "server_id": missing}), "not_found")


@pytest.mark.parametrize("name", [
    "", "A", "Demo", "1abc", "_abc", "a-b", "a b", "a.b", "a__b", "ab__", "é", "a" * 62,
])
def test_server_name_rules(reg, name):
    refused(reg.call({"op": "server.create", "name": name}), "bad_request", "name")


def test_server_name_limits_and_fields(reg):
    make_server(reg, "a" * 61)      # room for "__" and a one-letter tool in 64
    make_server(reg, "a_b_9")
    make_server(reg, "x")
    refused(reg.call({"op": "server.create"}), "bad_request", "name")
    refused(reg.call({"op": "server.create", "name": None}), "bad_request", "name")
    refused(reg.call({"op": "server.create", "name": 5}), "bad_request", "name")
    refused(reg.call({"op": "server.create", "name": b"bytes"}), "bad_request", "name")
    refused(reg.call({"op": "server.create", "name": "d1", "description": 5}),
            "bad_request", "description")
    refused(reg.call({"op": "server.create", "name": "d2", "description": "a" * 2001}),
            "bad_request", "description")
    refused(reg.call({"op": "server.create", "name": "d3", "description": "x\x00y"}),
            "bad_request", "description")
    # 2000 characters of two bytes each: characters count, not bytes
    assert make_server(reg, "d4", description="é" * 2000)["description"] == "é" * 2000
    for bad in (999, 300001, "30000", True):
        refused(reg.call({"op": "server.create", "name": "d5", "default_timeout_ms": bad}),
                "bad_request", "default_timeout_ms")
    for bad in ("nope", "", 5, "0000000-0000-4000-8000-000000000000",
                "g0000000-0000-4000-8000-000000000000", "00000000+0000-4000-8000-000000000000"):
        refused(reg.call({"op": "server.get", "server_id": bad}), "bad_request", "server_id")
    refused(reg.call({"op": "server.get"}), "bad_request", "server_id")
    refused(reg.call({"op": "server.get", "server_id": str(uuid.uuid4())}), "not_found")


def test_invalid_utf8_is_refused(reg):
    body = msgpack.packb({"op": "server.create", "name": "u", "description": "XXXX"})
    body = body.replace(b"\xa4XXXX", b"\xa4\xff\xfe\xc0\x80")
    refused(reg.bus.call_raw("registry", body), "bad_request", "description")
    body = msgpack.packb({"op": "server.create", "name": "u", "description": "XXX"})
    body = body.replace(b"\xa3XXX", b"\xa3\xed\xa0\x80")      # a UTF-16 surrogate
    refused(reg.bus.call_raw("registry", body), "bad_request", "description")


# --- tools ---------------------------------------------------------------------------

def test_tool_create_get_list_delete(reg):
    server = make_server(reg)
    tool = make_tool(reg, server["id"], "add", CODE_ADD, description="adds")
    assert uuid.UUID(tool["id"]).version == 4
    assert tool["server_id"] == server["id"] and tool["server_name"] == "demo"
    assert tool["name"] == "add" and tool["description"] == "adds"
    assert tool["enabled"] is True and tool["timeout_ms"] == 30000
    assert tool["python_code"] == CODE_ADD and tool["code_hash"] == sha256(CODE_ADD)
    assert tool["current_version"] == 1 and tool["created_by"] == "llm"
    assert tool["tool_type"] == "python_code"
    schema = tool["input_schema"]
    assert isinstance(schema, dict) and schema["type"] == "object"
    assert set(schema["properties"]) == {"a", "b"} and schema["required"] == ["a", "b"]

    got = ok(reg.call({"op": "tool.get", "tool_id": tool["id"]}))["tool"]
    assert got == tool

    # no description: main's docstring; timeout from the server; created_by admin
    slow = make_server(reg, "slow", default_timeout_ms=90000)
    echo = make_tool(reg, slow["id"], "echo", CODE_ECHO, created_by="admin")
    assert echo["timeout_ms"] == 90000 and echo["created_by"] == "admin"
    documented = make_tool(reg, slow["id"], "doc", CODE_ADD)
    assert documented["description"] == "Add two numbers."
    explicit = make_tool(reg, slow["id"], "fast", CODE_HELLO, timeout_ms=1000, description="")
    assert explicit["timeout_ms"] == 1000 and explicit["description"] == ""
    versions = ok(reg.call({"op": "tool.versions", "tool_id": echo["id"]}))
    assert versions["versions"][0]["change_source"] == "manual"     # admin default

    listed = ok(reg.call({"op": "tool.list", "server_id": slow["id"]}))
    assert listed["server_id"] == slow["id"] and listed["server_name"] == "slow"
    assert listed["total"] == 3 and [t["name"] for t in listed["tools"]] == ["echo", "doc", "fast"]
    assert set(listed["tools"][0]) == {"id", "name", "description", "enabled", "code_hash",
                                       "current_version", "removed_at"}
    assert listed["tools"][0]["removed_at"] is None
    srv = ok(reg.call({"op": "server.get", "server_id": slow["id"]}))["server"]
    assert srv["tool_count"] == 3 and [t["id"] for t in srv["tools"]] == [t["id"] for t in listed["tools"]]

    refused(reg.call({"op": "tool.create", "server_id": server["id"], "name": "add",
                      "python_code": CODE_HELLO}), "conflict")
    make_tool(reg, slow["id"], "add", CODE_HELLO)             # per server only

    ok(reg.call({"op": "tool.delete", "tool_id": echo["id"]}))
    refused(reg.call({"op": "tool.get", "tool_id": echo["id"]}), "not_found")
    refused(reg.call({"op": "tool.versions", "tool_id": echo["id"]}), "not_found")
    refused(reg.call({"op": "tool.delete", "tool_id": echo["id"]}), "not_found")
    assert ok(reg.call({"op": "tool.list", "server_id": slow["id"]}))["total"] == 3

    # a server's tools and versions go with it
    ok(reg.call({"op": "server.delete", "server_id": slow["id"]}))
    refused(reg.call({"op": "tool.get", "tool_id": documented["id"]}), "not_found")
    refused(reg.call({"op": "tool.list", "server_id": slow["id"]}), "not_found")
    refused(reg.call({"op": "tool.create", "server_id": slow["id"], "name": "x",
                      "python_code": CODE_HELLO}), "not_found")
    with sqlite3.connect(os.path.join(reg.data, "mcpbox.db")) as db:
        assert db.execute("SELECT count(*) FROM tool_versions WHERE tool_id = ?",
                          (documented["id"],)).fetchone()[0] == 0


@pytest.mark.parametrize("name", ["", "A", "Add", "1x", "_x", "a-b", "a b", "ä", "a" * 62])
def test_tool_name_rules(reg, name):
    server = make_server(reg)
    refused(reg.call({"op": "tool.create", "server_id": server["id"], "name": name,
                      "python_code": CODE_HELLO}), "bad_request", "name")


def test_tool_field_rules(reg):
    server = make_server(reg)
    sid = server["id"]
    make_tool(reg, sid, "a" * (64 - len("demo__")), CODE_HELLO)
    make_tool(reg, sid, "a__b", CODE_HELLO)       # "__" is refused in server names only

    def create(**fields):
        body = {"op": "tool.create", "server_id": sid, "name": "t", "python_code": CODE_HELLO}
        body.update(fields)
        return reg.call({k: v for k, v in body.items() if v is not ...})

    refused(create(server_id=...), "bad_request", "server_id")
    refused(create(server_id="x"), "bad_request", "server_id")
    refused(create(name=...), "bad_request", "name")
    refused(create(python_code=...), "bad_request", "python_code")
    refused(create(python_code=None), "bad_request", "python_code")
    refused(create(python_code=""), "bad_request", "python_code")
    refused(create(python_code=42), "bad_request", "python_code")
    refused(create(python_code=CODE_HELLO + "#\x00\n"), "bad_request", "python_code")
    refused(create(description="d" * 2001), "bad_request", "description")
    refused(create(description=["x"]), "bad_request", "description")
    refused(create(created_by="root"), "bad_request", "created_by")
    refused(create(change_source="rollback"), "bad_request", "change_source")
    refused(create(change_source=1), "bad_request", "change_source")
    refused(create(timeout_ms=999), "bad_request", "timeout_ms")
    refused(create(timeout_ms=300001), "bad_request", "timeout_ms")
    refused(create(timeout_ms=2 ** 64 - 1), "bad_request", "timeout_ms")
    refused(create(change_summary="s" * 2001), "bad_request", "change_summary")

    # code: at most 100 KB, and it must validate in the sandbox
    big = CODE_HELLO + "# padding\n" * 20000
    big = big[:102400 - 1] + "\n"
    assert len(big.encode()) == 102400
    ok(create(name="big", python_code=big))
    message = refused(create(name="big2", python_code=big + "#"), "bad_request", "python_code")
    assert "102400" in message
    message = refused(create(python_code="x = 1\n"), "bad_request", "python_code")
    assert "main" in message
    message = refused(create(python_code="async def main(:\n    pass\n"), "bad_request",
                      "python_code")
    assert "syntax" in message.lower() and "line" in message
    refused(create(python_code="async def main():\n    return ().__class__\n"),
            "bad_request", "python_code")
    # nothing above left a tool behind
    names = [t["name"] for t in ok(reg.call({"op": "tool.list", "server_id": sid}))["tools"]]
    assert names == ["a" * 58, "a__b", "big"]


def test_full_tool_names_fit_in_64_characters(reg):
    """{server}__{tool} is what MCP clients see, and Claude, Cursor and the
    OpenAI clients refuse names over 64: the registry refuses to make one,
    on create, on a rename and on a rollback, and says how much room is left."""
    server = make_server(reg, "s" * 61)
    make_tool(reg, server["id"], "t", CODE_HELLO)               # 61 + 2 + 1 = 64
    message = refused(reg.call({"op": "tool.create", "server_id": server["id"],
                                "name": "tt", "python_code": CODE_HELLO}), "bad_request", "name")
    assert "65 characters" in message and "64" in message, message
    sid = make_server(reg, "weather")["id"]
    fits = make_tool(reg, sid, "f" * 55, CODE_HELLO)            # 7 + 2 + 55 = 64
    message = refused(reg.call({"op": "tool.create", "server_id": sid, "name": "g" * 56,
                                "python_code": CODE_HELLO}), "bad_request", "name")
    assert "at most 55" in message, message
    # a rename may not make it longer either, and nothing changed
    message = refused(reg.call({"op": "tool.update", "tool_id": fits["id"], "name": "h" * 56}),
                      "bad_request", "name")
    assert "at most 55" in message, message
    got = ok(reg.call({"op": "tool.get", "tool_id": fits["id"]}))["tool"]
    assert got["name"] == "f" * 55 and got["current_version"] == 1
    names = [t["name"] for t in ok(reg.call({"op": "tool.list", "server_id": sid}))["tools"]]
    assert names == ["f" * 55]


def test_tool_update_fields_and_conflicts(reg):
    sid = make_server(reg)["id"]
    tool = make_tool(reg, sid, "add")
    other = make_tool(reg, sid, "other", CODE_HELLO)
    tid = tool["id"]

    def update(**fields):
        return reg.call({"op": "tool.update", "tool_id": tid, **fields})

    refused(update(name="other"), "conflict")
    refused(update(name="Bad"), "bad_request", "name")
    refused(update(enabled="yes"), "bad_request", "enabled")
    refused(update(enabled=1), "bad_request", "enabled")
    refused(update(timeout_ms=0), "bad_request", "timeout_ms")
    refused(update(timeout_ms=1.5), "bad_request", "timeout_ms")
    refused(update(python_code=""), "bad_request", "python_code")
    refused(update(python_code="def main():\n    return 1\n"), "bad_request", "python_code")
    refused(update(change_source="rollback", description="x"), "bad_request", "change_source")
    refused(update(description=None, name=3), "bad_request", "name")
    refused(reg.call({"op": "tool.update"}), "bad_request", "tool_id")
    refused(reg.call({"op": "tool.update", "tool_id": str(uuid.uuid4()), "name": "x"}),
            "not_found")
    # none of those changed anything
    assert ok(reg.call({"op": "tool.get", "tool_id": tid}))["tool"] == tool
    assert ok(reg.call({"op": "tool.versions", "tool_id": tid}))["total_versions"] == 1

    renamed = ok(update(name="sum", description="sums", enabled=False, timeout_ms=5000))
    assert renamed["changed"] is True
    t = renamed["tool"]
    assert (t["name"], t["description"], t["enabled"], t["timeout_ms"]) == \
        ("sum", "sums", False, 5000)
    assert t["code_hash"] == tool["code_hash"] and t["current_version"] == 2
    ok(reg.call({"op": "tool.update", "tool_id": other["id"], "name": "add"}))   # freed


# --- versions and rollback --------------------------------------------------------------

def test_every_real_change_is_a_version_and_a_no_op_is_not(reg):
    sid = make_server(reg)["id"]
    tool = make_tool(reg, sid, "add", CODE_ADD, change_source="llm")
    tid = tool["id"]

    def update(**fields):
        return ok(reg.call({"op": "tool.update", "tool_id": tid, **fields}))

    steps = [
        ({"description": "first"}, "Updated description", False),
        ({"name": "plus"}, "Updated name", False),
        ({"enabled": False}, "Updated enabled status", False),
        ({"timeout_ms": 2000}, "Updated timeout", False),
        ({"python_code": CODE_ECHO}, "Updated Python code", True),
        ({"enabled": True, "description": "second"}, "Updated description and enabled status",
         False),
    ]
    version, code = 1, CODE_ADD
    for fields, summary, code_changes in steps:
        reply = update(**fields)
        version += 1
        assert reply["changed"] is True and reply["tool"]["current_version"] == version, fields
        if code_changes:
            code = fields["python_code"]
        assert reply["tool"]["code_hash"] == sha256(code)
        newest = ok(reg.call({"op": "tool.versions", "tool_id": tid}))["versions"][0]
        assert newest["version"] == version and newest["change_summary"] == summary
        assert newest["change_source"] == "manual" and newest["code_hash"] == sha256(code)

    # the schema follows the code
    now = ok(reg.call({"op": "tool.get", "tool_id": tid}))["tool"]
    assert set(now["input_schema"]["properties"]) == {"text", "times"}
    assert now["input_schema"]["required"] == ["text"]

    # no-op updates: same values, or nothing at all
    for fields in ({}, {"description": "second"}, {"name": "plus", "enabled": True},
                   {"python_code": CODE_ECHO, "timeout_ms": 2000}, {"description": None}):
        reply = update(**fields)
        assert reply["changed"] is False and reply["tool"] == now, fields
    versions = ok(reg.call({"op": "tool.versions", "tool_id": tid}))
    assert versions["tool_id"] == tid and versions["tool_name"] == "plus"
    assert versions["current_version"] == 7 and versions["total_versions"] == 7
    assert [v["version"] for v in versions["versions"]] == [7, 6, 5, 4, 3, 2, 1]
    assert versions["versions"][-1]["change_summary"] == "Initial version"
    assert versions["versions"][-1]["change_source"] == "llm"

    # a caller's summary and source are kept
    update(description="third", change_summary="clarify", change_source="llm")
    newest = ok(reg.call({"op": "tool.versions", "tool_id": tid}))["versions"][0]
    assert (newest["change_summary"], newest["change_source"]) == ("clarify", "llm")

    # one version in full: the snapshot after that change
    v5 = ok(reg.call({"op": "tool.version", "tool_id": tid, "version": 5}))
    assert v5["tool_id"] == tid
    snap = v5["version"]
    assert snap["version"] == 5 and snap["python_code"] == CODE_ADD
    assert snap["code_hash"] == sha256(CODE_ADD) and snap["name"] == "plus"
    assert snap["enabled"] is False and snap["timeout_ms"] == 2000
    assert snap["description"] == "first" and snap["input_schema"]["required"] == ["a", "b"]
    assert snap["change_summary"] == "Updated timeout" and snap["change_source"] == "manual"
    refused(reg.call({"op": "tool.version", "tool_id": tid, "version": 99}), "not_found")
    refused(reg.call({"op": "tool.version", "tool_id": tid, "version": 0}), "bad_request",
            "version")
    refused(reg.call({"op": "tool.version", "tool_id": tid, "version": "1"}), "bad_request",
            "version")
    refused(reg.call({"op": "tool.version", "tool_id": tid}), "bad_request", "version")


def test_rollback_writes_a_new_version_with_the_old_code(reg):
    sid = make_server(reg)["id"]
    tool = make_tool(reg, sid, "add", CODE_ADD, description="v1")
    tid = tool["id"]
    ok(reg.call({"op": "tool.update", "tool_id": tid, "python_code": CODE_ECHO,
                 "description": "v2", "timeout_ms": 4000}))
    ok(reg.call({"op": "tool.update", "tool_id": tid, "name": "renamed"}))

    back = ok(reg.call({"op": "tool.rollback", "tool_id": tid, "version": 1}))
    t = back["tool"]
    assert back["restored_version"] == 1
    assert t["current_version"] == 4 and t["python_code"] == CODE_ADD
    assert t["code_hash"] == sha256(CODE_ADD) == tool["code_hash"]
    assert t["name"] == "add" and t["description"] == "v1" and t["timeout_ms"] == 30000
    assert t["input_schema"] == tool["input_schema"]
    assert ok(reg.call({"op": "tool.get", "tool_id": tid}))["tool"] == t
    versions = ok(reg.call({"op": "tool.versions", "tool_id": tid}))
    assert versions["total_versions"] == 4
    newest = versions["versions"][0]
    assert newest["version"] == 4 and newest["change_source"] == "rollback"
    assert newest["change_summary"] == "Rolled back to version 1"
    assert newest["code_hash"] == sha256(CODE_ADD)
    # the versions in between are kept
    assert ok(reg.call({"op": "tool.version", "tool_id": tid, "version": 2}))["version"][
        "python_code"] == CODE_ECHO

    # rolling back to the current state still records it
    again = ok(reg.call({"op": "tool.rollback", "tool_id": tid, "version": 4}))
    assert again["tool"]["current_version"] == 5

    refused(reg.call({"op": "tool.rollback", "tool_id": tid, "version": 42}), "not_found")
    refused(reg.call({"op": "tool.rollback", "tool_id": tid}), "bad_request", "version")
    refused(reg.call({"op": "tool.rollback", "tool_id": tid, "version": -1}), "bad_request",
            "version")
    refused(reg.call({"op": "tool.rollback", "tool_id": str(uuid.uuid4()), "version": 1}),
            "not_found")

    # a rollback whose old name another tool has taken meanwhile is a conflict
    ok(reg.call({"op": "tool.update", "tool_id": tid, "name": "moved"}))
    make_tool(reg, sid, "add", CODE_HELLO)
    refused(reg.call({"op": "tool.rollback", "tool_id": tid, "version": 1}), "conflict")
    assert ok(reg.call({"op": "tool.versions", "tool_id": tid}))["total_versions"] == 6


# --- the catalog and tools.changed ---------------------------------------------------

def test_catalog_holds_enabled_tools_of_running_servers(reg):
    start = catalog(reg)
    assert start["tools"] == [] and start["revision"] == 0
    s1 = make_server(reg, "alpha")
    assert catalog(reg)["revision"] == 0              # a new server alters nothing
    add = make_tool(reg, s1["id"], "add", CODE_ADD, description="adds")
    hello = make_tool(reg, s1["id"], "hello", CODE_HELLO)
    after_create = catalog(reg)
    assert after_create["tools"] == [] and after_create["revision"] == 2

    ok(reg.call({"op": "server.start", "server_id": s1["id"]}))
    running = catalog(reg)
    assert running["revision"] == 3
    assert [t["full_name"] for t in running["tools"]] == ["alpha__add", "alpha__hello"]
    entry = running["tools"][0]
    assert entry == {
        "tool_id": add["id"], "server_id": s1["id"], "server_name": "alpha", "name": "add",
        "full_name": "alpha__add", "description": "adds", "input_schema": add["input_schema"],
        "code_hash": sha256(CODE_ADD), "python_code": CODE_ADD, "timeout_ms": 30000,
        "title": "", "output_schema": None, "tool_type": "python_code", "source": None,
    }

    # start again: nothing changes, not even the revision
    ok(reg.call({"op": "server.start", "server_id": s1["id"]}))
    assert catalog(reg) == running

    ok(reg.call({"op": "tool.update", "tool_id": hello["id"], "enabled": False}))
    disabled = catalog(reg)
    assert disabled["revision"] == 4 and [t["name"] for t in disabled["tools"]] == ["add"]
    ok(reg.call({"op": "tool.update", "tool_id": hello["id"], "enabled": False}))   # no-op
    assert catalog(reg)["revision"] == 4
    ok(reg.call({"op": "tool.update", "tool_id": hello["id"], "enabled": True}))
    assert [t["name"] for t in catalog(reg)["tools"]] == ["add", "hello"]

    ok(reg.call({"op": "tool.update", "tool_id": add["id"], "python_code": CODE_ECHO}))
    changed = catalog(reg)
    assert changed["tools"][0]["code_hash"] == sha256(CODE_ECHO)
    assert changed["tools"][0]["python_code"] == CODE_ECHO

    s2 = make_server(reg, "beta")
    make_tool(reg, s2["id"], "zed", CODE_HELLO)
    ok(reg.call({"op": "server.start", "server_id": s2["id"]}))
    assert [t["full_name"] for t in catalog(reg)["tools"]] == \
        ["alpha__add", "alpha__hello", "beta__zed"]

    ok(reg.call({"op": "server.stop", "server_id": s1["id"]}))
    assert [t["full_name"] for t in catalog(reg)["tools"]] == ["beta__zed"]
    ok(reg.call({"op": "server.start", "server_id": s1["id"]}))
    ok(reg.call({"op": "tool.delete", "tool_id": hello["id"]}))
    assert [t["full_name"] for t in catalog(reg)["tools"]] == ["alpha__add", "beta__zed"]
    before = catalog(reg)["revision"]
    ok(reg.call({"op": "server.delete", "server_id": s2["id"]}))
    final = catalog(reg)
    assert [t["full_name"] for t in final["tools"]] == ["alpha__add"]
    assert final["revision"] == before + 1


def test_tools_changed_is_published_on_every_change(reg):
    events = Events(reg.data)
    time.sleep(0.5)                                    # the subscription reaches the broker
    sid = make_server(reg)["id"]
    events.none()                                      # a new server alters no catalog

    def expect(tool_id=None):
        event = events.next()
        assert event["server_id"] == sid, event
        assert event["revision"] == catalog(reg)["revision"], event
        if tool_id:
            assert event["tool_id"] == tool_id, event
        return event["revision"]

    tid = make_tool(reg, sid)["id"]
    revisions = [expect(tid)]
    ok(reg.call({"op": "tool.update", "tool_id": tid, "description": "x"}))
    revisions.append(expect(tid))
    ok(reg.call({"op": "tool.update", "tool_id": tid, "description": "x"}))
    events.none()                                      # nothing changed
    ok(reg.call({"op": "server.start", "server_id": sid}))
    revisions.append(expect())
    ok(reg.call({"op": "server.start", "server_id": sid}))
    events.none()
    ok(reg.call({"op": "tool.update", "tool_id": tid, "enabled": False}))
    revisions.append(expect(tid))
    ok(reg.call({"op": "tool.rollback", "tool_id": tid, "version": 1}))
    revisions.append(expect(tid))
    ok(reg.call({"op": "server.stop", "server_id": sid}))
    revisions.append(expect())
    ok(reg.call({"op": "tool.delete", "tool_id": tid}))
    revisions.append(expect(tid))
    refused(reg.call({"op": "tool.delete", "tool_id": tid}), "not_found")
    events.none()                                      # a refusal publishes nothing
    ok(reg.call({"op": "server.delete", "server_id": sid}))
    revisions.append(expect())
    assert revisions == sorted(set(revisions)) and len(revisions) == 8
    events.close()


# --- the sandbox as a dependency ---------------------------------------------------------

def test_without_an_executor_new_code_is_unavailable(reg):
    sid = make_server(reg)["id"]
    tid = make_tool(reg, sid)["id"]
    os.killpg(reg.executor.pid, signal.SIGKILL)
    reg.executor.wait(timeout=10)
    time.sleep(4 * HEARTBEAT_MS / 1000)               # the broker forgets it
    t0 = time.monotonic()
    refused(reg.call({"op": "tool.create", "server_id": sid, "name": "new",
                      "python_code": CODE_HELLO}), "unavailable")
    assert time.monotonic() - t0 < 3
    refused(reg.call({"op": "tool.update", "tool_id": tid, "python_code": CODE_HELLO}),
            "unavailable")
    # what needs no sandbox still works, and the registry is still registered
    assert ok(reg.call({"op": "tool.update", "tool_id": tid, "description": "d"}))["changed"]
    ok(reg.call({"op": "health"}))
    assert ok(reg.call({"op": "tool.versions", "tool_id": tid}))["total_versions"] == 2
    reg.start_executor()
    make_tool(reg, sid, "new", CODE_HELLO)


# --- restart safety --------------------------------------------------------------------

def test_kill_9_mid_sequence_loses_nothing_committed(reg):
    sid = make_server(reg)["id"]
    tid = make_tool(reg, sid, "add")["id"]
    ok(reg.call({"op": "server.start", "server_id": sid}))
    count = 300
    ids = {}
    for i in range(count):
        fields = {"description": f"d{i}"}
        if i % 10 == 5:                                # now and then new code, via the sandbox
            fields["python_code"] = CODE_ADD + f"# {i}\n"
        ids[reg.bus.send("registry", {"op": "tool.update", "tool_id": tid, **fields},
                         timeout_ms=30000)] = i
    # let some of them through, then kill -9 in the middle of the stream
    wait_for(lambda: reg.bus.collect(0.005) or len(reg.bus.early) >= 15, timeout=30,
             interval=0.0, what="some updates acknowledged")
    reg.kill_registry()
    assert len(reg.bus.early) < count, "the stream ended before the kill"

    # a new registry takes what is still queued; wait for every answer
    reg.start_registry()
    wait_for(lambda: reg.bus.collect(0.05) or len(reg.bus.early) == count, timeout=60,
             interval=0.0, what="every update answered")
    acknowledged = {}
    for rid, r in reg.bus.early.items():
        if r.get("ok"):
            assert r["changed"] is True
            acknowledged[ids[rid]] = r["tool"]["current_version"]
        else:
            assert r["error"]["code"] in ("worker_lost", "no_worker", "timeout"), r
    reg.bus.early.clear()
    assert len(acknowledged) >= count - 5

    tool = ok(reg.call({"op": "tool.get", "tool_id": tid}))["tool"]
    versions = ok(reg.call({"op": "tool.versions", "tool_id": tid}))
    # every acknowledged change is there, as the version it was acknowledged as
    for i, version in acknowledged.items():
        snap = ok(reg.call({"op": "tool.version", "tool_id": tid, "version": version}))
        assert snap["version"]["description"] == f"d{i}"
    # and the history has no hole and matches the row
    assert versions["total_versions"] == tool["current_version"] >= 1 + len(acknowledged)
    assert [v["version"] for v in versions["versions"]] == \
        list(range(tool["current_version"], 0, -1))
    newest = ok(reg.call({"op": "tool.version", "tool_id": tid,
                          "version": tool["current_version"]}))["version"]
    assert newest["description"] == tool["description"]
    assert newest["code_hash"] == tool["code_hash"] == sha256(tool["python_code"])
    # the catalog was rebuilt from the database at start
    cat = catalog(reg)
    assert [t["description"] for t in cat["tools"]] == [tool["description"]]
    assert cat["tools"][0]["code_hash"] == tool["code_hash"]
    assert cat["revision"] >= 2 + len(acknowledged)
    with sqlite3.connect(os.path.join(reg.data, "mcpbox.db")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_restart_keeps_everything(reg):
    sid = make_server(reg, "keep")["id"]
    tid = make_tool(reg, sid, "add")["id"]
    ok(reg.call({"op": "tool.update", "tool_id": tid, "python_code": CODE_ECHO}))
    ok(reg.call({"op": "server.start", "server_id": sid}))
    before = {
        "server": ok(reg.call({"op": "server.get", "server_id": sid})),
        "tool": ok(reg.call({"op": "tool.get", "tool_id": tid})),
        "versions": ok(reg.call({"op": "tool.versions", "tool_id": tid})),
        "catalog": catalog(reg),
    }
    reg.kill_registry()
    reg.start_registry()
    after = {
        "server": ok(reg.call({"op": "server.get", "server_id": sid})),
        "tool": ok(reg.call({"op": "tool.get", "tool_id": tid})),
        "versions": ok(reg.call({"op": "tool.versions", "tool_id": tid})),
        "catalog": catalog(reg),
    }
    assert after == before
    # and the revision keeps growing from where it was
    ok(reg.call({"op": "server.stop", "server_id": sid}))
    assert catalog(reg)["revision"] == before["catalog"]["revision"] + 1


# --- the envelope ------------------------------------------------------------------------

def test_unknown_op_and_malformed_bodies(reg):
    refused(reg.call({"op": "server.explode"}), "unknown_op")
    refused(reg.call({"op": "tools.list"}), "unknown_op")
    refused(reg.call({"nope": 1}), "bad_request")
    refused(reg.call({"op": 7}), "bad_request")
    refused(reg.bus.call_raw("registry", b"\xc1"), "bad_request")               # never used
    refused(reg.bus.call_raw("registry", msgpack.packb([1, 2])), "bad_request")  # not a map
    refused(reg.bus.call_raw("registry", b"\x82\xa2op\xa7catalog"), "bad_request")   # short
    # duplicate keys
    refused(reg.bus.call_raw("registry", b"\x82\xa2op\xa7catalog\xa2op\xa7catalog"),
            "bad_request")
    # still serving
    ok(reg.call({"op": "catalog"}))


# --- valgrind --------------------------------------------------------------------------

@pytest.mark.skipif(os.environ.get("MCPBOX_VALGRIND") != "1" or not shutil.which("valgrind"),
                    reason="set MCPBOX_VALGRIND=1 (needs valgrind)")
def test_registry_under_valgrind(procs, tmpdir_short):
    # slower heartbeats: valgrind slows the registry down ~20x
    c = Constellation(procs, tmpdir_short, env=proc_env(MCPBOX_HEARTBEAT_MS=1000))
    c.migrate()
    c.start_broker()
    c.start_executor()
    vlog = os.path.join(tmpdir_short, "valgrind.log")
    c.start_registry(prefix=["valgrind", "--error-exitcode=99", "--leak-check=full",
                             "--errors-for-leak-kinds=definite", "--track-fds=no",
                             f"--log-file={vlog}"], wait_s=60)
    sid = make_server(c, "vg")["id"]
    tid = make_tool(c, sid, "add")["id"]
    ok(c.call({"op": "tool.update", "tool_id": tid, "python_code": CODE_ECHO,
               "description": "d"}))
    ok(c.call({"op": "tool.update", "tool_id": tid}))
    ok(c.call({"op": "server.start", "server_id": sid}))
    catalog(c)
    ok(c.call({"op": "tool.rollback", "tool_id": tid, "version": 1}))
    ok(c.call({"op": "tool.versions", "tool_id": tid}))
    ok(c.call({"op": "tool.version", "tool_id": tid, "version": 2}))
    ok(c.call({"op": "server.list"}))
    ok(c.call({"op": "server.get", "server_id": sid}))
    ok(c.call({"op": "tool.list", "server_id": sid}))
    refused(c.call({"op": "tool.create", "server_id": sid, "name": "bad",
                    "python_code": "x = 1\n"}), "bad_request")
    refused(c.call({"op": "tool.update", "tool_id": tid, "name": "Bad"}), "bad_request")
    refused(c.call({"op": "nope"}), "unknown_op")
    refused(c.bus.call_raw("registry", b"\xc1"), "bad_request")
    refused(c.call({"op": "server.create", "name": "vg"}), "conflict")
    refused(c.call({"op": "tool.version", "tool_id": tid, "version": 9}), "not_found")
    refused(c.call({"op": "tool.rollback", "tool_id": tid, "version": 9}), "not_found")
    ok(c.call({"op": "tool.delete", "tool_id": tid}))
    ok(c.call({"op": "server.delete", "server_id": sid}))
    sid = make_server(c, "vg2")["id"]
    os.killpg(c.executor.pid, signal.SIGKILL)
    c.executor.wait(timeout=10)
    time.sleep(4)                                      # the broker forgets it
    refused(c.call({"op": "tool.create", "server_id": sid, "name": "t",
                    "python_code": CODE_HELLO}), "unavailable")
    c.registry.send_signal(signal.SIGTERM)
    status = c.registry.wait(timeout=60)
    with open(vlog) as f:
        report = f.read()
    assert status == 0, report
    assert "ERROR SUMMARY: 0 errors" in report, report
    assert "definitely lost: 0 bytes" in report or "no leaks are possible" in report, report
    c.bus.close()
