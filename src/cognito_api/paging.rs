//! One paging scheme for every `List*` action. A page continues strictly after the
//! last key of the page before it; its token is that key sealed with the master key
//! and bound to the listing it came from: the action and what selects its items (the
//! pool, a filter, a group or a user). A token that was altered, made up, or comes
//! from another listing (another action, pool, filter, group or user) is refused with
//! `InvalidParameterException`.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::management::existing_pool;
use super::{CognitoError, parse};
use crate::crypto::MasterKey;
use crate::pool::Pool;
use crate::state::Inner;
use crate::store::PageAt;

/// The largest page most lists return, and the size when none is asked for.
pub(super) const MAX_PAGE: i64 = 60;

/// The page a `List*` request asks for.
pub(super) struct Paging<'a> {
    master: &'a MasterKey,
    /// What the tokens are bound to.
    listing: String,
    /// The key the page starts after; none for the first page.
    after: Option<String>,
    size: usize,
    /// The member the next page's token goes in.
    token_member: &'static str,
}

impl<'a> Paging<'a> {
    /// The page of `listing` (the action's name, then what selects its items) that
    /// `token` continues, of `size` items.
    pub(super) fn new(
        master: &'a MasterKey,
        listing: &[&str],
        token: Option<&str>,
        size: usize,
    ) -> Result<Self, CognitoError> {
        // Each part is length-prefixed, so no two listings bind alike.
        let listing: String = listing
            .iter()
            .map(|part| format!("{}:{part}\n", part.len()))
            .collect();
        let after = token.map(|t| open(master, &listing, t)).transpose()?;
        Ok(Self {
            master,
            listing,
            after,
            size,
            token_member: "NextToken",
        })
    }

    /// The same page, answering its token in `member` (`ListUsers`' `PaginationToken`).
    pub(super) fn token_in(self, member: &'static str) -> Self {
        Self {
            token_member: member,
            ..self
        }
    }

    /// The key the page starts after; none for the first page.
    pub(super) fn after(&self) -> Option<&str> {
        self.after.as_deref()
    }

    /// How many items the page holds at most.
    pub(super) fn size(&self) -> usize {
        self.size
    }

    /// What to read for this page in `pool_id`: one item more than it holds, to know
    /// whether another page follows.
    pub(super) fn at<'p>(&'p self, pool_id: Option<&'p str>) -> PageAt<'p> {
        PageAt {
            pool_id,
            after: self.after().unwrap_or(""),
            limit: i64::try_from(self.size).map_or(i64::MAX, |n| n.saturating_add(1)),
        }
    }

    /// The answer from what [`Self::at`] read: at most a page of items under
    /// `member`, each shaped by `shape`, and a token when another page follows.
    pub(super) fn answer_read<T>(
        &self,
        member: &str,
        mut read: Vec<T>,
        key: impl Fn(&T) -> &str,
        shape: impl Fn(&T) -> Value,
    ) -> Value {
        let more = read.len() > self.size;
        read.truncate(self.size);
        let next = read.last().filter(|_| more).map(key);
        self.answer(member, read.iter().map(shape).collect(), next)
    }

    /// The answer: `items` under `member`, and a token for the page after `next`
    /// when there is one.
    pub(super) fn answer(&self, member: &str, items: Vec<Value>, next: Option<&str>) -> Value {
        let mut out = Map::new();
        out.insert(member.into(), Value::Array(items));
        if let Some(key) = next {
            let token = URL_SAFE_NO_PAD.encode(self.master.seal(&self.listing, key.as_bytes()));
            out.insert(self.token_member.into(), Value::String(token));
        }
        Value::Object(out)
    }
}

/// The key in `token`, if it was sealed for `listing`.
fn open(master: &MasterKey, listing: &str, token: &str) -> Result<String, CognitoError> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|sealed| master.open(listing, &sealed).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|key| !key.is_empty())
        .ok_or_else(|| CognitoError::invalid("Invalid pagination token."))
}

/// A page size within the model's bounds (`min` to `max`); none, or 0 where the model
/// allows it, means `max`. `field` names the member in the message.
pub(super) fn page_size(
    requested: Option<i64>,
    field: &str,
    min: i64,
    max: i64,
) -> Result<usize, CognitoError> {
    let size = match requested {
        None => max,
        Some(0) if min == 0 => max,
        Some(n) if (1..=max).contains(&n) => n,
        Some(n) => {
            return Err(CognitoError::invalid(format!(
                "1 validation error detected: Value '{n}' at '{field}' failed to satisfy \
                 constraint: Member must have value between {min} and {max}"
            )));
        }
    };
    Ok(usize::try_from(size).unwrap_or(0))
}

/// A pool's `List*` action: its name, and its page-size member with the model's
/// bounds.
pub(super) struct PoolListing {
    action: &'static str,
    size_member: &'static str,
    min: i64,
    max: i64,
}

