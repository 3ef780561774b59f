//! Parts of the README are generated; these tests fail when they drift from what they show:
//! the rule table (from the rules' metadata) and the opening example (what the first command of
//! "Set up" prints). Regenerate both with `STATELEAK_UPDATE_README=1 cargo test --test readme`.

use std::path::Path;
use std::process::Command;

/// Checks that the README's text between the markers named `name` is `generated`, or writes it
/// there when `STATELEAK_UPDATE_README` is set.
fn check_generated(name: &str, what: &str, generated: &str) {
    let start_marker = format!("<!-- {name}:start (generated; see tests/readme.rs) -->\n");
    let end_marker = format!("<!-- {name}:end -->");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(&start_marker)
        .unwrap_or_else(|| panic!("README.md has the marker {start_marker}"))
        + start_marker.len();
    let end = start
        + readme[start..]
            .find(&end_marker)
            .unwrap_or_else(|| panic!("README.md has the marker {end_marker}"));
    if readme[start..end] == *generated {
        return;
    }
    if std::env::var_os("STATELEAK_UPDATE_README").is_some() {
        let updated = format!("{}{generated}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "{what} in README.md differs; regenerate it with \
         `STATELEAK_UPDATE_README=1 cargo test --test readme`\n\nexpected:\n{generated}\nfound:\n{}",
        &readme[start..end]
    );
}

#[test]
fn readme_rule_table_matches_the_rules() {
    check_generated(
        "rules-table",
        "the rule table",
        &stateleak::rules::markdown_table(),
    );
}

#[test]
fn readme_opening_example_is_what_the_first_command_prints() {
    let output = Command::new(env!("CARGO_BIN_EXE_stateleak"))
        .args(["check", "--no-cache", "--color", "never", "examples/remix"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let printed = String::from_utf8(output.stdout).unwrap();
    check_generated(
        "opening-example",
        "the opening example",
        &format!(
            "```\n{}```\n",
            printed.trim_end_matches('\n').to_owned() + "\n"
        ),
    );
}

#[test]
fn every_rule_has_a_row() {
    let table = stateleak::rules::markdown_table();
    for rule in stateleak::rules::all() {
        assert!(table.contains(&format!("| [{0}](docs/rules/{0}.md) |", rule.meta().code)));
    }
}
