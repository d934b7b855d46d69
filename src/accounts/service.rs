//! The account use cases: a customer registering themselves, and staff or admins adding a
//! customer or a staff member. Each checks its input, hashes the password on the hashing threads
//! and writes in one transaction, with the emails and the session that go with it.

use serde::Deserialize;
use tracing::instrument;

use super::AccountsError;
use super::{Customer, NewCustomer, NewUser, PersonPatch, Profile, User};
use crate::auth::session::{self, NewSession, Principal, SessionKind};
use crate::domain::{self, Actor, Invalid};

pub(crate) use super::Context;

/// A person's details as given, not yet checked.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PersonInput {
    pub email: String,
    pub password: Option<String>,
    pub full_name: String,
    pub language: Option<String>,
}

/// The checked details: email lowercased, name on one line, a known language.
struct Person {
    email: String,
    full_name: String,
    language: String,
}

const NAME_MAX: usize = 255;

fn checked(input: &PersonInput) -> Result<Person, Invalid> {
    Ok(Person {
        email: domain::clean_email("email", &input.email)?.to_ascii_lowercase(),
        full_name: domain::clean_line("full_name", &input.full_name, NAME_MAX)?,
        language: domain::clean_language("language", input.language.as_deref().unwrap_or("en"))?,
    })
}

/// Changes to a person as given (any subset); checked before anything is written.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonChange {
    pub full_name: Option<String>,
    pub language: Option<String>,
    pub is_active: Option<bool>,
}

impl PersonChange {
    fn checked(self) -> Result<PersonPatch, Invalid> {
        Ok(PersonPatch {
            full_name: self
                .full_name
                .map(|n| domain::clean_line("full_name", &n, NAME_MAX))
                .transpose()?,
            language: self
                .language
                .map(|l| domain::clean_language("language", &l))
                .transpose()?,
            is_active: self.is_active,
        })
    }
}

/// Renames, relanguages, disables or enables a staff member of a store.
pub(crate) async fn update_store_user(
    ctx: &Context,
    store_id: i64,
    user_id: i64,
    change: PersonChange,
) -> Result<User, AccountsError> {
    let patch = change.checked()?;
    ctx.db
        .write(move |tx| super::update_store_user(tx, store_id, user_id, &patch))
        .await
}

/// Renames, relanguages, disables or enables a customer of a store.
pub(crate) async fn update_customer(
    ctx: &Context,
    store_id: i64,
    customer_id: i64,
    change: PersonChange,
) -> Result<Customer, AccountsError> {
    let patch = change.checked()?;
    ctx.db
        .write(move |tx| super::update_customer(tx, store_id, customer_id, &patch))
        .await
}

/// The signed-in person changes their own name or language (not whether they are active).
pub(crate) async fn update_own_profile(
    ctx: &Context,
    actor: Actor,
    change: PersonChange,
) -> Result<Profile, AccountsError> {
    if change.is_active.is_some() {
        return Err(Invalid::new("is_active", "cannot be changed on your own account").into());
    }
    let patch = change.checked()?;
    ctx.db
        .write(move |tx| super::update_profile(tx, &actor, &patch))
        .await
}

/// The password's hash, when one was given (already checked).
async fn hash_of(ctx: &Context, password: Option<String>) -> Result<Option<String>, AccountsError> {
    match password {
        Some(password) => Ok(Some(ctx.hasher.hash(password).await?)),
        None => Ok(None),
    }
}

/// What a registration came to: signed in, or (when the platform asks for an email check) waiting
/// for the customer to follow the link sent to them.
pub(crate) enum Registered {
    SignedIn(Customer, NewSession),
    CheckEmail(Customer),
}

