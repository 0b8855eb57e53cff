//! Round trips through the config writer and parser, and parser robustness on junk.

use std::fmt::Write as _;

use lvmkit_metadata::text::{Item, Node, Scalar, Section, Value, parse, write_file, write_raw};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z][a-z0-9_+.-]{0,12}",
        // The keys the writer lays out one area per line.
        1 => prop_oneof![Just("stripes"), Just("mirrors"), Just("raids"), Just("raid0_lvs")].prop_map(String::from),
    ]
}

fn scalar() -> impl Strategy<Value = Scalar<'static>> {
    prop_oneof![
        any::<i64>().prop_map(Scalar::Int),
        (-20i64..20).prop_map(Scalar::Int),
        // Spelled as the parser reads a float: optional sign, a dot, at least one digit.
        "[+-]?[0-9]{1,6}\\.[0-9]{0,6}".prop_map(|s: String| Scalar::Float(s.into())),
        "[+-]?\\.[0-9]{1,6}".prop_map(|s: String| Scalar::Float(s.into())),
        // Anything but NUL, which ends the on-disk text.
        "[^\\x00]{0,20}".prop_map(|s: String| Scalar::Str(s.into())),
        "[\"\\\\'#{}\\[\\],= \\na-c\u{e9}\u{1f600}]{0,12}".prop_map(|s: String| Scalar::Str(s.into())),
        "[a-z][a-z0-9_-]{0,8}".prop_map(|s: String| Scalar::Bare(s.into())),
        // Shaped like area names, for the raids layout.
        "[a-z]{1,3}_r(meta|image)_[0-9]".prop_map(|s: String| Scalar::Str(s.into())),
    ]
}

fn value() -> impl Strategy<Value = Value<'static>> {
    prop_oneof![
        scalar().prop_map(Value::Scalar),
        proptest::collection::vec(scalar(), 0..8).prop_map(Value::Array),
    ]
}

fn section() -> impl Strategy<Value = Section<'static>> {
    let value_item =
        || (key(), value()).prop_map(|(key, v): (String, _)| Item { key: key.into(), node: Node::Value(v) });
    let leaf = proptest::collection::vec(value_item(), 0..6).prop_map(|items| Section { items });
    leaf.prop_recursive(4, 64, 6, move |inner| {
        proptest::collection::vec(
            prop_oneof![
                value_item(),
                (key(), inner)
                    .prop_map(|(key, s): (String, _)| Item { key: key.into(), node: Node::Section(s) }),
            ],
            0..6,
        )
        .prop_map(|items| Section { items })
    })
}

/// Odd but legal keys, values and separators for [`soup`].
const KEYS: [&str; 9] = ["a", "b1", "x[y", "1k", "-", "\"q k\"", "'s{'", "\"a\\\"b\"", "é"];
const VALUES: [&str; 14] = [
    "7",
    "-0.5",
    "010",
    "+3",
    "auto",
    "x,y]",
    "a\"b",
    "\"x\\\"y\\\\z\\w\"",
    "'q\\'",
    "[]",
    "[ ]",
    "[auto,x , 'q' \"r\",]",
    "[1,-2,.5]",
    "[\n\"pv0\", 0,\n\"pv1\", 8\n]",
];
const SEPS: [&str; 5] = ["\n", " ", "\t# c\n", "\r\n", ""];

/// Text that is mostly well formed but full of the grammar's odd corners: items, sections
/// (balanced), values of every kind, comments, and sometimes no separator at all.
fn soup() -> impl Strategy<Value = String> {
    let frag = (
        0..4u8,
        prop::sample::select(&KEYS[..]),
        prop::sample::select(&VALUES[..]),
        prop::sample::select(&SEPS[..]),
    );
    proptest::collection::vec(frag, 0..40).prop_map(|frags| {
        let mut t = String::new();
        let mut depth = 0;
        for (kind, key, value, sep) in frags {
            match kind {
                0 => {
                    t.push_str(key);
                    t.push_str(" {");
                    depth += 1;
                }
                1 if depth > 0 => {
                    t.push('}');
                    depth -= 1;
                }
                _ => {
                    t.push_str(key);
                    t.push_str(" = ");
                    t.push_str(value);
                }
            }
            t.push_str(sep);
        }
        t.push_str(&"\n}".repeat(depth));
        t
    })
}

