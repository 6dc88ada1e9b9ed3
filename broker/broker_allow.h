/*  broker_allow.h — is a remote executor's key still allowed?

    zauth checks a CURVE key once, at the handshake; a key removed from
    DATA/keys/allowed/ afterwards (`mcpbox executors revoke`) would keep a
    connected executor working. The broker asks this at every heartbeat for
    each tcp worker whose certificate carried its key (the `key` metadata
    that `mcpbox executors allow` writes, handed to the connection by zauth)
    and removes the worker when the answer is no: its held jobs are
    answered `worker_lost`, and its reconnection fails the handshake.

    The directory is read again only when it changed (zcertstore's loader
    compares its modification time and size).
*/
#ifndef MCPBOX_BROKER_ALLOW_H
#define MCPBOX_BROKER_ALLOW_H

#include <stdbool.h>

typedef struct _broker_allow_t broker_allow_t;

//  NULL when dir is NULL or empty.
broker_allow_t *broker_allow_new (const char *dir);
void            broker_allow_destroy (broker_allow_t **self_p);

//  True when a certificate in the directory has this public key (Z85).
bool            broker_allow_has (broker_allow_t *self, const char *public_txt);

#endif
