-- Who holds an outbox row's lease (status 'sending' until next_attempt_at): a sender
-- renews its leases and checks it still holds a row before each send, so a second sender
-- that took over a row whose lease ran out is the only one to send it.
ALTER TABLE alert_outbox ADD COLUMN lease_owner VARCHAR;
