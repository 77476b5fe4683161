//! Every data file the simulator writes (not `labels/`) passes `fanzha ingest` with zero
//! rejects, in both formats, and every record is stored once (no two share an identity).

mod common;

use std::path::Path;
use std::sync::Arc;

use fanzha_core::schema::Kind;
use fanzha_sim::Format;
use fanzha_store::Store;

async fn ingest_all(dir: &Path, ext: &str, summary: &fanzha_sim::Summary) {
    let db = dir.join("check.db");
    let store: Arc<dyn Store> = fanzha_store::open(&db.display().to_string())
        .await
        .unwrap_or_else(|e| panic!("store: {e}"));
    for kind in Kind::ALL {
        let path = dir.join(format!("{}.{ext}", kind.as_str()));
        let report =
            fanzha_ingest::ingest_file(&store, &path, &fanzha_ingest::IngestOptions::default())
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(report.rejected, 0, "{kind}: {:?}", report.first_rejections);
        assert_eq!(
            report.inserted,
            summary.rows(kind.as_str()),
            "{kind}: every record stored once"
        );
        assert!(report.inserted > 0, "{kind} is empty");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_files_ingest_with_zero_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let summary = common::run(&common::small(11), dir.path());
    ingest_all(dir.path(), "csv", &summary).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn jsonl_files_ingest_with_zero_rejects_under_the_hard_profile() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::small(12);
    cfg.format = Format::Jsonl;
    cfg.profile = fanzha_sim::Profile::Hard;
    cfg.params = fanzha_sim::Params::for_profile(fanzha_sim::Profile::Hard);
    cfg.params.victims_per_10k_week = 80.0;
    let summary = common::run(&cfg, dir.path());
    ingest_all(dir.path(), "jsonl", &summary).await;
}
