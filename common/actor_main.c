/*  actor_main.c — config, logging, paths and the service loop for an
    actor's main() (see actor_main.h), written once instead of six times.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actor_main.h"
#include "log.h"
#include "paths.h"

#define ACTOR_ENDPOINT_MAX 256      //  bytes of a broker endpoint

static const config_option_t s_actor_options [] = {
    { "broker", CONFIG_STR, "", 0, 0,
      "broker endpoint (ipc:// or tcp://); empty: DATA_DIR/run/bus" },
    { NULL, CONFIG_STR, NULL, 0, 0, NULL }
};

static bool
s_declared (const config_option_t *options, const char *key)
{
    for (size_t i = 0; options && options [i].key; i++)
        if (strcmp (options [i].key, key) == 0)
            return true;
    return false;
}

static bool
s_loopback (const char *endpoint)
{
    return strncmp (endpoint, "tcp://127.0.0.1:", 16) == 0
        || strncmp (endpoint, "tcp://localhost:", 16) == 0
        || strncmp (endpoint, "tcp://[::1]:", 12) == 0;
}

//  Options table: ours then the actor's. Caller frees.
static config_option_t *
s_options (const config_option_t *extra)
{
    size_t extra_count = 0;
    while (extra && extra [extra_count].key)
        extra_count++;
    size_t ours = sizeof s_actor_options / sizeof s_actor_options [0] - 1;
    config_option_t *options = calloc (ours + extra_count + 1, sizeof *options);
    if (!options)
        return NULL;
    memcpy (options, s_actor_options, ours * sizeof *options);
    if (extra_count)
        memcpy (options + ours, extra, extra_count * sizeof *options);
    return options;
}

//  Load and check the configuration; 0, 1 (help printed), or 2.
static int
s_configure (config_t *config, int argc, char **argv, const service_def_t *def,
             log_level_t *level)
{
    char err [512];
    if (config_load (config, argc, argv, err, sizeof err)) {
        fprintf (stderr, "%s: %s\n", def->process, err);
        return 2;
    }
    if (config_bool (config, "help")) {
        char usage [128];
        snprintf (usage, sizeof usage, "usage: %s [options]", def->process);
        config_print_help (config, stdout, usage);
        return 1;
    }
    if (config_argc (config) > 0) {
        fprintf (stderr, "%s: unexpected argument '%.64s'\n", def->process,
                 config_argv (config, 0));
        return 2;
    }
    if (log_level_parse (config_str (config, "log_level"), level)) {
        fprintf (stderr, "%s: log_level: '%.32s' is not one of debug, info, warn, "
                 "error\n", def->process, config_str (config, "log_level"));
        return 2;
    }
    const char *broker = config_str (config, "broker");
    if (*broker && ((strncmp (broker, "ipc://", 6) && strncmp (broker, "tcp://", 6))
                    || strlen (broker) > ACTOR_ENDPOINT_MAX)) {
        fprintf (stderr, "%s: broker: '%.64s' is not an ipc:// or tcp:// endpoint "
                 "of at most %d bytes\n", def->process, broker, ACTOR_ENDPOINT_MAX);
        return 2;
    }
    return 0;
}

int
actor_main (int argc, char **argv, const service_def_t *def,
            const config_option_t *extra)
{
    config_option_t *options = s_options (extra);
    config_t *config = options ? config_new (options) : NULL;
    if (!config) {
        fprintf (stderr, "%s: out of memory\n", def->process);
        free (options);
        return 1;
    }
    log_level_t level = LOG_INFO;
    int status = s_configure (config, argc, argv, def, &level);
    if (status) {
        status = status == 1 ? 0 : status;
        goto done;
    }
    log_init (def->process, level);

    char err [512];
    paths_t paths;
    if (paths_init (&paths, config_str (config, "data_dir"), true, err, sizeof err)) {
        log_error ("%s", err);
        status = 1;
        goto done;
    }
    service_def_t run = *def;
    if (s_declared (extra, "credit"))
        run.credit = (int) config_int (config, "credit");

    const char *endpoint = config_str (config, "broker");
    if (!*endpoint)
        endpoint = paths.bus_endpoint;
    bus_curve_t curve = { NULL, NULL };
    bool use_curve = false;
    if (strncmp (endpoint, "tcp://", 6) == 0) {
        if (s_declared (extra, "broker_key") && s_declared (extra, "cert")) {
            curve.server_public_file = config_str (config, "broker_key");
            curve.client_secret_file = config_str (config, "cert");
            use_curve = *curve.server_public_file || *curve.client_secret_file;
            if (use_curve && !(*curve.server_public_file && *curve.client_secret_file)) {
                fprintf (stderr, "%s: broker_key and cert go together\n", def->process);
                status = 2;
                goto done;
            }
        }
        if (!use_curve && !s_loopback (endpoint)) {
            fprintf (stderr, "%s: broker %.64s is tcp:// off this machine and needs "
                     "CURVE (broker_key and cert)\n", def->process, endpoint);
            status = 2;
            goto done;
        }
        if (!use_curve)
            log_warn ("joining %s without CURVE: loopback only", endpoint);
    }
    if (run.open && run.open (&paths, &run.state, err, sizeof err) != 0) {
        log_error ("%s", err);
        status = 1;
        goto done;
    }
    //  events only on this machine: a remote actor has no local event socket
    const char *events = strncmp (endpoint, "ipc://", 6) == 0 ? paths.events_in : NULL;
    status = service_run (&run, endpoint, use_curve ? &curve : NULL, events) ? 1 : 0;
    if (run.close)
        run.close (run.state);
done:
    config_destroy (&config);
    free (options);
    return status;
}
