//! The project link: joins the per-file facts into one program.
//!
//! It names modules from paths ([`modules`]), resolves names through imports across modules
//! ([`resolve`]) and builds the class hierarchy with method-resolution order ([`hierarchy`]).
//! Rules query a [`Project`]; they never see syntax.

pub mod callgraph;
pub mod entry_points;
mod hierarchy;
mod modules;
mod remap;
mod resolve;
mod test_code;
mod values;

#[cfg(test)]
mod relink_tests;

// Name lookups run for every call site of the project; Fx hashes short keys several times
// faster than SipHash, whose flooding resistance buys nothing here.
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::facts::{
    Binding, ByText, CallReceiver, ClassFacts, ClassIdx, FileFacts, FlowSource, FlowTarget,
    FuncIdx, FunctionFacts, Name, NameText, Root, Value,
};

use callgraph::Previous;
pub use callgraph::{CallGraph, Edge, EdgeKind, Node, OnceCause, export_edges};
pub use entry_points::EntryPoint;
pub use hierarchy::{Mro, MroEntry, MroMemo};
pub use remap::{CountsMentions, MentionCounts, Mentions, values_stay};
pub use resolve::Resolved;
pub use test_code::in_test_code;
pub use values::Edited;
pub use values::KeptValues;

/// What a link again may start from of the previous link's values of names
/// ([`Relinkable::link`]).
pub enum PreviousValues {
    /// Nothing: they are learnt from the flows.
    None,
    /// They stay: every changed file reads the same for the values stage as before
    /// ([`values_signature`]), or only adds or takes away definitions nothing uses
    /// ([`values_stay`]).
    Same(KeptValues),
    /// The changed files' value flows changed: the values are updated where the edit reaches, if
    /// every changed file has the same [`values_outline`] as before, or changed only import
    /// bindings that nothing but its own flows resolves through (`remap::rebound_names`); else
    /// they are learnt from the flows.
    Update(KeptValues),
}

/// What a link keeps of its values stage for the next link of the same files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing: a single run.
    Nothing,
    /// The values of names, for a next link that takes them as they are
    /// ([`PreviousValues::Same`]): the link cache, which stores no more.
    Values,
    /// The values and which flows read and wrote each slot (`values::incremental::FlowState`),
    /// for a next link that updates them for an edit of value flows
    /// ([`PreviousValues::Update`]): a long-lived caller (the language server). Only an update
    /// repays what recording them costs a build from nothing (BENCHMARKS.md, round 19).
    ValuesAndFlows,
}

/// Index of a file in [`Project::files`].
pub type FileId = u32;

/// A class anywhere in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassId(pub u32);

/// A function anywhere in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId(pub u32);

/// A file of a previous link, and the facts it had then.
pub type OldFacts = (FileId, Arc<FileFacts>);

/// One analysed Python file.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    /// Dotted module name (`remix.pattern`); `__init__.py` files are named after their package.
    pub module: Name,
    /// Further names the file is importable as (relative to a root given on the command line).
    pub aliases: Vec<Name>,
    pub is_package: bool,
    /// Shared, so that a long-lived caller (the language server) keeps unchanged files' facts
    /// between runs without copying them.
    pub facts: Arc<FileFacts>,
}

#[derive(Debug)]
pub struct Project {
    pub files: Vec<SourceFile>,
    /// Module name to file; a file may be known under more than one name (see [`modules`]).
    modules: HashMap<Name, FileId>,
    /// Top-level names of each module.
    scopes: Vec<HashMap<Name, resolve::Symbol>>,
    classes: Vec<(FileId, ClassIdx)>,
    class_base: Vec<u32>,
    functions: Vec<(FileId, FuncIdx)>,
    function_base: Vec<u32>,
    hierarchy: hierarchy::Hierarchy,
    /// Per class with many class-level bindings: each name's last binding (built on first use),
    /// so that looking attributes up costs no scan of thousands of bindings.
    class_attributes: Vec<std::sync::OnceLock<HashMap<Name, u32>>>,
    /// [`Project::lookup_class_attribute`]'s answers: the class and the binding's index.
    class_attribute_lookups: MroMemo<u32>,
    /// [`Project::lookup_method`]'s answers. Like the other memos they live as long as the link:
    /// an edit that keeps the link keeps every function's name and class (both in
    /// [`link_signature`]) and so every answer.
    method_lookups: MroMemo<FuncId>,
    calls: CallGraph,
    /// Resolutions of qualified names by hops taken (see `resolve::resolve_qualified`); valid once
    /// the scopes are built, and shared by the threads that build the call graph.
    qualified_resolutions: Mutex<Vec<HashMap<Name, resolve::Resolved>>>,
    /// Per file, what names resolve to at module level (see `resolve::resolve_name`); valid once
    /// the scopes are built.
    module_resolutions: Vec<Mutex<HashMap<Name, resolve::Resolved>>>,
    /// What each file's imports name, made absolute once.
    import_targets: Vec<resolve::ImportTargets>,
    /// Which names of each module lookups from outside it asked for, recorded only for a link
    /// that will be updated ([`Keep::ValuesAndFlows`]).
    scope_reads: Option<resolve::ScopeReads>,
    /// Which files mention each identifier, once an edit asked ([`Project::mentions`]); kept
    /// across links again.
    mentions: Option<remap::Mentions>,
    /// How long each step of the link took (see [`Project::link_times`]).
    link_times: Vec<(&'static str, std::time::Duration)>,
}

/// A linked project taken apart ([`Project::into_relinkable`]) for the next link of the same
/// files, in which only some files' facts differ ([`Relinkable::replace_facts`]): the same paths
/// and roots, and nothing else changed on disk (the language server's edits of open buffers). It
/// keeps what depends only on those: each file's module names, and what is worked out of each
/// unchanged file alone (its import targets and module scope: they read its own facts and names
/// only); and the call graph, for a link that keeps the values of names.
pub struct Relinkable {
    files: Vec<SourceFile>,
    of_each_file: OfEachFile,
    call_graph: CallGraph,
    changed: Vec<FileId>,
    /// Per file in `changed`: its facts in the kept link.
    old_facts: Vec<OldFacts>,
}

/// What the link works out of each file's own facts and names alone.
struct OfEachFile {
    import_targets: Vec<resolve::ImportTargets>,
    scopes: Vec<HashMap<Name, resolve::Symbol>>,
    /// Not of each file alone: what the links so far looked up across modules, for the next
    /// (see [`resolve::ScopeReads`]).
    scope_reads: Option<resolve::ScopeReads>,
    /// Not of each file alone either: which files mention each identifier, once built (see
    /// [`Mentions`]).
    mentions: Option<Mentions>,
}

/// `of_file` for every file, in parallel; with `kept` (a previous link's, valid for every file
/// but the ones listed), for the listed files only.
fn per_file<T: Send>(
    project: &Project,
    kept: Option<(Vec<T>, &[FileId])>,
    of_file: impl Fn(&Project, FileId) -> T + Sync,
) -> Vec<T> {
    match kept {
        Some((mut kept, changed)) => {
            for &file in changed {
                kept[file as usize] = of_file(project, file);
            }
            kept
        }
        None => (0..project.files.len() as FileId)
            .into_par_iter()
            .map(|file| of_file(project, file))
            .collect(),
    }
}

impl Relinkable {
    /// Gives `file` other facts.
    pub fn replace_facts(&mut self, file: FileId, facts: Arc<FileFacts>) {
        let old = std::mem::replace(&mut self.files[file as usize].facts, facts);
        if let Some(index) = &mut self.of_each_file.mentions {
            index.replace(file, &old, &self.files[file as usize].facts);
        }
        if !self.changed.contains(&file) {
            self.old_facts.push((file, old));
            self.changed.push(file);
        }
    }

