"""A second, independent red-team pass over the sandbox's Python layer,
judged by OUTCOME (same rules as test_sandbox_redteam.py: every case must
fail and leave the trap untouched; ATTACK and REACH climb from whatever the
tool got to the real os).

Cases marked "escaped before" broke the build they were written against
(2026-12-06); the others were tried in the same pass and held, and stay here
so they keep holding.
"""
import os

import pytest

from sandbox_util import run_injected, sandbox_run, sandbox_validate, trap  # noqa: F401
from test_sandbox_escapes import ATTACK, _judge
from test_sandbox_redteam import REACH

CASES = {
    # --- dataclasses exec() source built from Field.name (escaped before) ---
    # Field.name is public and writable: renamed after its class was made,
    # it became code in the __init__ a dataclass inheriting it exec()s, run
    # with the REAL builtins (the exec globals were {}).
    "dataclass_field_renamed_then_inherited": '''
import dataclasses
@dataclasses.dataclass
class A:
    x: int = dataclasses.field(init=False)
async def main():
    dataclasses.fields(A)[0].name = \\
        "x=(_ for _ in ()).throw(LookupError(__import__('os'))),*,q"
    try:
        @dataclasses.dataclass
        class B(A):
            y: int = 1
    except LookupError as e:
        return attack(reach(e.args[0]))
    return escaped("a renamed field was inherited")
''',
    # a Field subclass whose `name` is a property: one name for the check,
    # code for the exec
    "dataclass_field_subclass_name_property": '''
import dataclasses
class F(dataclasses.Field):
    @property
    def name(self):
        return "x=(_ for _ in ()).throw(LookupError(__import__('os'))),*,q"
    @name.setter
    def name(self, value):
        pass
async def main():
    M = dataclasses.MISSING
    f = F(M, M, False, True, None, True, None, M)
    try:
        @dataclasses.dataclass
        class B:
            x: int = f
    except LookupError as e:
        return attack(reach(e.args[0]))
    return escaped("a Field subclass was accepted")
''',
    # renamed to a dunder: asdict()/replace() getattr() it on the instance
    "dataclass_field_renamed_dunder_asdict": '''
import dataclasses
@dataclasses.dataclass
class A:
    x: int = 0
async def main():
    dataclasses.fields(A)[0].name = "__init__"
    d = dataclasses.asdict(A())
    return escaped(d)
''',
    "dataclass_field_renamed_dunder_replace": '''
import dataclasses
@dataclasses.dataclass(init=False)
class A:
    x: int = 0
    def __init__(self, **kw):
        self.kw = kw
async def main():
    dataclasses.fields(A)[0].name = "__reduce_ex__"
    got = dataclasses.replace(A()).kw
    return escaped(got)
''',
    "dataclass_field_renamed_private_of_library": '''
import dataclasses
@dataclasses.dataclass
class A:
    x: int = 0
async def main():
    dataclasses.fields(A)[0].name = "_channel"
    return escaped(dataclasses.asdict(A()))
''',
    # --- functools.cached_property.attrname (escaped before) ----------------
    # writable: set to '__deepcopy__' it planted a hook in an instance's
    # __dict__, and copy.deepcopy handed the hook its memo (every original it
    # copied: the http/progress/log globals' private channel)
    "cached_property_attrname_deepcopy_memo": '''
import copy, functools
got = []
def grab(memo):
    got.append(memo)
class C:
    @functools.cached_property
    def hook(self):
        return grab
async def main():
    C.hook.attrname = "__deepcopy__"
    c = C()
    c.hook
    copy.deepcopy([http, progress, log, c])
    for value in got[0].values():
        if isinstance(value, dict) and "_channel" in value:
            return escaped(value["_channel"])
    return escaped("memo")
''',
    "cached_property_subclass_attrname_property": '''
import copy, functools
got = []
def grab(memo):
    got.append(memo)
class P(functools.cached_property):
    @property
    def attrname(self):
        return "__deepcopy__" if got else "hook"
    @attrname.setter
    def attrname(self, value):
        pass
class C:
    hook = P(lambda self: grab)
async def main():
    got.append(0)
    c = C()
    c.hook
    copy.deepcopy([http, c])
    return escaped(got)
''',
    "cached_property_attrname_class_dunder": '''
import functools
class C:
    @functools.cached_property
    def hook(self):
        return {}
async def main():
    C.hook.attrname = "__dataclass_fields__"
    C().hook
    return escaped("wrote a dunder into an instance dict")
''',
    # --- functools.update_wrapper's __dict__ update (escaped before) -------
    # wrapper.__dict__.update(wrapped.__dict__) copied any object's private
    # members onto one of the tool's own instances, where `_x` is readable
    "update_wrapper_copies_http_channel": '''
import functools
class Box:
    pass
async def main():
    b = Box()
    functools.update_wrapper(b, http)
    return escaped(b._channel)
''',
    "update_wrapper_copies_log_channel": '''
import functools
class Box:
    pass
async def main():
    b = Box()
    functools.update_wrapper(b, log)
    b._channel.send({"type": "log", "level": "error", "data": "raw frame"})
    return escaped(b._channel)
''',
    "wraps_copies_module_view_getter": '''
import functools
class Box:
    pass
async def main():
    b = functools.wraps(json)(Box())
    return escaped(b._get)
''',
    "update_wrapper_copies_http_thunk": '''
import functools
class Box:
    pass
async def main():
    b = Box()
    functools.update_wrapper(b, http.get("https://example.com/"))
    return escaped(b._thunk)
''',
    # a code object is out of reach (dunders), but the constructor that would
    # run one with the real builtins is not offered either
    "dataclasses_function_type_offered": '''
import dataclasses
async def main():
    return escaped(dataclasses.FunctionType)
''',
    # --- held: tried in this pass, stopped already ---------------------------
    "typing_text_alias_format_walk": '''
import typing
async def main():
    return typing.Text.format("ESC{0.__class__.__base__}APED", 1)
''',
    "annotated_alias_format_walk": '''
import typing
async def main():
    return typing.Annotated[str, 0].format("ESC{0.__class__.__base__}APED", 1)
''',
    "match_value_library_private": '''
async def main():
    match 5:
        case json.JSONEncoder._iterencode:
            return escaped("matched a library private")
    raise RuntimeError("not reached")
''',
    "calendar_main_argparse": '''
import calendar
async def main():
    calendar.main(["cal", "--help"])
    return escaped("argparse was loaded inside the sandbox")
''',
    "re_scanner_callback_self": '''
import re
async def main():
    got = re.Scanner([(r"\\w+", lambda scanner, token: scanner)]).scan("abc")[0][0]
    return attack(reach(got.scanner))
''',
    "exception_group_split_predicate": '''
seen = []
async def main():
    try:
        json.nothing
    except AttributeError as e:
        group = ExceptionGroup("g", [e])
    group.split(lambda leaf: seen.append(leaf) or True)
    return attack(reach(seen[-1].obj))
''',
    "namedtuple_module_tool_privates": '''
import collections
async def main():
    T = collections.namedtuple("T", "a", module="tool")
    return attack(reach(T._make.__globals__))
''',
    "secrets_mapping_init": '''
async def main():
    secrets.__init__()
    return escaped(secrets)
''',
    # --- held: library code that builds source text from the tool's names ---
    "namedtuple_str_subclass_field_name": '''
import collections
class S(str):
    def isidentifier(self):
        return True
    def startswith(self, *a):
        return False
class N:
    def __str__(self):
        return S("a=[c for c in ().__class__.__base__.__subclasses__()]")
async def main():
    T = collections.namedtuple("T", [N()])
    return escaped(T())
''',
    "namedtuple_dunder_field_rename_off": '''
import collections
async def main():
    return escaped(collections.namedtuple("T", ["__class__"]))
''',
    "c_stack_nested_iterators_hold_nothing": '''
async def main():
    it = iter([json])
    for i in range(1000000):
        it = map(lambda x: x, it)
    return attack(reach(next(it)))
''',
}

