/*  log_redact.c — secret-looking keys and bounded text for log records
    (log_redact.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_msgpack.h"
#include "log_redact.h"

#define FOLD_MAX 128                //  a longer key is folded up to here

static const char *s_contains [] = {
    "password", "passwd", "passphrase", "secret", "token", "apikey",
    "accesskey", "authorization", "cookie", "credential", "privatekey",
    "sessionid", "bearer", "jwt", "signingkey", NULL
};
static const char *s_exact [] = { "auth", "pwd", "pass", "pin", "otp", NULL };

bool
log_redact_key_is_secret (const char *key, size_t len)
{
    if (!key)
        return false;
    char folded [FOLD_MAX + 1];
    size_t at = 0;
    for (size_t i = 0; i < len && at < FOLD_MAX; i++) {
        unsigned char c = (unsigned char) key [i];
        if (c >= 'A' && c <= 'Z')
            folded [at++] = (char) (c - 'A' + 'a');
        else
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            folded [at++] = (char) c;
    }
    folded [at] = 0;
    for (const char **word = s_contains; *word; word++)
        if (strstr (folded, *word))
            return true;
    for (const char **word = s_exact; *word; word++)
        if (strcmp (folded, *word) == 0)
            return true;
    return false;
}

static size_t
s_redact (json_t *value, int depth)
{
    size_t count = 0;
    if (json_is_object (value)) {
        const char *key;
        size_t key_len;
        json_t *child;
        void *tmp;
        //  the whole key, NUL bytes included: "x\0password" is a secret's key
        json_object_keylen_foreach_safe (value, tmp, key, key_len, child) {
            if (log_redact_key_is_secret (key, key_len)
            ||  (depth >= JSON_MSGPACK_MAX_DEPTH
                 && (json_is_object (child) || json_is_array (child)))) {
                json_object_setn_new (value, key, key_len, json_string (LOG_REDACTED));
                count++;
            }
            else
                count += s_redact (child, depth + 1);
        }
    }
    else
    if (json_is_array (value)) {
        size_t index;
        json_t *child;
        json_array_foreach (value, index, child) {
            if (depth >= JSON_MSGPACK_MAX_DEPTH
            &&  (json_is_object (child) || json_is_array (child))) {
                json_array_set_new (value, index, json_string (LOG_REDACTED));
                count++;
            }
            else
                count += s_redact (child, depth + 1);
        }
    }
    return count;
}

size_t
log_redact_json (json_t *value)
{
    return value ? s_redact (value, 1) : 0;
}

char *
log_truncate (const char *text, size_t len, size_t max, size_t *out_len)
{
    if (!text)
        return NULL;
    size_t keep = len;
    char marker [64] = "";
    if (len > max) {
        keep = max;
        //  back off over continuation bytes, then drop a lead byte whose
        //  sequence would not fit
        while (keep > 0 && ((unsigned char) text [keep] & 0xC0) == 0x80)
            keep--;
        snprintf (marker, sizeof marker, "\xE2\x80\xA6[truncated, %zu bytes]", len);
    }
    size_t marker_len = strlen (marker);
    char *copy = malloc (keep + marker_len + 1);
    if (!copy)
        return NULL;
    memcpy (copy, text, keep);
    memcpy (copy + keep, marker, marker_len);
    copy [keep + marker_len] = 0;
    if (out_len)
        *out_len = keep + marker_len;
    return copy;
}
