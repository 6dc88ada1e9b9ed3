/*  job_secrets.h — a job's server secrets, fetched by the executor itself.

    A run or test job from the gateway names its server ("server_id") but
    carries no secret: decrypted secrets stay out of the gateway
    (docs/DESIGN.md, section 5, says why). Just before the job is parsed
    and handed to a sandbox child, the executor asks credentials
    (`job_secrets {server_id}`) over the local bus and merges the values
    into the job's "secrets" map, so they reach only this trusted parent,
    which redacts them from what comes back. Every buffer that held them
    (the reply, the merged body) is zeroed before it is freed.

    A remote executor (a tcp:// broker with CURVE) asks the same way, over
    its own CURVE connection: the broker forwards that one request only for
    a job this host holds at that moment (broker/broker_remote.h), so the
    values cross the network encrypted and only to the host running the
    call. Without CURVE (tcp:// on loopback, tests) there is no asking: the
    job runs with the secrets it carries, and a warning says so.
*/
#ifndef MCPBOX_JOB_SECRETS_H
#define MCPBOX_JOB_SECRETS_H

#include "bus.h"

typedef struct _job_secrets_t job_secrets_t;

//  endpoint: the broker's; curve: this executor's CURVE files for a tcp://
//  one (NULL: no fetching over tcp, see above). worker: this executor's
//  registration, kept alive (heartbeats, requests queued for later) while
//  an ask waits; may be NULL in tests.
job_secrets_t *job_secrets_new (const char *endpoint, const bus_curve_t *curve,
                                bus_worker_t *worker);
void           job_secrets_destroy (job_secrets_t **self_p);

//  If *msg_p is a job naming a server_id, replace it with the same job
//  whose "secrets" hold that server's values (the old message is
//  destroyed); job_size is its encoded size. 0 (also when there is nothing to do), or -1 with *code and
//  a message (credentials unavailable, malformed answer).
int job_secrets_attach (job_secrets_t *self, msg_t **msg_p, size_t job_size,
                        bus_error_t *code, char *err, size_t errlen);

#endif
