-- 0017 alert cursor: the last activity_log id the alerts actor has examined
-- (actors/alerts/catchup.c). Owned and written only by the alerts actor. At
-- start it asks logkeeper (logs activity.query) for the alerting types
-- recorded after this id, so that what was published while it was down
-- (killed, restarting) is still alerted. One row (id = 1).
CREATE TABLE alert_cursor (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    last_activity_id INTEGER NOT NULL CHECK (last_activity_id >= 0),
    updated_at       TEXT    NOT NULL
);
