/*  startup.c — the configure and serve steps every program shares (see
    startup.h for the rules).

    The option table a program ends up with is its own options, then the
    bus options its def asks for (a key the program declares itself is not
    added twice: its declaration wins), then config.c's common options.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "startup.h"

static const config_option_t s_bus_options [] = {
    { .key = "broker", .type = CONFIG_STR, .default_value = "",
      .help = "broker endpoint (ipc:// or tcp://); empty: DATA_DIR/run/bus" },
    { .key = NULL }
};

static const config_option_t s_curve_options [] = {
    { .key = "broker_key", .type = CONFIG_STR, .default_value = "",
      .help = "the broker's public certificate (zcert), for a tcp:// broker" },
    { .key = "cert", .type = CONFIG_STR, .default_value = "",
      .help = "this process's secret certificate (zcert), for a tcp:// broker" },
    { .key = NULL }
};

static const config_option_t s_events_options [] = {
    { .key = "events", .type = CONFIG_STR, .default_value = "",
      .help = "broker event output (XPUB); empty: DATA_DIR/run/ev-out" },
    { .key = NULL }
};

static size_t
s_count (const config_option_t *options)
{
    size_t count = 0;
    while (options && options [count].key)
        count++;
    return count;
}

static bool
s_declares (const config_option_t *options, const char *key)
{
    for (size_t i = 0; options && options [i].key; i++)
        if (strcmp (options [i].key, key) == 0)
            return true;
    return false;
}

//  Append `more` to table (at *count), skipping keys the program declares.
static void
s_append (config_option_t *table, size_t *count, const config_option_t *own,
          const config_option_t *more)
{
    for (size_t i = 0; more [i].key; i++)
        if (!s_declares (own, more [i].key))
            table [(*count)++] = more [i];
}

static config_option_t *
s_table_new (const startup_def_t *def)
{
    size_t own = s_count (def->options);
    config_option_t *table = calloc (own + 8, sizeof *table);
    if (!table)
        return NULL;
    size_t count = 0;
    for (size_t i = 0; i < own; i++)
        table [count++] = def->options [i];
    if (def->bus != STARTUP_BUS_NONE)
        s_append (table, &count, def->options, s_bus_options);
    if (def->bus == STARTUP_BUS_CURVE)
        s_append (table, &count, def->options, s_curve_options);
    if (def->events)
        s_append (table, &count, def->options, s_events_options);
    return table;
}

static bool
s_loopback (const char *endpoint)
{
    return strncmp (endpoint, "tcp://127.0.0.1:", 16) == 0
        || strncmp (endpoint, "tcp://localhost:", 16) == 0
        || strncmp (endpoint, "tcp://[::1]:", 12) == 0;
}

int
startup_check_endpoint (const char *key, const char *endpoint, bool curve,
                        char *err, size_t errlen)
{
    size_t len = strnlen (endpoint, STARTUP_ENDPOINT_MAX + 1);
    bool printable = true;
    for (size_t i = 0; i < len; i++)
        //  ';' would let "tcp://127.0.0.1:1;host:2" pass as loopback
        if ((unsigned char) endpoint [i] <= ' ' || endpoint [i] == 0x7f
        ||  endpoint [i] == ';')
            printable = false;
    if (len > STARTUP_ENDPOINT_MAX || !printable
    ||  (strncmp (endpoint, "ipc://", 6) && strncmp (endpoint, "tcp://", 6))
    ||  len <= 6) {
        snprintf (err, errlen, "%s: '%.64s' is not an ipc:// or tcp:// endpoint "
                  "of at most %d bytes", key, endpoint, STARTUP_ENDPOINT_MAX);
        return -1;
    }
    if (strncmp (endpoint, "tcp://", 6) == 0 && !curve && !s_loopback (endpoint)) {
        snprintf (err, errlen, "%s: %.64s is tcp:// off this machine and needs "
                  "CURVE (--broker-key and --cert)", key, endpoint);
        return -1;
    }
    return 0;
}

int
startup_require_file (const char *key, const char *path, bool directory,
                      char *err, size_t errlen)
{
    struct stat st;
    if (stat (path, &st) != 0) {
        snprintf (err, errlen, "%s: cannot use '%.200s': %s", key, path,
                  strerror (errno));
        return -1;
    }
    if (directory ? !S_ISDIR (st.st_mode) : !S_ISREG (st.st_mode)) {
        snprintf (err, errlen, "%s: '%.200s' is not a %s", key, path,
                  directory ? "directory" : "regular file");
        return -1;
    }
    if (access (path, directory ? R_OK | X_OK : R_OK) != 0) {
        snprintf (err, errlen, "%s: cannot read '%.200s': %s", key, path,
                  strerror (errno));
        return -1;
    }
    return 0;
}

//  Steps 3 to 7 of startup.h: 0, or -1 with err.
static int
s_check (startup_t *self, char *err, size_t errlen)
{
    const startup_def_t *def = self->def;
    config_t *config = self->config;
    if (config_argc (config) > def->max_args) {
        snprintf (err, errlen, "unexpected argument '%.64s'",
                  config_argv (config, def->max_args));
        return -1;
    }
    if (log_level_parse (config_str (config, "log_level"), &self->level)) {
        snprintf (err, errlen, "log_level: '%.32s' is not one of debug, info, "
                  "warn, error", config_str (config, "log_level"));
        return -1;
    }
    if (paths_init (&self->paths, config_str (config, "data_dir"), !def->read_only,
                    err, errlen))
        return -1;          //  the message names data_dir
    if (def->bus != STARTUP_BUS_NONE) {
        const char *broker = config_str (config, "broker");
        if (def->bus == STARTUP_BUS_CURVE) {
            const char *key = config_str (config, "broker_key");
            const char *cert = config_str (config, "cert");
            if ((*key && startup_require_file ("broker_key", key, false, err, errlen))
            ||  (*cert && startup_require_file ("cert", cert, false, err, errlen)))
                return -1;
            if (!*key != !*cert) {
                snprintf (err, errlen, "%s: --broker-key and --cert go together",
                          *key ? "cert" : "broker_key");
                return -1;
            }
            self->use_curve = *key && *cert;
            self->curve = (bus_curve_t) { key, cert };
        }
        if (*broker && startup_check_endpoint ("broker", broker, self->use_curve,
                                               err, errlen))
            return -1;
        if (self->use_curve && strncmp (broker, "tcp://", 6) != 0) {
            snprintf (err, errlen, "broker_key: CURVE is for a tcp:// broker; "
                      "the local broker is reached over ipc://");
            return -1;
        }
        snprintf (self->endpoint, sizeof self->endpoint, "%s",
                  *broker ? broker : self->paths.bus_endpoint);
    }
    if (def->events) {
        const char *events = config_str (config, "events");
        if (*events && startup_check_endpoint ("events", events, false, err, errlen))
            return -1;
        snprintf (self->events, sizeof self->events, "%s",
                  *events ? events : self->paths.events_out);
    }
    if (def->check && def->check (self, err, errlen))
        return -1;
    return 0;
}

int
startup_configure (startup_t *self, const startup_def_t *def, int argc, char **argv)
{
    memset (self, 0, sizeof *self);
    self->def = def;
    self->level = LOG_INFO;
    self->table = s_table_new (def);
    self->config = self->table ? config_new (self->table) : NULL;
    if (!self->config) {
        fprintf (stderr, "%s: out of memory\n", def->process);
        startup_release (self);
        return STARTUP_EXIT_CONFIG;
    }
    char err [768] = "";
    if (config_load (self->config, argc, argv, err, sizeof err) == 0
    &&  config_bool (self->config, "help")) {
        char usage [160];
        snprintf (usage, sizeof usage, "usage: %s [options]", def->process);
        config_print_help (self->config, stdout, def->usage ? def->usage : usage);
        startup_release (self);
        return STARTUP_EXIT_OK;
    }
    if (*err || s_check (self, err, sizeof err)) {
        fprintf (stderr, "%s: %s\n", def->process, err);
        startup_release (self);
        return STARTUP_EXIT_CONFIG;
    }
    log_init (def->log_name ? def->log_name : def->process, self->level);
    return STARTUP_GO;
}

void
startup_release (startup_t *self)
{
    config_destroy (&self->config);
    free (self->table);
    self->table = NULL;
}

int
startup_serve (startup_t *self, const service_def_t *def)
{
    char err [512] = "";
    service_def_t run = *def;
    if (s_declares (self->def->options, "credit"))
        run.credit = (int) config_int (self->config, "credit");
    if (self->use_curve)
        log_info ("joining %s with CURVE", self->endpoint);
    else
    if (strncmp (self->endpoint, "tcp://", 6) == 0)
        log_warn ("joining %s without CURVE: loopback only", self->endpoint);
    int opened = run.open ? run.open (&self->paths, &run.state, err, sizeof err) : 0;
    if (opened != 0) {
        log_error ("%s", err);
        return opened == 2 ? 2 : 1;     //  2: a configuration error
    }
    //  events only on this machine: a remote actor has no local event socket
    const char *events = strncmp (self->endpoint, "ipc://", 6) == 0
                       ? self->paths.events_in : NULL;
    int status = service_run (&run, self->endpoint,
                              self->use_curve ? &self->curve : NULL, events) ? 1 : 0;
    if (run.close)
        run.close (run.state);
    return status;
}
