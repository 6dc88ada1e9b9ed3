"""SSRF defences of the sandbox network layer (actors/executor/http_fetch.c),
driven through the real C code by tests/http_fetch_probe.

Set-up, all on this machine:
  - an "internal" HTTP server on 127.0.0.1 (and one on [::1] when the
    machine has IPv6): loopback, which the fetcher must never reach;
  - two "public" servers on 127.77.0.1, which the probe treats as public
    because its environment says MCPBOX_TEST_PUBLIC_NET=127.77.0.0/16;
  - a "lan" server on 127.78.0.1, which the probe treats as a PRIVATE
    address (MCPBOX_TEST_PRIVATE_NET=127.78.0.0/16): the stand-in for a NAS
    on 192.168.x, reachable only through a host listed explicitly;
  - names from MCPBOX_TEST_RESOLVE instead of DNS: public.test and
    public2.test are the public server, other.test too (but never
    allowlisted), evil.test is loopback, rebind.test answers both, lan.test
    is the lan server; nas.test, tail.test, ula.test... map to real private
    addresses that are only ever CHECKED (--check-only), never contacted.

No test may send anything to a real private range (10/8, 172.16/12,
192.168/16, 100.64/10, fc00::/7): probe() refuses to run a real fetch whose
allowlist names such an address (literally or through MCPBOX_TEST_RESOLVE),
because a listed private host is now reachable. Those cases use
`--check-only`, which runs every check of the first hop and connects to
nothing.

Every case is judged by OUTCOME: what the servers' request logs saw (the
internal server's must stay empty), not only by the error text. Every probe
also runs with http_proxy & co. pointing at the internal server, so a
fetcher that honoured proxy variables would show up in its log.

The probe must be built with -DMCPBOX_TEST_HOOKS (CMake option
MCPBOX_TEST_HOOKS=ON); without it these tests fail on purpose rather than
skip, so a production-only build cannot silently lose them.
"""
import http.server
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest

from conftest import free_port, helper_path, proc_env

PROBE = helper_path("http_fetch_probe")
PUBLIC_IP = "127.77.0.1"
INTERNAL_IP = "127.0.0.1"
LAN_IP = "127.78.0.1"
NOT_LISTED = "not in this server's allowed hosts"
TEN_MIB = 10 * 1024 * 1024
RESOLVE = ",".join([
    "public.test=127.77.0.1",
    "public2.test=127.77.0.1",
    "other.test=127.77.0.1",
    "evil.test=127.0.0.1",
    "evil6.test=::1",
    "rebind.test=127.77.0.1|127.0.0.1",
    "meta.test=169.254.169.254",
    # the hook-private "NAS" on loopback: really fetched in some tests
    "lan.test=127.78.0.1",
    "lanloop.test=127.78.0.1|127.0.0.1",
    # real private addresses: only ever checked, never contacted
    "nas.test=192.168.1.10",
    "tail.test=100.100.1.1",
    "ula.test=fd12:3456::10",
    "naspub.test=192.168.1.10|127.77.0.1",
    "nasloop.test=192.168.1.10|127.0.0.1",
    "nasmeta.test=10.0.0.5|169.254.169.254",
    "naslink6.test=fd12:3456::10|fe80::1",
    "ec2six.test=fd00:ec2::254",
])
RESOLVE_MAP = {name: addrs.split("|")
               for name, addrs in (item.split("=", 1) for item in RESOLVE.split(","))}
