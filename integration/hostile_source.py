"""A hostile (or broken) MCP source for the tests: a small HTTP server
that answers POST /<mode> as a Streamable HTTP MCP server would start to,
then misbehaves. Run it inside a test host (netns_host.py):

    python3 hostile_source.py PORT LOOPBACK_PORT

modes (the path):
  /big        initialize fine, tools/list answers 6 MiB of JSON
  /endless    answers as an SSE stream of keepalives and other ids, forever
  /flood      answers as an SSE stream of one event with endless data
  /firehose   like /endless, as fast as it can (keepalives and others' answers)
  /malformed  answers with JSON that is not JSON-RPC ({"hello": 1})
  /notjson    answers 200 application/json with "<html>"
  /redirect   307 to http://127.0.0.1:LOOPBACK_PORT/mcp (loopback)
  /metadata   307 to http://169.254.169.254/latest/meta-data/
  /auth       a well-behaved source that wants "Authorization: Bearer
              tok-123" (else 401) and whose tool echoes that header back
  /forgetful  a source that has forgotten the first session it gave (404 on
              its first request, as after a restart): the client must
              initialize again and retry, once
  /header     wants the header "X-Api-Key: key-9" (else 401)
  /asks       a well-behaved source whose tools/call answer is an SSE stream
              that first sends notifications and requests of its own (ping,
              elicitation/create, sampling/createMessage, roots/list), each
              waiting for the client's answer (POSTed back on the session)
              before the next, as a source built on an SDK does; the call's
              result is what the client answered to each. An unanswered
              request holds the stream until ASK_WAIT_S has passed.
  /asks-flood its tools/call stream sends 500 pings without waiting, then
              the answer
  /ids        tools/list answered as an SSE stream of hostile fields (an id:
              of 100 KB, retry: negative and huge, a long event name, CR-only
              line ends) and answers that are not ours: our id as a string,
              another id, a negative one; then ours (tool "good"), then ours
              again (tool "evil"): only "good" may be taken
  /ids-bad    the same with our id as a float first: not an id at all
  /shifting   a well-behaved source whose tool list the test sets with POST
              /shifting-set {"tools": [...]} (tools/list answers exactly
              that); tools/call answers "called NAME"
GET /sse-asks: the legacy HTTP+SSE transport of /asks: the stream names
/msg-asks?session=N as its endpoint; what is POSTed there is answered on
the stream (the requests of its own too).
GET /sse-evil: a legacy SSE stream whose endpoint event points at another
origin (loopback). Everything else: 404. Each request is logged to stdout as "MODE METHOD"."""
import itertools
import json
import queue
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
LOOPBACK_PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 9


def init_result(rid):
    return {"jsonrpc": "2.0", "id": rid, "result": {
        "protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
        "serverInfo": {"name": "hostile", "version": "1"}}}


ASK_WAIT_S = 15
ASKS = [("ping", None), ("elicitation/create", {"message": "Your name?", "requestedSchema": {
         "type": "object", "properties": {"name": {"type": "string"}}}}),
        ("sampling/createMessage", {"messages": [{"role": "user", "content": {
         "type": "text", "text": "hi"}}], "maxTokens": 5}),
        ("roots/list", None)]
answers = {}                      # id -> the client's answer to our request
answered = threading.Condition()
ask_ids = itertools.count(1)
legacy = {}                       # session -> queue of events for its stream
shifting = []                     # /shifting's tool list, as set by the test


def take_answer(rid, wait_s):
    with answered:
        answered.wait_for(lambda: rid in answers, timeout=wait_s)
        return answers.pop(rid, None)


def run_asks(send):
    """The requests of our own, each waiting for its answer: what came back."""
    send({"jsonrpc": "2.0", "method": "notifications/message",
          "params": {"level": "info", "data": "working"}})
    got = {}
    for n, (method, params) in enumerate(ASKS):
        rid = f"ask-{next(ask_ids)}" if n % 2 == 0 else 1000 + next(ask_ids)
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params:
            msg["params"] = params
        send(msg)
        answer = take_answer(rid, ASK_WAIT_S)
        if answer is None:
            return None               # never answered: the stream just stops
        got[method] = answer.get("result", answer.get("error", {}).get("code"))
        send({"jsonrpc": "2.0", "method": "notifications/progress",
              "params": {"progressToken": "p", "progress": n + 1}})
    return got


