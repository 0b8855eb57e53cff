//! The kit's error catalog: every code with its message template, cause, action and exit
//! status, in one table. `lvmkit kit explain`, README.md's and the OCF agent read this
//! table; nothing else defines a code.
//!
//! Codes are 6-digit strings. The seeds' codes keep their meanings (110004 ID exists, 110006
//! adddelpv usage, 110007 controlled-VG list update failed, 110010 LV activation, 110011 scan,
//! 110012 import / ownership transfer, 110013 VG activation); the common codes 000002 (usage),
//! 000010 (resource information), 000014 (tag exists) and 000019 (resource not found) apply
//! where they fit.
//!
//! A message template names its fields in braces (`{vg}`); [`KitError::new`] fills them.

use std::fmt;

/// Exit statuses (the contract; the OCF agent maps them).
pub mod status {
    /// Done / healthy.
    pub const OK: u8 = 0;
    /// The action failed (soft: retry or move); quickCheck: unhealthy.
    pub const FAILED: u8 = 1;
    /// Usage.
    pub const USAGE: u8 = 2;
    /// quickCheck: in service but degraded.
    pub const DEGRADED: u8 = 3;
    /// Ownership: owner not a peer, lost takeover race, split brain.
    pub const OWNERSHIP: u8 = 4;
    /// Environment: no device-mapper, a missing dm target.
    pub const ENVIRONMENT: u8 = 5;
    /// Configuration: unknown resource, VG found nowhere, bad resource file, ID or tag exists.
    pub const CONFIGURATION: u8 = 6;
    /// Not in service.
    pub const NOT_RUNNING: u8 = 7;
}

/// One catalog entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The 6-digit code.
    pub code: &'static str,
    /// Exit status of a command that fails with it (a warning's is 0: the action goes on).
    pub status: u8,
    /// Printed as `WARNING` and never fails the action.
    pub warning: bool,
    /// Message template (`{field}` placeholders).
    pub message: &'static str,
    /// What causes it.
    pub cause: &'static str,
    /// What to do.
    pub action: &'static str,
}

macro_rules! entry {
    ($code:literal, $status:expr, $warning:literal, $message:literal, $cause:literal, $action:literal) => {
        Entry {
            code: $code,
            status: $status,
            warning: $warning,
            message: $message,
            cause: $cause,
            action: $action,
        }
    };
}

use status::*;

