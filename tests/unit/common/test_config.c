/*  test_config.c — layered configuration: each layer, their precedence,
    and every way input can be wrong (common/config.c); the shared file's
    known keys (common/config_keys.c) and flag-only options.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"

static const config_option_t s_options [] = {
    { .key = "http_port", .type = CONFIG_INT, .default_value = "8000", .min = 1, .max = 65535,
      .help = "HTTP port" },
    { .key = "name", .type = CONFIG_STR, .default_value = "anon", .help = "a name" },
    { .key = "verbose", .type = CONFIG_BOOL, .help = "say more" },
    { .key = "offset", .type = CONFIG_INT, .help = "unbounded int" },
    { .key = NULL }
};

static const char *s_env [] = {
    "MCPBOX_HTTP_PORT", "MCPBOX_NAME", "MCPBOX_VERBOSE", "MCPBOX_OFFSET",
    "MCPBOX_DATA_DIR", "MCPBOX_LOG_LEVEL", "MCPBOX_CONFIG", "MCPBOX_HELP",
    "MCPBOX_UNRELATED_THING", "MCPBOX_FORCE", "MCPBOX_OUT",
    "MCPBOX_TCP_ENDPOINT", NULL
};

//  Like a command with options only one invocation should decide (keygen's
//  --force and --out), plus an ordinary one, plus a flag-only key that
//  another program reads from the file.
static const config_option_t s_flag_options [] = {
    { .key = "force", .type = CONFIG_BOOL, .help = "overwrite", .flag_only = true },
    { .key = "out", .type = CONFIG_STR, .default_value = "",
      .help = "where to write", .flag_only = true },
    { .key = "http_port", .type = CONFIG_INT, .default_value = "8000", .min = 1, .max = 65535,
      .help = "HTTP port" },
    { .key = "tcp_endpoint", .type = CONFIG_STR, .default_value = "",
      .help = "endpoint", .flag_only = true },
    { .key = NULL }
};

//  Like `mcpbox status`: one flag-only option, nothing else of its own.
static const config_option_t s_status_options [] = {
    { .key = "json", .type = CONFIG_BOOL, .help = "print JSON", .flag_only = true },
    { .key = NULL }
};

typedef struct {
    char      dir [PATH_MAX];       //  temporary data directory
    char      cwd [PATH_MAX];       //  working directory to return to
    config_t *config;
    config_t *other;                //  a second program's, if a test needs one
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
    config_destroy (&self->other);
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

static bool
s_listed (const char *key)
{
    for (size_t i = 0; config_known_keys [i]; i++)
        if (strcmp (config_known_keys [i], key) == 0)
            return true;
    return false;
}

//  The list itself: well-formed keys, each once; no flag-only key in it.
static void
test_known_keys_list (void **state)
{
    fixture_t *self = *state;
    size_t count = 0;
    for (size_t i = 0; config_known_keys [i]; i++, count++) {
        const char *key = config_known_keys [i];
        size_t len = strlen (key);
        assert_true (len > 0 && len <= 64);
        assert_true (key [0] >= 'a' && key [0] <= 'z');
        for (size_t k = 0; k < len; k++)
            if (!((key [k] >= 'a' && key [k] <= 'z')
               || (key [k] >= '0' && key [k] <= '9') || key [k] == '_'))
                fail_msg ("config_known_keys: '%s' is not lower_snake_case", key);
        for (size_t j = 0; j < i; j++)
            if (strcmp (config_known_keys [j], key) == 0)
                fail_msg ("config_known_keys: '%s' listed twice", key);
    }
    assert_true (count >= 10);
    const char *expected [] = { "data_dir", "log_level", "broker", "http_port",
                                "http_host", "tcp_endpoint", "broker_key",
                                "cert", "credit", "executors", NULL };
    for (int i = 0; expected [i]; i++)
        if (!s_listed (expected [i]))
            fail_msg ("config_known_keys lacks '%s'", expected [i]);
    //  Flag-only keys stay out, so a file line setting one is loud.
    const char *flag_only [] = { "help", "force", "out", "name", "json", NULL };
    for (int i = 0; flag_only [i]; i++)
        if (s_listed (flag_only [i]))
            fail_msg ("config_known_keys has flag-only '%s'", flag_only [i]);

    //  A file setting every known key loads in a program declaring a few.
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/all.conf", self->dir);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    for (size_t i = 0; config_known_keys [i]; i++)
        if (strcmp (config_known_keys [i], "config") != 0)
            fprintf (file, "%s = 1\n", config_known_keys [i]);
    fclose (file);
    assert_int_equal (s_load (self, "--config", path, NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 1);
    assert_string_equal (config_str (self->config, "log_level"), "1");
    assert_string_equal (config_str (self->config, "name"), "anon");

    //  `config` is known (flag and environment) but not in the file.
    s_write (path, "config = other.conf\n");
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, "config: cannot be set in the config file");
    s_assert_err (self, "all.conf:1");
}

//  The shared file: another program's key is skipped, a typo is an error.
static void
test_other_programs_keys (void **state)
{
    fixture_t *self = *state;
    char data [PATH_MAX + 16], path [PATH_MAX + 32];
    snprintf (data, sizeof data, "%s/d", self->dir);
    assert_int_equal (mkdir (data, 0700), 0);
    snprintf (path, sizeof path, "%s/mcpbox.conf", data);
    const char *shared =
        "# shared by every MCPbox program\n"
        "tcp_endpoint = tcp://0.0.0.0:5555\n"
        "http_port = 9000\n"
        "credit = lots\n"               //  the executor's to judge, not ours
        "broker_key = keys/broker\n"
        "executors = 4\n"
        "log_level = debug\n";
    s_write (path, shared);
    assert_int_equal (s_load (self, "--data-dir", data, NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 9000);
    assert_string_equal (config_str (self->config, "log_level"), "debug");

    //  A program declaring none of them (like mcpbox status) loads it too.
    self->other = config_new (s_status_options);
    config_t *status = self->other;
    assert_non_null (status);
    char *argv [] = { "status", "--data-dir", data, NULL };
    assert_int_equal (config_load (status, 3, argv, self->err, sizeof self->err), 0);
    assert_false (config_bool (status, "json"));
    assert_string_equal (config_str (status, "log_level"), "debug");
    //  ... but this test program's own `name` is no MCPbox key.
    char text [1024];
    snprintf (text, sizeof text, "%sname = mine\n", shared);
    s_write (path, text);
    assert_int_equal (s_load (self, "--data-dir", data, NULL), 0);
    assert_string_equal (config_str (self->config, "name"), "mine");
    assert_int_equal (config_load (status, 3, argv, self->err, sizeof self->err), -1);
    s_assert_err (self, "unknown key 'name'");
    s_assert_err (self, "mcpbox.conf:8");

    //  A key no program knows is an error naming key, file and line.
    snprintf (text, sizeof text, "%shtpp_port = 9001\n", shared);
    s_write (path, text);
    assert_int_equal (s_load (self, "--data-dir", data, NULL), -1);
    s_assert_err (self, "unknown key 'htpp_port'");
    s_assert_err (self, "mcpbox.conf:8");
    assert_int_equal (config_load (status, 3, argv, self->err, sizeof self->err), -1);
    s_assert_err (self, "unknown key 'htpp_port'");
    s_assert_err (self, "mcpbox.conf:8");

    //  Near misses of known keys are typos too.
    const char *typos [] = { "HTTP_PORT", "http-port", "http_port_", "tcp_endpoints",
                             "credits", "brokerkey", NULL };
    for (int i = 0; typos [i]; i++) {
        snprintf (text, sizeof text, "log_level = info\n%s = 1\n", typos [i]);
        s_write (path, text);
        assert_int_equal (config_load (status, 3, argv, self->err, sizeof self->err), -1);
        s_assert_err (self, "unknown key");
        s_assert_err (self, typos [i]);
        s_assert_err (self, "mcpbox.conf:2");
    }
    //  A flag-only key of a command is no other program's file key either.
    s_write (path, "force = true\n");
    assert_int_equal (config_load (status, 3, argv, self->err, sizeof self->err), -1);
    s_assert_err (self, "unknown key 'force'");
}

//  A flag-only option comes from flags only.
static void
test_flag_only (void **state)
{
    fixture_t *self = *state;
    config_destroy (&self->config);
    self->config = config_new (s_flag_options);
    assert_non_null (self->config);

    //  The environment does not set it, not even a bad value.
    setenv ("MCPBOX_FORCE", "1", 1);
    setenv ("MCPBOX_OUT", "/tmp/elsewhere", 1);
    setenv ("MCPBOX_TCP_ENDPOINT", "tcp://1.2.3.4:5", 1);
    setenv ("MCPBOX_HTTP_PORT", "8001", 1);
    setenv ("MCPBOX_HELP", "1", 1);
    assert_int_equal (s_load (self, NULL), 0);
    assert_false (config_bool (self->config, "force"));
    assert_string_equal (config_str (self->config, "out"), "");
    assert_string_equal (config_str (self->config, "tcp_endpoint"), "");
    assert_false (config_bool (self->config, "help"));
    assert_int_equal (config_int (self->config, "http_port"), 8001);
    setenv ("MCPBOX_FORCE", "maybe", 1);
    assert_int_equal (s_load (self, NULL), 0);
    assert_false (config_bool (self->config, "force"));

    //  Flags do.
    assert_int_equal (s_load (self, "--force", "--out", "keys/x", "--tcp-endpoint=t", NULL), 0);
    assert_true (config_bool (self->config, "force"));
    assert_string_equal (config_str (self->config, "out"), "keys/x");
    assert_string_equal (config_str (self->config, "tcp_endpoint"), "t");
    assert_int_equal (s_load (self, "--force=maybe", NULL), -1);
    s_assert_err (self, "flag --force");

    //  The file may not: an error naming key, flag, file and line.
    char data [PATH_MAX + 16], path [PATH_MAX + 32];
    snprintf (data, sizeof data, "%s/d", self->dir);
    assert_int_equal (mkdir (data, 0700), 0);
    snprintf (path, sizeof path, "%s/mcpbox.conf", data);
    s_write (path, "http_port = 9000\nforce = true\n");
    assert_int_equal (s_load (self, "--data-dir", data, NULL), -1);
    s_assert_err (self, "force can only be given as a flag, --force");
    s_assert_err (self, "mcpbox.conf:2");
    s_write (path, "out = /etc/x\n");
    assert_int_equal (s_load (self, "--data-dir", data, NULL), -1);
    s_assert_err (self, "out can only be given as a flag, --out");
    s_assert_err (self, "mcpbox.conf:1");
    s_write (path, "help = yes\n");
    assert_int_equal (s_load (self, "--config", path, NULL), -1);
    s_assert_err (self, "help can only be given as a flag");
    //  ... unless another program reads that key from the file: then the
    //  line is that program's, and skipped here.
    s_write (path, "tcp_endpoint = tcp://0.0.0.0:5555\nhttp_port = 9000\n");
    assert_int_equal (s_load (self, "--data-dir", data, NULL), 0);
    assert_string_equal (config_str (self->config, "tcp_endpoint"), "");
    assert_int_equal (config_int (self->config, "http_port"), 8001);
    unsetenv ("MCPBOX_HTTP_PORT");
    assert_int_equal (s_load (self, "--data-dir", data, NULL), 0);
    assert_int_equal (config_int (self->config, "http_port"), 9000);

    //  Code may still set it.
    assert_int_equal (config_set (self->config, "force", "true", self->err,
                                  sizeof self->err), 0);
    assert_true (config_bool (self->config, "force"));

    //  Help says so, and only for those.
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert_non_null (out);
    config_print_help (self->config, out, "usage: prog");
    fclose (out);
    assert_non_null (strstr (text, "  --force\n      overwrite (flag only)\n"));
    assert_non_null (strstr (text, "where to write (default: none) (flag only)\n"));
    assert_non_null (strstr (text, "print this help and exit (flag only)\n"));
    assert_non_null (strstr (text, "HTTP port [1..65535] (default: 8000)\n"));
    assert_null (strstr (text, "data directory (database, sockets, keys) "
                               "(default: ./data) (flag only)"));
    free (text);
}

//  --------------------------------------------------------------------------
//  config_known_keys against the option tables in the sources: exactly the
//  keys some table declares without flag_only.

#define S_SCAN_MAX      512         //  option entries found
#define S_SCAN_FILE_MAX (4u << 20)  //  bytes of one source file

typedef struct {
    char key [65];
    bool flag_only;
    char file [128];
} s_declared_t;

static s_declared_t s_declared [S_SCAN_MAX];
static size_t s_ndeclared;

static const char *
s_skip_space (const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

//  Entries `{ .key = "key", .type = CONFIG_...` and whether they say
//  `.flag_only = true`. An entry written positionally (`{ "key", CONFIG_`)
//  fails the test: every table uses designated initializers (config.h).
static void
s_scan_text (const char *text, const char *file)
{
    for (const char *p = text; (p = strchr (p, '{')) != NULL; p++) {
        const char *q = s_skip_space (p + 1);
        if (*q == '"') {
            const char *r = strchr (q + 1, '"');
            if (r && r - q < 66) {
                r = s_skip_space (r + 1);
                if (*r == ',' && strncmp (s_skip_space (r + 1), "CONFIG_", 7) == 0)
                    fail_msg ("%s: option entry '%.*s' is positional; write "
                              "{ .key = ..., .type = ... } (common/config.h)",
                              file, (int) (strchr (q + 1, '"') - q - 1), q + 1);
            }
            continue;
        }
        if (strncmp (q, ".key", 4) != 0)
            continue;
        q = s_skip_space (q + 4);
        if (*q != '=')
            continue;
        q = s_skip_space (q + 1);
        if (*q != '"')
            continue;               //  `.key = NULL` ends a table
        const char *key = q + 1, *key_end = key;
        while (*key_end && *key_end != '"' && *key_end != '\n')
            key_end++;
        if (*key_end != '"' || key_end == key || key_end - key > 64)
            continue;
        //  Walk the entry to its `}`, skipping strings and nested braces.
        bool flag_only = false, in_string = false;
        int depth = 0;
        for (q = key_end + 1; *q; q++) {
            if (in_string) {
                if (*q == '\\' && q [1])
                    q++;
                else
                if (*q == '"')
                    in_string = false;
                continue;
            }
            if (*q == '"')
                in_string = true;
            else
            if (*q == '(' || *q == '{')
                depth++;
            else
            if ((*q == ')' || *q == '}') && depth > 0)
                depth--;
            else
            if (*q == '}')
                break;
            else
            if (strncmp (q, ".flag_only", 10) == 0) {
                const char *v = s_skip_space (q + 10);
                if (*v == '=' && strncmp (s_skip_space (v + 1), "true", 4) == 0)
                    flag_only = true;
            }
        }
        if (s_ndeclared == S_SCAN_MAX)
            fail_msg ("more than %d option entries in the sources", S_SCAN_MAX);
        s_declared_t *entry = &s_declared [s_ndeclared++];
        snprintf (entry->key, sizeof entry->key, "%.*s", (int) (key_end - key), key);
        entry->flag_only = flag_only;
        snprintf (entry->file, sizeof entry->file, "%s", file);
    }
}

static size_t s_source_prefix;      //  length of "SOURCE_DIR/"

static int
s_scan_file (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) ftw;
    size_t len = strlen (path);
    if (flag != FTW_F || len < 2 || st->st_size > (off_t) S_SCAN_FILE_MAX
    ||  !(strcmp (path + len - 2, ".c") == 0 || strcmp (path + len - 2, ".h") == 0))
        return 0;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;                   //  gone meanwhile
    char *text = malloc ((size_t) st->st_size + 1);
    assert_non_null (text);
    size_t size = 0;
    ssize_t got;
    while (size < (size_t) st->st_size
       && (got = read (fd, text + size, (size_t) st->st_size - size)) > 0)
        size += (size_t) got;
    close (fd);
    text [size] = 0;
    s_scan_text (text, path + s_source_prefix);
    free (text);
    return 0;
}

static const s_declared_t *
s_declared_find (const char *key, bool flag_only)
{
    for (size_t i = 0; i < s_ndeclared; i++)
        if (strcmp (s_declared [i].key, key) == 0 && s_declared [i].flag_only == flag_only)
            return &s_declared [i];
    return NULL;
}

static void
test_known_keys_match_sources (void **state)
{
    (void) state;
    //  ctest sets it (tests/CMakeLists.txt); a bare run has no sources.
    const char *source = getenv ("MCPBOX_SOURCE_DIR");
    if (!source || !*source)
        skip ();
    s_ndeclared = 0;
    s_source_prefix = strlen (source) + 1;
    const char *dirs [] = { "cli", "actors", "broker", "common", NULL };
    for (int i = 0; dirs [i]; i++) {
        char dir [PATH_MAX];
        snprintf (dir, sizeof dir, "%s/%s", source, dirs [i]);
        assert_int_equal (nftw (dir, s_scan_file, 16, FTW_PHYS), 0);
    }
    //  The scanner works: it sees the common table and keygen's flags.
    assert_non_null (s_declared_find ("data_dir", false));
    assert_non_null (s_declared_find ("help", true));
    assert_non_null (s_declared_find ("force", true));
    assert_non_null (s_declared_find ("json", true));
    assert_null (s_declared_find ("force", false));

    for (size_t i = 0; i < s_ndeclared; i++)
        if (!s_declared [i].flag_only && !s_listed (s_declared [i].key))
            fail_msg ("%s declares '%s' (not flag_only), but config_known_keys "
                      "in common/config_keys.c lacks it: a file setting it would "
                      "break every other program", s_declared [i].file,
                      s_declared [i].key);
    for (size_t i = 0; config_known_keys [i]; i++)
        if (!s_declared_find (config_known_keys [i], false))
            fail_msg ("config_known_keys has '%s', which no option table in "
                      "cli/ actors/ broker/ common/ declares without flag_only%s",
                      config_known_keys [i],
                      s_declared_find (config_known_keys [i], true)
                      ? " (it is flag only: remove it from the list)" : "");
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
        cmocka_unit_test_setup_teardown (test_known_keys_list, setup, teardown),
        cmocka_unit_test_setup_teardown (test_other_programs_keys, setup, teardown),
        cmocka_unit_test_setup_teardown (test_flag_only, setup, teardown),
        cmocka_unit_test (test_known_keys_match_sources),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
