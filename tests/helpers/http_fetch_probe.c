/*  http_fetch_probe — drives actors/executor/http_fetch.c from the command
    line, for the SSRF integration tests (integration/test_ssrf_fetch.py).

    usage: http_fetch_probe URL [--allow HOST[:PORT]]... [--policy allow_all_public]
                            [--method M] [--data STR] [--timeout-ms N]
                            [--header 'Name: value']... [--check-only]
    Prints one JSON line and exits 0 when a response came back:
        {"ok":true,"status":200,"body":"...","body_len":3,"final_url":"...",
         "headers":{...}}
    or 1 when it did not:
        {"ok":false,"error":"..."}
    With --check-only nothing is sent anywhere: the probe runs the checks
    of the first hop (http_fetch_check: allowed hosts, resolution, address
    ranges, the private-range exemption) and prints
        {"ok":true,"address":"192.168.1.10"}   or   {"ok":false,"error":"..."}
    A body that is not UTF-8 is printed with its non-ASCII bytes as '?'.
    Bad usage exits 2. With -DMCPBOX_TEST_HOOKS the MCPBOX_TEST_PUBLIC_NET
    and MCPBOX_TEST_RESOLVE variables apply (see ssrf.h).
*/
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "http_fetch.h"

#define PROBE_LIST_MAX 128          //  --allow and --header entries each

static int
s_usage (void)
{
    fprintf (stderr, "usage: http_fetch_probe URL [--allow HOST[:PORT]]... "
                     "[--policy allow_all_public] [--method M] [--data STR] "
                     "[--timeout-ms N] [--header 'Name: value']... [--check-only]\n");
    return 2;
}

static json_t *
s_text (const char *data, size_t len)
{
    json_t *text = json_stringn (data, len);
    if (text)
        return text;
    char *copy = malloc (len + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < len; i++)
        copy [i] = ((unsigned char) data [i] >= 0x80 || data [i] == 0)? '?': data [i];
    text = json_stringn (copy, len);
    free (copy);
    return text;
}

int
main (int argc, char **argv)
{
    if (argc < 2 || argv [1][0] == '-')
        return s_usage ();
    const char *allow [PROBE_LIST_MAX];
    char *names [PROBE_LIST_MAX];
    const char *values [PROBE_LIST_MAX];
    size_t nallow = 0, nheaders = 0;
    net_rules_t rules = { .policy = NET_POLICY_ALLOWLIST };
    http_request_t req = { .url = argv [1] };
    bool check_only = false;
    int exit_code = 2;

    for (int i = 2; i < argc; i++) {
        if (strcmp (argv [i], "--check-only") == 0) {
            check_only = true;
            continue;
        }
        const char *arg = argv [i], *val = i + 1 < argc? argv [i + 1]: NULL;
        if (!val)
            goto usage;
        i++;
        if (strcmp (arg, "--allow") == 0 && nallow < PROBE_LIST_MAX)
            allow [nallow++] = val;
        else
        if (strcmp (arg, "--policy") == 0 && strcmp (val, "allow_all_public") == 0)
            rules.policy = NET_POLICY_ALLOW_ALL_PUBLIC;
        else
        if (strcmp (arg, "--policy") == 0 && strcmp (val, "allowlist") == 0)
            rules.policy = NET_POLICY_ALLOWLIST;
        else
        if (strcmp (arg, "--method") == 0)
            req.method = val;
        else
        if (strcmp (arg, "--data") == 0) {
            req.body = val;
            req.body_len = strlen (val);
        }
        else
        if (strcmp (arg, "--timeout-ms") == 0)
            req.timeout_ms = atoi (val);
        else
        if (strcmp (arg, "--header") == 0 && nheaders < PROBE_LIST_MAX) {
            const char *colon = strchr (val, ':');
            if (!colon)
                goto usage;
            names [nheaders] = strndup (val, (size_t) (colon - val));
            if (!names [nheaders])
                goto usage;
            colon++;
            while (*colon == ' ')
                colon++;
            values [nheaders++] = colon;
        }
        else
            goto usage;
    }
    rules.hosts = allow;
    rules.count = nallow;
    req.header_names = (const char *const *) names;
    req.header_values = values;
    req.header_count = nheaders;

    http_response_t resp = { 0 };
    int rc;
    json_t *line;
    if (check_only) {
        char address [64];
        rc = http_fetch_check (&rules, req.url, address, sizeof address,
                               resp.error, sizeof resp.error);
        line = rc == 0
            ? json_pack ("{s:b, s:s}", "ok", 1, "address", address)
            : json_pack ("{s:b, s:s}", "ok", 0, "error", resp.error);
    }
    else {
        rc = http_fetch (&rules, &req, &resp);
        line = rc == 0
            ? json_pack ("{s:b, s:i, s:o, s:I, s:s, s:O}",
                         "ok", 1, "status", resp.status,
                         "body", s_text (resp.body, resp.body_len),
                         "body_len", (json_int_t) resp.body_len,
                         "final_url", resp.final_url,
                         "headers", resp.headers)
            : json_pack ("{s:b, s:s}", "ok", 0, "error", resp.error);
    }
    char *text = line? json_dumps (line, JSON_COMPACT): NULL;
    if (text) {
        printf ("%s\n", text);
        exit_code = rc == 0? 0: 1;
    }
    else {
        fprintf (stderr, "http_fetch_probe: cannot encode the result\n");
        exit_code = 1;
    }
    free (text);
    json_decref (line);
    http_response_clear (&resp);
    for (size_t i = 0; i < nheaders; i++)
        free (names [i]);
    return exit_code;
usage:
    for (size_t i = 0; i < nheaders; i++)
        free (names [i]);
    return s_usage ();
}
