//! Request extractors: `AdminUser`, `VendorUser` and `CustomerUser` authenticate the request for
//! their area and carry the typed [`Actor`]. A valid session of another role answers 403; no or a
//! bad credential answers 401. Cookie sessions must send `X-CSRF-Token` on every state change.

use std::future::{Future, Ready, ready};
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use rusqlite::Connection;
use subtle::ConstantTimeEq;

use super::session::{self, SessionKind};
use crate::domain::{Actor, Area};
use crate::error::AppError;
use crate::state::AppState;

pub(crate) const CSRF_HEADER: &str = "X-CSRF-Token";

/// An authenticated request: the actor plus the session it came with.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    pub actor: Actor,
    pub session_id: i64,
    pub kind: SessionKind,
    /// Set for cookie sessions: the token pages must send back in `X-CSRF-Token`.
    pub csrf_token: Option<String>,
}

/// The cookie that carries an area's web session. With https the `__Host-` prefix pins it to our
/// origin (Secure, Path=/, no Domain).
pub(crate) fn cookie_name(area: Area, secure: bool) -> &'static str {
    match (area, secure) {
        (Area::Admin, false) => "parley_admin",
        (Area::Vendor, false) => "parley_vendor",
        (Area::Shop, false) => "parley_shop",
        (Area::Admin, true) => "__Host-parley_admin",
        (Area::Vendor, true) => "__Host-parley_vendor",
        (Area::Shop, true) => "__Host-parley_shop",
    }
}

/// What a request presents to authenticate in `area`, read from its headers without touching the
/// database: the session token, the channel it came through and, for a state change, the CSRF
/// token it sent.
#[derive(Debug, Clone)]
pub(crate) struct Credential {
    area: Area,
    token: String,
    kind: SessionKind,
    /// Set for a cookie session's state-changing request: the `X-CSRF-Token` sent (maybe empty).
    csrf_sent: Option<Vec<u8>>,
}

impl Credential {
    pub(crate) fn of(
        req: &HttpRequest,
        area: Area,
        secure_cookies: bool,
    ) -> Result<Self, AppError> {
        let (token, kind) =
            if let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::trim)
                    .filter(|t| !t.is_empty() && t.len() <= 128)
                    .ok_or(AppError::Unauthorized("malformed Authorization header"))?;
                (token.to_string(), SessionKind::Bearer)
            } else if let Some(cookie) = req.cookie(cookie_name(area, secure_cookies)) {
                (cookie.value().to_string(), SessionKind::Cookie)
            } else {
                return Err(AppError::Unauthorized("authentication required"));
            };
        let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let csrf_sent = (kind == SessionKind::Cookie && state_changing).then(|| {
            req.headers()
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes().to_vec())
                .unwrap_or_default()
        });
        Ok(Credential {
            area,
            token,
            kind,
            csrf_sent,
        })
    }

    /// Checks the credential against the sessions `conn` sees: a live session of this channel,
    /// whose account (and store) is active, allowed in this area, with the CSRF token matching
    /// where one is needed.
    pub(crate) fn check(&self, conn: &Connection) -> Result<Authenticated, AppError> {
        let found = session::lookup(conn, &self.token)?;
        // A token only works through the channel it was issued for.
        let row = found
            .filter(|s| s.kind == self.kind)
            .ok_or(AppError::Unauthorized("invalid or expired session"))?;
        let actor = row
            .actor
            .ok_or(AppError::Unauthorized("invalid or expired session"))?;
        if let Some(sent) = &self.csrf_sent {
            let expected = row.csrf_token.as_deref().unwrap_or_default().as_bytes();
            if expected.is_empty() || !bool::from(sent.as_slice().ct_eq(expected)) {
                return Err(AppError::CsrfFailed);
            }
        }
        let area_allows = matches!(
            (self.area, actor),
            (Area::Admin, Actor::Admin { .. })
                | (Area::Vendor, Actor::Staff { .. })
                | (Area::Shop, Actor::Customer { .. })
        );
        if !area_allows {
            return Err(AppError::Forbidden(format!(
                "this account may not use the {} API",
                self.area.as_str()
            )));
        }
        Ok(Authenticated {
            actor,
            session_id: row.id,
            kind: self.kind,
            csrf_token: row.csrf_token,
        })
    }
}

fn app_state(req: &HttpRequest) -> Result<&web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("AppState missing")))
}

