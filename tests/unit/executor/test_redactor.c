/*  test_redactor.c — the executor parent's redaction (actors/executor/
    redactor.c) and its result-frame decoder (result_frame.c): every form
    of a secret the redactor promises, base64 at each alignment (HTTP Basic
    with any user name), whole-word rules for short secrets, a secret cut
    at a truncation, JSON values at any depth jansson accepts, numeric
    secrets as numbers and as keys, colliding keys, and the frame rules
    (malformed frames refused, every field of an answer redacted).
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "redactor.h"
#include "result_frame.h"

#define SECRET "s3cr3t-P@ss/w rd"

static redactor_t *
s_redactor (const char *secret)
{
    redactor_t *r = redactor_new ();
    assert_non_null (r);
    assert_int_equal (redactor_add (r, secret, strlen (secret)), 0);
    return r;
}

//  Redact text; return the result (caller frees).
static char *
s_redact (redactor_t *r, const char *text, bool cut)
{
    size_t len;
    char *out = redactor_text (r, text, strlen (text), cut, &len);
    assert_non_null (out);
    assert_int_equal (strlen (out), len);
    return out;
}

//  `text` (which holds `inner`, a form of the secret) comes out with
//  "[REDACTED]" and without `inner`, and with `keep` intact.
static void
s_hidden (redactor_t *r, const char *text, const char *inner, const char *keep)
{
    char *out = s_redact (r, text, false);
    if (strstr (out, inner) || !strstr (out, REDACTED_TEXT) || (keep && !strstr (out, keep)))
        fail_msg ("%s -> %s (must lose %s, keep %s)", text, out, inner, keep ? keep : "-");
    free (out);
}

static void
test_forms (void **state)
{
    (void) state;
    redactor_t *r = s_redactor (SECRET);
    s_hidden (r, "key=" SECRET ";", "P@ss", "key=");
    s_hidden (r, "dr w/ss@P-t3rc3s", "ss@P", NULL);                 //  reversed
    s_hidden (r, "S3CR3T-P@SS/W RD!", "P@SS", "!");                 //  upper
    s_hidden (r, "s3cr3t-p@ss/w rd", "p@ss", NULL);                 //  lower
    s_hidden (r, "?k=s3cr3t-P%40ss/w%20rd&x", "P%40ss", "&x");      //  quote()
    s_hidden (r, "?k=s3cr3t-P%40ss%2Fw%20rd", "P%40ss", NULL);      //  quote(safe='')
    s_hidden (r, "?k=s3cr3t-P%40ss%2Fw+rd", "P%40ss", NULL);        //  quote_plus
    s_hidden (r, "hex 73336372337" "42d504073732f77207264", "504073732f", "hex ");
    s_hidden (r, "HEX 73336372337" "42D504073732F77207264", "504073732F", "HEX ");
    redactor_destroy (&r);

    r = s_redactor ("k\"<\xc3\xa9>'\xe2\x98\x83x");      //  k"<é>'☃x
    s_hidden (r, "json \"k\\\"<\\u00e9>'\\u2603x\"", "\\u00e9>'\\u2603", "json");
    s_hidden (r, "json \"k\\\"<\xc3\xa9>'\xe2\x98\x83x\"", "\xe2\x98\x83", "json");
    s_hidden (r, "<p>k&quot;&lt;\xc3\xa9&gt;&#x27;\xe2\x98\x83x</p>", "&#x27;\xe2\x98\x83", "<p>");
    s_hidden (r, "ascii: 'k\"<\\xe9>\\'\\u2603x'", "\\u2603", "ascii");
    s_hidden (r, "repr: 'k\"<\xc3\xa9>\\'\xe2\x98\x83x'", "\xe2\x98\x83", "repr");
    s_hidden (r, "bytes: b'k\"<\\xc3\\xa9>\\'\\xe2\\x98\\x83x'", "\\x98\\x83", "bytes");
    redactor_destroy (&r);
}

static void
test_base64_every_alignment (void **state)
{
    (void) state;
    redactor_t *r = s_redactor (SECRET);
    //  base64("user:" + s), base64("ab:" + s), base64("a:" + s): 3 alignments
    s_hidden (r, "Authorization: Basic dXNlcjpzM2NyM3QtUEBzcy93IHJk", "M3QtUEBz", "Basic");
    s_hidden (r, "Authorization: Basic YWI6czNjcjN0LVBAc3MvdyByZA==", "N0LVBAc3", "Basic");
    s_hidden (r, "Authorization: Basic YTpzM2NyM3QtUEBzcy93IHJk", "M3QtUEBz", "Basic");
    //  url-safe alphabet, offset 1
    s_hidden (r, "t=eHMzY3IzdC1QQHNzL3cgcmQ=", "dC1QQHNz", "t=");
    redactor_destroy (&r);
}

static void
test_short_secret_whole_word_only (void **state)
{
    (void) state;
    redactor_t *r = s_redactor ("abc");
    char *out = s_redact (r, "abc", false);
    assert_string_equal (out, REDACTED_TEXT);
    free (out);
    out = s_redact (r, "(abc) xabcx abcd", false);
    assert_string_equal (out, "(" REDACTED_TEXT ") xabcx abcd");
    free (out);
    redactor_destroy (&r);
}

static void
test_cut_tail (void **state)
{
    (void) state;
    redactor_t *r = s_redactor (SECRET);
    char *out = s_redact (r, "output ... s3cr3t-P@", true);
    assert_string_equal (out, "output ... " REDACTED_TEXT);
    free (out);
    out = s_redact (r, "output ... s3cr3t-P@", false);
    assert_string_equal (out, "output ... s3cr3t-P@");
    free (out);
    redactor_destroy (&r);
}

static void
test_no_secrets_no_change (void **state)
{
    (void) state;
    redactor_t *r = redactor_new ();
    assert_false (redactor_active (r));
    char *out = s_redact (r, "plain text", false);
    assert_string_equal (out, "plain text");
    free (out);
    assert_int_equal (redactor_add (r, "", 0), -1);
    redactor_destroy (&r);
    redactor_destroy (&r);      //  NULL-safe
}

static void
test_json_any_depth_keys_and_numbers (void **state)
{
    (void) state;
    redactor_t *r = s_redactor (SECRET);
    assert_int_equal (redactor_add (r, "12345678", 8), 0);
    //  depth 1500 (the harness's encoder refuses deeper than ~1000)
    json_t *root = json_string ("at the bottom: " SECRET);
    for (int i = 0; i < 1500; i++) {
        json_t *wrap = i % 2 ? json_array () : json_object ();
        if (i % 2)
            json_array_append_new (wrap, root);
        else
            json_object_set_new (wrap, "k", root);
        root = wrap;
    }
    bool changed = false;
    json_t *copy = redactor_json (r, root, &changed);
    assert_true (changed);
    char *text = json_dumps (copy, JSON_ENCODE_ANY);
    assert_non_null (text);
    assert_null (strstr (text, "P@ss"));
    assert_non_null (strstr (text, REDACTED_TEXT));
    free (text);
    json_decref (copy);
    json_decref (root);

    root = json_pack ("{s:i, s:i, s:s, s:f, s:b}", "12345678", 1, SECRET, 2, "n", "x",
                      "m", 12345678.0, "ok", 1);
    json_object_set_new (root, "v", json_integer (12345678));
    copy = redactor_json (r, root, &changed);
    assert_true (changed);
    text = json_dumps (copy, JSON_SORT_KEYS);
    assert_null (strstr (text, "12345678"));
    assert_null (strstr (text, "P@ss"));
    //  both secret keys survive as distinct keys; numbers became strings
    assert_int_equal (json_object_size (copy), json_object_size (root));
    assert_string_equal (json_string_value (json_object_get (copy, "v")), REDACTED_TEXT);
    assert_string_equal (json_string_value (json_object_get (copy, "m")), REDACTED_TEXT);
    assert_true (json_is_true (json_object_get (copy, "ok")));
    free (text);
    json_decref (copy);
    json_decref (root);
    redactor_destroy (&r);
}

static void
test_frame_every_field (void **state)
{
    (void) state;
    redactor_t *r = s_redactor (SECRET);
    const char *frame =
        "{\"type\":\"result\",\"success\":false,\"structured\":true,"
        "\"result_json\":\"{\\\"" SECRET "\\\": [\\\"" SECRET "\\\", 1]}\","
        "\"stdout\":\"printed " SECRET "\\u0000\",\"smuggled\":\"" SECRET "\","
        "\"error\":{\"type\":\"" SECRET "\",\"message\":\"m " SECRET "\",\"line\":3,"
        "\"context\":[\"> 3 | x = '" SECRET "'\"]}}";
    json_t *clean = result_frame_decode (frame, strlen (frame), r);
    assert_non_null (clean);
    char *text = json_dumps (clean, 0);
    if (strstr (text, "P@ss") || strstr (text, "smuggled"))
        fail_msg ("not redacted: %s", text);
    assert_string_equal (json_string_value (json_object_get (json_object_get (clean, "error"), "type")),
                         REDACTED_TEXT);
    //  NUL survives in stdout
    assert_int_equal (json_string_length (json_object_get (clean, "stdout")),
                      strlen ("printed " REDACTED_TEXT) + 1);
    free (text);
    json_decref (clean);

    //  unchanged result_json keeps its exact text
    frame = "{\"type\":\"result\",\"success\":true,\"result_json\":\"[1,  2.50]\"}";
    clean = result_frame_decode (frame, strlen (frame), r);
    assert_non_null (clean);
    assert_string_equal (json_string_value (json_object_get (clean, "result_json")), "[1,  2.50]");
    json_decref (clean);
    redactor_destroy (&r);
}

static void
test_frame_malformed (void **state)
{
    (void) state;
    const char *bad [] = {
        "",
        "{",
        "[]",
        "{\"type\":\"result\"}",                                        //  no success
        "{\"type\":\"http\",\"success\":true}",                         //  not a result
        "{\"type\":\"result\",\"success\":true,\"result_json\":\"{\"}", //  not JSON
        "{\"type\":\"result\",\"success\":true,\"result_json\":3}",
        "{\"type\":\"result\",\"success\":true,\"success\":false}",     //  duplicate
        "{\"type\":\"result\",\"success\":true,\"result_json\":\"123456789012345678901234567890\"}",
        "{\"type\":\"result\",\"success\":\"\xff\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        json_t *clean = result_frame_decode (bad [i], strlen (bad [i]), NULL);
        if (clean)
            fail_msg ("accepted: %s", bad [i]);
    }
    //  stdout over the bound: cut, and said so
    size_t big = RESULT_STDOUT_MAX + 100;
    char *frame = malloc (big + 100);
    int head = sprintf (frame, "{\"type\":\"result\",\"success\":true,\"stdout\":\"");
    memset (frame + head, 'x', big);
    strcpy (frame + head + big, "\"}");
    json_t *clean = result_frame_decode (frame, strlen (frame), NULL);
    assert_non_null (clean);
    assert_true (json_is_true (json_object_get (clean, "stdout_truncated")));
    assert_int_equal (json_string_length (json_object_get (clean, "stdout")), RESULT_STDOUT_MAX);
    json_decref (clean);
    free (frame);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_forms),
        cmocka_unit_test (test_base64_every_alignment),
        cmocka_unit_test (test_short_secret_whole_word_only),
        cmocka_unit_test (test_cut_tail),
        cmocka_unit_test (test_no_secrets_no_change),
        cmocka_unit_test (test_json_any_depth_keys_and_numbers),
        cmocka_unit_test (test_frame_every_field),
        cmocka_unit_test (test_frame_malformed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
