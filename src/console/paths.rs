//! Console paths built from names: usernames (and `sub`s in queries) go in
//! percent-encoded, so any name Cognito allows (`@`, `+`, spaces…) makes a working link.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a path segment keeps as it is: letters, digits, `-`, `_` and `~` (a `.` is
/// encoded, so no name makes a `..` segment).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// A path segment, percent-encoded.
pub fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// The console path of a pool's user.
pub fn user_path(pool_id: &str, username: &str) -> String {
    format!(
        "/admin/pools/{}/users/{}",
        segment(pool_id),
        segment(username)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_paths_encode_every_special_character() {
        assert_eq!(
            user_path("us-east-1_abc", "a b@c/../d?e#f"),
            "/admin/pools/us-east-1_abc/users/a%20b%40c%2F%2E%2E%2Fd%3Fe%23f"
        );
    }
}
