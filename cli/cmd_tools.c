/*  cmd_tools.c — `mcpbox tools show TOOL_ID [--json]`: one tool as an
    admin reviews it: the registry's record, its approval status, and what
    changed in its code since the last approved version.

    Asked at once: registry tool.get and tool.versions, approval tool.status
    and effective. The last approved version is the newest version whose
    code_hash is approved for the tool in `effective` (approved
    [{tool_id, code_hash}]); its code comes from registry tool.version.
    Then:
      - no approved version: said so, and the current code is printed;
      - its hash is the current hash: "current code is the approved code";
      - else a unified diff, "approved vN" -> "current vM".

    The diff is Debian's /usr/bin/diff (diffutils is Essential), started
    with posix_spawn and a fixed argv and environment, never a shell, on
    two files in a private mkdtemp directory (0700) removed afterwards.
    Its output, like everything shown, is cleaned for the terminal
    (table.c): tool code comes from an LLM and may carry escape sequences
    or bidirectional overrides meant to make a reviewer misread it.

    An imported tool its external source no longer offers says so
    ("Removed: at the source, TIME"; the tool's removed_at in --json).

    --json prints {"tool", "approval", "versions", "approved_version",
    "approved_code_hash", "code_is_approved", "diff"} (nulls where there is
    nothing). Exit 0 done, 1 failed or MCPbox not running, 2 usage.
*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define S_NAME        "tools"
#define S_DIFF_PATH   "/usr/bin/diff"
#define S_DIFF_MAX    (16u << 20)     //  bytes of diff output kept

//  --- the diff ------------------------------------------------------------------

static int
s_write_file (const char *path, const char *text)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd == -1)
        return -1;
    size_t left = strlen (text);
    while (left > 0) {
        ssize_t n = write (fd, text, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close (fd);
            return -1;
        }
        text += n;
        left -= (size_t) n;
    }
    return close (fd);
}

//  Read fd to EOF into a new string (at most S_DIFF_MAX bytes kept).
static char *
s_read_all (int fd)
{
    size_t size = 0, capacity = 8192;
    char *data = malloc (capacity + 1);
    if (!data)
        return NULL;
    while (true) {
        if (size == capacity && capacity < S_DIFF_MAX) {
            size_t grown_capacity = capacity * 2;
            char *grown = realloc (data, grown_capacity + 1);
            if (!grown)
                break;
            data = grown;
            capacity = grown_capacity;
        }
        char sink [4096];
        char *into = size < capacity ? data + size : sink;
        size_t room = size < capacity ? capacity - size : sizeof sink;
        ssize_t n = read (fd, into, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (into != sink)
            size += (size_t) n;
    }
    data [size] = '\0';
    return data;
}

//  diff -u of two texts. *out gets the output (caller frees). 0, or -1 with
//  a message in err.
static int
s_diff (const char *old_text, const char *old_label, const char *new_text,
        const char *new_label, char **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *tmp = getenv ("TMPDIR");
    if (!tmp || tmp [0] != '/' || strlen (tmp) > 200)
        tmp = "/tmp";
    char dir [256], old_path [300], new_path [300];
    snprintf (dir, sizeof dir, "%s/mcpbox-diff-XXXXXX", tmp);
    if (!mkdtemp (dir)) {
        snprintf (err, errlen, "cannot make a directory in %s: %s", tmp, strerror (errno));
        return -1;
    }
    snprintf (old_path, sizeof old_path, "%s/approved", dir);
    snprintf (new_path, sizeof new_path, "%s/current", dir);
    int rc = -1;
    int pipe_fds [2] = { -1, -1 };
    if (s_write_file (old_path, old_text) || s_write_file (new_path, new_text))
        snprintf (err, errlen, "cannot write the code to %s: %s", dir, strerror (errno));
    else
    if (pipe2 (pipe_fds, O_CLOEXEC) == -1)
        snprintf (err, errlen, "pipe: %s", strerror (errno));
    else {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init (&actions);
        posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2 (&actions, pipe_fds [1], STDOUT_FILENO);
        char *argv [] = {
            "diff", "--unified", "--label", (char *) old_label, "--label",
            (char *) new_label, "--", old_path, new_path, NULL
        };
        char *envp [] = { "LC_ALL=C", "PATH=/usr/bin:/bin", NULL };
        pid_t pid;
        int spawned = posix_spawn (&pid, S_DIFF_PATH, &actions, NULL, argv, envp);
        posix_spawn_file_actions_destroy (&actions);
        close (pipe_fds [1]);
        if (spawned != 0)
            snprintf (err, errlen, "cannot run " S_DIFF_PATH ": %s", strerror (spawned));
        else {
            *out = s_read_all (pipe_fds [0]);
            int status = 0;
            while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
                ;
            //  diff: 0 the same, 1 different, 2 trouble.
            if (WIFEXITED (status) && WEXITSTATUS (status) <= 1 && *out)
                rc = 0;
            else {
                snprintf (err, errlen, S_DIFF_PATH " failed (status %d)", status);
                free (*out);
                *out = NULL;
            }
        }
        close (pipe_fds [0]);
    }
    unlink (old_path);
    unlink (new_path);
    rmdir (dir);
    return rc;
}

//  --- what is approved ------------------------------------------------------------

//  The newest version whose code_hash is approved for tool_id, or NULL.
static json_t *
s_last_approved (json_t *versions, json_t *effective, const char *tool_id)
{
    json_t *approved = json_object_get (effective, "approved");
    json_t *best = NULL;
    size_t i, j;
    json_t *version, *entry;
    json_array_foreach (json_object_get (versions, "versions"), i, version) {
        const char *hash = cli_jstr (version, "code_hash");
        if (!*hash || (best && cli_jint (version, "version", 0)
                               <= cli_jint (best, "version", 0)))
            continue;
        json_array_foreach (approved, j, entry)
            if (strcmp (cli_jstr (entry, "tool_id"), tool_id) == 0
            &&  strcmp (cli_jstr (entry, "code_hash"), hash) == 0) {
                best = version;
                break;
            }
    }
    return best;
}

//  --- printing ---------------------------------------------------------------------

static void
s_line (const char *label, const char *value)
{
    char *clean = cli_text_clean (value && *value ? value : "-", 300, true);
    printf ("%-13s %s\n", label, clean ? clean : "");
    free (clean);
}

static void
s_print_requests (const char *title, json_t *requests, bool network)
{
    if (json_array_size (requests) == 0)
        return;
    static const char *headers [] = {
        "ID", "RESOURCE", "STATUS", "REQUESTED BY", "AGE", "JUSTIFICATION"
    };
    static const size_t widths [] = { 0, 60, 0, 24, 0, 60 };
    cli_table_t *table = cli_table_new (6, headers, widths);
    if (!table)
        return;
    size_t index;
    json_t *row;
    json_array_foreach (requests, index, row) {
        char resource [300], age [16];
        if (network) {
            const char *host = cli_jstr (row, "host");
            int64_t port = cli_jint (row, "port", 0);
            if (port > 0)
                snprintf (resource, sizeof resource, strchr (host, ':')
                          ? "[%.253s]:%lld" : "%.253s:%lld", host, (long long) port);
            else
                snprintf (resource, sizeof resource, "%.255s", host);
        }
        else
            snprintf (resource, sizeof resource, "%.255s", cli_jstr (row, "module_name"));
        cli_age (cli_jstr (row, "created_at"), age, sizeof age);
        const char *cells [] = {
            cli_jstr (row, "id"), resource, cli_jstr (row, "status"),
            cli_jstr (row, "requested_by"), age, cli_jstr (row, "justification")
        };
        cli_table_add (table, cells);
    }
    printf ("\n%s:\n", title);
    cli_table_print (table, stdout, 2);
    cli_table_destroy (&table);
}

static void
s_print_tool (json_t *tool, json_t *status, json_t *versions)
{
    char text [512];
    snprintf (text, sizeof text, "%.64s__%.255s", cli_jstr (tool, "server_name"),
              cli_jstr (tool, "name"));
    s_line ("Tool:", text);
    s_line ("ID:", cli_jstr (tool, "id"));
    snprintf (text, sizeof text, "%.64s (%.36s)", cli_jstr (tool, "server_name"),
              cli_jstr (tool, "server_id"));
    s_line ("Server:", text);
    s_line ("Description:", cli_jstr (tool, "description"));
    json_t *enabled = json_object_get (tool, "enabled");
    s_line ("Enabled:", json_is_boolean (enabled) ? (json_is_true (enabled) ? "yes" : "no")
                                                 : "?");
    if (*cli_jstr (tool, "removed_at")) {
        snprintf (text, sizeof text, "at the source, %.32s: not listed or callable until "
                  "the source offers it again", cli_jstr (tool, "removed_at"));
        s_line ("Removed:", text);
    }
    snprintf (text, sizeof text, "%lld ms", (long long) cli_jint (tool, "timeout_ms", 0));
    s_line ("Timeout:", text);
    snprintf (text, sizeof text, "%.32s by %.64s", cli_jstr (tool, "created_at"),
              cli_jstr (tool, "created_by"));
    s_line ("Created:", text);
    snprintf (text, sizeof text, "v%lld of %lld, code sha256 %.64s",
              (long long) cli_jint (tool, "current_version", 0),
              (long long) cli_jint (versions, "total_versions",
                                    (int64_t) json_array_size (
                                        json_object_get (versions, "versions"))),
              cli_jstr (tool, "code_hash"));
    s_line ("Version:", text);
    s_line ("Approval:", cli_jstr (status, "approval_status"));
    if (*cli_jstr (status, "requested_at")) {
        snprintf (text, sizeof text, "%.32s by %.64s", cli_jstr (status, "requested_at"),
                  *cli_jstr (status, "requested_by") ? cli_jstr (status, "requested_by")
                                                     : "?");
        s_line ("  requested:", text);
    }
    if (*cli_jstr (status, "publish_notes"))
        s_line ("  notes:", cli_jstr (status, "publish_notes"));
    if (*cli_jstr (status, "approved_at")) {
        snprintf (text, sizeof text, "%.32s by %.64s", cli_jstr (status, "approved_at"),
                  cli_jstr (status, "approved_by"));
        s_line ("  approved:", text);
    }
    if (*cli_jstr (status, "rejected_at")) {
        snprintf (text, sizeof text, "%.32s by %.64s: %.300s",
                  cli_jstr (status, "rejected_at"), cli_jstr (status, "rejected_by"),
                  cli_jstr (status, "rejection_reason"));
        s_line ("  rejected:", text);
    }
    s_print_requests ("Module requests", json_object_get (status, "module_requests"), false);
    s_print_requests ("Network access requests",
                      json_object_get (status, "network_access_requests"), true);
}

//  --- the command ---------------------------------------------------------------

static msgw_t *
s_op (const char *op, const char *tool_id)
{
    msgw_t *body = msgw_new ();
    msgw_map (body, tool_id ? 2 : 1);
    msgw_kv_str (body, "op", op);
    if (tool_id)
        msgw_kv_str (body, "tool_id", tool_id);
    return body;
}

enum { S_TOOL, S_STATUS, S_VERSIONS, S_EFFECTIVE, S_CALLS };

static int
s_show (cli_bus_t *bus, const char *tool_id, bool json)
{
    char what [96];
    snprintf (what, sizeof what, "cannot show tool %s", tool_id);
    cli_call_t calls [S_CALLS] = {
        [S_TOOL]      = { .service = "registry", .body = s_op ("tool.get", tool_id) },
        [S_STATUS]    = { .service = "approval", .body = s_op ("tool.status", tool_id) },
        [S_VERSIONS]  = { .service = "registry", .body = s_op ("tool.versions", tool_id) },
        [S_EFFECTIVE] = { .service = "approval", .body = s_op ("effective", NULL) },
    };
    int rc = CLI_EXIT_OK;
    json_t *approved_code = NULL;
    if (cli_bus_run (bus, calls, S_CALLS) > 0) {
        for (size_t i = 0; i < S_CALLS; i++)
            if (calls [i].code != BUS_ERR_NONE) {
                rc = cli_bus_report (bus, &calls [i], what);
                break;
            }
    }
    json_t *tool = json_object_get (calls [S_TOOL].reply, "tool");
    json_t *status = calls [S_STATUS].reply;
    json_t *versions = calls [S_VERSIONS].reply;
    json_t *last = NULL;
    if (rc == CLI_EXIT_OK && !json_is_object (tool)) {
        cli_call_t bad = { .service = "registry", .code = BUS_ERR_PROTOCOL };
        snprintf (bad.message, sizeof bad.message, "tool.get answered without a tool");
        rc = cli_bus_report (bus, &bad, what);
    }
    const char *current_hash = cli_jstr (tool, "code_hash");
    if (rc == CLI_EXIT_OK) {
        last = s_last_approved (versions, calls [S_EFFECTIVE].reply, tool_id);
        if (last && strcmp (cli_jstr (last, "code_hash"), current_hash) != 0) {
            msgw_t *body = msgw_new ();
            msgw_map (body, 3);
            msgw_kv_str (body, "op", "tool.version");
            msgw_kv_str (body, "tool_id", tool_id);
            msgw_kv_int (body, "version", cli_jint (last, "version", 0));
            json_t *reply = cli_bus_request (bus, "registry", body, what);
            msgw_destroy (&body);
            approved_code = json_incref (json_object_get (
                json_object_get (reply, "version"), "python_code"));
            json_decref (reply);
            if (!reply)
                rc = CLI_EXIT_FAIL;
        }
    }
    cli_bus_close (&bus);

    //  The diff, when there is something to compare.
    char *diff = NULL;
    bool same = last && strcmp (cli_jstr (last, "code_hash"), current_hash) == 0;
    const char *current_code = cli_jstr (tool, "python_code");
    char old_label [48], new_label [48];
    snprintf (old_label, sizeof old_label, "approved v%lld",
              (long long) cli_jint (last, "version", 0));
    snprintf (new_label, sizeof new_label, "current v%lld",
              (long long) cli_jint (tool, "current_version", 0));
    if (rc == CLI_EXIT_OK && last && !same) {
        char err [512] = "";
        if (s_diff (json_string_value (approved_code) ? json_string_value (approved_code)
                                                      : "",
                    old_label, current_code, new_label, &diff, err, sizeof err)) {
            fprintf (stderr, "mcpbox " S_NAME ": %s\n", err);
            rc = CLI_EXIT_FAIL;
        }
    }

    if (rc == CLI_EXIT_OK && json) {
        json_t *diff_value = diff ? json_string (diff) : NULL;
        if (diff && !diff_value) {
            //  Not UTF-8 (a file's bytes cut by diff): show it cleaned.
            char *clean = cli_text_clean (diff, 0, false);
            diff_value = clean ? json_string (clean) : NULL;
            free (clean);
        }
        json_t *output = json_pack ("{s:O, s:O, s:O, s:o, s:o, s:b, s:o}",
            "tool", tool, "approval", status, "versions", versions,
            "approved_version", last ? json_integer (cli_jint (last, "version", 0))
                                     : json_null (),
            "approved_code_hash", last ? json_string (cli_jstr (last, "code_hash"))
                                       : json_null (),
            "code_is_approved", same,
            "diff", diff_value ? diff_value : json_null ());
        rc = output ? cli_json_print (output) : CLI_EXIT_FAIL;
        json_decref (output);
    }
    else
    if (rc == CLI_EXIT_OK) {
        s_print_tool (tool, status, versions);
        putchar ('\n');
        if (!last) {
            printf ("Code: no version of this tool was ever approved; current code "
                    "(%s):\n\n", new_label);
            cli_text_print (stdout, current_code);
            if (*current_code && current_code [strlen (current_code) - 1] != '\n')
                putchar ('\n');
        }
        else
        if (same)
            printf ("Code: current code is the approved code (%s, sha256 %.12s)\n",
                    new_label, current_hash);
        else {
            printf ("Code: changes since the last approved version (%s -> %s):\n\n",
                    old_label, new_label);
            cli_text_print (stdout, diff);
        }
        fflush (stdout);
    }
    free (diff);
    json_decref (approved_code);
    for (size_t i = 0; i < S_CALLS; i++) {
        msgw_destroy (&calls [i].body);
        cli_call_reset (&calls [i]);
    }
    return rc;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : NULL;
    if (!action || strcmp (action, "show") != 0 || argc != 3) {
        fprintf (stderr, "mcpbox " S_NAME ": %s\n(see mcpbox " S_NAME " --help)\n",
                 action && strcmp (action, "show") != 0 ? "unknown action (show)"
                                                        : "usage: mcpbox tools show TOOL_ID");
        return CLI_EXIT_USAGE;
    }
    const char *tool_id = config_argv (config, 2);
    if (!cli_uuid_valid (tool_id)) {
        fprintf (stderr, "mcpbox " S_NAME ": TOOL_ID must be a UUID\n"
                 "(see mcpbox " S_NAME " --help)\n");
        return CLI_EXIT_USAGE;
    }
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    return s_show (bus, tool_id, json);     //  closes the bus
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print one JSON object instead of text", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_tools = {
    .name     = S_NAME,
    .summary  = "show a tool, its approval and its changes since approval",
    .usage    = "usage: mcpbox tools show TOOL_ID [--json]\n\n"
                "Print the tool (registry), its approval status and requests\n"
                "(approval service), and a unified diff of its current code\n"
                "against the last approved version. Exit 0 done, 1 failed or\n"
                "MCPbox not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 2,
};
