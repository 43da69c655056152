//! The libfaketime offset for leap-second tests: chronyd accepts a pending leap second only on the last day of
//! June or December, so its clock is moved to June 30, 22:30:00 UTC (of the current year if that is past, else of
//! the previous year; a negative offset).

use std::time::{SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The faked time of day: half an hour into 22:xx, so samples a little before or after it (the offset is whole
/// seconds, chronyd's reference time is its last sample's) still read June 30, 22:xx.
const LANDING: i64 = 22 * 3600 + 30 * 60;

/// Seconds to add to `now` (Unix seconds) to land on the latest June 30 22:30:00 UTC not after it.
pub(crate) fn offset_for(now: i64) -> i64 {
    let est = 1970 + now / 31_556_952;
    (est - 2..=est + 1)
        .map(|y| days_from_civil(y, 6, 30) * 86_400 + LANDING)
        .filter(|&t| t <= now)
        .max()
        .map_or(0, |t| t - now)
}

/// [`offset_for`] the current time.
pub(crate) fn offset_now() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    offset_for(now as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn lands_on_june_30_2230() {
        // 2026-11-29T14:07:45Z
        let now = 1_795_961_265;
        let t = now + offset_for(now);
        assert_eq!(t, days_from_civil(2026, 6, 30) * 86_400 + 81_000);
        // 2026-03-01: previous year's June 30
        let now = days_from_civil(2026, 3, 1) * 86_400;
        assert_eq!(
            now + offset_for(now),
            days_from_civil(2025, 6, 30) * 86_400 + 81_000
        );
    }
}
