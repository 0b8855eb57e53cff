//! Model-level property tests: generated, internally consistent VGs (`lvmkit_tests::gen`)
//! survive model → tree → text → tree → model, in the on-disk (raw) form and in the backup-file
//! form.

use lvmkit_metadata::export::{export_file_tree, export_raw_tree};
use lvmkit_metadata::import::import;
use lvmkit_metadata::model::{Metadata, SegmentKind};
use lvmkit_metadata::text::{parse, write_file, write_raw};
use lvmkit_tests::r#gen::{Opts, metadata};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

// ------------------------------------------------------------------------------------------------
// Properties

fn reread(text: &str) -> Result<Metadata, String> {
    let tree = parse(text.as_bytes()).map_err(|e| format!("parse: {e}"))?;
    import(&tree).map_err(|e| format!("import: {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// model → tree → text → tree → model is the identity, in both text forms, and re-exporting
    /// the re-imported model gives the same text.
    #[test]
    fn model_round_trips_through_both_text_forms(md in metadata(Opts::MODEL)) {
        for (form, text) in [
            ("raw", write_raw(&export_raw_tree(&md))),
            ("file", write_file(&export_file_tree(&md))),
        ] {
            let back = match reread(&text) {
                Ok(b) => b,
                Err(e) => return Err(TestCaseError::fail(format!(
                    "{form} form of a generated VG does not re-import: {e}\n{text}"
                ))),
            };
            prop_assert_eq!(&back, &md, "{} form changed the model:\n{}", form, text);
            let again = if form == "raw" {
                write_raw(&export_raw_tree(&back))
            } else {
                write_file(&export_file_tree(&back))
            };
            prop_assert_eq!(again, text, "{} form: re-export differs", form);
        }
    }
}

/// The generator really produces every kind of object (allocation failures drop LVs, so check
/// the mix over a fixed sample).
#[test]
fn generator_covers_every_kind() {
    let mut runner = TestRunner::deterministic();
    let strategy = metadata(Opts::MODEL);
    let mut seen: std::collections::BTreeMap<String, usize> = Default::default();
    let mut count = |k: &str| *seen.entry(k.to_string()).or_default() += 1;
    for _ in 0..256 {
        let md = strategy.new_tree(&mut runner).expect("generate").current();
        count(&format!("pvs={}", md.vg.pvs.len().min(3)));
        if !md.vg.historical_lvs.is_empty() {
            count("historical");
        }
        if md.vg.lv("lvol0_pmspare").is_some() {
            count("pmspare");
        }
        for lv in &md.vg.lvs {
            if lv.segments.len() > 1 {
                count("multi-segment");
            }
            for s in &lv.segments {
                let k = match &s.kind {
                    SegmentKind::Striped { areas, .. } if areas.len() > 1 => "striped-n",
                    SegmentKind::Striped { .. } => "linear",
                    SegmentKind::Mirror { mirror_log: Some(_), .. } => "mirror-disklog",
                    SegmentKind::Mirror { .. } => "mirror-corelog",
                    SegmentKind::Raid { .. } => s.segtype.name.split('_').next().unwrap_or_default(),
                    SegmentKind::ThinPool { messages, .. } if !messages.is_empty() => "thin-pool+messages",
                    SegmentKind::ThinPool { .. } => "thin-pool",
                    SegmentKind::Thin { origin: Some(_), .. } => "thin-snapshot",
                    SegmentKind::Thin { external_origin: Some(_), .. } => "thin-external",
                    SegmentKind::Thin { .. } => "thin",
                    SegmentKind::CachePool { .. } => "cache-pool",
                    SegmentKind::Cache { .. } => "cache",
                    SegmentKind::Snapshot { merging: true, .. } => "snapshot-merging",
                    SegmentKind::Snapshot { .. } => "snapshot",
                    SegmentKind::Error => "error",
                    SegmentKind::Zero => "zero",
                    SegmentKind::Unknown { .. } => "unknown",
                    _ => "other",
                };
                count(k);
                if let SegmentKind::Thin { merge: Some(_), .. } = &s.kind {
                    count("thin-merge");
                }
            }
        }
    }
    println!("{seen:#?}");
    let want = [
        "pvs=1",
        "pvs=2",
        "pvs=3",
        "historical",
        "pmspare",
        "multi-segment",
        "linear",
        "striped-n",
        "mirror-disklog",
        "mirror-corelog",
        "raid1",
        "raid4",
        "raid5",
        "raid6",
        "raid10",
        "raid0",
        "thin-pool",
        "thin-pool+messages",
        "thin",
        "thin-snapshot",
        "thin-external",
        "thin-merge",
        "cache-pool",
        "cache",
        "snapshot",
        "snapshot-merging",
        "error",
        "zero",
        "unknown",
    ];
    let missing: Vec<&str> = want.iter().copied().filter(|k| !seen.contains_key(*k)).collect();
    assert!(missing.is_empty(), "generator never produced {missing:?}");
}
