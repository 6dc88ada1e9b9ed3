"""An executor waiting on a slow credentials actor stays registered.

A job naming its server makes the executor ask credentials for that
server's secrets (actors/executor/job_secrets.c) before it runs. That ask
happens inside the executor's one loop; if the loop only waited for the
answer, no heartbeat would reach the broker meanwhile, and after
BUS_LIVENESS (3) silent heartbeats the broker would declare the executor
lost, answering `worker_lost` to every call it holds — calls that had
nothing to do with the slow ask. This was seen under CI load.

The credentials here is a stand-in (integration/standin.py's StandInWorker
on the real broker, NOT the real actor): it answers the first ask with
`worker_lost` after 1.8 heartbeats (as a credentials worker that died), so
the executor asks again, and the second after another 1.8 — 3.6 heartbeats
of waiting in all, longer than the broker's patience. A long call started
before must still be answered by the executor (with its own time-out), and the secrets-naming job
must run with the value.
"""
import hashlib
import json
import shutil
import tempfile
import threading
import time

import pytest

from conftest import HEARTBEAT_MS
from sandbox_util import BusExecutor
from standin import StandInWorker, error

SLOW_S = 1.8 * HEARTBEAT_MS / 1000


class SlowCredentials(StandInWorker):
    service = "credentials"

    def __init__(self, data_dir):
        super().__init__(data_dir)
        self.asks = 0

    def op_job_secrets(self, body):
        self.asks += 1
        time.sleep(SLOW_S)
        if self.asks == 1:
            return error("worker_lost", "stand-in: the credentials worker died")
        return {"ok": True, "secrets": {"API_KEY": "value-" + body["server_id"]}}


@pytest.fixture
def bus():
    root = tempfile.mkdtemp(prefix="mb", dir="/tmp")
    b = BusExecutor(root, root)
    creds = SlowCredentials(root)
    creds.start()
    yield b, creds
    creds.stop()
    b.close()
    shutil.rmtree(root, ignore_errors=True)


def test_slow_secrets_ask_keeps_the_executor_registered(bus):
    b, creds = bus
    long_answer = {}

    def long_call():
        # spins until its own 1.5 s limit: answered by the executor with a
        # time-out, as long as the executor is still registered
        long_answer["reply"], _ = b.run(
            "async def main() -> int:\n    while True:\n        pass\n", timeout_ms=1500)

    t = threading.Thread(target=long_call)
    t.start()
    time.sleep(0.3)                 # the long call is held by the executor
    reply, elapsed = b.run("import hashlib\nasync def main():\n"
                           "    return hashlib.sha256(secrets['API_KEY'].encode()).hexdigest()\n",
                           server_id="srv1", timeout_ms=10000)
    t.join(timeout=20)
    assert creds.asks == 2, creds.asks
    assert elapsed >= 2 * SLOW_S
    assert reply.get("ok") and reply.get("success"), reply
    assert json.loads(reply["result_json"]) == hashlib.sha256(b"value-srv1").hexdigest()
    held = long_answer.get("reply")
    assert held and held.get("ok") and not held.get("success"), held
    assert held["error"]["type"] == "Timeout", held
    # and the executor is still the one serving, never re-registered
    b.assert_still_serving()
