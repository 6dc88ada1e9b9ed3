/*  login_limits.c — failed-login counting in the database (login_limits.h).
*/
#include <ctype.h>
#include <string.h>
#include "login_limits.h"

//  Lower-cased username: "Admin" and "admin" share one count.
static void
s_lower (const char *in, char out [CREDS_CLIENT_MAX + 1])
{
    size_t i = 0;
    for (; in [i] && i < CREDS_CLIENT_MAX; i++)
        out [i] = (char) tolower ((unsigned char) in [i]);
    out [i] = 0;
}

//  Seconds until subject's failures drop below the limit; 0 when under it.
static int64_t
s_wait (creds_t *self, const char *kind, const char *subject, int64_t now)
{
    sqlite3_stmt *stmt = NULL;
    //  the Nth-newest failure in the window decides when one slot frees
    sqlite3_prepare_v2 (self->db, "SELECT at FROM login_failures WHERE kind = ?1 AND "
                        "subject = ?2 AND at > ?3 ORDER BY at DESC LIMIT 1 OFFSET ?4",
                        -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, now - self->limits.login_window_s);
    sqlite3_bind_int64 (stmt, 4, self->limits.login_max_failures - 1);
    int step = sqlite3_step (stmt);
    int64_t wait = 0;
    if (step == SQLITE_ROW) {
        wait = sqlite3_column_int64 (stmt, 0) + self->limits.login_window_s - now;
        if (wait < 1)
            wait = 1;
    }
    else
    if (step != SQLITE_DONE)
        wait = -1;
    sqlite3_finalize (stmt);
    return wait;
}

int64_t
login_limits_check (creds_t *self, const char *client, const char *username)
{
    char user [CREDS_CLIENT_MAX + 1];
    s_lower (username, user);
    int64_t now = creds_now ();
    int64_t by_addr = s_wait (self, "addr", client, now);
    int64_t by_user = s_wait (self, "user", user, now);
    if (by_addr < 0 || by_user < 0)
        return -1;
    return by_addr > by_user ? by_addr : by_user;
}

int
login_limits_fail (creds_t *self, const char *client, const char *username)
{
    char user [CREDS_CLIENT_MAX + 1];
    s_lower (username, user);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "INSERT INTO login_failures (kind, subject, at) "
                        "VALUES ('addr', ?1, ?3), ('user', ?2, ?3)", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, client, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, user, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, creds_now ());
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

void
login_limits_clear_user (creds_t *self, const char *username)
{
    char user [CREDS_CLIENT_MAX + 1];
    s_lower (username, user);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "DELETE FROM login_failures WHERE kind = 'user' "
                        "AND subject = ?1", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, user, -1, SQLITE_STATIC);
    sqlite3_step (stmt);
    sqlite3_finalize (stmt);
}

void
login_limits_prune (creds_t *self)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "DELETE FROM login_failures WHERE at <= ?1", -1, &stmt, NULL);
    sqlite3_bind_int64 (stmt, 1, creds_now () - self->limits.login_window_s);
    sqlite3_step (stmt);
    sqlite3_finalize (stmt);
}
