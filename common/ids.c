/*  ids.c — UUIDs and ISO timestamps (see ids.h). */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "ids.h"

int
ids_uuid4 (char out [IDS_UUID_LEN + 1])
{
    if (sodium_init () < 0)
        return -1;
    unsigned char bytes [16];
    randombytes_buf (bytes, sizeof bytes);
    bytes [6] = (unsigned char) ((bytes [6] & 0x0f) | 0x40);   //  version 4
    bytes [8] = (unsigned char) ((bytes [8] & 0x3f) | 0x80);   //  variant 10xx
    static const char hex [] = "0123456789abcdef";
    size_t at = 0;
    for (size_t i = 0; i < sizeof bytes; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out [at++] = '-';
        out [at++] = hex [bytes [i] >> 4];
        out [at++] = hex [bytes [i] & 0x0f];
    }
    out [at] = 0;
    return 0;
}

bool
ids_uuid_parse (const char *text, size_t len, char out [IDS_UUID_LEN + 1])
{
    if (!text || len != IDS_UUID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        }
        else
        if (c >= 'A' && c <= 'F')
            c = (char) (c - 'A' + 'a');
        else
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        out [i] = c;
    }
    out [len] = 0;
    return true;
}

int64_t
ids_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ids_time_iso (int64_t unix_ms, char out [IDS_TIME_LEN + 1])
{
    if (unix_ms < 0)
        unix_ms = 0;
    time_t seconds = (time_t) (unix_ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    char head [32];
    if (strftime (head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
        snprintf (head, sizeof head, "1970-01-01T00:00:00");
    snprintf (out, IDS_TIME_LEN + 1, "%.19s.%03dZ", head, (int) (unix_ms % 1000));
}

void
ids_now_iso (char out [IDS_TIME_LEN + 1])
{
    ids_time_iso (ids_now_ms (), out);
}
