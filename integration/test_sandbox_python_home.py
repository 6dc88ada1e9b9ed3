"""The embedded interpreter's standard library is the one of the libpython
the executor was built against, whatever PATH says: a directory with a
python3 and a lib/python3.X of its own first on PATH (as pyenv puts one)
must not become the sandbox's stdlib."""
import os
import subprocess
import sys

from sandbox_util import oneshot

TOOL = '''
async def main():
    try:
        fake = os.FAKE_STDLIB
    except AttributeError:
        fake = False
    return {"prefix": sys.prefix, "path": list(sys.path), "version": sys.version, "fake": fake}
'''


def _build_prefix():
    return subprocess.run(["pkg-config", "--variable=prefix", "python3-embed"], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_path_cannot_choose_the_stdlib(tmp_path):
    prefix = _build_prefix()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    real = os.path.join(prefix, "lib", version)
    fake = tmp_path / "fakepy"
    (fake / "bin").mkdir(parents=True)
    stdlib = fake / "lib" / version
    stdlib.mkdir(parents=True)
    # a stdlib that works (links to the real one) but whose os says it is fake
    for name in os.listdir(real):
        if name != "os.py":
            os.symlink(os.path.join(real, name), stdlib / name)
    with open(os.path.join(real, "os.py")) as f:
        (stdlib / "os.py").write_text(f.read() + "\nFAKE_STDLIB = True\n")
    python = fake / "bin" / "python3"
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(0o755)
    # the real os and sys, as in sandbox_util.run_injected (test builds only)
    r = oneshot({"op": "run", "code": TOOL, "timeout_ms": 5000, "test_inject_os": True}, env={"PATH": f"{fake / 'bin'}:{os.environ.get('PATH', '')}",
                                "PYTHONHOME": str(fake), "PYTHONPATH": str(stdlib)})
    assert r.success, r
    seen = r.result
    assert seen["fake"] is False, seen
    assert seen["prefix"] == prefix, seen
    assert real in seen["path"], seen
    assert not any(str(fake) in p for p in seen["path"]), seen
