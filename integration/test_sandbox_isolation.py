"""Nothing of one call is visible to the next. All calls go to ONE long-lived
executor (real broker, one mcpbox-executor): every call gets a fresh process
forked from the zygote, so state a tool leaves behind in the interpreter
(module globals, class attributes of allowed modules, caches) is gone."""
import json

import pytest

from sandbox_util import NOBODY, bus_executor_fixture

bus = bus_executor_fixture()


def run(bus, code, **fields):
    reply, _ = bus.run(code, **fields)
    assert reply.get("ok") is True, reply
    return reply


def value(reply):
    assert reply["success"] is True, reply
    return json.loads(reply["result_json"])


# (first call: leaves state behind, second call: reports what it sees)
LEAKS = {
    "module_global": ('''
counter = []
async def main():
    counter.append(1)
    return len(counter)
''', '''
counter = []
async def main():
    counter.append(1)
    return len(counter)
''', 1),
    "string_template_class_attribute": ('''
import string
async def main():
    string.Template.delimiter = "#"
    return string.Template("#v").substitute(v=1)
''', '''
import string
async def main():
    return string.Template("$v #v").safe_substitute(v=2)
''', "2 #v"),
    "json_encoder_class_attribute": ('''
async def main():
    json.JSONEncoder.item_separator = " ITEM "
    return json.JSONEncoder().encode([1, 2])
''', '''
async def main():
    return json.JSONEncoder().encode([1, 2])
''', "[1, 2]"),
    "textwrap_class_attribute": ('''
import textwrap
async def main():
    textwrap.TextWrapper.width = 3
    return 1
''', '''
import textwrap
async def main():
    return textwrap.TextWrapper().width
''', 70),
    "mutable_default_of_library_object": ('''
import collections
async def main():
    d = collections.defaultdict(list)
    collections.OrderedDict.leak = ["from call 1"]
    collections.OrderedDict.leak.append("more")
    return 1
''', '''
import collections
async def main():
    try:
        return collections.OrderedDict.leak
    except AttributeError:
        return "clean"
''', "clean"),
    "abc_registry": ('''
import collections.abc
async def main():
    collections.abc.Sequence.register(set)
    return isinstance({1}, collections.abc.Sequence)
''', '''
import collections.abc
async def main():
    return isinstance({1}, collections.abc.Sequence)
''', False),
    "zoneinfo_cache_cleared": ('''
import zoneinfo
async def main():
    zoneinfo.ZoneInfo.clear_cache()
    return 1
''', '''
import zoneinfo, datetime
async def main():
    return datetime.datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")).isoformat()
''', "2024-07-01T12:00:00+02:00"),
    "decimal_context": ('''
import decimal
async def main():
    decimal.getcontext().prec = 3
    return str(decimal.Decimal(1) / 7)
''', '''
import decimal
async def main():
    return str(decimal.Decimal(1) / 7)
''', "0.1428571428571428571428571429"),
    "calendar_first_weekday": ('''
import calendar
async def main():
    calendar.setfirstweekday(6)
    return calendar.firstweekday()
''', '''
import calendar
async def main():
    return calendar.firstweekday()
''', 0),
    "lru_cache_of_a_library_function": ('''
import re
async def main():
    for i in range(600):
        re.compile("p%d" % i)
    re.purge()
    return 1
''', '''
import re
async def main():
    return bool(re.match(r"\\d+", "123"))
''', True),
    "functools_module_attribute": ('''
import functools
async def main():
    functools.WRAPPER_ASSIGNMENTS_LEAK = 1
    return 1
''', '''
import functools
async def main():
    return functools.WRAPPER_ASSIGNMENTS
''', ["__module__", "__name__", "__qualname__", "__doc__", "__annotations__"]),
}


@pytest.mark.parametrize("name", sorted(LEAKS))
def test_state_does_not_leak_to_the_next_call(name, bus):
    first, second, expected = LEAKS[name]
    run(bus, first)                       # success or failure: either way it leaves nothing
    assert value(run(bus, second)) == expected


def test_allowed_modules_are_read_only(bus):
    reply = run(bus, '''
import string
async def main():
    out = []
    try:
        json.x = 1
        out.append("json.x set")
    except AttributeError:
        out.append("json refused")
    try:
        string.capwords = print
        out.append("string.capwords set")
    except AttributeError:
        out.append("string refused")
    try:
        del json.dumps
        out.append("json.dumps deleted")
    except AttributeError:
        out.append("del refused")
    return out
''')
    assert value(reply) == ["json refused", "string refused", "del refused"]
    # and the next call sees the real functions
    assert value(run(bus, '''
import string
async def main():
    return [string.capwords("a b"), json.dumps([1])]
''')) == ["A B", "[1]"]


def test_each_call_is_a_fresh_process(bus):
    code = "async def main():\n    return os.getpid()\n"
    pids = [value(run(bus, code, test_inject_os=True)) for _ in range(4)]
    assert len(set(pids)) == 4, pids
    assert bus.executor.pid not in pids


def test_calls_run_as_nobody_when_the_executor_is_root(bus):
    import os
    reply = run(bus, '''
async def main():
    return [os.getuid(), os.geteuid(), os.getgid(), os.getegid()]
''', test_inject_os=True)
    uid, euid, gid, egid = value(reply)
    if os.geteuid() == 0:
        assert [uid, euid, gid, egid] == [NOBODY] * 4
    else:
        assert uid == os.geteuid()


def test_a_call_cannot_see_a_concurrent_call(bus):
    """Two calls at once: the second cannot read the first's arguments or secrets."""
    slow = bus.client.send("sandbox", {
        "op": "run", "timeout_ms": 5000,
        "code": "async def main(x):\n    n = 0\n    for i in range(3000000):\n        n += i\n    return x\n",
        "arguments": {"x": "first-call-argument"}, "secrets": {"S": "first-call-secret"}},
        timeout_ms=10000)
    probe = run(bus, '''
async def main():
    return [dict(arguments), dict(secrets), os.getpid()]
''', test_inject_os=True, arguments={}, secrets={"T": "mine"})
    args, secrets, pid = value(probe)
    assert args == {} and list(secrets) == ["T"]
    first = bus.client.receive(slow, 15)
    assert value(first) == "first-call-argument"
    assert "first-call" not in json.dumps(probe)


def test_the_executor_process_itself_is_unchanged(bus):
    pid = bus.health_pid()
    for _ in range(3):
        run(bus, "async def main():\n    return 1\n")
    assert bus.health_pid() == pid == bus.executor.pid
