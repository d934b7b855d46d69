//! Single sign-on from the platform: it signs a short-lived JWT naming the area, the person by its
//! own id, their store, name, email and language; Parley verifies it (signature, `iss`, `aud`,
//! `exp` at most 5 minutes after `iat`, a bounded clock skew, the area, and that its `jti` was
//! never used), creates or updates the account on first sight, and the caller opens a session.
//! Keys: HS256 with a shared secret, EdDSA or RS256 with the platform's public key; a token is
//! checked only with the key of its own algorithm family.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;

use super::provision::{self, PersonInput, store_by_external, upsert_customer, upsert_user};
use super::{AccountsError, Customer, User};
use crate::config::SsoSettings;
use crate::db::Db;
use crate::domain::Area;

/// The longest a token may live (`exp - iat`).
pub(crate) const MAX_LIFETIME_SECONDS: i64 = 300;

/// Why a token was refused; said to the caller (401) in these words.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SsoError {
    #[error("single sign-on is not set up")]
    NotConfigured,
    /// The token is not one to accept; the words say why.
    #[error("{0}")]
    Invalid(&'static str),
    #[error("this single sign-on token was already used")]
    Replayed,
    #[error("this single sign-on token is for another area")]
    WrongArea,
    #[error("this account is disabled")]
    Disabled,
    #[error(transparent)]
    Accounts(#[from] AccountsError),
}

impl From<rusqlite::Error> for SsoError {
    fn from(e: rusqlite::Error) -> Self {
        SsoError::Accounts(e.into())
    }
}

impl From<crate::db::DbError> for SsoError {
    fn from(e: crate::db::DbError) -> Self {
        SsoError::Accounts(AccountsError::Db(e))
    }
}

/// What a token says.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Claims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default)]
    pub jti: String,
    pub area: String,
    /// The store's external id (vendor, shop).
    #[serde(default)]
    pub store: Option<String>,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub language: Option<String>,
}

/// The keys and rules tokens are checked against, built once from the settings.
pub(crate) struct Verifier {
    /// Each key with the algorithms it may verify.
    keys: Vec<(DecodingKey, &'static [Algorithm])>,
    issuer: String,
    audience: String,
    leeway: u64,
}

impl Verifier {
    /// None when single sign-on is off (no issuer); an error when a configured key is unusable.
    pub(crate) fn from_settings(settings: &SsoSettings) -> anyhow::Result<Option<Verifier>> {
        if settings.issuer.is_empty() {
            return Ok(None);
        }
        let mut keys = Vec::new();
        if !settings.hs256_secret.0.is_empty() {
            keys.push((
                DecodingKey::from_secret(settings.hs256_secret.0.as_bytes())
                    .map_err(|e| anyhow::anyhow!("sso.hs256_secret: {e}"))?,
                &[Algorithm::HS256][..],
            ));
        }
        if let Some(file) = &settings.public_key_file {
            let pem = std::fs::read(file)
                .map_err(|e| anyhow::anyhow!("sso.public_key_file {}: {e}", file.display()))?;
            let key = match DecodingKey::from_ed_pem(&pem) {
                Ok(key) => (key, &[Algorithm::EdDSA][..]),
                Err(_) => (
                    DecodingKey::from_rsa_pem(&pem).map_err(|e| {
                        anyhow::anyhow!(
                            "sso.public_key_file {} is neither an Ed25519 nor an RSA public key in PEM: {e}",
                            file.display()
                        )
                    })?,
                    &[Algorithm::RS256][..],
                ),
            };
            keys.push(key);
        }
        Ok(Some(Verifier {
            keys,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            leeway: settings.leeway_seconds,
        }))
    }

    /// The claims of a valid token for `area`, not yet checked for reuse.
    pub(crate) fn verify(&self, token: &str, area: Area) -> Result<Claims, SsoError> {
        let invalid = SsoError::Invalid;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid("the single sign-on token is not a JWT"))?;
        let (key, algorithms) = self
            .keys
            .iter()
            .find(|(_, algorithms)| algorithms.contains(&header.alg))
            .ok_or_else(|| invalid("the single sign-on token's algorithm is not accepted here"))?;
        let mut validation = Validation::new(header.alg);
        validation.algorithms = algorithms.to_vec();
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = self.leeway;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                invalid(match e.kind() {
                    K::ExpiredSignature => "the single sign-on token has expired",
                    K::InvalidSignature => "the single sign-on token's signature does not match",
                    K::InvalidIssuer => {
                        "the single sign-on token's issuer is not the configured one"
                    }
                    K::InvalidAudience => {
                        "the single sign-on token's audience is not this appliance"
                    }
                    K::MissingRequiredClaim(_) => "the single sign-on token lacks a required claim",
                    _ => "the single sign-on token could not be read",
                })
            })?
            .claims;
        let now = Utc::now().timestamp();
        let leeway = self.leeway as i64;
        if claims.iat > now + leeway {
            return Err(invalid("the single sign-on token was issued in the future"));
        }
        if claims.exp - claims.iat > MAX_LIFETIME_SECONDS {
            return Err(invalid(
                "the single sign-on token lives longer than 5 minutes",
            ));
        }
        if claims.jti.is_empty() || claims.jti.len() > 200 {
            return Err(invalid("the single sign-on token has no usable jti"));
        }
        if claims.area != area.as_str() {
            return Err(SsoError::WrongArea);
        }
        Ok(claims)
    }
}

/// The account a token signed in.
pub(crate) enum SignedIn {
    User(User),
    Customer(Customer),
}

