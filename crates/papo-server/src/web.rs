//! The web app (`web/dist`), embedded in the binary at build time and served at `/`.
//! Unknown non-API paths fall back to `index.html` so client-side routes survive a reload.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use papo_core::error::ErrorCode;
use rust_embed::RustEmbed;

use crate::http::error::ApiError;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
struct Assets;

/// Serves a built asset, or `index.html` for client routes.
pub async fn serve_asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") {
        return ApiError::new(ErrorCode::NotFound)
            .with_message("Unknown API route.")
            .into_response();
    }
    if let Some(file) = Assets::get(path).filter(|_| !path.is_empty()) {
        // Vite puts content hashes in the names of everything under assets/.
        let cache = if path.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return respond(file, cache);
    }
    // A missing file with an extension is a 404, not the app shell; under the app's own
    // routes a dot is part of a name or a code (an invite link mangled in a chat).
    let client_route = ["app/", "invite/", "settings/"]
        .iter()
        .any(|route| path.starts_with(route));
    let looks_like_file = !client_route
        && path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'));
    match Assets::get("index.html") {
        Some(index) if !looks_like_file => respond(index, "no-cache"),
        _ => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

fn respond(file: rust_embed::EmbeddedFile, cache: &'static str) -> Response {
    let mime = file.metadata.mimetype().to_owned();
    let mut response = (StatusCode::OK, file.data.into_owned()).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
