//! What names, parameters and returns may hold: functions, classes, instances of classes of the
//! tree and external names, followed through the value flows the extractor records (assignments,
//! returns and yields, arguments to parameters, containers).
//!
//! Flow-insensitive and context-insensitive, like PyCG's assignment graph: a name holds everything
//! ever stored into it in its scope. Each flow is applied once, and again only when a slot it read
//! grew (a worklist keyed by the slots each flow reads); slots hold at most [`MAX_HELD`] values, so
//! this ends, and most flows, which read nothing that ever holds anything, are applied once. Only
//! what a flow proves is held: a call that cannot be resolved gives nothing.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::{
    ArgPosition, CallReceiver, CallSite, FileFacts, FlowSource, FlowTarget, FuncIdx, Name,
    ValueFlow,
};

use super::callgraph::{Index, has_receiver, resolve_site};
use super::{ClassId, FileId, FuncId, Project, Resolved, split_first_dot, split_last_dot};

/// Decorators are applied again (and the flows that depend on what they gave) while something
/// changed, at most this many times: each round follows one more decorator of a decorator.
const MAX_ROUNDS: usize = 8;

/// A name that holds more than this many values is not grown further: precision first.
const MAX_HELD: usize = 32;

/// What a name may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Held {
    Function(FuncId),
    Class(ClassId),
    /// An object made by calling the class.
    Instance(ClassId),
    /// Something outside the tree by its qualified name (`ext.function`, `builtins.len`).
    External(ExternalId),
}

/// A qualified name outside the tree, interned: values are copied and compared far more often
/// than their names are read. The top bit tells whether the name is written like a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(u32);

const NAMES_A_CLASS: u32 = 1 << 31;

impl ExternalId {
    /// Whether the last part of the name is written like a class (`ext.Client`, not `ext.get`).
    fn names_a_class(self) -> bool {
        self.0 & NAMES_A_CLASS != 0
    }
}

/// The qualified names behind [`ExternalId`]s.
#[derive(Debug, Default)]
struct Externals {
    ids: HashMap<Name, ExternalId>,
    names: Vec<Name>,
    /// [`Externals::attribute`]'s answers.
    attributes: HashMap<(ExternalId, Name), ExternalId>,
}

impl Externals {
    fn intern(&mut self, qualified: &str) -> ExternalId {
        if let Some(id) = self.ids.get(qualified) {
            return *id;
        }
        let class_bit = if names_a_class(qualified) {
            NAMES_A_CLASS
        } else {
            0
        };
        let id = ExternalId(self.names.len() as u32 | class_bit);
        self.names.push(qualified.into());
        self.ids.insert(qualified.into(), id);
        id
    }

    /// The id of `attr` of the external value `id` (`ext.Client` and `get`: `ext.Client.get`).
    fn attribute(&mut self, id: ExternalId, attr: &str) -> ExternalId {
        let key = (id, Name::from(attr));
        if let Some(known) = self.attributes.get(&key) {
            return *known;
        }
        let qualified = format!("{}.{attr}", self.name(id));
        let found = self.intern(&qualified);
        self.attributes.insert(key, found);
        found
    }

    fn name(&self, id: ExternalId) -> &Name {
        &self.names[(id.0 & !NAMES_A_CLASS) as usize]
    }
}

/// Where values are held, as a dense id: what each function returns, what the decorators of the
/// tree make of each function, each parameter, then every other name some flow stores into.
/// Names no flow stores into have no slot: they never hold anything.
type SlotId = u32;

/// A file, and the function whose names are meant (`None`: the module's).
type NameScope = (FileId, Option<FuncIdx>);

#[derive(Debug, Default)]
struct Slots<'p> {
    functions: u32,
    /// The first parameter slot of each function, and one past the last.
    param_base: Vec<u32>,
    /// Names some flow stores into that are not parameters of their function, by scope (a
    /// function, or `None` for the module).
    names: HashMap<(FileId, Option<FuncIdx>, &'p str), SlotId>,
}

