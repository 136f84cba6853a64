-- callpark's schema: tenants, their agents and call legs, parked calls kept as history, and the
-- per-organisation event log that live lot views resume from.
--
-- Enumerations are text with CHECK constraints rather than Postgres enums: adding a value is then
-- one constraint swap, and diesel needs no custom SQL types.

CREATE TABLE organisations (
    slug text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    lot_size integer NOT NULL CHECK (lot_size BETWEEN 1 AND 999),
    hold_music_url text,
    announcement text NOT NULL,
    voice text,
    max_park_seconds bigint NOT NULL CHECK (max_park_seconds >= 0),
    timeout_action text NOT NULL CHECK (timeout_action IN ('ringback', 'voicemail')),
    auto_slot text NOT NULL CHECK (auto_slot IN ('first_free', 'next_after_last_used')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The numbers that route to an organisation; `position` keeps the order they were given in.
CREATE TABLE org_numbers (
    number text PRIMARY KEY,
    org text NOT NULL REFERENCES organisations (slug) ON DELETE CASCADE,
    position integer NOT NULL
);
CREATE INDEX org_numbers_org ON org_numbers (org, position);

-- Identities sort bytewise (COLLATE "C"), as everywhere else in callpark, whatever the
-- database's default collation.
CREATE TABLE agents (
    org text NOT NULL REFERENCES organisations (slug) ON DELETE CASCADE,
    identity text COLLATE "C" NOT NULL,
    display_name text,
    status text NOT NULL DEFAULT 'offline' CHECK (status IN ('available', 'on_call', 'offline')),
    current_call text,
    token_hash bytea NOT NULL CHECK (octet_length(token_hash) = 32),
    PRIMARY KEY (org, identity),
    CONSTRAINT agents_token_hash_key UNIQUE (token_hash)
);

-- Callers' (PSTN) legs the service has seen, and the agents' browser legs bridged to them.
CREATE TABLE calls (
    pstn_sid text PRIMARY KEY,
    org text NOT NULL REFERENCES organisations (slug) ON DELETE CASCADE,
    caller_number text,
    caller_name text,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE browser_legs (
    browser_sid text PRIMARY KEY,
    pstn_sid text NOT NULL REFERENCES calls (pstn_sid) ON DELETE CASCADE,
    agent text
);
CREATE INDEX browser_legs_pstn ON browser_legs (pstn_sid);

-- One row per organisation, created with it. Every writer of the organisation's lot takes its
-- next event sequence from this row and holds the row lock until it commits: sequences are
-- gap-free and strictly increasing in commit order. Claims lock it before anything else, which
-- serialises them (the slot chosen sees every committed claim).
CREATE TABLE org_lot_state (
    org text PRIMARY KEY REFERENCES organisations (slug) ON DELETE CASCADE,
    last_sequence bigint NOT NULL DEFAULT 0,
    last_claimed_slot integer
);

-- Every occupancy of every slot, kept after it ends as history.
CREATE TABLE parked_calls (
    id uuid PRIMARY KEY,
    org text NOT NULL REFERENCES organisations (slug) ON DELETE CASCADE,
    slot integer NOT NULL CHECK (slot BETWEEN 1 AND 999),
    state text NOT NULL CHECK (
        state IN ('parking', 'parked', 'retrieving', 'retrieved', 'abandoned', 'failed', 'voicemail')
    ),
    pstn_sid text NOT NULL,
    caller_number text,
    caller_name text,
    parked_by text NOT NULL,
    parked_at timestamptz NOT NULL,
    -- NULL until Twilio tells us the conference's SID; nothing waits for it.
    conference_sid text,
    deadline timestamptz,
    retrieval_kind text CHECK (retrieval_kind IN ('by_agent', 'ringback')),
    retrieval_agent text,
    state_changed_at timestamptz NOT NULL,
    ended_at timestamptz,
    recording_url text,
    version bigint NOT NULL CHECK (version >= 1),
    CHECK ((retrieval_kind IS NULL) = (retrieval_agent IS NULL))
);

-- The invariants that make parking safe under concurrency: a slot has at most one occupant, and a
-- caller's leg occupies at most one slot. Whatever the application does, Postgres refuses a
-- second one.
CREATE UNIQUE INDEX parked_calls_one_per_slot ON parked_calls (org, slot)
    WHERE state IN ('parking', 'parked', 'retrieving');
CREATE UNIQUE INDEX parked_calls_one_per_pstn ON parked_calls (pstn_sid)
    WHERE state IN ('parking', 'parked', 'retrieving');
-- What the deadline sweepers and the reconciler scan.
CREATE INDEX parked_calls_due ON parked_calls (deadline) WHERE state = 'parked';
CREATE INDEX parked_calls_in_flight ON parked_calls (state_changed_at)
    WHERE state IN ('parking', 'retrieving');
CREATE INDEX parked_calls_history ON parked_calls (org, parked_at);

-- The event log. `sequence` is per organisation, gap-free and strictly increasing; `id` is global
-- and only names a row in notifications. `call` is the parked call after the change, as
-- to_jsonb(parked_calls row).
CREATE TABLE lot_events (
    id bigserial PRIMARY KEY,
    org text NOT NULL REFERENCES organisations (slug) ON DELETE CASCADE,
    sequence bigint NOT NULL CHECK (sequence >= 1),
    kind text NOT NULL CHECK (
        kind IN ('parked', 'updated', 'retrieving', 'retrieved', 'returned', 'abandoned',
                 'timed_out', 'voicemail', 'failed')
    ),
    at timestamptz NOT NULL,
    call jsonb NOT NULL,
    CONSTRAINT lot_events_org_sequence_key UNIQUE (org, sequence)
);

-- Claiming a slot, in one round trip and one transaction. The organisation's lot-state row is
-- locked first, and each statement after it takes a fresh snapshot (READ COMMITTED, volatile
-- function), so the slot chosen sees every committed claim. The partial unique indexes stay the last word: a violation still aborts.
-- Refusals change nothing and come back as {"outcome": ...}; success writes the parked call and
-- its `parked` event, and returns {"outcome": "claimed", "event": ...}. The caller then sends the
-- notification with callpark_notify.
CREATE FUNCTION callpark_claim_slot(
    p_org text,
    p_policy text,            -- 'requested', 'first_free' or 'next_after_last_used'
    p_slot integer,           -- the requested slot, NULL for the automatic policies
    p_id uuid,
    p_pstn text,
    p_caller_number text,
    p_caller_name text,
    p_parked_by text,
    p_now timestamptz
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_lot_size integer;
    v_last_slot integer;
    v_slot integer;
    v_existing record;
    v_call parked_calls;
    v_sequence bigint;
    v_event lot_events;
BEGIN
    SELECT o.lot_size, s.last_claimed_slot INTO v_lot_size, v_last_slot
      FROM org_lot_state s JOIN organisations o ON o.slug = s.org
     WHERE s.org = p_org
       FOR UPDATE OF s;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'unknown_org');
    END IF;

    SELECT id, slot INTO v_existing FROM parked_calls
     WHERE pstn_sid = p_pstn AND state IN ('parking', 'parked', 'retrieving');
    IF FOUND THEN
        RETURN jsonb_build_object('outcome', 'already_parked', 'id', v_existing.id,
                                  'slot', v_existing.slot);
    END IF;

    IF p_policy = 'requested' THEN
        IF p_slot > v_lot_size THEN
            RETURN jsonb_build_object('outcome', 'slot_out_of_range', 'lot_size', v_lot_size);
        END IF;
        PERFORM 1 FROM parked_calls
         WHERE org = p_org AND slot = p_slot AND state IN ('parking', 'parked', 'retrieving');
        IF FOUND THEN
            RETURN jsonb_build_object('outcome', 'slot_occupied');
        END IF;
        v_slot := p_slot;
    ELSE
        -- first_free: the lowest free slot; next_after_last_used: the lowest free slot after
        -- the last one claimed, wrapping around to the lowest free slot before it. Either is
        -- slot 1, the slot after the last claimed, or a slot right after an occupied one, so
        -- only those candidates are looked at: the work grows with the occupied slots, not
        -- with the size of the lot.
        WITH occupied AS (
            SELECT slot FROM parked_calls
             WHERE org = p_org AND state IN ('parking', 'parked', 'retrieving')
        )
        SELECT c.slot INTO v_slot
          FROM (SELECT 1 AS slot
                UNION SELECT v_last_slot + 1
                UNION SELECT slot + 1 FROM occupied) AS c
         WHERE c.slot BETWEEN 1 AND v_lot_size
           AND c.slot NOT IN (SELECT slot FROM occupied)
         ORDER BY (p_policy = 'next_after_last_used' AND c.slot <= coalesce(v_last_slot, 0)),
                  c.slot
         LIMIT 1;
        IF v_slot IS NULL THEN
            RETURN jsonb_build_object('outcome', 'lot_full');
        END IF;
    END IF;

    INSERT INTO parked_calls (id, org, slot, state, pstn_sid, caller_number, caller_name,
                              parked_by, parked_at, state_changed_at, version)
    VALUES (p_id, p_org, v_slot, 'parking', p_pstn, p_caller_number, p_caller_name,
            p_parked_by, p_now, p_now, 1)
    RETURNING * INTO v_call;

    UPDATE org_lot_state SET last_sequence = last_sequence + 1, last_claimed_slot = v_slot
     WHERE org = p_org
    RETURNING last_sequence INTO v_sequence;

    INSERT INTO lot_events (org, sequence, kind, at, call)
    VALUES (p_org, v_sequence, 'parked', p_now, to_jsonb(v_call))
    RETURNING * INTO v_event;

    RETURN jsonb_build_object('outcome', 'claimed', 'event', to_jsonb(v_event));
END;
$$;

-- A compare-and-set transition, in one round trip and one transaction: the conditional UPDATE
-- matches only if the record still has the state and version the change was computed from.
-- id, org, slot and pstn_sid are the store's and never change; version is bumped here.
--
-- Locks: the record's row first, the organisation's lot-state row last (taking the next
-- sequence), so that the organisation's writers are serialised only for the event insert and
-- the commit. This cannot deadlock with a claim (which holds the lot-state row while it
-- inserts): a claim only waits for a transition whose new version takes the same slot or
-- caller's leg, and a transition of a live record keeps both, which the claim saw as taken.
-- Only a record brought back from a terminal state could take them anew; such a transition
-- locks like a claim, lot-state row first.
CREATE FUNCTION callpark_apply(
    p_id uuid,
    p_state text,
    p_version bigint,
    p_next jsonb,             -- the record after the change, as to_jsonb(parked_calls row)
    p_kind text,
    p_at timestamptz
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_org text;
    v_next parked_calls;
    v_call parked_calls;
    v_event lot_events;
BEGIN
    SELECT org INTO v_org FROM parked_calls WHERE id = p_id;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'not_found');
    END IF;
    IF p_state NOT IN ('parking', 'parked', 'retrieving') THEN
        PERFORM 1 FROM org_lot_state WHERE org = v_org FOR UPDATE;
    END IF;

    v_next := jsonb_populate_record(NULL::parked_calls, p_next);
    UPDATE parked_calls
       SET state = v_next.state,
           caller_number = v_next.caller_number,
           caller_name = v_next.caller_name,
           parked_by = v_next.parked_by,
           parked_at = v_next.parked_at,
           conference_sid = v_next.conference_sid,
           deadline = v_next.deadline,
           retrieval_kind = v_next.retrieval_kind,
           retrieval_agent = v_next.retrieval_agent,
           state_changed_at = v_next.state_changed_at,
           ended_at = v_next.ended_at,
           recording_url = v_next.recording_url,
           version = version + 1
     WHERE id = p_id AND state = p_state AND version = p_version
    RETURNING * INTO v_call;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'conflict');
    END IF;

    WITH next_sequence AS (
        UPDATE org_lot_state SET last_sequence = last_sequence + 1
         WHERE org = v_org
        RETURNING last_sequence
    )
    INSERT INTO lot_events (org, sequence, kind, at, call)
    SELECT v_org, last_sequence, p_kind, p_at, to_jsonb(v_call) FROM next_sequence
    RETURNING * INTO v_event;

    RETURN jsonb_build_object('outcome', 'applied', 'event', to_jsonb(v_event));
END;
$$;

-- Tells the listeners (PgEvents) that an organisation's events up to a sequence are committed.
-- The payload is '<global id>:<org>:<sequence>'.
--
-- Not sent from the writing transaction on purpose: a transaction that NOTIFYs takes a
-- database-wide lock from its pre-commit until its end, which includes waiting for its WAL flush,
-- so notifying writers would commit one at a time across all organisations. Sent here, in a
-- transaction of its own whose commit need not wait for the flush (synchronous_commit off, for
-- this transaction only), the lock is held for microseconds. Losing a notification (a crash
-- between the two statements) loses no event: listeners read rows by sequence, and catch up on
-- the next notification of the organisation, on reconnect, and periodically.
CREATE FUNCTION callpark_notify(p_payload text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_notify('callpark_events', p_payload);
    RETURN true;
END;
$$;
