-- 0005 logs: the execution log and the activity log. Owned and written only
-- by the logkeeper actor (actors/logkeeper/); every other process hands it
-- records through its log spool (common/logspool.c, op `ingest`).
--
-- record_id is the publisher's id for a record ("<16 hex>-<sequence>"):
-- UNIQUE, and rows are inserted with INSERT OR IGNORE, so a batch sent again
-- after a lost acknowledgement writes nothing twice. id orders rows as they
-- were written and is the cursor of every query. created_at is when the
-- publisher made the record, ingested_at when logkeeper wrote it (ISO-8601
-- UTC, '2026-11-29T05:40:00.123Z'); retention prunes on created_at.
--
-- Redaction and truncation are applied before a row is written (actors/
-- logkeeper/ingest.c): input_args has the values of secret-looking keys
-- replaced by "[REDACTED]"; result and stdout are at most 10 KB and error
-- 5 KB plus a marker. The CHECKs are the last line, not the first.

CREATE TABLE execution_logs (
    id           INTEGER PRIMARY KEY,
    record_id    TEXT    NOT NULL UNIQUE CHECK (length (record_id) BETWEEN 1 AND 64),
    source       TEXT    NOT NULL CHECK (length (source) BETWEEN 1 AND 64),
    tool_id      TEXT    CHECK (tool_id IS NULL OR length (tool_id) <= 64),
    tool_name    TEXT,
    server_id    TEXT    CHECK (server_id IS NULL OR length (server_id) <= 64),
    server_name  TEXT,
    request_id   TEXT,
    client_name  TEXT,
    session_id   TEXT,
    input_args   TEXT    CHECK (input_args IS NULL OR json_valid (input_args)),
    result       TEXT,
    stdout       TEXT,
    error        TEXT,
    duration_ms  INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    success      INTEGER NOT NULL CHECK (success IN (0, 1)),
    is_test      INTEGER NOT NULL DEFAULT 0 CHECK (is_test IN (0, 1)),
    executed_by  TEXT,
    created_at   TEXT    NOT NULL,
    ingested_at  TEXT    NOT NULL
);
CREATE INDEX execution_logs_tool    ON execution_logs (tool_id, id);
CREATE INDEX execution_logs_server  ON execution_logs (server_id, id);
CREATE INDEX execution_logs_created ON execution_logs (created_at);

CREATE TABLE activity_log (
    id           INTEGER PRIMARY KEY,
    record_id    TEXT    NOT NULL UNIQUE CHECK (length (record_id) BETWEEN 1 AND 64),
    source       TEXT    NOT NULL CHECK (length (source) BETWEEN 1 AND 64),
    type         TEXT    NOT NULL CHECK (length (type) BETWEEN 1 AND 64),
    level        TEXT    NOT NULL CHECK (level IN ('debug', 'info', 'warning', 'error')),
    server_id    TEXT    CHECK (server_id IS NULL OR length (server_id) <= 64),
    message      TEXT    NOT NULL,
    details      TEXT    CHECK (details IS NULL OR json_valid (details)),
    created_at   TEXT    NOT NULL,
    ingested_at  TEXT    NOT NULL
);
CREATE INDEX activity_log_type    ON activity_log (type, id);
CREATE INDEX activity_log_server  ON activity_log (server_id, id);
CREATE INDEX activity_log_created ON activity_log (created_at);
