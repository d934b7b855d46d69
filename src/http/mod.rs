//! The HTTP edge: the route table and the handlers, which parse input, call the services with the
//! caller's actor, and shape the answers. No SQL here.

mod admin;
mod auth;
pub mod messages;
mod settings;
mod static_files;
mod vendor;

use actix_web::web::{self, get, patch, post, put};

use crate::auth::{AdminUser, CustomerUser, VendorUser};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", get().to(static_files::health))
        .route("/assets/{path:.*}", get().to(static_files::asset))
        .service(
            web::scope("/api/v1")
                .service(
                    web::scope("/admin")
                        .route("/auth/login", post().to(auth::login_admin))
                        .route("/auth/logout", post().to(auth::logout::<AdminUser>))
                        .route("/auth/me", get().to(auth::me::<AdminUser>))
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
                        .route("/settings", get().to(settings::list_settings))
                        .route("/settings/{key}", put().to(settings::update_setting))
                        .service(messages::scope::<AdminUser>()),
                )
                .service(
                    web::scope("/vendor")
                        .route("/auth/login", post().to(auth::login_vendor))
                        .route("/auth/logout", post().to(auth::logout::<VendorUser>))
                        .route("/auth/me", get().to(auth::me::<VendorUser>))
                        .route(
                            "/auth/password",
                            post().to(auth::change_password::<VendorUser>),
                        )
                        .route("/customers", post().to(vendor::create_customer))
                        .route("/customers", get().to(vendor::list_customers))
                        .service(messages::scope::<VendorUser>()),
                )
                .service(
                    web::scope("/shop")
                        .route("/auth/login", post().to(auth::login_shop))
                        .route("/auth/register", post().to(auth::register))
                        .route("/auth/logout", post().to(auth::logout::<CustomerUser>))
                        .route("/auth/me", get().to(auth::me::<CustomerUser>))
                        .route(
                            "/auth/password",
                            post().to(auth::change_password::<CustomerUser>),
                        )
                        .service(messages::scope::<CustomerUser>()),
                ),
        );
}
