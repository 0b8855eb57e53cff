//! Size formatting as lvm2's `--units` / `--nosuffix` do it (lvm2 `display_size`).
//!
//! lvm2's default unit is `r`: human-readable with a `<` in front of a value that printing
//! rounded up (`<4.00m` for 3.996 MiB). `h`/`H` are the same without the `<`; upper-case letters
//! use powers of 1000. Bytes and sectors print without decimals, everything else with two.

use super::ReportError;

/// A parsed `--units` argument plus `--nosuffix`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Units {
    kind: UnitKind,
    /// `--nosuffix` (ignored for the human-readable units, as lvm2 ignores it).
    nosuffix: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum UnitKind {
    /// `h`, `H`, `r`, `R`: the largest unit not above the value.
    Human { si: bool, mark_rounding: bool },
    /// A fixed unit: bytes per unit and the suffix character.
    Fixed { bytes: f64, suffix: char, decimals: usize },
}

impl Default for Units {
    /// lvm2's default (`global/units = "r"`).
    fn default() -> Self {
        Units { kind: UnitKind::Human { si: false, mark_rounding: true }, nosuffix: false }
    }
}

impl Units {
    /// `--units b --nosuffix`: plain byte counts (for typed values).
    pub(crate) fn bytes_nosuffix() -> Units {
        Units { kind: UnitKind::Fixed { bytes: 1.0, suffix: 'B', decimals: 0 }, nosuffix: true }
    }

    /// Parse `--units` (`None` = lvm2's default `r`). Accepts `hHrRbBsSkKmMgGtTpPeE`, optionally
    /// after a number (`4k`: units of 4 KiB, shown with the suffix `U` as lvm2 does).
    pub fn parse(spec: Option<&str>, nosuffix: bool) -> Result<Units, ReportError> {
        let Some(spec) = spec else { return Ok(Units { nosuffix, ..Units::default() }) };
        let bad = || ReportError::BadUnits(spec.to_string());
        let split = spec.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let (num, unit) = spec.split_at(split);
        let mut chars = unit.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else { return Err(bad()) };
        let factor: Option<f64> = if num.is_empty() { None } else { Some(num.parse().map_err(|_| bad())?) };
        let kind = match c {
            'h' | 'H' | 'r' | 'R' => {
                UnitKind::Human { si: c.is_ascii_uppercase(), mark_rounding: matches!(c, 'r' | 'R') }
            }
            _ => {
                let (bytes, suffix, decimals) = match c {
                    'b' | 'B' => (1.0, 'B', 0),
                    's' | 'S' => (512.0, 'S', 0),
                    _ => {
                        let power = "kmgtpe".find(c.to_ascii_lowercase()).ok_or_else(bad)? as i32 + 1;
                        let base: f64 = if c.is_ascii_uppercase() { 1000.0 } else { 1024.0 };
                        (base.powi(power), c, 2)
                    }
                };
                match factor {
                    // A custom multiple ("4k") is shown as generic units.
                    Some(f) if f != 1.0 => UnitKind::Fixed { bytes: bytes * f, suffix: 'U', decimals: 2 },
                    _ => UnitKind::Fixed { bytes, suffix, decimals },
                }
            }
        };
        Ok(Units { kind, nosuffix })
    }

    /// Format a size given in bytes.
    pub fn bytes(&self, bytes: u64) -> String {
        match self.kind {
            UnitKind::Human { si, mark_rounding } => {
                if bytes == 0 {
                    // lvm2 prints the "unknown unit" suffix, a space.
                    return "0 ".to_string();
                }
                let base: u64 = if si { 1000 } else { 1024 };
                let letters = if si {
                    ['B', 'K', 'M', 'G', 'T', 'P', 'E']
                } else {
                    ['B', 'k', 'm', 'g', 't', 'p', 'e']
                };
                let mut unit = base.pow(6);
                let mut i = 6;
                while i > 0 && bytes < unit {
                    unit /= base;
                    i -= 1;
                }
                let decimals = if i == 0 { 0 } else { 2 };
                let suffix = letters[i].to_string();
                if !si {
                    return binary(bytes, 10 * i as u32, decimals, mark_rounding, &suffix);
                }
                number(bytes as f64 / unit as f64, decimals, mark_rounding, &suffix)
            }
            UnitKind::Fixed { bytes: per, suffix, decimals } => {
                let suffix = if self.nosuffix { String::new() } else { suffix.to_string() };
                if bytes == 0 {
                    return format!("0{suffix}");
                }
                if per.fract() == 0.0 && (per as u64).is_power_of_two() {
                    return binary(bytes, (per as u64).trailing_zeros(), decimals, false, &suffix);
                }
                number(bytes as f64 / per, decimals, false, &suffix)
            }
        }
    }

