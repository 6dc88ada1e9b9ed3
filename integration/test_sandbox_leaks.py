"""Hidden objects riding out on exceptions and attributes, judged by OUTCOME.

issue 8: a module view's failed lookup put the REAL module in the
AttributeError's `obj` (CPython >= 3.10), and from there the real sys, os and
builtins were one attribute away. Each case here obtains an object through an
exception or an attribute that carries one (obj, name, args, groups,
__exit__'s parameters, library callbacks, copies of views, leading-underscore
attributes, dunder hooks on the tool's own classes) and hands it to REACH,
which climbs from a real module to the real os and runs ATTACK (read the host
file, create the marker, connect to the test's socket, print ESC+APED). The
test asserts the tool failed and nothing outside was touched.
"""
import pytest

from sandbox_util import sandbox_run, trap  # noqa: F401 (trap: fixture)
from test_sandbox_escapes import ATTACK, _judge

# From a real module (json, datetime, re...) to the real os, by public names only.
REACH = '''
def reach(thing):
    for path in (("sys",), ("codecs", "sys"), ("re", "sys"), ("decoder", "re", "sys"),
                 ("os",)):
        node = thing
        try:
            for step in path:
                node = {"sys": lambda n: n.sys, "codecs": lambda n: n.codecs,
                        "re": lambda n: n.re, "decoder": lambda n: n.decoder,
                        "os": lambda n: n.os}[step](node)
            if path[-1] == "sys":
                node = node.modules["os"]
            node.O_RDONLY           # only the real os gets past here
            return node
        except Exception:
            pass
    raise LookupError("nothing real reached from " + repr(thing))

'''

