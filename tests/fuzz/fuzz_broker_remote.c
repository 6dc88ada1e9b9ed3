/*  fuzz_broker_remote.c — the broker's reading of a remote executor's
    secrets ask and of a job's server (broker/broker_remote.c) on arbitrary
    bodies. The first byte picks the service ("credentials" or another).
    An accepted ask has a non-empty, bounded server id; a job's server id is
    always a bounded string.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "broker_remote.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *service = data [0] & 1 ? "credentials" : "credential";
    char server_id [BROKER_SERVER_ID_MAX + 1];
    memset (server_id, 'x', sizeof server_id);
    int rc = broker_remote_secrets_ask (service, strlen (service), data + 1, size - 1,
                                        server_id, sizeof server_id);
    size_t len = strnlen (server_id, sizeof server_id);
    if (len == sizeof server_id || (rc == 0 && len == 0) || (rc != 0 && len != 0))
        abort ();
    memset (server_id, 'x', sizeof server_id);
    broker_remote_job_server (data + 1, size - 1, server_id, sizeof server_id);
    if (strnlen (server_id, sizeof server_id) == sizeof server_id)
        abort ();
    return 0;
}
