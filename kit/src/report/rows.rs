//! lvm2's basic report output in all its shapes (`_report_headings`, `_output_field`,
//! `_output_as_columns`, `_output_as_rows` in `libdm/libdm-report.c`, options as
//! `tools/reporter.c` `_config_report` combines them): aligned or not, any separator, headings
//! or not, `--nameprefixes` (`LVM2_FIELD='value'`, `--unquoted` without the quotes), and
//! `--rows` (one line per field).

use super::fields::Field;

/// How the basic report is laid out.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// Print the heading line (or heading column with `--rows`).
    pub headings: bool,
    /// Pad every value to its column's width (right-aligned for numbers and sizes).
    pub aligned: bool,
    /// Between values (`--separator`, default one space).
    pub separator: String,
    /// `--nameprefixes`: `LVM2_<FIELD>=` before each value.
    pub prefixes: bool,
    /// Quote prefixed values (not `--unquoted`).
    pub quoted: bool,
    /// `--rows`: one line per field.
    pub as_rows: bool,
}

impl Layout {
    /// lvm2's rules for combining the options: a separator turns alignment off unless
    /// `--aligned` is given, `--nameprefixes` always turns it off, and `--rows` is never
    /// aligned.
    pub(crate) fn from_options(
        separator: Option<&str>,
        aligned: bool,
        noheadings: bool,
        nameprefixes: bool,
        unquoted: bool,
        rows: bool,
    ) -> Layout {
        let mut al = separator.is_none() || aligned;
        if nameprefixes {
            al = false;
        }
        if rows {
            al = false;
        }
        Layout {
            headings: !noheadings,
            aligned: al,
            separator: separator.unwrap_or(" ").to_string(),
            prefixes: nameprefixes,
            quoted: !unquoted,
            as_rows: rows,
        }
    }
}

/// One value as `_output_field` prints it.
fn field_text(l: &Layout, f: &Field, width: usize, v: &str, out: &mut String) {
    if l.prefixes {
        out.push_str("LVM2_");
        out.push_str(&f.name.to_ascii_uppercase());
        out.push('=');
        if l.quoted {
            out.push('\'');
        }
    }
    if l.aligned {
        let pad = width.saturating_sub(v.chars().count());
        if f.right {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(v);
        } else {
            out.push_str(v);
            out.extend(std::iter::repeat_n(' ', pad));
        }
    } else {
        out.push_str(v);
    }
    if l.prefixes && l.quoted {
        out.push('\'');
    }
}

/// The report text: nothing at all when there are no rows, as lvm2 prints nothing.
pub(crate) fn render(l: &Layout, fields: &[&Field], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        return out;
    }
    let widths: Vec<usize> = fields
        .iter()
        .enumerate()
        .map(|(c, f)| {
            // lvm2's declared width (its heading's length when it declares none) or the widest
            // value; a longer heading is cut (`InitImgSyn`).
            let values = rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
            f.width.max(values)
        })
        .collect();
    if l.as_rows {
        for (c, f) in fields.iter().enumerate() {
            out.push_str("  ");
            if l.headings {
                out.push_str(f.heading);
                out.push_str(&l.separator);
            }
            for (n, r) in rows.iter().enumerate() {
                if n > 0 {
                    out.push_str(&l.separator);
                }
                field_text(l, f, widths[c], &r[c], &mut out);
            }
            out.push('\n');
        }
        return out;
    }
    if l.headings {
        out.push_str("  ");
        for (c, f) in fields.iter().enumerate() {
            if c > 0 {
                out.push_str(&l.separator);
            }
            if l.aligned {
                out.push_str(&format!("{:<w$.w$}", f.heading, w = widths[c]));
            } else {
                out.push_str(f.heading);
            }
        }
        out.push('\n');
    }
    for r in rows {
        out.push_str("  ");
        for (c, f) in fields.iter().enumerate() {
            if c > 0 {
                out.push_str(&l.separator);
            }
            field_text(l, f, widths[c], &r[c], &mut out);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fields::FIELDS;
    use super::*;

    fn field(name: &str) -> &'static Field {
        FIELDS.iter().find(|f| f.name == name).unwrap()
    }

    fn lay(sep: Option<&str>, headings: bool) -> Layout {
        Layout::from_options(sep, false, !headings, false, false, false)
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
            render(&lay(None, true), &fields, &rows),
            "  PV         VG          Fmt  Attr PSize  PFree\n  \
             /dev/loop0 lk_spanning lvm2 a--  15.00m    0 \n  \
             /dev/loop1 lk_spanning lvm2 a--  15.00m 4.00m\n"
        );
        assert_eq!(render(&lay(None, true), &fields, &[]), "");
        assert_eq!(
            render(&lay(Some(":"), false), &fields[..2], &[rows[0][..2].to_vec()]),
            "  /dev/loop0:lk_spanning\n"
        );
    }

    #[test]
    fn shapes_like_lvm2() {
        let fields = [field("lv_name"), field("lv_size")];
        let rows =
            vec![["thin1", "16.00m"].map(String::from).to_vec(), ["tp", "8.00m"].map(String::from).to_vec()];
        let o = |sep: Option<&str>, aligned, noh, pfx, unq, as_rows| {
            render(&Layout::from_options(sep, aligned, noh, pfx, unq, as_rows), &fields, &rows)
        };
        // Printed by lvm2 2.03.16 for the thin image.
        assert_eq!(
            o(None, false, false, true, false, false),
            "  LV LSize\n  LVM2_LV_NAME='thin1' LVM2_LV_SIZE='16.00m'\n  LVM2_LV_NAME='tp' LVM2_LV_SIZE='8.00m'\n"
        );
        assert_eq!(
            o(None, false, true, true, true, false),
            "  LVM2_LV_NAME=thin1 LVM2_LV_SIZE=16.00m\n  LVM2_LV_NAME=tp LVM2_LV_SIZE=8.00m\n"
        );
        assert_eq!(o(None, false, false, false, false, true), "  LV thin1 tp\n  LSize 16.00m 8.00m\n");
        assert_eq!(
            o(Some("|"), true, false, false, false, false),
            "  LV   |LSize \n  thin1|16.00m\n  tp   | 8.00m\n"
        );
        assert_eq!(
            o(Some("|"), false, false, false, false, false),
            "  LV|LSize\n  thin1|16.00m\n  tp|8.00m\n"
        );
    }
}
