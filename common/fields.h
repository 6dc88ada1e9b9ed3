/*  fields.h — the one set of request-field readers (every actor's bus ops).

    Each reads one field of a decoded msgpack request and checks its type
    and bounds before anything else happens. Return 0 when the field is
    present and valid, 1 when it is absent (or nil) and optional, and -1
    with a bad_request in *err whose message starts with the field's name.
    Strings must be UTF-8 without NUL (common/utf8.c); the pointers
    field_str returns point into the request. The actors' own readers
    (a server name, a host, a module) are built on these.
*/
#ifndef MCPBOX_FIELDS_H
#define MCPBOX_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bus_errors.h"
#include "ids.h"
#include "msg.h"

//  Text bounded in bytes and/or characters (code points; 0: no bound).
int field_str  (const msgpack_object *root, const char *key, bool required,
                size_t max_bytes, size_t max_chars, const char **ptr,
                size_t *len, bus_err_t *err);
//  The same, copied into out (max + 1 bytes); nonblank refuses text that
//  is only white space. out is "" when the field is absent.
int field_text (const msgpack_object *root, const char *key, bool required,
                size_t max, bool nonblank, char *out, bus_err_t *err);
//  A UUID, 8-4-4-4-12 hex in any case; out gets the lower-case form.
int field_id   (const msgpack_object *root, const char *key, bool required,
                char out [IDS_UUID_LEN + 1], bus_err_t *err);
int field_int  (const msgpack_object *root, const char *key, bool required,
                int64_t min, int64_t max, int64_t *out, bus_err_t *err);
//  Always optional (1 when absent).
int field_bool (const msgpack_object *root, const char *key, bool *out,
                bus_err_t *err);
//  One of `choices` (NULL-terminated); *out is the matching static string.
//  Always optional (1 when absent).
int field_enum (const msgpack_object *root, const char *key,
                const char *const *choices, const char **out, bus_err_t *err);

//  The map has no key outside `keys` (NULL-terminated): 0, or -1 with a
//  bad_request "<where>: unknown field 'k'" (or "<where>: must be a map").
int field_keys_only (const msgpack_object *map, const char *where,
                     const char *const *keys, bus_err_t *err);

#endif
