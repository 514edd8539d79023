//! What Herald asks of AWS, counted on the wire: a loopback proxy between
//! the SDK clients and moto (`AWS_ENDPOINT_URL` points at the proxy, the
//! proxy at moto) that counts each request by service and operation and
//! computes the DynamoDB capacity each one consumes from DynamoDB's own
//! rules, from the items it sees in the request and the answer.
//!
//! Why not `ReturnConsumedCapacity`: moto answers fixed numbers (a `GetItem`
//! 0.5 whatever its consistency and size, a `PutItem` or a `Query` 1.0, a
//! `BatchGetItem` one per key, a `TransactWriteItems` nothing), so the
//! units are computed here instead (docs/costs.md, docs/decisions.md):
//! reads in 4 KB units (strongly consistent 1, eventually consistent 0.5,
//! transactional 2), writes in 1 KB units (transactional 2); a `Query` sums
//! the sizes of the items it read before rounding; a write of an item that
//! carries the `due` index's key adds one write unit for the index.
//! Counting here needs no change to the adapters, and sees every request
//! they make, the bus's head reads included whatever their shape.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// Requests per `service:Operation`, and DynamoDB read and write units.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Counts {
    pub requests: BTreeMap<String, u64>,
    pub read_units: f64,
    pub write_units: f64,
}

impl Counts {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Counts) -> Counts {
        let requests = self
            .requests
            .iter()
            .filter_map(|(k, v)| {
                let n = v - earlier.requests.get(k).copied().unwrap_or(0);
                (n > 0).then(|| (k.clone(), n))
            })
            .collect();
        Counts { requests, read_units: self.read_units - earlier.read_units, write_units: self.write_units - earlier.write_units }
    }

    /// Requests of one service (`dynamodb`, `sqs`, `ses`).
    pub fn service(&self, service: &str) -> u64 {
        self.requests.iter().filter(|(k, _)| k.split(':').next() == Some(service)).map(|(_, v)| v).sum()
    }

    /// Every figure divided by `n` (per delivery, per subscription).
    pub fn per(&self, n: f64) -> Value {
        let requests: serde_json::Map<String, Value> = self.requests.iter().map(|(k, v)| (k.clone(), Value::from(*v as f64 / n))).collect();
        serde_json::json!({"requests": requests, "read_units": self.read_units / n, "write_units": self.write_units / n,
            "dynamodb_requests": self.service("dynamodb") as f64 / n, "sqs_requests": self.service("sqs") as f64 / n})
    }
}

#[derive(Clone)]
pub struct Wire {
    counts: Arc<Mutex<Counts>>,
    upstream: String,
    client: reqwest::Client,
}

impl Wire {
    pub fn counts(&self) -> Counts {
        self.counts.lock().expect("counts").clone()
    }

    fn add(&self, key: String, read: f64, write: f64) {
        let mut counts = self.counts.lock().expect("counts");
        *counts.requests.entry(key).or_default() += 1;
        counts.read_units += read;
        counts.write_units += write;
    }
}

/// Serves the proxy on `listener`, forwarding to `upstream` (moto).
pub fn serve(listener: std::net::TcpListener, upstream: String) -> anyhow::Result<Wire> {
    listener.set_nonblocking(true)?;
    let wire = Wire { counts: Arc::default(), upstream: upstream.trim_end_matches('/').to_owned(), client: reqwest::Client::new() };
    let app = axum::Router::new().fallback(forward).with_state(wire.clone());
    let listener = tokio::net::TcpListener::from_std(listener)?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(wire)
}

async fn forward(State(wire): State<Wire>, request: Request) -> Response {
    match relay(&wire, request).await {
        Ok(response) => response,
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

async fn relay(wire: &Wire, request: Request) -> anyhow::Result<Response> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20).await?;
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let mut headers = parts.headers.clone();
    headers.remove("host");
    headers.remove("content-length");
    let answer = wire.client.request(parts.method.clone(), format!("{}{path}", wire.upstream)).headers(headers).body(body.clone()).send().await?;
    let status = answer.status();
    let mut answer_headers = answer.headers().clone();
    let answer_body = answer.bytes().await?;
    if let Some((key, read, write)) = classify(&parts.headers, &path, &body, &answer_body) {
        wire.add(key, read, write);
    }
    for name in ["content-length", "transfer-encoding", "connection"] {
        answer_headers.remove(name);
    }
    let mut response = Response::new(Body::from(answer_body));
    *response.status_mut() = status;
    *response.headers_mut() = answer_headers;
    Ok(response)
}

