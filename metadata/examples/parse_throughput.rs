//! Text-metadata parse throughput: `cargo run --release -p lvmkit-metadata --example
//! parse_throughput -- FILE…` parses each file (raw metadata text or backup file) repeatedly
//! for about a second and prints MB/s for the grammar alone and for grammar + VG import.

use std::time::{Duration, Instant};

use lvmkit_metadata::import::parse_metadata;
use lvmkit_metadata::text::parse;

fn rate(bytes: usize, f: impl Fn()) -> f64 {
    f(); // warm up
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        f();
        n += 1;
    }
    (bytes as f64 * n as f64) / start.elapsed().as_secs_f64() / 1e6
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: parse_throughput FILE…");
        std::process::exit(2);
    }
    for f in files {
        let text = std::fs::read(&f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let tree = rate(text.len(), || {
            std::hint::black_box(parse(&text).expect("parses"));
        });
        let model = rate(text.len(), || {
            std::hint::black_box(parse_metadata(&text).expect("imports"));
        });
        println!("{f}: {} bytes: parse {tree:.0} MB/s, parse+import {model:.0} MB/s", text.len());
    }
}