impl<'p> Slots<'p> {
    fn new(project: &'p Project, flows: &[(FileId, &'p ValueFlow)]) -> Slots<'p> {
        let functions = project.function_count() as u32;
        let mut param_base = Vec::with_capacity(functions as usize + 1);
        let mut next = 2 * functions;
        for id in 0..functions {
            param_base.push(next);
            next += project.function(FuncId(id)).1.params.len() as u32;
        }
        param_base.push(next);
        let mut slots = Slots {
            functions,
            param_base,
            names: HashMap::default(),
        };
        for (file, flow) in flows {
            if let FlowTarget::Name { name, global } = &flow.target {
                let scope = if *global { None } else { flow.function };
                if slots.param(project, (*file, scope), name).is_none() {
                    slots
                        .names
                        .entry((*file, scope, name.as_str()))
                        .or_insert_with(|| {
                            next += 1;
                            next - 1
                        });
                }
            }
        }
        slots
    }

    fn returned(&self, function: FuncId) -> SlotId {
        function.0
    }

    fn decorated(&self, function: FuncId) -> SlotId {
        self.functions + function.0
    }

    /// The slot of a parameter named `name` of the function `scope` of `file`.
    fn param(&self, project: &Project, (file, scope): NameScope, name: &str) -> Option<SlotId> {
        let function = scope?;
        let params = &project.file(file).facts.functions[function as usize].params;
        let position = params.iter().position(|p| p.name == name)?;
        Some(self.param_base[project.function_id(file, function).0 as usize] + position as u32)
    }

    /// The slot of a name of a function of `file` (or of the module, `None`), if anything can be
    /// stored into it.
    fn name(&self, project: &Project, (file, scope): NameScope, name: &str) -> Option<SlotId> {
        self.param(project, (file, scope), name)
            .or_else(|| self.names.get(&(file, scope, name)).copied())
    }
}

/// What one slot holds, in the order the values arrived, and a bit per value held (of 64, by a
/// hash of the value): a value whose bit is clear is not held, which spares most scans of the
/// values when a flow stores into a slot again.
#[derive(Debug, Default)]
struct HeldValues {
    values: Vec<Held>,
    bits: u64,
}

impl HeldValues {
    fn bit(value: Held) -> u64 {
        let (kind, id) = match value {
            Held::Function(f) => (0, f.0),
            Held::Class(c) => (1, c.0),
            Held::Instance(c) => (2, c.0),
            Held::External(q) => (3, q.0),
        };
        1 << ((id.wrapping_mul(0x9E37_79B9) >> 26) ^ kind)
    }

    /// Adds `value` unless it is held or the slot is full; whether it was added.
    fn add(&mut self, value: Held) -> bool {
        let bit = HeldValues::bit(value);
        if self.values.len() >= MAX_HELD || (self.bits & bit != 0 && self.values.contains(&value)) {
            return false;
        }
        self.bits |= bit;
        self.values.push(value);
        true
    }
}

#[derive(Debug, Default)]
pub(super) struct Values<'p> {
    slots: Slots<'p>,
    /// What each slot that holds anything holds.
    held: HashMap<SlotId, HeldValues>,
    /// While building: the callees of calls that do not depend on what names hold.
    /// Per file, by call site.
    fixed_callables: Vec<HashMap<u32, Known>>,
    /// Shared by the threads that resolve calls through values.
    externals: Mutex<Externals>,
}

/// What the values stage learnt of a project, kept by a long-lived caller (the language server)
/// for the next link of the same files (see [`Values::from_kept`]).
#[derive(Debug, Default)]
pub struct KeptValues {
    held: HashMap<SlotId, HeldValues>,
    externals: Externals,
}

/// Every value flow of the project, in file order.
fn all_flows(project: &Project) -> Vec<(FileId, &ValueFlow)> {
    project
        .files
        .iter()
        .enumerate()
        .flat_map(|(file, f)| f.facts.flows.iter().map(move |flow| (file as FileId, flow)))
        .collect()
}

/// What is known of a call's callee before any name holds anything.
#[derive(Debug)]
enum Known {
    /// The callees, whatever names hold.
    Callees(Vec<Held>),
    /// The callee is a plain name and this is what it denotes; what that gives may still depend
    /// on what names hold (a function's decorators, a module-level name).
    Named(NameTarget),
}

