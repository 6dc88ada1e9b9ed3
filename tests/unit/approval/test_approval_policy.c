/*  test_approval_policy.c — the security policy of the approval actor
    (actors/approval/policy.c): defaults are the most restrictive values,
    every value is validated (type and range), profiles set the posture
    settings together and are recognised again, anything else is "custom",
    and settings survive a round trip through the settings table.

    Linked against approval_core, as the actor is.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "approval.h"

//  Parse a value given as msgpack object built by hand.
static int
s_parse_str (int key, const char *text, char *out, bus_err_t *err)
{
    msgpack_object value = { .type = MSGPACK_OBJECT_STR };
    value.via.str.ptr = text;
    value.via.str.size = (uint32_t) strlen (text);
    return policy_parse_value (key, &value, out, err);
}

static int
s_parse_int (int key, int64_t n, char *out, bus_err_t *err)
{
    msgpack_object value;
    if (n >= 0) {
        value.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        value.via.u64 = (uint64_t) n;
    }
    else {
        value.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        value.via.i64 = n;
    }
    return policy_parse_value (key, &value, out, err);
}

static void
test_defaults (void **state)
{
    (void) state;
    policy_t policy;
    policy_defaults (&policy);
    assert_string_equal (policy.value [POLICY_REMOTE_TOOL_EDITING], "disabled");
    assert_string_equal (policy.value [POLICY_TOOL_APPROVAL_MODE], "require_approval");
    assert_string_equal (policy.value [POLICY_NETWORK_ACCESS_POLICY], "require_approval");
    assert_string_equal (policy.value [POLICY_MODULE_APPROVAL_MODE], "require_approval");
    assert_string_equal (policy.value [POLICY_REDACT_SECRETS], "enabled");
    assert_int_equal (policy_int (&policy, POLICY_LOG_RETENTION_DAYS), 30);
    assert_int_equal (policy_int (&policy, POLICY_MCP_RATE_LIMIT_RPM), 300);
    assert_string_equal (policy_profile_of (&policy), "strict");
}

static void
test_keys (void **state)
{
    (void) state;
    assert_int_equal (policy_key ("tool_approval_mode"), POLICY_TOOL_APPROVAL_MODE);
    assert_int_equal (policy_key ("mcp_rate_limit_rpm"), POLICY_MCP_RATE_LIMIT_RPM);
    assert_int_equal (policy_key ("nope"), -1);
    assert_int_equal (policy_key (""), -1);
    for (int key = 0; key < POLICY_COUNT; key++)
        assert_int_equal (policy_key (policy_key_name (key)), key);
}

static void
test_values (void **state)
{
    (void) state;
    char out [POLICY_VALUE_MAX];
    bus_err_t err;
    assert_int_equal (s_parse_str (POLICY_TOOL_APPROVAL_MODE, "auto_approve", out, &err), 0);
    assert_string_equal (out, "auto_approve");
    assert_int_equal (s_parse_str (POLICY_NETWORK_ACCESS_POLICY, "allow_all_public", out, &err), 0);
    assert_int_equal (s_parse_str (POLICY_REMOTE_TOOL_EDITING, "enabled", out, &err), 0);
    assert_int_equal (s_parse_str (POLICY_REDACT_SECRETS, "disabled", out, &err), 0);

    //  wrong words, wrong case, words of another setting, wrong types
    assert_int_equal (s_parse_str (POLICY_TOOL_APPROVAL_MODE, "AUTO_APPROVE", out, &err), -1);
    assert_int_equal (err.code, BUS_ERR_BAD_REQUEST);
    assert_non_null (strstr (err.message, "tool_approval_mode"));
    assert_int_equal (s_parse_str (POLICY_TOOL_APPROVAL_MODE, "allow_all_public", out, &err), -1);
    assert_int_equal (s_parse_str (POLICY_REMOTE_TOOL_EDITING, "", out, &err), -1);
    assert_int_equal (s_parse_str (POLICY_REMOTE_TOOL_EDITING, "enabled ", out, &err), -1);
    assert_int_equal (s_parse_int (POLICY_REMOTE_TOOL_EDITING, 1, out, &err), -1);
    assert_int_equal (s_parse_str (POLICY_LOG_RETENTION_DAYS, "30", out, &err), -1);

    //  ranges, at and beyond the edges
    assert_int_equal (s_parse_int (POLICY_LOG_RETENTION_DAYS, 1, out, &err), 0);
    assert_string_equal (out, "1");
    assert_int_equal (s_parse_int (POLICY_LOG_RETENTION_DAYS, 3650, out, &err), 0);
    assert_int_equal (s_parse_int (POLICY_LOG_RETENTION_DAYS, 0, out, &err), -1);
    assert_int_equal (s_parse_int (POLICY_LOG_RETENTION_DAYS, 3651, out, &err), -1);
    assert_int_equal (s_parse_int (POLICY_LOG_RETENTION_DAYS, -5, out, &err), -1);
    assert_int_equal (s_parse_int (POLICY_MCP_RATE_LIMIT_RPM, 10, out, &err), 0);
    assert_int_equal (s_parse_int (POLICY_MCP_RATE_LIMIT_RPM, 10000, out, &err), 0);
    assert_int_equal (s_parse_int (POLICY_MCP_RATE_LIMIT_RPM, 9, out, &err), -1);
    assert_int_equal (s_parse_int (POLICY_MCP_RATE_LIMIT_RPM, 10001, out, &err), -1);
    assert_int_equal (s_parse_int (POLICY_MCP_RATE_LIMIT_RPM, INT64_MAX, out, &err), -1);
}

static void
test_profiles (void **state)
{
    (void) state;
    policy_t policy;
    bus_err_t err;
    policy_defaults (&policy);
    snprintf (policy.value [POLICY_LOG_RETENTION_DAYS], POLICY_VALUE_MAX, "90");

    assert_int_equal (policy_profile_apply ("permissive", &policy, &err), 0);
    assert_string_equal (policy_profile_of (&policy), "permissive");
    assert_true (policy_is (&policy, POLICY_TOOL_APPROVAL_MODE, "auto_approve"));
    assert_true (policy_is (&policy, POLICY_MODULE_APPROVAL_MODE, "auto_approve"));
    assert_true (policy_is (&policy, POLICY_NETWORK_ACCESS_POLICY, "allow_all_public"));
    assert_true (policy_is (&policy, POLICY_REMOTE_TOOL_EDITING, "enabled"));
    assert_true (policy_is (&policy, POLICY_REDACT_SECRETS, "enabled"));
    //  operational numbers are left alone by a profile
    assert_int_equal (policy_int (&policy, POLICY_LOG_RETENTION_DAYS), 90);

    assert_int_equal (policy_profile_apply ("balanced", &policy, &err), 0);
    assert_string_equal (policy_profile_of (&policy), "balanced");
    assert_true (policy_is (&policy, POLICY_MODULE_APPROVAL_MODE, "auto_approve"));
    assert_true (policy_is (&policy, POLICY_TOOL_APPROVAL_MODE, "require_approval"));
    assert_true (policy_is (&policy, POLICY_NETWORK_ACCESS_POLICY, "require_approval"));
    assert_true (policy_is (&policy, POLICY_REMOTE_TOOL_EDITING, "disabled"));

    assert_int_equal (policy_profile_apply ("strict", &policy, &err), 0);
    assert_string_equal (policy_profile_of (&policy), "strict");

    //  one posture setting off any profile: custom
    snprintf (policy.value [POLICY_REDACT_SECRETS], POLICY_VALUE_MAX, "disabled");
    assert_string_equal (policy_profile_of (&policy), "custom");

    assert_int_equal (policy_profile_apply ("lax", &policy, &err), -1);
    assert_int_equal (err.code, BUS_ERR_BAD_REQUEST);
    assert_int_equal (policy_profile_apply ("", &policy, &err), -1);
}

static void
test_table_round_trip (void **state)
{
    (void) state;
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open (":memory:", &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, "CREATE TABLE settings (key TEXT PRIMARY KEY,"
                                    " value TEXT NOT NULL, updated_at TEXT NOT NULL,"
                                    " updated_by TEXT NOT NULL)", NULL, NULL, NULL),
                      SQLITE_OK);
    policy_t policy;
    bus_err_t err;
    assert_int_equal (policy_load (db, &policy, &err), 0);
    assert_string_equal (policy_profile_of (&policy), "strict");

    assert_int_equal (policy_store (db, POLICY_TOOL_APPROVAL_MODE, "auto_approve",
                                    "admin", "2026-01-01T00:00:00.000Z", &err), 0);
    assert_int_equal (policy_store (db, POLICY_LOG_RETENTION_DAYS, "7",
                                    "admin", "2026-01-01T00:00:00.000Z", &err), 0);
    //  overwrite
    assert_int_equal (policy_store (db, POLICY_LOG_RETENTION_DAYS, "14",
                                    "admin", "2026-01-01T00:00:01.000Z", &err), 0);
    //  rows this build does not know, or values that do not validate, are
    //  ignored in favour of the default
    assert_int_equal (sqlite3_exec (db, "INSERT INTO settings VALUES"
                                    " ('future_setting', 'x', 't', 'a'),"
                                    " ('mcp_rate_limit_rpm', '5', 't', 'a'),"
                                    " ('remote_tool_editing', 'maybe', 't', 'a')",
                                    NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal (policy_load (db, &policy, &err), 0);
    assert_true (policy_is (&policy, POLICY_TOOL_APPROVAL_MODE, "auto_approve"));
    assert_int_equal (policy_int (&policy, POLICY_LOG_RETENTION_DAYS), 14);
    assert_int_equal (policy_int (&policy, POLICY_MCP_RATE_LIMIT_RPM), 300);
    assert_true (policy_is (&policy, POLICY_REMOTE_TOOL_EDITING, "disabled"));
    assert_string_equal (policy_profile_of (&policy), "custom");

    //  the encoding: seven keys, numbers as integers
    msgw_t *w = msgw_new ();
    msgw_map (w, 1);
    msgw_str (w, "settings");
    policy_encode (&policy, w);
    const char *why = NULL;
    msg_t *msg = msg_decode (msgw_data (w), msgw_size (w), NULL, &why);
    assert_non_null (msg);
    const msgpack_object *settings = NULL;
    assert_int_equal (msg_get_map (msg_root (msg), "settings", &settings), MSG_FIELD_OK);
    assert_int_equal (settings->via.map.size, POLICY_COUNT);
    int64_t days = 0;
    assert_int_equal (msg_get_int (settings, "log_retention_days", &days), MSG_FIELD_OK);
    assert_int_equal (days, 14);
    char mode [32];
    assert_int_equal (msg_get_cstr (settings, "tool_approval_mode", mode, sizeof mode),
                      MSG_FIELD_OK);
    assert_string_equal (mode, "auto_approve");
    msg_destroy (&msg);
    msgw_destroy (&w);
    sqlite3_close (db);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_defaults),
        cmocka_unit_test (test_keys),
        cmocka_unit_test (test_values),
        cmocka_unit_test (test_profiles),
        cmocka_unit_test (test_table_round_trip),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
