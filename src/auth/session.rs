//! Sessions: a random 256-bit token handed to the client once; only its SHA-256 is stored.
//! Bearer sessions are for API clients (`Authorization: Bearer`), cookie sessions for the web UI
//! (HttpOnly cookie plus a CSRF token for every state-changing request).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::domain::{Actor, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionKind {
    Bearer,
    Cookie,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Bearer => "bearer",
            SessionKind::Cookie => "cookie",
        }
    }
}

/// Whose session it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Principal {
    User(i64),
    Customer(i64),
}

impl Principal {
    pub(crate) fn of(actor: &Actor) -> Principal {
        match *actor {
            Actor::Admin { user_id } | Actor::Staff { user_id, .. } => Principal::User(user_id),
            Actor::Customer { customer_id, .. } => Principal::Customer(customer_id),
        }
    }
}

pub(crate) struct NewSession {
    pub token: String,
    pub csrf_token: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// A live session, with the actor it stands for if that account (and its store) is still active.
pub(crate) struct SessionRow {
    pub id: i64,
    pub kind: SessionKind,
    pub csrf_token: Option<String>,
    pub actor: Option<Actor>,
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // getrandom only fails when the OS has no entropy source at all; nothing can run then.
    getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("no OS randomness: {e}"));
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub(crate) fn create(
    conn: &Connection,
    principal: Principal,
    kind: SessionKind,
    ttl_hours: u32,
) -> rusqlite::Result<NewSession> {
    let token = random_token();
    let csrf_token = (kind == SessionKind::Cookie).then(random_token);
    let expires_at = Utc::now() + Duration::hours(i64::from(ttl_hours));
    let (user_id, customer_id) = match principal {
        Principal::User(id) => (Some(id), None),
        Principal::Customer(id) => (None, Some(id)),
    };
    conn.execute(
        "INSERT INTO sessions (token_hash, kind, csrf_token, user_id, customer_id, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            hash_token(&token),
            kind.as_str(),
            csrf_token,
            user_id,
            customer_id,
            expires_at
        ],
    )?;
    Ok(NewSession {
        token,
        csrf_token,
        expires_at,
    })
}

/// Finds an unexpired session by token. One indexed lookup joined with the account and its store,
/// so a disabled account or store is refused on the very next request. It runs on every request,
/// so it reads narrow covering indexes (migration V12), not the wide session and customer rows.
pub(crate) fn lookup(conn: &Connection, token: &str) -> rusqlite::Result<Option<SessionRow>> {
    conn.prepare_cached(
        "SELECT s.id, s.kind, s.csrf_token,
                u.id, u.role, u.store_id, u.is_active AND coalesce(su.is_active, 1),
                c.id, c.store_id, c.is_active AND sc.is_active
         FROM sessions s INDEXED BY ix_sessions_lookup
         LEFT JOIN users u ON u.id = s.user_id
         LEFT JOIN stores su ON su.id = u.store_id
         LEFT JOIN customers c INDEXED BY ix_customers_access ON c.id = s.customer_id
         LEFT JOIN stores sc ON sc.id = c.store_id
         WHERE s.token_hash = ?1 AND s.expires_at > strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')",
    )?
    // SQLite's clock, written as the schema's defaults write times: every request pays this
    // lookup, and chrono formatting the time to bind took a twentieth of an unread count's CPU.
    // To the millisecond: a session lives to the end of the millisecond it expires in.
    .query_row([hash_token(token)], |r| {
        let kind = match r.get::<_, String>(1)?.as_str() {
            "cookie" => SessionKind::Cookie,
            _ => SessionKind::Bearer,
        };
        let user: Option<i64> = r.get(3)?;
        let actor = match user {
            Some(user_id) => match (
                r.get::<_, Role>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, bool>(6)?,
            ) {
                (_, _, false) => None,
                (Role::Admin, _, true) => Some(Actor::Admin { user_id }),
                (Role::Store, Some(store_id), true) => Some(Actor::Staff { user_id, store_id }),
                (Role::Store, None, true) => None,
            },
            None => match (
                r.get::<_, Option<i64>>(7)?,
                r.get::<_, Option<i64>>(8)?,
                r.get::<_, Option<bool>>(9)?,
            ) {
                (Some(customer_id), Some(store_id), Some(true)) => Some(Actor::Customer {
                    customer_id,
                    store_id,
                }),
                _ => None,
            },
        };
        Ok(SessionRow {
            id: r.get(0)?,
            kind,
            csrf_token: r.get(2)?,
            actor,
        })
    })
    .optional()
}

/// Is the session still valid, and its account (and store) still active?
pub(crate) fn is_live(conn: &Connection, session_id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM sessions s
         LEFT JOIN users u ON u.id = s.user_id
         LEFT JOIN customers c ON c.id = s.customer_id
         WHERE s.id = ?1 AND s.expires_at > strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
           AND coalesce(u.is_active, c.is_active)
           AND coalesce((SELECT is_active FROM stores WHERE id = coalesce(u.store_id, c.store_id)), 1)",
    )?
    // The same clock as `lookup`: a session ends at one moment for every check.
    .query_row([session_id], |_| Ok(()))
    .optional()
    .map(|found| found.is_some())
}

pub(crate) fn delete(conn: &Connection, session_id: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE id = ?1", [session_id])?;
    Ok(())
}

/// Ends every session of `principal`, except `keep` (the caller's own, after a password change).
pub(crate) fn delete_all_for(
    conn: &Connection,
    principal: Principal,
    keep: Option<i64>,
) -> rusqlite::Result<usize> {
    let keep = keep.unwrap_or(-1);
    match principal {
        Principal::User(id) => conn.execute(
            "DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2",
            [id, keep],
        ),
        Principal::Customer(id) => conn.execute(
            "DELETE FROM sessions WHERE customer_id = ?1 AND id <> ?2",
            [id, keep],
        ),
    }
}

pub(crate) fn delete_expired(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [Utc::now()])
}
