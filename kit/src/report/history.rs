//! `lvs -H/--history`: historical LVs (the `historical_logical_volumes` lvm2 keeps with
//! `metadata/record_lvs_history`), reported the way lvm2 2.03.16 reports them.
//!
//! lvm2 (`tools/toollib.c`, `process_each_lv_in_vg`) reports every historical LV through one
//! shared dummy LV: no status flags, major/minor -1, no tags, no host, one segment of type
//! `historical` and length 0, after the VG's live LVs. Its fields therefore read like those of
//! that dummy, except where `lib/report` and `lib/metadata/lv.c` look at the historical record:
//! the name (`-` in front; sorted and selected by the bare name), uuid, full name, paths,
//! attributes (`----h-----`), layout `none`, role `public,history`, creation and removal time
//! and `lv_historical`. lvmkit builds the same dummy as an LV of a copy of the VG (not visible,
//! so the VG's own counts do not change) and answers those fields from the record.

use std::sync::Arc;

use lvmkit_metadata::assemble::AssembledVg;
use lvmkit_metadata::flags::{FlagKind, FlagSet};
use lvmkit_metadata::model::{HistoricalLv, LogicalVolume, SegType, Segment, SegmentKind};

use super::fields::format_time;

/// A copy of `asm` whose VG has one dummy LV per historical LV appended (in the order of
/// `vg.historical_lvs`); `None` when the VG has none.
pub(crate) fn with_dummies(asm: &AssembledVg) -> Option<AssembledVg> {
    let vg = &asm.metadata.vg;
    if vg.historical_lvs.is_empty() {
        return None;
    }
    let mut md = (*asm.metadata).clone();
    for h in &vg.historical_lvs {
        md.vg.lvs.push(dummy(h));
    }
    Some(AssembledVg {
        metadata: Arc::new(md),
        text: asm.text.clone(),
        source: asm.source,
        pv_devices: asm.pv_devices.clone(),
        copies: asm.copies.clone(),
        duplicates: asm.duplicates.clone(),
    })
}

/// lvm2's `_historical_lv` for one record.
fn dummy(h: &HistoricalLv) -> LogicalVolume {
    LogicalVolume {
        name: h.name.clone(),
        id: h.id,
        // lvm2's dummy has no flags; WRITE keeps lvmkit's permission field at lvm2's "unknown".
        status: FlagSet::from_words(FlagKind::Lv, &["WRITE"]),
        flags: None,
        tags: vec![],
        creation_time: h.creation_time,
        creation_host: None,
        lock_args: None,
        allocation_policy: None,
        profile: None,
        // lvm2's dummy read_ahead is 0 sectors (not "auto"): lvmkit's "none".
        read_ahead: Some(-1),
        major: None,
        minor: None,
        segments: vec![Segment {
            start_extent: 0,
            extent_count: 0,
            segtype: SegType { name: "historical".into(), flags: vec![] },
            reshape_count: None,
            data_copies: None,
            tags: vec![],
            kind: SegmentKind::Unknown { section: Default::default() },
            extra: vec![],
        }],
        extra: vec![],
    }
}

/// The text of `field` for historical LV `h` of VG `vg` where lvm2 reads the record rather than
/// its dummy LV; `None`: the dummy's value.
pub(crate) fn text(field: &str, vg: &str, h: &HistoricalLv) -> Option<String> {
    let dm = |s: &str| s.replace('-', "--");
    Some(match field {
        "lv_name" => format!("-{}", h.name),
        "lv_uuid" => h.id.to_string(),
        "lv_full_name" => format!("{vg}/{}", h.name),
        "lv_path" => format!("/dev/{vg}/{}", h.name),
        "lv_dm_path" => format!("/dev/mapper/{}-{}", dm(vg), dm(&h.name)),
        "lv_attr" => "----h-----".into(),
        "lv_layout" => "none".into(),
        "lv_role" => "public,history".into(),
        "lv_historical" => "historical".into(),
        "lv_allocation_policy" => "unknown".into(),
        "lv_time" => h.creation_time.map(format_time).unwrap_or_default(),
        "lv_time_removed" => h.removal_time.map(format_time).unwrap_or_default(),
        // Constants of lvm2's dummy segment (no data copies; its parity count is (uint32)-1).
        "data_copies" => String::new(),
        "parity_chunks" => u32::MAX.to_string(),
        _ => return None,
    })
}
