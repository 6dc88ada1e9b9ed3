"""Escape corpus for the sandbox, judged by OUTCOME.

Part 1 goes through `mcpbox sandbox run`: each case is a small tool that tries
to reach the interpreter's internals (dunders, frames, real modules, eval,
str.format walks, library functions that take attribute names as strings...)
and, if it gets there, runs ATTACK: read the host file, create the marker in a
world-writable directory, connect to the test's TCP socket, print/return the
word ESC+APED. The test asserts none of that happened and the run failed.

Part 2 bypasses the Python layer ON PURPOSE: "test_inject_os" hands the tool
the real os and sys modules (test builds only), so rlimits, the uid drop and
seccomp must hold alone: exec, fork, threads, kill, opening files, the
parent's environment.
"""
import os
import re

import pytest

from sandbox_util import NOBODY, run_injected, sandbox_run, trap  # noqa: F401 (trap: fixture)

# Runs once the tool believes it holds the real os module. The word is built
# at run time so that source lines quoted in an error's context never
# contain it.
ATTACK = '''
def attack(real_os):
    out = ["ESC" + "APED"]
    try:
        fd = real_os.open("@HOSTFILE@", real_os.O_RDONLY)
        out.append(real_os.read(fd, 4096).decode())
    except Exception as e:
        out.append("read failed: " + str(e))
    try:
        real_os.open("@MARKER@", real_os.O_CREAT | real_os.O_WRONLY, 0o666)
    except Exception as e:
        out.append("marker failed: " + str(e))
    try:
        out.append(str(dict(real_os.environ)))
    except Exception as e:
        out.append("environ failed: " + str(e))
    try:
        sock = real_os.sys.modules["importlib"].import_module("socket")
        sock.create_connection(("127.0.0.1", @PORT@))
    except Exception as e:
        out.append("socket failed: " + str(e))
    text = " | ".join(out)
    print(text)
    return text




'''

# A str.format walk that works prints ESC<digits>APED (a harness constant).
WALK = "ESC{0.__func__.__globals__[MAX_CODE_BYTES]}APED"
WALK_DONE = re.compile(r"ESC\d+APED")

# --- the corpus -----------------------------------------------------------------------

