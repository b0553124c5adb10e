//! Request JSON brought in line with what the OpenAPI document promises,
//! before serde reads it into a body type. JSON Schema counts `49.0` as an
//! integer, so integral floats become integers; and serde would read a struct
//! from an array (`"verification": [null, null]` was accepted as `{}`), which
//! no kycd body means: an array holding `null`, or values of different kinds,
//! is refused with `400 invalid_field` naming it.

use crate::service::Refusal;
use serde_json::{Number, Value};
use std::borrow::Cow;

/// The body to deserialize: `bytes` itself when nothing needed changing (or
/// when it is not JSON at all: the caller reports that), else the rewritten JSON.
pub fn normalize(bytes: &[u8]) -> Result<Cow<'_, [u8]>, Refusal> {
    let Ok(mut v) = serde_json::from_slice::<Value>(bytes) else {
        return Ok(Cow::Borrowed(bytes));
    };
    let mut changed = false;
    walk(&mut v, &mut String::new(), &mut changed)?;
    if !changed {
        return Ok(Cow::Borrowed(bytes));
    }
    Ok(Cow::Owned(
        serde_json::to_vec(&v).unwrap_or_else(|_| bytes.to_vec()),
    ))
}

#[derive(PartialEq)]
enum Kind {
    Bool,
    Number,
    String,
    Array,
    Object,
}

fn kind(v: &Value) -> Option<Kind> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => Kind::Bool,
        Value::Number(_) => Kind::Number,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    })
}

fn walk(v: &mut Value, path: &mut String, changed: &mut bool) -> Result<(), Refusal> {
    match v {
        Value::Number(n) => {
            if let Some(i) = integral(n) {
                *n = i;
                *changed = true;
            }
        }
        Value::Array(items) => {
            let first = items.first().map(kind);
            for (i, item) in items.iter_mut().enumerate() {
                let here = format!("{path}[{i}]");
                if item.is_null() {
                    return Err(Refusal::invalid_field(here, "an array item cannot be null"));
                }
                if Some(kind(item)) != first {
                    return Err(Refusal::invalid_field(
                        path.clone(),
                        "the items of an array must all be of one type",
                    ));
                }
                let mut here = here;
                walk(item, &mut here, changed)?;
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                let mut here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(item, &mut here, changed)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `49.0` → `49`; `None` for integers already, fractions and floats out of range.
fn integral(n: &Number) -> Option<Number> {
    if n.is_i64() || n.is_u64() {
        return None;
    }
    let f = n.as_f64()?;
    if f.fract() != 0.0 || !f.is_finite() {
        return None;
    }
    if f >= 0.0 && f < u64::MAX as f64 {
        Some(Number::from(f as u64))
    } else if f < 0.0 && f >= i64::MIN as f64 {
        Some(Number::from(f as i64))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Result<String, String> {
        normalize(s.as_bytes())
            .map(|b| String::from_utf8(b.into_owned()).unwrap())
            .map_err(|e| e.param.unwrap_or_default())
    }

    #[test]
    fn integral_floats_become_integers_and_the_rest_is_untouched() {
        assert_eq!(run(r#"{"limit": 49.0}"#).unwrap(), r#"{"limit":49}"#);
        assert_eq!(run(r#"{"days": -2.0}"#).unwrap(), r#"{"days":-2}"#);
        let same = r#"{"threshold": 0.5, "n": 3, "s": "4.0"}"#;
        assert_eq!(
            run(same).unwrap(),
            same,
            "nothing to change: the bytes as sent"
        );
        assert_eq!(run("not json").unwrap(), "not json");
    }

    #[test]
    fn arrays_of_null_or_of_mixed_kinds_are_refused_by_name() {
        assert_eq!(
            run(r#"{"verification": [null, null]}"#).unwrap_err(),
            "verification[0]"
        );
        assert_eq!(run(r#"{"a": {"b": ["basic", true]}}"#).unwrap_err(), "a.b");
        assert_eq!(run(r#"[1, "x"]"#).unwrap_err(), "");
        assert!(run(r#"{"enabled_events": ["*"], "list": [[1], [2.0]]}"#).is_ok());
    }
}
