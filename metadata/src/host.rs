//! This host's identity as lvm2 sees it: its node name (`uname -n`) and its system ID
//! (`global/system_id_source` in `lvm.conf`, lvm2's `_init_system_id` /
//! `_system_id_from_source` in `lib/commands/toolcontext.c`).
//!
//! The one place reports, activation, the writers and the kit ask "who am I". The
//! configuration directory is `LVM_SYSTEM_DIR`, else `/etc/lvm` ([`system_dir`]).
//!
//! lvm2's rules, followed here:
//! * `system_id_source` missing or `none`: no system ID;
//! * `uname`: the node name; `lvmlocal`: `local/system_id` (`lvmlocal.conf` overrides
//!   `lvm.conf`, the two are one merged tree in lvm2); `machineid` (or `machine-id`): the
//!   first line of `<global/etc>/machine-id` (`/etc` by default); `file`: the first line of
//!   the file `global/system_id_file` names. Source names are matched case-insensitively;
//! * a file's first line is its first one that is not blank or a `#` comment, with a
//!   trailing `# comment` cut off;
//! * the ID keeps only `[A-Za-z0-9._+-]`, leading characters that are not alphanumeric are
//!   dropped, at most 128 are kept (`copy_systemid_chars`); an empty result, or one that
//!   begins with `localhost`, is no ID ([`HostIdentity::warnings`] says why);
//! * an unrecognised source is no ID with a warning (lvm2 then refuses VGs that have one).
//!
//! `appmachineid` (systemd's application-specific machine ID, an HMAC of the machine ID
//! with lvm2's application ID) is refused with [`HostError::Unsupported`]: a value that
//! differed from lvm2's would make this host's own VGs look foreign.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::text::{Node, Scalar, Value, parse};

/// Default configuration directory (`LVM_SYSTEM_DIR` overrides it).
pub const DEFAULT_SYSTEM_DIR: &str = "/etc/lvm";

/// lvm2's `NAME_LEN`: the most characters a system ID keeps.
pub const SYSTEM_ID_LEN: usize = 128;

/// Why this host's identity could not be determined.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HostError {
    /// A configuration file exists but cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A configuration file does not parse.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: Box<crate::Error>,
    },
    /// A `system_id_source` lvmkit does not implement.
    #[error("{path}: global/system_id_source = {source_name:?} is not supported by lvmkit")]
    Unsupported {
        /// The `lvm.conf`.
        path: String,
        /// The source.
        source_name: String,
    },
}

/// What [`identity`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostIdentity {
    /// `global/system_id_source` as configured (`none` when unset).
    pub source: String,
    /// The system ID, if the source gave a valid one.
    pub system_id: Option<String>,
    /// Why a configured source gave no ID, as lvm2 warns.
    pub warnings: Vec<String>,
}

/// `LVM_SYSTEM_DIR`, else [`DEFAULT_SYSTEM_DIR`].
pub fn system_dir() -> PathBuf {
    std::env::var_os("LVM_SYSTEM_DIR").map_or_else(|| PathBuf::from(DEFAULT_SYSTEM_DIR), PathBuf::from)
}

/// The node name (`uname(2)`'s `nodename` for this UTS namespace, lvm2's `cmd->hostname`).
pub fn node_name() -> Result<String, HostError> {
    let path = "/proc/sys/kernel/hostname";
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches('\n').to_string())
        .map_err(|e| HostError::Read { path: path.into(), source: Arc::new(e) })
}

/// This host's system ID from the configuration in `dir` (see the module rules).
pub fn system_id(dir: &Path) -> Result<Option<String>, HostError> {
    Ok(identity(dir)?.system_id)
}

/// This host's system ID from [`system_dir`].
pub fn configured_system_id() -> Result<Option<String>, HostError> {
    system_id(&system_dir())
}

/// lvm2's `system_id_from_string`: the valid characters of `raw` (see the module rules), or
/// why there is no ID.
pub fn system_id_from_string(raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Err("empty system ID supplied".into());
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || ".-_+".contains(c);
    let id: String = raw
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .filter(|&c| valid(c))
        .take(SYSTEM_ID_LEN)
        .collect();
    if id.is_empty() {
        return Err(format!("invalid system ID format: {raw}"));
    }
    if id.starts_with("localhost") {
        return Err("system ID may not begin with the string \"localhost\"".into());
    }
    Ok(id)
}

fn read_conf(path: &Path) -> Result<Option<String>, HostError> {
    Ok(read_conf_bytes(path)?.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

fn read_conf_bytes(path: &Path) -> Result<Option<Vec<u8>>, HostError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HostError::Read { path: path.display().to_string(), source: Arc::new(e) }),
    }
}

