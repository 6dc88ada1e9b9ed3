/*  catalog_cache.c — fetch, filter, sort, notice changes. See catalog_cache.h.

    Fetch state: one fetch at a time, numbered by `generation`; its two
    tokens are CATALOG_TOKEN_BIT | generation << 1 | which, so a reply
    from an older fetch is recognised and dropped. When an event
    invalidates the snapshot while a fetch runs, that fetch's result is
    still applied (it is no older than what we had) but the waiters stay
    queued and a new fetch starts at once; after CATALOG_REFETCH_MAX such
    rounds the waiters are released anyway, so a storm of events cannot
    starve them.
*/
#include <czmq.h>
#include <sodium.h>

#include "bus_json.h"
#include "log.h"
#include "msg.h"
#include "catalog_cache.h"
#include "tool_hints.h"

#define CATALOG_REFETCH_MAX 3

typedef struct {
    json_t         *catalog;     //  registry reply (owned)
    json_t         *effective;   //  approval reply (owned)
    catalog_tool_t *tools;       //  callable, sorted by full_name
    size_t          count;
} snapshot_t;

struct _catalog_cache_t {
    bus_bridge_t       *bridge;         //  NULL in tests
    catalog_ready_fn   *ready;
    catalog_changed_fn *changed;
    void               *arg;
    snapshot_t          snap;           //  current (count 0 when none)
    bool                valid;          //  a snapshot was ever applied
    bool                stale;          //  invalidated since fetched
    int64_t             fetched_ms;     //  when the snapshot's fetch began
    uint8_t             digest [crypto_generichash_BYTES];  //  of the list
    uint64_t            revision;       //  list revision
    //  the fetch in flight
    bool                fetching;
    uint64_t            generation;
    int64_t             fetch_started_ms;
    bus_json_t          replies [2];    //  catalog, effective
    bool                got [2];
    void               *raw [2];        //  raw bodies (for apply)
    size_t              raw_size [2];
    bool                dirty;          //  invalidated during this fetch
    int                 rounds;         //  refetches while waiters wait
    uint64_t           *waiters;        //  request ids
    size_t              waiter_count;
};

static const char *s_services [2] = { "registry", "approval" };
static const char *s_ops [2] = { "catalog", "effective" };

static void
s_snapshot_clear (snapshot_t *snap)
{
    json_decref (snap->catalog);
    json_decref (snap->effective);
    free (snap->tools);
    memset (snap, 0, sizeof *snap);
}

catalog_cache_t *
catalog_cache_new (bus_bridge_t *bridge, catalog_ready_fn *ready,
                   catalog_changed_fn *changed, void *arg)
{
    if (sodium_init () < 0)
        return NULL;
    catalog_cache_t *self = calloc (1, sizeof *self);
    assert (self);
    self->bridge = bridge;
    self->ready = ready;
    self->changed = changed;
    self->arg = arg;
    //  the empty list's digest, and a revision that differs across restarts
    crypto_generichash (self->digest, sizeof self->digest, NULL, 0, NULL, 0);
    self->revision = 1 + (randombytes_random () & 0xffffff);
    return self;
}

static void
s_fetch_reset (catalog_cache_t *self)
{
    for (int i = 0; i < 2; i++) {
        free (self->raw [i]);
        self->raw [i] = NULL;
        self->raw_size [i] = 0;
        self->got [i] = false;
    }
    self->fetching = false;
}

void
catalog_cache_destroy (catalog_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    catalog_cache_t *self = *self_p;
    s_fetch_reset (self);
    s_snapshot_clear (&self->snap);
    free (self->waiters);
    free (self);
    *self_p = NULL;
}

//  --- building a snapshot -----------------------------------------------------

static int
s_compare_tools (const void *a, const void *b)
{
    return strcmp (((const catalog_tool_t *) a)->full_name,
                   ((const catalog_tool_t *) b)->full_name);
}

