-- The stored functions of callpark as the migrations leave them: one place to read them.
--
-- The migrations (migrations/) are what changes a database; this file is what they add up to.
-- Change a function in both: write the new definition here, and a new migration that replaces
-- it (CREATE OR REPLACE FUNCTION, or DROP and CREATE). tests/it/functions.rs fails while the two
-- disagree, about a definition or about which functions exist.
--
-- Why functions: each is one round trip and one transaction, and a function called from a
-- SELECT is a statement diesel prepares once per connection (it never caches an UPDATE or an
-- INSERT ... ON CONFLICT), while PL/pgSQL keeps its plans.

-- Claiming a slot, in one round trip and one transaction. The organisation's lot-state row is
-- locked first, and each statement after it takes a fresh snapshot (READ COMMITTED, volatile
-- function), so the slot chosen sees every committed claim. The partial unique indexes stay the
-- last word: a violation still aborts (and the store looks again).
-- Refusals change nothing and come back as {"outcome": ...}; success writes the parked call and
-- its `parked` event, and returns {"outcome": "claimed", "event": ...}. The store's notifier
-- then notifies the listeners (callpark_notify_all).
CREATE FUNCTION callpark_claim_slot(
    p_org text,
    p_policy text,            -- 'requested', 'first_free' or 'next_after_last_used'
    p_slot integer,           -- the requested slot, NULL for the automatic policies
    p_id uuid,
    p_pstn text,
    p_caller_number text,
    p_caller_name text,
    p_parked_by text,
    p_call_started_at timestamptz,
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
    SELECT s.last_claimed_slot INTO v_last_slot
      FROM org_lot_state s
     WHERE s.org = p_org
       FOR UPDATE OF s;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'unknown_org');
    END IF;
    -- Read after the lock, in a statement of its own (a fresh snapshot): a change of the lot's
    -- size (callpark_change_org, which takes the same lock) is seen, never one from before it.
    SELECT o.lot_size INTO v_lot_size FROM organisations o WHERE o.slug = p_org;

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
                              parked_by, parked_at, state_changed_at, version, call_started_at)
    VALUES (p_id, p_org, v_slot, 'parking', p_pstn, p_caller_number, p_caller_name,
            p_parked_by, p_now, p_now, 1, p_call_started_at)
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
           attempt = v_next.attempt,
           ringbacks = coalesce(v_next.ringbacks, ringbacks),
           voicemail_handled_by = v_next.voicemail_handled_by,
           voicemail_handled_at = v_next.voicemail_handled_at,
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

