"""Secrets do not outlive their call, in any process that runs a later one,
and the executor parent accepts exactly one result per call, redacted by
itself. Judged from outside: after a call that used a secret, the memory of
the zygote, of every warm spare child and of the executor parent itself is
read through /proc/PID/mem (the test runs as root) and must not hold the
secret's bytes. One real broker and one long-lived executor."""
import json
import os
import secrets as pysecrets
import shutil
import tempfile
import time

import pytest

from sandbox_util import BusExecutor, bus_executor_fixture, run_injected

bus = bus_executor_fixture()

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reading another process's memory needs root")


def _children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def _comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def _comm_or_none(pid):
    try:
        return _comm(pid)
    except OSError:
        return None


def _is_fresh_spare(pid):
    try:
        return _comm(pid) == "mcpbox-sandbox" and os.stat(f"/proc/{pid}").st_uid == 65534
    except OSError:
        return False


def _memory_holds(pid, needles):
    """Which of needles (bytes) occur anywhere in pid's readable memory."""
    found = set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            start, end = (int(x, 16) for x in parts[0].split("-"))
            if "r" not in parts[1] or (len(parts) > 5 and parts[5] in ("[vvar]", "[vsyscall]")):
                continue
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            for needle in needles:
                if needle in data:
                    found.add(needle)
    return found


CREDIT = 4      # the executor's default: calls at once, and so warm spares


def _processes_for_later_calls(bus):
    """The zygote and every warm spare (waiting for a job), and the parent,
    once the children that answered are reaped and the spares refilled
    (both happen off the call's path, so give them a moment)."""
    executor = bus.executor.pid
    deadline = time.monotonic() + 10
    while True:
        # settled: the zygote, CREDIT untouched spares, and nothing else --
        # neither a child that answered and is still exiting nor a
        # replacement just cloned (for a moment it still bears the zygote's
        # name) -- seen twice in a row
        children = _children(executor)
        zygotes = [p for p in children if _comm_or_none(p) == "mcpbox-zygote"]
        spares = [p for p in children if p not in zygotes]
        settled = (len(zygotes) == 1 and len(spares) == CREDIT
                   and all(_is_fresh_spare(p) for p in spares))
        if settled:
            time.sleep(0.1)
            if sorted(_children(executor)) == sorted(children):
                break
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(zygotes) == 1, f"one zygote process expected among {children}"
    assert len(spares) == CREDIT, f"{CREDIT} warm spares expected: {spares}"
    for pid in spares:
        # a spare has had no job: still dumpable, so /proc/PID is its own (nobody)
        assert _comm(pid) == "mcpbox-sandbox"
        assert os.stat(f"/proc/{pid}").st_uid == 65534, pid
    return executor, zygotes[0], spares


SECRET_TOOL = '''
async def main(token: str):
    value = secrets["api"]
    print("using", value, token)
    text = "+".join([value] * 50)
    try:
        raise ValueError(value)
    except ValueError:
        pass
    return {"echo": value, "token": token, "joined": text}
'''


def test_secret_absent_from_zygote_spares_and_parent_after_a_call(bus):
    secret = "sk-live-" + pysecrets.token_hex(20)
    argument = "argsecret-" + pysecrets.token_hex(16)
    reply, _ = bus.run(SECRET_TOOL, secrets={"api": secret, "arg": argument},
                       arguments={"token": argument})
    assert reply.get("ok") and reply.get("success"), reply
    text = json.dumps(reply)
    assert secret not in text and argument not in text, reply
    assert reply["args_redacted"] == {"token": "[REDACTED]"}
    needles = {secret.encode(), argument.encode()}
    executor, zygote, spares = _processes_for_later_calls(bus)
    for pid in [zygote] + spares + [executor]:
        held = _memory_holds(pid, needles)
        assert not held, f"process {pid} ({_comm(pid)}) still holds {held}"


