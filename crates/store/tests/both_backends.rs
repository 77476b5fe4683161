//! The repository contract, run against both backends. PostgreSQL tests use the server at
//! `FANZHA_TEST_PG` (default: this machine's 127.0.0.1:5432, database `test`) and fail —
//! never skip — when it is unreachable: CI must not pass without the shared backend.

use std::sync::Arc;

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_store::{Batch, Item, Origin, Rejection, Store};

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
    Fresh {
        store: fanzha_store::testing::fresh_pg_store("t").await,
        _dir: None,
    }
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

both!(
    audit_batches_chain_in_order_and_continue_the_chain,
    |s: Arc<dyn Store>| async move {
        s.audit_append("cli:root", "cli.ingest", "{}")
            .await
            .unwrap();
        let entry = |i: u32| fanzha_store::NewAuditEntry {
            actor: format!("user:u{i}"),
            action: "lookup.person".to_owned(),
            detail: format!("{{\"n\":{i}}}"),
        };
        let batch = s
            .audit_append_many((0..5).map(entry).collect())
            .await
            .unwrap();
        assert_eq!(batch.len(), 5);
        assert!(s.audit_append_many(Vec::new()).await.unwrap().is_empty());
        s.audit_append("cli:root", "cli.serve", "{}").await.unwrap();
        let entries = s.audit_list().await.unwrap();
        assert_eq!(entries.len(), 7);
        // Returned as stored, in the order given, between the single appends.
        assert_eq!(&entries[1..6], &batch[..]);
        for (i, e) in batch.iter().enumerate() {
            assert_eq!(e.actor, format!("user:u{i}"));
        }
        assert_eq!(batch[0].prev_hash, entries[0].hash);
        assert_eq!(entries[6].prev_hash, batch[4].hash);
        assert_eq!(fanzha_store::verify_audit_chain(&entries), None);
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
    let p = s
        .person(&fanzha_store::Scope::All, "500103199001011234")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.name.as_deref(), p.phone.as_deref(), p.address.as_deref()),
        (Some("张三"), Some("13812345678"), None)
    );
    assert_eq!(p.birth_date.as_deref(), Some("1990-01-01"));
    let q = s
        .person(&fanzha_store::Scope::All, "500103199001015678")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(q.phone, None);
    // Ids are bound as parameters, never spliced into SQL.
    assert_eq!(
        s.person(&fanzha_store::Scope::All, "' OR '1'='1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.person(&fanzha_store::Scope::All, "500103199001019999")
            .await
            .unwrap(),
        None
    );
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
    let reset = fanzha_store::NewUser {
        institution_code: Some("ICBC"),
        ..user("analyst1", "$argon2id$new", Role::BankOperator)
    };
    assert!(s.user_reset(&reset).await.unwrap());
    let after = s.user_by_name("analyst1").await.unwrap().unwrap();
    assert_eq!(after.password_hash, "$argon2id$new");
    assert_eq!(after.role, Role::BankOperator);
    assert_eq!(after.institution_code.as_deref(), Some("ICBC"));
    assert_eq!(
        s.session_user("h3", 0).await.unwrap(),
        None,
        "a new password ends the old sessions"
    );
    assert!(!s
        .user_reset(&user("nobody", "$argon2id$x", Role::Analyst))
        .await
        .unwrap());
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

// ---- The server's scoped reads, on a small hand-made district ----
//
// Jurisdictions: D1 (district) ⊃ T1 (town) ⊃ C1, C2; D1 ⊃ T2 ⊃ C3; another district D2 ⊃ X9.
// P1 (C1) banks at ICBC (A1) and ABC (A2) and has a CMCC SIM (M1); P2 (C3) banks at ICBC (B1)
// and has a CUCC SIM (M2); P3 (X9, another district) banks at BOC (F1). The number M7 was
// P2's at CMCC until day 2, then was ported to CUCC and given to P3: each holder's traffic
// must stay with its holding.

mod district {
    use super::*;
    use fanzha_store::{EntityKind, EntityRef, Field, Profile, Scope};

    /// 2026-03-01T00:00:00+08:00.
    pub const T0: i64 = 1_772_294_400_000_000;
    pub const H: i64 = 3_600_000_000;
    pub const D: i64 = 24 * H;

    pub const P1: &str = "500103199001011234";
    pub const P2: &str = "500103199202022345";
    pub const P3: &str = "110101198803033456";
    pub const A1: &str = "6222000000000001";
    pub const A2: &str = "6228000000000002";
    pub const B1: &str = "6222000000000003";
    pub const F1: &str = "6217000000000004";
    /// Another district's account: only seen in a transfer.
    pub const OUT: &str = "6230000000000099";
    pub const M1: &str = "13800000001";
    pub const M2: &str = "13900000002";
    pub const M7: &str = "13700000007";

    fn v(s: &str) -> Value {
        if s.is_empty() {
            Value::Null
        } else {
            text(s)
        }
    }

    fn t(ts: i64) -> Value {
        Value::Int(ts)
    }

    async fn load(s: &Arc<dyn Store>, kind: Kind, rows: Vec<Vec<Value>>) {
        let n = rows.len() as u64;
        let items = rows
            .into_iter()
            .enumerate()
            .map(|(i, values)| Item {
                row: Row {
                    values,
                    extra: None,
                },
                origin: Origin {
                    file: format!("{kind}.csv").into(),
                    line: i as u64 + 2,
                    original: vec![],
                },
            })
            .collect();
        let o = s.write_batch(batch(kind, items)).await.unwrap();
        assert_eq!(o.inserted, n, "{kind}: {o:?}");
    }

    fn party(n: &str) -> [Value; 3] {
        [text(n), text(n), text("mobile")]
    }

    pub async fn load_all(s: &Arc<dyn Store>) {
        let j = |code: &str, level: &str, parent: &str| {
            vec![text(code), text(code), text(level), v(parent), Value::Null]
        };
        load(
            s,
            Kind::Jurisdictions,
            vec![
                j("D1", "district", ""),
                j("T1", "town", "D1"),
                j("C1", "community", "T1"),
                j("C2", "community", "T1"),
                j("T2", "town", "D1"),
                j("C3", "community", "T2"),
                j("D2", "district", ""),
                j("X9", "community", "D2"),
            ],
        )
        .await;
        let p = |id: &str, name: &str, community: &str, phone: &str, addr: &str, tags: &str| {
            vec![
                text(id),
                text("resident"),
                text(name),
                text(community),
                v(phone),
                v(addr),
                v(tags),
                text("1990-01-01"),
            ]
        };
        load(
            s,
            Kind::Persons,
            vec![
                p(P1, "张三", "C1", M1, "解放路1号", "elderly"),
                p(P2, "张四", "C3", "", "", ""),
                p(P3, "李五", "X9", "", "", ""),
            ],
        )
        .await;
        let a = |id: &str, bank: &str, holder: &str, opened: i64| {
            vec![
                text(id),
                text(bank),
                text(holder),
                t(opened),
                text("I"),
                text("active"),
            ]
        };
        load(
            s,
            Kind::Accounts,
            vec![
                a(A1, "ICBC", P1, T0 - 30 * D),
                a(A2, "ABC", P1, T0 - 20 * D),
                a(B1, "ICBC", P2, T0 - 40 * D),
                a(F1, "BOC", P3, T0 - 50 * D),
            ],
        )
        .await;
        let sim = |m: &str, at: i64, carrier: &str, holder: &str, off: Option<i64>| {
            vec![
                text(m),
                t(at),
                text(carrier),
                text(holder),
                text("personal"),
                off.map_or(Value::Null, Value::Int),
            ]
        };
        load(
            s,
            Kind::Sims,
            vec![
                sim(M1, T0 - 10 * D, "CMCC", P1, None),
                sim(M2, T0 - 10 * D, "CUCC", P2, None),
                sim(M7, T0 - 10 * D, "CMCC", P2, Some(T0 + D)),
                sim(M7, T0 + D, "CUCC", P3, None),
            ],
        )
        .await;
        let tx = |id: &str, ts: i64, from: &str, to: &str, amount: i64, ch: &str, dev: &str| {
            vec![
                text(id),
                t(ts),
                v(from),
                v(to),
                Value::Int(amount),
                text(ch),
                Value::Null,
                v(dev),
                Value::Null,
                Value::Null,
                text("card"),
                text("card"),
            ]
        };
        load(
            s,
            Kind::Transactions,
            vec![
                tx("X1", T0 + H, A1, B1, 10_000, "transfer", "DEV1"),
                tx("X2", T0 + 2 * H, A1, F1, 20_000, "online_pay", ""),
                tx("X3", T0 + 3 * H, F1, A2, 30_000, "transfer", "DEVF"),
                tx("X4", T0 + 4 * H, A1, OUT, 5_000, "transfer", ""),
                tx("X5", T0 + 5 * H, A1, "", 1_000, "atm_withdrawal", ""),
            ],
        )
        .await;
        let call = |id: &str, ts: i64, from: &str, to: &str, secs: i64, imei: &str| {
            let mut r = vec![text(id), t(ts)];
            r.extend(party(from));
            r.extend(party(to));
            r.extend([Value::Int(secs), text("voice"), Value::Null, v(imei)]);
            r
        };
        load(
            s,
            Kind::Calls,
            vec![
                call("K1", T0 + H, M1, M2, 60, "IMEI1"),
                call("K2", T0 + 2 * H, M2, M1, 30, ""),
                // M7 as P2's (CMCC) number, then as P3's (CUCC).
                call("K4", T0 + 6 * H, M7, M1, 20, ""),
                call("K3", T0 + 2 * D, M7, M1, 45, "IMEI9"),
            ],
        )
        .await;
        let mut sms = vec![text("S1"), t(T0 + 3 * H)];
        sms.extend(party(M1));
        sms.extend(party(M2));
        sms.extend([text("您好"), Value::Null]);
        load(s, Kind::Sms, vec![sms]).await;
        let login = |id: &str, ts: i64, subject: &str, dev: &str| {
            vec![
                text(id),
                t(ts),
                text(subject),
                text(dev),
                Value::Null,
                Value::Null,
            ]
        };
        load(
            s,
            Kind::Logins,
            vec![
                login("L1", T0 + H, A1, "DEV1"),
                login("L2", T0 + 2 * H, F1, "DEV1"),
                login("L3", T0 + 3 * H, M1, "IMEI1"),
            ],
        )
        .await;
        let report = |id: &str, ts: i64, victim: &str, typ: &str, loss: i64, community: &str| {
            vec![
                text(id),
                t(ts),
                text(victim),
                text(typ),
                Value::Int(loss),
                Value::Null,
                v(community),
                text("110"),
            ]
        };
        load(
            s,
            Kind::Reports,
            vec![
                report("R1", T0 + 2 * H, P1, "fake_investment", 30_000, "C1"),
                report("R2", T0 + 26 * H, P3, "romance", 5_000, "X9"),
                // The last microsecond of 1 March in Shanghai; no community of its own: it
                // belongs to its victim's (C3).
                report("R3", T0 + D - 1, P2, "order_brushing", 1_000, ""),
            ],
        )
        .await;
        let case = |id: &str, filed: i64, reports: &str| {
            vec![
                text(id),
                t(filed),
                text(reports),
                Value::Null,
                Value::Null,
                Value::Null,
            ]
        };
        load(
            s,
            Kind::Cases,
            vec![
                case("CASE1", T0 + D + H, "R1|R3"),
                case("CASE2", T0 + 2 * D, "R2"),
            ],
        )
        .await;
    }

    pub fn juris(code: &str) -> Scope {
        Scope::Jurisdiction(code.to_owned())
    }

    pub fn inst(code: &str) -> Scope {
        Scope::Institution(code.to_owned())
    }

    pub async fn profile(
        s: &Arc<dyn Store>,
        scope: &Scope,
        kind: EntityKind,
        id: &str,
    ) -> Option<Profile> {
        s.profile(
            scope,
            &EntityRef {
                kind,
                id: id.to_owned(),
            },
            50,
        )
        .await
        .unwrap()
    }

    /// (relation, target id, weight) of every link, in order.
    pub fn links(p: &Profile) -> Vec<(&'static str, String, u64)> {
        p.links
            .iter()
            .map(|l| (l.relation, l.target.id.clone(), l.weight))
            .collect()
    }

    /// (what, counterparty id) of every event, in order.
    pub fn history(p: &Profile) -> Vec<(&'static str, Option<String>)> {
        p.history
            .iter()
            .map(|e| (e.what, e.counterparty.as_ref().map(|c| c.id.clone())))
            .collect()
    }

    pub fn attr(p: &Profile, key: &str) -> Option<(String, Field)> {
        p.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| (a.value.clone(), a.field))
    }

    /// An owned string, for comparing with what a profile holds.
    pub fn o(x: &str) -> String {
        x.to_owned()
    }
}

