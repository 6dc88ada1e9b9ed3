/*  cmd_sources.c — `mcpbox sources list [--server ID] [--json]`: the
    external MCP sources of one server (or of every server) with their
    health, from the registry's `source.list` (docs/BUS_OPS.md, registry),
    and the OAuth state of the oauth ones from credentials'
    `source_oauth.status` (never a secret).

    Prints a table (id, server, name, transport, auth, status, tools, last
    contact, last error) or, with --json, {"sources": [...], "total": n}.

    `mcpbox sources authorize ID` begins an OAuth source's authorization:
    the source (registry source.get) and its server's rules (approval
    effective) make the sandbox `source` job {action: oauth_begin}
    (common/source_oauth_job.h, the same the dashboard's route sends), with
    the gateway's callback URL built from the same configuration the
    gateway reads (oauth_source_redirect); it prints the URL to open.
    Exit 0 done, 1 the registry failed or MCPbox is not running, 2 usage.
*/
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json_msgpack.h"
#include "oauth_uri.h"
#include "source_oauth_job.h"

#define S_NAME  "sources"

//  Appends server_id's sources (each with server_name) to all. 0 or -1.
static int
s_list_server (cli_bus_t *bus, const char *server_id, json_t *all, cli_call_t *failed)
{
    msgw_t *body = msgw_new ();
    msgw_map (body, 2);
    msgw_kv_str (body, "op", "source.list");
    msgw_kv_str (body, "server_id", server_id);
    cli_call_t call = { .service = "registry", .body = body, .timeout_ms = CLI_BUS_TIMEOUT_MS };
    cli_bus_run (bus, &call, 1);
    msgw_destroy (&body);
    if (call.code != BUS_ERR_NONE) {
        call.body = NULL;
        *failed = call;
        return -1;
    }
    size_t i;
    json_t *source;
    json_array_foreach (json_object_get (call.reply, "sources"), i, source) {
        json_object_set_new (source, "server_name",
                             json_string (cli_jstr (call.reply, "server_name")));
        json_array_append (all, source);
    }
    cli_call_reset (&call);
    return 0;
}

//  Each oauth source gets "oauth": {state, expires_at_ms?, last_error?}
//  from credentials; left out (with a note once) when credentials cannot say.
static void
s_oauth_status (cli_bus_t *bus, json_t *sources, bool json)
{
    json_t *ids = json_array ();
    size_t i;
    json_t *source;
    json_array_foreach (sources, i, source)
        if (cli_jstr (source, "auth_type") && strcmp (cli_jstr (source, "auth_type"), "oauth") == 0)
            json_array_append (ids, json_object_get (source, "id"));
    if (json_array_size (ids) == 0) {
        json_decref (ids);
        return;
    }
    json_t *ask = json_pack ("{s:s, s:o}", "op", "source_oauth.status", "source_ids", ids);
    msgw_t *body = msgw_new ();
    msgw_json (body, ask);
    json_decref (ask);
    cli_call_t call = { .service = "credentials", .body = body,
                        .timeout_ms = CLI_BUS_TIMEOUT_MS };
    cli_bus_run (bus, &call, 1);
    msgw_destroy (&body);
    json_t *states = json_object_get (call.reply, "sources");
    if (call.code != BUS_ERR_NONE && !json)
        fprintf (stderr, "mcpbox " S_NAME ": the OAuth state is not shown: credentials "
                 "answered %s\n", bus_error_name (call.code));
    json_array_foreach (sources, i, source) {
        json_t *state = json_object_get (states, cli_jstr (source, "id") ? cli_jstr (source, "id")
                                                                        : "");
        if (json_is_object (state))
            json_object_set (source, "oauth", state);
    }
    cli_call_reset (&call);
}

//  The callback URL the running gateway wrote (DATA/run/source_oauth_redirect),
//  checked as configuration would be. 0, or -1 (absent, unreadable, malformed).
static int
s_running_redirect (cli_bus_t *bus, char *out, size_t outlen)
{
    char path [PATHS_MAX + 64], text [OAUTH_URI_MAX + 2] = "", why [256];
    snprintf (path, sizeof path, "%s/run/" SOURCE_OAUTH_REDIRECT_FILE, cli_bus_data_dir (bus));
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1)
        return -1;
    ssize_t got = read (fd, text, sizeof text - 1);
    close (fd);
    text [got > 0 ? got : 0] = 0;
    text [strcspn (text, "\n")] = 0;
    return oauth_source_redirect (text, NULL, 0, out, outlen, why, sizeof why);
}

