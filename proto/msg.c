/*  msg.c — strict msgpack body decoding and encoding helpers.

    Decoding is two passes. msg_scan walks the raw bytes with an explicit
    stack and rejects anything over the limits, any declared length that
    the remaining bytes cannot hold, extension types, the reserved 0xc1 byte,
    trailing bytes and a root that is not a map. Only then does msgpack-c
    unpack, so its allocations are bounded by what the scan saw. A second
    walk over the unpacked tree checks that map keys are strings and unique
    (duplicate keys are how two parsers of one body disagree).
*/
#include <stdlib.h>
#include <string.h>
#include "msg.h"

const msg_limits_t msg_default_limits = {
    .max_size  = 8u << 20,
    .max_depth = 24,            //  msgpack-c's own stack holds 32
    .max_items = 1u << 20,
    .max_str   = 8u << 20,
};

struct _msg_t {
    uint8_t          *data;         //  private copy: objects point into it
    size_t            size;
    msgpack_unpacked  unpacked;     //  owns the zone
    char              op [64];      //  "op" as a C string, "" if unusable
    char             *error_message;//  lazily copied, NUL-terminated
};

//  --- raw scan ---------------------------------------------------------------

static uint64_t
s_be (const uint8_t *p, int bytes)
{
    uint64_t value = 0;
    for (int i = 0; i < bytes; i++)
        value = (value << 8) | p [i];
    return value;
}

#define SCAN_FAIL(text) do { *why = (text); return false; } while (0)

bool
msg_scan (const uint8_t *data, size_t size, const msg_limits_t *limits,
          const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    if (!limits)
        limits = &msg_default_limits;
    if (!data || size == 0)
        SCAN_FAIL ("empty body");
    if (size > limits->max_size)
        SCAN_FAIL ("body too large");
    uint8_t first = data [0];
    if (!((first >= 0x80 && first <= 0x8f) || first == 0xde || first == 0xdf))
        SCAN_FAIL ("body is not a map");

    //  stack [d] = elements still to read at depth d; depth 0 holds the root
    uint64_t stack [64];
    int max_depth = limits->max_depth;
    if (max_depth < 1 || max_depth > 63)
        max_depth = 63;
    int top = 0;
    stack [0] = 1;
    size_t pos = 0;
    size_t items = 0;

    while (top >= 0) {
        if (stack [top] == 0) {
            top--;
            continue;
        }
        stack [top]--;
        if (pos >= size)
            SCAN_FAIL ("truncated body");
        if (++items > limits->max_items)
            SCAN_FAIL ("too many items");

        uint8_t type = data [pos++];
        size_t avail = size - pos;
        uint64_t count = 0;         //  children of a container
        bool container = false;
        uint64_t skip = 0;          //  payload bytes of a scalar
        int len_bytes = 0;          //  length prefix of str/bin
        bool is_string = false;

        if (type <= 0x7f || type >= 0xe0 || type == 0xc0 || type == 0xc2 || type == 0xc3)
            skip = 0;
        else
        if (type >= 0x80 && type <= 0x8f) { container = true; count = 2u * (type & 0x0f); }
        else
        if (type >= 0x90 && type <= 0x9f) { container = true; count = type & 0x0f; }
        else
        if (type >= 0xa0 && type <= 0xbf) { is_string = true; skip = type & 0x1f; }
        else {
            switch (type) {
                case 0xc4: case 0xd9: len_bytes = 1; is_string = true; break;
                case 0xc5: case 0xda: len_bytes = 2; is_string = true; break;
                case 0xc6: case 0xdb: len_bytes = 4; is_string = true; break;
                case 0xca: skip = 4; break;
                case 0xcb: skip = 8; break;
                case 0xcc: case 0xd0: skip = 1; break;
                case 0xcd: case 0xd1: skip = 2; break;
                case 0xce: case 0xd2: skip = 4; break;
                case 0xcf: case 0xd3: skip = 8; break;
                case 0xdc: case 0xdd:
                case 0xde: case 0xdf: {
                    int width = (type == 0xdc || type == 0xde) ? 2 : 4;
                    if (avail < (size_t) width)
                        SCAN_FAIL ("truncated length");
                    count = s_be (data + pos, width);
                    if (type >= 0xde)
                        count *= 2;
                    pos += width;
                    avail -= width;
                    container = true;
                    break;
                }
                case 0xc1:
                    SCAN_FAIL ("reserved type byte");
                default:        //  ext 0xc7-0xc9, fixext 0xd4-0xd8
                    SCAN_FAIL ("extension types are not accepted");
            }
        }
        if (len_bytes) {
            if (avail < (size_t) len_bytes)
                SCAN_FAIL ("truncated length");
            skip = s_be (data + pos, len_bytes);
            pos += len_bytes;
            avail -= len_bytes;
        }
        if (is_string && skip > limits->max_str)
            SCAN_FAIL ("string too long");
        if (container) {
            //  every child takes at least one byte
            if (count > avail)
                SCAN_FAIL ("container longer than the body");
            if (top + 1 > max_depth)
                SCAN_FAIL ("nested too deeply");
            stack [++top] = count;
        }
        else {
            if (skip > avail)
                SCAN_FAIL ("truncated value");
            pos += skip;
        }
    }
    if (pos != size)
        SCAN_FAIL ("trailing bytes after body");
    return true;
}

