"""The admin CLI (`mcpbox approvals|policy|servers|tools`) against the real
mcpbox-broker, with the registry and the approval service played by
STAND-INS.

StandInRegistry (integration/standin.py, checked against the real actor by
test_standin_contract.py) and StandInApproval below are NOT the actors in
actors/registry and actors/approval. They are small Python workers that
register as services "registry" and "approval" on the real broker, answer
the ops of docs/BUS_OPS.md that the CLI uses from data the test controls,
and record every request they receive, so that a test can check exactly
what the CLI sent (op, kind, id, reviewed_by, reason, changed_by, ...) as
well as what it printed and how it exited.
MCPBOX_CLI_WRAPPER="valgrind --error-exitcode=99 --leak-check=full
--errors-for-leak-kinds=definite" runs every CLI invocation under a checker.

The frames they speak are in integration/standin.py.
"""
import hashlib
import json
import os
import pwd
import re
import socket
import subprocess
import time
import uuid

import pytest

from busclient import BusClient
from conftest import bin_path, proc_env, wait_for
from standin import StandInRegistry, StandInWorker

REVIEWER = "admin@cli:" + pwd.getpwuid(os.geteuid()).pw_name
WRAPPER = os.environ.get("MCPBOX_CLI_WRAPPER", "").split()
CLI_TIMEOUT_S = 120 if WRAPPER else 40


def sha(code):
    return hashlib.sha256(code.encode()).hexdigest()


def iso_ago(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - seconds))


def uid():
    return str(uuid.uuid4())


def error(code, message):
    return {"ok": False, "error": {"code": code, "message": message}}


# --- the stand-ins: integration/standin.py ------------------------------------------

class StandIn(StandInWorker):
    """A stand-in worker (standin.py) for this file's approval stand-in."""


POLICY = {"remote_tool_editing": "disabled", "tool_approval_mode": "require_approval",
          "network_access_policy": "require_approval", "module_approval_mode": "require_approval",
          "redact_secrets_in_output": "enabled", "log_retention_days": 30,
          "mcp_rate_limit_rpm": 300}


class StandInApproval(StandIn):
    """STAND-IN for the approval actor: lists, reviews, tool.status,
    effective, policy. Review answers come from self.review_answers
    (id -> reply), "approved" style success otherwise."""

    service = "approval"

    def __init__(self, data_dir):
        super().__init__(data_dir)
        self.pending_tools = []
        self.pending_modules = []
        self.pending_network = []
        self.lists = {}            # (kind, status) -> rows for requests.list
        self.review_answers = {}
        self.status = {}           # tool_id -> tool.status reply
        self.approved = []         # effective.approved
        self.settings = dict(POLICY)

    def op_pending_list(self, request):
        t, m, n = self.pending_tools, self.pending_modules, self.pending_network
        return {"ok": True, "pending_tools": t, "pending_module_requests": m,
                "pending_network_requests": n,
                "summary": {"tools": len(t), "modules": len(m), "network": len(n),
                            "total": len(t) + len(m) + len(n)}}

    def op_requests_list(self, request):
        rows = self.lists.get((request["kind"], request.get("status")), [])
        return {"ok": True, "kind": request["kind"], "requests": rows, "total": len(rows)}

    def review(self, request, status):
        answer = self.review_answers.get(request.get("id"))
        if answer is not None:
            return answer
        return {"ok": True, "kind": request["kind"], "id": request["id"], "status": status}

    def op_review_approve(self, request):
        return self.review(request, "approved")

    def op_review_reject(self, request):
        return self.review(request, "rejected")

    def op_review_revoke(self, request):
        return self.review(request, "pending_review" if request["kind"] == "tool" else "pending")

    def op_tool_status(self, request):
        status = self.status.get(request.get("tool_id"))
        if status is None:
            return error("not_found", "no tool with this id")
        return dict(status, ok=True)

    def op_effective(self, request):
        return {"ok": True, "revision": 7, "approved": self.approved, "servers": {},
                "settings": self.settings}

    def op_policy_get(self, request):
        return {"ok": True, "settings": self.settings, "profile": "balanced"}

    def op_policy_set(self, request):
        if request["key"] not in self.settings:
            return error("bad_request", "key: unknown setting")
        self.settings[request["key"]] = request["value"]
        return {"ok": True, "settings": self.settings}

    def op_policy_profile(self, request):
        if request["name"] not in ("strict", "balanced", "permissive"):
            return error("bad_request", "name: must be strict, balanced or permissive")
        self.settings["remote_tool_editing"] = "disabled"
        return {"ok": True, "settings": self.settings}


