/*  json_msgpack.c — see json_msgpack.h. */
#include <math.h>
#include <string.h>
#include "json_msgpack.h"

static json_t *
s_from (const msgpack_object *obj, int depth)
{
    if (depth > JSON_MSGPACK_MAX_DEPTH)
        return NULL;
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:
            return json_null ();
        case MSGPACK_OBJECT_BOOLEAN:
            return json_boolean (obj->via.boolean);
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (obj->via.u64 > (uint64_t) INT64_MAX)     //  json_int_t is long long here
                return NULL;
            return json_integer ((json_int_t) obj->via.u64);
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            return json_integer ((json_int_t) obj->via.i64);
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            if (!isfinite (obj->via.f64))
                return NULL;
            return json_real (obj->via.f64);
        case MSGPACK_OBJECT_STR:
            //  json_stringn refuses invalid UTF-8 (returns NULL)
            return json_stringn (obj->via.str.ptr, obj->via.str.size);
        case MSGPACK_OBJECT_ARRAY: {
            json_t *array = json_array ();
            for (uint32_t i = 0; i < obj->via.array.size; i++) {
                json_t *item = s_from (&obj->via.array.ptr [i], depth + 1);
                if (!item || json_array_append_new (array, item)) {
                    json_decref (array);
                    return NULL;
                }
            }
            return array;
        }
        case MSGPACK_OBJECT_MAP: {
            json_t *map = json_object ();
            for (uint32_t i = 0; i < obj->via.map.size; i++) {
                const msgpack_object_kv *kv = &obj->via.map.ptr [i];
                if (kv->key.type != MSGPACK_OBJECT_STR) {
                    json_decref (map);
                    return NULL;
                }
                json_t *value = s_from (&kv->val, depth + 1);
                if (!value || json_object_setn_new (map, kv->key.via.str.ptr,
                                                    kv->key.via.str.size, value)) {
                    json_decref (map);
                    return NULL;
                }
            }
            return map;
        }
        default:
            return NULL;        //  bin, ext
    }
}

json_t *
json_from_msgpack (const msgpack_object *obj)
{
    return obj ? s_from (obj, 0) : NULL;
}

static int
s_pack (msgw_t *w, const json_t *value, int depth)
{
    if (depth > JSON_MSGPACK_MAX_DEPTH)
        return -1;
    switch (json_typeof (value)) {
        case JSON_NULL:     msgw_nil (w); return 0;
        case JSON_TRUE:     msgw_bool (w, true); return 0;
        case JSON_FALSE:    msgw_bool (w, false); return 0;
        case JSON_INTEGER:  msgw_int (w, json_integer_value (value)); return 0;
        case JSON_REAL:
            msgpack_pack_double (msgw_packer (w), json_real_value (value));
            return 0;
        case JSON_STRING:
            msgw_strn (w, json_string_value (value), json_string_length (value));
            return 0;
        case JSON_ARRAY: {
            size_t n = json_array_size (value);
            msgw_array (w, n);
            for (size_t i = 0; i < n; i++)
                if (s_pack (w, json_array_get (value, i), depth + 1))
                    return -1;
            return 0;
        }
        case JSON_OBJECT: {
            msgw_map (w, json_object_size (value));
            const char *key;
            size_t key_len;
            json_t *item;
            void *tmp;
            json_object_keylen_foreach_safe ((json_t *) value, tmp, key, key_len, item) {
                msgw_strn (w, key, key_len);
                if (s_pack (w, item, depth + 1))
                    return -1;
            }
            return 0;
        }
    }
    return -1;
}

int
msgw_json (msgw_t *w, const json_t *value)
{
    return value ? s_pack (w, value, 0) : -1;
}