CASES = {
    # AttributeError.obj, wherever the failed lookup on a view happens
    "json_global_obj": '''
async def main():
    try:
        json.no_such_attribute
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "datetime_global_obj": '''
async def main():
    try:
        datetime.no_such_attribute
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "imported_module_obj": '''
import re
async def main():
    try:
        re.no_such_attribute
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "submodule_obj": '''
import collections.abc
async def main():
    try:
        collections.abc.no_such_attribute
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "from_import_module_obj": '''
from urllib import parse
async def main():
    try:
        parse.no_such_attribute
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "hidden_submodule_obj": '''
async def main():
    try:
        json.decoder.no_such_attribute
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "blocked_attr_obj": '''
import typing
async def main():
    try:
        typing.get_type_hints
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "forbidden_reexport_obj": '''
async def main():
    try:
        datetime.sys
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "except_star_obj": '''
async def main():
    try:
        json.no_such_attribute
    except* AttributeError as group:
        return attack(reach(group.exceptions[0].obj))
''',
    "except_star_nested_group": '''
async def main():
    try:
        try:
            datetime.no_such_attribute
        except AttributeError as inner:
            raise ExceptionGroup("wrapped", [ValueError("v"), ExceptionGroup("g", [inner])])
    except* AttributeError as group:
        return attack(reach(group.exceptions[0].exceptions[0].obj))
''',
    "group_split_predicate": '''
async def main():
    seen = []
    try:
        json.no_such_attribute
    except* AttributeError as group:
        group.split(lambda leaf: seen.append(leaf) or True)
    return attack(reach(seen[-1].obj))
''',
    "group_subgroup_leaf": '''
async def main():
    try:
        json.no_such_attribute
    except* AttributeError as group:
        leaf = group.subgroup(AttributeError).exceptions[0]
        return attack(reach(leaf.obj))
''',
    "format_walk_obj": '''
async def main():
    try:
        "{0.no_such_attribute}".format(json)
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "format_map_walk_obj": '''
async def main():
    try:
        "{m.no_such_attribute}".format_map({"m": datetime})
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "string_formatter_obj": '''
import string
async def main():
    try:
        string.Formatter().format("{0.nothing}", json)
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "template_obj": '''
import string
async def main():
    try:
        string.Template("$x").substitute(x=json.nothing)
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "exit_parameter_obj": '''
class Catch:
    def __enter__(self):
        return self
    def __exit__(self, kind, exc, tb):
        self.exc = exc
        return True
async def main():
    c = Catch()
    with c:
        json.no_such_attribute
    return attack(reach(c.exc.obj))
''',
    "aexit_parameter_obj": '''
class Catch:
    async def __aenter__(self):
        return self
    async def __aexit__(self, *info):
        self.info = info
        return True
async def main():
    c = Catch()
    async with c:
        datetime.no_such_attribute
    return attack(reach(c.info[1].obj))
''',
    "generator_handler_obj": '''
def gen():
    try:
        yield json.no_such_attribute
    except AttributeError as e:
        yield e.obj
async def main():
    return attack(reach(list(gen())[0]))
''',
    "generator_throw_obj": '''
def gen():
    try:
        yield 1
    except AttributeError as e:
        yield e
async def main():
    g = gen()
    next(g)
    try:
        json.no_such_attribute
    except AttributeError as caught:
        e = g.throw(caught)
    return attack(reach(e.obj))
''',
    "match_value_pattern_obj": '''
async def main():
    try:
        match 1:
            case json.no_such_attribute:
                pass
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "lambda_in_library_map": '''
async def main():
    try:
        list(map(lambda m: m.no_such_attribute, [json]))
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "sorted_key_obj": '''
async def main():
    try:
        sorted([json, datetime], key=lambda m: m.nothing)
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "functools_reduce_obj": '''
import functools
async def main():
    try:
        functools.reduce(lambda a, b: a.nothing, [datetime, 1])
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "json_object_hook_obj": '''
async def main():
    try:
        json.loads('{"a": 1}', object_hook=lambda d: datetime.nothing)
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "json_default_obj": '''
async def main():
    try:
        json.dumps({1, 2}, default=lambda o: json.nothing)
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "raise_from_chain_group": '''
async def main():
    try:
        try:
            json.nothing
        except AttributeError as first:
            raise ValueError("second") from first
    except ValueError as second:
        group = ExceptionGroup("g", [second])
    return attack(reach(group.exceptions[0].args[0]))
''',
    "dataclass_fields_of_view": '''
import dataclasses
async def main():
    try:
        dataclasses.fields(json)
    except TypeError as e:
        return attack(reach(e.args[0]))
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "copy_of_view": '''
import copy
async def main():
    return attack(reach(copy.copy(json)))
''',
    "deepcopy_of_view": '''
import copy
async def main():
    return attack(reach(copy.deepcopy([datetime])[0]))
''',
    "enum_member_holding_view": '''
import enum
async def main():
    E = enum.Enum("E", {"a": 1})
    try:
        E.a.nothing
    except AttributeError as e:
        return attack(reach(e.obj))
''',
    "partial_func_of_view_function": '''
import functools
async def main():
    return attack(reach(functools.partial(json.loads).func))
''',
    "property_fget": '''
import enum
async def main():
    return attack(reach(enum.Enum.name.fget))
''',
    "import_error_payload": '''
async def main():
    try:
        import os
    except ImportError as e:
        return attack(reach(e.name or e.path or e.args[0]))
''',
    "name_error_payload": '''
async def main():
    try:
        print(open)
    except NameError as e:
        return attack(reach(e.name))
''',
    "key_error_payload": '''
async def main():
    try:
        secrets["nothing"]
    except KeyError as e:
        return attack(reach(e.args[0]))
''',
    "unicode_error_payload": '''
async def main():
    try:
        b"\\xff".decode("utf-8")
    except UnicodeError as e:
        return attack(reach(e.object))
''',
    "json_decode_error_payload": '''
async def main():
    try:
        json.loads("{")
    except ValueError as e:
        return attack(reach(e.doc))
''',
    "stop_iteration_value": '''
def gen():
    yield 1
    return json
async def main():
    g = gen()
    next(g)
    try:
        next(g)
    except StopIteration as e:
        return attack(reach(e.value))
''',
    # leading-underscore attributes: only on the tool's own objects
    "underscore_on_module": '''
async def main():
    return attack(reach(json._default_encoder))
''',
    "underscore_on_view_in_fstring": '''
async def main():
    return attack(reach(f"{datetime._time}"))
''',
    "underscore_on_library_object": '''
import string
async def main():
    return attack(reach(string.Formatter()._vformat))
''',
    "underscore_on_http": '''
async def main():
    return attack(reach(http._channel))
''',
    "underscore_on_exception": '''
async def main():
    try:
        json.nothing
    except AttributeError as e:
        return attack(reach(e._obj))
''',
    "underscore_via_library_base": '''
import string
class F(string.Formatter):
    def peek(self):
        return self._vformat
async def main():
    return attack(reach(F().peek()))
''',
    "underscore_via_super": '''
import string
class T(string.Template):
    def peek(self):
        return super()._invalid
async def main():
    return attack(reach(T("x").peek()))
''',
    "underscore_format_field": '''
async def main():
    return attack(reach("{0._default_encoder}".format(json)))
''',
    "underscore_set_on_module": '''
async def main():
    json._x = 1
    return attack(reach(json))
''',
    "reserved_harness_name": '''
async def main():
    return attack(reach(_mcpbox_own))
''',
    "dunder_method_on_view": '''
async def main():
    json.__init__(datetime, {"os"})
    return attack(reach(json))
''',
    "dunder_method_on_http": '''
class Fake:
    def send(self, obj):
        pass
async def main():
    http.__init__(Fake())
    return attack(reach(http))
''',
    "reduce_ex_on_view": '''
async def main():
    return attack(reach(json.__reduce_ex__(4)))
''',
    # dunder hooks a tool class may not define
    "getattribute_hook": '''
class Spy:
    def __getattribute__(self, name):
        return name
async def main():
    return attack(reach(Spy()))
''',
    "init_subclass_hook": '''
class Base:
    def __init_subclass__(cls, **kw):
        pass
async def main():
    return attack(reach(Base))
''',
    "class_getitem_hook": '''
class Box:
    def __class_getitem__(cls, item):
        return item
async def main():
    return attack(reach(Box[json]))
''',
    "set_name_hook": '''
class Named:
    def __set_name__(self, owner, name):
        self.owner = owner
async def main():
    return attack(reach(Named))
''',
    "descriptor_get_hook": '''
import json as j
class D:
    def __get__(self, instance, owner):
        return instance
async def main():
    j.JSONEncoder.peek = D()
    return attack(reach(j.JSONEncoder().peek))
''',
    "eq_hook_spies_library_compare": '''
import enum
class Spy:
    seen = []
    def __eq__(self, other):
        Spy.seen.append(other)
        return False
    def __hash__(self):
        return 1
async def main():
    E = enum.Enum("E", "a b")
    try:
        E(Spy())
    except ValueError:
        pass
    return attack(reach(Spy.seen[0] if Spy.seen else json))
''',
    "type_builtin_absent": '''
async def main():
    return attack(reach(type(json)))
''',
    "generator_frame_attr": '''
def gen():
    yield 1
async def main():
    return attack(reach(gen().gi_frame))
''',
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hidden_object_never_reaches_the_tool(name, trap, tmpdir_short):
    code = trap.fill(ATTACK + REACH + CASES[name])
    result = sandbox_run(code, tmpdir_short, timeout=10)
    _judge(trap, result)


# --- audit: what public attribute paths reach ----------------------------------------
#
# Breadth-first over every public attribute (no '_' name, no frame/code
# attribute: the validator refuses those) from what a tool starts with — a
# view of each default module, `http`, a Response — to depth 4, in a child
# Python with the harness loaded and warmed as in the zygote. Nothing
# reached may be a real module, a module's globals dict, a frame or code
# object, eval/exec/open/__import__/getattr..., or a callable of a forbidden
# module (a few harmless ones are listed).
AUDIT = r'''
import importlib.util, sys, types
spec = importlib.util.spec_from_file_location("harness", sys.argv[1])
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)
h.zygote_init()
allowed = set(h.DEFAULT_MODULES)
bad = {id(f): f.__name__ for f in (eval, exec, compile, open, __import__, getattr, setattr,
                                   delattr, vars, globals, locals, type, breakpoint, input)}
