//! One error type for the HTTP edge: each variant has one status and one stable snake_case code,
//! and every error body has the shape `{"error": {"code", "message"}}`. Bodies of 5xx answers are
//! opaque; their cause chain is logged here, once.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, error as actix_error, web};
use serde::Serialize;

use crate::accounts::AccountsError;
use crate::alerts::AlertsError;
use crate::attachments::AttachmentError;
use crate::auth::HashError;
use crate::db::DbError;
use crate::domain::Invalid;
use crate::email::EmailError;
use crate::messaging::MessagingError;
use crate::platform::PlatformError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A field failed validation; the message names the field.
    #[error("{0}")]
    Validation(String),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    /// The store's subscription tier does not include this (403 `tier_required`).
    #[error("{0}")]
    TierRequired(String),
    #[error("missing or invalid CSRF token")]
    CsrfFailed,
    /// The customer has not yet followed the link that checks their email address.
    #[error("confirm your email address first: follow the link sent to you")]
    EmailNotVerified,
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// What was asked for existed once and is no longer kept (410).
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the server is busy; retry shortly")]
    Overloaded,
    /// The disk is full: nothing was kept, reads still work.
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub(crate) fn validation(field: &str, why: impl std::fmt::Display) -> AppError {
        AppError::Validation(format!("{field}: {why}"))
    }

    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn internal(error: impl Into<anyhow::Error>) -> AppError {
        AppError::Internal(error.into())
    }

    pub(crate) fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_error",
            AppError::BadRequest { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Gone { code, .. } => code,
            AppError::Unauthorized(_) => "unauthorized",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Forbidden(_) => "forbidden",
            AppError::TierRequired(_) => "tier_required",
            AppError::CsrfFailed => "csrf_failed",
            AppError::EmailNotVerified => "email_not_verified",
            AppError::NotFound => "not_found",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Overloaded => "overloaded",
            AppError::InsufficientStorage(_) => "insufficient_storage",
            AppError::Internal(_) => "internal_error",
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        if e.is_disk_full() {
            return AppError::InsufficientStorage(
                "the server has no space left to store this; try again later".into(),
            );
        }
        AppError::Internal(e.into())
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e).into()
    }
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::Validation(e.to_string())
    }
}

impl From<AttachmentError> for AppError {
    fn from(e: AttachmentError) -> Self {
        match e {
            AttachmentError::NotAllowed(why) => AppError::UnsupportedMediaType(why),
            AttachmentError::TooLarge(why) => AppError::PayloadTooLarge(why),
            AttachmentError::NoSpace => AppError::InsufficientStorage(e.to_string()),
            AttachmentError::Missing => AppError::NotFound,
            AttachmentError::Io(_) => AppError::Internal(e.into()),
        }
    }
}

impl From<HashError> for AppError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => AppError::Overloaded,
            HashError::Failed(_) => AppError::Internal(e.into()),
        }
    }
}

impl From<AccountsError> for AppError {
    fn from(e: AccountsError) -> Self {
        match e {
            AccountsError::NotFound => AppError::NotFound,
            AccountsError::Conflict { code, message } => AppError::conflict(code, message),
            AccountsError::Invalid(invalid) => invalid.into(),
            AccountsError::Hashing(e) => e.into(),
            AccountsError::Db(e) => e.into(),
        }
    }
}

impl From<crate::integration::IntegrationError> for AppError {
    fn from(e: crate::integration::IntegrationError) -> Self {
        use crate::integration::IntegrationError as I;
        match e {
            I::NotFound => AppError::NotFound,
            I::MissingScope(_) => AppError::Forbidden(e.to_string()),
            I::Invalid(invalid) => invalid.into(),
            I::Messaging(e) => e.into(),
            I::Alerts(e) => e.into(),
            I::Db(e) => e.into(),
        }
    }
}

impl From<EmailError> for AppError {
    fn from(e: EmailError) -> Self {
        match e {
            EmailError::NotFound => AppError::NotFound,
            EmailError::Invalid(invalid) => invalid.into(),
            EmailError::Conflict { code, message } => AppError::Conflict { code, message },
            EmailError::Refused { code, message } => AppError::BadRequest { code, message },
            EmailError::NoTemplate(_) => AppError::NotFound,
            EmailError::BadSignature => {
                AppError::Unauthorized("the webhook signature is missing, stale or wrong")
            }
            EmailError::InvalidTemplate(why) => AppError::BadRequest {
                code: "invalid_template",
                message: why.to_string(),
            },
            EmailError::TemplateRefused(why) => AppError::BadRequest {
                code: "template_refused",
                message: why.to_string(),
            },
            EmailError::TierRequired(why) => AppError::TierRequired(why),
            EmailError::Accounts(e) => e.into(),
            EmailError::Db(e) => e.into(),
            EmailError::Internal(cause) => AppError::Internal(cause),
        }
    }
}

