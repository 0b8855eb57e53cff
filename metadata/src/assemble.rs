//! Per-device scan results → volume groups, the way lvm2's `vg_read` decides:
//! the highest seqno wins (first found on a tie), lower ones are stale, PVs the winning text
//! lists but no device carries are missing, two devices with one PV id are duplicates (one is
//! chosen, the other reported), labelled PVs no VG claims are orphans. A problem in one VG never
//! stops the assembly of the others; every finding is a [`Finding`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Error;
use crate::id::LvmId;
use crate::model::Metadata;
use crate::scan::{MdaCopy, PvScan, Scan};

/// A VG put together from its PVs.
#[derive(Debug)]
pub struct AssembledVg {
    /// The winning metadata.
    pub metadata: Arc<Metadata>,
    /// Its text (NUL included).
    pub text: Arc<Vec<u8>>,
    /// Device and mda the winning copy was read from (first of equals).
    pub source: (usize, usize),
    /// For each PV of `metadata.vg.pvs`, the index into `Scan::pvs` of the device carrying it.
    pub pv_devices: Vec<Option<usize>>,
    /// Every good mda copy of this VG: (scan index, mda index, seqno).
    pub copies: Vec<(usize, usize, u64)>,
    /// Its PVs that are on more than one device (neither a component of the other): lvm2
    /// chooses one, warns, and refuses to activate or change the VG until they are resolved
    /// (`devices/allow_changes_with_duplicate_pvs = 0`).
    pub duplicates: Vec<DuplicatePv>,
}

/// A PV found on several devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicatePv {
    /// PV id.
    pub pv_uuid: LvmId,
    /// The device in use.
    pub chosen: String,
    /// The others.
    pub ignored: Vec<String>,
    /// Why `chosen` (lvm2's words).
    pub why: &'static str,
}

impl std::fmt::Display for DuplicatePv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PV {} is on {} and {} (using {}: {})",
            self.pv_uuid,
            self.chosen,
            self.ignored.join(" and "),
            self.chosen,
            self.why
        )
    }
}

impl AssembledVg {
    /// VG name.
    pub fn name(&self) -> &str {
        &self.metadata.vg.name
    }
    /// Some PV is missing.
    pub fn is_partial(&self) -> bool {
        self.pv_devices.iter().any(Option::is_none)
    }
    /// Number of mdas in use (good, not ignored) over the VG's PVs.
    pub fn mda_count(&self, scan: &Scan) -> usize {
        self.pv_devices.iter().flatten().map(|&i| scan.pvs[i].mdas.len()).sum()
    }
}

