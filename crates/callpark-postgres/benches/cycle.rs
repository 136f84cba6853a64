//! Park + retrieve cycles per second through `PgStore`, against the Postgres at `DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`), in a database of its own that is
//! dropped afterwards.
//!
//! A cycle is what one parked call costs the store: `claim_slot`, then `apply` Parking→Parked,
//! Parked→Retrieving and Retrieving→Retrieved. 16 tasks run cycles concurrently on a pool of 16
//! connections, all in one organisation (the worst case: its writers are serialised by its
//! lot-state row) and spread over 16 organisations.
//!
//! ```text
//! cargo bench -p callpark-postgres --bench cycle
//! ```
//! Criterion reports the throughput in elements per second: one element is one cycle.

#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use callpark_domain::testkit::{agent_identity, call_sid, caller, org_slug, organisation};
use callpark_domain::{
    AutoSlot, LotEventKind, NewParkedCall, ParkState, ParkingStore, Retrieval, SlotRequest,
};
use callpark_postgres::PgStore;
use callpark_postgres::testdb::TestDb;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::OffsetDateTime;

const TASKS: u64 = 16;

/// One park + retrieve cycle of a fresh caller's leg.
async fn cycle(store: &PgStore, org: &str, pstn: u64) {
    let now = OffsetDateTime::now_utc();
    let parking = store
        .claim_slot(&NewParkedCall {
            org: org_slug(org),
            request: SlotRequest::Auto(AutoSlot::FirstFree),
            pstn_call: call_sid(u128::from(pstn)),
            caller: caller(1),
            parked_by: agent_identity("alice"),
            call_started_at: now,
            now,
        })
        .await
        .expect("claimed")
        .call;
    let mut parked = parking.clone();
    parked.state = ParkState::Parked;
    parked.deadline = Some(now + Duration::from_secs(300));
    let parked = store
        .apply(&parking, &parked, LotEventKind::Updated, now)
        .await
        .expect("parked")
        .call;
    let mut retrieving = parked.clone();
    retrieving.state = ParkState::Retrieving;
    retrieving.deadline = None;
    retrieving.retrieval = Some(Retrieval::ByAgent(agent_identity("bob")));
    let retrieving = store
        .apply(&parked, &retrieving, LotEventKind::Retrieving, now)
        .await
        .expect("retrieving")
        .call;
    let mut retrieved = retrieving.clone();
    retrieved.state = ParkState::Retrieved;
    retrieved.ended_at = Some(now);
    store
        .apply(&retrieving, &retrieved, LotEventKind::Retrieved, now)
        .await
        .expect("retrieved");
}

/// Runs `cycles` cycles over [`TASKS`] concurrent tasks; task `i` works in `orgs[i % len]`.
async fn run(
    store: &Arc<PgStore>,
    orgs: &[&'static str],
    cycles: u64,
    next: &Arc<AtomicU64>,
) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store = Arc::clone(store);
            let next = Arc::clone(next);
            let org = orgs[usize::try_from(task).unwrap_or(0) % orgs.len()];
            let mine = cycles / TASKS + u64::from(task < cycles % TASKS);
            tokio::spawn(async move {
                for _ in 0..mine {
                    cycle(&store, org, next.fetch_add(1, Ordering::Relaxed)).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("cycle task");
    }
    started.elapsed()
}

fn park_retrieve_cycles(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let db = runtime.block_on(TestDb::migrated());
    let mut config = db.config();
    config.pool_size = usize::try_from(TASKS).unwrap_or(16);

    const SPREAD: [&str; 16] = [
        "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "t10", "t11", "t12", "t13",
        "t14", "t15",
    ];
    let store = runtime.block_on(async {
        let store = PgStore::connect(&config).await.expect("connected");
        for org in SPREAD.iter().chain(&["one"]) {
            store
                .create_org(&organisation(org, 999))
                .await
                .expect("org created");
        }
        Arc::new(store)
    });
    let next = Arc::new(AtomicU64::new(1));

    let mut group = c.benchmark_group("park_retrieve_cycle");
    group
        .throughput(Throughput::Elements(1))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("16_tasks_one_org", |b| {
        b.iter_custom(|cycles| runtime.block_on(run(&store, &["one"], cycles, &next)));
    });
    group.bench_function("16_tasks_16_orgs", |b| {
        b.iter_custom(|cycles| runtime.block_on(run(&store, &SPREAD, cycles, &next)));
    });
    group.finish();

    // The pool goes before its database.
    drop(store);
    drop(db);
}

criterion_group!(benches, park_retrieve_cycles);
criterion_main!(benches);