CASES = {
    # dunder access in every spelling
    "subclasses_via_tuple": '''
async def main():
    for cls in ().__class__.__base__.__subclasses__():
        if cls.__name__ == "_wrap_close":
            return attack(cls.__init__.__globals__["sys"].modules["os"])
''',
    "mro_chain": '''
async def main():
    base = [].__class__.__mro__[-1]
    for cls in base.__subclasses__():
        if "wrap_close" in str(cls):
            return attack(cls.__init__.__globals__["sys"].modules["os"])
''',
    "getattribute_method": '''
async def main():
    cls = ().__getattribute__("__class__")
    return attack(cls)
''',
    "vars_builtin": '''
async def main():
    return attack(vars(datetime)["sys"].modules["os"])
''',
    "dir_builtin": '''
async def main():
    names = dir(json)
    return attack(names)
''',
    "type_builtin": '''
async def main():
    cls = type(http)
    return attack(cls.request)
''',
    "object_builtin": '''
async def main():
    for cls in object.__subclasses__():
        pass
    return attack(object)
''',
    "fullwidth_dunder": '''
async def main():
    base = ().\uff3f\uff3fclass\uff3f\uff3f.\uff3f\uff3fbase\uff3f\uff3f
    for cls in base.\uff3f\uff3fsubclasses\uff3f\uff3f():
        if "wrap_close" in str(cls):
            return attack(cls.\uff3f\uff3finit\uff3f\uff3f.\uff3f\uff3fglobals\uff3f\uff3f["sys"].modules["os"])
''',
    "mixed_nfkc_dunder": '''
async def main():
    g = http.get.\uff3f_func_\uff3f.\uff3f\uff3fglobals__
    return attack(g["os"])
''',
    "builtins_name": '''
async def main():
    return attack(__builtins__["__import__"]("os"))
''',
    "globals_builtin": '''
async def main():
    return attack(globals()["__builtins__"]["__import__"]("os"))
''',
    "builtins_via_print_self": '''
async def main():
    return attack(print.__self__.__import__("os"))
''',
    "builtins_via_append_self": '''
async def main():
    owner = [].append.__self__
    return attack(owner.__class__)
''',
    "harness_globals_via_bound_method": '''
async def main():
    return attack(http.get.__func__.__globals__["os"])
''',
    "library_globals": '''
async def main():
    return attack(json.dumps.__globals__["codecs"].sys.modules["os"])
''',
    # frames
    "generator_gi_frame": '''
def gen():
    yield 1

async def main():
    g = gen()
    frame = g.gi_frame
    return attack(frame.f_back.f_globals["os"])
''',
    "running_generator_f_back": '''
holder = []

def gen():
    frame = holder[0].gi_frame
    while frame is not None:
        if "os" in frame.f_globals:
            yield attack(frame.f_globals["os"])
        frame = frame.f_back

async def main():
    g = gen()
    holder.append(g)
    return next(g)
''',
    "coroutine_cr_frame": '''
async def helper():
    return 1

async def main():
    c = helper()
    frame = c.cr_frame
    c.close()
    return attack(frame.f_back.f_globals["os"])
''',
    "async_generator_ag_frame": '''
async def agen():
    yield 1

async def main():
    a = agen()
    return attack(a.ag_frame.f_globals)
''',
    "exception_traceback_frames": '''
async def main():
    try:
        raise ValueError("x")
    except ValueError as e:
        tb = e.__traceback__
        frame = tb.tb_frame
        while frame is not None:
            if "os" in frame.f_globals:
                return attack(frame.f_globals["os"])
            frame = frame.f_back
''',
    "exception_context_chain": '''
async def main():
    try:
        json.loads("{")
    except ValueError as e:
        frame = e.__context__.__traceback__.tb_next.tb_frame
        return attack(frame.f_globals)
''',
    "code_object": '''
async def main():
    code = main.__code__
    return attack(code.co_consts)
''',
    # str.format field walks, every route to str.format
    "format_literal": '''
async def main():
    return "@WALK@".format(http.get)
''',
    "format_map": '''
async def main():
    return "@MAPWALK@".format_map({"x": http.get})
''',
    "format_stored_bound_method": '''
async def main():
    f = "@WALK@".format
    return f(http.get)
''',
    "format_unbound_str_format": '''
async def main():
    return str.format("@WALK@", http.get)
''',
    "format_via_map_builtin": '''
async def main():
    return list(map(str.format, ["@WALK@"], [http.get]))
''',
    "format_string_formatter": '''
import string
async def main():
    return string.Formatter().format("@WALK@", http.get)
''',
    "format_string_formatter_subclass": '''
import string
class F(string.Formatter):
    def get_field(self, name, args, kwargs):
        return string.Formatter.get_field(self, name, args, kwargs)

async def main():
    return F().vformat("@WALK@", (http.get,), {})
''',
    "format_nested_spec": '''
async def main():
    return "{0:{1.__func__.__globals__[MAX_CODE_BYTES]}}".format(1, http.get)
''',
    "format_str_subclass_class": '''
class S(str):
    pass

async def main():
    f = S.format
    return f("@WALK@", http.get)
''',
    "format_str_subclass_instance": '''
class S(str):
    pass

async def main():
    return S("@WALK@").format(http.get)
''',
    "format_userstring": '''
import collections
async def main():
    return collections.UserString("@WALK@").format(http.get)
''',
    "format_typing_alias_relay": '''
import typing
async def main():
    return typing.Annotated[str, 0].format("@WALK@", http.get)
''',
    "format_strenum_functional": '''
import enum
async def main():
    E = enum.StrEnum("E", [("a", "@WALK@")])
    return E.a.format(http.get)
''',
    "format_match_keyword": '''
async def main():
    match "@WALK@":
        case str(format=fmt):
            return fmt(http.get)
''',
    "format_dataclass_str_subclass_asdict": '''
import dataclasses
@dataclasses.dataclass(init=False)
class D(str):
    """A docstring, or dataclass() asks inspect.signature for one."""
    format: int = dataclasses.field()

async def main():
    fn = dataclasses.asdict(D("@WALK@"))["format"]
    return fn(http.get)
''',
    "format_abc_register_positional_match": '''
import collections.abc, dataclasses
@dataclasses.dataclass
class A(collections.abc.Sized):
    format: int

async def main():
    A.register(str)
    match "@WALK@":
        case A(fmt):
            return fmt(http.get)
''',
    "format_subclasses_listing": '''
async def main():
    return "{0.__class__.__base__.__subclasses__}".format(())
''',
    # name mangling, class tricks
    "name_mangling": '''
class A:
    __x = 1
    def get(self):
        return self.__x

async def main():
    return attack(A().get())
''',
    "metaclass_keyword": '''
class A(metaclass=print):
    pass

async def main():
    return attack(A)
''',
    "init_subclass": '''
class A:
    def __init_subclass__(cls):
        attack(cls)

class B(A):
    pass

async def main():
    return 1
''',
    "class_getitem": '''
class A:
    def __class_getitem__(cls, item):
        return attack(item)

async def main():
    return A[1]
''',
    "descriptor_get": '''
class D:
    def __get__(self, obj, owner):
        return attack(owner)

class A:
    x = D()

async def main():
    return A().x
''',
    "decorator_attribute_chain": '''
@print.__self__.__import__("os").system
def f():
    pass

async def main():
    return 1
''',
    "metaclass_from_typing_type_base": '''
import typing
class M(typing.Type[int]):
    pass

async def main():
    C = M("C", (), {"__match_args__": ("__globals__",)})
    return attack(C)
''',
    "type_via_get_origin": '''
import typing
async def main():
    T = typing.get_origin(typing.Type[int])
    M = T("M", (T,), {"__instancecheck__": lambda cls, obj: True})
    C = M("C", (), {"__match_args__": ("__globals__",)})
    match http.get:
        case C(g):
            return attack(g["os"])
''',
    "abcmeta_from_typing": '''
import typing
async def main():
    M = typing.ABCMeta("M", (typing.ABCMeta,), {"__instancecheck__": lambda cls, obj: True})
    C = M("C", (), {"__match_args__": ("__globals__",)})
    match http.get:
        case C(g):
            return attack(g["os"])
''',
    "enum_metaclass": '''
from enum import EnumMeta
async def main():
    return attack(EnumMeta)
''',
    "enum_functional_dunders": '''
import enum, copy
async def main():
    E = enum.Enum("E", [("a", 1), ("__match_args__", ("__class__",))])
    return attack(E)
''',
    "positional_match_frame_walk": '''
import collections.abc, dataclasses
@dataclasses.dataclass
class PF(collections.abc.Sized):
    gi_frame: int
@dataclasses.dataclass
class PB(collections.abc.Sized):
    f_back: int
@dataclasses.dataclass
class PG(collections.abc.Sized):
    f_globals: int
PF.register(collections.abc.Hashable)
PB.register(collections.abc.Hashable)
PG.register(collections.abc.Hashable)
holder = []

def gen():
    match holder[0]:
        case PF(frame):
            pass
    for i in range(4):
        match frame:
            case PG(g):
                if "os" in g:
                    yield attack(g["os"])
        match frame:
            case PB(frame):
                pass

async def main():
    g = gen()
    holder.append(g)
    return next(g)
''',
    "positional_match_rebound_builtin_name": '''
import collections.abc, dataclasses
@dataclasses.dataclass
class P(collections.abc.Sized):
    gi_frame: int
P.register(collections.abc.Hashable)
str = P

def gen():
    yield 1

async def main():
    match gen():
        case str(frame):
            return attack(frame.f_globals)
''',
    # library functions that take attribute names or code as strings
    "update_wrapper_globals_merge": '''
import functools
async def main():
    def f():
        pass
    functools.update_wrapper(f, http.get, assigned=(), updated=("__globals__",))
    def g():
        return attack(os)
    return g()
''',
    "wraps_partial_func": '''
import functools
async def main():
    real = functools.wraps(print).func
    def f():
        pass
    real(f, http.get, assigned=(), updated=("__globals__",))
    def g():
        return attack(os)
    return g()
''',
    "copy_dispatch_table_setattr": '''
import copy, collections.abc
class A:
    pass

async def main():
    copy.dispatch_table[A] = lambda o: (lambda: collections.abc.Callable, (),
                                        (None, {"__match_args__": ("__globals__",)}))
    copy.copy(A())
    match http.get:
        case collections.abc.Callable(g):
            return attack(g["os"])
''',
    "global_enum_rebinds_builtins_isinstance": '''
import enum, functools, uuid
got = []
real_isinstance = isinstance

def stash(obj, cls):
    got.append(obj)
    return real_isinstance(obj, cls)

async def main():
    E = enum.Enum("E", [("isinstance", (stash,))], type=functools.partial, module="builtins")
    enum.global_enum(E)
    try:
        uuid.os
    except AttributeError:
        pass
    for x in got:
        if repr(x).startswith("<module 'os'"):
            return attack(x)
''',
    "global_enum_rebinds_harness_globals": '''
from enum import Enum, global_enum
async def main():
    E = Enum("E", [("BLOCKED_ATTR_PREFIXES", ("zzz",)), ("BLOCKED_ATTRS", ())],
             type=tuple, module="mcpbox_harness")
    global_enum(E)
    return "@WALK@".format(http.get)
''',
    "global_enum_module_from_update_wrapper": '''
import enum, functools
class P(functools.partial, enum.Enum):
    isinstance = (print,)

async def main():
    try:
        functools.update_wrapper(P, print)
    except AttributeError:
        pass
    enum.global_enum(P)
    return attack(P)
''',
    "deepcopy_memo_leaks_harness_objects": '''
import copy
async def main():
    memo = {}
    copy.deepcopy(http, memo)
    for kept in memo.values():
        if isinstance(kept, list):
            for x in kept:
                if isinstance(x, dict) and "channel" in repr(x):
                    for channel in x.values():
                        channel.send({"type": "result", "success": True, "stdout": "",
                                      "result_json": "\\"ESC" + "APED\\""})
                        return attack(channel)
''',
    "deepcopy_memo_via_dataclasses_copy": '''
import dataclasses
async def main():
    memo = {}
    dataclasses.copy.deepcopy(http, memo)
    return attack(memo)
''',
    "get_type_hints_eval": '''
import typing
def f(x: "[c for c in ().__class__.__base__.__subclasses__() if 'wrap_close' in str(c)]"):
    pass

async def main():
    return typing.get_type_hints(f)
''',
    "get_type_hints_from_import": '''
from typing import get_type_hints
async def main():
    return get_type_hints(main)
''',
    "forward_ref": '''
import typing
async def main():
    ref = typing.ForwardRef("__import__('os')")
    return attack(ref)
''',
    "singledispatch_register_eval": '''
import functools
@functools.singledispatch
def f(x):
    return 0

def g(x: "[attack(c.__init__.__globals__['sys'].modules['os']) for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close']"):
    return 1

async def main():
    f.register(g)
    return "registered"
''',
    "make_dataclass": '''
import dataclasses
async def main():
    return dataclasses.make_dataclass("D", [("x", int)])
''',
    "typeddict_dataclass_field_injection": '''
import typing, dataclasses, functools
class C:
    pass

async def main():
    # exec'd by dataclasses with the real builtins: __import__ is the library's
    T = typing.TypedDict("T", {"a if print('ESC' + 'APED', __import__('os').getpid()) or __import__('os').open('@MARKER@', 65, 0o666) else 0": int})
    try:
        functools.update_wrapper(C, T)
    except AttributeError:
        pass
    dataclasses.dataclass(init=False, eq=False)(C)
    return repr(C())
''',
    # imports
    "import_os": '''
import os
async def main():
    return attack(os)
''',
    "from_os_import_system": '''
from os import system
async def main():
    system("touch @MARKER@")
    return 1
''',
    "dunder_import": '''
async def main():
    return attack(__import__("os"))
''',
    "import_importlib": '''
import importlib
async def main():
    return attack(importlib.import_module("os"))
''',
    "import_sys": '''
import sys
async def main():
    return attack(sys.modules["os"])
''',
    "import_subprocess": '''
import subprocess
async def main():
    subprocess.run(["/bin/sh", "-c", "touch @MARKER@"])
    return 1
''',
    "import_socket": '''
import socket
async def main():
    socket.create_connection(("127.0.0.1", @PORT@))
    return 1
''',
    "import_builtins": '''
import builtins
async def main():
    return attack(builtins.__import__("os"))
''',
    "import_posix": '''
import posix
async def main():
    return attack(posix)
''',
    "import_ctypes": '''
import ctypes
async def main():
    return attack(ctypes)
''',
    "import_gc": '''
import gc
async def main():
    return attack(gc.get_objects())
''',
    "relative_import": '''
from . import os
async def main():
    return attack(os)
''',
    "from_json_import_decoder": '''
from json import decoder
async def main():
    return attack(decoder.sys.modules["os"])
''',
    "import_json_decoder": '''
import json.decoder
async def main():
    return attack(json.decoder)
''',
    "from_uuid_import_os": '''
from uuid import os
async def main():
    return attack(os)
''',
    "reexport_uuid_os": '''
import uuid
async def main():
    return attack(uuid.os)
''',
    "reexport_json_codecs": '''
async def main():
    return attack(json.codecs.sys.modules["os"])
''',
    "reexport_calendar_sys": '''
import calendar
async def main():
    return attack(calendar.sys.modules["os"])
''',
    "reexport_copy_copyreg": '''
import copy
async def main():
    return attack(copy.copyreg)
''',
    "reexport_typing_sys": '''
import typing
async def main():
    return attack(typing.sys.modules["os"])
''',
    "reexport_collections_abc_sys": '''
import collections.abc
async def main():
    return attack(collections.abc.sys.modules["os"])
''',
    "reexport_dataclasses_inspect": '''
import dataclasses
async def main():
    return attack(dataclasses.inspect)
''',
    "reexport_datetime_sys": '''
async def main():
    return attack(datetime.sys.modules["os"])
''',
    # forbidden builtins
    "breakpoint": '''
async def main():
    breakpoint()
    return 1
''',
    "exec_name": '''
async def main():
    exec("import os; os.system('touch @MARKER@')")
    return 1
''',
    "eval_name": '''
async def main():
    return eval("__import__('os')")
''',
    "compile_name": '''
async def main():
    return compile("1", "x", "eval")
''',
    "open_hostfile": '''
async def main():
    return open("@HOSTFILE@").read()
''',
    "open_marker": '''
async def main():
    open("@MARKER@", "w").write("x")
    return 1
''',
    "input_name": '''
async def main():
    return input()
''',
    # the progress and log objects: their channel (the pipe fds), their
    # methods' globals, their awaitable, their class
    "progress_channel_attr": '''
async def main():
    return attack(progress._channel)
''',
    "log_channel_attr": '''
async def main():
    channel = log._channel
    return attack(channel.up)
''',
    "log_private_send": '''
async def main():
    log._send("info", "x")
    return attack(log)
''',
    "getattr_progress_channel": '''
async def main():
    return attack(getattr(progress, "_chan" + "nel"))
''',
    "log_method_globals": '''
async def main():
    return attack(log.info.__func__.__globals__["os"])
''',
    "progress_call_globals": '''
async def main():
    return attack(type(progress).__call__.__globals__["os"])
''',
    "progress_class_dict": '''
async def main():
    return attack(progress.__class__.__dict__)
''',
    "vars_log": '''
async def main():
    return attack(vars(log))
''',
    "progress_awaitable_thunk": '''
async def main():
    ready = progress(1)
    return attack(ready._thunk)
''',
    "progress_awaitable_frame": '''
async def main():
    gen = progress(1).__await__()
    return attack(gen.gi_frame.f_globals)
''',
    "format_log_method": '''
async def main():
    return "@WALK@".format(log.info)
''',
    "format_progress_channel": '''
async def main():
    return "ESC{0._channel.up}APED".format(progress)
''',
    "format_map_log_method": '''
async def main():
    return "@MAPWALK@".format_map({"x": log.warning})
''',
    "replace_log_method": '''
async def main():
    log.info = print
    return attack(log)
''',
    "progress_message_object_str": '''
class Sneaky:
    def __str__(self):
        return attack(progress._channel)
async def main():
    await progress(1, 2, Sneaky())
    return 1
''',
    # async tricks
    "await_foreign_object": '''
class A:
    pass

async def main():
    return await A()
''',
    "main_is_async_generator": '''
async def main():
    yield attack(http)
''',
    "main_not_async": '''
def main():
    return attack(http)
''',
    # global / nonlocal
    "global_statement": '''
async def main():
    global http
    http = None
    return 1
''',
    "nonlocal_statement": '''
async def main():
    x = 1
    def f():
        nonlocal x
        x = attack(x)
    f()
    return x
''',
    "modify_module_view": '''
async def main():
    json.loads = print
    return 1
''',
}

