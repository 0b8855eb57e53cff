//! LVM1 ("format1") read support: the on-disk structures lvm2 ≤ 2.02.177 wrote, and the
//! rebuild of an LVM1 VG into the same model as an LVM2 one (`format = "lvm1"`).
//!
//! An LVM1 PV has no label: it is recognised by `HM` + a u16 version (1 or 2) at byte 0. The
//! PV struct then gives the byte offsets of the other areas:
//!
//! | area | usual base | content |
//! |---|---:|---|
//! | [`pv_disk`] | 0 | the PV struct |
//! | [`vg_disk`] | 4096 | the VG struct (same bytes on every PV of the VG) |
//! | [`uuid_list`] | 8192 | the VG's PV UUIDs, 128 bytes each |
//! | [`lv_disk`] | 40960 | 256 LV records of 328 bytes, slot = LV number |
//! | [`pe_disk`] | 126976 | one 4-byte entry per PE of this PV |
//!
//! [`read_pv`] decodes one device; [`import::rebuild_vg`] turns the PVs of one VG into a
//! [`Metadata`](crate::model::Metadata) as lvm2 2.02.177's `format1` did.

pub mod import;
pub mod lv_disk;
pub mod pe_disk;
pub mod pv_disk;
pub mod uuid_list;
pub mod vg_disk;

use std::sync::Arc;

use crate::assemble::{AssembledVg, Assembly, Finding};
use crate::device::{self, Device};
use crate::disk_locn::DiskLocn;
use crate::error::{Error, Result, escape_bytes};
use crate::export::export_raw_tree;
use crate::id::LvmId;
use crate::label::{Label, LabelNote};
use crate::pv_header::PvHeader;
use crate::scan::{PvScan, Scan};
use crate::text::write_raw;

pub use import::{Lvm1Vg, rebuild_vg};
pub use lv_disk::LvDisk;
pub use pe_disk::PeDisk;
pub use pv_disk::PvDisk;
pub use vg_disk::VgDisk;

/// `NAME_LEN`: fixed size of every name field.
pub const NAME_LEN: usize = 128;
/// `ID_LEN`: characters of a UUID.
pub const ID_LEN: usize = 32;
/// `MAX_LV`: LV slots, and the bound on `lv_max` and LV numbers.
pub const MAX_LV: u32 = 256;
/// `MAX_PV`: the bound on `pv_max`.
pub const MAX_PV: u32 = 256;
/// `MAX_PE_TOTAL` (`lib/format1/disk-rep.h`): the largest `pe_total` lvm2 allows.
pub const MAX_PE_TOTAL: u32 = u32::MAX - 1;
/// `MAX_LE_TOTAL` (`lib/format1/disk-rep.h`, enforced by `_format1_lv_setup`): the most
/// extents an LVM1 LV may have (`pe_disk.le_num` is 16 bits).
pub const MAX_LE_TOTAL: u32 = 65534;
/// `MIN_PE_SIZE` (`lib/metadata/metadata.h`, enforced by `_format1_vg_setup`): the smallest
/// LVM1 extent, in sectors (8 KiB).
pub const MIN_PE_SIZE: u32 = 16;
/// Appended to `pv_disk.vg_name` (and prefixed to `system_id`) by `vgexport`.
pub const EXPORTED_TAG: &str = "PV_EXP";
/// The orphan VG name lvm2 gives LVM1 PVs that are in no VG.
pub const ORPHAN_VG: &str = "#orphans_lvm1";

/// `{base, size}` in bytes: where an area lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DataArea {
    /// Byte offset from the start of the device.
    pub base: u32,
    /// Length in bytes.
    pub size: u32,
}

impl DataArea {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        u64::from(self.base) + u64::from(self.size)
    }
}

/// Whether the start of a device carries an LVM1 PV signature (`HM`, version 1 or 2), which
/// is all lvm2 looks at.
pub fn is_lvm1(head: &[u8]) -> bool {
    head.len() >= 4 && &head[..2] == b"HM" && matches!(u16::from_le_bytes([head[2], head[3]]), 1 | 2)
}

const ID_CHARS: &[u8; 64] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#";

/// lvm2's `uuid_from_num`: `n` in base 64 over `0-9a-zA-Z!#`, most significant character
/// first, padded with `0` to 32 characters. Used for missing PV/VG UUIDs and for LV ids.
pub fn uuid_from_num(mut n: u32) -> LvmId {
    let mut a = [b'0'; ID_LEN];
    for c in a.iter_mut().rev() {
        *c = ID_CHARS[(n % 64) as usize];
        n /= 64;
    }
    LvmId::from_array(a).expect("alphabet characters")
}

