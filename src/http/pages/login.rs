//! The sign-in pages of the three areas (a cookie session, then on to the messages page).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::session::SessionKind;
use crate::domain::Area;
use crate::error::AppError;
use crate::http::auth::{check_credentials, end_session, sso_sign_in, start_session};
use crate::state::AppState;

use super::{area_of, label, messages_url, render};

#[derive(Serialize, Default)]
struct LoginPage {
    lang: String,
    title: String,
    area: &'static str,
    area_label: &'static str,
    home: &'static str,
    csrf_token: &'static str,
    error: Option<String>,
    notice: Option<String>,
    email: String,
    store_code: String,
}

/// `error` (and `notice`) are catalogue keys.
fn login_page(
    state: &AppState,
    req: &HttpRequest,
    area: Area,
    error: Option<&str>,
    email: String,
    store_code: String,
) -> HttpResponse {
    login_page_with(state, req, area, error, None, email, store_code)
}

fn login_page_with(
    state: &AppState,
    req: &HttpRequest,
    area: Area,
    error: Option<&str>,
    notice: Option<&str>,
    email: String,
    store_code: String,
) -> HttpResponse {
    let status = if error.is_some() {
        actix_web::http::StatusCode::UNAUTHORIZED
    } else {
        actix_web::http::StatusCode::OK
    };
    // Nobody is signed in yet: the browser's language.
    let words = super::catalogue_for(state, None, req);
    let page = LoginPage {
        lang: words.language.clone(),
        title: words.text(&format!("login-title-{}", area.as_str()), &[]),
        area: area.as_str(),
        area_label: label(area),
        home: "/",
        error: error.map(|key| words.text(key, &[])),
        notice: notice.map(|key| words.text(key, &[])),
        email,
        store_code,
        ..Default::default()
    };
    render(state, "login.html", &page, status)
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    store: Option<String>,
    /// What just happened (`password-changed`), said on the page.
    done: Option<String>,
}

pub(crate) async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    let query = query.into_inner();
    let notice =
        (query.done.as_deref() == Some("password-changed")).then_some("login-password-changed");
    Ok(login_page_with(
        &state,
        &req,
        area,
        None,
        notice,
        String::new(),
        query.store.unwrap_or_default(),
    ))
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    store_code: Option<String>,
}

/// The form login: a cookie session, then on to the messages page.
pub(crate) async fn login_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    let form = form.into_inner();
    let store_code = form.store_code.clone().filter(|_| area == Area::Shop);
    match check_credentials(
        &state,
        &req,
        area,
        store_code.clone(),
        &form.email,
        form.password,
    )
    .await
    {
        Ok((principal, who)) => {
            let response = start_session(&state, area, principal, who, SessionKind::Cookie).await?;
            let mut redirect = HttpResponse::SeeOther();
            redirect.insert_header((header::LOCATION, messages_url(area)));
            for cookie in response.cookies() {
                redirect.cookie(cookie.into_owned());
            }
            Ok(redirect.finish())
        }
        Err(AppError::InvalidCredentials) => Ok(login_page(
            &state,
            &req,
            area,
            Some("login-wrong"),
            form.email,
            store_code.unwrap_or_default(),
        )),
        Err(AppError::EmailNotVerified) => Ok(login_page(
            &state,
            &req,
            area,
            Some("login-unverified"),
            form.email,
            store_code.unwrap_or_default(),
        )),
        Err(AppError::RateLimited { .. }) => Ok(login_page(
            &state,
            &req,
            area,
            Some("login-too-many"),
            form.email,
            String::new(),
        )),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct LogoutForm {
    csrf_token: String,
}

/// Signing out through the header's form (scripts sign out through the API instead).
pub(crate) async fn logout_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    let mut response = HttpResponse::SeeOther();
    response.insert_header((header::LOCATION, format!("/{}/login", area.as_str())));
    if let Ok(session) = crate::auth::extract::authenticate_form(&req, area).await {
        let auth = session.confirm(&form.csrf_token)?;
        end_session(&state, area, &auth, &mut response).await?;
    }
    Ok(response.finish())
}

#[derive(Deserialize)]
pub(crate) struct SsoQuery {
    token: String,
    return_to: Option<String>,
}

/// `GET /sso/{area}?token=…&return_to=/…`: the platform sends the browser here with a token; a
/// cookie session opens and the browser goes on to `return_to` (a path on Parley; anything else
/// goes to the area's messages).
pub(crate) async fn sso(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<SsoQuery>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    let query = query.into_inner();
    let (principal, who) = sso_sign_in(&state, &req, area, &query.token).await?;
    let response = start_session(&state, area, principal, who, SessionKind::Cookie).await?;
    let target = query
        .return_to
        .filter(|to| is_local_path(to))
        .unwrap_or_else(|| messages_url(area).to_string());
    let mut redirect = HttpResponse::SeeOther();
    redirect.insert_header((header::LOCATION, target));
    // The token must not linger in the history or be sent on as a referrer.
    redirect.insert_header((header::REFERRER_POLICY, "no-referrer"));
    redirect.insert_header((header::CACHE_CONTROL, "no-store"));
    for cookie in response.cookies() {
        redirect.cookie(cookie.into_owned());
    }
    Ok(redirect.finish())
}

/// A path on this appliance: starts with one `/`, not `//` or `/\` (which browsers read as
/// another host), and nothing a browser would treat as a scheme or a control character.
fn is_local_path(to: &str) -> bool {
    to.starts_with('/')
        && !to.starts_with("//")
        && !to.starts_with("/\\")
        && to.len() <= 2000
        && !to.chars().any(|c| c.is_control() || c == '\\')
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn return_to_stays_on_parley() {
        for ok in ["/vendor/messages/12", "/shop/account/messages?x=1", "/"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "https://evil.test/",
            "//evil.test/x",
            "/\\evil.test",
            "evil.test",
            "/ok\r\nSet-Cookie: x=1",
            "javascript:alert(1)",
            "",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }
}
