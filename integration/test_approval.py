"""The approval actor (service `approval`) over the real bus: the real
mcpbox-broker and mcpbox-approval processes, against the contract in
docs/BUS_OPS.md (section approval) and the state machines of docs/DESIGN.md
(section 11) and actors/approval/approval.h.

The registry here is a STAND-IN: the one of integration/standin.py (checked
against the real actor by test_standin_contract.py). It registers as service
"registry" and answers from data the test controls, so a test can change a
tool's code hash at will (set_code), make a tool vanish (remove), or take
the registry away altogether (stop). The frames it speaks are in
integration/standin.py.
"""
import os
import signal
import time
import uuid

import msgpack

from busclient import BusClient, BusError
import pytest
import zmq

from conftest import HEARTBEAT_MS, bin_path, wait_for

from python_modules import DEFAULT_MODULES, FORBIDDEN_MODULES  # common/python_modules.txt
from standin import StandInRegistry


# --- a bus client: integration/busclient.py -------------------------------------

def Bus(data_dir):
    return BusClient("ipc://" + os.path.join(data_dir, "run", "bus"), default_timeout_ms=5000)


# --- the registry stand-in: integration/standin.py -----------------------------------

def FakeRegistry(data_dir):
    """The one registry stand-in (standin.py), answering no health, as the
    test's registry always has: only the broker's routing is under test."""
    return StandInRegistry(data_dir, credit=8, answer_health=False)


# --- the system under test ---------------------------------------------------------

class System:
    def __init__(self, procs, data_dir):
        self.procs = procs
        self.dir = data_dir
        self.broker = procs.start([bin_path("mcpbox-broker"), "--data-dir", data_dir],
                                  name="broker")
        wait_for(lambda: os.path.exists(os.path.join(data_dir, "run", "bus")),
                 what="broker socket")
        self.bus = Bus(data_dir)
        self.registry = FakeRegistry(data_dir)
        self.registry.start()
        self.approval = None
        self.start_approval()
        # the stand-in is registered once the broker routes to it
        wait_for(lambda: self.bus.call("registry", {"op": "tool.get", "tool_id": "x"},
                                       timeout_ms=300).get("error", {}).get("code")
                 == "not_found", what="registry stand-in registered")

    def start_approval(self):
        # MCPBOX_APPROVAL_WRAPPER="valgrind --error-exitcode=99 --leak-check=full"
        # runs the actor under a checker; close() then requires a clean exit
        wrapper = os.environ.get("MCPBOX_APPROVAL_WRAPPER", "").split()
        self.approval = self.procs.start(
            wrapper + [bin_path("mcpbox-approval"), "--data-dir", self.dir], name="approval")
        wait_for(lambda: self.call("health", timeout_ms=300).get("ok"),
                 timeout=30 if wrapper else 10, what="approval answering")

    def call(self, op, timeout_ms=5000, **fields):
        return self.bus.call("approval", {"op": op, **fields}, timeout_ms)

    def ok(self, op, **fields):
        reply = self.call(op, **fields)
        assert reply.get("ok") is True, (op, fields, reply)
        return reply

    def fails(self, op, code, **fields):
        reply = self.call(op, **fields)
        assert reply.get("ok") is False, (op, fields, reply)
        assert reply["error"]["code"] == code, (op, fields, reply)
        return reply["error"]["message"]

    def status(self, tool_id):
        return self.ok("tool.status", tool_id=tool_id)

    def effective(self):
        return self.ok("effective")

    def close(self):
        """Stop the actor with SIGTERM: it must exit 0 (under a wrapper such
        as valgrind, that also means no error and no leak)."""
        self.registry.stop()
        self.bus.close()
        if self.approval.poll() is None:
            self.approval.send_signal(signal.SIGTERM)
            rc = self.approval.wait(timeout=30)
            self.approval.log_file.flush()
            with open(self.approval.log_file.name, errors="replace") as f:
                log = f.read()
            assert rc == 0, log[-4000:]


@pytest.fixture
def system(procs, tmpdir_short):
    s = System(procs, tmpdir_short)
    yield s
    s.close()


class Events:
    """SUB on the broker's event output, topic approval.changed."""

    def __init__(self, system):
        self.sock = zmq.Context.instance().socket(zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SUBSCRIBE, b"approval.")
        self.sock.connect("ipc://" + os.path.join(system.dir, "run", "ev-out"))
        # the subscription has reached the publisher once an event arrives
        def synced():
            system.ok("policy.set", key="mcp_rate_limit_rpm", value=300, changed_by="sync")
            return self.drain(0.3)
        wait_for(synced, timeout=10, what="event subscription")

    def drain(self, wait_s=0.3):
        got = []
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.sock.poll(50):
                topic, body = self.sock.recv_multipart()
                got.append((topic.decode(), msgpack.unpackb(body, raw=False)))
                deadline = time.monotonic() + 0.15    # a little more for stragglers
        return got

    def close(self):
        self.sock.close()


def tool_pairs(effective):
    return {(a["tool_id"], a["code_hash"]) for a in effective["approved"]}


# --- tool reviews -------------------------------------------------------------------

