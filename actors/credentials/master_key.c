/*  master_key.c — load, generate, stage and promote the master key
    (master_key.h).
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "master_key.h"

#define S_ENV        "MCPBOX_ENCRYPTION_KEY"
#define S_HEX        (2 * SECRET_KEY_BYTES)

static uint8_t *s_env_key;          //  sodium_malloc'd, from the environment

int
master_key_parse_hex (const char *text, size_t len, uint8_t key [SECRET_KEY_BYTES])
{
    size_t bin_len = 0;
    const char *end = NULL;
    if (len != S_HEX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return -1;
    }
    if (sodium_hex2bin (key, SECRET_KEY_BYTES, text, len, NULL, &bin_len, &end) != 0
    ||  bin_len != SECRET_KEY_BYTES)
        return -1;
    return 0;
}

int
master_key_take_env (bool *found, char *err, size_t errlen)
{
    *found = false;
    char *value = NULL;
    extern char **environ;
    for (char **entry = environ; entry && *entry && !value; entry++)
        if (strncmp (*entry, S_ENV "=", sizeof S_ENV) == 0)
            value = *entry + sizeof S_ENV;
    if (!value)
        return 0;
    *found = true;
    size_t len = strlen (value);
    int rc = 0;
    s_env_key = sodium_malloc (SECRET_KEY_BYTES);
    if (!s_env_key) {
        snprintf (err, errlen, "out of memory");
        rc = -1;
    }
    else
    if (master_key_parse_hex (value, len, s_env_key) != 0) {
        snprintf (err, errlen, S_ENV " must be exactly 64 hexadecimal characters "
                  "(32 bytes), got %zu characters", len);
        sodium_free (s_env_key);
        s_env_key = NULL;
        rc = -1;
    }
    //  the string lives in the process's initial environment block, which
    //  /proc/PID/environ shows: zero it in place, then drop the variable
    //  (name included: the entry is "NAME=value", value points after '=')
    unsetenv (S_ENV);       //  out of environ first, then the bytes
    sodium_memzero (value - (sizeof S_ENV), len + sizeof S_ENV);
    return rc;
}

static int
s_fsync_dir (const char *file_path)
{
    char dir [PATHS_MAX + 64];
    snprintf (dir, sizeof dir, "%s", file_path);
    char *slash = strrchr (dir, '/');
    if (!slash)
        return 0;
    *slash = 0;
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

//  Write key as hex to path atomically (tmp 0600, fsync, rename, fsync dir).
static int
s_write_key (const char *path, const uint8_t key [SECRET_KEY_BYTES], char *err, size_t errlen)
{
    char tmp [PATHS_MAX + 96];
    snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ());
    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf (err, errlen, "cannot create %s: %s", tmp, strerror (errno));
        return -1;
    }
    char hex [S_HEX + 2];
    sodium_bin2hex (hex, S_HEX + 1, key, SECRET_KEY_BYTES);
    hex [S_HEX] = '\n';
    ssize_t wrote = write (fd, hex, S_HEX + 1);
    sodium_memzero (hex, sizeof hex);
    if (wrote != S_HEX + 1 || fsync (fd) != 0) {
        snprintf (err, errlen, "cannot write %s: %s", tmp, strerror (errno));
        close (fd);
        unlink (tmp);
        return -1;
    }
    close (fd);
    if (rename (tmp, path) != 0) {
        snprintf (err, errlen, "cannot rename %s: %s", tmp, strerror (errno));
        unlink (tmp);
        return -1;
    }
    s_fsync_dir (path);
    return 0;
}

//  Read a key file: 0, 1 when it does not exist, -1 + err (config error).
static int
s_read_key (const char *path, uint8_t key [SECRET_KEY_BYTES], char *err, size_t errlen)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf (err, errlen, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || (st.st_mode & 077)) {
        snprintf (err, errlen, "%s must be a regular file of mode 0600 "
                  "(chmod 600 it)", path);
        close (fd);
        return -1;
    }
    char buf [S_HEX + 4];
    ssize_t got = read (fd, buf, sizeof buf);
    close (fd);
    size_t len = got > 0 ? (size_t) got : 0;
    while (len && (buf [len - 1] == '\n' || buf [len - 1] == '\r'))
        len--;
    int rc = master_key_parse_hex (buf, len, key);
    sodium_memzero (buf, sizeof buf);
    if (rc != 0) {
        snprintf (err, errlen, "%s is malformed: it must hold 64 hexadecimal "
                  "characters (32 bytes)", path);
        return -1;
    }
    return 0;
}

master_key_t *
master_key_load (const paths_t *paths, bool *config_error, char *err, size_t errlen)
{
    *config_error = false;
    master_key_t *self = sodium_malloc (sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    memset (self, 0, sizeof *self);
    snprintf (self->path, sizeof self->path, "%s/credentials.key", paths->data_dir);
    snprintf (self->next_path, sizeof self->next_path, "%s.next", self->path);
    if (s_env_key) {
        memcpy (self->key, s_env_key, SECRET_KEY_BYTES);
        self->from_env = true;
    }
    else {
        int rc = s_read_key (self->path, self->key, err, errlen);
        if (rc < 0) {
            *config_error = true;
            goto fail;
        }
        if (rc == 1) {
            crypto_aead_xchacha20poly1305_ietf_keygen (self->key);
            if (s_write_key (self->path, self->key, err, errlen) != 0)
                goto fail;
            log_info ("generated a new master key in %s", self->path);
        }
    }
    secret_key_id (self->key, self->id);
    int rc = s_read_key (self->next_path, self->next, err, errlen);
    if (rc < 0) {
        *config_error = true;
        goto fail;
    }
    if (rc == 0 && !self->from_env) {
        self->has_next = true;
        secret_key_id (self->next, self->next_id);
    }
    return self;
fail:
    master_key_destroy (&self);
    return NULL;
}

void
master_key_destroy (master_key_t **self_p)
{
    if (self_p && *self_p) {
        sodium_free (*self_p);      //  zeroes it
        *self_p = NULL;
    }
}

int
master_key_stage (master_key_t *self, char *err, size_t errlen)
{
    if (self->from_env) {
        snprintf (err, errlen, "the master key comes from MCPBOX_ENCRYPTION_KEY: "
                  "rotation writes a key file, so unset the variable to rotate");
        return -1;
    }
    crypto_aead_xchacha20poly1305_ietf_keygen (self->next);
    unlink (self->next_path);
    if (s_write_key (self->next_path, self->next, err, errlen) != 0) {
        sodium_memzero (self->next, sizeof self->next);
        return -1;
    }
    secret_key_id (self->next, self->next_id);
    self->has_next = true;
    return 0;
}

int
master_key_promote (master_key_t *self, char *err, size_t errlen)
{
    if (!self->has_next)
        return 0;
    if (rename (self->next_path, self->path) != 0) {
        snprintf (err, errlen, "cannot rename %s: %s", self->next_path, strerror (errno));
        return -1;
    }
    s_fsync_dir (self->path);
    memcpy (self->key, self->next, SECRET_KEY_BYTES);
    memcpy (self->id, self->next_id, SECRET_KEY_ID_BYTES);
    sodium_memzero (self->next, sizeof self->next);
    self->has_next = false;
    return 0;
}

void
master_key_discard (master_key_t *self)
{
    unlink (self->next_path);
    s_fsync_dir (self->next_path);
    sodium_memzero (self->next, sizeof self->next);
    self->has_next = false;
}