    /// Links again, like [`Project::link_keeping_values`] with the same paths, roots and entry
    /// points. With `values` (the previous link's), the values are not learnt again and unchanged
    /// files' edges are not resolved again (both renumbered when files gained or lost classes or
    /// functions): give them only when every file whose facts were replaced has the same
    /// [`values_signature`] as before, or only adds or takes away definitions nothing uses
    /// ([`values_stay`]).
    pub fn link(self, entry_points: &[String], values: PreviousValues) -> (Project, KeptValues) {
        let Relinkable {
            files,
            mut of_each_file,
            call_graph,
            changed,
            old_facts,
        } = self;
        let mut changed_or_read = changed.clone();
        let (values, edited) = match values {
            PreviousValues::Same(values) => (Some(values), None),
            PreviousValues::Update(values) => {
                match edited_files(&files, &mut of_each_file, &old_facts) {
                    Some((edited, readers)) => {
                        changed_or_read.extend(readers);
                        (Some(values), Some(edited))
                    }
                    None => (None, None),
                }
            }
            PreviousValues::None => (None, None),
        };
        let previous = match values {
            Some(values) => Some(Previous {
                values,
                call_graph,
                changed: changed_or_read,
                edited,
                old_facts: old_facts.clone(),
            }),
            None => {
                drop(call_graph);
                None
            }
        };
        let (project, values) = Project::link_named(
            files,
            Some((of_each_file, &changed)),
            entry_points,
            previous,
            Keep::ValuesAndFlows,
        );
        (project, values.unwrap_or_default())
    }
}

/// What an update of the values for the edit of the files `old_facts` names (see [`Edited`]):
/// each changed file keeps its outline, or binds otherwise only names that nothing but its own
/// flows resolves through, or that some other files may resolve otherwise (`remap::rebound_names`).
/// Those files (`remap::readers`) are listed as edited too, with their facts unchanged and their
/// flows that name such a name taken as changed, and returned apart: their call edges are
/// resolved again. `None` when the values must be learnt from the flows.
fn edited_files(
    files: &[SourceFile],
    of_each_file: &mut OfEachFile,
    old_facts: &[OldFacts],
) -> Option<(Vec<Edited>, Vec<FileId>)> {
    let mut read = Vec::new();
    let mut edited: Vec<Edited> = old_facts
        .iter()
        .map(|(file, old)| {
            let new = &files[*file as usize].facts;
            let rebound = if values_outline(old) == values_outline(new) {
                Vec::new()
            } else {
                let rebound =
                    remap::rebound_names((*file, old, new), of_each_file.scope_reads.as_ref())?;
                read.extend(rebound.read);
                rebound.names
            };
            Some(Edited {
                file: *file,
                old: Arc::clone(old),
                rebound,
            })
        })
        .collect::<Option<_>>()?;
    if read.is_empty() {
        return Some((edited, Vec::new()));
    }
    let index = of_each_file
        .mentions
        .get_or_insert_with(|| Mentions::of(files));
    let (readers, names) = remap::readers(files, index, &read)?;
    let mut others = Vec::new();
    for &file in &readers {
        match edited.iter_mut().find(|e| e.file == file) {
            Some(e) => {
                e.rebound.extend_from_slice(&names);
                e.rebound.sort_unstable();
                e.rebound.dedup();
            }
            None => others.push(file),
        }
    }
    edited.extend(others.iter().map(|&file| Edited {
        file,
        old: Arc::clone(&files[file as usize].facts),
        rebound: names.clone(),
    }));
    Some((edited, others))
}

/// One file's input to the link.
pub struct LinkInput {
    pub path: PathBuf,
    pub facts: Arc<FileFacts>,
}

impl Project {
    /// Links the facts of every file. `roots` are the paths given on the command line (and
    /// configured source roots): each is also a root for module names.
    pub fn link(inputs: Vec<LinkInput>, roots: &[PathBuf]) -> Project {
        Project::link_with_entry_points(inputs, roots, &[])
    }

    /// Links like [`Project::link`]; functions whose qualified name (`module.Class.method`)
    /// matches one of `entry_points` (globs) are request entry points besides the frameworks'.
    pub fn link_with_entry_points(
        inputs: Vec<LinkInput>,
        roots: &[PathBuf],
        entry_points: &[String],
    ) -> Project {
        Project::link_all(inputs, roots, entry_points, None, Keep::Nothing).0
    }

