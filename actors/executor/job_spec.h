/*  job_spec.h — turn a request body ({"op": "run"|"test"|"validate", ...})
    into what a sandbox child is given (the job JSON) and what the parent
    keeps (network rules, timeout). Every field is typed and bounded here,
    before any process is involved.

    Request fields:
      code            str, ≤ 100 KB                         (required)
      arguments       map                                   (run/test)
      allowed_modules [str]   full list (default: the harness's defaults)
      extra_modules   [str]   added to the defaults
      allowed_hosts   [str]   "host" or "host:port", ≤ 256 entries
      network_policy  "allowlist" (default) | "allow_all_public"
      secrets         {str: str}, ≤ 100 entries, values ≤ 10000 bytes
      timeout_ms      1..300000 (default 30000; validate: 10000)
      notify          {progress: bool, log_level: str?} — what the client
                      asked to be told while the call runs (run only): its
                      progress reports (it sent a progress token) and log
                      lines at or above log_level; the rest is counted as
                      filtered (call_pool.h)
      test_inject_os  bool — only in builds with MCPBOX_TEST_HOOKS

    The parent keeps no copy of the job: job_json is wiped once the child
    has it. What it keeps of the secrets is the redactor (wiped with the
    spec), which redacts the result frame and args_redacted (the
    arguments as the call log may show them).
*/
#ifndef MCPBOX_JOB_SPEC_H
#define MCPBOX_JOB_SPEC_H

#include <stddef.h>
#include "bus_errors.h"
#include <jansson.h>
#include "msg.h"
#include "redactor.h"
#include "ssrf.h"

#define JOB_CODE_MAX        (100 * 1024)
#define JOB_HOSTS_MAX       256
#define JOB_SECRETS_MAX     100
#define JOB_SECRET_MAX      10000
#define JOB_MODULES_MAX     256
#define JOB_TIMEOUT_MAX_MS  300000
#define JOB_STDOUT_RUN      (1024 * 1024)
#define JOB_STDOUT_TEST     (10 * 1024)

typedef struct {
    char         mode [16];     //  run | test | validate
    char        *job_json;      //  what the child receives
    size_t       job_size;
    char       **hosts;         //  allowed hosts, normalised
    size_t       host_count;
    net_policy_t policy;
    int          timeout_ms;
    redactor_t  *redactor;      //  the job's secrets, as forms to redact
    json_t      *args_redacted; //  the arguments with secrets redacted (run/test)
    bool         notify_progress;   //  relay the tool's progress reports
    int          notify_log_rank;   //  relay log lines of this rank and up; -1 none
} job_spec_t;

//  0, or -1 with *code and a message in err.
int  job_spec_from_request (const msgpack_object *root, job_spec_t *spec,
                            bus_error_t *code, char *err, size_t errlen);
void job_spec_clear (job_spec_t *spec);

#endif
