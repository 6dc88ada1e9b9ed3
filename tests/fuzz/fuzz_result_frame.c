/*  fuzz_result_frame — libFuzzer target for the executor parent's result
    frame decoder and redactor (actors/executor/result_frame.c): any bytes
    a sandbox child could write must be refused or turned into a clean,
    redacted result; never crash, leak, or read out of bounds. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "result_frame.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static redactor_t *redactor;
    if (!redactor) {
        redactor = redactor_new ();
        redactor_add (redactor, "s3cr3t-P@ss", 11);
        redactor_add (redactor, "42", 2);
        redactor_add (redactor, "\xe2\x98\x83x", 4);
    }
    json_t *clean = result_frame_decode ((const char *) data, size, redactor);
    if (clean) {
        char *text = json_dumps (clean, JSON_ENCODE_ANY);
        if (text && strstr (text, "s3cr3t-P@ss"))
            __builtin_trap ();      //  a secret got through
        free (text);
        json_decref (clean);
    }
    return 0;
}
