/*  provider_cloudflared.c — `cloudflared tunnel --no-autoupdate run`.

    The token reaches cloudflared as TUNNEL_TOKEN in its environment (the
    variable its --token flag reads), never on the command line, where any
    user of the machine could read it in /proc/PID/cmdline. HOME is the
    actor's DATA/tunnel so no ~/.cloudflared of the account is picked up.
    With a token (a remotely managed tunnel) the public hostname and the
    service it reaches are set in Cloudflare's dashboard: point it at the
    target (tunnel_target, the gateway's remote listener).

    Output (logfmt-ish, "TIME LVL message key=value..."):
        "Registered tunnel connection"           one connection up (4 in HA)
        "Unregistered tunnel connection",
        "Connection terminated", "Retrying connection",
        "Serve tunnel error"                     one down; cloudflared retries
        "Starting tunnel", "Initial protocol"    connecting
        "Unauthorized", "Invalid tunnel secret",
        "token is not valid", "not valid tunnel token"   refused: fatal
    An ERR line about one request (an origin that did not answer) says
    nothing about the tunnel and is ignored here.
*/
#include <stdio.h>
#include <string.h>
#include "provider.h"

static int
s_build (const tunnel_conf_t *conf, const tunnel_files_t *files, const char *secret,
         tunnel_cmd_t *cmd, char *err, size_t errlen)
{
    (void) conf;
    if (!secret || !*secret) {
        snprintf (err, errlen, "no cloudflared token is configured");
        return -1;
    }
    tunnel_cmd_arg (cmd, "%s", files->cloudflared_path);
    tunnel_cmd_arg (cmd, "tunnel");
    tunnel_cmd_arg (cmd, "--no-autoupdate");
    tunnel_cmd_arg (cmd, "run");
    tunnel_cmd_env (cmd, "PATH", "/usr/bin:/bin");
    tunnel_cmd_env (cmd, "HOME", files->dir);
    tunnel_cmd_env (cmd, "TUNNEL_TOKEN", secret);
    if (cmd->failed) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static const struct {
    const char   *needle;
    tunnel_line_t what;
    const char   *why;
} s_rules [] = {
    { "Unauthorized",                   TUNNEL_LINE_FATAL, "Cloudflare refused the tunnel token" },
    { "Invalid tunnel secret",          TUNNEL_LINE_FATAL, "Cloudflare refused the tunnel token" },
    { "token is not valid",             TUNNEL_LINE_FATAL, "the tunnel token is not valid" },
    { "not valid tunnel token",         TUNNEL_LINE_FATAL, "the tunnel token is not valid" },
    { "Unregistered tunnel connection", TUNNEL_LINE_DOWN,  "a tunnel connection was closed" },
    { "Registered tunnel connection",   TUNNEL_LINE_UP,    NULL },
    { "Connection terminated",          TUNNEL_LINE_DOWN,  "a tunnel connection was terminated" },
    { "Retrying connection",            TUNNEL_LINE_DOWN,  "cloudflared is retrying a connection" },
    { "Serve tunnel error",             TUNNEL_LINE_DOWN,  "a tunnel connection failed" },
    { "Starting tunnel",                TUNNEL_LINE_CONNECTING, NULL },
    { "Initial protocol",               TUNNEL_LINE_CONNECTING, NULL },
};

static tunnel_line_t
s_parse (const char *line, size_t len, char *why, size_t whylen)
{
    //  "Unregistered ..." contains "Registered ...": the table lists it first
    for (size_t i = 0; i < sizeof s_rules / sizeof s_rules [0]; i++)
        if (tunnel_has (line, len, s_rules [i].needle)) {
            if (s_rules [i].why && why && whylen)
                snprintf (why, whylen, "%s", s_rules [i].why);
            return s_rules [i].what;
        }
    return TUNNEL_LINE_NONE;
}

const tunnel_provider_t tunnel_provider_cloudflared = {
    .name         = "cloudflared",
    .build        = s_build,
    .parse        = s_parse,
    .needs_secret = true,
};
