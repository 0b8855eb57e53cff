//! VG model → config tree, in the key order lvm2's `format_text/export.c` writes.

use crate::flags::FlagSet;
use crate::model::*;
use crate::text::{Scalar, Section, Value};

/// The VG section (its key is `vg.name`).
pub fn export_vg(vg: &VolumeGroup) -> Section<'_> {
    let mut s = Section::new();
    s.push_str("id", vg.id.to_string());
    s.push_int("seqno", vg.seqno as i64);
    if let Some(f) = &vg.format {
        s.push_str("format", f);
    }
    push_flags(&mut s, "status", Some(&vg.status));
    push_flags(&mut s, "flags", vg.flags.as_ref());
    push_tags(&mut s, &vg.tags);
    opt_str(&mut s, "system_id", &vg.system_id);
    opt_str(&mut s, "lock_type", &vg.lock_type);
    opt_str(&mut s, "lock_args", &vg.lock_args);
    if let Some(pr) = &vg.pr {
        s.push_str_array("pr", pr);
    }
    s.push_int("extent_size", vg.extent_size as i64);
    s.push_int("max_lv", vg.max_lv as i64);
    s.push_int("max_pv", vg.max_pv as i64);
    opt_str(&mut s, "allocation_policy", &vg.allocation_policy);
    opt_str(&mut s, "profile", &vg.profile);
    opt_int(&mut s, "metadata_copies", vg.metadata_copies);
    let mut pvs = Section::new();
    for pv in &vg.pvs {
        pvs.push_section(pv.key.clone(), export_pv(pv));
    }
    s.push_section("physical_volumes", pvs);
    if !vg.lvs.is_empty() {
        let mut lvs = Section::new();
        for lv in &vg.lvs {
            lvs.push_section(lv.name.clone(), export_lv(lv, vg));
        }
        s.push_section("logical_volumes", lvs);
    }
    if !vg.historical_lvs.is_empty() {
        let mut h = Section::new();
        for hlv in &vg.historical_lvs {
            let mut e = Section::new();
            e.push_str("id", hlv.id.to_string());
            opt_int(&mut e, "creation_time", hlv.creation_time.map(|t| t as u64));
            opt_int(&mut e, "removal_time", hlv.removal_time.map(|t| t as u64));
            opt_str(&mut e, "origin", &hlv.origin);
            if !hlv.descendants.is_empty() {
                e.push_str_array("descendants", &hlv.descendants);
            }
            e.items.extend(hlv.extra.iter().cloned());
            h.push_section(hlv.name.clone(), e);
        }
        s.push_section("historical_logical_volumes", h);
    }
    s.items.extend(vg.extra.iter().cloned());
    s
}

fn push_flags<'v>(s: &mut Section<'v>, key: &'static str, f: Option<&'v FlagSet>) {
    if let Some(f) = f {
        s.push_str_array(key, &f.words());
    }
}

fn push_tags<'v>(s: &mut Section<'v>, tags: &'v [String]) {
    if !tags.is_empty() {
        s.push_str_array("tags", tags);
    }
}

fn opt_str<'v>(s: &mut Section<'v>, key: &'static str, v: &'v Option<String>) {
    if let Some(v) = v {
        s.push_str(key, v.as_str());
    }
}

fn opt_int(s: &mut Section<'_>, key: &'static str, v: Option<u64>) {
    if let Some(v) = v {
        s.push_int(key, v as i64);
    }
}

fn export_pv(pv: &PhysicalVolume) -> Section<'_> {
    let mut s = Section::new();
    s.push_str("id", pv.id.to_string());
    opt_str(&mut s, "device", &pv.device);
    opt_str(&mut s, "device_id_type", &pv.device_id_type);
    opt_str(&mut s, "device_id", &pv.device_id);
    push_flags(&mut s, "status", Some(&pv.status));
    push_flags(&mut s, "flags", pv.flags.as_ref());
    push_tags(&mut s, &pv.tags);
    opt_int(&mut s, "dev_size", pv.dev_size);
    s.push_int("pe_start", pv.pe_start as i64);
    s.push_int("pe_count", pv.pe_count as i64);
    opt_int(&mut s, "ba_start", pv.ba_start);
    opt_int(&mut s, "ba_size", pv.ba_size);
    s.items.extend(pv.extra.iter().cloned());
    s
}

