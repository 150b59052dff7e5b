//! User pool domains: the four Cognito actions over signed HTTP, and a pool served at
//! its domain's root by `Host` (through real HTTP clients that resolve the domain's
//! name to the test server): discovery names the domain as issuer, the hosted pages
//! and redirects stay on the domain, an `openidconnect` relying party completes the
//! code flow there, unknown hosts reach no pool, and `X-Forwarded-Host` counts only
//! from a trusted proxy.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use cognate::api_keys::ApiKeys;
use cognate::config::Config;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::{CALLBACK, Form, PASSWORD, Pkce, TestApp, jwt_claims, location, query_param};

const AKID: &str = "AKIDDOMAINSTEST";
const SECRET: &str = "domains-test-secret";
/// Prefix domains live under `auth.` of this base.
const BASE: &str = "example.test";
const PREFIX_HOST: &str = "myapp.auth.example.test";
const CUSTOM: &str = "login.example.org";
const CERTIFICATE: &str = "arn:aws:acm:us-east-1:123456789012:certificate/a1b2c3d4-5678-90ab";

/// The admin API keys `api` signs with (also used by the trigger tests).
pub(crate) fn with_keys(c: Config) -> Config {
    c.with_api_keys(ApiKeys::parse(&format!("{AKID}:{SECRET}")).unwrap())
}

fn with_domains(c: Config) -> Config {
    c.with_rate_limits(cognate::rate_limit::RateLimits::OFF)
        .with_api_keys(ApiKeys::parse(&format!("{AKID}:{SECRET}")).unwrap())
        .with_domain_base(Some(BASE))
        .unwrap()
}

async fn spawn() -> TestApp {
    TestApp::spawn_with(with_domains).await
}

