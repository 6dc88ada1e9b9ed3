"""Server secrets end to end, on the real `mcpbox up`: the LLM declares a
placeholder over MCP, the admin sets the value with `mcpbox secrets set` (from
standard input), a tool reads secrets["API_KEY"] and proves it by outcome (its
length and an HMAC this test recomputes), and the value reaches no MCP response,
no file under the data directory (database, WAL, logs) and no process's argv or
environment. Then the master key: MCPBOX_ENCRYPTION_KEY reaches the credentials
actor only and is wiped from its environment; a malformed key stops it with
status 2; rotation keeps every value, also when the process is killed in the
middle (test hook MCPBOX_TEST_ROTATE_CRASH).
"""
import hashlib
import hmac
import json
import os
import secrets as pysecrets
import signal
import subprocess

import pytest

from busclient import BusClient
from conftest import bin_path, proc_env, wait_for
from test_restart_safety import System, child_named, child_pids, mcpbox

CODE = '''
import hmac
import hashlib

async def main(message: str) -> dict:
    """Signs a message with the server's API key."""
    key = secrets["API_KEY"]
    mac = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
    print("the key is", key)
    return {"length": len(key), "mac": mac, "echo": key, "keys": sorted(secrets.keys())}
'''


def files_under(path):
    for root, _, names in os.walk(path):
        for name in names:
            full = os.path.join(root, name)
            if os.path.isfile(full) and not os.path.islink(full):
                yield full


def assert_nowhere(data_dir, value):
    needle = value.encode()
    checked = 0
    for path in files_under(data_dir):
        with open(path, "rb") as f:
            assert needle not in f.read(), f"the secret value is in {path}"
        checked += 1
    assert checked >= 3, checked          # at least the db, its WAL/logs


def proc_text(pid, what):
    try:
        with open(f"/proc/{pid}/{what}", "rb") as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return b""


@pytest.fixture
def env_key_system(procs, tmpdir_short, monkeypatch):
    key = pysecrets.token_hex(32)
    monkeypatch.setenv("MCPBOX_ENCRYPTION_KEY", key)
    s = System(procs, tmpdir_short)
    monkeypatch.delenv("MCPBOX_ENCRYPTION_KEY")
    yield s, key
    if s.up.poll() is None:
        s.up.terminate()
        assert s.up.wait(timeout=15) == 0, s.log()