use district::*;
use fanzha_store::{EntityKind, Field, Scope};

both!(person_honours_its_scope, |s: Arc<dyn Store>| async move {
    load_all(&s).await;
    let seen = |scope: Scope, id: &'static str| {
        let s = s.clone();
        async move { s.person(&scope, id).await.unwrap().is_some() }
    };
    assert!(seen(Scope::All, P3).await);
    // A town sees its communities, a district its towns' communities: the walk is recursive.
    assert!(seen(juris("T1"), P1).await);
    assert!(!seen(juris("T1"), P2).await, "C3 is under T2, not T1");
    assert!(seen(juris("D1"), P2).await);
    assert!(!seen(juris("D1"), P3).await, "another district");
    assert!(seen(juris("C1"), P1).await);
    assert!(!seen(juris("NOWHERE"), P1).await);
    // An institution sees the holders of its own accounts and SIMs.
    assert!(seen(inst("ICBC"), P2).await);
    assert!(!seen(inst("ICBC"), P3).await);
    assert!(seen(inst("CMCC"), P1).await);
    assert!(seen(inst("BOC"), P3).await);
    assert!(!seen(inst("BOC"), P1).await);
    // Codes are bound too: a hostile one sees nothing.
    assert!(!seen(juris("' OR '1'='1"), P1).await);
    assert!(!seen(inst("x' OR 1=1 --"), P1).await);
});