/// A signed Cognito API call (the domain actions need a signature): status and body.
pub(crate) async fn api(app: &TestApp, action: &str, body: Value) -> (StatusCode, Value) {
    let body = body.to_string();
    let uri = format!("{}/", app.base());
    let target = format!("AWSCognitoIdentityProviderService.{action}");
    let host = app.addr.to_string();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target.as_str()),
    ];
    let identity = Credentials::new(AKID, SECRET, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("cognito-idp")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        &uri,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = axum::http::Request::builder().method("POST").uri(&uri);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut request = request.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    let mut call = app.http.post(&uri).body(body);
    for (name, value) in request.headers() {
        call = call.header(name, value);
    }
    let res = call.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Asserts a Cognito error of `kind` whose message contains `needle`.
fn assert_error(answer: &(StatusCode, Value), kind: &str, needle: &str) {
    let (status, body) = answer;
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["__type"], kind, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
}

async fn create_prefix(app: &TestApp, prefix: &str) {
    let answer = api(
        app,
        "CreateUserPoolDomain",
        json!({ "Domain": prefix, "UserPoolId": app.pool_id }),
    )
    .await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
}

async fn create_custom(app: &TestApp, name: &str) {
    let answer = api(
        app,
        "CreateUserPoolDomain",
        json!({ "Domain": name, "UserPoolId": app.pool_id,
                "CustomDomainConfig": { "CertificateArn": CERTIFICATE } }),
    )
    .await;
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
}

/// `http://<host>:<test port>`: a domain's origin behind the test server's public URL.
fn origin(app: &TestApp, host: &str) -> String {
    format!("http://{host}:{}", app.addr.port())
}

/// An HTTP client that resolves `hosts` to the test server and follows no redirects;
/// with `cookies`, a browser.
fn client_for(app: &TestApp, hosts: &[&str], cookies: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(cookies);
    for host in hosts {
        builder = builder.resolve(host, app.addr);
    }
    builder.build().unwrap()
}

async fn get_json(client: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    let res = client.get(url).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

// --- the API ---------------------------------------------------------------------------

#[tokio::test]
async fn a_prefix_domain_is_created_active_described_updated_and_deleted() {
    // Arrange
    let app = spawn().await;
    let pool = app.pool_id.clone();

    // Act
    let created = api(
        &app,
        "CreateUserPoolDomain",
        json!({ "Domain": "myapp", "UserPoolId": pool }),
    )
    .await;
    let described = api(&app, "DescribeUserPoolDomain", json!({ "Domain": "myapp" })).await;

    // Assert: what Terraform reads, ACTIVE at once, no certificate for a prefix.
    assert_eq!(
        created,
        (StatusCode::OK, json!({ "ManagedLoginVersion": 1 }))
    );
    let d = &described.1["DomainDescription"];
    assert_eq!(d["Status"], "ACTIVE");
    assert_eq!(d["UserPoolId"], pool.as_str());
    assert_eq!(d["Domain"], "myapp");
    assert_eq!(d["AWSAccountId"], "000000000000");
    assert_eq!(d["CloudFrontDistribution"], "127.0.0.1");
    assert_eq!(d["S3Bucket"], "cognate-hosted-ui");
    assert_eq!(d["ManagedLoginVersion"], 1);
    let version = d["Version"].as_str().unwrap();
    assert!(
        version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit()),
        "{version}"
    );
    assert!(d.get("CustomDomainConfig").is_none(), "{d}");
    let (_, described_pool) = api(&app, "DescribeUserPool", json!({ "UserPoolId": pool })).await;
    assert_eq!(described_pool["UserPool"]["Domain"], "myapp");
    assert!(described_pool["UserPool"].get("CustomDomain").is_none());

    // Update: the managed login version (the certificate is a custom domain's).
    let updated = api(
        &app,
        "UpdateUserPoolDomain",
        json!({ "Domain": "myapp", "UserPoolId": pool, "ManagedLoginVersion": 2,
                "CustomDomainConfig": { "CertificateArn": "" } }),
    )
    .await;
    assert_eq!(
        updated,
        (StatusCode::OK, json!({ "ManagedLoginVersion": 2 }))
    );
    let (_, described) = api(&app, "DescribeUserPoolDomain", json!({ "Domain": "myapp" })).await;
    assert_eq!(described["DomainDescription"]["ManagedLoginVersion"], 2);

    // Delete: then unknown (an empty description), and a second delete names it.
    let deleted = api(
        &app,
        "DeleteUserPoolDomain",
        json!({ "Domain": "myapp", "UserPoolId": pool }),
    )
    .await;
    assert_eq!(deleted, (StatusCode::OK, json!({})));
    let gone = api(&app, "DescribeUserPoolDomain", json!({ "Domain": "myapp" })).await;
    assert_eq!(gone, (StatusCode::OK, json!({ "DomainDescription": {} })));
    let again = api(
        &app,
        "DeleteUserPoolDomain",
        json!({ "Domain": "myapp", "UserPoolId": pool }),
    )
    .await;
    assert_error(&again, "InvalidParameterException", "No such domain");
    let (_, described_pool) = api(&app, "DescribeUserPool", json!({ "UserPoolId": pool })).await;
    assert!(described_pool["UserPool"].get("Domain").is_none());
}

#[tokio::test]
async fn a_custom_domain_carries_its_certificate_and_the_host_to_point_dns_at() {
    // Arrange
    let app = spawn().await;
    let pool = app.pool_id.clone();

    // Act
    let created = api(
        &app,
        "CreateUserPoolDomain",
        json!({ "Domain": CUSTOM, "UserPoolId": pool,
                "CustomDomainConfig": { "CertificateArn": CERTIFICATE } }),
    )
    .await;

    // Assert
    assert_eq!(
        created,
        (
            StatusCode::OK,
            json!({ "ManagedLoginVersion": 1, "CloudFrontDomain": "127.0.0.1" })
        )
    );
    let (_, d) = api(&app, "DescribeUserPoolDomain", json!({ "Domain": CUSTOM })).await;
    assert_eq!(
        d["DomainDescription"]["CustomDomainConfig"],
        json!({ "CertificateArn": CERTIFICATE })
    );
    let (_, described_pool) = api(&app, "DescribeUserPool", json!({ "UserPoolId": pool })).await;
    assert_eq!(described_pool["UserPool"]["CustomDomain"], CUSTOM);

    // A new certificate replaces the old one; a malformed one is refused.
    let renewed = "arn:aws:acm:us-east-1:123456789012:certificate/renewed-0001";
    let updated = api(
        &app,
        "UpdateUserPoolDomain",
        json!({ "Domain": CUSTOM, "UserPoolId": pool,
                "CustomDomainConfig": { "CertificateArn": renewed } }),
    )
    .await;
    assert_eq!(updated.0, StatusCode::OK, "{}", updated.1);
    let (_, d) = api(&app, "DescribeUserPoolDomain", json!({ "Domain": CUSTOM })).await;
    assert_eq!(
        d["DomainDescription"]["CustomDomainConfig"]["CertificateArn"],
        renewed
    );
    let bad = api(
        &app,
        "UpdateUserPoolDomain",
        json!({ "Domain": CUSTOM, "UserPoolId": pool,
                "CustomDomainConfig": { "CertificateArn": "not-an-arn" } }),
    )
    .await;
    assert_error(&bad, "InvalidParameterException", "CertificateArn");
}

#[tokio::test]
async fn domains_are_refused_as_cognito_refuses_them() {
    // Arrange: this pool has a prefix and a custom domain; another pool wants more.
    let app = spawn().await;
    create_prefix(&app, "myapp").await;
    create_custom(&app, CUSTOM).await;
    let other = cognate::pool::create(&app.state, "other", "us-east-1")
        .await
        .unwrap()
        .pool_id;
    let create = |pool: &str, domain: &str, certificate: Option<&str>| {
        let mut body = json!({ "Domain": domain, "UserPoolId": pool });
        if let Some(arn) = certificate {
            body["CustomDomainConfig"] = json!({ "CertificateArn": arn });
        }
        body
    };
    let invalid = "InvalidParameterException";
    let cases = [
        // A name is taken, whichever pool asks.
        (
            create(&other, "myapp", None),
            "Domain already associated with another user pool.",
        ),
        (
            create(&other, CUSTOM, Some(CERTIFICATE)),
            "Domain already associated with another user pool.",
        ),
        // One domain of each kind per pool.
        (create(&app.pool_id, "second", None), "already has"),
        (
            create(&app.pool_id, "auth.example.net", Some(CERTIFICATE)),
            "already has",
        ),
        // Cognito's prefix pattern and reserved words.
        (
            create(&other, "My_App", None),
            "contains an invalid character",
        ),
        (
            create(&other, "my-aws-app", None),
            "Domain cannot contain reserved word: aws",
        ),
        (create(&other, "amazonshop", None), "reserved word: amazon"),
        (create(&other, "mycognito", None), "reserved word: cognito"),
        // A custom domain is a lower-case host name, and not the server's or a prefix's.
        (
            create(&other, "Login.Example.net", Some(CERTIFICATE)),
            "fully qualified",
        ),
        (
            create(&other, "intranet", Some(CERTIFICATE)),
            "fully qualified",
        ),
        (
            create(&other, "10.0.0.1", Some(CERTIFICATE)),
            "fully qualified",
        ),
        (
            create(&other, "x.auth.example.test", Some(CERTIFICATE)),
            "prefix domains",
        ),
        (
            create(&other, "auth.example.net", Some("arn:nope")),
            "CertificateArn",
        ),
    ];

    for (body, message) in cases {
        // Act
        let answer = api(&app, "CreateUserPoolDomain", body.clone()).await;
        // Assert
        assert_error(&answer, invalid, message);
    }
    let unsupported = [
        json!({ "Domain": "other-app", "UserPoolId": other, "Routing": { "Failover": "ON" } }),
        json!({ "Domain": "auth.example.net", "UserPoolId": other,
                "CustomDomainConfig": { "CertificateArn": CERTIFICATE, "SecurityPolicy": "TLS_V1_2_2021" } }),
        json!({ "Domain": "auth.example.net", "UserPoolId": other, "CustomDomainConfig": {} }),
        json!({ "Domain": "other-app", "UserPoolId": other, "ManagedLoginVersion": 3 }),
    ];
    for body in unsupported {
        let answer = api(&app, "CreateUserPoolDomain", body.clone()).await;
        assert_error(&answer, invalid, "");
    }
    let unknown_pool = api(
        &app,
        "CreateUserPoolDomain",
        json!({ "Domain": "nobody", "UserPoolId": "us-east-1_Nobody123" }),
    )
    .await;
    assert_error(&unknown_pool, "ResourceNotFoundException", "does not exist");
    // Another pool cannot delete or update this pool's domain.
    let foreign = api(
        &app,
        "DeleteUserPoolDomain",
        json!({ "Domain": "myapp", "UserPoolId": other }),
    )
    .await;
    assert_error(&foreign, invalid, "No such domain");
    let (_, still) = api(&app, "DescribeUserPoolDomain", json!({ "Domain": "myapp" })).await;
    assert_eq!(
        still["DomainDescription"]["UserPoolId"],
        app.pool_id.as_str()
    );
}

// --- routing by Host -------------------------------------------------------------------

#[tokio::test]
async fn the_discovery_document_at_the_domain_names_the_domain_as_issuer() {
    // Arrange
    let app = spawn().await;
    create_prefix(&app, "myapp").await;
    let domain = origin(&app, PREFIX_HOST);
    let http = client_for(&app, &[PREFIX_HOST], false);

    // Act
    let (status, doc) =
        get_json(&http, &format!("{domain}/.well-known/openid-configuration")).await;

    // Assert: issuer and endpoints at the domain's root (OIDC Discovery §4.3).
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["issuer"], domain.as_str());
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{domain}/oauth2/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{domain}/oauth2/token"));
    assert_eq!(doc["jwks_uri"], format!("{domain}/.well-known/jwks.json"));
    let (status, jwks) = get_json(&http, &format!("{domain}/.well-known/jwks.json")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, path_jwks) = get_json(&app.http, &app.url("/.well-known/jwks.json")).await;
    assert_eq!(jwks, path_jwks);
    // The path form keeps working, and names the pool's one issuer.
    let (status, path_doc) =
        get_json(&app.http, &app.url("/.well-known/openid-configuration")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(path_doc["issuer"], domain.as_str());
    assert_eq!(path_doc["token_endpoint"], app.url("/oauth2/token"));
}

// Matrix: GN-02
#[tokio::test]
async fn an_unknown_host_reaches_no_pool_and_a_domain_reaches_only_its_own() {
    // Arrange: the test pool has `myapp`; a second pool has `other`.
    let app = spawn().await;
    create_prefix(&app, "myapp").await;
    let second = cognate::pool::create(&app.state, "second", "us-east-1")
        .await
        .unwrap()
        .pool_id;
    cognate::domains::create(
        &app.state,
        &second,
        &cognate::domains::NewDomain {
            name: "other",
            certificate_arn: None,
            managed_login_version: None,
        },
    )
    .await
    .unwrap();
    let unknown = "nobody.auth.example.test";
    let other_host = "other.auth.example.test";
    let http = client_for(&app, &[unknown, other_host, "evil.example"], false);
    let discovery = "/.well-known/openid-configuration";

    // Act + Assert: an unknown host serves no pool at the root…
    for host in [unknown, "evil.example"] {
        for path in [discovery, "/login", "/oauth2/token"] {
            let res = http
                .get(format!("{}{path}", origin(&app, host)))
                .send()
                .await
                .unwrap();
            assert!(
                matches!(
                    res.status(),
                    StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
                ),
                "{host}{path}: {}",
                res.status()
            );
        }
        // …and falls back to the normal routes: the path form answers as for any host.
        let (status, doc) = get_json(
            &http,
            &format!("{}/{}{discovery}", origin(&app, host), app.pool_id),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["issuer"], origin(&app, PREFIX_HOST));
    }
    // A domain serves its own pool only: another pool's path under it is nothing.
    let other_origin = origin(&app, other_host);
    let (status, doc) = get_json(&http, &format!("{other_origin}{discovery}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["issuer"], other_origin.as_str());
    let res = http
        .get(format!("{other_origin}/{}{discovery}", app.pool_id))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let authorize = app.authorize_url(&app.public, Some(&Pkce::new()), &[]);
    let query = authorize.split_once('?').unwrap().1;
    let res = http
        .get(format!("{other_origin}/oauth2/authorize?{query}"))
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("not known to this user pool"), "{page}");
}

// Matrix: GN-02
#[tokio::test]
async fn x_forwarded_host_counts_only_from_a_trusted_proxy() {
    // Arrange: one server trusts no proxy, the other trusts loopback (the test client).
    let untrusting = spawn().await;
    let trusting = TestApp::spawn_with(|c| {
        with_domains(c).with_trusted_proxies(vec!["127.0.0.1/32".parse().unwrap()])
    })
    .await;
    let discovery = "/.well-known/openid-configuration";
    for app in [&untrusting, &trusting] {
        create_prefix(app, "myapp").await;
    }

    // Act
    let forwarded = |app: &TestApp| {
        app.http
            .get(format!("{}{discovery}", app.base()))
            .header("x-forwarded-host", PREFIX_HOST)
            .send()
    };
    let ignored = forwarded(&untrusting).await.unwrap();
    let honoured = forwarded(&trusting).await.unwrap();

    // Assert
    assert_eq!(ignored.status(), StatusCode::NOT_FOUND);
    assert_eq!(honoured.status(), StatusCode::OK);
    let doc: Value = honoured.json().await.unwrap();
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{}/oauth2/authorize", origin(&trusting, PREFIX_HOST))
    );
    // Behind a trusted proxy, a client's own header comes first: the proxy's, last, counts.
    let res = trusting
        .http
        .get(format!("{}{discovery}", trusting.base()))
        .header("x-forwarded-host", format!("evil.example, {PREFIX_HOST}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = trusting
        .http
        .get(format!("{}{discovery}", trusting.base()))
        .header("x-forwarded-host", format!("{PREFIX_HOST}, evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Signs alice in through `authorize_url` with `browser`, checking every page and
/// redirect stays under `domain`; the callback URL.
async fn sign_in_at(browser: &reqwest::Client, domain: &str, authorize_url: &str) -> String {
    let res = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let login = location(&res);
    assert!(login.starts_with(&format!("{domain}/login?")), "{login}");
    let page = browser.get(&login).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("href=\"{domain}/static/cognate.css\"")),
        "the stylesheet comes from the domain (the CSP allows only 'self')"
    );
    let form = Form::parse(&html);
    assert!(
        form.action.starts_with(&format!("{domain}/login?")),
        "{}",
        form.action
    );
    let res = browser
        .post(&form.action)
        .header("origin", domain)
        .form(&[
            ("csrf_token", form.csrf.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "sign-in at the domain");
    location(&res)
}

// Matrix: GN-01
#[tokio::test]
async fn an_openidconnect_relying_party_completes_the_code_flow_through_the_domain() {
    // Arrange: the relying party knows only the domain's issuer.
    let app = spawn().await;
    create_prefix(&app, "myapp").await;
    let domain = origin(&app, PREFIX_HOST);
    let http = client_for(&app, &[PREFIX_HOST], false);
    let browser = client_for(&app, &[PREFIX_HOST], true);
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(domain.clone()).unwrap(), &http)
            .await
            .expect("discovery at the domain: its issuer is the domain");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app.public.client_id.clone()),
        None,
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.to_string()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf_state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    assert!(
        auth_url
            .as_str()
            .starts_with(&format!("{domain}/oauth2/authorize?"))
    );

    // Act
    let callback = sign_in_at(&browser, &domain, auth_url.as_str()).await;
    assert!(callback.starts_with(CALLBACK), "{callback}");
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(csrf_state.secret().as_str())
    );
    let tokens = client
        .exchange_code(AuthorizationCode::new(
            query_param(&callback, "code").unwrap(),
        ))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange at the domain");

    // Assert: the library checked signature, issuer (the domain), audience and nonce.
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.issuer().as_str(), domain);
    let access = tokens.access_token().secret();
    assert_eq!(jwt_claims(access)["iss"], domain.as_str());
    // The access token works at userInfo through the domain and through the path form.
    let at_domain = http
        .get(format!("{domain}/oauth2/userInfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(at_domain.status(), StatusCode::OK);
    assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);
    // A refresh at the domain keeps the issuer.
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh at the domain");
    assert_eq!(
        jwt_claims(refreshed.access_token().secret())["iss"],
        domain.as_str()
    );
}

#[tokio::test]
async fn the_hosted_pages_of_a_custom_domain_stay_on_it_and_refuse_foreign_posts() {
    // Arrange: a browser that signs in through the custom domain.
    let app = spawn().await;
    create_custom(&app, CUSTOM).await;
    let domain = origin(&app, CUSTOM);
    let browser = client_for(&app, &[CUSTOM], true);
    let pkce = Pkce::new();
    let path_form = app.authorize_url(&app.public, Some(&pkce), &[]);
    let authorize = path_form.replace(&app.issuer(), &domain);

    // Act: a post from the public URL's origin to the domain's form is cross-origin.
    let res = browser.get(&authorize).send().await.unwrap();
    let login = location(&res);
    let page = browser
        .get(&login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = Form::parse(&page);
    let foreign = browser
        .post(&form.action)
        .header("origin", app.base())
        .form(&[
            ("csrf_token", form.csrf.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let callback = sign_in_at(&browser, &domain, &authorize).await;

    // Assert
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let code = query_param(&callback, "code").expect("a code");
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        jwt_claims(body["id_token"].as_str().unwrap())["iss"],
        domain.as_str()
    );
    // The session lives on the domain: signed in there, not at the public URL.
    let again = browser.get(&authorize).send().await.unwrap();
    assert!(location(&again).starts_with(CALLBACK));
    let at_public_url = browser.get(&path_form).send().await.unwrap();
    assert!(location(&at_public_url).contains("/login?"));
}

#[tokio::test]
async fn tokens_issued_before_a_domain_was_added_still_verify_and_new_ones_name_it() {
    // Arrange
    let app = spawn().await;
    let before = app.tokens().await;
    let old_access = before["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(old_access)["iss"], app.issuer());

    // Act: a new sign-in (in a new browser) after the domain is added.
    create_prefix(&app, "myapp").await;
    let pkce = Pkce::new();
    let callback = app
        .sign_in(
            &crate::helpers::browser(),
            &app.authorize_url(&app.public, Some(&pkce), &[]),
            "alice",
            PASSWORD,
        )
        .await;
    let code = query_param(&callback, "code").unwrap();
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    let after: Value = res.json().await.unwrap();

    // Assert
    assert_eq!(app.userinfo(old_access).await.status(), StatusCode::OK);
    let new_access = after["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(new_access)["iss"], origin(&app, PREFIX_HOST));
    assert_eq!(app.userinfo(new_access).await.status(), StatusCode::OK);
    // Once the domain is deleted, the issuer is the path form again.
    let deleted = api(
        &app,
        "DeleteUserPoolDomain",
        json!({ "Domain": "myapp", "UserPoolId": app.pool_id }),
    )
    .await;
    assert_eq!(deleted.0, StatusCode::OK);
    let (_, doc) = get_json(&app.http, &app.url("/.well-known/openid-configuration")).await;
    assert_eq!(doc["issuer"], app.issuer());
}

#[tokio::test]
async fn another_instance_on_the_same_database_serves_the_domain() {
    // Arrange: the domain is created through this instance…
    let app = spawn().await;
    create_prefix(&app, "myapp").await;
    // …and a second one, with its own caches, shares only the database.
    let config = with_domains(Config::new(&app.base(), None).unwrap());
    let state = cognate::server::open(&app.backend.store_args(), config)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(cognate::server::serve_http(
        listener,
        cognate::router(state),
        Default::default(),
        std::future::pending(),
    ));
    let http = reqwest::Client::builder()
        .resolve(PREFIX_HOST, addr)
        .build()
        .unwrap();

    // Act
    let (status, doc) = get_json(
        &http,
        &format!(
            "http://{PREFIX_HOST}:{}/.well-known/openid-configuration",
            addr.port()
        ),
    )
    .await;

    // Assert: the issuer takes the public URL's port, shared by both instances.
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["issuer"], origin(&app, PREFIX_HOST));
    server.abort();
}

#[tokio::test]
async fn with_the_cognito_issuer_tokens_name_cognitos_issuer_and_still_verify() {
    // Arrange
    let app = TestApp::spawn_with(|c| with_domains(c).with_cognito_issuer(true)).await;
    create_prefix(&app, "myapp").await;
    let cognito = format!(
        "https://cognito-idp.us-east-1.amazonaws.com/{}",
        app.pool_id
    );

    // Act
    let tokens = app.tokens().await;

    // Assert: the tokens and every discovery document name Cognito's issuer, while
    // the endpoints stay where the document was fetched.
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(access)["iss"], cognito.as_str());
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["iss"],
        cognito.as_str()
    );
    assert_eq!(app.userinfo(access).await.status(), StatusCode::OK);
    let (_, doc) = get_json(&app.http, &app.url("/.well-known/openid-configuration")).await;
    assert_eq!(doc["issuer"], cognito.as_str());
    assert_eq!(doc["token_endpoint"], app.url("/oauth2/token"));
    let http = client_for(&app, &[PREFIX_HOST], false);
    let domain = origin(&app, PREFIX_HOST);
    let (_, doc) = get_json(&http, &format!("{domain}/.well-known/openid-configuration")).await;
    assert_eq!(doc["issuer"], cognito.as_str());
    assert_eq!(doc["token_endpoint"], format!("{domain}/oauth2/token"));
}

/// Signs alice in through the JSON API (`InitiateAuth`) with a new client allowing
/// passwords; the access token.
async fn api_access_token(app: &TestApp) -> String {
    let (status, client) = api(
        app,
        "CreateUserPoolClient",
        json!({ "UserPoolId": app.pool_id, "ClientName": "api",
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{client}");
    let (status, auth) = app
        .api_call(
            "InitiateAuth",
            &json!({ "ClientId": client["UserPoolClient"]["ClientId"],
                     "AuthFlow": "USER_PASSWORD_AUTH",
                     "AuthParameters": { "USERNAME": "alice", "PASSWORD": PASSWORD } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{auth}");
    auth["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_account_actions_find_the_pool_of_a_token_that_names_a_domain_or_cognito() {
    for cognito_issuer in [false, true] {
        // Arrange
        let app = match cognito_issuer {
            false => spawn().await,
            true => TestApp::spawn_with(|c| with_domains(c).with_cognito_issuer(true)).await,
        };
        create_custom(&app, CUSTOM).await;
        let token = api_access_token(&app).await;
        let expected = match cognito_issuer {
            false => origin(&app, CUSTOM),
            true => format!(
                "https://cognito-idp.us-east-1.amazonaws.com/{}",
                app.pool_id
            ),
        };
        assert_eq!(jwt_claims(&token)["iss"], expected.as_str());

        // Act
        let (status, me) = app
            .api_call("GetUser", &json!({ "AccessToken": token }))
            .await;

        // Assert
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["Username"], "alice");
    }
}
