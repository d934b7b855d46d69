//! What local passwords need around them: a forgotten-password flow by email, and the check of a
//! self-registered customer's address when the platform asks for one. Both send a link with a
//! single-use token (256 random bits) of which only the SHA-256 is kept, expiring after an hour
//! (a reset) or two days (an address check). Asking for a reset answers the same whether the
//! account exists or not, so the flow cannot be used to find out who has one.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{AccountsError, Context, Customer, passwords};
use crate::auth::session::{self, NewSession, Principal, SessionKind, hash_token, random_token};
use crate::domain::{self, Area, Invalid, Role};
use crate::email::notify;

pub(crate) const RESET_MINUTES: i64 = 60;
pub(crate) const VERIFICATION_HOURS: i64 = 48;

/// Why a token was refused: one answer for unknown, spent and expired alike.
pub(crate) const INVALID_TOKEN: &str = "this link is invalid or has expired; ask for a new one";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    PasswordReset,
    EmailVerification,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password_reset",
            Purpose::EmailVerification => "email_verification",
        }
    }
}

fn principal_parts(principal: Principal) -> (&'static str, i64) {
    match principal {
        Principal::User(id) => ("user", id),
        Principal::Customer(id) => ("customer", id),
    }
}

/// A new token for `principal`, replacing any unspent one of the same purpose.
fn issue(
    conn: &Connection,
    principal: Principal,
    purpose: Purpose,
    lifetime: Duration,
) -> rusqlite::Result<String> {
    let (kind, id) = principal_parts(principal);
    conn.execute(
        "DELETE FROM account_tokens WHERE principal_type = ?1 AND principal_id = ?2 AND purpose = ?3",
        params![kind, id, purpose.as_str()],
    )?;
    let token = random_token();
    conn.execute(
        "INSERT INTO account_tokens (token_hash, purpose, principal_type, principal_id, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            hash_token(&token),
            purpose.as_str(),
            kind,
            id,
            Utc::now() + lifetime
        ],
    )?;
    Ok(token)
}

