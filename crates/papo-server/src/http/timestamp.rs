//! Timestamps as the API writes them: RFC 3339 in UTC, with the milliseconds when there are
//! any (`2026-12-04T22:38:09.12Z`), as the `time` crate's `Rfc3339` format writes them.
//!
//! Every message a client receives carries one (`created_at`), so it is written by hand
//! from the date's arithmetic: through `time`'s formatter it cost 552 instructions a
//! message on S4's send path (`bench/callgrind`, about a twentieth of the send itself),
//! here 306 (120 of them the `String`: its allocation and the check that it is UTF-8). Since
//! 2026-12-05 it is appended to the message's JSON instead (286 in `callgrind`).

/// 10000-01-01T00:00:00Z in Unix milliseconds: the first instant RFC 3339's four-digit year
/// cannot write.
const YEAR_10000_MS: i64 = 253_402_300_800_000;
const MS_PER_DAY: i64 = 86_400_000;

/// Formats Unix milliseconds as an RFC 3339 UTC timestamp (an empty string for an instant
/// RFC 3339 cannot write: before year 0 or after year 9999).
pub fn rfc3339(unix_ms: i64) -> String {
    let mut out = String::new();
    push_rfc3339(&mut out, unix_ms);
    out
}

/// Appends what [`rfc3339`] returns to `out`: the send path writes a new message's times
/// into its JSON this way, without a `String` of their own.
pub fn push_rfc3339(out: &mut String, unix_ms: i64) {
    if !(0..YEAR_10000_MS).contains(&unix_ms) {
        // Before 1970 or past 9999: never a stored time, written by the library.
        out.push_str(&by_library(unix_ms));
        return;
    }
    // In range: neither part is negative, and both fit a `u32`.
    let (days, ms_of_day) = ((unix_ms / MS_PER_DAY) as u32, (unix_ms % MS_PER_DAY) as u32);
    let (year, month, day) = civil_from_days(days);
    let secs = ms_of_day / 1000;
    let mut stamp = *b"0000-00-00T00:00:00.000Z";
    stamp[0..2].copy_from_slice(pair(year / 100));
    stamp[2..4].copy_from_slice(pair(year % 100));
    stamp[5..7].copy_from_slice(pair(month));
    stamp[8..10].copy_from_slice(pair(day));
    stamp[11..13].copy_from_slice(pair(secs / 3600));
    stamp[14..16].copy_from_slice(pair(secs / 60 % 60));
    stamp[17..19].copy_from_slice(pair(secs % 60));
    let ms = ms_of_day % 1000;
    let len = if ms == 0 {
        19
    } else {
        stamp[20] = b'0' + (ms / 100) as u8;
        stamp[21..23].copy_from_slice(pair(ms % 100));
        // As many digits as the milliseconds need: trailing zeros are left out.
        let digits = if ms % 100 == 0 {
            1
        } else if ms % 10 == 0 {
            2
        } else {
            3
        };
        20 + digits
    };
    stamp[len] = b'Z';
    // Only ASCII digits and separators were written: this cannot fail.
    out.push_str(std::str::from_utf8(&stamp[..=len]).unwrap_or_default());
}

/// The two decimal digits of `n` (< 100).
fn pair(n: u32) -> &'static [u8] {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let i = 2 * n as usize;
    &PAIRS[i..i + 2]
}

/// `(year, month, day)` of the `days`-th day after 1970-01-01, by the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`, for the days of years 1970 to 9999).
fn civil_from_days(days: u32) -> (u32, u32, u32) {
    // Days since 0000-03-01, so that a leap day ends its year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u32::from(month <= 2);
    (year, month, day)
}

/// The `time` crate's RFC 3339, for the instants the hand-written path leaves out.
fn by_library(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_the_time_crate_writes() {
        let mut cases = vec![
            0,
            1,
            10,
            100,
            120,
            999,
            1_000,
            MS_PER_DAY - 1,
            951_782_400_000,     // 2000-02-29
            951_868_799_999,     // 2000-02-29T23:59:59.999
            1_709_164_800_123,   // 2024-02-29
            4_107_456_000_000,   // 2100-02-28
            4_107_542_400_000,   // 2100-03-01 (2100 has no leap day)
            1_796_425_089_120,   // 2026-12-04T22:58:09.12
            YEAR_10000_MS - 1,   // the last instant of 9999
            YEAR_10000_MS,       // past it: nothing
            -1,                  // before 1970
            -62_167_219_200_000, // 0000-01-01
            i64::MIN,
            i64::MAX,
        ];
        // Days and milliseconds all over the four-digit years (a fixed linear congruence).
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            cases.push((x >> 1) as i64 % YEAR_10000_MS);
        }
        for ms in cases {
            assert_eq!(rfc3339(ms), by_library(ms), "{ms} ms");
        }
    }

    #[test]
    fn leaves_out_the_zeros_that_end_the_milliseconds() {
        assert_eq!(rfc3339(1_796_425_089_000), "2026-12-04T22:58:09Z");
        assert_eq!(rfc3339(1_796_425_089_100), "2026-12-04T22:58:09.1Z");
        assert_eq!(rfc3339(1_796_425_089_120), "2026-12-04T22:58:09.12Z");
        assert_eq!(rfc3339(1_796_425_089_123), "2026-12-04T22:58:09.123Z");
        assert_eq!(rfc3339(1_796_425_089_003), "2026-12-04T22:58:09.003Z");
        assert_eq!(rfc3339(YEAR_10000_MS), "");
    }

    #[test]
    fn a_stamp_is_appended_to_what_the_text_holds() {
        let mut out = String::from(r#"{"at":""#);
        push_rfc3339(&mut out, 1_796_425_089_120);
        out.push('"');
        assert_eq!(out, r#"{"at":"2026-12-04T22:58:09.12Z""#);
    }
}
