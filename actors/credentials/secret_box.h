/*  secret_box.h — the at-rest encryption of one server secret value.

    XChaCha20-Poly1305 (crypto_aead_xchacha20poly1305_ietf) under a 32-byte
    master key, a fresh random 24-byte nonce per value, and
    "server_secret:<server_id>:<key>" as associated data: a ciphertext
    copied to another server or key does not decrypt. A key id (8 bytes of
    a keyed BLAKE2b of the key) is stored beside each value so a rotation
    interrupted by a crash can tell which key sealed which row.

    Pure functions: no I/O, no database. Decrypted bytes are the caller's
    to wipe (sodium_memzero) and free.
*/
#ifndef MCPBOX_SECRET_BOX_H
#define MCPBOX_SECRET_BOX_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#define SECRET_KEY_BYTES     32
#define SECRET_NONCE_BYTES   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SECRET_TAG_BYTES     crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SECRET_KEY_ID_BYTES  8
#define SECRET_VALUE_MAX     10000
#define SECRET_AD_MAX        256

//  The key id of a master key.
void secret_key_id (const uint8_t key [SECRET_KEY_BYTES],
                    uint8_t id [SECRET_KEY_ID_BYTES]);

//  Seal value (size ≤ SECRET_VALUE_MAX) for (server_id, name). nonce is
//  filled; *cipher_p is malloc'd (size + SECRET_TAG_BYTES in *cipher_size).
//  0, or -1 (bad size, AD too long, memory).
int  secret_seal (const uint8_t key [SECRET_KEY_BYTES], const char *server_id,
                  const char *name, const uint8_t *value, size_t size,
                  uint8_t nonce [SECRET_NONCE_BYTES], uint8_t **cipher_p,
                  size_t *cipher_size);

//  Open a sealed value. *value_p is malloc'd with a NUL after the bytes
//  (size in *size): wipe it before freeing. -1 when the tag does not verify
//  (wrong key, wrong row, tampered) or the sizes are wrong.
int  secret_open (const uint8_t key [SECRET_KEY_BYTES], const char *server_id,
                  const char *name, const uint8_t nonce [SECRET_NONCE_BYTES],
                  const uint8_t *cipher, size_t cipher_size,
                  uint8_t **value_p, size_t *size);

//  The same with "<kind>:<owner>:<name>" as associated data: kind
//  "server_secret" is the above; "source_oauth" seals a source's OAuth
//  fields (source_oauth.h), so a value of one kind never opens as another.
int  secret_seal_as (const uint8_t key [SECRET_KEY_BYTES], const char *kind,
                     const char *owner, const char *name, const uint8_t *value,
                     size_t size, uint8_t nonce [SECRET_NONCE_BYTES],
                     uint8_t **cipher_p, size_t *cipher_size);
int  secret_open_as (const uint8_t key [SECRET_KEY_BYTES], const char *kind,
                     const char *owner, const char *name,
                     const uint8_t nonce [SECRET_NONCE_BYTES], const uint8_t *cipher,
                     size_t cipher_size, uint8_t **value_p, size_t *size);

#endif
