//! Typed status lines: what the kernel's targets report in `DM_TABLE_STATUS`
//! (`STATUSTYPE_INFO`), parsed as libdm's `dm_get_status_*` (device_mapper/libdm-targets.c,
//! lvm2 2.03.16) parses them, quirks included (raid's not-quite-100 %, thin-pool's flags found
//! anywhere after the counters), so values derived from them are lvm2's.

/// A status text that is not in the target's form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{target} status {status:?}: {why}")]
pub struct BadStatus {
    /// Target type.
    pub target: &'static str,
    /// The text.
    pub status: String,
    /// What was expected where.
    pub why: String,
}

fn bad(target: &'static str, status: &str, why: impl Into<String>) -> BadStatus {
    BadStatus { target, status: status.to_string(), why: why.into() }
}

/// Word `i` (0-based) of `w` as a number.
fn num(target: &'static str, status: &str, w: &[&str], i: usize, what: &str) -> Result<u64, BadStatus> {
    let s = w.get(i).ok_or_else(|| bad(target, status, format!("{what} missing at word {}", i + 1)))?;
    s.parse().map_err(|_| bad(target, status, format!("{what}: {s:?} at word {} is not a number", i + 1)))
}

/// `A/B` at word `i`.
fn ratio(
    target: &'static str,
    status: &str,
    w: &[&str],
    i: usize,
    what: &str,
) -> Result<(u64, u64), BadStatus> {
    let s = w.get(i).ok_or_else(|| bad(target, status, format!("{what} missing at word {}", i + 1)))?;
    let (a, b) = s
        .split_once('/')
        .ok_or_else(|| bad(target, status, format!("{what}: {s:?} at word {} is not N/M", i + 1)))?;
    match (a.parse(), b.parse()) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        _ => Err(bad(target, status, format!("{what}: {s:?} at word {} is not N/M", i + 1))),
    }
}

/// `snapshot` (and `snapshot-merge`): `USED/TOTAL [METADATA]`, or `Invalid`, `Merge failed`,
/// `Overflow`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotStatus {
    /// Sectors of the COW store in use.
    pub used_sectors: u64,
    /// Sectors of the COW store.
    pub total_sectors: u64,
    /// Sectors of exception metadata, when the kernel gives them.
    pub metadata_sectors: Option<u64>,
    /// The snapshot was dropped (full or failed).
    pub invalid: bool,
    /// A merge failed.
    pub merge_failed: bool,
    /// The store overflowed.
    pub overflow: bool,
}

impl SnapshotStatus {
    /// Parses one status text.
    pub fn parse(s: &str) -> Result<SnapshotStatus, BadStatus> {
        match s.trim() {
            "Invalid" => return Ok(SnapshotStatus { invalid: true, ..Default::default() }),
            "Merge failed" => return Ok(SnapshotStatus { merge_failed: true, ..Default::default() }),
            "Overflow" => return Ok(SnapshotStatus { overflow: true, ..Default::default() }),
            _ => {}
        }
        let w: Vec<&str> = s.split_whitespace().collect();
        let (used_sectors, total_sectors) = ratio("snapshot", s, &w, 0, "used/total sectors")?;
        let metadata_sectors = match w.len() {
            1 => None,
            2 => Some(num("snapshot", s, &w, 1, "metadata sectors")?),
            _ => return Err(bad("snapshot", s, "1 or 2 words expected")),
        };
        Ok(SnapshotStatus { used_sectors, total_sectors, metadata_sectors, ..Default::default() })
    }
}

/// `raid`: `TYPE #DEVS HEALTH INSYNC/TOTAL [SYNC_ACTION MISMATCHES [DATA_OFFSET]]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaidStatus {
    /// The raid level the kernel runs (`raid1`).
    pub raid_type: String,
    /// Devices.
    pub dev_count: u32,
    /// One character per device: `A` alive and in sync, `a` alive not in sync, `D` dead.
    pub dev_health: String,
    /// Regions in sync (libdm's: one less while some legs are `a` and the action is `idle`
    /// or `recover`, so lvm2 never shows 100 % then).
    pub insync_regions: u64,
    /// Regions.
    pub total_regions: u64,
    /// `idle`, `frozen`, `resync`, `recover`, `check`, `repair`, `reshape` (dm-raid 1.5+).
    pub sync_action: Option<String>,
    /// Mismatches found by the last check (dm-raid 1.5+; 0 before).
    pub mismatch_count: u64,
    /// Data offset (dm-raid 1.9+; 0 before).
    pub data_offset: u64,
}

