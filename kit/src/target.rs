//! The one parser of `VG[/LV]` arguments, in every form lvm2's commands accept them:
//! `VG`, `VG/LV`, `/dev/VG`, `/dev/VG/LV` (lvm2's `skip_dev_dir`), `/dev/mapper/VG-LV` with
//! `-` doubled inside names (`dm_split_lvm_name`), a trailing `/` after a VG. Names must be
//! valid lvm2 names (`[A-Za-z0-9+_.-]`, not starting with `-`, not `.`/`..`); anything else
//! is a [`TargetError`] naming the argument.

use std::fmt;
use std::str::FromStr;

use lvmkit_metadata::import::valid_name;

/// A VG, or one LV of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// VG name.
    pub vg: String,
    /// LV name, when one LV is meant.
    pub lv: Option<String>,
}

/// Why an argument is not a `VG[/LV]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Nothing given.
    #[error("empty volume group or logical volume name")]
    Empty,
    /// The form is none of the accepted ones.
    #[error("\"{arg}\": {why}")]
    Form {
        /// The argument.
        arg: String,
        /// What was expected.
        why: &'static str,
    },
    /// A VG or LV name with characters or a shape lvm2 does not allow.
    #[error("\"{arg}\": invalid {what} name \"{name}\"")]
    Name {
        /// The argument.
        arg: String,
        /// `volume group` or `logical volume`.
        what: &'static str,
        /// The offending name.
        name: String,
    },
}

impl Target {
    /// A whole VG.
    pub fn vg(vg: impl Into<String>) -> Target {
        Target { vg: vg.into(), lv: None }
    }

    /// One LV.
    pub fn lv(vg: impl Into<String>, lv: impl Into<String>) -> Target {
        Target { vg: vg.into(), lv: Some(lv.into()) }
    }

    /// Parses one argument (see the module documentation for the forms).
    pub fn parse(arg: &str) -> Result<Target, TargetError> {
        if arg.is_empty() {
            return Err(TargetError::Empty);
        }
        let form = |why| TargetError::Form { arg: arg.to_string(), why };
        let (vg, lv) = if let Some(dm) = arg.strip_prefix("/dev/mapper/") {
            let (vg, lv, layer) = lvmkit_activation::names::split_dm_name(dm)
                .ok_or_else(|| form("a /dev/mapper name must be VG-LV (with - doubled inside names)"))?;
            if !layer.is_empty() {
                return Err(form("names a layer of an LV, not an LV"));
            }
            (vg, Some(lv))
        } else {
            let rest = arg.strip_prefix("/dev/").unwrap_or(arg);
            let rest = rest.strip_suffix('/').unwrap_or(rest);
            let mut parts = rest.split('/');
            let vg = parts.next().unwrap_or_default().to_string();
            let lv = parts.next().map(str::to_string);
            if parts.next().is_some() {
                return Err(form("expected VG, VG/LV, /dev/VG/LV or /dev/mapper/VG-LV"));
            }
            (vg, lv)
        };
        let check = |what, name: &str| {
            if valid_name(name) {
                Ok(())
            } else {
                Err(TargetError::Name { arg: arg.to_string(), what, name: name.to_string() })
            }
        };
        check("volume group", &vg)?;
        if let Some(lv) = &lv {
            check("logical volume", lv)?;
        }
        Ok(Target { vg, lv })
    }

    /// Parses every argument; the first bad one is the error.
    pub fn parse_all<S: AsRef<str>>(args: &[S]) -> Result<Vec<Target>, TargetError> {
        args.iter().map(|a| Target::parse(a.as_ref())).collect()
    }
}

impl FromStr for Target {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Target, TargetError> {
        Target::parse(s)
    }
}

impl fmt::Display for Target {
    /// `VG` or `VG/LV`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.lv {
            Some(lv) => write!(f, "{}/{lv}", self.vg),
            None => f.write_str(&self.vg),
        }
    }
}

