/*  sshkey.c — the tunnel's key pair (ssh-keygen) and its known_hosts
    (sshkey.h).
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "child.h"
#include "sshkey.h"
#include "tunnel_cmd.h"

int
sshkey_dir_ensure (const tunnel_files_t *files, char *err, size_t errlen)
{
    if (mkdir (files->dir, 0700) != 0 && errno != EEXIST) {
        snprintf (err, errlen, "cannot make %s: %s", files->dir, strerror (errno));
        return -1;
    }
    struct stat st;
    if (lstat (files->dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        snprintf (err, errlen, "%s is not a directory", files->dir);
        return -1;
    }
    if ((st.st_mode & 077) && chmod (files->dir, 0700) != 0) {
        snprintf (err, errlen, "cannot make %s private: %s", files->dir, strerror (errno));
        return -1;
    }
    return 0;
}

void
sshkey_public (const tunnel_files_t *files, char *public_key, size_t size)
{
    public_key [0] = '\0';
    char path [PATHS_MAX + 48];
    snprintf (path, sizeof path, "%s.pub", files->key_path);
    FILE *file = fopen (path, "re");
    if (!file)
        return;
    if (!fgets (public_key, (int) size, file))
        public_key [0] = '\0';
    fclose (file);
    public_key [strcspn (public_key, "\r\n")] = '\0';
}

//  Run ssh-keygen and wait for it (it takes milliseconds).
static int
s_keygen (const tunnel_files_t *files, char *err, size_t errlen)
{
    tunnel_cmd_t cmd = { 0 };
    tunnel_cmd_arg (&cmd, "%s", files->ssh_keygen_path);
    tunnel_cmd_arg (&cmd, "-q");
    tunnel_cmd_arg (&cmd, "-t");
    tunnel_cmd_arg (&cmd, "ed25519");
    tunnel_cmd_arg (&cmd, "-N");
    tunnel_cmd_arg (&cmd, "%s", "");
    tunnel_cmd_arg (&cmd, "-C");
    tunnel_cmd_arg (&cmd, "mcpbox-tunnel");
    tunnel_cmd_arg (&cmd, "-f");
    tunnel_cmd_arg (&cmd, "%s", files->key_path);
    tunnel_cmd_env (&cmd, "PATH", "/usr/bin:/bin");
    child_t child;
    int rc = cmd.failed ? -1 : child_start (&child, cmd.argv, cmd.envp);
    int error = errno;
    tunnel_cmd_reset (&cmd);
    if (rc != 0) {
        snprintf (err, errlen, "cannot run %s: %s", files->ssh_keygen_path, strerror (error));
        return -1;
    }
    char out [512];
    size_t got = 0;
    int flags = fcntl (child.out_fd, F_GETFL);
    fcntl (child.out_fd, F_SETFL, flags & ~O_NONBLOCK);
    while (got + 1 < sizeof out) {
        ssize_t n = read (child.out_fd, out + got, sizeof out - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    out [got] = '\0';
    child_close_out (&child);
    int status = 0;
    waitpid (child.pid, &status, 0);
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        out [strcspn (out, "\r\n")] = '\0';
        snprintf (err, errlen, "ssh-keygen failed: %.200s", out);
        return -1;
    }
    return 0;
}

int
sshkey_ensure (const tunnel_files_t *files, char *public_key, size_t size,
               char *err, size_t errlen)
{
    if (sshkey_dir_ensure (files, err, errlen) != 0)
        return -1;
    struct stat st;
    if (lstat (files->key_path, &st) != 0) {
        if (errno != ENOENT) {
            snprintf (err, errlen, "cannot read %s: %s", files->key_path, strerror (errno));
            return -1;
        }
        char pub [PATHS_MAX + 48];
        snprintf (pub, sizeof pub, "%s.pub", files->key_path);
        unlink (pub);               //  a half-made pair from a crash
        if (s_keygen (files, err, errlen) != 0)
            return -1;
    }
    else
    if (!S_ISREG (st.st_mode)) {
        snprintf (err, errlen, "%s is not a regular file", files->key_path);
        return -1;
    }
    else
    if ((st.st_mode & 077) && chmod (files->key_path, 0600) != 0) {
        snprintf (err, errlen, "cannot make %s private: %s", files->key_path, strerror (errno));
        return -1;
    }
    sshkey_public (files, public_key, size);
    if (!public_key [0]) {
        snprintf (err, errlen, "the tunnel's public key file is missing or empty");
        return -1;
    }
    return 0;
}

int
sshkey_write_known_hosts (const tunnel_files_t *files, const char *host_key,
                          char *err, size_t errlen)
{
    if (sshkey_dir_ensure (files, err, errlen) != 0)
        return -1;
    char tmp [PATHS_MAX + 48];
    snprintf (tmp, sizeof tmp, "%s.tmp", files->known_hosts);
    unlink (tmp);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf (err, errlen, "cannot write %s: %s", tmp, strerror (errno));
        return -1;
    }
    char line [TUNNEL_HOSTKEY_MAX + 32];
    int len = snprintf (line, sizeof line, "mcpbox-tunnel %s\n", host_key);
    bool ok = len > 0 && (size_t) len < sizeof line
           && write (fd, line, (size_t) len) == len && fsync (fd) == 0;
    ok = close (fd) == 0 && ok;
    if (!ok || rename (tmp, files->known_hosts) != 0) {
        snprintf (err, errlen, "cannot write %s: %s", files->known_hosts, strerror (errno));
        unlink (tmp);
        return -1;
    }
    return 0;
}
