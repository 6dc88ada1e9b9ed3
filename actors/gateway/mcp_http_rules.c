/*  mcp_http_rules.c — Accept, Content-Type, protocol versions, Host and
    Origin allowlists. See mcp_http_rules.h.
*/
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcp_http_rules.h"

#define NAME_MAX_LEN 255

const char *const mcp_protocol_versions [] = {
    "2025-11-25", "2025-06-18", "2025-03-26", NULL
};

bool
mcp_protocol_supported (const char *version)
{
    if (!version)
        return false;
    for (int i = 0; mcp_protocol_versions [i]; i++)
        if (strcmp (version, mcp_protocol_versions [i]) == 0)
            return true;
    return false;
}

//  --- media types -----------------------------------------------------------

//  First c in [p, end), or NULL.
static const char *
s_find (const char *p, const char *end, char c)
{
    for (; p < end; p++)
        if (*p == c)
            return p;
    return NULL;
}

static const char *
s_skip_space (const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *
s_trim_end (const char *start, const char *end)
{
    while (end > start && (end [-1] == ' ' || end [-1] == '\t'))
        end--;
    return end;
}

//  Within one media range [p, end): true if its parameters include
//  name=value (case-insensitive, quotes allowed around the value).
static bool
s_param_is (const char *p, const char *end, const char *name, const char *value)
{
    size_t name_len = strlen (name), value_len = strlen (value);
    while (p < end) {
        const char *semi = s_find (p, end, ';');
        if (!semi)
            return false;
        p = s_skip_space (semi + 1, end);
        const char *stop = s_find (p, end, ';');
        if (!stop)
            stop = end;
        const char *eq = s_find (p, stop, '=');
        if (eq) {
            const char *key_end = s_trim_end (p, eq);
            const char *v = s_skip_space (eq + 1, stop);
            const char *v_end = s_trim_end (v, stop);
            if (v_end - v >= 2 && *v == '"' && v_end [-1] == '"') {
                v++;
                v_end--;
            }
            if ((size_t) (key_end - p) == name_len
            &&  strncasecmp (p, name, name_len) == 0)
                return (size_t) (v_end - v) == value_len
                    && strncasecmp (v, value, value_len) == 0;
        }
        p = stop;
    }
    return false;
}

//  The type/subtype of one media range [p, end), trimmed.
static void
s_media_type (const char *p, const char *end, const char **type_p, size_t *len_p)
{
    p = s_skip_space (p, end);
    const char *semi = s_find (p, end, ';');
    const char *type_end = s_trim_end (p, semi ? semi : end);
    *type_p = p;
    *len_p = (size_t) (type_end - p);
}

bool
mcp_accept_lists (const char *accept, const char *media_type)
{
    if (!accept)
        return false;
    size_t want = strlen (media_type);
    const char *p = accept, *end = accept + strlen (accept);
    while (p < end) {
        const char *comma = s_find (p, end, ',');
        const char *range_end = comma ? comma : end;
        const char *type;
        size_t len;
        s_media_type (p, range_end, &type, &len);
        if (len == want && strncasecmp (type, media_type, want) == 0
        &&  !s_param_is (p, range_end, "q", "0")
        &&  !s_param_is (p, range_end, "q", "0.0")
        &&  !s_param_is (p, range_end, "q", "0.00")
        &&  !s_param_is (p, range_end, "q", "0.000"))
            return true;
        p = range_end + (comma ? 1 : 0);
    }
    return false;
}

bool
mcp_content_type_json (const char *content_type)
{
    if (!content_type)
        return false;
    const char *end = content_type + strlen (content_type);
    if (s_find (content_type, end, ','))
        return false;
    const char *type;
    size_t len;
    s_media_type (content_type, end, &type, &len);
    if (len != 16 || strncasecmp (type, "application/json", 16) != 0)
        return false;
    //  a charset, if given, must be UTF-8
    const char *charset = strcasestr (content_type, "charset");
    if (charset && !s_param_is (content_type, end, "charset", "utf-8")
    &&  !s_param_is (content_type, end, "charset", "utf8"))
        return false;
    return true;
}

//  --- Host and Origin ---------------------------------------------------------

typedef struct {
    char *name;             //  lower-case host, "[::1]" form for IPv6
    int   port;             //  0 = any
} host_entry_t;

struct _mcp_allow_t {
    host_entry_t *hosts;
    size_t        host_count;
    bool          any_host;         //  "*" in allowed_hosts
    char        **origins;          //  "scheme://host[:port]", lower-case
    size_t        origin_count;
    bool          any_origin;       //  "*" in allowed_origins
};

//  Split an authority "host[:port]" of len bytes into a lower-case name
//  and a port (0 when absent). -1 if malformed.
static int
s_split_authority (const char *text, size_t len, char *name, size_t name_size,
                   int *port)
{
    const char *host_end;
    const char *end = text + len;
    if (len == 0)
        return -1;
    if (text [0] == '[') {
        const char *close = memchr (text, ']', len);
        if (!close || close == text + 1)
            return -1;
        for (const char *p = text + 1; p < close; p++)
            if (!isxdigit ((unsigned char) *p) && *p != ':' && *p != '.')
                return -1;
        host_end = close + 1;
    }
    else {
        host_end = memchr (text, ':', len);
        if (!host_end)
            host_end = end;
        if (host_end == text)
            return -1;
        for (const char *p = text; p < host_end; p++)
            if (!isalnum ((unsigned char) *p) && *p != '-' && *p != '.' && *p != '_')
                return -1;
    }
    size_t name_len = (size_t) (host_end - text);
    if (name_len >= name_size)
        return -1;
    for (size_t i = 0; i < name_len; i++)
        name [i] = (char) tolower ((unsigned char) text [i]);
    name [name_len] = 0;
    *port = 0;
    if (host_end < end) {
        if (*host_end != ':' || host_end + 1 == end || end - host_end - 1 > 5)
            return -1;
        int value = 0;
        for (const char *p = host_end + 1; p < end; p++) {
            if (!isdigit ((unsigned char) *p))
                return -1;
            value = value * 10 + (*p - '0');
        }
        if (value < 1 || value > 65535)
            return -1;
        *port = value;
    }
    return 0;
}

static void
s_add_host (mcp_allow_t *self, const char *name, int port)
{
    self->hosts = realloc (self->hosts, (self->host_count + 1) * sizeof *self->hosts);
    assert (self->hosts);
    self->hosts [self->host_count].name = strdup (name);
    assert (self->hosts [self->host_count].name);
    self->hosts [self->host_count++].port = port;
}

//  Split a comma-separated list and call add on each trimmed entry.
typedef int (entry_fn) (mcp_allow_t *self, const char *entry, size_t len,
                        char *err, size_t errlen);

static int
s_each_entry (mcp_allow_t *self, const char *list, entry_fn *add,
              char *err, size_t errlen)
{
    if (!list)
        return 0;
    const char *p = list, *end = list + strlen (list);
    while (p < end) {
        const char *comma = s_find (p, end, ',');
        const char *stop = comma ? comma : end;
        const char *start = s_skip_space (p, stop);
        const char *entry_end = s_trim_end (start, stop);
        if (entry_end > start && add (self, start, (size_t) (entry_end - start),
                                      err, errlen))
            return -1;
        p = stop + (comma ? 1 : 0);
    }
    return 0;
}

static int
s_add_host_entry (mcp_allow_t *self, const char *entry, size_t len,
                  char *err, size_t errlen)
{
    if (len == 1 && *entry == '*') {
        self->any_host = true;
        return 0;
    }
    char name [NAME_MAX_LEN + 1];
    int port;
    if (s_split_authority (entry, len, name, sizeof name, &port)) {
        snprintf (err, errlen, "allowed_hosts: '%.*s' is not a host or host:port",
                  (int) (len > 100 ? 100 : len), entry);
        return -1;
    }
    s_add_host (self, name, port);
    return 0;
}

//  "scheme://authority" → scheme length and the authority; -1 if not one.
static int
s_split_origin (const char *origin, size_t len, size_t *scheme_len,
                char *name, size_t name_size, int *port)
{
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < len; i++)
        if (origin [i] == ':' && origin [i + 1] == '/' && origin [i + 2] == '/') {
            sep = origin + i;
            break;
        }
    if (!sep)
        return -1;
    *scheme_len = (size_t) (sep - origin);
    if ((*scheme_len != 4 || strncasecmp (origin, "http", 4) != 0)
    &&  (*scheme_len != 5 || strncasecmp (origin, "https", 5) != 0))
        return -1;
    const char *authority = sep + 3;
    return s_split_authority (authority, len - (size_t) (authority - origin),
                              name, name_size, port);
}

