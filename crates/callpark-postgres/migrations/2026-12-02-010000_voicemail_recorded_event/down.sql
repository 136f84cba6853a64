-- NOT VALID: events already written as voicemail_recorded stay; new ones are refused.
ALTER TABLE lot_events DROP CONSTRAINT lot_events_kind_check;
ALTER TABLE lot_events ADD CONSTRAINT lot_events_kind_check CHECK (
    kind IN ('parked', 'updated', 'retrieving', 'retrieved', 'returned', 'abandoned',
             'timed_out', 'voicemail', 'failed')
) NOT VALID;