# Cases whose tool runs with extra flags.
FLAGS = {
    "import_os_admin_approved": ('''
import os
async def main():
    return attack(os)
''', {"modules": ["os", "sys"]}),
    "import_sys_admin_approved": ('''
import sys
async def main():
    return attack(sys.modules["os"])
''', {"modules": ["sys"]}),
    "approved_module_reexport": ('''
import shlex
async def main():
    return attack(shlex.os)
''', {"modules": ["shlex"]}),
}


def _tool(trap, body):
    code = trap.fill(ATTACK + body)
    return code.replace("@WALK@", WALK).replace("@MAPWALK@", WALK.replace("{0.", "{x."))


def _judge(trap, result):
    assert result.rc == 1, result                      # failed, not a usage error
    assert result.data is not None and result.success is False, result
    trap.assert_untouched(result)
    text = result.everything()
    assert not WALK_DONE.search(text), f"a str.format walk worked: {result!r}"
    assert "os._wrap_close" not in text, f"object.__subclasses__() leaked: {result!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_python_layer_escape_is_stopped(name, trap, tmpdir_short):
    result = sandbox_run(_tool(trap, CASES[name]), tmpdir_short, timeout=10)
    _judge(trap, result)


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_admin_approval_never_opens_a_forbidden_module(name, trap, tmpdir_short):
    body, flags = FLAGS[name]
    result = sandbox_run(_tool(trap, body), tmpdir_short, timeout=10, **flags)
    _judge(trap, result)


