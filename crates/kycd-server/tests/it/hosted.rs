//! The hosted flow over plain HTTP, forms only (no JavaScript, no browser):
//! opening a link, every step, errors next to their fields, the summary and
//! the submission; link states, CSRF, languages, uploads (EXIF removed,
//! duplicate photos found, a file too big) and progress across renewed links.

use crate::common::*;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

/// A browser without JavaScript: keeps the session cookie, follows nothing.
pub struct FormClient {
    client: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
    pub lang: Option<&'static str>,
}

/// One answer: status, headers, body.
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The CSRF token of the page's form.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token");
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

impl FormClient {
    pub fn new(app: &TestApp) -> Self {
        FormClient {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: app.base.clone(),
            cookies: vec![],
            lang: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req.header("cookie", self.cookie_header());
        if let Some(l) = self.lang {
            req = req.header("accept-language", l);
        }
        let res = req.send().await.expect("request");
        for c in res.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            self.cookies.push((k.to_string(), v.to_string()));
        }
        Page {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let url = self.url(path);
        self.send(self.client.get(url)).await
    }

    /// GET, following redirects within the site.
    pub async fn follow(&mut self, path: &str) -> (String, Page) {
        let mut at = path.to_string();
        for _ in 0..10 {
            let p = self.get(&at).await;
            if p.status == StatusCode::SEE_OTHER {
                at = p.location().to_string();
                continue;
            }
            return (at, p);
        }
        panic!("redirect loop from {path}");
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let url = self.url(path);
        self.send(self.client.post(url).form(fields)).await
    }

    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
    ) -> Page {
        let boundary = "kycdtestboundary7MA4YWxkTrZu0gW";
        let mut body = vec![];
        for (k, v) in fields {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (k, filename, bytes) in files {
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let url = self.url(path);
        self.send(
            self.client
                .post(url)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
        .await
    }

    /// Fills the current step (GET it, POST the fields with its CSRF token).
    pub async fn fill(&mut self, step: &str, fields: &[(&str, &str)]) -> Page {
        let path = format!("/hosted/flow/step/{step}");
        let page = self.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{step}: {}", page.body);
        let csrf = page.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(&path, &all).await
    }

    pub async fn upload(
        &mut self,
        step: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
    ) -> Page {
        let path = format!("/hosted/flow/step/{step}");
        let page = self.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{step}: {}", page.body);
        let csrf = page.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_multipart(&path, &all, files).await
    }
}

/// A real PNG photo (decodable), different for each seed.
pub fn photo_png(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(160, 120, |x, y| {
        image::Rgb([
            ((x * (seed + 3) + y) % 256) as u8,
            ((y * (seed + 5)) % 256) as u8,
            ((x ^ y ^ seed) % 256) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(vec![]);
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A real JPEG carrying an EXIF block with a GPS position.
pub fn photo_jpeg_with_gps(seed: u32) -> Vec<u8> {
    let img = image::load_from_memory(&photo_png(seed)).unwrap();
    let mut out = std::io::Cursor::new(vec![]);
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    let plain = out.into_inner();
    let payload = b"Exif\0\0GPSLatitude=48.8584;GPSLongitude=2.2945";
    let mut with = vec![0xFF, 0xD8, 0xFF, 0xE1];
    with.extend(((payload.len() + 2) as u16).to_be_bytes());
    with.extend(payload);
    with.extend(&plain[2..]);
    with
}

/// The customer after the user submitted the hosted flow: `pending`,
/// nothing missing any more (asserted).
pub async fn submitted(app: &TestApp, id: &str) -> Value {
    let (_, c) = app.customer(id).await;
    assert_eq!(c["status"], "pending", "{c}");
    assert_eq!(
        c["verification"]["requirements"]["missing"],
        json!([]),
        "{c}"
    );
    c
}

/// A new individual with nothing but an external id, in hosted `full`
/// verification: pending, everything missing. Returns (id, link path).
pub async fn hosted_customer(app: &TestApp, ext: &str) -> (String, String) {
    let c = app
        .create_customer(json!({"type": "individual", "external_id": ext}))
        .await;
    let id = id_of(&c);
    let (st, v) = app
        .verify(&id, json!({"level": "full", "mode": "hosted"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "pending");
    let url = v["verification"]["url"]
        .as_str()
        .expect("a hosted url")
        .to_string();
    let path = url[url.find("/hosted/").unwrap()..].to_string();
    (id, path)
}

/// Opens the link in this client: a session, then the first step.
pub async fn open(client: &mut FormClient, link: &str) -> (String, Page) {
    let first = client.get(link).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(
        first.location(),
        "/hosted/flow",
        "the token leaves the address bar"
    );
    client.follow("/hosted/flow").await
}

/// The answers of the data steps for one person from Brazil.
pub struct Person {
    pub first: &'static str,
    pub last: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub city: &'static str,
}

pub const MARIA: Person = Person {
    first: "Maria",
    last: "Souza",
    email: "maria@example.com",
    phone: "+5511912345678",
    city: "Curitiba",
};

/// Fills about you, contact and address; each is saved (303 to the flow).
pub async fn fill_person(client: &mut FormClient, p: &Person) {
    let steps: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "personal",
            vec![
                ("first_name", p.first),
                ("last_name", p.last),
                ("date_of_birth", "1991-05-17"),
                ("nationality", "BR"),
            ],
        ),
        ("contact", vec![("email", p.email), ("phone", p.phone)]),
        (
            "address",
            vec![
                ("line1", "Rua das Flores, 12"),
                ("city", p.city),
                ("region", "PR"),
                ("postal_code", "80010-000"),
                ("country", "BR"),
            ],
        ),
    ];
    for (step, fields) in steps {
        let page = client.fill(step, &fields).await;
        assert_eq!(
            (page.status, page.location()),
            (StatusCode::SEE_OTHER, "/hosted/flow"),
            "{step}: {}",
            page.body
        );
    }
}

/// Fills every step of a full individual from Brazil.
pub async fn complete_all_steps(client: &mut FormClient, seed: u32) {
    fill_person(client, &MARIA).await;
    let p = client
        .fill("national-id", &[("id_value", "529.982.247-25")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = client
        .upload(
            "document",
            &[("doc_type", "national_id")],
            &[
                ("front", "front.png", photo_png(seed)),
                ("back", "back.png", photo_png(seed + 1)),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = client
        .upload(
            "selfie",
            &[],
            &[("selfie", "me.jpg", photo_jpeg_with_gps(seed + 2))],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
}

async fn submit(client: &mut FormClient) -> Page {
    let (at, summary) = client.follow("/hosted/flow").await;
    assert_eq!(at, "/hosted/flow/summary", "{}", summary.body);
    let csrf = summary.csrf();
    client
        .post_form("/hosted/flow/submit", &[("csrf", &csrf)])
        .await
}

both_backends!(
    a_user_completes_verification_with_forms_only,
    |app| async move {
        let (id, link) = hosted_customer(&app, "hosted-walk").await;
        let mut browser = FormClient::new(&app);
        let first = browser.get(&link).await;
        let set_cookie = first
            .headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
            "{set_cookie}"
        );
        assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
        let (at, page) = browser.follow("/hosted/flow").await;
        assert_eq!(at, "/hosted/flow/step/personal");
        assert_has(&page.body, "Step 1 of 7");
        for (name, value) in [
            ("content-security-policy", "frame-ancestors 'none'"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
            ("cache-control", "no-store"),
        ] {
            let h = page
                .headers
                .get(name)
                .map(|v| v.to_str().unwrap())
                .unwrap_or("");
            assert!(h.contains(value), "{name}: {h}");
        }
        assert!(
            page.headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        complete_all_steps(&mut browser, 1).await;
        let (at, summary) = browser.follow("/hosted/flow").await;
        assert_eq!(at, "/hosted/flow/summary");
        assert!(
            summary.body.contains("Maria") && summary.body.contains("Curitiba"),
            "{}",
            summary.body
        );
        assert!(
            summary.body.contains("•••• 7-25"),
            "only the end of the CPF is shown"
        );
        assert!(
            summary.body.contains("href=\"/hosted/flow/step/address\""),
            "edit links"
        );
        // Nothing is applied before the user submits.
        let (_, before) = app.customer(&id).await;
        assert_eq!(before["individual"]["first_name"], Value::Null, "{before}");
        let done = submit(&mut browser).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let c = submitted(&app, &id).await;
        assert_eq!(c["individual"]["first_name"], "Maria");
        assert_eq!(c["identifiers"][0]["type"], "cpf");
        let issues = c["verification"]["requirements"]["issues"].to_string();
        assert!(
            issues.contains("documents_in_review"),
            "documents wait for a reviewer: {issues}"
        );
        let (_, docs) = app.get(&format!("/v1/customers/{id}/documents")).await;
        assert_eq!(docs["data"].as_array().unwrap().len(), 3, "{docs}");
        let (_, events) = app
            .get(&format!(
                "/v1/events?customer_id={id}&type=customer.verification.submitted"
            ))
            .await;
        assert_eq!(events["data"].as_array().unwrap().len(), 1, "{events}");
        assert_eq!(events["data"][0]["data"]["external_id"], "hosted-walk");
        // The selfie was stored without its EXIF block (and GPS position).
        let selfie = docs["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["type"] == "selfie")
            .unwrap();
        let bytes = app
            .get_response(&format!(
                "/v1/customers/{id}/documents/{}/content",
                selfie["id"].as_str().unwrap()
            ))
            .await
            .bytes()
            .await
            .unwrap();
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]), "still a JPEG");
        assert!(
            !bytes.windows(11).any(|w| w == b"GPSLatitude"),
            "EXIF removed"
        );
        // Afterwards the page thanks the user.
        let (_, after) = browser.follow("/hosted/flow").await;
        assert_has(&after.body, "Thank you");
    }
);

both_backends!(
    a_link_opens_one_session_and_dead_links_say_why,
    |app| async move {
        let (id, link) = hosted_customer(&app, "hosted-links").await;
        let mut first = FormClient::new(&app);
        open(&mut first, &link).await;
        // The same browser may come back through its link.
        assert_eq!(first.get(&link).await.status, StatusCode::SEE_OTHER);
        let mut second = FormClient::new(&app);
        let used = second.get(&link).await;
        assert_eq!(used.status, StatusCode::GONE);
        assert_has(&used.body, "already opened");
        // A renewed link retires the old one and its session.
        let (_, renewed) = app.start_verification(&id).await;
        let new_link = renewed["verification"]["url"].as_str().unwrap().to_string();
        let old = FormClient::new(&app).get(&link).await;
        assert_eq!(old.status, StatusCode::GONE);
        assert_has(&old.body, "replaced");
        assert_eq!(
            first.get("/hosted/flow").await.status,
            StatusCode::GONE,
            "the old session ended"
        );
        // Expired on the sandbox clock.
        app.post(
            "/v1/test_helpers/clock/advance",
            json!({"seconds": 31 * 60}),
        )
        .await;
        let expired = FormClient::new(&app).get(&new_link).await;
        assert_eq!(expired.status, StatusCode::GONE);
        assert!(
            expired.body.contains("expired") && expired.body.contains("new link"),
            "{}",
            expired.body
        );
        let unknown = FormClient::new(&app).get("/hosted/v/not-a-token").await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert!(
            unknown.headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        // Without a session the flow says so.
        assert_eq!(
            FormClient::new(&app).get("/hosted/flow").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
);

both_backends!(
    a_bad_cpf_is_refused_next_to_its_field_and_nothing_is_saved,
    |app| async move {
        let (_, link) = hosted_customer(&app, "hosted-cpf").await;
        let mut b = FormClient::new(&app);
        open(&mut b, &link).await;
        let ana = Person {
            first: "Ana",
            last: "Lima",
            email: "ana@example.com",
            phone: "+5511912345678",
            city: "Recife",
        };
        fill_person(&mut b, &ana).await;
        let bad = b
            .fill("national-id", &[("id_value", "111.111.111-12")])
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_has(&bad.body, "id=\"id_value-error\"");
        assert!(bad.body.contains("aria-invalid=\"true\""));
        assert!(
            bad.body
                .contains("aria-describedby=\"id_value-hint id_value-error\""),
            "{}",
            bad.body
        );
        assert!(bad.body.contains("role=\"alert\""));
        assert!(
            bad.body.contains("value=\"111.111.111-12\""),
            "what was typed stays in the field"
        );
        // Nothing saved: the step is still the next one.
        let (at, _) = b.follow("/hosted/flow").await;
        assert_eq!(at, "/hosted/flow/step/national-id");
        // An impossible birth date and a missing required field, same way.
        let bad = b
            .fill(
                "personal",
                &[
                    ("first_name", ""),
                    ("last_name", "Lima"),
                    ("date_of_birth", "2990-01-01"),
                    ("nationality", "BR"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_has(&bad.body, "id=\"first_name-error\"");
        let bad = b
            .fill(
                "personal",
                &[
                    ("first_name", "Ana"),
                    ("last_name", "Lima"),
                    ("date_of_birth", "2990-01-01"),
                    ("nationality", "BR"),
                ],
            )
            .await;
        assert_has(&bad.body, "id=\"date_of_birth-error\"");
        // Without the CSRF token, nothing is saved either.
        let forged = b
            .post_form(
                "/hosted/flow/step/national-id",
                &[("id_value", "529.982.247-25")],
            )
            .await;
        assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
        let (at, _) = b.follow("/hosted/flow").await;
        assert_eq!(at, "/hosted/flow/step/national-id");
        let forged = b
            .post_form("/hosted/flow/submit", &[("csrf", "nope")])
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
    }
);

both_backends!(progress_survives_a_renewed_link, |app| async move {
    let (id, link) = hosted_customer(&app, "hosted-renew").await;
    let mut b = FormClient::new(&app);
    open(&mut b, &link).await;
    b.fill(
        "personal",
        &[
            ("first_name", "Rui"),
            ("last_name", "Costa"),
            ("date_of_birth", "1985-03-02"),
            ("nationality", "BR"),
        ],
    )
    .await;
    let (_, renewed) = app.start_verification(&id).await;
    let url = renewed["verification"]["url"].as_str().unwrap();
    let mut other_device = FormClient::new(&app);
    let (at, page) = open(&mut other_device, &url[url.find("/hosted/").unwrap()..]).await;
    assert_eq!(
        at, "/hosted/flow/step/contact",
        "the returning user lands on the first unfinished step"
    );
    assert!(page.body.contains("Step 2 of 7"));
    let (_, personal) = other_device.follow("/hosted/flow/step/personal").await;
    assert!(
        personal.body.contains("value=\"Rui\""),
        "what was typed is kept"
    );
    // The draft is sealed: the name is nowhere in the database in clear.
    let (_, c) = app.customer(&id).await;
    assert_eq!(c["individual"]["first_name"], Value::Null);
});

both_backends!(
    needs_information_asks_only_for_the_requested_items,
    |app| async move {
        let c = app.create_customer(complete_individual("hosted-rfi")).await;
        let id = c["id"].as_str().unwrap();
        app.start_verification(id).await;
        let (st, v) = app
            .force_verification(
                id,
                json!({"status": "needs_information", "missing": ["proof_of_address"]}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let url = v["verification"]["url"].as_str().unwrap();
        let mut b = FormClient::new(&app);
        let (at, page) = open(&mut b, &url[url.find("/hosted/").unwrap()..]).await;
        assert_eq!(at, "/hosted/flow/step/proof-of-address");
        assert_has(&page.body, "Step 1 of 2");
        assert_has(&page.body, "needs a few more details");
        let p = b
            .upload(
                "proof-of-address",
                &[],
                &[(
                    "file",
                    "bill.pdf",
                    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF".to_vec(),
                )],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        let done = submit(&mut b).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let (_, after) = app.customer(id).await;
        assert_eq!(after["status"], "pending", "{after}");
        assert_eq!(after["verification"]["requirements"]["missing"], json!([]));
    }
);

both_backends!(
    uploads_are_checked_and_the_same_photo_twice_is_a_signal,
    |app| async move {
        let (_, link) = hosted_customer(&app, "hosted-up-1").await;
        let mut b = FormClient::new(&app);
        open(&mut b, &link).await;
        complete_all_steps(&mut b, 40).await;
        submit(&mut b).await;
        // A second customer with the same document photos.
        let (second, link) = hosted_customer(&app, "hosted-up-2").await;
        let mut b2 = FormClient::new(&app);
        open(&mut b2, &link).await;
        let joana = Person {
            first: "Joana",
            last: "Reis",
            email: "joana@example.com",
            phone: "+5511955554444",
            city: "Natal",
        };
        fill_person(&mut b2, &joana).await;
        b2.fill("national-id", &[("id_value", "390.533.447-05")])
            .await;
        // Not an image: refused next to the field.
        let bad = b2
            .upload(
                "document",
                &[("doc_type", "passport")],
                &[("front", "x.png", b"GIF89a....".to_vec())],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_has(&bad.body, "id=\"front-error\"");
        // A back side is required for a national id card.
        let bad = b2
            .upload(
                "document",
                &[("doc_type", "national_id")],
                &[("front", "f.png", photo_png(90))],
            )
            .await;
        assert_has(&bad.body, "id=\"back-error\"");
        let p = b2
            .upload(
                "document",
                &[("doc_type", "passport")],
                &[("front", "f.png", photo_png(40))],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        b2.upload("selfie", &[], &[("selfie", "s.png", photo_png(77))])
            .await;
        submit(&mut b2).await;
        let (_, c) = app.customer(&second).await;
        let issues = c["verification"]["requirements"]["issues"].to_string();
        assert!(issues.contains("duplicate_document_image"), "{c}");
    }
);

both_backends!(a_file_too_big_gets_its_own_page, |app| async move {
    let (_, link) = hosted_customer(&app, "hosted-big").await;
    let mut b = FormClient::new(&app);
    open(&mut b, &link).await;
    let max = app.state.config.max_document_bytes;
    let mut big = photo_png(1);
    big.resize(max + 10, 0);
    let page = b.upload("selfie", &[], &[("selfie", "big.png", big)]).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_has(&page.body, "too big");
});

both_backends!(pages_speak_the_users_language, |app| async move {
    let (_, link) = hosted_customer(&app, "hosted-lang").await;
    let mut b = FormClient::new(&app);
    b.lang = Some("pt-BR,pt;q=0.9,en;q=0.5");
    let (_, page) = open(&mut b, &link).await;
    assert_has(&page.body, "<html lang=\"pt-BR\">");
    assert!(
        page.body.contains("Sobre você") && page.body.contains("Etapa 1 de 7"),
        "{}",
        page.body
    );
    // The switcher's choice wins over the browser's and is remembered.
    let (_, es) = b.follow("/hosted/flow/step/personal?lang=es").await;
    assert!(
        es.body.contains("<html lang=\"es\">") && es.body.contains("Sobre ti"),
        "{}",
        es.body
    );
    let (_, still) = b.follow("/hosted/flow/step/personal").await;
    assert_has(&still.body, "Paso 1 de 7");
    let gone = FormClient::new(&app).get("/hosted/v/nope?lang=pt-BR").await;
    assert_has(&gone.body, "Link não encontrado");
});

both_backends!(assets_are_fingerprinted_and_cacheable, |app| async move {
    let (_, link) = hosted_customer(&app, "hosted-assets").await;
    let mut b = FormClient::new(&app);
    let (_, page) = open(&mut b, &link).await;
    for ext in ["css", "js"] {
        let marker = "href=\"/assets/hosted.";
        let at = page
            .body
            .find(if ext == "css" {
                marker
            } else {
                "src=\"/assets/hosted."
            })
            .unwrap();
        let rest = &page.body[at..];
        let start = rest.find("/assets/").unwrap();
        let path = &rest[start..start + rest[start..].find('"').unwrap()];
        assert!(path.ends_with(ext), "{path}");
        let asset = b.get(path).await;
        assert_eq!(asset.status, StatusCode::OK);
        assert!(
            asset.headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    }
    assert_eq!(
        b.get("/assets/hosted.000000000000.css").await.status,
        StatusCode::NOT_FOUND
    );
});

both_backends!(pages_carry_the_organizations_branding, |app| async move {
    for (branding, param) in [
        (json!({"primary_color": "red"}), "branding.primary_color"),
        (json!({"support_email": "nope"}), "branding.support_email"),
    ] {
        let (st, e) = app
            .patch("/v1/settings", json!({"branding": branding}))
            .await;
        assert_eq!(
            (st, e["error"]["param"].as_str()),
            (StatusCode::BAD_REQUEST, Some(param)),
            "{e}"
        );
    }
    let (st, s) = app
        .patch(
            "/v1/settings",
            json!({"branding": {"display_name": "Acme <Bank>", "primary_color": "#0B6E4F", "support_email": "help@acme.example"}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{s}");
    assert_eq!(s["branding"]["display_name"], "Acme <Bank>");
    let (_, link) = hosted_customer(&app, "hosted-brand").await;
    let mut b = FormClient::new(&app);
    let (_, page) = open(&mut b, &link).await;
    assert!(
        page.body.contains("Acme &lt;Bank&gt;"),
        "escaped: {}",
        page.body
    );
    assert_has(&page.body, "--brand:#0B6E4F");
    assert!(page.body.contains("help@acme.example"));
    // The colour's style block is allowed by this response's nonce only.
    let csp = page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        page.body.contains(&format!("<style nonce=\"{nonce}\">")),
        "{csp}"
    );
    let expired = FormClient::new(&app).get(&link).await;
    assert!(
        expired
            .body
            .contains("ask Acme &lt;Bank&gt; for a new link")
            || expired.body.contains("Acme &lt;Bank&gt;"),
        "{}",
        expired.body
    );
});

both_backends!(
    update_requested_shows_the_changed_data_to_confirm,
    |app| async move {
        let (id, changed) = app.update_requested("hosted-update").await;
        let url = changed["verification"]["url"]
            .as_str()
            .expect("a link in update_requested");
        let mut b = FormClient::new(&app);
        let (at, page) = open(&mut b, &url[url.find("/hosted/").unwrap()..]).await;
        assert_eq!(
            at, "/hosted/flow/summary",
            "nothing to type: straight to the confirmation"
        );
        assert!(
            page.body.contains("+5511988887777"),
            "the changed phone is shown: {}",
            page.body
        );
        assert!(page.body.contains("Confirm and submit"));
        let csrf = page.csrf();
        let done = b.post_form("/hosted/flow/submit", &[("csrf", &csrf)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let (_, events) = app
            .get(&format!(
                "/v1/events?customer_id={id}&type=customer.verification.submitted"
            ))
            .await;
        assert_eq!(events["data"].as_array().unwrap().len(), 1, "{events}");
    }
);

both_backends!(
    a_session_ends_after_a_link_lifetime_without_activity,
    |app| async move {
        let (_, link) = hosted_customer(&app, "hosted-idle").await;
        let mut b = FormClient::new(&app);
        open(&mut b, &link).await;
        app.post(
            "/v1/test_helpers/clock/advance",
            json!({"seconds": 20 * 60}),
        )
        .await;
        let (at, _) = b.follow("/hosted/flow").await;
        assert_eq!(
            at, "/hosted/flow/step/personal",
            "activity within the window keeps it"
        );
        app.post(
            "/v1/test_helpers/clock/advance",
            json!({"seconds": 29 * 60}),
        )
        .await;
        assert_eq!(
            b.get("/hosted/flow").await.status,
            StatusCode::SEE_OTHER,
            "still alive 49 minutes after opening: it slides"
        );
        app.post(
            "/v1/test_helpers/clock/advance",
            json!({"seconds": 31 * 60}),
        )
        .await;
        let ended = b.get("/hosted/flow").await;
        assert_eq!(ended.status, StatusCode::GONE);
        assert_has(&ended.body, "session has ended");
    }
);

both_backends!(a_logo_is_checked_reencoded_and_shown, |app| async move {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (st, e) = app
        .patch(
            "/v1/settings",
            json!({"branding": {"logo_base64": "not base64!"}}),
        )
        .await;
    assert_answer(
        st,
        &e,
        "/error/param",
        (StatusCode::BAD_REQUEST, "branding.logo_base64"),
    );
    let (st, _) = app
        .patch(
            "/v1/settings",
            json!({"branding": {"logo_base64": b64(b"GIF89a\x01\x00")}}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let logo = image::RgbImage::from_pixel(64, 32, image::Rgb([11, 110, 79]));
    let mut png = std::io::Cursor::new(vec![]);
    logo.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let (st, s) = app
        .patch(
            "/v1/settings",
            json!({"branding": {"logo_base64": b64(&png.into_inner())}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{s}");
    let stored = s["branding"]["logo_base64"].as_str().unwrap().to_string();
    let (_, link) = hosted_customer(&app, "hosted-logo").await;
    let mut b = FormClient::new(&app);
    let (_, page) = open(&mut b, &link).await;
    assert!(
        page.body
            .contains(&format!("src=\"data:image/png;base64,{stored}\"")),
        "{}",
        page.body
    );
});

both_backends!(
    sandbox_auto_approval_lets_the_hosted_flow_finish_alone,
    |app| async move {
        let (st, _) = app
            .patch("/v1/settings", json!({"auto_approve_hosted": true}))
            .await;
        assert_eq!(st, StatusCode::OK);
        let (id, link) = hosted_customer(&app, "hosted-auto").await;
        let mut b = FormClient::new(&app);
        open(&mut b, &link).await;
        complete_all_steps(&mut b, 60).await;
        submit(&mut b).await;
        let (_, c) = app.customer(&id).await;
        assert_eq!(c["status"], "active", "{c}");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_secure_behind_an_https_public_url() {
    let app = spawn_with(Backend::Sqlite, |c| {
        c.public_url = Some("https://verify.example.com".into())
    })
    .await
    .unwrap();
    let (_, link) = hosted_customer(&app, "hosted-https").await;
    let page = FormClient::new(&app).get(&link).await;
    let cookie = page.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

both_backends!(
    a_business_gives_its_company_details_and_address,
    |app| async move {
        let c = app
            .create_customer(json!({"type": "business", "external_id": "hosted-biz"}))
            .await;
        let id = c["id"].as_str().unwrap();
        let (_, v) = app.start_verification(id).await;
        let url = v["verification"]["url"]
            .as_str()
            .expect("a link")
            .to_string();
        let mut b = FormClient::new(&app);
        let (at, _) = open(&mut b, &url[url.find("/hosted/").unwrap()..]).await;
        assert_eq!(at, "/hosted/flow/step/company");
        let p = b
            .fill(
                "company",
                &[
                    ("legal_name", "Padaria Boa Vista Ltda"),
                    ("registration_number", "12.345.678/0001-95"),
                    ("country", "BR"),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        b.fill(
            "address",
            &[
                ("line1", "Av. Paulista, 1000"),
                ("city", "São Paulo"),
                ("country", "BR"),
            ],
        )
        .await;
        let (at, summary) = b.follow("/hosted/flow").await;
        assert_eq!(at, "/hosted/flow/summary");
        assert!(
            summary
                .body
                .contains("completes the rest of your verification"),
            "the owners are the platform's: {}",
            summary.body
        );
        let csrf = summary.csrf();
        b.post_form("/hosted/flow/submit", &[("csrf", &csrf)]).await;
        let (_, after) = app.customer(id).await;
        assert_eq!(
            after["business"]["legal_name"], "Padaria Boa Vista Ltda",
            "{after}"
        );
        assert_eq!(
            after["verification"]["requirements"]["missing"],
            json!(["beneficial_owner"])
        );
        let (_, done) = b.follow("/hosted/flow").await;
        assert!(
            done.body.contains("Thank you"),
            "nothing left for the end user: {}",
            done.body
        );
    }
);
