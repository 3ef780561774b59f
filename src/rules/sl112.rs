//! SL112: what SL101, SL102, SL201, SL203 and SL204 would tell, kept apart and off by default
//! when every change the finding shows is a registration: a function named `register`,
//! `register_*`, `unregister*` or `deregister*` (leading underscores aside) that stores one of its
//! own parameters itself (a bare name, never bound again in the function, not the receiver) into
//! the shared container, and has no `return` but `return <that parameter>` (a bare `return`
//! counts as another: `FunctionFacts::returns_other`). The function is not a
//! request entry point. A registration API keeps what its callers hand it for the whole process:
//! that is its purpose.

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FuncIdx, FunctionKind, Name, ParamUseKind};
use crate::project::Project;

use super::{Context, Rule, RuleMeta, sharing_meant, sl111};

pub struct RegistrationApiStore;

static META: RuleMeta = RuleMeta {
    code: "SL112",
    name: "registration-api-store",
    summary: "What SL101, SL102, SL201, SL203 or SL204 would report, when every change it shows is a `register*` function storing its own argument itself and returning nothing else: a registry kept for the process on purpose",
    severity: Severity::Warning,
    enabled_by_default: false,
    document: include_str!("../../docs/rules/SL112.md"),
};

impl Rule for RegistrationApiStore {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        sl111::leave_locked(project, sharing_meant::shared_state_findings(context))
            .into_iter()
            .filter_map(|finding| {
                let store = registration_over(project, &finding)?;
                Some(registered(finding, &store))
            })
            .collect()
    }
}

/// `findings` of SL101, SL102, SL201, SL203 or SL204 without those this rule tells.
pub(super) fn leave_registrations(project: &Project, findings: Vec<Diagnostic>) -> Vec<Diagnostic> {
    findings
        .into_iter()
        .filter(|finding| registration_over(project, finding).is_none())
        .collect()
}

/// What the primary change of a finding this rule tells stores, and where.
struct Store {
    function: Name,
    param: Name,
    /// The container as the change writes it: `_REGISTRY`, `cls._handlers`.
    container: String,
}

/// The registration at the primary change of `finding`, when each of its changes (the primary
/// place and the "and here" places) is one.
fn registration_over(project: &Project, finding: &Diagnostic) -> Option<Store> {
    sharing_meant::at_every_change(finding, |label| registration_at(project, label))
}

/// Whether `name` is a registration function's: `register`, `register_x`, `unregister_x`,
/// `deregister`, leading underscores aside.
fn is_registration_name(name: &str) -> bool {
    let bare = name.trim_start_matches('_');
    ["register", "unregister", "deregister"].iter().any(|word| {
        bare.strip_prefix(word)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
    })
}

/// The store at `label` when it is a registration: the change stores a parameter itself (a bare
/// name) of the function around it; the parameter is not the receiver and is never bound again;
/// the function is named as a registration, is no request entry point, and returns nothing or
/// only that parameter.
fn registration_at(project: &Project, label: &Label) -> Option<Store> {
    let facts = &project.file(label.file).facts;
    let start = label.span.start;
    let param = facts
        .stored_parameters
        .iter()
        .find(|(at, _)| *at == start)
        .map(|(_, name)| *name)?;
    let index: FuncIdx = project.function_at(label.file, start)?;
    let function = &facts.functions[index as usize];
    if !is_registration_name(function.name.as_str()) {
        return None;
    }
    let receiver = usize::from(matches!(
        function.kind,
        FunctionKind::Instance | FunctionKind::ClassMethod
    ));
    let position = function.params.iter().position(|p| p.name == param)?;
    if position < receiver {
        return None;
    }
    let rebound = facts.param_uses.iter().any(|used| {
        used.function == index
            && used.param as usize == position
            && matches!(used.kind, ParamUseKind::Rebound)
    });
    if rebound
        || function.returns_other
        || function.returned_names.iter().any(|name| *name != param)
    {
        return None;
    }
    let id = project.function_id(label.file, index);
    if project.call_graph().entry_kind(id).is_some() {
        return None;
    }
    let container = facts
        .mutations
        .iter()
        .find(|m| m.span.start == start)?
        .target
        .display();
    Some(Store {
        function: function.name,
        param,
        container,
    })
}

/// `finding` told by this rule: what was proved of the registration, the message it had, its
/// places, identity and object.
fn registered(finding: Diagnostic, store: &Store) -> Diagnostic {
    sharing_meant::retold(
        &META,
        finding,
        |message| {
            format!(
                "`{}` stores its argument `{}` itself in `{}` and returns nothing else of the \
                 call: {message}",
                store.function.as_str(),
                store.param.as_str(),
                store.container
            )
        },
        "a registration function keeps what its callers hand it for the whole process: the \
         sharing is its purpose; still, whatever a request passes to it stays for every later \
         request",
        "check that it is called while the application is set up, or with objects every caller \
         may share (classes, functions, handlers), never with request data",
    )
}
