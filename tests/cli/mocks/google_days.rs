//! A loopback Google Health API that answers any range of days: every `dailyRollUp`
//! from its body's range (one point a day, newest first, as Google orders them), every
//! list from its filter's dates. Each day's values differ (they follow its day of the
//! month), and `empty` days have no value at all (their rollup windows are listed with
//! only their civil times), so a range answer that puts a value on the wrong day, or
//! makes up a value for an empty one, shows.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{Datelike, Days, NaiveDate};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::google::{Day, fixture, mount_devices};
use super::partial;

fn civil(date: NaiveDate) -> Value {
    json!({"date": {"year": date.year(), "month": date.month(), "day": date.day()}})
}

fn date_of(value: &Value) -> NaiveDate {
    let d = &value["date"];
    NaiveDate::from_ymd_opt(
        d["year"].as_i64().unwrap() as i32,
        d["month"].as_u64().unwrap() as u32,
        d["day"].as_u64().unwrap() as u32,
    )
    .unwrap()
}

/// The days `first..end` (end exclusive).
fn days(first: NaiveDate, end: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    first.iter_days().take_while(move |d| *d < end)
}

/// Serves any range to requests with `token`; the days in `empty` have no data.
pub async fn mount(server: &MockServer, token: &str, empty: &[NaiveDate]) {
    mount_with_sleep(server, token, empty, BTreeMap::new()).await;
}

/// As [`mount`] with every day's data, each answer given after `latency` (the benchmark).
pub async fn mount_after(server: &MockServer, token: &str, latency: Duration) {
    serve(server, token, &[], BTreeMap::new(), latency).await;
}

/// As [`mount`], with the minutes asleep of the nights in `sleep` (the others have
/// 380 + their day of the month).
pub async fn mount_with_sleep(
    server: &MockServer,
    token: &str,
    empty: &[NaiveDate],
    sleep: BTreeMap<NaiveDate, u32>,
) {
    serve(server, token, empty, sleep, Duration::ZERO).await;
}

async fn serve(
    server: &MockServer,
    token: &str,
    empty: &[NaiveDate],
    sleep: BTreeMap<NaiveDate, u32>,
    latency: Duration,
) {
    let auth = format!("Bearer {token}");
    let empty: BTreeSet<NaiveDate> = empty.iter().copied().collect();
    let rollups = Day::standard().rollups;
    let no_data = empty.clone();
    Mock::given(method("POST"))
        .and(path_regex(
            "^/v4/users/me/dataTypes/[a-z-]+/dataPoints:dailyRollUp$",
        ))
        .and(header("authorization", auth.as_str()))
        .respond_with(move |request: &Request| {
            let data_type = request.url.path().split('/').nth(5).unwrap().to_string();
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let (first, end) = (
                date_of(&body["range"]["start"]),
                date_of(&body["range"]["end"]),
            );
            assert!(
                (end - first).num_days() <= cap(&data_type),
                "{data_type}: {body}"
            );
            let mut points: Vec<Value> = days(first, end)
                .map(|date| {
                    let mut point = json!({"civilStartTime": civil(date),
                                           "civilEndTime": civil(date + Days::new(1))});
                    if !no_data.contains(&date) {
                        let mut value = rollups[data_type.as_str()].clone();
                        if data_type == "steps" {
                            value = json!({"steps": {"countSum": (9000 + date.day()).to_string()}});
                        }
                        point
                            .as_object_mut()
                            .unwrap()
                            .extend(value.as_object().unwrap().clone());
                    }
                    point
                })
                .collect();
            points.reverse();
            ResponseTemplate::new(200)
                .set_body_json(json!({"rollupDataPoints": points}))
                .set_delay(latency)
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(
            "^/v4/users/me/dataTypes/[a-z-]+/dataPoints(:reconcile)?$",
        ))
        .and(header("authorization", auth.as_str()))
        .respond_with(move |request: &Request| {
            let data_type = request.url.path().split('/').nth(5).unwrap().to_string();
            let filter = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "filter")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            let dates: Vec<NaiveDate> = filter
                .split('"')
                .filter_map(|part| part.parse().ok())
                .collect();
            let points: Vec<Value> = days(dates[0], dates[1])
                .filter(|date| !empty.contains(date))
                .map(|date| point(&data_type, date, sleep.get(&date).copied()))
                .collect();
            // pages as the API does: `pageSize` points, then a token for the rest
            let param = |name: &str| {
                request
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| v.parse::<usize>().ok())
            };
            let size = param("pageSize").unwrap_or(1440);
            let from = param("pageToken").unwrap_or(0);
            let page: Vec<&Value> = points.iter().skip(from).take(size).collect();
            let mut body = json!({"dataPoints": page});
            if from + size < points.len() {
                body["nextPageToken"] = json!((from + size).to_string());
            }
            ResponseTemplate::new(200)
                .set_body_json(partial::select(request, body))
                .set_delay(latency)
        })
        .mount(server)
        .await;
    mount_devices(server, &auth, fixture("paired_devices.json"), latency).await;
}

/// The days one `dailyRollUp` may span (discovery document).
fn cap(data_type: &str) -> i64 {
    match data_type {
        "total-calories" | "active-minutes" => 14,
        _ => 90,
    }
}

/// The one point of `data_type` on `date`.
fn point(data_type: &str, date: NaiveDate, asleep: Option<u32>) -> Value {
    let n = date.day();
    let before = date - Days::new(1);
    match data_type {
        "basal-energy-burned" => json!({"basalEnergyBurned": {
            "interval": {"startTime": format!("{date}T09:00:00Z"), "endTime": format!("{date}T09:01:00Z"),
                         "civilStartTime": {"date": {"year": date.year(), "month": date.month(), "day": n},
                                            "time": {"hours": 10}}},
            "kcal": 1500.0 + f64::from(n)}}),
        "sleep" => json!({"sleep": {
            "interval": {"startTime": format!("{before}T22:00:00Z"), "endTime": format!("{date}T05:00:00Z"),
                         "civilEndTime": {"date": {"year": date.year(), "month": date.month(), "day": n},
                                          "time": {"hours": 6}}},
            "type": "STAGES",
            "summary": {"minutesAsleep": asleep.unwrap_or(380 + n).to_string(), "minutesInSleepPeriod": "480"}}}),
        "daily-resting-heart-rate" => json!({"dailyRestingHeartRate": {
            "date": {"year": date.year(), "month": date.month(), "day": n},
            "beatsPerMinute": (50 + n).to_string()}}),
        other => panic!("no list of {other} is served"),
    }
}
