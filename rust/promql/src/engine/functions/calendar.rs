//! UTC calendar fields of Unix times, for `year()`, `month()`, `hour()`... as
//! Go 1.19's `time.Unix(s, 0).UTC()` gives them (time/time.go). Go counts
//! seconds from an "absolute" epoch billions of years back in wrapping 64-bit
//! arithmetic, so times far outside any real range (`day_of_month(+Inf)`,
//! whose `int64` is the minimum) still get a date, and Prometheus shows it:
//! the same arithmetic here gives the same date.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    /// 0 is Sunday.
    pub weekday: u32,
    /// 1 to 366.
    pub yearday: u32,
}

const SECONDS_PER_DAY: u64 = 86_400;
const DAYS_PER_400_YEARS: u64 = 365 * 400 + 97;
const DAYS_PER_100_YEARS: u64 = 365 * 100 + 24;
const DAYS_PER_4_YEARS: u64 = 365 * 4 + 1;
/// Go's `absoluteZeroYear`: the year of its absolute epoch.
const ABSOLUTE_ZERO_YEAR: i64 = -292_277_022_399;
/// Go's `unixToInternal + internalToAbsolute`: seconds from the absolute
/// epoch to 1970 (exact: (-292277022400 * 365.2425 days) back from year 1,
/// then 1969 years of days forward).
const UNIX_TO_ABSOLUTE: u64 = 9_223_372_028_715_321_600;
/// Days before each month in a common year, and the year's length at the end.
const DAYS_BEFORE: [u32; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Go's `absDate` with `full`: year, month, day, and the day of the year from 0.
fn abs_date(abs: u64) -> (i64, u32, u32, u32) {
    let mut d = abs / SECONDS_PER_DAY;
    let mut n = d / DAYS_PER_400_YEARS;
    let mut y = 400 * n;
    d -= DAYS_PER_400_YEARS * n;
    // The last day of a 400-year cycle's leap century gives 4: make it 3.
    n = d / DAYS_PER_100_YEARS;
    n -= n >> 2;
    y += 100 * n;
    d -= DAYS_PER_100_YEARS * n;
    n = d / DAYS_PER_4_YEARS;
    y += 4 * n;
    d -= DAYS_PER_4_YEARS * n;
    // Likewise the last day of a leap year.
    n = d / 365;
    n -= n >> 2;
    y += n;
    d -= 365 * n;
    let year = (y as i64).wrapping_add(ABSOLUTE_ZERO_YEAR);
    let yday = d as u32;
    let mut day = yday;
    if is_leap(year) {
        if day == 31 + 29 - 1 {
            return (year, 2, 29, yday);
        }
        if day > 31 + 29 - 1 {
            day -= 1;
        }
    }
    // Every month has at least 28 days: guess from 31, correct by one.
    let mut month = day / 31;
    let end = DAYS_BEFORE[month as usize + 1];
    let begin = if day >= end {
        month += 1;
        end
    } else {
        DAYS_BEFORE[month as usize]
    };
    (year, month + 1, day - begin + 1, yday)
}

/// Go's `daysSinceEpoch`: days from the absolute epoch to January 1 of `year`.
fn days_since_epoch(year: i64) -> u64 {
    let mut y = year.wrapping_sub(ABSOLUTE_ZERO_YEAR) as u64;
    let mut n = y / 400;
    y -= 400 * n;
    let mut d = DAYS_PER_400_YEARS.wrapping_mul(n);
    n = y / 100;
    y -= 100 * n;
    d = d.wrapping_add(DAYS_PER_100_YEARS * n);
    n = y / 4;
    y -= 4 * n;
    d = d.wrapping_add(DAYS_PER_4_YEARS * n);
    d.wrapping_add(365 * y)
}

/// Prometheus's `days_in_month`: `32 - time.Date(year, month, 32).Day()`,
/// with the date normalised into the next month as Go's `Date` does.
pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    let mut d = days_since_epoch(year).wrapping_add(u64::from(DAYS_BEFORE[month as usize - 1]));
    if is_leap(year) && month >= 3 {
        d = d.wrapping_add(1);
    }
    d = d.wrapping_add(31);
    32 - abs_date(d.wrapping_mul(SECONDS_PER_DAY)).2
}

pub(crate) fn civil(unix_seconds: i64) -> Civil {
    let abs = (unix_seconds as u64).wrapping_add(UNIX_TO_ABSOLUTE);
    let (year, month, day, yday) = abs_date(abs);
    Civil {
        year,
        month,
        day,
        hour: ((abs % SECONDS_PER_DAY) / 3600) as u32,
        minute: ((abs % 3600) / 60) as u32,
        // The absolute epoch began on a Monday.
        weekday: ((abs.wrapping_add(SECONDS_PER_DAY) % (7 * SECONDS_PER_DAY)) / SECONDS_PER_DAY) as u32,
        yearday: yday + 1,
    }
}

/// Go's `int64(v)` on amd64: truncation, and the minimum for NaN and values
/// out of range (what the CPU's conversion returns).
pub(crate) fn go_int64(v: f64) -> i64 {
    // 2^63 and -2^63, exactly representable.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v) {
        v as i64
    } else {
        i64::MIN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // 2006-01-02 22:04:05 UTC, a Monday.
        let c = civil(1136239445);
        assert_eq!((c.year, c.month, c.day, c.hour, c.minute, c.weekday, c.yearday), (2006, 1, 2, 22, 4, 1, 2));
        assert_eq!(civil(0).weekday, 4);
        assert_eq!(civil(1483191420).yearday, 366);
        assert_eq!(civil(-1).year, 1969);
        assert_eq!((civil(-1).month, civil(-1).day, civil(-1).hour), (12, 31, 23));
        assert_eq!((civil(951782400).month, civil(951782400).day), (2, 29)); // 2000-02-29
        assert_eq!(days_in_month(2016, 2), 29);
        assert_eq!(days_in_month(2017, 2), 28);
        assert_eq!(days_in_month(2000, 12), 31);
        assert_eq!(days_in_month(1900, 2), 28);
    }

    #[test]
    fn agrees_with_the_proleptic_calendar_for_four_centuries() {
        // Day by day from 1800 to 2200, against a plain count of days.
        let (mut year, mut month, mut day, mut weekday) = (1800i64, 1u32, 1u32, 3u32); // a Wednesday
        let mut t = -5_364_662_400i64; // 1800-01-01T00:00:00Z
        while year < 2200 {
            let c = civil(t + 3600 * 13 + 60 * 7);
            assert_eq!((c.year, c.month, c.day, c.weekday, c.hour, c.minute), (year, month, day, weekday, 13, 7));
            t += 86_400;
            weekday = (weekday + 1) % 7;
            day += 1;
            if day > days_in_month(year, month) {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
    }

    #[test]
    fn times_out_of_range_wrap_as_in_go() {
        // What Go 1.19 prints for time.Unix(math.MinInt64, 0).UTC(), the time
        // of int64(+Inf), int64(-Inf) and int64(NaN) on amd64.
        let c = civil(go_int64(f64::INFINITY));
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.weekday, c.yearday),
            (292277026596, 12, 4, 15, 30, 0, 339)
        );
        assert_eq!(days_in_month(c.year, c.month), 31);
        // time.Unix(-1e17, 0).UTC(): -3168871881-04-27 14:13, a Thursday.
        let c = civil(-100_000_000_000_000_000);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.weekday, c.yearday),
            (-3168871881, 4, 27, 14, 13, 4, 117)
        );
        assert_eq!(days_in_month(c.year, c.month), 30);
    }
}
