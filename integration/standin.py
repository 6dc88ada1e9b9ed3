"""The one stand-in MBW1 worker and the one stand-in registry of the
integration tests.

These are NOT the real actors. StandInWorker is a Python worker that
registers a service with the real mcpbox-broker and answers its requests
from Python; StandInRegistry is built on it and answers the registry ops of
docs/BUS_OPS.md (section registry) from in-memory servers and tools that the
test controls. test_standin_contract.py sends the same ops to this stand-in
and to the real mcpbox-registry and fails when their answers differ in
shape, so the stand-in cannot drift silently from the actor it plays.

Frames (proto/README.md):
  worker  out: "MBW1" | 0x01 | service | credit (u32 BE) [| about]  READY
               "MBW1" | 0x03 | job (u64 BE) | body              REPLY
               "MBW1" | 0x04                                    HEARTBEAT
               "MBW1" | 0x05                                    DISCONNECT
          in:  "MBW1" | 0x02 | job (u64 BE) | timeout (u32 BE) | body   REQUEST
               "MBW1" | 0x04 / 0x05                             HEARTBEAT / DISCONNECT
Bodies are msgpack maps; a reply is {"ok": true, ...} or
{"ok": false, "error": {"code": ..., "message": ...}}.
"""
import hashlib
import os
import struct
import threading
import time
import uuid

import msgpack
import zmq

from conftest import HEARTBEAT_MS


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def now_iso(ago_s=0):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - ago_s)) + ".000Z"


def error(code, message):
    return {"ok": False, "error": {"code": code, "message": message}}


def sha(code):
    return hashlib.sha256(code.encode()).hexdigest()


class StandInWorker(threading.Thread):
    """A worker for one service on the real broker, on its own thread.

    handle(body) answers a request: by default it calls the `handler` given,
    else the method op_<op with '.' as '_'>; an unknown op is `unknown_op`,
    a stand-in's own exception is `internal`. Every request but health is
    recorded in self.requests (bodies, in order). `health` is answered by
    op_health when the class has one, else (answer_health=True) with a
    generic stand-in reply. stop() takes the worker off the bus (DISCONNECT),
    as a dead actor. A DISCONNECT from the broker is answered with READY."""

    service = None

    def __init__(self, data_dir, service=None, handler=None, credit=16,
                 answer_health=True, about=None):
        super().__init__(daemon=True)
        self.about = about          # a dict sent with READY (what it says of itself)
        self.endpoint = "ipc://" + os.path.join(data_dir, "run", "bus")
        if service:
            self.service = service
        self.handler = handler
        self.credit = credit
        self.answer_health = answer_health
        self.lock = threading.RLock()
        self.halt = threading.Event()
        self.requests = []

    # --- what the tests read ---------------------------------------------------------
    def ops(self):
        with self.lock:
            return [r.get("op") for r in self.requests]

    def sent(self, op):
        with self.lock:
            return [r for r in self.requests if r.get("op") == op]

    def clear(self):
        with self.lock:
            self.requests.clear()

    # --- answering ---------------------------------------------------------------------
    def handle(self, body):
        op = body.get("op") if isinstance(body, dict) else None
        if op == "health" and self.handler is None and not hasattr(self, "op_health"):
            if self.answer_health:
                return {"ok": True, "service": self.service, "stand_in": True}
            return error("unknown_op", "stand-in: unknown op")
        with self.lock:
            if op != "health":
                self.requests.append(body)
            if self.handler is not None:
                return self.handler(body)
            method = getattr(self, "op_" + op.replace(".", "_"), None) \
                if isinstance(op, str) and op else None
            if method is None:
                return error("unknown_op", f"stand-in: unknown op {op!r}")
            return method(body)

    def _answer(self, raw):
        try:
            return self.handle(msgpack.unpackb(raw, raw=False))
        except Exception as exc:  # noqa: a stand-in's own bug, reported to the caller
            return error("internal", f"stand-in failed: {exc!r}")

    def run(self):
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        ready = [b"MBW1", b"\x01", self.service.encode(), struct.pack(">I", self.credit)]
        if self.about is not None:
            ready.append(pack(self.about))
        sock.send_multipart(ready)
        beat_at = time.monotonic() + HEARTBEAT_MS / 1000
        while not self.halt.is_set():
            if sock.poll(50):
                frames = sock.recv_multipart()
                if frames[:2] == [b"MBW1", b"\x02"] and len(frames) == 5:
                    sock.send_multipart([b"MBW1", b"\x03", frames[2], pack(self._answer(frames[4]))])
                elif frames[:2] == [b"MBW1", b"\x05"]:
                    sock.send_multipart(ready)
            if time.monotonic() >= beat_at:
                sock.send_multipart([b"MBW1", b"\x04"])
                beat_at = time.monotonic() + HEARTBEAT_MS / 1000
        sock.send_multipart([b"MBW1", b"\x05"])
        sock.close()

    def stop(self):
        self.halt.set()
        self.join(timeout=5)


