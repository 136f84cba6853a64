//! Races decided by Postgres, with real parallelism: a multi-threaded runtime, spawned tasks,
//! and as many pooled connections as tasks can use.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use callpark_domain::testkit::{
    ManualClock, ScriptedTelephony, StaticUrls, agent_identity, call_sid, caller, epoch, org_slug,
    organisation,
};
use callpark_domain::{
    AutoSlot, CasError, ClaimError, LotEventKind, NewParkedCall, ParkState, ParkedCall,
    ParkingService, ParkingStore, Ports, Retrieval, Sequence, SlotRequest, TimeoutAction,
};
use callpark_postgres::PgStore;

use crate::support::{self, NoEvents};

fn claim(org: &str, request: SlotRequest, pstn: u128) -> NewParkedCall {
    NewParkedCall {
        org: org_slug(org),
        request,
        pstn_call: call_sid(pstn),
        caller: caller(u32::try_from(pstn % 1000).unwrap()),
        parked_by: agent_identity("alice"),
        call_started_at: epoch(),
        now: epoch(),
    }
}

async fn to_parked(store: &PgStore, call: &ParkedCall, deadline_secs: u64) -> ParkedCall {
    let mut next = call.clone();
    next.state = ParkState::Parked;
    next.deadline = Some(epoch() + Duration::from_secs(deadline_secs));
    store
        .apply(call, &next, LotEventKind::Updated, epoch())
        .await
        .expect("parked")
        .call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parks_into_fifty_slots_fill_it_exactly_once() {
    let db = support::TestDb::migrated().await;
    let mut config = db.config();
    config.pool_size = 16;
    let store = Arc::new(PgStore::connect(&config).await.unwrap());
    store.create_org(&organisation("acme", 50)).await.unwrap();

    let parks: Vec<_> = (1..=200u128)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .claim_slot(&claim("acme", SlotRequest::Auto(AutoSlot::FirstFree), n))
                    .await
            })
        })
        .collect();
    let mut slots = Vec::new();
    let mut full = 0;
    for park in parks {
        match park.await.unwrap() {
            Ok(event) => slots.push(event.call.slot),
            Err(ClaimError::LotFull) => full += 1,
            Err(other) => panic!("unexpected claim error: {other:?}"),
        }
    }
    assert_eq!((slots.len(), full), (50, 150));
    let distinct: HashSet<_> = slots.iter().collect();
    assert_eq!(distinct.len(), 50, "no slot was handed out twice");

    let lot = store.lot(&org_slug("acme")).await.unwrap();
    assert_eq!(lot.occupied.len(), 50);
    assert_eq!(
        lot.sequence,
        Sequence::new(50),
        "only the winners wrote events"
    );
    let held_twice = db
        .query(
            "SELECT org, slot FROM parked_calls WHERE state IN ('parking','parked','retrieving') \
             GROUP BY org, slot HAVING count(*) > 1",
        )
        .await;
    assert!(held_twice.is_empty(), "no slot held twice in the table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_twenty_concurrent_retrieves_exactly_one_wins() {
    let db = support::TestDb::migrated().await;
    let mut config = db.config();
    config.pool_size = 20;
    let store = Arc::new(PgStore::connect(&config).await.unwrap());
    store.create_org(&organisation("acme", 5)).await.unwrap();
    let parking = store
        .claim_slot(&claim(
            "acme",
            SlotRequest::Requested(callpark_domain::SlotNumber::new(1).unwrap()),
            1,
        ))
        .await
        .unwrap()
        .call;
    let parked = to_parked(&store, &parking, 300).await;

    let retrieves: Vec<_> = (0..20)
        .map(|n| {
            let store = Arc::clone(&store);
            let parked = parked.clone();
            tokio::spawn(async move {
                let mut next = parked.clone();
                next.state = ParkState::Retrieving;
                next.deadline = None;
                next.retrieval = Some(Retrieval::ByAgent(agent_identity(&format!("agent{n}"))));
                store
                    .apply(&parked, &next, LotEventKind::Retrieving, epoch())
                    .await
            })
        })
        .collect();
    let mut won = Vec::new();
    let mut conflicts = 0;
    for retrieve in retrieves {
        match retrieve.await.unwrap() {
            Ok(event) => won.push(event),
            Err(CasError::Conflict) => conflicts += 1,
            Err(other) => panic!("unexpected CAS error: {other:?}"),
        }
    }
    assert_eq!((won.len(), conflicts), (1, 19));
    let stored = store.parked_call(parked.id).await.unwrap().unwrap();
    assert_eq!(stored, won[0].call, "the winner's change is what is stored");
    assert_eq!(stored.version, 3);
    let events = store
        .events_after(&org_slug("acme"), Sequence::new(2), 100)
        .await
        .unwrap();
    assert_eq!(events, won, "one retrieving event, the winner's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sweepers_on_separate_pools_fire_each_deadline_once() {
    const CALLS: u128 = 60;
    let db = support::TestDb::migrated().await;
    let writer = PgStore::connect(&db.config()).await.unwrap();
    let mut org = organisation("acme", 100);
    org.timeout_action = TimeoutAction::Voicemail;
    writer.create_org(&org).await.unwrap();
    for n in 1..=CALLS {
        let parking = writer
            .claim_slot(&claim("acme", SlotRequest::Auto(AutoSlot::FirstFree), n))
            .await
            .unwrap()
            .call;
        to_parked(&writer, &parking, u64::try_from(n).unwrap()).await;
    }

    // Two instances: each its own pool, telephony and clock, past every deadline.
    let instance = |store: PgStore| {
        let telephony = Arc::new(ScriptedTelephony::new());
        let service = ParkingService::new(Ports {
            store: Arc::new(store),
            telephony: telephony.clone(),
            events: Arc::new(NoEvents),
            clock: Arc::new(ManualClock::new(epoch() + Duration::from_secs(3600))),
            urls: Arc::new(StaticUrls),
        });
        (service, telephony)
    };
    let (a, a_calls) = instance(PgStore::connect(&db.config()).await.unwrap());
    let (b, b_calls) = instance(PgStore::connect(&db.config()).await.unwrap());
    let sweep = |service: ParkingService| {
        tokio::spawn(async move {
            let mut moved = 0;
            // Small batches, many rounds: the sweepers overlap all along.
            loop {
                let report = service.fire_due_deadlines(7).await.expect("swept");
                moved += report.moved;
                if report.examined == 0 {
                    return moved;
                }
            }
        })
    };
    let (moved_a, moved_b) = tokio::join!(sweep(a), sweep(b));
    let (moved_a, moved_b) = (moved_a.unwrap(), moved_b.unwrap());
    assert_eq!(moved_a + moved_b, usize::try_from(CALLS).unwrap());

    let mut redirected: HashMap<_, usize> = HashMap::new();
    for (call, _) in a_calls.redirects().into_iter().chain(b_calls.redirects()) {
        *redirected.entry(call).or_default() += 1;
    }
    assert_eq!(redirected.len(), usize::try_from(CALLS).unwrap());
    assert!(
        redirected.values().all(|&n| n == 1),
        "every deadline redirected exactly once: {redirected:?}"
    );
    assert!(
        writer
            .due_deadlines(epoch() + Duration::from_secs(3600), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let timed_out = writer
        .events_after(&org_slug("acme"), Sequence::ZERO, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == LotEventKind::TimedOut)
        .count();
    assert_eq!(
        timed_out,
        usize::try_from(CALLS).unwrap(),
        "one timed_out event per call"
    );
}
