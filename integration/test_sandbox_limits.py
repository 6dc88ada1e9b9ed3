"""Resource limits. Each bomb ends with a clear error within its limit, and
the executor keeps serving: bombs go one after the other to ONE long-lived
mcpbox-executor behind a real broker, and after each a trivial call must
succeed, answered by the same executor process (same pid)."""
import json

import pytest

from sandbox_util import bus_executor_fixture, sandbox_run

bus = bus_executor_fixture()

MB = 1024 * 1024

# name: (code, timeout_ms, acceptable error types, max seconds, extra request fields)
BOMBS = {
    "memory_list_growth": ('''
async def main():
    x = []
    while True:
        x.append(" " * 1000000)
''', 10000, {"MemoryError", "Killed"}, 8, {}),
    "memory_one_huge_bytes": ('''
async def main():
    return len(bytes(10 ** 10))
''', 10000, {"MemoryError", "Killed"}, 5, {}),
    "memory_bytearray_doubling": ('''
async def main():
    b = bytearray(b"x" * 1024)
    while True:
        b = b * 2
''', 10000, {"MemoryError", "Killed"}, 8, {}),
    "memory_dict_of_strings": ('''
async def main():
    d = {}
    i = 0
    while True:
        d[i] = str(i) * 100
        i += 1
''', 10000, {"MemoryError", "Killed", "Timeout"}, 12, {}),
    "cpu_loop_no_await": ('''
async def main():
    while True:
        pass
''', 2000, {"Timeout"}, 3.0, {}),
    "cpu_loop_in_c": ('''
async def main():
    return sum(range(10 ** 13))
''', 2000, {"Timeout"}, 3.0, {}),
    "cpu_big_power": ('''
async def main():
    return len(str(7 ** (10 ** 8)))
''', 2000, {"Timeout", "MemoryError", "ValueError"}, 3.0, {}),
    "recursion_plain": ('''
def f(n):
    return f(n + 1)

async def main():
    return f(0)
''', 10000, {"RecursionError"}, 5, {}),
    "recursion_mutual": ('''
def a(n):
    return b(n + 1)

def b(n):
    return a(n + 1)

async def main():
    return a(0)
''', 10000, {"RecursionError"}, 5, {}),
    "recursion_nested_repr": ('''
async def main():
    x = []
    for i in range(200000):
        x = [x]
    return repr(x)
''', 10000, {"RecursionError", "MemoryError"}, 5, {}),
    "recursion_nested_data_returned": ('''
async def main():
    x = {}
    for i in range(200000):
        x = {"k": x}
    return x
''', 10000, {"RecursionError", "MemoryError"}, 5, {}),
    "recursion_nested_json": ('''
async def main():
    return json.loads("[" * 100000 + "]" * 100000)
''', 10000, {"RecursionError"}, 5, {}),
    "result_50mb_string": ('''
async def main():
    return "x" * (50 * 1024 * 1024)
''', 10000, {"ResultTooLarge"}, 8, {}),
    "exception_message_50mb": ('''
async def main():
    raise ValueError("x" * (50 * 1024 * 1024))
''', 10000, {"ValueError"}, 8, {}),
    "fork_bomb_injected_os": ('''
async def main():
    while True:
        os.fork()
''', 5000, {"SandboxViolation"}, 3, {"test_inject_os": True}),
    "kill_parent_injected_os": ('''
async def main():
    os.kill(os.getppid(), 9)
    os.kill(0, 9)
''', 5000, {"SandboxViolation"}, 3, {"test_inject_os": True}),
    "fd_exhaustion_injected_os": ('''
async def main():
    fds = []
    while True:
        fds.append(os.dup(1))
''', 5000, {"OSError"}, 3, {"test_inject_os": True}),
    "nested_parentheses_10k": ("async def main():\n    return " + "(" * 10000 + "1" + ")" * 10000 + "\n",
                               10000, {"ValidationError"}, 5, {}),
    "nested_ifs_200": ("async def main():\n" + "".join(
        " " * (4 * (i + 1)) + "if True:\n" for i in range(200)) + " " * 804 + "return 1\n",
                       10000, {"ValidationError"}, 5, {}),
    "nested_expression_depth": ("async def main():\n    return " + "-" * 50000 + "1\n",
                                10000, {"ValidationError"}, 5, {}),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_bomb_ends_with_a_clear_error_and_the_executor_keeps_serving(name, bus):
    code, timeout_ms, causes, max_s, extra = BOMBS[name]
    pid = bus.executor.pid
    reply, elapsed = bus.run(code, timeout_ms=timeout_ms, **extra)
    assert reply.get("ok") is True, reply
    assert reply["success"] is False, _short(reply)
    assert reply["error"]["type"] in causes, _short(reply)
    assert elapsed < max_s, f"{name} took {elapsed:.2f} s"
    if "Timeout" in causes and reply["error"]["type"] == "Timeout":
        assert elapsed >= timeout_ms / 1000 - 0.1
    assert len(json.dumps(reply)) < 2 * MB          # errors are short, whatever the bomb
    bus.assert_still_serving()
    assert bus.executor.pid == pid and bus.executor.poll() is None


def test_print_50mb_is_capped_at_1mb(bus):
    reply, elapsed = bus.run('''
async def main():
    chunk = "y" * (1024 * 1024)
    for i in range(50):
        print(chunk)
    return "done"
''', timeout_ms=10000)
    assert reply["success"] is True, _short(reply)
    assert json.loads(reply["result_json"]) == "done"
    assert reply["stdout_truncated"] is True
    assert 0 < len(reply["stdout"]) <= MB
    assert elapsed < 8
    bus.assert_still_serving()


def test_many_small_prints_are_capped(bus):
    reply, _ = bus.run('''
async def main():
    for i in range(300000):
        print("line", i)
    return "done"
''', timeout_ms=10000)
    assert reply["success"] is True, _short(reply)
    assert reply["stdout_truncated"] is True and len(reply["stdout"]) <= MB
    bus.assert_still_serving()


def test_code_over_100kb_is_refused(bus):
    code = "async def main():\n    return 1\n"
    code += "#" * (100 * 1024 + 1 - len(code) - 1) + "\n"
    assert len(code.encode()) == 100 * 1024 + 1
    reply, _ = bus.run(code)
    assert reply.get("ok") is False, _short(reply)
    assert reply["error"]["code"] == "too_large"
    bus.assert_still_serving()


def test_code_of_exactly_100kb_runs(bus):
    code = "async def main():\n    return 1\n"
    code += "#" * (100 * 1024 - len(code) - 1) + "\n"
    reply, _ = bus.run(code)
    assert reply.get("ok") is True and reply["success"] is True, _short(reply)


def test_bombs_back_to_back_then_a_normal_call(bus):
    """The executor's own state is intact after a mixed series, including
    calls running while others are being killed."""
    ids = []
    for code, timeout_ms in [
        ("async def main():\n    while True:\n        pass\n", 1500),
        ("async def main():\n    x = []\n    while True:\n        x.append(' ' * 10**6)\n", 5000),
        ("def f():\n    return f()\nasync def main():\n    return f()\n", 5000),
        ("async def main():\n    return 42\n", 5000),
    ]:
        ids.append(bus.client.send("sandbox", {"op": "run", "code": code, "timeout_ms": timeout_ms},
                                   timeout_ms=timeout_ms + 5000))
    replies = [bus.client.receive(i, 15) for i in ids]
    assert [r["success"] for r in replies] == [False, False, False, True], [_short(r) for r in replies]
    assert replies[0]["error"]["type"] == "Timeout"
    assert json.loads(replies[3]["result_json"]) == 42
    bus.assert_still_serving()


# --- the same limits through the command line ----------------------------------------

def test_cli_cpu_loop_times_out(tmpdir_short):
    result = sandbox_run("async def main():\n    while True:\n        pass\n", tmpdir_short, timeout=2)
    assert result.rc == 1, result
    assert result.error_type == "Timeout"
    assert 2.0 <= result.elapsed < 3.5, result.elapsed


def test_cli_huge_output_is_capped(tmpdir_short):
    result = sandbox_run('''
async def main():
    for i in range(50):
        print("z" * (1024 * 1024))
    return 1
''', tmpdir_short)
    assert result.rc == 0, result
    assert result.data["stdout_truncated"] is True
    assert len(result.data["stdout"]) <= MB


def test_cli_file_over_100kb_is_refused(tmpdir_short):
    code = "async def main():\n    return 1\n"
    code += "#" * (100 * 1024 + 1 - len(code) - 1) + "\n"
    result = sandbox_run(code, tmpdir_short)
    assert result.rc != 0, result
    assert not result.success
    assert "too_large" in result.stderr or (result.data or {}).get("error"), result


def test_cli_memory_bomb(tmpdir_short):
    result = sandbox_run('''
async def main():
    x = []
    while True:
        x.append(bytearray(10 ** 7))
''', tmpdir_short, timeout=10)
    assert result.rc == 1, result
    assert result.error_type in ("MemoryError", "Killed"), result
    assert result.elapsed < 8


def _short(reply):
    text = json.dumps(reply)
    return text if len(text) < 1500 else text[:1500] + "..."
