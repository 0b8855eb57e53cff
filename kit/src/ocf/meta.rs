//! The agent's meta-data XML (OCF 1.0, `ra-api-1.dtd`), generated from [`PARAMS`] and
//! [`ACTIONS`].

use super::params::{PARAMS, Param};

/// The agent's type name (`ocf:lvmkit:lvmvg`).
pub const AGENT: &str = "lvmvg";
/// Its provider (the folder under `$OCF_ROOT/resource.d`).
pub const PROVIDER: &str = "lvmkit";

/// One action of the meta-data: name, default timeout, interval and depth (monitor).
#[derive(Clone, Copy, Debug)]
pub struct ActionDef {
    /// Name.
    pub name: &'static str,
    /// Default timeout.
    pub timeout: &'static str,
    /// Default interval (recurring monitors).
    pub interval: Option<&'static str>,
    /// OCF_CHECK_LEVEL of this monitor.
    pub depth: Option<&'static str>,
}

/// The actions the agent implements. No `reload`: every parameter changes what start did (the
/// VG, its LVs, the activation or ownership mode), so a change needs a restart; no
/// `reload-agent` either (`ra-api-1.dtd` rejects it).
pub const ACTIONS: &[ActionDef] = &[
    ActionDef { name: "start", timeout: "60s", interval: None, depth: None },
    ActionDef { name: "stop", timeout: "60s", interval: None, depth: None },
    ActionDef { name: "monitor", timeout: "30s", interval: Some("10s"), depth: Some("0") },
    ActionDef { name: "monitor", timeout: "30s", interval: Some("60s"), depth: Some("10") },
    ActionDef { name: "meta-data", timeout: "5s", interval: None, depth: None },
    ActionDef { name: "validate-all", timeout: "30s", interval: None, depth: None },
];

/// XML-escapes text and attribute values.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn parameter(p: &Param) -> String {
    let default = p.default.map(|d| format!(" default=\"{}\"", esc(d))).unwrap_or_default();
    format!(
        "<parameter name=\"{}\" unique=\"{}\" required=\"{}\">\n\
         <longdesc lang=\"en\">\n{}\n</longdesc>\n\
         <shortdesc lang=\"en\">{}</shortdesc>\n\
         <content type=\"{}\"{default} />\n\
         </parameter>\n",
        p.name,
        u8::from(p.unique),
        u8::from(p.required),
        esc(p.longdesc),
        esc(p.shortdesc),
        p.kind.name(),
    )
}

/// The meta-data document.
pub fn meta_data() -> String {
    let mut x = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n");
    x.push_str(&format!("<resource-agent name=\"{AGENT}\" version=\"{}\">\n", env!("CARGO_PKG_VERSION")));
    x.push_str("<version>1.0</version>\n\n");
    x.push_str(&format!(
        "<longdesc lang=\"en\">\n{}\n</longdesc>\n<shortdesc lang=\"en\">{}</shortdesc>\n\n",
        esc("Brings an LVM volume group in and out of service with lvmkit's recovery kit: \
             lvm2's on-disk format read and written directly and device-mapper driven through \
             its ioctls, with no lvm2 command, shell or udev wait on the failover path. Start \
             takes the volume group over by lvm2 system ID from a peer (a node of this \
             cluster) and activates it; stop removes every device of the volume group (or of \
             lvname); monitor is the kit's quickCheck: OCF_CHECK_LEVEL 0 compares the live \
             device-mapper tables with the recorded activation (no disk I/O), 10 also reads \
             every PV directly under a deadline (monitor_read_timeout), 20 also re-reads the \
             metadata and fails when the volume group's system ID is no longer this node's. \
             A probe (monitor with interval 0) on a node where the PVs are absent or the \
             volume group is inactive returns 7 (not running). The kit's state for this \
             resource lives in /var/lib/lvmkit/ocf/INSTANCE."),
        esc("Manages an LVM volume group with lvmkit (system ID ownership, no lvm2 commands)")
    ));
    x.push_str("<parameters>\n");
    for p in PARAMS {
        x.push_str(&parameter(p));
    }
    x.push_str("</parameters>\n\n<actions>\n");
    for a in ACTIONS {
        let interval = a.interval.map(|i| format!(" interval=\"{i}\"")).unwrap_or_default();
        let depth = a.depth.map(|d| format!(" depth=\"{d}\"")).unwrap_or_default();
        x.push_str(&format!("<action name=\"{}\" timeout=\"{}\"{interval}{depth} />\n", a.name, a.timeout));
    }
    x.push_str("</actions>\n</resource-agent>\n");
    x
}
