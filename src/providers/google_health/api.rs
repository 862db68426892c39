//! Requests to the Google Health API: the data types the day is read from (each a
//! named constant saying where it lives, what its answer parses into and which scope
//! it needs), the `dailyRollUp` body, list filters and paging, and the authorized send
//! with one refresh after a 401. What a day fetches with them is in `fetch`.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use chrono::{Datelike, Days, NaiveDate};
use chrono_tz::Tz;
use futures_util::future::try_join_all;
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use url::Url;

use super::auth::{ACTIVITY, AUTH_COMMAND, HEALTH_METRICS, NUTRITION, SLEEP};
use super::dated::{By, CivilDateTime, Dated, by_day, day_of};
use super::errors::{api_error, error_message, is_invalid_argument};
use super::wire::{
    ActiveMinutesRollup, ActivityLevelPoint, ActivityLevelRollup, BodyFatRollup, DistanceRollup,
    HydrationRollup, KcalPoint, KcalRollup, ListPage, Listed, RestingHeartRatePoint, RollupPage,
    SedentaryRollup, SleepPoint, StepsRollup, WeightRollup,
};
use super::{API, GoogleHealth};
use crate::day::DayRange;
use crate::error::{Error, Result};
use crate::net::http::{self, Reply, Retry};
use crate::net::oauth::{Scope, is_granted};
use crate::secret::Secret;
use crate::store::credentials::OAuthCredentials;

/// One data type: its path segment (kebab-case), its JSON key (camelCase), its filter
/// prefix (snake_case), what it is called in messages and the scope it needs; `T` is
/// what one rollup value or list point of it parses into.
pub(super) struct DataType<T> {
    path: &'static str,
    pub(super) key: &'static str,
    filter: &'static str,
    label: &'static str,
    scope: &'static Scope,
    /// False where only the discovery document, not the data-type table, lists a
    /// daily rollup: a refusal as an invalid argument then means "not offered", not a bug.
    rollup_documented: bool,
    wire: PhantomData<fn() -> T>,
}

pub(super) const STEPS: DataType<StepsRollup> = DataType {
    path: "steps",
    key: "steps",
    filter: "steps",
    label: "steps",
    scope: &ACTIVITY,
    rollup_documented: true,
    wire: PhantomData,
};
pub(super) const DISTANCE: DataType<DistanceRollup> = DataType {
    path: "distance",
    key: "distance",
    filter: "distance",
    label: "distance",
    scope: &ACTIVITY,
    rollup_documented: true,
    wire: PhantomData,
};
pub(super) const TOTAL_CALORIES: DataType<KcalRollup> = DataType {
    path: "total-calories",
    key: "totalCalories",
    filter: "total_calories",
    label: "total calories",
    scope: &ACTIVITY,
    rollup_documented: true,
    wire: PhantomData,
};
pub(super) const ACTIVE_ENERGY: DataType<KcalRollup> = DataType {
    path: "active-energy-burned",
    key: "activeEnergyBurned",
    filter: "active_energy_burned",
    label: "active calories",
    scope: &ACTIVITY,
    rollup_documented: true,
    wire: PhantomData,
};
pub(super) const BASAL_ENERGY: DataType<KcalPoint> = DataType {
    path: "basal-energy-burned",
    key: "basalEnergyBurned",
    filter: "basal_energy_burned",
    label: "basal calories",
    scope: &ACTIVITY,
    rollup_documented: false,
    wire: PhantomData,
};
pub(super) const ACTIVITY_LEVEL: DataType<ActivityLevelRollup> = DataType {
    path: "activity-level",
    key: "activityLevel",
    filter: "activity_level",
    label: "activity levels",
    scope: &ACTIVITY,
    rollup_documented: false,
    wire: PhantomData,
};
/// The same data type read as intervals, when Google refuses its daily rollup.
pub(super) const ACTIVITY_LEVEL_INTERVALS: DataType<ActivityLevelPoint> = DataType {
    path: "activity-level",
    key: "activityLevel",
    filter: "activity_level",
    label: "activity levels",
    scope: &ACTIVITY,
    rollup_documented: false,
    wire: PhantomData,
};
pub(super) const SEDENTARY: DataType<SedentaryRollup> = DataType {
    path: "sedentary-period",
    key: "sedentaryPeriod",
    filter: "sedentary_period",
    label: "sedentary time",
    scope: &ACTIVITY,
    rollup_documented: false,
    wire: PhantomData,
};
pub(super) const ACTIVE_MINUTES: DataType<ActiveMinutesRollup> = DataType {
    path: "active-minutes",
    key: "activeMinutes",
    filter: "active_minutes",
    label: "active minutes",
    scope: &ACTIVITY,
    rollup_documented: true,
    wire: PhantomData,
};
pub(super) const HYDRATION: DataType<HydrationRollup> = DataType {
    path: "hydration-log",
    key: "hydrationLog",
    filter: "hydration_log",
    label: "water",
    scope: &NUTRITION,
    rollup_documented: true,
    wire: PhantomData,
};
pub(super) const WEIGHT: DataType<WeightRollup> = DataType {
    path: "weight",
    key: "weight",
    filter: "weight",
    label: "weight",
    scope: &HEALTH_METRICS,
    rollup_documented: false,
    wire: PhantomData,
};
pub(super) const BODY_FAT: DataType<BodyFatRollup> = DataType {
    path: "body-fat",
    key: "bodyFat",
    filter: "body_fat",
    label: "body fat",
    scope: &HEALTH_METRICS,
    rollup_documented: true,
    wire: PhantomData,
};
pub(super) const SLEEP_SESSIONS: DataType<SleepPoint> = DataType {
    path: "sleep",
    key: "sleep",
    filter: "sleep",
    label: "sleep",
    scope: &SLEEP,
    rollup_documented: true,
    wire: PhantomData,
};
pub(super) const RESTING_HEART_RATE: DataType<RestingHeartRatePoint> = DataType {
    path: "daily-resting-heart-rate",
    key: "dailyRestingHeartRate",
    filter: "daily_resting_heart_rate",
    label: "resting heart rate",
    scope: &HEALTH_METRICS,
    rollup_documented: true,
    wire: PhantomData,
};

