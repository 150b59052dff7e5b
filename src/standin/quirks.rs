//! Deliberate faults a test can ask for at `…/decide` (`quirk=`), so a relying party's
//! checks of OIDC Core §3.1.3.7 (ID token validation) can be shown to refuse them.

/// One deliberate fault in what the stand-in returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quirk {
    /// `aud` is `someone-else`.
    WrongAud,
    /// `iss` is `{base}/evil`.
    WrongIss,
    /// Signed by an unpublished key that claims the published key's `kid`.
    BadSignature,
    /// `nonce` is `not-the-nonce`.
    WrongNonce,
    /// `iat` and `exp` are two hours ago.
    Expired,
    /// No email in the ID token or profile, as when a user withholds it.
    NoEmail,
}

impl Quirk {
    /// Every quirk, as named on the wire.
    pub const ALL: [(&'static str, Quirk); 6] = [
        ("wrong_aud", Quirk::WrongAud),
        ("wrong_iss", Quirk::WrongIss),
        ("bad_signature", Quirk::BadSignature),
        ("wrong_nonce", Quirk::WrongNonce),
        ("expired", Quirk::Expired),
        ("no_email", Quirk::NoEmail),
    ];

    /// The quirk called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, q)| *q)
    }

    /// The name on the wire.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, q)| *q == self)
            .map_or("", |(n, _)| n)
    }

    /// Whether the quirk concerns the ID token, which only the OIDC stand-in issues.
    pub fn is_id_token_only(self) -> bool {
        self != Quirk::NoEmail
    }
}
