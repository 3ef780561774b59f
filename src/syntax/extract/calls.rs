//! The facts request reachability needs, recorded during the one extraction walk: call sites
//! (with the callbacks passed to them), lazy initialisations, and memoisations with the inputs
//! their keys and values depend on.
//!
//! Hooks in `extract.rs` call into [`ReachState`] when a function starts and ends, before each
//! statement of a function, and for each expression; everything else lives here.

use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;

use ruff_python_ast::comparable::ComparableExpr;
use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::facts::{
    AccessPath, ByText, CallArguments, CallReceiver, CallSite, ClassCall, FirstTimeCall, FuncIdx,
    Given, KeyRepr, MaybeIndex, MemoStore, Name, ParamKeyedStore, Root, Span, intern, interned,
    parameter_path,
};
use crate::knowledge;
use crate::syntax::literal_text;
use thin_vec::ThinVec;

use super::blocks::{BlockPosition, Blocks};
use super::{Extractor, MAX_WALK_DEPTH, TextKeyed, build_name, dotted_name, join_dotted, span};

/// Calls whose arguments are values, never callbacks: references passed to them are not recorded.
const VALUE_TAKING_BUILTINS: &[&str] = &[
    "isinstance",
    "issubclass",
    "len",
    "print",
    "str",
    "repr",
    "int",
    "float",
    "bool",
    "getattr",
    "setattr",
    "hasattr",
    "id",
    "type",
    "tuple",
    "list",
    "dict",
    "set",
    "frozenset",
];

#[derive(Default)]
pub(super) struct ReachState {
    frames: Vec<Frame>,
    /// Calls written as a direct argument of an already recorded call, by start offset, with the
    /// index of that call: `path("", View.as_view())`.
    pending_parents: Vec<(u32, u32)>,
    /// Recorded calls (not references) by the range of their expression.
    calls_by_range: HashMap<(u32, u32), u32>,
    /// Calls of a call's result (`make()()`), by the range of the inner call, which is recorded
    /// after them: the index of the outer call, whose receiver is set then.
    pending_results: Vec<((u32, u32), u32)>,
    /// How each name or attribute passed to a call being walked is written, by its range: worked
    /// out when the call is recorded and used again for its flows, once its arguments are walked.
    pub(super) argument_callees: Vec<(TextRange, Option<(CallReceiver, Name)>)>,
    /// Where each call being walked starts in `argument_callees`, and its index in the file's
    /// calls if it was recorded, innermost last: its flows are recorded when its walk ends,
    /// without looking the call up by its range.
    pub(super) argument_marks: Vec<(usize, Option<u32>)>,
    /// Names of methods a memo's value calls on the receiver so far in the file: what their
    /// bodies read is recorded when they are walked after it.
    memo_methods: Vec<Name>,
    /// The buffer a statement's inputs are gathered in ([`Extractor::with_inputs`]).
    scratch_inputs: Vec<Name>,
}

/// Where `source` may call a method named `add`, `set` or `setdefault` (the calls that record
/// a memoisation), sorted: each such word after a `.`, or after a line break (a comment may
/// stand between the dot and the name). `None` for a text that is not ASCII: a name written in
/// other characters may normalise to one of these.
pub(super) fn memo_call_words(source: &str) -> Option<Vec<u32>> {
    if !source.is_ascii() {
        return None;
    }
    let bytes = source.as_bytes();
    let is_name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut words = Vec::new();
    for word in [&b"add"[..], &b"set"[..]] {
        for at in memchr::memmem::find_iter(bytes, word) {
            let mut end = at + word.len();
            if word == b"set" && bytes[end..].starts_with(b"default") {
                end += "default".len();
            }
            if bytes.get(end).copied().is_some_and(is_name_byte) {
                continue;
            }
            let mut before = at;
            let mut crossed_line = false;
            while before > 0
                && matches!(
                    bytes[before - 1],
                    b' ' | b'\t' | b'\x0c' | b'\r' | b'\n' | b'\\'
                )
            {
                crossed_line |= bytes[before - 1] == b'\n';
                before -= 1;
            }
            if crossed_line || (before > 0 && bytes[before - 1] == b'.') {
                words.push(at as u32);
            }
        }
    }
    words.sort_unstable();
    Some(words)
}

/// Source bytes per recorded call, about: the corpus records one call in every 105 bytes.
pub(super) const BYTES_PER_RECORDED_CALL: usize = 100;

impl ReachState {
    /// The state for a module `length` bytes long, its table of calls by range sized once to
    /// the calls such a module records: grown call by call, it was rehashed about every file,
    /// at a cost comparable to all its inserts. It lives only while the module is walked.
    pub(super) fn for_module_of_length(length: usize) -> ReachState {
        ReachState {
            calls_by_range: HashMap::with_capacity_and_hasher(
                length / BYTES_PER_RECORDED_CALL,
                Default::default(),
            ),
            ..ReachState::default()
        }
    }

    /// The index of the recorded call at `range`.
    pub(super) fn call_at(&self, range: TextRange) -> Option<u32> {
        let key = (range.start().to_u32(), range.end().to_u32());
        self.calls_by_range.get(&key).copied()
    }
}

/// The inputs of one local. Inline up to two: every parameter and most locals have one or
/// two, and a vector each cost an allocation for every parameter and assigned local.
type Inputs = SmallVec<[Name; 2]>;

/// What is tracked while one function body is walked.
#[derive(Default)]
struct Frame {
    /// The inputs each local depends on, as far as seen: parameters stand for themselves.
    inputs: HashMap<TextKeyed, Inputs>,
    /// For each local, its last assignment seen (where it was walked) and that value's inputs:
    /// while the assignment's block is still open, the local holds that value, whatever other
    /// assignments `inputs` has gathered.
    last_assigned: HashMap<TextKeyed, (BlockPosition, Inputs)>,
    /// Whether assignments gather their values' inputs: only a memoisation recorded in this
    /// frame, or what a memo's method reads, asks for them.
    gathers_inputs: bool,
    /// Dotted names tested against `None` or for truth (`x is None`, `not self._client`).
    guarded: Vec<Name>,
    /// Containers looked up by key: `k in C`, `C.get(k)`, `C[k]` under `try`.
    probed: Vec<AccessPath>,
    /// Containers whose values the function reads back by key (`C[k]`, `C.get(k)`,
    /// `C.setdefault(k, v)`): a store into one that is never read back is not memoisation.
    served: Vec<AccessPath>,
    /// Item stores that are memoisations when their container is probed and served somewhere in
    /// the function.
    stores: Vec<MemoStore>,
    /// The names the enclosing `if` tests require to be true (`if flag:`, `if flag and k in C:`),
    /// innermost last.
    truth_tests: Vec<Name>,
    /// For each container served, the names every read of it is under a test of.
    served_under: Vec<(AccessPath, Vec<Name>)>,
    /// For each of `stores`, the names its store is under a test of.
    store_tests: Vec<Vec<Name>>,
    /// For each of `stores`, its key when a plain local (`C[k] = v`), and where the store is.
    store_keys: Vec<(Option<Name>, TextRange)>,
    /// Names of functions defined in this one.
    nested_defs: Vec<Name>,
    /// Locals rebound by an assignment (not an import, not `x = x`): where the assignment was
    /// walked and where its value ends. A call through the name after that end, while the
    /// assignment's block is still open, calls what the assignment bound
    /// ([`CallSite::after_rebinding`]); an import of the name takes it out again.
    rebound: Vec<(Name, BlockPosition, u32)>,
    /// Locals bound to a computed value (see `is_computed`).
    computed: Vec<Name>,
    /// Locals bound to the text of a parameter (`key = repr(user)`): the parameter, and whether
    /// through `str`.
    texts: HashMap<Name, (Name, bool)>,
}

impl Frame {
    /// The inputs of the value the local `id` holds here: those of its last assignment while
    /// that assignment's block is still open (`blocks`), else those of all its assignments seen.
    fn reaching_inputs(&self, id: &str, blocks: &Blocks) -> Option<&Inputs> {
        match self.last_assigned.get(id) {
            Some((at, inputs)) if blocks.still_open(*at) => Some(inputs),
            _ => self.inputs.get(id),
        }
    }
}

impl Extractor {
    /// The names `target` binds no longer hold their last assignment on every path (a loop's
    /// target, which a loop that runs no time leaves as it was).
    fn forget_last_assignments(&mut self, target: &Expr) {
        let Some(frame) = self.frame_mut() else {
            return;
        };
        if frame.last_assigned.is_empty() {
            return;
        }
        let mut names = Vec::new();
        super::target_names(target, &mut names);
        for name in names {
            frame.last_assigned.remove(name.as_str());
        }
    }

    fn frame(&self) -> Option<&Frame> {
        self.function_scope()?;
        self.reach.frames.last()
    }

    fn frame_mut(&mut self) -> Option<&mut Frame> {
        self.function_scope()?;
        self.reach.frames.last_mut()
    }

    /// A function's scope was just pushed: its parameters are its inputs. Unless `may_memoise`
    /// (it may record a memoisation, see `visit_function_definition`) or a memo's value already
    /// calls a method of its name, nothing reads its locals' inputs and they are not gathered.
    pub(super) fn reach_enter_function(
        &mut self,
        function: FuncIdx,
        whole: Span,
        may_memoise: bool,
    ) {
        self.facts.function_ranges.push(whole);
        let facts = &self.facts.functions[function as usize];
        let name = facts.name;
        let gathers_inputs = may_memoise
            || (facts.kind == crate::facts::FunctionKind::Instance
                && self.reach.memo_methods.contains(&name));
        // Every local assigned in the body gets an entry: sized once rather than grown.
        let local_count = self.function_scope().map_or(0, |scope| scope.locals.len());
        let mut inputs = HashMap::with_capacity_and_hasher(local_count, Default::default());
        inputs.extend(
            facts
                .params
                .iter()
                .map(|p| (TextKeyed(p.name), Inputs::from_slice(&[p.name]))),
        );
        if facts.parent.is_some()
            && let Some(parent) = self.reach.frames.last_mut()
        {
            parent.nested_defs.push(name);
        }
        self.reach.frames.push(Frame {
            inputs,
            gathers_inputs,
            ..Frame::default()
        });
    }

