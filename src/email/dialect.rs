//! The template dialect stores may use. Store templates are code written by a tenant and run by
//! our server, so before Tera ever parses one it must pass this check: `{{ variable }}` with
//! allowlisted filters, `{% if %}` / `{% for %}` over the variables the template code declares,
//! comments — and nothing else (no include, import, extends, macro, set, raw, function calls,
//! `__tera_context`), within a size and nesting limit.

use std::collections::HashSet;

/// Largest store template accepted, in bytes.
pub(crate) const MAX_TEMPLATE_BYTES: usize = 32 * 1024;
/// Deepest nesting of `if`/`for` blocks.
pub(crate) const MAX_DEPTH: usize = 8;
/// Deepest nesting of `for` loops (each loop runs over a list we provide).
pub(crate) const MAX_LOOP_DEPTH: usize = 2;
/// Tags in one template.
const MAX_TAGS: usize = 500;

/// Filters a store template may use: none of them can mark text as safe HTML, call out, or grow
/// output without bound.
const FILTERS: &[&str] = &[
    "upper",
    "lower",
    "capitalize",
    "title",
    "trim",
    "truncate",
    "default",
    "length",
    "wordcount",
    "newlines_to_br",
    "escape",
    "first",
    "last",
    "join",
    "pluralize",
    "replace",
    "round",
    "abs",
    "int",
    "str",
];

/// Checks `source` against the dialect. `variables` are the names the template's context will
/// hold. Returns the reason for refusal, written for the store author.
pub(crate) fn check(source: &str, variables: &[String]) -> Result<(), String> {
    if source.len() > MAX_TEMPLATE_BYTES {
        return Err(format!(
            "the template is larger than {} KiB",
            MAX_TEMPLATE_BYTES / 1024
        ));
    }
    let mut known: HashSet<String> = variables.iter().cloned().collect();
    // Each open block, and for `for` blocks the loop variable it introduced.
    let mut stack: Vec<(&'static str, Option<String>)> = Vec::new();
    let mut tags = 0;
    let mut rest = source;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let (close, kind) = match after.chars().next() {
            Some('{') => ("}}", '{'),
            Some('%') => ("%}", '%'),
            Some('#') => ("#}", '#'),
            _ => {
                rest = after;
                continue;
            }
        };
        let body_start = &after[1..];
        let end = body_start
            .find(close)
            .ok_or_else(|| "a tag is not closed".to_string())?;
        let inner =
            body_start[..end].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        rest = &body_start[end + close.len()..];
        tags += 1;
        if tags > MAX_TAGS {
            return Err(format!("the template has more than {MAX_TAGS} tags"));
        }
        match kind {
            '#' => {}
            '{' => check_expression(inner, &known)?,
            _ => check_statement(inner, &mut known, &mut stack)?,
        }
    }
    if let Some((open, _)) = stack.last() {
        return Err(format!("a {{% {open} %}} block is not closed"));
    }
    Ok(())
}

