/*  store.c — alert_hooks (sql/0010_alerts.sql): the webhooks the admin set.

    A URL is checked with libcurl's own parser (the one that will send to
    it): http or https, a host, no user or password, no fragment, no
    control or non-ASCII byte. Loopback and private addresses are allowed:
    the admin sets these URLs, a chat relay on the LAN is normal, and no
    tool, LLM or remote caller can reach these ops.
*/
#include <curl/curl.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include "db.h"
#include "alerts.h"
#include "log.h"

int
store_url_check (const char *url, size_t len, bus_err_t *err)
{
    if (len < 8 || len > ALERT_URL_MAX)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "url: 8 to %d bytes", ALERT_URL_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) url [i] <= 0x20 || (unsigned char) url [i] >= 0x7f)
            return bus_err_set (err, BUS_ERR_BAD_REQUEST,
                                "url: printable ASCII only, no spaces");
    if (strncmp (url, "http://", 7) != 0 && strncmp (url, "https://", 8) != 0)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "url: http:// or https:// only");
    const char *authority = strstr (url, "://") + 3;
    if (*authority == '/' || *authority == '?' || *authority == 0)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "url: not a URL with a host");
    CURLU *parsed = curl_url ();
    if (!parsed)
        return bus_err_set (err, BUS_ERR_INTERNAL, "out of memory");
    int rc = 0;
    char *host = NULL, *user = NULL, *password = NULL, *fragment = NULL;
    if (curl_url_set (parsed, CURLUPART_URL, url, 0) != CURLUE_OK
    ||  curl_url_get (parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host)
        rc = bus_err_set (err, BUS_ERR_BAD_REQUEST, "url: not a URL with a host");
    else
    if (curl_url_get (parsed, CURLUPART_USER, &user, 0) == CURLUE_OK
    ||  curl_url_get (parsed, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK)
        rc = bus_err_set (err, BUS_ERR_BAD_REQUEST, "url: no user or password in the URL");
    else
    if (curl_url_get (parsed, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_OK)
        rc = bus_err_set (err, BUS_ERR_BAD_REQUEST, "url: no fragment");
    curl_free (host);
    curl_free (user);
    curl_free (password);
    curl_free (fragment);
    curl_url_cleanup (parsed);
    return rc;
}

void
store_url_display (const char *url, char *out, size_t size)
{
    const char *rest = strstr (url, "://");
    rest = rest ? rest + 3 : url;
    size_t authority = strcspn (rest, "/?");
    size_t prefix = (size_t) (rest - url) + authority;
    const char *path = url + prefix;
    size_t shown = strnlen (path, 9);
    bool cut = path [shown] != 0;
    snprintf (out, size, "%.*s%.*s%s", (int) prefix, url, (int) shown, path,
              cut ? "…" : "");
}

static int
s_fail (sqlite3 *db, sqlite3_stmt *stmt, bus_err_t *err)
{
    db_fail (db, err, "alert_hooks");     //  before finalize resets the error
    sqlite3_finalize (stmt);
    return -1;
}

int
store_add (sqlite3 *db, const hook_t *hook, bus_err_t *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, "INSERT INTO alert_hooks (id, url, format, events,"
                            " created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)", -1,
                            &stmt, NULL) != SQLITE_OK)
        return s_fail (db, stmt, err);
    const char *values [] = { hook->id, hook->url, hook->format, hook->events,
                              hook->created_at, hook->created_by };
    for (int i = 0; i < 6; i++)
        sqlite3_bind_text (stmt, i + 1, values [i], -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) != SQLITE_DONE)
        return s_fail (db, stmt, err);
    sqlite3_finalize (stmt);
    return 0;
}

int
store_remove (sqlite3 *db, const char *id, bus_err_t *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, "DELETE FROM alert_hooks WHERE id = ?", -1, &stmt,
                            NULL) != SQLITE_OK)
        return s_fail (db, stmt, err);
    sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) != SQLITE_DONE)
        return s_fail (db, stmt, err);
    sqlite3_finalize (stmt);
    if (sqlite3_changes (db) == 0)
        return bus_err_set (err, BUS_ERR_NOT_FOUND, "no alert hook %s", id);
    return 0;
}

static void
s_copy (char *out, size_t size, sqlite3_stmt *stmt, int column)
{
    const char *text = (const char *) sqlite3_column_text (stmt, column);
    snprintf (out, size, "%s", text ? text : "");
}

int
store_list (sqlite3 *db, hook_t **hooks, size_t *count, bus_err_t *err)
{
    *hooks = NULL;
    *count = 0;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, "SELECT id, url, format, events, created_at, created_by"
                            " FROM alert_hooks ORDER BY created_at, id", -1, &stmt,
                            NULL) != SQLITE_OK)
        return s_fail (db, stmt, err);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            hook_t *grown = realloc (*hooks, cap * sizeof *grown);
            if (!grown) {
                free (*hooks);
                *hooks = NULL;
                *count = 0;
                sqlite3_finalize (stmt);
                return bus_err_set (err, BUS_ERR_INTERNAL, "out of memory");
            }
            *hooks = grown;
        }
        hook_t *hook = &(*hooks) [(*count)++];
        s_copy (hook->id, sizeof hook->id, stmt, 0);
        s_copy (hook->url, sizeof hook->url, stmt, 1);
        s_copy (hook->format, sizeof hook->format, stmt, 2);
        s_copy (hook->events, sizeof hook->events, stmt, 3);
        s_copy (hook->created_at, sizeof hook->created_at, stmt, 4);
        s_copy (hook->created_by, sizeof hook->created_by, stmt, 5);
    }
    if (rc != SQLITE_DONE) {
        free (*hooks);
        *hooks = NULL;
        *count = 0;
        return s_fail (db, stmt, err);
    }
    sqlite3_finalize (stmt);
    return 0;
}