    /// A function's body is done: its item stores into probed containers are memoisations.
    pub(super) fn reach_leave_function(&mut self, body: &[Stmt]) {
        // What the body hands back, walked once for all its stores and caches (each question
        // below used to walk the whole body again), and only when one of them is asked.
        let handed = std::cell::OnceCell::new();
        let handed = || handed.get_or_init(|| HandedBack::of(body));
        // Asked while the function's scope is still the innermost, so that containers resolve
        // through its aliases.
        let mut served_back: Vec<(AccessPath, bool)> = Vec::new();
        if let Some(frame) = self.reach.frames.last() {
            for store in &frame.stores {
                if frame.probed.contains(&store.cache)
                    && frame.served.contains(&store.cache)
                    && !served_back.iter().any(|(c, _)| *c == store.cache)
                {
                    let served = self.hands_back_read(handed(), &store.cache, Through::Anything);
                    served_back.push((store.cache.clone(), served));
                }
            }
        }
        // Stores under a key the function raises on when it is already there: no call that
        // reaches one can be handed an entry an earlier call stored under the same key.
        let refused: Vec<bool> = self.reach.frames.last().map_or_else(Vec::new, |frame| {
            frame
                .stores
                .iter()
                .zip(&frame.store_keys)
                .map(|(store, (key, range))| {
                    key.is_some_and(|key| self.refuses_present_key(body, &store.cache, key, *range))
                })
                .collect()
        });
        // Stores of the entry read under the same key with the call's own item added, when
        // the function hands back no read of the cache but through its size: the entry grows
        // by each call and no call is handed an earlier call's value for its own. Asked only of
        // a store whose answer counts below (its cache served back, its key not refused): the
        // others are no memoisation, or none handed back, whatever the answer.
        let extended: Vec<bool> = self.reach.frames.last().map_or_else(Vec::new, |frame| {
            let subscript_stores = std::cell::OnceCell::new();
            frame
                .stores
                .iter()
                .zip(&frame.store_keys)
                .enumerate()
                .map(|(index, (store, (_, range)))| {
                    let counts = served_back
                        .iter()
                        .any(|(cache, served)| *cache == store.cache && *served)
                        && !refused.get(index).copied().unwrap_or(false);
                    counts
                        && self.extends_read_entry(
                            subscript_stores.get_or_init(|| SubscriptStores::of(body)),
                            handed(),
                            &store.cache,
                            *range,
                        )
                        && !self.hands_back_read(handed(), &store.cache, Through::AnythingButSize)
                })
                .collect()
        });
        let Some(frame) = self.reach.frames.pop() else {
            return;
        };
        for (index, (mut store, store_tests)) in
            frame.stores.into_iter().zip(frame.store_tests).enumerate()
        {
            if let Some((_, served)) = served_back.iter().find(|(c, _)| *c == store.cache) {
                store.serves_read_value = *served
                    && !refused.get(index).copied().unwrap_or(false)
                    && !extended.get(index).copied().unwrap_or(false);
                // A flag that every read and every store of the cache requires true is true for
                // every value the cache holds: the value cannot differ by it.
                if let Some((_, read_tests)) =
                    frame.served_under.iter().find(|(c, _)| *c == store.cache)
                {
                    store.value_inputs.retain(|input| {
                        !(store_tests.contains(input)
                            && read_tests.contains(input)
                            && self.is_unchanged_flag_parameter(store.function, input))
                    });
                }
                self.facts.memo_stores.push(store);
            }
        }
    }

    /// Whether a `return` or `yield` of `body` (not of the functions it defines) holds a read of
    /// `cache` by key, directly or through locals bound to such a read; with
    /// [`Through::AnythingButSize`], a read or local met only inside `len(...)` is not held.
    fn hands_back_read(&self, handed: &HandedBack, cache: &AccessPath, through: Through) -> bool {
        let skips_size = through == Through::AnythingButSize && self.is_global_name("len");
        let reads = |expr: &Expr| {
            let mut found = false;
            let mut reads = CacheReads {
                found: &mut found,
                is_cache: &|container: &Expr| {
                    self.resolve(container, true)
                        .is_some_and(|r| !r.nested && r.path == *cache)
                },
                skips_size,
            };
            reads.visit_expr(expr);
            found
        };
        let mentions_any = |expr: &Expr, names: &[&str]| mentions_any(expr, names, skips_size);
        if handed.returned.iter().any(|value| reads(value)) {
            return true;
        }
        let mut holders: Vec<&str> = handed
            .bindings
            .iter()
            .filter(|(_, value)| reads(value))
            .map(|(name, _)| *name)
            .collect();
        // Locals bound to such locals (`line = cached`), until none is added.
        let mut grown = !holders.is_empty();
        while grown {
            grown = false;
            for (name, value) in &handed.bindings {
                if !holders.contains(name) && mentions_any(value, &holders) {
                    holders.push(name);
                    grown = true;
                }
            }
        }
        handed
            .returned
            .iter()
            .any(|value| mentions_any(value, &holders))
    }

    /// Whether the store at `store` (`C[k] = v`) puts back the entry read under the same key
    /// with more added: `v` is a binary operation one of whose operands (through nested
    /// operations) is `C[k]` or `C.get(k, ...)`, itself or as every binding of the local `v`
    /// (`done = C.get(k, set()) | {item}`). An alternative (`C.get(k) or make()`) is no
    /// operation and stays a memo.
    fn extends_read_entry(
        &self,
        stores: &SubscriptStores,
        handed: &HandedBack,
        cache: &AccessPath,
        store: TextRange,
    ) -> bool {
        let Some(&(key, value)) = stores.found.iter().find(|(key, _)| {
            key.range().start() >= store.start() && key.range().end() <= store.end()
        }) else {
            return false;
        };
        let key = ComparableExpr::from(key);
        let reads_entry = |operand: &Expr| match operand {
            Expr::Subscript(sub) => {
                ComparableExpr::from(&*sub.slice) == key && self.is_cache(&sub.value, cache)
            }
            Expr::Call(call) => match &*call.func {
                Expr::Attribute(method) if method.attr.as_str() == "get" => {
                    call.arguments
                        .args
                        .first()
                        .is_some_and(|first| ComparableExpr::from(first) == key)
                        && self.is_cache(&method.value, cache)
                }
                _ => false,
            },
            _ => false,
        };
        let extends = |expr: &Expr| operation_over(expr, &reads_entry);
        match value {
            Expr::Name(name) => {
                let mut bindings = handed
                    .bindings
                    .iter()
                    .filter(|(bound, _)| *bound == name.id.as_str())
                    .peekable();
                bindings.peek().is_some() && bindings.all(|(_, bound)| extends(bound))
            }
            _ => extends(value),
        }
    }

    fn is_cache(&self, container: &Expr, cache: &AccessPath) -> bool {
        self.resolve(container, true)
            .is_some_and(|r| !r.nested && r.path == *cache)
    }

    /// Whether a statement of `body` itself (not nested in another) before the store at
    /// `store` is `if key in cache: ... raise ...` whose block ends in the `raise` and has no
    /// `return`, and no later statement of the body binds `key` again: every call that reaches
    /// the store found no entry under its key, and a later call with the key raises instead of
    /// reading the entry.
    fn refuses_present_key(
        &self,
        body: &[Stmt],
        cache: &AccessPath,
        key: Name,
        store: TextRange,
    ) -> bool {
        let Some(guard) = body.iter().position(|stmt| {
            let Stmt::If(branch) = stmt else {
                return false;
            };
            let Expr::Compare(compare) = &*branch.test else {
                return false;
            };
            stmt.range().end() <= store.start()
                && matches!(&*compare.left, Expr::Name(name) if name.id.as_str() == key.as_str())
                && matches!(&*compare.ops, [ast::CmpOp::In])
                && compare.comparators.first().is_some_and(|container| {
                    self.resolve(container, true)
                        .is_some_and(|r| !r.nested && r.path == *cache)
                })
                && matches!(branch.body.last(), Some(Stmt::Raise(_)))
                && {
                    // A block that returns before its `raise` may hand the entry back.
                    let mut returns = Vec::new();
                    super::returns_in(&branch.body, &mut returns);
                    returns.is_empty()
                }
        }) else {
            return false;
        };
        let mut binds = BindsName {
            name: key.as_str(),
            found: false,
        };
        for stmt in &body[guard + 1..] {
            binds.visit_stmt(stmt);
        }
        !binds.found
    }

    /// A parameter of `function` annotated `bool` that the body never rebinds: its truth is its
    /// value.
    fn is_unchanged_flag_parameter(&self, function: FuncIdx, name: &Name) -> bool {
        let params = &self.facts.functions[function as usize].params;
        let Some(index) = params.iter().position(|p| p.name == *name) else {
            return false;
        };
        params[index].annotation.is_some_and(|a| a == "bool")
            && index < 64
            && self.function_scope().is_some_and(|scope| {
                scope.idx == function && scope.rebound_params & (1 << index) == 0
            })
    }

    /// Notes the names an `if` test requires to be true (`flag`, and each plain name of an
    /// `and`) for the branch about to be walked; returns how many, for `pop_truth_tests`.
    pub(super) fn push_truth_tests(&mut self, test: &Expr) -> usize {
        let Some(frame) = self.frame_mut() else {
            return 0;
        };
        let before = frame.truth_tests.len();
        match test {
            Expr::Name(name) => frame.truth_tests.push(intern(name.id.as_str())),
            Expr::BoolOp(b) if b.op == ast::BoolOp::And => {
                for value in &b.values {
                    if let Expr::Name(name) = value {
                        frame.truth_tests.push(intern(name.id.as_str()));
                    }
                }
            }
            _ => {}
        }
        frame.truth_tests.len() - before
    }

    /// Ends the tests [`Self::push_truth_tests`] pushed.
    pub(super) fn pop_truth_tests(&mut self, count: usize) {
        if let Some(frame) = self.frame_mut() {
            let kept = frame.truth_tests.len().saturating_sub(count);
            frame.truth_tests.truncate(kept);
        }
    }

    // ----- call sites ----------------------------------------------------------------------------

    /// How a callee expression is written: its receiver and the dotted rest.
    pub(super) fn callee_of(&self, func: &Expr) -> Option<(CallReceiver, Name)> {
        self.callee_or_local_method(func, false).ok().flatten()
    }