static int
s_add_origin_entry (mcp_allow_t *self, const char *entry, size_t len,
                    char *err, size_t errlen)
{
    if (len == 1 && *entry == '*') {
        self->any_origin = true;
        return 0;
    }
    size_t scheme_len;
    char name [NAME_MAX_LEN + 1];
    int port;
    if (s_split_origin (entry, len, &scheme_len, name, sizeof name, &port)) {
        snprintf (err, errlen, "allowed_origins: '%.*s' is not an origin "
                  "(http[s]://host[:port])", (int) (len > 100 ? 100 : len), entry);
        return -1;
    }
    char *text = malloc (len + 1);
    assert (text);
    for (size_t i = 0; i < len; i++)
        text [i] = (char) tolower ((unsigned char) entry [i]);
    text [len] = 0;
    self->origins = realloc (self->origins, (self->origin_count + 1) * sizeof *self->origins);
    assert (self->origins);
    self->origins [self->origin_count++] = text;
    return 0;
}

mcp_allow_t *
mcp_allow_new (const char *hosts, const char *origins, char *err, size_t errlen)
{
    mcp_allow_t *self = calloc (1, sizeof *self);
    assert (self);
    s_add_host (self, "localhost", 0);
    s_add_host (self, "127.0.0.1", 0);
    s_add_host (self, "[::1]", 0);
    if (s_each_entry (self, hosts, s_add_host_entry, err, errlen)
    ||  s_each_entry (self, origins, s_add_origin_entry, err, errlen)) {
        mcp_allow_destroy (&self);
        return NULL;
    }
    return self;
}

