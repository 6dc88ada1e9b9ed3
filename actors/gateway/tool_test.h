/*  tool_test.h — a test run of a tool's current code in the sandbox, as
    built for both mcpbox_test_code (mcp_tools_sandbox.c) and
    POST /api/tools/{id}/test (api_tools.c): the same schema check of the
    arguments, the same job (the server's rules, never more), the same
    shape of answer.
*/
#ifndef MCPBOX_GATEWAY_TOOL_TEST_H
#define MCPBOX_GATEWAY_TOOL_TEST_H

#include <stddef.h>
#include <jansson.h>

#include "catalog_cache.h"

//  0 when arguments (NULL: {}) fit tool's input_schema, else -1 with err.
int     tool_test_check (const json_t *tool, const json_t *arguments, char *err,
                         size_t errlen);
//  The answer for arguments that do not fit: a failed run, ValidationError.
json_t *tool_test_invalid (const char *err);
//  The sandbox `test` job (new reference) for tool (registry tool{…}) under
//  rules (NULL: executor defaults, no hosts, allowlist); *timeout_ms gets
//  the run's timeout (the tool's, 1–300 s, else 30 s).
json_t *tool_test_job (const json_t *tool, const catalog_server_t *rules,
                       const json_t *arguments, json_int_t *timeout_ms);
//  The answer for the sandbox's ok reply body: success, result, error,
//  stdout, stdout_truncated, duration_ms.
json_t *tool_test_result (const json_t *body);

#endif