    /// [`Self::callee_of`] for the callee of a call, or `Err` with the method's name when the
    /// call is a method of a local whose class cannot be known (`text.strip()`, which the call
    /// graph cannot resolve): the dotted callee of those is never built nor interned, since only
    /// the method's name is kept ([`FileFacts::untyped_method_calls`]).
    fn call_callee<'e>(&self, func: &'e Expr) -> Result<Option<(CallReceiver, Name)>, &'e str> {
        self.callee_or_local_method(func, true)
    }

    fn callee_or_local_method<'e>(
        &self,
        func: &'e Expr,
        method_of_unknown_local: bool,
    ) -> Result<Option<(CallReceiver, Name)>, &'e str> {
        let mut base = func;
        while let Expr::Attribute(attribute) = base {
            base = &attribute.value;
        }
        let has_attrs = !std::ptr::eq(base, func);
        // The attributes of `func` after its base, dotted, after `head` if given.
        let join = |head: Option<&str>| -> Name {
            // A plain name, or one attribute with nothing before it (`self.m`): a name of the
            // tree interned as it is, with no text built.
            match (head, func) {
                (Some(head), _) if !has_attrs => return intern(head),
                (None, Expr::Attribute(attribute)) if std::ptr::eq(&*attribute.value, base) => {
                    return intern(attribute.attr.as_str());
                }
                _ => {}
            }
            let joined = build_name(|out| {
                out.push_str(head.unwrap_or_default());
                push_attribute_chain(func, out);
                Some(())
            });
            joined.unwrap_or_default()
        };
        match base {
            Expr::Name(name) => {
                let id = name.id.as_str();
                let (receiver, interned) = if self.function_scope().is_none() {
                    (CallReceiver::Name, None)
                } else {
                    self.name_node_here(name)
                };
                // A plain name already looked up as interned is not built again.
                let written = || match interned {
                    Some(interned) if !has_attrs => interned,
                    _ => join(Some(id)),
                };
                match receiver {
                    CallReceiver::SelfParam | CallReceiver::Class => {
                        Ok(has_attrs.then(|| (receiver, join(None))))
                    }
                    CallReceiver::Local
                        if method_of_unknown_local
                            && !self.local_may_have_class(
                                interned.or_else(|| crate::facts::interned(id)),
                            ) =>
                    {
                        match func {
                            Expr::Attribute(method) => Err(method.attr.as_str()),
                            _ => Ok(Some((receiver, written()))),
                        }
                    }
                    _ => Ok(Some((receiver, written()))),
                }
            }
            Expr::Call(inner) if has_attrs => Ok(self.callee_on_call(func, base, inner, join)),
            _ => Ok(None),
        }
    }

    /// Whether `call` calls a class held as a value: `Some(true)` for the class the method runs
    /// for (`cls(...)`, `type(self)(...)`, `self.__class__(...)`), `Some(false)` for another
    /// object's (`type(x)(...)`, `x.__class__(...)`), `None` for any other call.
    pub(super) fn class_call_kind(&self, call: &ast::ExprCall) -> Option<bool> {
        let is_self = |e: &Expr| matches!(e, Expr::Name(n) if self.receiver_named(n.id.as_str()) == CallReceiver::SelfParam);
        match &*call.func {
            Expr::Name(n) => {
                (self.receiver_named(n.id.as_str()) == CallReceiver::Class).then_some(true)
            }
            Expr::Call(inner) => match (&*inner.func, inner.arguments.args.as_ref()) {
                (Expr::Name(f), [object]) if f.id.as_str() == "type" => Some(is_self(object)),
                _ => None,
            },
            Expr::Attribute(a) if a.attr.as_str() == "__class__" => Some(is_self(&a.value)),
            _ => None,
        }
    }

    /// The callee of `func`, whose innermost receiver `base` is the call `inner`: a method of
    /// `super()`, of `type(self)`, or of an instance constructed in place (`Tracker().record`).
    fn callee_on_call(
        &self,
        func: &Expr,
        base: &Expr,
        inner: &ast::ExprCall,
        join: impl Fn(Option<&str>) -> Name,
    ) -> Option<(CallReceiver, Name)> {
        match &*inner.func {
            Expr::Name(f) if f.id.as_str() == "super" => Some((CallReceiver::Super, join(None))),
            Expr::Name(f)
                if f.id.as_str() == "type"
                    && inner.arguments.args.len() == 1
                    && self
                        .resolve(&inner.arguments.args[0], false)
                        .is_some_and(|r| {
                            r.path == AccessPath::new(Root::SelfParam) && !r.nested
                        }) =>
            {
                Some((CallReceiver::Class, join(None)))
            }
            func_of_inner => {
                let class = dotted_name(func_of_inner)?;
                let Expr::Attribute(method) = func else {
                    return None;
                };
                if !std::ptr::eq(&*method.value, base) {
                    return None;
                }
                let receiver = self.callee_of(func_of_inner)?.0;
                let class = join_dotted(&class, method.attr.as_str());
                (receiver == CallReceiver::Name || receiver == CallReceiver::Local)
                    .then_some((CallReceiver::NewInstance, class))
            }
        }
    }

    /// Whether the call graph could resolve a call written this way: not a method of a local
    /// whose class cannot be known (`text.strip()`). Many calls are such; leaving them out keeps
    /// the facts small.
    fn may_resolve(&self, receiver: CallReceiver, callee: &str) -> bool {
        match receiver {
            // Builtins too: the exported graph shows them (`<builtin>.len`).
            CallReceiver::Name => true,
            CallReceiver::Local => {
                let Some((head, _)) = callee.split_once('.') else {
                    return true;
                };
                self.local_may_have_class(interned(head))
            }
            _ => true,
        }
    }

    /// A local that the link may give a class or module: a parameter with an annotation, a local
    /// bound to a call, or a name imported inside a function (checked here and around). The local
    /// is asked by its name, compared and hashed without reading its text; `None`, a text never
    /// interned, names none of them.
    fn local_may_have_class(&self, name: Option<Name>) -> bool {
        let Some(name) = name else {
            return false;
        };
        let functions = &self.facts.functions;
        let mut current = self.current_function();
        while let Some(f) = current {
            let facts = &functions[f as usize];
            if facts
                .params
                .iter()
                .any(|p| p.name == name && p.annotation.is_some())
            {
                return true;
            }
            current = facts.parent;
        }
        let constructed = self.scopes.iter().any(|scope| match scope {
            super::Scope::Function(f) => f
                .constructed
                .get(&name)
                .is_some_and(|(_, class)| class.is_some()),
            _ => false,
        });
        constructed
            || self.first_function_import.is_some_and(|first| {
                self.facts.imports[first..]
                    .iter()
                    .any(|i| i.function.is_some() && i.binding == name)
            })
    }

    /// Records a call and the functions passed to it as arguments.
    pub(super) fn record_call_site(&mut self, call: &ast::ExprCall) {
        self.reach
            .argument_marks
            .push((self.reach.argument_callees.len(), None));
        let function = self.current_function();
        let start = call.range().start().to_u32();
        // The binding of `name = cls(...)` may have recorded the call already.
        if let Some(own) = self.class_call_kind(call)
            && !self
                .facts
                .class_calls
                .iter()
                .rev()
                .any(|c| c.start == start)
        {
            self.facts.class_calls.push(ClassCall {
                function,
                start,
                own,
                bound_to: None,
            });
        }
        let argument_of = self
            .reach
            .pending_parents
            .iter()
            .rposition(|(s, _)| *s == start)
            .map(|i| self.reach.pending_parents.swap_remove(i).1);
        // `handlers["a"]()` calls what was stored last under that key, `handlers[name]()` what
        // the container holds.
        let keyed = self.keyed_callee(&call.func);
        let mut func = &*call.func;
        while let Expr::Subscript(subscript) = func {
            func = &subscript.value;
        }
        let callee = match func {
            _ if keyed.is_some() => keyed,
            Expr::Call(inner) => {
                let range = inner.range();
                let outer = self.facts.calls.len() as u32;
                self.reach
                    .pending_results
                    .push(((range.start().to_u32(), range.end().to_u32()), outer));
                Some((CallReceiver::CallResult(u32::MAX), Name::default()))
            }
            _ => match self.call_callee(func) {
                Ok(callee) => callee,
                Err(method) => {
                    self.facts.untyped_method_calls.push(intern(method));
                    None
                }
            },
        };
        let index = match &callee {
            Some((receiver, callee)) if self.may_resolve(*receiver, callee) => {
                let index = self.facts.calls.len() as u32;
                let range = call.range();
                let key = (range.start().to_u32(), range.end().to_u32());
                self.reach.calls_by_range.insert(key, index);
                if let Some(i) = self
                    .reach
                    .pending_results
                    .iter()
                    .rposition(|(k, _)| *k == key)
                {
                    let (_, outer) = self.reach.pending_results.swap_remove(i);
                    if let Some(site) = self.facts.calls.get_mut(outer as usize) {
                        site.set_receiver(CallReceiver::CallResult(index));
                    }
                }
                let mut site = CallSite::new(
                    function,
                    *receiver,
                    *callee,
                    false,
                    MaybeIndex::new(argument_of).unwrap_or(MaybeIndex::NONE),
                    span(call.range()),
                );
                if *receiver == CallReceiver::Local && self.called_after_rebinding(callee, start) {
                    site.set_after_rebinding();
                }
                self.facts.calls.push(site);
                if self.in_returned_lambda > 0 {
                    self.facts.returned_lambda_calls.push(index);
                }
                if function.is_none() && self.in_deferred > 0 {
                    self.facts.deferred_module_calls.push(index);
                }
                if *receiver == CallReceiver::Name
                    && callee.contains('.')
                    && let Some(Expr::Name(first)) = call.arguments.args.first()
                    && self.name_node_here(first).0 == CallReceiver::SelfParam
                {
                    self.facts.calls_on_own_instance.push(index);
                }
                if let Some(function) = function {
                    self.note_if_conditional(start);
                    self.record_call_arguments(function, index, call);
                }
                if function.is_some()
                    && let Some((flag, set_in_block)) = self.first_time_flags.last()
                {
                    self.facts.first_time_calls.push(FirstTimeCall {
                        call: index,
                        flag: *flag,
                        set_in_block: *set_in_block,
                    });
                }
                Some(index)
            }
            Some((CallReceiver::Local, callee)) => {
                let method = knowledge::last_segment(callee);
                if method.len() < callee.len() {
                    self.facts.untyped_method_calls.push(intern(method));
                }
                None
            }
            _ => None,
        };
        if let Some(mark) = self.reach.argument_marks.last_mut() {
            mark.1 = index;
        }
        let takes_values = matches!(&callee, Some((CallReceiver::Name, c)) if VALUE_TAKING_BUILTINS.contains(&c.as_str()));
        let arguments = call
            .arguments
            .args
            .iter()
            .map(|a| match a {
                Expr::Starred(s) => &*s.value,
                other => other,
            })
            .chain(call.arguments.keywords.iter().map(|k| &k.value));
        for argument in arguments {
            match argument {
                Expr::Call(inner) => {
                    if let Some(index) = index {
                        self.reach
                            .pending_parents
                            .push((inner.range().start().to_u32(), index));
                    }
                }
                Expr::Name(_) | Expr::Attribute(_) if !takes_values => {
                    let written = self.callee_of(argument);
                    self.record_reference(argument, written, index);
                    self.reach
                        .argument_callees
                        .push((argument.range(), written));
                }
                _ => {}
            }
        }
    }

    /// Whether a call at `start` through the local `callee` (or a dotted name on it) is made
    /// after an assignment of the function rebound the local on every path to it (see
    /// [`Frame::rebound`]). Not in a lambda or generator expression: that runs later, when the
    /// name may hold something else.
    fn called_after_rebinding(&self, callee: &str, start: u32) -> bool {
        if self.in_deferred > 0 {
            return false;
        }
        let Some(frame) = self.frame() else {
            return false;
        };
        if frame.rebound.is_empty() {
            return false;
        }
        let head = callee.split_once('.').map_or(callee, |(head, _)| head);
        frame.rebound.iter().any(|(name, at, end)| {
            name.as_str() == head && *end <= start && self.blocks.still_open(*at)
        })
    }

    /// An import inside the function binds `name` again: calls through it no longer follow a
    /// rebinding.
    pub(super) fn imported_again(&mut self, name: Name) {
        if let Some(frame) = self.frame_mut() {
            frame.rebound.retain(|(rebound, ..)| *rebound != name);
        }
    }

    /// The arguments of the call at `index` of `calls`, made in `function`, when it has none or
    /// passes a false literal or a parameter of `function` ([`FileFacts::call_arguments`]): the
    /// other calls give a callee's parameters values nothing here knows.
    fn record_call_arguments(&mut self, function: FuncIdx, index: u32, call: &ast::ExprCall) {
        let params = &self.facts.functions[function as usize].params;
        let in_function_scope = self.in_deferred == 0;
        let given = |value: &Expr| {
            if let Some(none) = super::uses::falsity(value) {
                return Given::False { none };
            }
            match value {
                // In a lambda or generator the name may be one of its own parameters.
                Expr::Name(name) if in_function_scope => params
                    .iter()
                    .position(|p| p.name.as_str() == name.id.as_str())
                    .map_or(Given::Other, |index| Given::Parameter(index as u32)),
                _ => Given::Other,
            }
        };
        let arguments = &call.arguments;
        // Most calls pass something of their own: decide before building anything.
        let before_splat = || {
            arguments
                .args
                .iter()
                .take_while(|arg| !matches!(arg, Expr::Starred(_)))
        };
        let bare = arguments.args.is_empty() && arguments.keywords.is_empty();
        let telling = before_splat().any(|arg| given(arg) != Given::Other)
            || arguments
                .keywords
                .iter()
                .any(|k| k.arg.is_some() && given(&k.value) != Given::Other);
        if !(telling || bare) {
            return;
        }
        let positional: ThinVec<Given> = before_splat().map(given).collect();
        let splat = positional.len() < arguments.args.len()
            || arguments.keywords.iter().any(|k| k.arg.is_none());
        let keywords: ThinVec<(Name, Given)> = arguments
            .keywords
            .iter()
            .filter_map(|k| Some((intern(k.arg.as_ref()?.as_str()), given(&k.value))))
            .collect();
        self.facts.call_arguments.push(CallArguments {
            call: index,
            positional,
            keywords,
            splat,
        });
    }

    /// `raise Error` (a class, not a call) makes an instance: a call of the class.
    pub(super) fn record_raised_class(&mut self, stmt: &Stmt) {
        let Stmt::Raise(ast::StmtRaise { exc: Some(exc), .. }) = stmt else {
            return;
        };
        if !matches!(&**exc, Expr::Name(_) | Expr::Attribute(_)) {
            return;
        }
        let Some((receiver, callee)) = self.callee_of(exc) else {
            return;
        };
        if matches!(receiver, CallReceiver::Name | CallReceiver::Local) {
            self.facts.calls.push(CallSite::new(
                self.current_function(),
                receiver,
                callee,
                false,
                MaybeIndex::NONE,
                span(exc.range()),
            ));
        }
    }

    /// A name or attribute passed as an argument, when it may name a function.
    fn record_reference(
        &mut self,
        argument: &Expr,
        written: Option<(CallReceiver, Name)>,
        argument_of: Option<u32>,
    ) {
        let Some((receiver, callee)) = written else {
            return;
        };
        let keep = match receiver {
            CallReceiver::Name => {
                !(knowledge::is_builtin(&callee) || callee.bytes().all(|b| !b.is_ascii_lowercase()))
            }
            CallReceiver::Local => self
                .frame()
                .is_some_and(|f| f.nested_defs.contains(&callee)),
            CallReceiver::SelfParam | CallReceiver::Class => !callee.contains('.'),
            CallReceiver::Super | CallReceiver::NewInstance => true,
            CallReceiver::CallResult(_) => false,
        };
        if !keep {
            return;
        }
        self.facts.calls.push(CallSite::new(
            self.current_function(),
            receiver,
            callee,
            true,
            MaybeIndex::new(argument_of).unwrap_or(MaybeIndex::NONE),
            span(argument.range()),
        ));
    }

    /// Calls in `Annotated[...]` parameter annotations (`Annotated[User, Depends(current_user)]`):
    /// they run where the function is defined, like defaults.
    pub(super) fn visit_annotated_calls(&mut self, parameters: &ast::Parameters) {
        for p in parameters.iter_non_variadic_params() {
            let Some(Expr::Subscript(sub)) = p.parameter.annotation.as_deref() else {
                continue;
            };
            let annotated =
                dotted_name(&sub.value).is_some_and(|n| knowledge::last_segment(&n) == "Annotated");
            if !annotated {
                continue;
            }
            if let Expr::Tuple(t) = &*sub.slice {
                for element in t.elts.iter().skip(1) {
                    if let Expr::Call(_) = element {
                        self.visit_expr(element);
                    }
                }
            }
        }
    }

    /// A module-level `if __name__ == "__main__":` block.
    pub(super) fn note_script_block(&mut self, stmt: &Stmt) {
        let Stmt::If(if_stmt) = stmt else { return };
        if !matches!(self.scopes.last(), Some(super::Scope::Module)) {
            return;
        }
        let Expr::Compare(compare) = &*if_stmt.test else {
            return;
        };
        let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
        let is_main =
            |e: &Expr| matches!(e, Expr::StringLiteral(s) if literal_text(&s.value) == "__main__");
        if let ([ast::CmpOp::Eq], [right]) = (&*compare.ops, &*compare.comparators)
            && ((is_name(&compare.left) && is_main(right))
                || (is_main(&compare.left) && is_name(right)))
        {
            self.facts.script_blocks.push(span(if_stmt.range()));
        }
    }

    /// A module-level `NAME = deque(maxlen=n)` (or any call given `maxlen`): a bounded container.
    pub(super) fn note_bounded_bindings(&mut self, value: &Expr, statement: TextRange) {
        let Expr::Call(call) = value else { return };
        let bounded = call
            .arguments
            .keywords
            .iter()
            .any(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "maxlen"))
            || (dotted_name(&call.func).is_some_and(|c| knowledge::last_segment(&c) == "deque")
                && call.arguments.args.len() >= 2);
        if !bounded || self.function_scope().is_some() {
            return;
        }
        let whole = span(statement);
        let globals = &self.facts.globals;
        let mut index = globals.len();
        while index > 0 && globals[index - 1].span == whole {
            index -= 1;
            self.facts.bounded_globals.push(index as u32);
        }
    }

    // ----- guards, probes and stores -------------------------------------------------------------

    /// Called for every expression: notes tests against `None`, lookups of containers by key and
    /// `setdefault` memoisations.
    pub(super) fn reach_expr(&mut self, expr: &Expr) {
        if self.function_scope().is_none() {
            return;
        }
        if let Expr::Call(call) = expr
            && let Expr::Attribute(method) = &*call.func
            && knowledge::ADDING_METHODS.contains(&method.attr.as_str())
            && self.is_guarded(&method.value)
        {
            self.facts.lazy_inits.push(call.range().start().to_u32());
        }
        match expr {
            Expr::Subscript(sub) if sub.ctx.is_load() => self.note_served(&sub.value),
            Expr::Compare(compare) => {
                for (op, right) in compare.ops.iter().zip(compare.comparators.iter()) {
                    match op {
                        ast::CmpOp::In | ast::CmpOp::NotIn => self.note_probe(right),
                        ast::CmpOp::Is | ast::CmpOp::IsNot | ast::CmpOp::Eq | ast::CmpOp::NotEq
                            if matches!(right, Expr::NoneLiteral(_)) =>
                        {
                            self.note_guard(&compare.left);
                        }
                        _ => {}
                    }
                }
            }
            Expr::UnaryOp(unary) if unary.op == ast::UnaryOp::Not => {
                self.note_guard(&unary.operand)
            }
            Expr::Call(call) => {
                let args = &call.arguments.args;
                self.note_local_fill(call);
                match &*call.func {
                    Expr::Attribute(method) if method.attr.as_str() == "get" => {
                        self.note_probe(&method.value);
                        self.note_served(&method.value);
                    }
                    Expr::Attribute(method)
                        if super::storing_method(call).is_some()
                            && args.last().is_some_and(|a| self.is_parameter_data(a)) =>
                    {
                        self.facts
                            .parameter_stores
                            .push(call.range().start().to_u32());
                        if let Some(Expr::Name(stored)) = args.last() {
                            self.facts
                                .stored_parameters
                                .push((call.range().start().to_u32(), intern(stored.id.as_str())));
                        }
                        if method.attr.as_str() == "setdefault" && args.len() == 2 {
                            self.record_memo(&method.value, &args[0], &args[1], call.range(), true);
                        }
                    }
                    Expr::Attribute(method) if method.attr.as_str() == "add" && args.len() == 1 => {
                        // `if x in seen: ...; seen.add(x)`: a cache of seen values, which the
                        // membership test itself serves.
                        self.note_served(&method.value);
                        self.record_memo(&method.value, &args[0], &args[0], call.range(), false);
                    }
                    Expr::Attribute(method)
                        if method.attr.as_str() == "setdefault" && args.len() == 2 =>
                    {
                        self.record_memo(&method.value, &args[0], &args[1], call.range(), true);
                    }
                    // `cache.set(key, value)` after a look-up in the same cache: a store when
                    // the object's class stores what its `set` is given under the key
                    // (`ParamKeyedStore`), which the rule asks.
                    Expr::Attribute(method)
                        if method.attr.as_str() == "set"
                            && args.len() >= 2
                            && self.is_probed(&method.value) =>
                    {
                        self.record_memo(&method.value, &args[0], &args[1], call.range(), false);
                    }
                    Expr::Name(f) if f.id.as_str() == "hasattr" && args.len() == 2 => {
                        if let (Some(object), Expr::StringLiteral(attr)) =
                            (dotted_name(&args[0]), &args[1])
                        {
                            let guarded = join_dotted(&object, literal_text(&attr.value));
                            if let Some(frame) = self.frame_mut() {
                                frame.guarded.push(guarded);
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// Whether `expr` computes something (an operation, a call, an attribute, ...) rather than
    /// only passing names and literals along (`(module, name)`), directly or through locals.
    fn is_computed(&self, expr: &Expr, depth: u32) -> bool {
        if depth > MAX_WALK_DEPTH {
            return false;
        }
        match expr {
            Expr::Name(name) => self
                .frame()
                .is_some_and(|f| f.computed.iter().any(|c| c == name.id.as_str())),
            Expr::Tuple(t) => t.elts.iter().any(|e| self.is_computed(e, depth + 1)),
            Expr::List(l) => l.elts.iter().any(|e| self.is_computed(e, depth + 1)),
            Expr::Set(l) => l.elts.iter().any(|e| self.is_computed(e, depth + 1)),
            Expr::Starred(s) => self.is_computed(&s.value, depth + 1),
            Expr::StringLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::EllipsisLiteral(_) => false,
            _ => true,
        }
    }

    /// Whether the function tested `name` against `None` or for truth before this point
    /// (`if not headers:`), as the usual `headers = {}` under such a test does.
    pub(super) fn was_tested(&self, name: &str) -> bool {
        self.frame()
            .is_some_and(|f| f.guarded.iter().any(|g| g == name))
    }

    /// A container tested for emptiness or `None` earlier in the function: what fills it runs
    /// once (`if not _table: _table.update(load())`).
    fn is_guarded(&self, container: &Expr) -> bool {
        dotted_name(container)
            .is_some_and(|name| self.frame().is_some_and(|f| f.guarded.contains(&name)))
    }

    /// A parameter of the current function, or a tuple or list of them: what the caller passed.
    fn is_parameter_data(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Tuple(t) => !t.elts.is_empty() && t.elts.iter().all(|e| self.is_parameter(e)),
            Expr::List(l) => !l.elts.is_empty() && l.elts.iter().all(|e| self.is_parameter(e)),
            other => self.is_parameter(other),
        }
    }

    /// `parts.append(x)` on a local (not a parameter) that already depends on some input: the
    /// local now depends on `x`'s inputs too, as a key built piece by piece does (`key_parts =
    /// [prefix]`, then `key_parts.append(str(kwargs["user_id"]))`). A local started empty (`out =
    /// []`, the common accumulator) is left as it is: asking each of its appends is the cost.
    fn note_local_fill(&mut self, call: &ast::ExprCall) {
        let Expr::Attribute(method) = &*call.func else {
            return;
        };
        let Expr::Name(local) = &*method.value else {
            return;
        };
        let fills = super::storing_method(call).is_some() || method.attr.as_str() == "extend";
        if !fills || self.is_parameter(&method.value) {
            return;
        }
        let Some(name) = interned(local.id.as_str()) else {
            return;
        };
        if self
            .frame()
            .and_then(|f| f.inputs.get(name.as_str()))
            .is_none_or(|inputs| inputs.is_empty())
        {
            return;
        }
        let mut added = Vec::new();
        for arg in &call.arguments.args {
            added.extend(self.inputs_of(arg));
        }
        if let Some(entry) = self
            .frame_mut()
            .and_then(|f| f.inputs.get_mut(name.as_str()))
        {
            for input in added {
                if !entry.contains(&input) {
                    entry.push(input);
                }
            }
        }
    }

    /// `self.<attr>[key] = value` with `key` and `value` parameters of the method.
    fn note_param_keyed_store(&mut self, sub: &ast::ExprSubscript, value: &Expr) {
        let (Expr::Attribute(container), Expr::Name(key), Expr::Name(stored)) =
            (&*sub.value, &*sub.slice, value)
        else {
            return;
        };
        let Some(scope) = self.function_scope() else {
            return;
        };
        if !matches!(&*container.value, Expr::Name(receiver)
            if scope.self_name.as_ref().is_some_and(|s| s == receiver.id.as_str()))
            || !self.is_parameter(&sub.slice)
            || !self.is_parameter(value)
        {
            return;
        }
        let function = scope.idx;
        self.facts.param_keyed_stores.push(ParamKeyedStore {
            function,
            container: intern(container.attr.as_str()),
            key: intern(key.id.as_str()),
            value: intern(stored.id.as_str()),
        });
    }

    /// A bare parameter of the current function.
    fn is_parameter(&self, expr: &Expr) -> bool {
        let (Expr::Name(name), Some(function)) = (expr, self.current_function()) else {
            return false;
        };
        self.facts.functions[function as usize]
            .params
            .iter()
            .any(|p| p.name == name.id.as_str())
    }

    fn note_guard(&mut self, tested: &Expr) {
        if let Some(name) = dotted_name(tested)
            && let Some(frame) = self.frame_mut()
            && !frame.guarded.contains(&name)
        {
            frame.guarded.push(name);
        }
    }

    fn note_probe(&mut self, container: &Expr) {
        self.note_container(container, |frame| &mut frame.probed);
    }

    /// Also keeps, per container, the `if` tests every read of it is under.
    fn note_served(&mut self, container: &Expr) {
        if let Some(resolved) = self.resolve(container, true)
            && !resolved.nested
            && let Some(frame) = self.frame_mut()
        {
            if !frame.served.contains(&resolved.path) {
                frame.served.push(resolved.path.clone());
            }
            let tests = &frame.truth_tests;
            match frame
                .served_under
                .iter_mut()
                .find(|(c, _)| *c == resolved.path)
            {
                Some((_, under)) => under.retain(|name| tests.contains(name)),
                None => frame.served_under.push((resolved.path, tests.clone())),
            }
        }
    }

    /// Adds the container an expression denotes to one of the frame's lists, once.
    fn note_container(&mut self, container: &Expr, list: fn(&mut Frame) -> &mut Vec<AccessPath>) {
        if let Some(resolved) = self.resolve(container, true)
            && !resolved.nested
            && let Some(frame) = self.frame_mut()
        {
            let list = list(frame);
            if !list.contains(&resolved.path) {
                list.push(resolved.path);
            }
        }
    }

    fn is_probed(&self, container: &Expr) -> bool {
        // Asked of every subscript an assigned value reads; most functions probe nothing, and
        // resolving the container builds its path.
        self.frame().is_some_and(|frame| {
            !frame.probed.is_empty()
                && self
                    .resolve(container, true)
                    .is_some_and(|r| !r.nested && frame.probed.contains(&r.path))
        })
    }

    /// Called before each statement of a function body is walked.
    pub(super) fn reach_stmt(&mut self, stmt: &Stmt) {
        if self.frame().is_none() {
            return;
        }
        match stmt {
            Stmt::Assign(assign) => {
                self.note_get_probes(&assign.value);
                let needed = assign.targets.iter().any(|t| self.takes_inputs(t, false));
                self.with_inputs(&assign.value, needed, |this, inputs| {
                    for target in &assign.targets {
                        this.assigned(target, Some(&assign.value), inputs, false);
                    }
                });
            }
            Stmt::AnnAssign(assign) => {
                if let Some(value) = &assign.value {
                    self.note_get_probes(value);
                    let needed = self.takes_inputs(&assign.target, false);
                    self.with_inputs(value, needed, |this, inputs| {
                        this.assigned(&assign.target, Some(value), inputs, false);
                    });
                }
            }
            Stmt::AugAssign(assign) => {
                let needed = self.takes_inputs(&assign.target, true);
                self.with_inputs(&assign.value, needed, |this, inputs| {
                    this.assigned(&assign.target, None, inputs, true);
                });
            }
            Stmt::For(for_stmt) => {
                let needed = self.takes_inputs(&for_stmt.target, false);
                self.with_inputs(&for_stmt.iter, needed, |this, inputs| {
                    this.assigned(&for_stmt.target, None, inputs, false);
                });
                // A loop that runs no time leaves its target as it was.
                self.forget_last_assignments(&for_stmt.target);
            }
            Stmt::With(with) => {
                for item in &with.items {
                    if let Some(vars) = &item.optional_vars {
                        let needed = self.takes_inputs(vars, false);
                        self.with_inputs(&item.context_expr, needed, |this, inputs| {
                            this.assigned(vars, None, inputs, false);
                        });
                    }
                }
            }
            Stmt::Try(try_stmt) if try_stmt.handlers.iter().any(catches_missing_key) => {
                let mut loads = Vec::new();
                for s in &try_stmt.body {
                    subscript_loads(s, &mut loads, 0);
                }
                for container in loads {
                    self.note_probe(container);
                }
            }
            _ => {}
        }
    }

    /// `v = C.get(k)` probes `C` before `v`'s inputs are computed.
    fn note_get_probes(&mut self, value: &Expr) {
        if let Expr::Call(call) = value
            && let Expr::Attribute(method) = &*call.func
            && method.attr.as_str() == "get"
        {
            self.note_probe(&method.value);
        }
    }

    /// An assignment target inside a function: locals take the value's inputs, item stores are
    /// memoisation candidates, and guarded assignments are lazy initialisations.
    fn assigned(&mut self, target: &Expr, value: Option<&Expr>, inputs: &[Name], augmented: bool) {
        match target {
            Expr::Name(name) => {
                let id = name.id.as_str();
                let (receiver, interned) = self.name_node_here(name);
                if receiver == CallReceiver::Name {
                    if let Some(value) = value
                        && (self.once_blocks > 0 || self.is_lazy(target, value))
                    {
                        let start = target.range().start().to_u32();
                        self.facts.lazy_inits.push(start);
                        // Only under a test of this name alone: a binding under `if x is
                        // None or stale:` runs again whenever the value is stale.
                        if self.unset_tests.iter().any(|name| name == id)
                            && let Some(parameter) = self.parameter_read(value)
                        {
                            self.facts.first_call_data_inits.push((start, parameter));
                        }
                    }
                    return;
                }
                let computed = value.is_some_and(|v| self.is_computed(v, 0));
                let text = value.and_then(|v| self.text_of_parameter(v));
                let here = self.blocks.here();
                // `x = x` leaves the name holding what it held.
                let rebinding = value.filter(|v| {
                    !matches!(v, Expr::Name(same) if same.id.as_str() == id) && !augmented
                });
                let Some(frame) = self.frame_mut() else {
                    return;
                };
                // Not a global: the function (or an enclosing one) holds the name.
                let id = interned.unwrap_or_else(|| intern(id));
                if let Some(value) = rebinding {
                    let end = value.range().end().to_u32();
                    match frame.rebound.iter_mut().find(|(name, ..)| *name == id) {
                        Some(entry) => *entry = (id, here, end),
                        None => frame.rebound.push((id, here, end)),
                    }
                }
                match text {
                    Some(text) => frame.texts.insert(id, text),
                    None => frame.texts.remove(&id),
                };
                if computed && !frame.computed.contains(&id) {
                    frame.computed.push(id);
                }
                if frame.gathers_inputs {
                    if augmented {
                        frame.last_assigned.remove(id.as_str());
                    } else {
                        let value = (here, Inputs::from_slice(inputs));
                        frame.last_assigned.insert(TextKeyed(id), value);
                    }
                }
                let entry = frame.inputs.entry(TextKeyed(id)).or_default();
                for input in inputs {
                    if !entry.contains(input) {
                        entry.push(*input);
                    }
                }
            }
            Expr::Attribute(attribute) => {
                if let Some(value) = value
                    && (self.once_blocks > 0 || self.is_lazy(target, value))
                {
                    self.facts.lazy_inits.push(target.range().start().to_u32());
                }
                if let Expr::Name(receiver) = &*attribute.value
                    && self
                        .function_scope()
                        .and_then(|f| f.self_name)
                        .is_some_and(|self_name| self_name == receiver.id.as_str())
                    && !augmented
                    && let Some(frame) = self.frame_mut()
                {
                    let stored = join_dotted(receiver.id.as_str(), attribute.attr.as_str());
                    frame
                        .inputs
                        .insert(TextKeyed(stored), Inputs::from_slice(inputs));
                }
            }
            Expr::Subscript(sub) if !augmented => {
                if let Some(value) = value {
                    self.note_param_keyed_store(sub, value);
                }
                // `if not headers: headers = {}` then `headers[k] = v`: a parameter holds what
                // each call passes, so a test of it marks no first time.
                if self.is_guarded(&sub.value) && !self.is_parameter(&sub.value) {
                    self.facts.lazy_inits.push(sub.range().start().to_u32());
                }
                if let Some(value) = value
                    && self.is_parameter_data(value)
                {
                    self.facts
                        .parameter_stores
                        .push(sub.range().start().to_u32());
                    if let Expr::Name(stored) = value {
                        self.facts
                            .stored_parameters
                            .push((sub.range().start().to_u32(), intern(stored.id.as_str())));
                    }
                }
                if is_literal(&sub.slice) {
                    self.facts
                        .constant_key_stores
                        .push(sub.range().start().to_u32());
                }
                if let Some(value) = value
                    && !matches!(&*sub.slice, Expr::Slice(_))
                {
                    self.record_memo(&sub.value, &sub.slice, value, sub.range(), false);
                }
            }
            Expr::Tuple(t) => t
                .elts
                .iter()
                .for_each(|e| self.assigned(e, None, inputs, augmented)),
            Expr::List(l) => l
                .elts
                .iter()
                .for_each(|e| self.assigned(e, None, inputs, augmented)),
            Expr::Starred(s) => self.assigned(&s.value, None, inputs, augmented),
            _ => {}
        }
    }

    /// Whether [`Self::assigned`] reads the inputs it is given for `target`: a name's inputs
    /// are kept, and those of `self.x` when stored, not augmented; an item store or the
    /// attribute of another object keeps none, and walking the value for them was a second
    /// walk of it for nothing.
    fn takes_inputs(&self, target: &Expr, augmented: bool) -> bool {
        match target {
            Expr::Name(_) => true,
            Expr::Attribute(attribute) => {
                !augmented
                    && matches!(&*attribute.value, Expr::Name(receiver)
                        if self
                            .function_scope()
                            .and_then(|f| f.self_name)
                            .is_some_and(|self_name| self_name == receiver.id.as_str()))
            }
            Expr::Tuple(t) => t.elts.iter().any(|e| self.takes_inputs(e, augmented)),
            Expr::List(l) => l.elts.iter().any(|e| self.takes_inputs(e, augmented)),
            Expr::Starred(s) => self.takes_inputs(&s.value, augmented),
            _ => false,
        }
    }

    /// The first parameter of the current function that `value` reads (directly, or through a
    /// local whose inputs were gathered), among those every call passes: not the receiver
    /// (`self`, `cls`), and with no default (a call that leaves it out brings no data of its own).
    fn parameter_read(&self, value: &Expr) -> Option<Name> {
        let function = self.current_function()?;
        let scope = self.function_scope()?;
        let receivers = [scope.self_name.as_deref(), scope.cls_name.as_deref()];
        let params = &self.facts.functions[function as usize].params;
        self.inputs_of(value).into_iter().find(|input| {
            !receivers.contains(&Some(input.as_str()))
                && params
                    .iter()
                    .any(|p| p.name == *input && p.default.is_none())
        })
    }

    /// `x = make()` under `if x is None:` (or `not x`, `not hasattr(self, "x")`), or
    /// `x = x or make()`.
    fn is_lazy(&self, target: &Expr, value: &Expr) -> bool {
        // Most stores are neither `x = x or ...` nor under a test: their target's name is not
        // built (nor interned) just to be compared with nothing.
        let may_match = matches!(value, Expr::BoolOp(b) if b.op == ast::BoolOp::Or)
            || self.frame().is_some_and(|f| !f.guarded.is_empty());
        may_match && dotted_name(target).is_some_and(|written| self.is_lazy_name(&written, value))
    }

    /// Whether storing `value` into what `written` names (`_x`, `self._x`) is a first-time
    /// initialisation: under a test that it is unset, or `x = x or make()`.
    pub(super) fn is_lazy_name(&self, written: &str, value: &Expr) -> bool {
        if let Expr::BoolOp(b) = value
            && b.op == ast::BoolOp::Or
            && b.values.first().and_then(dotted_name).as_deref() == Some(written)
        {
            return true;
        }
        self.frame()
            .is_some_and(|f| f.guarded.iter().any(|g| g == written))
    }

    fn record_memo(
        &mut self,
        container: &Expr,
        key: &Expr,
        value: &Expr,
        range: TextRange,
        probed: bool,
    ) {
        let Some(function) = self.current_function() else {
            return;
        };
        // Storing what the caller passed, or grouping into new containers (`C[k] = [v]`), is
        // registration, not memoisation. An empty container stored under a probed key is the
        // start of a cached entry (`if k not in C: C[k] = []`, then filled): a memoisation
        // whose value depends on nothing.
        let empty = match value {
            Expr::List(l) => l.elts.is_empty(),
            Expr::Set(l) => l.elts.is_empty(),
            Expr::Dict(d) => d.items.is_empty(),
            Expr::Tuple(t) => t.elts.is_empty(),
            _ => false,
        };
        if !empty
            && (self.is_parameter_data(value)
                || matches!(
                    value,
                    Expr::List(_)
                        | Expr::Set(_)
                        | Expr::Dict(_)
                        | Expr::ListComp(_)
                        | Expr::SetComp(_)
                        | Expr::DictComp(_)
                ))
        {
            return;
        }
        // One fixed slot (`C["config"] = load()`) is a lazily set value, not a cache keyed by
        // the call's inputs.
        if is_literal(key) {
            return;
        }
        let Some(resolved) = self.resolve(container, true) else {
            return;
        };
        if resolved.nested {
            return;
        }
        if probed {
            // `C.setdefault(k, v)` hands back what `C` holds under `k`.
            self.note_probe(container);
            self.note_served(container);
        }
        let is_path = |name: &Name| parameter_path(name).is_some();
        let is_read = |name: &Name| name.contains('.');
        let (mut key_paths, mut key_inputs): (Vec<Name>, Vec<Name>) =
            self.inputs_of(key).into_iter().partition(is_path);
        key_inputs.retain(|name| !is_read(name));
        let (mut value_paths, value_reads): (Vec<Name>, Vec<Name>) =
            self.inputs_of(value).into_iter().partition(is_path);
        let (mut receiver_reads, mut value_inputs): (Vec<Name>, Vec<Name>) =
            value_reads.into_iter().partition(is_read);
        for read in &mut receiver_reads {
            *read = intern(knowledge::last_segment(read));
        }
        let mut receiver_methods: Vec<Name> = receiver_reads
            .iter()
            .filter_map(|read| read.strip_suffix("()").map(intern))
            .collect();
        receiver_methods.sort();
        receiver_methods.dedup();
        receiver_reads.retain(|read| !read.ends_with("()"));
        let used_whole_otherwise = receiver_reads.iter().any(|read| read.is_empty());
        let uses_whole_receiver = used_whole_otherwise || !receiver_methods.is_empty();
        let receiver_methods =
            (!used_whole_otherwise && !receiver_methods.is_empty()).then_some(receiver_methods);
        receiver_reads.retain(|read| !read.is_empty());
        // A value that nothing computes, made of the caller's arguments only, is what the caller
        // registers (`REG[code] = (module, name)`), not a memoised result.
        let params = &self.facts.functions[function as usize].params;
        if !empty
            && !self.is_computed(value, 0)
            && value_inputs
                .iter()
                .all(|input| params.iter().any(|p| p.name == *input))
        {
            return;
        }
        key_inputs.sort();
        value_inputs.sort();
        key_paths.sort();
        key_paths.dedup();
        value_paths.sort();
        value_paths.dedup();
        receiver_reads.sort();
        receiver_reads.dedup();
        for method in receiver_methods.iter().flatten() {
            if !self.reach.memo_methods.contains(method) {
                self.reach.memo_methods.push(*method);
            }
        }
        let key_repr = self
            .text_of_parameter(key)
            .map(|(input, through_str)| KeyRepr {
                value_reads: attributes_read(value, &input),
                input,
                through_str,
            });
        if let Some(frame) = self.frame_mut() {
            frame.store_tests.push(frame.truth_tests.clone());
            let plain_key = match key {
                Expr::Name(name) => Some(intern(name.id.as_str())),
                _ => None,
            };
            frame.store_keys.push((plain_key, range));
            frame.stores.push(MemoStore {
                function,
                cache: resolved.path,
                key_inputs,
                value_inputs,
                key_paths,
                value_paths,
                receiver_reads,
                uses_whole_receiver,
                key_repr,
                receiver_methods,
                serves_read_value: false,
                span: span(range),
            });
        }
    }

    /// Records what a method's body reads, when a memo's value calls it on the receiver (see
    /// [`crate::facts::FileFacts::memo_method_reads`]). Runs while the method's frame is the
    /// innermost, after its body: the locals' inputs are then those of all their assignments.
    pub(super) fn record_memo_method_reads(&mut self, function: FuncIdx, body: &[Stmt]) {
        let facts = &self.facts.functions[function as usize];
        if facts.kind != crate::facts::FunctionKind::Instance
            || !self.reach.memo_methods.contains(&facts.name)
        {
            return;
        }
        let mut reads = BodyReads {
            extractor: self,
            inputs: Vec::new(),
            opaque: false,
            depth: 0,
            inside: false,
        };
        for stmt in body {
            reads.visit_stmt(stmt);
        }
        if reads.opaque {
            return;
        }
        let mut inputs = reads.inputs;
        // What is read of each parameter is told by its name and `self.x` reads alone here.
        inputs.retain(|input| parameter_path(input).is_none());
        inputs.sort();
        self.facts.memo_method_reads.push((function, inputs));
    }

    /// The parameter whose text `expr` is (`repr(p)`, `str(p)`, or a local bound to one), and
    /// whether through `str`.
    fn text_of_parameter(&self, expr: &Expr) -> Option<(Name, bool)> {
        match expr {
            Expr::Name(name) => self.frame()?.texts.get_text(name.id.as_str()).copied(),
            Expr::Call(call) => {
                let Expr::Name(function) = &*call.func else {
                    return None;
                };
                let through_str = match function.id.as_str() {
                    "repr" => false,
                    "str" => true,
                    _ => return None,
                };
                let [Expr::Name(arg)] = &call.arguments.args[..] else {
                    return None;
                };
                let function = self.current_function()?;
                let is_param = self.facts.functions[function as usize]
                    .params
                    .iter()
                    .any(|p| p.name == arg.id.as_str());
                (call.arguments.keywords.is_empty() && is_param)
                    .then(|| (intern(arg.id.as_str()), through_str))
            }
            _ => None,
        }
    }

    // ----- inputs --------------------------------------------------------------------------------

    /// The inputs `expr` depends on: parameters (through the locals derived from them) and names
    /// free in the function. Names of called functions do not count; their arguments do.
    fn inputs_of(&self, expr: &Expr) -> Vec<Name> {
        let mut out = Vec::new();
        self.collect_inputs(expr, &mut out, 0);
        out
    }

    /// Calls `then` with [`Self::inputs_of`] `expr`, gathered in a buffer kept between
    /// statements: every assignment of every function asks, and most have an input or two.
    /// Unless `needed` ([`Self::takes_inputs`]), `then` is given none and `expr` is not walked.
    fn with_inputs(&mut self, expr: &Expr, needed: bool, then: impl FnOnce(&mut Self, &[Name])) {
        let mut inputs = std::mem::take(&mut self.reach.scratch_inputs);
        inputs.clear();
        if needed && self.frame().is_some_and(|frame| frame.gathers_inputs) {
            self.collect_inputs(expr, &mut inputs, 0);
        }
        then(self, &inputs);
        self.reach.scratch_inputs = inputs;
    }

    fn collect_inputs(&self, expr: &Expr, out: &mut Vec<Name>, depth: u32) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        fn add(out: &mut Vec<Name>, name: &str) {
            if !out.iter().any(|known| known == name) {
                out.push(intern(name));
            }
        }
        let self_name = self.function_scope().and_then(|f| f.self_name.as_deref());
        if let Some((item, rest)) = self.keyword_item(expr) {
            add(out, &item);
            for default in rest {
                self.collect_inputs(default, out, depth + 1);
            }
            return;
        }
        if let Expr::Attribute(_) = expr
            && let Some((root, path)) = self.parameter_attribute_path(expr)
        {
            // Read whole here, so that no part of the chain counts as read by itself: a key
            // `p.a.b` reads `p.a.b`, not `p.a`.
            add(out, root);
            add(out, &path);
            if self_name == Some(root)
                && let Some(Expr::Attribute(first)) = innermost_attribute(expr)
            {
                add(out, &join_dotted(root, first.attr.as_str()));
            }
            return;
        }
        match expr {
            // `self.x`: what this function last stored there, or the receiver (and, written
            // `self.x`, which of its attributes was read).
            Expr::Attribute(attribute) if matches!(&*attribute.value, Expr::Name(n) if self_name == Some(n.id.as_str())) =>
            {
                let Expr::Name(receiver) = &*attribute.value else {
                    return;
                };
                let read = join_dotted(receiver.id.as_str(), attribute.attr.as_str());
                match self.frame().and_then(|f| f.inputs.get(read.as_str())) {
                    Some(inputs) => inputs.iter().for_each(|input| add(out, input)),
                    None => {
                        add(out, receiver.id.as_str());
                        add(out, &read);
                    }
                }
            }
            Expr::Name(name) => {
                let id = name.id.as_str();
                let (Some(frame), Some(scope)) = (self.frame(), self.function_scope()) else {
                    return;
                };
                if self_name == Some(id) {
                    // The receiver itself, not one attribute of it: an empty attribute read.
                    add(out, id);
                    add(out, &join_dotted(id, ""));
                    add(out, &whole_parameter(id));
                } else if let Some(inputs) = frame.reaching_inputs(id, &self.blocks) {
                    inputs.iter().for_each(|input| add(out, input));
                    if inputs.as_slice() == [id] {
                        add(out, &whole_parameter(id));
                    }
                } else if !scope.locals.contains(id) {
                    add(out, id);
                }
            }
            Expr::Call(call) => {
                // A callable the caller chose (`adapter = kwargs.pop("adapter", Default)`)
                // decides what the call makes; a function of the program is code, not an input.
                if let Expr::Name(callee) = &*call.func
                    && let Some(inputs) =
                        self.frame().and_then(|f| f.inputs.get(callee.id.as_str()))
                {
                    inputs.iter().for_each(|input| add(out, input));
                }
                if let Expr::Attribute(method) = &*call.func {
                    let lookup = matches!(method.attr.as_str(), "get" | "__getitem__");
                    if lookup
                        && self.is_probed(&method.value)
                        && !self.is_parameter_object(&method.value)
                    {
                        // What the container holds under the key: read by the key.
                    } else if let Expr::Name(receiver) = &*method.value
                        && self_name == Some(receiver.id.as_str())
                    {
                        // A method called on the receiver: the receiver, read through what the
                        // method reads (`self.m()`), not attribute by attribute.
                        let called = build_name(|text| {
                            text.push_str(receiver.id.as_str());
                            text.push('.');
                            text.push_str(method.attr.as_str());
                            text.push_str("()");
                            Some(())
                        });
                        add(out, receiver.id.as_str());
                        if let Some(called) = called {
                            add(out, &called);
                        }
                        let method_path = build_name(|text| {
                            text.push_str(receiver.id.as_str());
                            text.push(':');
                            text.push_str(method.attr.as_str());
                            text.push_str("()");
                            Some(())
                        });
                        if let Some(method_path) = method_path {
                            add(out, &method_path);
                        }
                    } else {
                        self.collect_inputs(&method.value, out, depth + 1);
                    }
                }
                for argument in call.arguments.args.iter() {
                    self.collect_inputs(argument, out, depth + 1);
                }
                for keyword in call.arguments.keywords.iter() {
                    if keyword
                        .arg
                        .as_ref()
                        .is_some_and(|k| knowledge::TIME_BOUND_KEYWORDS.contains(&k.as_str()))
                        && is_time_bound(&keyword.value, 0)
                    {
                        // How long the call may take, not what it makes: the caller's
                        // arguments read there are no input of the result. Other names still
                        // count (a module's constant bound is the same on every call).
                        let mut bound = Vec::new();
                        self.collect_inputs(&keyword.value, &mut bound, depth + 1);
                        for input in bound {
                            if !self.is_parameter_input(&input) && !out.contains(&input) {
                                out.push(input);
                            }
                        }
                        continue;
                    }
                    self.collect_inputs(&keyword.value, out, depth + 1);
                }
            }
            Expr::Subscript(sub) if self.is_probed(&sub.value) => {
                self.collect_inputs(&sub.slice, out, depth + 1);
            }
            Expr::Lambda(_) => {}
            other => ruff_python_ast::visitor::walk_expr(
                &mut ChildInputs {
                    extractor: self,
                    out,
                    depth: depth + 1,
                },
                other,
            ),
        }
    }
}

impl Extractor {
    /// Whether `container` is a parameter of the function (not its receiver or class), or an
    /// attribute chain read from one, that the function has not bound again: the caller's
    /// object. A lookup in it (`config.options.get("path")`) reads the object, whatever the
    /// function later stores under what it got: unlike a cache of the tree probed by the key
    /// (`v = CACHE.get(k)`), what it holds is decided by the caller, so the read depends on it.
    fn is_parameter_object(&self, container: &Expr) -> bool {
        let mut root = container;
        while let Expr::Attribute(attribute) = root {
            root = &attribute.value;
        }
        let Expr::Name(root) = root else {
            return false;
        };
        let id = root.id.as_str();
        let (Some(scope), Some(frame)) = (self.function_scope(), self.frame()) else {
            return false;
        };
        if scope.self_name.as_deref() == Some(id) || scope.cls_name.as_deref() == Some(id) {
            return false;
        }
        self.facts.functions[scope.idx as usize]
            .params
            .iter()
            .any(|p| p.name == id)
            && frame
                .reaching_inputs(id, &self.blocks)
                .is_some_and(|inputs| inputs.as_slice() == [id])
    }

    /// Whether an input entry (as [`Self::inputs_of`] writes it) is a parameter of the function
    /// or of one around it, the receiver included, or something read from one (`p:a.b`,
    /// `self.x`, `self.m()`).
    fn is_parameter_input(&self, input: &str) -> bool {
        let head = parameter_path(input).map_or_else(
            || input.split_once('.').map_or(input, |(head, _)| head),
            |(head, _)| head,
        );
        let functions = &self.facts.functions;
        let mut current = self.current_function();
        while let Some(function) = current {
            let facts = &functions[function as usize];
            if facts.params.iter().any(|p| p.name == head) {
                return true;
            }
            current = facts.parent;
        }
        false
    }

    /// The parameter (the receiver included) an attribute chain is read from, `p` of `p.a.b`,
    /// when the function has not bound it again, with the path as [`MemoStore::key_paths`]
    /// writes it (`p:a.b`). A chain from `self.x` after the function stored into `self.x` is the
    /// stored value's, not the receiver's.
    fn parameter_attribute_path<'e>(&self, expr: &'e Expr) -> Option<(&'e str, Name)> {
        let Some(Expr::Attribute(first)) = innermost_attribute(expr) else {
            return None;
        };
        let Expr::Name(root) = &*first.value else {
            return None;
        };
        let root = root.id.as_str();
        let frame = self.frame()?;
        if frame.reaching_inputs(root, &self.blocks)?.as_slice() != [root] {
            return None;
        }
        let self_name = self.function_scope().and_then(|f| f.self_name.as_deref());
        if self_name == Some(root)
            && frame
                .inputs
                .contains_key(join_dotted(root, first.attr.as_str()).as_str())
        {
            return None;
        }
        let path = build_name(|out| {
            push_attribute_chain(expr, out);
            out.insert(0, ':');
            out.insert_str(0, root);
            Some(())
        })?;
        Some((root, path))
    }

    /// An item of the function's `**kwargs` read by a constant key (`kwargs["a"]`,
    /// `kwargs.get("a", d)`, `kwargs.pop("a", d)`), while `kwargs` is still the parameter: the
    /// input `kwargs['a']`, which a key that uses other items leaves out, and the defaults.
    fn keyword_item<'e>(&self, expr: &'e Expr) -> Option<(Name, &'e [Expr])> {
        if !matches!(expr, Expr::Subscript(_) | Expr::Call(_)) {
            return None;
        }
        let kwargs = self.function_scope()?.kwargs_name?;
        let (mapping, key, rest): (&Expr, &Expr, &[Expr]) = match expr {
            Expr::Subscript(sub) => (&sub.value, &sub.slice, &[]),
            Expr::Call(call) => {
                let Expr::Attribute(method) = &*call.func else {
                    return None;
                };
                if !matches!(method.attr.as_str(), "get" | "pop")
                    || !call.arguments.keywords.is_empty()
                {
                    return None;
                }
                let (key, rest) = call.arguments.args.split_first()?;
                (&method.value, key, rest)
            }
            _ => return None,
        };
        let (Expr::Name(name), Expr::StringLiteral(key)) = (mapping, key) else {
            return None;
        };
        if name.id.as_str() != kwargs.as_str()
            || self.frame()?.inputs.get(kwargs.as_str())?.as_slice() != [kwargs]
        {
            return None;
        }
        let item = build_name(|out| {
            out.push_str(kwargs.as_str());
            out.push_str("['");
            out.push_str(literal_text(&key.value));
            out.push_str("']");
            Some(())
        })?;
        Some((item, rest))
    }
}

/// Whether `expr` is a time bound: numbers and names (or attribute chains) combined by
/// arithmetic, `min`/`max`, and argument-less reads of a clock ([`knowledge::CLOCK_READS`]):
/// `deadline - time.monotonic()`, `min(30.0, deadline - now)`. Given as a `timeout=` or
/// `deadline=` keyword ([`knowledge::TIME_BOUND_KEYWORDS`]), it decides whether the call finishes
/// in time, not what it returns when it does: the parameters it reads are no inputs of the
/// call's result ([`Extractor::collect_inputs`]).
fn is_time_bound(expr: &Expr, depth: u32) -> bool {
    if depth > MAX_WALK_DEPTH {
        return false;
    }
    match expr {
        Expr::NumberLiteral(_) | Expr::Name(_) | Expr::NoneLiteral(_) => true,
        Expr::Attribute(_) => dotted_name(expr).is_some(),
        Expr::UnaryOp(unary) => {
            unary.op == ast::UnaryOp::USub && is_time_bound(&unary.operand, depth + 1)
        }
        Expr::BinOp(binary) => {
            matches!(
                binary.op,
                ast::Operator::Add | ast::Operator::Sub | ast::Operator::Mult | ast::Operator::Div
            ) && is_time_bound(&binary.left, depth + 1)
                && is_time_bound(&binary.right, depth + 1)
        }
        Expr::Call(call) => {
            let Some(callee) = dotted_name(&call.func) else {
                return false;
            };
            if !call.arguments.keywords.is_empty() {
                return false;
            }
            match callee.as_str() {
                "min" | "max" => {
                    !call.arguments.args.is_empty()
                        && call
                            .arguments
                            .args
                            .iter()
                            .all(|arg| is_time_bound(arg, depth + 1))
                }
                clock => call.arguments.args.is_empty() && knowledge::CLOCK_READS.contains(&clock),
            }
        }
        _ => false,
    }
}

/// The attribute of a chain read first from a name (`p.a` of `p.a.b`), when the chain is only
/// attributes down to a name.
fn innermost_attribute(expr: &Expr) -> Option<&Expr> {
    let mut current = expr;
    while let Expr::Attribute(attribute) = current {
        if matches!(&*attribute.value, Expr::Name(_)) {
            return Some(current);
        }
        current = &attribute.value;
    }
    None
}

/// The input entry for a parameter read whole (`p:`, see [`MemoStore::key_paths`]).
fn whole_parameter(name: &str) -> Name {
    build_name(|out| {
        out.push_str(name);
        out.push(':');
        Some(())
    })
    .unwrap_or_default()
}

/// Appends the attribute names of a chain of attributes (`a.b.c` gives `b.c`), dot-separated
/// (after a dot if `out` is not empty).
fn push_attribute_chain(expr: &Expr, out: &mut String) {
    if let Expr::Attribute(attribute) = expr {
        push_attribute_chain(&attribute.value, out);
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(attribute.attr.as_str());
    }
}

/// Everything a body reads, in inputs' terms: each statement's expressions whole (a called name
/// is code; its receiver and arguments are read). Bodies that define functions or classes, that
/// yield, rebind names of other scopes or call the base's methods through `super()` are
/// opaque.
struct BodyReads<'e> {
    extractor: &'e Extractor,
    inputs: Vec<Name>,
    opaque: bool,
    depth: u32,
    /// Inside an expression already collected whole: its parts are only checked for opacity.
    inside: bool,
}

impl<'a> ruff_python_ast::visitor::Visitor<'a> for BodyReads<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.opaque {
            return;
        }
        if self.depth > MAX_WALK_DEPTH
            || matches!(
                stmt,
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) | Stmt::Global(_) | Stmt::Nonlocal(_)
            )
        {
            self.opaque = true;
            return;
        }
        self.depth += 1;
        ruff_python_ast::visitor::walk_stmt(self, stmt);
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        let calls_the_base = matches!(expr, Expr::Name(name) if name.id.as_str() == "super");
        if calls_the_base
            || matches!(
                expr,
                Expr::Lambda(_) | Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Named(_)
            )
        {
            self.opaque = true;
            return;
        }
        if self.depth > MAX_WALK_DEPTH {
            self.opaque = true;
            return;
        }
        // Names bound by the body's own statements are followed to their inputs; a store target
        // is not read.
        let store = matches!(expr, Expr::Name(name) if name.ctx.is_store());
        if !self.inside && !store {
            self.extractor.collect_inputs(expr, &mut self.inputs, 0);
        }
        let inside = std::mem::replace(&mut self.inside, true);
        self.depth += 1;
        ruff_python_ast::visitor::walk_expr(self, expr);
        self.depth -= 1;
        self.inside = inside;
    }
}