/// `service:Operation` and its DynamoDB read and write units; `None` for
/// what is not an AWS call (moto's own routes).
fn classify(headers: &HeaderMap, path: &str, request: &[u8], answer: &[u8]) -> Option<(String, f64, f64)> {
    if path.starts_with("/moto-api") {
        return None;
    }
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if let Some(operation) = target.strip_prefix("DynamoDB_20120810.") {
        let request: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
        let answer: Value = serde_json::from_slice(answer).unwrap_or(Value::Null);
        let (read, write) = dynamodb_units(operation, &request, &answer);
        return Some((format!("dynamodb:{operation}"), read, write));
    }
    if let Some(operation) = target.strip_prefix("AmazonSQS.") {
        return Some((format!("sqs:{operation}"), 0.0, 0.0));
    }
    // SQS's query protocol, SES v2's REST routes.
    let form = String::from_utf8_lossy(request);
    if let Some(action) = form.split('&').find_map(|p| p.strip_prefix("Action=")) {
        return Some((format!("sqs:{action}"), 0.0, 0.0));
    }
    if path.starts_with("/v2/email/outbound-emails") {
        return Some(("ses:SendEmail".to_owned(), 0.0, 0.0));
    }
    Some((format!("other:{}", path.split('?').next().unwrap_or(path)), 0.0, 0.0))
}

const READ_UNIT: f64 = 4096.0;
const WRITE_UNIT: f64 = 1024.0;
/// The attribute that puts an item in the `due` index (docs/data-model.md).
const INDEX_KEY: &str = "due_pk";
/// The size assumed for an item a `Query` read but did not return (filtered
/// out, or counted only): the average of those it returned, else this.
const UNSEEN_ITEM_BYTES: f64 = 100.0;

/// Read and write units of one DynamoDB request (see the module's comment).
pub fn dynamodb_units(operation: &str, request: &Value, answer: &Value) -> (f64, f64) {
    let consistency = |r: &Value| if r["ConsistentRead"].as_bool() == Some(true) { 1.0 } else { 0.5 };
    let reads = |bytes: f64| (bytes / READ_UNIT).ceil().max(1.0);
    let writes = |item: &Value| (item_size(item) / WRITE_UNIT).ceil().max(1.0) + if item.get(INDEX_KEY).is_some() { 1.0 } else { 0.0 };
    match operation {
        "GetItem" => (reads(item_size(&answer["Item"])) * consistency(request), 0.0),
        "BatchGetItem" => {
            let mut units = 0.0;
            for (table, asked) in request["RequestItems"].as_object().into_iter().flatten() {
                let found = answer["Responses"][table].as_array().cloned().unwrap_or_default();
                let keys = asked["Keys"].as_array().map_or(0, Vec::len);
                let missing = keys.saturating_sub(found.len()) as f64;
                units += (found.iter().map(|i| reads(item_size(i))).sum::<f64>() + missing) * consistency(asked);
            }
            (units, 0.0)
        }
        "Query" | "Scan" => {
            let items = answer["Items"].as_array().cloned().unwrap_or_default();
            let seen: f64 = items.iter().map(item_size).sum();
            let scanned = answer["ScannedCount"].as_f64().or(answer["Count"].as_f64()).unwrap_or(items.len() as f64);
            let unseen = (scanned - items.len() as f64).max(0.0);
            let average = if items.is_empty() { UNSEEN_ITEM_BYTES } else { seen / items.len() as f64 };
            // A global secondary index is read eventually consistent.
            let factor = if request.get("IndexName").is_some() { 0.5 } else { consistency(request) };
            (reads(seen + unseen * average) * factor, 0.0)
        }
        "PutItem" => (0.0, writes(&request["Item"])),
        "DeleteItem" => (0.0, (item_size(&answer["Attributes"]) / WRITE_UNIT).ceil().max(1.0)),
        "UpdateItem" => (0.0, 1.0),
        "TransactWriteItems" => {
            let units = request["TransactItems"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| match t.get("Put") {
                    Some(put) => writes(&put["Item"]),
                    None => 1.0,
                })
                .sum::<f64>();
            (0.0, 2.0 * units)
        }
        "TransactGetItems" => {
            let items = answer["Responses"].as_array().cloned().unwrap_or_default();
            (2.0 * items.iter().map(|r| reads(item_size(&r["Item"]))).sum::<f64>(), 0.0)
        }
        _ => (0.0, 0.0),
    }
}

