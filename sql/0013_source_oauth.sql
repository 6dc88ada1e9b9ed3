-- 0013 source OAuth: MCPbox as an OAuth 2.1 client of external MCP sources
-- (DESIGN.md section 14). Owned and written only by the credentials actor
-- (actors/credentials/source_oauth_store.c); the executor does the HTTP.
--
-- Every secret field is a box: a 24-byte nonce followed by the
-- XChaCha20-Poly1305 ciphertext under the master key named by the row's
-- key_id, with "source_oauth:<source_id>:<field>" as associated data, so a
-- box copied to another source or another field does not open. key_id is
-- NULL exactly when the row holds no box. Key rotation re-seals these rows
-- with server_secrets, in the same transaction (secrets_store.c).
--
-- The OAuth `state` is kept only as a keyed BLAKE2b-256 (the remote tokens'
-- hash key, remote_tokens.c), so the database alone cannot match a callback.
-- Times: *_ms are unix milliseconds, created_at/updated_at unix seconds.

-- An authorization started by `mcpbox sources authorize`: one per source,
-- single use (the callback's `pending` deletes it), 10 minutes at most.
CREATE TABLE source_oauth_pending (
    source_id           TEXT    PRIMARY KEY CHECK (length (source_id) BETWEEN 1 AND 64),
    state_hash          BLOB    NOT NULL UNIQUE CHECK (length (state_hash) = 32),
    server_id           TEXT    NOT NULL CHECK (length (server_id) BETWEEN 1 AND 64),
    client_id           TEXT    NOT NULL CHECK (length (client_id) BETWEEN 1 AND 512),
    issuer              TEXT    NOT NULL CHECK (length (issuer) BETWEEN 1 AND 2048),
    token_endpoint      TEXT    NOT NULL CHECK (length (token_endpoint) BETWEEN 1 AND 2048),
    revocation_endpoint TEXT    CHECK (length (revocation_endpoint) BETWEEN 1 AND 2048),
    resource            TEXT    NOT NULL CHECK (length (resource) BETWEEN 1 AND 2048),
    redirect_uri        TEXT    NOT NULL CHECK (length (redirect_uri) BETWEEN 1 AND 2048),
    scope               TEXT    CHECK (length (scope) BETWEEN 1 AND 1024),
    verifier_box        BLOB    NOT NULL,
    client_secret_box   BLOB,
    key_id              BLOB    NOT NULL CHECK (length (key_id) = 8),
    created_at          INTEGER NOT NULL,
    expires_at_ms       INTEGER NOT NULL
);
CREATE INDEX source_oauth_pending_expires ON source_oauth_pending (expires_at_ms);

-- A source's tokens. A refresh the authorization server refused drops the
-- boxes and keeps the row (needs_authorization, last_error) for the status.
-- The refresh lease: a BLAKE2b-256 of the lease text handed to the one
-- caller that refreshes, until lease_until_ms (then another may take it).
CREATE TABLE source_oauth_tokens (
    source_id           TEXT    PRIMARY KEY CHECK (length (source_id) BETWEEN 1 AND 64),
    server_id           TEXT    NOT NULL CHECK (length (server_id) BETWEEN 1 AND 64),
    client_id           TEXT    NOT NULL CHECK (length (client_id) BETWEEN 1 AND 512),
    token_endpoint      TEXT    NOT NULL CHECK (length (token_endpoint) BETWEEN 1 AND 2048),
    revocation_endpoint TEXT    CHECK (length (revocation_endpoint) BETWEEN 1 AND 2048),
    resource            TEXT    NOT NULL CHECK (length (resource) BETWEEN 1 AND 2048),
    scope               TEXT    CHECK (length (scope) BETWEEN 1 AND 1024),
    client_secret_box   BLOB,
    access_box          BLOB,
    refresh_box         BLOB,
    key_id              BLOB    CHECK (key_id IS NULL OR length (key_id) = 8),
    expires_at_ms       INTEGER,
    lease_hash          BLOB    CHECK (lease_hash IS NULL OR length (lease_hash) = 32),
    lease_until_ms      INTEGER,
    needs_authorization INTEGER NOT NULL DEFAULT 0 CHECK (needs_authorization IN (0, 1)),
    last_error          TEXT    CHECK (last_error IS NULL OR length (last_error) <= 1000),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    CHECK ((key_id IS NULL) = (access_box IS NULL AND refresh_box IS NULL
                               AND client_secret_box IS NULL)),
    CHECK (needs_authorization = 1 OR access_box IS NOT NULL)
);
