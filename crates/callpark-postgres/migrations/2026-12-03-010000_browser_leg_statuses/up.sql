-- What the statuses of an agent's browser leg said so far, so that a late or replayed one
-- (a late in-progress of a leg that ended) never moves its agent backwards.
ALTER TABLE browser_legs ADD COLUMN sequence integer CHECK (sequence >= 0);
ALTER TABLE browser_legs ADD COLUMN ended boolean NOT NULL DEFAULT false;

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
