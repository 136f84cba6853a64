//! The history of the organisation's parked calls, for its agents and supervisors: a page of
//! JSON (`GET /api/history`, keyset pagination) or every matching call as CSV, streamed
//! (`GET /api/history.csv`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use callpark_domain::{
    AgentIdentity, HistoryCursor, HistoryFilter, HistoryPage, HistoryQuery, OrgSlug, Outcome,
    PageLimit, ParkedCall, ParkedCallId, ParkingService, SlotNumber,
};
use futures_util::stream;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::HttpContext;
use crate::auth::AuthedAgent;
use crate::dto::rfc3339;
use crate::error::{ApiError, get};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/history", page))
        .service(get("/history.csv", csv));
}

/// A page of history, newest first.
async fn page(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = history_query(req.query_string(), Paging::Allowed)?;
    let page = ctx.service.history(&agent.org, &query).await?;
    Ok(HttpResponse::Ok().json(HistoryDto::from(&page)))
}

/// Every call the filters let through, as CSV: read a page at a time while it is sent, so
/// memory stays flat however long the history.
async fn csv(
    ctx: web::Data<HttpContext>,
    AuthedAgent(agent): AuthedAgent,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut query = history_query(req.query_string(), Paging::Refused)?;
    query.limit = PageLimit::MAX;
    // The first page is read before the answer starts, so that a store that is down is a
    // 503, not a cut-off file.
    let first = ctx.service.history(&agent.org, &query).await?;
    let rows = CsvRows {
        service: ctx.service.clone(),
        org: agent.org.clone(),
        query,
        page: Some(first),
        header: true,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"callpark-history.csv\"",
        ))
        .streaming(stream::unfold(rows, CsvRows::next)))
}

/// What the CSV stream has still to send.
struct CsvRows {
    service: ParkingService,
    org: OrgSlug,
    query: HistoryQuery,
    /// The page read and not yet sent; `None` once the last is sent.
    page: Option<HistoryPage>,
    header: bool,
}

impl CsvRows {
    async fn next(mut self) -> Option<(Result<web::Bytes, ApiError>, Self)> {
        let page = self.page.take()?;
        let mut out = String::new();
        if std::mem::take(&mut self.header) {
            out.push_str(CSV_HEADER);
        }
        for call in &page.calls {
            csv_row(&mut out, &HistoryCallDto::of(call, page.read_at));
        }
        if let Some(next) = page.next {
            self.query.after = Some(next);
            match self.service.history(&self.org, &self.query).await {
                Ok(page) => self.page = Some(page),
                // The answer has started: all that can be done is to cut it short, which the
                // client sees as a broken download rather than a complete file.
                Err(e) => return Some((Err(ApiError::from(e)), self)),
            }
        }
        Some((Ok(web::Bytes::from(out)), self))
    }
}

const CSV_HEADER: &str = "id,slot,caller_number,caller_name,parked_by,parked_at,retrieved_by,\
ended_at,outcome,seconds_on_hold,ringbacks,voicemail,voicemail_handled_by,voicemail_handled_at\r\n";

fn csv_row(out: &mut String, call: &HistoryCallDto) {
    let caller_name = call.caller_name.as_deref().map(text_cell);
    let (slot, seconds, ringbacks) = (
        call.slot.to_string(),
        call.seconds_on_hold.to_string(),
        call.ringbacks.to_string(),
    );
    let fields: [&str; 14] = [
        &call.id,
        &slot,
        call.caller_number.as_deref().unwrap_or_default(),
        caller_name.as_deref().unwrap_or_default(),
        &call.parked_by,
        &call.parked_at,
        call.retrieved_by.as_deref().unwrap_or_default(),
        call.ended_at.as_deref().unwrap_or_default(),
        call.outcome,
        &seconds,
        &ringbacks,
        if call.voicemail { "true" } else { "false" },
        call.voicemail_handled_by.as_deref().unwrap_or_default(),
        call.voicemail_handled_at.as_deref().unwrap_or_default(),
    ];
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        quoted(out, field);
    }
    out.push_str("\r\n");
}

