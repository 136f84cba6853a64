//! JSON request bodies, refused in the caller's terms: which field is wrong and what it should
//! have been, never the parser's type names.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::ApiError;

/// The largest JSON body accepted; a larger one is 413.
pub const MAX_JSON_BODY: usize = 16 * 1024;

/// The longest a request's body may take to arrive once its headers have: a client that
/// stalls is answered 408 and its connection closed, instead of holding a worker.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads a whole body within [`BODY_TIMEOUT`].
///
/// # Errors
/// 408 when it takes longer, whatever `read` answers otherwise.
pub(crate) async fn within_timeout<T>(
    read: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            ))
        })
}

/// A JSON request body. An empty body reads as JSON `null`: `JsonBody<Option<B>>` is an
/// optional body, `JsonBody<B>` a required one. A body that is not exactly one JSON value of the
/// expected shape is 400; one that is not declared `application/json` is refused too, never
/// guessed at.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|ct| ct.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared_length.is_some_and(|n| n > MAX_JSON_BODY) {
                return Err(too_large());
            }
            let body = within_timeout(async {
                let mut body = web::BytesMut::new();
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk.map_err(|e| {
                        ApiError::invalid("the request body could not be read").with_cause(e)
                    })?;
                    if body.len() + chunk.len() > MAX_JSON_BODY {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            })
            .await?;
            parse(&body, declared_json).map(Self)
        })
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than {MAX_JSON_BODY} bytes"),
    )
}

