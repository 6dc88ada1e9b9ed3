/*  modules.c — module names: syntax, the default list, the forbidden list
    (modules.h). Pure functions, no state.
*/
#include <string.h>
#include "modules.h"

const char *const modules_default [] = { MODULES_DEFAULT_LIST };
const size_t      modules_default_count =
    sizeof modules_default / sizeof modules_default [0];

static const char *const s_forbidden [] = { MODULES_FORBIDDEN_LIST };

static bool
s_in (const char *const *list, size_t count, const char *name, size_t len)
{
    for (size_t i = 0; i < count; i++)
        if (strlen (list [i]) == len && memcmp (list [i], name, len) == 0)
            return true;
    return false;
}

bool
modules_is_default (const char *name)
{
    return s_in (modules_default, modules_default_count, name, strlen (name));
}

bool
modules_is_forbidden (const char *name)
{
    size_t count = sizeof s_forbidden / sizeof s_forbidden [0];
    //  the name itself and every dotted parent: "os.path" -> "os"
    for (size_t len = strlen (name); len > 0; ) {
        if (s_in (s_forbidden, count, name, len))
            return true;
        while (len > 0 && name [len - 1] != '.')
            len--;
        if (len > 0)
            len--;                  //  drop the dot
    }
    //  private modules ("_thread", "json._x") are never importable
    for (const char *part = name; part; ) {
        if (*part == '_')
            return true;
        part = strchr (part, '.');
        if (part)
            part++;
    }
    return false;
}

static bool
s_ident_start (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
s_ident_char (char c)
{
    return s_ident_start (c) || (c >= '0' && c <= '9');
}

module_check_t
modules_check (const char *name, size_t len, char *out, const char **why)
{
    *why = NULL;
    while (len > 0 && strchr (" \t\r\n", name [0]) && name [0]) {
        name++;
        len--;
    }
    while (len > 0 && strchr (" \t\r\n", name [len - 1]) && name [len - 1])
        len--;
    if (len == 0) {
        *why = "module_name: must not be empty";
        return MODULE_INVALID;
    }
    if (len > MODULES_NAME_MAX) {
        *why = "module_name: at most 128 bytes";
        return MODULE_INVALID;
    }
    //  dotted identifiers: [A-Za-z_][A-Za-z0-9_]* ( "." same )*
    bool at_start = true;
    for (size_t i = 0; i < len; i++) {
        char c = name [i];
        if (at_start) {
            if (!s_ident_start (c)) {
                *why = "module_name: must be dotted Python identifiers (e.g. xml.etree)";
                return MODULE_INVALID;
            }
            at_start = false;
        }
        else
        if (c == '.')
            at_start = true;
        else
        if (!s_ident_char (c)) {
            *why = "module_name: must be dotted Python identifiers (e.g. xml.etree)";
            return MODULE_INVALID;
        }
    }
    if (at_start) {
        *why = "module_name: must not end with a dot";
        return MODULE_INVALID;
    }
    memcpy (out, name, len);
    out [len] = 0;
    if (modules_is_forbidden (out)) {
        *why = "module is forbidden: it can never be imported by a tool";
        return MODULE_FORBIDDEN;
    }
    return MODULE_OK;
}
