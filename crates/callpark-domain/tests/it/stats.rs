//! Park analytics agree with the history they summarise: generated lives (retrieved by
//! anyone, hung up, rung back and answered, sent to voicemail, failed, still parked) spread
//! over days, then every figure of the report recomputed from the history pages.

use callpark_domain::testkit::{CallScript, call_sid, organisation};
use callpark_domain::{
    Agent, Bucket, DialOutcome, Figures, HistoryFilter, HistoryQuery, OrgSlug, Outcome, PageLimit,
    ParkState, ParkStats, ParkedCall, StatsRange,
};
use std::collections::BTreeMap;

use crate::support::{World, secs};

/// A small deterministic generator, so a failure replays.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// How a generated life ends.
#[derive(Debug, Clone, Copy)]
enum Ending {
    RetrievedBy(usize),
    HungUp,
    RingbackAnswered,
    Voicemail,
    Failed,
    StillParked,
}

impl World {
    /// One life, from the caller dialling in to its ending, `wait` after the park.
    async fn live(&self, n: u128, parker: &Agent, agents: &[Agent], ending: Ending, wait: u64) {
        let org = self
            .service
            .org(&parker.org)
            .await
            .expect("store")
            .expect("org");
        let (pstn, browser) = (10_000 + n, 20_000 + n);
        self.answered_call(&org, pstn, browser, parker).await;
        if let Ending::Failed = ending {
            self.telephony.script(&call_sid(pstn), CallScript::Refusing);
            self.park(parker, browser, None).await.expect_err("refused");
            self.caller_hangs_up(pstn).await;
            return;
        }
        let parked = self.park(parker, browser, None).await.expect("parked");
        match ending {
            Ending::RetrievedBy(who) => {
                self.advance(secs(wait));
                let retriever = &agents[who];
                self.service
                    .retrieve(retriever, parked.slot, None)
                    .await
                    .expect("retrieving");
                self.answered_then_ended(&parked, n, pstn).await;
            }
            Ending::HungUp => {
                self.advance(secs(wait));
                self.caller_hangs_up(pstn).await;
            }
            Ending::RingbackAnswered | Ending::Voicemail => {
                self.advance(org.max_park);
                let fired = self.service.fire_due_deadlines(10).await.expect("sweep");
                assert_eq!(fired.moved, 1, "rung back");
                self.advance(secs(wait % 30));
                if let Ending::Voicemail = ending {
                    self.service
                        .on_dial_result(parked.id, 1, DialOutcome::NotAnswered)
                        .await
                        .expect("dial result");
                } else {
                    self.answered_then_ended(&parked, n, pstn).await;
                }
            }
            Ending::StillParked => {}
            Ending::Failed => unreachable!("returned above"),
        }
    }

    /// The agent rung for the first attempt answers; later the caller hangs up, which frees
    /// the agent for the next call.
    async fn answered_then_ended(&self, parked: &ParkedCall, n: u128, pstn: u128) {
        self.service
            .on_dial_answered(parked.id, 1, Some(&call_sid(30_000 + n)))
            .await
            .expect("answered");
        self.caller_hangs_up(pstn).await;
    }

    /// Every call of the organisation's history in the range, newest first.
    async fn whole_history(&self, org: &OrgSlug, range: StatsRange) -> Vec<ParkedCall> {
        let mut query = HistoryQuery {
            filter: HistoryFilter {
                parked_from: Some(range.from()),
                parked_before: Some(range.to()),
                ..HistoryFilter::default()
            },
            after: None,
            limit: PageLimit::new(97).expect("a limit"),
        };
        let mut calls = Vec::new();
        loop {
            let page = self.service.history(org, &query).await.expect("history");
            calls.extend(page.calls);
            match page.next {
                Some(next) => query.after = Some(next),
                None => return calls,
            }
        }
    }
}

/// Four agents of acme live 400 calls over about ten days; globex lives a few of its own.
async fn generated_lives() -> (World, Vec<Agent>) {
    let (acme, globex) = (organisation("acme", 20), organisation("globex", 5));
    let w = World::new(&[acme, globex]).await;
    let mut agents = Vec::new();
    for (token, name) in (1..).zip(["alice", "bob", "carol", "dave"]) {
        agents.push(w.agent("acme", name, token).await);
    }
    let gary = w.agent("globex", "gary", 9).await;
    let mut dice = Dice(2026);
    for n in 0..400 {
        let parker = &agents[usize::try_from(dice.roll(4)).expect("small")];
        let ending = match dice.roll(10) {
            0..=4 => Ending::RetrievedBy(usize::try_from(dice.roll(4)).expect("small")),
            5 | 6 => Ending::HungUp,
            7 => Ending::RingbackAnswered,
            8 => Ending::Voicemail,
            _ => Ending::Failed,
        };
        let wait = 1 + dice.roll(290);
        w.live(n, parker, &agents, ending, wait).await;
        if n % 50 == 0 {
            w.live(1000 + n, &gary, &[], Ending::HungUp, wait).await;
        }
        w.advance(secs(dice.roll(5400)));
    }
    for n in 400..403 {
        w.live(n, &agents[0], &agents, Ending::StillParked, 0).await;
        w.advance(secs(dice.roll(600)));
    }
    (w, agents)
}

/// The nearest-rank percentiles of whole seconds, as the report states them.
fn percentiles(mut seconds: Vec<u64>) -> Option<(u64, u64, u64)> {
    seconds.sort_unstable();
    let rank = |p: usize| seconds[(p * seconds.len()).div_ceil(100) - 1];
    (!seconds.is_empty()).then(|| (rank(50), rank(90), rank(99)))
}