# --- the system: real broker, stand-ins, the CLI ------------------------------------------

def health(data_dir, service):
    with BusClient("ipc://" + os.path.join(data_dir, "run", "bus")) as bus:
        return bus.call(service, {"op": "health"}, timeout_ms=300, wait_s=2).get("ok") is True


class System:
    def __init__(self, procs, data_dir, registry=True, approval=True):
        self.dir = data_dir
        self.broker = procs.start([bin_path("mcpbox-broker"), "--data-dir", data_dir],
                                  name="broker")
        wait_for(lambda: os.path.exists(os.path.join(data_dir, "run", "bus")),
                 what="broker socket")
        self.registry = StandInRegistry(data_dir)
        self.approval = StandInApproval(data_dir)
        self.standins = []
        for standin, wanted in ((self.registry, registry), (self.approval, approval)):
            if wanted:
                standin.start()
                self.standins.append(standin)
                wait_for(lambda: health(data_dir, standin.service), timeout=10,
                         what=f"{standin.service} stand-in registered")

    def cli(self, *args, env=None):
        return run_cli(self.dir, *args, env=env)

    def close(self):
        for standin in self.standins:
            standin.stop()


def run_cli(data_dir, *args, env=None):
    argv = WRAPPER + [bin_path("mcpbox"), *args, "--data-dir", data_dir]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
                            env=env or proc_env())
    if WRAPPER:
        assert result.returncode != 99, result.stderr[-4000:]
    return result


@pytest.fixture
def system(procs, tmpdir_short):
    s = System(procs, tmpdir_short)
    yield s
    s.close()


def pending_fixture(system):
    """Two servers, a pending tool, a pending module and a pending network
    request (whose tool the CLI must look up by id)."""
    reg, appr = system.registry, system.approval
    weather = reg.server(reg.add_server("weather", description="forecasts", ago_s=7200))
    files = reg.server(reg.add_server("files", ago_s=7200))
    fetch = reg.add_tool(weather["id"], "get_forecast", codes=["async def main():\n    return 1\n"])
    reader = reg.add_tool(files["id"], "read_nas", codes=["async def main():\n    return 2\n"])
    appr.pending_tools = [{
        "id": uid(), "tool_id": fetch["id"], "server_id": weather["id"], "name": "get_forecast",
        "code_hash": fetch["code_hash"], "status": "pending_review",
        "publish_notes": "Fetches the forecast \x1b[31mRED\x1b[0m for a city",
        "requested_by": "llm", "requested_at": iso_ago(3 * 3600)}]
    appr.pending_modules = [{
        "id": uid(), "tool_id": fetch["id"], "server_id": weather["id"], "module_name": "xml.etree",
        "justification": "parse the XML feed " + "of the weather service " * 10,
        "requested_by": "llm", "status": "pending", "created_at": iso_ago(120)}]
    appr.pending_network = [{
        "id": uid(), "tool_id": reader["id"], "server_id": files["id"], "host": "nas.local",
        "port": 8443, "justification": "the NAS", "requested_by": "llm", "status": "pending",
        "created_at": iso_ago(30)}]
    return weather, files, fetch, reader


# --- not running, usage -----------------------------------------------------------------

