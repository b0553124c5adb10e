//! The hosted end-user flow (API.md, "Hosted pages and back office"): a link
//! opens one browser session bound to its customer, the steps ask for what
//! the customer's level still misses, the answers are kept as a sealed
//! draft, and the submission applies them, runs the checks and tells the
//! platform. Plain HTML forms (JavaScript only improves them), three
//! languages, strict security headers, all on the scope's clock.

pub mod i18n;
mod pages;

use crate::error::ApiError;
use crate::service::documents::{AfterUpload, NewDocument};
use crate::service::hosted::Draft;
use crate::service::{self, OperationContext, ServiceResult};
use crate::state::AppState;
use crate::web::{
    SameSite, cookie, or_page, page, random_token, see_other, set_cookie, sha256_hex,
};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use i18n::Lang;
use kycd_core::customer::{Customer, CustomerType};
use kycd_core::hosted::{self as flow, Step};
use kycd_core::policy;
use kycd_core::status::CustomerStatus;
use kycd_store::hosted::{self as db, NewSession};
use pages::{Brand, Choice, Field, Frame, Input, Section, StepPage, SummaryPage};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The session cookie (its value is a random id; only its hash is stored).
const SESSION_COOKIE: &str = "kycd_hosted";
/// The language chosen with the switcher.
const LANG_COOKIE: &str = "kycd_lang";

pub fn router(state: AppState) -> Router<AppState> {
    let upload_limit = 2 * crate::api::documents::body_limit(state.config.max_document_bytes);
    Router::new()
        .route("/hosted/v/{token}", get(open_link))
        .route("/hosted/flow", get(resume))
        .route("/hosted/flow/summary", get(summary))
        .route("/hosted/flow/submit", post(submit))
        .route(
            "/hosted/flow/step/{step}",
            get(step_page)
                .post(step_post)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/assets/{file}", get(asset))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::ratelimit::per_address,
        ))
}

// ---- responses -----------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// The page's language: `?lang=`, the switcher's cookie, Accept-Language, English.
fn language(q: &LangQuery, headers: &HeaderMap) -> Lang {
    q.lang
        .as_deref()
        .and_then(Lang::parse)
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(|c| Lang::parse(&c)))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

/// Remembers a language picked with `?lang=`.
fn remember_language(res: &mut Response, state: &AppState, q: &LangQuery, lang: Lang) {
    if q.lang.is_some() {
        set_cookie(res, state, LANG_COOKIE, lang.tag(), false, SameSite::Lax);
    }
}

async fn brand(state: &AppState, cx: &OperationContext) -> Brand {
    let b = &cx.settings.branding;
    let name = match &b.display_name {
        Some(n) => n.clone(),
        None => match state.store.reader().await {
            Ok(mut conn) => kycd_store::orgs::get_org(&mut conn, &cx.scope.organization_id)
                .await
                .ok()
                .flatten()
                .map(|o| o.name)
                .unwrap_or_else(|| "kycd".into()),
            Err(_) => "kycd".into(),
        },
    };
    Brand {
        name,
        color: b.primary_color.clone(),
        support_email: b.support_email.clone(),
        logo: b.logo_base64.as_ref().map(|l| {
            let kind = if l.starts_with("/9j/") { "jpeg" } else { "png" };
            format!("data:image/{kind};base64,{l}")
        }),
    }
}

/// A page that only says something, with its status.
fn say(status: StatusCode, lang: Lang, brand: &Brand, path: &str, key: &str) -> Response {
    say_with(status, lang, brand, path, key, &[])
}

/// [`say`] with more placeholders for the body.
fn say_with(
    status: StatusCode,
    lang: Lang,
    brand: &Brand,
    path: &str,
    key: &str,
    args: &[(&str, &str)],
) -> Response {
    let nonce = random_token();
    let f = Frame {
        lang,
        brand,
        path,
        nonce: &nonce,
    };
    let mut all = vec![("platform", brand.name.as_str())];
    all.extend_from_slice(args);
    let body = lang.f(&format!("{key}.body"), &all);
    page(
        status,
        &nonce,
        pages::message(&f, lang.t(&format!("{key}.title")), &body),
    )
}

fn unknown_brand(lang: Lang) -> Brand {
    Brand {
        name: lang.t("platform_unknown").to_string(),
        color: None,
        support_email: None,
        logo: None,
    }
}

fn failure(e: service::ServiceError, lang: Lang) -> Response {
    let api = ApiError::from(e);
    tracing::warn!(code = api.code, "hosted page failed");
    let status = if api.status.is_server_error() {
        api.status
    } else {
        StatusCode::BAD_REQUEST
    };
    say(
        status,
        lang,
        &unknown_brand(lang),
        "/hosted/flow",
        "failure",
    )
}

