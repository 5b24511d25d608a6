//! The OpenAPI document, generated from the handler annotations, and the offline Swagger UI.

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

/// Papo's REST API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Papo API", description = "Self-hosted chat, voice and video. Errors are `{code, message, fields?}` with stable snake_case codes."),
    paths(
        super::auth::register, super::auth::login, super::auth::refresh, super::auth::logout,
        super::auth::list_sessions, super::auth::revoke_session, super::auth::revoke_other_sessions,
        super::auth::change_password,
        super::users::get_me, super::users::patch_me, super::users::get_user,
        super::servers::list_permissions, super::servers::create_server, super::servers::my_servers,
        super::servers::get_server, super::servers::patch_server, super::servers::delete_server,
        super::servers::leave_server, super::servers::channels::list_channels,
        super::servers::channels::create_channel, super::servers::channels::patch_channel,
        super::servers::channels::delete_channel,
        super::servers::invites::create_invite, super::servers::invites::list_invites,
        super::servers::invites::revoke_invite, super::servers::invites::preview_invite,
        super::servers::invites::accept_invite, super::servers::channels::reorder_channels,
        super::servers::roles::list_roles, super::servers::roles::create_role,
        super::servers::roles::patch_role, super::servers::roles::delete_role,
        super::servers::overwrites::put_overwrite, super::servers::overwrites::delete_overwrite,
        super::servers::overwrites::sync_overwrites,
        super::servers::members::list_members, super::servers::members::get_member,
        super::servers::members::patch_member, super::servers::members::kick_member,
        super::servers::members::list_bans, super::servers::members::ban_member,
        super::servers::members::unban_member, super::servers::audit::list,
        super::messages::create_message, super::messages::history, super::messages::get_message,
        super::messages::edit_message, super::messages::delete_message,
        super::messages::bulk_delete, super::messages::reactions::add_reaction,
        super::messages::reactions::remove_reaction, super::messages::reactions::list_pins,
        super::messages::reactions::pin, super::messages::reactions::unpin,
        super::messages::read_states::ack, super::messages::read_states::list,
        super::health::healthz, super::health::readyz, super::health::metrics,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts, sessions and tokens"),
        (name = "users", description = "Profiles and settings"),
        (name = "servers", description = "Servers and permissions"),
        (name = "channels", description = "Channels of a server"),
        (name = "invites", description = "Invites to servers"),
        (name = "roles", description = "Roles and channel permission overwrites"),
        (name = "members", description = "Members, nicknames, timeouts, kicks and bans"),
        (name = "moderation", description = "The audit log"),
        (name = "messages", description = "Messages, reactions, pins and read states"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Swagger UI at `/api/docs` (files embedded in the binary, so it works offline) and the
/// document itself at `/api/v1/openapi.json`.
pub fn swagger_ui() -> Router<AppState> {
    Router::from(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", ApiDoc::openapi()))
}