/// Spends a token: its principal if it exists, has this purpose, is unspent and unexpired.
fn spend(conn: &Connection, token: &str, purpose: Purpose) -> Result<Principal, AccountsError> {
    let found: Option<(String, i64, DateTime<Utc>)> = conn
        .query_row(
            "UPDATE account_tokens SET used_at = ?3
             WHERE token_hash = ?1 AND purpose = ?2 AND used_at IS NULL
             RETURNING principal_type, principal_id, expires_at",
            params![hash_token(token), purpose.as_str(), Utc::now()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    match found {
        Some((kind, id, expires)) if expires > Utc::now() => Ok(match kind.as_str() {
            "user" => Principal::User(id),
            _ => Principal::Customer(id),
        }),
        _ => Err(Invalid::new("token", INVALID_TOKEN).into()),
    }
}

/// Someone asks for a reset of the `area` account with this email (customers name their store).
/// If there is such an active account, a link goes out; either way the caller hears the same.
pub(crate) async fn request_reset(
    ctx: &Context,
    area: Area,
    store_code: Option<String>,
    email: &str,
) -> Result<(), AccountsError> {
    let email = email.trim().to_ascii_lowercase();
    let settings = ctx.settings.clone();
    ctx.db
        .write(move |tx| {
            let found = match (area, store_code) {
                (Area::Shop, Some(code)) => super::customer_credentials(tx, code.trim(), &email)?
                    .map(|(c, _)| {
                        (
                            Principal::Customer(c.id),
                            c.full_name,
                            c.language,
                            Some(code),
                        )
                    }),
                (Area::Shop, None) => None,
                (area, _) => {
                    let role = if area == Area::Admin {
                        Role::Admin
                    } else {
                        Role::Store
                    };
                    super::user_credentials(tx, &email, role)?
                        .map(|(u, _)| (Principal::User(u.id), u.full_name, u.language, None))
                }
            };
            let Some((principal, name, language, store_code)) = found else {
                tracing::info!(
                    area = area.as_str(),
                    "password reset asked for an unknown account"
                );
                return Ok(());
            };
            let token = issue(
                tx,
                principal,
                Purpose::PasswordReset,
                Duration::minutes(RESET_MINUTES),
            )?;
            let base = settings.server.public_url.trim_end_matches('/');
            let mut query = vec![("token", token)];
            if let Some(code) = store_code {
                query.push(("store", code.trim().to_string()));
            }
            let url = format!(
                "{base}/{}/reset-password?{}",
                area.as_str(),
                serde_urlencoded::to_string(query).unwrap_or_default()
            );
            notify::password_reset(tx, &settings, &email, &name, &language, &url, RESET_MINUTES)?;
            tracing::info!(principal = ?principal, "password reset link sent");
            Ok::<_, AccountsError>(())
        })
        .await
}

/// Sets a new password with a reset token: spent once, every session of the account ends, and a
/// customer's address counts as checked (the link reached it).
pub(crate) async fn reset_password(
    ctx: &Context,
    area: Area,
    token: &str,
    new_password: String,
) -> Result<(), AccountsError> {
    domain::check_password("new_password", &new_password)?;
    if token.is_empty() || token.len() > 100 {
        return Err(Invalid::new("token", INVALID_TOKEN).into());
    }
    let hash = ctx.hasher.hash(new_password).await?;
    let token = token.to_string();
    ctx.db
        .write(move |tx| {
            let principal = spend(tx, &token, Purpose::PasswordReset)?;
            let in_area = match (area, principal) {
                (Area::Shop, Principal::Customer(_)) => true,
                (Area::Shop, _) | (_, Principal::Customer(_)) => false,
                (area, Principal::User(id)) => {
                    let role: Role =
                        tx.query_row("SELECT role FROM users WHERE id = ?1", [id], |r| r.get(0))?;
                    (role == Role::Admin) == (area == Area::Admin)
                }
            };
            if !in_area {
                return Err(Invalid::new("token", INVALID_TOKEN).into());
            }
            passwords::set_password(tx, principal, &hash, None)?;
            if let Principal::Customer(id) = principal {
                tx.execute(
                    "UPDATE customers SET email_unverified = 0 WHERE id = ?1",
                    [id],
                )?;
            }
            tracing::info!(principal = ?principal, "password reset");
            Ok::<_, AccountsError>(())
        })
        .await
}

/// Sends a newly registered customer the link that checks their address.
pub(crate) fn send_verification(
    conn: &Connection,
    ctx_settings: &crate::config::Settings,
    customer: &Customer,
    store_code: &str,
) -> Result<(), AccountsError> {
    let token = issue(
        conn,
        Principal::Customer(customer.id),
        Purpose::EmailVerification,
        Duration::hours(VERIFICATION_HOURS),
    )?;
    let base = ctx_settings.server.public_url.trim_end_matches('/');
    let url = format!(
        "{base}/shop/verify-email?{}",
        serde_urlencoded::to_string([("token", token.as_str()), ("store", store_code)])
            .unwrap_or_default()
    );
    notify::email_verification(conn, ctx_settings, customer, &url, VERIFICATION_HOURS)?;
    Ok(())
}

/// Follows an address check link: the customer counts as checked and a session opens.
pub(crate) async fn verify_email(
    ctx: &Context,
    token: &str,
    kind: SessionKind,
) -> Result<(Customer, NewSession), AccountsError> {
    if token.is_empty() || token.len() > 100 {
        return Err(Invalid::new("token", INVALID_TOKEN).into());
    }
    let (token, ttl) = (token.to_string(), ctx.settings.auth.session_ttl_hours);
    ctx.db
        .write(move |tx| {
            let Principal::Customer(id) = spend(tx, &token, Purpose::EmailVerification)? else {
                return Err(Invalid::new("token", INVALID_TOKEN).into());
            };
            tx.execute(
                "UPDATE customers SET email_unverified = 0 WHERE id = ?1 AND is_active",
                [id],
            )?;
            let customer = super::get_customer(tx, id)?;
            if !customer.is_active {
                return Err(Invalid::new("token", INVALID_TOKEN).into());
            }
            let new = session::create(tx, Principal::Customer(id), kind, ttl)?;
            Ok::<_, AccountsError>((customer, new))
        })
        .await
}

/// Whether a customer still has to follow their address check link before signing in.
pub(crate) fn unverified(conn: &Connection, customer_id: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT email_unverified FROM customers WHERE id = ?1",
        [customer_id],
        |r| r.get(0),
    )
}

/// Forgets tokens a day past their expiry.
pub(crate) fn forget_expired(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM account_tokens WHERE expires_at < ?1",
        [now - Duration::days(1)],
    )
}
