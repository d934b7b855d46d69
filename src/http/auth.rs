//! Login, registration, logout, `me` and password change for the three areas.

use std::net::IpAddr;

use actix_web::cookie::{Cookie, SameSite, time::OffsetDateTime};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::service::{self, PersonInput, Registered};
use crate::accounts::{self, recovery};
use crate::auth::extract::{AreaUser, cookie_name};
use crate::auth::session::{self, NewSession, Principal, SessionKind};
use crate::domain::{self, Actor, Area, Role};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    email: String,
    password: String,
    /// Ask for an HttpOnly cookie session (the web UI) instead of a bearer token.
    #[serde(default)]
    cookie: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShopLoginRequest {
    store_code: String,
    email: String,
    password: String,
    #[serde(default)]
    cookie: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    store_code: String,
    email: String,
    password: String,
    full_name: String,
    language: Option<String>,
    #[serde(default)]
    cookie: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SsoRequest {
    token: String,
    #[serde(default)]
    cookie: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// The answer to a login: the token (bearer) or the CSRF token (cookie session), and who it is.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SessionResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    token_type: &'static str,
    expires_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    #[serde(flatten)]
    who: Who,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) enum Who {
    #[serde(rename = "user")]
    User(accounts::User),
    #[serde(rename = "customer")]
    Customer(accounts::Customer),
}

/// The client address rate limits are keyed by. `X-Forwarded-For` is believed only when the
/// operator says a trusted proxy sits in front.
pub(super) fn client_ip(req: &HttpRequest, state: &AppState) -> IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if !state.settings.server.trust_forwarded_for {
        return peer;
    }
    req.headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next_back())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer)
}

fn session_kind(cookie: bool) -> SessionKind {
    if cookie {
        SessionKind::Cookie
    } else {
        SessionKind::Bearer
    }
}

pub(super) fn session_response(
    state: &AppState,
    area: Area,
    status: StatusCode,
    new: NewSession,
    kind: SessionKind,
    who: Who,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    let access_token = match kind {
        SessionKind::Bearer => Some(new.token),
        SessionKind::Cookie => {
            let secure = state.settings.secure_cookies();
            let expires = OffsetDateTime::from_unix_timestamp(new.expires_at.timestamp()).ok();
            let mut cookie = Cookie::build(cookie_name(area, secure), new.token)
                .path("/")
                .http_only(true)
                .secure(secure)
                .same_site(SameSite::Lax)
                .finish();
            cookie.set_expires(expires);
            response.cookie(cookie);
            None
        }
    };
    response.json(SessionResponse {
        access_token,
        token_type: match kind {
            SessionKind::Bearer => "bearer",
            SessionKind::Cookie => "cookie",
        },
        expires_at: new.expires_at,
        csrf_token: new.csrf_token,
        who,
    })
}

/// Checks both rate limits, then the password; unknown accounts and wrong passwords answer alike.
async fn check_login(
    state: &AppState,
    req: &HttpRequest,
    account_key: String,
    password: &str,
) -> Result<(), AppError> {
    state.login_limiter.check_ip(client_ip(req, state))?;
    state.login_limiter.check_account(account_key)?;
    if password.chars().count() > domain::PASSWORD_MAX {
        return Err(AppError::validation("password", "is too long"));
    }
    Ok(())
}

pub(crate) async fn login_admin(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    login_user(state, req, body.into_inner(), Area::Admin, Role::Admin).await
}

pub(crate) async fn login_vendor(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    login_user(state, req, body.into_inner(), Area::Vendor, Role::Store).await
}

async fn login_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: LoginRequest,
    area: Area,
    _role: Role,
) -> Result<HttpResponse, AppError> {
    let (principal, who) =
        check_credentials(&state, &req, area, None, &body.email, body.password).await?;
    start_session(&state, area, principal, who, session_kind(body.cookie)).await
}

pub(crate) async fn login_shop(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ShopLoginRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let (principal, who) = check_credentials(
        &state,
        &req,
        Area::Shop,
        Some(body.store_code),
        &body.email,
        body.password,
    )
    .await?;
    start_session(
        &state,
        Area::Shop,
        principal,
        who,
        session_kind(body.cookie),
    )
    .await
}

