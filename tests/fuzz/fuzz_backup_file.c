/*  fuzz_backup_file.c — an export file as the backup actor reads it
    (actors/backup/file.c): the envelope split, the content parse (one
    JSON object, duplicate keys refused) and the shape check, on arbitrary
    bytes.

    Checked: a split file's content lies inside the input and ends one
    byte before its final '}'; key_id and signature are lower-case hex of
    their lengths; a file written back from the parts is byte-identical
    to the input (with its newline), so there is one way to split a file;
    every refusal has a message.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "backup.h"

static void
s_hex (const char *text, size_t len)
{
    if (strlen (text) != len)
        abort ();
    for (size_t i = 0; i < len; i++)
        if (!((text [i] >= '0' && text [i] <= '9') || (text [i] >= 'a' && text [i] <= 'f')))
            abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    backup_file_t file;
    const char *why = NULL;
    if (backup_file_parse ((const char *) data, size, &file, &why)) {
        if (!why || !*why)
            abort ();
        return 0;
    }
    const char *start = (const char *) data;
    if (file.content < start || file.content + file.content_len >= start + size
    ||  file.content [file.content_len] != '}' || file.version != BACKUP_FORMAT_VERSION)
        abort ();
    s_hex (file.key_id, BACKUP_KEY_ID_HEX);
    s_hex (file.signature, BACKUP_SIGNATURE_HEX);
    size_t out_size = 0;
    char *again = backup_file_write (file.key_id, file.signature, file.content,
                                     file.content_len, &out_size);
    if (!again)
        abort ();
    bool newline = data [size - 1] == '\n';
    if (out_size != size + !newline || memcmp (again, data, size - newline) != 0)
        abort ();
    free (again);
    char message [300];
    message [0] = 0;
    json_t *content = backup_content_parse (file.content, file.content_len, message,
                                            sizeof message);
    if (!content) {
        if (!message [0])
            abort ();
        return 0;
    }
    message [0] = 0;
    if (backup_content_check (content, message, sizeof message) && !message [0])
        abort ();
    json_decref (content);
    return 0;
}
