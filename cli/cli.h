/*  cli.h — what the `mcpbox` command files share.

    Each command lives in its own file (cmd_<name>.c) and exports one
    cli_command_t: its options table, its usage text and a run function.
    main.c owns the dispatch table, parses the line (config.h: flags may
    stand anywhere, the first positional argument is the command), handles
    --help and --version, and calls run() with the loaded configuration.

    A few helpers are used by more than one command; each is defined in the
    file of the command it belongs to and declared here.
*/
#ifndef MCPBOX_CLI_H
#define MCPBOX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "config.h"
#include "msg.h"
#include "paths.h"

//  Exit codes every command uses.
#define CLI_EXIT_OK     0       //  done
#define CLI_EXIT_FAIL   1       //  the command ran and failed
#define CLI_EXIT_USAGE  2       //  the command line was wrong

typedef struct {
    const char            *name;      //  "up"
    const char            *summary;   //  one line for `mcpbox --help`
    const char            *usage;     //  printed above the options by --help
    const config_option_t *options;   //  the command's own options
    int                  (*run) (config_t *config);  //  returns an exit code
    //  Commands whose flags repeat (config.h keeps one value per key) parse
    //  argv themselves: when set, main.c calls this instead of run().
    int                  (*run_argv) (int argc, char **argv);
    //  How many positional arguments may follow the command's name
    //  (`mcpbox approvals approve tool ID`: 3). main.c refuses more; run()
    //  checks what it needs (config_argv (config, 1) is the first). 0, the
    //  default, keeps the old rule: none.
    int                    max_args;
} cli_command_t;

extern const cli_command_t cli_cmd_up;
extern const cli_command_t cli_cmd_status;
extern const cli_command_t cli_cmd_migrate;
extern const cli_command_t cli_cmd_keygen;
extern const cli_command_t cli_cmd_sandbox;
extern const cli_command_t cli_cmd_approvals;
extern const cli_command_t cli_cmd_policy;
extern const cli_command_t cli_cmd_servers;
extern const cli_command_t cli_cmd_sources;
extern const cli_command_t cli_cmd_tools;
extern const cli_command_t cli_cmd_logs;
extern const cli_command_t cli_cmd_admin;
extern const cli_command_t cli_cmd_secrets;
extern const cli_command_t cli_cmd_credentials;
extern const cli_command_t cli_cmd_tunnel;
extern const cli_command_t cli_cmd_tokens;
extern const cli_command_t cli_cmd_export;
extern const cli_command_t cli_cmd_import;
extern const cli_command_t cli_cmd_alerts;
extern const cli_command_t cli_cmd_oauth;
extern const cli_command_t cli_cmd_executor;
extern const cli_command_t cli_cmd_executors;

//  --- cmd_sandbox.c --------------------------------------------------------
//  The mcpbox-executor binary next to this one: 0 with its path, or -1.
int cli_executor_path (char *path, size_t size);

//  --- cmd_migrate.c --------------------------------------------------------
//  Open the database at paths->db_path and apply the embedded migrations.
//  *applied gets how many ran now, *version the schema version after.
//  0, or -1 with a message in err.
int cli_migrate (const paths_t *paths, int *applied, int *version,
                 char *err, size_t errlen);

//  --- cmd_keygen.c ---------------------------------------------------------
//  Make DATA/keys (and, if `sub` is not NULL, DATA/keys/<sub>) exist with
//  mode 0700, tightening it if it is wider. 0, or -1 with a message.
int cli_keys_dir_ensure (const paths_t *paths, const char *sub,
                         char *err, size_t errlen);

//  Generate a CURVE certificate: `path` (public, 0644) and `path`_secret
//  (0600). Refuses to replace either file unless `force`; the files appear
//  complete or not at all. The Z85 public key goes to public_txt (41 bytes
//  are enough). 0, or -1 with a message in err.
#define CLI_Z85_KEY_SIZE 41
int cli_keygen_write (const char *path, bool force, char *public_txt,
                      size_t public_size, char *err, size_t errlen);

//  --- bus_call.c ------------------------------------------------------------
//  The admin commands (approvals, policy, servers, tools) talk to the
//  services through the broker on DATA/run/bus, as `status` does: the 0700
//  run directory is the authority, there is no other login. bus_call.c
//  does what they share: find the broker (or say "MCPbox is not running"),
//  send ops, wait, decode the replies into jansson values, and turn a
//  failure into one clear message and exit code 1.
#define CLI_BUS_TIMEOUT_MS   10000  //  one op (approval may ask the registry)
#define CLI_BUS_LOOKUP_MS    2000   //  an optional lookup (names for a table)

typedef struct _cli_bus_t cli_bus_t;

//  One op sent to one service. The caller fills service and body (owned by
//  the caller); cli_bus_run fills the rest.
typedef struct {
    const char *service;            //  "approval", "registry"
    msgw_t     *body;               //  the request map, {"op": ...}
    int         timeout_ms;         //  0: CLI_BUS_TIMEOUT_MS
    json_t     *reply;              //  ok: the reply without "ok" (caller
                                    //  frees with cli_call_reset); else NULL
    bus_error_t code;               //  BUS_ERR_NONE when ok
    char        message [256];      //  when not ok: the service's message
    bool        local_timeout;      //  not ok: the broker itself never answered
} cli_call_t;