/// Whether `key` occurs in `text` before any `#` on its line: a vectorised search for the key,
/// then a look back over its line (a distribution's file names it only in comments).
fn set_outside_comment(text: &[u8], key: &[u8]) -> bool {
    memchr::memmem::find_iter(text, key).any(|at| {
        let line = memchr::memrchr(b'\n', &text[..at]).map_or(0, |n| n + 1);
        !text[line..at].contains(&b'#')
    })
}

/// `section/key` as a string in the text of `path`.
fn conf_str(path: &Path, text: &str, section: &str, key: &str) -> Result<Option<String>, HostError> {
    // Read as lvm2 reads its config files: a section given twice is one, the last value wins.
    let root = parse(text.as_bytes())
        .map_err(|e| HostError::Parse { path: path.display().to_string(), source: Box::new(e) })?
        .merge_duplicates();
    Ok(root.section(section).and_then(|s| match s.get(key) {
        Some(Node::Value(Value::Scalar(Scalar::Str(v) | Scalar::Bare(v)))) => Some(v.to_string()),
        _ => None,
    }))
}

/// lvm2's `_read_system_id_from_file`: the first line that is not blank or a comment,
/// without a trailing comment. `Err` is the warning.
fn id_from_file(file: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let line = text
        .lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(|| format!("{}: no system ID in the file", file.display()))?;
    system_id_from_string(line.split('#').next().unwrap_or_default())
}

