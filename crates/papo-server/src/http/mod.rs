//! The axum application: `/api/v1` resources (one module each), operations endpoints, the
//! embedded web app, and the middleware every response passes through.

pub mod auth;
pub mod error;
pub mod extract;
pub mod gateway;
pub mod health;
pub mod identify_json;
pub mod messages;
pub mod metrics;
pub mod openapi;
pub mod servers;
pub mod timestamp;
pub mod users;

pub use timestamp::rfc3339;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{any, get};
use papo_core::error::ErrorCode;
use papo_core::id::UserId;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::http::error::{ApiError, InternalErrorReport};
use crate::state::AppState;

/// Counts a change others are told of (an edit, a reaction, one's own nickname or profile,
/// a new invite) against the member's burst (`change_rate_burst`): 429 `rate_limited` over
/// it. Each is an event to every member or viewer, or a row kept for them: unlimited, one
/// member could flood them all.
pub fn limit_change(state: &AppState, user: UserId) -> error::ApiResult<()> {
    state.change_rate.hit(&user.as_i64()).map_err(|wait| {
        ApiError::rate_limited(wait).with_message("You are making changes too fast.")
    })
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    // The API's routes carry their `/api/v1` themselves: `nest` would rebuild each request's
    // URI without it (2.7k instructions a request, `bench/callgrind`, quick S4 over REST).
    let api = Router::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(servers::router())
        .merge(messages::router())
        .route("/api/v1/gateway", get(gateway::upgrade))
        .method_not_allowed_fallback(api_method_not_allowed)
        .route("/api/v1", any(api_not_found))
        .route("/api/v1/{*rest}", any(api_not_found));
    // What reads the matched route (metrics by route pattern) is applied to each route.
    let routes = Router::new()
        .merge(api)
        .merge(health::router())
        .merge(openapi::swagger_ui())
        .fallback(crate::web::serve_asset)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .with_state(state);
    // The rest wraps the router once. `Router::layer` boxes each route once more per layer,
    // and a request clones its route's whole chain of boxes: with these six layers there
    // too, ~43 boxes in 55 allocations a request, 5 in 9 without (`bench/callgrind`, quick
    // S4 over REST: 6.7k instructions a request).
    let edge = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RandomRequestId))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }).on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(middleware::from_fn(security_headers))
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_internal_errors))
        .layer(middleware::from_fn(undecodable_paths))
        .service(routes);
    Router::new().fallback_service(edge)
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: 64 random bits in hex (a client-sent `x-request-id` is kept).
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        // By hand: `format!` and `HeaderValue::from_str` took 727 instructions a request.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let bits = rand::random::<u64>();
        let mut id = [0u8; 16];
        for (i, digit) in id.iter_mut().enumerate() {
            *digit = HEX[(bits >> (60 - 4 * i)) as usize & 0xf];
        }
        HeaderValue::from_bytes(&id).ok().map(RequestId::new)
    }
}

/// The Content-Security-Policy of every page: our own scripts only, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; \
    media-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Adds the security headers to every response that does not set its own.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

async fn api_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound).with_message("Unknown API route.")
}

async fn api_method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed)
}

/// An API path whose escapes are not UTF-8 (`/api/v1/servers/%ff`) names nothing: a JSON
/// 404 like any unknown route's (axum's path extractor answered it in plain text). Decoded
/// only when the path has an escape.
async fn undecodable_paths(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/")
        && path.contains('%')
        && percent_encoding::percent_decode_str(path)
            .decode_utf8()
            .is_err()
    {
        return ApiError::new(ErrorCode::NotFound)
            .with_message("Unknown API route.")
            .into_response();
    }
    next.run(req).await
}

/// Logs the cause of every 500 inside the request's span (so with its request id).
async fn log_internal_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if let Some(report) = response.extensions().get::<InternalErrorReport>() {
        tracing::error!(error = %report.0, "internal error");
    }
    response
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    state.metrics.observe(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
