//! The values of names after an edit of value flows, from those of the link before it, equal to
//! what [`Values::build`] learns from nothing (delete and derive again).
//!
//! The edited files must read the same as before for everything else the values stage reads of
//! them across files ([`super::super::values_outline`]): their definitions, imports and the
//! module names their flows store into. Then every other file's flows resolve to the same plans
//! as before, with the same ids; only slot numbers move (the edited files' names), and the edited
//! files' flows differ. Of those, the flows before the first that differs and after the last that
//! differs are the same flows as before; the ones between are removed (`D`) and added (`N`).
//! An edited file may also bind names by its imports otherwise than before, when nothing outside
//! its own flows resolves through them (`remap::rebound_names`): then its old flows that name one
//! of them count as differing, since their old plans cannot be made again (see [`naming`]).
//!
//! A slot holds at most `MAX_HELD` values, the first ones to arrive, so what a full slot holds
//! depends on the order in which [`Values::build`]'s worklist applied the flows; an update cannot
//! reproduce that order. It is exact nonetheless when no full slot is in the *region*: the slots
//! `D` stored into, every slot a flow that reads the region stores into (before and after the
//! edit), and every slot the update stores into. Outside the region, the flows read and write
//! only slots outside it, so a build from nothing applies them in the same order as the build
//! before the edit did (the worklist is first in, first out, and the flows of the region never
//! queue them), and they hold the same values; inside, no slot is full, so each holds exactly
//! what the flows into it prove, whatever their order. The update gives up (the caller builds
//! from nothing) as soon as the region meets a full slot, or the decorators read or write it.

use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::{FileFacts, FlowTarget, FuncIdx};

use super::super::FileId;
use super::super::resolve::Symbol;
use super::{
    Applied, CallMethods, FlowLists, Held, HeldTable, HeldValues, Index, KeptValues, MAX_HELD,
    NameSlots, Plans, Project, READS, Slots, TargetView, UNSEEN, Values, Worklist, returning,
    take_reads,
};

/// A file an edit gave other facts.
pub struct Edited {
    pub(in super::super) file: FileId,
    /// Its facts before.
    pub(in super::super) old: Arc<FileFacts>,
    /// The names (identifier hashes) through which its flows may resolve otherwise than in the
    /// link before: those its imports and module scope bind otherwise (`remap::rebound_names`),
    /// and for a file that may resolve a name another file rebinds (`remap::readers`, listed
    /// with its facts unchanged), those names; empty when it has the same `values_outline` as
    /// before and reads no rebound name. Its old flows that name one of them are taken as
    /// changed.
    pub(in super::super) rebound: Vec<u64>,
}

/// Per flow of `facts`: whether it, or a call site it reads (the call it goes into or comes out
/// of, and the calls those are made on or are arguments of), names one of `names` (identifier
/// hashes, sorted). A flow whose identifiers cannot be listed names them all.
fn naming(facts: &FileFacts, names: &[u64]) -> Vec<bool> {
    use super::super::remap::identifier_hashes;
    use crate::facts::{CallReceiver, FlowSource};
    let names_one = |value: &dyn Fn() -> Option<Vec<u64>>| {
        value().is_none_or(|found| found.iter().any(|h| names.binary_search(h).is_ok()))
    };
    facts
        .flows
        .iter()
        .map(|flow| {
            if names_one(&|| identifier_hashes(flow)) {
                return true;
            }
            let mut calls: Vec<u32> = Vec::new();
            if let Some((call, _)) = flow.target().argument() {
                calls.push(call);
            }
            match flow.source() {
                FlowSource::CallResult(call)
                | FlowSource::Name {
                    receiver: CallReceiver::CallResult(call),
                    ..
                } => calls.push(call),
                FlowSource::Name { .. } => {}
            }
            let mut seen = vec![false; facts.calls.len()];
            while let Some(call) = calls.pop() {
                let Some(site) = facts.calls.get(call as usize) else {
                    continue;
                };
                if std::mem::replace(&mut seen[call as usize], true) {
                    continue;
                }
                if names_one(&|| identifier_hashes(site)) {
                    return true;
                }
                if let CallReceiver::CallResult(on) = site.receiver() {
                    calls.push(on);
                }
                calls.extend(site.argument_of.get());
            }
            false
        })
        .collect()
}

