/*  paths.c — where things live under the data directory (see paths.h).

    The data directory is made absolute once, here, so every process that
    shares it computes the same ipc:// endpoints whatever its working
    directory. With `create`, missing directories are made with mode 0700
    and run/ (the authority for local access: whoever can reach its
    sockets can talk to the bus) is tightened to 0700 if it exists wider.
    The data directory itself is not tightened: it may be a mount the admin
    set up; the database file inside is 0600 anyway (db.c).

    An ipc:// endpoint is a Unix socket path, which must fit in sun_path
    (108 bytes with the NUL). The length is checked on the path as written
    (before anything is created) and again on the resolved path.
*/
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>
#include "bus_errors.h"
#include "paths.h"

#define PATHS_SUN_MAX  (sizeof ((struct sockaddr_un *) 0)->sun_path - 1)
//  The longest socket name under run/.
#define PATHS_LONGEST_SOCKET "/run/ev-out"

//  Absolute, lexically normalised form of `path` (".", ".." and repeated
//  slashes folded) into out. 0 or -1 + err.
static int
s_absolute (const char *path, char *out, size_t outsize, char *err, size_t errlen)
{
    char joined [PATHS_MAX * 2];
    if (path [0] == '/')
        snprintf (joined, sizeof joined, "%s", path);
    else {
        char cwd [PATHS_MAX];
        if (!getcwd (cwd, sizeof cwd)) {
            bus_err_text (err, errlen, "data_dir: cannot get the working directory: %s",
                   strerror (errno));
            return -1;
        }
        size_t cwd_len = strlen (cwd), path_len = strlen (path);
        if (cwd_len + 1 + path_len >= sizeof joined) {
            bus_err_text (err, errlen, "data_dir: path too long");
            return -1;
        }
        memcpy (joined, cwd, cwd_len);
        joined [cwd_len] = '/';
        memcpy (joined + cwd_len + 1, path, path_len + 1);
    }
    //  Fold components.
    size_t o = 0;
    const char *p = joined;
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchr (p, '/');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        if (len == 0)
            break;
        if (len == 1 && p [0] == '.')
            ;
        else
        if (len == 2 && p [0] == '.' && p [1] == '.') {
            while (o > 0 && out [o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        }
        else {
            if (o + 1 + len >= outsize) {
                bus_err_text (err, errlen, "data_dir: path longer than %d bytes", PATHS_MAX - 1);
                return -1;
            }
            out [o++] = '/';
            memcpy (out + o, p, len);
            o += len;
        }
        p += len;
    }
    if (o == 0)
        out [o++] = '/';
    out [o] = 0;
    return 0;
}

static int
s_check_socket_room (const char *dir, char *err, size_t errlen)
{
    size_t len = strlen (dir) + strlen (PATHS_LONGEST_SOCKET);
    if (len > PATHS_SUN_MAX) {
        bus_err_text (err, errlen, "data_dir: '%s' is too long for a local socket: "
               "'%s" PATHS_LONGEST_SOCKET "' would be %zu bytes and the limit "
               "is %zu; choose a shorter data directory",
               dir, dir, len, (size_t) PATHS_SUN_MAX);
        return -1;
    }
    return 0;
}

//  mkdir -p with mode 0700 for every directory it creates.
static int
s_mkdirs (const char *path, char *err, size_t errlen)
{
    char buf [PATHS_MAX];
    snprintf (buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char saved = *p;
            *p = 0;
            if (mkdir (buf, 0700) && errno != EEXIST) {
                bus_err_text (err, errlen, "data_dir: cannot create '%s': %s", buf,
                       strerror (errno));
                return -1;
            }
            *p = saved;
            if (saved == 0)
                break;
        }
    }
    struct stat st;
    if (stat (path, &st) || !S_ISDIR (st.st_mode)) {
        bus_err_text (err, errlen, "data_dir: '%s' is not a directory", path);
        return -1;
    }
    return 0;
}