def test_secret_reaches_the_tool_only(env_key_system):
    s, master = env_key_system
    value = "sk-" + pysecrets.token_urlsafe(30)
    server_id = s.manage("mcpbox_create_server", {"name": "signer"})["id"]
    tool_id = s.manage("mcpbox_create_tool", {"server_id": server_id, "name": "sign",
                                              "python_code": CODE})["id"]
    created = s.manage("mcpbox_create_server_secret",
                       {"server_id": server_id, "key": "API_KEY", "description": "signing"})
    assert created == {"success": True, "server_id": server_id, "key": "API_KEY",
                       "description": "signing", "has_value": False,
                       "message": created["message"]}

    # the admin sets the value from standard input, by server name
    r = subprocess.run([bin_path("mcpbox"), "secrets", "set", "signer", "API_KEY",
                        "--data-dir", s.data_dir], input=value + "\n", capture_output=True,
                       text=True, timeout=30, env=proc_env())
    assert r.returncode == 0, r.stderr
    assert value not in r.stdout + r.stderr
    listed = s.manage("mcpbox_list_server_secrets", {"server_id": server_id})
    assert listed["secrets"] == [{"key": "API_KEY", "description": "signing", "has_value": True}]
    cli_list = s.cli("secrets", "list", server_id, "--json")
    assert cli_list.returncode == 0 and value not in cli_list.stdout, cli_list
    too_big = subprocess.run([bin_path("mcpbox"), "secrets", "set", "signer", "BIG",
                              "--data-dir", s.data_dir], input="x" * 10001,
                             capture_output=True, text=True, timeout=30, env=proc_env())
    assert too_big.returncode == 1

    expected_mac = hmac.new(value.encode(), b"hello", hashlib.sha256).hexdigest()
    # mcpbox_test_code gets the secrets too
    tested = s.manage("mcpbox_test_code", {"tool_id": tool_id, "arguments": {"message": "hello"}})
    assert tested["success"] is True, tested
    assert tested["result"]["length"] == len(value)
    assert tested["result"]["mac"] == expected_mac
    assert tested["result"]["keys"] == ["API_KEY"]
    # the test_code answer as the MCP client receives it: the tool returned the
    # value (echo) and printed it; neither reaches the client
    status, _, raw = s.post({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
                             "params": {"name": "mcpbox_test_code",
                                        "arguments": {"tool_id": tool_id,
                                                      "arguments": {"message": "hello"}}}},
                            s.session)
    assert status == 200 and expected_mac.encode() in raw, raw[:400]
    assert value.encode() not in raw, "the value reached the MCP client through test_code"

    assert s.manage("mcpbox_request_publish", {"tool_id": tool_id})["status"] == "pending_review"
    assert s.cli("approvals", "approve", "tool", tool_id).returncode == 0
    s.manage("mcpbox_start_server", {"server_id": server_id})
    wait_for(lambda: "signer__sign" in s.listed(), timeout=5, what="signer__sign listed")
    status, _, raw = s.post({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                             "params": {"name": "signer__sign", "arguments": {"message": "hello"}}},
                            s.session)
    assert status == 200
    assert value.encode() not in raw, "the value reached the MCP client"
    result = json.loads(raw)["result"]
    assert result["isError"] is False, result
    assert result["structuredContent"]["length"] == len(value)
    assert result["structuredContent"]["mac"] == expected_mac
    assert result["structuredContent"]["echo"] != value

    # nowhere at rest: the database, its WAL, every log under the data dir
    assert_nowhere(s.data_dir, value)
    assert_nowhere(s.data_dir, master)
    assert not os.path.exists(os.path.join(s.data_dir, "credentials.key"))
    # nor in any process's argv or environment
    for pid in [s.up.pid] + child_pids(s.up.pid):
        for what in ("cmdline", "environ"):
            text = proc_text(pid, what)
            assert value.encode() not in text and master.encode() not in text, (pid, what)
    creds = child_named(s.up.pid, "mcpbox-credentials")
    assert creds and b"MCPBOX_ENCRYPTION_KEY" not in proc_text(creds, "environ")
    # other children never had it at all
    gateway = child_named(s.up.pid, "mcpbox-gateway")
    assert b"MCPBOX_ENCRYPTION_KEY" not in proc_text(gateway, "environ")

    # a restarted credentials actor (kill -9 under mcpbox up) gets the key again
    s.kill_and_wait_restart("mcpbox-credentials")
    again = s.manage_retry("mcpbox_test_code", {"tool_id": tool_id,
                                                "arguments": {"message": "hello"}})
    assert again["result"]["mac"] == expected_mac, again

    # the admin deletes it with the CLI: the value is gone for the tool too
    r = s.cli("secrets", "delete", "signer", "API_KEY")
    assert r.returncode == 0 and "deleted API_KEY" in r.stdout, r
    assert value not in r.stdout + r.stderr
    assert s.manage("mcpbox_list_server_secrets", {"server_id": server_id})["secrets"] == []
    gone = s.manage("mcpbox_test_code", {"tool_id": tool_id, "arguments": {"message": "hello"}})
    assert gone["success"] is False and "API_KEY" in json.dumps(gone), gone
    assert s.cli("secrets", "delete", "signer", "API_KEY").returncode == 1
    # declared again, the placeholder has no value: the old one did not linger
    s.manage("mcpbox_create_server_secret", {"server_id": server_id, "key": "API_KEY"})
    listed = s.manage("mcpbox_list_server_secrets", {"server_id": server_id})
    assert listed["secrets"] == [{"key": "API_KEY", "description": "", "has_value": False}], listed
    still = s.manage("mcpbox_test_code", {"tool_id": tool_id, "arguments": {"message": "hello"}})
    assert still["success"] is False and expected_mac not in json.dumps(still), still
    assert_nowhere(s.data_dir, value)


# --- the credentials actor alone -----------------------------------------------------

class Creds:
    def __init__(self, procs, data_dir):
        self.procs, self.data = procs, data_dir
        r = subprocess.run([bin_path("mcpbox"), "migrate", "--data-dir", data_dir],
                           capture_output=True, text=True, env=proc_env(), timeout=30)
        assert r.returncode == 0, r.stderr
        procs.start([bin_path("mcpbox-broker"), "--data-dir", data_dir], name="broker")
        wait_for(lambda: os.path.exists(os.path.join(data_dir, "run", "bus")), what="broker")
        self.bus = BusClient("ipc://" + os.path.join(data_dir, "run", "bus"), 5000)
        self.proc = None

    def start(self, **env):
        self.proc = self.procs.start([bin_path("mcpbox-credentials"), "--data-dir", self.data],
                                     name="credentials", env=proc_env(**env))
        wait_for(lambda: self.bus.call("credentials", {"op": "health"},
                                       timeout_ms=300).get("ok"), what="credentials")

    def call(self, body):
        return self.bus.call("credentials", body, timeout_ms=5000)

    def key_file(self):
        with open(os.path.join(self.data, "credentials.key")) as f:
            return f.read()


