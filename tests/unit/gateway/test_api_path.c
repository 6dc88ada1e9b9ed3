/*  test_api_path.c — the /api route pattern matcher: literal segments,
    bounded parameters of [A-Za-z0-9_.-], nothing decoded, no empty or
    dot-only parameter, no trailing or missing segment.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "api_path.h"

static bool
s_match (const char *pattern, const char *path, api_params_t *params)
{
    return api_path_match (pattern, path, strlen (path), params);
}

static void
test_literals_and_params (void **state)
{
    (void) state;
    api_params_t p;
    assert_true (s_match ("/api/servers", "/api/servers", &p));
    assert_int_equal (p.count, 0);
    assert_false (s_match ("/api/servers", "/api/servers/", &p));
    assert_false (s_match ("/api/servers", "/api/server", &p));
    assert_true (s_match ("/api/servers/{}/secrets/{}", "/api/servers/ab-1/secrets/API_KEY", &p));
    assert_int_equal (p.count, 2);
    assert_string_equal (p.value [0], "ab-1");
    assert_string_equal (p.value [1], "API_KEY");
    assert_false (s_match ("/api/servers/{}", "/api/servers/ab/secrets", &p));
    assert_int_equal (p.count, 0);
    assert_string_equal (p.value [0], "");
}

static void
test_uuid_params (void **state)
{
    (void) state;
    api_params_t p;
    const char *id = "0b7a3a6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
    char path [128];
    snprintf (path, sizeof path, "/api/tools/%s/versions/3", id);
    assert_true (s_match ("/api/tools/{id}/versions/{}", path, &p));
    assert_string_equal (p.value [0], id);
    assert_string_equal (p.value [1], "3");
    assert_false (s_match ("/api/tools/{id}", "/api/tools/nope", &p));
    assert_false (s_match ("/api/tools/{id}", "/api/tools/0b7a3a6e-1c2d-4e5f-8a9b-0c1d2e3f4a5", &p));
    assert_false (s_match ("/api/tools/{id}", "/api/tools/0b7a3a6e1c2d-4e5f-8a9b-0c1d2e3f4a5b0", &p));
    assert_false (s_match ("/api/tools/{id}", "/api/tools/0b7a3a6e-1c2d-4e5f-8a9b-0c1d2e3f4a5g", &p));
    assert_int_equal (p.count, 0);
}

static void
test_hostile_params (void **state)
{
    (void) state;
    api_params_t p;
    assert_false (s_match ("/api/servers/{}", "/api/servers/", &p));
    assert_false (s_match ("/api/servers/{}", "/api/servers/..", &p));
    assert_false (s_match ("/api/servers/{}", "/api/servers/.", &p));
    assert_false (s_match ("/api/servers/{}", "/api/servers/%2e%2e", &p));
    assert_false (s_match ("/api/servers/{}", "/api/servers/a b", &p));
    assert_false (s_match ("/api/servers/{}/hosts", "/api/servers//hosts", &p));
    assert_true (s_match ("/api/servers/{}", "/api/servers/a.b", &p));
    char path [200] = "/api/servers/";
    memset (path + 13, 'x', API_PARAM_MAX);
    assert_true (s_match ("/api/servers/{}", path, &p));
    assert_int_equal (strlen (p.value [0]), API_PARAM_MAX);
    path [13 + API_PARAM_MAX] = 'x';
    assert_false (s_match ("/api/servers/{}", path, &p));
    //  a NUL inside the path is not a parameter character
    assert_false (api_path_match ("/api/servers/{}", "/api/servers/a\0b", 16, &p));
    assert_false (api_path_match ("/api/servers/{}", "/api/servers/ab", API_PATH_MAX + 1, &p));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_literals_and_params),
        cmocka_unit_test (test_uuid_params),
        cmocka_unit_test (test_hostile_params),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
