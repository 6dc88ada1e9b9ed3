/*  fuzz_executor_pool — libFuzzer target for the gateway's reader of the
    broker's pool answer (executor_pool.c): the input, as JSON, is the reply
    whose workers' `about` maps remote executors write. Every row must come
    out with its fields typed as promised (strings or null, counts >= 0 or
    null, labels an object of strings). */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "executor_pool.h"

static void
s_check_text (const json_t *row, const char *key)
{
    const json_t *v = json_object_get (row, key);
    if (!json_is_null (v) && !json_is_string (v))
        __builtin_trap ();
}

static void
s_check_count (const json_t *row, const char *key)
{
    const json_t *v = json_object_get (row, key);
    if (!json_is_null (v) && !(json_is_integer (v) && json_integer_value (v) >= 0))
        __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    json_t *reply = json_loadb ((const char *) data, size, JSON_ALLOW_NUL, NULL);
    if (!reply)
        return 0;
    json_t *rows = executor_pool_rows (reply);
    json_decref (reply);
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        static const char *texts [] = { "process", "host", "version", "origin", "address",
                                        "registered_at", "last_seen" };
        static const char *counts [] = { "id", "pid", "restarts", "slots", "credit",
                                         "in_flight", "served", "idle_ms" };
        for (size_t k = 0; k < sizeof texts / sizeof texts [0]; k++)
            s_check_text (row, texts [k]);
        for (size_t k = 0; k < sizeof counts / sizeof counts [0]; k++)
            s_check_count (row, counts [k]);
        const json_t *labels = json_object_get (row, "labels");
        if (!json_is_object (labels) || json_object_size (labels) > EXECUTOR_POOL_LABELS)
            __builtin_trap ();
        const char *key;
        json_t *value;
        json_object_foreach ((json_t *) labels, key, value)
            if (!json_is_string (value))
                __builtin_trap ();
    }
    json_decref (executor_pool_totals (rows));
    json_decref (rows);
    return 0;
}
