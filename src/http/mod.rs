//! The HTTP edge: the route table and the handlers, which parse input, call the services with the
//! caller's actor, and shape the answers. No SQL here.

mod admin;
mod admin_pages;
mod auth;
mod email;
mod email_settings;
pub(crate) mod error_shapes;
mod events;
mod integration;
pub(crate) mod messages;
pub(crate) mod pages;
pub(crate) mod request_span;
mod settings;
mod static_files;
mod stream;
mod vendor;
mod webhook_endpoints;
mod webhooks;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::web::{self, delete, get, patch, post, put};

use crate::auth::{AdminUser, CustomerUser, VendorUser};

/// `HEAD` is answered as `GET` would be: the route matches as a `GET`, and the connection, which
/// remembers the request was a `HEAD`, sends the headers (with the body's length) and no body.
pub(crate) fn head_as_get<S, B>(
    mut req: ServiceRequest,
    service: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    service.call(req)
}

/// The route table. The router tries services in order and runs a regex for every pattern with a
/// `{param}` it passes, so the hot paths come first: `/health`, then the API, whose scopes are
/// plain prefixes (with each area's messaging routes first), then the pages.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", get().to(static_files::health))
        .service(
            web::scope("/api/v1")
                .service(
                    web::scope("/webhooks/email")
                        .route("/sendgrid", post().to(webhooks::sendgrid))
                        .route("/mailgun", post().to(webhooks::mailgun))
                        .route("/ses", post().to(webhooks::ses)),
                )
                .service(
                    web::scope("/admin")
                        .service(messages::scope::<AdminUser>())
                        .route("/events", get().to(events::for_area::<AdminUser>))
                        .route("/auth/login", post().to(auth::login_admin))
                        .route("/auth/sso", post().to(auth::sso::<AdminUser>))
                        .route(
                            "/auth/forgot-password",
                            post().to(auth::forgot_password::<AdminUser>),
                        )
                        .route(
                            "/auth/reset-password",
                            post().to(auth::reset_password::<AdminUser>),
                        )
                        .route("/auth/logout", post().to(auth::logout::<AdminUser>))
                        .route("/auth/me", get().to(auth::me::<AdminUser>))
                        .route("/auth/me", patch().to(auth::update_me::<AdminUser>))
                        .route(
                            "/auth/password",
                            post().to(auth::change_password::<AdminUser>),
                        )
                        .route("/stores", post().to(admin::create_store))
                        .route("/stores", get().to(admin::list_stores))
                        .route("/stores/{store_id}", get().to(admin::get_store))
                        .route("/stores/{store_id}", patch().to(admin::update_store))
                        .route(
                            "/stores/{store_id}/users",
                            post().to(admin::create_store_user),
                        )
                        .route(
                            "/stores/{store_id}/users",
                            get().to(admin::list_store_users),
                        )
                        .route(
                            "/stores/{store_id}/users/{user_id}",
                            patch().to(admin::update_store_user),
                        )
                        .route(
                            "/stores/{store_id}/customers",
                            post().to(admin::create_customer),
                        )
                        .route(
                            "/stores/{store_id}/customers",
                            get().to(admin::list_customers),
                        )
                        .route(
                            "/stores/{store_id}/customers/{customer_id}",
                            patch().to(admin::update_customer),
                        )
                        .route("/email-templates", get().to(email::list_templates))
                        .route("/email-templates", post().to(email::create_template))
                        .route("/email-templates/preview", post().to(email::admin_preview))
                        .route("/email-templates/{id}", get().to(email::get_template))
                        .route("/email-templates/{id}", put().to(email::update_template))
                        .route("/email-templates/{id}", delete().to(email::delete_template))
                        .route("/email-logs", get().to(email::admin_logs))
                        .route(
                            "/notifications",
                            get().to(email_settings::list_notifications),
                        )
                        .route(
                            "/notifications/unread-count",
                            get().to(email_settings::notifications_unread),
                        )
                        .route(
                            "/notifications/read-all",
                            put().to(email_settings::read_all_notifications),
                        )
                        .route(
                            "/notifications/{id}/read",
                            put().to(email_settings::read_notification),
                        )
                        .route("/email-logs/{id}/retry", post().to(email::retry_email))
                        .route("/api-keys", post().to(integration::create_key))
                        .route("/api-keys", get().to(integration::list_keys))
                        .route("/api-keys/{id}", delete().to(integration::revoke_key))
                        .route(
                            "/webhooks",
                            post().to(webhook_endpoints::create::<AdminUser>),
                        )
                        .route("/webhooks", get().to(webhook_endpoints::list::<AdminUser>))
                        .route(
                            "/webhooks/{id}",
                            patch().to(webhook_endpoints::update::<AdminUser>),
                        )
                        .route(
                            "/webhooks/{id}",
                            delete().to(webhook_endpoints::delete::<AdminUser>),
                        )
                        .route(
                            "/webhooks/{id}/deliveries",
                            get().to(webhook_endpoints::deliveries::<AdminUser>),
                        )
                        .route("/settings", get().to(settings::list_settings))
                        .route("/settings/{key}", put().to(settings::update_setting)),
                )
                .service(
                    web::scope("/vendor")
                        .service(messages::scope::<VendorUser>())
                        .route("/events", get().to(events::for_area::<VendorUser>))
                        .route("/auth/login", post().to(auth::login_vendor))
                        .route("/auth/sso", post().to(auth::sso::<VendorUser>))
                        .route(
                            "/auth/forgot-password",
                            post().to(auth::forgot_password::<VendorUser>),
                        )
                        .route(
                            "/auth/reset-password",
                            post().to(auth::reset_password::<VendorUser>),
                        )
                        .route("/auth/logout", post().to(auth::logout::<VendorUser>))
                        .route("/auth/me", get().to(auth::me::<VendorUser>))
                        .route("/auth/me", patch().to(auth::update_me::<VendorUser>))
                        .route(
                            "/auth/password",
                            post().to(auth::change_password::<VendorUser>),
                        )
                        .route("/customers", post().to(vendor::create_customer))
                        .route("/customers", get().to(vendor::list_customers))
                        .route("/customers/{id}", patch().to(vendor::update_customer))
                        .route("/email-templates", get().to(email::vendor_templates))
                        .route("/email-templates/preview", post().to(email::vendor_preview))
                        .route(
                            "/email-templates/{code}/{language}",
                            put().to(email::put_override),
                        )
                        .route(
                            "/email-templates/{code}/{language}",
                            delete().to(email::delete_override),
                        )
                        .route("/email-logs", get().to(email::vendor_logs))
                        .route(
                            "/webhooks",
                            post().to(webhook_endpoints::create::<VendorUser>),
                        )
                        .route("/webhooks", get().to(webhook_endpoints::list::<VendorUser>))
                        .route(
                            "/webhooks/{id}",
                            patch().to(webhook_endpoints::update::<VendorUser>),
                        )
                        .route(
                            "/webhooks/{id}",
                            delete().to(webhook_endpoints::delete::<VendorUser>),
                        )
                        .route(
                            "/webhooks/{id}/deliveries",
                            get().to(webhook_endpoints::deliveries::<VendorUser>),
                        )
                        .route("/email-settings", get().to(email_settings::get_settings))
                        .route("/email-settings", put().to(email_settings::update_settings))
                        .route(
                            "/email-settings/verify",
                            post().to(email_settings::verify_settings),
                        ),
                )
                .service(
                    web::scope("/integration")
                        .route("/events", get().to(events::for_platform))
                        .route(
                            "/conversations",
                            post().to(integration::find_or_open_conversation),
                        )
                        .route("/stores/{external_id}", put().to(integration::put_store))
                        .route(
                            "/stores/{store_external_id}/users/{external_id}",
                            put().to(integration::put_staff),
                        )
                        .route(
                            "/stores/{store_external_id}/customers/{external_id}",
                            put().to(integration::put_customer),
                        ),
                )
                .service(
                    web::scope("/shop")
                        .service(messages::scope::<CustomerUser>())
                        .route("/events", get().to(events::for_area::<CustomerUser>))
                        .route("/auth/login", post().to(auth::login_shop))
                        .route("/auth/sso", post().to(auth::sso::<CustomerUser>))
                        .route(
                            "/auth/forgot-password",
                            post().to(auth::forgot_password::<CustomerUser>),
                        )
                        .route(
                            "/auth/reset-password",
                            post().to(auth::reset_password::<CustomerUser>),
                        )
                        .route("/auth/register", post().to(auth::register))
                        .route("/auth/verify-email", post().to(auth::verify_email))
                        .route("/auth/logout", post().to(auth::logout::<CustomerUser>))
                        .route("/auth/me", get().to(auth::me::<CustomerUser>))
                        .route("/auth/me", patch().to(auth::update_me::<CustomerUser>))
                        .route(
                            "/auth/password",
                            post().to(auth::change_password::<CustomerUser>),
                        ),
                ),
        )
        .route("/assets/{path:.*}", get().to(static_files::asset))
        .route("/favicon.ico", get().to(static_files::favicon))
        .route("/", get().to(pages::home))
        .route("/sso/{area}", get().to(pages::sso))
        .route("/shop/verify-email", get().to(pages::verify_form))
        .route("/shop/verify-email", post().to(pages::verify_submit))
        .route("/{area}/forgot-password", get().to(pages::forgot_form))
        .route("/{area}/forgot-password", post().to(pages::forgot_submit))
        .route("/{area}/reset-password", get().to(pages::reset_form))
        .route("/{area}/reset-password", post().to(pages::reset_submit))
        .route("/{area}/login", get().to(pages::login_form))
        .route("/{area}/login", post().to(pages::login_submit))
        .route("/{area}/logout", post().to(pages::logout_submit))
        .route(
            "/admin/messages/{id}/reply",
            post().to(pages::reply::<AdminUser>),
        )
        .route(
            "/admin/messages/{id}/{action}",
            post().to(pages::close_or_reopen::<AdminUser>),
        )
        .route(
            "/vendor/messages/{id}/reply",
            post().to(pages::reply::<VendorUser>),
        )
        .route(
            "/vendor/messages/{id}/{action}",
            post().to(pages::close_or_reopen::<VendorUser>),
        )
        .route(
            "/shop/account/messages/{id}/reply",
            post().to(pages::reply::<CustomerUser>),
        )
        .route("/admin/messages", get().to(pages::inbox::<AdminUser>))
        .route("/admin/messages/{id}", get().to(pages::thread::<AdminUser>))
        .route("/vendor/messages", get().to(pages::inbox::<VendorUser>))
        .route(
            "/vendor/messages/{id}",
            get().to(pages::thread::<VendorUser>),
        )
        .route(
            "/shop/account",
            get().to(admin_pages::account::<CustomerUser>),
        )
        .route(
            "/vendor/account",
            get().to(admin_pages::account::<VendorUser>),
        )
        .route(
            "/admin/account",
            get().to(admin_pages::account::<AdminUser>),
        )
        .route("/vendor/team", get().to(admin_pages::vendor_team))
        .route("/admin/stores", get().to(admin_pages::admin_stores))
        .route("/admin/settings", get().to(admin_pages::admin_settings))
        .route("/admin/api-keys", get().to(admin_pages::admin_api_keys))
        .route("/admin/api-keys/{id}", get().to(admin_pages::admin_api_key))
        .route(
            "/admin/webhooks",
            get().to(admin_pages::webhooks_page::<AdminUser>),
        )
        .route(
            "/admin/webhooks/{id}",
            get().to(admin_pages::webhook_page::<AdminUser>),
        )
        .route(
            "/vendor/webhooks",
            get().to(admin_pages::webhooks_page::<VendorUser>),
        )
        .route(
            "/vendor/webhooks/{id}",
            get().to(admin_pages::webhook_page::<VendorUser>),
        )
        .route("/admin/stores/{id}", get().to(admin_pages::admin_store))
        .route("/vendor/customers", get().to(admin_pages::vendor_customers))
        .route("/admin/email-logs", get().to(admin_pages::admin_email_logs))
        .route(
            "/admin/notifications",
            get().to(admin_pages::admin_notifications),
        )
        .route(
            "/admin/email-templates",
            get().to(admin_pages::admin_templates),
        )
        .route(
            "/admin/email-templates/{id}",
            get().to(admin_pages::admin_template),
        )
        .route(
            "/vendor/email-templates",
            get().to(admin_pages::vendor_templates),
        )
        .route(
            "/vendor/email-templates/{code}/{language}",
            get().to(admin_pages::vendor_template),
        )
        .route(
            "/vendor/email-settings",
            get().to(admin_pages::vendor_settings),
        )
        .route(
            "/vendor/email-logs",
            get().to(admin_pages::vendor_email_logs),
        )
        .route(
            "/shop/account/messages",
            get().to(pages::inbox::<CustomerUser>),
        )
        .route(
            "/shop/account/messages/{id}",
            get().to(pages::thread::<CustomerUser>),
        )
        .route("/unsubscribe/{token}", get().to(email::unsubscribe_page))
        .route("/t/o/{token}", get().to(webhooks::open_pixel))
        .route("/t/c/{token}/{n}", get().to(webhooks::click))
        .route("/unsubscribe/{token}", post().to(email::unsubscribe));
}
