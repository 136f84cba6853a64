//! Park analytics: what the history of a time range adds up to, per hour or day and per agent.
//! Every figure is a fold over the same parked calls the history lists, so a report never says
//! something the history does not.

use std::collections::BTreeMap;
use std::time::Duration;

use time::OffsetDateTime;

use crate::history::Outcome;
use crate::model::ParkedCall;
use crate::values::AgentIdentity;

/// How long a bucket of a report is. Buckets start on whole hours or days, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// One hour.
    Hour,
    /// One day (UTC).
    Day,
}

impl Bucket {
    /// The snake-case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    /// The inverse of [`Self::as_str`].
    pub fn from_name(s: &str) -> Option<Self> {
        [Self::Hour, Self::Day]
            .into_iter()
            .find(|b| b.as_str() == s)
    }

    /// How long one bucket is.
    pub fn length(self) -> time::Duration {
        match self {
            Self::Hour => time::Duration::HOUR,
            Self::Day => time::Duration::DAY,
        }
    }

    /// The start of the bucket `at` falls in.
    pub fn start_of(self, at: OffsetDateTime) -> OffsetDateTime {
        let at = at.to_offset(time::UtcOffset::UTC);
        let hour = at.replace_minute(0).and_then(|t| t.replace_second(0));
        let hour = hour.and_then(|t| t.replace_nanosecond(0)).unwrap_or(at);
        match self {
            Self::Hour => hour,
            Self::Day => hour.replace_hour(0).unwrap_or(hour),
        }
    }
}

/// The time range a report covers, and its buckets: calls parked at or after `from` and
/// before `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsRange {
    from: OffsetDateTime,
    to: OffsetDateTime,
    bucket: Bucket,
}

/// Why a [`StatsRange`] cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatsRangeError {
    /// `to` is not after `from`.
    #[error("the range is empty: `to` must come after `from`")]
    Empty,
    /// More buckets than a report holds.
    #[error("the range holds more than {max} buckets of one {bucket}", max = StatsRange::MAX_BUCKETS, bucket = .0.as_str())]
    TooManyBuckets(Bucket),
}

impl StatsRange {
    /// The most buckets one report holds (a month of hours, years of days).
    pub const MAX_BUCKETS: usize = 1000;

    /// # Errors
    /// [`StatsRangeError`] when `to` is not after `from`, or the range is too long for the
    /// bucket.
    pub fn new(
        from: OffsetDateTime,
        to: OffsetDateTime,
        bucket: Bucket,
    ) -> Result<Self, StatsRangeError> {
        if to <= from {
            return Err(StatsRangeError::Empty);
        }
        let seconds = |d: time::Duration| u64::try_from(d.whole_seconds()).unwrap_or(u64::MAX);
        let span = seconds(to - bucket.start_of(from));
        let buckets = span.div_ceil(seconds(bucket.length()));
        if buckets > Self::MAX_BUCKETS as u64 {
            return Err(StatsRangeError::TooManyBuckets(bucket));
        }
        Ok(Self { from, to, bucket })
    }

    /// The first instant covered.
    pub fn from(&self) -> OffsetDateTime {
        self.from
    }

    /// The first instant after the range.
    pub fn to(&self) -> OffsetDateTime {
        self.to
    }

    /// How long each bucket is.
    pub fn bucket(&self) -> Bucket {
        self.bucket
    }

    /// The start of every bucket, in order: the first holds `from`, the last holds the instant
    /// before `to`.
    pub fn starts(&self) -> impl Iterator<Item = OffsetDateTime> + '_ {
        let length = self.bucket.length();
        std::iter::successors(Some(self.bucket.start_of(self.from)), move |s| {
            Some(*s + length)
        })
        .take_while(|s| *s < self.to)
    }
}

/// Three points of a distribution of durations, by nearest rank: the p-th percentile is the
/// smallest value that at least p% of the values do not exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    /// The median.
    pub p50: Duration,
    /// Nine in ten are no longer.
    pub p90: Duration,
    /// 99 in 100 are no longer.
    pub p99: Duration,
}

impl Percentiles {
    /// The percentiles of `values`; `None` when there are none.
    pub fn of(mut values: Vec<Duration>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let rank = |p: usize| values[(p * values.len()).div_ceil(100) - 1];
        Some(Self {
            p50: rank(50),
            p90: rank(90),
            p99: rank(99),
        })
    }
}

