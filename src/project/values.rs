//! What names, parameters and returns may hold: functions, classes, instances of classes of the
//! tree and external names, followed through the value flows the extractor records (assignments,
//! returns and yields, arguments to parameters, containers).
//!
//! Flow-insensitive and context-insensitive, like PyCG's assignment graph: a name holds everything
//! ever stored into it in its scope. The flows are applied in order until nothing changes (at most
//! [`MAX_ROUNDS`] times); each application is a few hash lookups, so the cost is linear in the
//! number of flows per round. Only what a flow proves is held: a call that cannot be resolved
//! gives nothing.

use std::sync::atomic::{AtomicBool, Ordering};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::{
    ArgPosition, CallReceiver, CallSite, FlowSource, FlowTarget, FuncIdx, Name, ValueFlow,
};

use super::callgraph::{Index, has_receiver, resolve_site};
use super::{ClassId, FileId, FuncId, Project, Resolved};

/// Flows are applied again while something changed, at most this many times (each round follows
/// one more step of calls through returned or passed values).
const MAX_ROUNDS: usize = 8;

/// A name that holds more than this many values is not grown further: precision first.
const MAX_HELD: usize = 32;

/// What a name may hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Held {
    Function(FuncId),
    Class(ClassId),
    /// An object made by calling the class.
    Instance(ClassId),
    /// Something outside the tree by its qualified name (`ext.function`, `builtins.len`).
    External(Name),
}

/// Where values are held.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot {
    /// A name of a function (`Some`) or of the module (`None`).
    Name(FileId, Option<FuncIdx>, Name),
    Return(FuncId),
}

#[derive(Debug, Default)]
pub(super) struct Values {
    held: HashMap<Slot, Vec<Held>>,
    /// Names some flow stores into, by scope: a name read in a nested function is looked up in the
    /// innermost scope that binds it.
    bound: HashSet<(FileId, Option<FuncIdx>, Name)>,
    /// What the name of a function decorated by functions of the tree holds: what the
    /// decorators return (`@dec def f` binds `f = dec(f)`).
    decorated: HashMap<FuncId, Vec<Held>>,
    /// Set when something held was read: what was computed may change in the next round.
    read_held: AtomicBool,
}

impl Values {
    /// Applies every flow of the project until nothing changes.
    pub(super) fn build(project: &Project, index: &Index<'_>) -> Values {
        let mut values = Values::default();
        for (file_id, file) in project.files.iter().enumerate() {
            for flow in &file.facts.flows {
                if let FlowTarget::Name { name, global } = &flow.target {
                    let scope = if *global { None } else { flow.function };
                    values
                        .bound
                        .insert((file_id as FileId, scope, name.clone()));
                }
            }
        }
        // Flows whose source and target do not depend on what names hold are applied once;
        // flows that can never store anything are dropped after the first round.
        let mut pending: Vec<(FileId, &ValueFlow)> = project
            .files
            .iter()
            .enumerate()
            .flat_map(|(file, f)| f.facts.flows.iter().map(move |flow| (file as FileId, flow)))
            .collect();
        let mut sources = Vec::new();
        let mut targets = Vec::new();
        for _ in 0..MAX_ROUNDS {
            let mut changed = false;
            let mut again = Vec::with_capacity(pending.len());
            for (file, flow) in pending {
                values.read_held.store(false, Ordering::Relaxed);
                sources.clear();
                values.source(
                    project,
                    index,
                    file,
                    flow.function,
                    &flow.source,
                    &mut sources,
                );
                let source_varies = values.read_held.load(Ordering::Relaxed);
                if sources.is_empty() {
                    if source_varies {
                        again.push((file, flow));
                    }
                    continue;
                }
                values.read_held.store(false, Ordering::Relaxed);
                targets.clear();
                values.targets(
                    project,
                    index,
                    file,
                    flow.function,
                    &flow.target,
                    &mut targets,
                );
                let target_varies = values.read_held.load(Ordering::Relaxed);
                for slot in targets.drain(..) {
                    changed |= values.add(slot, &sources);
                }
                if source_varies || target_varies {
                    again.push((file, flow));
                }
            }
            pending = again;
            changed |= values.decorate(project, index);
            if !changed {
                break;
            }
        }
        values
    }

