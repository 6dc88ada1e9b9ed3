"""The executor's MCP client for external sources (actors/executor/
mcp_client.c, the `source` op of service `sandbox`), against real servers
on test hosts with addresses of their own (netns_host.py), approved as
private hosts:

- @modelcontextprotocol/server-everything (npm) in Streamable HTTP and in
  legacy HTTP+SSE mode: discover (every page), call, negotiated version;
- a source not in the server's allowed hosts is never contacted;
- hostile sources (hostile_source.py): an oversized answer, an endless SSE
  stream, one endless SSE event, malformed JSON-RPC, non-JSON, a redirect
  to loopback and one to the metadata address: each refused cleanly, with
  a reason, within its bound; the loopback listener is never reached; the
  executor keeps serving;
- OAuth discovery (oauth_discover.c) against a source made of the SDK's
  bearer-auth middleware and metadata handlers: the 401 probe, RFC 9728 and
  RFC 8414 metadata; metadata pointing the token endpoint at loopback or at
  the metadata address is refused;
- a lost session (404) is initialized again once; a header credential;
  a legacy endpoint on another origin is refused;
- a bearer credential from the job's secrets reaches the source, and the
  source echoing it back is redacted;
- a source that sends requests of its own while answering a call (ping,
  elicitation/create, sampling/createMessage, roots/list, on the call's SSE
  stream or on the legacy stream) and waits for their answers gets them
  (ping answered {}, the rest -32601) and then answers the call; one that
  floods requests is given up on past the bound, with the reason.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

from conftest import wait_for
from netns_host import LoopbackTrap, NetnsHost, netns_available
from sandbox_util import BusExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = os.path.join(HERE, "node", "node_modules", ".bin", "node")
EVERYTHING = os.path.join(HERE, "node", "node_modules", "@modelcontextprotocol",
                          "server-everything", "dist", "index.js")
OAUTH_SOURCE = os.path.join(HERE, "node", "lib", "oauth_source.mjs")

pytestmark = pytest.mark.skipif(
    not netns_available() or not os.path.exists(EVERYTHING),
    reason="needs root, ip netns and integration/node's npm packages")


def _port_open(address, port):
    try:
        socket.create_connection((address, port), timeout=0.3).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def world():
    root = tempfile.mkdtemp(prefix="mb", dir="/tmp")
    trap = LoopbackTrap()
    with NetnsHost("src") as host:
        log = open(os.path.join(root, "sources.log"), "wb")
        env = dict(os.environ)
        host.popen([NODE, EVERYTHING, "streamableHttp"], env={**env, "PORT": "3001"},
                   stdout=log, stderr=log)
        host.popen([NODE, EVERYTHING, "sse"], env={**env, "PORT": "3002"},
                   stdout=log, stderr=log)
        host.popen([sys.executable, os.path.join(HERE, "hostile_source.py"), "3003",
                    str(trap.port)], stdout=log, stderr=log)
        for port, token in ((3004, ""), (3005, f"http://127.0.0.1:{trap.port}/token"),
                            (3006, "http://169.254.169.254/latest/api/token")):
            host.popen([NODE, OAUTH_SOURCE, str(port), host.address] + ([token] if token else []),
                       stdout=log, stderr=log)
        for port in (3001, 3002, 3003, 3004, 3005, 3006):
            wait_for(lambda: _port_open(host.address, port), timeout=30,
                     what=f"source on port {port}")
        bus = BusExecutor(root, root)
        try:
            yield bus, host, trap
        finally:
            bus.close()
            trap.close()
            log.close()
    shutil.rmtree(root, ignore_errors=True)


def source(bus, host, path, port, action="discover", timeout_ms=10000, **fields):
    body = {"op": "source", "action": action, "url": f"http://{host.address}:{port}/{path}",
            "allowed_hosts": [host.address], "timeout_ms": timeout_ms}
    body.update(fields)
    return bus.client.call("sandbox", body, timeout_ms=timeout_ms + 5000)


def test_everything_streamable_http(world):
    bus, host, _ = world
    reply = source(bus, host, "mcp", 3001)
    assert reply["ok"] and reply["success"], reply
    names = {t["name"] for t in reply["tools"]}
    assert {"echo", "get-sum"} <= names, names
    echo = next(t for t in reply["tools"] if t["name"] == "echo")
    assert echo["input_schema"]["properties"]["message"]["type"] == "string"
    assert echo["description"]
    assert reply["protocol_version"] == "2025-11-25"
    reply = source(bus, host, "mcp", 3001, action="call", tool="get-sum",
                   arguments={"a": 2, "b": 40})
    assert reply["success"], reply
    assert "42" in reply["result"]["content"][0]["text"], reply
    reply = source(bus, host, "mcp", 3001, action="ping")
    assert reply["success"], reply


def test_everything_legacy_sse(world):
    bus, host, _ = world
    reply = source(bus, host, "sse", 3002, transport="sse")
    assert reply["success"], reply
    assert "echo" in {t["name"] for t in reply["tools"]}
    reply = source(bus, host, "sse", 3002, action="call", transport="sse", tool="echo",
                   arguments={"message": "through the legacy stream"})
    assert reply["success"], reply
    assert reply["result"]["content"][0]["text"] == "Echo: through the legacy stream"


def test_unlisted_private_host_is_never_contacted(world):
    bus, host, _ = world
    reply = source(bus, host, "mcp", 3001, allowed_hosts=[])
    assert reply["ok"] and not reply["success"], reply
    assert "not in this server's allowed hosts" in reply["error"]["message"]
    # allow_all_public does not open a private address either
    reply = source(bus, host, "mcp", 3001, allowed_hosts=[], network_policy="allow_all_public")
    assert not reply["success"], reply
    assert "private" in reply["error"]["message"] or "allowed" in reply["error"]["message"]


@pytest.mark.parametrize("path, words, timeout_ms", [
    ("big", ["larger than 4 MB"], 10000),
    ("endless", ["timed out", "in time"], 2000),
    ("flood", ["larger", "longer"], 10000),
    ("malformed", ["malformed JSON-RPC"], 10000),
    ("notjson", ["malformed JSON"], 10000),
    ("redirect", ["redirect", "loopback"], 10000),
    ("metadata", ["redirect", "link-local"], 10000),
])
def test_hostile_sources_are_refused(world, path, words, timeout_ms):
    bus, host, trap = world
    reply = source(bus, host, path, 3003, timeout_ms=timeout_ms)
    assert reply["ok"] and reply["success"] is False, reply
    message = reply["error"]["message"]
    assert any(w in message for w in words), message
    assert reply["duration_ms"] < timeout_ms + 1500, reply
    assert trap.hits == 0
    bus.assert_still_serving()


def test_answers_not_ours_and_hostile_sse_fields(world):
    """An SSE answer stream with a 100 KB id:, hostile retry: values, CR line
    ends, and answers whose id is ours as a string, another one, a
    negative: only the answer with our integer id is taken, the first one;
    an id that is no JSON-RPC id (a float) fails the call saying so."""
    bus, host, _ = world
    reply = source(bus, host, "ids", 3003)
    assert reply["ok"] and reply["success"], reply
    assert [t["name"] for t in reply["tools"]] == ["good"], reply
    reply = source(bus, host, "ids-bad", 3003)
    assert reply["ok"] and not reply["success"], reply
    assert "no usable id" in reply["error"]["message"], reply
    assert "evil" not in json.dumps(reply)
    bus.assert_still_serving()


def test_bearer_credential_reaches_the_source_and_is_redacted(world):
    bus, host, _ = world
    auth = {"auth_type": "bearer", "auth_secret_name": "TOKEN"}
    reply = source(bus, host, "auth", 3003, action="call", tool="x",
                   secrets={"TOKEN": "tok-123"}, **auth)
    assert reply["success"], reply
    text = reply["result"]["content"][0]["text"]
    assert "tok-123" not in json.dumps(reply) and "[REDACTED]" in text, reply
    reply = source(bus, host, "auth", 3003, secrets={"TOKEN": "wrong"}, **auth)
    assert not reply["success"] and "401" in reply["error"]["message"], reply
    reply = source(bus, host, "auth", 3003, secrets={}, **auth)
    assert reply["ok"] is False and "TOKEN" in reply["error"]["message"], reply


def test_lost_session_is_initialized_again_once(world):
    bus, host, _ = world
    reply = source(bus, host, "forgetful", 3003)
    assert reply["success"], reply
    assert [t["name"] for t in reply["tools"]] == ["t"]


def test_header_credential(world):
    bus, host, _ = world
    auth = {"auth_type": "header", "auth_secret_name": "KEY", "auth_header_name": "X-Api-Key"}
    reply = source(bus, host, "header", 3003, secrets={"KEY": "key-9"}, **auth)
    assert reply["success"] and reply["tools"][0]["name"] == "h", reply
    reply = source(bus, host, "header", 3003, secrets={"KEY": "key-9"},
                   **{**auth, "auth_header_name": "Content-Type"})
    assert reply["ok"] is False and "auth_header_name" in reply["error"]["message"], reply


def test_legacy_endpoint_on_another_origin_is_refused(world):
    bus, host, trap = world
    reply = source(bus, host, "sse-evil", 3003, transport="sse", timeout_ms=4000)
    assert reply["ok"] and not reply["success"], reply
    assert "another origin" in reply["error"]["message"], reply
    assert trap.hits == 0


def test_oauth_discovery(world):
    bus, host, _ = world
    reply = source(bus, host, "mcp", 3004, action="oauth_discover")
    assert reply["success"], reply
    oauth = reply["oauth"]
    issuer = f"http://{host.address}:3004"
    assert oauth["issuer"] == issuer
    assert oauth["resource"] == issuer + "/mcp"
    assert oauth["resource_metadata_url"] == issuer + "/.well-known/oauth-protected-resource/mcp"
    assert oauth["token_endpoint"] == issuer + "/token"
    assert oauth["registration_endpoint"] == issuer + "/register"
    assert oauth["client_id_metadata_document_supported"] is True
    # a source that does not ask for OAuth says so
    reply = source(bus, host, "mcp", 3001, action="oauth_discover")
    assert not reply["success"] and "not 401" in reply["error"]["message"], reply
    # nor does a legacy one, probed with its stream's GET (the stream is not read)
    reply = source(bus, host, "sse", 3002, action="oauth_discover", transport="sse")
    assert not reply["success"] and "HTTP 200" in reply["error"]["message"], reply
    assert reply["duration_ms"] < 3000, reply


@pytest.mark.parametrize("port, word", [(3005, "loopback"), (3006, "link-local")])
def test_oauth_token_endpoint_inside_is_refused(world, port, word):
    bus, host, trap = world
    # even with the inside addresses' names listed as allowed hosts: their
    # addresses are never reachable
    reply = source(bus, host, "mcp", port, action="oauth_discover",
                   allowed_hosts=[host.address, "127.0.0.1", "169.254.169.254"])
    assert reply["ok"] and not reply["success"], reply
    message = reply["error"]["message"]
    assert "token_endpoint is refused" in message and word in message, message
    assert trap.hits == 0


ANSWERED = {"elicitation/create": -32601, "ping": {}, "roots/list": -32601,
            "sampling/createMessage": -32601}


@pytest.mark.parametrize("path, transport", [("asks", "streamable_http"), ("sse-asks", "sse")])
def test_requests_of_the_source_own_are_answered(world, path, transport):
    bus, host, _ = world
    # without answers the source holds its stream until this deadline passes
    reply = source(bus, host, path, 3003, action="call", tool="asker", transport=transport,
                   timeout_ms=8000)
    assert reply["ok"] and reply["success"], reply
    assert json.loads(reply["result"]["content"][0]["text"]) == ANSWERED, reply
    assert reply["duration_ms"] < 4000, reply
    bus.assert_still_serving()


def test_a_flood_of_requests_from_the_source_is_given_up(world):
    bus, host, _ = world
    reply = source(bus, host, "asks-flood", 3003, action="call", tool="x")
    assert reply["ok"] and reply["success"] is False, reply
    assert "more than 64 requests of its own" in reply["error"]["message"], reply
    bus.assert_still_serving()
