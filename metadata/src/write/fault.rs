//! Power-cut simulation: wrappers that let the first N writes (counted over every wrapped
//! device together) reach the device, then fail every later write, optionally tearing the Nth.
//!
//! A torn write models power failing mid-write: only the bytes up to 256 into its **last**
//! sector reach the device (all earlier whole sectors of it do), and the write reports an error.
//! Everything after the cut fails with `EIO` and writes nothing.
//!
//! A wrapped device reports [`WriteDevice::concurrent_writes`] `false`: the commit then issues
//! the writes one at a time in the plan's order, so "the first N writes" is always the same set
//! and the cut points cover every write of the plan. (The concurrent order a real commit uses
//! only reorders writes *within* a phase, see [`commit::execute`](super::commit::execute).)

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::device::Device;

use super::device::WriteDevice;

/// Bytes of the last sector that a torn write leaves on the device.
pub const TORN_BYTES: usize = 256;

/// The shared budget: how many writes get through, and whether the last one tears.
#[derive(Debug)]
pub struct FaultPlan {
    allow: usize,
    tear: bool,
    done: AtomicUsize,
}

impl FaultPlan {
    /// Let `allow` writes through (the last of them torn when `tear`), fail the rest.
    pub fn new(allow: usize, tear: bool) -> Arc<FaultPlan> {
        Arc::new(FaultPlan { allow, tear, done: AtomicUsize::new(0) })
    }
    /// Writes attempted so far (including failed ones).
    pub fn attempted(&self) -> usize {
        self.done.load(Ordering::SeqCst)
    }
}

/// A device whose writes are subject to a [`FaultPlan`].
pub struct FaultDevice {
    inner: Arc<dyn WriteDevice>,
    plan: Arc<FaultPlan>,
}

impl FaultDevice {
    /// Wrap `inner`; several devices may share one plan.
    pub fn new(inner: Arc<dyn WriteDevice>, plan: Arc<FaultPlan>) -> FaultDevice {
        FaultDevice { inner, plan }
    }
}

impl Device for FaultDevice {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn logical_block_size(&self) -> u32 {
        self.inner.logical_block_size()
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_at(at, buf)
    }
}

impl WriteDevice for FaultDevice {
    fn write_at(&self, at: u64, data: &[u8]) -> io::Result<()> {
        let n = self.plan.done.fetch_add(1, Ordering::SeqCst) + 1;
        if n > self.plan.allow {
            return Err(io::Error::other(format!("simulated power cut (write {n})")));
        }
        if n == self.plan.allow && self.plan.tear {
            let last = data.len().saturating_sub(1) / 512 * 512;
            let keep = (last + TORN_BYTES).min(data.len());
            self.inner.write_at(at, &data[..keep])?;
            return Err(io::Error::other(format!(
                "simulated power cut tearing write {n} after {keep} bytes"
            )));
        }
        self.inner.write_at(at, data)
    }
    fn sync(&self) -> io::Result<()> {
        self.inner.sync()
    }
    fn concurrent_writes(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::device::MemWriteDevice;

    #[test]
    fn cuts_after_n_and_tears_the_last_sector() {
        let mem = Arc::new(MemWriteDevice::new("m", vec![0; 4096]));
        let plan = FaultPlan::new(2, true);
        let f = FaultDevice::new(mem.clone(), plan.clone());
        assert!(!f.concurrent_writes(), "cut points must follow the plan's order");
        f.write_at(0, &[1; 512]).unwrap();
        assert!(f.write_at(512, &[2; 1024]).is_err());
        assert!(f.write_at(2048, &[3; 512]).is_err());
        let b = mem.bytes();
        assert!(b[..512].iter().all(|&x| x == 1));
        assert!(b[512..1024 + 256].iter().all(|&x| x == 2));
        assert!(b[1024 + 256..].iter().all(|&x| x == 0));
        assert_eq!(plan.attempted(), 3);
    }
}
