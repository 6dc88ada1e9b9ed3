/*  registry.h — the registry actor's internals, shared by its files.

    The registry owns servers, tools, tool_versions, external_mcp_sources
    and registry_revision (sql/0002_registry.sql) and answers the `registry`
    section of docs/BUS_OPS.md. Its files, one concern each:

        main.c           process wiring: actor_main, open/close/tick hooks
        ops.c            the op table — the whole interface — and handlers
        validate.c       request fields: types, names, sizes, patterns
        encode.c         server, tool and version records as msgpack maps
        store.c          the connection, schema check, statements,
                         transactions, the revision, times
        store_servers.c  SQL for servers
        store_tools.c    SQL for tools and tool versions
        catalog.c        the in-memory catalog `catalog` answers from
        ids.c            UUID v4 ids and SHA-256 code hashes (libsodium)
        schema.c         input schemas, asked of the sandbox over the bus
        export.c         servers, tools and versions out (export.dump) and
                         in (import.apply) for export files

    A change runs as: fields checked (validate.c) -> cheap refusals (the
    server exists, the name is free) -> the sandbox, for new code (schema.c,
    outside any transaction: no write lock is held while waiting on the
    bus) -> BEGIN IMMEDIATE .. rows, version, revision bump .. COMMIT
    (store*.c) -> catalog rebuilt from the database (catalog.c) ->
    `tools.changed` {"revision", "server_id", "tool_id"?} published -> reply.
    A refusal changes nothing and publishes nothing. Everything that
    matters is committed before the reply, so kill -9 at any point loses
    only an unanswered request, and a restart rebuilds the catalog from
    the database.

    Versions: every real change to a tool writes a full snapshot (name,
    description, enabled, timeout, code, hash, schema) as version
    current_version + 1; an update that changes nothing writes none;
    rollback copies an old snapshot into the tool as a new version.
*/
#ifndef MCPBOX_REGISTRY_H
#define MCPBOX_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "fields.h"
#include "ids.h"
#include "service.h"
#include "utf8.h"

#define REG_SCHEMA_VERSION      12          //  the newest migration we need
#define REG_SCHEMA_MIGRATIONS   { 2, 7, 12 }    //  0002 makes our tables, 0007 adds
                                            //  title/output_schema/suggested_annotations,
                                            //  0012 source health
#define REG_ID_LEN              36          //  UUID text
#define REG_HASH_LEN            64          //  SHA-256, lower-case hex
#define REG_TIME_LEN            24          //  "2026-11-29T05:40:00.123Z"
#define REG_SERVER_NAME_MAX     64          //  characters (ASCII)
#define REG_TOOL_NAME_MAX       255         //  storage; new names obey FULL_NAME
#define REG_FULL_NAME_MAX       64          //  "{server}__{tool}": what MCP clients
                                            //  (Claude, Cursor, OpenAI) accept
#define REG_NEW_NAME_MAX        (REG_FULL_NAME_MAX - 3)     //  the other part >= 1
#define REG_DESCRIPTION_MAX     2000        //  characters (code points)
#define REG_SUMMARY_MAX         2000        //  change_summary, characters
#define REG_TITLE_MAX           200         //  title, characters (code points)
#define REG_CODE_MAX            (100 * 1024)    //  python_code, bytes
#define REG_TIMEOUT_MIN_MS      1000
#define REG_TIMEOUT_MAX_MS      300000
#define REG_TIMEOUT_DEFAULT_MS  30000
#define REG_PAGE_MAX            1000000     //  page numbers beyond are silly
#define REG_PAGE_SIZE_DEFAULT   50
#define REG_PAGE_SIZE_MAX       100
#define REG_SANDBOX_TIMEOUT_MS  2500        //  validate: covers an executor restart, fails fast with none

//  Errors travel as bus_err_t values, filled with bus_err_set (proto/bus_errors.h).

//  --- records ---------------------------------------------------------------

typedef struct {
    char     id [REG_ID_LEN + 1];
    char     name [REG_SERVER_NAME_MAX + 1];
    char    *description;                   //  heap, never NULL once loaded
    char     status [16];                   //  ready | running | stopped | error
    int64_t  default_timeout_ms;
    int64_t  tool_count;                    //  filled by list/get only
    char     created_at [REG_TIME_LEN + 8];
    char     updated_at [REG_TIME_LEN + 8];
} server_t;

void server_clear (server_t *self);

