"""The storage side of MCPbox's OAuth client for external sources: the
`source_oauth.*` ops of the real credentials actor behind the real broker
(actors/credentials/ops_source_oauth.c, DESIGN.md section 14, "Source OAuth
storage"). The executor's HTTP side is not here: this drives the ops as the
executor does, with a bus client.

Shown: an authorization started, taken once by its state, tokens stored; a
restart of credentials keeps them; the refresh lease goes to one caller at a
time; a refused refresh drops the tokens; nothing secret is ever in the
database file, its WAL or a log, in clear; a rotation of the master key,
killed midway, loses none of it; the fields are bounded and typed; a remote
(tcp) peer is refused every op, even with an allowed key.
"""
import os
import secrets as pysecrets
import signal
import subprocess
import sys
import time

import msgpack
import pytest

from api_client import api  # noqa: F401
from conftest import bin_path, free_port, proc_env, wait_for
from test_credentials_secrets import Creds, assert_nowhere
from test_restart_safety import mcpbox


def now_ms():
    return int(time.time() * 1000)


def begin_body(source_id, state, verifier, **extra):
    body = {"op": "source_oauth.begin", "source_id": source_id, "server_id": "srv-1",
            "state": state, "verifier": verifier, "client_id": "mcpbox-client",
            "client_secret": extra.pop("client_secret", "cs-" + pysecrets.token_urlsafe(16)),
            "issuer": "https://as.test", "token_endpoint": "https://as.test/token",
            "resource": "https://mcp.test/mcp",
            "redirect_uri": "http://127.0.0.1:8080/oauth/source/callback", "scope": "mcp:tools"}
    body.update(extra)
    return body


def store_body(source_id, access, refresh=None, expires_at_ms=None, **extra):
    body = {"op": "source_oauth.store", "source_id": source_id, "server_id": "srv-1",
            "client_id": "mcpbox-client", "token_endpoint": "https://as.test/token",
            "resource": "https://mcp.test/mcp", "access_token": access}
    if refresh:
        body["refresh_token"] = refresh
    if expires_at_ms:
        body["expires_at_ms"] = expires_at_ms
    body.update(extra)
    return body


def call(c, body):
    reply = c.call(body)
    if reply.get("error", {}).get("code") == "worker_lost":
        # a killed process stays registered until the broker finds it silent
        reply = c.call(body)
    return reply


def token(c, source_id, **extra):
    return call(c, {"op": "source_oauth.token", "source_id": source_id, **extra})


def status(c, *ids):
    reply = call(c, {"op": "source_oauth.status", "source_ids": list(ids)})
    assert reply["ok"], reply
    return reply["sources"]