static int
s_join (char *out, const char *prefix, const char *dir, const char *leaf,
        char *err, size_t errlen)
{
    int len = snprintf (out, PATHS_MAX, "%s%s%s", prefix, dir, leaf);
    if (len < 0 || len >= PATHS_MAX) {
        bus_err_text (err, errlen, "data_dir: '%s%s' is longer than %d bytes", dir, leaf,
               PATHS_MAX - 1);
        return -1;
    }
    return 0;
}

int
paths_init (paths_t *paths, const char *data_dir, bool create,
            char *err, size_t errlen)
{
    memset (paths, 0, sizeof *paths);
    if (!data_dir || !*data_dir) {
        bus_err_text (err, errlen, "data_dir: empty");
        return -1;
    }
    if (strnlen (data_dir, PATHS_MAX) >= PATHS_MAX) {
        bus_err_text (err, errlen, "data_dir: path longer than %d bytes", PATHS_MAX - 1);
        return -1;
    }
    char dir [PATHS_MAX];
    if (s_absolute (data_dir, dir, sizeof dir, err, errlen)
    ||  s_check_socket_room (dir, err, errlen))
        return -1;

    if (create && s_mkdirs (dir, err, errlen))
        return -1;
    //  Resolve symlinks when the directory exists, so all processes agree.
    char resolved [PATH_MAX];
    if (realpath (dir, resolved)) {
        if (strlen (resolved) >= sizeof dir) {
            bus_err_text (err, errlen, "data_dir: '%s' resolves to a path longer than %d "
                   "bytes", dir, PATHS_MAX - 1);
            return -1;
        }
        memcpy (dir, resolved, strlen (resolved) + 1);      //  length checked above
        if (s_check_socket_room (dir, err, errlen))
            return -1;
    }
    else
    if (create || errno != ENOENT) {
        bus_err_text (err, errlen, "data_dir: cannot resolve '%s': %s", dir, strerror (errno));
        return -1;
    }

    if (s_join (paths->data_dir, "", dir, "", err, errlen)
    ||  s_join (paths->run_dir, "", dir, "/run", err, errlen)
    ||  s_join (paths->keys_dir, "", dir, "/keys", err, errlen)
    ||  s_join (paths->db_path, "", dir, "/mcpbox.db", err, errlen)
    ||  s_join (paths->lock_path, "", dir, "/run/up.lock", err, errlen)
    ||  s_join (paths->gateway_ready, "", dir, "/run/gateway.ready", err, errlen)
    ||  s_join (paths->proc_counts, "", dir, "/run/processes.json", err, errlen)
    ||  s_join (paths->bus_endpoint, "ipc://", dir, "/run/bus", err, errlen)
    ||  s_join (paths->events_in, "ipc://", dir, "/run/ev-in", err, errlen)
    ||  s_join (paths->events_out, "ipc://", dir, "/run/ev-out", err, errlen))
        return -1;

    if (create) {
        if (mkdir (paths->run_dir, 0700) && errno != EEXIST) {
            bus_err_text (err, errlen, "data_dir: cannot create '%s': %s", paths->run_dir,
                   strerror (errno));
            return -1;
        }
        struct stat st;
        if (lstat (paths->run_dir, &st) || !S_ISDIR (st.st_mode)) {
            bus_err_text (err, errlen, "data_dir: '%s' is not a directory", paths->run_dir);
            return -1;
        }
        if (st.st_uid != geteuid ()) {
            bus_err_text (err, errlen, "data_dir: '%s' is owned by another user (uid %ld)",
                   paths->run_dir, (long) st.st_uid);
            return -1;
        }
        if ((st.st_mode & 07777) != 0700 && chmod (paths->run_dir, 0700)) {
            bus_err_text (err, errlen, "data_dir: cannot set '%s' to mode 0700: %s",
                   paths->run_dir, strerror (errno));
            return -1;
        }
    }
    return 0;
}
