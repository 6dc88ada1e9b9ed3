/*  test_notice_frame.c — the executor parent's check of a progress or log
    frame from a sandbox child (actors/executor/notice_frame.c): the clean
    notices it makes, texts cut on a UTF-8 boundary and marked truncated,
    secrets redacted, and every malformed frame refused (wrong types,
    unknown keys or levels, NaN/negative numbers, a NUL in a text). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "notice_frame.h"

static json_t *
s_decode (const char *text, const redactor_t *redactor, bool *truncated)
{
    return notice_frame_decode (text, strlen (text), redactor, truncated);
}

static void
test_progress (void **state)
{
    (void) state;
    bool truncated = true;
    json_t *n = s_decode ("{\"type\":\"progress\",\"progress\":3,\"total\":10,"
                          "\"message\":\"step 3\"}", NULL, &truncated);
    assert_non_null (n);
    assert_false (truncated);
    assert_string_equal (json_string_value (json_object_get (n, "kind")), "progress");
    assert_true (json_number_value (json_object_get (n, "progress")) == 3.0);
    assert_true (json_number_value (json_object_get (n, "total")) == 10.0);
    assert_string_equal (json_string_value (json_object_get (n, "message")), "step 3");
    assert_int_equal (json_object_size (n), 4);
    json_decref (n);
    n = s_decode ("{\"type\":\"progress\",\"progress\":0.5}", NULL, &truncated);
    assert_non_null (n);
    assert_null (json_object_get (n, "total"));
    assert_null (json_object_get (n, "message"));
    json_decref (n);
}

static void
test_log_levels (void **state)
{
    (void) state;
    const char *levels [] = { "debug", "info", "notice", "warning", "error",
                              "critical", "alert", "emergency" };
    for (int i = 0; i < 8; i++) {
        assert_int_equal (notice_level_rank (levels [i]), i);
        char frame [128];
        snprintf (frame, sizeof frame, "{\"type\":\"log\",\"level\":\"%s\",\"data\":\"x\"}", levels [i]);
        json_t *n = s_decode (frame, NULL, NULL);
        assert_non_null (n);
        assert_string_equal (json_string_value (json_object_get (n, "level")), levels [i]);
        assert_string_equal (json_string_value (json_object_get (n, "data")), "x");
        json_decref (n);
    }
    assert_int_equal (notice_level_rank ("loud"), -1);
    assert_int_equal (notice_level_rank (NULL), -1);
    assert_int_equal (notice_level_rank ("INFO"), -1);
}

static void
test_cut_on_utf8_boundary (void **state)
{
    (void) state;
    //  "€" is 3 bytes: 4096 / 3 whole characters fit
    size_t count = 2000;
    char *frame = malloc (count * 3 + 64);
    strcpy (frame, "{\"type\":\"log\",\"level\":\"info\",\"data\":\"");
    char *p = frame + strlen (frame);
    for (size_t i = 0; i < count; i++, p += 3)
        memcpy (p, "\xe2\x82\xac", 3);
    strcpy (p, "\"}");
    bool truncated = false;
    json_t *n = s_decode (frame, NULL, &truncated);
    assert_non_null (n);
    assert_true (truncated);
    assert_int_equal (json_string_length (json_object_get (n, "data")), (NOTICE_DATA_MAX / 3) * 3);
    json_decref (n);
    free (frame);
    //  the harness's own mark counts too
    n = s_decode ("{\"type\":\"log\",\"level\":\"info\",\"data\":\"a\",\"cut\":true}", NULL, &truncated);
    assert_non_null (n);
    assert_true (truncated);
    json_decref (n);
}

static void
test_redacted (void **state)
{
    (void) state;
    redactor_t *r = redactor_new ();
    redactor_add (r, "hunter2-secret", 14);
    json_t *n = s_decode ("{\"type\":\"log\",\"level\":\"info\",\"data\":\"pw=hunter2-secret!\"}", r, NULL);
    assert_non_null (n);
    assert_null (strstr (json_string_value (json_object_get (n, "data")), "hunter2"));
    assert_non_null (strstr (json_string_value (json_object_get (n, "data")), "[REDACTED]"));
    json_decref (n);
    n = s_decode ("{\"type\":\"progress\",\"progress\":1,\"message\":\"hunter2-secret\"}", r, NULL);
    assert_non_null (n);
    assert_string_equal (json_string_value (json_object_get (n, "message")), "[REDACTED]");
    json_decref (n);
    redactor_destroy (&r);
}

//  A numeric secret as progress or total: the notice is refused (its number
//  cannot become "[REDACTED]"); other numbers pass.
static void
test_numeric_secret_refused (void **state)
{
    (void) state;
    redactor_t *r = redactor_new ();
    redactor_add (r, "48151623", 8);
    assert_null (s_decode ("{\"type\":\"progress\",\"progress\":48151623.0}", r, NULL));
    assert_null (s_decode ("{\"type\":\"progress\",\"progress\":1,\"total\":48151623}", r, NULL));
    assert_null (s_decode ("{\"type\":\"progress\",\"progress\":948151623}", r, NULL));
    json_t *n = s_decode ("{\"type\":\"progress\",\"progress\":3,\"total\":10}", r, NULL);
    assert_non_null (n);
    json_decref (n);
    redactor_destroy (&r);
}

//  A short secret many times: each "[REDACTED]" is longer than what it
//  hides, so the redacted line outgrows its bound; it is cut again and
//  redacted again as cut (found by fuzz_notice_frame).
static void
test_redaction_never_outgrows_the_bound (void **state)
{
    (void) state;
    redactor_t *r = redactor_new ();
    redactor_add (r, "k9x", 3);
    char frame [NOTICE_DATA_MAX + 128];
    size_t at = (size_t) snprintf (frame, sizeof frame, "{\"type\":\"log\",\"level\":\"info\",\"data\":\"");
    while (at + 8 < NOTICE_DATA_MAX + 40)
        at += (size_t) snprintf (frame + at, sizeof frame - at, "k9x ");
    snprintf (frame + at, sizeof frame - at, "k9\"}");
    bool truncated = false;
    json_t *n = s_decode (frame, r, &truncated);
    assert_non_null (n);
    const char *data = json_string_value (json_object_get (n, "data"));
    assert_true (strlen (data) <= NOTICE_DATA_MAX + 10);
    assert_null (strstr (data, "k9x"));
    size_t len = strlen (data);
    assert_false (len >= 2 && strcmp (data + len - 2, "k9") == 0);   //  no prefix left at the cut
    assert_true (truncated);
    json_decref (n);
    redactor_destroy (&r);
}

static void
test_malformed (void **state)
{
    (void) state;
    const char *bad [] = {
        "",
        "[]",
        "{\"type\":\"progress\"}",
        "{\"type\":\"progress\",\"progress\":\"3\"}",
        "{\"type\":\"progress\",\"progress\":-1}",
        "{\"type\":\"progress\",\"progress\":1,\"total\":-2}",
        "{\"type\":\"progress\",\"progress\":1,\"total\":null}",
        "{\"type\":\"progress\",\"progress\":1,\"message\":3}",
        "{\"type\":\"progress\",\"progress\":1,\"job\":7}",
        "{\"type\":\"progress\",\"progress\":1,\"cut\":false}",
        "{\"type\":\"progress\",\"progress\":1,\"progress\":2}",
        "{\"type\":\"progress\",\"progress\":1e400}",
        "{\"type\":\"log\",\"level\":\"loud\",\"data\":\"x\"}",
        "{\"type\":\"log\",\"level\":\"info\"}",
        "{\"type\":\"log\",\"level\":\"info\",\"data\":[\"x\"]}",
        "{\"type\":\"log\",\"level\":\"info\",\"data\":\"a\\u0000b\"}",
        "{\"type\":\"log\",\"level\":\"info\",\"data\":\"x\",\"to\":\"other-call\"}",
        "{\"type\":\"result\",\"success\":true}",
        "{\"type\":\"log\",\"level\":\"info\",\"data\":\"\xff\"}",
        NULL
    };
    for (int i = 0; bad [i]; i++) {
        json_t *n = s_decode (bad [i], NULL, NULL);
        if (n)
            fail_msg ("accepted: %s", bad [i]);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_progress),
        cmocka_unit_test (test_log_levels),
        cmocka_unit_test (test_cut_on_utf8_boundary),
        cmocka_unit_test (test_redacted),
        cmocka_unit_test (test_numeric_secret_refused),
        cmocka_unit_test (test_redaction_never_outgrows_the_bound),
        cmocka_unit_test (test_malformed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