// ---- opening a link ------------------------------------------------------

/// `GET /hosted/v/{token}`: opens the link's one session and moves to a URL
/// without the token; a used, renewed or expired link is `410`, an unknown one `404`.
async fn open_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&q, &headers);
    let path = format!("/hosted/v/{token}");
    let hash = sha256_hex(&token);
    let link = match state.store.reader().await {
        Ok(mut conn) => db::link(&mut conn, &hash).await,
        Err(e) => return failure(e.into(), lang),
    };
    let link = match link {
        Ok(Some(l)) => l,
        Ok(None) => {
            return say(
                StatusCode::NOT_FOUND,
                lang,
                &unknown_brand(lang),
                &path,
                "notfound",
            );
        }
        Err(e) => return failure(e.into(), lang),
    };
    let cx = match service::context_for(&state, &link.scope, "hosted".into()).await {
        Ok(cx) => cx,
        Err(e) => return failure(e, lang),
    };
    let brand = brand(&state, &cx).await;
    if link.retired {
        return say(StatusCode::GONE, lang, &brand, &path, "renewed");
    }
    if link.expires_at <= cx.now {
        return say(StatusCode::GONE, lang, &brand, &path, "expired");
    }
    if link.opened_at.is_some() {
        // The browser that opened it may come back through it.
        let mine = match (cookie(&headers, SESSION_COOKIE), state.store.reader().await) {
            (Some(id), Ok(mut conn)) => db::session(&mut conn, &sha256_hex(&id))
                .await
                .ok()
                .flatten()
                .is_some_and(|s| s.token_hash == hash),
            _ => false,
        };
        if mine {
            let mut res = see_other("/hosted/flow");
            remember_language(&mut res, &state, &q, lang);
            return res;
        }
        return say(StatusCode::GONE, lang, &brand, &path, "used");
    }
    let session_id = random_token();
    let id_hash = sha256_hex(&session_id);
    let csrf = random_token();
    let opened = async {
        let mut tx = state.store.begin().await?;
        let ok = db::open(
            &mut tx,
            &link,
            &NewSession {
                id_hash: &id_hash,
                token_hash: &hash,
                csrf_token: &csrf,
                now: cx.now,
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<_, kycd_store::StoreError>(ok)
    }
    .await;
    match opened {
        Ok(true) => {
            let mut res = see_other("/hosted/flow");
            set_cookie(
                &mut res,
                &state,
                SESSION_COOKIE,
                &session_id,
                true,
                SameSite::Lax,
            );
            remember_language(&mut res, &state, &q, lang);
            res
        }
        Ok(false) => say(StatusCode::GONE, lang, &brand, &path, "used"),
        Err(e) => failure(e.into(), lang),
    }
}

// ---- a visit within a session -------------------------------------------

/// One request of a live session.
struct Visit {
    id_hash: String,
    csrf: String,
    cx: OperationContext,
    lang: Lang,
    brand: Brand,
    customer: Customer,
}

/// The session of this browser, or the page that says why there is none.
async fn visit(
    state: &AppState,
    headers: &HeaderMap,
    q: &LangQuery,
    path: &str,
) -> Result<Visit, Response> {
    let lang = language(q, headers);
    let ended = |status| say(status, lang, &unknown_brand(lang), path, "session");
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Err(ended(StatusCode::UNAUTHORIZED));
    };
    let id_hash = sha256_hex(&id);
    let mut conn = state
        .store
        .reader()
        .await
        .map_err(|e| failure(e.into(), lang))?;
    let Some(session) = db::session(&mut conn, &id_hash)
        .await
        .map_err(|e| failure(e.into(), lang))?
    else {
        return Err(ended(StatusCode::UNAUTHORIZED));
    };
    let cx = service::context_for(state, &session.scope, "hosted".into())
        .await
        .map_err(|e| failure(e, lang))?;
    let brand = brand(state, &cx).await;
    let idle = chrono::Duration::minutes(i64::from(cx.settings.link_ttl_minutes));
    if session.link_retired || session.last_seen_at + idle <= cx.now {
        return Err(say(StatusCode::GONE, lang, &brand, path, "session"));
    }
    let customer =
        kycd_store::customers::get(&mut conn, &*cx.vault, &cx.scope, &session.customer_id)
            .await
            .map_err(|e| failure(e.into(), lang))?
            .customer;
    drop(conn);
    if let Ok(mut tx) = state.store.begin().await
        && db::touch(&mut tx, &id_hash, cx.now).await.is_ok()
    {
        let _ = tx.commit().await;
    }
    Ok(Visit {
        id_hash,
        csrf: session.csrf_token,
        cx,
        lang,
        brand,
        customer,
    })
}