/// A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break.
fn quoted(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Free text a caller chose (a caller ID name): a spreadsheet must not take it for a formula.
fn text_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoryDto {
    calls: Vec<HistoryCallDto>,
    /// Pass it as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

impl From<&HistoryPage> for HistoryDto {
    fn from(page: &HistoryPage) -> Self {
        Self {
            calls: page
                .calls
                .iter()
                .map(|c| HistoryCallDto::of(c, page.read_at))
                .collect(),
            next_cursor: page.next.map(|c| encode_cursor(&c)),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HistoryCallDto {
    id: String,
    slot: u16,
    caller_number: Option<String>,
    caller_name: Option<String>,
    parked_by: String,
    parked_at: String,
    retrieved_by: Option<String>,
    ended_at: Option<String>,
    outcome: &'static str,
    seconds_on_hold: u64,
    ringbacks: u32,
    /// Whether the caller left a voicemail recording.
    voicemail: bool,
    voicemail_handled_by: Option<String>,
    voicemail_handled_at: Option<String>,
}

impl HistoryCallDto {
    pub(crate) fn of(c: &ParkedCall, now: OffsetDateTime) -> Self {
        Self {
            id: c.id.to_string(),
            slot: c.slot.get(),
            caller_number: c.caller.number.as_ref().map(ToString::to_string),
            caller_name: c.caller.name.as_ref().map(ToString::to_string),
            parked_by: c.parked_by.to_string(),
            parked_at: rfc3339(c.parked_at),
            retrieved_by: c.retrieved_by().map(ToString::to_string),
            ended_at: c.ended_at.map(rfc3339),
            outcome: Outcome::of(c.state).as_str(),
            seconds_on_hold: c.time_on_hold(now).as_secs(),
            ringbacks: c.ringbacks,
            voicemail: c.recording_url.is_some(),
            voicemail_handled_by: c.voicemail_handled.as_ref().map(|h| h.by.to_string()),
            voicemail_handled_at: c.voicemail_handled.as_ref().map(|h| rfc3339(h.at)),
        }
    }
}

/// A cursor as clients are handed it: opaque, URL-safe, the last call's park time (in
/// nanoseconds) and id.
fn encode_cursor(cursor: &HistoryCursor) -> String {
    let text = format!(
        "{}:{}",
        cursor.parked_at().unix_timestamp_nanos(),
        cursor.id()
    );
    URL_SAFE_NO_PAD.encode(text)
}

fn decode_cursor(text: &str) -> Option<HistoryCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (nanos, id) = text.split_once(':')?;
    let parked_at = OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?;
    Some(HistoryCursor::new(parked_at, ParkedCallId::parse(id).ok()?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paging {
    Allowed,
    Refused,
}

/// The query string read strictly: every parameter known, given once, and well-formed.
fn history_query(query: &str, paging: Paging) -> Result<HistoryQuery, ApiError> {
    let mut history = HistoryQuery {
        filter: HistoryFilter::default(),
        after: None,
        limit: PageLimit::DEFAULT,
    };
    for (name, value) in &strict_pairs(query)? {
        parameter(&mut history, name, value, paging)?;
    }
    Ok(history)
}

/// The query string's parameters, each given at most once.
pub(crate) fn strict_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|_| ApiError::invalid("the query string is not well-formed"))?
        .into_inner();
    for (i, (name, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(ApiError::invalid(format!("`{name}` is given twice")));
        }
    }
    Ok(pairs)
}

fn parameter(
    query: &mut HistoryQuery,
    name: &str,
    value: &str,
    paging: Paging,
) -> Result<(), ApiError> {
    let filter = &mut query.filter;
    match name {
        "from" => filter.parked_from = Some(instant(name, value)?),
        "to" => filter.parked_before = Some(instant(name, value)?),
        "outcome" => {
            filter.outcome = Some(Outcome::from_name(value).ok_or_else(|| {
                ApiError::invalid(format!(
                    "`outcome` must be one of live, retrieved, abandoned, voicemail, failed, \
                     not {value:?}"
                ))
            })?);
        }
        "slot" => {
            let slot = value.parse().ok().and_then(|n| SlotNumber::new(n).ok());
            filter.slot = Some(slot.ok_or_else(|| {
                ApiError::invalid(format!(
                    "`slot` must be a whole number from 1 to 999, not {value:?}"
                ))
            })?);
        }
        "agent" => {
            filter.agent = Some(AgentIdentity::parse(value).map_err(|_| {
                ApiError::invalid(format!(
                    "`agent` must be an agent identity (1 to 64 letters, digits or \
                     underscores), not {value:?}"
                ))
            })?);
        }
        "cursor" if paging == Paging::Allowed => {
            query.after =
                Some(decode_cursor(value).ok_or_else(|| {
                    ApiError::invalid("`cursor` is not one this service handed out")
                })?);
        }
        "limit" if paging == Paging::Allowed => {
            let limit = value.parse().ok().and_then(|n| PageLimit::new(n).ok());
            query.limit = limit.ok_or_else(|| {
                ApiError::invalid(format!(
                    "`limit` must be a whole number from 1 to 500, not {value:?}"
                ))
            })?;
        }
        "cursor" | "limit" => {
            return Err(ApiError::invalid(format!(
                "`{name}` is for the pages of /api/history; the CSV holds every call"
            )));
        }
        other => {
            return Err(ApiError::invalid(format!(
                "unknown parameter `{other}`: the history takes from, to, outcome, slot, \
                 agent, cursor and limit"
            )));
        }
    }
    Ok(())
}

pub(crate) fn instant(name: &str, value: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        ApiError::invalid(format!(
            "`{name}` must be an RFC 3339 time such as 2026-12-01T09:00:00Z, not {value:?}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::{quoted, text_cell};

    #[track_caller]
    fn check(caller_name: &str, cell: &str) {
        let mut out = String::new();
        quoted(&mut out, &text_cell(caller_name));
        assert_eq!(out, cell, "{caller_name:?}");
    }

    #[test]
    fn a_caller_name_is_one_cell_a_spreadsheet_reads_as_text() {
        check("Grace Hopper", "Grace Hopper");
        check("Hopper, Grace", "\"Hopper, Grace\"");
        check("\"Amazing\" Grace", "\"\"\"Amazing\"\" Grace\"");
        check("line\nbreak", "\"line\nbreak\"");
        check("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"");
        check("+1 555", "'+1 555");
        check("-2", "'-2");
        check("@SUM(A1)", "'@SUM(A1)");
    }
}
