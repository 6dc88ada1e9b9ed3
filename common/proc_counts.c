/*  proc_counts.c — crash and restart counts of `mcpbox up`'s children
    (proc_counts.h).
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "proc_counts.h"

typedef struct {
    char     name [PROC_COUNTS_NAME_MAX];
    uint64_t crashes;
    uint64_t restarts;
} s_entry_t;

struct _proc_counts_t {
    s_entry_t entries [PROC_COUNTS_MAX];
    size_t    count;
};

//  Printable ASCII, non-empty, shorter than PROC_COUNTS_NAME_MAX.
static bool
s_name_valid (const char *name)
{
    size_t len = strnlen (name, PROC_COUNTS_NAME_MAX);
    if (len == 0 || len >= PROC_COUNTS_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (name [i] <= ' ' || name [i] > '~')
            return false;
    return true;
}

proc_counts_t *
proc_counts_new (void)
{
    return calloc (1, sizeof (proc_counts_t));
}

void
proc_counts_destroy (proc_counts_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
proc_counts_note (proc_counts_t *self, const char *name, bool crashed)
{
    if (!self || !name || !s_name_valid (name))
        return;
    s_entry_t *entry = NULL;
    for (size_t i = 0; i < self->count && !entry; i++)
        if (strcmp (self->entries [i].name, name) == 0)
            entry = &self->entries [i];
    if (!entry && self->count < PROC_COUNTS_MAX) {
        entry = &self->entries [self->count++];
        snprintf (entry->name, sizeof entry->name, "%s", name);
    }
    if (entry && crashed)
        entry->crashes++;
    else
    if (entry)
        entry->restarts++;
}

int
proc_counts_save (proc_counts_t *self, pid_t pid, const char *path)
{
    json_t *processes = json_object ();
    json_t *root = json_pack ("{s:I, s:o}", "pid", (json_int_t) pid, "processes", processes);
    if (!root) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < self->count; i++)
        json_object_set_new (processes, self->entries [i].name,
                             json_pack ("{s:I, s:I}",
                                        "crashes", (json_int_t) self->entries [i].crashes,
                                        "restarts", (json_int_t) self->entries [i].restarts));
    char *text = json_dumps (root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (root);
    char temp [4096];
    if (!text || snprintf (temp, sizeof temp, "%s.tmp", path) >= (int) sizeof temp) {
        free (text);
        errno = text ? ENAMETOOLONG : ENOMEM;
        return -1;
    }
    int rc = -1;
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd != -1) {
        size_t len = strlen (text);
        bool written = write (fd, text, len) == (ssize_t) len;
        int saved = errno;
        if (close (fd) == 0 && written && rename (temp, path) == 0)
            rc = 0;
        else {
            if (!written)
                errno = saved ? saved : EIO;
            unlink (temp);
        }
    }
    free (text);
    return rc;
}

int
proc_counts_parse (const char *text, size_t len, pid_t *pid, proc_counts_fn *fn, void *arg)
{
    *pid = 0;
    json_t *root = text && len ? json_loadb (text, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    json_t *owner = json_object_get (root, "pid");
    if (!json_is_object (root) || !json_is_integer (owner) || json_integer_value (owner) <= 0
    ||  json_integer_value (owner) > INT32_MAX) {
        json_decref (root);
        return -1;
    }
    *pid = (pid_t) json_integer_value (owner);
    json_t *processes = json_object_get (root, "processes");
    const char *name;
    json_t *counts;
    size_t seen = 0;
    json_object_foreach (processes, name, counts) {
        if (seen++ >= PROC_COUNTS_MAX)
            break;
        json_t *crashes = json_object_get (counts, "crashes");
        json_t *restarts = json_object_get (counts, "restarts");
        if (!s_name_valid (name)
        ||  !json_is_integer (crashes) || json_integer_value (crashes) < 0
        ||  !json_is_integer (restarts) || json_integer_value (restarts) < 0)
            continue;
        if (fn)
            fn (arg, name, (uint64_t) json_integer_value (crashes),
                (uint64_t) json_integer_value (restarts));
    }
    json_decref (root);
    return 0;
}

char *
proc_counts_read (const char *path, size_t *len_p)
{
    *len_p = 0;
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1)
        return NULL;
    char *text = malloc (PROC_COUNTS_FILE_MAX + 1);
    size_t len = 0;
    ssize_t got = 1;
    while (text && got > 0 && len <= PROC_COUNTS_FILE_MAX) {
        got = read (fd, text + len, PROC_COUNTS_FILE_MAX + 1 - len);
        if (got > 0)
            len += (size_t) got;
    }
    close (fd);
    pid_t pid = 0;
    if (!text || got != 0 || len > PROC_COUNTS_FILE_MAX
    ||  proc_counts_parse (text, len, &pid, NULL, NULL) != 0
    ||  (kill (pid, 0) != 0 && errno != EPERM)) {
        free (text);
        return NULL;
    }
    text [len] = 0;
    *len_p = len;
    return text;
}
