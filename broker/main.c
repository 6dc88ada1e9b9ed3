/*  mcpbox-broker — wires flags to the broker library.

    Binds DATA/run/bus (requests), DATA/run/ev-in and DATA/run/ev-out
    (events), all in the 0700 run directory; with --tcp-endpoint also a
    CURVE-secured tcp ROUTER for remote executors whose public certificates
    sit in --curve-allow. Start-up is common/startup.h's: a bad flag, a
    missing certificate or allow directory exits 2 before anything binds.
*/
#include "broker.h"
#include "startup.h"

static const config_option_t s_options [] = {
    { .key = "tcp_endpoint", .type = CONFIG_STR, .default_value = "",
      .help = "tcp:// endpoint for remote executors (CURVE)" },
    { .key = "curve_secret", .type = CONFIG_STR, .default_value = "",
      .help = "broker certificate (secret zcert file); default DATA/keys/broker_secret" },
    { .key = "curve_allow", .type = CONFIG_STR, .default_value = "",
      .help = "directory of allowed executor public certificates; default DATA/keys/allowed" },
    { .key = "heartbeat_ms", .type = CONFIG_INT, .default_value = "0", .max = 60000,
      .help = "heartbeat interval (0: MCPBOX_HEARTBEAT_MS or 1000)" },
    { .key = NULL }
};

static char s_secret [PATHS_MAX + 32];
static char s_allow [PATHS_MAX + 32];

//  With --tcp-endpoint: a bind endpoint (always CURVE) and key files that exist.
static int
s_check (startup_t *startup, char *err, size_t errlen)
{
    const char *tcp = config_str (startup->config, "tcp_endpoint");
    snprintf (s_secret, sizeof s_secret, "%s", config_str (startup->config, "curve_secret"));
    snprintf (s_allow, sizeof s_allow, "%s", config_str (startup->config, "curve_allow"));
    if (!*s_secret)
        snprintf (s_secret, sizeof s_secret, "%s/broker_secret", startup->paths.keys_dir);
    if (!*s_allow)
        snprintf (s_allow, sizeof s_allow, "%s/allowed", startup->paths.keys_dir);
    if (!*tcp)
        return 0;
    if (strncmp (tcp, "tcp://", 6) != 0) {
        snprintf (err, errlen, "tcp_endpoint: '%.64s' is not a tcp:// endpoint", tcp);
        return -1;
    }
    //  served with CURVE only, so any address is allowed
    if (startup_check_endpoint ("tcp_endpoint", tcp, true, err, errlen)
    ||  startup_require_file ("curve_secret", s_secret, false, err, errlen)
    ||  startup_require_file ("curve_allow", s_allow, true, err, errlen))
        return -1;
    return 0;
}

int
main (int argc, char **argv)
{
    const startup_def_t def = {
        .process = "mcpbox-broker",
        .usage   = "usage: mcpbox-broker [--data-dir D] [options]",
        .options = s_options,
        .check   = s_check,
    };
    startup_t startup;
    int status = startup_configure (&startup, &def, argc, argv);
    if (status != STARTUP_GO)
        return status == STARTUP_EXIT_OK ? 0 : 2;

    char err [512];
    config_t *config = startup.config;
    broker_config_t broker_config = {
        .endpoint          = startup.paths.bus_endpoint,
        .events_in         = startup.paths.events_in,
        .events_out        = startup.paths.events_out,
        .tcp_endpoint      = config_str (config, "tcp_endpoint"),
        .curve_secret_file = s_secret,
        .curve_allow_dir   = s_allow,
        .heartbeat_ms      = (int) config_int (config, "heartbeat_ms"),
    };
    broker_t *broker = broker_new (&broker_config, err, sizeof err);
    if (!broker) {
        log_error ("%s", err);
        startup_release (&startup);
        return 1;
    }
    log_info ("serving %s%s%s", startup.paths.bus_endpoint,
              *broker_config.tcp_endpoint ? " and " : "", broker_config.tcp_endpoint);
    broker_run (broker, NULL);
    broker_destroy (&broker);
    log_info ("stopped");
    startup_release (&startup);
    return 0;
}
