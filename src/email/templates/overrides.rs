//! Store overrides of platform templates (seed: StoreEmailTemplate), and which templates a store
//! may override.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{DEFAULT_LANGUAGE, json_list};
use crate::email::EmailError;
use crate::email::render::TemplateSource;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
) -> Result<Option<StoreOverride>, EmailError> {
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
) -> Result<Vec<StoreOverride>, EmailError> {
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
) -> Result<StoreOverride, EmailError> {
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
) -> Result<(), EmailError> {
    match conn.execute(
        "DELETE FROM store_email_templates WHERE store_id = ?1 AND template_code = ?2 AND language = ?3",
        params![store_id, code, language],
    )? {
        0 => Err(EmailError::NotFound),
        _ => Ok(()),
    }
}

/// What a store may override for `code`: the platform template's variables, or why not.
/// The variables of platform template `code`, if stores may override it.
pub(crate) fn overridable(conn: &Connection, code: &str) -> Result<TemplateVariables, EmailError> {
    let refused = |message: String| EmailError::Refused {
        code: "template_refused",
        message,
    };
    let Some(variables) = variables_of(conn, code)? else {
        return Err(refused(format!("there is no platform template `{code}`")));
    };
    if variables.platform_only {
        return Err(refused(format!(
            "the template `{code}` is platform-only and cannot be overridden"
        )));
    }
    Ok(variables)
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
) -> Result<Option<TemplateVariables>, EmailError> {
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

/// A platform template a store may override, with the store's own version if it has one.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct OverridableTemplate {
    pub code: String,
    pub language: String,
    pub name: String,
    pub category: String,
    pub variables: Vec<String>,
    pub required_variables: Vec<String>,
    pub is_active: bool,
    #[serde(rename = "override")]
    pub store_override: Option<StoreOverride>,
}

/// The platform templates store `store_id` may override (a code with any platform-only row is
/// left out), each with the store's own version.
pub(crate) fn store_choices(
    conn: &Connection,
    store_id: i64,
) -> Result<Vec<OverridableTemplate>, EmailError> {
    let overrides = list_overrides(conn, store_id)?;
    let platform = super::list(conn, &Default::default())?;
    let platform_only: std::collections::HashSet<String> = platform
        .iter()
        .filter(|t| t.is_platform_only)
        .map(|t| t.code.clone())
        .collect();
    Ok(platform
        .into_iter()
        .filter(|t| !platform_only.contains(&t.code))
        .map(|t| OverridableTemplate {
            store_override: overrides
                .iter()
                .find(|o| o.template_code == t.code && o.language == t.language)
                .cloned(),
            code: t.code,
            language: t.language,
            name: t.name,
            category: t.category,
            variables: t.variables,
            required_variables: t.required_variables,
            is_active: t.is_active,
        })
        .collect())
}

/// The platform template `code`/`language` a store may override, and its own version if any.
/// Not found when the platform has no such template or keeps it to itself.
pub(crate) fn for_store(
    conn: &Connection,
    store_id: i64,
    code: &str,
    language: &str,
) -> Result<(super::EmailTemplate, Option<StoreOverride>), EmailError> {
    let platform = super::find(conn, code, language)?
        .filter(|t| !t.is_platform_only)
        .ok_or(EmailError::NotFound)?;
    Ok((platform, find_override(conn, store_id, code, language)?))
}
