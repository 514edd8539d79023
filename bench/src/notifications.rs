//! `notifications-bench`: typed notifications, measured in-process.
//!
//! - fan-out: notifications per second published to a group of 1,000
//!   recipients (recipients resolved, 1,000 deliveries written, queued),
//!   embedded store;
//! - outbox: deliveries per second, in-app (inbox item + unread count + a
//!   live bus message) and email (a mailer that only counts), embedded;
//! - DynamoDB requests per delivered message, counted over every store of
//!   the wiring, for publishing and for delivering, in-app and email (needs
//!   `AWS_ENDPOINT_URL`, e.g. moto server; skipped otherwise).
//!
//! Prints a report and writes `target/bench/notifications.json`. See
//! docs/benchmarks.md.
mod setup;
mod worlds;

use std::time::Instant;

use clap::Parser;
use herald::events;
use herald::notifications::Channel;
use herald::wiring::{Aws, Embedded, LocalGateway, Wiring};
use serde_json::json;
use setup::{config, durable};
use worlds::{parts, request, Parts};

#[derive(Parser)]
#[command(about = "Notification fan-out, outbox throughput and DynamoDB requests per delivered message")]
struct Args {
    /// Recipients of each fanned-out notification.
    #[arg(long, default_value_t = 1000)]
    recipients: usize,
    /// Notifications sent in the fan-out run.
    #[arg(long, default_value_t = 20)]
    notifications: usize,
    /// Recipients in the DynamoDB cost run (moto is slow; the cost per
    /// message does not depend on it).
    #[arg(long, default_value_t = 50)]
    dynamodb_recipients: usize,
}

fn embedded(store: &Embedded) -> anyhow::Result<Wiring<Embedded, LocalGateway>> {
    Ok(Wiring::new(config(None)?, store.clone(), LocalGateway))
}

/// Fan-out and drain on one embedded store, in-app and email (each on a
/// store of its own from `store`).
async fn embedded_figures(store: impl Fn(&str) -> anyhow::Result<Embedded>, args: &Args) -> anyhow::Result<serde_json::Value> {
    let inapp = parts(embedded(&store("in-app")?)?, args.recipients).await?;
    let inapp_fanout = fan_out(&inapp, Channel::Message, args.notifications).await?;
    let (inapp_delivered, inapp_rate) = drain(&inapp).await?;
    let email = parts(embedded(&store("email")?)?, args.recipients).await?;
    let email_fanout = fan_out(&email, Channel::Email, args.notifications).await?;
    let (email_delivered, email_rate) = drain(&email).await?;
    Ok(json!({
        "fan_out_notifications_per_sec": {"in_app": inapp_fanout, "email": email_fanout},
        "outbox_deliveries_per_sec": {"in_app": inapp_rate, "email": email_rate},
        "delivered": {"in_app": inapp_delivered, "email": email_delivered},
    }))
}

/// Sends `notifications` to the group; notifications published per second.
async fn fan_out(p: &Parts, channel: Channel, notifications: usize) -> anyhow::Result<f64> {
    let start = Instant::now();
    for n in 0..notifications {
        p.services.notifier.send(&p.tenant, request(channel, n)?).await?;
    }
    Ok(notifications as f64 / start.elapsed().as_secs_f64())
}

/// Drains the queue; deliveries per second.
async fn drain(p: &Parts) -> anyhow::Result<(usize, f64)> {
    let start = Instant::now();
    let report = events::drain_outbox(&p.services).await?;
    Ok((report.handled, report.handled as f64 / start.elapsed().as_secs_f64()))
}

struct Costs {
    publish: f64,
    deliver: f64,
}

/// DynamoDB requests per delivered message on moto, for one channel (the
/// requests of every store: the directory, the types, the notification and
/// its deliveries, the inbox, the bus).
async fn dynamodb_costs(channel: Channel, recipients: usize) -> anyhow::Result<Costs> {
    // Tables (and the `{table}-outbox` queue) of their own for each channel.
    let tables = format!("bench-notifications-{}-{channel:?}", std::process::id()).to_lowercase();
    let p = parts(Wiring::new(config(Some(tables))?, Aws, LocalGateway), recipients).await?;
    let before = p.requests.get();
    p.services.notifier.send(&p.tenant, request(channel, 0)?).await?;
    let published = p.requests.get();
    let (delivered, _) = drain(&p).await?;
    let after = p.requests.get();
    anyhow::ensure!(delivered == recipients, "delivered {delivered} of {recipients}");
    Ok(Costs { publish: (published - before) as f64 / recipients as f64, deliver: (after - published) as f64 / recipients as f64 })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    eprintln!("fan-out: {} notifications × {} recipients, embedded in memory…", args.notifications, args.recipients);
    let memory = embedded_figures(|_| Ok(Embedded::memory()), &args).await?;
    eprintln!("fan-out: {} notifications × {} recipients, embedded on disk…", args.notifications, args.recipients);
    let on_disk = embedded_figures(|name| durable(&format!("notifications-{name}")), &args).await?;

    let costs = if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        eprintln!("DynamoDB requests per delivered message: {} recipients on moto…", args.dynamodb_recipients);
        Some((dynamodb_costs(Channel::Message, args.dynamodb_recipients).await?, dynamodb_costs(Channel::Email, args.dynamodb_recipients).await?))
    } else {
        None
    };

    for (name, figures) in [("in memory", &memory), ("on disk", &on_disk)] {
        let (fan_out, outbox) = (&figures["fan_out_notifications_per_sec"], &figures["outbox_deliveries_per_sec"]);
        println!(
            "embedded {name}: fan-out to {} recipients {:.1} notifications/s in-app, {:.1}/s email; outbox {:.0} in-app deliveries/s, {:.0} email/s",
            args.recipients,
            fan_out["in_app"].as_f64().unwrap_or(0.0),
            fan_out["email"].as_f64().unwrap_or(0.0),
            outbox["in_app"].as_f64().unwrap_or(0.0),
            outbox["email"].as_f64().unwrap_or(0.0)
        );
    }
    match &costs {
        Some((inapp, email)) => println!(
            "DynamoDB requests per delivered message: in-app {:.2} to publish + {:.2} to deliver; email {:.2} + {:.2}",
            inapp.publish, inapp.deliver, email.publish, email.deliver
        ),
        None => println!("DynamoDB requests per delivered message: skipped (AWS_ENDPOINT_URL not set)"),
    }
    let report = json!({
        "recipients": args.recipients,
        "notifications": args.notifications,
        "fan_out_notifications_per_sec": memory["fan_out_notifications_per_sec"],
        "outbox_deliveries_per_sec": memory["outbox_deliveries_per_sec"],
        "delivered": memory["delivered"],
        "durable": on_disk,
        "dynamodb_requests_per_delivered_message": costs.map(|(i, e)| json!({
            "recipients": args.dynamodb_recipients,
            "in_app": {"publish": i.publish, "deliver": i.deliver},
            "email": {"publish": e.publish, "deliver": e.deliver},
        })),
    });
    std::fs::create_dir_all("target/bench")?;
    std::fs::write("target/bench/notifications.json", serde_json::to_string_pretty(&report)?)?;
    Ok(())
}
