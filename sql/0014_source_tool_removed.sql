-- 0014 an imported tool that its external source no longer lists.
--
--   removed_at   when a rediscovery found the source no longer offers the
--                tool (NULL while it does). Such a tool stays, with its
--                versions and approvals, but is not in the catalog's callable
--                tools: tools/list omits it and a call is refused with
--                "removed at the source". A later discovery that finds it
--                again clears it; if its definition changed meanwhile, the
--                new version needs approval as any change from the source.
ALTER TABLE tools ADD COLUMN removed_at TEXT
    CHECK (removed_at IS NULL OR tool_type = 'mcp_passthrough');
