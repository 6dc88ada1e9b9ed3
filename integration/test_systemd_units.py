"""packaging/systemd/: the units parse cleanly and start what exists.

Each unit is checked with `systemd-analyze verify` (its ExecStart pointed at
this build's binaries, since nothing is installed here): any warning fails,
not only a non-zero exit (systemd only warns about an unknown key or a bad
value and ignores it, which would quietly drop a hardening option). The
ExecStart line itself, with its environment filled in, is run with --help:
every flag it passes must be one the command knows. And the hardening the
units promise is there.
"""
import os
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import BUILD

UNITS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "packaging", "systemd")
NAMES = ("mcpbox.service", "mcpbox-executor.service")
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
             "ProtectHome=yes", "RestrictNamespaces=yes", "CapabilityBoundingSet=",
             "RestrictSUIDSGID=yes")
ENV = {"MCPBOX_BROKER": "tcp://main.lan:5555", "MCPBOX_SLOTS": "4",
       "MCPBOX_OPTS": "--tcp-endpoint tcp://0.0.0.0:5555"}


def _text(name):
    with open(os.path.join(UNITS, name)) as f:
        return f.read()


def _local(text):
    return text.replace("/usr/local/bin/", os.path.join(BUILD, "bin") + "/")


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
@pytest.mark.parametrize("name", NAMES)
def test_unit_verifies_without_a_warning(name, tmp_path):
    path = tmp_path / name
    path.write_text(_local(_text(name)))
    done = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                          text=True, timeout=60)
    out = (done.stdout + done.stderr).strip()
    assert done.returncode == 0 and not out, out


@pytest.mark.parametrize("name", NAMES)
def test_exec_start_flags_are_known(name):
    line = re.search(r"^ExecStart=(.*)$", _text(name), re.M).group(1)
    for key, value in ENV.items():
        line = line.replace("${%s}" % key, value).replace("$" + key, value)
    argv = shlex.split(_local(line))
    done = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", NAMES)
def test_unit_is_hardened(name):
    lines = set(_text(name).splitlines())
    missing = [option for option in HARDENING if option not in lines]
    assert not missing, missing
    assert any(line.startswith("User=mcpbox") for line in lines)
