//! Metadata-changing commands: scan, check the VG may be written, edit the model
//! ([`ops`](lvmkit_metadata::write::ops)), commit with lvm2's protocol.
//!
//! Refusals come before any write: a VG with missing PVs, stale or mismatching metadata copies,
//! unusable metadata areas on its PVs, a VG owned by another system ID without a takeover, an
//! exported VG (except for import). `restore-metadata` is the repair and is allowed on an
//! inconsistent VG (its present PVs are written).

use std::path::Path;

use lvmkit_metadata::assemble::{AssembledVg, Finding};
use lvmkit_metadata::import::parse_metadata;
use lvmkit_metadata::ring;
use lvmkit_metadata::text::{Node, Scalar, Value, parse};
use lvmkit_metadata::write::ops::{self, Change, Context};
use lvmkit_metadata::write::{CommitReport, PvTarget, WriteError, commit, open_scanned};

use crate::source::Source;

/// Why a VG cannot be written as it is, one line per problem (empty: consistent).
pub fn inconsistencies(src: &Source, vg: &AssembledVg) -> Vec<String> {
    let name = vg.name();
    let devices: Vec<&str> = vg.pv_devices.iter().flatten().map(|&i| src.scan.pvs[i].name()).collect();
    let mut out = Vec::new();
    for f in &src.assembly.findings {
        let relevant = match f {
            Finding::MissingPv { vg, .. } | Finding::StaleCopy { vg, .. } | Finding::Mismatch { vg, .. } => {
                vg == name
            }
            Finding::Error(e) => devices.iter().any(|d| e.to_string().starts_with(&format!("{d}: "))),
            _ => false,
        };
        if relevant {
            out.push(f.to_string());
        }
    }
    out
}

/// Write targets for every present PV of `vg`.
pub fn targets(src: &Source, vg: &AssembledVg) -> Result<Vec<PvTarget>, WriteError> {
    vg.pv_devices
        .iter()
        .flatten()
        .map(|&i| {
            let pv = &src.scan.pvs[i];
            Ok(PvTarget::from_scan(pv, open_scanned(pv.name())?))
        })
        .collect()
}

fn find_vg<'s>(src: &'s Source, name: &str) -> Result<&'s AssembledVg, WriteError> {
    src.assembly.vg(name).ok_or_else(|| WriteError::Refused {
        vg: name.to_string(),
        why: "not found on the scanned devices".into(),
    })
}

/// One line per commit, for the CLI.
pub fn describe(r: &CommitReport) -> String {
    let copies: Vec<String> = r
        .placements
        .iter()
        .map(|p| {
            format!(
                "{} mda{} at {}{}",
                p.device,
                p.mda + 1,
                p.new.offset,
                if p.wrapped { " (wrapped)" } else { "" }
            )
        })
        .collect();
    format!(
        "Volume group \"{}\" written: seqno {}, {} bytes to {}\n",
        r.vg,
        r.seqno,
        r.text_size,
        copies.join(", ")
    )
}

/// Apply `changes` to each named VG (all VGs when `names` is empty) and commit.
pub fn change_vgs(
    src: &Source,
    names: &[String],
    changes: &[Change],
    ctx: &Context,
) -> Result<String, WriteError> {
    let names: Vec<String> = if names.is_empty() {
        src.assembly.vgs.iter().map(|v| v.name().to_string()).collect()
    } else {
        names.to_vec()
    };
    let mut out = String::new();
    for n in &names {
        let vg = find_vg(src, n)?;
        let bad = inconsistencies(src, vg);
        if !bad.is_empty() {
            return Err(WriteError::Inconsistent { vg: n.clone(), why: bad.join("; ") });
        }
        let new = ops::apply(&vg.metadata, changes, ctx)?;
        let t = targets(src, vg)?;
        out.push_str(&describe(&commit(&t, &vg.metadata, &new)?));
    }
    Ok(out)
}

