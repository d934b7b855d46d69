//! The admin and vendor pages beyond messages, and the shop account page: tables rendered on the
//! server from the same services the API uses, with forms that post to the JSON API (pages.js).

use serde::Serialize;

use crate::http::pages::Chrome;

#[derive(Serialize, Default)]
struct Cell {
    text: String,
    href: Option<String>,
}

fn cell(text: impl ToString) -> Cell {
    Cell {
        text: text.to_string(),
        href: None,
    }
}

fn link(text: impl ToString, href: String) -> Cell {
    Cell {
        text: text.to_string(),
        href: Some(href),
    }
}

#[derive(Serialize)]
struct Action {
    label: &'static str,
    url: String,
    method: &'static str,
}

#[derive(Serialize, Default)]
struct Row {
    cells: Vec<Cell>,
    actions: Vec<Action>,
}

#[derive(Serialize, Default)]
struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    options: Vec<String>,
    placeholder: String,
}

fn field(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: impl ToString,
) -> Field {
    Field {
        name,
        label,
        kind,
        value: value.to_string(),
        ..Default::default()
    }
}

fn select(name: &'static str, label: &'static str, options: &[&str], value: &str) -> Field {
    Field {
        name,
        label,
        kind: "select",
        value: value.to_string(),
        options: options.iter().map(|o| o.to_string()).collect(),
        ..Default::default()
    }
}

#[derive(Serialize)]
struct Extra {
    label: &'static str,
    url: String,
    method: &'static str,
}

#[derive(Serialize, Default)]
struct FormSpec {
    title: String,
    url: String,
    method: &'static str,
    submit: &'static str,
    fields: Vec<Field>,
    preview: Option<String>,
    extra: Option<Extra>,
    code: String,
    language: String,
}

#[derive(Serialize)]
struct TablePage {
    #[serde(flatten)]
    chrome: Chrome,
    intro: String,
    filters: Vec<Field>,
    headers: Vec<&'static str>,
    rows: Vec<Row>,
    actions: bool,
    form: Option<FormSpec>,
}

impl TablePage {
    fn new(chrome: Chrome, headers: Vec<&'static str>, rows: Vec<Row>) -> TablePage {
        let actions = rows.iter().any(|r| !r.actions.is_empty());
        TablePage {
            chrome,
            intro: String::new(),
            filters: Vec::new(),
            headers,
            rows,
            actions,
            form: None,
        }
    }
}

/// The signed-in user and the page chrome, or an early return of the redirect to sign in.
macro_rules! signed_in {
    ($state:expr, $req:expr, $area:expr, $title:expr, $url:expr) => {
        match page_user(&$req, $area).await {
            Ok(auth) => {
                let chrome = chrome(&$state, &auth, $area, $title, $url).await?;
                (auth, chrome)
            }
            Err(redirect) => return Ok(redirect),
        }
    };
}

// The pages, after the macro they use.
mod email_logs;
mod email_templates;
mod notifications;
mod settings;
mod stores;

pub(crate) use email_logs::*;
pub(crate) use email_templates::*;
pub(crate) use notifications::*;
pub(crate) use settings::*;
pub(crate) use stores::*;
