//! The API describes itself: an OpenAPI 3.1 document at `/api/openapi.json`, and a reference page
//! at `/api/docs` that draws it without any other host.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_document_and_its_reference_page_are_served() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    let document: Value = r.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["title"], "Parley API");
    for (path, method) in [
        ("/api/v1/admin/stores", "post"),
        ("/api/v1/shop/messages/{id}/messages", "post"),
        ("/api/v1/integration/conversations", "post"),
        ("/api/v1/vendor/webhooks/{id}/deliveries", "get"),
        ("/api/v1/shop/auth/sso", "post"),
    ] {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path}"
        );
    }
    let send = &document["paths"]["/api/v1/shop/messages/{id}/messages"]["post"];
    assert!(send["requestBody"]["content"]["multipart/form-data"].is_object());
    assert_eq!(
        send["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Message"
    );

    let page = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/openapi.json") && html.contains("/assets/api-docs.js"));
    for asset in ["/assets/api-docs.js", "/assets/api-docs.css"] {
        let text = app
            .client
            .get(app.url(asset))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{asset} calls out"
        );
    }
}
