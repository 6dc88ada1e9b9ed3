-- 0001 foundation: facts about this installation, owned by the mcpbox CLI.
-- Actor tables arrive with the actors that own them (see docs/ARCHITECTURE.md).
CREATE TABLE installation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    install_id  TEXT    NOT NULL,              -- random, hex
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO installation (id, install_id) VALUES (1, lower(hex(randomblob(16))));