pub(crate) async fn authenticate(req: HttpRequest, area: Area) -> Result<Authenticated, AppError> {
    let state = app_state(&req)?;
    let credential = Credential::of(&req, area, state.settings.secure_cookies())?;
    state.db.read(move |conn| credential.check(conn)).await
}

/// A cookie session posting a page's form (which cannot send `X-CSRF-Token`): the session is
/// checked first, so nobody signed out gets to upload anything, and the token the form carries
/// in its body is checked by [`FormSession::confirm`] once the body is read. Nothing acts on the
/// session before that.
pub(crate) struct FormSession(Authenticated);

impl FormSession {
    /// Who the session is, for read-only checks made before the body is read (may this actor
    /// send here, how large may a file be); anything that changes state waits for `confirm`.
    pub(crate) fn actor_for_checks(&self) -> Actor {
        self.0.actor
    }

    pub(crate) fn confirm(self, sent: &str) -> Result<Authenticated, AppError> {
        let expected = self.0.csrf_token.as_deref().unwrap_or_default().as_bytes();
        if expected.is_empty() || !bool::from(sent.as_bytes().ct_eq(expected)) {
            return Err(AppError::CsrfFailed);
        }
        Ok(self.0)
    }
}

/// The cookie session behind a page's form post, its CSRF token still to be confirmed.
pub(crate) async fn authenticate_form(
    req: &HttpRequest,
    area: Area,
) -> Result<FormSession, AppError> {
    let state = app_state(req)?;
    let mut credential = Credential::of(req, area, state.settings.secure_cookies())?;
    if credential.kind != SessionKind::Cookie {
        return Err(AppError::Unauthorized(
            "pages post with their cookie session",
        ));
    }
    // Checked from the body instead, by `FormSession::confirm`.
    credential.csrf_sent = None;
    let auth = state.db.read(move |conn| credential.check(conn)).await?;
    Ok(FormSession(auth))
}

/// An area's credential, not yet checked: for the busiest reads, which check it inside their own
/// read ([`Credential::check`]) so a request takes one snapshot instead of two. A handler gets
/// no actor without checking it.
#[derive(Debug, Clone)]
pub(crate) struct Unchecked<U>(pub Credential, PhantomData<U>);

impl<U: AreaUser> FromRequest for Unchecked<U> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credential = app_state(req)
            .and_then(|state| Credential::of(req, U::AREA, state.settings.secure_cookies()));
        ready(credential.map(|c| Unchecked(c, PhantomData)))
    }
}

/// What the per-area extractors have in common, so auth handlers can be written once.
pub(crate) trait AreaUser: FromRequest<Error = AppError> + 'static {
    const AREA: Area;
    fn auth(&self) -> &Authenticated;
}

macro_rules! area_extractor {
    ($(#[$m:meta])* $name:ident, $area:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone)]
        pub(crate) struct $name(pub Authenticated);

        impl FromRequest for $name {
            type Error = AppError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move { authenticate(req, $area).await.map($name) })
            }
        }

        impl AreaUser for $name {
            const AREA: Area = $area;
            fn auth(&self) -> &Authenticated {
                &self.0
            }
        }
    };
}

area_extractor!(
    /// A platform admin.
    AdminUser,
    Area::Admin
);
area_extractor!(
    /// A member of a store's staff.
    VendorUser,
    Area::Vendor
);
area_extractor!(
    /// A customer of a store.
    CustomerUser,
    Area::Shop
);

impl VendorUser {
    /// The store the staff member belongs to: the only store this request may touch.
    pub(crate) fn store_id(&self) -> i64 {
        self.0.actor.store_id().unwrap_or_default()
    }
}

/// The platform's backend, by its integration key (`Authorization: Bearer pk_…`); a key acts as
/// the platform, never as a person. Its last use is written at most once a minute.
#[derive(Debug, Clone)]
pub(crate) struct PlatformKey(pub crate::integration::keys::KeyCaller);

impl FromRequest for PlatformKey {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let secret = req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 128)
                .ok_or(AppError::Unauthorized("an integration key is required"))?
                .to_string();
            let key = state
                .db
                .read(move |conn| crate::integration::keys::authenticate(conn, &secret))
                .await?
                .ok_or(AppError::Unauthorized("invalid or revoked integration key"))?;
            if key.use_is_stale() {
                let id = key.id;
                state
                    .db
                    .write(move |tx| crate::integration::keys::touch(tx, id))
                    .await?;
            }
            Ok(PlatformKey(key))
        })
    }
}
