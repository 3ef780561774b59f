//! What names, parameters and returns may hold: functions, classes, instances of classes of the
//! tree and external names, followed through the value flows the extractor records (assignments,
//! returns and yields, arguments to parameters, containers).
//!
//! Flow-insensitive and context-insensitive, like PyCG's assignment graph: a name holds everything
//! ever stored into it in its scope. Each flow is applied once, and again only when a slot it read
//! grew (a worklist keyed by the slots each flow reads); slots hold at most [`MAX_HELD`] values, so
//! this ends, and most flows, which read nothing that ever holds anything, are applied once. Only
//! what a flow proves is held: a call that cannot be resolved gives nothing.
//!
//! The names a flow reads and stores into are resolved first, file by file in parallel, into a
//! [`Plan`] of slots and values; the worklist, whose order decides which values a full slot kept,
//! then only reads slots and moves values.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use crate::facts::{
    ArgPosition, ByText, CallReceiver, CallSite, FileFacts, FlowSource, FlowTarget, FuncIdx,
    MaybeIndex, Name, ValueFlow,
};
use crate::knowledge;

use super::callgraph::{CALL, INIT, Index, annotated_global_classes, has_receiver, resolve_site};
use super::{ClassId, FileId, FuncId, Project, Resolved, split_name};

mod flow_lists;
mod incremental;
mod renumbered;
mod stored;