    /// Links like [`Project::link_with_entry_points`], and returns what the values of names
    /// were found to be, for the next link of the same files ([`Relinkable::link`]), with what
    /// an update of them needs ([`Keep::ValuesAndFlows`]).
    pub fn link_keeping_values(
        inputs: Vec<LinkInput>,
        roots: &[PathBuf],
        entry_points: &[String],
    ) -> (Project, KeptValues) {
        Project::link_from(inputs, roots, entry_points, None, Keep::ValuesAndFlows)
    }

    /// Links like [`Project::link_keeping_values`], starting from `previous` when given: the
    /// values and graph of a link of the same paths, roots and entry points in which only the
    /// files `previous.changed` had other facts, each with the same [`values_signature`] then as
    /// now (as [`Relinkable::link`] asks; the link the cache keeps, `crate::link_cache`). `keep`
    /// says what the values returned hold (nothing with [`Keep::Nothing`]).
    pub fn link_from(
        inputs: Vec<LinkInput>,
        roots: &[PathBuf],
        entry_points: &[String],
        previous: Option<Previous>,
        keep: Keep,
    ) -> (Project, KeptValues) {
        let (project, values) = Project::link_all(inputs, roots, entry_points, previous, keep);
        (project, values.unwrap_or_default())
    }

    /// Which files' link facts mention each identifier ([`Mentions`]), as of the current facts:
    /// built on the first call, then kept across links again.
    pub fn mentions(&mut self) -> &Mentions {
        self.mentions
            .get_or_insert_with(|| Mentions::of(&self.files))
    }

    /// The project taken apart for the next link of the same files (see [`Relinkable`]), the
    /// rest freed.
    pub fn into_relinkable(self) -> Relinkable {
        Relinkable {
            files: self.files,
            of_each_file: OfEachFile {
                import_targets: self.import_targets,
                scopes: self.scopes,
                scope_reads: self.scope_reads,
                mentions: self.mentions,
            },
            call_graph: self.calls,
            changed: Vec::new(),
            old_facts: Vec::new(),
        }
    }

    fn link_all(
        inputs: Vec<LinkInput>,
        roots: &[PathBuf],
        entry_points: &[String],
        previous: Option<Previous>,
        keep: Keep,
    ) -> (Project, Option<KeptValues>) {
        let packages = modules::Packages::of(inputs.iter().map(|input| input.path.as_path()));
        let files = inputs
            .into_par_iter()
            .map(|input| {
                let naming = modules::module_names(&input.path, roots, &packages);
                SourceFile {
                    path: input.path,
                    module: naming.module,
                    aliases: naming.aliases,
                    is_package: naming.is_package,
                    facts: input.facts,
                }
            })
            .collect();
        Project::link_named(files, None, entry_points, previous, keep)
    }

    /// Links files already named. `kept` is what a previous link worked out of each file alone,
    /// valid for every file but the ones listed, and how many classes and functions those had
    /// (see [`Relinkable`]).
    fn link_named(
        files: Vec<SourceFile>,
        kept: Option<(OfEachFile, &[FileId])>,
        entry_points: &[String],
        previous: Option<Previous>,
        keep: Keep,
    ) -> (Project, Option<KeptValues>) {
        let mut modules = HashMap::default();
        for (id, file) in files.iter().enumerate() {
            for alias in &file.aliases {
                modules.entry(*alias).or_insert(id as FileId);
            }
            // The name from package structure wins over a root-relative alias of another file.
            modules.insert(file.module, id as FileId);
        }

        let mut classes = Vec::new();
        let mut class_base = Vec::with_capacity(files.len());
        let mut functions = Vec::new();
        let mut function_base = Vec::with_capacity(files.len());
        for (id, file) in files.iter().enumerate() {
            class_base.push(classes.len() as u32);
            function_base.push(functions.len() as u32);
            classes.extend((0..file.facts.classes.len() as u32).map(|c| (id as FileId, c)));
            functions.extend((0..file.facts.functions.len() as u32).map(|f| (id as FileId, f)));
        }

        let class_count = classes.len();
        let mut project = Project {
            scopes: Vec::new(),
            files,
            modules,
            classes,
            class_base,
            functions,
            function_base,
            hierarchy: hierarchy::Hierarchy::default(),
            class_attributes: (0..class_count)
                .map(|_| std::sync::OnceLock::new())
                .collect(),
            class_attribute_lookups: MroMemo::new(class_count),
            method_lookups: MroMemo::new(class_count),
            calls: CallGraph::default(),
            qualified_resolutions: Mutex::default(),
            module_resolutions: Vec::new(),
            import_targets: Vec::new(),
            scope_reads: None,
            mentions: None,
            link_times: Vec::new(),
        };
        let (kept_import_targets, kept_scopes, kept_reads) = match kept {
            Some((kept, changed)) => {
                project.mentions = kept.mentions;
                (
                    Some((kept.import_targets, changed)),
                    Some((kept.scopes, changed)),
                    kept.scope_reads,
                )
            }
            None => (None, None, None),
        };
        let started = std::time::Instant::now();
        // The previous link's values and graph in this link's ids; none (the values learnt
        // again) if a removed definition was held after all.
        let ids = previous
            .as_ref()
            .and_then(|previous| remap::IdRemap::new(&project.files, &previous.old_facts));
        let previous = match (previous, ids) {
            // An update keeps the ids: the changed files' definitions are the same.
            (Some(previous), Some(_)) if previous.edited.is_some() => None,
            (Some(previous), Some(ids)) => {
                previous
                    .values
                    .renumbered(&project, &ids)
                    .map(|values| Previous {
                        values,
                        call_graph: previous
                            .call_graph
                            .renumbered(project.functions.len() as u32, &ids),
                        changed: previous.changed,
                        edited: None,
                        old_facts: Vec::new(),
                    })
            }
            (previous, _) => previous,
        };
        // A link that learns the values from nothing resolves every file's flows and edges, and
        // records every lookup across modules they make; a link that keeps or updates values
        // adds to the records of the links before it, or knows them incomplete.
        if keep == Keep::ValuesAndFlows {
            project.scope_reads = Some(match kept_reads {
                Some(reads) if previous.is_some() => reads,
                _ => resolve::ScopeReads::new(project.files.len(), previous.is_none()),
            });
        }
        project
            .link_times
            .push(("link/renumber", started.elapsed()));
        crate::stage_marks::end_of_stage("link/renumber");
        let started = std::time::Instant::now();
        project.import_targets = per_file(&project, kept_import_targets, resolve::import_targets);
        project.scopes = per_file(&project, kept_scopes, resolve::module_scope);
        // Anything resolved while the scopes were incomplete is forgotten.
        project.qualified_resolutions = Mutex::default();
        project.module_resolutions = (0..project.files.len()).map(|_| Mutex::default()).collect();
        project.link_times.push(("link/scopes", started.elapsed()));
        crate::stage_marks::end_of_stage("link/scopes");
        let started = std::time::Instant::now();
        project.hierarchy = hierarchy::Hierarchy::build(&project);
        project
            .link_times
            .push(("link/hierarchy", started.elapsed()));
        crate::stage_marks::end_of_stage("link/hierarchy");
        let (mut calls, values) = CallGraph::build(&project, entry_points, previous, keep);
        project.link_times.append(&mut calls.build_times);
        project.calls = calls;
        (project, values)
    }

