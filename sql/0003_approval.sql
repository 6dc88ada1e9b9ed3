-- 0003 approval: tool reviews bound to code hashes, module and network-access
-- requests, the security policy settings, and the revision of the approval
-- view. Owned and written only by the approval actor (actors/approval/).
--
-- tool_id and server_id are the registry's ids as plain TEXT: the registry
-- owns those tables, so there are no foreign keys into them. Times are
-- ISO-8601 UTC strings ('2026-11-29T05:40:00.123Z').

-- One row per (tool, code hash) that was ever submitted. A tool's approval
-- status is the status of the row for its *current* code hash, or draft
-- when there is none; an edit (new hash) therefore needs a new review, and a
-- rollback to approved code is approved again.
CREATE TABLE tool_reviews (
    id               TEXT    PRIMARY KEY,           -- UUID v4
    tool_id          TEXT    NOT NULL,              -- registry tool id
    server_id        TEXT    NOT NULL,              -- registry server id
    tool_name        TEXT    NOT NULL,              -- as reported when submitted
    code_hash        TEXT    NOT NULL CHECK (length (code_hash) = 64),
    status           TEXT    NOT NULL
                     CHECK (status IN ('pending_review', 'approved', 'rejected')),
    publish_notes    TEXT,
    requested_by     TEXT    NOT NULL,
    requested_at     TEXT    NOT NULL,
    approved_at      TEXT,
    approved_by      TEXT,                          -- "auto_approve" in that mode
    rejected_at      TEXT,
    rejected_by      TEXT,
    rejection_reason TEXT,
    revoked_at       TEXT,                          -- last revocation, if any
    revoked_by       TEXT,
    updated_at       TEXT    NOT NULL,
    UNIQUE (tool_id, code_hash)
);
-- At most one review of a tool is pending: publishing new code supersedes
-- an older pending review, so "approve tool X" is never ambiguous.
CREATE UNIQUE INDEX tool_reviews_one_pending
    ON tool_reviews (tool_id) WHERE status = 'pending_review';
CREATE INDEX tool_reviews_status ON tool_reviews (status, requested_at);

-- Extra Python modules for a server's tools. tool_id is NULL for entries the
-- admin added directly (requested_by 'admin', recorded as approved).
CREATE TABLE module_requests (
    id               TEXT    PRIMARY KEY,           -- UUID v4
    tool_id          TEXT,
    server_id        TEXT    NOT NULL,
    module_name      TEXT    NOT NULL
                     CHECK (length (module_name) BETWEEN 1 AND 128),
    justification    TEXT    NOT NULL,
    requested_by     TEXT    NOT NULL,
    status           TEXT    NOT NULL
                     CHECK (status IN ('pending', 'approved', 'rejected')),
    reviewed_at      TEXT,
    reviewed_by      TEXT,                          -- "auto_approve" in that mode
    rejection_reason TEXT,
    revoked_at       TEXT,
    revoked_by       TEXT,
    created_at       TEXT    NOT NULL
);
CREATE UNIQUE INDEX module_requests_one_pending
    ON module_requests (tool_id, module_name)
    WHERE status = 'pending' AND tool_id IS NOT NULL;
CREATE INDEX module_requests_server ON module_requests (server_id, status);
CREATE INDEX module_requests_tool   ON module_requests (tool_id);

-- Hosts a server's tools may reach through the executor. port NULL means
-- every port (a port-less approval covers host:any).
CREATE TABLE network_requests (
    id               TEXT    PRIMARY KEY,           -- UUID v4
    tool_id          TEXT,
    server_id        TEXT    NOT NULL,
    host             TEXT    NOT NULL CHECK (length (host) BETWEEN 1 AND 253),
    port             INTEGER CHECK (port IS NULL OR port BETWEEN 1 AND 65535),
    justification    TEXT    NOT NULL,
    requested_by     TEXT    NOT NULL,
    status           TEXT    NOT NULL
                     CHECK (status IN ('pending', 'approved', 'rejected')),
    reviewed_at      TEXT,
    reviewed_by      TEXT,
    rejection_reason TEXT,
    revoked_at       TEXT,
    revoked_by       TEXT,
    created_at       TEXT    NOT NULL
);
CREATE UNIQUE INDEX network_requests_one_pending
    ON network_requests (tool_id, host, ifnull (port, 0))
    WHERE status = 'pending' AND tool_id IS NOT NULL;
CREATE INDEX network_requests_server ON network_requests (server_id, status);
CREATE INDEX network_requests_tool   ON network_requests (tool_id);

-- The security policy. A key without a row has its default (the most
-- restrictive value); the actor validates keys and values.
CREATE TABLE settings (
    key              TEXT    PRIMARY KEY,
    value            TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    updated_by       TEXT    NOT NULL
);

-- Revision of the approval view (`effective`), bumped in the same
-- transaction as every change, so it only grows, also across restarts.
CREATE TABLE approval_revision (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    revision         INTEGER NOT NULL
);
INSERT INTO approval_revision (id, revision) VALUES (1, 0);
