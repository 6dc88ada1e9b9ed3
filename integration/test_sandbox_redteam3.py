"""A third, independent red-team pass over the sandbox (2026-12-06), judged
by OUTCOME like test_sandbox_redteam.py and test_sandbox_redteam2.py.

Where it went: the modules an admin may approve that set attributes by
name, resource bombs inside the default modules, what runs after the tool's
main returned (hostile dunders in the result and in the exception), and the
process layer with the Python layer bypassed (the real os handed to the
tool, test builds only).

Cases marked "escaped before" broke the build they were written against;
every other case was tried in the same pass and held, and stays here so it
keeps holding.
"""
import json
import os

import pytest

from sandbox_util import (bus_executor_fixture, run_injected, sandbox_run,  # noqa: F401
                          trap)
from test_sandbox_escapes import ATTACK, _judge
from test_sandbox_redteam import REACH

bus = bus_executor_fixture()


def _code(trap, body):
    return trap.fill(ATTACK + REACH + body)


# --- escaped before: approved modules that set any attribute by name -----------
# The validator refuses a tool class defining __getattr__, __reduce_ex__,
# __deepcopy__... (attribute hooks, copy hooks) and assigning any dunder.
# These library functions did the assignment for it: setattr(obj, name,
# value) with the tool's name and object. With __reduce_ex__ installed,
# copy.copy() of the tool's object runs copy._reconstruct: setattr or
# __dict__.update of any name on any object the reducer names.

APPROVED = {
    # escaped before: an argparse Action called with any object as its namespace
    "argparse_action_sets_getattr_on_a_tool_class": ('''
import argparse
class T:
    pass
async def main():
    p = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    act = p.add_argument("--x")
    act.dest = "__getattr__"
    act(p, T, lambda self, name: "HOOK " + name)
    return escaped(T().anything)
''', ["argparse"]),
    # escaped before: the same through parse_args(namespace=a class)
    "argparse_parse_args_namespace_is_a_class": ('''
import argparse
class T:
    pass
def hook(self, name):
    return "HOOK " + name
async def main():
    p = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    p.add_argument("--x", dest="__getattr__", type=lambda s: hook)
    p.parse_args(["--x", "1"], namespace=T)
    return escaped(T().anything)
''', ["argparse"]),
    # escaped before: optparse's Option.take_action is setattr(values, dest, value)
    "optparse_values_is_a_class": ('''
import optparse
class T:
    pass
def hook(self, name):
    return "HOOK " + name
async def main():
    p = optparse.OptionParser()
    p.add_option("--x", dest="__getattr__", action="store_const", const=hook)
    p.parse_args(["--x"], values=T)
    return escaped(T().anything)
''', ["optparse"]),
    # escaped before: minidom re-exports minicompat.defproperty(klass, name,
    # doc) = setattr(klass, name, property(klass._get_<name>))
    "minidom_defproperty_installs_reduce_ex": ('''
from xml.dom.minidom import defproperty
import copy
class Box:
    pass
def reducer(proto):
    return (Box, (), (None, {"x": 1}))
class T:
    def _get___reduce_ex__(self):
        return reducer
    def _get___getattr__(self):
        return lambda name: "HOOK " + name
async def main():
    defproperty(T, "__getattr__", "doc")
    defproperty(T, "__reduce_ex__", "doc")
    c = copy.copy(T())
    return escaped([T().anything, c.x])
''', ["xml.dom.minidom"]),
    "minicompat_defproperty_installs_getattr": ('''
from xml.dom.minicompat import defproperty
class T:
    def _get___getattr__(self):
        return lambda name: "HOOK " + name
async def main():
    defproperty(T, "__getattr__", "doc")
    return escaped(T().anything)
''', ["xml.dom.minicompat"]),
    # held: the other setattr(...) calls of approvable modules take fixed or
    # prefixed names (configparser's converters are 'get' + name)
    "configparser_converter_name": ('''
import configparser
async def main():
    p = configparser.ConfigParser(converters={"_x": lambda v: v})
    p.read_string("[s]\\na = 1\\n")
    p["s"].get_x("a")
    raise RuntimeError("a converter may be named anything, its attribute starts with get")
''', ["configparser"]),
    # held: XML from the tool never reads a file (external entities are not
    # fetched by expat, and opening files is refused anyway)
    "xml_external_entity": ('''
import xml.etree.ElementTree as ET
async def main():
    doc = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY e SYSTEM "file://@HOSTFILE@">]><l>&e;</l>'
    text = ET.fromstring(doc).text
    if text:
        return escaped(text)
    raise RuntimeError("not expanded")
''', ["xml.etree.ElementTree", "xml", "xml.etree"]),
    "zipfile_opens_a_host_file": ('''
import zipfile
async def main():
    return escaped(zipfile.ZipFile("@HOSTFILE@").namelist())
''', ["zipfile"]),
    "tarfile_opens_a_host_file": ('''
import tarfile
async def main():
    return escaped(tarfile.open("@HOSTFILE@").getnames())
''', ["tarfile"]),
    "gzip_opens_a_host_file": ('''
import gzip
async def main():
    return escaped(gzip.open("@HOSTFILE@").read())
''', ["gzip"]),
}