/// A NUL-terminated name from a fixed field (`at` is the field's absolute offset). A field
/// without NUL, or with bytes that are not printable ASCII, is an error.
pub(crate) fn c_name(bytes: &[u8], what: &'static str, at: u64, field: &'static str) -> Result<String> {
    let bad = |expected: &str| Error::BadField {
        what,
        at,
        field,
        expected: expected.to_string(),
        found: escape_bytes(bytes),
    };
    let Some(n) = bytes.iter().position(|&b| b == 0) else {
        return Err(bad("a NUL-terminated name"));
    };
    let s = &bytes[..n];
    if !s.iter().all(|c| (0x20..0x7f).contains(c)) {
        return Err(bad("printable ASCII"));
    }
    Ok(String::from_utf8(s.to_vec()).expect("ASCII"))
}

/// Everything one LVM1 PV carries, decoded. For an orphan only `pv` is read (lvm2 leaves the
/// other areas as they were: they may hold stale data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lvm1Pv {
    /// Device name (for messages and hints).
    pub device: String,
    /// Device size in bytes.
    pub dev_size: u64,
    /// The PV struct.
    pub pv: PvDisk,
    /// The VG struct; `None` for an orphan.
    pub vg: Option<VgDisk>,
    /// The first `vg_disk.pv_cur` entries of the PV UUID list (raw, as stored).
    pub pv_uuids: Vec<String>,
    /// The non-empty LV records read, in slot order, with their slot index.
    pub lvs: Vec<(u32, LvDisk)>,
    /// One entry per PE of this PV.
    pub pe_map: Vec<PeDisk>,
}

impl Lvm1Pv {
    /// VG name with any `PV_EXP` suffix removed; `None` for an orphan.
    pub fn vg_name(&self) -> Option<&str> {
        (!self.pv.vg_name.is_empty()).then_some(self.pv.vg_name.as_str())
    }
}

/// Decode the LVM1 PV on `dev`. `Ok(None)` when byte 0 is not an LVM1 signature. Errors name
/// the device and the byte offset.
pub fn read_pv(dev: &dyn Device) -> Result<Option<Lvm1Pv>> {
    read_pv_inner(dev).map_err(|e| e.on_device(dev.name()))
}

fn read_pv_inner(dev: &dyn Device) -> Result<Option<Lvm1Pv>> {
    let size = dev.size();
    let head = device::read(dev, "pv_disk", 0, size.min(4))?;
    if !is_lvm1(&head) {
        return Ok(None);
    }
    let raw = device::read(dev, "pv_disk", 0, pv_disk::PV_DISK_SIZE as u64)?;
    let pv = PvDisk::parse(&raw)?;
    let mut out = Lvm1Pv {
        device: dev.name().to_string(),
        dev_size: size,
        pv,
        vg: None,
        pv_uuids: vec![],
        lvs: vec![],
        pe_map: vec![],
    };
    if out.pv.vg_name.is_empty() {
        return Ok(Some(out));
    }
    let p = &out.pv;
    let vg_at = u64::from(p.vg_on_disk.base);
    let vg = VgDisk::parse(&device::read(dev, "vg_disk", vg_at, vg_disk::VG_DISK_SIZE as u64)?, vg_at)?;
    out.pv_uuids = uuid_list::read(dev, p.pv_uuidlist_on_disk, vg.pv_cur)?;
    out.lvs = lv_disk::read_all(dev, p.lv_on_disk, &vg)?;
    check_pe_total(p)?;
    out.pe_map = pe_disk::read_map(dev, p.pe_on_disk.base, p.pe_total)?;
    out.vg = Some(vg);
    Ok(Some(out))
}

/// `pe_total` decides how much of the PE map is read. lvm2 2.02.177 reads and allocates
/// `pe_total` entries unchecked (`_read_extents`, `lib/format1/disk-rep.c`); what it writes
/// keeps them inside the PV: at most [`MAX_PE_TOTAL`], the map inside `pe_on_disk` (before
/// `pe_start`), and `pe_total` extents of at least [`MIN_PE_SIZE`] sectors (`pe_size`) within
/// `pv_size`. A `pe_total` beyond these is an error naming the field, before any allocation.
pub fn check_pe_total(p: &PvDisk) -> Result<()> {
    let total = u64::from(p.pe_total);
    let by_area = u64::from(p.pe_on_disk.size) / pe_disk::PE_DISK_SIZE as u64;
    let by_size = u64::from(p.pv_size) / u64::from(p.pe_size.max(MIN_PE_SIZE));
    let max = by_area.min(by_size).min(u64::from(MAX_PE_TOTAL));
    if total > max {
        return Err(Error::BadField {
            what: "pv_disk",
            at: 0x1C8,
            field: "pe_total",
            expected: format!(
                "at most {max} (the PE map in pe_on_disk holds {by_area}; pv_size {} sectors holds {by_size} extents of pe_size {})",
                p.pv_size, p.pe_size
            ),
            found: total.to_string(),
        });
    }
    Ok(())
}