/// Collects the inputs of each direct child expression of an expression, in order.
struct ChildInputs<'e, 'o> {
    extractor: &'e Extractor,
    out: &'o mut Vec<Name>,
    depth: u32,
}

impl<'a> ruff_python_ast::visitor::Visitor<'a> for ChildInputs<'_, '_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        self.extractor.collect_inputs(expr, self.out, self.depth);
    }
}

fn catches_missing_key(handler: &ast::ExceptHandler) -> bool {
    let ast::ExceptHandler::ExceptHandler(h) = handler;
    let Some(kind) = &h.type_ else {
        return true;
    };
    let names: Vec<&Expr> = match &**kind {
        Expr::Tuple(t) => t.elts.iter().collect(),
        other => vec![other],
    };
    names.iter().any(|n| {
        dotted_name(n).is_some_and(|d| {
            matches!(
                knowledge::last_segment(&d),
                "KeyError" | "LookupError" | "Exception" | "BaseException"
            )
        })
    })
}

/// The containers subscripted for reading in a statement (not in nested bodies' definitions).
fn subscript_loads<'a>(stmt: &'a Stmt, out: &mut Vec<&'a Expr>, depth: u32) {
    struct Loads<'a, 'b> {
        out: &'b mut Vec<&'a Expr>,
        depth: u32,
    }
    impl<'a> ruff_python_ast::visitor::Visitor<'a> for Loads<'a, '_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if self.depth > MAX_WALK_DEPTH
                || matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_))
            {
                return;
            }
            self.depth += 1;
            ruff_python_ast::visitor::walk_stmt(self, stmt);
            self.depth -= 1;
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.depth > MAX_WALK_DEPTH {
                return;
            }
            if let Expr::Subscript(sub) = expr
                && sub.ctx == ast::ExprContext::Load
            {
                self.out.push(&sub.value);
            }
            self.depth += 1;
            ruff_python_ast::visitor::walk_expr(self, expr);
            self.depth -= 1;
        }
    }
    Loads { out, depth }.visit_stmt(stmt);
}