@pytest.mark.parametrize("name", sorted(APPROVED))
def test_approved_module_case_is_stopped(name, trap, tmpdir_short):
    body, modules = APPROVED[name]
    result = sandbox_run(_code(trap, body), tmpdir_short, timeout=10, modules=modules)
    _judge(trap, result)
    assert "HOOK anything" not in result.everything(), result


def test_minidom_still_works_when_approved(tmpdir_short):
    code = '''
from xml.dom.minidom import parseString
async def main():
    doc = parseString("<a><b x='1'>hi</b></a>")
    b = doc.documentElement.firstChild
    return [b.tagName, b.getAttribute("x"), b.firstChild.data, len(doc.toxml())]
'''
    # parseString imports expatbuilder when first called: approved with it
    result = sandbox_run(code, tmpdir_short, timeout=10,
                         modules=["xml.dom.minidom", "xml.dom.expatbuilder"])
    assert result.success, result
    assert result.result[:3] == ["b", "1", "hi"], result


# --- held: what runs after main returned -----------------------------------------

def test_hostile_lineno_on_a_raised_syntax_error_carries_nothing_out(tmpdir_short):
    """A SyntaxError (typing.List["1 +"] raises one) re-raised with the tool's
    filename "<tool>" and a lineno object of its own: the harness read them
    after main ended, ran the object's __sub__/__add__/__eq__ to build the
    context and put the object in the frame (the parent then reported null).
    Now only an int lineno counts; the secret never comes out."""
    secret = "sk-redteam3-" + os.urandom(6).hex()
    code = '''
import typing
class Evil(dict):
    def __sub__(self, other):
        return 1
    def __add__(self, other):
        return 2
    def __eq__(self, other):
        return False
    def __gt__(self, other):
        return False
    def __lt__(self, other):
        return False
    def __bool__(self):
        return True
    def __hash__(self):
        return 1
async def main():
    try:
        typing.List["1 +"]
    except Exception as e:
        err = e
    err.filename = "<tool>"
    s = secrets["api"]
    err.lineno = Evil(leak=s, rev=s[::-1], parts=[c for c in s])
    raise err
'''
    result = sandbox_run(code, tmpdir_short, timeout=10, secrets={"api": secret})
    assert result.rc == 1 and result.data is not None, result
    text = result.everything()
    assert secret not in text and secret[::-1] not in text, result
    # the line is the traceback's (where the error arose), not the tool's
    # object, none of whose dunders ran after main ended (its context was
    # lines 1-2)
    assert result.data["error"]["line"] == 20, result
    assert result.data["error"]["context"][2].startswith(">  20 |"), result


