/*  broker_allow.c — the allow directory, read again when it changes. See
    broker_allow.h.
*/
#include <czmq.h>

#include "broker_allow.h"

struct _broker_allow_t {
    zcertstore_t *store;
};

broker_allow_t *
broker_allow_new (const char *dir)
{
    if (!dir || !*dir)
        return NULL;
    broker_allow_t *self = calloc (1, sizeof *self);
    assert (self);
    self->store = zcertstore_new (dir);
    assert (self->store);
    return self;
}

void
broker_allow_destroy (broker_allow_t **self_p)
{
    broker_allow_t *self = *self_p;
    if (!self)
        return;
    zcertstore_destroy (&self->store);
    free (self);
    *self_p = NULL;
}

bool
broker_allow_has (broker_allow_t *self, const char *public_txt)
{
    if (!self || !public_txt || strlen (public_txt) != 40)
        return false;
    return zcertstore_lookup (self->store, public_txt) != NULL;
}
