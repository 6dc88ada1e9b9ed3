-- 0016 alert outbox: webhook deliveries not yet in a final state (actors/alerts/
-- outbox.c). Owned and written only by the alerts actor. A delivery is written
-- here before the sender queues it and deleted when it reaches a final state
-- (delivered, refused with a final status, or out of attempts); at start-up
-- the actor queues again what is left, with its attempt count and due time,
-- so a kill or restart while a delivery waits for a retry loses nothing.
-- At most alerts_queue_max rows (beyond: dropped and counted, as the queue).
--
-- body: the rendered request (the alert's whitelisted facts, redacted; its
-- `id` in the json format is this row's id, the receiver's idempotency key).
-- The URL is not copied: it is read from alert_hooks when queued again (a
-- removed hook's rows are deleted then, and counted as failed).
-- due_ms: unix ms of the next attempt; attempts: made so far.
CREATE TABLE alert_outbox (
    id          TEXT    PRIMARY KEY,
    hook_id     TEXT    NOT NULL,
    body        TEXT    NOT NULL CHECK (length (body) <= 65536),
    attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    due_ms      INTEGER NOT NULL,
    created_at  TEXT    NOT NULL
);
