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
pub(crate) mod openapi;
pub(crate) mod operations;
pub(crate) mod pages;
pub(crate) mod request_span;
mod settings;
mod static_files;
mod stream;
mod vendor;
mod webhook_endpoints;
mod webhooks;
mod workbench;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::web::{self, get, post};

use crate::auth::extract::AreaUser;
use crate::auth::{AdminUser, CustomerUser, VendorUser};
use openapi::{Doc, Table, doc};

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
/// `{param}` it passes, so the hot paths come first: `/health`, then the API (its table below),
/// whose scopes are plain prefixes (with each area's messaging routes first), then the pages.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    api(&mut openapi::Routes::new(cfg));
    pages(cfg);
}

/// The API: every route with what it takes and answers, served and documented from this one
/// table (`openapi`). A route for a signed-in person unless its doc says otherwise.
pub(crate) fn api<T: Table>(t: &mut T) {
    use crate::accounts::provision::{PersonInput as PlatformPerson, StoreInput};
    use crate::accounts::service::PersonChange;
    use crate::accounts::{Customer, Store, User};
    use crate::alerts::AlertFilter;
    use crate::domain::Page;
    use crate::email::feedback::Received;
    use crate::email::settings::{SettingsChange, SettingsView, Verification};
    use crate::email::templates::{
        EmailTemplate, Preview, PreviewRequest, StoreOverride, TemplateFields, TemplateFilter,
    };
    use crate::integration::keys::{KeyInput, NewKey};
    use crate::messaging::ConversationDetail;
    use crate::messaging::event_log::EventPage;
    use crate::messaging::topics::{Topic, TopicInput};
    use crate::platform::Setting;

    t.get(
        "/health",
        operations::health,
        doc("The process answers")
            .public()
            .answers::<operations::Health>(),
    );
    t.get(
        "/health/ready",
        operations::ready,
        doc("Ready to work: the database writable, the disk above its floor, the schema current (503 with the failed check otherwise)")
            .public()
            .answers::<crate::health::Readiness>(),
    );
    t.get(
        "/api/openapi.json",
        openapi::serve_document,
        doc("This document").public().answers::<openapi::AnyJson>(),
    );
    t.get(
        "/api/docs",
        openapi::serve_reference,
        doc("The API reference page (works offline)")
            .public()
            .page(),
    );
    t.scope("/api/v1", |t| {
        t.scope("/webhooks/email", |t| {
            let received = || doc("").provider().answers::<Received>();
            t.post("/sendgrid", webhooks::sendgrid, Doc { summary: "SendGrid's event webhook (signed)", ..received() });
            t.post("/mailgun", webhooks::mailgun, Doc { summary: "Mailgun's event webhook (signed)", ..received() });
            t.post("/ses", webhooks::ses, Doc { summary: "Amazon SNS notifications of SES events (signed)", ..received() });
        });
        t.scope("/admin", |t| {
            messages::table::<AdminUser, T>(t);
            t.get("/events", events::for_area::<AdminUser>, doc("Events the admin may see, after a sequence number").query::<events::EventsQuery>().answers::<EventPage>());
            t.post("/auth/login", auth::login_admin, doc("Sign in").public().takes::<auth::LoginRequest>().answers::<auth::SessionResponse>());
            auth_routes::<AdminUser, T>(t);
            t.post("/stores", admin::create_store, doc("Create a store").takes::<admin::CreateStore>().answers_with::<Store>(201));
            t.get("/stores", admin::list_stores, doc("The stores").query::<Page>().answers::<admin::StoreList>());
            t.get("/stores/{store_id}", admin::get_store, doc("A store").answers::<Store>());
            t.patch("/stores/{store_id}", admin::update_store, doc("Rename a store, change its tier, disable or enable it").takes::<admin::UpdateStore>().answers::<Store>());
            t.post("/stores/{store_id}/users", admin::create_store_user, doc("Add a staff member to a store").takes::<admin::CreateUser>().answers_with::<User>(201));
            t.get("/stores/{store_id}/users", admin::list_store_users, doc("A store's staff").query::<Page>().answers::<admin::UserList>());
            t.patch("/stores/{store_id}/users/{user_id}", admin::update_store_user, doc("Rename, disable or enable a staff member").takes::<PersonChange>().answers::<User>());
            t.post("/stores/{store_id}/customers", admin::create_customer, doc("Add a customer to a store").takes::<admin::CreateCustomer>().answers_with::<Customer>(201));
            t.get("/stores/{store_id}/customers", admin::list_customers, doc("A store's customers").query::<Page>().answers::<admin::CustomerList>());
            t.patch("/stores/{store_id}/customers/{customer_id}", admin::update_customer, doc("Rename, disable or enable a customer").takes::<PersonChange>().answers::<Customer>());
            t.get("/email-templates", email::list_templates, doc("The platform's email templates").query::<TemplateFilter>().answers::<email::TemplateList>());
            t.post("/email-templates", email::create_template, doc("Add an email template").takes::<TemplateFields>().answers_with::<EmailTemplate>(201));
            t.post("/email-templates/preview", email::admin_preview, doc("Render a template with sample or given variables").takes::<PreviewRequest>().answers::<Preview>());
            t.get("/email-templates/{id}", email::get_template, doc("An email template").answers::<EmailTemplate>());
            t.put("/email-templates/{id}", email::update_template, doc("Change an email template").takes::<TemplateFields>().answers::<EmailTemplate>());
            t.delete("/email-templates/{id}", email::delete_template, doc("Remove an email template").empty(204));
            t.get("/email-logs", email::admin_logs, doc("The email log of every store").query::<email::LogQuery>().answers::<email::LogList>());
            t.post("/email-logs/{id}/retry", email::retry_email, doc("Send a failed email again").answers::<email::Requeued>());
            t.get("/notifications", email_settings::list_notifications, doc("Admin notifications").query::<AlertFilter>().answers::<email_settings::NotificationList>());
            t.get("/notifications/unread-count", email_settings::notifications_unread, doc("Unread admin notifications").answers::<email_settings::UnreadNotifications>());
            t.put("/notifications/read-all", email_settings::read_all_notifications, doc("Mark every notification read").answers::<email_settings::MarkedRead>());
            t.put("/notifications/{id}/read", email_settings::read_notification, doc("Mark a notification read").answers::<email_settings::NotificationRead>());
            t.post("/api-keys", integration::create_key, doc("Create an integration key (shown once)").takes::<KeyInput>().answers_with::<NewKey>(201));
            t.get("/api-keys", integration::list_keys, doc("The integration keys").answers::<integration::KeyList>());
            t.delete("/api-keys/{id}", integration::revoke_key, doc("Revoke an integration key").empty(204));
            webhook_routes::<AdminUser, T>(t);
            t.get("/settings", settings::list_settings, doc("The platform settings").answers::<settings::SettingList>());
            t.get("/response-times", vendor::all_response_times, doc("How fast every store answers its customers").query::<vendor::ResponseTimesQuery>().answers::<vendor::ResponseTimes>());
            t.get("/topics", workbench::list_topics::<AdminUser>, doc("The operator's topics, with how many conversations carry each").answers::<workbench::TopicList>());
            t.post("/topics", workbench::create_topic, doc("Add a topic").takes::<TopicInput>().answers_with::<Topic>(201));
            t.put("/topics/{id}", workbench::update_topic, doc("Rename a topic or change who may choose it").takes::<TopicInput>().answers::<Topic>());
            t.delete("/topics/{id}", workbench::retire_topic, doc("Retire a topic (conversations keep it)").empty(204));
            saved_reply_routes::<AdminUser, T>(t);
            t.post("/announcements", workbench::announce, doc("Write to many stores at once: each gets its own conversation").takes::<workbench::AnnouncementRequest>().answers_with::<workbench::Announced>(201));
            t.get("/announcements", workbench::list_announcements, doc("Announcements, with how many stores got and read each").answers::<workbench::AnnouncementList>());
            t.get("/audit-log", admin::audit_log, doc("Who read or did what, when (oversight reads, provisioning)").query::<Page>().answers::<admin::AuditLog>());
            t.put("/settings/{key}", settings::update_setting, doc("Change a platform setting").takes::<settings::UpdateSetting>().answers::<Setting>());
        });
        t.scope("/vendor", |t| {
            messages::table::<VendorUser, T>(t);
            t.get("/events", events::for_area::<VendorUser>, doc("Events the staff member may see, after a sequence number").query::<events::EventsQuery>().answers::<EventPage>());
            t.post("/auth/login", auth::login_vendor, doc("Sign in").public().takes::<auth::LoginRequest>().answers::<auth::SessionResponse>());
            auth_routes::<VendorUser, T>(t);
            t.post("/customers", vendor::create_customer, doc("Add a customer to the store").takes::<admin::CreateCustomer>().answers_with::<Customer>(201));
            t.get("/customers", vendor::list_customers, doc("The store's customers").query::<Page>().answers::<admin::CustomerList>());
            t.patch("/customers/{customer_id}", vendor::update_customer, doc("Rename, disable or enable a customer").takes::<PersonChange>().answers::<Customer>());
            t.get("/email-templates", email::vendor_templates, doc("The templates the store may have its own version of").answers::<email::OverridableList>());
            t.post("/email-templates/preview", email::vendor_preview, doc("Render a template as the store's customers would get it").takes::<PreviewRequest>().answers::<Preview>());
            t.put("/email-templates/{code}/{language}", email::put_override, doc("The store's own version of a template").takes::<email::OverrideRequest>().answers::<StoreOverride>());
            t.delete("/email-templates/{code}/{language}", email::delete_override, doc("Back to the platform's template").empty(204));
            t.get("/topics", workbench::list_topics::<VendorUser>, doc("The operator's topics, with how many of the store's conversations carry each").answers::<workbench::TopicList>());
            saved_reply_routes::<VendorUser, T>(t);
            t.get("/response-times", vendor::response_times, doc("How fast the store answers its customers").query::<vendor::ResponseTimesQuery>().answers::<vendor::ResponseTimes>());
            t.get("/email-logs", email::vendor_logs, doc("The store's email log").query::<email::LogQuery>().answers::<email::LogList>());
            webhook_routes::<VendorUser, T>(t);
            t.get("/email-settings", email_settings::get_settings, doc("How the store's email leaves").answers::<SettingsView>());
            t.put("/email-settings", email_settings::update_settings, doc("Change how the store's email leaves").takes::<SettingsChange>().answers::<SettingsView>());
            t.post("/email-settings/verify", email_settings::verify_settings, doc("Check the store's email settings against the provider").answers::<Verification>());
        });
        t.scope("/integration", |t| {
            t.get("/events", events::for_platform, doc("Every event after a sequence number (scope events)").key().query::<events::EventsQuery>().answers::<EventPage>());
            t.post("/conversations", integration::find_or_open_conversation, doc("Find or open the conversation of a store and customer about something (scope conversations)").key().takes::<integration::ConversationRequest>().upserts::<ConversationDetail>());
            t.post("/sessions", integration::open_session, doc("A bearer session for a provisioned person, for the platform's own apps (scope sso)").key().takes::<integration::SessionRequest>().answers::<auth::SessionResponse>());
            t.put("/stores/{external_id}", integration::put_store, doc("Create or update a store by the platform's id (scope provision)").key().takes::<StoreInput>().upserts::<Store>());
            t.put("/stores/{store_external_id}/users/{external_id}", integration::put_staff, doc("Create or update a staff member by the platform's id (scope provision)").key().takes::<PlatformPerson>().upserts::<User>());
            t.put("/stores/{store_external_id}/customers/{external_id}", integration::put_customer, doc("Create or update a customer by the platform's id (scope provision)").key().takes::<PlatformPerson>().upserts::<Customer>());
        });
        t.scope("/shop", |t| {
            messages::table::<CustomerUser, T>(t);
            t.get("/events", events::for_area::<CustomerUser>, doc("Events the customer may see, after a sequence number").query::<events::EventsQuery>().answers::<EventPage>());
            t.post("/auth/register", auth::register, doc("Register with a store (202 when the address must be confirmed first)").public().takes::<auth::RegisterRequest>().answers_with::<auth::SessionResponse>(201).or_answers_with::<auth::Unverified>(202));
            t.post("/auth/verify-email", auth::verify_email, doc("Confirm the address with the emailed token; signs in").public().takes::<auth::VerifyRequest>().answers::<auth::SessionResponse>());
            t.get("/topics", workbench::list_topics::<CustomerUser>, doc("The topics a customer may choose").answers::<workbench::TopicList>());
            t.post("/auth/login", auth::login_shop, doc("Sign in to a store's shop").public().takes::<auth::ShopLoginRequest>().answers::<auth::SessionResponse>());
            auth_routes::<CustomerUser, T>(t);
        });
    });
}

