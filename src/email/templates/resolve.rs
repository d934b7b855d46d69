//! Which template an email uses: the store's override in the language, the platform's in the
//! language, then the same two in English.

use rusqlite::Connection;
use serde::Serialize;

use super::{DEFAULT_LANGUAGE, TemplateVariables, find, find_override, variables_of};
use crate::email::EmailError;
use crate::email::render::TemplateSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
) -> Result<Option<Resolved>, EmailError> {
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
) -> Result<Option<Resolved>, EmailError> {
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
