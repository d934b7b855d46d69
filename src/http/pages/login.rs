//! The sign-in pages of the three areas (a cookie session, then on to the messages page).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::session::SessionKind;
use crate::domain::Area;
use crate::error::AppError;
use crate::http::auth::{check_credentials, end_session, start_session};
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
    email: String,
    store_code: String,
}

/// `error` is a catalogue key.
fn login_page(
    state: &AppState,
    req: &HttpRequest,
    area: Area,
    error: Option<&str>,
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
        email,
        store_code,
        ..Default::default()
    };
    render(state, "login.html", &page, status)
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    store: Option<String>,
}

pub(crate) async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    Ok(login_page(
        &state,
        &req,
        area,
        None,
        String::new(),
        query.into_inner().store.unwrap_or_default(),
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