def test_health_names_the_tables(system):
    reply = system.ok("health")
    assert reply["service"] == "approval"
    assert {"tool_reviews", "module_requests", "network_requests", "settings"} <= set(reply["owns"])
    assert system.fails("no.such.op", "unknown_op")


def test_tool_review_state_machine(system):
    tool = system.registry.add_tool()
    tid = tool["id"]
    st = system.status(tid)
    assert st["approval_status"] == "draft"
    assert st["requested_at"] is None and st["code_hash"] == tool["code_hash"]

    # draft -> pending_review
    reply = system.ok("publish.request", tool_id=tid, notes="please", requested_by="llm")
    assert reply["status"] == "pending_review" and reply["name"] == tool["name"]
    assert reply["tool_id"] == tid
    # double publish refused
    assert "already pending" in system.fails("publish.request", "conflict", tool_id=tid)
    st = system.status(tid)
    assert st["approval_status"] == "pending_review"
    assert st["publish_notes"] == "please" and st["requested_by"] == "llm"
    assert st["requested_at"].endswith("Z")

    # reject needs a reason (missing, empty, blank)
    system.fails("review.reject", "bad_request", kind="tool", id=tid, reviewed_by="admin")
    system.fails("review.reject", "bad_request", kind="tool", id=tid, reviewed_by="admin", reason="")
    system.fails("review.reject", "bad_request", kind="tool", id=tid, reviewed_by="admin",
                 reason=" \n\t ")
    # approve needs reviewed_by
    system.fails("review.approve", "bad_request", kind="tool", id=tid)

    # pending -> approved; re-approve refused; publish of approved code refused
    assert system.ok("review.approve", kind="tool", id=tid, reviewed_by="admin")["status"] == "approved"
    assert "already approved" in system.fails("review.approve", "conflict", kind="tool", id=tid,
                                              reviewed_by="admin")
    assert "already approved" in system.fails("publish.request", "conflict", tool_id=tid)
    system.fails("review.reject", "conflict", kind="tool", id=tid, reviewed_by="admin", reason="no")
    st = system.status(tid)
    assert st["approval_status"] == "approved" and st["approved_by"] == "admin"
    assert (tid, tool["code_hash"]) in tool_pairs(system.effective())

    # approved -> (revoke) -> pending_review; revoke twice refused
    assert system.ok("review.revoke", kind="tool", id=tid, reviewed_by="admin")["status"] == "pending_review"
    system.fails("review.revoke", "conflict", kind="tool", id=tid, reviewed_by="admin")
    assert system.status(tid)["approval_status"] == "pending_review"
    assert (tid, tool["code_hash"]) not in tool_pairs(system.effective())

    # pending -> rejected, with the reason kept
    assert system.ok("review.reject", kind="tool", id=tid, reviewed_by="bob",
                     reason="uses too much CPU")["status"] == "rejected"
    st = system.status(tid)
    assert st["approval_status"] == "rejected"
    assert st["rejection_reason"] == "uses too much CPU" and st["rejected_by"] == "bob"
    assert "not pending" in system.fails("review.approve", "conflict", kind="tool", id=tid,
                                         reviewed_by="admin")
    system.fails("review.revoke", "conflict", kind="tool", id=tid, reviewed_by="admin")

    # re-submit after reject is allowed: rejected -> pending_review
    assert system.ok("publish.request", tool_id=tid, notes="fixed")["status"] == "pending_review"
    st = system.status(tid)
    assert st["approval_status"] == "pending_review" and st["publish_notes"] == "fixed"
    assert st["rejection_reason"] is None
    system.ok("review.approve", kind="tool", id=tid, reviewed_by="admin")
    assert system.status(tid)["approval_status"] == "approved"


def test_decisions_on_unknown_or_draft_tools(system):
    tool = system.registry.add_tool()
    # a draft is a conflict (it exists, it is not pending), an id that is
    # nowhere is not_found: approval asks the registry which it is
    assert "draft" in system.fails("review.approve", "conflict", kind="tool", id=tool["id"],
                                   reviewed_by="a")
    assert "draft" in system.fails("review.reject", "conflict", kind="tool", id=tool["id"],
                                   reviewed_by="a", reason="r")
    unknown = str(uuid.uuid4())
    assert "no tool" in system.fails("review.approve", "not_found", kind="tool", id=unknown,
                                     reviewed_by="a")
    system.fails("review.reject", "not_found", kind="tool", id=unknown, reviewed_by="a",
                 reason="r")
    bulk = system.ok("review.bulk", kind="tool", action="approve", reviewed_by="a",
                     ids=[unknown, tool["id"]])["results"]
    assert [r["error"]["code"] for r in bulk] == ["not_found", "conflict"], bulk
    # a review's id is not a tool's id: not_found, naming the id to use
    submitted = system.registry.add_tool()
    system.ok("publish.request", tool_id=submitted["id"])
    rows = system.ok("requests.list", kind="tool", status="pending_review")["requests"]
    review_id = next(r["id"] for r in rows if r["tool_id"] == submitted["id"])
    assert review_id != submitted["id"]
    message = system.fails("review.approve", "not_found", kind="tool", id=review_id,
                           reviewed_by="a")
    assert submitted["id"] in message and "tool_id" in message, message
    # publish of a tool the registry does not know
    system.fails("publish.request", "not_found", tool_id=str(uuid.uuid4()))
    system.fails("tool.status", "not_found", tool_id=str(uuid.uuid4()))
    system.fails("module.request", "not_found", tool_id=str(uuid.uuid4()), module_name="xml",
                 justification="parse")
    system.fails("network.request", "not_found", tool_id=str(uuid.uuid4()), host="a.example",
                 justification="api")
    system.fails("review.approve", "not_found", kind="module", id=str(uuid.uuid4()), reviewed_by="a")
    system.fails("review.revoke", "not_found", kind="network", id=str(uuid.uuid4()), reviewed_by="a")