impl RaidStatus {
    /// Parses one status text.
    pub fn parse(s: &str) -> Result<RaidStatus, BadStatus> {
        let w: Vec<&str> = s.split_whitespace().collect();
        if w.len() < 4 {
            return Err(bad("raid", s, "at least 4 words expected"));
        }
        let dev_count = u32::try_from(num("raid", s, &w, 1, "device count")?)
            .map_err(|_| bad("raid", s, "device count out of range"))?;
        let (mut insync_regions, total_regions) = ratio("raid", s, &w, 3, "sync ratio")?;
        let (sync_action, mismatch_count) = if w.len() >= 6 {
            (Some(w[4].to_string()), num("raid", s, &w, 5, "mismatch count")?)
        } else {
            (None, 0)
        };
        let data_offset = if w.len() >= 7 { num("raid", s, &w, 6, "data offset")? } else { 0 };
        let dev_health = w[2].to_string();
        if insync_regions == total_regions {
            let alive_unsynced = dev_health.chars().filter(|&c| c == 'a').count();
            let action = sync_action.as_deref().unwrap_or("");
            if alive_unsynced > 0
                && alive_unsynced < dev_count as usize
                && (action.eq_ignore_ascii_case("recover") || action.eq_ignore_ascii_case("idle"))
            {
                insync_regions = insync_regions.saturating_sub(1);
            }
        }
        Ok(RaidStatus {
            raid_type: w[0].to_string(),
            dev_count,
            dev_health,
            insync_regions,
            total_regions,
            sync_action,
            mismatch_count,
            data_offset,
        })
    }
}

/// `cache`: block counters, features, core and policy arguments; or `Error`/`Fail`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheStatus {
    /// `Error` in the text (also a failure).
    pub error: bool,
    /// `Fail` (or `Error`) in the text.
    pub fail: bool,
    /// Metadata block size, sectors.
    pub metadata_block_size: u64,
    /// Metadata blocks in use.
    pub metadata_used_blocks: u64,
    /// Metadata blocks.
    pub metadata_total_blocks: u64,
    /// Cache block size, sectors.
    pub block_size: u64,
    /// Cache blocks in use.
    pub used_blocks: u64,
    /// Cache blocks.
    pub total_blocks: u64,
    /// Read hits.
    pub read_hits: u64,
    /// Read misses.
    pub read_misses: u64,
    /// Write hits.
    pub write_hits: u64,
    /// Write misses.
    pub write_misses: u64,
    /// Demotions.
    pub demotions: u64,
    /// Promotions.
    pub promotions: u64,
    /// Dirty blocks.
    pub dirty_blocks: u64,
    /// Feature words (`writethrough`, `writeback`, `passthrough`, `metadata2`,
    /// `no_discard_passdown`).
    pub features: Vec<String>,
    /// Core arguments, in pairs.
    pub core_args: Vec<String>,
    /// Policy name.
    pub policy_name: String,
    /// Policy arguments, in pairs.
    pub policy_args: Vec<String>,
    /// Metadata read-only (` ro` after the policy).
    pub read_only: bool,
    /// ` needs_check` after the policy.
    pub needs_check: bool,
}

