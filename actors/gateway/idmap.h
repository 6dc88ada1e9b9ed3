/*  idmap.h — a map from 64-bit ids to pointers.

    The gateway correlates by number in two places: the bus bridge maps a
    bus request id to the submission it answers, and the HTTP server maps a
    request id (the bridge token) to the live HTTP request. Both want the
    same thing: insert, look up, take out, in O(1), with no key copies.

    Whoever takes a value out owns it; values still inside when the map is
    destroyed go to the free function given at creation (if any).
    Not thread-safe; one thread owns each map.
*/
#ifndef MCPBOX_GATEWAY_IDMAP_H
#define MCPBOX_GATEWAY_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct _idmap_t idmap_t;

typedef void (idmap_free_fn) (void *value);

//  free_fn (may be NULL) receives the values left at destroy.
idmap_t *idmap_new (idmap_free_fn *free_fn);
void     idmap_destroy (idmap_t **self_p);

//  0, or -1 if id is 0 or already present. value must not be NULL.
int      idmap_insert (idmap_t *self, uint64_t id, void *value);
void    *idmap_lookup (idmap_t *self, uint64_t id);
//  Remove and return the value (NULL if absent).
void    *idmap_take (idmap_t *self, uint64_t id);
size_t   idmap_size (idmap_t *self);

#endif
