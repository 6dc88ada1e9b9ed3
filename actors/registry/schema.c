/*  schema.c — a tool's input schema, computed by the sandbox.

    The registry never parses Python. When code is saved (tool.create, a
    tool.update that changes the code) it asks the `sandbox` service
    {"op": "validate", "code": ...}; an executor checks the code exactly as
    it would before running it (AST rules, `async def main`) and derives the
    JSON schema from main's signature. One implementation inspects user
    code: the sandbox's (docs/DESIGN.md, section 3).

        sandbox reply                       registry answers
        ok, valid, input_schema {...},      (stored as compact JSON text;
          output_schema {...}?, description  the docstring, when asked for)
        ok, valid false, error{message}     bad_request "python_code: ..."
        error bad_request / too_large       bad_request "python_code: ..."
        error no_worker, timeout,           unavailable (no executor answered)
          worker_lost, unavailable, other

    Timing. Handlers run one at a time; while one waits here, service_call
    keeps heartbeating the broker, so the wait can be REG_SANDBOX_TIMEOUT_MS
    without the broker declaring us dead. Validation is an AST walk in a
    sandbox process, milliseconds.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "json_msgpack.h"
#include "log.h"
#include "registry.h"

//  What a tool with no parameters gets if the sandbox sends no schema.
#define SCHEMA_EMPTY "{\"type\":\"object\",\"properties\":{},\"required\":[]}"

int
schema_timeout_ms (void)
{
    //  service_call keeps our registration alive while we wait
    return REG_SANDBOX_TIMEOUT_MS;
}

//  The validation failure as one line: "message (line N)".
static int
s_invalid (const msgpack_object *root, bus_err_t *err)
{
    const msgpack_object *error = NULL;
    const char *message = NULL;
    size_t len = 0;
    int64_t line = 0;
    if (msg_get_map (root, "error", &error) != MSG_FIELD_OK
    ||  msg_get_str (error, "message", &message, &len) != MSG_FIELD_OK) {
        message = "the sandbox refused the code";
        len = strlen (message);
    }
    if (len > 200)
        len = 200;
    if (error && msg_get_int (error, "line", &line) == MSG_FIELD_OK && line > 0)
        return bus_err_set (err, BUS_ERR_BAD_REQUEST, "python_code: %.*s (line %lld)",
                         (int) len, message, (long long) line);
    return bus_err_set (err, BUS_ERR_BAD_REQUEST, "python_code: %.*s", (int) len, message);
}

//  The docstring, cut to REG_DESCRIPTION_MAX characters; NULL if none.
static char *
s_docstring (const msgpack_object *root)
{
    const char *text = NULL;
    size_t len = 0;
    if (msg_get_str (root, "description", &text, &len) != MSG_FIELD_OK || len == 0
    ||  !utf8_valid (text, len))
        return NULL;
    size_t chars = 0, cut = 0;
    while (cut < len) {
        if (((unsigned char) text [cut] & 0xc0) != 0x80 && ++chars > REG_DESCRIPTION_MAX)
            break;
        cut++;
    }
    char *copy = malloc (cut + 1);
    if (!copy)
        abort ();
    memcpy (copy, text, cut);
    copy [cut] = 0;
    return copy;
}

//  output_schema, when the sandbox derived one: compact JSON text or NULL.
static int
s_output_schema (const msgpack_object *root, char **output_json, bus_err_t *err)
{
    const msgpack_object *map = NULL;
    *output_json = NULL;
    if (msg_get_map (root, "output_schema", &map) != MSG_FIELD_OK)
        return 0;
    json_t *schema = json_from_msgpack (map);
    char *text = json_is_object (schema) ? json_dumps (schema, JSON_COMPACT) : NULL;
    json_decref (schema);
    if (!text) {
        log_warn ("sandbox: validate sent an output_schema JSON cannot hold");
        return bus_err_set (err, BUS_ERR_INTERNAL, "the sandbox sent an unusable schema");
    }
    *output_json = text;
    return 0;
}

static int
s_schema (const msgpack_object *root, char **schema_json, bus_err_t *err)
{
    const msgpack_object *map = NULL;
    if (msg_get_map (root, "input_schema", &map) != MSG_FIELD_OK) {
        *schema_json = strdup (SCHEMA_EMPTY);
        if (!*schema_json)
            abort ();
        return 0;
    }
    json_t *schema = json_from_msgpack (map);
    char *text = schema ? json_dumps (schema, JSON_COMPACT) : NULL;
    json_decref (schema);
    if (!text) {
        log_warn ("sandbox: validate sent an input_schema JSON cannot hold");
        return bus_err_set (err, BUS_ERR_INTERNAL, "the sandbox sent an unusable schema");
    }
    *schema_json = text;
    return 0;
}

int
schema_from_sandbox (service_t *service, const char *code, size_t len,
                     char **schema_json, char **output_json, char **docstring,
                     bus_err_t *err)
{
    *schema_json = NULL;
    *output_json = NULL;
    if (docstring)
        *docstring = NULL;
    bus_client_t *client = service_client (service);
    if (!client)
        return bus_err_set (err, BUS_ERR_UNAVAILABLE, "sandbox unavailable: no bus client");
    msgw_t *request = msgw_new ();
    msgw_map (request, 2);
    msgw_kv_str (request, "op", "validate");
    msgw_str (request, "code");
    msgw_strn (request, code, len);
    bus_reply_t *reply = service_call (service, "sandbox", msgw_data (request),
                                       msgw_size (request), schema_timeout_ms ());
    msgw_destroy (&request);
    if (!reply)
        return bus_err_set (err, BUS_ERR_UNAVAILABLE, "sandbox unavailable");
    const char *why = NULL;
    msg_t *body = bus_reply_decode (reply, &why);
    bus_reply_destroy (&reply);
    if (!body) {
        log_warn ("sandbox: malformed validate reply: %s", why ? why : "?");
        return bus_err_set (err, BUS_ERR_UNAVAILABLE, "the sandbox sent a malformed reply");
    }
    int result = 0;
    bool valid = false;
    bus_error_t code_ = msg_error_code (body);
    if (code_ == BUS_ERR_BAD_REQUEST || code_ == BUS_ERR_TOO_LARGE)
        result = bus_err_set (err, BUS_ERR_BAD_REQUEST, "python_code: %.200s",
                           msg_error_message (body));
    else
    if (code_ != BUS_ERR_NONE) {
        log_warn ("sandbox: validate failed: %s: %s", bus_error_name (code_),
                  msg_error_message (body));
        result = bus_err_set (err, BUS_ERR_UNAVAILABLE, "no sandbox executor could "
                           "validate the code (%s); try again", bus_error_name (code_));
    }
    else
    if (msg_get_bool (msg_root (body), "valid", &valid) != MSG_FIELD_OK || !valid)
        result = s_invalid (msg_root (body), err);
    else {
        result = s_schema (msg_root (body), schema_json, err);
        if (result == 0)
            result = s_output_schema (msg_root (body), output_json, err);
        if (result != 0) {
            free (*schema_json);
            *schema_json = NULL;
        }
        if (result == 0 && docstring)
            *docstring = s_docstring (msg_root (body));
    }
    msg_destroy (&body);
    return result;
}
