//! The repository contract, run against both backends. PostgreSQL tests use the server at
//! `FANZHA_TEST_PG` (default: this machine's 127.0.0.1:5432, database `test`) and fail —
//! never skip — when it is unreachable: CI must not pass without the shared backend.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_store::{postgres::PgStore, Batch, Item, Origin, Rejection, Store};

fn pg_url() -> String {
    std::env::var("FANZHA_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh store: a new SQLite file, or a new PostgreSQL schema.
struct Fresh {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = fanzha_store::open(path.to_str().unwrap()).await.unwrap();
    Fresh {
        store,
        _dir: Some(dir),
    }
}

async fn postgres() -> Fresh {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        nanos
    );
    let store = PgStore::connect_in_schema(&pg_url(), &schema)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {} is unreachable: {e}", pg_url()));
    let store: Arc<dyn Store> = Arc::new(store);
    store.migrate().await.unwrap();
    Fresh { store, _dir: None }
}

/// Declares one test per backend from one async body taking `Arc<dyn Store>`.
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let f = super::sqlite().await;
                ($body)(f.store.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let f = super::postgres().await;
                ($body)(f.store.clone()).await;
            }
        }
    };
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn account(id: &str, holder: &str, class: &str, status: &str, line: u64) -> Item {
    Item {
        row: Row {
            values: vec![
                text(id),
                text("ICBC"),
                text(holder),
                Value::Int(1_772_000_000_000_000),
                text(class),
                text(status),
            ],
            extra: None,
        },
        origin: Origin {
            file: "accounts.csv".into(),
            line,
            original: format!("{id},{holder}").into_bytes(),
        },
    }
}

fn batch(kind: Kind, items: Vec<Item>) -> Batch {
    Batch {
        kind,
        items,
        rejections: Vec::new(),
    }
}

