/*  ops_util.h — small helpers the credentials ops share: typed fields,
    database errors, replies that carry secrets.
*/
#ifndef MCPBOX_CREDS_OPS_UTIL_H
#define MCPBOX_CREDS_OPS_UTIL_H

#include <sqlite3.h>
#include "creds.h"
#include "hash_pool.h"
#include "service.h"

//  Copy a string field into buf. 0; -1 when wrong type, too long, has a
//  NUL, is not UTF-8, or is missing while required (absent and optional:
//  buf = ""). A thin adapter over common/fields.h field_text.
int     ops_cstr (const msgpack_object *root, const char *key, char *buf,
                  size_t size, bool required);
//  `internal` naming the op; the sqlite message goes to the log only.
msgw_t *ops_db_error (sqlite3 *db, const char *op);
//  {"ok": false, "error": {...}, "retry_after": s}
msgw_t *ops_rate_limited (int64_t retry_after, const char *message);
//  Wipe a string field of a decoded request in place (a password, a value).
void    ops_wipe_field (msg_t *request, const char *key);


//  --- ops_auth.c: the password check that `login` and the OAuth consent share
//  Read client, username and password from request; refuse (rate_limited)
//  while the login limits hold for the client or the username; else hash-
//  check the password (an unknown user against the dummy hash: same time)
//  and finish in done (token, when given, is copied into job->token). On a
//  refusal *reply is set and nothing is deferred.
void    creds_login_start (service_t *service, creds_t *self, msg_t *request,
                           hash_done_fn *done, const char *token, msgw_t **reply);
//  A failed check: counted against both subjects, logged, an activity event.
void    creds_login_failed (service_t *service, creds_t *self, hash_job_t *job,
                            const char *where);
//  Answer a deferred job's request and destroy the job.
void    creds_job_finish (service_t *service, hash_job_t *job, msgw_t *reply);

#endif
