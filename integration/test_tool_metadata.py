"""Tool metadata of LLM-written tools on the real `mcpbox up`, both protocol eras:
a title; annotations the LLM only suggests (shown to the reviewer in GET
/api/approvals) and the admin sets on approving (the only ones tools/list ever
carries, bound to the approved code: new code has none until reviewed, a
rollback to approved code brings that approval's back); an outputSchema derived
from main's return annotation, with structuredContent checked against it (a
result outside it is an error result); JSON Schema 2020-12 keywords ($defs/$ref,
prefixItems, const) in the input schema reaching tools/list unchanged."""
import http.client
import json

from api_client import api  # noqa: F401 (fixture)
from conftest import wait_for

CODE = '''
from typing import Literal, TypedDict

class Point(TypedDict):
    x: int
    y: int

class Stats(TypedDict):
    """Counts of a text."""
    words: int
    first: Point

async def main(text: str, mode: Literal["plain"] = "plain", pair: tuple[int, str] = (1, "a"),
               where: Point | None = None) -> Stats:
    """Count the words of a text."""
    return {"words": len(text.split()), "first": {"x": 1, "y": 2}}
'''
# the same signature, a result outside the declared Stats
CODE_WRONG = CODE.replace('{"words": len(text.split()), "first": {"x": 1, "y": 2}}',
                          '{"words": "many", "first": {"x": 1}}')
CODE_LIST = '''
async def main(n: int) -> list[int]:
    return list(range(n))
'''

META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "pytest-meta", "version": "1"}}


def post26(system, method, params, name=None):
    """One stateless 2026-07-28 request."""
    headers = {"Accept": "application/json, text/event-stream",
               "Content-Type": "application/json",
               "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method}
    if name:
        headers["Mcp-Name"] = name
    conn = http.client.HTTPConnection("127.0.0.1", system.port, timeout=40)
    try:
        conn.request("POST", "/mcp", body=json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": method,
            "params": {**params, "_meta": META}}).encode(), headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200, (resp.status, body)
        return json.loads(body)["result"]
    finally:
        conn.close()


def listed(system, name):
    """The tool's tools/list entry in each era (None when not listed)."""
    entries = []
    for modern in (False, True):
        result = post26(system, "tools/list", {}) if modern else system.rpc("tools/list")["result"]
        entries.append(next((t for t in result["tools"] if t["name"] == name), None))
    return entries


def call_both(system, name, arguments):
    old = system.call(name, arguments)
    new = post26(system, "tools/call", {"name": name, "arguments": arguments}, name=name)
    assert new.pop("resultType") == "complete"
    return old, new


