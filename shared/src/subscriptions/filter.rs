//! Subscription filters in Sahana Eden's saved-filter form: a list of
//! `[selector, value]` pairs such as `["status__belongs", "open,closed"]`,
//! `["priority__ge", 2]`, `["~.name__like", "*clinic*"]`. Parsed and checked
//! when a subscription is saved (never at check time), matched against a
//! record's fields, and rendered as text for the digest.
use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const MAX_CONDITIONS: usize = 32;
pub const MAX_FIELD_BYTES: usize = 64;
pub const MAX_VALUE_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `*` wildcards, case-insensitive.
    Like,
    /// The field's value is one of a comma-separated list.
    Belongs,
    /// The field (a list, or a text) contains the value.
    Contains,
    /// The field (a list) holds any of a comma-separated list.
    Anyof,
}

impl Operator {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "lt" => Self::Lt,
            "le" => Self::Le,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "like" => Self::Like,
            "belongs" => Self::Belongs,
            "contains" => Self::Contains,
            "anyof" => Self::Anyof,
            _ => return None,
        })
    }

    fn words(self) -> &'static str {
        match self {
            Self::Eq => "is",
            Self::Ne => "is not",
            Self::Lt => "<",
            Self::Le => "≤",
            Self::Gt => ">",
            Self::Ge => "≥",
            Self::Like => "like",
            Self::Belongs => "is one of",
            Self::Contains => "contains",
            Self::Anyof => "has any of",
        }
    }
}

/// One checked condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    pub op: Operator,
    pub value: Value,
}

/// A checked filter: all its conditions must hold (Eden's saved filters
/// are conjunctions).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Filter(Vec<Condition>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter pair {index} ({pair}): {reason}")]
pub struct FilterError {
    pub index: usize,
    pub pair: String,
    pub reason: String,
}

fn field_ok(field: &str) -> bool {
    !field.is_empty()
        && field.len() <= MAX_FIELD_BYTES
        && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !field.starts_with('.')
}

/// The items of a list value: a JSON array, or a comma-separated text.
fn list_items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::String(text) => text.split(',').map(|s| Value::String(s.trim().to_owned())).filter(|v| v != &Value::String(String::new())).collect(),
        other => vec![other.clone()],
    }
}

impl Filter {
    /// Parses the Eden form (`[[selector, value], ...]`); a bad pair is an
    /// error naming it.
    pub fn parse(value: &Value) -> Result<Self, FilterError> {
        let fail = |index: usize, pair: &Value, reason: &str| FilterError { index, pair: pair.to_string(), reason: reason.to_owned() };
        let pairs = match value {
            Value::Null => return Ok(Self::default()),
            Value::Array(pairs) => pairs,
            other => return Err(fail(0, other, "a filter is a list of [selector, value] pairs")),
        };
        if pairs.len() > MAX_CONDITIONS {
            return Err(fail(MAX_CONDITIONS, &Value::Null, &format!("at most {MAX_CONDITIONS} pairs")));
        }
        let mut conditions = Vec::with_capacity(pairs.len());
        for (index, pair) in pairs.iter().enumerate() {
            let (selector, value) = match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(selector), value]) => (selector.as_str(), value),
                _ => return Err(fail(index, pair, "a pair is [\"field__operator\", value]")),
            };
            let selector = selector.strip_prefix("~.").unwrap_or(selector);
            let (field, op) = match selector.rsplit_once("__") {
                Some((field, op)) => (field, Operator::parse(op).ok_or_else(|| fail(index, pair, &format!("unknown operator '{op}'")))?),
                None => (selector, Operator::Eq),
            };
            if !field_ok(field) {
                return Err(fail(index, pair, "the field is 1 to 64 characters of letters, digits, '_' and '.'"));
            }
            if value.to_string().len() > MAX_VALUE_BYTES {
                return Err(fail(index, pair, &format!("the value is over {MAX_VALUE_BYTES} bytes")));
            }
            let scalar = matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null);
            let value_ok = match op {
                Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => matches!(value, Value::String(_) | Value::Number(_)),
                Operator::Like => value.is_string(),
                Operator::Belongs | Operator::Anyof => (value.is_string() || value.is_array()) && !list_items(value).is_empty(),
                Operator::Eq | Operator::Ne | Operator::Contains => scalar,
            };
            if !value_ok {
                return Err(fail(index, pair, "this operator does not take that kind of value"));
            }
            conditions.push(Condition { field: field.to_owned(), op, value: value.clone() });
        }
        Ok(Self(conditions))
    }

    pub fn conditions(&self) -> &[Condition] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a record with these fields passes every condition. A field
    /// the record lacks passes only `ne`.
    pub fn matches(&self, fields: &Map<String, Value>) -> bool {
        self.0.iter().all(|c| match lookup(fields, &c.field) {
            None => c.op == Operator::Ne,
            Some(actual) => holds(c.op, actual, &c.value),
        })
    }
}

/// A field by name, following `.` into nested objects.
fn lookup<'a>(fields: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    let mut parts = field.split('.');
    let mut current = fields.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Equality with numbers and numeric texts alike (`2` is `"2"`); texts