def test_authorize_store_restart_refresh(procs, tmpdir_short):
    c = Creds(procs, tmpdir_short)
    c.start()
    state = pysecrets.token_urlsafe(32)
    verifier = pysecrets.token_urlsafe(48)
    client_secret = "cs-" + pysecrets.token_urlsafe(24)
    access = "at-" + pysecrets.token_urlsafe(40)
    refresh = "rt-" + pysecrets.token_urlsafe(40)
    secrets_all = [state, verifier, client_secret, access, refresh]

    assert status(c, "src-1") == {"src-1": {"state": "none"}}
    assert c.call(begin_body("src-1", state, verifier, client_secret=client_secret)) == {"ok": True}
    st = status(c, "src-1")["src-1"]
    assert st["state"] == "pending" and st["updated_at"] > 0, st

    # the callback's state finds it once
    pending = c.call({"op": "source_oauth.pending", "state": state})
    assert pending == {"ok": True, "source_id": "src-1", "server_id": "srv-1",
                       "verifier": verifier, "client_id": "mcpbox-client",
                       "client_secret": client_secret, "issuer": "https://as.test",
                       "token_endpoint": "https://as.test/token",
                       "resource": "https://mcp.test/mcp",
                       "redirect_uri": "http://127.0.0.1:8080/oauth/source/callback",
                       "scope": "mcp:tools"}, pending
    again = c.call({"op": "source_oauth.pending", "state": state})
    assert again["error"]["code"] == "not_found", again
    wrong = c.call({"op": "source_oauth.pending", "state": pysecrets.token_urlsafe(32)})
    assert wrong["error"]["code"] == "not_found", wrong

    expires = now_ms() + 3600_000
    assert c.call(store_body("src-1", access, refresh, expires,
                             client_secret=client_secret)) == {"ok": True}
    assert token(c, "src-1") == {"ok": True, "access_token": access, "expires_at_ms": expires}

    # a restart of credentials keeps them (SQLite), sealed
    c.proc.terminate()
    assert c.proc.wait(timeout=10) == 0
    c.start()
    assert token(c, "src-1") == {"ok": True, "access_token": access, "expires_at_ms": expires}
    st = status(c, "src-1")["src-1"]
    assert st["state"] == "authorized" and st["expires_at_ms"] == expires, st
    assert not any(s in repr(st) for s in secrets_all)

    # force_refresh (the source said 401): one caller gets the lease...
    got = token(c, "src-1", force_refresh=True)
    lease = got["refresh"]["lease"]
    assert got == {"ok": True, "refresh": {
        "lease": lease, "refresh_token": refresh, "client_id": "mcpbox-client",
        "client_secret": client_secret, "token_endpoint": "https://as.test/token",
        "resource": "https://mcp.test/mcp"}}, got
    # ... another forced one waits; an unforced one still gets the valid token
    waiting = token(c, "src-1", force_refresh=True)
    assert waiting["ok"] and 50 <= waiting["wait_ms"] <= 1000, waiting
    assert token(c, "src-1")["access_token"] == access
    # the holder stores the new token; the server kept the refresh token
    access2 = "at-" + pysecrets.token_urlsafe(40)
    expires2 = now_ms() + 30_000            # under a minute: the next ask refreshes
    assert c.call(store_body("src-1", access2, None, expires2, lease=lease,
                             client_secret=client_secret)) == {"ok": True}
    stale = c.call(store_body("src-1", access2, None, expires2, lease=lease))
    assert stale["error"]["code"] == "conflict", stale
    got = token(c, "src-1")
    assert got["refresh"]["refresh_token"] == refresh, got
    lease = got["refresh"]["lease"]
    # the authorization server refuses the refresh: tokens dropped
    refused = c.call({"op": "source_oauth.fail", "source_id": "src-1", "lease": lease,
                      "error": "invalid_grant: refresh token revoked"})
    assert refused == {"ok": True}, refused
    gone = token(c, "src-1")
    assert gone["error"]["code"] == "not_found", gone
    assert "mcpbox sources authorize src-1" in gone["error"]["message"], gone
    st = status(c, "src-1")["src-1"]
    assert st == {"state": "needs_authorization", "updated_at": st["updated_at"],
                  "last_error": "invalid_grant: refresh token revoked"}, st

    # nothing secret in clear anywhere under the data directory: the
    # database, its WAL and shm, the logs (checked with the WAL still there)
    c.call(store_body("src-2", access, refresh, client_secret=client_secret))
    c.call(begin_body("src-3", state, verifier, client_secret=client_secret))
    assert any(name.endswith("-wal") for name in os.listdir(tmpdir_short)), \
        os.listdir(tmpdir_short)
    for value in secrets_all + [access2]:
        assert_nowhere(tmpdir_short, value)
    assert c.call({"op": "source_oauth.forget", "source_id": "src-2"}) == \
        {"ok": True, "forgotten": True}
    assert token(c, "src-2")["error"]["code"] == "not_found"
    assert status(c, "src-2", "src-3", "src-2") == {"src-2": {"state": "none"},
                                                    "src-3": status(c, "src-3")["src-3"]}