typedef struct {
    char     id [REG_ID_LEN + 1];
    char     server_id [REG_ID_LEN + 1];
    char     server_name [REG_SERVER_NAME_MAX + 1];
    char     name [REG_TOOL_NAME_MAX + 1];
    char    *description;                   //  heap
    bool     enabled;
    int64_t  timeout_ms;
    char    *input_schema;                  //  heap, JSON text of an object
    char    *title;                         //  heap; "" when none
    char    *output_schema;                 //  heap JSON object text, or NULL
    char    *suggested_annotations;         //  heap canonical hints JSON, or NULL
    char     tool_type [24];                //  python_code | mcp_passthrough
    char    *python_code;                   //  heap; NULL for passthrough
    size_t   code_len;
    char     code_hash [REG_HASH_LEN + 1];
    int64_t  current_version;
    char     created_by [16];               //  llm | admin
    char     created_at [REG_TIME_LEN + 8];
    char     updated_at [REG_TIME_LEN + 8];
    char     removed_at [REG_TIME_LEN + 8]; //  "" unless removed at its source
} tool_t;

void tool_clear (tool_t *self);
//  Deep copy; 0 or -1 (out of memory, *dest cleared).
int  tool_copy (tool_t *dest, const tool_t *src);

typedef struct {
    int64_t  version;
    char     name [REG_TOOL_NAME_MAX + 1];
    char    *description;                   //  heap
    bool     enabled;
    int64_t  timeout_ms;
    char    *python_code;                   //  heap; NULL when not loaded
    size_t   code_len;
    char     code_hash [REG_HASH_LEN + 1];
    char    *input_schema;                  //  heap; NULL when not loaded
    char    *title;                         //  heap; "" when none
    char    *output_schema;                 //  heap; NULL when none / not loaded
    char    *suggested_annotations;         //  heap; NULL when none / not loaded
    char    *change_summary;                //  heap
    char     change_source [16];
    char     created_at [REG_TIME_LEN + 8];
} version_t;

void version_clear (version_t *self);

typedef struct {
    char     id [REG_ID_LEN + 1];
    char     server_id [REG_ID_LEN + 1];
    char    *name;                          //  heap
    char    *url;                           //  heap
    char     auth_type [16];                //  none | bearer | header | oauth
    char    *auth_secret_name;              //  heap or NULL
    char    *auth_header_name;              //  heap or NULL
    char     transport_type [24];           //  streamable_http | sse
    char     status [16];                   //  active | error | disabled
    int64_t  tool_count;
    char    *discovered_tools;              //  heap JSON array text, or NULL
    char     last_discovered_at [REG_TIME_LEN + 8];
    char     last_contact_at [REG_TIME_LEN + 8];
    char    *last_error;                    //  heap or NULL
    char     last_error_at [REG_TIME_LEN + 8];
    char     protocol_version [17];
    char     created_at [REG_TIME_LEN + 8];
    char     updated_at [REG_TIME_LEN + 8];
} source_t;

void source_clear (source_t *self);

//  --- validate.c --------------------------------------------------------------
//  The registry's names, checked the way common/fields.h reads every other
//  field: 0 valid, -1 with a bad_request naming the field.

int    validate_server_name (const char *key, const char *text, size_t len,
                             bus_err_t *err);
int    validate_tool_name (const char *key, const char *text, size_t len,
                           bus_err_t *err);
//  "{server}__{tool}" fits in REG_FULL_NAME_MAX, or a bad_request on key.
int    validate_full_name (const char *key, const char *server, size_t server_len,
                           size_t tool_len, bus_err_t *err);
//  8-4-4-4-12 hex, any case; out gets the lower-case form.

//  --- ids.c -------------------------------------------------------------------
//  A fresh random UUID v4, lower-case. 0, or -1 if libsodium cannot start.
//  Lower-case hex SHA-256 of the bytes. 0 or -1.
int  ids_code_hash (const char *code, size_t len, char out [REG_HASH_LEN + 1]);

//  --- catalog.c ---------------------------------------------------------------
typedef struct _catalog_t catalog_t;

catalog_t *catalog_new (void);
void       catalog_destroy (catalog_t **self_p);
//  Rebuild from the database: enabled tools of running servers. The
//  previous catalog stays on failure.
int        catalog_rebuild (catalog_t *self, sqlite3 *db, int64_t revision,
                            bus_err_t *err);
//  A complete `catalog` reply (a copy of the cached encoding).
msgw_t    *catalog_reply (catalog_t *self);
int64_t    catalog_revision (catalog_t *self);
size_t     catalog_count (catalog_t *self);

//  --- store.c -----------------------------------------------------------------
typedef struct _stmt_cache_t stmt_cache_t;

