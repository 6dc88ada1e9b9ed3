"""MCPbox sandbox harness: the Python side of the executor.

Loaded once into the zygote (the executor's embedded interpreter) before any
fork; the C side then calls, in a forked child:

    prepare(job_json)  before seccomp: decode the job, import what it needs
    execute()          after seccomp: validate, run, return the result JSON

This file is the Python layer of the sandbox. Everything here is meant to
stop a tool from reaching the interpreter's internals (dunders, frames,
real modules, eval); none of it is trusted to hold alone. The process the
code runs in has rlimits, no privileges, and a seccomp filter that allows
no open, socket, exec or fork, so a bypass of this layer still reaches
nothing (see docs/SECURITY.md).
"""

import ast
import base64
import binascii
import builtins
import collections
import collections.abc
import copy
import dataclasses
import datetime
import enum
import functools
import gc
import io
import json
import keyword
import os
import re
import string
import sys
import types
import typing
import urllib.parse

# --- limits and lists ------------------------------------------------------

MAX_CODE_BYTES = 100 * 1024
MAX_AST_DEPTH = 100
MAX_RESULT_BYTES = 4 * 1024 * 1024
MAX_HTTP_BODY = 10 * 1024 * 1024
# the parent's HTTP_BRIDGE_MAX_REQUESTS (http_bridge.h): it condemns a child
# that sends more; counted here so that the tool gets an HTTPError instead
MAX_HTTP_REQUESTS = 100
MAX_HTTP_TIMEOUT_S = 300        # no call runs longer (job_spec.c)

DEFAULT_MODULES = None  # @MCPBOX_DEFAULT_MODULES@: the build writes common/python_modules.txt [default] here

# Never importable by a tool, whatever an admin approves.
FORBIDDEN_MODULES = None  # @MCPBOX_FORBIDDEN_MODULES@: the build writes common/python_modules.txt [forbidden] here

# Attributes that lead to frames, code objects or globals without a dunder.
BLOCKED_ATTRS = frozenset((
    "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "f_trace",
    "f_lasti", "f_lineno", "func_globals", "func_code", "mro",
))

# Attributes of allowed modules a tool may not touch (eval of strings).
BLOCKED_MODULE_ATTRS = {
    "typing": frozenset(("get_type_hints", "ForwardRef", "get_overloads")),
    # FunctionType(code, {}) would run any code object with the real builtins
    "dataclasses": frozenset(("make_dataclass", "FunctionType")),
    # copyreg's table: a reducer returning (f, args, (None, {name: value}))
    # makes copy.copy() call setattr with any name
    "copy": frozenset(("dispatch_table",)),
    # global_enum(E) is sys.modules[E.__module__].__dict__.update(members):
    # with module="builtins" (or __module__ copied by update_wrapper) it
    # rebinds builtins.isinstance or the harness's own globals
    "enum": frozenset(("global_enum",)),
}

SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes",
    "callable", "chr", "classmethod", "complex", "dict", "divmod", "enumerate",
    "filter", "float", "format", "frozenset", "hash", "hex", "id", "int",
    "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min",
    "next", "oct", "ord", "pow", "print", "property", "range", "repr",
    "reversed", "round", "set", "slice", "sorted", "staticmethod", "str",
    "sum", "tuple", "zip", "aiter", "anext", "super", "object",
    "ExceptionGroup", "BaseExceptionGroup", "KeyboardInterrupt", "GeneratorExit",
    "EOFError", "BufferError", "UnicodeTranslateError", "PermissionError",
    "FileNotFoundError", "FileExistsError", "IsADirectoryError", "LookupError",
    "Warning", "UserWarning", "DeprecationWarning", "RuntimeWarning",
    "ArithmeticError", "AssertionError", "AttributeError", "BaseException",
    "Exception", "FloatingPointError", "IndexError", "KeyError", "LookupError",
    "MemoryError", "NameError", "NotImplementedError", "OverflowError",
    "RecursionError", "RuntimeError", "StopIteration", "StopAsyncIteration",
    "TimeoutError", "TypeError", "UnicodeDecodeError", "UnicodeEncodeError",
    "UnicodeError", "ValueError", "ZeroDivisionError", "ConnectionError", "OSError",
    "NotImplemented", "Ellipsis", "True", "False", "None",
)


# --- validation ----------------------------------------------------------------
#
# The validator reads the tool's source; it cannot know the type of an
# object, so the rules that depend on one are checks compiled into the code
# (see _ToolRewriter): `x._name` works only on the tool's own objects, an
# exception is scrubbed where the tool first holds it.

class ValidationError(Exception):
    """One or more problems, each (line, message); the earliest first."""

    def __init__(self, message, line=None, problems=None):
        self.problems = sorted(problems or [(line, message)],
                               key=lambda p: (p[0] is None, p[0] or 0))
        self.line = self.problems[0][0]
        super().__init__(_problems_text(self.problems))


def _problems_text(problems):
    if len(problems) == 1:
        return problems[0][1]
    return f"{len(problems)} problems:\n" + "\n".join(
        (f"line {line}: " if line else "") + message for line, message in problems)


# Dunder methods a tool's class may define (directly in its body) and call
# on its own objects (`super().__init__(...)`). Not in the list, and refused:
# attribute hooks (__getattr__, __getattribute__, __setattr__...), class
# creation hooks (__init_subclass__, __class_getitem__, __set_name__, __new__,
# __prepare__, __mro_entries__), descriptors (__get__, __set__...), pickling
# and copying (__reduce__, __deepcopy__...), __del__, __instancecheck__...
DUNDER_METHODS = frozenset("__" + n + "__" for n in (
    "init post_init repr str format bytes hash bool eq ne lt le gt ge len "
    "length_hint iter next reversed aiter anext getitem setitem delitem "
    "missing contains enter exit aenter aexit call "
    "add sub mul matmul truediv floordiv mod divmod pow lshift rshift and xor or "
    "radd rsub rmul rmatmul rtruediv rfloordiv rmod rdivmod rpow rlshift rrshift "
    "rand rxor ror iadd isub imul imatmul itruediv ifloordiv imod ipow ilshift "
    "irshift iand ixor ior neg pos abs invert complex int float index round trunc "
    "floor ceil").split())

# Builtins that do not exist in the sandbox, with what to write instead.
_MISSING_BUILTINS = {
    "open": "files cannot be opened in the sandbox; take the data as a parameter "
            "or fetch it with `await http.get(url)`",
    "eval": "code cannot be evaluated from strings; write it out",
    "exec": "code cannot be evaluated from strings; write it out",
    "compile": "code cannot be compiled from strings; write it out",
    "getattr": "name the attribute directly (obj.attr) or use a dict",
    "setattr": "assign the attribute directly (obj.attr = value) or use a dict",
    "delattr": "delete the attribute directly (del obj.attr) or use a dict",
    "hasattr": "use isinstance(...) or a dict lookup",
    "globals": "pass values explicitly",
    "locals": "pass values explicitly",
    "vars": "build the dict explicitly",
    "dir": "name the attributes explicitly",
    "type": "use isinstance(x, T) to test a type",
    "input": "take the value as a parameter of main",
    "breakpoint": "print() goes to the tool's stdout",
    "memoryview": "use bytes or bytearray",
    "help": "not available",
    "exit": "return from main (or raise an exception)",
    "quit": "return from main (or raise an exception)",
}

_RESERVED_PREFIX = "_mcpbox"
# methods that receive a live exception; their parameters are scrubbed
_SCRUBBED_METHODS = ("__exit__", "__aexit__")


def _attr_blocked(name):
    """Attributes never readable in tool code, whatever the object: dunders
    (except the DUNDER_METHODS of the tool's own classes), frame, code and
    generator internals."""
    return name.startswith(("__", "gi_", "cr_", "ag_", "tb_", "co_")) and \
        name not in DUNDER_METHODS or name in BLOCKED_ATTRS


def _attr_guarded(name):
    """Attributes that need the runtime check: `_x`, and the dunder methods."""
    return name.startswith("_")


def _name_problem(name, what):
    """A name the tool binds or reads: `_` and `_helper` are fine; dunders,
    name-mangled names and the harness's own `_mcpbox...` are not."""
    if name is None:
        return None
    if name.startswith("__"):
        return (f"{what} '{name}' may not start with '__'; rename it (one leading '_' "
                f"is fine: _{name.lstrip('_')})")
    if name.startswith(_RESERVED_PREFIX):
        return (f"{what} '{name}' is reserved (names starting with '{_RESERVED_PREFIX}'); "
                f"rename it")
    return None


# builtins whose class pattern binds the subject itself: `case int(n)`
_SELF_MATCHING = frozenset(("bool", "bytearray", "bytes", "dict", "float", "frozenset",
                            "int", "list", "set", "str", "tuple"))
_FORMAT_ATTRS = frozenset(("format", "format_map"))


