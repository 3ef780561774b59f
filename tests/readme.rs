//! The README's rule table is generated from the rules' metadata; this test fails when they drift.
//! Regenerate with `STATELEAK_UPDATE_README=1 cargo test --test readme`.

use std::path::Path;

const START: &str = "<!-- rules-table:start (generated from the rules; see tests/readme.rs) -->\n";
const END: &str = "<!-- rules-table:end -->";

#[test]
fn readme_rule_table_matches_the_rules() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(START)
        .expect("README.md has the rule table's start marker")
        + START.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README.md has the rule table's end marker");
    let generated = stateleak::rules::markdown_table();
    if readme[start..end] == generated {
        return;
    }
    if std::env::var_os("STATELEAK_UPDATE_README").is_some() {
        let updated = format!("{}{generated}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "the rule table in README.md differs from the rules' metadata; regenerate it with \
         `STATELEAK_UPDATE_README=1 cargo test --test readme`\n\nexpected:\n{generated}\nfound:\n{}",
        &readme[start..end]
    );
}

#[test]
fn every_rule_has_a_row() {
    let table = stateleak::rules::markdown_table();
    for rule in stateleak::rules::all() {
        assert!(table.contains(&format!("| [{0}](docs/rules/{0}.md) |", rule.meta().code)));
    }
}
