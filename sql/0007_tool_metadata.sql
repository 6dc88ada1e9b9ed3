-- 0007 tool metadata a modern MCP client shows and uses (docs/DESIGN.md,
-- "Tool metadata"). Two owners, each writing only its own tables:
--
-- registry (tools, tool_versions): what a version of a tool says of itself.
--   title                 a human-readable name, set by whoever wrote the
--                         version ('' = none; clients show the name)
--   output_schema         JSON Schema of main's result, derived by the
--                         sandbox from main's return annotation (NULL = none)
--   suggested_annotations the behaviour hints the LLM suggested for this
--                         version (canonical JSON, proto/tool_hints.h); shown
--                         to the reviewer, never to MCP clients
--
-- approval (tool_reviews): annotations the admin set when approving that
--   code hash (NULL = none set). Only these reach tools/list, so a rollback
--   to approved code carries what was approved with it, and new code has
--   none until it is reviewed.
ALTER TABLE tools ADD COLUMN title TEXT NOT NULL DEFAULT ''
    CHECK (length (title) <= 200);
ALTER TABLE tools ADD COLUMN output_schema TEXT
    CHECK (output_schema IS NULL
           OR (json_valid (output_schema) AND json_type (output_schema) = 'object'));
ALTER TABLE tools ADD COLUMN suggested_annotations TEXT
    CHECK (suggested_annotations IS NULL
           OR (json_valid (suggested_annotations)
               AND json_type (suggested_annotations) = 'object'));

ALTER TABLE tool_versions ADD COLUMN title TEXT NOT NULL DEFAULT ''
    CHECK (length (title) <= 200);
ALTER TABLE tool_versions ADD COLUMN output_schema TEXT
    CHECK (output_schema IS NULL
           OR (json_valid (output_schema) AND json_type (output_schema) = 'object'));
ALTER TABLE tool_versions ADD COLUMN suggested_annotations TEXT
    CHECK (suggested_annotations IS NULL
           OR (json_valid (suggested_annotations)
               AND json_type (suggested_annotations) = 'object'));

ALTER TABLE tool_reviews ADD COLUMN annotations TEXT
    CHECK (annotations IS NULL
           OR (json_valid (annotations) AND json_type (annotations) = 'object'));
