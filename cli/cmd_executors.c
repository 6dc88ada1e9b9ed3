/*  cmd_executors.c — `mcpbox executors allow|revoke|list`: which remote
    executor hosts may join the broker's tcp:// endpoint.

    The allowlist is the directory DATA/keys/allowed/ that the broker's zauth
    reads (docs/ARCHITECTURE.md): one public zcert per host, named after the
    host. `allow` takes the host's public key (Z85, as `mcpbox keygen`
    prints it) or its public certificate file, and writes a certificate of
    its own whose metadata holds the name and the key: the broker reads that
    `key` back from each connection to notice a revocation while the host is
    connected (broker/broker_allow.h). `revoke NAME-or-KEY` removes it: the
    host's next handshake fails, and a connected host is dropped at the next
    heartbeat, its in-flight calls answered `worker_lost`.
*/
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <czmq.h>

#include "cli.h"

#define S_NAME_MAX 64

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

//  A Z85 public key (40 characters that decode to 32 bytes), from the
//  argument itself or from the certificate file it names.
static int
s_read_key (const char *arg, char *key, size_t size, uint8_t bytes [32])
{
    if (strlen (arg) == 40 && zmq_z85_decode (bytes, arg)) {
        snprintf (key, size, "%s", arg);
        return 0;
    }
    struct stat st;
    if (stat (arg, &st) != 0 || !S_ISREG (st.st_mode))
        return -1;
    zcert_t *cert = zcert_load (arg);
    if (!cert)
        return -1;
    snprintf (key, size, "%s", zcert_public_txt (cert));
    memcpy (bytes, zcert_public_key (cert), 32);
    zcert_destroy (&cert);
    return 0;
}

//  The allowed certificates: name and key of each, through fn; stops when
//  fn returns non-zero and returns that.
typedef int (s_each_fn) (void *arg, const char *name, const char *key);

static int
s_each (const char *dir, s_each_fn *fn, void *arg)
{
    DIR *d = opendir (dir);
    if (!d)
        return 0;
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir (d))) {
        if (entry->d_name [0] == '.')
            continue;
        char path [PATHS_MAX + 80];
        int len = snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        if (len < 0 || (size_t) len >= sizeof path)
            continue;               //  a name too long for a path is not one of ours
        zcert_t *cert = zcert_load (path);
        if (!cert)
            continue;
        rc = fn (arg, entry->d_name, zcert_public_txt (cert));
        zcert_destroy (&cert);
    }
    closedir (d);
    return rc;
}

typedef struct {
    const char *want;           //  name or key
    char        name [256];     //  found
    char        key [CLI_Z85_KEY_SIZE];
} s_find_t;

static int
s_find_one (void *arg, const char *name, const char *key)
{
    s_find_t *find = arg;
    if (strcmp (find->want, name) != 0 && strcmp (find->want, key) != 0)
        return 0;
    snprintf (find->name, sizeof find->name, "%s", name);
    snprintf (find->key, sizeof find->key, "%s", key);
    return 1;
}

static int
s_print_one (void *arg, const char *name, const char *key)
{
    json_t *list = arg;
    if (list)
        json_array_append_new (list, json_pack ("{s:s, s:s}", "name", name, "key", key));
    else
        printf ("%-24s %s\n", name, key);
    return 0;
}

