/*  test_static_path.c — request path to a file under web/ (static_path.c):
    what is served, what is refused as a whole (traversal, encodings,
    dotfiles, directories, bounds), and the types.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "static_path.h"

static int
s_resolve (const char *path, char out [STATIC_PATH_MAX + 1])
{
    return static_path_resolve (path, strlen (path), out, STATIC_PATH_MAX + 1);
}

static void
test_served (void **state)
{
    (void) state;
    char out [STATIC_PATH_MAX + 1];
    assert_int_equal (s_resolve ("/", out), 0);
    assert_string_equal (out, "index.html");
    assert_int_equal (s_resolve ("/index.html", out), 0);
    assert_string_equal (out, "index.html");
    assert_int_equal (s_resolve ("/app/main.js", out), 0);
    assert_string_equal (out, "app/main.js");
    assert_int_equal (s_resolve ("/vendor/x-y_z/1.2.3/a.min.js", out), 0);
    assert_string_equal (out, "vendor/x-y_z/1.2.3/a.min.js");
    assert_int_equal (s_resolve ("/a..b", out), 0);      //  dots inside a name
    assert_string_equal (out, "a..b");
}

static void
test_refused (void **state)
{
    (void) state;
    const char *bad [] = {
        "", "index.html", "/..", "/../etc/passwd", "/app/../index.html", "/./index.html",
        "/.env", "/.git/config", "/app/.hidden.js", "//index.html", "/app//main.js",
        "/app/", "/app/main.js/", "/%2e%2e/etc/passwd", "/%252e%252e/x", "/a%2fb",
        "/..\\x", "/a\\b", "/a b", "/a\tb", "/a\x7f", "/caf\xc3\xa9.js", "/a?b", "/a#b",
        "/a:b", "/~root", NULL
    };
    for (const char **p = bad; *p; p++) {
        char out [STATIC_PATH_MAX + 1] = "x";
        assert_int_equal (s_resolve (*p, out), -1);
        assert_string_equal (out, "");
    }
    //  a NUL inside the given length
    char out [STATIC_PATH_MAX + 1];
    assert_int_equal (static_path_resolve ("/a\0b", 4, out, sizeof out), -1);
    assert_int_equal (static_path_resolve ("/index.html\0.js", 15, out, sizeof out), -1);
    assert_int_equal (static_path_resolve (NULL, 3, out, sizeof out), -1);
    assert_int_equal (static_path_resolve ("/a", 2, NULL, 0), -1);
    //  out too small for the answer
    char small [4];
    assert_int_equal (static_path_resolve ("/abcdef", 7, small, sizeof small), -1);
    assert_int_equal (static_path_resolve ("/", 1, small, sizeof small), -1);
}

static void
test_bounds (void **state)
{
    (void) state;
    char out [STATIC_PATH_MAX + 1];
    char path [STATIC_PATH_MAX + 8];
    //  one segment of exactly STATIC_PATH_SEGMENT bytes, and one more
    path [0] = '/';
    memset (path + 1, 'a', STATIC_PATH_SEGMENT);
    path [STATIC_PATH_SEGMENT + 1] = 0;
    assert_int_equal (s_resolve (path, out), 0);
    path [STATIC_PATH_SEGMENT + 1] = 'a';
    path [STATIC_PATH_SEGMENT + 2] = 0;
    assert_int_equal (s_resolve (path, out), -1);
    //  STATIC_PATH_DEPTH segments, and one more
    strcpy (path, "");
    for (int i = 0; i < STATIC_PATH_DEPTH; i++)
        strcat (path, "/d");
    assert_int_equal (s_resolve (path, out), 0);
    strcat (path, "/d");
    assert_int_equal (s_resolve (path, out), -1);
    //  the whole length
    assert_int_equal (static_path_resolve ("/aaaa", STATIC_PATH_MAX + 1, out, sizeof out), -1);
}

static void
test_types (void **state)
{
    (void) state;
    assert_string_equal (static_path_type ("index.html"), "text/html; charset=utf-8");
    assert_string_equal (static_path_type ("app/main.js"), "text/javascript; charset=utf-8");
    assert_string_equal (static_path_type ("style.css"), "text/css; charset=utf-8");
    assert_string_equal (static_path_type ("i/logo.svg"), "image/svg+xml");
    assert_null (static_path_type ("README"));
    assert_null (static_path_type ("a.html/b"));
    assert_null (static_path_type ("secrets.db"));
    assert_null (static_path_type ("x.sh"));
    assert_null (static_path_type ("app.js.bak"));
    assert_null (static_path_type (NULL));
    assert_true (static_path_is_page ("index.html"));
    assert_false (static_path_is_page ("app/index.html"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_served),
        cmocka_unit_test (test_refused),
        cmocka_unit_test (test_bounds),
        cmocka_unit_test (test_types),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
