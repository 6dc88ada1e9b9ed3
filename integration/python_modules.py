"""The sandbox's module lists, read from common/python_modules.txt (the one
source; the build generates the C header and the harness's lists from it).
Tests take DEFAULT_MODULES / FORBIDDEN_MODULES from here, never a copy."""
import os

LIST_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "common", "python_modules.txt")


def read_lists(path=LIST_FILE):
    """{"default": [...], "forbidden": [...]} in the file's order."""
    lists, section = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                lists.setdefault(section, [])
            else:
                assert section, f"{path}: '{line}' before any [section]"
                lists[section].append(line)
    return lists


_LISTS = read_lists()
DEFAULT_MODULES = list(_LISTS["default"])
FORBIDDEN_MODULES = list(_LISTS["forbidden"])