/// Something assembly noticed. Severity: everything but `Info` makes `check` fail.
#[derive(Debug)]
pub enum Finding {
    /// An mda holds an older seqno than the VG's current one.
    StaleCopy {
        /// VG.
        vg: String,
        /// Device.
        device: String,
        /// 1-based mda number.
        mda: usize,
        /// Its seqno.
        seqno: u64,
        /// The current seqno.
        current: u64,
    },
    /// Same seqno as the winner but different text.
    Mismatch {
        /// VG.
        vg: String,
        /// Device.
        device: String,
        /// 1-based mda number.
        mda: usize,
        /// The seqno both claim.
        seqno: u64,
    },
    /// A PV listed in the metadata is not on any scanned device.
    MissingPv {
        /// VG.
        vg: String,
        /// PV id.
        pv_uuid: LvmId,
        /// Last known device (hint).
        hint: Option<String>,
    },
    /// Two devices carry the same PV id.
    DuplicatePv {
        /// PV id.
        pv_uuid: LvmId,
        /// The device used.
        chosen: String,
        /// The device ignored.
        ignored: String,
        /// Why that one was chosen.
        why: &'static str,
    },
    /// A PV whose own mda names a VG that (in its newer metadata) no longer lists it.
    OutdatedPv {
        /// Device.
        device: String,
        /// VG its old metadata names.
        vg: String,
    },
    /// A PV marked in use (`PV_EXT_USED`) that no VG claims.
    UsedButNoVg {
        /// Device.
        device: String,
    },
    /// Two VGs with one name but different ids.
    DuplicateVgName {
        /// Name.
        vg: String,
        /// The other id.
        other_id: LvmId,
    },
    /// Label and metadata disagree about a PV.
    LabelMetadataDisagree {
        /// Device.
        device: String,
        /// Field (`pe_start`, `dev_size`).
        field: &'static str,
        /// Label's value.
        label: u64,
        /// Metadata's value.
        metadata: u64,
    },
    /// The device is smaller than the PV's `dev_size` in the metadata. lvm2's
    /// `check_pv_dev_sizes` only warns ("Was device resized?") and goes on, reads and writes
    /// included; so do we.
    DeviceSmallerThanPv {
        /// Device.
        device: String,
        /// The device's size in 512-byte sectors.
        dev_sectors: u64,
        /// `dev_size` in the metadata, in sectors.
        pv_sectors: u64,
    },
    /// An unreadable or invalid area, header or text.
    Error(Error),
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::StaleCopy { vg, device, mda, seqno, current } => {
                write!(
                    f,
                    "{device}: mda{mda} holds VG {vg} seqno {seqno}, older than the current seqno {current}"
                )
            }
            Finding::Mismatch { vg, device, mda, seqno } => {
                write!(
                    f,
                    "{device}: mda{mda} holds VG {vg} seqno {seqno} with different text than other PVs at that seqno"
                )
            }
            Finding::MissingPv { vg, pv_uuid, hint } => {
                write!(f, "VG {vg}: PV {pv_uuid} not found")?;
                if let Some(h) = hint {
                    write!(f, " (last seen on {h})")?;
                }
                Ok(())
            }
            Finding::DuplicatePv { pv_uuid, chosen, ignored, why } => {
                write!(f, "PV {pv_uuid} is on both {chosen} and {ignored}; using {chosen} ({why})")
            }
            Finding::OutdatedPv { device, vg } => {
                write!(f, "{device}: outdated PV: its metadata names VG {vg}, which no longer lists it")
            }
            Finding::UsedButNoVg { device } => write!(f, "{device}: PV is marked in use but no VG lists it"),
            Finding::DuplicateVgName { vg, other_id } => {
                write!(f, "VG name {vg} is used by a second VG with id {other_id}")
            }
            Finding::LabelMetadataDisagree { device, field, label, metadata } => {
                write!(f, "{device}: {field} is {label} in the label but {metadata} in the metadata")
            }
            Finding::DeviceSmallerThanPv { device, dev_sectors, pv_sectors } => write!(
                f,
                "Device {device} has size of {dev_sectors} sectors which is smaller than corresponding PV size of {pv_sectors} sectors. Was device resized?"
            ),
            Finding::Error(e) => write!(f, "{e}"),
        }
    }
}

/// The outcome of assembly.
#[derive(Debug, Default)]
pub struct Assembly {
    /// VGs by first appearance.
    pub vgs: Vec<AssembledVg>,
    /// Scan indexes of orphan PVs (labelled, in no VG).
    pub orphans: Vec<usize>,
    /// Scan indexes of devices ignored as duplicates.
    pub duplicates: Vec<usize>,
    /// Everything noticed.
    pub findings: Vec<Finding>,
}

impl Assembly {
    /// A VG by name.
    pub fn vg(&self, name: &str) -> Option<&AssembledVg> {
        self.vgs.iter().find(|v| v.name() == name)
    }
}