impl CacheStatus {
    /// Parses one status text.
    pub fn parse(s: &str) -> Result<CacheStatus, BadStatus> {
        if s.contains("Error") {
            return Ok(CacheStatus { error: true, fail: true, ..Default::default() });
        }
        if s.contains("Fail") {
            return Ok(CacheStatus { fail: true, ..Default::default() });
        }
        let w: Vec<&str> = s.split_whitespace().collect();
        let n = |i: usize, what: &str| num("cache", s, &w, i, what);
        let (metadata_used_blocks, metadata_total_blocks) = ratio("cache", s, &w, 1, "metadata blocks")?;
        let (used_blocks, total_blocks) = ratio("cache", s, &w, 3, "cache blocks")?;
        let mut st = CacheStatus {
            metadata_block_size: n(0, "metadata block size")?,
            metadata_used_blocks,
            metadata_total_blocks,
            block_size: n(2, "cache block size")?,
            used_blocks,
            total_blocks,
            read_hits: n(4, "read hits")?,
            read_misses: n(5, "read misses")?,
            write_hits: n(6, "write hits")?,
            write_misses: n(7, "write misses")?,
            demotions: n(8, "demotions")?,
            promotions: n(9, "promotions")?,
            dirty_blocks: n(10, "dirty blocks")?,
            ..Default::default()
        };
        let mut i = 11;
        let take = |i: &mut usize, what: &str| -> Result<Vec<String>, BadStatus> {
            let count = num("cache", s, &w, *i, what)? as usize;
            *i += 1;
            let words = w
                .get(*i..*i + count)
                .ok_or_else(|| bad("cache", s, format!("{count} {what} words expected after word {i}")))?;
            *i += count;
            Ok(words.iter().map(|x| x.to_string()).collect())
        };
        st.features = take(&mut i, "feature")?;
        st.core_args = take(&mut i, "core argument")?;
        st.policy_name = w
            .get(i)
            .ok_or_else(|| bad("cache", s, format!("policy name missing at word {}", i + 1)))?
            .to_string();
        i += 1;
        st.policy_args = take(&mut i, "policy argument")?;
        let rest = &w[i..];
        st.read_only = rest.contains(&"ro");
        st.needs_check = rest.contains(&"needs_check");
        Ok(st)
    }
}

/// `writecache`: `ERROR TOTAL FREE WRITEBACK [...]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WritecacheStatus {
    /// 0, or the error number.
    pub error: u64,
    /// Blocks.
    pub total_blocks: u64,
    /// Free blocks.
    pub free_blocks: u64,
    /// Blocks under writeback.
    pub writeback_blocks: u64,
}

impl WritecacheStatus {
    /// Parses one status text.
    pub fn parse(s: &str) -> Result<WritecacheStatus, BadStatus> {
        let w: Vec<&str> = s.split_whitespace().collect();
        let n = |i: usize, what: &str| num("writecache", s, &w, i, what);
        Ok(WritecacheStatus {
            error: n(0, "error")?,
            total_blocks: n(1, "blocks")?,
            free_blocks: n(2, "free blocks")?,
            writeback_blocks: n(3, "writeback blocks")?,
        })
    }
}

/// `integrity`: `MISMATCHES PROVIDED_DATA_SECTORS RECALC_SECTOR|-`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntegrityStatus {
    /// Checksum mismatches seen.
    pub mismatches: u64,
    /// Data sectors provided.
    pub provided_data_sectors: u64,
    /// Recalculation position; 0 when none runs (`-`).
    pub recalc_sector: u64,
}

impl IntegrityStatus {
    /// Parses one status text.
    pub fn parse(s: &str) -> Result<IntegrityStatus, BadStatus> {
        let w: Vec<&str> = s.split_whitespace().collect();
        let recalc_sector = match w.get(2) {
            Some(r) if r.starts_with('-') => 0,
            Some(_) => num("integrity", s, &w, 2, "recalculate sector")?,
            None => return Err(bad("integrity", s, "recalculate sector missing at word 3")),
        };
        Ok(IntegrityStatus {
            mismatches: num("integrity", s, &w, 0, "mismatches")?,
            provided_data_sectors: num("integrity", s, &w, 1, "provided data sectors")?,
            recalc_sector,
        })
    }
}

/// How a thin pool passes discards (its status flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThinDiscards {
    /// `discard_passdown` (the default).
    #[default]
    Passdown,
    /// `no_discard_passdown`.
    NoPassdown,
    /// `ignore_discard`.
    Ignore,
}

/// `thin-pool`: `TRANSACTION USED/TOTAL-META USED/TOTAL-DATA …flags`, or `Error`/`Fail`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThinPoolStatus {
    /// `Error` in the text (also a failure).
    pub error: bool,
    /// `Fail` (or `Error`).
    pub fail: bool,
    /// Transaction id.
    pub transaction_id: u64,
    /// Metadata blocks used.
    pub used_metadata_blocks: u64,
    /// Metadata blocks.
    pub total_metadata_blocks: u64,
    /// Data blocks used.
    pub used_data_blocks: u64,
    /// Data blocks.
    pub total_data_blocks: u64,
    /// Discards.
    pub discards: ThinDiscards,
    /// `out_of_data_space`.
    pub out_of_data_space: bool,
    /// `ro` (and not out of data space).
    pub read_only: bool,
    /// `error_if_no_space`.
    pub error_if_no_space: bool,
    /// `needs_check`.
    pub needs_check: bool,
}

