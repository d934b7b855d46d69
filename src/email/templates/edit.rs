//! The use cases that change templates: an admin's platform template, and a store's own version
//! of one. Nothing that fails to render is ever stored.

use super::{CATEGORIES, EmailTemplate, OverrideFields, StoreOverride, TemplateFields};
use crate::domain;
use crate::email::render::{self, TemplateSource};
use crate::email::{Context, EmailError};

impl TemplateFields {
    /// Checks an admin's template: field shapes, and a test render with sample values for every
    /// declared variable (so a template cannot use a variable it does not declare).
    pub(crate) fn validate(&mut self) -> Result<(), EmailError> {
        let code_ok = (1..=100).contains(&self.code.len())
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !code_ok {
            return Err(EmailError::invalid(
                "code",
                "must be 1 to 100 lowercase letters, digits or underscores",
            ));
        }
        self.language = domain::clean_language("language", &self.language)?;
        self.name = domain::clean_line("name", &self.name, 255)?;
        if !CATEGORIES.contains(&self.category.as_str()) {
            return Err(EmailError::invalid(
                "category",
                format!("must be one of {}", CATEGORIES.join(", ")),
            ));
        }
        check_subject(&self.subject)?;
        if let Some(bad) = self
            .variables
            .iter()
            .chain(&self.required_variables)
            .find(|v| !is_variable_name(v))
        {
            return Err(EmailError::invalid(
                "variables",
                format!("`{bad}` is not a variable name"),
            ));
        }
        if let Some(missing) = self
            .required_variables
            .iter()
            .find(|r| !self.variables.contains(r))
        {
            return Err(EmailError::invalid(
                "required_variables",
                format!("`{missing}` is not in variables"),
            ));
        }
        let source = TemplateSource {
            subject: self.subject.clone(),
            body_html: self.body_html.clone(),
            body_text: self.body_text.clone(),
        };
        render::render(
            &source,
            &super::sample_context(&self.variables),
            &self.required_variables,
        )
        .map_err(EmailError::InvalidTemplate)?;
        Ok(())
    }
}

fn is_variable_name(v: &str) -> bool {
    (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn check_subject(subject: &str) -> Result<(), EmailError> {
    if subject.chars().count() > 500 {
        return Err(EmailError::invalid(
            "subject",
            "must be at most 500 characters",
        ));
    }
    Ok(())
}

/// Creates a platform template after validating it.
pub(crate) async fn create_template(
    ctx: &Context,
    mut fields: TemplateFields,
) -> Result<EmailTemplate, EmailError> {
    fields.validate()?;
    ctx.db.write(move |tx| super::insert(tx, &fields)).await
}

/// Replaces platform template `id` after validating the new version.
pub(crate) async fn update_template(
    ctx: &Context,
    id: i64,
    mut fields: TemplateFields,
) -> Result<EmailTemplate, EmailError> {
    fields.validate()?;
    ctx.db.write(move |tx| super::update(tx, id, &fields)).await
}

/// A store's version of a platform template, as staff write it.
#[derive(Debug, Clone)]
pub(crate) struct OverrideDraft {
    pub name: Option<String>,
    pub source: TemplateSource,
    pub is_active: bool,
}

/// Saves store `store_id`'s version of template `code` in `language`, after the dialect check
/// and a test render in the sandbox.
pub(crate) async fn save_override(
    ctx: &Context,
    store_id: i64,
    code: String,
    language: &str,
    draft: OverrideDraft,
) -> Result<StoreOverride, EmailError> {
    let language = domain::clean_language("language", language)?;
    let name = draft
        .name
        .map(|n| domain::clean_line("name", &n, 255))
        .transpose()?;
    check_subject(&draft.source.subject)?;
    let lookup = code.clone();
    let variables = ctx
        .db
        .read(move |conn| super::overridable(conn, &lookup))
        .await?;
    let context = super::sample_context(&variables.variables);
    render::render_untrusted(
        &ctx.sandbox_exe,
        &draft.source,
        &context,
        &variables.required,
        &variables.variables,
    )
    .await
    .map_err(EmailError::TemplateRefused)?;
    let fields = OverrideFields {
        name,
        subject: draft.source.subject,
        body_html: draft.source.body_html,
        body_text: draft.source.body_text,
        is_active: draft.is_active,
    };
    let saved = ctx
        .db
        .write(move |tx| super::put_override(tx, store_id, &code, &language, &fields))
        .await?;
    tracing::info!(
        store_id,
        code = saved.template_code,
        "store template override saved"
    );
    Ok(saved)
}
