/*  mcp_session.c — the session table, a CZMQ zhashx keyed by session id.

    Keys point into the sessions themselves (no copies). Eviction when
    full scans for the least recently used session: O(n), and only when
    the table is at its bound. See mcp_session.h.
*/
#include <czmq.h>
#include <sodium.h>

#include "mcp_session.h"

struct _mcp_sessions_t {
    zhashx_t            *table;     //  id -> mcp_session_t (owned)
    size_t               max;       //  sessions at most
    int64_t              idle_ms;   //  idle limit
    mcp_session_drop_fn *on_drop;   //  told of every end, or NULL
    void                *arg;
};

static void
s_session_free (void **item)
{
    free (*item);
    *item = NULL;
}

mcp_sessions_t *
mcp_sessions_new (size_t max, int64_t idle_ms, mcp_session_drop_fn *on_drop,
                  void *arg)
{
    if (sodium_init () < 0)
        return NULL;
    mcp_sessions_t *self = calloc (1, sizeof *self);
    assert (self);
    self->table = zhashx_new ();
    assert (self->table);
    //  keys live inside the values: no key copies, no key destructor
    zhashx_set_key_duplicator (self->table, NULL);
    zhashx_set_key_destructor (self->table, NULL);
    zhashx_set_destructor (self->table, s_session_free);
    self->max = max ? max : 1;
    self->idle_ms = idle_ms;
    self->on_drop = on_drop;
    self->arg = arg;
    return self;
}

void
mcp_sessions_destroy (mcp_sessions_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy (&(*self_p)->table);
    free (*self_p);
    *self_p = NULL;
}

bool
mcp_session_id_valid (const char *text)
{
    if (!text)
        return false;
    size_t i = 0;
    for (; text [i]; i++) {
        char c = text [i];
        if (i == MCP_SESSION_ID_LEN || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return i == MCP_SESSION_ID_LEN;
}

static void
s_end (mcp_sessions_t *self, mcp_session_t *session)
{
    if (self->on_drop)
        self->on_drop (self->arg, session);
    zhashx_delete (self->table, session->id);
}

static bool
s_expired (mcp_sessions_t *self, mcp_session_t *session, int64_t now_ms)
{
    return now_ms - session->last_seen_ms > self->idle_ms;
}

//  Make room for one more: the expired first, then the least recently used.
static void
s_make_room (mcp_sessions_t *self, int64_t now_ms)
{
    if (zhashx_size (self->table) < self->max)
        return;
    mcp_sessions_sweep (self, now_ms);
    while (zhashx_size (self->table) >= self->max) {
        mcp_session_t *oldest = NULL;
        for (mcp_session_t *session = zhashx_first (self->table); session;
             session = zhashx_next (self->table))
            if (!oldest || session->last_seen_ms < oldest->last_seen_ms)
                oldest = session;
        s_end (self, oldest);
    }
}

mcp_session_t *
mcp_sessions_create (mcp_sessions_t *self, const char *protocol, int64_t now_ms)
{
    s_make_room (self, now_ms);
    mcp_session_t *session = calloc (1, sizeof *session);
    assert (session);
    session->log_rank = -1;
    assert (session);
    do {
        uint8_t raw [MCP_SESSION_ID_LEN / 2];
        randombytes_buf (raw, sizeof raw);
        sodium_bin2hex (session->id, sizeof session->id, raw, sizeof raw);
    } while (zhashx_lookup (self->table, session->id));   //  2^-256, but still
    snprintf (session->protocol, sizeof session->protocol, "%s",
              protocol ? protocol : "");
    session->created_ms = session->last_seen_ms = now_ms;
    int rc = zhashx_insert (self->table, session->id, session);
    assert (rc == 0);
    (void) rc;
    return session;
}

mcp_session_t *
mcp_sessions_lookup (mcp_sessions_t *self, const char *id, int64_t now_ms)
{
    if (!mcp_session_id_valid (id))
        return NULL;
    mcp_session_t *session = zhashx_lookup (self->table, id);
    if (!session)
        return NULL;
    if (s_expired (self, session, now_ms)) {
        s_end (self, session);
        return NULL;
    }
    session->last_seen_ms = now_ms;
    return session;
}

int
mcp_sessions_remove (mcp_sessions_t *self, const char *id)
{
    mcp_session_t *session = mcp_session_id_valid (id)
                           ? zhashx_lookup (self->table, id) : NULL;
    if (!session)
        return -1;
    s_end (self, session);
    return 0;
}

size_t
mcp_sessions_sweep (mcp_sessions_t *self, int64_t now_ms)
{
    //  collect first: the table must not change under its cursor
    zlistx_t *expired = zlistx_new ();
    for (mcp_session_t *session = zhashx_first (self->table); session;
         session = zhashx_next (self->table))
        if (s_expired (self, session, now_ms))
            zlistx_add_end (expired, session);
    size_t count = zlistx_size (expired);
    for (mcp_session_t *session = zlistx_first (expired); session;
         session = zlistx_next (expired))
        s_end (self, session);
    zlistx_destroy (&expired);
    return count;
}

size_t
mcp_sessions_size (mcp_sessions_t *self)
{
    return zhashx_size (self->table);
}

void
mcp_sessions_foreach (mcp_sessions_t *self, mcp_session_visit_fn *visit,
                      void *arg)
{
    for (mcp_session_t *session = zhashx_first (self->table); session;
         session = zhashx_next (self->table))
        visit (arg, session);
}
