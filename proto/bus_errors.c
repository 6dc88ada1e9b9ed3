/*  bus_errors.c — names of the closed error set, and the one error setter
    (see bus_errors.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "bus_errors.h"

static const char *s_names [] = {
#define X(sym, name) name,
    BUS_ERROR_LIST (X)
#undef X
};

const char *
bus_error_name (bus_error_t code)
{
    if ((int) code < 0 || code >= BUS_ERR_COUNT_)
        return "internal";
    return s_names [code];
}

bus_error_t
bus_error_from_name (const char *name, size_t len)
{
    for (int i = 0; i < BUS_ERR_COUNT_; i++)
        if (strlen (s_names [i]) == len && memcmp (s_names [i], name, len) == 0)
            return (bus_error_t) i;
    return BUS_ERR_INTERNAL;
}

int
bus_err_set (bus_err_t *err, bus_error_t code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list args;
        va_start (args, fmt);
        vsnprintf (err->message, sizeof err->message, fmt, args);
        va_end (args);
    }
    return -1;
}

int
bus_err_text (char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (err, errlen, fmt, args);
        va_end (args);
    }
    return -1;
}
