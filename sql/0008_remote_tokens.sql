-- 0008 remote tokens: the service tokens that let a client reach /mcp on the
-- gateway's remote listener (the port the tunnel forwards). Owned and
-- written only by the credentials actor (actors/credentials/remote_tokens.c).
--
-- A token is shown once, when it is made; only a keyed BLAKE2b-256 of its
-- text is kept (token_hash). The hash key is 32 random bytes sealed under
-- the master key like every secret value (server_secrets, owner
-- 'credentials', key REMOTE_TOKEN_HASH_KEY), so a copy of the database
-- alone cannot even test a guessed token. docs/SECURITY.md says why a fast
-- keyed hash, not Argon2id, is right for 256-bit random tokens.
--
-- Revoking keeps the row (revoked_at) for the record; a name is unique
-- among the live tokens only, so it can be used again after a revoke.
-- Times are unix seconds. last_used_at is written at most once a minute.
CREATE TABLE remote_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL CHECK (length (name) BETWEEN 1 AND 64),
    token_hash   BLOB    NOT NULL UNIQUE CHECK (length (token_hash) = 32),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX remote_tokens_live_name ON remote_tokens (name COLLATE NOCASE)
    WHERE revoked_at IS NULL;