/// Whether the customer waits on the end user (while `pending`, for items
/// an end user can supply: an owner to verify is the platform's).
fn waiting(c: &Customer) -> bool {
    match c.status {
        CustomerStatus::Pending => {
            !flow::steps(c.customer_type, &c.verification.requirements.missing).is_empty()
        }
        CustomerStatus::NeedsInformation | CustomerStatus::UpdateRequested => true,
        _ => false,
    }
}

/// Where the end user stands: the steps, which are done, and the draft.
struct Progress {
    steps: Vec<Step>,
    done: Vec<Step>,
    draft: Draft,
    preview: Customer,
}

impl Progress {
    fn next(&self) -> Option<Step> {
        self.steps.iter().copied().find(|s| !self.done.contains(s))
    }
}

async fn progress(state: &AppState, v: &Visit) -> ServiceResult<Progress> {
    let c = &v.customer;
    let missing = &c.verification.requirements.missing;
    let steps = flow::steps(c.customer_type, missing);
    let mut conn = state.store.reader().await?;
    let draft = service::hosted::draft(state, &mut conn, &v.cx, &c.id).await?;
    let preview = service::hosted::preview(c, &draft, &v.cx).unwrap_or_else(|_| c.clone());
    let (evidence, _) = service::evaluation::evidence(&mut conn, &v.cx, &preview).await?;
    let done = steps
        .iter()
        .copied()
        .filter(|s| {
            missing
                .iter()
                .filter(|code| Step::for_requirement(c.customer_type, code) == Some(*s))
                .all(|code| policy::is_met(code, &preview, &evidence))
        })
        .collect();
    Ok(Progress {
        steps,
        done,
        draft,
        preview,
    })
}

/// Where the flow stands when the customer no longer waits on the user.
fn status_page(v: &Visit, path: &str) -> Response {
    let c = &v.customer;
    match c.status {
        // Submitted: waiting for the checks or a reviewer, or already decided.
        CustomerStatus::Pending
        | CustomerStatus::OnHold
        | CustomerStatus::Active
        | CustomerStatus::Verified => say(StatusCode::OK, v.lang, &v.brand, path, "done"),
        CustomerStatus::Rejected => {
            let nonce = random_token();
            let f = Frame {
                lang: v.lang,
                brand: &v.brand,
                path,
                nonce: &nonce,
            };
            let reason = c
                .verification
                .rejection_reason
                .map(|r| v.lang.t(&format!("reason.{}", r.as_str())).to_string())
                .unwrap_or_default();
            page(
                StatusCode::OK,
                &nonce,
                pages::message(&f, v.lang.t("rejected.title"), &reason),
            )
        }
        _ => say(StatusCode::OK, v.lang, &v.brand, path, "nothing"),
    }
}

/// `GET /hosted/flow`: the first unfinished step, else the summary.
async fn resume(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let v = or_page!(visit(&state, &headers, &q, "/hosted/flow").await);
    if !waiting(&v.customer) {
        let mut res = status_page(&v, "/hosted/flow");
        remember_language(&mut res, &state, &q, v.lang);
        return res;
    }
    let mut res = match progress(&state, &v).await {
        Ok(p) => match p.next() {
            Some(s) => see_other(&format!("/hosted/flow/step/{}", s.slug())),
            None => see_other("/hosted/flow/summary"),
        },
        Err(e) => failure(e, v.lang),
    };
    remember_language(&mut res, &state, &q, v.lang);
    res
}

// ---- steps ---------------------------------------------------------------

fn text(kind: &'static str, autocomplete: &'static str) -> Input {
    Input::Text {
        kind,
        autocomplete,
        inputmode: None,
    }
}

fn countries() -> Vec<Choice> {
    kycd_core::countries::ALPHA2
        .iter()
        .map(|c| Choice {
            value: c.to_string(),
            label: format!("{} ({c})", kycd_core::countries::name(c).unwrap_or(c)),
            back: false,
        })
        .collect()
}

