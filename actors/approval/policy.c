/*  policy.c — the security policy: seven settings, their validation, and
    the profiles that set the posture ones together.

    Settings (default first — the most restrictive value):

        remote_tool_editing       disabled | enabled
        tool_approval_mode        require_approval | auto_approve
        network_access_policy     require_approval | allow_all_public
        module_approval_mode      require_approval | auto_approve
        redact_secrets_in_output  enabled | disabled
        log_retention_days        30        (1-3650)
        mcp_rate_limit_rpm        300       (10-10000)

    Profiles cover the five posture settings; the two numbers are
    operational limits that a profile leaves as they are (so choosing a
    profile never silently shortens log retention) and that `policy.get`
    ignores when it names the matching profile:

        strict      every posture setting at its default: code, modules and
                    hosts are all reviewed, remote editing off, redaction on.
        balanced    strict, except module_approval_mode auto_approve: a
                    module request is granted at once. That is the least
                    risky thing to automate — forbidden modules stay refused
                    whatever the mode, the sandbox still confines the code,
                    and every line of tool code is still reviewed — while
                    network access (data leaving the machine) and code stay
                    with the admin.
        permissive  everything automatic: tool and module approvals,
                    allow_all_public, remote tool editing enabled. Secret
                    redaction stays enabled: it is a safety net, not a
                    workflow step, and no profile turns it off (an admin can,
                    with policy.set).

    Every setting takes effect: the approval modes here (reviews.c,
    requests.c), network_access_policy in the effective view, and the rest
    through the actors that read `effective` / `policy.get`.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "approval.h"
#include "log.h"

typedef struct {
    const char *name;               //  setting key
    const char *values [3];         //  allowed words, default first; NULL: int
    int64_t     min, max;           //  int settings: bounds
    int64_t     fallback;           //  int settings: default
} setting_def_t;

static const setting_def_t s_settings [POLICY_COUNT] = {
    [POLICY_REMOTE_TOOL_EDITING]   = { "remote_tool_editing",
                                       { "disabled", "enabled" }, 0, 0, 0 },
    [POLICY_TOOL_APPROVAL_MODE]    = { "tool_approval_mode",
                                       { "require_approval", "auto_approve" }, 0, 0, 0 },
    [POLICY_NETWORK_ACCESS_POLICY] = { "network_access_policy",
                                       { "require_approval", "allow_all_public" }, 0, 0, 0 },
    [POLICY_MODULE_APPROVAL_MODE]  = { "module_approval_mode",
                                       { "require_approval", "auto_approve" }, 0, 0, 0 },
    [POLICY_REDACT_SECRETS]        = { "redact_secrets_in_output",
                                       { "enabled", "disabled" }, 0, 0, 0 },
    [POLICY_LOG_RETENTION_DAYS]    = { "log_retention_days",
                                       { NULL }, 1, 3650, 30 },
    [POLICY_MCP_RATE_LIMIT_RPM]    = { "mcp_rate_limit_rpm",
                                       { NULL }, 10, 10000, 300 },
};

//  The posture settings a profile sets, and their values per profile.
#define POSTURE_COUNT 5
static const int s_posture [POSTURE_COUNT] = {
    POLICY_REMOTE_TOOL_EDITING, POLICY_TOOL_APPROVAL_MODE,
    POLICY_NETWORK_ACCESS_POLICY, POLICY_MODULE_APPROVAL_MODE,
    POLICY_REDACT_SECRETS,
};

typedef struct {
    const char *name;
    const char *values [POSTURE_COUNT];     //  in s_posture order
} profile_t;

static const profile_t s_profiles [] = {
    { "strict",     { "disabled", "require_approval", "require_approval",
                      "require_approval", "enabled" } },
    { "balanced",   { "disabled", "require_approval", "require_approval",
                      "auto_approve", "enabled" } },
    { "permissive", { "enabled", "auto_approve", "allow_all_public",
                      "auto_approve", "enabled" } },
};
#define PROFILE_COUNT (sizeof s_profiles / sizeof s_profiles [0])

static bool
s_is_int (int key)
{
    return s_settings [key].values [0] == NULL;
}

void
policy_defaults (policy_t *self)
{
    for (int key = 0; key < POLICY_COUNT; key++) {
        if (s_is_int (key))
            snprintf (self->value [key], POLICY_VALUE_MAX, "%lld",
                      (long long) s_settings [key].fallback);
        else
            snprintf (self->value [key], POLICY_VALUE_MAX, "%s",
                      s_settings [key].values [0]);
    }
}

int
policy_key (const char *name)
{
    for (int key = 0; key < POLICY_COUNT; key++)
        if (strcmp (s_settings [key].name, name) == 0)
            return key;
    return -1;
}

const char *
policy_key_name (int key)
{
    return key >= 0 && key < POLICY_COUNT ? s_settings [key].name : "?";
}

//  Validate a value given as text (from the table); 0 or -1.
static int
s_check_text (int key, const char *text, size_t len)
{
    const setting_def_t *def = &s_settings [key];
    if (s_is_int (key)) {
        if (len == 0 || len > 6)
            return -1;
        int64_t n = 0;
        for (size_t i = 0; i < len; i++) {
            if (text [i] < '0' || text [i] > '9')
                return -1;
            n = n * 10 + (text [i] - '0');
        }
        return n >= def->min && n <= def->max ? 0 : -1;
    }
    for (int i = 0; i < 3 && def->values [i]; i++)
        if (strlen (def->values [i]) == len && memcmp (def->values [i], text, len) == 0)
            return 0;
    return -1;
}

int
policy_parse_value (int key, const msgpack_object *value, char *out,
                    bus_err_t *err)
{
    const setting_def_t *def = &s_settings [key];
    if (s_is_int (key)) {
        int64_t n;
        if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 <= INT64_MAX)
            n = (int64_t) value->via.u64;
        else
        if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            n = value->via.i64;
        else
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "value: %s takes an integer "
                              "from %lld to %lld", def->name, (long long) def->min,
                              (long long) def->max);
        if (n < def->min || n > def->max)
            return bus_err_set (err, BUS_ERR_BAD_REQUEST, "value: %s must be from "
                              "%lld to %lld", def->name, (long long) def->min,
                              (long long) def->max);
        snprintf (out, POLICY_VALUE_MAX, "%lld", (long long) n);
        return 0;
    }
    if (value->type != MSGPACK_OBJECT_STR
    ||  s_check_text (key, value->via.str.ptr, value->via.str.size))
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "value: %s must be \"%s\" or \"%s\"",
                          def->name, def->values [0], def->values [1]);
    memcpy (out, value->via.str.ptr, value->via.str.size);
    out [value->via.str.size] = 0;
    return 0;
}

bool
policy_is (const policy_t *self, int key, const char *value)
{
    return strcmp (self->value [key], value) == 0;
}

int64_t
policy_int (const policy_t *self, int key)
{
    return strtoll (self->value [key], NULL, 10);
}

const char *
policy_profile_of (const policy_t *self)
{
    for (size_t p = 0; p < PROFILE_COUNT; p++) {
        bool match = true;
        for (int i = 0; i < POSTURE_COUNT && match; i++)
            match = policy_is (self, s_posture [i], s_profiles [p].values [i]);
        if (match)
            return s_profiles [p].name;
    }
    return "custom";
}

int
policy_profile_apply (const char *name, policy_t *self, bus_err_t *err)
{
    for (size_t p = 0; p < PROFILE_COUNT; p++)
        if (strcmp (s_profiles [p].name, name) == 0) {
            for (int i = 0; i < POSTURE_COUNT; i++)
                snprintf (self->value [s_posture [i]], POLICY_VALUE_MAX, "%s",
                          s_profiles [p].values [i]);
            return 0;
        }
    return bus_err_set (err, BUS_ERR_BAD_REQUEST,
                      "name: must be strict, balanced or permissive");
}

void
policy_encode (const policy_t *self, msgw_t *w)
{
    msgw_map (w, POLICY_COUNT);
    for (int key = 0; key < POLICY_COUNT; key++) {
        msgw_str (w, s_settings [key].name);
        if (s_is_int (key))
            msgw_int (w, policy_int (self, key));
        else
            msgw_str (w, self->value [key]);
    }
}

int
policy_load (sqlite3 *db, policy_t *self, bus_err_t *err)
{
    policy_defaults (self);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, "SELECT key, value FROM settings", -1, &stmt,
                            NULL) != SQLITE_OK) {
        sqlite3_finalize (stmt);
        return bus_err_set (err, BUS_ERR_INTERNAL, "settings: %s", sqlite3_errmsg (db));
    }
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text (stmt, 0);
        const char *text = (const char *) sqlite3_column_text (stmt, 1);
        size_t len = (size_t) sqlite3_column_bytes (stmt, 1);
        int key = name ? policy_key (name) : -1;
        if (key < 0)
            continue;               //  not ours to interpret
        if (!text || len >= POLICY_VALUE_MAX || s_check_text (key, text, len)) {
            log_warn ("settings: stored %s is not valid; using the default",
                      s_settings [key].name);
            continue;
        }
        memcpy (self->value [key], text, len + 1);
    }
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE)
        return bus_err_set (err, BUS_ERR_INTERNAL, "settings: %s", sqlite3_errmsg (db));
    return 0;
}

int
policy_store (sqlite3 *db, int key, const char *value, const char *changed_by,
              const char *now, bus_err_t *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db,
        "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text (stmt, 1, s_settings [key].name, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text (stmt, 3, now, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text (stmt, 4, changed_by, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step (stmt);
    }
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE)
        return db_fail (db, err, "storing a setting");
    return 0;
}
