"""What a tool returns and prints reaches the caller well-formed, through a
real broker and a long-lived executor (docs/SECURITY.md, "The result
frame"): a lone surrogate becomes U+FFFD in the result and in stdout, NUL
characters are kept, integers outside the signed 64-bit range come back as
their decimal string; the executor keeps serving afterwards. The reply is
msgpack decoded strictly (invalid UTF-8 raises) and `result_json` must be
JSON whose text encodes to UTF-8 without error.

Also here: the ImportError a tool gets at call time for a module it may not
import points to mcpbox_request_module only when the admin could grant it.
"""
import json

import pytest

from python_modules import FORBIDDEN_MODULES  # common/python_modules.txt
from sandbox_util import bus_executor_fixture

bus = bus_executor_fixture()

BIG = 2 ** 70
HUGE = 10 ** 400

# the tool's source is ASCII; the odd characters are made when it runs
ODD_TOOL = r'''
async def main():
    print("nul:\x00:end")
    print("sur:\ud800|\udfff:end")
    print(2 ** 70, -2 ** 70)
    return {
        "nul": "a\x00b",
        "sur": "x\ud800y",
        "low": "\udfff",
        "pair": "\ud83d\ude00",
        "big": 2 ** 70,
        "neg": -2 ** 70,
        "huge": 10 ** 400,
        "max": 2 ** 63 - 1,
        "min": -2 ** 63,
        "over": 2 ** 63,
        "list": [2 ** 64, -2 ** 63 - 1, "\ud800\x00"],
        "k\ud800": 1,
        "nested": {"deep": [[{"n": -10 ** 400}]]},
    }
'''


def _well_formed(text):
    """json text whose every string encodes to UTF-8 (no surrogate)."""
    assert isinstance(text, str)
    text.encode("utf-8")                        # a lone surrogate here raises
    value = json.loads(text)
    json.dumps(value, ensure_ascii=False).encode("utf-8")
    return value


def test_nul_surrogates_and_wide_ints_reach_the_caller_well_formed(bus):
    reply, _ = bus.run(ODD_TOOL)
    assert reply.get("ok") and reply.get("success"), reply
    value = _well_formed(reply["result_json"])
    # two surrogates that make a pair in UTF-16: replaced, or joined (either is well-formed)
    assert value.pop("pair") in ("\ufffd\ufffd", "\U0001F600"), value
    assert value == {
        "nul": "a\x00b",
        "sur": "x\ufffdy",
        "low": "\ufffd",
        "big": str(BIG),
        "neg": str(-BIG),
        "huge": str(HUGE),
        "max": 2 ** 63 - 1,
        "min": -2 ** 63,
        "over": str(2 ** 63),
        "list": [str(2 ** 64), str(-2 ** 63 - 1), "\ufffd\x00"],
        "k\ufffd": 1,
        "nested": {"deep": [[{"n": str(-HUGE)}]]},
    }, value
    stdout = reply["stdout"]
    stdout.encode("utf-8")
    assert stdout == f"nul:\x00:end\nsur:\ufffd|\ufffd:end\n{BIG} {-BIG}\n", repr(stdout)
    bus.assert_still_serving()


@pytest.mark.parametrize("value, expected", [
    (r'"\ud800"', "\ufffd"),
    (r'"\x00"', "\x00"),
    ("2 ** 70", str(BIG)),
    ("-2 ** 70", str(-BIG)),
    ("10 ** 400", str(HUGE)),
    ("2 ** 63 - 1", 2 ** 63 - 1),
])
def test_a_bare_odd_value_is_the_whole_result(value, expected, bus):
    """Not only inside a container: the value itself is the result."""
    reply, _ = bus.run(f"async def main():\n    print({value})\n    return {value}\n")
    assert reply.get("ok") and reply.get("success"), reply
    assert _well_formed(reply["result_json"]) == expected
    printed = expected if isinstance(expected, str) else str(expected)
    assert reply["stdout"] == printed + "\n", repr(reply["stdout"])
    bus.assert_still_serving()


def test_odd_text_in_an_error_is_well_formed(bus):
    reply, _ = bus.run(r'''
async def main():
    print("before\ud800")
    raise ValueError("bad \ud800 \x00 " + str(2 ** 70))
''')
    assert reply.get("ok") and reply.get("success") is False, reply
    message = reply["error"]["message"]
    message.encode("utf-8")
    assert "bad \ufffd \x00 " + str(BIG) in message, repr(message)
    assert reply["stdout"] == "before\ufffd\n"
    bus.assert_still_serving()


# --- the ImportError at call time -------------------------------------------------

def _import_error(bus, module, allowed):
    """An import inside a try body is checked when it runs (the validator
    lets it through as a fallback); the error reaches the caller."""
    reply, _ = bus.run(f"async def main():\n    try:\n        import {module}\n"
                       f"    finally:\n        pass\n    return 'imported'\n",
                       allowed_modules=allowed)
    assert reply.get("ok") and reply.get("success") is False, reply
    return reply["error"]


ALLOWED = ["json", "math"]


# every module the list forbids (common/python_modules.txt, the one source), and a
# submodule of a forbidden one
@pytest.mark.parametrize("module", FORBIDDEN_MODULES + ["os.path"])
def test_a_never_grantable_module_does_not_suggest_requesting_it(module, bus):
    error = _import_error(bus, module, ALLOWED)
    assert "mcpbox_request_module" not in error["message"], error
    if module.startswith("_"):      # refused before it runs, by the '_' rule
        assert "may not start with '_'" in error["message"], error
    else:
        assert "never available" in error["message"], error


@pytest.mark.parametrize("module", ["shlex", "xml.etree.ElementTree", "difflib"])
def test_a_grantable_module_suggests_requesting_it(module, bus):
    error = _import_error(bus, module, ALLOWED)
    assert f"module '{module}' is not allowed for this server" in error["message"], error
    assert "mcpbox_request_module" in error["message"], error


def test_a_granted_module_imports(bus):
    reply, _ = bus.run("async def main():\n    try:\n        import shlex\n    finally:\n"
                       "        pass\n    return shlex.split('a b')\n",
                       allowed_modules=ALLOWED + ["shlex"])
    assert reply.get("ok") and reply.get("success"), reply
    assert json.loads(reply["result_json"]) == ["a", "b"]