impl From<AlertsError> for AppError {
    fn from(e: AlertsError) -> Self {
        match e {
            AlertsError::NotFound => AppError::NotFound,
            AlertsError::Invalid(invalid) => invalid.into(),
            AlertsError::Db(e) => e.into(),
        }
    }
}

impl From<PlatformError> for AppError {
    fn from(e: PlatformError) -> Self {
        match e {
            PlatformError::UnknownSetting => AppError::NotFound,
            PlatformError::Invalid(invalid) => invalid.into(),
            PlatformError::Db(e) => e.into(),
        }
    }
}

impl From<crate::accounts::sso::SsoError> for AppError {
    fn from(e: crate::accounts::sso::SsoError) -> Self {
        use crate::accounts::sso::SsoError as S;
        match e {
            S::NotConfigured => AppError::NotFound,
            S::Invalid(why) => AppError::Unauthorized(why),
            S::Replayed => AppError::Unauthorized("this single sign-on token was already used"),
            S::WrongArea => AppError::Unauthorized("this single sign-on token is for another area"),
            S::Disabled => AppError::Unauthorized("this account or its store is disabled"),
            S::Accounts(e) => e.into(),
        }
    }
}

impl From<MessagingError> for AppError {
    fn from(e: MessagingError) -> Self {
        use MessagingError as M;
        match e {
            M::NotFound => AppError::NotFound,
            M::Forbidden(why) => AppError::Forbidden(why.into()),
            M::Closed | M::AlreadyClosed => {
                AppError::conflict("conversation_closed", e.to_string())
            }
            M::NotClosed => AppError::conflict("conversation_open", e.to_string()),
            M::NotEscalated => AppError::conflict("not_escalated", e.to_string()),
            M::AlreadyEscalated => AppError::conflict("already_escalated", e.to_string()),
            M::RecipientNotFound => AppError::BadRequest {
                code: "recipient_not_found",
                message: e.to_string(),
            },
            M::EventsExpired => AppError::Gone {
                code: "events_expired",
                message: e.to_string(),
            },
            M::Invalid(invalid) => invalid.into(),
            M::Attachment(e) => e.into(),
            M::Db(e) => e.into(),
        }
    }
}

/// The one shape of every error answer: `{"error": {"code", "message"}}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail<'a> {
    pub code: &'a str,
    pub message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation(_) | AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_)
            | AppError::CsrfFailed
            | AppError::TierRequired(_)
            | AppError::EmailNotVerified => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Gone { .. } => StatusCode::GONE,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            AppError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            AppError::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            AppError::Overloaded => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
            },
        })
    }
}

/// actix's own JSON rejections, in our shape.
pub(crate) fn json_error(
    err: actix_error::JsonPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    use actix_error::JsonPayloadError as E;
    let app = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => {
            AppError::PayloadTooLarge("the request body is too large".into())
        }
        E::ContentType => {
            AppError::UnsupportedMediaType("expected Content-Type: application/json".into())
        }
        E::Deserialize(e) if e.is_data() => AppError::BadRequest {
            code: "invalid_body",
            message: e.to_string(),
        },
        E::Deserialize(e) => AppError::BadRequest {
            code: "malformed_json",
            message: e.to_string(),
        },
        other => AppError::BadRequest {
            code: "invalid_body",
            message: other.to_string(),
        },
    };
    app.into()
}

pub(crate) fn query_error(
    err: actix_error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    AppError::BadRequest {
        code: "invalid_query",
        message: err.to_string(),
    }
    .into()
}

pub(crate) fn path_error(_err: actix_error::PathError, _req: &HttpRequest) -> actix_web::Error {
    // A path segment that does not parse (e.g. a non-numeric id) names nothing that exists.
    AppError::NotFound.into()
}

/// Extractor configuration shared by every route.
pub(crate) fn configure_extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(256 * 1024)
            .error_handler(json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(query_error))
    .app_data(web::PathConfig::default().error_handler(path_error))
    .app_data(web::PayloadConfig::default().limit(256 * 1024));
}

/// Unknown routes answer in the same JSON shape.
pub(crate) async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