fn str_at(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// The fields of a step, filled with what is known.
fn fields(step: Step, l: Lang, c: &Customer, max_bytes: usize) -> Vec<Field> {
    let doc = serde_json::to_value(c).unwrap_or_default();
    let who = if c.customer_type == CustomerType::Business {
        "business"
    } else {
        "individual"
    };
    let addr = serde_json::to_value(c.primary_address()).unwrap_or_default();
    let mk =
        |name: &'static str, input: Input, required: bool, hint: Option<&str>, value: String| {
            Field {
                name,
                label: l.t(&format!("field.{name}")).to_string(),
                input,
                required,
                hint: hint.map(|h| l.f(h, &[("mb", &(max_bytes / (1024 * 1024)).to_string())])),
                value,
                error: None,
                wrapper_id: None,
            }
        };
    let file = |name: &'static str, capture: Option<&'static str>, hint: &str| {
        mk(
            name,
            Input::File {
                accept: "image/jpeg,image/png,application/pdf",
                capture,
            },
            true,
            Some(hint),
            String::new(),
        )
    };
    // A field of the customer's own object (`individual` or `business`),
    // and one of the primary address.
    let own = |name: &'static str, input: Input, required: bool, hint: Option<&str>| {
        mk(
            name,
            input,
            required,
            hint,
            str_at(&doc, &format!("/{who}/{name}")),
        )
    };
    let line = |name: &'static str, input: Input, required: bool| {
        mk(
            name,
            input,
            required,
            None,
            str_at(&addr, &format!("/{name}")),
        )
    };
    let dob = Input::Text {
        kind: "text",
        autocomplete: "bday",
        inputmode: Some("numeric"),
    };
    match step {
        Step::Personal => vec![
            own("first_name", text("text", "given-name"), true, None),
            own("middle_name", text("text", "additional-name"), false, None),
            own("last_name", text("text", "family-name"), true, None),
            own("date_of_birth", dob, true, Some("hint.date_of_birth")),
            own("nationality", Input::Select(countries()), true, None),
        ],
        Step::Company => vec![
            own("legal_name", text("text", "organization"), true, None),
            own("registration_number", text("text", "off"), true, None),
            own("country", Input::Select(countries()), true, None),
        ],
        Step::Contact => vec![
            own("email", text("email", "email"), true, None),
            own("phone", text("tel", "tel"), true, Some("hint.phone")),
        ],
        Step::Address => vec![
            line("line1", text("text", "address-line1"), true),
            line("line2", text("text", "address-line2"), false),
            line("city", text("text", "address-level2"), true),
            line("region", text("text", "address-level1"), false),
            line("postal_code", text("text", "postal-code"), false),
            line("country", Input::Select(countries()), true),
        ],
        Step::NationalId => {
            let types = flow::national_id_types(c.residence_country());
            let choices = types
                .iter()
                .map(|t| Choice {
                    value: t.to_string(),
                    label: l.t(&format!("idtype.{t}")).to_string(),
                    back: false,
                })
                .collect();
            let mut value = mk(
                "id_value",
                Input::Text {
                    kind: "text",
                    autocomplete: "off",
                    inputmode: None,
                },
                true,
                Some(&format!("hint.{}", types[0])),
                String::new(),
            );
            value.label = l.t(&format!("idtype.{}", types[0])).to_string();
            if types.len() == 1 {
                vec![value]
            } else {
                vec![
                    mk(
                        "id_type",
                        Input::Select(choices),
                        true,
                        None,
                        types[0].to_string(),
                    ),
                    value,
                ]
            }
        }
        Step::Document => {
            let choices = flow::IDENTITY_DOCUMENT_TYPES
                .iter()
                .map(|(t, back)| Choice {
                    value: t.to_string(),
                    label: l.t(&format!("doctype.{t}")).to_string(),
                    back: *back,
                })
                .collect();
            let mut back = file("back", Some("environment"), "hint.file");
            // Required for the types that have a back (the script hides it for the others).
            back.wrapper_id = Some("back-field");
            vec![
                mk(
                    "doc_type",
                    Input::Select(choices),
                    true,
                    None,
                    String::new(),
                ),
                file("front", Some("environment"), "hint.file"),
                back,
            ]
        }
        Step::Selfie => vec![mk(
            "selfie",
            Input::File {
                accept: "image/jpeg,image/png",
                capture: Some("user"),
            },
            true,
            Some("hint.selfie"),
            String::new(),
        )],
        Step::ProofOfAddress | Step::Formation => {
            vec![file("file", Some("environment"), "hint.file")]
        }
    }
}

/// `GET /hosted/flow/step/{step}`.
async fn step_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/hosted/flow/step/{slug}");
    let v = or_page!(visit(&state, &headers, &q, &path).await);
    let mut res = render_step(&state, &v, &slug, HashMap::new(), HashMap::new()).await;
    remember_language(&mut res, &state, &q, v.lang);
    res
}

