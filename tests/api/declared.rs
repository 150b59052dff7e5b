//! Config as code (`cognate plan/apply/export`, issue 17): a file declaring two pools
//! with providers, clients, groups, users with other systems' password hashes and
//! external users is applied, and what it declares is what people meet: a
//! pre-declared Google user's first ID token carries the declared groups, a bcrypt
//! user signs in on the hosted page and is re-hashed. Then the file round-trips:
//! `plan` finds nothing to do, and export → empty database → apply → export gives
//! the same file.

use std::path::Path;

use cognate::declared::{Action, ExportOptions};
use serde_json::Value;

use crate::federation::{ADA_GOOGLE, Standins, federate};
use crate::helpers::{CALLBACK, Pkce, TestApp, browser, jwt_claims, location, query_param};

/// bcrypt (cost 4) of "Legacy-pass-1", as another system exported it.
const BCRYPT: &str = "$2b$04$Vw6eHfWo.rsJ/9mE5NHd4.MmbN/b0mimiu1NU2VRP2I4h4cxcY08O";
const WEB_CLIENT: &str = "webclient00000000000000001";

/// The file: the test app's own pool (so its server serves the declared client) and a
/// second pool made from nothing.
fn file(pool_id: &str, standins: &str, argon2: &str) -> String {
    format!(
        r#"
pools:
  - id: {pool_id}
    name: test pool
    settings:
      password_policy: {{minimum_length: 10}}
    schema:
      - {{name: "custom:team"}}
    ui_customization: {{css: ".banner-customizable {{ background: #123; }}", logo: "iVBORw0KGgoAAAANSUhEUg=="}}
    identity_providers:
      - name: Google
        type: Google
        client_id: google-client
        client_secret: file:google.secret
        authorize_url: {standins}/google/authorize
        token_url: {standins}/google/token
        attributes_url: {standins}/google/userinfo
        oidc_issuer: {standins}/google
        jwks_uri: {standins}/google/jwks
      - name: Facebook
        type: Facebook
        client_id: facebook-client
        client_secret: file:facebook.secret
        authorize_url: {standins}/facebook/dialog/oauth
        token_url: {standins}/facebook/oauth/access_token
        attributes_url: {standins}/facebook/me
    groups:
      - {{name: editors, precedence: 1}}
      - {{name: readers}}
    clients:
      - id: {WEB_CLIENT}
        name: web
        callback_urls: ["{CALLBACK}"]
        allowed_scopes: [openid, email, profile]
        supported_identity_providers: [COGNITO, Google, Facebook]
        ui_customization: {{css: ".submitButton-customizable {{ color: #fff; }}"}}
    users:
      - username: legacy
        attributes: {{email: legacy@example.com, email_verified: "true", "custom:team": red}}
        password_hash: "{BCRYPT}"
        groups: [readers]
      - username: moved
        password_hash: "{argon2}"
        groups: [editors, readers]
    external_users:
      - {{provider: Google, subject: "{ADA_GOOGLE}", groups: [editors], attributes: {{"custom:team": blue}}}}
      - {{provider: Facebook, email: grace@example.com, groups: [readers]}}
  - id: eu-west-1_Second001
    name: second
    groups:
      - {{name: ops}}
    clients:
      - name: cli
        secret: generate
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
    users:
      - username: operator
        attributes: {{email: ops@example.com}}
        status: RESET_REQUIRED
        groups: [ops]
"#
    )
}

