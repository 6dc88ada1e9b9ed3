"""The project's own red team against the sandbox's Python layer, judged by OUTCOME.

Each case is a tool that tries to reach something real through a path the
validator cannot see (library internals, exception payloads, class machinery,
formatting, the harness's own globals). It hands whatever it got to REACH,
which climbs to the real os and runs ATTACK (read the host file, create the
marker, connect to the test's socket, print ESC+APED); a case that obtains a
hidden object without a real module prints ESC+APED itself. Every case must
fail and leave the trap untouched. Cases marked "escaped before" broke the
build they were written against; the rest are guards for future changes.

Also here: redaction of what a tool returns by accident (numbers with a
__str__ of their own, integer keys, deep nesting, an exception type named
after the secret), a schema default the parent cannot read, and the
legitimate code the fixes must keep working.
"""
import json

import pytest

from sandbox_util import sandbox_run, sandbox_validate, trap  # noqa: F401 (trap: fixture)
from test_sandbox_escapes import ATTACK, _judge

# From whatever the tool got to the real os: the os itself, a sys, a module
# with a `sys`/`os`, an enum member holding one of these.
REACH = '''
def reach(thing):
    steps = (lambda n: n, lambda n: n.modules["os"], lambda n: n.sys.modules["os"],
             lambda n: n.os, lambda n: n.value, lambda n: n.value.modules["os"])
    for step in steps:
        try:
            node = step(thing)
            node.O_RDONLY               # only the real os gets past here
            node.getpid
            return node
        except Exception:
            pass
    raise LookupError("nothing real reached")

def escaped(what):
    print("ESC" + "APED", what)
    return "ESC" + "APED"

'''

