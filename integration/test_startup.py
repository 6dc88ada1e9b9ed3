"""One start-up for every program (common/startup.h): a bad flag, a missing
key file or an unencrypted off-machine endpoint exits 2 with a message
naming it, before anything is served.

The off-machine cases run inside a new network namespace (unshare -rn) that
has only a loopback that is down: even a program that wrongly tried to
connect could reach nothing. Without unshare they are skipped, never run
against the real network.
"""
import os
import shutil
import subprocess

import pytest

from conftest import bin_path, constellation, proc_env

# The processes come from the one table (`mcpbox status --json`): every one
# that serves a bus service joins the broker, and may do so with CURVE
# (--broker-key, --cert); the gateway is a bus client, the broker the hub.
PROCESSES = [row["process"] for row in constellation()]
CURVE_CLIENTS = [row["process"] for row in constellation() if row["service"]]
assert "mcpbox-executor" in CURVE_CLIENTS and "mcpbox-gateway" in PROCESSES
# Every program and the `mcpbox` commands, as argv prefixes.
PROGRAMS = [[p] for p in PROCESSES] \
    + [["mcpbox", "status"], ["mcpbox", "up"], ["mcpbox", "approvals", "list"]]
OFF_MACHINE = "tcp://10.255.255.1:5555"   # reserved, never reached
SERVING = ("serving", "listening", "MCPbox is up", "supervising")


def _netns_ok():
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-rn", "true"], timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


NETNS = _netns_ok()


def run(argv, data_dir, netns=False):
    argv = [bin_path(argv[0])] + argv[1:] + ["--data-dir", data_dir]
    if netns:
        argv = ["unshare", "-rn"] + argv
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                          env=proc_env(), stdin=subprocess.DEVNULL)
    out = proc.stdout + proc.stderr
    for word in SERVING:
        assert word not in out, f"{argv}: {word!r} in {out!r}"
    return proc.returncode, proc.stderr


def name_of(argv):
    return " ".join(argv)


@pytest.mark.parametrize("argv", PROGRAMS, ids=name_of)
def test_bad_log_level_exits_2(argv, tmpdir_short):
    code, err = run(argv + ["--log-level", "bogus"], tmpdir_short)
    assert code == 2, err
    assert "log_level" in err and "bogus" in err, err


@pytest.mark.parametrize("argv", PROGRAMS, ids=name_of)
def test_unknown_flag_exits_2(argv, tmpdir_short):
    code, err = run(argv + ["--no-such-flag", "1"], tmpdir_short)
    assert code == 2, err
    assert "--no-such-flag" in err, err


@pytest.mark.parametrize("argv", [[p] for p in CURVE_CLIENTS], ids=name_of)
def test_missing_cert_exits_2(argv, tmpdir_short):
    code, err = run(argv + ["--cert", "/nonexistent"], tmpdir_short)
    assert code == 2, err
    assert "cert" in err and "/nonexistent" in err, err
    key = os.path.join(tmpdir_short, "broker.key")
    with open(key, "w") as f:
        f.write("public-key = \"x\"\n")
    code, err = run(argv + ["--broker", "tcp://127.0.0.1:1", "--broker-key", key,
                            "--cert", "/nonexistent/secret"], tmpdir_short)
    assert code == 2, err
    assert "/nonexistent/secret" in err, err


@pytest.mark.parametrize("argv", [[p] for p in CURVE_CLIENTS], ids=name_of)
def test_key_without_cert_exits_2(argv, tmpdir_short):
    key = os.path.join(tmpdir_short, "broker.key")
    with open(key, "w") as f:
        f.write("x\n")
    code, err = run(argv + ["--broker", OFF_MACHINE, "--broker-key", key],
                    tmpdir_short, netns=NETNS)
    assert code == 2, err
    assert "go together" in err, err


@pytest.mark.skipif(not NETNS, reason="needs unshare -rn to keep off the network")
@pytest.mark.parametrize("argv", [[p] for p in CURVE_CLIENTS + ["mcpbox-gateway"]],
                         ids=name_of)
def test_off_machine_without_curve_exits_2(argv, tmpdir_short):
    code, err = run(argv + ["--broker", OFF_MACHINE], tmpdir_short, netns=True)
    assert code == 2, err
    assert "broker" in err and "CURVE" in err and "10.255.255.1" in err, err


@pytest.mark.skipif(not NETNS, reason="needs unshare -rn to keep off the network")
def test_gateway_events_off_machine_exits_2(tmpdir_short):
    code, err = run(["mcpbox-gateway", "--events", OFF_MACHINE], tmpdir_short, netns=True)
    assert code == 2, err
    assert "events" in err and "CURVE" in err, err


@pytest.mark.skipif(not NETNS, reason="needs unshare -rn to keep off the network")
@pytest.mark.parametrize("argv", [[p] for p in CURVE_CLIENTS], ids=name_of)
def test_loopback_smuggling_refused(argv, tmpdir_short):
    # ZeroMQ reads "tcp://SOURCE;DEST": a loopback prefix must not pass.
    code, err = run(argv + ["--broker", "tcp://127.0.0.1:1;10.255.255.1:5555"],
                    tmpdir_short, netns=True)
    assert code == 2, err
    assert "broker" in err, err


def test_broker_tcp_needs_its_certificate(tmpdir_short):
    code, err = run(["mcpbox-broker", "--tcp-endpoint", "tcp://127.0.0.1:1",
                     "--curve-secret", "/nonexistent"], tmpdir_short)
    assert code == 2, err
    assert "curve_secret" in err and "/nonexistent" in err, err
    code, err = run(["mcpbox-broker", "--tcp-endpoint", "tcp://127.0.0.1:1"],
                    tmpdir_short)
    assert code == 2, err
    assert "curve_secret" in err and "broker_secret" in err, err


def test_broker_refuses_client_flags(tmpdir_short):
    code, err = run(["mcpbox-broker", "--cert", "/nonexistent"], tmpdir_short)
    assert code == 2 and "--cert" in err, err


def test_help_exits_0(tmpdir_short):
    for argv in PROGRAMS:
        proc = subprocess.run([bin_path(argv[0])] + argv[1:] + ["--help"],
                              capture_output=True, text=True, timeout=20)
        assert proc.returncode == 0, (argv, proc.stderr)
        assert "--log-level" in proc.stdout, argv