# --- held: bombs inside the default (and approvable) modules ----------------------
# (body, timeout_ms, acceptable error types); every one ends within its
# timeout plus the executor's grace, and the same executor serves the next call.
BOMBS = {
    "re_catastrophic_backtracking": ('''
import re
async def main():
    return bool(re.match(r"(a+)+$", "a" * 64 + "b"))
''', 2000, {"Timeout"}),
    "decimal_max_precision_division": ('''
import decimal
async def main():
    decimal.getcontext().prec = decimal.MAX_PREC
    return str(decimal.Decimal(1) / decimal.Decimal(3))[:10]
''', 2000, {"MemoryError", "Timeout"}),
    "decimal_huge_power": ('''
import decimal
async def main():
    c = decimal.Context(prec=10**8, Emax=decimal.MAX_EMAX)
    return str(c.power(decimal.Decimal(7), decimal.Decimal(10**8)))[:10]
''', 2000, {"MemoryError", "Timeout"}),
    "math_factorial_10_7": ('''
import math
async def main():
    return math.factorial(10**7) % 7
''', 2000, {"Timeout", "MemoryError"}),
    "str_times_10_10": ('''
async def main():
    return len("x" * 10**10)
''', 2000, {"MemoryError"}),
    "itertools_product_100_10": ('''
import itertools
async def main():
    return len(list(itertools.product(range(100), repeat=10)))
''', 2000, {"MemoryError", "Timeout"}),
    "fractions_power": ('''
import fractions
async def main():
    return str(fractions.Fraction(3, 7) ** 10**7)[:5]
''', 2000, {"Timeout", "MemoryError"}),
    "statistics_of_huge_ints": ('''
import statistics
async def main():
    return statistics.mean([10 ** (10 ** 6)] * 10 ** 5)
''', 2000, {"Timeout", "MemoryError"}),
    "int_from_a_million_digits": ('''
async def main():
    return int("9" * 10**6)
''', 2000, {"ValueError"}),
    "json_million_digit_int": ('''
import json
async def main():
    return json.loads("1" * 10**6)
''', 2000, {"ValueError"}),
    "result_int_of_a_million_digits": ('''
async def main():
    return 10 ** (10 ** 6)
''', 2000, {"ValueError", "Timeout"}),
    "dict_hash_collisions": ('''
async def main():
    d = {}
    for i in range(10**6):
        d[i * (2**61 - 1)] = i
    return len(d)
''', 2000, {"Timeout"}),
    "textwrap_of_10m_words": ('''
import textwrap
async def main():
    return len(textwrap.wrap("a " * 10**7, 3))
''', 2000, {"MemoryError", "Timeout"}),
    "html_unescape_50mb": ('''
import html
async def main():
    return len(html.unescape("&amp;" * 10**7))
''', 2000, {"Timeout", "MemoryError"}),
    "base64_decode_400mb": ('''
import base64
async def main():
    return len(base64.b64decode(b"QUFB" * 10**8))
''', 2000, {"MemoryError"}),
    # after main returned: the harness converts the result with the tool's
    # dunders, still inside the child and still under the call's timeout
    "result_str_loops_forever": ('''
class X:
    def __str__(self):
        while True:
            pass
async def main():
    return X()
''', 2000, {"Timeout"}),
    "result_str_is_10gb": ('''
class X:
    def __str__(self):
        return "x" * 10**10
async def main():
    return X()
''', 2000, {"MemoryError"}),
    "exception_str_loops_forever": ('''
class E(Exception):
    def __str__(self):
        while True:
            pass
async def main():
    raise E()
''', 2000, {"Timeout"}),
    "result_list_iter_never_ends": ('''
class L(list):
    def __iter__(self):
        while True:
            yield 1
async def main():
    return L([1])
''', 2000, {"Timeout", "MemoryError"}),
    # approved compression and XML: bounded by the address-space limit
    "gzip_bomb": ('''
import gzip, zlib
async def main():
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    blob = c.compress(bytes(50 * 1024 * 1024)) + c.flush()
    return len(gzip.decompress(blob * 40))
''', 4000, {"MemoryError", "Timeout"}),
    "xml_billion_laughs": ('''
import xml.etree.ElementTree as ET
async def main():
    doc = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    for i in range(9):
        doc += '<!ENTITY ' + chr(98 + i) + ' "' + ('&' + chr(97 + i) + ';') * 10 + '">'
    doc += ']><l>&j;</l>'
    return len(ET.fromstring(doc).text)
''', 2000, {"ParseError", "MemoryError", "Timeout"}),
}
BOMB_MODULES = ["gzip", "zlib", "xml", "xml.etree", "xml.etree.ElementTree"]


@pytest.mark.parametrize("name", list(BOMBS))
def test_bomb_in_a_module_ends_cleanly_and_the_executor_keeps_serving(name, bus):
    body, timeout_ms, causes = BOMBS[name]
    reply, elapsed = bus.run(body, timeout_ms=timeout_ms, extra_modules=BOMB_MODULES)
    assert reply.get("ok"), reply
    assert reply.get("success") is False, reply
    assert (reply.get("error") or {}).get("type") in causes, reply
    assert elapsed < timeout_ms / 1000 + 3, (elapsed, reply)
    bus.assert_still_serving()


