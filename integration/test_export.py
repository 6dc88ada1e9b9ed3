"""Export and import (mcpbox export/import, GET /api/export, POST /api/import) on a
real `mcpbox up`: the round trip is equal, a one-byte change anywhere is refused with
nothing imported, a secret value is never in a file, approvals are not carried over
unless --trust-approvals on this installation's own file, a foreign file needs
--allow-foreign, unknown fields are refused, the route's body is bounded."""
import json
import os
import subprocess

from api_client import api  # noqa: F401
from conftest import bin_path
from test_restart_safety import CODE_V1, CODE_V2

SECRET = "v3ry-s3cret-value-9f2c"


def cli(s, *args, stdin=None):
    return subprocess.run([bin_path("mcpbox"), *args, "--data-dir", s.data_dir],
                          capture_output=True, timeout=120, input=stdin)


def export(s, *args):
    r = cli(s, "export", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def content(file_bytes):
    doc = json.loads(file_bytes)
    assert doc["format"] == "mcpbox-export" and doc["version"] == 1
    c = doc["content"]
    c.pop("exported_at")
    return c


def populate(s):
    """A server with two tools (one approved, with two versions), an allowed host and
    module, a secret with a value; the policy changed."""
    a = s.admin
    sid = a.ok("POST", "/api/servers", {"name": "weather", "description": "d"}, expect=201)["server"]["id"]
    t1 = s.manage("mcpbox_create_tool", {"server_id": sid, "name": "echo", "description": "e",
                                         "python_code": CODE_V1})["id"]
    a.ok("PATCH", f"/api/tools/{t1}", {"python_code": CODE_V2})
    s.manage("mcpbox_request_publish", {"tool_id": t1})
    a.ok("POST", f"/api/approvals/tools/{t1}/approve", {"annotations": {"readOnlyHint": True}})
    s.manage("mcpbox_create_tool", {"server_id": sid, "name": "draft", "python_code": CODE_V1})
    a.ok("POST", f"/api/servers/{sid}/hosts", {"host": "api.example.org", "port": 443}, expect=201)
    a.ok("POST", f"/api/servers/{sid}/modules", {"module_name": "xml"}, expect=201)
    a.ok("POST", f"/api/servers/{sid}/secrets", {"key": "API_KEY", "value": SECRET,
                                                 "description": "the key"}, expect=201)
    a.ok("PUT", "/api/settings", {"log_retention_days": 90})
    a.ok("POST", f"/api/servers/{sid}/start", {})
    return sid, t1


def wipe(s, sid):
    s.admin.ok("DELETE", f"/api/servers/{sid}")


def server_named(s, name):
    servers = s.admin.ok("GET", "/api/servers")["servers"]
    return [x for x in servers if x["name"] == name]


def tool_statuses(s, name):
    sid = server_named(s, name)[0]["id"]
    got = s.admin.ok("GET", f"/api/servers/{sid}")
    return {t["name"]: t.get("approval_status") for t in got["tools"]}, sid


def test_round_trip_trusted_is_equal_and_never_carries_a_secret(api):
    s = api
    sid, _ = populate(s)
    first = export(s)
    assert SECRET.encode() not in first
    assert b"API_KEY" in first and b"the key" in first
    c1 = content(first)
    tools = {t["name"]: t for t in c1["servers"][0]["tools"]}
    assert len(tools["echo"]["versions"]) == 2 and tools["echo"]["approved"]
    assert c1["servers"][0]["allowed_hosts"] == [{"host": "api.example.org", "port": 443}]
    assert c1["servers"][0]["allowed_modules"] == ["xml"]
    assert c1["policy"]["log_retention_days"] == 90
    wipe(s, sid)
    s.admin.ok("PUT", "/api/settings", {"log_retention_days": 30})
    r = cli(s, "import", "-", "--trust-approvals", "--json", stdin=first)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["complete"] and report["own"] and report["trusted"], report
    assert report["imported"]["approvals"] == 1 and report["imported"]["secrets"] == 1
    second = export(s)
    assert content(second) == c1
    # the signing key is re-sealed with the values when the master key rotates: a file
    # exported before is still this installation's (same key id, signature checks)
    r = cli(s, "credentials", "rotate-key")
    assert r.returncode == 0, r.stderr
    assert json.loads(export(s))["key_id"] == json.loads(first)["key_id"]
    statuses, sid2 = tool_statuses(s, "weather")
    assert statuses["echo"] == "approved", statuses
    secrets = s.admin.ok("GET", f"/api/servers/{sid2}/secrets")["secrets"]
    assert secrets == [dict(secrets[0], key="API_KEY", has_value=False)], secrets


def test_import_without_trust_gives_drafts_and_pending_requests(api):
    s = api
    sid, _ = populate(s)
    first = export(s)
    wipe(s, sid)
    s.admin.ok("PUT", "/api/settings", {"log_retention_days": 30})
    r = cli(s, "import", "-", "--json", stdin=first)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["complete"] and not report["trusted"] and report["imported"]["approvals"] == 0
    assert any("not carried over" in w for w in report["warnings"]), report
    statuses, sid2 = tool_statuses(s, "weather")
    assert statuses == {"echo": "draft", "draft": "draft"}, statuses
    pending = s.admin.ok("GET", "/api/approvals")
    hosts = [x for x in pending["pending_network_requests"] if x["server_id"] == sid2]
    mods = [x for x in pending["pending_module_requests"] if x["server_id"] == sid2]
    assert [h["host"] for h in hosts] == ["api.example.org"] and [m["module_name"] for m in mods] == ["xml"]
    assert s.admin.ok("GET", "/api/settings")["settings"]["log_retention_days"] == 30
    # a second import of the same file: the name exists, refused, nothing written
    r = cli(s, "import", "-", stdin=first)
    assert r.returncode == 1 and b"already exists" in r.stderr, r.stderr
    assert len(server_named(s, "weather")) == 1


def test_one_byte_change_anywhere_is_refused_with_nothing_imported(api):
    s = api
    sid, _ = populate(s)
    first = export(s)
    wipe(s, sid)
    doc = json.loads(first)
    code_at = first.index(b"async def main")
    header_end = first.index(b'"content":')
    key_at = first.index(doc["key_id"].encode())
    positions = [5, key_at + 3, header_end - 3, header_end + 12, code_at + 3, len(first) - 2]
    for pos in positions:
        changed = bytearray(first)
        changed[pos] = ord("7") if changed[pos] != ord("7") else ord("8")
        # a changed key id makes it another installation's file, which only
        # --allow-foreign imports (as drafts): that case is test_foreign_file_and_trust
        for flags in ([], ["--allow-foreign"]) if pos != key_at + 3 else ([],):
            r = cli(s, "import", "-", *flags, stdin=bytes(changed))
            assert r.returncode == 1, (pos, flags, r.stdout, r.stderr)
            if pos == code_at + 3:
                assert b"signature does not match" in r.stderr, r.stderr
    assert server_named(s, "weather") == []
    assert doc["key_id"] and len(doc["signature"]) == 64


def test_foreign_file_and_trust(api):
    s = api
    sid, _ = populate(s)
    first = export(s)
    wipe(s, sid)
    doc = first.decode()
    key_id = json.loads(first)["key_id"]
    foreign = doc.replace(key_id, "0123456789abcdef", 1).encode()
    r = cli(s, "import", "-", stdin=foreign)
    assert r.returncode == 1 and b"another installation" in r.stderr, r.stderr
    r = cli(s, "import", "-", "--allow-foreign", "--trust-approvals", stdin=foreign)
    assert r.returncode == 1 and b"trust-approvals needs" in r.stderr, r.stderr
    assert server_named(s, "weather") == []
    r = cli(s, "import", "-", "--allow-foreign", "--json", stdin=foreign)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert not report["own"] and any("another installation" in w for w in report["warnings"])
    statuses, _ = tool_statuses(s, "weather")
    assert statuses == {"echo": "draft", "draft": "draft"}, statuses


def test_unknown_fields_and_types_are_refused(api):
    s = api
    sid, _ = populate(s)
    first = export(s)
    wipe(s, sid)
    # a foreign file can be written by anyone: its content is still checked in full
    doc = json.loads(first)
    for mutate, words in [
        (lambda c: c.__setitem__("extra", 1), b"unknown field 'extra'"),
        (lambda c: c["servers"][0].__setitem__("status", 5), b"wrong type"),
        (lambda c: c["servers"][0]["tools"][0]["versions"][0].__setitem__("secret", "x"),
         b"unknown field 'secret'"),
        (lambda c: c["servers"][0]["tools"][0]["versions"][0].__setitem__("python_code", "x = 1"),
         b"code_hash"),
        (lambda c: c["servers"][0].__setitem__("name", "Bad Name"), b"name"),
        # refused by approval (and by credentials) after the registry's check passed:
        # every owner checks its part before any writes, so still nothing is imported
        (lambda c: c["servers"][0].__setitem__("allowed_modules", ["subprocess"]), b"forbidden"),
        (lambda c: c["servers"][0].__setitem__("secrets", [{"key": "bad key", "description": ""}]),
         b"items[0]"),
    ]:
        c = json.loads(json.dumps(doc["content"]))
        mutate(c)
        body = json.dumps(c, indent=1, sort_keys=True)
        head = ('{"format":"mcpbox-export","version":1,"key_id":"0123456789abcdef",'
                '"signature":"' + "0" * 64 + '","content":')
        r = cli(s, "import", "-", "--allow-foreign", stdin=(head + body + "}\n").encode())
        assert r.returncode == 1 and words in r.stderr, (words, r.stderr)
    assert server_named(s, "weather") == []


def raw_get(s, path, headers):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_routes_session_csrf_and_bounded_body(api):
    s = api
    sid, _ = populate(s)
    cookie = {"Cookie": f"mcpbox_session={s.admin.session}"}
    status, _ = raw_get(s, "/api/export", {})
    assert status == 401
    status, body = raw_get(s, "/api/export?servers=weather", cookie)
    assert status == 200 and SECRET.encode() not in body, body[:200]
    assert content(body) == content(export(s, "--servers", "weather"))
    status, missing = raw_get(s, "/api/export?servers=nope", cookie)
    assert status == 404, missing
    wipe(s, sid)
    # CSRF: the cookie alone does not import
    status, reply = s.admin.req("POST", "/api/import", raw=body, csrf=False)
    assert status == 403, reply
    assert server_named(s, "weather") == []
    # a changed byte: refused, nothing imported
    changed = body.replace(b"Repeats a name", b"Repeats a nbme", 1)
    status, reply = s.admin.req("POST", "/api/import?trust_approvals=true", raw=changed)
    assert status == 403 and "signature does not match" in reply["error"]["message"], reply
    assert server_named(s, "weather") == []
    status, reply = s.admin.req("POST", "/api/import?trust_approvals=true", raw=body)
    assert status == 200 and reply["complete"] and reply["trusted"], reply
    assert reply["imported"]["approvals"] == 1, reply
    statuses, _ = tool_statuses(s, "weather")
    assert statuses["echo"] == "approved", statuses
    # the route's bound: 7 MiB; above it 413 before the body is read
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    conn.putrequest("POST", "/api/import")
    for k, v in {"Cookie": f"mcpbox_session={s.admin.session}", "X-CSRF-Token": s.admin.csrf,
                 "Content-Type": "application/json", "Content-Length": str((7 << 20) + 1)}.items():
        conn.putheader(k, v)
    conn.endheaders()
    resp = conn.getresponse()
    reply = json.loads(resp.read())
    conn.close()
    assert resp.status == 413 and "7 MiB" in reply["error"]["message"], reply
    # a body just under the bound is read and refused for what it is
    status, reply = s.admin.req("POST", "/api/import", raw=b'{"x":"' + b"a" * ((7 << 20) - 16) + b'"}')
    assert status == 400 and "not an mcpbox export file" in reply["error"]["message"], reply


def test_owners_refuse_on_their_own(api):
    """Each owner checks what it is asked to write, whoever asks (defence in depth:
    the backup actor's shape check is not the only one)."""
    from busclient import BusClient
    s = api
    bus = BusClient("ipc://" + os.path.join(s.data_dir, "run", "bus"), 10000)
    good = {"name": "x1", "description": "", "status": "ready", "default_timeout_ms": 30000,
            "created_at": "2026-12-06T05:00:00.000Z", "updated_at": "2026-12-06T05:00:00.000Z",
            "tools": []}
    r = bus.call("registry", {"op": "import.apply", "servers": [dict(good, extra=1)]})
    assert not r["ok"] and "unknown field 'extra'" in r["error"]["message"], r
    r = bus.call("registry", {"op": "import.apply", "servers": [dict(good, created_at="yesterday")]})
    assert not r["ok"] and "created_at" in r["error"]["message"], r
    assert server_named(s, "x1") == []
    sid = "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
    r = bus.call("approval", {"op": "import.apply", "imported_by": "t", "trust": False,
                              "tools": [{"tool_id": sid, "server_id": sid, "tool_name": "a",
                                         "code_hash": "0" * 64}]})
    assert not r["ok"] and r["error"]["code"] == "forbidden", r
    r = bus.call("approval", {"op": "import.apply", "imported_by": "t", "trust": False,
                              "settings": {"tool_approval_mode": "auto_approve"}})
    assert not r["ok"] and r["error"]["code"] == "forbidden", r
    r = bus.call("approval", {"op": "import.apply", "imported_by": "t", "trust": True,
                              "modules": [{"server_id": sid, "module_name": "xml", "x": 1}]})
    assert not r["ok"] and "unknown field 'x'" in r["error"]["message"], r
    r = bus.call("approval", {"op": "import.apply", "imported_by": "t", "trust": True,
                              "modules": [{"server_id": sid, "module_name": "subprocess"}]})
    assert not r["ok"] and r["error"]["code"] == "forbidden", r
    r = bus.call("credentials", {"op": "secrets.import",
                                 "items": [{"server_id": sid, "key": "K", "value": "v"}]})
    assert not r["ok"] and r["error"]["code"] == "bad_request", r
    r = bus.call("credentials", {"op": "secrets.import",
                                 "items": [{"server_id": "credentials:export", "key": "K"}]})
    assert not r["ok"] and r["error"]["code"] == "bad_request", r
    # the signing key's row can be named by no secret op
    for op in ("secret_list", "job_secrets"):
        r = bus.call("credentials", {"op": op, "server_id": "credentials:export"})
        assert not r["ok"] and r["error"]["code"] == "bad_request", (op, r)
    signed = bus.call("credentials", {"op": "export.sign", "version": 1, "content": "{}"})
    assert signed["ok"] and len(signed["signature"]) == 64, signed
    ok = bus.call("credentials", {"op": "export.verify", "version": 1, "content": "{}",
                                  "key_id": signed["key_id"], "signature": signed["signature"]})
    assert ok["ok"] and ok["own"] and ok["verified"], ok
    bad = bus.call("credentials", {"op": "export.verify", "version": 1, "content": "{ }",
                                   "key_id": signed["key_id"], "signature": signed["signature"]})
    assert not bad["ok"] and bad["error"]["code"] == "forbidden", bad


def test_restore_into_a_fresh_installation(api, procs):
    """A second installation (its own data directory, so its own key): the file is
    another installation's there — refused, then with --allow-foreign restored as
    drafts; its export then equals the original but for what needs trust."""
    import shutil
    import tempfile
    from test_restart_safety import System
    s = api
    populate(s)
    first = export(s)
    other_dir = tempfile.mkdtemp(prefix="mb", dir="/tmp")
    try:
        other = System(procs, other_dir)
        r = cli(other, "import", "-", "--trust-approvals", stdin=first)
        assert r.returncode == 1 and b"trust-approvals needs" in r.stderr, r.stderr
        r = cli(other, "import", "-", stdin=first)
        assert r.returncode == 1 and b"another installation" in r.stderr, r.stderr
        r = cli(other, "import", "-", "--allow-foreign", "--json", stdin=first)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["imported"]["approvals"] == 0
        again = export(other)
        assert json.loads(again)["key_id"] != json.loads(first)["key_id"]
        want = content(first)
        for server in want["servers"]:
            server["allowed_hosts"], server["allowed_modules"] = [], []
            for tool in server["tools"]:
                tool["approved"] = []
        got = content(again)
        want["policy"] = got["policy"]          # not applied without trust
        assert got == want
        other.up.terminate()
        other.up.wait(timeout=15)
    finally:
        shutil.rmtree(other_dir, ignore_errors=True)
