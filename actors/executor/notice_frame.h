/*  notice_frame.h — a progress or log frame from a sandbox child, as the
    executor parent takes it: checked, cut and redacted here, in trusted
    code (the harness that wrote it ran next to the tool).

    The frame is a JSON object on the child's up pipe, before its result:
      {"type": "progress", "progress": num ≥ 0, "total": num ≥ 0?,
       "message": str?, "cut": true?}
      {"type": "log", "level": "debug"|"info"|"notice"|"warning"|"error"|
       "critical"|"alert"|"emergency", "data": str, "cut": true?}
    Numbers must be finite. Any other key, type or value refuses the frame.

    The clean notice is what travels on the bus (BUS_W_NOTICE) and what the
    gateway turns into notifications/progress or notifications/message:
      {"kind": "progress", "progress": real, "total": real?, "message": str?}
      {"kind": "log", "level": str, "data": str}
    Texts are cut at NOTICE_MESSAGE_MAX / NOTICE_DATA_MAX bytes on a UTF-8
    boundary (then *truncated is set, as it is for a frame the harness
    marked "cut") and redacted against the job's secrets.
*/
#ifndef MCPBOX_NOTICE_FRAME_H
#define MCPBOX_NOTICE_FRAME_H

#include <stdbool.h>
#include <jansson.h>
#include "redactor.h"

#define NOTICE_MESSAGE_MAX  1024        //  a progress message, bytes
#define NOTICE_DATA_MAX     4096        //  a log line, bytes
#define NOTICE_LEVELS       8

//  The level's rank (debug 0 .. emergency 7), or -1 for anything else.
int     notice_level_rank (const char *name);

//  A clean, redacted notice from a parsed frame whose type is "progress"
//  or "log". NULL when it is not well formed. redactor may be NULL.
json_t *notice_frame_clean (const json_t *raw, const redactor_t *redactor,
                            bool *truncated);

//  The same from the frame's bytes: what the fuzz target drives.
json_t *notice_frame_decode (const char *frame, size_t size,
                             const redactor_t *redactor, bool *truncated);

#endif
