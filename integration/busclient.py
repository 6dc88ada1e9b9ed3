"""A small client of the MBC1 request protocol (proto/README.md), in Python.

    DEALER sends  [b"MBC1", b"\\x01", service, id u64 BE, timeout_ms u32 BE, msgpack body]
    and receives  [b"MBC1", b"\\x02", id u64 BE, msgpack body]

Bodies are msgpack maps; a reply is {"ok": true, ...} or
{"ok": false, "error": {"code": ..., "message": ...}}.
"""
import itertools
import time

import msgpack
import zmq


class BusError(Exception):
    pass


class BusClient:
    def __init__(self, endpoint, default_timeout_ms=30000):
        self.default_timeout_ms = default_timeout_ms
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.ids = itertools.count(1)
        self.early = {}             # id -> reply body, received before asked for

    def send_raw(self, service, body_bytes, timeout_ms=None):
        """Sends one request with a body as given (hostile-input tests); returns its id."""
        request_id = next(self.ids)
        timeout_ms = self.default_timeout_ms if timeout_ms is None else timeout_ms
        self.sock.send_multipart([
            b"MBC1", b"\x01", service.encode(),
            request_id.to_bytes(8, "big"), int(timeout_ms).to_bytes(4, "big"), body_bytes,
        ])
        return request_id

    def send(self, service, body, timeout_ms=None):
        """Sends one request; returns its id (see receive)."""
        return self.send_raw(service, msgpack.packb(body, use_bin_type=True), timeout_ms)

    def _read_one(self, wait_ms):
        if not self.sock.poll(wait_ms):
            return False
        frames = self.sock.recv_multipart()
        if len(frames) != 4 or frames[0] != b"MBC1" or frames[1] != b"\x02":
            raise BusError(f"malformed reply: {frames[:2]!r}")
        self.early[int.from_bytes(frames[2], "big")] = msgpack.unpackb(frames[3], raw=False)
        return True

    def collect(self, wait_s):
        """Keeps every reply that arrives within wait_s (see `early`)."""
        deadline = time.monotonic() + wait_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read_one(max(1, int(left * 1000))):
                return

    def receive(self, request_id, wait_s):
        """The reply body (a dict) to request_id. Replies to other pending
        ids that arrive meanwhile are kept for their own receive()."""
        deadline = time.monotonic() + wait_s
        while request_id not in self.early:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BusError(f"no reply to request {request_id} within {wait_s:.1f} s")
            self._read_one(int(left * 1000) + 1)
        return self.early.pop(request_id)

    def call_raw(self, service, body_bytes, timeout_ms=None, wait_s=None):
        """One request with a raw body, its reply body."""
        timeout_ms = self.default_timeout_ms if timeout_ms is None else timeout_ms
        request_id = self.send_raw(service, body_bytes, timeout_ms)
        return self.receive(request_id, wait_s if wait_s is not None else timeout_ms / 1000 + 5)

    def call(self, service, body, timeout_ms=None, wait_s=None):
        """One request, its reply body. Waits the request's timeout plus grace."""
        return self.call_raw(service, msgpack.packb(body, use_bin_type=True), timeout_ms, wait_s)

    def close(self):
        self.sock.close(0)
        self.ctx.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