/// What a build learnt of which flows read and wrote each slot, kept with the values for the
/// next update.
#[derive(Debug)]
pub(super) struct FlowState {
    /// Per flow id: its file and its index among the file's plans; `None` once an edit removed
    /// it. Ids are not reused: the flows of the region keep theirs across updates.
    flows: Vec<Option<(FileId, u32)>>,
    /// Per file: the ids of its flows, in plan order.
    of_file: Vec<Vec<u32>>,
    /// Per file, parallel to `of_file`: the index among the file's flows of each plan's flow.
    flow_of: Vec<Vec<u32>>,
    /// By place: the flows that read the slot.
    dependents: FlowLists,
    /// By place: the flows that stored into the slot.
    writers: FlowLists,
    /// Per file: the first slot of its names; then the number of slots.
    name_base: Vec<u32>,
    /// Whether the decorators changed nothing in the build's last round (else the values are
    /// not a fixed point, and only a build from nothing gives them again).
    converged: bool,
}

impl FlowState {
    pub(super) fn new(
        slots: &Slots<'_>,
        of_file: Vec<Vec<u32>>,
        flow_of: Vec<Vec<u32>>,
        work: Worklist,
        converged: bool,
    ) -> FlowState {
        let mut flows = Vec::new();
        for (file, ids) in of_file.iter().enumerate() {
            for (at, id) in ids.iter().enumerate() {
                let id = *id as usize;
                if id >= flows.len() {
                    flows.resize(id + 1, None);
                }
                flows[id] = Some((file as FileId, at as u32));
            }
        }
        FlowState {
            flows,
            of_file,
            flow_of,
            dependents: work.dependents,
            writers: work.writers,
            name_base: name_base(slots),
            converged,
        }
    }

    /// These records for a link whose names' slots start at `start` (after functions were
    /// added or removed; see `KeptValues::renumbered`), the same names in the same order.
    pub(super) fn names_moved_to(mut self, start: u32) -> FlowState {
        let old = self.name_base.first().copied().unwrap_or(start);
        for base in &mut self.name_base {
            *base = *base - old + start;
        }
        self
    }

    fn alive(&self, id: u32) -> bool {
        self.flows.get(id as usize).is_some_and(Option::is_some)
    }
}

/// Per file, the first slot of its names, then the number of slots.
fn name_base(slots: &Slots<'_>) -> Vec<u32> {
    let mut next = slots.param_base[slots.functions as usize];
    let mut base = Vec::with_capacity(slots.names.len() + 1);
    for names in &slots.names {
        base.push(next);
        next += names.len() as u32;
    }
    base.push(next);
    base
}

/// The slots (by place) an update may change.
pub(super) struct Region {
    inside: Vec<bool>,
    places: Vec<usize>,
    /// Each place's values when it joined the region.
    before: Vec<Vec<Held>>,
    /// A full slot joined.
    pub(super) failed: bool,
}

impl Region {
    fn contains(&self, place: usize) -> bool {
        self.inside.get(place).copied().unwrap_or(false)
    }

    /// Adds `place`, holding `held`; the flows that read it are applied again, so that the slots
    /// they store into join too.
    fn join(&mut self, place: usize, held: &[Held], work: &mut Worklist) {
        if self.contains(place) {
            return;
        }
        if place >= self.inside.len() {
            self.inside.resize(place + 1, false);
        }
        self.inside[place] = true;
        self.places.push(place);
        self.before.push(held.to_vec());
        if held.len() >= MAX_HELD {
            self.failed = true;
        }
        work.push_readers(place);
    }
}

impl Values<'_> {
    /// Adds `place` to `region` (see [`Region::join`]).
    pub(super) fn enter(&self, region: &mut Region, place: usize, work: &mut Worklist) {
        if region.contains(place) {
            return;
        }
        let held = self
            .held
            .values
            .get(place)
            .map_or(&[][..], HeldValues::as_slice);
        region.join(place, held, work);
    }
}

