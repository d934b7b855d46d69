//! The pages' words in the reader's language. Each language is one Fluent catalogue,
//! `assets/locales/<language>.ftl` (embedded): adding a language is adding that file. A catalogue
//! also names the locale whose CLDR-derived data formats its dates and numbers (`locale = de_DE`)
//! and the date patterns it prefers. A reader gets their account's language when a catalogue
//! exists for it, else the first of their browser's `Accept-Language` that has one, else English.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use rust_embed::RustEmbed;
use unic_langid::LanguageIdentifier;

#[derive(RustEmbed)]
#[folder = "assets/locales/"]
struct Files;

/// The language every other catalogue is checked against and falls back to.
pub const DEFAULT_LANGUAGE: &str = "en";

/// Why the catalogues could not be loaded: a broken file is a build mistake, found at start.
#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("{file}: {problem}")]
    Catalogue { file: String, problem: String },
    #[error("no catalogue for the default language `{DEFAULT_LANGUAGE}`")]
    NoDefault,
}

/// One language's words and formats.
pub struct Catalogue {
    pub language: String,
    bundle: FluentBundle<FluentResource>,
    locale: chrono::Locale,
    datetime_pattern: String,
    /// Every message id, for the completeness check and the scripts' strings.
    keys: Vec<String>,
}

impl Catalogue {
    fn parse(language: &str, file: &str, source: String) -> Result<Self, I18nError> {
        let broken = |problem: String| I18nError::Catalogue {
            file: file.to_string(),
            problem,
        };
        let resource = FluentResource::try_new(source)
            .map_err(|(_, errors)| broken(format!("syntax: {errors:?}")))?;
        let mut keys = Vec::new();
        let mut locale_name = None;
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(m) = entry {
                keys.push(m.id.name.to_string());
                if m.id.name == "locale" {
                    locale_name = m.value.as_ref().and_then(|p| match p.elements.as_slice() {
                        [fluent_syntax::ast::PatternElement::TextElement { value }] => {
                            Some(value.trim().to_string())
                        }
                        _ => None,
                    });
                }
            }
        }
        let locale_name = locale_name.ok_or_else(|| broken("no `locale = …` line".into()))?;
        let locale: chrono::Locale = locale_name
            .parse()
            .map_err(|_| broken(format!("`locale = {locale_name}` is not a known locale")))?;
        // The bundle's language carries the region, so plural rules and the number formatter
        // below see the same locale as the dates.
        let id: LanguageIdentifier = locale_name
            .replace('_', "-")
            .parse()
            .map_err(|e| broken(format!("locale {locale_name}: {e}")))?;
        if id.language.as_str() != language {
            return Err(broken(format!("locale {locale_name} is not {language}")));
        }
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // Unicode isolation marks around every placeable would end up in attributes and tests.
        bundle.set_use_isolating(false);
        bundle.set_formatter(Some(format_number));
        bundle
            .add_resource(resource)
            .map_err(|errors| broken(format!("{errors:?}")))?;
        let mut catalogue = Catalogue {
            language: language.to_string(),
            bundle,
            locale,
            datetime_pattern: String::new(),
            keys,
        };
        catalogue.datetime_pattern = catalogue.text("format-datetime", &[]);
        Ok(catalogue)
    }

    /// The message `key` with its variables; a missing key shows as itself (and the catalogue
    /// test fails long before a reader sees one).
    pub fn text(&self, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let Some(pattern) = self.bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_string();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        let text = self
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, language = %self.language, ?errors, "catalogue message incomplete");
        }
        text.into_owned()
    }

    /// The message as a pattern for the scripts, variables left as `{$name}` for them to fill.
    fn pattern(&self, key: &str) -> String {
        let Some(pattern) = self.bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_string();
        };
        // Unfilled variables come out as `{$name}`: the errors saying so are expected here.
        let mut ignored = Vec::new();
        self.bundle
            .format_pattern(pattern, None, &mut ignored)
            .into_owned()
    }

    /// The locale as a BCP 47 tag ("de-DE"), for the browser's own formatters.
    pub fn locale_tag(&self) -> String {
        self.locale.to_string().replace('_', "-")
    }

    pub fn has(&self, key: &str) -> bool {
        self.bundle.has_message(key)
    }

    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The messages the scripts use (ids starting `js-`), as a JSON object.
    pub fn script_strings(&self) -> String {
        let strings: BTreeMap<&str, String> = self
            .keys
            .iter()
            .filter_map(|k| Some((k.strip_prefix("js-")?, self.pattern(k))))
            .collect();
        serde_json::to_string(&strings).unwrap_or_default()
    }

    /// A point in time as this locale writes it, in UTC (the scripts show local time).
    pub fn datetime(&self, at: DateTime<Utc>) -> String {
        at.format_localized(&self.datetime_pattern, self.locale)
            .to_string()
    }

    /// A number with this locale's decimal mark and digit grouping.
    pub fn number(&self, value: f64, decimals: usize) -> String {
        Separators::of(self.locale).write(value, decimals)
    }

    /// A file size as people write it: "812 B", "14 KB", "3.2 MB" (3,2 MB in German).
    pub fn filesize(&self, bytes: i64) -> String {
        match bytes {
            ..1_000 => format!("{} B", self.number(bytes as f64, 0)),
            1_000..1_000_000 => format!("{} KB", self.number(((bytes + 500) / 1_000) as f64, 0)),
            _ => format!("{} MB", self.number(bytes as f64 / 1_000_000.0, 1)),
        }
    }
}