//  Connect to the broker of config's data directory. When there is none
//  (no run directory, no socket, nobody listening), print "MCPbox is not
//  running for DATA" (with --json also {"ok": false, "error": ...} on
//  stdout) and return NULL: the command then exits CLI_EXIT_FAIL.
//  `command` ("approvals") prefixes messages; `json` selects JSON errors.
cli_bus_t  *cli_bus_open (config_t *config, const char *command, bool json);
void        cli_bus_close (cli_bus_t **self_p);
const char *cli_bus_data_dir (cli_bus_t *self);

//  Send every call at once and wait for all of them (each up to its own
//  timeout, plus a grace period). Returns how many failed.
size_t      cli_bus_run (cli_bus_t *self, cli_call_t *calls, size_t count);

//  One op, waited for; the reply (caller decrefs), or NULL after the
//  failure was reported with cli_bus_report (`what` as there).
json_t     *cli_bus_request (cli_bus_t *self, const char *service, msgw_t *body,
                             const char *what);

//  Report a failed call: one line on stderr ("approval service not
//  available (no_worker)", "cannot approve tool X: ... (conflict)") and,
//  with --json, {"ok": false, "error": {"code", "message"}} on stdout.
//  `what` ("cannot approve tool X") prefixes errors about the request
//  itself; NULL for none. Returns CLI_EXIT_FAIL.
int         cli_bus_report (cli_bus_t *self, const cli_call_t *call, const char *what);

//  Free a call's reply and clear its result fields.
void        cli_call_reset (cli_call_t *call);

//  Print a JSON value on stdout (indented, keys sorted, one newline).
//  CLI_EXIT_OK, or CLI_EXIT_FAIL if it could not be written.
int         cli_json_print (const json_t *value);

//  "admin@cli:<unix user>" (getpwuid (geteuid ())), for reviewed_by and
//  changed_by.
void        cli_admin_identity (char *buf, size_t size);

//  Strings and integers from a reply object; "" / fallback when absent or
//  of another type.
const char *cli_jstr (const json_t *object, const char *key);
//  8-4-4-4-12 hex digits (ids on the bus are UUIDs).
bool        cli_uuid_valid (const char *text);
int64_t     cli_jint (const json_t *object, const char *key, int64_t fallback);

//  --- cmd_servers.c -----------------------------------------------------------
//  Every server, all pages of registry server.list, as a JSON array (caller
//  decrefs); NULL when a page failed, with that call in *failed (reset it).
json_t     *cli_servers_all (cli_bus_t *bus, int timeout_ms, cli_call_t *failed);

//  --- secret_input.c ------------------------------------------------------------
//  A password or secret value from standard input: a terminal gets `prompt`
//  with echo off (confirm: asked twice, must match); a pipe is read to its
//  end. One trailing newline is dropped. 0, or -1 (too long for buf, or the
//  two entries differ; buf wiped).
int         cli_read_secret (const char *prompt, bool confirm, char *buf,
                             size_t size, size_t *len);
//  Zero an encoded request that carried a secret, then free it.
void        cli_msgw_wipe (msgw_t **body_p);

//  --- table.c ---------------------------------------------------------------
//  Text for people. Everything shown comes from the services, and much of
//  it was written by an LLM (names, notes, code): before it reaches a
//  terminal, control characters, C1 controls, bidirectional overrides and
//  invalid UTF-8 become '?', so no escape sequence or reordering trick can
//  pass. Columns are aligned by code points.

//  A cleaned, newly allocated copy of text (NULL counts as ""). one_line:
//  newlines and tabs become spaces; else they are kept. max_chars > 0 cuts
//  the text to that many code points, the last one being "…". NULL only
//  when out of memory.
char       *cli_text_clean (const char *text, size_t max_chars, bool one_line);
//  Code points in a UTF-8 string.
size_t      cli_text_width (const char *text);
//  Print text cleaned (multi-line kept) to out.
void        cli_text_print (FILE *out, const char *text);

typedef struct _cli_table_t cli_table_t;

//  A table of `columns` columns with these headers (printed upper-case as
//  given). max_widths (may be NULL) caps each column, 0 = no cap.
cli_table_t *cli_table_new (size_t columns, const char *const *headers,
                            const size_t *max_widths);
void         cli_table_destroy (cli_table_t **self_p);
//  Add a row of `columns` cells (NULL cells are empty). 0 or -1 (memory).
int          cli_table_add (cli_table_t *self, const char *const *cells);
size_t       cli_table_rows (cli_table_t *self);
//  Print the header and rows, columns separated by two spaces, `indent`
//  spaces before each line.
void         cli_table_print (cli_table_t *self, FILE *out, int indent);

//  How long ago an ISO-8601 UTC time was: "42s", "5m", "3h", "12d"; "?" if
//  it cannot be read.
void         cli_age (const char *iso_time, char *buf, size_t size);

#endif
