/*  modules.h — which Python modules a tool may import, as far as approval
    is concerned: the default allowlist every server gets, and the modules
    that are never importable whatever anyone approves.

    THESE LISTS MIRROR actors/executor/harness.py (DEFAULT_MODULES and
    FORBIDDEN_MODULES). The sandbox enforces its own copy; this copy lets
    approval refuse a request for a forbidden module before an admin ever
    sees it, and report the defaults in `effective`. Change both together:
    tests/unit/test_approval_modules.c parses harness.py and fails when the
    two differ.

    A name is forbidden when it, or any dotted parent of it ("os" for
    "os.path"), is in the forbidden list, or when any part begins with "_"
    (private modules; the sandbox refuses such names anyway).
*/
#ifndef MCPBOX_APPROVAL_MODULES_H
#define MCPBOX_APPROVAL_MODULES_H

#include <stdbool.h>
#include <stddef.h>

#define MODULES_NAME_MAX 128        //  bytes of a dotted module name

//  harness.py DEFAULT_MODULES, same order.
#define MODULES_DEFAULT_LIST                                                  \
    "json", "base64", "binascii", "html", "datetime", "calendar", "zoneinfo", \
    "math", "cmath", "decimal", "fractions", "statistics", "re", "string",   \
    "textwrap", "difflib", "urllib.parse", "collections", "collections.abc", \
    "itertools", "functools", "typing", "dataclasses", "enum", "uuid", "copy",\
    "hashlib", "hmac"

//  harness.py FORBIDDEN_MODULES, same order.
#define MODULES_FORBIDDEN_LIST                                                \
    "os", "sys", "subprocess", "socket", "ctypes", "gc", "inspect",          \
    "importlib", "builtins", "pickle", "marshal", "asyncio",                 \
    "asyncio.subprocess", "operator", "threading", "multiprocessing",        \
    "_thread", "signal", "posix", "pty", "shutil", "io", "code", "codeop",   \
    "runpy", "pathlib", "tempfile", "mmap", "resource", "select",            \
    "selectors", "ssl", "fcntl", "termios", "traceback", "types", "weakref", \
    "linecache", "tokenize", "ast", "dis", "pdb", "faulthandler",            \
    "sysconfig", "site", "shelve", "dbm", "sqlite3", "copyreg", "atexit",    \
    "urllib.request", "http", "http.client", "ftplib", "smtplib",            \
    "telnetlib", "xmlrpc", "webbrowser", "zipimport", "pkgutil", "glob",     \
    "fnmatch"

typedef enum {
    MODULE_OK = 0,
    MODULE_INVALID,                 //  not a dotted identifier of ≤ 128 bytes
    MODULE_FORBIDDEN,               //  never importable
} module_check_t;

//  The default allowlist, in harness.py's order, and its length.
extern const char *const modules_default [];
extern const size_t      modules_default_count;

//  Check `len` bytes of `name` (trimmed of surrounding ASCII whitespace
//  first); on MODULE_OK or MODULE_FORBIDDEN the trimmed name is in out
//  (MODULES_NAME_MAX + 1 bytes). *why says what is wrong, else NULL.
module_check_t modules_check (const char *name, size_t len, char *out,
                              const char **why);

bool modules_is_default (const char *name);
bool modules_is_forbidden (const char *name);

#endif