//  --- tree check ------------------------------------------------------------

static int
s_key_compare (const void *a, const void *b)
{
    const msgpack_object_str *x = *(const msgpack_object_str * const *) a;
    const msgpack_object_str *y = *(const msgpack_object_str * const *) b;
    uint32_t n = x->size < y->size ? x->size : y->size;
    int rc = n ? memcmp (x->ptr, y->ptr, n) : 0;
    if (rc)
        return rc;
    return (x->size > y->size) - (x->size < y->size);
}

//  Keys are strings and unique; recursion is bounded by the scan's depth.
static bool
s_tree_valid (const msgpack_object *obj, const char **why)
{
    if (obj->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < obj->via.array.size; i++)
            if (!s_tree_valid (&obj->via.array.ptr [i], why))
                return false;
        return true;
    }
    if (obj->type != MSGPACK_OBJECT_MAP)
        return true;
    uint32_t n = obj->via.map.size;
    if (n == 0)
        return true;
    const msgpack_object_str **keys = malloc (n * sizeof *keys);
    if (!keys) {
        *why = "out of memory";
        return false;
    }
    bool valid = true;
    for (uint32_t i = 0; i < n && valid; i++) {
        const msgpack_object_kv *kv = &obj->via.map.ptr [i];
        if (kv->key.type != MSGPACK_OBJECT_STR) {
            *why = "map key is not a string";
            valid = false;
        }
        else
            keys [i] = &kv->key.via.str;
    }
    if (valid && n > 1) {
        qsort (keys, n, sizeof *keys, s_key_compare);
        for (uint32_t i = 1; i < n && valid; i++)
            if (s_key_compare (&keys [i - 1], &keys [i]) == 0) {
                *why = "duplicate map key";
                valid = false;
            }
    }
    free (keys);
    for (uint32_t i = 0; i < n && valid; i++)
        valid = s_tree_valid (&obj->via.map.ptr [i].val, why);
    return valid;
}

//  --- msg_t -------------------------------------------------------------------

msg_t *
msg_decode (const void *data, size_t size, const msg_limits_t *limits,
            const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    if (!msg_scan (data, size, limits, why))
        return NULL;

    msg_t *self = calloc (1, sizeof *self);
    if (self)
        self->data = malloc (size);
    if (!self || !self->data) {
        free (self);
        *why = "out of memory";
        return NULL;
    }
    memcpy (self->data, data, size);
    self->size = size;
    msgpack_unpacked_init (&self->unpacked);
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&self->unpacked,
        (const char *) self->data, size, &offset);
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != size) {
        *why = "malformed msgpack";
        msg_destroy (&self);
        return NULL;
    }
    if (self->unpacked.data.type != MSGPACK_OBJECT_MAP) {
        *why = "body is not a map";
        msg_destroy (&self);
        return NULL;
    }
    if (!s_tree_valid (&self->unpacked.data, why)) {
        msg_destroy (&self);
        return NULL;
    }
    if (msg_get_cstr (&self->unpacked.data, "op", self->op, sizeof self->op) != MSG_FIELD_OK)
        self->op [0] = 0;
    return self;
}

