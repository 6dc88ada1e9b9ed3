-- 0004 credentials: admin accounts, sessions, login failures and encrypted
-- server secrets. Owned and written only by the credentials actor
-- (actors/credentials/).
--
-- Times are unix seconds (INTEGER): sessions and limits compare them on
-- every request. server_id is the registry's id as plain TEXT (the
-- registry owns servers; no foreign key across owners).

-- Admin accounts. password_hash is libsodium's crypto_pwhash_str (Argon2id,
-- the encoded string carries its own salt and limits).
CREATE TABLE admin_users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE
                  CHECK (length (username) BETWEEN 3 AND 50),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- One row per issued token pair. Tokens are 256 random bits; only their
-- BLAKE2b hashes are stored. A refresh rotates: the row is marked rotated
-- and a new row of the same family is made; presenting a rotated refresh
-- token again revokes the whole family (reuse detection).
CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    family          BLOB    NOT NULL,                -- 16 random bytes
    user_id         INTEGER NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    access_hash     BLOB    NOT NULL UNIQUE,
    refresh_hash    BLOB    NOT NULL UNIQUE,
    csrf_hash       BLOB    NOT NULL,
    access_expires  INTEGER NOT NULL,
    refresh_expires INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    rotated         INTEGER NOT NULL DEFAULT 0 CHECK (rotated IN (0, 1)),
    revoked         INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);
CREATE INDEX sessions_family ON sessions (family);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_refresh_expires ON sessions (refresh_expires);

-- Failed logins, one row per failure and subject ('addr' = client address,
-- 'user' = lower-cased username), kept while inside the limit window.
CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    kind     TEXT    NOT NULL CHECK (kind IN ('addr', 'user')),
    subject  TEXT    NOT NULL CHECK (length (subject) <= 256),
    at       INTEGER NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (kind, subject, at);

-- Secrets of a server. A placeholder (made by the LLM) has no value: nonce,
-- ciphertext and key_id are all NULL. A value is XChaCha20-Poly1305 under
-- the master key named by key_id, with "server_secret:<server_id>:<key>" as
-- associated data, so a ciphertext moved to another row does not decrypt.
CREATE TABLE server_secrets (
    server_id   TEXT    NOT NULL CHECK (length (server_id) <= 64),
    key         TEXT    NOT NULL CHECK (length (key) BETWEEN 1 AND 128),
    description TEXT    NOT NULL DEFAULT '' CHECK (length (description) <= 2000),
    nonce       BLOB    CHECK (nonce IS NULL OR length (nonce) = 24),
    ciphertext  BLOB,
    key_id      BLOB    CHECK (key_id IS NULL OR length (key_id) = 8),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (server_id, key),
    CHECK ((nonce IS NULL) = (ciphertext IS NULL) AND (nonce IS NULL) = (key_id IS NULL))
);