def test_not_running_without_broker(tmpdir_short):
    for args in (["approvals", "list"], ["policy", "show"], ["servers", "list"],
                 ["tools", "show", uid()], ["approvals", "approve", "tool", uid()]):
        r = run_cli(tmpdir_short, *args)
        assert r.returncode == 1, (args, r)
        assert f"MCPbox is not running for {tmpdir_short}" in r.stderr, (args, r.stderr)
    r = run_cli(tmpdir_short, "approvals", "list", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["ok"] is False and out["error"]["code"] == "not_running"


def test_not_running_with_a_stale_socket(tmpdir_short):
    """A socket file left behind by a dead broker: said at once, not after a deadline."""
    run = os.path.join(tmpdir_short, "run")
    os.mkdir(run, 0o700)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(run, "bus"))
    s.close()
    started = time.monotonic()
    r = run_cli(tmpdir_short, "servers", "list")
    assert r.returncode == 1 and "MCPbox is not running" in r.stderr, r
    if not WRAPPER:
        assert time.monotonic() - started < 3


def test_usage_errors_exit_2(tmpdir_short):
    d = tmpdir_short
    cases = [
        ["approvals"],
        ["approvals", "frobnicate"],
        ["approvals", "approve", "tool"],
        ["approvals", "approve", "widget", uid()],
        ["approvals", "approve", "tool", "not-a-uuid"],
        ["approvals", "reject", "tool", uid()],                     # no --reason
        ["approvals", "reject", "tool", uid(), "--reason", "   "],  # blank reason
        ["approvals", "list", "--kind", "widget"],
        ["approvals", "list", "--status", "maybe"],
        ["approvals", "list", "extra"],
        ["approvals", "approve", "tool", uid(), "extra"],
        ["policy", "set", "log_retention_days"],
        ["policy", "profile"],
        ["policy", "frobnicate"],
        ["servers", "frobnicate"],
        ["tools", "show"],
        ["tools", "show", "nope"],
        ["status", "extra"],            # commands without positionals still refuse them
        ["migrate", "extra"],
    ]
    for args in cases:
        r = run_cli(d, *args)
        assert r.returncode == 2, (args, r)
        assert r.stderr.strip(), args


def test_reject_without_reason_sends_nothing(system):
    r = system.cli("approvals", "reject", "tool", uid())
    assert r.returncode == 2
    assert "--reason" in r.stderr
    assert system.approval.ops() == []


# --- approvals list ----------------------------------------------------------------------

def test_list_pending_table(system):
    weather, files, fetch, reader = pending_fixture(system)
    appr = system.approval
    r = system.cli("approvals", "list")
    assert r.returncode == 0, r
    assert appr.ops() == ["pending.list"]
    assert appr.requests[0] == {"op": "pending.list"}
    # names come from the registry: all server pages, and tool.get for the
    # request whose tool is not named in the list
    assert "server.list" in system.registry.ops()
    assert [q["tool_id"] for q in system.registry.sent("tool.get")] == [reader["id"]]
    out = r.stdout
    assert "Pending: 1 tool, 1 module request, 1 network request" in out
    lines = out.splitlines()
    # the first column is the id the approve command takes (a tool's id for tools)
    header = next(l for l in lines if l.startswith("APPROVE ID"))
    for column in ("KIND", "TOOL", "SERVER", "RESOURCE", "REQUESTED BY", "AGE", "NOTES"):
        assert column in header
    tool_line = next(l for l in lines if l.startswith(fetch["id"]))
    assert "get_forecast" in tool_line and "weather" in tool_line and "3h" in tool_line
    assert "code " + fetch["code_hash"][:12] in tool_line
    module_line = next(l for l in lines if l.startswith(appr.pending_modules[0]["id"]))
    assert "xml.etree" in module_line and "get_forecast" in module_line and "2m" in module_line
    assert "…" in module_line                          # the long justification is cut
    assert "of the weather service " * 4 not in module_line
    network_line = next(l for l in lines if l.startswith(appr.pending_network[0]["id"]))
    assert "nas.local:8443" in network_line and "read_nas" in network_line
    assert "files" in network_line and re.search(r" 3\ds ", network_line)
    # columns are aligned: KIND starts at the same offset on every row
    offset = header.index("KIND")
    for line in (tool_line, module_line, network_line):
        assert line[offset - 2:offset] == "  " and line[offset] != " "
    # an escape sequence in LLM-written notes never reaches the terminal
    assert "\x1b" not in out
    assert "?[31mRED" in out


