/*  test_json_schema_check.c — the JSON Schema subset that guards tool calls.

    Each keyword accepts what it should and refuses what it should, with a
    message that names where; unknown keywords never refuse; the depth
    bound holds against a hostile schema; and the schemas the executor
    derives from Python signatures behave as a caller expects.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "json_schema_check.h"

static json_t *
s_json (const char *text)
{
    json_error_t error;
    json_t *value = json_loads (text, JSON_DECODE_ANY, &error);
    if (!value)
        fail_msg ("bad JSON in test: %s (%s)", text, error.text);
    return value;
}

//  Check value against schema; expect ok, or a message containing `want`.
static void
s_expect (const char *schema_text, const char *value_text, const char *want)
{
    json_t *schema = s_json (schema_text);
    json_t *value = s_json (value_text);
    char err [512];
    int rc = json_schema_check (schema, value, "arguments", err, sizeof err);
    if (!want && rc != 0)
        fail_msg ("%s refused by %s: %s", value_text, schema_text, err);
    if (want && rc == 0)
        fail_msg ("%s accepted by %s, expected '%s'", value_text, schema_text, want);
    if (want && !strstr (err, want))
        fail_msg ("message '%s' lacks '%s'", err, want);
    json_decref (schema);
    json_decref (value);
}

static void
test_types (void **state)
{
    (void) state;
    s_expect ("{\"type\":\"string\"}", "\"x\"", NULL);
    s_expect ("{\"type\":\"string\"}", "1", "arguments: expected string, got integer");
    s_expect ("{\"type\":\"integer\"}", "3", NULL);
    s_expect ("{\"type\":\"integer\"}", "3.0", NULL);           //  integral real
    s_expect ("{\"type\":\"integer\"}", "3.5", "expected integer, got number");
    s_expect ("{\"type\":\"integer\"}", "true", "expected integer, got boolean");
    s_expect ("{\"type\":\"number\"}", "3", NULL);
    s_expect ("{\"type\":\"number\"}", "-2.5e3", NULL);
    s_expect ("{\"type\":\"number\"}", "\"3\"", "expected number, got string");
    s_expect ("{\"type\":\"boolean\"}", "false", NULL);
    s_expect ("{\"type\":\"boolean\"}", "0", "expected boolean");
    s_expect ("{\"type\":\"null\"}", "null", NULL);
    s_expect ("{\"type\":\"null\"}", "{}", "expected null, got object");
    s_expect ("{\"type\":\"array\"}", "[]", NULL);
    s_expect ("{\"type\":\"object\"}", "[]", "expected object, got array");
    s_expect ("{\"type\":[\"string\",\"null\"]}", "null", NULL);
    s_expect ("{\"type\":[\"string\",\"null\"]}", "\"a\"", NULL);
    s_expect ("{\"type\":[\"string\",\"null\"]}", "1", "expected string or null");
}

static void
test_objects (void **state)
{
    (void) state;
    const char *schema =
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},"
        "\"b\":{\"type\":\"string\",\"default\":\"x\"}},\"required\":[\"a\"],"
        "\"additionalProperties\":false}";
    s_expect (schema, "{\"a\":1}", NULL);
    s_expect (schema, "{\"a\":1,\"b\":\"y\"}", NULL);
    s_expect (schema, "{}", "arguments: missing required property 'a'");
    s_expect (schema, "{\"a\":\"1\"}", "arguments.a: expected integer, got string");
    s_expect (schema, "{\"a\":1,\"c\":2}", "arguments: unexpected property 'c'");
    s_expect (schema, "{\"a\":1,\"b\":null}", "arguments.b: expected string, got null");
    //  additionalProperties as a schema (dict[str, int])
    const char *map = "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}";
    s_expect (map, "{\"x\":1,\"y\":2}", NULL);
    s_expect (map, "{\"x\":1,\"y\":\"2\"}", "arguments.y: expected integer");
    //  additional properties allowed when not said otherwise
    s_expect ("{\"type\":\"object\",\"properties\":{}}", "{\"z\":[1]}", NULL);
}

static void
test_arrays_enum_const (void **state)
{
    (void) state;
    const char *list = "{\"type\":\"array\",\"items\":{\"type\":\"integer\"},"
                       "\"minItems\":1,\"maxItems\":3}";
    s_expect (list, "[1,2,3]", NULL);
    s_expect (list, "[1,\"2\"]", "arguments[1]: expected integer, got string");
    s_expect (list, "[]", "at least 1 items");
    s_expect (list, "[1,2,3,4]", "at most 3 items");
    const char *nested = "{\"type\":\"object\",\"properties\":{\"rows\":{\"type\":\"array\","
                         "\"items\":{\"type\":\"object\",\"required\":[\"id\"]}}}}";
    s_expect (nested, "{\"rows\":[{\"id\":1},{\"x\":2}]}",
              "arguments.rows[1]: missing required property 'id'");
    const char *choice = "{\"enum\":[\"a\",\"b\",3]}";
    s_expect (choice, "\"a\"", NULL);
    s_expect (choice, "3", NULL);
    s_expect (choice, "\"c\"", "must be one of \"a\", \"b\", 3");
    s_expect ("{\"const\":{\"k\":1}}", "{\"k\":1}", NULL);
    s_expect ("{\"const\":{\"k\":1}}", "{\"k\":2}", "constant");
}

static void
test_bounds (void **state)
{
    (void) state;
    const char *range = "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}";
    s_expect (range, "1", NULL);
    s_expect (range, "100", NULL);
    s_expect (range, "0", "must be at least 1");
    s_expect (range, "101", "must be at most 100");
    s_expect ("{\"exclusiveMinimum\":0}", "0", "greater than 0");
    s_expect ("{\"exclusiveMaximum\":1.5}", "1.4", NULL);
    const char *text = "{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}";
    s_expect (text, "\"ab\"", NULL);
    s_expect (text, "\"\xc3\xa9\xc3\xa9\xc3\xa9\"", NULL);        //  3 code points, 6 bytes
    s_expect (text, "\"a\"", "at least 2 characters");
    s_expect (text, "\"abcd\"", "at most 3 characters");
}

static void
test_combinators (void **state)
{
    (void) state;
    //  Optional[int | str] as the executor writes it
    const char *any = "{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}";
    s_expect (any, "1", NULL);
    s_expect (any, "\"x\"", NULL);
    s_expect (any, "[]", "matches none of the allowed forms (arguments: expected integer");
    const char *one = "{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]}";
    s_expect (one, "1.5", NULL);
    s_expect (one, "1", "more than one");
    s_expect ("{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":5}]}", "4", "at least 5");
    s_expect ("true", "{\"anything\":1}", NULL);
    s_expect ("false", "1", "no value is allowed here");
    s_expect ("{\"properties\":{\"x\":false}}", "{\"x\":1}", "arguments.x: no value");
}

static void
test_unknown_keywords_never_refuse (void **state)
{
    (void) state;
    s_expect ("{\"type\":\"string\",\"format\":\"email\",\"pattern\":\"^z$\","
              "\"title\":\"t\",\"$schema\":\"x\",\"x-extra\":{}}", "\"abc\"", NULL);
    s_expect ("{\"type\":\"frobnicate\"}", "1", NULL);
    s_expect ("{\"type\":17}", "1", NULL);
    s_expect ("{\"required\":\"a\",\"properties\":[1]}", "{}", NULL);
    s_expect ("{\"minimum\":\"5\"}", "1", NULL);
    s_expect ("{}", "null", NULL);
}

static void
test_depth_bound (void **state)
{
    (void) state;
    //  a schema and value nested 100 deep: refused at the bound, no crash
    char schema [8192] = "", value [4096] = "";
    for (int i = 0; i < 100; i++) {
        strcat (schema, "{\"type\":\"object\",\"additionalProperties\":");
        strcat (value, "{\"k\":");
    }
    strcat (schema, "true");
    strcat (value, "1");
    for (int i = 0; i < 100; i++) {
        strcat (schema, "}");
        strcat (value, "}");
    }
    s_expect (schema, value, "nested too deeply");
    //  within the bound is fine
    s_expect ("{\"items\":{\"items\":{\"items\":{\"type\":\"integer\"}}}}", "[[[1,2]]]", NULL);
}

static void
test_messages_are_bounded (void **state)
{
    (void) state;
    json_t *schema = s_json ("{\"properties\":{\"a\":{\"type\":\"integer\"}}}");
    json_t *value = json_object ();
    char key [2000];
    memset (key, 'k', sizeof key - 1);
    key [sizeof key - 1] = 0;
    json_t *inner = json_object ();
    json_object_set_new (inner, "a", json_string ("x"));
    json_object_set_new (value, key, json_integer (1));
    json_object_set_new (value, "a", json_string ("x"));
    char err [64];
    assert_int_equal (json_schema_check (schema, value, "arguments", err, sizeof err), -1);
    assert_true (strlen (err) < sizeof err);
    assert_non_null (strstr (err, "arguments.a"));
    json_decref (inner);
    json_decref (schema);
    json_decref (value);
    //  NULL inputs are refused, not dereferenced
    assert_int_equal (json_schema_check (NULL, NULL, NULL, err, sizeof err), -1);
}

static void
test_ref_and_prefix_items (void **state)
{
    (void) state;
    //  what the harness derives from a TypedDict with a nested one and a
    //  fixed tuple: $defs/$ref and prefixItems are checked, not skipped
    const char *schema =
        "{\"type\":\"object\",\"properties\":{"
          "\"points\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/Point\"}},"
          "\"pair\":{\"type\":\"array\",\"prefixItems\":[{\"type\":\"integer\"},"
            "{\"type\":\"string\"}],\"items\":false,\"minItems\":2,\"maxItems\":2}},"
        "\"required\":[\"points\"],"
        "\"$defs\":{\"Point\":{\"type\":\"object\",\"properties\":{"
          "\"x\":{\"type\":\"integer\"},\"next\":{\"$ref\":\"#/$defs/Point\"}},"
          "\"required\":[\"x\"]}}}";
    s_expect (schema, "{\"points\":[{\"x\":1},{\"x\":2,\"next\":{\"x\":3}}],"
                      "\"pair\":[1,\"a\"]}", NULL);
    s_expect (schema, "{\"points\":[{\"x\":1},{\"y\":2}]}",
              "arguments.points[1]: missing required property 'x'");
    s_expect (schema, "{\"points\":[{\"x\":1,\"next\":{\"x\":\"no\"}}]}",
              "arguments.points[0].next.x: expected integer, got string");
    s_expect (schema, "{\"points\":[],\"pair\":[\"a\",1]}",
              "arguments.pair[0]: expected integer, got string");
    s_expect (schema, "{\"points\":[],\"pair\":[1,\"a\",true]}",
              "must have at most 2 items");
    //  items after prefixItems applies only to the rest
    s_expect ("{\"prefixItems\":[{\"type\":\"string\"}],\"items\":{\"type\":\"integer\"}}",
              "[\"a\",1,2]", NULL);
    s_expect ("{\"prefixItems\":[{\"type\":\"string\"}],\"items\":{\"type\":\"integer\"}}",
              "[\"a\",1,\"b\"]", "arguments[2]: expected integer, got string");
    //  a reference we cannot resolve never refuses; one to itself ends
    s_expect ("{\"$ref\":\"https://example.com/s.json\"}", "1", NULL);
    s_expect ("{\"$ref\":\"#/$defs/Missing\"}", "1", NULL);
    s_expect ("{\"$ref\":\"#/$defs/A\",\"$defs\":{\"A\":{\"$ref\":\"#/$defs/A\"}}}", "1",
              "nested too deeply");
    s_expect ("{\"$ref\":\"#/definitions/A\",\"definitions\":{\"A\":{\"type\":\"string\"}}}",
              "1", "expected string, got integer");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_types),
        cmocka_unit_test (test_objects),
        cmocka_unit_test (test_arrays_enum_const),
        cmocka_unit_test (test_bounds),
        cmocka_unit_test (test_combinators),
        cmocka_unit_test (test_unknown_keywords_never_refuse),
        cmocka_unit_test (test_depth_bound),
        cmocka_unit_test (test_messages_are_bounded),
        cmocka_unit_test (test_ref_and_prefix_items),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