def _bound_names(tree):
    """Every name the code assigns, defines, imports or captures."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def module_problem(name, allowed):
    """Why `import name` is refused (with what to do instead), or None."""
    parts = name.split(".")
    if any(not p.isidentifier() or p.startswith("_") for p in parts):
        return f"module '{name}' is not allowed (private modules are never importable)"
    if name in FORBIDDEN_MODULES or parts[0] in FORBIDDEN_MODULES \
            or any(".".join(parts[:i]) in FORBIDDEN_MODULES for i in range(1, len(parts))):
        return (f"module '{name}' is never available in the sandbox (it reaches files, "
                f"processes, the network or the interpreter); do not ask for it: use the "
                f"`http` global for HTTP, parameters of main for data, and the default "
                f"modules ({', '.join(sorted(DEFAULT_MODULES))})")
    if allowed is not None and name not in allowed:
        return (f"module '{name}' is not allowed for this server; ask the admin with "
                f"mcpbox_request_module, or use the allowed modules")
    return None


def validate_tree(code, allowed=None):
    """Parse and check tool code; returns the AST or raises ValidationError
    listing every problem found, each with its line. `allowed`: the
    server's modules (None: imports are checked when they run)."""
    if not isinstance(code, str):
        raise ValidationError("code must be a string")
    if len(code.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
        raise ValidationError(f"code is larger than {MAX_CODE_BYTES // 1024} KB")
    if "\x00" in code:
        raise ValidationError("code contains a NUL character")
    try:
        tree = ast.parse(code, filename="<tool>", mode="exec")
    except SyntaxError as e:
        raise ValidationError(f"syntax error: {e.msg}", e.lineno)
    except (RecursionError, MemoryError, ValueError):
        raise ValidationError("code is nested too deeply")
    problems = tree_problems(tree, allowed)
    if problems:
        raise ValidationError(None, problems=problems)
    return tree


def tree_problems(tree, allowed=None, limit=50):
    """Every rule the tree breaks: [(line, message)], unsorted, at most limit."""
    # names the code binds anywhere: a class pattern `case str(x)` is only
    # safe while `str` still means the builtin (see _SELF_MATCHING)
    bound = _bound_names(tree)
    problems = []

    def add(node, message):
        if len(problems) < limit:
            problems.append((getattr(node, "lineno", None), message))

    def name(value, node, what):
        why = _name_problem(value, what)
        if why:
            add(node, why)

    # iterative walk with depth, so hostile nesting cannot recurse us away;
    # in_class: the node is a statement directly in a class body; in_try:
    # inside a try body (`try: import x / except ImportError:` is a fallback,
    # checked when it runs)
    stack = [(tree, 1, False, False)]
    while stack and len(problems) < limit:
        node, depth, in_class, in_try = stack.pop()
        if depth > MAX_AST_DEPTH:
            add(node, "code is nested too deeply")
            continue
        if isinstance(node, ast.Name):
            name(node.id, node, "name")
            if isinstance(node.ctx, ast.Load) and node.id in _MISSING_BUILTINS \
                    and node.id not in bound:
                add(node, f"'{node.id}' is not available in the sandbox: "
                          f"{_MISSING_BUILTINS[node.id]}")
        elif isinstance(node, ast.Attribute):
            if _attr_blocked(node.attr):
                add(node, f"attribute '{node.attr}' is not allowed: interpreter internals "
                          f"are hidden in the sandbox (use isinstance(x, T) to test a type, "
                          f"str(e) for an exception's text, and public attributes)")
            elif node.attr.startswith("__") and not isinstance(node.ctx, ast.Load):
                # `C.__exit__ = f` would hand f the exception unscrubbed
                add(node, f"assigning or deleting '{node.attr}' is not allowed: define "
                          f"the method in the class body")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if in_class and node.name in _SCRUBBED_METHODS and node.decorator_list:
                # the decorator's result, not this body, would get the exception
                add(node, f"'{node.name}' may not be decorated")
            if not (in_class and node.name in DUNDER_METHODS):
                why = _name_problem(node.name, "definition")
                if why and node.name.startswith("__") and node.name.endswith("__"):
                    why = (f"method '{node.name}' is not allowed" if in_class else
                           f"'{node.name}' may only be defined as a method in a class body") + \
                          " (allowed dunder methods: __init__, __repr__, __eq__, __hash__, " \
                          "__lt__..., __len__, __iter__, __getitem__, __contains__, " \
                          "__enter__/__exit__, __aenter__/__aexit__, __call__, __post_init__, " \
                          "arithmetic)"
                if why:
                    add(node, why)
        elif isinstance(node, ast.ClassDef):
            name(node.name, node, "definition")
            if node.keywords:
                add(node, "class keywords (metaclass=...) are not allowed; use a plain "
                          "class (or enum.Enum, dataclasses.dataclass, a decorator)")
        elif isinstance(node, ast.arg):
            name(node.arg, node, "parameter")
        elif isinstance(node, ast.keyword):
            name(node.arg, node, "keyword")
        elif isinstance(node, ast.alias):
            for part in node.name.split("."):
                if part.startswith("_"):
                    add(node, f"module or member '{node.name}' may not start with '_'")
                    break
            name(node.asname, node, "alias")
        elif isinstance(node, ast.Import) and not in_try:
            for alias in node.names:
                why = module_problem(alias.name, allowed)
                if why and not alias.name.startswith("_"):
                    add(node, why)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                add(node, "relative imports are not allowed; import modules by their "
                          "full name (import json)")
            elif any(p.startswith("_") for p in (node.module or "").split(".")):
                add(node, f"module '{node.module}' may not start with '_'")
            elif not in_try:
                why = module_problem(node.module or "", allowed)
                if why:
                    add(node, why)
                elif allowed is not None:
                    for alias in node.names:
                        sub = f"{node.module}.{alias.name}"
                        if sub in FORBIDDEN_MODULES:
                            add(node, module_problem(sub, allowed))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            add(node, "global and nonlocal are not allowed; keep state in a class "
                      "instance or a dict")
        elif isinstance(node, ast.ExceptHandler):
            name(node.name, node, "name")
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)):
            name(node.name, node, "name")
        elif isinstance(node, ast.MatchClass):
            for attr in node.kwd_attrs:
                if attr.startswith("_") or _attr_blocked(attr) or attr in _FORMAT_ATTRS:
                    add(node, f"attribute '{attr}' is not allowed in a class pattern")
            # `case C(x)` reads the attribute named by C.__match_args__, a
            # string the validator never sees: only the builtins that match
            # themselves may take positional sub-patterns
            if node.patterns and not (isinstance(node.cls, ast.Name)
                                      and node.cls.id in _SELF_MATCHING
                                      and node.cls.id not in bound):
                add(node, "positional sub-patterns are only allowed for builtin "
                          "types (case int(x)); use keyword patterns (case Point(x=x))")
        elif isinstance(node, ast.MatchMapping):
            name(node.rest, node, "name")
        is_class = isinstance(node, ast.ClassDef)
        try_body = node.body if isinstance(node, (ast.Try, ast.TryStar)) else ()
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1, is_class,
                          in_try or any(child is b for b in try_body)))
    return problems


def _context(source_lines, line):
    context = []
    if line:
        for n in range(max(1, line - 2), min(len(source_lines), line + 2) + 1):
            marker = ">" if n == line else " "
            context.append(f"{marker}{n:4d} | {source_lines[n - 1]}")
    return context


_NO_MAIN = ("code must define 'async def main(...)' at the top level: the tool's entry "
            "point, its parameters are the tool's input")


def _has_main_text(code):
    """has_main for code that did not validate: parse it again if it parses."""
    try:
        return find_main(ast.parse(code, filename="<tool>")) is not None
    except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError):
        return False


def find_main(tree):
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "main":
            return node
    return None


# --- input schema from the signature (AST only, nothing is evaluated) ------

_SIMPLE_TYPES = {
    "int": {"type": "integer"}, "float": {"type": "number"},
    "str": {"type": "string"}, "bool": {"type": "boolean"},
    "list": {"type": "array"}, "List": {"type": "array"},
    "tuple": {"type": "array"}, "Tuple": {"type": "array"},
    "set": {"type": "array"}, "Set": {"type": "array"},
    "dict": {"type": "object"}, "Dict": {"type": "object"},
    "Any": {}, "object": {}, "bytes": {"type": "string"},
}


def _dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return base + "." + node.attr if base else None
    return None


def _is_none(node):
    return isinstance(node, ast.Constant) and node.value is None or \
        isinstance(node, ast.Name) and node.id == "None"


class _Classes:
    """The module's own top-level classes that describe JSON objects: a
    TypedDict (fields: its annotated names; NotRequired[...] ones optional)
    or a dataclass (fields: its annotated names, ClassVar excluded; one
    with a default is optional as a parameter, and always present in a
    result, which is dataclasses.asdict of the instance). A class used in
    an annotation becomes {"$ref": "#/$defs/Name"} with its schema once in
    `defs`, so nesting and recursion stay finite."""

    MAX_DEFS = 64

    def __init__(self, tree, output=False):
        local = [n for n in getattr(tree, "body", ()) if isinstance(n, ast.ClassDef)]
        self.kinds = {n.name: self._kind(n) for n in local}
        # a subclass of one of the module's own TypedDicts is one too
        for _ in range(len(local)):
            for node in local:
                if self.kinds[node.name] is None and any(
                        self.kinds.get(_dotted(b) or "") == "typeddict" for b in node.bases):
                    self.kinds[node.name] = "typeddict"
        self.nodes = {n.name: n for n in local if self.kinds[n.name]}
        self.output = output
        self.defs = {}

    @staticmethod
    def _kind(node):
        for base in node.bases:
            if (_dotted(base) or "").split(".")[-1] == "TypedDict":
                return "typeddict"
        for deco in node.decorator_list:
            target = deco.func if isinstance(deco, ast.Call) else deco
            if (_dotted(target) or "").split(".")[-1] == "dataclass":
                return "dataclass"
        return None

    def ref(self, name, depth):
        node = self.nodes.get(name)
        if node is None:
            return None
        if name not in self.defs:
            if len(self.defs) >= self.MAX_DEFS:
                return {"type": "object"}
            self.defs[name] = {}            # placeholder: recursion stops here
            self.defs[name] = self._object(node, depth)
        return {"$ref": "#/$defs/" + name}

    def _fields(self, node, seen):
        """(name, annotation, has_default) of node and its local bases."""
        fields = {}
        if node.name in seen:
            return fields
        seen.add(node.name)
        for base in node.bases:
            parent = self.nodes.get(_dotted(base) or "")
            if parent is not None:
                fields.update(self._fields(parent, seen))
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                outer = stmt.annotation.value if isinstance(stmt.annotation, ast.Subscript) \
                    else stmt.annotation
                if (_dotted(outer) or "").split(".")[-1] == "ClassVar":
                    continue
                fields[stmt.target.id] = (stmt.annotation, stmt.value is not None)
        return fields

    def _object(self, node, depth):
        typeddict = self.kinds[node.name] == "typeddict"
        properties, required = {}, []
        for name, (annotation, has_default) in self._fields(node, set()).items():
            optional_key = False
            if isinstance(annotation, ast.Subscript):
                outer = (_dotted(annotation.value) or "").split(".")[-1]
                if outer in ("NotRequired", "Required"):
                    optional_key = outer == "NotRequired"
                    annotation = annotation.slice
            schema, nullable = annotation_schema(annotation, depth + 1, self)
            if nullable:
                schema = _nullable(schema)
            properties[name] = schema
            if typeddict:
                if not optional_key:
                    required.append(name)
            elif self.output or not has_default:
                required.append(name)
        doc = ast.get_docstring(node)
        out = {"type": "object", "properties": properties, "required": required}
        if doc:
            out["description"] = doc.split("\n\n")[0].strip()[:500]
        return out


