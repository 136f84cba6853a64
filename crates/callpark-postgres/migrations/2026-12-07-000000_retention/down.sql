DROP INDEX calls_to_forget;
DROP INDEX parked_calls_to_forget;
