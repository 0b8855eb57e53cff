//! Activation commands. For now `plan`: the device-mapper devices, tables, names and UUIDs an
//! activation would create, computed from the on-disk metadata without touching the kernel.

use lvmkit_activation::{PlanOptions, plan_assembled};
use lvmkit_dm::{DevNum, DevRef};

use crate::source::Source;

/// Errors of the activation commands.
#[derive(Debug, thiserror::Error)]
pub enum ActivateError {
    /// The VG is not on any scanned device.
    #[error("volume group \"{0}\" not found")]
    VgNotFound(String),
    /// Planning refused (missing PV, foreign or exported VG, unsupported segment type, …).
    #[error("{vg}: {source}")]
    Plan {
        /// VG name.
        vg: String,
        /// Why (boxed: the activation error carries whole missing-PV details).
        #[source]
        source: Box<lvmkit_activation::Error>,
    },
}

/// `VG` or `VG/LV` arguments, grouped per VG in first-seen order.
fn by_vg(args: &[String]) -> Vec<(String, Option<Vec<String>>)> {
    let mut out: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for a in args {
        let (vg, lv) = match a.trim_start_matches("/dev/").split_once('/') {
            Some((vg, lv)) => (vg.to_string(), Some(lv.to_string())),
            None => (a.clone(), None),
        };
        match out.iter_mut().find(|(v, _)| *v == vg) {
            Some((_, lvs)) => match (lvs.as_mut(), lv) {
                (Some(l), Some(lv)) => l.push(lv),
                (_, None) => *lvs = None,
                (None, Some(_)) => {}
            },
            None => out.push((vg, lv.map(|l| vec![l]))),
        }
    }
    out
}

/// The plan for each named `VG[/LV]`, as text (one block per device, `dmsetup table` lines).
/// Block devices are referred to by `major:minor`, image files by `<path>` placeholders.
pub fn plan(src: &Source, args: &[String], base: &PlanOptions) -> Result<String, ActivateError> {
    let mut out = String::new();
    for (vg, lvs) in by_vg(args) {
        let avg = src.assembly.vg(&vg).ok_or_else(|| ActivateError::VgNotFound(vg.clone()))?;
        let opts = PlanOptions { lvs, ..base.clone() };
        let pv_ref = |i: usize| {
            let dev = &src.scan.pvs[i].device;
            Some(match dev.dev_t() {
                Some(rdev) => DevRef::Num(DevNum::from_dev_t(rdev)),
                None => DevRef::Pending(dev.name().to_string()),
            })
        };
        let p = plan_assembled(avg, pv_ref, &opts)
            .map_err(|source| ActivateError::Plan { vg: vg.clone(), source: Box::new(source) })?;
        out.push_str(&p.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_arguments_per_vg() {
        let a: Vec<String> =
            ["vg0/a", "vg1", "vg0/b", "/dev/vg2/c", "vg1/x"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            by_vg(&a),
            vec![
                ("vg0".to_string(), Some(vec!["a".to_string(), "b".to_string()])),
                ("vg1".to_string(), None),
                ("vg2".to_string(), Some(vec!["c".to_string()])),
            ]
        );
    }
}