def annotation_schema(node, depth=0, classes=None):
    """Returns (schema, optional) for an annotation node."""
    if node is None or depth > 10:
        return {}, False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return annotation_schema(ast.parse(node.value, mode="eval").body, depth + 1,
                                     classes)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            # a string annotation nested too deeply (the parser's MemoryError)
            # says nothing JSON Schema can hold
            return {}, False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [node.left, node.right]
        non_none = [p for p in parts if not _is_none(p)]
        if len(non_none) == 1:
            return annotation_schema(non_none[0], depth + 1, classes)[0], True
        return {"anyOf": [annotation_schema(p, depth + 1, classes)[0] for p in non_none]}, \
            len(non_none) < 2
    name = _dotted(node)
    if name is not None:
        if classes is not None:
            ref = classes.ref(name, depth)
            if ref is not None:
                return ref, False
        return dict(_SIMPLE_TYPES.get(name.split(".")[-1], {})), False
    if isinstance(node, ast.Subscript):
        outer = (_dotted(node.value) or "").split(".")[-1]
        inner = node.slice
        args = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if outer == "Optional":
            return annotation_schema(args[0], depth + 1, classes)[0], True
        if outer == "Union":
            non_none = [a for a in args if not _is_none(a)]
            optional = len(non_none) < len(args)
            if len(non_none) == 1:
                return annotation_schema(non_none[0], depth + 1, classes)[0], optional
            return {"anyOf": [annotation_schema(a, depth + 1, classes)[0]
                              for a in non_none]}, optional
        if outer in ("list", "List", "set", "Set", "Sequence", "Iterable", "FrozenSet",
                     "frozenset"):
            return {"type": "array",
                    "items": annotation_schema(args[0], depth + 1, classes)[0]}, False
        if outer in ("tuple", "Tuple"):
            if len(args) == 2 and isinstance(args[1], ast.Constant) and \
                    args[1].value is Ellipsis:
                return {"type": "array",
                        "items": annotation_schema(args[0], depth + 1, classes)[0]}, False
            if any(isinstance(a, ast.Constant) and a.value is Ellipsis for a in args) or \
                    (len(args) == 1 and isinstance(args[0], ast.Tuple) and not args[0].elts):
                return {"type": "array"}, False
            # a fixed tuple: JSON Schema 2020-12's prefixItems; its length by
            # min/maxItems, not "items": false, which a draft-07 validator (the
            # SDK 1.x client's) would apply to every element
            return {"type": "array",
                    "prefixItems": [annotation_schema(a, depth + 1, classes)[0] for a in args],
                    "minItems": len(args), "maxItems": len(args)}, False
        if outer in ("dict", "Dict", "Mapping") and len(args) == 2:
            return {"type": "object",
                    "additionalProperties": annotation_schema(args[1], depth + 1, classes)[0]}, \
                False
        if outer == "Literal":
            values = [a.value for a in args if isinstance(a, ast.Constant)]
            if len(values) == 1:
                return {"const": values[0]}, False
            return {"enum": values}, False
        if outer == "Annotated":
            return annotation_schema(args[0], depth + 1, classes)
        return dict(_SIMPLE_TYPES.get(outer, {})), False
    return {}, False


def _with_defs(schema, classes):
    """The schema with the classes it refers to under $defs (2020-12)."""
    if classes.defs:
        schema["$defs"] = dict(classes.defs)
    return schema


def output_schema(main, tree):
    """outputSchema from main's return annotation, or None when the
    annotation says nothing JSON Schema can hold (none, Any, an unknown
    class). MCP wants an object at the root: a TypedDict, a dataclass or a
    dict[...] is one; anything else (list[...], int, Optional[...]) is
    described as {"result": value}, marked "x-mcpbox-wrapped", and the
    gateway wraps the value so."""
    if main.returns is None:
        return None
    classes = _Classes(tree, output=True)
    schema, nullable = annotation_schema(main.returns, 0, classes)
    if nullable:
        schema = _nullable(schema)
    if not schema:
        return None                         # Any: nothing to promise
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/") and len(schema) == 1:
        name = ref[len("#/$defs/"):]
        root = dict(classes.defs[name])
        if '"#/$defs/' + name + '"' not in json.dumps(
                [v for k, v in classes.defs.items() if k != name] + [root]):
            del classes.defs[name]          # not referred to again: inline only
        return _with_defs(root, classes)
    if schema.get("type") == "object":
        return _with_defs(schema, classes)
    return _with_defs({"type": "object", "properties": {"result": schema},
                       "required": ["result"], "x-mcpbox-wrapped": True}, classes)


def _param_docs(doc):
    """Google-style 'Args:' section -> {name: description}."""
    docs, in_args = {}, False
    for line in (doc or "").splitlines():
        stripped = line.strip()
        if stripped.lower() in ("args:", "arguments:", "parameters:"):
            in_args = True
            continue
        if in_args:
            if not stripped:
                continue
            m = re.match(r"^(\w+)\s*(\([^)]*\))?\s*:\s*(.*)$", stripped)
            if m and line.startswith((" ", "\t")):
                docs[m.group(1)] = m.group(3)
            elif not line.startswith((" ", "\t")):
                in_args = False
    return docs


def _nullable(schema):
    """`Optional[X]`, `X | None`, `x: X = None`: the schema also accepts null."""
    if not schema:
        return schema                       # any value, null included
    types_ = schema.get("type")
    if isinstance(types_, str):
        if types_ != "null":
            schema["type"] = [types_, "null"]
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = schema["enum"] + [None]
    elif isinstance(types_, list):
        if "null" not in types_:
            schema["type"] = types_ + ["null"]
    elif "anyOf" in schema:
        schema["anyOf"] = schema["anyOf"] + [{"type": "null"}]
    elif "enum" in schema:
        if None not in schema["enum"]:
            schema["enum"] = schema["enum"] + [None]
    else:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def main_schema(main, tree=None):
    """Input JSON schema and parameter list from main's signature."""
    classes = _Classes(tree)
    args = main.args
    doc = ast.get_docstring(main) or ""
    param_docs = _param_docs(doc)
    properties, required, parameters = {}, [], []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults))
    for arg, default in pairs:
        schema, nullable = annotation_schema(arg.annotation, 0, classes)
        optional = nullable
        has_default = default is not None
        if has_default:
            try:
                value = ast.literal_eval(default)
                json.dumps(value, allow_nan=False)
                if value is not None:
                    schema["default"] = value
                else:
                    optional = nullable = True
            except (ValueError, TypeError, SyntaxError, RecursionError):
                pass
        if nullable:
            schema = _nullable(schema)
        if arg.arg in param_docs:
            schema["description"] = param_docs[arg.arg]
        properties[arg.arg] = schema
        if not has_default and not optional:
            required.append(arg.arg)
        parameters.append({
            "name": arg.arg,
            "type": ast.unparse(arg.annotation) if arg.annotation else "any",
            "required": arg.arg in required,
        })
    schema = {"type": "object", "properties": properties, "required": required}
    if args.kwarg is None:
        schema["additionalProperties"] = False
    _with_defs(schema, classes)
    description = doc.split("\n\n")[0].strip() if doc else ""
    return schema, parameters, description


# --- the tool's world --------------------------------------------------------------

def _safe_get_field(self, field_name, args, kwargs):
    """string.Formatter.get_field that refuses '{0.__class__}'-style walks."""
    import _string
    first, rest = _string.formatter_field_name_split(field_name)
    for is_attr, key in rest:
        if is_attr and (key.startswith("_") or _attr_blocked(key)):
            raise ValueError(f"format field attribute '{key}' is not allowed")
    return _original_get_field(self, field_name, args, kwargs)


_original_get_field = string.Formatter.get_field
string.Formatter.get_field = _safe_get_field
_formatter = string.Formatter()


def _safe_str_format(self, *args, **kwargs):
    """str.format through the safe formatter (also for str subclasses)."""
    return _formatter.vformat(str.__str__(self), args, kwargs)


def _safe_str_format_map(self, mapping):
    return _formatter.vformat(str.__str__(self), (), mapping)


_SAFE_FORMAT = {"format": _safe_str_format, "format_map": _safe_str_format_map}


def _format_attr(obj, name):
    """What `obj.format` / `obj.format_map` evaluates to in tool code: never
    the real str.format, however the object leads to it (str, a subclass,
    an instance of either, a typing alias or object relaying to str...)."""
    safe = _SAFE_FORMAT[name]
    if isinstance(obj, type) and issubclass(obj, str):
        return safe
    if isinstance(obj, str):
        return lambda *a, **k: safe(obj, *a, **k)
    value = getattr(obj, name)
    if value is str.format or value is str.format_map:
        return _SAFE_FORMAT[value.__name__]
    if isinstance(value, types.BuiltinMethodType) and isinstance(value.__self__, str) \
            and value.__name__ in _SAFE_FORMAT:
        target, method = value.__self__, _SAFE_FORMAT[value.__name__]
        return lambda *a, **k: method(target, *a, **k)
    return value