    /// Applies the decorators of the tree to the functions they decorate: each decorator's first
    /// parameter gets what is decorated, and the name gets what the decorator returns. A decorator
    /// that is called (`@route("/")`) or not a function of the tree leaves the name to the
    /// function itself.
    fn decorate(&mut self, project: &Project, index: &Index<'_>) -> bool {
        let mut changed = false;
        for id in 0..project.function_count() {
            let function = FuncId(id as u32);
            let (file, facts) = project.function(function);
            if facts.decorators.is_empty() || facts.decorators.iter().any(|d| d.called) {
                continue;
            }
            let mut current = vec![Held::Function(function)];
            for decorator in facts.decorators.iter().rev() {
                let mut callables = Vec::new();
                let receiver = match facts.parent {
                    Some(_) => CallReceiver::Local,
                    None => CallReceiver::Name,
                };
                self.name(
                    project,
                    index,
                    file,
                    facts.parent,
                    receiver,
                    &decorator.name,
                    &mut callables,
                );
                if callables.is_empty() && receiver == CallReceiver::Local {
                    self.name(
                        project,
                        index,
                        file,
                        facts.parent,
                        CallReceiver::Name,
                        &decorator.name,
                        &mut callables,
                    );
                }
                let decorators: Vec<FuncId> = callables
                    .iter()
                    .filter_map(|c| match c {
                        Held::Function(f) => Some(*f),
                        _ => None,
                    })
                    .collect();
                if decorators.is_empty() || decorators.len() != callables.len() {
                    current.clear();
                    break;
                }
                let mut next = Vec::new();
                for d in decorators {
                    let (d_file, d_facts) = project.function(d);
                    if let Some(param) = d_facts.params.first() {
                        let idx = project.functions[d.0 as usize].1;
                        let slot = Slot::Name(d_file, Some(idx), param.name.clone());
                        changed |= self.add(slot, &current);
                    }
                    next.extend_from_slice(self.get(&Slot::Return(d)));
                }
                current = next;
            }
            if !current.is_empty() {
                let held = self.decorated.entry(function).or_default();
                for value in current {
                    if held.len() < MAX_HELD && !held.contains(&value) {
                        held.push(value);
                        changed = true;
                    }
                }
            }
        }
        changed
    }

    /// What the name of `function` holds when decorators of the tree replace it.
    pub(super) fn decorated(&self, function: FuncId) -> Option<&[Held]> {
        self.note_read();
        self.decorated.get(&function).map(Vec::as_slice)
    }

    /// The function itself, or what its decorators made of it.
    fn function_value(&self, function: FuncId, out: &mut Vec<Held>) {
        match self.decorated(function) {
            Some(held) => out.extend_from_slice(held),
            None => out.push(Held::Function(function)),
        }
    }

    fn add(&mut self, slot: Slot, values: &[Held]) -> bool {
        let held = self.held.entry(slot).or_default();
        let mut changed = false;
        for value in values {
            if held.len() < MAX_HELD && !held.contains(value) {
                held.push(value.clone());
                changed = true;
            }
        }
        changed
    }

    /// Only written when it changes, so that the threads resolving calls after the build, when
    /// it stays set, share its cache line without contention.
    fn note_read(&self) {
        if !self.read_held.load(Ordering::Relaxed) {
            self.read_held.store(true, Ordering::Relaxed);
        }
    }

    fn get(&self, slot: &Slot) -> &[Held] {
        self.note_read();
        self.held.get(slot).map_or(&[], Vec::as_slice)
    }

    /// The slots a flow stores into.
    fn targets(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        function: Option<FuncIdx>,
        target: &FlowTarget,
        out: &mut Vec<Slot>,
    ) {
        match target {
            FlowTarget::Name { name, global } => {
                let scope = if *global { None } else { function };
                out.push(Slot::Name(file, scope, name.clone()));
            }
            FlowTarget::Return => {
                if let Some(function) = function {
                    out.push(Slot::Return(project.function_id(file, function)));
                }
            }
            FlowTarget::Argument { call, position } => {
                let Some(site) = project.file(file).facts.calls.get(*call as usize) else {
                    return;
                };
                let mut callees = Vec::new();
                self.callables(project, index, file, site, &mut callees);
                for callee in callees {
                    let (function, bound) = match callee {
                        Held::Function(f) => (f, false),
                        Held::Class(c) => match index.lookup(project, c, "__init__") {
                            Some(init) => (init, true),
                            None => continue,
                        },
                        Held::Instance(c) => match index.lookup(project, c, "__call__") {
                            Some(call) => (call, true),
                            None => continue,
                        },
                        Held::External(_) => continue,
                    };
                    let (callee_file, facts) = project.function(function);
                    let skip = usize::from(bound || has_receiver(facts.kind));
                    let param = match position {
                        ArgPosition::Index(i) => facts.params.get(*i as usize + skip),
                        ArgPosition::Keyword(name) => facts.params.iter().find(|p| p.name == *name),
                    };
                    if let Some(param) = param {
                        let idx = project.functions[function.0 as usize].1;
                        out.push(Slot::Name(callee_file, Some(idx), param.name.clone()));
                    }
                }
            }
        }
    }

