//! The optional open pixel and click redirect for SMTP mail (off by default, per store). Links are
//! rewritten to `/t/c/<token>/<n>`; the redirect goes only to the n-th link of that very email,
//! so it can never be used to send people elsewhere.

/// Rewrites `href="http…"` links (except the unsubscribe link) and appends the open pixel.
/// Returns the new HTML and the original links in order.
pub(crate) fn instrument(
    html: &str,
    base: &str,
    token: &str,
    opens: bool,
    clicks: bool,
    keep: Option<&str>,
) -> (String, Vec<String>) {
    let mut links = Vec::new();
    let mut out = String::with_capacity(html.len() + 200);
    let mut rest = html;
    if clicks {
        while let Some(start) = rest.find("href=\"") {
            let value_start = start + "href=\"".len();
            let Some(len) = rest[value_start..].find('"') else {
                break;
            };
            let url = &rest[value_start..value_start + len];
            out.push_str(&rest[..value_start]);
            let decoded = url.replace("&amp;", "&");
            if (decoded.starts_with("https://") || decoded.starts_with("http://"))
                && Some(decoded.as_str()) != keep
            {
                out.push_str(&format!("{base}/t/c/{token}/{}", links.len()));
                links.push(decoded);
            } else {
                out.push_str(url);
            }
            rest = &rest[value_start + len..];
        }
    }
    out.push_str(rest);
    if opens {
        out.push_str(&format!("<img src=\"{base}/t/o/{token}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">"));
    }
    (out, links)
}

/// A 1×1 transparent GIF.
pub(crate) const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_rewritten_in_order_and_the_unsubscribe_link_is_kept() {
        let html = r#"<a href="https://shop.test/a?x=1&amp;y=2">a</a><a href="mailto:x@y.z">m</a><a href="https://u.test/unsub">u</a>"#;
        let (out, links) = instrument(
            html,
            "https://p.test",
            "tok",
            true,
            true,
            Some("https://u.test/unsub"),
        );
        assert_eq!(links, vec!["https://shop.test/a?x=1&y=2"]);
        assert!(
            out.starts_with(r#"<a href="https://p.test/t/c/tok/0">a</a><a href="mailto:x@y.z">"#),
            "{out}"
        );
        assert!(out.contains(r#"href="https://u.test/unsub""#));
        assert!(out.ends_with(
            r#"<img src="https://p.test/t/o/tok" width="1" height="1" alt="" style="display:none">"#
        ));
        let (same, none) = instrument(html, "https://p.test", "tok", false, false, None);
        assert_eq!(same, html);
        assert!(none.is_empty());
    }
}
