-- callpark_notify as it was.
CREATE FUNCTION callpark_notify(p_payload text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_notify('callpark_events', p_payload);
    RETURN true;
END;
$$;
