-- 0012 external MCP sources: their health, owned by the registry like the
-- rest of external_mcp_sources (sql/0002_registry.sql).
--
--   last_contact_at   the last time the source answered (discover, ping)
--   last_error        why the last conversation failed (NULL after a success)
--   last_error_at     when it failed
--   protocol_version  the MCP version the source answered with
--
-- An imported (mcp_passthrough) tool keeps its remote definition in its own
-- row: description, input_schema, and code_hash = SHA-256 of the canonical
-- definition (source, remote name, description, schema), so approval is
-- bound to exactly what the reviewer saw, and a rediscovery that finds the
-- remote tool changed writes a new version the reviewer must approve again.
ALTER TABLE external_mcp_sources ADD COLUMN last_contact_at TEXT;
ALTER TABLE external_mcp_sources ADD COLUMN last_error TEXT
    CHECK (last_error IS NULL OR length (last_error) <= 1000);
ALTER TABLE external_mcp_sources ADD COLUMN last_error_at TEXT;
ALTER TABLE external_mcp_sources ADD COLUMN protocol_version TEXT
    CHECK (protocol_version IS NULL OR length (protocol_version) <= 16);
CREATE INDEX external_sources_server ON external_mcp_sources (server_id, created_at);
