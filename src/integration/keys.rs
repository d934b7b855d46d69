//! API keys: created by an admin with a name and scopes, shown once (`pk_` and 43 characters of
//! 256 random bits), kept as a SHA-256, revocable, with the time of their last use.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::IntegrationError;
use crate::auth::session::{hash_token, random_token};
use crate::domain::{self, Invalid, Scope};

/// What every key starts with, so a leaked one is recognisable (and scanners can find it).
pub(crate) const KEY_PREFIX: &str = "pk_";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ApiKey {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The key's first characters, to tell keys apart in lists.
    pub key_prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new key with its secret: the only time the secret exists outside the caller's hands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NewKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The key itself.
    #[serde(rename = "key")]
    pub secret: String,
}

/// A key as given by an admin, not yet checked.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyInput {
    pub name: String,
    pub scopes: Vec<String>,
}

/// The key behind a request: who acts, and what it may do.
#[derive(Debug, Clone)]
pub(crate) struct KeyCaller {
    pub id: i64,
    pub scopes: Vec<Scope>,
    last_used_at: Option<DateTime<Utc>>,
}

impl KeyCaller {
    pub(crate) fn require(&self, scope: Scope) -> Result<(), IntegrationError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(IntegrationError::MissingScope(scope))
        }
    }

    /// How the audit log names this key.
    pub(crate) fn audit_name(&self) -> String {
        format!("key:{}", self.id)
    }

    /// Whether its last use is old enough to be written again (once a minute at most, so a
    /// busy key does not write on every read).
    pub(crate) fn use_is_stale(&self) -> bool {
        self.last_used_at
            .is_none_or(|at| Utc::now() - at > Duration::seconds(60))
    }
}

const KEY_COLUMNS: &str = "id, name, scopes, key_prefix, created_at, last_used_at, revoked_at";

fn scopes_of(text: &str) -> Vec<Scope> {
    text.split_whitespace()
        .filter_map(|s| Scope::from_str(s).ok())
        .collect()
}

fn key_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        name: r.get(1)?,
        scopes: scopes_of(&r.get::<_, String>(2)?),
        key_prefix: r.get(3)?,
        created_at: r.get(4)?,
        last_used_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

impl KeyInput {
    fn checked(&self) -> Result<(String, Vec<Scope>), Invalid> {
        let name = domain::clean_line("name", &self.name, 100)?;
        if self.scopes.is_empty() {
            return Err(Invalid::new("scopes", "give at least one scope"));
        }
        let mut scopes = Vec::new();
        for scope in &self.scopes {
            let scope = Scope::from_str(scope).map_err(|_| {
                Invalid::new(
                    "scopes",
                    format!(
                        "unknown scope `{scope}`; known: provision, conversations, events, sso"
                    ),
                )
            })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        Ok((name, scopes))
    }
}

/// Creates a key for admin `created_by`; its secret is in the answer and nowhere else.
pub(crate) fn create(
    conn: &Connection,
    created_by: i64,
    input: &KeyInput,
) -> Result<NewKey, IntegrationError> {
    let (name, scopes) = input.checked()?;
    let secret = format!("{KEY_PREFIX}{}", random_token());
    let scope_text = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let key = conn.query_row(
        &format!(
            "INSERT INTO api_keys (name, key_hash, key_prefix, scopes, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {KEY_COLUMNS}"
        ),
        params![
            name,
            hash_token(&secret),
            &secret[..KEY_PREFIX.len() + 6],
            scope_text,
            created_by,
            Utc::now()
        ],
        key_row,
    )?;
    Ok(NewKey {
        api_key: key,
        secret,
    })
}

/// Every key, newest first; revoked ones show when they were revoked.
pub(crate) fn list(conn: &Connection) -> Result<Vec<ApiKey>, IntegrationError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY id DESC"
        ))?
        .query_map([], key_row)?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn get(conn: &Connection, id: i64) -> Result<ApiKey, IntegrationError> {
    conn.prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"))?
        .query_row([id], key_row)
        .optional()?
        .ok_or(IntegrationError::NotFound)
}

/// Revokes a key: from the next request on it opens nothing. Revoking twice is a no-op.
pub(crate) fn revoke(conn: &Connection, id: i64) -> Result<(), IntegrationError> {
    let found = conn.execute(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
        params![id, Utc::now()],
    )?;
    if found == 0 {
        return Err(IntegrationError::NotFound);
    }
    Ok(())
}

/// The live key `secret` stands for, if any.
pub(crate) fn authenticate(
    conn: &Connection,
    secret: &str,
) -> Result<Option<KeyCaller>, IntegrationError> {
    if !secret.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached(
            "SELECT id, scopes, last_used_at FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL",
        )?
        .query_row([hash_token(secret)], |r| {
            Ok(KeyCaller {
                id: r.get(0)?,
                scopes: scopes_of(&r.get::<_, String>(1)?),
                last_used_at: r.get(2)?,
            })
        })
        .optional()?)
}

/// Records that key `id` was used now.
pub(crate) fn touch(conn: &Connection, id: i64) -> Result<(), IntegrationError> {
    conn.prepare_cached("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![id, Utc::now()])?;
    Ok(())
}