fn transfer(id: &str, ts: i64, from: &str, to: &str, amount: i64) -> Item {
    let v = |s: &str| if s.is_empty() { Value::Null } else { text(s) };
    Item {
        row: Row {
            values: vec![
                text(id),
                Value::Int(ts),
                v(from),
                v(to),
                Value::Int(amount),
                text("transfer"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                text("card"),
                text("card"),
            ],
            extra: Some(r#"{"对方户名":"张三"}"#.to_owned()),
        },
        origin: Origin {
            file: "transactions.csv".into(),
            line: 2,
            original: id.as_bytes().to_vec(),
        },
    }
}

both!(migrations_are_idempotent, |s: Arc<dyn Store>| async move {
    assert!(
        s.migrate().await.unwrap().is_empty(),
        "a second migrate applies nothing"
    );
    let counts = s.counts().await.unwrap();
    for kind in Kind::ALL {
        assert_eq!(counts[kind.as_str()], 0);
    }
    assert_eq!(counts["quarantine"], 0);
});

both!(
    insert_repeat_update_conflict,
    |s: Arc<dyn Store>| async move {
        let first = s
            .write_batch(batch(
                Kind::Accounts,
                vec![
                    account("A1", "P1", "II", "active", 2),
                    account("A2", "P2", "I", "active", 3),
                ],
            ))
            .await
            .unwrap();
        assert_eq!(
            (
                first.inserted,
                first.unchanged,
                first.updated,
                first.rejected
            ),
            (2, 0, 0, 0)
        );

        // Same again: nothing new.
        let again = s
            .write_batch(batch(
                Kind::Accounts,
                vec![
                    account("A1", "P1", "II", "active", 2),
                    account("A2", "P2", "I", "active", 3),
                ],
            ))
            .await
            .unwrap();
        assert_eq!((again.inserted, again.unchanged), (0, 2));

        // A class and status change is an update; a holder change is a conflict.
        let v2 = s
            .write_batch(batch(
                Kind::Accounts,
                vec![
                    account("A1", "P1", "III", "restricted", 2),
                    account("A2", "P9", "I", "active", 3),
                ],
            ))
            .await
            .unwrap();
        assert_eq!((v2.inserted, v2.updated, v2.rejected), (0, 1, 1));
        assert_eq!(v2.conflicts[0].field.as_deref(), Some("holder_id"));
        assert!(
            v2.conflicts[0].reason.contains("`P2`") && v2.conflicts[0].reason.contains("`P9`"),
            "{}",
            v2.conflicts[0].reason
        );

        let q = s.quarantine_list().await.unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(
            (q[0].line, q[0].kind.as_str(), q[0].original.as_slice()),
            (3, "accounts", &b"A2,P9"[..])
        );
        let counts = s.counts().await.unwrap();
        assert_eq!(
            counts["accounts"], 2,
            "the conflicting record was not stored"
        );

        // The stored holder is still the first one: a conflict never overwrites.
        let again = s
            .write_batch(batch(
                Kind::Accounts,
                vec![account("A2", "P2", "I", "active", 3)],
            ))
            .await
            .unwrap();
        assert_eq!(again.unchanged, 1);
    }
);

both!(
    a_key_repeated_within_one_batch,
    |s: Arc<dyn Store>| async move {
        let o = s
            .write_batch(batch(
                Kind::Accounts,
                vec![
                    account("A1", "P1", "I", "active", 2),
                    account("A1", "P1", "I", "active", 3),
                    account("A1", "P1", "I", "closed", 4),
                    account("A1", "P7", "I", "active", 5),
                ],
            ))
            .await
            .unwrap();
        assert_eq!(
            (o.inserted, o.unchanged, o.updated, o.rejected),
            (1, 1, 1, 1)
        );
        assert_eq!(s.counts().await.unwrap()["accounts"], 1);
    }
);

both!(
    rejections_are_quarantined_once,
    |s: Arc<dyn Store>| async move {
        let rej = Rejection {
            origin: Origin {
                file: "/data/transactions.csv".into(),
                line: 7,
                original: "T1,bad\u{4e2d}".as_bytes().to_vec(),
            },
            kind: "transactions".to_owned(),
            field: Some("amount_fen".to_owned()),
            reason: "must be positive, got -5".to_owned(),
        };
        let b = Batch {
            kind: Kind::Transactions,
            items: vec![transfer("T1", 1, "A", "B", 5)],
            rejections: vec![rej.clone()],
        };
        let o = s.write_batch(b.clone()).await.unwrap();
        assert_eq!((o.inserted, o.rejected), (1, 1));
        // A rerun of the same file quarantines the same record once.
        s.write_batch(b).await.unwrap();
        let q = s.quarantine_list().await.unwrap();
        assert_eq!(q.len(), 1);
        let one = s.quarantine_get(q[0].id).await.unwrap().unwrap();
        assert_eq!(one.field.as_deref(), Some("amount_fen"));
        assert_eq!(one.original, rej.origin.original);
        assert!(s.quarantine_get(q[0].id + 1000).await.unwrap().is_none());
    }
);

both!(text_survives_exactly, |s: Arc<dyn Store>| async move {
    // Tabs, newlines, backslashes and Chinese must survive the COPY path and come back as given.
    let mut item = transfer("T\\1", 5, "A\tB", "C\nD", 7);
    item.row.values[6] = text("备注\\N\r\n");
    s.write_batch(batch(Kind::Transactions, vec![item.clone()]))
        .await
        .unwrap();
    let again = s
        .write_batch(batch(Kind::Transactions, vec![item]))
        .await
        .unwrap();
    assert_eq!(
        again.unchanged, 1,
        "a value mangled on the way in would read back as a change"
    );
    let t = s.transfers_by_id(&["T\\1".to_owned()]).await.unwrap();
    assert_eq!(t[0].from_account.as_deref(), Some("A\tB"));
    assert_eq!(t[0].to_account.as_deref(), Some("C\nD"));
});

both!(
    transfers_are_found_by_id_and_window,
    |s: Arc<dyn Store>| async move {
        s.write_batch(batch(
            Kind::Transactions,
            vec![
                transfer("T1", 1_000_000, "A", "B", 500),
                transfer("T2", 9_000_000_000, "A", "B", 500),
                transfer("T3", 1_000_000, "", "B", 1),
            ],
        ))
        .await
        .unwrap();
        let by_id = s
            .transfers_by_id(&["T1".to_owned(), "nope".to_owned()])
            .await
            .unwrap();
        assert_eq!(by_id.len(), 1);
        assert_eq!((by_id[0].ts, by_id[0].amount_fen), (1_000_000, 500));
        assert_eq!(by_id[0].extra.as_deref(), Some(r#"{"对方户名":"张三"}"#));
        let near = s
            .transfers_matching("A", "B", 500, 0, 300_000_000)
            .await
            .unwrap();
        assert_eq!(
            near.iter().map(|t| t.tx_id.as_str()).collect::<Vec<_>>(),
            vec!["T1"]
        );
        assert!(s
            .transfers_matching("A", "B", 501, 0, 300_000_000)
            .await
            .unwrap()
            .is_empty());
    }
);

both!(
    audit_chain_links_and_verifies,
    |s: Arc<dyn Store>| async move {
        for i in 0..3 {
            s.audit_append("cli:root", "cli.ingest", &format!("{{\"n\":{i}}}"))
                .await
                .unwrap();
        }
        let entries = s.audit_list().await.unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1].prev_hash, entries[0].hash);
        assert_eq!(fanzha_store::verify_audit_chain(&entries), None);
        let mut tampered = entries.clone();
        tampered[1].detail = "{\"n\":99}".to_owned();
        assert_eq!(
            fanzha_store::verify_audit_chain(&tampered),
            Some(tampered[1].id)
        );
    }
);

both!(every_kind_round_trips, |s: Arc<dyn Store>| async move {
    // One row of every kind, with every column filled by a value of its type.
    for kind in Kind::ALL {
        let schema = kind.schema();
        let values = schema
            .columns
            .iter()
            .map(|c| match c.ty {
                fanzha_core::schema::ColType::Int => Value::Int(42),
                fanzha_core::schema::ColType::Text => text(&format!("{}-值", c.name)),
            })
            .collect();
        let item = Item {
            row: Row {
                values,
                extra: None,
            },
            origin: Origin {
                file: "f".into(),
                line: 2,
                original: vec![],
            },
        };
        let o = s
            .write_batch(batch(kind, vec![item.clone()]))
            .await
            .unwrap();
        assert_eq!(o.inserted, 1, "{kind}");
        let o = s.write_batch(batch(kind, vec![item])).await.unwrap();
        assert_eq!(o.unchanged, 1, "{kind}");
    }
    let counts = s.counts().await.unwrap();
    assert!(
        Kind::ALL.iter().all(|k| counts[k.as_str()] == 1),
        "{counts:?}"
    );
});

both!(a_known_key_among_new_ones_is_still_compared, |s: Arc<
    dyn Store,
>| async move {
    // PostgreSQL copies a batch straight into the table when a sample of its keys is unknown;
    // a known key the sample missed must still be found and judged, not duplicated or lost.
    s.write_batch(batch(
        Kind::Accounts,
        vec![account("KNOWN", "P1", "I", "active", 2)],
    ))
    .await
    .unwrap();
    let mut items: Vec<Item> = (0..40)
        .map(|i| account(&format!("NEW{i:02}"), "P2", "I", "active", i + 10))
        .collect();
    items.insert(1, account("KNOWN", "P9", "I", "active", 3));
    let o = s.write_batch(batch(Kind::Accounts, items)).await.unwrap();
    assert_eq!((o.inserted, o.rejected), (40, 1));
    assert_eq!(o.conflicts[0].field.as_deref(), Some("holder_id"));
    assert_eq!(s.counts().await.unwrap()["accounts"], 41);
});

both!(a_record_rejected_again_shows_its_latest_reason, |s: Arc<
    dyn Store,
>| async move {
    let rej = |reason: &str| Rejection {
        origin: Origin {
            file: "/d/accounts.csv".into(),
            line: 3,
            original: reason.as_bytes().to_vec(),
        },
        kind: "accounts".to_owned(),
        field: Some("status".to_owned()),
        reason: reason.to_owned(),
    };
    s.write_batch(Batch {
        kind: Kind::Accounts,
        items: vec![],
        rejections: vec![rej("first")],
    })
    .await
    .unwrap();
    // The file was edited and line 3 is now wrong in another way.
    s.write_batch(Batch {
        kind: Kind::Accounts,
        items: vec![],
        rejections: vec![rej("second")],
    })
    .await
    .unwrap();
    let q = s.quarantine_list().await.unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].reason.as_str(), q[0].original.as_slice()),
        ("second", &b"second"[..])
    );
});