fn is_literal(expr: &Expr) -> bool {
    match expr {
        Expr::StringLiteral(_)
        | Expr::NumberLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_)
        | Expr::BytesLiteral(_) => true,
        Expr::Tuple(t) => t.elts.iter().all(is_literal),
        _ => false,
    }
}

/// The attributes of `name` that `expr` reads (`user.locale`), sorted; `None` when it uses `name`
/// otherwise too (passes it on, calls its methods).
fn attributes_read(expr: &Expr, name: &str) -> Option<Vec<Name>> {
    struct Reads<'n> {
        name: &'n str,
        attrs: Vec<Name>,
        whole: bool,
        depth: u32,
    }
    impl<'a> ruff_python_ast::visitor::Visitor<'a> for Reads<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.depth > MAX_WALK_DEPTH {
                return;
            }
            match expr {
                Expr::Attribute(attribute) if matches!(&*attribute.value, Expr::Name(n) if n.id.as_str() == self.name) =>
                {
                    self.attrs.push(intern(attribute.attr.as_str()));
                    return;
                }
                Expr::Name(n) if n.id.as_str() == self.name => self.whole = true,
                _ => {}
            }
            self.depth += 1;
            ruff_python_ast::visitor::walk_expr(self, expr);
            self.depth -= 1;
        }
    }
    let mut reads = Reads {
        name,
        attrs: Vec::new(),
        whole: false,
        depth: 0,
    };
    ruff_python_ast::visitor::Visitor::visit_expr(&mut reads, expr);
    if reads.whole {
        return None;
    }
    reads.attrs.sort();
    reads.attrs.dedup();
    Some(reads.attrs)
}