/// The catalog, sorted by code.
pub const CATALOG: &[Entry] = &[
    entry!(
        "000002",
        USAGE,
        false,
        "Usage error: {what}",
        "The command line is wrong: an unknown action, a missing or extra argument, a bad option value.",
        "Run `lvmkit kit --help` (or `lvmkit kit ACTION --help`) and correct the command."
    ),
    entry!(
        "000010",
        CONFIGURATION,
        false,
        "Resource information in {file} is unusable: {why}",
        "A resource file in the kit directory is corrupt, truncated, of another format, or written by a newer lvmkit (future version).",
        "Nothing else was touched. Restore the file from a peer (`lvmkit kit export` there, `lvmkit kit extend` here) or delete it and create the resource again."
    ),
    entry!(
        "000011",
        FAILED,
        false,
        "Resource {id} is busy: {why}",
        "Another action holds the resource's lock (or the kit directory cannot be locked).",
        "Wait for the other action to finish and retry."
    ),
    entry!(
        "000014",
        CONFIGURATION,
        false,
        "A resource with tag {tag} already exists",
        "create or extend was asked for a tag that names an existing resource.",
        "Use the existing resource, or delete it first."
    ),
    entry!(
        "000019",
        CONFIGURATION,
        false,
        "Resource {what} not found",
        "No resource in the kit directory has this tag or ID.",
        "Check `lvmkit kit list`, the --kit-dir / LVMKIT_KIT_DIR setting, or create the resource."
    ),
    entry!(
        "110000",
        CONFIGURATION,
        false,
        "Volume group {vg} not found",
        "No scanned device carries the volume group (by name at create, by UUID for a resource).",
        "Check that the disks are attached and visible on this server (`lvmkit vgs`), and the --devices restriction."
    ),
    entry!(
        "110001",
        CONFIGURATION,
        false,
        "Logical volume {lv} not found in volume group {vg}",
        "The volume group's metadata has no such logical volume (removed or renamed elsewhere).",
        "Check `lvmkit lvs VG`; delete the stale lvmlv resource or create the right one."
    ),
    entry!(
        "110002",
        FAILED,
        false,
        "Physical volume {pv} of volume group {vg} is missing or unreadable",
        "A PV the resource records (or the VG's metadata lists) is on no scanned device, or reading it failed.",
        "Fix the path to the disk, or let the cluster move the hierarchy to a server that sees every PV. A degraded or partial activation mode is a policy of the resource."
    ),
    entry!(
        "110003",
        OWNERSHIP,
        false,
        "Volume group {vg} is owned by system ID {owner}, which is not a server of this hierarchy",
        "The VG's system ID names a host that is not a peer of this resource: taking it over could make two hosts write the VG. Nothing was written.",
        "Find out who owns the VG. If that host is down for good, restore with --force-takeover OWNER naming exactly that system ID."
    ),
    entry!(
        "110004",
        CONFIGURATION,
        false,
        "A resource with ID {id} already exists",
        "create or extend was asked for an ID that exists in the kit directory.",
        "Use the existing resource, or delete it first."
    ),
    entry!(
        "110005",
        FAILED,
        false,
        "Logical volume {lv} is in use: {holder}",
        "The LV (or a device of its stack) stayed open while remove retried: a mount, a process or another device holds it.",
        "Stop the holder (unmount, stop the process, remove the device above it), then remove again."
    ),
    entry!(
        "110006",
        USAGE,
        false,
        "Usage: lvmkit kit adddelpv VGTAG [ADDLIST DELLIST] [--yes]",
        "adddelpv was called with a wrong number of arguments, an lvmlv tag, or lists and --yes together.",
        "Without lists, adddelpv prints the PVs added and removed on disk; with both lists (comma-separated device paths or PV UUIDs, '-' for none) or --yes it updates the resource."
    ),
    entry!(
        "110007",
        OK,
        true,
        "Failed to update the controlled volume group list {file}: {why}",
        "The controlled-VG list (default /etc/lkvgs) could not be read or written; the resource change itself was done.",
        "Fix the file's directory or permissions and edit the list by hand (one `VG UUID` line per VG), or run the action again."
    ),
    entry!(
        "110008",
        FAILED,
        false,
        "Failed to take the LVM volume group {vg} out of service: {why}",
        "Removing the VG's device-mapper devices failed, or releasing its ownership did.",
        "Check the cause below (devices held open, device-mapper errors) and retry remove."
    ),
    entry!(
        "110009",
        FAILED,
        false,
        "{what} is not healthy",
        "quickCheck found devices missing, with other tables, suspended, with error targets, extra devices, or a PV that cannot be read.",
        "Run `lvmkit kit recover` (the cluster's local recovery) or move the hierarchy."
    ),
    entry!(
        "110010",
        FAILED,
        false,
        "Failed to make the LVM logical volume {lv} active {why}",
        "A device-mapper step for the LV failed (the cause names the device and ioctl); what this run created was removed again.",
        "Check the cause: a missing dm target module, a device in use, a disk error."
    ),
    entry!(
        "110011",
        FAILED,
        false,
        "Failed to scan for the LVM volume group {vg}: {why}",
        "Reading the VG's labels or metadata failed: an unreadable device, a bad checksum, inconsistent copies.",
        "Check the devices named in the cause (`lvmkit check`)."
    ),
    entry!(
        "110012",
        FAILED,
        false,
        "Failed to import the LVM volume group {vg} (ownership transfer): {why}",
        "Writing this server's system ID (or importing an exported VG) failed.",
        "Check the cause (write error, missing PVs, a lock held by another process) and retry."
    ),
    entry!(
        "110013",
        FAILED,
        false,
        "Failed to make the LVM volume group {vg} active {why}",
        "Activating the VG's LVs failed (planning refused or a device-mapper step failed); nothing this run created was left.",
        "Check the cause; a missing PV follows the resource's activation mode."
    ),
    entry!(
        "110014",
        DEGRADED,
        false,
        "{what} is in service but degraded",
        "Every device is live, but a RAID leg is missing or failed, missing areas are mapped to error targets (partial mode), or the storage under a PV is degraded (quickCheck level 10: an md array with a failed or missing member, a multipath map with a failed path).",
        "Replace the failed disk; the service keeps running."
    ),
    entry!(
        "110015",
        NOT_RUNNING,
        false,
        "{what} is not in service",
        "None of the resource's devices is active on this server (also before its storage is there).",
        "Restore it (the cluster does this on start)."
    ),
    entry!(
        "110016",
        OWNERSHIP,
        false,
        "Volume group {vg} is now owned by system ID {owner}, not by this server ({ours})",
        "Another server wrote its system ID to the VG while it is in service here: a split brain.",
        "Stop using the VG here at once (remove) and find out why two servers own it; fence one."
    ),
    entry!(
        "110017",
        OWNERSHIP,
        false,
        "Lost the takeover of volume group {vg}: its system ID is {owner} after writing {ours}",
        "Another server wrote the VG's system ID at the same time; this server did not activate anything.",
        "Let the cluster decide the owner; restore again only after the other server is out of service."
    ),
    entry!(
        "110018",
        FAILED,
        false,
        "The metadata of volume group {vg} changed on disk (seqno {old} -> {new})",
        "Another node edited the VG since it was activated here: the live tables may no longer match.",
        "Run `lvmkit kit recover` to reload the tables from the current metadata."
    ),
    entry!(
        "110019",
        OK,
        true,
        "Volume group {vg} is under kit control but has autoactivation on",
        "Someone turned the VG's autoactivation back on: boot could activate it on the wrong server.",
        "Run `lvmkit kit restore TAG --fix` (or `lvmkit vgchange --setautoactivation n VG`)."
    ),
    entry!(
        "110020",
        ENVIRONMENT,
        false,
        "Device-mapper is not usable here: {why}",
        "/dev/mapper/control cannot be opened (no dm-mod, not root) or the kernel lacks a dm target the tables need.",
        "Load dm-mod and the target's module, and run as root."
    ),
    entry!(
        "110021",
        FAILED,
        false,
        "Physical volume {pv} ({device}) cannot be read: {why}",
        "quickCheck's direct read of the PV failed or did not finish within its deadline (a dead path).",
        "Check the path to the disk; the cluster should move the hierarchy."
    ),
    entry!(
        "110022",
        CONFIGURATION,
        false,
        "Template {file} is unusable: {why}",
        "The file given to canextend or extend is not an `lvmkit kit export` template, or is damaged.",
        "Export the template again on the primary (`lvmkit kit export TAG > FILE`)."
    ),
    entry!(
        "110023",
        FAILED,
        false,
        "This server cannot take the hierarchy of {vg}: {why}",
        "canextend found a PV not visible here, of another size, seen twice, or a VG of another format.",
        "Make every PV of the VG visible on this server (same disks, one path each), then check again."
    ),
    entry!(
        "110024",
        FAILED,
        false,
        "Physical volume {pv} is seen on more than one device: {devices}",
        "The same PV label is on two devices (multipath components, a cloned disk).",
        "Use one path (a multipath device over its components, --devices), or remove the copy."
    ),
    entry!(
        "110025",
        FAILED,
        false,
        "Physical volume {pv} is not visible on this server",
        "adddelpv was asked to record a PV that no scanned device here carries.",
        "Make the disk visible here first (and on every peer: run canextend there)."
    ),
    entry!(
        "110026",
        FAILED,
        false,
        "Failed to export the LVM volume group {vg}: {why}",
        "Releasing the VG on remove (LVM1: vgexport) failed; its devices are already out of service.",
        "Check the cause; the next restore on any server imports it again."
    ),
    entry!(
        "110027",
        FAILED,
        false,
        "Failed to write resource information for {id}: {why}",
        "The kit directory or the resource file could not be written (permissions, full disk).",
        "Fix the kit directory (--kit-dir / LVMKIT_KIT_DIR) and retry; the old file is unchanged."
    ),
    entry!(
        "110028",
        CONFIGURATION,
        false,
        "Cannot determine this host's system ID from {dir}: {why}",
        "lvm.conf (in LVM_SYSTEM_DIR, default /etc/lvm) sets global/system_id_source to something lvmkit cannot read.",
        "Fix global/system_id_source (none, uname, lvmlocal, machineid, file) and its files."
    ),
];

