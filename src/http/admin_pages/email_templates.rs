//! The email template pages: the platform's (admin) and a store's overrides (store staff).

use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::Area;
use crate::email::templates;
use crate::error::AppError;
use crate::http::pages::{chrome, page_user, render_page};
use crate::state::AppState;

use super::*;

fn template_fields(t: Option<&templates::EmailTemplate>) -> Vec<Field> {
    let get = |f: fn(&templates::EmailTemplate) -> String| t.map(f).unwrap_or_default();
    let mut category = select(
        "category",
        "Category",
        templates::CATEGORIES,
        &get(|t| t.category.clone()),
    );
    if category.value.is_empty() {
        category.value = "system".into();
    }
    vec![
        field("code", "Code", "text", get(|t| t.code.clone())),
        field(
            "language",
            "Language",
            "text",
            t.map_or("en".to_string(), |t| t.language.clone()),
        ),
        field("name", "Name", "text", get(|t| t.name.clone())),
        category,
        field("subject", "Subject", "text", get(|t| t.subject.clone())),
        field(
            "body_html",
            "HTML body",
            "textarea",
            get(|t| t.body_html.clone()),
        ),
        field(
            "body_text",
            "Text body",
            "textarea",
            get(|t| t.body_text.clone().unwrap_or_default()),
        ),
        field(
            "variables",
            "Variables (separated by spaces)",
            "text",
            get(|t| t.variables.join(" ")),
        ),
        field(
            "required_variables",
            "Required variables",
            "text",
            get(|t| t.required_variables.join(" ")),
        ),
        field(
            "is_active",
            "Active",
            "checkbox",
            t.is_none_or(|t| t.is_active),
        ),
        field(
            "is_platform_only",
            "Platform only (stores cannot override)",
            "checkbox",
            t.is_some_and(|t| t.is_platform_only),
        ),
    ]
}

pub(crate) async fn admin_templates(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (_, chrome) = signed_in!(
        state,
        req,
        Area::Admin,
        "Email templates",
        "/admin/email-templates"
    );
    let list = state
        .db
        .read(|conn| templates::list(conn, &Default::default()))
        .await?;
    let rows = list
        .iter()
        .map(|t| Row {
            cells: vec![
                link(&t.code, format!("/admin/email-templates/{}", t.id)),
                cell(&t.language),
                cell(&t.name),
                cell(&t.category),
                cell(if t.is_active { "active" } else { "inactive" }),
                cell(if t.is_platform_only {
                    "platform only"
                } else {
                    ""
                }),
            ],
            actions: Vec::new(),
        })
        .collect();
    let mut page = TablePage::new(
        chrome,
        vec!["Code", "Language", "Name", "Category", "State", ""],
        rows,
    );
    page.form = Some(FormSpec {
        title: "New template".into(),
        url: "/api/v1/admin/email-templates".into(),
        method: "POST",
        submit: "Create",
        fields: template_fields(None),
        preview: Some("/api/v1/admin/email-templates/preview".into()),
        ..Default::default()
    });
    Ok(render_page(&state, "table.html", &page))
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
        "Edit template",
        "/admin/email-templates"
    );
    let id = path.into_inner();
    let template = state.db.read(move |conn| templates::get(conn, id)).await?;
    let mut page = TablePage::new(chrome, Vec::new(), Vec::new());
    page.form = Some(FormSpec {
        title: format!("{} ({})", template.code, template.language),
        url: format!("/api/v1/admin/email-templates/{id}"),
        method: "PUT",
        submit: "Save",
        fields: template_fields(Some(&template)),
        preview: Some("/api/v1/admin/email-templates/preview".into()),
        extra: Some(Extra {
            label: "Delete",
            url: format!("/api/v1/admin/email-templates/{id}"),
            method: "DELETE",
        }),
        code: template.code.clone(),
        language: template.language.clone(),
    });
    Ok(render_page(&state, "table.html", &page))
}

pub(crate) async fn vendor_templates(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (auth, chrome) = signed_in!(
        state,
        req,
        Area::Vendor,
        "Email templates",
        "/vendor/email-templates"
    );
    let store_id = auth.actor.store_id().unwrap_or_default();
    let (platform, overrides) = state
        .db
        .read(move |conn| {
            Ok::<_, AppError>((
                templates::list(conn, &Default::default())?,
                templates::list_overrides(conn, store_id)?,
            ))
        })
        .await?;
    let platform_only: std::collections::HashSet<String> = platform
        .iter()
        .filter(|t| t.is_platform_only)
        .map(|t| t.code.clone())
        .collect();
    let rows = platform
        .iter()
        .filter(|t| !platform_only.contains(&t.code))
        .map(|t| {
            let own = overrides
                .iter()
                .any(|o| o.template_code == t.code && o.language == t.language);
            Row {
                cells: vec![
                    link(
                        &t.code,
                        format!("/vendor/email-templates/{}/{}", t.code, t.language),
                    ),
                    cell(&t.language),
                    cell(&t.name),
                    cell(if own {
                        "your version"
                    } else {
                        "platform version"
                    }),
                ],
                actions: Vec::new(),
            }
        })
        .collect();
    let page = TablePage::new(chrome, vec!["Code", "Language", "Name", "In use"], rows);
    Ok(render_page(&state, "table.html", &page))
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
        "Edit your template",
        "/vendor/email-templates"
    );
    let (code, language) = path.into_inner();
    let store_id = auth.actor.store_id().unwrap_or_default();
    let (lookup_code, lookup_language) = (code.clone(), language.clone());
    let (platform, own) = state
        .db
        .read(move |conn| {
            Ok::<_, AppError>((
                templates::find(conn, &lookup_code, &lookup_language)?,
                templates::find_override(conn, store_id, &lookup_code, &lookup_language)?,
            ))
        })
        .await?;
    let platform = platform
        .filter(|t| !t.is_platform_only)
        .ok_or(AppError::NotFound)?;
    let source = own
        .as_ref()
        .map_or_else(|| platform.source(), |o| o.source());
    let mut page = TablePage::new(chrome, Vec::new(), Vec::new());
    page.intro = format!("Variables you can use: {}", platform.variables.join(", "));
    page.form = Some(FormSpec {
        title: format!("{code} ({language})"),
        url: format!("/api/v1/vendor/email-templates/{code}/{language}"),
        method: "PUT",
        submit: "Save your version",
        fields: vec![
            field("subject", "Subject", "text", source.subject),
            field("body_html", "HTML body", "textarea", source.body_html),
            field(
                "body_text",
                "Text body",
                "textarea",
                source.body_text.unwrap_or_default(),
            ),
        ],
        preview: Some("/api/v1/vendor/email-templates/preview".into()),
        extra: own.map(|_| Extra {
            label: "Back to the platform version",
            url: format!("/api/v1/vendor/email-templates/{code}/{language}"),
            method: "DELETE",
        }),
        code,
        language,
    });
    Ok(render_page(&state, "table.html", &page))
}