/// What a value handed back may hold a cache's read through.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Through {
    Anything,
    /// Anything but `len(...)`, whose count is no value a call stored.
    AnythingButSize,
}

/// The values a function body returns or yields and the locals it binds, not counting the
/// functions, lambdas and classes it defines.
#[derive(Default)]
struct HandedBack<'a> {
    returned: Vec<&'a Expr>,
    bindings: Vec<(&'a str, &'a Expr)>,
}

impl<'a> HandedBack<'a> {
    fn of(body: &'a [Stmt]) -> HandedBack<'a> {
        let mut handed = HandedBack::default();
        for stmt in body {
            handed.visit_stmt(stmt);
        }
        handed
    }
}

impl<'a> Visitor<'a> for HandedBack<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => return,
            Stmt::Return(ast::StmtReturn {
                value: Some(value), ..
            }) => self.returned.push(value),
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    if let Expr::Name(name) = target {
                        self.bindings.push((name.id.as_str(), &assign.value));
                    }
                }
            }
            Stmt::AnnAssign(ast::StmtAnnAssign {
                target,
                value: Some(value),
                ..
            }) => {
                if let Expr::Name(name) = &**target {
                    self.bindings.push((name.id.as_str(), value));
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Lambda(_) => return,
            Expr::Yield(ast::ExprYield {
                value: Some(value), ..
            })
            | Expr::YieldFrom(ast::ExprYieldFrom { value, .. }) => self.returned.push(value),
            Expr::Named(named) => {
                if let Expr::Name(name) = &*named.target {
                    self.bindings.push((name.id.as_str(), &named.value));
                }
            }
            _ => {}
        }
        walk_expr(self, expr);
    }
}

