/*  redactor.h — secrets out of what a call answers, done by the executor
    parent (trusted code the tool cannot reach) on the frame it receives.

    For every secret the redactor precomputes the spellings a tool produces
    by accident when it prints, returns or builds a request with it, and
    replaces each occurrence with "[REDACTED]":

      raw; reversed (by character); ASCII upper and lower case;
      URL-quoted: quote() with its default safe "/", quote(safe=""),
        quote_plus(); percent escapes in upper-case hex, as Python writes;
      base64, standard and URL-safe alphabets, at each of the 3 byte
        alignments the secret can have inside a longer encoded text (HTTP
        Basic's base64("user:" + secret)): the characters that depend on
        the secret's bytes alone, when there are at least 5 of them, plus
        the whole padded and unpadded encoding of the secret alone;
      hex, lower and upper case;
      JSON string escapes (json.dumps with and without ensure_ascii);
      html.escape(); the inside of repr() and ascii() of the string, and of
        repr() of its UTF-8 bytes.

    Secrets of 1-3 characters are matched only as a whole word (not next
    to a letter, digit, '_' or non-ASCII byte): redacting every "ab" inside
    other text would destroy it. Forms the redactor does not recognise
    (encryption, compression, splitting, other encodings, non-ASCII case
    mapping) are listed in docs/SECURITY.md.

    The redactor holds derived secret material: redactor_destroy() wipes it.
*/
#ifndef MCPBOX_REDACTOR_H
#define MCPBOX_REDACTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define REDACTED_TEXT "[REDACTED]"

typedef struct _redactor_t redactor_t;

redactor_t *redactor_new (void);
void        redactor_destroy (redactor_t **self_p);

//  Add a secret (UTF-8, 1..10000 bytes). 0, or -1 if invalid.
int   redactor_add (redactor_t *self, const char *secret, size_t len);
//  True when at least one secret was added.
bool  redactor_active (const redactor_t *self);

//  Redacted copy of text (malloc'd, NUL-terminated, length in *out_len).
//  With cut, the text was truncated: a form's beginning at its very end
//  is redacted too. NULL only when out of memory.
char *redactor_text (const redactor_t *self, const char *text, size_t len,
                     bool cut, size_t *out_len);

//  A redacted deep copy of a JSON value: every string, every object key
//  (colliding keys get "#2", "#3"...) and every number whose decimal text
//  holds a secret (replaced by the string "[REDACTED]"). *changed tells
//  whether anything was replaced. NULL when out of memory.
json_t *redactor_json (const redactor_t *self, json_t *value, bool *changed);

//  How many patterns (all forms of all secrets) are matched; for tests.
size_t  redactor_pattern_count (const redactor_t *self);

#endif
