//! Requests to the Google Health API: the data types the day is read from (each a
//! named constant saying where it lives, what its answer parses into and which scope
//! it needs), the `dailyRollUp` body, list filters and paging, and the authorized send
//! with one refresh after a 401. What a day fetches with them is in `fetch`.

use std::marker::PhantomData;

use chrono::{Datelike, Days, NaiveDate};
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use url::Url;

use super::auth::{ACTIVITY, AUTH_COMMAND, HEALTH_METRICS, NUTRITION, SLEEP};
use super::errors::{api_error, error_message, is_invalid_argument};
use super::wire::{
    ActiveMinutesRollup, ActivityLevelPoint, ActivityLevelRollup, BodyFatRollup, DistanceRollup,
    HydrationRollup, KcalPoint, KcalRollup, ListPage, RestingHeartRatePoint, RollupPage,
    SedentaryRollup, SleepPoint, StepsRollup, WeightRollup,
};
use super::{API, GoogleHealth};
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

/// A daily rollup's answer: its value (`None` when there is no data), or the reason
/// Google gave for refusing a rollup the data-type table does not document.
pub(super) enum Rollup<T> {
    Offered(Option<T>),
    NotOffered(String),
}

/// A list that has not ended after this many pages is not a day's worth of data.
const MAX_PAGES: usize = 50;
/// The list page size for minute-level data. The API's default, 1440, is exactly one
/// day of minutes: a day that ends daylight saving time has 1500, and a full page may
/// come with a token for an empty one, each a request that must wait for the one before.
/// 2000 holds any day of one tracker, at about 1 MB, a quarter of `MAX_BODY_BYTES`.
pub(super) const MINUTE_PAGE_SIZE: u32 = 2000;
/// The largest page the API allows for sleep.
pub(super) const SLEEP_PAGE_SIZE: u32 = 25;

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

    /// `dataPoints:dailyRollUp` over the one civil day, and the value under the data
    /// type's key, which is absent when there is no data. A rollup Google does not offer
    /// is left out.
    pub(super) async fn rollup<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType<T>,
        date: NaiveDate,
    ) -> Result<Option<T>> {
        Ok(match self.try_rollup(creds, data, date).await? {
            Rollup::Offered(value) => value,
            Rollup::NotOffered(why) => {
                log::info!(
                    "Google offers no daily rollup of {} ({why}); leaving it out",
                    data.label
                );
                None
            }
        })
    }

    /// The rollup, or Google's refusal of one that only the discovery document lists.
    pub(super) async fn try_rollup<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType<T>,
        date: NaiveDate,
    ) -> Result<Rollup<T>> {
        if !is_granted(creds, data.scope) {
            return Ok(Rollup::Offered(None));
        }
        let url = self.url(&format!(
            "users/me/dataTypes/{}/dataPoints:dailyRollUp",
            data.path
        ));
        let body = rollup_body(date);
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
        rollup_value(&reply, data).map(Rollup::Offered)
    }

    /// Every point of a list call, following `nextPageToken` to the end.
    async fn list_all<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType<T>,
        filter: &str,
        page_size: u32,
        listing: Listing,
    ) -> Result<Vec<T>> {
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
            }
            let reply = self
                .send(&creds.access_token, || self.http.get(url.clone()))
                .await?;
            if !reply.status.is_success() {
                return Err(api_error(&reply, data.label, data.scope));
            }
            let (page, next_page_token) = page_values(&reply, data)?;
            values.extend(page);
            match next_page_token {
                Some(next) => page_token = Some(next),
                None => return Ok(values),
            }
        }
        Err(Error::other(format!(
            "{API} sent more than {MAX_PAGES} pages of {}; this is not one day of data, report it with the output of -vv",
            data.label
        )))
    }

    /// A list call's points for one civil day, selected by `field` of the data type.
    pub(super) async fn list_day<T: DeserializeOwned>(
        &self,
        creds: &OAuthCredentials,
        data: &DataType<T>,
        field: &str,
        date: NaiveDate,
        page_size: u32,
        listing: Listing,
    ) -> Result<Option<Vec<T>>> {
        if !is_granted(creds, data.scope) {
            return Ok(None);
        }
        let filter = day_filter(&format!("{}.{field}", data.filter), date);
        self.list_all(creds, data, &filter, page_size, listing)
            .await
            .map(Some)
    }
}

/// `{range: {start: D, end: D+1}, windowSizeDays: 1}` with plain integers (a leading
/// zero is refused as an octal number).
fn rollup_body(date: NaiveDate) -> Value {
    json!({
        "range": {"start": civil_date(date), "end": civil_date(date + Days::new(1))},
        "windowSizeDays": 1,
    })
}

fn civil_date(date: NaiveDate) -> Value {
    json!({"date": {"year": date.year(), "month": date.month(), "day": date.day()}})
}

fn day_filter(field: &str, date: NaiveDate) -> String {
    let next = date + Days::new(1);
    format!("{field} >= \"{date}\" AND {field} < \"{next}\"")
}

/// The value of a `dailyRollUp` answer: under the data type's key of its one point,
/// `None` when the point or the key is absent.
pub(super) fn rollup_value<T: DeserializeOwned>(
    reply: &Reply,
    data: &DataType<T>,
) -> Result<Option<T>> {
    let page: RollupPage = parse(reply, data.label)?;
    page.rollup_data_points
        .first()
        .and_then(|point| point.get(data.key))
        .map(|raw| value_of(raw, data.label))
        .transpose()
}

/// The values of one page of a list answer, and the token of the next page.
pub(super) fn page_values<T: DeserializeOwned>(
    reply: &Reply,
    data: &DataType<T>,
) -> Result<(Vec<T>, Option<String>)> {
    let page: ListPage = parse(reply, data.label)?;
    let values = page
        .data_points
        .iter()
        .filter_map(|point| point.get(data.key))
        .map(|raw| value_of(raw, data.label))
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
        let body = rollup_body("2026-12-31".parse().unwrap());
        assert_eq!(
            body.to_string(),
            r#"{"range":{"end":{"date":{"day":1,"month":1,"year":2027}},"start":{"date":{"day":31,"month":12,"year":2026}}},"windowSizeDays":1}"#
        );
    }

    #[test]
    fn filters_cover_the_one_civil_day() {
        assert_eq!(
            day_filter(
                "sleep.interval.civil_end_time",
                "2026-02-28".parse().unwrap()
            ),
            r#"sleep.interval.civil_end_time >= "2026-02-28" AND sleep.interval.civil_end_time < "2026-03-01""#
        );
    }
}