def test_approval_is_bound_to_the_code_hash(system):
    reg = system.registry
    tool = reg.add_tool(code="async def main():\n    return 'a'\n")
    tid, hash_a = tool["id"], tool["code_hash"]
    system.ok("publish.request", tool_id=tid)
    system.ok("review.approve", kind="tool", id=tid, reviewed_by="admin")
    assert system.status(tid)["approval_status"] == "approved"

    # an edit: a new hash, draft again, and only the old pair is approved
    hash_b = reg.set_code(tid, "async def main():\n    return 'b'\n")
    st = system.status(tid)
    assert st["approval_status"] == "draft" and st["code_hash"] == hash_b
    pairs = tool_pairs(system.effective())
    assert (tid, hash_a) in pairs and (tid, hash_b) not in pairs

    # the new code goes through review on its own
    assert system.ok("publish.request", tool_id=tid)["status"] == "pending_review"
    # a decision pinned to other code is refused
    assert "not the code_hash" in system.fails("review.approve", "conflict", kind="tool", id=tid,
                                               reviewed_by="admin", code_hash=hash_a)
    system.fails("review.approve", "bad_request", kind="tool", id=tid, reviewed_by="admin",
                 code_hash="XYZ")

    # back to the old code (a rollback): approved again, with no new review
    reg.set_code(tid, "async def main():\n    return 'a'\n")
    assert system.status(tid)["approval_status"] == "approved"
    # and to the pending code again: still pending
    reg.set_code(tid, "async def main():\n    return 'b'\n")
    assert system.status(tid)["approval_status"] == "pending_review"

    # newer code supersedes the pending review: one pending review per tool
    hash_c = reg.set_code(tid, "async def main():\n    return 'c'\n")
    system.ok("publish.request", tool_id=tid)
    pending = system.ok("pending.list")["pending_tools"]
    mine = [p for p in pending if p["tool_id"] == tid]
    assert len(mine) == 1 and mine[0]["code_hash"] == hash_c
    reg.set_code(tid, "async def main():\n    return 'b'\n")
    assert system.status(tid)["approval_status"] == "draft"
    reg.set_code(tid, "async def main():\n    return 'c'\n")
    system.ok("review.approve", kind="tool", id=tid, reviewed_by="admin", code_hash=hash_c)
    pairs = tool_pairs(system.effective())
    assert (tid, hash_a) in pairs and (tid, hash_c) in pairs

    # revoking the tool revokes every version: no rollback brings it back
    assert system.ok("review.revoke", kind="tool", id=tid, reviewed_by="admin")["status"] == "pending_review"
    pairs = tool_pairs(system.effective())
    assert not any(t == tid for t, _ in pairs)
    assert system.status(tid)["approval_status"] == "pending_review"      # hash c
    reg.set_code(tid, "async def main():\n    return 'a'\n")
    st = system.status(tid)
    assert st["approval_status"] == "rejected" and st["rejection_reason"] == "approval revoked"


def test_tool_auto_approve_mode(system):
    system.ok("policy.set", key="tool_approval_mode", value="auto_approve", changed_by="admin")
    tool = system.registry.add_tool()
    reply = system.ok("publish.request", tool_id=tool["id"])
    assert reply["status"] == "approved" and "auto_approve" in reply["message"]
    st = system.status(tool["id"])
    assert st["approval_status"] == "approved" and st["approved_by"] == "auto_approve"
    assert (tool["id"], tool["code_hash"]) in tool_pairs(system.effective())
    system.fails("publish.request", "conflict", tool_id=tool["id"])
    # back to require_approval: a new publish waits again
    system.ok("policy.set", key="tool_approval_mode", value="require_approval", changed_by="admin")
    system.registry.set_code(tool["id"], "async def main():\n    return 2\n")
    assert system.ok("publish.request", tool_id=tool["id"])["status"] == "pending_review"


# --- module requests ------------------------------------------------------------------

