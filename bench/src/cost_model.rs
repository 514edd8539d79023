//! The cost model: measured counts × the dated price table
//! (`bench/prices.json`). Pure arithmetic, so a test can check that a known
//! input gives known dollars; `costs-bench` (bench/src/costs.rs) measures
//! the inputs and writes docs/costs.md.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Seconds in the month AWS prices by (730 hours).
pub const MONTH_SECS: f64 = 730.0 * 3600.0;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Price {
    pub value: f64,
    pub per: f64,
    pub unit: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Prices {
    pub region: String,
    pub date: String,
    pub currency: String,
    pub prices: BTreeMap<String, Price>,
    pub excluded: Vec<String>,
}

impl Prices {
    /// Dollars per one unit of `name` (a missing name is a bug in the table).
    pub fn unit(&self, name: &str) -> f64 {
        let price = self.prices.get(name).unwrap_or_else(|| panic!("bench/prices.json has no price {name}"));
        price.value / price.per
    }
}

/// Where the bus runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Compute {
    /// One execution environment per waiting poll, billed for its wait.
    Classic,
    /// Lambda Managed Instances: up to `per_environment` polls in one
    /// environment, EC2 instances billed by the hour.
    ManagedInstances,
}

/// How a poll reaches the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FrontDoor {
    HttpApi,
    FunctionUrl,
}

impl FrontDoor {
    pub fn price(self) -> &'static str {
        match self {
            Self::HttpApi => "http_api_request",
            Self::FunctionUrl => "function_url_request",
        }
    }
}

/// What an always-connected client costs, as measured and configured.
#[derive(Debug, Clone, Serialize)]
pub struct BusInputs {
    /// Distinct channels a client's poll waits on.
    pub channels_per_client: f64,
    /// How often waiting polls read the channel heads (`HERALD_BUS_POLL_MS`).
    pub poll_interval_secs: f64,
    /// Classic Lambda: read units per second one waiting poll consumes
    /// (measured: its own consistent `BatchGetItem` of its heads).
    pub classic_read_units_per_sec: f64,
    /// Managed Instances: read units per second one client's waiting poll
    /// costs among many in one process (measured: the process's watcher
    /// reading the heads of every waiting channel, eventually consistent),
    /// at the interval `measured_interval_secs`.
    pub managed_read_units_per_client_sec: f64,
    pub measured_interval_secs: f64,
    /// The bus function's memory (template.yaml), classic Lambda.
    pub memory_gb: f64,
    /// Managed Instances: waiting polls one environment holds
    /// (`PerExecutionEnvironmentMaxConcurrency`, at most 1,600).
    pub per_environment: f64,
    /// Managed Instances: execution environments one instance holds.
    pub environments_per_instance: f64,
    /// Managed Instances: instances a capacity provider keeps at least.
    pub minimum_instances: f64,
    /// The instance type's price name in the table.
    pub instance_price: String,
}

/// Dollars per client-month, by service.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Breakdown {
    pub lambda_requests: f64,
    pub lambda_duration: f64,
    pub instances: f64,
    pub front_door: f64,
    pub dynamodb: f64,
    pub total: f64,
    /// Instances running (Managed Instances), for the report.
    pub instance_count: f64,
    pub polls_per_month: f64,
}

/// One always-connected client's month among `clients`, waiting `wait_secs`
/// per poll (idle: no message arrives; a delivery's own poll is in the
/// delivery's cost).
pub fn client_month(prices: &Prices, bus: &BusInputs, compute: Compute, front_door: FrontDoor, wait_secs: f64, clients: f64) -> Breakdown {
    let polls = MONTH_SECS / wait_secs;
    let front_door_cost = polls * prices.unit(front_door.price());
    let mut b = match compute {
        Compute::Classic => Breakdown {
            lambda_requests: polls * prices.unit("lambda_request"),
            lambda_duration: MONTH_SECS * bus.memory_gb * prices.unit("lambda_gb_second_x86"),
            dynamodb: bus.classic_read_units_per_sec * MONTH_SECS * prices.unit("dynamodb_read_request_unit"),
            ..Breakdown::default()
        },
        Compute::ManagedInstances => {
            let environments = (clients / bus.per_environment).ceil();
            let instances = (environments / bus.environments_per_instance).ceil().max(bus.minimum_instances);
            let hourly = prices.unit(&bus.instance_price) * (1.0 + prices.unit("managed_instances_fee"));
            // One watcher per process reads every waiting channel's head once
            // per interval (measured at one interval, scaled to another):
            // read units grow with channels, however the keys are batched.
            let read_units_per_sec = bus.managed_read_units_per_client_sec * bus.measured_interval_secs / bus.poll_interval_secs;
            Breakdown {
                lambda_requests: polls * prices.unit("managed_instances_request"),
                instances: instances * hourly * 730.0 / clients,
                instance_count: instances,
                dynamodb: read_units_per_sec * MONTH_SECS * prices.unit("dynamodb_read_request_unit"),
                ..Breakdown::default()
            }
        }
    };
    b.front_door = front_door_cost;
    b.polls_per_month = polls;
    b.total = b.lambda_requests + b.lambda_duration + b.instances + b.front_door + b.dynamodb;
    b
}

/// Measured counts of one unit of work (a delivery, a subscription), and
/// what it adds at the edges (invocations, front-door requests, emails).
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkInputs {
    pub read_units: f64,
    pub write_units: f64,
    pub sqs_requests: f64,
    pub lambda_requests: f64,
    pub lambda_gb_seconds: f64,
    pub front_door_requests: f64,
    pub emails: f64,
}

