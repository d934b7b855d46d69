//! The pages' templates, one Tera copy per language: each copy's `t(key=…)` function and its
//! `datetime`, `filesize`, `number` and `language_name` filters speak that language, so
//! templates and components need no language argument. Web-free: the handlers in `http::pages`
//! pick the copy for a reader and fill it.

use std::collections::BTreeMap;
use std::sync::Arc;

use fluent_bundle::FluentValue;
use rust_embed::RustEmbed;

use crate::i18n::{Catalogue, Catalogues, DEFAULT_LANGUAGE};

#[derive(RustEmbed)]
#[folder = "assets/templates/"]
struct Templates;

pub(crate) struct Pages {
    catalogues: Catalogues,
    by_language: BTreeMap<String, tera::Tera>,
}

impl Pages {
    pub(crate) fn load() -> anyhow::Result<Self> {
        let catalogues = Catalogues::load()?;
        let sources: Vec<(String, String)> = Templates::iter()
            .filter_map(|name| {
                Templates::get(&name).map(|f| {
                    (
                        name.to_string(),
                        String::from_utf8_lossy(&f.data).into_owned(),
                    )
                })
            })
            .collect();
        // The languages a reader may choose, each in its own words.
        let languages: Vec<BTreeMap<&str, String>> = catalogues
            .languages()
            .map(|c| {
                BTreeMap::from([
                    ("code", c.language.clone()),
                    ("name", c.text("language-name", &[])),
                ])
            })
            .collect();
        let mut by_language = BTreeMap::new();
        for catalogue in catalogues.languages() {
            let mut tera = tera::Tera::new();
            tera.autoescape_on(vec![".html"]);
            speak(&mut tera, catalogue);
            tera.global_context().insert("languages", &languages);
            let names: BTreeMap<String, String> = languages
                .iter()
                .map(|l| (l["code"].clone(), l["name"].clone()))
                .collect();
            // `{{ "de" | language_name }}`: "Deutsch"; a code Parley has no pages in stays a code.
            tera.register_filter(
                "language_name",
                move |code: &str, _: tera::Kwargs, _: &tera::State| {
                    names.get(code).cloned().unwrap_or_else(|| code.to_string())
                },
            );
            tera.add_raw_templates(sources.clone())
                .map_err(|e| anyhow::anyhow!("page templates: {e}"))?;
            by_language.insert(catalogue.language.clone(), tera);
        }
        Ok(Pages {
            catalogues,
            by_language,
        })
    }

    /// The reader's catalogue: their account's language if Parley speaks it, else the first of
    /// the browser's languages (best first) it speaks, else English.
    pub(crate) fn catalogue<'a>(
        &self,
        account: Option<&str>,
        browser: impl IntoIterator<Item = &'a str>,
    ) -> &Arc<Catalogue> {
        self.catalogues.choose(account, browser)
    }

    pub(crate) fn render(
        &self,
        language: &str,
        name: &str,
        context: &tera::Context,
    ) -> tera::TeraResult<String> {
        let tera = self
            .by_language
            .get(language)
            .or_else(|| self.by_language.get(DEFAULT_LANGUAGE))
            .ok_or_else(|| tera::Error::message("no page templates"))?;
        tera.render(name, context)
    }
}

/// Teaches one Tera copy its language: `t(key="…", var=…)`, the formatting filters, and the
/// page-wide `lang` and `strings` (the scripts' messages, as JSON).
fn speak(tera: &mut tera::Tera, catalogue: &Arc<Catalogue>) {
    let words = catalogue.clone();
    tera.register_function("t", move |kwargs: tera::Kwargs, _: &tera::State| {
        let key: String = kwargs.must_get("key")?;
        let args: Vec<(String, FluentValue<'static>)> = kwargs
            .iter()
            .filter(|(name, _)| name.as_str() != Some("key"))
            .map(|(name, value)| (name.to_string(), fluent_value(value)))
            .collect();
        let args: Vec<(&str, FluentValue<'static>)> =
            args.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
        Ok::<_, tera::Error>(words.text(&key, &args))
    });
    let words = catalogue.clone();
    tera.register_filter(
        "datetime",
        move |at: &str, _: tera::Kwargs, _: &tera::State| {
            chrono::DateTime::parse_from_rfc3339(at).map_or_else(
                |_| at.to_string(),
                |t| words.datetime(t.with_timezone(&chrono::Utc)),
            )
        },
    );
    let words = catalogue.clone();
    tera.register_filter(
        "filesize",
        move |bytes: i64, _: tera::Kwargs, _: &tera::State| words.filesize(bytes),
    );
    let words = catalogue.clone();
    tera.register_filter("number", move |n: i64, _: tera::Kwargs, _: &tera::State| {
        words.number(n as f64, 0)
    });
    tera.global_context().insert("lang", &catalogue.language);
    tera.global_context()
        .insert("locale", &catalogue.locale_tag());
    tera.global_context()
        .insert("strings", &catalogue.script_strings());
}

/// A template value as a Fluent argument: numbers stay numbers, so plurals can select on them.
fn fluent_value(value: &tera::Value) -> FluentValue<'static> {
    if let Some(n) = value.as_i64() {
        FluentValue::from(n)
    } else if let Some(n) = value.as_f64() {
        FluentValue::from(n)
    } else if let Some(s) = value.as_str() {
        FluentValue::from(s.to_string())
    } else {
        FluentValue::from(value.to_string())
    }
}