def test_module_requests(system):
    reg = system.registry
    t1 = reg.add_tool()
    sid = t1["server_id"]
    t2 = reg.add_tool(server_id=sid)
    other = reg.add_tool()                          # another server

    req = system.ok("module.request", tool_id=t1["id"], module_name=" xml.etree ",
                    justification="parse feeds")["request"]
    assert req["status"] == "pending" and req["module_name"] == "xml.etree"
    assert req["tool_id"] == t1["id"] and req["server_id"] == sid
    assert req["requested_by"] == "llm"
    assert "already pending" in system.fails("module.request", "conflict", tool_id=t1["id"],
                                             module_name="xml.etree", justification="again")
    # refusals: defaults, forbidden (any spelling), bad names, missing justification
    assert "by default" in system.fails("module.request", "conflict", tool_id=t1["id"],
                                        module_name="json", justification="x")
    for name in ("os", "os.path", "subprocess", "_thread", "importlib.util", "http.client"):
        system.fails("module.request", "forbidden", tool_id=t1["id"], module_name=name,
                     justification="x")
    for name in ("", "os;rm", "a..b", "1x", "x" * 129, "a b"):
        system.fails("module.request", "bad_request", tool_id=t1["id"], module_name=name,
                     justification="x")
    system.fails("module.request", "bad_request", tool_id=t1["id"], module_name="yaml")
    system.fails("module.request", "bad_request", tool_id=t1["id"], module_name="yaml",
                 justification="   ")
    system.fails("module.request", "bad_request", tool_id=t1["id"], module_name=7,
                 justification="x")

    # pending is not allowed yet
    eff = system.effective()
    assert sid not in eff["servers"]
    assert eff["defaults"]["allowed_modules"] == DEFAULT_MODULES
    assert eff["defaults"]["network_policy"] == "allowlist"

    # approve: the server gets it, and every tool of the server is covered
    assert system.ok("review.approve", kind="module", id=req["id"],
                     reviewed_by="admin")["status"] == "approved"
    system.fails("review.approve", "conflict", kind="module", id=req["id"], reviewed_by="admin")
    system.fails("review.reject", "conflict", kind="module", id=req["id"], reviewed_by="admin",
                 reason="late")
    eff = system.effective()
    assert eff["servers"][sid]["allowed_modules"] == DEFAULT_MODULES + ["xml.etree"]
    assert eff["servers"][sid]["allowed_hosts"] == []
    assert "already allowed" in system.fails("module.request", "conflict", tool_id=t2["id"],
                                             module_name="xml.etree", justification="x")
    # another server is not covered
    other_req = system.ok("module.request", tool_id=other["id"], module_name="xml.etree",
                          justification="x")["request"]
    assert other_req["status"] == "pending"

    # reject: reason required; the same tool may not ask again; another tool may
    yaml = system.ok("module.request", tool_id=t1["id"], module_name="yaml",
                     justification="config")["request"]
    system.fails("review.reject", "bad_request", kind="module", id=yaml["id"], reviewed_by="admin")
    assert system.ok("review.reject", kind="module", id=yaml["id"], reviewed_by="admin",
                     reason="not installed")["status"] == "rejected"
    assert "rejected" in system.fails("module.request", "conflict", tool_id=t1["id"],
                                      module_name="yaml", justification="please")
    assert system.ok("module.request", tool_id=t2["id"], module_name="yaml",
                     justification="other tool")["request"]["status"] == "pending"
    system.fails("review.approve", "conflict", kind="module", id=yaml["id"], reviewed_by="admin")

    # revoke: approved -> pending, and the server loses it
    assert system.ok("review.revoke", kind="module", id=req["id"],
                     reviewed_by="admin")["status"] == "pending"
    system.fails("review.revoke", "conflict", kind="module", id=req["id"], reviewed_by="admin")
    assert sid not in system.effective()["servers"]
    system.ok("review.approve", kind="module", id=req["id"], reviewed_by="admin")

    # tool.status lists the tool's own requests
    st = system.status(t1["id"])
    mods = {r["module_name"]: r["status"] for r in st["module_requests"]}
    assert mods == {"xml.etree": "approved", "yaml": "rejected"}
    assert st["network_access_requests"] == []


def test_admin_added_modules_and_auto_approve(system):
    reg = system.registry
    tool = reg.add_tool()
    sid = tool["server_id"]
    added = system.ok("admin.add_module", server_id=sid, module_name="numpy",
                      added_by="alice")["request"]
    assert added["status"] == "approved" and added["requested_by"] == "admin"
    assert added["reviewed_by"] == "alice" and added["tool_id"] is None
    assert added["justification"] == "added by the admin"
    assert "numpy" in system.effective()["servers"][sid]["allowed_modules"]
    system.fails("admin.add_module", "conflict", server_id=sid, module_name="numpy", added_by="alice")
    system.fails("admin.add_module", "conflict", server_id=sid, module_name="json", added_by="alice")
    system.fails("module.request", "conflict", tool_id=tool["id"], module_name="numpy",
                 justification="x")
    # forbidden is forbidden for admins too, in every mode
    for name in (*FORBIDDEN_MODULES[:6], "os.path", "asyncio"):
        system.fails("admin.add_module", "forbidden", server_id=sid, module_name=name,
                     added_by="alice")
    system.fails("admin.add_module", "bad_request", server_id=sid, module_name="numpy")
    system.fails("admin.add_module", "bad_request", server_id="not-a-uuid", module_name="numpy",
                 added_by="alice")

    system.ok("policy.set", key="module_approval_mode", value="auto_approve", changed_by="admin")
    req = system.ok("module.request", tool_id=tool["id"], module_name="pandas",
                    justification="frames")["request"]
    assert req["status"] == "approved" and req["reviewed_by"] == "auto_approve"
    assert "pandas" in system.effective()["servers"][sid]["allowed_modules"]
    system.fails("module.request", "forbidden", tool_id=tool["id"], module_name="subprocess",
                 justification="x")
    # admin additions are part of the one audit list
    listed = system.ok("requests.list", kind="module", server_id=sid)["requests"]
    assert {r["module_name"]: r["requested_by"] for r in listed} == {"numpy": "admin", "pandas": "llm"}


