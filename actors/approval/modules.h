/*  modules.h — which Python modules a tool may import, as far as approval
    is concerned: the default allowlist every server gets, and the modules
    that are never importable whatever anyone approves.

    Both lists come from common/python_modules.txt, the one source, through
    the generated python_modules.h (the sandbox's harness.py is generated
    from the same file). Approval uses them to refuse a request for a
    forbidden module before an admin ever sees it, and to report the
    defaults in `effective`.

    A name is forbidden when it, or any dotted parent of it ("os" for
    "os.path"), is in the forbidden list, or when any part begins with "_"
    (private modules; the sandbox refuses such names anyway).
*/
#ifndef MCPBOX_APPROVAL_MODULES_H
#define MCPBOX_APPROVAL_MODULES_H

#include <stdbool.h>
#include <stddef.h>

#include "python_modules.h"

#define MODULES_NAME_MAX 128        //  bytes of a dotted module name

typedef enum {
    MODULE_OK = 0,
    MODULE_INVALID,                 //  not a dotted identifier of ≤ 128 bytes
    MODULE_FORBIDDEN,               //  never importable
} module_check_t;

//  The default allowlist, in python_modules.txt's order, and its length.
extern const char *const modules_default [];
extern const size_t      modules_default_count;

//  Check `len` bytes of `name` (trimmed of surrounding ASCII whitespace
//  first); on MODULE_OK or MODULE_FORBIDDEN the trimmed name is in out
//  (MODULES_NAME_MAX + 1 bytes). *why says what is wrong, else NULL.
module_check_t modules_check (const char *name, size_t len, char *out,
                              const char **why);

bool modules_is_default (const char *name);
bool modules_is_forbidden (const char *name);

#endif