/// Scan one device whose byte 0 is an LVM1 signature (`read` serves its reads; `dev` is kept
/// for later ones): a [`PvScan`] with a label synthesised from the `pv_disk` and no
/// metadata areas, carrying the decoded PV.
pub(crate) fn scan_device(dev: Arc<dyn Device>, read: &dyn Device, notes: Vec<LabelNote>) -> Result<PvScan> {
    let pv = read_pv(read)?.ok_or_else(|| {
        Error::BadMagic {
            what: "pv_disk id",
            at: 0,
            expected: "\"HM\" version 1 or 2".into(),
            found: "none".into(),
        }
        .on_device(dev.name())
    })?;
    let size = u64::from(pv.pv.pv_size);
    let pv_header = PvHeader {
        pv_uuid: pv.pv.pv_uuid,
        device_size: if size == 0 { pv.dev_size } else { size * 512 },
        data_areas: vec![DiskLocn { offset: pv.pv.pe_start * 512, size: 0 }],
        metadata_areas: vec![],
        extension: None,
    };
    Ok(PvScan {
        dev_size: dev.size(),
        device: dev,
        label: Label { sector: 0, crc: 0, pv_header },
        label_notes: notes,
        mdas: vec![],
        area_errors: vec![],
        block: None,
        lvm1: Some(Box::new(pv)),
    })
}

/// The finding for a device that carries both an LVM1 PV struct at byte 0 and an LVM2 label:
/// the LVM2 label is used, and this says so.
pub(crate) fn conflict_error(label: &Label) -> Error {
    Error::BadMagic {
        what: "LVM1 pv_disk",
        at: 0,
        expected: "no LVM1 PV struct on a device with an LVM2 label".into(),
        found: format!(
            "\"HM\" at byte 0 and an LVM2 label in sector {} (the LVM2 label is used; the LVM1 PV is ignored)",
            label.sector
        ),
    }
}

/// Assemble the LVM1 VGs of a scan: PVs (not dropped as duplicates: `active`) grouped by VG
/// name in scan order, each group rebuilt with [`rebuild_vg`]. Members are marked in
/// `claimed`; problems become findings. LVM1 orphans are left unclaimed.
pub(crate) fn assemble_lvm1(scan: &Scan, active: &[bool], claimed: &mut [bool], a: &mut Assembly) {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, pv) in scan.pvs.iter().enumerate() {
        let Some(p) = pv.lvm1.as_deref() else { continue };
        let Some(name) = p.vg_name() else { continue };
        if !active[i] {
            continue;
        }
        match groups.iter_mut().find(|g| g.0 == name) {
            Some(g) => g.1.push(i),
            None => groups.push((name.to_string(), vec![i])),
        }
    }
    for (name, members) in groups {
        for &i in &members {
            claimed[i] = true;
        }
        if a.vgs.iter().any(|v| v.name() == name) {
            a.findings.push(Finding::Error(Error::semantic(
                name.as_str(),
                "one VG per name",
                "an LVM1 VG with the name of an LVM2 VG (the LVM1 VG is not shown)",
            )));
            continue;
        }
        let pvs: Vec<Lvm1Pv> =
            members.iter().map(|&i| scan.pvs[i].lvm1.as_deref().expect("grouped").clone()).collect();
        let built = match rebuild_vg(&pvs) {
            Ok(b) => b,
            Err(e) => {
                a.findings.push(Finding::Error(e));
                continue;
            }
        };
        for &(k, why) in &built.ignored {
            a.findings.push(Finding::Error(
                Error::semantic(name.as_str(), "a PV of this LVM1 VG", format!("ignored: {why}"))
                    .on_device(&pvs[k].device),
            ));
        }
        for (pv, src) in built.metadata.vg.pvs.iter().zip(&built.pv_sources) {
            if src.is_none() {
                a.findings.push(Finding::MissingPv { vg: name.clone(), pv_uuid: pv.id, hint: None });
            }
        }
        let mut text = write_raw(&export_raw_tree(&built.metadata)).into_bytes();
        text.push(0);
        let pv_devices: Vec<Option<usize>> = built.pv_sources.iter().map(|s| s.map(|k| members[k])).collect();
        a.vgs.push(AssembledVg {
            metadata: Arc::new(built.metadata),
            text: Arc::new(text),
            source: (members[0], 0),
            pv_devices,
            copies: vec![],
            duplicates: vec![],
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_from_num_matches_lvm2() {
        assert_eq!(uuid_from_num(0).as_str(), "00000000000000000000000000000000");
        assert_eq!(uuid_from_num(4).to_string(), "000000-0000-0000-0000-0000-0000-000004");
        assert_eq!(uuid_from_num(63).as_str(), "0000000000000000000000000000000#");
        assert_eq!(uuid_from_num(64 + 10).as_str(), "0000000000000000000000000000001a");
    }

    #[test]
    fn signature() {
        assert!(is_lvm1(b"HM\x01\x00"));
        assert!(is_lvm1(b"HM\x02\x00rest"));
        assert!(!is_lvm1(b"HM\x03\x00"));
        assert!(!is_lvm1(b"HM\x01"));
        assert!(!is_lvm1(b"LABELONE"));
    }
}