fn check_statement(
    inner: &str,
    known: &mut HashSet<String>,
    stack: &mut Vec<(&'static str, Option<String>)>,
) -> Result<(), String> {
    let mut words = inner.split_whitespace();
    let keyword = words.next().unwrap_or_default();
    match keyword {
        "if" => {
            check_condition(inner["if".len()..].trim(), known)?;
            push(stack, "if", None)
        }
        "elif" => {
            expect_open(stack, "if", "elif")?;
            check_condition(inner["elif".len()..].trim(), known)
        }
        "else" if inner == "else" => match stack.last() {
            Some(("if", _)) | Some(("for", _)) => Ok(()),
            _ => Err("{% else %} outside an if or for block".into()),
        },
        "endif" if inner == "endif" => {
            expect_open(stack, "if", "endif")?;
            stack.pop();
            Ok(())
        }
        "for" => {
            let (variable, list) = parse_for(inner)?;
            check_path(&list, known)?;
            if stack.iter().filter(|(k, _)| *k == "for").count() >= MAX_LOOP_DEPTH {
                return Err(format!("loops may nest at most {MAX_LOOP_DEPTH} deep"));
            }
            known.insert(variable.clone());
            push(stack, "for", Some(variable))
        }
        "endfor" if inner == "endfor" => {
            expect_open(stack, "for", "endfor")?;
            if let Some((_, Some(variable))) = stack.pop() {
                known.remove(&variable);
            }
            Ok(())
        }
        other => Err(format!(
            "{{% {other} %}} is not allowed in store templates (only if, elif, else, for and their ends)"
        )),
    }
}

fn push(
    stack: &mut Vec<(&'static str, Option<String>)>,
    kind: &'static str,
    var: Option<String>,
) -> Result<(), String> {
    if stack.len() >= MAX_DEPTH {
        return Err(format!("blocks may nest at most {MAX_DEPTH} deep"));
    }
    stack.push((kind, var));
    Ok(())
}

fn expect_open(
    stack: &[(&'static str, Option<String>)],
    kind: &str,
    tag: &str,
) -> Result<(), String> {
    match stack.last() {
        Some((open, _)) if *open == kind => Ok(()),
        _ => Err(format!("{{% {tag} %}} without a matching {{% {kind} %}}")),
    }
}

/// `for item in list`
fn parse_for(inner: &str) -> Result<(String, String), String> {
    let words: Vec<&str> = inner.split_whitespace().collect();
    match words.as_slice() {
        ["for", variable, "in", list] if is_identifier(variable) => {
            Ok((variable.to_string(), list.to_string()))
        }
        _ => Err("a loop must read {% for item in list %}".into()),
    }
}

/// `path | filter | filter(arg=literal)`
fn check_expression(inner: &str, known: &HashSet<String>) -> Result<(), String> {
    let mut parts = split_outside_quotes(inner, '|').into_iter();
    let head = parts.next().unwrap_or_default();
    let head = head.trim();
    if !is_literal(head) {
        check_path(head, known)?;
    }
    for filter in parts {
        check_filter(filter.trim())?;
    }
    Ok(())
}

fn check_filter(filter: &str) -> Result<(), String> {
    let (name, args) = match filter.split_once('(') {
        Some((name, args)) => (
            name.trim(),
            Some(
                args.strip_suffix(')')
                    .ok_or("a filter's arguments are not closed")?,
            ),
        ),
        None => (filter, None),
    };
    if !FILTERS.contains(&name) {
        return Err(format!(
            "the filter `{name}` is not allowed in store templates"
        ));
    }
    for arg in args
        .map(|a| split_outside_quotes(a, ','))
        .unwrap_or_default()
    {
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("the filter `{name}` takes named arguments (name=value)"))?;
        if !is_identifier(key.trim()) || !is_literal(value.trim()) {
            return Err(format!("the filter `{name}` takes only literal arguments"));
        }
    }
    Ok(())
}

/// `[not] operand [(==|!=|<|>|<=|>=) operand] [(and|or) …]`
fn check_condition(condition: &str, known: &HashSet<String>) -> Result<(), String> {
    if condition.is_empty() {
        return Err("an if needs a condition".into());
    }
    let tokens = split_outside_quotes(condition, ' ');
    for token in tokens.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        match token {
            "not" | "and" | "or" | "==" | "!=" | "<" | ">" | "<=" | ">=" => {}
            t if is_literal(t) => {}
            t => check_path(t, known)?,
        }
    }
    Ok(())
}

/// `name` or `name.field.field`, where `name` is a variable of the template (or a loop variable).
fn check_path(path: &str, known: &HashSet<String>) -> Result<(), String> {
    let mut segments = path.split('.');
    let root = segments.next().unwrap_or_default();
    if !is_identifier(root) || root.starts_with("__") {
        return Err(format!("`{path}` is not a variable name"));
    }
    if !known.contains(root) {
        return Err(format!("`{root}` is not a variable of this template"));
    }
    for segment in segments {
        if !is_identifier(segment) || segment.starts_with("__") {
            return Err(format!("`{path}` is not a variable name"));
        }
    }
    Ok(())
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_literal(s: &str) -> bool {
    let quoted = |q: char| {
        s.len() >= 2 && s.starts_with(q) && s.ends_with(q) && !s[1..s.len() - 1].contains(q)
    };
    quoted('"')
        || quoted('\'')
        || matches!(s, "true" | "false")
        || (s.len() <= 12 && s.parse::<f64>().is_ok())
}

/// Splits on `sep` outside single or double quotes.
fn split_outside_quotes(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == sep => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vec<String> {
        ["recipient_name", "items", "store_name", "message_preview"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn ordinary_templates_pass() {
        let ok = [
            "Hello {{ recipient_name }}, {{ store_name | upper }}!",
            "{% if recipient_name %}Hi {{ recipient_name | default(value=\"there\") }}{% else %}Hi{% endif %}",
            "{%- for item in items -%}{{ item.name | truncate(length=20) }}{% endfor %}",
            "{# a comment #}{{ message_preview | newlines_to_br }}",
            "{% if store_name == \"Shop\" and not recipient_name %}x{% elif items %}y{% endif %}",
            "Plain text with { braces } and } alone",
        ];
        for source in ok {
            assert_eq!(check(source, &vars()), Ok(()), "{source}");
        }
    }

    #[test]
    fn hostile_templates_are_refused_with_a_reason() {
        let refused = [
            ("{{ get_env(name=\"APP_KEY\") }}", "not a variable"),
            ("{{ __tera_context }}", "not a variable"),
            ("{% include \"admin/x.html\" %}", "not allowed"),
            ("{% import \"m.html\" as m %}", "not allowed"),
            ("{% extends \"base.html\" %}", "not allowed"),
            ("{% macro m() %}{% endmacro %}", "not allowed"),
            ("{% set s = 1 %}", "not allowed"),
            ("{% set_global s = s ~ s %}", "not allowed"),
            ("{% raw %}{% endraw %}", "not allowed"),
            (
                "{% for i in range(end=4000000000) %}{% endfor %}",
                "not a variable name",
            ),
            ("{{ recipient_name | safe }}", "filter `safe`"),
            ("{{ secret_key }}", "not a variable of this template"),
            ("{{ recipient_name.__class__ }}", "not a variable name"),
            (
                "{% for a in items %}{% for b in items %}{% for c in items %}{% endfor %}{% endfor %}{% endfor %}",
                "nest",
            ),
            ("{% if recipient_name %}", "not closed"),
            ("{{ recipient_name", "not closed"),
            (
                "{{ recipient_name | truncate(length=recipient_name) }}",
                "literal",
            ),
        ];
        for (source, reason) in refused {
            let err = check(source, &vars()).unwrap_err();
            assert!(err.contains(reason), "{source}: {err}");
        }
        let deep = "{% if recipient_name %}".repeat(20);
        assert!(check(&deep, &vars()).unwrap_err().contains("nest"));
        assert!(
            check(&"x".repeat(MAX_TEMPLATE_BYTES + 1), &vars())
                .unwrap_err()
                .contains("larger")
        );
    }
}