/// What a plain name (`f`, `mod.f`) denotes, as far as that does not depend on what names hold.
#[derive(Debug)]
enum NameTarget {
    /// A function of the tree, or what its decorators make of it.
    Function(FuncId),
    /// A class of the tree, or something outside the tree.
    Value(Held),
    /// What a name of the tree holds.
    Slot(SlotId),
    /// Nothing that can hold a value (a module, a module-level name nothing is stored into).
    Nothing,
}

/// The flows still to apply, and which flows read each slot.
struct Worklist {
    queue: VecDeque<u32>,
    queued: Vec<bool>,
    dependents: HashMap<SlotId, Vec<u32>>,
}

thread_local! {
    /// While the values are built: the slots read since the last [`take_reads`].
    static READS: RefCell<Option<Vec<SlotId>>> = const { RefCell::new(None) };
}

fn note_read(slot: SlotId) {
    READS.with(|reads| {
        if let Some(reads) = reads.borrow_mut().as_mut() {
            reads.push(slot);
        }
    });
}

/// Moves the slots read since the last call into `reads`, dropping what it held. The two buffers
/// are swapped, not replaced: this runs once per flow applied, and a fresh buffer would grow again
/// each time.
fn take_reads(reads: &mut Vec<SlotId>) {
    reads.clear();
    READS.with(|noted| {
        if let Some(noted) = noted.borrow_mut().as_mut() {
            std::mem::swap(noted, reads);
        }
    });
}

