//! The two resource types, as stored: `lvmvg` (a volume group) and `lvmlv` (a logical
//! volume). IDs are `lvmvg-<vg>` and `lvmlv-<vg>-<lv>`, tags `<vg>` and `/dev/<vg>/<lv>`.
//! Dependencies form the hierarchy lv → vg → disk(s).

use lvmkit_metadata::topology::SysBlock;
use serde::{Deserialize, Serialize};

/// The `format` every resource file starts with.
pub const FORMAT: &str = "lvmkit-kit-resource";
/// The newest version this lvmkit reads and the one it writes.
pub const VERSION: u32 = 1;

/// Which PVs must be present to activate (lvm2's `--activationmode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivationPolicy {
    /// Every PV present, or nothing is activated.
    #[default]
    Complete,
    /// RAID LVs may run with a leg missing.
    Degraded,
    /// Missing areas become error targets.
    Partial,
}

impl ActivationPolicy {
    /// Every mode, in the order the OCF parameter lists them.
    pub const ALL: [ActivationPolicy; 3] =
        [ActivationPolicy::Complete, ActivationPolicy::Degraded, ActivationPolicy::Partial];

    /// Its name in the resource file and the OCF `activation_mode` parameter.
    pub fn name(self) -> &'static str {
        match self {
            ActivationPolicy::Complete => "complete",
            ActivationPolicy::Degraded => "degraded",
            ActivationPolicy::Partial => "partial",
        }
    }

    /// The engine's mode.
    pub fn mode(self) -> lvmkit_activation::ActivationMode {
        use lvmkit_activation::ActivationMode as M;
        match self {
            ActivationPolicy::Complete => M::Complete,
            ActivationPolicy::Degraded => M::Degraded,
            ActivationPolicy::Partial => M::Partial,
        }
    }
}

/// How single-host ownership is kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnershipPolicy {
    /// The VG carries the owner's lvm2 system ID: restore writes ours (rules of §3).
    #[default]
    SystemId,
    /// No ownership marker is written (a host without a system ID; LVM1 VGs use export/import).
    None,
}

impl OwnershipPolicy {
    /// Every mode, in the order the OCF parameter lists them.
    pub const ALL: [OwnershipPolicy; 2] = [OwnershipPolicy::SystemId, OwnershipPolicy::None];

    /// Its name in the resource file and the OCF `ownership` parameter.
    pub fn name(self) -> &'static str {
        match self {
            OwnershipPolicy::SystemId => "system_id",
            OwnershipPolicy::None => "none",
        }
    }
}

/// A resource's policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Missing-PV handling at restore.
    pub activation: ActivationPolicy,
    /// Ownership mode.
    pub ownership: OwnershipPolicy,
    /// Clear the system ID on remove (LVM2; default: it stays, as LVM-activate leaves it). An
    /// LVM1 VG is always exported on remove.
    #[serde(default)]
    pub release_on_remove: bool,
}

/// One PV as last seen on this server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PvRecord {
    /// PV UUID (hyphenated, as lvm2 prints it).
    pub uuid: String,
    /// Device path last seen here.
    pub device: String,
    /// Device size in bytes.
    pub size: u64,
    /// The whole disk under it (the device itself for a whole-disk PV, an md array or a
    /// multipath map).
    pub disk: String,
    /// The devices under `disk` when it is built on others (sysfs `slaves/`): an md array's
    /// members, a multipath map's paths. The kit reads and maps the PV through `device`
    /// only, never through one of these; they are the disks a PV on replicated or
    /// multipathed storage depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
}

/// A server the hierarchy is extended to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    /// Its name in hierarchies (`--server`, default the host name).
    pub name: String,
    /// Its host identity: lvm2's system ID (`None`: it has none).
    pub system_id: Option<String>,
}

/// An `lvmvg` resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VgResource {
    /// VG name.
    pub vg: String,
    /// VG UUID (hyphenated).
    pub vg_uuid: String,
    /// `lvm2` or `lvm1`.
    pub vg_format: String,
    /// Every PV of the VG.
    pub pvs: Vec<PvRecord>,
    /// Every server of the hierarchy, this one included.
    pub servers: Vec<Server>,
    /// Policy.
    pub policy: Policy,
}

impl VgResource {
    /// The disks it depends on, each once, in PV order.
    pub fn disks(&self) -> Vec<String> {
        let mut d: Vec<String> = Vec::new();
        for p in &self.pvs {
            if !d.contains(&p.disk) {
                d.push(p.disk.clone());
            }
        }
        d
    }

