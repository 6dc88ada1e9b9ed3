"""Python as people and LLMs write it (issue 8 §2), judged by outcome.

Each tool below is the kind of code a user or an LLM writes with no thought
for the sandbox: classes with dunder methods and `self._cache`, dataclasses,
NamedTuple, enums, datetime formatting, uuid, codecs, Optional parameters,
context managers. Each must SUCCEED with the exact value asserted. The same
features used hostilely must still hold (see test_sandbox_leaks.py for the
escape corpus): `self._x` only on the tool's own objects.
"""
import os

import pytest

from sandbox_util import sandbox_run, sandbox_validate


def run_ok(code, tmpdir, **kw):
    result = sandbox_run(code, tmpdir, timeout=10, **kw)
    assert result.rc == 0 and result.success, result
    return result.result


def test_class_with_dunder_methods_and_private_state(tmpdir_short):
    assert run_ok('''
class Inventory:
    """A small container class, the way people write one."""

    def __init__(self, items=None):
        self._items = dict(items or {})
        self._log = []

    def __repr__(self):
        return f"Inventory({self._items!r})"

    def __str__(self):
        return ", ".join(f"{k}={v}" for k, v in sorted(self._items.items()))

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(sorted(self._items))

    def __getitem__(self, key):
        return self._items[key]

    def __setitem__(self, key, value):
        self._log.append(("set", key))
        self._items[key] = value

    def __contains__(self, key):
        return key in self._items

    def __eq__(self, other):
        return isinstance(other, Inventory) and self._items == other._items

    def __hash__(self):
        return hash(tuple(sorted(self._items.items())))

    def __bool__(self):
        return bool(self._items)

    def __add__(self, other):
        merged = dict(self._items)
        for k, v in other._items.items():
            merged[k] = merged.get(k, 0) + v
        return Inventory(merged)

async def main():
    a = Inventory({"apple": 2})
    a["pear"] = 1
    b = Inventory({"apple": 1})
    c = a + b
    return [len(a), list(a), a["pear"], "pear" in a, "kiwi" in a, str(c), repr(b),
            a == Inventory({"apple": 2, "pear": 1}), len({a, Inventory(a._items)}),
            bool(Inventory()), a._log]
''', tmpdir_short) == [2, ["apple", "pear"], 1, True, False, "apple=3, pear=1",
                       "Inventory({'apple': 1})", True, 1, False, [["set", "pear"]]]


def test_inheritance_super_and_ordering(tmpdir_short):
    assert run_ok('''
import functools

class Shape:
    def __init__(self, name):
        self._name = name

    def area(self):
        raise NotImplementedError

    def describe(self):
        return f"{self._name}: {self.area():.1f}"

@functools.total_ordering
class Rect(Shape):
    def __init__(self, w, h):
        super().__init__("rect")
        self._w, self._h = w, h

    def area(self):
        return self._w * self._h

    def __lt__(self, other):
        return self.area() < other.area()

    def __eq__(self, other):
        return self.area() == other.area()

class Square(Rect):
    def __init__(self, side):
        Rect.__init__(self, side, side)
        self._name = "square"

class ToolError(Exception):
    def __init__(self, message, code):
        super().__init__(message)
        self.code = code

    def __str__(self):
        return f"[{self.code}] {self.args[0]}"

async def main():
    shapes = [Rect(2, 3), Square(2), Rect(1, 1)]
    try:
        raise ToolError("bad input", 42)
    except ToolError as e:
        err = [str(e), e.code]
    return [s.describe() for s in sorted(shapes)] + [Square(2) >= Rect(1, 4)] + err
''', tmpdir_short) == ["rect: 1.0", "square: 4.0", "rect: 6.0", True, "[42] bad input", 42]


def test_context_managers_sync_and_async(tmpdir_short):
    assert run_ok('''
class Timer:
    def __init__(self, log):
        self._log = log

    def __enter__(self):
        self._log.append("enter")
        return self

    def __exit__(self, exc_type, exc, tb):
        self._log.append(f"exit {exc is not None}")
        return isinstance(exc, KeyError)

class Session:
    def __init__(self):
        self.events = []

    async def __aenter__(self):
        self.events.append("open")
        return self

    async def __aexit__(self, *exc_info):
        self.events.append("close")
        return False

    async def fetch(self, key):
        return key.upper()

async def main():
    log = []
    with Timer(log):
        {}["missing"]
    with Timer(log) as t:
        pass
    async with Session() as s:
        value = await s.fetch("abc")
    return [log, s.events, value]
''', tmpdir_short) == [["enter", "exit True", "enter", "exit False"], ["open", "close"], "ABC"]


