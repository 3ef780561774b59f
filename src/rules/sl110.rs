//! SL110: per-call code whose every change of a class-level container, a module-level container
//! or a container of a module-level object takes entries out of it (`pop`, `discard`, `clear`,
//! `del c[k]`): what SL102, SL201 and SL203 would tell, kept apart and off by default because the
//! function puts nothing of its call in the container, and only when another function requests
//! reach changes the same container other than by taking entries out (puts entries in) and that
//! rule reports it there (for SL102's, SL101 reporting a put-in through an instance counts too).
//! A container only filled at import and emptied per call stays with its rule: nothing else tells
//! that leak.

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FileFacts, Span};
use crate::model::takes_entries_out;

use super::{Context, Part, Rule, RuleMeta, sl102, sl201, sl203};

pub struct EntriesTakenOutPerCall;

static META: RuleMeta = RuleMeta {
    code: "SL110",
    name: "entries-taken-out-per-call",
    summary: "Per-call code only takes entries out of a shared container (`pop`, `remove`, `discard`, `clear`, `del c[k]`) that other per-call code, reported by the same rule (or by SL101, through an instance), puts entries in",
    severity: Severity::Warning,
    enabled_by_default: false,
    document: include_str!("../../docs/rules/SL110.md"),
};

impl Rule for EntriesTakenOutPerCall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let mut findings = sl102::mutations_through_the_class(context, Part::TakenOut);
        findings.extend(sl201::changes_per_request(context, Part::TakenOut));
        findings.extend(sl203::singleton_writes(context, Part::TakenOut));
        findings
    }
}

/// Whether each of `sites` (changes in the file of `facts`) is a change that only takes entries
/// out of its object: a function all of whose changes are such is SL110's.
pub(super) fn only_take_entries_out(
    facts: &FileFacts,
    sites: impl IntoIterator<Item = Span>,
) -> bool {
    sites.into_iter().all(|site| {
        let mut at_site = facts.mutations.iter().filter(|m| m.span == site).peekable();
        at_site.peek().is_some() && at_site.all(takes_entries_out)
    })
}

/// The finding for a function that only takes entries out; `message` says what the container is
/// and which function changes it, as SL102, SL201 or SL203 would.
pub(super) fn entries_taken_out(message: String, primary: Label) -> Diagnostic {
    let primary = Label {
        message: "takes entries out here; nothing in this function puts any in".into(),
        ..primary
    };
    META.diagnostic(format!("{message}, only taking entries out"), primary)
        .with_note(
            "nothing of the call stays in it for later requests; another function requests \
             reach changes the same container other than by taking entries out, and is reported \
             there by the same rule, or by SL101 when it puts entries in through an instance",
        )
        .with_help(
            "nothing to change if the container is meant to be shared (a registry, a session or \
             claim table kept bounded); otherwise keep the data in the request or session",
        )
}
