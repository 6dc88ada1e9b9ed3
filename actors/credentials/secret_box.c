/*  secret_box.c — seal and open one server secret value (secret_box.h).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "secret_box.h"

static const char s_key_id_context [] = "mcpbox credentials key id v1";

void
secret_key_id (const uint8_t key [SECRET_KEY_BYTES], uint8_t id [SECRET_KEY_ID_BYTES])
{
    crypto_generichash (id, SECRET_KEY_ID_BYTES, (const uint8_t *) s_key_id_context,
                        sizeof s_key_id_context - 1, key, SECRET_KEY_BYTES);
}

//  "<kind>:<owner>:<name>"; its length, or -1 when too long.
static int
s_ad (char *buf, size_t size, const char *kind, const char *owner, const char *name)
{
    int len = snprintf (buf, size, "%s:%s:%s", kind, owner, name);
    return len < 0 || (size_t) len >= size ? -1 : len;
}

int
secret_seal (const uint8_t key [SECRET_KEY_BYTES], const char *server_id,
             const char *name, const uint8_t *value, size_t size,
             uint8_t nonce [SECRET_NONCE_BYTES], uint8_t **cipher_p,
             size_t *cipher_size)
{
    return secret_seal_as (key, "server_secret", server_id, name, value, size, nonce,
                           cipher_p, cipher_size);
}

int
secret_open (const uint8_t key [SECRET_KEY_BYTES], const char *server_id,
             const char *name, const uint8_t nonce [SECRET_NONCE_BYTES],
             const uint8_t *cipher, size_t cipher_size,
             uint8_t **value_p, size_t *size)
{
    return secret_open_as (key, "server_secret", server_id, name, nonce, cipher, cipher_size,
                           value_p, size);
}

int
secret_seal_as (const uint8_t key [SECRET_KEY_BYTES], const char *kind, const char *owner,
                const char *name, const uint8_t *value, size_t size,
                uint8_t nonce [SECRET_NONCE_BYTES], uint8_t **cipher_p,
                size_t *cipher_size)
{
    char ad [SECRET_AD_MAX];
    int ad_len = s_ad (ad, sizeof ad, kind, owner, name);
    if (ad_len < 0 || size > SECRET_VALUE_MAX || (!value && size))
        return -1;
    uint8_t *cipher = malloc (size + SECRET_TAG_BYTES);
    if (!cipher)
        return -1;
    randombytes_buf (nonce, SECRET_NONCE_BYTES);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt (cipher, &written, value, size,
                                                (const uint8_t *) ad, (size_t) ad_len,
                                                NULL, nonce, key);
    *cipher_p = cipher;
    *cipher_size = (size_t) written;
    return 0;
}

int
secret_open_as (const uint8_t key [SECRET_KEY_BYTES], const char *kind, const char *owner,
                const char *name, const uint8_t nonce [SECRET_NONCE_BYTES],
                const uint8_t *cipher, size_t cipher_size,
                uint8_t **value_p, size_t *size)
{
    char ad [SECRET_AD_MAX];
    int ad_len = s_ad (ad, sizeof ad, kind, owner, name);
    if (ad_len < 0 || !cipher || cipher_size < SECRET_TAG_BYTES
    ||  cipher_size > SECRET_VALUE_MAX + SECRET_TAG_BYTES)
        return -1;
    size_t plain_max = cipher_size - SECRET_TAG_BYTES;
    uint8_t *plain = malloc (plain_max + 1);
    if (!plain)
        return -1;
    unsigned long long got = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt (plain, &got, NULL, cipher, cipher_size,
                                                    (const uint8_t *) ad, (size_t) ad_len,
                                                    nonce, key) != 0) {
        sodium_memzero (plain, plain_max + 1);
        free (plain);
        return -1;
    }
    plain [got] = 0;
    *value_p = plain;
    *size = (size_t) got;
    return 0;
}
