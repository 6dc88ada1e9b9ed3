/*  mcp_post.c — the header checks and body framing of POST /mcp. See
    mcp_post.h.
*/
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mcp_http_rules.h"
#include "mcp_post.h"

static bool
s_is_chunked (const char *value)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t len = strlen (value);
    while (len && (value [len - 1] == ' ' || value [len - 1] == '\t'))
        len--;
    return len == 7 && strncasecmp (value, "chunked", 7) == 0;
}

//  A declared length we could still read and drop: digits, at most
//  skip_max.
static bool
s_skippable (int has_te, int has_cl, const char *cl, uint64_t skip_max)
{
    if (has_te || has_cl != 1 || !*cl || strlen (cl) > 12)
        return false;
    uint64_t length = 0;
    for (const char *p = cl; *p; p++) {
        if (!isdigit ((unsigned char) *p))
            return false;
        length = length * 10 + (uint64_t) (*p - '0');
    }
    return length <= skip_max;
}

static void
s_refuse (mcp_post_t *out, int status, const char *message)
{
    out->status = status;
    out->message = message;
}

void
mcp_post_check (const mcp_post_headers_t *headers, uint64_t body_max,
                uint64_t skip_max, mcp_post_t *out)
{
    memset (out, 0, sizeof *out);
    int has_te = headers->has_te;
    int has_cl = headers->has_cl;
    const char *te = has_te == 1 && headers->te ? headers->te : "";
    const char *cl = has_cl == 1 && headers->cl ? headers->cl : "";
    //  how the body is framed decides whether the connection can be kept
    uint64_t length = 0;
    bool length_ok = has_cl == 1 && !has_te && *cl;
    for (const char *p = cl; length_ok && *p; p++) {
        if (!isdigit ((unsigned char) *p) || length > body_max) {
            length_ok = false;
            break;
        }
        length = length * 10 + (uint64_t) (*p - '0');
    }
    //  a body we refuse but can skip (the server reads and drops it,
    //  bounded by its content timeout) keeps the connection, so the client
    //  reads the answer instead of a reset; one we cannot skip closes it
    out->close_after = !length_ok && !s_skippable (has_te, has_cl, cl, skip_max);

    if (headers->has_accept != 1 || !headers->accept
    ||  !mcp_accept_lists (headers->accept, "application/json")
    ||  !mcp_accept_lists (headers->accept, "text/event-stream")) {
        s_refuse (out, 406, "Not Acceptable: Client must accept both application/json "
                            "and text/event-stream");
        return;
    }
    if (headers->has_type != 1 || !headers->content_type
    ||  !mcp_content_type_json (headers->content_type)) {
        s_refuse (out, 415, "Unsupported Media Type: Content-Type must be application/json");
        return;
    }
    if (has_te && (has_cl || has_te < 0 || !s_is_chunked (te))) {
        s_refuse (out, 400, has_cl ? "Bad Request: both Content-Length and Transfer-Encoding"
                                   : "Bad Request: only chunked transfer coding is supported");
        return;
    }
    if (!has_te && !has_cl) {
        s_refuse (out, 411, "Length Required: a POST needs Content-Length or chunked "
                            "transfer coding");
        return;
    }
    if (has_cl && !length_ok) {
        bool huge = has_cl == 1 && *cl;
        for (const char *p = cl; huge && *p; p++)
            huge = isdigit ((unsigned char) *p);
        if (huge)
            s_refuse (out, 413, "Payload Too Large: the body is limited to 1 MiB");
        else
            s_refuse (out, 400, "Bad Request: malformed Content-Length");
        return;
    }
    if (has_cl && length > body_max) {
        s_refuse (out, 413, "Payload Too Large: the body is limited to 1 MiB");
        return;
    }
    out->chunked = has_te != 0;
    out->length = out->chunked ? 0 : length;
}