impl ThinPoolStatus {
    /// Parses one status text.
    pub fn parse(s: &str) -> Result<ThinPoolStatus, BadStatus> {
        if s.contains("Error") {
            return Ok(ThinPoolStatus { error: true, fail: true, ..Default::default() });
        }
        if s.contains("Fail") {
            return Ok(ThinPoolStatus { fail: true, ..Default::default() });
        }
        let w: Vec<&str> = s.split_whitespace().collect();
        let (used_metadata_blocks, total_metadata_blocks) = ratio("thin-pool", s, &w, 1, "metadata blocks")?;
        let (used_data_blocks, total_data_blocks) = ratio("thin-pool", s, &w, 2, "data blocks")?;
        let flags = &w[3..];
        let has = |f: &str| flags.contains(&f);
        let out_of_data_space = has("out_of_data_space");
        Ok(ThinPoolStatus {
            error: false,
            fail: false,
            transaction_id: num("thin-pool", s, &w, 0, "transaction id")?,
            used_metadata_blocks,
            total_metadata_blocks,
            used_data_blocks,
            total_data_blocks,
            discards: if has("no_discard_passdown") {
                ThinDiscards::NoPassdown
            } else if has("ignore_discard") {
                ThinDiscards::Ignore
            } else {
                ThinDiscards::Passdown
            },
            out_of_data_space,
            read_only: !out_of_data_space && has("ro"),
            error_if_no_space: has("error_if_no_space"),
            needs_check: has("needs_check"),
        })
    }
}

/// `thin`: `MAPPED_SECTORS HIGHEST_MAPPED`, `-` (nothing mapped yet… or suspended), or `Fail`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThinStatus {
    /// `Fail`.
    pub fail: bool,
    /// Sectors mapped.
    pub mapped_sectors: u64,
    /// Highest mapped sector.
    pub highest_mapped_sector: u64,
}

impl ThinStatus {
    /// Parses one status text.
    pub fn parse(s: &str) -> Result<ThinStatus, BadStatus> {
        if s.contains('-') {
            return Ok(ThinStatus::default());
        }
        if s.contains("Fail") {
            return Ok(ThinStatus { fail: true, ..Default::default() });
        }
        let w: Vec<&str> = s.split_whitespace().collect();
        Ok(ThinStatus {
            fail: false,
            mapped_sectors: num("thin", s, &w, 0, "mapped sectors")?,
            highest_mapped_sector: num("thin", s, &w, 1, "highest mapped sector")?,
        })
    }
}

/// `mirror`: `#LEGS DEV… INSYNC/TOTAL …` (the region counts lvm2 takes its copy percentage
/// from).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MirrorStatus {
    /// Regions in sync.
    pub insync_regions: u64,
    /// Regions.
    pub total_regions: u64,
}

