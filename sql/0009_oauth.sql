-- 0009 oauth: MCPbox as the OAuth 2.1 authorization server of its own /mcp
-- (clients that speak the MCP authorization spec: claude.ai connectors, the
-- MCP SDK's OAuth client). Owned and written only by the credentials actor
-- (actors/credentials/oauth_*.c).
--
-- Every code and token is 256 random bits shown once; only BLAKE2b-256 of
-- the raw bytes is stored (as the sessions table does). Times are unix
-- seconds. user_id is the admin who approved (admin_users.id).

-- Clients: registered dynamically (RFC 7591, kind 'dcr', client_id made
-- here) or known by a Client ID Metadata Document (kind 'cimd', client_id
-- is the document's https URL; the row caches what the document said when
-- it was last fetched). redirect_uris: one URI per line, each checked
-- (https, or http on a loopback host). approved_at: last consent.
CREATE TABLE oauth_clients (
    id            INTEGER PRIMARY KEY,
    client_id     TEXT    NOT NULL UNIQUE CHECK (length (client_id) BETWEEN 1 AND 512),
    kind          TEXT    NOT NULL CHECK (kind IN ('dcr', 'cimd')),
    client_name   TEXT    NOT NULL CHECK (length (client_name) BETWEEN 1 AND 400),
    redirect_uris TEXT    NOT NULL CHECK (length (redirect_uris) BETWEEN 1 AND 8192),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    approved_at   INTEGER
);

-- An authorization request waiting for the admin's consent (the consent
-- page's form carries `request`; its CSRF token rides in a cookie).
CREATE TABLE oauth_requests (
    id             INTEGER PRIMARY KEY,
    request_hash   BLOB    NOT NULL UNIQUE,
    csrf_hash      BLOB    NOT NULL,
    client_id      TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL CHECK (length (redirect_uri) <= 2048),
    code_challenge TEXT    NOT NULL CHECK (length (code_challenge) = 43),
    resource       TEXT    NOT NULL CHECK (length (resource) <= 2048),
    scope          TEXT    NOT NULL DEFAULT '' CHECK (length (scope) <= 1024),
    state          TEXT    NOT NULL DEFAULT '' CHECK (length (state) <= 1024),
    expires_at     INTEGER NOT NULL
);
CREATE INDEX oauth_requests_expires ON oauth_requests (expires_at);

-- Authorization codes: single use, short-lived, bound to the client, the
-- redirect URI, the PKCE challenge (S256) and the resource. family: the
-- token family the code was exchanged for (a second exchange revokes it).
CREATE TABLE oauth_codes (
    id             INTEGER PRIMARY KEY,
    code_hash      BLOB    NOT NULL UNIQUE,
    client_id      TEXT    NOT NULL,
    user_id        INTEGER NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    resource       TEXT    NOT NULL,
    scope          TEXT    NOT NULL DEFAULT '',
    expires_at     INTEGER NOT NULL,
    used           INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    family         BLOB
);
CREATE INDEX oauth_codes_client ON oauth_codes (client_id);

-- Access + refresh token pairs. A refresh rotates: the row is marked
-- rotated and a new row of the same family is made; a rotated refresh
-- token presented again revokes the whole family (reuse detection).
-- resource is the audience (RFC 8707) the access token is good for.
CREATE TABLE oauth_tokens (
    id              INTEGER PRIMARY KEY,
    family          BLOB    NOT NULL,
    client_id       TEXT    NOT NULL,
    user_id         INTEGER NOT NULL,
    resource        TEXT    NOT NULL,
    scope           TEXT    NOT NULL DEFAULT '',
    access_hash     BLOB    NOT NULL UNIQUE,
    refresh_hash    BLOB    NOT NULL UNIQUE,
    access_expires  INTEGER NOT NULL,
    refresh_expires INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER,
    rotated         INTEGER NOT NULL DEFAULT 0 CHECK (rotated IN (0, 1)),
    revoked         INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family);
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);
CREATE INDEX oauth_tokens_refresh_expires ON oauth_tokens (refresh_expires);
