/*  mcpbox-tunnel — the remote-access tunnel: one client process
    (cloudflared, or an OpenSSH reverse tunnel) supervised behind one
    provider interface, its configuration and its status.

    Wires the process: configure (common/startup.c, plus the options
    below: which programs run and where the tunnel leads are this file's
    and the config file's to say, never a bus request's), then serve: the
    database (tunnel.c), the bus worker for service "tunnel", the request
    loop polling the client's output pipe beside the bus and ticking every
    100 ms. The op table in ops.c is the actor's whole interface; tunnel.h
    maps the rest of this folder.
*/
#include <stdio.h>
#include <string.h>
#include "startup.h"
#include "tunnel.h"

static const char *s_owns [] = { "tunnel_config", NULL };

static const config_option_t s_options [] = {
    { .key = "tunnel_target", .type = CONFIG_STR, .default_value = "127.0.0.1:8001",
      .help = "host:port the tunnel forwards to (the gateway's remote listener)" },
    { .key = "tunnel_ssh_path", .type = CONFIG_STR, .default_value = "/usr/bin/ssh",
      .help = "the OpenSSH client (absolute path)" },
    { .key = "tunnel_ssh_keygen_path", .type = CONFIG_STR, .default_value = "/usr/bin/ssh-keygen",
      .help = "ssh-keygen, which makes the tunnel's key (absolute path)" },
    { .key = "tunnel_cloudflared_path", .type = CONFIG_STR, .default_value = "/usr/bin/cloudflared",
      .help = "cloudflared (absolute path)" },
    { .key = "tunnel_backoff_min_ms", .type = CONFIG_INT, .default_value = "1000",
      .min = 10, .max = 600000, .help = "first restart delay after the client failed" },
    { .key = "tunnel_backoff_max_ms", .type = CONFIG_INT, .default_value = "60000",
      .min = 10, .max = 3600000, .help = "longest restart delay" },
    { .key = "tunnel_stable_s", .type = CONFIG_INT, .default_value = "60", .min = 1, .max = 86400,
      .help = "connected this long, the restart delay starts over" },
    { .key = "tunnel_server_alive_s", .type = CONFIG_INT, .default_value = "15",
      .min = 1, .max = 3600, .help = "ssh ServerAliveInterval, seconds" },
    { .key = NULL }
};

static int
s_copy_path (config_t *config, const char *key, char *out, size_t size,
             char *err, size_t errlen)
{
    const char *value = config_str (config, key);
    if (!value || value [0] != '/' || strlen (value) >= size) {
        snprintf (err, errlen, "%s: an absolute path is required", key);
        return -1;
    }
    snprintf (out, size, "%s", value);
    return 0;
}

static int
s_check (startup_t *startup, char *err, size_t errlen)
{
    config_t *config = startup->config;
    tunnel_files_t *files = &tunnel_configured_files;
    if (s_copy_path (config, "tunnel_ssh_path", files->ssh_path, sizeof files->ssh_path,
                     err, errlen)
    ||  s_copy_path (config, "tunnel_ssh_keygen_path", files->ssh_keygen_path,
                     sizeof files->ssh_keygen_path, err, errlen)
    ||  s_copy_path (config, "tunnel_cloudflared_path", files->cloudflared_path,
                     sizeof files->cloudflared_path, err, errlen))
        return -1;
    const char *target = config_str (config, "tunnel_target");
    if (!target || !tunnel_target_valid (target)) {
        snprintf (err, errlen, "tunnel_target: host:port (port 1..65535) is required");
        return -1;
    }
    snprintf (files->target, sizeof files->target, "%s", target);
    files->server_alive_s = (int) config_int (config, "tunnel_server_alive_s");
    tunnel_configured_timing = (tunnel_timing_t) {
        .backoff_min_ms = config_int (config, "tunnel_backoff_min_ms"),
        .backoff_max_ms = config_int (config, "tunnel_backoff_max_ms"),
        .stable_ms      = config_int (config, "tunnel_stable_s") * 1000,
    };
    if (tunnel_configured_timing.backoff_max_ms < tunnel_configured_timing.backoff_min_ms) {
        snprintf (err, errlen, "tunnel_backoff_max_ms: at least tunnel_backoff_min_ms");
        return -1;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    const startup_def_t startup_def = {
        .process = "mcpbox-tunnel",
        .options = s_options,
        .bus     = STARTUP_BUS_CURVE,
        .check   = s_check,
    };
    startup_t startup;
    int status = startup_configure (&startup, &startup_def, argc, argv);
    if (status != STARTUP_GO)
        return status == STARTUP_EXIT_OK ? 0 : 2;
    const service_def_t def = {
        .service = "tunnel",
        .process = "mcpbox-tunnel",
        .owns    = s_owns,
        .ops     = tunnel_ops (),
        .open    = tunnel_open,
        .close   = tunnel_close,
        .tick    = tunnel_tick,
        .tick_ms = 100,
        .wake_fd = tunnel_wake_fd,
        .on_wake = tunnel_on_wake,
    };
    status = startup_serve (&startup, &def);
    startup_release (&startup);
    return status;
}
