/*  ids.c — the registry's identifiers and hashes, from libsodium.

    ids_uuid4       RFC 9562 version 4: 122 random bits from randombytes_buf
                    (the kernel's CSPRNG), version nibble 4, variant 10xx,
                    printed lower-case 8-4-4-4-12.
    ids_code_hash   lower-case hex SHA-256 (crypto_hash_sha256) of the exact
                    python_code bytes: what approval binds a review to, and
                    what `catalog` and `tool.get` report.

    sodium_init is called here on every use (it is idempotent and cheap
    after the first), so these work in any process without setup.
*/
#include <sodium.h>
#include "registry.h"

int
ids_uuid4 (char out [REG_ID_LEN + 1])
{
    if (sodium_init () < 0)
        return -1;
    unsigned char bytes [16];
    randombytes_buf (bytes, sizeof bytes);
    bytes [6] = (unsigned char) ((bytes [6] & 0x0f) | 0x40);
    bytes [8] = (unsigned char) ((bytes [8] & 0x3f) | 0x80);
    static const char hex [] = "0123456789abcdef";
    size_t at = 0;
    for (size_t i = 0; i < sizeof bytes; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out [at++] = '-';
        out [at++] = hex [bytes [i] >> 4];
        out [at++] = hex [bytes [i] & 0x0f];
    }
    out [at] = 0;
    return 0;
}

int
ids_code_hash (const char *code, size_t len, char out [REG_HASH_LEN + 1])
{
    if (sodium_init () < 0)
        return -1;
    unsigned char hash [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (hash, (const unsigned char *) (code ? code : ""),
                        code ? len : 0);
    sodium_bin2hex (out, REG_HASH_LEN + 1, hash, sizeof hash);
    return 0;
}