/// Marks the token used, then creates or updates its account from the claims (name, email and
/// language as the platform says now), in one transaction: a token is spent only when it signs
/// someone in. A disabled account is refused.
pub(crate) async fn sign_in(db: &Db, claims: Claims, area: Area) -> Result<SignedIn, SsoError> {
    let external_id = provision::external(&claims.sub).map_err(AccountsError::from)?;
    let person = PersonInput {
        email: claims.email.clone(),
        full_name: claims.name.clone(),
        language: claims.language.clone(),
        is_active: None,
    }
    .checked()
    .map_err(AccountsError::from)?;
    let store = match (area, &claims.store) {
        (Area::Admin, _) => None,
        (_, Some(store)) => Some(provision::external(store).map_err(AccountsError::from)?),
        (_, None) => {
            return Err(SsoError::Invalid("the single sign-on token names no store"));
        }
    };
    let expires = DateTime::<Utc>::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now);
    db.write(move |tx| {
        spend(tx, &claims.jti, expires)?;
        let store_id = open_store(tx, store.as_deref())?;
        let by = format!("sso:{}", area.as_str());
        let signed_in = match area {
            Area::Admin | Area::Vendor => {
                let (user, upserted) = upsert_user(tx, store_id, &external_id, &person)?;
                provision::audit_write(tx, &by, "user", upserted, user.id)?;
                if !user.is_active {
                    return Err(SsoError::Disabled);
                }
                SignedIn::User(user)
            }
            Area::Shop => {
                let store_id = store_id.ok_or(AccountsError::NotFound)?;
                let (customer, upserted) = upsert_customer(tx, store_id, &external_id, &person)?;
                provision::audit_write(tx, &by, "customer", upserted, customer.id)?;
                if !customer.is_active {
                    return Err(SsoError::Disabled);
                }
                SignedIn::Customer(customer)
            }
        };
        Ok(signed_in)
    })
    .await
}

/// The platform's backend signs someone in itself (an integration key with the `sso` scope, for
/// its apps, which have their user already): the account must exist (provisioned) and be active,
/// with its store. Recorded against the key.
pub(crate) async fn sign_in_by_key(
    db: &Db,
    by: String,
    area: Area,
    store: Option<String>,
    external_id: String,
) -> Result<SignedIn, SsoError> {
    if area == Area::Admin {
        // A key is not a person: it opens no session that could make more keys.
        return Err(AccountsError::Invalid(crate::domain::Invalid::new(
            "area",
            "must be vendor or shop (admins sign in themselves)",
        ))
        .into());
    }
    let external_id = provision::external(&external_id).map_err(AccountsError::from)?;
    let store = match (area, store) {
        (Area::Admin, _) => None,
        (_, Some(store)) => Some(provision::external(&store).map_err(AccountsError::from)?),
        (_, None) => {
            return Err(AccountsError::Invalid(crate::domain::Invalid::new(
                "store_external_id",
                "is required for the vendor and shop areas",
            ))
            .into());
        }
    };
    db.write(move |tx| {
        let store_id = open_store(tx, store.as_deref())?;
        let signed_in = match area {
            Area::Admin | Area::Vendor => {
                let role = if area == Area::Admin { "admin" } else { "store" };
                let id: i64 = tx
                    .query_row(
                        "SELECT id FROM users WHERE store_id IS ?1 AND role = ?2 AND external_id = ?3",
                        params![store_id, role, external_id],
                        |r| r.get(0),
                    )
                    .optional()?
                    .ok_or(AccountsError::NotFound)?;
                SignedIn::User(super::get_user(tx, id)?)
            }
            Area::Shop => {
                let id: i64 = tx
                    .query_row(
                        "SELECT id FROM customers WHERE store_id = ?1 AND external_id = ?2",
                        params![store_id, external_id],
                        |r| r.get(0),
                    )
                    .optional()?
                    .ok_or(AccountsError::NotFound)?;
                SignedIn::Customer(super::get_customer(tx, id)?)
            }
        };
        let (active, target) = match &signed_in {
            SignedIn::User(user) => (user.is_active, format!("user:{}", user.id)),
            SignedIn::Customer(customer) => (customer.is_active, format!("customer:{}", customer.id)),
        };
        if !active {
            return Err(SsoError::Disabled);
        }
        crate::audit::record(tx, &by, "session.created", &target)?;
        Ok(signed_in)
    })
    .await
}

/// The store named by the platform's id, if one is named; a disabled store lets nobody in.
fn open_store(tx: &Connection, store: Option<&str>) -> Result<Option<i64>, SsoError> {
    let Some(store) = store else {
        return Ok(None);
    };
    let store_id = store_by_external(tx, store)?;
    let open: bool = tx.query_row(
        "SELECT is_active FROM stores WHERE id = ?1",
        [store_id],
        |r| r.get(0),
    )?;
    if !open {
        return Err(SsoError::Disabled);
    }
    Ok(Some(store_id))
}

/// Records a token's `jti` as used; a second use is a replay.
fn spend(conn: &Connection, jti: &str, expires: DateTime<Utc>) -> Result<(), SsoError> {
    let fresh = conn
        .prepare_cached(
            "INSERT INTO sso_tokens_used (jti, expires_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )?
        .execute(params![jti, expires])?;
    if fresh == 0 {
        return Err(SsoError::Replayed);
    }
    Ok(())
}

/// Forgets used tokens that have expired (they cannot be replayed any more).
pub(crate) fn forget_expired(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    // Past the leeway too: a token is refused once `exp + leeway` has passed.
    let before = now - chrono::Duration::seconds(300);
    conn.execute(
        "DELETE FROM sso_tokens_used WHERE expires_at < ?1",
        [before],
    )
}
