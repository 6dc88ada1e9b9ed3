"""`mcpbox sandbox validate`: the input schema comes from main's signature
(AST only, nothing evaluated), the description from its docstring."""
import pytest

from sandbox_util import sandbox_run, sandbox_validate, trap  # noqa: F401 (trap: fixture)


def validate(code, tmpdir):
    result = sandbox_validate(code, tmpdir)
    assert result.data is not None, result
    return result


def schema_of(code, tmpdir):
    result = validate(code, tmpdir)
    assert result.rc == 0 and result.data["valid"] is True, result
    return result.data["input_schema"]


@pytest.mark.parametrize("annotation, expected", [
    ("int", {"type": "integer"}),
    ("float", {"type": "number"}),
    ("str", {"type": "string"}),
    ("bool", {"type": "boolean"}),
    ("list", {"type": "array"}),
    ("dict", {"type": "object"}),
    ("list[str]", {"type": "array", "items": {"type": "string"}}),
    ("List[int]", {"type": "array", "items": {"type": "integer"}}),
    ("dict[str, int]", {"type": "object", "additionalProperties": {"type": "integer"}}),
    ("Dict[str, list[float]]", {"type": "object",
                                "additionalProperties": {"type": "array", "items": {"type": "number"}}}),
    ("Literal['a', 'b']", {"enum": ["a", "b"]}),
    ("Literal[1, 2, 3]", {"enum": [1, 2, 3]}),
    ("'int'", {"type": "integer"}),
    ("Any", {}),
])
def test_required_parameter_types(annotation, expected, tmpdir_short):
    schema = schema_of(f'''
from typing import Any, Dict, List, Literal
async def main(x: {annotation}):
    return x
''', tmpdir_short)
    assert schema["properties"]["x"] == expected
    assert schema["required"] == ["x"]
    assert schema["type"] == "object"


@pytest.mark.parametrize("annotation", ["Optional[int]", "int | None", "None | int",
                                        "Union[int, None]"])
def test_optional_parameters_are_not_required(annotation, tmpdir_short):
    """Optional[X] / X | None: not required, and null is a valid value."""
    schema = schema_of(f'''
from typing import Optional, Union
async def main(x: {annotation}):
    return x
''', tmpdir_short)
    assert schema["properties"]["x"] == {"type": ["integer", "null"]}
    assert schema["required"] == []


