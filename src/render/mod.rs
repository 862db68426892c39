//! The daily messages, rendered from a [`DaySummary`] with minijinja templates.
//!
//! Every placeholder is finished text in the locale's numbers and units ("551分",
//! "1.213 km"), or the locale's "not recorded" wording when the provider had no value:
//! a template cannot print `0`, `None` or nothing for a missing value. That wording is
//! false in `{% if %}`, so a user's template can leave a line out instead of showing it.
//!
//! Templates are checked when they are loaded (syntax, unknown placeholders, and a trial
//! render of a full and of a sparse day), so a broken template is a configuration error
//! that `config` reports, never a surprise at posting time.

// the week's chart is attached by the weekly post (issue 17), which is being wired
#[allow(dead_code)]
pub mod chart;
mod monitor;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDateTime;
use minijinja::value::{Object, ObjectRepr, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::config::{Config, Locale};
use crate::day::demo;
use crate::day::{Activity, DaySummary, MessageKind, Sleep, Stages};
use crate::error::{Error, Result};

/// The message's template as the config names it and errors show it.
fn template_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Activity => "templates.activity",
        MessageKind::Sleep => "templates.sleep",
        MessageKind::Week => "templates.week",
        MessageKind::Alert => "templates.alert",
        MessageKind::Resolved => "templates.resolved",
    }
}

/// The user's template for `kind`, when the config has one.
pub fn user_template(kind: MessageKind, config: &Config) -> Option<&str> {
    match kind {
        MessageKind::Activity => config.templates.activity.as_deref(),
        MessageKind::Sleep => config.templates.sleep.as_deref(),
        MessageKind::Week => config.templates.week.as_deref(),
        MessageKind::Alert => config.templates.alert.as_deref(),
        MessageKind::Resolved => config.templates.resolved.as_deref(),
    }
}

/// A message ready to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: MessageKind,
    pub text: String,
}

/// A message that is not posted for this day, and why (one line, for the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub kind: MessageKind,
    pub note: String,
}

/// What a day renders to: the messages to post, in order, and the ones left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub messages: Vec<Message>,
    pub skipped: Vec<Skipped>,
}

/// The instructions one render may execute (minijinja's fuel): far more than any message
/// needs, and used up in milliseconds by a loop that would otherwise run for hours.
const TEMPLATE_FUEL: u64 = 100_000;

/// The two templates of the configured locale (or the user's), compiled and checked.
pub struct Renderer {
    env: Environment<'static>,
    words: &'static Words,
}

impl Renderer {
    /// Compiles and checks the templates `config` selects. Every failure is a
    /// configuration error naming the template (`templates.activity`) and what is wrong.
    pub fn from_config(config: &Config) -> Result<Renderer> {
        let words = Words::for_locale(config.locale);
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        // `{% if %}` lines in a user's template then leave no blank line behind
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        // a message template does a few hundred steps; a runaway loop in a user's template
        // would otherwise hang `config` and the run before any deadline can act
        env.set_fuel(Some(TEMPLATE_FUEL));
        for kind in MessageKind::ALL {
            let source = user_template(kind, config).unwrap_or_else(|| words.builtin(kind));
            env.add_template_owned(template_name(kind), source.to_owned())
                .map_err(|err| template_error(kind, &err))?;
        }
        for kind in MessageKind::MONITORING {
            let source = user_template(kind, config).unwrap_or_else(|| words.builtin(kind));
            env.add_template_owned(template_name(kind), source.to_owned())
                .map_err(|err| template_error(kind, &err))?;
        }
        let renderer = Renderer { env, words };
        renderer.check_placeholders()?;
        renderer.trial_render()?;
        renderer.check_monitoring()?;
        Ok(renderer)
    }

    /// Renders `day`'s messages. A message whose main data is missing (or whose
    /// template renders nothing for this day) is skipped with a note, not posted empty.
    pub fn render(&self, day: &DaySummary) -> Result<Rendered> {
        let context = Value::from_iter(placeholders(day, self.words));
        let mut rendered = Rendered::default();
        for kind in MessageKind::ALL {
            let outcome = match kind.missing_main_data(day) {
                Some(reason) => Err(reason),
                None => {
                    let text = self.render_one(kind, &context)?;
                    if text.is_empty() {
                        Err("its template rendered nothing for this day")
                    } else {
                        Ok(text)
                    }
                }
            };
            match outcome {
                Ok(text) => rendered.messages.push(Message { kind, text }),
                Err(reason) => rendered.skipped.push(Skipped {
                    kind,
                    note: format!("{} message for {} skipped: {reason}", kind.name(), day.date),
                }),
            }
        }
        Ok(rendered)
    }

