/*  file.c — an export file's envelope and its content's shape (backup.h).

    Why the signed bytes are unambiguous: the header has one fixed layout
    (no optional white space, fixed-length hex fields), the content is
    everything between it and the final "}", and nothing after that but
    one optional newline. So a file splits into (version, key_id,
    signature, content) in exactly one way, and the bytes the signature
    covers are the bytes that are parsed: there is no re-serialisation
    whose output could differ between the signer and the checker. Inside
    the content, duplicate keys are refused (a JSON parser that kept the
    first and one that kept the last would read different data from the
    same signed bytes). Any one-byte change therefore either breaks the
    header (refused as malformed), changes the key id (another
    installation's file), or changes the signed bytes (the signature does
    not match).

    Pure functions: no I/O, fuzzed by tests/fuzz/fuzz_backup_file.c.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backup.h"

#define HEAD_FORMAT  "{\"format\":\"mcpbox-export\",\"version\":"
#define HEAD_KEY     ",\"key_id\":\""
#define HEAD_SIG     "\",\"signature\":\""
#define HEAD_CONTENT "\",\"content\":"

static bool
s_lit (const char **p, const char *end, const char *lit)
{
    size_t len = strlen (lit);
    if ((size_t) (end - *p) < len || memcmp (*p, lit, len) != 0)
        return false;
    *p += len;
    return true;
}

static bool
s_hex (const char **p, const char *end, size_t len, char *out)
{
    if ((size_t) (end - *p) < len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = (*p) [i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        out [i] = c;
    }
    out [len] = 0;
    *p += len;
    return true;
}

int
backup_file_parse (const char *data, size_t size, backup_file_t *out, const char **why)
{
    memset (out, 0, sizeof *out);
    if (!data || size == 0) {
        *why = "the file is empty";
        return -1;
    }
    if (size > BACKUP_FILE_MAX) {
        *why = "the file is larger than an export file can be (7 MiB)";
        return -1;
    }
    const char *p = data, *end = data + size;
    if (!s_lit (&p, end, HEAD_FORMAT)) {
        *why = "not an mcpbox export file (it must start with "
               "{\"format\":\"mcpbox-export\",\"version\":)";
        return -1;
    }
    int64_t version = 0;
    size_t digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 6) {
        version = version * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || (digits > 1 && data [strlen (HEAD_FORMAT)] == '0')) {
        *why = "the file's version is not a number";
        return -1;
    }
    if (version != BACKUP_FORMAT_VERSION) {
        *why = "the file's format version is not one this mcpbox reads (1)";
        return -1;
    }
    out->version = version;
    if (!s_lit (&p, end, HEAD_KEY) || !s_hex (&p, end, BACKUP_KEY_ID_HEX, out->key_id)
    ||  !s_lit (&p, end, HEAD_SIG)
    ||  !s_hex (&p, end, BACKUP_SIGNATURE_HEX, out->signature)
    ||  !s_lit (&p, end, HEAD_CONTENT)) {
        *why = "the file's header is malformed (key_id: 16 and signature: 64 lower-case "
               "hex characters, then content, in that order, without spaces)";
        return -1;
    }
    if (end > p && end [-1] == '\n')
        end--;
    if (end - p < 3 || end [-1] != '}') {
        *why = "the file does not end with the content and '}'";
        return -1;
    }
    out->content = p;
    out->content_len = (size_t) (end - 1 - p);
    return 0;
}

char *
backup_file_write (const char *key_id, const char *signature, const char *content,
                   size_t content_len, size_t *size)
{
    char head [256];
    int head_len = snprintf (head, sizeof head, HEAD_FORMAT "%d" HEAD_KEY "%s" HEAD_SIG
                             "%s" HEAD_CONTENT, BACKUP_FORMAT_VERSION, key_id, signature);
    size_t total = (size_t) head_len + content_len + 2;
    char *file = malloc (total + 1);
    if (!file)
        return NULL;
    memcpy (file, head, (size_t) head_len);
    memcpy (file + head_len, content, content_len);
    memcpy (file + head_len + content_len, "}\n", 3);
    *size = total;
    return file;
}

json_t *
backup_content_parse (const char *text, size_t len, char *why, size_t whylen)
{
    json_error_t error;
    json_t *content = json_loadb (text, len, JSON_REJECT_DUPLICATES, &error);
    if (!content) {
        snprintf (why, whylen, "the content is not valid JSON (%s, at byte %d)",
                  error.text, error.position);
        return NULL;
    }
    if (!json_is_object (content)) {
        json_decref (content);
        snprintf (why, whylen, "the content must be a JSON object");
        return NULL;
    }
    return content;
}

//  --- shape -----------------------------------------------------------------------

typedef enum { T_STR, T_INT, T_BOOL, T_OBJ, T_ARR, T_OBJ_OR_NULL, T_INT_OR_NULL,
               T_STR_OR_NULL } type_t;
typedef struct {
    const char *name;
    type_t      type;
    bool        required;
} field_t;

static const field_t s_top [] = {
    { "exported_at", T_STR, true }, { "servers", T_ARR, true },
    { "policy", T_OBJ, true }, { "skipped_tools", T_INT, true }, { NULL, 0, false }
};
static const field_t s_server [] = {
    { "name", T_STR, true }, { "description", T_STR, true }, { "status", T_STR, true },
    { "default_timeout_ms", T_INT, true }, { "created_at", T_STR, true },
    { "updated_at", T_STR, true }, { "tools", T_ARR, true },
    { "allowed_modules", T_ARR, true }, { "allowed_hosts", T_ARR, true },
    { "secrets", T_ARR, true }, { NULL, 0, false }
};
static const field_t s_tool [] = {
    { "name", T_STR, true }, { "created_by", T_STR, true }, { "created_at", T_STR, true },
    { "updated_at", T_STR, true }, { "current_version", T_INT, true },
    { "versions", T_ARR, true }, { "approved", T_ARR, true }, { NULL, 0, false }
};
static const field_t s_version [] = {
    { "version", T_INT, true }, { "name", T_STR, true }, { "title", T_STR, true },
    { "description", T_STR, true }, { "enabled", T_BOOL, true },
    { "timeout_ms", T_INT, true }, { "python_code", T_STR, true },
    { "code_hash", T_STR, true }, { "input_schema", T_OBJ, true },
    { "output_schema", T_OBJ_OR_NULL, true }, { "suggested_annotations", T_OBJ_OR_NULL, true },
    { "change_summary", T_STR, true }, { "change_source", T_STR, true },
    { "created_at", T_STR, true }, { NULL, 0, false }
};
static const field_t s_approved [] = {
    { "code_hash", T_STR, true }, { "annotations", T_OBJ_OR_NULL, true }, { NULL, 0, false }
};
static const field_t s_host [] = {
    { "host", T_STR, true }, { "port", T_INT_OR_NULL, true }, { NULL, 0, false }
};
static const field_t s_secret [] = {
    { "key", T_STR, true }, { "description", T_STR, true }, { NULL, 0, false }
};

static bool
s_type_ok (const json_t *value, type_t type)
{
    switch (type) {
        case T_STR:         return json_is_string (value);
        case T_INT:         return json_is_integer (value);
        case T_BOOL:        return json_is_boolean (value);
        case T_OBJ:         return json_is_object (value);
        case T_ARR:         return json_is_array (value);
        case T_OBJ_OR_NULL: return json_is_object (value) || json_is_null (value);
        case T_INT_OR_NULL: return json_is_integer (value) || json_is_null (value);
        case T_STR_OR_NULL: return json_is_string (value) || json_is_null (value);
    }
    return false;
}

static int
s_fields (const json_t *object, const field_t *fields, const char *where, char *why,
          size_t whylen)
{
    if (!json_is_object (object)) {
        snprintf (why, whylen, "%s: must be an object", where);
        return -1;
    }
    const char *key;
    const json_t *value;
    json_object_foreach ((json_t *) object, key, value) {
        const field_t *f = fields;
        while (f->name && strcmp (f->name, key) != 0)
            f++;
        if (!f->name) {
            snprintf (why, whylen, "%s: unknown field '%.64s'", where, key);
            return -1;
        }
        if (!s_type_ok (value, f->type)) {
            snprintf (why, whylen, "%s.%s: wrong type", where, key);
            return -1;
        }
    }
    for (const field_t *f = fields; f->name; f++)
        if (f->required && !json_object_get (object, f->name)) {
            snprintf (why, whylen, "%s: field '%s' is missing", where, f->name);
            return -1;
        }
    return 0;
}

static int
s_each (const json_t *array, const field_t *fields, const char *where, char *why,
        size_t whylen)
{
    size_t i;
    const json_t *item;
    json_array_foreach ((json_t *) array, i, item) {
        char at [160];
        snprintf (at, sizeof at, "%s[%zu]", where, i);
        if (fields ? s_fields (item, fields, at, why, whylen)
                   : (json_is_string (item) ? 0 : (snprintf (why, whylen, "%s: must be a "
                                                             "string", at), -1)))
            return -1;
    }
    return 0;
}

int
backup_content_check (const json_t *content, char *why, size_t whylen)
{
    if (s_fields (content, s_top, "content", why, whylen))
        return -1;
    const json_t *policy = json_object_get (content, "policy");
    const char *key;
    const json_t *value;
    json_object_foreach ((json_t *) policy, key, value)
        if (!json_is_string (value) && !json_is_integer (value)) {
            snprintf (why, whylen, "policy.%.40s: a string or an integer", key);
            return -1;
        }
    size_t i;
    const json_t *server;
    json_array_foreach (json_object_get (content, "servers"), i, server) {
        char at [64];
        snprintf (at, sizeof at, "servers[%zu]", i);
        if (s_fields (server, s_server, at, why, whylen))
            return -1;
        char sub [96];
        snprintf (sub, sizeof sub, "%s.allowed_modules", at);
        if (s_each (json_object_get (server, "allowed_modules"), NULL, sub, why, whylen))
            return -1;
        snprintf (sub, sizeof sub, "%s.allowed_hosts", at);
        if (s_each (json_object_get (server, "allowed_hosts"), s_host, sub, why, whylen))
            return -1;
        snprintf (sub, sizeof sub, "%s.secrets", at);
        if (s_each (json_object_get (server, "secrets"), s_secret, sub, why, whylen))
            return -1;
        size_t j;
        const json_t *tool;
        json_array_foreach (json_object_get (server, "tools"), j, tool) {
            char tat [96];
            snprintf (tat, sizeof tat, "%s.tools[%zu]", at, j);
            if (s_fields (tool, s_tool, tat, why, whylen))
                return -1;
            char vat [128];
            snprintf (vat, sizeof vat, "%s.versions", tat);
            if (s_each (json_object_get (tool, "versions"), s_version, vat, why, whylen))
                return -1;
            snprintf (vat, sizeof vat, "%s.approved", tat);
            if (s_each (json_object_get (tool, "approved"), s_approved, vat, why, whylen))
                return -1;
        }
    }
    return 0;
}
