"""The outputSchema derivation (harness.py `output_schema`: main's return
annotation, read from the AST; nothing is run), tested in process on the
harness the build generated — the same function the sandbox's validation
calls. End to end (validate, the registry, tools/list, the call check):
test_sandbox_schema.py and test_tool_metadata.py."""
import ast
import os
import runpy

import pytest

from conftest import BUILD

CLASSES = '''
from dataclasses import dataclass
from typing import Any, ClassVar, List, Literal, NotRequired, Optional, TypedDict

class Point(TypedDict):
    x: int
    y: int

class Shape(TypedDict):
    """A shape."""
    name: str
    corners: list[Point]
    tag: NotRequired[str]

class Colored(Shape):
    color: Literal["red"]

@dataclass
class Reading:
    value: float
    unit: Optional[str] = None
    scale: ClassVar[int] = 1

class Plain:
    a: int

class Tree(TypedDict):
    value: int
    children: list["Tree"]
'''

WRAP = {"x-mcpbox-wrapped": True, "required": ["result"], "type": "object"}
POINT = {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
         "required": ["x", "y"]}


@pytest.fixture(scope="module")
def harness():
    return runpy.run_path(os.path.join(BUILD, "actors", "executor", "harness.py"),
                          run_name="harness_under_test")


def output_of(harness, annotation):
    tree = ast.parse(CLASSES + f"\nasync def main() -> {annotation}:\n    return None\n")
    return harness["output_schema"](harness["find_main"](tree), tree)


@pytest.mark.parametrize("annotation, expected", [
    ("Point", POINT),
    ("'Point'", POINT),
    ("Shape", {"type": "object", "properties": {
        "name": {"type": "string"},
        "corners": {"type": "array", "items": {"$ref": "#/$defs/Point"}},
        "tag": {"type": "string"}},
        "required": ["name", "corners"], "description": "A shape.",
        "$defs": {"Point": POINT}}),
    ("Reading", {"type": "object", "properties": {
        "value": {"type": "number"}, "unit": {"type": ["string", "null"]}},
        "required": ["value", "unit"]}),
    ("dict[str, int]", {"type": "object", "additionalProperties": {"type": "integer"}}),
    ("dict", {"type": "object"}),
    ("list[Point]", {**WRAP, "properties": {"result": {"type": "array",
                                                       "items": {"$ref": "#/$defs/Point"}}},
                     "$defs": {"Point": POINT}}),
    ("int", {**WRAP, "properties": {"result": {"type": "integer"}}}),
    ("Optional[str]", {**WRAP, "properties": {"result": {"type": ["string", "null"]}}}),
    ("Optional[Point]", {**WRAP, "properties": {"result": {"anyOf": [
        {"$ref": "#/$defs/Point"}, {"type": "null"}]}}, "$defs": {"Point": POINT}}),
    ("str | int", {**WRAP, "properties": {"result": {"anyOf": [{"type": "string"},
                                                              {"type": "integer"}]}}}),
    ("tuple[int, str]", {**WRAP, "properties": {"result": {
        "type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
        "minItems": 2, "maxItems": 2}}}),
    ("tuple[int, ...]", {**WRAP, "properties": {"result": {"type": "array",
                                                           "items": {"type": "integer"}}}}),
    ("Literal['a']", {**WRAP, "properties": {"result": {"const": "a"}}}),
])
def test_output_schema_from_return_annotation(harness, annotation, expected):
    assert output_of(harness, annotation) == expected


def test_subclass_of_own_typeddict(harness):
    got = output_of(harness, "Colored")
    assert got["required"] == ["name", "corners", "color"]
    assert got["properties"]["color"] == {"const": "red"}
    assert got["$defs"] == {"Point": POINT}


def test_recursive_class_is_finite(harness):
    got = output_of(harness, "Tree")
    # the root is inlined and stays in $defs, because it refers to itself
    assert got["properties"]["children"] == {"type": "array", "items": {"$ref": "#/$defs/Tree"}}
    assert got["$defs"]["Tree"]["required"] == ["value", "children"]


@pytest.mark.parametrize("annotation", ["Any", "None", "Plain", "object", "'no such'"])
def test_nothing_promised_no_schema(harness, annotation):
    assert output_of(harness, annotation) is None


def test_many_classes_are_bounded(harness):
    classes = "".join(f"class C{i}(TypedDict):\n    next: 'C{i + 1}'\n" for i in range(100))
    tree = ast.parse("from typing import TypedDict\n" + classes +
                     "async def main() -> C0:\n    return {}\n")
    got = harness["output_schema"](harness["find_main"](tree), tree)
    assert len(got.get("$defs", {})) <= 64