def test_dataclass_namedtuple_enum(tmpdir_short):
    assert run_ok('''
from dataclasses import dataclass, field, asdict
from typing import NamedTuple, Optional
from enum import Enum
import collections

class Point(NamedTuple):
    x: int
    y: int = 0

class Status(Enum):
    OK = "ok"
    FAIL = "fail"

@dataclass(order=True)
class Task:
    priority: int
    name: str = field(compare=False)
    tags: list = field(default_factory=list)
    status: Status = Status.OK

    def __post_init__(self):
        self._slug = self.name.lower().replace(" ", "-")

    @property
    def slug(self):
        return self._slug

@dataclass(frozen=True, slots=True)
class Frozen:
    a: int

    def double(self):
        return self.a * 2

async def main():
    p = Point(1)
    Pair = collections.namedtuple("Pair", "left right")
    pair = Pair(1, 2)._replace(right=5)
    tasks = sorted([Task(2, "Write Docs"), Task(1, "Fix Bug", ["x"])])
    return [p._asdict(), p._replace(y=3), Point._fields, Point._make([7, 8]),
            pair._asdict(), Pair._fields,
            [t.slug for t in tasks], asdict(tasks[0])["tags"], Status("fail").name,
            Status.OK.value, Frozen(4).double()]
''', tmpdir_short) == [{"x": 1, "y": 0}, [1, 3], ["x", "y"], [7, 8], {"left": 1, "right": 5},
                       ["left", "right"], ["fix-bug", "write-docs"], ["x"], "FAIL", "ok", 8]


def test_datetime_formatting(tmpdir_short):
    result = run_ok('''
from datetime import date, datetime, timedelta, timezone

async def main():
    d = datetime(2024, 3, 5, 14, 7, 9, tzinfo=timezone.utc)
    today = date.today()
    return [d.strftime("%Y-%m-%d %H:%M:%S %Z"), f"{d:%d/%m/%Y}", d.timetuple().tm_yday,
            d.isoformat(), (d + timedelta(days=30)).strftime("%b %d"),
            today.strftime("%Y") == str(today.year), datetime.now().year >= 2024,
            datetime.strptime("2024-01-02", "%Y-%m-%d").weekday(),
            today.timetuple().tm_year == today.year]
''', tmpdir_short)
    assert result == ["2024-03-05 14:07:09 UTC", "05/03/2024", 65, "2024-03-05T14:07:09+00:00",
                      "Apr 04", True, True, 1, True]


def test_uuid_functions(tmpdir_short):
    result = run_ok('''
import uuid

async def main():
    a, b = uuid.uuid1(), uuid.uuid1()
    node = uuid.getnode()
    return [str(a) != str(b), a.version, len(str(uuid.uuid4())), node == a.node,
            0 < node < 2 ** 48, str(uuid.uuid5(uuid.NAMESPACE_DNS, "example.com"))]
''', tmpdir_short)
    assert result == [True, 1, 36, True, True, "cfbff0d1-9375-5685-968c-48ce8b15ae17"]


def test_common_codecs(tmpdir_short):
    assert run_ok('''
import codecs

async def main():
    text = "Grüße €"
    return [text.encode("utf-16").decode("utf-16") == text, text.encode("utf-16-le").hex(),
            text.encode("cp1252").hex(), text.encode("latin-1", "replace").decode("latin-1"),
            "bücher.example".encode("idna").decode(), b"xn--bcher-kva".decode("idna"),
            codecs.encode("abc", "utf-8").decode("utf-8-sig"), "Ω".encode("utf-32-be").hex()]
''', tmpdir_short, modules=["codecs"]) == [
        True, "47007200fc00df0065002000ac20", "4772fcdf652080", "Grüße ?",
        "xn--bcher-kva.example", "bücher", "abc", "000003a9"]