    /// The memo of [`resolve::resolve_qualified`]. A panic elsewhere while it was held leaves it
    /// as consistent as before (entries are inserted whole), so poisoning is ignored.
    fn qualified_resolutions(
        &self,
    ) -> std::sync::MutexGuard<'_, Vec<HashMap<Name, resolve::Resolved>>> {
        self.qualified_resolutions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The memo of [`resolve::resolve_name`] for `file`; poisoning is ignored as for
    /// [`Project::qualified_resolutions`].
    fn module_resolutions(
        &self,
        file: FileId,
    ) -> std::sync::MutexGuard<'_, HashMap<Name, resolve::Resolved>> {
        self.module_resolutions[file as usize]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How long each step of the link took, in order: renumbering what a link again keeps, the
    /// module scopes, the hierarchy, the values of names, the call edges, the entry points and
    /// what they reach.
    pub fn link_times(&self) -> &[(&'static str, std::time::Duration)] {
        &self.link_times
    }

    /// The call graph, with the request entry points and what they reach.
    pub fn call_graph(&self) -> &CallGraph {
        &self.calls
    }

    /// The innermost function whose definition contains byte `offset` of `file`.
    pub fn function_at(&self, file: FileId, offset: u32) -> Option<FuncIdx> {
        let facts = &self.files[file as usize].facts;
        facts
            .function_ranges
            .iter()
            .enumerate()
            .filter(|(_, range)| range.start <= offset && offset < range.end)
            .max_by_key(|(_, range)| range.start)
            .map(|(i, _)| i as FuncIdx)
    }

    /// A shortest chain of calls from a request entry point to code in `function` of `file`: to
    /// the function itself or, when it is not called by name, to the nearest function around it
    /// (a closure may be called by whoever the function around it hands it to). A nested
    /// function that is only handed over ([`Project::only_handed_over`]) runs where what
    /// received it calls it, so its own edges decide.
    pub fn request_path(&self, file: FileId, function: FuncIdx) -> Option<Vec<FuncId>> {
        let functions = &self.files[file as usize].facts.functions;
        let mut current = Some(function);
        while let Some(f) = current {
            if let Some(path) = self.calls.request_path(self.function_id(file, f)) {
                return Some(path);
            }
            if self.only_handed_over(file, f) {
                return None;
            }
            current = functions.get(f as usize)?.parent;
        }
        None
    }

    /// Whether the nested `function` of `file` is used only as an argument, and the function
    /// around it hands it over ([`callgraph::EdgeKind::HandedOver`]) rather than to something
    /// that may run it: it is not decorated, not returned, not bound to another name, stored in
    /// an attribute or passed anywhere else (each of those may get it called on behalf of the
    /// function around it). Uses are matched by name, so a like-named local elsewhere in the
    /// file only makes this answer no.
    fn only_handed_over(&self, file: FileId, function: FuncIdx) -> bool {
        let facts = &self.files[file as usize].facts;
        let Some(nested) = facts.functions.get(function as usize) else {
            return false;
        };
        let Some(parent) = nested.parent else {
            return false;
        };
        let id = self.function_id(file, function);
        let handed_over = self
            .calls
            .callees(self.function_id(file, parent))
            .iter()
            .any(|edge| edge.to == id && edge.kind == callgraph::EdgeKind::HandedOver);
        handed_over
            && self.nested_function_only_passed(file, function, |_| true)
            && !facts.calls.iter().any(|call| {
                call.receiver() == CallReceiver::Local
                    && !call.reference()
                    && call.callee == nested.name
            })
    }

    /// Whether the nested `function` of `file` runs at most once for each call of the function
    /// around it: that function returns it and it leaves its scope in no other way (it is not
    /// decorated, called, bound to another name, passed or stored there), and every use of that
    /// function calls the result at once ([`CallGraph::results_called_at_once`]:
    /// `@factory(...)` on a definition, `factory(...)(f)`). So what one call of the function
    /// around it creates meets one call of this one, and nothing carries from one call to the
    /// next. Uses are matched by name, so a like-named local elsewhere in the file only makes
    /// this answer no.
    pub fn called_once_per_parent_call(&self, file: FileId, function: FuncIdx) -> bool {
        let facts = &self.files[file as usize].facts;
        let Some(nested) = facts.functions.get(function as usize) else {
            return false;
        };
        let Some(parent) = nested.parent else {
            return false;
        };
        let names_it = |root: &Root| *root == Root::Local(nested.name);
        nested.decorators.is_empty()
            && facts.functions.iter().enumerate().all(|(index, f)| {
                f.returned_names.contains(&nested.name) == (index == parent as usize)
            })
            && facts.flows.iter().all(|flow| match &flow.source() {
                FlowSource::Name { receiver, name } => {
                    *receiver != CallReceiver::Local
                        || *name != nested.name
                        || (matches!(flow.target(), FlowTarget::Return)
                            && flow.function() == Some(parent))
                }
                FlowSource::CallResult(_) => true,
            })
            && !facts
                .attribute_assignments
                .iter()
                .any(|a| matches!(&a.value, Value::Alias(path) if names_it(&path.root)))
            && !facts
                .calls
                .iter()
                .any(|call| call.receiver() == CallReceiver::Local && call.callee == nested.name)
            && self
                .calls
                .results_called_at_once(self.function_id(file, parent))
    }

    /// Whether the nested `function` of `file` leaves its scope, if at all, only as an argument
    /// of calls (given by index in the file's call sites) that `passed_to` accepts: it is not
    /// decorated, not returned, not bound to another name and not stored in an attribute. Calls
    /// of it are the caller's to judge. Uses are matched by name, so a like-named local elsewhere
    /// in the file only makes this answer no.
    pub fn nested_function_only_passed(
        &self,
        file: FileId,
        function: FuncIdx,
        passed_to: impl Fn(u32) -> bool,
    ) -> bool {
        let facts = &self.files[file as usize].facts;
        let Some(nested) = facts.functions.get(function as usize) else {
            return false;
        };
        let names_it = |root: &Root| *root == Root::Local(nested.name);
        nested.parent.is_some()
            && nested.decorators.is_empty()
            && !facts
                .functions
                .iter()
                .any(|f| f.returned_names.contains(&nested.name))
            && facts.flows.iter().all(|flow| match &flow.source() {
                FlowSource::Name { receiver, name } => {
                    *receiver != CallReceiver::Local
                        || *name != nested.name
                        || flow
                            .target()
                            .argument()
                            .is_some_and(|(call, _)| passed_to(call))
                }
                FlowSource::CallResult(_) => true,
            })
            && !facts
                .attribute_assignments
                .iter()
                .any(|a| matches!(&a.value, Value::Alias(path) if names_it(&path.root)))
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id as usize]
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.files[id as usize].path
    }

