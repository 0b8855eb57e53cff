//! Scan + assemble once per command, with the options every command shares.

use std::path::PathBuf;

use lvmkit_metadata::assemble::{Assembly, assemble};
use lvmkit_metadata::scan::{Scan, ScanOptions, scan};

/// What a command looks at: the scan and the VGs assembled from it.
pub struct Source {
    /// Per-device results.
    pub scan: Scan,
    /// VGs, orphans and findings.
    pub assembly: Assembly,
}

impl Source {
    /// Scan `devices` (all kernel block devices when empty) and assemble.
    pub fn load(devices: &[PathBuf], scan_lvs: bool) -> Source {
        let opts = ScanOptions {
            devices: if devices.is_empty() { None } else { Some(devices.to_vec()) },
            scan_lvs,
            direct: true,
        };
        let scan = scan(&opts);
        let assembly = assemble(&scan);
        Source { scan, assembly }
    }
}

/// lvm2 accepts `--devices a,b` and repeated `--devices`; split commas.
pub fn split_devices(args: &[String]) -> Vec<PathBuf> {
    args.iter().flat_map(|a| a.split(',')).filter(|s| !s.is_empty()).map(PathBuf::from).collect()
}
