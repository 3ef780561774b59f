//! SL107: a constructor sets its own class's attribute to one of its arguments (a class-wide
//! option that each new instance replaces): what SL102 would tell as per-call state, kept apart
//! and off by default because it is configuration rather than request data.

use crate::diagnostic::{Diagnostic, Severity};

use super::sl102::{self, Setting};
use super::{Context, Rule, RuleMeta};

pub struct ClassOptionSetByConstructor;

pub(super) static META: RuleMeta = RuleMeta {
    code: "SL107",
    name: "class-option-set-by-constructor",
    summary: "A constructor sets its class's attribute to one of its arguments: a class-wide option each new instance replaces",
    severity: Severity::Warning,
    enabled_by_default: false,
    document: include_str!("../../docs/rules/SL107.md"),
};

impl Rule for ClassOptionSetByConstructor {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        sl102::attributes_set_on_the_class(context, Setting::ConstructorOption)
    }
}
