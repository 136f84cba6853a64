ALTER TABLE parked_calls DROP CONSTRAINT parked_calls_retrieval_agent_check;
ALTER TABLE parked_calls DROP CONSTRAINT parked_calls_retrieval_kind_check;
ALTER TABLE parked_calls ADD CONSTRAINT parked_calls_retrieval_kind_check
    CHECK (retrieval_kind IN ('by_agent', 'ringback'));
ALTER TABLE parked_calls ADD CONSTRAINT parked_calls_check
    CHECK ((retrieval_kind IS NULL) = (retrieval_agent IS NULL));
