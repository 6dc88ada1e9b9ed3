/*  mcpbox-credentials — admin accounts and sessions, encrypted server
    secrets, MCPbox's own OAuth server, and the sealed OAuth state and
    tokens of external sources (source_oauth.h).

    Wires the process: the master key leaves the environment first (before
    anything could copy it), then configuration, logging and the request
    loop (common/actor_main.c) with the hash pool's pipe polled beside the
    bus. creds.h says how the rest of this folder fits together.
*/
#include <stdio.h>
#include "actor_main.h"
#include "creds.h"

static const char *s_owns [] = {
    "admin_users", "sessions", "login_failures", "server_secrets", "remote_tokens",
    "oauth_clients", "oauth_requests", "oauth_codes", "oauth_tokens",
    "source_oauth_pending", "source_oauth_tokens", NULL
};

static const config_option_t s_options [] = {
    { .key = "credit", .type = CONFIG_INT, .default_value = "16", .min = 1, .max = 256,
      .help = "requests held at once (password hashing runs beside)" },
    { .key = "access_ttl_s", .type = CONFIG_INT, .default_value = "900", .min = 1, .max = 86400,
      .help = "lifetime of an access token, seconds" },
    { .key = "refresh_ttl_s", .type = CONFIG_INT, .default_value = "604800", .min = 1, .max = 31536000,
      .help = "lifetime of a refresh token, seconds" },
    { .key = "login_window_s", .type = CONFIG_INT, .default_value = "60", .min = 1, .max = 86400,
      .help = "window of the failed-login limit, seconds" },
    { .key = "login_max_failures", .type = CONFIG_INT, .default_value = "5", .min = 1, .max = 1000,
      .help = "failed logins per window per address and per username" },
    { .key = "pwhash_ops", .type = CONFIG_INT, .default_value = "2", .min = 2, .max = 64,
      .help = "Argon2id passes (at least libsodium's interactive 2)" },
    { .key = "pwhash_mem_mib", .type = CONFIG_INT, .default_value = "64", .min = 64, .max = 4096,
      .help = "Argon2id memory, MiB (at least the interactive 64)" },
    { .key = "oauth_access_ttl_s", .type = CONFIG_INT, .default_value = "3600", .min = 1,
      .max = 86400, .help = "lifetime of an OAuth access token for /mcp, seconds" },
    { .key = "oauth_refresh_ttl_s", .type = CONFIG_INT, .default_value = "2592000", .min = 1,
      .max = 31536000, .help = "lifetime of an OAuth refresh token, seconds" },
    { .key = "oauth_code_ttl_s", .type = CONFIG_INT, .default_value = "60", .min = 1,
      .max = 600, .help = "lifetime of an OAuth authorization code, seconds" },
    { .key = NULL }
};

static int
s_open (const paths_t *paths, void **state_p, char *err, size_t errlen)
{
    int rc;
    *state_p = creds_new (paths, &rc, err, errlen);
    return rc;
}

static void
s_close (void *state)
{
    creds_t *self = state;
    creds_destroy (&self);
}

static int
s_limits (int argc, char **argv)
{
    config_t *config = config_new (s_options);
    char err [256];
    if (!config || config_load (config, argc, argv, err, sizeof err) != 0) {
        config_destroy (&config);
        return -1;          //  actor_main reports it
    }
    creds_configured_limits = (creds_limits_t) {
        .access_ttl_s       = config_int (config, "access_ttl_s"),
        .refresh_ttl_s      = config_int (config, "refresh_ttl_s"),
        .login_window_s     = config_int (config, "login_window_s"),
        .login_max_failures = config_int (config, "login_max_failures"),
        .hash_ops           = config_int (config, "pwhash_ops"),
        .hash_mem           = config_int (config, "pwhash_mem_mib") << 20,
        .oauth_access_ttl_s = config_int (config, "oauth_access_ttl_s"),
        .oauth_refresh_ttl_s = config_int (config, "oauth_refresh_ttl_s"),
        .oauth_code_ttl_s   = config_int (config, "oauth_code_ttl_s"),
    };
    config_destroy (&config);
    return 0;
}

int
main (int argc, char **argv)
{
    bool found = false;
    char err [256];
    if (sodium_init () < 0 || master_key_take_env (&found, err, sizeof err) != 0) {
        fprintf (stderr, "mcpbox-credentials: %s\n", found ? err : "libsodium failed");
        return 2;
    }
    s_limits (argc, argv);
    const service_def_t def = {
        .service = "credentials",
        .process = "mcpbox-credentials",
        .owns    = s_owns,
        .ops     = creds_ops (),
        .open    = s_open,
        .close   = s_close,
        .tick    = creds_tick,
        .tick_ms = 60000,
        .wake_fd = creds_wake_fd,
        .on_wake = creds_on_wake,
    };
    return actor_main (argc, argv, &def, s_options);
}
