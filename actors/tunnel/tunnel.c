/*  tunnel.c — open and close the tunnel actor's state (tunnel.h): the
    database (migrations applied, as every actor that may start alone),
    the configuration row, the files' directory. Closing stops a running
    client the hard way (TERM, a short wait, KILL): the actor is exiting.
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "sshkey.h"
#include "tunnel.h"

tunnel_files_t  tunnel_configured_files;
tunnel_timing_t tunnel_configured_timing;

int
tunnel_open (const paths_t *paths, void **state_p, char *err, size_t errlen)
{
    if (sodium_init () < 0) {
        snprintf (err, errlen, "libsodium failed to initialise");
        return -1;
    }
    tunnel_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    self->child.out_fd = -1;
    self->files = tunnel_configured_files;
    self->timing = tunnel_configured_timing;
    snprintf (self->files.dir, sizeof self->files.dir, "%s/tunnel", paths->data_dir);
    snprintf (self->files.key_path, sizeof self->files.key_path, "%s/tunnel/id_ed25519",
              paths->data_dir);
    snprintf (self->files.known_hosts, sizeof self->files.known_hosts,
              "%s/tunnel/known_hosts", paths->data_dir);
    backoff_init (&self->backoff, self->timing.backoff_min_ms, self->timing.backoff_max_ms,
                  self->timing.stable_ms);
    self->db = db_open (paths->db_path, err, errlen);
    int applied = 0;
    if (!self->db
    ||  migrate_apply (self->db, mcpbox_migrations, mcpbox_migrations_count,
                       &applied, err, errlen) != 0
    ||  tunnel_store_load (self->db, &self->conf, err, errlen) != 0
    ||  sshkey_dir_ensure (&self->files, err, errlen) != 0) {
        tunnel_close (self);
        return -1;
    }
    if (applied)
        log_info ("database %s: applied %d migration(s)", paths->db_path, applied);
    log_info ("tunnel provider %s, %s, target %s", self->conf.provider,
              self->conf.enabled ? "enabled" : "not enabled", self->files.target);
    *state_p = self;
    return 0;
}

void
tunnel_close (void *state)
{
    tunnel_t *self = state;
    if (!self)
        return;
    if (self->child.pid) {
        child_signal (&self->child, SIGTERM);
        int status;
        for (int i = 0; i < 50 && !child_reap (&self->child, &status); i++)
            usleep (20 * 1000);
        if (self->child.pid) {
            child_signal (&self->child, SIGKILL);
            for (int i = 0; i < 50 && !child_reap (&self->child, &status); i++)
                usleep (20 * 1000);
        }
    }
    child_close_out (&self->child);
    if (self->redact) {
        sodium_memzero (self->redact, strlen (self->redact));
        sodium_free (self->redact);
    }
    for (size_t i = 0; i < self->waiter_count; i++)
        bus_request_destroy (&self->waiters [i]);
    db_close (&self->db);
    free (self);
}