    fn render_one(&self, kind: MessageKind, context: &Value) -> Result<String> {
        self.env
            .get_template(template_name(kind))
            .and_then(|template| template.render(context))
            .map(|text| text.trim().to_owned())
            .map_err(|err| template_error(kind, &err))
    }

    fn check_placeholders(&self) -> Result<()> {
        let known: BTreeSet<&str> = placeholders(&demo::sample_day(), self.words)
            .into_iter()
            .map(|(name, _)| name)
            .chain(self.env.globals().map(|(name, _)| name))
            .collect();
        for kind in MessageKind::ALL {
            let template = self
                .env
                .get_template(template_name(kind))
                .map_err(|err| template_error(kind, &err))?;
            let unknown: BTreeSet<String> = template
                .undeclared_variables(false)
                .into_iter()
                .filter(|variable| !known.contains(variable.as_str()))
                .collect();
            if !unknown.is_empty() {
                let list = unknown
                    .iter()
                    .map(|variable| format!("`{variable}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let noun = if unknown.len() == 1 {
                    "placeholder"
                } else {
                    "placeholders"
                };
                return Err(Error::config(format!(
                    "{}: unknown {noun} {list}; use the placeholders listed under \
                     \"Messages and templates\" in the README",
                    template_name(kind)
                )));
            }
        }
        Ok(())
    }

    /// Renders the sample day and a day with nothing but the main values, so an error
    /// that shows only with some data (a filter applied to text, arithmetic on the
    /// "not recorded" wording) is reported when the config is checked.
    fn trial_render(&self) -> Result<()> {
        let full = demo::sample_day();
        if let Some(skipped) = self.render(&full)?.skipped.first() {
            return Err(Error::config(format!(
                "{}: renders an empty message even for a day with every value recorded; \
                 give it some text",
                template_name(skipped.kind)
            )));
        }
        self.render(&sparse_day(&full)).map(drop).map_err(|err| {
            Error::config(format!(
                "{err} (it fails for a day where only steps and sleep time are recorded: \
                 test a value with `{{% if %}}` before computing with it)"
            ))
        })
    }
}

/// Checks the templates `config` selects, as [`Renderer::from_config`] does.
pub fn validate(config: &Config) -> Result<()> {
    Renderer::from_config(config).map(drop)
}

fn template_error(kind: MessageKind, err: &minijinja::Error) -> Error {
    let line = err.line().map(|n| format!(" line {n}")).unwrap_or_default();
    let detail = err
        .detail()
        .map(|detail| format!(": {}", detail.replace('\n', " ")))
        .unwrap_or_default();
    Error::config(format!(
        "{}{line}: {}{detail}; fix the template in the config's [templates] table",
        template_name(kind),
        err.kind()
    ))
}

/// `full` with only what each message needs to be posted: every optional value missing.
fn sparse_day(full: &DaySummary) -> DaySummary {
    DaySummary {
        activity: Activity {
            steps: full.activity.steps,
            ..Activity::default()
        },
        sleep: Some(Sleep {
            minutes_asleep: full.sleep.as_ref().and_then(|s| s.minutes_asleep),
            minutes_in_bed: None,
            start: None,
            end: None,
            stages: Stages::default(),
        }),
        water_ml: None,
        weight_kg: None,
        body_fat_percent: None,
        resting_heart_rate_bpm: None,
        device: None,
        ..full.clone()
    }
}

/// Every placeholder and its value for `day`. The names are the template interface
/// documented in the README; they do not depend on which values are present.
fn placeholders(day: &DaySummary, words: &Words) -> Vec<(&'static str, Value)> {
    let activity = &day.activity;
    let sleep = day.sleep.as_ref();
    let stage = |pick: fn(&Stages) -> Option<i64>| sleep.and_then(|s| pick(&s.stages));
    let asleep = sleep.and_then(|s| s.minutes_asleep);
    let device = day.device.as_ref();
    vec![
        ("date", Value::from(day.date.to_string())),
        ("timezone", Value::from(day.timezone.as_str())),
        ("provider", Value::from(day.provider.as_str())),
        ("steps", words.quantity(activity.steps, words.steps)),
        (
            "distance",
            words.quantity(activity.distance_km.map(|km| fixed(km, 3)), "km"),
        ),
        ("calories_out", words.kcal(activity.calories_out_kcal)),
        ("calories_bmr", words.kcal(activity.calories_bmr_kcal)),
        (
            "activity_calories",
            words.kcal(activity.activity_calories_kcal),
        ),
        ("sedentary", words.minutes(activity.sedentary_minutes)),
        (
            "lightly_active",
            words.minutes(activity.lightly_active_minutes),
        ),
        (
            "fairly_active",
            words.minutes(activity.fairly_active_minutes),
        ),
        ("very_active", words.minutes(activity.very_active_minutes)),
        (
            "sleep_hours",
            words.quantity(asleep.map(|m| fixed(m as f64 / 60.0, 3)), words.hours),
        ),
        ("sleep_minutes", words.minutes(asleep)),
        (
            "time_in_bed",
            words.minutes(sleep.and_then(|s| s.minutes_in_bed)),
        ),
        (
            "sleep_start",
            words.text(sleep.and_then(|s| s.start).map(clock)),
        ),
        (
            "sleep_end",
            words.text(sleep.and_then(|s| s.end).map(clock)),
        ),
        ("sleep_deep", words.minutes(stage(|s| s.deep))),
        ("sleep_light", words.minutes(stage(|s| s.light))),
        ("sleep_rem", words.minutes(stage(|s| s.rem))),
        ("sleep_wake", words.minutes(stage(|s| s.wake))),
        (
            "water",
            words.quantity(day.water_ml.map(|ml| fixed(ml, 0)), "ml"),
        ),
        (
            "weight",
            words.quantity(day.weight_kg.map(|kg| fixed(kg, 1)), "kg"),
        ),
        (
            "body_fat",
            words.percent(day.body_fat_percent.map(|p| fixed(p, 1))),
        ),
        (
            "resting_heart_rate",
            words.quantity(day.resting_heart_rate_bpm, "bpm"),
        ),
        (
            "device_name",
            words.text(
                device
                    .and_then(|d| d.name.clone())
                    .filter(|name| !name.trim().is_empty()),
            ),
        ),
        (
            "device_battery",
            words.percent(device.and_then(|d| d.battery_percent)),
        ),
        (
            "device_last_sync",
            words.text(
                device
                    .and_then(|d| d.last_sync)
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
            ),
        ),
    ]
}

/// `value` rounded half away from zero to exactly `decimals` places: "1.213", "12.433",
/// "1988". Rounding the scaled value first keeps binary noise (1.2129999…) out.
fn fixed(value: f64, decimals: usize) -> String {
    let scale = 10f64.powi(decimals as i32);
    format!("{:.decimals$}", (value * scale).round() / scale)
}

fn clock(time: NaiveDateTime) -> String {
    time.format("%H:%M").to_string()
}

/// A locale's words: units, the "not recorded" wording and the built-in templates.
struct Words {
    not_recorded: &'static str,
    /// Between a number and its unit: "1.213 km" in English, "1.213km" in Japanese.
    unit_gap: &'static str,
    steps: &'static str,
    minutes: &'static str,
    hours: &'static str,
    activity_template: &'static str,
    sleep_template: &'static str,
    monitor: monitor::Words,
}

const JA: Words = Words {
    not_recorded: "記録なし",
    unit_gap: "",
    steps: "歩",
    minutes: "分",
    hours: "時間",
    activity_template: include_str!("../../templates/ja/activity.txt"),
    sleep_template: include_str!("../../templates/ja/sleep.txt"),
    monitor: monitor::JA,
};

const EN: Words = Words {
    not_recorded: "not recorded",
    unit_gap: " ",
    steps: "steps",
    minutes: "min",
    hours: "hours",
    activity_template: include_str!("../../templates/en/activity.txt"),
    sleep_template: include_str!("../../templates/en/sleep.txt"),
    monitor: monitor::EN,
};

impl Words {
    fn for_locale(locale: Locale) -> &'static Words {
        match locale {
            Locale::Ja => &JA,
            Locale::En => &EN,
        }
    }

