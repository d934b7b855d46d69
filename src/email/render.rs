//! Rendering email templates with Tera 2. Platform templates (written by the operator) render in
//! process. Store templates (written by a tenant) pass the dialect check and then render in a
//! child process with CPU, memory, wall-clock and output limits: a thread cannot be killed, and a
//! stack overflow or an allocation failure would take the whole server down.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::dialect;

/// The three parts of an email template.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TemplateSource {
    pub subject: String,
    pub body_html: String,
    pub body_text: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub(crate) struct Rendered {
    pub subject: String,
    pub body_html: String,
    pub body_text: String,
}

/// Largest rendered email (all parts together).
pub(crate) const MAX_OUTPUT_BYTES: usize = 1024 * 1024;
const SANDBOX_WALL_CLOCK: Duration = Duration::from_secs(5);
const SANDBOX_CPU_SECONDS: u64 = 2;
const SANDBOX_MEMORY_BYTES: u64 = 1024 * 1024 * 1024;

/// Why a template does not render. A store sees it as `template_refused` when it saves or
/// previews; an email whose store template fails records it as `store_template_error`.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenderError {
    /// Outside the store dialect, in one of the three parts.
    #[error("{part}: {why}")]
    Dialect { part: String, why: String },
    #[error("the required variable `{0}` is missing")]
    MissingVariable(String),
    /// Tera refused the template or its rendering, described on one line.
    #[error("{0}")]
    Template(String),
    #[error("the rendered email is larger than {} KiB", MAX_OUTPUT_BYTES / 1024)]
    TooLarge,
    #[error("the template engine failed")]
    EngineFailed,
    #[error("the template took too long to render")]
    TooSlow,
    #[error("the template exceeded its time or memory limit")]
    OverLimits,
    #[error("the template produced too much output")]
    TooMuchOutput,
    /// The sandbox process could not be started or talked to.
    #[error("the template sandbox failed: {0}")]
    Sandbox(String),
}

/// Renders a trusted template. A required variable that is missing (or null) is an error, and so
/// is any variable the template uses that the context lacks. HTML bodies escape every variable.
pub(crate) fn render(
    source: &TemplateSource,
    context: &serde_json::Value,
    required: &[String],
) -> Result<Rendered, RenderError> {
    for name in required {
        if context.get(name).is_none_or(serde_json::Value::is_null) {
            return Err(RenderError::MissingVariable(name.clone()));
        }
    }
    // Tera's own panics (a filter bug) must not take the caller down.
    std::panic::catch_unwind(|| render_inner(source, context))
        .unwrap_or(Err(RenderError::EngineFailed))
}

fn render_inner(
    source: &TemplateSource,
    context: &serde_json::Value,
) -> Result<Rendered, RenderError> {
    let mut tera = tera::Tera::new();
    tera.autoescape_on(vec![".html"]);
    let text_source = source.body_text.clone().unwrap_or_default();
    tera.add_raw_template("subject.txt", &source.subject)
        .and_then(|_| tera.add_raw_template("body.html", &source.body_html))
        .and_then(|_| tera.add_raw_template("body.txt", &text_source))
        .map_err(|e| describe(&e))?;
    let context = tera::Context::from_serialize(context).map_err(|e| describe(&e))?;
    let subject = tera
        .render("subject.txt", &context)
        .map_err(|e| describe(&e))?;
    let body_html = tera
        .render("body.html", &context)
        .map_err(|e| describe(&e))?;
    let body_text = if source.body_text.is_some() {
        tera.render("body.txt", &context)
            .map_err(|e| describe(&e))?
    } else {
        html_to_text(&body_html)
    };
    if subject.len() + body_html.len() + body_text.len() > MAX_OUTPUT_BYTES {
        return Err(RenderError::TooLarge);
    }
    Ok(Rendered {
        // A header is one line: no CR/LF can come from a template or a variable.
        subject: subject
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(500)
            .collect(),
        body_html,
        body_text,
    })
}

/// Tera's error with its causes, on one line.
fn describe(error: &dyn std::error::Error) -> RenderError {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    RenderError::Template(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// A plain-text part for templates without one: tags dropped, entities for the five escaped
/// characters decoded, blank runs collapsed.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut tag = String::new();
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                let name = tag
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if matches!(
                    name.as_str(),
                    "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3"
                ) {
                    text.push('\n');
                }
            }
            (true, c) => tag.push(c),
            (false, c) => text.push(c),
        }
    }
    let decoded = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&");
    let mut lines: Vec<&str> = decoded.lines().map(str::trim).collect();
    lines.dedup_by(|a, b| a.is_empty() && b.is_empty());
    lines.join("\n").trim().to_string()
}