def test_result_items_that_never_end_stay_within_the_timeout(bus):
    """A dict subclass whose items() never ends: the conversion gives up
    (MemoryError, then the repr) or the call times out; either way within
    the timeout, and the executor serves on."""
    reply, elapsed = bus.run('''
class D(dict):
    def items(self):
        while True:
            yield ("a", 1)
async def main():
    return D(a=1)
''', timeout_ms=2000)
    assert reply.get("ok"), reply
    assert elapsed < 5, (elapsed, reply)
    if not reply.get("success"):
        assert reply["error"]["type"] in {"Timeout", "MemoryError"}, reply
    bus.assert_still_serving()


# --- held: the process layer alone (the real os, injected) ------------------------

def test_injected_os_more_primitives_fail(trap):
    """Process-wide changes, other processes, the terminal, files by fd:
    each one fails (seccomp's EPERM/EACCES); nothing outside changes."""
    code = trap.fill('''
async def main():
    out = {}
    probes = {
        "setsid": lambda: os.setsid(),
        "setpgid": lambda: os.setpgid(0, 0),
        "setpriority": lambda: os.setpriority(os.PRIO_PROCESS, 0, 19),
        "sched_setaffinity": lambda: os.sched_setaffinity(0, {0}),
        "uname": lambda: os.uname(),
        "eventfd": lambda: os.eventfd(0),
        "sendfile": lambda: os.sendfile(4, 3, 0, 10),
        "splice": lambda: os.splice(3, 4, 10),
        "ttyname": lambda: os.ttyname(0),
        "terminal_size": lambda: os.get_terminal_size(0),
        "umask": lambda: os.umask(0),
        "getcwd": lambda: os.getcwd(),
        "openpty": lambda: os.openpty(),
        "write_job_pipe": lambda: os.write(3, b"x"),
        "readlink_proc": lambda: os.readlink("/proc/self/exe"),
        "parent_mem": lambda: os.open("/proc/1/mem", os.O_RDONLY),
        "parent_environ": lambda: os.open("/proc/" + str(os.getpid() - 1) + "/environ",
                                          os.O_RDONLY),
        "scandir_root": lambda: list(os.scandir("/")),
        "fstat_pipe": lambda: os.fstat(3),
        "fchmod_pipe": lambda: os.fchmod(4, 0o777),
        "ftruncate_stdout": lambda: os.ftruncate(1, 0),
        "fsync_pipe": lambda: os.fsync(4),
        "memfd": lambda: os.memfd_create("x"),
        "ctypes": lambda: sys.modules["importlib"].import_module("ctypes"),
        "signal": lambda: sys.modules["importlib"].import_module("signal").alarm(1),
        "resource": lambda: sys.modules["importlib"].import_module("resource"),
    }
    for name, probe in probes.items():
        try:
            out[name] = "ok " + repr(probe())[:100]
        except BaseException as e:
            out[name] = "denied " + str(e)[:100]
    # what the child holds: stdio (/dev/null) and its two pipes, nothing
    # from the zygote or the executor (the bus socket, the log, the DB)
    held = []
    for fd in range(256):
        try:
            os.get_inheritable(fd)
            held.append(fd)
        except OSError:
            pass
    out["fds"] = held
    return out
''')
    result = run_injected(code)
    assert result.rc == 0, result
    out = result.result
    held = out.pop("fds")
    worked = {k: v for k, v in out.items() if v.startswith("ok")}
    assert worked == {}, f"primitives that worked: {worked}"
    assert held == [0, 1, 2, 3, 4], held
    trap.assert_untouched(result)


@pytest.mark.parametrize("family", ["AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK", "AF_PACKET",
                                    "AF_VSOCK", "AF_ALG"])
def test_injected_socket_of_any_family_kills_the_child(family, trap):
    """_socket is built into the interpreter (importing it reads no file):
    its socket() of any family -- the bus's AF_UNIX, netlink, raw packets,
    the kernel crypto API -- is the seccomp kill."""
    result = run_injected(trap.fill('''
async def main():
    s = sys.modules["importlib"].import_module("_socket")
    sock = s.socket(s.%s, s.SOCK_STREAM if s.%s in (s.AF_INET, s.AF_INET6, s.AF_UNIX)
                    else s.SOCK_RAW if s.%s != s.AF_ALG else s.SOCK_SEQPACKET)
    sock.connect(("127.0.0.1", @PORT@))
    return "ESC" + "APED"
''' % (family, family, family)))
    assert result.error_type == "SandboxViolation", result
    trap.assert_untouched(result)