/// Saved replies: the platform's (admins) or the store's (staff).
fn saved_reply_routes<U: AreaUser, T: Table>(t: &mut T) {
    use crate::messaging::saved_replies::{ReplyInput, SavedReply};
    t.get(
        "/saved-replies",
        workbench::list_replies::<U>,
        doc("The saved replies the caller may insert").answers::<workbench::ReplyList>(),
    );
    t.post(
        "/saved-replies",
        workbench::create_reply::<U>,
        doc("Save a reply (a template: customer_name, store_name, context_label, staff_name)")
            .takes::<ReplyInput>()
            .answers_with::<SavedReply>(201),
    );
    t.put(
        "/saved-replies/{id}",
        workbench::update_reply::<U>,
        doc("Change a saved reply")
            .takes::<ReplyInput>()
            .answers::<SavedReply>(),
    );
    t.delete(
        "/saved-replies/{id}",
        workbench::delete_reply::<U>,
        doc("Remove a saved reply").empty(204),
    );
    t.get(
        "/saved-replies/{id}/render",
        workbench::render_reply::<U>,
        doc("A saved reply filled in for one conversation")
            .query::<workbench::RenderQuery>()
            .answers::<workbench::RenderedReply>(),
    );
}

/// Single sign-on, passwords and the account of an area.
fn auth_routes<U: AreaUser, T: Table>(t: &mut T) {
    use crate::accounts::service::PersonChange;
    t.post(
        "/auth/sso",
        auth::sso::<U>,
        doc("Exchange the platform's single sign-on token for a session")
            .public()
            .takes::<auth::SsoRequest>()
            .answers::<auth::SessionResponse>(),
    );
    t.post(
        "/auth/forgot-password",
        auth::forgot_password::<U>,
        doc("Email a link to choose a new password (the same answer for every address)")
            .public()
            .takes::<auth::ForgotRequest>()
            .answers_with::<auth::Notice>(202),
    );
    t.post(
        "/auth/reset-password",
        auth::reset_password::<U>,
        doc("Choose a new password with the emailed token")
            .public()
            .takes::<auth::ResetRequest>()
            .empty(204),
    );
    t.post(
        "/auth/logout",
        auth::logout::<U>,
        doc("End the session").empty(204),
    );
    t.get(
        "/auth/me",
        auth::me::<U>,
        doc("The signed-in account").answers::<auth::MeResponse>(),
    );
    t.patch(
        "/auth/me",
        auth::update_me::<U>,
        doc("Change one's name or language")
            .takes::<PersonChange>()
            .answers::<crate::accounts::Profile>(),
    );
    t.post(
        "/auth/password",
        auth::change_password::<U>,
        doc("Change one's password (other sessions end)")
            .takes::<auth::PasswordChange>()
            .empty(204),
    );
}

