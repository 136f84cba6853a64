//! The memory store against the store contract every adapter must meet.

mod conformance {
    use callpark_memory::MemoryStore;

    callpark_domain::store_conformance_tests!(async { Box::new(MemoryStore::new()) });
}

mod events {
    use callpark_domain::testkit::{call_sid, caller, epoch, org_slug, organisation};
    use callpark_domain::{
        EventPublisher, NewParkedCall, ParkingStore, SlotNumber, SlotRequest, SubscriptionError,
    };
    use callpark_memory::{MemoryEvents, MemoryStore};

    #[tokio::test]
    async fn subscribers_receive_published_events_in_order_and_learn_when_they_lag() {
        let store = MemoryStore::new();
        store.create_org(&organisation("acme", 999)).await.unwrap();
        let events = MemoryEvents::new();
        let mut early = events.subscribe();
        let mut written = Vec::new();
        for n in 1..=3u32 {
            let claim = NewParkedCall {
                org: org_slug("acme"),
                request: SlotRequest::Requested(SlotNumber::new(n).unwrap()),
                pstn_call: call_sid(u128::from(n)),
                caller: caller(n),
                parked_by: callpark_domain::testkit::agent_identity("alice"),
                call_started_at: epoch(),
                now: epoch(),
            };
            let event = store.claim_slot(&claim).await.unwrap();
            events.publish(&event).await;
            written.push(event);
        }
        for event in &written {
            assert_eq!(&early.next().await.unwrap(), event);
        }

        let mut slow = events.subscribe();
        for _ in 0..=MemoryEvents::CAPACITY {
            events.publish(&written[0]).await;
        }
        assert_eq!(slow.next().await.unwrap_err(), SubscriptionError::Lagged);
    }
}