/// Renders a step with the user's answers and errors (after a refused POST).
async fn render_step(
    state: &AppState,
    v: &Visit,
    slug: &str,
    answers: HashMap<String, String>,
    errors: HashMap<String, String>,
) -> Response {
    if !waiting(&v.customer) {
        return see_other("/hosted/flow");
    }
    let p = match progress(state, v).await {
        Ok(p) => p,
        Err(e) => return failure(e, v.lang),
    };
    let Some(step) = Step::from_slug(slug).filter(|s| p.steps.contains(s)) else {
        return see_other("/hosted/flow");
    };
    let l = v.lang;
    let max_bytes = state.config.max_document_bytes;
    let mut fs = fields(step, l, &p.preview, max_bytes);
    for f in &mut fs {
        if let Some(a) = answers.get(f.name) {
            f.value = a.clone();
        }
        f.error = errors.get(f.name).cloned();
    }
    let alert = (!errors.is_empty()).then(|| {
        errors
            .get("")
            .cloned()
            .unwrap_or_else(|| l.t("error_summary").to_string())
    });
    let number = p.steps.iter().position(|s| *s == step).unwrap_or(0) + 1;
    let intro = match v.customer.status {
        CustomerStatus::NeedsInformation => {
            Some(l.f("needs_info_intro", &[("platform", &v.brand.name)]))
        }
        _ => None,
    };
    let nonce = random_token();
    let path = format!("/hosted/flow/step/{slug}");
    let f = Frame {
        lang: l,
        brand: &v.brand,
        path: &path,
        nonce: &nonce,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &nonce,
        pages::step(
            &f,
            &StepPage {
                heading: l.t(&format!("step.{}", step.slug())).to_string(),
                number,
                total: p.steps.len() + 1,
                intro,
                action: path.clone(),
                csrf: &v.csrf,
                multipart: step.uploads(),
                fields: fs,
                alert,
                max_bytes,
            },
        ),
    )
}

/// The form of a step as sent: text fields, and files with their bytes.
#[derive(Default)]
struct Form {
    text: HashMap<String, String>,
    files: HashMap<String, Vec<u8>>,
    too_big: bool,
}

async fn read_form(req: Request, state: &AppState, multipart: bool) -> Result<Form, StatusCode> {
    let mut form = Form::default();
    if !multipart {
        let axum::Form(map) = axum::Form::<HashMap<String, String>>::from_request(req, state)
            .await
            .map_err(|_| StatusCode::BAD_REQUEST)?;
        form.text = map;
        return Ok(form);
    }
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let max = state.config.max_document_bytes;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                form.too_big = true;
                return Ok(form);
            }
            Err(_) => return Err(StatusCode::BAD_REQUEST),
        };
        let name = field.name().unwrap_or("").to_string();
        let is_file = field.file_name().is_some();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                form.too_big = true;
                return Ok(form);
            }
            Err(_) => return Err(StatusCode::BAD_REQUEST),
        };
        if is_file {
            if bytes.len() > max {
                form.too_big = true;
            }
            if !bytes.is_empty() {
                form.files.insert(name, bytes.to_vec());
            }
        } else {
            form.text
                .insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(form)
}

fn csrf_ok(form: &Form, v: &Visit) -> bool {
    use subtle::ConstantTimeEq;
    let sent = form.text.get("csrf").map(String::as_bytes).unwrap_or(b"");
    bool::from(sent.ct_eq(v.csrf.as_bytes()))
}