/// Webhook endpoints: the platform's (admin) or a store's (vendor).
fn webhook_routes<U: AreaUser, T: Table>(t: &mut T) {
    use crate::integration::webhooks::{Endpoint, EndpointInput, NewEndpoint};
    t.post(
        "/webhooks",
        webhook_endpoints::create::<U>,
        doc("Register a webhook endpoint (its secret shown once)")
            .takes::<EndpointInput>()
            .answers_with::<NewEndpoint>(201),
    );
    t.get(
        "/webhooks",
        webhook_endpoints::list::<U>,
        doc("The webhook endpoints").answers::<webhook_endpoints::EndpointList>(),
    );
    t.patch(
        "/webhooks/{id}",
        webhook_endpoints::update::<U>,
        doc("Turn an endpoint off, or on again")
            .takes::<webhook_endpoints::EndpointChange>()
            .answers::<Endpoint>(),
    );
    t.delete(
        "/webhooks/{id}",
        webhook_endpoints::delete::<U>,
        doc("Remove an endpoint and its queue").empty(204),
    );
    t.get(
        "/webhooks/{id}/deliveries",
        webhook_endpoints::deliveries::<U>,
        doc("An endpoint's latest deliveries and the answers received")
            .query::<webhook_endpoints::LogQuery>()
            .answers::<webhook_endpoints::DeliveryLog>(),
    );
}