    pub fn module_file(&self, module: &str) -> Option<FileId> {
        self.modules.get_text(module).copied()
    }

    pub fn class_id(&self, file: FileId, class: ClassIdx) -> ClassId {
        ClassId(self.class_base[file as usize] + class)
    }

    pub fn function_id(&self, file: FileId, function: FuncIdx) -> FuncId {
        FuncId(self.function_base[file as usize] + function)
    }

    pub fn class(&self, id: ClassId) -> (FileId, &ClassFacts) {
        let (file, idx) = self.classes[id.0 as usize];
        (file, &self.files[file as usize].facts.classes[idx as usize])
    }

    /// How many functions the project has ([`FuncId`]s are `0..function_count()`).
    pub fn function_count(&self) -> usize {
        self.functions.len()
    }

    /// The file of function `id` and its index among that file's functions.
    pub fn function_in_file(&self, id: FuncId) -> (FileId, FuncIdx) {
        self.functions[id.0 as usize]
    }

    pub fn function(&self, id: FuncId) -> (FileId, &FunctionFacts) {
        let (file, idx) = self.functions[id.0 as usize];
        (
            file,
            &self.files[file as usize].facts.functions[idx as usize],
        )
    }

    pub fn class_ids(&self) -> impl Iterator<Item = ClassId> + '_ {
        (0..self.classes.len() as u32).map(ClassId)
    }

    /// The class whose method `function` is, looking out through nested functions.
    pub fn method_class(&self, file: FileId, function: FuncIdx) -> Option<ClassId> {
        let functions = &self.files[file as usize].facts.functions;
        let mut current = &functions[function as usize];
        loop {
            if let Some(class) = current.class {
                return Some(self.class_id(file, class));
            }
            current = &functions[current.parent? as usize];
        }
    }

    /// Whether `class` has a classmethod, where `cls(...)` may build an instance (the extractor
    /// records no call of a bare `cls`).
    pub fn has_class_method(&self, class: ClassId) -> bool {
        let (file, _) = self.class(class);
        let functions = &self.files[file as usize].facts.functions;
        (0..functions.len() as FuncIdx).any(|f| {
            functions[f as usize].kind == crate::facts::FunctionKind::ClassMethod
                && self.method_class(file, f) == Some(class)
        })
    }

    /// The outermost method or function enclosing `function` (itself when not nested).
    pub fn outermost_function(&self, file: FileId, function: FuncIdx) -> FuncIdx {
        let functions = &self.files[file as usize].facts.functions;
        let mut current = function;
        while let Some(parent) = functions[current as usize].parent {
            current = parent;
        }
        current
    }

    /// Resolves a dotted name as written in `file` (inside `function`, when given).
    pub fn resolve(
        &self,
        file: FileId,
        function: Option<FuncIdx>,
        dotted: &(impl NameText + ?Sized),
    ) -> Resolved {
        resolve::resolve_name(self, file, function, dotted)
    }

    /// Whether some file of the tree may write the namespace of module `file` by a name it
    /// computes (`setattr(mod, name, v)`, `vars(mod)`, `mod.__dict__`): an imported name whose
    /// namespace it so writes is that module, or something the analysis cannot tell apart from
    /// it. A name that resolves to another module of the tree, or to one outside it, is not.
    pub fn namespace_may_be_written(&self, file: FileId) -> bool {
        self.files.iter().enumerate().any(|(other, source)| {
            source.facts.namespace_writes.iter().any(|name| {
                match self.resolve(other as FileId, None, name) {
                    Resolved::Module(module) => module == file,
                    Resolved::External(_) => false,
                    _ => true,
                }
            })
        })
    }

    /// Whether the module `file` binds `name` only by module-level `name = value` statements
    /// (what its `globals` record) and by stores of the running event loop
    /// ([`crate::facts::FileFacts::running_loop_stores`], which this does not look at): no other
    /// form of binding in the file (see [`crate::facts::FileFacts::other_rebinds`]), no star
    /// import that may bring the name, no file of the tree that sets or deletes an attribute of
    /// that name on an object it names (`config.Base = Plain`, `setattr(config, "Base",
    /// Plain)`), and none that does so on a dotted path naming this module (`app.config.Base =
    /// Plain` after `import app.config`). Code that reaches the module through `sys.modules`, or
    /// calls `setattr` with a name it computes, is not seen.
    pub fn bound_only_by_globals_or_running_loops(&self, file: FileId, name: &Name) -> bool {
        let others = &self.file(file).facts.other_rebinds;
        !(others.first().is_some_and(|first| first == "*") || others.binary_search(name).is_ok())
            && self.attribute_bound_nowhere(file, name)
    }

