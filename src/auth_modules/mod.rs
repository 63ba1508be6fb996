//! Auth modules (Hub's name): signing in through another OpenID provider,
//! a plain OAuth 2.0 provider or an LDAP directory. `model` and `input`
//! say what a module is and what may be sent; `repo` keeps them;
//! `identities` decides who a sign-in through one is.
pub mod buttons;
pub mod identities;
pub mod input;
pub mod model;
pub mod repo;
pub mod upstream;