proptest! {
    #[test]
    fn raw_form_round_trips(tree in section()) {
        let text = write_raw(&tree);
        prop_assert_eq!(parse(text.as_bytes()).unwrap(), tree, "text:\n{}", text);
    }

    #[test]
    fn file_form_round_trips(tree in section()) {
        let text = write_file(&tree);
        prop_assert_eq!(parse(text.as_bytes()).unwrap(), tree, "text:\n{}", text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = parse(&bytes);
    }

    /// Whatever parses, however odd, is written back so that it parses to the same tree.
    #[test]
    fn odd_but_valid_text_round_trips(text in soup()) {
        if let Ok(tree) = parse(text.as_bytes()) {
            let (raw, file) = (write_raw(&tree), write_file(&tree));
            prop_assert_eq!(&parse(raw.as_bytes()).unwrap(), &tree, "from {:?}", text);
            prop_assert_eq!(&parse(file.as_bytes()).unwrap(), &tree, "from {:?}", text);
        }
    }

    #[test]
    fn grammar_shaped_junk_never_panics(
        bytes in proptest::collection::vec(
            prop::sample::select(b"{}[],=\"'\\# \n\t0189+-.xa\xff\xc3\x00".to_vec()),
            0..2000,
        )
    ) {
        let _ = parse(&bytes);
    }
}

/// Metadata shaped like lvm2's for a VG with `lvs` two-segment striped LVs over 4 PVs.
fn synthetic_metadata(lvs: usize) -> String {
    let mut t = String::from(
        "vg0 {\nid = \"npsDNU-zJAq-nXX6-6zQj-M22x-tv5D-taqdqy\"\nseqno = 1234\nformat = \"lvm2\"\n\
         status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\nflags = []\nextent_size = 8192\nmax_lv = 0\n\
         max_pv = 0\nmetadata_copies = 0\n\nphysical_volumes {\n",
    );
    for pv in 0..4 {
        let _ = write!(
            t,
            "\npv{pv} {{\nid = \"CDKxz4-IOHl-dXLa-dX3I-7cCn-T7Yd-N9sgp{pv}\"\ndevice = \"/dev/sd{}\"\n\n\
             status = [\"ALLOCATABLE\"]\nflags = []\ndev_size = 4294967296\npe_start = 2048\n\
             pe_count = 524287\n}}\n",
            (b'a' + pv as u8) as char
        );
    }
    t.push_str("}\n\nlogical_volumes {\n");
    for lv in 0..lvs {
        let _ = write!(
            t,
            "\nlv_{lv:04} {{\nid = \"H7XsqH-PSKt-g5kY-C0sJ-l4vZ-oW1i-R4{lv:04}\"\n\
             status = [\"READ\", \"WRITE\", \"VISIBLE\"]\nflags = []\ntags = [\"backup\", \"db\"]\n\
             creation_time = 1795292627\t# 2026-11-21 20:23:47 +0000\ncreation_host = \"vm.example.com\"\n\
             segment_count = 2\n\nsegment1 {{\nstart_extent = 0\nextent_count = 128\n\ntype = \"striped\"\n\
             stripe_count = 2\nstripe_size = 128\n\nstripes = [\n\"pv0\", {},\n\"pv1\", {}\n]\n}}\n\
             segment2 {{\nstart_extent = 128\nextent_count = 64\n\ntype = \"striped\"\nstripe_count = 1\n\n\
             stripes = [\n\"pv{}\", {}\n]\n}}\n}}\n",
            lv * 64,
            lv * 64,
            lv % 4,
            lv * 64 + 100_000
        );
    }
    t.push_str(
        "}\n}\n# Generated by LVM2 version 2.03.16(2) (2022-05-18): Sat Nov 21 20:25:13 2026\n\n\
         contents = \"Text Format Volume Group\"\nversion = 1\n\ndescription = \"\"\n\n\
         creation_host = \"vm\"\t# Linux vm 6.18.44 #1 SMP x86_64\ncreation_time = 1795292713\n",
    );
    t
}

#[test]
fn synthetic_1000_lv_metadata_parses_and_round_trips() {
    let text = synthetic_metadata(1000);
    let root = parse(text.as_bytes()).unwrap();
    let vg = root.section("vg0").unwrap();
    let lvs: Vec<(&str, &Section)> = vg.section("logical_volumes").unwrap().sections().collect();
    assert_eq!(lvs.len(), 1000);
    assert_eq!(lvs[999].0, "lv_0999");
    let seg2 = lvs[999].1.section("segment2").unwrap();
    assert_eq!(
        seg2.value("stripes"),
        Some(&Value::Array(vec![Scalar::Str("pv3".into()), Scalar::Int(999 * 64 + 100_000)]))
    );
    assert_eq!(parse(write_raw(&root).as_bytes()).unwrap(), root);
    assert_eq!(parse(write_file(&root).as_bytes()).unwrap(), root);
}
