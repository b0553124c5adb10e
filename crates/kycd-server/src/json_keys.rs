//! Duplicate keys in JSON objects: serde_json keeps the last of `{"a":1,"a":2}`
//! silently, so two parts of a system can read different values from one
//! body. Every JSON body goes through [`first_duplicate_key`] and is refused
//! when an object repeats a key.

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// The path of the first repeated key (`a.b[2].c`, as `param` names fields),
/// or `None` when no object repeats a key (or the text is not JSON: the
/// parser proper reports that).
pub fn first_duplicate_key(bytes: &[u8]) -> Option<String> {
    let mut found = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let _ = Node {
        path: String::new(),
        found: &mut found,
    }
    .deserialize(&mut de);
    found
}

struct Node<'a> {
    path: String,
    found: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if !seen.insert(key) {
                *self.found = Some(path);
                return Err(A::Error::custom("duplicate key"));
            }
            map.next_value_seed(Node {
                path,
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq
            .next_element_seed(Node {
                path: format!("{}[{i}]", self.path),
                found: &mut *self.found,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_bool<E: Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::first_duplicate_key;

    #[test]
    fn finds_repeated_keys_at_any_depth() {
        for (json, path) in [
            (r#"{"a":1,"a":2}"#, "a"),
            (r#"{"a":{"b":1,"c":2,"b":3}}"#, "a.b"),
            (r#"{"list":[{"x":1},{"x":1,"y":2,"x":3}]}"#, "list[1].x"),
            (r#"[{"k":null,"k":null}]"#, "[0].k"),
            (r#"{"\u0061":1,"a":2}"#, "a"),
        ] {
            assert_eq!(
                first_duplicate_key(json.as_bytes()).as_deref(),
                Some(path),
                "{json}"
            );
        }
    }

    #[test]
    fn accepts_distinct_keys_and_leaves_syntax_errors_to_the_parser() {
        for json in [
            r#"{"a":1,"b":{"a":1},"c":[{"a":1},{"a":2}]}"#,
            r#"[1,"two",null,true,2.5,-3]"#,
            r#"{"a":1"#,
            "not json",
            "",
        ] {
            assert_eq!(first_duplicate_key(json.as_bytes()), None, "{json}");
        }
    }
}