both!(profiles_of_every_kind, |s: Arc<dyn Store>| async move {
    load_all(&s).await;
    let all = Scope::All;

    let p1 = profile(&s, &all, EntityKind::Person, P1).await.unwrap();
    assert_eq!(p1.community_code.as_deref(), Some("C1"));
    assert_eq!(attr(&p1, "name"), Some((o("张三"), Field::Name)));
    assert_eq!(attr(&p1, "phone"), Some((o(M1), Field::Phone)));
    assert_eq!(attr(&p1, "address"), Some((o("解放路1号"), Field::Text)));
    assert_eq!(attr(&p1, "id_kind"), Some((o("resident"), Field::Plain)));
    assert_eq!(attr(&p1, "tags"), Some((o("elderly"), Field::Plain)));
    assert_eq!(attr(&p1, "community_code"), Some((o("C1"), Field::Plain)));
    assert_eq!(attr(&p1, "birth_date").map(|a| a.1), Some(Field::Text));
    assert_eq!(
        links(&p1),
        vec![
            ("holds_account", o(A2), 1),
            ("holds_account", o(A1), 1),
            ("holds_sim", o(M1), 1)
        ]
    );
    assert_eq!(
        history(&p1),
        vec![
            ("report", None),
            ("activated", Some(o(M1))),
            ("opened", Some(o(A2))),
            ("opened", Some(o(A1)))
        ]
    );
    assert_eq!(
        (p1.history[0].amount_fen, p1.history[0].note.as_str()),
        (Some(30_000), "fake_investment")
    );
    assert_eq!(
        p1.history[2].counterparty.as_ref().unwrap().kind,
        EntityKind::Account
    );

    let a1 = profile(&s, &all, EntityKind::Account, A1).await.unwrap();
    assert_eq!(a1.community_code.as_deref(), Some("C1"), "the holder's");
    assert_eq!(attr(&a1, "bank_code"), Some((o("ICBC"), Field::Plain)));
    assert_eq!(attr(&a1, "holder"), Some((o(P1), Field::IdNumber)));
    assert_eq!(
        attr(&a1, "opened_at"),
        Some((o("2026-01-30 00:00:00"), Field::Plain)),
        "Beijing time"
    );
    assert_eq!(
        links(&a1),
        vec![
            ("held_by", o(P1), 1),
            // A transfer from DEV1 and a log-in on it.
            ("used_device", o("DEV1"), 2),
            ("paid", o(OUT), 1),
            ("paid", o(F1), 1),
            ("paid", o(B1), 1),
        ]
    );
    let dev = &a1.links[1];
    assert_eq!(
        (dev.target.kind, dev.first_at, dev.last_at),
        (EntityKind::Device, Some(T0 + H), Some(T0 + H))
    );
    assert_eq!(
        history(&a1),
        vec![
            ("transfer_out", None),
            ("transfer_out", Some(o(OUT))),
            ("transfer_out", Some(o(F1))),
            ("transfer_out", Some(o(B1)))
        ]
    );
    assert_eq!(
        (
            a1.history[0].amount_fen,
            a1.history[0].note.as_str(),
            a1.history[0].at
        ),
        (Some(1_000), "atm_withdrawal", T0 + 5 * H)
    );
    let a2 = profile(&s, &all, EntityKind::Account, A2).await.unwrap();
    assert_eq!(history(&a2), vec![("transfer_in", Some(o(F1)))]);
    assert!(links(&a2).contains(&("paid_by", o(F1), 1)));

    // An account known only from a transfer: no attributes, but its history.
    let out = profile(&s, &all, EntityKind::Account, OUT).await.unwrap();
    assert!(out.attributes.is_empty() && out.community_code.is_none());
    assert_eq!(history(&out), vec![("transfer_in", Some(o(A1)))]);

    let m1 = profile(&s, &all, EntityKind::Sim, M1).await.unwrap();
    assert_eq!(attr(&m1, "carrier"), Some((o("CMCC"), Field::Plain)));
    assert_eq!(attr(&m1, "holder"), Some((o(P1), Field::IdNumber)));
    assert_eq!(m1.community_code.as_deref(), Some("C1"));
    assert_eq!(
        links(&m1),
        vec![
            ("held_by", o(P1), 1),
            ("called_by", o(M7), 2),
            // A call from IMEI1 and a log-in on it.
            ("used_device", o("IMEI1"), 2),
            ("called_by", o(M2), 1),
            ("called", o(M2), 1),
        ]
    );
    assert_eq!(
        history(&m1),
        vec![
            ("call_in", Some(o(M7))),
            ("call_in", Some(o(M7))),
            ("sms_out", Some(o(M2))),
            ("call_in", Some(o(M2))),
            ("call_out", Some(o(M2)))
        ]
    );
    assert_eq!(m1.history[4].note, "voice 60s");
    assert_eq!(m1.history[2].note, "", "a message's text is not a note");

    // A recycled number: the latest holding's attributes, every holder.
    let m7 = profile(&s, &all, EntityKind::Sim, M7).await.unwrap();
    assert_eq!(attr(&m7, "holder"), Some((o(P3), Field::IdNumber)));
    assert_eq!(
        links(&m7)
            .into_iter()
            .filter(|l| l.0 == "held_by")
            .collect::<Vec<_>>(),
        vec![("held_by", o(P3), 1), ("held_by", o(P2), 1)]
    );

    let dev1 = profile(&s, &all, EntityKind::Device, "DEV1").await.unwrap();
    assert!(dev1.attributes.is_empty());
    assert_eq!(
        links(&dev1),
        vec![("used_by", o(A1), 2), ("used_by", o(F1), 1)]
    );
    assert_eq!(dev1.links[0].target.kind, EntityKind::Account);
    assert_eq!(
        history(&dev1),
        vec![("login", Some(o(F1))), ("login", Some(o(A1)))]
    );
    let imei = profile(&s, &all, EntityKind::Device, "IMEI1")
        .await
        .unwrap();
    assert_eq!(links(&imei), vec![("used_by", o(M1), 2)]);
    assert_eq!(imei.links[0].target.kind, EntityKind::Sim);

    for (kind, id) in [
        (EntityKind::Person, "500103199001019999"),
        (EntityKind::Account, "6222999999999999"),
        (EntityKind::Sim, "13311112222"),
        (EntityKind::Device, "NO-SUCH-DEVICE"),
        // Right id, wrong kind.
        (EntityKind::Person, A1),
        (EntityKind::Device, P1),
    ] {
        assert_eq!(profile(&s, &all, kind, id).await, None, "{kind:?} {id}");
    }
});