impl Values<'_> {
    /// The places that no file but an edited one reads: the names of the edited files'
    /// functions (read only by the file's own flows and calls, and by the functions nested in
    /// them), and the module names their scopes do not bind to a module binding. Another file
    /// reads a module name's slot only through a lookup that finds the module's binding of that
    /// name (`Resolved::Global`); one that finds a class, a function or an import gives that,
    /// and one that finds nothing leaves the name to the reading file's own slot. A place no
    /// slot has any more (a name the edit left nothing storing into) is read by nothing now,
    /// and was read by no other file before: a module name whose slot comes or goes and whose
    /// scope entry is a module binding is a rebound name, which only the files listed as edited
    /// for it look up (`remap::rebound_names`, `remap::readers`), and a value-flow edit keeps
    /// the module names stored into. So another file's call edges, which read the values only
    /// through what its names resolve to, do not change when only these places do (the edited
    /// files' edges are resolved again).
    fn private_places(&self, project: &Project, edited: &[Edited]) -> HashSet<usize> {
        let mut private: HashSet<usize> = HashSet::default();
        let mut slotted = vec![false; self.held.values.len()];
        for &place in &self.held.places[..(self.slots.count as usize).min(self.held.places.len())] {
            if let Some(slotted) = slotted.get_mut(place as usize) {
                *slotted = true;
            }
        }
        private.extend(
            slotted
                .iter()
                .enumerate()
                .filter(|(_, slotted)| !**slotted)
                .map(|(place, _)| place),
        );
        for Edited { file, .. } in edited {
            let scope = &project.scopes[*file as usize];
            for ((function, name), slot) in self.slots.names[*file as usize].iter() {
                let global = matches!(scope.get(&name), Some(Symbol::Global(_)));
                if function.is_some() || !global {
                    match self.held.places.get(slot as usize) {
                        Some(&place) if place != UNSEEN => private.insert(place as usize),
                        _ => false,
                    };
                }
            }
        }
        private
    }
}

/// Whether flow `i` of `a` and flow `j` of `b` are the same flow: the same source, and the same
/// targets (an argument by what the call's callee may be and where the argument goes).
fn same_flow(a: &Plans, i: usize, b: &Plans, j: usize) -> bool {
    a.source(i) == b.source(j)
        && match (a.target(i), b.target(j)) {
            (TargetView::Slots(x), TargetView::Slots(y)) => x == y,
            (
                TargetView::Argument {
                    callee: ca,
                    position: pa,
                },
                TargetView::Argument {
                    callee: cb,
                    position: pb,
                },
            ) => a.callees[ca as usize] == b.callees[cb as usize] && pa == pb,
            _ => false,
        }
}

