//! The delivery retry schedule: 8 attempts, about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h apart.

use std::time::Duration;

/// Attempts in all, the first one included.
pub const MAX_ATTEMPTS: u32 = 8;

/// Base delay, in seconds, after failed attempt `n` (index `n - 1`), before
/// jitter.
pub const RETRY_DELAYS_SECS: [u64; (MAX_ATTEMPTS - 1) as usize] =
    [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

/// How long to wait before the next attempt, once attempt number
/// `attempt_number_just_failed` (1-based: 1 is the first delivery) failed;
/// `None` when it was the last ([`MAX_ATTEMPTS`]).
///
/// `jitter` is a number in `0..1` from the caller's RNG; it scales the base
/// delay by `0.9 + 0.2 * jitter`, i.e. ±10% (0.5 gives the exact base delay).
/// Values outside `0..=1` are clamped and NaN counts as 0.5. Attempt 0 is
/// treated as attempt 1.
pub fn next_retry_delay(attempt_number_just_failed: u32, jitter: f64) -> Option<Duration> {
    let index = attempt_number_just_failed.max(1) - 1;
    let base = *RETRY_DELAYS_SECS.get(usize::try_from(index).ok()?)?;
    let jitter = if jitter.is_nan() {
        0.5
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let factor = 0.9 + 0.2 * jitter;
    // At most 36,000,000 ms * 1.1: exact in f64, far from overflow.
    let millis = (base as f64 * 1000.0 * factor).round() as u64;
    Some(Duration::from_millis(millis))
}
