"""The stand-in registry (integration/standin.py) against the REAL registry.

test_approval.py, test_admin_cli.py and the /mcp tests (mcp_fakes.py) play
the registry with the stand-in. This test sends the same registry ops, on
the same data, to the stand-in and to the real mcpbox-registry (each on its
own real broker, with a real mcpbox-executor answering the code validation,
after `mcpbox migrate`) and checks that the answers have the same shape:
the same keys, the same value types (recursively), the same error codes for
unknown ids, unknown ops and bad requests. When the real registry changes
an answer, this test fails instead of the stand-in drifting silently.
"""
import os
import subprocess

import pytest

from busclient import BusClient
from conftest import bin_path, proc_env, wait_for
from mcp_fakes import StandInBus
from standin import StandInRegistry

CODE_ECHO = 'async def main(text: str, times: int = 1):\n    """Repeats text."""\n    return text * times\n'
CODE_ECHO_2 = 'async def main(text: str):\n    return text\n'
NO_ID = "00000000-0000-4000-8000-000000000000"


def shape(value):
    """A value's shape: dicts by key, lists by their items' shapes, scalars by type."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        shapes = []
        for item in value:
            s = shape(item)
            if s not in shapes:
                shapes.append(s)
        return shapes
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def start_bus(procs, data_dir, name):
    procs.start([bin_path("mcpbox-broker"), "--data-dir", data_dir], name=f"broker-{name}")
    wait_for(lambda: os.path.exists(os.path.join(data_dir, "run", "bus")),
             what=f"{name} broker socket")
    bus = BusClient("ipc://" + os.path.join(data_dir, "run", "bus"), default_timeout_ms=5000)
    procs.start([bin_path("mcpbox-executor"), "--data-dir", data_dir], name=f"executor-{name}")
    wait_served(bus, "sandbox")
    return bus


def wait_served(bus, service):
    def served():
        reply = bus.call(service, {"op": "health"}, timeout_ms=500)
        return reply.get("ok") and reply.get("service") == service
    wait_for(served, timeout=15, interval=0.05, what=f"service {service}")


@pytest.fixture
def pair(procs, tmpdir_short):
    real_dir = os.path.join(tmpdir_short, "r")
    stand_dir = os.path.join(tmpdir_short, "s")
    for d in (real_dir, stand_dir):
        os.mkdir(d)
        r = subprocess.run([bin_path("mcpbox"), "migrate", "--data-dir", d],
                           capture_output=True, text=True, env=proc_env(), timeout=30)
        assert r.returncode == 0, r.stderr
    real = start_bus(procs, real_dir, "real")
    procs.start([bin_path("mcpbox-registry"), "--data-dir", real_dir], name="registry")
    wait_served(real, "registry")
    stand = start_bus(procs, stand_dir, "standin")
    events = StandInBus(stand_dir)
    registry = StandInRegistry(stand_dir, events)
    registry.start()
    wait_served(stand, "registry")
    yield real, stand
    registry.stop()
    events.close()
    real.close()
    stand.close()


class Both:
    """Sends each op to both registries and compares the answers' shapes."""

    def __init__(self, real, stand):
        self.real, self.stand = real, stand
        self.checked = []

    def same(self, body_real, body_stand=None):
        body_stand = body_real if body_stand is None else body_stand
        a = self.real.call("registry", body_real, timeout_ms=15000)
        b = self.stand.call("registry", body_stand, timeout_ms=15000)
        op = body_real.get("op")
        assert a.get("ok") == b.get("ok"), (op, a, b)
        if a.get("ok") is False:
            assert a["error"]["code"] == b["error"]["code"], (op, a, b)
            assert shape(a["error"]) == shape(b["error"]), (op, a, b)
        else:
            assert shape(a) == shape(b), (op, shape(a), shape(b))
        self.checked.append(op)
        return a, b


def test_standin_answers_like_the_real_registry(pair):
    both = Both(*pair)
    # a server, a tool, a second version: the same data on both sides
    r, s = both.same({"op": "server.create", "name": "weather", "description": "forecasts"})
    sid_r, sid_s = r["server"]["id"], s["server"]["id"]
    assert r["server"]["status"] == s["server"]["status"]
    both.same({"op": "server.start", "server_id": sid_r}, {"op": "server.start", "server_id": sid_s})
    r, s = both.same({"op": "tool.create", "server_id": sid_r, "name": "echo",
                      "python_code": CODE_ECHO},
                     {"op": "tool.create", "server_id": sid_s, "name": "echo",
                      "python_code": CODE_ECHO})
    tid_r, tid_s = r["tool"]["id"], s["tool"]["id"]
    assert r["tool"]["code_hash"] == s["tool"]["code_hash"]
    assert r["tool"]["input_schema"] == s["tool"]["input_schema"]

    def on(op, **fields):
        real = {"op": op, **fields}
        stand = {"op": op, **fields}
        for key, (a, b) in (("server_id", (sid_r, sid_s)), ("tool_id", (tid_r, tid_s))):
            if fields.get(key) == "ID":
                real[key], stand[key] = a, b
        return both.same(real, stand)

    on("server.get", server_id="ID")
    on("server.list")
    on("server.list", page=1, page_size=10)
    on("tool.get", tool_id="ID")
    on("tool.list", server_id="ID")
    r, s = on("catalog")
    assert [t["full_name"] for t in r["tools"]] == [t["full_name"] for t in s["tools"]]
    on("tool.update", tool_id="ID", python_code=CODE_ECHO_2)
    r, s = on("tool.versions", tool_id="ID")
    assert [v["version"] for v in r["versions"]] == [v["version"] for v in s["versions"]]
    on("tool.version", tool_id="ID", version=1)
    on("tool.rollback", tool_id="ID", version=1)
    on("server.stop", server_id="ID")
    r, s = on("catalog")
    assert r["tools"] == s["tools"] == []

    # unknown ids, unknown ops, bad requests: the same error codes
    on("server.get", server_id=NO_ID)
    on("tool.get", tool_id=NO_ID)
    on("tool.list", server_id=NO_ID)
    on("tool.versions", tool_id=NO_ID)
    on("tool.version", tool_id="ID", version=99)
    on("tool.create", server_id=NO_ID, name="x", python_code=CODE_ECHO_2)
    on("server.create", name="weather")
    on("server.create", name="Bad__Name")
    on("no.such.op")

    on("tool.delete", tool_id="ID")
    on("server.delete", server_id="ID")
    on("server.get", server_id="ID")
    assert len(both.checked) >= 25
