/*  http_static.c — serving the files under the web root. See http_static.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_static.h"
#include "static_path.h"

struct _http_static_t {
    int   root;                 //  O_PATH descriptor of the web root
    char *dir;                  //  its real path
};

http_static_t *
http_static_new (const char *dir, char *err, size_t errlen)
{
    char *real = dir && *dir ? realpath (dir, NULL) : NULL;
    if (!real) {
        snprintf (err, errlen, "web_dir %s: %s", dir && *dir ? dir : "(empty)",
                  dir && *dir ? strerror (errno) : "not set");
        return NULL;
    }
    int root = open (real, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        snprintf (err, errlen, "web_dir %s: %s", real, strerror (errno));
        free (real);
        return NULL;
    }
    http_static_t *self = calloc (1, sizeof *self);
    if (!self) {
        close (root);
        free (real);
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->root = root;
    self->dir = real;
    return self;
}

void
http_static_destroy (http_static_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_static_t *self = *self_p;
    close (self->root);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

const char *
http_static_dir (http_static_t *self)
{
    return self->dir;
}

//  Open relative (checked by static_path_resolve) beneath the root, every
//  segment with O_NOFOLLOW: a symlink anywhere fails (ENOTDIR / ELOOP).
//  A read descriptor, or -1.
static int
s_open_beneath (int root, const char *relative)
{
    char copy [STATIC_PATH_MAX + 1];
    snprintf (copy, sizeof copy, "%s", relative);
    int dir = root;
    char *segment = copy;
    char *slash;
    while ((slash = strchr (segment, '/'))) {
        *slash = 0;
        int next = openat (dir, segment, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir != root)
            close (dir);
        if (next < 0)
            return -1;
        dir = next;
        segment = slash + 1;
    }
    int fd = openat (dir, segment, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (dir != root)
        close (dir);
    return fd;
}

//  The whole file (a regular one, at most HTTP_STATIC_FILE_MAX bytes).
static char *
s_read (int fd, const struct stat *st, size_t *size_p)
{
    size_t size = (size_t) st->st_size;
    char *data = malloc (size ? size : 1);
    size_t got = 0;
    while (data && got < size) {
        ssize_t n = read (fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free (data);
            return NULL;                //  shrank under us, or failed
        }
        got += (size_t) n;
    }
    *size_p = size;
    return data;
}

//  True when the If-None-Match header lists etag (or is "*").
static bool
s_not_modified (struct lws *wsi, const char *etag)
{
    char text [512];
    int len = lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH);
    if (len <= 0 || (size_t) len >= sizeof text
    ||  lws_hdr_copy (wsi, text, sizeof text, WSI_TOKEN_HTTP_IF_NONE_MATCH) < 0)
        return false;
    return strcmp (text, "*") == 0 || strstr (text, etag) != NULL;
}

void
http_static_start (http_req_t *req)
{
    struct lws *wsi = http_req_wsi (req);
    const char *method = http_req_method (req);
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
        http_req_add_header (req, "allow:", "GET, HEAD");
        http_req_respond_error (req, HTTP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed");
        return;
    }
    //  the path as lws read it (decoded once, without the query); a NUL
    //  decoded from %00 would cut it short: refused by the length check
    char path [STATIC_PATH_MAX + 2];
    enum lws_token_indexes token = lws_hdr_total_length (wsi, WSI_TOKEN_GET_URI) > 0
                                 ? WSI_TOKEN_GET_URI : WSI_TOKEN_HEAD_URI;
    int len = lws_hdr_total_length (wsi, token);
    if (len <= 0 || (size_t) len >= sizeof path
    ||  lws_hdr_copy (wsi, path, sizeof path, token) != len || strlen (path) != (size_t) len)
        len = -1;
    char relative [STATIC_PATH_MAX + 1];
    if (len <= 0 || static_path_resolve (path, (size_t) len, relative, sizeof relative) != 0) {
        http_req_respond_error (req, HTTP_STATUS_NOT_FOUND, "not_found");
        return;
    }
    http_static_t *self = http_req_gateway (req)->web;
    const char *type = static_path_type (relative);
    int fd = self && type ? s_open_beneath (self->root, relative) : -1;
    struct stat st;
    if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)
    ||  st.st_size < 0 || (uint64_t) st.st_size > HTTP_STATIC_FILE_MAX) {
        if (fd >= 0)
            close (fd);
        http_req_respond_error (req, HTTP_STATUS_NOT_FOUND, "not_found");
        return;
    }
    char etag [96];
    snprintf (etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 ".%" PRIx64 "\"",
              (uint64_t) st.st_ino, (uint64_t) st.st_size,
              (uint64_t) st.st_mtim.tv_sec, (uint64_t) st.st_mtim.tv_nsec);
    http_req_add_header (req, "etag:", etag);
    http_req_add_header (req, "cache-control:", "no-cache");
    if (s_not_modified (wsi, etag)) {
        close (fd);
        http_req_respond (req, HTTP_STATUS_NOT_MODIFIED, type, "", 0);
        return;
    }
    size_t size = 0;
    char *data = s_read (fd, &st, &size);
    close (fd);
    if (!data) {
        http_req_respond_error (req, HTTP_STATUS_NOT_FOUND, "not_found");
        return;
    }
    http_req_respond (req, HTTP_STATUS_OK, type, data, size);
    free (data);
}
