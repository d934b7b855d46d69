//! Provisioning by the platform's ids: an integration key creates or updates a store, a staff
//! member or a customer named by the platform's `external_id`, idempotently (the same PUT twice
//! changes nothing the second time). A row Parley already has without an external id is adopted
//! when it matches (a store by its code, a person by their email in that store), so a first sync
//! of an existing shop links what is there instead of failing on it. Every write is recorded in
//! the audit log against the key, in the same transaction.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;

use super::{AccountsError, Customer, Store, User, unique_or};
use crate::audit;
use crate::auth::session::{self, Principal};
use crate::db::Db;
use crate::domain::{self, Tier};

/// A store as the platform sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoreInput {
    pub code: String,
    pub name: String,
    pub tier: Tier,
    pub is_active: Option<bool>,
}

/// A staff member or a customer as the platform sends them (no password: they sign in through
/// the platform, or set one with the forgotten-password flow).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonInput {
    pub email: String,
    pub full_name: String,
    pub language: Option<String>,
    pub is_active: Option<bool>,
}

pub(crate) struct Person {
    email: String,
    full_name: String,
    language: Option<String>,
    is_active: Option<bool>,
}

impl PersonInput {
    pub(crate) fn checked(&self) -> Result<Person, domain::Invalid> {
        Ok(Person {
            email: domain::clean_email("email", &self.email)?.to_ascii_lowercase(),
            full_name: domain::clean_line("full_name", &self.full_name, 255)?,
            language: self
                .language
                .as_deref()
                .map(|l| domain::clean_language("language", l))
                .transpose()?,
            is_active: self.is_active,
        })
    }
}

pub(crate) fn external(value: &str) -> Result<String, domain::Invalid> {
    domain::clean_line("external_id", value, 128)
}

/// Whether a PUT created the row (201) or found it (200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upserted {
    Created,
    Updated,
}

pub(crate) fn audit_write(
    tx: &Connection,
    by: &str,
    kind: &str,
    upserted: Upserted,
    id: i64,
) -> rusqlite::Result<()> {
    let verb = match upserted {
        Upserted::Created => "created",
        Upserted::Updated => "updated",
    };
    audit::record(tx, by, &format!("{kind}.{verb}"), &format!("{kind}:{id}"))
}

/// `PUT /integration/stores/{external_id}`.
pub(crate) async fn put_store(
    db: &Db,
    by: String,
    external_id: &str,
    input: StoreInput,
) -> Result<(Store, Upserted), AccountsError> {
    let external_id = external(external_id)?;
    let code = domain::clean_store_code(&input.code)?;
    let name = domain::clean_line("name", &input.name, 255)?;
    db.write(move |tx| {
        let found: Option<i64> = tx
            .query_row(
                "SELECT id FROM stores WHERE external_id = ?1
                     UNION ALL SELECT id FROM stores WHERE code = ?2 AND external_id IS NULL
                     LIMIT 1",
                params![external_id, code],
                |r| r.get(0),
            )
            .optional()?;
        let upserted = if found.is_some() {
            Upserted::Updated
        } else {
            Upserted::Created
        };
        let id: i64 = match found {
            Some(id) => {
                tx.execute(
                    "UPDATE stores SET external_id = ?2, code = ?3, name = ?4, tier = ?5,
                                is_active = coalesce(?6, is_active), updated_at = ?7 WHERE id = ?1",
                    params![
                        id,
                        external_id,
                        code,
                        name,
                        input.tier,
                        input.is_active,
                        Utc::now()
                    ],
                )
                .map_err(|e| unique_or(e, "store_code_taken", "another store has this code"))?;
                id
            }
            None => tx
                .query_row(
                    "INSERT INTO stores (code, name, tier, is_active, external_id)
                         VALUES (?1, ?2, ?3, coalesce(?4, 1), ?5) RETURNING id",
                    params![code, name, input.tier, input.is_active, external_id],
                    |r| r.get(0),
                )
                .map_err(|e| unique_or(e, "store_code_taken", "another store has this code"))?,
        };
        audit_write(tx, &by, "store", upserted, id)?;
        Ok::<_, AccountsError>((super::get_store(tx, id)?, upserted))
    })
    .await
}

pub(crate) fn store_by_external(tx: &Connection, external_id: &str) -> Result<i64, AccountsError> {
    tx.prepare_cached("SELECT id FROM stores WHERE external_id = ?1")?
        .query_row([external_id], |r| r.get(0))
        .optional()?
        .ok_or(AccountsError::NotFound)
}

