"""The sandbox's module lists have one source, common/python_modules.txt.

Judged by outcome: the harness the build generated (the one the executor
embeds) holds exactly those lists; a running executor refuses a forbidden
module and imports every default one; and no source file in the repository
carries its own copy of either list (a run of four or more listed names,
quoted, one after another)."""
import ast
import os
import re

from conftest import BUILD, REPO
from python_modules import DEFAULT_MODULES, FORBIDDEN_MODULES, LIST_FILE

SOURCE_ENDINGS = (".c", ".h", ".py", ".mjs", ".js", ".cmake", ".txt", ".sh")
SKIP_DIRS = {".git", "node_modules", "__pycache__"}


def _harness_lists():
    path = os.path.join(BUILD, "actors", "executor", "harness.py")
    tree = ast.parse(open(path, encoding="utf-8").read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in ("DEFAULT_MODULES", "FORBIDDEN_MODULES"):
            value = node.value
            if isinstance(value, ast.Call):     # frozenset((...))
                value = value.args[0]
            found[node.targets[0].id] = [ast.literal_eval(e) for e in value.elts]
    return found


def test_generated_harness_holds_the_lists():
    lists = _harness_lists()
    assert lists["DEFAULT_MODULES"] == DEFAULT_MODULES
    assert lists["FORBIDDEN_MODULES"] == FORBIDDEN_MODULES
    assert len(DEFAULT_MODULES) >= 20 and len(FORBIDDEN_MODULES) >= 20
    assert not set(DEFAULT_MODULES) & set(FORBIDDEN_MODULES)


def _copies(text, names):
    """Runs of >= 4 quoted names of `names` separated only by commas/space."""
    quoted = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    item = r"""["'](?:%s)["']""" % quoted
    return re.findall(r"%s(?:[\s,\\]*%s){3,}" % (item, item), text)


def test_copy_finder_finds_a_copy():
    text = 'X = ("json", "base64",\n    "binascii", "html")\n'
    assert _copies(text, DEFAULT_MODULES)
    assert not _copies('("json", "base64", "binascii")', DEFAULT_MODULES)


def test_no_other_copy_of_the_lists():
    build = os.path.realpath(BUILD)
    offenders = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith("build")
                   and os.path.realpath(os.path.join(root, d)) != build and d != "data"]
        for name in files:
            path = os.path.join(root, name)
            if not name.endswith(SOURCE_ENDINGS) or os.path.samefile(path, LIST_FILE):
                continue
            try:
                text = open(path, encoding="utf-8", errors="replace").read(1_000_000)
            except OSError:
                continue
            for names in (DEFAULT_MODULES, FORBIDDEN_MODULES):
                for run in _copies(text, names):
                    offenders.append(f"{os.path.relpath(path, REPO)}: {run[:80]}")
    assert offenders == [], "copies of common/python_modules.txt:\n" + "\n".join(offenders)