/// Which list a day's points come from. `dataPoints` returns the raw points of every
/// source; `dataPoints:reconcile` merges them ("a walk recorded by a watch and a phone
/// counts once"), so a sum over a day is read from it. Its items name themselves by
/// `dataPointName` instead of `name` and carry the same data-type key (discovery
/// document `health/v4`, `ReconcileDataPointsResponse`).
#[derive(Clone, Copy)]
pub(super) enum Listing {
    Raw,
    Reconciled,
}

impl Listing {
    fn method(self) -> &'static str {
        match self {
            Listing::Raw => "dataPoints",
            Listing::Reconciled => "dataPoints:reconcile",
        }
    }
}

/// A daily rollup's answer: its values (a day without data has none), or the reason
/// Google gave for refusing a rollup the data-type table does not document.
pub(super) enum Rollup<T> {
    Offered(BTreeMap<NaiveDate, T>),
    NotOffered(String),
}

/// A list that has not ended after this many pages is not a day's worth of data.
const MAX_PAGES: usize = 50;
/// The list page size for minute-level data. The API's default, 1440, is exactly one
/// day of minutes: a day that ends daylight saving time has 1500, and a full page may
/// come with a token for an empty one, each a request that must wait for the one before.
/// 2000 holds any day of one tracker: about 200 KB as asked (`Listed::READS`), and
/// about 1 MB, a quarter of `MAX_BODY_BYTES`, from a server that sends whole points.
pub(super) const MINUTE_PAGE_SIZE: u32 = 2000;
/// The largest page the API allows for sleep.
pub(super) const SLEEP_PAGE_SIZE: u32 = 25;
/// For data with a point a day (resting heart rate): the longest range (90 days) from two
/// sources in one page, so a range needs no second round; the API allows up to 10,000.
pub(super) const DAILY_PAGE_SIZE: u32 = 200;

impl GoogleHealth {
    pub(super) fn url(&self, relative: &str) -> Url {
        self.api_base
            .join(relative)
            .expect("API paths are valid relative URLs")
    }

    /// Sends an authorized request. A 401 gets exactly one refresh (shared with every
    /// concurrent request that saw the same token rejected) and one retry.
    pub(super) async fn send(
        &self,
        token: &Secret,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Reply> {
        let reply = self
            .session
            .send_authorized(token, async |token| self.send_with(token, &build).await)
            .await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            return Err(Error::reauth(format!(
                "Google rejects even a freshly refreshed access token ({}); run `{AUTH_COMMAND}` to authorize again",
                error_message(&reply)
            )));
        }
        Ok(reply)
    }

    async fn send_with(
        &self,
        token: &Secret,
        build: &impl Fn() -> RequestBuilder,
    ) -> Result<Reply> {
        http::send(
            || build().bearer_auth(token.expose()),
            Retry::idempotent(&self.http_config),
        )
        .await
        .map_err(|err| err.into_error("Google Health API"))
    }

