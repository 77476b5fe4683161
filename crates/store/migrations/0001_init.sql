-- Fanzha schema v1: the interchange kinds (DATA.md v1.1), the quarantine and the audit trail.
-- One file for both backends; the store replaces {{...}} placeholders per dialect.
-- Instants are BIGINT UTC microseconds since the epoch; money is BIGINT fen.
-- Kind tables are clustered on their natural key ({{without_rowid}} in SQLite): one b-tree,
-- not a rowid table plus a key index.

CREATE TABLE jurisdictions (
    code TEXT NOT NULL,
    name TEXT,
    level TEXT,
    parent_code TEXT,
    police_station TEXT,
    extra TEXT,
    PRIMARY KEY (code)
){{without_rowid}};

CREATE TABLE institutions (
    code TEXT NOT NULL,
    name TEXT,
    kind TEXT,
    extra TEXT,
    PRIMARY KEY (code)
){{without_rowid}};

CREATE TABLE places (
    place_id TEXT NOT NULL,
    kind TEXT,
    community_code TEXT,
    name TEXT,
    address TEXT,
    lat TEXT,
    lon TEXT,
    extra TEXT,
    PRIMARY KEY (place_id)
){{without_rowid}};

CREATE TABLE persons (
    person_id TEXT NOT NULL,
    id_kind TEXT,
    name TEXT,
    community_code TEXT,
    phone TEXT,
    address TEXT,
    tags TEXT,
    birth_date TEXT,
    extra TEXT,
    PRIMARY KEY (person_id)
){{without_rowid}};

CREATE TABLE accounts (
    account_id TEXT NOT NULL,
    bank_code TEXT,
    holder_id TEXT,
    opened_at BIGINT,
    class TEXT,
    status TEXT,
    extra TEXT,
    PRIMARY KEY (account_id)
){{without_rowid}};

CREATE TABLE sims (
    msisdn TEXT NOT NULL,
    activated_at BIGINT NOT NULL,
    carrier TEXT,
    holder_id TEXT,
    kind TEXT,
    deactivated_at BIGINT,
    extra TEXT,
    PRIMARY KEY (msisdn, activated_at)
){{without_rowid}};

CREATE TABLE balances (
    account_id TEXT NOT NULL,
    as_of BIGINT NOT NULL,
    balance_fen BIGINT,
    extra TEXT,
    PRIMARY KEY (account_id, as_of)
){{without_rowid}};

CREATE TABLE transactions (
    tx_id TEXT NOT NULL,
    ts BIGINT,
    from_account TEXT,
    to_account TEXT,
    amount_fen BIGINT,
    channel TEXT,
    memo TEXT,
    device_id TEXT,
    ip TEXT,
    cell_id TEXT,
    from_form TEXT,
    to_form TEXT,
    extra TEXT,
    PRIMARY KEY (tx_id)
){{without_rowid}};

CREATE TABLE calls (
    call_id TEXT NOT NULL,
    ts BIGINT,
    caller TEXT,
    caller_norm TEXT,
    caller_class TEXT,
    callee TEXT,
    callee_norm TEXT,
    callee_class TEXT,
    duration_s BIGINT,
    kind TEXT,
    cell_id TEXT,
    imei TEXT,
    extra TEXT,
    PRIMARY KEY (call_id)
){{without_rowid}};

CREATE TABLE sms (
    sms_id TEXT NOT NULL,
    ts BIGINT,
    sender TEXT,
    sender_norm TEXT,
    sender_class TEXT,
    receiver TEXT,
    receiver_norm TEXT,
    receiver_class TEXT,
    text TEXT,
    cell_id TEXT,
    extra TEXT,
    PRIMARY KEY (sms_id)
){{without_rowid}};

CREATE TABLE logins (
    event_id TEXT NOT NULL,
    ts BIGINT,
    subject TEXT,
    device_id TEXT,
    ip TEXT,
    cell_id TEXT,
    extra TEXT,
    PRIMARY KEY (event_id)
){{without_rowid}};

CREATE TABLE app_events (
    event_id TEXT NOT NULL,
    ts BIGINT,
    msisdn TEXT,
    event TEXT,
    app TEXT,
    risk_label TEXT,
    extra TEXT,
    PRIMARY KEY (event_id)
){{without_rowid}};

CREATE TABLE reports (
    report_id TEXT NOT NULL,
    ts BIGINT,
    victim_id TEXT,
    typology TEXT,
    loss_fen BIGINT,
    description TEXT,
    community_code TEXT,
    channel TEXT,
    extra TEXT,
    PRIMARY KEY (report_id)
){{without_rowid}};

CREATE TABLE report_payments (
    report_id TEXT NOT NULL,
    tx_id TEXT NOT NULL,
    extra TEXT,
    PRIMARY KEY (report_id, tx_id)
){{without_rowid}};

CREATE TABLE leads (
    lead_id TEXT NOT NULL,
    ts BIGINT,
    source TEXT,
    reason TEXT,
    person_id TEXT,
    msisdn TEXT,
    account_id TEXT,
    typology TEXT,
    extra TEXT,
    PRIMARY KEY (lead_id)
){{without_rowid}};

CREATE TABLE cases (
    case_id TEXT NOT NULL,
    filed_at BIGINT,
    report_ids TEXT,
    solved_at BIGINT,
    suspects_arrested BIGINT,
    suspects_prosecuted BIGINT,
    extra TEXT,
    PRIMARY KEY (case_id)
){{without_rowid}};

CREATE TABLE external_freezes (
    account_id TEXT NOT NULL,
    authority TEXT NOT NULL,
    measure TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    amount_fen BIGINT,
    expires_at BIGINT,
    document_no TEXT,
    extra TEXT,
    PRIMARY KEY (account_id, authority, measure, registered_at)
){{without_rowid}};

CREATE TABLE quarantine (
    id {{serial_pk}},
    file TEXT NOT NULL,
    line BIGINT NOT NULL,
    kind TEXT NOT NULL,
    field TEXT,
    reason TEXT NOT NULL,
    original {{blob}} NOT NULL,
    quarantined_at BIGINT NOT NULL,
    UNIQUE (file, line, kind)
);

CREATE TABLE audit_log (
    id {{serial_pk}},
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

-- Transactions arrive roughly in time order, so an index on time grows at its end and costs
-- bulk loads little, unlike one led by an account number; it serves time windows, and
-- matching one transfer seen in two banks' statements (a few minutes either side).
CREATE INDEX transactions_ts ON transactions (ts);