//  `authorize ID`: the authorization URL, printed. An exit code.
static int
s_authorize (config_t *config, const char *source_id, bool json)
{
    char redirect [OAUTH_URI_MAX + 1], why [256];
    if (!cli_uuid_valid (source_id)) {
        fprintf (stderr, "mcpbox " S_NAME ": '%s' is not a source id (see mcpbox sources "
                 "list)\n", source_id);
        return CLI_EXIT_USAGE;
    }
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    //  the running gateway's own URL, else the one the configuration gives
    if (s_running_redirect (bus, redirect, sizeof redirect) != 0
    &&  oauth_source_redirect (config_str (config, "source_oauth_redirect_url"),
                               config_str (config, "http_host"),
                               (int) config_int (config, "http_port"),
                               redirect, sizeof redirect, why, sizeof why) != 0) {
        fprintf (stderr, "mcpbox " S_NAME ": %s\n", why);
        cli_bus_close (&bus);
        return CLI_EXIT_USAGE;
    }
    msgw_t *body = msgw_new ();
    msgw_map (body, 2);
    msgw_kv_str (body, "op", "source.get");
    msgw_kv_str (body, "source_id", source_id);
    json_t *got = cli_bus_request (bus, "registry", body, "cannot read the source");
    msgw_destroy (&body);
    json_t *effective = NULL;
    if (got) {
        body = msgw_new ();
        msgw_map (body, 1);
        msgw_kv_str (body, "op", "effective");
        effective = cli_bus_request (bus, "approval", body, "cannot read the server's rules");
        msgw_destroy (&body);
    }
    int rc = CLI_EXIT_FAIL;
    const char *fault = NULL;
    json_t *job = got && effective
                ? source_oauth_job (json_object_get (got, "source"), effective, "oauth_begin",
                                    &fault) : NULL;
    if (got && effective && !job)
        fprintf (stderr, "mcpbox " S_NAME ": %s\n", fault);
    json_t *answer = NULL;
    if (job) {
        const char *metadata = config_str (config, "source_oauth_client_metadata_url");
        json_object_set_new (job, "op", json_string ("source"));
        json_object_set_new (job, "redirect_uri", json_string (redirect));
        if (metadata && *metadata)
            json_object_set_new (job, "client_metadata_url", json_string (metadata));
        body = msgw_new ();
        msgw_json (body, job);
        cli_call_t call = { .service = "sandbox", .body = body,
                            .timeout_ms = SOURCE_OAUTH_TIMEOUT_MS + 5000 };
        cli_bus_run (bus, &call, 1);
        msgw_destroy (&body);
        if (call.code != BUS_ERR_NONE) {
            call.body = NULL;
            cli_bus_report (bus, &call, "cannot begin the authorization");
        }
        else
            answer = json_incref (call.reply);
        cli_call_reset (&call);
    }
    if (answer && !json_is_true (json_object_get (answer, "success"))) {
        const char *message = cli_jstr (json_object_get (answer, "error"), "message");
        fprintf (stderr, "mcpbox " S_NAME ": the authorization could not begin: %s\n",
                 message ? message : "no reason given");
        if (json) {
            json_t *out = json_pack ("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code",
                                     "source_error", "message", message ? message : "");
            cli_json_print (out);
            json_decref (out);
        }
    }
    else
    if (answer) {
        const char *url = cli_jstr (answer, "authorization_url");
        rc = CLI_EXIT_OK;
        if (json) {
            json_t *out = json_pack ("{s:s, s:s, s:s?}", "authorization_url", url ? url : "",
                                     "redirect_uri", redirect, "registration",
                                     cli_jstr (answer, "registration"));
            rc = out ? cli_json_print (out) : CLI_EXIT_FAIL;
            json_decref (out);
        }
        else {
            printf ("Open this URL in a browser and approve MCPbox's access:\n\n  %s\n\n"
                    "The authorization server then sends the browser back to\n  %s\n"
                    "(MCPbox's dashboard address: the browser must reach it), which\n"
                    "finishes the authorization. The link is good for 10 minutes, once.\n"
                    "Then `mcpbox sources list` shows the source as authorized.\n",
                    url ? url : "", redirect);
        }
    }
    json_decref (answer);
    json_decref (job);
    json_decref (effective);
    json_decref (got);
    cli_bus_close (&bus);
    return rc;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    const char *server = config_str (config, "server");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : "list";
    if (strcmp (action, "authorize") == 0) {
        if (argc != 3) {
            fprintf (stderr, "mcpbox " S_NAME ": authorize takes one source id\n"
                     "(see mcpbox " S_NAME " --help)\n");
            return CLI_EXIT_USAGE;
        }
        return s_authorize (config, config_argv (config, 2), json);
    }
    if (strcmp (action, "list") != 0 || argc > 2) {
        fprintf (stderr, "mcpbox " S_NAME ": unknown action '%s' (list, authorize)\n"
                 "(see mcpbox " S_NAME " --help)\n",
                 strcmp (action, "list") != 0 ? action : config_argv (config, 2));
        return CLI_EXIT_USAGE;
    }
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    cli_call_t failed = { 0 };
    json_t *sources = json_array ();
    int step = 0;
    if (server && *server)
        step = s_list_server (bus, server, sources, &failed);
    else {
        json_t *servers = cli_servers_all (bus, CLI_BUS_TIMEOUT_MS, &failed);
        size_t i;
        json_t *item;
        step = servers ? 0 : -1;
        json_array_foreach (servers, i, item) {
            if ((step = s_list_server (bus, cli_jstr (item, "id"), sources, &failed)))
                break;
        }
        json_decref (servers);
    }
    if (step) {
        int rc = cli_bus_report (bus, &failed, "cannot list sources");
        cli_call_reset (&failed);
        cli_bus_close (&bus);
        json_decref (sources);
        return rc;
    }
    s_oauth_status (bus, sources, json);
    cli_bus_close (&bus);
    int rc = CLI_EXIT_OK;
    if (json) {
        json_t *output = json_pack ("{s:O, s:I}", "sources", sources,
                                    "total", (json_int_t) json_array_size (sources));
        rc = output ? cli_json_print (output) : CLI_EXIT_FAIL;
        json_decref (output);
    }
    else {
        size_t count = json_array_size (sources);
        printf ("Sources: %zu\n", count);
        static const char *headers [] = {
            "ID", "SERVER", "NAME", "TRANSPORT", "AUTH", "STATUS", "TOOLS", "CONTACT",
            "LAST ERROR"
        };
        static const size_t widths [] = { 0, 32, 40, 0, 0, 0, 0, 0, 60 };
        cli_table_t *table = count ? cli_table_new (9, headers, widths) : NULL;
        size_t index;
        json_t *source;
        json_array_foreach (sources, index, source) {
            if (!table)
                break;
            char tools [24], contact [16] = "never", auth [48];
            const char *oauth = cli_jstr (json_object_get (source, "oauth"), "state");
            snprintf (auth, sizeof auth, "%s%s%s%s", cli_jstr (source, "auth_type"),
                      oauth ? " (" : "", oauth ? oauth : "", oauth ? ")" : "");
            snprintf (tools, sizeof tools, "%lld", (long long) cli_jint (source, "tool_count", 0));
            if (cli_jstr (source, "last_contact_at") && *cli_jstr (source, "last_contact_at"))
                cli_age (cli_jstr (source, "last_contact_at"), contact, sizeof contact);
            const char *cells [] = {
                cli_jstr (source, "id"), cli_jstr (source, "server_name"),
                cli_jstr (source, "name"), cli_jstr (source, "transport_type"),
                auth, cli_jstr (source, "status"), tools, contact,
                cli_jstr (source, "last_error")
            };
            cli_table_add (table, cells);
        }
        if (table) {
            putchar ('\n');
            cli_table_print (table, stdout, 0);
        }
        cli_table_destroy (&table);
        fflush (stdout);
    }
    json_decref (sources);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print one JSON object instead of a table", .flag_only = true },
    { .key = "server", .type = CONFIG_STR, .default_value = "",
      .help = "only this server's sources (its id)", .flag_only = true },
    //  the gateway's, read the same way to build the same callback URL
    { .key = "http_host", .type = CONFIG_STR, .default_value = "127.0.0.1",
      .help = "authorize: the gateway's HTTP address (for the callback URL)" },
    { .key = "http_port", .type = CONFIG_INT, .default_value = "8000", .min = 1, .max = 65535,
      .help = "authorize: the gateway's HTTP port (for the callback URL)" },
    { .key = "source_oauth_redirect_url", .type = CONFIG_STR, .default_value = "",
      .help = "authorize: the callback URL, when the dashboard is reached under another name" },
    { .key = "source_oauth_client_metadata_url", .type = CONFIG_STR, .default_value = "",
      .help = "authorize: MCPbox's https Client ID Metadata Document URL (as the gateway's)" },
    { .key = NULL }
};

const cli_command_t cli_cmd_sources = {
    .name     = S_NAME,
    .summary  = "list external MCP sources and their health; authorize an OAuth one",
    .usage    = "usage: mcpbox sources list [--server ID] [--json]\n"
                "       mcpbox sources authorize ID [--json]\n\n"
                "list: print every external MCP source (of one server, or of all): id,\n"
                "server, name, transport, auth type (with the OAuth state of an oauth\n"
                "source: none, pending, authorized, expired, needs_authorization),\n"
                "status, tools discovered, last contact and last error.\n"
                "authorize: begin an OAuth source's authorization and print the URL to\n"
                "open in a browser; the authorization server sends it back to the\n"
                "gateway's /sources/oauth/callback, which finishes it. Exit 0 done,\n"
                "1 a service failed or MCPbox is not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 2,
};
