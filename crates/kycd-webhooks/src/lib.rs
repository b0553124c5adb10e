//! kycd-webhooks: pure building blocks for webhook delivery.
//!
//! * [`sign`], [`signature_header`], [`verify`]: message signing exactly per
//!   the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature` headers; `whsec_` secrets; HMAC-SHA256);
//! * [`verify_payload_digest`]: inbound provider webhooks signed with a
//!   payload digest (Sumsub's `X-Payload-Digest`);
//! * [`next_retry_delay`]: the retry schedule (8 attempts over about 28 hours);
//! * [`is_forbidden_ip`], [`check_url`], [`check_resolved_addrs`]: the SSRF
//!   guard applied to endpoint URLs and to every address they resolve to.
//!
//! No I/O happens here: sending, DNS resolution and clocks belong to the caller.

mod provider_digest;
mod retry;
mod signing;
mod ssrf;

pub use provider_digest::{DigestError, payload_digest, verify_payload_digest};
pub use retry::{MAX_ATTEMPTS, RETRY_DELAYS_SECS, next_retry_delay};
pub use signing::{
    DEFAULT_TOLERANCE_SECS, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_SECRET_BYTES,
    MIN_SECRET_BYTES, SECRET_PREFIX, SecretError, VerifyError, WebhookSecret, generate_secret,
    sign, signature_header, verify,
};
pub use ssrf::{
    MAX_URL_LEN, ParsedTarget, Scheme, TargetHost, UrlError, check_resolved_addrs, check_url,
    is_forbidden_ip,
};
pub use url::Url;
