//! A PATCH field that may be absent (leave it), `null` (clear it) or a value
//! (set it): `Option<Option<T>>` cannot tell the first two apart in serde.

use serde::{Deserialize, Deserializer};

/// One field of a PATCH body. Use with `#[serde(default)]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not in the body: keep the stored value.
    #[default]
    Absent,
    /// `null`: clear the stored value.
    Null,
    /// A new value.
    Value(T),
}

impl<T> Patch<T> {
    /// The stored value after the patch: `current` when absent.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Absent => current,
            Patch::Null => None,
            Patch::Value(v) => Some(v),
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    /// `None` when absent, else what the body said (`Some(None)` for `null`).
    pub fn as_given(&self) -> Option<Option<&T>> {
        match self {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(v) => Some(Some(v)),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Only called when the field is present (absent fields take `Default`).
        Ok(match Option::<T>::deserialize(d)? {
            None => Patch::Null,
            Some(v) => Patch::Value(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Patch;

    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        name: Patch<String>,
    }

    fn parse(json: &str) -> Patch<String> {
        serde_json::from_str::<Body>(json).unwrap().name
    }

    #[test]
    fn absent_null_and_value_are_three_things() {
        assert_eq!(parse("{}"), Patch::Absent);
        assert_eq!(parse(r#"{"name": null}"#), Patch::Null);
        assert_eq!(parse(r#"{"name": "x"}"#), Patch::Value("x".into()));
        assert!(serde_json::from_str::<Body>(r#"{"name": 1}"#).is_err());
    }

    #[test]
    fn apply_keeps_clears_or_sets() {
        let old = Some("old".to_string());
        assert_eq!(Patch::Absent.apply(old.clone()), old);
        assert_eq!(Patch::<String>::Null.apply(old.clone()), None);
        assert_eq!(
            Patch::Value("new".to_string()).apply(old),
            Some("new".into())
        );
    }
}
