/*  test_log.c — one event, one line (common/log.c): the line's shape,
    level filtering, escaping of whatever a peer put in a string, bounds.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"

//  Run `emit` with stderr captured; return what it wrote (caller frees).
static char *
s_capture (void (*emit) (void))
{
    char path [] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    unlink (path);
    fflush (stderr);
    int saved = dup (STDERR_FILENO);
    assert_true (saved >= 0);
    assert_true (dup2 (fd, STDERR_FILENO) >= 0);
    emit ();
    fflush (stderr);
    assert_true (dup2 (saved, STDERR_FILENO) >= 0);
    close (saved);
    off_t size = lseek (fd, 0, SEEK_END);
    char *text = calloc (1, (size_t) size + 1);
    assert_non_null (text);
    assert_int_equal (pread (fd, text, (size_t) size, 0), size);
    close (fd);
    return text;
}

static int
s_lines (const char *text)
{
    int lines = 0;
    for (; *text; text++)
        lines += *text == '\n';
    return lines;
}

static void
s_emit_levels (void)
{
    log_init ("mcpbox-test", LOG_INFO);
    log_debug ("hidden %d", 1);
    log_info ("shown %d", 2);
    log_warn ("warned");
    log_error ("failed: %s", "why");
}

static void
test_format_and_levels (void **state)
{
    (void) state;
    char *text = s_capture (s_emit_levels);
    assert_int_equal (s_lines (text), 3);
    assert_null (strstr (text, "hidden"));
    regex_t re;
    assert_int_equal (regcomp (&re,
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
        "INFO mcpbox-test\\[[0-9]+\\]: shown 2\n"
        "[^\n]+ WARN mcpbox-test\\[[0-9]+\\]: warned\n"
        "[^\n]+ ERROR mcpbox-test\\[[0-9]+\\]: failed: why\n$",
        REG_EXTENDED), 0);
    if (regexec (&re, text, 0, NULL, 0) != 0)
        fail_msg ("unexpected log output:\n%s", text);
    regfree (&re);
    char pid [32];
    snprintf (pid, sizeof pid, "[%ld]", (long) getpid ());
    assert_non_null (strstr (text, pid));
    free (text);
    assert_false (log_enabled (LOG_DEBUG));
    assert_true (log_enabled (LOG_INFO));
}

static void
s_emit_hostile (void)
{
    log_init ("mcpbox-test", LOG_DEBUG);
    log_debug ("peer said '%s'", "a\nFAKE 2026 ERROR x[1]: forged\r\t\x1b[31m\x7f\\n end");
}

static void
test_escaping (void **state)
{
    (void) state;
    char *text = s_capture (s_emit_hostile);
    assert_int_equal (s_lines (text), 1);
    assert_non_null (strstr (text,
        "DEBUG mcpbox-test["));
    assert_non_null (strstr (text,
        "peer said 'a\\nFAKE 2026 ERROR x[1]: forged\\r\\t\\x1b[31m\\x7f\\\\n end'\n"));
    free (text);
}

static void
s_emit_long (void)
{
    log_init ("mcpbox-test", LOG_INFO);
    char *big = malloc (100000);
    assert_non_null (big);
    memset (big, '\n', 99999);
    big [99999] = 0;
    log_info ("%s", big);
    free (big);
}

static void
test_bounded (void **state)
{
    (void) state;
    char *text = s_capture (s_emit_long);
    assert_int_equal (s_lines (text), 1);
    assert_true (strlen (text) < 10000);
    assert_non_null (strstr (text, "\\n\\n"));
    assert_non_null (strstr (text, "...\n"));
    free (text);
}

static void
test_level_parse (void **state)
{
    (void) state;
    log_level_t level = LOG_ERROR;
    assert_int_equal (log_level_parse ("debug", &level), 0);
    assert_int_equal (level, LOG_DEBUG);
    assert_int_equal (log_level_parse ("info", &level), 0);
    assert_int_equal (level, LOG_INFO);
    assert_int_equal (log_level_parse ("WARN", &level), 0);
    assert_int_equal (level, LOG_WARN);
    assert_int_equal (log_level_parse ("error", &level), 0);
    assert_int_equal (level, LOG_ERROR);
    assert_int_equal (log_level_parse ("verbose", &level), -1);
    assert_int_equal (log_level_parse ("", &level), -1);
    assert_int_equal (log_level_parse (NULL, &level), -1);
    assert_int_equal (level, LOG_ERROR);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_format_and_levels),
        cmocka_unit_test (test_escaping),
        cmocka_unit_test (test_bounded),
        cmocka_unit_test (test_level_parse),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
