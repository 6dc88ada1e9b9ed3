/*  backup.h — the backup actor: export files out and in.

    The actor owns no table. It gathers an export over the bus from the
    owners (registry: servers, tools, versions; approval: approvals,
    allowed modules and hosts, policy; credentials: secret placeholders —
    keys and descriptions only — and the signature), and imports by asking
    each owner to write its part in one transaction (docs/BUS_OPS.md,
    backup; the file format in docs/SECURITY.md, "Export files").

        main.c     process wiring (service "backup")
        file.c     the file's envelope and the content's shape (pure, fuzzed)
        ops.c      export and import: the calls to the owners, the report
*/
#ifndef MCPBOX_BACKUP_H
#define MCPBOX_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "backup_limits.h"
#include "service.h"

//  --- file.c ------------------------------------------------------------------
//  The file, exactly (one line of header, then the content, then "}"):
//    {"format":"mcpbox-export","version":1,"key_id":"<16 hex>",
//     "signature":"<64 hex>","content":<CONTENT>}\n
//  with no white space in the header. The signature is over the bytes of
//  CONTENT as they are in the file (credentials, ops_export.c).
typedef struct {
    int64_t     version;
    char        key_id [BACKUP_KEY_ID_HEX + 1];
    char        signature [BACKUP_SIGNATURE_HEX + 1];
    const char *content;        //  into the file's bytes
    size_t      content_len;
} backup_file_t;

//  Split a file into its parts. 0, or -1 with a message in why (static).
int  backup_file_parse (const char *data, size_t size, backup_file_t *out,
                        const char **why);
//  The whole file for (key_id, signature, content): malloc'd, *size set.
char *backup_file_write (const char *key_id, const char *signature,
                         const char *content, size_t content_len, size_t *size);

//  Check the content's shape: only known fields, each of its type (the
//  owners check the values). 0, or -1 with a message naming the place.
int  backup_content_check (const json_t *content, char *why, size_t whylen);
//  Parse the content bytes: one JSON object, duplicate keys refused.
//  New reference, or NULL with a message.
json_t *backup_content_parse (const char *text, size_t len, char *why, size_t whylen);

//  --- ops.c -------------------------------------------------------------------
extern const service_op_t backup_ops [];

#endif
