/*  rules.c — which events are alerts, and what an alert's body says.

    Events are hostile input (any local process may publish): the body is
    decoded with msg.c's bounds and only the fields named below are read,
    each checked. What an alert carries is a whitelist: the numbers and
    booleans of the record's details, and a few short texts (a process
    name, a state) cut to ALERT_FACT_TEXT_MAX and limited to printable
    ASCII. Never a record's free text, never a tool's arguments or output,
    and the whole body goes through log_redact_json before it is sent.

        activity process.crashed      the same process crashed crash_count
                                      times within the window: process.crash_loop
                                      (once per window per process)
        activity circuit.opened       circuit.opened
        activity logs.dropped         logs.lost
        activity logs.pruned, level error   retention.failed
        tunnel.status previous "connected", state "error"   tunnel.down
*/
#include <czmq.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "alerts.h"
#include "json_msgpack.h"
#include "log_redact.h"

#define CRASH_PROCESSES   64            //  processes tracked for loops
#define CRASH_COUNT_MAX   100

typedef struct {
    char    name [ALERT_FACT_TEXT_MAX + 1];
    int64_t times [CRASH_COUNT_MAX];    //  ring of crash times
    int     next, held;
    int64_t alerted_at;                 //  0 never
    int64_t last_at;
} crash_track_t;

struct _rules_t {
    int64_t       after_id;             //  activity ids up to this were examined
    int           crash_count;
    int64_t       window_ms;
    crash_track_t tracks [CRASH_PROCESSES];
};

static const char *s_names [] = {
    "process.crash_loop", "circuit.opened", "tunnel.down", "logs.lost",
    "retention.failed", "alert.test", NULL
};

bool
alert_name_valid (const char *name, size_t len)
{
    for (int i = 0; s_names [i]; i++)
        if (strlen (s_names [i]) == len && memcmp (s_names [i], name, len) == 0)
            return true;
    return false;
}

bool
alert_format_valid (const char *format)
{
    return format && (streq (format, "json") || streq (format, "slack")
                   || streq (format, "discord"));
}

