//! Request extractors with Papo's error format: JSON bodies and client metadata.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use serde::de::DeserializeOwned;

use crate::http::error::ApiError;
use crate::state::AppState;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body: 415 without a JSON content type, 413 over [`MAX_BODY_BYTES`], 400
/// `invalid_json` when malformed, 422 `validation_failed` naming the field when a value has
/// the wrong type or a field is missing or unknown.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let body = JsonBody::<T>::from_request(req, state).await?;
        body.parse().map(ApiJson)
    }
}

/// A JSON body read (content type and size checked) but not yet parsed, so that a handler
/// can check access first: a caller who may not see a resource learns nothing from the
/// validation of their body.
pub struct JsonBody<T> {
    bytes: Bytes,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> JsonBody<T> {
    /// Parses the body (see [`ApiJson`] for the errors).
    pub fn parse(&self) -> Result<T, ApiError> {
        parse_json(&self.bytes)
    }

    /// Like [`JsonBody::parse`], but an empty body means `T::default()` (optional bodies,
    /// e.g. a ban without a reason).
    pub fn parse_or_default(&self) -> Result<T, ApiError>
    where
        T: Default,
    {
        if self.bytes.is_empty() {
            Ok(T::default())
        } else {
            self.parse()
        }
    }
}

impl<T, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json") || m.ends_with("+json")
            });
        let declared_empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_none_or(|v| v.as_bytes() == b"0");
        if !is_json && !declared_empty {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge)
                    .with_message("The request body is larger than 1 MiB.")
            } else {
                ApiError::new(ErrorCode::BadRequest).with_message(rejection.body_text())
            }
        })?;
        if !is_json && !bytes.is_empty() {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
        }
        Ok(Self {
            bytes,
            _type: std::marker::PhantomData,
        })
    }
}

/// Query parameters with the same error mapping as [`ApiJson`]'s fields: 422
/// `validation_failed` naming the parameter that is missing or cannot be read (axum's own
/// `Query` answers those in plain text).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let (field, error) = describe_data_error(&path, &err.into_inner().to_string());
                ApiError::invalid_fields(FieldErrors::from([(field, error)]))
            })
    }
}

/// Parses JSON with the error mapping described on [`ApiJson`].
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first, so that malformed JSON is never reported as a wrong type.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|e| invalid_json(&e))?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let (field, error) = describe_data_error(&path, &inner.to_string());
                ApiError::invalid_fields(FieldErrors::from([(field, error)]))
            }
            _ => invalid_json(&inner),
        }
    })?;
    de.end().map_err(|e| invalid_json(&e))?;
    Ok(value)
}

fn invalid_json(err: &serde_json::Error) -> ApiError {
    ApiError::new(ErrorCode::InvalidJson)
        .with_message(format!("The request body is not valid JSON: {err}"))
}

/// Names the field a serde data error is about and classifies it.
fn describe_data_error(path: &str, message: &str) -> (String, FieldError) {
    let base = if path == "." { "" } else { path };
    let join = |name: &str| {
        if base.is_empty() {
            name.to_owned()
        } else {
            format!("{base}.{name}")
        }
    };
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let clean = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    if let Some(name) = quoted("missing field `") {
        return (
            join(&name),
            FieldError::new(FieldCode::Required, "This field is required."),
        );
    }
    if let Some(name) = quoted("unknown field `") {
        // The path already ends at the unknown key.
        let already = base == name || base.ends_with(&format!(".{name}"));
        let field = if already {
            base.to_owned()
        } else {
            join(&name)
        };
        return (
            field,
            FieldError::new(FieldCode::InvalidValue, "Unknown field."),
        );
    }
    let field = if base.is_empty() {
        "body".to_owned()
    } else {
        base.to_owned()
    };
    let code = if message.starts_with("invalid type") {
        FieldCode::InvalidType
    } else {
        FieldCode::InvalidValue
    };
    (field, FieldError::new(code, expectation(&clean)))
}

/// What a serde data error expected, for people: never the value sent (it may be a
/// password) nor the server's own type names ("struct RegisterRequest").
fn expectation(message: &str) -> String {
    let Some((_, expected)) = message.split_once(", expected ") else {
        // The server's own words ("permissions are a decimal string"), or a field's name.
        return message.to_owned();
    };
    let expected = if expected.starts_with("struct ") || expected.starts_with("map") {
        "an object"
    } else if expected.starts_with("tuple") || expected.starts_with("sequence") {
        "a list"
    } else {
        match expected {
            "u8" | "u16" | "u32" | "u64" | "i32" | "i64" | "usize" => "a whole number in range",
            "f32" | "f64" => "a number",
            other => other,
        }
    };
    format!("Expected {expected}.")
}

