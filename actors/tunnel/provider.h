/*  provider.h — one tunnel client behind one interface.

    A provider knows how to run one tunnel client program and how to read
    its output; it knows nothing of processes, timers or the bus. The
    supervisor (supervise.c) asks it for a command line, runs it with the
    output on a pipe, and feeds it one line at a time:

        build  config + files  ->  argv and extra environment (tunnel_cmd_t)
        parse  one output line ->  what it says about the connection
        exited an exit status  ->  a short reason for the status reply

    Two providers exist: tunnel_provider_cloudflared (cloudflared, token in
    the child's environment, never argv) and tunnel_provider_ssh (an
    OpenSSH reverse tunnel with a key the actor made and a pinned host key).
    Output is hostile text: parse() is fuzzed (tests/fuzz/fuzz_tunnel_parse.c)
    and sees lines already bounded and cleaned by tunnel_line.c.
*/
#ifndef MCPBOX_TUNNEL_PROVIDER_H
#define MCPBOX_TUNNEL_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include "tunnel_cmd.h"
#include "tunnel_conf.h"

//  What one line of output says.
typedef enum {
    TUNNEL_LINE_NONE = 0,       //  nothing about the connection
    TUNNEL_LINE_CONNECTING,     //  an attempt started
    TUNNEL_LINE_UP,             //  a connection is up (cloudflared has several)
    TUNNEL_LINE_DOWN,           //  one connection went down; the client retries
    TUNNEL_LINE_FATAL,          //  refused: it will not work without a change
} tunnel_line_t;

#define TUNNEL_WHY_MAX 160      //  bytes of a reason, with its NUL

typedef struct {
    const char *name;           //  "ssh", "cloudflared" (tunnel_config.provider)
    //  argv and extra environment for the client. secret: the value the
    //  child needs in its environment (the token), or NULL. 0, or -1 with
    //  a message naming what is missing.
    int           (*build)  (const tunnel_conf_t *conf, const tunnel_files_t *files,
                             const char *secret, tunnel_cmd_t *cmd,
                             char *err, size_t errlen);
    //  One line (no newline, printable ASCII, ≤ TUNNEL_LINE_MAX bytes). On
    //  DOWN and FATAL, why gets a short reason of our own words.
    tunnel_line_t (*parse)  (const char *line, size_t len, char *why, size_t whylen);
    //  Whether the provider needs a secret from credentials to build.
    bool            needs_secret;
} tunnel_provider_t;

extern const tunnel_provider_t tunnel_provider_cloudflared;
extern const tunnel_provider_t tunnel_provider_ssh;

//  By name; NULL for "none" or an unknown name.
const tunnel_provider_t *tunnel_provider_find (const char *name);

//  Does text contain needle (ASCII, case-sensitive)? For parsers.
bool tunnel_has (const char *line, size_t len, const char *needle);

#endif