    /// The components under `disk` (an md array's members, a multipath map's paths), each
    /// once, as the PVs on it recorded them.
    pub fn components_of(&self, disk: &str) -> Vec<String> {
        let mut c: Vec<String> = Vec::new();
        for p in self.pvs.iter().filter(|p| p.disk == disk) {
            for x in &p.components {
                if !c.contains(x) {
                    c.push(x.clone());
                }
            }
        }
        c
    }

    /// The servers other than `me`.
    pub fn peers(&self, me: &str) -> Vec<&Server> {
        self.servers.iter().filter(|s| s.name != me).collect()
    }
}

/// An `lvmlv` resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LvResource {
    /// VG name.
    pub vg: String,
    /// VG UUID (hyphenated).
    pub vg_uuid: String,
    /// LV name.
    pub lv: String,
    /// LV UUID (hyphenated): its devices are `LVM-<vg uuid><lv uuid>…` even when the VG is gone.
    pub lv_uuid: String,
}

/// What a resource is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Kind {
    /// A volume group.
    Lvmvg(VgResource),
    /// A logical volume.
    Lvmlv(LvResource),
}

/// A resource file's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] when written.
    pub version: u32,
    /// `lvmvg-<vg>` / `lvmlv-<vg>-<lv>`.
    pub id: String,
    /// `<vg>` / `/dev/<vg>/<lv>`.
    pub tag: String,
    /// IDs this resource depends on (an lvmlv: its lvmvg).
    pub depends_on: Vec<String>,
    /// The type and its fields.
    #[serde(flatten)]
    pub kind: Kind,
}

/// `lvmvg-<vg>`.
pub fn vg_id(vg: &str) -> String {
    format!("lvmvg-{vg}")
}

/// `lvmlv-<vg>-<lv>`.
pub fn lv_id(vg: &str, lv: &str) -> String {
    format!("lvmlv-{vg}-{lv}")
}

/// `/dev/<vg>/<lv>`.
pub fn lv_tag(vg: &str, lv: &str) -> String {
    format!("/dev/{vg}/{lv}")
}

impl Resource {
    /// A new `lvmvg` resource.
    pub fn vg(r: VgResource) -> Resource {
        Resource {
            format: FORMAT.into(),
            version: VERSION,
            id: vg_id(&r.vg),
            tag: r.vg.clone(),
            depends_on: Vec::new(),
            kind: Kind::Lvmvg(r),
        }
    }

    /// A new `lvmlv` resource.
    pub fn lv(r: LvResource) -> Resource {
        Resource {
            format: FORMAT.into(),
            version: VERSION,
            id: lv_id(&r.vg, &r.lv),
            tag: lv_tag(&r.vg, &r.lv),
            depends_on: vec![vg_id(&r.vg)],
            kind: Kind::Lvmlv(r),
        }
    }

    /// `lvmvg` or `lvmlv`.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Lvmvg(_) => "lvmvg",
            Kind::Lvmlv(_) => "lvmlv",
        }
    }

    /// The VG name either type refers to.
    pub fn vg_name(&self) -> &str {
        match &self.kind {
            Kind::Lvmvg(v) => &v.vg,
            Kind::Lvmlv(l) => &l.vg,
        }
    }

    /// The VG UUID either type refers to.
    pub fn vg_uuid(&self) -> &str {
        match &self.kind {
            Kind::Lvmvg(v) => &v.vg_uuid,
            Kind::Lvmlv(l) => &l.vg_uuid,
        }
    }
}

/// The whole disk under a PV device: a partition's parent from sysfs (`/dev/sdb1` →
/// `/dev/sdb`), `IMAGE` for `IMAGE:pN` (a partition inside an image file); anything else is
/// its own disk.
pub fn disk_of(device: &str) -> String {
    if let Some((img, part)) = device.rsplit_once(":p") {
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            return img.to_string();
        }
    }
    let Some(base) = std::path::Path::new(device).file_name().and_then(|b| b.to_str()) else {
        return device.to_string();
    };
    // /dev/mapper/NAME and other links: the kernel name first.
    let real = std::fs::canonicalize(device).ok();
    let kname = real.as_deref().and_then(|p| p.file_name()).and_then(|b| b.to_str()).unwrap_or(base);
    let sys = std::path::PathBuf::from("/sys/class/block").join(kname);
    if sys.join("partition").is_file() {
        if let Some(parent) = std::fs::canonicalize(&sys)
            .ok()
            .and_then(|p| p.parent().and_then(|q| q.file_name()).map(|n| n.to_owned()))
        {
            return format!("/dev/{}", parent.to_string_lossy());
        }
    }
    device.to_string()
}

