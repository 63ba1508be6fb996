//! What happens next for this browser and this authorization request: one
//! pure function over the checked request, the client, what was loaded
//! (the session, the guest, the stored consent) and the consent page's
//! answer. The handler renders its `Next`; a new way of signing in (a second
//! factor, step-up, another provider) is a new variant here and a new page,
//! not a new branch in the handler.
use chrono::NaiveDateTime;

use super::request::{AuthRequest, Credentials};
use crate::factors::amr::MFA;
use crate::oauth2::error::{ErrorCode, OAuthError};
use crate::registry::model::Service;
use crate::registry::repo::UnknownService;
use crate::sessions::repo::Session;
use crate::users::model::User;

/// The consent page's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Allow,
    Deny,
}

/// What `decide` reads. It holds no decision: `load` reads what the
/// request may need, `decide` picks.
#[derive(Debug)]
pub struct Loaded {
    /// The browser's live session, if any.
    pub session: Option<Known<Session>>,
    /// The guest, when the request may fall back to it (Hub's `skip`).
    pub guest: Option<Known<User>>,
    /// The `(id, name)` of each requested service, or the first unknown one.
    pub service_names: Result<Vec<(String, String)>, UnknownService>,
    /// The session's user has a second factor to step up with (read only
    /// when the request asks for two factors and the session used one).
    pub can_step_up: bool,
}

/// Someone the request may be for, and whether their stored consent covers
/// it (read only when the client asks users at all).
#[derive(Debug)]
pub struct Known<T> {
    pub item: T,
    pub consented: bool,
}

/// The next step.
#[derive(Debug)]
pub enum Next<'a> {
    /// To the sign-in page, coming back to this request.
    SignIn,
    /// Ask `user` on the consent page.
    AskConsent { user: &'a User },
    /// The request asks for two factors and `user` signed in with one:
    /// to the second-factor step, coming back to this request.
    StepUp { user: &'a User },
    /// The user said no: recorded, and `access_denied` to the client.
    Refused { user: &'a User },
    /// Issue the code and/or tokens.
    Issue(Issue<'a>),
    /// An error for the client, at its verified redirect URI.
    ToClient(OAuthError),
}

/// Who an allowed request is for, and what the consent page left to record.
#[derive(Debug, Clone)]
pub struct Issue<'a> {
    pub user: &'a User,
    pub auth_time: NaiveDateTime,
    /// The browser session's public id; none for the guest.
    pub sid: Option<&'a str>,
    /// How the session signed in (`amr`); none for the guest.
    pub amr: Option<&'a str>,
    /// Store the consent just given (never the guest's).
    pub record_consent: bool,
    /// The user allowed on the consent page just now (for the audit trail).
    pub consent_given: bool,
}

/// The session, when it may answer this request: a consent page's answer
/// comes from a signed-in page, so any live session does, and so does a
/// sign-in made after the request was pushed; otherwise not when the
/// request forces a new sign-in or the sign-in is older than `max_age`.
fn usable_session<'a>(
    request: &AuthRequest,
    session: Option<&'a Session>,
    answer: Option<Answer>,
    now: NaiveDateTime,
) -> Option<&'a Session> {
    let stale = |auth_time: NaiveDateTime| {
        request
            .max_age
            .is_some_and(|age| (now - auth_time).num_seconds() > age)
    };
    let since_asked = |auth_time| request.asked_at.is_some_and(|asked| auth_time >= asked);
    session.filter(|s| {
        answer.is_some()
            || since_asked(s.auth_time)
            || (request.credentials != Credentials::Required && !stale(s.auth_time))
    })
}

/// Whether a session's `amr` says two factors.
pub fn signed_in_with_two_factors(amr: Option<&str>) -> bool {
    amr.is_some_and(|methods| methods.split_whitespace().any(|m| m == MFA))
}

/// Whether the client asks its users at all; a stored consent covering the
/// request then spares them the page, unless the request forces it.
pub fn client_asks_consent(client: &Service) -> bool {
    !client.trusted && client.consent_required
}

