/*  ids.c — the registry's identifiers and hashes, from libsodium.

    (UUIDs and timestamps are common/ids.c's, shared with every actor.)
    ids_code_hash   lower-case hex SHA-256 (crypto_hash_sha256) of the exact
                    python_code bytes: what approval binds a review to, and
                    what `catalog` and `tool.get` report.

    sodium_init is called here on every use (it is idempotent and cheap
    after the first), so these work in any process without setup.
*/
#include <sodium.h>
#include "registry.h"

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