def test_optional_parameters_accept_null(tmpdir_short):
    code = '''
from typing import Optional

async def main(limit: Optional[int] = None, name: str | None = None, flag: bool = False):
    return [limit, name, flag]
'''
    assert run_ok(code, tmpdir_short) == [None, None, False]
    assert run_ok(code, tmpdir_short, args={"limit": None, "name": "x"}) == [None, "x", False]
    schema = sandbox_validate(code, tmpdir_short).data["input_schema"]
    assert schema["properties"]["limit"]["type"] == ["integer", "null"]
    assert schema["properties"]["name"]["type"] == ["string", "null"]
    assert schema["properties"]["flag"]["type"] == "boolean"
    assert schema["required"] == []


def test_underscore_names_and_helpers(tmpdir_short):
    assert run_ok('''
_CACHE = {}

def _helper(n):
    if n not in _CACHE:
        _CACHE[n] = n * n
    return _CACHE[n]

async def main(_unused: int = 0):
    total = 0
    for _ in range(3):
        total += _helper(3)
    first, _ = (1, 2)
    _tmp = [x for x, _ in [(1, "a"), (2, "b")]]
    match {"k": 1, "rest": 2}:
        case {"k": _k, **_rest}:
            matched = [_k, _rest]
    return [total, first, _tmp, matched, sorted(_CACHE)]
''', tmpdir_short) == [27, 1, [1, 2], [1, {"rest": 2}], [3]]


def test_generic_stack_and_callable(tmpdir_short):
    assert run_ok('''
from typing import Generic, TypeVar
T = TypeVar("T")

class Stack(Generic[T]):
    def __init__(self):
        self._items: list[T] = []

    def push(self, item: T) -> None:
        self._items.append(item)

    def pop(self) -> T:
        return self._items.pop()

    def __len__(self):
        return len(self._items)

class Multiplier:
    def __init__(self, k):
        self._k = k

    def __call__(self, x):
        return x * self._k

async def main():
    s = Stack[int]()
    for i in range(4):
        s.push(i)
    return [s.pop(), len(s), list(map(Multiplier(3), [1, 2]))]
''', tmpdir_short) == [3, 3, [3, 6]]


def test_json_encoder_subclass(tmpdir_short):
    assert run_ok('''
import json as js
from datetime import date

class Encoder(js.JSONEncoder):
    def __init__(self, **kw):
        super().__init__(**kw)
        self._seen = 0

    def default(self, o):
        if isinstance(o, date):
            self._seen += 1
            return o.isoformat()
        return super().default(o)

async def main():
    return js.loads(js.dumps({"d": date(2024, 1, 2)}, cls=Encoder))
''', tmpdir_short) == {"d": "2024-01-02"}


# --- the same features, hostile ---------------------------------------------------

