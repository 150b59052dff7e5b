//! The fixed test people every stand-in offers. Their subject ids are constants so a
//! test (or a developer's local database) can rely on them across restarts.

/// A test person, with the id each provider gives them.
#[derive(Debug, PartialEq, Eq)]
pub struct Identity {
    /// What the consent form and `GET …/decide?identity=` name them by.
    pub key: &'static str,
    pub name: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    pub email: Option<&'static str>,
    pub email_verified: bool,
    /// Google's `sub`: 21 digits.
    pub google_sub: &'static str,
    /// Facebook's app-scoped user id.
    pub facebook_id: &'static str,
    /// Login with Amazon's `user_id`: `amzn1.account.` and 28 characters.
    pub amazon_user_id: &'static str,
    /// Sign in with Apple's `sub`: team-scoped, `<6 digits>.<32 hex>.<4 digits>`.
    pub apple_sub: &'static str,
}

/// Ada has a verified email, Grace an unverified one, and Anon none at all: the three
/// cases a relying party must handle when it maps an email attribute.
pub const IDENTITIES: &[Identity] = &[
    Identity {
        key: "ada",
        name: "Ada Lovelace",
        given_name: "Ada",
        family_name: "Lovelace",
        email: Some("ada@example.com"),
        email_verified: true,
        google_sub: "100000000000000000001",
        facebook_id: "10150000000000001",
        amazon_user_id: "amzn1.account.ADA0000000000000000000000001",
        apple_sub: "000001.00000000000000000000000000000001.0001",
    },
    Identity {
        key: "grace",
        name: "Grace Hopper",
        given_name: "Grace",
        family_name: "Hopper",
        email: Some("grace@example.com"),
        email_verified: false,
        google_sub: "100000000000000000002",
        facebook_id: "10150000000000002",
        amazon_user_id: "amzn1.account.GRACE00000000000000000000002",
        apple_sub: "000001.00000000000000000000000000000002.0002",
    },
    Identity {
        key: "anon",
        name: "Anonymous Tester",
        given_name: "Anonymous",
        family_name: "Tester",
        email: None,
        email_verified: false,
        google_sub: "100000000000000000003",
        facebook_id: "10150000000000003",
        amazon_user_id: "amzn1.account.ANON000000000000000000000003",
        apple_sub: "000001.00000000000000000000000000000003.0003",
    },
];

/// The identity called `key`, if there is one.
pub fn identity(key: &str) -> Option<&'static Identity> {
    IDENTITIES.iter().find(|i| i.key == key)
}
