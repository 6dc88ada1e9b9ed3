/*  about.c — the executor's self-description for the broker (about.h).
*/
#include <limits.h>
#include <stdio.h>
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

//  One label of text [start, end): its name and value lengths. -1 if bad.
static int
s_label (const char *start, const char *end, size_t *name_len, const char **value,
         size_t *value_len)
{
    const char *equals = memchr (start, '=', (size_t) (end - start));
    *name_len = (size_t) ((equals ? equals : end) - start);
    *value = equals ? equals + 1 : end;
    *value_len = (size_t) (end - *value);
    if (*name_len == 0 || *name_len > ABOUT_LABEL_NAME || *value_len > ABOUT_LABEL_VALUE)
        return -1;
    for (size_t i = 0; i < *name_len; i++) {
        char c = start [i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
           || c == '.'))
            return -1;
    }
    for (size_t i = 0; i < *value_len; i++)
        if ((*value) [i] < 0x20 || (*value) [i] > 0x7e)
            return -1;
    return 0;
}

//  Calls fn for each label; stops at the first bad one (-1).
typedef void (s_label_fn) (void *arg, const char *name, size_t name_len,
                           const char *value, size_t value_len);

static int
s_each_label (const char *labels, s_label_fn *fn, void *arg, size_t *count)
{
    *count = 0;
    if (!labels || !*labels)
        return 0;
    const char *start = labels;
    while (true) {
        const char *comma = strchr (start, ',');
        const char *end = comma ? comma : start + strlen (start);
        size_t name_len, value_len;
        const char *value;
        if (s_label (start, end, &name_len, &value, &value_len) != 0
        ||  ++*count > ABOUT_LABELS)
            return -1;
        //  a name given twice
        for (const char *p = labels; p < start; ) {
            const char *c = strchr (p, ',');
            const char *e = memchr (p, '=', (size_t) (c - p));
            size_t len = (size_t) ((e ? e : c) - p);
            if (len == name_len && memcmp (p, start, len) == 0)
                return -1;
            p = c + 1;
        }
        if (fn)
            fn (arg, start, name_len, value, value_len);
        if (!comma)
            return 0;
        start = comma + 1;
    }
}

int
executor_labels_check (const char *labels, char *err, size_t errlen)
{
    size_t count;
    if (s_each_label (labels, NULL, NULL, &count) == 0)
        return 0;
    snprintf (err, errlen, "labels: '%.80s' is not NAME[=VALUE],… (at most %d; a name "
              "1-%d of [a-z0-9_.-], each once; a value of at most %d printable "
              "characters without a comma)", labels, ABOUT_LABELS, ABOUT_LABEL_NAME,
              ABOUT_LABEL_VALUE);
    return -1;
}

static void
s_pack_label (void *arg, const char *name, size_t name_len, const char *value,
              size_t value_len)
{
    msgw_t *w = arg;
    char key [ABOUT_LABEL_NAME + 1], text [ABOUT_LABEL_VALUE + 1];
    memcpy (key, name, name_len);
    key [name_len] = 0;
    memcpy (text, value, value_len);
    text [value_len] = 0;
    msgw_kv_str (w, key, text);
}

msgw_t *
executor_about_new (int slots, const char *labels)
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
    size_t count = 0;
    if (s_each_label (labels, NULL, NULL, &count) != 0)
        count = 0;              //  the caller checked; never a half map
    msgw_map (w, count);
    if (count)
        s_each_label (labels, s_pack_label, w, &count);
    return w;
}
