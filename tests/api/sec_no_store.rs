//! Security matrix row PR-10 (issue 12, in part): answers that carry tokens, challenge
//! sessions or user attributes are never cached (`Cache-Control: no-store`, and
//! `Pragma: no-cache` for HTTP/1.0 caches), as RFC 6749 §5.1 asks of token responses.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};
use crate::sec_token::api;

fn assert_no_store(what: &str, res: &reqwest::Response) {
    let header = |name| res.headers().get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("cache-control"), Some("no-store"), "{what}");
    assert_eq!(header("pragma"), Some("no-cache"), "{what}");
}

// Matrix: PR-10
#[tokio::test]
async fn api_and_userinfo_answers_are_never_cached() {
    // Arrange: a client that may sign in with a password, and a user who must choose a
    // new one (so RespondToAuthChallenge has a challenge to answer).
    let app = TestApp::spawn().await;
    let mut new = cognate::clients::ClientSettings::new("Password App");
    new.explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        .map(String::from)
        .to_vec();
    let (client, _) = cognate::clients::create(
        &app.state,
        &app.pool_id,
        &new,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap();
    app.create_user("gina", cognate::users::UserStatus::ForceChangePassword)
        .await;
    let sign_in = |username: &str, password: &str| {
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client.client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password}})
    };

    // InitiateAuth: an error, and a challenge with its session.
    let res = api(&app, "InitiateAuth", sign_in("alice", "wrong")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_no_store("InitiateAuth refused", &res);
    let res = api(&app, "InitiateAuth", sign_in("gina", PASSWORD)).await;
    assert_no_store("InitiateAuth challenge", &res);
    let challenge: Value = res.json().await.unwrap();
    assert_eq!(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED");

    // RespondToAuthChallenge: tokens.
    let res = api(
        &app,
        "RespondToAuthChallenge",
        json!({"ClientId": client.client_id, "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": challenge["Session"],
            "ChallengeResponses": {"USERNAME": "gina", "NEW_PASSWORD": "Another-horse-7"}}),
    )
    .await;
    assert_no_store("RespondToAuthChallenge", &res);
    let answer: Value = res.json().await.unwrap();
    let access = answer["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no tokens: {answer}"));

    // InitiateAuth with tokens straight away.
    let res = api(&app, "InitiateAuth", sign_in("alice", PASSWORD)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store("InitiateAuth tokens", &res);

    // GetUser: the user's attributes.
    let res = api(&app, "GetUser", json!({"AccessToken": access})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store("GetUser", &res);

    // userInfo: the user's claims.
    let tokens = app.tokens().await;
    let res = app.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store("userInfo", &res);
}
