-- callpark_notify (one payload per call) has had no caller since the store's notifier sends
-- its batches with callpark_notify_all; it was kept only for instances of the version before
-- that, during a rolling upgrade.
DROP FUNCTION callpark_notify(text);
