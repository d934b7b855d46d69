//! Every area's account page: the signed-in person's unread messages, name and page language.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::accounts::{self, Profile};
use crate::auth::extract::AreaUser;
use crate::error::AppError;
use crate::http::pages::{Chrome, chrome, page_user, render_page};
use crate::state::AppState;

#[derive(Serialize)]
struct AccountPage {
    #[serde(flatten)]
    chrome: Chrome,
    profile: Profile,
}

/// `/{area}/account`: the account page of the area of `U`.
pub(crate) async fn account<U: AreaUser>(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let url = match U::AREA {
        crate::domain::Area::Shop => "/shop/account",
        crate::domain::Area::Vendor => "/vendor/account",
        crate::domain::Area::Admin => "/admin/account",
    };
    let (auth, chrome) = signed_in!(state, req, U::AREA, "nav-account", url);
    let actor = auth.actor;
    let profile = state
        .db
        .read(move |conn| accounts::profile(conn, &actor))
        .await?;
    Ok(render_page(
        &state,
        "account.html",
        &AccountPage { chrome, profile },
    ))
}
