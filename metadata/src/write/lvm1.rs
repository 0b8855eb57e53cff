//! `vgexport` / `vgimport` of an LVM1 (format1) VG, written byte-exactly as lvm2 2.02.177 did.
//!
//! LVM1 has no text metadata, no seqno and no commit protocol: lvm2 rewrote every area of every
//! PV in place. For export and import only three fields change their value (lvm2's
//! `export_pv` / `_export_vg` in `lib/format1/import-export.c`), so only those are written here:
//!
//! | where | field | export | import |
//! |---|---|---|---|
//! | `pv_disk` + 0xAC (128) | `vg_name` | `<vg>PV_EXP` | `<vg>` |
//! | `pv_disk` + 0x12C (128) | `system_id` | `PV_EXP<host><time>` | `PV_IMP<host><time>` |
//! | `vg_disk` + 0x88 (4) | `vg_status` | `|= VG_EXPORTED (0x02)` | `&= !VG_EXPORTED` |
//!
//! Both names are NUL-padded to 128 bytes (lvm2 `strncpy`s into a zeroed struct). The system ID
//! follows `export_pv` exactly: on export it is regenerated unless it already starts with
//! `PV_EXP`; on import it is regenerated (`PV_IMP…`) only if it starts with `PV_EXP`; an empty
//! one becomes `<host><time>`. It is generated once (from the first PV's) and the same string
//! goes to every PV, as lvm2's `vg->lvm1_system_id` update does. `<host>` is the `uname`
//! node name, `<time>` Unix seconds, the whole truncated to 127 bytes (`snprintf(…, NAME_LEN, …)`).
//!
//! Checked on the lvm2-made image `l1d` (exported by lvm2 2.02.177) against the never-exported
//! `l1a`/`l1b`/`l1c`: `pv_status` is 0 in all (the PV's exported flag is in-core only), bytes
//! 468..1024 are zero in all, the LV records keep the plain VG name, `vg_status` is 6 in `l1d`
//! and 4 in the others. Importing `l1d` here leaves every byte of the image equal except the
//! three fields, with `vg_name` `l1d` + NULs and `vg_status` 4: the values lvm2 writes for a VG
//! that was never exported (the tests in `tests/tests/write_lvm1.rs` check this).
//!
//! Writes: per PV, the 512-byte sector(s) holding the changed `pv_disk` bytes (sector 0), then the
//! sector holding `vg_status` (sector 8 in lvm2's layout) — each a read-modify-write of the
//! sector as read at plan time, each followed by a sync. Export writes `pv_disk` first and
//! import `vg_disk` first, so a PV cut between its two writes is always in the one mixed state
//! "name ends in `PV_EXP`, `vg_status` not exported", which both commands accept and complete
//! (export finishes the export, import rolls it back).
//!
//! Refusals (nothing written): the VG is partial (fewer PVs than `vg_disk.pv_cur`, or UUIDs of
//! the PV list not found), has two devices with one PV UUID, or PVs whose `vg_disk` differ
//! (other than in the EXPORTED bit); export of a VG whose every PV is already exported, import
//! of a VG with no trace of an export; a VG name too long for the `PV_EXP` suffix; a PV whose
//! bytes changed since the scan (checked when planning and again, for every PV, before the
//! first write).

use std::sync::Arc;

use crate::device::{self as rdev, Device};
use crate::lvm1::pv_disk::PV_DISK_SIZE;
use crate::lvm1::vg_disk::{VG_DISK_SIZE, VG_EXPORTED};
use crate::lvm1::{EXPORTED_TAG, Lvm1Pv, NAME_LEN, PvDisk, VgDisk};
use crate::scan::Scan;

use super::WriteError;
use super::device::{WriteDevice, open_scanned};

/// Prefixed to `system_id` by `vgimport` (lvm2's `IMPORTED_TAG`).
pub const IMPORTED_TAG: &str = "PV_IMP";

/// Byte offset of `vg_name` in `pv_disk`.
const VG_NAME_AT: usize = 0xAC;
/// Byte offset of `system_id` in `pv_disk`.
const SYSTEM_ID_AT: usize = 0x12C;
/// Byte offset of `vg_status` in `vg_disk`.
const VG_STATUS_AT: u64 = 0x88;
const SECTOR: u64 = 512;

/// Which operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lvm1Change {
    /// `vgexport`.
    Export,
    /// `vgimport`.
    Import,
}

/// What goes into a generated `system_id`: `<prefix><hostname><time>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lvm1Context {
    /// The `uname` node name (lvm2's `cmd->hostname`).
    pub hostname: String,
    /// Unix seconds.
    pub time: u64,
}

