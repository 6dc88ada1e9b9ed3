"""Stand-ins for the registry and approval actors, for testing /mcp.

These are NOT the real actors: they are small in-memory Python workers that
answer the bus ops the gateway's MCP endpoint uses, as docs/BUS_OPS.md
describes them, so the endpoint can be tested while (or without) the real
registry and approval actors. They speak the real wire (MBW1 worker frames,
msgpack bodies) to the real broker, and publish the real events
(`tools.changed`, `approval.changed`) on the broker's event input. The
sandbox is the real mcpbox-executor: the registry stand-in asks it to
validate code (for the input schema) exactly as the real registry does.

    StandInBus        a client (MBC1) and an event publisher
    StandInWorker     the worker side: READY, heartbeats, DISCONNECT, replies
    StandInRegistry   servers, tools, versions, catalog
    StandInApproval   reviews bound to (tool_id, code_hash), module and
                      network requests, `effective`; plus admin_* methods
                      the tests call to play the human reviewer
"""
import hashlib
import os
import struct
import threading
import time
import uuid

import msgpack
import zmq

from python_modules import DEFAULT_MODULES, FORBIDDEN_MODULES  # common/python_modules.txt


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"


def error(code, message):
    return {"ok": False, "error": {"code": code, "message": message}}


class StandInBus:
    """A bus client (request/reply) and an event publisher for the stand-ins
    and the tests. Thread-safe by a lock (one request at a time)."""

    def __init__(self, data_dir):
        run = os.path.join(data_dir, "run")
        self.ctx = zmq.Context.instance()
        self.lock = threading.Lock()
        self.client = self.ctx.socket(zmq.DEALER)
        self.client.linger = 0
        self.client.connect("ipc://" + os.path.join(run, "bus"))
        self.pub = self.ctx.socket(zmq.PUB)
        self.pub.linger = 0
        self.pub.connect("ipc://" + os.path.join(run, "ev-in"))
        self.next_id = 1

    def call(self, service, body, timeout_ms=15000):
        with self.lock:
            rid = self.next_id
            self.next_id += 1
            self.client.send_multipart([b"MBC1", b"\x01", service.encode(),
                                        struct.pack(">Q", rid),
                                        struct.pack(">I", timeout_ms), pack(body)])
            deadline = time.monotonic() + timeout_ms / 1000 + 2
            while time.monotonic() < deadline:
                if self.client.poll(100):
                    frames = self.client.recv_multipart()
                    if len(frames) == 4 and struct.unpack(">Q", frames[2])[0] == rid:
                        return msgpack.unpackb(frames[3], raw=False)
            return error("timeout", "stand-in bus client timed out")

    def publish(self, topic, body):
        with self.lock:
            self.pub.send_multipart([topic.encode(), pack(body)])

    def close(self):
        self.client.close()
        self.pub.close()


class StandInWorker:
    """Registers `service` with the broker and answers requests with
    handler(body) -> reply dict, one at a time, on its own thread."""

    def __init__(self, data_dir, service, handler, heartbeat_ms=250):
        self.endpoint = "ipc://" + os.path.join(data_dir, "run", "bus")
        self.service = service
        self.handler = handler
        self.heartbeat = heartbeat_ms / 1000
        self.ctx = zmq.Context.instance()
        self.stopping = False
        self.requests = []                 # (op, body) seen, for the tests
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def connect(self):
        sock = self.ctx.socket(zmq.DEALER)
        sock.linger = 0
        sock.connect(self.endpoint)
        sock.send_multipart([b"MBW1", b"\x01", self.service.encode(), struct.pack(">I", 16)])
        return sock

    def run(self):
        sock = self.connect()
        next_beat = time.monotonic() + self.heartbeat
        while not self.stopping:
            if sock.poll(50):
                frames = sock.recv_multipart()
                if len(frames) >= 2 and frames[0] == b"MBW1":
                    if frames[1] == b"\x02" and len(frames) == 5:
                        body = msgpack.unpackb(frames[4], raw=False)
                        self.requests.append((body.get("op"), body))
                        try:
                            reply = self.handler(body)
                        except Exception as exc:  # noqa: a stand-in's bug, reported
                            reply = error("internal", f"stand-in failed: {exc!r}")
                        sock.send_multipart([b"MBW1", b"\x03", frames[2], pack(reply)])
                    elif frames[1] == b"\x05":
                        sock.close()
                        sock = self.connect()
            if time.monotonic() >= next_beat:
                sock.send_multipart([b"MBW1", b"\x04"])
                next_beat = time.monotonic() + self.heartbeat
        sock.send_multipart([b"MBW1", b"\x05"])
        sock.close()

    def ops(self):
        return [op for op, _ in self.requests]

    def stop(self):
        self.stopping = True
        self.thread.join(5)


