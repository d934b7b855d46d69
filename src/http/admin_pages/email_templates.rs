//! The email template pages: the platform's (admin) and a store's overrides (store staff).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::domain::Area;
use crate::email::render::TemplateSource;
use crate::email::templates::{self, EmailTemplate, OverridableTemplate};
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::state::AppState;

/// The platform template form's values: a new template's defaults, or a saved template's.
#[derive(Serialize)]
struct TemplateForm {
    id: Option<i64>,
    code: String,
    language: String,
    name: String,
    category: String,
    subject: String,
    body_html: String,
    body_text: String,
    variables: String,
    required_variables: String,
    is_active: bool,
    is_platform_only: bool,
}

impl TemplateForm {
    fn new_template() -> TemplateForm {
        TemplateForm {
            id: None,
            code: String::new(),
            language: templates::DEFAULT_LANGUAGE.into(),
            name: String::new(),
            category: "system".into(),
            subject: String::new(),
            body_html: String::new(),
            body_text: String::new(),
            variables: String::new(),
            required_variables: String::new(),
            is_active: true,
            is_platform_only: false,
        }
    }
}

impl From<EmailTemplate> for TemplateForm {
    fn from(t: EmailTemplate) -> TemplateForm {
        TemplateForm {
            id: Some(t.id),
            variables: t.variables.join(" "),
            required_variables: t.required_variables.join(" "),
            body_text: t.body_text.unwrap_or_default(),
            code: t.code,
            language: t.language,
            name: t.name,
            category: t.category,
            subject: t.subject,
            body_html: t.body_html,
            is_active: t.is_active,
            is_platform_only: t.is_platform_only,
        }
    }
}

#[derive(Serialize)]
struct AdminTemplatesPage {
    #[serde(flatten)]
    chrome: Chrome,
    templates: Vec<EmailTemplate>,
    form: TemplateForm,
    categories: &'static [&'static str],
}

pub(crate) async fn admin_templates(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(
        state,
        req,
        Area::Admin,
        "nav-email-templates",
        "/admin/email-templates"
    );
    let templates = state
        .db
        .read(|conn| templates::list(conn, &Default::default()))
        .await?;
    let view = AdminTemplatesPage {
        chrome,
        templates,
        form: TemplateForm::new_template(),
        categories: templates::CATEGORIES,
    };
    Ok(render_page(&state, "admin/email_templates.html", &view))
}

#[derive(Serialize)]
struct AdminTemplatePage {
    #[serde(flatten)]
    chrome: Chrome,
    form: TemplateForm,
    categories: &'static [&'static str],
}

pub(crate) async fn admin_template(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(
        state,
        req,
        Area::Admin,
        "title-edit-template",
        "/admin/email-templates"
    );
    let id = path.into_inner();
    let template = state.db.read(move |conn| templates::get(conn, id)).await?;
    let view = AdminTemplatePage {
        chrome,
        form: template.into(),
        categories: templates::CATEGORIES,
    };
    Ok(render_page(&state, "admin/email_template.html", &view))
}

#[derive(Serialize)]
struct VendorTemplatesPage {
    #[serde(flatten)]
    chrome: Chrome,
    templates: Vec<OverridableTemplate>,
}

pub(crate) async fn vendor_templates(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(
        state,
        req,
        Area::Vendor,
        "nav-email-templates",
        "/vendor/email-templates"
    );
    let store_id = auth.actor.store_id().unwrap_or_default();
    let templates = state
        .db
        .read(move |conn| templates::store_choices(conn, store_id))
        .await?;
    let view = VendorTemplatesPage { chrome, templates };
    Ok(render_page(&state, "vendor/email_templates.html", &view))
}

#[derive(Serialize)]
struct VendorTemplatePage {
    #[serde(flatten)]
    chrome: Chrome,
    code: String,
    language: String,
    variables: Vec<String>,
    source: TemplateSource,
    own: bool,
}

pub(crate) async fn vendor_template(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(
        state,
        req,
        Area::Vendor,
        "title-edit-template",
        "/vendor/email-templates"
    );
    let (code, language) = path.into_inner();
    let store_id = auth.actor.store_id().unwrap_or_default();
    let (platform, own) = state
        .db
        .read(move |conn| templates::for_store(conn, store_id, &code, &language))
        .await?;
    let view = VendorTemplatePage {
        chrome,
        source: own
            .as_ref()
            .map_or_else(|| platform.source(), |o| o.source()),
        own: own.is_some(),
        code: platform.code,
        language: platform.language,
        variables: platform.variables,
    };
    Ok(render_page(&state, "vendor/email_template.html", &view))
}
