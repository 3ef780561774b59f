//! Walks one module's syntax tree once and records its [`FileFacts`].

// Extraction hashes short names millions of times; SipHash's resistance to hash flooding buys
// nothing here (the key is the hash table of one function's locals), Fx is several times cheaper.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::facts::{
    AccessPath, AttributeAssignment, Binding, ByText, CallReceiver, ClassArgument, ClassCall,
    ClassFacts, ClassIdx, ClosureLocal, ContainerKind, DeadCode, Decorator, FileFacts, FlagClear,
    FlowSource, FuncIdx, FunctionFacts, FunctionKind, Import, ImportTarget, InstanceCopy, ItemRead,
    Literal, LiteralGuard, LockHeld, MaxSize, MethodReturn, Mutation, MutationKind, Name, Param,
    ParamGuard, ParamUseKind, Returned, Root, RunningLoopStore, SelfAttributeExit, SelfCallGuard,
    SetattrCall, Span, Tested, ThinVec, TypedLocal, Value, intern, sorted_distinct,
};
use crate::knowledge;

use super::{MAX_WALK_DEPTH, literal_text};

mod blocks;
mod caches;
mod calls;
mod class_creation;
mod dead_branches;
mod done_callbacks;
mod flows;
mod kwargs_forward;
mod locals_loops;
mod locks;
mod loop_guards;
mod needs_entries;
mod nonempty_reads;
mod raise_switches;
mod rebinds;
mod receiver_use;
mod restores;
mod run_once;
mod truth_guards;
mod uses;

/// Returns the facts of `module` and whether the walk stopped early somewhere because the tree
/// nests deeper than [`MAX_WALK_DEPTH`].
pub(super) fn extract(module: &ast::ModModule, source: &str) -> (FileFacts, bool) {
    let length = module.range.len().to_usize();
    // The calls, the largest of the facts, sized once to what a module of this length records:
    // grown call by call they were copied at each doubling. The caller keeps a copy sized to the
    // facts (`check::compacted`), so what is reserved and not filled lives only during the walk.
    let mut facts = FileFacts::default();
    facts.calls.reserve(length / calls::BYTES_PER_RECORDED_CALL);
    let mut extractor = Extractor {
        facts,
        mutating_imports: HashSet::default(),
        read_only_class_names: HashSet::default(),
        first_function_import: None,
        scopes: vec![Scope::Module],
        scope_generation: 1,
        name_memo: vec![std::cell::Cell::new(NameMemo::default()); NAME_MEMO_SLOTS].into(),
        depth: 0,
        hit_depth_limit: false,
        reach: calls::ReachState::for_module_of_length(length),
        memo_call_words: calls::memo_call_words(source),
        once_blocks: 0,
        conditional_blocks: 0,
        blocks: blocks::Blocks::default(),
        unset_tests: Vec::new(),
        returned_lambda: None,
        in_returned_lambda: 0,
        in_deferred: 0,
        after_early_exit: false,
        first_time_flags: Vec::new(),
        pending_param_guards: Vec::new(),
        pending_local_operators: Vec::new(),
        first_time_locals: Vec::new(),
        flag_set_after: None,
        fills_read_attribute: false,
        keyed: flows::KeyedStores::default(),
        string_lists: HashMap::default(),
        true_tuples: HashMap::default(),
        module_numbers: HashMap::default(),
        instance_name_loops: Vec::new(),
        unreached_setattrs: Vec::new(),
        scratch_sources: Vec::new(),
        rebinds: rebinds::Rebinds::default(),
        early_return_names: Vec::new(),
    };
    for stmt in &module.body {
        extractor.visit_stmt(stmt);
    }
    if !extractor.early_return_names.is_empty() {
        run_once::settle_early_returns(
            &module.body,
            &mut extractor.facts,
            std::mem::take(&mut extractor.early_return_names),
        );
    }
    loop_guards::record(&module.body, &mut extractor.facts);
    let imports = &extractor.facts.imports;
    let rebinds = std::mem::take(&mut extractor.rebinds)
        .finish(extractor.hit_depth_limit, |name| {
            imports.iter().any(|import| import.binding == *name)
        });
    extractor.facts.other_rebinds = rebinds.names;
    extractor.facts.rebound_only_as_declared_global = rebinds.only_declared_global;
    extractor.facts.attribute_rebinds = rebinds.attributes;
    extractor.facts.module_path_attribute_rebinds = rebinds.dotted_attributes;
    extractor.facts.namespace_writes = rebinds.namespace_writes;
    extractor.facts.computed_attribute_writes = rebinds.computed_attribute_writes;
    extractor.facts.untyped_method_calls =
        sorted_distinct(std::mem::take(&mut extractor.facts.untyped_method_calls));
    extractor.facts.class_value_reads =
        sorted_distinct(std::mem::take(&mut extractor.facts.class_value_reads));
    extractor.facts.conditional_changes.sort_unstable();
    extractor.facts.outer_attribute_stores.sort_unstable();
    extractor.facts.outer_attribute_stores.dedup();
    extractor.facts.conditional_changes.dedup();
    extractor
        .facts
        .dead_code
        .sort_unstable_by_key(|dead| (dead.body.start, dead.body.end));
    (extractor.facts, extractor.hit_depth_limit)
}

fn span(range: TextRange) -> Span {
    Span::new(range.start().to_u32(), range.end().to_u32())
}

enum Scope {
    Module,
    Class(ClassIdx),
    Function(FunctionScope),
}

struct FunctionScope {
    idx: FuncIdx,
    /// The name of the instance parameter, in instance methods and functions nested in them.
    self_name: Option<Name>,
    /// The name that refers to the class: a classmethod's first parameter.
    cls_name: Option<Name>,
    /// The `**kwargs` parameter's name: its items read by constant keys are inputs of their own.
    kwargs_name: Option<Name>,
    /// Names bound in the function (parameters included), minus `global`/`nonlocal` ones.
    locals: Locals,
    /// Locals that may currently refer to a part of a shared object: `c = self.x`.
    aliases: HashMap<Name, LocalAlias>,
    /// How many `for`/`while` bodies of this function the walk is in: there a later iteration
    /// may bring an alias taken in one branch of an `if` into another.
    loops: u32,
    /// Locals the body binds more than once (a parameter counting as one binding): an alias of
    /// one of them may reach a use from another binding, so it is never one element.
    bound_twice: Box<[Name]>,
    /// How often each local is assigned, and the class it was constructed from the first time.
    constructed: HashMap<Name, (u32, Option<Name>)>,
    /// Parameters (by index, below 64) already recorded as rebound.
    rebound_params: u64,
    /// Whether a parameter of this function or of an enclosing one has a non-literal default.
    defaulted_params: bool,
    /// In a function decorated like `lru_cache`: the value each local was last bound to.
    cached_locals: Option<HashMap<Name, Value>>,
    /// What the function's closures may keep (boxed: most functions have none).
    closure: Box<ClosureScope>,
    /// The start of the function's first `yield`, once walked.
    first_yield: Option<u32>,
    /// The body reads something by a constant index (`x[-1]`): only then can a change run after
    /// such a read ([`nonempty_reads`]).
    reads_constant_index: bool,
    /// Whether a `yield` or `yield from` of the function has been walked to its end (its value
    /// too, unlike `first_yield`, which is noted as the `yield` is entered): what is walked
    /// after it runs only if the consumer resumes the generator.
    yielded: bool,
}

/// Where the kinds of a function's parameters end in [`FunctionFacts::params`]: positional-only,
/// then positional-or-keyword, then `*args`, then keyword-only, then `**kwargs`.
#[derive(Clone, Copy)]
struct ParamKinds {
    positional_only: u32,
    positional: u32,
    keyword_only_start: u32,
    keyword_only_end: u32,
}

impl ParamKinds {
    /// Whether a positional argument, and whether a keyword argument, can give the parameter at
    /// `index` its value; `None` for `*args` and `**kwargs`, which collect what is left over.
    fn of(&self, index: u32) -> Option<(bool, bool)> {
        if index < self.positional {
            Some((true, index >= self.positional_only))
        } else if (self.keyword_only_start..self.keyword_only_end).contains(&index) {
            Some((false, true))
        } else {
            None
        }
    }
}

/// A function's locals, asked with a name's text as written, with no look-up in the interner: a
/// function's names are asked about at almost every name it reads. Most functions bind a few
/// names; those are compared one by one by a key read from the text's bytes
/// ([`TextKey`]), which costs less than hashing the text and comparing it on a hit. A function
/// with more locals keeps them by the hash of their text.
enum Locals {
    Few(Vec<(TextKey, Name)>),
    Many(HashSet<TextKeyed>),
}

/// Above this many locals a function's locals are hashed: a scan of the keys costs a few
/// instructions a local, a hash of the text a few dozen.
const FEW_LOCALS: usize = 16;

/// A text's length and its first and last eight bytes (fewer, for shorter texts): equal keys mean
/// equal texts up to 16 bytes, which most names are; longer texts are compared after their keys.
#[derive(Clone, Copy, PartialEq, Eq)]
struct TextKey {
    len: usize,
    head: u64,
    tail: u64,
}

impl TextKey {
    fn of(text: &str) -> TextKey {
        let bytes = text.as_bytes();
        let len = bytes.len();
        let (head, tail) = if let (Some(head), Some(tail)) =
            (bytes.first_chunk::<8>(), bytes.last_chunk::<8>())
        {
            (u64::from_le_bytes(*head), u64::from_le_bytes(*tail))
        } else if let (Some(head), Some(tail)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>())
        {
            (
                u64::from(u32::from_le_bytes(*head)),
                u64::from(u32::from_le_bytes(*tail)),
            )
        } else if len > 0 {
            // One to three bytes: the first, middle and last are all of them.
            let byte = |i: usize| u64::from(bytes[i]);
            (byte(0) | byte(len / 2) << 8 | byte(len - 1) << 16, 0)
        } else {
            (0, 0)
        };
        TextKey { len, head, tail }
    }

    /// Whether a text with this key is `text` itself, given that `text`'s key is equal.
    fn names(self, local: Name, text: &str) -> bool {
        self.len <= 16 || local.as_str() == text
    }
}

/// A name hashed and borrowed as its text (two interned names are equal exactly when their texts
/// are, so equality agrees with the text's).
#[derive(PartialEq, Eq)]
struct TextKeyed(Name);

impl std::hash::Hash for TextKeyed {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.as_str().hash(state);
    }
}

impl std::borrow::Borrow<str> for TextKeyed {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl Locals {
    /// The locals of `names` (a function's bindings, one entry per binding), and the names among
    /// them bound more than once, in no particular order: a binding already among the locals is
    /// found as the set is built, so the repeats need no sort of their own.
    fn with_repeats<'n>(names: impl ExactSizeIterator<Item = &'n str>) -> (Locals, Box<[Name]>) {
        let mut repeated = Vec::new();
        let mut note_repeat = |name: Name| {
            if !repeated.contains(&name) {
                repeated.push(name);
            }
        };
        if names.len() > FEW_LOCALS {
            let mut set = HashSet::with_capacity_and_hasher(names.len(), Default::default());
            for name in names {
                let name = intern(name);
                if !set.insert(TextKeyed(name)) {
                    note_repeat(name);
                }
            }
            return (Locals::Many(set), repeated.into_boxed_slice());
        }
        let mut few: Vec<(TextKey, Name)> = Vec::with_capacity(names.len());
        for name in names {
            let key = TextKey::of(name);
            match few
                .iter()
                .find(|(known, local)| *known == key && known.names(*local, name))
            {
                Some((_, local)) => note_repeat(*local),
                None => few.push((key, intern(name))),
            }
        }
        (Locals::Few(few), repeated.into_boxed_slice())
    }

    fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The local spelled `name`, interned.
    fn get(&self, name: &str) -> Option<Name> {
        match self {
            Locals::Few(few) => {
                let key = TextKey::of(name);
                few.iter()
                    .find(|(known, local)| *known == key && known.names(*local, name))
                    .map(|(_, local)| *local)
            }
            Locals::Many(set) => set.get(name).map(|local| local.0),
        }
    }

    fn len(&self) -> usize {
        match self {
            Locals::Few(few) => few.len(),
            Locals::Many(set) => set.len(),
        }
    }
}

#[derive(Default)]
struct ClosureScope {
    /// Whether the body defines functions or classes: without one, `allocations` would be
    /// dropped unread, so none are gathered.
    keeps_allocations: bool,
    /// Objects bound to locals (`state = {}`), kept as closure locals if the function turns out
    /// to define others.
    allocations: Vec<ClosureLocal>,
    /// Lengths of `mutations` and `attribute_assignments` when the body started.
    first_change: (usize, usize),
}

#[derive(Clone)]
struct LocalAlias {
    path: AccessPath,
    nested: bool,
    /// The alias is exactly one element of `path` (see [`Resolved::element`]).
    element: bool,
    span: Span,
    /// Bound to a name or attribute path that is not itself a local alias (`x = G`, not
    /// `x = G or H`, not `x = y`).
    direct: bool,
    /// Where the value it was bound to starts: of two aliases a name may hold after an `if`,
    /// the one bound later in the text is kept (see [`merge_branch_aliases`]).
    bound_at: u32,
}

struct Extractor {
    facts: FileFacts,
    /// The ranges of capitalised names (and dotted names ending in one) that are called, whose
    /// attribute is taken, that are a class's base or are handed to `super`, `isinstance` or
    /// `issubclass`: not read as values ([`FileFacts::class_value_reads`]).
    read_only_class_names: HashSet<(u32, u32)>,
    /// Names bound so far by `from m import f` where `f` is named like a function that mutates its
    /// argument: asked about at every call, so a set rather than a scan of the imports.
    mutating_imports: HashSet<Name>,
    /// Where the imports made inside functions start in the file's imports, once one is seen:
    /// asked at every method call on a local, and most files import at module level only.
    first_function_import: Option<usize>,
    scopes: Vec<Scope>,
    /// Changes whenever a scope is pushed or popped: what a name denotes ([`Self::name_here`])
    /// depends only on its text and the scopes, so an answer kept under one generation holds
    /// until the next.
    scope_generation: u32,
    /// What name nodes denote, kept by the node's address ([`Self::name_node_here`]): a name
    /// read is asked about by several hooks (the call site, the flows, the mutations), each
    /// asking the function's locals again.
    name_memo: Box<[std::cell::Cell<NameMemo>]>,
    depth: u32,
    hit_depth_limit: bool,
    reach: calls::ReachState,
    /// Where the text may call `add`, `set` or `setdefault` as a method (sorted), or `None` when
    /// the text is not ASCII (see [`calls::memo_call_words`]).
    memo_call_words: Option<Vec<u32>>,
    /// How many first-time blocks enclose the statement being walked: the body of `if not
    /// hasattr(C, "x"):`, `if self._x is None:`, and an `except AttributeError:` after a `try`
    /// that returns the attribute. What they set, they set once.
    once_blocks: u32,
    /// How many blocks of the function being walked enclose the statement that some calls do
    /// not run: a branch of an `if`, the body of a loop, an `except` handler, a `match` case.
    conditional_blocks: u32,
    /// The blocks that enclose the statement being walked, for which earlier statements ran on
    /// every path to it.
    blocks: blocks::Blocks,
    /// The names the `if`s of the function being walked around the statement test as their
    /// whole test for being unset (`if x is None:`, `if not x:`), innermost last.
    unset_tests: Vec<Name>,
    /// The start of the lambda a `return` statement being walked hands back (`return lambda
    /// *a: table[s](*a)`), and how many such lambdas enclose the expression being walked: the
    /// calls in their bodies run when a caller calls the lambda, not when its function runs.
    returned_lambda: Option<u32>,
    in_returned_lambda: u32,
    /// How many lambdas and generator expressions enclose the expression being walked: their
    /// calls run later than the code around them.
    in_deferred: u32,
    /// Whether a `return` or `raise` inside such a block comes before the statement in its
    /// function: the calls that take it never reach the statement.
    after_early_exit: bool,
    /// The flags of the enclosing first-time `if` blocks whose test names one (innermost last),
    /// and whether the block sets it.
    first_time_flags: Vec<(Name, bool)>,
    /// Changes under a test of a parameter of the function being walked (and of the functions
    /// around it), kept until its whole body is seen to bind that parameter nowhere else (no
    /// walrus, `match` capture or `nonlocal` of a nested function); their `positional` and
    /// `keyword` are set then.
    pending_param_guards: Vec<ParamGuard>,
    /// Augmented assignments to a local that directly aliases a global, with the local, until
    /// the function's walk ends and its other bindings are known (see
    /// [`FileFacts::sole_alias_operators`]).
    pending_local_operators: Vec<(u32, Name)>,
    /// Locals bound to a first-time test (`first_time = not hasattr(cherrypy, "session")`), with
    /// the depth of their function's scope and the flag the test reads: `if first_time:` is that
    /// test. Kept here rather than in the function's scope, which stays small.
    first_time_locals: Vec<(usize, Name, Name)>,
    /// The flag that the function body's statements after the one being walked set on every
    /// path (`cherrypy.session = ...` after `if first_time:`): taken by that statement's `if`.
    flag_set_after: Option<Name>,
    /// Whether the statement being walked is an `if` that fills, once, the class attribute the
    /// statement before it read into a local (`fills_own_attribute_once`): taken by its `if`.
    fills_read_attribute: bool,
    keyed: flows::KeyedStores,
    /// Module- and class-level names bound to a literal tuple or list of strings, by name: the
    /// attribute lists a framework copies per instance.
    string_lists: HashMap<Name, Vec<Name>>,
    /// For each class, the names its body binds once, at its top, to a tuple of true literals
    /// (`SSH_DIRS = (".ssh", "ssh")`): what [`dead_branches`] reads `self.A[i]` by.
    true_tuples: HashMap<ClassIdx, Vec<Name>>,
    /// Module-level names bound by `NAME = <whole number>` so far, with the number: what a
    /// decorator's `maxsize=NAME` reads.
    module_numbers: HashMap<Name, u32>,
    /// The enclosing `for` loops, innermost last, that iterate over something read from the
    /// instance itself (see [`Extractor::iterates_instance_names`]): their function and the
    /// names their target binds.
    instance_name_loops: Vec<(FuncIdx, Vec<Name>)>,
    /// Where the `setattr` calls start that no run of their function reaches (see
    /// [`locals_loops::unreached_setattrs`]): not recorded as setting anything.
    unreached_setattrs: Vec<u32>,
    /// The buffer the sources of a flow are gathered in, kept between statements: most
    /// assignments have one source, and a vector per statement cost an allocation each.
    scratch_sources: Vec<FlowSource>,
    /// The names the module may rebind other than by a module-level `name = value`, and the
    /// attributes it sets on objects it names, as the walk finds them (`extract/rebinds.rs`).
    rebinds: rebinds::Rebinds,
    /// The names each recorded set-up call's cached function reads only on paths that return
    /// before the call, by the call's index in `FileFacts::set_up_calls`: whether they read the
    /// set-up's global is decided once the whole module is seen (`run_once::settle_early_returns`).
    early_return_names: Vec<(usize, Vec<Name>)>,
}

/// Slots of [`Extractor::name_memo`]: a power of two, enough for the names of a few statements.
const NAME_MEMO_SLOTS: usize = 256;

/// One slot of [`Extractor::name_memo`]: the address of a name node, the scope generation the
/// answer was found under, and the answer. Address 0 (the empty slot) is no node's.
#[derive(Clone, Copy, Default)]
struct NameMemo {
    node: usize,
    generation: u32,
    answer: Option<(CallReceiver, Option<Name>)>,
}

/// The state a `try` statement was entered in, which its `finally` block runs in again.
#[derive(Clone, Copy)]
struct EnteredTry {
    /// The function had yielded before the `try`.
    yielded: bool,
    /// An early `return` or `raise` (under a condition) came before the `try`.
    exited_early: bool,
}

/// Where an expression leads: the object it denotes, whether that is an element inside it, and the
/// local alias it went through.
struct Resolved {
    path: AccessPath,
    nested: bool,
    /// The expression is exactly one element of `path` (`C.x[k]`, `C.x.get(k)`), not an attribute
    /// or an element of one: what a container annotation declares its elements to be.
    element: bool,
    alias: Option<Span>,
}

impl Extractor {
    fn function_scope(&self) -> Option<&FunctionScope> {
        match self.scopes.last() {
            Some(Scope::Function(f)) => Some(f),
            _ => None,
        }
    }

    fn function_scope_mut(&mut self) -> Option<&mut FunctionScope> {
        match self.scopes.last_mut() {
            Some(Scope::Function(f)) => Some(f),
            _ => None,
        }
    }

    fn push_scope(&mut self, scope: Scope) {
        self.scopes.push(scope);
        self.scope_generation += 1;
    }

    fn pop_scope(&mut self) -> Option<Scope> {
        self.scope_generation += 1;
        self.scopes.pop()
    }

    fn current_function(&self) -> Option<FuncIdx> {
        self.function_scope().map(|f| f.idx)
    }

