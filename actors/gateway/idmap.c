/*  idmap.c — a map from 64-bit ids to pointers, on a CZMQ zhashx.

    Each entry owns a small cell holding its key, so the hash table keys
    point into the cells and nothing is duplicated. See idmap.h.
*/
#include <czmq.h>
#include "idmap.h"

typedef struct {
    uint64_t  id;           //  the key (zhashx keys point here)
    void     *value;        //  not owned
} cell_t;

struct _idmap_t {
    zhashx_t      *cells;   //  &cell->id -> cell_t (owned)
    idmap_free_fn *free_fn; //  for values left at destroy, or NULL
};

static size_t
s_hash (const void *key)
{
    uint64_t x = *(const uint64_t *) key;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t) x;
}

static int
s_compare (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return (x > y) - (x < y);
}

static void
s_cell_free (void **item)
{
    free (*item);
    *item = NULL;
}

idmap_t *
idmap_new (idmap_free_fn *free_fn)
{
    idmap_t *self = calloc (1, sizeof *self);
    assert (self);
    self->free_fn = free_fn;
    self->cells = zhashx_new ();
    assert (self->cells);
    zhashx_set_key_hasher (self->cells, s_hash);
    zhashx_set_key_comparator (self->cells, s_compare);
    zhashx_set_key_duplicator (self->cells, NULL);
    zhashx_set_key_destructor (self->cells, NULL);
    zhashx_set_destructor (self->cells, s_cell_free);
    return self;
}

void
idmap_destroy (idmap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    idmap_t *self = *self_p;
    if (self->free_fn) {
        cell_t *cell = zhashx_first (self->cells);
        for (; cell; cell = zhashx_next (self->cells))
            self->free_fn (cell->value);
    }
    zhashx_destroy (&self->cells);
    free (*self_p);
    *self_p = NULL;
}

int
idmap_insert (idmap_t *self, uint64_t id, void *value)
{
    if (id == 0 || !value || zhashx_lookup (self->cells, &id))
        return -1;
    cell_t *cell = malloc (sizeof *cell);
    assert (cell);
    cell->id = id;
    cell->value = value;
    zhashx_insert (self->cells, &cell->id, cell);
    return 0;
}

void *
idmap_lookup (idmap_t *self, uint64_t id)
{
    cell_t *cell = zhashx_lookup (self->cells, &id);
    return cell ? cell->value : NULL;
}

void *
idmap_take (idmap_t *self, uint64_t id)
{
    cell_t *cell = zhashx_lookup (self->cells, &id);
    if (!cell)
        return NULL;
    void *value = cell->value;
    zhashx_delete (self->cells, &id);       //  frees the cell
    return value;
}

size_t
idmap_size (idmap_t *self)
{
    return zhashx_size (self->cells);
}
