/*  ids.h — identifiers and timestamps every actor writes the same way.

    ids_uuid4      RFC 9562 version 4 UUID from libsodium's randombytes_buf
                   (the kernel CSPRNG), lower-case 8-4-4-4-12.
    ids_uuid_parse a UUID as a peer sent it: exactly 36 bytes, hex digits
                   and dashes in place; copied lower-case into out.
    ids_now_iso    the current UTC time as "2026-11-29T05:40:00.123Z",
                   the one timestamp format of the database and the bus.
*/
#ifndef MCPBOX_IDS_H
#define MCPBOX_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDS_UUID_LEN  36        //  bytes of a UUID's text
#define IDS_TIME_LEN  24        //  bytes of an ISO timestamp

//  0, or -1 if libsodium cannot initialise.
int  ids_uuid4 (char out [IDS_UUID_LEN + 1]);
bool ids_uuid_parse (const char *text, size_t len, char out [IDS_UUID_LEN + 1]);
void ids_now_iso (char out [IDS_TIME_LEN + 1]);
//  Milliseconds since the Unix epoch, wall clock (for timestamps; use
//  zclock_mono () for intervals).
int64_t ids_now_ms (void);
//  unix_ms (clamped at 0) as an ISO timestamp, the same format.
void ids_time_iso (int64_t unix_ms, char out [IDS_TIME_LEN + 1]);

#endif
