//! Platform settings (admin-editable, stored in `platform_settings`): a fixed table of known keys,
//! each with a default and a validation rule. An absent row means the default.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::db::DbError;
use crate::domain::Invalid;

/// What the platform settings refuse.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlatformError {
    #[error("no such setting")]
    UnknownSetting,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for PlatformError {
    fn from(e: rusqlite::Error) -> Self {
        PlatformError::Db(DbError::Sqlite(e))
    }
}

pub(crate) const ATTACHMENT_MAX_SIZE_MB: &str = "message_attachment_max_size_mb";
pub(crate) const REQUIRE_EMAIL_VERIFICATION: &str = "require_email_verification";
pub(crate) const CUSTOMERS_MAY_START: &str = "customers_may_start_conversations";
pub(crate) const STORES_MAY_CONTACT_OPERATOR: &str = "stores_may_contact_operator";
pub(crate) const ADMIN_OVERSIGHT: &str = "admin_oversight";
pub(crate) const RESPONSE_TARGET_HOURS: &str = "response_target_hours";
pub(crate) const LATE_REPLY_ALERT_PERCENT: &str = "late_reply_alert_percent";

struct Definition {
    key: &'static str,
    default: &'static str,
    category: &'static str,
    description: &'static str,
    validate: fn(&str) -> Result<String, String>,
}

const DEFINITIONS: &[Definition] = &[
    Definition {
        key: ATTACHMENT_MAX_SIZE_MB,
        default: "10",
        category: "messaging",
        description: "Largest attachment accepted, in megabytes (1 to 100)",
        validate: |v| whole(v, 1, 100, "megabytes"),
    },
    Definition {
        key: REQUIRE_EMAIL_VERIFICATION,
        default: "false",
        category: "accounts",
        description: "Customers who register confirm their email address before they can sign in",
        validate: boolean,
    },
    // The seed's limits stay the default: a platform turns each flow on deliberately.
    Definition {
        key: CUSTOMERS_MAY_START,
        default: "false",
        category: "messaging",
        description: "Customers may start conversations with their store",
        validate: boolean,
    },
    Definition {
        key: STORES_MAY_CONTACT_OPERATOR,
        default: "false",
        category: "messaging",
        description: "Store staff may start conversations with the platform team",
        validate: boolean,
    },
    Definition {
        key: ADMIN_OVERSIGHT,
        default: "true",
        category: "messaging",
        description: "Admins may read every conversation between stores and customers (each read is audited)",
        validate: boolean,
    },
    Definition {
        key: RESPONSE_TARGET_HOURS,
        default: "24",
        category: "messaging",
        description: "Hours within which a store should answer a customer (1 to 720)",
        validate: |v| whole(v, 1, 720, "hours"),
    },
    Definition {
        key: LATE_REPLY_ALERT_PERCENT,
        default: "20",
        category: "messaging",
        description: "Alert the admins when a store answers more than this share of its customers late (1 to 100 %)",
        validate: |v| whole(v, 1, 100, "percent"),
    },
];

fn whole(value: &str, min: u32, max: u32, unit: &str) -> Result<String, String> {
    match value.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
        _ => Err(format!(
            "must be a whole number of {unit} between {min} and {max}"
        )),
    }
}

fn boolean(value: &str) -> Result<String, String> {
    match value.trim() {
        "true" => Ok("true".into()),
        "false" => Ok("false".into()),
        _ => Err("must be true or false".into()),
    }
}

/// Whether self-registered customers must confirm their address first.
pub(crate) fn email_verification_required(conn: &Connection) -> rusqlite::Result<bool> {
    flag(conn, REQUIRE_EMAIL_VERIFICATION)
}

/// The stored text of setting `key`, or its default.
fn value(conn: &Connection, key: &str) -> rusqlite::Result<String> {
    let stored: Option<String> = conn
        .prepare_cached("SELECT value FROM platform_settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    Ok(stored.unwrap_or_else(|| {
        DEFINITIONS
            .iter()
            .find(|d| d.key == key)
            .map(|d| d.default.to_string())
            .unwrap_or_default()
    }))
}

/// A yes/no setting (one of the keys above).
pub(crate) fn flag(conn: &Connection, key: &str) -> rusqlite::Result<bool> {
    Ok(value(conn, key)? == "true")
}

/// A whole-number setting (one of the keys above); 0 if it cannot be read.
pub(crate) fn number(conn: &Connection, key: &str) -> rusqlite::Result<i64> {
    Ok(value(conn, key)?.parse().unwrap_or(0))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Setting {
    pub key: &'static str,
    pub value: String,
    pub default: &'static str,
    pub category: &'static str,
    pub description: &'static str,
}

/// Every setting there is (the pages name each in the reader's language).
#[cfg(test)]
pub(crate) fn keys() -> Vec<&'static str> {
    DEFINITIONS.iter().map(|d| d.key).collect()
}

fn definition(key: &str) -> Result<&'static Definition, PlatformError> {
    DEFINITIONS
        .iter()
        .find(|d| d.key == key)
        .ok_or(PlatformError::UnknownSetting)
}

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Setting, PlatformError> {
    let def = definition(key)?;
    let stored: Option<String> = conn
        .prepare_cached("SELECT value FROM platform_settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    Ok(Setting {
        key: def.key,
        value: stored.unwrap_or_else(|| def.default.to_string()),
        default: def.default,
        category: def.category,
        description: def.description,
    })
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<Setting>, PlatformError> {
    DEFINITIONS.iter().map(|d| get(conn, d.key)).collect()
}

pub(crate) fn set(conn: &Connection, key: &str, value: &str) -> Result<Setting, PlatformError> {
    let def = definition(key)?;
    let value = (def.validate)(value).map_err(|why| Invalid::new("value", why))?;
    conn.execute(
        "INSERT INTO platform_settings (key, value, category, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![key, value, def.category, Utc::now()],
    )?;
    get(conn, key)
}

/// The attachment size limit in bytes.
pub(crate) fn attachment_max_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let mb = u64::try_from(number(conn, ATTACHMENT_MAX_SIZE_MB)?).unwrap_or(10);
    Ok(mb.max(1) * 1024 * 1024)
}
