//! Organisations read recently, so that the hot paths (every webhook that renders TwiML, every
//! park and retrieve) do not read the same rows again and again.
//!
//! A change of an organisation's settings replaces its entry on the instance that made it; the
//! time-to-live bounds how long another instance (or a change made by hand, in SQL) can go
//! unseen. Only organisations that exist are cached: one created by another instance is found at
//! once. The lot's size, which decides which slots may be claimed, is read from the database by
//! every claim, never from here.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use callpark_domain::Organisation;

/// Past this many entries, expired ones are dropped (and if all are fresh, all of them), so
/// the cache stays bounded whatever the number of organisations.
const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
struct Entries {
    by_slug: HashMap<String, (Instant, Organisation)>,
    /// Phone number → slug.
    by_number: HashMap<String, (Instant, String)>,
}

#[derive(Debug)]
pub(crate) struct OrgCache {
    ttl: Duration,
    entries: Mutex<Entries>,
}

impl OrgCache {
    /// A cache keeping entries for `ttl`; zero disables it.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(Entries::default()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh(&self, at: Instant) -> bool {
        at.elapsed() < self.ttl
    }

    pub(crate) fn get(&self, slug: &str) -> Option<Organisation> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries();
        entries
            .by_slug
            .get(slug)
            .filter(|(at, _)| self.fresh(*at))
            .map(|(_, org)| org.clone())
    }

    pub(crate) fn slug_of_number(&self, number: &str) -> Option<String> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries();
        entries
            .by_number
            .get(number)
            .filter(|(at, _)| self.fresh(*at))
            .map(|(_, slug)| slug.clone())
    }

    /// Remembers an organisation as just read (or written), under its slug and its numbers.
    pub(crate) fn put(&self, org: &Organisation) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.entries();
        if entries.by_slug.len() >= CAPACITY || entries.by_number.len() >= CAPACITY {
            let ttl = self.ttl;
            entries.by_slug.retain(|_, (at, _)| at.elapsed() < ttl);
            entries.by_number.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.by_slug.len() >= CAPACITY || entries.by_number.len() >= CAPACITY {
                *entries = Entries::default();
            }
        }
        for number in &org.numbers {
            entries
                .by_number
                .insert(number.as_str().to_owned(), (now, org.slug.to_string()));
        }
        entries
            .by_slug
            .insert(org.slug.to_string(), (now, org.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callpark_domain::testkit::organisation;

    #[test]
    fn entries_expire_and_a_zero_ttl_caches_nothing() {
        let cache = OrgCache::new(Duration::from_millis(50));
        let org = organisation("acme", 5);
        cache.put(&org);
        assert_eq!(cache.get("acme"), Some(org.clone()));
        let number = org.numbers[0].as_str();
        assert_eq!(cache.slug_of_number(number).as_deref(), Some("acme"));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("acme"), None);

        let off = OrgCache::new(Duration::ZERO);
        off.put(&org);
        assert_eq!(off.get("acme"), None);
    }

    #[test]
    fn it_stays_bounded() {
        let cache = OrgCache::new(Duration::from_secs(60));
        for i in 0..(CAPACITY * 2) {
            cache.put(&organisation(&format!("org{i}"), 1));
        }
        assert!(cache.entries().by_slug.len() <= CAPACITY);
    }
}
