//! Metadata operations as model edits, with lvm2's rules: tags, system ID (ownership and
//! takeover), export/import, autoactivation, and bringing back an older copy from the ring.
//!
//! Each operation takes the current metadata and returns the new one (seqno + 1, header fields
//! for this write), or a typed refusal; [`commit`](super::commit::commit) writes it.
//!
//! lvm2 2.03.16 behaviour these follow (checked on loop devices, see the kit tests):
//! - A VG with a system ID (or a lock type) is written with `WRITE_LOCKED` in `flags` instead of
//!   `WRITE` in `status`, for the VG and every writable LV; without one, `WRITE` again.
//! - `vgexport` sets `EXPORTED` on the VG and every PV and clears the system ID;
//!   `vgimport` clears `EXPORTED` and sets the system ID to the importing host's (none when the
//!   host has none).
//! - `vgchange --setautoactivation n` adds `NOAUTOACTIVATE` to the VG's `flags`.
//! - A VG owned by another system ID cannot be changed at all ("Cannot access VG … with system
//!   ID … with local system ID …"); lvmkit allows it only with an explicit takeover naming the
//!   current owner.

use crate::flags::{FlagKind, FlagSet};
use crate::model::Metadata;

use super::WriteError;

/// One change to a VG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// `vgchange --addtag`.
    AddVgTag(String),
    /// `vgchange --deltag`.
    DelVgTag(String),
    /// `lvchange --addtag` on an LV.
    AddLvTag {
        /// LV name.
        lv: String,
        /// Tag.
        tag: String,
    },
    /// `lvchange --deltag` on an LV.
    DelLvTag {
        /// LV name.
        lv: String,
        /// Tag.
        tag: String,
    },
    /// `vgchange --systemid` (`None` or empty: no owner).
    SetSystemId(Option<String>),
    /// `vgexport`.
    Export,
    /// `vgimport`.
    Import,
    /// `vgchange --setautoactivation y|n`.
    SetAutoactivation(bool),
}

/// Who is writing and what they are allowed to override.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// This host's system ID (`None`: the host has none).
    pub host_system_id: Option<String>,
    /// Allow writing a VG owned by exactly this other system ID (takeover).
    pub takeover_from: Option<String>,
    /// `description` for the written text (`Write from …`).
    pub description: String,
    /// `creation_host`.
    pub hostname: Option<String>,
    /// `creation_time`, Unix seconds.
    pub time: Option<i64>,
}

/// lvm2's tag rule: 1–1024 characters from `A-Za-z0-9_+.-/=!:&#`, not starting with `-`.
pub fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 1024
        && !t.starts_with('-')
        && t.bytes().all(|c| c.is_ascii_alphanumeric() || b"_+.-/=!:&#".contains(&c))
}

/// lvm2's system ID rule: up to 128 characters from `A-Za-z0-9.-_+`.
pub fn valid_system_id(s: &str) -> bool {
    s.len() <= 128 && s.bytes().all(|c| c.is_ascii_alphanumeric() || b".-_+".contains(&c))
}

/// May this host write `md`? Owned by another system ID without a matching takeover: no.
pub fn check_owner(md: &Metadata, ctx: &Context) -> Result<(), WriteError> {
    // An LVM1 VG's `system_id` is a host+time stamp, not an owner: say what really stops the
    // write (commit::plan refuses it too).
    if md.vg.format.as_deref().is_some_and(|f| f != "lvm2") {
        return Err(WriteError::Refused {
            vg: md.vg.name.clone(),
            why: format!(
                "format {} VG: lvmkit writes only LVM2 metadata, never over an LVM1 PV (vgexport/vgimport excepted)",
                md.vg.format.as_deref().unwrap_or("lvm1")
            ),
        });
    }
    let owner = md.vg.system_id.as_deref().filter(|s| !s.is_empty());
    let Some(owner) = owner else { return Ok(()) };
    if ctx.host_system_id.as_deref() == Some(owner) || ctx.takeover_from.as_deref() == Some(owner) {
        return Ok(());
    }
    let host = ctx
        .host_system_id
        .as_deref()
        .map_or("no local system ID".to_string(), |h| format!("local system ID {h}"));
    Err(WriteError::Refused {
        vg: md.vg.name.clone(),
        why: format!(
            "owned by system ID {owner}, this host has {host}; refusing to write without an explicit takeover from {owner}"
        ),
    })
}

/// The access rules every write of `md` passes (lvm2's `vg_access` checks on a VG read for
/// writing, lib/metadata/metadata.c): the owner ([`check_owner`]), and an exported VG may only
/// be imported ("Volume group … is exported").
pub fn check_writable(md: &Metadata, ctx: &Context, importing: bool) -> Result<(), WriteError> {
    check_owner(md, ctx)?;
    if md.vg.is_exported() && !importing {
        return Err(WriteError::Refused {
            vg: md.vg.name.clone(),
            why: "is exported; import it first".into(),
        });
    }
    Ok(())
}

