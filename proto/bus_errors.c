/*  bus_errors.c — names of the closed error set (see bus_errors.h). */
#include <stddef.h>
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