static int
s_allow (const char *dir, const char *keys_dir, const char *arg, const char *name_flag)
{
    char key [CLI_Z85_KEY_SIZE];
    uint8_t bytes [32];
    if (s_read_key (arg, key, sizeof key, bytes) != 0) {
        fprintf (stderr, "mcpbox executors allow: '%.64s' is neither a public key "
                 "(40 Z85 characters) nor a certificate file\n", arg);
        return CLI_EXIT_USAGE;
    }
    char name [S_NAME_MAX + 1];
    if (*name_flag)
        snprintf (name, sizeof name, "%s", name_flag);
    else
        snprintf (name, sizeof name, "executor-%02x%02x%02x%02x",
                  bytes [0], bytes [1], bytes [2], bytes [3]);
    if (!s_name_valid (name)) {
        fprintf (stderr, "mcpbox executors allow: --name must be 1-%d of "
                 "[A-Za-z0-9_.-], not starting with '.'\n", S_NAME_MAX);
        return CLI_EXIT_USAGE;
    }
    s_find_t find = { .want = key };
    if (s_each (dir, s_find_one, &find)) {
        printf ("already allowed as %s\n", find.name);
        return CLI_EXIT_OK;
    }
    find = (s_find_t) { .want = name };
    if (s_each (dir, s_find_one, &find)) {
        fprintf (stderr, "mcpbox executors allow: the name %s is taken by another key "
                 "(revoke it first, or choose --name)\n", name);
        return CLI_EXIT_FAIL;
    }
    uint8_t secret [32] = { 0 };
    zcert_t *cert = zcert_new_from (bytes, secret);
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "key", "%s", key);
    //  written beside the directory, then renamed in: the broker never
    //  reads half a certificate
    char tmp [PATHS_MAX + 80], path [2 * PATHS_MAX];
    snprintf (tmp, sizeof tmp, "%s/.allow-%d", keys_dir, (int) getpid ());
    snprintf (path, sizeof path, "%s/%s", dir, name);
    int rc = zcert_save_public (cert, tmp);
    zcert_destroy (&cert);
    if (rc != 0 || chmod (tmp, 0644) != 0 || rename (tmp, path) != 0) {
        fprintf (stderr, "mcpbox executors allow: cannot write %s: %s\n", path,
                 strerror (errno));
        unlink (tmp);
        return CLI_EXIT_FAIL;
    }
    printf ("allowed %s (%s)\n", name, key);
    return CLI_EXIT_OK;
}

static int
s_revoke (const char *dir, const char *arg)
{
    s_find_t find = { .want = arg };
    if (!s_each (dir, s_find_one, &find)) {
        fprintf (stderr, "mcpbox executors revoke: no allowed executor named or keyed "
                 "'%.64s'\n", arg);
        return CLI_EXIT_FAIL;
    }
    char path [PATHS_MAX + 300];
    snprintf (path, sizeof path, "%s/%s", dir, find.name);
    if (unlink (path) != 0) {
        fprintf (stderr, "mcpbox executors revoke: cannot remove %s: %s\n", path,
                 strerror (errno));
        return CLI_EXIT_FAIL;
    }
    printf ("revoked %s (%s)\n", find.name, find.key);
    return CLI_EXIT_OK;
}

static int
s_run (config_t *config)
{
    const char *verb = config_argv (config, 1);
    const char *arg = config_argv (config, 2);
    if (!verb || (strcmp (verb, "list") != 0 && !arg)
    ||  (strcmp (verb, "list") == 0 && arg)
    ||  (strcmp (verb, "allow") != 0 && strcmp (verb, "revoke") != 0
         && strcmp (verb, "list") != 0)) {
        fprintf (stderr, "usage: mcpbox executors allow KEY-or-CERT [--name N] | "
                 "revoke NAME-or-KEY | list [--json]\n");
        return CLI_EXIT_USAGE;
    }
    char err [PATHS_MAX + 256] = "";
    paths_t paths;
    if (paths_init (&paths, config_str (config, "data_dir"), true, err, sizeof err) == -1
    ||  cli_keys_dir_ensure (&paths, "allowed", err, sizeof err) == -1) {
        fprintf (stderr, "mcpbox executors: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    char dir [PATHS_MAX + 16];
    snprintf (dir, sizeof dir, "%s/allowed", paths.keys_dir);
    if (strcmp (verb, "allow") == 0)
        return s_allow (dir, paths.keys_dir, arg, config_str (config, "name"));
    if (strcmp (verb, "revoke") == 0)
        return s_revoke (dir, arg);
    json_t *list = config_bool (config, "json") ? json_array () : NULL;
    s_each (dir, s_print_one, list);
    if (list) {
        char *text = json_dumps (list, JSON_COMPACT);
        printf ("%s\n", text);
        free (text);
        json_decref (list);
    }
    return CLI_EXIT_OK;
}

static const config_option_t s_options [] = {
    { .key = "name", .type = CONFIG_STR, .default_value = "",
      .help = "allow: the host's name (default executor-<key prefix>)", .flag_only = true },
    { .key = "json", .type = CONFIG_BOOL,
      .help = "list: one JSON array", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_executors = {
    .name     = "executors",
    .summary  = "allow, revoke or list remote executor hosts (CURVE keys)",
    .usage    = "usage: mcpbox executors allow KEY-or-CERT [--name N]\n"
                "       mcpbox executors revoke NAME-or-KEY\n"
                "       mcpbox executors list [--json]\n\n"
                "The keys in DATA/keys/allowed/ may join the broker's --tcp-endpoint.\n"
                "A revoked host is refused at its next handshake and dropped by the\n"
                "broker within a heartbeat if it is connected.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 2,
};
