-- 0002 registry: servers, tools, tool versions, external MCP sources and the
-- catalog revision. Owned and written only by the registry actor
-- (actors/registry/); other actors ask it over the bus (docs/BUS_OPS.md).
--
-- Ids are UUID v4 text (lower-case, 36 characters). Times are ISO-8601 UTC
-- strings ('2026-11-29T05:40:00.123Z'). Lengths below are in characters,
-- except python_code, which is bounded in bytes. The actor validates every
-- value before it gets here; the CHECKs are the last line, not the first.

-- A named group of tools. Tools of a running server are in the catalog.
CREATE TABLE servers (
    id                 TEXT    PRIMARY KEY CHECK (length (id) = 36),
    name               TEXT    NOT NULL UNIQUE
                       CHECK (length (name) BETWEEN 1 AND 64
                              AND name GLOB '[a-z]*'
                              AND name NOT GLOB '*[^a-z0-9_]*'
                              AND instr (name, '__') = 0),
    description        TEXT    NOT NULL DEFAULT ''
                       CHECK (length (description) <= 2000),
    status             TEXT    NOT NULL DEFAULT 'ready'
                       CHECK (status IN ('ready', 'running', 'stopped', 'error')),
    default_timeout_ms INTEGER NOT NULL DEFAULT 30000
                       CHECK (default_timeout_ms BETWEEN 1000 AND 300000),
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL
);
CREATE INDEX servers_created ON servers (created_at);

-- Another MCP server whose tools can be imported as mcp_passthrough tools.
-- Its credentials (bearer secret, OAuth state and tokens) are not here: they
-- belong to the credentials actor, keyed by this id.
CREATE TABLE external_mcp_sources (
    id                 TEXT    PRIMARY KEY CHECK (length (id) = 36),
    server_id          TEXT    NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    name               TEXT    NOT NULL CHECK (length (name) BETWEEN 1 AND 255),
    url                TEXT    NOT NULL
                       CHECK (length (url) BETWEEN 1 AND 2048
                              AND (url GLOB 'http://?*' OR url GLOB 'https://?*')),
    auth_type          TEXT    NOT NULL DEFAULT 'none'
                       CHECK (auth_type IN ('none', 'bearer', 'header', 'oauth')),
    auth_secret_name   TEXT    CHECK (auth_secret_name IS NULL
                                      OR length (auth_secret_name) BETWEEN 1 AND 255),
    auth_header_name   TEXT    CHECK (auth_header_name IS NULL
                                      OR length (auth_header_name) BETWEEN 1 AND 255),
    transport_type     TEXT    NOT NULL DEFAULT 'streamable_http'
                       CHECK (transport_type IN ('streamable_http', 'sse')),
    status             TEXT    NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'error', 'disabled')),
    tool_count         INTEGER NOT NULL DEFAULT 0 CHECK (tool_count >= 0),
    discovered_tools   TEXT    CHECK (discovered_tools IS NULL
                                      OR (json_valid (discovered_tools)
                                          AND json_type (discovered_tools) = 'array')),
    last_discovered_at TEXT,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    UNIQUE (server_id, name)
);

-- A tool: Python code run in the sandbox, or a call passed through to an
-- external source. code_hash is the lower-case hex SHA-256 of python_code
-- (approval is bound to it); a passthrough tool hashes its definition.
CREATE TABLE tools (
    id                 TEXT    PRIMARY KEY CHECK (length (id) = 36),
    server_id          TEXT    NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    name               TEXT    NOT NULL
                       CHECK (length (name) BETWEEN 1 AND 255
                              AND name GLOB '[a-z]*'
                              AND name NOT GLOB '*[^a-z0-9_]*'),
    description        TEXT    NOT NULL DEFAULT ''
                       CHECK (length (description) <= 2000),
    input_schema       TEXT    NOT NULL
                       CHECK (json_valid (input_schema)
                              AND json_type (input_schema) = 'object'),
    enabled            INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    timeout_ms         INTEGER NOT NULL DEFAULT 30000
                       CHECK (timeout_ms BETWEEN 1000 AND 300000),
    tool_type          TEXT    NOT NULL DEFAULT 'python_code'
                       CHECK (tool_type IN ('python_code', 'mcp_passthrough')),
    python_code        TEXT    CHECK (python_code IS NULL
                                      OR length (CAST (python_code AS BLOB)) <= 102400),
    code_hash          TEXT    NOT NULL
                       CHECK (length (code_hash) = 64
                              AND code_hash NOT GLOB '*[^0-9a-f]*'),
    external_source_id TEXT    REFERENCES external_mcp_sources (id) ON DELETE CASCADE,
    external_tool_name TEXT    CHECK (external_tool_name IS NULL
                                      OR length (external_tool_name) BETWEEN 1 AND 255),
    current_version    INTEGER NOT NULL DEFAULT 1 CHECK (current_version >= 1),
    created_by         TEXT    NOT NULL DEFAULT 'llm'
                       CHECK (created_by IN ('llm', 'admin')),
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    UNIQUE (server_id, name),
    CHECK ((tool_type = 'python_code' AND python_code IS NOT NULL)
        OR (tool_type = 'mcp_passthrough' AND external_source_id IS NOT NULL
            AND external_tool_name IS NOT NULL))
);
CREATE INDEX tools_server ON tools (server_id, created_at);
CREATE INDEX tools_source ON tools (external_source_id)
    WHERE external_source_id IS NOT NULL;
-- the catalog query: enabled tools, joined to running servers
CREATE INDEX tools_enabled ON tools (server_id) WHERE enabled = 1;

-- Every real change to a tool is a version: a full snapshot of what the
-- tool was after the change, with why. Rollback copies an old snapshot
-- into the tool and records it as a new version (change_source 'rollback').
CREATE TABLE tool_versions (
    tool_id            TEXT    NOT NULL REFERENCES tools (id) ON DELETE CASCADE,
    version            INTEGER NOT NULL CHECK (version >= 1),
    name               TEXT    NOT NULL CHECK (length (name) BETWEEN 1 AND 255),
    description        TEXT    NOT NULL DEFAULT ''
                       CHECK (length (description) <= 2000),
    enabled            INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    timeout_ms         INTEGER NOT NULL CHECK (timeout_ms BETWEEN 1000 AND 300000),
    python_code        TEXT    CHECK (python_code IS NULL
                                      OR length (CAST (python_code AS BLOB)) <= 102400),
    code_hash          TEXT    NOT NULL
                       CHECK (length (code_hash) = 64
                              AND code_hash NOT GLOB '*[^0-9a-f]*'),
    input_schema       TEXT    NOT NULL
                       CHECK (json_valid (input_schema)
                              AND json_type (input_schema) = 'object'),
    change_summary     TEXT    NOT NULL DEFAULT ''
                       CHECK (length (change_summary) <= 2000),
    change_source      TEXT    NOT NULL
                       CHECK (change_source IN ('manual', 'llm', 'import', 'rollback')),
    created_at         TEXT    NOT NULL,
    PRIMARY KEY (tool_id, version)
);

-- Revision of the catalog, bumped in the same transaction as every change
-- that can alter it, so it only grows, also across restarts.
CREATE TABLE registry_revision (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    revision           INTEGER NOT NULL CHECK (revision >= 0)
);
INSERT INTO registry_revision (id, revision) VALUES (1, 0);