/// `PUT /integration/stores/{store_external_id}/users/{external_id}`: a staff member.
pub(crate) async fn put_staff(
    db: &Db,
    by: String,
    store_external_id: &str,
    external_id: &str,
    input: PersonInput,
) -> Result<(User, Upserted), AccountsError> {
    let (store_external_id, external_id) = (external(store_external_id)?, external(external_id)?);
    let person = input.checked()?;
    db.write(move |tx| {
        let store_id = store_by_external(tx, &store_external_id)?;
        let (user, upserted) = upsert_user(tx, Some(store_id), &external_id, &person)?;
        audit_write(tx, &by, "user", upserted, user.id)?;
        Ok::<_, AccountsError>((user, upserted))
    })
    .await
}

/// Creates or updates a user by the platform's id: store staff (with `store_id`) or a platform
/// admin (without). A user Parley had without an id is adopted by email; new ones have no
/// password (an empty hash never verifies, see `Hasher::verify`): they come through the platform.
pub(crate) fn upsert_user(
    tx: &Connection,
    store_id: Option<i64>,
    external_id: &str,
    person: &Person,
) -> Result<(User, Upserted), AccountsError> {
    let role = if store_id.is_some() { "store" } else { "admin" };
    let found: Option<(i64, bool)> = tx
        .prepare_cached(
            "SELECT id, 0 FROM users WHERE store_id IS ?1 AND role = ?4 AND external_id = ?2
             UNION ALL SELECT id, 1 FROM users WHERE store_id IS ?1 AND role = ?4 AND email = ?3 AND external_id IS NULL
             LIMIT 1",
        )?
        .query_row(params![store_id, external_id, person.email, role], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let taken = |e| unique_or(e, "email_taken", "another account has this email");
    let (id, upserted) = match found {
        Some((id, _)) => {
            tx.prepare_cached(
                "UPDATE users SET external_id = ?2, email = ?3, full_name = ?4,
                        language = coalesce(?5, language), is_active = coalesce(?6, is_active),
                        updated_at = ?7 WHERE id = ?1",
            )?
            .execute(params![
                id,
                external_id,
                person.email,
                person.full_name,
                person.language,
                person.is_active,
                Utc::now()
            ])
            .map_err(taken)?;
            (id, Upserted::Updated)
        }
        None => (
            tx.prepare_cached(
                "INSERT INTO users (email, password_hash, full_name, role, store_id, language,
                                    is_active, external_id)
                 VALUES (?1, '', ?2, ?7, ?3, coalesce(?4, 'en'), coalesce(?5, 1), ?6)
                 RETURNING id",
            )?
            .query_row(
                params![
                    person.email,
                    person.full_name,
                    store_id,
                    person.language,
                    person.is_active,
                    external_id,
                    role
                ],
                |r| r.get(0),
            )
            .map_err(taken)?,
            Upserted::Created,
        ),
    };
    if person.is_active == Some(false) {
        session::delete_all_for(tx, Principal::User(id), None)?;
    }
    Ok((super::get_user(tx, id)?, upserted))
}

/// `PUT /integration/stores/{store_external_id}/customers/{external_id}`.
pub(crate) async fn put_customer(
    db: &Db,
    by: String,
    store_external_id: &str,
    external_id: &str,
    input: PersonInput,
) -> Result<(Customer, Upserted), AccountsError> {
    let (store_external_id, external_id) = (external(store_external_id)?, external(external_id)?);
    let person = input.checked()?;
    db.write(move |tx| {
        let store_id = store_by_external(tx, &store_external_id)?;
        let (customer, upserted) = upsert_customer(tx, store_id, &external_id, &person)?;
        audit_write(tx, &by, "customer", upserted, customer.id)?;
        Ok::<_, AccountsError>((customer, upserted))
    })
    .await
}

