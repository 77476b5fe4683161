-- Fanzha schema v7: the indexes behind the risk engine's batch run, which reads each event
-- table in event-time order, in pages resumed from the last (time, id) seen. Each is led by
-- the event's time with the record's key after it, so a page is one forward index range
-- with no sort, and ties on time have one order. Keys sort by code point ({{collate_c}}), so
-- both backends scan in the same order whatever PostgreSQL's default collation is.
-- These are read indexes, like migration 5's: a first bulk load drops and builds them once.
-- The bare time indexes on transactions and calls are replaced: the new ones lead with the
-- same column, so the look-ups those served (time windows, where the data ends) keep a fit.

DROP INDEX IF EXISTS transactions_ts;
CREATE INDEX transactions_scan ON transactions (ts, tx_id{{collate_c}});
DROP INDEX IF EXISTS calls_ts;
CREATE INDEX calls_scan ON calls (ts, call_id{{collate_c}});
CREATE INDEX sms_scan ON sms (ts, sms_id{{collate_c}});
CREATE INDEX logins_scan ON logins (ts, event_id{{collate_c}});
CREATE INDEX accounts_scan ON accounts (opened_at, account_id{{collate_c}});
CREATE INDEX sims_scan ON sims (activated_at, msisdn{{collate_c}});
