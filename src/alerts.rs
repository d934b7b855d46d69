//! Admin notifications (seed: AdminNotification): alerts the appliance raises about itself, at most
//! one open alert per cause (a repeat updates the open one instead of adding another).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::db::DbError;
use crate::domain::{AlertKind, AlertPriority, Invalid, Page};

/// What the notification queries refuse.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AlertsError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for AlertsError {
    fn from(e: rusqlite::Error) -> Self {
        AlertsError::Db(DbError::Sqlite(e))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct AdminNotification {
    pub id: i64,
    #[serde(rename = "type")]
    pub notification_type: AlertKind,
    pub priority: AlertPriority,
    pub title: String,
    pub message: String,
    pub is_read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub read_by_user_id: Option<i64>,
    pub action_required: bool,
    pub action_url: Option<String>,
    pub notification_metadata: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) struct Alert<'a> {
    pub notification_type: AlertKind,
    pub priority: AlertPriority,
    pub title: &'a str,
    pub message: &'a str,
    pub action_required: bool,
    pub action_url: Option<&'a str>,
    pub metadata: serde_json::Value,
    /// The cause: while an unread alert with this key exists, raising again updates it.
    pub dedup_key: &'a str,
}

/// Raises an alert, or refreshes the open one for the same cause (counting repeats).
pub(crate) fn raise(conn: &Connection, alert: &Alert<'_>) -> Result<i64, AlertsError> {
    let now = Utc::now();
    let existing: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT id, notification_metadata FROM admin_notifications WHERE dedup_key = ?1 AND is_read = 0",
            [alert.dedup_key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((id, metadata)) = existing {
        let repeats = metadata
            .and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
            .and_then(|m| m.get("occurrences").and_then(serde_json::Value::as_i64))
            .unwrap_or(1);
        let mut metadata = alert.metadata.clone();
        if let serde_json::Value::Object(map) = &mut metadata {
            map.insert("occurrences".into(), (repeats + 1).into());
        }
        conn.execute(
            "UPDATE admin_notifications SET message = ?2, notification_metadata = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, alert.message, metadata.to_string(), now],
        )?;
        return Ok(id);
    }
    let mut metadata = alert.metadata.clone();
    if let serde_json::Value::Object(map) = &mut metadata {
        map.insert("occurrences".into(), 1.into());
    }
    tracing::warn!(
        kind = alert.notification_type.as_str(),
        cause = alert.dedup_key,
        "admin alert raised: {}",
        alert.title
    );
    Ok(conn.query_row(
        "INSERT INTO admin_notifications (type, priority, title, message, action_required, action_url,
                notification_metadata, dedup_key, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) RETURNING id",
        params![
            alert.notification_type,
            alert.priority,
            alert.title,
            alert.message,
            alert.action_required,
            alert.action_url,
            metadata.to_string(),
            alert.dedup_key,
            now
        ],
        |r| r.get(0),
    )?)
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertFilter {
    #[serde(rename = "type")]
    pub notification_type: Option<AlertKind>,
    pub priority: Option<AlertPriority>,
    pub is_read: Option<bool>,
    pub action_required: Option<bool>,
    #[serde(default)]
    pub skip: u32,
    #[serde(default = "twenty")]
    pub limit: u32,
}

fn twenty() -> u32 {
    20
}

pub(crate) fn list(
    conn: &Connection,
    filter: &AlertFilter,
) -> Result<(Vec<AdminNotification>, i64), AlertsError> {
    let page = Page {
        skip: filter.skip,
        limit: filter.limit,
    }
    .checked()?;
    let where_clause = "(?1 IS NULL OR type = ?1) AND (?2 IS NULL OR priority = ?2) AND (?3 IS NULL OR is_read = ?3)
        AND (?4 IS NULL OR action_required = ?4)";
    let args = params![
        filter.notification_type,
        filter.priority,
        filter.is_read,
        filter.action_required
    ];
    let total = conn.query_row(
        &format!("SELECT count(*) FROM admin_notifications WHERE {where_clause}"),
        args,
        |r| r.get(0),
    )?;
    let rows = conn
        .prepare(&format!(
            "SELECT id, type, priority, title, message, is_read, read_at, read_by_user_id, action_required, action_url,
                    notification_metadata, created_at, updated_at
             FROM admin_notifications WHERE {where_clause} ORDER BY id DESC LIMIT ?5 OFFSET ?6"
        ))?
        .query_map(
            params![filter.notification_type, filter.priority, filter.is_read, filter.action_required, page.limit, page.skip],
            |r| {
                Ok(AdminNotification {
                    id: r.get(0)?,
                    notification_type: r.get(1)?,
                    priority: r.get(2)?,
                    title: r.get(3)?,
                    message: r.get(4)?,
                    is_read: r.get(5)?,
                    read_at: r.get(6)?,
                    read_by_user_id: r.get(7)?,
                    action_required: r.get(8)?,
                    action_url: r.get(9)?,
                    notification_metadata: r.get::<_, Option<String>>(10)?.and_then(|m| serde_json::from_str(&m).ok()),
                    created_at: r.get(11)?,
                    updated_at: r.get(12)?,
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok((rows, total))
}

pub(crate) fn unread_count(conn: &Connection) -> Result<i64, AlertsError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM admin_notifications WHERE is_read = 0",
        [],
        |r| r.get(0),
    )?)
}

pub(crate) fn mark_read(conn: &Connection, id: i64, user_id: i64) -> Result<(), AlertsError> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT id FROM admin_notifications WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    found.ok_or(AlertsError::NotFound)?;
    conn.execute(
        "UPDATE admin_notifications SET is_read = 1, read_at = ?2, read_by_user_id = ?3, updated_at = ?2
         WHERE id = ?1 AND is_read = 0",
        params![id, Utc::now(), user_id],
    )?;
    Ok(())
}

pub(crate) fn mark_all_read(conn: &Connection, user_id: i64) -> Result<usize, AlertsError> {
    Ok(conn.execute(
        "UPDATE admin_notifications SET is_read = 1, read_at = ?1, read_by_user_id = ?2, updated_at = ?1 WHERE is_read = 0",
        params![Utc::now(), user_id],
    )?)
}
