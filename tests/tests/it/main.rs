//! End-to-end tests, one binary: `herald-local` over HTTP on both stores
//! (embedded, and `--aws` on the moto server `scripts/test` started), the
//! recorded transcript of the whole API, refusals, concurrency (several
//! gateway processes on one DynamoDB), the real Tryton clients, the Lambda
//! functions' routers and handlers on AWS event fixtures, the exact wiring
//! of each Lambda function on moto, and the CLI.
mod api_transcript;
mod browser_ui;
mod bus_http;
mod cli;
mod concurrency;
mod contract;
mod digests_http;
mod directory_http;
mod durable;
mod hostile;
mod lambda_concurrency;
mod lambda_events;
mod lambda_wiring;
mod notifications_http;
mod records_http;
mod refusals;
mod subscriptions_http;
mod tryton_clients;
mod tryton_sessions_http;
mod tryton_site;
