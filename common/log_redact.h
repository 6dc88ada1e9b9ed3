/*  log_redact.h — what a log record may not carry, and how long it may be.

    Used twice on every record: by the publisher before a record leaves its
    process (so a secret never sits in a spool or crosses the bus), and by
    logkeeper before a row is written (a publisher is not trusted to have
    done it).

    Secret-looking keys. A map key is compared after folding it to
    lower-case and dropping everything but letters and digits
    ("X-Api-Key" -> "xapikey"). It names a secret when it contains one of
        password passwd passphrase secret token apikey accesskey
        authorization cookie credential privatekey sessionid bearer jwt
        signingkey
    or is exactly one of  auth pwd pass pin otp  . The value under such a
    key, whatever its type or size (a string, a number, a whole nested
    map), is replaced by the string "[REDACTED]", at any depth.

    Values equal to a secret cannot be found here (the gateway and
    logkeeper never hold secret values): the executor, which does, returns
    `args_redacted` with them replaced, and the gateway logs that instead
    of the call's own arguments.

    Truncation cuts at a UTF-8 character boundary and appends a marker
    saying how long the whole text was, so a reader knows it was cut.
*/
#ifndef MCPBOX_LOG_REDACT_H
#define MCPBOX_LOG_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define LOG_REDACTED        "[REDACTED]"
#define LOG_RESULT_MAX      (10u * 1024)    //  execution log: result, bytes
#define LOG_STDOUT_MAX      (10u * 1024)    //  stdout, bytes
#define LOG_ERROR_MAX       (5u * 1024)     //  error text, bytes
#define LOG_ARGS_MAX        (10u * 1024)    //  arguments as JSON text, bytes

//  True if a map key of len bytes names a secret.
bool   log_redact_key_is_secret (const char *key, size_t len);

//  Replace, in place and at any depth, the value of every secret-looking
//  key with "[REDACTED]". Returns how many values were replaced. Values
//  nested deeper than JSON_MSGPACK_MAX_DEPTH are replaced whole.
size_t log_redact_json (json_t *value);

//  A NUL-terminated copy of text (len bytes) of at most max bytes of the
//  original plus, when cut, the marker "…[truncated, N bytes]". The cut
//  never splits a UTF-8 sequence. *out_len (may be NULL) gets the length.
//  NULL text gives NULL. Caller frees.
char  *log_truncate (const char *text, size_t len, size_t max, size_t *out_len);

#endif