class _ToolRewriter(ast.NodeTransformer):
    """The checks the validator cannot make from the source alone, compiled
    into the tool's code (after validation, so the tool cannot name them):

    - `x.format` -> `_mcpbox_format_attr(x, 'format')`: str.format goes
      through the safe formatter however it is reached;
    - `x._name` / `x.__init__` -> `_mcpbox_own(x, '_name')._name`: leading
      underscore attributes only on the tool's own classes and instances
      (loads, stores and deletes alike);
    - `except E as e:` and the exception parameters of `__exit__` /
      `__aexit__` start with `_mcpbox_exc(e)`: an exception reaches the tool
      only once no hidden object rides on it (AttributeError.obj...)."""

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if node.attr in _FORMAT_ATTRS and isinstance(node.ctx, ast.Load):
            call = ast.Call(func=ast.Name(id="_mcpbox_format_attr", ctx=ast.Load()),
                            args=[node.value, ast.Constant(node.attr)], keywords=[])
            return ast.copy_location(call, node)
        if _attr_guarded(node.attr):
            guard = ast.Call(func=ast.Name(id="_mcpbox_own", ctx=ast.Load()),
                             args=[node.value, ast.Constant(node.attr)], keywords=[])
            node.value = ast.copy_location(guard, node.value)
        return node

    def visit_ExceptHandler(self, node):
        self.generic_visit(node)
        if node.name:
            node.body.insert(0, _scrub_stmt(node.name, node))
        return node

    def _visit_function(self, node):
        self.generic_visit(node)
        if node.name in _SCRUBBED_METHODS:
            args = node.args.posonlyargs + node.args.args
            for arg in args[1:] + ([node.args.vararg] if node.args.vararg else []):
                node.body.insert(0, _scrub_stmt(arg.arg, node))
        return node

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function


def _scrub_stmt(name, where):
    call = ast.Call(func=ast.Name(id="_mcpbox_exc", ctx=ast.Load()),
                    args=[ast.Name(id=name, ctx=ast.Load())], keywords=[])
    return ast.copy_location(ast.Expr(call), where)


def _scrub_exception(exc):
    """Clear what an exception can carry that the tool did not hand it: the
    object of a failed attribute lookup (AttributeError.obj: CPython puts
    the object there, a library's internal module or a real module behind a
    view), and a non-string `name`; through groups and __context__ /
    __cause__ chains. In place; bounded."""
    stack, seen = list(exc) if type(exc) is tuple else [exc], set()
    while stack and len(seen) < 1000:
        e = stack.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, AttributeError):
            e.obj = None
            if e.name is not None and type(e.name) is not str:
                e.name = None
        elif isinstance(e, NameError) and e.name is not None and type(e.name) is not str:
            e.name = None
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)
        stack.append(e.__context__)
        stack.append(e.__cause__)
    return None


# classes whose private attributes a tool class may inherit: builtins,
# exceptions, enums, ABCs, typing's generics, json's coders, datetime's bases
def _safe_bases():
    import abc
    bases = {v for v in vars(builtins).values() if isinstance(v, type)}
    bases -= {type, super, memoryview}
    for module in (enum, collections.abc, datetime):
        bases |= {v for k, v in vars(module).items()
                  if isinstance(v, type) and not k.startswith("_") and not _is_metaclass(v)}
    bases |= {typing.Generic, typing.Protocol, abc.ABC, json.JSONEncoder, json.JSONDecoder,
              collections.OrderedDict, collections.defaultdict, collections.Counter,
              collections.deque, collections.UserDict, collections.UserList}
    return frozenset(bases)


_SAFE_BASES = frozenset()           # filled at warm-up (zygote_init)
_NAMEDTUPLE_API = frozenset(("_asdict", "_replace", "_fields", "_make", "_field_defaults"))
_class_verdicts = {}


def _is_tool_class(cls):
    """A class the tool's code defined (or a library made from it, such as
    dataclass(slots=True) or a NamedTuple), and every base of it either the
    tool's or a safe base: nothing private of a library class is inherited."""
    verdict = _class_verdicts.get(cls)
    if verdict is None:
        verdict = _own_class(cls) and all(_own_class(c) or c in _SAFE_BASES
                                          for c in cls.__mro__)
        _class_verdicts[cls] = verdict
    return verdict


def _own_class(c):
    module = type.__dict__["__dict__"].__get__(c).get("__module__")
    return type(module) is str and module == "tool"


def _private_source(mro, attr):
    """Where `attr` resolves along `mro`: True on one of the tool's classes
    (or a dunder method of a safe base: `super().__init__()`), False on a
    library class (an enum's `_missing_`, a base's private helper), None if
    no class in `mro` holds it (the instance's own attribute, or none)."""
    for c in mro:
        if attr in type.__dict__["__dict__"].__get__(c):
            return _own_class(c) or (attr in DUNDER_METHODS and c in _SAFE_BASES)
    return None


def _own_attr(obj, attr):
    """`obj._attr` in tool code: obj itself when it is one of the tool's own
    classes or instances (or super() inside one) AND the name resolves to
    what the tool's classes or the instance hold -- never to a library
    base's or a metaclass's private member (EnumType._convert_ reads any
    module's globals by name); a namedtuple for its public `_asdict`/
    `_replace`/`_fields`/`_make`; a safe builtin base for its dunder methods
    (`Exception.__init__(self, msg)`); else the access fails as if the
    attribute did not exist."""
    if type(obj) is super:
        this = super.__dict__["__thisclass__"].__get__(obj)
        start = super.__dict__["__self_class__"].__get__(obj)
        # super() looks past `this` in the MRO of the object's class, which
        # may mix a library class in after the tool's own (class S(T, Lib))
        if start is not None and _is_tool_class(this) and _is_tool_class(start):
            mro = start.__mro__
            if _private_source(mro[mro.index(this) + 1:], attr) is not False:
                return obj
    elif isinstance(obj, type):
        if _is_tool_class(obj):
            found = _private_source(obj.__mro__, attr)
            if found or found is None and not any(
                    attr in type.__dict__["__dict__"].__get__(m) for m in type(obj).__mro__
                    if m is not type):
                return obj
    elif _is_tool_class(type(obj)):
        if _private_source(type(obj).__mro__, attr) is not False:
            return obj
    cls = obj if isinstance(obj, type) else type(obj)
    if attr in _NAMEDTUPLE_API and issubclass(cls, tuple) \
            and type(getattr(cls, "_fields", None)) is tuple:
        return obj
    if attr in DUNDER_METHODS and obj in _SAFE_BASES:
        return obj
    raise AttributeError(f"'{attr}': attributes starting with '_' are only available on "
                         f"the tool's own classes and their instances")


# --- allowed modules, hardened ------------------------------------------------
#
# Library functions that take attribute names or source text as *strings*
# get around the validator, which only sees the tool's own names. Each
# one found is replaced (for the tool, through ModuleView) or patched in the
# child before the tool runs (so library code reaching it is covered too).

def _is_metaclass(value):
    return isinstance(value, type) and issubclass(value, type)


def _install_safe_format(cls):
    """A str subclass made by the tool: its format methods are the safe ones,
    whichever way they are looked up (dataclasses.asdict, match...)."""
    for attr, method in _SAFE_FORMAT.items():
        try:
            type.__setattr__(cls, attr, method)
        except (AttributeError, TypeError):
            pass            # an enum member of that name: not str.format


_real_update_wrapper = functools.update_wrapper


def _safe_update_wrapper(wrapper, wrapped, assigned=functools.WRAPPER_ASSIGNMENTS,
                         updated=functools.WRAPPER_UPDATES):
    """functools.update_wrapper with its default attribute lists only: with
    its own lists it is getattr/setattr of any name (updated=('__globals__',)
    merges a harness function's globals into the tool's)."""
    if tuple(assigned) != functools.WRAPPER_ASSIGNMENTS \
            or tuple(updated) != functools.WRAPPER_UPDATES:
        raise ValueError("update_wrapper: custom 'assigned'/'updated' lists are not allowed")
    if isinstance(wrapper, type) and not _is_tool_class(wrapper):
        # it would set the class's __module__ (to 'tool': a library class
        # would pass for the tool's own) and __name__ (error types)
        raise TypeError("update_wrapper: the wrapper may not be a library class")
    wrapper = _real_update_wrapper(wrapper, wrapped, updated=())
    # WRAPPER_UPDATES: wrapper.__dict__.update(wrapped.__dict__), but only
    # the public names: wrapped may be any object, and its private members
    # (http's _channel, a module view's _get) copied onto one of the tool's
    # own instances would be readable there
    extra = getattr(wrapped, "__dict__", None)
    if extra is not None:
        public = {k: v for k, v in dict(extra).items()
                  if type(k) is str and not k.startswith("_")}
        getattr(wrapper, "__dict__").update(public)
    return wrapper


def _safe_wraps(wrapped, assigned=functools.WRAPPER_ASSIGNMENTS,
                updated=functools.WRAPPER_UPDATES):
    if tuple(assigned) != functools.WRAPPER_ASSIGNMENTS \
            or tuple(updated) != functools.WRAPPER_UPDATES:
        raise ValueError("wraps: custom 'assigned'/'updated' lists are not allowed")
    return lambda wrapper: _safe_update_wrapper(wrapper, wrapped)


def _safe_get_origin(tp):
    """typing.get_origin, except that typing.Type's origin is the real `type`."""
    origin = typing.get_origin(tp)
    if _is_metaclass(origin):
        raise TypeError("the origin of typing.Type is not available in the sandbox")
    return origin


def _safe_deepcopy(x, memo=None):
    """copy.deepcopy without a caller's memo: the memo keeps every original
    it copied alive in a list, instance __dict__s of harness objects (the
    http channel to the parent) included."""
    if memo is not None:
        raise ValueError("deepcopy: the memo argument is not allowed")
    return copy.deepcopy(x)


_MODULE_OVERRIDES = {
    "functools": {"update_wrapper": _safe_update_wrapper, "wraps": _safe_wraps},
    "typing": {"get_origin": _safe_get_origin},
    "copy": {"deepcopy": _safe_deepcopy},
}


def _refuse_forward_ref(self, *args, **kwargs):
    # get_type_hints (reached through functools.singledispatch().register)
    # would eval() the annotation string in the tool's globals
    raise NameError(f"string annotations are not evaluated in the sandbox: {self!r}")