/// How a locale writes numbers: "1,234.5" or "1.234,5".
struct Separators {
    point: &'static str,
    group: &'static str,
}

impl Separators {
    fn of(locale: chrono::Locale) -> Self {
        Separators {
            point: pure_rust_locales::locale_match!(locale => LC_NUMERIC::DECIMAL_POINT),
            group: pure_rust_locales::locale_match!(locale => LC_NUMERIC::THOUSANDS_SEP),
        }
    }

    fn write(&self, value: f64, decimals: usize) -> String {
        let plain = format!("{:.*}", decimals, value.abs());
        let (whole, fraction) = plain.split_once('.').unwrap_or((&plain, ""));
        let mut out = String::with_capacity(plain.len() + 4);
        if value < 0.0 && plain.bytes().any(|b| matches!(b, b'1'..=b'9')) {
            out.push('-');
        }
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                out.push_str(self.group);
            }
            out.push(digit);
        }
        if !fraction.is_empty() {
            out.push_str(self.point);
            out.push_str(fraction);
        }
        out
    }
}

/// Fluent's memoizer builds one `Separators` per bundle language.
impl intl_memoizer::Memoizable for Separators {
    type Args = ();
    type Error = ();

    fn construct(lang: LanguageIdentifier, _: ()) -> Result<Self, ()> {
        let name = match lang.region {
            Some(region) => format!("{}_{}", lang.language, region),
            None => lang.language.to_string(),
        };
        name.parse().map(Separators::of).map_err(|_| ())
    }
}

/// Numbers in messages ("1.234 Kunden") in the bundle's locale; Fluent's own writes "1234".
fn format_number(
    value: &FluentValue<'_>,
    memoizer: &intl_memoizer::concurrent::IntlLangMemoizer,
) -> Option<String> {
    use fluent_bundle::memoizer::MemoizerKind;
    let FluentValue::Number(number) = value else {
        return None;
    };
    let decimals = number.options.minimum_fraction_digits.unwrap_or(0);
    memoizer
        .with_try_get_threadsafe::<Separators, _, _>((), |s| s.write(number.value, decimals))
        .ok()
}

/// Every language Parley speaks.
pub struct Catalogues {
    by_language: BTreeMap<String, Arc<Catalogue>>,
    default: Arc<Catalogue>,
}