module_dicts = {id(vars(m)): n for n, m in list(sys.modules.items()) if m is not None}
# a generic alias, enum's property, a lock (no thread), statistics' operator.mul:
# operator's attrgetter/methodcaller (attribute names as strings) must never appear
HARMLESS = {"types.GenericAlias", "types.DynamicClassAttribute", "_thread.RLock",
            "_operator.mul", "types.DynamicClassAttribute.getter",
            "types.DynamicClassAttribute.setter", "types.DynamicClassAttribute.deleter"}
queue = [(n, h.ModuleView(sys.modules[n], allowed), 0) for n in sorted(allowed)]
queue += [("http", h.HTTPClient(), 0), ("progress", h.Progress(), 0), ("log", h.Log(), 0),
          ("response", h.Response(200, {}, b"{}", "u"), 0)]
seen, found = set(), []
while queue:
    path, obj, depth = queue.pop(0)
    if id(obj) in seen:
        continue
    seen.add(id(obj))
    if isinstance(obj, types.ModuleType):
        found.append(f"{path}: the real module {obj.__name__}")
    if id(obj) in bad:
        found.append(f"{path}: builtin {bad[id(obj)]}")
    if id(obj) in module_dicts:
        found.append(f"{path}: globals of {module_dicts[id(obj)]}")
    if isinstance(obj, (types.FrameType, types.CodeType, types.TracebackType)):
        found.append(f"{path}: a frame, code or traceback")
    owner = getattr(obj, "__module__", None) if callable(obj) else None
    if isinstance(owner, str) and owner != "builtins" and (
            owner.split(".")[0].lstrip("_") in h.FORBIDDEN_MODULES or owner in ("posix", "_io")):
        name = f"{owner}.{getattr(obj, '__qualname__', '?')}"
        if name not in HARMLESS:
            found.append(f"{path}: {name}")
    if depth >= 4:
        continue
    if isinstance(obj, h.ModuleView):
        names = dir(sys.modules[object.__getattribute__(obj, "_name")])
    else:
        try:
            names = dir(obj)
        except Exception:
            continue
    for name in names:
        if name.startswith("_") or h._attr_blocked(name):
            continue
        try:
            value = getattr(obj, name)
        except Exception:
            continue
        if not isinstance(value, (int, float, complex, str, bytes, bool, type(None))):
            queue.append((f"{path}.{name}", value, depth + 1))