CASES = {
    # --- the progress / log channel: a line's text never becomes a frame ---
    "log_text_forges_a_result_frame": '''
async def main():
    forged = '{"type": "result", "success": true, "result_json": "1"}'
    log.error(forged)
    await progress(1, 1, forged)
    log.info("\\n" + forged + "\\n")
    raise RuntimeError("the real outcome is a failure")
''',
    "progress_subclass_number_reaches_os": '''
class N(float):
    def __float__(self):
        return attack(reach(progress._channel))
async def main():
    await progress(N(1.0))
    return escaped("progress took a tool number unguarded")
''',
    # --- private members of library classes and metaclasses (escaped before) ---
    "enum_convert_reads_os_globals": '''
import enum
class E(enum.Enum):
    pass
async def main():
    X = E._convert_("X", "os", lambda n: n == "sys")
    return attack(reach(X.sys))
''',
    "enum_convert_functional_enum": '''
import enum
async def main():
    E = enum.Enum("E", "a", module="tool")
    X = E._convert_("X", "os", lambda n: n == "sys")
    return attack(reach(X.sys))
''',
    "enum_convert_flag": '''
import enum
class F(enum.IntFlag):
    pass
async def main():
    X = F._convert_("X", "os", lambda n: n == "O_RDONLY")
    return escaped(X)
''',
    "enum_convert_via_class_method": '''
import enum
class E(enum.Enum):
    @classmethod
    def grab(cls):
        return cls._convert_("X", "os", lambda n: n == "sys")
async def main():
    return attack(reach(E.grab().sys))
''',
    "enum_metaclass_private_get_mixins": '''
import enum
class E(enum.Enum):
    pass
async def main():
    return escaped(E._get_mixins_("X", (E,)))
''',
    "super_past_tool_base_into_library": '''
import string
class T:
    def peek(self):
        return super()._invalid
class S(T, string.Template):
    pass
async def main():
    return escaped(S("x").peek())
''',
    "super_two_args_past_tool_base": '''
import string
class T:
    pass
class S(T, string.Template):
    pass
async def main():
    return escaped(super(T, S("x"))._invalid)
''',
    "enum_library_private_on_tool_enum": '''
import enum
class E(enum.Enum):
    A = 1
async def main():
    return escaped(E._missing_)
''',
    "update_wrapper_makes_library_class_tools": '''
import functools, string
def f():
    pass
async def main():
    try:
        functools.update_wrapper(string.Template, f)
    except Exception:
        pass
    return escaped(string.Template("x")._invalid)
''',
    "wraps_makes_library_class_tools": '''
import functools, string
def f():
    pass
async def main():
    try:
        functools.wraps(f)(string.Formatter)
    except Exception:
        pass
    return escaped(string.Formatter()._vformat)
''',
    # --- exceptions reaching the tool without the scrub (escaped before) ---
    "exit_assigned_after_class": '''
class Keep:
    seen = []
def keep(self, t, v, tb):
    Keep.seen.append(v)
    return True
class CM:
    def __enter__(self):
        return self
CM.__exit__ = keep
async def main():
    with CM():
        json.no_such_attribute
    if Keep.seen[0].obj is not None:
        return escaped(Keep.seen[0].obj)
''',
    "exit_decorated": '''
class Keep:
    seen = []
def swap(f):
    def keep(self, t, v, tb):
        Keep.seen.append(v)
        return True
    return keep
class CM:
    def __enter__(self):
        return self
    @swap
    def __exit__(self, t, v, tb):
        pass
async def main():
    with CM():
        datetime.no_such_attribute
    if Keep.seen[0].obj is not None:
        return escaped(Keep.seen[0].obj)
''',
    "exit_set_by_class_decorator": '''
class Keep:
    seen = []
def keep(self, t, v, tb):
    Keep.seen.append(v)
    return True
def deco(cls):
    cls.__exit__ = keep
    return cls
@deco
class CM:
    def __enter__(self):
        return self
async def main():
    with CM():
        json.no_such_attribute
    if Keep.seen[0].obj is not None:
        return escaped(Keep.seen[0].obj)
''',
    "aexit_assigned_after_class": '''
class Keep:
    seen = []
async def keep(self, t, v, tb):
    Keep.seen.append(v)
    return True
class CM:
    async def __aenter__(self):
        return self
CM.__aexit__ = keep
async def main():
    async with CM():
        json.no_such_attribute
    if Keep.seen[0].obj is not None:
        return escaped(Keep.seen[0].obj)
''',
    "exit_staticmethod": '''
class Keep:
    seen = []
class CM:
    def __enter__(self):
        return self
    @staticmethod
    def __exit__(t, v, tb):
        Keep.seen.append(v)
        return True
async def main():
    with CM():
        json.no_such_attribute
    return escaped(Keep.seen[0].obj)
''',
    "exit_deleted_and_replaced": '''
class CM:
    def __enter__(self):
        return self
    def __exit__(self, *a):
        return True
async def main():
    del CM.__exit__
    return escaped(CM)
''',
    "exit_lambda_in_class_body": '''
class CM:
    def __enter__(self):
        return self
    __exit__ = lambda self, t, v, tb: True
async def main():
    return escaped(CM)
''',
    "class_attribute_dunder_store": '''
class C:
    pass
async def main():
    C.__init__ = print
    return escaped(C)
''',
    # --- exception payloads (guards) ---
    "json_decode_error_doc": '''
async def main():
    try:
        json.loads(b'{"a": ')
    except ValueError as e:
        return attack(reach(e.doc))
''',
    "unicode_error_object_from_codec": '''
async def main():
    try:
        b"\\xff\\xfe\\x00".decode("utf-16-le")
    except UnicodeError as e:
        return attack(reach(e.object))
''',
    "re_error_pattern": '''
import re
async def main():
    try:
        re.compile("(")
    except re.error as e:
        return attack(reach(e.pattern))
''',
    "decimal_signal_args": '''
import decimal
async def main():
    try:
        decimal.Decimal(1) / decimal.Decimal(0)
    except decimal.DivisionByZero as e:
        return attack(reach(e.args[0][0]))
''',
    "decimal_context_payloads": '''
import decimal
async def main():
    ctx = decimal.getcontext()
    for thing in (ctx, ctx.traps, ctx.flags, decimal.localcontext()):
        try:
            return attack(reach(thing))
        except LookupError:
            pass
    raise LookupError("none")
''',
    "zoneinfo_not_found_payload": '''
import zoneinfo
async def main():
    try:
        zoneinfo.ZoneInfo("Nowhere/Nothing")
    except Exception as e:
        return attack(reach(e.args[0]))
''',
    "statistics_error_payload": '''
import statistics
async def main():
    try:
        statistics.mean([])
    except statistics.StatisticsError as e:
        return attack(reach(e.args[0]))
''',
    "enum_key_error_payload": '''
import enum
async def main():
    E = enum.Enum("E", "a")
    try:
        E["nope"]
    except KeyError as e:
        return attack(reach(e.args[0]))
''',
    "library_generator_stop_value": '''
import difflib
async def main():
    g = difflib.ndiff(["a"], ["b"])
    try:
        while True:
            next(g)
    except StopIteration as e:
        return attack(reach(e.value))
''',
    "generator_exit_in_tool_generator": '''
seen = []
def gen():
    try:
        yield 1
    except GeneratorExit as e:
        seen.append(e)
        raise
async def main():
    g = gen()
    next(g)
    g.close()
    return attack(reach(seen[0].args))
''',
    "group_derive_override": '''
class EG(ExceptionGroup):
    seen = []
    def derive(self, excs):
        EG.seen.extend(excs)
        return EG(self.message, excs)
async def main():
    try:
        try:
            json.no_such_attribute
        except AttributeError as e:
            raise EG("g", [e, ValueError()])
    except* AttributeError as group:
        leaf = group.exceptions[0]
        if leaf.obj is not None:
            return escaped(leaf.obj)
    return attack(reach(EG.seen[0].obj if EG.seen else None))
''',
    "with_traceback_keeps_nothing": '''
async def main():
    try:
        datetime.no_such_attribute
    except AttributeError as e:
        f = e.with_traceback(None)
        return attack(reach(f.obj))
''',
    "exit_traceback_frame": '''
class CM:
    def __enter__(self):
        return self
    def __exit__(self, t, v, tb):
        self.frame = tb.tb_frame
        return True
async def main():
    c = CM()
    with c:
        raise ValueError()
    return attack(reach(c.frame.f_globals["os"]))
''',
    # --- objects library APIs hand back (guards) ---
    "partial_of_module_function": '''
import functools
async def main():
    p = functools.partial(json.dumps, indent=1)
    return attack(reach(p.func))
''',
    "lru_cache_parameters": '''
import functools
@functools.lru_cache(maxsize=4)
def f(x):
    return x
async def main():
    f(json)
    return attack(reach(f.cache_parameters()))
''',
    "chainmap_maps": '''
import collections
async def main():
    return attack(reach(collections.ChainMap(secrets, arguments).maps[0]))
''',
    "template_pattern_and_match": '''
import string, re
async def main():
    m = string.Template.pattern.match("$x")
    for thing in (string.Template.pattern, m.re, m.string):
        try:
            return attack(reach(thing))
        except LookupError:
            pass
    raise LookupError("none")
''',
    "dataclass_field_objects": '''
import dataclasses
@dataclasses.dataclass
class P:
    x: list = dataclasses.field(default_factory=list)
async def main():
    f = dataclasses.fields(P)[0]
    return attack(reach(f.default_factory))
''',
    "sequence_matcher_internals": '''
import difflib
async def main():
    sm = difflib.SequenceMatcher(None, "abc", "abd")
    sm.ratio()
    return attack(reach(sm.b2j))
''',
    "copy_of_http_global": '''
import copy
async def main():
    for thing in (copy.copy(http), copy.deepcopy(http), copy.copy(arguments)):
        try:
            return attack(reach(thing))
        except LookupError:
            pass
    raise LookupError("none")
''',
    "json_encoder_default_patched": '''
seen = []
def grab(self, o):
    seen.append(self)
    return 0
async def main():
    json.JSONEncoder.default = grab
    json.dumps({1, 2})
    return attack(reach(seen[0]))
''',
    "tzinfo_subclass_callbacks": '''
seen = []
class Z(datetime.tzinfo):
    def utcoffset(self, dt):
        seen.append(dt)
        return datetime.timedelta(0)
    def dst(self, dt):
        return datetime.timedelta(0)
    def tzname(self, dt):
        return "Z"
async def main():
    datetime.datetime(2024, 1, 1, tzinfo=Z()).strftime("%z %Z")
    return attack(reach(seen[0]))
''',
    "http_ready_thunk": '''
async def main():
    r = http.get("http://127.0.0.1:1/")
    return attack(reach(r._thunk))
''',
    "http_bound_method_self": '''
async def main():
    return attack(reach(http.get.__self__))
''',
    "typing_get_args_of_main": '''
import typing
async def main(x: typing.Optional[int] = None):
    return attack(reach(typing.get_args(typing.Optional[int])))
''',
    # --- class machinery (guards) ---
    "metaclass_keyword": '''
class M(object, metaclass=object):
    pass
async def main():
    return escaped(M)
''',
    "type_origin_as_base": '''
import typing
class M(typing.Type[int]):
    pass
async def main():
    return escaped(M)
''',
    "class_getitem_definition": '''
class C:
    def __class_getitem__(cls, item):
        return item
async def main():
    return attack(reach(C[json]))
''',
    "mro_entries_definition": '''
class B:
    def __mro_entries__(self, bases):
        return (object,)
async def main():
    return escaped(B)
''',
    "set_class_of_instance": '''
class Mine:
    pass
async def main():
    s = json.JSONDecoder()
    s.__class__ = Mine
    return escaped(s._x)
''',
    "super_zero_arg_object_internals": '''
class C:
    def peek(self):
        return super().__reduce_ex__(2)
async def main():
    return attack(reach(C().peek()))
''',
    # --- formatting and matching (guards) ---
    "format_spec_on_view": '''
async def main():
    return attack(reach(f"{json!r:>40}" + format(datetime, "")))
''',
    "format_map_mapping_returns_view": '''
class M(dict):
    def __missing__(self, key):
        return json
async def main():
    return attack(reach("{x.decoder.sys}".format_map(M())))
''',
    "formatter_get_value_override": '''
import string
class F(string.Formatter):
    def get_value(self, key, args, kwargs):
        return json
async def main():
    return escaped(F().format("{0._default_encoder}"))
''',
    "match_class_pattern_on_view": '''
async def main():
    match json:
        case object(decoder=d):
            return attack(reach(d))
    raise LookupError("the view's hidden submodule did not match")
''',
    "match_positional_on_library_class": '''
async def main():
    match datetime.date(2024, 1, 2):
        case datetime.date(y):
            return escaped(y)
''',
    "walrus_in_comprehension": '''
async def main():
    found = [m for x in (1,) if (m := json)]
    return attack(reach(found[0]))
''',
    "nfkc_dunder_in_format_field": '''
async def main():
    return escaped("{0.\\uff3f\\uff3fclass\\uff3f\\uff3f}".format(1))
''',
    "nfkc_dunder_identifier": '''
async def main():
    return attack(reach(json.\uff3f\uff3fclass\uff3f\uff3f))
''',
    "coroutine_frame": '''
async def inner():
    return 1
async def main():
    c = inner()
    return attack(reach(c.cr_frame.f_globals["os"]))
''',
    "async_generator_frame": '''
async def agen():
    yield 1
async def main():
    return attack(reach(agen().ag_frame))
''',
    "crafted_awaitable": '''
class A:
    def __await__(self):
        yield json
async def main():
    return attack(reach(await A()))
''',
    "generator_send_view": '''
def gen():
    got = yield 1
    yield got
async def main():
    g = gen()
    next(g)
    return attack(reach(g.send(json)))
''',
    "library_getattr_by_string_mul": '''
import statistics
async def main():
    return attack(reach(statistics.mul))
''',
    "dataclass_function_type": '''
import dataclasses
async def main():
    return escaped(dataclasses.FunctionType(main.__code__, {}))
''',
}