@pytest.mark.parametrize("url", ["http://127.0.0.1:@PORT@/", "http://169.254.169.254/latest/",
                                 "http://[::1]:@PORT@/", "http://2130706433:@PORT@/",
                                 "http://localhost:@PORT@/"])
def test_forged_http_frame_to_loopback_or_metadata_is_refused_by_the_parent(url, trap):
    """The Python SSRF layer bypassed: the tool writes the http frame itself
    on its pipe, with every host allowed by the server's policy. The parent
    (http_fetch's checks on the address it connects to) refuses; nothing
    reaches the test's listener."""
    code = trap.fill('''
import json
async def main():
    request = {"type": "http", "method": "GET", "url": "%s", "headers": {}, "body": ""}
    data = json.dumps(request).encode()
    os.write(4, len(data).to_bytes(4, "big") + data)
    size = int.from_bytes(os.read(3, 4), "big")
    reply = b""
    while len(reply) < size:
        reply += os.read(3, size - len(reply))
    return json.loads(reply)
''' % trap.fill(url))
    result = run_injected(code, timeout_ms=10000, network_policy="allow_all_public")
    assert result.rc == 0, result
    reply = result.result
    assert reply.get("ok") is False and "refused" in reply.get("error", ""), reply
    assert trap.connections() == 0
    trap.assert_untouched(result)


# --- escaped before (as a violation, not a clean error): the http global's limits ---

def test_the_101st_http_request_is_a_clean_error(tmpdir_short):
    """The parent allows 100 requests per call (HTTP_BRIDGE_MAX_REQUESTS)
    and condemns a child that sends more. A tool paging through 150 pages
    got 'SandboxViolation: the sandbox child broke the HTTP rules' for the
    whole call; now the 101st request raises HTTPError, which the tool may
    catch. (The hosts here are not allowed: each request is refused at once,
    by the parent, and still counts.)"""
    code = '''
async def main():
    errors = []
    for i in range(105):
        try:
            await http.get("http://203.0.113.9/page/" + str(i))
        except Exception as e:
            errors.append(str(e))
    return [len(errors), errors[99], errors[100], errors[104]]
'''
    result = sandbox_run(code, tmpdir_short, timeout=20)
    assert result.success, result
    count, last_allowed, first_over, later = result.result
    assert count == 105
    assert "not in this server's allowed hosts" in last_allowed, result
    assert "100 requests" in first_over and "100 requests" in later, result


def test_http_timeout_out_of_range_is_a_clean_error(tmpdir_short):
    """timeout=1e20 was an integer the parent's JSON reader cannot hold:
    'SandboxViolation: malformed message'. Now any timeout above the call's
    own is the call's own (the parent's rule), and a timeout that is not a
    positive number is a ValueError."""
    code = '''
async def main():
    out = []
    for t in (1e20, float("inf"), 0.5, float("nan"), 0, -1, "x"):
        try:
            await http.get("http://203.0.113.9/", timeout=t)
            out.append("sent")
        except ValueError as e:
            out.append("ValueError")
        except Exception as e:
            out.append("refused" if "allowed hosts" in str(e) else str(e))
    return out
'''
    result = sandbox_run(code, tmpdir_short, timeout=10)
    assert result.success, result
    assert result.result == ["refused", "refused", "refused", "ValueError", "ValueError",
                             "ValueError", "ValueError"], result


def test_the_parent_still_condemns_a_101st_request_sent_around_the_harness(trap):
    """The harness's count is for the tool's sake; the parent's is the rule:
    with the real os, the 101st frame written on the pipe ends the call."""
    result = run_injected('''
import json
async def main():
    data = json.dumps({"type": "http", "method": "GET", "url": "http://203.0.113.9/",
                       "headers": {}, "body": ""}).encode()
    for i in range(101):
        os.write(4, len(data).to_bytes(4, "big") + data)
        size = int.from_bytes(os.read(3, 4), "big")
        got = b""
        while len(got) < size:
            got += os.read(3, size - len(got))
    return "ESC" + "APED"
''', timeout_ms=10000)
    assert result.error_type == "SandboxViolation", result
    trap.assert_untouched(result)


