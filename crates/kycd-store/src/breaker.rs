//! A circuit breaker over database connections: after repeated connection
//! failures it opens and callers fail at once (no pool wait) until a cool-down
//! passes; then one probe is let through (half-open) and its outcome closes or
//! re-opens the circuit. The clock is passed in so the logic is testable.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consecutive connection failures that open the circuit.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;
/// How long an open circuit refuses before it lets a probe through.
pub const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// A probe is out; others are refused until it reports.
    HalfOpen {
        probe_started: Instant,
    },
}

/// What the breaker says about an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Allowed,
    /// Refused: the database was away moments ago; retry after this long.
    Refused { retry_after: Duration },
}

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    state: Mutex<State>,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker::new(DEFAULT_FAILURE_THRESHOLD, DEFAULT_OPEN_FOR)
    }
}

impl Breaker {
    pub fn new(threshold: u32, open_for: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            open_for,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether an attempt may go to the database now.
    pub fn admit(&self, now: Instant) -> Admission {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Admission::Allowed,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen { probe_started: now };
                Admission::Allowed
            }
            State::Open { until } => Admission::Refused {
                retry_after: until - now,
            },
            // A probe that never reported (its task was cancelled) must not
            // keep the circuit half-open for ever.
            State::HalfOpen { probe_started } if now >= probe_started + self.open_for => {
                *state = State::HalfOpen { probe_started: now };
                Admission::Allowed
            }
            State::HalfOpen { .. } => Admission::Refused {
                retry_after: self.open_for,
            },
        }
    }

    /// A connection was obtained: the database is there.
    pub fn success(&self) {
        *self.lock() = State::Closed { failures: 0 };
    }

    /// A connection could not be obtained.
    pub fn failure(&self, now: Instant) {
        let mut state = self.lock();
        *state = match *state {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            State::Open { until } => State::Open { until },
            _ => State::Open {
                until: now + self.open_for,
            },
        };
    }

    /// Whether the circuit is currently refusing (for `/readyz` and metrics).
    pub fn is_open(&self, now: Instant) -> bool {
        matches!(*self.lock(), State::Open { until } if now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_refuses_until_cool_down() {
        let b = Breaker::new(3, Duration::from_secs(1));
        let t0 = Instant::now();
        for _ in 0..2 {
            b.failure(t0);
            assert_eq!(b.admit(t0), Admission::Allowed, "below the threshold");
        }
        b.failure(t0);
        assert!(matches!(b.admit(t0), Admission::Refused { .. }));
        assert!(matches!(
            b.admit(t0 + Duration::from_millis(999)),
            Admission::Refused { .. }
        ));
        assert!(b.is_open(t0));
    }

    #[test]
    fn a_success_resets_the_count() {
        let b = Breaker::new(3, Duration::from_secs(1));
        let t0 = Instant::now();
        b.failure(t0);
        b.failure(t0);
        b.success();
        b.failure(t0);
        b.failure(t0);
        assert_eq!(b.admit(t0), Admission::Allowed);
    }

    #[test]
    fn half_open_lets_one_probe_through_and_its_outcome_decides() {
        let b = Breaker::new(1, Duration::from_secs(1));
        let t0 = Instant::now();
        b.failure(t0);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(b.admit(t1), Admission::Allowed, "the probe");
        assert!(
            matches!(b.admit(t1), Admission::Refused { .. }),
            "one probe at a time"
        );
        b.failure(t1);
        assert!(matches!(
            b.admit(t1 + Duration::from_millis(500)),
            Admission::Refused { .. }
        ));
        let t2 = t1 + Duration::from_secs(1);
        assert_eq!(b.admit(t2), Admission::Allowed);
        b.success();
        assert_eq!(b.admit(t2), Admission::Allowed);
        assert_eq!(b.admit(t2), Admission::Allowed, "closed again");
    }

    #[test]
    fn a_lost_probe_does_not_wedge_the_circuit() {
        let b = Breaker::new(1, Duration::from_secs(1));
        let t0 = Instant::now();
        b.failure(t0);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(b.admit(t1), Admission::Allowed);
        // The probe never reports.
        assert_eq!(b.admit(t1 + Duration::from_secs(1)), Admission::Allowed);
    }
}
