//! Where the sandbox is as unkind as Twilio: agents who decline or let it ring, a `<Dial>` that
//! rings for its whole timeout, callbacks that come late, twice or out of order, and REST
//! requests that fail the ways Twilio's do.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use callpark_domain::TelephonyError;

/// What a simulated agent's browser does when a `<Dial>` rings it alone (a retrieve, a
/// ring-back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pickup {
    /// It answers at once.
    #[default]
    Answer,
    /// It declines: the leg ends `busy`, and so does the dial.
    Decline,
    /// Nobody touches it: it rings for the dial's `timeout` and the 5 seconds Twilio adds to
    /// every one, then ends `no-answer`.
    LetRing,
}

/// A failure of one REST request, as Twilio's API fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// 20404: no such call. Nothing happens.
    NotFound,
    /// 20429: too many requests, past the client's retries. Nothing happens.
    RateLimited,
    /// A 5xx: the request may have been acted on; this one was not.
    ServerError,
    /// The request stalls past the client's timeout: it was acted on, but the answer is lost.
    Stall,
}

impl Fault {
    /// Every kind, for reports.
    pub const ALL: [Self; 4] = [
        Self::NotFound,
        Self::RateLimited,
        Self::ServerError,
        Self::Stall,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::NotFound => "20404",
            Self::RateLimited => "20429",
            Self::ServerError => "5xx",
            Self::Stall => "stall",
        }
    }

    /// Whether the request it hits is still carried out (only the answer is lost).
    pub(crate) fn acts(self) -> bool {
        self == Self::Stall
    }

    /// What the request's caller is told.
    pub(crate) fn error(self) -> TelephonyError {
        let said = |s: &str| -> callpark_domain::BoxError { s.to_owned().into() };
        match self {
            Self::NotFound => TelephonyError::NotFound,
            Self::RateLimited => TelephonyError::NotProcessed(said("20429 Too Many Requests")),
            Self::ServerError => TelephonyError::OutcomeUnknown(said("500 Internal Server Error")),
            Self::Stall => TelephonyError::OutcomeUnknown(said("the request timed out")),
        }
    }
}

/// How often callbacks misbehave. Only the callbacks whose answer Twilio ignores (call status,
/// conference status, recording status) are disordered; the requests for TwiML are not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disorder {
    /// The share of callbacks sent twice.
    pub duplicate: f64,
    /// The share of callbacks held back, by up to [`Self::max_delay`], so that later ones
    /// overtake them.
    pub delay: f64,
    /// The longest a held-back callback waits.
    pub max_delay: Duration,
}

impl Disorder {
    /// Callbacks as an ideal network delivers them: once each, in order.
    pub const NONE: Self = Self {
        duplicate: 0.0,
        delay: 0.0,
        max_delay: Duration::ZERO,
    };

    /// Twilio on an ordinary day: a few callbacks in a hundred twice or late, by up to a second.
    pub const GENTLE: Self = Self {
        duplicate: 0.02,
        delay: 0.02,
        max_delay: Duration::from_secs(1),
    };
}

/// What the sandbox is told to do unkindly, and what it has done.
#[derive(Debug, Default)]
pub(crate) struct Mischief {
    state: Mutex<MischiefState>,
}

#[derive(Debug, Default)]
struct MischiefState {
    pickups: HashMap<String, Pickup>,
    /// Faults for the next REST requests, in order.
    queued: VecDeque<Fault>,
    /// The share of REST requests that fail at random, and how.
    fault_rate: f64,
    injected: BTreeMap<Fault, u64>,
    duplicated: u64,
    delayed: u64,
    application_errors: u64,
}

/// How a callback goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub(crate) twice: bool,
    pub(crate) delay: Option<Duration>,
}