def test_fields_are_bounded_and_typed(procs, tmpdir_short):
    c = Creds(procs, tmpdir_short)
    c.start()
    state, verifier = pysecrets.token_urlsafe(32), pysecrets.token_urlsafe(48)
    bad_begins = [
        ({"source_id": "a/b"}, "bad_request", "source_id"),
        ({"source_id": ""}, "bad_request", "source_id"),
        ({"server_id": 7}, "bad_request", "server_id"),
        ({"state": "short"}, "bad_request", "state"),
        ({"state": "x" * 1025}, "too_large", "state"),
        ({"state": "has space in it 0123"}, "bad_request", "state"),
        ({"verifier": "too-short"}, "bad_request", "verifier"),
        ({"verifier": "v" * 129}, "too_large", "verifier"),
        ({"verifier": "!" * 50}, "bad_request", "verifier"),
        ({"client_secret": "s" * 1025}, "too_large", "client_secret"),
        ({"token_endpoint": "file:///etc/passwd"}, "bad_request", "token_endpoint"),
        ({"redirect_uri": "https://x.test/\u00e9"}, "bad_request", "redirect_uri"),
        ({"resource": "https://x.test/" + "a" * 2040}, "too_large", "resource"),
        ({"scope": "a\nb"}, "bad_request", "scope"),
        ({"extra": 1}, "bad_request", "extra"),
    ]
    for change, code, name in bad_begins:
        reply = c.call({**begin_body("src-1", state, verifier), **change})
        assert reply["error"]["code"] == code and name in reply["error"]["message"], \
            (change, reply)
    missing = begin_body("src-1", state, verifier)
    del missing["issuer"]
    assert c.call(missing)["error"]["code"] == "bad_request"
    assert status(c, "src-1")["src-1"]["state"] == "none"     # nothing was stored

    for change, code in [({"access_token": "a" * 8193}, "too_large"),
                         ({"access_token": ""}, "bad_request"),
                         ({"refresh_token": b"\x00\x01"}, "bad_request"),
                         ({"expires_at_ms": -1}, "bad_request"),
                         ({"expires_at_ms": "soon"}, "bad_request"),
                         ({"lease": "not-a-lease"}, "bad_request")]:
        reply = c.call(store_body("src-1", "at-x", **change))
        assert reply["error"]["code"] == code, (change, reply)
    # a lease for a source that has none is not current
    reply = c.call(store_body("src-1", "at-x", lease="A" * 43))
    assert reply["error"]["code"] == "conflict", reply
    assert token(c, "src-1")["error"]["code"] == "not_found"
    assert token(c, "src-1", force_refresh="yes")["error"]["code"] == "bad_request"
    assert c.call({"op": "source_oauth.fail", "source_id": "src-1", "lease": "A" * 43,
                   "error": "x" * 1001})["error"]["code"] == "too_large"
    assert c.call({"op": "source_oauth.status",
                   "source_ids": ["s"] * 1001})["error"]["code"] == "too_large"
    assert c.call({"op": "source_oauth.status",
                   "source_ids": ["ok", 5]})["error"]["code"] == "bad_request"
    assert c.call({"op": "source_oauth.status"})["error"]["code"] == "bad_request"


@pytest.mark.parametrize("crash_at", ["row:5", "commit"])
def test_rotation_killed_midway_keeps_source_tokens(procs, tmpdir_short, crash_at):
    """Rows re-sealed: 2 server secrets, the state hash key, then the source
    OAuth rows (1 pending, 3 token rows): row:5 dies among the source rows."""
    c = Creds(procs, tmpdir_short)
    c.start()
    for key in ("KEY_A", "KEY_B"):
        assert c.call({"op": "secret_set", "server_id": "srv", "key": key, "value": "v" * 20})["ok"]
    state, verifier = pysecrets.token_urlsafe(32), pysecrets.token_urlsafe(48)
    assert c.call(begin_body("src-p", state, verifier, client_secret="cs-pending"))["ok"]
    tokens = {f"src-{i}": ("at-" + pysecrets.token_urlsafe(30), "rt-" + pysecrets.token_urlsafe(30))
              for i in range(3)}
    for source_id, (access, refresh) in tokens.items():
        assert c.call(store_body(source_id, access, refresh))["ok"]
    before = c.key_file()
    c.proc.terminate()
    c.proc.wait(timeout=10)

    c.start(MCPBOX_TEST_ROTATE_CRASH=crash_at)
    c.bus.send("credentials", {"op": "rotate_key"}, 3000)
    assert c.proc.wait(timeout=10) == -signal.SIGKILL
    assert os.path.exists(os.path.join(tmpdir_short, "credentials.key.next"))

    c.start()
    assert (c.key_file() != before) == (crash_at == "commit")

    def intact():
        for source_id, (access, _) in tokens.items():
            assert token(c, source_id)["access_token"] == access
        refreshing = token(c, "src-0", force_refresh=True)
        assert refreshing["refresh"]["refresh_token"] == tokens["src-0"][1], refreshing
        assert c.call({"op": "source_oauth.fail", "source_id": "src-0", "transient": True,
                       "lease": refreshing["refresh"]["lease"], "error": "test"})["ok"]

    intact()
    reply = c.call({"op": "rotate_key"})
    assert reply == {"ok": True, "reencrypted": 7}, reply
    intact()
    cli = mcpbox("credentials", "rotate-key", "--data-dir", tmpdir_short)
    assert cli.returncode == 0, cli
    intact()
    pending = c.call({"op": "source_oauth.pending", "state": state})
    assert pending["verifier"] == verifier and pending["client_secret"] == "cs-pending", pending
    for access, refresh in tokens.values():
        assert_nowhere(tmpdir_short, access)
        assert_nowhere(tmpdir_short, refresh)