class StandInRegistry(StandInWorker):
    """STAND-IN for the registry actor (service "registry"): servers, tools,
    versions and the catalog, in memory. With a `bus` (mcp_fakes.StandInBus)
    it publishes `tools.changed` and asks the real sandbox to validate code
    on tool.create / tool.update / tool.rollback, as the real registry does;
    without one it publishes nothing and tools are added by the test
    (add_tool, add_tool_unchecked, set_code, remove)."""

    service = "registry"

    def __init__(self, data_dir, bus=None, credit=16, answer_health=True):
        super().__init__(data_dir, credit=credit, answer_health=answer_health)
        self.bus = bus
        self.servers = {}       # id -> dict, in creation order (server.list order)
        self.tools = {}         # id -> dict (with its versions list)
        self.revision = 1
        self.fail_catalog = False
        self.with_health = answer_health

    # --- helpers ---------------------------------------------------------------
    def changed(self, server_id):
        self.revision += 1
        if self.bus is not None:
            self.bus.publish("tools.changed", {"revision": self.revision, "server_id": server_id})

    def server_view(self, s):
        view = {k: s[k] for k in ("id", "name", "description", "status",
                                  "default_timeout_ms", "created_at", "updated_at")}
        view["tool_count"] = sum(1 for t in self.tools.values() if t["server_id"] == s["id"])
        return view

    def tool_view(self, t):
        s = self.servers[t["server_id"]]
        return {"id": t["id"], "server_id": t["server_id"], "server_name": s["name"],
                "name": t["name"], "description": t["description"], "enabled": t["enabled"],
                "timeout_ms": t["timeout_ms"], "input_schema": t["input_schema"],
                "tool_type": "python_code",
                "python_code": t["python_code"], "code_hash": t["code_hash"],
                "current_version": t["current_version"], "created_by": t["created_by"],
                "created_at": t["created_at"], "updated_at": t["updated_at"],
                "title": t.get("title", ""), "output_schema": t.get("output_schema"),
                "suggested_annotations": t.get("suggested_annotations"),
                "removed_at": None}

    @staticmethod
    def tool_summary(t):
        return {"id": t["id"], "name": t["name"], "description": t["description"],
                "enabled": t["enabled"], "code_hash": t["code_hash"],
                "current_version": t["current_version"], "removed_at": None}

    def validate(self, code):
        if self.bus is None:
            return None, error("unavailable", "no sandbox to validate the code")
        reply = self.bus.call("sandbox", {"op": "validate", "code": code}, 12000)
        if not reply.get("ok"):
            return None, error("unavailable", "no sandbox to validate the code")
        if not reply.get("valid"):
            message = (reply.get("error") or {}).get("message", "invalid code")
            return None, error("bad_request", f"python_code: {message}")
        return reply, None

    def get_tool(self, body):
        return self.tools.get(body.get("tool_id"))

    @staticmethod
    def version_record(t, code, summary, source, ago_s=0):
        return {"version": t["current_version"], "name": t["name"],
                "description": t["description"], "enabled": t["enabled"],
                "timeout_ms": t["timeout_ms"], "python_code": code, "code_hash": sha(code),
                "input_schema": t["input_schema"], "change_summary": summary,
                "change_source": source, "created_at": now_iso(ago_s),
                "title": t.get("title", ""), "output_schema": t.get("output_schema"),
                "suggested_annotations": t.get("suggested_annotations")}

    # --- ops -------------------------------------------------------------------------
    def op_health(self, body):
        if not self.with_health:
            return error("unknown_op", "stand-in: unknown op 'health'")
        return {"ok": True, "service": "registry", "version": "stand-in", "pid": os.getpid(),
                "uptime_s": 0}

    def op_server_create(self, body):
        name = body.get("name")
        if not isinstance(name, str) or not name or "__" in name or not name[0].isalpha() \
                or not all(c.islower() or c.isdigit() or c == "_" for c in name):
            return error("bad_request", "name: must match ^[a-z][a-z0-9_]*$ without '__'")
        if any(s["name"] == name for s in self.servers.values()):
            return error("conflict", f"a server named '{name}' exists")
        sid = str(uuid.uuid4())
        self.servers[sid] = {"id": sid, "name": name, "description": body.get("description", ""),
                             "status": "ready", "default_timeout_ms": 30000,
                             "created_at": now_iso(), "updated_at": now_iso()}
        return {"ok": True, "server": self.server_view(self.servers[sid])}

    def op_server_get(self, body):
        s = self.servers.get(body.get("server_id"))
        if not s:
            return error("not_found", "no such server")
        tools = [self.tool_summary(t) for t in self.tools.values() if t["server_id"] == s["id"]]
        view = self.server_view(s)
        view.update(tools=tools, tool_count=len(tools))
        return {"ok": True, "server": view}

    def op_server_list(self, body):
        page, size = body.get("page", 1), body.get("page_size", 50)
        servers = list(self.servers.values())
        chunk = servers[(page - 1) * size: page * size]
        return {"ok": True, "servers": [self.server_view(s) for s in chunk],
                "total": len(servers), "page": page, "page_size": size}

    def op_server_delete(self, body):
        sid = body.get("server_id")
        if sid not in self.servers:
            return error("not_found", "no such server")
        del self.servers[sid]
        for tid in [t for t, v in self.tools.items() if v["server_id"] == sid]:
            del self.tools[tid]
        self.changed(sid)
        return {"ok": True, "deleted": True, "server_id": sid}

    def set_status(self, body, status):
        s = self.servers.get(body.get("server_id"))
        if not s:
            return error("not_found", "no such server")
        changed = s["status"] != status
        if changed:
            s["status"] = status
            s["updated_at"] = now_iso()
            self.changed(s["id"])
        answer = {"ok": True, "server": self.server_view(s), "changed": changed}
        if status == "running":
            answer["enabled_tools"] = sum(1 for t in self.tools.values()
                                          if t["server_id"] == s["id"] and t["enabled"])
        return answer

    def op_server_start(self, body):
        return self.set_status(body, "running")

    def op_server_stop(self, body):
        return self.set_status(body, "stopped")

    def op_tool_create(self, body):
        sid = body.get("server_id")
        if sid not in self.servers:
            return error("not_found", "no such server")
        name, code = body.get("name"), body.get("python_code")
        if any(t["server_id"] == sid and t["name"] == name for t in self.tools.values()):
            return error("conflict", f"a tool named '{name}' exists in this server")
        checked, failure = self.validate(code)
        if failure:
            return failure
        tid = str(uuid.uuid4())
        t = {"id": tid, "server_id": sid, "name": name,
             "description": body.get("description") or checked.get("description", ""),
             "enabled": True, "timeout_ms": 30000, "input_schema": checked["input_schema"],
             "python_code": code, "code_hash": sha(code),
             "current_version": 1, "created_by": body.get("created_by", "llm"),
             "created_at": now_iso(), "updated_at": now_iso(),
             "title": body.get("title", ""), "output_schema": checked.get("output_schema"),
             "suggested_annotations": body.get("annotations")}
        t["versions"] = [self.version_record(t, code, "created", body.get("change_source", "llm"))]
        self.tools[tid] = t
        self.changed(sid)
        return {"ok": True, "tool": self.tool_view(t)}

    def op_tool_get(self, body):
        t = self.get_tool(body)
        return {"ok": True, "tool": self.tool_view(t)} if t else error("not_found", "no such tool")

    def op_tool_list(self, body):
        s = self.servers.get(body.get("server_id"))
        if not s:
            return error("not_found", "no such server")
        tools = [self.tool_summary(t) for t in self.tools.values() if t["server_id"] == s["id"]]
        return {"ok": True, "server_id": s["id"], "server_name": s["name"], "tools": tools,
                "total": len(tools)}

    def new_version(self, t, code, source, summary):
        checked, failure = self.validate(code)
        if failure:
            return failure
        t["input_schema"] = checked["input_schema"]
        t["output_schema"] = checked.get("output_schema")
        self.append_version(t, code, source, summary)
        return None

    def append_version(self, t, code, source, summary, ago_s=0):
        t["python_code"] = code
        t["code_hash"] = sha(code)
        t["current_version"] += 1
        t["versions"].append(self.version_record(t, code, summary, source, ago_s))

    def op_tool_update(self, body):
        t = self.get_tool(body)
        if not t:
            return error("not_found", "no such tool")
        changed = False
        for key in ("name", "description", "enabled", "timeout_ms"):
            if key in body and body[key] != t[key]:
                t[key] = body[key]
                changed = True
        code = body.get("python_code")
        if code is not None and code != t["python_code"]:
            failure = self.new_version(t, code, body.get("change_source", "llm"), "updated")
            if failure:
                return failure
            changed = True
        if changed:
            self.changed(t["server_id"])
        return {"ok": True, "tool": self.tool_view(t), "changed": changed}

    def op_tool_delete(self, body):
        t = self.get_tool(body)
        if not t:
            return error("not_found", "no such tool")
        del self.tools[t["id"]]
        self.changed(t["server_id"])
        return {"ok": True, "deleted": True, "tool_id": t["id"]}

    def op_tool_versions(self, body):
        t = self.get_tool(body)
        if not t:
            return error("not_found", "no such tool")
        versions = [{k: v[k] for k in ("version", "title", "code_hash", "change_summary",
                                       "change_source", "created_at")}
                    for v in reversed(t["versions"])]          # newest first, as the actor
        return {"ok": True, "tool_id": t["id"], "tool_name": t["name"],
                "current_version": t["current_version"], "total_versions": len(versions),
                "versions": versions}

    def op_tool_version(self, body):
        t = self.get_tool(body)
        if not t:
            return error("not_found", "no such tool")
        for v in t["versions"]:
            if v["version"] == body.get("version"):
                return {"ok": True, "tool_id": t["id"], "version": dict(v)}
        return error("not_found", "no such version")

    def op_tool_rollback(self, body):
        t = self.get_tool(body)
        if not t:
            return error("not_found", "no such tool")
        old = [v for v in t["versions"] if v["version"] == body.get("version")]
        if not old:
            return error("not_found", "no such version")
        failure = self.new_version(t, old[0]["python_code"], "rollback",
                                   f"rollback to version {body['version']}")
        if failure:
            return failure
        self.changed(t["server_id"])
        return {"ok": True, "tool": self.tool_view(t), "restored_version": body["version"]}

    def op_catalog(self, body):
        if self.fail_catalog:
            return error("internal", "stand-in told to fail: /secret/path/registry.db")
        tools = []
        for t in self.tools.values():
            s = self.servers[t["server_id"]]
            if s["status"] != "running" or not t["enabled"]:
                continue
            tools.append({"tool_id": t["id"], "server_id": s["id"], "server_name": s["name"],
                          "name": t["name"], "full_name": f"{s['name']}__{t['name']}",
                          "description": t["description"], "input_schema": t["input_schema"],
                          "code_hash": t["code_hash"], "python_code": t["python_code"],
                          "timeout_ms": t["timeout_ms"], "title": t.get("title", ""),
                          "output_schema": t.get("output_schema"),
                          "tool_type": "python_code", "source": None})
        return {"ok": True, "revision": self.revision, "tools": tools, "removed": []}

    # --- direct set-up for the tests (what an admin import would do) -----------
    def add_server(self, name, status="running", description="", server_id=None, ago_s=0):
        """A server, without the name checks; returns its id."""
        with self.lock:
            sid = server_id or str(uuid.uuid4())
            self.servers[sid] = {"id": sid, "name": name, "description": description,
                                 "status": status, "default_timeout_ms": 30000,
                                 "created_at": now_iso(ago_s), "updated_at": now_iso(min(ago_s, 60))}
            return sid

    def server(self, server_id):
        with self.lock:
            return self.server_view(self.servers[server_id])

    def add_tool_unchecked(self, server_id, name, code, schema=None, description="",
                           codes=None):
        """A tool without asking the sandbox; `codes` are its versions 1..n
        (the last is current), else `code` is its only version. Returns its id."""
        codes = list(codes) if codes else [code]
        with self.lock:
            tid = str(uuid.uuid4())
            t = {"id": tid, "server_id": server_id, "name": name, "description": description,
                 "enabled": True, "timeout_ms": 30000,
                 "input_schema": schema or {"type": "object", "properties": {}, "required": []},
                 "python_code": codes[0], "code_hash": sha(codes[0]), "current_version": 1,
                 "created_by": "admin", "created_at": now_iso(600), "updated_at": now_iso(10)}
            t["versions"] = [self.version_record(t, codes[0], "", "manual", 600)]
            for n, c in enumerate(codes[1:]):
                self.append_version(t, c, "manual", f"change {n + 2}", 599 - n)
            self.tools[tid] = t
            return tid

    def add_tool(self, server_id=None, name=None, code="async def main():\n    return 1\n",
                 codes=None):
        """A tool (and its server, when server_id names none yet); returns its record."""
        with self.lock:
            if server_id not in self.servers:
                sid = server_id or str(uuid.uuid4())
                self.add_server("srv_" + sid[:8], server_id=sid)
                server_id = sid
            tid = self.add_tool_unchecked(server_id, name or "tool_" + uuid.uuid4().hex[:8],
                                          code, description="a tool", codes=codes)
            return self.tool_view(self.tools[tid])

    def set_code(self, tool_id, code):
        """A new current version with this code; returns its hash."""
        with self.lock:
            self.append_version(self.tools[tool_id], code, "manual", "set by the test")
            return self.tools[tool_id]["code_hash"]

    def remove(self, tool_id):
        with self.lock:
            del self.tools[tool_id]