def _checked_names(names):
    """enum's functional API (Enum('E', names)) with the names as exact str."""
    if isinstance(names, str):
        names = str.__str__(names)
        return names, names.replace(",", " ").split()
    if isinstance(names, collections.abc.Mapping):
        names = {str.__str__(k) if isinstance(k, str) else k: v for k, v in dict(names).items()}
        return names, list(names)
    items = []
    for item in names:
        if isinstance(item, str):
            items.append(str.__str__(item))
        else:
            item = tuple(item)
            if item and isinstance(item[0], str):
                item = (str.__str__(item[0]),) + item[1:]
            items.append(item)
    return items, [i if isinstance(i, str) else (i[0] if i else None) for i in items]


def _safe_field_name(name):
    """A name dataclasses may put into the source text it exec()s."""
    return type(name) is str and name.isidentifier() and not name.startswith("_") \
        and not keyword.iskeyword(name)


_CACHE_MISS = object()


def _cached_property_get(self, instance, owner=None):
    """functools.cached_property.__get__ that stores only under a plain
    name: its `attrname` is public and writable, and set to '__deepcopy__'
    it planted a hook in an instance's __dict__ (copy.deepcopy then handed
    the hook its memo: every original it copied, the harness's http
    channel included). The name is read once (a subclass may make it a
    property); no lock: a child runs one thread."""
    if instance is None:
        return self
    name = self.attrname
    if name is None:
        raise TypeError("Cannot use cached_property instance without calling "
                        "__set_name__ on it.")
    if type(name) is not str or not name.isidentifier() or name.startswith("__"):
        raise TypeError(f"cached_property: attribute name {name!r} is not allowed")
    try:
        cache = instance.__dict__
    except AttributeError:
        raise TypeError(f"No '__dict__' attribute to cache {name!r} property.") from None
    value = cache.get(name, _CACHE_MISS)
    if value is _CACHE_MISS:
        value = self.func(instance)
        cache[name] = value
    return value


# exec/eval/compile of the real builtins module, for library code. Library
# code that runs source text it was given (timeit, doctest, profile, bdb,
# trace, rlcompleter, a third-party template or ORM...) would run the
# tool's text with the REAL builtins; only the callers below may, whose text
# is built from checked names: exec by dataclasses' generated methods, eval
# by namedtuple's __new__, compile by ast.parse (source to a tree, never
# code) and typing.ForwardRef (a string annotation, checked for syntax; its
# evaluation is refused, see _refuse_forward_ref).
_REAL_EXEC, _REAL_EVAL, _REAL_COMPILE = builtins.exec, builtins.eval, builtins.compile
# what -> {id(code object): code object}, filled in _harden_library
_CODE_RUNNERS = {"exec": {}, "eval": {}, "compile": {}}


def _guard_code_runner(real, what):
    runners = _CODE_RUNNERS[what]

    def guarded(*args, **kwargs):
        caller = sys._getframe(1).f_code
        if runners.get(id(caller)) is not caller:
            raise RuntimeError(f"{what}() of source text is not available in the sandbox "
                               f"(a library tried to run code it was given)")
        return real(*args, **kwargs)
    guarded.__name__ = guarded.__qualname__ = what
    return guarded


_hardened = False
# (owner, attribute, real value, safe value) for every library patch
_PATCHES = []


def _set_patches(index):
    """index 2: the real library functions; 3: the hardened ones."""
    for patch in _PATCHES:
        setattr(patch[0], patch[1], patch[index])


def _harden_library():
    """Once, in the zygote (zygote_init), so no child pays for it: patch
    what library code would otherwise reach on the tool's behalf. prepare()
    puts the real functions back only while it imports a job's extra
    modules, before the sandbox closes and before any tool code exists."""
    global _hardened
    if _hardened:
        return
    _hardened = True

    # Enum('E', [('__match_args__', ...)]) sets any dunder on the new class
    real_create = enum.EnumType._create_

    def create(cls, class_name, names, *args, **kwargs):
        names, keys = _checked_names(names)
        for key in keys:
            if not isinstance(key, str) or key.startswith("_"):
                raise ValueError(f"enum member names may not start with '_': {key!r}")
        made = real_create(cls, class_name, names, *args, **kwargs)
        if issubclass(made, str):
            _install_safe_format(made)
        return made

    # dataclasses exec() source text built from the field names: a field
    # name from TypedDict('T', {"a if print(...) else 0": int}) is code
    real_process = dataclasses._process_class

    def process_class(cls, *args, **kwargs):
        annotations = cls.__dict__.get("__annotations__", {})
        for key in annotations:
            if not _safe_field_name(key):
                raise TypeError(f"dataclass field name {key!r} is not allowed")
            # a Field subclass's `name` may be a property answering one
            # name to this check and code to the exec() that follows
            default = getattr(cls, key, None)
            if isinstance(default, dataclasses.Field) and type(default) is not dataclasses.Field:
                raise TypeError(f"dataclass field {key!r}: subclasses of Field are not allowed")
        # inherited fields go into the generated code by their names too
        for base in cls.__mro__[1:]:
            for field in (getattr(base, "__dataclass_fields__", None) or {}).values():
                if type(field) is not dataclasses.Field or not _safe_field_name(field.name):
                    raise TypeError(f"dataclass field {field!r} inherited from a base "
                                    f"is not allowed")
        return real_process(cls, *args, **kwargs)

    real_field_setattr = dataclasses.Field.__setattr__

    def field_setattr(self, attr, value):
        # Field.name is public and writable: renamed after its class was
        # made, it is code to the exec() of a dataclass inheriting it, and
        # an attribute name to getattr() in asdict/astuple/replace
        if attr == "name" and value is not None and not _safe_field_name(value):
            raise TypeError(f"dataclass field name {value!r} is not allowed")
        real_field_setattr(self, attr, value)

    import ast as ast_module
    for what, function in (("exec", dataclasses._create_fn), ("eval", collections.namedtuple),
                           ("compile", ast_module.parse), ("compile", typing.ForwardRef.__init__)):
        _CODE_RUNNERS[what][id(function.__code__)] = function.__code__

    _PATCHES[:] = [
        (builtins, "exec", _REAL_EXEC, _guard_code_runner(_REAL_EXEC, "exec")),
        (builtins, "eval", _REAL_EVAL, _guard_code_runner(_REAL_EVAL, "eval")),
        (builtins, "compile", _REAL_COMPILE, _guard_code_runner(_REAL_COMPILE, "compile")),
        (functools, "update_wrapper", functools.update_wrapper, _safe_update_wrapper),
        (functools, "wraps", functools.wraps, _safe_wraps),
        (typing.ForwardRef, "_evaluate", typing.ForwardRef._evaluate, _refuse_forward_ref),
        (collections.UserString, "format", collections.UserString.format,
         lambda self, *args, **kwargs: _safe_str_format(str(self.data), *args, **kwargs)),
        (collections.UserString, "format_map", collections.UserString.format_map,
         lambda self, mapping: _safe_str_format_map(str(self.data), mapping)),
        (enum.EnumType, "_create_", real_create, create),
        (dataclasses, "_process_class", real_process, process_class),
        (dataclasses.Field, "__setattr__", real_field_setattr, field_setattr),
        (functools.cached_property, "__get__", functools.cached_property.__get__,
         _cached_property_get),
    ]
    _set_patches(3)

    # the tool cannot read the executor's environment, whatever it reaches
    # (the zygote cleared its own before Python started: this is the proof)
    os.environ.clear()


def _refuse_python_tag(self, name, mark, *args, **kwargs):
    raise sys.modules["yaml.constructor"].ConstructorError(
        None, None, f"python tags (python/name, python/module, python/object...) are not "
        f"available in the sandbox: {name!r}", mark)


def _logging_str_format(self, record):
    """logging's '{' style: through the safe formatter (the real str.format
    walks '{msg.__class__.__base__...}' in the tool's format string)."""
    values = record.__dict__ if self._defaults is None else {**self._defaults,
                                                              **record.__dict__}
    return _formatter.vformat(str.__str__(self._fmt), (), values)


def _harden_extras():
    """In the child, after a job's extra modules were imported: what of
    theirs would hand the tool the interpreter. yaml's python/* tags look
    names up in sys.modules (the real os, even with FullLoader); logging's
    '{' style formats with the real str.format."""
    constructor = sys.modules.get("yaml.constructor")
    if constructor is not None and hasattr(constructor, "FullConstructor"):
        for attr in ("find_python_name", "find_python_module"):
            setattr(constructor.FullConstructor, attr, _refuse_python_tag)
    logging_module = sys.modules.get("logging")
    if logging_module is not None and hasattr(logging_module, "StrFormatStyle"):
        logging_module.StrFormatStyle._format = _logging_str_format
    # xml.dom.minicompat.defproperty(klass, name, doc) is setattr(klass,
    # name, property(klass._get_<name>)): with name '__reduce_ex__' or
    # '__getattr__' it installed a dunder the validator refuses on the
    # tool's class (copy.copy then set any attribute of any object).
    # minidom and others hold it too (`from minicompat import *`)
    minicompat = sys.modules.get("xml.dom.minicompat")
    real = getattr(minicompat, "defproperty", None)
    if real is not None and real is not _safe_defproperty:
        _REAL_DEFPROPERTY[0] = real
        for module in list(sys.modules.values()):
            try:
                if getattr(module, "defproperty", None) is real:
                    module.defproperty = _safe_defproperty
            except Exception:
                pass        # a module-level __getattr__ may raise anything


_REAL_DEFPROPERTY = [None]


def _safe_defproperty(klass, name, doc):
    if type(name) is not str or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"defproperty: the name {name!r} is not allowed")
    return _REAL_DEFPROPERTY[0](klass, name, doc)


# what a tool's builtins are: built once in the zygote (zygote_init); each
# child is a fresh process, so it uses this dict itself, not a copy
_SAFE_BUILTINS = None


def _make_safe_builtins():
    safe = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES
            if hasattr(builtins, name)}
    safe["__build_class__"] = _safe_build_class(builtins.__build_class__)
    return safe


_MISSING = object()


