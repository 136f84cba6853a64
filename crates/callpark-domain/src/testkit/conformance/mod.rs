//! The behavioural contract of [`ParkingStore`]. Each check takes a fresh, empty store; run
//! them all with `callpark_domain::store_conformance_tests!`.
//!
//! Timestamps used here are whole seconds: stores need keep no more than microseconds.
//!
//! The checks are listed once, in the `conformance_checks!` invocation below, which both makes
//! each one public here and registers it in `store_conformance_tests!`. A check written in one
//! of the modules but left out of the list is never used, which the compiler reports.

use std::time::Duration;

use crate::events::{LotEvent, LotEventKind};
use crate::machine::ParkState;
use crate::model::{NewParkedCall, ParkedCall, SlotRequest};
use crate::ports::{ClaimError, ParkingStore};
use crate::testkit::{agent_identity, call_sid, caller, epoch, org_slug, organisation};
use crate::values::SlotNumber;

mod access;
mod claims;
mod directory;
mod history;
mod organisations;
mod reads;
mod retention;
mod transitions;

/// Defines the public checks and `store_conformance_tests!` from one list of
/// `module::check`. `$d` is a `$`, for the metavariables of the macro it defines.
macro_rules! conformance_checks {
    ($d:tt $($module:ident::$check:ident),* $(,)?) => {
        $(
            #[doc = concat!("The conformance check `", stringify!($check), "`.")]
            pub async fn $check(store: &dyn ParkingStore) {
                $module::$check(store).await;
            }
        )*

        /// Expands to one `#[tokio::test]` per conformance check. `$make` is an expression
        /// evaluated afresh for each test, a future that yields something that dereferences to
        /// the store (`Box<Store>`, `Arc<Store>`, or a guard that drops a test database).
        #[macro_export]
        macro_rules! store_conformance_tests {
            ($d make:expr) => {
                $(
                    #[tokio::test]
                    async fn $check() {
                        let store = $d make.await;
                        $d crate::testkit::conformance::$check(&*store).await;
                    }
                )*
            };
        }
    };
}

conformance_checks! {$
    access::agents_change_role_and_name,
    access::deactivated_agents_are_shut_out_and_stay_offline,
    access::agents_not_seen_lately_go_offline_unless_on_a_call,
    access::api_tokens_expire_and_are_replaced_at_once,
    access::sessions_live_while_used_and_end_at_once,
    directory::orgs_are_created_once_and_found_by_slug_and_number,
    directory::agents_are_created_once_and_found_by_identity_and_token,
    directory::agent_status_is_stored,
    directory::call_legs_are_linked,
    directory::browser_leg_statuses_are_ordered_and_end,
    directory::inbound_calls_ring_the_longest_idle_agents_in_turn,
    organisations::an_orgs_numbers_are_replaced_and_never_shared,
    organisations::a_deactivated_org_signs_its_agents_out_and_keeps_its_calls,
    claims::a_lot_grows_always_and_shrinks_only_above_its_occupied_slots,
    claims::a_requested_slot_is_claimed_once,
    claims::claims_outside_the_lot_or_org_are_refused,
    claims::a_parked_call_cannot_be_parked_twice,
    claims::first_free_takes_the_lowest_free_slot,
    claims::next_after_last_used_wraps_around,
    claims::concurrent_claims_of_one_slot_have_one_winner,
    transitions::apply_is_a_compare_and_set,
    transitions::an_agent_status_is_set_with_its_transition_or_not_at_all,
    transitions::every_field_survives_a_round_trip,
    transitions::terminal_states_free_the_slot_and_keep_history,
    transitions::a_recording_is_stored_with_its_event,
    transitions::concurrent_applies_have_one_winner,
    reads::the_lot_and_its_sequence_are_consistent,
    reads::events_after_resumes_in_order,
    reads::sequences_are_per_organisation,
    reads::due_deadlines_are_parked_calls_past_their_deadline,
    reads::in_flight_since_finds_stale_parking_and_retrieving,
    history::history_pages_are_newest_first_filtered_and_complete,
    retention::old_records_are_forgotten_in_batches_and_newer_ones_kept,
}

fn slot(n: u32) -> SlotNumber {
    SlotNumber::new(n).expect("a slot")
}

fn claim_request(org: &str, request: SlotRequest, pstn: u128) -> NewParkedCall {
    NewParkedCall {
        org: org_slug(org),
        request,
        pstn_call: call_sid(pstn),
        caller: caller(u32::try_from(pstn % 1000).expect("small")),
        parked_by: agent_identity("alice"),
        call_started_at: epoch() - Duration::from_secs(90),
        now: epoch(),
    }
}

async fn claim(
    store: &dyn ParkingStore,
    org: &str,
    request: SlotRequest,
    pstn: u128,
) -> Result<ParkedCall, ClaimError> {
    store
        .claim_slot(&claim_request(org, request, pstn))
        .await
        .map(|e| e.call)
}

async fn claim_slot_n(store: &dyn ParkingStore, org: &str, n: u32, pstn: u128) -> ParkedCall {
    claim(store, org, SlotRequest::Requested(slot(n)), pstn)
        .await
        .expect("slot claimed")
}

async fn move_to(
    store: &dyn ParkingStore,
    call: &ParkedCall,
    state: ParkState,
    kind: LotEventKind,
) -> LotEvent {
    let mut next = call.clone();
    next.state = state;
    next.state_changed_at = epoch() + Duration::from_secs(1);
    if state.is_terminal() {
        next.ended_at = Some(next.state_changed_at);
    }
    store
        .apply(call, &next, kind, next.state_changed_at)
        .await
        .expect("applied")
}

async fn with_org(store: &dyn ParkingStore, slug: &str, slots: u32) {
    store
        .create_org(&organisation(slug, slots))
        .await
        .expect("org created");
}
