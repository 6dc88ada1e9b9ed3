/*  static_path.c — request path to a file under web/. See static_path.h. */
#include <string.h>

#include "static_path.h"

static bool
s_segment_byte (unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int
static_path_resolve (const char *path, size_t len, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return -1;
    *out = 0;
    if (!path || len == 0 || len > STATIC_PATH_MAX || path [0] != '/'
    ||  outlen < len)
        return -1;
    if (len == 1) {
        static const char index [] = "index.html";
        if (outlen < sizeof index)
            return -1;
        memcpy (out, index, sizeof index);
        return 0;
    }
    size_t segments = 0;
    size_t at = 1;
    while (at <= len) {
        //  one segment: path [at .. end)
        size_t end = at;
        while (end < len && path [end] != '/')
            end++;
        size_t size = end - at;
        if (size == 0 || size > STATIC_PATH_SEGMENT || path [at] == '.'
        ||  ++segments > STATIC_PATH_DEPTH)
            return -1;
        for (size_t i = at; i < end; i++)
            if (!s_segment_byte ((unsigned char) path [i]))
                return -1;
        at = end + 1;       //  past the "/" (or past the end)
    }
    //  the last segment ended at len: a trailing "/" would have left an
    //  empty segment, refused above
    memcpy (out, path + 1, len - 1);
    out [len - 1] = 0;
    return 0;
}

typedef struct {
    const char *extension;
    const char *type;
} s_type_t;

static const s_type_t s_types [] = {
    { ".html",  "text/html; charset=utf-8" },
    { ".css",   "text/css; charset=utf-8" },
    { ".js",    "text/javascript; charset=utf-8" },
    { ".mjs",   "text/javascript; charset=utf-8" },
    { ".json",  "application/json" },
    { ".map",   "application/json" },
    { ".svg",   "image/svg+xml" },
    { ".png",   "image/png" },
    { ".ico",   "image/x-icon" },
    { ".webp",  "image/webp" },
    { ".woff2", "font/woff2" },
    { ".txt",   "text/plain; charset=utf-8" },
    { NULL,     NULL }
};

const char *
static_path_type (const char *relative)
{
    if (!relative)
        return NULL;
    const char *slash = strrchr (relative, '/');
    const char *name = slash ? slash + 1 : relative;
    const char *dot = strrchr (name, '.');
    if (!dot || dot == name)
        return NULL;
    for (const s_type_t *t = s_types; t->extension; t++)
        if (strcmp (dot, t->extension) == 0)
            return t->type;
    return NULL;
}

bool
static_path_is_page (const char *relative)
{
    return relative && strcmp (relative, "index.html") == 0;
}