//  Fill one entry from a catalog item; false if a required field is
//  missing or mistyped.
static bool
s_tool_from (json_t *item, catalog_tool_t *tool)
{
    if (!json_is_object (item))
        return false;
    tool->full_name   = bus_json_str (item, "full_name");
    tool->tool_id     = bus_json_str (item, "tool_id");
    tool->server_id   = bus_json_str (item, "server_id");
    tool->server_name = bus_json_str (item, "server_name");
    tool->name        = bus_json_str (item, "name");
    tool->code_hash   = bus_json_str (item, "code_hash");
    tool->python_code = bus_json_str (item, "python_code");
    tool->description = bus_json_str (item, "description");
    if (!tool->description)
        tool->description = "";
    if (!tool->full_name || !*tool->full_name || !tool->tool_id
    ||  !tool->server_id || !tool->code_hash || !tool->python_code)
        return false;
    if (!tool->server_name)
        tool->server_name = "";
    if (!tool->name)
        tool->name = "";
    json_t *schema = json_object_get (item, "input_schema");
    if (!json_is_object (schema)) {
        //  MCP requires an object schema: stand in the empty one
        schema = json_pack ("{s:s}", "type", "object");
        json_object_set_new (item, "input_schema", schema);
    }
    else
    if (!json_object_get (schema, "type"))
        json_object_set_new (schema, "type", json_string ("object"));
    tool->input_schema = schema;
    tool->title = bus_json_str (item, "title");
    if (!tool->title)
        tool->title = "";
    json_t *output = json_object_get (item, "output_schema");
    tool->output_schema = json_is_object (output) ? output : NULL;
    tool->annotations = NULL;           //  approval's: set by the caller
    const char *type = bus_json_str (item, "tool_type");
    tool->passthrough = type && strcmp (type, "mcp_passthrough") == 0;
    json_t *source = json_object_get (item, "source");
    tool->source = json_is_object (source) ? source : NULL;
    if (tool->passthrough
    && (!tool->source || !bus_json_str (tool->source, "url")
     || !bus_json_str (tool->source, "external_tool_name")))
        return false;                   //  a passthrough tool needs its source
    tool->timeout_ms = bus_json_int (item, "timeout_ms", 30000);
    if (tool->timeout_ms < 1000 || tool->timeout_ms > 300000)
        tool->timeout_ms = 30000;
    return true;
}

//  The digest of what clients see of the list.
//  The policy remote_tool_editing of approval's effective view: true only
//  when it is "enabled" (absent or anything else: refused).
static bool
s_remote_editing (const json_t *effective)
{
    const char *value = bus_json_str (json_object_get (effective, "settings"),
                                      "remote_tool_editing");
    return value && strcmp (value, "enabled") == 0;
}