impl Lvm1Context {
    /// This host, now. The node name is read from `/proc/sys/kernel/hostname`, which is
    /// `uname(2)`'s `nodename` for this UTS namespace.
    pub fn this_host() -> Result<Lvm1Context, WriteError> {
        let hostname = crate::host::node_name().map_err(|e| match e {
            crate::host::HostError::Read { path, source } => WriteError::Open { path, source },
            other => WriteError::Open {
                path: "/proc/sys/kernel/hostname".into(),
                source: Arc::new(std::io::Error::other(other.to_string())),
            },
        })?;
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok(Lvm1Context { hostname, time })
    }

    /// lvm2's `generate_lvm1_system_id`: `snprintf(s, NAME_LEN, "%s%s%lu", prefix, host, time)`.
    pub fn system_id(&self, prefix: &str) -> String {
        let mut s = format!("{prefix}{}{}", self.hostname, self.time);
        s.truncate(NAME_LEN - 1);
        s
    }
}

/// One sector write of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lvm1Write {
    /// Index of the PV's device in [`Lvm1Plan::devices`].
    pub pv: usize,
    /// `"pv_disk"` or `"vg_disk"`.
    pub what: &'static str,
    /// Absolute byte offset (a multiple of 512).
    pub at: u64,
    /// The sector(s) as read when planning; the write is refused if the device holds other bytes.
    pub old: Vec<u8>,
    /// The sector(s) to write.
    pub new: Vec<u8>,
}

/// Every write of one LVM1 export or import, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lvm1Plan {
    /// VG name (without `PV_EXP`).
    pub vg: String,
    /// The operation.
    pub change: Lvm1Change,
    /// Device names of the VG's PVs, in the VG's PV order.
    pub devices: Vec<String>,
    /// The `vg_name` field written.
    pub vg_name: String,
    /// The `system_id` written to every PV.
    pub system_id: String,
    /// The writes, PV by PV.
    pub writes: Vec<Lvm1Write>,
}

/// Is `vg` an LVM1 VG of this scan (some LVM1 PV carries the name, exported or not)?
pub fn is_lvm1_vg(scan: &Scan, vg: &str) -> bool {
    scan.pvs.iter().any(|p| p.lvm1.as_deref().and_then(Lvm1Pv::vg_name) == Some(vg))
}

fn refuse(vg: &str, why: impl Into<String>) -> WriteError {
    WriteError::Refused { vg: vg.to_string(), why: why.into() }
}

fn inconsistent(vg: &str, why: impl Into<String>) -> WriteError {
    WriteError::Inconsistent { vg: vg.to_string(), why: why.into() }
}

/// `vg_disk` bytes with the EXPORTED bit of `vg_status` cleared (export state aside, every PV
/// of a VG carries the same struct).
fn masked(raw: &[u8]) -> Vec<u8> {
    let mut v = raw.to_vec();
    v[VG_STATUS_AT as usize] &= !(VG_EXPORTED as u8);
    v
}

/// A NUL-padded 128-byte name field.
fn field(s: &str) -> [u8; NAME_LEN] {
    let mut f = [0u8; NAME_LEN];
    f[..s.len()].copy_from_slice(s.as_bytes());
    f
}

/// The sector-aligned range covering `[at, at+len)`.
fn sectors(at: u64, len: u64) -> (u64, u64) {
    let start = at / SECTOR * SECTOR;
    (start, (at + len).div_ceil(SECTOR) * SECTOR - start)
}

fn read_range(dev: &dyn Device, what: &'static str, at: u64, len: u64) -> Result<Vec<u8>, WriteError> {
    Ok(rdev::read(dev, what, at, len).map_err(|e| e.on_device(dev.name()))?.into_owned())
}

