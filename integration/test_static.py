"""The dashboard's files as the gateway serves them (actors/gateway/http_static.c):
a real mcpbox-gateway (no broker needed for files) on a web root built here, with a
secret beside it, a symlink out of it, a dotfile, a FIFO, a directory, an unknown type
and an oversized file. Checked: the types, ETag/304, no-cache, the security headers
(CSP, nosniff, Referrer-Policy, X-Frame-Options) on every answer — files, errors, /api,
/mcp, /health — and that no traversal probe, raw or encoded once or twice, ever returns
a byte from outside the web root. The gateway's default web root is the source tree's
web/ (what `mcpbox up` serves without --web-dir).
"""
import http.client
import os
import socket

import pytest

from conftest import bin_path, free_port, wait_for

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECRET = b"TOP-SECRET-OUTSIDE-THE-WEB-ROOT"
SOURCE_WEB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web")


def fetch(port, path, method="GET", headers=None):
    """One request with the path sent byte for byte (no client normalisation).
    (status, headers, body), or None when the gateway closed without answering."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    except (http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine):
        return None
    finally:
        conn.close()


def raw_request(port, line):
    """Send a request line as raw bytes; the whole answer (b"" if closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        chunks = []
        while True:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


def assert_security_headers(h, what):
    assert h.get("content-security-policy") == CSP, (what, h)
    assert h.get("x-content-type-options") == "nosniff", (what, h)
    assert h.get("referrer-policy") == "no-referrer", (what, h)
    assert h.get("x-frame-options") == "DENY", (what, h)


def start_gateway(procs, data_dir, web_dir=None):
    port = free_port()
    argv = [bin_path("mcpbox-gateway"), "--data-dir", data_dir, "--http-port", str(port)]
    if web_dir:
        argv += ["--web-dir", web_dir]
    proc = procs.start(argv, name="gateway")
    wait_for(lambda: os.path.exists(os.path.join(data_dir, "run", "gateway.ready")),
             timeout=15, what="gateway listening")
    assert proc.poll() is None
    return port


@pytest.fixture
def site(procs, tmpdir_short):
    root = os.path.join(tmpdir_short, "site")
    web = os.path.join(root, "web")
    os.makedirs(os.path.join(web, "app", "deep"))
    files = {
        "index.html": b"<!doctype html><title>t</title><script type=module src=/app/main.js></script>",
        "app/main.js": b"export const main = 1;\n",
        "app/deep/x.mjs": b"export const x = 2;\n",
        "style.css": b"body { color: black }\n",
        "logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        "data.json": b"{}",
        "notes.db": b"sqlite",
        ".env": b"SECRET=1",
        "app/.hidden.js": b"hidden",
    }
    for name, data in files.items():
        with open(os.path.join(web, name), "wb") as f:
            f.write(data)
    with open(os.path.join(root, "secret.txt"), "wb") as f:
        f.write(SECRET)
    with open(os.path.join(web, "big.js"), "wb") as f:
        f.truncate(5 << 20)
    os.symlink(os.path.join(root, "secret.txt"), os.path.join(web, "link.txt"))
    os.symlink("..", os.path.join(web, "app", "up"))
    os.symlink(os.path.join(web, "app"), os.path.join(web, "applink"))
    os.mkfifo(os.path.join(web, "fifo.js"))
    data_dir = os.path.join(tmpdir_short, "d")
    os.makedirs(data_dir)
    return start_gateway(procs, data_dir, web), files


def test_files_types_caching_and_headers(site):
    port, files = site
    for path, name, ctype in (("/", "index.html", "text/html; charset=utf-8"),
                              ("/index.html", "index.html", "text/html; charset=utf-8"),
                              ("/app/main.js", "app/main.js", "text/javascript; charset=utf-8"),
                              ("/app/deep/x.mjs", "app/deep/x.mjs", "text/javascript; charset=utf-8"),
                              ("/style.css", "style.css", "text/css; charset=utf-8"),
                              ("/logo.svg", "logo.svg", "image/svg+xml"),
                              ("/data.json", "data.json", "application/json"),
                              ("/app/main.js?v=3", "app/main.js", "text/javascript; charset=utf-8")):
        status, h, body = fetch(port, path)
        assert status == 200 and body == files[name], (path, status)
        assert h["content-type"] == ctype, (path, h)
        assert h["cache-control"] == "no-cache" and h["etag"].startswith('"'), (path, h)
        assert_security_headers(h, path)
        # revalidation: 304 without a body while the file is unchanged
        status, h2, body = fetch(port, path, headers={"If-None-Match": h["etag"]})
        assert status == 304 and body == b"", (path, status)
        assert_security_headers(h2, path + " 304")
    status, h, body = fetch(port, "/style.css", method="HEAD")
    assert status == 200 and body == b"" and h["content-length"] == str(len(files["style.css"]))
    status, h, _ = fetch(port, "/", method="POST")
    assert status == 405 and "GET" in h["allow"]
    assert_security_headers(h, "405")
    # every answer the gateway writes carries the policy: errors, /api, /mcp
    for path, method in (("/nothing.html", "GET"), ("/.env", "GET"), ("/api/auth/me", "GET"),
                         ("/api/nothing", "GET"), ("/mcp", "GET")):
        status, h, _ = fetch(port, path, method=method)
        assert status >= 400, (path, status)
        assert_security_headers(h, path)


def test_refused_paths(site):
    port, _ = site
    refused = {
        "/notes.db": 404,            # a type we do not serve
        "/big.js": 404,              # over the size bound
        "/link.txt": 404,            # a symlink to a file outside
        "/app/up/secret.txt": 404,   # a symlinked directory out of the root
        "/applink/main.js": 404,     # a symlinked directory inside the root
        "/fifo.js": 404,             # not a regular file (and no hang)
        "/app": 404,                 # a directory: no listing
        "/app/": 404,
        "/.env": 404,                # dotfiles
        "/app/.hidden.js": 404,
        "/a%5cb": 404,               # backslash
        "/%252e%252e/secret.txt": 404,   # double encoding
        "/app/%252e%252e%252fsecret.txt": 404,
    }
    for path, want in refused.items():
        r = fetch(port, path)
        assert r is not None and r[0] == want, (path, r and r[0])
        assert SECRET not in r[2]


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/../../../../etc/passwd", "/app/../../secret.txt",
    "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/%2e%2e%2fsecret.txt", "/app%2f..%2f..%2fsecret.txt",
    "/..%2fsecret.txt", "/%2e./secret.txt", "/.%2e/secret.txt", "/app/..%5c..%5csecret.txt",
    "/%c0%ae%c0%ae/secret.txt", "/..;/secret.txt", "/index.html%00.js", "/%00", "/app/%2e%2e",
    "/" + "a/" * 200 + "x.js", "/" + "a" * 5000 + ".js",
])
def test_traversal_never_leaves_the_root(site, path):
    port, _ = site
    answer = raw_request(port, b"GET " + path.encode() + b" HTTP/1.1")
    # refused (400/404/414/431), closed, or at most a file inside the root
    assert SECRET not in answer and b"root:" not in answer, path
    if answer:
        status = int(answer.split(b" ", 2)[1])
        assert status in (200, 400, 404, 414, 431), (path, answer[:200])
        if status == 200:      # lws resolved the dots itself: only ever a file of web/
            assert b"<title>t</title>" in answer or b"export const" in answer, (path, answer[:300])
    # and the gateway still answers
    assert fetch(port, "/style.css")[0] == 200


def test_default_web_root_is_the_source_tree(procs, tmpdir_short):
    port = start_gateway(procs, tmpdir_short)
    status, h, body = fetch(port, "/")
    with open(os.path.join(SOURCE_WEB, "index.html"), "rb") as f:
        assert status == 200 and body == f.read()
    assert_security_headers(h, "/")
