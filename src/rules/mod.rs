//! The rules. Each lives in a file of its own with its documentation in `docs/rules/CODE.md`
//! (which is also its test suite) and reads only the linked [`Project`].

mod common;
mod sl101;

use crate::diagnostic::{Diagnostic, Severity};
use crate::project::Project;

/// What a rule is, independent of running it.
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    /// One line for the README's table.
    pub summary: &'static str,
    pub severity: Severity,
    pub enabled_by_default: bool,
    /// The rule's Markdown document: documentation followed by its test cases.
    pub document: &'static str,
}

impl RuleMeta {
    /// The documentation part of the rule's document (what `stateleak rule` prints).
    pub fn documentation(&self) -> &'static str {
        let end = self
            .document
            .find("\n## Cases")
            .unwrap_or(self.document.len());
        self.document[..end].trim_end()
    }
}

/// Settings the rules read.
#[derive(Debug, Clone, Default)]
pub struct RuleSettings {
    /// Extra base classes (qualified names) that copy class-level defaults per instance.
    pub safe_bases: Vec<String>,
}

pub struct Context<'a> {
    pub project: &'a Project,
    pub settings: &'a RuleSettings,
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic>;
}

/// Every rule, in code order.
pub fn all() -> &'static [&'static dyn Rule] {
    &[&sl101::SharedClassStateMutatedThroughInstance]
}

pub fn by_code(code: &str) -> Option<&'static dyn Rule> {
    all()
        .iter()
        .copied()
        .find(|r| r.meta().code.eq_ignore_ascii_case(code))
}
