//! Agents' browser legs: which caller's leg each is bridged to, and their statuses in order.

use callpark_domain::CallSid;

use crate::State;

/// An agent's browser leg: the caller's leg it is bridged to, and what its statuses said.
#[derive(Debug)]
pub(crate) struct BrowserLeg {
    pub(crate) pstn: CallSid,
    /// The highest `SequenceNumber` seen.
    sequence: Option<u32>,
    ended: bool,
}

impl State {
    pub(crate) fn link_browser_leg(&mut self, browser: &CallSid, pstn: &CallSid) -> bool {
        if !self.calls.contains_key(pstn) {
            return false;
        }
        self.browser_legs
            .entry(browser.clone())
            .and_modify(|leg| leg.pstn = pstn.clone())
            .or_insert_with(|| BrowserLeg {
                pstn: pstn.clone(),
                sequence: None,
                ended: false,
            });
        true
    }

    pub(crate) fn record_leg_status(
        &mut self,
        browser: &CallSid,
        pstn: &CallSid,
        sequence: Option<u32>,
        ended: bool,
    ) -> bool {
        self.link_browser_leg(browser, pstn);
        let Some(leg) = self.browser_legs.get_mut(browser) else {
            return true;
        };
        let news =
            !leg.ended && !matches!((sequence, leg.sequence), (Some(s), Some(seen)) if s <= seen);
        leg.sequence = leg.sequence.max(sequence);
        leg.ended |= ended;
        news
    }
}
