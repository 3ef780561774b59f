//! SL111: what SL101, SL102, SL201, SL203 and SL204 would tell, kept apart and off by default
//! when every change the finding shows (its primary place and every other change place it lists)
//! runs while a lock is held (`with self._lock:`, `@lockutils.synchronized(...)`: see
//! `syntax/extract/locks.rs`). Code that takes a lock to change an object was written knowing
//! that the object is shared across threads and requests; what it keeps there still reaches the
//! next request.

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::LockHeld;
use crate::project::Project;

use super::{Context, Rule, RuleMeta, sharing_meant};

pub struct SharedStateChangedUnderLock;

static META: RuleMeta = RuleMeta {
    code: "SL111",
    name: "shared-state-changed-under-lock",
    summary: "What SL101, SL102, SL201, SL203 or SL204 would report, when every change it shows is made while a lock is held (`with self._lock:`, `@synchronized`): the sharing is meant",
    severity: Severity::Warning,
    enabled_by_default: false,
    document: include_str!("../../docs/rules/SL111.md"),
};

impl Rule for SharedStateChangedUnderLock {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        sharing_meant::shared_state_findings(context)
            .into_iter()
            .filter_map(|finding| {
                let lock = lock_held_over(project, &finding)?;
                Some(under_lock(finding, lock))
            })
            .collect()
    }
}

/// `findings` of SL101, SL102, SL201, SL203 or SL204 without those this rule tells.
pub(super) fn leave_locked(project: &Project, findings: Vec<Diagnostic>) -> Vec<Diagnostic> {
    findings
        .into_iter()
        .filter(|finding| lock_held_over(project, finding).is_none())
        .collect()
}

/// The lock held where the primary change of `finding` is made, when one is held at each of its
/// changes (the primary place and the "and here" places).
fn lock_held_over<'p>(project: &'p Project, finding: &Diagnostic) -> Option<&'p LockHeld> {
    sharing_meant::at_every_change(finding, |label: &Label| {
        project
            .file(label.file)
            .facts
            .lock_held_at(label.span.start)
    })
}

/// `finding` told by this rule: its message, places, identity and object, with what the lock
/// says.
fn under_lock(finding: Diagnostic, lock: &LockHeld) -> Diagnostic {
    let holding = if lock.decorator {
        format!("the lock of `@{}`", lock.lock.as_str())
    } else {
        format!("`{}`", lock.lock.as_str())
    };
    sharing_meant::retold(
        &META,
        finding,
        |message| format!("{message}; every change is made holding {holding}"),
        "the lock shows that the sharing is meant: the object is kept for every thread and \
         request; still, what one request stores there is seen by the next",
        "check that only data every caller may see is kept there (configuration, a cache of what \
         does not depend on the request); keep per-request data in the request",
    )
}
