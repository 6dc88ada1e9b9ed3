/*  executor_pool.c — rows of the executor pool (executor_pool.h).
*/
#include <string.h>
#include "executor_pool.h"
#include "utf8.h"

//  A string of at most max characters, or NULL.
static const char *
s_text (const json_t *object, const char *key, size_t max)
{
    const json_t *value = json_object_get (object, key);
    if (!json_is_string (value))
        return NULL;
    const char *text = json_string_value (value);
    size_t len = json_string_length (value);
    if (memchr (text, 0, len) || utf8_chars (text, len) > max)
        return NULL;
    return text;
}

//  A non-negative integer, or -1.
static json_int_t
s_count (const json_t *object, const char *key)
{
    const json_t *value = json_object_get (object, key);
    return json_is_integer (value) && json_integer_value (value) >= 0
         ? json_integer_value (value) : -1;
}

static void
s_set_text (json_t *row, const char *key, const char *text)
{
    json_object_set_new (row, key, text ? json_string (text) : json_null ());
}

static void
s_set_count (json_t *row, const char *key, json_int_t value)
{
    json_object_set_new (row, key, value >= 0 ? json_integer (value) : json_null ());
}

//  Labels: a map of short strings; anything else in it is left out.
static json_t *
s_labels (const json_t *about)
{
    json_t *labels = json_object ();
    const json_t *given = json_object_get (about, "labels");
    if (!json_is_object (given))
        return labels;
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) given, key, value) {
        if (json_object_size (labels) >= EXECUTOR_POOL_LABELS)
            break;
        if (json_is_string (value) && strlen (key) <= EXECUTOR_POOL_LABEL_MAX
        &&  json_string_length (value) <= EXECUTOR_POOL_LABEL_MAX
        &&  !memchr (json_string_value (value), 0, json_string_length (value)))
            json_object_set (labels, key, value);
    }
    return labels;
}

static json_t *
s_row (const json_t *worker)
{
    const json_t *about = json_object_get (worker, "about");
    if (!json_is_object (about))
        about = NULL;
    json_t *row = json_object ();
    s_set_count (row, "id", s_count (worker, "id"));
    s_set_text (row, "process", about ? s_text (about, "process", EXECUTOR_POOL_TEXT_MAX) : NULL);
    s_set_text (row, "host", about ? s_text (about, "host", EXECUTOR_POOL_TEXT_MAX) : NULL);
    s_set_count (row, "pid", about ? s_count (about, "pid") : -1);
    s_set_count (row, "restarts", about ? s_count (about, "restarts") : -1);
    s_set_text (row, "version", about ? s_text (about, "version", EXECUTOR_POOL_TEXT_MAX) : NULL);
    s_set_count (row, "slots", about ? s_count (about, "slots") : -1);
    json_object_set_new (row, "labels", about ? s_labels (about) : json_object ());
    s_set_text (row, "origin", s_text (worker, "origin", EXECUTOR_POOL_TEXT_MAX));
    s_set_text (row, "address", s_text (worker, "address", EXECUTOR_POOL_TEXT_MAX));
    s_set_count (row, "credit", s_count (worker, "credit"));
    s_set_count (row, "in_flight", s_count (worker, "in_flight"));
    s_set_count (row, "served", s_count (worker, "served"));
    s_set_text (row, "registered_at", s_text (worker, "registered_at", 32));
    s_set_text (row, "last_seen", s_text (worker, "last_seen", 32));
    s_set_count (row, "idle_ms", s_count (worker, "idle_ms"));
    return row;
}

static int
s_compare (const void *a, const void *b)
{
    const json_t *x = *(json_t * const *) a, *y = *(json_t * const *) b;
    const char *px = json_string_value (json_object_get (x, "process"));
    const char *py = json_string_value (json_object_get (y, "process"));
    int order = strcmp (px ? px : "", py ? py : "");
    if (order)
        return order;
    json_int_t ix = json_integer_value (json_object_get (x, "id"));
    json_int_t iy = json_integer_value (json_object_get (y, "id"));
    return (ix > iy) - (ix < iy);
}

json_t *
executor_pool_rows (const json_t *reply)
{
    const json_t *workers = json_object_get (reply, "workers");
    size_t count = json_is_array (workers) ? json_array_size (workers) : 0;
    json_t **rows = calloc (count ? count : 1, sizeof *rows);
    if (!rows)
        return json_array ();
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const json_t *worker = json_array_get (workers, i);
        const char *service = json_is_object (worker)
                            ? json_string_value (json_object_get (worker, "service")) : NULL;
        if (service && strcmp (service, EXECUTOR_POOL_SERVICE) == 0)
            rows [n++] = s_row (worker);
    }
    qsort (rows, n, sizeof *rows, s_compare);
    json_t *out = json_array ();
    for (size_t i = 0; i < n; i++)
        json_array_append_new (out, rows [i]);
    free (rows);
    return out;
}

json_t *
executor_pool_totals (const json_t *rows)
{
    json_int_t credit = 0, in_flight = 0, served = 0, restarts = 0;
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        credit += json_integer_value (json_object_get (row, "credit"));
        in_flight += json_integer_value (json_object_get (row, "in_flight"));
        served += json_integer_value (json_object_get (row, "served"));
        restarts += json_integer_value (json_object_get (row, "restarts"));
    }
    return json_pack ("{s:I, s:I, s:I, s:I, s:I}", "executors", (json_int_t) json_array_size (rows),
                      "credit", credit, "in_flight", in_flight, "served", served,
                      "restarts", restarts);
}