# --- network requests -------------------------------------------------------------------

def test_network_requests_hosts_and_ports(system):
    reg = system.registry
    t1 = reg.add_tool()
    sid = t1["server_id"]
    t2 = reg.add_tool(server_id=sid)

    req = system.ok("network.request", tool_id=t1["id"], host="  API.Example.COM. ", port=443,
                    justification="weather api")["request"]
    assert req["host"] == "api.example.com" and req["port"] == 443 and req["status"] == "pending"
    assert "already pending" in system.fails("network.request", "conflict", tool_id=t1["id"],
                                             host="api.example.com", port=443, justification="x")
    system.ok("review.approve", kind="network", id=req["id"], reviewed_by="admin")
    assert system.effective()["servers"][sid]["allowed_hosts"] == ["api.example.com:443"]

    # same host and port from another tool of the server: covered
    assert "already allowed" in system.fails("network.request", "conflict", tool_id=t2["id"],
                                             host="api.example.com", port=443, justification="x")
    # another port, or any port, is not covered by a port-specific approval
    p8443 = system.ok("network.request", tool_id=t2["id"], host="api.example.com", port=8443,
                      justification="x")["request"]
    assert p8443["status"] == "pending"
    anyport = system.ok("network.request", tool_id=t2["id"], host="api.example.com",
                        justification="x")["request"]
    assert anyport["port"] is None

    # a port-less approval covers every port
    added = system.ok("admin.add_host", server_id=sid, host="files.example.net",
                      added_by="alice")["request"]
    assert added["status"] == "approved" and added["port"] is None and added["requested_by"] == "admin"
    for port in (None, 80, 443, 65535):
        fields = {"port": port} if port else {}
        system.fails("network.request", "conflict", tool_id=t1["id"], host="FILES.example.net",
                     justification="x", **fields)
    system.fails("admin.add_host", "conflict", server_id=sid, host="files.example.net", port=8080,
                 added_by="alice")

    # IPv6 literals and private addresses (a NAS) may be approved
    system.ok("admin.add_host", server_id=sid, host="[2001:DB8::1]", port=8443, added_by="alice")
    system.ok("admin.add_host", server_id=sid, host="192.168.1.20", added_by="alice")
    hosts = system.effective()["servers"][sid]["allowed_hosts"]
    assert hosts == sorted(hosts)
    assert set(hosts) == {"api.example.com:443", "files.example.net", "[2001:db8::1]:8443",
                          "192.168.1.20"}

    # ports and hosts that are never valid
    for port in (0, 65536, -1, "443", 4.5):
        system.fails("network.request", "bad_request", tool_id=t1["id"], host="x.example.com",
                     port=port, justification="x")
    for host in ("", "2130706433", "127.1", "0x7f.0.0.1", "a..b", "example.com:443",
                 "http://example.com", "under_score.example", "x" * 300):
        system.fails("network.request", "bad_request", tool_id=t1["id"], host=host,
                     justification="x")
    for host in ("127.0.0.1", "localhost", "169.254.169.254", "::1", "[::ffff:127.0.0.1]",
                 "metadata.google.internal", "0.0.0.0", "fe80::1"):
        system.fails("network.request", "forbidden", tool_id=t1["id"], host=host, justification="x")
        system.fails("admin.add_host", "forbidden", server_id=sid, host=host, added_by="alice")

    # rejected for this tool: no asking again for that port, or any port after a
    # port-less rejection; another port after a port-specific one is a new question
    evil = system.ok("network.request", tool_id=t1["id"], host="evil.example", justification="x")["request"]
    system.ok("review.reject", kind="network", id=evil["id"], reviewed_by="admin", reason="no")
    for port in (None, 443):
        fields = {"port": port} if port else {}
        assert "rejected" in system.fails("network.request", "conflict", tool_id=t1["id"],
                                          host="evil.example", justification="x", **fields)
    sharp = system.ok("network.request", tool_id=t1["id"], host="sharp.example", port=443,
                      justification="x")["request"]
    system.ok("review.reject", kind="network", id=sharp["id"], reviewed_by="admin", reason="no")
    system.fails("network.request", "conflict", tool_id=t1["id"], host="sharp.example", port=443,
                 justification="x")
    system.ok("network.request", tool_id=t1["id"], host="sharp.example", port=8443, justification="x")

    # revoke takes a host away
    system.ok("review.revoke", kind="network", id=req["id"], reviewed_by="admin")
    assert "api.example.com:443" not in system.effective()["servers"][sid]["allowed_hosts"]

    st = system.status(t1["id"])
    assert {(r["host"], r["port"], r["status"]) for r in st["network_access_requests"]} == {
        ("api.example.com", 443, "pending"), ("evil.example", None, "rejected"),
        ("sharp.example", 443, "rejected"), ("sharp.example", 8443, "pending")}


