//! SL106: what SL103 finds, in code no request entry point is known to reach (start-up
//! configuration, tools): off by default.

use crate::diagnostic::{Diagnostic, Severity};

use super::{Context, Rule, RuleMeta, sl103};

pub struct ClassAttributeResetOutsideRequests;

static META: RuleMeta = RuleMeta {
    code: "SL106",
    name: "class-attribute-reset-outside-requests",
    summary: "A class attribute is rebound from outside the class by code no request entry point is known to reach (start-up configuration)",
    severity: Severity::Warning,
    enabled_by_default: false,
    document: include_str!("../../docs/rules/SL106.md"),
};

impl Rule for ClassAttributeResetOutsideRequests {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        sl103::class_rebinds(context.project, &META)
    }
}
