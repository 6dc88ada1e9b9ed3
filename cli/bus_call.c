/*  bus_call.c — what the admin commands share: reaching the broker, sending
    ops, waiting for the replies, and reporting failures (see cli.h).

    "Not running" is decided before anything is sent: no DATA/run, no
    socket, or nobody listening on it (a connect() refused means the
    broker is gone and left its socket behind). That answers at once
    instead of after a request's deadline. If the broker dies later, the
    bus client answers `timeout` itself ("no reply from the broker"), which
    is reported as not running too.

    Replies become jansson values (json_msgpack.h): the commands print
    them with --json as they are, and read them for tables.
*/
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "cli.h"
#include "json_msgpack.h"

#define S_GRACE_MS  2000    //  past a deadline, for the client's own time-out

struct _cli_bus_t {
    bus_client_t *client;
    paths_t       paths;
    char          command [32];
    bool          json;
};

//  {"ok": false, "error": {"code": code, "message": message}} on stdout.
static void
s_json_error (const char *code, const char *message)
{
    json_t *root = json_pack ("{s:b, s:{s:s, s:s}}", "ok", 0, "error",
                              "code", code, "message", message);
    if (root)
        cli_json_print (root);
    json_decref (root);
}

static void
s_not_running (const char *command, bool json, const char *data_dir, const char *why)
{
    char message [PATHS_MAX + 128];
    snprintf (message, sizeof message, "MCPbox is not running for %s%s%s%s",
              data_dir, why ? " (" : "", why ? why : "", why ? ")" : "");
    fprintf (stderr, "mcpbox %s: %s\n", command, message);
    if (json)
        s_json_error ("not_running", message);
}

//  Is anybody listening on the unix socket? 0 yes, else an errno.
static int
s_probe_socket (const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen (path) >= sizeof addr.sun_path)
        return ENAMETOOLONG;
    memcpy (addr.sun_path, path, strlen (path) + 1);
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return errno;
    int rc = connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0 ? 0 : errno;
    close (fd);
    return rc;
}

cli_bus_t *
cli_bus_open (config_t *config, const char *command, bool json)
{
    cli_bus_t *self = calloc (1, sizeof *self);
    if (!self) {
        fprintf (stderr, "mcpbox %s: out of memory\n", command);
        return NULL;
    }
    snprintf (self->command, sizeof self->command, "%s", command);
    self->json = json;
    char err [PATHS_MAX + 128] = "";
    if (paths_init (&self->paths, config_str (config, "data_dir"), false,
                    err, sizeof err) == -1) {
        fprintf (stderr, "mcpbox %s: %s\n", command, err);
        if (json)
            s_json_error ("bad_data_dir", err);
        free (self);
        return NULL;
    }
    const char *endpoint = self->paths.bus_endpoint;
    const char *socket_path = strncmp (endpoint, "ipc://", 6) == 0 ? endpoint + 6 : NULL;
    struct stat st;
    if (stat (self->paths.run_dir, &st) == -1 || !S_ISDIR (st.st_mode)
    ||  !socket_path || stat (socket_path, &st) == -1 || !S_ISSOCK (st.st_mode)) {
        s_not_running (command, json, self->paths.data_dir, NULL);
        free (self);
        return NULL;
    }
    int probe = s_probe_socket (socket_path);
    if (probe == ECONNREFUSED || probe == ENOENT) {
        s_not_running (command, json, self->paths.data_dir,
                       "nobody listens on run/bus");
        free (self);
        return NULL;
    }
    if (probe != 0) {
        //  EACCES: the run directory is someone else's, which is the point.
        snprintf (err, sizeof err, "cannot reach the broker at %s: %s",
                  socket_path, strerror (probe));
        fprintf (stderr, "mcpbox %s: %s\n", command, err);
        if (json)
            s_json_error ("unreachable", err);
        free (self);
        return NULL;
    }
    self->client = bus_client_new (endpoint);
    if (!self->client) {
        snprintf (err, sizeof err, "cannot connect to %s", endpoint);
        fprintf (stderr, "mcpbox %s: %s\n", command, err);
        if (json)
            s_json_error ("unreachable", err);
        free (self);
        return NULL;
    }
    return self;
}

void
cli_bus_close (cli_bus_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bus_client_destroy (&(*self_p)->client);
    free (*self_p);
    *self_p = NULL;
}

const char *
cli_bus_data_dir (cli_bus_t *self)
{
    return self->paths.data_dir;
}

static void
s_fail (cli_call_t *call, bus_error_t code, const char *message)
{
    call->code = code;
    snprintf (call->message, sizeof call->message, "%s", message ? message : "");
}

//  Fill a call from its reply.
static void
s_read_reply (cli_call_t *call, bus_reply_t *reply)
{
    const char *why = NULL;
    msg_t *msg = bus_reply_decode (reply, &why);
    if (!msg) {
        s_fail (call, BUS_ERR_PROTOCOL, why);
        return;
    }
    if (!msg_is_ok (msg)) {
        s_fail (call, msg_error_code (msg), msg_error_message (msg));
        //  The bus client's own answer when the broker never replied.
        call->local_timeout = call->code == BUS_ERR_TIMEOUT
            && strstr (call->message, "no reply from the broker") != NULL;
        msg_destroy (&msg);
        return;
    }
    json_t *value = json_from_msgpack (msg_root (msg));
    msg_destroy (&msg);
    if (!json_is_object (value)) {
        json_decref (value);
        s_fail (call, BUS_ERR_PROTOCOL, "the reply cannot be read as JSON");
        return;
    }
    json_object_del (value, "ok");
    call->reply = value;
    call->code = BUS_ERR_NONE;
}

