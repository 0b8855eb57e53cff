//! Rendering lvm2's JSON shape (the basic table: `rows.rs`).

use super::fields::Field;

/// lvm2's `--reportformat json`: one report object keyed by the report type, one flat object
/// per row with every value a string, indented exactly as lvm2 2.03 prints it.
pub(crate) fn json(key: &str, fields: &[&Field], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    out.push_str("  {\n      \"report\": [\n          {\n");
    out.push_str(&format!("              \"{key}\": [\n"));
    for (n, r) in rows.iter().enumerate() {
        out.push_str("                  {");
        for (c, (f, v)) in fields.iter().zip(r).enumerate() {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('"');
            out.push_str(f.name);
            out.push_str("\":\"");
            escape_into(&mut out, v);
            out.push('"');
        }
        out.push('}');
        if n + 1 < rows.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str("              ]\n          }\n      ]\n  }\n");
    out
}

/// Escape a value for a JSON string (lvm2 escapes `"` and `\`; names and tags cannot hold
/// control characters, but escape them anyway so the output stays valid JSON).
fn escape_into(out: &mut String, v: &str) {
    for ch in v.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fields::FIELDS;
    use super::*;

    fn field(name: &str) -> &'static Field {
        FIELDS.iter().find(|f| f.name == name).unwrap()
    }

    #[test]
    fn json_shape() {
        let fields = [field("lv_name"), field("lv_size")];
        let rows =
            vec![vec!["lv0".to_string(), "8.00m".to_string()], vec!["a\"b".to_string(), "0 ".to_string()]];
        assert_eq!(
            json("lv", &fields, &rows),
            "  {\n      \"report\": [\n          {\n              \"lv\": [\n                  \
             {\"lv_name\":\"lv0\", \"lv_size\":\"8.00m\"},\n                  \
             {\"lv_name\":\"a\\\"b\", \"lv_size\":\"0 \"}\n              ]\n          }\n      ]\n  }\n"
        );
        assert_eq!(
            json("seg", &fields, &[]),
            "  {\n      \"report\": [\n          {\n              \"seg\": [\n              ]\n          }\n      ]\n  }\n"
        );
    }
}