def test_list_pending_json(system):
    pending_fixture(system)
    r = system.cli("approvals", "list", "--json")
    assert r.returncode == 0, r
    out = json.loads(r.stdout)
    expected = system.approval.op_pending_list({})
    del expected["ok"]
    # each row says which id approve takes: the tool's for a tool review
    # (not the review's own "id"), the request's for modules and network
    [tool_row] = out["pending_tools"]
    assert tool_row["approve_id"] == tool_row["tool_id"] != tool_row["id"]
    for key in ("pending_module_requests", "pending_network_requests"):
        assert [r["approve_id"] for r in out[key]] == [r["id"] for r in expected[key]]
    for key in ("pending_tools", "pending_module_requests", "pending_network_requests"):
        for row in out[key]:
            del row["approve_id"]
    assert out == expected
    # --json needs no names: nothing asked of the registry
    assert system.registry.ops() == []


def test_list_empty(system):
    r = system.cli("approvals", "list")
    assert r.returncode == 0, r
    assert "Pending: 0 tools, 0 module requests, 0 network requests" in r.stdout
    assert "ID" not in r.stdout


def test_list_by_status_and_kind(system):
    appr = system.approval
    server = system.registry.server(system.registry.add_server("weather"))
    tool = system.registry.add_tool(server["id"], "get_forecast",
                                    codes=["async def main():\n    pass\n"])
    appr.lists[("tool", "approved")] = [{
        "id": uid(), "tool_id": tool["id"], "server_id": server["id"], "name": "get_forecast",
        "code_hash": tool["code_hash"], "status": "approved", "publish_notes": "",
        "requested_by": "llm", "requested_at": iso_ago(90000), "approved_by": "admin@cli:ann"}]
    appr.lists[("network", "approved")] = [{
        "id": uid(), "tool_id": tool["id"], "server_id": server["id"], "host": "api.example.com",
        "port": None, "justification": "the API", "requested_by": "llm", "status": "approved",
        "reviewed_by": "admin@cli:bob", "created_at": iso_ago(100)}]

    r = system.cli("approvals", "list", "--status", "approved")
    assert r.returncode == 0, r
    sent = appr.sent("requests.list")
    assert sorted((q["kind"], q["status"]) for q in sent) == [
        ("module", "approved"), ("network", "approved"), ("tool", "approved")]
    assert all(set(q) == {"op", "kind", "status"} for q in sent)
    assert "STATUS" in r.stdout and "REVIEWED BY" in r.stdout
    assert "admin@cli:ann" in r.stdout and "admin@cli:bob" in r.stdout
    assert "api.example.com" in r.stdout and "1d" in r.stdout

    appr.clear()
    r = system.cli("approvals", "list", "--kind", "tool")
    assert r.returncode == 0, r
    # pending tools are "pending_review" on the wire
    assert appr.requests == [{"op": "requests.list", "kind": "tool", "status": "pending_review"}]

    appr.clear()
    r = system.cli("approvals", "list", "--kind", "network", "--status", "approved", "--json")
    assert r.returncode == 0, r
    assert appr.requests == [{"op": "requests.list", "kind": "network", "status": "approved"}]
    out = json.loads(r.stdout)
    assert out["status"] == "approved" and out["total"] == 1
    assert out["requests"][0]["host"] == "api.example.com"
    assert out["requests"][0]["kind"] == "network"
    assert out["requests"][0]["approve_id"] == out["requests"][0]["id"]


