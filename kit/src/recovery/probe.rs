//! quickCheck level 10's PV reads: one direct (O_DIRECT) read of each PV, each in a child
//! process (`lvmkit kit __probe DEVICE OFFSET`) that the check does not wait for beyond its
//! deadline. A read stuck in the kernel (a dead path, uninterruptible sleep) keeps only that
//! child; the check returns, and so does the process (a thread in D state would keep it from
//! exiting).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Bytes read by a probe (one page: aligned for every logical block size).
pub const PROBE_BYTES: u64 = 4096;

/// The probe itself (run in the child): open `device` for direct I/O and read
/// [`PROBE_BYTES`] at `offset`.
pub fn probe_read(device: &Path, offset: u64) -> Result<(), String> {
    use lvmkit_metadata::device::{Device, FileDevice, OpenOptionsLvm, read};
    let dev = FileDevice::open(device, OpenOptionsLvm { direct: true }).map_err(|e| e.to_string())?;
    let len = PROBE_BYTES.min(dev.size().saturating_sub(offset));
    if len == 0 {
        return Err(format!("{}: nothing to read at byte {offset} (size {})", device.display(), dev.size()));
    }
    read(&dev, "PV probe", offset, len).map(|_| ()).map_err(|e| format!("{}: {e}", device.display()))
}

/// The result of one probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeResult {
    /// The read completed.
    Ok,
    /// The read failed: the child's message.
    Failed(String),
    /// No answer within the deadline (the child is left to the kernel).
    TimedOut(Duration),
    /// The child could not be started.
    NotStarted(String),
}

impl ProbeResult {
    /// Why a probe did not succeed, in words (`ok` for success).
    pub fn describe(&self) -> String {
        match self {
            ProbeResult::Ok => "ok".into(),
            ProbeResult::Failed(m) => m.clone(),
            ProbeResult::TimedOut(t) => format!("no answer within {t:.1?} (dead path?)"),
            ProbeResult::NotStarted(m) => format!("probe not started: {m}"),
        }
    }
}

/// Probe every device at once through `exe` and wait at most `deadline` for all of them.
pub fn probe_all(exe: &Path, devices: &[(String, u64)], deadline: Duration) -> Vec<ProbeResult> {
    let start = Instant::now();
    let mut children: Vec<Result<Child, String>> = devices
        .iter()
        .map(|(d, off)| {
            Command::new(exe)
                .args(["kit", "__probe", d, &off.to_string()])
                // One read: mapping the executable and a heap reserve first would cost the
                // child more than it saves (see `crate::startup`).
                .env("LVMKIT_PREFAULT", "0")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("{}: {e}", exe.display()))
        })
        .collect();
    let mut results: Vec<Option<ProbeResult>> =
        children.iter().map(|c| c.as_ref().err().map(|e| ProbeResult::NotStarted(e.clone()))).collect();
    let mut pause = Duration::from_micros(200);
    loop {
        for (i, c) in children.iter_mut().enumerate() {
            let (Ok(child), None) = (c, &results[i]) else { continue };
            match child.try_wait() {
                Ok(Some(status)) if status.success() => results[i] = Some(ProbeResult::Ok),
                Ok(Some(status)) => {
                    let mut msg = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        use std::io::Read;
                        let _ = e.read_to_string(&mut msg);
                    }
                    let msg = msg.trim().to_string();
                    results[i] =
                        Some(ProbeResult::Failed(if msg.is_empty() { status.to_string() } else { msg }));
                }
                Ok(None) => {}
                Err(e) => results[i] = Some(ProbeResult::Failed(e.to_string())),
            }
        }
        if results.iter().all(Option::is_some) {
            break;
        }
        let waited = start.elapsed();
        if waited >= deadline {
            for (i, c) in children.iter_mut().enumerate() {
                if results[i].is_none() {
                    // SIGKILL; a child in uninterruptible sleep dies when its I/O ends.
                    if let Ok(child) = c {
                        let _ = child.kill();
                    }
                    results[i] = Some(ProbeResult::TimedOut(waited));
                }
            }
            break;
        }
        std::thread::sleep(pause.min(deadline - waited));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    // Children that finished are reaped by try_wait; those that did not are not waited for.
    for c in children.into_iter().flatten() {
        std::mem::forget(c);
    }
    results.into_iter().map(|r| r.expect("every probe has a result")).collect()
}