def test_allow_all_public(system):
    tool = system.registry.add_tool()
    sid = tool["server_id"]
    system.ok("admin.add_host", server_id=sid, host="nas.home.arpa", added_by="alice")
    eff = system.effective()
    assert eff["servers"][sid]["network_policy"] == "allowlist"
    system.ok("policy.set", key="network_access_policy", value="allow_all_public", changed_by="admin")
    eff = system.effective()
    assert eff["defaults"]["network_policy"] == "allow_all_public"
    assert all(s["network_policy"] == "allow_all_public" for s in eff["servers"].values())
    assert eff["servers"][sid]["allowed_hosts"] == ["nas.home.arpa"]
    assert eff["settings"]["network_access_policy"] == "allow_all_public"
    # a per-host request is still a human decision (it may reach private addresses)
    req = system.ok("network.request", tool_id=tool["id"], host="api.example.com",
                    justification="x")["request"]
    assert req["status"] == "pending"
    system.ok("policy.set", key="network_access_policy", value="require_approval", changed_by="admin")
    assert system.effective()["servers"][sid]["network_policy"] == "allowlist"


# --- bulk, lists ------------------------------------------------------------------------

def test_bulk_decisions(system):
    reg = system.registry
    tool = reg.add_tool()
    ids = [system.ok("module.request", tool_id=tool["id"], module_name=f"mod{i}",
                     justification="x")["request"]["id"] for i in range(3)]
    unknown = str(uuid.uuid4())
    events = Events(system)
    reply = system.ok("review.bulk", kind="module", action="approve", reviewed_by="admin",
                      ids=ids + [unknown, "nope", ids[0]])
    res = reply["results"]
    assert [r["ok"] for r in res] == [True, True, True, False, False, False]
    assert all(r["status"] == "approved" for r in res[:3])
    assert res[3]["id"] == unknown and res[3]["error"]["code"] == "not_found"
    assert res[4]["error"]["code"] == "bad_request"
    assert res[5]["error"]["code"] == "conflict"              # already approved just now
    assert reply["succeeded"] == 3 and reply["failed"] == 3
    got = events.drain()
    assert len(got) == 1, got                                 # one revision for the lot
    allowed = system.effective()["servers"][tool["server_id"]]["allowed_modules"]
    assert {"mod0", "mod1", "mod2"} <= set(allowed)

    # bounds and reasons
    system.fails("review.bulk", "bad_request", kind="module", action="approve", reviewed_by="a",
                 ids=[str(uuid.uuid4()) for _ in range(101)])
    system.fails("review.bulk", "bad_request", kind="module", action="reject", reviewed_by="a",
                 ids=ids)
    system.fails("review.bulk", "bad_request", kind="module", action="revoke", reviewed_by="a",
                 ids=ids)
    system.fails("review.bulk", "bad_request", kind="module", action="approve", reviewed_by="a",
                 ids="x")
    hundred = system.ok("review.bulk", kind="network", action="approve", reviewed_by="a",
                        ids=[str(uuid.uuid4()) for _ in range(100)])
    assert hundred["failed"] == 100 and len(hundred["results"]) == 100
    assert events.drain(0.3) == []                            # nothing changed, no event

    # tools in bulk, with a reason
    tools = [reg.add_tool() for _ in range(2)]
    for t in tools:
        system.ok("publish.request", tool_id=t["id"])
    reply = system.ok("review.bulk", kind="tool", action="reject", reviewed_by="admin",
                      reason="style", ids=[t["id"] for t in tools])
    assert [r["status"] for r in reply["results"]] == ["rejected", "rejected"]
    assert all(system.status(t["id"])["rejection_reason"] == "style" for t in tools)
    events.close()


def test_pending_and_request_lists(system):
    reg = system.registry
    t = reg.add_tool()
    system.ok("publish.request", tool_id=t["id"], notes="n")
    m = system.ok("module.request", tool_id=t["id"], module_name="lxml", justification="x")["request"]
    system.ok("network.request", tool_id=t["id"], host="a.example", port=443, justification="x")
    system.ok("network.request", tool_id=t["id"], host="b.example", justification="x")
    pending = system.ok("pending.list")
    assert pending["summary"] == {"tools": 1, "modules": 1, "network": 2, "total": 4}
    assert pending["pending_tools"][0]["tool_id"] == t["id"]
    assert pending["pending_tools"][0]["name"] == t["name"]
    assert pending["pending_tools"][0]["publish_notes"] == "n"
    assert pending["pending_module_requests"][0]["id"] == m["id"]

    system.ok("review.approve", kind="module", id=m["id"], reviewed_by="admin")
    assert system.ok("pending.list")["summary"]["total"] == 3
    approved = system.ok("requests.list", kind="module", status="approved")["requests"]
    assert [r["id"] for r in approved] == [m["id"]]
    assert system.ok("requests.list", kind="network", status="pending", tool_id=t["id"])["total"] == 2
    assert system.ok("requests.list", kind="tool", status="pending_review")["total"] == 1
    assert system.ok("requests.list", kind="network", limit=1)["total"] == 1
    system.fails("requests.list", "bad_request", kind="network", status="pending_review")
    system.fails("requests.list", "bad_request", kind="tool", status="pending")
    system.fails("requests.list", "bad_request", kind="bogus")
    system.fails("requests.list", "bad_request", kind="module", limit=0)
    system.fails("requests.list", "bad_request", kind="module", limit=1001)
    system.fails("requests.list", "bad_request", kind="module", server_id="x")