/// Finds a binding of one name in statements (an assignment, a `for`, `with` or `except`
/// target, a walrus, an import, `del`, or a `global`/`nonlocal` that lets other code bind it).
struct BindsName<'n> {
    name: &'n str,
    found: bool,
}

impl<'a> Visitor<'a> for BindsName<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.found {
            return;
        }
        let named = |names: &[ast::Identifier]| names.iter().any(|n| n.as_str() == self.name);
        match stmt {
            Stmt::Global(g) if named(&g.names) => self.found = true,
            Stmt::Nonlocal(n) if named(&n.names) => self.found = true,
            Stmt::Import(import) => {
                self.found |= import.names.iter().any(|alias| {
                    alias.asname.as_ref().unwrap_or(&alias.name).as_str() == self.name
                });
            }
            Stmt::ImportFrom(import) => {
                self.found |= import.names.iter().any(|alias| {
                    alias.asname.as_ref().unwrap_or(&alias.name).as_str() == self.name
                });
            }
            Stmt::Try(t) => {
                self.found |= t
                    .handlers
                    .iter()
                    .any(|ast::ExceptHandler::ExceptHandler(h)| {
                        h.name.as_ref().is_some_and(|n| n.as_str() == self.name)
                    });
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found {
            return;
        }
        if let Expr::Name(name) = expr
            && !name.ctx.is_load()
            && name.id.as_str() == self.name
        {
            self.found = true;
            return;
        }
        walk_expr(self, expr);
    }
}

