/*  fuzz_notice_frame — libFuzzer target for the executor parent's check of
    a progress / log frame from a sandbox child (actors/executor/
    notice_frame.c): any bytes a child could write must be refused or become
    a clean notice within its bounds, redacted; never crash or leak. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "notice_frame.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static redactor_t *redactor;
    if (!redactor) {
        redactor = redactor_new ();
        redactor_add (redactor, "s3cr3t-P@ss", 11);
        redactor_add (redactor, "\xe2\x98\x83x", 4);
    }
    bool truncated = false;
    json_t *notice = notice_frame_decode ((const char *) data, size, redactor, &truncated);
    if (notice) {
        const char *kind = json_string_value (json_object_get (notice, "kind"));
        if (!kind)
            __builtin_trap ();
        json_t *text = json_object_get (notice, strcmp (kind, "log") == 0 ? "data" : "message");
        if (text && json_string_length (text) > NOTICE_DATA_MAX + 32)
            __builtin_trap ();      //  over its bound (a redaction may lengthen it a little)
        char *dump = json_dumps (notice, JSON_ENCODE_ANY);
        if (dump && strstr (dump, "s3cr3t-P@ss"))
            __builtin_trap ();      //  a secret got through
        free (dump);
        json_decref (notice);
    }
    return 0;
}