/// The system ID source and ID configured in `dir` (`lvm.conf`, `lvmlocal.conf`).
pub fn identity(dir: &Path) -> Result<HostIdentity, HostError> {
    let none = HostIdentity { source: "none".into(), ..Default::default() };
    let conf_path = dir.join("lvm.conf");
    let Some(raw) = read_conf_bytes(&conf_path)? else { return Ok(none) };
    // A distribution's lvm.conf is ~110 KB of comments around a few settings, and every
    // command asks: decode and parse it only when the key is set outside a comment at all.
    if !set_outside_comment(&raw, b"system_id_source") {
        return Ok(none);
    }
    let lvm_conf = String::from_utf8_lossy(&raw).into_owned();
    let source =
        conf_str(&conf_path, &lvm_conf, "global", "system_id_source")?.unwrap_or_else(|| "none".into());
    let mut out = HostIdentity { source: source.clone(), ..Default::default() };
    let found: Result<String, String> = match source.to_ascii_lowercase().as_str() {
        _ if source == "none" => return Ok(out),
        "uname" => match node_name() {
            Ok(n) => system_id_from_string(&n),
            Err(e) => Err(e.to_string()),
        },
        "lvmlocal" => {
            let local_path = dir.join("lvmlocal.conf");
            let local = match read_conf(&local_path)? {
                Some(t) => conf_str(&local_path, &t, "local", "system_id")?,
                None => None,
            };
            let id = match local {
                Some(id) => Some(id),
                None => conf_str(&conf_path, &lvm_conf, "local", "system_id")?,
            };
            match id {
                Some(id) => system_id_from_string(&id),
                None => Err("local/system_id is not set".into()),
            }
        }
        "machineid" | "machine-id" => {
            let etc = conf_str(&conf_path, &lvm_conf, "global", "etc")?.unwrap_or_else(|| "/etc".into());
            id_from_file(&Path::new(&etc).join("machine-id"))
        }
        "file" => match conf_str(&conf_path, &lvm_conf, "global", "system_id_file")? {
            Some(f) if !f.is_empty() => id_from_file(Path::new(&f)),
            _ => Err("global/system_id_file is not set".into()),
        },
        "appmachineid" => {
            return Err(HostError::Unsupported {
                path: conf_path.display().to_string(),
                source_name: source,
            });
        }
        _ => Err(format!("unrecognised system_id_source \"{source}\"")),
    };
    match found {
        Ok(id) => out.system_id = Some(id),
        Err(why) => {
            out.warnings.push(why);
            out.warnings.push(format!("no system ID found from system_id_source {source}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(dir: &Path, lvm: &str, local: Option<&str>) {
        std::fs::write(dir.join("lvm.conf"), lvm).unwrap();
        match local {
            Some(l) => std::fs::write(dir.join("lvmlocal.conf"), l).unwrap(),
            None => {
                let _ = std::fs::remove_file(dir.join("lvmlocal.conf"));
            }
        }
    }

    #[test]
    fn a_key_counts_as_set_only_before_a_comment_sign_on_its_line() {
        let key = b"system_id_source";
        assert!(set_outside_comment(b"system_id_source = \"uname\"", key), "first line, no newline before");
        assert!(set_outside_comment(b"# system_id_source\nglobal { system_id_source = 1 } # x\n", key));
        assert!(!set_outside_comment(b"a = 1 # system_id_source = \"uname\"\n#system_id_source\n", key));
        assert!(!set_outside_comment(b"", key));
    }

    #[test]
    fn the_system_id_follows_lvm_conf_and_ignores_comments() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(system_id(d).unwrap(), None, "no lvm.conf");
        let local = "local {\n\tsystem_id = \"node-1\"\n}\n";
        // As distributions ship it: the setting only in comments.
        conf(d, "global {\n\t# system_id_source = \"lvmlocal\"\n\tumask = 077\n}\n", Some(local));
        assert_eq!(system_id(d).unwrap(), None);
        conf(d, "global {\n\tsystem_id_source = \"lvmlocal\" # ours\n}\n", Some(local));
        assert_eq!(system_id(d).unwrap().as_deref(), Some("node-1"));
        // Case-insensitive, and lvmlocal.conf overrides lvm.conf's local section.
        conf(
            d,
            "global {\n\tsystem_id_source = \"LVMLOCAL\"\n}\nlocal {\n\tsystem_id = \"n0\"\n}\n",
            Some(local),
        );
        assert_eq!(system_id(d).unwrap().as_deref(), Some("node-1"));
        conf(d, "global {\n\tsystem_id_source = \"lvmlocal\"\n}\nlocal {\n\tsystem_id = \"n0\"\n}\n", None);
        assert_eq!(system_id(d).unwrap().as_deref(), Some("n0"));
        conf(d, "global {\n\tsystem_id_source = \"none\"\n}\n", Some(local));
        assert_eq!(system_id(d).unwrap(), None);
        // A section given twice is one section, and a key given twice keeps its last value
        // (libdm reads config files so: "Ignoring duplicate config value").
        conf(
            d,
            "global {\n\tsystem_id_source = \"none\"\n}\nglobal {\n\tumask = 077\n\tsystem_id_source = \"lvmlocal\"\n}\n",
            Some(local),
        );
        assert_eq!(system_id(d).unwrap().as_deref(), Some("node-1"));
        conf(
            d,
            "global {\n\tsystem_id_source = \"lvmlocal\"\n\tsystem_id_source = \"none\"\n}\n",
            Some(local),
        );
        assert_eq!(system_id(d).unwrap(), None);
    }

    #[test]
    fn files_give_their_first_line_that_is_not_a_comment() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let f = d.join("sysid");
        std::fs::write(&f, "# the id\n\n   host_7.a+b # trailing\nsecond\n").unwrap();
        conf(
            d,
            &format!(
                "global {{\n\tsystem_id_source = \"file\"\n\tsystem_id_file = \"{}\"\n}}\n",
                f.display()
            ),
            None,
        );
        assert_eq!(system_id(d).unwrap().as_deref(), Some("host_7.a+b"));
        // machineid: <global/etc>/machine-id.
        std::fs::write(d.join("machine-id"), "0123abcd\n").unwrap();
        conf(
            d,
            &format!("global {{\n\tsystem_id_source = \"machineid\"\n\tetc = \"{}\"\n}}\n", d.display()),
            None,
        );
        assert_eq!(system_id(d).unwrap().as_deref(), Some("0123abcd"));
        // A missing file is no ID, with lvm2's warning.
        conf(d, "global {\n\tsystem_id_source = \"file\"\n\tsystem_id_file = \"/nonexistent/x\"\n}\n", None);
        let id = identity(d).unwrap();
        assert_eq!(id.system_id, None);
        assert!(id.warnings.iter().any(|w| w.contains("no system ID found from system_id_source file")));
    }

    #[test]
    fn ids_keep_lvm2s_characters_and_refuse_localhost() {
        assert_eq!(system_id_from_string("--a b!c_d.e-f+g").unwrap(), "abc_d.e-f+g");
        assert_eq!(system_id_from_string(&"x".repeat(300)).unwrap().len(), SYSTEM_ID_LEN);
        assert!(system_id_from_string("localhost.localdomain").is_err());
        assert!(system_id_from_string("!!!").is_err());
        assert!(system_id_from_string("").is_err());
    }

    #[test]
    fn unknown_sources_give_no_id_and_appmachineid_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        conf(d, "global {\n\tsystem_id_source = \"bogus\"\n}\n", None);
        let id = identity(d).unwrap();
        assert_eq!((id.source.as_str(), id.system_id), ("bogus", None));
        assert!(id.warnings[0].contains("unrecognised"));
        conf(d, "global {\n\tsystem_id_source = \"appmachineid\"\n}\n", None);
        assert!(matches!(identity(d), Err(HostError::Unsupported { .. })));
        // A file that does not parse names itself.
        conf(d, "global {\n\tsystem_id_source = \"lvmlocal\"\n", None);
        let e = identity(d).unwrap_err();
        assert!(e.to_string().contains("lvm.conf"), "{e}");
    }
}
