/*  fuzz_logs_ingest — libFuzzer target for logkeeper's record decoder
    (actors/logkeeper/ingest.c) and its query time parser: any body must
    decode to records whose texts are NUL-terminated UTF-8 and whose JSON
    columns parse, or be refused; never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <jansson.h>
#include "logkeeper.h"

static void
s_check_text (const char *text)
{
    if (text)
        (void) strlen (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    msg_limits_t limits = msg_default_limits;
    limits.max_size = 1 << 16;
    const char *why = NULL;
    msg_t *msg = msg_decode (data, size, &limits, &why);
    if (!msg)
        return 0;
    const msgpack_object *root = msg_root (msg);
    char when [LK_TIME_LEN + 1];
    (void) lk_time_field (root, "since", when);
    const msgpack_object *records = NULL;
    if (msg_get_array (root, "records", &records) == MSG_FIELD_OK) {
        for (uint32_t i = 0; i < records->via.array.size && i < 64; i++) {
            lk_record_t record;
            char reason [128];
            if (lk_record_decode (&records->via.array.ptr [i], "fuzz", &record,
                                  reason, sizeof reason) == 0) {
                s_check_text (record.result);
                s_check_text (record.message);
                if (record.input_args) {
                    json_t *args = json_loads (record.input_args, JSON_ALLOW_NUL, NULL);
                    if (!args)
                        __builtin_trap ();
                    json_decref (args);
                }
                if (record.details) {
                    json_t *details = json_loads (record.details, JSON_ALLOW_NUL, NULL);
                    if (!details)
                        __builtin_trap ();
                    json_decref (details);
                }
                if (strlen (record.created_at) != LK_TIME_LEN)
                    __builtin_trap ();
                lk_record_clear (&record);
            }
        }
    }
    msg_destroy (&msg);
    return 0;
}