    /// What [`Project::bound_only_by_globals_or_running_loops`] asks besides the module's own
    /// other rebinds: no star import in it, and no file of the tree setting or deleting an
    /// attribute `name` on an object it names or on a dotted path naming the module.
    pub fn attribute_bound_nowhere(&self, file: FileId, name: &Name) -> bool {
        let facts = &self.file(file).facts;
        !facts.imports.iter().any(|import| import.is_star())
            && !self.files.iter().enumerate().any(|(other, source)| {
                source.facts.attribute_rebinds.binary_search(name).is_ok()
                    || source
                        .facts
                        .module_path_attribute_rebinds
                        .iter()
                        .any(|dotted| {
                            self.sets_attribute_of_module(other as FileId, dotted, file, name)
                        })
            })
    }

    /// Whether `dotted` (`a.b.attr`, set or deleted in `other`) is attribute `name` of the module
    /// `module`: its path resolves there at module level, or its head is imported inside some
    /// function of `other`, where the path may mean that module.
    pub fn sets_attribute_of_module(
        &self,
        other: FileId,
        dotted: &Name,
        module: FileId,
        name: &Name,
    ) -> bool {
        let Some((path, attr)) = dotted.rsplit_once('.') else {
            return false;
        };
        attr == name.as_str()
            && (self.resolve(other, None, path) == Resolved::Module(module)
                || path
                    .split_once('.')
                    .is_some_and(|(head, _)| self.imported_in_a_function(other, head)))
    }

    /// Whether an import inside some function of `file` binds `head`: only then may a name that
    /// starts with `head` mean something else in a function than at module level
    /// ([`Project::resolve`]).
    pub fn imported_in_a_function(&self, file: FileId, head: &str) -> bool {
        self.import_targets[file as usize].imported_in_a_function(head)
    }

    /// Whether `dotted`, written in `function` of `file`, resolves as it does at module level
    /// (no import inside the function or a function around it binds its head): then
    /// [`Project::resolve`] gives the same answer for it in every such scope of the file.
    pub fn resolves_at_module_level(
        &self,
        file: FileId,
        function: Option<FuncIdx>,
        dotted: &(impl NameText + ?Sized),
    ) -> bool {
        resolve::resolves_at_module_level(self, file, function, dotted)
    }

    /// What the fully qualified `qualified` names: a class of the tree when a module of the tree
    /// defines it (or re-exports it), else something outside the tree.
    pub fn resolve_qualified(&self, qualified: &str) -> Resolved {
        resolve::resolve_qualified(self, qualified, 0)
    }

    /// Whether `dotted`, written in `file`, names one of the fully qualified `names`.
    pub fn resolves_to_any(
        &self,
        file: FileId,
        function: Option<FuncIdx>,
        dotted: &str,
        names: &[&str],
    ) -> bool {
        match self.resolve(file, function, dotted) {
            Resolved::External(q) => names.contains(&q.as_str()),
            _ => false,
        }
    }

    /// The method-resolution order of `class`, starting with the class itself.
    pub fn mro(&self, class: ClassId) -> Mro<'_> {
        self.hierarchy.mro(class)
    }

    /// Every class that has `class` in its MRO, `class` excluded, in id order.
    pub fn descendants(&self, class: ClassId) -> &[ClassId] {
        self.hierarchy.descendants(class)
    }

    /// Whether `ancestor` is in the MRO of `class` (`class` itself included).
    pub fn in_mro(&self, class: ClassId, ancestor: ClassId) -> bool {
        self.hierarchy.in_mro(class, ancestor)
    }

    /// The bases outside the analysed tree in the MRO of `class`, in MRO order.
    pub fn external_bases(&self, class: ClassId) -> &[Name] {
        self.hierarchy.externals(class)
    }

    /// Whether the MRO of `class` contains one of the external classes `names`.
    pub fn inherits_external(&self, class: ClassId, names: &[&str]) -> bool {
        self.external_bases(class)
            .iter()
            .any(|q| names.contains(&q.as_str()))
    }

    /// A memo for [`Project::find_in_mro`], sized for this project's classes.
    pub fn mro_memo<V: Copy>(&self) -> MroMemo<V> {
        MroMemo::new(self.classes.len())
    }

    /// The first project class of the MRO of `class` for which `test` gives a value, and that
    /// value; answers are memoised in `memo` under `name`, so `test` must depend on the class and
    /// `name` alone, and one memo serves one kind of test.
    pub fn find_in_mro<V: Copy>(
        &self,
        memo: &MroMemo<V>,
        class: ClassId,
        name: &(impl NameText + ?Sized),
        test: impl FnMut(ClassId) -> Option<V>,
    ) -> Option<(ClassId, V)> {
        self.hierarchy.find(memo, class, name, test)
    }

    /// The last class-level binding of `name` in the body of `class` itself.
    pub fn class_attribute(&self, class: ClassId, name: &str) -> Option<&Binding> {
        let bindings = &self.class(class).1.bindings;
        self.class_attribute_index(class, name)
            .map(|i| &bindings[i as usize])
    }

    fn class_attribute_index(&self, class: ClassId, name: &str) -> Option<u32> {
        /// Below this many bindings a scan is cheaper than building an index.
        const SCANNED: usize = 32;
        let bindings = &self.class(class).1.bindings;
        if bindings.len() <= SCANNED {
            return bindings
                .iter()
                .rposition(|b| b.name == name)
                .map(|i| i as u32);
        }
        let index = self.class_attributes[class.0 as usize].get_or_init(|| {
            let mut index = HashMap::default();
            for (i, binding) in bindings.iter().enumerate() {
                index.insert(binding.name, i as u32);
            }
            index
        });
        index.get_text(name).copied()
    }

    /// Finds the class-level binding `name` that an instance of `class` sees: the last binding of
    /// that name in the first class of the MRO that has one.
    pub fn lookup_class_attribute(
        &self,
        class: ClassId,
        name: &str,
    ) -> Option<(ClassId, &Binding)> {
        let (defining, index) =
            self.find_in_mro(&self.class_attribute_lookups, class, name, |c| {
                self.class_attribute_index(c, name)
            })?;
        Some((defining, &self.class(defining).1.bindings[index as usize]))
    }

    /// The method `name` (any kind) that an instance of `class` finds: the last function of that
    /// name that the body of the first class of its MRO, among the classes of the tree, defining
    /// one defines. The one place methods are looked up (the call graph, the model and the
    /// rules ask it).
    pub fn lookup_method(&self, class: ClassId, name: &(impl NameText + ?Sized)) -> Option<FuncId> {
        // Methods' names are interned: a text never interned names none of them, and the
        // methods of each class passed are compared by name, not by text.
        let name = name.interned()?;
        let (_, function) = self.find_in_mro(&self.method_lookups, class, &name, |c| {
            self.own_method(c, &name)
        })?;
        Some(function)
    }

    /// The methods `class`'s own body defines (not nested in another function), in source order.
    pub fn own_methods(&self, class: ClassId) -> impl Iterator<Item = FuncId> + '_ {
        let (file, facts, functions) = self.class_functions(class);
        functions
            .iter()
            .filter(|&&f| facts.functions[f as usize].parent.is_none())
            .map(move |&f| self.function_id(file, f))
    }

    /// The method `name` that the body of `class` itself defines, not one of its bases: the
    /// last function of that name there, as Python keeps the last.
    pub fn own_method(&self, class: ClassId, name: &Name) -> Option<FuncId> {
        let (file, facts, functions) = self.class_functions(class);
        functions
            .iter()
            .rev()
            .find(|&&f| facts.functions[f as usize].name == *name)
            .map(|&f| self.function_id(file, f))
    }

    /// The file of `class`, its facts, and the functions whose class there is `class`.
    fn class_functions(&self, class: ClassId) -> (FileId, &FileFacts, &[FuncIdx]) {
        let file = self.classes[class.0 as usize].0;
        let index = class.0 - self.class_base[file as usize];
        let facts = &self.files[file as usize].facts;
        (file, facts, facts.class_methods().of_class(index))
    }
}

