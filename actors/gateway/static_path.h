/*  static_path.h — which file under web/ a request path names, as pure
    functions (no file system, no lws: unit-tested and fuzzed).

    A request path is served only when it is plainly a file's path:
      - "/" names "index.html";
      - otherwise "/" then 1..STATIC_PATH_DEPTH segments joined by "/",
        each 1..STATIC_PATH_SEGMENT bytes of [A-Za-z0-9._-] that does not
        start with "." (so no ".", "..", dotfiles such as .git or .env);
      - no empty segment ("//", a trailing "/": no directory listings),
        no "%" (lws has decoded the path once; a "%" left over is double
        encoding), no "\", NUL, control or non-ASCII byte;
      - at most STATIC_PATH_MAX bytes.
    Anything else is refused as a whole: nothing is normalised, so there is
    no second interpretation of a path to get wrong. What is accepted is
    relative (no leading "/") and can only name something beneath the web
    root; symlinks are the file server's concern (http_static.c opens
    every segment with O_NOFOLLOW).

    Types: only files whose extension is in the table get served, each
    with its Content-Type; others are 404 (never sniffed, never
    application/octet-stream).
*/
#ifndef MCPBOX_GATEWAY_STATIC_PATH_H
#define MCPBOX_GATEWAY_STATIC_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define STATIC_PATH_MAX      256     //  bytes of a request path
#define STATIC_PATH_SEGMENT  64      //  bytes of one segment
#define STATIC_PATH_DEPTH    8       //  segments

//  The relative path for `path` (len bytes, not NUL-terminated) in out
//  (outlen bytes, at least STATIC_PATH_MAX + 1 to fit every answer):
//  0 served, -1 refused (out is then "").
int         static_path_resolve (const char *path, size_t len,
                                 char *out, size_t outlen);

//  The Content-Type for a resolved path, or NULL when its extension is not
//  one we serve.
const char *static_path_type (const char *relative);

//  True for the page itself (index.html): always revalidated.
bool        static_path_is_page (const char *relative);

#endif