/// The devices device `dev` (a PV's device, by number) is built on: its sysfs `slaves/` (an
/// md array's members, a multipath map's or another dm device's underlying devices) — for a
/// partition, its disk's — as device nodes, sorted. Empty for a plain disk or partition, and
/// for a device sysfs does not know (an image file).
pub fn components_under(sys: &dyn SysBlock, dev: Option<lvmkit_dm::DevNum>) -> Vec<String> {
    let Some(n) = dev else { return Vec::new() };
    let Some(name) = sys.name_of(n.major, n.minor) else { return Vec::new() };
    let name = sys.parent(&name).unwrap_or(name);
    let mut v: Vec<String> =
        sys.entries(&name, "slaves").iter().map(|s| sys.node(s).display().to_string()).collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_vg() -> Resource {
        Resource::vg(VgResource {
            vg: "vg1".into(),
            vg_uuid: "abcdef-0123-4567-89ab-cdef-0123-456789".into(),
            vg_format: "lvm2".into(),
            pvs: vec![
                PvRecord {
                    uuid: "p1".into(),
                    device: "/dev/sdb1".into(),
                    size: 1 << 30,
                    disk: "/dev/sdb".into(),
                    components: Vec::new(),
                },
                PvRecord {
                    uuid: "p2".into(),
                    device: "/dev/sdb2".into(),
                    size: 1 << 30,
                    disk: "/dev/sdb".into(),
                    components: Vec::new(),
                },
                PvRecord {
                    uuid: "p3".into(),
                    device: "/dev/sdc".into(),
                    size: 1 << 30,
                    disk: "/dev/sdc".into(),
                    components: Vec::new(),
                },
            ],
            servers: vec![Server { name: "a".into(), system_id: Some("host-a".into()) }],
            policy: Policy::default(),
        })
    }

    #[test]
    fn ids_tags_and_json_shape() {
        let r = sample_vg();
        assert_eq!((r.id.as_str(), r.tag.as_str(), r.type_name()), ("lvmvg-vg1", "vg1", "lvmvg"));
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["format"], FORMAT);
        assert_eq!(j["version"], 1);
        assert_eq!(j["type"], "lvmvg");
        assert_eq!(j["policy"]["activation"], "complete");
        assert_eq!(j["policy"]["ownership"], "system_id");
        let back: Resource = serde_json::from_value(j).unwrap();
        assert_eq!(back, r);
        let Kind::Lvmvg(v) = &r.kind else { unreachable!() };
        assert_eq!(v.disks(), vec!["/dev/sdb".to_string(), "/dev/sdc".to_string()]);
        let l = Resource::lv(LvResource {
            vg: "vg1".into(),
            vg_uuid: "u".into(),
            lv: "lv0".into(),
            lv_uuid: "w".into(),
        });
        assert_eq!((l.id.as_str(), l.tag.as_str()), ("lvmlv-vg1-lv0", "/dev/vg1/lv0"));
        assert_eq!(l.depends_on, vec!["lvmvg-vg1".to_string()]);
    }

    #[test]
    fn components_are_the_slaves_of_the_device_or_of_a_partitions_disk() {
        use lvmkit_dm::DevNum;
        use lvmkit_metadata::topology::FakeSysfs;
        let d = tempfile::tempdir().unwrap();
        let t = FakeSysfs::new(d.path()).unwrap();
        t.dev("vdc", 254, 32, 1024).unwrap().dev("vdb", 254, 16, 1024).unwrap();
        t.dev("md0", 9, 0, 1024).unwrap().dev("md0/md0p1", 259, 0, 512).unwrap();
        t.dev("sdx", 8, 0, 1024).unwrap().dev("sdx/sdx1", 8, 1, 512).unwrap();
        t.stack("vdc", "md0").unwrap().stack("vdb", "md0").unwrap();
        let sys = t.sys();
        let node = |n: &str| t.dev_path(n).display().to_string();
        let members = vec![node("vdb"), node("vdc")];
        assert_eq!(components_under(&sys, Some(DevNum::new(9, 0))), members, "sorted");
        assert_eq!(components_under(&sys, Some(DevNum::new(259, 0))), members, "a partition: its disk's");
        assert!(components_under(&sys, Some(DevNum::new(8, 1))).is_empty(), "a plain partition");
        assert!(components_under(&sys, Some(DevNum::new(8, 0))).is_empty(), "a plain disk");
        assert!(components_under(&sys, Some(DevNum::new(7, 9))).is_empty(), "unknown to sysfs");
        assert!(components_under(&sys, None).is_empty(), "an image file");
    }

    #[test]
    fn the_disk_of_an_image_partition_is_the_image() {
        assert_eq!(disk_of("/tmp/x.img:p2"), "/tmp/x.img");
        assert_eq!(disk_of("/tmp/x.img"), "/tmp/x.img");
        assert_eq!(disk_of("/tmp/odd:pname"), "/tmp/odd:pname", "not a partition suffix");
    }
}
