//! `java.util.Date.toString()` in UTC (`Sun Nov 22 08:27:46 UTC 2026`),
//! as `dump` prints expiry times. Pure.
//!
//! Mirrors: `java.util.Date.toString` with the UTC default time zone.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::common::time::civil_from_unix;

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `EEE MMM dd HH:mm:ss zzz yyyy` for `secs` since the epoch, UTC.
pub fn format_unix(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil_from_unix(secs);
    let weekday = DAYS[secs.div_euclid(86_400).rem_euclid(7) as usize];
    let month = MONTHS[(mo as usize).saturating_sub(1) % 12];
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        weekday, month, d, h, mi, s, y
    )
}

/// [`format_unix`] of a `SystemTime`.
pub fn format(time: SystemTime) -> String {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    format_unix(secs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn java_date_text() {
        assert_eq!(super::format_unix(0), "Thu Jan 01 00:00:00 UTC 1970");
        // [obs] 2026-11-22 was a Sunday.
        assert_eq!(
            super::format_unix(1_795_342_815),
            "Sun Nov 22 10:20:15 UTC 2026"
        );
    }
}
