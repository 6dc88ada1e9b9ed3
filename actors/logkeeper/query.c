/*  query.c — reading the logs: filtered pages with a cursor and a count,
    and per-tool statistics over a window.

    Pages: rows newest first (order "desc", the default) or oldest first
    ("asc", for following a log as it grows). The cursor is a row id: a
    page holds rows with id below it (desc) or above it (asc), and
    next_cursor is the last row's id when there may be more, else nil.
    `total` counts every row matching the filters, whatever the cursor.

    Every filter value is bound as a parameter; only fixed clauses are
    joined into the SQL text.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "logkeeper.h"

#define CLAUSES_MAX 12

typedef struct {
    char        sql [1024];         //  " WHERE ..." built from fixed clauses
    int         count;
    struct {
        bool        is_text;
        const char *text;           //  borrowed from the request or `times`
        size_t      len;
        int64_t     number;
    } binds [CLAUSES_MAX];
    char        times [2][LK_TIME_LEN + 1];
    char        prefix [LK_TYPE_MAX + 2];   //  "server.*" for type_prefix
} filter_t;

static void
s_clause (filter_t *f, const char *clause)
{
    strncat (f->sql, f->count ? " AND " : " WHERE ", sizeof f->sql - strlen (f->sql) - 1);
    strncat (f->sql, clause, sizeof f->sql - strlen (f->sql) - 1);
}

static void
s_bind_text (filter_t *f, const char *clause, const char *text, size_t len)
{
    s_clause (f, clause);
    f->binds [f->count].is_text = true;
    f->binds [f->count].text = text;
    f->binds [f->count].len = len;
    f->count++;
}

static void
s_bind_int (filter_t *f, const char *clause, int64_t number)
{
    s_clause (f, clause);
    f->binds [f->count].is_text = false;
    f->binds [f->count].number = number;
    f->count++;
}

static void
s_apply (const filter_t *f, sqlite3_stmt *stmt)
{
    for (int i = 0; i < f->count; i++)
        if (f->binds [i].is_text)
            sqlite3_bind_text (stmt, i + 1, f->binds [i].text, (int) f->binds [i].len,
                               SQLITE_STATIC);
        else
            sqlite3_bind_int64 (stmt, i + 1, f->binds [i].number);
}

static msgw_t *
s_bad (const char *fmt, const char *field)
{
    char message [160];
    snprintf (message, sizeof message, fmt, field);
    return msgw_error_new (BUS_ERR_BAD_REQUEST, message);
}

//  An optional string filter of 1..max bytes. 1 absent, 0 added, -1 bad.
static int
s_text_filter (filter_t *f, const msgpack_object *root, const char *key,
               const char *clause, size_t max)
{
    const char *text;
    size_t len;
    msg_field_t got = msg_get_str (root, key, &text, &len);
    if (got == MSG_FIELD_MISSING)
        return 1;
    if (got != MSG_FIELD_OK || len < 1 || len > max || memchr (text, 0, len))
        return -1;
    s_bind_text (f, clause, text, len);
    return 0;
}

static int
s_bool_filter (filter_t *f, const msgpack_object *root, const char *key, const char *clause)
{
    bool value;
    msg_field_t got = msg_get_bool (root, key, &value);
    if (got == MSG_FIELD_MISSING)
        return 1;
    if (got != MSG_FIELD_OK)
        return -1;
    s_bind_int (f, clause, value ? 1 : 0);
    return 0;
}

static int
s_time_filters (filter_t *f, const msgpack_object *root)
{
    int rc = lk_time_field (root, "since", f->times [0]);
    if (rc < 0)
        return -1;
    if (rc == 0)
        s_bind_text (f, "created_at >= ?", f->times [0], strlen (f->times [0]));
    rc = lk_time_field (root, "until", f->times [1]);
    if (rc < 0)
        return -1;
    if (rc == 0)
        s_bind_text (f, "created_at < ?", f->times [1], strlen (f->times [1]));
    return 0;
}

typedef struct {
    int64_t limit;
    int64_t cursor;                 //  0: from the start
    bool    ascending;
} page_t;

static msgw_t *
s_page_fields (const msgpack_object *root, page_t *page)
{
    page->limit = LK_QUERY_LIMIT_DEF;
    page->cursor = 0;
    page->ascending = false;
    msg_field_t got = msg_get_int (root, "limit", &page->limit);
    if (got == MSG_FIELD_MISSING)
        page->limit = LK_QUERY_LIMIT_DEF;
    else
    if (got != MSG_FIELD_OK || page->limit < 1 || page->limit > LK_QUERY_LIMIT_MAX)
        return s_bad ("'%s' must be an integer 1..200", "limit");
    got = msg_get_int (root, "cursor", &page->cursor);
    if (got == MSG_FIELD_WRONG_TYPE || page->cursor < 0)
        return s_bad ("'%s' must be a row id (a non-negative integer)", "cursor");
    char order [8];
    got = msg_get_cstr (root, "order", order, sizeof order);
    if (got == MSG_FIELD_OK && strcmp (order, "asc") == 0)
        page->ascending = true;
    else
    if (got != MSG_FIELD_MISSING && !(got == MSG_FIELD_OK && strcmp (order, "desc") == 0))
        return s_bad ("'%s' must be \"asc\" or \"desc\"", "order");
    return NULL;
}

//  Run the page and the count; build {"ok", key: [...], "total", "next_cursor"}.
static msgw_t *
s_run_page (logkeeper_t *self, const char *columns, const char *table, filter_t *f,
            const page_t *page, const char *key)
{
    char count_sql [1400], page_sql [1800];
    snprintf (count_sql, sizeof count_sql, "SELECT COUNT(*) FROM %s%s", table, f->sql);
    const char *cursor = "";
    if (page->cursor > 0)
        cursor = f->count ? (page->ascending ? " AND id > ?" : " AND id < ?")
                          : (page->ascending ? " WHERE id > ?" : " WHERE id < ?");
    snprintf (page_sql, sizeof page_sql, "SELECT %s FROM %s%s%s ORDER BY id %s LIMIT %d",
              columns, table, f->sql, cursor, page->ascending ? "ASC" : "DESC",
              (int) page->limit + 1);

    sqlite3_stmt *count = NULL, *rows = NULL;
    if (sqlite3_prepare_v2 (self->db, count_sql, -1, &count, NULL) != SQLITE_OK
    ||  sqlite3_prepare_v2 (self->db, page_sql, -1, &rows, NULL) != SQLITE_OK) {
        log_error ("database: query: %s", sqlite3_errmsg (self->db));
        sqlite3_finalize (count);
        sqlite3_finalize (rows);
        return msgw_error_new (BUS_ERR_INTERNAL, "database error");
    }
    s_apply (f, count);
    s_apply (f, rows);
    if (page->cursor > 0)
        sqlite3_bind_int64 (rows, f->count + 1, page->cursor);
    int64_t total = sqlite3_step (count) == SQLITE_ROW ? sqlite3_column_int64 (count, 0) : 0;
    msgw_t *items = msgw_new ();
    int64_t n = 0, last_id = 0;
    bool more = false;
    int rc;
    while ((rc = sqlite3_step (rows)) == SQLITE_ROW) {
        if (n == page->limit) {
            more = true;
            break;
        }
        store_row_map (rows, items);
        last_id = sqlite3_column_int64 (rows, 0);
        n++;
    }
    bool failed = rc != SQLITE_ROW && rc != SQLITE_DONE;
    if (failed)
        log_error ("database: query: %s", sqlite3_errmsg (self->db));
    sqlite3_finalize (count);
    sqlite3_finalize (rows);
    if (failed) {
        msgw_destroy (&items);
        return msgw_error_new (BUS_ERR_INTERNAL, "database error");
    }
    msgw_t *reply = msgw_new ();
    msgw_map (reply, 4);
    msgw_kv_bool (reply, "ok", true);
    msgw_str (reply, key);
    msgw_array (reply, (size_t) n);
    msgw_raw (reply, msgw_data (items), msgw_size (items));
    msgw_kv_int (reply, "total", total);
    msgw_str (reply, "next_cursor");
    if (more)
        msgw_int (reply, last_id);
    else
        msgw_nil (reply);
    msgw_destroy (&items);
    return reply;
}

static const char *s_exec_columns =
    "id, tool_id, tool_name, server_id, server_name, request_id, client_name,"
    " session_id, input_args, result, stdout, error, duration_ms, success, is_test,"
    " executed_by, source, created_at";

msgw_t *
query_exec (logkeeper_t *self, const msgpack_object *root)
{
    filter_t f = { .sql = "" };
    page_t page;
    msgw_t *bad = s_page_fields (root, &page);
    if (bad)
        return bad;
    if (s_text_filter (&f, root, "tool_id", "tool_id = ?", LK_ID_MAX) < 0)
        return s_bad ("'%s' must be a string of 1..64 bytes", "tool_id");
    if (s_text_filter (&f, root, "server_id", "server_id = ?", LK_ID_MAX) < 0)
        return s_bad ("'%s' must be a string of 1..64 bytes", "server_id");
    if (s_text_filter (&f, root, "tool_name", "tool_name = ?", LK_NAME_MAX) < 0)
        return s_bad ("'%s' must be a string of 1..255 bytes", "tool_name");
    if (s_bool_filter (&f, root, "success", "success = ?") < 0)
        return s_bad ("'%s' must be a boolean", "success");
    if (s_bool_filter (&f, root, "is_test", "is_test = ?") < 0)
        return s_bad ("'%s' must be a boolean", "is_test");
    if (s_time_filters (&f, root))
        return s_bad ("'%s' must be unix ms or an ISO-8601 UTC time", "since/until");
    return s_run_page (self, s_exec_columns, "execution_logs", &f, &page, "logs");
}

static const char *s_activity_columns =
    "id, type, level, server_id, message, details, source, created_at";

msgw_t *
query_activity (logkeeper_t *self, const msgpack_object *root)
{
    filter_t f = { .sql = "" };
    page_t page;
    msgw_t *bad = s_page_fields (root, &page);
    if (bad)
        return bad;
    if (s_text_filter (&f, root, "type", "type = ?", LK_TYPE_MAX) < 0)
        return s_bad ("'%s' must be a string of 1..64 bytes", "type");
    //  a prefix: "server." matches server.created, server.started, ...
    const char *prefix;
    size_t prefix_len;
    msg_field_t got = msg_get_str (root, "type_prefix", &prefix, &prefix_len);
    if (got != MSG_FIELD_MISSING) {
        bool ok = got == MSG_FIELD_OK && prefix_len >= 1 && prefix_len <= LK_TYPE_MAX;
        for (size_t i = 0; ok && i < prefix_len; i++) {
            char c = prefix [i];
            ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        }
        if (!ok)
            return s_bad ("'%s' must be 1..64 of [a-z0-9_.]", "type_prefix");
        //  no GLOB metacharacter can be in it: the characters are checked
        snprintf (f.prefix, sizeof f.prefix, "%.*s*", (int) prefix_len, prefix);
        s_bind_text (&f, "type GLOB ?", f.prefix, strlen (f.prefix));
    }
    if (s_text_filter (&f, root, "level", "level = ?", 16) < 0)
        return s_bad ("'%s' must be a string of 1..16 bytes", "level");
    if (s_text_filter (&f, root, "server_id", "server_id = ?", LK_ID_MAX) < 0)
        return s_bad ("'%s' must be a string of 1..64 bytes", "server_id");
    if (s_text_filter (&f, root, "source", "source = ?", 64) < 0)
        return s_bad ("'%s' must be a string of 1..64 bytes", "source");
    if (s_time_filters (&f, root))
        return s_bad ("'%s' must be unix ms or an ISO-8601 UTC time", "since/until");
    return s_run_page (self, s_activity_columns, "activity_log", &f, &page, "activity");
}

//  --- statistics ---------------------------------------------------------------------

typedef struct {
    char    *tool_id, *tool_name, *server_id, *server_name;
    int64_t *durations;
    size_t   calls, cap;
    int64_t  errors;
    int64_t  total_ms;
} group_t;

static int64_t
s_rank (const int64_t *sorted, size_t n, int percent)
{
    if (!n)
        return 0;
    size_t rank = (n * (size_t) percent + 99) / 100;      //  nearest rank, 1-based
    if (rank < 1)
        rank = 1;
    return sorted [rank - 1];
}

static char *
s_dup_column (sqlite3_stmt *stmt, int i)
{
    const char *text = (const char *) sqlite3_column_text (stmt, i);
    return text ? strdup (text) : NULL;
}

static void
s_group_emit (msgw_t *w, group_t *g)
{
    msgw_map (w, 9);
    msgw_kv_str (w, "tool_id", g->tool_id);
    msgw_kv_str (w, "tool_name", g->tool_name);
    msgw_kv_str (w, "server_id", g->server_id);
    msgw_kv_str (w, "server_name", g->server_name);
    msgw_kv_int (w, "calls", (int64_t) g->calls);
    msgw_kv_int (w, "errors", g->errors);
    msgw_kv_int (w, "p50_ms", s_rank (g->durations, g->calls, 50));
    msgw_kv_int (w, "p95_ms", s_rank (g->durations, g->calls, 95));
    msgw_kv_int (w, "avg_ms", g->calls ? g->total_ms / (int64_t) g->calls : 0);
}

static void
s_group_clear (group_t *g)
{
    free (g->tool_id);
    free (g->tool_name);
    free (g->server_id);
    free (g->server_name);
    free (g->durations);
    memset (g, 0, sizeof *g);
}

msgw_t *
query_stats (logkeeper_t *self, const msgpack_object *root)
{
    int64_t window_s = 86400;
    msg_field_t got = msg_get_int (root, "window_s", &window_s);
    if (got == MSG_FIELD_MISSING)
        window_s = 86400;
    else
    if (got != MSG_FIELD_OK || window_s < 1 || window_s > 3650LL * 86400)
        return s_bad ("'%s' must be an integer 1..315360000", "window_s");
    filter_t f = { .sql = "" };
    ids_time_iso (ids_now_ms () - window_s * 1000, f.times [0]);
    s_bind_text (&f, "created_at >= ?", f.times [0], strlen (f.times [0]));
    if (s_text_filter (&f, root, "tool_id", "tool_id = ?", LK_ID_MAX) < 0)
        return s_bad ("'%s' must be a string of 1..64 bytes", "tool_id");
    if (s_text_filter (&f, root, "server_id", "server_id = ?", LK_ID_MAX) < 0)
        return s_bad ("'%s' must be a string of 1..64 bytes", "server_id");
    bool tests = false;
    if (msg_get_bool (root, "include_tests", &tests) == MSG_FIELD_WRONG_TYPE)
        return s_bad ("'%s' must be a boolean", "include_tests");
    if (!tests)
        s_clause (&f, "is_test = 0");

    char sql [1600];
    snprintf (sql, sizeof sql,
              "SELECT tool_id, tool_name, server_id, server_name, duration_ms, success"
              " FROM execution_logs%s ORDER BY tool_id, duration_ms LIMIT %d",
              f.sql, LK_STATS_ROWS_MAX + 1);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        log_error ("database: stats: %s", sqlite3_errmsg (self->db));
        return msgw_error_new (BUS_ERR_INTERNAL, "database error");
    }
    s_apply (&f, stmt);
    msgw_t *items = msgw_new ();
    size_t groups = 0, rows = 0;
    bool truncated = false;
    group_t g = { 0 };
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        if (++rows > LK_STATS_ROWS_MAX) {
            truncated = true;
            break;
        }
        const char *tool_id = (const char *) sqlite3_column_text (stmt, 0);
        bool same = g.calls && ((tool_id && g.tool_id && strcmp (tool_id, g.tool_id) == 0)
                                || (!tool_id && !g.tool_id));
        if (!same && g.calls) {
            s_group_emit (items, &g);
            groups++;
            s_group_clear (&g);
        }
        if (!g.calls) {
            g.tool_id = s_dup_column (stmt, 0);
            g.server_id = s_dup_column (stmt, 2);
        }
        //  the newest names win (rows of one tool come in duration order,
        //  so keep the first non-empty ones)
        if (!g.tool_name)
            g.tool_name = s_dup_column (stmt, 1);
        if (!g.server_name)
            g.server_name = s_dup_column (stmt, 3);
        if (g.calls == g.cap) {
            size_t cap = g.cap ? g.cap * 2 : 64;
            int64_t *grown = realloc (g.durations, cap * sizeof *grown);
            if (!grown)
                break;
            g.durations = grown;
            g.cap = cap;
        }
        int64_t duration = sqlite3_column_int64 (stmt, 4);
        g.durations [g.calls++] = duration;
        g.total_ms += duration;
        if (!sqlite3_column_int (stmt, 5))
            g.errors++;
    }
    if (g.calls) {
        s_group_emit (items, &g);
        groups++;
    }
    s_group_clear (&g);
    bool failed = rc != SQLITE_ROW && rc != SQLITE_DONE;
    if (failed)
        log_error ("database: stats: %s", sqlite3_errmsg (self->db));
    sqlite3_finalize (stmt);
    if (failed) {
        msgw_destroy (&items);
        return msgw_error_new (BUS_ERR_INTERNAL, "database error");
    }
    msgw_t *reply = msgw_new ();
    msgw_map (reply, 5);
    msgw_kv_bool (reply, "ok", true);
    msgw_kv_str (reply, "since", f.times [0]);
    msgw_kv_int (reply, "window_s", window_s);
    msgw_kv_bool (reply, "truncated", truncated);
    msgw_str (reply, "tools");
    msgw_array (reply, groups);
    msgw_raw (reply, msgw_data (items), msgw_size (items));
    msgw_destroy (&items);
    return reply;
}