/// What a set of parked calls adds up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figures {
    /// Calls parked.
    pub parks: u64,
    /// Of them, retrieved by an agent (a retrieve, or the parker answering a ring-back).
    pub retrieved: u64,
    /// Of them, the caller hung up while parked.
    pub abandoned: u64,
    /// Of them, sent to voicemail.
    pub voicemail: u64,
    /// Of them, could not be parked.
    pub failed: u64,
    /// Of them, still in the lot.
    pub live: u64,
    /// Times the deadline rang the parker back.
    pub ringbacks: u64,
    /// How long the retrieved calls waited to be retrieved; `None` without any.
    pub time_to_retrieve: Option<Percentiles>,
    /// The longest time a caller was (or, while live, has been) on hold; `None` without calls.
    pub longest_wait: Option<Duration>,
}

/// The figures of one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketStats {
    /// When the bucket starts.
    pub start: OffsetDateTime,
    /// What the calls parked in it add up to.
    pub figures: Figures,
}

/// One agent's share of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentStats {
    /// The agent.
    pub agent: AgentIdentity,
    /// What the calls the agent parked add up to.
    pub parked: Figures,
    /// Calls the agent retrieved (whoever parked them).
    pub retrieved: u64,
    /// How long the calls the agent retrieved had waited; `None` without any.
    pub time_to_retrieve: Option<Percentiles>,
}

/// A report: the range, each of its buckets (empty ones included, so a chart shows the
/// gaps), the whole range, and each agent who parked or retrieved a call in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkStats {
    /// What it covers.
    pub range: StatsRange,
    /// Every bucket of the range, in order.
    pub buckets: Vec<BucketStats>,
    /// The whole range.
    pub totals: Figures,
    /// Each agent, by identity.
    pub agents: Vec<AgentStats>,
    /// When it was read: how long a live call has been on hold is counted to then.
    pub read_at: OffsetDateTime,
}

/// The running sums behind [`Figures`].
#[derive(Debug, Default)]
struct Tally {
    figures: Figures,
    waits_to_retrieve: Vec<Duration>,
}

impl Tally {
    fn add(&mut self, call: &ParkedCall, now: OffsetDateTime) {
        let f = &mut self.figures;
        f.parks += 1;
        let outcome = Outcome::of(call.state);
        let count = match outcome {
            Outcome::Live => &mut f.live,
            Outcome::Retrieved => &mut f.retrieved,
            Outcome::Abandoned => &mut f.abandoned,
            Outcome::Voicemail => &mut f.voicemail,
            Outcome::Failed => &mut f.failed,
        };
        *count += 1;
        f.ringbacks += u64::from(call.ringbacks);
        let wait = call.time_on_hold(now);
        f.longest_wait = Some(f.longest_wait.map_or(wait, |w| w.max(wait)));
        if outcome == Outcome::Retrieved {
            self.waits_to_retrieve.push(wait);
        }
    }

    fn finish(self) -> Figures {
        Figures {
            time_to_retrieve: Percentiles::of(self.waits_to_retrieve),
            ..self.figures
        }
    }
}

#[derive(Debug, Default)]
struct AgentTally {
    parked: Tally,
    waits_to_retrieve: Vec<Duration>,
}

/// Adds parked calls up into a [`ParkStats`], in any order.
#[derive(Debug)]
pub(crate) struct StatsBuilder {
    range: StatsRange,
    read_at: OffsetDateTime,
    buckets: BTreeMap<OffsetDateTime, Tally>,
    totals: Tally,
    agents: BTreeMap<AgentIdentity, AgentTally>,
}

impl StatsBuilder {
    /// An empty report of `range`, its live calls' waits counted to `read_at`.
    pub(crate) fn new(range: StatsRange, read_at: OffsetDateTime) -> Self {
        Self {
            range,
            read_at,
            buckets: range.starts().map(|s| (s, Tally::default())).collect(),
            totals: Tally::default(),
            agents: BTreeMap::new(),
        }
    }

