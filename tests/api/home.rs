//! `GET /` and `HEAD /`: the server's name and version; each pool's discovery document
//! in development only.

use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_root_names_the_server_and_hides_the_pools_outside_development() {
    // Arrange
    let app = TestApp::spawn().await;
    // Act
    let get = app.http.get(app.base() + "/").send().await.unwrap();
    let head = app.http.head(app.base() + "/").send().await.unwrap();
    // Assert
    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(head.status(), StatusCode::OK);
    for res in [&get, &head] {
        let headers = res.headers();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert_eq!(headers["x-frame-options"], "DENY");
        assert!(headers.contains_key("content-security-policy"));
    }
    let body = get.text().await.unwrap();
    assert!(
        body.contains(&format!("cognate {}", env!("CARGO_PKG_VERSION"))),
        "{body}"
    );
    assert!(
        !body.contains(&app.pool_id),
        "a pool listed without --dev: {body}"
    );
    assert!(head.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn in_development_the_root_links_each_pools_discovery_document() {
    // Arrange
    let app = TestApp::spawn_with(|c| c.with_dev(true)).await;
    // Act
    let body = app
        .http
        .get(app.base() + "/")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Assert: the link it gives answers with the pool's discovery document.
    let link = format!(
        "{}/{}/.well-known/openid-configuration",
        app.base(),
        app.pool_id
    );
    assert!(body.contains(&format!("href=\"{link}\"")), "{body}");
    let discovery = app.http.get(&link).send().await.unwrap();
    assert_eq!(discovery.status(), StatusCode::OK);
}