/// compare case-sensitively, as Eden's `eq` does.
fn same(a: &Value, b: &Value) -> bool {
    match (as_number(a), as_number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => match (a, b) {
            (Value::String(x), Value::Bool(y)) | (Value::Bool(y), Value::String(x)) => x.eq_ignore_ascii_case(&y.to_string()),
            _ => a == b,
        },
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (as_number(a), as_number(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ => match (a, b) {
            (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
            _ => None,
        },
    }
}

/// `*` matches any run of characters; case-insensitive.
fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    // Iterative wildcard match with backtracking to the last star.
    let (mut t, mut p, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && pattern[p] != '*' && pattern[p] == text[t] {
            t += 1;
            p += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn holds(op: Operator, actual: &Value, expected: &Value) -> bool {
    match op {
        Operator::Eq => same(actual, expected),
        Operator::Ne => !same(actual, expected),
        Operator::Lt => compare(actual, expected) == Some(Ordering::Less),
        Operator::Le => matches!(compare(actual, expected), Some(Ordering::Less | Ordering::Equal)),
        Operator::Gt => compare(actual, expected) == Some(Ordering::Greater),
        Operator::Ge => matches!(compare(actual, expected), Some(Ordering::Greater | Ordering::Equal)),
        Operator::Like => !actual.is_array() && !actual.is_object() && like(&text(actual), &text(expected)),
        Operator::Belongs => list_items(expected).iter().any(|e| same(actual, e)),
        Operator::Contains => match actual {
            Value::Array(items) => items.iter().any(|i| same(i, expected)),
            Value::String(s) => s.to_lowercase().contains(&text(expected).to_lowercase()),
            _ => false,
        },
        Operator::Anyof => match actual {
            Value::Array(items) => list_items(expected).iter().any(|e| items.iter().any(|i| same(i, e))),
            single => list_items(expected).iter().any(|e| same(single, e)),
        },
    }
}

impl fmt::Display for Filter {
    /// "status is one of open, closed; priority ≥ 2" (or "all records").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("all records");
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|c| {
                let value = match c.op {
                    Operator::Belongs | Operator::Anyof => list_items(&c.value).iter().map(text).collect::<Vec<_>>().join(", "),
                    _ => text(&c.value),
                };
                format!("{} {} {value}", c.field, c.op.words())
            })
            .collect();
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(v: Value) -> Filter {
        Filter::parse(&v).unwrap()
    }

    fn record(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn eden_pairs_parse_and_render() {
        let f = filter(json!([["~.status__belongs", "open,closed"], ["priority__ge", 2], ["name__like", "*clinic*"], ["kind", "site"]]));
        assert_eq!(f.conditions().len(), 4);
        assert_eq!(f.conditions()[0].field, "status");
        assert_eq!(f.to_string(), "status is one of open, closed; priority ≥ 2; name like *clinic*; kind is site");
        assert_eq!(Filter::default().to_string(), "all records");
    }

    #[test]
    fn bad_pairs_are_named() {
        for (bad, why) in [
            (json!([["status__between", "a"]]), "unknown operator 'between'"),
            (json!([["status"]]), "a pair is"),
            (json!([[1, "a"]]), "a pair is"),
            (json!({"status": "open"}), "a list"),
            (json!([["", "a"]]), "the field"),
            (json!([["a b", "a"]]), "the field"),
            (json!([["n__ge", [1]]]), "kind of value"),
            (json!([["n__like", 3]]), "kind of value"),
            (json!([["n__belongs", ""]]), "kind of value"),
        ] {
            let e = Filter::parse(&bad).unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
        let long: Vec<Value> = (0..33).map(|i| json!([format!("f{i}"), 1])).collect();
        assert!(Filter::parse(&Value::Array(long)).is_err());
    }

    #[test]
    fn operators_match_like_eden() {
        let r = record(json!({"status": "open", "priority": 3, "name": "Central Clinic", "tags": ["water", "health"], "site": {"district": "north"}, "count": "12"}));
        let yes = |v: Value| assert!(filter(v.clone()).matches(&r), "{v} should match");
        let no = |v: Value| assert!(!filter(v.clone()).matches(&r), "{v} should not match");
        yes(json!([["status", "open"]]));
        no(json!([["status", "Open"]]));
        yes(json!([["status__ne", "closed"]]));
        yes(json!([["missing__ne", "x"]]));
        no(json!([["missing", "x"]]));
        yes(json!([["priority__ge", 3], ["priority__le", "3"], ["priority__gt", 2.5], ["priority__lt", 4]]));
        no(json!([["priority__gt", 3]]));
        yes(json!([["count__ge", 9]]));
        yes(json!([["name__like", "*clinic*"]]));
        yes(json!([["name__like", "central*"]]));
        no(json!([["name__like", "clinic"]]));
        yes(json!([["status__belongs", "closed, open"]]));
        yes(json!([["status__belongs", ["open"]]]));
        no(json!([["status__belongs", "closed"]]));
        yes(json!([["tags__contains", "water"]]));
        yes(json!([["name__contains", "CLINIC"]]));
        yes(json!([["tags__anyof", "food,health"]]));
        no(json!([["tags__anyof", "food"]]));
        yes(json!([["site.district", "north"]]));
        no(json!([["status", "open"], ["priority__gt", 5]]));
        yes(json!([]));
    }

    #[test]
    fn wildcards() {
        assert!(like("abc", "*"));
        assert!(like("abc", "a*c"));
        assert!(like("aXbXc", "*b*"));
        assert!(!like("abc", "a*d"));
        assert!(like("", "*"));
        assert!(like("mississippi", "m*iss*ppi"));
    }
}
