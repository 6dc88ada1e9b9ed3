/*  store.c — the tunnel_config row (sql/0006_tunnel.sql): read at open,
    written by configure/start/stop. The row always exists (the migration
    inserts it).
*/
#include <stdio.h>
#include <string.h>
#include "tunnel.h"

static void
s_text (sqlite3_stmt *stmt, int col, char *buf, size_t size)
{
    const unsigned char *text = sqlite3_column_text (stmt, col);
    snprintf (buf, size, "%s", text ? (const char *) text : "");
}

int
tunnel_store_load (sqlite3 *db, tunnel_conf_t *conf, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db,
        "SELECT provider, enabled, has_token, ssh_host, ssh_port, ssh_user, ssh_host_key, "
        "ssh_remote_host, ssh_remote_port, updated_at FROM tunnel_config WHERE id = 1",
        -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
    if (rc != SQLITE_ROW) {
        snprintf (err, errlen, "cannot read tunnel_config: %s", sqlite3_errmsg (db));
        sqlite3_finalize (stmt);
        return -1;
    }
    memset (conf, 0, sizeof *conf);
    s_text (stmt, 0, conf->provider, sizeof conf->provider);
    conf->enabled = sqlite3_column_int (stmt, 1) != 0;
    conf->has_token = sqlite3_column_int (stmt, 2) != 0;
    s_text (stmt, 3, conf->ssh_host, sizeof conf->ssh_host);
    conf->ssh_port = sqlite3_column_int (stmt, 4);
    s_text (stmt, 5, conf->ssh_user, sizeof conf->ssh_user);
    s_text (stmt, 6, conf->ssh_host_key, sizeof conf->ssh_host_key);
    s_text (stmt, 7, conf->ssh_remote_host, sizeof conf->ssh_remote_host);
    conf->ssh_remote_port = sqlite3_column_int (stmt, 8);
    conf->updated_at = sqlite3_column_int64 (stmt, 9);
    sqlite3_finalize (stmt);
    return 0;
}

int
tunnel_store_save (sqlite3 *db, const tunnel_conf_t *conf, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db,
        "UPDATE tunnel_config SET provider = ?1, enabled = ?2, has_token = ?3, "
        "ssh_host = ?4, ssh_port = ?5, ssh_user = ?6, ssh_host_key = ?7, "
        "ssh_remote_host = ?8, ssh_remote_port = ?9, updated_at = ?10 WHERE id = 1",
        -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text (stmt, 1, conf->provider, -1, SQLITE_STATIC);
        sqlite3_bind_int (stmt, 2, conf->enabled);
        sqlite3_bind_int (stmt, 3, conf->has_token);
        sqlite3_bind_text (stmt, 4, conf->ssh_host, -1, SQLITE_STATIC);
        sqlite3_bind_int (stmt, 5, conf->ssh_port);
        sqlite3_bind_text (stmt, 6, conf->ssh_user, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 7, conf->ssh_host_key, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 8, conf->ssh_remote_host, -1, SQLITE_STATIC);
        sqlite3_bind_int (stmt, 9, conf->ssh_remote_port);
        sqlite3_bind_int64 (stmt, 10, conf->updated_at);
        rc = sqlite3_step (stmt);
    }
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE || sqlite3_changes (db) != 1) {
        snprintf (err, errlen, "cannot write tunnel_config: %s", sqlite3_errmsg (db));
        return -1;
    }
    return 0;
}
