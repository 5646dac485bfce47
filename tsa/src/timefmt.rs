//! Calendar arithmetic for UTC instants: `GeneralizedTime` text with fractional seconds (as
//! TSTInfo.genTime needs it) and RFC 3339 for records and the command line.

use inkan_profiles::time::UnixTime;

/// The calendar conversions live in `inkan_profiles::time`; re-exported for the TSA's callers.
pub use inkan_profiles::time::{civil_from_days, days_from_civil, days_in_month, parse_rfc3339};

/// Whether `days` (since the epoch) is the last day of its month.
pub fn is_last_day_of_month(days: i64) -> bool {
    let (y, m, d) = civil_from_days(days);
    d == days_in_month(y, m)
}

fn push_2(out: &mut String, v: u32) {
    out.push(char::from(b'0' + (v / 10 % 10) as u8));
    out.push(char::from(b'0' + (v % 10) as u8));
}

/// The fraction digits of `nanos` without trailing zeros (empty for zero).
fn fraction(nanos: u32) -> String {
    if nanos == 0 {
        return String::new();
    }
    let s = format!("{nanos:09}");
    s.trim_end_matches('0').to_owned()
}

/// `YYYYMMDDhhmmss[.f*]Z`, the DER form of GeneralizedTime (RFC 3161 §2.4.2: fraction without
/// trailing zeros, no decimal point when the fraction is zero). `digits` limits the fraction to
/// that many digits (truncated, 0..=9).
pub fn generalized_time(t: UnixTime, digits: u32) -> String {
    let secs = t.secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let sod = (secs % 86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let mut out = String::with_capacity(24);
    out.push_str(&format!("{y:04}"));
    push_2(&mut out, m);
    push_2(&mut out, d);
    push_2(&mut out, sod / 3600);
    push_2(&mut out, sod / 60 % 60);
    push_2(&mut out, sod % 60);
    let digits = digits.min(9);
    let scale = 10u32.pow(9 - digits);
    let f = fraction(t.subsec_nanos() / scale * scale);
    if !f.is_empty() {
        out.push('.');
        out.push_str(&f);
    }
    out.push('Z');
    out
}

/// Appends the GeneralizedTime value octets of [`generalized_time`] to `out` without
/// allocating (the hot path of TSTInfo encoding); returns how many bytes were written.
pub fn push_generalized_time(out: &mut Vec<u8>, t: UnixTime, digits: u32) -> usize {
    let secs = t.secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let sod = (secs % 86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    let y = u32::try_from(y.clamp(0, 9999)).unwrap_or(0);
    let mut b = [0u8; 25];
    fn put(b: &mut [u8; 25], i: usize, v: u32, n: usize) {
        let mut v = v;
        for k in (0..n).rev() {
            b[i + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    put(&mut b, 0, y, 4);
    put(&mut b, 4, m, 2);
    put(&mut b, 6, d, 2);
    put(&mut b, 8, sod / 3600, 2);
    put(&mut b, 10, sod / 60 % 60, 2);
    put(&mut b, 12, sod % 60, 2);
    let digits = digits.min(9) as usize;
    let mut len = 14;
    let mut frac = t.subsec_nanos() / 10u32.pow(9 - digits as u32);
    let mut nd = digits;
    while nd > 0 && frac.is_multiple_of(10) {
        frac /= 10;
        nd -= 1;
    }
    if nd > 0 {
        b[14] = b'.';
        put(&mut b, 15, frac, nd);
        len = 15 + nd;
    }
    b[len] = b'Z';
    len += 1;
    out.extend_from_slice(&b[..len]);
    len
}

/// RFC 3339 in UTC, e.g. `2026-11-23T01:02:03.25Z`.
pub fn rfc3339(t: UnixTime) -> String {
    let g = generalized_time(t, 9);
    // YYYYMMDDhhmmss[.f]Z -> YYYY-MM-DDThh:mm:ss[.f]Z
    format!(
        "{}-{}-{}T{}:{}:{}",
        &g[0..4],
        &g[4..6],
        &g[6..8],
        &g[8..10],
        &g[10..12],
        &g[12..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_generalized_time_matches() {
        for (secs, nanos) in [
            (1_795_395_723u64, 0u32),
            (1_795_395_723, 250_000_000),
            (1_795_395_723, 123_456_789),
            (0, 1_000),
            (253_402_300_799, 999_999_999),
            (951_782_400, 10),
        ] {
            let t = UnixTime::new(secs, nanos);
            for digits in [0, 3, 6, 9] {
                let mut v = Vec::new();
                let n = push_generalized_time(&mut v, t, digits);
                assert_eq!(n, v.len());
                assert_eq!(
                    v,
                    generalized_time(t, digits).as_bytes(),
                    "{secs}.{nanos} {digits}"
                );
            }
        }
    }

    #[test]
    fn generalized_time_drops_trailing_zeros() {
        // 2026-11-23T01:02:03Z
        let t = UnixTime::new(1_795_395_723, 0);
        assert_eq!(generalized_time(t, 6), "20261123010203Z");
        let t = UnixTime::new(1_795_395_723, 250_000_000);
        assert_eq!(generalized_time(t, 6), "20261123010203.25Z");
        let t = UnixTime::new(1_795_395_723, 123_456_789);
        assert_eq!(generalized_time(t, 6), "20261123010203.123456Z");
        assert_eq!(generalized_time(t, 0), "20261123010203Z");
    }

    #[test]
    fn rfc3339_round_trip() {
        let t = UnixTime::new(1_795_395_723, 250_000_000);
        assert_eq!(rfc3339(t), "2026-11-23T01:02:03.25Z");
        assert_eq!(parse_rfc3339("2026-11-23T01:02:03.25Z"), Some(t));
        assert_eq!(
            parse_rfc3339("2026-11-23T10:02:03+09:00"),
            Some(UnixTime::from_secs(1_795_395_723))
        );
        assert_eq!(parse_rfc3339("2026-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-11-23 01:02:03"), None);
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), None);
    }

    #[test]
    fn calendar_edges() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert!(is_last_day_of_month(days_from_civil(2016, 12, 31)));
        assert!(is_last_day_of_month(days_from_civil(2024, 2, 29)));
        assert!(!is_last_day_of_month(days_from_civil(2023, 2, 27)));
    }
}
