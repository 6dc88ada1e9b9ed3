/*  job_spec.c — see job_spec.h. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "job_spec.h"
#include "notice_frame.h"
#include "json_msgpack.h"

#define FAIL(c, ...) do { *code = (c); snprintf (err, errlen, __VA_ARGS__); goto fail; } while (0)

static bool
s_utf8_text (const char *ptr, size_t len)
{
    json_t *probe = json_stringn (ptr, len);      //  NULL on invalid UTF-8
    bool ok = probe != NULL && !memchr (ptr, 0, len);
    json_decref (probe);
    return ok;
}

//  A list of short strings: modules or hosts.
static json_t *
s_string_list (const msgpack_object *array, size_t max_items, size_t max_len,
               const char *what, bus_error_t *code, char *err, size_t errlen)
{
    if (array->via.array.size > max_items) {
        *code = BUS_ERR_TOO_LARGE;
        snprintf (err, errlen, "%s: at most %zu entries", what, max_items);
        return NULL;
    }
    json_t *list = json_array ();
    for (uint32_t i = 0; i < array->via.array.size; i++) {
        const msgpack_object *item = &array->via.array.ptr [i];
        if (item->type != MSGPACK_OBJECT_STR || item->via.str.size == 0
        ||  item->via.str.size > max_len
        ||  !s_utf8_text (item->via.str.ptr, item->via.str.size)) {
            *code = BUS_ERR_BAD_REQUEST;
            snprintf (err, errlen, "%s: entry %u is not a valid name", what, i);
            json_decref (list);
            return NULL;
        }
        json_array_append_new (list, json_stringn (item->via.str.ptr, item->via.str.size));
    }
    return list;
}

int
job_spec_from_request (const msgpack_object *root, job_spec_t *spec,
                       bus_error_t *code, char *err, size_t errlen)
{
    memset (spec, 0, sizeof *spec);
    spec->redactor = redactor_new ();
    json_t *job = json_object ();
    const msgpack_object *value;
    const char *text;
    size_t len;

    if (msg_get_cstr (root, "op", spec->mode, sizeof spec->mode) != MSG_FIELD_OK
    ||  (strcmp (spec->mode, "run") && strcmp (spec->mode, "test") && strcmp (spec->mode, "validate")))
        FAIL (BUS_ERR_UNKNOWN_OP, "op must be run, test or validate");
    json_object_set_new (job, "mode", json_string (spec->mode));

    if (msg_get_str (root, "code", &text, &len) != MSG_FIELD_OK)
        FAIL (BUS_ERR_BAD_REQUEST, "code: a string is required");
    if (len > JOB_CODE_MAX)
        FAIL (BUS_ERR_TOO_LARGE, "code: larger than %d KB", JOB_CODE_MAX / 1024);
    json_t *code_text = json_stringn (text, len);
    if (!code_text)
        FAIL (BUS_ERR_BAD_REQUEST, "code: not valid UTF-8");
    json_object_set_new (job, "code", code_text);

    bool validate = strcmp (spec->mode, "validate") == 0;
    int64_t timeout = validate ? 10000 : 30000;
    msg_field_t field = msg_get_int (root, "timeout_ms", &timeout);
    if (field == MSG_FIELD_WRONG_TYPE || field == MSG_FIELD_TOO_LONG
    ||  timeout < 1 || timeout > JOB_TIMEOUT_MAX_MS)
        FAIL (BUS_ERR_BAD_REQUEST, "timeout_ms: 1 to %d", JOB_TIMEOUT_MAX_MS);
    spec->timeout_ms = (int) timeout;
    json_object_set_new (job, "timeout_ms", json_integer (timeout));
    json_object_set_new (job, "stdout_limit",
        json_integer (strcmp (spec->mode, "test") == 0 ? JOB_STDOUT_TEST : JOB_STDOUT_RUN));

    value = msg_map_get (root, "arguments");
    if (value && value->type != MSGPACK_OBJECT_NIL) {
        if (value->type != MSGPACK_OBJECT_MAP)
            FAIL (BUS_ERR_BAD_REQUEST, "arguments: must be a map");
        json_t *arguments = json_from_msgpack (value);
        if (!arguments)
            FAIL (BUS_ERR_BAD_REQUEST, "arguments: not representable as JSON");
        json_object_set_new (job, "arguments", arguments);
    }

    const char *module_fields [] = { "allowed_modules", "extra_modules" };
    for (int i = 0; i < 2; i++) {
        field = msg_get_array (root, module_fields [i], &value);
        if (field == MSG_FIELD_WRONG_TYPE)
            FAIL (BUS_ERR_BAD_REQUEST, "%s: must be a list", module_fields [i]);
        if (field == MSG_FIELD_OK) {
            json_t *list = s_string_list (value, JOB_MODULES_MAX, 128, module_fields [i],
                                          code, err, errlen);
            if (!list)
                goto fail;
            json_object_set_new (job, module_fields [i], list);
        }
    }

    field = msg_get_array (root, "allowed_hosts", &value);
    if (field == MSG_FIELD_WRONG_TYPE)
        FAIL (BUS_ERR_BAD_REQUEST, "allowed_hosts: must be a list");
    if (field == MSG_FIELD_OK) {
        json_t *list = s_string_list (value, JOB_HOSTS_MAX, 262, "allowed_hosts", code, err, errlen);
        if (!list)
            goto fail;
        spec->host_count = json_array_size (list);
        spec->hosts = calloc (spec->host_count + 1, sizeof (char *));
        //  entries stay as approved; ssrf_host_allowed normalises both sides
        for (size_t i = 0; i < spec->host_count; i++)
            spec->hosts [i] = strdup (json_string_value (json_array_get (list, i)));
        json_decref (list);
    }
    char policy [32] = "allowlist";
    field = msg_get_cstr (root, "network_policy", policy, sizeof policy);
    if (field == MSG_FIELD_WRONG_TYPE || field == MSG_FIELD_TOO_LONG
    ||  (strcmp (policy, "allowlist") && strcmp (policy, "allow_all_public")
      && strcmp (policy, "require_approval")))
        FAIL (BUS_ERR_BAD_REQUEST, "network_policy: allowlist or allow_all_public");
    spec->policy = strcmp (policy, "allow_all_public") == 0
                 ? NET_POLICY_ALLOW_ALL_PUBLIC : NET_POLICY_ALLOWLIST;

    field = msg_get_map (root, "secrets", &value);
    if (field == MSG_FIELD_WRONG_TYPE)
        FAIL (BUS_ERR_BAD_REQUEST, "secrets: must be a map");
    if (field == MSG_FIELD_OK) {
        if (value->via.map.size > JOB_SECRETS_MAX)
            FAIL (BUS_ERR_TOO_LARGE, "secrets: at most %d", JOB_SECRETS_MAX);
        json_t *secrets = json_object ();
        json_object_set_new (job, "secrets", secrets);
        for (uint32_t i = 0; i < value->via.map.size; i++) {
            const msgpack_object_kv *kv = &value->via.map.ptr [i];
            if (kv->val.type != MSGPACK_OBJECT_STR || kv->val.via.str.size > JOB_SECRET_MAX
            ||  kv->key.via.str.size == 0 || kv->key.via.str.size > 128
            ||  !s_utf8_text (kv->key.via.str.ptr, kv->key.via.str.size)
            ||  !s_utf8_text (kv->val.via.str.ptr, kv->val.via.str.size))
                FAIL (BUS_ERR_BAD_REQUEST, "secrets: entry %u is not a short string pair", i);
            if (kv->val.via.str.size > 0)
                redactor_add (spec->redactor, kv->val.via.str.ptr, kv->val.via.str.size);
            json_object_setn_new (secrets, kv->key.via.str.ptr, kv->key.via.str.size,
                                  json_stringn (kv->val.via.str.ptr, kv->val.via.str.size));
        }
    }

    spec->notify_log_rank = -1;
    field = msg_get_map (root, "notify", &value);
    if (field == MSG_FIELD_WRONG_TYPE)
        FAIL (BUS_ERR_BAD_REQUEST, "notify: must be a map");
    if (field == MSG_FIELD_OK) {
        bool progress = false;
        field = msg_get_bool (value, "progress", &progress);
        if (field == MSG_FIELD_WRONG_TYPE)
            FAIL (BUS_ERR_BAD_REQUEST, "notify.progress: must be a boolean");
        spec->notify_progress = progress;
        char level [16] = "";
        field = msg_get_cstr (value, "log_level", level, sizeof level);
        if (field == MSG_FIELD_WRONG_TYPE || field == MSG_FIELD_TOO_LONG
        ||  (field == MSG_FIELD_OK && notice_level_rank (level) < 0))
            FAIL (BUS_ERR_BAD_REQUEST, "notify.log_level: debug, info, notice, warning, "
                  "error, critical, alert or emergency");
        if (field == MSG_FIELD_OK)
            spec->notify_log_rank = notice_level_rank (level);
    }

    bool inject = false;
    field = msg_get_bool (root, "test_inject_os", &inject);
    if (field == MSG_FIELD_WRONG_TYPE)
        FAIL (BUS_ERR_BAD_REQUEST, "test_inject_os: must be a boolean");
    if (inject) {
#ifdef MCPBOX_TEST_HOOKS
        json_object_set_new (job, "test_inject_os", json_true ());
#else
        FAIL (BUS_ERR_FORBIDDEN, "test_inject_os exists only in test builds");
#endif
    }

    if (!validate) {
        json_t *arguments = json_object_get (job, "arguments");
        spec->args_redacted = arguments ? redactor_json (spec->redactor, arguments, NULL)
                                        : json_object ();
    }
    spec->job_json = json_dumps (job, JSON_COMPACT);
    json_decref (job);
    if (!spec->job_json) {
        *code = BUS_ERR_INTERNAL;
        snprintf (err, errlen, "cannot encode the job");
        job_spec_clear (spec);
        return -1;
    }
    spec->job_size = strlen (spec->job_json);
    return 0;
fail:
    json_decref (job);
    job_spec_clear (spec);
    return -1;
}

void
job_spec_clear (job_spec_t *spec)
{
    if (spec->job_json)
        explicit_bzero (spec->job_json, spec->job_size);
    free (spec->job_json);
    for (size_t i = 0; i < spec->host_count; i++)
        free (spec->hosts [i]);
    free (spec->hosts);
    redactor_destroy (&spec->redactor);
    json_decref (spec->args_redacted);
    memset (spec, 0, sizeof *spec);
}
