//! Request extractors: `AdminUser`, `VendorUser` and `CustomerUser` authenticate the request for
//! their area and carry the typed [`Actor`]. A valid session of another role answers 403; no or a
//! bad credential answers 401. Cookie sessions must send `X-CSRF-Token` on every state change.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use subtle::ConstantTimeEq;

use super::session::{self, SessionKind};
use crate::app::AppState;
use crate::domain::{Actor, Area};
use crate::error::AppError;

pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// An authenticated request: the actor plus the session it came with.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub actor: Actor,
    pub session_id: i64,
    pub kind: SessionKind,
    /// Set for cookie sessions: the token pages must send back in `X-CSRF-Token`.
    pub csrf_token: Option<String>,
}

/// The cookie that carries an area's web session. With https the `__Host-` prefix pins it to our
/// origin (Secure, Path=/, no Domain).
pub fn cookie_name(area: Area, secure: bool) -> &'static str {
    match (area, secure) {
        (Area::Admin, false) => "parley_admin",
        (Area::Vendor, false) => "parley_vendor",
        (Area::Shop, false) => "parley_shop",
        (Area::Admin, true) => "__Host-parley_admin",
        (Area::Vendor, true) => "__Host-parley_vendor",
        (Area::Shop, true) => "__Host-parley_shop",
    }
}

pub(crate) async fn authenticate(req: HttpRequest, area: Area) -> Result<Authenticated, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("AppState missing")))?
        .clone();
    let (token, kind) = if let Some(value) =
        req.headers().get(actix_web::http::header::AUTHORIZATION)
    {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 128)
            .ok_or(AppError::Unauthorized("malformed Authorization header"))?;
        (token.to_string(), SessionKind::Bearer)
    } else if let Some(cookie) = req.cookie(cookie_name(area, state.settings.secure_cookies())) {
        (cookie.value().to_string(), SessionKind::Cookie)
    } else {
        return Err(AppError::Unauthorized("authentication required"));
    };

    let found = state
        .db
        .read(move |conn| session::lookup(conn, &token).map_err(AppError::from))
        .await?;
    // A token only works through the channel it was issued for.
    let row = found
        .filter(|s| s.kind == kind)
        .ok_or(AppError::Unauthorized("invalid or expired session"))?;
    let actor = row
        .actor
        .ok_or(AppError::Unauthorized("invalid or expired session"))?;

    if kind == SessionKind::Cookie
        && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
    {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        let expected = row.csrf_token.as_deref().unwrap_or_default().as_bytes();
        if expected.is_empty() || !bool::from(sent.ct_eq(expected)) {
            return Err(AppError::CsrfFailed);
        }
    }
    let area_allows = matches!(
        (area, actor),
        (Area::Admin, Actor::Admin { .. })
            | (Area::Vendor, Actor::Staff { .. })
            | (Area::Shop, Actor::Customer { .. })
    );
    if !area_allows {
        return Err(AppError::Forbidden(format!(
            "this account may not use the {} API",
            area.as_str()
        )));
    }
    Ok(Authenticated {
        actor,
        session_id: row.id,
        kind,
        csrf_token: row.csrf_token,
    })
}

/// What the per-area extractors have in common, so auth handlers can be written once.
pub trait AreaUser: FromRequest<Error = AppError> + 'static {
    const AREA: Area;
    fn auth(&self) -> &Authenticated;
}

macro_rules! area_extractor {
    ($(#[$m:meta])* $name:ident, $area:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Authenticated);

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
    pub fn store_id(&self) -> i64 {
        self.0.actor.store_id().unwrap_or_default()
    }
}
