/*  mcpbox-broker — wires flags to the broker library.

    Binds DATA/run/bus (requests), DATA/run/ev-in and DATA/run/ev-out
    (events), all in the 0700 run directory; with --tcp-endpoint also a
    CURVE-secured tcp ROUTER for remote executors whose public certificates
    sit in --curve-allow.
*/
#include "broker.h"
#include "config.h"
#include "log.h"
#include "paths.h"

static const config_option_t s_options [] = {
    { "tcp_endpoint", CONFIG_STR, "", 0, 0, "tcp:// endpoint for remote executors (CURVE)" },
    { "curve_secret", CONFIG_STR, "", 0, 0, "broker certificate (secret zcert file); default DATA/keys/broker_secret" },
    { "curve_allow",  CONFIG_STR, "", 0, 0, "directory of allowed executor public certificates; default DATA/keys/allowed" },
    { "heartbeat_ms", CONFIG_INT, "0", 0, 60000, "heartbeat interval (0: MCPBOX_HEARTBEAT_MS or 1000)" },
    { NULL }
};

int
main (int argc, char **argv)
{
    char err [512];
    config_t *config = config_new (s_options);
    if (config_load (config, argc, argv, err, sizeof err) != 0) {
        fprintf (stderr, "mcpbox-broker: %s\n", err);
        config_destroy (&config);
        return 2;
    }
    if (config_bool (config, "help")) {
        config_print_help (config, stdout, "usage: mcpbox-broker [--data-dir D] [options]");
        config_destroy (&config);
        return 0;
    }
    log_level_t level = LOG_INFO;
    log_level_parse (config_str (config, "log_level"), &level);
    log_init ("mcpbox-broker", level);

    paths_t paths;
    if (paths_init (&paths, config_str (config, "data_dir"), true, err, sizeof err) != 0) {
        log_error ("%s", err);
        config_destroy (&config);
        return 1;
    }
    char secret [PATHS_MAX + 32], allow [PATHS_MAX + 32];
    snprintf (secret, sizeof secret, "%s", config_str (config, "curve_secret"));
    snprintf (allow, sizeof allow, "%s", config_str (config, "curve_allow"));
    if (!*secret)
        snprintf (secret, sizeof secret, "%s/broker_secret", paths.keys_dir);
    if (!*allow)
        snprintf (allow, sizeof allow, "%s/allowed", paths.keys_dir);

    broker_config_t broker_config = {
        .endpoint          = paths.bus_endpoint,
        .events_in         = paths.events_in,
        .events_out        = paths.events_out,
        .tcp_endpoint      = config_str (config, "tcp_endpoint"),
        .curve_secret_file = secret,
        .curve_allow_dir   = allow,
        .heartbeat_ms      = (int) config_int (config, "heartbeat_ms"),
    };
    broker_t *broker = broker_new (&broker_config, err, sizeof err);
    if (!broker) {
        log_error ("%s", err);
        config_destroy (&config);
        return 1;
    }
    log_info ("serving %s%s%s", paths.bus_endpoint,
              *broker_config.tcp_endpoint ? " and " : "", broker_config.tcp_endpoint);
    broker_run (broker, NULL);
    broker_destroy (&broker);
    log_info ("stopped");
    config_destroy (&config);
    return 0;
}
