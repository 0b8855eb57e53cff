//! The health of the storage under a PV: a multipath map with failed paths (from the kernel's
//! `multipath` target status) or a degraded md array (`/sys/block/mdN/md/degraded`). I/O
//! still works in both cases; a monitor reports them as warnings, not failures. A map with no
//! usable path left is reported too ([`ComponentWarning::MultipathNoPath`]): whether that is a
//! failure is the caller's call (I/O then queues or fails, depending on `queue_if_no_path`).
//!
//! ```no_run
//! # fn demo(pv_dev_t: u64) {
//! use lvmkit_activation::health::component_health;
//! use lvmkit_dm::control::Dm;
//! use lvmkit_metadata::topology::Sysfs;
//! let dm = Dm::open().expect("device-mapper");
//! for w in component_health(&dm, &Sysfs::default(), pv_dev_t).expect("readable") {
//!     eprintln!("WARNING: {w}");
//! }
//! # }
//! ```

use lvmkit_dm::control::DmControl;
use lvmkit_dm::{DevId, DmUuid};
use lvmkit_metadata::topology::{MPATH_UUID_PREFIX, SysBlock};

/// Something degraded under a PV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentWarning {
    /// A multipath map with failed paths and at least one usable one.
    MultipathDegraded {
        /// The map's kernel name (`dm-N`).
        map: String,
        /// Failed paths (`MAJ:MIN`).
        failed: Vec<String>,
        /// Usable paths.
        active: usize,
    },
    /// A multipath map with no usable path.
    MultipathNoPath {
        /// The map's kernel name.
        map: String,
        /// Its paths (`MAJ:MIN`), all failed.
        failed: Vec<String>,
    },
    /// An md array running without some of its members.
    MdDegraded {
        /// The array's kernel name (`mdN`).
        array: String,
        /// Members missing (`md/degraded`).
        missing: u32,
        /// `md/raid_disks`, when readable.
        raid_disks: Option<u32>,
    },
}

