/*  cmd_import.c — `mcpbox import FILE [--trust-approvals] [--allow-foreign]`:
    the backup service's import (docs/BUS_OPS.md, backup). The file is
    read here (at most BACKUP_FILE_MAX bytes) and sent whole; the service
    checks its signature with credentials before anything is written.
    Prints what was imported and every warning. Exit 0 complete, 1
    refused, failed part-way (the report says what was imported) or MCPbox
    not running, 2 usage.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup_limits.h"
#include "cli.h"

#define S_NAME "import"

//  The whole file, malloc'd; NULL with a message printed.
static char *
s_read (const char *path, size_t *size)
{
    FILE *f = strcmp (path, "-") == 0 ? stdin : fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "mcpbox " S_NAME ": cannot open %s: %s\n", path, strerror (errno));
        return NULL;
    }
    char *data = malloc (BACKUP_FILE_MAX + 1);
    size_t n = data ? fread (data, 1, BACKUP_FILE_MAX + 1, f) : 0;
    bool failed = !data || ferror (f);
    if (f != stdin)
        fclose (f);
    if (failed || n > BACKUP_FILE_MAX) {
        fprintf (stderr, "mcpbox " S_NAME ": %s: %s\n", path, failed ? "cannot read it"
                 : "larger than an export file can be (7 MiB)");
        free (data);
        return NULL;
    }
    *size = n;
    return data;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    if (config_argc (config) != 2) {
        fprintf (stderr, "mcpbox " S_NAME ": name the file to import (see mcpbox " S_NAME
                 " --help)\n");
        return CLI_EXIT_USAGE;
    }
    size_t size = 0;
    char *data = s_read (config_argv (config, 1), &size);
    if (!data)
        return CLI_EXIT_FAIL;
    char who [128];
    cli_admin_identity (who, sizeof who);
    msgw_t *body = msgw_new ();
    msgw_map (body, 5);
    msgw_kv_str (body, "op", "import");
    msgw_str (body, "file");
    msgw_strn (body, data, size);
    free (data);
    msgw_kv_str (body, "imported_by", who);
    msgw_kv_bool (body, "trust_approvals", config_bool (config, "trust_approvals"));
    msgw_kv_bool (body, "allow_foreign", config_bool (config, "allow_foreign"));
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus) {
        msgw_destroy (&body);
        return CLI_EXIT_FAIL;
    }
    cli_call_t call = { .service = "backup", .body = body, .timeout_ms = 120000 };
    int rc = CLI_EXIT_OK;
    if (cli_bus_run (bus, &call, 1))
        rc = cli_bus_report (bus, &call, "import refused, nothing was imported");
    msgw_destroy (&body);
    cli_bus_close (&bus);
    if (rc != CLI_EXIT_OK)
        return rc;
    const json_t *reply = call.reply;
    bool complete = json_is_true (json_object_get (reply, "complete"));
    if (json)
        rc = cli_json_print (reply);
    else {
        const json_t *n = json_object_get (reply, "imported");
        printf ("imported %lld servers, %lld tools, %lld versions, %lld approvals, "
                "%lld modules, %lld hosts, %lld settings, %lld secret placeholders\n",
                (long long) cli_jint (n, "servers", 0), (long long) cli_jint (n, "tools", 0),
                (long long) cli_jint (n, "versions", 0), (long long) cli_jint (n, "approvals", 0),
                (long long) cli_jint (n, "modules", 0), (long long) cli_jint (n, "hosts", 0),
                (long long) cli_jint (n, "settings", 0), (long long) cli_jint (n, "secrets", 0));
        size_t i;
        const json_t *item;
        json_array_foreach (json_object_get (reply, "servers"), i, item)
            printf ("  server %s  %s\n", cli_jstr (item, "name"), cli_jstr (item, "id"));
        json_array_foreach (json_object_get (reply, "warnings"), i, item)
            fprintf (stderr, "warning: %s\n", json_string_value (item));
    }
    if (!complete) {
        const json_t *error = json_object_get (reply, "error");
        fprintf (stderr, "mcpbox " S_NAME ": the %s step failed: %s (%s); what is listed "
                 "above was imported\n", cli_jstr (reply, "failed_step"),
                 cli_jstr (error, "message"), cli_jstr (error, "code"));
        rc = CLI_EXIT_FAIL;
    }
    cli_call_reset (&call);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "trust_approvals", .type = CONFIG_BOOL, .flag_only = true,
      .help = "carry approvals, allowed modules/hosts and the policy over (only for a "
              "file signed by this installation)" },
    { .key = "allow_foreign", .type = CONFIG_BOOL, .flag_only = true,
      .help = "import a file signed by another installation, with nothing approved" },
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print the service's report as JSON", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_import = {
    .name     = S_NAME,
    .summary  = "restore servers and tools from an export file",
    .usage    = "usage: mcpbox import FILE [--trust-approvals] [--allow-foreign]\n\n"
                "Checks the file's signature first: a changed file is refused and\n"
                "nothing is imported. Imported tools are drafts and allowed modules\n"
                "and hosts pending requests, unless --trust-approvals is given for a\n"
                "file signed by this installation. A server whose name exists refuses\n"
                "the import. Secret values are never in a file: set them again.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 1,
};
