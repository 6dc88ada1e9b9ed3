/*  master_key.h — the 32-byte key that seals every server secret.

    Where it comes from, in order:
      1. MCPBOX_ENCRYPTION_KEY (64 hex characters). main() takes it before
         anything else runs: the value is copied into locked memory and
         the environment string is overwritten with zeros and removed, so
         it is not in /proc/PID/environ afterwards nor in any child.
      2. DATA/credentials.key (64 hex characters and a newline, mode 0600).
      3. Neither: a random key is generated and written there atomically
         (temporary file 0600, fsync, rename, fsync of the directory).
    A malformed key (wrong length, not hex, file wider than 0600) is a
    configuration error: the actor refuses to start.

    Rotation (credentials_store.c) stages the new key in
    DATA/credentials.key.next before re-encrypting, and promotes it (rename
    over credentials.key) only after the transaction committed; load()
    finishes or discards a rotation a crash interrupted (see there).
    The key never appears in a log line.
*/
#ifndef MCPBOX_MASTER_KEY_H
#define MCPBOX_MASTER_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "paths.h"
#include "secret_box.h"

typedef struct {
    uint8_t key     [SECRET_KEY_BYTES];
    uint8_t id      [SECRET_KEY_ID_BYTES];
    bool    has_next;                       //  a staged rotation key
    uint8_t next    [SECRET_KEY_BYTES];
    uint8_t next_id [SECRET_KEY_ID_BYTES];
    bool    from_env;                       //  MCPBOX_ENCRYPTION_KEY
    char    path      [PATHS_MAX + 32];     //  DATA/credentials.key
    char    next_path [PATHS_MAX + 48];     //  DATA/credentials.key.next
} master_key_t;

//  Take MCPBOX_ENCRYPTION_KEY out of the environment (wiping it) into
//  locked memory. 0 (*found tells whether it was set), or -1 with a
//  message (malformed; the variable is wiped anyway).
int  master_key_take_env (bool *found, char *err, size_t errlen);

//  The key for this data directory (the environment's if taken, else the
//  file, else a new file). sodium_malloc'd; NULL + err. *config_error is
//  set when the failure is the operator's to fix (exit status 2).
master_key_t *master_key_load (const paths_t *paths, bool *config_error,
                               char *err, size_t errlen);
void          master_key_destroy (master_key_t **self_p);

//  Rotation steps. stage: a new random key written to next_path (atomic)
//  and held in self->next. promote: rename next over the key file and
//  make next the key. discard: remove next_path and forget next.
int  master_key_stage (master_key_t *self, char *err, size_t errlen);
int  master_key_promote (master_key_t *self, char *err, size_t errlen);
void master_key_discard (master_key_t *self);

//  64 lower-case hex characters -> 32 bytes (exact; -1 otherwise).
int  master_key_parse_hex (const char *text, size_t len, uint8_t key [SECRET_KEY_BYTES]);

#endif
