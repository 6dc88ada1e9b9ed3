/*  cmd_policy.c — `mcpbox policy show|set|profile`: the security policy
    the approval service keeps (docs/BUS_OPS.md, approval: policy.*).

        show                 policy.get: every setting and the profile they
                             match ("custom" when none)
        set KEY VALUE        policy.set; VALUE goes as an integer when it is
                             one (log_retention_days, mcp_rate_limit_rpm),
                             else as text
        profile NAME         policy.profile: strict, balanced or permissive

    changed_by is "admin@cli:<unix user>". The service checks keys and
    values and says what is wrong. --json prints its reply as it is.
    Exit 0 done, 1 refused or MCPbox not running, 2 usage.
*/
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define S_NAME "policy"

static int
s_usage_error (const char *message, const char *detail)
{
    fprintf (stderr, "mcpbox " S_NAME ": %s%s%s\n(see mcpbox " S_NAME " --help)\n",
             message, detail ? ": " : "", detail ? detail : "");
    return CLI_EXIT_USAGE;
}

//  Is text a decimal integer that fits? Sets *value.
static bool
s_integer (const char *text, int64_t *value)
{
    const char *digits = *text == '-' ? text + 1 : text;
    if (!*digits || strlen (digits) > 18)
        return false;
    for (const char *p = digits; *p; p++)
        if (!isdigit ((unsigned char) *p))
            return false;
    errno = 0;
    long long parsed = strtoll (text, NULL, 10);
    if (errno)
        return false;
    *value = parsed;
    return true;
}

static void
s_print_settings (json_t *settings)
{
    static const char *headers [] = { "SETTING", "VALUE" };
    cli_table_t *table = cli_table_new (2, headers, NULL);
    if (!table)
        return;
    const char *key;
    json_t *value;
    json_object_foreach (settings, key, value) {
        char text [64];
        if (json_is_integer (value))
            snprintf (text, sizeof text, "%lld", (long long) json_integer_value (value));
        else
        if (json_is_string (value))
            snprintf (text, sizeof text, "%s", json_string_value (value));
        else
            snprintf (text, sizeof text, "?");
        const char *cells [] = { key, text };
        cli_table_add (table, cells);
    }
    cli_table_print (table, stdout, 2);
    cli_table_destroy (&table);
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : "show";
    int wanted = strcmp (action, "show") == 0 ? 2
               : strcmp (action, "set") == 0 ? 4
               : strcmp (action, "profile") == 0 ? 3 : -1;
    if (wanted < 0)
        return s_usage_error ("unknown action (show, set, profile)", action);
    if (argc > 1 && argc != wanted)
        return s_usage_error (wanted == 4 ? "set takes KEY and VALUE"
                            : wanted == 3 ? "profile takes NAME "
                                            "(strict, balanced or permissive)"
                                          : "show takes no argument", NULL);
    char who [96];
    cli_admin_identity (who, sizeof who);
    msgw_t *body = msgw_new ();
    char what [160];
    if (wanted == 2) {
        msgw_map (body, 1);
        msgw_kv_str (body, "op", "policy.get");
        snprintf (what, sizeof what, "cannot read the policy");
    }
    else
    if (wanted == 4) {
        const char *key = config_argv (config, 2);
        const char *text = config_argv (config, 3);
        if (!*key) {
            msgw_destroy (&body);
            return s_usage_error ("KEY must not be empty", NULL);
        }
        int64_t number;
        msgw_map (body, 4);
        msgw_kv_str (body, "op", "policy.set");
        msgw_kv_str (body, "key", key);
        if (s_integer (text, &number))
            msgw_kv_int (body, "value", number);
        else
            msgw_kv_str (body, "value", text);
        msgw_kv_str (body, "changed_by", who);
        snprintf (what, sizeof what, "cannot set %.64s", key);
    }
    else {
        msgw_map (body, 3);
        msgw_kv_str (body, "op", "policy.profile");
        msgw_kv_str (body, "name", config_argv (config, 2));
        msgw_kv_str (body, "changed_by", who);
        snprintf (what, sizeof what, "cannot apply profile %.32s", config_argv (config, 2));
    }

    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus) {
        msgw_destroy (&body);
        return CLI_EXIT_FAIL;
    }
    json_t *reply = cli_bus_request (bus, "approval", body, what);
    msgw_destroy (&body);
    cli_bus_close (&bus);
    if (!reply)
        return CLI_EXIT_FAIL;

    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (reply);
    else {
        json_t *settings = json_object_get (reply, "settings");
        if (wanted == 2) {
            const char *profile = cli_jstr (reply, "profile");
            printf ("Profile: %s\n\n", *profile ? profile : "?");
        }
        else
        if (wanted == 4) {
            char *key = cli_text_clean (config_argv (config, 2), 64, true);
            printf ("Set %s (by %s). The policy is now:\n\n", key ? key : "", who);
            free (key);
        }
        else {
            char *name = cli_text_clean (config_argv (config, 2), 32, true);
            printf ("Applied profile %s (by %s). The policy is now:\n\n",
                    name ? name : "", who);
            free (name);
        }
        s_print_settings (settings);
        fflush (stdout);
    }
    json_decref (reply);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print one JSON object instead of a table", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_policy = {
    .name     = S_NAME,
    .summary  = "show or change the security policy",
    .usage    = "usage: mcpbox policy show [--json]\n"
                "       mcpbox policy set KEY VALUE [--json]\n"
                "       mcpbox policy profile strict|balanced|permissive [--json]\n\n"
                "Settings: remote_tool_editing disabled|enabled, tool_approval_mode\n"
                "require_approval|auto_approve, network_access_policy\n"
                "require_approval|allow_all_public, module_approval_mode\n"
                "require_approval|auto_approve, redact_secrets_in_output\n"
                "enabled|disabled, log_retention_days 1-3650, mcp_rate_limit_rpm\n"
                "10-10000. Changes are recorded as made by admin@cli:<your user\n"
                "name>. Exit 0 done, 1 refused or MCPbox not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 3,
};