def test_list_names_fall_back_to_ids_without_registry(procs, tmpdir_short):
    s = System(procs, tmpdir_short, registry=False)
    try:
        s.approval.pending_modules = [{
            "id": uid(), "tool_id": "7d9e0b58-1111-4222-8333-444455556666",
            "server_id": "0a1b2c3d-1111-4222-8333-444455556666", "module_name": "lxml",
            "justification": "x", "requested_by": "llm", "status": "pending",
            "created_at": iso_ago(5)}]
        r = s.cli("approvals", "list")
        assert r.returncode == 0, r
        assert "lxml" in r.stdout and "7d9e0b58" in r.stdout and "0a1b2c3d" in r.stdout
    finally:
        s.close()


# --- approve, reject, revoke ------------------------------------------------------------

def test_approve_tool(system):
    tool_id = uid()
    r = system.cli("approvals", "approve", "tool", tool_id)
    assert r.returncode == 0, r
    assert system.approval.requests == [{"op": "review.approve", "kind": "tool", "id": tool_id,
                                          "reviewed_by": REVIEWER}]
    assert f"Approved tool {tool_id}" in r.stdout and "approved" in r.stdout
    assert REVIEWER in r.stdout
    # a reason given to approve/revoke travels too (the service may keep it)
    system.approval.clear()
    r = system.cli("approvals", "revoke", "tool", tool_id, "--reason", "changed my mind")
    assert r.returncode == 0, r
    assert system.approval.requests == [{"op": "review.revoke", "kind": "tool", "id": tool_id,
                                          "reviewed_by": REVIEWER, "reason": "changed my mind"}]


def test_reject_module_with_reason(system):
    request_id = uid()
    r = system.cli("approvals", "reject", "module", request_id, "--reason",
                   "lxml is too big", "--json")
    assert r.returncode == 0, r
    assert system.approval.requests == [{"op": "review.reject", "kind": "module",
                                          "id": request_id, "reason": "lxml is too big",
                                          "reviewed_by": REVIEWER}]
    assert json.loads(r.stdout) == {"kind": "module", "id": request_id, "status": "rejected"}


def test_revoke_network(system):
    request_id = uid()
    r = system.cli("approvals", "revoke", "network", request_id)
    assert r.returncode == 0, r
    assert system.approval.requests == [{"op": "review.revoke", "kind": "network",
                                          "id": request_id, "reviewed_by": REVIEWER}]
    assert "Revoked network" in r.stdout and "pending" in r.stdout


