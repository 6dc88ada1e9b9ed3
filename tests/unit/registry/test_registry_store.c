/*  test_registry_store.c — the registry's storage without the bus
    (actors/registry/store*.c, catalog.c): the schema check at open, rows
    and versions written in transactions, conflicts, cascades, the revision,
    and the catalog built from the database.

    Links registry_core (see actors/registry/CMakeLists.txt).
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "registry.h"

#define CODE "async def main():\n    return 1\n"
#define SCHEMA "{\"type\":\"object\",\"properties\":{},\"required\":[]}"

typedef struct {
    char        dir [PATH_MAX];
    char        path [PATH_MAX + 16];
    registry_t *reg;
} fixture_t;

static int
s_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    return remove (path);
}

static void
s_migrate (const char *path)
{
    char err [512] = "";
    sqlite3 *db = db_open (path, err, sizeof err);
    assert_non_null (db);
    int applied = 0;
    assert_int_equal (migrate_apply (db, mcpbox_migrations, mcpbox_migrations_count,
                                     &applied, err, sizeof err), 0);
    db_close (&db);
}

static int
setup (void **state)
{
    log_init ("test_registry_store", LOG_WARN);
    fixture_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    snprintf (self->dir, sizeof self->dir, "/tmp/test_registry.XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    snprintf (self->path, sizeof self->path, "%s/mcpbox.db", self->dir);
    s_migrate (self->path);
    char err [512] = "";
    self->reg = registry_new (self->path, err, sizeof err);
    if (!self->reg)
        fail_msg ("registry_new: %s", err);
    *state = self;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *self = *state;
    registry_destroy (&self->reg);
    nftw (self->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free (self);
    return 0;
}

static void
s_server (registry_t *reg, const char *name, server_t *out)
{
    memset (out, 0, sizeof *out);
    assert_int_equal (ids_uuid4 (out->id), 0);
    snprintf (out->name, sizeof out->name, "%s", name);
    out->description = strdup ("");
    snprintf (out->status, sizeof out->status, "ready");
    out->default_timeout_ms = 30000;
    ids_now_iso (out->created_at);
    memcpy (out->updated_at, out->created_at, sizeof out->updated_at);
    bus_err_t err;
    assert_int_equal (store_server_insert (reg, out, &err), 0);
}

//  A tool and its version 1, committed with a revision bump.
static void
s_tool (registry_t *reg, const server_t *server, const char *name, tool_t *out)
{
    memset (out, 0, sizeof *out);
    assert_int_equal (ids_uuid4 (out->id), 0);
    memcpy (out->server_id, server->id, sizeof out->server_id);
    memcpy (out->server_name, server->name, sizeof out->server_name);
    snprintf (out->name, sizeof out->name, "%s", name);
    out->description = strdup ("a tool");
    out->enabled = true;
    out->timeout_ms = 30000;
    out->input_schema = strdup (SCHEMA);
    snprintf (out->tool_type, sizeof out->tool_type, "python_code");
    out->python_code = strdup (CODE);
    out->code_len = strlen (CODE);
    assert_int_equal (ids_code_hash (CODE, out->code_len, out->code_hash), 0);
    out->current_version = 1;
    snprintf (out->created_by, sizeof out->created_by, "llm");
    ids_now_iso (out->created_at);
    memcpy (out->updated_at, out->created_at, sizeof out->updated_at);
    bus_err_t err;
    int64_t revision = 0;
    assert_int_equal (store_begin (reg, &err), 0);
    assert_int_equal (store_tool_insert (reg, out, &err), 0);
    assert_int_equal (store_version_insert (reg, out, "Initial version", "llm", &err), 0);
    assert_int_equal (store_bump_revision (reg, &revision, &err), 0);
    assert_int_equal (store_commit (reg, &err), 0);
    reg->revision = revision;
}

static void
test_open_refuses_an_old_schema (void **state)
{
    fixture_t *self = *state;
    char path [PATH_MAX + 32], err [512] = "";
    snprintf (path, sizeof path, "%s/empty.db", self->dir);
    registry_t *reg = registry_new (path, err, sizeof err);
    assert_null (reg);
    assert_non_null (strstr (err, "mcpbox migrate"));

    //  a database with a later migration but not ours (made before ours
    //  existed) is refused too: the highest version alone does not tell
    //  (0007 and 0012 alter our tables, so they go with 0002)
    snprintf (path, sizeof path, "%s/gap.db", self->dir);
    migration_t others [8];
    size_t count = 0;
    for (size_t i = 0; i < mcpbox_migrations_count && count < 8; i++)
        if (mcpbox_migrations [i].version != 2 && mcpbox_migrations [i].version != 7
        &&  mcpbox_migrations [i].version != 12)
            others [count++] = mcpbox_migrations [i];
    assert_true (count > 0 && others [count - 1].version > 2);
    sqlite3 *db = db_open (path, err, sizeof err);
    assert_non_null (db);
    int applied = 0;
    assert_int_equal (migrate_apply (db, others, count, &applied, err, sizeof err), 0);
    db_close (&db);
    reg = registry_new (path, err, sizeof err);
    assert_null (reg);
    assert_non_null (strstr (err, "lacks migration 0002"));
}

static void
test_servers (void **state)
{
    fixture_t *self = *state;
    registry_t *reg = self->reg;
    bus_err_t err;
    server_t a, b, dup, got;
    s_server (reg, "alpha", &a);
    s_server (reg, "beta", &b);
    memset (&dup, 0, sizeof dup);
    assert_int_equal (ids_uuid4 (dup.id), 0);
    snprintf (dup.name, sizeof dup.name, "alpha");
    dup.description = strdup ("");
    snprintf (dup.status, sizeof dup.status, "ready");
    dup.default_timeout_ms = 30000;
    ids_now_iso (dup.created_at);
    ids_now_iso (dup.updated_at);
    assert_int_equal (store_server_insert (reg, &dup, &err), -1);
    assert_int_equal (err.code, BUS_ERR_CONFLICT);

    assert_int_equal (store_server_get (reg, a.id, &got, &err), 0);
    assert_string_equal (got.name, "alpha");
    assert_string_equal (got.status, "ready");
    server_clear (&got);
    assert_int_equal (store_server_get (reg, dup.id, &got, &err), -1);
    assert_int_equal (err.code, BUS_ERR_NOT_FOUND);

    server_t *items = NULL;
    size_t count = 0;
    int64_t total = 0;
    assert_int_equal (store_server_list (reg, 2, 1, &items, &count, &total, &err), 0);
    assert_int_equal (total, 2);
    assert_int_equal (count, 1);
    assert_string_equal (items [0].name, "beta");
    server_clear (&items [0]);
    free (items);

    bool changed = false;
    assert_int_equal (store_server_set_status (reg, a.id, "running", &changed, &err), 0);
    assert_true (changed);
    assert_int_equal (store_server_set_status (reg, a.id, "running", &changed, &err), 0);
    assert_false (changed);
    assert_int_equal (store_server_set_status (reg, dup.id, "running", &changed, &err), -1);
    assert_int_equal (err.code, BUS_ERR_NOT_FOUND);

    //  the table's CHECKs hold even against SQL that skips validate.c
    assert_int_not_equal (sqlite3_exec (reg->db, "INSERT INTO servers (id, name, created_at,"
                          " updated_at) VALUES ('00000000-0000-4000-8000-000000000000',"
                          " 'Bad__Name', 'x', 'x')", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal (sqlite3_exec (reg->db, "UPDATE servers SET status = 'imported'",
                                        NULL, NULL, NULL), SQLITE_OK);
    server_clear (&a);
    server_clear (&b);
    server_clear (&dup);
}

static void
test_tools_versions_and_cascade (void **state)
{
    fixture_t *self = *state;
    registry_t *reg = self->reg;
    bus_err_t err;
    server_t server;
    tool_t tool, got, clash;
    s_server (reg, "alpha", &server);
    s_tool (reg, &server, "add", &tool);
    assert_int_equal (reg->revision, 1);

    assert_int_equal (store_tool_get (reg, tool.id, &got, &err), 0);
    assert_string_equal (got.server_name, "alpha");
    assert_string_equal (got.python_code, CODE);
    assert_string_equal (got.code_hash, tool.code_hash);
    assert_int_equal (got.current_version, 1);
    tool_clear (&got);

    //  same name on the same server: conflict, and nothing written
    assert_int_equal (tool_copy (&clash, &tool), 0);
    assert_int_equal (ids_uuid4 (clash.id), 0);
    assert_int_equal (store_tool_name_taken (reg, server.id, "add", clash.id, &err), 1);
    assert_int_equal (store_tool_name_taken (reg, server.id, "add", tool.id, &err), 0);
    assert_int_equal (store_begin (reg, &err), 0);
    assert_int_equal (store_tool_insert (reg, &clash, &err), -1);
    assert_int_equal (err.code, BUS_ERR_CONFLICT);
    store_rollback (reg);

    //  a change and its version in one transaction; a rolled back one leaves nothing
    tool.current_version = 2;
    snprintf (tool.name, sizeof tool.name, "plus");
    ids_now_iso (tool.updated_at);
    assert_int_equal (store_begin (reg, &err), 0);
    assert_int_equal (store_tool_update (reg, &tool, &err), 0);
    assert_int_equal (store_version_insert (reg, &tool, "Updated name", "manual", &err), 0);
    store_rollback (reg);
    assert_int_equal (store_tool_get (reg, tool.id, &got, &err), 0);
    assert_string_equal (got.name, "add");
    assert_int_equal (got.current_version, 1);
    tool_clear (&got);
    assert_int_equal (store_begin (reg, &err), 0);
    assert_int_equal (store_tool_update (reg, &tool, &err), 0);
    assert_int_equal (store_version_insert (reg, &tool, "Updated name", "manual", &err), 0);
    assert_int_equal (store_commit (reg, &err), 0);

    version_t *versions = NULL;
    size_t count = 0;
    assert_int_equal (store_version_list (reg, tool.id, &versions, &count, &err), 0);
    assert_int_equal (count, 2);
    assert_int_equal (versions [0].version, 2);
    assert_string_equal (versions [0].change_source, "manual");
    assert_string_equal (versions [1].change_summary, "Initial version");
    for (size_t i = 0; i < count; i++)
        version_clear (&versions [i]);
    free (versions);
    version_t v1;
    assert_int_equal (store_version_get (reg, tool.id, 1, &v1, &err), 0);
    assert_string_equal (v1.name, "add");
    assert_string_equal (v1.python_code, CODE);
    assert_string_equal (v1.input_schema, SCHEMA);
    version_clear (&v1);
    assert_int_equal (store_version_get (reg, tool.id, 3, &v1, &err), -1);
    assert_int_equal (err.code, BUS_ERR_NOT_FOUND);

    //  a version number is written once
    assert_int_equal (store_version_insert (reg, &tool, "again", "manual", &err), -1);
    assert_int_equal (err.code, BUS_ERR_CONFLICT);

    //  deleting the server takes tools and versions with it
    assert_int_equal (store_server_delete (reg, server.id, &err), 0);
    assert_int_equal (store_tool_get (reg, tool.id, &got, &err), -1);
    assert_int_equal (err.code, BUS_ERR_NOT_FOUND);
    assert_int_equal (store_version_list (reg, tool.id, &versions, &count, &err), 0);
    assert_int_equal (count, 0);
    free (versions);
    assert_int_equal (store_server_delete (reg, server.id, &err), -1);
    assert_int_equal (err.code, BUS_ERR_NOT_FOUND);
    tool_clear (&tool);
    tool_clear (&clash);
    server_clear (&server);
}

//  The tools of a decoded catalog reply, as "full_name" strings joined by ','.
static void
s_catalog_names (registry_t *reg, char *out, size_t size, int64_t *revision)
{
    msgw_t *w = catalog_reply (reg->catalog);
    const char *why = NULL;
    msg_t *msg = msg_decode (msgw_data (w), msgw_size (w), NULL, &why);
    assert_non_null (msg);
    assert_true (msg_is_ok (msg));
    assert_int_equal (msg_get_int (msg_root (msg), "revision", revision), MSG_FIELD_OK);
    const msgpack_object *tools = NULL;
    assert_int_equal (msg_get_array (msg_root (msg), "tools", &tools), MSG_FIELD_OK);
    out [0] = 0;
    for (uint32_t i = 0; i < tools->via.array.size; i++) {
        char name [300];
        assert_int_equal (msg_get_cstr (&tools->via.array.ptr [i], "full_name", name,
                                        sizeof name), MSG_FIELD_OK);
        const msgpack_object *schema = NULL;
        assert_int_equal (msg_get_map (&tools->via.array.ptr [i], "input_schema", &schema),
                          MSG_FIELD_OK);
        snprintf (out + strlen (out), size - strlen (out), "%s%s", i ? "," : "", name);
    }
    msg_destroy (&msg);
    msgw_destroy (&w);
}

static void
test_catalog (void **state)
{
    fixture_t *self = *state;
    registry_t *reg = self->reg;
    bus_err_t err;
    char names [1024];
    int64_t revision = -1;
    s_catalog_names (reg, names, sizeof names, &revision);
    assert_string_equal (names, "");
    assert_int_equal (revision, 0);

    server_t a, b;
    tool_t t1, t2, t3;
    s_server (reg, "beta", &b);
    s_server (reg, "alpha", &a);
    s_tool (reg, &a, "zed", &t1);
    s_tool (reg, &a, "add", &t2);
    s_tool (reg, &b, "echo", &t3);
    store_refresh_catalog (reg);
    s_catalog_names (reg, names, sizeof names, &revision);
    assert_string_equal (names, "");                //  no server running
    assert_int_equal (revision, 3);

    bool changed;
    assert_int_equal (store_server_set_status (reg, a.id, "running", &changed, &err), 0);
    assert_int_equal (store_server_set_status (reg, b.id, "running", &changed, &err), 0);
    store_refresh_catalog (reg);
    s_catalog_names (reg, names, sizeof names, &revision);
    assert_string_equal (names, "alpha__add,alpha__zed,beta__echo");
    assert_int_equal (catalog_count (reg->catalog), 3);

    t2.enabled = false;
    t2.current_version = 2;
    assert_int_equal (store_tool_update (reg, &t2, &err), 0);
    assert_int_equal (store_server_set_status (reg, b.id, "stopped", &changed, &err), 0);
    store_refresh_catalog (reg);
    s_catalog_names (reg, names, sizeof names, &revision);
    assert_string_equal (names, "alpha__zed");

    //  a reopened registry builds the same catalog from the database
    int64_t before = reg->revision;
    registry_destroy (&self->reg);
    char errbuf [512] = "";
    self->reg = reg = registry_new (self->path, errbuf, sizeof errbuf);
    assert_non_null (reg);
    assert_int_equal (reg->revision, before);
    s_catalog_names (reg, names, sizeof names, &revision);
    assert_string_equal (names, "alpha__zed");
    assert_int_equal (revision, before);
    server_clear (&a);
    server_clear (&b);
    tool_clear (&t1);
    tool_clear (&t2);
    tool_clear (&t3);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_open_refuses_an_old_schema, setup, teardown),
        cmocka_unit_test_setup_teardown (test_servers, setup, teardown),
        cmocka_unit_test_setup_teardown (test_tools_versions_and_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown (test_catalog, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
