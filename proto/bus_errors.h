/*  bus_errors.h — the closed set of error codes that travel on the bus.

    Every `{"ok": false, "error": {"code": ..., "message": ...}}` reply carries
    exactly one of these names. Nothing else may appear on the wire: decoders
    map unknown names to BUS_ERR_INTERNAL. Add a code here, nowhere else.
*/
#ifndef MCPBOX_BUS_ERRORS_H
#define MCPBOX_BUS_ERRORS_H

#include <stddef.h>

#define BUS_ERROR_LIST(X)                                                     \
    X (BUS_ERR_NONE,          "none")          /* not an error            */ \
    X (BUS_ERR_BAD_REQUEST,   "bad_request")   /* malformed or invalid    */ \
    X (BUS_ERR_UNKNOWN_OP,    "unknown_op")    /* op not served here      */ \
    X (BUS_ERR_NOT_FOUND,     "not_found")                                   \
    X (BUS_ERR_CONFLICT,      "conflict")      /* state forbids it        */ \
    X (BUS_ERR_FORBIDDEN,     "forbidden")                                   \
    X (BUS_ERR_UNAUTHORIZED,  "unauthorized")                                \
    X (BUS_ERR_TOO_LARGE,     "too_large")     /* a bound was exceeded    */ \
    X (BUS_ERR_RATE_LIMITED,  "rate_limited")                                \
    X (BUS_ERR_NO_WORKER,     "no_worker")     /* deadline, no worker     */ \
    X (BUS_ERR_WORKER_LOST,   "worker_lost")   /* worker died mid-request */ \
    X (BUS_ERR_TIMEOUT,       "timeout")       /* no reply by deadline    */ \
    X (BUS_ERR_UNAVAILABLE,   "unavailable")   /* dependency down         */ \
    X (BUS_ERR_PROTOCOL,      "protocol")      /* peer broke the protocol */ \
    X (BUS_ERR_CANCELLED,     "cancelled")     /* the client cancelled it */ \
    X (BUS_ERR_INTERNAL,      "internal")

typedef enum {
#define X(sym, name) sym,
    BUS_ERROR_LIST (X)
#undef X
    BUS_ERR_COUNT_
} bus_error_t;

//  Wire name of a code ("not_found"); never NULL.
const char *bus_error_name (bus_error_t code);

//  Code for a wire name of `len` bytes; BUS_ERR_INTERNAL if unknown.
bus_error_t bus_error_from_name (const char *name, size_t len);

//  An error travelling as a value: a code from the closed set and a
//  message for the caller. Every actor's functions that can fail take a
//  bus_err_t * and fill it with bus_err_set.
#define BUS_ERR_MESSAGE_MAX 256
typedef struct {
    bus_error_t code;
    char        message [BUS_ERR_MESSAGE_MAX];
} bus_err_t;

//  Fill *err (NULL: nothing) and return -1, so that
//  `return bus_err_set (err, BUS_ERR_NOT_FOUND, "tool %s", id);` reads well.
int bus_err_set (bus_err_t *err, bus_error_t code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  The same for code that reports errors as text into a caller's buffer
//  (config, paths, db, migrate): format into err[errlen] (NULL or 0:
//  nothing), return -1.
int bus_err_text (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
