"""Secrets through `mcpbox sandbox run --secret K=V`: readable by the tool as
secrets["K"], read-only, and redacted from result, stdout and error text
(the secret itself and its simple transforms). Judged by outcome: the secret
text never appears anywhere in the command's output."""
import base64
import binascii
import html
import json
import urllib.parse

import pytest

from sandbox_util import sandbox_run

SECRET = "s3cr3t-Tok3n-9f8e7d"
SHORT = "q7z"


def _forms(value):
    raw = value.encode()
    return {value, value[::-1], value.upper(), value.lower(),
            base64.b64encode(raw).decode().rstrip("="), binascii.hexlify(raw).decode()}


def _assert_hidden(result, value=SECRET):
    text = result.everything()
    for form in _forms(value):
        assert form not in text, f"{form!r} appears in the output: {result!r}"


def run(code, tmpdir, **kw):
    kw.setdefault("secrets", {"API_KEY": SECRET})
    return sandbox_run(code, tmpdir, **kw)


def test_tool_reads_the_secret(tmpdir_short):
    result = run('''
async def main():
    value = secrets["API_KEY"]
    return {"length": len(value), "starts": value[:2] == "s3", "keys": sorted(secrets)}
''', tmpdir_short)
    assert result.rc == 0, result
    assert result.result == {"length": len(SECRET), "starts": True, "keys": ["API_KEY"]}


@pytest.mark.parametrize("attempt", [
    'secrets["API_KEY"] = "changed"',
    'secrets["NEW"] = "x"',
    'del secrets["API_KEY"]',
    'secrets.clear()',
    'secrets.update({"API_KEY": "changed"})',
    'secrets.pop("API_KEY")',
])
def test_secrets_cannot_be_modified(attempt, tmpdir_short):
    result = run(f'''
async def main():
    try:
        {attempt}
    except Exception as e:
        return ["refused", str(e)]
    return ["modified", secrets.get("API_KEY") == "{SECRET}", sorted(secrets)]
''', tmpdir_short)
    assert result.rc == 0, result
    assert result.result[0] == "refused", result


def test_secrets_mapping_changes_do_not_survive_a_copy(tmpdir_short):
    result = run('''
async def main():
    mine = dict(secrets)
    mine["API_KEY"] = "changed"
    return secrets["API_KEY"] == mine["API_KEY"]
''', tmpdir_short)
    assert result.rc == 0 and result.result is False, result


LEAKS = {
    "return": 'return secrets["API_KEY"]',
    "return_in_sentence": 'return "the key is " + secrets["API_KEY"] + "!"',
    "print": 'print(secrets["API_KEY"])\n    return "printed"',
    "print_many": 'print("a", secrets["API_KEY"], "b", sep="|")\n    print(secrets["API_KEY"] * 3)\n    return 1',
    "raise": 'raise ValueError("bad key " + secrets["API_KEY"])',
    "raise_repr": 'raise KeyError(secrets["API_KEY"])',
    "reversed": 'return secrets["API_KEY"][::-1]',
    "upper": 'return secrets["API_KEY"].upper()',
    "lower": 'return secrets["API_KEY"].lower()',
    "base64": 'return base64.b64encode(secrets["API_KEY"].encode()).decode()',
    "base64_urlsafe": 'return base64.urlsafe_b64encode(secrets["API_KEY"].encode()).decode()',
    "hex": 'return secrets["API_KEY"].encode().hex()',
    "hex_upper": 'return secrets["API_KEY"].encode().hex().upper()',
    "url_quoted": 'return urllib.parse.quote(secrets["API_KEY"], safe="")',
    "json_escaped": 'return json.dumps({"k": secrets["API_KEY"]})',
    "nested": 'return {"a": [1, {"b": ("x", secrets["API_KEY"])}], "c": {"d": [[secrets["API_KEY"]]]}}',
    "dict_key": 'return {secrets["API_KEY"]: 1, "other": {secrets["API_KEY"]: [2]}}',
    "bytes_value": 'return secrets["API_KEY"].encode()',
    "non_json_object": 'return {1, secrets["API_KEY"]}',
    "print_and_raise": 'print("k=" + secrets["API_KEY"])\n    raise RuntimeError(secrets["API_KEY"])',
}


@pytest.mark.parametrize("name", sorted(LEAKS))
def test_secret_never_appears_in_output(name, tmpdir_short):
    code = f'''
import base64, urllib.parse
async def main():
    {LEAKS[name]}
'''
    result = run(code, tmpdir_short)
    assert result.data is not None, result
    _assert_hidden(result)
    assert "[REDACTED]" in result.text, result


