/*  about.c — the executor's self-description for the broker (about.h).
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "about.h"

#ifndef MCPBOX_VERSION
#define MCPBOX_VERSION "0.0.0"
#endif

#define S_NAME_MAX 64

//  The supervisor's name for this process: printable ASCII, 1..64 bytes.
static const char *
s_process (void)
{
    const char *name = getenv ("MCPBOX_PROCESS");
    size_t len = name ? strnlen (name, S_NAME_MAX + 1) : 0;
    if (len == 0 || len > S_NAME_MAX)
        return "mcpbox-executor";
    for (size_t i = 0; i < len; i++)
        if (name [i] < 0x21 || name [i] > 0x7e)
            return "mcpbox-executor";
    return name;
}

static int64_t
s_restarts (void)
{
    const char *text = getenv ("MCPBOX_RESTARTS");
    if (!text || !*text)
        return 0;
    char *end = NULL;
    long value = strtol (text, &end, 10);
    return (*end || value < 0 || value > INT_MAX) ? 0 : value;
}

msgw_t *
executor_about_new (int slots)
{
    char host [256] = "";
    if (gethostname (host, sizeof host - 1) != 0)
        host [0] = 0;
    host [sizeof host - 1] = 0;

    msgw_t *w = msgw_new ();
    msgw_map (w, 7);
    msgw_kv_str (w, "host", host);
    msgw_kv_int (w, "pid", (int64_t) getpid ());
    msgw_kv_str (w, "process", s_process ());
    msgw_kv_int (w, "restarts", s_restarts ());
    msgw_kv_str (w, "version", MCPBOX_VERSION);
    msgw_kv_int (w, "slots", slots);
    msgw_str (w, "labels");
    msgw_map (w, 0);
    return w;
}