# the ranges a listed host may reach: a real fetch must never list them here
EXEMPT_NETS = [ipaddress.ip_network(n) for n in
               ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")]


# ---------------------------------------------------------------------------
# Servers


class RecordingServer(http.server.ThreadingHTTPServer):
    """Records every request it gets; quiet about clients that hang up."""

    daemon_threads = True

    def __init__(self, addr, name, family=socket.AF_INET):
        self.address_family = family
        self.name = name
        self.log = []
        self.lock = threading.Lock()
        super().__init__(addr, Handler)

    def handle_error(self, request, client_address):
        pass

    def record(self, entry):
        with self.lock:
            self.log.append(entry)

    def requests(self):
        with self.lock:
            return list(self.log)

    def clear(self):
        with self.lock:
            self.log.clear()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        self.server.record({
            "method": self.command,
            "path": url.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("latin-1"),
        })
        if url.path == "/redirect":
            self._send(int(query.get("code", "302")), b"", {"Location": query["to"]})
        elif url.path.startswith("/chain/"):
            n = int(url.path.rsplit("/", 1)[1])
            if n > 0:
                self._send(302, b"", {"Location": f"/chain/{n - 1}"})
            else:
                self._send(200, b"chain end")
        elif url.path == "/big":
            self._big(int(query["n"]), query.get("chunked") == "1")
        elif url.path == "/echo":
            self._send(200, json.dumps({
                "method": self.command,
                "body": body.decode("latin-1"),
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }).encode(), {"Content-Type": "application/json"})
        elif url.path == "/slow":
            time.sleep(3)
            self._send(200, b"slow")
        else:
            self._send(200, f"hello from {self.server.name}".encode())

    def _send(self, status, body, headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _big(self, n, chunked):
        self.send_response(200)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        block = b"x" * 65536
        sent = 0
        try:
            while sent < n:
                part = block[: min(len(block), n - sent)]
                if chunked:
                    self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
                else:
                    self.wfile.write(part)
                sent += len(part)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


def _start(host, name, family=socket.AF_INET, tls=None):
    for _ in range(20):
        try:
            server = RecordingServer((host, free_port()), name, family)
            break
        except OSError:
            continue
    else:
        raise RuntimeError(f"cannot bind a server on {host}")
    if tls:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Servers:
    def __init__(self):
        self.internal = _start(INTERNAL_IP, "internal")
        try:
            self.internal6 = _start("::1", "internal6", socket.AF_INET6)
        except (OSError, RuntimeError):
            self.internal6 = None
        self.public = _start(PUBLIC_IP, "public")
        self.public2 = _start(PUBLIC_IP, "public2")   # same IP, another port
        self.lan = _start(LAN_IP, "lan")              # "private" by test hook

    @property
    def all(self):
        return [s for s in (self.internal, self.internal6, self.public, self.public2, self.lan)
                if s]

    @property
    def int_port(self):
        return self.internal.server_address[1]

    @property
    def int6_port(self):
        return self.internal6.server_address[1] if self.internal6 else 1

    @property
    def pub_port(self):
        return self.public.server_address[1]

    @property
    def pub2_port(self):
        return self.public2.server_address[1]

    @property
    def lan_port(self):
        return self.lan.server_address[1]

    def internal_requests(self):
        seen = self.internal.requests()
        if self.internal6:
            seen += self.internal6.requests()
        return seen

    def shutdown(self):
        for s in self.all:
            s.shutdown()
            s.server_close()


@pytest.fixture(scope="module")
def module_servers():
    if not os.path.exists(PROBE):
        pytest.fail(f"{PROBE} is missing: build the project (tests/helpers) first")
    servers = Servers()
    yield servers
    servers.shutdown()


@pytest.fixture
def srv(module_servers):
    for s in module_servers.all:
        s.clear()
    yield module_servers
    # whatever a test did, nothing may ever reach the internal servers
    assert module_servers.internal_requests() == []


def _entry_addresses(entry):
    """The addresses an --allow entry stands for: its IP literal (any
    numeric IPv4 spelling), or its MCPBOX_TEST_RESOLVE answers; [] for a
    name left to DNS."""
    host = entry.strip()
    if host.startswith("["):
        host = host[1:host.index("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.lower().rstrip(".")
    if host in RESOLVE_MAP:
        return [ipaddress.ip_address(a) for a in RESOLVE_MAP[host]]
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        return [ipaddress.ip_address(socket.inet_aton(host))]
    except OSError:
        return []


def _lists_private(args):
    entries = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--allow"]
    return [e for e in entries
            if any(ip in net for ip in _entry_addresses(e) for net in EXEMPT_NETS
                   if ip.version == net.version)]


def probe(srv, url, *args, timeout=60):
    if "--check-only" not in args:
        private = _lists_private(args)
        assert not private, (
            f"a real fetch may not list a private address ({private}): it would be "
            "reachable and get contacted; use --check-only")
    internal = f"http://{INTERNAL_IP}:{srv.int_port}"
    env = proc_env(
        MCPBOX_TEST_PUBLIC_NET="127.77.0.0/16",
        MCPBOX_TEST_PRIVATE_NET="127.78.0.0/16",
        MCPBOX_TEST_RESOLVE=RESOLVE,
        http_proxy=internal, https_proxy=internal, HTTP_PROXY=internal,
        HTTPS_PROXY=internal, ALL_PROXY=internal, all_proxy=internal, no_proxy="",
    )
    start = time.monotonic()
    proc = subprocess.run([PROBE, url, *args], env=env, capture_output=True, timeout=timeout)
    elapsed = time.monotonic() - start
    lines = proc.stdout.decode().strip().splitlines()
    assert lines, f"probe printed nothing; stderr: {proc.stderr.decode()[-2000:]}"
    result = json.loads(lines[-1])
    assert proc.returncode == (0 if result["ok"] else 1), \
        f"exit {proc.returncode} for {result}; stderr: {proc.stderr.decode()[-2000:]}"
    result["elapsed"] = elapsed
    return result


def pub(srv, path, host="public.test"):
    return f"http://{host}:{srv.pub_port}{path}"


def refused(result, *words):
    assert not result["ok"], result
    for word in words:
        assert word in result["error"], (word, result["error"])


def test_probe_has_test_hooks(srv):
    r = probe(srv, f"http://{PUBLIC_IP}:{srv.pub_port}/hello", "--policy", "allow_all_public")
    assert r["ok"], ("http_fetch_probe must be built with MCPBOX_TEST_HOOKS=ON "
                     f"for these tests: {r}")


# ---------------------------------------------------------------------------
# Allowlist


def test_allowed_public_host_works(srv):
    r = probe(srv, pub(srv, "/hello?x=1"), "--allow", "public.test")
    assert r["ok"] and r["status"] == 200, r
    assert r["body"] == "hello from public"
    assert r["final_url"] == pub(srv, "/hello?x=1")
    assert r["headers"]["content-length"] == str(len("hello from public"))
    seen = srv.public.requests()
    assert [(e["method"], e["path"]) for e in seen] == [("GET", "/hello")]
    assert seen[0]["headers"]["host"] == f"public.test:{srv.pub_port}"


def test_name_normalized_before_matching(srv):
    r = probe(srv, pub(srv, "/hello", host="PUBLIC.Test."), "--allow", "Public.TEST")
    assert r["ok"] and r["body"] == "hello from public", r
    assert len(srv.public.requests()) == 1


def test_host_not_allowlisted_never_reaches_a_server(srv):
    r = probe(srv, pub(srv, "/hello", host="other.test"), "--allow", "public.test")
    refused(r, "'other.test'", str(srv.pub_port), "mcpbox_request_network_access")
    # suffix tricks are not matches either
    r = probe(srv, pub(srv, "/hello", host="other.test"), "--allow", "her.test")
    refused(r, "allowed hosts")
    assert all(s.requests() == [] for s in srv.all)


def test_no_allowlist_means_nothing(srv):
    refused(probe(srv, pub(srv, "/hello")), "allowed hosts")
    assert all(s.requests() == [] for s in srv.all)


def test_port_rule(srv):
    allow = ["--allow", f"public.test:{srv.pub_port}"]
    assert probe(srv, pub(srv, "/hello"), *allow)["ok"]
    r = probe(srv, f"http://public.test:{srv.pub2_port}/hello", *allow)
    refused(r, "'public.test'", f"port {srv.pub2_port}", "allowed hosts")
    assert srv.public2.requests() == []
    # default port 80 is not the allowed port either
    refused(probe(srv, "http://public.test/hello", *allow), "port 80")
    # and a redirect cannot switch to the other port
    to = f"http://public.test:{srv.pub2_port}/hello"
    r = probe(srv, pub(srv, "/redirect?to=" + urllib.parse.quote(to, safe="")), *allow)
    refused(r, "redirect", f"port {srv.pub2_port}")
    assert srv.public2.requests() == []
    assert [e["path"] for e in srv.public.requests()] == ["/hello", "/redirect"]


# ---------------------------------------------------------------------------
# Internal addresses


def test_name_resolving_to_loopback_refused_even_when_allowlisted(srv):
    r = probe(srv, f"http://evil.test:{srv.int_port}/secret", "--allow", "evil.test")
    refused(r, "evil.test", "127.0.0.1", "loopback")
    r = probe(srv, f"http://evil6.test:{srv.int6_port}/secret", "--allow", "evil6.test")
    refused(r, "evil6.test", "::1", "loopback")
    r = probe(srv, f"http://localhost:{srv.int_port}/secret", "--allow", "localhost")
    refused(r, "loopback")


def test_dns_rebinding_name_refused(srv):
    # answers a public AND a loopback address: refused outright, nothing
    # is contacted, not even the public one
    r = probe(srv, pub(srv, "/hello", host="rebind.test"), "--allow", "rebind.test")
    refused(r, "rebind.test", "127.0.0.1", "loopback")
    assert all(s.requests() == [] for s in srv.all)


LOOPBACK_FORMS = [
    "127.0.0.1", "127.1", "127.0.1", "0x7f000001", "0x7f.1", "2130706433",
    "0177.0.0.1", "017700000001", "127.0.0.1.", "%31%32%37.0.0.1", "127.255.255.254",
    "0.0.0.0", "0",
    "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "localhost", "LOCALHOST.",
]
# the host, normalized the way the fetcher sees it, so the allowlist lets it
# through and the address check is what has to hold
ALLOW_ALL_LOOPBACK = [
    "--allow", "127.0.0.1", "--allow", "127.255.255.254", "--allow", "0.0.0.0",
    "--allow", "::ffff:127.0.0.1", "--allow", "::127.0.0.1", "--allow", "localhost",
    "--allow", "::1",
]


@pytest.mark.parametrize("mode", ["allow_all_public", "allowlisted"])
@pytest.mark.parametrize("host", LOOPBACK_FORMS)
def test_loopback_literal_forms_refused(srv, host, mode):
    rules = ["--policy", "allow_all_public"] if mode == "allow_all_public" else ALLOW_ALL_LOOPBACK
    r = probe(srv, f"http://{host}:{srv.int_port}/secret", *rules)
    refused(r, "blocked")
    assert srv.internal_requests() == []


@pytest.mark.parametrize("mode", ["allow_all_public", "allowlisted"])
def test_ipv6_loopback_refused(srv, mode):
    if not srv.internal6:
        pytest.skip("no IPv6 loopback on this machine")
    rules = ["--policy", "allow_all_public"] if mode == "allow_all_public" else ALLOW_ALL_LOOPBACK
    for host in ("[::1]", "[0:0:0:0:0:0:0:1]", "[::0001]"):
        r = probe(srv, f"http://{host}:{srv.int6_port}/secret", *rules)
        refused(r, "::1", "loopback")
    assert srv.internal6.requests() == []


# blocked whether or not the host is listed
UNREACHABLE = [
    ("169.254.169.254", "link-local/metadata"),
    ("0xa9fea9fe", "link-local/metadata"),        # 169.254.169.254
    ("2852039166", "link-local/metadata"),        # 169.254.169.254
    ("meta.test", "link-local/metadata"),
    ("198.18.0.1", "benchmarking"),
    ("224.0.0.1", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("[fd00:ec2::254]", "metadata"),
    ("ec2six.test", "metadata"),
    ("[fe80::1]", "link-local"),
    ("[fec0::1]", "site-local"),
    ("[64:ff9b::a9fe:a9fe]", "NAT64"),
    ("[64:ff9b::c0a8:10a]", "NAT64"),             # 192.168.1.10 inside
    ("[::ffff:192.168.1.10]", "IPv4-mapped"),
    ("[2002:a9fe:a9fe::]", "6to4"),
    ("[2002:c0a8:10a::]", "6to4"),                # 192.168.1.10 inside
    ("[2001::c0a8:10a]", "Teredo"),
    ("[ff02::1]", "multicast"),
]

# private: blocked unless the host is listed (then only ever --check-only)
PRIVATE = [
    ("10.0.0.1", "10.0.0.1", "private"),
    ("10.255.255.1", "10.255.255.1", "private"),
    ("172.16.0.1", "172.16.0.1", "private"),
    ("192.168.1.1", "192.168.1.1", "private"),
    ("nas.test", "192.168.1.10", "private"),
    ("100.64.0.1", "100.64.0.1", "CGNAT"),
    ("tail.test", "100.100.1.1", "CGNAT"),
    ("[fd12:3456::10]", "fd12:3456::10", "unique-local"),
    ("ula.test", "fd12:3456::10", "unique-local"),
    ("naspub.test", "192.168.1.10", "private"),   # every address allowed once listed
]


def _allow_entry(host):
    return host.strip("[]").lower()


@pytest.mark.parametrize("host,why", UNREACHABLE)
def test_internal_ranges_refused_before_connect(srv, host, why):
    allow = _allow_entry(host)
    for rules in (["--policy", "allow_all_public"], ["--allow", allow],
                  ["--policy", "allow_all_public", "--allow", allow]):
        # a real fetch only where a wrong verdict could not reach a private
        # range (fd00:ec2::254 sits inside fc00::/7: checked only)
        modes = [["--check-only"]] + ([] if _lists_private(rules) else [[]])
        for mode in modes:
            r = probe(srv, f"http://{host}/latest/meta-data/", *rules, *mode,
                      "--timeout-ms", "20000")
            if "allow_all_public" not in rules and "allowed hosts" in r.get("error", ""):
                continue    # a numeric spelling the allowlist does not name as such
            refused(r, "blocked", why)
            assert NOT_LISTED not in r["error"], r    # listing it would not help
            # refused before any connection attempt: no waiting for a timeout
            assert r["elapsed"] < 2.0, r
    assert all(s.requests() == [] for s in srv.all)


@pytest.mark.parametrize("host,address,why", PRIVATE)
def test_private_range_refused_unless_listed(srv, host, address, why):
    url = f"http://{host}/share/"
    # merely allowed by allow_all_public: refused before connecting, with a
    # reason that says what to ask for — checked and really fetched alike
    for mode in ([], ["--check-only"]):
        r = probe(srv, url, "--policy", "allow_all_public", *mode, "--timeout-ms", "20000")
        refused(r, "blocked", why, address, NOT_LISTED, "mcpbox_request_network_access")
        assert r["elapsed"] < 2.0, r
    # other listed hosts (even a private neighbour) do not open it
    r = probe(srv, url, "--policy", "allow_all_public", "--allow", "public.test",
              "--allow", "192.168.1.99", "--allow", "fd12:3456::11", "--check-only")
    refused(r, "blocked", why, NOT_LISTED)
    # listed: allowed (checked only: nothing may be sent to a private range)
    for rules in (["--allow", _allow_entry(host)],
                  ["--policy", "allow_all_public", "--allow", _allow_entry(host)]):
        r = probe(srv, url, *rules, "--check-only")
        assert r["ok"] and r["address"] == address, r
        assert r["elapsed"] < 2.0, r
    assert all(s.requests() == [] for s in srv.all)


def test_probe_refuses_to_fetch_a_listed_private_address(srv):
    # the guard of this file: a real fetch listing a private address would
    # send traffic to it now, so probe() stops it before the probe runs
    for entry in ("10.0.0.1", "nas.test", "nas.test:8080", "[fd12:3456::10]:443",
                  "0xa000001", "naspub.test", "tail.test"):
        with pytest.raises(AssertionError, match="may not list a private address"):
            probe(srv, "http://nas.test/", "--allow", entry)


def test_check_only_connects_to_nothing(srv):
    r = probe(srv, pub(srv, "/hello"), "--allow", "public.test", "--check-only")
    assert r == {"ok": True, "address": PUBLIC_IP, "elapsed": r["elapsed"]}
    r = probe(srv, f"http://lan.test:{srv.lan_port}/hello", "--allow", "lan.test",
              "--check-only")
    assert r["ok"] and r["address"] == LAN_IP, r
    # the same refusals as a real fetch: allowlist, scheme, userinfo, loopback
    refused(probe(srv, pub(srv, "/hello", host="other.test"), "--allow", "public.test",
                  "--check-only"), "'other.test'", "allowed hosts")
    refused(probe(srv, "ftp://public.test/x", "--allow", "public.test", "--check-only"),
            "scheme")
    refused(probe(srv, f"http://u:p@public.test:{srv.pub_port}/", "--allow", "public.test",
                  "--check-only"), "userinfo")
    refused(probe(srv, f"http://evil.test:{srv.int_port}/", "--allow", "evil.test",
                  "--check-only"), "loopback")
    assert all(s.requests() == [] for s in srv.all)


def test_listed_private_port_rule(srv):
    allow = ["--allow", "nas.test:8080"]
    r = probe(srv, "http://nas.test:8080/", *allow, "--check-only")
    assert r["ok"] and r["address"] == "192.168.1.10", r
    refused(probe(srv, "http://nas.test/", *allow, "--check-only"), "allowed hosts", "port 80")
    # allow_all_public lets port 80 through the allowlist, but the listing
    # (for 8080 only) does not open the private address there
    r = probe(srv, "http://nas.test/", *allow, "--policy", "allow_all_public", "--check-only")
    refused(r, "private", NOT_LISTED)


# listed, and still refused: never-allowed ranges, and names with at least
# one never-allowed address next to a private one
LISTED_NEVER = [
    ("127.0.0.1", "loopback"),
    ("localhost", "loopback"),
    ("169.254.169.254", "link-local/metadata"),
    ("[fd00:ec2::254]", "metadata"),
    ("ec2six.test", "metadata"),
    ("[fe80::1]", "link-local"),
    ("nasloop.test", "loopback"),
    ("nasmeta.test", "link-local/metadata"),
    ("naslink6.test", "link-local"),
    ("lanloop.test", "loopback"),
    ("0.0.0.0", "this-network"),
]


@pytest.mark.parametrize("host,why", LISTED_NEVER)
def test_listed_host_never_reaches_loopback_or_metadata(srv, host, why):
    allow = _allow_entry(host)
    url = f"http://{host}:{srv.int_port}/secret"
    modes = [["--check-only"]]
    if not _lists_private(["--allow", allow]):
        modes.append([])        # nothing private in it: a real fetch is safe too
    for rules in (["--allow", allow], ["--policy", "allow_all_public", "--allow", allow]):
        for mode in modes:
            r = probe(srv, url, *rules, *mode, "--timeout-ms", "20000")
            refused(r, "blocked", why)
            assert r["elapsed"] < 2.0, r
    assert all(s.requests() == [] for s in srv.all)


# ---------------------------------------------------------------------------
# A listed private host, end to end (the "lan" server on 127.78.0.1 stands
# in for a NAS: the probe treats it as private, and it is loopback, so
# nothing leaves this machine)


def lan(srv, path, host="lan.test"):
    return f"http://{host}:{srv.lan_port}{path}"


def test_listed_private_host_is_fetched(srv):
    r = probe(srv, lan(srv, "/hello"), "--allow", "lan.test")
    assert r["ok"] and r["body"] == "hello from lan", r
    r = probe(srv, lan(srv, "/hello", host=LAN_IP), "--allow", LAN_IP)
    assert r["ok"] and r["body"] == "hello from lan", r
    r = probe(srv, lan(srv, "/hello"), "--policy", "allow_all_public", "--allow", "lan.test")
    assert r["ok"] and r["body"] == "hello from lan", r
    assert len(srv.lan.requests()) == 3


def test_unlisted_private_host_is_not_fetched(srv):
    r = probe(srv, lan(srv, "/hello"), "--policy", "allow_all_public")
    refused(r, "blocked", "private", NOT_LISTED)
    r = probe(srv, lan(srv, "/hello"), "--policy", "allow_all_public", "--allow", "public.test")
    refused(r, "private", NOT_LISTED)
    # the name is listed, the literal address is another host
    r = probe(srv, lan(srv, "/hello", host=LAN_IP), "--policy", "allow_all_public",
              "--allow", "lan.test")
    refused(r, "private", NOT_LISTED)
    refused(probe(srv, lan(srv, "/hello")), "allowed hosts")
    assert srv.lan.requests() == []


@pytest.mark.parametrize("code", [302, 307])
def test_redirect_to_unlisted_private_host_refused(srv, code):
    to = lan(srv, "/hello")
    url = pub(srv, f"/redirect?code={code}&to=" + urllib.parse.quote(to, safe=""))
    # the first hop's host is listed; the hop to lan.test is not
    r = probe(srv, url, "--policy", "allow_all_public", "--allow", "public.test")
    refused(r, "redirect", "private", NOT_LISTED)
    r = probe(srv, url, "--allow", "public.test")
    refused(r, "redirect", "'lan.test'", "allowed hosts")
    assert srv.lan.requests() == []
    # once listed itself, the hop is followed
    r = probe(srv, url, "--allow", "public.test", "--allow", "lan.test")
    assert r["ok"] and r["body"] == "hello from lan" and r["final_url"] == to, r
    assert [e["path"] for e in srv.lan.requests()] == ["/hello"]
    assert [e["path"] for e in srv.public.requests()] == ["/redirect"] * 3


def test_redirect_from_listed_private_host_gets_no_exemption(srv):
    # lan.test is listed; its redirect to the same address under another
    # (unlisted) spelling does not inherit the exemption
    to = lan(srv, "/hello", host=LAN_IP)
    url = lan(srv, "/redirect?to=" + urllib.parse.quote(to, safe=""))
    r = probe(srv, url, "--policy", "allow_all_public", "--allow", "lan.test")
    refused(r, "redirect", "private", NOT_LISTED)
    assert [e["path"] for e in srv.lan.requests()] == ["/redirect"]
    # a redirect to loopback stays refused even with everything listed
    to = f"http://evil.test:{srv.int_port}/secret"
    url = lan(srv, "/redirect?to=" + urllib.parse.quote(to, safe=""))
    r = probe(srv, url, "--allow", "lan.test", "--allow", "evil.test")
    refused(r, "redirect", "loopback")


@pytest.mark.parametrize("to", ["http://nas.test/admin", "http://192.168.1.1/admin",
                                "http://10.255.255.1/", "http://[fd12:3456::10]/",
                                "http://tail.test/"])
def test_redirect_to_real_private_address_refused_before_connect(srv, to):
    # a listed public host redirecting into the LAN: refused, nothing sent
    url = pub(srv, "/redirect?code=302&to=" + urllib.parse.quote(to, safe=""))
    r = probe(srv, url, "--policy", "allow_all_public", "--allow", "public.test",
              "--timeout-ms", "20000")
    refused(r, "redirect", "blocked", NOT_LISTED)
    assert r["elapsed"] < 2.0, r
    refused(probe(srv, url, "--allow", "public.test"), "redirect", "allowed hosts")
    assert [e["path"] for e in srv.public.requests()] == ["/redirect", "/redirect"]


# ---------------------------------------------------------------------------
# Redirects


REDIRECT_CODES = [301, 302, 303, 307, 308]


@pytest.mark.parametrize("code", REDIRECT_CODES)
@pytest.mark.parametrize("target", ["http://127.0.0.1:{int}/secret", "http://evil.test:{int}/secret",
                                    "http://0x7f000001:{int}/secret", "http://localhost:{int}/secret",
                                    "http://0.0.0.0:{int}/secret",
                                    "http://[::ffff:127.0.0.1]:{int}/secret"])
def test_redirect_to_internal_refused(srv, code, target):
    to = target.format(int=srv.int_port)
    url = pub(srv, f"/redirect?code={code}&to=" + urllib.parse.quote(to, safe=""))
    for rules in (["--policy", "allow_all_public"],
                  ["--allow", "public.test", "--allow", "evil.test", "--allow", "127.0.0.1",
                   "--allow", "localhost", "--allow", "0.0.0.0", "--allow", "::ffff:127.0.0.1"]):
        r = probe(srv, url, *rules, "--method", "POST", "--data", "x=1")
        refused(r, "redirect", "blocked")
    assert srv.internal_requests() == []
    assert [e["path"] for e in srv.public.requests()] == ["/redirect", "/redirect"]


def test_redirect_to_ipv6_loopback_refused(srv):
    to = f"http://[::1]:{srv.int6_port}/secret"
    r = probe(srv, pub(srv, "/redirect?to=" + urllib.parse.quote(to, safe="")),
              "--policy", "allow_all_public")
    refused(r, "redirect", "loopback")


def test_redirect_to_metadata_refused(srv):
    to = "http://169.254.169.254/latest/meta-data/iam/"
    r = probe(srv, pub(srv, "/redirect?code=307&to=" + urllib.parse.quote(to, safe="")),
              "--policy", "allow_all_public")
    refused(r, "redirect", "link-local/metadata")
    assert r["elapsed"] < 2.0


def test_redirect_chain_limit(srv):
    allow = ["--allow", "public.test"]
    r = probe(srv, pub(srv, "/chain/5"), *allow)
    assert r["ok"] and r["body"] == "chain end", r
    assert r["final_url"] == pub(srv, "/chain/0")
    assert len(srv.public.requests()) == 6
    srv.public.clear()
    r = probe(srv, pub(srv, "/chain/6"), *allow)
    refused(r, "too many redirects")
    assert len(srv.public.requests()) == 6      # the first and five followed
    srv.public.clear()
    refused(probe(srv, pub(srv, "/chain/50"), *allow), "too many redirects")
    assert len(srv.public.requests()) == 6


def test_redirect_to_host_not_allowlisted_refused(srv):
    to = pub(srv, "/hello", host="other.test")
    r = probe(srv, pub(srv, "/redirect?to=" + urllib.parse.quote(to, safe="")),
              "--allow", "public.test")
    refused(r, "redirect", "'other.test'", "allowed hosts")
    assert [e["path"] for e in srv.public.requests()] == ["/redirect"]


def test_redirect_to_allowed_public_paths_works(srv):
    allow = ["--allow", "public.test", "--allow", "public2.test"]
    r = probe(srv, pub(srv, "/redirect?to=/hello"), *allow)
    assert r["ok"] and r["status"] == 200 and r["body"] == "hello from public", r
    assert r["final_url"] == pub(srv, "/hello")
    to = f"http://public2.test:{srv.pub2_port}/hello"
    r = probe(srv, pub(srv, "/redirect?code=308&to=" + urllib.parse.quote(to, safe="")), *allow)
    assert r["ok"] and r["body"] == "hello from public2", r
    assert r["final_url"] == to
    assert [e["path"] for e in srv.public.requests()] == ["/redirect", "/hello", "/redirect"]
    assert [e["path"] for e in srv.public2.requests()] == ["/hello"]


def test_redirect_without_location_is_the_response(srv):
    r = probe(srv, pub(srv, "/redirect?code=302&to="), "--allow", "public.test")
    # an empty Location is not followable: the 302 itself comes back
    assert r["ok"] and r["status"] == 302, r


@pytest.mark.parametrize("code,method,body", [
    (301, "GET", ""), (302, "GET", ""), (303, "GET", ""), (307, "POST", "a=1"), (308, "POST", "a=1"),
])
def test_redirect_method_rules_for_post(srv, code, method, body):
    r = probe(srv, pub(srv, f"/redirect?code={code}&to=/echo"), "--allow", "public.test",
              "--method", "POST", "--data", "a=1",
              "--header", "Content-Type: application/x-www-form-urlencoded")
    assert r["ok"], r
    echo = json.loads(r["body"])
    assert (echo["method"], echo["body"]) == (method, body)
    assert ("content-type" in echo["headers"]) == (method == "POST")


def test_put_keeps_method_on_302_and_303_turns_it_into_get(srv):
    allow = ["--allow", "public.test"]
    r = probe(srv, pub(srv, "/redirect?code=302&to=/echo"), *allow, "--method", "PUT", "--data", "v")
    assert json.loads(r["body"])["method"] == "PUT"
    r = probe(srv, pub(srv, "/redirect?code=303&to=/echo"), *allow, "--method", "PUT", "--data", "v")
    assert json.loads(r["body"])["method"] == "GET"


def test_credentials_dropped_on_cross_origin_redirect(srv):
    allow = ["--allow", "public.test", "--allow", "public2.test"]
    hdr = ["--header", "Authorization: Bearer s3cret", "--header", "X-Other: kept"]
    # same origin: kept
    r = probe(srv, pub(srv, "/redirect?to=/echo"), *allow, *hdr)
    assert json.loads(r["body"])["headers"]["authorization"] == "Bearer s3cret"
    # another host name: dropped
    to = pub(srv, "/echo", host="public2.test")
    r = probe(srv, pub(srv, "/redirect?to=" + urllib.parse.quote(to, safe="")), *allow, *hdr)
    seen = json.loads(r["body"])["headers"]
    assert "authorization" not in seen and seen["x-other"] == "kept"
    # another port: dropped
    to = f"http://public.test:{srv.pub2_port}/echo"
    r = probe(srv, pub(srv, "/redirect?to=" + urllib.parse.quote(to, safe="")), *allow, *hdr)
    assert "authorization" not in json.loads(r["body"])["headers"]


@pytest.mark.parametrize("to", ["file:///etc/passwd", "ftp://public.test/x",
                                "gopher://127.0.0.1:{int}/_GET%20/secret", "dict://127.0.0.1:{int}/x"])
def test_redirect_to_other_scheme_refused(srv, to):
    to = to.format(int=srv.int_port)
    r = probe(srv, pub(srv, "/redirect?to=" + urllib.parse.quote(to, safe="")),
              "--policy", "allow_all_public")
    refused(r, "redirect", "scheme")


# ---------------------------------------------------------------------------
# URLs, methods, headers


@pytest.mark.parametrize("url", ["ftp://public.test/x", "file:///etc/passwd",
                                 "gopher://127.0.0.1:{int}/_x", "dict://127.0.0.1:{int}/x",
                                 "ldap://127.0.0.1:{int}/", "telnet://127.0.0.1:{int}/",
                                 "smtp://127.0.0.1:{int}/", "ws://public.test/", "javascript:alert(1)",
                                 "//public.test/x", "public.test/x", "http:///", "",
                                 "http://[fe80::1%25lo]:{int}/", "http://public.test:0/",
                                 "http://public.test:65536/", "http://pub lic.test/"])
def test_non_http_urls_refused(srv, url):
    r = probe(srv, url.format(int=srv.int_port), "--policy", "allow_all_public", "--allow", "public.test")
    assert not r["ok"], r
    assert all(s.requests() == [] for s in srv.all)


@pytest.mark.parametrize("auth", ["user:pw@", "user@", ":@", "@", "public.test:{pub}@"])
def test_userinfo_refused(srv, auth):
    url = f"http://{auth.format(pub=srv.pub_port)}public.test:{srv.pub_port}/hello"
    refused(probe(srv, url, "--allow", "public.test"), "userinfo")
    # the classic confusion: looks like public.test, really 127.0.0.1
    url = f"http://public.test:{srv.pub_port}@{INTERNAL_IP}:{srv.int_port}/secret"
    refused(probe(srv, url, "--policy", "allow_all_public"), "userinfo")
    assert all(s.requests() == [] for s in srv.all)


def test_scheme_is_case_insensitive(srv):
    r = probe(srv, f"HTTP://public.test:{srv.pub_port}/hello", "--allow", "public.test")
    assert r["ok"] and r["body"] == "hello from public", r


def test_methods(srv):
    allow = ["--allow", "public.test"]
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "delete"):
        r = probe(srv, pub(srv, "/echo"), *allow, "--method", method)
        assert r["ok"] and json.loads(r["body"])["method"] == method.upper(), r
    r = probe(srv, pub(srv, "/hello"), *allow, "--method", "HEAD")
    assert r["ok"] and r["status"] == 200 and r["body"] == "", r
    for method in ("CONNECT", "TRACE", "PROPFIND", "GET /x HTTP/1.1\r\nX:", ""):
        refused(probe(srv, pub(srv, "/echo"), *allow, "--method", method), "method")
    r = probe(srv, pub(srv, "/echo"), *allow, "--method", "PATCH", "--data", "{\"a\":1}",
              "--header", "Content-Type: application/json")
    echo = json.loads(r["body"])
    assert echo["body"] == "{\"a\":1}" and echo["headers"]["content-type"] == "application/json"


@pytest.mark.parametrize("header", [
    "X-Evil: a\r\nHost: internal", "X-Evil: a\nX-B: c", "X-Evil: a\rb", "Bad Name: x",
    "Host: internal.test", "Content-Length: 5", "Transfer-Encoding: chunked",
    "Connection: close", "host: x",
])
def test_bad_request_headers_refused(srv, header):
    r = probe(srv, pub(srv, "/echo"), "--allow", "public.test", "--header", header)
    assert not r["ok"] and "header" in r["error"], r
    assert all(s.requests() == [] for s in srv.all)


def test_header_limits(srv):
    allow = ["--allow", "public.test"]
    many = []
    for i in range(64):
        many += ["--header", f"X-H{i}: {i}"]
    assert probe(srv, pub(srv, "/echo"), *allow, *many)["ok"]
    refused(probe(srv, pub(srv, "/echo"), *allow, *many, "--header", "X-H64: 1"), "too many")
    big = "v" * 9000
    refused(probe(srv, pub(srv, "/echo"), *allow, "--header", f"X-Big: {big}"), "header")


# ---------------------------------------------------------------------------
# Size and time caps


@pytest.mark.parametrize("chunked", ["0", "1"])
def test_response_over_10_mb_refused(srv, chunked):
    r = probe(srv, pub(srv, f"/big?n={11 * 1000 * 1000}&chunked={chunked}"), "--allow", "public.test")
    refused(r, "response larger than 10 MB")
    r = probe(srv, pub(srv, f"/big?n={TEN_MIB + 1}&chunked={chunked}"), "--allow", "public.test")
    refused(r, "response larger than 10 MB")


def test_response_of_exactly_10_mib_allowed(srv):
    r = probe(srv, pub(srv, f"/big?n={TEN_MIB}"), "--allow", "public.test")
    assert r["ok"] and r["body_len"] == TEN_MIB, {k: v for k, v in r.items() if k != "body"}


def test_timeout(srv):
    r = probe(srv, pub(srv, "/slow"), "--allow", "public.test", "--timeout-ms", "500")
    refused(r, "timed out")
    assert r["elapsed"] < 2.5, r


def test_tls_certificate_is_verified(srv, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("no openssl to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=public.test", "-addext", "subjectAltName=DNS:public.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server = _start(PUBLIC_IP, "tls", tls=context)
    try:
        port = server.server_address[1]
        r = probe(srv, f"https://public.test:{port}/hello", "--allow", "public.test")
        refused(r, "certificate")
        assert server.requests() == []
    finally:
        server.shutdown()
        server.server_close()