/// Reads `body` as one `T`, or says what is wrong with it.
fn parse<T: DeserializeOwned>(body: &[u8], declared_json: bool) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_slice(b"null")
            .map_err(|_| ApiError::invalid("this request needs a JSON body"));
    }
    if !declared_json {
        return Err(ApiError::invalid(
            "the body must be JSON, sent with Content-Type: application/json",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| ApiError::invalid(describe(&e.path().to_string(), e.inner())))?;
    deserializer
        .end()
        .map_err(|e| ApiError::invalid(describe(".", &e)))?;
    Ok(value)
}

/// `slot: expected a whole number from 0 to 4294967295, got the string "two"`.
/// `path` is the field's, `.` for the body itself.
fn describe(path: &str, error: &serde_json::Error) -> String {
    match error.classify() {
        Category::Syntax | Category::Eof => format!(
            "the body is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ),
        Category::Data | Category::Io => {
            let text = error.to_string();
            // serde_json appends the position; the field's name says more.
            let message = text.rsplit_once(" at line ").map_or(&*text, |(m, _)| m);
            let what = in_user_terms(message);
            // An unknown field's path is the field itself, which the message already names.
            if path == "." || message.starts_with("unknown field") {
                what
            } else {
                format!("{path}: {what}")
            }
        }
    }
}

fn in_user_terms(message: &str) -> String {
    let mismatch = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "));
    if let Some((got, expected)) = mismatch {
        return format!(
            "expected {}, got {}",
            expected_thing(expected),
            got_thing(got)
        );
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("{field} is required");
    }
    if let Some(field) = message.strip_prefix("duplicate field ") {
        return format!("{field} is given twice");
    }
    if let Some((field, allowed)) = message
        .strip_prefix("unknown field ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        let allowed = allowed.strip_prefix("one of ").unwrap_or(allowed);
        return format!("unknown field {field} (the fields are {allowed})");
    }
    message.to_owned()
}

/// What serde says it expected (a Rust type, mostly), as the caller would say it.
fn expected_thing(expected: &str) -> String {
    let whole = |max: u64| format!("a whole number from 0 to {max}");
    match expected {
        "u8" => whole(u8::MAX.into()),
        "u16" => whole(u16::MAX.into()),
        "u32" => whole(u32::MAX.into()),
        "u64" | "usize" => whole(u64::MAX),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a sequence" => "a list".to_owned(),
        other if other.starts_with("struct ") || other == "a map" => "a JSON object".to_owned(),
        other => other.to_owned(),
    }
}

/// What serde says it found (`string "x"`, ``integer `5` ``), as the caller would say it.
fn got_thing(got: &str) -> String {
    for kind in ["integer ", "floating point ", "boolean "] {
        if let Some(value) = got.strip_prefix(kind) {
            return value.trim_matches('`').to_owned();
        }
    }
    if let Some(value) = got.strip_prefix("string ") {
        return format!("the string {value}");
    }
    match got {
        "map" => "an object".to_owned(),
        "sequence" => "a list".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)] // read only by the parser
    struct Park {
        call_sid: String,
        slot: Option<u32>,
        flags: Option<Vec<bool>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Retrieve {
        agent: Option<String>,
    }

    /// The message a request with `body` gets back, or `ok`.
    fn message<T: DeserializeOwned>(body: &str, declared_json: bool) -> String {
        match parse::<T>(body.as_bytes(), declared_json) {
            Ok(_) => "ok".to_owned(),
            Err(e) => {
                assert_eq!(e.code(), "invalid_request");
                e.message().to_owned()
            }
        }
    }

    #[track_caller]
    fn check<T: DeserializeOwned>(body: &str, expected: &str) {
        assert_eq!(message::<T>(body, true), expected, "body: {body}");
    }

    #[test]
    fn bad_bodies_are_explained_in_the_callers_terms() {
        check::<Park>(r#"{"callSid":"CA1"}"#, "ok");
        check::<Park>(
            r#"{"callSid":"CA1","slot":"two"}"#,
            r#"slot: expected a whole number from 0 to 4294967295, got the string "two""#,
        );
        check::<Park>(
            r#"{"callSid":"CA1","slot":-1}"#,
            "slot: expected a whole number from 0 to 4294967295, got -1",
        );
        check::<Park>(
            r#"{"callSid":"CA1","slot":1.5}"#,
            "slot: expected a whole number from 0 to 4294967295, got 1.5",
        );
        check::<Park>(r#"{"callSid":5}"#, "callSid: expected a string, got 5");
        check::<Park>(
            r#"{"callSid":"CA1","flags":[true,"x"]}"#,
            r#"flags[1]: expected true or false, got the string "x""#,
        );
        check::<Park>(r#"{"slot":1}"#, "`callSid` is required");
        check::<Park>(
            r#"{"callSid":"CA1","callSid":"CA2"}"#,
            "`callSid` is given twice",
        );
        check::<Park>(
            r#"{"callSid":"CA1","sid":1}"#,
            "unknown field `sid` (the fields are `callSid`, `slot`, `flags`)",
        );
        check::<Park>(
            r#""CA1""#,
            r#"expected a JSON object, got the string "CA1""#,
        );
        check::<Park>(
            "{\"callSid\":",
            "the body is not valid JSON (line 1, column 11)",
        );
        check::<Park>(
            r#"{"callSid":"CA1"} {}"#,
            "the body is not valid JSON (line 1, column 19)",
        );
        check::<Park>("", "this request needs a JSON body");
    }

    #[test]
    fn an_optional_body_may_be_empty_but_not_wrong() {
        check::<Option<Retrieve>>("", "ok");
        check::<Option<Retrieve>>("  \n", "ok");
        check::<Option<Retrieve>>("{}", "ok");
        check::<Option<Retrieve>>("null", "ok");
        check::<Option<Retrieve>>(r#"{"agent":7}"#, "agent: expected a string, got 7");
        check::<Option<Retrieve>>(
            r#"{"agnet":"bob"}"#,
            "unknown field `agnet` (the fields are `agent`)",
        );
    }

    #[test]
    fn a_body_not_declared_as_json_is_refused_not_guessed_at() {
        assert_eq!(
            message::<Park>(r#"{"callSid":"CA1"}"#, false),
            "the body must be JSON, sent with Content-Type: application/json"
        );
        assert_eq!(message::<Option<Retrieve>>("", false), "ok");
    }
}
