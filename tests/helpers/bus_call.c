/*  bus_call — a real client process for the multi-process tests.

    usage: bus_call ENDPOINT SERVICE OP [--timeout MS] [--count N]
                    [--inflight N] [--interval-ms N]
    Sends --count requests {"op": OP}, at most --inflight at once, one
    every --interval-ms when given, over ONE connection that lives for the
    whole run. Prints one line per reply:
        reply ok pid=1234 ms=3
        reply error=no_worker ms=1000
    and exits 0 when every reply was ok, 1 otherwise.
*/
#include <unistd.h>
#include "bus.h"

int
main (int argc, char **argv)
{
    if (argc < 4) {
        fprintf (stderr, "usage: bus_call ENDPOINT SERVICE OP [--timeout MS] [--count N] "
                         "[--inflight N] [--interval-ms N]\n");
        return 2;
    }
    int timeout = 2000, count = 1, inflight = 1, interval = 0;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (streq (argv [i], "--timeout"))
            timeout = atoi (argv [i + 1]);
        else if (streq (argv [i], "--count"))
            count = atoi (argv [i + 1]);
        else if (streq (argv [i], "--inflight"))
            inflight = atoi (argv [i + 1]);
        else if (streq (argv [i], "--interval-ms"))
            interval = atoi (argv [i + 1]);
    }
    if (count < 1 || count > 1000000 || inflight < 1 || inflight > 10000)
        return 2;
    zsys_init ();
    bus_client_t *client = bus_client_new (argv [1]);
    if (!client)
        return 1;
    msgw_t *w = msgw_op_new (argv [3]);
    int64_t *sent_at = calloc ((size_t) count, sizeof *sent_at);
    uint64_t *ids = calloc ((size_t) count, sizeof *ids);
    int sent = 0, answered = 0, failures = 0;
    int64_t next_send = zclock_mono ();
    while (answered < count && !zsys_interrupted) {
        while (sent < count && (int) bus_client_pending (client) < inflight
           &&  zclock_mono () >= next_send) {
            ids [sent] = bus_client_send (client, argv [2], msgw_data (w), msgw_size (w), timeout);
            sent_at [sent++] = zclock_mono ();
            next_send = zclock_mono () + interval;
        }
        bus_reply_t *reply = bus_client_recv (client, interval ? interval : 1000);
        if (!reply)
            continue;
        int64_t started = 0;
        for (int i = 0; i < sent; i++)
            if (ids [i] == bus_reply_id (reply))
                started = sent_at [i];
        long ms = (long) (zclock_mono () - started);
        msg_t *msg = bus_reply_decode (reply, NULL);
        int64_t pid = 0;
        if (msg && msg_is_ok (msg)) {
            msg_get_int (msg_root (msg), "pid", &pid);
            printf ("reply ok pid=%lld ms=%ld\n", (long long) pid, ms);
        }
        else {
            printf ("reply error=%s ms=%ld\n",
                    msg ? bus_error_name (msg_error_code (msg)) : "malformed", ms);
            failures++;
        }
        fflush (stdout);
        msg_destroy (&msg);
        bus_reply_destroy (&reply);
        answered++;
    }
    free (sent_at);
    free (ids);
    msgw_destroy (&w);
    bus_client_destroy (&client);
    return failures ? 1 : 0;
}