/// `dotted` split at its first dot (`a.b.c`: `a`, `b.c`). Names as written are short and split
/// for every flow and call site the link visits: a byte loop finds the dot in a fraction of the
/// general pattern search's instructions.
fn split_first_dot(dotted: &str) -> Option<(&str, &str)> {
    let dot = dotted.bytes().position(|b| b == b'.')?;
    Some((&dotted[..dot], &dotted[dot + 1..]))
}

/// `dotted` split at its last dot (`a.b.c`: `a.b`, `c`), like [`split_first_dot`].
fn split_last_dot(dotted: &str) -> Option<(&str, &str)> {
    let dot = dotted.bytes().rposition(|b| b == b'.')?;
    Some((&dotted[..dot], &dotted[dot + 1..]))
}

thread_local! {
    /// [`split_name`]'s answers on this thread, by dotted name and which dot.
    static NAME_PIECES: RefCell<HashMap<(Name, bool), (Name, Name)>> = RefCell::default();
}

/// A dotted name split at its first dot (`last`: at its last), the pieces interned: the link
/// looks them up in tables keyed by names, which is cheap for a name and costs hashing and
/// comparing text (and the interner's lock) for a piece of text, again at every visit. The
/// pieces of each dotted name are interned once per thread, and kept with the interned text for
/// the life of the process (like it, they are few next to the facts).
fn split_name(name: Name, last: bool) -> Option<(Name, Name)> {
    let split = if last {
        split_last_dot(&name)
    } else {
        split_first_dot(&name)
    };
    // Plain names, most of them, need no table.
    let (before, after) = split?;
    Some(NAME_PIECES.with_borrow_mut(|pieces| {
        *pieces
            .entry((name, last))
            .or_insert_with(|| (Name::from(before), Name::from(after)))
    }))
}

/// What the link reads of one file, without the positions it does not depend on: two texts
/// whose facts have the same signature link to the same project (the same ids, hierarchy, call
/// graph and values), so an edit that keeps it can swap the file's facts into the linked project
/// instead of linking again (the language server does). The link reads a file's imports, module
/// bindings, classes, functions, call sites, value flows and attribute assignments, which call
/// sites are in a lambda their function returns or in a module-level lambda or generator, and of
/// the positions only which call sites lie in a script block (`callgraph.rs`). A link stage that starts reading anything else of a
/// file's facts must add it here.
pub fn link_signature(facts: &FileFacts) -> u128 {
    let mut read = Read::of(
        facts,
        &facts.calls,
        &facts.flows,
        facts
            .calls
            .iter()
            .map(|site| facts.in_script_block(site.span.start))
            .collect(),
    );
    read.returned_lambda_calls = &facts.returned_lambda_calls;
    read.deferred_module_calls = &facts.deferred_module_calls;
    signature(&read)
}

/// What the values stage of the link (`values.rs`) reads of one file: what [`link_signature`]
/// covers except the call sites no value flow goes into or comes out of, and where call sites
/// lie. Two texts with the same values signature give every name the same values, so a re-link
/// after such an edit can keep them ([`Relinkable::link`]). If the values stage
/// starts reading anything else of a file's facts, it must be added here.
pub fn values_signature(facts: &FileFacts) -> u128 {
    let (calls, flows) = values::calls_and_flows_read(facts);
    signature(&Read::of(facts, &calls, &flows, Vec::new()))
}

/// What the values stage reads of one file when it resolves the flows of other files: its
/// imports, module bindings, classes, functions and attribute assignments (definitions and how
/// names resolve), and the module-level names its flows store into (which of its names hold
/// anything), without positions. An edit that keeps it changes only the file's own flows, which
/// the values stage can update for ([`PreviousValues::Update`]).
pub fn values_outline(facts: &FileFacts) -> u128 {
    let mut stored: Vec<Name> = facts
        .flows
        .iter()
        .filter_map(|flow| match &flow.target() {
            crate::facts::FlowTarget::Name { name, global }
                if *global || flow.function().is_none() =>
            {
                Some(*name)
            }
            _ => None,
        })
        .collect();
    stored.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    stored.dedup();
    let mut read = Read::of(facts, &[] as &[crate::facts::CallSite], &[], Vec::new());
    read.first_time_calls = &[];
    read.flag_clears = &[];
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&signature(&read).to_le_bytes());
    for name in stored {
        hasher.update(name.as_bytes());
        hasher.update(b"\0");
    }
    hasher.digest128()
}