def test_title_annotations_output_schema(api):
    s, a = api, api.admin
    sid = a.ok("POST", "/api/servers", {"name": "meta", "description": "d"}, expect=201)["server"]["id"]
    a.ok("POST", f"/api/servers/{sid}/start", {})
    suggested = {"openWorldHint": True, "readOnlyHint": True}
    made = s.call("mcpbox_create_tool", {"server_id": sid, "name": "stats", "python_code": CODE,
                                         "title": "Word stats", "annotations": suggested})
    assert made["isError"] is False, made
    tid = made["structuredContent"]["id"]
    # a bad suggestion is refused with the hint named, nothing made
    bad = s.call("mcpbox_create_tool", {"server_id": sid, "name": "bad", "python_code": CODE,
                                        "annotations": {"readOnlyHint": "yes"}})
    assert bad["isError"] is True and "readOnlyHint" in bad["content"][0]["text"], bad

    tool = s.manage("mcpbox_get_tool", {"tool_id": tid})
    assert tool["title"] == "Word stats"
    # stored canonically (fixed order), as the LLM's suggestion only
    assert list(tool["suggested_annotations"].items()) == [("readOnlyHint", True),
                                                            ("openWorldHint", True)]
    out = tool["output_schema"]
    assert out["type"] == "object" and out["required"] == ["words", "first"], out
    assert out["properties"]["first"] == {"$ref": "#/$defs/Point"}
    assert out["$defs"]["Point"]["required"] == ["x", "y"]
    inp = tool["input_schema"]
    assert inp["properties"]["mode"] == {"const": "plain", "default": "plain"}
    assert inp["properties"]["pair"]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert inp["properties"]["where"] == {"anyOf": [{"$ref": "#/$defs/Point"}, {"type": "null"}]}
    assert "Point" in inp["$defs"]

    # not listed before review; the reviewer sees what the version says of itself
    assert listed(s, "meta__stats") == [None, None]
    s.manage("mcpbox_request_publish", {"tool_id": tid})
    queue = a.ok("GET", "/api/approvals")
    item = [t for t in queue["pending_tools"] if t["tool_id"] == tid][0]
    assert item["current_code"] is True and item["title"] == "Word stats", item
    assert item["suggested_annotations"] == suggested and item["output_schema"] == out
    assert queue["details_omitted"] == 0
    # the approve action checks what the admin sets
    status, body = a.req("POST", f"/api/approvals/tools/{tid}/approve",
                         {"annotations": {"readOnlyHint": True, "title": "x"}})
    assert status == 400 and "unknown hint 'title'" in json.dumps(body), body
    status, body = a.req("POST", f"/api/approvals/tools/{tid}/approve",
                         {"annotations": {"readOnlyHint": True}, "code_hash": "0" * 64})
    assert status == 409, body
    reviewed = {"readOnlyHint": True, "openWorldHint": False}
    a.ok("POST", f"/api/approvals/tools/{tid}/approve",
         {"annotations": reviewed, "code_hash": item["code_hash"]})

    def both_listed():
        entries = listed(s, "meta__stats")
        return entries if all(entries) else None
    for entry in wait_for(both_listed, timeout=10, interval=0.2, what="stats listed"):
        assert entry["title"] == "Word stats"
        assert entry["annotations"] == reviewed, entry     # the admin's, not the LLM's
        assert entry["outputSchema"] == out
        # the input schema as stored, byte for byte (key order included)
        assert json.dumps(entry["inputSchema"]) == json.dumps(inp)

    for result in call_both(s, "meta__stats", {"text": "a b c"}):
        assert result["isError"] is False, result
        assert result["structuredContent"] == {"words": 3, "first": {"x": 1, "y": 2}}
        assert json.loads(result["content"][0]["text"]) == result["structuredContent"]

    # new code: not listed until reviewed; approved without hints it has none
    a.ok("PATCH", f"/api/tools/{tid}", {"python_code": CODE_WRONG})
    wait_for(lambda: listed(s, "meta__stats") == [None, None], timeout=10, interval=0.2,
             what="new code unlisted")
    s.manage("mcpbox_request_publish", {"tool_id": tid})
    a.ok("POST", f"/api/approvals/tools/{tid}/approve", {})
    entries = wait_for(both_listed, timeout=10, interval=0.2, what="v2 listed")
    assert all("annotations" not in e for e in entries), entries
    # a result outside the output schema is an error result, in both eras
    for result in call_both(s, "meta__stats", {"text": "a b"}):
        assert result["isError"] is True, result
        assert "structuredContent" not in result
        text = result["content"][0]["text"]
        assert "does not match its output schema" in text and "words" in text, text

    # a rollback to the approved first version brings that approval's hints back
    a.ok("POST", f"/api/tools/{tid}/rollback", {"version": 1})

    def hints_back():
        entries = listed(s, "meta__stats")
        return entries if all(e and e.get("annotations") == reviewed for e in entries) else None
    wait_for(hints_back, timeout=10, interval=0.2, what="v1's annotations back")

    # a list result is wrapped as {"result": ...}; approved from the CLI with hints
    tl = s.manage("mcpbox_create_tool", {"server_id": sid, "name": "upto",
                                         "python_code": CODE_LIST})["id"]
    assert s.manage("mcpbox_get_tool", {"tool_id": tl})["output_schema"] == {
        "type": "object", "properties": {"result": {"type": "array", "items": {"type": "integer"}}},
        "required": ["result"], "x-mcpbox-wrapped": True}
    s.manage("mcpbox_request_publish", {"tool_id": tl})
    bad = s.cli("approvals", "approve", "tool", tl, "--annotations", '{"idempotentHint": 1}')
    assert bad.returncode == 1 and "idempotentHint" in bad.stderr + bad.stdout, bad
    done = s.cli("approvals", "approve", "tool", tl, "--annotations", '{"idempotentHint": true}')
    assert done.returncode == 0, done

    def upto_listed():
        entries = listed(s, "meta__upto")
        return entries if all(entries) else None
    for entry in wait_for(upto_listed, timeout=10, interval=0.2, what="upto listed"):
        assert entry["annotations"] == {"idempotentHint": True} and "title" not in entry
    for result in call_both(s, "meta__upto", {"n": 3}):
        assert result["isError"] is False, result
        assert result["structuredContent"] == {"result": [0, 1, 2]}
        assert json.loads(result["content"][0]["text"]) == [0, 1, 2]
