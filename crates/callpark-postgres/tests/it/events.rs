//! Live events across instances: what one instance writes, another's subscribers see, in order
//! and without gaps, even when the listener's connection is killed midway.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use callpark_domain::testkit::{agent_identity, call_sid, caller, epoch, org_slug, organisation};
use callpark_domain::{
    AutoSlot, EventPublisher, LotEvent, LotEventKind, NewParkedCall, ParkState, ParkingStore,
    Sequence, SlotRequest, SubscriptionError,
};
use callpark_postgres::{LISTENER_APPLICATION_NAME, PgEvents, PgStore};

use crate::support::{self, next_event};

const WAIT: Duration = Duration::from_secs(15);

/// Parks and immediately ends one call in `org`: two events.
async fn park_and_end(store: &PgStore, org: &str, pstn: u128) -> Vec<LotEvent> {
    let parked = store
        .claim_slot(&NewParkedCall {
            org: org_slug(org),
            request: SlotRequest::Auto(AutoSlot::FirstFree),
            pstn_call: call_sid(pstn),
            caller: caller(1),
            parked_by: agent_identity("alice"),
            call_started_at: epoch(),
            now: epoch(),
        })
        .await
        .expect("claimed");
    let mut next = parked.call.clone();
    next.state = ParkState::Abandoned;
    next.ended_at = Some(epoch());
    let ended = store
        .apply(&parked.call, &next, LotEventKind::Abandoned, epoch())
        .await
        .expect("applied");
    vec![parked, ended]
}

/// Collects `count` events and checks that each organisation's come in sequence order, each the
/// one after the last seen (in `last`, from 0), with no gap and no repeat.
async fn receive_in_order(
    subscription: &mut Box<dyn callpark_domain::EventSubscription>,
    last: &mut HashMap<String, u64>,
    count: usize,
) -> Vec<LotEvent> {
    let mut received = Vec::new();
    for _ in 0..count {
        let event = next_event(subscription, WAIT).await;
        let previous = last.entry(event.org.as_str().to_owned()).or_default();
        assert_eq!(
            event.sequence.get(),
            *previous + 1,
            "events of {} arrive in order without gaps",
            event.org
        );
        *previous = event.sequence.get();
        received.push(event);
    }
    received
}

async fn kill_listener(db: &support::TestDb) {
    let killed = db
        .admin(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = '{LISTENER_APPLICATION_NAME}' AND datname = '{}'",
            db.name()
        ))
        .await;
    assert_eq!(killed.len(), 1, "exactly one listener connection to kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_instance_sees_every_event_in_order_even_when_its_listener_is_killed() {
    let db = support::TestDb::migrated().await;
    // Instance A only listens; instance B only writes, on its own pool.
    let events_a = PgEvents::start(&db.config());
    events_a.listening().await;
    let mut subscriber = events_a.subscribe();
    let store_b = Arc::new(PgStore::connect(&db.config()).await.unwrap());
    for org in ["acme", "other", "third"] {
        store_b.create_org(&organisation(org, 50)).await.unwrap();
    }

    // Concurrent writers in three organisations, so commits interleave across them.
    let write = |round: u128| {
        let writers: Vec<_> = ["acme", "other", "third"]
            .into_iter()
            .enumerate()
            .map(|(i, org)| {
                let store = Arc::clone(&store_b);
                tokio::spawn(async move {
                    let mut written = Vec::new();
                    for n in 0..10u128 {
                        let pstn = round * 1_000_000 + (i as u128) * 1000 + n;
                        written.extend(park_and_end(&store, org, pstn).await);
                    }
                    written
                })
            })
            .collect::<Vec<_>>();
        async move {
            let mut written = Vec::new();
            for writer in writers {
                written.extend(writer.await.unwrap());
            }
            written
        }
    };

    let mut written = write(1).await;
    let mut last = HashMap::new();
    let first = receive_in_order(&mut subscriber, &mut last, 60).await;

    kill_listener(&db).await;
    // The listener notices (its connection reports the termination) and backs off before
    // reconnecting: the first writes below happen while nobody listens.
    tokio::time::timeout(WAIT, async {
        while events_a.is_listening() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the listener noticed it was killed");
    // Written while the listener is down or reconnecting: no notification reaches it.
    written.extend(write(2).await);
    let rest = receive_in_order(&mut subscriber, &mut last, 60).await;

    let mut received: Vec<_> = first.into_iter().chain(rest).collect();
    // Same events, whatever the interleaving across organisations.
    let key = |e: &LotEvent| (e.org.as_str().to_owned(), e.sequence);
    received.sort_by_key(key);
    written.sort_by_key(key);
    assert_eq!(received, written);
    // Each organisation's sequence ran 1..=40 (checked in order by receive_in_order).
    assert_eq!(
        received
            .iter()
            .filter(|e| e.sequence == Sequence::new(40))
            .count(),
        3
    );

    tokio::time::timeout(WAIT, events_a.listening())
        .await
        .expect("listening again");
    assert!(events_a.is_listening());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locally_published_events_are_delivered_once_in_order_with_other_instances_events() {
    let db = support::TestDb::migrated().await;
    let store_a = PgStore::connect(&db.config()).await.unwrap();
    let store_b = PgStore::connect(&db.config()).await.unwrap();
    store_a.create_org(&organisation("acme", 50)).await.unwrap();
    let events_a = PgEvents::start(&db.config());
    events_a.listening().await;
    let mut subscriber = events_a.subscribe();

    let mut written = Vec::new();
    for n in 0..10u128 {
        // A writes and publishes (the fast path); B writes without telling A.
        for event in park_and_end(&store_a, "acme", n).await {
            events_a.publish(&event).await;
            written.push(event);
        }
        written.extend(park_and_end(&store_b, "acme", 100 + n).await);
    }
    // A late duplicate of something already delivered changes nothing.
    events_a.publish(&written[0]).await;

    let received = receive_in_order(&mut subscriber, &mut HashMap::new(), written.len()).await;
    assert_eq!(received, written);
    let nothing_more = tokio::time::timeout(Duration::from_millis(300), subscriber.next()).await;
    assert!(nothing_more.is_err(), "no duplicates: {nothing_more:?}");
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_told_and_a_dropped_feed_closes() {
    let db = support::TestDb::migrated().await;
    let events = PgEvents::start(&db.config());
    events.listening().await;
    let mut slow = events.subscribe();
    let mut fast = events.subscribe();

    // Fast-path events of an organisation the listener has not seen start at sequence 1 and
    // are delivered without reading the database.
    let store = PgStore::connect(&db.config()).await.unwrap();
    store.create_org(&organisation("acme", 5)).await.unwrap();
    let template = park_and_end(&store, "acme", 1).await.remove(0);
    let total = u64::try_from(PgEvents::CAPACITY).unwrap() + 10;
    for n in 1..=total {
        let mut event = template.clone();
        event.org = org_slug("synthetic");
        event.sequence = Sequence::new(n);
        events.publish(&event).await;
    }
    loop {
        let event = next_event(&mut fast, WAIT).await;
        if event.org == org_slug("synthetic") && event.sequence == Sequence::new(total) {
            break;
        }
    }
    assert_eq!(slow.next().await.unwrap_err(), SubscriptionError::Lagged);

    drop(events);
    assert_eq!(fast.next().await.unwrap_err(), SubscriptionError::Closed);
}
