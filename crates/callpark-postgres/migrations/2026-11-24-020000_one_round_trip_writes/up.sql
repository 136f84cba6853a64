-- The writes of a call's legs and of agents' status, as functions. diesel never caches the
-- prepared statement of an UPDATE or an INSERT ... ON CONFLICT, so each one was parsed and
-- planned anew and cost two round trips (prepare, then execute); a function called from a
-- SELECT is prepared once per connection and PL/pgSQL keeps its plans.

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

-- callpark_notify for several payloads in one round trip: the store's notifier sends what
-- accumulated while its previous batch was on the way (the newest sequence of each
-- organisation). The commit need not wait for its WAL flush, as in callpark_notify.
CREATE FUNCTION callpark_notify_all(p_payloads text[]) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_notify('callpark_events', payload) FROM unnest(p_payloads) AS payload;
    RETURN cardinality(p_payloads);
END;
$$;
-- callpark_notify itself stays: instances of the previous version still call it while a rolling
-- upgrade replaces them.

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

-- No query reads parked calls by organisation and time (there is no history API yet), and the
-- index cost an insertion on every claim and every transition. A history API brings the index
-- its queries need.
DROP INDEX parked_calls_history;