impl<'p> Values<'p> {
    /// Applies every flow of the project until nothing changes.
    pub(super) fn build(project: &'p Project, index: &Index<'p>) -> Values<'p> {
        let mut flows = all_flows(project);
        let mut values = Values {
            slots: Slots::new(project, &flows),
            ..Values::default()
        };
        // Many flows go into or come out of one call: what its callee is, when that does not
        // depend on what names hold, is found once, file by file in parallel.
        values.fixed_callables = project
            .files
            .par_iter()
            .enumerate()
            .map(|(file, facts)| {
                values.fixed_callables_of(project, index, file as FileId, &facts.facts.flows)
            })
            .collect();
        // A flow that can never give anything, or never store anywhere, is not applied: its
        // source or target is a call whose callee is fixed and outside the tree.
        flows.retain(|(file, flow)| !values.inert(*file, flow));
        let returning: HashSet<SlotId> = flows
            .iter()
            .filter(|(_, flow)| flow.target == FlowTarget::Return)
            .filter_map(|(file, flow)| flow.function.map(|f| project.function_id(*file, f)))
            .map(|f| values.slots.returned(f))
            .collect();
        let mut work = Worklist {
            queue: (0..flows.len() as u32).collect(),
            queued: vec![true; flows.len()],
            dependents: HashMap::default(),
        };
        let mut sources = Vec::new();
        let mut targets = Vec::new();
        let mut reads = Vec::new();
        READS.with(|reads| *reads.borrow_mut() = Some(Vec::new()));
        for _ in 0..MAX_ROUNDS {
            while let Some(id) = work.queue.pop_front() {
                work.queued[id as usize] = false;
                let (file, flow) = flows[id as usize];
                sources.clear();
                targets.clear();
                values.source(
                    project,
                    index,
                    file,
                    flow.function,
                    &flow.source,
                    &mut sources,
                );
                if !sources.is_empty() {
                    values.targets(
                        project,
                        index,
                        file,
                        flow.function,
                        &flow.target,
                        &mut targets,
                    );
                }
                // Evaluated again when anything it read changes (what no flow writes never
                // does).
                take_reads(&mut reads);
                for &slot in &reads {
                    if slot < values.slots.functions && !returning.contains(&slot) {
                        continue;
                    }
                    let dependents = work.dependents.entry(slot).or_default();
                    if dependents.last() != Some(&id) {
                        dependents.push(id);
                    }
                }
                for slot in targets.drain(..) {
                    values.store(&mut work, slot, &sources);
                }
            }
            let stores = values.decorations(project, index);
            take_reads(&mut reads);
            let mut changed = false;
            for (slot, held) in stores {
                changed |= values.store(&mut work, slot, &held);
            }
            if !changed {
                break;
            }
        }
        READS.with(|reads| *reads.borrow_mut() = None);
        values.fixed_callables = Vec::new();
        values
    }

    /// The values of a previous link, for a project whose files read the same for this stage as
    /// that link's ([`super::values_signature`]): applying the flows again would hold the same.
    pub(super) fn from_kept(project: &'p Project, kept: KeptValues) -> Values<'p> {
        Values {
            slots: Slots::new(project, &all_flows(project)),
            held: kept.held,
            fixed_callables: Vec::new(),
            externals: Mutex::new(kept.externals),
        }
    }

    /// What was learnt, without the borrows of the project.
    pub(super) fn into_kept(self) -> KeptValues {
        KeptValues {
            held: self.held,
            externals: self
                .externals
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// The callees of the calls `flows` go into or come out of that do not depend on what names
    /// hold, found with nothing held yet.
    fn fixed_callables_of(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        flows: &[ValueFlow],
    ) -> HashMap<u32, Known> {
        let previous = READS.with(|reads| reads.borrow_mut().replace(Vec::new()));
        let mut seen = HashSet::default();
        let mut fixed = HashMap::default();
        let mut reads = Vec::new();
        for flow in flows {
            let call = match (&flow.source, &flow.target) {
                (FlowSource::CallResult(call), _) | (_, FlowTarget::Argument { call, .. }) => *call,
                _ => continue,
            };
            if !seen.insert(call) {
                continue;
            }
            let Some(site) = project.file(file).facts.calls.get(call as usize) else {
                continue;
            };
            let mut callees = Vec::new();
            let target = (site.receiver == CallReceiver::Name)
                .then(|| self.name_target(project, file, site.function, &site.callee))
                .flatten();
            match target {
                Some(target @ (NameTarget::Function(_) | NameTarget::Slot(_))) => {
                    // What it gives depends on what names hold; what it denotes is found once.
                    fixed.insert(call, Known::Named(target));
                    continue;
                }
                Some(target) => self.named_value(&target, &mut callees),
                None => self.callables(project, index, file, site, &mut callees),
            }
            take_reads(&mut reads);
            if reads.is_empty() {
                // Functions outside the tree that are not classes give nothing and take nothing
                // to the tree: such a call is kept as one with no callee, without their names.
                if callees
                    .iter()
                    .all(|c| matches!(c, Held::External(q) if !q.names_a_class()))
                {
                    callees = Vec::new();
                }
                fixed.insert(call, Known::Callees(callees));
            }
        }
        READS.with(|reads| *reads.borrow_mut() = previous);
        fixed
    }

    /// What is known of the callee of call site `call` of `file` before any name holds anything.
    fn fixed_callable(&self, file: FileId, call: u32) -> Option<&Known> {
        self.fixed_callables.get(file as usize)?.get(&call)
    }

    /// Whether applying `flow` can never store anything: what it reads or where it stores is a
    /// call whose callees are fixed and none of them is of the tree (what an external function
    /// returns is not known, unless it names a class; nothing it is given reaches the tree).
    fn inert(&self, file: FileId, flow: &ValueFlow) -> bool {
        let outside = |call: u32, class_gives: bool| match self.fixed_callable(file, call) {
            Some(Known::Callees(callees)) => callees.iter().all(|callee| match callee {
                Held::External(q) => !(class_gives && q.names_a_class()),
                _ => false,
            }),
            _ => false,
        };
        let source_empty = match &flow.source {
            FlowSource::CallResult(call) => outside(*call, true),
            FlowSource::Name { .. } => false,
        };
        let target_empty = match &flow.target {
            FlowTarget::Argument { call, .. } => outside(*call, false),
            _ => false,
        };
        source_empty || target_empty
    }

    /// Adds `values` to `slot`, and queues the flows that read it when it grew.
    fn store(&mut self, work: &mut Worklist, slot: SlotId, values: &[Held]) -> bool {
        let changed = self.add(slot, values);
        if changed && let Some(dependents) = work.dependents.get(&slot) {
            for &id in dependents {
                if !work.queued[id as usize] {
                    work.queued[id as usize] = true;
                    work.queue.push_back(id);
                }
            }
        }
        changed
    }

    /// Applies the decorators of the tree to the functions they decorate: each decorator's first
    /// parameter gets what is decorated, and the name gets what the decorator returns. A decorator
    /// that is called (`@route("/")`) or not a function of the tree leaves the name to the
    /// function itself.
    fn decorations(&self, project: &Project, index: &Index<'_>) -> Vec<(SlotId, Vec<Held>)> {
        let mut stores = Vec::new();
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
                    if !project.function(d).1.params.is_empty() {
                        let first = self.slots.param_base[d.0 as usize];
                        stores.push((first, current.clone()));
                    }
                    next.extend_from_slice(self.get(self.slots.returned(d)));
                }
                current = next;
            }
            if !current.is_empty() {
                stores.push((self.slots.decorated(function), current));
            }
        }
        stores
    }

    /// What the name of `function` holds when decorators of the tree replace it.
    pub(super) fn decorated(&self, function: FuncId) -> Option<&[Held]> {
        let slot = self.slots.decorated(function);
        note_read(slot);
        self.held.get(&slot).map(|held| held.values.as_slice())
    }

    /// The function itself, or what its decorators made of it.
    fn function_value(&self, function: FuncId, out: &mut Vec<Held>) {
        match self.decorated(function) {
            Some(held) => out.extend_from_slice(held),
            None => out.push(Held::Function(function)),
        }
    }

    fn add(&mut self, slot: SlotId, values: &[Held]) -> bool {
        let held = self.held.entry(slot).or_default();
        let mut changed = false;
        for value in values {
            changed |= held.add(*value);
        }
        changed
    }

    fn get(&self, slot: SlotId) -> &[Held] {
        note_read(slot);
        self.held
            .get(&slot)
            .map_or(&[], |held| held.values.as_slice())
    }

    /// The slots a flow stores into.
    fn targets(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        function: Option<FuncIdx>,
        target: &FlowTarget,
        out: &mut Vec<SlotId>,
    ) {
        match target {
            FlowTarget::Name { name, global } => {
                let scope = if *global { None } else { function };
                out.extend(self.slots.name(project, (file, scope), name));
            }
            FlowTarget::Return => {
                if let Some(function) = function {
                    out.push(self.slots.returned(project.function_id(file, function)));
                }
            }
            FlowTarget::Argument { call, position } => {
                let mut callees = Vec::new();
                self.callables_of_call(project, index, file, *call, &mut callees);
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
                        out.extend(self.slots.param(
                            project,
                            (callee_file, Some(idx)),
                            &param.name,
                        ));
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
                let mut callees = Vec::new();
                self.callables_of_call(project, index, file, *call, &mut callees);
                for callee in callees {
                    match callee {
                        Held::Function(f) => {
                            out.extend_from_slice(self.get(self.slots.returned(f)));
                        }
                        Held::Class(c) => out.push(Held::Instance(c)),
                        Held::Instance(c) => {
                            if let Some(call) = index.lookup(project, c, "__call__") {
                                out.extend_from_slice(self.get(self.slots.returned(call)));
                            }
                        }
                        // An object of an external class is named like the class, as PyCG
                        // names methods of external objects (`ext.Cls.fun`); what external
                        // functions return is not known.
                        Held::External(q) if q.names_a_class() => out.push(Held::External(q)),
                        Held::External(_) => {}
                    }
                }
            }
        }
    }

    /// What the callee of the call site at index `call` of `file` may be.
    fn callables_of_call(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        call: u32,
        out: &mut Vec<Held>,
    ) {
        match self.fixed_callable(file, call) {
            Some(Known::Callees(callees)) => out.extend_from_slice(callees),
            Some(Known::Named(target)) => self.named_value(target, out),
            None => {
                if let Some(site) = project.file(file).facts.calls.get(call as usize) {
                    self.callables(project, index, file, site, out);
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
                let (head, rest) = match split_first_dot(name) {
                    Some((head, rest)) => (head, Some(rest)),
                    None => (name, None),
                };
                match rest {
                    None => self.local(project, index, file, function, head, out),
                    Some(rest) => {
                        let mut heads = Vec::new();
                        self.local(project, index, file, function, head, &mut heads);
                        self.attributes(project, index, &heads, rest, out);
                    }
                }
            }
            CallReceiver::Name => match self.name_target(project, file, function, name) {
                Some(target) => self.named_value(&target, out),
                None => {
                    if let Some((prefix, attr)) = split_last_dot(name) {
                        let mut heads = Vec::new();
                        self.name(project, index, file, function, receiver, prefix, &mut heads);
                        self.attributes(project, index, &heads, attr, out);
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

    /// What the plain name `name` of `function` of `file` denotes; `None` for a name that does
    /// not resolve and that no flow stores into.
    fn name_target(
        &self,
        project: &Project,
        file: FileId,
        function: Option<FuncIdx>,
        name: &str,
    ) -> Option<NameTarget> {
        let slot = |file: FileId, name: &str| {
            self.slots
                .name(project, (file, None), name)
                .map_or(NameTarget::Nothing, NameTarget::Slot)
        };
        Some(match project.resolve(file, function, name) {
            Resolved::Function(f) => NameTarget::Function(f),
            Resolved::Class(c) => NameTarget::Value(Held::Class(c)),
            Resolved::External(q) => NameTarget::Value(Held::External(self.externals().intern(&q))),
            Resolved::Global(global_file, global) => slot(
                global_file,
                &project.file(global_file).facts.globals[global as usize].name,
            ),
            Resolved::Module(_) => NameTarget::Nothing,
            // Bound only by an unpacking (`a, b = f, g`), which the module's bindings do not list.
            Resolved::Unknown => match slot(file, name) {
                NameTarget::Nothing => return None,
                found => found,
            },
        })
    }

    /// What a name that denotes `target` may hold.
    fn named_value(&self, target: &NameTarget, out: &mut Vec<Held>) {
        match target {
            NameTarget::Function(f) => self.function_value(*f, out),
            NameTarget::Value(held) => out.push(*held),
            NameTarget::Slot(slot) => out.extend_from_slice(self.get(*slot)),
            NameTarget::Nothing => {}
        }
    }

    /// What `attr` of each of `objects` may be: methods of instances and classes, names outside
    /// the tree.
    fn attributes(
        &self,
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
                Held::External(q) => out.push(Held::External(self.externals().attribute(*q, attr))),
                Held::Function(_) => {}
            }
        }
    }

    /// The qualified name of an external value.
    pub(super) fn external_name(&self, id: ExternalId) -> Name {
        self.externals().name(id).clone()
    }

    /// The interned external names. A panic elsewhere while they were locked leaves them as
    /// consistent as before (a name is added whole), so poisoning is ignored.
    fn externals(&self) -> MutexGuard<'_, Externals> {
        self.externals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
            if let Some(slot) = self.slots.name(project, (file, Some(f)), name) {
                out.extend_from_slice(self.get(slot));
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

/// Whether a qualified name's last part is written like a class (`ext.Client`, not `ext.get`).
fn names_a_class(qualified: &str) -> bool {
    let last = qualified.rsplit('.').next().unwrap_or(qualified);
    last.starts_with(|c: char| c.is_ascii_uppercase())
}

/// What this stage reads of a file's call sites and flows: the flows, and the call sites they go
/// into or come out of (and the calls those are made on, `make()()`), numbered in the order the
/// flows first name them, so that calls no flow names, and where the others stand among them,
/// do not count. A missing call is `None`.
pub(super) fn calls_and_flows_read(facts: &FileFacts) -> (Vec<Option<CallSite>>, Vec<ValueFlow>) {
    let mut numbers: HashMap<u32, u32> = HashMap::default();
    let mut order: Vec<u32> = Vec::new();
    let mut number = |call: u32, order: &mut Vec<u32>| {
        *numbers.entry(call).or_insert_with(|| {
            order.push(call);
            order.len() as u32 - 1
        })
    };
    let mut flows = facts.flows.clone();
    for flow in &mut flows {
        if let FlowSource::CallResult(call) = &mut flow.source {
            *call = number(*call, &mut order);
        }
        if let FlowTarget::Argument { call, .. } = &mut flow.target {
            *call = number(*call, &mut order);
        }
    }
    let mut calls = Vec::with_capacity(order.len());
    let mut next = 0;
    while let Some(&call) = order.get(next) {
        next += 1;
        let site = facts.calls.get(call as usize).cloned().map(|mut site| {
            if let CallReceiver::CallResult(on) = &mut site.receiver {
                *on = number(*on, &mut order);
            }
            // Read by the call graph, not by this stage.
            site.argument_of = None;
            site
        });
        calls.push(site);
    }
    (calls, flows)
}
