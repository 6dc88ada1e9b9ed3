/*  fuzz_live_msg.c — the /ws client message parser and the activity event
    decoder (actors/gateway/live_msg.c) on arbitrary bytes: a filter it
    accepts is within its bounds, and a log message it builds has the
    string fields the filter reads.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "live_msg.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    live_filter_t filter;
    memset (&filter, 0, sizeof filter);
    const char *why = NULL;
    live_msg_kind_t kind = live_msg_parse ((const char *) data, size, &filter, &why);
    if (kind == LIVE_MSG_BAD && !why)
        abort ();
    if (kind == LIVE_MSG_FILTER) {
        if (filter.type_count > LIVE_FILTER_TYPES
        ||  strnlen (filter.server_id, sizeof filter.server_id) > LIVE_FILTER_ID_MAX)
            abort ();
        (void) live_filter_match (&filter, "tool.called", "info", "s1");
    }
    const char *type = NULL, *level = NULL, *server_id = NULL;
    json_t *log = live_msg_log (data, size, &type, &level, &server_id);
    if (log && (!type || !level))
        abort ();
    json_decref (log);
    return 0;
}