print("\n".join(found))
print(f"{len(seen)} objects")
'''


def test_no_public_attribute_path_reaches_a_hidden_object(tmpdir_short):
    import os
    import subprocess
    import sys
    from conftest import BUILD
    # the harness as built: its module lists filled in from common/python_modules.txt
    harness = os.path.join(BUILD, "actors", "executor", "harness.py")
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", AUDIT, harness],
                          capture_output=True, text=True, timeout=300, cwd=tmpdir_short)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].endswith("objects") and int(lines[-1].split()[0]) > 1000, proc.stdout
    assert lines[:-1] == [], "\n".join(lines[:-1])


# an admin may approve `warnings`: what it records and keeps stays harmless
WARNINGS = {
    "record_message_fields": '''
import warnings
async def main():
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        warnings.warn("w", UserWarning, source=None)
    for entry in log:
        for value in (entry.message, entry.category, entry.source, entry.file, entry.line):
            try:
                return attack(reach(value))
            except LookupError:
                pass
    return attack(reach(log))
''',
    "catch_warnings_private_module": '''
import warnings
class Keep(warnings.catch_warnings):
    def peek(self):
        return self._module
async def main():
    return attack(reach(Keep().peek()))
''',
    "showwarning_hook_arguments": '''
import warnings
seen = []
async def main():
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda *a, **k: seen.append(a)
        warnings.warn("w")
    return attack(reach(seen[0][-1]))
''',
}


@pytest.mark.parametrize("name", sorted(WARNINGS))
def test_warnings_when_approved_carry_nothing_hidden(name, trap, tmpdir_short):
    result = sandbox_run(trap.fill(ATTACK + REACH + WARNINGS[name]), tmpdir_short, timeout=10,
                         modules=["warnings"])
    _judge(trap, result)
