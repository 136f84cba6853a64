-- Organisations' settings can change: a claim reads the lot's size after taking the lot's lock,
-- and a change of the size takes the same lock (see sql/functions.sql).
CREATE OR REPLACE FUNCTION callpark_claim_slot(
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