/// What the parent sends to the sandbox on stdin.
#[derive(Serialize, Deserialize)]
struct SandboxRequest {
    source: TemplateSource,
    context: serde_json::Value,
    required: Vec<String>,
    variables: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SandboxAnswer {
    Rendered(Rendered),
    Refused(RenderError),
}

/// Checks a store template against the dialect: all three parts.
pub(crate) fn check_dialect(
    source: &TemplateSource,
    variables: &[String],
) -> Result<(), RenderError> {
    fn refused(part: &'static str) -> impl Fn(String) -> RenderError {
        move |why| RenderError::Dialect {
            part: part.into(),
            why,
        }
    }
    dialect::check(&source.subject, variables).map_err(refused("subject"))?;
    dialect::check(&source.body_html, variables).map_err(refused("body_html"))?;
    if let Some(text) = &source.body_text {
        dialect::check(text, variables).map_err(refused("body_text"))?;
    }
    Ok(())
}

/// Renders an untrusted (store) template: the dialect check, then Tera in a child process
/// (`exe render-sandbox`) with an empty environment and hard limits.
pub(crate) async fn render_untrusted(
    exe: &Path,
    source: &TemplateSource,
    context: &serde_json::Value,
    required: &[String],
    variables: &[String],
) -> Result<Rendered, RenderError> {
    check_dialect(source, variables)?;
    let sandbox = |e: std::io::Error| RenderError::Sandbox(e.to_string());
    let request = serde_json::to_vec(&SandboxRequest {
        source: source.clone(),
        context: context.clone(),
        required: required.to_vec(),
        variables: variables.to_vec(),
    })
    .map_err(|e| RenderError::Sandbox(e.to_string()))?;
    let mut child = tokio::process::Command::new(exe)
        .arg("render-sandbox")
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            tracing::error!(error = %e, "cannot start the template sandbox");
            sandbox(e)
        })?;
    let (Some(mut stdin), Some(mut stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(RenderError::Sandbox("no pipes to the sandbox".into()));
    };
    let exchange = async {
        stdin.write_all(&request).await.map_err(sandbox)?;
        drop(stdin);
        let mut output = Vec::new();
        // One byte over the cap is enough to know the output is too large.
        let cap = (MAX_OUTPUT_BYTES * 2) as u64;
        (&mut stdout)
            .take(cap + 1)
            .read_to_end(&mut output)
            .await
            .map_err(sandbox)?;
        if output.len() as u64 > cap {
            return Err(RenderError::TooMuchOutput);
        }
        Ok(output)
    };
    let output = match tokio::time::timeout(SANDBOX_WALL_CLOCK, exchange).await {
        Ok(result) => result?,
        Err(_) => {
            let _ = child.start_kill();
            return Err(RenderError::TooSlow);
        }
    };
    let status = child.wait().await.map_err(sandbox)?;
    match serde_json::from_slice::<SandboxAnswer>(&output) {
        Ok(SandboxAnswer::Rendered(rendered)) => Ok(rendered),
        Ok(SandboxAnswer::Refused(why)) => Err(why),
        Err(_) if !status.success() => Err(RenderError::OverLimits),
        Err(e) => Err(RenderError::Sandbox(format!("it answered nonsense: {e}"))),
    }
}

/// The child side: limit itself, read one request from stdin, answer on stdout. Runs before any
/// async runtime or configuration exists.
pub fn sandbox_main() -> std::process::ExitCode {
    let limited = rlimit::setrlimit(
        rlimit::Resource::CPU,
        SANDBOX_CPU_SECONDS,
        SANDBOX_CPU_SECONDS + 1,
    )
    .and_then(|_| {
        rlimit::setrlimit(
            rlimit::Resource::AS,
            SANDBOX_MEMORY_BYTES,
            SANDBOX_MEMORY_BYTES,
        )
    })
    .and_then(|_| rlimit::setrlimit(rlimit::Resource::FSIZE, 0, 0))
    .and_then(|_| rlimit::setrlimit(rlimit::Resource::CORE, 0, 0));
    if limited.is_err() {
        return std::process::ExitCode::FAILURE;
    }
    let mut input = Vec::new();
    if std::io::stdin()
        .take(4 * 1024 * 1024)
        .read_to_end(&mut input)
        .is_err()
    {
        return std::process::ExitCode::FAILURE;
    }
    let answer = match serde_json::from_slice::<SandboxRequest>(&input) {
        Err(e) => SandboxAnswer::Refused(RenderError::Sandbox(format!("bad request: {e}"))),
        Ok(request) => match check_dialect(&request.source, &request.variables)
            .and_then(|_| render(&request.source, &request.context, &request.required))
        {
            Ok(rendered) => SandboxAnswer::Rendered(rendered),
            Err(why) => SandboxAnswer::Refused(why),
        },
    };
    let mut stdout = std::io::stdout().lock();
    match serde_json::to_writer(&mut stdout, &answer)
        .and_then(|_| stdout.flush().map_err(serde_json::Error::io))
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(_) => std::process::ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source(subject: &str, html: &str) -> TemplateSource {
        TemplateSource {
            subject: subject.into(),
            body_html: html.into(),
            body_text: None,
        }
    }

    #[test]
    fn html_escapes_variables_and_text_does_not() {
        let src = TemplateSource {
            subject: "New message from {{ name }}".into(),
            body_html: "<p>{{ name }}</p>".into(),
            body_text: Some("{{ name }}".into()),
        };
        let out = render(&src, &json!({"name": "<script>x</script> & co"}), &[]).unwrap();
        assert_eq!(
            out.body_html,
            "<p>&lt;script&gt;x&lt;/script&gt; &amp; co</p>"
        );
        assert_eq!(out.body_text, "<script>x</script> & co");
        assert_eq!(out.subject, "New message from <script>x</script> & co");
    }

    #[test]
    fn subjects_are_one_line() {
        let out = render(
            &source("{{ s }}", "x"),
            &json!({"s": "a\r\nBcc: evil@x.test"}),
            &[],
        )
        .unwrap();
        assert_eq!(out.subject, "a Bcc: evil@x.test");
    }

    #[test]
    fn missing_required_or_unknown_variables_are_errors() {
        let err = render(&source("{{ a }}", "x"), &json!({}), &["a".to_string()]).unwrap_err();
        assert_eq!(err, RenderError::MissingVariable("a".into()));
        assert_eq!(err.to_string(), "the required variable `a` is missing");
        assert!(render(&source("{{ b }}", "x"), &json!({}), &[]).is_err());
    }

    #[test]
    fn a_text_part_is_derived_when_missing() {
        let out = render(
            &source("s", "<p>Hello &amp; welcome</p><p>Line<br>two</p>"),
            &json!({}),
            &[],
        )
        .unwrap();
        assert_eq!(out.body_text, "Hello & welcome\n\nLine\ntwo");
    }
}
