//! Timestamps (`xsd:dateTimeStamp`, RFC 3339 with a mandatory offset) and
//! time zone offsets, with integer arithmetic only.

use std::fmt;

/// A point in time as written in the event, plus its UTC value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    original: String,
    /// UTC milliseconds since 1970-01-01T00:00:00Z, rounded half up at the
    /// fourth decimal of the seconds (as the event hash requires).
    utc_millis: i64,
    /// Offset of the written form from UTC, in minutes.
    offset_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(pub String);

impl Timestamp {
    /// Parse `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`.
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        let fail = |why: &str| {
            TimeError(format!(
                "'{text}' is not a timestamp of the form YYYY-MM-DDThh:mm:ss[.sss](Z|±hh:mm): {why}"
            ))
        };
        let b = text.as_bytes();
        if b.len() < 20 {
            return Err(fail("too short"));
        }
        let year = digits(b, 0, 4).ok_or_else(|| fail("year"))?;
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return Err(fail("separators"));
        }
        let month = digits(b, 5, 2).ok_or_else(|| fail("month"))?;
        let day = digits(b, 8, 2).ok_or_else(|| fail("day"))?;
        let hour = digits(b, 11, 2).ok_or_else(|| fail("hour"))?;
        let minute = digits(b, 14, 2).ok_or_else(|| fail("minute"))?;
        let second = digits(b, 17, 2).ok_or_else(|| fail("second"))?;
        if year == 0 {
            return Err(fail("year 0000"));
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(fail("no such date"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(fail("no such time of day"));
        }
        let mut i = 19;
        let mut millis = 0i64;
        let mut round_up = false;
        if b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                let d = i64::from(b[i] - b'0');
                match i - start {
                    0 => millis += d * 100,
                    1 => millis += d * 10,
                    2 => millis += d,
                    3 => round_up = d >= 5,
                    _ => {}
                }
                i += 1;
            }
            if i == start {
                return Err(fail("empty fraction of a second"));
            }
        }
        let offset_minutes = match &b[i..] {
            b"Z" => 0,
            rest => parse_offset(rest).ok_or_else(|| fail("offset must be Z or ±hh:mm"))?,
        };
        let days = days_from_civil(i64::from(year), month, day);
        let local_millis = ((days * 24 + i64::from(hour)) * 60 + i64::from(minute)) * 60_000
            + i64::from(second) * 1000
            + millis
            + i64::from(round_up);
        Ok(Self {
            original: text.to_owned(),
            utc_millis: local_millis - i64::from(offset_minutes) * 60_000,
            offset_minutes,
        })
    }

    /// The timestamp as captured.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// UTC milliseconds since the Unix epoch (for indexing and ordering).
    pub fn utc_millis(&self) -> i64 {
        self.utc_millis
    }

    /// Offset from UTC of the captured form, in minutes.
    pub fn offset_minutes(&self) -> i32 {
        self.offset_minutes
    }

    /// `YYYY-MM-DDThh:mm:ss.sssZ`: the form used in the pre-hash string.
    pub fn to_utc_string(&self) -> String {
        format_utc_millis(self.utc_millis)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// `YYYY-MM-DDThh:mm:ss.sssZ` for UTC milliseconds since the epoch.
pub fn format_utc_millis(ms: i64) -> String {
    let parts = utc_parts(ms);
    if !(0..=9999).contains(&parts[0]) {
        return format_padded(parts);
    }
    // Every event hash formats its times: digits written straight out
    // instead of through `format!`'s padding machinery.
    let mut out = *b"0000-00-00T00:00:00.000Z";
    for (value, at) in parts
        .into_iter()
        .zip([0..4, 5..7, 8..10, 11..13, 14..16, 17..19, 20..23])
    {
        write_digits(&mut out[at], value);
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// Year, month, day, hour, minute, second and millisecond of `ms` (UTC).
fn utc_parts(ms: i64) -> [i64; 7] {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let h = in_day / 3_600_000;
    let min = (in_day / 60_000) % 60;
    let s = (in_day / 1000) % 60;
    [y, m, d, h, min, s, in_day % 1000]
}

/// `utc_parts` as RFC 3339 for any year (negative or past 9999 too).
fn format_padded([y, m, d, h, min, s, milli]: [i64; 7]) -> String {
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// Writes `value` (non-negative, fitting) as zero-padded decimal into `out`.
fn write_digits(out: &mut [u8], mut value: i64) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// An `eventTimeZoneOffset`: `+hh:mm` or `-hh:mm` between -14:00 and +14:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZoneOffset {
    minutes: i32,
}

impl TimeZoneOffset {
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        let minutes = parse_offset(text.as_bytes())
            .filter(|m| m.abs() <= 14 * 60)
            .ok_or_else(|| {
                TimeError(format!(
                    "'{text}' is not a time zone offset of the form +hh:mm or -hh:mm within ±14:00"
                ))
            })?;
        Ok(Self { minutes })
    }

    pub fn minutes(self) -> i32 {
        self.minutes
    }
}

impl fmt::Display for TimeZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minutes < 0 { '-' } else { '+' };
        let abs = self.minutes.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
    }
}