def _code(trap, body):
    return trap.fill(ATTACK + REACH + body)


@pytest.mark.parametrize("name", sorted(CASES))
def test_redteam_case_is_stopped(name, trap, tmpdir_short):
    result = sandbox_run(_code(trap, CASES[name]), tmpdir_short, timeout=10)
    _judge(trap, result)


# --- validation paths run nothing and answer well-formed ---------------------

VALIDATE_CASES = {
    "default_argument_side_effect": '''
async def main(x=print("ESC" + "APED")):
    return x
''',
    "decorator_side_effect": '''
def deco(f):
    print("ESC" + "APED")
    return f
@deco
async def main():
    return 1
''',
    "string_annotation_is_not_evaluated": '''
async def main(x: "print('ESC' + 'APED') or int" = 1):
    return x
''',
}


@pytest.mark.parametrize("name", sorted(VALIDATE_CASES))
def test_validate_runs_nothing(name, trap, tmpdir_short):
    result = sandbox_validate(trap.fill(VALIDATE_CASES[name]), tmpdir_short)
    assert result.data is not None, result
    trap.assert_untouched(result)


def test_schema_default_infinity_is_not_a_violation(tmpdir_short):
    """A default the schema cannot carry (1e999) was sent as `Infinity`: the
    parent refused the frame as a sandbox violation. It is left out."""
    code = "async def main(x: float = 1e999, y: float = 2.5):\n    return x\n"
    result = sandbox_validate(code, tmpdir_short)
    assert result.rc == 0 and result.data and result.data.get("valid") is True, result
    props = result.data["input_schema"]["properties"]
    assert "default" not in props["x"] and props["y"]["default"] == 2.5, result