fn export_lv<'v>(lv: &'v LogicalVolume, vg: &'v VolumeGroup) -> Section<'v> {
    let mut s = Section::new();
    s.push_str("id", lv.id.to_string());
    push_flags(&mut s, "status", Some(&lv.status));
    push_flags(&mut s, "flags", lv.flags.as_ref());
    push_tags(&mut s, &lv.tags);
    if let Some(t) = lv.creation_time {
        s.push_int("creation_time", t);
    }
    opt_str(&mut s, "creation_host", &lv.creation_host);
    opt_str(&mut s, "lock_args", &lv.lock_args);
    opt_str(&mut s, "allocation_policy", &lv.allocation_policy);
    opt_str(&mut s, "profile", &lv.profile);
    if let Some(r) = lv.read_ahead {
        s.push_int("read_ahead", r);
    }
    if let Some(m) = lv.major {
        s.push_int("major", m);
    }
    if let Some(m) = lv.minor {
        s.push_int("minor", m);
    }
    s.push_int("segment_count", lv.segments.len() as i64);
    s.items.extend(lv.extra.iter().cloned());
    for (i, seg) in lv.segments.iter().enumerate() {
        s.push_section(format!("segment{}", i + 1), export_segment(seg, vg));
    }
    s
}

fn areas_value<'v>(areas: &'v [Area], vg: &'v VolumeGroup) -> Value<'v> {
    let mut a = Vec::with_capacity(areas.len() * 2);
    for area in areas {
        let name = match &area.target {
            AreaTarget::Pv(i) => vg.pvs[*i].key.as_str(),
            AreaTarget::Lv(n) => n.as_str(),
        };
        a.push(Scalar::Str(name.into()));
        a.push(Scalar::Int(area.start as i64));
    }
    Value::Array(a)
}