/// `POST /hosted/flow/step/{step}`: saves the step (nothing when anything
/// is wrong: the form comes back with the errors next to their fields).
async fn step_post(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LangQuery>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let path = format!("/hosted/flow/step/{slug}");
    let v = or_page!(visit(&state, &headers, &q, &path).await);
    let Some(step) = Step::from_slug(&slug) else {
        return see_other("/hosted/flow");
    };
    if !waiting(&v.customer) {
        return see_other("/hosted/flow");
    }
    let form = match read_form(req, &state, step.uploads()).await {
        Ok(f) => f,
        Err(status) => return say(status, v.lang, &v.brand, &path, "failure"),
    };
    let l = v.lang;
    if !csrf_ok(&form, &v) {
        let errors = HashMap::from([(String::new(), l.t("error.csrf").to_string())]);
        return render_step(&state, &v, &slug, form.text, errors).await;
    }
    let mb = (state.config.max_document_bytes / (1024 * 1024)).to_string();
    if form.too_big {
        let mut res = say_with(
            StatusCode::PAYLOAD_TOO_LARGE,
            l,
            &v.brand,
            &path,
            "too_big",
            &[("mb", &mb)],
        );
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    let saved = if step.uploads() {
        save_uploads(&state, &v, step, &form).await
    } else {
        save_fields(&state, &v, step, &form).await
    };
    match saved {
        Ok(errors) if errors.is_empty() => see_other("/hosted/flow"),
        Ok(errors) => render_step(&state, &v, &slug, form.text, errors).await,
        Err(e) => failure(e, l),
    }
}

/// The form field an API error points at.
fn field_of(param: &str) -> &str {
    let last = param.rsplit('.').next().unwrap_or(param);
    if param.starts_with("identifiers") {
        return if last == "value" {
            "id_value"
        } else {
            "id_type"
        };
    }
    last
}

/// A localized message for a field the API refused.
fn message_for(l: Lang, field: &str) -> String {
    let key = match field {
        "date_of_birth" | "email" | "phone" | "id_value" => format!("error.{field}"),
        "country" | "nationality" => "error.country".to_string(),
        _ => "error.invalid".to_string(),
    };
    l.t(&key).to_string()
}

fn blank_to_null(s: Option<&String>) -> Value {
    match s.map(|s| s.trim()) {
        Some(s) if !s.is_empty() => Value::String(s.to_string()),
        _ => Value::Null,
    }
}

async fn save_fields(
    state: &AppState,
    v: &Visit,
    step: Step,
    form: &Form,
) -> ServiceResult<HashMap<String, String>> {
    let l = v.lang;
    let c = &v.customer;
    // The form was built from the customer with the draft applied (the
    // country of residence typed two steps ago picks the identifier).
    let shown = progress(state, v).await?.preview;
    let get = |k: &str| form.text.get(k);
    let mut errors = HashMap::new();
    for f in fields(step, l, &shown, 0) {
        if f.required && get(f.name).is_none_or(|s| s.trim().is_empty()) {
            errors.insert(f.name.to_string(), l.t("error.required").to_string());
        }
    }
    if !errors.is_empty() {
        return Ok(errors);
    }
    let who = if c.customer_type == CustomerType::Business {
        "business"
    } else {
        "individual"
    };
    let obj = |keys: &[&str]| {
        let m: serde_json::Map<String, Value> = keys
            .iter()
            .map(|k| (k.to_string(), blank_to_null(get(k))))
            .collect();
        Value::Object(m)
    };
    let answers: Draft = match step {
        Step::Personal => json!({"individual": obj(&["first_name", "middle_name", "last_name", "date_of_birth", "nationality"])}),
        Step::Company => json!({"business": obj(&["legal_name", "registration_number", "country"])}),
        Step::Contact => json!({ who: obj(&["email", "phone"]) }),
        Step::Address => {
            let mut list: Vec<Value> = c
                .addresses
                .iter()
                .filter(|a| !a.primary)
                .map(|a| serde_json::to_value(a).unwrap_or_default())
                .collect();
            let mut new = obj(&["line1", "line2", "city", "region", "postal_code", "country"]);
            new["primary"] = Value::Bool(true);
            list.push(new);
            json!({ "addresses": list })
        }
        Step::NationalId => {
            let types = flow::national_id_types(shown.residence_country());
            let kind = get("id_type").map(|s| s.trim().to_string()).unwrap_or_else(|| types[0].to_string());
            if !types.contains(&kind.as_str()) {
                errors.insert("id_type".into(), l.t("error.invalid").to_string());
                return Ok(errors);
            }
            let mut id = json!({"type": kind, "value": get("id_value").map(|s| s.trim()).unwrap_or("")});
            if !matches!(kind.as_str(), "cpf" | "ssn" | "itin")
                && let Some(country) = shown.residence_country()
            {
                id["country"] = Value::String(country.to_string());
            }
            json!({ "identifiers": [id] })
        }
        _ => json!({}),
    }
    .as_object()
    .cloned()
    .unwrap_or_default();
    match service::hosted::save_step(state, &v.cx, c, answers).await {
        Ok(()) => Ok(errors),
        Err(e) => match e.as_domain() {
            Some(refusal) => {
                let field = refusal.param.as_deref().map(field_of).unwrap_or("");
                let known = fields(step, l, &shown, 0).iter().any(|f| f.name == field);
                let key = if known { field } else { "" };
                let message = if known {
                    message_for(l, field)
                } else {
                    l.t("error.invalid").to_string()
                };
                errors.insert(key.to_string(), message);
                Ok(errors)
            }
            _ => Err(e),
        },
    }
}

/// A checked upload, or the message for its field.
type Checked = Result<NewDocument, String>;

/// One uploaded file checked like the API's uploads, photos cleaned.
fn checked_upload(
    state: &AppState,
    l: Lang,
    doc_type: &str,
    side: Option<&str>,
    bytes: Option<&Vec<u8>>,
) -> Checked {
    let Some(bytes) = bytes else {
        return Err(l.t("error.file_required").to_string());
    };
    let content_type = crate::api::documents::sniff(bytes);
    let raw = crate::api::documents::RawUpload {
        doc_type: Some(doc_type.to_string()),
        side: side.map(str::to_string),
        content_type: Some(
            content_type
                .unwrap_or("application/octet-stream")
                .to_string(),
        ),
        content: Some(bytes.clone()),
        content_param: "content",
    };
    let max = state.config.max_document_bytes;
    let mut doc = crate::api::documents::validate(raw, max).map_err(|e| {
        if e.status == StatusCode::PAYLOAD_TOO_LARGE {
            l.f(
                "error.file_too_big",
                &[("mb", &(max / (1024 * 1024)).to_string())],
            )
        } else {
            l.t("error.file_type").to_string()
        }
    })?;
    if doc.content_type.starts_with("image/") {
        doc.bytes = crate::images::clean(&doc.bytes, &doc.content_type)
            .map_err(|_| l.t("error.file_type").to_string())?
            .bytes;
    }
    Ok(doc)
}

async fn save_uploads(
    state: &AppState,
    v: &Visit,
    step: Step,
    form: &Form,
) -> ServiceResult<HashMap<String, String>> {
    let l = v.lang;
    let mut errors = HashMap::new();
    let mut files: Vec<(&str, Checked)> = vec![];
    match step {
        Step::Document => {
            let doc_type = form.text.get("doc_type").map(|s| s.trim()).unwrap_or("");
            if !flow::IDENTITY_DOCUMENT_TYPES
                .iter()
                .any(|(t, _)| *t == doc_type)
            {
                errors.insert("doc_type".to_string(), l.t("error.required").to_string());
                return Ok(errors);
            }
            files.push((
                "front",
                checked_upload(state, l, doc_type, Some("front"), form.files.get("front")),
            ));
            if flow::has_back(doc_type) {
                files.push((
                    "back",
                    checked_upload(state, l, doc_type, Some("back"), form.files.get("back")),
                ));
            }
        }
        Step::Selfie => files.push((
            "selfie",
            checked_upload(state, l, "selfie", None, form.files.get("selfie")),
        )),
        Step::ProofOfAddress => files.push((
            "file",
            checked_upload(state, l, "proof_of_address", None, form.files.get("file")),
        )),
        Step::Formation => files.push((
            "file",
            checked_upload(state, l, "business_formation", None, form.files.get("file")),
        )),
        _ => {}
    }
    for (name, r) in &files {
        if let Err(m) = r {
            errors.insert(name.to_string(), m.clone());
        }
    }
    if !errors.is_empty() {
        return Ok(errors);
    }
    for (_, r) in files {
        let Ok(doc) = r else { continue };
        service::documents::store(
            state,
            &v.cx,
            &v.customer.id,
            doc,
            AfterUpload::WaitForSubmission,
        )
        .await?;
    }
    Ok(errors)
}

// ---- summary and submission ----------------------------------------------

fn sections(l: Lang, p: &Progress, c: &Customer, editable: bool) -> Vec<Section> {
    let doc = serde_json::to_value(&p.preview).unwrap_or_default();
    let who = if c.customer_type == CustomerType::Business {
        "business"
    } else {
        "individual"
    };
    let row = |field: &str, value: String| (l.t(&format!("field.{field}")).to_string(), value);
    let shown: Vec<Step> = if p.steps.is_empty() {
        // update_requested: the data on file, to confirm.
        let mut s = vec![
            if c.customer_type == CustomerType::Business {
                Step::Company
            } else {
                Step::Personal
            },
            Step::Contact,
        ];
        if c.primary_address().is_some() {
            s.push(Step::Address);
        }
        s
    } else {
        p.steps.clone()
    };
    shown
        .into_iter()
        .map(|step| {
            let rows = match step {
                Step::Personal => [
                    "first_name",
                    "middle_name",
                    "last_name",
                    "date_of_birth",
                    "nationality",
                ]
                .iter()
                .map(|f| row(f, str_at(&doc, &format!("/individual/{f}"))))
                .collect(),
                Step::Company => ["legal_name", "registration_number", "country"]
                    .iter()
                    .map(|f| row(f, str_at(&doc, &format!("/business/{f}"))))
                    .collect(),
                Step::Contact => ["email", "phone"]
                    .iter()
                    .map(|f| row(f, str_at(&doc, &format!("/{who}/{f}"))))
                    .collect(),
                Step::Address => {
                    let a = serde_json::to_value(p.preview.primary_address()).unwrap_or_default();
                    ["line1", "line2", "city", "region", "postal_code", "country"]
                        .iter()
                        .map(|f| row(f, str_at(&a, &format!("/{f}"))))
                        .collect()
                }
                Step::NationalId => p
                    .draft
                    .get("identifiers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|i| {
                        let kind = i["type"].as_str().unwrap_or("");
                        let value = i["value"].as_str().unwrap_or("");
                        let shown: String = value
                            .chars()
                            .rev()
                            .take(4)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect();
                        (
                            l.t(&format!("idtype.{kind}")).to_string(),
                            format!("•••• {shown}"),
                        )
                    })
                    .collect(),
                _ => vec![(
                    l.t(&format!("step.{}", step.slug())).to_string(),
                    l.t("summary.uploaded").to_string(),
                )],
            };
            let rows: Vec<(String, String)> = rows
                .into_iter()
                .filter(|(_, v): &(String, String)| !v.is_empty())
                .collect();
            Section {
                title: l.t(&format!("step.{}", step.slug())).to_string(),
                edit: (editable && p.steps.contains(&step))
                    .then(|| format!("/hosted/flow/step/{}", step.slug())),
                rows,
            }
        })
        .collect()
}

