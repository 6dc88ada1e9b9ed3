/*  backup_limits.h — the bounds of an export file (mcpbox export/import,
    GET /api/export, POST /api/import), shared by the backup actor, the
    credentials actor (which signs the content), the gateway and the CLI.

    One file travels as one msgpack string on the bus, whose bodies are
    decoded with msg_default_limits (8 MiB a body): 7 MiB for the file
    leaves room for the request's other fields. A real export is far
    smaller: a tool's code is at most 100 KB, typically 2-5 KB, and each
    version is a full snapshot, so 100 tools of 5 versions of 4 KB with
    their schemas take about 3 MB. An export that would not fit is refused
    (too_large, naming the size) rather than cut: export fewer servers at
    a time (--servers).
*/
#ifndef MCPBOX_BACKUP_LIMITS_H
#define MCPBOX_BACKUP_LIMITS_H

#define BACKUP_FILE_MAX         (7u << 20)      //  bytes of a whole file
#define BACKUP_FORMAT_VERSION   1               //  the file's "version"
#define BACKUP_KEY_ID_HEX       16              //  "key_id": 8 bytes, hex
#define BACKUP_SIGNATURE_HEX    64              //  HMAC-SHA512-256, hex

#endif