/// A customer registers with a store (by its code): the account, its first session and the
/// welcome email commit together; or, when the platform asks for an email check, the account and
/// the email with the link that opens it.
#[instrument(skip_all)]
pub(crate) async fn register_customer(
    ctx: &Context,
    store_code: &str,
    input: PersonInput,
    kind: SessionKind,
) -> Result<Registered, AccountsError> {
    let person = checked(&input)?;
    domain::check_password("password", input.password.as_deref().unwrap_or_default())?;
    let store_code = store_code.trim().to_string();
    let code = store_code.clone();
    let store = ctx
        .db
        .read(move |conn| super::find_active_store_by_code(conn, &code))
        .await?
        .ok_or_else(|| Invalid::new("store_code", "no such store"))?;
    let hash = hash_of(ctx, input.password).await?;
    let (ttl, settings) = (ctx.settings.auth.session_ttl_hours, ctx.settings.clone());
    let registered = ctx
        .db
        .write(move |tx| {
            let customer = super::insert_customer(tx, &new_customer(store.id, &person, &hash))?;
            if crate::platform::email_verification_required(tx)? {
                tx.execute(
                    "UPDATE customers SET email_unverified = 1 WHERE id = ?1",
                    [customer.id],
                )?;
                super::recovery::send_verification(tx, &settings, &customer, &store_code)?;
                return Ok::<_, AccountsError>(Registered::CheckEmail(customer));
            }
            let session = session::create(tx, Principal::Customer(customer.id), kind, ttl)?;
            crate::email::notify::signup_welcome(tx, &settings, &customer, &store)?;
            Ok(Registered::SignedIn(customer, session))
        })
        .await?;
    let customer = match &registered {
        Registered::SignedIn(customer, _) | Registered::CheckEmail(customer) => customer,
    };
    tracing::info!(
        customer_id = customer.id,
        store_id = customer.store_id,
        checking_email = matches!(registered, Registered::CheckEmail(_)),
        "customer registered"
    );
    Ok(registered)
}

/// Staff (their own store) or an admin (any store) add a customer; without a password the
/// customer cannot log in until one is set.
#[instrument(skip_all, fields(store_id))]
pub(crate) async fn create_customer(
    ctx: &Context,
    store_id: i64,
    input: PersonInput,
) -> Result<Customer, AccountsError> {
    let person = checked(&input)?;
    if let Some(password) = &input.password {
        domain::check_password("password", password)?;
    }
    let hash = hash_of(ctx, input.password).await?;
    let customer = ctx
        .db
        .write(move |tx| {
            super::get_store(tx, store_id)?;
            super::insert_customer(tx, &new_customer(store_id, &person, &hash))
        })
        .await?;
    tracing::info!(customer_id = customer.id, "customer created");
    Ok(customer)
}

/// An admin adds a staff member to a store.
#[instrument(skip_all, fields(store_id))]
pub(crate) async fn create_store_user(
    ctx: &Context,
    store_id: i64,
    input: PersonInput,
) -> Result<User, AccountsError> {
    let person = checked(&input)?;
    domain::check_password("password", input.password.as_deref().unwrap_or_default())?;
    // A missing store is answered before any time goes into hashing.
    ctx.db
        .read(move |conn| super::get_store(conn, store_id))
        .await?;
    let hash = hash_of(ctx, input.password).await?.unwrap_or_default();
    let user = ctx
        .db
        .write(move |tx| {
            super::get_store(tx, store_id)?;
            super::insert_user(
                tx,
                &NewUser {
                    email: &person.email,
                    password_hash: &hash,
                    full_name: &person.full_name,
                    store_id: Some(store_id),
                    language: &person.language,
                },
            )
        })
        .await?;
    tracing::info!(user_id = user.id, "store user created");
    Ok(user)
}

fn new_customer<'a>(
    store_id: i64,
    person: &'a Person,
    hash: &'a Option<String>,
) -> NewCustomer<'a> {
    NewCustomer {
        store_id,
        email: &person.email,
        password_hash: hash.as_deref(),
        full_name: &person.full_name,
        language: &person.language,
    }
}
