/*  test_tunnel_parse.c — the tunnel client's output read as status
    (provider_ssh.c, provider_cloudflared.c), the bounded line assembler
    with its cleaning and token redaction (tunnel_line.c), and the
    validation of every configurable field (tunnel_conf.c), including the
    ssh command line a configuration becomes.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "provider.h"
#include "tunnel_conf.h"
#include "tunnel_line.h"

static tunnel_line_t
s_parse (const tunnel_provider_t *provider, const char *line, char *why)
{
    why [0] = '\0';
    return provider->parse (line, strlen (line), why, TUNNEL_WHY_MAX);
}

static void
test_ssh_lines (void **state)
{
    (void) state;
    const tunnel_provider_t *ssh = tunnel_provider_find ("ssh");
    assert_non_null (ssh);
    char why [TUNNEL_WHY_MAX];
    assert_int_equal (s_parse (ssh, "debug1: Connecting to 127.0.0.1 [127.0.0.1] port 2299.", why),
                      TUNNEL_LINE_CONNECTING);
    assert_int_equal (s_parse (ssh, "debug1: remote forward success for: listen 127.0.0.1:2300, "
                                    "connect 127.0.0.1:9999", why), TUNNEL_LINE_UP);
    assert_int_equal (s_parse (ssh, "Host key verification failed.", why), TUNNEL_LINE_FATAL);
    assert_non_null (strstr (why, "host key"));
    assert_int_equal (s_parse (ssh, "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
                               why), TUNNEL_LINE_FATAL);
    assert_int_equal (s_parse (ssh, "No ED25519 host key is known for mcpbox-tunnel and you have "
                                    "requested strict checking.", why), TUNNEL_LINE_FATAL);
    assert_int_equal (s_parse (ssh, "root@127.0.0.1: Permission denied (publickey).", why),
                      TUNNEL_LINE_FATAL);
    assert_non_null (strstr (why, "authorized_keys"));
    assert_int_equal (s_parse (ssh, "Error: remote port forwarding failed for listen port 80", why),
                      TUNNEL_LINE_FATAL);
    assert_int_equal (s_parse (ssh, "ssh: connect to host 127.0.0.1 port 1: Connection refused",
                               why), TUNNEL_LINE_DOWN);
    assert_int_equal (s_parse (ssh, "Timeout, server 10.0.0.1 not responding.", why),
                      TUNNEL_LINE_DOWN);
    assert_int_equal (s_parse (ssh, "debug1: channel 0: new [port listener]", why),
                      TUNNEL_LINE_NONE);
    assert_int_equal (s_parse (ssh, "", why), TUNNEL_LINE_NONE);
    //  text a server sends before it is verified cannot fake success
    assert_int_equal (s_parse (ssh, "debug1: Remote protocol version 2.0, remote software version "
                                    "debug1: remote forward success for: listen 1", why),
                      TUNNEL_LINE_NONE);
}

static void
test_cloudflared_lines (void **state)
{
    (void) state;
    const tunnel_provider_t *cf = tunnel_provider_find ("cloudflared");
    assert_non_null (cf);
    assert_true (cf->needs_secret);
    char why [TUNNEL_WHY_MAX];
    assert_int_equal (s_parse (cf, "2026-01-01T00:00:00Z INF Starting tunnel tunnelID=x", why),
                      TUNNEL_LINE_CONNECTING);
    assert_int_equal (s_parse (cf, "2026-01-01T00:00:00Z INF Registered tunnel connection "
                                   "connIndex=0 protocol=quic", why), TUNNEL_LINE_UP);
    //  "Unregistered" contains "Registered": it must read as down
    assert_int_equal (s_parse (cf, "2026-01-01T00:00:00Z INF Unregistered tunnel connection "
                                   "connIndex=0", why), TUNNEL_LINE_DOWN);
    assert_int_equal (s_parse (cf, "ERR Register tunnel error from server side error=\"Unauthorized: "
                                   "Invalid tunnel secret\"", why), TUNNEL_LINE_FATAL);
    assert_non_null (strstr (why, "token"));
    assert_int_equal (s_parse (cf, "2026-01-01T00:00:00Z ERR  error=\"Unable to reach the origin "
                                   "service\" connIndex=0", why), TUNNEL_LINE_NONE);
    assert_null (tunnel_provider_find ("none"));
    assert_null (tunnel_provider_find ("telnet"));
    assert_null (tunnel_provider_find (NULL));
}

typedef struct {
    char   lines [8][TUNNEL_LINE_MAX * 2 + 16];
    size_t count;
} s_lines_t;

static void
s_collect (const char *line, size_t len, void *arg)
{
    s_lines_t *got = arg;
    assert_int_equal (strlen (line), len);
    if (got->count < 8)
        strcpy (got->lines [got->count++], line);
}

static void
test_lines_bounded_cleaned_redacted (void **state)
{
    (void) state;
    tunnel_lines_t lines;
    tunnel_lines_reset (&lines);
    s_lines_t got = { .count = 0 };
    const char *token = "SECRETTOKEN0123456789";
    //  split across reads, CRLF, a control byte, a high byte, the token twice
    tunnel_lines_feed (&lines, "first par", 9, token, s_collect, &got);
    assert_int_equal (got.count, 0);
    static const char second [] = "t\r\nx\x1b[31m\xff y SECRETTOKEN0123456789 z "
                                  "SECRETTOKEN0123456789\n";
    tunnel_lines_feed (&lines, second, sizeof second - 1, token, s_collect, &got);
    assert_int_equal (got.count, 2);
    assert_string_equal (got.lines [0], "first part");
    assert_string_equal (got.lines [1], "x?[31m? y [REDACTED] z [REDACTED]");
    //  a line longer than the bound is cut and counted
    char big [TUNNEL_LINE_MAX * 3];
    memset (big, 'a', sizeof big);
    big [sizeof big - 1] = '\n';
    tunnel_lines_feed (&lines, big, sizeof big, NULL, s_collect, &got);
    assert_int_equal (got.count, 3);
    assert_int_equal (strlen (got.lines [2]), TUNNEL_LINE_MAX);
    assert_int_equal (lines.truncated, 1);
    assert_int_equal (lines.lines, 3);
    //  a line cut inside the token: its beginning is redacted too
    memset (big, 'b', sizeof big);
    memcpy (big + TUNNEL_LINE_MAX - 6, token, strlen (token));
    big [sizeof big - 1] = '\n';
    tunnel_lines_feed (&lines, big, sizeof big, token, s_collect, &got);
    assert_int_equal (got.count, 4);
    assert_null (strstr (got.lines [3], "SECRET"));
    assert_non_null (strstr (got.lines [3], "bbbb[REDACTED]"));
    got.count = 3;
    //  a last line without a newline comes out at the end
    tunnel_lines_feed (&lines, "tail", 4, NULL, s_collect, &got);
    assert_int_equal (got.count, 3);
    tunnel_lines_flush (&lines, NULL, s_collect, &got);
    assert_int_equal (got.count, 4);
    assert_string_equal (got.lines [3], "tail");
    tunnel_lines_flush (&lines, NULL, s_collect, &got);
    assert_int_equal (got.count, 4);
}

static void
test_conf_validation (void **state)
{
    (void) state;
    assert_true (tunnel_host_valid ("tunnel.example.org"));
    assert_true (tunnel_host_valid ("127.0.0.1"));
    assert_true (tunnel_host_valid ("fd00::1"));
    assert_false (tunnel_host_valid (""));
    assert_false (tunnel_host_valid ("-oProxyCommand=x"));
    assert_false (tunnel_host_valid ("a b"));
    assert_false (tunnel_host_valid ("host;id"));
    assert_true (tunnel_user_valid ("tunnel"));
    assert_true (tunnel_user_valid ("_svc-1.x"));
    assert_false (tunnel_user_valid ("-l"));
    assert_false (tunnel_user_valid ("Root"));
    assert_false (tunnel_user_valid ("a@b"));
    char out [TUNNEL_HOSTKEY_MAX + 1];
    assert_int_equal (tunnel_host_key_parse ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP5o comment here",
                                             out, sizeof out), 0);
    assert_string_equal (out, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP5o");
    assert_string_equal (tunnel_host_key_algorithms (out), "ssh-ed25519");
    assert_int_equal (tunnel_host_key_parse ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB\n", out,
                                             sizeof out), 0);
    assert_string_equal (tunnel_host_key_algorithms (out), "rsa-sha2-512,rsa-sha2-256");
    assert_int_equal (tunnel_host_key_parse ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", out, sizeof out), -1);
    assert_int_equal (tunnel_host_key_parse ("ssh-ed25519 short", out, sizeof out), -1);
    assert_int_equal (tunnel_host_key_parse ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP5o x\n"
                                             "* ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", out,
                                             sizeof out), -1);
    assert_int_equal (tunnel_host_key_parse ("ssh-ed25519", out, sizeof out), -1);
    assert_true (tunnel_token_valid ("eyJhIjoiYWJjIiwidCI6ImRlZiIsInMiOiJnaGkifQ==", 44));
    assert_false (tunnel_token_valid ("short", 5));
    assert_false (tunnel_token_valid ("eyJhIjoiYWJjIiwidCI6ImRlZiIsInMiOiJnaGkifQ= x", 46));
    assert_true (tunnel_target_valid ("127.0.0.1:8001"));
    assert_true (tunnel_target_valid ("[::1]:8001"));
    assert_true (tunnel_target_valid ("localhost:1"));
    assert_false (tunnel_target_valid ("127.0.0.1"));
    assert_false (tunnel_target_valid ("127.0.0.1:0"));
    assert_false (tunnel_target_valid ("127.0.0.1:65536"));
    assert_false (tunnel_target_valid ("::1:8001"));
    assert_false (tunnel_target_valid ("-x:80"));
}

static void
test_ssh_command_line (void **state)
{
    (void) state;
    tunnel_conf_t conf = { .provider = "ssh", .ssh_host = "tunnel.example.org", .ssh_port = 2222,
                           .ssh_user = "mcpbox", .ssh_remote_host = "localhost",
                           .ssh_remote_port = 8001 };
    strcpy (conf.ssh_host_key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP5o");
    tunnel_files_t files = { .ssh_path = "/usr/bin/ssh", .target = "127.0.0.1:8001",
                             .server_alive_s = 15, .dir = "/d/tunnel",
                             .key_path = "/d/tunnel/id_ed25519",
                             .known_hosts = "/d/tunnel/known_hosts" };
    tunnel_cmd_t cmd = { 0 };
    char err [128];
    assert_int_equal (tunnel_provider_ssh.build (&conf, &files, NULL, &cmd, err, sizeof err), 0);
    bool strict = false, batch = false, exit_fail = false, alive = false, forward = false;
    for (size_t i = 0; i < cmd.argc; i++) {
        strict    |= strcmp (cmd.argv [i], "StrictHostKeyChecking=yes") == 0;
        batch     |= strcmp (cmd.argv [i], "BatchMode=yes") == 0;
        exit_fail |= strcmp (cmd.argv [i], "ExitOnForwardFailure=yes") == 0;
        alive     |= strcmp (cmd.argv [i], "ServerAliveInterval=15") == 0;
        forward   |= strcmp (cmd.argv [i], "localhost:8001:127.0.0.1:8001") == 0;
        assert_null (strstr (cmd.argv [i], "accept-new"));
    }
    assert_true (strict && batch && exit_fail && alive && forward);
    //  the host comes last, after "--": never read as an option
    assert_string_equal (cmd.argv [cmd.argc - 2], "--");
    assert_string_equal (cmd.argv [cmd.argc - 1], "tunnel.example.org");
    assert_null (cmd.argv [cmd.argc]);
    tunnel_cmd_reset (&cmd);

    //  cloudflared: the token in the environment, never in argv
    strcpy (files.cloudflared_path, "/usr/bin/cloudflared");
    const char *token = "eyJhIjoiYWJjIiwidCI6ImRlZiIsInMiOiJnaGkifQ==";
    assert_int_equal (tunnel_provider_cloudflared.build (&conf, &files, token, &cmd, err,
                                                         sizeof err), 0);
    for (size_t i = 0; i < cmd.argc; i++)
        assert_null (strstr (cmd.argv [i], token));
    bool in_env = false;
    for (size_t i = 0; i < cmd.envc; i++)
        in_env |= strncmp (cmd.envp [i], "TUNNEL_TOKEN=", 13) == 0
               && strcmp (cmd.envp [i] + 13, token) == 0;
    assert_true (in_env);
    tunnel_cmd_reset (&cmd);
    assert_int_equal (tunnel_provider_cloudflared.build (&conf, &files, NULL, &cmd, err,
                                                         sizeof err), -1);
    tunnel_cmd_reset (&cmd);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ssh_lines),
        cmocka_unit_test (test_cloudflared_lines),
        cmocka_unit_test (test_lines_bounded_cleaned_redacted),
        cmocka_unit_test (test_conf_validation),
        cmocka_unit_test (test_ssh_command_line),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