/// Plan `change` of LVM1 VG `vg` from `scan`: check it may be done and build the sector writes.
/// Reads the PVs' current sectors (through the scan's devices) and refuses if they no longer
/// hold what the scan decoded. Writes nothing.
pub fn plan(scan: &Scan, vg: &str, change: Lvm1Change, ctx: &Lvm1Context) -> Result<Lvm1Plan, WriteError> {
    let members: Vec<usize> = (0..scan.pvs.len())
        .filter(|&i| scan.pvs[i].lvm1.as_deref().and_then(Lvm1Pv::vg_name) == Some(vg))
        .collect();
    if members.is_empty() {
        return Err(refuse(vg, "no LVM1 PV of this VG on the scanned devices"));
    }
    let pv = |i: usize| scan.pvs[i].lvm1.as_deref().expect("filtered");
    let vgd = |i: usize| pv(i).vg.as_ref().expect("a PV in a VG has a vg_disk");

    // The VG must be whole and agree with itself.
    let first = members[0];
    for &i in &members[1..] {
        if masked(&vgd(i).raw) != masked(&vgd(first).raw) {
            return Err(inconsistent(
                vg,
                format!(
                    "the VG struct (vg_disk) on {} differs from the one on {}",
                    pv(i).device,
                    pv(first).device
                ),
            ));
        }
    }
    for (k, &i) in members.iter().enumerate() {
        if let Some(&j) = members[..k].iter().find(|&&j| pv(j).pv.pv_uuid == pv(i).pv.pv_uuid) {
            return Err(inconsistent(
                vg,
                format!(
                    "{} and {} carry the same PV UUID {} (limit the scan with --devices)",
                    pv(j).device,
                    pv(i).device,
                    pv(i).pv.pv_uuid
                ),
            ));
        }
    }
    let pv_cur = vgd(first).pv_cur as usize;
    let list = &pv(first).pv_uuids;
    let mut order: Vec<usize> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for u in list.iter().take(pv_cur) {
        match members.iter().find(|&&i| pv(i).pv.pv_uuid.as_bytes() == u.as_bytes()) {
            Some(&i) => order.push(i),
            None => missing.push(u.clone()),
        }
    }
    if !missing.is_empty() || order.len() != pv_cur || members.len() != pv_cur {
        return Err(inconsistent(
            vg,
            format!(
                "partial: vg_disk.pv_cur is {pv_cur}, {} PV(s) found{}{}",
                members.len(),
                if missing.is_empty() { String::new() } else { format!(", missing {}", missing.join(", ")) },
                if order.len() < members.len() { ", some not in the VG's PV list" } else { "" }
            ),
        ));
    }

    // Export state.
    let status_exp = |i: usize| vgd(i).vg_status & VG_EXPORTED != 0;
    let fully = order.iter().all(|&i| pv(i).pv.exported && status_exp(i));
    let traces = order.iter().any(|&i| pv(i).pv.exported || status_exp(i));
    match change {
        Lvm1Change::Export if fully => return Err(refuse(vg, "is already exported")),
        Lvm1Change::Import if !traces => return Err(refuse(vg, "is not exported")),
        _ => {}
    }
    let vg_name = match change {
        Lvm1Change::Export => {
            // lvm2: strlen(vg_name) + sizeof("PV_EXP") > NAME_LEN refuses.
            if vg.len() + EXPORTED_TAG.len() + 1 > NAME_LEN {
                return Err(refuse(
                    vg,
                    format!(
                        "name too long to export (at most {} characters)",
                        NAME_LEN - EXPORTED_TAG.len() - 1
                    ),
                ));
            }
            format!("{vg}{EXPORTED_TAG}")
        }
        Lvm1Change::Import => vg.to_string(),
    };
    if !ctx.hostname.bytes().all(|c| (0x21..0x7f).contains(&c)) {
        return Err(refuse(vg, format!("host name {:?} is not printable ASCII", ctx.hostname)));
    }
    // export_pv's system_id rules, from the first PV's (lvm2's vg->lvm1_system_id).
    let current = &pv(order[0]).pv.system_id;
    let system_id = match change {
        Lvm1Change::Export if !current.starts_with(EXPORTED_TAG) => ctx.system_id(EXPORTED_TAG),
        Lvm1Change::Import if current.starts_with(EXPORTED_TAG) => ctx.system_id(IMPORTED_TAG),
        _ if current.is_empty() => ctx.system_id(""),
        _ => current.clone(),
    };

    let mut writes = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let p = pv(i);
        let dev = scan.pvs[i].device.as_ref();
        // pv_disk: sector 0; check it still decodes to what the scan saw.
        let (pv_at, pv_len) = sectors(0, PV_DISK_SIZE as u64);
        let old_pv = read_range(dev, "pv_disk", pv_at, pv_len)?;
        let now = PvDisk::parse(&old_pv).map_err(|e| e.on_device(dev.name()))?;
        let vg_at = u64::from(p.pv.vg_on_disk.base);
        let (vs_at, vs_len) = sectors(vg_at + VG_STATUS_AT, 4);
        let old_vg = read_range(dev, "vg_disk", vs_at, vs_len)?;
        let vg_now = read_range(dev, "vg_disk", vg_at, VG_DISK_SIZE as u64)?;
        let vg_now = VgDisk::parse(&vg_now, vg_at).map_err(|e| e.on_device(dev.name()))?;
        if now != p.pv || Some(&vg_now) != p.vg.as_ref() {
            return Err(refuse(vg, format!("{}: the LVM1 PV changed since it was scanned", p.device)));
        }
        let mut new_pv = old_pv.clone();
        new_pv[VG_NAME_AT..VG_NAME_AT + NAME_LEN].copy_from_slice(&field(&vg_name));
        new_pv[SYSTEM_ID_AT..SYSTEM_ID_AT + NAME_LEN].copy_from_slice(&field(&system_id));
        let mut new_vg = old_vg.clone();
        let o = (vg_at + VG_STATUS_AT - vs_at) as usize;
        let status = u32::from_le_bytes(new_vg[o..o + 4].try_into().expect("4 bytes"));
        let status = match change {
            Lvm1Change::Export => status | VG_EXPORTED,
            Lvm1Change::Import => status & !VG_EXPORTED,
        };
        new_vg[o..o + 4].copy_from_slice(&status.to_le_bytes());
        let pv_write = Lvm1Write { pv: k, what: "pv_disk", at: pv_at, old: old_pv, new: new_pv };
        let vg_write = Lvm1Write { pv: k, what: "vg_disk", at: vs_at, old: old_vg, new: new_vg };
        // Export: name first; import: status first (see the module comment). A range that
        // does not change is not written.
        let pair = match change {
            Lvm1Change::Export => [pv_write, vg_write],
            Lvm1Change::Import => [vg_write, pv_write],
        };
        writes.extend(pair.into_iter().filter(|w| w.old != w.new));
    }
    Ok(Lvm1Plan {
        vg: vg.to_string(),
        change,
        devices: order.iter().map(|&i| scan.pvs[i].name().to_string()).collect(),
        vg_name,
        system_id,
        writes,
    })
}

