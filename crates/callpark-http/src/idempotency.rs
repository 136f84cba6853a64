//! `Idempotency-Key` for `POST /api/park`: a client that retries (a timeout, a flaky network)
//! parks once. The first request with a key runs; any other with the same key and agent —
//! concurrent or later — waits for it and gets the same answer. A key reused for a different
//! request is refused.
//!
//! Keys live in this process for a day (bounded in number). A retry that reaches another
//! instance is covered by the park itself: the call is already parked by the same agent, and
//! the handler answers with that parked call rather than a conflict.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use tokio::sync::OnceCell;

use crate::error::ApiError;

/// How long a key is remembered.
const KEEP: Duration = Duration::from_secs(24 * 60 * 60);
/// How many keys are remembered at most; the oldest go first.
const CAPACITY: usize = 10_000;

/// A finished answer to replay.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) status: StatusCode,
    pub(crate) body: serde_json::Value,
}

#[derive(Debug)]
struct Entry {
    fingerprint: String,
    created: Instant,
    answer: Arc<OnceCell<Recorded>>,
}

/// The keys seen by this process.
#[derive(Debug, Default)]
pub struct IdempotencyKeys {
    entries: Mutex<HashMap<(String, String), Entry>>,
}

/// The `Idempotency-Key` header, if the request carries a usable one.
///
/// # Errors
/// 400 for a key that is empty, longer than 255 characters, or not visible ASCII.
pub(crate) fn key_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::invalid("Idempotency-Key must be 1 to 255 visible ASCII characters")
        })?;
    Ok(Some(key.to_owned()))
}

impl IdempotencyKeys {
    /// The answer slot for `key` of `owner`, created if new.
    ///
    /// # Errors
    /// 409 `idempotency_key_reused` when the key was used for a different request.
    pub(crate) fn slot(
        &self,
        owner: String,
        key: String,
        fingerprint: String,
    ) -> Result<Arc<OnceCell<Recorded>>, ApiError> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| now.duration_since(e.created) < KEEP);
            if entries.len() >= CAPACITY
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.created)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        let entry = entries
            .entry((owner, key))
            .and_modify(|e| {
                if now.duration_since(e.created) >= KEEP {
                    *e = Entry {
                        fingerprint: fingerprint.clone(),
                        created: now,
                        answer: Arc::default(),
                    };
                }
            })
            .or_insert_with(|| Entry {
                fingerprint: fingerprint.clone(),
                created: now,
                answer: Arc::default(),
            });
        if entry.fingerprint != fingerprint {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
            ));
        }
        Ok(Arc::clone(&entry.answer))
    }
}
