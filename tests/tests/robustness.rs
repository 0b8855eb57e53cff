//! The fuzz targets' entry points under proptest and over mutated real images, so every normal
//! test run exercises them (the libFuzzer targets in fuzz/ run the same functions).

use lvmkit_metadata::fuzzing;
use proptest::prelude::*;

fn real_image_heads() -> Vec<Vec<u8>> {
    lvmkit_tests::case_names()
        .iter()
        .map(|n| {
            let c = lvmkit_tests::case(n);
            let img = std::fs::read(&c.images[0]).unwrap();
            img[..img.len().min(256 * 1024)].to_vec()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        fuzzing::label(&data);
        fuzzing::mda_header(&data);
        fuzzing::ring(&data);
        fuzzing::text(&data);
        fuzzing::device(&data);
        fuzzing::lvm1(&data);
    }
}

/// Deterministic mutations of every real image: flip, zero and stretch bytes in the label,
/// mda header and text regions, then run the whole pipeline.
#[test]
fn mutated_real_images_never_panic() {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for img in real_image_heads() {
        for _ in 0..40 {
            let mut m = img.clone();
            for _ in 0..(next() % 8 + 1) {
                // Bias mutations toward the structures: label sector, mda header, first text.
                let region = [(512, 512), (4096, 512), (4608, 8192)][(next() % 3) as usize];
                let at = region.0 + (next() % region.1) as usize;
                if at < m.len() {
                    m[at] = match next() % 3 {
                        0 => m[at] ^ (1 << (next() % 8)),
                        1 => 0,
                        _ => 0xff,
                    };
                }
            }
            fuzzing::label(&m[..m.len().min(2048)]);
            fuzzing::device(&m);
            fuzzing::text(&m[4608.min(m.len())..]);
        }
    }
}

/// Every input a fuzzer ever crashed on stays a test: `fuzz/regressions/<target>/*`.
#[test]
fn fuzz_regressions() {
    let dir = lvmkit_tests::repo_root().join("fuzz/regressions");
    let mut n = 0;
    for target in std::fs::read_dir(&dir).unwrap() {
        let target = target.unwrap();
        let name = target.file_name().to_string_lossy().into_owned();
        let run: fn(&[u8]) = match name.as_str() {
            "label" => fuzzing::label,
            "mda_header" => fuzzing::mda_header,
            "ring" => fuzzing::ring,
            "text" => fuzzing::text,
            "device" => fuzzing::device,
            other => panic!("fuzz/regressions/{other}: no such fuzz target"),
        };
        for f in std::fs::read_dir(target.path()).unwrap() {
            run(&std::fs::read(f.unwrap().path()).unwrap());
            n += 1;
        }
    }
    assert!(n > 0);
}