fn export_segment<'v>(seg: &'v Segment, vg: &'v VolumeGroup) -> Section<'v> {
    let mut s = Section::new();
    s.push_int("start_extent", seg.start_extent as i64);
    s.push_int("extent_count", seg.extent_count as i64);
    opt_int(&mut s, "reshape_count", seg.reshape_count);
    // lvm2's raid exporter writes data_copies after device_count (seen on a real raid10 image).
    let is_raid = matches!(seg.kind, SegmentKind::Raid { .. });
    if !is_raid {
        opt_int(&mut s, "data_copies", seg.data_copies);
    }
    s.push_str("type", seg.segtype.to_text());
    push_tags(&mut s, &seg.tags);
    match &seg.kind {
        SegmentKind::Striped { stripe_size, areas } => {
            s.push_int("stripe_count", areas.len() as i64);
            opt_int(&mut s, "stripe_size", *stripe_size);
            s.push_value("stripes", areas_value(areas, vg));
        }
        SegmentKind::Mirror { mirror_count, extents_moved, mirror_log, region_size, areas } => {
            s.push_int("mirror_count", *mirror_count as i64);
            opt_int(&mut s, "extents_moved", *extents_moved);
            opt_str(&mut s, "mirror_log", mirror_log);
            opt_int(&mut s, "region_size", *region_size);
            s.push_value("mirrors", areas_value(areas, vg));
        }
        SegmentKind::Raid {
            device_count,
            stripe_count,
            region_size,
            stripe_size,
            writebehind,
            min_recovery_rate,
            max_recovery_rate,
            data_offset,
            areas,
        } => {
            opt_int(&mut s, "device_count", *device_count);
            opt_int(&mut s, "stripe_count", *stripe_count);
            opt_int(&mut s, "data_copies", seg.data_copies);
            opt_int(&mut s, "region_size", *region_size);
            opt_int(&mut s, "stripe_size", *stripe_size);
            opt_int(&mut s, "writebehind", *writebehind);
            opt_int(&mut s, "min_recovery_rate", *min_recovery_rate);
            opt_int(&mut s, "max_recovery_rate", *max_recovery_rate);
            opt_int(&mut s, "data_offset", *data_offset);
            if areas.iter().all(|a| a.meta.is_none()) && seg.segtype.name == "raid0" {
                let names: Vec<&str> = areas.iter().map(|a| a.data.as_str()).collect();
                s.push_str_array("raid0_lvs", &names);
            } else {
                let names: Vec<&str> = areas
                    .iter()
                    .flat_map(|a| a.meta.as_deref().into_iter().chain([a.data.as_str()]))
                    .collect();
                s.push_str_array("raids", &names);
            }
        }
        SegmentKind::ThinPool {
            metadata,
            pool,
            transaction_id,
            chunk_size,
            discards,
            zero_new_blocks,
            crop_metadata,
            messages,
        } => {
            s.push_str("metadata", metadata);
            s.push_str("pool", pool);
            s.push_int("transaction_id", *transaction_id as i64);
            s.push_int("chunk_size", *chunk_size as i64);
            opt_str(&mut s, "discards", discards);
            if let Some(z) = zero_new_blocks {
                s.push_int("zero_new_blocks", *z);
            }
            if let Some(c) = crop_metadata {
                s.push_int("crop_metadata", *c);
            }
            for (i, m) in messages.iter().enumerate() {
                let mut ms = Section::new();
                match m {
                    ThinMessage::Create(n) => ms.push_str("create", n),
                    ThinMessage::Delete(d) => ms.push_int("delete", *d),
                }
                s.push_section(format!("message{}", i + 1), ms);
            }
        }
        SegmentKind::Thin { thin_pool, transaction_id, device_id, origin, external_origin, merge } => {
            s.push_str("thin_pool", thin_pool);
            s.push_int("transaction_id", *transaction_id as i64);
            s.push_int("device_id", *device_id as i64);
            opt_str(&mut s, "origin", origin);
            opt_str(&mut s, "merge", merge);
            opt_str(&mut s, "external_origin", external_origin);
        }
        SegmentKind::CachePool {
            data,
            metadata,
            metadata_format,
            chunk_size,
            cache_mode,
            policy,
            policy_settings,
        } => {
            s.push_str("data", data);
            s.push_str("metadata", metadata);
            opt_int(&mut s, "metadata_format", *metadata_format);
            opt_int(&mut s, "chunk_size", *chunk_size);
            opt_str(&mut s, "cache_mode", cache_mode);
            opt_str(&mut s, "policy", policy);
            if let Some(p) = policy_settings {
                s.push_section("policy_settings", p.clone());
            }
        }
        SegmentKind::Cache { cache_pool, origin, settings } => {
            s.push_str("cache_pool", cache_pool);
            s.push_str("origin", origin);
            s.items.extend(settings.iter().cloned());
        }
        SegmentKind::Snapshot { chunk_size, origin, cow_store, merging } => {
            s.push_int("chunk_size", *chunk_size as i64);
            s.push_str("origin", origin);
            s.push_str(if *merging { "merging_store" } else { "cow_store" }, cow_store);
        }
        SegmentKind::Writecache { writecache, origin, settings } => {
            s.push_str("writecache", writecache);
            s.push_str("origin", origin);
            s.items.extend(settings.iter().cloned());
        }
        SegmentKind::Integrity { origin, meta_dev, settings } => {
            // lvm2's order: origin, data_sectors, mode, tag_size, block_size, internal_hash,
            // meta_dev, then the optional settings.
            const BEFORE_META: [&str; 5] =
                ["data_sectors", "mode", "tag_size", "block_size", "internal_hash"];
            let split = settings
                .iter()
                .position(|it| !BEFORE_META.contains(&it.key.as_ref()))
                .unwrap_or(settings.len());
            s.push_str("origin", origin);
            s.items.extend(settings[..split].iter().cloned());
            opt_str(&mut s, "meta_dev", meta_dev);
            s.items.extend(settings[split..].iter().cloned());
        }
        SegmentKind::Vdo { vdo_pool, vdo_offset } => {
            s.push_str("vdo_pool", vdo_pool);
            s.push_int("vdo_offset", *vdo_offset as i64);
        }
        SegmentKind::VdoPool { data, settings } => {
            s.push_str("data", data);
            s.items.extend(settings.iter().cloned());
        }
        SegmentKind::Error | SegmentKind::Zero | SegmentKind::Free => {}
        SegmentKind::Unknown { section } => s.items.extend(section.items.iter().cloned()),
    }
    s.items.extend(seg.extra.iter().cloned());
    s
}

/// Root-level header items (`contents`, `version`, `description`, `creation_host`, …).
pub fn export_header(h: &TextHeader) -> Section<'_> {
    let mut s = Section::new();
    s.push_str("contents", "Text Format Volume Group");
    s.push_int("version", 1);
    opt_str(&mut s, "description", &h.description);
    opt_str(&mut s, "creation_host", &h.creation_host);
    opt_str(&mut s, "creation_host_system_id", &h.creation_host_system_id);
    if let Some(t) = h.creation_time {
        s.push_int("creation_time", t);
    }
    s.items.extend(h.extra.iter().cloned());
    s
}

/// The whole text as a tree in on-disk order: VG section first, then the header.
pub fn export_raw_tree(md: &Metadata) -> Section<'_> {
    let mut root = Section::new();
    root.push_section(md.vg.name.clone(), export_vg(&md.vg));
    root.items.extend(export_header(&md.header).items);
    root
}

/// The whole text as a tree in backup-file order: header first, then the VG section.
pub fn export_file_tree(md: &Metadata) -> Section<'_> {
    let mut root = export_header(&md.header);
    root.push_section(md.vg.name.clone(), export_vg(&md.vg));
    root
}