use flow_lists::FlowLists;
pub use incremental::Edited;

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
        if let Some(id) = self.ids.get_text(qualified) {
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
    fn attribute(&mut self, id: ExternalId, attr: Name) -> ExternalId {
        let key = (id, attr);
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
    /// How many slots there are.
    count: u32,
    /// The first parameter slot of each function, and one past the last.
    param_base: Vec<u32>,
    /// Per file: names some flow stores into that are not parameters of their function, by scope
    /// (a function, or `None` for the module).
    names: Vec<NameSlots>,
    /// The slots are numbered from the flows of one project.
    project: PhantomData<&'p Project>,
}

impl<'p> Slots<'p> {
    /// Numbers the slots; a file's names are numbered after the previous file's, in the order
    /// its flows first store into them, each file on its own thread.
    fn new(project: &'p Project) -> Slots<'p> {
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
            count: 0,
            param_base,
            names: Vec::new(),
            project: PhantomData,
        };
        slots.names = project
            .files
            .par_iter()
            .enumerate()
            .map(|(file, f)| slots.names_of(project, file as FileId, &f.facts.flows))
            .collect();
        for names in &mut slots.names {
            names.shift(next);
            next += names.len() as u32;
        }
        slots.count = next;
        slots
    }

    /// The names `flows` of `file` store into that are not parameters, numbered from 0.
    fn names_of(&self, project: &Project, file: FileId, flows: &[ValueFlow]) -> NameSlots {
        let mut names: HashMap<(Option<FuncIdx>, Name), SlotId> = HashMap::default();
        for flow in flows {
            if let FlowTarget::Name { name, global } = &flow.target() {
                let scope = if *global { None } else { flow.function() };
                if self.param(project, (file, scope), *name).is_none() {
                    let next = names.len() as SlotId;
                    names.entry((scope, *name)).or_insert(next);
                }
            }
        }
        NameSlots::new(names)
    }

    fn returned(&self, function: FuncId) -> SlotId {
        function.0
    }

    fn decorated(&self, function: FuncId) -> SlotId {
        self.functions + function.0
    }

    /// The slot of a parameter named `name` of the function `scope` of `file`.
    fn param(&self, project: &Project, (file, scope): NameScope, name: Name) -> Option<SlotId> {
        let function = scope?;
        let params = &project.file(file).facts.functions[function as usize].params;
        let position = params.iter().position(|p| p.name == name)?;
        Some(self.param_at(project.function_id(file, function), position))
    }

    /// The slot of the parameter at `position` of `function`.
    fn param_at(&self, function: FuncId, position: usize) -> SlotId {
        self.param_base[function.0 as usize] + position as u32
    }

    /// The slot of a name of a function of `file` (or of the module, `None`), if anything can be
    /// stored into it.
    fn name(&self, project: &Project, (file, scope): NameScope, name: Name) -> Option<SlotId> {
        self.param(project, (file, scope), name)
            .or_else(|| self.names.get(file as usize)?.get(scope, name))
    }
}

/// A file's names that some flow stores into and are not parameters, by scope, with their slots:
/// sorted by scope and by where the name is interned, and searched by halves (a look-up reads no
/// name's text). That order is not the same from one run to the next: nothing reads the table in
/// it. They are held through the link (the call graph reads them after the worklist); as hash
/// maps they took half again as much.
#[derive(Debug, Default)]
pub(super) struct NameSlots(Box<[NameSlot]>);

/// 16 bytes: `(Option<FuncIdx>, Name)` alone takes as much.
#[derive(Debug, Clone, Copy)]
struct NameSlot {
    name: Name,
    /// The function, or none for the module.
    scope: MaybeIndex,
    slot: SlotId,
}

impl NameSlot {
    /// The order of the table: by scope, then by where the name is interned.
    fn key(&self) -> (Option<FuncIdx>, usize) {
        (self.scope.get(), self.name.interned_at())
    }
}

impl NameSlots {
    /// The table of these names and slots; a scope no flow reaches (`Some(u32::MAX)`) is left
    /// out.
    fn new(names: impl IntoIterator<Item = ((Option<FuncIdx>, Name), SlotId)>) -> NameSlots {
        let mut table: Vec<NameSlot> = names
            .into_iter()
            .filter_map(|((scope, name), slot)| {
                Some(NameSlot {
                    name,
                    scope: MaybeIndex::new(scope)?,
                    slot,
                })
            })
            .collect();
        table.sort_unstable_by_key(NameSlot::key);
        NameSlots(table.into_boxed_slice())
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// The slot of `name` in `scope`.
    fn get(&self, scope: Option<FuncIdx>, name: Name) -> Option<SlotId> {
        let key = (scope, name.interned_at());
        let at = self.0.partition_point(|entry| entry.key() < key);
        self.0
            .get(at)
            .filter(|entry| entry.key() == key)
            .map(|entry| entry.slot)
    }

    /// Each name's scope and slot, in no order that is the same from one run to the next.
    fn iter(&self) -> impl Iterator<Item = ((Option<FuncIdx>, Name), SlotId)> + '_ {
        self.0
            .iter()
            .map(|entry| ((entry.scope.get(), entry.name), entry.slot))
    }

    /// Adds `base` to every slot.
    fn shift(&mut self, base: SlotId) {
        for entry in &mut self.0 {
            entry.slot += base;
        }
    }
}

/// What one slot holds, in the order the values arrived. Most slots hold nothing (they are only
/// read) or one value, so those two take no allocation and a slot takes 16 bytes; a slot of
/// more values keeps them boxed with a bit per value held (see [`ManyHeld`]).
#[derive(Debug, Default)]
enum HeldValues {
    #[default]
    Empty,
    One(Held),
    Many(Box<ManyHeld>),
}

/// The values of a slot that holds two or more, and a bit per value held (of 64, by a hash of
/// the value): a value whose bit is clear is not held, which spares most scans of the values
/// when a flow stores into a slot again.
#[derive(Debug)]
struct ManyHeld {
    values: Vec<Held>,
    bits: u64,
}

impl HeldValues {
    /// A slot holding `values`, none of them twice and at most [`MAX_HELD`], whose
    /// [`HeldValues::bit`]s are `bits`: what adding them in turn to an empty slot makes.
    fn distinct(values: Vec<Held>, bits: u64) -> Self {
        debug_assert!(values.len() <= MAX_HELD);
        match values.as_slice() {
            [] => HeldValues::Empty,
            [value] => HeldValues::One(*value),
            _ => HeldValues::Many(Box::new(ManyHeld { values, bits })),
        }
    }

    #[inline]
    fn as_slice(&self) -> &[Held] {
        match self {
            HeldValues::Empty => &[],
            HeldValues::One(value) => std::slice::from_ref(value),
            HeldValues::Many(many) => &many.values,
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn clear(&mut self) {
        *self = HeldValues::Empty;
    }

    /// Puts the values in another order: which values are held does not change.
    fn reorder(&mut self, order: impl FnOnce(&mut [Held])) {
        if let HeldValues::Many(many) = self {
            order(&mut many.values);
        }
    }

    /// Replaces each value by what `map` makes of it, in place; `None` when `map` gives `None`
    /// for some value (the slot is then left part mapped).
    fn map_each(&mut self, mut map: impl FnMut(Held) -> Option<Held>) -> Option<()> {
        match self {
            HeldValues::Empty => {}
            HeldValues::One(value) => *value = map(*value)?,
            HeldValues::Many(many) => {
                many.bits = 0;
                for value in &mut many.values {
                    *value = map(*value)?;
                    many.bits |= HeldValues::bit(*value);
                }
            }
        }
        Some(())
    }

    fn bit(value: Held) -> u64 {
        let (kind, id) = match value {
            Held::Function(f) => (0, f.0),
            Held::Class(c) => (1, c.0),
            Held::Instance(c) => (2, c.0),
            Held::External(q) => (3, q.0),
        };
        1 << ((id.wrapping_mul(0x9E37_79B9) >> 26) ^ kind)
    }

    /// Adds each of `values` in turn unless it is held or the slot is full; whether any was
    /// added. Each is looked for among those held from just after where the previous one was
    /// found or added (then before it): a flow applied again offers a slot what it offered
    /// before, mostly in the order the slot took it, so each value is then found at the first
    /// place looked at, not after a scan.
    fn add_all(&mut self, values: &[Held]) -> bool {
        let mut changed = false;
        let mut near = 0;
        for (at, value) in values.iter().enumerate() {
            match self {
                HeldValues::Empty => {
                    *self = HeldValues::One(*value);
                    near = 1;
                    changed = true;
                }
                HeldValues::One(first) => {
                    if first == value {
                        near = 1;
                        continue;
                    }
                    // Room for four, as a vector that grew from one value would have.
                    let mut held = Vec::with_capacity(4);
                    held.extend([*first, *value]);
                    let bits = HeldValues::bit(*first) | HeldValues::bit(*value);
                    *self = HeldValues::Many(Box::new(ManyHeld { values: held, bits }));
                    near = 2;
                    changed = true;
                }
                // The rest in one loop over the boxed values, without matching the kind again.
                HeldValues::Many(many) => {
                    for value in &values[at..] {
                        changed |= many.add_near(*value, &mut near);
                    }
                    return changed;
                }
            }
        }
        changed
    }
}

impl ManyHeld {
    /// Adds `value` unless it is held or the slot is full, looking for it from `near` on (then
    /// before it), and leaves `near` just after where it was found or added; whether it was
    /// added.
    #[inline]
    fn add_near(&mut self, value: Held, near: &mut usize) -> bool {
        if self.values.len() >= MAX_HELD {
            return false;
        }
        let bit = HeldValues::bit(value);
        if self.bits & bit != 0 {
            let start = (*near).min(self.values.len());
            let (before, after) = self.values.split_at(start);
            let found = match after.iter().position(|held| *held == value) {
                Some(at) => Some(start + at),
                None => before.iter().position(|held| *held == value),
            };
            if let Some(at) = found {
                *near = at + 1;
                return false;
            }
        }
        self.bits |= bit;
        self.values.push(value);
        *near = self.values.len();
        true
    }
}

/// What the slots hold, by slot id.
#[derive(Debug, Default)]
struct HeldTable {
    /// Each slot's place in `values`; [`UNSEEN`] until it is stored into or read while the values
    /// are built.
    places: Vec<u32>,
    values: Vec<HeldValues>,
}

const UNSEEN: u32 = u32::MAX;

impl HeldTable {
    fn new(slots: u32) -> HeldTable {
        HeldTable {
            places: vec![UNSEEN; slots as usize],
            values: Vec::new(),
        }
    }

    fn get(&self, slot: SlotId) -> Option<&HeldValues> {
        let place = *self.places.get(slot as usize)?;
        self.values.get(place as usize)
    }

    /// The place of `slot`, made when it has none. Asked for every slot a flow reads or writes
    /// at every application; the `#[inline]` hint alone was not taken.
    #[inline(always)]
    fn place(&mut self, slot: SlotId) -> u32 {
        let slot = slot as usize;
        if slot >= self.places.len() {
            self.places.resize(slot + 1, UNSEEN);
        }
        if self.places[slot] == UNSEEN {
            self.places[slot] = self.values.len() as u32;
            self.values.push(HeldValues::default());
        }
        self.places[slot]
    }
}

/// What constructing each class and calling each of its instances runs (`__init__`,
/// `__call__`), looked up on first use: the worklist asks at every application of a flow into a
/// call of a class or instance, and this spares the memoised look-up's lock and hashing. Filled
/// by whichever thread asks first (every thread finds the same method).
#[derive(Debug, Default)]
struct CallMethods {
    /// Per class, `[__init__, __call__]`: a function id, [`CallMethods::NONE`], or
    /// [`CallMethods::UNKNOWN`] until looked up.
    by_class: Vec<[AtomicU32; 2]>,
}

impl CallMethods {
    const UNKNOWN: u32 = u32::MAX;
    const NONE: u32 = u32::MAX - 1;

    fn new(project: &Project) -> CallMethods {
        CallMethods {
            by_class: (0..project.classes.len())
                .map(|_| [AtomicU32::new(Self::UNKNOWN), AtomicU32::new(Self::UNKNOWN)])
                .collect(),
        }
    }

    /// `__init__` of `class`, as [`Project::lookup_method`] finds it.
    fn init(&self, project: &Project, class: ClassId) -> Option<FuncId> {
        self.find(project, class, 0)
    }

    /// `__call__` of `class`, as [`Project::lookup_method`] finds it.
    fn call(&self, project: &Project, class: ClassId) -> Option<FuncId> {
        self.find(project, class, 1)
    }

    fn find(&self, project: &Project, class: ClassId, which: usize) -> Option<FuncId> {
        let name = if which == 0 { &*INIT } else { &*CALL };
        let Some(cells) = self.by_class.get(class.0 as usize) else {
            return project.lookup_method(class, name);
        };
        match cells[which].load(Ordering::Relaxed) {
            Self::UNKNOWN => {
                let found = project.lookup_method(class, name);
                cells[which].store(found.map_or(Self::NONE, |f| f.0), Ordering::Relaxed);
                found
            }
            Self::NONE => None,
            id => Some(FuncId(id)),
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Values<'p> {
    slots: Slots<'p>,
    held: HeldTable,
    called: CallMethods,
    /// Shared by the threads that resolve calls through values.
    externals: Mutex<Externals>,
    /// Which flows read and wrote each slot, for an update after an edit (`incremental.rs`).
    flows: Option<incremental::FlowState>,
    /// Whether every name holds what it held in the link these values were kept from.
    pub(super) as_before: bool,
    /// How they were found: the name of the link's step (`link/values`, `link/values kept`,
    /// `link/values updated`).
    pub(super) step: &'static str,
}

/// What the values stage learnt of a project, kept by a long-lived caller (the language server)
/// for the next link of the same files (see [`Values::from_kept`]).
#[derive(Debug, Default)]
pub struct KeptValues {
    held: HeldTable,
    externals: Externals,
    /// Not kept by the link cache: a link from those values learns them again after an edit of
    /// a value flow.
    flows: Option<incremental::FlowState>,
}

impl KeptValues {
    /// Whether these values can be updated for an edit of value flows: they hold which flows
    /// read and wrote each slot ([`super::Keep::ValuesAndFlows`]).
    pub fn updatable(&self) -> bool {
        self.flows.is_some()
    }
}

/// One value, or where values are read from, once names are resolved to slots.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Value(Held),
    /// What a slot holds.
    Slot(SlotId),
    /// A function of the tree, or what its decorators make of it.
    Function(FuncId),
}

/// What a name, a callee or a flow's source may hold, resolved as far as that does not depend on
/// what names hold: names are slots, and what is known whatever names hold is values. Applying a
/// flow then reads slots and moves values only; names are resolved once, in parallel.
#[derive(Debug, Clone, PartialEq)]
enum Plan {
    Nothing,
    One(Part),
    /// Boxed twice so that a plan takes 16 bytes: most are one part.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<Part>>),
    /// `attr` of what the plan may hold, where that depends on what names hold.
    Attribute(Box<(Plan, Name)>),
    /// What calling what the plan may hold gives, where that depends on what names hold.
    Returns(Box<Plan>),
}

impl Plan {
    fn of_values(values: Vec<Held>) -> Self {
        Plan::of_parts(values.into_iter().map(Part::Value).collect())
    }

    fn of_parts(parts: Vec<Part>) -> Self {
        match parts.as_slice() {
            [] => Plan::Nothing,
            [one] => Plan::One(*one),
            _ => Plan::Many(Box::new(parts)),
        }
    }

    fn parts(&self) -> Option<&[Part]> {
        match self {
            Plan::Nothing => Some(&[]),
            Plan::One(part) => Some(std::slice::from_ref(part)),
            Plan::Many(parts) => Some(parts),
            Plan::Attribute(_) | Plan::Returns(_) => None,
        }
    }

    /// The values held whatever names hold, when the plan reads no slot.
    fn values(&self) -> Option<Vec<Held>> {
        self.parts()?
            .iter()
            .map(|part| match part {
                Part::Value(held) => Some(*held),
                Part::Slot(_) | Part::Function(_) => None,
            })
            .collect()
    }

    /// Whether it holds nothing, whatever names hold.
    fn is_nothing(&self) -> bool {
        self.parts().is_some_and(<[Part]>::is_empty)
    }
}

/// Where a flow stores, with names resolved, as [`Values::plans_of`] finds it; the plans keep it
/// as a [`PlannedTarget`].
#[derive(Debug)]
enum Target {
    /// Nowhere, or these slots, whatever names hold.
    Nowhere,
    One(SlotId),
    Many(Vec<SlotId>),
    /// The parameters at the position of the flow's argument target of what the callee of a
    /// call of the flow's file may be (by its index in [`Plans::callees`]).
    PositionalArgument {
        callee: u32,
        index: u32,
    },
    KeywordArgument {
        callee: u32,
        keyword: Name,
    },
}

impl Target {
    fn argument(callee: u32, position: ArgPosition) -> Self {
        match position {
            ArgPosition::Index(index) => Target::PositionalArgument { callee, index },
            ArgPosition::Keyword(keyword) => Target::KeywordArgument { callee, keyword },
        }
    }

    fn of_slots(slots: Vec<SlotId>) -> Self {
        match slots.as_slice() {
            [] => Target::Nowhere,
            [one] => Target::One(*one),
            _ => Target::Many(slots),
        }
    }
}

/// A flow's source as the plans keep it: one part in place, the rest by its index in a table of
/// [`Plans`] (its parts, its attribute, or the callees whose returns it is). Every plan of the
/// project is held through the worklist, at the link's peak of memory: this takes 8 bytes, where a
/// [`Plan`] takes 16 and a box of its own beside.
#[derive(Debug, Clone, Copy)]
enum PlannedSource {
    One(Part),
    Many(u32),
    Attribute(u32),
    Returns(u32),
}

/// A flow's target as the plans keep it (12 bytes, see [`PlannedSource`]): more slots and a
/// keyword by their index in a table of [`Plans`], a callee by its index in [`Plans::callees`].
#[derive(Debug, Clone, Copy)]
enum PlannedTarget {
    One(SlotId),
    Many(u32),
    PositionalArgument { callee: u32, index: u32 },
    KeywordArgument { callee: u32, keyword: u32 },
}

/// A flow with its names resolved: 20 bytes.
#[derive(Debug, Clone, Copy)]
struct FlowPlan {
    source: PlannedSource,
    target: PlannedTarget,
}

/// What a flow's source may hold, read from its plans.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SourceView<'a> {
    Parts(&'a [Part]),
    /// `attr` of what the plan may hold.
    Attribute(&'a Plan, Name),
    /// What calling what the plan may hold gives.
    Returns(&'a Plan),
}

/// Where a flow stores, read from its plans.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TargetView<'a> {
    Slots(&'a [SlotId]),
    /// The parameters at `position` of what the callee (by its index in [`Plans::callees`]) may
    /// be.
    Argument {
        callee: u32,
        position: ArgPosition,
    },
}

/// Lists kept end to end in one vector, each by its index: no allocation of its own per list.
#[derive(Debug)]
struct Lists<T> {
    items: Vec<T>,
    /// Where each list ends in `items`.
    ends: Vec<u32>,
}

impl<T> Default for Lists<T> {
    fn default() -> Self {
        Lists {
            items: Vec::new(),
            ends: Vec::new(),
        }
    }
}

impl<T: Copy> Lists<T> {
    fn with_capacity(lists: usize, items: usize) -> Self {
        Lists {
            items: Vec::with_capacity(items),
            ends: Vec::with_capacity(lists),
        }
    }

    /// Adds a list; its index.
    fn push(&mut self, list: &[T]) -> u32 {
        self.items.extend_from_slice(list);
        self.ends.push(self.items.len() as u32);
        self.ends.len() as u32 - 1
    }

    fn get(&self, at: u32) -> &[T] {
        let at = at as usize;
        let start = if at == 0 { 0 } else { self.ends[at - 1] };
        &self.items[start as usize..self.ends[at] as usize]
    }

    fn len(&self) -> u32 {
        self.ends.len() as u32
    }

    /// Adds the lists of `other` after these, numbered on from them.
    fn append(&mut self, other: Lists<T>) {
        let base = self.items.len() as u32;
        self.items.extend(other.items);
        self.ends
            .extend(other.ends.into_iter().map(|end| end + base));
    }
}

/// The flows of a file (or, joined, of every file in file order) with their names resolved, and
/// what the callees of the calls they store into may be. The plans of every file are held through
/// the worklist, at the link's peak of memory: joined, they take their exact length.
#[derive(Debug, Default)]
struct Plans {
    flows: Vec<FlowPlan>,
    callees: Vec<Plan>,
    /// The parts of sources of more than one part.
    parts: Lists<Part>,
    /// The slots of targets of more than one slot.
    slots: Lists<SlotId>,
    attributes: Vec<(Plan, Name)>,
    returns: Vec<Plan>,
    keywords: Vec<Name>,
}

impl Plans {
    /// Adds a flow's plan.
    fn push(&mut self, source: Plan, target: Target) {
        let source = match source {
            Plan::Nothing => PlannedSource::Many(self.parts.push(&[])),
            Plan::One(part) => PlannedSource::One(part),
            Plan::Many(parts) => PlannedSource::Many(self.parts.push(&parts)),
            Plan::Attribute(attribute) => {
                self.attributes.push(*attribute);
                PlannedSource::Attribute(self.attributes.len() as u32 - 1)
            }
            Plan::Returns(callees) => {
                self.returns.push(*callees);
                PlannedSource::Returns(self.returns.len() as u32 - 1)
            }
        };
        let target = match target {
            Target::Nowhere => PlannedTarget::Many(self.slots.push(&[])),
            Target::One(slot) => PlannedTarget::One(slot),
            Target::Many(slots) => PlannedTarget::Many(self.slots.push(&slots)),
            Target::PositionalArgument { callee, index } => {
                PlannedTarget::PositionalArgument { callee, index }
            }
            Target::KeywordArgument { callee, keyword } => {
                self.keywords.push(keyword);
                PlannedTarget::KeywordArgument {
                    callee,
                    keyword: self.keywords.len() as u32 - 1,
                }
            }
        };
        self.flows.push(FlowPlan { source, target });
    }

    /// Adds the plan of the flow at `at` of `file` (whose flows are applied already: its
    /// attribute and returns are moved out), with its parts, slots, keyword and callee;
    /// `callees` is where each callee of `file` went (an [`UNSEEN`] one is copied).
    fn push_from(&mut self, file: &mut Plans, at: usize, callees: &mut [u32]) {
        let flow = file.flows[at];
        let source = match flow.source {
            PlannedSource::One(part) => PlannedSource::One(part),
            PlannedSource::Many(parts) => {
                PlannedSource::Many(self.parts.push(file.parts.get(parts)))
            }
            PlannedSource::Attribute(attribute) => {
                let (objects, attr) = &mut file.attributes[attribute as usize];
                let objects = std::mem::replace(objects, Plan::Nothing);
                self.attributes.push((objects, *attr));
                PlannedSource::Attribute(self.attributes.len() as u32 - 1)
            }
            PlannedSource::Returns(returns) => {
                let callees = std::mem::replace(&mut file.returns[returns as usize], Plan::Nothing);
                self.returns.push(callees);
                PlannedSource::Returns(self.returns.len() as u32 - 1)
            }
        };
        let mut callee = |plans: &mut Plans, at: u32| {
            let to = &mut callees[at as usize];
            if *to == UNSEEN {
                *to = plans.callees.len() as u32;
                plans.callees.push(file.callees[at as usize].clone());
            }
            *to
        };
        let target = match flow.target {
            PlannedTarget::One(slot) => PlannedTarget::One(slot),
            PlannedTarget::Many(slots) => {
                PlannedTarget::Many(self.slots.push(file.slots.get(slots)))
            }
            PlannedTarget::PositionalArgument { callee: at, index } => {
                PlannedTarget::PositionalArgument {
                    callee: callee(self, at),
                    index,
                }
            }
            PlannedTarget::KeywordArgument {
                callee: at,
                keyword,
            } => {
                let callee = callee(self, at);
                self.keywords.push(file.keywords[keyword as usize]);
                PlannedTarget::KeywordArgument {
                    callee,
                    keyword: self.keywords.len() as u32 - 1,
                }
            }
        };
        self.flows.push(FlowPlan { source, target });
    }

    /// Frees what the vectors hold beyond their length.
    fn shrink_to_fit(&mut self) {
        self.flows.shrink_to_fit();
        self.callees.shrink_to_fit();
        self.parts.items.shrink_to_fit();
        self.parts.ends.shrink_to_fit();
        self.slots.items.shrink_to_fit();
        self.slots.ends.shrink_to_fit();
        self.attributes.shrink_to_fit();
        self.returns.shrink_to_fit();
        self.keywords.shrink_to_fit();
    }

    /// What the source of the flow planned at `at` reads.
    fn source(&self, at: usize) -> SourceView<'_> {
        match &self.flows[at].source {
            PlannedSource::One(part) => SourceView::Parts(std::slice::from_ref(part)),
            PlannedSource::Many(parts) => SourceView::Parts(self.parts.get(*parts)),
            PlannedSource::Attribute(attribute) => {
                let (objects, attr) = &self.attributes[*attribute as usize];
                SourceView::Attribute(objects, *attr)
            }
            PlannedSource::Returns(callees) => {
                SourceView::Returns(&self.returns[*callees as usize])
            }
        }
    }

    /// Where the flow planned at `at` stores.
    fn target(&self, at: usize) -> TargetView<'_> {
        match &self.flows[at].target {
            PlannedTarget::One(slot) => TargetView::Slots(std::slice::from_ref(slot)),
            PlannedTarget::Many(slots) => TargetView::Slots(self.slots.get(*slots)),
            PlannedTarget::PositionalArgument { callee, index } => TargetView::Argument {
                callee: *callee,
                position: ArgPosition::Index(*index),
            },
            PlannedTarget::KeywordArgument { callee, keyword } => TargetView::Argument {
                callee: *callee,
                position: ArgPosition::Keyword(self.keywords[*keyword as usize]),
            },
        }
    }

    /// The plans of every file in one list, in file order, each flow by its place there; a
    /// flow's callee, parts, slots, attribute, returns and keyword become their indexes among
    /// every file's. Each file's plans are freed as they are moved.
    fn joined(files: Vec<Plans>) -> Plans {
        let sum = |count: fn(&Plans) -> usize| files.iter().map(count).sum::<usize>();
        let mut joined = Plans {
            flows: Vec::with_capacity(sum(|p| p.flows.len())),
            callees: Vec::with_capacity(sum(|p| p.callees.len())),
            parts: Lists::with_capacity(sum(|p| p.parts.ends.len()), sum(|p| p.parts.items.len())),
            slots: Lists::with_capacity(sum(|p| p.slots.ends.len()), sum(|p| p.slots.items.len())),
            attributes: Vec::with_capacity(sum(|p| p.attributes.len())),
            returns: Vec::with_capacity(sum(|p| p.returns.len())),
            keywords: Vec::with_capacity(sum(|p| p.keywords.len())),
        };
        for file in files {
            let callees = joined.callees.len() as u32;
            let (parts, slots) = (joined.parts.len(), joined.slots.len());
            let attributes = joined.attributes.len() as u32;
            let returns = joined.returns.len() as u32;
            let keywords = joined.keywords.len() as u32;
            joined
                .flows
                .extend(file.flows.into_iter().map(|flow| FlowPlan {
                    source: match flow.source {
                        PlannedSource::One(part) => PlannedSource::One(part),
                        PlannedSource::Many(at) => PlannedSource::Many(at + parts),
                        PlannedSource::Attribute(at) => PlannedSource::Attribute(at + attributes),
                        PlannedSource::Returns(at) => PlannedSource::Returns(at + returns),
                    },
                    target: match flow.target {
                        PlannedTarget::One(slot) => PlannedTarget::One(slot),
                        PlannedTarget::Many(at) => PlannedTarget::Many(at + slots),
                        PlannedTarget::PositionalArgument { callee, index } => {
                            PlannedTarget::PositionalArgument {
                                callee: callee + callees,
                                index,
                            }
                        }
                        PlannedTarget::KeywordArgument { callee, keyword } => {
                            PlannedTarget::KeywordArgument {
                                callee: callee + callees,
                                keyword: keyword + keywords,
                            }
                        }
                    },
                }));
            joined.callees.extend(file.callees);
            joined.parts.append(file.parts);
            joined.slots.append(file.slots);
            joined.attributes.extend(file.attributes);
            joined.returns.extend(file.returns);
            joined.keywords.extend(file.keywords);
        }
        joined
    }
}

/// What the callee of a call that flows go into may be, found once per call.
enum CalleesOfCall {
    /// These values, whatever names hold.
    Fixed(Vec<Held>),
    /// What a plan, by its index in [`Plans::callees`], holds when the flow is applied.
    Planned(u32),
}

/// A decorated function and, per decorator from the innermost, what its name may hold: as a
/// name of the enclosing function, and as a name of the module when that holds nothing.
type DecoratorPlans = (FuncId, Vec<(Plan, Option<Plan>)>);

/// The flows still to apply, and which flows read each slot (by its place in [`HeldTable`]).
struct Worklist {
    queue: VecDeque<u32>,
    queued: Vec<bool>,
    dependents: FlowLists,
    /// Which flows stored into each slot (by its place), to undo them after an edit; recorded
    /// only when `record_writers` (for an update, [`super::Keep::ValuesAndFlows`]).
    writers: FlowLists,
    record_writers: bool,
    /// Whether the flow being applied is applied for the first time: it is then in no list of
    /// dependents yet (each flow is first applied in order, before any is applied again), and
    /// only a repeat of its last note there needs leaving out.
    first_application: bool,
}

impl Worklist {
    fn push(&mut self, id: u32) {
        queue_flow(&mut self.queue, &mut self.queued, id);
    }

    /// Queues every flow that read `place` (that is not queued already).
    fn push_readers(&mut self, place: usize) {
        let (queue, queued) = (&mut self.queue, &mut self.queued);
        self.dependents
            .for_each(place, |id| queue_flow(queue, queued, id));
    }

    /// Queues every flow that stored into `place` (that is not queued already).
    fn push_writers(&mut self, place: usize) {
        let (queue, queued) = (&mut self.queue, &mut self.queued);
        self.writers
            .for_each(place, |id| queue_flow(queue, queued, id));
    }

    /// Notes that flow `id` read `place` (and is applied again when it grows).
    fn read_by(&mut self, place: usize, id: u32) {
        if self.first_application {
            self.dependents.note(place, id);
        } else {
            self.dependents.note_once(place, id);
        }
    }

    fn written_by(&mut self, place: usize, id: u32) {
        if !self.record_writers {
            return;
        }
        if self.first_application {
            self.writers.note(place, id);
        } else {
            self.writers.note_once(place, id);
        }
    }
}

#[inline]
fn queue_flow(queue: &mut VecDeque<u32>, queued: &mut Vec<bool>, id: u32) {
    let id = id as usize;
    if id >= queued.len() {
        queued.resize(id + 1, false);
    }
    if !queued[id] {
        queued[id] = true;
        queue.push_back(id as u32);
    }
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

/// The buffers [`Values::apply`] reuses from one flow to the next.
#[derive(Default)]
struct Applied {
    sources: Vec<Held>,
    targets: Vec<SlotId>,
    reads: Vec<SlotId>,
    /// What the callee of a call the flow's argument goes into may be.
    callees: Vec<Held>,
}

/// By function: whether some flow stores into what it returns. What a function no flow returns
/// through returns never grows, so reading it makes no flow depend on it.
fn returning(project: &Project) -> Vec<bool> {
    let mut returning = vec![false; project.function_count()];
    for (file, f) in project.files.iter().enumerate() {
        for flow in &f.facts.flows {
            if flow.target() == FlowTarget::Return
                && let Some(function) = flow.function()
            {
                returning[project.function_id(file as FileId, function).0 as usize] = true;
            }
        }
    }
    returning
}

impl<'p> Values<'p> {
    /// Applies every flow of the project until nothing changes. With `flows`, which flows read
    /// and wrote each slot is kept with the values, for an update after an edit
    /// ([`Values::update`]); nothing else reads it.
    pub(super) fn build(project: &'p Project, index: &Index<'p>, flows: bool) -> Values<'p> {
        let slots = Slots::new(project);
        let mut values = Values {
            held: HeldTable::new(slots.count),
            slots,
            called: CallMethods::new(project),
            step: "link/values",
            ..Values::default()
        };
        // Names are resolved file by file in parallel; what is left is the order-dependent part:
        // the first values to arrive in a slot are the ones kept.
        // With `flows`, also each plan's index among its file's flows, for an update.
        let (files, flow_of): (Vec<Plans>, Vec<Vec<u32>>) = project
            .files
            .par_iter()
            .enumerate()
            .map(|(file, f)| {
                let mut of_flow = Vec::new();
                let numbered = if flows { Some(&mut of_flow) } else { None };
                let plans =
                    values.plans_of_numbered(project, index, file as FileId, &f.facts, numbered);
                (plans, of_flow)
            })
            .unzip();
        let counts: Vec<u32> = files.iter().map(|p| p.flows.len() as u32).collect();
        let decorated = values.decorator_plans(project, index);
        // By function: whether some flow stores into what it returns.
        let returning = returning(project);
        let mut work = Worklist {
            queue: VecDeque::new(),
            queued: Vec::new(),
            dependents: FlowLists::default(),
            writers: FlowLists::default(),
            record_writers: flows,
            first_application: true,
        };
        let mut applied = Applied::default();
        READS.with(|reads| *reads.borrow_mut() = Some(Vec::new()));
        // Every flow is applied once, in order, before the flows queued again. A flow that read
        // no slot then is never queued again (`flows` aside, which lists what each flow wrote):
        // only the plans of the others are kept, numbered in order, and each file's plans are
        // freed once its flows are applied, so that the worklist's peak holds no plan of a flow
        // applied once (BENCHMARKS.md, "Round 42: the values stage's peak").
        let plans = if flows {
            let plans = Plans::joined(files);
            for id in 0..plans.flows.len() as u32 {
                values.apply(
                    project,
                    (&plans, id as usize),
                    id,
                    &returning,
                    &mut work,
                    &mut applied,
                    None,
                );
            }
            plans
        } else {
            let mut kept = Plans::default();
            for mut file in files {
                let mut callees = vec![UNSEEN; file.callees.len()];
                for at in 0..file.flows.len() {
                    // Taken by the next flow unless this one is kept: a flow that read nothing
                    // is in no list of dependents, nor queued.
                    let id = kept.flows.len() as u32;
                    if let Some(queued) = work.queued.get_mut(id as usize) {
                        *queued = false;
                    }
                    let read = values.apply(
                        project,
                        (&file, at),
                        id,
                        &returning,
                        &mut work,
                        &mut applied,
                        None,
                    );
                    if read {
                        kept.push_from(&mut file, at, &mut callees);
                    }
                }
            }
            kept.shrink_to_fit();
            kept
        };
        work.first_application = false;
        let mut converged = false;
        for _round in 0..MAX_ROUNDS {
            while let Some(id) = work.queue.pop_front() {
                work.queued[id as usize] = false;
                values.apply(
                    project,
                    (&plans, id as usize),
                    id,
                    &returning,
                    &mut work,
                    &mut applied,
                    None,
                );
            }
            let stores = values.decorations(project, &decorated);
            take_reads(&mut applied.reads);
            let mut changed = false;
            for (slot, held) in stores {
                changed |= values.store(&mut work, slot, &held);
            }
            if !changed {
                converged = true;
                break;
            }
        }
        READS.with(|reads| *reads.borrow_mut() = None);
        if flows {
            let mut offset = 0;
            let of_file = counts
                .iter()
                .map(|count| {
                    let ids = (offset..offset + count).collect();
                    offset += count;
                    ids
                })
                .collect();
            values.flows = Some(incremental::FlowState::new(
                &values.slots,
                of_file,
                flow_of,
                work,
                converged,
            ));
        } else {
            // Freed before the sort, which is where the link's memory peaks.
            drop(work);
        }
        drop(plans);
        values.canonical(None);
        values
    }

    /// Applies one flow (`id`): stores what its source holds into its targets, and notes what it
    /// read and wrote. With `region`, every slot it stores into joins it (`incremental.rs`).
    /// Whether it was noted as reading some slot (else nothing queues it again, but an update's
    /// record of what it wrote).
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        project: &Project,
        (plans, at): (&Plans, usize),
        id: u32,
        returning: &[bool],
        work: &mut Worklist,
        applied: &mut Applied,
        region: Option<&mut incremental::Region>,
    ) -> bool {
        applied.sources.clear();
        applied.targets.clear();
        self.eval_source(project, plans.source(at), &mut applied.sources);
        if !applied.sources.is_empty() {
            self.targets(
                project,
                &plans.callees,
                plans.target(at),
                (&mut applied.targets, &mut applied.callees),
            );
        }
        // Evaluated again when anything it read changes (what no flow writes never does).
        take_reads(&mut applied.reads);
        let mut read = false;
        for &slot in &applied.reads {
            if slot < self.slots.functions && !returning[slot as usize] {
                continue;
            }
            let place = self.held.place(slot) as usize;
            work.read_by(place, id);
            read = true;
        }
        let mut region = region;
        for slot in applied.targets.drain(..) {
            let place = self.held.place(slot);
            work.written_by(place as usize, id);
            if let Some(region) = region.as_deref_mut() {
                self.enter(region, place as usize, work);
            }
            self.store_at(work, place, &applied.sources);
        }
        read
    }

    /// Puts each slot's values (of the places `places`, or of every place) in one order, whatever
    /// order they arrived in: values of the tree by kind and id, then external names by name
    /// (their ids depend on the order threads interned them in). Each value is compared by one
    /// integer: an external name by its rank among the names, found once for all slots.
    fn canonical(&mut self, places: Option<&[usize]>) {
        let externals = self
            .externals
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut by_name: Vec<u32> = (0..externals.names.len() as u32).collect();
        by_name.sort_unstable_by(|a, b| {
            let name = |i: &u32| externals.names[*i as usize].as_str();
            name(a).cmp(name(b))
        });
        let mut rank = vec![0; by_name.len()];
        for (at, id) in by_name.iter().enumerate() {
            rank[*id as usize] = at as u32;
        }
        // The id of the external name of each rank, with its class bit, as interned.
        let by_rank: Vec<ExternalId> = by_name
            .iter()
            .map(|id| externals.ids[&externals.names[*id as usize]])
            .collect();
        let key = |value: &Held| -> u64 {
            let (kind, id) = match *value {
                Held::Function(f) => (0, f.0),
                Held::Class(c) => (1, c.0),
                Held::Instance(c) => (2, c.0),
                Held::External(q) => (3, rank[(q.0 & !NAMES_A_CLASS) as usize]),
            };
            (kind << 32) | u64::from(id)
        };
        // The keys are sorted, not the values: a slot holds at most `MAX_HELD` of them, and a
        // key gives its value back.
        let sort = |held: &mut HeldValues| {
            held.reorder(|values| {
                if values.len() > MAX_HELD {
                    values.sort_unstable_by_key(key);
                    return;
                }
                let mut keys = [0u64; MAX_HELD];
                let keys = &mut keys[..values.len()];
                for (k, value) in keys.iter_mut().zip(values.iter()) {
                    *k = key(value);
                }
                keys.sort_unstable();
                for (value, k) in values.iter_mut().zip(keys.iter()) {
                    let id = *k as u32;
                    *value = match k >> 32 {
                        0 => Held::Function(FuncId(id)),
                        1 => Held::Class(ClassId(id)),
                        2 => Held::Instance(ClassId(id)),
                        _ => Held::External(by_rank[id as usize]),
                    };
                }
            });
        };
        match places {
            None => self.held.values.par_iter_mut().for_each(sort),
            Some(places) => {
                for place in places {
                    if let Some(held) = self.held.values.get_mut(*place) {
                        sort(held);
                    }
                }
            }
        }
    }

    /// The values of a previous link, for a project whose files read the same for this stage as
    /// that link's ([`super::values_signature`]): applying the flows again would hold the same.
    pub(super) fn from_kept(project: &'p Project, kept: KeptValues) -> Values<'p> {
        Values {
            slots: Slots::new(project),
            held: kept.held,
            called: CallMethods::new(project),
            externals: Mutex::new(kept.externals),
            flows: kept.flows,
            as_before: true,
            step: "link/values kept",
        }
    }

    /// What was learnt, without the borrows of the project; with which flows read and wrote each
    /// slot only when `flows` (as [`super::Keep::ValuesAndFlows`] asks).
    pub(super) fn into_kept(self, flows: bool) -> KeptValues {
        KeptValues {
            held: self.held,
            flows: if flows { self.flows } else { None },
            externals: self
                .externals
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// The flows of `file` with their names resolved. A flow that can never store anything is
    /// left out: what it reads holds nothing whatever names hold, or it stores nowhere (a call
    /// whose callees are known and none of them is of the tree). Leaving it out changes no
    /// result: applying it would store nothing, and the other flows keep their order.
    fn plans_of(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        facts: &FileFacts,
    ) -> Plans {
        self.plans_of_numbered(project, index, file, facts, None)
    }

    /// [`Values::plans_of`], and with `of_flow`, the index among the file's flows of each
    /// plan's flow.
    fn plans_of_numbered(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        facts: &FileFacts,
        mut of_flow: Option<&mut Vec<u32>>,
    ) -> Plans {
        let calls = &facts.calls;
        // Not reserved at the file's flow count: many flows plan to nothing, and every file's
        // plans live at once until they are joined (reserved, the cold run's peak grew 3-4 MB).
        let mut plans = Plans::default();
        // By the index of a call in the file, what its callee is; many flows go into one call,
        // whose callee is resolved once. Indexed, not hashed: the file's calls are numbered
        // densely.
        let mut callees: Vec<Option<CalleesOfCall>> = Vec::new();
        for (at, flow) in facts.flows.iter().enumerate() {
            let target = match &flow.target() {
                FlowTarget::Name { name, global } => {
                    let scope = if *global { None } else { flow.function() };
                    Target::of_slots(
                        self.slots
                            .name(project, (file, scope), *name)
                            .into_iter()
                            .collect(),
                    )
                }
                FlowTarget::Return => Target::of_slots(
                    flow.function()
                        .map(|f| self.slots.returned(project.function_id(file, f)))
                        .into_iter()
                        .collect(),
                ),
                argument @ (FlowTarget::PositionalArgument { call, .. }
                | FlowTarget::KeywordArgument { call, .. }) => {
                    let Some((_, position)) = argument.argument() else {
                        unreachable!("an argument target has a position")
                    };
                    // A call missing from the file has no callee (and no place among them).
                    let mut missing = None;
                    let at_call = *call as usize;
                    let entry = if at_call < calls.len() {
                        if callees.is_empty() {
                            callees.resize_with(calls.len(), || None);
                        }
                        &mut callees[at_call]
                    } else {
                        &mut missing
                    };
                    let known = entry.get_or_insert_with(|| {
                        let plan = self.call_plan(project, index, file, calls, *call);
                        match plan.values() {
                            Some(fixed) => CalleesOfCall::Fixed(fixed),
                            None => {
                                plans.callees.push(plan);
                                CalleesOfCall::Planned(plans.callees.len() as u32 - 1)
                            }
                        }
                    });
                    match known {
                        CalleesOfCall::Fixed(fixed) => {
                            let mut slots = Vec::new();
                            for callee in fixed.iter() {
                                self.parameter(project, *callee, position, &mut slots);
                            }
                            Target::of_slots(slots)
                        }
                        CalleesOfCall::Planned(callee) => Target::argument(*callee, position),
                    }
                }
            };
            if matches!(target, Target::Nowhere) {
                continue;
            }
            let source = match &flow.source() {
                FlowSource::Name { receiver, name } => {
                    self.name_plan(project, index, file, flow.function(), *receiver, *name)
                }
                // A call arguments flow into was resolved already: what calling it gives is
                // planned from what its callee may be.
                FlowSource::CallResult(call) => {
                    let callees = match callees.get(*call as usize).and_then(Option::as_ref) {
                        Some(CalleesOfCall::Fixed(fixed)) => Plan::of_values(fixed.clone()),
                        Some(CalleesOfCall::Planned(planned)) => {
                            plans.callees[*planned as usize].clone()
                        }
                        None => self.call_plan(project, index, file, calls, *call),
                    };
                    self.returns_plan(project, callees)
                }
            };
            if source.is_nothing() {
                continue;
            }
            if let Some(of_flow) = of_flow.as_deref_mut() {
                of_flow.push(at as u32);
            }
            plans.push(source, target);
        }
        plans
    }

    /// The decorators of each function whose decorators are all functions named as they are
    /// (not called, `@route("/")`), resolved.
    fn decorator_plans(&self, project: &'p Project, index: &Index<'_>) -> Vec<DecoratorPlans> {
        (0..project.function_count() as u32)
            .into_par_iter()
            .filter_map(|id| {
                let function = FuncId(id);
                let (file, facts) = project.function(function);
                if facts.decorators.is_empty() || facts.decorators.iter().any(|d| d.called) {
                    return None;
                }
                let plans = facts
                    .decorators
                    .iter()
                    .rev()
                    .map(|decorator| {
                        let plan = |receiver| {
                            self.name_plan(
                                project,
                                index,
                                file,
                                facts.parent,
                                receiver,
                                decorator.name,
                            )
                        };
                        match facts.parent {
                            Some(_) => (plan(CallReceiver::Local), Some(plan(CallReceiver::Name))),
                            None => (plan(CallReceiver::Name), None),
                        }
                    })
                    .collect();
                Some((function, plans))
            })
            .collect()
    }

    /// Adds `values` to `slot`, and queues the flows that read it when it grew.
    fn store(&mut self, work: &mut Worklist, slot: SlotId, values: &[Held]) -> bool {
        let place = self.held.place(slot);
        self.store_at(work, place, values)
    }

    /// [`Values::store`] into the slot whose place is `place`.
    fn store_at(&mut self, work: &mut Worklist, place: u32, values: &[Held]) -> bool {
        let held = &mut self.held.values[place as usize];
        if held.len() >= MAX_HELD {
            return false;
        }
        let changed = held.add_all(values);
        if changed {
            work.push_readers(place as usize);
        }
        changed
    }

    /// Applies the decorators of the tree to the functions they decorate: each decorator's first
    /// parameter gets what is decorated, and the name gets what the decorator returns. A decorator
    /// that is called (`@route("/")`) or not a function of the tree leaves the name to the
    /// function itself.
    fn decorations(
        &self,
        project: &Project,
        decorated: &[DecoratorPlans],
    ) -> Vec<(SlotId, Vec<Held>)> {
        let mut stores = Vec::new();
        for (function, decorators) in decorated {
            let mut current = vec![Held::Function(*function)];
            for (plan, module_level) in decorators {
                let mut callables = Vec::new();
                self.eval(project, plan, &mut callables);
                if callables.is_empty()
                    && let Some(module_level) = module_level
                {
                    self.eval(project, module_level, &mut callables);
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
                stores.push((self.slots.decorated(*function), current));
            }
        }
        stores
    }

    /// What the name of `function` holds when decorators of the tree replace it.
    pub(super) fn decorated(&self, function: FuncId) -> Option<&[Held]> {
        let slot = self.slots.decorated(function);
        note_read(slot);
        // A slot only read has a place and holds nothing: the function is not replaced.
        self.held
            .get(slot)
            .map(HeldValues::as_slice)
            .filter(|held| !held.is_empty())
    }

    /// The function itself, or what its decorators made of it.
    fn function_value(&self, function: FuncId, out: &mut Vec<Held>) {
        match self.decorated(function) {
            Some(held) => out.extend_from_slice(held),
            None => out.push(Held::Function(function)),
        }
    }

    fn get(&self, slot: SlotId) -> &[Held] {
        note_read(slot);
        self.held.get(slot).map_or(&[], HeldValues::as_slice)
    }

    /// What a plan may hold now.
    fn eval(&self, project: &Project, plan: &Plan, out: &mut Vec<Held>) {
        match plan {
            Plan::Nothing => {}
            Plan::One(part) => self.part(*part, out),
            Plan::Many(parts) => {
                for part in parts.iter() {
                    self.part(*part, out);
                }
            }
            Plan::Attribute(attribute) => {
                let (objects, attr) = &**attribute;
                self.eval_attribute(project, objects, *attr, out);
            }
            Plan::Returns(callees) => self.eval_returns(project, callees, out),
        }
    }

    /// What a flow's source may hold now.
    fn eval_source(&self, project: &Project, source: SourceView<'_>, out: &mut Vec<Held>) {
        match source {
            SourceView::Parts(parts) => {
                for part in parts {
                    self.part(*part, out);
                }
            }
            SourceView::Attribute(objects, attr) => {
                self.eval_attribute(project, objects, attr, out);
            }
            SourceView::Returns(callees) => self.eval_returns(project, callees, out),
        }
    }

    // The objects or callees are found at the end of `out`, what they give is added after them,
    // then they are taken out: no buffer of their own each time.

    /// `attr` of what `objects` may hold now.
    fn eval_attribute(&self, project: &Project, objects: &Plan, attr: Name, out: &mut Vec<Held>) {
        let start = out.len();
        self.eval(project, objects, out);
        let end = out.len();
        for at in start..end {
            self.attribute(project, out[at], attr, out);
        }
        out.drain(start..end);
    }

    /// What calling what `callees` may hold now gives.
    fn eval_returns(&self, project: &Project, callees: &Plan, out: &mut Vec<Held>) {
        let start = out.len();
        self.eval(project, callees, out);
        let end = out.len();
        for at in start..end {
            if let Some(part) = self.given(project, out[at]) {
                self.part(part, out);
            }
        }
        out.drain(start..end);
    }

    // Always inlined (the hint alone is not taken): over a million calls a run, from the
    // evaluation of every flow's source and callees, each a few instructions of work.
    #[inline(always)]
    fn part(&self, part: Part, out: &mut Vec<Held>) {
        match part {
            Part::Value(held) => out.push(held),
            Part::Slot(slot) => out.extend_from_slice(self.get(slot)),
            Part::Function(function) => self.function_value(function, out),
        }
    }

    /// What calling `callee` gives. An object of an external class is named like the class, as
    /// PyCG names methods of external objects (`ext.Cls.fun`); what external functions return is
    /// not known.
    fn given(&self, project: &Project, callee: Held) -> Option<Part> {
        match callee {
            Held::Function(f) => Some(Part::Slot(self.slots.returned(f))),
            Held::Class(c) => Some(Part::Value(Held::Instance(c))),
            Held::Instance(c) => self
                .called
                .call(project, c)
                .map(|call| Part::Slot(self.slots.returned(call))),
            Held::External(q) if q.names_a_class() => Some(Part::Value(Held::External(q))),
            Held::External(_) => None,
        }
    }

    /// What calling what `callees` may hold gives.
    fn returns_plan(&self, project: &Project, callees: Plan) -> Plan {
        match callees.values() {
            Some(fixed) => Plan::of_parts(
                fixed
                    .into_iter()
                    .filter_map(|callee| self.given(project, callee))
                    .collect(),
            ),
            None => Plan::Returns(Box::new(callees)),
        }
    }

    /// The slots a flow stores into.
    fn targets(
        &self,
        project: &Project,
        callees: &[Plan],
        target: TargetView<'_>,
        (out, called): (&mut Vec<SlotId>, &mut Vec<Held>),
    ) {
        match target {
            TargetView::Slots(slots) => out.extend_from_slice(slots),
            TargetView::Argument { callee, position } => {
                called.clear();
                self.eval(project, &callees[callee as usize], called);
                for callee in called.iter() {
                    self.parameter(project, *callee, position, out);
                }
            }
        }
    }

    /// The slot of the parameter an argument at `position` of a call of `callee` goes to.
    fn parameter(
        &self,
        project: &Project,
        callee: Held,
        position: ArgPosition,
        out: &mut Vec<SlotId>,
    ) {
        let (function, bound) = match callee {
            Held::Function(f) => (f, false),
            Held::Class(c) => match self.called.init(project, c) {
                Some(init) => (init, true),
                None => return,
            },
            Held::Instance(c) => match self.called.call(project, c) {
                Some(call) => (call, true),
                None => return,
            },
            Held::External(_) => return,
        };
        let facts = project.function(function).1;
        let params = &facts.params;
        let skip = usize::from(bound || has_receiver(facts.kind));
        // Where the parameter is among its function's is its slot: no parameter name repeats in
        // a function (CPython refuses the file, and so does `syntax::rejected`).
        let position = match position {
            ArgPosition::Index(i) => Some(i as usize + skip).filter(|&at| at < params.len()),
            ArgPosition::Keyword(name) => params.iter().position(|p| p.name == name),
        };
        if let Some(position) = position {
            out.push(self.slots.param_at(function, position));
        }
    }

    /// What the callee of the call site at index `call` of `file` may be.
    fn call_plan(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        calls: &[CallSite],
        call: u32,
    ) -> Plan {
        match calls.get(call as usize) {
            Some(site) => self.callee_plan(project, index, file, calls, site),
            None => Plan::Nothing,
        }
    }

    /// What the callee of `site` may be.
    fn callee_plan(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        calls: &[CallSite],
        site: &CallSite,
    ) -> Plan {
        match site.receiver() {
            CallReceiver::Name | CallReceiver::Local => self.name_plan(
                project,
                index,
                file,
                site.function(),
                site.receiver(),
                site.callee,
            ),
            CallReceiver::CallResult(call) => {
                let callees = self.call_plan(project, index, file, calls, call);
                self.returns_plan(project, callees)
            }
            _ => {
                let mut scratch = Vec::new();
                let mut targets = Vec::new();
                resolve_site(project, index, file, site, &mut scratch, &mut targets);
                Plan::of_values(
                    targets
                        .into_iter()
                        .map(|(f, _)| Held::Function(f))
                        .collect(),
                )
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
        let calls = &project.file(file).facts.calls;
        let plan = self.callee_plan(project, index, file, calls, site);
        self.eval(project, &plan, out);
    }

    /// What a name as written may hold: `f`, `mod.f`, `obj.method`, `self.method` (`method`).
    fn name_plan(
        &self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        function: Option<FuncIdx>,
        receiver: CallReceiver,
        name: Name,
    ) -> Plan {
        match receiver {
            CallReceiver::Local => match split_name(name, false) {
                None => self.local(project, index, file, function, name),
                Some((head, rest)) => {
                    let heads = self.local(project, index, file, function, head);
                    self.attribute_plan(project, heads, rest)
                }
            },
            CallReceiver::Name => match self.name_target(project, file, function, name) {
                Some(target) => target,
                None => match split_name(name, true) {
                    Some((prefix, attr)) => {
                        let heads =
                            self.name_plan(project, index, file, function, receiver, prefix);
                        self.attribute_plan(project, heads, attr)
                    }
                    None => Plan::Nothing,
                },
            },
            CallReceiver::SelfParam | CallReceiver::Class => {
                let class = function.and_then(|f| project.method_class(file, f));
                let mut found = Vec::new();
                if let Some(class) = class
                    && !name.contains('.')
                {
                    index.dispatch(project, class, &name, &mut found);
                }
                Plan::of_values(found.into_iter().map(Held::Function).collect())
            }
            CallReceiver::Super | CallReceiver::NewInstance | CallReceiver::CallResult(_) => {
                Plan::Nothing
            }
        }
    }

    /// `attr` of what `objects` may hold.
    fn attribute_plan(&self, project: &Project, objects: Plan, attr: Name) -> Plan {
        match objects.values() {
            Some(fixed) => {
                let mut found = Vec::new();
                self.attributes(project, &fixed, attr, &mut found);
                Plan::of_values(found)
            }
            None => Plan::Attribute(Box::new((objects, attr))),
        }
    }

    /// What the plain name `name` of `function` of `file` denotes; `None` for a name that does
    /// not resolve and that no flow stores into.
    fn name_target(
        &self,
        project: &Project,
        file: FileId,
        function: Option<FuncIdx>,
        name: Name,
    ) -> Option<Plan> {
        let slot = |file: FileId, name: Name| {
            self.slots
                .name(project, (file, None), name)
                .map_or(Plan::Nothing, |slot| Plan::One(Part::Slot(slot)))
        };
        let part = |part| Some(Plan::One(part));
        match project.resolve(file, function, &name) {
            Resolved::Function(f) => part(Part::Function(f)),
            Resolved::Class(c) => part(Part::Value(Held::Class(c))),
            Resolved::External(q) => part(Part::Value(Held::External(self.externals().intern(&q)))),
            Resolved::Global(global_file, global) => {
                let stored = slot(
                    global_file,
                    project.file(global_file).facts.globals[global as usize].name,
                );
                Some(
                    match annotated_global_classes(project, global_file, global) {
                        // Bound elsewhere, by whatever means: its annotation tells what it holds.
                        Some(classes) => Plan::of_parts(
                            stored
                                .parts()
                                .unwrap_or_default()
                                .iter()
                                .copied()
                                .chain(classes.into_iter().map(|c| Part::Value(Held::Instance(c))))
                                .collect(),
                        ),
                        None => stored,
                    },
                )
            }
            Resolved::Module(_) => Some(Plan::Nothing),
            // Bound only by an unpacking (`a, b = f, g`), which the module's bindings do not list.
            Resolved::Unknown => Some(slot(file, name)).filter(|plan| !plan.is_nothing()),
        }
    }

    /// What `attr` of each of `objects` may be: methods of instances and classes, names outside
    /// the tree.
    fn attributes(&self, project: &Project, objects: &[Held], attr: Name, out: &mut Vec<Held>) {
        for object in objects {
            self.attribute(project, *object, attr, out);
        }
    }

    /// What `attr` of `object` may be (see [`Values::attributes`]).
    fn attribute(&self, project: &Project, object: Held, attr: Name, out: &mut Vec<Held>) {
        match object {
            Held::Instance(c) | Held::Class(c) => {
                if !attr.contains('.')
                    && let Some(method) = project.lookup_method(c, &attr)
                {
                    out.push(Held::Function(method));
                }
            }
            Held::External(q) => out.push(Held::External(self.externals().attribute(q, attr))),
            Held::Function(_) => {}
        }
    }

    /// The qualified name of an external value.
    pub(super) fn external_name(&self, id: ExternalId) -> Name {
        *self.externals().name(id)
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
        name: Name,
    ) -> Plan {
        let functions = &project.file(file).facts.functions;
        let mut current = function;
        while let Some(f) = current {
            if let Some(slot) = self.slots.name(project, (file, Some(f)), name) {
                return Plan::One(Part::Slot(slot));
            }
            if let Some(nested) = index.nested.get(&(file, f, name)) {
                return Plan::One(Part::Function(project.function_id(file, *nested)));
            }
            current = functions[f as usize].parent;
        }
        Plan::Nothing
    }
}

/// Whether a qualified name's last part is written like a class (`ext.Client`, not `ext.get`).
fn names_a_class(qualified: &str) -> bool {
    let last = knowledge::last_segment(qualified);
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
    let mut flows = facts.flows.to_vec();
    for flow in &mut flows {
        let mut source = flow.source();
        if let FlowSource::CallResult(call) = &mut source {
            *call = number(*call, &mut order);
        }
        let mut target = flow.target();
        match &mut target {
            FlowTarget::PositionalArgument { call, .. }
            | FlowTarget::KeywordArgument { call, .. } => *call = number(*call, &mut order),
            FlowTarget::Name { .. } | FlowTarget::Return => {}
        }
        // Numbered from 0 in the order first met, a call keeps an index the flow held.
        *flow = ValueFlow::new(flow.function(), target, source);
    }
    let mut calls = Vec::with_capacity(order.len());
    let mut next = 0;
    while let Some(&call) = order.get(next) {
        next += 1;
        let site = facts.calls.get(call as usize).cloned().map(|mut site| {
            if let CallReceiver::CallResult(on) = site.receiver() {
                site.set_receiver(CallReceiver::CallResult(number(on, &mut order)));
            }
            // Read by the call graph, not by this stage.
            site.argument_of = MaybeIndex::NONE;
            site
        });
        calls.push(site);
    }
    (calls, flows)
}

#[cfg(test)]
mod tests {
    use super::{FlowPlan, NameSlot, NameSlots, Part};
    use crate::facts::Name;

    #[test]
    fn what_the_link_holds_at_its_peak_keeps_its_size() {
        assert_eq!(size_of::<Part>(), 8);
        assert_eq!(size_of::<FlowPlan>(), 20);
        assert_eq!(size_of::<NameSlot>(), 12);
    }

    #[test]
    fn name_slots_find_each_name_in_its_scope_only() {
        let names = ["a", "b", "self", "x.y", "zz"];
        let entries = names.iter().enumerate().flat_map(|(at, text)| {
            let name = Name::from(text);
            let at = at as u32;
            [((None, name), 10 * at), ((Some(at), name), 10 * at + 1)]
        });
        let mut table = NameSlots::new(entries);
        assert_eq!(table.len(), 10);
        table.shift(1000);
        for (at, text) in names.iter().enumerate() {
            let name = Name::from(text);
            let at = at as u32;
            assert_eq!(table.get(None, name), Some(1000 + 10 * at));
            assert_eq!(table.get(Some(at), name), Some(1000 + 10 * at + 1));
            assert_eq!(table.get(Some(at + 1), name), None);
        }
        assert_eq!(table.get(None, Name::from("missing")), None);
        // No flow reaches the scope `u32::MAX`: it is no scope of the table.
        let unreachable = NameSlots::new([((Some(u32::MAX), Name::from("a")), 7)]);
        assert_eq!(unreachable.len(), 0);
        assert_eq!(unreachable.get(Some(u32::MAX), Name::from("a")), None);
        let mut listed: Vec<_> = table.iter().map(|(_, slot)| slot).collect();
        listed.sort_unstable();
        assert_eq!(listed.len(), 10);
        assert_eq!(listed[0], 1000);
    }
}
