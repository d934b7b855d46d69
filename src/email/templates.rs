//! Email templates (seed: EmailTemplate, StoreEmailTemplate): platform templates per (code,
//! language), store overrides, the defaults shipped in `assets/emails/`, and resolution with
//! language fallback.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};

use super::render::TemplateSource;
use crate::error::AppError;

/// The language every template falls back to.
pub(crate) const DEFAULT_LANGUAGE: &str = "en";

#[derive(RustEmbed)]
#[folder = "assets/emails/"]
struct DefaultFiles;

#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Deserialize)]
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

fn json_list(text: Option<String>) -> Vec<String> {
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
pub(crate) fn seed_defaults(conn: &Connection) -> Result<usize, AppError> {
    let mut added = 0;
    for name in DefaultFiles::iter() {
        let Some(file) = DefaultFiles::get(&name) else {
            continue;
        };
        let text = String::from_utf8_lossy(&file.data);
        let fields: TemplateFields = toml::from_str(&text)
            .map_err(|e| AppError::internal(anyhow::anyhow!("assets/emails/{name}: {e}")))?;
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

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateFilter {
    pub code: Option<String>,
    pub language: Option<String>,
    pub category: Option<String>,
}

pub(crate) fn list(
    conn: &Connection,
    filter: &TemplateFilter,
) -> Result<Vec<EmailTemplate>, AppError> {
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

pub(crate) fn get(conn: &Connection, id: i64) -> Result<EmailTemplate, AppError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM email_templates WHERE id = ?1"),
        [id],
        template_row,
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

pub(crate) fn find(
    conn: &Connection,
    code: &str,
    language: &str,
) -> Result<Option<EmailTemplate>, AppError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM email_templates WHERE code = ?1 AND language = ?2"
        ))?
        .query_row([code, language], template_row)
        .optional()?)
}

pub(crate) fn insert(conn: &Connection, t: &TemplateFields) -> Result<EmailTemplate, AppError> {
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
            AppError::conflict("template_exists", "a template with this code and language already exists")
        }
        _ => AppError::from(e),
    })
}

pub(crate) fn update(
    conn: &Connection,
    id: i64,
    t: &TemplateFields,
) -> Result<EmailTemplate, AppError> {
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
            AppError::conflict("template_exists", "a template with this code and language already exists")
        }
        _ => AppError::from(e),
    })?
    .ok_or(AppError::NotFound)
}

pub(crate) fn delete(conn: &Connection, id: i64) -> Result<(), AppError> {
    match conn.execute("DELETE FROM email_templates WHERE id = ?1", [id])? {
        0 => Err(AppError::NotFound),
        _ => Ok(()),
    }
}

// ---- store overrides -------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub(crate) struct StoreOverride {
    pub id: i64,
    pub store_id: i64,
    pub template_code: String,
    pub language: String,
    pub name: Option<String>,
    pub subject: String,
    pub body_html: String,
    pub body_text: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const OVERRIDE_COLUMNS: &str = "id, store_id, template_code, language, name, subject, body_html, body_text, is_active, created_at, updated_at";

fn override_row(r: &Row<'_>) -> rusqlite::Result<StoreOverride> {
    Ok(StoreOverride {
        id: r.get(0)?,
        store_id: r.get(1)?,
        template_code: r.get(2)?,
        language: r.get(3)?,
        name: r.get(4)?,
        subject: r.get(5)?,
        body_html: r.get(6)?,
        body_text: r.get(7)?,
        is_active: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

impl StoreOverride {
    pub(crate) fn source(&self) -> TemplateSource {
        TemplateSource {
            subject: self.subject.clone(),
            body_html: self.body_html.clone(),
            body_text: self.body_text.clone(),
        }
    }
}

pub(crate) fn find_override(
    conn: &Connection,
    store_id: i64,
    code: &str,
    language: &str,
) -> Result<Option<StoreOverride>, AppError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {OVERRIDE_COLUMNS} FROM store_email_templates WHERE store_id = ?1 AND template_code = ?2 AND language = ?3"
        ))?
        .query_row(params![store_id, code, language], override_row)
        .optional()?)
}