pub(crate) fn upsert_customer(
    tx: &Connection,
    store_id: i64,
    external_id: &str,
    person: &Person,
) -> Result<(Customer, Upserted), AccountsError> {
    let found: Option<(i64, bool)> = tx
        .prepare_cached(
            "SELECT id, 0 FROM customers WHERE store_id = ?1 AND external_id = ?2
             UNION ALL SELECT id, 1 FROM customers WHERE store_id = ?1 AND email = ?3 AND external_id IS NULL
             LIMIT 1",
        )?
        .query_row(params![store_id, external_id, person.email], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let taken = |e| {
        unique_or(
            e,
            "email_taken",
            "another customer of this store has this email",
        )
    };
    let (id, upserted) = match found {
        Some((id, adopted)) => {
            if adopted {
                forget_local_password(tx, id)?;
            }
            tx.prepare_cached(
                "UPDATE customers SET external_id = ?2, email = ?3, full_name = ?4,
                        language = coalesce(?5, language), is_active = coalesce(?6, is_active),
                        updated_at = ?7 WHERE id = ?1",
            )?
            .execute(params![id, external_id, person.email, person.full_name, person.language,
                             person.is_active, Utc::now()])
            .map_err(taken)?;
            (id, Upserted::Updated)
        }
        None => (
            tx.prepare_cached(
                "INSERT INTO customers (store_id, email, full_name, language, is_active, external_id)
                 VALUES (?1, ?2, ?3, coalesce(?4, 'en'), coalesce(?5, 1), ?6) RETURNING id",
            )?
            .query_row(
                params![store_id, person.email, person.full_name, person.language,
                        person.is_active, external_id],
                |r| r.get(0),
            )
            .map_err(taken)?,
            Upserted::Created,
        ),
    };
    if person.is_active == Some(false) {
        session::delete_all_for(tx, Principal::Customer(id), None)?;
    }
    Ok((super::get_customer(tx, id)?, upserted))
}

/// A customer the platform adopts by email may have registered in Parley, and anyone can register
/// with any address: their password and sessions go, so only the platform's person gets in (by
/// single sign-on, or by a password reset sent to the address). Staff and admins keep theirs:
/// only an admin makes those.
fn forget_local_password(tx: &Connection, customer_id: i64) -> Result<(), AccountsError> {
    tx.execute(
        "UPDATE customers SET password_hash = NULL WHERE id = ?1",
        [customer_id],
    )?;
    session::delete_all_for(tx, Principal::Customer(customer_id), None)?;
    Ok(())
}

/// One line of `parley import`: a store, a staff member or a customer, by the platform's ids —
/// the body its PUT takes, with `type`, `external_id` and (for people) `store` beside it:
/// `{"type": "customer", "store": "st-1", "external_id": "c-7", "email": …, "full_name": …}`.
#[derive(Debug, Clone)]
pub(crate) enum ImportLine {
    Store {
        external_id: String,
        store: StoreInput,
    },
    User {
        store: String,
        external_id: String,
        person: PersonInput,
    },
    Customer {
        store: String,
        external_id: String,
        person: PersonInput,
    },
}

impl ImportLine {
    pub(crate) fn external_id(&self) -> &str {
        match self {
            ImportLine::Store { external_id, .. }
            | ImportLine::User { external_id, .. }
            | ImportLine::Customer { external_id, .. } => external_id,
        }
    }

    /// Reads one line; the answer says what is wrong with it in words.
    pub(crate) fn parse(text: &str) -> Result<ImportLine, String> {
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
        let mut take = |name: &str| match fields.remove(name) {
            Some(serde_json::Value::String(s)) => Ok(s),
            Some(_) => Err(format!("`{name}` must be a string")),
            None => Err(format!("`{name}` is missing")),
        };
        let kind = take("type")?;
        let external_id = take("external_id")?;
        let store = if kind == "store" {
            None
        } else {
            Some(take("store")?)
        };
        let rest = serde_json::Value::Object(fields);
        let body = |e: serde_json::Error| e.to_string();
        Ok(match (kind.as_str(), store) {
            ("store", _) => ImportLine::Store {
                external_id,
                store: serde_json::from_value(rest).map_err(body)?,
            },
            ("user", Some(store)) => ImportLine::User {
                store,
                external_id,
                person: serde_json::from_value(rest).map_err(body)?,
            },
            ("customer", Some(store)) => ImportLine::Customer {
                store,
                external_id,
                person: serde_json::from_value(rest).map_err(body)?,
            },
            (other, _) => return Err(format!("unknown type `{other}`: store, user or customer")),
        })
    }
}

/// Applies one import line as the matching PUT would.
pub(crate) async fn import_line(
    db: &Db,
    by: String,
    line: ImportLine,
) -> Result<Upserted, AccountsError> {
    Ok(match line {
        ImportLine::Store { external_id, store } => put_store(db, by, &external_id, store).await?.1,
        ImportLine::User {
            store,
            external_id,
            person,
        } => put_staff(db, by, &store, &external_id, person).await?.1,
        ImportLine::Customer {
            store,
            external_id,
            person,
        } => put_customer(db, by, &store, &external_id, person).await?.1,
    })
}