def test_many_calls_leave_nothing(bus):
    planted = []
    for _ in range(8):
        secret = "tok-" + pysecrets.token_hex(24)
        planted.append(secret.encode())
        reply, _ = bus.run(SECRET_TOOL, secrets={"api": secret}, arguments={"token": "x"})
        assert reply.get("ok") and reply.get("success"), reply
    time.sleep(0.3)
    executor, zygote, spares = _processes_for_later_calls(bus)
    for pid in [zygote] + spares + [executor]:
        held = _memory_holds(pid, set(planted))
        assert not held, f"process {pid} ({_comm(pid)}) still holds {len(held)} secrets"


def test_the_check_finds_a_secret_left_where_a_later_call_runs():
    """The two tests above can fail. A test build's executor run with
    MCPBOX_TEST_ZYGOTE_SEES_JOBS=1 hands the zygote a copy of every job (a
    deliberate leak that exists only in MCPBOX_TEST_HOOKS builds): the same
    check must then find the secret in the zygote and in the spares forked
    after it, while a normal executor (the `bus` fixture) holds none."""
    root = tempfile.mkdtemp(prefix="mb", dir="/tmp")
    leaky = BusExecutor(root, root, extra_env={"MCPBOX_TEST_ZYGOTE_SEES_JOBS": "1"})
    try:
        secret = "sk-leak-" + pysecrets.token_hex(20)
        reply, _ = leaky.run(SECRET_TOOL, secrets={"api": secret}, arguments={"token": "x"})
        assert reply.get("ok") and reply.get("success"), reply
        assert secret not in json.dumps(reply)
        # a spare forked after the zygote kept the job: wait for the refill
        deadline = time.monotonic() + 10
        while True:
            executor, zygote, spares = _processes_for_later_calls(leaky)
            fresh = [pid for pid in spares if _memory_holds(pid, {secret.encode()})]
            if fresh or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert _memory_holds(zygote, {secret.encode()}), "the check missed the leaked secret"
        assert fresh, "the check missed the secret in a spare forked after the leak"
    finally:
        leaky.close()
        shutil.rmtree(root, ignore_errors=True)


def test_spares_wait_at_any_concurrency_and_are_the_executors_children(bus):
    reply, _ = bus.run("async def main():\n    return 1\n")
    assert reply.get("success"), reply
    executor, zygote, spares = _processes_for_later_calls(bus)
    assert zygote not in spares and executor != zygote


# --- the result frame: one per call, redacted by the parent -------------------

# run_injected hands the tool the real os module: the Python layer is
# bypassed on purpose, as after an escape
FORGE_SECOND_FRAME = '''
import json
async def main():
    body = json.dumps({"type": "result", "success": True, "result_json": "\\"forged\\"",
                       "stdout": ""}).encode()
    os.write(4, len(body).to_bytes(4, "big") + body)
    return "real"
'''

FORGE_THEN_CLOSE = '''
import json
async def main():
    value = secrets["api"]
    body = json.dumps({"type": "result", "success": True, "structured": True,
                       "result_json": json.dumps({value: [value, value.upper()]}),
                       "stdout": "raw " + value,
                       "error": {"type": value, "message": value}}).encode()
    os.write(4, len(body).to_bytes(4, "big") + body)
    os.close(4)
    return "never sent"
'''

FORGE_GARBAGE = '''
async def main():
    os.write(4, b"\\x00\\x00\\x00\\x05{nope")
    return "real"
'''


def test_a_second_frame_is_a_violation_not_a_result():
    r = run_injected(FORGE_SECOND_FRAME)
    assert not r.success, r
    assert r.error_type == "SandboxViolation", r
    assert "forged" not in r.text and "real" not in r.text


def test_a_malformed_frame_is_a_violation():
    r = run_injected(FORGE_GARBAGE)
    assert not r.success and r.error_type == "SandboxViolation", r


def test_a_forged_frame_is_redacted_by_the_parent():
    secret = "forge-" + pysecrets.token_hex(16)
    r = run_injected(FORGE_THEN_CLOSE, secrets={"api": secret})
    assert secret not in r.text and secret.upper() not in r.text, r
    assert "[REDACTED]" in r.text, r