def test_conflict_and_not_found_exit_1(system):
    busy, gone = uid(), uid()
    system.approval.review_answers[busy] = error("conflict", f"tool {busy} is not pending review")
    system.approval.review_answers[gone] = error("not_found", "no such request")
    r = system.cli("approvals", "approve", "tool", busy)
    assert r.returncode == 1, r
    assert f"cannot approve tool {busy}" in r.stderr
    assert "is not pending review (conflict)" in r.stderr
    assert r.stdout == ""
    r = system.cli("approvals", "approve", "tool", busy, "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["ok"] is False and out["error"]["code"] == "conflict"
    r = system.cli("approvals", "revoke", "module", gone)
    assert r.returncode == 1
    assert "no such request (not_found)" in r.stderr


def test_approval_service_down(procs, tmpdir_short):
    """Broker up, nobody serving `approval`: the broker answers no_worker at
    the CLI's deadline."""
    s = System(procs, tmpdir_short, approval=False)
    try:
        r = s.cli("approvals", "list")
        assert r.returncode == 1, r
        assert "approval service not available (no_worker)" in r.stderr
    finally:
        s.close()


# --- policy ---------------------------------------------------------------------------

def test_policy_show(system):
    r = system.cli("policy", "show")
    assert r.returncode == 0, r
    assert system.approval.requests == [{"op": "policy.get"}]
    assert "Profile: balanced" in r.stdout
    for key, value in POLICY.items():
        line = next(l for l in r.stdout.splitlines() if l.strip().startswith(key))
        assert line.split() == [key, str(value)]
    r = system.cli("policy", "show", "--json")
    assert json.loads(r.stdout) == {"settings": POLICY, "profile": "balanced"}


def test_policy_set_and_profile(system):
    appr = system.approval
    r = system.cli("policy", "set", "mcp_rate_limit_rpm", "600")
    assert r.returncode == 0, r
    r = system.cli("policy", "set", "remote_tool_editing", "enabled")
    assert r.returncode == 0, r
    assert appr.sent("policy.set") == [
        {"op": "policy.set", "key": "mcp_rate_limit_rpm", "value": 600, "changed_by": REVIEWER},
        {"op": "policy.set", "key": "remote_tool_editing", "value": "enabled",
         "changed_by": REVIEWER}]
    assert "remote_tool_editing" in r.stdout and "enabled" in r.stdout
    r = system.cli("policy", "profile", "strict", "--json")
    assert r.returncode == 0, r
    assert appr.sent("policy.profile") == [{"op": "policy.profile", "name": "strict",
                                            "changed_by": REVIEWER}]
    assert json.loads(r.stdout)["settings"]["remote_tool_editing"] == "disabled"
    r = system.cli("policy", "set", "no_such_key", "1")
    assert r.returncode == 1
    assert "unknown setting (bad_request)" in r.stderr


# --- servers ------------------------------------------------------------------------------

def test_servers_list_every_page(system):
    reg = system.registry
    for i in range(230):
        sid = reg.add_server(f"srv_{i:03d}", description=f"server number {i}", ago_s=7200)
        for j in range(i % 5):
            reg.add_tool_unchecked(sid, f"t{j}", "async def main():\n    pass\n")
    r = system.cli("servers", "list")
    assert r.returncode == 0, r
    assert reg.requests == [{"op": "server.list", "page": p, "page_size": 100} for p in (1, 2, 3)]
    assert "Servers: 230" in r.stdout
    for i in (0, 99, 100, 229):
        assert f"srv_{i:03d}" in r.stdout
    line = next(l for l in r.stdout.splitlines() if "srv_007" in l)
    assert line.split()[:5] == [list(reg.servers)[7], "srv_007", "running", "2", "2h"]
    reg.clear()
    r = system.cli("servers", "list", "--json")
    out = json.loads(r.stdout)
    assert out["total"] == 230 and [s["name"] for s in out["servers"]] == [
        s["name"] for s in reg.servers.values()]


# --- tools show ---------------------------------------------------------------------------

V1 = "async def main(city: str):\n    return {'city': city}\n"
V2 = "async def main(city: str):\n    return {'city': city, 'v': 2}\n"
V3 = ("async def main(city: str):\n"
      "    import os\n"
      "    \x1b]0;pwned\x07return {'city': city, 'env': dict(os.environ)}  # \u202e gnirts\n")


def tools_fixture(system, codes, approved_versions):
    server = system.registry.server(system.registry.add_server("weather"))
    tool = system.registry.add_tool(server["id"], "get_forecast", codes=codes)
    other = system.registry.add_tool(server["id"], "other", codes=[V2])
    system.approval.status[tool["id"]] = {
        "tool_id": tool["id"], "name": "get_forecast", "server_id": server["id"],
        "code_hash": tool["code_hash"], "approval_status": "pending_review",
        "requested_at": iso_ago(60), "requested_by": "llm", "approved_at": None,
        "approved_by": None, "rejected_at": None, "rejected_by": None, "rejection_reason": None,
        "publish_notes": "now reads the environment",
        "module_requests": [{"id": uid(), "tool_id": tool["id"], "module_name": "xml.etree",
                             "justification": "XML", "requested_by": "llm", "status": "approved",
                             "created_at": iso_ago(4000)}],
        "network_access_requests": []}
    # the other tool's approval of V2 must not count for this one
    system.approval.approved = [{"tool_id": other["id"], "code_hash": sha(V2)}] + [
        {"tool_id": tool["id"], "code_hash": sha(codes[v - 1])} for v in approved_versions]
    return tool


def test_tools_show_diff_against_last_approved(system, tmpdir_short):
    tool = tools_fixture(system, [V1, V2, V3], approved_versions=[1])
    tmp = os.path.join(tmpdir_short, "tmp")
    os.mkdir(tmp)
    r = system.cli("tools", "show", tool["id"], env=proc_env(TMPDIR=tmp))
    assert r.returncode == 0, r
    assert sorted(system.approval.ops()) == ["effective", "tool.status"]
    assert {"op": "tool.status", "tool_id": tool["id"]} in system.approval.requests
    assert sorted(system.registry.ops()) == ["tool.get", "tool.version", "tool.versions"]
    assert system.registry.sent("tool.version") == [
        {"op": "tool.version", "tool_id": tool["id"], "version": 1}]
    out = r.stdout
    assert "weather__get_forecast" in out and "pending_review" in out
    assert "now reads the environment" in out and "xml.etree" in out
    assert "approved v1 -> current v3" in out
    diff = out[out.index("--- approved v1"):]
    lines = diff.splitlines()
    assert lines[0] == "--- approved v1" and lines[1] == "+++ current v3"
    assert lines[2].startswith("@@ ")
    assert "-    return {'city': city}" in lines
    assert "+    import os" in lines
    # the terminal never sees the escape sequence or the bidi override
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "+    ?]0;pwned?return" in out
    # the private directory is gone
    assert os.listdir(tmp) == []

    r = system.cli("tools", "show", tool["id"], "--json")
    assert r.returncode == 0, r
    data = json.loads(r.stdout)
    assert data["approved_version"] == 1 and data["code_is_approved"] is False
    assert data["approved_code_hash"] == sha(V1)
    assert data["tool"]["id"] == tool["id"] and data["approval"]["approval_status"] == "pending_review"
    assert data["diff"].startswith("--- approved v1\n+++ current v3\n@@ ")
    assert "+    import os\n" in data["diff"]


def test_tools_show_newest_approved_version_wins(system):
    tool = tools_fixture(system, [V1, V2, V3], approved_versions=[1, 2])
    r = system.cli("tools", "show", tool["id"])
    assert r.returncode == 0, r
    assert system.registry.sent("tool.version")[0]["version"] == 2
    assert "--- approved v2" in r.stdout and "+++ current v3" in r.stdout


def test_tools_show_current_is_approved(system):
    tool = tools_fixture(system, [V1, V2], approved_versions=[2])
    r = system.cli("tools", "show", tool["id"])
    assert r.returncode == 0, r
    assert "current code is the approved code" in r.stdout
    assert "---" not in r.stdout
    assert system.registry.sent("tool.version") == []
    data = json.loads(system.cli("tools", "show", tool["id"], "--json").stdout)
    assert data["code_is_approved"] is True and data["diff"] is None
    assert data["approved_version"] == 2


def test_tools_show_never_approved(system):
    tool = tools_fixture(system, [V1, V2], approved_versions=[])
    r = system.cli("tools", "show", tool["id"])
    assert r.returncode == 0, r
    assert "no version of this tool was ever approved" in r.stdout
    assert "return {'city': city, 'v': 2}" in r.stdout
    data = json.loads(system.cli("tools", "show", tool["id"], "--json").stdout)
    assert data["approved_version"] is None and data["diff"] is None
    assert data["code_is_approved"] is False


def test_tools_show_unknown_tool(system):
    r = system.cli("tools", "show", uid())
    assert r.returncode == 1, r
    assert "(not_found)" in r.stderr


def test_help(tmpdir_short):
    r = subprocess.run([bin_path("mcpbox"), "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    for command in ("approvals", "policy", "servers", "tools"):
        assert re.search(rf"^\s+{command}\s", r.stdout, re.M), r.stdout
        for argv in ([command, "--help"], ["help", command], [command, "show", "--help"]):
            h = subprocess.run([bin_path("mcpbox"), *argv], capture_output=True, text=True,
                               timeout=10)
            assert h.returncode == 0, (argv, h.stderr)
            assert "usage: mcpbox " + command in h.stdout
            assert "--json" in h.stdout and "--data-dir" in h.stdout
