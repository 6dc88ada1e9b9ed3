/*  test_mcp_tools.c — the management tool table.

    The tools this gateway serves (the table itself is the list), each
    once, named mcpbox_* in at most 64 characters, with a
    description, a closed object schema that parses and whose required
    names are declared properties, and a handler; none of them decides
    an approval. Rendering gives what tools/list needs.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "json_schema_check.h"
#include "mcp_tools.h"

//  The table is the list: nothing here repeats it, so adding a tool
//  touches only the gateway's files. A few names the flows rely on:
static const char *s_core [] = {
    "mcpbox_create_server", "mcpbox_create_tool", "mcpbox_request_publish",
    "mcpbox_get_tool_status", "mcpbox_test_code", "mcpbox_validate_code",
};
#define EXPECTED mcp_tools_count ()

static void
test_the_table (void **state)
{
    (void) state;
    assert_true (EXPECTED >= 20);
    for (size_t i = 0; i < sizeof s_core / sizeof s_core [0]; i++)
        assert_true (mcp_tools_find (s_core [i]) >= 0);
    for (size_t i = 0; i < EXPECTED; i++) {
        const mcp_tool_def_t *tool = mcp_tools_get (i);
        assert_non_null (tool);
        assert_int_equal (strncmp (tool->name, "mcpbox_", 7), 0);
        assert_true (strlen (tool->name) <= 64);
        assert_int_equal (mcp_tools_find (tool->name), (int) i);     //  each once
        assert_non_null (tool->handler);
        assert_true (strlen (tool->description) > 20);
        assert_null (strstr (tool->name, "__"));        //  never a user tool's name
        assert_null (strstr (tool->name, "approve"));
        assert_null (strstr (tool->name, "reject"));
        assert_null (strstr (tool->name, "revoke"));
    }
    assert_null (mcp_tools_get (EXPECTED));
    assert_int_equal (mcp_tools_find ("mcpbox_approve_tool"), -1);
    assert_int_equal (mcp_tools_find ("calc__add"), -1);
    assert_int_equal (mcp_tools_find (NULL), -1);
}

static void
test_schemas (void **state)
{
    (void) state;
    char err [256];
    json_t *schemas = mcp_tools_schemas (err, sizeof err);
    assert_non_null (schemas);
    json_t *outputs = mcp_tools_outputs (err, sizeof err);
    assert_non_null (outputs);
    assert_int_equal (json_array_size (outputs), EXPECTED);
    assert_int_equal (json_array_size (schemas), EXPECTED);
    for (size_t i = 0; i < EXPECTED; i++) {
        json_t *schema = json_array_get (schemas, i);
        assert_string_equal (json_string_value (json_object_get (schema, "type")), "object");
        assert_true (json_is_false (json_object_get (schema, "additionalProperties")));
        json_t *properties = json_object_get (schema, "properties");
        assert_true (json_is_object (properties));
        size_t j;
        json_t *name;
        json_array_foreach (json_object_get (schema, "required"), j, name)
            assert_non_null (json_object_get (properties, json_string_value (name)));
        json_t *rendered = mcp_tools_render (i, schemas, outputs);
        json_t *output = json_object_get (rendered, "outputSchema");
        assert_ptr_equal (output, json_array_get (outputs, i));
        assert_string_equal (json_string_value (json_object_get (output, "type")), "object");
        //  what an output schema requires, it describes
        json_array_foreach (json_object_get (output, "required"), j, name)
            assert_non_null (json_object_get (json_object_get (output, "properties"),
                                              json_string_value (name)));
        const char *tool_name = mcp_tools_get (i)->name;
        assert_string_equal (json_string_value (json_object_get (rendered, "name")), tool_name);
        //  every tool has a title and all four hints, consistent with its name
        const char *title = mcp_tools_title (i);
        assert_non_null (title);
        assert_string_equal (json_string_value (json_object_get (rendered, "title")), title);
        json_t *notes = json_object_get (rendered, "annotations");
        assert_true (json_is_object (notes));
        assert_string_equal (json_string_value (json_object_get (notes, "title")), title);
        bool read_only = json_is_true (json_object_get (notes, "readOnlyHint"));
        bool destructive = json_is_true (json_object_get (notes, "destructiveHint"));
        bool open_world = json_is_true (json_object_get (notes, "openWorldHint"));
        assert_true (json_is_boolean (json_object_get (notes, "readOnlyHint")));
        assert_true (json_is_boolean (json_object_get (notes, "destructiveHint")));
        assert_true (json_is_boolean (json_object_get (notes, "idempotentHint")));
        assert_true (json_is_boolean (json_object_get (notes, "openWorldHint")));
        bool reader = strncmp (tool_name, "mcpbox_get_", 11) == 0
                   || strncmp (tool_name, "mcpbox_list_", 12) == 0
                   || strcmp (tool_name, "mcpbox_validate_code") == 0;
        assert_int_equal (read_only, reader);
        if (read_only)
            assert_false (destructive);
        if (strstr (tool_name, "_delete_") || strstr (tool_name, "_update_")
        ||  strstr (tool_name, "_rollback_"))
            assert_true (destructive);
        //  only running code reaches outside MCPbox
        assert_int_equal (open_world, strcmp (tool_name, "mcpbox_test_code") == 0);
        assert_ptr_equal (json_object_get (rendered, "inputSchema"), schema);
        json_decref (rendered);
    }
    //  a few checks through the real schemas
    json_t *list = json_array_get (schemas, 0);
    json_t *args = json_pack ("{s:i}", "page_size", 100);
    assert_int_equal (json_schema_check (list, args, "arguments", err, sizeof err), 0);
    json_object_set_new (args, "page_size", json_integer (101));
    assert_int_equal (json_schema_check (list, args, "arguments", err, sizeof err), -1);
    json_decref (args);
    json_t *network = json_array_get (schemas, (size_t) mcp_tools_find ("mcpbox_request_network_access"));
    args = json_pack ("{s:s, s:s, s:s, s:i}", "tool_id", "t", "host", "h",
                      "justification", "j", "port", 70000);
    assert_int_equal (json_schema_check (network, args, "arguments", err, sizeof err), -1);
    assert_non_null (strstr (err, "arguments.port"));
    json_decref (args);
    //  answers as the handlers build them, against their output schemas
    json_t *started = json_array_get (outputs, (size_t) mcp_tools_find ("mcpbox_start_server"));
    json_t *answer = json_pack ("{s:b, s:s, s:s, s:n}", "success", 1, "message", "m",
                                "status", "running", "registered_tools");
    assert_int_equal (json_schema_check (started, answer, "structuredContent", err, sizeof err), 0);
    json_object_set_new (answer, "registered_tools", json_integer (2));
    assert_int_equal (json_schema_check (started, answer, "structuredContent", err, sizeof err), 0);
    json_object_del (answer, "status");
    assert_int_equal (json_schema_check (started, answer, "structuredContent", err, sizeof err), -1);
    json_decref (answer);
    json_t *tested = json_array_get (outputs, (size_t) mcp_tools_find ("mcpbox_test_code"));
    answer = json_pack ("{s:b, s:[i], s:n, s:s, s:i}", "success", 1, "result", 3, "error",
                        "stdout", "", "duration_ms", 4);
    assert_int_equal (json_schema_check (tested, answer, "structuredContent", err, sizeof err), 0);
    json_decref (answer);
    json_decref (outputs);
    json_decref (schemas);
}

static void
test_helpers (void **state)
{
    (void) state;
    json_t *from = json_pack ("{s:i, s:s, s:n}", "a", 1, "b", "x", "c");
    json_t *picked = mcp_pick (from, "a", "c", "missing", NULL);
    assert_int_equal (json_object_size (picked), 2);
    assert_true (json_is_null (json_object_get (picked, "c")));
    json_decref (picked);
    json_t *list = json_pack ("[o, i, o]", json_incref (from), 5, json_incref (from));
    json_t *each = mcp_pick_each (list, "b", NULL);
    assert_int_equal (json_array_size (each), 2);
    assert_string_equal (json_string_value (json_object_get (json_array_get (each, 1), "b")), "x");
    json_decref (each);
    each = mcp_pick_each (from, "b", NULL);                 //  not an array
    assert_int_equal (json_array_size (each), 0);
    json_decref (each);
    json_decref (list);
    json_decref (from);
    json_t *modules = mcp_default_modules ();
    assert_int_equal (json_array_size (modules), 28);
    json_decref (modules);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_the_table),
        cmocka_unit_test (test_schemas),
        cmocka_unit_test (test_helpers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