# Accidental encodings a tool may produce while using its secret (the forms
# SECURITY.md lists), with a secret holding characters each of them changes.
ODD_SECRET = 's3cr<&"\u00e9/+ t'


def _basic_core(user, value):
    """The base64 characters of base64(user + ":" + value) whose bits all
    come from the value (SECURITY.md: the edges mix the neighbours' bits)."""
    prefix = len(user) + 1
    text = base64.b64encode(f"{user}:{value}".encode()).decode()
    first = -(-prefix * 8 // 6)                       # first char wholly in the value
    last = ((prefix + len(value.encode())) * 8 - 6) // 6
    return text[first:last + 1]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


ENCODED = {
    # name: (expression in the tool, the encoded text that must not come out)
    "http_basic": ('"Basic " + base64.b64encode(("admin:" + S).encode()).decode()',
                   _basic_core("admin", ODD_SECRET)),
    "http_basic_long_user": ('"Basic " + base64.b64encode(("someone.else:" + S).encode()).decode()',
                             _basic_core("someone.else", ODD_SECRET)),
    "html_escape": ("html.escape(S)", html.escape(ODD_SECRET)),
    "ascii": ("ascii(S)", ascii(ODD_SECRET)[1:-1]),
    "json_not_ascii": ("json.dumps(S, ensure_ascii=False)",
                       json.dumps(ODD_SECRET, ensure_ascii=False)[1:-1]),
    "json_ascii": ("json.dumps({'k': S})", json.dumps(ODD_SECRET)[1:-1]),
    "url_quote_default_safe": ("urllib.parse.quote(S)", urllib.parse.quote(ODD_SECRET)),
    "url_quote_plus": ("urllib.parse.quote_plus(S)", urllib.parse.quote_plus(ODD_SECRET)),
    "repr_of_bytes": ("repr(S.encode())", repr(ODD_SECRET.encode())[2:-1]),
}


def test_accidentally_encoded_secret_never_comes_out(tmpdir_short):
    """Each encoding printed, returned and raised (two runs for all of them,
    to keep the suite fast): every encoded form is redacted in each place."""
    names = sorted(ENCODED)
    values = "[" + ", ".join(ENCODED[name][0] for name in names) + "]"
    preamble = '''
import base64, html, json, urllib.parse
async def main():
    S = secrets["API_KEY"]
    values = ''' + values + "\n"
    result = run(preamble + '''
    for value in values:
        print("header:", value)
    return {"headers": values, "nested": [{"v": values}]}
''', tmpdir_short, secrets={"API_KEY": ODD_SECRET})
    assert result.rc == 0, result
    failed = run(preamble + '''
    raise ValueError("sent " + " | ".join(values))
''', tmpdir_short, secrets={"API_KEY": ODD_SECRET})
    assert failed.rc == 1 and failed.data is not None, failed
    stdout = result.data["stdout"].splitlines()
    returned = result.result["headers"]
    assert len(stdout) == len(returned) == len(names), result
    for name, line, value in zip(names, stdout, returned):
        encoded = ENCODED[name][1]
        assert encoded != ODD_SECRET and len(encoded) >= 8      # the encoding changed it
        assert "[REDACTED]" in line and encoded not in line, (name, line)
        assert "[REDACTED]" in value and encoded not in value, (name, value)
    for each in (result, failed):
        # the decoded strings, not the JSON text (where `"` is escaped)
        text = each.everything() + "\n" + "\n".join(_strings(each.data))
        assert ODD_SECRET not in text, each
        for name in names:
            assert ENCODED[name][1] not in text, (name, each)
    assert failed.data["error"]["message"].count("[REDACTED]") >= len(names), failed


def test_secret_split_by_output_truncation_is_still_hidden(tmpdir_short):
    """A secret straddling the 1 MB stdout cap must not leak its beginning."""
    result = run('''
async def main():
    print("y" * (1024 * 1024 - 6) + secrets["API_KEY"] + "tail")
    return 1
''', tmpdir_short)
    assert result.rc == 0, result
    assert result.data["stdout_truncated"] is True
    stdout = result.data["stdout"]
    assert len(stdout) <= 1024 * 1024
    assert SECRET[:3] not in stdout[-40:], stdout[-40:]


def test_secret_split_by_error_message_truncation_is_still_hidden(tmpdir_short):
    result = run('''
async def main():
    raise ValueError("x" * 3995 + secrets["API_KEY"])
''', tmpdir_short)
    assert result.rc == 1, result
    message = result.data["error"]["message"]
    assert SECRET[:5] not in message, message[-40:]
    _assert_hidden(result)


def test_secret_in_huge_output_beyond_the_cap_is_hidden(tmpdir_short):
    result = run('''
async def main():
    for i in range(3):
        print("z" * (600 * 1024) + secrets["API_KEY"])
    return 1
''', tmpdir_short)
    assert result.rc == 0, result
    assert result.data["stdout_truncated"] is True
    _assert_hidden(result)


def test_short_secret_as_a_whole_value(tmpdir_short):
    result = run('''
async def main():
    print(secrets["PIN"])
    return {"pin": secrets["PIN"], "list": [secrets["PIN"]], "text": "pin is " + secrets["PIN"]}
''', tmpdir_short, secrets={"PIN": SHORT})
    assert result.rc == 0, result
    assert result.result == {"pin": "[REDACTED]", "list": ["[REDACTED]"], "text": "pin is [REDACTED]"}
    assert SHORT not in result.everything()


def test_numeric_secret_returned_as_a_number(tmpdir_short):
    result = run('''
async def main():
    return {"n": int(secrets["NUM"]), "f": float(secrets["NUM"])}
''', tmpdir_short, secrets={"NUM": "424242"})
    assert result.rc == 0, result
    assert "424242" not in result.everything(), result


def test_several_secrets_all_hidden(tmpdir_short):
    values = {"A": "alpha-secret-111", "B": "bravo-secret-222", "C": "xyz"}
    result = run('''
async def main():
    print(secrets["A"], secrets["B"], secrets["C"])
    return [secrets["A"], secrets["B"], secrets["C"]]
''', tmpdir_short, secrets=values)
    assert result.rc == 0, result
    for value in values.values():
        assert value not in result.everything(), result


def test_arguments_global_equals_the_args(tmpdir_short):
    args = {"city": "Paris", "days": 3, "flags": [True, None], "nested": {"x": 1.5}}
    result = run('''
async def main(**params):
    return {"same": dict(arguments) == params, "arguments": dict(arguments)}
''', tmpdir_short, args=args)
    assert result.rc == 0, result
    assert result.result == {"same": True, "arguments": args}


def test_arguments_are_read_only(tmpdir_short):
    result = run('''
async def main(city: str):
    try:
        arguments["city"] = "Berlin"
    except TypeError:
        return ["refused", arguments["city"]]
    return ["modified", arguments["city"]]
''', tmpdir_short, args={"city": "Paris"})
    assert result.rc == 0, result
    assert result.result == ["refused", "Paris"]


def test_secret_not_in_output_when_args_contain_it(tmpdir_short):
    """A secret that also arrives as an argument is still redacted on the way out."""
    result = run('''
async def main(token: str):
    return {"echo": token}
''', tmpdir_short, args={"token": SECRET})
    assert result.rc == 0, result
    _assert_hidden(result)


@pytest.mark.parametrize("patch", [
    # the whole frame, written by the tool
    '''
real = json.JSONEncoder.encode

def forged(self, o):
    if isinstance(o, dict) and o.get("type") == "result":
        return ('{"type": "result", "success": true, "result_json": "{not json", '
                '"structured": true, "stdout": "' + secrets["API_KEY"] + '", "valid": true}')
    return real(self, o)

json.JSONEncoder.encode = forged
''',
    '''
json.JSONEncoder.iterencode = lambda self, o, *rest, **kw: [
    '{"type": "result", "success": true, "stdout": "' + secrets["API_KEY"] + '"}']
''',
    '''
json.JSONEncoder.item_separator = ', "injected": "' + secrets["API_KEY"] + '", '
''',
])
def test_patched_json_encoder_cannot_rewrite_the_result_frame(patch, tmpdir_short):
    """json.JSONEncoder's class attributes are writable by the tool; the frame
    the harness sends is still its own, redacted."""
    result = run(patch + '''
async def main():
    print("visible")
    return {"answer": 42, "key": secrets["API_KEY"]}
''', tmpdir_short)
    assert result.rc == 0, result
    assert result.result == {"answer": 42, "key": "[REDACTED]"}
    assert result.data["stdout"] == "visible\n"
    assert "valid" not in result.data and "injected" not in result.text
    _assert_hidden(result)
