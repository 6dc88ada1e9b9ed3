/*  test_config.c — layered configuration: each layer, their precedence,
    and every way input can be wrong (common/config.c).
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
#include "config.h"

static const config_option_t s_options [] = {
    { "http_port", CONFIG_INT,  "8000", 1, 65535, "HTTP port" },
    { "name",      CONFIG_STR,  "anon", 0, 0,     "a name" },
    { "verbose",   CONFIG_BOOL, NULL,   0, 0,     "say more" },
    { "offset",    CONFIG_INT,  NULL,   0, 0,     "unbounded int" },
    { NULL, CONFIG_STR, NULL, 0, 0, NULL }
};

static const char *s_env [] = {
    "MCPBOX_HTTP_PORT", "MCPBOX_NAME", "MCPBOX_VERBOSE", "MCPBOX_OFFSET",
    "MCPBOX_DATA_DIR", "MCPBOX_LOG_LEVEL", "MCPBOX_CONFIG", "MCPBOX_HELP",
    "MCPBOX_UNRELATED_THING", NULL
};

typedef struct {
    char      dir [PATH_MAX];       //  temporary data directory
    char      cwd [PATH_MAX];       //  working directory to return to
    config_t *config;
    char      err [512];
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
    snprintf (self->dir, sizeof self->dir, "/tmp/test_config.XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    assert_non_null (getcwd (self->cwd, sizeof self->cwd));
    //  Run inside the temp dir, so the default ./data is ours and empty.
    assert_int_equal (chdir (self->dir), 0);
    for (int i = 0; s_env [i]; i++)
        unsetenv (s_env [i]);
    self->config = config_new (s_options);
    assert_non_null (self->config);
    *state = self;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *self = *state;
    config_destroy (&self->config);
    assert_null (self->config);
    assert_int_equal (chdir (self->cwd), 0);
    nftw (self->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; s_env [i]; i++)
        unsetenv (s_env [i]);
    free (self);
    return 0;
}

static void
s_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
}

//  Load with a NULL-terminated list of arguments after argv[0].
static int
s_load (fixture_t *self, ...)
{
    char *argv [32] = { "prog" };
    int argc = 1;
    va_list args;
    va_start (args, self);
    char *arg;
    while ((arg = va_arg (args, char *)) && argc < 31)
        argv [argc++] = arg;
    va_end (args);
    self->err [0] = 0;
    return config_load (self->config, argc, argv, self->err, sizeof self->err);
}

static void
s_assert_err (fixture_t *self, const char *part)
{
    if (!strstr (self->err, part))
        fail_msg ("error '%s' does not mention '%s'", self->err, part);
}

static void
test_defaults (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_load (self, NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 8000);
    assert_string_equal (config_str (self->config, "name"), "anon");
    assert_false (config_bool (self->config, "verbose"));
    assert_int_equal (config_int (self->config, "offset"), 0);
    assert_string_equal (config_str (self->config, "data_dir"), "./data");
    assert_string_equal (config_str (self->config, "log_level"), "info");
    assert_string_equal (config_str (self->config, "config"), "");
    assert_false (config_bool (self->config, "help"));
    assert_int_equal (config_argc (self->config), 0);
    assert_null (config_argv (self->config, 0));
}

//  Each layer overrides the one below it, and only that.
static void
test_precedence (void **state)
{
    fixture_t *self = *state;
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/explicit.conf", self->dir);
    s_write (path, "http_port = 8001\nname = from-file\n");

    assert_int_equal (s_load (self, "--config", path, NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 8001);
    assert_string_equal (config_str (self->config, "name"), "from-file");

    setenv ("MCPBOX_HTTP_PORT", "8002", 1);
    assert_int_equal (s_load (self, "--config", path, NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 8002);
    assert_string_equal (config_str (self->config, "name"), "from-file");

    assert_int_equal (s_load (self, "--config", path, "--http-port", "8003", NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 8003);
    assert_string_equal (config_str (self->config, "name"), "from-file");

    //  The file can also be named by the environment.
    setenv ("MCPBOX_CONFIG", path, 1);
    unsetenv ("MCPBOX_HTTP_PORT");
    assert_int_equal (s_load (self, NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 8001);

    //  A second load starts over: no layer leaks from the previous one.
    unsetenv ("MCPBOX_CONFIG");
    assert_int_equal (s_load (self, NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 8000);
    assert_string_equal (config_str (self->config, "name"), "anon");
}

//  DATA_DIR/mcpbox.conf is found through data_dir from flags or environment.
static void
test_implicit_file (void **state)
{
    fixture_t *self = *state;
    char data [PATH_MAX + 16], path [PATH_MAX + 32];
    snprintf (data, sizeof data, "%s/d", self->dir);
    assert_int_equal (mkdir (data, 0700), 0);
    snprintf (path, sizeof path, "%s/mcpbox.conf", data);
    s_write (path, "# comment\n\n   name   =  spaced value  \r\nverbose=yes\n");

    assert_int_equal (s_load (self, "--data-dir", data, NULL), 0);
    assert_string_equal (config_str (self->config, "name"), "spaced value");
    assert_true (config_bool (self->config, "verbose"));
    assert_string_equal (config_str (self->config, "data_dir"), data);

    setenv ("MCPBOX_DATA_DIR", data, 1);
    assert_int_equal (s_load (self, NULL), 0);
    assert_string_equal (config_str (self->config, "name"), "spaced value");

    //  Missing implicit file is fine; a data_dir line in it is not.
    assert_int_equal (s_load (self, "--data-dir", self->dir, NULL), 0);
    assert_string_equal (config_str (self->config, "name"), "anon");
    s_write (path, "data_dir = /elsewhere\n");
    assert_int_equal (s_load (self, NULL), -1);
    s_assert_err (self, "data_dir");
}

static void
test_bad_int (void **state)
{
    fixture_t *self = *state;
    setenv ("MCPBOX_HTTP_PORT", "abc", 1);
    assert_int_equal (s_load (self, NULL), -1);
    s_assert_err (self, "http_port: 'abc' is not an integer (from environment MCPBOX_HTTP_PORT)");
    unsetenv ("MCPBOX_HTTP_PORT");

    assert_int_equal (s_load (self, "--http-port", "12x", NULL), -1);
    s_assert_err (self, "http_port");
    s_assert_err (self, "flag --http-port");
    assert_int_equal (s_load (self, "--offset", "", NULL), -1);
    s_assert_err (self, "offset: '' is not an integer");
    assert_int_equal (s_load (self, "--offset", "0x10", NULL), -1);
    assert_int_equal (s_load (self, "--http-port", " 80", NULL), -1);

    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/bad.conf", self->dir);
    s_write (path, "name = x\nhttp_port = eighty\n");
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, "http_port");
    s_assert_err (self, "bad.conf:2");
}

static void
test_out_of_range (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_load (self, "--http-port", "0", NULL), -1);
    s_assert_err (self, "http_port: 0 is out of range 1..65535 (from flag --http-port)");
    assert_int_equal (s_load (self, "--http-port", "65536", NULL), -1);
    s_assert_err (self, "out of range");
    assert_int_equal (s_load (self, "--http-port", "1", NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 1);
    assert_int_equal (s_load (self, "--http-port", "65535", NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 65535);
    //  Beyond int64 is out of range, not silently clamped.
    assert_int_equal (s_load (self, "--offset", "99999999999999999999", NULL), -1);
    s_assert_err (self, "offset");
    s_assert_err (self, "out of range");
    assert_int_equal (s_load (self, "--offset", "-9223372036854775808", NULL), 0);
    assert_true (config_int (self->config, "offset") == INT64_MIN);
}

static void
test_unknown_flag (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_load (self, "--no-such-thing", NULL), -1);
    s_assert_err (self, "unknown flag");
    s_assert_err (self, "no-such-thing");
    assert_int_equal (s_load (self, "-x", NULL), -1);
    s_assert_err (self, "unknown flag");
    assert_int_equal (s_load (self, "--=3", NULL), -1);
    //  A value flag at the end has no value.
    assert_int_equal (s_load (self, "--name", NULL), -1);
    s_assert_err (self, "name");
    //  ... nor when the next word is another flag.
    assert_int_equal (s_load (self, "--name", "--verbose", NULL), -1);
    //  Unknown MCPBOX_* in the environment is ignored.
    setenv ("MCPBOX_UNRELATED_THING", "whatever", 1);
    assert_int_equal (s_load (self, NULL), 0);
}

static void
test_unknown_key_in_file (void **state)
{
    fixture_t *self = *state;
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/unknown.conf", self->dir);
    s_write (path, "name = ok\n\nhtpp_port = 80\n");
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, "htpp_port");
    s_assert_err (self, ":3");

    s_write (path, "no equals sign here\n");
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, ":1");

    s_write (path, "help = true\n");
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, "help");

    s_write (path, "name = a\nname = b\n");
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, "set twice");

    //  A named config file must exist.
    snprintf (path, sizeof path, "%s/missing.conf", self->dir);
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, "missing.conf");
    s_assert_err (self, "flag --config");
}

static void
test_positional (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_load (self, "one", "--name", "x", "two", "--verbose", "three",
                              "-", "--", "--http-port", "-5", NULL), 0);
    assert_string_equal (config_str (self->config, "name"), "x");
    assert_true (config_bool (self->config, "verbose"));
    assert_int_equal (config_int (self->config, "http_port"), 8000);
    assert_int_equal (config_argc (self->config), 6);
    const char *expect [] = { "one", "two", "three", "-", "--http-port", "-5" };
    for (int i = 0; i < 6; i++)
        assert_string_equal (config_argv (self->config, i), expect [i]);
    assert_null (config_argv (self->config, 6));
    assert_null (config_argv (self->config, -1));

    //  A lone bool flag does not swallow the next word.
    assert_int_equal (s_load (self, "--verbose", "word", NULL), 0);
    assert_true (config_bool (self->config, "verbose"));
    assert_int_equal (config_argc (self->config), 1);
    assert_string_equal (config_argv (self->config, 0), "word");
    //  Negative numbers are values, not flags.
    assert_int_equal (s_load (self, "--offset", "-12", NULL), 0);
    assert_int_equal (config_int (self->config, "offset"), -12);
}

static void
test_equals_and_dashes (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_load (self, "--http-port=9001", "--name=a=b", NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 9001);
    assert_string_equal (config_str (self->config, "name"), "a=b");
    assert_int_equal (s_load (self, "--http_port", "9002", "--name=", NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 9002);
    assert_string_equal (config_str (self->config, "name"), "");
    //  The last of repeated flags wins.
    assert_int_equal (s_load (self, "--http-port=1", "--http-port=2", NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 2);
    assert_int_equal (s_load (self, "-h", NULL), 0);
    assert_true (config_bool (self->config, "help"));
}

static void
test_bool_forms (void **state)
{
    fixture_t *self = *state;
    const char *truthy [] = { "true", "1", "yes", "on", "TRUE", "Yes", NULL };
    const char *falsy [] = { "false", "0", "no", "off", "OFF", NULL };
    char flag [64];
    for (int i = 0; truthy [i]; i++) {
        snprintf (flag, sizeof flag, "--verbose=%s", truthy [i]);
        assert_int_equal (s_load (self, flag, NULL), 0);
        assert_true (config_bool (self->config, "verbose"));
        setenv ("MCPBOX_VERBOSE", truthy [i], 1);
        assert_int_equal (s_load (self, NULL), 0);
        assert_true (config_bool (self->config, "verbose"));
    }
    for (int i = 0; falsy [i]; i++) {
        snprintf (flag, sizeof flag, "--verbose=%s", falsy [i]);
        setenv ("MCPBOX_VERBOSE", "true", 1);
        assert_int_equal (s_load (self, flag, NULL), 0);
        assert_false (config_bool (self->config, "verbose"));
        setenv ("MCPBOX_VERBOSE", falsy [i], 1);
        assert_int_equal (s_load (self, NULL), 0);
        assert_false (config_bool (self->config, "verbose"));
    }
    setenv ("MCPBOX_VERBOSE", "maybe", 1);
    assert_int_equal (s_load (self, NULL), -1);
    s_assert_err (self, "verbose: 'maybe' is not a boolean");
    s_assert_err (self, "MCPBOX_VERBOSE");
    unsetenv ("MCPBOX_VERBOSE");
    assert_int_equal (s_load (self, "--verbose=2", NULL), -1);
    assert_int_equal (s_load (self, "--verbose", NULL), 0);
    assert_true (config_bool (self->config, "verbose"));
}

static void
test_oversized (void **state)
{
    fixture_t *self = *state;
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/big.conf", self->dir);
    size_t len = 5000;
    char *line = malloc (len + 16);
    assert_non_null (line);
    memcpy (line, "name = ", 7);
    memset (line + 7, 'a', len - 7);
    line [len] = '\n';
    line [len + 1] = 0;
    s_write (path, line);
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, "line longer than");
    s_assert_err (self, "big.conf:1");

    //  A line just within the bound is accepted (value bound is separate).
    memset (line + 7, 'b', 3000 - 7);
    line [3000] = '\n';
    line [3001] = 0;
    s_write (path, line);
    assert_int_equal (s_load (self, "--config", path, NULL), 0);
    assert_int_equal (strlen (config_str (self->config, "name")), 3000 - 7);

    //  Values from the environment and flags are bounded too.
    memset (line, 'c', len);
    line [len] = 0;
    setenv ("MCPBOX_NAME", line, 1);
    assert_int_equal (s_load (self, NULL), -1);
    s_assert_err (self, "name: value longer than");
    unsetenv ("MCPBOX_NAME");
    free (line);

    //  A file over the size bound is refused before it is parsed.
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    for (int i = 0; i < 200000; i++)
        fputs ("# padding\n", file);
    fclose (file);
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, "larger than");

    //  A NUL byte in the file is refused.
    file = fopen (path, "w");
    assert_non_null (file);
    fwrite ("name = a\0b\n", 1, 11, file);
    fclose (file);
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, "NUL");

    //  Control characters in values are refused.
    assert_int_equal (s_load (self, "--name", "a\x1b[31mb", NULL), -1);
    s_assert_err (self, "control character");
}

static void
test_set_and_help (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_load (self, NULL), 0);
    assert_int_equal (config_set (self->config, "http_port", "1234", self->err,
                                  sizeof self->err), 0);
    assert_int_equal (config_int (self->config, "http_port"), 1234);
    assert_int_equal (config_set (self->config, "http_port", "0", self->err,
                                  sizeof self->err), -1);
    s_assert_err (self, "http_port");
    assert_int_equal (config_int (self->config, "http_port"), 1234);
    assert_int_equal (config_set (self->config, "nope", "1", self->err,
                                  sizeof self->err), -1);

    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert_non_null (out);
    config_print_help (self->config, out, "usage: prog [options]");
    fclose (out);
    assert_non_null (strstr (text, "usage: prog [options]"));
    assert_non_null (strstr (text, "--http-port"));
    assert_non_null (strstr (text, "8000"));
    assert_non_null (strstr (text, "--data-dir"));
    assert_non_null (strstr (text, "--log-level"));
    free (text);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown (test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown (test_implicit_file, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bad_int, setup, teardown),
        cmocka_unit_test_setup_teardown (test_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown (test_unknown_flag, setup, teardown),
        cmocka_unit_test_setup_teardown (test_unknown_key_in_file, setup, teardown),
        cmocka_unit_test_setup_teardown (test_positional, setup, teardown),
        cmocka_unit_test_setup_teardown (test_equals_and_dashes, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bool_forms, setup, teardown),
        cmocka_unit_test_setup_teardown (test_oversized, setup, teardown),
        cmocka_unit_test_setup_teardown (test_set_and_help, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
