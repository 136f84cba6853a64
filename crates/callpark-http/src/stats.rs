//! Park analytics for the organisation's supervisors (`GET /api/stats`): what the calls parked
//! in a time range add up to, per hour or day and per agent.

use actix_web::{HttpRequest, HttpResponse, web};
use callpark_domain::{
    AgentStats, Bucket, BucketStats, Figures, ParkStats, Percentiles, StatsRange,
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::HttpContext;
use crate::dto::rfc3339;
use crate::error::{ApiError, get};
use crate::history::{instant, strict_pairs};
use crate::manager::Supervisor;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/stats", stats));
}

async fn stats(
    ctx: web::Data<HttpContext>,
    Supervisor(supervisor): Supervisor,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let range = stats_range(req.query_string(), ctx.service.now())?;
    let report = ctx.service.stats(&supervisor.org, range).await?;
    Ok(HttpResponse::Ok().json(StatsDto::from(&report)))
}

/// The range asked for: `bucket` (default `hour`), `to` (default now) and `from` (default a
/// day before `to` by the hour, 30 days by the day).
fn stats_range(query: &str, now: OffsetDateTime) -> Result<StatsRange, ApiError> {
    let (mut from, mut to, mut bucket) = (None, None, Bucket::Hour);
    for (name, value) in &strict_pairs(query)? {
        match name.as_str() {
            "from" => from = Some(instant(name, value)?),
            "to" => to = Some(instant(name, value)?),
            "bucket" => {
                bucket = Bucket::from_name(value).ok_or_else(|| {
                    ApiError::invalid(format!("`bucket` must be hour or day, not {value:?}"))
                })?;
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "unknown parameter `{other}`: the stats take from, to and bucket"
                )));
            }
        }
    }
    let to = to.unwrap_or(now);
    let from = from.unwrap_or_else(|| match bucket {
        Bucket::Hour => to - time::Duration::DAY,
        Bucket::Day => to - time::Duration::DAY * 30,
    });
    StatsRange::new(from, to, bucket).map_err(|e| ApiError::invalid(e.to_string()))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StatsDto {
    from: String,
    to: String,
    bucket: &'static str,
    buckets: Vec<BucketDto>,
    totals: FiguresDto,
    agents: Vec<AgentDto>,
}

impl From<&ParkStats> for StatsDto {
    fn from(report: &ParkStats) -> Self {
        Self {
            from: rfc3339(report.range.from()),
            to: rfc3339(report.range.to()),
            bucket: report.range.bucket().as_str(),
            buckets: report.buckets.iter().map(BucketDto::from).collect(),
            totals: FiguresDto::from(&report.totals),
            agents: report.agents.iter().map(AgentDto::from).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BucketDto {
    start: String,
    #[serde(flatten)]
    figures: FiguresDto,
}

impl From<&BucketStats> for BucketDto {
    fn from(bucket: &BucketStats) -> Self {
        Self {
            start: rfc3339(bucket.start),
            figures: FiguresDto::from(&bucket.figures),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FiguresDto {
    parks: u64,
    retrieved: u64,
    abandoned: u64,
    voicemail: u64,
    failed: u64,
    live: u64,
    ringbacks: u64,
    time_to_retrieve_seconds: Option<PercentilesDto>,
    longest_wait_seconds: Option<u64>,
}

impl From<&Figures> for FiguresDto {
    fn from(f: &Figures) -> Self {
        Self {
            parks: f.parks,
            retrieved: f.retrieved,
            abandoned: f.abandoned,
            voicemail: f.voicemail,
            failed: f.failed,
            live: f.live,
            ringbacks: f.ringbacks,
            time_to_retrieve_seconds: f.time_to_retrieve.as_ref().map(PercentilesDto::from),
            longest_wait_seconds: f.longest_wait.map(|w| w.as_secs()),
        }
    }
}

/// Whole seconds, as the history's `secondsOnHold`.
#[derive(Debug, Serialize)]
struct PercentilesDto {
    p50: u64,
    p90: u64,
    p99: u64,
}

impl From<&Percentiles> for PercentilesDto {
    fn from(p: &Percentiles) -> Self {
        Self {
            p50: p.p50.as_secs(),
            p90: p.p90.as_secs(),
            p99: p.p99.as_secs(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AgentDto {
    agent: String,
    /// The calls the agent parked.
    parked: FiguresDto,
    /// The calls the agent retrieved, whoever parked them.
    retrieved: u64,
    time_to_retrieve_seconds: Option<PercentilesDto>,
}

impl From<&AgentStats> for AgentDto {
    fn from(a: &AgentStats) -> Self {
        Self {
            agent: a.agent.to_string(),
            parked: FiguresDto::from(&a.parked),
            retrieved: a.retrieved,
            time_to_retrieve_seconds: a.time_to_retrieve.as_ref().map(PercentilesDto::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::stats_range;

    #[track_caller]
    fn check(query: &str, expected: Result<(&str, &str, &str), &str>) {
        let now = datetime!(2026-12-06 12:30 UTC);
        let got = stats_range(query, now)
            .map(|r| {
                (
                    crate::dto::rfc3339(r.from()),
                    crate::dto::rfc3339(r.to()),
                    r.bucket().as_str(),
                )
            })
            .map_err(|e| e.to_string());
        match expected {
            Ok((from, to, bucket)) => {
                assert_eq!(got, Ok((from.to_owned(), to.to_owned(), bucket)), "{query}")
            }
            Err(message) => {
                let error = got.expect_err(query);
                assert!(error.contains(message), "{query}: {error}");
            }
        }
    }

    #[test]
    fn the_range_is_read_strictly_with_defaults() {
        check(
            "",
            Ok(("2026-12-05T12:30:00Z", "2026-12-06T12:30:00Z", "hour")),
        );
        check(
            "bucket=day",
            Ok(("2026-11-06T12:30:00Z", "2026-12-06T12:30:00Z", "day")),
        );
        check(
            "from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z",
            Ok(("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "hour")),
        );
        check("bucket=week", Err("`bucket` must be hour or day"));
        check("from=yesterday", Err("`from` must be an RFC 3339 time"));
        check("bucket=day&bucket=hour", Err("`bucket` is given twice"));
        check("slot=1", Err("unknown parameter `slot`"));
        check(
            "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
            Err("`to` must come after `from`"),
        );
        check(
            "from=2025-01-01T00:00:00Z",
            Err("more than 1000 buckets of one hour"),
        );
    }
}