    /// Format a size given in 512-byte sectors.
    pub fn sectors(&self, sectors: u64) -> String {
        self.bytes(sectors.saturating_mul(512))
    }
}

/// [`number`] for `bytes / 2^shift` with 0 or 2 decimals, in integers. The double lvm2 formats
/// is exact here, so round-half-even on the exact quotient is what glibc's `%.2f` prints —
/// without the float-to-decimal machinery that was a tenth of a 1000-LV report.
fn binary(bytes: u64, shift: u32, decimals: usize, mark_rounding: bool, suffix: &str) -> String {
    let scale: u128 = if decimals == 2 { 100 } else { 1 };
    let scaled = u128::from(bytes) * scale;
    let mut q = scaled >> shift;
    let r = scaled - (q << shift);
    let half = if shift == 0 { 0 } else { 1u128 << (shift - 1) };
    let up = shift > 0 && (r > half || (r == half && q & 1 == 1));
    if up {
        q += 1;
    }
    let mark = if mark_rounding && up { "<" } else { "" };
    if decimals == 2 {
        format!("{mark}{}.{:02}{suffix}", q / 100, q % 100)
    } else {
        format!("{mark}{q}{suffix}")
    }
}

/// `%.Nf` (ties to even on the exact binary value, like glibc), with lvm2's `<` when the
/// printed value is above the real one.
fn number(value: f64, decimals: usize, mark_rounding: bool, suffix: &str) -> String {
    let text = format!("{value:.decimals$}");
    let rounded_up = mark_rounding && text.parse::<f64>().is_ok_and(|p| p > value);
    format!("{}{text}{suffix}", if rounded_up { "<" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(spec: &str) -> Units {
        Units::parse(Some(spec), false).unwrap()
    }

    #[test]
    fn default_is_human_with_rounding_mark() {
        let d = Units::default();
        assert_eq!(d.bytes(29360128), "28.00m");
        assert_eq!(d.bytes(4190208), "<4.00m"); // 1023 × 4 KiB
        assert_eq!(d.bytes(4100096), "3.91m"); // rounded down: no mark
        assert_eq!(d.bytes(1441792), "<1.38m"); // 1.375 prints 1.38 (tie to even)
        assert_eq!(d.bytes(1179648), "1.12m"); // 1.125 prints 1.12
        assert_eq!(d.bytes(1044480), "1020.00k");
        assert_eq!(d.bytes(0), "0 ");
        assert_eq!(d.bytes(11632640), "11.09m");
        assert_eq!(d.bytes(85_895_348_224), "<80.00g");
    }

    /// The integer path prints exactly what the float path (glibc's `%.2f`) prints. Sizes stay
    /// under 16 TiB: far above that, the float path's check for the `<` mark (re-parsing the
    /// printed text) loses the last digit to double rounding, while the integer path is exact.
    #[test]
    fn binary_matches_float_formatting() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for shift in [0u32, 9, 10, 20, 30, 40] {
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly sizes near tie points: multiples of small powers of two.
                let bytes = (x >> (x % 40)) & ((1 << 44) - 1);
                for (dec, mark) in [(2, true), (2, false), (0, false)] {
                    let want = number(bytes as f64 / (1u64 << shift) as f64, dec, mark, "m");
                    assert_eq!(binary(bytes, shift, dec, mark, "m"), want, "{bytes} >> {shift}");
                }
            }
        }
    }

    #[test]
    fn human_without_mark_and_si() {
        assert_eq!(u("h").bytes(4190208), "4.00m");
        assert_eq!(u("H").bytes(4096), "4.10K");
        assert_eq!(u("R").bytes(4096), "<4.10K");
        assert_eq!(u("H").bytes(1044480), "1.04M");
        assert_eq!(u("h").bytes(512), "512B");
        // --nosuffix does not apply to human units.
        assert_eq!(Units::parse(Some("h"), true).unwrap().bytes(8388608), "8.00m");
    }

    #[test]
    fn fixed_units() {
        assert_eq!(u("b").bytes(4096), "4096B");
        assert_eq!(u("B").bytes(4096), "4096B");
        assert_eq!(u("s").bytes(4096), "8S");
        assert_eq!(u("k").bytes(1044480), "1020.00k");
        assert_eq!(u("K").bytes(4096), "4.10K");
        assert_eq!(u("m").bytes(4096), "0.00m");
        assert_eq!(u("g").bytes(0), "0g");
        assert_eq!(u("s").bytes(0), "0S");
        let b = Units::parse(Some("b"), true).unwrap();
        assert_eq!(b.bytes(8388608), "8388608");
        assert_eq!(b.bytes(0), "0");
        assert_eq!(u("4k").bytes(8192), "2.00U");
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "x", "kk", "4", "1.2.3m"] {
            assert!(Units::parse(Some(bad), false).is_err(), "{bad}");
        }
    }
}
