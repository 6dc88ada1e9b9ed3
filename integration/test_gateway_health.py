"""GET /health on the real mcpbox-gateway, and its HTTP basics.

Two set-ups:
  - the real constellation: mcpbox-broker, the six actors and the gateway;
    health follows actors as they die and come back, and the gateway
    survives the broker being absent;
  - a fake broker (a ZeroMQ ROUTER in this test) that answers the gateway's
    health requests with hand-made, partly hostile bodies, to check that only
    the expected, typed fields reach the JSON, and that clients which leave
    before the bus answers cannot hurt the gateway.

Client frames the fake broker speaks (proto/README.md):
  in:  "MBC1" | 0x01 | service | id (u64 BE) | timeout_ms (u32 BE) | body
  out: "MBC1" | 0x02 | id (u64 BE) | body
"""
import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import threading
import time

import msgpack
import pytest
import zmq

from conftest import bin_path, bus_services, free_port, proc_env, wait_for

# bus service -> actor binary, from the constellation table
SERVICES = bus_services()
SERVICE_ERRORS = {"no_worker", "worker_lost", "timeout", "unavailable"}


# --- helpers -----------------------------------------------------------------

def request(port, method="GET", path="/health", body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def health(port):
    status, headers, body = request(port)
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"
    return status, json.loads(body)


def try_health(port):
    try:
        return health(port)
    except (OSError, http.client.HTTPException):
        return None


def start_broker(procs, data_dir):
    # the actors expect a migrated database, as `mcpbox up` leaves it
    subprocess.run([bin_path("mcpbox"), "migrate", "--data-dir", data_dir],
                   check=True, capture_output=True, env=proc_env())
    broker = procs.start([bin_path("mcpbox-broker"), "--data-dir", data_dir], name="broker")
    sock = os.path.join(data_dir, "run", "bus")
    wait_for(lambda: os.path.exists(sock), what="broker socket")
    return broker


def start_actor(procs, data_dir, service):
    name = SERVICES[service]
    return procs.start([bin_path(name), "--data-dir", data_dir], name=name)


def start_gateway(procs, data_dir, *extra):
    port = free_port()
    gateway = procs.start([bin_path("mcpbox-gateway"), "--data-dir", data_dir,
                           "--http-port", str(port), *extra], name="gateway")

    def listening():
        assert gateway.poll() is None, "gateway exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False
    wait_for(listening, what="gateway listening")
    return gateway, port


def stop_cleanly(proc, sig=signal.SIGTERM):
    """Signal a gateway and require exit status 0 (under the sanitizers,
    a leak or an error report turns that into 1)."""
    proc.send_signal(sig)
    rc = proc.wait(timeout=10)
    proc.log_file.flush()
    with open(proc.log_file.name, errors="replace") as f:
        log = f.read()
    assert rc == 0, log[-4000:]
    return log


@pytest.fixture
def gateways(procs, tmpdir_short):
    """start_gateway(*extra) for this test; every gateway still running at
    the end must stop cleanly on SIGTERM."""
    started = []

    def start(*extra):
        gateway, port = start_gateway(procs, tmpdir_short, *extra)
        started.append(gateway)
        return gateway, port
    yield start
    for gateway in started:
        if gateway.poll() is None:
            stop_cleanly(gateway)


def wait_health(port, want_status, check=lambda body: True, timeout=15, what="health"):
    def ready():
        got = try_health(port)
        return got if got and got[0] == want_status and check(got[1]) else None
    return wait_for(ready, timeout=timeout, interval=0.1, what=what)


def assert_all_ok(body, actors):
    assert body["status"] == "ok"
    assert set(body["services"]) == set(SERVICES)
    for service, entry in body["services"].items():
        assert entry["ok"] is True, (service, entry)
        assert set(entry) <= {"ok", "version", "uptime_s", "pid", "log_spool"}
        assert {"ok", "version", "uptime_s", "pid"} <= set(entry)
        assert isinstance(entry["version"], str) and entry["version"]
        assert isinstance(entry["uptime_s"], int) and entry["uptime_s"] >= 0
        assert entry["pid"] == actors[service].pid
    assert isinstance(body["gateway"]["version"], str)
    assert isinstance(body["gateway"]["uptime_s"], int)


@pytest.fixture
def system(procs, tmpdir_short, gateways):
    """Broker, the six actors and the gateway, all healthy."""
    start_broker(procs, tmpdir_short)
    actors = {service: start_actor(procs, tmpdir_short, service) for service in SERVICES}
    gateway, port = gateways()
    wait_health(port, 200, what="all services ok")
    return {"dir": tmpdir_short, "actors": actors, "gateway": gateway, "port": port}


# --- the real constellation -----------------------------------------------

def test_health_all_ok(system):
    status, body = health(system["port"])
    assert status == 200
    assert_all_ok(body, system["actors"])


def test_health_names_the_missing_service_and_recovers(system, procs):
    port, actors = system["port"], system["actors"]
    for service in SERVICES:
        actors[service].kill()
        actors[service].wait()
        status, body = wait_health(
            port, 503, lambda b, s=service: not b["services"][s]["ok"],
            what=f"{service} reported missing")
        assert body["status"] == "degraded"
        entry = body["services"][service]
        assert entry == {"ok": False, "error": entry["error"]}
        assert entry["error"] in SERVICE_ERRORS
        others = [s for s in SERVICES if s != service]
        assert all(body["services"][s]["ok"] for s in others), body

        actors[service] = start_actor(procs, system["dir"], service)
        _, body = wait_health(port, 200, what=f"{service} back")
        assert_all_ok(body, actors)


def test_unknown_path_is_404(system):
    # (/ is the dashboard's page now, and lws reads "/%00" as "/":
    # integration/test_static.py)
    for path in ("/nope", "/health/", "/healthz", "/health/../x", "/" + "a" * 1000):
        status, headers, body = request(system["port"], path=path)
        assert status == 404, path
        assert headers["content-type"] == "application/json"
        assert json.loads(body) == {"error": "not_found"}


def test_other_methods_on_health_are_405(system):
    for method, body in (("POST", b'{"x":1}'), ("PUT", b"abc"), ("DELETE", None), ("POST", None)):
        status, headers, raw = request(system["port"], method=method, body=body)
        assert status == 405, method
        assert headers["allow"] == "GET"
        assert json.loads(raw) == {"error": "method_not_allowed"}
    # the server is still fine, and HEAD gets headers only
    status, headers, raw = request(system["port"], method="HEAD")
    assert status == 405 and raw == b""
    assert health(system["port"])[0] == 200


def test_keep_alive_serves_several_requests_on_one_connection(system):
    conn = http.client.HTTPConnection("127.0.0.1", system["port"], timeout=10)
    try:
        seen = []
        for path in ("/health", "/nope", "/health", "/health"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            seen.append((resp.status, conn.sock.getsockname() if conn.sock else None))
            assert conn.sock is not None, "server closed a keep-alive connection"
        assert [s for s, _ in seen] == [200, 404, 200, 200]
        assert len({addr for _, addr in seen}) == 1
        # a POST with a body is answered and the body skipped, keep-alive holds
        conn.request("POST", "/health", body=b"x" * 5000)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 405
        conn.request("GET", "/health")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
        # HEAD gets headers only, and the connection stays usable
        conn.request("HEAD", "/health")
        resp = conn.getresponse()
        assert resp.status == 405 and resp.read() == b""
        conn.request("GET", "/nope")
        resp = conn.getresponse()
        assert resp.status == 404 and json.loads(resp.read()) == {"error": "not_found"}
        assert len({conn.sock.getsockname()} | {addr for _, addr in seen}) == 1
    finally:
        conn.close()


def test_many_health_requests_at_once(system):
    results = []

    def one():
        results.append(try_health(system["port"]))
    threads = [threading.Thread(target=one) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 24
    assert all(r and r[0] == 200 for r in results)


def raw_exchange(port, data, timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            return b""
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            pass
        return b"".join(chunks)


def test_odd_input_never_hurts_the_gateway(system):
    port = system["port"]
    odd = [
        b"\x00\x01\x02\xff" * 100 + b"\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /health HTTP/9.9\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
        b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n",
        b"GET /health HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(2000)) + b"\r\n",
        b"POST /health HTTP/1.1\r\nContent-Length: 999999999\r\n\r\nabc",
        b"POST /health HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"POST /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n",
        b"\r\n" * 5000,
    ]
    for data in odd:
        raw_exchange(port, data)
        assert system["gateway"].poll() is None, data[:60]
    # no websocket endpoint exists yet: an upgrade is refused, not accepted
    reply = raw_exchange(port, b"GET /health HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                               b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    assert b"101" not in reply.split(b"\r\n", 1)[0]
    # a client that leaves mid-request
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
    # pipelined requests are answered in order
    reply = raw_exchange(port, b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
                               b"GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert system["gateway"].poll() is None
    assert health(port)[0] == 200
    assert reply.startswith(b"HTTP/1.1 404")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_gateway_stops_cleanly_on_signal(system, sig):
    log = stop_cleanly(system["gateway"], sig)
    assert "shutting down" in log and "stopped" in log


def test_gateway_without_broker_answers_503_then_recovers(procs, tmpdir_short, gateways):
    gateway, port = gateways()
    started = time.monotonic()
    status, body = health(port)
    assert status == 503
    assert time.monotonic() - started < 5
    assert body["status"] == "degraded"
    assert all(not e["ok"] and e["error"] in SERVICE_ERRORS for e in body["services"].values())

    start_broker(procs, tmpdir_short)
    actors = {service: start_actor(procs, tmpdir_short, service) for service in SERVICES}
    _, body = wait_health(port, 200, what="all services ok after the broker came")
    assert_all_ok(body, actors)


def test_config_errors_and_help(tmpdir_short):
    gw = bin_path("mcpbox-gateway")
    out = subprocess.run([gw, "--help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "--http-port" in out.stdout
    for bad in (["--http-port", "abc"], ["--http-port", "0"], ["--no-such-flag"]):
        out = subprocess.run([gw, "--data-dir", tmpdir_short, *bad],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 2, bad


def test_port_in_use_fails_with_1(procs, tmpdir_short):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = subprocess.run([bin_path("mcpbox-gateway"), "--data-dir", tmpdir_short,
                              "--http-port", str(port)],
                             capture_output=True, text=True, timeout=10)
    assert out.returncode == 1


# --- a fake broker with hand-made replies ------------------------------------

class FakeBroker:
    """A ROUTER speaking the client side of the broker protocol. `answers`
    maps service -> bytes to reply with, or None to never answer."""

    def __init__(self, endpoint, answers, delay=0.0):
        self.answers = answers
        self.delay = delay
        self.requests = []
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.sock.bind(endpoint)
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        later = []
        while not self.stopping:
            if self.sock.poll(20):
                frames = self.sock.recv_multipart()
                assert len(frames) == 7, frames
                ident, proto, cmd, service, rid, timeout, body = frames
                assert proto == b"MBC1" and cmd == b"\x01"
                assert len(rid) == 8 and len(timeout) == 4
                self.requests.append((service.decode(), struct.unpack(">I", timeout)[0],
                                      msgpack.unpackb(body)))
                answer = self.answers.get(service.decode())
                if answer is not None:
                    later.append((time.monotonic() + self.delay,
                                  [ident, b"MBC1", b"\x02", rid, answer]))
            now = time.monotonic()
            for item in [i for i in later if i[0] <= now]:
                self.sock.send_multipart(item[1])
                later.remove(item)

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()
        self.ctx.term()


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


GOOD = {"ok": True, "service": "x", "process": "p", "version": "1.2.3",
        "pid": 4242, "uptime_s": 7, "owns": ["t"]}


@pytest.fixture
def fake(tmpdir_short):
    brokers = []

    def make(answers, delay=0.0):
        endpoint = "ipc://" + os.path.join(tmpdir_short, "fake-bus")
        broker = FakeBroker(endpoint, answers, delay)
        brokers.append(broker)
        return endpoint, broker
    yield make
    for broker in brokers:
        broker.close()


def test_health_copies_only_expected_typed_fields(gateways, fake):
    # a str with bytes that are not UTF-8, packed by hand: fixstr of 2 bytes
    bad_utf8 = b"\x83\xa2ok\xc3\xa7version\xa2\xff\xfe\xa3pid\x01"
    endpoint, broker = fake({
        "registry": pack(dict(GOOD, secret="do not copy", extra={"a": [1, 2]},
                              log_spool={"added": 5, "dropped": 2, "acked": -1,
                                         "queued": "x", "evil": 7})),
        "approval": pack({"ok": True, "version": 12, "pid": "4242", "uptime_s": -3}),
        "credentials": b"\xc1\x00garbage",
        "tunnel": pack({"ok": False, "error": {"code": "<b>weird</b>", "message": "<script>"}}),
        "logs": pack({"ok": True, "version": "v" * 1000, "pid": 2 ** 40, "uptime_s": 1.5}),
        "sandbox": bad_utf8,
    })
    gateway, port = gateways("--broker", endpoint)
    status, body = health(port)
    assert status == 503
    assert body["status"] == "degraded"
    s = body["services"]
    assert s["registry"] == {"ok": True, "version": "1.2.3", "pid": 4242, "uptime_s": 7,
                             "log_spool": {"added": 5, "dropped": 2}}
    assert body["log_records_lost"] == 2
    assert set(body["gateway"]["log_spool"]) == {"added", "acked", "queued", "dropped",
                                                 "rejected", "resends", "oldest_age_ms"}
    assert s["approval"] == {"ok": True}
    assert s["credentials"] == {"ok": False, "error": "protocol"}
    assert s["tunnel"] == {"ok": False, "error": "internal"}
    assert s["logs"] == {"ok": True}
    assert s["sandbox"] == {"ok": True, "pid": 1}
    asked = sorted(r[0] for r in broker.requests)
    assert asked == sorted(SERVICES)
    assert all(r[1] == 1500 and r[2] == {"op": "health"} for r in broker.requests)
    assert gateway.poll() is None


def test_error_replies_report_their_code(gateways, fake):
    answers = {name: pack(GOOD) for name in SERVICES}
    answers["sandbox"] = pack({"ok": False, "error": {"code": "no_worker", "message": "m"}})
    answers["logs"] = pack({"ok": False, "error": {"code": "worker_lost", "message": "m"}})
    answers["tunnel"] = pack([1, 2, 3])                 # not a map
    answers["approval"] = pack({"version": "1"})        # no "ok"
    endpoint, _ = fake(answers)
    _, port = gateways("--broker", endpoint)
    status, body = health(port)
    assert status == 503
    s = body["services"]
    assert s["sandbox"] == {"ok": False, "error": "no_worker"}
    assert s["logs"] == {"ok": False, "error": "worker_lost"}
    assert s["tunnel"] == {"ok": False, "error": "protocol"}
    assert s["approval"] == {"ok": False, "error": "protocol"}
    assert s["registry"]["ok"] and s["credentials"]["ok"]


def test_a_service_that_never_answers_times_out(gateways, fake):
    answers = {name: pack(GOOD) for name in SERVICES}
    answers["credentials"] = None
    endpoint, _ = fake(answers)
    _, port = gateways("--broker", endpoint)
    started = time.monotonic()
    status, body = health(port)
    took = time.monotonic() - started
    assert status == 503
    assert body["services"]["credentials"] == {"ok": False, "error": "timeout"}
    assert sum(e["ok"] for e in body["services"].values()) == len(SERVICES) - 1
    assert 1.4 < took < 4.5


def test_all_ok_from_fake_broker_is_200(gateways, fake):
    endpoint, _ = fake({name: pack(GOOD) for name in SERVICES})
    _, port = gateways("--broker", endpoint)
    status, body = health(port)
    assert status == 200 and body["status"] == "ok"


def test_clients_that_leave_before_the_replies_do_no_harm(gateways, fake):
    endpoint, broker = fake({name: pack(GOOD) for name in SERVICES}, delay=0.4)
    gateway, port = gateways("--broker", endpoint)
    for _ in range(30):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
            time.sleep(0.01)
    # keep-alive: the next request on a connection must not get the replies
    # meant for an earlier one that was dropped
    time.sleep(0.6)
    assert gateway.poll() is None
    status, body = health(port)
    assert status == 200 and body["status"] == "ok"
    assert len(broker.requests) >= 31 * len(SERVICES)


def test_shutdown_with_requests_in_flight(gateways, fake):
    answers = {name: pack(GOOD) for name in SERVICES}
    answers["credentials"] = None                    # keeps /health waiting
    endpoint, broker = fake(answers)
    gateway, port = gateways("--broker", endpoint)
    clients = []
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        clients.append(s)
    wait_for(lambda: len(broker.requests) >= 5 * len(SERVICES), what="requests at the broker")
    started = time.monotonic()
    stop_cleanly(gateway)
    assert time.monotonic() - started < 3
    for s in clients:
        s.settimeout(5)
        assert s.recv(100) == b""                    # closed, not answered
        s.close()
