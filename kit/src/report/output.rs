//! Rendering: lvm2's aligned table (or `--separator` lines) and its JSON shape.

use super::fields::Field;

/// lvm2's basic output: a two-space indent, columns as wide as the wider of the declared width
/// (lvm2's, or its heading's length when it declares none) and the values, joined by one space; numbers right-aligned; every column padded (so lines
/// carry trailing spaces). With `separator`, no padding: values joined by it. Nothing at all for
/// an empty report.
pub(crate) fn basic(
    fields: &[&Field],
    rows: &[Vec<String>],
    headings: bool,
    separator: Option<&str>,
) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        return out;
    }
    if let Some(sep) = separator {
        let mut line = |cells: Vec<&str>| {
            out.push_str("  ");
            out.push_str(&cells.join(sep));
            out.push('\n');
        };
        if headings {
            line(fields.iter().map(|f| f.heading).collect());
        }
        for r in rows {
            line(r.iter().map(String::as_str).collect());
        }
        return out;
    }
    let widths: Vec<usize> = fields
        .iter()
        .enumerate()
        .map(|(c, f)| {
            let values = rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
            f.width.max(values)
        })
        .collect();
    if headings {
        out.push_str("  ");
        // libdm prints a heading in the column's width, cut when longer (`InitImgSyn` until a
        // value widens the column).
        let cells: Vec<String> =
            fields.iter().zip(&widths).map(|(f, &w)| format!("{:<w$.w$}", f.heading)).collect();
        out.push_str(&cells.join(" "));
        out.push('\n');
    }
    for r in rows {
        out.push_str("  ");
        let cells: Vec<String> = fields
            .iter()
            .zip(&widths)
            .zip(r)
            .map(|((f, &w), v)| if f.right { format!("{v:>w$}") } else { format!("{v:<w$}") })
            .collect();
        out.push_str(&cells.join(" "));
        out.push('\n');
    }
    out
}

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
    fn aligned_table_matches_lvm2() {
        let fields = [
            field("pv_name"),
            field("vg_name"),
            field("pv_fmt"),
            field("pv_attr"),
            field("pv_size"),
            field("pv_free"),
        ];
        let rows = vec![
            ["/dev/loop0", "lk_spanning", "lvm2", "a--", "15.00m", "0 "].map(String::from).to_vec(),
            ["/dev/loop1", "lk_spanning", "lvm2", "a--", "15.00m", "4.00m"].map(String::from).to_vec(),
        ];
        assert_eq!(
            basic(&fields, &rows, true, None),
            "  PV         VG          Fmt  Attr PSize  PFree\n  \
             /dev/loop0 lk_spanning lvm2 a--  15.00m    0 \n  \
             /dev/loop1 lk_spanning lvm2 a--  15.00m 4.00m\n"
        );
        assert_eq!(basic(&fields, &[], true, None), "");
        assert_eq!(
            basic(&fields[..2], &[rows[0][..2].to_vec()], false, Some(":")),
            "  /dev/loop0:lk_spanning\n"
        );
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
