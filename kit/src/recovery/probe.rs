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
    // Children whose stderr was seen closed (or written to): they are exiting.
    let mut closing = vec![false; children.len()];
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
        wait_for_exits(&children, &results, &mut closing, deadline - waited);
    }
    // Children that finished are reaped by try_wait; those that did not are not waited for.
    for c in children.into_iter().flatten() {
        std::mem::forget(c);
    }
    results.into_iter().map(|r| r.expect("every probe has a result")).collect()
}

/// Sleeps until a running child's stderr closes or carries its message (it is exiting), or
/// `left` has passed: no polling interval to overshoot (under user-mode-linux a probe child
/// lives 30-40 ms; a fixed 20 ms pause cost a start 10 ms on average). A child seen closing
/// but not yet reaped (exit closes its files just before it becomes waitable) is looked at
/// again after a short pause.
fn wait_for_exits(
    children: &[Result<Child, String>],
    results: &[Option<ProbeResult>],
    closing: &mut [bool],
    left: Duration,
) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let mut watched: Vec<usize> = Vec::new();
    let mut fds: Vec<PollFd> = Vec::new();
    for (i, c) in children.iter().enumerate() {
        if let (Ok(child), None, false) = (c, &results[i], closing[i]) {
            if let Some(e) = &child.stderr {
                watched.push(i);
                fds.push(PollFd::new(e.as_fd(), PollFlags::POLLIN));
            }
        }
    }
    let pause = Duration::from_micros(200).min(left);
    if fds.is_empty() {
        std::thread::sleep(pause);
        return;
    }
    // A child already closing is looked at again soon, the others are waited for.
    let wait = if closing.iter().zip(results).any(|(c, r)| *c && r.is_none()) { pause } else { left };
    let timeout = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
    match poll(&mut fds, timeout) {
        Ok(n) if n > 0 => {
            for (k, fd) in fds.iter().enumerate() {
                if fd.revents().is_some_and(|r| !r.is_empty()) {
                    closing[watched[k]] = true;
                }
            }
        }
        Ok(_) => {}
        Err(_) => std::thread::sleep(pause),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_child_gets_its_own_result_and_a_silent_one_times_out_at_the_deadline() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // Stands in for `lvmkit kit __probe DEVICE OFFSET`: the device name says what to do.
        let exe = dir.path().join("probe");
        std::fs::write(
            &exe,
            "#!/bin/sh\ncase \"$3\" in\n ok) exit 0 ;;\n slow) sleep 0.3; exit 0 ;;\n fail) echo 'bad read at 4096' >&2; exit 1 ;;\n *) exec sleep 30 ;;\nesac\n",
        )
        .unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let devs: Vec<(String, u64)> =
            ["ok", "slow", "fail", "hang"].iter().map(|d| (d.to_string(), 0)).collect();
        let deadline = Duration::from_secs(2);
        let t = Instant::now();
        let r = probe_all(&exe, &devs, deadline);
        let took = t.elapsed();
        assert_eq!(r[0], ProbeResult::Ok);
        assert_eq!(r[1], ProbeResult::Ok, "a child that answers late but in time");
        assert_eq!(r[2], ProbeResult::Failed("bad read at 4096".into()));
        assert!(matches!(r[3], ProbeResult::TimedOut(w) if w >= deadline), "{:?}", r[3]);
        assert!(took >= deadline && took < deadline + Duration::from_secs(3), "bounded: {took:?}");
        // Without a silent child nothing waits for the deadline (negative control of the above).
        let t = Instant::now();
        let r = probe_all(&exe, &devs[..3], deadline);
        assert!(r.iter().take(2).all(|x| *x == ProbeResult::Ok), "{r:?}");
        assert!(t.elapsed() < deadline, "returned when the last child exited: {:?}", t.elapsed());
    }
}