impl std::fmt::Display for ComponentWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComponentWarning::MultipathDegraded { map, failed, active } => write!(
                f,
                "multipath map {map}: {} failed path(s) ({}), {active} active",
                failed.len(),
                failed.join(", ")
            ),
            ComponentWarning::MultipathNoPath { map, failed } => {
                write!(f, "multipath map {map}: no active path (failed: {})", failed.join(", "))
            }
            ComponentWarning::MdDegraded { array, missing, raid_disks } => {
                write!(f, "md array {array}: degraded, {missing} member(s) missing")?;
                if let Some(n) = raid_disks {
                    write!(f, " of {n}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why the health of a device could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// Asking device-mapper for a map's status failed.
    #[error("multipath map {map} (dm uuid {uuid}): status: {source}")]
    Status {
        /// Kernel name.
        map: String,
        /// Its dm uuid.
        uuid: String,
        /// Why.
        #[source]
        source: Box<lvmkit_dm::control::Error>,
    },
    /// The kernel's multipath status line is not in the expected form.
    #[error("multipath map {map}: unexpected status {status:?}: {why}")]
    BadStatus {
        /// Kernel name.
        map: String,
        /// The status text.
        status: String,
        /// What was expected where.
        why: String,
    },
}

/// Warnings for block device `dev_t` (a PV's device) and everything under it (its `slaves/`,
/// recursively: an LV's PV on an md array over multipath maps is followed down). Devices that
/// are neither multipath maps nor md arrays have nothing to report.
pub fn component_health(
    dm: &(impl DmControl + ?Sized),
    sys: &dyn SysBlock,
    dev_t: u64,
) -> Result<Vec<ComponentWarning>, HealthError> {
    let mut out = Vec::new();
    let Some(name) = sys.name_of(libc_major(dev_t), libc_minor(dev_t)) else { return Ok(out) };
    walk(dm, sys, &name, 0, &mut out)?;
    Ok(out)
}

fn libc_major(d: u64) -> u32 {
    lvmkit_dm::DevNum::from_dev_t(d).major
}
fn libc_minor(d: u64) -> u32 {
    lvmkit_dm::DevNum::from_dev_t(d).minor
}

fn walk(
    dm: &(impl DmControl + ?Sized),
    sys: &dyn SysBlock,
    name: &str,
    depth: usize,
    out: &mut Vec<ComponentWarning>,
) -> Result<(), HealthError> {
    // Stacks are a few levels deep; a loop in a (fake) tree must not recurse for ever.
    if depth > 8 {
        return Ok(());
    }
    if let Some(uuid) = sys.attr(name, "dm/uuid").filter(|u| u.starts_with(MPATH_UUID_PREFIX)) {
        let id = DmUuid::new(uuid.clone()).map(DevId::Uuid).map_err(|e| HealthError::BadStatus {
            map: name.to_string(),
            status: uuid.clone(),
            why: format!("its sysfs dm uuid is not one device-mapper accepts: {e}"),
        })?;
        let lines = dm.status(&id).map_err(|e| HealthError::Status {
            map: name.to_string(),
            uuid: uuid.clone(),
            source: Box::new(e),
        })?;
        for l in lines.iter().filter(|l| l.target_type == "multipath") {
            let paths = multipath_paths(&l.status).map_err(|why| HealthError::BadStatus {
                map: name.to_string(),
                status: l.status.clone(),
                why,
            })?;
            let failed: Vec<String> = paths.iter().filter(|p| !p.active).map(|p| p.dev.clone()).collect();
            let active = paths.len() - failed.len();
            if active == 0 && !paths.is_empty() {
                out.push(ComponentWarning::MultipathNoPath { map: name.to_string(), failed });
            } else if !failed.is_empty() {
                out.push(ComponentWarning::MultipathDegraded { map: name.to_string(), failed, active });
            }
        }
    } else if let Some(missing) = sys.attr(name, "md/degraded").and_then(|d| d.trim().parse::<u32>().ok()) {
        if missing > 0 {
            let raid_disks = sys.attr(name, "md/raid_disks").and_then(|d| d.trim().parse().ok());
            out.push(ComponentWarning::MdDegraded { array: name.to_string(), missing, raid_disks });
        }
    }
    for s in sys.entries(name, "slaves") {
        walk(dm, sys, &s, depth + 1, out)?;
    }
    Ok(())
}

/// One path of a multipath map, from its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathState {
    /// `MAJ:MIN`.
    pub dev: String,
    /// `A` (active) rather than `F` (failed).
    pub active: bool,
    /// Failures counted by the kernel.
    pub fail_count: u32,
}

/// The paths in the kernel's `multipath` status line (`STATUSTYPE_INFO`, drivers/md/dm-mpath.c
/// `multipath_status`): `<#feature words> <words…> <#hw handler words> <words…> <#groups>
/// <next group>`, then per group `<A|E|D> <#selector words> <words…> <#paths> <#selector
/// words per path>` and per path `<MAJ:MIN> <A|F> <fail count> <selector words…>`.
pub fn multipath_paths(status: &str) -> Result<Vec<PathState>, String> {
    let w: Vec<&str> = status.split_whitespace().collect();
    let mut i = 0usize;
    let num = |i: &mut usize, what: &str| -> Result<usize, String> {
        let s = w.get(*i).ok_or_else(|| format!("{what} missing at word {}", *i + 1))?;
        *i += 1;
        s.parse::<usize>().map_err(|_| format!("{what}: {s:?} at word {} is not a number", *i))
    };
    let skip = |i: &mut usize, n: usize, what: &str| -> Result<(), String> {
        if *i + n > w.len() {
            return Err(format!("{what}: {n} words expected after word {}, the line ends", *i));
        }
        *i += n;
        Ok(())
    };
    let n = num(&mut i, "feature count")?;
    skip(&mut i, n, "features")?;
    let n = num(&mut i, "hardware handler count")?;
    skip(&mut i, n, "hardware handler")?;
    let groups = num(&mut i, "priority group count")?;
    num(&mut i, "next priority group")?;
    let mut out = Vec::new();
    for _ in 0..groups {
        match w.get(i) {
            Some(&("A" | "E" | "D")) => i += 1,
            other => {
                return Err(format!("group state A, E or D expected at word {}, found {other:?}", i + 1));
            }
        }
        let n = num(&mut i, "selector status count")?;
        skip(&mut i, n, "selector status")?;
        let paths = num(&mut i, "path count")?;
        let per_path = num(&mut i, "selector words per path")?;
        for _ in 0..paths {
            let dev = w.get(i).ok_or_else(|| format!("path device missing at word {}", i + 1))?.to_string();
            if !dev.contains(':') {
                return Err(format!("path device MAJ:MIN expected at word {}, found {dev:?}", i + 1));
            }
            let active = match w.get(i + 1) {
                Some(&"A") => true,
                Some(&"F") => false,
                other => {
                    return Err(format!("path state A or F expected at word {}, found {other:?}", i + 2));
                }
            };
            i += 2;
            let fail_count = num(&mut i, "path fail count")? as u32;
            skip(&mut i, per_path, "path selector status")?;
            out.push(PathState { dev, active, fail_count });
        }
    }
    if i != w.len() {
        return Err(format!("{} words left over after the last path", w.len() - i));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipath_status_lines() {
        // Linux 6.1, round-robin, two paths, the first failed with `fail_path`.
        let p = multipath_paths("2 0 0 0 1 1 A 0 2 0 8:0 F 1 8:16 A 0 ").unwrap();
        assert_eq!(
            p,
            [
                PathState { dev: "8:0".into(), active: false, fail_count: 1 },
                PathState { dev: "8:16".into(), active: true, fail_count: 0 }
            ]
        );
        // Two groups, service-time's per-path words, a hardware handler, queue_if_no_path.
        let p = multipath_paths("2 1 0 1 alua 2 1 E 0 1 2 8:32 A 0 0 1 A 0 1 2 8:48 F 3 0 1").unwrap();
        assert_eq!(p[1], PathState { dev: "8:48".into(), active: false, fail_count: 3 });
        assert_eq!(p.iter().map(|x| x.dev.as_str()).collect::<Vec<_>>(), ["8:32", "8:48"]);
        for bad in [
            "",
            "2 0",
            "2 0 0 0 1 1 X 0 1 0 8:0 A 0",
            "2 0 0 0 1 1 A 0 1 0 8:0 Q 0",
            "2 0 0 0 1 1 A 0 2 0 8:0 A 0",
            "2 0 0 0 1 1 A 0 1 0 8:0 A 0 extra",
            "99999999999999999999999 0",
        ] {
            assert!(multipath_paths(bad).is_err(), "{bad:?} accepted");
        }
    }
}
