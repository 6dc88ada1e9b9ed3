/*  cmd_tunnel.c — `mcpbox tunnel status|start|stop|configure`: the remote
    access tunnel (docs/BUS_OPS.md, tunnel).

        status      provider, state, message, pid, restarts, configuration
        start       enable the tunnel and run its client
        stop        disable it; waits until the client has ended (TERM,
                    KILL after 5 s)
        configure   --provider none|cloudflared|ssh and the provider's
                    settings; --token-stdin reads the cloudflared token from
                    standard input (never from the command line, where every
                    user of the machine could read it). An ssh configuration
                    prints the tunnel's public key, for the server's
                    authorized_keys.

    The token is never printed: the tunnel actor hands it to credentials
    and answers has_token only. Exit 0 done, 1 refused or MCPbox not
    running, 2 usage.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "cli.h"

#define S_NAME       "tunnel"
#define S_TOKEN_MAX  4096
#define S_STOP_MS    15000          //  the actor waits up to 5 s for the client

static int
s_usage_error (const char *message)
{
    fprintf (stderr, "mcpbox " S_NAME ": %s\n(see mcpbox " S_NAME " --help)\n", message);
    return CLI_EXIT_USAGE;
}

static void
s_print_status (json_t *reply)
{
    const char *provider = cli_jstr (reply, "provider");
    char *message = cli_text_clean (cli_jstr (reply, "message"), 200, true);
    printf ("provider:  %s\n", provider);
    printf ("state:     %s%s%s\n", cli_jstr (reply, "state"),
            message && *message ? " — " : "", message ? message : "");
    free (message);
    printf ("enabled:   %s\n", json_is_true (json_object_get (reply, "enabled")) ? "yes" : "no");
    if (cli_jint (reply, "pid", 0) > 0)
        printf ("pid:       %lld\n", (long long) cli_jint (reply, "pid", 0));
    printf ("restarts:  %lld\n", (long long) cli_jint (reply, "restarts", 0));
    int64_t retry = cli_jint (reply, "retry_in_ms", -1);
    if (retry >= 0)
        printf ("retry in:  %lld ms\n", (long long) retry);
    printf ("target:    %s\n", cli_jstr (reply, "target"));
    json_t *ssh = json_object_get (reply, "ssh");
    if (strcmp (provider, "cloudflared") == 0)
        printf ("token:     %s\n", json_is_true (json_object_get (reply, "has_token"))
                                   ? "set" : "not set");
    if (strcmp (provider, "ssh") == 0 && ssh) {
        printf ("ssh:       %s@%s:%lld, remote %s:%lld\n", cli_jstr (ssh, "user"),
                cli_jstr (ssh, "host"), (long long) cli_jint (ssh, "port", 0),
                cli_jstr (ssh, "remote_host"), (long long) cli_jint (ssh, "remote_port", 0));
        printf ("host key:  %s\n", cli_jstr (ssh, "host_key"));
    }
    if (ssh && *cli_jstr (ssh, "public_key"))
        printf ("public key (for the server's authorized_keys):\n  %s\n",
                cli_jstr (ssh, "public_key"));
}

//  "1".."65535" -> port; -1 otherwise.
static int
s_port (const char *text)
{
    char *end = NULL;
    long value = strtol (text, &end, 10);
    return *text && end && !*end && value >= 1 && value <= 65535 ? (int) value : -1;
}

static const struct {
    const char *option;             //  the CLI's option
    const char *field;              //  the configure field
    bool        port;
} s_fields [] = {
    { "provider",        "provider",        false },
    { "ssh_host",        "ssh_host",        false },
    { "ssh_port",        "ssh_port",        true },
    { "ssh_user",        "ssh_user",        false },
    { "ssh_host_key",    "ssh_host_key",    false },
    { "ssh_remote_host", "ssh_remote_host", false },
    { "ssh_remote_port", "ssh_remote_port", true },
};
#define S_FIELDS (sizeof s_fields / sizeof s_fields [0])

//  The configure request, or NULL after a usage error (*rc set).
static msgw_t *
s_configure_body (config_t *config, int *rc)
{
    size_t pairs = 1;
    for (size_t i = 0; i < S_FIELDS; i++) {
        const char *value = config_str (config, s_fields [i].option);
        if (value && *value) {
            if (s_fields [i].port && s_port (value) < 0) {
                char text [96];
                snprintf (text, sizeof text, "--%s: a port 1..65535", s_fields [i].option);
                *rc = s_usage_error (text);
                return NULL;
            }
            pairs++;
        }
    }
    bool token = config_bool (config, "token_stdin");
    if (pairs == 1 && !token) {
        *rc = s_usage_error ("configure needs --provider or a setting to change");
        return NULL;
    }
    static char value [S_TOKEN_MAX + 2];
    size_t len = 0;
    if (token && cli_read_secret ("cloudflared token: ", false, value, sizeof value, &len) != 0) {
        fprintf (stderr, "mcpbox " S_NAME ": the token is longer than %d bytes\n", S_TOKEN_MAX);
        *rc = CLI_EXIT_FAIL;
        return NULL;
    }
    msgw_t *body = msgw_new ();
    msgw_map (body, pairs + (token ? 1 : 0));
    msgw_kv_str (body, "op", "configure");
    for (size_t i = 0; i < S_FIELDS; i++) {
        const char *text = config_str (config, s_fields [i].option);
        if (!text || !*text)
            continue;
        if (s_fields [i].port)
            msgw_kv_int (body, s_fields [i].field, s_port (text));
        else
            msgw_kv_str (body, s_fields [i].field, text);
    }
    if (token) {
        msgw_str (body, "token");
        msgw_strn (body, value, len);
        sodium_memzero (value, sizeof value);
    }
    return body;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : "";
    if (argc != 2 || (strcmp (action, "status") && strcmp (action, "start")
                      && strcmp (action, "stop") && strcmp (action, "configure")))
        return s_usage_error ("give one action: status, start, stop or configure");
    int rc = CLI_EXIT_OK;
    msgw_t *body = NULL;
    if (strcmp (action, "configure") == 0) {
        if (!(body = s_configure_body (config, &rc)))
            return rc;
    }
    else {
        for (size_t i = 0; i < S_FIELDS; i++) {
            const char *value = config_str (config, s_fields [i].option);
            if (value && *value)
                return s_usage_error ("settings go with configure only");
        }
        if (config_bool (config, "token_stdin"))
            return s_usage_error ("--token-stdin goes with configure only");
        body = msgw_op_new (action);
    }
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus) {
        cli_msgw_wipe (&body);
        return CLI_EXIT_FAIL;
    }
    cli_call_t call = {
        .service    = "tunnel",
        .body       = body,
        .timeout_ms = strcmp (action, "stop") == 0 ? S_STOP_MS : 0,
    };
    cli_bus_run (bus, &call, 1);
    cli_msgw_wipe (&body);
    char what [64];
    snprintf (what, sizeof what, "cannot %s the tunnel", strcmp (action, "status") == 0
              ? "read the status of" : action);
    if (!call.reply)
        rc = cli_bus_report (bus, &call, what);
    else
    if (json)
        rc = cli_json_print (call.reply);
    else
        s_print_status (call.reply);
    cli_call_reset (&call);
    cli_bus_close (&bus);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print the service's reply as JSON", .flag_only = true },
    { .key = "provider", .type = CONFIG_STR, .flag_only = true,
      .help = "configure: none, cloudflared or ssh" },
    { .key = "token_stdin", .type = CONFIG_BOOL, .flag_only = true,
      .help = "configure: read the cloudflared token from standard input" },
    { .key = "ssh_host", .type = CONFIG_STR, .flag_only = true,
      .help = "configure: the SSH server" },
    { .key = "ssh_port", .type = CONFIG_STR, .flag_only = true,
      .help = "configure: its port (22)" },
    { .key = "ssh_user", .type = CONFIG_STR, .flag_only = true,
      .help = "configure: the user to log in as" },
    { .key = "ssh_host_key", .type = CONFIG_STR, .flag_only = true,
      .help = "configure: the server's public host key to pin, \"TYPE BASE64\"" },
    { .key = "ssh_remote_host", .type = CONFIG_STR, .flag_only = true,
      .help = "configure: the address the server listens on (localhost)" },
    { .key = "ssh_remote_port", .type = CONFIG_STR, .flag_only = true,
      .help = "configure: the port the server listens on (8001)" },
    { .key = NULL }
};

const cli_command_t cli_cmd_tunnel = {
    .name     = S_NAME,
    .summary  = "status, start, stop or configure the remote-access tunnel",
    .usage    = "usage: mcpbox tunnel status\n"
                "       mcpbox tunnel start | stop\n"
                "       mcpbox tunnel configure --provider cloudflared --token-stdin\n"
                "       mcpbox tunnel configure --provider ssh --ssh-host HOST --ssh-user USER\n"
                "                               --ssh-host-key \"ssh-ed25519 AAAA...\"\n"
                "                               [--ssh-port 22] [--ssh-remote-port 8001]\n\n"
                "The tunnel forwards to tunnel_target (the config file's key, default\n"
                "127.0.0.1:8001, the gateway's remote listener). The cloudflared token is\n"
                "read from standard input (a no-echo prompt on a terminal), never from\n"
                "the command line, and never printed. An ssh configuration prints the\n"
                "tunnel's public key: put it in the server's authorized_keys. The\n"
                "server's host key is pinned: a server with another key is refused.\n"
                "stop waits until the client has ended. Exit 0 done, 1 refused or MCPbox\n"
                "not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 1,
};