both!(a_jurisdiction_sees_nothing_outside_it, |s: Arc<
    dyn Store,
>| async move {
    load_all(&s).await;
    let t1 = juris("T1");
    let p1 = profile(&s, &t1, EntityKind::Person, P1).await.unwrap();
    assert_eq!(links(&p1).len(), 3, "all of an in-scope person's holdings");
    for (kind, id) in [
        (EntityKind::Person, P2),
        (EntityKind::Person, P3),
        (EntityKind::Account, B1),
        (EntityKind::Account, F1),
        (EntityKind::Account, OUT),
        (EntityKind::Sim, M2),
        (EntityKind::Sim, M7),
        (EntityKind::Device, "DEVF"),
        (EntityKind::Device, "IMEI9"),
    ] {
        assert_eq!(profile(&s, &t1, kind, id).await, None, "{kind:?} {id}");
    }
    // The counterpart of a transfer is part of A1's own history; its profile is refused above.
    let a1 = profile(&s, &t1, EntityKind::Account, A1).await.unwrap();
    assert!(links(&a1).contains(&("paid", o(F1), 1)));
    // DEV1 was also used by a foreign account; the town sees only its own account's uses.
    let dev1 = profile(&s, &t1, EntityKind::Device, "DEV1").await.unwrap();
    assert_eq!(links(&dev1), vec![("used_by", o(A1), 2)]);
    assert_eq!(history(&dev1), vec![("login", Some(o(A1)))]);

    // The district sees both of its towns, not the other district.
    let d1 = juris("D1");
    assert!(profile(&s, &d1, EntityKind::Account, B1).await.is_some());
    assert_eq!(profile(&s, &d1, EntityKind::Account, F1).await, None);

    // M7's traffic stays with the holding it happened in.
    let t2 = profile(&s, &juris("T2"), EntityKind::Sim, M7)
        .await
        .unwrap();
    assert_eq!(attr(&t2, "holder"), Some((o(P2), Field::IdNumber)));
    assert_eq!(history(&t2), vec![("call_out", Some(o(M1)))]);
    assert_eq!(t2.history[0].at, T0 + 6 * H);
    assert_eq!(
        links(&t2),
        vec![("held_by", o(P2), 1), ("called", o(M1), 1)]
    );
    let x9 = profile(&s, &juris("X9"), EntityKind::Sim, M7)
        .await
        .unwrap();
    assert_eq!(x9.history.len(), 1);
    assert_eq!(x9.history[0].at, T0 + 2 * D);
    assert_eq!(
        links(&x9),
        vec![
            ("held_by", o(P3), 1),
            ("called", o(M1), 1),
            ("used_device", o("IMEI9"), 1)
        ]
    );
    // P3's phone (IMEI9) is only known from a call made while M7 was P3's.
    assert_eq!(
        profile(&s, &juris("T2"), EntityKind::Device, "IMEI9").await,
        None
    );
    assert!(profile(&s, &juris("X9"), EntityKind::Device, "IMEI9")
        .await
        .is_some());
});

