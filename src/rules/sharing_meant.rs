//! Findings of the shared-state rules (SL101, SL102, SL201, SL203, SL204) whose every change shows
//! in the code that the sharing is meant are set apart into rules off by default: SL111 (each
//! change made holding a lock) and SL112 (each change a registration function storing its own
//! argument). The five rules gather their findings here and leave those; the two audit rules take
//! them from here, so that all seven agree on which findings move.

use crate::diagnostic::{AND_HERE, Diagnostic, Label};
use crate::project::Project;

use super::{Context, Part, RuleMeta, sl101, sl102, sl111, sl112, sl201, sl203, sl204};

/// What SL101, SL102, SL201, SL203 and SL204 would tell before any is set apart.
pub(super) fn shared_state_findings(context: &Context<'_>) -> Vec<Diagnostic> {
    let mut findings = sl101::changes_through_instances(context, false);
    findings.extend(sl102::told(context));
    findings.extend(sl201::changes_per_request(context, Part::Told));
    findings.extend(sl203::singleton_writes(context, Part::Told));
    findings.extend(sl204::closure_writes(context, false));
    findings
}

/// `findings` of one of the shared-state rules without those SL111 or SL112 tells.
pub(super) fn leave_meant(project: &Project, findings: Vec<Diagnostic>) -> Vec<Diagnostic> {
    sl112::leave_registrations(project, sl111::leave_locked(project, findings))
}

/// What `at` says of the primary place of `finding`, when it says something of each of the
/// finding's other change places (its "and here" places) too: a finding is set apart only when
/// every change it shows has the shape.
pub(super) fn at_every_change<T>(
    finding: &Diagnostic,
    at: impl Fn(&Label) -> Option<T>,
) -> Option<T> {
    let primary = at(&finding.primary)?;
    finding
        .related
        .iter()
        .filter(|label| label.message == AND_HERE)
        .all(|label| at(label).is_some())
        .then_some(primary)
}

/// `finding` told by the audit rule `meta` instead: its places, identity, object and call chain
/// kept, its message as `message` rewrites it, with the audit rule's `note` and `help` (the
/// default rule's repair and advice do not fit a sharing that is meant).
pub(super) fn retold(
    meta: &'static RuleMeta,
    finding: Diagnostic,
    message: impl FnOnce(&str) -> String,
    note: &str,
    help: &str,
) -> Diagnostic {
    let Diagnostic {
        message: told_message,
        primary,
        related,
        identity,
        object,
        via,
        ..
    } = finding;
    let mut told = meta
        .diagnostic(message(&told_message), primary)
        .with_related(related)
        .with_identity(identity)
        .with_via(via)
        .with_note(note)
        .with_help(help);
    told.object = object;
    told
}
