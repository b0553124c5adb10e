//! Documents inline in the case view (both backends): the case shows an image
//! through a one-time link; the link works once, for the operator it was
//! issued to, within 5 minutes, with `inline`, `nosniff`, `no-store` and a
//! CSP that allows only images of this site; each view is audited with the
//! operator as actor; another organization's operator is refused; an
//! expired link is 410.

use crate::admin::signed_in;
use crate::common::*;
use crate::hosted::FormClient;
use reqwest::StatusCode;
use serde_json::json;

/// The inline link of `doc` in a case page.
fn link_of(body: &str, doc: &str) -> String {
    let start = format!("/admin/documents/{doc}?t=");
    let at = body
        .find(&start)
        .unwrap_or_else(|| panic!("{start} in {body}"));
    let rest = &body[at..];
    rest[..rest.find('"').unwrap()].replace("&amp;", "&")
}

async fn customer_with_document(app: &TestApp) -> (String, String) {
    use base64::Engine as _;
    let id = app.create_customer(complete_individual("adm-inline")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let content = base64::engine::general_purpose::STANDARD.encode(tiny_jpeg("passport"));
    let (st, d) = app
        .post(
            &format!("/v1/customers/{id}/documents"),
            json!({"type": "passport", "content_type": "image/jpeg", "content_base64": content}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    (id, d["id"].as_str().unwrap().to_string())
}

async fn downloads_by(app: &TestApp, doc: &str) -> Vec<String> {
    let mut conn = app.state.store.reader().await.unwrap();
    kycd_store::operators::audit_of(&mut conn, doc)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, action, _, _)| action == "document.download")
        .map(|(actor, _, _, _)| actor)
        .collect()
}

both_backends!(
    documents_inline_through_one_time_links,
    |app: TestApp| async move {
        let (id, doc) = customer_with_document(&app).await;
        let mut client = signed_in(&app, "viewer", Some(&app.org_id)).await;
        let case = client.get(&format!("/admin/customers/{id}")).await;
        assert_eq!(case.status, StatusCode::OK, "{}", case.body);
        let url = link_of(&case.body, &doc);
        assert!(
            case.body.contains(&format!(
                "<img class=\"doc\" src=\"{}",
                url.replace('&', "&amp;")
            )),
            "an inline image: {}",
            case.body
        );

        // Once, with the headers.
        let p = client.get(&url).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        let h = |n: &str| {
            p.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(h("content-type"), "image/jpeg");
        assert_eq!(
            h("content-disposition"),
            format!("inline; filename=\"{doc}.jpg\"")
        );
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("cache-control"), "no-store");
        assert!(h("content-security-policy").starts_with("default-src 'none'; img-src 'self'"));
        assert!(!p.body.is_empty());
        let op_actor = downloads_by(&app, &doc).await;
        assert_eq!(op_actor.len(), 1, "{op_actor:?}");
        assert!(op_actor[0].starts_with("operator:op_"), "{op_actor:?}");
        // Not twice.
        let again = client.get(&url).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        assert_eq!(downloads_by(&app, &doc).await.len(), 1);
        // A forged or missing token: 404.
        for bad in [
            format!("/admin/documents/{doc}?t=nope"),
            format!("/admin/documents/{doc}"),
        ] {
            assert_eq!(
                client.get(&bad).await.status,
                StatusCode::NOT_FOUND,
                "{bad}"
            );
        }
        // Without a session: to the sign-in page.
        let case = client.get(&format!("/admin/customers/{id}")).await;
        let url = link_of(&case.body, &doc);
        let mut anon = FormClient::new(&app);
        let p = anon.get(&url).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        assert_eq!(p.location(), "/admin/login");

        // Another organization's operator holding the link: refused, and the
        // link still works for its operator afterwards.
        let other = kycd_server::create_org(&app.state.store, "Other")
            .await
            .unwrap();
        let mut outsider = signed_in(&app, "admin", Some(&other.id)).await;
        assert_eq!(outsider.get(&url).await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            outsider.get(&format!("/admin/customers/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(client.get(&url).await.status, StatusCode::OK);
        assert_eq!(downloads_by(&app, &doc).await.len(), 2);

        // Expired (5 minutes): 410, nothing served.
        let case = client.get(&format!("/admin/customers/{id}")).await;
        let url = link_of(&case.body, &doc);
        {
            let mut conn = app.state.store.writer().await.unwrap();
            sqlx::query("UPDATE operator_document_links SET expires_at = 0 WHERE used_at IS NULL")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        assert_eq!(client.get(&url).await.status, StatusCode::GONE);
        assert_eq!(downloads_by(&app, &doc).await.len(), 2);
    }
);