class ModuleView:
    """What `import m` gives a tool: m's public attributes, minus modules
    that are not themselves allowed and a few eval-capable helpers."""

    def __init__(self, module, allowed):
        blocked = BLOCKED_MODULE_ATTRS.get(module.__name__, frozenset())
        name = module.__name__

        overrides = _MODULE_OVERRIDES.get(name, {})

        def get(attr):
            if type(attr) is not str or attr.startswith("_") or attr in blocked:
                raise AttributeError(f"module '{name}' has no attribute '{attr}'")
            # with a default, a missing attribute raises nothing here: the
            # AttributeError CPython would raise carries the REAL module in
            # its `obj` (and on its __context__ if re-raised); the one
            # raised below is built from scratch, with strings only
            value = getattr(module, attr, _MISSING)
            if value is _MISSING:
                raise AttributeError(f"module '{name}' has no attribute '{attr}'")
            if attr in overrides:
                return overrides[attr]
            if isinstance(value, types.ModuleType):
                if value.__name__ in allowed and value.__name__ not in FORBIDDEN_MODULES:
                    return ModuleView(value, allowed)
                raise AttributeError(f"module '{name}' has no attribute '{attr}'")
            if _is_metaclass(value):
                # typing.ABCMeta, enum.EnumType...: a three-argument call makes
                # a class with any dunder the caller names
                raise AttributeError(f"module '{name}' has no attribute '{attr}'")
            return value

        object.__setattr__(self, "_get", get)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr):
        return object.__getattribute__(self, "_get")(attr)

    def __setattr__(self, attr, value):
        raise AttributeError("modules are read-only in tools")

    def __delattr__(self, attr):
        raise AttributeError("modules are read-only in tools")

    def __dir__(self):
        return []

    # copy/deepcopy would rebuild a view from its __dict__ (the getter)
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce_ex__(self, protocol):
        raise TypeError("modules cannot be pickled or copied")

    def __reduce__(self):
        raise TypeError("modules cannot be pickled or copied")

    def __repr__(self):
        return f"<module '{object.__getattribute__(self, '_name')}'>"


class _BoundedWriter(io.TextIOBase):
    """stdout for a tool: keeps the first `limit` characters, plus `slack`
    more so that a secret cut at the limit can still be recognised and
    redacted (see Redactor.clip)."""

    SLACK = 64 * 1024       # longer than any redacted form of a 10 KB secret

    def __init__(self, limit):
        # all private: a library the job may import (logging's StreamHandler,
        # warnings) hands the tool sys.stdout, and the harness reads these
        self._parts, self._size, self._truncated = [], 0, False
        self._limit, self._keep = limit, limit + self.SLACK
        self._overflowed = False    # more was written than limit + slack

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str")
        text = str.__str__(text)        # a str subclass's __getitem__/__len__ are the tool's
        room = self._keep - self._size
        if room > 0:
            self._parts.append(text[:room])
            self._size += min(len(text), room)
        if len(text) > room:
            self._overflowed = True
        if self._size > self._limit or self._overflowed:
            self._truncated = True
        return len(text)

    def getvalue(self):
        return "".join(self._parts)


# --- JSON the tool cannot tamper with ---------------------------------------------
#
# json.JSONEncoder's class attributes (encode, iterencode, item_separator...)
# are writable from tool code, and json.dumps() looks them up on every call:
# a tool that patched them would write the result frame itself (an
# unredacted secret, "structured": true over text that is not JSON...).
# What the harness sends is encoded by instances whose every attribute the
# encoder reads lives on the instance, bound to the original functions.

_JSON_ENCODE = json.JSONEncoder.encode
_JSON_ITERENCODE = json.JSONEncoder.iterencode


def _not_serializable(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _private_encoder(ensure_ascii, allow_nan=True):
    encoder = json.JSONEncoder(ensure_ascii=ensure_ascii, allow_nan=allow_nan,
                               separators=(", ", ": "), default=_not_serializable)
    encoder.iterencode = functools.partial(_JSON_ITERENCODE, encoder)
    return functools.partial(_JSON_ENCODE, encoder)


_dumps_unicode = _private_encoder(ensure_ascii=False)
_dumps_value = _private_encoder(ensure_ascii=False, allow_nan=False)
# json.loads goes through JSONDecoder.decode/raw_decode, class attributes a
# tool can replace; the scanner is made (and bound to its settings) now
_scan_json = json.JSONDecoder().scan_once
_dumps_ascii = _private_encoder(ensure_ascii=True)


# --- http through the parent -----------------------------------------------

class _Channel:
    """Frames to and from the executor parent: u32 big-endian length + JSON."""

    def __init__(self, down_fd, up_fd):
        self.down, self.up = down_fd, up_fd

    def send(self, obj):
        data = _frame_bytes(_dumps_unicode(obj))
        frame = len(data).to_bytes(4, "big") + data
        view = memoryview(frame)
        while view:
            n = os.write(self.up, view)
            view = view[n:]

    def _read_exact(self, n):
        chunks, left = [], n
        while left:
            chunk = os.read(self.down, min(left, 1 << 20))
            if not chunk:
                raise ConnectionError("executor parent went away")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def receive(self):
        size = int.from_bytes(self._read_exact(4), "big")
        if size > MAX_HTTP_BODY * 2 + 65536:
            raise ConnectionError("oversized frame from executor parent")
        return json.loads(self._read_exact(size))


# the one channel of this child (a fresh process per call), for the http,
# progress and log globals
_CHANNEL = [None]


def _read_only_mapping(data, what):
    """`secrets` and `arguments`: a read-only mapping over a private copy.
    Not types.MappingProxyType: its comparison hands the dict it wraps to
    the other operand's __eq__ (`secrets == obj` gave the tool the real,
    writable dict)."""
    data = dict(data)

    class ReadOnlyMapping(collections.abc.Mapping):
        __slots__ = ()
        __hash__ = None

        def __getitem__(self, key):
            return data[key]

        def __iter__(self):
            return iter(list(data))

        def __len__(self):
            return len(data)

        def __contains__(self, key):
            return key in data

        def __eq__(self, other):
            return dict(data) == other      # a copy reaches the other operand

        def __or__(self, other):
            return dict(data) | other

        def __ror__(self, other):
            return other | dict(data)

        def copy(self):
            return dict(data)

        def __repr__(self):
            return f"{what}({dict(data)!r})"

    ReadOnlyMapping.__name__ = ReadOnlyMapping.__qualname__ = what
    return ReadOnlyMapping()


class HTTPError(Exception):
    pass


class Response:
    def __init__(self, status_code, headers, content, url):
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.url = url

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")

    @property
    def ok(self):
        return 200 <= self.status_code < 400

    def json(self):
        return json.loads(self.content)

    def raise_for_status(self):
        if self.status_code >= 400:
            raise HTTPError(f"HTTP {self.status_code} for {self.url}")

    def __repr__(self):
        return f"<Response [{self.status_code}]>"


class _Ready:
    """An awaitable that is already resolved: `await` returns at once."""

    def __init__(self, thunk):
        self._thunk = thunk

    def __await__(self):
        return self._thunk()
        yield  # noqa: makes __await__ a generator that never suspends


class HTTPClient:
    """The `http` global: each request crosses the pipe to the parent, which
    checks the allowlist and SSRF rules and performs it with libcurl."""

    # the channel is not kept on the object (nothing private is in its
    # __dict__ for a library to copy: update_wrapper, deepcopy's memo), nor
    # taken by __init__ (a call of it could not switch the channel)

    def __setattr__(self, attr, value):
        raise AttributeError("http is read-only")

    def request(self, method, url, params=None, headers=None, json=None, data=None,
                timeout=None):
        channel = _CHANNEL[0]

        def perform():
            return _http_perform(channel, method, url, params, headers, json, data, timeout)
        return _Ready(perform)

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, **kw):
        return self.request("POST", url, **kw)

    def put(self, url, **kw):
        return self.request("PUT", url, **kw)

    def patch(self, url, **kw):
        return self.request("PATCH", url, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)

    def head(self, url, **kw):
        return self.request("HEAD", url, **kw)



# --- progress and log lines through the parent ------------------------------
# The parent checks, redacts, rate-limits and counts every one (the Python
# layer is not trusted); here the tool's values become a typed frame. Texts
# longer than NOTICE_TEXT_CUT go up cut (the parent cuts again, lower).

NOTICE_TEXT_CUT = 65536
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


def _notice_text(value, what):
    if value is None:
        return None, False
    if not isinstance(value, str):
        value = str(value)
    value = "".join((value,))          # a plain str, whatever subclass came in
    if len(value) > NOTICE_TEXT_CUT:
        return value[:NOTICE_TEXT_CUT], True
    return value, False


def _notice_number(value, what, optional=False):
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise ValueError(f"{what} must be a finite number, 0 or more")
    return value


class Progress:
    """The `progress` global: `await progress(done, total=None, message=None)`
    sends one notifications/progress to the client, if it asked for them."""

    def __setattr__(self, attr, value):
        raise AttributeError("progress is read-only")

    def __call__(self, done, total=None, message=None):
        frame = {"type": "progress", "progress": _notice_number(done, "progress")}
        total = _notice_number(total, "total", optional=True)
        if total is not None:
            frame["total"] = total
        text, cut = _notice_text(message, "message")
        if text is not None:
            frame["message"] = text
        if cut:
            frame["cut"] = True
        _CHANNEL[0].send(frame)
        return _Ready(lambda: None)

    def __repr__(self):
        return "<progress>"


class Log:
    """The `log` global: log.debug/info/notice/warning/error/critical(text)
    sends a log notification to the client, at or above its chosen level."""

    def __setattr__(self, attr, value):
        raise AttributeError("log is read-only")

    def _send(self, level, message):
        text, cut = _notice_text(message, "message")
        frame = {"type": "log", "level": level, "data": "" if text is None else text}
        if cut:
            frame["cut"] = True
        _CHANNEL[0].send(frame)

    def debug(self, message):
        self._send("debug", message)

    def info(self, message):
        self._send("info", message)

    def notice(self, message):
        self._send("notice", message)

    def warning(self, message):
        self._send("warning", message)

    def error(self, message):
        self._send("error", message)

    def critical(self, message):
        self._send("critical", message)

    def __repr__(self):
        return "<log>"