both!(
    a_sim_changing_kind_is_a_conflict,
    |s: Arc<dyn Store>| async move {
        let sim = |kind: &str, deactivated: Value| Item {
            row: Row {
                values: vec![
                    text("13800138000"),
                    Value::Int(1),
                    text("CMCC"),
                    text("P1"),
                    text(kind),
                    deactivated,
                ],
                extra: None,
            },
            origin: Origin {
                file: "sims.csv".into(),
                line: 2,
                original: vec![],
            },
        };
        s.write_batch(batch(Kind::Sims, vec![sim("personal", Value::Null)]))
            .await
            .unwrap();
        let o = s
            .write_batch(batch(Kind::Sims, vec![sim("personal", Value::Int(5))]))
            .await
            .unwrap();
        assert_eq!(o.updated, 1, "deactivation is an update");
        let o = s
            .write_batch(batch(Kind::Sims, vec![sim("iot", Value::Int(5))]))
            .await
            .unwrap();
        assert_eq!(
            (o.rejected, o.conflicts[0].field.as_deref()),
            (1, Some("kind"))
        );
    }
);

both!(
    many_exact_repeats_in_one_batch,
    |s: Arc<dyn Store>| async move {
        let items: Vec<Item> = (0..300)
            .map(|i| account("SAME", "P1", "I", "active", i + 2))
            .collect();
        let o = s.write_batch(batch(Kind::Accounts, items)).await.unwrap();
        assert_eq!((o.inserted, o.unchanged, o.rejected), (1, 299, 0));
    }
);