# --- the policy -----------------------------------------------------------------------------

def test_policy_settings_and_profiles(system):
    reply = system.ok("policy.get")
    assert reply["settings"] == {
        "remote_tool_editing": "disabled", "tool_approval_mode": "require_approval",
        "network_access_policy": "require_approval", "module_approval_mode": "require_approval",
        "redact_secrets_in_output": "enabled", "log_retention_days": 30, "mcp_rate_limit_rpm": 300}
    assert reply["profile"] == "strict"

    bad = [("remote_tool_editing", "yes"), ("remote_tool_editing", True),
           ("tool_approval_mode", "AUTO_APPROVE"), ("network_access_policy", "allow_all"),
           ("module_approval_mode", 1), ("redact_secrets_in_output", None),
           ("log_retention_days", 0), ("log_retention_days", 3651), ("log_retention_days", "30"),
           ("mcp_rate_limit_rpm", 9), ("mcp_rate_limit_rpm", 10001), ("mcp_rate_limit_rpm", 1.5),
           ("no_such_setting", "x")]
    for key, value in bad:
        system.fails("policy.set", "bad_request", key=key, value=value, changed_by="admin")
    system.fails("policy.set", "bad_request", key="log_retention_days", changed_by="admin")
    system.fails("policy.set", "bad_request", key="log_retention_days", value=7)
    assert system.ok("policy.get")["settings"]["log_retention_days"] == 30

    reply = system.ok("policy.set", key="log_retention_days", value=3650, changed_by="admin")
    assert reply["settings"]["log_retention_days"] == 3650 and reply["profile"] == "strict"
    system.ok("policy.set", key="mcp_rate_limit_rpm", value=10, changed_by="admin")

    reply = system.ok("policy.profile", name="balanced", changed_by="admin")
    assert reply["profile"] == "balanced"
    assert reply["settings"]["module_approval_mode"] == "auto_approve"
    assert reply["settings"]["tool_approval_mode"] == "require_approval"
    assert reply["settings"]["network_access_policy"] == "require_approval"
    assert reply["settings"]["log_retention_days"] == 3650     # left alone by profiles

    reply = system.ok("policy.profile", name="permissive", changed_by="admin")
    s = reply["settings"]
    assert reply["profile"] == "permissive"
    assert (s["remote_tool_editing"], s["tool_approval_mode"], s["network_access_policy"],
            s["module_approval_mode"], s["redact_secrets_in_output"]) == (
        "enabled", "auto_approve", "allow_all_public", "auto_approve", "enabled")

    reply = system.ok("policy.set", key="redact_secrets_in_output", value="disabled",
                      changed_by="admin")
    assert reply["profile"] == "custom"
    system.fails("policy.profile", "bad_request", name="lax", changed_by="admin")
    system.fails("policy.profile", "bad_request", name="strict")
    reply = system.ok("policy.profile", name="strict", changed_by="admin")
    assert reply["profile"] == "strict" and reply["settings"]["redact_secrets_in_output"] == "enabled"
    assert system.effective()["settings"] == reply["settings"]


# --- events, the registry, crashes -------------------------------------------------------------

def test_every_change_is_announced(system):
    events = Events(system)
    reg = system.registry
    tool = reg.add_tool()
    rev0 = system.effective()["revision"]

    system.ok("publish.request", tool_id=tool["id"])
    (topic, body), = events.drain()
    assert topic == "approval.changed"
    assert body == {"revision": rev0 + 1, "tool_id": tool["id"], "server_id": tool["server_id"]}

    system.ok("review.approve", kind="tool", id=tool["id"], reviewed_by="admin")
    (_, body), = events.drain()
    assert body == {"revision": rev0 + 2, "tool_id": tool["id"], "server_id": tool["server_id"]}
    assert system.effective()["revision"] == rev0 + 2

    req = system.ok("module.request", tool_id=tool["id"], module_name="xml",
                    justification="x")["request"]
    (_, body), = events.drain()
    assert body["revision"] == rev0 + 3 and body["server_id"] == tool["server_id"]
    system.ok("review.reject", kind="module", id=req["id"], reviewed_by="a", reason="r")
    (_, body), = events.drain()
    assert body == {"revision": rev0 + 4, "server_id": tool["server_id"]}

    system.ok("policy.set", key="log_retention_days", value=9, changed_by="admin")
    (_, body), = events.drain()
    assert body == {"revision": rev0 + 5}

    # refusals change nothing and announce nothing
    system.fails("publish.request", "conflict", tool_id=tool["id"])
    system.fails("module.request", "forbidden", tool_id=tool["id"], module_name="os", justification="x")
    system.fails("policy.set", "bad_request", key="log_retention_days", value=0, changed_by="a")
    assert events.drain() == []
    assert system.effective()["revision"] == rev0 + 5
    events.close()