/// An item's size by DynamoDB's rules: each attribute's name and value in
/// UTF-8 bytes; a number 1 byte per two significant digits plus 1; binary
/// its bytes; a map or list 3 bytes plus 1 per element plus its elements.
pub fn item_size(item: &Value) -> f64 {
    item.as_object().map_or(0.0, |attributes| attributes.iter().map(|(name, value)| name.len() as f64 + value_size(value)).sum())
}

fn value_size(value: &Value) -> f64 {
    let Some((kind, v)) = value.as_object().and_then(|o| o.iter().next()) else { return 0.0 };
    let number = |n: &str| {
        let digits = n.trim_start_matches('-').replace('.', "");
        let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
        (significant as f64 / 2.0).ceil() + 1.0
    };
    match kind.as_str() {
        "S" => v.as_str().map_or(0, str::len) as f64,
        "N" => v.as_str().map_or(1.0, number),
        "B" => v.as_str().map_or(0, |b| b.len() * 3 / 4) as f64,
        "BOOL" | "NULL" => 1.0,
        "SS" => v.as_array().into_iter().flatten().filter_map(Value::as_str).map(|s| s.len() as f64).sum(),
        "NS" => v.as_array().into_iter().flatten().filter_map(Value::as_str).map(number).sum(),
        "L" => 3.0 + v.as_array().into_iter().flatten().map(|e| 1.0 + value_size(e)).sum::<f64>(),
        "M" => 3.0 + v.as_object().into_iter().flatten().map(|(n, e)| 1.0 + n.len() as f64 + value_size(e)).sum::<f64>(),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn item_sizes_follow_dynamodbs_rules() {
        // "pk" 2 + 5, "seq" 3 + (3 significant digits → 2 + 1), "ok" 2 + 1
        assert_eq!(item_size(&json!({"pk": {"S": "a#b#c"}, "seq": {"N": "123"}, "ok": {"BOOL": true}})), 7.0 + 6.0 + 3.0);
        assert_eq!(item_size(&json!({"n": {"N": "1200"}})), 1.0 + 2.0, "trailing zeros are not significant");
    }

    #[test]
    fn reads_round_to_4_kb_and_halve_when_eventually_consistent() {
        let big = json!({"Item": {"doc": {"S": "x".repeat(5000)}}});
        assert_eq!(dynamodb_units("GetItem", &json!({"ConsistentRead": true}), &big), (2.0, 0.0));
        assert_eq!(dynamodb_units("GetItem", &json!({}), &big), (1.0, 0.0));
        assert_eq!(dynamodb_units("GetItem", &json!({"ConsistentRead": true}), &json!({})), (1.0, 0.0), "a missing item costs one unit");
        let batch = json!({"RequestItems": {"t": {"Keys": [{}, {}, {}], "ConsistentRead": false}}});
        let found = json!({"Responses": {"t": [{"pk": {"S": "a"}}]}});
        assert_eq!(dynamodb_units("BatchGetItem", &batch, &found), (1.5, 0.0), "0.5 per key, found or not");
    }

    #[test]
    fn a_query_sums_its_items_before_rounding() {
        let items: Vec<Value> = (0..10).map(|_| json!({"doc": {"S": "x".repeat(997)}})).collect();
        let answer = json!({"Items": items, "Count": 10, "ScannedCount": 10});
        assert_eq!(dynamodb_units("Query", &json!({"ConsistentRead": true}), &answer), (3.0, 0.0), "10,000 bytes: 3 units");
        assert_eq!(dynamodb_units("Query", &json!({"IndexName": "due"}), &json!({"Count": 0, "ScannedCount": 0})), (0.5, 0.0));
    }

    #[test]
    fn writes_round_to_1_kb_double_in_transactions_and_pay_for_the_index() {
        let put = json!({"Item": {"doc": {"S": "x".repeat(1500)}}});
        assert_eq!(dynamodb_units("PutItem", &put, &json!({})), (0.0, 2.0));
        let indexed = json!({"Item": {"doc": {"S": "x"}, "due_pk": {"S": "due#1"}}});
        assert_eq!(dynamodb_units("PutItem", &indexed, &json!({})), (0.0, 2.0));
        let transaction = json!({"TransactItems": [{"Update": {}}, {"Put": {"Item": {"doc": {"S": "x"}}}}]});
        assert_eq!(dynamodb_units("TransactWriteItems", &transaction, &json!({})), (0.0, 4.0));
    }
}