void
msg_destroy (msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    msg_t *self = *self_p;
    msgpack_unpacked_destroy (&self->unpacked);
    //  bodies carry secrets (sandbox jobs); leave none in freed memory
    explicit_bzero (self->data, self->size);
    free (self->data);
    free (self->error_message);
    free (self);
    *self_p = NULL;
}

const msgpack_object *
msg_root (msg_t *self)
{
    return &self->unpacked.data;
}

const char *
msg_op (msg_t *self)
{
    return self->op [0] ? self->op : NULL;
}

bool
msg_is_ok (msg_t *self)
{
    bool ok = false;
    return msg_get_bool (msg_root (self), "ok", &ok) == MSG_FIELD_OK && ok;
}

bus_error_t
msg_error_code (msg_t *self)
{
    bool ok;
    if (msg_get_bool (msg_root (self), "ok", &ok) != MSG_FIELD_OK)
        return BUS_ERR_PROTOCOL;
    if (ok)
        return BUS_ERR_NONE;
    const msgpack_object *error;
    const char *code;
    size_t len;
    if (msg_get_map (msg_root (self), "error", &error) != MSG_FIELD_OK
    ||  msg_get_str (error, "code", &code, &len) != MSG_FIELD_OK)
        return BUS_ERR_INTERNAL;
    bus_error_t result = bus_error_from_name (code, len);
    return result == BUS_ERR_NONE ? BUS_ERR_INTERNAL : result;
}

const char *
msg_error_message (msg_t *self)
{
    if (!self->error_message) {
        const msgpack_object *error;
        const char *text = "";
        size_t len = 0;
        if (msg_get_map (msg_root (self), "error", &error) == MSG_FIELD_OK
        &&  msg_get_str (error, "message", &text, &len) == MSG_FIELD_OK) {
            if (len > 4096)
                len = 4096;
        }
        else
            len = 0;
        self->error_message = malloc (len + 1);
        if (!self->error_message)
            return "";
        memcpy (self->error_message, text, len);
        self->error_message [len] = 0;
        //  a NUL inside would silently truncate; make it visible instead
        for (size_t i = 0; i < len; i++)
            if (self->error_message [i] == 0)
                self->error_message [i] = '?';
    }
    return self->error_message;
}

//  --- typed getters -------------------------------------------------------

const msgpack_object *
msg_map_get (const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t key_len = strlen (key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr [i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == key_len
        &&  memcmp (k->via.str.ptr, key, key_len) == 0)
            return &map->via.map.ptr [i].val;
    }
    return NULL;
}

msg_field_t
msg_get_str (const msgpack_object *map, const char *key, const char **ptr,
             size_t *len)
{
    const msgpack_object *value = msg_map_get (map, key);
    if (!value)
        return MSG_FIELD_MISSING;
    if (value->type != MSGPACK_OBJECT_STR)
        return MSG_FIELD_WRONG_TYPE;
    *ptr = value->via.str.ptr;
    *len = value->via.str.size;
    return MSG_FIELD_OK;
}

msg_field_t
msg_get_cstr (const msgpack_object *map, const char *key, char *buf,
              size_t bufsize)
{
    const char *ptr;
    size_t len;
    msg_field_t rc = msg_get_str (map, key, &ptr, &len);
    if (rc != MSG_FIELD_OK)
        return rc;
    if (memchr (ptr, 0, len))
        return MSG_FIELD_WRONG_TYPE;
    if (len + 1 > bufsize)
        return MSG_FIELD_TOO_LONG;
    memcpy (buf, ptr, len);
    buf [len] = 0;
    return MSG_FIELD_OK;
}

msg_field_t
msg_get_int (const msgpack_object *map, const char *key, int64_t *value)
{
    const msgpack_object *obj = msg_map_get (map, key);
    if (!obj)
        return MSG_FIELD_MISSING;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (obj->via.u64 > INT64_MAX)
            return MSG_FIELD_TOO_LONG;
        *value = (int64_t) obj->via.u64;
        return MSG_FIELD_OK;
    }
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *value = obj->via.i64;
        return MSG_FIELD_OK;
    }
    return MSG_FIELD_WRONG_TYPE;
}