class StandInRegistry:
    """The registry's ops over in-memory servers and tools."""

    def __init__(self, bus):
        self.bus = bus
        self.lock = threading.RLock()
        self.servers = {}       # id -> dict
        self.tools = {}         # id -> dict (with versions list)
        self.revision = 1
        self.fail_catalog = False

    # --- helpers ---------------------------------------------------------------
    def changed(self, server_id):
        self.revision += 1
        self.bus.publish("tools.changed", {"revision": self.revision, "server_id": server_id})

    def server_view(self, s):
        return {k: s[k] for k in ("id", "name", "description", "status",
                                  "default_timeout_ms", "created_at", "updated_at")}

    def tool_view(self, t):
        s = self.servers[t["server_id"]]
        return {"id": t["id"], "server_id": t["server_id"], "server_name": s["name"],
                "name": t["name"], "description": t["description"], "enabled": t["enabled"],
                "timeout_ms": t["timeout_ms"], "input_schema": t["input_schema"],
                "python_code": t["python_code"], "code_hash": t["code_hash"],
                "current_version": t["current_version"], "created_by": t["created_by"],
                "created_at": t["created_at"], "updated_at": t["updated_at"]}

    def validate(self, code):
        reply = self.bus.call("sandbox", {"op": "validate", "code": code}, 12000)
        if not reply.get("ok"):
            return None, error("unavailable", "no sandbox to validate the code")
        if not reply.get("valid"):
            message = (reply.get("error") or {}).get("message", "invalid code")
            return None, error("bad_request", f"python_code: {message}")
        return reply, None

    def get_tool(self, body):
        t = self.tools.get(body.get("tool_id"))
        return t

    # --- ops -------------------------------------------------------------------------
    def handle(self, body):
        op = body.get("op")
        with self.lock:
            method = getattr(self, "op_" + op.replace(".", "_"), None) if op else None
            if not method:
                return error("unknown_op", f"no op {op}")
            return method(body)

    def op_health(self, body):
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
        tools = [{"id": t["id"], "name": t["name"], "description": t["description"],
                  "enabled": t["enabled"], "code_hash": t["code_hash"],
                  "current_version": t["current_version"]}
                 for t in self.tools.values() if t["server_id"] == s["id"]]
        view = self.server_view(s)
        view.update(tools=tools, tool_count=len(tools))
        return {"ok": True, "server": view}

    def op_server_list(self, body):
        page, size = body.get("page", 1), body.get("page_size", 50)
        servers = sorted(self.servers.values(), key=lambda s: s["name"])
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
        return {"ok": True, "deleted": True}

    def set_status(self, body, status):
        s = self.servers.get(body.get("server_id"))
        if not s:
            return error("not_found", "no such server")
        s["status"] = status
        s["updated_at"] = now_iso()
        self.changed(s["id"])
        return {"ok": True, "server": self.server_view(s)}

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
             "python_code": code, "code_hash": hashlib.sha256(code.encode()).hexdigest(),
             "current_version": 1, "created_by": body.get("created_by", "llm"),
             "created_at": now_iso(), "updated_at": now_iso(),
             "versions": [{"version": 1, "python_code": code, "change_summary": "created",
                           "change_source": body.get("change_source", "llm"),
                           "created_at": now_iso()}]}
        t["versions"][0]["code_hash"] = t["code_hash"]
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
        tools = [{"id": t["id"], "name": t["name"], "description": t["description"],
                  "enabled": t["enabled"], "code_hash": t["code_hash"],
                  "current_version": t["current_version"]}
                 for t in self.tools.values() if t["server_id"] == s["id"]]
        return {"ok": True, "server_id": s["id"], "server_name": s["name"], "tools": tools,
                "total": len(tools)}

    def new_version(self, t, code, source, summary):
        checked, failure = self.validate(code)
        if failure:
            return failure
        t["python_code"] = code
        t["code_hash"] = hashlib.sha256(code.encode()).hexdigest()
        t["input_schema"] = checked["input_schema"]
        t["current_version"] += 1
        t["versions"].append({"version": t["current_version"], "python_code": code,
                              "code_hash": t["code_hash"], "change_summary": summary,
                              "change_source": source, "created_at": now_iso()})
        return None

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
        return {"ok": True, "deleted": True}

    def op_tool_versions(self, body):
        t = self.get_tool(body)
        if not t:
            return error("not_found", "no such tool")
        versions = [{k: v[k] for k in ("version", "code_hash", "change_summary",
                                       "change_source", "created_at")} for v in t["versions"]]
        return {"ok": True, "tool_id": t["id"], "tool_name": t["name"],
                "current_version": t["current_version"], "total_versions": len(versions),
                "versions": versions}

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
        return {"ok": True, "tool": self.tool_view(t)}

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
                          "timeout_ms": t["timeout_ms"]})
        return {"ok": True, "revision": self.revision, "tools": tools}

    # --- direct set-up for the tests (what an admin import would do) -----------
    def add_server(self, name, status="running"):
        with self.lock:
            reply = self.op_server_create({"name": name})
            self.servers[reply["server"]["id"]]["status"] = status
            return reply["server"]["id"]

    def add_tool_unchecked(self, server_id, name, code, schema=None, description=""):
        """A tool without asking the sandbox (for bulk set-ups)."""
        with self.lock:
            tid = str(uuid.uuid4())
            h = hashlib.sha256(code.encode()).hexdigest()
            self.tools[tid] = {
                "id": tid, "server_id": server_id, "name": name, "description": description,
                "enabled": True, "timeout_ms": 30000,
                "input_schema": schema or {"type": "object", "properties": {}, "required": []},
                "python_code": code, "code_hash": h, "current_version": 1,
                "created_by": "admin", "created_at": now_iso(), "updated_at": now_iso(),
                "versions": [{"version": 1, "python_code": code, "code_hash": h,
                              "change_summary": "", "change_source": "manual",
                              "created_at": now_iso()}]}
            return tid


