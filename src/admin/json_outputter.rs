//! JSON text exactly as the Java AdminServer prints it: Jackson's default
//! pretty printer — objects one entry per line with `" : "` between key and
//! value and two spaces per object level, arrays on one line (`[ 1, 2 ]`,
//! `[ ]`), empty objects as `{ }`, doubles as Java's `Double.toString`.
//!
//! Pure; called on the AdminServer's request thread.
//!
//! Mirrors: `org.apache.zookeeper.server.admin.JsonOutputter` (Jackson's
//! `DefaultPrettyPrinter`).

use serde_json::Value;

use crate::server::command::java_double_to_string;

/// `JsonOutputter.getContentType`.
pub const CONTENT_TYPE: &str = "application/json";

/// The pretty-printed text of `value` (no trailing newline, as Jackson).
pub fn to_pretty_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, 0, &mut out);
    out
}

/// Writes `value`; `nesting` = enclosing objects (arrays do not indent).
fn write_value(value: &Value, nesting: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[ ]");
                return;
            }
            out.push_str("[ ");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, nesting, out);
            }
            out.push_str(" ]");
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{ }");
                return;
            }
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                out.push_str(if i > 0 { ",\n" } else { "\n" });
                out.push_str(&"  ".repeat(nesting + 1));
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(" : ");
                write_value(item, nesting + 1, out);
            }
            out.push('\n');
            out.push_str(&"  ".repeat(nesting));
            out.push('}');
        }
    }
}

/// Integers as is, floating point as Java's `Double.toString`.
fn number_text(n: &serde_json::Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (None, Some(u), _) => u.to_string(),
        (None, None, Some(f)) => java_double_to_string(f),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_one_entry_per_line() {
        let v = json!({"client_port": 2181, "data_dir": "/d", "avg": 0.0, "command": "configuration", "error": null});
        assert_eq!(
            to_pretty_string(&v),
            "{\n  \"client_port\" : 2181,\n  \"data_dir\" : \"/d\",\n  \"avg\" : 0.0,\n  \
             \"command\" : \"configuration\",\n  \"error\" : null\n}"
        );
    }

    #[test]
    fn arrays_inline_and_nested_objects_indented() {
        let v =
            json!({"connections": [{"a": 1}, {"b": [2, 3]}], "secure_connections": [], "m": {}});
        assert_eq!(
            to_pretty_string(&v),
            "{\n  \"connections\" : [ {\n    \"a\" : 1\n  }, {\n    \"b\" : [ 2, 3 ]\n  } ],\n  \
             \"secure_connections\" : [ ],\n  \"m\" : { }\n}"
        );
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(to_pretty_string(&json!("a\"b\n")), "\"a\\\"b\\n\"");
    }
}