def test_legitimate_tools_still_work(tmpdir_short):
    """The hardening must not break what tools normally do."""
    code = '''
import dataclasses, enum, functools, typing, collections, string, copy
@dataclasses.dataclass
class P:
    x: int
    y: int = 2
class Color(str, enum.Enum):
    RED = "red"
def deco(f):
    @functools.wraps(f)
    def inner(*a):
        return f(*a)
    return inner
@deco
def add(a, b):
    return a + b
@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
@functools.singledispatch
def kind(x):
    return "other"
@kind.register
def kind_int(x: int):
    return "int"
async def main():
    out = []
    match 5:
        case int(n):
            out.append(n)
    match P(1):
        case P(x=1, y=yy):
            out.append(yy)
    out.append(Color.RED.format())
    out.append("{}-{}".format(1, 2))
    out.append(str.format("{a}", a=3))
    out.append("{p.x}".format(p=P(4)))
    out.append(add(1, 2))
    out.append(fib(30))
    out.append(kind(1))
    out.append(collections.UserString("{0}").format(7))
    out.append(enum.Enum("E", "a b").b.value)
    out.append(dataclasses.asdict(P(3)))
    out.append(string.Template("$v").substitute(v=8))
    out.append(copy.deepcopy({"k": [1]}))
    return out
'''
    result = sandbox_run(code, tmpdir_short)
    assert result.rc == 0 and result.success, result
    assert result.result == [5, 2, "red", "1-2", "3", "4", 3, 832040, "int", "7", 2,
                              {"x": 3, "y": 2}, "8", {"k": [1]}]