def test_key_file_mode_and_malformed_keys(procs, tmpdir_short):
    c = Creds(procs, tmpdir_short)
    c.start()
    path = os.path.join(tmpdir_short, "credentials.key")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert len(c.key_file().strip()) == 64
    c.proc.terminate()
    c.proc.wait(timeout=10)
    for bad in ("abc", "z" * 64, "0" * 66):
        r = subprocess.run([bin_path("mcpbox-credentials"), "--data-dir", tmpdir_short],
                           capture_output=True, text=True, timeout=10,
                           env=proc_env(MCPBOX_ENCRYPTION_KEY=bad))
        assert r.returncode == 2, (bad, r.stderr)
        assert "MCPBOX_ENCRYPTION_KEY must be exactly 64 hexadecimal" in r.stderr
        assert bad not in r.stderr
    # a key file that is readable by others, or malformed, is refused too
    os.chmod(path, 0o644)
    r = subprocess.run([bin_path("mcpbox-credentials"), "--data-dir", tmpdir_short],
                       capture_output=True, text=True, timeout=10, env=proc_env())
    assert r.returncode == 2 and "mode 0600" in r.stderr, r.stderr


def values(c, server="srv"):
    reply = c.call({"op": "job_secrets", "server_id": server})
    if reply.get("error", {}).get("code") == "worker_lost":
        # the killed process stays registered until the broker finds it
        # silent; a read is asked again, as the executor does
        reply = c.call({"op": "job_secrets", "server_id": server})
    assert reply["ok"], reply
    return reply["secrets"]


@pytest.mark.parametrize("crash_at", ["row:2", "commit"])
def test_rotation_killed_midway_loses_nothing(procs, tmpdir_short, crash_at):
    c = Creds(procs, tmpdir_short)
    c.start()
    stored = {f"KEY_{i}": pysecrets.token_urlsafe(20) for i in range(4)}
    for key, value in stored.items():
        assert c.call({"op": "secret_set", "server_id": "srv", "key": key, "value": value})["ok"]
    c.call({"op": "secret_create", "server_id": "srv", "key": "PLACEHOLDER"})
    before = c.key_file()
    c.proc.terminate()
    c.proc.wait(timeout=10)

    c.start(MCPBOX_TEST_ROTATE_CRASH=crash_at)
    c.bus.send("credentials", {"op": "rotate_key"}, 3000)
    assert c.proc.wait(timeout=10) == -signal.SIGKILL
    assert os.path.exists(os.path.join(tmpdir_short, "credentials.key.next"))

    c.start()
    assert values(c) == stored
    assert not os.path.exists(os.path.join(tmpdir_short, "credentials.key.next"))
    if crash_at == "commit":
        assert c.key_file() != before          # the committed rotation was finished
    else:
        assert c.key_file() == before          # the rolled-back one was discarded
    # and a rotation that runs to the end keeps them too
    reply = c.call({"op": "rotate_key"})
    assert reply == {"ok": True, "reencrypted": 4}, reply
    assert values(c) == stored
    c.proc.terminate()
    c.proc.wait(timeout=10)
    c.start()
    assert values(c) == stored
    cli = mcpbox("credentials", "rotate-key", "--data-dir", tmpdir_short)
    assert cli.returncode == 0 and "4 secret values re-encrypted" in cli.stdout, cli
    assert values(c) == stored
    for value in stored.values():
        assert_nowhere(tmpdir_short, value)


def test_secret_ops_validate_and_never_list_values(procs, tmpdir_short):
    c = Creds(procs, tmpdir_short)
    c.start()
    for bad in ({"server_id": "srv", "key": "lower"}, {"server_id": "srv", "key": "1ABC"},
                {"server_id": "", "key": "A"}, {"server_id": "s/../x", "key": "A"},
                {"server_id": "srv", "key": "A" * 129}):
        reply = c.call({"op": "secret_create", **bad})
        assert reply["error"]["code"] == "bad_request", (bad, reply)
    assert c.call({"op": "secret_create", "server_id": "srv", "key": "A",
                   "description": 7})["error"]["code"] == "bad_request"
    assert c.call({"op": "secret_set", "server_id": "srv", "key": "A",
                   "value": "x" * 10001})["error"]["code"] == "too_large"
    assert c.call({"op": "secret_set", "server_id": "srv", "key": "A", "value": "x" * 10000})["ok"]
    assert c.call({"op": "secret_create", "server_id": "srv",
                   "key": "A"})["error"]["code"] == "conflict"
    listed = c.call({"op": "secret_list", "server_id": "srv"})
    assert "x" * 100 not in repr(listed)
    assert c.call({"op": "secret_delete", "server_id": "srv", "key": "A"})["ok"]
    assert c.call({"op": "secret_delete", "server_id": "srv",
                   "key": "A"})["error"]["code"] == "not_found"
    assert values(c) == {}