# Modules an admin may approve (not in the forbidden list) or that a tool
# may ask for: each case ran the tool's text or resolved a name to the real
# object before (escaped before, with the module approved), or is refused
# at import now.
APPROVED = {
    "timeit_runs_text_with_real_builtins": ('''
import timeit
async def main():
    try:
        timeit.timeit("raise LookupError(__import__('os'))", number=1)
    except LookupError as e:
        return escaped(reach(e.args[0]))
''', ["timeit"]),
    "pydoc_locate_real_os": ('''
import pydoc
async def main():
    return escaped(reach(pydoc.locate("os")))
''', ["pydoc"]),
    "logging_config_resolver": ('''
import logging.config
async def main():
    return escaped(reach(logging.config.BaseConfigurator({}).resolve("os")))
''', ["logging", "logging.config"]),
    "unittest_loader_by_name": ('''
import unittest
async def main():
    try:
        unittest.TestLoader().loadTestsFromName("os.getpid")    # calls it
    except TypeError as e:
        if "returned" in str(e):
            return escaped(str(e))
    raise RuntimeError("not reached")
''', ["unittest"]),
    "doctest_runs_examples": ('''
import doctest
def f():
    """
    >>> print('ESC' + 'APED', __import__('os').getpid())
    """
async def main():
    doctest.run_docstring_examples(f, {})
''', ["doctest"]),
    "profile_run": ('''
import profile
async def main():
    profile.run("print('ESC' + 'APED')")
''', ["profile"]),
    "cprofile_run": ('''
import cProfile
async def main():
    cProfile.run("print('ESC' + 'APED')")
''', ["cProfile"]),
    "bdb_run": ('''
import bdb
async def main():
    bdb.Bdb().run("print('ESC' + 'APED')")
''', ["bdb"]),
    "trace_run": ('''
import trace
async def main():
    trace.Trace(count=0, trace=0).run("print('ESC' + 'APED')")
''', ["trace"]),
    "rlcompleter_eval": ('''
import rlcompleter
async def main():
    words = rlcompleter.Completer({"j": json}).attr_matches("j.__class__.__base__.")
    return escaped(words)
''', ["rlcompleter"]),
    # approved modules that stay approvable, with the capability removed
    "logging_brace_style_format_walk": ('''
import logging
async def main():
    f = logging.Formatter("ESC{msg.__class__.__base__.__subclasses__}APED", style="{")
    return f.format(logging.LogRecord("n", 20, "p", 1, "m", None, None))
''', ["logging"]),
    "logging_handler_stream_is_the_harness_stdout": ('''
import logging
async def main():
    print("real output")
    stream = logging.StreamHandler().stream
    stream.getvalue = lambda: "ESC" + "APED: the harness read a forged stdout"
    raise RuntimeError("the outcome is a failure")
''', ["logging"]),
}
YAML = os.path.isdir("/usr/lib/python3/dist-packages/yaml")
if YAML:
    APPROVED.update({
        "yaml_full_loader_python_name": ('''
import yaml
async def main():
    return escaped(yaml.load("!!python/name:os.getpid", Loader=yaml.FullLoader))
''', ["yaml"]),
        "yaml_unsafe_loader_apply": ('''
import yaml
async def main():
    return escaped(yaml.unsafe_load("!!python/object/apply:os.getpid []"))
''', ["yaml"]),
    })


