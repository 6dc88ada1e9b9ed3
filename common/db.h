/*  db.h — open the one SQLite database the way every actor must:
    WAL journal, foreign keys on, busy timeout 5 s, file mode 0600.
    Each actor opens its own connection and writes only its own tables.

    While a statement waits for a lock another process holds (up to the
    busy timeout), the waiting thread calls the busy hook every
    DB_BUSY_STEP_MS if one is set from that thread: service_run sets it to
    keep the actor's bus registration alive, so a locked database makes a
    slow answer (or `database busy`), never a worker the broker declares
    lost after three silent heartbeats.
*/
#ifndef MCPBOX_DB_H
#define MCPBOX_DB_H

#include <stddef.h>
#include <sqlite3.h>
#include "bus_errors.h"

#define DB_BUSY_TIMEOUT_MS 5000
#define DB_BUSY_STEP_MS    10

typedef void (db_busy_hook_fn) (void *arg);
//  The hook runs only on the thread that set it (NULL clears it).
void     db_set_busy_hook (db_busy_hook_fn *fn, void *arg);

//  NULL with a message in err on failure.
sqlite3 *db_open (const char *path, char *err, size_t errlen);

//  A failed statement on db, logged (what, SQLite's message and code) and
//  put in err for the caller's answer: a lock held elsewhere past the busy
//  wait is `unavailable` "database busy: what", a full disk `unavailable`
//  "the disk is full: what (nothing was written…)", anything else
//  `internal` "database error: what". Returns -1.
int      db_fail (sqlite3 *db, bus_err_t *err, const char *what);
void     db_close (sqlite3 **db_p);

#endif