HOSTILE = {
    # the runtime check: `_x` only on the tool's own classes and instances
    "module_private": ("async def main():\n    return json._default_encoder\n",
                       "only available on the tool's own classes"),
    "library_instance_private": ("import string\nasync def main():\n"
                                 "    return string.Formatter()._vformat\n",
                                 "only available on the tool's own classes"),
    "http_private": ("async def main():\n    return http._channel\n",
                     "only available on the tool's own classes"),
    "library_base_private": ('''
import string
class T(string.Template):
    def peek(self):
        return self._invalid
async def main():
    return T("x").peek()
''', "only available on the tool's own classes"),
    "set_private_on_module": ("async def main():\n    datetime._x = 1\n",
                              "only available on the tool's own classes"),
    "init_on_view": ("async def main():\n    json.__init__(datetime, set())\n",
                     "only available on the tool's own classes"),
    # the validator: hooks and dunder names stay refused
    "getattribute": ("class A:\n    def __getattribute__(self, n):\n        return n\n"
                     "async def main():\n    return 1\n", "'__getattribute__' is not allowed"),
    "init_subclass": ("class A:\n    def __init_subclass__(cls):\n        pass\n"
                      "async def main():\n    return 1\n", "'__init_subclass__' is not allowed"),
    "class_getitem": ("class A:\n    def __class_getitem__(cls, i):\n        return i\n"
                      "async def main():\n    return 1\n", "'__class_getitem__' is not allowed"),
    "set_name": ("class A:\n    def __set_name__(self, o, n):\n        pass\n"
                 "async def main():\n    return 1\n", "'__set_name__' is not allowed"),
    "dunder_outside_class": ("def __init__(self):\n    pass\nasync def main():\n    return 1\n",
                             "may only be defined as a method in a class body"),
    "dunder_attr": ("async def main():\n    return ().__class__\n",
                    "attribute '__class__' is not allowed"),
    "dunder_name": ("async def main():\n    return __builtins__\n",
                    "may not start with '__'"),
    "reserved_name": ("async def main():\n    return _mcpbox_own\n", "is reserved"),
    "underscore_format_field": ("async def main():\n    return '{0._x}'.format(json)\n",
                                "is not allowed"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_use_of_the_same_features_is_refused(name, tmpdir_short):
    code, why = HOSTILE[name]
    result = sandbox_run(code, tmpdir_short, timeout=10)
    assert result.rc == 1 and result.success is False, result
    assert why in result.data["error"]["message"], result


def test_library_imports_are_not_the_tools_allowlist(tmpdir_short):
    """datetime's C code imports `time` under the tool's frame: that works
    with a narrow allowlist, while the tool's own `import time` does not."""
    fmt = '''
async def main():
    return datetime.date(2024, 1, 2).strftime("%A %d %B")
'''
    assert run_ok(fmt, tmpdir_short) == "Tuesday 02 January"
    result = sandbox_run("import time\nasync def main():\n    return time.time()\n",
                         tmpdir_short)
    assert result.rc == 1 and "module 'time' is not allowed" in result.data["error"]["message"]


def test_uuid_does_not_reveal_the_host_mac(tmpdir_short):
    node = run_ok("import uuid\nasync def main():\n    return uuid.getnode()\n", tmpdir_short)
    assert node & (1 << 40), "the node is not a random (multicast) one"
    for name in os.listdir("/sys/class/net"):
        with open(f"/sys/class/net/{name}/address") as f:
            assert f.read().strip().replace(":", "") != f"{node:012x}"


def test_exceptions_are_scrubbed_where_the_tool_first_holds_them(tmpdir_short):
    """The second line behind the views: whatever object an AttributeError
    carries in `obj`, it is gone when the tool catches it (handler,
    except*, group leaves, chained causes, __exit__ / __aexit__ parameters)."""
    assert run_ok('''
class Catch:
    def __enter__(self):
        return self
    def __exit__(self, kind, exc, tb):
        self.obj = exc.obj
        return True
    async def __aenter__(self):
        return self
    async def __aexit__(self, *info):
        self.aobj = info[1].obj
        return True

def boom():
    raise AttributeError("x", name="n", obj=datetime)

async def main():
    out = []
    try:
        boom()
    except AttributeError as e:
        out.append([e.obj, e.name])
    try:
        boom()
    except* AttributeError as group:
        out.append(group.exceptions[0].obj)
    try:
        try:
            boom()
        except AttributeError as first:
            raise ExceptionGroup("g", [ValueError(), first])
    except ExceptionGroup as group:
        out.append(group.exceptions[1].obj)
    c = Catch()
    with c:
        boom()
    async with c:
        boom()
    out.append([c.obj, c.aobj])
    return out
''', tmpdir_short) == [[None, "n"], None, None, [None, None]]


def test_dunder_methods_cannot_hide_a_secret_from_redaction(tmpdir_short):
    """A tool class's __str__/__repr__/items() must not make the redactor see
    something other than what the encoder writes, even with json's decoder
    patched by the tool."""
    pin = "98765432"
    result = sandbox_run('''
class N(int):
    def __str__(self):
        return "0"
    def __repr__(self):
        return "0"

class F(float):
    def __repr__(self):
        return "0.0"

class D(dict):
    def items(self):
        return [("x", N(int(secrets["pin"])))]

async def main():
    v = int(secrets["pin"])
    json.JSONDecoder.decode = lambda self, s, **kw: {"n": N(v)}
    json.JSONDecoder.raw_decode = lambda self, s, idx=0: ({"n": N(v)}, len(s))
    return {"n": N(v), "f": F(v), "l": [N(v)], "d": D(x=1)}
''', tmpdir_short, secrets={"pin": pin})
    assert result.rc == 0 and result.success, result
    assert pin not in result.everything(), result
    assert result.result["n"] == "[REDACTED]" and result.result["l"] == ["[REDACTED]"]
    assert result.result["d"] == {"x": "[REDACTED]"}