pub fn decide<'a>(
    request: &AuthRequest,
    client: &Service,
    loaded: &'a Loaded,
    answer: Option<Answer>,
    now: NaiveDateTime,
) -> Next<'a> {
    if let Err(unknown) = &loaded.service_names {
        return Next::ToClient(OAuthError::invalid_scope(unknown.to_string()));
    }
    let session = loaded
        .session
        .as_ref()
        .filter(|known| usable_session(request, Some(&known.item), answer, now).is_some());
    let (who, consented) = match session {
        Some(Known {
            item: session,
            consented,
        }) => (
            Issue {
                user: &session.user,
                auth_time: session.auth_time,
                sid: session.sid.as_deref(),
                amr: Some(session.amr.as_str()),
                record_consent: false,
                consent_given: false,
            },
            *consented,
        ),
        None => match (request.credentials, &loaded.guest) {
            (Credentials::Silent, _) => {
                return Next::ToClient(OAuthError::new(
                    ErrorCode::LoginRequired,
                    "nobody is signed in",
                ))
            }
            (
                Credentials::Skip,
                Some(Known {
                    item: guest,
                    consented,
                }),
            ) => (
                Issue {
                    user: guest,
                    auth_time: now,
                    sid: None,
                    amr: None,
                    record_consent: false,
                    consent_given: false,
                },
                *consented,
            ),
            _ => return Next::SignIn,
        },
    };
    if request.requires_mfa && !signed_in_with_two_factors(who.amr) {
        return match (request.credentials, who.user.guest || !loaded.can_step_up) {
            (_, true) => Next::ToClient(OAuthError::new(
                ErrorCode::UnmetAuthenticationRequirements,
                "the request asks for two factors and the user has no second factor",
            )),
            (Credentials::Silent, false) => Next::ToClient(OAuthError::new(
                ErrorCode::LoginRequired,
                "the request asks for two factors and the session used one",
            )),
            (_, false) => Next::StepUp { user: who.user },
        };
    }
    let consent_needed = client_asks_consent(client) && (request.force_consent || !consented);
    match answer {
        Some(Answer::Deny) => Next::Refused { user: who.user },
        // The guest is never asked (below), so an answer in its name is
        // nobody's.
        Some(Answer::Allow) if who.user.guest && consent_needed => Next::ToClient(OAuthError::new(
            ErrorCode::ConsentRequired,
            "the guest cannot allow access",
        )),
        Some(Answer::Allow) => Next::Issue(Issue {
            record_consent: !who.user.guest,
            consent_given: true,
            ..who
        }),
        None if !consent_needed => Next::Issue(who),
        None if request.credentials == Credentials::Silent || who.user.guest => {
            Next::ToClient(OAuthError::new(
                ErrorCode::ConsentRequired,
                "the user has not allowed this access yet",
            ))
        }
        None => Next::AskConsent { user: who.user },
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::oauth2::authorize::request::{check, AuthorizationRequest};

    fn now() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .map(|t| t.naive_utc())
            .unwrap_or_default()
    }

    fn client(trusted: bool) -> Service {
        let mut client = Service::new("App".into(), "hash".into(), now());
        client.trusted = trusted;
        client.consent_required = true;
        client
    }

    fn request(extra: &[(&str, &str)]) -> AuthRequest {
        let mut pairs = vec![("response_type", "code"), ("scope", "openid")];
        pairs.extend_from_slice(extra);
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let sent: AuthorizationRequest = crate::oauth2::from_params(&pairs).unwrap();
        check(
            &client(false),
            "https://app.example/cb".into(),
            &sent,
            &Default::default(),
        )
        .unwrap()
    }

    fn user(login: &str, guest: bool) -> User {
        User {
            id: format!("id-{login}"),
            login: login.into(),
            name: login.into(),
            email: None,
            password_hash: None,
            admin: false,
            guest,
            banned: false,
            created: now(),
            updated: now(),
        }
    }

    fn session(signed_in_ago: i64) -> Session {
        Session {
            user: user("ann", false),
            auth_time: now() - Duration::seconds(signed_in_ago),
            sid: Some("sid-1".into()),
            amr: "pwd".into(),
        }
    }

    fn loaded(session: Option<Session>, guest: bool, consented: bool) -> Loaded {
        Loaded {
            session: session.map(|item| Known { item, consented }),
            guest: guest.then(|| Known {
                item: user("guest", true),
                consented,
            }),
            service_names: Ok(Vec::new()),
            can_step_up: false,
        }
    }

    /// Signed in with `amr`; whether the user has a second factor.
    fn signed_in_with(amr: &str, can_step_up: bool) -> Loaded {
        let session = Session {
            amr: amr.into(),
            ..session(60)
        };
        Loaded {
            can_step_up,
            ..loaded(Some(session), false, true)
        }
    }

    /// The outcome's name, so a table can list them.
    fn outcome(next: &Next<'_>) -> String {
        match next {
            Next::SignIn => "sign in".into(),
            Next::AskConsent { user } => format!("ask {}", user.login),
            Next::StepUp { user } => format!("step up {}", user.login),
            Next::Refused { user } => format!("refused by {}", user.login),
            Next::Issue(issue) => format!(
                "issue to {}{}{}",
                issue.user.login,
                if issue.record_consent { ", record" } else { "" },
                if issue.consent_given { ", given" } else { "" }
            ),
            Next::ToClient(error) => format!("error {}", error.code_name()),
        }
    }

    /// Name, extra parameters, trusted client, what was loaded, the consent
    /// page's answer, the outcome.
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        bool,
        Loaded,
        Option<Answer>,
        &'a str,
    );

    #[test]
    fn the_table_of_cases() {
        let signed_in = || Some(session(60));
        #[rustfmt::skip]
        let cases: Vec<Case<'_>> = vec![
            ("nobody signed in", &[], false, loaded(None, false, false), None, "sign in"),
            ("nobody, prompt=none", &[("prompt", "none")], false, loaded(None, false, false), None, "error login_required"),
            ("nobody, skip, guest", &[("request_credentials", "skip")], false, loaded(None, true, false), None, "error consent_required"),
            ("nobody, skip, guest, trusted", &[("request_credentials", "skip")], true, loaded(None, true, false), None, "issue to guest"),
            ("nobody, skip, no guest", &[("request_credentials", "skip")], true, loaded(None, false, false), None, "sign in"),
            ("signed in, no consent", &[], false, loaded(signed_in(), false, false), None, "ask ann"),
            ("signed in, consented", &[], false, loaded(signed_in(), false, true), None, "issue to ann"),
            ("signed in, trusted", &[], true, loaded(signed_in(), false, false), None, "issue to ann"),
            ("signed in, prompt=consent", &[("prompt", "consent")], false, loaded(signed_in(), false, true), None, "ask ann"),
            ("signed in, prompt=consent, trusted", &[("prompt", "consent")], true, loaded(signed_in(), false, true), None, "issue to ann"),
            ("signed in, prompt=none, no consent", &[("prompt", "none")], false, loaded(signed_in(), false, false), None, "error consent_required"),
            ("signed in, prompt=login", &[("prompt", "login")], true, loaded(signed_in(), false, true), None, "sign in"),
            ("signed in, required", &[("request_credentials", "required")], true, loaded(signed_in(), false, true), None, "sign in"),
            ("signed in, max_age met", &[("max_age", "120")], true, loaded(signed_in(), false, true), None, "issue to ann"),
            ("signed in, max_age passed", &[("max_age", "30")], true, loaded(signed_in(), false, true), None, "sign in"),
            ("max_age passed, prompt=none", &[("max_age", "30"), ("prompt", "none")], true, loaded(signed_in(), false, true), None, "error login_required"),
            ("allowed", &[], false, loaded(signed_in(), false, false), Some(Answer::Allow), "issue to ann, record, given"),
            ("allowed, sign-in then stale", &[("max_age", "1")], false, loaded(signed_in(), false, false), Some(Answer::Allow), "issue to ann, record, given"),
            ("denied", &[], false, loaded(signed_in(), false, false), Some(Answer::Deny), "refused by ann"),
            ("allowed, signed out meanwhile", &[], false, loaded(None, false, false), Some(Answer::Allow), "sign in"),
            ("guest allowed, not asked", &[("request_credentials", "skip")], false, loaded(None, true, false), Some(Answer::Allow), "error consent_required"),
            ("guest allowed, trusted: not recorded", &[("request_credentials", "skip")], true, loaded(None, true, false), Some(Answer::Allow), "issue to guest, given"),
            ("skip with a stale session: the guest's consent", &[("request_credentials", "skip"), ("max_age", "30")], false, Loaded { session: Some(Known { item: session(60), consented: true }), ..loaded(None, true, false) }, None, "error consent_required"),
        ];
        let mfa = [("acr_values", "mfa")];
        let essential = [(
            "claims",
            r#"{"id_token":{"acr":{"essential":true,"values":["mfa"]}}}"#,
        )];
        #[rustfmt::skip]
        let step_up: Vec<Case<'_>> = vec![
            ("mfa asked, password session, a factor", &mfa, true, signed_in_with("pwd", true), None, "step up ann"),
            ("mfa asked, password session, no factor", &mfa, true, signed_in_with("pwd", false), None, "error unmet_authentication_requirements"),
            ("mfa asked, two-factor session", &mfa, true, signed_in_with("pwd otp mfa", false), None, "issue to ann"),
            ("mfa asked, passkey session", &mfa, true, signed_in_with("hwk mfa", false), None, "issue to ann"),
            ("mfa asked, prompt=none", &[("acr_values", "mfa"), ("prompt", "none")], true, signed_in_with("pwd", true), None, "error login_required"),
            ("pwd or mfa asked", &[("acr_values", "pwd mfa")], true, signed_in_with("pwd", true), None, "issue to ann"),
            ("an unknown acr value", &[("acr_values", "urn:gold")], true, signed_in_with("pwd", true), None, "issue to ann"),
            ("essential acr mfa", &essential, true, signed_in_with("pwd", true), None, "step up ann"),
            ("the consent answer of a password session", &mfa, false, signed_in_with("pwd", true), Some(Answer::Allow), "step up ann"),
            ("mfa asked, nobody", &mfa, true, loaded(None, false, false), None, "sign in"),
            ("mfa asked, the guest", &[("acr_values", "mfa"), ("request_credentials", "skip")], true, loaded(None, true, false), None, "error unmet_authentication_requirements"),
        ];
        for (name, extra, trusted, loaded, answer, expected) in cases.into_iter().chain(step_up) {
            let next = decide(&request(extra), &client(trusted), &loaded, answer, now());
            assert_eq!(outcome(&next), expected, "{name}");
        }
    }

    #[test]
    fn a_sign_in_after_the_push_answers_a_pushed_prompt_login_and_max_age() {
        for extra in [("prompt", "login"), ("max_age", "0")] {
            let pushed_at = |ago: i64| AuthRequest {
                asked_at: Some(now() - Duration::seconds(ago)),
                ..request(&[extra])
            };
            let loaded = loaded(Some(session(60)), false, true);
            let after = decide(&pushed_at(120), &client(true), &loaded, None, now());
            assert_eq!(outcome(&after), "issue to ann", "{extra:?}");
            let before = decide(&pushed_at(30), &client(true), &loaded, None, now());
            assert_eq!(outcome(&before), "sign in", "{extra:?}");
        }
    }

    #[test]
    fn an_unknown_service_in_the_scope_goes_back_to_the_client_first() {
        let loaded = Loaded {
            service_names: Err(UnknownService("nope".into())),
            ..loaded(None, false, false)
        };
        let next = decide(&request(&[]), &client(false), &loaded, None, now());
        assert_eq!(outcome(&next), "error invalid_scope");
    }

    #[test]
    fn the_session_answers_with_its_sign_in_time_and_sid() {
        let loaded = loaded(Some(session(60)), false, true);
        let Next::Issue(issue) = decide(&request(&[]), &client(false), &loaded, None, now()) else {
            panic!("issues")
        };
        assert_eq!(issue.auth_time, now() - Duration::seconds(60));
        assert_eq!(issue.sid, Some("sid-1"));
    }
}