fn parse_offset(b: &[u8]) -> Option<i32> {
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = digits(b, 1, 2)?;
    let m = digits(b, 4, 2)?;
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h as i32 * 60 + m as i32))
}

fn digits(b: &[u8], start: usize, len: usize) -> Option<u32> {
    let slice = b.get(start..start + len)?;
    let mut v = 0u32;
    for &c in slice {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's civil calendar algorithms (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn utc_millis_are_formatted_as_before(ms in -100_000_000_000_000i64..400_000_000_000_000i64) {
            let reference = format_padded(utc_parts(ms));
            proptest::prop_assert_eq!(format_utc_millis(ms), reference);
        }
    }

    #[test]
    fn converts_to_utc_millis() {
        let t = Timestamp::parse("2020-03-04T11:00:30.000+01:00").unwrap();
        assert_eq!(t.to_utc_string(), "2020-03-04T10:00:30.000Z");
        assert_eq!(t.utc_millis(), 1_583_316_030_000);
        assert_eq!(t.offset_minutes(), 60);
        let t = Timestamp::parse("1970-01-01T00:00:00Z").unwrap();
        assert_eq!(t.utc_millis(), 0);
        let t = Timestamp::parse("2005-04-03T20:33:31.116-06:00").unwrap();
        assert_eq!(t.to_utc_string(), "2005-04-04T02:33:31.116Z");
    }

    #[test]
    fn rounds_half_up_at_the_fourth_decimal() {
        let r = |s: &str| Timestamp::parse(s).unwrap().to_utc_string();
        assert_eq!(r("2020-01-01T00:00:00.0004Z"), "2020-01-01T00:00:00.000Z");
        assert_eq!(r("2020-01-01T00:00:00.0005Z"), "2020-01-01T00:00:00.001Z");
        assert_eq!(r("2020-01-01T00:00:00.1Z"), "2020-01-01T00:00:00.100Z");
        assert_eq!(r("2020-12-31T23:59:59.9999Z"), "2021-01-01T00:00:00.000Z");
        assert_eq!(r("2022-02-17T11:30:47.0Z"), "2022-02-17T11:30:47.000Z");
    }

    #[test]
    fn rejects_malformed_and_impossible_times() {
        for bad in [
            "22-07-2026",
            "2026-07-22",
            "2026-07-22T06:45:00",
            "2026-07-22 06:45:00Z",
            "2026-02-30T06:45:00Z",
            "2026-07-22T24:00:00Z",
            "2026-07-22T06:45:00.Z",
            "2026-07-22T06:45:00+2:00",
            "2026-07-22T06:45:00+0200",
            "2026-07-22T06:45:00z",
            "0000-01-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "accepted {bad}");
        }
        assert!(Timestamp::parse("2024-02-29T00:00:00Z").is_ok());
        assert!(Timestamp::parse("2023-02-29T00:00:00Z").is_err());
    }

    #[test]
    fn time_zone_offsets() {
        assert_eq!(TimeZoneOffset::parse("+01:00").unwrap().minutes(), 60);
        assert_eq!(
            TimeZoneOffset::parse("-06:30").unwrap().to_string(),
            "-06:30"
        );
        for bad in ["01:00", "+1:00", "+15:00", "Z", "+01:60", "+0100"] {
            assert!(TimeZoneOffset::parse(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 18_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m as u32, d as u32), days);
        }
    }
}