_json_module = json
_HTTP_SENT = [0]        # requests this child sent (one call per child)


def _http_perform(channel, method, url, params, headers, json_body, data, timeout):
    if not isinstance(method, str) or method.upper() not in (
            "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
        raise ValueError("unsupported HTTP method")
    if not isinstance(url, str):
        raise TypeError("url must be a string")
    if params:
        query = urllib.parse.urlencode(params, doseq=True)
        url = url + ("&" if "?" in url else "?") + query
    out_headers = {}
    for k, v in (headers or {}).items():
        name = str.__str__(str(k))
        if "\x00" in name:
            # a JSON key the parent cannot read (its value may hold one: the
            # parent refuses it with its reason)
            raise ValueError("a request header name may not contain NUL")
        out_headers[name] = str(v)
    body = b""
    if json_body is not None:
        body = _json_module.dumps(json_body).encode()
        out_headers.setdefault("Content-Type", "application/json")
    elif data is not None:
        if isinstance(data, dict):
            body = urllib.parse.urlencode(data).encode()
            out_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(data, str):
            body = data.encode()
        elif isinstance(data, (bytes, bytearray)):
            body = bytes(data)
        else:
            raise TypeError("data must be str, bytes or dict")
    if len(body) > MAX_HTTP_BODY:
        raise ValueError("request body larger than 10 MB")
    request = {"type": "http", "method": method.upper(), "url": url,
               "headers": out_headers, "body": base64.b64encode(body).decode()}
    if timeout is not None:
        try:
            seconds = float(timeout)
        except (TypeError, ValueError, OverflowError):
            seconds = float("nan")
        if not seconds > 0:
            raise ValueError("timeout must be a positive number of seconds")
        # longer than the call itself means the call's own (the parent's rule);
        # never an integer the parent's JSON reader cannot hold
        request["timeout_ms"] = max(1, int(min(seconds, MAX_HTTP_TIMEOUT_S) * 1000))
    if _HTTP_SENT[0] >= MAX_HTTP_REQUESTS:
        raise HTTPError(f"a call may make at most {MAX_HTTP_REQUESTS} requests; "
                        f"this one has made them all")
    _HTTP_SENT[0] += 1
    channel.send(request)
    reply = channel.receive()
    if not reply.get("ok"):
        raise HTTPError(reply.get("error", "request failed"))
    return Response(int(reply["status"]), dict(reply.get("headers") or {}),
                    base64.b64decode(reply.get("body", "")), reply.get("url", url))


# --- secrets and redaction ---------------------------------------------------------------

REDACTED = "[REDACTED]"


def _secret_forms(value):
    """The spellings of a secret that we redact: itself and simple transforms."""
    raw = value.encode("utf-8", "surrogatepass")
    forms = {value, value[::-1], value.upper(), value.lower(),
             urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
             base64.b64encode(raw).decode(), base64.b64encode(raw).decode().rstrip("="),
             base64.urlsafe_b64encode(raw).decode().rstrip("="),
             binascii.hexlify(raw).decode(), binascii.hexlify(raw).decode().upper(),
             json.dumps(value)[1:-1]}
    return sorted((f for f in forms if f), key=len, reverse=True)


class Redactor:
    """Long secrets are redacted wherever they appear; short ones (< 4
    characters) wherever they stand as a whole word or a whole value, since
    redacting every 'ab' inside other text would destroy the output."""

    def __init__(self, secrets):
        self.long, self.short = [], []
        for value in secrets.values():
            if isinstance(value, str) and value:
                (self.long if len(value) >= 4 else self.short).append(value)
        # computed now, before the tool runs (it could patch what json.dumps uses)
        self.forms = [_secret_forms(value) for value in self.long + self.short]
        patterns = []
        for forms in self.forms[:len(self.long)]:
            patterns.extend(re.escape(f) for f in forms)
        for forms in self.forms[len(self.long):]:
            patterns.extend(r"(?<!\w)" + re.escape(f) + r"(?!\w)" for f in forms)
        self.pattern = re.compile("|".join(patterns)) if patterns else None

    def text(self, text):
        if self.pattern is None or not isinstance(text, str):
            return text
        return self.pattern.sub(REDACTED, text)

    def strip_partial_tail(self, text):
        """Text that was cut: a secret's form may begin at its end. The
        beginning of every form is redacted there."""
        if self.pattern is None:
            return text
        for forms in self.forms:
            for form in forms:
                # the longest tail of text that is a proper prefix of form
                start = max(0, len(text) - (len(form) - 1))
                i = text.find(form[0], start)
                while i != -1:
                    if form.startswith(text[i:]):
                        text = text[:i] + REDACTED
                        break
                    i = text.find(form[0], i + 1)
        return text

    def clip(self, text, limit, was_cut=False):
        """Redact, then cut to `limit`, never leaving the start of a secret
        at the cut (a secret straddling the limit would otherwise leak its
        first characters: redaction only recognises whole secrets)."""
        if was_cut:
            text = self.strip_partial_tail(text)
        text = self.text(text)
        if len(text) > limit:
            text = self.strip_partial_tail(text[:limit])[:limit]
        return text

    def value(self, value, depth=0):
        if self.pattern is None:
            return value
        if depth > 200:
            # deeper than this recursion goes: judged on its JSON text
            text = _jsonable(value)
            return REDACTED if text is not None and self.text(text) != text else value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k, depth + 1): self.value(v, depth + 1)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v, depth + 1) for v in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # the digits the encoder writes, not the tool's __str__
            text = int.__repr__(value) if isinstance(value, int) else float.__repr__(value)
            return REDACTED if self.text(text) != text else value
        return value


# --- running a job -----------------------------------------------------------------

def _import_guard_factory(allowed, user_globals, real_import):
    """builtins.__import__ for the child. Imports from tool code are checked
    against the server's allowlist and get ModuleViews; imports made inside
    library code may only reach modules loaded before the sandbox closed."""

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        # the tool's `import` statement passes its globals and a tuple (or
        # None) fromlist; C library code (datetime's strftime importing
        # `time`) runs under the tool's frame too, but through
        # PyImport_Import, whose fromlist is a list
        if globals is user_globals and type(fromlist) is not list:
            if level != 0:
                raise ImportError("relative imports are not allowed")
            if type(name) is not str:
                raise ImportError("module names are strings")
            why = module_problem(name, allowed)
            if why:
                raise ImportError(why)
            module = sys.modules.get(name)
            if module is None:
                raise ImportError(f"module '{name}' is not available in the sandbox")
            if fromlist:
                for item in fromlist:
                    if item.startswith("_"):
                        raise ImportError(f"cannot import '{item}' from '{name}'")
                    sub = f"{name}.{item}"
                    if isinstance(getattr(module, item, None), types.ModuleType) \
                            and sub not in allowed:
                        raise ImportError(f"module '{sub}' is not allowed")
                return ModuleView(module, allowed)
            top = name.split(".")[0]
            if top != name and top not in allowed:
                # `import urllib.parse` binds `urllib`: give a view that only
                # exposes the allowed submodule chain
                return ModuleView(sys.modules[top], allowed | {top})
            return ModuleView(sys.modules[top], allowed)
        # library code: only what is already loaded (nothing new can be read)
        if level == 0 and name in sys.modules:
            return real_import(name, globals, locals, fromlist, level)
        if level != 0:
            return real_import(name, globals, locals, fromlist, level)
        raise ImportError(f"module '{name}' cannot be loaded inside the sandbox")

    return guarded_import


def _safe_build_class(real_build_class):
    def build_class(func, name, *bases, **kw):
        if kw:
            raise TypeError("class keywords are not allowed")
        for base in bases:
            if isinstance(base, ModuleView):
                raise TypeError("a module cannot be a base class")
        cls = real_build_class(func, name, *bases)
        if _is_metaclass(cls):
            # `class M(typing.Type[int])` subclasses type: a metaclass makes
            # classes with any dunder, __instancecheck__ included
            raise TypeError("tool classes may not be metaclasses")
        if isinstance(cls, type) and issubclass(cls, str):
            _install_safe_format(cls)
        return cls
    return build_class


def _error_info(exc, source_lines, redactor, limit_frames=True):
    """Type, message, line and ±2 lines of the tool's own source."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<tool>":
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        # public, writable attributes: the tool may have set them to objects
        # of its own, whose dunders would run here, after main ended
        filename, lineno = exc.filename, exc.lineno
        if type(filename) is str and filename == "<tool>" and type(lineno) is int:
            line = lineno
    context = []
    if line:
        for n in range(max(1, line - 2), min(len(source_lines), line + 2) + 1):
            marker = ">" if n == line else " "
            context.append(f"{marker}{n:4d} | {source_lines[n - 1]}")
    try:
        # a tool's exception class may define __str__: it runs here, still
        # inside the sandbox, and may fail or return anything
        message = str(exc)
        if type(message) is not str:
            message = ""
    except BaseException:  # noqa: the tool's __str__ failing is its own problem
        message = "(the exception's __str__ failed)"
    long_message = len(message) > 4000
    message = redactor.clip(message, 4000) + ("..." if long_message else "")
    return {
        "type": redactor.text(type.__dict__["__name__"].__get__(type(exc))),
        "message": message,
        "line": line,
        "context": [redactor.text(c) for c in context],
    }


_INT64 = range(-2 ** 63, 2 ** 63)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _wide_ints_as_text(value, depth=0):
    """Integers outside the signed 64-bit range become their decimal
    string (the result frame's rule: JSON readers, the executor's
    included, hold 64 bits at most). Containers are copied only when
    something in them changed."""
    if isinstance(value, int) and not isinstance(value, bool):
        exact = int.__int__(value)          # not the tool's __int__
        return value if exact in _INT64 else str(exact)
    if depth > 2000:
        return value                # the encoder refuses this depth anyway
    if isinstance(value, dict):
        items = [(_nul_free_key(k), k, _wide_ints_as_text(v, depth + 1))
                 for k, v in value.items()]
        # a subclass's items()/__getitem__/__iter__ are the tool's: copied
        if type(value) is dict and all(k is key and v is dict.__getitem__(value, k)
                                       for k, key, v in items):
            return value
        return {k: v for k, _, v in items}
    if isinstance(value, (list, tuple)):
        items = [_wide_ints_as_text(v, depth + 1) for v in value]
        if type(value) in (list, tuple) and all(a is b for a, b in zip(items, value)):
            return value
        return items
    return value


def _nul_free_key(key):
    """A str key with U+0000 in it: U+FFFD there instead. The parent's JSON
    reader holds NUL in strings, not in object keys (the frame would be
    refused as malformed). Other keys as they are."""
    if isinstance(key, str) and str.__contains__(key, "\x00"):
        return str.replace(key, "\x00", "\ufffd")
    return key


def _frame_bytes(text):
    """UTF-8 for a frame to the parent: a lone surrogate (which UTF-8
    cannot carry) becomes U+FFFD, in the result and in stdout alike."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def _jsonable(value):
    try:
        # a dataclass result is its fields (what an outputSchema derived
        # from a dataclass annotation describes)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        return _dumps_value(_wide_ints_as_text(value))
    except Exception:       # a tool's own items()/__iter__ may raise anything
        return None


