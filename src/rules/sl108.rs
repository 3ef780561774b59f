//! SL108: per-call code sets a class attribute after saving its value and puts the value back in
//! a `finally` (a re-entrancy flag, a temporary override): what SL102 would tell, kept apart and
//! off by default because nothing of the call outlives it; only code running at the same time
//! can see the value.

use crate::diagnostic::{Diagnostic, Severity};

use super::sl102::{self, Setting};
use super::{Context, Rule, RuleMeta};

pub struct ClassAttributeSetAndRestored;

pub(super) static META: RuleMeta = RuleMeta {
    code: "SL108",
    name: "class-attribute-set-and-restored",
    summary: "Per-call code sets a class attribute and puts the saved value back in a `finally`: only code running at the same time sees the change",
    severity: Severity::Warning,
    enabled_by_default: false,
    document: include_str!("../../docs/rules/SL108.md"),
};

impl Rule for ClassAttributeSetAndRestored {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        sl102::attributes_set_on_the_class(context, Setting::Restored)
    }
}
