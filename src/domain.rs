//! Values parsed once at the edge and trusted afterwards: who is acting, account enums, and the
//! checks every name, address and text goes through before it is stored.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Who is making a request. Every service takes one, and every query filters by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Actor {
    Admin { user_id: i64 },
    Staff { user_id: i64, store_id: i64 },
    Customer { customer_id: i64, store_id: i64 },
}

impl Actor {
    pub(crate) fn store_id(&self) -> Option<i64> {
        match self {
            Actor::Admin { .. } => None,
            Actor::Staff { store_id, .. } | Actor::Customer { store_id, .. } => Some(*store_id),
        }
    }
}

/// The three API areas, each with its own login and cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Area {
    Admin,
    Vendor,
    Shop,
}

impl Area {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Area::Admin => "admin",
            Area::Vendor => "vendor",
            Area::Shop => "shop",
        }
    }
}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value, in declaration order (not every enum needs the list).
            #[allow(dead_code)]
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown value {other:?}; expected one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        // In the OpenAPI document: a string with the known values.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                value.as_str()?.parse().map_err(|e: String| rusqlite::types::FromSqlError::Other(e.into()))
            }
        }
    };
}

text_enum!(
    /// A store's subscription tier; the API email providers need business or enterprise.
    Tier { Essential => "essential", Professional => "professional", Business => "business", Enterprise => "enterprise" }
);

text_enum!(
    /// A user account's role: platform admin or store staff.
    Role { Admin => "admin", Store => "store" }
);

text_enum!(
    /// What an integration key may do: provision accounts, work conversations, read events,
    /// sign people in.
    Scope { Provision => "provision", Conversations => "conversations", Events => "events", Sso => "sso" }
);

text_enum!(
    /// What a system message records (its `content` says it in English for the API).
    SystemEvent {
        Closed => "closed", Reopened => "reopened", Escalated => "escalated", Resolved => "resolved",
        Assigned => "assigned", Unassigned => "unassigned"
    }
);

text_enum!(
    /// What a conversation is about on the platform: an order, a product, an offer, a return, or
    /// anything else.
    ContextType { Order => "order", Product => "product", Offer => "offer", Return => "return", Custom => "custom" }
);

text_enum!(
    /// The three messaging channels.
    ConversationType { AdminStore => "admin_store", StoreCustomer => "store_customer", AdminCustomer => "admin_customer" }
);

text_enum!(
    /// Who takes part in (or sends to) a conversation.
    ParticipantType { Admin => "admin", Store => "store", Customer => "customer" }
);

text_enum!(
    /// How a store's email leaves: SMTP (every tier) or an API provider (business and up).
    EmailProvider { Smtp => "smtp", Sendgrid => "sendgrid", Mailgun => "mailgun", Ses => "ses" }
);

text_enum!(
    /// Where an email is in its life (seed: EmailStatus). Provider events move it forward only, in
    /// the order of [`EmailStatus::rank`].
    EmailStatus { Pending => "pending", Sent => "sent", Failed => "failed", Bounced => "bounced",
                  Delivered => "delivered", Opened => "opened", Clicked => "clicked" }
);

impl EmailStatus {
    /// The order statuses move in: an event that ranks lower than the status never replaces it
    /// (a late "delivered" after "opened" changes nothing; a bounce outranks all).
    pub(crate) fn rank(self) -> i64 {
        match self {
            EmailStatus::Pending => 0,
            EmailStatus::Sent | EmailStatus::Failed => 1,
            EmailStatus::Delivered => 2,
            EmailStatus::Opened => 3,
            EmailStatus::Clicked => 4,
            EmailStatus::Bounced => 5,
        }
    }

    /// [`EmailStatus::rank`] of the `status` column, in SQL.
    pub(crate) fn rank_sql() -> &'static str {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let cases: String = EmailStatus::ALL
                .iter()
                .map(|s| format!(" WHEN '{}' THEN {}", s.as_str(), s.rank()))
                .collect();
            format!("CASE status{cases} ELSE 0 END")
        });
        &SQL
    }
}

text_enum!(
    /// What an admin notification is about (seed: AdminNotification.type).
    AlertKind {
        SystemAlert => "system_alert", StoreIssue => "store_issue", ImportFailure => "import_failure",
        Escalation => "escalation", LateReplies => "late_replies"
    }
);

text_enum!(
    /// How urgent an admin notification is.
    AlertPriority { Low => "low", Normal => "normal", High => "high", Critical => "critical" }
);

