/*  test_approval_modules.c — the approval actor's module lists and names
    (actors/approval/modules.h, modules.c).

    The default and forbidden lists are copies of DEFAULT_MODULES and
    FORBIDDEN_MODULES in actors/executor/harness.py; this test parses
    harness.py and fails when the copies differ (same names, same order),
    so the two cannot drift apart. It also checks module-name syntax and
    the forbidden rules (dotted parents, private names).

    Linked against approval_core, as the actor is.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "modules.h"

#define MAX_NAMES 256

typedef struct {
    char  *names [MAX_NAMES];
    size_t count;
} name_list_t;

static char *
s_read_harness (void)
{
    char path [4096];
    const char *source = getenv ("MCPBOX_SOURCE_DIR");
    if (source && *source)
        snprintf (path, sizeof path, "%s/actors/executor/harness.py", source);
    else {
        //  __FILE__ is .../tests/unit/approval/test_approval_modules.c
        snprintf (path, sizeof path, "%s", __FILE__);
        char *cut = strstr (path, "tests/unit/");
        assert_non_null (cut);
        snprintf (cut, sizeof path - (size_t) (cut - path), "actors/executor/harness.py");
    }
    FILE *file = fopen (path, "rb");
    if (!file)
        fail_msg ("cannot open %s", path);
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    fseek (file, 0, SEEK_SET);
    assert_true (size > 0);
    char *text = calloc (1, (size_t) size + 1);
    assert_non_null (text);
    assert_int_equal (fread (text, 1, (size_t) size, file), (size_t) size);
    fclose (file);
    return text;
}

//  The string literals of the Python assignment that starts with `marker`
//  at the start of a line, up to the line that closes it (a line starting
//  with ')'). Comments are skipped.
static void
s_parse_list (const char *text, const char *marker, name_list_t *list)
{
    memset (list, 0, sizeof *list);
    const char *p = text;
    size_t mlen = strlen (marker);
    while ((p = strstr (p, marker)) && p != text && p [-1] != '\n')
        p += mlen;
    if (!p)
        fail_msg ("harness.py: '%s' not found", marker);
    p += mlen;
    bool line_start = false;
    while (*p) {
        if (line_start && *p == ')')
            return;
        line_start = false;
        if (*p == '\n') {
            line_start = true;
            p++;
        }
        else
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
        }
        else
        if (*p == '"' || *p == '\'') {
            char quote = *p++;
            const char *start = p;
            while (*p && *p != quote && *p != '\n')
                p++;
            assert_true (*p == quote);
            assert_true (list->count < MAX_NAMES);
            list->names [list->count++] = strndup (start, (size_t) (p - start));
            p++;
        }
        else
            p++;
    }
    fail_msg ("harness.py: '%s' is not closed", marker);
}

static void
s_free_list (name_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free (list->names [i]);
}

static void
s_assert_same (const name_list_t *python, const char *const *ours, size_t count,
               const char *what)
{
    for (size_t i = 0; i < python->count && i < count; i++)
        if (strcmp (python->names [i], ours [i]) != 0)
            fail_msg ("%s differs at entry %zu: harness.py has '%s', modules.h has "
                      "'%s'", what, i, python->names [i], ours [i]);
    if (python->count != count)
        fail_msg ("%s: harness.py has %zu names, modules.h has %zu", what,
                  python->count, count);
}

static void
test_lists_mirror_harness (void **state)
{
    (void) state;
    char *text = s_read_harness ();
    name_list_t defaults, forbidden;
    s_parse_list (text, "DEFAULT_MODULES = (", &defaults);
    s_parse_list (text, "FORBIDDEN_MODULES = frozenset((", &forbidden);
    assert_true (defaults.count >= 20);
    assert_true (forbidden.count >= 20);

    s_assert_same (&defaults, modules_default, modules_default_count, "DEFAULT_MODULES");
    static const char *const ours_forbidden [] = { MODULES_FORBIDDEN_LIST };
    s_assert_same (&forbidden, ours_forbidden,
                   sizeof ours_forbidden / sizeof ours_forbidden [0], "FORBIDDEN_MODULES");

    //  and no module is both
    for (size_t i = 0; i < defaults.count; i++)
        assert_false (modules_is_forbidden (defaults.names [i]));
    s_free_list (&defaults);
    s_free_list (&forbidden);
    free (text);
}

static void
test_parser_sees_a_difference (void **state)
{
    (void) state;
    //  the comparison is not vacuous: a list with one name changed fails
    const char *text = "x = 1\nDEFAULT_MODULES = (\n    \"json\", # c\n  'math',\n)\n";
    name_list_t list;
    s_parse_list (text, "DEFAULT_MODULES = (", &list);
    assert_int_equal (list.count, 2);
    assert_string_equal (list.names [0], "json");
    assert_string_equal (list.names [1], "math");
    s_free_list (&list);
}

static void
test_defaults_and_forbidden (void **state)
{
    (void) state;
    assert_true (modules_is_default ("json"));
    assert_true (modules_is_default ("urllib.parse"));
    assert_false (modules_is_default ("urllib"));
    assert_false (modules_is_default ("xml"));

    assert_true (modules_is_forbidden ("os"));
    assert_true (modules_is_forbidden ("os.path"));             //  dotted parent
    assert_true (modules_is_forbidden ("http.cookies"));
    assert_true (modules_is_forbidden ("importlib.util"));
    assert_true (modules_is_forbidden ("asyncio.subprocess"));
    assert_true (modules_is_forbidden ("urllib.request"));
    assert_true (modules_is_forbidden ("_thread"));
    assert_true (modules_is_forbidden ("_socket"));             //  private
    assert_true (modules_is_forbidden ("json._private"));
    assert_false (modules_is_forbidden ("urllib"));
    assert_false (modules_is_forbidden ("urllib.parse"));
    assert_false (modules_is_forbidden ("xml.etree.ElementTree"));
    assert_false (modules_is_forbidden ("osx"));                //  not a prefix match
    assert_false (modules_is_forbidden ("httpx"));
}

static void
test_names (void **state)
{
    (void) state;
    char out [MODULES_NAME_MAX + 1];
    const char *why = NULL;
    assert_int_equal (modules_check ("xml.etree", 9, out, &why), MODULE_OK);
    assert_string_equal (out, "xml.etree");
    assert_null (why);
    assert_int_equal (modules_check ("  requests \n", 12, out, &why), MODULE_OK);
    assert_string_equal (out, "requests");
    assert_int_equal (modules_check ("PIL.Image", 9, out, &why), MODULE_OK);
    assert_string_equal (out, "PIL.Image");                     //  case kept

    static const char *const invalid [] = {
        "", "   ", ".json", "json.", "a..b", "1abc", "a-b", "a b", "a.1b",
        "json;os", "os/path", "é", NULL
    };
    for (int i = 0; invalid [i]; i++) {
        assert_int_equal (modules_check (invalid [i], strlen (invalid [i]), out, &why),
                          MODULE_INVALID);
        assert_non_null (why);
    }
    char long_name [200];
    memset (long_name, 'a', sizeof long_name);
    assert_int_equal (modules_check (long_name, 129, out, &why), MODULE_INVALID);
    assert_int_equal (modules_check (long_name, 128, out, &why), MODULE_OK);
    //  embedded NUL is not part of a name
    assert_int_equal (modules_check ("js\0on", 5, out, &why), MODULE_INVALID);

    assert_int_equal (modules_check ("os", 2, out, &why), MODULE_FORBIDDEN);
    assert_string_equal (out, "os");
    assert_int_equal (modules_check (" subprocess ", 12, out, &why), MODULE_FORBIDDEN);
    assert_int_equal (modules_check ("os.path", 7, out, &why), MODULE_FORBIDDEN);
    assert_int_equal (modules_check ("_thread", 7, out, &why), MODULE_FORBIDDEN);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_lists_mirror_harness),
        cmocka_unit_test (test_parser_sees_a_difference),
        cmocka_unit_test (test_defaults_and_forbidden),
        cmocka_unit_test (test_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