    /// Counts `call`, if it was parked in the range.
    pub(crate) fn add(&mut self, call: &ParkedCall) {
        let range = self.range;
        if call.parked_at < range.from || call.parked_at >= range.to {
            return;
        }
        let now = self.read_at;
        if let Some(bucket) = self.buckets.get_mut(&range.bucket.start_of(call.parked_at)) {
            bucket.add(call, now);
        }
        self.totals.add(call, now);
        let parker = self.agents.entry(call.parked_by.clone()).or_default();
        parker.parked.add(call, now);
        if let Some(retriever) = call.retrieved_by() {
            let retriever = self.agents.entry(retriever.clone()).or_default();
            retriever.waits_to_retrieve.push(call.time_on_hold(now));
        }
    }

    /// The report.
    pub(crate) fn finish(self) -> ParkStats {
        ParkStats {
            range: self.range,
            buckets: self
                .buckets
                .into_iter()
                .map(|(start, tally)| BucketStats {
                    start,
                    figures: tally.finish(),
                })
                .collect(),
            totals: self.totals.finish(),
            agents: self
                .agents
                .into_iter()
                .map(|(agent, tally)| AgentStats {
                    agent,
                    parked: tally.parked.finish(),
                    retrieved: tally.waits_to_retrieve.len() as u64,
                    time_to_retrieve: Percentiles::of(tally.waits_to_retrieve),
                })
                .collect(),
            read_at: self.read_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use time::macros::datetime;

    use super::{Bucket, Percentiles, StatsRange, StatsRangeError};

    #[track_caller]
    fn check_percentiles(seconds: &[u64], expected: Option<(u64, u64, u64)>) {
        let values = seconds.iter().map(|s| Duration::from_secs(*s)).collect();
        let got =
            Percentiles::of(values).map(|p| (p.p50.as_secs(), p.p90.as_secs(), p.p99.as_secs()));
        assert_eq!(got, expected, "{seconds:?}");
    }

    #[test]
    fn percentiles_are_by_nearest_rank() {
        check_percentiles(&[], None);
        check_percentiles(&[7], Some((7, 7, 7)));
        check_percentiles(&[1, 2], Some((1, 2, 2)));
        check_percentiles(&[5, 1, 4, 2, 3], Some((3, 5, 5)));
        check_percentiles(&(1..=10).collect::<Vec<_>>(), Some((5, 9, 10)));
        check_percentiles(&(1..=100).rev().collect::<Vec<_>>(), Some((50, 90, 99)));
        check_percentiles(&(1..=1000).collect::<Vec<_>>(), Some((500, 900, 990)));
    }

    #[test]
    fn buckets_start_on_whole_utc_hours_and_days() {
        let at = datetime!(2026-12-01 09:41:07.5 +02:00);
        assert_eq!(Bucket::Hour.start_of(at), datetime!(2026-12-01 07:00 UTC));
        assert_eq!(Bucket::Day.start_of(at), datetime!(2026-12-01 00:00 UTC));
    }

    #[track_caller]
    fn check_range(
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
        bucket: Bucket,
        expected: Result<usize, StatsRangeError>,
    ) {
        let got = StatsRange::new(from, to, bucket).map(|r| r.starts().count());
        assert_eq!(got, expected, "{from} .. {to} by {bucket:?}");
    }

    #[test]
    fn a_range_is_cut_into_the_buckets_it_touches() {
        let nine = datetime!(2026-12-01 09:00 UTC);
        check_range(nine, nine + time::Duration::HOUR, Bucket::Hour, Ok(1));
        check_range(
            nine,
            nine + time::Duration::minutes(61),
            Bucket::Hour,
            Ok(2),
        );
        check_range(
            datetime!(2026-12-01 09:30 UTC),
            datetime!(2026-12-01 10:15 UTC),
            Bucket::Hour,
            Ok(2),
        );
        check_range(nine, nine + time::Duration::DAY, Bucket::Day, Ok(2));
        check_range(nine, nine, Bucket::Hour, Err(StatsRangeError::Empty));
        check_range(
            nine,
            nine - time::Duration::SECOND,
            Bucket::Day,
            Err(StatsRangeError::Empty),
        );
        check_range(
            nine,
            nine + time::Duration::HOUR * 1000,
            Bucket::Hour,
            Ok(1000),
        );
        check_range(
            nine,
            nine + time::Duration::HOUR * 1000 + time::Duration::SECOND,
            Bucket::Hour,
            Err(StatsRangeError::TooManyBuckets(Bucket::Hour)),
        );
    }
}
