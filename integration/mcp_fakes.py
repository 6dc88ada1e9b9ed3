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
    StandInWorker     the worker side (standin.py, shared by every stand-in)
    StandInRegistry   servers, tools, versions, catalog (standin.py)
    StandInApproval   reviews bound to (tool_id, code_hash), module and
                      network requests, `effective`; plus admin_* methods
                      the tests call to play the human reviewer
"""
import os
import threading
import time
import uuid

import msgpack
import zmq

from busclient import BusClient, BusError
from python_modules import DEFAULT_MODULES, FORBIDDEN_MODULES  # common/python_modules.txt
from standin import StandInRegistry, StandInWorker, error, now_iso, pack


class StandInBus:
    """A bus client (request/reply: busclient.BusClient, the tests' one MBC1
    client) and an event publisher for the stand-ins and the tests.
    Thread-safe by a lock (one request at a time)."""

    def __init__(self, data_dir):
        run = os.path.join(data_dir, "run")
        self.lock = threading.Lock()
        self.client = BusClient("ipc://" + os.path.join(run, "bus"))
        self.pub = zmq.Context.instance().socket(zmq.PUB)
        self.pub.linger = 0
        self.pub.connect("ipc://" + os.path.join(run, "ev-in"))

    def call(self, service, body, timeout_ms=15000):
        with self.lock:
            try:
                return self.client.call(service, body, timeout_ms=timeout_ms,
                                        wait_s=timeout_ms / 1000 + 2)
            except BusError:
                return error("timeout", "stand-in bus client timed out")

    def publish(self, topic, body):
        with self.lock:
            self.pub.send_multipart([topic.encode(), pack(body)])

    def close(self):
        self.client.close()
        self.pub.close()


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
        self.rate_takes = {}              # rate.take calls by client key

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

    def op_rate_take(self, body):
        # no budget here: the real one is tested on the real actor
        # (test_rate_limits.py); calls are only counted, per client
        with self.lock:
            self.rate_takes[body["client"]] = self.rate_takes.get(body["client"], 0) + 1
        return {"ok": True, "allowed": True, "limit_rpm": 300, "remaining": 299,
                "retry_after_ms": 0}

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
        self.registry = StandInRegistry(data_dir, self.bus)
        self.registry_worker = self.registry          # the registry is its own worker
        self.approval = StandInApproval(self.bus, self.registry)
        self.approval_worker = StandInWorker(data_dir, "approval", self.approval.handle)
        self.registry.start()
        self.approval_worker.start()

    def stop(self):
        self.registry_worker.stop()
        self.approval_worker.stop()
        self.bus.close()
