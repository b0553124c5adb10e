//! Tests of the retry schedule.

use std::time::Duration;

use kycd_webhooks::{MAX_ATTEMPTS, RETRY_DELAYS_SECS, next_retry_delay};

#[test]
fn schedule_without_jitter() {
    let expected = [5, 300, 1800, 7200, 18000, 36000, 36000];
    assert_eq!(RETRY_DELAYS_SECS, expected);
    for (i, secs) in expected.iter().enumerate() {
        let attempt = i as u32 + 1;
        assert_eq!(
            next_retry_delay(attempt, 0.5),
            Some(Duration::from_secs(*secs)),
            "after attempt {attempt}"
        );
    }
    assert_eq!(MAX_ATTEMPTS, 8);
    assert_eq!(next_retry_delay(MAX_ATTEMPTS, 0.5), None);
    assert_eq!(next_retry_delay(9, 0.5), None);
    assert_eq!(next_retry_delay(u32::MAX, 0.5), None);
    // 1 first attempt + 7 retries.
    let retries = (1..)
        .take_while(|&n| next_retry_delay(n, 0.3).is_some())
        .count();
    assert_eq!(retries as u32 + 1, MAX_ATTEMPTS);
    // Attempt 0 is treated as the first.
    assert_eq!(next_retry_delay(0, 0.5), Some(Duration::from_secs(5)));
}

#[test]
fn jitter_is_plus_minus_ten_percent() {
    assert_eq!(next_retry_delay(1, 0.0), Some(Duration::from_millis(4500)));
    assert_eq!(next_retry_delay(1, 1.0), Some(Duration::from_millis(5500)));
    assert_eq!(next_retry_delay(2, 0.0), Some(Duration::from_secs(270)));
    assert_eq!(next_retry_delay(2, 1.0), Some(Duration::from_secs(330)));
    assert_eq!(next_retry_delay(7, 0.25), Some(Duration::from_secs(34200)));
    for attempt in 1..MAX_ATTEMPTS {
        let base = Duration::from_secs(RETRY_DELAYS_SECS[attempt as usize - 1]);
        let mut prev = Duration::ZERO;
        for step in 0..=100 {
            let j = f64::from(step) / 100.0;
            let d = next_retry_delay(attempt, j).unwrap();
            assert!(
                d >= base.mul_f64(0.9) && d <= base.mul_f64(1.1),
                "{attempt} {j} {d:?}"
            );
            assert!(d >= prev, "monotonic in jitter");
            prev = d;
        }
    }
}

#[test]
fn out_of_range_jitter_is_clamped() {
    assert_eq!(next_retry_delay(1, -3.0), Some(Duration::from_millis(4500)));
    assert_eq!(next_retry_delay(1, 7.0), Some(Duration::from_millis(5500)));
    assert_eq!(next_retry_delay(1, f64::NAN), Some(Duration::from_secs(5)));
    assert_eq!(
        next_retry_delay(1, f64::INFINITY),
        Some(Duration::from_millis(5500))
    );
    assert_eq!(
        next_retry_delay(1, f64::NEG_INFINITY),
        Some(Duration::from_millis(4500))
    );
}