static void
s_digest (snapshot_t *snap, uint8_t *out)
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, crypto_generichash_BYTES);
    for (size_t i = 0; i < snap->count; i++) {
        catalog_tool_t *tool = &snap->tools [i];
        char *schema = json_dumps (tool->input_schema, JSON_COMPACT | JSON_SORT_KEYS);
        char *output = tool->output_schema
                     ? json_dumps (tool->output_schema, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        char *hints = tool->annotations
                    ? json_dumps (tool->annotations, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        const char *parts [] = { tool->full_name, tool->description, schema ? schema : "",
                                 tool->title, output ? output : "", hints ? hints : "" };
        for (int p = 0; p < 6; p++)
            crypto_generichash_update (&state, (const uint8_t *) parts [p],
                                       strlen (parts [p]) + 1);
        free (schema);
        free (output);
        free (hints);
    }
    //  the remote listener's list depends on the policy too: a change is a
    //  new revision (list_changed, and cursors of the old list refused)
    const char *editing = s_remote_editing (snap->effective) ? "remote editing" : "";
    crypto_generichash_update (&state, (const uint8_t *) editing, strlen (editing) + 1);
    crypto_generichash_final (&state, out, crypto_generichash_BYTES);
}

//  The hints the admin set on approving this code: approval sends them as
//  JSON text; parsed once and kept in the pair (so they live as long as the
//  snapshot). Anything but an object of known booleans is dropped whole,
//  counted in the log: a hint nobody set must not reach a client.
static json_t *
s_reviewed_hints (json_t *pair)
{
    const char *text = bus_json_str (pair, "annotations");
    if (!text)
        return NULL;
    json_t *hints = json_loads (text, JSON_REJECT_DUPLICATES, NULL);
    bool valid = json_is_object (hints) && json_object_size (hints) <= TOOL_HINTS_COUNT;
    if (valid && json_object_size (hints) == 0) {
        json_decref (hints);        //  the admin set none: nothing to list
        return NULL;
    }
    const char *key;
    json_t *value;
    json_object_foreach (valid ? hints : NULL, key, value) {
        bool known = false;
        for (size_t h = 0; h < TOOL_HINTS_COUNT; h++)
            known |= strcmp (key, tool_hints_names [h]) == 0;
        valid &= known && json_is_boolean (value);
    }
    if (!valid) {
        log_warn ("catalog: approval sent unusable annotations for tool %s; none listed",
                  bus_json_str (pair, "tool_id"));
        json_decref (hints);
        return NULL;
    }
    json_object_set_new (pair, "annotations_parsed", hints);
    return hints;
}

static int
s_decode (const void *body, size_t size, const char *what, json_t **out,
          char *err, size_t errlen)
{
    bus_json_t reply;
    bus_json_parse (body, size, &reply);
    if (!reply.ok) {
        snprintf (err, errlen, "%s: %s", what, bus_error_name (reply.code));
        return -1;
    }
    *out = reply.body;
    return 0;
}

int
catalog_cache_apply (catalog_cache_t *self, const void *catalog,
                     size_t catalog_size, const void *effective,
                     size_t effective_size, char *err, size_t errlen)
{
    snapshot_t snap = { 0 };
    if (s_decode (catalog, catalog_size, "registry catalog", &snap.catalog, err, errlen)
    ||  s_decode (effective, effective_size, "approval effective", &snap.effective,
                  err, errlen)) {
        s_snapshot_clear (&snap);
        return -1;
    }
    json_t *tools = json_object_get (snap.catalog, "tools");
    json_t *approved = json_object_get (snap.effective, "approved");
    if (!json_is_array (tools) || !json_is_array (approved)) {
        snprintf (err, errlen, "%s", !json_is_array (tools)
                  ? "registry catalog: no tools list" : "approval effective: no approved list");
        s_snapshot_clear (&snap);
        return -1;
    }
    //  the approved pairs, as "tool_id\ncode_hash" -> their item
    zhashx_t *pairs = zhashx_new ();
    size_t i;
    json_t *item;
    json_array_foreach (approved, i, item) {
        const char *tool_id = bus_json_str (item, "tool_id");
        const char *hash = bus_json_str (item, "code_hash");
        if (tool_id && hash) {
            char *key = zsys_sprintf ("%s\n%s", tool_id, hash);
            zhashx_update (pairs, key, item);
            zstr_free (&key);
        }
    }
    snap.tools = calloc (json_array_size (tools) + 1, sizeof *snap.tools);
    assert (snap.tools);
    size_t skipped = 0;
    json_array_foreach (tools, i, item) {
        catalog_tool_t tool = { 0 };
        if (!s_tool_from (item, &tool)) {
            skipped++;
            continue;
        }
        char *key = zsys_sprintf ("%s\n%s", tool.tool_id, tool.code_hash);
        json_t *pair = zhashx_lookup (pairs, key);
        if (pair) {
            tool.annotations = s_reviewed_hints (pair);
            snap.tools [snap.count++] = tool;
        }
        zstr_free (&key);
    }
    zhashx_destroy (&pairs);
    if (skipped)
        log_warn ("catalog: %zu malformed entries skipped", skipped);
    qsort (snap.tools, snap.count, sizeof *snap.tools, s_compare_tools);
    //  one tool per name: a duplicate (never expected) keeps the first
    size_t kept = 0;
    for (i = 0; i < snap.count; i++)
        if (kept == 0 || strcmp (snap.tools [kept - 1].full_name,
                                 snap.tools [i].full_name) != 0)
            snap.tools [kept++] = snap.tools [i];
    snap.count = kept;

    s_snapshot_clear (&self->snap);
    self->snap = snap;
    self->valid = true;
    uint8_t digest [crypto_generichash_BYTES];
    s_digest (&self->snap, digest);
    if (memcmp (digest, self->digest, sizeof digest) != 0) {
        memcpy (self->digest, digest, sizeof digest);
        self->revision++;
        if (self->changed)
            self->changed (self->arg);
    }
    return 0;
}

//  --- fetching --------------------------------------------------------------

static void
s_release_waiters (catalog_cache_t *self, bool ok)
{
    //  the callback may queue new waiters: release only those we have now
    uint64_t *waiters = self->waiters;
    size_t count = self->waiter_count;
    self->waiters = NULL;
    self->waiter_count = 0;
    self->rounds = 0;
    for (size_t i = 0; i < count; i++)
        if (self->ready)
            self->ready (self->arg, waiters [i], ok);
    free (waiters);
}

static void
s_fetch_start (catalog_cache_t *self, int64_t now_ms)
{
    if (self->fetching || !self->bridge)
        return;
    s_fetch_reset (self);
    self->fetching = true;
    self->dirty = false;
    self->generation++;
    self->fetch_started_ms = now_ms;
    for (int i = 0; i < 2; i++) {
        msgw_t *request = msgw_op_new (s_ops [i]);
        uint64_t token = CATALOG_TOKEN_BIT | (self->generation << 1) | (uint64_t) i;
        uint64_t ticket = bus_bridge_submit (self->bridge, s_services [i],
                                             msgw_data (request), msgw_size (request),
                                             CATALOG_FETCH_TIMEOUT_MS, token);
        if (!ticket) {
            //  refused: complete that half now as `unavailable`
            msgw_t *error = msgw_error_new (BUS_ERR_UNAVAILABLE, "bus refused");
            catalog_cache_deliver (self, token, msgw_data (error), msgw_size (error),
                                   now_ms);
            msgw_destroy (&error);
        }
        msgw_destroy (&request);
        if (!self->fetching)
            break;          //  the refusal ended this fetch
    }
}

static void
s_fetch_end (catalog_cache_t *self, int64_t now_ms)
{
    char err [256] = "";
    int64_t started = self->fetch_started_ms;
    int rc = catalog_cache_apply (self, self->raw [0], self->raw_size [0],
                                  self->raw [1], self->raw_size [1],
                                  err, sizeof err);
    s_fetch_reset (self);
    if (rc == 0) {
        self->fetched_ms = started;
        self->stale = self->dirty;
    }
    else
        log_warn ("tool catalog not refreshed: %s", err);

    if (self->dirty && ++self->rounds <= CATALOG_REFETCH_MAX
    &&  self->waiter_count) {
        s_fetch_start (self, now_ms);       //  waiters wait for the newer one
        return;
    }
    bool fresh = rc == 0;
    s_release_waiters (self, fresh);
    if (self->dirty)
        s_fetch_start (self, now_ms);
}

void
catalog_cache_deliver (catalog_cache_t *self, uint64_t token, const void *body,
                       size_t size, int64_t now_ms)
{
    if (!(token & CATALOG_TOKEN_BIT) || !self->fetching)
        return;
    uint64_t generation = (token & ~CATALOG_TOKEN_BIT) >> 1;
    int which = (int) (token & 1);
    if (generation != self->generation || self->got [which])
        return;
    self->got [which] = true;
    self->raw [which] = malloc (size ? size : 1);
    assert (self->raw [which]);
    if (size)
        memcpy (self->raw [which], body, size);
    self->raw_size [which] = size;
    if (self->got [0] && self->got [1])
        s_fetch_end (self, now_ms);
}

bool
catalog_cache_fresh (catalog_cache_t *self, int64_t max_age_ms, int64_t now_ms,
                     uint64_t waiter)
{
    if (self->valid && !self->stale && now_ms - self->fetched_ms < max_age_ms)
        return true;
    if (waiter) {
        if (self->waiter_count == CATALOG_WAITERS_MAX) {
            //  too many waiting: this one is told "not fresh" at once
            if (self->ready)
                self->ready (self->arg, waiter, false);
            return false;
        }
        uint64_t *grown = realloc (self->waiters,
                                   (self->waiter_count + 1) * sizeof *grown);
        assert (grown);
        self->waiters = grown;
        self->waiters [self->waiter_count++] = waiter;
    }
    s_fetch_start (self, now_ms);
    return false;
}

void
catalog_cache_invalidate (catalog_cache_t *self, int64_t now_ms)
{
    self->stale = true;
    if (self->fetching)
        self->dirty = true;
    else
        s_fetch_start (self, now_ms);
}

void
catalog_cache_refresh (catalog_cache_t *self, int64_t max_age_ms, int64_t now_ms)
{
    if (!self->fetching && (!self->valid || self->stale
                            || now_ms - self->fetched_ms >= max_age_ms))
        s_fetch_start (self, now_ms);
}

//  --- reading ----------------------------------------------------------------

bool     catalog_cache_valid (catalog_cache_t *self) { return self->valid; }
size_t   catalog_cache_count (catalog_cache_t *self) { return self->snap.count; }
uint64_t catalog_cache_revision (catalog_cache_t *self) { return self->revision; }

bool
catalog_cache_remote_editing (catalog_cache_t *self)
{
    return self->valid && s_remote_editing (self->snap.effective);
}

const catalog_tool_t *
catalog_cache_tool (catalog_cache_t *self, size_t index)
{
    return index < self->snap.count ? &self->snap.tools [index] : NULL;
}

const catalog_tool_t *
catalog_cache_find (catalog_cache_t *self, const char *full_name)
{
    if (!self->snap.tools || self->snap.count == 0)
        return NULL;            //  bsearch's array must not be NULL, even for 0 items
    catalog_tool_t key = { .full_name = full_name };
    return bsearch (&key, self->snap.tools, self->snap.count,
                    sizeof *self->snap.tools, s_compare_tools);
}

const char *
catalog_cache_removed (catalog_cache_t *self, const char *full_name)
{
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (self->snap.catalog, "removed"), i, item) {
        const char *name = bus_json_str (item, "full_name");
        if (name && strcmp (name, full_name) == 0) {
            const char *source = bus_json_str (item, "source_name");
            return source ? source : "";
        }
    }
    return NULL;
}

bool
catalog_cache_server (catalog_cache_t *self, const char *server_id,
                      catalog_server_t *out)
{
    memset (out, 0, sizeof *out);
    out->network_policy = "allowlist";
    json_t *servers = json_object_get (self->snap.effective, "servers");
    json_t *server = json_object_get (servers, server_id);
    //  a server with no approved host or module is not listed: approval's
    //  defaults are its rules (the network policy among them: with
    //  allow_all_public its tools reach public hosts like a listed one's)
    if (!json_is_object (server))
        server = json_object_get (self->snap.effective, "defaults");
    if (!json_is_object (server))
        return false;
    json_t *modules = json_object_get (server, "allowed_modules");
    json_t *hosts = json_object_get (server, "allowed_hosts");
    out->allowed_modules = json_is_array (modules) ? modules : NULL;
    out->allowed_hosts = json_is_array (hosts) ? hosts : NULL;
    const char *policy = bus_json_str (server, "network_policy");
    if (policy && strcmp (policy, "allow_all_public") == 0)
        out->network_policy = "allow_all_public";
    return true;
}
