-- flspost journal. One row per input version, per message built, per send attempt,
-- per receipt. Rows are never deleted (`journal erase` empties a patient's); statuses only move forward.

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
    erased_at    TEXT,                      -- schema 5: `journal erase` replaced the patient's data
    pruned_at    TEXT,                      -- retention removed input_json (now ''), when
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
    handled_at       TEXT,                  -- a person closed its problem (when, who, why)
    handled_by       TEXT,
    handled_note     TEXT,
    erased_at        TEXT,                  -- schema 5: `journal erase` removed its bytes
    pruned_at        TEXT,                  -- retention removed its message_bytes row, when
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
CREATE INDEX messages_replaces ON messages(replaces) WHERE replaces IS NOT NULL;
CREATE INDEX messages_updated ON messages(updated_at);
-- Search by the patient's CPR number (an exact match on the stored input) and by GP.
CREATE INDEX inputs_cpr ON inputs((CASE WHEN json_valid(input_json) THEN json_extract(input_json, '$.patient.cpr') END));
CREATE INDEX inputs_gp ON inputs((CASE WHEN json_valid(input_json) THEN json_extract(input_json, '$.gp.ean') END));

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
CREATE INDEX attempts_transport ON attempts(transport, id);

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

-- An input `generate` refused, kept so that "what failed today" finds it: closed when a later
-- input for the same result is recorded (`closed_by`), or by a person (`handled_*`).
CREATE TABLE refused_inputs (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,          -- `path`, `path:line` or `-` as the caller named it
    result_id    TEXT,                      -- when the input names one readably
    field        TEXT    NOT NULL,          -- the field refused; `input` for the document
    reason       TEXT    NOT NULL,
    input_bytes  BLOB    NOT NULL,          -- as received (empty when it could not be read)
    input_sha256 TEXT    NOT NULL,
    received_at  TEXT    NOT NULL,
    closed_by    INTEGER REFERENCES inputs(id),
    handled_at   TEXT,
    handled_by   TEXT,
    handled_note TEXT
);
CREATE INDEX refused_inputs_result ON refused_inputs(result_id) WHERE result_id IS NOT NULL;
CREATE INDEX refused_inputs_received ON refused_inputs(received_at);

-- Who did what a person asked for: a problem closed by hand, a CPR shown, stored bytes or an
-- input written out. Never the CPR itself.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    who     TEXT NOT NULL,
    action  TEXT NOT NULL,                  -- handle | reveal-cpr | export-input | export-bytes | ...
    target  TEXT NOT NULL,                  -- `message 17`, `refused 3`
    detail  TEXT
);
-- A person's closing of a problem holds for the state it was closed in: when the message
-- moves on (a handled retry is rejected later), its new state is a problem of its own.
CREATE TRIGGER messages_handled_until_changed AFTER UPDATE OF status ON messages
  WHEN NEW.status <> OLD.status AND NEW.handled_at IS NOT NULL
  BEGIN UPDATE messages SET handled_at = NULL, handled_by = NULL, handled_note = NULL WHERE id = NEW.id; END;
-- (end of what schema 5 added)

-- Schema 6: what several messages of a result carry (the patient's PDF: in the MeMo or
-- kombi request, and in the GP's CareCommunication) is stored once; such a message's
-- message_bytes row holds a recipe that makes its exact bytes from literal runs and these
-- parts (src/journal/packing.rs).
CREATE TABLE parts (
    id         INTEGER PRIMARY KEY,
    result_id  TEXT NOT NULL,               -- a result's messages share its parts
    bytes      BLOB NOT NULL
);
CREATE INDEX parts_result ON parts(result_id);
-- Which parts each message's recipe uses: a part goes when no message uses it.
CREATE TABLE message_parts (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    part_id    INTEGER NOT NULL REFERENCES parts(id),
    PRIMARY KEY (message_id, part_id)
) WITHOUT ROWID;
CREATE INDEX message_parts_part ON message_parts(part_id);
-- The console's people (`flspost user`, `flspost serve`): a name, a role and an argon2id hash
-- (a PHC string), never a password. A person removed keeps their rows in the audit log.
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    changed_at    TEXT NOT NULL
);
-- Where a person acted from: the console client's address; NULL for the command line.
ALTER TABLE audit ADD COLUMN origin TEXT;
-- The summary's transport health without a time window: counted over this index, not the
-- attempts' rows, and each transport's last success found in it.
CREATE INDEX attempts_health ON attempts(transport, outcome, finished_at);
-- (end of what schema 6 added)

-- Schema 6: facts about the journal itself. `revision_floor`: set when a journal is first
-- written after it was restored from a backup (src/journal/restore.rs).
CREATE TABLE journal_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- (end of the journal's facts)
