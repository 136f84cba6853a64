CREATE OR REPLACE FUNCTION callpark_apply(
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

ALTER TABLE lot_events DROP CONSTRAINT lot_events_kind_check;
ALTER TABLE lot_events ADD CONSTRAINT lot_events_kind_check CHECK (
    kind IN ('parked', 'updated', 'retrieving', 'retrieved', 'returned', 'abandoned',
             'timed_out', 'voicemail', 'failed', 'voicemail_recorded')
);
ALTER TABLE parked_calls DROP CONSTRAINT parked_calls_voicemail_handled_check;
ALTER TABLE parked_calls DROP COLUMN voicemail_handled_at;
ALTER TABLE parked_calls DROP COLUMN voicemail_handled_by;