impl Tier {
    /// The API email providers need the business tier or higher.
    pub(crate) fn allows(self, provider: EmailProvider) -> bool {
        provider == EmailProvider::Smtp || matches!(self, Tier::Business | Tier::Enterprise)
    }
}

impl Actor {
    /// The actor as a conversation participant: its type and id.
    pub(crate) fn participant(&self) -> (ParticipantType, i64) {
        match *self {
            Actor::Admin { user_id } => (ParticipantType::Admin, user_id),
            Actor::Staff { user_id, .. } => (ParticipantType::Store, user_id),
            Actor::Customer { customer_id, .. } => (ParticipantType::Customer, customer_id),
        }
    }
}

/// A value that failed its check: the field it came in and why, in words for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {why}")]
pub struct Invalid {
    pub field: String,
    pub why: String,
}

impl Invalid {
    pub(crate) fn new(field: &str, why: impl fmt::Display) -> Invalid {
        Invalid {
            field: field.to_string(),
            why: why.to_string(),
        }
    }
}

/// Characters that reorder or hide text: bidi overrides and zero-width characters.
fn is_deceptive(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
}

/// A single-line value (name, subject): trimmed, 1..=max characters, no control characters (so no
/// CR/LF can reach an email header), no bidi overrides or zero-width characters.
pub(crate) fn clean_line(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(Invalid::new(
            field,
            "must not contain control characters or line breaks",
        ));
    }
    if value.chars().any(is_deceptive) {
        return Err(Invalid::new(
            field,
            "must not contain invisible or direction-changing characters",
        ));
    }
    Ok(value.to_string())
}

/// Multi-line text (a message body): line endings become `\n`; tabs and newlines are the only
/// control characters allowed; bidi overrides are refused.
pub(crate) fn clean_text(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    let value = value.replace("\r\n", "\n").replace('\r', "\n");
    let trimmed = value.trim();
    if trimmed.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    if trimmed
        .chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(Invalid::new(
            field,
            "must not contain direction-changing characters",
        ));
    }
    Ok(trimmed.to_string())
}

/// An email address, checked strictly enough that it is safe in a header and plausible to send
/// to: `local@domain.tld`, ASCII, at most 254 characters.
pub(crate) fn clean_email(field: &str, value: &str) -> Result<String, Invalid> {
    let value = value.trim();
    let bad = || Invalid::new(field, "must be a valid email address");
    if value.len() > 254 || !value.is_ascii() {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(value.to_string())
    } else {
        Err(bad())
    }
}

/// A language code such as `en`, `de` or `pt-BR`.
pub(crate) fn clean_language(field: &str, value: &str) -> Result<String, Invalid> {
    let bytes = value.as_bytes();
    let ok = match bytes.len() {
        2 => bytes.iter().all(u8::is_ascii_lowercase),
        5 => {
            bytes[..2].iter().all(u8::is_ascii_lowercase)
                && bytes[2] == b'-'
                && bytes[3..].iter().all(u8::is_ascii_uppercase)
        }
        _ => false,
    };
    if ok {
        Ok(value.to_string())
    } else {
        Err(Invalid::new(
            field,
            "must be a language code such as \"en\" or \"pt-BR\"",
        ))
    }
}

/// A store code: a lowercase slug of 1..=64 characters.
pub(crate) fn clean_store_code(value: &str) -> Result<String, Invalid> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(value.to_string())
    } else {
        Err(Invalid::new(
            "code",
            "must be 1 to 64 lowercase letters, digits or dashes, not starting or ending with a dash",
        ))
    }
}

pub(crate) const PASSWORD_MIN: usize = 8;
pub(crate) const PASSWORD_MAX: usize = 1024;

pub(crate) fn check_password(field: &str, value: &str) -> Result<(), Invalid> {
    let n = value.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
        return Err(Invalid::new(
            field,
            format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        ));
    }
    if value.contains('\0') {
        return Err(Invalid::new(field, "must not contain NUL characters"));
    }
    Ok(())
}

/// `skip`/`limit` of every list: limit defaults to 20, at most 100.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    #[serde(default)]
    pub skip: u32,
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn default_limit() -> u32 {
    20
}

impl Page {
    pub(crate) fn checked(self) -> Result<Page, Invalid> {
        if !(1..=100).contains(&self.limit) {
            return Err(Invalid::new("limit", "must be between 1 and 100"));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests;