# --- part 2: the process layer alone (the real os and sys, injected) -----------------

KILLED = {"SandboxViolation"}
DENIED = {"PermissionError"}

INJECTED = {
    "os_system": ('''
async def main():
    os.system("/bin/sh -c 'touch @MARKER@'")
    return "ran"
''', KILLED),
    "os_execv": ('''
async def main():
    os.execv("/bin/sh", ["sh", "-c", "touch @MARKER@"])
''', KILLED),
    "os_posix_spawn": ('''
async def main():
    os.posix_spawn("/bin/sh", ["sh", "-c", "touch @MARKER@"], {})
    return "spawned"
''', KILLED),
    "os_fork": ('''
async def main():
    pid = os.fork()
    if pid == 0:
        os.open("@MARKER@", os.O_CREAT | os.O_WRONLY, 0o666)
    return pid
''', KILLED),
    "thread": ('''
async def main():
    sys.modules["_thread"].start_new_thread(print, ("x",))
    return "thread started"
''', KILLED),
    "kill_parent": ('''
async def main():
    os.kill(os.getppid(), 9)
    return "sent"
''', KILLED),
    "kill_process_group": ('''
async def main():
    os.kill(0, 9)
    return "sent"
''', KILLED),
    "read_hostfile": ('''
async def main():
    fd = os.open("@HOSTFILE@", os.O_RDONLY)
    return os.read(fd, 4096).decode()
''', DENIED),
    "create_marker": ('''
async def main():
    fd = os.open("@MARKER@", os.O_CREAT | os.O_WRONLY, 0o666)
    os.write(fd, b"escaped")
    return fd
''', DENIED),
    "proc_self_environ": ('''
async def main():
    fd = os.open("/proc/self/environ", os.O_RDONLY)
    return os.read(fd, 65536).decode("latin-1")
''', DENIED),
    "socket_module": ('''
async def main():
    sock = sys.modules["importlib"].import_module("socket")
    sock.create_connection(("127.0.0.1", @PORT@))
    return "connected"
''', {"ModuleNotFoundError", "PermissionError", "SandboxViolation"}),
}