fn write_file(dir: &Path, text: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("google.secret"), "google-secret\n").unwrap();
    std::fs::write(dir.join("facebook.secret"), "facebook-secret").unwrap();
    let path = dir.join("cognate.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn an_applied_file_is_what_people_sign_in_to_and_survives_a_move() {
    // Arrange
    let app = TestApp::spawn().await;
    let standins = Standins::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let argon2 = cognate::users::password::hash("Moved-pass-1")
        .await
        .unwrap();
    let path = write_file(dir.path(), &file(&app.pool_id, &standins.base, &argon2));
    let desired = cognate::declared::load(&path).unwrap();

    // Act: plan, apply, plan again.
    let planned = cognate::declared::plan(&app.state, &desired, false)
        .await
        .unwrap();
    let applied = cognate::declared::apply(&app.state, &desired, false)
        .await
        .unwrap();
    let again = cognate::declared::plan(&app.state, &desired, false)
        .await
        .unwrap();

    // Assert: the plan said what apply did; a second plan finds nothing.
    let objects = |pools: &[cognate::declared::PoolChanges]| -> Vec<String> {
        pools
            .iter()
            .flat_map(|p| {
                p.changes
                    .iter()
                    .map(|c| format!("{:?} {}", c.action, c.object))
            })
            .collect()
    };
    assert_eq!(objects(&planned), objects(&applied));
    assert!(
        objects(&applied).contains(&"Create client web".to_string()),
        "{:?}",
        objects(&applied)
    );
    assert!(objects(&applied).contains(&"Create pool second".to_string()));
    assert!(
        applied[0].changes.iter().any(|c| c.object == "pool" && matches!(&c.action, Action::Update(f) if f.contains(&"settings.password_policy.minimum_length".to_string()))),
        "{:?}",
        applied[0].changes
    );
    assert!(
        again.iter().all(|p| p.changes.is_empty()),
        "{:?}",
        objects(&again)
    );

    // The pre-declared Google user's very first ID token has the declared group.
    let client = app
        .state
        .store
        .client_by_id(&app.pool_id, WEB_CLIENT)
        .await
        .unwrap()
        .expect("the client has the id the file chose");
    let pkce = Pkce::new();
    let url = app.authorize_url(&client, Some(&pkce), &[("identity_provider", "Google")]);
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    let code = query_param(&location(&back), "code").expect("a code at the callback");
    let tokens: Value = app
        .exchange(&client, &code, Some(&pkce.verifier))
        .await
        .json()
        .await
        .unwrap();
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    let groups: Vec<&str> = claims["cognito:groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(groups.contains(&"editors"), "{groups:?}");
    assert_eq!(claims["custom:team"], "blue");

    // The bcrypt user signs in on the hosted page; the hash becomes argon2id.
    let pkce = Pkce::new();
    let callback = app
        .sign_in(
            &browser(),
            &app.authorize_url(&client, Some(&pkce), &[]),
            "legacy",
            "Legacy-pass-1",
        )
        .await;
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let legacy = app
        .state
        .store
        .user_by_name(&app.pool_id, "legacy")
        .await
        .unwrap()
        .unwrap();
    assert!(
        legacy
            .password_hash
            .as_deref()
            .unwrap()
            .starts_with("$argon2id$"),
        "re-hashed at the first sign-in"
    );
    // So does the user whose argon2id hash came from another cognate.
    let moved = app
        .sign_in(
            &browser(),
            &app.authorize_url(&client, Some(&Pkce::new()), &[]),
            "moved",
            "Moved-pass-1",
        )
        .await;
    assert!(moved.starts_with(CALLBACK), "{moved}");
    // Signing in changed hashes and made Ada a user, not what the file declares.
    let after = cognate::declared::plan(&app.state, &desired, false)
        .await
        .unwrap();
    assert!(
        after.iter().all(|p| p.changes.is_empty()),
        "{:?}",
        objects(&after)
    );

    // Export → an empty database → apply → export: the same file.
    let pools = vec![app.pool_id.clone(), "eu-west-1_Second001".to_string()];
    let options = ExportOptions {
        pools,
        with_password_hashes: true,
        secrets_dir: Some(dir.path().join("secrets")),
    };
    let first = cognate::declared::export(&app.state, &options)
        .await
        .unwrap();
    let exported = dir.path().join("exported.yaml");
    std::fs::write(
        &exported,
        serde_yaml_ng::to_string(&first.document).unwrap(),
    )
    .unwrap();
    let other = TestApp::spawn().await;
    let desired = cognate::declared::load(&exported).unwrap();
    cognate::declared::apply(&other.state, &desired, false)
        .await
        .unwrap();
    let second = cognate::declared::export(&other.state, &options)
        .await
        .unwrap();
    assert_eq!(first.document, second.document);
    // The moved confidential client kept its secret, so the app keeps working.
    let moved_client = other
        .state
        .store
        .client_by_id(&app.pool_id, &app.confidential.client_id)
        .await
        .unwrap()
        .unwrap();
    assert!(moved_client.verify_secret(&app.secret));
}

#[tokio::test]
async fn apply_changes_a_pool_whole_or_not_at_all() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    // Two users with one `sub`: nothing checks that before the database refuses the
    // second, after the group and the first user were written.
    let text = format!(
        r#"
pools:
  - id: {}
    name: test pool
    groups: [{{name: staff}}]
    users:
      - {{username: first, sub: "00000000-0000-4000-8000-000000000000", groups: [staff]}}
      - {{username: second, sub: "00000000-0000-4000-8000-000000000000"}}
"#,
        app.pool_id
    );
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, text).unwrap();
    let desired = cognate::declared::load(&path).unwrap();
    let err = cognate::declared::apply(&app.state, &desired, false)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("nothing in it was changed"),
        "{err:#}"
    );
    // Nothing of it landed: no group, no user "first".
    let store = &app.state.store;
    assert!(
        store
            .group_by_name(&app.pool_id, "staff")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .user_by_name(&app.pool_id, "first")
            .await
            .unwrap()
            .is_none()
    );
    // And the server still writes (the transaction is gone).
    app.create_user("after", cognate::users::UserStatus::Confirmed)
        .await;
}

