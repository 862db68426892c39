//! Message templates: `config` checks them before any run (a syntax error is a row of
//! the table of configs it cannot use, in `config.rs`).

use predicates::prelude::*;
use test_case::test_case;

use crate::support::TestEnv;

#[test]
fn an_unknown_placeholder_is_78_naming_the_template_and_the_placeholder() {
    let env = TestEnv::new();
    env.write_config("locale = \"ja\"\n[templates]\nsleep = \"睡眠: {{ sleep_hourz }}\"\n");
    env.cmd().arg("config").assert().code(78).stdout("").stderr(
        predicate::str::contains("templates.sleep: unknown placeholder `sleep_hourz`").and(
            predicate::str::contains(env.config_path().to_str().unwrap()),
        ),
    );
}

/// The templates of `config.example.toml`'s `[templates]` table, uncommented.
fn the_examples() -> String {
    let example = include_str!("../../config.example.toml");
    let (_, templates) = example
        .split_once("\n[templates]\n")
        .expect("config.example.toml has a [templates] table");
    let uncommented: Vec<&str> = templates
        .lines()
        .map(|line| {
            line.strip_prefix('#')
                .map_or(line, |l| l.strip_prefix(' ').unwrap_or(l))
        })
        .collect();
    format!("[templates]\n{}\n", uncommented.join("\n"))
}

/// (the config, how `config` reports its messages): good templates pass.
#[test_case(
    "locale = \"ja\"\n[templates]\nactivity = \"\"\"\n本日の歩数: {{ steps }}\n{% if water %}\n水分: {{ water }}\n{% endif %}\n\"\"\"\n",
    "messages          locale ja; activity: your template, sleep: built-in"
    ; "one template of the user's"
)]
#[test_case(&the_examples(), "activity: your template, sleep: your template" ; "the commented examples in config.example.toml")]
fn good_templates_pass_and_are_reported(config: &str, reported: &str) {
    let env = TestEnv::new();
    env.write_config(config);
    env.cmd()
        .arg("config")
        .assert()
        .success()
        .stdout(predicate::str::contains(reported));
}

/// Nested loops that would run for hours: `config` and `run --demo` report the template
/// (78) in well under a second, as minijinja's fuel runs out.
#[test]
fn a_runaway_template_is_78_in_well_under_a_second() {
    let env = TestEnv::new();
    env.write_config(
        "[templates]\nsleep = \"{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}{{ sleep_hours }}\"\n",
    );
    for args in [&["config"][..], &["run", "--demo"]] {
        let started = std::time::Instant::now();
        env.cmd()
            .args(args)
            .timeout(std::time::Duration::from_secs(10))
            .assert()
            .code(78)
            .stderr(
                predicate::str::contains("templates.sleep").and(predicate::str::contains("fuel")),
            );
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_millis(900),
            "{args:?} took {took:?}"
        );
    }
}