    /// `dataPoints:dailyRollUp` over the civil days of `range`, one window a day, and
    /// each day's value under the data type's key (absent when there is no data). A
    /// rollup Google does not offer is left out.
    pub(super) async fn rollup<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType<T>,
        range: DayRange,
    ) -> Result<BTreeMap<NaiveDate, T>> {
        Ok(match self.try_rollup(creds, data, range).await? {
            Rollup::Offered(values) => values,
            Rollup::NotOffered(why) => {
                log::info!(
                    "Google offers no daily rollup of {} ({why}); leaving it out",
                    data.label
                );
                BTreeMap::new()
            }
        })
    }

    /// The rollup over `range`, or Google's refusal of one that only the discovery
    /// document lists. A range longer than the type's cap is asked in pieces, all at
    /// once.
    pub(super) async fn try_rollup<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType<T>,
        range: DayRange,
    ) -> Result<Rollup<T>> {
        if !is_granted(creds, data.scope) {
            return Ok(Rollup::Offered(BTreeMap::new()));
        }
        let pieces = try_join_all(
            range
                .pieces(rollup_cap(data.path))
                .into_iter()
                .map(|piece| self.rollup_piece(creds, data, piece)),
        )
        .await?;
        let mut values = BTreeMap::new();
        for piece in pieces {
            match piece {
                Rollup::Offered(piece) => values.extend(piece),
                refused @ Rollup::NotOffered(_) => return Ok(refused),
            }
        }
        Ok(Rollup::Offered(values))
    }

    async fn rollup_piece<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType<T>,
        range: DayRange,
    ) -> Result<Rollup<T>> {
        let url = self.url(&format!(
            "users/me/dataTypes/{}/dataPoints:dailyRollUp",
            data.path
        ));
        let body = rollup_body(range);
        let reply = self
            .send(&creds.access_token, || {
                self.http.post(url.clone()).json(&body)
            })
            .await?;
        if !reply.status.is_success() {
            if !data.rollup_documented && is_invalid_argument(&reply) {
                return Ok(Rollup::NotOffered(error_message(&reply)));
            }
            return Err(api_error(&reply, data.label, data.scope));
        }
        let days = by_day(rollup_values(&reply, data)?, range);
        // one window a day: a second value for a day would be a second window
        Ok(Rollup::Offered(
            days.into_iter()
                .filter_map(|(day, values)| values.into_iter().next().map(|v| (day, v)))
                .collect(),
        ))
    }

    /// Every point of a list call, following `nextPageToken` to the end.
    async fn list_all<T: Listed>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType<T>,
        filter: &str,
        page_size: u32,
        (by, tz): (By, Tz),
        listing: Listing,
    ) -> Result<Dated<T>> {
        let mut values = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = self.url(&format!(
                "users/me/dataTypes/{}/{}",
                data.path,
                listing.method()
            ));
            {
                let mut query = url.query_pairs_mut();
                query
                    .append_pair("filter", filter)
                    .append_pair("pageSize", &page_size.to_string());
                if let Some(token) = &page_token {
                    query.append_pair("pageToken", token);
                }
                if let Some(reads) = T::READS {
                    query.append_pair("fields", &partial_response(data.key, reads, by));
                }
            }
            let reply = self
                .send(&creds.access_token, || self.http.get(url.clone()))
                .await?;
            if !reply.status.is_success() {
                return Err(api_error(&reply, data.label, data.scope));
            }
            let (page, next_page_token) = page_values(&reply, data, by, tz)?;
            values.extend(page);
            match next_page_token {
                Some(next) => page_token = Some(next),
                None => return Ok(values),
            }
        }
        Err(Error::other(format!(
            "{API} sent more than {MAX_PAGES} pages of {}; this is not the data of the days asked for, report it with the output of -vv",
            data.label
        )))
    }

    /// A list call's points for the civil days of `range`, selected by `field` of the
    /// data type, grouped by the day `by` names and made into that day's value by
    /// `each_day` (no value: the day is left out). Nothing without the data type's scope.
    pub(super) async fn list_days<T: Listed, V>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType<T>,
        (field, by): (&str, By),
        (range, page_size): (DayRange, u32),
        (tz, listing): (Tz, Listing),
        each_day: impl Fn(NaiveDate, Vec<T>) -> Option<V>,
    ) -> Result<BTreeMap<NaiveDate, V>> {
        if !is_granted(creds, data.scope) {
            return Ok(BTreeMap::new());
        }
        let filter = range_filter(&format!("{}.{field}", data.filter), range);
        let values = self
            .list_all(creds, data, &filter, page_size, (by, tz), listing)
            .await?;
        Ok(by_day(values, range)
            .into_iter()
            .filter_map(|(day, points)| each_day(day, points).map(|value| (day, value)))
            .collect())
    }
}