/// Checks a login for `area` (customers also name their store): rate limits, then the password.
/// Unknown accounts and wrong passwords answer alike.
pub(super) async fn check_credentials(
    state: &AppState,
    req: &HttpRequest,
    area: Area,
    store_code: Option<String>,
    email: &str,
    password: String,
) -> Result<(Principal, Who), AppError> {
    let email = email.trim().to_ascii_lowercase();
    let store_code = store_code.map(|c| c.trim().to_string());
    let account = match &store_code {
        Some(code) => format!("shop:{code}:{email}"),
        None => format!("{}:{email}", area.as_str()),
    };
    check_login(state, req, account, &password).await?;
    let found = state
        .db
        .read(move |conn| match (area, store_code) {
            (Area::Shop, Some(code)) => Ok::<_, AppError>(
                accounts::customer_credentials(conn, &code, &email)?
                    .map(|(c, hash)| ((Principal::Customer(c.id), Who::Customer(c)), hash)),
            ),
            (Area::Shop, None) => Ok(None),
            (area, _) => {
                let role = if area == Area::Admin {
                    Role::Admin
                } else {
                    Role::Store
                };
                Ok(accounts::user_credentials(conn, &email, role)?
                    .map(|(u, hash)| ((Principal::User(u.id), Who::User(u)), Some(hash))))
            }
        })
        .await?;
    let (who, hash) = match found {
        Some((who, hash)) => (Some(who), hash),
        None => (None, None),
    };
    let ok = state.hasher.verify(password, hash).await?;
    let (principal, who) = who.filter(|_| ok).ok_or(AppError::InvalidCredentials)?;
    // Only once the password is right: the answer must not tell who has an account.
    if let Principal::Customer(id) = principal {
        let unverified = state
            .db
            .read(move |conn| Ok::<_, AppError>(recovery::unverified(conn, id)?))
            .await?;
        if unverified {
            return Err(AppError::EmailNotVerified);
        }
    }
    Ok((principal, who))
}

/// Creates the session and answers with its token (bearer) or cookie.
pub(super) async fn start_session(
    state: &AppState,
    area: Area,
    principal: Principal,
    who: Who,
    kind: SessionKind,
) -> Result<HttpResponse, AppError> {
    let ttl = state.settings.auth.session_ttl_hours;
    let new = state
        .db
        .write(move |tx| Ok::<_, AppError>(session::create(tx, principal, kind, ttl)?))
        .await?;
    tracing::info!(principal = ?principal, area = area.as_str(), "login");
    Ok(session_response(
        state,
        area,
        StatusCode::OK,
        new,
        kind,
        who,
    ))
}

/// `POST /api/v1/{area}/auth/sso` `{token}`: a session for the person the platform's token names
/// (created or updated on first sight), answered as a login is.
pub(crate) async fn sso<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SsoRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let (principal, who) = sso_sign_in(&state, &req, U::AREA, &body.token).await?;
    start_session(&state, U::AREA, principal, who, session_kind(body.cookie)).await
}

/// Checks a single sign-on token for `area` and brings its account up to date: rate-limited per
/// client address like a login.
pub(super) async fn sso_sign_in(
    state: &AppState,
    req: &HttpRequest,
    area: Area,
    token: &str,
) -> Result<(Principal, Who), AppError> {
    use crate::accounts::sso::{self, SsoError};
    let verifier = state.sso.as_ref().ok_or(SsoError::NotConfigured)?;
    state.login_limiter.check_ip(client_ip(req, state))?;
    if token.len() > 8192 {
        return Err(SsoError::Invalid("the single sign-on token is too long").into());
    }
    let claims = verifier.verify(token, area)?;
    let signed_in = sso::sign_in(&state.db, claims, area).await?;
    Ok(principal_of(signed_in))
}

/// Who a single sign-on brought in, as a session needs them.
pub(super) fn principal_of(signed_in: crate::accounts::sso::SignedIn) -> (Principal, Who) {
    use crate::accounts::sso::SignedIn;
    match signed_in {
        SignedIn::User(user) => (Principal::User(user.id), Who::User(user)),
        SignedIn::Customer(customer) => (Principal::Customer(customer.id), Who::Customer(customer)),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForgotRequest {
    email: String,
    /// Customers name their store.
    store_code: Option<String>,
}

/// `POST /api/v1/{area}/auth/forgot-password`: a reset link goes to the address if it has an
/// account; the answer is the same either way (202).
pub(crate) async fn forgot_password<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ForgotRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    ask_for_reset(&state, &req, U::AREA, body.store_code, &body.email).await?;
    Ok(HttpResponse::Accepted().json(Notice {
        message: "if an account has this address, a link to choose a new password is on its way",
    }))
}

/// Rate-limited like a login (per address and per account), then the reset use case.
pub(super) async fn ask_for_reset(
    state: &AppState,
    req: &HttpRequest,
    area: Area,
    store_code: Option<String>,
    email: &str,
) -> Result<(), AppError> {
    let email = email.trim().to_ascii_lowercase();
    domain::clean_email("email", &email)?;
    let store_code = store_code.filter(|_| area == Area::Shop);
    if area == Area::Shop && store_code.is_none() {
        return Err(AppError::validation("store_code", "is required"));
    }
    state.login_limiter.check_ip(client_ip(req, state))?;
    state
        .login_limiter
        .check_account(format!("reset:{}:{email}", area.as_str()))?;
    recovery::request_reset(&state.accounts(), area, store_code, &email).await?;
    Ok(())
}

/// An answer that only says what happens next.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Notice {
    message: &'static str,
}

/// A registration waiting for the customer to confirm their address (no session yet).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Unverified {
    customer: accounts::Customer,
    verification_required: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetRequest {
    token: String,
    new_password: String,
}