    fn builtin(&self, kind: MessageKind) -> &'static str {
        match kind {
            MessageKind::Activity => self.activity_template,
            MessageKind::Sleep => self.sleep_template,
            MessageKind::Week => self.monitor.week_template,
            MessageKind::Alert => self.monitor.alert_template,
            MessageKind::Resolved => self.monitor.resolved_template,
        }
    }

    fn text(&self, value: Option<String>) -> Value {
        match value {
            Some(text) => Value::from(text),
            None => Value::from_object(NotRecorded(self.not_recorded)),
        }
    }

    fn quantity(&self, number: Option<impl fmt::Display>, unit: &str) -> Value {
        self.text(number.map(|n| format!("{n}{}{unit}", self.unit_gap)))
    }

    fn percent(&self, number: Option<impl fmt::Display>) -> Value {
        self.text(number.map(|n| format!("{n}%")))
    }

    fn minutes(&self, minutes: Option<i64>) -> Value {
        self.quantity(minutes, self.minutes)
    }

    fn kcal(&self, kcal: Option<f64>) -> Value {
        self.quantity(kcal.map(|v| fixed(v, 0)), "kcal")
    }
}

/// A value the provider did not have: prints the locale's wording, is false in `if`.
#[derive(Debug)]
struct NotRecorded(&'static str);

impl Object for NotRecorded {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn is_true(self: &Arc<Self>) -> bool {
        false
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TemplatesConfig;
    use crate::day::Device;

    const JA_ACTIVITY: &str = "本日(2021-05-23)の運動 from Fitbit

座っていた時間: 551分
軽い運動の時間: 90分
アクティブな運動の時間: 4分
激しい運動の時間: 7分

本日の歩数: 1781歩 (1.213km)

消費カロリー: 1988kcal (基礎代謝: 1560kcal)";

    const JA_SLEEP: &str = "本日(2021-05-23)の睡眠時間 from Fitbit

睡眠時間: 12.433時間";

    const EN_ACTIVITY: &str = "Activity on 2021-05-23 from Fitbit

Sedentary: 551 min
Lightly active: 90 min
Fairly active: 4 min
Very active: 7 min

Walked: 1781 steps (1.213 km)

Calories burned: 1988 kcal (BMR: 1560 kcal)";

    const EN_SLEEP: &str = "Sleep on 2021-05-23 from Fitbit

Time asleep: 12.433 hours";

    fn config(locale: Locale, activity: Option<&str>, sleep: Option<&str>) -> Config {
        Config {
            locale,
            templates: TemplatesConfig {
                activity: activity.map(str::to_owned),
                sleep: sleep.map(str::to_owned),
                ..TemplatesConfig::default()
            },
            ..Config::default()
        }
    }

    fn renderer(locale: Locale) -> Renderer {
        Renderer::from_config(&config(locale, None, None)).unwrap()
    }

    fn texts(rendered: &Rendered) -> Vec<&str> {
        rendered.messages.iter().map(|m| m.text.as_str()).collect()
    }

    /// The text of the one message of `kind` that `day` renders to.
    fn text_of(rendered: &Rendered, kind: MessageKind) -> &str {
        let message = rendered.messages.iter().find(|m| m.kind == kind);
        &message.expect("message rendered").text
    }

    fn render_with(activity: &str, sleep: &str, locale: Locale, day: &DaySummary) -> Rendered {
        Renderer::from_config(&config(locale, Some(activity), Some(sleep)))
            .unwrap()
            .render(day)
            .unwrap()
    }

    fn config_error(activity: Option<&str>, sleep: Option<&str>) -> String {
        let err = validate(&config(Locale::Ja, activity, sleep)).unwrap_err();
        assert_eq!(err.kind(), crate::error::Kind::Config);
        err.to_string()
    }

    /// The 2021-05-23 values the original tool posted, and nothing else.
    fn original_day() -> DaySummary {
        let sample = demo::sample_day();
        DaySummary {
            activity: Activity {
                activity_calories_kcal: None,
                ..sample.activity.clone()
            },
            ..sparse_day(&sample)
        }
    }

    #[test]
    fn ja_reproduces_the_original_posts_character_for_character() {
        let rendered = renderer(Locale::Ja).render(&original_day()).unwrap();
        assert_eq!(texts(&rendered), [JA_ACTIVITY, JA_SLEEP]);
        assert_eq!(
            rendered.messages.iter().map(|m| m.kind).collect::<Vec<_>>(),
            MessageKind::ALL
        );
        assert!(rendered.skipped.is_empty());
    }

    #[test]
    fn en_renders_its_golden_messages() {
        let rendered = renderer(Locale::En).render(&original_day()).unwrap();
        assert_eq!(texts(&rendered), [EN_ACTIVITY, EN_SLEEP]);
    }

    #[test]
    fn the_demo_day_shows_the_original_posts() {
        let rendered = renderer(Locale::Ja).render(&demo::sample_day()).unwrap();
        assert_eq!(texts(&rendered), [JA_ACTIVITY, JA_SLEEP]);
    }

    #[test]
    fn missing_values_render_the_locale_wording_never_zero_or_none() {
        let day = DaySummary {
            activity: Activity {
                steps: Some(1781),
                ..Activity::default()
            },
            ..sparse_day(&demo::sample_day())
        };
        let ja = renderer(Locale::Ja).render(&day).unwrap();
        assert_eq!(
            text_of(&ja, MessageKind::Activity),
            "本日(2021-05-23)の運動 from Fitbit

座っていた時間: 記録なし
軽い運動の時間: 記録なし
アクティブな運動の時間: 記録なし
激しい運動の時間: 記録なし

本日の歩数: 1781歩 (記録なし)

消費カロリー: 記録なし (基礎代謝: 記録なし)"
        );
        let en = renderer(Locale::En).render(&day).unwrap();
        let activity = text_of(&en, MessageKind::Activity);
        assert!(activity.contains("Sedentary: not recorded\n"), "{activity}");
        assert!(
            activity.contains("Walked: 1781 steps (not recorded)"),
            "{activity}"
        );
        assert!(
            activity.contains("Calories burned: not recorded (BMR: not recorded)"),
            "{activity}"
        );
    }

    #[test]
    fn a_true_zero_renders_as_zero_and_an_absent_value_as_the_wording() {
        let mut day = original_day();
        day.activity.steps = Some(0);
        day.activity.very_active_minutes = Some(0);
        let rendered = renderer(Locale::Ja).render(&day).unwrap();
        let activity = text_of(&rendered, MessageKind::Activity);
        assert!(activity.contains("本日の歩数: 0歩 (1.213km)"), "{activity}");
        assert!(activity.contains("激しい運動の時間: 0分"), "{activity}");

        day.activity.steps = None;
        let rendered = renderer(Locale::Ja).render(&day).unwrap();
        let activity = text_of(&rendered, MessageKind::Activity);
        assert!(
            activity.contains("本日の歩数: 記録なし (1.213km)"),
            "{activity}"
        );
    }

    #[test]
    fn every_placeholder_has_text_for_a_full_day_and_the_wording_for_an_empty_one() {
        let every = placeholders(&demo::sample_day(), &EN)
            .into_iter()
            .map(|(name, _)| format!("{name}=[{{{{ {name} }}}}]"))
            .collect::<Vec<_>>()
            .join("\n");
        let sample = demo::sample_day();
        let full = render_with(&every, &every, Locale::En, &sample);
        let full = text_of(&full, MessageKind::Activity);
        assert!(!full.contains("[]") && !full.contains("None"), "{full}");
        assert!(!full.contains("not recorded"), "{full}");

        let bare = render_with(&every, &every, Locale::En, &sparse_day(&sample));
        for line in text_of(&bare, MessageKind::Sleep).lines() {
            let (name, value) = line.split_once('=').unwrap();
            let always_known = ["date", "timezone", "provider", "steps"];
            let recorded = ["sleep_hours", "sleep_minutes"];
            if !always_known.contains(&name) && !recorded.contains(&name) {
                assert_eq!(value, "[not recorded]", "{name}");
            }
        }
    }

    #[test]
    fn user_templates_override_and_add_optional_lines_from_every_family() {
        let activity = "{{ date }} ({{ timezone }}, {{ provider }})
{{ steps }} / {{ distance }} / {{ calories_out }} - {{ calories_bmr }} = {{ activity_calories }}
{% if water %}
水分: {{ water }}
{% endif %}
体重: {{ weight }} ({{ body_fat }})
安静時心拍数: {{ resting_heart_rate }}
{{ device_name }}: {{ device_battery }} ({{ device_last_sync }})";
        let sleep = "睡眠: {{ sleep_hours }} = {{ sleep_minutes }} / {{ time_in_bed }}
{{ sleep_start }} ~ {{ sleep_end }}
深い {{ sleep_deep }} 浅い {{ sleep_light }} レム {{ sleep_rem }} 覚醒 {{ sleep_wake }}";
        let rendered = render_with(activity, sleep, Locale::Ja, &demo::sample_day());
        assert_eq!(
            texts(&rendered),
            [
                "2021-05-23 (Asia/Tokyo, demo)
1781歩 / 1.213km / 1988kcal - 1560kcal = 428kcal
水分: 1500ml
体重: 62.4kg (21.3%)
安静時心拍数: 58bpm
Charge 4: 80% (2021-05-24 07:12)",
                "睡眠: 12.433時間 = 746分 / 790分
22:41 ~ 11:51
深い 98分 浅い 462分 レム 186分 覚醒 44分",
            ]
        );

        let mut day = demo::sample_day();
        day.water_ml = None;
        day.device = None;
        let rendered = render_with(activity, sleep, Locale::Ja, &day);
        let activity = text_of(&rendered, MessageKind::Activity);
        assert!(
            !activity.contains("水分"),
            "an `if` line is left out: {activity}"
        );
        assert!(
            activity.ends_with("安静時心拍数: 58bpm\n記録なし: 記録なし (記録なし)"),
            "{activity}"
        );
    }

    #[test]
    fn a_template_can_word_a_missing_value_its_own_way() {
        let day = DaySummary {
            water_ml: None,
            ..demo::sample_day()
        };
        let rendered = render_with_one("{{ steps }} / {{ water or \"-\" }}", &day);
        assert_eq!(text_of(&rendered, MessageKind::Activity), "1781歩 / -");
    }

    #[test]
    fn only_the_overridden_message_changes() {
        let rendered = render_with_one("歩数 {{ steps }}", &original_day());
        assert_eq!(texts(&rendered), ["歩数 1781歩", JA_SLEEP]);
    }

    fn render_with_one(activity: &str, day: &DaySummary) -> Rendered {
        Renderer::from_config(&config(Locale::Ja, Some(activity), None))
            .unwrap()
            .render(day)
            .unwrap()
    }

    #[test]
    fn a_day_without_activity_skips_that_message_with_a_note() {
        let mut day = original_day();
        day.activity = Activity::default();
        let rendered = renderer(Locale::Ja).render(&day).unwrap();
        assert_eq!(texts(&rendered), [JA_SLEEP]);
        assert_eq!(
            rendered.skipped,
            [Skipped {
                kind: MessageKind::Activity,
                note: "activity message for 2021-05-23 skipped: no activity was recorded \
                       (tracker off-wrist or not synced)"
                    .to_owned(),
            }]
        );
    }

    #[test]
    fn a_day_without_sleep_skips_that_message_with_a_note() {
        let no_sleep_log = DaySummary {
            sleep: None,
            ..original_day()
        };
        let mut no_minutes = original_day();
        no_minutes.sleep.as_mut().unwrap().minutes_asleep = None;
        for day in [no_sleep_log, no_minutes] {
            let rendered = renderer(Locale::En).render(&day).unwrap();
            assert_eq!(texts(&rendered), [EN_ACTIVITY]);
            assert_eq!(rendered.skipped.len(), 1);
            assert_eq!(rendered.skipped[0].kind, MessageKind::Sleep);
            assert_eq!(
                rendered.skipped[0].note,
                "sleep message for 2021-05-23 skipped: no sleep ending that day was recorded"
            );
        }
    }

    #[test]
    fn a_template_that_renders_nothing_for_a_day_skips_its_message() {
        let rendered = render_with_one(
            "{% if water %}水分: {{ water }}{% endif %}",
            &original_day(),
        );
        assert_eq!(texts(&rendered), [JA_SLEEP]);
        assert_eq!(
            rendered.skipped[0].note,
            "activity message for 2021-05-23 skipped: its template rendered nothing for this day"
        );
    }

    #[test]
    fn an_unknown_placeholder_names_the_template_and_the_placeholder() {
        let err = config_error(Some("歩数 {{ stepz }}"), None);
        assert!(
            err.starts_with("templates.activity: unknown placeholder `stepz`;"),
            "{err}"
        );
        let err = config_error(
            None,
            Some("{% if naps %}{{ naps }}{% endif %}{{ sleep_hours }}"),
        );
        assert!(
            err.starts_with("templates.sleep: unknown placeholder `naps`;"),
            "{err}"
        );
        let err = config_error(Some("{{ water_ml }} {{ weight_kg }}"), None);
        assert!(
            err.contains("templates.activity: unknown placeholders `water_ml`, `weight_kg`"),
            "{err}"
        );
    }

    #[test]
    fn template_locals_and_builtin_functions_are_not_unknown_placeholders() {
        let activity = "{% set total = [sedentary, very_active] %}\
                        {% for t in total %}{{ t }} {% endfor %}{{ range(2) | length }}";
        let rendered = render_with_one(activity, &original_day());
        assert_eq!(text_of(&rendered, MessageKind::Activity), "551分 7分 2");
    }

    #[test]
    fn a_syntax_error_names_the_template_and_line() {
        let err = config_error(None, Some("睡眠\n\n{{ sleep_hours }"));
        assert!(
            err.starts_with("templates.sleep line 3: syntax error:"),
            "{err}"
        );
        let err = config_error(Some("{% if steps %}{{ steps }}"), None);
        assert!(err.starts_with("templates.activity line "), "{err}");
        assert!(err.contains("syntax error"), "{err}");
    }

    #[test]
    fn errors_that_show_only_with_some_data_are_found_when_checking() {
        let err = config_error(Some("{{ steps | frobnicate }}"), None);
        assert!(
            err.starts_with("templates.activity line 1: unknown filter"),
            "{err}"
        );
        // passes with the full sample day, fails only when water is not recorded
        let err = config_error(
            Some("{{ steps }} {{ water ~ '' if water else water + 1 }}"),
            None,
        );
        assert!(err.starts_with("templates.activity line 1:"), "{err}");
        assert!(
            err.contains("only steps and sleep time are recorded"),
            "{err}"
        );
    }

    #[test]
    fn a_template_empty_for_a_full_day_is_an_error() {
        let err = config_error(None, Some("{# nothing #}\n"));
        assert!(
            err.starts_with("templates.sleep: renders an empty message"),
            "{err}"
        );
    }

    #[test]
    fn numbers_have_exact_decimals_and_no_float_noise() {
        assert_eq!(fixed(1.21284, 3), "1.213");
        assert_eq!(fixed(746.0 / 60.0, 3), "12.433");
        assert_eq!(fixed(720.0 / 60.0, 3), "12.000");
        assert_eq!(fixed(0.1 + 0.2, 3), "0.300");
        assert_eq!(fixed(1.0005, 3), "1.001");
        assert_eq!(fixed(1987.5, 0), "1988");
        assert_eq!(fixed(2.5, 0), "3");
        assert_eq!(fixed(62.449999999, 1), "62.4");
        assert_eq!(fixed(0.0, 1), "0.0");
    }

    #[test]
    fn optional_values_are_formatted_by_their_rules() {
        let day = DaySummary {
            water_ml: Some(1499.6),
            weight_kg: Some(62.0),
            body_fat_percent: Some(21.25),
            device: Some(Device {
                name: Some("  ".to_owned()),
                battery_percent: Some(0),
                last_sync: None,
            }),
            ..demo::sample_day()
        };
        let rendered = render_with(
            "{{ water }}|{{ weight }}|{{ body_fat }}|{{ device_name }}|{{ device_battery }}",
            "{{ sleep_hours }}",
            Locale::En,
            &day,
        );
        assert_eq!(
            text_of(&rendered, MessageKind::Activity),
            "1500 ml|62.0 kg|21.3%|not recorded|0%"
        );
    }

    #[test]
    fn the_readme_example_template_renders_the_demo_day() {
        let readme = include_str!("../../README.md");
        let example = readme
            .split("```toml\n[templates]")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("README has a [templates] example");
        let text = format!("locale = \"ja\"\n[templates]{example}");
        let config: Config = toml::from_str(&text).unwrap();
        let rendered = Renderer::from_config(&config)
            .unwrap()
            .render(&demo::sample_day())
            .unwrap();
        assert_eq!(
            text_of(&rendered, MessageKind::Sleep),
            "本日(2021-05-23)の睡眠時間 from Fitbit

睡眠時間: 12.433時間
22:41 ~ 11:51 (深い睡眠 98分, レム 186分)
バッテリ残量: 80%"
        );
    }

    #[test]
    fn the_readme_documents_every_placeholder() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("## Messages and templates")
            .nth(1)
            .expect("README has a Messages and templates section");
        for (name, _) in placeholders(&demo::sample_day(), &JA) {
            assert!(
                section.contains(&format!("| `{name}` |")),
                "README lacks placeholder {name}"
            );
        }
    }
}