/// Assemble VGs from a scan.
pub fn assemble(scan: &Scan) -> Assembly {
    let mut a = Assembly::default();
    for pv in &scan.pvs {
        a.findings.extend(pv.area_errors.iter().map(|e| Finding::Error(e.clone())));
        for m in &pv.mdas {
            if let Err(e) = &m.header {
                a.findings.push(Finding::Error(e.clone()));
            }
            if let Some(Err(e)) = &m.committed {
                a.findings.push(Finding::Error(e.clone()));
            }
            for key in m.copy().map(|c| c.duplicate_keys.as_slice()).unwrap_or_default() {
                a.findings.push(Finding::Error(
                    Error::semantic(
                        key.clone(),
                        format!(
                            "each key once in its section (lvm2 warns \"Ignoring duplicate config value\"); mda{} at byte {}",
                            m.index + 1,
                            m.locn.offset
                        ),
                        "the key given more than once",
                    )
                    .on_device(pv.name()),
                ));
            }
        }
    }

    // Duplicate PV ids: keep one device per id.
    let mut by_uuid: HashMap<LvmId, usize> = HashMap::new();
    let mut active = vec![true; scan.pvs.len()];
    for (i, pv) in scan.pvs.iter().enumerate() {
        let id = pv.label.pv_header.pv_uuid;
        if let Some(&j) = by_uuid.get(&id) {
            let (keep, drop, why) = choose_duplicate(scan, j, i);
            active[drop] = false;
            by_uuid.insert(id, keep);
            a.duplicates.push(drop);
            a.findings.push(Finding::DuplicatePv {
                pv_uuid: id,
                chosen: scan.pvs[keep].name().to_string(),
                ignored: scan.pvs[drop].name().to_string(),
                why,
            });
        } else {
            by_uuid.insert(id, i);
        }
    }

    // Group good copies by VG (name, id), in scan order.
    struct Group<'s> {
        name: String,
        id: LvmId,
        copies: Vec<(usize, usize, &'s MdaCopy)>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for (i, pv) in scan.pvs.iter().enumerate().filter(|(i, _)| active[*i]) {
        for m in &pv.mdas {
            let Some(c) = m.copy() else { continue };
            let vg = &c.metadata.vg;
            match groups.iter_mut().find(|g| g.name == vg.name && g.id == vg.id) {
                Some(g) => g.copies.push((i, m.index, c)),
                None => {
                    groups.push(Group { name: vg.name.clone(), id: vg.id, copies: vec![(i, m.index, c)] })
                }
            }
        }
    }

    let mut claimed = vec![false; scan.pvs.len()];
    let mut named_by_old: Vec<(usize, String)> = Vec::new();
    for g in &groups {
        if let Some(other) = groups.iter().find(|o| o.name == g.name && o.id != g.id) {
            if groups.iter().position(|x| std::ptr::eq(x, g))
                > groups.iter().position(|x| std::ptr::eq(x, other))
            {
                a.findings.push(Finding::DuplicateVgName { vg: g.name.clone(), other_id: g.id });
            }
        }
        // Highest seqno wins; the first copy found wins a tie.
        let best = g
            .copies
            .iter()
            .fold(&g.copies[0], |b, c| if c.2.metadata.vg.seqno > b.2.metadata.vg.seqno { c } else { b });
        let (bi, bm, bc) = *best;
        let current = bc.metadata.vg.seqno;
        for &(i, m, c) in &g.copies {
            let seqno = c.metadata.vg.seqno;
            let device = scan.pvs[i].name().to_string();
            if seqno < current {
                a.findings.push(Finding::StaleCopy {
                    vg: g.name.clone(),
                    device,
                    mda: m + 1,
                    seqno,
                    current,
                });
                named_by_old.push((i, g.name.clone()));
            } else if c.locn.checksum != bc.locn.checksum || c.locn.size != bc.locn.size {
                a.findings.push(Finding::Mismatch { vg: g.name.clone(), device, mda: m + 1, seqno });
            }
        }
        let md = bc.metadata.clone();
        let mut pv_devices = Vec::new();
        for pv in &md.vg.pvs {
            let dev = by_uuid.get(&pv.id).copied().filter(|&i| active[i]);
            match dev {
                Some(i) => {
                    claimed[i] = true;
                    check_label_vs_metadata(&scan.pvs[i], pv, &mut a.findings);
                }
                None => a.findings.push(Finding::MissingPv {
                    vg: g.name.clone(),
                    pv_uuid: pv.id,
                    hint: pv.device.clone(),
                }),
            }
            pv_devices.push(dev);
        }
        let copies = g.copies.iter().map(|&(i, m, c)| (i, m, c.metadata.vg.seqno)).collect();
        a.vgs.push(AssembledVg {
            metadata: md,
            text: bc.text.clone(),
            source: (bi, bm),
            pv_devices,
            copies,
            duplicates: Vec::new(),
        });
    }

    crate::lvm1::assemble_lvm1(scan, &active, &mut claimed, &mut a);

    // Each VG's PVs on several devices, from the findings (one per device dropped).
    for vg in &mut a.vgs {
        for &i in vg.pv_devices.iter().flatten() {
            let id = scan.pvs[i].label.pv_header.pv_uuid;
            let mut ignored = Vec::new();
            let mut why = "";
            for f in &a.findings {
                if let Finding::DuplicatePv { pv_uuid, ignored: ig, why: w, .. } = f {
                    if *pv_uuid == id {
                        ignored.push(ig.clone());
                        why = w;
                    }
                }
            }
            if !ignored.is_empty() {
                vg.duplicates.push(DuplicatePv {
                    pv_uuid: id,
                    chosen: scan.pvs[i].name().to_string(),
                    ignored,
                    why,
                });
            }
        }
    }

    for (i, pv) in scan.pvs.iter().enumerate() {
        if !active[i] || claimed[i] {
            continue;
        }
        a.orphans.push(i);
        if let Some((_, vg)) = named_by_old.iter().find(|(j, _)| *j == i) {
            a.findings.push(Finding::OutdatedPv { device: pv.name().to_string(), vg: vg.clone() });
        } else if pv.label.pv_header.ext_used() {
            a.findings.push(Finding::UsedButNoVg { device: pv.name().to_string() });
        }
    }
    a
}

