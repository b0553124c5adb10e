//! The one table of `/v1` operations the OpenAPI document is built from:
//! method, path, operationId, tag, summary, parameters, body and replies.
//! Error responses are derived (every operation: 401, 429, 500, 503; a path
//! id: 404; input: 400; a body or a POST: 408, 413, 415; every POST:
//! `Idempotency-Key`, 409 and 422) plus the extras listed per operation.

use Method::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Get => "GET",
            Post => "POST",
            Patch => "PATCH",
            Put => "PUT",
            Delete => "DELETE",
        }
    }
}

/// A query parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryType {
    String,
    /// A component schema (an enum) by name.
    Ref(&'static str),
    /// `YYYY-MM`.
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub name: &'static str,
    pub kind: QueryType,
    pub description: &'static str,
}

const fn q(name: &'static str, kind: QueryType, description: &'static str) -> Query {
    Query {
        name,
        kind,
        description,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    /// A JSON body with this component schema; `required: false` means an
    /// empty body is accepted and means the defaults.
    Json {
        schema: &'static str,
        required: bool,
    },
    /// A JSON body or `multipart/form-data` with these component schemas.
    JsonOrMultipart {
        json: &'static str,
        form: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Json(&'static str),
    /// The stored file bytes (JPEG, PNG or PDF).
    File,
}

/// Error responses beyond the derived ones, by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    Forbidden,
    Conflict,
    /// `404` for an id given in the body.
    NotFound,
    /// `502 provider_unavailable`: an identity provider did not answer.
    BadGateway,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub method: Method,
    pub path: &'static str,
    pub id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    pub query: &'static [Query],
    /// Adds `limit` and `starting_after`.
    pub paginated: bool,
    /// The id prefix `starting_after` must have when the operation checks it.
    pub cursor_prefix: Option<&'static str>,
    pub body: Body,
    pub status: u16,
    /// Another success status with the same body (0: none).
    pub also: u16,
    pub reply: Reply,
    pub extra: &'static [Extra],
}

impl Op {
    const fn new(method: Method, path: &'static str, id: &'static str, tag: &'static str) -> Op {
        Op {
            method,
            path,
            id,
            tag,
            summary: "",
            description: "",
            query: &[],
            paginated: false,
            cursor_prefix: None,
            body: Body::None,
            status: 200,
            also: 0,
            reply: Reply::Json(""),
            extra: &[],
        }
    }
    const fn sum(mut self, summary: &'static str, description: &'static str) -> Op {
        self.summary = summary;
        self.description = description;
        self
    }
    const fn json(mut self, schema: &'static str) -> Op {
        self.body = Body::Json {
            schema,
            required: true,
        };
        self
    }
    const fn optional_json(mut self, schema: &'static str) -> Op {
        self.body = Body::Json {
            schema,
            required: false,
        };
        self
    }
    const fn multipart(mut self, json: &'static str, form: &'static str) -> Op {
        self.body = Body::JsonOrMultipart { json, form };
        self
    }
    const fn ok(mut self, schema: &'static str) -> Op {
        self.reply = Reply::Json(schema);
        self
    }
    const fn created(mut self, schema: &'static str) -> Op {
        self.status = 201;
        self.reply = Reply::Json(schema);
        self
    }
    const fn accepted(mut self, schema: &'static str) -> Op {
        self.status = 202;
        self.reply = Reply::Json(schema);
        self
    }
    const fn also(mut self, status: u16) -> Op {
        self.also = status;
        self
    }
    const fn file(mut self) -> Op {
        self.reply = Reply::File;
        self
    }
    const fn query(mut self, query: &'static [Query]) -> Op {
        self.query = query;
        self
    }
    const fn paginated(mut self) -> Op {
        self.paginated = true;
        self
    }
    /// Paginated, and `starting_after` must be an id with this prefix.
    const fn paginated_by(mut self, prefix: &'static str) -> Op {
        self.paginated = true;
        self.cursor_prefix = Some(prefix);
        self
    }
    const fn extra(mut self, extra: &'static [Extra]) -> Op {
        self.extra = extra;
        self
    }

    /// The names of the path parameters, in order.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }
}

/// Tags, in the order the docs show them, with their descriptions.
pub const TAGS: &[(&str, &str)] = &[
    (
        CUSTOMERS,
        "The customer record: a person (KYC) or a business (KYB).",
    ),
    (
        VERIFICATION,
        "Starting verification, its result, activation and deactivation.",
    ),
    (
        DOCUMENTS,
        "Identity documents, selfies, proofs of address; stored encrypted.",
    ),
    (
        PRODUCTS,
        "Product access (cards, virtual accounts) and capability checks.",
    ),
    (SETTINGS, "The organization's policy for this environment."),
    (
        PROVIDERS,
        "Identity providers (Sumsub) per organization and environment; credentials are sealed and never returned.",
    ),
    (REFERENCE, "Requirements, rejection reasons and usage."),
    (
        WEBHOOKS,
        "Webhook endpoints (Standard Webhooks signatures).",
    ),
    (EVENTS, "The events kycd emitted, and their deliveries."),
    (SCREENING, "Sanctions and PEP screening."),
    (
        TEST_HELPERS,
        "Sandbox only (`sk_test_` keys): force outcomes and move the clock. Every path here is 404 with a live key.",
    ),
];

const CUSTOMERS: &str = "Customers";
const VERIFICATION: &str = "Verification";
const DOCUMENTS: &str = "Documents";
const PRODUCTS: &str = "Products";
const SETTINGS: &str = "Settings";
const PROVIDERS: &str = "Providers";
const REFERENCE: &str = "Reference";
const WEBHOOKS: &str = "Webhooks";
const EVENTS: &str = "Events";
const SCREENING: &str = "Screening";
const TEST_HELPERS: &str = "Test helpers";

use Extra::{BadGateway, Conflict, Forbidden, NotFound};
use QueryType::{Month, Ref};

/// Every operation under `/v1`.
pub const OPERATIONS: &[Op] = &[
    // Customers
    Op::new(Post, "/v1/customers", "createCustomer", CUSTOMERS)
        .sum("Create a customer", "`{\"type\": \"individual\"}` is a valid minimal body. With `verification: {\"start\": true}` the verification starts in the same call and the response already carries the link (or `403 requirements_not_met` in reliance mode with data missing). The start picks its provider as `POST /v1/customers/{id}/verification` does (`verification.provider`; `sumsub` by default when configured): Sumsub unreachable is `502 provider_unavailable` and nothing is created. A duplicate `external_id` is `409 external_id_taken`.")
        .json("CustomerCreate").created("Customer").extra(&[Forbidden, BadGateway]),
    Op::new(Post, "/v1/customers/batch", "createCustomerBatch", CUSTOMERS)
        .sum("Create customers in bulk", "Up to 1,000 `CustomerCreate` bodies in `customers`, written in one transaction. `200` with one result per item, in order: `{\"status\": 201, \"customer\": {…}}`, or `{\"status\": 400|403|409, \"error\": {…}}` with what `POST /v1/customers` would have answered for that item alone. A failing item stores nothing and does not fail its neighbours. With an `Idempotency-Key` the whole batch is idempotent (a replay answers the same body). A body that is not an object with 1 to 1,000 objects in `customers` is `400` as a whole. The body may be up to ten times `KYCD_MAX_BODY_BYTES`; the rate limit counts the batch as one request. An item that starts its verification with Sumsub calls Sumsub first: Sumsub unreachable is `502 provider_unavailable` for the whole batch, and nothing is created.")
        .json("CustomerBatchCreate").ok("CustomerBatch").extra(&[BadGateway]),
    Op::new(Get, "/v1/customers", "listCustomers", CUSTOMERS)
        .sum("List customers", "Newest first, filtered by `status` and `external_id`.")
        .query(&[
            q("status", Ref("CustomerStatus"), "Only customers in this status."),
            q("external_id", QueryType::String, "Only the customer with this external id."),
        ])
        .paginated().ok("CustomerList"),
    Op::new(Get, "/v1/customers/{id}", "retrieveCustomer", CUSTOMERS)
        .sum("Retrieve a customer", "A customer of another organization or environment is `404`.")
        .ok("Customer"),
    Op::new(Patch, "/v1/customers/{id}", "updateCustomer", CUSTOMERS)
        .sum("Update a customer", "Nested objects (`individual`, `business`, `metadata`) merge field by field; arrays (`addresses`, `identifiers`) are replaced whole. Allowed in `not_started`, `needs_information` (the update re-submits automatically → `pending`), `active` (a change to verified data → `update_requested`) and `expired`; any other status is `409 customer_locked`.")
        .json("CustomerUpdate").ok("Customer").extra(&[Conflict]),
    Op::new(Delete, "/v1/customers/{id}", "deleteCustomer", CUSTOMERS)
        .sum("Erase a customer's personal data", "LGPD/GDPR erasure: the customer's data key is destroyed and the customer is `404` afterwards. Refused with `409 retention_required` while the law requires keeping the record (e.g. a sanctions or fraud rejection).")
        .ok("DeletedCustomer").extra(&[Conflict]),
    Op::new(Get, "/v1/customers/{id}/explanation", "retrieveExplanation", CUSTOMERS)
        .sum("Explain a customer's status", "For support teams: why the customer is blocked or what happens next, in plain words, with the history of status changes.")
        .ok("Explanation"),
    // Verification
    Op::new(Post, "/v1/customers/{id}/verification", "startVerification", VERIFICATION)
        .sum("Start or restart verification", "Body optional (defaults: the customer's previous choice, else `basic` and `hosted`). `hosted` → `pending` with a fresh single-use `url`; calling again issues a new link and keeps the user's progress. `reliance` with required data missing → `403 requirements_not_met` with one entry in `reasons` per missing item, status unchanged. Otherwise the automated checks run and the customer moves on. A customer `rejected` with `resubmittable: true`, or `expired`, may start again. `provider` picks who carries a hosted verification: `sumsub` (the default when configured for the environment; `url` is Sumsub's WebSDK link, `verification.provider` says so) or `kycd`; Sumsub unreachable is `502 provider_unavailable` with nothing changed.")
        .optional_json("VerificationRequest").ok("Customer").extra(&[Forbidden, BadGateway]),
    Op::new(Get, "/v1/customers/{id}/verification", "retrieveVerification", VERIFICATION)
        .sum("Retrieve the verification", "The verification object alone, for polling.")
        .ok("CustomerVerification"),
    Op::new(Post, "/v1/customers/{id}/activate", "activateCustomer", VERIFICATION)
        .sum("Activate a verified customer", "`verified` → `active` (when the organization's `activation` setting is `manual`). Any other status is `409 invalid_transition`.")
        .ok("Customer"),
    Op::new(Post, "/v1/customers/{id}/deactivate", "deactivateCustomer", VERIFICATION)
        .sum("Deactivate a customer", "Administrative deactivation, with an optional reason kept in the history. An illegal source status is `409 invalid_transition`.")
        .optional_json("DeactivateRequest").ok("Customer"),
    Op::new(Post, "/v1/customers/{id}/reactivate", "reactivateCustomer", VERIFICATION)
        .sum("Reactivate a customer", "`deactivated` → `active`. Any other status is `409 invalid_transition`, and so is a customer an operator deactivated for compliance: only the back office reactivates it, with a second admin.")
        .ok("Customer"),
    // Documents
    Op::new(Post, "/v1/customers/{id}/documents", "uploadDocument", DOCUMENTS)
        .sum("Upload a document", "JSON with base64 content, or `multipart/form-data` with the file in `content`. The bytes must be a real JPEG, PNG or PDF (checked by magic bytes) within the size limit (`413` above); they are stored encrypted and the SHA-256 is recorded.")
        .multipart("DocumentUpload", "DocumentUploadForm").created("Document"),
    Op::new(Get, "/v1/customers/{id}/documents", "listDocuments", DOCUMENTS)
        .sum("List a customer's documents", "Metadata only; the bytes come from the content endpoint.")
        .paginated_by("doc").ok("DocumentList"),
    Op::new(Get, "/v1/customers/{id}/documents/{doc_id}", "retrieveDocument", DOCUMENTS)
        .sum("Retrieve a document's metadata", "")
        .ok("Document"),
    Op::new(Get, "/v1/customers/{id}/documents/{doc_id}/content", "downloadDocumentContent", DOCUMENTS)
        .sum("Download a document's content", "The decrypted file, with its content type. Every download is recorded in the audit trail.")
        .file(),
    // Products and capabilities
    Op::new(Post, "/v1/customers/{id}/product_access", "requestProductAccess", PRODUCTS)
        .sum("Request access to a product", "Requirements met and policy `auto` → `granted` at once (`201`); otherwise `pending` for a reviewer, or `rejected` with the missing items. When the product was already requested, `200` with the open (pending or granted) request. A customer that is not `active` gets `403 requirements_not_met`.")
        .json("ProductAccessRequest").created("ProductAccess").also(200).extra(&[Forbidden]),
    Op::new(Get, "/v1/customers/{id}/product_access", "listProductAccess", PRODUCTS)
        .sum("List a customer's product-access requests", "")
        .paginated().ok("ProductAccessList"),
    Op::new(Get, "/v1/customers/{id}/product_access/{pa_id}", "retrieveProductAccess", PRODUCTS)
        .sum("Retrieve a product-access request", "")
        .ok("ProductAccess"),
    Op::new(Get, "/v1/customers/{id}/capabilities", "retrieveCapabilities", PRODUCTS)
        .sum("Retrieve a customer's capabilities", "What the customer may do now: `transact`, `cards`, `virtual_accounts`, each `enabled` or `disabled` with a reason.")
        .ok("Capabilities"),
    Op::new(Post, "/v1/capability_checks", "createCapabilityCheck", PRODUCTS)
        .sum("Check a capability", "Money-movement services call this before acting: `200 {\"allowed\": true}`, or `403 missing_capability` whose message names the step the customer still has to complete.")
        .json("CapabilityCheckRequest").ok("CapabilityCheck").extra(&[Forbidden, NotFound]),
    // Settings and reference data
    Op::new(Get, "/v1/settings", "retrieveSettings", SETTINGS)
        .sum("Retrieve the settings", "The organization's policy for the key's environment, defaults filled in.")
        .ok("Settings"),
    Op::new(Patch, "/v1/settings", "updateSettings", SETTINGS)
        .sum("Update the settings", "Objects merge key by key; anything else replaces. The result is validated as a whole.")
        .json("SettingsUpdate").ok("Settings"),
    // Identity providers
    Op::new(Get, "/v1/providers", "listProviders", PROVIDERS)
        .sum("List the identity providers", "The providers configured for the key's organization and environment (never their secrets).")
        .ok("ProviderList"),
    Op::new(Get, "/v1/providers/{provider}", "retrieveProvider", PROVIDERS)
        .sum("Retrieve an identity provider's configuration", "`provider` is `sumsub`; `404` when it is not configured. The secrets are never returned.")
        .ok("Provider"),
    Op::new(Put, "/v1/providers/{provider}", "configureProvider", PROVIDERS)
        .sum("Configure an identity provider", "`provider` is `sumsub`: the app token, secret key and webhook secret are sealed by the vault and never returned; `base_url` defaults to `https://api.sumsub.com`; `levels` maps kycd levels to Sumsub level names (else `level_name`). Sumsub's webhooks for the organization go to `POST /webhooks/inbound/sumsub/{organization_id}`.")
        .json("ProviderConfiguration").ok("Provider"),
    Op::new(Delete, "/v1/providers/{provider}", "deleteProvider", PROVIDERS)
        .sum("Remove an identity provider", "New verifications use kycd's hosted flow; `404` when it was not configured.")
        .ok("DeletedProvider"),
    Op::new(Get, "/v1/requirements", "listRequirements", REFERENCE)
        .sum("List what to collect", "From the organization's policy, so integrators can build their forms from it.")
        .query(&[
            q("type", Ref("CustomerType"), "Default `individual`."),
            q("level", Ref("Level"), "Default `basic`."),
            q("mode", Ref("Mode"), "Default `hosted`."),
            q("product", Ref("Product"), "The requirements of this product instead of a level."),
        ])
        .ok("RequirementList"),
    Op::new(Get, "/v1/rejection_reasons", "listRejectionReasons", REFERENCE)
        .sum("List the rejection reasons", "Every code with `resubmittable` and messages safe to show the end user.")
        .ok("RejectionReasonList"),
    Op::new(Get, "/v1/usage", "retrieveUsage", REFERENCE)
        .sum("Retrieve billable usage", "Counts for the key's organization and environment; exact under concurrency, an idempotent replay is not counted again.")
        .query(&[q("month", Month, "`YYYY-MM`; default: the current month.")])
        .ok("Usage"),
    // Webhooks
    Op::new(Post, "/v1/webhook_endpoints", "createWebhookEndpoint", WEBHOOKS)
        .sum("Create a webhook endpoint", "The response carries the signing `secret` (`whsec_…`), shown once. URLs resolving to private or loopback addresses are refused unless the operator allows them.")
        .json("WebhookEndpointCreate").created("WebhookEndpoint"),
    Op::new(Get, "/v1/webhook_endpoints", "listWebhookEndpoints", WEBHOOKS)
        .sum("List webhook endpoints", "")
        .paginated().ok("WebhookEndpointList"),
    Op::new(Get, "/v1/webhook_endpoints/{id}", "retrieveWebhookEndpoint", WEBHOOKS)
        .sum("Retrieve a webhook endpoint", "")
        .ok("WebhookEndpoint"),
    Op::new(Patch, "/v1/webhook_endpoints/{id}", "updateWebhookEndpoint", WEBHOOKS)
        .sum("Update a webhook endpoint", "Change the URL, the event types or the description; `disabled: true` stops deliveries (pending ones are canceled), `disabled: false` resumes them.")
        .json("WebhookEndpointUpdate").ok("WebhookEndpoint"),
    Op::new(Delete, "/v1/webhook_endpoints/{id}", "deleteWebhookEndpoint", WEBHOOKS)
        .sum("Delete a webhook endpoint", "")
        .ok("DeletedWebhookEndpoint"),
    Op::new(Post, "/v1/webhook_endpoints/{id}/rotate_secret", "rotateWebhookEndpointSecret", WEBHOOKS)
        .sum("Rotate the signing secret", "Returns the new secret once; the old one keeps signing alongside it for 24 h.")
        .ok("WebhookEndpoint"),
    // Events
    Op::new(Get, "/v1/events", "listEvents", EVENTS)
        .sum("List events", "Newest first.")
        .query(&[
            q("type", Ref("EventType"), "Only events of this type."),
            q("customer_id", QueryType::String, "Only events about this customer."),
        ])
        .paginated().ok("EventList"),
    Op::new(Get, "/v1/events/{id}", "retrieveEvent", EVENTS)
        .sum("Retrieve an event", "")
        .ok("Event"),
    Op::new(Get, "/v1/events/{id}/deliveries", "listEventDeliveries", EVENTS)
        .sum("List an event's delivery attempts", "Newest first: status code, duration and error of every attempt, with the delivery's status and next attempt.")
        .query(&[q("endpoint_id", QueryType::String, "Only the attempts to this endpoint (`we_…`).")])
        .paginated().ok("DeliveryAttemptList"),
    Op::new(Post, "/v1/events/{id}/redeliver", "redeliverEvent", EVENTS)
        .sum("Redeliver an event", "A new round of attempts with the full retry schedule, to one endpoint (`endpoint_id`) or to every enabled endpoint subscribed to the event's type; receivers see the same `webhook-id`. A disabled endpoint is `409 endpoint_disabled`.")
        .optional_json("RedeliverRequest").accepted("Redelivery"),
    // Screening
    Op::new(Post, "/v1/screening/search", "searchScreening", SCREENING)
        .sum("Search the sanctions and PEP lists", "Best matches first, scored in [0, 1].")
        .json("ScreeningSearchRequest").ok("ScreeningSearchResult"),
    Op::new(Post, "/v1/screening/compare", "compareScreeningNames", SCREENING)
        .sum("Compare two names", "The name score of `a` against `b` (legal forms included, no date or country evidence) and why: the aligned name parts with the rule for each, the unmatched parts and the legal forms, as in a search match's `explanation`.")
        .json("ScreeningCompareRequest").ok("ScreeningComparison"),
    Op::new(Get, "/v1/screening/lists", "listScreeningLists", SCREENING)
        .sum("List the loaded screening lists", "Each loaded list version with its entry count, load date and checksum.")
        .ok("ScreeningListList"),
    // Test helpers
    Op::new(Post, "/v1/test_helpers/customers/{id}/verification", "forceVerificationOutcome", TEST_HELPERS)
        .sum("Force a verification outcome", "The same state changes, events and webhooks happen as in production. An illegal transition is `409 invalid_transition`.")
        .json("ForceVerificationRequest").ok("Customer"),
    Op::new(Post, "/v1/test_helpers/customers/{id}/screening", "decideScreeningMatch", TEST_HELPERS)
        .sum("Confirm or dismiss possible screening matches", "As a compliance reviewer would, for a customer `on_hold`; any other status is `409 invalid_transition`.")
        .json("ScreeningDecisionRequest").ok("Customer"),
    Op::new(Post, "/v1/test_helpers/product_access/{id}", "decideProductAccess", TEST_HELPERS)
        .sum("Decide a pending product-access request", "As a reviewer would.")
        .json("DecideProductAccessRequest").ok("ProductAccess"),
    Op::new(Post, "/v1/test_helpers/documents/{doc_id}", "reviewDocument", TEST_HELPERS)
        .sum("Accept or reject a document", "As a reviewer would.")
        .json("ReviewDocumentRequest").ok("Document"),
    Op::new(Post, "/v1/test_helpers/clock/advance", "advanceClock", TEST_HELPERS)
        .sum("Advance the sandbox clock", "Moves the organization's sandbox clock forward and runs what became due (expiry notices, expiries, webhook retries).")
        .json("AdvanceClockRequest").ok("TestClock"),
];
