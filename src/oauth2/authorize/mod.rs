//! The authorization endpoint's protocol, free of HTTP: the request as it
//! comes on the wire and its checks (`request`), what is loaded for it
//! (`load`, two database visits), the one decision of what happens next for
//! this browser and this request (`decision`, pure), and what an allowed
//! request leaves in the database (`record`).
pub mod decision;
pub mod load;
pub mod record;
pub mod request;

pub use decision::{decide, Answer, Issue, Loaded, Next};
pub use load::{load, open, Opened};
pub use record::{record_authorization, Allowed};
pub use request::{
    check, redirect_uri_for, AuthRequest, AuthorizationRequest, Credentials, PushedParameters,
    ResponseMode, ResponseType, Target,
};