ASK = r"""
import sys, zmq, zmq.auth, msgpack
public, secret = zmq.auth.load_certificate(sys.argv[1])
server, _ = zmq.auth.load_certificate(sys.argv[2])
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.curve_publickey, s.curve_secretkey, s.curve_serverkey = public, secret, server
s.connect(sys.argv[3])
for i, op in enumerate(sys.argv[4:]):
    body = {"op": op, "source_id": "src-1", "state": "s" * 40}
    s.send_multipart([b"MBC1", b"\x01", b"credentials", (i + 1).to_bytes(8, "big"),
                      (3000).to_bytes(4, "big"), msgpack.packb(body)])
    if not s.poll(6000):
        print(op, "no-answer")
        continue
    reply = msgpack.unpackb(s.recv_multipart()[3], raw=False)
    print(op, reply.get("error", {}).get("code") or sorted(reply))
"""


def keygen(tmpdir, name):
    path = os.path.join(tmpdir, "keys", name)
    subprocess.run([bin_path("mcpbox"), "keygen", "--data-dir", tmpdir, "--out", path],
                   check=True, capture_output=True, env=proc_env())
    return path, path + "_secret"


def test_remote_peer_is_refused_every_op(procs, tmpdir_short):
    """Only processes on the local bus (the 0700 run directory) reach these
    ops: over tcp, even an allowed executor key is answered `forbidden` by
    the broker, as for any ask but its own job's job_secrets."""
    broker_pub, broker_secret = keygen(tmpdir_short, "broker")
    known_pub, known_secret = keygen(tmpdir_short, "known")
    allow = os.path.join(tmpdir_short, "allowed")
    os.makedirs(allow)
    with open(known_pub, "rb") as src, open(os.path.join(allow, "known"), "wb") as dst:
        dst.write(src.read())
    r = subprocess.run([bin_path("mcpbox"), "migrate", "--data-dir", tmpdir_short],
                       capture_output=True, text=True, env=proc_env(), timeout=30)
    assert r.returncode == 0, r.stderr
    tcp = f"tcp://127.0.0.1:{free_port()}"
    procs.start([bin_path("mcpbox-broker"), "--data-dir", tmpdir_short, "--tcp-endpoint", tcp,
                 "--curve-secret", broker_secret, "--curve-allow", allow], name="broker")
    wait_for(lambda: os.path.exists(os.path.join(tmpdir_short, "run", "bus")), what="broker")
    c = Creds.__new__(Creds)
    c.procs, c.data = procs, tmpdir_short
    from busclient import BusClient
    c.bus = BusClient("ipc://" + os.path.join(tmpdir_short, "run", "bus"), 5000)
    c.start()
    access = "at-" + pysecrets.token_urlsafe(30)
    assert c.call(store_body("src-1", access, "rt-" + pysecrets.token_urlsafe(30)))["ok"]
    assert token(c, "src-1")["access_token"] == access        # the local bus is served

    ops = ["source_oauth.token", "source_oauth.pending", "source_oauth.begin",
           "source_oauth.store", "source_oauth.fail", "source_oauth.status",
           "source_oauth.forget"]
    out = subprocess.run([sys.executable, "-c", ASK, known_secret, broker_pub, tcp, *ops],
                         capture_output=True, text=True, timeout=60, env=proc_env())
    assert out.returncode == 0, out.stderr
    answers = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines())
    assert answers == {op: "forbidden" for op in ops}, out.stdout
    assert token(c, "src-1")["access_token"] == access        # and nothing changed


def test_export_never_carries_source_oauth_state(api):
    """Export files (actors/backup) gather secret placeholders only: a
    source's tokens, verifier and client secret never reach one."""
    from busclient import BusClient
    from test_export import export, populate
    s = api
    populate(s)
    access, refresh = "at-" + pysecrets.token_urlsafe(30), "rt-" + pysecrets.token_urlsafe(30)
    state, verifier = pysecrets.token_urlsafe(32), pysecrets.token_urlsafe(48)
    with BusClient("ipc://" + os.path.join(s.data_dir, "run", "bus"), 5000) as bus:
        assert bus.call("credentials", store_body("src-x", access, refresh,
                                                  client_secret="cs-exported"))["ok"]
        assert bus.call("credentials", begin_body("src-y", state, verifier,
                                                  client_secret="cs-pending-x"))["ok"]
        file_bytes = export(s)
        assert b"API_KEY" in file_bytes and len(file_bytes) > 500   # a real export
        for value in (access, refresh, state, verifier, "cs-exported", "cs-pending-x", "src-x"):
            assert value.encode() not in file_bytes, value
        assert bus.call("credentials", {"op": "source_oauth.token",
                                        "source_id": "src-x"})["access_token"] == access
