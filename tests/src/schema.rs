//! Checks a JSON value against one of the schemas in docs/schemas/. The schemas are standard
//! JSON Schema (draft 2020-12); this checks the part of it they use: `type` (one or a list),
//! `enum`, `minimum`, `properties`, `required`, `additionalProperties` (false, or a schema),
//! `items` and `anyOf`. A keyword it does not know fails the check, so a schema cannot quietly promise
//! more than is checked.

use serde_json::Value;

/// Loads `docs/schemas/NAME.schema.json`.
pub fn load(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/schemas")
        .join(format!("{name}.schema.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every place `value` breaks `schema`, as `path: why` (empty when it conforms).
pub fn check(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    walk(schema, value, "$", &mut errors);
    errors
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn walk(schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        errors.push(format!("{at}: the schema is not an object"));
        return;
    };
    for key in s.keys() {
        let known = [
            "$schema",
            "title",
            "description",
            "type",
            "enum",
            "minimum",
            "properties",
            "required",
            "additionalProperties",
            "items",
            "anyOf",
        ];
        if !known.contains(&key.as_str()) {
            errors.push(format!("{at}: schema keyword {key} is not checked here"));
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
        if !any.iter().any(|alt| check(alt, v).is_empty()) {
            errors.push(format!("{at}: matches none of the anyOf alternatives: {v}"));
        }
    }
    if let Some(t) = s.get("type") {
        let allowed: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = type_name(v);
        let ok = allowed
            .iter()
            .any(|a| *a == actual || (*a == "number" && actual == "integer"));
        if !ok {
            errors.push(format!("{at}: is {actual}, the schema says {allowed:?}"));
            return;
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errors.push(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < min {
            errors.push(format!("{at}: {n} is below the minimum {min}"));
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    errors.push(format!("{at}: required field {r} is missing"));
                }
            }
        }
        for (k, child) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(sub) => walk(sub, child, &format!("{at}.{k}"), errors),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{at}: field {k} is not in the schema"))
                    }
                    Some(sub @ Value::Object(_)) => walk(sub, child, &format!("{at}.{k}"), errors),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, child) in arr.iter().enumerate() {
            walk(items, child, &format!("{at}[{i}]"), errors);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_checker_rejects_what_a_schema_forbids() {
        let s = json!({"type": "object", "additionalProperties": false, "required": ["a"],
            "properties": {"a": {"type": "integer", "minimum": 0},
                           "b": {"anyOf": [{"type": "null"}, {"type": "string", "enum": ["x"]}]},
                           "c": {"type": "array", "items": {"type": "boolean"}}}});
        assert!(check(&s, &json!({"a": 1, "b": null, "c": [true]})).is_empty());
        assert!(check(&s, &json!({"a": 1, "b": "x"})).is_empty());
        assert!(
            !check(&s, &json!({"b": "x"})).is_empty(),
            "missing required"
        );
        assert!(!check(&s, &json!({"a": -1})).is_empty(), "below minimum");
        assert!(!check(&s, &json!({"a": "1"})).is_empty(), "wrong type");
        assert!(
            !check(&s, &json!({"a": 1, "b": "y"})).is_empty(),
            "not in enum"
        );
        assert!(
            !check(&s, &json!({"a": 1, "c": [1]})).is_empty(),
            "item type"
        );
        assert!(
            !check(&s, &json!({"a": 1, "z": 0})).is_empty(),
            "extra field"
        );
        assert!(
            !check(&json!({"pattern": "x"}), &json!("x")).is_empty(),
            "unknown keyword"
        );
    }
}