bool
alert_events_match (const char *events, const char *name)
{
    if (streq (events, "*"))
        return true;
    size_t len = strlen (name);
    for (const char *p = events; *p; ) {
        const char *end = strchr (p, ',');
        size_t n = end ? (size_t) (end - p) : strlen (p);
        if (n == len && memcmp (p, name, len) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

rules_t *
rules_new (int crash_count, int window_ms)
{
    rules_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->crash_count = crash_count < 2 ? 2
                      : crash_count > CRASH_COUNT_MAX ? CRASH_COUNT_MAX : crash_count;
    self->window_ms = window_ms > 0 ? window_ms : 60000;
    return self;
}

void
rules_destroy (rules_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
alert_clear (alert_t *alert)
{
    json_decref (alert->facts);
    alert->facts = NULL;
}

//  A short text fact: printable ASCII, cut; NULL when there is none.
static const char *
s_text (const json_t *object, const char *key, char *out)
{
    const char *value = json_string_value (json_object_get (object, key));
    if (!value)
        return NULL;
    size_t n = 0;
    for (const char *p = value; *p && n < ALERT_FACT_TEXT_MAX; p++)
        out [n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    out [n] = 0;
    return n ? out : NULL;
}

//  The numbers and booleans of details (at most ALERT_FACTS_MAX - 1).
static void
s_scalars (json_t *facts, const json_t *details)
{
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) details, key, value) {
        if (json_object_size (facts) >= ALERT_FACTS_MAX - 1)
            break;
        if (strlen (key) > 64)
            continue;
        if (json_is_integer (value) || json_is_real (value) || json_is_boolean (value))
            json_object_set (facts, key, value);
    }
}

static void
s_set_text (json_t *facts, const char *key, const json_t *from, const char *field)
{
    char text [ALERT_FACT_TEXT_MAX + 1];
    if (s_text (from, field, text))
        json_object_set_new (facts, key, json_string (text));
}

static crash_track_t *
s_track (rules_t *self, const char *process)
{
    crash_track_t *slot = NULL;
    for (int i = 0; i < CRASH_PROCESSES; i++) {
        crash_track_t *track = &self->tracks [i];
        if (track->name [0] && streq (track->name, process))
            return track;
        //  a free slot first, else the one that crashed least recently
        if (!slot || (slot->name [0] && (!track->name [0] || track->last_at < slot->last_at)))
            slot = track;
    }
    memset (slot, 0, sizeof *slot);
    snprintf (slot->name, sizeof slot->name, "%s", process);
    return slot;
}

static int
s_crashed (rules_t *self, const json_t *details, int64_t now, alert_t *alert)
{
    char process [ALERT_FACT_TEXT_MAX + 1], cause [ALERT_FACT_TEXT_MAX + 1];
    if (!s_text (details, "process", process))
        return 0;
    crash_track_t *track = s_track (self, process);
    track->times [track->next] = now;
    track->next = (track->next + 1) % self->crash_count;
    if (track->held < self->crash_count)
        track->held++;
    track->last_at = now;
    if (track->held < self->crash_count)
        return 0;
    int64_t oldest = track->times [track->next];     //  the ring is full
    if (now - oldest > self->window_ms)
        return 0;
    if (track->alerted_at && now - track->alerted_at < self->window_ms)
        return 0;
    track->alerted_at = now;
    snprintf (alert->name, sizeof alert->name, "process.crash_loop");
    snprintf (alert->level, sizeof alert->level, "error");
    bool has_cause = s_text (details, "cause", cause) != NULL;
    snprintf (alert->summary, sizeof alert->summary,
              "%s crashed %d times within %lld s%s%s%s", process, self->crash_count,
              (long long) (self->window_ms / 1000), has_cause ? " (last: " : "",
              has_cause ? cause : "", has_cause ? ")" : "");
    alert->facts = json_pack ("{s:s, s:i, s:I}", "process", process,
                              "crashes", self->crash_count,
                              "window_s", (json_int_t) (self->window_ms / 1000));
    if (has_cause)
        json_object_set_new (alert->facts, "last_cause", json_string (cause));
    return alert->facts ? 1 : 0;
}

static int
s_activity (rules_t *self, const json_t *record, int64_t now, alert_t *alert)
{
    const char *type = json_string_value (json_object_get (record, "type"));
    const char *level = json_string_value (json_object_get (record, "level"));
    json_t *details = json_object_get (record, "details");
    if (!type || !level)
        return 0;
    if (!json_is_object (details))
        details = NULL;
    if (streq (type, "process.crashed"))
        return details ? s_crashed (self, details, now, alert) : 0;
    const char *name = NULL, *what = NULL;
    if (streq (type, "circuit.opened")) {
        name = "circuit.opened";
        what = "the circuit toward the sandbox opened: tool calls are refused at once";
    }
    else
    if (streq (type, "logs.dropped")) {
        name = "logs.lost";
        what = "log records were lost at a bound";
    }
    else
    if (streq (type, "logs.pruned") && streq (level, "error")) {
        name = "retention.failed";
        what = "the log retention prune failed";
    }
    else
        return 0;
    alert->facts = json_object ();
    if (!alert->facts)
        return 0;
    if (details)
        s_scalars (alert->facts, details);
    char source [ALERT_FACT_TEXT_MAX + 1];
    bool has_source = s_text (record, "source", source) != NULL;
    if (has_source)
        json_object_set_new (alert->facts, "source", json_string (source));
    snprintf (alert->name, sizeof alert->name, "%s", name);
    snprintf (alert->level, sizeof alert->level, "%s",
              streq (name, "logs.lost") || streq (name, "retention.failed")
              || streq (name, "circuit.opened") ? "error" : "warning");
    snprintf (alert->summary, sizeof alert->summary, "%s%s%s", what,
              has_source ? " — reported by " : "", has_source ? source : "");
    return 1;
}

static int
s_tunnel (const json_t *status, alert_t *alert)
{
    const char *previous = json_string_value (json_object_get (status, "previous"));
    const char *state = json_string_value (json_object_get (status, "state"));
    if (!previous || !state || !streq (previous, "connected") || !streq (state, "error"))
        return 0;
    alert->facts = json_object ();
    if (!alert->facts)
        return 0;
    s_set_text (alert->facts, "provider", status, "provider");
    json_object_set_new (alert->facts, "state", json_string ("error"));
    json_object_set_new (alert->facts, "previous", json_string ("connected"));
    json_t *restarts = json_object_get (status, "restarts");
    if (json_is_integer (restarts))
        json_object_set (alert->facts, "restarts", restarts);
    snprintf (alert->name, sizeof alert->name, "tunnel.down");
    snprintf (alert->level, sizeof alert->level, "error");
    snprintf (alert->summary, sizeof alert->summary,
              "the remote-access tunnel went down (connected -> error); it is being restarted");
    return 1;
}

int
rules_event (rules_t *self, const char *topic, const void *body, size_t size,
             int64_t now_ms, alert_t *alert)
{
    memset (alert, 0, sizeof *alert);
    bool activity = streq (topic, "activity");
    if (!activity && !streq (topic, "tunnel.status"))
        return 0;
    //  an activity record is at most ~35 KiB (logspool's bounds)
    static const msg_limits_t limits = { 256 * 1024, 16, 16384, 64 * 1024 };
    const char *why = NULL;
    msg_t *msg = msg_decode (body, size, &limits, &why);
    if (!msg)
        return 0;
    const msgpack_object *root = msg_root (msg);
    json_t *value = root && root->type == MSGPACK_OBJECT_MAP ? json_from_msgpack (root) : NULL;
    msg_destroy (&msg);
    if (!json_is_object (value)) {
        json_decref (value);
        return 0;
    }
    int rc = 0;
    if (activity) {
        //  logkeeper's row id (0: a record it could not store); one the
        //  catch-up already examined is not counted twice
        json_t *id = json_object_get (value, "id");
        alert->event_id = json_is_integer (id) && json_integer_value (id) > 0
                        ? json_integer_value (id) : 0;
        if (!alert->event_id || alert->event_id > self->after_id)
            rc = s_activity (self, value, now_ms, alert);
    }
    else
        rc = s_tunnel (value, alert);
    json_decref (value);
    if (rc != 1)
        alert_clear (alert);
    return rc == 1;
}

void
rules_set_after (rules_t *self, int64_t after_id)
{
    self->after_id = after_id;
}

int
rules_activity (rules_t *self, const json_t *record, int64_t now_ms, alert_t *alert)
{
    memset (alert, 0, sizeof *alert);
    if (!json_is_object (record))
        return 0;
    int rc = s_activity (self, record, now_ms, alert);
    if (rc != 1)
        alert_clear (alert);
    return rc == 1;
}

//  "[MCPbox] ERROR process.crash_loop: summary" (then cut for Discord)
static void
s_line (const alert_t *alert, char *out, size_t size)
{
    char level [8];
    size_t i = 0;
    for (; alert->level [i] && i < sizeof level - 1; i++)
        level [i] = (char) toupper ((unsigned char) alert->level [i]);
    level [i] = 0;
    snprintf (out, size, "[MCPbox] %s %s: %s", level, alert->name, alert->summary);
}

char *
alert_render (const alert_t *alert, const char *format, const char *id,
              const char *time_iso)
{
    char line [ALERT_SUMMARY_MAX + 96];
    s_line (alert, line, sizeof line);
    json_t *body;
    if (streq (format, "slack"))
        body = json_pack ("{s:s}", "text", line);
    else
    if (streq (format, "discord")) {
        line [ALERT_DISCORD_MAX < sizeof line ? ALERT_DISCORD_MAX : sizeof line - 1] = 0;
        body = json_pack ("{s:s, s:s, s:{s:[]}}", "content", line, "username", "MCPbox",
                          "allowed_mentions", "parse");
    }
    else
        body = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "source", "mcpbox",
                          "id", id, "alert", alert->name, "level", alert->level,
                          "summary", alert->summary,
                          "facts", alert->facts ? json_incref (alert->facts) : json_object (),
                          "time", time_iso);
    if (!body)
        return NULL;
    log_redact_json (body);
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    return text;
}