/// Figures as the history states them: the counts, then the time to retrieve and the
/// longest wait in whole seconds.
type Stated = (Vec<u64>, Option<(u64, u64, u64)>, Option<u64>);

/// A report's figures.
fn stated(f: &Figures) -> Stated {
    let counts = vec![
        f.parks,
        f.retrieved,
        f.abandoned,
        f.voicemail,
        f.failed,
        f.live,
        f.ringbacks,
    ];
    let ttr = f
        .time_to_retrieve
        .map(|p| (p.p50.as_secs(), p.p90.as_secs(), p.p99.as_secs()));
    (counts, ttr, f.longest_wait.map(|w| w.as_secs()))
}

/// The same figures counted from history records.
fn counted(calls: &[&ParkedCall], read_at: time::OffsetDateTime) -> Stated {
    let with = |o: Outcome| calls.iter().filter(|c| Outcome::of(c.state) == o).count() as u64;
    let counts = vec![
        calls.len() as u64,
        with(Outcome::Retrieved),
        with(Outcome::Abandoned),
        with(Outcome::Voicemail),
        with(Outcome::Failed),
        with(Outcome::Live),
        calls.iter().map(|c| u64::from(c.ringbacks)).sum(),
    ];
    let held = |c: &&&ParkedCall| c.time_on_hold(read_at).as_secs();
    let retrieved = calls.iter().filter(|c| c.state == ParkState::Retrieved);
    let ttr = percentiles(retrieved.map(|c| held(&c)).collect());
    (counts, ttr, calls.iter().map(|c| held(&c)).max())
}

fn check_buckets(report: &ParkStats, history: &[ParkedCall], length: i64) {
    let mut by_start: BTreeMap<i64, Vec<&ParkedCall>> = BTreeMap::new();
    for call in history {
        let start = call.parked_at.unix_timestamp().div_euclid(length) * length;
        by_start.entry(start).or_default().push(call);
    }
    let first = report.range.from().unix_timestamp().div_euclid(length) * length;
    let last = (report.range.to().unix_timestamp() - 1).div_euclid(length) * length;
    let starts: Vec<i64> = report
        .buckets
        .iter()
        .map(|b| b.start.unix_timestamp())
        .collect();
    assert_eq!(
        starts,
        (first..=last)
            .step_by(usize::try_from(length).expect("positive"))
            .collect::<Vec<_>>()
    );
    for bucket in &report.buckets {
        let calls = by_start
            .remove(&bucket.start.unix_timestamp())
            .unwrap_or_default();
        assert_eq!(
            stated(&bucket.figures),
            counted(&calls, report.read_at),
            "bucket {}",
            bucket.start
        );
    }
    assert!(by_start.is_empty(), "every call is in a bucket");
}

fn check_agents(report: &ParkStats, history: &[ParkedCall]) {
    let mut names: Vec<_> = history
        .iter()
        .flat_map(|c| [Some(&c.parked_by), c.retrieved_by()])
        .flatten()
        .collect();
    names.sort();
    names.dedup();
    let reported: Vec<_> = report.agents.iter().map(|a| &a.agent).collect();
    assert_eq!(reported, names);
    for agent in &report.agents {
        let parked: Vec<_> = history
            .iter()
            .filter(|c| c.parked_by == agent.agent)
            .collect();
        assert_eq!(
            stated(&agent.parked),
            counted(&parked, report.read_at),
            "{}",
            agent.agent
        );
        let retrieved: Vec<_> = history
            .iter()
            .filter(|c| c.retrieved_by() == Some(&agent.agent))
            .map(|c| c.time_on_hold(report.read_at).as_secs())
            .collect();
        assert_eq!(agent.retrieved, retrieved.len() as u64, "{}", agent.agent);
        let ttr = agent
            .time_to_retrieve
            .map(|p| (p.p50.as_secs(), p.p90.as_secs(), p.p99.as_secs()));
        assert_eq!(ttr, percentiles(retrieved), "{}", agent.agent);
    }
}

#[tokio::test]
async fn stats_agree_with_the_history_they_summarise() {
    let (w, agents) = generated_lives().await;
    let acme = agents[0].org.clone();
    let now = w.service.now();
    let ranges = [
        // Everything, by the day.
        (now - time::Duration::days(30), now, Bucket::Day),
        // Two days in the middle, by the hour, cut mid-hour at both ends.
        (
            callpark_domain::testkit::epoch() + time::Duration::minutes(3 * 24 * 60 + 17),
            callpark_domain::testkit::epoch() + time::Duration::minutes(5 * 24 * 60 + 43),
            Bucket::Hour,
        ),
    ];
    for (from, to, bucket) in ranges {
        let range = StatsRange::new(from, to, bucket).expect("a range");
        let report = w.service.stats(&acme, range).await.expect("stats");
        let history = w.whole_history(&acme, range).await;
        assert!(history.len() > 20, "{bucket:?}: the range holds calls");
        let length = bucket.length().whole_seconds();
        check_buckets(&report, &history, length);
        check_agents(&report, &history);
        let all: Vec<_> = history.iter().collect();
        assert_eq!(
            stated(&report.totals),
            counted(&all, report.read_at),
            "{bucket:?} totals"
        );
    }
    // The whole range holds every kind of ending, and nothing of globex.
    let range = StatsRange::new(now - time::Duration::days(30), now, Bucket::Day).expect("range");
    let totals = w.service.stats(&acme, range).await.expect("stats").totals;
    assert_eq!(totals.parks, 403);
    for count in [
        totals.retrieved,
        totals.abandoned,
        totals.voicemail,
        totals.failed,
        totals.ringbacks,
    ] {
        assert!(count > 10, "{totals:?}");
    }
    assert_eq!(totals.live, 3);
}
