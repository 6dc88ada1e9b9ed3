/*  fuzz_tunnel_parse.c — a tunnel client's output as the actor reads it
    (actors/tunnel/tunnel_line.c, provider_ssh.c, provider_cloudflared.c),
    and the pinned host key parser (tunnel_conf.c), on arbitrary bytes.

    The first byte picks the provider and how the rest is split into
    reads. Checked: every line handed out is printable ASCII of the
    cleaned length, never longer than twice the bound (redaction markers),
    and never contains the redaction string; parse returns one of the
    tunnel_line_t values with a NUL-terminated reason; an accepted host
    key is "TYPE BASE64" with nothing else (no newline, no comment).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "provider.h"
#include "tunnel_conf.h"
#include "tunnel_line.h"

static const char *s_redact = "TOKENabc123TOKEN";

static void
s_on_line (const char *line, size_t len, void *arg)
{
    const tunnel_provider_t *provider = arg;
    if (strlen (line) != len || len > TUNNEL_LINE_MAX * 2 + 16)
        abort ();
    for (size_t i = 0; i < len; i++)
        if (line [i] < 0x20 || line [i] > 0x7e)
            abort ();
    if (strstr (line, s_redact))
        abort ();
    char why [TUNNEL_WHY_MAX];
    memset (why, 'x', sizeof why);
    why [0] = '\0';
    tunnel_line_t what = provider->parse (line, len, why, sizeof why);
    if (what < TUNNEL_LINE_NONE || what > TUNNEL_LINE_FATAL)
        abort ();
    if (!memchr (why, '\0', sizeof why))
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const tunnel_provider_t *provider = tunnel_provider_find (data [0] & 1 ? "ssh" : "cloudflared");
    size_t chunk = (size_t) (data [0] >> 1) + 1;
    data++;
    size--;
    tunnel_lines_t lines;
    tunnel_lines_reset (&lines);
    for (size_t at = 0; at < size; at += chunk) {
        size_t n = size - at < chunk ? size - at : chunk;
        tunnel_lines_feed (&lines, (const char *) data + at, n, s_redact, s_on_line,
                           (void *) provider);
    }
    tunnel_lines_flush (&lines, s_redact, s_on_line, (void *) provider);

    //  the same bytes as a configured host key
    char text [TUNNEL_HOSTKEY_MAX + 2];
    size_t len = size < TUNNEL_HOSTKEY_MAX + 1 ? size : TUNNEL_HOSTKEY_MAX + 1;
    memcpy (text, data, len);
    text [len] = '\0';
    char out [TUNNEL_HOSTKEY_MAX + 1];
    if (tunnel_host_key_parse (text, out, sizeof out) == 0) {
        const char *space = strchr (out, ' ');
        if (!space || strchr (space + 1, ' ') || strpbrk (out, "\r\n\t")
        ||  !tunnel_host_key_algorithms (out))
            abort ();
    }
    return 0;
}