/// `GET /hosted/flow/summary`: everything entered, with edit links, and the submit button.
async fn summary(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let path = "/hosted/flow/summary";
    let v = or_page!(visit(&state, &headers, &q, path).await);
    if !waiting(&v.customer) {
        return see_other("/hosted/flow");
    }
    let p = match progress(&state, &v).await {
        Ok(p) => p,
        Err(e) => return failure(e, v.lang),
    };
    if let Some(s) = p.next() {
        return see_other(&format!("/hosted/flow/step/{}", s.slug()));
    }
    let l = v.lang;
    let c = &v.customer;
    let platform_only =
        flow::not_collectable(c.customer_type, &c.verification.requirements.missing);
    let update = c.status == CustomerStatus::UpdateRequested;
    let note = if update {
        Some(l.f("update_intro", &[("platform", &v.brand.name)]))
    } else if !platform_only.is_empty() {
        Some(l.f("platform_items", &[("platform", &v.brand.name)]))
    } else {
        None
    };
    let intro = if p.steps.is_empty() && !update {
        l.t("summary.nothing")
    } else {
        l.t("summary.intro")
    };
    let nonce = random_token();
    let f = Frame {
        lang: l,
        brand: &v.brand,
        path,
        nonce: &nonce,
    };
    let total = p.steps.len() + 1;
    let mut res = page(
        StatusCode::OK,
        &nonce,
        pages::summary(
            &f,
            &SummaryPage {
                heading: l.t("step.summary").to_string(),
                intro: intro.to_string(),
                sections: sections(l, &p, c, true),
                note,
                csrf: &v.csrf,
                button: if update {
                    l.t("confirm")
                } else {
                    l.t("submit")
                }
                .to_string(),
                progress: (!p.steps.is_empty()).then_some((total, total)),
            },
        ),
    );
    remember_language(&mut res, &state, &q, l);
    res
}