pub(crate) fn list_overrides(
    conn: &Connection,
    store_id: i64,
) -> Result<Vec<StoreOverride>, AppError> {
    let rows = conn
        .prepare(&format!(
            "SELECT {OVERRIDE_COLUMNS} FROM store_email_templates WHERE store_id = ?1 ORDER BY template_code, language"
        ))?
        .query_map([store_id], override_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(crate) struct OverrideFields {
    pub name: Option<String>,
    pub subject: String,
    pub body_html: String,
    pub body_text: Option<String>,
    pub is_active: bool,
}

pub(crate) fn put_override(
    conn: &Connection,
    store_id: i64,
    code: &str,
    language: &str,
    f: &OverrideFields,
) -> Result<StoreOverride, AppError> {
    Ok(conn.query_row(
        &format!(
            "INSERT INTO store_email_templates (store_id, template_code, language, name, subject, body_html, body_text, is_active)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (store_id, template_code, language) DO UPDATE SET
                name = excluded.name, subject = excluded.subject, body_html = excluded.body_html,
                body_text = excluded.body_text, is_active = excluded.is_active, updated_at = ?9
             RETURNING {OVERRIDE_COLUMNS}"
        ),
        params![store_id, code, language, f.name, f.subject, f.body_html, f.body_text, f.is_active, Utc::now()],
        override_row,
    )?)
}

pub(crate) fn delete_override(
    conn: &Connection,
    store_id: i64,
    code: &str,
    language: &str,
) -> Result<(), AppError> {
    match conn.execute(
        "DELETE FROM store_email_templates WHERE store_id = ?1 AND template_code = ?2 AND language = ?3",
        params![store_id, code, language],
    )? {
        0 => Err(AppError::NotFound),
        _ => Ok(()),
    }
}

/// What a store may override for `code`: the platform template's variables, or why not.
pub(crate) fn overridable(
    conn: &Connection,
    code: &str,
) -> Result<Result<TemplateVariables, String>, AppError> {
    let Some(variables) = variables_of(conn, code)? else {
        return Ok(Err(format!("there is no platform template `{code}`")));
    };
    if variables.platform_only {
        return Ok(Err(format!(
            "the template `{code}` is platform-only and cannot be overridden"
        )));
    }
    Ok(Ok(variables))
}

#[derive(Debug, Clone, Default)]
pub(crate) struct TemplateVariables {
    pub variables: Vec<String>,
    pub required: Vec<String>,
    pub platform_only: bool,
}

/// The variables a template code declares (from its default-language row if there is one), and
/// whether any of its rows is platform-only.
pub(crate) fn variables_of(
    conn: &Connection,
    code: &str,
) -> Result<Option<TemplateVariables>, AppError> {
    let row: Option<(Option<String>, Option<String>, bool)> = conn
        .prepare_cached(
            "SELECT variables, required_variables,
                    (SELECT max(is_platform_only) FROM email_templates WHERE code = ?1)
             FROM email_templates WHERE code = ?1
             ORDER BY language = ?2 DESC, id LIMIT 1",
        )?
        .query_row([code, DEFAULT_LANGUAGE], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(
        row.map(|(variables, required, platform_only)| TemplateVariables {
            variables: json_list(variables),
            required: json_list(required),
            platform_only,
        }),
    )
}

// ---- resolution ------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Layer {
    Store,
    Platform,
}

/// A template chosen for one email.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub layer: Layer,
    pub language: String,
    pub source: TemplateSource,
    /// The platform template's id, when the platform layer was chosen.
    pub template_id: Option<i64>,
    pub variables: TemplateVariables,
}

/// Picks the template for `code` in `language` for `store_id`: the store's override in that
/// language → the platform template in that language → the store's override in the default
/// language → the platform template in the default language. Inactive rows are skipped;
/// platform-only templates are never overridden.
pub(crate) fn resolve(
    conn: &Connection,
    code: &str,
    store_id: Option<i64>,
    language: &str,
) -> Result<Option<Resolved>, AppError> {
    let Some(variables) = variables_of(conn, code)? else {
        return Ok(None);
    };
    let store = store_id.filter(|_| !variables.platform_only);
    let mut languages = vec![language];
    if language != DEFAULT_LANGUAGE {
        languages.push(DEFAULT_LANGUAGE);
    }
    for lang in languages {
        if let Some(store_id) = store
            && let Some(o) = find_override(conn, store_id, code, lang)?.filter(|o| o.is_active)
        {
            return Ok(Some(Resolved {
                layer: Layer::Store,
                language: lang.to_string(),
                source: o.source(),
                template_id: None,
                variables,
            }));
        }
        if let Some(t) = find(conn, code, lang)?.filter(|t| t.is_active) {
            return Ok(Some(Resolved {
                layer: Layer::Platform,
                language: lang.to_string(),
                source: t.source(),
                template_id: Some(t.id),
                variables,
            }));
        }
    }
    Ok(None)
}

/// The platform template the chain would reach when the store layer is skipped (the fallback when
/// a store template fails to render).
pub(crate) fn resolve_platform(
    conn: &Connection,
    code: &str,
    language: &str,
) -> Result<Option<Resolved>, AppError> {
    resolve(conn, code, None, language)
}

/// Sample values for a preview or a test render: one string per declared variable.
pub(crate) fn sample_context(variables: &[String]) -> serde_json::Value {
    let map = variables
        .iter()
        .map(|name| {
            let value = match name.as_str() {
                n if n.ends_with("_url") => format!("https://example.com/{n}"),
                n if n.ends_with("_minutes") => "30".to_string(),
                n => format!("[{n}]"),
            };
            (name.clone(), serde_json::Value::String(value))
        })
        .collect::<serde_json::Map<_, _>>();
    serde_json::Value::Object(map)
}
