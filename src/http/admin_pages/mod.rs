//! The admin and vendor pages beyond messages, and the shop account page. Each page is one handler
//! here and one Tera template in `assets/templates/{admin,vendor,shop}/`, built from the
//! components in `components.html`; the handler reads through the same functions the API uses
//! and hands the template plain data. Forms post to the JSON API (pages.js).

use serde::{Deserialize, Serialize};

use crate::domain::Page;

/// How many rows a table page shows at once.
const ROWS_PER_PAGE: u32 = 50;

/// `?skip=` of a table page.
#[derive(Deserialize, Default)]
pub(crate) struct Skip {
    #[serde(default)]
    skip: u32,
}

impl Skip {
    fn page(&self) -> Page {
        Page {
            skip: self.skip,
            limit: ROWS_PER_PAGE,
        }
    }
}

/// "51–100 of 120", with the links to the pages before and after that keep the page's filters.
#[derive(Serialize)]
struct Pager {
    from: u32,
    to: u32,
    total: i64,
    prev: Option<String>,
    next: Option<String>,
}

impl Pager {
    fn new(page: Page, shown: usize, total: i64, filters: &[(&str, &str)]) -> Pager {
        Pager::named("skip", page, shown, total, filters)
    }

    /// A pager whose offset travels as `param`, for pages with more than one table.
    fn named(param: &str, page: Page, shown: usize, total: i64, filters: &[(&str, &str)]) -> Pager {
        let link = |skip: u32| {
            let mut query: Vec<(&str, String)> = filters
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (*k, v.to_string()))
                .collect();
            if skip > 0 {
                query.push((param, skip.to_string()));
            }
            format!(
                "?{}",
                serde_urlencoded::to_string(&query).unwrap_or_default()
            )
        };
        let to = page.skip + shown as u32;
        Pager {
            from: if shown == 0 { 0 } else { page.skip + 1 },
            to,
            total,
            prev: (page.skip > 0).then(|| link(page.skip.saturating_sub(page.limit))),
            next: (i64::from(to) < total).then(|| link(to)),
        }
    }
}

/// The signed-in user and the page chrome, or an early return of the redirect to sign in.
macro_rules! signed_in {
    ($state:expr, $req:expr, $area:expr, $title:expr, $url:expr) => {
        match page_user(&$req, $area).await {
            Ok(auth) => {
                let chrome = chrome(&$state, &$req, &auth, $area, $title, $url).await?;
                (auth, chrome)
            }
            Err(redirect) => return Ok(redirect),
        }
    };
}

// The pages, after the macro they use.
mod account;
mod api_keys;
mod email_logs;
mod email_templates;
mod notifications;
mod response_times;
mod settings;
mod stores;
mod webhooks;
mod workbench;

pub(crate) use account::*;
pub(crate) use api_keys::*;
pub(crate) use email_logs::*;
pub(crate) use email_templates::*;
pub(crate) use notifications::*;
pub(crate) use response_times::*;
pub(crate) use settings::*;
pub(crate) use stores::*;
pub(crate) use webhooks::*;
pub(crate) use workbench::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_links_keep_the_filters_and_stop_at_the_ends() {
        let first = Pager::new(
            Page { skip: 0, limit: 50 },
            50,
            120,
            &[("status", "failed"), ("recipient", "")],
        );
        assert_eq!((first.from, first.to), (1, 50));
        assert_eq!(first.prev, None);
        assert_eq!(first.next.as_deref(), Some("?status=failed&skip=50"));
        let last = Pager::new(
            Page {
                skip: 100,
                limit: 50,
            },
            20,
            120,
            &[],
        );
        assert_eq!((last.from, last.to), (101, 120));
        assert_eq!(last.prev.as_deref(), Some("?skip=50"));
        assert_eq!(last.next, None);
        let second = Pager::new(
            Page {
                skip: 50,
                limit: 50,
            },
            50,
            120,
            &[],
        );
        assert_eq!(second.prev.as_deref(), Some("?"));
        let empty = Pager::new(Page { skip: 0, limit: 50 }, 0, 0, &[]);
        assert_eq!(
            (empty.from, empty.to, empty.prev, empty.next),
            (0, 0, None, None)
        );
    }
}