/// `POST /hosted/flow/submit`: applies the draft and runs the checks.
async fn submit(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let path = "/hosted/flow/summary";
    let v = or_page!(visit(&state, &headers, &q, path).await);
    let form = match read_form(req, &state, false).await {
        Ok(f) => f,
        Err(status) => return say(status, v.lang, &v.brand, path, "failure"),
    };
    if !csrf_ok(&form, &v) {
        return say(StatusCode::FORBIDDEN, v.lang, &v.brand, path, "csrf");
    }
    if !waiting(&v.customer) {
        return see_other("/hosted/flow");
    }
    match progress(&state, &v).await {
        Ok(p) if p.next().is_some() => return see_other("/hosted/flow"),
        Ok(_) => {}
        Err(e) => return failure(e, v.lang),
    }
    match service::hosted::submit(&state, &v.cx, &v.customer.id).await {
        Ok(_) => {
            tracing::info!(session = %&v.id_hash[..8], "hosted flow submitted");
            see_other("/hosted/flow")
        }
        Err(e) => failure(e, v.lang),
    }
}

/// `GET /assets/{file}`: the hosted pages' CSS and JavaScript, by fingerprinted name.
async fn asset(Path(file): Path<String>) -> Response {
    let found = [&*pages::CSS, &*pages::JS]
        .into_iter()
        .find(|a| a.name == file);
    match found {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.body,
        )
            .into_response(),
        None => crate::http::not_found().await.into_response(),
    }
}