/// The members every pool listing shares; the page size is read by its name.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolListRequest {
    user_pool_id: String,
    next_token: Option<String>,
    #[serde(flatten)]
    others: BTreeMap<String, Value>,
}

impl PoolListing {
    pub(super) const fn new(
        action: &'static str,
        size_member: &'static str,
        min: i64,
        max: i64,
    ) -> Self {
        Self {
            action,
            size_member,
            min,
            max,
        }
    }

    /// The pool a request lists in, and the page it asks for.
    pub(super) async fn open<'a>(
        &self,
        app: &'a Inner,
        request: &Value,
    ) -> Result<(Pool, Paging<'a>), CognitoError> {
        let req: PoolListRequest = parse(request)?;
        let pool = existing_pool(app, &req.user_pool_id).await?;
        let requested = req.others.get(self.size_member).cloned();
        let requested: Option<i64> = parse(&requested.unwrap_or(Value::Null))?;
        // The model's member names start in lower case (`maxResults`).
        let mut field = self.size_member.to_string();
        field[..1].make_ascii_lowercase();
        let size = page_size(requested, &field, self.min, self.max)?;
        let token = req.next_token.as_deref();
        let paging = Paging::new(
            app.keys.master(),
            &[self.action, &pool.pool_id],
            token,
            size,
        )?;
        Ok((pool, paging))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> MasterKey {
        MasterKey::from_base64(&MasterKey::generate_base64()).unwrap()
    }

    // Matrix: LU-03
    #[test]
    fn a_token_round_trips_only_for_its_listing_and_garbage_is_refused() {
        let master = master();
        let listing = ["ListUsers", "pool-a", ""];
        let first = Paging::new(&master, &listing, None, 1).unwrap();
        assert_eq!(first.after(), None);
        let answer = first.answer("Users", Vec::new(), Some("ünïcode-user"));
        let token = answer["NextToken"].as_str().unwrap();
        let next = Paging::new(&master, &listing, Some(token), 1).unwrap();
        assert_eq!(next.after(), Some("ünïcode-user"));
        let plain = URL_SAFE_NO_PAD.encode("ünïcode-user");
        let refused: [(&[&str], &str); 7] = [
            (&["ListUsers", "pool-b", ""], token),
            (&["ListUsers", "pool-a", "username = \"x\""], token),
            (&["ListGroups", "pool-a"], token),
            (&["ListUsers", "pool-a\n", ""], token),
            (&listing, "***"),
            (&listing, ""),
            (&listing, &plain),
        ];
        for (other, bad) in refused {
            let Err(err) = Paging::new(&master, other, Some(bad), 1) else {
                panic!("{other:?} took {bad:?}");
            };
            assert_eq!(err.kind, "InvalidParameterException", "{bad}");
        }
        let Err(err) = Paging::new(&self::master(), &listing, Some(token), 1) else {
            panic!("another master key's token was taken");
        };
        assert_eq!(err.kind, "InvalidParameterException");
    }

    #[test]
    fn a_read_is_cut_to_the_page_with_a_token_only_when_more_follow() {
        let master = master();
        let paging = Paging::new(&master, &["ListGroups", "p"], None, 2).unwrap();
        assert_eq!(paging.at(Some("p")).limit, 3);
        let read = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        let full = paging.answer_read("Groups", read(&["a", "b", "c"]), |s| s, |s| s[..].into());
        assert_eq!(full["Groups"], serde_json::json!(["a", "b"]));
        let token = full["NextToken"].as_str().unwrap();
        let next = Paging::new(&master, &["ListGroups", "p"], Some(token), 2).unwrap();
        assert_eq!(next.at(Some("p")).after, "b");
        let last = paging.answer_read("Groups", read(&["c"]), |s| s, |s| s[..].into());
        assert_eq!(last, serde_json::json!({ "Groups": ["c"] }));
        let users = paging
            .token_in("PaginationToken")
            .answer("Users", vec![], Some("x"));
        assert!(users.get("PaginationToken").is_some() && users.get("NextToken").is_none());
    }

    #[test]
    fn page_sizes_keep_to_the_models_bounds() {
        assert_eq!(page_size(None, "limit", 0, 60).unwrap(), 60);
        assert_eq!(page_size(Some(0), "limit", 0, 60).unwrap(), 60);
        assert!(page_size(Some(0), "maxResults", 1, 60).is_err());
        assert!(page_size(Some(61), "maxResults", 1, 60).is_err());
        assert!(page_size(Some(51), "maxResults", 1, 50).is_err());
        assert_eq!(page_size(Some(3), "maxResults", 1, 60).unwrap(), 3);
        assert_eq!(page_size(None, "maxResults", 1, 50).unwrap(), 50);
    }
}
