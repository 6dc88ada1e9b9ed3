/*  broker_remote.c — reading a remote executor's secrets ask and a job's
    server. See broker_remote.h.
*/
#include <string.h>

#include "broker_remote.h"
#include "msg.h"

int
broker_remote_secrets_ask (const char *service, size_t service_len,
                           const void *body, size_t size,
                           char *server_id, size_t len)
{
    if (len)
        server_id [0] = 0;
    if (service_len != strlen ("credentials")
    ||  memcmp (service, "credentials", service_len) != 0)
        return -1;
    msg_t *msg = msg_decode (body, size, NULL, NULL);
    if (!msg)
        return -1;
    const msgpack_object *root = msg_root (msg);
    int rc = -1;
    if (root->via.map.size == 2 && msg_op (msg) && strcmp (msg_op (msg), "job_secrets") == 0
    &&  msg_get_cstr (root, "server_id", server_id, len) == MSG_FIELD_OK && *server_id)
        rc = 0;
    else
    if (len)
        server_id [0] = 0;
    msg_destroy (&msg);
    return rc;
}

void
broker_remote_job_server (const void *body, size_t size, char *server_id, size_t len)
{
    if (len)
        server_id [0] = 0;
    msg_t *msg = msg_decode (body, size, NULL, NULL);
    if (!msg)
        return;
    if (msg_get_cstr (msg_root (msg), "server_id", server_id, len) != MSG_FIELD_OK && len)
        server_id [0] = 0;
    msg_destroy (&msg);
}
