//! The SQLite backend's read pool: reads run on read-only connections beside the one writer,
//! see every committed batch, and an in-memory database (private to each connection) still
//! works because there the writer reads too.

use std::sync::Arc;

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_store::{Batch, EntityKind, EntityRef, Item, Origin, Scope, Store};

fn person(id: &str, name: &str) -> Item {
    let t = |s: &str| Value::Text(s.to_owned());
    Item {
        row: Row {
            values: vec![
                t(id),
                t("resident"),
                t(name),
                t("C1"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ],
            extra: None,
        },
        origin: Origin {
            file: "persons.csv".into(),
            line: 2,
            original: vec![],
        },
    }
}

fn persons(items: Vec<Item>) -> Batch {
    Batch {
        kind: Kind::Persons,
        items,
        rejections: Vec::new(),
    }
}

fn entity(id: &str) -> EntityRef {
    EntityRef {
        kind: EntityKind::Person,
        id: id.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_store_reads_its_own_writes() {
    let s = fanzha_store::open(":memory:").await.unwrap();
    s.write_batch(persons(vec![person("P1", "张三")]))
        .await
        .unwrap();
    assert!(s.person(&Scope::All, "P1").await.unwrap().is_some());
    assert!(s
        .profile(&Scope::All, &entity("P1"), 10)
        .await
        .unwrap()
        .is_some());
    assert_eq!(s.counts().await.unwrap()["persons"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_reads_beside_a_writer_all_see_committed_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s: Arc<dyn Store> = fanzha_store::open(path.to_str().unwrap()).await.unwrap();
    s.write_batch(persons(vec![person("P0", "张三")]))
        .await
        .unwrap();

    // More readers than the pool has connections, while batches are committed.
    let mut tasks = Vec::new();
    for i in 0..64 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            if i % 8 == 0 {
                let id = format!("W{i}");
                s.write_batch(persons(vec![person(&id, "李四")]))
                    .await
                    .unwrap();
                // A read after the commit returns sees it, on whichever reader it lands.
                assert!(s.person(&Scope::All, &id).await.unwrap().is_some(), "{id}");
            } else {
                let p = s.profile(&Scope::All, &entity("P0"), 10).await.unwrap();
                assert!(p.is_some());
                assert!(!s.search(&Scope::All, "张", 5).await.unwrap().is_empty());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.counts().await.unwrap()["persons"], 9);
}
