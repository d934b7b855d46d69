//! Answering on time: per store, how fast its staff answer customers (median first response,
//! median response), the share answered within the platform's target, and what waits now; and
//! the alert the admins get when a store answers too many customers late. Read from the rows
//! `messages::insert_message` keeps (migration V28).

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::MessagingError;
use crate::alerts::{self, Alert};
use crate::domain::{AlertKind, AlertPriority};
use crate::platform;

/// One store's figures over a window of days.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct StoreFigures {
    pub store_id: i64,
    pub store_name: String,
    /// The median time to the first answer a conversation got; null without answers.
    pub first_response_median_seconds: Option<i64>,
    /// The median time to any answer to a waiting customer.
    pub response_median_seconds: Option<i64>,
    /// Answers within the target, of the answers and the waits already past it (0–100); null
    /// when there were none. Conversations marked "no reply needed" count as neither.
    pub answered_within_target_percent: Option<f64>,
    /// Answers in the window, and how many of them (and of the waits past the target) were late.
    pub answered: i64,
    pub late: i64,
    /// Open conversations waiting for the store now, and those waiting longer than the target.
    pub waiting: i64,
    pub overdue: i64,
}

/// How a list of stores is ordered (worst first for the figures).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SortBy {
    #[default]
    Store,
    FirstResponse,
    Response,
    WithinTarget,
    Overdue,
}

impl SortBy {
    pub(crate) const ALL: [SortBy; 5] = [
        SortBy::Store,
        SortBy::FirstResponse,
        SortBy::Response,
        SortBy::WithinTarget,
        SortBy::Overdue,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SortBy::Store => "store",
            SortBy::FirstResponse => "first_response",
            SortBy::Response => "response",
            SortBy::WithinTarget => "within_target",
            SortBy::Overdue => "overdue",
        }
    }
}

/// The window a figure covers: the last 7 or the last 30 days.
pub(crate) fn checked_days(days: u32) -> Result<u32, MessagingError> {
    match days {
        7 | 30 => Ok(days),
        _ => Err(crate::domain::Invalid::new("days", "must be 7 or 30").into()),
    }
}

fn median(sorted: &[i64]) -> Option<i64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

/// The figures of one store (`store`) or of every active store, over the last `days`, sorted.
pub(crate) fn figures(
    conn: &Connection,
    store: Option<i64>,
    days: u32,
    sort: SortBy,
    now: DateTime<Utc>,
) -> Result<Vec<StoreFigures>, MessagingError> {
    let target = Duration::hours(platform::number(conn, platform::RESPONSE_TARGET_HOURS)?);
    let since = now - Duration::days(days.into());
    let overdue_before = now - target;
    let stores: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT id, name FROM stores WHERE (?1 IS NULL AND is_active) OR id = ?1 ORDER BY name, id",
        )?
        .query_map([store], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut all = Vec::with_capacity(stores.len());
    for (store_id, store_name) in stores {
        let mut answers = conn.prepare_cached(
            "SELECT seconds, is_first FROM response_times
             WHERE store_id = ?1 AND answered_at >= ?2 ORDER BY seconds",
        )?;
        let rows: Vec<(i64, bool)> = answers
            .query_map(params![store_id, since], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let all_seconds: Vec<i64> = rows.iter().map(|(s, _)| *s).collect();
        let first_seconds: Vec<i64> = rows.iter().filter(|r| r.1).map(|(s, _)| *s).collect();
        let within = all_seconds
            .iter()
            .filter(|s| **s <= target.num_seconds())
            .count() as i64;
        let (waiting, overdue, overdue_in_window): (i64, i64, i64) = conn
            .prepare_cached(
                "SELECT count(*), coalesce(sum(waiting_since < ?2), 0),
                        coalesce(sum(waiting_since < ?2 AND waiting_since >= ?3), 0)
                 FROM conversations
                 WHERE store_id = ?1 AND waiting_party = 'store' AND NOT is_closed",
            )?
            .query_row(params![store_id, overdue_before, since], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let answered = all_seconds.len() as i64;
        let counted = answered + overdue_in_window;
        all.push(StoreFigures {
            store_id,
            store_name,
            first_response_median_seconds: median(&first_seconds),
            response_median_seconds: median(&all_seconds),
            answered_within_target_percent: (counted > 0)
                .then(|| (1000.0 * within as f64 / counted as f64).round() / 10.0),
            answered,
            late: counted - within,
            waiting,
            overdue,
        });
    }
    // Worst first: the slowest, the fewest within the target, the most overdue. Stores without
    // figures go last.
    match sort {
        SortBy::Store => {}
        SortBy::FirstResponse => {
            all.sort_by_key(|f| std::cmp::Reverse(f.first_response_median_seconds))
        }
        SortBy::Response => all.sort_by_key(|f| std::cmp::Reverse(f.response_median_seconds)),
        SortBy::WithinTarget => all.sort_by(|a, b| {
            let key = |f: &StoreFigures| f.answered_within_target_percent.unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        }),
        SortBy::Overdue => all.sort_by_key(|f| std::cmp::Reverse(f.overdue)),
    }
    Ok(all)
}

/// Raises an alert for every active store that answered more than the platform's share of its
/// customers late over the last 7 days (`late_reply_alert_percent`): at most one a day per
/// store, so a store that stays late is not announced at every check. Answers how many were
/// raised.
pub(crate) fn alert_late_stores(
    conn: &Connection,
    now: DateTime<Utc>,
) -> Result<usize, MessagingError> {
    let threshold = platform::number(conn, platform::LATE_REPLY_ALERT_PERCENT)? as f64;
    let target_hours = platform::number(conn, platform::RESPONSE_TARGET_HOURS)?;
    let mut raised = 0;
    for f in figures(conn, None, 7, SortBy::Store, now)? {
        let Some(within) = f.answered_within_target_percent else {
            continue;
        };
        let late_percent = (10.0 * (100.0 - within)).round() / 10.0;
        if late_percent <= threshold {
            continue;
        }
        let key = format!("late_replies:{}", f.store_id);
        let recent: bool = conn
            .prepare_cached(
                "SELECT 1 FROM admin_notifications WHERE dedup_key = ?1 AND created_at > ?2",
            )?
            .query_row(params![key, now - Duration::days(1)], |_| Ok(()))
            .optional()?
            .is_some();
        if recent {
            continue;
        }
        let message = format!(
            "{} answered {late_percent} % of its customers later than {target_hours} h over the last \
             7 days ({} answers or waits late); {} conversations wait for it now, {} of them overdue.",
            f.store_name, f.late, f.waiting, f.overdue
        );
        alerts::raise(
            conn,
            &Alert {
                notification_type: AlertKind::LateReplies,
                priority: AlertPriority::Normal,
                title: "A store answers its customers late",
                message: &message,
                action_required: true,
                action_url: Some("/admin/response-times"),
                metadata: json!({"store_id": f.store_id, "late_percent": late_percent,
                                 "threshold_percent": threshold}),
                dedup_key: &key,
            },
        )?;
        raised += 1;
    }
    Ok(raised)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5]), Some(5));
        assert_eq!(median(&[1, 3, 10]), Some(3));
        assert_eq!(median(&[1, 3, 10, 20]), Some(6));
    }
}
