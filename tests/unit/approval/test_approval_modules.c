/*  test_approval_modules.c — the approval actor's module lists and names
    (actors/approval/modules.h, modules.c).

    The lists reach approval through the header the build generates from
    common/python_modules.txt; this test reads that file itself and fails
    when what approval holds differs from it (same names, same order), so a
    stale or hand-edited generated header cannot pass. It also checks
    module-name syntax and the forbidden rules (dotted parents, private
    names). integration/test_python_modules.py checks the other outputs (the
    harness, the gateway's answer) and that no copy appears elsewhere.

    Linked against approval_core, as the actor is.
*/
#include <stdarg.h>
#include <stdbool.h>
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
s_read_list_file (void)
{
    char path [4096];
    const char *source = getenv ("MCPBOX_SOURCE_DIR");
    if (source && *source)
        snprintf (path, sizeof path, "%s/common/python_modules.txt", source);
    else {
        //  __FILE__ is .../tests/unit/approval/test_approval_modules.c
        snprintf (path, sizeof path, "%s", __FILE__);
        char *cut = strstr (path, "tests/unit/");
        assert_non_null (cut);
        snprintf (cut, sizeof path - (size_t) (cut - path), "common/python_modules.txt");
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

//  The names under `[section]` in python_modules.txt's format: one a line,
//  '#' comments, blank lines, up to the next `[...]`.
static void
s_parse_list (const char *text, const char *section, name_list_t *list)
{
    list->count = 0;
    bool inside = false;
    const char *line = text;
    while (*line) {
        const char *end = strchr (line, '\n');
        size_t len = end ? (size_t) (end - line) : strlen (line);
        const char *hash = memchr (line, '#', len);
        if (hash)
            len = (size_t) (hash - line);
        while (len && strchr (" \t\r", line [len - 1]))
            len--;
        while (len && (*line == ' ' || *line == '\t')) {
            line++;
            len--;
        }
        if (len && line [0] == '[')
            inside = len == strlen (section) && memcmp (line, section, len) == 0;
        else
        if (len && inside) {
            assert_true (list->count < MAX_NAMES);
            list->names [list->count++] = strndup (line, len);
        }
        if (!end)
            break;
        line = end + 1;
    }
}

static void
s_free_list (name_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free (list->names [i]);
}

static void
s_assert_same (const name_list_t *source, const char *const *ours, size_t count,
               const char *what)
{
    for (size_t i = 0; i < source->count && i < count; i++)
        if (strcmp (source->names [i], ours [i]) != 0)
            fail_msg ("%s differs at entry %zu: python_modules.txt has '%s', "
                      "approval has '%s'", what, i, source->names [i], ours [i]);
    if (source->count != count)
        fail_msg ("%s: python_modules.txt has %zu names, approval has %zu", what,
                  source->count, count);
}

static void
test_lists_come_from_the_list_file (void **state)
{
    (void) state;
    char *text = s_read_list_file ();
    name_list_t defaults, forbidden;
    s_parse_list (text, "[default]", &defaults);
    s_parse_list (text, "[forbidden]", &forbidden);
    assert_true (defaults.count >= 20);
    assert_true (forbidden.count >= 20);

    s_assert_same (&defaults, modules_default, modules_default_count, "[default]");
    assert_int_equal (modules_default_count, MODULES_DEFAULT_COUNT);
    static const char *const ours_forbidden [] = { MODULES_FORBIDDEN_LIST };
    s_assert_same (&forbidden, ours_forbidden,
                   sizeof ours_forbidden / sizeof ours_forbidden [0], "[forbidden]");
    for (size_t i = 0; i < forbidden.count; i++)
        assert_true (modules_is_forbidden (forbidden.names [i]));

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
    //  the comparison is not vacuous: the parser reads sections, not all lines
    const char *text = "# c\n[default]\n json # c\n\nmath\n[forbidden]\nos\n";
    name_list_t list;
    s_parse_list (text, "[default]", &list);
    assert_int_equal (list.count, 2);
    assert_string_equal (list.names [0], "json");
    assert_string_equal (list.names [1], "math");
    s_free_list (&list);
    s_parse_list (text, "[forbidden]", &list);
    assert_int_equal (list.count, 1);
    assert_string_equal (list.names [0], "os");
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
        cmocka_unit_test (test_lists_come_from_the_list_file),
        cmocka_unit_test (test_parser_sees_a_difference),
        cmocka_unit_test (test_defaults_and_forbidden),
        cmocka_unit_test (test_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
