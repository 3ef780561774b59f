//! Value flows for the call graph: where a function, a class or an object made by a call may go
//! (names, returns, arguments), so that the link can follow `handler = pick(); handler()`.
//!
//! Recorded after a statement or call has been walked, when the call sites inside it already have
//! their indexes. Containers stand for their elements: what is put into `d` (a display, `d[k] = v`,
//! `d.append(v)`) flows into `d`, and reading `d[k]` or iterating `d` gives it back.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::facts::{
    CallReceiver, FlowSource, FlowTarget, FuncIdx, Name, ValueFlow, intern, interned,
};

use crate::knowledge;
use crate::syntax::literal_text;

use super::{Extractor, Scope, build_name};

/// Expressions nest at most this deep for a flow to be followed into them.
const MAX_SOURCE_DEPTH: u32 = 16;

/// What was last stored under literal keys of the containers of each scope, in source order:
/// `d = {"a": f}`, `d["a"] = g`, `d.update(a=h)`. A call `d["a"]()` in the same scope calls what
/// was stored last (`None`: something that is not a name).
#[derive(Default)]
pub(super) struct KeyedStores {
    containers: HashMap<(Option<FuncIdx>, Name), HashMap<KeyPath, Option<Callee>>>,
}

/// Literal keys from the container inward: `["s:a", "i:0"]` for `d["a"][0]`.
type KeyPath = Vec<Name>;
/// A name as written, the way call sites record it.
type Callee = (CallReceiver, Name);

/// A literal key: `"a"` and `1` are different keys. Built in the shared name buffer, not with
/// `format!`: every literal key of every keyed store and read is one (a `String` each).
fn literal_key(expr: &Expr) -> Option<Name> {
    match expr {
        Expr::StringLiteral(s) => build_name(|out| {
            out.push_str("s:");
            out.push_str(literal_text(&s.value));
            Some(())
        }),
        Expr::NumberLiteral(n) => match &n.value {
            ast::Number::Int(i) => match i.as_u64() {
                Some(small) => Some(index_key(small)),
                None => build_name(|out| {
                    use std::fmt::Write;
                    write!(out, "i:{i}").ok()
                }),
            },
            _ => None,
        },
        _ => None,
    }
}

/// The key of position `index`: `i:3`, as [`literal_key`] writes the literal `3`. The keys of
/// the first positions, which almost every tuple target and literal stores under, are kept per
/// thread once built: each was built and interned again at every element.
fn index_key(index: u64) -> Name {
    const KEPT: usize = 16;
    thread_local! {
        static KEYS: [std::cell::Cell<Option<Name>>; KEPT] =
            const { [const { std::cell::Cell::new(None) }; KEPT] };
    }
    let Some(slot) = usize::try_from(index).ok().filter(|i| *i < KEPT) else {
        return spelled_index_key(index);
    };
    KEYS.with(|keys| {
        let kept = &keys[slot];
        kept.get().unwrap_or_else(|| {
            let key = spelled_index_key(index);
            kept.set(Some(key));
            key
        })
    })
}

/// [`index_key`], built and interned.
fn spelled_index_key(index: u64) -> Name {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = index;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let key = build_name(|out| {
        out.push_str("i:");
        // Only ASCII digits were written.
        out.push_str(std::str::from_utf8(&digits[start..]).ok()?);
        Some(())
    });
    key.unwrap_or_default()
}

/// The container name and key path of `d["a"][0]`, when every key is a literal.
fn keyed_path(expr: &Expr) -> Option<(&str, Vec<Name>)> {
    let mut keys = Vec::new();
    let mut current = expr;
    while let Expr::Subscript(subscript) = current {
        keys.push(literal_key(&subscript.slice)?);
        current = &subscript.value;
    }
    keys.reverse();
    match current {
        Expr::Name(name) if !keys.is_empty() => Some((name.id.as_str(), keys)),
        _ => None,
    }
}

impl Extractor {
    /// The scope whose keyed stores `name` belongs to, when they are followed: the module's
    /// names at module level, a function's own locals inside it.
    fn keyed_scope(&self, name: &str) -> Option<Option<FuncIdx>> {
        if !self.flows_tracked() {
            return None;
        }
        match self.current_function() {
            None => Some(None),
            Some(f) => (self.receiver_named(name) == CallReceiver::Local).then_some(Some(f)),
        }
    }

    /// What `d["a"]()` calls, when `d["a"]` was last given a name in this scope.
    pub(super) fn keyed_callee(&self, func: &Expr) -> Option<Callee> {
        // Asked at every call; most files store no callee under a key.
        if self.keyed.containers.is_empty() {
            return None;
        }
        let (name, keys) = keyed_path(func)?;
        let scope = self.keyed_scope(name)?;
        let stored = self.keyed.containers.get(&(scope, intern(name)))?;
        *stored.get(&keys)?
    }