/// The web pages (HTML for browsers; not part of the API document).
fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", get().to(operations::metrics))
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
            post().to(pages::thread_action::<AdminUser>),
        )
        .route(
            "/vendor/messages/{id}/reply",
            post().to(pages::reply::<VendorUser>),
        )
        .route(
            "/vendor/messages/{id}/{action}",
            post().to(pages::thread_action::<VendorUser>),
        )
        .route(
            "/shop/account/messages/{id}/reply",
            post().to(pages::reply::<CustomerUser>),
        )
        .route(
            "/shop/account/messages/{id}/{action}",
            post().to(pages::thread_action::<CustomerUser>),
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
            "/admin/response-times",
            get().to(admin_pages::admin_response_times),
        )
        .route(
            "/vendor/response-times",
            get().to(admin_pages::vendor_response_times),
        )
        .route("/admin/audit-log", get().to(admin_pages::admin_audit_log))
        .route("/admin/topics", get().to(admin_pages::admin_topics))
        .route(
            "/admin/saved-replies",
            get().to(admin_pages::admin_saved_replies),
        )
        .route(
            "/vendor/saved-replies",
            get().to(admin_pages::vendor_saved_replies),
        )
        .route(
            "/admin/announcements",
            get().to(admin_pages::admin_announcements),
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
