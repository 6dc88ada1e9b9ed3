/*  test_catalog_cache.c — which user tools are callable, from two replies.

    A tool is callable only when it is in the registry catalog AND its
    (tool_id, code_hash) is approved; the list is sorted by full name;
    malformed entries are skipped; an error reply keeps the old snapshot;
    the revision changes (and the changed callback fires) exactly when
    what clients see changes; server rules come from approval; the
    catalog's `removed` names imported tools their source stopped offering
    (never callable, only told apart from unknown names).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "json_msgpack.h"
#include "catalog_cache.h"

static int s_changes;

static void
s_changed (void *arg)
{
    (void) arg;
    s_changes++;
}

//  A msgpack body from JSON text.
static msgw_t *
s_body (const char *text)
{
    json_error_t error;
    json_t *value = json_loads (text, 0, &error);
    if (!value)
        fail_msg ("bad JSON in test: %s", error.text);
    msgw_t *w = msgw_new ();
    assert_int_equal (msgw_json (w, value), 0);
    json_decref (value);
    return w;
}

static int
s_apply (catalog_cache_t *cache, const char *catalog, const char *effective, char *err)
{
    msgw_t *c = s_body (catalog), *e = s_body (effective);
    int rc = catalog_cache_apply (cache, msgw_data (c), msgw_size (c),
                                  msgw_data (e), msgw_size (e), err, 256);
    msgw_destroy (&c);
    msgw_destroy (&e);
    return rc;
}

#define TOOL(id, server, name, hash) \
    "{\"tool_id\":\"" id "\",\"server_id\":\"" server "\",\"server_name\":\"s" server "\"," \
    "\"name\":\"" name "\",\"full_name\":\"s" server "__" name "\",\"description\":\"d-" name "\"," \
    "\"input_schema\":{\"type\":\"object\",\"properties\":{}},\"code_hash\":\"" hash "\"," \
    "\"python_code\":\"async def main():\\n    return 1\\n\",\"timeout_ms\":5000}"

static const char *s_catalog =
    "{\"ok\":true,\"revision\":3,\"tools\":["
    TOOL ("t1", "1", "zeta", "h1") ","
    TOOL ("t2", "1", "alpha", "h2") ","
    TOOL ("t3", "2", "mid", "h3") ","
    TOOL ("t4", "2", "unapproved", "h4") ","
    "{\"tool_id\":\"t5\",\"name\":\"broken\"},"
    "\"not an object\""
    "]}";

static const char *s_effective =
    "{\"ok\":true,\"revision\":9,"
    "\"approved\":[{\"tool_id\":\"t1\",\"code_hash\":\"h1\"},"
                  "{\"tool_id\":\"t2\",\"code_hash\":\"h2\"},"
                  "{\"tool_id\":\"t3\",\"code_hash\":\"h3\"},"
                  "{\"tool_id\":\"t4\",\"code_hash\":\"OLD\"},"
                  "{\"tool_id\":\"t9\",\"code_hash\":\"h9\"}],"
    "\"servers\":{\"1\":{\"allowed_modules\":[\"json\",\"xml\"],"
                        "\"allowed_hosts\":[\"api.example.com\"],"
                        "\"network_policy\":\"allow_all_public\"},"
                 "\"2\":{\"network_policy\":\"weird\"}}}";

static void
test_callable_is_catalog_and_approved (void **state)
{
    (void) state;
    s_changes = 0;
    catalog_cache_t *cache = catalog_cache_new (NULL, NULL, s_changed, NULL);
    assert_false (catalog_cache_valid (cache));
    uint64_t initial = catalog_cache_revision (cache);
    char err [256];
    assert_int_equal (s_apply (cache, s_catalog, s_effective, err), 0);
    assert_true (catalog_cache_valid (cache));
    assert_int_equal (catalog_cache_count (cache), 3);
    assert_string_equal (catalog_cache_tool (cache, 0)->full_name, "s1__alpha");
    assert_string_equal (catalog_cache_tool (cache, 1)->full_name, "s1__zeta");
    assert_string_equal (catalog_cache_tool (cache, 2)->full_name, "s2__mid");
    assert_null (catalog_cache_tool (cache, 3));
    const catalog_tool_t *tool = catalog_cache_find (cache, "s1__zeta");
    assert_non_null (tool);
    assert_string_equal (tool->tool_id, "t1");
    assert_string_equal (tool->description, "d-zeta");
    assert_int_equal (tool->timeout_ms, 5000);
    assert_true (json_is_object (tool->input_schema));
    assert_null (catalog_cache_find (cache, "s2__unapproved"));     //  hash not approved
    assert_null (catalog_cache_find (cache, "nope"));
    assert_int_equal (s_changes, 1);
    assert_true (catalog_cache_revision (cache) != initial);
    catalog_cache_destroy (&cache);
    assert_null (cache);
}

static void
test_server_rules (void **state)
{
    (void) state;
    catalog_cache_t *cache = catalog_cache_new (NULL, NULL, NULL, NULL);
    char err [256];
    assert_int_equal (s_apply (cache, s_catalog, s_effective, err), 0);
    catalog_server_t rules;
    assert_true (catalog_cache_server (cache, "1", &rules));
    assert_int_equal (json_array_size (rules.allowed_modules), 2);
    assert_int_equal (json_array_size (rules.allowed_hosts), 1);
    assert_string_equal (rules.network_policy, "allow_all_public");
    //  an unknown policy value never widens anything
    assert_true (catalog_cache_server (cache, "2", &rules));
    assert_null (rules.allowed_modules);
    assert_null (rules.allowed_hosts);
    assert_string_equal (rules.network_policy, "allowlist");
    assert_false (catalog_cache_server (cache, "3", &rules));
    assert_string_equal (rules.network_policy, "allowlist");
    //  approval's defaults are the rules of a server it does not list (one
    //  with no approved host or module): allow_all_public reaches it too
    static const char *with_defaults =
        "{\"ok\":true,\"revision\":10,\"approved\":[],"
        "\"servers\":{\"1\":{\"allowed_hosts\":[\"nas\"],\"network_policy\":\"allowlist\"}},"
        "\"defaults\":{\"allowed_modules\":[\"json\"],\"allowed_hosts\":[],"
                       "\"network_policy\":\"allow_all_public\"}}";
    assert_int_equal (s_apply (cache, s_catalog, with_defaults, err), 0);
    assert_true (catalog_cache_server (cache, "3", &rules));
    assert_string_equal (rules.network_policy, "allow_all_public");
    assert_int_equal (json_array_size (rules.allowed_modules), 1);
    assert_int_equal (json_array_size (rules.allowed_hosts), 0);
    assert_true (catalog_cache_server (cache, "1", &rules));        //  listed: its own
    assert_string_equal (rules.network_policy, "allowlist");
    catalog_cache_destroy (&cache);
}

static void
test_revision_follows_what_clients_see (void **state)
{
    (void) state;
    s_changes = 0;
    catalog_cache_t *cache = catalog_cache_new (NULL, NULL, s_changed, NULL);
    char err [256];
    assert_int_equal (s_apply (cache, s_catalog, s_effective, err), 0);
    uint64_t revision = catalog_cache_revision (cache);
    //  the same again: no change
    assert_int_equal (s_apply (cache, s_catalog, s_effective, err), 0);
    assert_int_equal (catalog_cache_revision (cache), revision);
    assert_int_equal (s_changes, 1);
    //  a new code hash for an approved tool: it drops out
    const char *catalog =
        "{\"ok\":true,\"tools\":[" TOOL ("t1", "1", "zeta", "NEW") "," TOOL ("t2", "1", "alpha", "h2") "]}";
    assert_int_equal (s_apply (cache, catalog, s_effective, err), 0);
    assert_int_equal (catalog_cache_count (cache), 1);
    assert_int_equal (s_changes, 2);
    assert_true (catalog_cache_revision (cache) != revision);
    //  nothing callable any more
    assert_int_equal (s_apply (cache, "{\"ok\":true,\"tools\":[]}", s_effective, err), 0);
    assert_int_equal (catalog_cache_count (cache), 0);
    assert_int_equal (s_changes, 3);
    catalog_cache_destroy (&cache);
}

static void
test_errors_keep_the_old_snapshot (void **state)
{
    (void) state;
    catalog_cache_t *cache = catalog_cache_new (NULL, NULL, NULL, NULL);
    char err [256];
    assert_int_equal (s_apply (cache, s_catalog, s_effective, err), 0);
    assert_int_equal (s_apply (cache, "{\"ok\":false,\"error\":{\"code\":\"no_worker\","
                                      "\"message\":\"m\"}}", s_effective, err), -1);
    assert_non_null (strstr (err, "no_worker"));
    assert_int_equal (s_apply (cache, s_catalog, "{\"ok\":true,\"approved\":3}", err), -1);
    assert_non_null (strstr (err, "approved"));
    assert_int_equal (s_apply (cache, "{\"ok\":true}", s_effective, err), -1);
    assert_int_equal (catalog_cache_count (cache), 3);
    //  garbage bytes
    assert_int_equal (catalog_cache_apply (cache, "\xc1", 1, "\xc1", 1, err, sizeof err), -1);
    assert_int_equal (catalog_cache_count (cache), 3);
    catalog_cache_destroy (&cache);
}

static void
test_freshness_without_a_bridge (void **state)
{
    (void) state;
    catalog_cache_t *cache = catalog_cache_new (NULL, NULL, NULL, NULL);
    //  never fetched: not fresh (and with no bridge, nothing is sent)
    assert_false (catalog_cache_fresh (cache, 1000, 0, 0));
    catalog_cache_invalidate (cache, 0);
    assert_false (catalog_cache_fresh (cache, 1000, 0, 0));
    //  tokens of other fetches are ignored
    catalog_cache_deliver (cache, CATALOG_TOKEN_BIT | 42, "x", 1, 0);
    catalog_cache_deliver (cache, 7, "x", 1, 0);
    assert_false (catalog_cache_valid (cache));
    //  a lookup before any catalog arrived finds nothing (and passes bsearch
    //  no NULL array: the gateway looks a called tool up before the rate check)
    assert_null (catalog_cache_find (cache, "demo__tool"));
    catalog_cache_destroy (&cache);
}

//  title, outputSchema and the reviewed annotations travel with the tool;
//  annotations come only from approval's approved pair (never from the
//  registry's record, where the LLM's suggestion lives); a 2020-12 input
//  schema comes through unchanged; each of them is part of what clients see.
static void
test_metadata (void **state)
{
    (void) state;
    const char *input =
        "{\"type\":\"object\",\"properties\":{\"p\":{\"$ref\":\"#/$defs/P\"},"
        "\"t\":{\"type\":\"array\",\"prefixItems\":[{\"const\":1}],\"items\":false}},"
        "\"unevaluatedProperties\":false,\"$defs\":{\"P\":{\"type\":\"object\","
        "\"dependentRequired\":{\"a\":[\"b\"]},\"minProperties\":1}},"
        "\"$schema\":\"https://json-schema.org/draft/2020-12/schema\"}";
    char catalog [2048];
    snprintf (catalog, sizeof catalog,
        "{\"ok\":true,\"revision\":1,\"tools\":[{\"tool_id\":\"t1\",\"server_id\":\"1\","
        "\"server_name\":\"s\",\"name\":\"a\",\"full_name\":\"s__a\",\"description\":\"\","
        "\"input_schema\":%s,\"code_hash\":\"h1\",\"python_code\":\"x\",\"timeout_ms\":5000,"
        "\"title\":\"Tool A\",\"output_schema\":{\"type\":\"object\"},"
        "\"suggested_annotations\":{\"readOnlyHint\":true},"
        "\"annotations\":{\"readOnlyHint\":true}},"
        "{\"tool_id\":\"t2\",\"server_id\":\"1\",\"server_name\":\"s\",\"name\":\"b\","
        "\"full_name\":\"s__b\",\"input_schema\":{},\"code_hash\":\"h2\","
        "\"python_code\":\"x\",\"output_schema\":null}]}", input);
    const char *reviewed =
        "{\"ok\":true,\"approved\":[{\"tool_id\":\"t1\",\"code_hash\":\"h1\","
        "\"annotations\":\"{\\\"destructiveHint\\\":false,\\\"openWorldHint\\\":true}\"},"
        "{\"tool_id\":\"t2\",\"code_hash\":\"h2\",\"annotations\":null}],\"servers\":{}}";
    catalog_cache_t *cache = catalog_cache_new (NULL, NULL, s_changed, NULL);
    char err [256];
    assert_int_equal (s_apply (cache, catalog, reviewed, err), 0);
    const catalog_tool_t *a = catalog_cache_find (cache, "s__a");
    const catalog_tool_t *b = catalog_cache_find (cache, "s__b");
    assert_non_null (a);
    assert_non_null (b);
    assert_string_equal (a->title, "Tool A");
    assert_string_equal (b->title, "");
    assert_non_null (a->output_schema);
    assert_null (b->output_schema);
    char *hints = json_dumps (a->annotations, JSON_COMPACT);
    assert_string_equal (hints, "{\"destructiveHint\":false,\"openWorldHint\":true}");
    free (hints);
    assert_null (b->annotations);
    //  the input schema, byte for byte (2020-12 keywords and key order kept)
    char *listed = json_dumps (a->input_schema, JSON_COMPACT);
    assert_string_equal (listed, input);
    free (listed);

    //  reviewed annotations changing is a change clients see
    uint64_t revision = catalog_cache_revision (cache);
    const char *other =
        "{\"ok\":true,\"approved\":[{\"tool_id\":\"t1\",\"code_hash\":\"h1\","
        "\"annotations\":\"{\\\"readOnlyHint\\\":true}\"},"
        "{\"tool_id\":\"t2\",\"code_hash\":\"h2\"}],\"servers\":{}}";
    assert_int_equal (s_apply (cache, catalog, other, err), 0);
    assert_int_not_equal (catalog_cache_revision (cache), revision);
    //  unusable annotations from approval are dropped whole, not half-used
    const char *bad =
        "{\"ok\":true,\"approved\":[{\"tool_id\":\"t1\",\"code_hash\":\"h1\","
        "\"annotations\":\"{\\\"readOnlyHint\\\":true,\\\"title\\\":\\\"x\\\"}\"},"
        "{\"tool_id\":\"t2\",\"code_hash\":\"h2\",\"annotations\":\"[true]\"}],"
        "\"servers\":{}}";
    assert_int_equal (s_apply (cache, catalog, bad, err), 0);
    assert_null (catalog_cache_find (cache, "s__a")->annotations);
    assert_null (catalog_cache_find (cache, "s__b")->annotations);
    catalog_cache_destroy (&cache);
}

//  `removed`: named with their source, never in the callable list; a
//  catalog without it (an older registry) has none; malformed entries skipped.
static void
test_removed_at_the_source (void **state)
{
    (void) state;
    catalog_cache_t *cache = catalog_cache_new (NULL, NULL, NULL, NULL);
    char err [256];
    const char *catalog =
        "{\"ok\":true,\"revision\":4,\"tools\":[" TOOL ("t1", "1", "zeta", "h1") "],"
        "\"removed\":[{\"full_name\":\"s1__gone\",\"source_name\":\"nas\","
                      "\"removed_at\":\"2026-12-06T20:00:00Z\"},"
                     "{\"source_name\":\"x\"}, 7]}";
    const char *effective =
        "{\"ok\":true,\"approved\":[{\"tool_id\":\"t1\",\"code_hash\":\"h1\"}]}";
    assert_int_equal (s_apply (cache, catalog, effective, err), 0);
    assert_int_equal (catalog_cache_count (cache), 1);
    assert_string_equal (catalog_cache_removed (cache, "s1__gone"), "nas");
    assert_null (catalog_cache_find (cache, "s1__gone"));
    assert_null (catalog_cache_removed (cache, "s1__zeta"));
    assert_null (catalog_cache_removed (cache, "s1__other"));
    assert_int_equal (s_apply (cache, s_catalog, s_effective, err), 0);
    assert_null (catalog_cache_removed (cache, "s1__gone"));
    catalog_cache_destroy (&cache);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_metadata),
        cmocka_unit_test (test_removed_at_the_source),
        cmocka_unit_test (test_callable_is_catalog_and_approved),
        cmocka_unit_test (test_server_rules),
        cmocka_unit_test (test_revision_follows_what_clients_see),
        cmocka_unit_test (test_errors_keep_the_old_snapshot),
        cmocka_unit_test (test_freshness_without_a_bridge),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
