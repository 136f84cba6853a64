DROP FUNCTION callpark_record_call(text, text, text, text, timestamptz);
CREATE FUNCTION callpark_record_call(
    p_pstn text,
    p_org text,
    p_caller_number text,
    p_caller_name text
) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO calls (pstn_sid, org, caller_number, caller_name)
    VALUES (p_pstn, p_org, p_caller_number, p_caller_name)
    ON CONFLICT (pstn_sid) DO UPDATE
       SET org = excluded.org,
           caller_number = excluded.caller_number,
           caller_name = excluded.caller_name;
    RETURN true;
END;
$$;

DROP FUNCTION callpark_claim_slot(text, text, integer, uuid, text, text, text, text, timestamptz,
                                  timestamptz);
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

ALTER TABLE parked_calls DROP COLUMN call_started_at;
