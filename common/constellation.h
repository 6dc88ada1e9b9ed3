/*  constellation.h — the processes of one MCPbox, written down once.

    One row per program: its process name, the bus service it serves
    (NULL: none — the broker is the bus, the gateway is a client of it),
    its place in the start order, and how many run. `mcpbox up` starts
    them in this order, `mcpbox status` and the gateway's /health ask
    every service listed, and the tests read the table from
    `mcpbox status --json` ("constellation") instead of keeping a copy.

    Start order: the broker first (everyone connects to it), the actors,
    the executors, the gateway last (HTTP opens once the services are
    registered or about to be). Stopping runs the other way round.
*/
#ifndef MCPBOX_CONSTELLATION_H
#define MCPBOX_CONSTELLATION_H

#include <stddef.h>

typedef struct {
    const char *process;        //  binary and process name: "mcpbox-registry"
    const char *service;        //  bus service, or NULL
    int         order;          //  start order, 1 first
    int         count;          //  how many run (default)
    const char *count_option;   //  the `mcpbox up` option that sets count, or NULL
} constellation_entry_t;

//  The table, in start order, ended by a row with process NULL.
extern const constellation_entry_t constellation [];

//  Rows in the table.
size_t constellation_size (void);

//  The row serving `service`, or NULL.
const constellation_entry_t *constellation_by_service (const char *service);

#endif
