//! What `lvmkit` does first: map its own code and a heap reserve in bulk.
//!
//! A command is a short-lived process, and where page faults are expensive it pays more for
//! the pages it touches than for its work: under user-mode-linux each first touch of a page
//! is a round trip through the host, about 50–90 µs. [`prefault`] maps the executable's code
//! and read-only data and a heap reserve with a few system calls instead, and has the scan
//! reserve more heap, in proportion, before it parses large metadata texts (see
//! `lvmkit_dm::prefault_executable` and `lvmkit_dm::reserve_heap`). Measured in the guest
//! (BENCHMARKS.md, activation): `lvmkit plan` of a 100-LV VG 46 → 34 ms, of a 1000-LV VG
//! 102 → 50–55 ms. On a native kernel (or under KVM) a first touch costs about a
//! microsecond and the bulk mapping of 4–5 MB of code only adds time (0.1 ms of a 1.3 ms
//! `vgs`), so it is done only where one timed first touch of a fresh page is slow
//! ([`page_faults_are_costly`]).
//!
//! `LVMKIT_PREFAULT=0` turns it off, `LVMKIT_PREFAULT=1` on whatever a first touch costs
//! (for comparisons).

/// Heap mapped at start: what argument parsing, the scan and a small VG's plan use.
pub const HEAP_RESERVE: usize = 512 << 10;

/// Heap mapped before parsing, per byte of metadata text: the parse tree, the VG model and
/// the plan of a 1000-LV VG (a 340 KB text) took about 3.5 MB.
pub const HEAP_PER_TEXT_BYTE: usize = 10;

/// Maps the executable and the heap reserve and sets the scan's hook; failures (an old kernel,
/// another C library, a W^X policy) only cost the speed-up.
pub fn prefault() {
    let wanted = match std::env::var_os("LVMKIT_PREFAULT") {
        Some(v) if v == "0" => false,
        Some(v) if v == "1" => true,
        _ => page_faults_are_costly(),
    };
    if !wanted {
        return;
    }
    let _ = lvmkit_dm::prefault_executable();
    let _ = lvmkit_dm::reserve_heap(HEAP_RESERVE);
    lvmkit_metadata::scan::set_before_parse(before_parse);
}

/// A first touch slower than this is a round trip through a host (user-mode-linux: 50–90 µs,
/// and the clock reads around it trap too: 100–250 µs in all); natively, and under KVM, the
/// touch and the two clock reads (vDSO) take about a microsecond.
pub const COSTLY_FAULT: std::time::Duration = std::time::Duration::from_micros(15);

/// Whether a first touch of a page is slow here: one page of a fresh anonymous mapping is
/// written and timed (with the two clock reads around it: where they trap to a host too, that
/// only confirms it). The mapping is made for this (not taken from malloc, whose large blocks
/// may come from heap it touched already); a preemption during the write can only make the
/// answer "slow", which costs what the prefault costs, nothing more.
pub fn page_faults_are_costly() -> bool {
    const BLOCK: usize = 64 << 10;
    let Ok(mut block) = memmap2::MmapMut::map_anon(BLOCK) else { return false };
    let t = std::time::Instant::now();
    block[BLOCK / 2] = 1;
    std::hint::black_box(&mut block);
    t.elapsed() > COSTLY_FAULT
}

fn before_parse(text_bytes: usize) {
    let _ = lvmkit_dm::reserve_heap(text_bytes.saturating_mul(HEAP_PER_TEXT_BYTE));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The other direction of kit/tests/vm_kit.rs's user-mode-linux check: on a native or KVM
    /// host a first touch times fast (most of five tries: a preemption inside the timed write
    /// can make one slow), so the bulk mapping is not done where it only costs.
    #[test]
    fn a_first_touch_times_fast_outside_user_mode_linux() {
        if std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default().contains("User Mode Linux") {
            println!("skipped: under user-mode-linux (kit/tests/vm_kit.rs checks the slow side)");
            return;
        }
        let slow = (0..5).filter(|_| page_faults_are_costly()).count();
        assert!(slow <= 2, "{slow} of 5 first touches timed slower than {COSTLY_FAULT:?} on this host");
    }
}