both!(
    an_institution_sees_only_its_own,
    |s: Arc<dyn Store>| async move {
        load_all(&s).await;
        let icbc = inst("ICBC");
        // P1 banks at ICBC and ABC: each bank sees only its own account, and no police report.
        let p1 = profile(&s, &icbc, EntityKind::Person, P1).await.unwrap();
        assert_eq!(links(&p1), vec![("holds_account", o(A1), 1)]);
        assert_eq!(history(&p1), vec![("opened", Some(o(A1)))]);
        let p1 = profile(&s, &inst("ABC"), EntityKind::Person, P1)
            .await
            .unwrap();
        assert_eq!(links(&p1), vec![("holds_account", o(A2), 1)]);
        assert_eq!(history(&p1), vec![("opened", Some(o(A2)))]);
        let p1 = profile(&s, &inst("CMCC"), EntityKind::Person, P1)
            .await
            .unwrap();
        assert_eq!(links(&p1), vec![("holds_sim", o(M1), 1)]);

        for (kind, id) in [
            (EntityKind::Account, A2),
            (EntityKind::Account, F1),
            (EntityKind::Account, OUT),
            (EntityKind::Person, P3),
            (EntityKind::Sim, M1),
            (EntityKind::Device, "DEVF"),
            (EntityKind::Device, "IMEI1"),
        ] {
            assert_eq!(profile(&s, &icbc, kind, id).await, None, "{kind:?} {id}");
        }
        assert!(profile(&s, &icbc, EntityKind::Account, B1).await.is_some());
        assert_eq!(
            profile(&s, &inst("ABC"), EntityKind::Account, A1).await,
            None
        );
        let dev1 = profile(&s, &icbc, EntityKind::Device, "DEV1")
            .await
            .unwrap();
        assert_eq!(links(&dev1), vec![("used_by", o(A1), 2)]);

        // The ported number: each carrier sees the traffic of its own holding only.
        let cmcc = profile(&s, &inst("CMCC"), EntityKind::Sim, M7)
            .await
            .unwrap();
        assert_eq!(cmcc.history.len(), 1);
        assert_eq!(cmcc.history[0].at, T0 + 6 * H);
        let cucc = profile(&s, &inst("CUCC"), EntityKind::Sim, M7)
            .await
            .unwrap();
        assert_eq!(cucc.history.len(), 1);
        assert_eq!(cucc.history[0].at, T0 + 2 * D);
        assert_eq!(attr(&cucc, "carrier"), Some((o("CUCC"), Field::Plain)));
        assert_eq!(
            profile(&s, &inst("CUCC"), EntityKind::Device, "IMEI1").await,
            None
        );
        assert!(profile(&s, &inst("CMCC"), EntityKind::Device, "IMEI1")
            .await
            .is_some());
    }
);

