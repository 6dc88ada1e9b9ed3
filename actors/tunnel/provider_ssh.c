/*  provider_ssh.c — an OpenSSH reverse tunnel: `ssh -N -R`.

    The server's host key is pinned: the actor writes DATA/tunnel/known_hosts
    with the configured key under the alias "mcpbox-tunnel" (HostKeyAlias,
    so the name or port used to reach the server does not matter), and ssh
    runs with StrictHostKeyChecking=yes — a server whose key differs, or
    that offers none of the pinned type, is refused, never learnt
    (accept-new would trust whoever answers first). The client key is the
    actor's own (sshkey.c), IdentitiesOnly, no agent. BatchMode: never a
    prompt. ExitOnForwardFailure: a remote port the server will not bind is
    a failure, not a session that forwards nothing. -F /dev/null: no
    ~/.ssh/config or /etc/ssh/ssh_config option (a ProxyCommand, a
    LocalCommand) reaches this process. -v is what reports the forward.

    Output lines that matter (OpenSSH 9.x, -v):
        "debug1: Connecting to"                      connecting (line start)
        "debug1: remote forward success for: listen" up (line start only: the
                                                     server's version string is
                                                     printed before it is verified)
        "Host key verification failed",
        "REMOTE HOST IDENTIFICATION HAS CHANGED",
        "No * host key is known"                      fatal: host key
        "Permission denied ("                         fatal: our key refused
        "remote port forwarding failed"              fatal: forward refused
        "Connection refused", "Connection timed out",
        "Could not resolve hostname", "Connection closed",
        "Timeout, server", "Broken pipe"             down (retried with backoff)
*/
#include <stdio.h>
#include <string.h>
#include "provider.h"

static int
s_build (const tunnel_conf_t *conf, const tunnel_files_t *files, const char *secret,
         tunnel_cmd_t *cmd, char *err, size_t errlen)
{
    (void) secret;
    const char *algorithms = tunnel_host_key_algorithms (conf->ssh_host_key);
    if (!algorithms) {
        snprintf (err, errlen, "the pinned host key is not usable");
        return -1;
    }
    //  target "host:port" or "[v6]:port" -> the -R spec's host and port
    const char *colon = strrchr (files->target, ':');
    if (!colon) {
        snprintf (err, errlen, "tunnel_target is not host:port");
        return -1;
    }
    int host_len = (int) (colon - files->target);
    tunnel_cmd_arg (cmd, "%s", files->ssh_path);
    tunnel_cmd_arg (cmd, "-F");
    tunnel_cmd_arg (cmd, "/dev/null");
    tunnel_cmd_arg (cmd, "-v");
    tunnel_cmd_arg (cmd, "-N");
    tunnel_cmd_arg (cmd, "-T");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "BatchMode=yes");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "StrictHostKeyChecking=yes");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "UserKnownHostsFile=%s", files->known_hosts);
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "GlobalKnownHostsFile=/dev/null");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "HostKeyAlias=mcpbox-tunnel");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "HostKeyAlgorithms=%s", algorithms);
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "CheckHostIP=no");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "UpdateHostKeys=no");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "IdentitiesOnly=yes");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "IdentityAgent=none");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "IdentityFile=%s", files->key_path);
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "PasswordAuthentication=no");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "KbdInteractiveAuthentication=no");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "ExitOnForwardFailure=yes");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "ServerAliveInterval=%d", files->server_alive_s);
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "ServerAliveCountMax=3");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "ConnectTimeout=15");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "ControlMaster=no");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "ControlPath=none");
    tunnel_cmd_arg (cmd, "-o");
    tunnel_cmd_arg (cmd, "PermitLocalCommand=no");
    tunnel_cmd_arg (cmd, "-p");
    tunnel_cmd_arg (cmd, "%d", conf->ssh_port);
    tunnel_cmd_arg (cmd, "-R");
    //  [bind]:port:host:port; a v6 remote host goes in brackets
    bool v6 = strchr (conf->ssh_remote_host, ':') != NULL;
    tunnel_cmd_arg (cmd, "%s%s%s:%d:%.*s:%s", v6 ? "[" : "", conf->ssh_remote_host,
                    v6 ? "]" : "", conf->ssh_remote_port, host_len, files->target, colon + 1);
    tunnel_cmd_arg (cmd, "-l");
    tunnel_cmd_arg (cmd, "%s", conf->ssh_user);
    tunnel_cmd_arg (cmd, "--");
    tunnel_cmd_arg (cmd, "%s", conf->ssh_host);
    tunnel_cmd_env (cmd, "PATH", "/usr/bin:/bin");
    tunnel_cmd_env (cmd, "HOME", files->dir);
    if (cmd->failed) {
        snprintf (err, errlen, "the ssh command line does not fit");
        return -1;
    }
    return 0;
}

static const struct {
    const char   *needle;
    tunnel_line_t what;
    const char   *why;
    bool          prefix;       //  must begin the line (text a server sends
                                //  before it is verified, such as its
                                //  version string, must not fake success)
} s_rules [] = {
    { "debug1: remote forward success for: listen", TUNNEL_LINE_UP, NULL, true },
    { "REMOTE HOST IDENTIFICATION HAS CHANGED", TUNNEL_LINE_FATAL,
      "the server's host key does not match the pinned key", false },
    { "Host key verification failed",   TUNNEL_LINE_FATAL,
      "host key verification failed: the server's key is not the pinned key", false },
    { "host key is known for",          TUNNEL_LINE_FATAL,
      "the server offered no key of the pinned type", false },
    { "no matching host key type found", TUNNEL_LINE_FATAL,
      "the server offered no key of the pinned type", false },
    { "Permission denied (",            TUNNEL_LINE_FATAL,
      "the server refused our key (is the tunnel's public key in its authorized_keys?)", false },
    { "remote port forwarding failed",  TUNNEL_LINE_FATAL,
      "the server refused the remote port forward", false },
    { "Could not resolve hostname",     TUNNEL_LINE_DOWN, "the ssh host name does not resolve", false },
    { "Connection refused",             TUNNEL_LINE_DOWN, "the ssh server refused the connection", false },
    { "Connection timed out",           TUNNEL_LINE_DOWN, "the ssh connection timed out", false },
    { "Timeout, server",                TUNNEL_LINE_DOWN, "the ssh server stopped answering", false },
    { "Connection closed",              TUNNEL_LINE_DOWN, "the ssh server closed the connection", false },
    { "Connection reset",               TUNNEL_LINE_DOWN, "the ssh connection was reset", false },
    { "Broken pipe",                    TUNNEL_LINE_DOWN, "the ssh connection broke", false },
    { "debug1: Connecting to ",         TUNNEL_LINE_CONNECTING, NULL, true },
};

static tunnel_line_t
s_parse (const char *line, size_t len, char *why, size_t whylen)
{
    for (size_t i = 0; i < sizeof s_rules / sizeof s_rules [0]; i++) {
        size_t n = strlen (s_rules [i].needle);
        bool hit = s_rules [i].prefix ? len >= n && memcmp (line, s_rules [i].needle, n) == 0
                                      : tunnel_has (line, len, s_rules [i].needle);
        if (hit) {
            if (s_rules [i].why && why && whylen)
                snprintf (why, whylen, "%s", s_rules [i].why);
            return s_rules [i].what;
        }
    }
    return TUNNEL_LINE_NONE;
}

const tunnel_provider_t tunnel_provider_ssh = {
    .name         = "ssh",
    .build        = s_build,
    .parse        = s_parse,
    .needs_secret = false,
};
