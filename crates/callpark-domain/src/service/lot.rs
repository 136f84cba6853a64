//! Reading the lot: the slots, the events, one parked call.

use super::{LotView, ParkedCallContext, ParkingService, SlotView};
use crate::events::LotEvent;
use crate::history::{HistoryCursor, HistoryFilter, HistoryPage, HistoryQuery};
use crate::model::Organisation;
use crate::ports::StoreError;
use crate::stats::{ParkStats, StatsBuilder, StatsRange};
use crate::values::{OrgSlug, PageLimit, ParkedCallId, Sequence};

impl ParkingService {
    /// The whole lot of an organisation, free slots included.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn lot(&self, org: &Organisation) -> Result<LotView, StoreError> {
        let mut snapshot = self.ports.store.lot(&org.slug).await?;
        snapshot.occupied.sort_by_key(|c| c.slot);
        let mut occupied = snapshot.occupied.into_iter().peekable();
        let slots = org
            .lot_size
            .slots()
            .map(|slot| SlotView {
                slot,
                call: occupied.next_if(|c| c.slot == slot),
            })
            .collect();
        Ok(LotView {
            org: org.clone(),
            slots,
            sequence: snapshot.sequence,
        })
    }

    /// Events of an organisation after `after`, for a client that resumes.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn events_after(
        &self,
        org: &OrgSlug,
        after: Sequence,
        limit: usize,
    ) -> Result<Vec<LotEvent>, StoreError> {
        self.ports.store.events_after(org, after, limit).await
    }

    /// A page of the organisation's history: its parked calls, live or ended, newest first.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn history(
        &self,
        org: &OrgSlug,
        query: &HistoryQuery,
    ) -> Result<HistoryPage, StoreError> {
        let read_at = self.now();
        let limit = query.limit.get();
        // One more than the page tells whether another page follows.
        let mut calls = self
            .ports
            .store
            .history(org, &query.filter, query.after, limit + 1)
            .await?;
        let more = calls.len() > limit;
        calls.truncate(limit);
        let next = more
            .then(|| calls.last().map(HistoryCursor::after))
            .flatten();
        Ok(HistoryPage {
            calls,
            next,
            read_at,
        })
    }

    /// What the organisation's calls parked in `range` add up to, per bucket and per agent:
    /// the history of the range, read a page at a time and folded.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn stats(&self, org: &OrgSlug, range: StatsRange) -> Result<ParkStats, StoreError> {
        let mut report = StatsBuilder::new(range, self.now());
        let mut query = HistoryQuery {
            filter: HistoryFilter {
                parked_from: Some(range.from()),
                parked_before: Some(range.to()),
                ..HistoryFilter::default()
            },
            after: None,
            limit: PageLimit::MAX,
        };
        loop {
            let page = self.history(org, &query).await?;
            page.calls.iter().for_each(|call| report.add(call));
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(report.finish()),
            }
        }
    }

    /// A parked call with its organisation, for rendering its TwiML.
    ///
    /// # Errors
    /// [`StoreError`] only.
    pub async fn parked_call(
        &self,
        id: ParkedCallId,
    ) -> Result<Option<ParkedCallContext>, StoreError> {
        let Some(call) = self.ports.store.parked_call(id).await? else {
            return Ok(None);
        };
        let Some(org) = self.ports.store.org(&call.org).await? else {
            return Ok(None);
        };
        Ok(Some(ParkedCallContext { call, org }))
    }
}
