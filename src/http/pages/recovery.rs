//! The pages around local passwords: "forgot your password?" (a link by email), choosing a new
//! password with that link, and confirming a new customer's address. The links only show a form;
//! the token is spent by the form's POST, so a mail scanner that opens links spends nothing.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::accounts::recovery;
use crate::auth::session::SessionKind;
use crate::domain::Area;
use crate::error::AppError;
use crate::http::auth::ask_for_reset;
use crate::state::AppState;

use super::{area_of, label, messages_url, render};

/// Which form the page shows.
#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Step {
    Forgot,
    Reset,
    Verify,
}

#[derive(Serialize)]
struct RecoveryPage {
    lang: String,
    title: String,
    area: &'static str,
    area_label: &'static str,
    home: &'static str,
    csrf_token: &'static str,
    step: Step,
    /// A catalogue key's words: what went wrong, or what happened.
    error: Option<String>,
    notice: Option<String>,
    email: String,
    store_code: String,
    token: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct RecoveryQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    store: String,
}

struct Shown<'a> {
    step: Step,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    email: String,
    store_code: String,
    token: String,
}

impl<'a> Shown<'a> {
    /// A step's form, empty but for the store and the token the link brought.
    fn form(step: Step, store_code: String, token: String) -> Shown<'a> {
        Shown {
            step,
            error: None,
            notice: None,
            email: String::new(),
            store_code,
            token,
        }
    }
}

fn page(state: &AppState, req: &HttpRequest, area: Area, shown: Shown<'_>) -> HttpResponse {
    // Nobody is signed in: the browser's language.
    let words = super::catalogue_for(state, None, req);
    let title = match shown.step {
        Step::Forgot => "forgot-title",
        Step::Reset => "reset-title",
        Step::Verify => "verify-title",
    };
    let status = if shown.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let context = RecoveryPage {
        lang: words.language.clone(),
        title: words.text(title, &[]),
        area: area.as_str(),
        area_label: label(area),
        home: "/",
        csrf_token: "",
        step: shown.step,
        error: shown.error.map(|key| words.text(key, &[])),
        notice: shown.notice.map(|key| words.text(key, &[])),
        email: shown.email,
        store_code: shown.store_code,
        token: shown.token,
    };
    render(state, "recovery.html", &context, status)
}

/// `GET /{area}/forgot-password`.
pub(crate) async fn forgot_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<RecoveryQuery>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    Ok(page(
        &state,
        &req,
        area,
        Shown::form(Step::Forgot, query.into_inner().store, String::new()),
    ))
}

#[derive(Deserialize)]
pub(crate) struct ForgotForm {
    email: String,
    store_code: Option<String>,
}

/// `POST /{area}/forgot-password`: the same notice whether or not the address has an account.
pub(crate) async fn forgot_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    let form = form.into_inner();
    let store_code = form.store_code.clone().unwrap_or_default();
    let (error, notice) =
        match ask_for_reset(&state, &req, area, form.store_code, &form.email).await {
            Ok(()) => (None, Some("forgot-sent")),
            Err(AppError::RateLimited { .. }) => (Some("login-too-many"), None),
            Err(AppError::Validation(_)) => (Some("forgot-bad-email"), None),
            Err(e) => return Err(e),
        };
    Ok(page(
        &state,
        &req,
        area,
        Shown {
            step: Step::Forgot,
            error,
            notice,
            email: form.email,
            store_code,
            token: String::new(),
        },
    ))
}

/// `GET /{area}/reset-password?token=…`: the form for the new password.
pub(crate) async fn reset_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<RecoveryQuery>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    let query = query.into_inner();
    Ok(page(
        &state,
        &req,
        area,
        Shown::form(Step::Reset, query.store, query.token),
    ))
}

#[derive(Deserialize)]
pub(crate) struct ResetForm {
    token: String,
    new_password: String,
    #[serde(default)]
    store_code: String,
}

/// `POST /{area}/reset-password`: on to the sign-in page, which says the password changed.
pub(crate) async fn reset_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let area = area_of(&path).ok_or(AppError::NotFound)?;
    let form = form.into_inner();
    state
        .login_limiter
        .check_ip(crate::http::auth::client_ip(&req, &state))?;
    let outcome =
        recovery::reset_password(&state.accounts(), area, &form.token, form.new_password).await;
    let error = match outcome {
        Ok(()) => {
            let mut query = vec![("done", "password-changed")];
            if area == Area::Shop && !form.store_code.is_empty() {
                query.push(("store", &form.store_code));
            }
            let to = format!(
                "/{}/login?{}",
                area.as_str(),
                serde_urlencoded::to_string(query).unwrap_or_default()
            );
            return Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, to))
                .finish());
        }
        Err(crate::accounts::AccountsError::Invalid(invalid))
            if invalid.to_string().starts_with("new_password") =>
        {
            "reset-too-short"
        }
        Err(crate::accounts::AccountsError::Invalid(_)) => "reset-invalid",
        Err(e) => return Err(e.into()),
    };
    Ok(page(
        &state,
        &req,
        area,
        Shown {
            error: Some(error),
            ..Shown::form(Step::Reset, form.store_code, form.token)
        },
    ))
}

/// `GET /shop/verify-email?token=…`: a button that confirms the address.
pub(crate) async fn verify_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<RecoveryQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    Ok(page(
        &state,
        &req,
        Area::Shop,
        Shown::form(Step::Verify, query.store, query.token),
    ))
}

#[derive(Deserialize)]
pub(crate) struct VerifyForm {
    token: String,
    #[serde(default)]
    store_code: String,
}

/// `POST /shop/verify-email`: the account opens with a cookie session, on to the messages.
pub(crate) async fn verify_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<VerifyForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    state
        .login_limiter
        .check_ip(crate::http::auth::client_ip(&req, &state))?;
    match recovery::verify_email(&state.accounts(), &form.token, SessionKind::Cookie).await {
        Ok((customer, new)) => {
            let response = crate::http::auth::session_response(
                &state,
                Area::Shop,
                StatusCode::OK,
                new,
                SessionKind::Cookie,
                crate::http::auth::Who::Customer(customer),
            );
            let mut redirect = HttpResponse::SeeOther();
            redirect.insert_header((header::LOCATION, messages_url(Area::Shop)));
            for cookie in response.cookies() {
                redirect.cookie(cookie.into_owned());
            }
            Ok(redirect.finish())
        }
        Err(crate::accounts::AccountsError::Invalid(_)) => Ok(page(
            &state,
            &req,
            Area::Shop,
            Shown {
                error: Some("reset-invalid"),
                ..Shown::form(Step::Verify, form.store_code, form.token)
            },
        )),
        Err(e) => Err(e.into()),
    }
}