def call_result(rid, got):
    return {"jsonrpc": "2.0", "id": rid, "result": {
        "content": [{"type": "text", "text": json.dumps(got, sort_keys=True)}]}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _json(self, obj, status=200, headers=()):
        body = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _event(self, obj, name=None):
        head = f"event: {name}\n".encode() if name else b""
        data = obj if isinstance(obj, str) else json.dumps(obj)
        self.wfile.write(head + b"data: " + data.encode() + b"\n\n")
        self.wfile.flush()

    def _legacy_stream(self):
        session = str(next(ask_ids))
        events = legacy[session] = queue.Queue()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            self._event(f"/msg-asks?session={session}", name="endpoint")
            while True:
                try:
                    obj = events.get(timeout=ASK_WAIT_S)
                except queue.Empty:
                    return
                self._event(obj, name="message")
        except (BrokenPipeError, ConnectionResetError):
            return
        finally:
            legacy.pop(session, None)

    def _legacy_post(self, msg):
        session = self.path.partition("session=")[2]
        events = legacy.get(session)
        if events is None:
            self._json({"error": "no such session"}, status=404)
            return
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        rid, method = msg.get("id"), msg.get("method", "")
        if method == "initialize":
            events.put(init_result(rid))
        elif method == "tools/list":
            events.put({"jsonrpc": "2.0", "id": rid, "result": {"tools": [
                {"name": "asker", "inputSchema": {"type": "object"}}]}})
        elif method == "tools/call":
            def work():
                got = run_asks(events.put)
                if got is not None:
                    events.put(call_result(rid, got))
            threading.Thread(target=work, daemon=True).start()

    def do_GET(self):
        print("GET", self.path, flush=True)
        if self.path == "/sse-asks":
            self._legacy_stream()
            return
        if self.path != "/sse-evil":
            self._json({"error": "no"}, status=404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            self.wfile.write(f"event: endpoint\ndata: http://127.0.0.1:{LOOPBACK_PORT}/messages\n\n"
                             .encode())
            self.wfile.flush()
            time.sleep(5)
        except (BrokenPipeError, ConnectionResetError):
            return

    def do_DELETE(self):
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        mode = self.path.strip("/").partition("?")[0]
        length = int(self.headers.get("Content-Length", "0"))
        msg = json.loads(self.rfile.read(length) or b"{}")
        print(mode, msg.get("method") or "answer %s" % msg.get("id"), flush=True)
        if "method" not in msg and "id" in msg:
            # the client's answer to a request of ours
            with answered:
                answers[msg["id"]] = msg
                answered.notify_all()
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "msg-asks":
            self._legacy_post(msg)
            return
        if mode == "shifting-set":
            shifting[:] = msg["tools"]
            self._json({})
            return
        rid = msg.get("id")
        method = msg.get("method", "")
        if mode == "shifting" and method == "tools/list":
            self._json({"jsonrpc": "2.0", "id": rid, "result": {"tools": shifting}})
            return
        if mode == "shifting" and method == "tools/call":
            self._json({"jsonrpc": "2.0", "id": rid, "result": {"content": [
                {"type": "text", "text": "called " + msg["params"]["name"]}]}})
            return
        if mode == "redirect":
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{LOOPBACK_PORT}/mcp")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "metadata":
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if method.startswith("notifications/"):
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "forgetful":
            if method == "initialize":
                Handler.sessions = getattr(Handler, "sessions", 0) + 1
                self._json(init_result(rid), headers=[("Mcp-Session-Id", f"f{Handler.sessions}")])
                return
            if not method.startswith("notifications/") and self.headers.get("Mcp-Session-Id") == "f1":
                self._json({"jsonrpc": "2.0", "id": rid, "error": {"code": -32001,
                            "message": "Session not found"}}, status=404)
                return
            if method == "tools/list":
                self._json({"jsonrpc": "2.0", "id": rid, "result": {"tools": [
                    {"name": "t", "inputSchema": {"type": "object"}}]}})
                return
        if mode == "header":
            if self.headers.get("X-Api-Key") != "key-9" or self.headers.get("Authorization"):
                self._json({"error": "unauthorized"}, status=401)
                return
            if method == "tools/list":
                self._json({"jsonrpc": "2.0", "id": rid, "result": {"tools": [
                    {"name": "h", "inputSchema": {"type": "object"}}]}})
                return
        if mode == "auth":
            if self.headers.get("Authorization") != "Bearer tok-123":
                self._json({"error": "unauthorized"}, status=401)
                return
            if method == "tools/list":
                self._json({"jsonrpc": "2.0", "id": rid, "result": {"tools": [
                    {"name": "whoami", "description": "Says what credential it got",
                     "inputSchema": {"type": "object", "properties": {}}}]}})
                return
            if method == "tools/call":
                text = "you sent " + self.headers.get("Authorization")
                self._json({"jsonrpc": "2.0", "id": rid, "result": {
                    "content": [{"type": "text", "text": text}]}})
                return
        if method == "initialize" and mode not in ("malformed", "notjson"):
            self._json(init_result(rid), headers=[("Mcp-Session-Id", "s-" + mode)])
            return
        if mode in ("asks", "asks-flood") and method == "tools/call":
            self.close_connection = True  # no length: the stream ends when we close
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                if mode == "asks-flood":
                    for _ in range(500):
                        self._event({"jsonrpc": "2.0", "id": next(ask_ids), "method": "ping"})
                    self._event(call_result(rid, "flooded"))
                    return
                got = run_asks(self._event)
                if got is not None:
                    self._event(call_result(rid, got))
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if mode in ("ids", "ids-bad") and method == "tools/list":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()

            def listing(name, mid):
                body = {"jsonrpc": "2.0", "result": {"tools": [
                    {"name": name, "inputSchema": {"type": "object"}}]}}
                if mid is not None:
                    body["id"] = mid
                return json.dumps(body).encode()
            try:
                self.wfile.write(b"id: " + b"i" * 100000 + b"\nretry: -5\nretry: "
                                 + b"9" * 40 + b"\nevent: " + b"e" * 5000 + b"\n: c\n\n")
                wrongs = (float(rid),) if mode == "ids-bad" else (str(rid), rid + 1000, -rid)
                for wrong in wrongs:
                    self.wfile.write(b"event: message\rdata: " + listing("evil", wrong) + b"\r\r")
                self.wfile.write(b"data: " + listing("good", rid) + b"\n\n")
                self.wfile.write(b"data: " + listing("evil", rid) + b"\n\n")
                self.wfile.flush()
                time.sleep(1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if mode == "big":
            tools = [{"name": f"t{i}", "description": "x" * 6000,
                      "inputSchema": {"type": "object"}} for i in range(1100)]
            self._json({"jsonrpc": "2.0", "id": rid, "result": {"tools": tools}})
        elif mode == "malformed":
            self._json({"hello": 1})
        elif mode == "notjson":
            self._json(b"<html>not json</html>")
        elif mode in ("endless", "flood", "firehose"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()   # no length: the stream ends when we close
            try:
                if mode == "flood":
                    self.wfile.write(b"data: ")
                    while True:
                        self.wfile.write(b"x" * 65536)
                chunk = (b": keepalive\n\n"
                         b'data: {"jsonrpc":"2.0","id":99999,"result":{}}\n\n') * 200
                while True:
                    if mode == "firehose":
                        self.wfile.write(chunk)
                        continue
                    self.wfile.write(b": keepalive\n\n")
                    self.wfile.write(b'data: {"jsonrpc":"2.0","id":99999,"result":{}}\n\n')
                    self.wfile.flush()
                    time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                return
        else:
            self._json({"jsonrpc": "2.0", "id": rid, "error": {"code": -1, "message": "?"}},
                       status=404)


srv = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
srv.daemon_threads = True
print("ready", flush=True)
srv.serve_forever()