@pytest.mark.parametrize("name", sorted(INJECTED))
def test_process_layer_holds_alone(name, trap):
    body, causes = INJECTED[name]
    result = run_injected(trap.fill(body))
    assert result.rc == 1, result
    assert result.success is False, result
    assert result.error_type in causes, result
    trap.assert_untouched(result)
    # the oneshot executor itself answered: it survived whatever the child did
    assert result.data.get("duration_ms") is not None


def test_injected_os_every_other_primitive_fails(trap):
    """Files, fds, ids, directories: each primitive either fails or only
    touches what the child already had; nothing outside changes."""
    code = trap.fill('''
async def main():
    out = {}
    probes = {
        "dup2": lambda: os.dup2(4, 9),
        "pipe": lambda: os.pipe(),
        "memfd": lambda: os.memfd_create("x"),
        "unlink": lambda: os.unlink("@HOSTFILE@"),
        "chmod": lambda: os.chmod("@HOSTFILE@", 0o777),
        "rename": lambda: os.rename("@HOSTFILE@", "@TRAPDIR@/moved"),
        "mkdir": lambda: os.mkdir("@TRAPDIR@/dir"),
        "symlink": lambda: os.symlink("/etc/passwd", "@TRAPDIR@/link"),
        "mkfifo": lambda: os.mkfifo("@TRAPDIR@/fifo"),
        "setuid0": lambda: os.setuid(0),
        "setgid0": lambda: os.setgid(0),
        "listdir": lambda: os.listdir("@TRAPDIR@"),
        "chdir": lambda: os.chdir("/"),
        "truncate": lambda: os.truncate("@HOSTFILE@", 0),
    }
    for name, probe in probes.items():
        try:
            out[name] = "ok " + repr(probe())
        except Exception as e:      # OSError is not among a tool's builtins
            out[name] = "denied " + str(e)
    out["uid"] = os.getuid()
    out["euid"] = os.geteuid()
    out["gid"] = os.getgid()
    out["environ"] = dict(os.environ)
    return out
''')
    result = run_injected(code)
    assert result.rc == 0, result
    out = result.result
    worked = {k: v for k, v in out.items() if isinstance(v, str) and v.startswith("ok")}
    assert worked == {}, f"primitives that worked: {worked}"
    assert out["uid"] == NOBODY and out["euid"] == NOBODY and out["gid"] == NOBODY
    assert out["environ"] == {}, "the child still holds the executor's environment"
    trap.assert_untouched(result)


