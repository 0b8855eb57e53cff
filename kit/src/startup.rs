//! What `lvmkit` does first: map its own code and a heap reserve in bulk.
//!
//! A command is a short-lived process, and where page faults are expensive it pays more for
//! the pages it touches than for its work: under user-mode-linux each first touch of a page
//! is a round trip through the host, about 50–90 µs. [`prefault`] maps the executable's code
//! and read-only data and a heap reserve with a few system calls instead, and has the scan
//! reserve more heap, in proportion, before it parses large metadata texts (see
//! `lvmkit_dm::prefault_executable` and `lvmkit_dm::reserve_heap`). Measured in the guest
//! (BENCHMARKS.md, activation): `lvmkit plan` of a 100-LV VG 46 → 34 ms, of a 1000-LV VG
//! 102 → 50–55 ms; on a native kernel it costs a fraction of a millisecond.
//!
//! `LVMKIT_PREFAULT=0` turns it off (for comparisons).

/// Heap mapped at start: what argument parsing, the scan and a small VG's plan use.
pub const HEAP_RESERVE: usize = 512 << 10;

/// Heap mapped before parsing, per byte of metadata text: the parse tree, the VG model and
/// the plan of a 1000-LV VG (a 340 KB text) took about 3.5 MB.
pub const HEAP_PER_TEXT_BYTE: usize = 10;

/// Maps the executable and the heap reserve and sets the scan's hook; failures (an old kernel,
/// another C library, a W^X policy) only cost the speed-up.
pub fn prefault() {
    if std::env::var_os("LVMKIT_PREFAULT").is_some_and(|v| v == "0") {
        return;
    }
    let _ = lvmkit_dm::prefault_executable();
    let _ = lvmkit_dm::reserve_heap(HEAP_RESERVE);
    lvmkit_metadata::scan::set_before_parse(before_parse);
}

fn before_parse(text_bytes: usize) {
    let _ = lvmkit_dm::reserve_heap(text_bytes.saturating_mul(HEAP_PER_TEXT_BYTE));
}
