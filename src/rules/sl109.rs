//! SL109: a shared container that per-call code adds a future to, the future's done-callback
//! taking it out again (`tasks.add(t); t.add_done_callback(tasks.discard)`): what SL101, SL201,
//! SL203 and SL204 would tell, kept apart and off by default because the container holds only
//! futures still running; nothing of a request stays in it once its task is done.

use crate::diagnostic::{Diagnostic, Label, Severity};

use super::{Context, Part, Rule, RuleMeta, sl101, sl201, sl203, sl204};

pub struct TaskKeptUntilDone;

static META: RuleMeta = RuleMeta {
    code: "SL109",
    name: "task-kept-until-done",
    summary: "A shared container holds a future only until it is done: per-call code adds it and hands the container's bound `discard` or `remove` to its `add_done_callback`",
    severity: Severity::Warning,
    enabled_by_default: false,
    document: include_str!("../../docs/rules/SL109.md"),
};

impl Rule for TaskKeptUntilDone {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let mut findings = sl101::changes_through_instances(context, true);
        findings.extend(sl201::changes_per_request(context, Part::KeptUntilDone));
        findings.extend(sl203::singleton_writes(context, Part::KeptUntilDone));
        findings.extend(sl204::closure_writes(context, true));
        findings
    }
}

/// The finding for adds the next statement undoes once the future is done; `message` says what
/// the container is and who adds to it, as SL101 or SL201 would.
pub(super) fn kept_until_done(message: String, primary: Label) -> Diagnostic {
    let primary = Label {
        message: "added here; the next statement makes the future's done-callback take it out"
            .into(),
        ..primary
    };
    META.diagnostic(
        format!("{message}: each future added there takes itself out when it is done"),
        primary,
    )
    .with_note(
        "it holds only futures still running, so nothing of a request stays once its task is \
         done; while they run, code that goes through it (cancelling or awaiting all) reaches \
         every request's tasks",
    )
    .with_help(
        "nothing to change if it only keeps the tasks alive; code that cancels or awaits them \
         should keep to the ones it started",
    )
}
