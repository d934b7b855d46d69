//! Verifying a store's email settings: a test email through its provider to the staff member
//! asking. The outcome is recorded; a failure raises an admin alert. Errors are generic (no
//! server banner reaches the store).

use serde::Serialize;

use super::tier_required;
use crate::alerts;
use crate::domain::{AlertKind, AlertPriority};
use crate::email::Context;
use crate::email::EmailError;
use crate::email::mailer::store_mailer;
use crate::email::smtp::{Outgoing, SendError};

/// What a verification found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Verification {
    pub is_verified: bool,
    pub verification_error: Option<String>,
}

/// Sends a test email through the store's provider to the staff member asking; the outcome is
/// recorded, and a failure raises an admin alert. Errors are generic (no server banner).
pub(crate) async fn verify_settings(
    ctx: &Context,
    store_id: i64,
    user_id: i64,
) -> Result<Verification, EmailError> {
    let (stored, user) = ctx
        .db
        .read(move |conn| {
            Ok::<_, EmailError>((
                super::load(conn, store_id)?,
                crate::accounts::get_user(conn, user_id)?,
            ))
        })
        .await?;
    if !stored.complete() {
        return Err(EmailError::Refused {
            code: "not_configured",
            message: "complete the sender and the provider's settings first".into(),
        });
    }
    if let Some(tier) = stored.tier
        && !tier.allows(stored.provider())
    {
        return Err(tier_required(stored.provider(), tier));
    }
    let outcome = match store_mailer(&stored, &ctx.key, &ctx.settings.email, &ctx.http).await {
        Err(why) => Err(Unverified::Settings(why)),
        Ok(mailer) => {
            let test = Outgoing {
                from_email: stored.from_email.clone(),
                from_name: Some(stored.from_name.clone()),
                to_email: user.email.clone(),
                to_name: Some(user.full_name.clone()),
                reply_to: stored.reply_to_email.clone(),
                subject: format!("Parley test email for {}", stored.from_name),
                html: "<p>Your store's email settings work: this test email went through them.</p>"
                    .into(),
                text: "Your store's email settings work: this test email went through them.".into(),
                message_id: format!("<verify-{}@parley.invalid>", uuid::Uuid::new_v4().simple()),
                unsubscribe_url: None,
            };
            mailer
                .send(&test, 0)
                .await
                .map(|_| ())
                .map_err(|e| match e {
                    SendError::Transient(_) => Unverified::Unreachable,
                    SendError::Auth(_) => Unverified::CredentialsRefused,
                    SendError::Permanent { .. } => Unverified::TestRefused,
                })
        }
    };
    let error = outcome.err().map(|e| e.to_string());
    let recorded = error.clone();
    ctx.db
        .write(move |tx| {
            super::record_verification(tx, store_id, recorded.as_deref())?;
            if let Some(why) = &recorded {
                alerts::raise(
                    tx,
                    &alerts::Alert {
                        notification_type: AlertKind::StoreIssue,
                        priority: AlertPriority::Normal,
                        title: "A store's email settings failed verification",
                        message: &format!("Store {store_id}: {why}"),
                        action_required: false,
                        action_url: None,
                        metadata: serde_json::json!({ "store_id": store_id }),
                        dedup_key: &format!("store_verification:{store_id}"),
                    },
                )?;
            }
            Ok::<_, EmailError>(())
        })
        .await?;
    Ok(Verification {
        is_verified: error.is_none(),
        verification_error: error,
    })
}

/// Why a store's settings did not verify, as the store and the admin alert read it: what the
/// store can fix, never the server's own words (which may echo a credential).
#[derive(Debug, thiserror::Error)]
enum Unverified {
    #[error(transparent)]
    Settings(#[from] crate::email::MailerError),
    #[error("could not reach the mail server, or it did not answer in time")]
    Unreachable,
    #[error("the mail server refused the credentials")]
    CredentialsRefused,
    #[error("the mail server refused the test email")]
    TestRefused,
}
