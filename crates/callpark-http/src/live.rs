//! The parked calls that occupy a slot right now, and their organisations, kept in memory from
//! the live feed (which carries every instance's events): what the park and hold-music TwiML
//! needs, so that Twilio's most frequent requests are answered without the database.
//!
//! Only a lookup that finds a call takes the fast path; anything else (a call parked before
//! this instance started, one whose event has not arrived yet, one that ended) is read from the
//! store as before. A call that ended a moment ago may still be found for as long as its
//! event takes to arrive: the park and hold TwiML of a caller who is gone is harmless (Twilio
//! only asks for the call it is connecting), and no state is changed on this path. The retrieve
//! and voicemail TwiML, which depend on the exact state, always read the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use callpark_domain::{EventSubscription, LotEvent, OrgSlug, ParkedCallId, SubscriptionError};

/// Occupying parked calls by id: (version, organisation).
#[derive(Debug, Default)]
pub struct LiveCalls {
    calls: Mutex<HashMap<ParkedCallId, (u64, OrgSlug)>>,
}

impl LiveCalls {
    pub fn new() -> Self {
        Self::default()
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, HashMap<ParkedCallId, (u64, OrgSlug)>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The organisation of a call that occupies a slot, as far as the feed has told.
    pub fn org_of(&self, id: ParkedCallId) -> Option<OrgSlug> {
        self.calls().get(&id).map(|(_, org)| org.clone())
    }

    /// How many calls are known to occupy a slot.
    pub fn len(&self) -> usize {
        self.calls().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes in one event: a call that occupies its slot is remembered, one that left it is
    /// forgotten.
    pub fn apply(&self, event: &LotEvent) {
        let call = &event.call;
        let mut calls = self.calls();
        if call.occupies_slot() {
            let newer = calls.get(&call.id).is_none_or(|(v, _)| *v < call.version);
            if newer {
                calls.insert(call.id, (call.version, call.org.clone()));
            }
        } else {
            calls.remove(&call.id);
        }
    }

    /// Follows the feed until it closes. After a lag (events were lost to this subscriber)
    /// everything is forgotten: lookups read the store until the feed has told again.
    pub async fn follow(self: Arc<Self>, mut feed: Box<dyn EventSubscription>) {
        loop {
            match feed.next().await {
                Ok(event) => self.apply(&event),
                Err(SubscriptionError::Lagged) => self.calls().clear(),
                Err(SubscriptionError::Closed) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callpark_domain::{
        AgentIdentity, CallSid, Caller, LotEventKind, ParkState, ParkedCall, Sequence, SlotNumber,
    };
    use time::OffsetDateTime;

    fn event(state: ParkState, version: u64) -> LotEvent {
        let id = ParkedCallId::parse("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        LotEvent {
            org: OrgSlug::parse("acme").unwrap(),
            sequence: Sequence::new(version),
            kind: LotEventKind::Updated,
            at: OffsetDateTime::UNIX_EPOCH,
            call: ParkedCall {
                id,
                org: OrgSlug::parse("acme").unwrap(),
                slot: SlotNumber::new(1).unwrap(),
                state,
                pstn_call: CallSid::parse(&format!("CA{:032x}", 1)).unwrap(),
                caller: Caller {
                    number: None,
                    name: None,
                },
                parked_by: AgentIdentity::parse("alice").unwrap(),
                parked_at: OffsetDateTime::UNIX_EPOCH,
                call_started_at: OffsetDateTime::UNIX_EPOCH,
                conference_sid: None,
                deadline: None,
                retrieval: None,
                attempt: 0,
                ringbacks: 0,
                state_changed_at: OffsetDateTime::UNIX_EPOCH,
                ended_at: None,
                recording_url: None,
                voicemail_handled: None,
                version,
            },
        }
    }

    #[test]
    fn occupying_calls_are_remembered_until_they_leave_the_lot() {
        let live = LiveCalls::new();
        let id = event(ParkState::Parking, 1).call.id;
        live.apply(&event(ParkState::Parking, 1));
        live.apply(&event(ParkState::Parked, 2));
        assert_eq!(
            live.org_of(id).map(|o| o.to_string()).as_deref(),
            Some("acme")
        );
        // An older version does not overwrite a newer one.
        live.apply(&event(ParkState::Parking, 1));
        assert_eq!(live.calls().get(&id).map(|(v, _)| *v), Some(2));
        live.apply(&event(ParkState::Retrieved, 4));
        assert_eq!(live.org_of(id), None);
        assert!(live.is_empty());
    }
}