msg_field_t
msg_get_bool (const msgpack_object *map, const char *key, bool *value)
{
    const msgpack_object *obj = msg_map_get (map, key);
    if (!obj)
        return MSG_FIELD_MISSING;
    if (obj->type != MSGPACK_OBJECT_BOOLEAN)
        return MSG_FIELD_WRONG_TYPE;
    *value = obj->via.boolean;
    return MSG_FIELD_OK;
}

static msg_field_t
s_get_typed (const msgpack_object *map, const char *key,
             msgpack_object_type type, const msgpack_object **value)
{
    const msgpack_object *obj = msg_map_get (map, key);
    if (!obj)
        return MSG_FIELD_MISSING;
    if (obj->type != type)
        return MSG_FIELD_WRONG_TYPE;
    *value = obj;
    return MSG_FIELD_OK;
}

msg_field_t
msg_get_map (const msgpack_object *map, const char *key,
             const msgpack_object **value)
{
    return s_get_typed (map, key, MSGPACK_OBJECT_MAP, value);
}

msg_field_t
msg_get_array (const msgpack_object *map, const char *key,
               const msgpack_object **value)
{
    return s_get_typed (map, key, MSGPACK_OBJECT_ARRAY, value);
}

//  --- msgw_t ---------------------------------------------------------------

struct _msgw_t {
    msgpack_sbuffer buffer;
    msgpack_packer  packer;
};

msgw_t *
msgw_new (void)
{
    msgw_t *self = calloc (1, sizeof *self);
    if (!self)
        abort ();               //  as CZMQ does: OOM is not recoverable here
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    return self;
}

void
msgw_destroy (msgw_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    msgpack_sbuffer_destroy (&(*self_p)->buffer);
    free (*self_p);
    *self_p = NULL;
}

msgpack_packer *msgw_packer (msgw_t *self) { return &self->packer; }
const char     *msgw_data (msgw_t *self)   { return self->buffer.data; }
size_t          msgw_size (msgw_t *self)   { return self->buffer.size; }

void msgw_map   (msgw_t *self, size_t pairs) { msgpack_pack_map (&self->packer, pairs); }
void msgw_array (msgw_t *self, size_t items) { msgpack_pack_array (&self->packer, items); }
void msgw_int   (msgw_t *self, int64_t value) { msgpack_pack_int64 (&self->packer, value); }
void msgw_nil   (msgw_t *self) { msgpack_pack_nil (&self->packer); }

void
msgw_raw (msgw_t *self, const void *data, size_t size)
{
    if (size)
        msgpack_sbuffer_write (&self->buffer, data, size);
}

void
msgw_bool (msgw_t *self, bool value)
{
    if (value)
        msgpack_pack_true (&self->packer);
    else
        msgpack_pack_false (&self->packer);
}

void
msgw_strn (msgw_t *self, const char *value, size_t len)
{
    msgpack_pack_str (&self->packer, len);
    msgpack_pack_str_body (&self->packer, value, len);
}

void
msgw_str (msgw_t *self, const char *value)
{
    if (value)
        msgw_strn (self, value, strlen (value));
    else
        msgw_nil (self);
}

void
msgw_kv_str (msgw_t *self, const char *key, const char *value)
{
    msgw_str (self, key);
    msgw_str (self, value);
}

void
msgw_kv_int (msgw_t *self, const char *key, int64_t value)
{
    msgw_str (self, key);
    msgw_int (self, value);
}

void
msgw_kv_bool (msgw_t *self, const char *key, bool value)
{
    msgw_str (self, key);
    msgw_bool (self, value);
}

msgw_t *
msgw_error_new (bus_error_t code, const char *message)
{
    msgw_t *self = msgw_new ();
    msgw_map (self, 2);
    msgw_kv_bool (self, "ok", false);
    msgw_str (self, "error");
    msgw_map (self, 2);
    msgw_kv_str (self, "code", bus_error_name (code));
    msgw_kv_str (self, "message", message ? message : "");
    return self;
}

msgw_t *
msgw_op_new (const char *op)
{
    msgw_t *self = msgw_new ();
    msgw_map (self, 1);
    msgw_kv_str (self, "op", op);
    return self;
}