/// Finds a read of a cache by key in an expression: `C[k]`, `C.get(k)`, `C.setdefault(k, v)`,
/// `C.pop(k)`.
struct CacheReads<'f, 'c> {
    found: &'f mut bool,
    is_cache: &'c dyn Fn(&Expr) -> bool,
    /// Reads inside `len(...)` are left out.
    skips_size: bool,
}

impl<'a> Visitor<'a> for CacheReads<'_, '_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if *self.found || matches!(expr, Expr::Lambda(_)) || (self.skips_size && is_size_call(expr))
        {
            return;
        }
        let read = match expr {
            Expr::Subscript(sub) if sub.ctx.is_load() => Some(&*sub.value),
            Expr::Call(call) => match &*call.func {
                Expr::Attribute(method)
                    if matches!(method.attr.as_str(), "get" | "setdefault" | "pop") =>
                {
                    Some(&*method.value)
                }
                _ => None,
            },
            _ => None,
        };
        if read.is_some_and(|container| (self.is_cache)(container)) {
            *self.found = true;
            return;
        }
        walk_expr(self, expr);
    }
}

/// The key and value of each `C[k] = v` in a body (nested functions and classes left out).
#[derive(Default)]
struct SubscriptStores<'a> {
    found: Vec<(&'a Expr, &'a Expr)>,
}

impl<'a> SubscriptStores<'a> {
    fn of(body: &'a [Stmt]) -> SubscriptStores<'a> {
        let mut stores = SubscriptStores { found: Vec::new() };
        for stmt in body {
            stores.visit_stmt(stmt);
        }
        stores
    }
}

impl<'a> Visitor<'a> for SubscriptStores<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => return,
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    if let Expr::Subscript(sub) = target {
                        self.found.push((&sub.slice, &assign.value));
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    /// Statements hold no statement inside an expression: what is below one is not walked.
    fn visit_expr(&mut self, _: &'a Expr) {}
}

/// Whether `expr` is a binary operation one of whose operands, through nested binary
/// operations, is `operand`.
fn operation_over(expr: &Expr, operand: &dyn Fn(&Expr) -> bool) -> bool {
    fn walk(expr: &Expr, operand: &dyn Fn(&Expr) -> bool, depth: u32) -> bool {
        let Expr::BinOp(operation) = expr else {
            return false;
        };
        depth < MAX_WALK_DEPTH
            && [&*operation.left, &*operation.right]
                .into_iter()
                .any(|side| operand(side) || walk(side, operand, depth + 1))
    }
    walk(expr, operand, 0)
}

/// Whether `len(...)` is the whole of `expr`: the builtin hands back a count, none of the values
/// it is given.
fn is_size_call(expr: &Expr) -> bool {
    matches!(expr, Expr::Call(call) if matches!(&*call.func, Expr::Name(f) if f.id.as_str() == "len"))
}

/// Whether `expr` reads one of `names` (with `skips_size`, not counting reads inside `len(...)`).
fn mentions_any(expr: &Expr, names: &[&str], skips_size: bool) -> bool {
    struct Mentions<'n> {
        names: &'n [&'n str],
        skips_size: bool,
        found: bool,
    }
    impl<'a> Visitor<'a> for Mentions<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.found || (self.skips_size && is_size_call(expr)) {
                return;
            }
            if let Expr::Name(name) = expr
                && self.names.contains(&name.id.as_str())
            {
                self.found = true;
                return;
            }
            walk_expr(self, expr);
        }
    }
    if names.is_empty() {
        return false;
    }
    let mut mentions = Mentions {
        names,
        skips_size,
        found: false,
    };
    mentions.visit_expr(expr);
    mentions.found
}

#[cfg(test)]
mod tests {
    use super::memo_call_words;

    #[test]
    fn memo_call_words_are_the_method_names_after_a_dot_or_a_line_break() {
        let source = "seen.add(k)\n\
                      c . setdefault(k, [])\n\
                      cache.set(k, v)\n\
                      (x.\n    add)(k)\n\
                      address = padd(settings.setter, reset, set_up)\n\
                      y = set()\n\
                      z.addition(1)\n";
        let found: Vec<&str> = memo_call_words(source)
            .expect("an ASCII text")
            .iter()
            .map(|&at| {
                let rest = &source[at as usize..];
                let end = rest
                    .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .collect();
        assert_eq!(found, ["add", "setdefault", "set", "add"]);
        assert_eq!(memo_call_words("x = 'é'\nseen.add(k)\n"), None);
    }
}
