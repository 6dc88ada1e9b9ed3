/*  http_static.h — the dashboard's files: GET/HEAD of any path no other
    route takes, served from the web root (the `web_dir` option).

    The path is checked by static_path_resolve (static_path.h) and refused
    with 404 when it is not plainly a file's path (the same answer as a
    missing file: a probe learns nothing); the file is then opened
    beneath the web root's directory descriptor one segment at a time with
    O_NOFOLLOW, so neither a symlink nor anything outside the root is ever
    opened; only a regular file of a known type, at most
    HTTP_STATIC_FILE_MAX bytes, is served (else 404).

    Caching: every file carries a strong ETag (inode, size, mtime) and
    Cache-Control: no-cache, so the browser revalidates and gets 304 Not
    Modified while nothing changed. The module files are not fingerprinted
    (no build step), so letting an old module live on beside a new
    index.html for a max-age would mix versions; a 304 on loopback costs
    less than that risk.

    The security headers every gateway answer carries (CSP and friends)
    are http_req.c's.
*/
#ifndef MCPBOX_GATEWAY_HTTP_STATIC_H
#define MCPBOX_GATEWAY_HTTP_STATIC_H

#include "http_req.h"

#define HTTP_STATIC_FILE_MAX  (4u << 20)     //  bytes of one served file

typedef struct _http_static_t http_static_t;

//  Open the web root (a directory). NULL with a message in err if it is
//  not one; the gateway then answers 404 for every static path.
http_static_t *http_static_new (const char *dir, char *err, size_t errlen);
void           http_static_destroy (http_static_t **self_p);
//  The web root as opened (its real path).
const char    *http_static_dir (http_static_t *self);

//  The route handler (gateway->web may be NULL).
void           http_static_start (http_req_t *req);

#endif
