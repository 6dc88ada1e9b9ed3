/*  mcpbox-logkeeper — execution logs and the activity log: ingest from
    every process's log spool, queries, retention pruning.

    Wires the process: configure (common/startup.c, plus the retention
    timings below), then serve: the database (opened by the open hook,
    which also applies missing migrations), a subscription to
    approval.changed, the bus worker for service "logs", and the request
    loop with a 100 ms tick that follows the policy and prunes one batch
    at a time. The op table in ops.c is the actor's whole interface;
    logkeeper.h maps the rest of this folder.
*/
#include <string.h>
#include "logkeeper.h"
#include "startup.h"

static const char *s_owns [] = { "execution_logs", "activity_log", NULL };

static const config_option_t s_options [] = {
    { .key = "log_prune_first_s", .type = CONFIG_INT, .default_value = "60", .max = 86400,
      .help = "seconds after start before the first retention prune" },
    { .key = "log_prune_every_s", .type = CONFIG_INT, .default_value = "3600", .min = 1, .max = 604800,
      .help = "seconds between retention prunes" },
    { .key = "log_prune_batch", .type = CONFIG_INT, .default_value = "1000", .min = 1, .max = 1000,
      .help = "rows deleted per transaction while pruning" },
    { .key = "log_policy_refresh_s", .type = CONFIG_INT, .default_value = "300", .min = 1, .max = 86400,
      .help = "ask approval for log_retention_days at least this often" },
    { .key = NULL }
};

static lk_config_t s_config;        //  read by configure, used by open
static const char *s_events;        //  event output, NULL when remote

static int
s_open (const paths_t *paths, void **state_p, char *err, size_t errlen)
{
    logkeeper_t *self = logkeeper_new (paths->db_path, &s_config, s_events, err, errlen);
    if (!self)
        return -1;
    *state_p = self;
    return 0;
}

static void
s_close (void *state)
{
    logkeeper_t *self = state;
    logkeeper_destroy (&self);
}

static void
s_tick (service_t *service, void *state)
{
    retention_tick (state, service);
}

int
main (int argc, char **argv)
{
    const startup_def_t startup_def = {
        .process = "mcpbox-logkeeper",
        .options = s_options,
        .bus     = STARTUP_BUS_CURVE,
    };
    startup_t startup;
    int status = startup_configure (&startup, &startup_def, argc, argv);
    if (status != STARTUP_GO)
        return status == STARTUP_EXIT_OK ? 0 : 2;
    s_config = (lk_config_t) {
        .first_prune_s    = (int) config_int (startup.config, "log_prune_first_s"),
        .prune_every_s    = (int) config_int (startup.config, "log_prune_every_s"),
        .prune_batch      = (int) config_int (startup.config, "log_prune_batch"),
        .policy_refresh_s = (int) config_int (startup.config, "log_policy_refresh_s"),
    };
    //  events only on this machine, as for publishing (startup_serve)
    if (strncmp (startup.endpoint, "ipc://", 6) == 0)
        s_events = startup.paths.events_out;
    const service_def_t def = {
        .service = "logs",
        .process = "mcpbox-logkeeper",
        .owns    = s_owns,
        .ops     = logkeeper_ops,
        .open    = s_open,
        .close   = s_close,
        .tick    = s_tick,
        .tick_ms = 100,
    };
    status = startup_serve (&startup, &def);
    startup_release (&startup);
    return status;
}
