/*  fuzz_oauth_form — the OAuth endpoints' form decoder (oauth_form.c) and
    the checks of what a client brings (common/oauth_uri.c), on hostile
    bytes: no crash, no leak, and what the decoder accepts holds its rules.
*/
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "oauth_form.h"
#include "oauth_uri.h"
#include "utf8.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *why = NULL;
    json_t *form = oauth_form_parse ((const char *) data, size, 2048, &why);
    if (form) {
        assert (json_object_size (form) <= OAUTH_FORM_FIELDS);
        const char *key;
        json_t *value;
        json_object_foreach (form, key, value) {
            assert (strlen (key) >= 1 && strlen (key) <= OAUTH_FORM_NAME_MAX);
            const char *text = json_string_value (value);
            assert (text && json_string_length (value) <= 2048);
            assert (utf8_valid (text, json_string_length (value)));
            char why_buf [160];
            oauth_redirect_uri_valid (text, why_buf, sizeof why_buf);
            oauth_cimd_url_valid (text, why_buf, sizeof why_buf);
            oauth_client_name_valid (text, strlen (text));
            if (oauth_pkce_verifier_valid (text))
                oauth_pkce_matches (text, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
            char encoded [8192] = "";
            oauth_form_encode (encoded, sizeof encoded, text);
        }
        json_decref (form);
    }
    else
        assert (why);
    //  the same bytes as one string for the URI checks
    char *text = malloc (size + 1);
    if (text) {
        memcpy (text, data, size);
        text [size] = 0;
        char why_buf [160];
        oauth_redirect_uri_valid (text, why_buf, sizeof why_buf);
        oauth_cimd_url_valid (text, why_buf, sizeof why_buf);
        oauth_client_name_valid (text, strlen (text));
        free (text);
    }
    return 0;
}
