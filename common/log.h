/*  log.h — one line per event on stderr:
        2026-11-29T05:40:00.123Z INFO registry[1234]: message
    Control characters in the message are escaped (\n, \xNN) so one event is
    always one line, whatever a peer put in a string we log.
*/
#ifndef MCPBOX_LOG_H
#define MCPBOX_LOG_H

#include <stdbool.h>
//  <syslog.h> (pulled in by czmq.h) defines LOG_DEBUG and LOG_INFO as
//  macros, which would break the enum below. Include it first and drop
//  those two, so this header works before or after czmq.h. Nothing here
//  logs to syslog.
#include <syslog.h>
#undef LOG_DEBUG
#undef LOG_INFO

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

void log_init (const char *process_name, log_level_t level);
//  "debug" | "info" | "warn" | "error" -> 0, else -1.
int  log_level_parse (const char *text, log_level_t *level);
bool log_enabled (log_level_t level);
void log_msg (log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define log_debug(...) log_msg (LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg (LOG_INFO,  __VA_ARGS__)
#define log_warn(...)  log_msg (LOG_WARN,  __VA_ARGS__)
#define log_error(...) log_msg (LOG_ERROR, __VA_ARGS__)

#endif
