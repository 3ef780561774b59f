//! The rules. Each lives in a file of its own with its documentation in `docs/rules/CODE.md`
//! (which is also its test suite) and reads only the linked [`Project`].

mod common;
mod sharing_meant;
mod sl101;
mod sl102;
mod sl103;
mod sl104;
mod sl105;
mod sl106;
mod sl107;
mod sl108;
mod sl109;
mod sl110;
mod sl111;
mod sl112;
mod sl201;
mod sl202;
mod sl203;
mod sl204;
mod sl301;
mod sl401;
mod sl402;
mod sl403;
mod sl404;
mod sl501;
mod sl502;
mod sl503;

use std::sync::OnceLock;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::model::Model;
use crate::project::Project;

/// Which of the changes a rule's search is asked for: those the rule tells itself, or those it
/// leaves to an off-by-default rule for what more was proved of them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Told,
    /// Adds of futures whose done-callback takes them out again (SL109).
    KeptUntilDone,
    /// Functions whose every change of the object takes entries out of it (SL110).
    TakenOut,
}

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

    /// A finding of this rule, with the rule's severity; `Diagnostic`'s builder methods fill in
    /// the rest.
    pub fn diagnostic(&self, message: impl Into<String>, primary: Label) -> Diagnostic {
        Diagnostic {
            code: self.code,
            severity: self.severity,
            message: message.into(),
            primary,
            related: Vec::new(),
            note: String::new(),
            help: String::new(),
            identity: Vec::new(),
            object: None,
            via: Vec::new(),
        }
    }
}

/// Settings the rules read.
#[derive(Debug, Clone, Default)]
pub struct RuleSettings {
    /// Extra base classes (qualified names) that copy class-level defaults per instance.
    pub safe_bases: Vec<String>,
    /// Globs over qualified function names (`app.jobs.*`) that are request entry points besides
    /// the frameworks' (`--entry-point`).
    pub entry_points: Vec<String>,
}

pub struct Context<'a> {
    pub project: &'a Project,
    /// The shared objects, their flows and the changes that reach them.
    pub model: &'a Model,
    pub settings: &'a RuleSettings,
    /// What more than one rule reads, made by the first rule that asks.
    shared: Shared<'a>,
}

impl<'a> Context<'a> {
    pub fn new(project: &'a Project, model: &'a Model, settings: &'a RuleSettings) -> Self {
        Context {
            project,
            model,
            settings,
            shared: Shared::default(),
        }
    }
}

/// Tables of the rules that more than one rule reads: each is a function of the context alone,
/// so whichever rule makes it first makes the same table. A rule that finds a table not made
/// yet makes it itself and does not wait for another thread's (a rule runs on the pool, and may
/// itself be asked to run another rule while the pool works for it: waiting could be forever);
/// two rules that ask at once both make it and the first kept is used.
#[derive(Default)]
struct Shared<'a> {
    /// SL101's changes through instances (read by SL101, SL102, SL109 and SL111).
    instance_change_groups: OnceLock<sl101::InstanceChangeGroups<'a>>,
}

impl Shared<'_> {
    /// The table in `cell`, made by `make` when no rule has made it yet.
    fn get_or_make<T>(cell: &OnceLock<T>, make: impl FnOnce() -> T) -> &T {
        if let Some(table) = cell.get() {
            return table;
        }
        let made = make();
        // Another rule may have made it meanwhile: the same table, the first is kept.
        let _ = cell.set(made);
        cell.get().expect("set above or by another rule")
    }
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic>;
}

/// Every rule, in code order.
pub fn all() -> &'static [&'static dyn Rule] {
    &[
        &sl101::SharedClassStateMutatedThroughInstance,
        &sl102::ClassStateWrittenAtRunTime,
        &sl103::ClassAttributeResetFromOutside,
        &sl104::InstanceAttributeAliasesSharedObject,
        &sl105::DeclaredSharedStateWrittenPerCall,
        &sl106::ClassAttributeResetOutsideRequests,
        &sl107::ClassOptionSetByConstructor,
        &sl108::ClassAttributeSetAndRestored,
        &sl109::TaskKeptUntilDone,
        &sl110::EntriesTakenOutPerCall,
        &sl111::SharedStateChangedUnderLock,
        &sl112::RegistrationApiStore,
        &sl201::ModuleStateWrittenPerRequest,
        &sl202::ModuleStateAccumulates,
        &sl203::SingletonStateWrittenPerCall,
        &sl204::ClosureStateWrittenPerCall,
        &sl301::MutableDefaultMutated,
        &sl401::CachedMethod,
        &sl402::CacheKeyIncomplete,
        &sl403::CachedResultMutated,
        &sl404::CacheOverMutableGlobal,
        &sl501::ThreadingLocalInAsync,
        &sl502::MutableContextVarDefault,
        &sl503::ContextVarValueMutatedInPlace,
    ]
}

/// Where the rule documents are published (the repository's `docs/rules/`).
const DOCUMENTATION_BASE: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/rules/");

/// The address of a rule's documentation (of the folder of all rules for an empty code).
pub fn documentation_url(code: &str) -> String {
    if code.is_empty() {
        DOCUMENTATION_BASE.to_string()
    } else {
        format!("{DOCUMENTATION_BASE}{code}.md")
    }
}

pub fn by_code(code: &str) -> Option<&'static dyn Rule> {
    all()
        .iter()
        .copied()
        .find(|r| r.meta().code.eq_ignore_ascii_case(code))
}

/// The README's rule table, generated from the rules' metadata (a test keeps the README in step).
pub fn markdown_table() -> String {
    let mut table =
        String::from("| code | name | default | what it finds |\n| --- | --- | --- | --- |\n");
    for rule in all() {
        let meta = rule.meta();
        table.push_str(&format!(
            "| [{code}](docs/rules/{code}.md) | {} | {} | {} |\n",
            meta.name,
            if meta.enabled_by_default { "on" } else { "off" },
            meta.summary.replace('|', "\\|"),
            code = meta.code,
        ));
    }
    table
}