/// What the values stage reads of a file's definitions when it resolves the flows of other
/// files: [`values_outline`] without the imports, the module bindings and the module names its
/// flows store into, which `remap::rebound_names` compares name by name.
fn definitions_outline(facts: &FileFacts) -> u128 {
    let mut read = Read::of(facts, &[] as &[crate::facts::CallSite], &[], Vec::new());
    read.first_time_calls = &[];
    read.flag_clears = &[];
    read.imports = &[];
    read.globals = &[];
    signature(&read)
}

/// The parts of a file's facts a signature covers.
#[derive(serde::Serialize)]
struct Read<'a, Call> {
    imports: &'a [crate::facts::Import],
    globals: &'a [Binding],
    classes: &'a [ClassFacts],
    functions: &'a [FunctionFacts],
    calls: &'a [Call],
    first_time_calls: &'a [crate::facts::FirstTimeCall],
    /// Read by the link only (whether a first-time block runs once).
    flag_clears: &'a [crate::facts::FlagClear],
    flows: &'a [crate::facts::ValueFlow],
    attribute_assignments: &'a [crate::facts::AttributeAssignment],
    calls_in_script_blocks: Vec<bool>,
    /// By index in `calls`: only the link reads them (the call edges), not the values stage.
    returned_lambda_calls: &'a [u32],
    /// By index in `calls`: read by the link only (which classes are made at import).
    deferred_module_calls: &'a [u32],
}

impl<'a, Call> Read<'a, Call> {
    /// The file's facts, with the call sites and flows as the signature sees them.
    fn of(
        facts: &'a FileFacts,
        calls: &'a [Call],
        flows: &'a [crate::facts::ValueFlow],
        calls_in_script_blocks: Vec<bool>,
    ) -> Self {
        Read {
            imports: &facts.imports,
            globals: &facts.globals,
            classes: &facts.classes,
            functions: &facts.functions,
            calls,
            first_time_calls: &facts.first_time_calls,
            flag_clears: &facts.flag_clears,
            flows,
            attribute_assignments: &facts.attribute_assignments,
            calls_in_script_blocks,
            returned_lambda_calls: &[],
            deferred_module_calls: &[],
        }
    }
}

/// The hash of what `read` covers, positions left out.
fn signature<Call: serde::Serialize>(read: &Read<'_, Call>) -> u128 {
    // Every span is written `{"start":N,"end":M}` (`facts::Span`), and no other fact is. The
    // pattern never starts inside a string: a quote there is escaped.
    const SPAN: &[u8] = b"{\"start\":";
    let json = serde_json::to_vec(read).unwrap_or_default();
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut rest = json.as_slice();
    while let Some(at) = memchr::memmem::find(rest, SPAN) {
        hasher.update(&rest[..at]);
        let (skipped, hashed) = match span_length(&rest[at..]) {
            Some(length) => (length, &b"null"[..]),
            None => (SPAN.len(), SPAN),
        };
        hasher.update(hashed);
        rest = &rest[at + skipped..];
    }
    hasher.update(rest);
    hasher.digest128()
}

/// The length of the span `{"start":N,"end":M}` that `json` starts with, if it starts with one.
fn span_length(json: &[u8]) -> Option<usize> {
    let digits = |from: usize| {
        let count = json
            .get(from..)?
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        (count > 0).then_some(from + count)
    };
    let start_end = digits(b"{\"start\":".len())?;
    let end_field = start_end + b",\"end\":".len();
    if json.get(start_end..end_field)? != b",\"end\":" {
        return None;
    }
    let end_end = digits(end_field)?;
    (json.get(end_end) == Some(&b'}')).then_some(end_end + 1)
}

#[cfg(test)]
mod tests {
    use super::{link_signature, span_length, values_signature};

    #[test]
    fn only_a_whole_span_is_left_out() {
        assert_eq!(span_length(br#"{"start":12,"end":345},1"#), Some(22));
        assert_eq!(span_length(br#"{"start":12,"end":345"#), None);
        assert_eq!(span_length(br#"{"start":12,"end":"a"}"#), None);
        assert_eq!(span_length(br#"{"start":,"end":3}"#), None);
        assert_eq!(span_length(br#"{"start":1,"stop":3}"#), None);
    }

    fn signatures(source: &str) -> (u128, u128) {
        let facts = crate::syntax::extract(source).expect("parses");
        (link_signature(&facts), values_signature(&facts))
    }

    #[test]
    fn a_call_moved_into_a_returned_lambda_changes_the_link() {
        // The same call site, made by the function or only by the lambda it returns
        // (`FileFacts::returned_lambda_calls`), gives the function other call edges.
        let direct = "def f():\n    lambda: g()\n    return\n";
        let returned = "def f():\n    return lambda: g()\n";
        let facts = crate::syntax::extract(returned).expect("parses");
        assert_eq!(facts.returned_lambda_calls, vec![0]);
        assert_ne!(signatures(direct).0, signatures(returned).0);
    }

    #[test]
    fn a_call_no_value_flows_through_changes_the_link_but_not_the_values() {
        let before =
            "def make():\n    return run\n\n\ndef view():\n    handler = make()\n    handler(1)\n";
        // Before the calls the flows name: their numbers in the file change.
        let with_call = before.replace(
            "    handler = make()",
            "    refresh()\n    handler = make()",
        );
        let with_flow = before.replace(
            "    handler = make()",
            "    submit(view)\n    handler = make()",
        );
        let (link, values) = signatures(before);
        let (link_with_call, values_with_call) = signatures(&with_call);
        let (link_with_flow, values_with_flow) = signatures(&with_flow);
        assert_ne!(link, link_with_call);
        assert_eq!(values, values_with_call);
        assert_ne!(link, link_with_flow);
        assert_ne!(values, values_with_flow);
        // Lines moved: the positions of everything change, the signatures do not.
        assert_eq!(
            signatures(&format!("\n\n# Moved.\n{before}")),
            (link, values)
        );
        // What a flow's call is matters, wherever it is.
        let other_callee = before.replace("handler = make()", "handler = build()");
        assert_ne!(values, signatures(&other_callee).1);
    }
}