impl Mischief {
    fn state(&self) -> MutexGuard<'_, MischiefState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_pickup(&self, client: &str, pickup: Pickup) {
        self.state().pickups.insert(client.to_owned(), pickup);
    }

    pub(crate) fn pickup(&self, client: &str) -> Pickup {
        self.state()
            .pickups
            .get(client)
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn queue(&self, fault: Fault, times: usize) {
        let mut state = self.state();
        state.queued.extend(std::iter::repeat_n(fault, times));
    }

    pub(crate) fn set_fault_rate(&self, rate: f64) {
        self.state().fault_rate = rate;
    }

    /// The fault for the REST request about to be made, if any.
    pub(crate) fn next_fault(&self) -> Option<Fault> {
        let mut state = self.state();
        let fault = state.queued.pop_front().or_else(|| {
            (state.fault_rate > 0.0 && fastrand::f64() < state.fault_rate)
                .then(|| Fault::ALL[fastrand::usize(..Fault::ALL.len())])
        })?;
        *state.injected.entry(fault).or_default() += 1;
        Some(fault)
    }

    /// A call ended because the service did not answer a request for its TwiML.
    pub(crate) fn application_error(&self) {
        self.state().application_errors += 1;
    }

    /// How the next callback goes out under `disorder`.
    pub(crate) fn delivery(&self, disorder: &Disorder) -> Delivery {
        let twice = disorder.duplicate > 0.0 && fastrand::f64() < disorder.duplicate;
        let delay = (disorder.delay > 0.0 && fastrand::f64() < disorder.delay)
            .then(|| disorder.max_delay.mul_f64(fastrand::f64()));
        let mut state = self.state();
        state.duplicated += u64::from(twice);
        state.delayed += u64::from(delay.is_some());
        Delivery { twice, delay }
    }

    /// Every fault and disorder injected so far, by kind.
    pub(crate) fn report(&self) -> BTreeMap<&'static str, u64> {
        let state = self.state();
        let mut report: BTreeMap<&'static str, u64> = Fault::ALL
            .iter()
            .map(|f| (f.name(), state.injected.get(f).copied().unwrap_or(0)))
            .collect();
        report.insert("duplicated callback", state.duplicated);
        report.insert("late callback", state.delayed);
        report.insert("application error", state.application_errors);
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_go_out_as_the_disorder_says() {
        let mischief = Mischief::default();
        for _ in 0..100 {
            let ideal = mischief.delivery(&Disorder::NONE);
            assert_eq!(
                ideal,
                Delivery {
                    twice: false,
                    delay: None
                }
            );
        }
        let chaos = Disorder {
            duplicate: 1.0,
            delay: 1.0,
            max_delay: Duration::from_millis(50),
        };
        for _ in 0..100 {
            let d = mischief.delivery(&chaos);
            assert!(d.twice);
            assert!(d.delay.is_some_and(|d| d <= Duration::from_millis(50)));
        }
        let report = mischief.report();
        assert_eq!(
            (report["duplicated callback"], report["late callback"]),
            (100, 100)
        );
    }

    #[test]
    fn queued_faults_come_first_and_in_order_then_the_rate_decides() {
        let mischief = Mischief::default();
        mischief.queue(Fault::Stall, 1);
        mischief.queue(Fault::NotFound, 2);
        let next: Vec<_> = (0..4).map(|_| mischief.next_fault()).collect();
        assert_eq!(
            next,
            [
                Some(Fault::Stall),
                Some(Fault::NotFound),
                Some(Fault::NotFound),
                None
            ]
        );
        mischief.set_fault_rate(1.0);
        assert!((0..50).all(|_| mischief.next_fault().is_some()));
        let report = mischief.report();
        assert_eq!(report.values().sum::<u64>(), 53);
        assert!(matches!(
            Fault::RateLimited.error(),
            TelephonyError::NotProcessed(_)
        ));
        assert!(matches!(Fault::NotFound.error(), TelephonyError::NotFound));
        assert!(Fault::Stall.acts() && !Fault::ServerError.acts());
    }

    #[test]
    fn agents_answer_unless_they_chose_otherwise() {
        let mischief = Mischief::default();
        assert_eq!(mischief.pickup("demo.bob"), Pickup::Answer);
        mischief.set_pickup("demo.bob", Pickup::LetRing);
        assert_eq!(mischief.pickup("demo.bob"), Pickup::LetRing);
        assert_eq!(mischief.pickup("demo.alice"), Pickup::Answer);
    }
}