# --- redaction of what a tool hands back by accident -------------------------

SECRET = "Sekr3tValue-9fa1c07e"
NUMBER = "987654321987"

REDACTION_CASES = {
    "int_subclass_with_own_str": f'''
class I(int):
    def __str__(self):
        return "0"
    def __repr__(self):
        return "0"
async def main():
    return {{"v": I(int(secrets["n"])), "l": [I(int(secrets["n"]))]}}
''',
    "float_subclass_with_own_str": '''
class F(float):
    def __str__(self):
        return "0"
    def __repr__(self):
        return "0"
async def main():
    return [F(float(secrets["n"]))]
''',
    "integer_dict_key": '''
async def main():
    return {int(secrets["n"]): "x"}
''',
    "str_subclass_key": '''
class S(str):
    pass
async def main():
    return {S(secrets["s"]): 1}
''',
    "deeper_than_redaction_recursion": '''
async def main():
    value = [secrets["s"]]
    for _ in range(400):
        value = [value]
    return value
''',
    "exception_type_named_after_secret": '''
import enum, functools
class Boom(Exception):
    pass
async def main():
    named = enum.Enum(secrets["s"], "a")
    try:
        functools.update_wrapper(Boom, named)
    except Exception:
        pass
    raise Boom("x")
''',
}