void
mcp_allow_destroy (mcp_allow_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mcp_allow_t *self = *self_p;
    for (size_t i = 0; i < self->host_count; i++)
        free (self->hosts [i].name);
    for (size_t i = 0; i < self->origin_count; i++)
        free (self->origins [i]);
    free (self->hosts);
    free (self->origins);
    free (self);
    *self_p = NULL;
}

static bool
s_host_listed (mcp_allow_t *self, const char *name, int port)
{
    for (size_t i = 0; i < self->host_count; i++)
        if (strcmp (self->hosts [i].name, name) == 0
        &&  (self->hosts [i].port == 0 || self->hosts [i].port == port))
            return true;
    return false;
}

bool
mcp_allow_host (mcp_allow_t *self, const char *host)
{
    if (!host || !*host)
        return false;
    if (self->any_host)
        return true;
    char name [NAME_MAX_LEN + 1];
    int port;
    if (s_split_authority (host, strlen (host), name, sizeof name, &port))
        return false;
    return s_host_listed (self, name, port);
}

bool
mcp_allow_origin (mcp_allow_t *self, const char *origin)
{
    if (!origin)
        return false;
    if (self->any_origin)
        return true;
    size_t len = strlen (origin);
    size_t scheme_len;
    char name [NAME_MAX_LEN + 1];
    int port;
    if (s_split_origin (origin, len, &scheme_len, name, sizeof name, &port))
        return false;                   //  "null" and the like
    if (s_host_listed (self, name, port))
        return true;
    for (size_t i = 0; i < self->origin_count; i++) {
        const char *entry = self->origins [i];
        size_t entry_len = strlen (entry);
        size_t entry_scheme;
        char entry_name [NAME_MAX_LEN + 1];
        int entry_port;
        if (s_split_origin (entry, entry_len, &entry_scheme, entry_name,
                            sizeof entry_name, &entry_port) == 0
        &&  entry_scheme == scheme_len
        &&  strncasecmp (entry, origin, scheme_len) == 0
        &&  strcmp (entry_name, name) == 0
        &&  (entry_port == 0 || entry_port == port))
            return true;
    }
    return false;
}