size_t
cli_bus_run (cli_bus_t *self, cli_call_t *calls, size_t count)
{
    uint64_t *ids = calloc (count ? count : 1, sizeof *ids);
    if (!ids) {
        for (size_t i = 0; i < count; i++)
            s_fail (&calls [i], BUS_ERR_INTERNAL, "out of memory");
        return count;
    }
    size_t pending = 0, failed = 0;
    int longest = 0;
    for (size_t i = 0; i < count; i++) {
        cli_call_t *call = &calls [i];
        cli_call_reset (call);
        int timeout = call->timeout_ms > 0 ? call->timeout_ms : CLI_BUS_TIMEOUT_MS;
        if (timeout > longest)
            longest = timeout;
        ids [i] = call->body
                ? bus_client_send (self->client, call->service, msgw_data (call->body),
                                   msgw_size (call->body), timeout)
                : 0;
        if (ids [i] == 0)
            s_fail (call, BUS_ERR_INTERNAL, "could not send the request");
        else
            pending++;
    }
    int64_t deadline = zclock_mono () + longest + S_GRACE_MS;
    while (pending > 0 && !zsys_interrupted) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        bus_reply_t *reply = bus_client_recv (self->client, (int) left);
        if (!reply)
            continue;
        uint64_t id = bus_reply_id (reply);
        for (size_t i = 0; i < count; i++)
            if (ids [i] == id) {
                s_read_reply (&calls [i], reply);
                ids [i] = 0;
                pending--;
                break;
            }
        bus_reply_destroy (&reply);
    }
    for (size_t i = 0; i < count; i++) {
        if (ids [i] != 0) {
            s_fail (&calls [i], BUS_ERR_TIMEOUT, zsys_interrupted ? "interrupted"
                                                                  : "no reply");
            calls [i].local_timeout = !zsys_interrupted;
        }
        if (calls [i].code != BUS_ERR_NONE)
            failed++;
    }
    free (ids);
    return failed;
}

json_t *
cli_bus_request (cli_bus_t *self, const char *service, msgw_t *body, const char *what)
{
    cli_call_t call = { .service = service, .body = body };
    if (cli_bus_run (self, &call, 1) > 0) {
        cli_bus_report (self, &call, what);
        cli_call_reset (&call);
        return NULL;
    }
    return call.reply;
}

int
cli_bus_report (cli_bus_t *self, const cli_call_t *call, const char *what)
{
    char line [PATHS_MAX + 512];
    const char *code = bus_error_name (call->code);
    //  The service's message may come from anywhere: clean it for a terminal.
    char *message = cli_text_clean (call->message, 300, true);
    const char *text = message && *message ? message : code;
    switch (call->code) {
        case BUS_ERR_NO_WORKER:
            snprintf (line, sizeof line, "%s service not available (no_worker)",
                      call->service);
            break;
        case BUS_ERR_TIMEOUT:
            if (call->local_timeout)
                snprintf (line, sizeof line, "MCPbox is not running for %s "
                          "(the broker did not answer)", self->paths.data_dir);
            else
                snprintf (line, sizeof line, "%s service did not answer in time "
                          "(timeout)", call->service);
            break;
        case BUS_ERR_WORKER_LOST:
            snprintf (line, sizeof line, "%s service stopped while answering "
                      "(worker_lost)", call->service);
            break;
        case BUS_ERR_PROTOCOL:
        case BUS_ERR_INTERNAL:
            snprintf (line, sizeof line, "%s%s%s service failed: %s (%s)",
                      what ? what : "", what ? ": " : "", call->service, text, code);
            break;
        default:
            //  About the request itself: not_found, conflict, bad_request, ...
            snprintf (line, sizeof line, "%s%s%s (%s)", what ? what : "",
                      what ? ": " : "", text, code);
            break;
    }
    fprintf (stderr, "mcpbox %s: %s\n", self->command, line);
    if (self->json)
        s_json_error (call->local_timeout ? "not_running" : code, line);
    free (message);
    return CLI_EXIT_FAIL;
}

void
cli_call_reset (cli_call_t *call)
{
    json_decref (call->reply);
    call->reply = NULL;
    call->code = BUS_ERR_NONE;
    call->message [0] = '\0';
    call->local_timeout = false;
}

int
cli_json_print (const json_t *value)
{
    int rc = json_dumpf (value, stdout, JSON_INDENT (2) | JSON_SORT_KEYS);
    putchar ('\n');
    if (fflush (stdout) != 0 || rc != 0)
        return CLI_EXIT_FAIL;
    return CLI_EXIT_OK;
}

void
cli_admin_identity (char *buf, size_t size)
{
    uid_t uid = geteuid ();
    struct passwd *pw = getpwuid (uid);
    if (pw && pw->pw_name && *pw->pw_name)
        snprintf (buf, size, "admin@cli:%.48s", pw->pw_name);
    else
        snprintf (buf, size, "admin@cli:uid%lu", (unsigned long) uid);
}

const char *
cli_jstr (const json_t *object, const char *key)
{
    const char *value = json_string_value (json_object_get (object, key));
    return value ? value : "";
}

int64_t
cli_jint (const json_t *object, const char *key, int64_t fallback)
{
    const json_t *value = json_object_get (object, key);
    return json_is_integer (value) ? (int64_t) json_integer_value (value) : fallback;
}

bool
cli_uuid_valid (const char *text)
{
    if (strlen (text) != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text [i] != '-' : !isxdigit ((unsigned char) text [i]))
            return false;
    }
    return true;
}
