/*  cmd_export.c — `mcpbox export [--servers a,b] > file.json`: the backup
    service's export (docs/BUS_OPS.md, backup): servers, tools with every
    version, approvals, allowed modules and hosts, secret placeholders
    (keys only, never values) and the policy, signed with this
    installation's key (docs/SECURITY.md, "Export files"). The file goes
    to stdout (or --out FILE, written 0600), a summary to stderr.
    Exit 0 done, 1 refused or MCPbox not running, 2 usage.
*/
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backup_limits.h"
#include "cli.h"

#define S_NAME "export"

static int
s_write_all (int fd, const char *data, size_t size)
{
    while (size) {
        ssize_t n = write (fd, data, size);
        if (n <= 0)
            return -1;
        data += n;
        size -= (size_t) n;
    }
    return 0;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    const char *servers = config_str (config, "servers");
    const char *out = config_str (config, "out");
    msgw_t *body = msgw_new ();
    size_t names = 0;
    char list [4096] = "";
    if (servers && *servers) {
        if (strlen (servers) >= sizeof list) {
            fprintf (stderr, "mcpbox " S_NAME ": --servers is too long\n");
            msgw_destroy (&body);
            return CLI_EXIT_USAGE;
        }
        snprintf (list, sizeof list, "%s", servers);
        names = 1;
        for (const char *p = list; *p; p++)
            names += *p == ',';
    }
    msgw_map (body, names ? 2 : 1);
    msgw_kv_str (body, "op", "export");
    if (names) {
        msgw_str (body, "servers");
        msgw_array (body, names);
        char *save = NULL;
        size_t packed = 0;
        for (char *name = strtok_r (list, ",", &save); name; name = strtok_r (NULL, ",", &save)) {
            msgw_str (body, name);
            packed++;
        }
        if (packed != names) {
            fprintf (stderr, "mcpbox " S_NAME ": --servers takes names separated by commas\n");
            msgw_destroy (&body);
            return CLI_EXIT_USAGE;
        }
    }
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus) {
        msgw_destroy (&body);
        return CLI_EXIT_FAIL;
    }
    cli_call_t call = { .service = "backup", .body = body, .timeout_ms = 60000 };
    int rc = CLI_EXIT_OK;
    if (cli_bus_run (bus, &call, 1))
        rc = cli_bus_report (bus, &call, "cannot export");
    msgw_destroy (&body);
    cli_bus_close (&bus);
    if (rc != CLI_EXIT_OK)
        return rc;
    const json_t *file = json_object_get (call.reply, "file");
    int fd = STDOUT_FILENO;
    if (out && *out)
        fd = open (out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (!json_is_string (file) || fd < 0
    ||  s_write_all (fd, json_string_value (file), json_string_length (file)) != 0) {
        fprintf (stderr, "mcpbox " S_NAME ": cannot write the file%s%s\n",
                 out ? " " : "", out ? out : "");
        rc = CLI_EXIT_FAIL;
    }
    if (fd >= 0 && fd != STDOUT_FILENO && close (fd) != 0)
        rc = CLI_EXIT_FAIL;
    if (rc == CLI_EXIT_OK)
        fprintf (stderr, "exported %lld servers, %lld tools, %lld versions (%lld bytes, "
                 "key %s)%s\n", (long long) cli_jint (call.reply, "servers", 0),
                 (long long) cli_jint (call.reply, "tools", 0),
                 (long long) cli_jint (call.reply, "versions", 0),
                 (long long) cli_jint (call.reply, "size", 0), cli_jstr (call.reply, "key_id"),
                 cli_jint (call.reply, "skipped_tools", 0)
                     ? "; tools of external sources are not exported" : "");
    cli_call_reset (&call);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "servers", .type = CONFIG_STR,
      .help = "export only these servers (names, separated by commas)", .flag_only = true },
    { .key = "out", .type = CONFIG_STR,
      .help = "write the file here (mode 0600) instead of stdout", .flag_only = true },
    { .key = "json", .type = CONFIG_BOOL,
      .help = "errors as JSON", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_export = {
    .name     = S_NAME,
    .summary  = "write a signed export of servers, tools, approvals and policy",
    .usage    = "usage: mcpbox export [--servers a,b] [--out FILE] > file.json\n\n"
                "Servers, tools with every version, approvals, allowed modules and\n"
                "hosts, secret placeholders (never a value) and the policy, signed\n"
                "with this installation's key. Restore with mcpbox import.",
    .options  = s_options,
    .run      = s_run,
};