/// Of two devices carrying one PV id (components of multipath maps and md arrays already set
/// aside by the scan), the one lvm2's `_choose_duplicates` (lib/cache/lvmcache.c) keeps and
/// why, by its rules in order: the device used by an active LV, the one whose size is the
/// metadata's, the one whose name is the metadata's device hint, a device-mapper device, a
/// device of a subsystem (md, drbd), the one found first. (lvm2's first rule, the devices
/// file's device id, and its mounted-file-system rule have no counterpart here: there is no
/// devices file, and a PV is never mounted.) Returns (kept, dropped, reason in lvm2's words).
fn choose_duplicate(scan: &Scan, first: usize, second: usize) -> (usize, usize, &'static str) {
    let summary = |i: usize| {
        let pv = &scan.pvs[i];
        pv.mdas.iter().filter_map(|m| m.copy()).find_map(|c| {
            c.metadata
                .vg
                .pvs
                .iter()
                .find(|p| p.id == pv.label.pv_header.pv_uuid)
                .map(|p| (p.dev_size, p.device.clone()))
        })
    };
    let (size, hint) = summary(first).or_else(|| summary(second)).unwrap_or_default();
    let block = |i: usize| scan.pvs[i].block.clone().unwrap_or_default();
    let (b1, b2) = (block(first), block(second));
    let rules: [(&'static str, bool, bool); 5] = [
        ("device is used by LV", b1.used_by_lv, b2.used_by_lv),
        (
            "device size is correct",
            size.is_some_and(|s| s * 512 == scan.pvs[first].dev_size),
            size.is_some_and(|s| s * 512 == scan.pvs[second].dev_size),
        ),
        (
            "device name matches previous",
            hint.as_deref() == Some(scan.pvs[first].name()),
            hint.as_deref() == Some(scan.pvs[second].name()),
        ),
        ("device is in dm subsystem", b1.is_dm(), b2.is_dm()),
        ("device is in subsystem", b1.in_subsystem(), b2.in_subsystem()),
    ];
    for (why, one, two) in rules {
        match (one, two) {
            (true, false) => return (first, second, why),
            (false, true) => return (second, first, why),
            _ => {}
        }
    }
    (first, second, "device was seen first")
}

fn check_label_vs_metadata(pv: &PvScan, meta: &crate::model::PhysicalVolume, findings: &mut Vec<Finding>) {
    // lvm2's `check_pv_dev_sizes` (lib/metadata/metadata.c): "Device … has size of … sectors
    // which is smaller than corresponding PV size of … sectors. Was device resized?"
    if let Some(sectors) = meta.dev_size {
        if sectors.saturating_mul(512) > pv.dev_size {
            findings.push(Finding::DeviceSmallerThanPv {
                device: pv.name().to_string(),
                dev_sectors: pv.dev_size / 512,
                pv_sectors: sectors,
            });
        }
    }
    if let Some(pe) = pv.label.pv_header.pe_start() {
        if pe != meta.pe_start * 512 {
            findings.push(Finding::LabelMetadataDisagree {
                device: pv.name().to_string(),
                field: "pe_start",
                label: pe,
                metadata: meta.pe_start * 512,
            });
        }
    }
}