/// Dollars of `n` units of work, by service, on classic Lambda (x86) behind
/// the HTTP API, emails at `email_price`.
pub fn work_cost(prices: &Prices, work: &WorkInputs, n: f64, email_price: &str) -> BTreeMap<&'static str, f64> {
    let mut cost = BTreeMap::new();
    cost.insert("dynamodb", n * (work.read_units * prices.unit("dynamodb_read_request_unit") + work.write_units * prices.unit("dynamodb_write_request_unit")));
    cost.insert("sqs", n * work.sqs_requests * prices.unit("sqs_request"));
    cost.insert("lambda", n * (work.lambda_requests * prices.unit("lambda_request") + work.lambda_gb_seconds * prices.unit("lambda_gb_second_x86")));
    cost.insert("front_door", n * work.front_door_requests * prices.unit("http_api_request"));
    cost.insert("ses", n * work.emails * prices.unit(email_price));
    let total = cost.values().sum();
    cost.insert("total", total);
    cost
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices() -> Prices {
        serde_json::from_str(include_str!("../prices.json")).expect("bench/prices.json parses")
    }

    fn bus() -> BusInputs {
        BusInputs {
            channels_per_client: 3.0,
            poll_interval_secs: 0.5,
            classic_read_units_per_sec: 6.0,
            managed_read_units_per_client_sec: 3.0,
            measured_interval_secs: 0.5,
            memory_gb: 0.25,
            per_environment: 1600.0,
            environments_per_instance: 2.0,
            minimum_instances: 3.0,
            instance_price: "ec2_c7i_large_hour".into(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn every_price_has_a_value_a_unit_and_a_source() {
        let p = prices();
        assert_eq!((p.region.as_str(), p.date.as_str()), ("us-east-1", "2026-12-08"));
        for (name, price) in &p.prices {
            assert!(price.value >= 0.0 && price.per > 0.0 && !price.unit.is_empty(), "{name}");
            assert!(price.source.starts_with("https://aws.amazon.com/"), "{name}: {}", price.source);
        }
    }

    /// The issue's own figure: 256 MB waiting all month is 657,000 GB-s,
    /// $10.95 at the x86 price; 131,400 polls of 20 s.
    #[test]
    fn classic_lambda_bills_the_whole_wait() {
        let b = client_month(&prices(), &bus(), Compute::Classic, FrontDoor::HttpApi, 20.0, 1000.0);
        assert!(close(b.polls_per_month, 131_400.0));
        assert!(close(b.lambda_duration, 2_628_000.0 * 0.25 * 0.0000166667), "{}", b.lambda_duration);
        assert!(close(b.lambda_requests, 131_400.0 * 0.2e-6));
        assert!(close(b.front_door, 0.1314));
        // 6 units a second all month: 15.768 million units at $0.125 a million.
        assert!(close(b.dynamodb, 15.768 * 0.125));
        assert!(close(b.total, b.lambda_duration + b.lambda_requests + b.front_door + b.dynamodb));
        let url = client_month(&prices(), &bus(), Compute::Classic, FrontDoor::FunctionUrl, 20.0, 1000.0);
        assert_eq!(url.front_door, 0.0);
    }

    #[test]
    fn managed_instances_share_the_instances_and_keep_three_at_least() {
        let p = prices();
        let hourly = 0.08925 * 1.15;
        let thousand = client_month(&p, &bus(), Compute::ManagedInstances, FrontDoor::FunctionUrl, 300.0, 1000.0);
        assert_eq!(thousand.instance_count, 3.0, "1,000 polls fit one environment; three instances anyway");
        assert!(close(thousand.instances, 3.0 * hourly * 730.0 / 1000.0));
        assert!(close(thousand.lambda_requests, 8_760.0 * 0.2e-6));
        // 3 keys × 0.5 unit × 2 reads a second.
        assert!(close(thousand.dynamodb, 3.0 * MONTH_SECS * 0.125e-6));
        let many = client_month(&p, &bus(), Compute::ManagedInstances, FrontDoor::FunctionUrl, 300.0, 10_000.0);
        assert_eq!(many.instance_count, 4.0, "7 environments of 1,600, two an instance");
        let few = client_month(&p, &bus(), Compute::ManagedInstances, FrontDoor::FunctionUrl, 300.0, 10.0);
        assert!(close(few.instances, 100.0 * thousand.instances), "the same three instances for 10 clients");
    }

    #[test]
    fn work_is_priced_service_by_service() {
        let p = prices();
        let work = WorkInputs { read_units: 4.0, write_units: 8.0, sqs_requests: 0.3, lambda_requests: 0.1, lambda_gb_seconds: 0.01, front_door_requests: 1.0, emails: 1.0 };
        let cost = work_cost(&p, &work, 1e6, "ses_email_a_la_carte");
        assert!(close(cost["dynamodb"], 4.0 * 0.125 + 8.0 * 0.625));
        assert!(close(cost["sqs"], 0.12));
        assert!(close(cost["lambda"], 0.02 + 10_000.0 * 0.0000166667));
        assert!(close(cost["front_door"], 1.0));
        assert!(close(cost["ses"], 100.0));
        assert!(close(cost["total"], 5.5 + 0.12 + 0.02 + 0.166667 + 1.0 + 100.0));
    }
}
