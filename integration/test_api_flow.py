"""A full admin flow through /api on the real `mcpbox up`: a server, a tool made over
MCP and published, the queue, approve (reviewed_by = the admin), reject with a
reason the LLM sees, a secret value never returned, policy change, rollback,
diff, test run, logs and activity."""
from api_client import api  # noqa: F401
from test_restart_safety import CODE_V1, CODE_V2


def test_full_flow(api):
    s, a = api, api.admin
    sid = a.ok("POST", "/api/servers", {"name": "flow", "description": "d"}, expect=201)["server"]["id"]
    t1 = s.manage("mcpbox_create_tool", {"server_id": sid, "name": "echo", "description": "e",
                                         "python_code": CODE_V1})["id"]
    s.manage("mcpbox_request_publish", {"tool_id": t1, "notes": "please"})
    q = a.ok("GET", "/api/approvals")
    item = [t for t in q["pending_tools"] if t["tool_id"] == t1][0]
    assert item["full_name"] == "flow__echo" and item["publish_notes"] == "please", item
    d = a.ok("POST", f"/api/approvals/tools/{t1}/approve", {})
    assert d["reviewed_by"] == "admin" and d["status"] == "approved", d
    got = a.ok("GET", f"/api/tools/{t1}")
    assert got["status"]["approval_status"] == "approved" and got["status"]["approved_by"] == "admin"
    a.ok("PATCH", f"/api/tools/{t1}", {"python_code": CODE_V2})
    diff = a.ok("GET", f"/api/tools/{t1}/diff?from=approved&to=current")
    assert diff["from"]["version"] == 1 and diff["to"]["version"] == 2 and not diff["same"]
    a.ok("POST", f"/api/tools/{t1}/rollback", {"version": 1})
    assert a.ok("GET", f"/api/tools/{t1}")["status"]["approval_status"] == "approved"
    t2 = s.manage("mcpbox_create_tool", {"server_id": sid, "name": "two", "description": "e",
                                         "python_code": CODE_V1})["id"]
    s.manage("mcpbox_request_publish", {"tool_id": t2})
    a.ok("POST", f"/api/approvals/tools/{t2}/reject", {"reason": "too broad"})
    st = s.manage("mcpbox_get_tool_status", {"tool_id": t2})
    assert "too broad" in str(st), st
    a.ok("POST", f"/api/servers/{sid}/secrets", {"key": "API_KEY", "value": "s3cr3t-value"}, expect=201)
    listed = a.ok("GET", f"/api/servers/{sid}/secrets")
    assert listed["secrets"][0]["has_value"] is True and "s3cr3t-value" not in str(listed)
    pol = a.ok("PUT", "/api/settings", {"module_approval_mode": "auto_approve"})
    assert pol["settings"]["module_approval_mode"] == "auto_approve"
    assert "module_approval_mode" in pol["current_warnings"]
    a.ok("POST", f"/api/servers/{sid}/start", {})
    run = a.ok("POST", f"/api/tools/{t1}/test", {"arguments": {"name": "x"}})
    assert run["success"] is True, run
    logs = a.ok("GET", f"/api/logs?tool_id={t1}&limit=5")
    act = a.ok("GET", "/api/activity?limit=100")
    assert "next_cursor" in logs and any(x["type"] == "approval.tool_approved"
                                         for x in act["activity"]), act
    dash = a.ok("GET", "/api/dashboard")
    assert dash["servers"] == 1 and len(dash["calls"]) == 60
