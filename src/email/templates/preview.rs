//! Previewing a template: a saved one through the resolution chain, or an unsaved draft, with
//! sample values for its declared variables overlaid by the caller's. A store's draft renders in
//! the sandbox, like every store template.

use serde::{Deserialize, Serialize};

use super::Layer;
use crate::domain;
use crate::email::render::{self, Rendered, TemplateSource};
use crate::email::{Context, EmailError};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewRequest {
    pub code: Option<String>,
    pub language: Option<String>,
    pub store_id: Option<i64>,
    pub subject: Option<String>,
    pub body_html: Option<String>,
    pub body_text: Option<String>,
    pub variables: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What a preview shows: the rendered email, which layer it came from and in which language.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Preview {
    #[serde(flatten)]
    pub rendered: Rendered,
    pub layer: Layer,
    pub language: String,
}

/// Renders a saved template (through the resolution chain) or an unsaved draft, with sample
/// values for the declared variables overlaid by the caller's.
pub(crate) async fn preview(
    ctx: &Context,
    request: PreviewRequest,
    store_id: Option<i64>,
    as_store: bool,
) -> Result<Preview, EmailError> {
    let language = domain::clean_language(
        "language",
        request
            .language
            .as_deref()
            .unwrap_or(super::DEFAULT_LANGUAGE),
    )?;
    let code = request.code.clone();
    let declared = match code.clone() {
        Some(code) => {
            ctx.db
                .read(move |conn| super::variables_of(conn, &code))
                .await?
        }
        None => None,
    };
    if as_store && declared.is_none() {
        return Err(EmailError::invalid(
            "code",
            "name the platform template you are overriding",
        ));
    }
    let declared = declared.unwrap_or_default();
    let mut context = super::sample_context(&declared.variables);
    if let (serde_json::Value::Object(map), Some(given)) = (&mut context, &request.variables) {
        for (k, v) in given {
            map.insert(k.clone(), v.clone());
        }
    }

    let (source, layer, language, variables) = match (request.subject, request.body_html) {
        (Some(subject), Some(body_html)) => {
            let source = TemplateSource {
                subject,
                body_html,
                body_text: request.body_text,
            };
            let layer = if as_store {
                Layer::Store
            } else {
                Layer::Platform
            };
            let names = match &context {
                serde_json::Value::Object(map) => map.keys().cloned().collect(),
                _ => Vec::new(),
            };
            (source, layer, language, names)
        }
        (None, None) => {
            let code = code.ok_or_else(|| {
                EmailError::invalid("code", "give a code, or a subject and body_html")
            })?;
            let lang = language.clone();
            let resolved = ctx
                .db
                .read(move |conn| super::resolve(conn, &code, store_id, &lang))
                .await?
                .ok_or(EmailError::NotFound)?;
            (
                resolved.source,
                resolved.layer,
                resolved.language,
                resolved.variables.variables,
            )
        }
        _ => {
            return Err(EmailError::invalid(
                "body_html",
                "a draft needs both subject and body_html",
            ));
        }
    };
    let rendered = match layer {
        Layer::Store => {
            render::render_untrusted(&ctx.sandbox_exe, &source, &context, &[], &variables).await
        }
        Layer::Platform => {
            tokio::task::spawn_blocking(move || render::render(&source, &context, &[]))
                .await
                .map_err(EmailError::internal)?
        }
    }
    .map_err(EmailError::InvalidTemplate)?;
    Ok(Preview {
        rendered,
        layer,
        language,
    })
}
