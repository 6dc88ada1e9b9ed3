/*  test_paths.c — the data directory layout (common/paths.c): absolute
    paths, modes 0700, and refusing a directory too long for ipc://.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "paths.h"

typedef struct {
    char    dir [PATH_MAX];         //  temporary directory (resolved)
    char    cwd [PATH_MAX];         //  working directory to return to
    paths_t paths;
    char    err [512];
} fixture_t;

static int
s_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    return remove (path);
}

static int
setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    char made [PATH_MAX];
    snprintf (made, sizeof made, "/tmp/test_paths.XXXXXX");
    assert_non_null (mkdtemp (made));
    assert_non_null (realpath (made, self->dir));
    assert_non_null (getcwd (self->cwd, sizeof self->cwd));
    *state = self;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (chdir (self->cwd), 0);
    nftw (self->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free (self);
    return 0;
}

static mode_t
s_mode (const char *path)
{
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_true (S_ISDIR (st.st_mode));
    return st.st_mode & 07777;
}

static void
test_create (void **state)
{
    fixture_t *self = *state;
    char data [PATH_MAX + 32], expect [PATH_MAX + 64];
    snprintf (data, sizeof data, "%s/a/data", self->dir);
    mode_t old = umask (0);
    int rc = paths_init (&self->paths, data, true, self->err, sizeof self->err);
    umask (old);
    if (rc)
        fail_msg ("paths_init: %s", self->err);
    assert_string_equal (self->paths.data_dir, data);
    assert_int_equal (s_mode (data), 0700);
    snprintf (expect, sizeof expect, "%s/a/data/run", self->dir);
    assert_string_equal (self->paths.run_dir, expect);
    assert_int_equal (s_mode (expect), 0700);
    snprintf (expect, sizeof expect, "%s/a", self->dir);
    assert_int_equal (s_mode (expect), 0700);
    snprintf (expect, sizeof expect, "ipc://%s/a/data/run/bus", self->dir);
    assert_string_equal (self->paths.bus_endpoint, expect);
    snprintf (expect, sizeof expect, "ipc://%s/a/data/run/ev-in", self->dir);
    assert_string_equal (self->paths.events_in, expect);
    snprintf (expect, sizeof expect, "ipc://%s/a/data/run/ev-out", self->dir);
    assert_string_equal (self->paths.events_out, expect);
    snprintf (expect, sizeof expect, "%s/a/data/mcpbox.db", self->dir);
    assert_string_equal (self->paths.db_path, expect);
    snprintf (expect, sizeof expect, "%s/a/data/run/up.lock", self->dir);
    assert_string_equal (self->paths.lock_path, expect);
    snprintf (expect, sizeof expect, "%s/a/data/keys", self->dir);
    assert_string_equal (self->paths.keys_dir, expect);
}

static void
test_relative_and_tighten (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (chdir (self->dir), 0);
    char run [PATH_MAX + 32];
    snprintf (run, sizeof run, "%s/rel/run", self->dir);
    assert_int_equal (mkdir ("rel", 0755), 0);
    assert_int_equal (mkdir ("rel/run", 0755), 0);
    assert_int_equal (paths_init (&self->paths, "./x/../rel/", true, self->err,
                                  sizeof self->err), 0);
    char expect [PATH_MAX + 32];
    snprintf (expect, sizeof expect, "%s/rel", self->dir);
    assert_string_equal (self->paths.data_dir, expect);
    assert_int_equal (s_mode (run), 0700);
    //  The data directory itself is left as the admin made it.
    assert_int_equal (s_mode (expect), 0755);
}

static void
test_no_create (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (chdir (self->dir), 0);
    assert_int_equal (paths_init (&self->paths, "later", false, self->err,
                                  sizeof self->err), 0);
    char expect [PATH_MAX + 32];
    snprintf (expect, sizeof expect, "%s/later", self->dir);
    assert_string_equal (self->paths.data_dir, expect);
    assert_int_equal (access (expect, F_OK), -1);
}

static void
test_too_long (void **state)
{
    fixture_t *self = *state;
    char data [PATH_MAX + 256];
    //  Fits in PATHS_MAX but not in sun_path once /run/ev-out is added.
    int room = 107 - (int) strlen (self->dir) - (int) strlen ("/run/ev-out");
    assert_true (room > 4);
    //  Exactly at the limit: accepted.
    snprintf (data, sizeof data, "%s/%0*d", self->dir, room - 1, 0);
    if (paths_init (&self->paths, data, true, self->err, sizeof self->err))
        fail_msg ("at the limit: %s", self->err);
    assert_int_equal (strlen (self->paths.events_out), 107 + strlen ("ipc://"));
    //  One byte more: refused, and nothing created.
    snprintf (data, sizeof data, "%s/%0*d", self->dir, room, 0);
    assert_int_equal (paths_init (&self->paths, data, true, self->err,
                                  sizeof self->err), -1);
    assert_non_null (strstr (self->err, "too long"));
    assert_int_equal (access (data, F_OK), -1);
    //  Far too long.
    memset (data, 0, sizeof data);
    int used = snprintf (data, sizeof data, "%s/", self->dir);
    memset (data + used, '7', 300);
    assert_int_equal (paths_init (&self->paths, data, true, self->err,
                                  sizeof self->err), -1);
    assert_int_equal (paths_init (&self->paths, "", true, self->err,
                                  sizeof self->err), -1);
}

static void
test_symlink_resolved (void **state)
{
    fixture_t *self = *state;
    //  A short link to a long directory is judged by where it leads.
    char deep [PATH_MAX + 128], link [PATH_MAX + 32];
    snprintf (deep, sizeof deep, "%s/%0*d", self->dir, 100, 0);
    assert_int_equal (mkdir (deep, 0700), 0);
    snprintf (link, sizeof link, "%s/l", self->dir);
    assert_int_equal (symlink (deep, link), 0);
    assert_int_equal (paths_init (&self->paths, link, true, self->err,
                                  sizeof self->err), -1);
    assert_non_null (strstr (self->err, "too long"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_create, setup, teardown),
        cmocka_unit_test_setup_teardown (test_relative_and_tighten, setup, teardown),
        cmocka_unit_test_setup_teardown (test_no_create, setup, teardown),
        cmocka_unit_test_setup_teardown (test_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown (test_symlink_resolved, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