/// Who is calling: the client address and user agent, for sessions and rate limits.
#[derive(Clone, Debug)]
pub struct ClientMeta {
    /// The client's address (the last `X-Forwarded-For` entry when the proxy is trusted).
    pub ip: Option<String>,
    /// The `User-Agent` header, at most 256 bytes.
    pub user_agent: Option<String>,
}

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = state
            .config
            .trust_proxy
            .then(|| {
                forwarded_for(
                    parts
                        .headers
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_bytes())),
                )
            })
            .flatten();
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| truncate(ua, 256).to_owned());
        Ok(Self {
            ip: forwarded.or(peer).map(|ip| ip.to_string()),
            user_agent,
        })
    }
}

/// The address a trusted proxy gave last in `X-Forwarded-For` (of the last such header): the
/// one that connected to the proxy. The entries before it are whatever the client sent, so
/// they are never taken. `None` when there is none, or it is not an IP address.
pub fn forwarded_for<'a>(headers: impl Iterator<Item = (&'a str, &'a [u8])>) -> Option<IpAddr> {
    let last = headers
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-forwarded-for"))
        .last()?;
    let entry = std::str::from_utf8(last.1).ok()?.rsplit(',').next()?.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    fn field_of(json: &str) -> (String, FieldCode) {
        let err = parse_json::<Body>(json.as_bytes()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed, "{json}");
        let fields = err.fields().expect("names a field");
        assert_eq!(fields.len(), 1);
        let (name, e) = fields.iter().next().unwrap();
        (name.clone(), e.code)
    }

    #[test]
    fn names_the_field() {
        assert_eq!(field_of("{}"), ("name".into(), FieldCode::Required));
        assert_eq!(
            field_of(r#"{"name": 1}"#),
            ("name".into(), FieldCode::InvalidType)
        );
        assert_eq!(
            field_of(r#"{"name": "a", "x": 1}"#),
            ("x".into(), FieldCode::InvalidValue)
        );
        assert_eq!(
            field_of(r#"{"name": "a", "inner": {"n": 300}}"#),
            ("inner.n".into(), FieldCode::InvalidValue)
        );
        assert_eq!(
            field_of(r#"{"name": "a", "inner": {}}"#),
            ("inner.n".into(), FieldCode::Required)
        );
    }

    #[test]
    fn data_errors_say_what_was_expected_without_the_value() {
        let message = |json: &str| {
            let err = parse_json::<Body>(json.as_bytes()).unwrap_err();
            let (_, e) = err.fields().unwrap().iter().next().unwrap();
            e.message.clone()
        };
        assert_eq!(message(r#"{"name": 123456789}"#), "Expected a string.");
        assert_eq!(message(r#"[]"#), "Expected an object.");
        assert_eq!(
            message(r#"{"name": "a", "inner": 5}"#),
            "Expected an object."
        );
        assert_eq!(
            message(r#"{"name": "a", "inner": {"n": 300}}"#),
            "Expected a whole number in range."
        );
        for json in [
            r#"{"name": 123456789}"#,
            "[]",
            r#"{"name": "a", "inner": {"n": 300}}"#,
        ] {
            let text = message(json);
            assert!(
                !text.contains("123456789") && !text.contains("300"),
                "{text}"
            );
            assert!(!text.contains("Body") && !text.contains("Inner"), "{text}");
        }
    }

    #[test]
    fn syntax_errors_are_invalid_json() {
        for bad in ["{", "not json", r#"{"name": "a"} trailing"#, ""] {
            assert_eq!(
                parse_json::<Body>(bad.as_bytes()).unwrap_err().code(),
                ErrorCode::InvalidJson,
                "{bad}"
            );
        }
    }

    #[test]
    fn the_forwarded_address_is_the_proxys_last_entry() {
        let of = |headers: &[(&'static str, &'static str)]| {
            forwarded_for(headers.iter().map(|(n, v)| (*n, v.as_bytes())))
        };
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(of(&[("X-Forwarded-For", "1.2.3.4")]), ip("1.2.3.4"));
        assert_eq!(
            of(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4 ")]),
            ip("1.2.3.4")
        );
        assert_eq!(
            of(&[
                ("x-forwarded-for", "6.6.6.6"),
                ("x-forwarded-for", "2001:db8::1")
            ]),
            ip("2001:db8::1")
        );
        assert_eq!(
            of(&[("x-forwarded-for", "[2001:db8::1]:443")]),
            ip("2001:db8::1")
        );
        assert_eq!(of(&[("x-forwarded-for", "1.2.3.4:80")]), ip("1.2.3.4"));
        for bad in ["", "1.2.3.4, ", "unknown", "1.2.3.4, <b>"] {
            assert_eq!(of(&[("x-forwarded-for", bad)]), None, "{bad}");
        }
        assert_eq!(of(&[("x-real-ip", "1.2.3.4")]), None);
    }
}
