"""A small cluster of executor hosts, built from network namespaces.

The broker runs in a namespace of its own ("the main machine", with its
tcp:// endpoint and CURVE); three executor hosts run `mcpbox executor` in
three other namespaces, each joined to it by a veth pair with its own
addresses, over TCP + CURVE, allowed with `mcpbox executors allow`. A slow
HTTP server in the broker's namespace is what the tools call, and it tells
which host made each request (its source address), so where the work went
is read from the outside, not from the executors' own accounts.

Shown here:
  - calls spread across the hosts, which announce their slots and labels;
  - a host torn down mid-load (its link deleted, its processes killed, its
    namespace removed): its in-flight calls are answered `worker_lost`
    within the heartbeat window, never run again elsewhere; the other
    calls go on;
  - the host comes back and receives work again;
  - an executor with a key the main machine did not allow is refused;
  - a revoked host is dropped while connected;
  - a host whose link is slowed (tc tbf: this kernel has no netem) gets
    less work than the others;
  - a job naming its server runs on a remote host with that server's
    secrets (the host asks credentials over its CURVE connection), and a
    host cannot ask for the secrets of a server whose job it does not hold;
  - so does a `source` job (a call to an external MCP source) whose source
    wants a credential held in a server secret: the remote host fetches it
    the same way and the source gets it (and its echo comes back redacted);
  - an OAuth source's job is refused by a remote host, saying why (its
    tokens are asked for on the local bus only).

The test process talks to the broker over its ipc:// socket (a path on the
shared filesystem), as the gateway would; the gateway itself is not needed
to show where the broker sends work. Needs root and iproute2; skipped
otherwise.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import bin_path, wait_for
import sys
from netns_cluster import SERVER, Cluster, root_ok

HOSTS = (1, 2, 3)
HEARTBEAT_MS = 500              # liveness: 3 beats (1.5 s)

# `sandbox`: every call runs the real sandbox, so the sanitized CI pass
# (-k "not sandbox") leaves this file to the plain build, as it does the
# sandbox suites
pytestmark = [pytest.mark.skipif(not root_ok(), reason="needs root, ip netns and tc"),
              pytest.mark.sandbox]


@pytest.fixture(scope="module")
def cluster():
    root = tempfile.mkdtemp(prefix="mb", dir="/tmp")
    c = Cluster(root, hosts=HOSTS, slots=2, heartbeat_ms=HEARTBEAT_MS)
    try:
        c.joined(len(HOSTS))
        yield c
    finally:
        c.close()
        shutil.rmtree(root, ignore_errors=True)


def _ok(reply):
    return reply.get("ok") and reply.get("success") and reply.get("result_json") == "200"


def test_calls_spread_across_hosts(cluster):
    before = cluster.served()
    replies = cluster.calls(18, in_flight=6, ms=150)
    assert all(_ok(r) for r in replies), replies
    after = cluster.served()
    spread = {h: after.get(h, 0) - before.get(h, 0) for h in HOSTS}
    assert sum(spread.values()) == 18
    assert all(n >= 3 for n in spread.values()), spread


def test_hosts_announce_slots_and_labels(cluster):
    reply = cluster.client.call("broker", {"op": "workers", "service": "sandbox"})
    remote = [w for w in reply["workers"] if w["origin"] == "tcp"]
    assert sorted(w["about"]["labels"]["zone"] for w in remote) == ["ns1", "ns2", "ns3"]
    for worker in remote:
        assert worker["about"]["labels"]["remote"] == ""
        assert worker["about"]["slots"] == 2 and worker["credit"] == 2
        zone = int(worker["about"]["labels"]["zone"][2:])
        assert worker["address"] == f"10.77.{zone}.2", worker


def test_unknown_key_is_refused(cluster):
    registered = cluster.registered()
    rogue = cluster.start_executor(1, os.path.join(cluster.root, "rogue_secret"))
    try:
        time.sleep(4 * HEARTBEAT_MS / 1000)     # its handshakes had time to fail
        assert cluster.registered() == registered
        replies = cluster.calls(6, in_flight=6, ms=50)
        assert all(_ok(r) for r in replies), replies
        with open(rogue.log_file.name, "rb") as f:
            assert b"call answered" not in f.read()

        def told():
            with open(rogue.log_file.name, "rb") as f:
                return b"refuses this host's key" in f.read()
        wait_for(told, timeout=10, what="the refused host to say why it gets no work")
    finally:
        os.killpg(rogue.pid, 9)
        rogue.wait(timeout=10)


def test_lost_host_in_flight_calls_error_the_rest_go_on(cluster):
    before = cluster.served()
    arrived = cluster.arrived()
    arrived_by = {host: cluster.arrived(host) for host in HOSTS}
    ids = [cluster.send_call(2500) for _ in range(6)]   # 2 slots x 3 hosts
    # all six reached the server: each host holds two
    wait_for(lambda: cluster.arrived() - arrived >= 6, timeout=15, what="six calls in flight")
    started = time.monotonic()
    cluster.remove_host(2)
    replies = {i: cluster.client.receive(i, wait_s=20) for i in ids}
    elapsed = time.monotonic() - started
    lost = [r for r in replies.values() if not r.get("ok")]
    done = [r for r in replies.values() if _ok(r)]
    assert len(lost) == 2 and len(done) == 4, replies
    assert all(r["error"]["code"] == "worker_lost" for r in lost), lost
    assert elapsed < 10, elapsed
    # nothing was run twice: the lost calls were not sent to another host
    time.sleep(0.5)
    for host in (1, 3):
        assert cluster.arrived(host) - arrived_by[host] == 2, cluster.served_text()
        assert cluster.served().get(host, 0) - before.get(host, 0) == 2, before
    # the others go on
    replies = cluster.calls(8, in_flight=4, ms=50)
    assert all(_ok(r) for r in replies), replies


def test_host_comes_back_and_gets_work(cluster):
    registered = cluster.registered()
    cluster.add_host(2)
    wait_for(lambda: cluster.registered() > registered, timeout=20, what="host 2 rejoined")
    before = cluster.served()
    replies = cluster.calls(12, in_flight=6, ms=150)
    assert all(_ok(r) for r in replies), replies
    assert cluster.served().get(2, 0) > before.get(2, 0)


def test_slow_link_gets_less_work(cluster):
    link = cluster.link(3)
    shape = ["tbf", "rate", "16kbit", "burst", "1600", "latency", "5s"]
    subprocess.run(["ip", "netns", "exec", cluster.central, "tc", "qdisc", "add", "dev", link,
                    "root", *shape], check=True, timeout=10)
    subprocess.run(["ip", "netns", "exec", cluster.ns(3), "tc", "qdisc", "add", "dev", "eth0",
                    "root", *shape], check=True, timeout=10)
    try:
        before = cluster.served()
        replies = cluster.calls(30, in_flight=4, ms=100)
        assert all(_ok(r) for r in replies), replies
        after = cluster.served()
        share = {h: after.get(h, 0) - before.get(h, 0) for h in HOSTS}
        assert share[3] < 0.75 * min(share[1], share[2]), share
    finally:
        subprocess.run(["ip", "netns", "exec", cluster.central, "tc", "qdisc", "del", "dev",
                        link, "root"], timeout=10)


def test_revoked_host_is_dropped_while_connected(cluster):
    subprocess.run([bin_path("mcpbox"), "executors", "--data-dir", cluster.data, "revoke",
                    "host1"], check=True, capture_output=True, timeout=10, env=cluster.env)
    time.sleep(3 * HEARTBEAT_MS / 1000 + 0.5)
    with open(cluster.broker.log_file.name, "rb") as f:
        assert b"no longer allowed" in f.read()
    before = cluster.served()
    replies = cluster.calls(8, in_flight=4, ms=50)
    assert all(_ok(r) for r in replies), replies
    assert cluster.served().get(1, 0) == before.get(1, 0)


SECRET_TOOL = """
import hashlib
async def main(url: str):
    return hashlib.sha256(secrets["API_KEY"].encode()).hexdigest()