class StandInApproval:
    """The approval ops over in-memory reviews and requests."""

    def __init__(self, bus, registry):
        self.bus = bus
        self.registry = registry          # the stand-in asks it directly for hashes
        self.lock = threading.RLock()
        self.reviews = {}                 # (tool_id, code_hash) -> review dict
        self.modules = []                 # request dicts
        self.network = []
        self.revision = 1
        self.policy = "allowlist"

    def changed(self, **extra):
        self.revision += 1
        self.bus.publish("approval.changed", dict(revision=self.revision, **extra))

    def current(self, tool_id):
        t = self.registry.tools.get(tool_id)
        return (tool_id, t["code_hash"]) if t else None

    def status_of(self, tool_id):
        key = self.current(tool_id)
        review = self.reviews.get(key) if key else None
        return review["status"] if review else "draft"

    def handle(self, body):
        op = body.get("op")
        with self.lock, self.registry.lock:
            method = getattr(self, "op_" + op.replace(".", "_"), None) if op else None
            if not method:
                return error("unknown_op", f"no op {op}")
            return method(body)

    def op_health(self, body):
        return {"ok": True, "service": "approval", "version": "stand-in", "pid": os.getpid(),
                "uptime_s": 0}

    def op_publish_request(self, body):
        key = self.current(body.get("tool_id"))
        if not key:
            return error("not_found", "no such tool")
        status = self.status_of(key[0])
        if status in ("pending_review", "approved"):
            return error("conflict", f"the tool is already {status}")
        self.reviews[key] = {"status": "pending_review", "requested_at": now_iso(),
                             "publish_notes": body.get("notes"), "approved_by": None}
        self.changed(tool_id=key[0])
        name = self.registry.tools[key[0]]["name"]
        return {"ok": True, "tool_id": key[0], "name": name, "status": "pending_review",
                "message": "Submitted for review."}

    def request(self, kind, body, field):
        tool = self.registry.tools.get(body.get("tool_id"))
        if not tool:
            return error("not_found", "no such tool")
        value = body.get(field)
        if field == "module_name" and any(value == f or value.startswith(f + ".")
                                          for f in FORBIDDEN_MODULES):
            return error("forbidden", f"module '{value}' can never be allowed")
        if field == "host":
            value = value.strip().lower().rstrip(".")
        store = self.modules if kind == "module" else self.network
        if any(r["tool_id"] == tool["id"] and r[field] == value and r["status"] == "pending"
               for r in store):
            return error("conflict", "already pending for this tool")
        request = {"id": str(uuid.uuid4()), "tool_id": tool["id"],
                   "server_id": tool["server_id"], field: value,
                   "justification": body.get("justification"), "status": "pending",
                   "requested_by": body.get("requested_by"), "created_at": now_iso()}
        if kind == "network":
            request["port"] = body.get("port")
        store.append(request)
        self.changed(tool_id=tool["id"])
        keys = ("id", field, "status") + (("port",) if kind == "network" else ())
        return {"ok": True, "request": {k: request[k] for k in keys}}

    def op_module_request(self, body):
        return self.request("module", body, "module_name")

    def op_network_request(self, body):
        return self.request("network", body, "host")

    def op_tool_status(self, body):
        tid = body.get("tool_id")
        tool = self.registry.tools.get(tid)
        if not tool:
            return error("not_found", "no such tool")
        review = self.reviews.get(self.current(tid)) or {}
        return {"ok": True, "tool_id": tid, "name": tool["name"],
                "approval_status": self.status_of(tid),
                "requested_at": review.get("requested_at"),
                "approved_at": review.get("approved_at"),
                "approved_by": review.get("approved_by"),
                "rejected_at": None, "rejected_by": None, "rejection_reason": None,
                "publish_notes": review.get("publish_notes"),
                "module_requests": [r for r in self.modules if r["tool_id"] == tid],
                "network_access_requests": [r for r in self.network if r["tool_id"] == tid]}

    def op_pending_list(self, body):
        tools = []
        for (tid, h), review in self.reviews.items():
            t = self.registry.tools.get(tid)
            if review["status"] == "pending_review" and t and t["code_hash"] == h:
                tools.append({"tool_id": tid, "name": t["name"], "server_id": t["server_id"],
                              "requested_at": review["requested_at"]})
        modules = [r for r in self.modules if r["status"] == "pending"]
        network = [r for r in self.network if r["status"] == "pending"]
        return {"ok": True, "pending_tools": tools, "pending_module_requests": modules,
                "pending_network_requests": network,
                "summary": {"tools": len(tools), "modules": len(modules),
                            "network": len(network),
                            "total": len(tools) + len(modules) + len(network)}}

    def op_effective(self, body):
        approved = [{"tool_id": tid, "code_hash": h}
                    for (tid, h), r in self.reviews.items() if r["status"] == "approved"]
        servers = {}
        for sid in self.registry.servers:
            mods = DEFAULT_MODULES + [r["module_name"] for r in self.modules
                                      if r["server_id"] == sid and r["status"] == "approved"]
            hosts = [r["host"] + (f":{r['port']}" if r.get("port") else "")
                     for r in self.network
                     if r["server_id"] == sid and r["status"] == "approved"]
            servers[sid] = {"allowed_modules": mods, "allowed_hosts": hosts,
                            "network_policy": self.policy}
        return {"ok": True, "approved": approved, "servers": servers, "revision": self.revision}

    # --- the human reviewer, for the tests ---------------------------------------
    def admin_approve(self, tool_id, event=True):
        with self.lock, self.registry.lock:
            key = self.current(tool_id)
            self.reviews[key] = dict(self.reviews.get(key) or {}, status="approved",
                                     approved_by="admin", approved_at=now_iso())
            if event:
                self.changed(tool_id=tool_id)

    def admin_revoke(self, tool_id, event=True):
        with self.lock, self.registry.lock:
            key = self.current(tool_id)
            if key in self.reviews:
                self.reviews[key]["status"] = "pending_review"
            if event:
                self.changed(tool_id=tool_id)

    def admin_approve_module(self, request_id):
        with self.lock:
            for r in self.modules:
                if r["id"] == request_id:
                    r["status"] = "approved"
            self.changed()


class StandIns:
    """Both stand-ins registered with the broker, sharing one bus client."""

    def __init__(self, data_dir):
        self.bus = StandInBus(data_dir)
        self.registry = StandInRegistry(self.bus)
        self.approval = StandInApproval(self.bus, self.registry)
        self.registry_worker = StandInWorker(data_dir, "registry", self.registry.handle)
        self.approval_worker = StandInWorker(data_dir, "approval", self.approval.handle)

    def stop(self):
        self.registry_worker.stop()
        self.approval_worker.stop()
        self.bus.close()