typedef struct {
    sqlite3      *db;           //  our connection (db_open)
    stmt_cache_t *stmts;        //  prepared statements, by SQL text
    catalog_t    *catalog;      //  what `catalog` answers
    int64_t       revision;     //  revision of the last commit
    bool          stale;        //  the catalog failed to rebuild
} registry_t;

//  Open the database, check its schema is new enough, load the revision
//  and build the catalog. NULL + err.
registry_t *registry_new (const char *db_path, char *err, size_t errlen);
void        registry_destroy (registry_t **self_p);

//  A prepared statement for `sql` (a string with static storage: cached by
//  its address), reset and unbound. NULL + err (internal).
sqlite3_stmt *store_stmt (registry_t *self, const char *sql, bus_err_t *err);
//  sqlite3_reset, so that no statement keeps a read transaction open.
void store_done (sqlite3_stmt *stmt);
//  An internal error naming what failed, with SQLite's message in the log.
int  store_fail (registry_t *self, bus_err_t *err, const char *what);

int  store_begin (registry_t *self, bus_err_t *err);    //  BEGIN IMMEDIATE
int  store_commit (registry_t *self, bus_err_t *err);   //  rolls back on failure
void store_rollback (registry_t *self);
//  Inside a transaction: revision + 1, returned in *revision.
int  store_bump_revision (registry_t *self, int64_t *revision, bus_err_t *err);
//  Rebuild the catalog after a commit (marks stale on failure).
void store_refresh_catalog (registry_t *self);
//  Now as "2026-11-29T05:40:00.123Z".
//  Copy a text column into a fixed buffer / a fresh heap string.
void  store_col_copy (sqlite3_stmt *stmt, int col, char *buf, size_t size);
char *store_col_dup (sqlite3_stmt *stmt, int col, size_t *len);    //  NULL for NULL
char *store_col_text (sqlite3_stmt *stmt, int col);                 //  "" for NULL
//  Bind text (static storage for the statement's use), or SQL NULL for NULL.
void  store_bind_text (sqlite3_stmt *stmt, int col, const char *text);

//  --- store_servers.c ---------------------------------------------------------
int store_server_insert (registry_t *self, const server_t *server, bus_err_t *err);
//  not_found when missing. Fills tool_count.
int store_server_get (registry_t *self, const char *id, server_t *out,
                      bus_err_t *err);
//  A page, ordered by creation; *items (caller frees with server_clear each
//  and free) and *total.
int store_server_list (registry_t *self, int64_t page, int64_t page_size,
                       server_t **items, size_t *count, int64_t *total,
                       bus_err_t *err);
//  *changed false when the status already was `status`.
int store_server_set_status (registry_t *self, const char *id,
                             const char *status, bool *changed, bus_err_t *err);
int store_server_delete (registry_t *self, const char *id, bus_err_t *err);
//  Enabled tools of a server (for start's reply).
int store_server_enabled_tools (registry_t *self, const char *id,
                                int64_t *count, bus_err_t *err);

//  --- store_tools.c -----------------------------------------------------------
//  not_found when missing.
int store_tool_get (registry_t *self, const char *id, tool_t *out, bus_err_t *err);
//  conflict when the name is taken on that server.
int store_tool_insert (registry_t *self, const tool_t *tool, bus_err_t *err);
//  Write every mutable field of the tool row; conflict on a name clash.
int store_tool_update (registry_t *self, const tool_t *tool, bus_err_t *err);
int store_tool_delete (registry_t *self, const char *id, bus_err_t *err);
//  1 when a tool of that name exists on the server (other than except_id).
int store_tool_name_taken (registry_t *self, const char *server_id,
                           const char *name, const char *except_id,
                           bus_err_t *err);
//  A server's tools without their code, ordered by creation.
int store_tool_list (registry_t *self, const char *server_id, tool_t **items,
                     size_t *count, bus_err_t *err);
//  Snapshot the tool as its current_version.
int store_version_insert (registry_t *self, const tool_t *tool,
                          const char *summary, const char *source,
                          bus_err_t *err);
//  One version with code and schema; not_found when missing.
int store_version_get (registry_t *self, const char *tool_id, int64_t version,
                       version_t *out, bus_err_t *err);
//  Every version without code and schema, newest first.
int store_version_list (registry_t *self, const char *tool_id,
                        version_t **items, size_t *count, bus_err_t *err);