@pytest.mark.parametrize("name", sorted(REDACTION_CASES))
def test_secret_never_comes_out(name, tmpdir_short):
    result = sandbox_run(REDACTION_CASES[name], tmpdir_short, timeout=10,
                         secrets={"s": SECRET, "n": NUMBER})
    assert result.data is not None, result
    text = result.everything()
    assert SECRET not in text and NUMBER not in text, result
    assert SECRET[::-1] not in text and SECRET.upper() not in text, result


def test_stdout_str_subclass_cannot_break_the_harness(tmpdir_short):
    """print() of a str subclass whose __str__ returns itself hands write()
    an object whose slicing is the tool's: the harness failed after the
    tool ran (all stdout lost, a SandboxError)."""
    code = '''
class S(str):
    def __str__(self):
        return self
    def __getitem__(self, k):
        return 5
    def __len__(self):
        return 0
async def main():
    print(S("hello"))
    return "done"
'''
    result = sandbox_run(code, tmpdir_short, timeout=10)
    assert result.success and result.result == "done", result
    assert result.data["stdout"] == "hello\n", result


def test_wide_int_rule_is_not_the_tools_to_bend(tmpdir_short):
    """An int subclass's __int__ and a dict subclass's items()/__getitem__
    decided how the harness copied the result (a KeyError inside the
    harness; an integer over 64 bits sent as a number)."""
    code = '''
class N(int):
    def __int__(self):
        return 1
class D(dict):
    def items(self):
        return [("k", 1)]
async def main():
    return {"n": N(2 ** 70), "d": D(x=1)}
'''
    result = sandbox_run(code, tmpdir_short, timeout=10)
    assert result.success, result
    assert result.result == {"n": str(2 ** 70), "d": {"k": 1}}, result


# --- what the fixes must keep working -----------------------------------------

LEGIT = '''
import enum, functools, typing, string

class Base:
    _registry = {}
    def __init__(self, name):
        self._name = name
        Base._registry[name] = self
    def _helper(self):
        return self._name.upper()

class Child(Base):
    def __init__(self, name):
        super().__init__(name)
        self._extra = super()._helper()
    def _helper(self):
        return "child:" + super()._helper()

class Color(enum.Enum):
    RED = 1
    GREEN = 2
    @classmethod
    def _missing_(cls, value):
        return cls.RED

class Counted:
    def __init__(self, func):
        functools.update_wrapper(self, func)
        self._func = func
        self._calls = 0
    def __call__(self, *a):
        self._calls += 1
        return self._func(*a)

@Counted
def double(x):
    return 2 * x

def logged(f):
    @functools.wraps(f)
    def inner(*a):
        return f(*a)
    return inner

@logged
def triple(x):
    return 3 * x

class Point(typing.NamedTuple):
    x: int
    y: int

class Suppress:
    def __init__(self):
        self.caught = None
    def __enter__(self):
        return self
    def __exit__(self, kind, exc, tb):
        self.caught = str(exc)
        return True

class Err(Exception):
    def __init__(self, msg):
        Exception.__init__(self, msg)
        self._code = 7

async def main():
    c = Child("a")
    Child._counter = 3
    s = Suppress()
    with s:
        raise ValueError("boom")
    try:
        raise Err("e")
    except Err as e:
        code = e._code
    p = Point(1, 2)._replace(y=5)
    return [c._name, c._extra, c._helper(), Child._counter, sorted(Base._registry),
            Color(9).name, Color.RED._value_, double(4), double._calls, triple(2),
            "triple", p._asdict(), s.caught, code]
'''


def test_legitimate_code_still_runs(tmpdir_short):
    result = sandbox_run(LEGIT, tmpdir_short, timeout=10)
    assert result.success, result
    assert result.result == ["a", "A", "child:A", 3, ["a"], "RED", 1, 8, 1, 6, "triple",
                             {"x": 1, "y": 5}, "boom", 7], result
