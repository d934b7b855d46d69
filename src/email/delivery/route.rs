//! Where an email leaves from (the store's own provider, or the platform's relay) and what it
//! says (its template rendered, store templates in the sandbox).

use super::super::mailer::{Mailer, store_mailer};
use super::super::outbox::{self, Claimed};
use super::super::render::{self, Rendered};
use super::super::settings;
use super::super::templates::{self, Layer};
use super::Context;
use crate::email::EmailError;

/// The way an email leaves and the sender it shows.
pub(super) struct Route {
    pub(super) mailer: Mailer,
    pub(super) from_email: String,
    pub(super) from_name: Option<String>,
    pub(super) reply_to: Option<String>,
    /// Set when the store's own provider is used.
    pub(super) own_store: Option<i64>,
    /// The store's open and click tracking (SMTP only).
    pub(super) tracking: (bool, bool),
}

/// The store's own provider when usable; the platform's relay (and sender) otherwise. None when
/// neither can send.
pub(super) async fn route(ctx: &Context, email: &Claimed) -> Option<Route> {
    let mut tracking = (false, false);
    if let Some(store_id) = email.store_id {
        match ctx
            .db
            .read(move |conn| settings::load(conn, store_id))
            .await
        {
            Ok(store) => {
                tracking = (store.track_opens, store.track_clicks);
                if store.usable() {
                    match store_mailer(&store, &ctx.key, &ctx.settings.email, &ctx.http).await {
                        Ok(mailer) => {
                            return Some(Route {
                                mailer,
                                from_email: store.from_email.clone(),
                                from_name: Some(store.from_name.clone()),
                                reply_to: store.reply_to_email.clone(),
                                own_store: Some(store_id),
                                tracking,
                            });
                        }
                        Err(why) => tracing::warn!(
                            store_id,
                            "store mailer unavailable, using the platform's: {why}"
                        ),
                    }
                }
            }
            Err(e) => tracing::error!(store_id, error = ?e, "cannot load store email settings"),
        }
    }
    ctx.mailer.clone().map(|relay| Route {
        mailer: Mailer::Smtp(relay),
        from_email: email.from_email.clone(),
        from_name: email.from_name.clone(),
        reply_to: None,
        own_store: None,
        tracking,
    })
}

/// Renders an email's template with its variables and saves the snapshot. A store template that
/// fails (refused, too slow, too large, missing variable) falls back to the platform template, and
/// the reason is recorded on the email.
pub(super) async fn render_email(ctx: &Context, email: &Claimed) -> Result<Rendered, EmailError> {
    let code = email
        .template_code
        .clone()
        .ok_or(EmailError::NoTemplate(None))?;
    let (store_id, language) = (email.store_id, email.language.clone());
    let lookup = {
        let code = code.clone();
        ctx.db
            .read(move |conn| {
                Ok::<_, EmailError>((
                    templates::resolve(conn, &code, store_id, &language)?,
                    templates::resolve_platform(conn, &code, &language)?,
                ))
            })
            .await
    };
    let (chosen, platform) = lookup?;
    let chosen = chosen.ok_or_else(|| EmailError::NoTemplate(Some(code.clone())))?;
    let variables = email.variables();
    let mut extra = email.extra.clone();

    let rendered = match chosen.layer {
        Layer::Store => {
            let exe = ctx.sandbox_exe.clone();
            match render::render_untrusted(
                &exe,
                &chosen.source,
                &variables,
                &chosen.variables.required,
                &chosen.variables.variables,
            )
            .await
            {
                Ok(rendered) => (rendered, None),
                Err(reason) => {
                    tracing::warn!(
                        email_id = email.id,
                        store_id,
                        "store template failed, using the platform's: {reason}"
                    );
                    if let serde_json::Value::Object(map) = &mut extra {
                        map.insert(
                            "store_template_error".into(),
                            serde_json::Value::String(reason.to_string()),
                        );
                    }
                    let platform = platform.ok_or(EmailError::NoTemplate(Some(code)))?;
                    (
                        render_trusted(&platform.source, &variables, &platform.variables.required)
                            .await?,
                        platform.template_id,
                    )
                }
            }
        }
        Layer::Platform => (
            render_trusted(&chosen.source, &variables, &chosen.variables.required).await?,
            chosen.template_id,
        ),
    };
    let ((rendered, template_id), id) = (rendered, email.id);
    let snapshot = rendered.clone();
    ctx.db
        .write(move |tx| {
            outbox::save_rendered(
                tx,
                id,
                template_id,
                &snapshot.subject,
                &snapshot.body_html,
                &snapshot.body_text,
                &extra,
            )
        })
        .await?;
    Ok(rendered)
}

async fn render_trusted(
    source: &render::TemplateSource,
    variables: &serde_json::Value,
    required: &[String],
) -> Result<Rendered, EmailError> {
    let (source, variables, required) = (source.clone(), variables.clone(), required.to_vec());
    tokio::task::spawn_blocking(move || render::render(&source, &variables, &required))
        .await
        .map_err(EmailError::internal)?
        .map_err(EmailError::InvalidTemplate)
}