def _code(trap, body):
    return trap.fill(ATTACK + REACH + body)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_pass_case_is_stopped(name, trap, tmpdir_short):
    result = sandbox_run(_code(trap, CASES[name]), tmpdir_short, timeout=10)
    _judge(trap, result)


@pytest.mark.parametrize("name", sorted(APPROVED))
def test_approved_module_case_is_stopped(name, trap, tmpdir_short):
    body, modules = APPROVED[name]
    result = sandbox_run(_code(trap, body), tmpdir_short, timeout=10, modules=modules)
    _judge(trap, result)


def test_library_exec_of_source_text_is_refused_even_with_the_real_builtins(trap):
    """exec/eval/compile of the real builtins module refuse every caller but
    dataclasses' and namedtuple's code generators and ast.parse: shown here
    with the real sys handed to the tool (test builds), so the tool itself
    calls them."""
    result = run_injected('''
import dataclasses, collections
async def main():
    real = sys.modules["builtins"]
    out = []
    for name, call in (("exec", lambda: real.exec("print('ESC' + 'APED')")),
                       ("eval", lambda: real.eval("1 + 1")),
                       ("compile", lambda: real.compile("1", "x", "eval"))):
        try:
            call()
            out.append(name + " ran")
        except RuntimeError as e:
            out.append(name + " refused")
    @dataclasses.dataclass
    class P:
        x: int = 1
    out.append(repr(P()))
    out.append(repr(collections.namedtuple("T", "a b")(1, 2)))
    return out
''')
    assert result.rc == 0, result
    assert result.result == ["exec refused", "eval refused", "compile refused",
                             "main.<locals>.P(x=1)", "T(a=1, b=2)"], result
    trap.assert_untouched(result)


@pytest.mark.parametrize("command", ["F_SETOWN", "F_SETOWN_EX", "F_SETSIG"])
def test_fcntl_that_would_signal_another_process_kills_the_child(command, trap):
    """Process layer, escaped before (by the rules, not yet by a delivered
    signal): with the real os and fcntl (an approved `mailbox` loads fcntl),
    F_SETOWN/F_SETOWN_EX/F_SETSIG + O_ASYNC make the kernel signal another
    process when the pipe becomes ready -- `kill` by another name, delivered
    when the executor does not run as root. Now SIGSYS, like `kill`; the fcntl
    commands CPython uses on its own fds still work."""
    # the fcntl module has no F_SETOWN_EX: Linux's number is 15
    cmd, arg = ("15", "bytes(8)") if command == "F_SETOWN_EX" else ("f." + command, "os.getpid()")
    result = run_injected(f'''
async def main():
    f = sys.modules["fcntl"]
    assert f.fcntl(4, f.F_GETFL) >= 0 and f.fcntl(4, f.F_GETFD) >= 0 and os.dup(4) > 4
    f.fcntl(3, {cmd}, {arg})
    print("ESC" + "APED")
    return "{command} allowed"
''', extra_modules=["mailbox"])
    assert result.data is not None and result.error_type == "SandboxViolation", result
    trap.assert_untouched(result)


