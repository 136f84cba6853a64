//! The lookups behind every retrieve, hang-up, deadline sweep and reconciliation stay index
//! lookups however long the history grows: each must use its partial index under the generic
//! plan PostgreSQL settles on for a prepared statement after five executions.

use std::time::{Duration, Instant};

use callpark_domain::testkit::{agent_identity, call_sid, caller, epoch, org_slug, organisation};
use callpark_domain::{AutoSlot, NewParkedCall, ParkingStore, SlotNumber, SlotRequest};
use callpark_postgres::PgStore;

use crate::support;

const LOOKUPS: i64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_of_live_calls_use_the_partial_indexes_under_generic_plans() {
    let db = support::TestDb::migrated().await;
    db.admin(&format!(
        "ALTER DATABASE {} SET plan_cache_mode = force_generic_plan",
        db.name()
    ))
    .await;
    let store = PgStore::connect(&db.config()).await.unwrap();
    store.create_org(&organisation("acme", 50)).await.unwrap();
    // A history of ended calls in the slot and organisation looked up.
    db.query(
        "INSERT INTO parked_calls (id, org, slot, state, pstn_sid, parked_by, parked_at, \
         state_changed_at, ended_at, version, call_started_at) \
         SELECT gen_random_uuid(), 'acme', 1, 'retrieved', 'CA' || lpad(to_hex(n), 32, '0'), \
                'alice', now(), now(), now(), 3, now() \
           FROM generate_series(1, 500) AS n",
    )
    .await;
    let pstn = call_sid(0xfeed);
    let parking = store
        .claim_slot(&NewParkedCall {
            org: org_slug("acme"),
            request: SlotRequest::Auto(AutoSlot::FirstFree),
            pstn_call: pstn.clone(),
            caller: caller(1),
            parked_by: agent_identity("alice"),
            call_started_at: epoch(),
            now: epoch(),
        })
        .await
        .unwrap()
        .call;
    assert_eq!(parking.slot, SlotNumber::new(1).unwrap());

    for _ in 0..LOOKUPS {
        let occupant = store
            .occupant(&org_slug("acme"), parking.slot)
            .await
            .unwrap();
        assert_eq!(occupant.map(|c| c.id), Some(parking.id));
        let by_pstn = store.occupant_by_pstn(&pstn).await.unwrap();
        assert_eq!(by_pstn.map(|c| c.id), Some(parking.id));
        store.due_deadlines(epoch(), 10).await.unwrap();
        store.in_flight_since(epoch(), 10).await.unwrap();
    }
    // A backend's index statistics are flushed, at the latest, when it exits.
    drop(store);

    // The slot's occupant may be found by the history's indexes as well as by the unique
    // one: the partial index of live calls, or the (org, slot, state, …) range of the slot's
    // live states; none of them reads the slot's history.
    let slot_lookups = [
        "parked_calls_one_per_slot",
        "parked_calls_history_live",
        "parked_calls_history_by_slot",
    ];
    let indexes = [
        "parked_calls_one_per_pstn",
        "parked_calls_due",
        "parked_calls_in_flight",
    ];
    let started = Instant::now();
    loop {
        let scans: Vec<(String, i64)> = db
            .query(
                "SELECT indexrelname::text, idx_scan FROM pg_stat_user_indexes \
                 WHERE relname = 'parked_calls' ORDER BY indexrelname",
            )
            .await
            .iter()
            .map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1)))
            .filter(|(name, _)| {
                indexes.contains(&name.as_str()) || slot_lookups.contains(&name.as_str())
            })
            .collect();
        let by_slot: i64 = scans
            .iter()
            .filter(|(name, _)| slot_lookups.contains(&name.as_str()))
            .map(|(_, n)| n)
            .sum();
        let others = scans
            .iter()
            .filter(|(name, _)| indexes.contains(&name.as_str()));
        if by_slot >= LOOKUPS
            && others.clone().count() == indexes.len()
            && others.clone().all(|(_, n)| *n >= LOOKUPS)
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "each lookup should have scanned its partial index {LOOKUPS} times: {scans:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