impl MirrorStatus {
    /// Parses one status text.
    pub fn parse(s: &str) -> Result<MirrorStatus, BadStatus> {
        let w: Vec<&str> = s.split_whitespace().collect();
        let legs = num("mirror", s, &w, 0, "leg count")? as usize;
        if legs > w.len() {
            return Err(bad("mirror", s, format!("{legs} legs, but only {} words", w.len())));
        }
        let (insync_regions, total_regions) = ratio("mirror", s, &w, 1 + legs, "sync ratio")?;
        Ok(MirrorStatus { insync_regions, total_regions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot() {
        let s = SnapshotStatus::parse("16/8192 16").unwrap();
        assert_eq!((s.used_sectors, s.total_sectors, s.metadata_sectors), (16, 8192, Some(16)));
        assert!(SnapshotStatus::parse("Invalid").unwrap().invalid);
        assert!(SnapshotStatus::parse("Merge failed").unwrap().merge_failed);
        for b in ["", "16", "a/b", "1/2 3 4"] {
            assert!(SnapshotStatus::parse(b).is_err(), "{b:?}");
        }
    }

    #[test]
    fn raid() {
        let r = RaidStatus::parse("raid1 2 AA 16384/16384 idle 0 0 -").unwrap();
        assert_eq!(r.dev_health, "AA");
        assert_eq!((r.insync_regions, r.total_regions, r.mismatch_count), (16384, 16384, 0));
        assert_eq!(r.sync_action.as_deref(), Some("idle"));
        // libdm's quirk: all regions in sync while a leg is still `a` and idle is not 100 %.
        let r = RaidStatus::parse("raid1 2 Aa 100/100 idle 3 0").unwrap();
        assert_eq!((r.insync_regions, r.mismatch_count), (99, 3));
        // Pre-1.5 form.
        assert_eq!(RaidStatus::parse("raid5_ls 3 AAA 10/20").unwrap().sync_action, None);
        for b in ["", "raid1 2 AA", "raid1 x AA 1/2", "raid1 2 AA 1-2 idle 0", "raid1 2 AA 1/2 idle x"] {
            assert!(RaidStatus::parse(b).is_err(), "{b:?}");
        }
    }

    #[test]
    fn cache() {
        let c = CacheStatus::parse(
            "8 27/2048 128 3/128 10 20 30 40 0 3 1 2 metadata2 writeback 2 migration_threshold 2048 smq 0 rw -",
        )
        .unwrap();
        assert_eq!((c.used_blocks, c.total_blocks, c.dirty_blocks), (3, 128, 1));
        assert_eq!((c.read_hits, c.read_misses, c.write_hits, c.write_misses), (10, 20, 30, 40));
        assert_eq!(c.features, ["metadata2", "writeback"]);
        assert_eq!(c.core_args, ["migration_threshold", "2048"]);
        assert_eq!(c.policy_name, "smq");
        assert!(!c.read_only && !c.needs_check);
        let c = CacheStatus::parse("8 1/2 128 0/1 0 0 0 0 0 0 0 0 0 mq 2 a b ro needs_check").unwrap();
        assert!(c.read_only && c.needs_check);
        assert_eq!(c.policy_args, ["a", "b"]);
        assert!(CacheStatus::parse("Fail").unwrap().fail);
        for b in ["", "8 1/2 128 0/1 0 0 0 0 0 0 0 5 a", "8 1/2 128 0/1 0 0 0 0 0 0 0 0 0"] {
            assert!(CacheStatus::parse(b).is_err(), "{b:?}");
        }
    }

    #[test]
    fn thin_pool_thin_writecache_integrity_mirror() {
        let p = ThinPoolStatus::parse("0 11/4096 5/256 - rw no_discard_passdown queue_if_no_space - 1024")
            .unwrap();
        assert_eq!((p.used_metadata_blocks, p.total_data_blocks), (11, 256));
        assert_eq!(p.discards, ThinDiscards::NoPassdown);
        assert!(!p.read_only);
        assert!(ThinPoolStatus::parse("0 1/2 3/4 - ro discard_passdown needs_check").unwrap().needs_check);
        assert!(ThinPoolStatus::parse("0 1/2").is_err());
        assert_eq!(ThinStatus::parse("2048 4095").unwrap().mapped_sectors, 2048);
        assert_eq!(ThinStatus::parse("-").unwrap(), ThinStatus::default());
        assert!(ThinStatus::parse("x y").is_err());
        let w = WritecacheStatus::parse("0 2032 2030 0 0 0 0 0 0 0").unwrap();
        assert_eq!((w.total_blocks, w.free_blocks), (2032, 2030));
        assert!(WritecacheStatus::parse("0 1").is_err());
        assert_eq!(IntegrityStatus::parse("0 16384 -").unwrap().recalc_sector, 0);
        assert_eq!(IntegrityStatus::parse("2 16384 800").unwrap().recalc_sector, 800);
        assert!(IntegrityStatus::parse("0 16384").is_err());
        let m = MirrorStatus::parse("2 253:4 253:5 400/400 1 AA 1 core").unwrap();
        assert_eq!((m.insync_regions, m.total_regions), (400, 400));
        assert!(MirrorStatus::parse("9 253:4").is_err());
    }
}
