//! The crate's error type. Every variant names the VG and, where there is one, the LV.

use lvmkit_metadata::id::LvmId;

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The VG is exported (`vgexport`).
    #[error("VG {vg} is exported; run vgimport first (or allow exported VGs)")]
    Exported {
        /// VG.
        vg: String,
    },
    /// The VG belongs to another host (system ID).
    #[error("VG {vg} belongs to system ID {vg_system_id:?}, and this host's is {}; not activating a foreign VG",
        host.as_deref().map_or_else(|| "unset".to_string(), |h| format!("{h:?}")))]
    Foreign {
        /// VG.
        vg: String,
        /// The VG's system ID.
        vg_system_id: String,
        /// This host's.
        host: Option<String>,
    },
    /// The PV device list does not match the VG's PVs.
    #[error("VG {vg} has {expected} PVs but {got} PV device entries were given")]
    PvCount {
        /// VG.
        vg: String,
        /// PVs in the metadata.
        expected: usize,
        /// Entries given.
        got: usize,
    },
    /// A requested LV does not exist.
    #[error("VG {vg} has no LV {lv}")]
    NoSuchLv {
        /// VG.
        vg: String,
        /// Requested name.
        lv: String,
    },
    /// A requested LV is not something that is activated on its own.
    #[error("LV {vg}/{lv} cannot be activated directly: {why}")]
    NotActivatable {
        /// VG.
        vg: String,
        /// LV.
        lv: String,
        /// Why.
        why: &'static str,
    },
    /// A segment type (or a variant of one) this engine does not activate.
    #[error("LV {vg}/{lv}: segment type {segtype} is not supported by lvmkit activation")]
    Unsupported {
        /// VG.
        vg: String,
        /// LV holding the segment.
        lv: String,
        /// The type as written (with a note for variants, e.g. pvmove or cachevol).
        segtype: String,
    },
    /// An LV needs a PV that is missing, and the mode does not allow filling it in.
    #[error("LV {}/{} (activating {}) needs missing PV {} ({}); partial activation would map it to an error device",
        .0.vg, .0.lv, .0.root, .0.pv, .0.pv_uuid)]
    MissingPv(Box<MissingPvDetail>),
    /// Thin pools cannot be activated with missing pieces, even in partial mode (as lvm2).
    #[error("LV {}/{} (activating {}) belongs to a thin pool and needs missing PV {} ({}); thin pools are never activated incomplete",
        .0.vg, .0.lv, .0.root, .0.pv, .0.pv_uuid)]
    IncompletePool(Box<MissingPvDetail>),
    /// A raid LV lost too many images for degraded activation.
    #[error(
        "raid LV {vg}/{lv} has {failed} of {images} images on missing PVs: not enough redundancy for degraded activation"
    )]
    TooDegraded {
        /// VG.
        vg: String,
        /// Raid LV.
        lv: String,
        /// Images with a missing piece.
        failed: usize,
        /// All images.
        images: usize,
    },
    /// PVs of the VG are on more than one device, neither a component of the other (a copied
    /// disk, a multipath path the scan could not recognise): lvm2 refuses too ("Cannot activate
    /// LVs in VG … while PVs appear on duplicate devices").
    #[error("cannot activate LVs in VG {vg} while PVs appear on duplicate devices: {}",
        .duplicates.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("; "))]
    DuplicatePvs {
        /// VG.
        vg: String,
        /// Each PV with its devices.
        duplicates: Vec<lvmkit_metadata::assemble::DuplicatePv>,
    },
    /// The metadata is inconsistent in a way activation cannot work around.
    #[error("LV {vg}/{lv}: {what}")]
    Invalid {
        /// VG.
        vg: String,
        /// LV.
        lv: String,
        /// What is wrong.
        what: String,
    },
    /// A device name or uuid would be invalid (too long).
    #[error("LV {vg}/{lv}: {source}")]
    Name {
        /// VG.
        vg: String,
        /// LV.
        lv: String,
        /// The dm error.
        #[source]
        source: lvmkit_dm::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Which PV is missing for which LV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPvDetail {
    /// VG.
    pub vg: String,
    /// LV whose segment lies on the PV.
    pub lv: String,
    /// Top-level LV being activated.
    pub root: String,
    /// PV key in the metadata (`pv1`).
    pub pv: String,
    /// PV id.
    pub pv_uuid: LvmId,
}
