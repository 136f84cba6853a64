//! Reads of many parked calls (the sweeps' and the history's), and the retention's batches.

use callpark_domain::{Forgotten, HistoryCursor, HistoryFilter, OrgSlug, ParkState, ParkedCall};
use time::OffsetDateTime;

use crate::State;

impl State {
    /// `Parked` calls whose deadline has passed, earliest first.
    pub(crate) fn due_deadlines(&self, now: OffsetDateTime, limit: usize) -> Vec<ParkedCall> {
        let mut due: Vec<ParkedCall> = self
            .occupants()
            .filter(|c| c.state == ParkState::Parked && c.deadline.is_some_and(|d| d <= now))
            .cloned()
            .collect();
        due.sort_by_key(|c| c.deadline);
        due.truncate(limit);
        due
    }

    /// `Parking` or `Retrieving` calls unchanged since `before`, oldest change first.
    pub(crate) fn in_flight_since(&self, before: OffsetDateTime, limit: usize) -> Vec<ParkedCall> {
        let mut stale: Vec<ParkedCall> = self
            .occupants()
            .filter(|c| {
                matches!(c.state, ParkState::Parking | ParkState::Retrieving)
                    && c.state_changed_at <= before
            })
            .cloned()
            .collect();
        stale.sort_by_key(|c| c.state_changed_at);
        stale.truncate(limit);
        stale
    }

    /// The organisation's parked calls the filter lets through after the cursor, newest
    /// first. Every record is looked at: the memory store is for the sandbox and tests.
    pub(crate) fn history(
        &self,
        org: &OrgSlug,
        filter: &HistoryFilter,
        after: Option<HistoryCursor>,
        limit: usize,
    ) -> Vec<ParkedCall> {
        let mut calls: Vec<&ParkedCall> = self
            .parked
            .values()
            .filter(|c| c.org == *org && filter.matches(c))
            .filter(|c| after.is_none_or(|cursor| cursor.admits(c)))
            .collect();
        calls.sort_by_key(|c| std::cmp::Reverse((c.parked_at, c.id.as_uuid())));
        calls.into_iter().take(limit).cloned().collect()
    }

    /// One batch of [`callpark_domain::ParkingStore::forget_before`].
    pub(crate) fn forget_before(&mut self, cutoff: OffsetDateTime, limit: usize) -> Forgotten {
        let mut forgotten = Forgotten::default();
        let remembered = |c: &ParkedCall| {
            c.caller.number.is_some() || c.caller.name.is_some() || c.recording_url.is_some()
        };
        for call in self.parked.values_mut() {
            if forgotten.anonymised < limit
                && call.ended_at.is_some_and(|ended| ended < cutoff)
                && remembered(call)
            {
                call.caller = callpark_domain::Caller::default();
                call.recording_url = None;
                forgotten.anonymised += 1;
            }
        }
        for events in self.events.values_mut() {
            while forgotten.events < limit && events.front().is_some_and(|e| e.at < cutoff) {
                events.pop_front();
                forgotten.events += 1;
            }
        }
        let old: std::collections::HashSet<_> = self
            .calls
            .values()
            .filter(|c| c.started_at < cutoff)
            .map(|c| c.pstn.clone())
            .take(limit)
            .collect();
        self.browser_legs.retain(|_, leg| !old.contains(&leg.pstn));
        self.calls.retain(|pstn, _| !old.contains(pstn));
        forgotten.calls = old.len();
        forgotten
    }

    fn occupants(&self) -> impl Iterator<Item = &ParkedCall> {
        self.occupancy.values().filter_map(|id| self.parked.get(id))
    }
}