/// Carry out `plan` on the devices it names, opened for writing.
pub fn execute(plan: &Lvm1Plan) -> Result<usize, WriteError> {
    let devs = plan.devices.iter().map(|d| open_scanned(d)).collect::<Result<Vec<_>, _>>()?;
    execute_on(plan, &devs)
}

/// Carry out `plan` on `devs` (one per [`Lvm1Plan::devices`], same order): first check that every
/// range still holds the bytes the plan was made from (nothing is written otherwise), then write
/// each range and sync, in plan order. Returns the number of writes.
///
/// No power-cut test exercises this: each write is one sector (512 bytes, the unit a disk writes
/// atomically) or, for a `vg_disk` not placed at a sector boundary, two; a cut leaves every
/// sector either old or new. On one PV the only intermediate state is the one the module comment
/// describes, which both commands complete. Across PVs of a multi-PV VG a cut leaves some PVs
/// done and others not, as lvm2 2.02.177 (which rewrote the PVs one after another with no commit
/// protocol) did too. The reader then drops the exported PVs and shows the VG partial, but
/// [`plan`] gathers the PVs by their name without the suffix and compares their `vg_disk`
/// without the EXPORTED bit, so running the same command again (or the opposite one) completes
/// the VG in one state; the test `interrupted_multi_pv_export_completes` does this.
pub fn execute_on(plan: &Lvm1Plan, devs: &[Arc<dyn WriteDevice>]) -> Result<usize, WriteError> {
    if devs.len() != plan.devices.len() {
        return Err(refuse(
            &plan.vg,
            format!("{} devices given for a plan over {}", devs.len(), plan.devices.len()),
        ));
    }
    for w in &plan.writes {
        let dev = devs[w.pv].as_ref();
        let now = read_range(dev, w.what, w.at, w.old.len() as u64)?;
        if now != w.old {
            return Err(refuse(
                &plan.vg,
                format!("{}: {} at byte {} changed since it was scanned", dev.name(), w.what, w.at),
            ));
        }
    }
    for (done, w) in plan.writes.iter().enumerate() {
        let dev = devs[w.pv].as_ref();
        let io = |source: std::io::Error| WriteError::Io {
            device: dev.name().to_string(),
            what: w.what.to_string(),
            at: w.at,
            len: w.new.len() as u64,
            done,
            source: Arc::new(source),
        };
        dev.write_at(w.at, &w.new).map_err(io)?;
        dev.sync().map_err(io)?;
    }
    Ok(plan.writes.len())
}

/// One line for the CLI, as lvm2 prints it.
pub fn describe(plan: &Lvm1Plan) -> String {
    match plan.change {
        Lvm1Change::Export => format!("  Volume group \"{}\" successfully exported\n", plan.vg),
        Lvm1Change::Import => format!("  Volume group \"{}\" successfully imported\n", plan.vg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_id_is_truncated_like_snprintf() {
        let c = Lvm1Context { hostname: "h".repeat(200), time: 17 };
        assert_eq!(c.system_id("PV_EXP").len(), 127);
        let c = Lvm1Context { hostname: "vm".into(), time: 1795293224 };
        assert_eq!(c.system_id(EXPORTED_TAG), "PV_EXPvm1795293224");
        assert_eq!(c.system_id(IMPORTED_TAG), "PV_IMPvm1795293224");
    }

    #[test]
    fn sector_ranges() {
        assert_eq!(sectors(0, 468), (0, 512));
        assert_eq!(sectors(4096 + 0x88, 4), (4096, 512));
        assert_eq!(sectors(510, 4), (0, 1024));
    }
}