/// Make the copy with `seqno` in `device`'s metadata areas the VG's current metadata again
/// (written with seqno = current + 1 to every present PV of the VG).
pub fn restore_metadata(
    src: &Source,
    device: &Path,
    seqno: u64,
    ctx: &Context,
) -> Result<String, WriteError> {
    let dname = device.display().to_string();
    let pv = src.scan.pvs.iter().find(|p| p.name() == dname).ok_or_else(|| WriteError::Refused {
        vg: "?".into(),
        why: format!("{dname} is not a scanned PV (give it in --devices too)"),
    })?;
    let mut found = None;
    for m in &pv.mdas {
        let Ok(h) = &m.header else { continue };
        let hist = ring::history(pv.device.as_ref(), h)?;
        if let Some(e) = hist.iter().find(|e| e.seqno == seqno && !e.damaged) {
            let text = ring::read_text(
                pv.device.as_ref(),
                h,
                &lvmkit_metadata::raw_locn::RawLocn {
                    offset: e.offset,
                    size: e.size,
                    checksum: e.checksum,
                    flags: 0,
                },
            )?;
            found = Some(parse_metadata(&text)?);
            break;
        }
    }
    let old = found.ok_or_else(|| WriteError::Refused {
        vg: "?".into(),
        why: format!("no intact metadata copy with seqno {seqno} in the metadata areas of {dname}"),
    })?;
    let vg = src.assembly.vgs.iter().find(|v| v.metadata.vg.id == old.vg.id).ok_or_else(|| {
        WriteError::Refused { vg: old.vg.name.clone(), why: "no current copy of this VG found".into() }
    })?;
    let current_ids: Vec<_> = vg.metadata.vg.pvs.iter().map(|p| p.id).collect();
    let old_ids: Vec<_> = old.vg.pvs.iter().map(|p| p.id).collect();
    if current_ids != old_ids {
        return Err(WriteError::Refused {
            vg: old.vg.name.clone(),
            why: format!("the copy with seqno {seqno} lists other PVs than the current metadata"),
        });
    }
    let new = ops::restore(&vg.metadata, &old, ctx)?;
    let t = targets(src, vg)?;
    Ok(describe(&commit(&t, &vg.metadata, &new)?))
}

/// This host's system ID as lvm2 derives it from `DIR/lvm.conf` `global/system_id_source`:
/// `none` (default), `uname` (node name), `lvmlocal` (`local/system_id` in `DIR/lvmlocal.conf`),
/// `machineid` (`/etc/machine-id`), `file` (the first line of `global/system_id_file`).
pub fn host_system_id(dir: &Path) -> Result<Option<String>, WriteError> {
    let conf = |file: &str| -> Result<Option<String>, WriteError> {
        match std::fs::read(dir.join(file)) {
            Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(WriteError::Open { path: dir.join(file).display().to_string(), source: e.into() }),
        }
    };
    let get = |text: &str, section: &str, key: &str| -> Result<Option<String>, WriteError> {
        let root = parse(text.as_bytes())?;
        Ok(root.section(section).and_then(|s| match s.get(key) {
            Some(Node::Value(Value::Scalar(Scalar::Str(v) | Scalar::Bare(v)))) => Some(v.to_string()),
            _ => None,
        }))
    };
    let Some(lvm_conf) = conf("lvm.conf")? else { return Ok(None) };
    let source = get(&lvm_conf, "global", "system_id_source")?.unwrap_or_else(|| "none".into());
    let id = match source.as_str() {
        "none" => None,
        "uname" => std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_string()),
        "lvmlocal" => match conf("lvmlocal.conf")? {
            Some(t) => get(&t, "local", "system_id")?,
            None => None,
        },
        "machineid" | "appmachineid" => {
            std::fs::read_to_string("/etc/machine-id").ok().map(|s| s.trim().to_string())
        }
        "file" => match get(&lvm_conf, "global", "system_id_file")? {
            Some(f) => {
                std::fs::read_to_string(&f).ok().and_then(|s| s.lines().next().map(|l| l.trim().to_string()))
            }
            None => None,
        },
        other => {
            return Err(WriteError::Refused {
                vg: "-".into(),
                why: format!("unknown global/system_id_source {other:?} in {}/lvm.conf", dir.display()),
            });
        }
    };
    // lvm2 keeps only the valid characters.
    Ok(id
        .map(|s| {
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric() || ".-_+".contains(*c))
                .take(128)
                .collect::<String>()
        })
        .filter(|s: &String| !s.is_empty()))
}

/// The write context for a command line: host system ID, takeover, description, host, time.
pub fn context(host_system_id: Option<String>, takeover_from: Option<String>, cmdline: &str) -> Context {
    Context {
        host_system_id,
        takeover_from,
        description: format!("Write from {cmdline}."),
        hostname: std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_string()),
        time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs() as i64),
    }
}