@pytest.mark.skipif(not YAML, reason="PyYAML is not installed")
def test_yaml_and_logging_still_work_when_approved(tmpdir_short):
    code = '''
import yaml, logging
async def main():
    data = yaml.safe_load("a: [1, 2]\\nb: {c: d}")
    full = yaml.load("x: 1", Loader=yaml.FullLoader)
    f = logging.Formatter("{levelname}:{msg}", style="{")
    line = f.format(logging.LogRecord("n", 20, "p", 1, "hello", None, None))
    return {"data": data, "full": full, "line": line}
'''
    result = sandbox_run(code, tmpdir_short, timeout=10, modules=["yaml", "logging"])
    assert result.success, result
    assert result.result == {"data": {"a": [1, 2], "b": {"c": "d"}}, "full": {"x": 1},
                             "line": "INFO:hello"}


def test_secrets_and_arguments_cannot_be_reached_through_a_comparison(tmpdir_short):
    """Escaped before: types.MappingProxyType hands the dict it wraps to the
    other operand's __eq__, so `secrets == obj` gave the tool the real,
    writable dict. The mappings still behave as read-only dicts."""
    code = '''
got = []
class Grab:
    def __eq__(self, other):
        got.append(other)
        return False
    def __hash__(self):
        return 0
async def main(n: int):
    secrets == Grab()
    arguments == Grab()
    for d in got:
        try:
            d["NEW"] = "x"
        except Exception:
            pass
    return {"secrets": sorted(secrets), "arguments": sorted(arguments),
            "equal": secrets == {"API_KEY": "s3cr3t-value"} and arguments == {"n": 1},
            "merged": sorted(secrets | {"b": 1}), "get": secrets.get("API_KEY") is not None,
            "len": len(secrets), "in": "API_KEY" in secrets, "copy": sorted(dict(arguments))}
'''
    result = sandbox_run(code, tmpdir_short, timeout=10, args={"n": 1},
                         secrets={"API_KEY": "s3cr3t-value"})
    assert result.success, result
    assert result.result == {"secrets": ["API_KEY"], "arguments": ["n"], "equal": True,
                             "merged": ["API_KEY", "b"], "get": True, "len": 1, "in": True,
                             "copy": ["n"]}, result


def test_validate_survives_a_deeply_nested_string_annotation(tmpdir_short):
    """Broke before: the parser's MemoryError on a string annotation nested
    90,000 deep escaped the schema extraction ('the sandbox harness failed')."""
    code = 'async def main(x: "' + "-" * 90000 + '1" = 1, y: int = 2):\n    return x\n'
    result = sandbox_validate(code, tmpdir_short)
    assert result.success and result.data.get("valid") is True, result
    assert result.data["input_schema"]["properties"]["y"] == {"type": "integer", "default": 2}


def test_dataclasses_cached_property_and_wraps_still_work(tmpdir_short):
    """What the fixes must keep working: inheritance of dataclasses, fields,
    replace/asdict, cached_property with a private name, functools.wraps
    keeping a function's public attributes, string forward references in
    typing subscripts (typing.ForwardRef compiles them: a caller of compile
    the guard lets through)."""
    code = '''
import dataclasses, functools, typing
@dataclasses.dataclass
class Base:
    a: int
    b: str = "x"
@dataclasses.dataclass
class Child(Base):
    c: list = dataclasses.field(default_factory=list)
class Area:
    def __init__(self, w):
        self.w = w
    @functools.cached_property
    def _side(self):
        return self.w * 2
    @functools.cached_property
    def total(self):
        return self._side + 1
def deco(f):
    @functools.wraps(f)
    def inner(*a):
        return f(*a)
    return inner
def tagged(x):
    return x
tagged.label = "kept"
@dataclasses.dataclass
class Node:
    value: int
    children: typing.List["Node"] = dataclasses.field(default_factory=list)
    parent: typing.Optional["Node"] = None
async def main():
    tree = dataclasses.asdict(Node(1, [Node(2)]))
    assert tree == {"value": 1, "children": [{"value": 2, "children": [], "parent": None}],
                    "parent": None}, tree
    wrapped = deco(tagged)
    assert wrapped.label == "kept" and wrapped(3) == 3
    c = Child(1, "y", [3])
    names = [f.name for f in dataclasses.fields(Child)]
    r = dataclasses.replace(c, a=5)
    area = Area(4)
    return {"names": names, "asdict": dataclasses.asdict(r), "total": area.total,
            "again": area.total}
'''
    result = sandbox_run(code, tmpdir_short, timeout=10)
    assert result.success, result
    assert result.result == {"names": ["a", "b", "c"], "asdict": {"a": 5, "b": "y", "c": [3]},
                             "total": 9, "again": 9}