#[tokio::test]
async fn prune_deletes_only_what_an_earlier_apply_declared() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    let write = |groups: &str| {
        std::fs::write(
            &path,
            format!(
                "pools:\n  - id: {}\n    name: test pool\n    groups: [{groups}]\n",
                app.pool_id
            ),
        )
        .unwrap();
        cognate::declared::load(&path).unwrap()
    };
    cognate::declared::apply(&app.state, &write("{name: a}, {name: b}"), false)
        .await
        .unwrap();
    // A group made another way is not the file's.
    cognate::groups::create(&app.state, &app.pool_id, "by-hand", None, None)
        .await
        .unwrap();
    let without_b = write("{name: a}");
    let kept = cognate::declared::apply(&app.state, &without_b, false)
        .await
        .unwrap();
    assert!(
        kept[0].changes.is_empty(),
        "without --prune nothing is deleted"
    );
    let pruned = cognate::declared::apply(&app.state, &without_b, true)
        .await
        .unwrap();
    let deleted: Vec<_> = pruned[0]
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.object.as_str())
        .collect();
    assert_eq!(deleted, ["group b"]);
    let names: Vec<String> = app
        .state
        .store
        .groups(&app.pool_id)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.group_name)
        .collect();
    assert!(names.contains(&"a".to_string()) && names.contains(&"by-hand".to_string()));
    assert!(!names.contains(&"b".to_string()));
    // A changed group is an update of the field that changed.
    let changed = cognate::declared::apply(&app.state, &write("{name: a, precedence: 3}"), true)
        .await
        .unwrap();
    assert_eq!(
        changed[0].changes[0].action,
        Action::Update(vec!["precedence".into()])
    );
    let a = app
        .state
        .store
        .group_by_name(&app.pool_id, "a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.precedence, Some(3));
    // Alice, the seeded clients and the hand-made group survived every prune.
    assert!(
        app.state
            .store
            .user_by_name(&app.pool_id, "alice")
            .await
            .unwrap()
            .is_some()
    );
}
