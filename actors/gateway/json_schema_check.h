/*  json_schema_check.h — check tool-call arguments against an input schema.

    The subset of JSON Schema that MCPbox's schemas use (the executor
    derives them from Python signatures; the management tools' are
    written in mcp_tools.c), checked before anything is sent anywhere:

      type                  "string" | "integer" | "number" | "boolean" |
                            "array" | "object" | "null", or a list of them
                            (an integral real such as 3.0 is an integer)
      properties            per-property schemas
      required              names that must be present
      additionalProperties  false, or a schema for the other properties
      prefixItems           schemas of the first elements (2020-12)
      items                 one schema for every element (after prefixItems)
      $ref                  "#/$defs/Name" / "#/definitions/Name" in the
                            root schema (the harness's TypedDicts and
                            dataclasses); any other reference is ignored
      enum, const           equality (jansson's json_equal)
      anyOf, oneOf, allOf   sub-schemas
      minimum, maximum, exclusiveMinimum, exclusiveMaximum
      minLength, maxLength  in code points
      minItems, maxItems
      true / false          schemas that accept / refuse everything

    Everything else (description, default, title, format, pattern, $schema,
    unevaluatedProperties...) is ignored: a schema keyword we do not know never refuses a
    value. The walk follows the schema (a value is only descended into
    where the schema describes it) and stops at JSON_SCHEMA_MAX_DEPTH
    levels with a refusal, so a hostile schema cannot recurse without end.

    Deliberately not a general validator: no remote or $id-based $ref, no
    regular expressions, no formats.
*/
#ifndef MCPBOX_GATEWAY_JSON_SCHEMA_CHECK_H
#define MCPBOX_GATEWAY_JSON_SCHEMA_CHECK_H

#include <stddef.h>
#include <jansson.h>

#define JSON_SCHEMA_MAX_DEPTH 32

//  0 when `value` satisfies `schema`. -1 otherwise, with a message in err
//  that names where, starting from `root` ("arguments.items[2]: expected
//  integer, got string").
int json_schema_check (const json_t *schema, const json_t *value,
                       const char *root, char *err, size_t errlen);

//  The JSON Schema type name of a value ("integer" for 3 and 3.0).
const char *json_schema_type_name (const json_t *value);

#endif
