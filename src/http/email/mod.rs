//! Email API: platform templates (admin), store overrides (vendor), previews, the email log, and
//! the public one-click unsubscribe.

mod logs;
mod overrides;
mod templates;
mod unsubscribe;

pub(crate) use logs::*;
pub(crate) use overrides::*;
pub(crate) use templates::*;
pub(crate) use unsubscribe::*;