    /// Records what `value` stores under `prefix` of the container: every leaf of nested
    /// displays.
    fn store_keyed(
        &self,
        prefix: &mut Vec<Name>,
        value: &Expr,
        out: &mut Vec<(KeyPath, Option<Callee>)>,
    ) {
        if prefix.len() > MAX_SOURCE_DEPTH as usize {
            return;
        }
        match value {
            Expr::Dict(d) => {
                for item in &d.items {
                    let Some(key) = item.key.as_ref().and_then(literal_key) else {
                        continue;
                    };
                    prefix.push(key);
                    self.store_keyed(prefix, &item.value, out);
                    prefix.pop();
                }
            }
            Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
                for (i, element) in elts.iter().enumerate() {
                    if matches!(element, Expr::Starred(_)) {
                        break;
                    }
                    prefix.push(index_key(i as u64));
                    self.store_keyed(prefix, element, out);
                    prefix.pop();
                }
            }
            Expr::Subscript(subscript) => {
                if let Expr::Slice(slice) = &*subscript.slice {
                    self.store_slice(prefix, &subscript.value, slice, out);
                } else if !prefix.is_empty() {
                    out.push((prefix.clone(), None));
                }
            }
            Expr::Name(_) | Expr::Attribute(_) if !prefix.is_empty() => {
                out.push((prefix.clone(), self.callee_of(value)));
            }
            _ if !prefix.is_empty() => out.push((prefix.clone(), None)),
            _ => {}
        }
    }

    /// `ls[1:3]` of a container of this scope whose positions are known: its elements from
    /// position 0.
    fn store_slice(
        &self,
        prefix: &[Name],
        container: &Expr,
        slice: &ast::ExprSlice,
        out: &mut Vec<(KeyPath, Option<Callee>)>,
    ) {
        let bound = |e: &Option<Box<Expr>>| -> Option<Option<usize>> {
            match e.as_deref() {
                None => Some(None),
                Some(Expr::NumberLiteral(n)) => match &n.value {
                    ast::Number::Int(i) => i.as_usize().map(Some),
                    _ => None,
                },
                Some(_) => None,
            }
        };
        let (Some(lower), Some(upper)) = (bound(&slice.lower), bound(&slice.upper)) else {
            return;
        };
        let Expr::Name(name) = container else { return };
        if slice.step.is_some() {
            return;
        }
        let Some(scope) = self.keyed_scope(name.id.as_str()) else {
            return;
        };
        let Some(stored) = self
            .keyed
            .containers
            .get(&(scope, intern(name.id.as_str())))
        else {
            return;
        };
        let lower = lower.unwrap_or(0);
        for (path, callee) in stored {
            let Some(position) = path
                .first()
                .and_then(|k| k.strip_prefix("i:"))
                .and_then(|i| i.parse::<usize>().ok())
            else {
                continue;
            };
            if position < lower || upper.is_some_and(|u| position >= u) {
                continue;
            }
            let mut shifted = prefix.to_vec();
            shifted.push(index_key((position - lower) as u64));
            shifted.extend(path[1..].iter().cloned());
            out.push((shifted, *callee));
        }
    }

    /// Notes a store of `value` into `target` for [`Extractor::keyed_callee`]; `rebinding` a name
    /// forgets its keys (`d.update(...)` does not).
    fn note_keyed_store(&mut self, target: &Expr, value: &Expr, rebinding: bool) {
        let (name, mut keys) = match target {
            Expr::Name(name) => (name.id.as_str(), Vec::new()),
            _ => match keyed_path(target) {
                Some(found) => found,
                None => return,
            },
        };
        // The leaves first: most values stored are no display, and then the scope (a look-up
        // of the name in the function's locals) is asked only when there are keys to forget.
        let mut leaves = Vec::new();
        self.store_keyed(&mut keys, value, &mut leaves);
        let rebinds_name = rebinding && matches!(target, Expr::Name(_));
        if leaves.is_empty() && (!rebinds_name || self.keyed.containers.is_empty()) {
            return;
        }
        let Some(scope) = self.keyed_scope(name) else {
            return;
        };
        if leaves.is_empty() {
            // Nothing to store: the name is interned only if it may have keys to forget.
            if let Some(name) = interned(name) {
                self.keyed.containers.remove(&(scope, name));
            }
            return;
        }
        let key = (scope, intern(name));
        if rebinds_name {
            self.keyed.containers.remove(&key);
        }
        let stored = self.keyed.containers.entry(key).or_default();
        for (path, callee) in leaves {
            stored.insert(path, callee);
        }
    }

    /// Class bodies bind class attributes, not names of the module or of a function.
    fn flows_tracked(&self) -> bool {
        !matches!(self.scopes.last(), Some(Scope::Class(_)))
    }

    fn push_flow(&mut self, target: FlowTarget, source: FlowSource) {
        let flow = ValueFlow::new(self.current_function(), target, source);
        self.facts.flows.push(flow);
    }

    /// What values `expr` may evaluate to, as sources.
    fn flow_sources(&self, expr: &Expr, depth: u32, out: &mut Vec<FlowSource>) {
        if depth > MAX_SOURCE_DEPTH {
            return;
        }
        let depth = depth + 1;
        match expr {
            Expr::Name(_) | Expr::Attribute(_) => {
                if let Some((receiver, name)) = self.callee_of(expr)
                    && receiver != CallReceiver::Super
                    && receiver != CallReceiver::NewInstance
                {
                    out.push(FlowSource::Name { receiver, name });
                }
            }
            Expr::Call(call) => {
                if let Some(index) = self.reach.call_at(call.range()) {
                    out.push(FlowSource::CallResult(index));
                }
            }
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.flow_sources(e, depth, out)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.flow_sources(e, depth, out)),
            Expr::Set(s) => s.elts.iter().for_each(|e| self.flow_sources(e, depth, out)),
            Expr::Dict(d) => d
                .items
                .iter()
                .for_each(|item| self.flow_sources(&item.value, depth, out)),
            Expr::Starred(s) => self.flow_sources(&s.value, depth, out),
            // A slice keeps some elements, at other positions: see `store_keyed`.
            Expr::Subscript(s) if matches!(&*s.slice, Expr::Slice(_)) => {}
            Expr::Subscript(s) => self.flow_sources(&s.value, depth, out),
            Expr::Await(a) => self.flow_sources(&a.value, depth, out),
            Expr::Named(n) => self.flow_sources(&n.value, depth, out),
            Expr::If(i) => {
                self.flow_sources(&i.body, depth, out);
                self.flow_sources(&i.orelse, depth, out);
            }
            Expr::BoolOp(b) => b
                .values
                .iter()
                .for_each(|v| self.flow_sources(v, depth, out)),
            _ => {}
        }
    }

    /// `target = value` (or `for target in value`): flows into every name the target binds.
    fn record_assignment_flows(&mut self, target: &Expr, value: &Expr, depth: u32) {
        if depth > MAX_SOURCE_DEPTH {
            return;
        }
        // `a, b = f, g`: each name gets its own element.
        let pairwise = |t: &[Expr], v: &[Expr]| {
            t.len() == v.len() && !t.iter().chain(v).any(|e| matches!(e, Expr::Starred(_)))
        };
        match (target, value) {
            (Expr::Tuple(t), Expr::Tuple(v)) if pairwise(&t.elts, &v.elts) => {
                for (t, v) in t.elts.iter().zip(&v.elts) {
                    self.record_assignment_flows(t, v, depth + 1);
                }
                return;
            }
            (Expr::List(t), Expr::List(v)) if pairwise(&t.elts, &v.elts) => {
                for (t, v) in t.elts.iter().zip(&v.elts) {
                    self.record_assignment_flows(t, v, depth + 1);
                }
                return;
            }
            _ => {}
        }
        let mut sources = std::mem::take(&mut self.scratch_sources);
        sources.clear();
        self.flow_sources(value, 0, &mut sources);
        if !sources.is_empty() {
            if let Expr::Name(name) = target {
                self.flow_into_name(name, &sources);
            } else {
                let mut names = Vec::new();
                bound_names(target, 0, &mut names);
                for name in names {
                    self.flow_into_name(name, &sources);
                }
            }
        }
        self.scratch_sources = sources;
    }

    /// Flows from each of `sources` into the local or global `name`.
    fn flow_into_name(&mut self, name: &ast::ExprName, sources: &[FlowSource]) {
        let (receiver, interned) = self.name_node_here(name);
        let global = match receiver {
            CallReceiver::Name => true,
            CallReceiver::Local => false,
            _ => return,
        };
        // A local comes back as its function holds it; a global is interned once.
        let name = interned.unwrap_or_else(|| intern(name.id.as_str()));
        for source in sources {
            let target = FlowTarget::Name { name, global };
            self.push_flow(target, *source);
        }
    }

    /// Flows of a statement whose expressions have been walked.
    pub(super) fn record_stmt_flows(&mut self, stmt: &Stmt) {
        if !self.flows_tracked() {
            return;
        }
        match stmt {
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    self.record_assignment_flows(target, &assign.value, 0);
                    self.note_keyed_store(target, &assign.value, true);
                }
            }
            Stmt::AnnAssign(assign) => {
                if let Some(value) = &assign.value {
                    self.record_assignment_flows(&assign.target, value, 0);
                }
            }
            Stmt::For(for_stmt) => {
                self.record_assignment_flows(&for_stmt.target, &for_stmt.iter, 0);
            }
            Stmt::Return(ast::StmtReturn {
                value: Some(value), ..
            }) => self.record_returned_flows(value),
            _ => {}
        }
    }

    /// `return value` or `yield value`: what the function gives its caller.
    pub(super) fn record_returned_flows(&mut self, value: &Expr) {
        if self.current_function().is_none() || !self.flows_tracked() {
            return;
        }
        let mut sources = std::mem::take(&mut self.scratch_sources);
        sources.clear();
        self.flow_sources(value, 0, &mut sources);
        for source in sources.drain(..) {
            self.push_flow(FlowTarget::Return, source);
        }
        self.scratch_sources = sources;
    }

    /// Flows of a call whose arguments have been walked: into its arguments, and into the
    /// container a storing method is called on (`handlers.append(f)`).
    pub(super) fn record_call_flows(&mut self, call: &ast::ExprCall) {
        // This call's arguments as `record_call_site` wrote them; calls inside them are done.
        let (mark, index) = self.reach.argument_marks.pop().unwrap_or((0, None));
        let mut argument_callees = std::mem::take(&mut self.reach.argument_callees);
        self.record_argument_flows(
            call,
            index,
            &argument_callees[mark.min(argument_callees.len())..],
        );
        argument_callees.truncate(mark);
        self.reach.argument_callees = argument_callees;
    }

    /// The sources of an argument: a name or attribute as already written for the call site.
    fn argument_sources(
        &self,
        argument: &Expr,
        written: &[(TextRange, Option<(CallReceiver, Name)>)],
        out: &mut Vec<FlowSource>,
    ) {
        if matches!(argument, Expr::Name(_) | Expr::Attribute(_))
            && let Some((_, callee)) = written.iter().find(|(range, _)| *range == argument.range())
        {
            if let Some((receiver, name)) = callee
                && *receiver != CallReceiver::Super
                && *receiver != CallReceiver::NewInstance
            {
                out.push(FlowSource::Name {
                    receiver: *receiver,
                    name: *name,
                });
            }
            return;
        }
        self.flow_sources(argument, 0, out);
    }

    fn record_argument_flows(
        &mut self,
        call: &ast::ExprCall,
        call_index: Option<u32>,
        written: &[(TextRange, Option<(CallReceiver, Name)>)],
    ) {
        if !self.flows_tracked() {
            return;
        }
        let arguments = &call.arguments;
        if let Expr::Attribute(method) = &*call.func
            && knowledge::FILLING_METHODS.contains(&method.attr.as_str())
            && let Expr::Name(_) = &*method.value
        {
            for value in arguments
                .args
                .iter()
                .chain(arguments.keywords.iter().map(|k| &k.value))
            {
                self.record_assignment_flows(&method.value, value, 0);
            }
            if method.attr.as_str() == "update"
                && let [value] = &*arguments.args
            {
                self.note_keyed_store(&method.value, value, false);
            }
        }
        let Some(call_index) = call_index else {
            return;
        };
        // What a builtin is given goes to no parameter of the tree.
        let site = &self.facts.calls[call_index as usize];
        if site.receiver() == CallReceiver::Name && knowledge::is_builtin(&site.callee) {
            return;
        }
        let mut sources = std::mem::take(&mut self.scratch_sources);
        let positional = arguments
            .args
            .iter()
            .take_while(|a| !matches!(a, Expr::Starred(_)));
        for (index, argument) in positional.enumerate() {
            sources.clear();
            self.argument_sources(argument, written, &mut sources);
            for source in sources.drain(..) {
                self.push_flow(
                    FlowTarget::PositionalArgument {
                        call: call_index,
                        index: index as u32,
                    },
                    source,
                );
            }
        }
        for keyword in &arguments.keywords {
            let Some(name) = &keyword.arg else { continue };
            sources.clear();
            self.argument_sources(&keyword.value, written, &mut sources);
            for source in sources.drain(..) {
                self.push_flow(
                    FlowTarget::KeywordArgument {
                        call: call_index,
                        keyword: intern(name.as_str()),
                    },
                    source,
                );
            }
        }
        self.scratch_sources = sources;
    }
}

/// The names an assignment target binds; `d[k] = v` stores into `d`.
fn bound_names<'e>(target: &'e Expr, depth: u32, out: &mut Vec<&'e ast::ExprName>) {
    if depth > MAX_SOURCE_DEPTH {
        return;
    }
    match target {
        Expr::Name(name) => out.push(name),
        Expr::Tuple(t) => t.elts.iter().for_each(|e| bound_names(e, depth + 1, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| bound_names(e, depth + 1, out)),
        Expr::Starred(s) => bound_names(&s.value, depth + 1, out),
        Expr::Subscript(s) => bound_names(&s.value, depth + 1, out),
        _ => {}
    }
}
