//! `completions` and `man`: generated from the CLI definition, usable without a config.

use predicates::prelude::*;

use crate::support::TestEnv;

fn stdout_of(env: &TestEnv, args: &[&str]) -> String {
    let output = env.cmd().args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    assert!(output.stderr.is_empty(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn each_shell_gets_a_script_that_completes_the_subcommands() {
    let env = TestEnv::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef fitbit-notifier"),
        ("fish", "complete -c fitbit-notifier"),
    ] {
        let script = stdout_of(&env, &["completions", shell]);
        assert!(script.contains(marker), "{shell}: {script}");
        for subcommand in ["config", "completions", "man"] {
            assert!(script.contains(subcommand), "{shell} lacks {subcommand}");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error_that_lists_the_shells() {
    TestEnv::new()
        .cmd()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("bash").and(predicate::str::contains("zsh")));
}

#[test]
fn the_man_page_has_the_standard_sections_and_the_exit_statuses() {
    let env = TestEnv::new();
    let page = stdout_of(&env, &["man"]);
    assert!(page.contains(".TH fitbit-notifier 1"), "{page}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH COMMANDS",
        ".SH \"EXIT STATUS\"",
        ".SH FILES",
    ] {
        assert!(page.contains(section), "missing {section}");
    }
    for status in ["0", "1", "2", "75", "77", "78"] {
        assert!(
            page.contains(&format!(".TP\n\\fB{status}\\fR\n")),
            "exit status {status} missing"
        );
    }
    assert!(page.contains(r"\fBfitbit\-notifier completions\fR \fISHELL\fR"));
}

#[test]
fn generated_text_needs_no_config_at_all() {
    let env = TestEnv::new();
    env.write_config("this is = = not toml");
    env.cmd().arg("man").assert().success();
    env.cmd().args(["completions", "fish"]).assert().success();
}
