//! The hosted flow's HTML (maud: every value escaped by construction): the
//! page frame (branding, language switcher, progress), form fields wired for
//! assistive technology (labels, hints and errors by `aria-describedby`,
//! `aria-invalid`, an announced error summary), the step, summary and
//! message pages.

use super::i18n::Lang;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The organization as its end users see it.
#[derive(Debug, Clone)]
pub struct Brand {
    pub name: String,
    /// `#RRGGBB`, validated by the settings.
    pub color: Option<String>,
    pub support_email: Option<String>,
    /// A `data:` URI of the logo (re-encoded by the settings).
    pub logo: Option<String>,
}

/// What every page shares.
pub struct Frame<'a> {
    pub lang: Lang,
    pub brand: &'a Brand,
    /// The page's path, for the language links.
    pub path: &'a str,
    /// The CSP nonce of this response (the brand colour's style block).
    pub nonce: &'a str,
}

/// A static file served by kycd under a name that changes with its content.
pub struct Asset {
    pub name: String,
    pub body: &'static str,
    pub content_type: &'static str,
}

fn fingerprinted(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Asset {
    let hash = hex::encode(Sha256::digest(body.as_bytes()));
    Asset {
        name: format!("{stem}.{}.{ext}", &hash[..12]),
        body,
        content_type,
    }
}

pub static CSS: LazyLock<Asset> = LazyLock::new(|| {
    fingerprinted(
        "hosted",
        "css",
        include_str!("assets/hosted.css"),
        "text/css; charset=utf-8",
    )
});
pub static JS: LazyLock<Asset> = LazyLock::new(|| {
    fingerprinted(
        "hosted",
        "js",
        include_str!("assets/hosted.js"),
        "text/javascript; charset=utf-8",
    )
});

/// The whole document around a page's content.
pub fn document(f: &Frame, title: &str, content: Markup) -> Markup {
    let l = f.lang;
    html! {
        (DOCTYPE)
        html lang=(l.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · " (f.brand.name) }
                link rel="stylesheet" href={ "/assets/" (CSS.name) };
                @if let Some(c) = &f.brand.color {
                    style nonce=(f.nonce) { (PreEscaped(format!(":root{{--brand:{c}}}"))) }
                }
            }
            body {
                header.top {
                    div.in {
                        span.brand {
                            @if let Some(logo) = &f.brand.logo {
                                img.logo src=(logo) alt="";
                            }
                            (f.brand.name)
                        }
                        nav aria-label=(l.t("languages")) {
                            ul.langs {
                                @for other in Lang::ALL {
                                    li {
                                        @if other == l {
                                            a href={ (f.path) "?lang=" (other.tag()) } lang=(other.tag()) hreflang=(other.tag()) aria-current="true" { (other.t("language_name")) }
                                        } @else {
                                            a href={ (f.path) "?lang=" (other.tag()) } lang=(other.tag()) hreflang=(other.tag()) { (other.t("language_name")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="main" { (content) }
                footer.foot {
                    p { (l.f("secured", &[("platform", &f.brand.name)])) }
                    @if let Some(e) = &f.brand.support_email {
                        p { (l.f("support", &[("email", e)])) }
                    }
                }
                script src={ "/assets/" (JS.name) } defer {}
            }
        }
    }
}

/// A page that only says something (expired link, thank you…).
pub fn message(f: &Frame, title: &str, body: &str) -> Markup {
    document(
        f,
        title,
        html! {
            div.card {
                h1 { (title) }
                p { (body) }
            }
        },
    )
}

/// How a field is entered.
#[derive(Debug, Clone)]
pub enum Input {
    Text {
        kind: &'static str,
        autocomplete: &'static str,
        inputmode: Option<&'static str>,
    },
    Select(Vec<Choice>),
    File {
        accept: &'static str,
        capture: Option<&'static str>,
    },
}

/// One option of a select.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    /// `data-back`: an identity document type with a back side.
    pub back: bool,
}

/// A form field as shown.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub input: Input,
    pub required: bool,
    pub hint: Option<String>,
    pub value: String,
    pub error: Option<String>,
    /// Wrapped in an element with this id (the document's back side).
    pub wrapper_id: Option<&'static str>,
}

fn field(l: Lang, f: &Field, max_bytes: usize) -> Markup {
    let id = f.name;
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described: Vec<&str> = [
        f.hint.as_ref().map(|_| hint_id.as_str()),
        f.error.as_ref().map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let described = described.join(" ");
    let invalid = f.error.as_ref().map(|_| "true");
    let too_big = l.f(
        "error.file_too_big",
        &[("mb", &(max_bytes / (1024 * 1024)).to_string())],
    );
    html! {
        div.field.error[f.error.is_some()] id=[f.wrapper_id] {
            label for=(id) {
                (f.label)
                @if !f.required { " (" (l.t("optional")) ")" }
            }
            @if let Some(h) = &f.hint { span.hint id=(hint_id) { (h) } }
            @match &f.input {
                Input::Text { kind, autocomplete, inputmode } => {
                    input type=(kind) id=(id) name=(id) value=(f.value) autocomplete=(autocomplete)
                        inputmode=[inputmode] required[f.required]
                        aria-describedby=[(!described.is_empty()).then_some(&described)]
                        aria-invalid=[invalid];
                }
                Input::Select(choices) => {
                    select id=(id) name=(id) required[f.required]
                        aria-describedby=[(!described.is_empty()).then_some(&described)]
                        aria-invalid=[invalid] {
                        @if f.value.is_empty() { option value="" {} }
                        @for c in choices {
                            option value=(c.value) selected[c.value == f.value] data-back=(c.back) { (c.label) }
                        }
                    }
                }
                Input::File { accept, capture } => {
                    input type="file" id=(id) name=(id) accept=(accept) capture=[capture]
                        required[f.required] data-max-bytes=(max_bytes) data-too-big=(too_big)
                        data-camera=[capture] data-camera-open=(l.t("camera.open"))
                        data-camera-take=(l.t("camera.take"))
                        aria-describedby=[(!described.is_empty()).then_some(&described)]
                        aria-invalid=[invalid];
                    p.msg.js-msg aria-live="polite" {}
                }
            }
            @if let Some(e) = &f.error { p.msg id=(error_id) { (e) } }
        }
    }
}

/// A step's form.
pub struct StepPage<'a> {
    pub heading: String,
    pub number: usize,
    pub total: usize,
    pub intro: Option<String>,
    pub action: String,
    pub csrf: &'a str,
    pub multipart: bool,
    pub fields: Vec<Field>,
    pub alert: Option<String>,
    pub max_bytes: usize,
}

pub fn step(f: &Frame, p: &StepPage) -> Markup {
    let l = f.lang;
    let progress = l.f(
        "progress",
        &[
            ("n", &p.number.to_string()),
            ("total", &p.total.to_string()),
        ],
    );
    let enctype = if p.multipart {
        "multipart/form-data"
    } else {
        "application/x-www-form-urlencoded"
    };
    document(
        f,
        &p.heading,
        html! {
            div.card {
                p.progress { (progress) }
                progress value=(p.number) max=(p.total) aria-hidden="true" {}
                h1 { (p.heading) }
                @if let Some(i) = &p.intro { p.note { (i) } }
                div aria-live="assertive" {
                    @if let Some(a) = &p.alert { p.alert role="alert" { (a) } }
                }
                form method="post" action=(p.action) enctype=(enctype) novalidate {
                    input type="hidden" name="csrf" value=(p.csrf);
                    @for fl in &p.fields { (field(l, fl, p.max_bytes)) }
                    button type="submit" { (l.t("save")) }
                }
            }
        },
    )
}

/// One block of the summary.
pub struct Section {
    pub title: String,
    pub edit: Option<String>,
    pub rows: Vec<(String, String)>,
}

pub struct SummaryPage<'a> {
    pub heading: String,
    pub intro: String,
    pub sections: Vec<Section>,
    pub note: Option<String>,
    pub csrf: &'a str,
    pub button: String,
    pub progress: Option<(usize, usize)>,
}

pub fn summary(f: &Frame, p: &SummaryPage) -> Markup {
    let l = f.lang;
    document(
        f,
        &p.heading,
        html! {
            div.card {
                @if let Some((n, total)) = p.progress {
                    p.progress { (l.f("progress", &[("n", &n.to_string()), ("total", &total.to_string())])) }
                    progress value=(n) max=(total) aria-hidden="true" {}
                }
                h1 { (p.heading) }
                p { (p.intro) }
                @if let Some(n) = &p.note { p.note { (n) } }
                @for s in &p.sections {
                    section.sum {
                        h2 {
                            span { (s.title) }
                            @if let Some(href) = &s.edit {
                                a href=(href) { (l.t("edit")) span.visually-hidden { " " (s.title) } }
                            }
                        }
                        dl {
                            @for (k, v) in &s.rows { dt { (k) } dd { (v) } }
                        }
                    }
                }
                form method="post" action="/hosted/flow/submit" {
                    input type="hidden" name="csrf" value=(p.csrf);
                    button type="submit" { (p.button) }
                }
            }
        },
    )
}