def test_union_of_types_is_any_of(tmpdir_short):
    schema = schema_of('''
async def main(x: int | str):
    return x
''', tmpdir_short)
    assert schema["properties"]["x"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert schema["required"] == ["x"]


def test_defaults_are_shown_and_not_required(tmpdir_short):
    result = validate('''
async def main(city: str, days: int = 3, units: str = "metric", verbose: bool = False,
               tags: list = [], limit: float | None = None):
    return city
''', tmpdir_short)
    schema = result.data["input_schema"]
    assert schema["required"] == ["city"]
    assert schema["properties"]["days"] == {"type": "integer", "default": 3}
    assert schema["properties"]["units"] == {"type": "string", "default": "metric"}
    assert schema["properties"]["verbose"] == {"type": "boolean", "default": False}
    assert schema["properties"]["tags"] == {"type": "array", "default": []}
    assert "default" not in schema["properties"]["limit"]
    params = {p["name"]: p for p in result.data["parameters"]}
    assert params["city"]["required"] is True
    assert params["days"] == {"name": "days", "type": "int", "required": False}


def test_default_is_never_evaluated(tmpdir_short, trap):
    """A default that is not a literal is left out of the schema, not run."""
    schema = schema_of(trap.fill('''
async def main(x: int = print("@MARKER@") or json.dumps(1)):
    return x
'''), tmpdir_short)
    assert schema["required"] == []
    assert "default" not in schema["properties"]["x"]
    trap.assert_untouched(validate(trap.fill('async def main(x=open("@MARKER@", "w")):\n'
                                             '    return 1\n'), tmpdir_short))


def test_no_parameters(tmpdir_short):
    result = validate('''
async def main():
    """Returns the time."""
    return 1
''', tmpdir_short)
    assert result.rc == 0
    assert result.data["input_schema"] == {"type": "object", "properties": {}, "required": [],
                                           "additionalProperties": False}
    assert result.data["parameters"] == []
    assert result.data["description"] == "Returns the time."


def test_keyword_only_parameters(tmpdir_short):
    schema = schema_of('''
async def main(a: int, *, b: str, c: int = 2):
    return a
''', tmpdir_short)
    assert schema["required"] == ["a", "b"]
    assert schema["properties"]["b"] == {"type": "string"}
    assert schema["properties"]["c"] == {"type": "integer", "default": 2}


def test_var_keyword_allows_additional_properties(tmpdir_short):
    schema = schema_of('''
async def main(a: int, **rest):
    return a
''', tmpdir_short)
    assert "additionalProperties" not in schema
    assert schema["required"] == ["a"]


def test_docstring_description_and_args_section(tmpdir_short):
    result = validate('''
async def main(city: str, days: int = 1, *, units: str = "c"):
    """Weather forecast for a city.

    Longer explanation that is not part of the short description.

    Args:
        city: the city name, e.g. Paris
        days (int): how many days ahead
        units: c or f

    Returns:
        a forecast
    """
    return city
''', tmpdir_short)
    data = result.data
    assert data["description"] == "Weather forecast for a city."
    props = data["input_schema"]["properties"]
    assert props["city"]["description"] == "the city name, e.g. Paris"
    assert props["days"]["description"] == "how many days ahead"
    assert props["units"]["description"] == "c or f"


def test_missing_main_is_invalid(tmpdir_short):
    result = validate('''
async def helper(x: int):
    return x
''', tmpdir_short)
    assert result.rc == 1
    assert result.data["valid"] is False and result.data["has_main"] is False
    assert result.data["error"]["type"] == "ValidationError"


def test_sync_main_is_invalid(tmpdir_short):
    result = validate('''
def main(x: int):
    return x
''', tmpdir_short)
    assert result.rc == 1
    assert result.data["valid"] is False


def test_main_nested_in_a_class_is_not_main(tmpdir_short):
    result = validate('''
class Tool:
    async def main(self):
        return 1
''', tmpdir_short)
    assert result.rc == 1 and result.data["valid"] is False


def test_syntax_error_reports_its_line(tmpdir_short):
    result = validate('''import json

async def main(x: int):
    return (x +
''', tmpdir_short)
    assert result.rc == 1
    assert result.data["valid"] is False
    assert result.data["error"]["type"] == "ValidationError"
    assert result.data["error"]["line"] in (4, 5)


def test_syntax_error_line_in_the_middle(tmpdir_short):
    result = validate('''async def main():
    a = 1
    b = = 2
    return a
''', tmpdir_short)
    assert result.rc == 1
    assert result.data["error"]["line"] == 3


def test_validation_error_reports_its_line(tmpdir_short):
    result = validate('''async def main():
    x = 1
    return x.__class__
''', tmpdir_short)
    assert result.rc == 1
    assert result.data["error"]["line"] == 3


def test_validate_never_runs_the_code(tmpdir_short, trap):
    code = trap.fill('''
print("ran at import")
open("@MARKER@", "w")

async def main():
    return 1
''')
    result = validate(code, tmpdir_short)
    # open() is reported (it does not exist in the sandbox), nothing ran
    assert result.rc == 1 and result.data["valid"] is False and result.data["has_main"] is True
    assert "'open' is not available" in result.data["error"]["message"]
    assert result.data["error"]["line"] == 3
    assert "ran at import" not in result.data.get("stdout", "")
    trap.assert_untouched(result)
    result = validate(code.replace('open("', 'print("'), tmpdir_short)
    assert result.rc == 0 and result.data["valid"] is True
    assert "ran at import" not in result.text
    trap.assert_untouched(result)



# --- classes in signatures, dataclass results (the derivation itself:
# test_output_schema.py, in process) ----------------------------------------------

POINT = {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
         "required": ["x", "y"]}
CLASSES = '''
from dataclasses import dataclass
from typing import Literal, Optional, TypedDict

class Point(TypedDict):
    x: int
    y: int

@dataclass
class Reading:
    value: float
    unit: Optional[str] = None
'''


def test_class_parameter_uses_defs_and_output_schema(tmpdir_short):
    result = validate(CLASSES + "\nasync def main(p: Point, pair: tuple[int, str], "
                      "k: Literal['only']) -> Point:\n    return p\n", tmpdir_short)
    assert result.rc == 0 and result.data["valid"] is True, result
    schema = result.data["input_schema"]
    assert schema["properties"]["p"] == {"$ref": "#/$defs/Point"}
    assert schema["$defs"] == {"Point": POINT}
    assert schema["properties"]["k"] == {"const": "only"}
    assert schema["properties"]["pair"]["prefixItems"] == [{"type": "integer"},
                                                           {"type": "string"}]
    assert result.data["output_schema"] == POINT
    # no return annotation, no output schema
    result = validate("async def main(x: int):\n    return x\n", tmpdir_short)
    assert result.data["valid"] is True and "output_schema" not in result.data


def test_dataclass_result_is_its_fields(tmpdir_short):
    result = sandbox_run(CLASSES + "\nasync def main() -> Reading:\n"
                         "    return Reading(1.5, 'C')\n", tmpdir_short)
    assert result.success, result
    assert result.result == {"value": 1.5, "unit": "C"}
