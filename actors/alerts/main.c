/*  mcpbox-alerts — webhook alerts on a crash loop, the circuit opening,
    the tunnel going down, log loss and retention failures (alerts.h).

    Wires the process: configure (common/startup.c, plus the options
    below), then serve: the database (alert_hooks, alert_outbox, alert_cursor; opened by the open
    hook, which applies missing migrations, then queues the outbox's
    pending deliveries again), the subscription to
    `activity` and `tunnel.status`, the sender's thread, the bus worker
    for service "alerts", and a 100 ms tick that drains the events.
*/
#include <curl/curl.h>
#include <string.h>
#include "alerts.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "startup.h"

static const char *s_owns [] = { "alert_hooks", "alert_outbox", "alert_cursor", NULL };

static const config_option_t s_options [] = {
    { .key = "alerts_queue_max", .type = CONFIG_INT, .default_value = "256", .min = 1,
      .max = 100000, .help = "alert deliveries held at once (beyond: dropped and counted)" },
    { .key = "alerts_attempts", .type = CONFIG_INT, .default_value = "5", .min = 1, .max = 20,
      .help = "attempts per alert delivery" },
    { .key = "alerts_retry_ms", .type = CONFIG_INT, .default_value = "2000", .min = 10,
      .max = 600000, .help = "first retry of a failed delivery after this; doubling" },
    { .key = "alerts_retry_max_ms", .type = CONFIG_INT, .default_value = "300000", .min = 10,
      .max = 3600000, .help = "the longest wait between two attempts" },
    { .key = "alerts_timeout_ms", .type = CONFIG_INT, .default_value = "10000", .min = 100,
      .max = 120000, .help = "one delivery attempt's time limit" },
    { .key = "alerts_crash_loop_count", .type = CONFIG_INT, .default_value = "3", .min = 2,
      .max = 100, .help = "crashes of one process that make a crash loop" },
    { .key = "alerts_crash_loop_window_s", .type = CONFIG_INT, .default_value = "120",
      .min = 1, .max = 86400, .help = "within this many seconds" },
    { .key = NULL }
};

static sender_config_t s_sender;
static int s_crash_count, s_crash_window_s;
static const char *s_events;        //  event output, NULL when remote

static void
s_close (void *state)
{
    alerts_t *self = state;
    if (!self)
        return;
    sender_destroy (&self->sender);
    rules_destroy (&self->rules);
    bus_sub_destroy (&self->sub);
    db_close (&self->db);
    free (self);
}

static int
s_open (const paths_t *paths, void **state_p, char *err, size_t errlen)
{
    alerts_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    int applied = 0;
    self->db = db_open (paths->db_path, err, errlen);
    if (!self->db
    ||  migrate_apply (self->db, mcpbox_migrations, mcpbox_migrations_count, &applied,
                       err, errlen) != 0) {
        s_close (self);
        return -1;
    }
    if (applied)
        log_info ("database %s: applied %d migration(s)", paths->db_path, applied);
    self->rules = rules_new (s_crash_count, s_crash_window_s * 1000);
    self->crash_window_ms = s_crash_window_s * 1000;
    self->opened_at = zclock_mono ();
    //  without an event output there is nothing to catch up with
    self->caught_up = s_events == NULL;
    self->sender = sender_new (&s_sender);
    if (!self->rules || !self->sender) {
        snprintf (err, errlen, "out of memory");
        s_close (self);
        return -1;
    }
    //  what a kill or a restart left pending is sent (again)
    outbox_resume (self->db, self->sender, s_sender.queue_max);
    if (s_events) {
        static const char *topics [] = { "activity", "tunnel.status", NULL };
        self->sub = bus_sub_new (s_events, topics);
        if (!self->sub)
            log_warn ("cannot subscribe to %s: no alert will be raised", s_events);
    }
    *state_p = self;
    return 0;
}

static void
s_tick (service_t *service, void *state)
{
    alerts_tick (service, state);
}

int
main (int argc, char **argv)
{
    const startup_def_t startup_def = {
        .process = "mcpbox-alerts",
        .options = s_options,
        .bus     = STARTUP_BUS_CURVE,
    };
    startup_t startup;
    int status = startup_configure (&startup, &startup_def, argc, argv);
    if (status != STARTUP_GO)
        return status == STARTUP_EXIT_OK ? 0 : 2;
    s_sender = (sender_config_t) {
        .queue_max     = (int) config_int (startup.config, "alerts_queue_max"),
        .attempts      = (int) config_int (startup.config, "alerts_attempts"),
        .retry_base_ms = (int) config_int (startup.config, "alerts_retry_ms"),
        .retry_max_ms  = (int) config_int (startup.config, "alerts_retry_max_ms"),
        .timeout_ms    = (int) config_int (startup.config, "alerts_timeout_ms"),
    };
    s_crash_count = (int) config_int (startup.config, "alerts_crash_loop_count");
    s_crash_window_s = (int) config_int (startup.config, "alerts_crash_loop_window_s");
    //  events only on this machine, as for publishing (startup_serve)
    if (strncmp (startup.endpoint, "ipc://", 6) == 0)
        s_events = startup.paths.events_out;
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const service_def_t def = {
        .service = "alerts",
        .process = "mcpbox-alerts",
        .owns    = s_owns,
        .ops     = alerts_ops,
        .open    = s_open,
        .close   = s_close,
        .tick    = s_tick,
        .tick_ms = 100,
    };
    status = startup_serve (&startup, &def);
    startup_release (&startup);
    curl_global_cleanup ();
    return status;
}
