/*  test_backup_file.c — an export file's envelope and content shape
    (actors/backup/file.c): a written file splits back into its parts, the
    signed bytes are exactly the content member, every malformed header,
    a second version, trailing bytes, duplicate keys, unknown fields and
    wrong types are refused with a message.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "backup.h"

#define KEY "0123456789abcdef"
#define SIG "abababababababababababababababababababababababababababababababab"
#define CONTENT "{\n \"exported_at\": \"t\",\n \"policy\": {},\n \"servers\": [],\n" \
                " \"skipped_tools\": 0\n}"

static void
test_write_then_parse (void **state)
{
    (void) state;
    size_t size = 0;
    char *file = backup_file_write (KEY, SIG, CONTENT, strlen (CONTENT), &size);
    assert_non_null (file);
    assert_int_equal (size, strlen (file));
    assert_int_equal (file [size - 1], '\n');
    backup_file_t parts;
    const char *why = NULL;
    assert_int_equal (backup_file_parse (file, size, &parts, &why), 0);
    assert_int_equal (parts.version, 1);
    assert_string_equal (parts.key_id, KEY);
    assert_string_equal (parts.signature, SIG);
    assert_int_equal (parts.content_len, strlen (CONTENT));
    assert_memory_equal (parts.content, CONTENT, parts.content_len);
    //  without its newline too
    assert_int_equal (backup_file_parse (file, size - 1, &parts, &why), 0);
    assert_int_equal (parts.content_len, strlen (CONTENT));
    char err [300];
    json_t *content = backup_content_parse (parts.content, parts.content_len, err, sizeof err);
    assert_non_null (content);
    assert_int_equal (backup_content_check (content, err, sizeof err), 0);
    json_decref (content);
    free (file);
}

static void
test_malformed_envelopes (void **state)
{
    (void) state;
    const char *bad [] = {
        "",
        "{}",
        "{\"format\":\"mcpbox-export\",\"version\":2,\"key_id\":\"" KEY "\",\"signature\":\""
            SIG "\",\"content\":{}}",
        "{\"format\":\"mcpbox-export\",\"version\":01,\"key_id\":\"" KEY "\",\"signature\":\""
            SIG "\",\"content\":{}}",
        "{\"format\":\"mcpbox-export\", \"version\":1,\"key_id\":\"" KEY "\",\"signature\":\""
            SIG "\",\"content\":{}}",
        "{\"format\":\"mcpbox-export\",\"version\":1,\"key_id\":\"0123456789ABCDEF\","
            "\"signature\":\"" SIG "\",\"content\":{}}",
        "{\"format\":\"mcpbox-export\",\"version\":1,\"key_id\":\"" KEY "\",\"signature\":\""
            SIG "a\",\"content\":{}}",
        "{\"format\":\"mcpbox-export\",\"version\":1,\"key_id\":\"" KEY "\",\"signature\":\""
            SIG "\",\"content\":{}}\n\n",
        "{\"format\":\"mcpbox-export\",\"version\":1,\"key_id\":\"" KEY "\",\"signature\":\""
            SIG "\",\"content\":{}} ",
        "{\"format\":\"mcpbox-export\",\"version\":1,\"key_id\":\"" KEY "\",\"signature\":\""
            SIG "\",\"content\":}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        backup_file_t parts;
        const char *why = NULL;
        assert_int_equal (backup_file_parse (bad [i], strlen (bad [i]), &parts, &why), -1);
        assert_non_null (why);
        assert_true (strlen (why) > 0);
    }
}

static void
test_content_refusals (void **state)
{
    (void) state;
    struct { const char *text; const char *words; } bad [] = {
        { "{\"servers\": [], \"servers\": []}", "not valid JSON" },
        { "[]", "must be a JSON object" },
        { "{\"exported_at\":\"t\",\"policy\":{},\"servers\":[],\"skipped_tools\":0,\"x\":1}",
          "unknown field 'x'" },
        { "{\"exported_at\":\"t\",\"policy\":{},\"servers\":{},\"skipped_tools\":0}",
          "content.servers: wrong type" },
        { "{\"exported_at\":\"t\",\"policy\":{},\"servers\":[]}", "'skipped_tools' is missing" },
        { "{\"exported_at\":\"t\",\"policy\":{\"k\":[1]},\"servers\":[],\"skipped_tools\":0}",
          "policy.k" },
        { "{\"exported_at\":\"t\",\"policy\":{},\"skipped_tools\":0,\"servers\":[{\"name\":\"a\","
          "\"description\":\"\",\"status\":\"ready\",\"default_timeout_ms\":1000,\"created_at\":"
          "\"t\",\"updated_at\":\"t\",\"tools\":[],\"allowed_modules\":[1],\"allowed_hosts\":[],"
          "\"secrets\":[]}]}", "servers[0].allowed_modules[0]: must be a string" },
        { "{\"exported_at\":\"t\",\"policy\":{},\"skipped_tools\":0,\"servers\":[{\"name\":\"a\","
          "\"description\":\"\",\"status\":\"ready\",\"default_timeout_ms\":1000,\"created_at\":"
          "\"t\",\"updated_at\":\"t\",\"tools\":[],\"allowed_modules\":[],\"allowed_hosts\":[],"
          "\"secrets\":[{\"key\":\"K\",\"description\":\"\",\"value\":\"v\"}]}]}",
          "servers[0].secrets[0]: unknown field 'value'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char why [300] = "";
        json_t *content = backup_content_parse (bad [i].text, strlen (bad [i].text), why,
                                                sizeof why);
        if (content) {
            assert_int_equal (backup_content_check (content, why, sizeof why), -1);
            json_decref (content);
        }
        if (!strstr (why, bad [i].words))
            fail_msg ("case %zu: '%s' does not say '%s'", i, why, bad [i].words);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_write_then_parse),
        cmocka_unit_test (test_malformed_envelopes),
        cmocka_unit_test (test_content_refusals),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