    /// Notes the change starting at `start` as one that some calls of its function do not reach.
    fn note_if_conditional(&mut self, start: u32) {
        // After a generator's first `yield` (or `yield from`), a consumer may stop before it.
        let after_yield = self.function_scope().is_some_and(|f| f.yielded);
        if self.conditional_blocks > 0 || self.after_early_exit || after_yield {
            self.facts.conditional_changes.push(start);
        }
    }

    /// Guards recursion: returns false (and records the skipped range once) past the depth limit.
    /// The node's range is asked for only past the limit: computing it is a match over every
    /// kind of node, on every node.
    fn enter(&mut self, node: &impl Ranged) -> bool {
        if self.depth >= MAX_WALK_DEPTH {
            if !self.hit_depth_limit {
                self.facts.truncated.push((
                    span(node.range()),
                    format!("code nests more than {MAX_WALK_DEPTH} levels deep; the part below was not analysed")
                        .into(),
                ));
            }
            self.hit_depth_limit = true;
            return false;
        }
        self.depth += 1;
        true
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ----- definitions -------------------------------------------------------------------------

    fn visit_class(&mut self, class: &ast::StmtClassDef) {
        let (qualname, in_function) = self.qualify(class.name.as_str());
        let mut bases = Vec::new();
        let mut metaclass = None;
        if let Some(arguments) = &class.arguments {
            for base in arguments.args.iter() {
                let base = match base {
                    Expr::Subscript(sub) => &*sub.value,
                    other => other,
                };
                self.note_read_only_class_name(base);
                bases.push(dotted_name(base));
            }
            for keyword in arguments.keywords.iter() {
                if keyword
                    .arg
                    .as_ref()
                    .is_some_and(|a| a.as_str() == "metaclass")
                {
                    metaclass = dotted_name(&keyword.value);
                }
            }
        }
        let idx = self.facts.classes.len() as ClassIdx;
        self.facts.classes.push(ClassFacts {
            name: intern(class.name.as_str()),
            qualname,
            bases,
            metaclass,
            decorators: decorators(&class.decorator_list, &self.module_numbers),
            bindings: Vec::new(),
            in_function,
            span: span(class.name.range),
        });
        if let Some(arguments) = &class.arguments {
            // Base expressions run in the enclosing scope.
            self.visit_arguments(arguments);
        }
        self.rebinds.class_header(class, self.depth);
        let tuples = true_tuples(&class.body);
        if !tuples.is_empty() {
            self.true_tuples.insert(idx, tuples);
        }
        self.push_scope(Scope::Class(idx));
        for stmt in &class.body {
            self.visit_stmt(stmt);
        }
        self.pop_scope();
    }

    /// Records the branches of the function `idx` (whose body is `body`) that no call runs
    /// ([`FileFacts::dead_code`]).
    fn record_dead_branches(&mut self, idx: FuncIdx, body: &[Stmt], self_name: Option<&Name>) {
        // The class whose methods' `self.A` the function reads: its own, or its enclosing
        // method's.
        let mut owner = Some(idx);
        let mut class = None;
        while let Some(f) = owner {
            let facts = &self.facts.functions[f as usize];
            if facts.class.is_some() {
                class = facts.class;
                break;
            }
            owner = facts.parent;
        }
        let tuples = class
            .and_then(|c| self.true_tuples.get(&c))
            .map_or(&[][..], Vec::as_slice);
        for ((start, end), class_attrs) in
            dead_branches::dead_branches(body, self_name.map(|n| n.as_str()), tuples)
        {
            self.facts.dead_code.push(DeadCode {
                function: idx,
                body: Span::new(start, end),
                class_attrs,
            });
        }
    }

    /// The qualified name of a definition named `name` in the current scope, and whether it is
    /// inside a function.
    fn qualify(&self, name: &str) -> (Name, bool) {
        let mut in_function = false;
        let prefix = match self.scopes.last() {
            Some(Scope::Class(c)) => Some(self.facts.classes[*c as usize].qualname),
            Some(Scope::Function(f)) => {
                in_function = true;
                Some(self.facts.functions[f.idx as usize].qualname)
            }
            _ => None,
        };
        if let Some(Scope::Class(c)) = self.scopes.last() {
            in_function = self.facts.classes[*c as usize].in_function;
        }
        let qualname = match prefix {
            Some(p) => join_dotted(&p, name),
            None => intern(name),
        };
        (qualname, in_function)
    }

    fn visit_function(&mut self, function: &ast::StmtFunctionDef) {
        // A function defined in a first-time block runs whenever it is called.
        let once_blocks = std::mem::take(&mut self.once_blocks);
        let conditional_blocks = std::mem::take(&mut self.conditional_blocks);
        let after_early_exit = std::mem::take(&mut self.after_early_exit);
        let first_time_flags = std::mem::take(&mut self.first_time_flags);
        let open_blocks = self.blocks.enter_function();
        let unset_tests = std::mem::take(&mut self.unset_tests);
        self.visit_function_definition(function);
        self.unset_tests = unset_tests;
        self.blocks.leave_function(open_blocks);
        self.once_blocks = once_blocks;
        self.conditional_blocks = conditional_blocks;
        self.after_early_exit = after_early_exit;
        self.first_time_flags = first_time_flags;
        // The function's locals end with it.
        if !self.first_time_locals.is_empty() {
            let depth = self.scopes.len();
            self.first_time_locals.retain(|(d, ..)| *d <= depth);
        }
    }

    fn visit_function_definition(&mut self, function: &ast::StmtFunctionDef) {
        for decorator in &function.decorator_list {
            self.visit_expr(&decorator.expression);
        }
        let decorators = decorators(&function.decorator_list, &self.module_numbers);
        let cached = decorators
            .iter()
            .any(|d| self.may_be_cache_decorator(&d.name));
        let (qualname, _) = self.qualify(function.name.as_str());
        let enclosing_class = match self.scopes.last() {
            Some(Scope::Class(c)) => Some(*c),
            _ => None,
        };
        let parent = self.current_function();
        let kind = if enclosing_class.is_some() {
            method_kind(function.name.as_str(), &decorators)
        } else if parent.is_some() {
            FunctionKind::Nested
        } else {
            FunctionKind::Module
        };

        let parameters = &function.parameters;
        // Sized at once: the first push into an empty vector allocates through its growth path,
        // in every function with a parameter.
        let mut params = ThinVec::with_capacity(parameters.len());
        for p in parameters.posonlyargs.iter().chain(parameters.args.iter()) {
            params.push(self.param(&p.parameter, p.default.as_deref()));
        }
        let positional = params.len() as u32;
        if let Some(p) = &parameters.vararg {
            params.push(self.param(p, None));
        }
        let keyword_only_start = params.len() as u32;
        for p in parameters.kwonlyargs.iter() {
            params.push(self.param(&p.parameter, p.default.as_deref()));
        }
        let param_kinds = ParamKinds {
            positional_only: parameters.posonlyargs.len() as u32,
            positional,
            keyword_only_start,
            keyword_only_end: params.len() as u32,
        };
        for p in parameters.iter_non_variadic_params() {
            if p.default.as_deref().and_then(uses::falsity).is_some() {
                self.facts
                    .false_defaults
                    .push(span(p.parameter.range).start);
            }
            if let Some(Expr::Call(call)) = p.default.as_deref()
                && call.arguments.is_empty()
            {
                self.facts
                    .bare_call_defaults
                    .push(span(p.parameter.range).start);
            }
            if p.default.as_deref().is_some_and(is_empty_container) {
                self.facts.empty_values.push(span(p.parameter.range).start);
                if truth_guards::filled_or_handed_on_only_when_true(
                    &function.body,
                    p.parameter.name.as_str(),
                ) {
                    self.facts
                        .truth_guarded_params
                        .push(span(p.parameter.range).start);
                }
            }
        }
        let kwargs = parameters.kwarg.as_ref().map(|p| {
            params.push(self.param(p, None));
            params.len() as u32 - 1
        });
        // Defaults and annotations are evaluated once, where the function is defined.
        for p in parameters.iter_non_variadic_params() {
            if let Some(default) = &p.default {
                self.visit_expr(default);
            }
        }
        self.visit_annotated_calls(parameters);
        self.rebinds.function_header(function, self.depth);
        let (mut restored, mut reset, mut kept) = (Vec::new(), Vec::new(), Vec::new());
        let mut locked: Vec<LockHeld> = locks::synchronized(function).into_iter().collect();
        scan_function_blocks(
            &function.body,
            &function.body,
            &mut restored,
            &mut reset,
            &mut kept,
            &mut locked,
        );
        self.facts.restored_stores.extend(restored);
        self.facts.reset_context_sets.extend(reset);
        self.facts.kept_until_done.extend(kept);
        self.facts.lock_held.extend(locked);
        let function_start = span(function.name.range).start;
        let function_end = function.range.end().to_u32();
        self.facts.identity_exits.extend(
            identity_exits(&function.body)
                .map(|(name, other, after)| (function_start, name, other, after, function_end)),
        );
        let mut clauses = Vec::new();
        identity_else_clauses(&function.body, &mut clauses);
        self.facts.identity_exits.extend(
            clauses
                .into_iter()
                .map(|(name, other, start, end)| (function_start, name, other, start, end)),
        );

        let first = params.first().map(|p| p.name);
        let (mut self_name, mut cls_name) = match kind {
            FunctionKind::Instance => (first, None),
            FunctionKind::ClassMethod => (None, first),
            FunctionKind::StaticMethod | FunctionKind::Module => (None, None),
            FunctionKind::Nested => match self.function_scope() {
                Some(outer) => (outer.self_name, outer.cls_name),
                None => (None, None),
            },
        };

        // The names are gathered first and the set built at its size: growing it name by name
        // rehashed it several times in every function with more than a few locals.
        // Room for the parameters and a few more: sized to the parameters alone, it grew
        // again with the body's first bindings.
        let mut bound: Vec<&str> = Vec::with_capacity(params.len() + 8);
        bound.extend(params.iter().map(|p| p.name.as_str()));
        let mut declared_outside = Vec::new();
        let BodyBindings {
            defines,
            stores_items,
            augmented,
            to_literals,
        } = collect_bindings(&function.body, &mut bound, &mut declared_outside);
        bound.extend(augmented);
        bound.extend(to_literals);
        bound.retain(|name| !declared_outside.contains(name));
        let (locals, bound_twice) = Locals::with_repeats(bound.into_iter());
        if kind == FunctionKind::Nested {
            // A nested function that rebinds `self` no longer sees the method's instance.
            if self_name.as_ref().is_some_and(|n| locals.contains(n)) {
                self_name = None;
            }
            if cls_name.as_ref().is_some_and(|n| locals.contains(n)) {
                cls_name = None;
            }
        }

        let typed_params: Vec<TypedLocal> = params
            .iter()
            .skip(usize::from(matches!(
                kind,
                FunctionKind::Instance | FunctionKind::ClassMethod
            )))
            .filter_map(|p| {
                Some(TypedLocal {
                    name: p.name,
                    class: p.annotation?,
                    exact: false,
                })
            })
            .collect();

        let local_count = locals.len();
        let defaulted_params = params.iter().any(uses::has_shared_default)
            || self.scopes.iter().rev().any(|scope| match scope {
                Scope::Function(f) => f.defaulted_params,
                _ => false,
            });
        let idx = self.facts.functions.len() as FuncIdx;
        self.facts.functions.push(FunctionFacts {
            name: intern(function.name.as_str()),
            qualname,
            kind,
            class: enclosing_class,
            parent,
            is_async: function.is_async,
            decorators: decorators.into(),
            params,
            typed_locals: ThinVec::new(),
            returned_names: ThinVec::new(),
            returns_other: false,
            span: span(function.name.range),
        });
        // A module-level set-up function (`def _discover(): if _REGISTRY: return ...`).
        if parent.is_none()
            && enclosing_class.is_none()
            && let Some(setup) =
                run_once::run_once_setup(idx, &function.body, !function.parameters.is_empty())
        {
            self.facts.run_once_setups.push(setup);
        }
        if cached {
            for (call, early) in run_once::set_up_calls(idx, &function.body) {
                if !early.is_empty() {
                    self.early_return_names
                        .push((self.facts.set_up_calls.len(), early));
                }
                self.facts.set_up_calls.push(call);
            }
        }
        if kind == FunctionKind::Instance
            && let Some(receiver) = self_name
        {
            self.record_method_returns(idx, receiver.as_str(), &function.body);
            if let Some((attr, truth)) = self_attribute_exit(receiver.as_str(), &function.body) {
                self.facts.self_attribute_exits.push(SelfAttributeExit {
                    function: idx,
                    attr,
                    truth,
                });
            }
            let at_module_level = !self.scopes.iter().any(|s| matches!(s, Scope::Function(_)));
            self.unreached_setattrs
                .extend(locals_loops::unreached_setattrs(
                    function,
                    receiver.as_str(),
                    at_module_level,
                ));
        }
        let (mut removals, mut rewrites, mut decorating, mut super_calling) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        class_creation::scan(
            function,
            kind,
            idx,
            &mut removals,
            &mut rewrites,
            &mut decorating,
            &mut super_calling,
        );
        self.facts.namespace_removals.extend(removals);
        self.facts.namespace_rewrites.extend(rewrites);
        self.facts.decorating_inits.extend(decorating);
        self.facts.super_calling_inits.extend(super_calling);
        self.facts
            .kwargs_forwards
            .extend(kwargs_forward::scan(function, kind, idx));
        self.push_scope(Scope::Function(FunctionScope {
            idx,
            self_name,
            cls_name,
            kwargs_name: parameters.kwarg.as_ref().map(|p| intern(p.name.as_str())),
            locals,
            aliases: HashMap::default(),
            loops: 0,
            bound_twice,
            // Each local assigned in the body gets an entry.
            constructed: HashMap::with_capacity_and_hasher(local_count, Default::default()),
            rebound_params: 0,
            defaulted_params,
            cached_locals: cached.then(HashMap::default),
            closure: Box::new(ClosureScope {
                keeps_allocations: defines,
                allocations: Vec::new(),
                first_change: (
                    self.facts.mutations.len(),
                    self.facts.attribute_assignments.len(),
                ),
            }),
            first_yield: None,
            reads_constant_index: false,
            yielded: false,
        }));
        // What could record a memoisation with this function's frame innermost, or name it as a
        // method a memo's value calls: an item store among its statements, a nested scope, or
        // a call of `add`, `set` or `setdefault` in its text. Without any, the inputs of its
        // locals are never read.
        let may_memoise = defines
            || stores_items
            || self.memo_call_words.as_ref().is_none_or(|words| {
                let (start, end) = (
                    function.range.start().to_u32(),
                    function.range.end().to_u32(),
                );
                let from = words.partition_point(|&word| word < start);
                words.get(from).is_some_and(|&word| word < end)
            });
        self.reach_enter_function(idx, span(function.range), may_memoise);
        let guards_from = self.pending_param_guards.len();
        let local_operators_from = self.pending_local_operators.len();
        let attributes_from = self.facts.param_attributes.len();
        let mutations_from = self.facts.mutations.len();
        for (i, stmt) in function.body.iter().enumerate() {
            self.flag_set_after = self.flag_set_after_block(stmt, &function.body[i + 1..]);
            self.fills_read_attribute =
                i > 0 && fills_own_attribute_once(&function.body[i - 1], stmt);
            self.visit_stmt(stmt);
            self.flag_set_after = None;
            self.fills_read_attribute = false;
            // `if _X is not None: return _X` at the top of the body: what follows runs until
            // `_X` is set (the flags are dropped when the function's walk ends).
            if let Some(flag) = self.early_return_flag(stmt) {
                let set_in_block = sets_flag(&function.body[i + 1..], &flag);
                self.first_time_flags.push((flag, set_in_block));
                // The stores that make the test hold run while it does not: on the first call
                // only, when the function never stores a value that could make it fail again.
                self.note_first_time_sets(stmt, &function.body[i + 1..], &flag);
            }
        }
        self.record_memo_method_reads(idx, &function.body);
        self.reach_leave_function(&function.body);
        let Some(Scope::Function(mut scope)) = self.pop_scope() else {
            unreachable!("function scope pushed above")
        };
        self.record_dead_branches(idx, &function.body, scope.self_name.as_ref());
        let mutations = &self.facts.mutations[mutations_from..];
        if scope.reads_constant_index && mutations.iter().any(|m| m.function == idx) {
            let changed = nonempty_reads::changed_only_when_not_empty(
                &function.body,
                mutations,
                idx,
                scope.self_name.as_ref().map(|n| n.as_str()),
            );
            self.facts.changed_only_with_entries.extend(changed);
        }
        // Calling a generator gives a generator object, a true value whatever it returns.
        if kind == FunctionKind::Instance
            && scope.self_name.is_some()
            && let Some(first_yield) = scope.first_yield
        {
            self.facts.method_returns.push(MethodReturn {
                function: idx,
                start: first_yield,
                value: Returned::Other,
            });
        }
        self.record_closure(idx, kwargs, &mut scope);
        // A parameter a walrus or a `nonlocal` binds again may not be what was stored.
        if self.facts.param_attributes.len() > attributes_from {
            let rebound = names_bound_by_expressions(&function.body);
            let params = &self.facts.functions[idx as usize].params;
            let mut kept = attributes_from;
            for i in attributes_from..self.facts.param_attributes.len() {
                let stored = self.facts.param_attributes[i];
                // Nested functions' stores were looked at as their walks ended.
                let own =
                    self.facts.attribute_assignments[stored.assignment as usize].function == idx;
                if !own || !rebound.contains(&params[stored.param as usize].name.as_str()) {
                    self.facts.param_attributes[kept] = stored;
                    kept += 1;
                }
            }
            self.facts.param_attributes.truncate(kept);
        }
        // Nested functions took theirs out as their walks ended, as for the guards below.
        if self.pending_local_operators.len() > local_operators_from {
            let rebound = names_bound_by_expressions(&function.body);
            let params = &self.facts.functions[idx as usize].params;
            for (start, local) in self.pending_local_operators.split_off(local_operators_from) {
                let local = local.as_str();
                if !rebound.contains(&local)
                    && !params.iter().any(|p| p.name.as_str() == local)
                    && bound_once_besides_augmented(&function.body, local)
                {
                    self.facts.sole_alias_operators.push(start);
                }
            }
        }
        // Nested functions took theirs out as their walks ended: what is left is this one's.
        if self.pending_param_guards.len() > guards_from {
            let rebound = names_bound_by_expressions(&function.body);
            let params = &self.facts.functions[idx as usize].params;
            let guards: Vec<ParamGuard> = self
                .pending_param_guards
                .drain(guards_from..)
                .filter_map(|g| {
                    let Tested::Param { index, .. } = g.tested else {
                        return Some(g);
                    };
                    if rebound.contains(&params[index as usize].name.as_str()) {
                        return None;
                    }
                    let (positional, keyword) = param_kinds.of(index)?;
                    Some(ParamGuard {
                        tested: Tested::Param {
                            index,
                            positional,
                            keyword,
                        },
                        ..g
                    })
                })
                .collect();
            self.facts.param_guarded.extend(guards);
        }
        self.record_key_reads(idx, function);
        self.record_raise_switches(idx, function);
        self.record_receiver_left_alone(idx, function);
        let mut typed_locals = typed_params;
        let mut constructed: Vec<TypedLocal> = scope
            .constructed
            .into_iter()
            .filter_map(|(name, (count, class))| {
                let class = class.filter(|_| count == 1)?;
                Some(TypedLocal {
                    name,
                    class,
                    exact: true,
                })
            })
            .filter(|local| !typed_locals.iter().any(|t| t.name == local.name))
            .collect();
        constructed.sort();
        typed_locals.extend(constructed);
        self.facts.functions[idx as usize].typed_locals = typed_locals.into();
    }

    /// What a function's closures may keep: the objects it created, if it defines functions,
    /// and the free variables of its own that it changes.
    fn record_closure(&mut self, idx: FuncIdx, kwargs: Option<u32>, scope: &mut FunctionScope) {
        if self.facts.functions.len() > idx as usize + 1 {
            if let Some(index) = kwargs {
                let param = &self.facts.functions[idx as usize].params[index as usize];
                let local = ClosureLocal {
                    function: idx,
                    name: param.name,
                    value: Value::Container(ContainerKind::Dict),
                    param: Some(index),
                    span: param.span,
                };
                self.facts.closure_locals.push(local);
            }
            self.facts
                .closure_locals
                .extend(scope.closure.allocations.drain(..));
        }
        let (mutations, assignments) = scope.closure.first_change;
        let roots = self.facts.mutations[mutations..]
            .iter()
            .filter(|m| m.function == idx)
            .map(|m| &m.target.root)
            .chain(
                self.facts.attribute_assignments[assignments..]
                    .iter()
                    .filter(|a| a.function == idx)
                    .map(|a| &a.object.root),
            );
        let mut captured: Vec<Name> = roots
            .filter_map(|root| match root {
                Root::Local(name) if !scope.locals.contains(name) => Some(*name),
                _ => None,
            })
            .collect();
        captured.sort();
        captured.dedup();
        self.facts
            .captured
            .extend(captured.into_iter().map(|name| (idx, name)));
    }

    /// `name = value` where the current function declares `name` `nonlocal`.
    fn record_closure_rebind(
        &mut self,
        function: FuncIdx,
        name: &str,
        value: Option<&Expr>,
        target: TextRange,
    ) {
        // The caller has asked the function's own locals; a class body has no cells to rebind.
        if self.function_scope().is_none() {
            return;
        }
        let owner = self.scopes.iter().rev().skip(1).find_map(|s| match s {
            Scope::Function(f) if f.locals.contains(name) => Some(f.idx),
            _ => None,
        });
        let Some(owner) = owner else {
            return;
        };
        let params = &self.facts.functions[function as usize].params;
        let stored_param = match value {
            Some(Expr::Name(stored)) if params.iter().any(|p| p.name == stored.id.as_str()) => {
                Some(intern(stored.id.as_str()))
            }
            _ => None,
        };
        let first_time = self.once_blocks > 0 || value.is_some_and(|v| self.is_lazy_name(name, v));
        self.note_if_conditional(span(target).start);
        self.facts
            .closure_rebinds
            .push(crate::facts::ClosureRebind {
                function,
                owner,
                name: intern(name),
                stored_param,
                first_time,
                span: span(target),
            });
    }

    /// Whether `path` is a free variable of the current function that an enclosing function
    /// binds (a closure's cell).
    fn is_captured(&self, path: &AccessPath) -> bool {
        match (&path.root, self.function_scope()) {
            (Root::Local(name), Some(scope)) => {
                path.attrs.is_empty() && !scope.locals.contains(name)
            }
            _ => false,
        }
    }

    fn param(&self, parameter: &ast::Parameter, default: Option<&Expr>) -> Param {
        Param {
            name: intern(parameter.name.as_str()),
            annotation: parameter.annotation.as_deref().and_then(annotated_class),
            default: default.map(|d| self.classify(d)),
            span: span(parameter.range),
        }
    }

    fn visit_import(&mut self, stmt: &Stmt) {
        let function = self.current_function();
        if function.is_some() && self.first_function_import.is_none() {
            self.first_function_import = Some(self.facts.imports.len());
        }
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    let full = alias.name.as_str();
                    let (binding, module) = match &alias.asname {
                        Some(asname) => (asname.as_str(), full),
                        None => {
                            let top = full.split('.').next().unwrap_or(full);
                            (top, top)
                        }
                    };
                    let binding = intern(binding);
                    if function.is_some() {
                        self.imported_again(binding);
                    }
                    self.facts.imports.push(Import {
                        binding,
                        target: ImportTarget::Module(intern(module)),
                        function,
                        span: span(alias.range),
                    });
                }
            }
            Stmt::ImportFrom(import) => {
                for alias in &import.names {
                    let binding = alias.asname.as_ref().unwrap_or(&alias.name);
                    if knowledge::is_mutating_function_name(alias.name.as_str()) {
                        self.mutating_imports.insert(intern(binding.as_str()));
                    }
                    let binding = intern(binding.as_str());
                    if function.is_some() {
                        self.imported_again(binding);
                    }
                    self.facts.imports.push(Import {
                        binding,
                        target: ImportTarget::Member {
                            level: import.level,
                            module: import.module.as_ref().map(|m| intern(m.as_str())),
                            name: intern(alias.name.as_str()),
                        },
                        function,
                        span: span(alias.range),
                    });
                }
            }
            _ => {}
        }
    }

    /// A `name = value` (or annotated) binding at module or class level.
    fn record_binding(
        &mut self,
        target: &Expr,
        annotation: Option<&Expr>,
        value: Option<&Expr>,
        stmt: TextRange,
    ) {
        let Expr::Name(name) = target else { return };
        if let Some(Expr::Call(call)) = value {
            self.record_keyword_default(name.id.as_str(), call);
        }
        let bound = intern(name.id.as_str());
        if let Some(strings) = value.and_then(literal_strings) {
            self.string_lists.insert(bound, strings);
        }
        if matches!(self.scopes.last(), Some(Scope::Module)) {
            let number = match value {
                Some(Expr::NumberLiteral(n)) => n
                    .value
                    .as_int()
                    .and_then(|i| u32::try_from(i.as_u64()?).ok()),
                _ => None,
            };
            match number {
                Some(number) => self.module_numbers.insert(bound, number),
                None => self.module_numbers.remove(&bound),
            };
        }
        if value.is_some_and(is_empty_container)
            && matches!(self.scopes.last(), Some(Scope::Class(_) | Scope::Module))
        {
            self.facts.empty_values.push(span(stmt).start);
        }
        let binding = Binding {
            name: bound,
            value: value.map_or(Value::Other, |v| self.classify(v)),
            annotation: annotation.and_then(outer_annotation_name),
            element_class: annotation.and_then(declared_element_class),
            span: span(stmt),
        };
        match self.scopes.last() {
            Some(Scope::Class(c)) => {
                if let Some(literal) = value.and_then(comparable_literal) {
                    self.facts
                        .class_literals
                        .push((binding.span.start, literal));
                }
                self.facts.classes[*c as usize].bindings.push(binding)
            }
            Some(Scope::Module) => {
                if let Some(Expr::Call(call)) = value {
                    self.facts
                        .binding_calls
                        .push(uses::binding_call(self.facts.globals.len() as u32, call));
                }
                self.facts.globals.push(binding);
            }
            _ => {}
        }
    }

    // ----- values and access paths -------------------------------------------------------------

    /// What `expr` evaluates to, as far as sharing is concerned.
    fn classify(&self, expr: &Expr) -> Value {
        match expr {
            Expr::List(_) | Expr::ListComp(_) => Value::Container(ContainerKind::List),
            Expr::Dict(_) | Expr::DictComp(_) => Value::Container(ContainerKind::Dict),
            Expr::Set(_) | Expr::SetComp(_) => Value::Container(ContainerKind::Set),
            Expr::NoneLiteral(_) => Value::None,
            Expr::Tuple(_) if !is_immutable_literal(expr) => Value::Other,
            literal if is_immutable_literal(literal) => Value::Immutable,
            Expr::Call(call) => {
                if let Expr::Attribute(attribute) = &*call.func
                    && knowledge::COPY_METHODS.contains(&attribute.attr.as_str())
                    && call.arguments.args.is_empty()
                {
                    return Value::Copy;
                }
                match constructor_name(&call.func) {
                    Some(callee) => Value::Call { callee },
                    // `Prefs().defaults()`: a method of a new instance, written `Prefs.defaults`
                    // as call sites write it.
                    None => match &*call.func {
                        Expr::Attribute(method) => match &*method.value {
                            Expr::Call(inner) => match dotted_name(&inner.func) {
                                Some(class) => Value::Call {
                                    callee: join_dotted(&class, method.attr.as_str()),
                                },
                                None => Value::Other,
                            },
                            _ => Value::Other,
                        },
                        _ => Value::Other,
                    },
                }
            }
            Expr::Subscript(sub) if matches!(&*sub.slice, Expr::Slice(s) if s.lower.is_none() && s.upper.is_none()) => {
                Value::Copy
            }
            Expr::BoolOp(bool_op) if bool_op.op == ast::BoolOp::Or => {
                match bool_op.values.first() {
                    Some(first) => match self.resolve(first, false) {
                        Some(r) if !r.nested => Value::Alias(Box::new(r.path)),
                        _ => Value::Other,
                    },
                    None => Value::Other,
                }
            }
            Expr::Name(_) | Expr::Attribute(_) => match self.resolve(expr, false) {
                Some(r) if !r.nested => Value::Alias(Box::new(r.path)),
                _ => Value::Other,
            },
            _ => Value::Other,
        }
    }

    /// What a name refers to in the current function, looking through enclosing functions (class
    /// bodies do not enclose, as in Python).
    fn root_of(&self, node: &ast::ExprName) -> Root {
        let (receiver, interned) = self.name_node_here(node);
        let interned = || interned.unwrap_or_else(|| intern(node.id.as_str()));
        match receiver {
            CallReceiver::SelfParam => Root::SelfParam,
            CallReceiver::Class => Root::Class,
            CallReceiver::Local => Root::Local(interned()),
            _ => Root::Global(interned()),
        }
    }

    /// Whether a name refers to a module global (or a builtin) here: [`Self::root_of`] is
    /// `Root::Global`, without building the root.
    fn is_global_name(&self, name: &str) -> bool {
        self.receiver_named(name) == CallReceiver::Name
    }

    /// What kind of receiver a name is in the current function ([`Self::root_of`] without the
    /// name): the instance, the class, a local (of this or an enclosing function), or a global
    /// ([`CallReceiver::Name`]).
    pub(super) fn receiver_named(&self, name: &str) -> CallReceiver {
        self.name_here(name).0
    }

    /// [`Self::receiver_named`], and for the instance, the class or a local the name as its
    /// function holds it, interned: the caller that needs the name does not intern it again.
    fn name_here(&self, name: &str) -> (CallReceiver, Option<Name>) {
        if let Some(f) = self.function_scope() {
            if f.self_name.as_deref() == Some(name) {
                return (CallReceiver::SelfParam, f.self_name);
            }
            if f.cls_name.as_deref() == Some(name) {
                return (CallReceiver::Class, f.cls_name);
            }
        }
        let local = self.scopes.iter().rev().find_map(|scope| match scope {
            Scope::Function(f) => f.locals.get(name),
            _ => None,
        });
        match local {
            Some(local) => (CallReceiver::Local, Some(local)),
            None => (CallReceiver::Name, None),
        }
    }

    /// [`Self::name_here`] for the name read or written by `node`, asked of the walk's memo
    /// first: the tree does not change while it is walked, so a node's address names one text.
    #[inline(always)]
    pub(super) fn name_node_here(&self, node: &ast::ExprName) -> (CallReceiver, Option<Name>) {
        let address = std::ptr::from_ref(node) as usize;
        let slot = &self.name_memo[(address >> 4 ^ address >> 12) & (NAME_MEMO_SLOTS - 1)];
        let held = slot.get();
        if held.node == address
            && held.generation == self.scope_generation
            && let Some(answer) = held.answer
        {
            return answer;
        }
        let answer = self.name_here(node.id.as_str());
        slot.set(NameMemo {
            node: address,
            generation: self.scope_generation,
            answer: Some(answer),
        });
        answer
    }

    /// The object `expr` denotes, when it is reached from a name through attributes, subscripts and
    /// element getters. With `through_aliases`, a local alias stands for what it aliases.
    fn resolve(&self, expr: &Expr, through_aliases: bool) -> Option<Resolved> {
        match expr {
            Expr::Name(name) => {
                let id = name.id.as_str();
                if through_aliases
                    && let Some(alias) = self.function_scope().and_then(|f| f.aliases.get_text(id))
                {
                    return Some(Resolved {
                        path: alias.path.clone(),
                        nested: alias.nested,
                        element: alias.element,
                        alias: Some(alias.span),
                    });
                }
                Some(Resolved {
                    path: AccessPath::new(self.root_of(name)),
                    nested: false,
                    element: false,
                    alias: None,
                })
            }
            Expr::Attribute(attribute) => {
                let mut inner = self.resolve(&attribute.value, through_aliases)?;
                inner.element = false;
                if attribute.attr.as_str() == "__class__"
                    && inner.path == AccessPath::new(Root::SelfParam)
                {
                    inner.path = AccessPath::new(Root::Class);
                } else if !inner.nested {
                    inner.path.attrs.push(intern(attribute.attr.as_str()));
                }
                Some(inner)
            }
            // A slice of a list is a new list.
            Expr::Subscript(sub) if matches!(&*sub.slice, Expr::Slice(_)) => None,
            Expr::Subscript(sub) => {
                let mut inner = self.resolve(&sub.value, through_aliases)?;
                inner.element = !inner.nested;
                inner.nested = true;
                Some(inner)
            }
            Expr::Call(call) => {
                let args = &call.arguments.args;
                match &*call.func {
                    Expr::Name(f) if f.id.as_str() == "type" && args.len() == 1 => {
                        let inner = self.resolve(&args[0], false)?;
                        (inner.path == AccessPath::new(Root::SelfParam)).then(|| Resolved {
                            path: AccessPath::new(Root::Class),
                            nested: false,
                            element: false,
                            alias: None,
                        })
                    }
                    Expr::Name(f)
                        if f.id.as_str() == "getattr" && (2..=3).contains(&args.len()) =>
                    {
                        let Expr::StringLiteral(attr) = &args[1] else {
                            return None;
                        };
                        let mut inner = self.resolve(&args[0], through_aliases)?;
                        inner.element = false;
                        if !inner.nested {
                            inner.path.attrs.push(intern(literal_text(&attr.value)));
                        }
                        Some(inner)
                    }
                    Expr::Attribute(method)
                        if knowledge::ELEMENT_GETTERS.contains(&method.attr.as_str()) =>
                    {
                        let mut inner = self.resolve(&method.value, through_aliases)?;
                        inner.element = !inner.nested;
                        inner.nested = true;
                        Some(inner)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    // ----- statements inside functions ---------------------------------------------------------

    fn record_mutation(
        &mut self,
        object: &Expr,
        kind: MutationKind,
        range: TextRange,
        nested: bool,
    ) {
        let Some(function) = self.current_function() else {
            return;
        };
        if let Some(resolved) = self.resolve(object, true) {
            let index = self.facts.mutations.len() as u32;
            self.note_if_conditional(range.start().to_u32());
            if resolved.element && !nested && matches!(kind, MutationKind::Method(_)) {
                self.facts.element_receivers.push(span(range));
            }
            self.facts.mutations.push(Mutation {
                function,
                target: resolved.path,
                kind,
                span: span(range),
                nested: nested || resolved.nested,
                alias: resolved.alias,
            });
            self.note_param_mutation(index);
            if self.runs_once_per_process() {
                self.facts.lazy_inits.push(range.start().to_u32());
            }
        } else {
            self.record_call_result_mutation(function, object, kind, range);
        }
    }

    /// `self.<attr> = <name>` about to be pushed as the next attribute assignment in `function`:
    /// kept for [`FileFacts::param_attributes`] when `function` is an `__init__` method and
    /// `name` one of its parameters that it binds nowhere else.
    fn note_param_attribute(&mut self, function: FuncIdx, name: &str) {
        let facts = &self.facts.functions[function as usize];
        if facts.name.as_str() != "__init__" || facts.kind != FunctionKind::Instance {
            return;
        }
        let Some(param) = facts.params.iter().position(|p| p.name.as_str() == name) else {
            return;
        };
        let bound_twice = self
            .function_scope()
            .is_none_or(|scope| scope.bound_twice.iter().any(|n| n.as_str() == name));
        if !bound_twice {
            self.facts
                .param_attributes
                .push(crate::facts::ParamAttribute {
                    assignment: self.facts.attribute_assignments.len() as u32,
                    param: param as u32,
                });
        }
    }

    /// The attributes a statement outside functions stores (`X.a = v`, `X.a += v`, `for X.a in
    /// ...`, `with ... as X.a`, inside tuple targets too): kept for
    /// [`FileFacts::outer_attribute_stores`].
    fn note_outer_attribute_stores(&mut self, stmt: &Stmt) {
        fn stored(target: &Expr, out: &mut ThinVec<Name>) {
            match target {
                Expr::Attribute(attribute) => out.push(intern(attribute.attr.as_str())),
                Expr::Tuple(tuple) => tuple.elts.iter().for_each(|e| stored(e, out)),
                Expr::List(list) => list.elts.iter().for_each(|e| stored(e, out)),
                Expr::Starred(starred) => stored(&starred.value, out),
                _ => {}
            }
        }
        let out = &mut self.facts.outer_attribute_stores;
        match stmt {
            Stmt::Assign(assign) => assign.targets.iter().for_each(|t| stored(t, out)),
            Stmt::AnnAssign(assign) => stored(&assign.target, out),
            Stmt::AugAssign(assign) => stored(&assign.target, out),
            Stmt::For(for_stmt) => stored(&for_stmt.target, out),
            Stmt::With(with) => with
                .items
                .iter()
                .filter_map(|item| item.optional_vars.as_deref())
                .for_each(|t| stored(t, out)),
            _ => {}
        }
    }

    /// The local or parameter a `for` loop iterates over, bound only once in the current
    /// function: `options`, `options.items()` (or `.keys()`, `.values()`), or one of those in
    /// `list(...)`, `tuple(...)`, `sorted(...)` or `enumerate(...)`.
    fn iterated_local(&self, iter: &Expr) -> Option<Name> {
        let scope = self.function_scope()?;
        let mut iter = iter;
        if let Expr::Call(call) = iter
            && let Expr::Name(wrapper) = &*call.func
            && matches!(
                wrapper.id.as_str(),
                "list" | "tuple" | "sorted" | "enumerate"
            )
            && let [argument] = call.arguments.args.as_ref()
            && call.arguments.keywords.is_empty()
        {
            iter = argument;
        }
        if let Expr::Call(call) = iter
            && let Expr::Attribute(method) = &*call.func
            && matches!(method.attr.as_str(), "items" | "keys" | "values")
            && call.arguments.is_empty()
        {
            iter = &method.value;
        }
        let Expr::Name(name) = iter else {
            return None;
        };
        // The function's locals are interned when its scope is gathered: a name never interned
        // is none of them (and, were it one, the loop would only go unrecorded).
        let name = crate::facts::interned(name.id.as_str())?;
        (!scope.bound_twice.contains(&name)).then_some(name)
    }

    /// Whether the statement being walked runs once per process: in a first-time block that sets
    /// its own flag (`if not _loaded: _loaded = True; ...`), the flag being a module global or a
    /// class attribute. A flag on the instance makes the block run once per instance.
    fn runs_once_per_process(&self) -> bool {
        let Some((flag, true)) = self.first_time_flags.last() else {
            return false;
        };
        let self_name = self.function_scope().and_then(|f| f.self_name.as_ref());
        !self_name.is_some_and(|receiver| {
            flag.strip_prefix(receiver.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    /// An assignment target inside a function.
    fn assign_target(&mut self, target: &Expr, value: Option<&Expr>) {
        let Some(function) = self.current_function() else {
            return;
        };
        match target {
            Expr::Subscript(sub) => {
                let kind = if matches!(&*sub.slice, Expr::Slice(_)) {
                    MutationKind::SliceAssign
                } else {
                    MutationKind::ItemAssign
                };
                if let Some(value) = value {
                    self.record_store(&sub.value, value);
                }
                self.record_mutation(&sub.value, kind, sub.range, false);
            }
            Expr::Attribute(attribute) => {
                if let Some(resolved) = self.resolve(&attribute.value, true) {
                    let value_expr = value;
                    let value = value.map_or(Value::Other, |v| self.classify(v));
                    if !resolved.path.attrs.is_empty()
                        || resolved.nested
                        || resolved.alias.is_some()
                        || self.is_defaulted_param(&resolved.path)
                        || self.is_captured(&resolved.path)
                    {
                        let index = self.facts.mutations.len() as u32;
                        self.note_if_conditional(attribute.range.start().to_u32());
                        self.facts.mutations.push(Mutation {
                            function,
                            target: resolved.path.clone(),
                            kind: MutationKind::AttributeAssign(intern(attribute.attr.as_str())),
                            span: span(attribute.range),
                            nested: resolved.nested,
                            alias: resolved.alias,
                        });
                        self.note_param_mutation(index);
                    }
                    if !resolved.nested {
                        if let Some(Expr::Subscript(item)) = value_expr
                            && let Expr::StringLiteral(key) = &*item.slice
                            && matches!(&*item.value, Expr::Name(_) | Expr::Attribute(_))
                            && let Some(source) = self.resolve(&item.value, true)
                            && !source.nested
                        {
                            self.facts.item_reads.push(ItemRead {
                                assignment: self.facts.attribute_assignments.len() as u32,
                                source: source.path,
                                key: intern(literal_text(&key.value)),
                            });
                        }
                        self.note_if_conditional(attribute.range.start().to_u32());
                        if resolved.path == AccessPath::new(Root::SelfParam)
                            && let Some(Expr::Name(stored)) = value_expr
                        {
                            self.note_param_attribute(function, stored.id.as_str());
                        }
                        self.facts.attribute_assignments.push(AttributeAssignment {
                            function,
                            object: resolved.path,
                            attr: intern(attribute.attr.as_str()),
                            value,
                            span: span(attribute.range),
                        });
                    }
                } else {
                    let kind = MutationKind::AttributeAssign(intern(attribute.attr.as_str()));
                    self.record_call_result_mutation(
                        function,
                        &attribute.value,
                        kind,
                        attribute.range,
                    );
                }
            }
            Expr::Name(name) => {
                self.record_rebind(name, value);
                self.bind_local(name, value);
            }
            Expr::Tuple(tuple) => {
                for element in &tuple.elts {
                    self.assign_target(element, None);
                }
            }
            Expr::List(list) => {
                for element in &list.elts {
                    self.assign_target(element, None);
                }
            }
            Expr::Starred(starred) => self.assign_target(&starred.value, None),
            _ => {}
        }
    }

    /// `name = value` inside a function: tracks aliases of shared objects and constructed locals.
    fn bind_local(&mut self, node: &ast::ExprName, value: Option<&Expr>) {
        let name = node.id.as_str();
        if let Some(Expr::Call(call)) = value
            && let Some(own) = self.class_call_kind(call)
        {
            let start = call.range().start().to_u32();
            let bound_to = Some(intern(name));
            match self
                .facts
                .class_calls
                .iter_mut()
                .rev()
                .find(|c| c.start == start)
            {
                Some(recorded) => recorded.bound_to = bound_to,
                None => self.facts.class_calls.push(ClassCall {
                    function: self.current_function(),
                    start,
                    own,
                    bound_to,
                }),
            }
        }
        let alias = value.and_then(|value| {
            let (aliased, either) = match value {
                Expr::BoolOp(b) if b.op == ast::BoolOp::Or => (b.values.first()?, true),
                other => (other, false),
            };
            let resolved = self.resolve(aliased, true)?;
            let is_shared = match &resolved.path.root {
                Root::SelfParam | Root::Class | Root::Global(_) => true,
                Root::Local(local) => local != name,
            };
            (is_shared
                && (!resolved.path.attrs.is_empty()
                    || resolved.nested
                    || matches!(resolved.path.root, Root::Global(_))
                    || self.is_captured(&resolved.path)))
            .then(|| LocalAlias {
                path: resolved.path,
                nested: resolved.nested,
                element: resolved.element
                    && self
                        .function_scope()
                        .is_some_and(|f| !f.bound_twice.iter().any(|n| n.as_str() == name)),
                direct: !either && resolved.alias.is_none(),
                // Point at what was taken (`self.x`), which is what the reader must check.
                span: resolved.alias.unwrap_or(span(value.range())),
                bound_at: value.range().start().to_u32(),
            })
        });
        let alias = alias.or_else(|| self.param_alias(name, value?));
        let keeps_allocations = self
            .function_scope()
            .is_some_and(|f| f.closure.keeps_allocations);
        let allocation = value
            .filter(|_| keeps_allocations)
            .filter(|v| {
                matches!(
                    v,
                    Expr::List(_)
                        | Expr::Dict(_)
                        | Expr::Set(_)
                        | Expr::ListComp(_)
                        | Expr::DictComp(_)
                        | Expr::SetComp(_)
                        | Expr::Call(_)
                )
            })
            .map(|v| self.classify(v))
            .filter(|v| matches!(v, Value::Container(_) | Value::Call { .. }));
        let function = self.current_function();
        // The name interned: as the function's locals hold it (unless it is declared `global`
        // or `nonlocal`), found when the target was first asked about.
        let interned = self.name_node_here(node).1;
        let Some(scope) = self.function_scope_mut() else {
            return;
        };
        let name = interned.unwrap_or_else(|| intern(name));
        if let (Some(value), Some(function), Some(expr)) = (allocation, function, value) {
            scope.closure.allocations.push(ClosureLocal {
                function,
                name,
                value,
                param: None,
                span: span(expr.range()),
            });
        }
        match alias {
            Some(alias) => {
                scope.aliases.insert(name, alias);
            }
            None => {
                scope.aliases.remove(&name);
            }
        }
        // The class is kept only from the first binding: a rebinding builds no name.
        let entry = scope.constructed.entry(name).or_insert_with(|| {
            let constructed_class = match value {
                Some(Expr::Call(call)) => dotted_name(&call.func),
                _ => None,
            };
            (0, constructed_class)
        });
        entry.0 += 1;
    }

    /// The `return` statements of an instance method and the `self.x = v` statements of its
    /// body itself (see [`FileFacts::method_returns`], [`FileFacts::top_level_self_stores`]).
    fn record_method_returns(&mut self, function: FuncIdx, receiver: &str, body: &[Stmt]) {
        let is_receiver = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == receiver);
        for stmt in body {
            let (targets, value): (&[Expr], bool) = match stmt {
                Stmt::Assign(a) => (&a.targets, true),
                Stmt::AnnAssign(a) => (std::slice::from_ref(&*a.target), a.value.is_some()),
                _ => continue,
            };
            for target in targets.iter().filter(|_| value) {
                if let Expr::Attribute(attribute) = target
                    && is_receiver(&attribute.value)
                {
                    self.facts.top_level_self_stores.push((
                        function,
                        intern(attribute.attr.as_str()),
                        stmt.range().start().to_u32(),
                    ));
                }
            }
        }
        let mut returns = Vec::new();
        returns_in(body, &mut returns);
        for ret in returns {
            let value = match ret.value.as_deref() {
                None | Some(Expr::NoneLiteral(_)) => Returned::Falsy,
                Some(Expr::BooleanLiteral(b)) if !b.value => Returned::Falsy,
                Some(Expr::NumberLiteral(n)) if matches!(&n.value, ast::Number::Int(i) if *i == ast::Int::ZERO) => {
                    Returned::Falsy
                }
                Some(Expr::Attribute(attribute)) if is_receiver(&attribute.value) => {
                    Returned::SelfAttribute(intern(attribute.attr.as_str()))
                }
                Some(_) => Returned::Other,
            };
            self.facts.method_returns.push(MethodReturn {
                function,
                start: ret.range.start().to_u32(),
                value,
            });
        }
    }

    /// What [`Extractor::visit_finally`] needs of the state on entering a `try`.
    fn on_entering_try(&self) -> EnteredTry {
        EnteredTry {
            yielded: self.function_scope().is_some_and(|f| f.yielded),
            exited_early: self.after_early_exit,
        }
    }

    /// A `finally` block runs whenever its `try` was entered: after a `return` or an exception
    /// in the `try`, and when the consumer of a generator stops at a `yield` inside it (closing
    /// the generator runs it). So its changes are conditional only as the `try` itself was.
    fn visit_finally(&mut self, finalbody: &[Stmt], entered: EnteredTry) {
        if finalbody.is_empty() {
            return;
        }
        let yielded_in_try = self.set_yielded(entered.yielded);
        let exited_in_try = std::mem::replace(&mut self.after_early_exit, entered.exited_early);
        self.visit_block(finalbody);
        self.after_early_exit |= exited_in_try;
        let yielded_in_finally = self.function_scope().is_some_and(|f| f.yielded);
        self.set_yielded(yielded_in_try || yielded_in_finally);
    }

    /// Sets whether the current function has yielded; returns what it was.
    fn set_yielded(&mut self, yielded: bool) -> bool {
        self.function_scope_mut()
            .map(|f| std::mem::replace(&mut f.yielded, yielded))
            .unwrap_or(false)
    }

    /// Walks a body that some runs skip or leave early (see [`blocks`]).
    fn visit_block(&mut self, body: &[Stmt]) {
        self.blocks.open();
        for inner in body {
            self.visit_stmt(inner);
        }
        self.blocks.close();
    }

    fn visit_function_stmt(&mut self, stmt: &Stmt) {
        self.reach_stmt(stmt);
        if matches!(stmt, Stmt::Return(_) | Stmt::Raise(_)) && self.conditional_blocks > 0 {
            self.after_early_exit = true;
        }
        match stmt {
            Stmt::If(if_stmt) => self.visit_if(if_stmt),
            Stmt::Try(try_stmt) if try_stmt.body.iter().any(|s| matches!(s, Stmt::Return(_))) => {
                let entered = self.on_entering_try();
                self.visit_block(&try_stmt.body);
                for handler in &try_stmt.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    self.rebinds.except_handler(handler);
                    if let Some(type_) = &h.type_ {
                        self.rebinds.walk_expr(type_, self.depth);
                    }
                    let once = catches_missing_attribute(h);
                    self.once_blocks += u32::from(once);
                    self.conditional_blocks += 1;
                    self.visit_block(&h.body);
                    self.conditional_blocks -= 1;
                    self.once_blocks -= u32::from(once);
                }
                self.visit_block(&try_stmt.orelse);
                self.visit_finally(&try_stmt.finalbody, entered);
            }
            Stmt::Try(try_stmt) => {
                let entered = self.on_entering_try();
                self.visit_block(&try_stmt.body);
                for handler in &try_stmt.handlers {
                    self.visit_except_handler(handler);
                }
                self.visit_block(&try_stmt.orelse);
                self.visit_finally(&try_stmt.finalbody, entered);
            }
            Stmt::Return(ret) => {
                if let Some(function) = self.current_function() {
                    let facts = &mut self.facts.functions[function as usize];
                    match ret.value.as_deref() {
                        Some(Expr::Name(name)) => {
                            if !facts.returned_names.iter().any(|n| n == name.id.as_str()) {
                                facts.returned_names.push(intern(name.id.as_str()));
                            }
                        }
                        _ => facts.returns_other = true,
                    }
                }
                self.record_returned(ret.value.as_deref(), ret.range, false);
                let before = self.returned_lambda.take();
                if let Some(Expr::Lambda(lambda)) = ret.value.as_deref() {
                    self.returned_lambda = Some(lambda.range.start().to_u32());
                }
                visitor::walk_stmt(self, stmt);
                self.returned_lambda = before;
            }
            Stmt::Assign(assign) => {
                // Kept apart from the rebinds: a proof that a global holds the serving loop
                // reads them (`project/callgraph/serving_loop.rs`).
                if let Some((target, callee)) = loop_guards::running_loop_store(assign) {
                    self.rebinds.skip_attribute(target.range.start().to_u32());
                    self.facts.running_loop_stores.push(RunningLoopStore {
                        function: self.current_function(),
                        target: loop_guards::store_target(target),
                        callee,
                        start: assign.range.start().to_u32(),
                        every_run: false,
                        in_generator: false,
                    });
                }
                self.visit_expr(&assign.value);
                for target in &assign.targets {
                    self.visit_target_parts(target);
                    self.assign_target(target, Some(&assign.value));
                }
                self.rebinds.assign_targets(&assign.targets, self.depth);
                self.note_first_time_local(assign);
            }
            Stmt::AnnAssign(assign) => {
                self.rebinds.annotated_target(assign, self.depth);
                if let Some(value) = &assign.value {
                    self.visit_expr(value);
                    self.visit_target_parts(&assign.target);
                    self.assign_target(&assign.target, Some(value));
                }
            }
            Stmt::AugAssign(assign) => {
                self.visit_expr(&assign.value);
                self.visit_target_parts(&assign.target);
                self.rebinds.walk_expr(&assign.target, self.depth);
                match &*assign.target {
                    Expr::Subscript(sub) => {
                        self.record_mutation(
                            &sub.value,
                            MutationKind::ItemAugAssign,
                            sub.range,
                            false,
                        );
                    }
                    target @ (Expr::Attribute(_) | Expr::Name(_)) => {
                        let operator = build_name(|out| {
                            out.push_str(assign.op.as_str());
                            out.push('=');
                            Some(())
                        })
                        .unwrap_or_default();
                        self.record_mutation(
                            target,
                            MutationKind::InPlaceOperator(operator),
                            assign.range,
                            false,
                        );
                        if let Expr::Name(local) = target
                            && let Some(scope) = self.function_scope()
                            && scope
                                .aliases
                                .get_text(local.id.as_str())
                                .is_some_and(|alias| alias.direct)
                        {
                            self.pending_local_operators
                                .push((assign.range.start().to_u32(), intern(local.id.as_str())));
                        }
                        if let Expr::Attribute(attribute) = target
                            && let Some(function) = self.current_function()
                            && let Some(resolved) = self.resolve(&attribute.value, true)
                            && !resolved.nested
                        {
                            self.note_if_conditional(attribute.range.start().to_u32());
                            self.facts.attribute_assignments.push(AttributeAssignment {
                                function,
                                object: resolved.path,
                                attr: intern(attribute.attr.as_str()),
                                value: Value::Other,
                                span: span(attribute.range),
                            });
                        }
                    }
                    _ => {}
                }
            }
            Stmt::Delete(delete) => {
                for target in &delete.targets {
                    self.visit_target_parts(target);
                    self.rebinds.walk_expr(target, self.depth);
                    match target {
                        Expr::Subscript(sub) => self.record_mutation(
                            &sub.value,
                            MutationKind::ItemDelete,
                            sub.range,
                            false,
                        ),
                        Expr::Attribute(attribute) => {
                            let kind =
                                MutationKind::AttributeDelete(intern(attribute.attr.as_str()));
                            if let Some(resolved) = self.resolve(&attribute.value, true)
                                && (!resolved.path.attrs.is_empty() || resolved.nested)
                            {
                                self.record_mutation(
                                    &attribute.value,
                                    kind,
                                    attribute.range,
                                    false,
                                );
                            }
                        }
                        _ => {}
                    }
                }
            }
            Stmt::For(for_stmt) => {
                self.record_instance_copies(for_stmt);
                self.visit_expr(&for_stmt.iter);
                self.assign_target(&for_stmt.target, None);
                self.rebinds.walk_expr(&for_stmt.target, self.depth);
                let instance_names = match self.current_function() {
                    Some(function) if self.iterates_instance_names(&for_stmt.iter) => {
                        let mut names = Vec::new();
                        target_names(&for_stmt.target, &mut names);
                        self.instance_name_loops.push((function, names));
                        true
                    }
                    _ => false,
                };
                // The `else` too: a `break` skips it.
                self.conditional_blocks += 1;
                let iterated = self.iterated_local(&for_stmt.iter);
                let mutations_before = self.facts.mutations.len();
                self.enter_loop_body(true);
                self.visit_block(&for_stmt.body);
                self.enter_loop_body(false);
                if let (Some(name), Some(function)) = (iterated, self.current_function()) {
                    let changed: Vec<u32> = self.facts.mutations[mutations_before..]
                        .iter()
                        .filter(|m| m.function == function && m.target.root == Root::Local(name))
                        .map(|m| m.span.start)
                        .collect();
                    self.facts.changed_while_iterated.extend(changed);
                }
                if instance_names {
                    self.instance_name_loops.pop();
                }
                self.visit_block(&for_stmt.orelse);
                self.conditional_blocks -= 1;
            }
            Stmt::While(while_stmt) => {
                self.visit_expr(&while_stmt.test);
                self.conditional_blocks += 1;
                self.enter_loop_body(true);
                self.visit_block(&while_stmt.body);
                self.enter_loop_body(false);
                self.visit_block(&while_stmt.orelse);
                self.conditional_blocks -= 1;
            }
            Stmt::With(with) => {
                for item in &with.items {
                    self.visit_expr(&item.context_expr);
                    if let Some(vars) = &item.optional_vars {
                        self.assign_target(vars, None);
                        self.rebinds.walk_expr(vars, self.depth);
                    }
                }
                for s in &with.body {
                    self.visit_stmt(s);
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    /// Visits the expressions inside an assignment target (`self.x[key()]`), but not the target.
    fn visit_target_parts(&mut self, target: &Expr) {
        match target {
            Expr::Subscript(sub) => {
                self.visit_target_parts(&sub.value);
                self.visit_expr(&sub.slice);
            }
            Expr::Attribute(attribute) => self.visit_target_parts(&attribute.value),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.visit_target_parts(e)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.visit_target_parts(e)),
            Expr::Starred(s) => self.visit_target_parts(&s.value),
            Expr::Name(_) => {}
            other => self.visit_expr(other),
        }
    }

    /// Whether a callee as written may be a function that mutates its first argument: its name is
    /// one, or it is imported under another name from one. The link confirms it. Asked of every
    /// call, so it looks at the last name of the callee without building the dotted whole.
    fn may_be_mutating_function(&self, func: &Expr) -> bool {
        match func {
            Expr::Name(name) => {
                knowledge::is_mutating_function_last(name.id.as_str())
                    || self.mutating_imports.contains_text(name.id.as_str())
            }
            Expr::Attribute(attribute) => {
                knowledge::is_mutating_function_last(attribute.attr.as_str())
            }
            _ => false,
        }
    }

    /// `for name in NAMES: setattr(self, name, copy(getattr(self, name)))`: each instance gets
    /// its own copy of every attribute `NAMES` (a literal, or a module- or class-level literal of
    /// this file) lists.
    fn record_instance_copies(&mut self, for_stmt: &ast::StmtFor) {
        let (Some(function), Some(self_name), Expr::Name(variable)) = (
            self.current_function(),
            self.function_scope().and_then(|f| f.self_name),
            &*for_stmt.target,
        ) else {
            return;
        };
        let names = match &*for_stmt.iter {
            Expr::Name(list) => self.string_lists.get_text(list.id.as_str()).cloned(),
            Expr::Attribute(list) => self.string_lists.get_text(list.attr.as_str()).cloned(),
            other => literal_strings(other),
        };
        let Some(names) = names else {
            return;
        };
        let is_name =
            |expr: &Expr, wanted: &str| matches!(expr, Expr::Name(n) if n.id.as_str() == wanted);
        let copies_each = for_stmt.body.iter().any(|stmt| {
            let Stmt::Expr(expr) = stmt else { return false };
            let Expr::Call(set) = &*expr.value else { return false };
            let [object, name, value] = &set.arguments.args[..] else { return false };
            let Expr::Call(copy) = value else { return false };
            let [Expr::Call(get)] = &copy.arguments.args[..] else { return false };
            is_name(&set.func, "setattr")
                && is_name(object, &self_name)
                && is_name(name, variable.id.as_str())
                && dotted_name(&copy.func).is_some_and(|f| knowledge::is_copy_function(&f))
                && is_name(&get.func, "getattr")
                && matches!(&get.arguments.args[..], [o, n] if is_name(o, &self_name) && is_name(n, variable.id.as_str()))
        });
        if copies_each {
            let at = span(for_stmt.range);
            self.facts
                .instance_copies
                .extend(names.into_iter().map(|attr| InstanceCopy {
                    function,
                    attr,
                    span: at,
                }));
        }
    }

    /// Whether a loop over `iterable` takes names from the instance's own state: `iterable` is
    /// read from the instance (`self.states.items()`, `dir(self)`, `vars(type(self))`,
    /// `sorted(self.__dict__)`), and is not an attribute named like a literal list of strings
    /// bound at module or class level in this file (`self.from_options`, whose names are
    /// spelled out: not any name).
    fn iterates_instance_names(&self, iterable: &Expr) -> bool {
        let Some(self_name) = self.function_scope().and_then(|f| f.self_name) else {
            return false;
        };
        let mut current = iterable;
        loop {
            match current {
                Expr::Name(name) => return name.id.as_str() == self_name.as_str(),
                Expr::Attribute(attribute) => {
                    if self.string_lists.contains_text(attribute.attr.as_str()) {
                        return false;
                    }
                    current = &attribute.value;
                }
                Expr::Call(call) => {
                    let [argument] = &call.arguments.args[..] else {
                        // `self.states.items()`: the receiver's keys, values or items.
                        match &*call.func {
                            Expr::Attribute(method)
                                if call.arguments.is_empty()
                                    && matches!(
                                        method.attr.as_str(),
                                        "items" | "keys" | "values" | "copy"
                                    ) =>
                            {
                                current = &method.value;
                                continue;
                            }
                            _ => return false,
                        }
                    };
                    let wraps = matches!(&*call.func, Expr::Name(f) if matches!(
                        f.id.as_str(),
                        "dir" | "vars" | "type" | "sorted" | "list" | "tuple" | "reversed" | "iter"
                    ));
                    if !wraps || !call.arguments.keywords.is_empty() {
                        return false;
                    }
                    current = argument;
                }
                _ => return false,
            }
        }
    }

    /// `setattr(obj, name, value)`, and calls that hand the class to another function.
    fn record_class_handling(&mut self, call: &ast::ExprCall) {
        let args = &call.arguments.args;
        let Some(function) = self.current_function() else {
            // Outside functions only the attribute a `setattr` stores is kept.
            if matches!(&*call.func, Expr::Name(f) if f.id.as_str() == "setattr")
                && let Some(Expr::StringLiteral(name)) = args.get(1)
            {
                self.facts
                    .outer_attribute_stores
                    .push(intern(literal_text(&name.value)));
            }
            return;
        };
        if matches!(&*call.func, Expr::Name(f) if f.id.as_str() == "setattr")
            && self.receiver_named("setattr") == CallReceiver::Name
            && args.len() == 3
        {
            if self
                .unreached_setattrs
                .contains(&call.range().start().to_u32())
            {
                return;
            }
            if let Some(object) = self.resolve(&args[0], true)
                && !object.nested
            {
                let name = match &args[1] {
                    Expr::StringLiteral(s) => Some(intern(literal_text(&s.value))),
                    _ => None,
                };
                if self.once_blocks > 0 {
                    self.facts.lazy_inits.push(call.range().start().to_u32());
                }
                self.note_if_conditional(call.range().start().to_u32());
                if let Expr::Name(variable) = &args[1]
                    && object.path == AccessPath::new(Root::SelfParam)
                    && self.instance_name_loops.iter().any(|(f, names)| {
                        *f == function && names.iter().any(|n| n == variable.id.as_str())
                    })
                {
                    self.facts
                        .instance_named_setattrs
                        .push(call.range().start().to_u32());
                }
                self.facts.setattr_calls.push(SetattrCall {
                    function,
                    object: object.path,
                    name,
                    span: span(call.range()),
                });
            }
            return;
        }
        for (position, arg) in args.iter().enumerate() {
            // Only these can denote the class itself (see `resolve`); resolving every argument of
            // every call built a path for each.
            let may_be_class = match arg {
                Expr::Name(_) | Expr::Call(_) => true,
                Expr::Attribute(attribute) => attribute.attr.as_str() == "__class__",
                _ => false,
            };
            if may_be_class
                && let Some(resolved) = self.resolve(arg, false)
                && !resolved.nested
                && resolved.path == AccessPath::new(Root::Class)
            {
                // The callee as written; a callee that is not a dotted name is not recorded.
                let Some(callee) = dotted_name(&call.func) else {
                    return;
                };
                // Handing the class over is told "on every call" only where it is.
                self.note_if_conditional(call.range().start().to_u32());
                self.facts.class_arguments.push(ClassArgument {
                    function,
                    callee,
                    position: position as u32,
                    span: span(call.range()),
                });
            }
        }
    }

    /// A call inside a function: a mutating method or a function that mutates its argument.
    fn visit_call(&mut self, call: &ast::ExprCall) {
        self.record_argument_uses(call);
        self.record_item_arguments(call);
        self.record_cache_clear(call);
        match &*call.func {
            // `x.update()` given nothing is recorded too: it changes no builtin dict, set or
            // Counter, but `x` may be a subclass of one whose own `update` writes, which only
            // the model, knowing what `x` may be, could rule out.
            Expr::Attribute(method) if knowledge::is_mutating_method(method.attr.as_str()) => {
                self.record_mutation(
                    &method.value,
                    MutationKind::Method(intern(method.attr.as_str())),
                    call.range(),
                    false,
                );
                if let Expr::Name(receiver) = &*method.value
                    && self
                        .facts
                        .mutations
                        .last()
                        .is_some_and(|m| m.span.start == call.range().start().to_u32())
                    && needs_entries::raises_when_empty_first(receiver.id.as_str(), call)
                {
                    self.facts
                        .changed_only_with_entries
                        .push(call.range().start().to_u32());
                }
            }
            func => {
                self.record_class_handling(call);
                if let Some(first) = call.arguments.args.first()
                    && self.current_function().is_some()
                    && self.may_be_mutating_function(func)
                    && let Some(callee) = dotted_name(func)
                {
                    self.record_mutation(
                        first,
                        MutationKind::MutatingCall(callee),
                        call.range(),
                        false,
                    );
                }
            }
        }
    }
}

/// The strings of a tuple or list display that holds only string literals.
fn literal_strings(expr: &Expr) -> Option<Vec<Name>> {
    let elements = match expr {
        Expr::Tuple(t) => &t.elts,
        Expr::List(l) => &l.elts,
        _ => return None,
    };
    elements
        .iter()
        .map(|e| match e {
            Expr::StringLiteral(s) => Some(intern(literal_text(&s.value))),
            _ => None,
        })
        .collect()
}

/// The aliases after an `if` whose branches that fall through end with `states`: a local may
/// hold what any of them took. A local takes one alias at a time, so of two different ones the
/// one bound later in the text is kept, as a walk in order would keep it. `None` without states
/// (no branch falls through: nothing runs after the `if`).
fn merge_branch_aliases(
    states: impl IntoIterator<Item = HashMap<Name, LocalAlias>>,
) -> Option<HashMap<Name, LocalAlias>> {
    let mut states = states.into_iter();
    let mut merged = states.next()?;
    for state in states {
        for (name, alias) in state {
            match merged.entry(name) {
                std::collections::hash_map::Entry::Occupied(mut kept) => {
                    if alias.bound_at > kept.get().bound_at {
                        kept.insert(alias);
                    }
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(alias);
                }
            }
        }
    }
    Some(merged)
}

/// Whether control never runs past this statement to the next one: a jump, or a `try` whose body
/// and every handler end in one (`try: return f() / except E: raise Other`).
fn leaves_block(stmt: &Stmt) -> bool {
    let ends_in_jump = |body: &[Stmt]| body.last().is_some_and(leaves_block);
    match stmt {
        Stmt::Return(_) | Stmt::Raise(_) | Stmt::Continue(_) | Stmt::Break(_) => true,
        Stmt::Try(try_stmt) => {
            ends_in_jump(&try_stmt.body)
                && try_stmt.handlers.iter().all(|handler| match handler {
                    ast::ExceptHandler::ExceptHandler(handler) => ends_in_jump(&handler.body),
                })
        }
        _ => false,
    }
}

/// `isinstance(name, T)` or `isinstance(name, (T1, T2))`: the name and the types as written.
impl Extractor {
    /// `if not isinstance(G, T): G = [str(G)]` for a module global `G`: the rebinds directly in
    /// `body` that make a new `T` from `G` and constants ([`FileFacts::type_normalisations`]).
    fn note_type_normalisations(&mut self, test: &Expr, body: &[Stmt]) {
        let Expr::UnaryOp(negated) = test else {
            return;
        };
        if negated.op != ast::UnaryOp::Not || self.current_function().is_none() {
            return;
        }
        let Some((global, types)) = isinstance_guard(&negated.operand) else {
            return;
        };
        let [type_name] = types.as_slice() else {
            return;
        };
        for stmt in body {
            let Stmt::Assign(assign) = stmt else {
                continue;
            };
            let [Expr::Name(target)] = assign.targets.as_slice() else {
                continue;
            };
            if target.id.as_str() == global.as_str()
                && self.name_node_here(target).0 == CallReceiver::Name
                && makes_new(&assign.value, type_name, &global)
            {
                self.facts
                    .type_normalisations
                    .push((target.range().start().to_u32(), *type_name));
            }
        }
    }
}

/// Whether `value` makes a new `type_name` (a display of that builtin kind, or a call of the
/// type) that reads nothing but `global` and constants.
fn makes_new(value: &Expr, type_name: &str, global: &str) -> bool {
    let made = match value {
        Expr::List(_) => type_name == "list",
        Expr::Dict(_) => type_name == "dict",
        Expr::Set(_) => type_name == "set",
        Expr::Call(call) => dotted_name(&call.func).is_some_and(|c| c == type_name),
        _ => false,
    };
    made && reads_only(value, global, type_name, 0)
}

/// Builtins that make a value from their arguments alone, which a new value may call on the
/// global's parts (`[str(G)]`).
const CONVERTING_BUILTINS: &[&str] = &[
    "str",
    "int",
    "float",
    "bool",
    "bytes",
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
    "sorted",
    "repr",
];

/// Whether `expr` reads no name but `global` (and `type_name` or a converting builtin, called):
/// what it gives depends on the global and constants alone, nothing of a call.
fn reads_only(expr: &Expr, global: &str, type_name: &str, depth: u32) -> bool {
    if depth > MAX_WALK_DEPTH {
        return false;
    }
    let depth = depth + 1;
    let all = |exprs: &mut dyn Iterator<Item = &Expr>| {
        for e in exprs {
            if !reads_only(e, global, type_name, depth) {
                return false;
            }
        }
        true
    };
    match expr {
        Expr::Name(name) => name.id.as_str() == global,
        literal if literal.is_literal_expr() => true,
        Expr::List(l) => all(&mut l.elts.iter()),
        Expr::Tuple(t) => all(&mut t.elts.iter()),
        Expr::Set(s) => all(&mut s.elts.iter()),
        Expr::Dict(d) => all(&mut d
            .items
            .iter()
            .flat_map(|item| item.key.iter().chain([&item.value]))),
        Expr::Starred(s) => reads_only(&s.value, global, type_name, depth),
        Expr::Attribute(a) => reads_only(&a.value, global, type_name, depth),
        Expr::Subscript(s) => all(&mut [&*s.value, &*s.slice].into_iter()),
        Expr::BinOp(b) => all(&mut [&*b.left, &*b.right].into_iter()),
        Expr::Call(call) => {
            let callee = match &*call.func {
                Expr::Name(f) => {
                    f.id.as_str() == type_name || CONVERTING_BUILTINS.contains(&f.id.as_str())
                }
                // A method of the global's value: `G.split(",")`.
                Expr::Attribute(method) => reads_only(&method.value, global, type_name, depth),
                _ => false,
            };
            callee
                && all(&mut call.arguments.args.iter())
                && all(&mut call.arguments.keywords.iter().map(|k| &k.value))
        }
        _ => false,
    }
}

fn isinstance_guard(test: &Expr) -> Option<(Name, Vec<Name>)> {
    let Expr::Call(call) = test else {
        return None;
    };
    let (Expr::Name(function), [Expr::Name(name), types]) =
        (&*call.func, call.arguments.args.as_ref())
    else {
        return None;
    };
    if function.id.as_str() != "isinstance" {
        return None;
    }
    let types = match types {
        Expr::Tuple(t) => t.elts.iter().map(dotted_name).collect::<Option<Vec<_>>>()?,
        other => vec![dotted_name(other)?],
    };
    Some((intern(name.id.as_str()), types))
}

/// `name is not X`, alone or as an operand of an `and`: each name with `X` as written (a
/// dotted name), which the branch's body knows `name` is not.
fn identity_exclusions(test: &Expr) -> Vec<(Name, Name)> {
    match test {
        Expr::BoolOp(op) if op.op == ast::BoolOp::And => {
            op.values.iter().flat_map(identity_exclusions).collect()
        }
        Expr::Compare(compare) => match (
            &*compare.left,
            compare.ops.as_ref(),
            compare.comparators.as_ref(),
        ) {
            (Expr::Name(name), [ast::CmpOp::IsNot], [other]) => dotted_name(other)
                .map(|other| vec![(name.id.as_str().into(), other)])
                .unwrap_or_default(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The attributes of names an `if` test requires to equal one of some literals, alone or as
/// operands of an `and`: `name.attr == L` (or `L == name.attr`), `name.attr is L`, `name.attr in
/// (L1, L2)` (a tuple, list or set display of literals), each with the name, the attribute and
/// the literals that pass ([`comparable_literal`]: any other operand gives nothing).
fn attribute_literal_tests(test: &Expr) -> Vec<(Name, Name, ThinVec<Literal>)> {
    let tested = |expr: &Expr| match expr {
        Expr::Attribute(attribute) => match &*attribute.value {
            Expr::Name(name) => Some((intern(name.id.as_str()), intern(attribute.attr.as_str()))),
            _ => None,
        },
        _ => None,
    };
    match test {
        Expr::BoolOp(op) if op.op == ast::BoolOp::And => {
            op.values.iter().flat_map(attribute_literal_tests).collect()
        }
        Expr::Compare(compare) => {
            let (left, [op], [right]) = (
                &*compare.left,
                compare.ops.as_ref(),
                compare.comparators.as_ref(),
            ) else {
                return Vec::new();
            };
            let found = match op {
                ast::CmpOp::Eq | ast::CmpOp::Is => tested(left)
                    .zip(comparable_literal(right))
                    .or_else(|| tested(right).zip(comparable_literal(left)))
                    .map(|(tested, literal)| (tested, ThinVec::from([literal]))),
                ast::CmpOp::In => {
                    let elements = match right {
                        Expr::Tuple(t) => &t.elts,
                        Expr::List(l) => &l.elts,
                        Expr::Set(s) => &s.elts,
                        _ => return Vec::new(),
                    };
                    let literals: Option<ThinVec<Literal>> =
                        elements.iter().map(comparable_literal).collect();
                    tested(left).zip(literals)
                }
                _ => None,
            };
            found
                .map(|((name, attr), literals)| vec![(name, attr, literals)])
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

/// What `==` compares a literal expression by: `None`, an integer (`True` as `1`), or a string
/// of at most 64 bytes (longer ones are not worth keeping). Floats, bytes and negative numbers
/// (a unary operation) give nothing.
fn comparable_literal(expr: &Expr) -> Option<Literal> {
    match expr {
        Expr::NoneLiteral(_) => Some(Literal::None),
        Expr::BooleanLiteral(b) => Some(Literal::Int(i64::from(b.value))),
        Expr::NumberLiteral(n) => match &n.value {
            ast::Number::Int(i) => i.as_i64().map(Literal::Int),
            _ => None,
        },
        Expr::StringLiteral(s) => {
            let text = literal_text(&s.value);
            (text.len() <= 64).then(|| Literal::Str(intern(text)))
        }
        _ => None,
    }
}

/// The names and attributes of names (`self.x`) an `if` test requires not to be `None` (`name is
/// not None`) or to be true (`name`), alone or as operands of an `and`: each with whether the
/// test is of truth.
fn param_exclusions(test: &Expr) -> Vec<(&Expr, bool)> {
    let read = |expr: &Expr| match expr {
        Expr::Name(_) => true,
        Expr::Attribute(attribute) => matches!(&*attribute.value, Expr::Name(_)),
        _ => false,
    };
    match test {
        Expr::BoolOp(op) if op.op == ast::BoolOp::And => {
            op.values.iter().flat_map(param_exclusions).collect()
        }
        tested if read(tested) => vec![(tested, true)],
        Expr::Compare(compare) => match (
            &*compare.left,
            compare.ops.as_ref(),
            compare.comparators.as_ref(),
        ) {
            (tested, [ast::CmpOp::IsNot], [Expr::NoneLiteral(_)]) if read(tested) => {
                vec![(tested, false)]
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The names `body` binds other than by the statements [`collect_bindings`] reads, its nested
/// scopes included: walrus targets, `match` captures, `type` aliases and `nonlocal` names.
fn names_bound_by_expressions(body: &[Stmt]) -> Vec<&str> {
    struct Bound<'a>(Vec<&'a str>);
    impl<'a> Visitor<'a> for Bound<'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Nonlocal(n) => self.0.extend(n.names.iter().map(|n| n.as_str())),
                Stmt::TypeAlias(alias) => {
                    if let Expr::Name(name) = &*alias.name {
                        self.0.push(name.id.as_str());
                    }
                }
                _ => {}
            }
            visitor::walk_stmt(self, stmt);
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Named(named) = expr
                && let Expr::Name(name) = &*named.target
            {
                self.0.push(name.id.as_str());
            }
            visitor::walk_expr(self, expr);
        }
        fn visit_pattern(&mut self, pattern: &'a ast::Pattern) {
            let name = match pattern {
                ast::Pattern::MatchAs(p) => p.name.as_ref(),
                ast::Pattern::MatchStar(p) => p.name.as_ref(),
                ast::Pattern::MatchMapping(p) => p.rest.as_ref(),
                _ => None,
            };
            self.0.extend(name.map(|n| n.as_str()));
            visitor::walk_pattern(self, pattern);
        }
    }
    let mut bound = Bound(Vec::new());
    bound.visit_body(body);
    bound.0
}

/// The `if name is X:` statements among `body`'s own (not inside another block, where code
/// after the block could be reached without the test), with no `elif` or `else`, whose branch
/// ends in `return` or `raise`: `name`, `X` as written and where the code after the `if` starts.
fn identity_exits(body: &[Stmt]) -> impl Iterator<Item = (Name, Name, u32)> + '_ {
    body.iter().filter_map(|stmt| {
        let Stmt::If(if_stmt) = stmt else {
            return None;
        };
        if !if_stmt.elif_else_clauses.is_empty()
            || !matches!(if_stmt.body.last(), Some(Stmt::Return(_) | Stmt::Raise(_)))
        {
            return None;
        }
        let (name, other) = identity_test(&if_stmt.test)?;
        Some((name, other, if_stmt.range.end().to_u32()))
    })
}

/// `name is X`: `name` and `X` as written.
fn identity_test(test: &Expr) -> Option<(Name, Name)> {
    let Expr::Compare(compare) = test else {
        return None;
    };
    let (Expr::Name(name), [ast::CmpOp::Is], [other]) = (
        &*compare.left,
        compare.ops.as_ref(),
        compare.comparators.as_ref(),
    ) else {
        return None;
    };
    Some((intern(name.id.as_str()), dotted_name(other)?))
}

/// The `if name is X:` statements anywhere in `body` (not in nested functions or classes) whose
/// branch ends in `return` or `raise` and that go on with `elif` or `else` clauses: those run
/// only when `name` is not `X` (supervisor's `if default is _marker: raise` / `else: optval =
/// default`). Each as `name`, `X` as written, and where the clauses start and end.
fn identity_else_clauses(body: &[Stmt], out: &mut Vec<(Name, Name, u32, u32)>) {
    for stmt in body {
        match stmt {
            Stmt::If(if_stmt) => {
                if let (Some(first), Some(last)) = (
                    if_stmt.elif_else_clauses.first(),
                    if_stmt.elif_else_clauses.last(),
                ) && matches!(if_stmt.body.last(), Some(Stmt::Return(_) | Stmt::Raise(_)))
                    && let Some((name, other)) = identity_test(&if_stmt.test)
                {
                    out.push((
                        name,
                        other,
                        first.range.start().to_u32(),
                        last.range.end().to_u32(),
                    ));
                }
                identity_else_clauses(&if_stmt.body, out);
                for clause in &if_stmt.elif_else_clauses {
                    identity_else_clauses(&clause.body, out);
                }
            }
            Stmt::For(s) => {
                identity_else_clauses(&s.body, out);
                identity_else_clauses(&s.orelse, out);
            }
            Stmt::While(s) => {
                identity_else_clauses(&s.body, out);
                identity_else_clauses(&s.orelse, out);
            }
            Stmt::With(s) => identity_else_clauses(&s.body, out),
            Stmt::Try(s) => {
                identity_else_clauses(&s.body, out);
                for handler in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(handler) = handler;
                    identity_else_clauses(&handler.body, out);
                }
                identity_else_clauses(&s.orelse, out);
                identity_else_clauses(&s.finalbody, out);
            }
            Stmt::Match(s) => {
                for case in &s.cases {
                    identity_else_clauses(&case.body, out);
                }
            }
            _ => {}
        }
    }
}

/// `except AttributeError:` (alone or in a tuple).
fn catches_missing_attribute(handler: &ast::ExceptHandlerExceptHandler) -> bool {
    let Some(kind) = &handler.type_ else {
        return false;
    };
    let names: Vec<&Expr> = match &**kind {
        Expr::Tuple(t) => t.elts.iter().collect(),
        other => vec![other],
    };
    names
        .iter()
        .any(|n| matches!(n, Expr::Name(name) if name.id.as_str() == "AttributeError"))
}

impl Extractor {
    /// Notes entering (`true`) or leaving a loop's body in the current function.
    fn enter_loop_body(&mut self, entering: bool) {
        if let Some(scope) = self.function_scope_mut() {
            if entering {
                scope.loops += 1;
            } else {
                scope.loops -= 1;
            }
        }
    }

    /// An `if` inside a function: the body of a first-time test is a once block, and what a
    /// branch under `isinstance(name, T)` changes in `name` is noted with the types.
    fn visit_if(&mut self, if_stmt: &ast::StmtIf) {
        let set_after = self.flag_set_after.take();
        let fills_read = std::mem::take(&mut self.fills_read_attribute);
        let first_time = self.tests_first_time(&if_stmt.test, 0)
            || marks_itself_done(&if_stmt.test, &if_stmt.body)
            || fills_read;
        let branches = std::iter::once((Some(&*if_stmt.test), &if_stmt.body)).chain(
            if_stmt
                .elif_else_clauses
                .iter()
                .map(|c| (c.test.as_ref(), &c.body)),
        );
        let in_loop = self.function_scope().is_some_and(|f| f.loops > 0);
        let has_else = if_stmt
            .elif_else_clauses
            .last()
            .is_some_and(|clause| clause.test.is_none());
        let mut falling_through = Vec::new();
        for (index, (test, body)) in branches.enumerate() {
            if let Some(test) = test {
                self.visit_expr(test);
            }
            // Each branch starts from the aliases the tests before it leave: the branches
            // exclude each other, so what one takes does not reach another's statements.
            let at_test = self.function_scope().map(|f| f.aliases.clone());
            if index == 0
                && let Some(Expr::Call(call)) = test
                && let Expr::Attribute(method) = &*call.func
                && let Expr::Name(receiver) = &*method.value
                && let (Some(first), Some(last)) = (body.first(), body.last())
                && let Some(function) = self.current_function()
                && self.function_scope().and_then(|f| f.self_name.as_deref())
                    == Some(receiver.id.as_str())
            {
                self.facts.self_call_guards.push(SelfCallGuard {
                    function,
                    method: intern(method.attr.as_str()),
                    body: Span {
                        start: first.range().start().to_u32(),
                        end: last.range().end().to_u32(),
                    },
                });
            }
            let once = u32::from(index == 0 && first_time);
            let guard = test.and_then(isinstance_guard);
            if let Some(test) = test {
                self.note_type_normalisations(test, body);
            }
            let identity = test.map(identity_exclusions).unwrap_or_default();
            let param_tests = test.map(param_exclusions).unwrap_or_default();
            let literal_tests = test.map(attribute_literal_tests).unwrap_or_default();
            // A tested name that holds a parameter (`colours = colors`): its changes in the
            // branch go through that alias, and are recorded against the parameter.
            let tested_aliases: Vec<(Name, Span)> = match &at_test {
                Some(aliases) if !aliases.is_empty() => identity
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .chain(
                        param_tests
                            .iter()
                            .filter_map(|(tested, truth)| match tested {
                                Expr::Name(name) if *truth => Some(name.id.as_str()),
                                _ => None,
                            }),
                    )
                    .filter_map(|name| {
                        let alias = aliases.get_text(name)?;
                        (alias.path.attrs.is_empty() && !alias.nested)
                            .then(|| (intern(name), alias.span))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let before = self.facts.mutations.len();
            let uses_before = self.facts.param_uses.len();
            let assignments_before = self.facts.attribute_assignments.len();
            // Aliases of a parameter the branch takes (from `exit` below), when its test excludes
            // something: the parameter and where the alias read it.
            let mut taken_under_identity: Vec<(Name, u32)> = Vec::new();
            let body_range = match (body.first(), body.last()) {
                (Some(first), Some(last)) => {
                    first.range().start().to_u32()..last.range().end().to_u32()
                }
                _ => 0..0,
            };
            // A parameter with a shared default that takes an alias may keep its own default
            // instead, which the alias does not follow: its alias stays unexcluded.
            let defaulted_params: Vec<Name> = match self.function_scope() {
                Some(scope) if !identity.is_empty() => self.facts.functions[scope.idx as usize]
                    .params
                    .iter()
                    .filter(|p| uses::has_shared_default(p))
                    .map(|p| p.name)
                    .collect(),
                _ => Vec::new(),
            };
            self.once_blocks += once;
            let truth_tests = match test {
                Some(test) => self.push_truth_tests(test),
                _ => 0,
            };
            let flag = test
                .filter(|_| once > 0)
                .and_then(|test| self.first_time_flag(test));
            let flagged = flag.is_some();
            if let Some(flag) = flag {
                let set_in_block = sets_flag(body, &flag) || set_after == Some(flag);
                self.first_time_flags.push((flag, set_in_block));
            }
            let unset_test = test
                .filter(|_| index == 0)
                .and_then(whole_unset_test)
                .map(intern);
            let tests_unset = unset_test.is_some();
            self.unset_tests.extend(unset_test);
            self.conditional_blocks += 1;
            self.visit_block(body);
            self.conditional_blocks -= 1;
            if tests_unset {
                self.unset_tests.pop();
            }
            if flagged {
                self.first_time_flags.pop();
            }
            self.pop_truth_tests(truth_tests);
            self.once_blocks -= once;
            if let Some(at_test) = at_test
                && let Some(scope) = self.function_scope_mut()
            {
                let exit = std::mem::replace(&mut scope.aliases, at_test);
                if !identity.is_empty() {
                    taken_under_identity = exit
                        .iter()
                        .filter(|(local, alias)| {
                            alias.path.attrs.is_empty()
                                && !alias.nested
                                && body_range.contains(&alias.span.start)
                                && !defaulted_params.contains(*local)
                        })
                        .filter_map(|(_, alias)| match &alias.path.root {
                            Root::Local(param) => Some((*param, alias.span.start)),
                            _ => None,
                        })
                        .collect();
                }
                // A branch that leaves the block at its end (`return`, `raise`, ...) hands none
                // of the aliases it takes to the code after the `if`.
                if !body.last().is_some_and(leaves_block) {
                    if in_loop {
                        // A later iteration may run another branch with what this one took.
                        let at_test = std::mem::take(&mut scope.aliases);
                        scope.aliases =
                            merge_branch_aliases([at_test, exit.clone()]).unwrap_or_default();
                    }
                    falling_through.push(exit);
                }
            }
            // Names the test requires to be true (`if view and ...:`), when the branch changed
            // anything.
            let truth_tested: Vec<Name> = if self.facts.mutations.len() > before {
                param_tests
                    .iter()
                    .filter_map(|(tested, truth)| match tested {
                        Expr::Name(name) if *truth => Some(intern(name.id.as_str())),
                        _ => None,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            for (tested, truth) in param_tests {
                match tested {
                    Expr::Name(name) => {
                        self.note_param_guard(
                            intern(name.id.as_str()),
                            truth,
                            (before, uses_before, assignments_before),
                        );
                    }
                    Expr::Attribute(attribute) => {
                        self.note_self_attribute_guard(attribute, truth, before, assignments_before)
                    }
                    _ => {}
                }
            }
            let function = self.current_function();
            for (name, attr, literals) in literal_tests {
                let guarded: Vec<u32> = self.facts.mutations[before..]
                    .iter()
                    .filter(|m| Some(m.function) == function && m.target.root == Root::Local(name))
                    .map(|m| m.span.start)
                    .collect();
                self.facts
                    .literal_guarded
                    .extend(guarded.into_iter().map(|start| LiteralGuard {
                        start,
                        attr,
                        literals: literals.clone(),
                    }));
            }
            // The changes in the branch of the local `name` (or, when `name` held an alias of a
            // parameter at the test, of the object reached through that alias).
            let changes_of = |name: &Name, mutations: &[Mutation]| -> Vec<u32> {
                let through = tested_aliases
                    .iter()
                    .find(|(tested, _)| tested == name)
                    .map(|(_, alias)| *alias);
                mutations
                    .iter()
                    .filter(|m| {
                        m.target.root == Root::Local(*name)
                            || (through.is_some()
                                && m.alias == through
                                && Some(m.function) == function)
                    })
                    .map(|m| m.span.start)
                    .collect()
            };
            for (name, other) in identity {
                let guarded = changes_of(&name, &self.facts.mutations[before..]);
                for start in guarded {
                    self.facts.identity_guarded.push((start, other));
                }
                for (_, read) in taken_under_identity
                    .iter()
                    .filter(|(param, _)| *param == name)
                {
                    self.facts.identity_guarded.push((*read, other));
                }
            }
            for name in truth_tested {
                let guarded = changes_of(&name, &self.facts.mutations[before..]);
                self.facts.truth_guarded.extend(guarded);
            }
            if let Some((name, types)) = guard {
                let guarded: Vec<u32> = self.facts.mutations[before..]
                    .iter()
                    .filter(|m| m.target.root == Root::Local(name) && m.target.attrs.is_empty())
                    .map(|m| m.span.start)
                    .collect();
                for start in guarded {
                    self.facts.type_guarded.push((start, types.clone()));
                }
            }
        }
        if let Some(scope) = self.function_scope_mut() {
            // Without an `else`, no branch may run at all.
            if !has_else {
                falling_through.push(std::mem::take(&mut scope.aliases));
            }
            if let Some(merged) = merge_branch_aliases(falling_through) {
                scope.aliases = merged;
            }
        }
    }

    /// The changes of the current function's parameters (from `mutations_from` in the
    /// mutations), their first rebinds (from `uses_from` in the parameter uses) and the stores
    /// of attributes of module-level names (from `assignments_from` in the attribute
    /// assignments) just walked in a branch whose test requires the parameter `name` not to be
    /// `None` (or to be true): kept for [`FileFacts::param_guarded`] when `name` is a parameter
    /// bound nowhere else.
    fn note_param_guard(
        &mut self,
        name: Name,
        truth: bool,
        (mutations_from, uses_from, assignments_from): (usize, usize, usize),
    ) {
        let Some(scope) = self.function_scope() else {
            return;
        };
        let function = scope.idx;
        if scope.bound_twice.contains(&name) {
            return;
        }
        let params = &self.facts.functions[function as usize].params;
        let Some(index) = params.iter().position(|p| p.name == name) else {
            return;
        };
        let is_other_param =
            |local: &Name| *local != name && params.iter().any(|p| p.name == *local);
        let changes = self.facts.mutations[mutations_from..]
            .iter()
            .filter(|m| {
                m.function == function
                    && matches!(&m.target.root, Root::Local(local) if is_other_param(local))
            })
            .map(|m| m.span.start);
        let rebinds = self.facts.param_uses[uses_from..]
            .iter()
            .filter(|u| u.function == function && matches!(u.kind, ParamUseKind::Rebound))
            .map(|u| u.span.start);
        // `if invalidate: C.clients = {}`: a call that passes a false `invalidate` leaves the
        // shared class alone (SL103 follows such values along the calls from a request).
        let global_stores = self.facts.attribute_assignments[assignments_from..]
            .iter()
            .filter(|a| a.function == function && matches!(a.object.root, Root::Global(_)))
            .map(|a| a.span.start);
        let guards: Vec<ParamGuard> = changes
            .chain(rebinds)
            .chain(global_stores)
            .map(|start| ParamGuard {
                start,
                tested: Tested::Param {
                    index: index as u32,
                    positional: false,
                    keyword: false,
                },
                truth,
            })
            .collect();
        self.pending_param_guards.extend(guards);
    }

    /// The changes of attributes of `self` (assignments from `assignments_from` in the
    /// attribute assignments, changes of what they hold from `mutations_from` in the mutations)
    /// just walked, in the current method's own body, in a branch whose test requires
    /// `self.<attr>` (`tested`) not to be `None` (or to be true): kept for
    /// [`FileFacts::param_guarded`].
    fn note_self_attribute_guard(
        &mut self,
        tested: &ast::ExprAttribute,
        truth: bool,
        mutations_from: usize,
        assignments_from: usize,
    ) {
        let Some(scope) = self.function_scope() else {
            return;
        };
        let function = scope.idx;
        let Expr::Name(receiver) = &*tested.value else {
            return;
        };
        if scope
            .self_name
            .is_none_or(|name| name.as_str() != receiver.id.as_str())
        {
            return;
        }
        let on_self = |root: &Root| *root == Root::SelfParam;
        let assignments = self.facts.attribute_assignments[assignments_from..]
            .iter()
            .filter(|a| a.function == function && on_self(&a.object.root))
            .map(|a| a.span.start);
        let changes = self.facts.mutations[mutations_from..]
            .iter()
            .filter(|m| m.function == function && on_self(&m.target.root))
            .map(|m| m.span.start);
        let attr = intern(tested.attr.as_str());
        let guards: Vec<ParamGuard> = assignments
            .chain(changes)
            .map(|start| ParamGuard {
                start,
                tested: Tested::SelfAttribute(attr),
                truth,
            })
            .collect();
        self.facts.param_guarded.extend(guards);
    }

    /// Whether an `if` test holds only until shared state is first set: `not hasattr(C, "x")`,
    /// `self._x is None`, `not cls._x`, `_CACHE is None` for a global (alone or in an `or`).
    fn tests_first_time(&self, test: &Expr, depth: u32) -> bool {
        if depth > 8 {
            return false;
        }
        let shared = |expr: &Expr| match expr {
            Expr::Attribute(_) => true,
            Expr::Name(name) => self.is_global_name(name.id.as_str()),
            _ => false,
        };
        match test {
            Expr::Name(name) => self.first_time_local(name.id.as_str()).is_some(),
            Expr::UnaryOp(unary) if unary.op == ast::UnaryOp::Not => match &*unary.operand {
                Expr::Call(call) => {
                    matches!(&*call.func, Expr::Name(f) if f.id.as_str() == "hasattr")
                        && call.arguments.args.len() == 2
                }
                operand => shared(operand),
            },
            Expr::Compare(compare) => {
                matches!(compare.ops.as_ref(), [ast::CmpOp::Is])
                    && matches!(compare.comparators.as_ref(), [Expr::NoneLiteral(_)])
                    && shared(&compare.left)
            }
            Expr::BoolOp(b) if b.op == ast::BoolOp::Or => {
                b.values.iter().any(|v| self.tests_first_time(v, depth + 1))
            }
            _ => false,
        }
    }
}

impl Extractor {
    /// The shared name a first-time test reads: `self._x` in `not self._x` and `self._x is None`,
    /// `C.x` in `not hasattr(C, "x")`. `None` for tests of several names.
    fn first_time_flag(&self, test: &Expr) -> Option<Name> {
        let read = match test {
            Expr::Name(name) => return self.first_time_local(name.id.as_str()),
            Expr::UnaryOp(unary) if unary.op == ast::UnaryOp::Not => match &*unary.operand {
                Expr::Call(call) => {
                    let [object, Expr::StringLiteral(name)] = call.arguments.args.as_ref() else {
                        return None;
                    };
                    let object = dotted_name(object)?;
                    return Some(join_dotted(&object, literal_text(&name.value)));
                }
                operand => operand,
            },
            Expr::Compare(compare) => &compare.left,
            _ => return None,
        };
        self.shared_name(read)
    }

    /// `read` written dotted, when it names state that outlives the call: an attribute, or a
    /// module global.
    fn shared_name(&self, read: &Expr) -> Option<Name> {
        let name = dotted_name(read)?;
        match read {
            Expr::Name(n) if !self.is_global_name(n.id.as_str()) => None,
            _ => Some(name),
        }
    }

    /// The flag a local bound to a first-time test reads.
    fn first_time_local(&self, local: &str) -> Option<Name> {
        if self.first_time_locals.is_empty() {
            return None;
        }
        self.function_scope()?;
        let depth = self.scopes.len();
        self.first_time_locals
            .iter()
            .find(|(d, name, _)| *d == depth && name == local)
            .map(|(_, _, flag)| *flag)
    }

    /// Binding a local forgets the first-time test it held; binding it to one records the test.
    fn note_first_time_local(&mut self, assign: &ast::StmtAssign) {
        let [Expr::Name(local)] = assign.targets.as_slice() else {
            return;
        };
        // `first_time_flag` names no flag for a test of several names (`a or b`).
        let flag = (matches!(&*assign.value, Expr::UnaryOp(_) | Expr::Compare(_))
            && self.tests_first_time(&assign.value, 0))
        .then(|| self.first_time_flag(&assign.value))
        .flatten();
        if self.function_scope().is_none() {
            return;
        }
        let depth = self.scopes.len();
        if !self.first_time_locals.is_empty() {
            self.first_time_locals
                .retain(|(d, name, _)| *d < depth || name != local.id.as_str());
        }
        if let Some(flag) = flag {
            self.first_time_locals
                .push((depth, intern(local.id.as_str()), flag));
        }
    }

    /// The flag of `stmt`'s first-time test when the statements after it, at the function's top
    /// level, set it before the function can return: the test then holds on one call only.
    fn flag_set_after_block(&self, stmt: &Stmt, after: &[Stmt]) -> Option<Name> {
        let Stmt::If(if_stmt) = stmt else {
            return None;
        };
        if after.is_empty() || !self.tests_first_time(&if_stmt.test, 0) {
            return None;
        }
        let flag = self.first_time_flag(&if_stmt.test)?;
        for later in after {
            let sets = match later {
                // `if not hasattr(m, "x"): m.x = ...`: set afterwards whichever branch runs.
                Stmt::If(guard) if guard.elif_else_clauses.is_empty() => {
                    self.first_time_flag(&guard.test) == Some(flag) && sets_flag(&guard.body, &flag)
                }
                other => sets_flag(std::slice::from_ref(other), &flag),
            };
            if sets {
                return Some(flag);
            }
            if may_return(later) {
                return None;
            }
        }
        None
    }
}

impl Extractor {
    /// Records as lazy initialisations the stores of `flag` in `after` that make the early
    /// return of `stmt` hold from then on (`if cls._configured: return` then `cls._configured =
    /// True`): `True` for a truth test, anything but `None` for `is not None`. Any other store of
    /// the flag there (`False`, `0`, a computed value) may make the test fail again on a later
    /// call, and then none is recorded.
    fn note_first_time_sets(&mut self, stmt: &Stmt, after: &[Stmt], flag: &str) {
        let Stmt::If(if_stmt) = stmt else {
            return;
        };
        let truth_test = !matches!(&*if_stmt.test, Expr::Compare(_));
        let mut stores = Vec::new();
        flag_stores(after, flag, &mut stores);
        let sure = |value: Option<&Expr>| match value {
            Some(Expr::BooleanLiteral(b)) => b.value,
            Some(Expr::NoneLiteral(_)) | None => false,
            Some(_) => !truth_test,
        };
        if stores.is_empty() || !stores.iter().all(|(_, value)| sure(*value)) {
            return;
        }
        for (start, _) in stores {
            self.facts.lazy_inits.push(start);
        }
    }

    /// Records the shared names `assign` stores a false literal into (`C._enabled = False`,
    /// `global _LOADED; _LOADED = None`): a first-time block such a name guards runs again after
    /// the store.
    fn note_flag_clears(&mut self, assign: &ast::StmtAssign) {
        let clears = match &*assign.value {
            Expr::BooleanLiteral(b) => !b.value,
            Expr::NoneLiteral(_) => true,
            Expr::NumberLiteral(n) => {
                matches!(&n.value, ast::Number::Int(i) if *i == ast::Int::ZERO)
            }
            _ => false,
        };
        let Some(function) = self.current_function().filter(|_| clears) else {
            return;
        };
        // `__init__` giving its own instance the flag's first value clears nothing set before.
        let initialiser = self.facts.functions[function as usize].name == "__init__";
        for target in &assign.targets {
            let (name, through_receiver) = match target {
                Expr::Name(n) if self.name_node_here(n).0 == CallReceiver::Name => {
                    (intern(n.id.as_str()), false)
                }
                Expr::Attribute(attribute) => {
                    let mut root = &*attribute.value;
                    while let Expr::Attribute(inner) = root {
                        root = &inner.value;
                    }
                    let receiver = match root {
                        Expr::Name(n) => self.name_node_here(n).0,
                        _ => CallReceiver::Name,
                    };
                    if initialiser && receiver == CallReceiver::SelfParam {
                        continue;
                    }
                    let Some(name) = dotted_name(target) else {
                        continue;
                    };
                    let through_receiver =
                        matches!(receiver, CallReceiver::SelfParam | CallReceiver::Class);
                    (name, through_receiver)
                }
                _ => continue,
            };
            self.facts.flag_clears.push(FlagClear {
                function,
                name,
                through_receiver,
            });
        }
    }

    /// The shared name an early return tests, in `if _X: return _X` and `if self._x is not None:
    /// return ...` (no `else`), or in one operand of an `or` there (`if not enabled or _X:
    /// return`, which holds whenever `_X` is set): the code after it runs only while the name
    /// is unset.
    fn early_return_flag(&self, stmt: &Stmt) -> Option<Name> {
        let Stmt::If(if_stmt) = stmt else {
            return None;
        };
        if !if_stmt.elif_else_clauses.is_empty()
            || !matches!(if_stmt.body.last(), Some(Stmt::Return(_)))
        {
            return None;
        }
        match &*if_stmt.test {
            Expr::BoolOp(any) if any.op == ast::BoolOp::Or => {
                let mut flags = any.values.iter().filter_map(|v| self.set_flag_read(v));
                // With two flags, setting one does not say which the later stores must keep set.
                match (flags.next(), flags.next()) {
                    (Some(flag), None) => Some(flag),
                    _ => None,
                }
            }
            test => self.set_flag_read(test),
        }
    }

    /// The shared name `test` holds true while it is set: `_X`, `self._x`, `_X is not None`.
    fn set_flag_read(&self, test: &Expr) -> Option<Name> {
        let read = match test {
            Expr::Compare(compare)
                if matches!(compare.ops.as_ref(), [ast::CmpOp::IsNot])
                    && matches!(compare.comparators.as_ref(), [Expr::NoneLiteral(_)]) =>
            {
                &compare.left
            }
            test @ (Expr::Name(_) | Expr::Attribute(_)) => test,
            _ => return None,
        };
        self.shared_name(read)
    }
}

/// Whether `stmt` may leave the function (`return`, or `yield` handing control back), not
/// counting functions and classes it defines.
fn may_return(stmt: &Stmt) -> bool {
    match stmt {
        Stmt::Return(_) => true,
        Stmt::Expr(ast::StmtExpr { value, .. }) | Stmt::Assign(ast::StmtAssign { value, .. }) => {
            matches!(&**value, Expr::Yield(_) | Expr::YieldFrom(_))
        }
        Stmt::FunctionDef(_) | Stmt::ClassDef(_) => false,
        Stmt::If(s) => {
            s.body.iter().any(may_return)
                || s.elif_else_clauses
                    .iter()
                    .any(|c| c.body.iter().any(may_return))
        }
        Stmt::For(s) => s.body.iter().chain(&s.orelse).any(may_return),
        Stmt::While(s) => s.body.iter().chain(&s.orelse).any(may_return),
        Stmt::With(s) => s.body.iter().any(may_return),
        Stmt::Try(s) => s
            .body
            .iter()
            .chain(&s.orelse)
            .chain(&s.finalbody)
            .chain(s.handlers.iter().flat_map(|h| {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                h.body.iter()
            }))
            .any(may_return),
        Stmt::Match(s) => s.cases.iter().any(|c| c.body.iter().any(may_return)),
        _ => false,
    }
}

/// `if cls._checked is not cls: ...; cls._checked = cls`: the block stores in the attribute the
/// very object the test compares it with, on that object, so it runs once per such object (a
/// class: once per class).
fn marks_itself_done(test: &Expr, body: &[Stmt]) -> bool {
    let Expr::Compare(compare) = test else {
        return false;
    };
    let ([ast::CmpOp::IsNot], [Expr::Name(compared)], Expr::Attribute(flag)) = (
        compare.ops.as_ref(),
        compare.comparators.as_ref(),
        &*compare.left,
    ) else {
        return false;
    };
    let Expr::Name(owner) = &*flag.value else {
        return false;
    };
    owner.id == compared.id
        && body.iter().any(|stmt| {
            let Stmt::Assign(assign) = stmt else {
                return false;
            };
            matches!(&*assign.value, Expr::Name(value) if value.id == owner.id)
                && assign.targets.iter().any(|target| {
                    matches!(target, Expr::Attribute(set)
                        if set.attr.as_str() == flag.attr.as_str()
                            && matches!(&*set.value, Expr::Name(on) if on.id == owner.id))
                })
        })
}

/// `L = X.__dict__.get(N)` (or `vars(X).get(N)`, `getattr(X, N, None)`) as `previous`, then
/// `if L is None:` as `stmt`, whose body sets `X`'s attribute `N` (`setattr(X, N, V)`, or `X.n =
/// V` for a literal name) at its top level to something other than `None`, with no statement
/// before that which may return or binds `N` or `X`'s root: the block runs until `X` has its own
/// `N`, that is once per object and name.
fn fills_own_attribute_once(previous: &Stmt, stmt: &Stmt) -> bool {
    let (Stmt::Assign(read), Stmt::If(if_stmt)) = (previous, stmt) else {
        return false;
    };
    let ([Expr::Name(local)], Some((object, name))) =
        (read.targets.as_slice(), own_attribute_read(&read.value))
    else {
        return false;
    };
    let Expr::Compare(test) = &*if_stmt.test else {
        return false;
    };
    let tests_local = matches!(&*test.left, Expr::Name(l) if l.id == local.id)
        && matches!(test.ops.as_ref(), [ast::CmpOp::Is])
        && matches!(test.comparators.as_ref(), [Expr::NoneLiteral(_)]);
    let Some(object_name) = dotted_name(object).filter(|_| tests_local) else {
        return false;
    };
    let root = object_name.split('.').next().unwrap_or_default();
    for (index, inner) in if_stmt.body.iter().enumerate() {
        if sets_own_attribute(inner, &object_name, name) {
            let mut bound = Vec::new();
            let mut declared = Vec::new();
            let bindings = collect_bindings(&if_stmt.body[..index], &mut bound, &mut declared);
            bound.extend(bindings.augmented);
            bound.extend(bindings.to_literals);
            let name_bound = matches!(name, Expr::Name(n) if bound.contains(&n.id.as_str()));
            return !name_bound && !bound.contains(&root);
        }
        if may_return(inner) {
            return false;
        }
    }
    false
}

/// The object and the name of a read of an object's attribute that gives `None` while the object
/// has no such attribute of its own: `X.__dict__.get(N)`, `vars(X).get(N)`, `getattr(X, N, None)`,
/// where `N` is a local or a string literal.
fn own_attribute_read(value: &Expr) -> Option<(&Expr, &Expr)> {
    let Expr::Call(call) = value else {
        return None;
    };
    let args = call.arguments.args.as_ref();
    if !call.arguments.keywords.is_empty() {
        return None;
    }
    let (object, name) = match (&*call.func, args) {
        (Expr::Attribute(get), [name]) if get.attr.as_str() == "get" => match &*get.value {
            Expr::Attribute(namespace) if namespace.attr.as_str() == "__dict__" => {
                (&*namespace.value, name)
            }
            Expr::Call(vars)
                if matches!(&*vars.func, Expr::Name(f) if f.id.as_str() == "vars")
                    && vars.arguments.keywords.is_empty() =>
            {
                let [object] = vars.arguments.args.as_ref() else {
                    return None;
                };
                (object, name)
            }
            _ => return None,
        },
        (Expr::Name(f), [object, name, Expr::NoneLiteral(_)]) if f.id.as_str() == "getattr" => {
            (object, name)
        }
        _ => return None,
    };
    matches!(name, Expr::Name(_) | Expr::StringLiteral(_)).then_some((object, name))
}

/// Whether `stmt` sets the attribute `name` (a local or a string literal) of the object written
/// `object` to something other than `None`: `setattr(object, name, V)`, or `object.n = V` when
/// `name` is the literal `"n"`.
fn sets_own_attribute(stmt: &Stmt, object: &str, name: &Expr) -> bool {
    let same_name = |other: &Expr| match (name, other) {
        (Expr::Name(a), Expr::Name(b)) => a.id == b.id,
        (Expr::StringLiteral(a), Expr::StringLiteral(b)) => {
            literal_text(&a.value) == literal_text(&b.value)
        }
        _ => false,
    };
    match stmt {
        Stmt::Expr(expr) => {
            let Expr::Call(call) = &*expr.value else {
                return false;
            };
            matches!(&*call.func, Expr::Name(f) if f.id.as_str() == "setattr")
                && call.arguments.keywords.is_empty()
                && matches!(call.arguments.args.as_ref(), [target, set, value]
                    if dotted_name(target).is_some_and(|t| t == object)
                        && same_name(set)
                        && !matches!(value, Expr::NoneLiteral(_)))
        }
        Stmt::Assign(assign) => {
            let Expr::StringLiteral(literal) = name else {
                return false;
            };
            !matches!(&*assign.value, Expr::NoneLiteral(_))
                && assign.targets.iter().any(|target| {
                    matches!(target, Expr::Attribute(set)
                        if set.attr.as_str() == literal_text(&literal.value)
                            && dotted_name(&set.value).is_some_and(|t| t == object))
                })
        }
        _ => false,
    }
}

/// An empty container display, or `dict()`, `list()`, `set()` called without arguments.
fn is_empty_container(expr: &Expr) -> bool {
    match expr {
        Expr::Dict(d) => d.items.is_empty(),
        Expr::List(l) => l.elts.is_empty(),
        Expr::Set(l) => l.elts.is_empty(),
        Expr::Call(call) => {
            call.arguments.is_empty()
                && matches!(&*call.func, Expr::Name(f) if matches!(f.id.as_str(), "dict" | "list" | "set"))
        }
        _ => false,
    }
}

/// Every store of `flag` in `body` and the blocks nested in it (not in the functions and classes
/// it defines): where the target starts and the value stored (`None` for `+=` and the like).
fn flag_stores<'a>(body: &'a [Stmt], flag: &str, out: &mut Vec<(u32, Option<&'a Expr>)>) {
    let is_flag = |target: &Expr| dotted_name(target).is_some_and(|n| n == flag);
    for stmt in body {
        match stmt {
            Stmt::Assign(assign) => {
                for target in assign.targets.iter().filter(|t| is_flag(t)) {
                    out.push((target.range().start().to_u32(), Some(&*assign.value)));
                }
            }
            Stmt::AnnAssign(assign) if is_flag(&assign.target) => {
                out.push((
                    assign.target.range().start().to_u32(),
                    assign.value.as_deref(),
                ));
            }
            Stmt::AugAssign(assign) if is_flag(&assign.target) => {
                out.push((assign.target.range().start().to_u32(), None));
            }
            Stmt::Delete(delete) if delete.targets.iter().any(is_flag) => {
                out.push((delete.range.start().to_u32(), None));
            }
            Stmt::If(s) => {
                flag_stores(&s.body, flag, out);
                for clause in &s.elif_else_clauses {
                    flag_stores(&clause.body, flag, out);
                }
            }
            Stmt::For(s) => {
                flag_stores(&s.body, flag, out);
                flag_stores(&s.orelse, flag, out);
            }
            Stmt::While(s) => {
                flag_stores(&s.body, flag, out);
                flag_stores(&s.orelse, flag, out);
            }
            Stmt::With(s) => flag_stores(&s.body, flag, out),
            Stmt::Try(s) => {
                flag_stores(&s.body, flag, out);
                for handler in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    flag_stores(&h.body, flag, out);
                }
                flag_stores(&s.orelse, flag, out);
                flag_stores(&s.finalbody, flag, out);
            }
            Stmt::Match(s) => {
                for case in &s.cases {
                    flag_stores(&case.body, flag, out);
                }
            }
            _ => {}
        }
    }
}

/// Whether `body` (or a block nested in it) assigns `flag` a value other than `None` or
/// `False`, so that the first-time test no longer holds afterwards.
fn sets_flag(body: &[Stmt], flag: &str) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::Assign(assign) => {
            !matches!(
                &*assign.value,
                Expr::NoneLiteral(_)
                    | Expr::BooleanLiteral(ast::ExprBooleanLiteral { value: false, .. })
            ) && assign
                .targets
                .iter()
                .any(|t| dotted_name(t).is_some_and(|n| n == flag))
        }
        Stmt::If(inner) => {
            sets_flag(&inner.body, flag)
                && inner.elif_else_clauses.iter().any(|c| c.test.is_none())
                && inner
                    .elif_else_clauses
                    .iter()
                    .all(|c| sets_flag(&c.body, flag))
        }
        Stmt::With(with) => sets_flag(&with.body, flag),
        Stmt::Try(t) => sets_flag(&t.body, flag) || sets_flag(&t.finalbody, flag),
        _ => false,
    })
}

impl<'a> Visitor<'a> for Extractor {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if !self.enter(stmt) {
            return;
        }
        self.note_script_block(stmt);
        self.record_raised_class(stmt);
        if let Stmt::Global(global) = stmt {
            self.rebinds.global(global);
        }
        if self.function_scope().is_none() {
            self.note_outer_attribute_stores(stmt);
        }
        match stmt {
            Stmt::ClassDef(class) => self.visit_class(class),
            Stmt::FunctionDef(function) => self.visit_function(function),
            Stmt::Import(_) | Stmt::ImportFrom(_) => self.visit_import(stmt),
            _ if self.function_scope().is_some() => {
                if let Stmt::Assign(assign) = stmt {
                    self.note_flag_clears(assign);
                }
                self.visit_function_stmt(stmt)
            }
            Stmt::Assign(assign) => {
                self.visit_expr(&assign.value);
                self.rebinds.assign_targets(&assign.targets, self.depth);
                if let [target] = assign.targets.as_slice() {
                    self.record_binding(target, None, Some(&assign.value), assign.range);
                } else {
                    for target in &assign.targets {
                        self.record_binding(target, None, Some(&assign.value), assign.range);
                    }
                }
                self.note_bounded_bindings(&assign.value, assign.range);
            }
            Stmt::AnnAssign(assign) => {
                if let Some(value) = &assign.value {
                    self.visit_expr(value);
                }
                self.rebinds.annotated_target(assign, self.depth);
                self.record_binding(
                    &assign.target,
                    Some(&assign.annotation),
                    assign.value.as_deref(),
                    assign.range,
                );
            }
            _ => visitor::walk_stmt(self, stmt),
        }
        self.record_stmt_flows(stmt);
        self.leave();
    }

    fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
        self.rebinds.except_handler(handler);
        self.conditional_blocks += 1;
        self.blocks.open();
        visitor::walk_except_handler(self, handler);
        self.blocks.close();
        self.conditional_blocks -= 1;
    }

    fn visit_match_case(&mut self, case: &'a ast::MatchCase) {
        self.conditional_blocks += 1;
        self.blocks.open();
        visitor::walk_match_case(self, case);
        self.blocks.close();
        self.conditional_blocks -= 1;
    }

    fn visit_pattern(&mut self, pattern: &'a ast::Pattern) {
        self.rebinds.pattern(pattern);
        visitor::walk_pattern(self, pattern);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if !self.enter(expr) {
            return;
        }
        // Names and literals, about half of all expressions, have nothing below them to walk and
        // none of the hooks below but the cached read: they leave before the general path's
        // tests and its call into the walk.
        match expr {
            Expr::Name(name) => {
                if name.ctx == ast::ExprContext::Load {
                    self.record_cached_read(name);
                    if capitalised(name.id.as_str())
                        && !self.read_only_class_names.contains(&range_key(expr))
                    {
                        self.facts.class_value_reads.push(intern(name.id.as_str()));
                    }
                }
                // A parameter or local named `globals` (py-cord's `eval(tp, globals, locals)`)
                // is not the builtin.
                let local = name.ctx == ast::ExprContext::Load
                    && rebinds::names_a_namespace_builtin(name.id.as_str())
                    && matches!(self.name_node_here(name).0, CallReceiver::Local);
                self.rebinds.name(name, local);
                self.leave();
                return;
            }
            Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::EllipsisLiteral(_) => {
                self.leave();
                return;
            }
            _ => {}
        }
        // The only kinds reachability looks at: asked inline, since most expressions are names,
        // attributes and constants.
        if matches!(
            expr,
            Expr::Call(_) | Expr::Subscript(_) | Expr::Compare(_) | Expr::UnaryOp(_)
        ) {
            self.reach_expr(expr);
        }
        match expr {
            Expr::Call(call) => {
                self.note_read_only_class_name(&call.func);
                if let Expr::Name(f) = &*call.func
                    && matches!(f.id.as_str(), "super" | "isinstance" | "issubclass")
                {
                    for argument in call.arguments.args.iter() {
                        self.note_read_only_class_name(argument);
                    }
                }
                self.rebinds.call(call);
                self.record_call_site(call);
                self.visit_call(call)
            }
            Expr::Yield(ast::ExprYield {
                value: None, range, ..
            }) => self.note_yield(*range),
            Expr::Yield(ast::ExprYield {
                value: Some(value),
                range,
                ..
            }) => {
                self.note_yield(*range);
                self.record_returned(Some(value), *range, true)
            }
            Expr::Attribute(attribute) if attribute.ctx == ast::ExprContext::Load => {
                self.note_read_only_class_name(&attribute.value);
                if capitalised(attribute.attr.as_str())
                    && !self.read_only_class_names.contains(&range_key(expr))
                    && let Some(dotted) = dotted_name(expr)
                {
                    self.facts.class_value_reads.push(dotted);
                }
                if attribute.attr.as_str() == "__dict__" {
                    self.rebinds.dict_read(attribute);
                }
                self.record_cached_attribute_read(attribute)
            }
            Expr::Attribute(attribute) => {
                self.note_read_only_class_name(&attribute.value);
                self.rebinds.attribute(attribute)
            }
            Expr::Subscript(subscript)
                if subscript.ctx == ast::ExprContext::Load
                    && nonempty_reads::is_constant_index(&subscript.slice) =>
            {
                if let Some(scope) = self.function_scope_mut() {
                    scope.reads_constant_index = true;
                }
            }
            _ => {}
        }
        // Lambdas and comprehensions are scopes of their own; what they mutate through `self` or
        // globals still counts, so they are walked like the enclosing code. What they, the
        // operands of `and`/`or` and the branches of `a if c else b` change, some calls do not
        // change (the first operand and the test too: that only weakens the words).
        let conditional = matches!(
            expr,
            Expr::BoolOp(_)
                | Expr::If(_)
                | Expr::Lambda(_)
                | Expr::ListComp(_)
                | Expr::SetComp(_)
                | Expr::DictComp(_)
                | Expr::Generator(_)
        );
        let returned = matches!(expr, Expr::Lambda(lambda)
            if self.returned_lambda == Some(lambda.range.start().to_u32()));
        let deferred = matches!(expr, Expr::Lambda(_) | Expr::Generator(_));
        self.conditional_blocks += u32::from(conditional);
        self.in_returned_lambda += u32::from(returned);
        self.in_deferred += u32::from(deferred);
        visitor::walk_expr(self, expr);
        self.conditional_blocks -= u32::from(conditional);
        self.in_returned_lambda -= u32::from(returned);
        self.in_deferred -= u32::from(deferred);
        match expr {
            Expr::Call(call) => self.record_call_flows(call),
            Expr::Yield(ast::ExprYield {
                value: Some(value), ..
            }) => self.record_returned_flows(value),
            _ => {}
        }
        if matches!(expr, Expr::Yield(_) | Expr::YieldFrom(_))
            && let Some(scope) = self.function_scope_mut()
        {
            scope.yielded = true;
        }
        self.leave();
    }
}

fn method_kind(name: &str, decorators: &[Decorator]) -> FunctionKind {
    let has = |wanted: &str| {
        decorators
            .iter()
            .any(|d| knowledge::last_segment(&d.name) == wanted)
    };
    if has("staticmethod") {
        FunctionKind::StaticMethod
    } else if has("classmethod")
        || matches!(name, "__new__" | "__init_subclass__" | "__class_getitem__")
    {
        FunctionKind::ClassMethod
    } else {
        FunctionKind::Instance
    }
}

fn decorators(list: &[ast::Decorator], module_numbers: &HashMap<Name, u32>) -> Vec<Decorator> {
    list.iter()
        .filter_map(|d| {
            let (expr, called) = match &d.expression {
                Expr::Call(call) => (&*call.func, true),
                other => (other, false),
            };
            let true_keywords = match &d.expression {
                Expr::Call(call) => call
                    .arguments
                    .keywords
                    .iter()
                    .filter(|k| matches!(&k.value, Expr::BooleanLiteral(b) if b.value))
                    .filter_map(|k| Some(intern(k.arg.as_ref()?.as_str())))
                    .collect(),
                _ => Vec::new(),
            };
            let maxsize = match &d.expression {
                Expr::Call(call) => call
                    .arguments
                    .keywords
                    .iter()
                    .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "maxsize"))
                    .map(|k| &k.value)
                    .or(call.arguments.args.first())
                    .map_or(MaxSize::NotGiven, |value| match value {
                        Expr::NoneLiteral(_) => MaxSize::NoneLiteral,
                        Expr::NumberLiteral(n) => n
                            .value
                            .as_int()
                            .and_then(|i| u32::try_from(i.as_u64()?).ok())
                            .map_or(MaxSize::Other, MaxSize::Literal),
                        Expr::Name(name) => {
                            let name = intern(name.id.as_str());
                            MaxSize::Named {
                                name,
                                value: module_numbers.get(&name).copied(),
                            }
                        }
                        _ => MaxSize::Other,
                    }),
                _ => MaxSize::NotGiven,
            };
            Some(Decorator {
                name: dotted_name(expr)?,
                called,
                true_keywords,
                maxsize,
                span: span(d.range),
            })
        })
        .collect()
}

/// The name whose text `write` puts into an empty buffer, or `None` if it gives up. Names are
/// built by the million: the buffer is kept per thread, so only a text never seen before costs an
/// allocation (its interned copy). `write` must not build a name itself.
pub(super) fn build_name(write: impl FnOnce(&mut String) -> Option<()>) -> Option<Name> {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUFFER.with_borrow_mut(|buffer| {
        buffer.clear();
        write(buffer).map(|()| intern(buffer))
    })
}

/// `head.tail`.
pub(super) fn join_dotted(head: &str, tail: &str) -> Name {
    let joined = build_name(|out| {
        out.push_str(head);
        out.push('.');
        out.push_str(tail);
        Some(())
    });
    joined.unwrap_or_default()
}

/// The walk over the blocks of statements of the function body `function` (`block` one of them)
/// that finds the attribute changes undone before it returns (`restored`,
/// [`restores::restored_stores`]), the futures kept only until they are done (`kept`,
/// [`done_callbacks::kept_until_done`]) and the blocks that run holding a lock (`locked`,
/// [`locks::with_lock`]): one walk for all three, each block in order.
fn scan_function_blocks(
    block: &[Stmt],
    function: &[Stmt],
    restored: &mut Vec<u32>,
    reset: &mut Vec<u32>,
    kept: &mut Vec<u32>,
    locked: &mut Vec<LockHeld>,
) {
    for (index, stmt) in block.iter().enumerate() {
        if let Some(next) = block.get(index + 1) {
            done_callbacks::kept_until_done(stmt, next, kept);
        }
        match stmt {
            Stmt::Try(try_stmt) => {
                restores::restored_stores(&block[..index], try_stmt, function, restored);
                restores::reset_context_sets(&block[..index], try_stmt, function, reset);
            }
            Stmt::With(with) => locked.extend(locks::with_lock(with)),
            _ => {}
        }
        for_each_nested_block(stmt, |inner| {
            scan_function_blocks(inner, function, restored, reset, kept, locked)
        });
    }
}

/// Hands `visit` each block of statements directly inside `stmt` that runs in the same function,
/// in order. A callback rather than a list: it is asked of every statement of every function
/// body, twice, and a vector per compound statement cost an allocation each.
pub(super) fn for_each_nested_block<'s>(stmt: &'s Stmt, mut visit: impl FnMut(&'s [Stmt])) {
    match stmt {
        Stmt::If(s) => {
            visit(&s.body);
            for clause in &s.elif_else_clauses {
                visit(&clause.body);
            }
        }
        Stmt::For(s) => {
            visit(&s.body);
            visit(&s.orelse);
        }
        Stmt::While(s) => {
            visit(&s.body);
            visit(&s.orelse);
        }
        Stmt::With(s) => visit(&s.body),
        Stmt::Try(s) => {
            visit(&s.body);
            for handler in &s.handlers {
                let ast::ExceptHandler::ExceptHandler(h) = handler;
                visit(&h.body);
            }
            visit(&s.orelse);
            visit(&s.finalbody);
        }
        Stmt::Match(s) => {
            for case in &s.cases {
                visit(&case.body);
            }
        }
        _ => {}
    }
}

/// `a.b.c` for a name or a chain of attributes on a name.
/// The method of `call` when the call stores one of its arguments itself in the receiver, as the
/// builtin containers' methods do (`seen.add(x)`, `items.insert(0, x)`; not `attributes.add(k, v)`):
/// see [`knowledge::stores_an_argument`].
pub(super) fn storing_method(call: &ast::ExprCall) -> Option<&ast::ExprAttribute> {
    let Expr::Attribute(method) = &*call.func else {
        return None;
    };
    let args = &call.arguments.args;
    let starred = args.iter().filter(|a| a.is_starred_expr()).count();
    let keywords = call.arguments.keywords.len() + starred;
    knowledge::stores_an_argument(method.attr.as_str(), args.len() - starred, keywords)
        .then_some(method)
}

/// Whether a name starts with a capital letter, as class names do: the only names
/// [`FileFacts::class_value_reads`] records.
fn capitalised(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
}

/// An expression's range, as [`Extractor::read_only_class_names`] keys it.
fn range_key(expr: &Expr) -> (u32, u32) {
    let range = expr.range();
    (range.start().to_u32(), range.end().to_u32())
}

impl Extractor {
    /// Notes that `expr`, when a capitalised name or a dotted name ending in one, is not read as
    /// a value where it stands (it is called, its attribute taken, a base, or handed to `super`,
    /// `isinstance` or `issubclass`).
    fn note_read_only_class_name(&mut self, expr: &Expr) {
        let last = match expr {
            Expr::Name(name) => name.id.as_str(),
            Expr::Attribute(attribute) => attribute.attr.as_str(),
            _ => return,
        };
        if capitalised(last) {
            self.read_only_class_names.insert(range_key(expr));
        }
    }
}

pub(super) fn dotted_name(expr: &Expr) -> Option<Name> {
    match expr {
        Expr::Name(name) => Some(intern(name.id.as_str())),
        Expr::Attribute(_) => build_name(|out| push_dotted(expr, out)),
        _ => None,
    }
}

/// What a call builds an instance of, as written: `a.b.C` for `a.b.C(...)`, and `ContextVar` for
/// a generic alias called, `ContextVar[list[str]](...)` (subscribing a generic class only
/// records its parameters; the call still constructs the class).
pub(super) fn constructor_name(func: &Expr) -> Option<Name> {
    match func {
        Expr::Subscript(generic) => dotted_name(&generic.value),
        other => dotted_name(other),
    }
}

/// Appends `a.b.c` for a name or a chain of attributes on a name; `None` for anything else.
fn push_dotted(expr: &Expr, out: &mut String) -> Option<()> {
    match expr {
        Expr::Name(name) => out.push_str(name.id.as_str()),
        Expr::Attribute(attribute) => {
            push_dotted(&attribute.value, out)?;
            out.push('.');
            out.push_str(attribute.attr.as_str());
        }
        _ => return None,
    }
    Some(())
}

/// The outermost name of an annotation: `ClassVar` for `ClassVar[dict[str, int]]`.
fn outer_annotation_name(annotation: &Expr) -> Option<Name> {
    match annotation {
        Expr::Subscript(sub) => dotted_name(&sub.value),
        Expr::StringLiteral(s) => {
            let text = literal_text(&s.value);
            let head = text.split('[').next().unwrap_or(text).trim();
            is_dotted_identifier(head).then(|| intern(head))
        }
        other => dotted_name(other),
    }
}

/// The class a container annotation declares every element to be, as written: `WebPage` for
/// `Dict[int, "WebPage"]`, `Job` for `list[Job]`. A mapping's iteration gives its keys, so only
/// keys declared a builtin without mutating methods (`int`, `str`, ...) leave its values alone.
fn declared_element_class(annotation: &Expr) -> Option<Name> {
    const SEQUENCES: &[&str] = &[
        "List",
        "list",
        "Set",
        "set",
        "Sequence",
        "MutableSequence",
        "Deque",
        "deque",
        "MutableSet",
        "WeakSet",
    ];
    const MAPPINGS: &[&str] = &[
        "Dict",
        "dict",
        "DefaultDict",
        "defaultdict",
        "OrderedDict",
        "Mapping",
        "MutableMapping",
        "WeakValueDictionary",
    ];
    const PLAIN_KEYS: &[&str] = &["int", "str", "bytes", "float", "bool"];
    let Expr::Subscript(sub) = annotation else {
        return None;
    };
    let outer = dotted_name(&sub.value)?;
    let container = knowledge::last_segment(&outer);
    let element = if SEQUENCES.contains(&container) {
        &*sub.slice
    } else if MAPPINGS.contains(&container) {
        let Expr::Tuple(pair) = &*sub.slice else {
            return None;
        };
        let [key, value] = pair.elts.as_slice() else {
            return None;
        };
        let Expr::Name(key) = key else { return None };
        if !PLAIN_KEYS.contains(&key.id.as_str()) {
            return None;
        }
        value
    } else {
        return None;
    };
    match element {
        Expr::Name(_) | Expr::Attribute(_) => dotted_name(element),
        Expr::StringLiteral(s) => {
            let text = literal_text(&s.value).trim();
            is_dotted_identifier(text).then(|| intern(text))
        }
        _ => None,
    }
}

/// The class an annotation names, looking through `Optional[C]`, `C | None` and `"C"`.
fn annotated_class(annotation: &Expr) -> Option<Name> {
    match annotation {
        Expr::Name(_) | Expr::Attribute(_) => dotted_name(annotation),
        Expr::StringLiteral(s) => {
            let text = literal_text(&s.value).trim();
            is_dotted_identifier(text).then(|| intern(text))
        }
        Expr::Subscript(sub) => {
            let outer = dotted_name(&sub.value)?;
            (knowledge::last_segment(&outer) == "Optional").then(|| annotated_class(&sub.slice))?
        }
        Expr::BinOp(bin) if bin.op == ast::Operator::BitOr => match (&*bin.left, &*bin.right) {
            (Expr::NoneLiteral(_), other) | (other, Expr::NoneLiteral(_)) => annotated_class(other),
            _ => None,
        },
        _ => None,
    }
}

fn is_dotted_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// Collects the names a function body binds (its locals) and the names it declares `global` or
/// `nonlocal`, without entering nested scopes.
/// What [`collect_bindings`] saw besides the names.
struct BodyBindings<'a> {
    /// The targets of its augmented assignments that are names (`total += x`), with repeats:
    /// bindings too, kept apart from the others.
    augmented: Vec<&'a str>,
    /// The names it binds to a literal of an immutable type (`timer = None`, `n = 0`), with
    /// repeats: kept apart from the others as well.
    to_literals: Vec<&'a str>,
    /// The body defines a function or a class: only then can walking it add functions after its
    /// own, which is when its closure locals are kept.
    defines: bool,
    /// An assignment of the body stores an item (`C[k] = v`, `C[k]: T = v`): it may record a
    /// memoisation.
    stores_items: bool,
}

/// Gathers the names `body` binds (into `locals`) and declares `global` or `nonlocal` (into
/// `declared`), and tells what else it saw ([`BodyBindings`]).
fn collect_bindings<'a>(
    body: &'a [Stmt],
    locals: &mut Vec<&'a str>,
    declared: &mut Vec<&'a str>,
) -> BodyBindings<'a> {
    fn targets<'a>(expr: &'a Expr, locals: &mut Vec<&'a str>) {
        match expr {
            Expr::Name(name) => locals.push(name.id.as_str()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| targets(e, locals)),
            Expr::List(l) => l.elts.iter().for_each(|e| targets(e, locals)),
            Expr::Starred(s) => targets(&s.value, locals),
            _ => {}
        }
    }
    // An explicit stack: statement nesting is bounded by the parser, but not by us.
    let mut stack: Vec<&Stmt> = body.iter().collect();
    let mut defines = false;
    let mut stores_items = false;
    let mut augmented = Vec::new();
    let mut to_literals = Vec::new();
    while let Some(stmt) = stack.pop() {
        match stmt {
            Stmt::FunctionDef(f) => {
                defines = true;
                locals.push(f.name.as_str());
            }
            // Its methods are functions too.
            Stmt::ClassDef(c) => {
                defines = true;
                locals.push(c.name.as_str());
            }
            Stmt::Assign(a) => {
                stores_items |= a.targets.iter().any(Expr::is_subscript_expr);
                match &a.targets[..] {
                    [Expr::Name(name)] if is_immutable_literal(&a.value) => {
                        to_literals.push(name.id.as_str());
                    }
                    _ => a.targets.iter().for_each(|t| targets(t, locals)),
                }
            }
            Stmt::AnnAssign(a) => {
                stores_items |= a.value.is_some() && a.target.is_subscript_expr();
                match (&*a.target, a.value.as_deref()) {
                    (Expr::Name(name), Some(value)) if is_immutable_literal(value) => {
                        to_literals.push(name.id.as_str());
                    }
                    _ => targets(&a.target, locals),
                }
            }
            Stmt::AugAssign(a) => targets(&a.target, &mut augmented),
            Stmt::Delete(d) => d.targets.iter().for_each(|t| targets(t, locals)),
            Stmt::For(f) => {
                targets(&f.target, locals);
                stack.extend(f.body.iter().chain(f.orelse.iter()));
            }
            Stmt::While(w) => stack.extend(w.body.iter().chain(w.orelse.iter())),
            Stmt::If(i) => {
                stack.extend(i.body.iter());
                for clause in &i.elif_else_clauses {
                    stack.extend(clause.body.iter());
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(vars) = &item.optional_vars {
                        targets(vars, locals);
                    }
                }
                stack.extend(w.body.iter());
            }
            Stmt::Try(t) => {
                stack.extend(
                    t.body
                        .iter()
                        .chain(t.orelse.iter())
                        .chain(t.finalbody.iter()),
                );
                for handler in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    if let Some(name) = &h.name {
                        locals.push(name.as_str());
                    }
                    stack.extend(h.body.iter());
                }
            }
            Stmt::Match(m) => {
                for case in &m.cases {
                    stack.extend(case.body.iter());
                }
            }
            Stmt::Import(i) => {
                for alias in &i.names {
                    let name = alias.asname.as_ref().map_or_else(
                        || alias.name.as_str().split('.').next().unwrap_or_default(),
                        |a| a.as_str(),
                    );
                    locals.push(name);
                }
            }
            Stmt::ImportFrom(i) => {
                for alias in &i.names {
                    locals.push(alias.asname.as_ref().unwrap_or(&alias.name).as_str());
                }
            }
            Stmt::Global(g) => declared.extend(g.names.iter().map(|n| n.as_str())),
            Stmt::Nonlocal(n) => declared.extend(n.names.iter().map(|n| n.as_str())),
            _ => {}
        }
    }
    BodyBindings {
        augmented,
        to_literals,
        defines,
        stores_items,
    }
}

/// Whether `expr` is `None` or a literal of an immutable type: a number, string, bytes, bool,
/// `...`, f-string, or a tuple of those.
fn is_immutable_literal(expr: &Expr) -> bool {
    match expr {
        Expr::NoneLiteral(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::EllipsisLiteral(_)
        | Expr::FString(_) => true,
        Expr::Tuple(tuple) => tuple
            .elts
            .iter()
            .all(|e| !e.is_none_literal_expr() && is_immutable_literal(e)),
        _ => false,
    }
}

/// Whether the statements of `body` bind `name` once, not counting augmented assignments and
/// bindings to immutable literals (of the statements [`collect_bindings`] reads).
fn bound_once_besides_augmented(body: &[Stmt], name: &str) -> bool {
    let mut bound = Vec::new();
    collect_bindings(body, &mut bound, &mut Vec::new());
    bound.iter().filter(|bound| **bound == name).count() == 1
}

/// The names an assignment target binds (`name`, `key, value`, `(a, *rest)`).
/// The name `test` tests, as its whole test, for being unset: `x is None`, `not x`.
fn whole_unset_test(test: &Expr) -> Option<&str> {
    match test {
        Expr::Compare(compare)
            if matches!(compare.ops.as_ref(), [ast::CmpOp::Is])
                && matches!(compare.comparators.as_ref(), [Expr::NoneLiteral(_)]) =>
        {
            match &*compare.left {
                Expr::Name(name) => Some(name.id.as_str()),
                _ => None,
            }
        }
        Expr::UnaryOp(unary) if unary.op == ast::UnaryOp::Not => match &*unary.operand {
            Expr::Name(name) => Some(name.id.as_str()),
            _ => None,
        },
        _ => None,
    }
}

fn target_names(target: &Expr, out: &mut Vec<Name>) {
    match target {
        Expr::Name(name) => out.push(intern(name.id.as_str())),
        Expr::Tuple(t) => t.elts.iter().for_each(|e| target_names(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| target_names(e, out)),
        Expr::Starred(s) => target_names(&s.value, out),
        _ => {}
    }
}

/// The `return` statements of a function body, in source order, leaving out those of functions
/// and classes defined in it.
fn returns_in<'b>(body: &'b [Stmt], out: &mut Vec<&'b ast::StmtReturn>) {
    for stmt in body {
        match stmt {
            Stmt::Return(ret) => out.push(ret),
            Stmt::If(s) => {
                returns_in(&s.body, out);
                for clause in &s.elif_else_clauses {
                    returns_in(&clause.body, out);
                }
            }
            Stmt::For(s) => {
                returns_in(&s.body, out);
                returns_in(&s.orelse, out);
            }
            Stmt::While(s) => {
                returns_in(&s.body, out);
                returns_in(&s.orelse, out);
            }
            Stmt::With(s) => returns_in(&s.body, out),
            Stmt::Try(s) => {
                returns_in(&s.body, out);
                for handler in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    returns_in(&h.body, out);
                }
                returns_in(&s.orelse, out);
                returns_in(&s.finalbody, out);
            }
            Stmt::Match(s) => {
                for case in &s.cases {
                    returns_in(&case.body, out);
                }
            }
            _ => {}
        }
    }
}

/// The attribute of `receiver` (the method's `self`) whose test the first statement of `body`
/// (after a docstring) returns on at once, and whether the rest runs only while it is true (else
/// only while it is not `None`): `if not self.on: return`, `if self.on is None: return None`.
fn self_attribute_exit(receiver: &str, body: &[Stmt]) -> Option<(Name, bool)> {
    let first = match body {
        [Stmt::Expr(docstring), first, ..] if docstring.value.is_string_literal_expr() => first,
        [first, ..] => first,
        [] => return None,
    };
    let Stmt::If(if_stmt) = first else {
        return None;
    };
    let returns_nothing = matches!(
        if_stmt.body.as_slice(),
        [Stmt::Return(ret)] if ret.value.as_deref().is_none_or(Expr::is_none_literal_expr)
    );
    if !returns_nothing || !if_stmt.elif_else_clauses.is_empty() {
        return None;
    }
    let on_receiver = |expr: &Expr| match expr {
        Expr::Attribute(attribute) if matches!(&*attribute.value, Expr::Name(n) if n.id.as_str() == receiver) => {
            Some(intern(attribute.attr.as_str()))
        }
        _ => None,
    };
    match &*if_stmt.test {
        Expr::UnaryOp(unary) if unary.op == ast::UnaryOp::Not => {
            on_receiver(&unary.operand).map(|attr| (attr, true))
        }
        Expr::Compare(compare)
            if matches!(compare.ops.as_ref(), [ast::CmpOp::Is])
                && matches!(compare.comparators.as_ref(), [Expr::NoneLiteral(_)]) =>
        {
            on_receiver(&compare.left).map(|attr| (attr, false))
        }
        _ => None,
    }
}

/// The names a class body binds once, by a statement at its top level, to a tuple of true
/// literals: `SSH_DIRS = (".ssh", "ssh")`.
fn true_tuples(body: &[Stmt]) -> Vec<Name> {
    let mut counts: HashMap<String, u32> = HashMap::default();
    for stmt in body {
        nonempty_reads::visit_bound(stmt, &mut |bound: &str| {
            *counts.entry(bound.to_string()).or_default() += 1;
        });
    }
    body.iter()
        .filter_map(|stmt| match stmt {
            Stmt::Assign(assign) => match &assign.targets[..] {
                [Expr::Name(target)]
                    if counts.get(target.id.as_str()) == Some(&1)
                        && dead_branches::tuple_of_true_literals(&assign.value) =>
                {
                    Some(intern(target.id.as_str()))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Locals, TextKey};

    /// Every text over a few letters, up to `max` bytes long.
    fn texts(max: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|t| ['a', 'b', '_'].map(|c| format!("{t}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn a_method_that_returns_at_once_on_a_test_of_its_attribute_is_noted() {
        let exits = |body: &str| {
            let source = format!("class C:\n    def update(self, n):\n{body}");
            crate::syntax::extract(&source)
                .expect("parses")
                .self_attribute_exits
                .iter()
                .map(|e| (e.attr.to_string(), e.truth))
                .collect::<Vec<_>>()
        };
        let on = vec![("on".to_string(), true)];
        assert_eq!(
            exits("        if not self.on:\n            return\n        self.n += n\n"),
            on
        );
        assert_eq!(
            exits(
                "        \"Doc.\"\n        if not self.on:\n            return None\n        self.n += n\n"
            ),
            on
        );
        assert_eq!(
            exits("        if self.on is None:\n            return\n        self.n += n\n"),
            vec![("on".to_string(), false)]
        );
        // Something runs first, the exit returns a value, or an `else` runs on the default.
        assert!(
            exits("        self.n += n\n        if not self.on:\n            return\n").is_empty()
        );
        assert!(exits("        if not self.on:\n            return self.log()\n").is_empty());
        assert!(exits("        if not self.on:\n            return\n        else:\n            self.n = 1\n").is_empty());
        assert!(exits("        if not other.on:\n            return\n").is_empty());
    }

    #[test]
    fn text_keys_are_equal_exactly_when_short_texts_are() {
        // Lengths 0 to 9 cover every branch of the key (one to three bytes, four to seven,
        // eight and more with the halves overlapping).
        let all = texts(9);
        let mut by_key = std::collections::HashMap::new();
        for text in &all {
            let key = TextKey::of(text);
            let k = (key.len, key.head, key.tail);
            assert!(
                by_key.insert(k, text.clone()).is_none(),
                "{text:?} shares a key"
            );
        }
    }

    #[test]
    fn locals_find_their_names_and_only_them() {
        let long_a = "a_rather_long_local_name_one";
        let long_b = "a_rather_long_local_name_two";
        let few = ["x", "ab", "self", "request", "response_headers", long_a];
        let many: Vec<String> = (0..40).map(|i| format!("local_{i}")).collect();
        for (locals, repeated) in [
            Locals::with_repeats(few.iter().copied()),
            Locals::with_repeats(many.iter().map(String::as_str)),
        ] {
            assert!(repeated.is_empty());
            let names: Vec<&str> = match &locals {
                Locals::Few(_) => few.to_vec(),
                Locals::Many(_) => many.iter().map(String::as_str).collect(),
            };
            for name in &names {
                assert_eq!(locals.get(name).as_deref(), Some(*name));
            }
            for absent in [
                "",
                "y",
                "sel",
                "selF",
                "response_header",
                long_b,
                "local_40",
            ] {
                assert!(!locals.contains(absent), "{absent:?}");
            }
        }
        assert!(matches!(
            Locals::with_repeats(few.iter().copied()).0,
            Locals::Few(_)
        ));
        assert!(matches!(
            Locals::with_repeats(many.iter().map(String::as_str)).0,
            Locals::Many(_)
        ));
    }

    #[test]
    fn locals_tell_the_names_bound_more_than_once() {
        let long_a = "a_rather_long_local_name_one";
        let long_b = "a_rather_long_local_name_two";
        // Each list binds `x` three times, the long name twice, and its near twin once.
        let few = ["x", long_a, "x", "y", long_b, long_a, "x"];
        let many: Vec<String> = (0..20)
            .map(|i| format!("local_{i}"))
            .chain(few.iter().map(|name| name.to_string()))
            .collect();
        for (locals, repeated) in [
            Locals::with_repeats(few.iter().copied()),
            Locals::with_repeats(many.iter().map(String::as_str)),
        ] {
            let mut repeated: Vec<&str> = repeated.iter().map(|name| name.as_str()).collect();
            repeated.sort_unstable();
            assert_eq!(repeated, [long_a, "x"]);
            assert_eq!(locals.get(long_b).as_deref(), Some(long_b));
        }
    }
}