/// `POST /api/v1/{area}/auth/reset-password`: the token from the email and a new password; every
/// session of the account ends (204).
pub(crate) async fn reset_password<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ResetRequest>,
) -> Result<HttpResponse, AppError> {
    state.login_limiter.check_ip(client_ip(&req, &state))?;
    let body = body.into_inner();
    recovery::reset_password(&state.accounts(), U::AREA, &body.token, body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyRequest {
    token: String,
    #[serde(default)]
    cookie: bool,
}

/// `POST /api/v1/shop/auth/verify-email`: the token from the address check email; the account
/// opens and a session starts, as after a login.
pub(crate) async fn verify_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<VerifyRequest>,
) -> Result<HttpResponse, AppError> {
    state.login_limiter.check_ip(client_ip(&req, &state))?;
    let body = body.into_inner();
    let kind = session_kind(body.cookie);
    let (customer, new) = recovery::verify_email(&state.accounts(), &body.token, kind).await?;
    Ok(session_response(
        &state,
        Area::Shop,
        StatusCode::OK,
        new,
        kind,
        Who::Customer(customer),
    ))
}

pub(crate) async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    state.login_limiter.check_ip(client_ip(&req, &state))?;
    let kind = session_kind(body.cookie);
    let person = PersonInput {
        email: body.email,
        password: Some(body.password),
        full_name: body.full_name,
        language: body.language,
    };
    let (customer, new) = match service::register_customer(
        &state.accounts(),
        &body.store_code,
        person,
        kind,
    )
    .await?
    {
        Registered::SignedIn(customer, new) => (customer, new),
        // No session yet: the link in the email opens the account.
        Registered::CheckEmail(customer) => {
            return Ok(HttpResponse::Accepted().json(Unverified {
                customer,
                verification_required: true,
            }));
        }
    };
    Ok(session_response(
        &state,
        Area::Shop,
        StatusCode::CREATED,
        new,
        kind,
        Who::Customer(customer),
    ))
}

pub(crate) async fn logout<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
) -> Result<HttpResponse, AppError> {
    let mut response = HttpResponse::NoContent();
    end_session(&state, U::AREA, user.auth(), &mut response).await?;
    Ok(response.finish())
}

/// Ends the session `auth` and, for a cookie session, has `response` remove its cookie.
pub(crate) async fn end_session(
    state: &AppState,
    area: Area,
    auth: &crate::auth::extract::Authenticated,
    response: &mut actix_web::HttpResponseBuilder,
) -> Result<(), AppError> {
    let session_id = auth.session_id;
    state
        .db
        .write(move |tx| Ok::<_, AppError>(session::delete(tx, session_id)?))
        .await?;
    if auth.kind == SessionKind::Cookie {
        let mut cookie = Cookie::build(cookie_name(area, state.settings.secure_cookies()), "")
            .path("/")
            .finish();
        cookie.make_removal();
        response.cookie(cookie);
    }
    Ok(())
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct MeResponse {
    #[serde(flatten)]
    who: Who,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
}

pub(crate) async fn me<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
) -> Result<HttpResponse, AppError> {
    let auth = user.auth().clone();
    let who = state
        .db
        .read(move |conn| match auth.actor {
            Actor::Admin { user_id } | Actor::Staff { user_id, .. } => {
                accounts::get_user(conn, user_id).map(Who::User)
            }
            Actor::Customer { customer_id, .. } => {
                accounts::get_customer(conn, customer_id).map(Who::Customer)
            }
        })
        .await?;
    Ok(HttpResponse::Ok().json(MeResponse {
        who,
        csrf_token: user.auth().csrf_token.clone(),
    }))
}

/// The caller changes their own name or page language.
pub(crate) async fn update_me<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    body: web::Json<accounts::service::PersonChange>,
) -> Result<HttpResponse, AppError> {
    let profile = accounts::service::update_own_profile(
        &state.accounts(),
        user.auth().actor,
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(profile))
}

/// Changes the caller's password and ends every other session of the account.
pub(crate) async fn change_password<U: AreaUser>(
    state: web::Data<AppState>,
    user: U,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    domain::check_password("new_password", &body.new_password)?;
    if body.current_password.chars().count() > domain::PASSWORD_MAX {
        return Err(AppError::validation("current_password", "is too long"));
    }
    let auth = user.auth().clone();
    let principal = Principal::of(&auth.actor);
    // Guessing the current password through a stolen session is as cheap as guessing a login.
    state
        .login_limiter
        .check_account(format!("password:{principal:?}"))?;
    let stored = state
        .db
        .read(move |conn| accounts::password_hash_of(conn, principal))
        .await?;
    if !state.hasher.verify(body.current_password, stored).await? {
        return Err(AppError::BadRequest {
            code: "wrong_password",
            message: "current_password: is not the current password".into(),
        });
    }
    let hash = state.hasher.hash(body.new_password).await?;
    state
        .db
        .write(move |tx| accounts::set_password(tx, principal, &hash, Some(auth.session_id)))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