-- callpark_apply, and an agent's status set in the same transaction if the transition is
-- stored: a park frees its parker, an answered retrieve puts its agent on the call, never one
-- without the other. An agent put on a browser leg is on a leg bridged to the call's caller:
-- that link is recorded too (callpark_link_browser_leg). The agent's row is locked after the
-- organisation's lot-state row; no writer locks them the other way round (an agent's own
-- status change locks only its row).
CREATE FUNCTION callpark_apply_and_set_agent(
    p_id uuid,
    p_state text,
    p_version bigint,
    p_next jsonb,
    p_kind text,
    p_at timestamptz,
    p_agent_org text,
    p_agent text,
    p_agent_status text,
    p_agent_call text
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_answer jsonb;
BEGIN
    v_answer := callpark_apply(p_id, p_state, p_version, p_next, p_kind, p_at);
    IF v_answer->>'outcome' = 'applied' THEN
        UPDATE agents SET status = p_agent_status, current_call = p_agent_call
         WHERE org = p_agent_org AND identity = p_agent;
        IF p_agent_call IS NOT NULL THEN
            PERFORM callpark_link_browser_leg(
                p_agent_call, v_answer->'event'->'call'->>'pstn_sid', p_agent);
        END IF;
    END IF;
    RETURN v_answer;
END;
$$;

-- An agent's status; false when there is no such agent.
CREATE FUNCTION callpark_set_agent_status(
    p_org text,
    p_identity text,
    p_status text,
    p_current_call text
) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE agents SET status = p_status, current_call = p_current_call
     WHERE org = p_org AND identity = p_identity;
    RETURN FOUND;
END;
$$;

-- A caller's leg, recorded or updated (the organisation and caller as last seen).
CREATE FUNCTION callpark_record_call(
    p_pstn text,
    p_org text,
    p_caller_number text,
    p_caller_name text,
    p_started_at timestamptz
) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO calls (pstn_sid, org, caller_number, caller_name, recorded_at)
    VALUES (p_pstn, p_org, p_caller_number, p_caller_name, p_started_at)
    ON CONFLICT (pstn_sid) DO UPDATE
       SET org = excluded.org,
           caller_number = excluded.caller_number,
           caller_name = excluded.caller_name,
           recorded_at = least(calls.recorded_at, excluded.recorded_at);
    RETURN true;
END;
$$;

-- A browser leg bridged to a caller's leg: linked only if the caller's leg is recorded (false
-- otherwise); a leg linked before is moved to what it is now.
CREATE FUNCTION callpark_link_browser_leg(
    p_browser text,
    p_pstn text,
    p_agent text
) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO browser_legs (browser_sid, pstn_sid, agent)
    SELECT p_browser, pstn_sid, p_agent FROM calls WHERE pstn_sid = p_pstn
    ON CONFLICT (browser_sid) DO UPDATE
       SET pstn_sid = excluded.pstn_sid,
           agent = excluded.agent;
    RETURN FOUND;
END;
$$;

-- Links an agent's browser leg to its caller's leg (callpark_link_browser_leg) and records one
-- of its statuses, in one round trip; true when the status is news: the leg has not ended,
-- and no later status of it (by Twilio's SequenceNumber) was seen. A final status ends the
-- leg. A leg that cannot be linked (an unknown caller's leg) has nothing to compare with:
-- news. The row is locked, so two callbacks of one leg are decided one after the other.
CREATE FUNCTION callpark_record_leg_status(
    p_browser text,
    p_pstn text,
    p_agent text,
    p_sequence integer,
    p_ended boolean
) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_news boolean;
BEGIN
    PERFORM callpark_link_browser_leg(p_browser, p_pstn, p_agent);
    SELECT NOT ended AND (p_sequence IS NULL OR sequence IS NULL OR p_sequence > sequence)
      INTO v_news
      FROM browser_legs WHERE browser_sid = p_browser FOR UPDATE;
    IF NOT FOUND THEN
        RETURN true;
    END IF;
    UPDATE browser_legs
       SET sequence = GREATEST(sequence, p_sequence),
           ended = ended OR p_ended
     WHERE browser_sid = p_browser;
    RETURN v_news;
END;
$$;

-- An agent who becomes available takes the next number of agent_available_order, whoever
-- wrote the status (callpark_set_agent_status, callpark_apply_and_set_agent): an inbound call
-- rings the longest idle agents first, and a <Dial> rings at most 10 browsers.
CREATE FUNCTION callpark_agent_became_available() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'available' AND OLD.status IS DISTINCT FROM 'available' THEN
        NEW.available_order := nextval('agent_available_order');
    END IF;
    RETURN NEW;
END;
$$;

-- The agents an inbound call rings: up to p_limit available agents of the organisation, the
-- longest idle first, who go to the back of the queue (a new agent_available_order) so that
-- the next call rings the others first. Rows another writer holds are skipped, so that two
-- calls at once ring different agents.
CREATE FUNCTION callpark_agents_to_ring(
    p_org text,
    p_limit integer
) RETURNS text[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_ring text[];
BEGIN
    SELECT coalesce(array_agg(identity ORDER BY available_order NULLS FIRST, identity), '{}')
      INTO v_ring
      FROM (SELECT identity, available_order FROM agents
             WHERE org = p_org AND status = 'available'
             ORDER BY available_order NULLS FIRST, identity
             LIMIT p_limit
             FOR UPDATE SKIP LOCKED) AS longest_idle;
    UPDATE agents SET available_order = nextval('agent_available_order')
     WHERE org = p_org AND identity = ANY (v_ring);
    RETURN v_ring;
END;
$$;

-- Tells the listeners (PgEvents) that organisations' events up to a sequence are committed, one
-- payload '<global id>:<org>:<sequence>' each, in one round trip: the store's notifier sends
-- what accumulated while its previous batch was on the way (the newest sequence of each
-- organisation).
--
-- Not sent from the writing transactions on purpose: a transaction that NOTIFYs takes a
-- database-wide lock from its pre-commit until its end, which includes waiting for its WAL
-- flush, so notifying writers would commit one at a time across all organisations. Sent here, in
-- a transaction of its own whose commit need not wait for the flush (synchronous_commit off, for
-- this transaction only), the lock is held for microseconds. Losing a notification loses no
-- event: listeners read rows by sequence, and catch up on the next notification of the
-- organisation, on reconnect, and periodically.
CREATE FUNCTION callpark_notify_all(p_payloads text[]) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_notify('callpark_events', payload) FROM unnest(p_payloads) AS payload;
    RETURN cardinality(p_payloads);
END;
$$;

-- A deactivated agent stays offline whatever writes its status (a late callback, a call that
-- ended): so nothing ever rings it again.
CREATE FUNCTION callpark_inactive_agents_stay_offline() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.active THEN
        NEW.status := 'offline';
        NEW.current_call := NULL;
    END IF;
    RETURN NEW;
END;
$$;

-- Changing an organisation's settings, under the lock a slot claim takes (callpark_claim_slot):
-- a lot shrinks only while no call occupies a slot beyond its new size, and no claim can slip
-- in between the check and the change. NULL leaves a setting as it is; p_clear_hold_music and
-- p_clear_voice remove those. Returns {"outcome": "changed" | "unknown_org" | "slot_occupied",
-- "slot": the highest occupied slot beyond the new size}.
CREATE FUNCTION callpark_change_org(
    p_org text,
    p_name text,
    p_lot_size integer,
    p_hold_music_url text,
    p_clear_hold_music boolean,
    p_announcement text,
    p_voice text,
    p_clear_voice boolean,
    p_max_park_seconds bigint,
    p_timeout_action text,
    p_auto_slot text
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_beyond integer;
BEGIN
    PERFORM 1 FROM org_lot_state WHERE org = p_org FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'unknown_org');
    END IF;
    IF p_lot_size IS NOT NULL THEN
        SELECT max(slot) INTO v_beyond FROM parked_calls
         WHERE org = p_org AND slot > p_lot_size
           AND state IN ('parking', 'parked', 'retrieving');
        IF v_beyond IS NOT NULL THEN
            RETURN jsonb_build_object('outcome', 'slot_occupied', 'slot', v_beyond);
        END IF;
    END IF;
    UPDATE organisations SET
        name = coalesce(p_name, name),
        lot_size = coalesce(p_lot_size, lot_size),
        hold_music_url = CASE WHEN p_clear_hold_music THEN NULL
                              ELSE coalesce(p_hold_music_url, hold_music_url) END,
        announcement = coalesce(p_announcement, announcement),
        voice = CASE WHEN p_clear_voice THEN NULL ELSE coalesce(p_voice, voice) END,
        max_park_seconds = coalesce(p_max_park_seconds, max_park_seconds),
        timeout_action = coalesce(p_timeout_action, timeout_action),
        auto_slot = coalesce(p_auto_slot, auto_slot)
     WHERE slug = p_org;
    RETURN jsonb_build_object('outcome', 'changed');
END;
$$;