//  --- store_sources.c ---------------------------------------------------------
int store_source_get (registry_t *self, const char *id, source_t *out, bus_err_t *err);
int store_source_list (registry_t *self, const char *server_id, source_t **items,
                       size_t *count, bus_err_t *err);
//  conflict when the name is taken on that server; not_found without the server.
int store_source_insert (registry_t *self, const source_t *source, bus_err_t *err);
//  A successful discovery: the listing, its size, the version; status active.
int store_source_discovered (registry_t *self, const char *id, const char *tools_json,
                             int64_t tool_count, const char *protocol, bus_err_t *err);
//  A contact: error NULL (it answered: last_contact_at now, status active)
//  or why it failed (status error, last_error).
int store_source_health (registry_t *self, const char *id, const char *error,
                         bus_err_t *err);
//  [{id, external_tool_name, code_hash}] of the tools imported from it.
int store_source_imported (registry_t *self, const char *source_id, json_t **out,
                           bus_err_t *err);
//  Marks an imported tool removed at its source (when set) or offered
//  again (when NULL).
int store_tool_removed (registry_t *self, const char *tool_id, const char *removed_at,
                        bus_err_t *err);
int store_passthrough_insert (registry_t *self, const tool_t *tool,
                              const char *source_id, const char *external_name,
                              bus_err_t *err);

//  --- encode.c ----------------------------------------------------------------
//  Each writes one map of the record's fields plus `extra` more pairs that
//  the caller writes right after.
void encode_server (msgw_t *w, const server_t *server, size_t extra);
//  {id,name,description,enabled,code_hash,current_version}
void encode_tool_summary (msgw_t *w, const tool_t *tool);
//  Every field of tool.get.
void encode_tool (msgw_t *w, const tool_t *tool, size_t extra);
void encode_version_summary (msgw_t *w, const version_t *version);
void encode_version (msgw_t *w, const version_t *version, size_t extra);
//  A JSON object text as a msgpack map ({} if it does not parse).
void encode_schema (msgw_t *w, const char *json_text);
//  The same, or nil for NULL.
void encode_schema_or_nil (msgw_t *w, const char *json_text);

//  --- schema.c ----------------------------------------------------------------
//  Ask the sandbox to validate `code`; on success *schema_json is the input
//  schema as compact JSON text and, when docstring is not NULL, *docstring
//  main's docstring or NULL (caller frees both). bad_request with the
//  validation message when the code is refused; unavailable when no
//  executor answers.
//  *output_json is the output schema from main's return annotation, or
//  NULL when it declares none JSON Schema can hold.
int schema_from_sandbox (service_t *service, const char *code, size_t len,
                         char **schema_json, char **output_json, char **docstring,
                         bus_err_t *err);
//  How long a validate request may wait (service_call keeps us registered).
int schema_timeout_ms (void);

//  --- activity.c --------------------------------------------------------------
//  One activity record (level info) through the service's log spool;
//  takes details (a JSON object or NULL).
void activity_record (service_t *service, const char *type, const char *server_id,
                      json_t *details, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));

//  --- sources.c ---------------------------------------------------------------
//  The source.* handlers (registered in ops.c's table).
void sources_create (service_t *service, msg_t *request, msgw_t **reply, void *state);
void sources_get (service_t *service, msg_t *request, msgw_t **reply, void *state);
void sources_list (service_t *service, msg_t *request, msgw_t **reply, void *state);
void sources_discovered (service_t *service, msg_t *request, msgw_t **reply, void *state);
void sources_health (service_t *service, msg_t *request, msgw_t **reply, void *state);
void sources_import (service_t *service, msg_t *request, msgw_t **reply, void *state);
//  SHA-256 over the canonical JSON of a remote tool's definition.
int  sources_definition_hash (const char *source_id, json_t *definition,
                              char out [REG_HASH_LEN + 1]);

//  --- ops.c -------------------------------------------------------------------
//  The op table (op name -> handler), ending with { NULL, NULL }.
extern const service_op_t registry_ops [];
//  A heap copy of len bytes with a NUL after them (aborts when out of memory).
char *registry_ndup (const char *text, size_t len);
//  After a commit: the new revision, the catalog rebuilt, tools.changed out.
void registry_committed (service_t *service, registry_t *reg, int64_t revision,
                         const char *server_id, const char *tool_id);

//  --- export.c ----------------------------------------------------------------
//  export.dump and import.apply (docs/BUS_OPS.md, registry).
void export_dump (service_t *service, msg_t *request, msgw_t **reply, void *state);
void import_apply (service_t *service, msg_t *request, msgw_t **reply, void *state);

#endif
