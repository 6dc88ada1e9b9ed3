"""network_access_policy allow_all_public through a whole `mcpbox up`, for a
server with no approved host or module (approval's effective view does not
list it; its rules are the view's defaults): a tool called through /mcp and
one tested from the admin API reach a public host (a loopback alias that
test builds count as public, MCPBOX_TEST_PUBLIC_NET); under the default
require_approval the same call is refused. Before, the gateway sent such a
server's jobs as allowlist with no hosts whatever the policy.
"""
import http.server
import json
import threading

import pytest

from api_client import api  # noqa: F401  (fixture)
from conftest import wait_for

TOOL = '''
async def main(url: str) -> dict:
    """Fetches url."""
    response = await http.get(url)
    return {"status": response.status_code, "body": response.json()}
'''


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def world(request, monkeypatch):
    monkeypatch.setenv("MCPBOX_TEST_PUBLIC_NET", "127.77.0.0/16")
    srv = http.server.ThreadingHTTPServer(("127.77.0.3", 0), _Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    s = request.getfixturevalue("api")
    try:
        yield s, f"http://127.77.0.3:{srv.server_address[1]}/x"
    finally:
        srv.shutdown()
        srv.server_close()


def test_allow_all_public_reaches_an_unlisted_servers_tools(world):
    s, url = world
    server_id = s.manage("mcpbox_create_server", {"name": "pub"})["id"]
    tool_id = s.manage("mcpbox_create_tool", {"server_id": server_id, "name": "fetch",
                                              "python_code": TOOL})["id"]
    s.manage("mcpbox_request_publish", {"tool_id": tool_id})
    assert s.cli("approvals", "approve", "tool", tool_id).returncode == 0
    s.manage("mcpbox_start_server", {"server_id": server_id})
    wait_for(lambda: "pub__fetch" in s.listed(), what="pub__fetch listed")
    # the default policy: no host approved, nothing reached
    refused = s.call("pub__fetch", {"url": url})
    assert refused["isError"] is True and "allowed hosts" in json.dumps(refused), refused
    assert s.cli("policy", "set", "network_access_policy", "allow_all_public").returncode == 0

    def reached():
        result = s.call("pub__fetch", {"url": url})
        return result if result["isError"] is False else None
    result = wait_for(reached, timeout=10, what="the call under allow_all_public")
    assert json.loads(result["content"][0]["text"]) == {"status": 200, "body": {"ok": True}}
    run = s.admin.ok("POST", f"/api/tools/{tool_id}/test", {"arguments": {"url": url}})
    assert run["success"] is True and run["result"]["status"] == 200, run