_job = None


def prepare(job_json):
    """Before the sandbox closes: decode the job and import the extra
    modules it allows (imports need to open files; later nothing can)."""
    global _job
    # the job is the trusted parent's compact JSON: the scanner made at
    # import reads it without json.loads's layers (each first touch of a
    # page the zygote shares costs this child a page fault)
    job, end = _scan_json(job_json, 0)
    if end != len(job_json) or type(job) is not dict:
        raise ValueError("the job is not one JSON object")
    allowed = {name for name in (job.get("allowed_modules") or DEFAULT_MODULES)
               if name not in FORBIDDEN_MODULES}
    allowed |= {name for name in (job.get("extra_modules") or ())
                if name not in FORBIDDEN_MODULES}
    # validate never runs the code: nothing to import
    missing = [name for name in sorted(allowed) if name not in sys.modules
               and all(p.isidentifier() and not p.startswith("_") for p in name.split("."))]
    if missing and job.get("mode") != "validate":
        # a library imports as it would anywhere: with the real functions
        # that _harden_library replaced (no tool code exists yet)
        _set_patches(2)
        try:
            for name in missing:
                try:
                    __import__(name)
                except Exception:
                    pass            # reported when the tool imports it
        finally:
            _set_patches(3)
        _harden_extras()
    job["allowed"] = allowed
    _job = job
    timeout = job.get("timeout_ms", 30000)
    return timeout if isinstance(timeout, int) and 0 < timeout <= 300000 else 30000


def execute(channel_fds):
    """After the sandbox closed: run the prepared job, return the result
    frame (UTF-8 JSON bytes)."""
    result = _execute(channel_fds)
    result["type"] = "result"
    return _frame_bytes(_dumps_unicode(result))


def _execute(channel_fds):
    job = _job
    mode = job.get("mode", "run")
    code = job.get("code", "")
    secrets = {str(k): str(v) for k, v in (job.get("secrets") or {}).items()}
    redactor = Redactor(secrets)
    source_lines = code.splitlines() if isinstance(code, str) else []

    try:
        tree = validate_tree(code, job["allowed"])
    except ValidationError as e:
        has_main = _has_main_text(code)
        if not has_main and not e.problems[0][1].startswith("syntax error"):
            e = ValidationError(None, problems=e.problems + [(None, _NO_MAIN)])
        out = {"success": False, "valid": False,
               "error": {"type": "ValidationError", "message": redactor.text(str(e)),
                         "line": e.line,
                         "context": [redactor.text(c) for c in _context(source_lines, e.line)]}}
        if mode == "validate":
            out["has_main"] = has_main
        return out
    main = find_main(tree)
    if mode == "validate":
        out = {"success": main is not None, "valid": main is not None,
               "has_main": main is not None}
        if main is None:
            out["error"] = {"type": "ValidationError",
                            "message": _NO_MAIN,
                            "line": None, "context": []}
        else:
            schema, parameters, description = main_schema(main, tree)
            out.update(input_schema=schema, parameters=parameters, description=description)
            returns = output_schema(main, tree)
            if returns is not None:
                out["output_schema"] = returns
        return out
    if main is None:
        return {"success": False, "valid": False, "error": {
            "type": "ValidationError", "message": _NO_MAIN,
            "line": None, "context": []}}

    stdout = _BoundedWriter(int(job.get("stdout_limit", 1024 * 1024)))
    sys.stdout = stdout
    sys.stderr = stdout
    _CHANNEL[0] = _Channel(*channel_fds)
    arguments = job.get("arguments") or {}
    if not isinstance(arguments, dict):
        arguments = {}
    allowed = job["allowed"]

    safe_builtins = _SAFE_BUILTINS if _SAFE_BUILTINS is not None else _make_safe_builtins()
    user_globals = {
        "__name__": "tool",
        "__builtins__": safe_builtins,
        "_mcpbox_format_attr": _format_attr,
        "_mcpbox_own": _own_attr,
        "_mcpbox_exc": _scrub_exception,
        "http": HTTPClient(),
        "progress": Progress(),
        "log": Log(),
        "json": ModuleView(json, allowed | {"json"}),
        "datetime": ModuleView(datetime, allowed | {"datetime"}),
        "arguments": _read_only_mapping(arguments, "arguments"),
        "secrets": _read_only_mapping(secrets, "secrets"),
    }
    real_import = builtins.__import__
    guard = _import_guard_factory(allowed, user_globals, real_import)
    safe_builtins["__import__"] = guard
    builtins.__import__ = guard
    if job.get("test_inject_os"):
        # test builds only (the C side refuses this field otherwise): hand the
        # tool the real os module to prove the process layer holds alone
        user_globals["os"] = os
        user_globals["sys"] = sys

    result = {"success": False}
    try:
        _harden_library()
        tree = ast.fix_missing_locations(_ToolRewriter().visit(tree))
        _REAL_EXEC(_REAL_COMPILE(tree, "<tool>", "exec"), user_globals)
        tool_main = user_globals.get("main")
        coro = tool_main(**arguments)
        if not isinstance(coro, types.CoroutineType):
            raise TypeError("main must be declared 'async def main(...)'")
        try:
            coro.send(None)
        except StopIteration as stop:
            value = stop.value
        else:
            coro.close()
            raise RuntimeError("tools may only await MCPbox's own awaitables "
                               "(http.*, progress)")
        # the tool's own classes may define __str__/__repr__/items(): what
        # is redacted must be what the encoder emits, so the value becomes
        # plain JSON types first (an int subclass whose __str__ says "0"
        # is encoded by int.__repr__)
        text = _jsonable(value) if redactor.pattern is not None else None
        if text is not None:
            value = _scan_json(text, 0)[0]
        value = redactor.value(value)
        text = _jsonable(value)
        if text is not None:
            result = {"success": True, "result_json": text, "structured": True}
        else:
            result = {"success": True, "result_json": _dumps_ascii(redactor.text(str(value))),
                      "structured": False}
        if len(result["result_json"]) > MAX_RESULT_BYTES:
            result = {"success": False, "error": {
                "type": "ResultTooLarge", "line": None, "context": [],
                "message": f"result larger than {MAX_RESULT_BYTES // (1024 * 1024)} MB"}}
    except BaseException as exc:  # noqa: everything a tool raises is its failure
        builtins.__import__ = real_import
        result = {"success": False, "error": _error_info(exc, source_lines, redactor)}
    builtins.__import__ = real_import
    sys.stdout = sys.__stdout__
    sys.stderr = sys.__stderr__
    # the class's getvalue, not an attribute the tool may have set on the instance
    result["stdout"] = redactor.clip(_BoundedWriter.getvalue(stdout), stdout._limit,
                                     stdout._overflowed)
    result["stdout_truncated"] = stdout._truncated
    return result


def zygote_init():
    """Once, in the zygote: load the default modules and warm what would
    otherwise be loaded lazily (and could not be, once the sandbox closes)."""
    sys.path[:] = [p for p in sys.path if p and os.path.isdir(p)]
    if "/usr/lib/python3/dist-packages" not in sys.path and \
            os.path.isdir("/usr/lib/python3/dist-packages"):
        sys.path.append("/usr/lib/python3/dist-packages")
    for name in DEFAULT_MODULES:
        __import__(name)
    import zoneinfo
    datetime.datetime.strptime("2024-01-02", "%Y-%m-%d")   # loads _strptime
    # keep every zone alive in zoneinfo's cache: reading tzdata later is not possible
    global _zones
    _zones = []
    try:
        for key in sorted(zoneinfo.available_timezones()):
            try:
                _zones.append(zoneinfo.ZoneInfo(key))
            except Exception:
                pass
    except Exception:
        pass
    "x".encode("idna")
    # the codecs people use, looked up now: an encoding module cannot be
    # imported once the sandbox is closed
    import codecs
    for name in ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
                 "utf-8-sig", "cp1252", "latin-1", "ascii", "idna", "punycode",
                 "unicode_escape", "raw_unicode_escape", "iso8859-15", "cp437", "mac-roman"):
        codecs.lookup(name)
    # uuid1()/getnode() would ask libuuid (a socket to uuidd) or run
    # `ip link`: both are refused by seccomp. Use the pure-Python clock and
    # a random node (RFC 4122 §4.5, multicast bit set), chosen once here;
    # the host's MAC address is never read
    import uuid
    uuid._generate_time_safe = None
    uuid._node = uuid._random_getnode()
    datetime.date.today().strftime("%Y-%m-%d")
    global _SAFE_BASES
    _SAFE_BASES = _safe_bases()
    "{0}".format(1)
    json.loads(json.dumps({"a": [1.5, "b"]}))
    re.compile(r"\w+").findall("warm up")
    # last: the warm-up above runs with the real library
    _harden_library()
    global _SAFE_BUILTINS
    _SAFE_BUILTINS = _make_safe_builtins()
    gc.collect()
    gc.freeze()


_zones = []