both!(person_by_id, |s: Arc<dyn Store>| async move {
    let opt = |v: &str| if v.is_empty() { Value::Null } else { text(v) };
    let person = |id: &str, name: &str, phone: &str| Item {
        row: Row {
            values: vec![
                text(id),
                text("resident_id"),
                text(name),
                text("500103001001"),
                opt(phone),
                Value::Null,
                Value::Null,
                text("1990-01-01"),
            ],
            extra: None,
        },
        origin: Origin {
            file: "persons.csv".into(),
            line: 2,
            original: id.as_bytes().to_vec(),
        },
    };
    s.write_batch(batch(
        Kind::Persons,
        vec![
            person("500103199001011234", "张三", "13812345678"),
            person("500103199001015678", "李四", ""),
        ],
    ))
    .await
    .unwrap();
    s.ping().await.unwrap();
    let p = s.person(&fanzha_store::Scope::All, "500103199001011234").await.unwrap().unwrap();
    assert_eq!(
        (p.name.as_deref(), p.phone.as_deref(), p.address.as_deref()),
        (Some("张三"), Some("13812345678"), None)
    );
    assert_eq!(p.birth_date.as_deref(), Some("1990-01-01"));
    let q = s.person(&fanzha_store::Scope::All, "500103199001015678").await.unwrap().unwrap();
    assert_eq!(q.phone, None);
    // Ids are bound as parameters, never spliced into SQL.
    assert_eq!(s.person(&fanzha_store::Scope::All, "' OR '1'='1").await.unwrap(), None);
    assert_eq!(s.person(&fanzha_store::Scope::All, "500103199001019999").await.unwrap(), None);
});

fn user<'a>(
    username: &'a str,
    password_hash: &'a str,
    role: fanzha_core::vocab::Role,
) -> fanzha_store::NewUser<'a> {
    fanzha_store::NewUser {
        username,
        password_hash,
        role,
        institution_code: None,
        jurisdiction_code: None,
    }
}

both!(users_and_sessions, |s: Arc<dyn Store>| async move {
    use fanzha_core::vocab::Role;
    let id = s
        .user_add(&user("analyst1", "$argon2id$v=19$stub", Role::Analyst))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.user_add(&user("analyst1", "$argon2id$v=19$other", Role::Admin))
            .await
            .unwrap(),
        None,
        "a taken username is refused, the first user kept"
    );
    let u = s.user_by_name("analyst1").await.unwrap().unwrap();
    assert_eq!(
        (u.id, u.role, u.password_hash.as_str(), u.disabled_at),
        (id, Role::Analyst, "$argon2id$v=19$stub", None)
    );
    assert_eq!(s.user_by_name("nobody").await.unwrap(), None);

    s.session_add("h1", id, 1_000).await.unwrap();
    assert_eq!(s.session_user("h1", 999).await.unwrap(), Some(u));
    assert_eq!(s.session_user("h1", 1_000).await.unwrap(), None, "expired");
    assert_eq!(s.session_user("h2", 0).await.unwrap(), None, "unknown");
    s.session_remove("h1").await.unwrap();
    assert_eq!(s.session_user("h1", 0).await.unwrap(), None, "logged out");
    s.session_remove("h1").await.unwrap();

    s.session_add("h3", id, 1_000).await.unwrap();
    assert!(s
        .user_set_password("analyst1", "$argon2id$new")
        .await
        .unwrap());
    assert_eq!(
        s.user_by_name("analyst1")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );
    assert_eq!(
        s.session_user("h3", 0).await.unwrap(),
        None,
        "a new password ends the old sessions"
    );
    assert!(!s.user_set_password("nobody", "$argon2id$x").await.unwrap());
});

both!(api_keys_rotate_and_revoke, |s: Arc<dyn Store>| async move {
    use fanzha_core::vocab::Role;
    let old = s
        .api_key_add("hash-old", "ICBC", Role::BankOperator, "core banking")
        .await
        .unwrap();
    let new = s
        .api_key_add("hash-new", "ICBC", Role::BankOperator, "core banking 2")
        .await
        .unwrap();
    assert_ne!(old, new);
    let k = s.api_key_active("hash-old").await.unwrap().unwrap();
    assert_eq!(
        (k.id, k.institution_code.as_str(), k.role, k.revoked_at),
        (old, "ICBC", Role::BankOperator, None)
    );
    assert!(s.api_key_revoke(old).await.unwrap());
    assert!(!s.api_key_revoke(old).await.unwrap(), "already revoked");
    assert!(!s.api_key_revoke(9_999).await.unwrap(), "no such key");
    assert_eq!(s.api_key_active("hash-old").await.unwrap(), None);
    assert!(s.api_key_active("hash-new").await.unwrap().is_some());
    let all = s.api_key_list().await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].revoked_at.is_some() && all[1].revoked_at.is_none());
});
