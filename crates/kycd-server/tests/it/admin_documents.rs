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
    let id = id_of(&app.create_customer(complete_individual("adm-inline")).await);
    let (st, d) = app.upload_jpeg(&id, "passport").await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    (id, id_of(&d))
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
        let h = |n: &str| header_text(&p.headers, n);
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

/// A real JPEG (a card-like picture) the browser can decode.
fn card_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(480, 300, |x, y| {
        let border = x < 8 || y < 8 || x >= 472 || y >= 292;
        let photo = (24..144).contains(&x) && (60..240).contains(&y);
        let line = (170..440).contains(&x)
            && [80, 120, 160, 200]
                .iter()
                .any(|l| (*l..*l + 10).contains(&y));
        if border {
            image::Rgb([40, 70, 140])
        } else if photo {
            image::Rgb([150, 160, 175])
        } else if line {
            image::Rgb([90, 95, 105])
        } else {
            image::Rgb([235, 225 - (y / 6) as u8, 200])
        }
    });
    let mut out = std::io::Cursor::new(vec![]);
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// The case in headless Chromium shows the document inline (the image loads
/// through its one-time link under the page's CSP). Screenshot
/// `admin-case-document-1280.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(kycd_chromium),
    ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn the_case_shows_the_document_inline_in_a_browser() {
    run_on(Backend::Sqlite, |app| async move {
        use base64::Engine as _;
        let id = id_of(&app.create_customer(complete_individual("browser-doc")).await);
        let content = base64::engine::general_purpose::STANDARD.encode(card_jpeg());
        let (st, d) = app.add_document(&id, json!({"type": "national_id", "side": "front", "content_type": "image/jpeg", "content_base64": content})).await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        let doc = id_of(&d);
        let (email, password) =
            crate::admin::operator(&app, "doc-viewer@ops.test", "reviewer", None).await;
        let b = crate::admin_browser::signed_in_browser(&app, &email, &password).await;
        b.goto(&format!("{}/admin/customers/{id}", app.base)).await;
        b.wait_for("img.doc").await;
        let mut width = serde_json::Value::Null;
        for _ in 0..50 {
            width = b
                .execute(
                    "const i = document.querySelector('img.doc'); return i.complete ? i.naturalWidth : null;",
                    vec![],
                )
                .await;
            if !width.is_null() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(width, serde_json::json!(480), "the image decoded in the page");
        b.screenshot_full_page("admin-case-document-1280").await;
        b.close().await;
        let mut conn = app.state.store.reader().await.unwrap();
        let views = kycd_store::operators::audit_of(&mut conn, &doc).await.unwrap();
        assert!(
            views.iter().any(|(actor, action, _, _)| action == "document.download" && actor.starts_with("operator:")),
            "{views:?}"
        );
    })
    .await;
}
