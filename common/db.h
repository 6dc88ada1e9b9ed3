/*  db.h — open the one SQLite database the way every actor must:
    WAL journal, foreign keys on, busy timeout 5 s, file mode 0600.
    Each actor opens its own connection and writes only its own tables.
*/
#ifndef MCPBOX_DB_H
#define MCPBOX_DB_H

#include <stddef.h>
#include <sqlite3.h>

#define DB_BUSY_TIMEOUT_MS 5000

//  NULL with a message in err on failure.
sqlite3 *db_open (const char *path, char *err, size_t errlen);
void     db_close (sqlite3 **db_p);

#endif
