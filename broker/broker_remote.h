/*  broker_remote.h — the one request a remote executor may send.

    Over tcp the broker serves workers, not clients: a remote machine must
    not call the registry or read credentials at will. One exception lets a
    remote executor run a job that needs its server's secrets: the executor
    asks `credentials` `job_secrets {server_id}` itself, as a local one does
    (actors/executor/job_secrets.h), and the broker forwards the ask only
    when

      - the body is exactly {op: "job_secrets", server_id: S} to service
        `credentials` (broker_remote_secrets_ask);
      - the connection carries an allowed certificate's `key` (written by
        `mcpbox executors allow`, broker_allow.h);
      - a tcp worker with that same key holds, right now, an open job that
        names server_id S (the job's server is read when the broker hands
        it to a tcp worker: broker_remote_job_server).

    So a host learns only the secrets of the calls it is running anyway,
    while it runs them, and the values cross the network inside CURVE.
*/
#ifndef MCPBOX_BROKER_REMOTE_H
#define MCPBOX_BROKER_REMOTE_H

#include <stddef.h>

#define BROKER_SERVER_ID_MAX 64

//  0 with the server id (NUL-terminated, in server_id) when the request is
//  a well-formed secrets ask, else -1.
int  broker_remote_secrets_ask (const char *service, size_t service_len,
                                const void *body, size_t size,
                                char *server_id, size_t len);

//  The server_id a job body names, or "" (also for a body that is not a
//  map or names none).
void broker_remote_job_server (const void *body, size_t size,
                               char *server_id, size_t len);

#endif
