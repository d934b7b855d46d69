//! The sweep of attachment files that no row names (left by a crash between a file's rename and
//! its row's commit).

use std::path::Path;

use chrono::{Datelike, Utc};

/// Removes files under `uploads/messages` that no row names and that were last written more than
/// `age` ago: left by a crash between a file's rename and its row's commit. Only this month's and
/// last month's folders are walked (the hourly sweep finds a crash's files long before they are
/// older), and `named(conversation_id)` is asked once per conversation folder with candidates,
/// for the paths (relative to the data directory) its rows name. Returns how many were removed.
pub(crate) fn sweep_orphans<E>(
    data_dir: &Path,
    age: std::time::Duration,
    mut named: impl FnMut(i64) -> Result<std::collections::HashSet<String>, E>,
) -> Result<usize, E> {
    let now = Utc::now();
    let last_month = now - chrono::Duration::days(i64::from(now.day()));
    let mut removed = 0;
    for month in [now, last_month] {
        let relative = format!("uploads/messages/{:04}/{:02}", month.year(), month.month());
        let Ok(conversations) = std::fs::read_dir(data_dir.join(&relative)) else {
            continue;
        };
        for folder in conversations.flatten() {
            let Some(conversation_id) = folder.file_name().to_str().and_then(|n| n.parse().ok())
            else {
                continue;
            };
            let Ok(files) = std::fs::read_dir(folder.path()) else {
                continue;
            };
            let old: Vec<String> = files
                .flatten()
                .filter(|f| older_than(f, age))
                .filter_map(|f| {
                    f.file_name()
                        .to_str()
                        .map(|n| format!("{relative}/{conversation_id}/{n}"))
                })
                .collect();
            if old.is_empty() {
                continue;
            }
            let kept = named(conversation_id)?;
            for path in old.iter().filter(|p| !kept.contains(*p)) {
                match std::fs::remove_file(data_dir.join(path)) {
                    Ok(()) => removed += 1,
                    Err(e) => tracing::warn!(error = %e, "could not remove an orphaned attachment"),
                }
            }
        }
    }
    Ok(removed)
}

/// Is this a file last written more than `age` ago?
fn older_than(entry: &std::fs::DirEntry, age: std::time::Duration) -> bool {
    entry
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|elapsed| elapsed > age)
}