both!(
    profiles_are_bounded_by_the_limit,
    |s: Arc<dyn Store>| async move {
        load_all(&s).await;
        let a1 = fanzha_store::EntityRef {
            kind: EntityKind::Account,
            id: A1.to_owned(),
        };
        let p = s.profile(&Scope::All, &a1, 2).await.unwrap().unwrap();
        assert_eq!(
            links(&p),
            vec![("held_by", o(P1), 1), ("used_device", o("DEV1"), 2)]
        );
        assert_eq!(
            history(&p),
            vec![("transfer_out", None), ("transfer_out", Some(o(OUT)))]
        );
        let p = s.profile(&Scope::All, &a1, 0).await.unwrap().unwrap();
        assert!(p.links.is_empty() && p.history.is_empty());
        assert!(
            !p.attributes.is_empty(),
            "the limit bounds lists, not attributes"
        );
    }
);

both!(search_is_exact_or_a_name_prefix_and_scoped, |s: Arc<
    dyn Store,
>| async move {
    load_all(&s).await;
    let hits = |scope: Scope, q: &'static str, limit: u32| {
        let s = s.clone();
        async move {
            s.search(&scope, q, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|h| {
                    (
                        h.entity.kind,
                        h.entity.id,
                        h.matched,
                        h.label,
                        h.label_field,
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        hits(Scope::All, "张", 10).await,
        vec![
            (EntityKind::Person, o(P1), "name", o("张三"), Field::Name),
            (EntityKind::Person, o(P2), "name", o("张四"), Field::Name)
        ]
    );
    assert_eq!(hits(Scope::All, "张", 1).await.len(), 1);
    assert_eq!(hits(Scope::All, " 张三 ", 10).await.len(), 1, "trimmed");
    assert_eq!(hits(juris("T1"), "张", 10).await.len(), 1);
    assert_eq!(hits(inst("ABC"), "张", 10).await[0].1, P1);
    assert_eq!(
        hits(Scope::All, P1, 10).await,
        vec![(EntityKind::Person, o(P1), "id", o("张三"), Field::Name)]
    );
    assert_eq!(
        hits(Scope::All, A1, 10).await,
        vec![(EntityKind::Account, o(A1), "id", o("ICBC"), Field::Plain)]
    );
    assert_eq!(
        hits(Scope::All, M1, 10).await,
        vec![(EntityKind::Sim, o(M1), "phone", o("CMCC"), Field::Plain)]
    );
    assert_eq!(hits(Scope::All, "DEV1", 10).await[0].0, EntityKind::Device);
    assert!(hits(inst("ABC"), A1, 10).await.is_empty());
    assert!(hits(juris("T1"), F1, 10).await.is_empty());
    assert!(hits(juris("T1"), "DEVF", 10).await.is_empty());
    assert!(hits(Scope::All, "张", 0).await.is_empty());
    // Injection and wildcard strings are plain text: they match nothing and change nothing.
    for q in [
        "' OR '1'='1",
        "张%",
        "%",
        "_",
        "%张",
        "\\",
        "'; DROP TABLE persons; --",
        "\") OR 1=1 --",
        "a\0b",
        "",
        "   ",
    ] {
        assert!(hits(Scope::All, q, 10).await.is_empty(), "{q:?}");
    }
    let long: &'static str = Box::leak("张".repeat(65).into_boxed_str());
    assert!(hits(Scope::All, long, 10).await.is_empty());
    assert_eq!(s.counts().await.unwrap()["persons"], 3);
});

both!(
    dashboard_by_shanghai_day_and_scope,
    |s: Arc<dyn Store>| async move {
        load_all(&s).await;
        let figures = |scope: Scope, from: i64, to: i64| {
            let s = s.clone();
            async move {
                let d = s.dashboard(&scope, from, to).await.unwrap();
                (
                    d.days
                        .iter()
                        .map(|f| (f.day.clone(), f.reports, f.cases, f.loss_fen))
                        .collect::<Vec<_>>(),
                    d.by_typology,
                )
            }
        };
        let (days, types) = figures(Scope::All, T0, T0 + 3 * D).await;
        assert_eq!(
            days,
            vec![
                // R3 at 23:59:59.999999 Beijing time is still 1 March.
                (o("2026-03-01"), 2, 0, 31_000),
                (o("2026-03-02"), 1, 1, 5_000),
                (o("2026-03-03"), 0, 1, 0),
            ]
        );
        assert_eq!(
            types,
            vec![
                (o("fake_investment"), 1, 30_000),
                (o("order_brushing"), 1, 1_000),
                (o("romance"), 1, 5_000)
            ]
        );
        // T1 has R1 (its own community) and CASE1 through it.
        let (days, types) = figures(juris("T1"), T0, T0 + 3 * D).await;
        assert_eq!(
            days,
            vec![
                (o("2026-03-01"), 1, 0, 30_000),
                (o("2026-03-02"), 0, 1, 0),
                (o("2026-03-03"), 0, 0, 0),
            ]
        );
        assert_eq!(types, vec![(o("fake_investment"), 1, 30_000)]);
        // R3 has no community: it counts for its victim's (C3, under T2).
        let (days, _) = figures(juris("T2"), T0, T0 + 3 * D).await;
        assert_eq!((days[0].1, days[0].3, days[1].2), (1, 1_000, 1));
        let (days, _) = figures(juris("X9"), T0, T0 + 3 * D).await;
        assert_eq!((days[1].1, days[2].2), (1, 1));
        // An institution counts the reports of its customers.
        let (days, _) = figures(inst("BOC"), T0, T0 + 3 * D).await;
        assert_eq!(days.iter().map(|d| d.1).sum::<u64>(), 1);
        // The window is half-open, in UTC micros.
        let (days, _) = figures(Scope::All, T0 + D, T0 + 2 * D).await;
        assert_eq!(days, vec![(o("2026-03-02"), 1, 1, 5_000)]);
        let (days, types) = figures(Scope::All, T0, T0).await;
        assert!(days.is_empty() && types.is_empty());
        // A window of centuries keeps its last days rather than building millions.
        let d = s.dashboard(&Scope::All, i64::MIN, i64::MAX).await.unwrap();
        assert_eq!(d.days.len(), fanzha_store::DASHBOARD_MAX_DAYS as usize);

        assert_eq!(s.data_end().await.unwrap(), Some(T0 + 2 * D));
    }
);

both!(reads_of_an_empty_store, |s: Arc<dyn Store>| async move {
    for kind in EntityKind::ALL {
        let e = fanzha_store::EntityRef {
            kind,
            id: "X".to_owned(),
        };
        assert_eq!(s.profile(&Scope::All, &e, 10).await.unwrap(), None);
    }
    assert!(s.search(&Scope::All, "张", 10).await.unwrap().is_empty());
    let d = s.dashboard(&Scope::All, T0, T0 + 2 * D).await.unwrap();
    assert_eq!(d.days.len(), 2);
    assert!(d
        .days
        .iter()
        .all(|f| f.reports == 0 && f.cases == 0 && f.loss_fen == 0));
    assert_eq!(s.data_end().await.unwrap(), None);
    let (page, total) = s
        .audit_page(&fanzha_store::AuditFilter::default(), 10, 0)
        .await
        .unwrap();
    assert!(page.is_empty() && total == 0);
    assert!(s.flag_list().await.unwrap().is_empty());
});

both!(audit_pages_newest_first_with_a_total, |s: Arc<
    dyn Store,
>| async move {
    use fanzha_store::AuditFilter;
    for (actor, action) in [
        ("user:a", "person.view"),
        ("user:b", "person.reveal"),
        ("user:a", "cli.ingest"),
        ("user:a", "person.view"),
        ("user:c", "personal.other"),
    ] {
        s.audit_append(actor, action, "{}").await.unwrap();
    }
    let all = s.audit_list().await.unwrap();
    let page = |f: AuditFilter, limit: u32, offset: u64| {
        let s = s.clone();
        async move {
            let (entries, total) = s.audit_page(&f, limit, offset).await.unwrap();
            (entries.iter().map(|e| e.id).collect::<Vec<_>>(), total)
        }
    };
    let id = |i: usize| all[i].id;
    assert_eq!(
        page(AuditFilter::default(), 2, 0).await,
        (vec![id(4), id(3)], 5)
    );
    assert_eq!(page(AuditFilter::default(), 2, 4).await, (vec![id(0)], 5));
    assert_eq!(page(AuditFilter::default(), 2, 9).await, (vec![], 5));
    let by_a = AuditFilter {
        actor: Some("user:a".into()),
        ..AuditFilter::default()
    };
    assert_eq!(
        page(by_a.clone(), 10, 0).await,
        (vec![id(3), id(2), id(0)], 3)
    );
    let person = AuditFilter {
        action_prefix: Some("person.".into()),
        ..AuditFilter::default()
    };
    assert_eq!(
        page(person.clone(), 10, 0).await,
        (vec![id(3), id(1), id(0)], 3)
    );
    let both = AuditFilter {
        actor: Some("user:a".into()),
        action_prefix: Some("person.".into()),
        ..AuditFilter::default()
    };
    assert_eq!(page(both, 1, 0).await, (vec![id(3)], 2));
    let window = AuditFilter {
        from: Some(all[0].at),
        to: Some(i64::MAX),
        ..AuditFilter::default()
    };
    assert_eq!(page(window, 10, 0).await.1, 5);
    let future = AuditFilter {
        from: Some(i64::MAX),
        ..AuditFilter::default()
    };
    assert_eq!(page(future, 10, 0).await, (vec![], 0));
    for hostile in ["%", "_erson", "' OR '1'='1", "p\0"] {
        let f = AuditFilter {
            action_prefix: Some(hostile.into()),
            actor: Some(hostile.into()),
            ..AuditFilter::default()
        };
        assert_eq!(page(f, 10, 0).await, (vec![], 0), "{hostile:?}");
    }
});

both!(insider_flags_once_per_user_day_and_rule, |s: Arc<
    dyn Store,
>| async move {
    let first = s
        .flag_add("analyst1", "2026-03-01", "peer_volume", r#"{"n":40}"#)
        .await
        .unwrap();
    assert!(first.is_some());
    assert_eq!(
        s.flag_add("analyst1", "2026-03-01", "peer_volume", r#"{"n":41}"#)
            .await
            .unwrap(),
        None,
        "the detector rerun raises nothing twice"
    );
    let other = s
        .flag_add("analyst1", "2026-03-01", "out_of_scope", "{}")
        .await
        .unwrap()
        .unwrap();
    let flags = s.flag_list().await.unwrap();
    assert_eq!(flags.len(), 2);
    assert!(flags[0].raised_at >= flags[1].raised_at, "newest first");
    let f = flags.iter().find(|f| Some(f.id) == first).unwrap();
    assert_eq!(
        (
            f.username.as_str(),
            f.day.as_str(),
            f.rule.as_str(),
            f.detail.as_str()
        ),
        ("analyst1", "2026-03-01", "peer_volume", r#"{"n":40}"#)
    );
    assert_eq!(f.reviewed_by, None);

    assert!(s.flag_review(other, "auditor1").await.unwrap());
    assert!(s.flag_review(other, "auditor2").await.unwrap());
    assert!(!s.flag_review(other + 1_000, "auditor1").await.unwrap());
    let flags = s.flag_list().await.unwrap();
    let f = flags.iter().find(|f| f.id == other).unwrap();
    assert_eq!(
        f.reviewed_by.as_deref(),
        Some("auditor1"),
        "the first review stands"
    );
});

both!(
    a_first_bulk_load_builds_its_read_indexes_at_the_end,
    |s: Arc<dyn Store>| async move {
        assert!(
            s.defer_read_indexes(Kind::Transactions).await.unwrap(),
            "an empty table defers"
        );
        assert!(
            !s.defer_read_indexes(Kind::Balances).await.unwrap(),
            "a kind without read indexes has nothing to defer"
        );
        load_all(&s).await;
        // Reads are right without the indexes, and with them.
        let a1 = profile(&s, &Scope::All, EntityKind::Account, A1)
            .await
            .unwrap();
        s.build_read_indexes(Kind::Transactions).await.unwrap();
        s.build_read_indexes(Kind::Transactions).await.unwrap();
        assert_eq!(
            profile(&s, &Scope::All, EntityKind::Account, A1).await,
            Some(a1)
        );
        assert!(
            !s.defer_read_indexes(Kind::Transactions).await.unwrap(),
            "a table with rows keeps its indexes"
        );
    }
);

both!(holdings_of_an_identity_across_institutions, |s: Arc<
    dyn Store,
>| async move {
    s.write_batch(batch(
        Kind::Accounts,
        vec![
            account("6222020000000001", "P1", "I", "active", 2),
            account("6222020000000002", "P1", "II", "closed", 3),
            account("6222020000000003", "P2", "I", "active", 4),
        ],
    ))
    .await
    .unwrap();
    let sim = |msisdn: &str, carrier: &str, deactivated: Option<i64>, line: u64| Item {
        row: Row {
            values: vec![
                text(msisdn),
                Value::Int(1_772_000_000_000_000),
                text(carrier),
                text("P1"),
                text("personal"),
                deactivated.map_or(Value::Null, Value::Int),
            ],
            extra: None,
        },
        origin: Origin {
            file: "sims.csv".into(),
            line,
            original: msisdn.as_bytes().to_vec(),
        },
    };
    s.write_batch(batch(
        Kind::Sims,
        vec![
            sim("13800000001", "CMCC", None, 2),
            sim("13800000002", "CUCC", Some(1_772_100_000_000_000), 3),
        ],
    ))
    .await
    .unwrap();
    let h = s.holdings("P1").await.unwrap();
    let got: Vec<(&str, &str, &str, Option<&str>, bool)> = h
        .iter()
        .map(|h| {
            (
                h.kind,
                h.id.as_str(),
                h.institution_code.as_str(),
                h.class.as_deref(),
                h.active,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("account", "6222020000000001", "ICBC", Some("I"), true),
            ("account", "6222020000000002", "ICBC", Some("II"), false),
            ("sim", "13800000001", "CMCC", None, true),
            ("sim", "13800000002", "CUCC", None, false),
        ]
    );
    assert_eq!(h[0].since, 1_772_000_000_000_000);
    assert!(s.holdings("NOBODY").await.unwrap().is_empty());
    assert!(s.holdings("P1\0").await.unwrap().is_empty());
});
