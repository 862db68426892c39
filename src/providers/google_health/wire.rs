//! The bodies of Google Health API answers and what they mean in the summary's terms:
//! proto3 JSON scalars (`Count`, `Real`, `Seconds`), the rollup and list pages, each
//! data type's rollup or point, sleep sessions, paired devices and settings, and the
//! choices made among them (the main sleep, the worn device, the day's basal energy).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::num::IntErrorKind;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use serde::de::{DeserializeOwned, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::dated::{CivilDate, Interval, When};
use crate::day::{Device, Sleep, Stages};

/// An int64, which proto3 JSON sends as a string (some servers send a number). Any
/// integer is taken, a negative one too; beyond the int64 range it saturates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Count(pub(super) i64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(de)? {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            Value::String(s) => saturating_int(s.trim()),
            _ => None,
        }
        .map(Count)
        .ok_or_else(|| D::Error::custom("expected an integer or an integer string"))
    }
}

fn saturating_int(text: &str) -> Option<i64> {
    match text.parse::<i64>() {
        Ok(n) => Some(n),
        Err(err) => match err.kind() {
            IntErrorKind::PosOverflow => Some(i64::MAX),
            IntErrorKind::NegOverflow => Some(i64::MIN),
            _ => None,
        },
    }
}

/// A double, normally a JSON number (proto3 JSON also allows a string).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Real(pub(super) f64);

impl<'de> Deserialize<'de> for Real {
    fn deserialize<D: Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(de)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|f: &f64| f.is_finite())
        .map(Real)
        .ok_or_else(|| D::Error::custom("expected a number"))
    }
}

/// A protobuf Duration: `"43200s"`, `"3.5s"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Seconds(pub(super) f64);

impl Seconds {
    pub(super) fn minutes(self) -> i64 {
        // `as` saturates, so an absurd duration stays absurd rather than wrapping
        (self.0 / 60.0).round() as i64
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(de)?;
        text.strip_suffix('s')
            .and_then(|n| n.parse::<f64>().ok())
            .filter(|s| s.is_finite())
            .map(Seconds)
            .ok_or_else(|| {
                D::Error::custom(format!("expected a duration like \"60s\", got {text:?}"))
            })
    }
}

/// A data point with its fields left as text, so that only the one field the data type
/// is read by gets parsed: a day of minute-level points parsed into `Value` trees takes
/// over ten megabytes. A point has a few fields, found by looking through them: a map
/// would cost each of a day's 1,440 points an allocation and a hash of every name.
pub(super) struct Point<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> Point<'a> {
    pub(super) fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, raw)| *raw)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Point<'a> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        struct Fields<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Fields<'a> {
            type Value = Point<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a data point")
            }
            fn visit_map<M: MapAccess<'de>>(
                self,
                mut map: M,
            ) -> std::result::Result<Self::Value, M::Error> {
                let mut fields = Vec::new();
                while let Some(Name(name)) = map.next_key()? {
                    fields.push((name, map.next_value()?));
                }
                Ok(Point(fields))
            }
        }
        de.deserialize_map(Fields(PhantomData))
    }
}

