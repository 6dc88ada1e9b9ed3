"""A second, independent red-team pass over the sandbox's Python layer,
judged by OUTCOME (same rules as test_sandbox_redteam.py: every case must
fail and leave the trap untouched; ATTACK and REACH climb from whatever the
tool got to the real os).

Cases marked "escaped before" broke the build they were written against
(2026-12-06); the others were tried in the same pass and held, and stay here
so they keep holding.
"""
import pytest

from sandbox_util import sandbox_run, trap  # noqa: F401 (trap: fixture)
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
}


def _code(trap, body):
    return trap.fill(ATTACK + REACH + body)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_pass_case_is_stopped(name, trap, tmpdir_short):
    result = sandbox_run(_code(trap, CASES[name]), tmpdir_short, timeout=10)
    _judge(trap, result)


def test_dataclasses_cached_property_and_wraps_still_work(tmpdir_short):
    """What the fixes must keep working: inheritance of dataclasses, fields,
    replace/asdict, cached_property with a private name, functools.wraps
    keeping a function's public attributes."""
    code = '''
import dataclasses, functools
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
async def main():
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
