/*  bus_echo_worker — a real worker process for the multi-process tests.

    usage: bus_echo_worker ENDPOINT SERVICE [--credit N] [--delay-ms N]
                           [--server-public FILE --secret FILE]
    Answers every request with {"ok": true, "pid": <pid>, "op": <op>} after
    --delay-ms (requests are held concurrently up to the credit, and
    answered in order of their due time). Exits on SIGINT/SIGTERM.
*/
#include <unistd.h>
#include "bus.h"

typedef struct {
    bus_request_t *request;
    int64_t        due;
    char           op [64];
} held_t;

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: bus_echo_worker ENDPOINT SERVICE [--credit N] [--delay-ms N] "
                         "[--server-public F --secret F]\n");
        return 2;
    }
    int credit = 1, delay = 0;
    bus_curve_t curve = { NULL, NULL };
    for (int i = 3; i + 1 < argc; i += 2) {
        if (streq (argv [i], "--credit"))
            credit = atoi (argv [i + 1]);
        else if (streq (argv [i], "--delay-ms"))
            delay = atoi (argv [i + 1]);
        else if (streq (argv [i], "--server-public"))
            curve.server_public_file = argv [i + 1];
        else if (streq (argv [i], "--secret"))
            curve.client_secret_file = argv [i + 1];
    }
    zsys_init ();
    bus_worker_t *worker = bus_worker_new (argv [1], argv [2], credit,
                                           curve.client_secret_file ? &curve : NULL);
    if (!worker) {
        fprintf (stderr, "bus_echo_worker: cannot start\n");
        return 1;
    }
    held_t *held = calloc ((size_t) credit, sizeof *held);
    int count = 0;
    printf ("started %d\n", (int) getpid ());
    fflush (stdout);
    while (!zsys_interrupted) {
        int64_t now = zclock_mono ();
        int wait = 200;
        for (int i = 0; i < count; i++) {
            int64_t left = held [i].due - now;
            if (left < wait)
                wait = left < 0 ? 0 : (int) left;
        }
        bus_request_t *request = bus_worker_recv (worker, wait);
        if (request && count < credit) {
            size_t size;
            const void *body = bus_request_body (request, &size);
            msg_t *msg = msg_decode (body, size, NULL, NULL);
            held [count].request = request;
            held [count].due = zclock_mono () + delay;
            snprintf (held [count].op, sizeof held [count].op, "%s",
                      msg && msg_op (msg) ? msg_op (msg) : "");
            msg_destroy (&msg);
            count++;
        }
        else
            bus_request_destroy (&request);
        now = zclock_mono ();
        for (int i = 0; i < count; ) {
            if (held [i].due > now) {
                i++;
                continue;
            }
            msgw_t *w = msgw_new ();
            msgw_map (w, 3);
            msgw_kv_bool (w, "ok", true);
            msgw_kv_int (w, "pid", getpid ());
            msgw_kv_str (w, "op", held [i].op);
            bus_worker_reply (worker, &held [i].request, msgw_data (w), msgw_size (w));
            msgw_destroy (&w);
            held [i] = held [--count];
        }
    }
    for (int i = 0; i < count; i++)
        bus_request_destroy (&held [i].request);
    free (held);
    bus_worker_destroy (&worker);
    return 0;
}