/// A field name, borrowed from the answer unless it had to be unescaped.
#[derive(Deserialize)]
#[serde(transparent)]
struct Name<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RollupPage<'a> {
    #[serde(default, borrow)]
    pub(super) rollup_data_points: Vec<Point<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListPage<'a> {
    #[serde(default, borrow)]
    pub(super) data_points: Vec<Point<'a>>,
    pub(super) next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StepsRollup {
    pub(super) count_sum: Option<Count>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DistanceRollup {
    pub(super) millimeters_sum: Option<Count>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct KcalRollup {
    pub(super) kcal_sum: Option<Real>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ActivityLevelRollup {
    #[serde(default)]
    activity_level_rollups_by_activity_level_type: Vec<LevelDuration>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LevelDuration {
    activity_level_type: String,
    total_duration: Option<Seconds>,
}

impl ActivityLevelRollup {
    pub(super) fn minutes(&self, kind: &str) -> Option<i64> {
        self.activity_level_rollups_by_activity_level_type
            .iter()
            .find(|l| l.activity_level_type == kind)
            .and_then(|l| l.total_duration)
            .map(Seconds::minutes)
    }
}

/// One interval of an activity level, as `list` and `:reconcile` send it:
/// `activityLevel {interval, activityLevelType}` (discovery document `health/v4`,
/// `ActivityLevel`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ActivityLevelPoint {
    #[serde(default)]
    interval: Interval,
    activity_level_type: Option<String>,
}

impl Listed for ActivityLevelPoint {
    const READS: Option<&'static str> =
        Some("activityLevelType,interval/startTime,interval/endTime");

    fn when(&self) -> When<'_> {
        When::Interval(&self.interval)
    }
}

/// The day's time per activity level summed from its intervals, in the rollup's shape,
/// for when Google refuses the rollup; `None` when no interval has a level and a length.
pub(super) fn level_durations(points: Vec<ActivityLevelPoint>) -> Option<ActivityLevelRollup> {
    let mut sums: Vec<LevelDuration> = Vec::new();
    for point in points {
        let (Some(kind), Some(start), Some(end)) = (
            point.activity_level_type,
            point.interval.start_time,
            point.interval.end_time,
        ) else {
            continue;
        };
        // a reversed interval is not time spent; the summary judges what is left
        let seconds = (end - start).as_seconds_f64().max(0.0);
        match sums.iter_mut().find(|l| l.activity_level_type == kind) {
            Some(level) => {
                let sum = level.total_duration.map_or(0.0, |s| s.0);
                level.total_duration = Some(Seconds(sum + seconds));
            }
            None => sums.push(LevelDuration {
                activity_level_type: kind,
                total_duration: Some(Seconds(seconds)),
            }),
        }
    }
    (!sums.is_empty()).then_some(ActivityLevelRollup {
        activity_level_rollups_by_activity_level_type: sums,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SedentaryRollup {
    pub(super) duration_sum: Option<Seconds>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ActiveMinutesRollup {
    #[serde(default)]
    active_minutes_rollup_by_activity_level: Vec<LevelMinutes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LevelMinutes {
    activity_level: String,
    active_minutes_sum: Option<Count>,
}

impl ActiveMinutesRollup {
    pub(super) fn minutes(&self, kind: &str) -> Option<i64> {
        self.active_minutes_rollup_by_activity_level
            .iter()
            .find(|l| l.activity_level == kind)
            .and_then(|l| l.active_minutes_sum)
            .map(|m| m.0)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HydrationRollup {
    pub(super) amount_consumed: Option<Amount>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Amount {
    pub(super) milliliters_sum: Option<Real>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WeightRollup {
    pub(super) weight_grams_avg: Option<Real>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BodyFatRollup {
    pub(super) body_fat_percentage_avg: Option<Real>,
}

/// A value of a list point, and the fields of it that are read, asked for as a partial
/// response (`fields`, a standard parameter of every Google API): a day of minute-level
/// points is 1,440 of them, and most of each is its data source and times that nothing
/// reads. `None` asks for the whole value: a few points a day.
pub(super) trait Listed: DeserializeOwned {
    /// Paths below the value, `a/b` for a field of a field, separated by commas.
    const READS: Option<&'static str>;

    /// What places it in its day, read with the rest of it in one go.
    fn when(&self) -> When<'_>;
}

#[derive(Deserialize)]
pub(super) struct KcalPoint {
    #[serde(default)]
    interval: Interval,
    kcal: Option<Real>,
}

impl Listed for KcalPoint {
    const READS: Option<&'static str> = Some("kcal");

    fn when(&self) -> When<'_> {
        When::Interval(&self.interval)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RestingHeartRatePoint {
    date: Option<CivilDate>,
    beats_per_minute: Option<Count>,
}

impl Listed for RestingHeartRatePoint {
    const READS: Option<&'static str> = None;

    fn when(&self) -> When<'_> {
        When::Date(self.date.as_ref())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SleepPoint {
    #[serde(default)]
    interval: Interval,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    metadata: SleepMetadata,
    #[serde(default)]
    summary: SleepSummary,
}

/// Its stages and summary are most of it, and read.
impl Listed for SleepPoint {
    const READS: Option<&'static str> = None;

    fn when(&self) -> When<'_> {
        When::Interval(&self.interval)
    }
}

/// The released v4 sends `nap`, `stagesStatus`, `processed`, `manuallyEdited` and
/// `externalId` (discovery document `health/v4`, `SleepMetadata`); `mainSleep` exists
/// only in v4beta and is honoured should a later revision send it.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SleepMetadata {
    main_sleep: Option<bool>,
    nap: Option<bool>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SleepSummary {
    minutes_asleep: Option<Count>,
    minutes_in_sleep_period: Option<Count>,
    #[serde(default)]
    stages_summary: Vec<StageMinutes>,
}

#[derive(Deserialize)]
struct StageMinutes {
    #[serde(rename = "type")]
    kind: String,
    minutes: Option<Count>,
}

impl SleepPoint {
    /// How long the session lasted, for choosing the longest.
    fn length(&self) -> TimeDelta {
        match (self.interval.start_time, self.interval.end_time) {
            (Some(start), Some(end)) => end - start,
            _ => self
                .summary
                .minutes_in_sleep_period
                .map_or(TimeDelta::zero(), |m| {
                    TimeDelta::try_minutes(m.0).unwrap_or(if m.0 < 0 {
                        TimeDelta::MIN
                    } else {
                        TimeDelta::MAX
                    })
                }),
        }
    }

    fn stage(&self, kind: &str) -> Option<i64> {
        self.summary
            .stages_summary
            .iter()
            .find(|s| s.kind == kind)
            .and_then(|s| s.minutes)
            .map(|m| m.0)
    }

    pub(super) fn into_summary(self, tz: Tz) -> Sleep {
        // a classic (stageless) log has ASLEEP/RESTLESS/AWAKE, which are not stages
        let stages = if self.kind.as_deref() == Some("CLASSIC") {
            Stages::default()
        } else {
            Stages {
                deep: self.stage("DEEP"),
                light: self.stage("LIGHT"),
                rem: self.stage("REM"),
                wake: self.stage("AWAKE"),
            }
        };
        Sleep {
            minutes_asleep: self.summary.minutes_asleep.map(|m| m.0),
            minutes_in_bed: self.summary.minutes_in_sleep_period.map(|m| m.0),
            start: self.interval.start_time.map(|t| local(t, tz)),
            end: self.interval.end_time.map(|t| local(t, tz)),
            stages,
        }
    }
}

/// The night's sleep among the sessions that ended on the day, the way v4beta defines
/// `mainSleep` ("the longest sleep session with stages within one day; if no sleep
/// session has stages, then the longest"): a session Google marks as the main sleep if
/// any is marked, else not a nap (`metadata.nap`), then one with stages, then the
/// longest.
pub(super) fn main_sleep(sessions: Vec<SleepPoint>) -> MainSleep {
    let marked = sessions.iter().any(|s| s.metadata.main_sleep == Some(true));
    let (naps, nights): (Vec<_>, Vec<_>) = sessions
        .into_iter()
        .filter(|s| !marked || s.metadata.main_sleep == Some(true))
        .partition(|s| !marked && s.metadata.nap == Some(true));
    let staged = |s: &SleepPoint| s.kind.as_deref() == Some("STAGES");
    if let Some(night) = nights.into_iter().max_by_key(|s| (staged(s), s.length())) {
        return MainSleep::Night(night);
    }
    naps.iter()
        .map(SleepPoint::length)
        .max()
        .map_or(MainSleep::None, |longest| MainSleep::OnlyNaps {
            count: naps.len(),
            longest_minutes: longest.num_minutes(),
        })
}

/// What the day's sessions hold for the summary. A nap is never reported as the night:
/// a day with only naps has no sleep in the summary, and the caller says why.
pub(super) enum MainSleep {
    Night(SleepPoint),
    OnlyNaps { count: usize, longest_minutes: i64 },
    None,
}

impl MainSleep {
    /// The night's session; for a day with only naps, a warning that says so.
    pub(super) fn into_night(self, date: NaiveDate) -> Option<SleepPoint> {
        match self {
            MainSleep::Night(night) => Some(night),
            MainSleep::OnlyNaps {
                count,
                longest_minutes,
            } => {
                log::warn!(
                    "the only sleep that ended on {date} is {count} nap(s), the longest {longest_minutes} min; \
                     the summary leaves sleep out rather than report a nap as the night"
                );
                None
            }
            MainSleep::None => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DevicesPage {
    #[serde(default)]
    paired_devices: Vec<PairedDevice>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PairedDevice {
    device_version: Option<String>,
    device_type: Option<String>,
    battery_level: Option<Count>,
    last_sync_time: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SettingsBody {
    pub(super) time_zone: Option<String>,
}

/// An instant as a local date-time in the account's zone, to the second.
fn local(instant: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    let local = instant.with_timezone(&tz).naive_local();
    local.with_nanosecond(0).unwrap_or(local)
}

/// The sum of the minutes' energy, `None` when no minute has a value.
pub(super) fn total_kcal(points: Vec<KcalPoint>) -> Option<f64> {
    let kcals: Vec<f64> = points
        .into_iter()
        .filter_map(|p| p.kcal.map(|k| k.0))
        .collect();
    (!kcals.is_empty()).then(|| kcals.iter().sum())
}

pub(super) fn first_bpm(points: Vec<RestingHeartRatePoint>) -> Option<i64> {
    points
        .into_iter()
        .find_map(|p| p.beats_per_minute)
        .map(|bpm| bpm.0)
}

/// Of the paired devices, the one synced last: a scale and a tracker may both be
/// paired, and the tracker is the one that syncs every day.
pub(super) fn worn_device(page: DevicesPage, tz: Tz) -> Option<Device> {
    page.paired_devices
        .into_iter()
        .max_by_key(|d| d.last_sync_time)
        .map(|d| Device {
            name: d.device_version.or(d.device_type),
            battery_percent: d.battery_level.map(|b| b.0),
            last_sync: d.last_sync_time.map(|t| local(t, tz)),
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_points_fields_are_found_by_name_written_plainly_or_escaped() {
        let page: ListPage = serde_json::from_str(
            r#"{"dataPoints": [{"name": "a", "kcal\u0042": 1}, {"kcalB": 2}, {}]}"#,
        )
        .unwrap();
        let values: Vec<_> = page
            .data_points
            .iter()
            .map(|point| point.get("kcalB").map(RawValue::get))
            .collect();
        assert_eq!(values, [Some("1"), Some("2"), None]);
    }

    #[test]
    fn ints_come_as_strings_or_numbers_and_durations_as_seconds() {
        let steps: StepsRollup = serde_json::from_str(r#"{"countSum":"9876"}"#).unwrap();
        assert_eq!(steps.count_sum, Some(Count(9876)));
        let steps: StepsRollup = serde_json::from_str(r#"{"countSum":9876}"#).unwrap();
        assert_eq!(steps.count_sum, Some(Count(9876)));
        let negative: StepsRollup = serde_json::from_str(r#"{"countSum":"-1"}"#).unwrap();
        assert_eq!(negative.count_sum, Some(Count(-1)), "the summary judges it");
        let huge: StepsRollup =
            serde_json::from_str(r#"{"countSum":"99999999999999999999"}"#).unwrap();
        assert_eq!(huge.count_sum, Some(Count(i64::MAX)));
        let float: StepsRollup = serde_json::from_str(r#"{"countSum":1e12}"#).unwrap();
        assert_eq!(float.count_sum, Some(Count(1_000_000_000_000)));
        assert!(serde_json::from_str::<StepsRollup>(r#"{"countSum":"12.5"}"#).is_err());
        assert!(serde_json::from_str::<StepsRollup>(r#"{"countSum":"many"}"#).is_err());
        let sedentary: SedentaryRollup =
            serde_json::from_str(r#"{"durationSum":"43200s"}"#).unwrap();
        assert_eq!(sedentary.duration_sum.unwrap().minutes(), 720);
        let half: SedentaryRollup = serde_json::from_str(r#"{"durationSum":"89.5s"}"#).unwrap();
        assert_eq!(half.duration_sum.unwrap().minutes(), 1);
        assert!(serde_json::from_str::<SedentaryRollup>(r#"{"durationSum":"12m"}"#).is_err());
        let kcal: KcalRollup = serde_json::from_str(r#"{"kcalSum":"2142.5"}"#).unwrap();
        assert_eq!(kcal.kcal_sum, Some(Real(2142.5)));
    }

    /// A session with the released v4 keys (discovery `health/v4`, `Sleep` and
    /// `SleepMetadata`); `mainSleep` only where a test sets it, as v4beta would.
    fn session(start: &str, end: &str, kind: &str, nap: bool, main: Option<bool>) -> SleepPoint {
        let mut metadata = json!({"nap": nap, "processed": true, "stagesStatus": "SUCCEEDED"});
        if let Some(main) = main {
            metadata["mainSleep"] = json!(main);
        }
        serde_json::from_value(json!({
            "interval": {"startTime": start, "endTime": end},
            "type": kind,
            "metadata": metadata,
        }))
        .unwrap()
    }

    fn chosen_length(sessions: Vec<SleepPoint>) -> Option<TimeDelta> {
        match main_sleep(sessions) {
            MainSleep::Night(night) => Some(night.length()),
            _ => None,
        }
    }

    #[test]
    fn the_night_is_not_a_nap_then_staged_then_the_longest() {
        // a short night (a shift worker's 2 h) and a longer afternoon nap: the night
        let short_night = || {
            session(
                "2026-11-25T03:00:00Z",
                "2026-11-25T05:00:00Z",
                "STAGES",
                false,
                None,
            )
        };
        let long_nap = || {
            session(
                "2026-11-25T12:00:00Z",
                "2026-11-25T14:50:00Z",
                "CLASSIC",
                true,
                None,
            )
        };
        assert_eq!(
            chosen_length(vec![long_nap(), short_night()]),
            Some(TimeDelta::hours(2))
        );
        // a staged session is the night over a longer classic (stageless) one
        let classic = session(
            "2026-11-24T20:00:00Z",
            "2026-11-25T02:00:00Z",
            "CLASSIC",
            false,
            None,
        );
        let staged = session(
            "2026-11-24T22:00:00Z",
            "2026-11-25T03:00:00Z",
            "STAGES",
            false,
            None,
        );
        assert_eq!(
            chosen_length(vec![classic, staged]),
            Some(TimeDelta::hours(5))
        );
        // of two staged ones, the longer
        let late = session(
            "2026-11-25T01:00:00Z",
            "2026-11-25T04:00:00Z",
            "STAGES",
            false,
            None,
        );
        assert_eq!(
            chosen_length(vec![late, short_night()]),
            Some(TimeDelta::hours(3))
        );
        // a mark, should a later revision send one, wins
        let marked_nap = session(
            "2026-11-25T13:00:00Z",
            "2026-11-25T14:30:00Z",
            "CLASSIC",
            true,
            Some(true),
        );
        assert_eq!(
            chosen_length(vec![marked_nap, short_night()]),
            Some(TimeDelta::minutes(90))
        );
        assert!(matches!(main_sleep(vec![]), MainSleep::None));
    }

    /// `sleep_only_nap.json` is built from the discovery document's `Sleep` schema
    /// (`nap`, `stagesStatus: REJECTED_NAP`, `type: CLASSIC`): no recorded v4 sleep
    /// body is public.
    #[test]
    fn a_nap_alone_is_never_taken_for_the_night() {
        let text = fixture_text("sleep_only_nap.json");
        let page: ListPage = serde_json::from_str(&text).unwrap();
        let sessions: Vec<SleepPoint> = page
            .data_points
            .iter()
            .map(|p| serde_json::from_str(p.get("sleep").unwrap().get()).unwrap())
            .collect();
        assert!(matches!(
            main_sleep(sessions),
            MainSleep::OnlyNaps {
                count: 1,
                longest_minutes: 75
            }
        ));
        let text = fixture_text("sleep_main.json");
        let page: ListPage = serde_json::from_str(&text).unwrap();
        let night: SleepPoint =
            serde_json::from_str(page.data_points[0].get("sleep").unwrap().get()).unwrap();
        assert!(matches!(main_sleep(vec![night]), MainSleep::Night(_)));
    }

    fn fixture_text(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/google/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn a_day_with_only_naps_has_no_night() {
        let naps = vec![
            session(
                "2026-11-25T12:00:00Z",
                "2026-11-25T12:40:00Z",
                "CLASSIC",
                true,
                None,
            ),
            session(
                "2026-11-25T16:00:00Z",
                "2026-11-25T17:30:00Z",
                "CLASSIC",
                true,
                None,
            ),
        ];
        match main_sleep(naps) {
            MainSleep::OnlyNaps {
                count,
                longest_minutes,
            } => assert_eq!((count, longest_minutes), (2, 90)),
            _ => panic!("a nap was taken for the night"),
        }
    }

    #[test]
    fn local_times_are_in_the_account_zone_to_the_second() {
        let t: DateTime<Utc> = "2026-11-25T06:12:00.750Z".parse().unwrap();
        assert_eq!(
            local(t, chrono_tz::Europe::Berlin).to_string(),
            "2026-11-25 07:12:00"
        );
        assert_eq!(
            local(t, chrono_tz::Asia::Tokyo).to_string(),
            "2026-11-25 15:12:00"
        );
    }
}
