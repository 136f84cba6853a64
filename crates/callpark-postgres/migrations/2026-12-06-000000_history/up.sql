-- The history of parked calls (GET /api/history): how many times each call rang its parker
-- back, and the indexes its pages are read by. A page is newest first per organisation, keyed
-- on (parked_at, id) so that a later page is an index range like the first; an outcome filter
-- reads the states' own range, a slot's calls theirs, and an agent's calls are those they
-- parked or retrieved.
ALTER TABLE parked_calls ADD COLUMN ringbacks integer NOT NULL DEFAULT 0;
UPDATE parked_calls p
   SET ringbacks = r.n
  FROM (SELECT (call->>'id')::uuid AS id, count(*) AS n
          FROM lot_events
         WHERE kind = 'timed_out' AND call->>'retrieval_kind' = 'ringback'
         GROUP BY 1) r
 WHERE r.id = p.id;

CREATE INDEX parked_calls_history ON parked_calls (org, parked_at DESC, id DESC);
CREATE INDEX parked_calls_history_by_state ON parked_calls (org, state, parked_at DESC, id DESC);
-- A slot and an outcome that rarely go together are a range of their own, not a scan of
-- every call with that outcome.
CREATE INDEX parked_calls_history_by_slot
    ON parked_calls (org, slot, state, parked_at DESC, id DESC);
CREATE INDEX parked_calls_history_live ON parked_calls (org, parked_at DESC, id DESC)
    WHERE state IN ('parking', 'parked', 'retrieving');
CREATE INDEX parked_calls_history_by_parker
    ON parked_calls (org, parked_by, parked_at DESC, id DESC);
CREATE INDEX parked_calls_history_by_retriever
    ON parked_calls (org, retrieval_agent, parked_at DESC, id DESC) WHERE state = 'retrieved';

-- The transition stores the count the domain keeps; a record from an instance that does not
-- count them yet (a rolling upgrade) keeps the stored count.
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