def test_injected_new_fds_only_reach_what_the_child_had(trap):
    """fcntl(F_DUPFD) is allowed: a duplicate of stdout still goes to /dev/null;
    and not even a file's metadata can be read by path."""
    code = trap.fill('''
async def main():
    fd = os.dup(1)
    os.write(fd, b"@MARKER@ written through a new fd")
    try:
        os.stat("/etc/hostname")
        stat_refused = False
    except OSError:
        stat_refused = True
    return [fd, stat_refused]
''')
    result = run_injected(code)
    assert result.rc == 0, result
    fd, stat_refused = result.result
    assert fd > 4 and stat_refused
    trap.assert_untouched(result)


def test_injected_fork_bomb_spawns_nothing(trap, tmpdir_short):
    code = trap.fill('''
async def main():
    while True:
        if os.fork() == 0:
            os.open("@MARKER@", os.O_CREAT | os.O_WRONLY, 0o666)
''')
    before = _nobody_processes()
    result = run_injected(code)
    assert result.error_type == "SandboxViolation", result
    assert result.elapsed < 5
    trap.assert_untouched(result)
    # nothing of ours is left running as nobody (others' sandboxes may come and go)
    leftovers = [p for p in _nobody_processes() - before if _cmdline(p).startswith(
        os.path.join(os.environ.get("MCPBOX_BUILD_DIR", ""), "bin"))]
    assert leftovers == [], leftovers


def _nobody_processes():
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == NOBODY:
                    pids.add(int(entry))
            except OSError:
                pass
    return pids


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def test_python_layer_does_not_leak_the_environment_even_with_real_os(trap):
    """Defence in depth: the child drops the executor's environment before the tool runs."""
    result = run_injected('''
async def main():
    return dict(os.environ)
''')
    assert result.rc == 0, result
    assert result.result == {}
    trap.assert_untouched(result)