/// The catalog entry of `code`.
pub fn entry(code: &str) -> Option<&'static Entry> {
    CATALOG.iter().find(|e| e.code == code)
}

/// The typed cause under a kit error: what the engine knows (device, offset, errno).
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    /// Reading labels or metadata.
    #[error(transparent)]
    Metadata(#[from] lvmkit_metadata::error::Error),
    /// Writing metadata.
    #[error(transparent)]
    Write(#[from] lvmkit_metadata::write::WriteError),
    /// Planning the activation.
    #[error(transparent)]
    Plan(#[from] lvmkit_activation::Error),
    /// Applying a plan or deactivating.
    #[error(transparent)]
    Apply(#[from] lvmkit_activation::apply::ApplyError),
    /// Talking to device-mapper.
    #[error(transparent)]
    Dm(#[from] lvmkit_dm::control::Error),
    /// A file of the kit (resource, list, template, lock).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A resource or template file that does not parse.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: String,
        /// Where and what.
        #[source]
        source: serde_json::Error,
    },
    /// Details without a typed source (one per line).
    #[error("{0}")]
    Detail(String),
}

impl Cause {
    /// The OS error number, when the cause has one.
    pub fn errno(&self) -> Option<i32> {
        use lvmkit_activation::apply::ApplyError;
        match self {
            Cause::Dm(e) => e.errno(),
            Cause::Apply(ApplyError::Dm { source, .. }) => source.errno(),
            Cause::Apply(ApplyError::Node { source, .. }) => source.raw_os_error(),
            Cause::Apply(ApplyError::InUse { .. }) => Some(16),
            Cause::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// A kit failure: a catalog code, the filled-in message, and the typed cause underneath.
#[derive(Debug)]
pub struct KitError {
    /// The catalog code.
    pub code: &'static str,
    /// The message (the entry's template, filled in).
    pub message: String,
    /// What the engine said (boxed: errors travel far and should stay small).
    pub cause: Option<Box<Cause>>,
}

/// Fill `{name}` placeholders of `template` from `fields`; an unfilled one stays visible.
pub fn fill(template: &str, fields: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in fields {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

impl KitError {
    /// An error with `code`'s template filled from `fields`. A code missing from the catalog is
    /// a programming error, caught by the catalog tests; it still makes a readable message.
    pub fn new(code: &'static str, fields: &[(&str, &str)]) -> KitError {
        let message = match entry(code) {
            Some(e) => fill(e.message, fields),
            None => format!(
                "error {code}: {}",
                fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
            ),
        };
        KitError { code, message, cause: None }
    }

    /// With a typed cause.
    pub fn caused(mut self, cause: impl Into<Cause>) -> KitError {
        self.cause = Some(Box::new(cause.into()));
        self
    }

    /// With a cause known only as text.
    pub fn detail(mut self, d: impl Into<String>) -> KitError {
        self.cause = Some(Box::new(Cause::Detail(d.into())));
        self
    }

    /// Put `ctx` (where it happened) on the first line of the cause.
    pub fn with_context(mut self, ctx: String) -> KitError {
        if self.cause.is_some() {
            let c = self.cause_text();
            self.cause = Some(Box::new(Cause::Detail(format!("{ctx}\n{c}"))));
        }
        self
    }

    /// The catalog entry.
    pub fn entry(&self) -> Option<&'static Entry> {
        entry(self.code)
    }

    /// The exit status the command ends with.
    pub fn status(&self) -> u8 {
        self.entry().map_or(FAILED, |e| e.status)
    }

    /// The cause as text (its error chain joined), or empty.
    pub fn cause_text(&self) -> String {
        let Some(c) = self.cause.as_deref() else { return String::new() };
        let mut s = c.to_string();
        let mut src = std::error::Error::source(c);
        while let Some(e) = src {
            let t = e.to_string();
            if !s.contains(&t) {
                s.push_str(": ");
                s.push_str(&t);
            }
            src = e.source();
        }
        s
    }

    /// `{"code":…,"message":…,"cause":…}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "code": self.code, "message": self.message, "cause": self.cause_text() })
    }

    /// A device-mapper failure is the environment's (no control node, missing target), else
    /// `fallback`'s.
    pub fn from_dm(err: lvmkit_dm::control::Error, fallback: impl FnOnce() -> KitError) -> KitError {
        match dm_environment(&err) {
            Some(why) => KitError::new("110020", &[("why", &why)]).caused(err),
            None => fallback().caused(err),
        }
    }
}

/// When a device-mapper error is the environment's (no control node, a target the kernel
/// lacks): a short reason for 110020's message (the cause carries the rest).
pub fn dm_environment(err: &lvmkit_dm::control::Error) -> Option<String> {
    use lvmkit_dm::control::Error as E;
    match err {
        E::Control { path, .. } => Some(format!("cannot open {}", path.display())),
        E::MissingTarget { target, .. } => Some(format!("the kernel has no \"{target}\" target")),
        _ => None,
    }
}

impl fmt::Display for KitError {
    /// `ERROR <code>: <message>`, then the cause indented.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = if self.entry().is_some_and(|e| e.warning) { "WARNING" } else { "ERROR" };
        write!(f, "{word} {}: {}", self.code, self.message)?;
        let c = self.cause_text();
        for l in c.lines().filter(|l| !l.is_empty()) {
            write!(f, "\n    {l}")?;
        }
        Ok(())
    }
}

impl std::error::Error for KitError {}

/// `explain CODE`: code, status, message, cause, action (one entry); `None` for an unknown code.
pub fn explain(code: &str) -> Option<String> {
    entry(code).map(explain_entry)
}

fn explain_entry(e: &Entry) -> String {
    format!(
        "{} (exit status {}{})\n  Message: {}\n  Cause:   {}\n  Action:  {}\n",
        e.code,
        e.status,
        if e.warning { ", warning" } else { "" },
        e.message,
        e.cause,
        e.action
    )
}

/// `explain` without a code: every entry.
pub fn explain_all() -> String {
    CATALOG.iter().map(explain_entry).collect::<Vec<_>>().join("\n")
}

/// The catalog as a Markdown table (the one in README.md's; a test keeps them equal).
pub fn markdown_table() -> String {
    let mut s = String::from("| code | exit | message | cause | action |\n|---|---|---|---|---|\n");
    for e in CATALOG {
        let esc = |t: &str| t.replace('|', "\\|");
        s.push_str(&format!(
            "| {} | {}{} | {} | {} | {} |\n",
            e.code,
            e.status,
            if e.warning { " (warning)" } else { "" },
            esc(e.message),
            esc(e.cause),
            esc(e.action)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_six_digit_strings_with_contract_statuses() {
        for w in CATALOG.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
        for e in CATALOG {
            assert!(e.code.len() == 6 && e.code.bytes().all(|b| b.is_ascii_digit()), "{}", e.code);
            assert!(e.status <= 7, "{}", e.code);
            assert!(!e.message.is_empty() && !e.cause.is_empty() && !e.action.is_empty(), "{}", e.code);
            assert_eq!(e.warning, e.status == 0, "{}: only warnings exit 0", e.code);
        }
        // The contract's fixed statuses.
        let st = |c| entry(c).unwrap().status;
        assert_eq!(st("000002"), 2);
        assert_eq!(st("110006"), 2);
        assert_eq!(st("000019"), 6);
        assert_eq!(st("110004"), 6);
        assert_eq!(st("000014"), 6);
        assert_eq!(st("110003"), 4);
        assert_eq!(st("110016"), 4);
        assert_eq!(st("110014"), 3);
        assert_eq!(st("110015"), 7);
        assert_eq!(st("110020"), 5);
        assert!(entry("110007").unwrap().warning);
    }

    #[test]
    fn messages_fill_and_print_with_the_cause_indented() {
        let e = KitError::new("110013", &[("vg", "vg1"), ("why", "with error code 5")])
            .detail("dm: DM_TABLE_LOAD\nsecond");
        assert_eq!(e.message, "Failed to make the LVM volume group vg1 active with error code 5");
        assert_eq!(
            e.to_string(),
            "ERROR 110013: Failed to make the LVM volume group vg1 active with error code 5\n    dm: DM_TABLE_LOAD\n    second"
        );
        assert_eq!(e.status(), 1);
        let j = e.to_json();
        assert_eq!(j["code"], "110013");
        assert_eq!(j["cause"], "dm: DM_TABLE_LOAD\nsecond");
        let w = KitError::new("110007", &[("file", "/etc/lkvgs"), ("why", "read-only")]);
        assert!(w.to_string().starts_with("WARNING 110007: "), "{w}");
        // Every placeholder of every template is one the code's callers can fill: none left
        // when filled with its own names.
        for e in CATALOG {
            let names: Vec<String> = e
                .message
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                .collect();
            let fields: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "x")).collect();
            assert!(!fill(e.message, &fields).contains('{'), "{}", e.code);
        }
    }

    #[test]
    fn explain_names_one_code_or_all() {
        let one = explain("110012").unwrap();
        assert!(one.starts_with("110012 (exit status 1)"), "{one}");
        assert!(one.contains("Action:"));
        assert!(explain("999999").is_none());
        assert_eq!(explain_all().matches("  Action:").count(), CATALOG.len());
    }

    #[test]
    fn the_readme_carries_the_catalog_table_as_generated() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        assert!(
            doc.contains(&markdown_table()),
            "README.md's catalog table differs from catalog::markdown_table(); regenerate it with `lvmkit kit explain --markdown`"
        );
    }
}
