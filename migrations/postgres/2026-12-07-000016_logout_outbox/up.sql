-- Back-channel logout deliveries still owed, one row per ended session and
-- service it signed into. An instance that claims an `ended_sessions` note
-- turns it into these rows in the same transaction, so a note is never lost
-- between being claimed and being delivered. A row is deleted when the
-- service answers 200 or 204, or after the attempt at or past `give_up_at`.
--
-- `jti` is the logout token's, the same on every attempt: a receiver that
-- got an earlier attempt recognises the retry. `uri` and `public_only` are
-- the service's receiver and whether idhub may call it on public addresses
-- only, as they were when the session ended. An instance leases a due row by
-- counting the attempt and moving `next_attempt_at` past the delivery
-- timeout; whoever's update changes the row sends it. No foreign key on
-- `user_id`: a user deleted after the session ended is still signed out at
-- the services.
CREATE TABLE logout_outbox (
    jti TEXT PRIMARY KEY NOT NULL,
    sid TEXT NOT NULL,
    user_id TEXT NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    uri TEXT NOT NULL,
    public_only BOOLEAN NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    give_up_at TIMESTAMP NOT NULL,
    created TIMESTAMP NOT NULL
);
CREATE INDEX logout_outbox_due ON logout_outbox (next_attempt_at);
CREATE INDEX logout_outbox_service ON logout_outbox (service_id);
