//! What a conversation is about: an order, a product, an offer, a return (or anything else) on the
//! platform, by the platform's id, with a label to show and a link back. The link is the one
//! thing here a browser follows, so it is kept only when it is `https`, carries no credentials,
//! and points at a host the admin allowed (`integration.context_url_hosts`).

use rusqlite::Row;
use serde::{Deserialize, Serialize};

use crate::domain::{self, ContextType, Invalid};

pub(crate) const ID_MAX: usize = 128;
pub(crate) const LABEL_MAX: usize = 200;
pub(crate) const URL_MAX: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConversationContext {
    #[serde(rename = "type")]
    pub context_type: ContextType,
    pub id: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

impl ConversationContext {
    /// The context as given, cleaned and checked: id and label trimmed and bounded, the link
    /// refused unless it is https on an allowed host.
    pub(crate) fn checked(self, allowed_hosts: &[String]) -> Result<ConversationContext, Invalid> {
        let id = domain::clean_line("context.id", &self.id, ID_MAX)?;
        let label = match self.label.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(label) => Some(domain::clean_line("context.label", label, LABEL_MAX)?),
        };
        let url = match self.url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => Some(checked_url(url, allowed_hosts)?),
        };
        Ok(ConversationContext {
            context_type: self.context_type,
            id,
            label,
            url,
        })
    }

    /// The context stored in four columns from `first` on (null when the conversation has none).
    pub(crate) fn from_row(r: &Row<'_>, first: usize) -> rusqlite::Result<Option<Self>> {
        let Some(context_type) = r.get::<_, Option<ContextType>>(first)? else {
            return Ok(None);
        };
        Ok(Some(ConversationContext {
            context_type,
            id: r.get(first + 1)?,
            label: r.get(first + 2)?,
            url: r.get(first + 3)?,
        }))
    }
}

fn checked_url(url: &str, allowed_hosts: &[String]) -> Result<String, Invalid> {
    let refuse = |why: &str| Invalid::new("context.url", why);
    if url.len() > URL_MAX {
        return Err(refuse("is too long"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| refuse("is not a URL"))?;
    if parsed.scheme() != "https" {
        return Err(refuse("must be an https:// link"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refuse("must not carry credentials"));
    }
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    if !allowed_hosts
        .iter()
        .any(|allowed| host_matches(&host, allowed))
    {
        return Err(refuse(
            "points to a host that is not allowed (integration.context_url_hosts)",
        ));
    }
    Ok(parsed.to_string())
}

/// `shop.example.com` allows that host; `*.example.com` any host under it (not itself).
fn host_matches(host: &str, allowed: &str) -> bool {
    let allowed = allowed.trim().to_ascii_lowercase();
    match allowed.strip_prefix("*.") {
        Some(parent) => host
            .strip_suffix(parent)
            .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
        None => !allowed.is_empty() && host == allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(url: &str) -> ConversationContext {
        ConversationContext {
            context_type: ContextType::Order,
            id: " 1042 ".into(),
            label: Some("  ".into()),
            url: Some(url.into()),
        }
    }

    #[test]
    fn links_are_kept_only_for_https_on_allowed_hosts() {
        let hosts = vec!["shop.example.com".to_string(), "*.market.test".to_string()];
        let ok = context("https://shop.example.com/orders/1042")
            .checked(&hosts)
            .unwrap();
        assert_eq!(ok.id, "1042");
        assert_eq!(ok.label, None);
        assert_eq!(
            ok.url.as_deref(),
            Some("https://shop.example.com/orders/1042")
        );
        assert!(context("https://a.market.test/x").checked(&hosts).is_ok());
        for bad in [
            "http://shop.example.com/orders/1042",
            "javascript:alert(1)",
            "https://evil.test/",
            "https://shop.example.com.evil.test/",
            "https://market.test/",
            "https://xmarket.test/",
            "https://user:pw@shop.example.com/",
            "not a url",
        ] {
            assert!(context(bad).checked(&hosts).is_err(), "{bad}");
        }
        assert!(
            context("https://shop.example.com/").checked(&[]).is_err(),
            "no hosts allowed: no links"
        );
    }
}