impl Catalogues {
    /// Reads every embedded catalogue; a broken one stops the start.
    pub fn load() -> Result<Self, I18nError> {
        let mut by_language = BTreeMap::new();
        for file in Files::iter() {
            let Some(language) = file.strip_suffix(".ftl") else {
                continue;
            };
            let Some(source) = Files::get(&file) else {
                continue;
            };
            let source = String::from_utf8_lossy(&source.data).into_owned();
            let catalogue = Catalogue::parse(language, &file, source)?;
            by_language.insert(language.to_string(), Arc::new(catalogue));
        }
        let default = by_language
            .get(DEFAULT_LANGUAGE)
            .cloned()
            .ok_or(I18nError::NoDefault)?;
        Ok(Catalogues {
            by_language,
            default,
        })
    }

    pub fn languages(&self) -> impl Iterator<Item = &Arc<Catalogue>> {
        self.by_language.values()
    }

    /// The catalogue for a reader: the account's language if Parley speaks it, else the first
    /// language of the browser's list (best first) that it speaks, else English. Regional
    /// variants count as their language (`de-AT` reads German).
    pub fn choose<'a>(
        &self,
        account: Option<&str>,
        browser: impl IntoIterator<Item = &'a str>,
    ) -> &Arc<Catalogue> {
        let known = |tag: &str| {
            let primary = tag.split(['-', '_']).next().unwrap_or("");
            self.by_language.get(&primary.to_ascii_lowercase())
        };
        account
            .and_then(known)
            .or_else(|| browser.into_iter().find_map(known))
            .unwrap_or(&self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogues() -> Catalogues {
        Catalogues::load().unwrap()
    }

    /// Every language has every message English has, and no message English lacks: a page in
    /// German never shows a key, and a key added for English alone fails here.
    #[test]
    fn every_language_has_every_message() {
        let all = catalogues();
        let english = all.choose(Some("en"), []);
        let reference: std::collections::BTreeSet<_> = english.keys().iter().collect();
        assert!(all.languages().count() >= 2, "English and German at least");
        for catalogue in all.languages() {
            let keys: std::collections::BTreeSet<_> = catalogue.keys().iter().collect();
            let missing: Vec<_> = reference.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&reference).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}.ftl lacks {missing:?} and has {extra:?} that en.ftl lacks",
                catalogue.language
            );
        }
    }

    #[test]
    fn the_account_language_wins_then_the_browser_then_english() {
        let all = catalogues();
        assert_eq!(all.choose(Some("de"), ["en"]).language, "de");
        assert_eq!(all.choose(Some("xx"), ["fr", "de-AT", "en"]).language, "de");
        assert_eq!(all.choose(None, ["fr"]).language, "en");
        assert_eq!(all.choose(None, []).language, "en");
    }

    #[test]
    fn numbers_sizes_and_times_follow_the_locale() {
        let all = catalogues();
        let (en, de) = (all.choose(Some("en"), []), all.choose(Some("de"), []));
        assert_eq!(en.number(1234567.0, 0), "1,234,567");
        assert_eq!(de.number(1234567.0, 0), "1.234.567");
        assert_eq!(en.filesize(3_240_000), "3.2 MB");
        assert_eq!(de.filesize(3_240_000), "3,2 MB");
        assert_eq!(en.filesize(812), "812 B");
        assert_eq!(en.filesize(14_499), "14 KB");
        let at = DateTime::parse_from_rfc3339("2026-03-02T06:21:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(en.datetime(at), "2 Mar 2026, 06:21 UTC");
        assert_eq!(de.datetime(at), "2. März 2026, 06:21 UTC");
    }

    #[test]
    fn variables_and_plurals_fill_in() {
        let all = catalogues();
        let de = all.choose(Some("de"), []);
        let counted = de.text("count-customers", &[("count", 1200.into())]);
        assert_eq!(
            de.text(
                "pager-range",
                &[
                    ("from", 1.into()),
                    ("to", 50.into()),
                    ("counted", counted.into())
                ]
            ),
            "1–50 von 1.200 Kunden"
        );
        assert_eq!(
            de.text("count-customers", &[("count", 0.into())]),
            "Keine Kunden"
        );
        assert_eq!(
            de.text("count-customers", &[("count", 1.into())]),
            "1 Kunde"
        );
        let en = all.choose(Some("en"), []);
        assert_eq!(en.text("unread-count", &[("count", 1.into())]), "1 unread");
        assert!(en.script_strings().contains("\"seen\":\"Seen\""));
    }

    /// Every key the templates and scripts name exists in English (and so, by the test above,
    /// in every language); keys built from a value (`"tier-" ~ store.tier`) are checked against
    /// every value the value can take.
    #[test]
    fn every_key_the_pages_use_exists() {
        use crate::domain::{AlertKind, AlertPriority, EmailProvider, EmailStatus, Tier};
        let all = catalogues();
        let english = all.choose(Some("en"), []);
        let known: std::collections::BTreeSet<&str> =
            english.keys().iter().map(String::as_str).collect();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let mut used = Vec::new();
        let mut files = vec![root.join("templates")];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split("t(key=\"").skip(1) {
                let (key, rest) = piece.split_once('"').unwrap();
                // `"tier-" ~ store.tier`: a prefix, checked with the values below.
                if !rest.trim_start().starts_with('~') {
                    used.push((path.clone(), key.to_string()));
                }
            }
        }
        for script in std::fs::read_dir(root.join("static")).unwrap() {
            let path = script.unwrap().path();
            if path.extension().is_some_and(|e| e == "js") {
                let text = std::fs::read_to_string(&path).unwrap();
                let calls = text.split(" t('").skip(1).chain(text.split("(t('").skip(1));
                for piece in calls {
                    let key = piece.split('\'').next().unwrap();
                    used.push((path.clone(), format!("js-{key}")));
                }
            }
        }
        let values = |prefix: &str, all: &[&str]| -> Vec<String> {
            all.iter().map(|v| format!("{prefix}{v}")).collect()
        };
        let mut built = Vec::new();
        built.extend(values(
            "tier-",
            &Tier::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ));
        built.extend(values(
            "email-status-",
            &EmailStatus::ALL
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
        ));
        built.extend(values(
            "priority-",
            &AlertPriority::ALL
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
        ));
        built.extend(values(
            "alert-",
            &AlertKind::ALL
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
        ));
        built.extend(values(
            "provider-",
            &EmailProvider::ALL
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
        ));
        built.extend(values("region-", &["us", "eu"]));
        built.extend(values("setting-", &crate::platform::keys()));
        built.extend(values(
            "scope-",
            &crate::domain::Scope::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
        ));
        built.extend(values(
            "context-",
            &crate::domain::ContextType::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
        ));
        built.extend(values("login-title-", &["admin", "vendor", "shop"]));
        built.extend(values("webhooks-intro-", &["admin", "vendor"]));
        built.extend(values(
            "webhooks-state-",
            &["pending", "delivered", "failed"],
        ));
        built.extend(values("js-layer-", &["store", "platform"]));
        for event in crate::domain::SystemEvent::ALL {
            for prefix in [
                "system-",
                "system-preview-",
                "js-system-",
                "js-system-preview-",
            ] {
                built.push(format!("{prefix}{}", event.as_str()));
            }
        }
        for party in crate::domain::ParticipantType::ALL {
            built.push(format!("party-{}", party.as_str()));
            built.push(format!("js-party-{}", party.as_str()));
        }
        for case in [
            "unauthorized",
            "forbidden",
            "not-found",
            "too-many",
            "bad-request",
            "server",
        ] {
            built.push(format!("error-{case}-title"));
            built.push(format!("error-{case}-message"));
        }
        let missing: Vec<String> = used
            .iter()
            .map(|(path, key)| (path.display().to_string(), key.clone()))
            .chain(built.into_iter().map(|k| ("(built)".to_string(), k)))
            .filter(|(_, key)| !known.contains(key.as_str()))
            .map(|(path, key)| format!("{key} in {path}"))
            .collect();
        assert!(used.len() > 150, "the scan found the keys ({})", used.len());
        assert!(missing.is_empty(), "keys missing from en.ftl: {missing:#?}");
    }
}
