/*  cmd_keygen.c — `mcpbox keygen`: make a CURVE certificate for the bus.

    Remote executors join the broker over tcp:// with CURVE; each side needs
    a zcert pair: PATH (public, safe to copy around) and PATH_secret (never
    leaves the machine, mode 0600). By default the pair goes to
    DATA/keys/NAME (--name, default "executor"), and DATA/keys is kept 0700.
    `mcpbox up --tcp-endpoint` uses the same code for the broker's own pair.

    Existing files are never replaced without --force. The pair is written
    under temporary names with a 077 umask and then linked into place (or
    renamed, with --force), so neither file is ever visible half-written or
    with a wider mode.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <czmq.h>

#include "cli.h"

#define S_NAME_MAX 64

//  Like mkdir -m 0700 that also tightens an existing directory.
static int
s_private_dir (const char *path, char *err, size_t errlen)
{
    if (mkdir (path, 0700) == -1 && errno != EEXIST) {
        snprintf (err, errlen, "cannot create %s: %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    if (lstat (path, &st) == -1) {
        snprintf (err, errlen, "cannot stat %s: %s", path, strerror (errno));
        return -1;
    }
    if (!S_ISDIR (st.st_mode)) {
        snprintf (err, errlen, "%s is not a directory", path);
        return -1;
    }
    if (st.st_uid != geteuid ()) {
        snprintf (err, errlen, "%s is not owned by this user", path);
        return -1;
    }
    if ((st.st_mode & 07777) != 0700 && chmod (path, 0700) == -1) {
        snprintf (err, errlen, "cannot chmod 0700 %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

int
cli_keys_dir_ensure (const paths_t *paths, const char *sub,
                     char *err, size_t errlen)
{
    if (s_private_dir (paths->keys_dir, err, errlen) == -1)
        return -1;
    if (!sub)
        return 0;
    char path [PATHS_MAX];
    if (snprintf (path, sizeof path, "%s/%s", paths->keys_dir, sub)
        >= (int) sizeof path) {
        snprintf (err, errlen, "path too long: %s/%s", paths->keys_dir, sub);
        return -1;
    }
    return s_private_dir (path, err, errlen);
}

//  Create the missing directories above `path` with mode 0700; existing
//  ones are left as they are (they may be shared, like /tmp).
static int
s_parent_dirs (const char *path, char *err, size_t errlen)
{
    char dir [PATHS_MAX];
    if (snprintf (dir, sizeof dir, "%s", path) >= (int) sizeof dir)
        return 0;
    for (char *slash = strchr (dir + 1, '/'); slash; slash = strchr (slash + 1, '/')) {
        *slash = 0;
        if (mkdir (dir, 0700) == -1 && errno != EEXIST) {
            snprintf (err, errlen, "cannot create %s: %s", dir, strerror (errno));
            return -1;
        }
        *slash = '/';
    }
    return 0;
}

static bool
s_exists (const char *path)
{
    struct stat st;
    return lstat (path, &st) == 0;
}

int
cli_keygen_write (const char *path, bool force, char *public_txt,
                  size_t public_size, char *err, size_t errlen)
{
    char secret [PATHS_MAX], tmp [PATHS_MAX], tmp_secret [PATHS_MAX];
    if (!path || !*path
    ||  snprintf (secret, sizeof secret, "%s_secret", path) >= (int) sizeof secret
    ||  snprintf (tmp, sizeof tmp, "%s.tmp%d", path, (int) getpid ()) >= (int) sizeof tmp
    ||  snprintf (tmp_secret, sizeof tmp_secret, "%s_secret", tmp) >= (int) sizeof tmp_secret) {
        snprintf (err, errlen, "bad or too long certificate path");
        return -1;
    }
    if (!force) {
        const char *existing = s_exists (path)? path: s_exists (secret)? secret: NULL;
        if (existing) {
            snprintf (err, errlen, "%s already exists (use --force to replace it)",
                      existing);
            return -1;
        }
    }
    if (s_parent_dirs (path, err, errlen) == -1)
        return -1;
    zcert_t *cert = zcert_new ();
    if (!cert) {
        snprintf (err, errlen, "cannot generate a key pair");
        return -1;
    }
    unlink (tmp);
    unlink (tmp_secret);
    mode_t old_mask = umask (077);
    int rc = zcert_save (cert, tmp);
    umask (old_mask);
    if (rc == 0)
        snprintf (public_txt, public_size, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);

    const char *failed = NULL;
    if (rc != 0)
        failed = "write";
    else
    if (chmod (tmp, 0644) == -1 || chmod (tmp_secret, 0600) == -1)
        failed = "chmod";
    else
    if (force) {
        if (rename (tmp_secret, secret) == -1 || rename (tmp, path) == -1)
            failed = "rename";
    }
    else {
        if (link (tmp_secret, secret) == -1)
            failed = "create";
        else
        if (link (tmp, path) == -1) {
            int keep = errno;
            unlink (secret);
            errno = keep;
            failed = "create";
        }
    }
    int saved = errno;
    unlink (tmp);
    unlink (tmp_secret);
    if (failed) {
        snprintf (err, errlen, "cannot %s %s: %s", failed, path,
                  saved == EEXIST? "it already exists (use --force to replace it)"
                                 : strerror (saved));
        return -1;
    }
    return 0;
}

static bool
s_name_valid (const char *name)
{
    size_t len = strnlen (name, S_NAME_MAX + 1);
    if (len == 0 || len > S_NAME_MAX || name [0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static int
s_run (config_t *config)
{
    char err [PATHS_MAX + 256] = "";
    const char *out  = config_str (config, "out");
    const char *name = config_str (config, "name");
    char path [PATHS_MAX];

    if (*out) {
        if (snprintf (path, sizeof path, "%s", out) >= (int) sizeof path) {
            fprintf (stderr, "mcpbox keygen: --out path too long\n");
            return CLI_EXIT_USAGE;
        }
    }
    else {
        if (!s_name_valid (name)) {
            fprintf (stderr, "mcpbox keygen: --name must be 1-%d of "
                     "[A-Za-z0-9_.-], not starting with '.'\n", S_NAME_MAX);
            return CLI_EXIT_USAGE;
        }
        paths_t paths;
        if (paths_init (&paths, config_str (config, "data_dir"), true,
                        err, sizeof err) == -1
        ||  cli_keys_dir_ensure (&paths, NULL, err, sizeof err) == -1) {
            fprintf (stderr, "mcpbox keygen: %s\n", err);
            return CLI_EXIT_FAIL;
        }
        if (snprintf (path, sizeof path, "%s/%s", paths.keys_dir, name)
            >= (int) sizeof path) {
            fprintf (stderr, "mcpbox keygen: key path too long\n");
            return CLI_EXIT_FAIL;
        }
    }
    char public_txt [CLI_Z85_KEY_SIZE] = "";
    if (cli_keygen_write (path, config_bool (config, "force"), public_txt,
                          sizeof public_txt, err, sizeof err) == -1) {
        fprintf (stderr, "mcpbox keygen: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    printf ("public key: %s\n", public_txt);
    printf ("public certificate: %s\n", path);
    printf ("secret certificate: %s_secret (keep it private)\n", path);
    return CLI_EXIT_OK;
}

static const config_option_t s_options [] = {
    { .key = "out", .type = CONFIG_STR, .default_value = "",
      .help = "write PATH and PATH_secret instead of DATA/keys/NAME", .flag_only = true },
    { .key = "name", .type = CONFIG_STR, .default_value = "executor",
      .help = "certificate name under DATA/keys when --out is not given", .flag_only = true },
    { .key = "force", .type = CONFIG_BOOL,
      .help = "replace existing certificate files", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_keygen = {
    .name    = "keygen",
    .summary = "generate a CURVE certificate (for remote executors)",
    .usage   = "usage: mcpbox keygen [--data-dir D] [--name NAME | --out PATH] [--force]\n\n"
               "Generate a CURVE key pair as two zcert files: PATH (public) and\n"
               "PATH_secret (mode 0600). Prints the public key in Z85.",
    .options = s_options,
    .run     = s_run,
};