/// Apply `changes` to `md`: the new metadata with seqno + 1 and this write's header fields.
pub fn apply(md: &Metadata, changes: &[Change], ctx: &Context) -> Result<Metadata, WriteError> {
    let vgname = md.vg.name.clone();
    let refuse = |why: String| WriteError::Refused { vg: vgname.clone(), why };
    check_writable(md, ctx, changes.contains(&Change::Import))?;
    let mut n = md.clone();
    for c in changes {
        match c {
            Change::AddVgTag(t)
            | Change::DelVgTag(t)
            | Change::AddLvTag { tag: t, .. }
            | Change::DelLvTag { tag: t, .. }
                if !valid_tag(t) =>
            {
                return Err(refuse(format!(
                    "invalid tag {t:?}: 1 to 1024 characters from A-Za-z0-9_+.-/=!:&#, not starting with '-'"
                )));
            }
            Change::AddVgTag(t) => {
                if !n.vg.tags.contains(t) {
                    n.vg.tags.push(t.clone());
                }
            }
            Change::DelVgTag(t) => n.vg.tags.retain(|x| x != t),
            Change::AddLvTag { lv, tag } | Change::DelLvTag { lv, tag } => {
                let add = matches!(c, Change::AddLvTag { .. });
                let l =
                    n.vg.lvs
                        .iter_mut()
                        .find(|l| &l.name == lv)
                        .ok_or_else(|| refuse(format!("has no logical volume {lv}")))?;
                if add && !l.tags.contains(tag) {
                    l.tags.push(tag.clone());
                } else if !add {
                    l.tags.retain(|x| x != tag);
                }
            }
            Change::SetSystemId(id) => {
                let id = id.clone().filter(|s| !s.is_empty());
                if let Some(s) = &id {
                    if !valid_system_id(s) {
                        return Err(refuse(format!(
                            "invalid system ID {s:?}: up to 128 characters from A-Za-z0-9.-_+"
                        )));
                    }
                }
                n.vg.system_id = id;
            }
            Change::Export => {
                if md.vg.is_exported() {
                    return Err(refuse("is already exported".into()));
                }
                n.vg.status.insert(FlagKind::Vg, "EXPORTED");
                for pv in &mut n.vg.pvs {
                    pv.status.insert(FlagKind::Pv, "EXPORTED");
                }
                n.vg.system_id = None;
            }
            Change::Import => {
                if !md.vg.is_exported() {
                    return Err(refuse("is not exported".into()));
                }
                n.vg.status.remove("EXPORTED");
                for pv in &mut n.vg.pvs {
                    pv.status.remove("EXPORTED");
                }
                n.vg.system_id = ctx.host_system_id.clone().filter(|s| !s.is_empty());
            }
            Change::SetAutoactivation(on) => {
                let f = n.vg.flags.get_or_insert_with(FlagSet::new);
                if *on {
                    f.remove("NOAUTOACTIVATE");
                } else {
                    f.insert(FlagKind::Vg, "NOAUTOACTIVATE");
                }
            }
        }
    }
    set_write_locked(&mut n);
    finish(&mut n, md.vg.seqno + 1, ctx);
    Ok(n)
}

/// lvm2 writes `WRITE_LOCKED` (flags) instead of `WRITE` (status) on the VG and its LVs when the
/// VG has a system ID or a lock type, so that tools without system-ID support see it read-only.
pub fn set_write_locked(md: &mut Metadata) {
    let locked = md.vg.system_id.as_deref().is_some_and(|s| !s.is_empty()) || md.vg.lock_type.is_some();
    let fix = |status: &mut FlagSet, flags: &mut Option<FlagSet>, kind: FlagKind| {
        let writable = status.has("WRITE") || flags.as_ref().is_some_and(|f| f.has("WRITE_LOCKED"));
        if !writable {
            return;
        }
        let f = flags.get_or_insert_with(FlagSet::new);
        if locked {
            status.remove("WRITE");
            f.insert(kind, "WRITE_LOCKED");
        } else {
            status.insert(kind, "WRITE");
            f.remove("WRITE_LOCKED");
        }
    };
    fix(&mut md.vg.status, &mut md.vg.flags, FlagKind::Vg);
    for lv in &mut md.vg.lvs {
        fix(&mut lv.status, &mut lv.flags, FlagKind::Lv);
    }
}

/// Seqno and header fields of a new write.
fn finish(n: &mut Metadata, seqno: u64, ctx: &Context) {
    n.vg.seqno = seqno;
    n.header.description = Some(ctx.description.clone());
    if ctx.hostname.is_some() {
        n.header.creation_host = ctx.hostname.clone();
    }
    n.header.creation_host_system_id = ctx.host_system_id.clone().filter(|s| !s.is_empty());
    if ctx.time.is_some() {
        n.header.creation_time = ctx.time;
    }
}

/// An older copy made the new current one: its content with seqno = `current_seqno` + 1.
/// Same VG (name and id) required, and the same access rules as every other write
/// ([`check_writable`] on the current metadata): a VG owned by another system ID needs the
/// takeover, an exported VG is imported first, never un-exported by a restore.
pub fn restore(current: &Metadata, old: &Metadata, ctx: &Context) -> Result<Metadata, WriteError> {
    check_writable(current, ctx, false)?;
    if old.vg.id != current.vg.id || old.vg.name != current.vg.name {
        return Err(WriteError::WrongVg {
            expected: format!("{} ({})", current.vg.name, current.vg.id),
            found: format!("{} ({})", old.vg.name, old.vg.id),
        });
    }
    let mut n = old.clone();
    finish(&mut n, current.vg.seqno + 1, ctx);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_ids_are_checked() {
        assert!(
            valid_tag("a_b+c.d-e/f=g!h:i&j#k") && !valid_tag("-x") && !valid_tag("a b") && !valid_tag("")
        );
        assert!(valid_system_id("host-A.1") && !valid_system_id("a b"));
    }
}