def test_registry_down_is_unavailable_and_approval_stays_up(system):
    tool = system.registry.add_tool()
    system.ok("publish.request", tool_id=tool["id"])
    system.registry.stop()
    started = time.monotonic()
    msg = system.fails("tool.status", "unavailable", tool_id=tool["id"])
    assert "registry" in msg
    assert time.monotonic() - started < 3
    system.fails("publish.request", "unavailable", tool_id=tool["id"])
    system.fails("module.request", "unavailable", tool_id=tool["id"], module_name="xml",
                 justification="x")
    system.fails("network.request", "unavailable", tool_id=tool["id"], host="a.example",
                 justification="x")
    # decisions and the view need no registry; the worker was never dropped
    time.sleep(4 * HEARTBEAT_MS / 1000)
    system.ok("review.approve", kind="tool", id=tool["id"], reviewed_by="admin")
    assert (tool["id"], tool["code_hash"]) in tool_pairs(system.effective())
    assert system.approval.poll() is None

    # the registry comes back
    back = FakeRegistry(system.dir)
    back.servers, back.tools = system.registry.servers, system.registry.tools
    system.registry = back
    back.start()
    wait_for(lambda: system.call("tool.status", tool_id=tool["id"]).get("ok"),
             what="registry back")
    assert system.status(tool["id"])["approval_status"] == "approved"


def snapshot(system):
    eff = system.effective()
    return {
        "effective": eff,
        "pending": system.ok("pending.list"),
        "policy": system.ok("policy.get"),
        "modules": system.ok("requests.list", kind="module"),
        "network": system.ok("requests.list", kind="network"),
        "tools": system.ok("requests.list", kind="tool"),
    }


def test_kill_9_loses_nothing_committed(system):
    reg = system.registry
    a, b = reg.add_tool(), reg.add_tool()
    system.ok("publish.request", tool_id=a["id"])
    system.ok("review.approve", kind="tool", id=a["id"], reviewed_by="admin")
    system.ok("publish.request", tool_id=b["id"])
    system.ok("admin.add_host", server_id=a["server_id"], host="api.example.com", port=443,
              added_by="alice")
    ids = [system.ok("module.request", tool_id=b["id"], module_name=f"m{i}",
                     justification="x")["request"]["id"] for i in range(20)]
    system.ok("policy.profile", name="balanced", changed_by="admin")
    before = snapshot(system)

    system.approval.send_signal(signal.SIGKILL)
    system.approval.wait(timeout=10)
    system.start_approval()
    after = snapshot(system)
    assert after == before
    assert system.status(a["id"])["approval_status"] == "approved"
    assert system.status(b["id"])["approval_status"] == "pending_review"

    # mid-flow: a bulk decision in flight when the actor dies is all or nothing
    rid = system.bus.send("approval", {"op": "review.bulk", "kind": "module", "action": "approve",
                                       "reviewed_by": "admin", "ids": ids})
    time.sleep(0.002)
    system.approval.send_signal(signal.SIGKILL)
    system.approval.wait(timeout=10)
    try:
        system.bus.receive(rid, 3)
    except BusError:
        pass                                 # no reply, or worker_lost: either is fine
    system.start_approval()
    statuses = {r["id"]: r["status"] for r in system.ok("requests.list", kind="module")["requests"]}
    assert len({statuses[i] for i in ids}) == 1, statuses
    revision = system.effective()["revision"]
    assert revision in (before["effective"]["revision"], before["effective"]["revision"] + 1)
    # and the revision keeps growing across restarts
    system.ok("policy.set", key="log_retention_days", value=31, changed_by="admin")
    assert system.effective()["revision"] == revision + 1


# --- request fields -------------------------------------------------------------------------

def test_fields_are_checked(system):
    tool = system.registry.add_tool()
    tid = tool["id"]
    system.fails("publish.request", "bad_request")
    system.fails("publish.request", "bad_request", tool_id="not-a-uuid")
    system.fails("publish.request", "bad_request", tool_id=12)
    system.fails("publish.request", "bad_request", tool_id=tid, notes="x" * 2001)
    system.fails("publish.request", "bad_request", tool_id=tid, requested_by="x" * 65)
    system.fails("publish.request", "bad_request", tool_id=tid, requested_by="a\x01b")
    system.fails("publish.request", "bad_request", tool_id=tid, notes=b"\xff\xfe")
    msg = system.fails("review.approve", "bad_request", kind="thing", id=tid, reviewed_by="a")
    assert "kind" in msg
    msg = system.fails("review.approve", "bad_request", kind="tool", id="x", reviewed_by="a")
    assert "id" in msg
    system.fails("review.approve", "bad_request", kind="tool", reviewed_by="a")
    system.fails("admin.add_host", "bad_request", server_id=tool["server_id"], host="a.example")
    system.fails("network.request", "bad_request", tool_id=tid, host="a.example",
                 justification="x" * 2001)
    # an upper-case UUID is the same id
    assert system.ok("publish.request", tool_id=tid.upper())["tool_id"] == tid