/// How many days one `dailyRollUp` may span for a data type: 14 for the heart-rate and
/// calorie types and active minutes, 90 for the others (discovery document).
fn rollup_cap(path: &str) -> u32 {
    match path {
        "total-calories" | "active-minutes" | "heart-rate" | "calories-in-heart-rate-zone" => 14,
        _ => 90,
    }
}

/// `{range: {start: first, end: last+1}, windowSizeDays: 1}` with plain integers (a
/// leading zero is refused as an octal number).
fn rollup_body(range: DayRange) -> Value {
    json!({
        "range": {"start": civil_date(range.first()), "end": civil_date(range.last() + Days::new(1))},
        "windowSizeDays": 1,
    })
}

fn civil_date(date: NaiveDate) -> Value {
    json!({"date": {"year": date.year(), "month": date.month(), "day": date.day()}})
}

fn range_filter(field: &str, range: DayRange) -> String {
    let (first, next) = (range.first(), range.last() + Days::new(1));
    format!("{field} >= \"{first}\" AND {field} < \"{next}\"")
}

/// The `fields` of a list page that hold what is read of each point: `reads` of the
/// value under `key` and what places it in its day (`by`), and the next page's token.
fn partial_response(key: &str, reads: &str, by: By) -> String {
    let mut paths: Vec<&str> = reads.split(',').chain([by.reads()]).collect();
    paths.sort_unstable();
    paths.dedup();
    format!("dataPoints({key}({})),nextPageToken", paths.join(","))
}

/// The values of a `dailyRollUp` answer under the data type's key, each with the day
/// its window starts on; a window without the key has no data and is left out.
pub(super) fn rollup_values<T: DeserializeOwned>(
    reply: &Reply,
    data: &DataType<T>,
) -> Result<Dated<T>> {
    let page: RollupPage = parse(reply, data.label)?;
    page.rollup_data_points
        .iter()
        .filter_map(|point| {
            let day = point
                .get("civilStartTime")
                .and_then(|raw| serde_json::from_str::<CivilDateTime>(raw.get()).ok())
                .and_then(|civil| civil.date());
            point
                .get(data.key)
                .map(|raw| Ok((day, value_of(raw, data.label)?)))
        })
        .collect()
}

/// The values of one page of a list answer, each with the day `by` names, and the
/// token of the next page.
pub(super) fn page_values<T: Listed>(
    reply: &Reply,
    data: &DataType<T>,
    by: By,
    tz: Tz,
) -> Result<(Dated<T>, Option<String>)> {
    let page: ListPage = parse(reply, data.label)?;
    let values = page
        .data_points
        .iter()
        .filter_map(|point| point.get(data.key))
        .map(|raw| {
            let value: T = value_of(raw, data.label)?;
            Ok((day_of(value.when(), by, tz), value))
        })
        .collect::<Result<_>>()?;
    Ok((values, page.next_page_token.filter(|t| !t.is_empty())))
}

pub(super) fn parse<'a, T: Deserialize<'a>>(reply: &'a Reply, what: &str) -> Result<T> {
    http::parse_json(reply, API, what)
}

fn value_of<T: DeserializeOwned>(raw: &RawValue, what: &str) -> Result<T> {
    serde_json::from_str(raw.get()).map_err(|err| {
        Error::other(format!(
            "{API} sent an unexpected {what} value ({err}); report it with the output of -vv"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rollup_body_has_plain_integers_and_an_exclusive_end() {
        let body = rollup_body(DayRange::ending("2026-12-31".parse().unwrap(), 1));
        assert_eq!(
            body.to_string(),
            r#"{"range":{"end":{"date":{"day":1,"month":1,"year":2027}},"start":{"date":{"day":31,"month":12,"year":2026}}},"windowSizeDays":1}"#
        );
    }

    #[test]
    fn a_minute_level_list_asks_only_for_what_is_read() {
        assert_eq!(
            partial_response("basalEnergyBurned", "kcal", By::Start),
            "dataPoints(basalEnergyBurned(interval/civilStartTime/date,kcal)),nextPageToken"
        );
        assert_eq!(
            partial_response(
                "activityLevel",
                "activityLevelType,interval/startTime,interval/endTime",
                By::Start
            ),
            "dataPoints(activityLevel(activityLevelType,interval/civilStartTime/date,interval/endTime,interval/startTime)),nextPageToken"
        );
    }

    #[test]
    fn filters_cover_the_one_civil_day() {
        assert_eq!(
            range_filter(
                "sleep.interval.civil_end_time",
                DayRange::ending("2026-02-28".parse().unwrap(), 1)
            ),
            r#"sleep.interval.civil_end_time >= "2026-02-28" AND sleep.interval.civil_end_time < "2026-03-01""#
        );
    }
}