/// The functions of `facts` (by index) some flow returns through.
fn returning_of(facts: &FileFacts) -> Vec<FuncIdx> {
    let mut out: Vec<FuncIdx> = facts
        .flows
        .iter()
        .filter(|flow| flow.target() == FlowTarget::Return)
        .filter_map(|flow| flow.function())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Per plan of `now` (an edited file's plans after the edit), the index among `old` plans'
/// ids (`old_count` of them) of the one it keeps, when the file binds no name otherwise: the
/// plans before the first that differs and after the last that differs are the same flows as
/// before (`before`: the old facts' plans, which resolve as in the link before); the ones between
/// are removed and added. `None` when the plans before are not as many as the ids.
fn kept_at_the_ends(before: &Plans, now: &Plans, old_count: usize) -> Option<Vec<Option<u32>>> {
    let (planned, new_len) = (before.flows.len(), now.flows.len());
    if planned != old_count {
        return None;
    }
    let mut prefix = 0;
    while prefix < planned.min(new_len) && same_flow(before, prefix, now, prefix) {
        prefix += 1;
    }
    let mut suffix = 0;
    while suffix < planned.min(new_len) - prefix
        && same_flow(before, planned - 1 - suffix, now, new_len - 1 - suffix)
    {
        suffix += 1;
    }
    let mut kept: Vec<Option<u32>> = (0..prefix as u32).map(Some).collect();
    kept.extend((prefix..new_len - suffix).map(|_| None));
    kept.extend((planned - suffix..planned).map(|at| Some(at as u32)));
    Some(kept)
}

/// How many flows at the start, and at the end, `old` and `new` have alike (equal as facts):
/// those flows are the same flows before and after the edit, the others are not paired.
fn aligned_flows(old: &FileFacts, new: &FileFacts) -> (usize, usize) {
    let (a, b) = (&old.flows, &new.flows);
    let start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let most = a.len().min(b.len()) - start;
    let end = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(most)
        .take_while(|(x, y)| x == y)
        .count();
    (start, end)
}

/// Per plan of `now`, the index among the old ids of the one it keeps, when the file's flows may
/// resolve names otherwise than in the link before (`rebound`, see [`Edited`]): a flow that
/// names none of them (`named_before`, `named_now`), and is paired with itself across the edit
/// (`alike`: as many flows at the start and at the end, equal as facts, see [`aligned_flows`]),
/// keeps its id when its plan is the same flow as before; every other flow's plans are removed
/// and added. A flow that names none resolves as in the link before, so it has a plan now
/// (`before`, with each plan's flow in `before_flow`) exactly when it had one then (the old ids'
/// flows, `old_flow`); `None` when they disagree.
fn kept_flow_by_flow(
    (before, before_flow, old_flow): (&Plans, &[u32], &[u32]),
    (now, now_flow): (&Plans, &[u32]),
    named_before: &[bool],
    named_now: &[bool],
    (start, end): (usize, usize),
) -> Option<Vec<Option<u32>>> {
    let (old_count, new_count) = (named_before.len(), named_now.len());
    // Per old flow: the new flow paired with it.
    let paired = |flow: usize| -> Option<usize> {
        if flow < start {
            Some(flow)
        } else if flow >= old_count - end {
            Some(flow + new_count - old_count)
        } else {
            None
        }
    };
    // Per old flow: its old id's index and its plan before, when it has them.
    let mut old_at: Vec<Option<u32>> = vec![None; old_count];
    for (at, flow) in old_flow.iter().enumerate() {
        *old_at.get_mut(*flow as usize)? = Some(at as u32);
    }
    let mut before_at: Vec<Option<usize>> = vec![None; old_count];
    for (at, flow) in before_flow.iter().enumerate() {
        *before_at.get_mut(*flow as usize)? = Some(at);
    }
    let mut now_at: Vec<Option<usize>> = vec![None; new_count];
    for (at, flow) in now_flow.iter().enumerate() {
        *now_at.get_mut(*flow as usize)? = Some(at);
    }
    let mut kept = vec![None; now.flows.len()];
    for flow in 0..old_count {
        if named_before[flow] {
            continue;
        }
        if old_at[flow].is_some() != before_at[flow].is_some() {
            return None;
        }
        let Some(new_flow) = paired(flow) else {
            continue;
        };
        if named_now[new_flow] {
            continue;
        }
        if let (Some(old), Some(b), Some(n)) = (old_at[flow], before_at[flow], now_at[new_flow])
            && same_flow(before, b, now, n)
        {
            kept[n] = Some(old);
        }
    }
    Some(kept)
}

impl<'p> Values<'p> {
    /// The values of `project` from `kept`, those of the link before an edit of the files
    /// `edited`; `None` when they cannot be updated exactly, and must be learnt from nothing.
    pub(in super::super) fn update(
        project: &'p Project,
        index: &Index<'p>,
        kept: KeptValues,
        edited: &[Edited],
    ) -> Option<Values<'p>> {
        let KeptValues {
            held,
            externals,
            flows,
        } = kept;
        let mut state = flows?;
        if !state.converged || state.of_file.len() != project.files.len() {
            return None;
        }
        let slots = Slots::new(project);
        let new_base = name_base(&slots);
        if new_base[0] != state.name_base[0] || held.places.len() < new_base[0] as usize {
            return None;
        }
        let is_edited = |file: usize| edited.iter().any(|e| e.file as usize == file);
        // Old slots to new ones: the same for returns, decorations and parameters, shifted for
        // the names of files not edited, by name for the names of the edited ones (a name no
        // longer stored into gets a number past the last slot, for its old flows' plans only).
        let mut places = vec![UNSEEN; slots.count as usize];
        let old_place = |slot: u32| held.places.get(slot as usize).copied().unwrap_or(UNSEEN);
        let names_start = new_base[0] as usize;
        places[..names_start].copy_from_slice(&held.places[..names_start]);
        let mut old_names: HashMap<FileId, NameSlots> = HashMap::default();
        let mut phantom = slots.count;
        for file in 0..project.files.len() {
            let (old_start, old_end) = (state.name_base[file], state.name_base[file + 1]);
            let new_start = new_base[file];
            if !is_edited(file) {
                if old_end - old_start != new_base[file + 1] - new_start {
                    return None;
                }
                for i in 0..old_end - old_start {
                    places[(new_start + i) as usize] = old_place(old_start + i);
                }
                continue;
            }
            let old_facts = &edited.iter().find(|e| e.file as usize == file)?.old;
            let numbered = slots.names_of(project, file as FileId, &old_facts.flows);
            if numbered.len() as u32 != old_end - old_start {
                return None;
            }
            let mut map = Vec::with_capacity(numbered.len());
            // In the order the old flows first stored into them, so that the phantom slots are
            // numbered alike in every run.
            let mut numbered: Vec<_> = numbered.iter().collect();
            numbered.sort_unstable_by_key(|(_, i)| *i);
            for ((scope, name), i) in numbered {
                let new = match slots.names[file].get(scope, name) {
                    Some(new) => {
                        places[new as usize] = old_place(old_start + i);
                        new
                    }
                    None => {
                        phantom += 1;
                        phantom - 1
                    }
                };
                map.push(((scope, name), new));
            }
            old_names.insert(file as FileId, NameSlots::new(map));
        }
        let mut values = Values {
            slots,
            held: HeldTable {
                places,
                values: held.values,
            },
            externals: std::sync::Mutex::new(externals),
            called: CallMethods::new(project),
            flows: None,
            as_before: false,
            step: "link/values updated",
        };
        let returning = returning(project);
        // The edited files' flows: the same ones keep their ids, the others are removed or added.
        let mut plans: HashMap<FileId, Plans> = HashMap::default();
        let mut dead = vec![false; state.flows.len()];
        let mut added = Vec::new();
        for Edited {
            file,
            old: old_facts,
            rebound,
        } in edited
        {
            let file = *file;
            let facts = &project.file(file).facts;
            if returning_of(facts) != returning_of(old_facts) {
                return None;
            }
            let mut now_of_flow = Vec::new();
            let now = values.plans_of_numbered(project, index, file, facts, Some(&mut now_of_flow));
            let old_map = old_names.remove(&file)?;
            let new_map = std::mem::replace(&mut values.slots.names[file as usize], old_map);
            let mut of_flow = Vec::new();
            let before =
                values.plans_of_numbered(project, index, file, old_facts, Some(&mut of_flow));
            values.slots.names[file as usize] = new_map;
            let old_ids = std::mem::take(&mut state.of_file[file as usize]);
            let old_flow_of = std::mem::take(&mut state.flow_of[file as usize]);
            if old_flow_of.len() != old_ids.len() {
                return None;
            }
            // Per plan of `now`: the old id it keeps, if any; every old id not kept is removed.
            let kept = if rebound.is_empty() {
                kept_at_the_ends(&before, &now, old_ids.len())?
            } else {
                let facts_alike = aligned_flows(old_facts, facts);
                kept_flow_by_flow(
                    (&before, &of_flow, &old_flow_of),
                    (&now, &now_of_flow),
                    &naming(old_facts, rebound),
                    &naming(facts, rebound),
                    facts_alike,
                )?
            };
            let mut is_kept = vec![false; old_ids.len()];
            for old in kept.iter().flatten() {
                is_kept[*old as usize] = true;
            }
            for (at, &id) in old_ids.iter().enumerate() {
                if !is_kept[at] {
                    dead[id as usize] = true;
                    state.flows[id as usize] = None;
                }
            }
            let mut ids = Vec::with_capacity(now.flows.len());
            for old in &kept {
                match old {
                    Some(old) => ids.push(old_ids[*old as usize]),
                    None => {
                        let id = state.flows.len() as u32;
                        state.flows.push(None);
                        added.push(id);
                        ids.push(id);
                    }
                }
            }
            for (at, id) in ids.iter().enumerate() {
                state.flows[*id as usize] = Some((file, at as u32));
            }
            state.of_file[file as usize] = ids;
            state.flow_of[file as usize] = now_of_flow;
            plans.insert(file, now);
        }
        // The slots the removed flows stored into, and every slot a flow reading one of them
        // stored into, transitively: emptied, then derived again.
        let mut reset = vec![false; values.held.values.len()];
        let mut reset_places = Vec::new();
        for (place, reset) in reset.iter_mut().enumerate().take(state.writers.places()) {
            if state
                .writers
                .get(place)
                .any(|w| dead.get(w as usize) == Some(&true))
            {
                *reset = true;
                reset_places.push(place);
            }
        }
        if !reset_places.is_empty() {
            // What each flow wrote, by flow id.
            let mut wrote: Vec<Vec<u32>> = vec![Vec::new(); state.flows.len()];
            for place in 0..state.writers.places() {
                for w in state.writers.get(place) {
                    wrote[w as usize].push(place as u32);
                }
            }
            let mut next = 0;
            while let Some(&place) = reset_places.get(next) {
                next += 1;
                if values.held.values[place].len() >= MAX_HELD {
                    return None;
                }
                for flow in state.dependents.get(place) {
                    if !state.alive(flow) {
                        continue;
                    }
                    for &q in &wrote[flow as usize] {
                        if !reset[q as usize] {
                            reset[q as usize] = true;
                            reset_places.push(q as usize);
                        }
                    }
                }
            }
        }
        let mut work = Worklist {
            queue: Default::default(),
            queued: vec![false; state.flows.len()],
            dependents: std::mem::take(&mut state.dependents),
            writers: std::mem::take(&mut state.writers),
            record_writers: true,
            first_application: false,
        };
        let mut region = Region {
            inside: Vec::new(),
            places: Vec::new(),
            before: Vec::new(),
            failed: false,
        };
        for &place in &reset_places {
            values.enter(&mut region, place, &mut work);
            values.held.values[place].clear();
            work.push_writers(place);
        }
        for id in added {
            work.push(id);
        }
        let mut applied = Applied::default();
        READS.with(|reads| *reads.borrow_mut() = Some(Vec::new()));
        let failed = 'run: {
            while let Some(id) = work.queue.pop_front() {
                work.queued[id as usize] = false;
                let Some(Some((file, at))) = state.flows.get(id as usize).copied() else {
                    continue;
                };
                // A file's flows are resolved when one of them is first applied: the same plans,
                // in the same order, as the build before the edit made (checked by their count).
                let file_plans = match plans.entry(file) {
                    std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                    std::collections::hash_map::Entry::Vacant(vacant) => {
                        let of_file =
                            values.plans_of(project, index, file, &project.file(file).facts);
                        if of_file.flows.len() != state.of_file[file as usize].len() {
                            break 'run true;
                        }
                        vacant.insert(of_file)
                    }
                };
                let file_plans = &*file_plans;
                values.apply(
                    project,
                    (file_plans, at as usize),
                    id,
                    &returning,
                    &mut work,
                    &mut applied,
                    Some(&mut region),
                );
                if region.failed {
                    break 'run true;
                }
            }
            // The decorators, applied to what the rest holds, may neither read nor write the
            // region, nor change anything: then they give what they gave before.
            let decorated = values.decorator_plans(project, index);
            let stores = values.decorations(project, &decorated);
            take_reads(&mut applied.reads);
            let read = applied.reads.iter().any(|slot| {
                let place = values.held.places.get(*slot as usize).copied();
                place.is_some_and(|p| p != UNSEEN && region.contains(p as usize))
            });
            if read {
                break 'run true;
            }
            for (slot, held) in stores {
                let place = values.held.place(slot) as usize;
                if region.contains(place) || values.store(&mut work, slot, &held) {
                    break 'run true;
                }
            }
            false
        };
        READS.with(|reads| *reads.borrow_mut() = None);
        if failed
            || region
                .places
                .iter()
                .any(|p| values.held.values[*p].len() >= MAX_HELD)
        {
            return None;
        }
        values.canonical(Some(&region.places));
        let changed: Vec<usize> = region
            .places
            .iter()
            .zip(&region.before)
            .filter(|(p, before)| {
                let now = values.held.values[**p].as_slice();
                now.len() != before.len() || !before.iter().all(|v| now.contains(v))
            })
            .map(|(p, _)| *p)
            .collect();
        values.as_before = changed.is_empty() || {
            let private = values.private_places(project, edited);
            changed.iter().all(|p| private.contains(p))
        };
        state.dependents = work.dependents;
        state.writers = work.writers;
        state.name_base = new_base;
        values.flows = Some(state);
        Some(values)
    }
}