/// Targets grouped per VG in first-seen order: `None` for a whole VG (a VG named whole wins
/// over its LVs named too), else its LVs in order.
pub fn by_vg(targets: &[Target]) -> Vec<(String, Option<Vec<String>>)> {
    let mut out: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for t in targets {
        match out.iter_mut().find(|(v, _)| *v == t.vg) {
            Some((_, lvs)) => match (lvs.as_mut(), &t.lv) {
                (Some(l), Some(lv)) => {
                    if !l.contains(lv) {
                        l.push(lv.clone())
                    }
                }
                (_, None) => *lvs = None,
                (None, Some(_)) => {}
            },
            None => out.push((t.vg.clone(), t.lv.clone().map(|l| vec![l]))),
        }
    }
    out
}

/// The VG names of `targets`, each once, in first-seen order.
pub fn vg_names(targets: &[Target]) -> Vec<String> {
    by_vg(targets).into_iter().map(|(vg, _)| vg).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_lvm2_accepts() {
        for (arg, want) in [
            ("vg0", Target::vg("vg0")),
            ("vg0/", Target::vg("vg0")),
            ("/dev/vg0", Target::vg("vg0")),
            ("vg0/lv", Target::lv("vg0", "lv")),
            ("/dev/vg0/lv", Target::lv("vg0", "lv")),
            ("/dev/mapper/vg0-lv", Target::lv("vg0", "lv")),
            ("/dev/mapper/my--vg-data--1", Target::lv("my-vg", "data-1")),
            ("my-vg/data-1", Target::lv("my-vg", "data-1")),
            ("a.b+c_d/x", Target::lv("a.b+c_d", "x")),
        ] {
            assert_eq!(Target::parse(arg), Ok(want.clone()), "{arg}");
            assert_eq!(arg.parse::<Target>(), Ok(want), "{arg}");
        }
        assert_eq!(Target::lv("vg", "lv").to_string(), "vg/lv");
        assert_eq!(Target::vg("vg").to_string(), "vg");
    }

    #[test]
    fn bad_forms_are_typed_errors() {
        assert_eq!(Target::parse(""), Err(TargetError::Empty));
        for arg in ["a/b/c", "/dev/mapper/nodash", "/dev/mapper/vg-lv-real", "/dev/a/b/c"] {
            assert!(matches!(Target::parse(arg), Err(TargetError::Form { .. })), "{arg}");
        }
        for arg in ["-vg", "vg/-lv", "v g", "vg/..", ".", "vg/", "/dev/", "vg//", "vg/l!v"] {
            let r = Target::parse(arg);
            // "vg/" is the one good form among these.
            if arg == "vg/" {
                assert_eq!(r, Ok(Target::vg("vg")));
                continue;
            }
            assert!(matches!(r, Err(TargetError::Name { .. } | TargetError::Form { .. })), "{arg}: {r:?}");
        }
        let e = Target::parse("vg/l!v").unwrap_err();
        assert_eq!(e.to_string(), "\"vg/l!v\": invalid logical volume name \"l!v\"");
        assert!(Target::parse_all(&["vg", "x/y/z"]).is_err());
    }

    #[test]
    fn groups_arguments_per_vg() {
        let t = Target::parse_all(&["vg0/a", "vg1", "vg0/b", "/dev/vg2/c", "vg1/x", "vg0/a"]).unwrap();
        assert_eq!(
            by_vg(&t),
            vec![
                ("vg0".to_string(), Some(vec!["a".to_string(), "b".to_string()])),
                ("vg1".to_string(), None),
                ("vg2".to_string(), Some(vec!["c".to_string()])),
            ]
        );
        assert_eq!(vg_names(&t), ["vg0", "vg1", "vg2"]);
        // A whole VG named after one of its LVs still means the whole VG.
        let t = Target::parse_all(&["vg0/a", "vg0"]).unwrap();
        assert_eq!(by_vg(&t), vec![("vg0".to_string(), None)]);
    }
}
