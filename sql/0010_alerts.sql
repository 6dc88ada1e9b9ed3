-- 0010 alerts: the webhooks the admin set (actors/alerts/). Owned and written
-- only by the alerts actor; set only through its bus ops, which the CLI
-- (`mcpbox alerts add|remove`) uses. No management tool and no /api route
-- reaches them: a tool or the LLM can never add or change a URL.
--
-- url: http(s), at most 2048 bytes. A Slack or Discord webhook URL is a
-- credential of that channel: it is never shown whole (hook.list shows
-- scheme, host and the first characters of the path) and never logged.
-- events: the alert names delivered, comma-separated, or '*' for all.
CREATE TABLE alert_hooks (
    id          TEXT    PRIMARY KEY,
    url         TEXT    NOT NULL CHECK (length (url) BETWEEN 8 AND 2048),
    format      TEXT    NOT NULL CHECK (format IN ('json', 'slack', 'discord')),
    events      TEXT    NOT NULL DEFAULT '*' CHECK (length (events) <= 512),
    created_at  TEXT    NOT NULL,
    created_by  TEXT    NOT NULL DEFAULT 'admin'
);
