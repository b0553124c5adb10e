//! Prefixed ids (`cus_01j…`): one newtype per resource, all from one macro.
//! Parsing checks the prefix and the shape, so a value of `CustomerId` is
//! always a well-formed customer id (whether it exists is the store's answer).
//! New ids are made by `kycd_store::ids::new` (time-ordered ULIDs).

/// A resource id with its own prefix.
pub trait PrefixedId: Sized + AsRef<str> {
    /// `cus`, `doc`, …
    const PREFIX: &'static str;
    /// What the API calls the resource in a 404: `no such {RESOURCE}`.
    const RESOURCE: &'static str;
    /// The id, when `s` is one of this prefix.
    fn parse(s: &str) -> Option<Self>;
}

/// Whether `id` has the shape of an id with that prefix: `prefix_` then ASCII
/// letters and digits, 64 bytes at most.
pub fn is_prefixed(prefix: &str, id: &str) -> bool {
    id.len() <= 64
        && id
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('_'))
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Declares a prefixed id newtype: `prefixed_id!(CustomerId, "cus", "customer");`.
#[macro_export]
macro_rules! prefixed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $resource:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id, when `s` is one of this prefix.
            pub fn parse(s: &str) -> Option<Self> {
                $crate::ids::is_prefixed($prefix, s).then(|| $name(s.to_string()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl $crate::ids::PrefixedId for $name {
            const PREFIX: &'static str = $prefix;
            const RESOURCE: &'static str = $resource;
            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ids::InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s).ok_or($crate::ids::InvalidId {
                    prefix: $prefix,
                })
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A string that is not an id of the expected prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a {prefix}_… id")]
pub struct InvalidId {
    pub prefix: &'static str,
}

prefixed_id!(
    /// `cus_…`
    CustomerId,
    "cus",
    "customer"
);
prefixed_id!(
    /// `doc_…`
    DocumentId,
    "doc",
    "document"
);
prefixed_id!(
    /// `pa_…`
    ProductAccessId,
    "pa",
    "product_access"
);
prefixed_id!(
    /// `evt_…`
    EventId,
    "evt",
    "event"
);
prefixed_id!(
    /// `we_…`
    WebhookEndpointId,
    "we",
    "webhook endpoint"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_checks_the_prefix_and_the_shape() {
        let id = CustomerId::parse("cus_01j9z8k3m4n5p6q7r8s9t0v1w2").unwrap();
        assert_eq!(id.as_str(), "cus_01j9z8k3m4n5p6q7r8s9t0v1w2");
        assert_eq!(&*id, "cus_01j9z8k3m4n5p6q7r8s9t0v1w2");
        assert!(CustomerId::parse("doc_01j9z8k3m4n5p6q7r8s9t0v1w2").is_none());
        assert!(CustomerId::parse("cus_").is_none());
        assert!(CustomerId::parse("cus_../x").is_none());
        assert!(CustomerId::parse("cusx_1").is_none());
        assert!(CustomerId::parse(&format!("cus_{}", "a".repeat(61))).is_none());
        assert!(DocumentId::parse("doc_abc").is_some());
        assert!("pa_1".parse::<ProductAccessId>().is_ok());
        assert_eq!("evt_".parse::<EventId>(), Err(InvalidId { prefix: "evt" }));
    }

    #[test]
    fn serde_is_the_plain_string_and_refuses_other_prefixes() {
        let id: WebhookEndpointId = serde_json::from_str(r#""we_01abc""#).unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""we_01abc""#);
        assert!(serde_json::from_str::<WebhookEndpointId>(r#""cus_01abc""#).is_err());
    }
}
