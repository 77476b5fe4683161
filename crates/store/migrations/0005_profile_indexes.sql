-- Fanzha schema v5: the look-ups behind the server's profiles, search and dashboard.
-- Each index is led by the column a profile page looks an entity up by, with the time after
-- it, so "the newest N of this account's transfers" is a short backward index scan, not a
-- sort of all of them. They cost bulk loads: a transfer now lands in two b-trees ordered by
-- account number, which arrive in no order (see docs/benchmarks.md for what it costs).
-- Device columns are often empty, so those indexes keep only the rows that have one.

CREATE INDEX transactions_from ON transactions (from_account, ts);
CREATE INDEX transactions_to ON transactions (to_account, ts);
CREATE INDEX transactions_device ON transactions (device_id) WHERE device_id IS NOT NULL;

CREATE INDEX calls_caller ON calls (caller_norm, ts);
CREATE INDEX calls_callee ON calls (callee_norm, ts);
CREATE INDEX calls_imei ON calls (imei) WHERE imei IS NOT NULL;
-- Calls arrive in time order, so this one grows at its end; it finds where the data ends.
CREATE INDEX calls_ts ON calls (ts);

CREATE INDEX sms_sender ON sms (sender_norm, ts);
CREATE INDEX sms_receiver ON sms (receiver_norm, ts);

CREATE INDEX logins_subject ON logins (subject, ts);
CREATE INDEX logins_device ON logins (device_id, ts);

-- A name prefix is searched as a range of code points, so PostgreSQL's index must order
-- bytes whatever the database's collation is.
CREATE INDEX persons_name ON persons (name{{collate_c}});
CREATE INDEX reports_victim ON reports (victim_id);
CREATE INDEX reports_ts ON reports (ts);
CREATE INDEX cases_filed ON cases (filed_at);
