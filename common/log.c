/*  log.c — one line per event on stderr (see log.h).

        2026-11-29T05:40:00.123Z INFO mcpbox-registry[1234]: message

    The message is formatted into a bounded buffer (LOG_MESSAGE_MAX bytes;
    longer messages are cut and end in "..."), then every control byte, DEL
    and backslash is escaped (\n, \r, \t, \\, \xNN), so whatever a peer put
    in a string we log, one event stays one line and an escape in the
    output can always be told from a byte of the input. The line goes out
    in one fprintf, which stdio locks, so lines from threads do not mix.

    The process name and level are set once by log_init, before threads
    start; they are not changed under a running program.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

#define LOG_MESSAGE_MAX  2048            //  bytes of one formatted message
#define LOG_PROCESS_MAX  64              //  bytes of the process name

static char        s_process [LOG_PROCESS_MAX] = "mcpbox";
static log_level_t s_level = LOG_INFO;

static const char *s_level_names [] = { "DEBUG", "INFO", "WARN", "ERROR" };

void
log_init (const char *process_name, log_level_t level)
{
    if (process_name && *process_name) {
        //  Keep the name printable: it is part of every line.
        size_t i = 0;
        for (; process_name [i] && i < LOG_PROCESS_MAX - 1; i++) {
            unsigned char c = (unsigned char) process_name [i];
            s_process [i] = (c > 0x20 && c < 0x7f) ? (char) c : '?';
        }
        s_process [i] = 0;
    }
    if (level >= LOG_DEBUG && level <= LOG_ERROR)
        s_level = level;
}

int
log_level_parse (const char *text, log_level_t *level)
{
    static const char *names [] = { "debug", "info", "warn", "error" };
    if (!text || !level)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcasecmp (text, names [i]) == 0) {
            *level = (log_level_t) i;
            return 0;
        }
    return -1;
}

bool
log_enabled (log_level_t level)
{
    return level >= s_level && level <= LOG_ERROR;
}

//  Escape `in` into `out` (size outsize); always NUL-terminates.
static void
s_escape (const char *in, char *out, size_t outsize)
{
    static const char hex [] = "0123456789abcdef";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *) in; *p; p++) {
        char buf [5];
        size_t n = 0;
        switch (*p) {
            case '\n': buf [n++] = '\\'; buf [n++] = 'n';  break;
            case '\r': buf [n++] = '\\'; buf [n++] = 'r';  break;
            case '\t': buf [n++] = '\\'; buf [n++] = 't';  break;
            case '\\': buf [n++] = '\\'; buf [n++] = '\\'; break;
            default:
                if (*p < 0x20 || *p == 0x7f) {
                    buf [n++] = '\\';
                    buf [n++] = 'x';
                    buf [n++] = hex [*p >> 4];
                    buf [n++] = hex [*p & 15];
                }
                else
                    buf [n++] = (char) *p;
        }
        if (o + n >= outsize)
            break;
        memcpy (out + o, buf, n);
        o += n;
    }
    out [o] = 0;
}

void
log_msg (log_level_t level, const char *fmt, ...)
{
    if (!log_enabled (level) || !fmt)
        return;
    char message [LOG_MESSAGE_MAX];
    va_list args;
    va_start (args, fmt);
    int len = vsnprintf (message, sizeof message, fmt, args);
    va_end (args);
    if (len < 0)
        snprintf (message, sizeof message, "(unformattable log message)");
    else
    if ((size_t) len >= sizeof message)
        memcpy (message + sizeof message - 4, "...", 4);

    //  Worst case every byte becomes \xNN.
    char escaped [LOG_MESSAGE_MAX * 4 + 1];
    s_escape (message, escaped, sizeof escaped);

    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);
    char stamp [40];
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    fprintf (stderr, "%s.%03ldZ %s %s[%ld]: %s\n", stamp, now.tv_nsec / 1000000L,
             s_level_names [level], s_process, (long) getpid (), escaped);
}