    /// The values a flow's source may be.
    fn source(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        function: Option<FuncIdx>,
        source: &FlowSource,
        out: &mut Vec<Held>,
    ) {
        match source {
            FlowSource::Name { receiver, name } => {
                self.name(project, index, file, function, *receiver, name, out);
            }
            FlowSource::CallResult(call) => {
                let Some(site) = project.file(file).facts.calls.get(*call as usize) else {
                    return;
                };
                let mut callees = Vec::new();
                self.callables(project, index, file, site, &mut callees);
                for callee in callees {
                    match callee {
                        Held::Function(f) => out.extend_from_slice(self.get(&Slot::Return(f))),
                        Held::Class(c) => out.push(Held::Instance(c)),
                        Held::Instance(c) => {
                            if let Some(call) = index.lookup(project, c, "__call__") {
                                out.extend_from_slice(self.get(&Slot::Return(call)));
                            }
                        }
                        // Named like the class it came from, as PyCG names methods of
                        // external objects (`ext.Cls.fun`).
                        Held::External(q) => out.push(Held::External(q)),
                    }
                }
            }
        }
    }

    /// What the callee of `site` may be.
    pub(super) fn callables(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        site: &CallSite,
        out: &mut Vec<Held>,
    ) {
        match site.receiver {
            CallReceiver::Name | CallReceiver::Local => {
                self.name(
                    project,
                    index,
                    file,
                    site.function,
                    site.receiver,
                    &site.callee,
                    out,
                );
            }
            CallReceiver::CallResult(call) => {
                let source = FlowSource::CallResult(call);
                self.source(project, index, file, site.function, &source, out);
            }
            _ => {
                let mut scratch = Vec::new();
                let mut targets = Vec::new();
                resolve_site(project, index, file, site, &mut scratch, &mut targets);
                out.extend(targets.into_iter().map(|(f, _)| Held::Function(f)));
            }
        }
    }

    /// What a name as written may hold: `f`, `mod.f`, `obj.method`, `self.method` (`method`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn name(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        function: Option<FuncIdx>,
        receiver: CallReceiver,
        name: &str,
        out: &mut Vec<Held>,
    ) {
        match receiver {
            CallReceiver::Local => {
                let (head, rest) = match name.split_once('.') {
                    Some((head, rest)) => (head, Some(rest)),
                    None => (name, None),
                };
                let mut heads = Vec::new();
                self.local(project, index, file, function, head, &mut heads);
                match rest {
                    None => out.extend(heads),
                    Some(rest) => attributes(project, index, &heads, rest, out),
                }
            }
            CallReceiver::Name => match project.resolve(file, function, name) {
                Resolved::Function(f) => self.function_value(f, out),
                Resolved::Class(c) => out.push(Held::Class(c)),
                Resolved::External(q) => out.push(Held::External(q)),
                Resolved::Global(global_file, global) => {
                    let binding = &project.file(global_file).facts.globals[global as usize];
                    let slot = Slot::Name(global_file, None, binding.name.clone());
                    out.extend_from_slice(self.get(&slot));
                }
                Resolved::Module(_) => {}
                Resolved::Unknown => {
                    // Bound only by an unpacking (`a, b = f, g`), which the module's bindings
                    // do not list.
                    let key = (file, None, Name::from(name));
                    if self.bound.contains(&key) {
                        out.extend_from_slice(self.get(&Slot::Name(file, None, key.2)));
                    } else if let Some((prefix, attr)) = name.rsplit_once('.') {
                        let mut heads = Vec::new();
                        self.name(project, index, file, function, receiver, prefix, &mut heads);
                        attributes(project, index, &heads, attr, out);
                    }
                }
            },
            CallReceiver::SelfParam | CallReceiver::Class => {
                let class = function.and_then(|f| project.method_class(file, f));
                if let Some(class) = class
                    && !name.contains('.')
                {
                    let mut found = Vec::new();
                    index.dispatch(project, class, name, &mut found);
                    out.extend(found.into_iter().map(Held::Function));
                }
            }
            CallReceiver::Super | CallReceiver::NewInstance | CallReceiver::CallResult(_) => {}
        }
    }

    /// A local of `function` or of a function around it, or a function nested in one of them.
    fn local(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        function: Option<FuncIdx>,
        name: &str,
        out: &mut Vec<Held>,
    ) {
        let functions = &project.file(file).facts.functions;
        let mut current = function;
        while let Some(f) = current {
            let key = (file, Some(f), Name::from(name));
            let is_param = functions[f as usize].params.iter().any(|p| p.name == name);
            if is_param || self.bound.contains(&key) {
                out.extend_from_slice(self.get(&Slot::Name(file, Some(f), key.2)));
                return;
            }
            if let Some(nested) = index.nested.get(&(file, f, name)) {
                self.function_value(project.function_id(file, *nested), out);
                return;
            }
            current = functions[f as usize].parent;
        }
    }
}

/// What `attr` of each of `objects` may be: methods of instances and classes, names outside the
/// tree.
fn attributes(
    project: &Project,
    index: &Index<'_>,
    objects: &[Held],
    attr: &str,
    out: &mut Vec<Held>,
) {
    for object in objects {
        match object {
            Held::Instance(c) | Held::Class(c) => {
                if !attr.contains('.')
                    && let Some(method) = index.lookup(project, *c, attr)
                {
                    out.push(Held::Function(method));
                }
            }
            Held::External(q) => out.push(Held::External(format!("{q}.{attr}").into())),
            Held::Function(_) => {}
        }
    }
}
