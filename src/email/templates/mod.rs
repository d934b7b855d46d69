//! Email templates (seed: EmailTemplate, StoreEmailTemplate): platform templates per (code,
//! language), store overrides, the defaults shipped in `assets/emails/`, and resolution with
//! language fallback.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};

use super::render::TemplateSource;
use crate::email::EmailError;

mod edit;
mod overrides;
mod preview;
mod resolve;

pub(crate) use edit::{OverrideDraft, create_template, save_override, update_template};
pub(crate) use overrides::*;
pub(crate) use preview::{Preview, PreviewRequest, preview};
pub(crate) use resolve::*;

/// The language every template falls back to.
pub(crate) const DEFAULT_LANGUAGE: &str = "en";

#[derive(RustEmbed)]
#[folder = "assets/emails/"]
struct DefaultFiles;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct EmailTemplate {
    pub id: i64,
    pub code: String,
    pub language: String,
    pub name: String,
    pub description: Option<String>,
    pub category: String,
    pub subject: String,
    pub body_html: String,
    pub body_text: Option<String>,
    pub variables: Vec<String>,
    pub required_variables: Vec<String>,
    pub is_active: bool,
    pub is_platform_only: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A template as written in `assets/emails/*.toml`, and as admins create or update one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateFields {
    pub code: String,
    pub language: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(default = "default_category")]
    pub category: String,
    pub subject: String,
    pub body_html: String,
    pub body_text: Option<String>,
    #[serde(default)]
    pub variables: Vec<String>,
    #[serde(default)]
    pub required_variables: Vec<String>,
    #[serde(default = "yes")]
    pub is_active: bool,
    #[serde(default)]
    pub is_platform_only: bool,
}

fn default_category() -> String {
    "system".into()
}

fn yes() -> bool {
    true
}

pub(crate) const CATEGORIES: &[&str] = &["auth", "orders", "billing", "system", "marketing"];

const COLUMNS: &str =
    "id, code, language, name, description, category, subject, body_html, body_text,
    variables, required_variables, is_active, is_platform_only, created_at, updated_at";

pub(super) fn json_list(text: Option<String>) -> Vec<String> {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn template_row(r: &Row<'_>) -> rusqlite::Result<EmailTemplate> {
    Ok(EmailTemplate {
        id: r.get(0)?,
        code: r.get(1)?,
        language: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        category: r.get(5)?,
        subject: r.get(6)?,
        body_html: r.get(7)?,
        body_text: r.get(8)?,
        variables: json_list(r.get(9)?),
        required_variables: json_list(r.get(10)?),
        is_active: r.get(11)?,
        is_platform_only: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
    })
}

impl EmailTemplate {
    pub(crate) fn source(&self) -> TemplateSource {
        TemplateSource {
            subject: self.subject.clone(),
            body_html: self.body_html.clone(),
            body_text: self.body_text.clone(),
        }
    }
}

/// Adds every shipped default whose (code, language) is missing. Never touches an existing row,
/// so an edited template stays as the admin left it. Returns how many were added.
pub(crate) fn seed_defaults(conn: &Connection) -> Result<usize, EmailError> {
    let mut added = 0;
    for name in DefaultFiles::iter() {
        let Some(file) = DefaultFiles::get(&name) else {
            continue;
        };
        let text = String::from_utf8_lossy(&file.data);
        let fields: TemplateFields = toml::from_str(&text)
            .map_err(|e| EmailError::internal(anyhow::anyhow!("assets/emails/{name}: {e}")))?;
        added += conn.execute(
            "INSERT INTO email_templates (code, language, name, description, category, subject, body_html, body_text,
                    variables, required_variables, is_active, is_platform_only)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (code, language) DO NOTHING",
            params![
                fields.code,
                fields.language,
                fields.name,
                fields.description,
                fields.category,
                fields.subject.trim(),
                fields.body_html.trim(),
                fields.body_text.as_deref().map(str::trim),
                serde_json::to_string(&fields.variables).ok(),
                serde_json::to_string(&fields.required_variables).ok(),
                fields.is_active,
                fields.is_platform_only,
            ],
        )?;
    }
    Ok(added)
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateFilter {
    pub code: Option<String>,
    pub language: Option<String>,
    pub category: Option<String>,
}

pub(crate) fn list(
    conn: &Connection,
    filter: &TemplateFilter,
) -> Result<Vec<EmailTemplate>, EmailError> {
    let rows = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM email_templates
             WHERE (?1 IS NULL OR code = ?1) AND (?2 IS NULL OR language = ?2) AND (?3 IS NULL OR category = ?3)
             ORDER BY code, language"
        ))?
        .query_map(params![filter.code, filter.language, filter.category], template_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(crate) fn get(conn: &Connection, id: i64) -> Result<EmailTemplate, EmailError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM email_templates WHERE id = ?1"),
        [id],
        template_row,
    )
    .optional()?
    .ok_or(EmailError::NotFound)
}

pub(crate) fn find(
    conn: &Connection,
    code: &str,
    language: &str,
) -> Result<Option<EmailTemplate>, EmailError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM email_templates WHERE code = ?1 AND language = ?2"
        ))?
        .query_row([code, language], template_row)
        .optional()?)
}

pub(crate) fn insert(conn: &Connection, t: &TemplateFields) -> Result<EmailTemplate, EmailError> {
    conn.query_row(
        &format!(
            "INSERT INTO email_templates (code, language, name, description, category, subject, body_html, body_text,
                    variables, required_variables, is_active, is_platform_only)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING {COLUMNS}"
        ),
        params![
            t.code,
            t.language,
            t.name,
            t.description,
            t.category,
            t.subject,
            t.body_html,
            t.body_text,
            serde_json::to_string(&t.variables).ok(),
            serde_json::to_string(&t.required_variables).ok(),
            t.is_active,
            t.is_platform_only,
        ],
        template_row,
    )
    .map_err(|e| match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
            EmailError::conflict("template_exists", "a template with this code and language already exists")
        }
        _ => EmailError::from(e),
    })
}

pub(crate) fn update(
    conn: &Connection,
    id: i64,
    t: &TemplateFields,
) -> Result<EmailTemplate, EmailError> {
    conn.query_row(
        &format!(
            "UPDATE email_templates SET code = ?2, language = ?3, name = ?4, description = ?5, category = ?6,
                    subject = ?7, body_html = ?8, body_text = ?9, variables = ?10, required_variables = ?11,
                    is_active = ?12, is_platform_only = ?13, updated_at = ?14
             WHERE id = ?1 RETURNING {COLUMNS}"
        ),
        params![
            id,
            t.code,
            t.language,
            t.name,
            t.description,
            t.category,
            t.subject,
            t.body_html,
            t.body_text,
            serde_json::to_string(&t.variables).ok(),
            serde_json::to_string(&t.required_variables).ok(),
            t.is_active,
            t.is_platform_only,
            Utc::now(),
        ],
        template_row,
    )
    .optional()
    .map_err(|e| match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
            EmailError::conflict("template_exists", "a template with this code and language already exists")
        }
        _ => EmailError::from(e),
    })?
    .ok_or(EmailError::NotFound)
}

pub(crate) fn delete(conn: &Connection, id: i64) -> Result<(), EmailError> {
    match conn.execute("DELETE FROM email_templates WHERE id = ?1", [id])? {
        0 => Err(EmailError::NotFound),
        _ => Ok(()),
    }
}
