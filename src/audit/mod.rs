//! The audit trail: every security event and admin change, stored in the
//! database with when, who, which service and user, and from where; never a
//! secret, token, code or password. Admin changes are written in the
//! transaction of the change itself, so one is never without the other;
//! events of the hot paths (a token issued) go through `Recorder`, which
//! writes them in batches off the request path.
pub mod event;
pub mod query;
pub mod recorder;
pub mod store;

pub use event::{Actor, Caller, Event, Kind, Origin};
pub use recorder::Recorder;
