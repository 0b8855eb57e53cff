//! Unix seconds → UTC calendar fields, for the timestamps lvm2 prints (report `lv_time`, the
//! comments of backup files). lvm2 prints local time; lvmkit reads no time zone database.

/// A UTC calendar time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute.
    pub minute: u32,
    /// Second.
    pub second: u32,
    /// Day of the week, 0 = Sunday.
    pub weekday: u32,
}

/// Days from the Unix epoch to the proleptic Gregorian date `year-month-day` (Howard Hinnant's
/// `days_from_civil`; `month` 1–12). The inverse of [`Civil::from_unix`]'s date part.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

impl Civil {
    /// The UTC calendar time of `secs` seconds after the Unix epoch (Howard Hinnant's
    /// `civil_from_days`).
    pub fn from_unix(secs: i64) -> Civil {
        let days = secs.div_euclid(86400);
        let rem = secs.rem_euclid(86400);
        let z = days + 719468;
        let era = z.div_euclid(146097);
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem / 60 % 60) as u32,
            second: (rem % 60) as u32,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let c = Civil::from_unix(1795299400); // Sat Nov 21 22:16:40 2026 (an image's creation_time comment)
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second, c.weekday),
            (2026, 11, 21, 22, 16, 40, 6)
        );
        let e = Civil::from_unix(0);
        assert_eq!((e.year, e.month, e.day, e.weekday), (1970, 1, 1, 4));
        let before = Civil::from_unix(-1);
        assert_eq!((before.year, before.month, before.day, before.hour), (1969, 12, 31, 23));
    }

    #[test]
    fn days_from_civil_inverts_from_unix() {
        for secs in [0i64, -1, 951782400, 1795299400, -86400 * 800_000, 86400 * 3_000_000 + 7] {
            let c = Civil::from_unix(secs);
            let back = days_from_civil(c.year, c.month, c.day) * 86400
                + i64::from(c.hour * 3600 + c.minute * 60 + c.second);
            assert_eq!(back, secs);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
    }
}