"""

# A host's own CURVE connection asking credentials directly: what a
# compromised host could try.
ASK_SCRIPT = r"""
import sys, zmq, zmq.auth, msgpack
public, secret = zmq.auth.load_certificate(sys.argv[1])
server, _ = zmq.auth.load_certificate(sys.argv[2])
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.curve_publickey, s.curve_secretkey, s.curve_serverkey = public, secret, server
s.connect(sys.argv[3])
s.send_multipart([b"MBC1", b"\x01", b"credentials", (7).to_bytes(8, "big"),
                  (5000).to_bytes(4, "big"),
                  msgpack.packb({"op": "job_secrets", "server_id": sys.argv[4]})])
if not s.poll(8000):
    print("no answer")
else:
    reply = msgpack.unpackb(s.recv_multipart()[3], raw=False)
    print(reply.get("error", {}).get("code") or sorted(reply.get("secrets", {})))
"""


def test_remote_host_runs_a_job_with_its_servers_secrets(cluster):
    cluster.start_credentials()
    value = "remote-" + os.urandom(8).hex()
    reply = cluster.client.call("credentials", {"op": "secret_set", "server_id": "srv-remote",
                                                "key": "API_KEY", "value": value})
    assert reply.get("ok"), reply
    answers = []
    for _ in range(4):              # every host left in the cluster serves some
        ids = [cluster.client.send("sandbox", {
            "op": "run", "code": SECRET_TOOL, "timeout_ms": 10000, "server_id": "srv-remote",
            "arguments": {"url": "x"}}, timeout_ms=15000) for _ in range(4)]
        answers += [cluster.client.receive(i, wait_s=20) for i in ids]
    want = '"%s"' % hashlib.sha256(value.encode()).hexdigest()
    assert all(a.get("ok") and a.get("success") and a["result_json"] == want
               for a in answers), answers[:2]
    # only over tcp: no local executor exists in this cluster
    reply = cluster.client.call("broker", {"op": "workers", "service": "sandbox"})
    assert {w["origin"] for w in reply["workers"]} == {"tcp"}


def test_remote_host_calls_a_source_with_its_credential(cluster):
    """A source (hostile_source.py /auth: wants "Authorization: Bearer
    tok-123", echoes it back) on the main machine, called by `source` jobs
    that only the remote hosts can run."""
    cluster.start_credentials()
    port = 8081
    cluster.serve_central([sys.executable, os.path.join(os.path.dirname(__file__),
                                                        "hostile_source.py"), str(port)],
                          "source")
    wait_for(lambda: cluster.in_host(2, sys.executable, "-c", f"import socket; "
             f"socket.create_connection(('{SERVER}', {port}), timeout=1)").returncode == 0,
             timeout=20, what="the source, from a host")
    reply = cluster.client.call("credentials", {"op": "secret_set", "server_id": "srv-source",
                                                "key": "TOKEN", "value": "tok-123"})
    assert reply.get("ok"), reply
    job = {"op": "source", "action": "call", "tool": "whoami", "server_id": "srv-source",
           "url": f"http://{SERVER}:{port}/auth", "allowed_hosts": [SERVER],
           "auth_type": "bearer", "auth_secret_name": "TOKEN", "timeout_ms": 10000}
    answers = []
    for _ in range(4):
        ids = [cluster.client.send("sandbox", job, timeout_ms=15000) for _ in range(4)]
        answers += [cluster.client.receive(i, wait_s=20) for i in ids]
    texts = [a.get("result", {}).get("content", [{}])[0].get("text") for a in answers]
    assert all(a.get("ok") and a.get("success") for a in answers), answers[:2]
    assert set(texts) == {"you sent Bearer [REDACTED]"}, texts
    reply = cluster.client.call("broker", {"op": "workers", "service": "sandbox"})
    assert {w["origin"] for w in reply["workers"]} == {"tcp"}


def test_remote_host_refuses_an_oauth_source(cluster):
    """An OAuth source's tokens never leave the main machine (the broker
    forwards only job_secrets from tcp): a remote host given such a job
    answers why, without contacting the source or anyone's tokens."""
    cluster.start_credentials()
    for action in ("call", "discover"):
        job = {"op": "source", "action": action, "tool": "whoami", "server_id": "srv-source",
               "source_id": "0b5e7c2a-1d2f-4a3b-9c8d-7e6f5a4b3c2d",
               "url": f"http://{SERVER}:8081/auth", "allowed_hosts": [SERVER],
               "auth_type": "oauth", "timeout_ms": 5000}
        reply = cluster.client.call("sandbox", job, timeout_ms=10000)
        assert reply.get("ok") and reply["success"] is False, reply
        message = reply["error"]["message"]
        assert "tcp://" in message and "local executor" in message, message


def test_host_cannot_ask_for_secrets_of_a_job_it_does_not_hold(cluster):
    host = 3                        # still allowed (host 1 was revoked above)
    done = cluster.in_host(host, sys.executable, "-c", ASK_SCRIPT, cluster.key(host),
                           os.path.join(cluster.data, "keys", "broker"),
                           f"tcp://10.77.{host}.1:5555", "srv-remote")
    assert done.stdout.strip() == "forbidden", (done.stdout, done.stderr)
