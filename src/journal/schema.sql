-- flspost journal. One row per input version, per message built, per send attempt,
-- per receipt. Rows are never deleted; statuses only move forward.

CREATE TABLE inputs (
    id           INTEGER PRIMARY KEY,
    result_id    TEXT    NOT NULL,
    revision     INTEGER NOT NULL,          -- 0, then +1 per changed content
    input_json   TEXT    NOT NULL,          -- as received
    input_sha256 TEXT    NOT NULL,          -- of the canonical form (key order, spacing ignored)
    site         TEXT    NOT NULL,
    grp          TEXT    NOT NULL,
    cpr_masked   TEXT    NOT NULL,          -- DDMMYY-xxxx, for listings
    received_at  TEXT    NOT NULL,
    UNIQUE (result_id, revision)
);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    input_id         INTEGER NOT NULL REFERENCES inputs(id),
    result_id        TEXT    NOT NULL,
    kind             TEXT    NOT NULL CHECK (kind IN ('gp-xdis91', 'patient-memo', 'patient-kombi', 'gp-carecommunication')),
    content_sha256   TEXT    NOT NULL,      -- of the input fields this letter says
    letter_revision  INTEGER NOT NULL,
    letter_id        TEXT    NOT NULL,      -- XDIS91 Letter/Identifier, FHIR MessageHeader.id or MeMo messageUUID
    envelope_id      TEXT,                  -- XDIS91 Envelope/Identifier or FHIR Bundle.id
    attempt          INTEGER NOT NULL,      -- 1, then +1 per regeneration (new envelope)
    status_code      TEXT    NOT NULL,      -- nytbrev | rettetbrev
    status           TEXT    NOT NULL CHECK (status IN
                       ('generated', 'retry', 'sent', 'failed', 'acknowledged', 'rejected', 'superseded')),
    reason           TEXT,                  -- why failed / rejected / superseded
    refuse_code      TEXT,                  -- MedCom RefuseCode of a negative receipt
    send_failures    INTEGER NOT NULL DEFAULT 0,
    sha256           TEXT    NOT NULL,      -- of the bytes in message_bytes
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    regenerated_from INTEGER REFERENCES messages(id),   -- the message this one resends
    replaces         INTEGER REFERENCES messages(id),   -- the earlier letter this one corrects
    UNIQUE (kind, letter_id, attempt)
);
-- The exact bytes of each message, apart from its row: listing and deciding never read them.
CREATE TABLE message_bytes (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id),
    bytes      BLOB NOT NULL
);

CREATE UNIQUE INDEX messages_envelope ON messages(envelope_id) WHERE envelope_id IS NOT NULL;
CREATE INDEX messages_result ON messages(result_id, kind);
CREATE INDEX messages_status ON messages(status);
CREATE INDEX messages_regenerated ON messages(regenerated_from) WHERE regenerated_from IS NOT NULL;

CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES messages(id),
    envelope_id TEXT,
    transport   TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    outcome     TEXT    CHECK (outcome IN ('sent', 'transient', 'permanent', 'interrupted', 'unknown')),
    reason      TEXT
);
CREATE INDEX attempts_message ON attempts(message_id);

CREATE TABLE receipts (
    id                   INTEGER PRIMARY KEY,
    receipt_type         TEXT NOT NULL,     -- XCTL01 | XCTL02 | XCTL03
    envelope_id          TEXT NOT NULL,     -- the receipt's own identifiers
    letter_id            TEXT NOT NULL,
    original_envelope_id TEXT NOT NULL,
    original_letter_id   TEXT NOT NULL,     -- '' when the receipt names no letter
    message_id           INTEGER REFERENCES messages(id),  -- NULL: no such envelope sent
    refuse_code          TEXT,
    refuse_text          TEXT,
    outcome              TEXT NOT NULL,     -- what flspost did with it
    bytes                BLOB NOT NULL,
    received_at          TEXT NOT NULL,
    UNIQUE (envelope_id, letter_id, original_envelope_id, original_letter_id)
);
-- Every Acknowledgement looks up the earlier ones for its letter; a FHIR row's
-- original_letter_id is stored in lower case, so the lookup needs no lower(). (A letter's
-- transmissions, messages(kind, letter_id), are found by the UNIQUE (kind, letter_id, attempt)
-- index.)
CREATE INDEX receipts_original_letter ON receipts(original_letter_id);
CREATE INDEX receipts_message ON receipts(message_id) WHERE message_id IS NOT NULL;