# --- escaped before (as a violation, not a clean error): NUL where JSON keys go ------

def test_nul_in_a_result_key_or_a_header_name_is_not_a_violation(bus):
    """jansson (the parent's JSON reader) carries NUL in strings but not in
    object keys: a result dict whose key held U+0000 failed as
    'SandboxViolation: malformed result', a header name with one as
    'malformed message'. Now the key's NUL becomes U+FFFD (as a lone
    surrogate does) and the header name is a ValueError the tool may catch."""
    reply, _ = bus.run('''
async def main():
    try:
        await http.get("http://203.0.113.9/", headers={"a\\x00b": "1"})
        header = "sent"
    except ValueError as e:
        header = "ValueError"
    return {"k\\x00ey": "v\\x00alue", "header": header, "n": {"\\x00": [1]}}
''')
    assert reply.get("ok") and reply.get("success"), reply
    assert json.loads(reply["result_json"]) == {"k\ufffdey": "v\x00alue", "header": "ValueError",
                                                "n": {"\ufffd": [1]}}, reply
    bus.assert_still_serving()


def test_cli_shows_a_nul_in_stdout_and_in_the_error(tmpdir_short):
    """`mcpbox sandbox run` printed nothing and exited 1 when the executor's
    answer held a NUL (its JSON reader refused \\u0000)."""
    result = sandbox_run('''
async def main():
    print("a\\x00b")
    raise ValueError("c\\x00d")
''', tmpdir_short, timeout=10)
    assert result.rc == 1 and result.data is not None, result
    assert result.data["stdout"] == "a\x00b\n", result
    assert result.data["error"]["message"] == "c\x00d", result
    result = sandbox_run('''
async def main():
    return "e\\x00f"
''', tmpdir_short, timeout=10)
    assert result.rc == 0 and result.result == "e\x00f", result


# --- held: frames forged around the harness (the real os) -------------------------
FORGED = {
    # a 4 GB length, then data: refused at the parent's frame bound, not buffered
    "frame_length_4gb": '''
async def main():
    os.write(4, (0xFFFFFFFF).to_bytes(4, "big"))
    chunk = b"x" * (1 << 20)
    for i in range(4096):
        os.write(4, chunk)
    return 1
''',
    "log_frame_30mb": '''
import json
async def main():
    d = json.dumps({"type": "log", "level": "info", "data": "x" * (30 << 20)}).encode()
    os.write(4, len(d).to_bytes(4, "big") + d)
    return 1
''',
    "result_json_nested_100k": '''
async def main():
    d = b'{"type": "result", "success": true, "result_json": "' + b"[" * 100000 + b'"}'
    os.write(4, len(d).to_bytes(4, "big") + d)
    return 1
''',
    "frame_nested_1m": '''
async def main():
    d = b"[" * 1000000
    os.write(4, len(d).to_bytes(4, "big") + d)
    return 1
''',
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_frame_is_a_violation_within_its_bound(name, trap):
    result = run_injected(FORGED[name], timeout_ms=8000)
    assert result.error_type == "SandboxViolation", result
    assert result.elapsed < 6, result
    trap.assert_untouched(result)


def test_a_harness_traceback_caught_by_logging_shows_no_source_or_values(tmpdir_short):
    """logging.exception() hands the tool sys.exc_info(): a traceback through
    the harness's http code. Its frames stay out of reach (tb_ attributes
    are refused) and its text holds file names and lines only: the harness's
    source is not on disk and no local value is printed."""
    secret = "sk-redteam3-tb-" + os.urandom(6).hex()
    code = '''
import logging
async def main():
    recs = []
    h = logging.Handler()
    h.emit = recs.append
    lg = logging.getLogger("x")
    lg.addHandler(h)
    try:
        await http.get("http://127.0.0.1:1/", headers={"Authorization": secrets["api"]})
    except Exception:
        lg.exception("boom")
    ei = recs[0].exc_info
    return logging.Formatter().formatException(ei)
'''
    result = sandbox_run(code, tmpdir_short, timeout=10, modules=["logging"],
                         secrets={"api": secret})
    assert result.success, result
    text = result.result
    assert "mcpbox_harness.py" in text and "_http_perform" in text, result
    assert "channel" not in text and "request = " not in text, result
    assert secret not in result.everything(), result
