-- A parked call the deadline sends to voicemail keeps its slot (state 'retrieving', retrieval
-- 'to_voicemail', no agent) until Twilio accepts the redirect, so a refused redirect leaves the
-- caller visible in the lot instead of lost in a conference.
ALTER TABLE parked_calls DROP CONSTRAINT parked_calls_retrieval_kind_check;
ALTER TABLE parked_calls DROP CONSTRAINT parked_calls_check;
ALTER TABLE parked_calls ADD CONSTRAINT parked_calls_retrieval_kind_check
    CHECK (retrieval_kind IN ('by_agent', 'ringback', 'to_voicemail'));
ALTER TABLE parked_calls ADD CONSTRAINT parked_calls_retrieval_agent_check
    CHECK ((retrieval_agent IS NULL) = (retrieval_kind IS NULL OR retrieval_kind = 'to_voicemail'));
