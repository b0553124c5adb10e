"""Schemathesis hooks for kycd (loaded through SCHEMATHESIS_HOOKS by .ci/schemathesis.sh).

A valid `PATCH /v1/settings` that sets `rate_limit_per_second` sets it to
the largest value allowed: a fuzzed `1` would throttle the rest of the run to
`429 rate_limited` (the server and the document are right, the run would just
test nothing else).

Webhook endpoint URLs of valid cases point at the receiver the script runs
($KYCD_WEBHOOK_SINK, keeping the generated path): the server runs with
--webhook-allow-private, and `POST /v1/test_helpers/clock/advance` runs due
deliveries before it answers, so deliveries to the random public hosts the
document allows would each wait out the 15 s delivery timeout (and retry) on
a machine without outside network.

Every POST carries a fresh Idempotency-Key: schemathesis draws header values
from the document (1-255 characters), so two different cases could otherwise
share a key and get `422 idempotency_key_reused`, or replay another case's
response. A key schemathesis drew as invalid on purpose (negative testing:
empty, too long, not visible ASCII) is left as it is, so the server's
rejection of it is still tested.
"""

import os
import re
import uuid

import schemathesis

KEY = "Idempotency-Key"


def _valid(value):
    """What the server accepts as a key (visible ASCII, spaces and tabs, 1 to
    255 of them once HTTP trims the ends): a drawn value like that is replaced."""
    return (
        isinstance(value, str)
        and 1 <= len(value.strip(" \t")) <= len(value) <= 255
        and all(ch == "\t" or 0x20 <= ord(ch) <= 0x7E for ch in value)
    )


def _negative_header_case(case):
    """A case whose point is a missing or invalid header (e.g. no Authorization):
    touching its headers would make schemathesis send it as a positive case."""
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_negative:
        return False
    location = getattr(meta.phase.data, "parameter_location", None)
    return location is not None and getattr(location, "value", location) == "header"


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Decide from the case as generated: reading `case.meta` after a change
    # makes schemathesis revalidate the case.
    meta = getattr(case, "meta", None)
    negative = meta is not None and meta.generation.mode.is_negative
    negative_header = _negative_header_case(case)
    if not negative:
        _local_webhook_urls(case)
        _keep_rate_limit_high(case)
    if not negative_header:
        _fresh_idempotency_key(case, negative)


def _fresh_idempotency_key(case, negative):
    if case.method.upper() != "POST":
        return
    # New containers, never changed in place: schemathesis derives other cases
    # from this one and may share them.
    headers = dict(case.headers or {})
    current = headers.get(KEY)
    if not negative or current is None or _valid(current):
        headers[KEY] = f"st-{uuid.uuid4()}"
        case.headers = headers


WEBHOOK_PATHS = re.compile(r"^/v1/webhook_endpoints(/[^/]+)?$")
# The document's pattern of a webhook URL (a URL it calls invalid is left alone).
VALID_URL = re.compile(
    r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][\s\S]*)?$"
)


def _local_webhook_urls(case):
    if not WEBHOOK_PATHS.match(case.operation.path if hasattr(case, "operation") else case.path):
        return
    body = case.body
    url = body.get("url") if isinstance(body, dict) else None
    if isinstance(url, str) and len(url) <= 4096 and VALID_URL.match(url):
        path = re.sub(r"^[^:]+://[^/?#]*", "", url)
        sink = os.environ.get("KYCD_WEBHOOK_SINK", "http://127.0.0.1:9")
        case.body = {**body, "url": sink + (path or "/")}


def _keep_rate_limit_high(case):
    if case.method.upper() != "PATCH" or case.operation.path != "/v1/settings":
        return
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("rate_limit_per_second"), int):
        case.body = {**body, "rate_limit_per_second": 100000}
