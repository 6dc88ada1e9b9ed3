/*  result_frame.h — the one result a sandbox child sends, as the executor
    parent takes it: checked, cut to its known fields and types, and
    redacted here, in trusted code, whatever the child did to its own
    redaction.

    The frame is a JSON object written by code that ran next to the tool:
      type        "result"
      success     bool                                          (required)
      result_json str: JSON text of the value (any JSON value; integers
                  beyond 64 bits arrive as their decimal string, see
                  docs/SECURITY.md "The result frame")
      structured  bool: result_json is the value itself, not its str()
      stdout      str (over 2 MB: dropped and stdout_truncated set)
      stdout_truncated, valid, has_main   bool
      error       {type str ≤ 100, message str ≤ 8000, line int|null,
                   context [str] ≤ 10}
      input_schema {..}, parameters [..], description str   (validate)
    Anything else in it is dropped. A result_json that is not JSON makes
    the whole frame malformed.
*/
#ifndef MCPBOX_RESULT_FRAME_H
#define MCPBOX_RESULT_FRAME_H

#include <jansson.h>
#include "redactor.h"

#define RESULT_STDOUT_MAX   (2u << 20)
#define RESULT_MESSAGE_MAX  8000
#define RESULT_TYPE_MAX     100
#define RESULT_CONTEXT_MAX  10

//  A clean, redacted result from a parsed frame (the caller checked
//  type == "result"). NULL when it is not a well-formed result.
//  redactor may be NULL (no secrets).
json_t *result_frame_clean (json_t *raw, const redactor_t *redactor);

//  The same from the frame's bytes (parse, type check, clean): what the
//  fuzz target drives. NULL when malformed.
json_t *result_frame_decode (const char *frame, size_t size, const redactor_t *redactor);

#endif
