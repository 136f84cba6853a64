-- A voicemail's recording is a transition of its parked call, with an event of its own.
ALTER TABLE lot_events DROP CONSTRAINT lot_events_kind_check;
ALTER TABLE lot_events ADD CONSTRAINT lot_events_kind_check CHECK (
    kind IN ('parked', 'updated', 'retrieving', 'retrieved', 'returned', 'abandoned',
             'timed_out', 'voicemail', 'failed', 'voicemail_recorded')
);
