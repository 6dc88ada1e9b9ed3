"""The HTTP bridge between a sandbox child and its executor: a tool that
makes awaited requests one after another is served every time, also under
load (a reply written before the bridge counted itself idle once made the
next request look like a second one in flight: the call was killed as a
sandbox violation, about 1 in 10 under load).

The server listens on 127.77.0.1, which the test build counts as public
(MCPBOX_TEST_PUBLIC_NET, as in test_ssrf_fetch.py)."""
import concurrent.futures
import http.server
import threading

import pytest

from sandbox_util import oneshot

REQUESTS = 50


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def do_GET(self):
        with _Handler.lock:
            _Handler.count += 1
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer(("127.77.0.1", 0), _Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


TOOL = '''
async def main(url: str, n: int):
    served = 0
    for i in range(n):
        response = await http.get(url + "?i=" + str(i))
        served += response.status_code == 200 and response.json()["ok"]
    return served
'''


def _call(port):
    return oneshot({"op": "run", "code": TOOL, "timeout_ms": 60000,
                    "arguments": {"url": f"http://127.77.0.1:{port}/x", "n": REQUESTS},
                    "allowed_hosts": [f"127.77.0.1:{port}"]},
                   env={"MCPBOX_TEST_PUBLIC_NET": "127.77.0.0/16"}, wait=120)


def test_sequential_awaited_requests_under_load(server):
    port = server.server_address[1]
    before = _Handler.count
    calls = 16
    # 4 executors at once, each a tool doing 50 awaited requests in a row
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: _call(port), range(calls)))
    for r in results:
        assert r.success, r
        assert r.result == REQUESTS, r
    assert _Handler.count - before == calls * REQUESTS
