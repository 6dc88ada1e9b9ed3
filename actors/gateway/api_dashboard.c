/*  api_dashboard.c — GET /api/dashboard: one summary for the dashboard
    page, and GET /api/docs (with --enable-docs): the route table.

    The dashboard asks, one after another:
      registry server.list  servers, and tools as the sum of tool_count
                            (up to S_SERVER_PAGES pages of 100 servers;
                            "truncated" past that)
      approval pending.list pending counts
      logs activity.query   tool.called records of the last 60 minutes
                            (oldest first, up to S_CALL_PAGES pages of
                            200), bucketed per minute: calls, and errors
                            (level warning: the run failed); "truncated"
                            when there were more
      broker workers        the executor pool: each executor's host,
                            process, pid, restarts, credit, calls in
                            flight and served (executor_pool.h), and
                            their totals in "pool", and how many the
                            broker knows of ("executors_registered": more
                            than the rows when a huge pool did not fit
                            the broker's reply); when the broker does
                            not answer, executors is [] and
                            "executors_unavailable" is true
*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "bus.h"
#include "executor_pool.h"
#include "backup_limits.h"
#include "mcp_tools.h"

#define S_SERVER_PAGES  10
#define S_CALL_PAGES    10
#define S_MINUTES       60

static void s_ask_calls (api_call_t *call);

static void
s_got_pool (api_call_t *call, bus_json_t *reply)
{
    json_t *executors = reply->ok ? executor_pool_rows (reply->body) : json_array ();
    //  the broker lists at most its reply budget: the rest is counted here
    json_int_t total = reply->ok ? bus_json_int (reply->body, "total", 0) : 0;
    json_t *out = json_pack ("{s:O, s:O, s:O, s:o, s:I, s:o, s:b, s:O, s:O}",
        "servers", json_object_get (call->ctx, "servers"),
        "tools", json_object_get (call->ctx, "tools"),
        "pending", json_object_get (call->ctx, "pending"),
        "pool", executor_pool_totals (executors),
        "executors_registered", total,
        "executors", executors,
        "executors_unavailable", !reply->ok,
        "calls", json_object_get (call->ctx, "calls"),
        "truncated", json_object_get (call->ctx, "truncated"));
    api_ok (call, 200, out);
}

//  The minute "YYYY-MM-DDTHH:MM" of an ISO time, into the buckets.
static void
s_count (json_t *calls, const char *created_at, bool error)
{
    if (!created_at || strlen (created_at) < 16)
        return;
    size_t i;
    json_t *bucket;
    json_array_foreach (calls, i, bucket) {
        const char *minute = bus_json_str (bucket, "minute");
        if (minute && !strncmp (minute, created_at, 16)) {
            json_object_set_new (bucket, "calls",
                                 json_integer (bus_json_int (bucket, "calls", 0) + 1));
            if (error)
                json_object_set_new (bucket, "errors",
                                     json_integer (bus_json_int (bucket, "errors", 0) + 1));
            return;
        }
    }
}

static void
s_got_calls (api_call_t *call, bus_json_t *reply)
{
    if (reply->ok) {
        json_t *calls = json_object_get (call->ctx, "calls");
        size_t i;
        json_t *record;
        json_array_foreach (json_object_get (reply->body, "activity"), i, record) {
            const char *level = bus_json_str (record, "level");
            s_count (calls, bus_json_str (record, "created_at"),
                     level && strcmp (level, "info") != 0);
        }
        json_t *next = json_object_get (reply->body, "next_cursor");
        json_int_t page = bus_json_int (call->ctx, "call_page", 1);
        if (json_is_integer (next) && page < S_CALL_PAGES) {
            json_object_set_new (call->ctx, "call_page", json_integer (page + 1));
            json_object_set (call->ctx, "cursor", next);
            s_ask_calls (call);
            return;
        }
        if (json_is_integer (next))
            json_object_set_new (call->ctx, "truncated", json_true ());
    }
    else
        json_object_set_new (call->ctx, "calls_unavailable", json_true ());
    json_t *fields = json_pack ("{s:s}", "service", EXECUTOR_POOL_SERVICE);
    api_ask_timeout (call, BUS_BROKER_SERVICE, "workers", fields, 2000, s_got_pool);
    json_decref (fields);
}

static void
s_ask_calls (api_call_t *call)
{
    json_t *fields = json_pack ("{s:s, s:O, s:s, s:i}", "type", "tool.called",
                                "since", json_object_get (call->ctx, "since"),
                                "order", "asc", "limit", 200);
    json_t *cursor = json_object_get (call->ctx, "cursor");
    if (cursor)
        json_object_set (fields, "cursor", cursor);
    api_ask (call, "logs", "activity.query", fields, s_got_calls);
    json_decref (fields);
}

static void
s_got_pending (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *summary = json_object_get (reply->body, "summary");
    json_object_set_new (call->ctx, "pending", json_is_object (summary)
                         ? mcp_pick (summary, "tools", "modules", "network", "total", NULL)
                         : json_object ());
    //  the last 60 minutes, one bucket each (the current one last)
    time_t now = time (NULL);
    json_t *calls = json_array ();
    for (int m = S_MINUTES - 1; m >= 0; m--) {
        time_t at = now - m * 60;
        struct tm tm;
        gmtime_r (&at, &tm);
        char minute [32];
        strftime (minute, sizeof minute, "%Y-%m-%dT%H:%M", &tm);
        json_array_append_new (calls, json_pack ("{s:s, s:i, s:i}", "minute", minute,
                                                 "calls", 0, "errors", 0));
    }
    json_object_set_new (call->ctx, "calls", calls);
    time_t since = now - (S_MINUTES - 1) * 60;
    since -= since % 60;
    json_object_set_new (call->ctx, "since", json_integer ((json_int_t) since * 1000));
    s_ask_calls (call);
}

static void s_ask_servers (api_call_t *call);

static void
s_got_servers (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_int_t tools = bus_json_int (call->ctx, "tools", 0);
    size_t i;
    json_t *server;
    json_array_foreach (json_object_get (reply->body, "servers"), i, server)
        tools += bus_json_int (server, "tool_count", 0);
    json_int_t total = bus_json_int (reply->body, "total", 0);
    json_int_t page = bus_json_int (call->ctx, "page", 1);
    json_object_set_new (call->ctx, "servers", json_integer (total));
    json_object_set_new (call->ctx, "tools", json_integer (tools));
    if (page * 100 < total) {
        if (page < S_SERVER_PAGES) {
            json_object_set_new (call->ctx, "page", json_integer (page + 1));
            s_ask_servers (call);
            return;
        }
        json_object_set_new (call->ctx, "truncated", json_true ());
    }
    api_ask (call, "approval", "pending.list", NULL, s_got_pending);
}

static void
s_ask_servers (api_call_t *call)
{
    json_t *fields = json_pack ("{s:I, s:i}", "page", bus_json_int (call->ctx, "page", 1),
                                "page_size", 100);
    api_ask (call, "registry", "server.list", fields, s_got_servers);
    json_decref (fields);
}

void
api_dashboard (api_call_t *call)
{
    call->ctx = json_pack ("{s:i, s:i, s:b}", "page", 1, "tools", 0, "truncated", 0);
    s_ask_servers (call);
}

void
api_docs (api_call_t *call)
{
    json_t *routes = json_array ();
    for (const api_route_t *r = api_routes (); r->pattern; r++)
        json_array_append_new (routes, json_pack ("{s:s, s:s, s:b, s:i}", "path", r->pattern,
                               "method", r->method, "session", r->session,
                               "body_max", r->large == 2 ? BACKUP_FILE_MAX : r->large ? API_CODE_BODY_MAX : API_BODY_MAX));
    api_ok (call, 200, json_pack ("{s:o, s:s}", "routes", routes, "note",
                                  "{} in a path is one parameter of [A-Za-z0-9_.-], 1-64 bytes; {id} one UUID"));
}
