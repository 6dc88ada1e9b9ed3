/*  fuzz_metrics.c — the gateway's figures (actors/gateway/metrics.c) on
    arbitrary bytes: mcpbox up's process counts file (common/proc_counts.c,
    the crashes/restarts families) and the same bytes as a tool and a
    service name. Whatever comes in, the
    exposition stays line-shaped: every line is a comment or a sample of
    an mcpbox_ family, so no label value can break out of its quotes.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    metrics_t *metrics = metrics_new (4);
    char *name = malloc (size + 1);
    if (!name)
        abort ();
    memcpy (name, data, size);
    name [size] = 0;
    metrics_call (metrics, name, (metrics_outcome_t) (size % METRICS_OUTCOMES));
    metrics_bus (metrics, name, (int64_t) size * 1000);
    free (name);

    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream (&text, &length);
    if (!out)
        abort ();
    metrics_write (metrics, out);
    metrics_write_processes (out, (const char *) data, size);
    if (fclose (out) != 0)
        abort ();
    for (char *line = text; line && *line; ) {
        char *end = strchr (line, '\n');
        if (!end)
            abort ();               //  every line ends with a newline
        if (strncmp (line, "# ", 2) != 0 && strncmp (line, "mcpbox_", 7) != 0)
            abort ();
        line = end + 1;
    }
    free (text);
    metrics_destroy (&metrics);
    return 0;
}
