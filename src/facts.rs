//! Per-file facts: the compact, AST-free summary of one Python file that every later stage works on.
//!
//! Facts are extracted once per file (see [`crate::syntax`]) and never refer back to the syntax
//! tree. Names are written as they appear in the source; resolving them across modules is the job of
//! [`crate::project`]. Everything here is plain data so that it can be cached on disk.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};
pub use thin_vec::ThinVec;

mod interner;

/// An identifier or a dotted name (`collections.defaultdict`), as written, interned: a 4-byte
/// `Copy` handle (the text's number) to one process-wide copy of the text, with its hash computed once, so that facts
/// stay small and the link compares and hashes names without reading their text. Interned text is
/// never freed: a long-lived server keeps the names of texts it no longer holds (they are few
/// next to the facts themselves, and an edit mostly brings back the same names).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name(interner::Interned);

impl Name {
    pub fn from(text: &str) -> Name {
        Name(interner::Interned::new(text))
    }

    pub fn from_existing(text: &str) -> Option<Name> {
        interner::Interned::existing(text).map(Name)
    }

    pub fn as_str(&self) -> &'static str {
        self.0.as_str()
    }

    pub fn precomputed_hash(&self) -> u64 {
        self.0.hash()
    }

    /// Where the text is interned: one number per text, compared without reading the text, but
    /// not the same from one run to the next, so only for tables whose order nothing reads.
    pub fn interned_at(&self) -> usize {
        self.0.number() as usize
    }
    /// The name's number, for a fact that keeps it in a word it shares with other kinds of
    /// number ([`ValueFlow`]'s target); [`Name::from_number`] gives the name back.
    #[inline]
    fn number(self) -> u32 {
        self.0.number()
    }

    /// The name [`Name::number`] gave `number` for.
    ///
    /// # Safety
    ///
    /// `number` must be one that [`Name::number`] gave.
    #[inline]
    unsafe fn from_number(number: u32) -> Name {
        // SAFETY: the caller's promise.
        Name(unsafe { interner::Interned::from_number(number) })
    }
}

impl Default for Name {
    fn default() -> Name {
        Name::from("")
    }
}

/// Names hash as their precomputed hash: hash maps keyed by names never read the text.
impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.precomputed_hash());
    }
}

/// By text, not by where it was interned, so that sorted names read the same in every run.
impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.0.as_str(), f)
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name::from(text)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name::from(&text)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.0.as_str() == other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.0.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.0.as_str()
    }
}

/// The names one record has encoded or decoded so far, by order of first appearance.
#[derive(Default)]
struct NameTable {
    indices: rustc_hash::FxHashMap<Name, u32>,
    names: Vec<Name>,
}

thread_local! {
    static NAME_TABLE: std::cell::RefCell<Option<NameTable>> = const { std::cell::RefCell::new(None) };
    /// Whether [`NAME_TABLE`] holds a table: asked once per name decoded, so kept where an access
    /// checks no lazy state (the table itself has a destructor to register).
    static IN_NAME_TABLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` (one record's encoding or decoding) with names written once per record: a file's
/// facts name `self`, its imports and its attributes over and over, and decoding each copy
/// again would validate and intern the same text each time. Outside `f` (reports, tests) a name
/// is its text. The table is this thread's and `f`'s alone, so what one record wrote never
/// decides how another is read.
///
/// Within a table a name is one number, `0` followed by its text the first time the record
/// holds it, and its index in the table plus one after that (a tuple to the serializer: postcard
/// writes no length for one, and decoding reads the text only after a `0`).
pub fn with_name_table<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(Option<NameTable>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let outer = self.0.take();
            IN_NAME_TABLE.with(|on| on.set(outer.is_some()));
            NAME_TABLE.with(|table| *table.borrow_mut() = outer);
        }
    }
    let outer = NAME_TABLE.with(|table| table.borrow_mut().replace(NameTable::default()));
    IN_NAME_TABLE.with(|on| on.set(true));
    let _reset = Reset(outer);
    f()
}

impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, out: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        // The name's code in this record's table: 0 when it is new there.
        let code = NAME_TABLE.with(|table| {
            let mut table = table.borrow_mut();
            let table = table.as_mut()?;
            let next = table.names.len() as u32;
            Some(match table.indices.entry(*self) {
                std::collections::hash_map::Entry::Occupied(seen) => *seen.get() + 1,
                std::collections::hash_map::Entry::Vacant(new) => {
                    new.insert(next);
                    table.names.push(*self);
                    0
                }
            })
        });
        match code {
            Some(0) => {
                let mut coded = out.serialize_tuple(2)?;
                coded.serialize_element(&0u32)?;
                coded.serialize_element(self.0.as_str())?;
                coded.end()
            }
            Some(seen) => {
                let mut coded = out.serialize_tuple(1)?;
                coded.serialize_element(&seen)?;
                coded.end()
            }
            None => out.serialize_str(self.0.as_str()),
        }
    }
}

/// A name's text, interned.
struct NameFromText;

impl serde::de::Visitor<'_> for NameFromText {
    type Value = Name;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a name")
    }
    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Name, E> {
        Ok(intern(text))
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for NameFromText {
    type Value = Name;
    fn deserialize<D: serde::Deserializer<'de>>(self, input: D) -> Result<Name, D::Error> {
        input.deserialize_str(self)
    }
}

/// A name as [`with_name_table`] encodes it.
struct CodedName;

impl<'de> serde::de::Visitor<'de> for CodedName {
    type Value = Name;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a name's code")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut coded: A) -> Result<Name, A::Error> {
        use serde::de::Error;
        let code: u32 = coded
            .next_element()?
            .ok_or_else(|| A::Error::custom("a name without its code"))?;
        if code == 0 {
            let name = coded
                .next_element_seed(NameFromText)?
                .ok_or_else(|| A::Error::custom("a new name without its text"))?;
            NAME_TABLE.with(|table| {
                if let Some(table) = table.borrow_mut().as_mut() {
                    table.names.push(name);
                }
            });
            return Ok(name);
        }
        NAME_TABLE
            .with(|table| {
                table
                    .borrow()
                    .as_ref()
                    .and_then(|table| table.names.get(code as usize - 1).copied())
            })
            .ok_or_else(|| A::Error::custom("a name seen before that was not"))
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(input: D) -> Result<Name, D::Error> {
        if IN_NAME_TABLE.with(std::cell::Cell::get) {
            input.deserialize_tuple(2, CodedName)
        } else {
            input.deserialize_str(NameFromText)
        }
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

/// The name spelled `text`, interned. The interner hashes with a strong hash and takes a lock per
/// call; extraction interns names by the million, most of them (`self`, `get`, `os.path`) seen
/// moments before. A small table per thread, one name a slot by an Fx hash of the text, answers
/// those without the interner; a name is never freed, so a slot can never hold a stale one.
pub fn intern(text: &str) -> Name {
    recent_slot(text, |slot| match slot.get().holds(text) {
        Some(name) => name,
        None => {
            let name = Name::from(text);
            slot.set(Recent::of(name));
            name
        }
    })
}

/// `names` sorted by text, each once. The repeats go first, found by where each name is
/// interned (an integer, no text read), so that texts are compared among the distinct names
/// only: the lists sorted so (a module's stored names, its methods of untyped locals) name a few
/// things many times.
pub fn sorted_distinct(names: impl IntoIterator<Item = Name>) -> ThinVec<Name> {
    let mut names: Vec<Name> = names.into_iter().collect();
    names.sort_unstable_by_key(Name::interned_at);
    names.dedup();
    names.sort_unstable();
    names.into_iter().collect()
}

/// The name spelled `text` if it was ever interned, without interning it ([`intern`]'s table
/// first).
pub fn interned(text: &str) -> Option<Name> {
    recent_slot(text, |slot| {
        slot.get().holds(text).or_else(|| {
            let name = Name::from_existing(text);
            if let Some(name) = name {
                slot.set(Recent::of(name));
            }
            name
        })
    })
}

/// A slot of [`intern`]'s table: a name with the address and length of its text, so that a slot
/// is checked against a text by one comparison of lengths and one of bytes, without the two
/// dependent loads (the number's entry, then the text) that [`Name::as_str`] takes. Those missed
/// the cache on most look-ups, and made this table a tenth of a cold run's CPU time
/// (BENCHMARKS.md, "Round 39: where the cold run's CPU time goes").
#[derive(Clone, Copy)]
struct Recent {
    text: *const u8,
    len: u32,
    name: Option<Name>,
}

impl Recent {
    const EMPTY: Recent = Recent {
        text: std::ptr::null(),
        len: 0,
        name: None,
    };

    /// The slot for `name`; a text too long for the length's 32 bits is never found in it.
    fn of(name: Name) -> Recent {
        let text = name.as_str();
        match u32::try_from(text.len()) {
            Ok(len) => Recent {
                text: text.as_ptr(),
                len,
                name: Some(name),
            },
            Err(_) => Recent::EMPTY,
        }
    }

    /// The name held, if its text is `text`.
    #[inline]
    fn holds(self, text: &str) -> Option<Name> {
        let name = self.name?;
        if self.len as usize != text.len() {
            return None;
        }
        // SAFETY: a held name's `text` and `len` are those of its interned text (`of`), which is
        // never freed or changed.
        let held = unsafe { std::slice::from_raw_parts(self.text, text.len()) };
        same_bytes(held, text.as_bytes()).then_some(name)
    }
}

/// Whether `a` and `b`, of the same length, hold the same bytes: names are mostly short, and up
/// to 16 bytes two overlapping words (or bytes) are compared in place instead of calling `memcmp`.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let len = a.len();
    let word = |bytes: &[u8], at: usize| {
        u64::from_ne_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
    };
    let half = |bytes: &[u8], at: usize| {
        u32::from_ne_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
    };
    match len {
        0 => true,
        1..=3 => a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, len - 8) == word(b, len - 8),
        _ => a == b,
    }
}

/// Calls `f` with the slot of [`intern`]'s table that `text` maps to.
fn recent_slot<R>(text: &str, f: impl FnOnce(&std::cell::Cell<Recent>) -> R) -> R {
    // 16 k slots of 16 bytes: 256 KiB a thread, and most of the names of a file and the next.
    const SLOTS: usize = 1 << 14;
    // Initialised as a constant, so an access checks no lazy state.
    thread_local! {
        static RECENT: [std::cell::Cell<Recent>; SLOTS] =
            const { [const { std::cell::Cell::new(Recent::EMPTY) }; SLOTS] };
    }
    let mut hasher = rustc_hash::FxHasher::default();
    std::hash::Hasher::write(&mut hasher, text.as_bytes());
    let slot = std::hash::Hasher::finish(&hasher) as usize & (SLOTS - 1);
    RECENT.with(|recent| f(&recent[slot]))
}

/// A name, or text that may spell one: what the tables keyed by names are asked with.
pub trait NameText {
    fn text(&self) -> &str;
    /// The name spelled so, if one was ever interned, found without interning the text: a text
    /// never interned is the key of no entry. A `Name` is its own answer; text is hashed to find
    /// it, which is why code that holds a name passes the name.
    fn interned(&self) -> Option<Name>;
    /// The name spelled so, interned if it was not: for tables about to be asked and then told
    /// under the same name, so that text is hashed once.
    fn to_name(&self) -> Name {
        self.interned().unwrap_or_else(|| Name::from(self.text()))
    }
}

impl NameText for str {
    fn text(&self) -> &str {
        self
    }
    fn interned(&self) -> Option<Name> {
        interned(self)
    }
    fn to_name(&self) -> Name {
        intern(self)
    }
}

impl<T: NameText + ?Sized> NameText for &T {
    fn text(&self) -> &str {
        (**self).text()
    }
    fn interned(&self) -> Option<Name> {
        (**self).interned()
    }
    fn to_name(&self) -> Name {
        (**self).to_name()
    }
}

impl NameText for String {
    fn text(&self) -> &str {
        self
    }
    fn interned(&self) -> Option<Name> {
        interned(self)
    }
    fn to_name(&self) -> Name {
        intern(self)
    }
}

impl NameText for Name {
    fn text(&self) -> &str {
        self.as_str()
    }
    fn interned(&self) -> Option<Name> {
        Some(*self)
    }
}

/// Tables keyed by names, asked with a name or with text ([`NameText`]).
pub trait ByText {
    type Value;
    fn get_text<K: NameText + ?Sized>(&self, key: &K) -> Option<&Self::Value>;
    fn contains_text<K: NameText + ?Sized>(&self, key: &K) -> bool {
        self.get_text(key).is_some()
    }
}

// An empty table answers without looking the text up in the interner: many tables asked at
// every call or name (a file's imports of mutating functions, a function's constructed locals)
// are empty in most files.
impl<V, S: BuildHasher> ByText for HashMap<Name, V, S> {
    type Value = V;
    fn get_text<K: NameText + ?Sized>(&self, key: &K) -> Option<&V> {
        if self.is_empty() {
            return None;
        }
        self.get(&key.interned()?)
    }
}

impl<S: BuildHasher> ByText for HashSet<Name, S> {
    type Value = Name;
    fn get_text<K: NameText + ?Sized>(&self, key: &K) -> Option<&Name> {
        if self.is_empty() {
            return None;
        }
        self.get(&key.interned()?)
    }
}

/// Index of a class in [`FileFacts::classes`].
pub type ClassIdx = u32;
/// Index of a function in [`FileFacts::functions`].
pub type FuncIdx = u32;

/// A byte range in the decoded source text of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: u32, end: u32) -> Self {
        Span { start, end }
    }
}

/// Each list is a `ThinVec`: one pointer, its length and capacity kept with its items, and no
/// allocation while empty. A file's facts have about sixty lists, most of them empty, held for
/// every file at once: as `Vec`s (24 bytes each) they were 1.5 KB a file. They read, print and
/// are encoded as `Vec`s do.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileFacts {
    pub imports: ThinVec<Import>,
    /// Module-level name bindings, in source order.
    pub globals: ThinVec<Binding>,
    pub classes: ThinVec<ClassFacts>,
    pub functions: ThinVec<FunctionFacts>,
    /// Assignments of an attribute (`self.x = v`, `C.x = v`, `self.a.b = v`) inside functions.
    pub attribute_assignments: ThinVec<AttributeAssignment>,
    /// In-place changes of objects reached from `self`, the class, typed locals or globals.
    pub mutations: ThinVec<Mutation>,
    /// `setattr(obj, name, value)` calls inside functions.
    pub setattr_calls: ThinVec<SetattrCall>,
    /// Starts of the `setattr(self, name, value)` calls whose `name` is bound by an enclosing
    /// loop of the same function over something read from the instance itself (`for name,
    /// state in self.states.items()`, `for name in dir(self)`), not over a literal list of
    /// names: they may set any attribute the instance's own state names.
    pub instance_named_setattrs: ThinVec<u32>,
    /// Attributes a loop gives each instance its own copy of:
    /// `for name in NAMES: setattr(self, name, copy(getattr(self, name)))`.
    pub instance_copies: ThinVec<InstanceCopy>,
    /// Calls inside functions that hand the class (`cls`, `type(self)`, `self.__class__`) to
    /// another function as a positional argument: that function may change the class.
    pub class_arguments: ThinVec<ClassArgument>,
    /// What functions do with parameters whose default is not a literal (and where any
    /// parameter is first rebound): see [`ParamUse`].
    pub param_uses: ThinVec<ParamUse>,
    /// Starts of the parameters whose default is an empty container and every read of which
    /// (nested functions included) is inside the branch of an `if` whose test requires the
    /// parameter's own name to be true (`if layout:`, `if layout and ok:`) or only reads the
    /// object or takes entries out (`layout.pop(k)`, `k in layout`, `dict(layout)`): nothing can
    /// fill the default, so it fails every such test and is never handed out nor changed.
    pub truth_guarded_params: ThinVec<u32>,
    /// Parameters of module-level functions that only choose between raising and returning
    /// `None` having stored nothing (`if exception: raise` ... `return None`), handed on only to
    /// the function's own recursive calls whose results are stored only when not `None`: with
    /// them, a call returns what it would with them false, or raises
    /// (`extract/raise_switches.rs`).
    pub raise_switches: ThinVec<(FuncIdx, Name)>,
    /// Starts of the first rebinds of parameters (`ParamUseKind::Rebound`) made after the
    /// function tested that parameter against `None` or for truth: `if not headers: headers =
    /// {}` replaces only a missing or empty argument, so what the caller passed may still be
    /// what later code changes.
    pub tested_param_rebinds: ThinVec<u32>,
    /// In-place changes of a call's result: `f().append(x)`, `self.load()[k] = v`.
    pub call_result_mutations: ThinVec<CallResultMutation>,
    /// `default=` keywords of calls bound at module or class level whose value may be a mutable
    /// object: `ContextVar("v", default={})`, `attr.ib(default=[])`.
    pub keyword_defaults: ThinVec<KeywordDefault>,
    /// What functions decorated `lru_cache`/`cache` return, and which module globals they read
    /// (`G`, and `G.attr` for attributes read from one).
    pub cached_returns: ThinVec<CachedReturn>,
    pub cached_global_reads: ThinVec<(FuncIdx, Name)>,
    /// Functions that return at once when a module global is already set and leave it set
    /// whenever they complete (`if _REGISTRY: return` before filling it): see [`RunOnceSetup`].
    pub run_once_setups: ThinVec<RunOnceSetup>,
    /// Calls of a name made as statements of a cached function's own body (`_discover()`),
    /// with the names read before them: see [`SetUpCall`].
    pub set_up_calls: ThinVec<SetUpCall>,
    /// `NAME = value` inside a function that declares `global NAME`.
    pub global_rebinds: ThinVec<GlobalRebind>,
    /// The names the module may rebind other than by a module-level `name = value` (what
    /// [`FileFacts::globals`] records): unpacking, `for`, `with`, `except`, `match`, `:=`, `del`,
    /// `+=` and `type` targets, in any scope, and names declared `global`; sorted. `*` alone when
    /// it may rebind any (it reads `globals`, `vars`, `locals`, `eval` or `exec`).
    pub other_rebinds: ThinVec<Name>,
    /// The attributes the module sets or deletes on an object it names other than `self` and
    /// `cls` (`config.Base = X`, `setattr(mod, "Base", X)`), in any scope; sorted.
    pub attribute_rebinds: ThinVec<Name>,
    /// The attributes the module sets or deletes on a dotted path of names, as `a.b.attr`
    /// (`app.progress.noProgress = X` after `import app.progress`), in any scope; sorted. The
    /// path may name a module: only resolving it tells.
    pub module_path_attribute_rebinds: ThinVec<Name>,
    /// The imported names whose namespace the module may write by a name it computes: the
    /// object of a `setattr` or `delattr` by a computed name, of `vars(mod)` or of
    /// `mod.__dict__`, in any scope; sorted.
    pub namespace_writes: ThinVec<Name>,
    /// Functions that tell whether an event loop held by a module global runs: no parameters,
    /// and a body (after a docstring) that is `return N is not None and N.is_running()`. Each
    /// with `N` (a global: the function binds nothing).
    pub loop_running_tests: ThinVec<(FuncIdx, Name)>,
    /// The names of `other_rebinds` that are there only because a `global` statement declares
    /// them: the module binds them otherwise only by `name = value` (at module level, or in the
    /// functions that declare them); sorted.
    pub rebound_only_as_declared_global: ThinVec<Name>,
    /// The names `global` statements declare, with the function whose statement it is (`None`
    /// at module level and in class bodies), in source order.
    pub global_declarations: ThinVec<(Option<FuncIdx>, Name)>,
    /// The parts of `if` statements that run only when a test call with no arguments is false:
    /// the `elif`/`else` clauses of `if f():`, the body of `if not f():`. Each as the index of
    /// the test's call in `calls` and the part's extent; the calls of the test's function inside
    /// it run only then.
    pub calls_unless_tested: ThinVec<(u32, Span)>,
    /// Stores of the running event loop in an attribute of an object the module names
    /// (see [`RunningLoopStore`]), in source order. They are not among `attribute_rebinds` nor
    /// `module_path_attribute_rebinds`: whoever asks those asks these too.
    pub running_loop_stores: ThinVec<RunningLoopStore>,
    /// Calls a generator function makes as statements of its own body (`f()` or `await f()`)
    /// before any statement holding a `return` or `yield`: they run each time the generator is
    /// first resumed, before it yields. Each as the function, the index in `calls` and whether
    /// the call is awaited.
    pub leading_calls: ThinVec<(FuncIdx, u32, bool)>,
    /// `f.cache_clear()` calls inside functions: the callee `f` as written.
    pub cache_clears: ThinVec<(FuncIdx, Name)>,
    /// `cache_clears` made after their function first yields (a context manager's exit), by
    /// index there, with the start of that first `yield`: what the generator changed before it
    /// yielded stays uncleared while the caller's block runs.
    pub cache_clears_after_yield: ThinVec<(u32, u32)>,
    /// `self.<attr>[key] = value` in a method where `key` and `value` are both parameters: a
    /// method that stores what it is given under the key it is given (a cache's `set`).
    pub param_keyed_stores: ThinVec<ParamKeyedStore>,
    /// Calls, and functions passed as arguments, in source order (the call graph's input).
    pub calls: ThinVec<CallSite>,
    /// Calls in the body of a lambda that its function returns (`return lambda *a:
    /// table[s](*a)`), by index in `calls`, ascending: they run when a caller calls the lambda,
    /// which the analysis does not follow, so its graph takes them as no call of the function.
    /// (The graph export keeps them as the function's, as it does every lambda's calls.)
    pub returned_lambda_calls: ThinVec<u32>,
    /// Module-level and class-body calls in a lambda or a generator expression (`make = lambda
    /// n: Page(n)`, `defaultdict(lambda: Page("x"))`), by index in `calls`, ascending: written
    /// at module level, they run when the lambda is called or the generator is consumed, which
    /// may be on any request, not while the module is imported.
    pub deferred_module_calls: ThinVec<u32>,
    /// Calls of a dotted callee whose first positional argument is the method's own instance
    /// (`Mixin.add_fields(self)`), by index in `calls`, ascending: a class's function run
    /// explicitly on `self`, so on the instances the calling method runs on.
    pub calls_on_own_instance: ThinVec<u32>,
    /// Where functions, classes and objects may flow: into names, out of functions, into
    /// arguments (the call graph follows calls through them).
    pub flows: ThinVec<ValueFlow>,
    /// The whole `def` statement of each function, parallel to `functions`.
    pub function_ranges: ThinVec<Span>,
    /// Memoisations into a cache: `if k not in C: C[k] = v`, `C.setdefault(k, v)`, ...
    pub memo_stores: ThinVec<MemoStore>,
    /// Starts of assignments that initialise something lazily, under a test that it is still
    /// unset: `if _engine is None: _engine = make()`, `self._client = self._client or connect()`.
    pub lazy_inits: ThinVec<u32>,
    /// The mutating-method calls whose receiver is exactly one element of the mutation's target
    /// (`C.x[k].update()`, `C.x.get(k).update()`, a local bound to one), not an attribute of an
    /// element nor an element of one. A call's span names its one mutation: chained calls
    /// (`C.x.setdefault(k, v).update()`) start at the same offset.
    pub element_receivers: ThinVec<Span>,
    /// Instance methods named like a container's mutating method (`update`, `append`) whose body
    /// uses the receiver at most in `return self`, deletes nothing, binds no walrus and calls
    /// nothing that reads the locals (`locals()`, `vars()`, `eval`, frames), in order.
    pub receiver_left_alone: ThinVec<FuncIdx>,
    /// Starts of the attribute assignment targets whose change is undone before the function
    /// returns: set after the value was saved in a local, and put back in a `finally` (`old =
    /// C.f; C.f = v; try: ... finally: C.f = old`), the restore included.
    pub restored_stores: ThinVec<u32>,
    /// Starts of the `V.set(v)` calls of `token = V.set(v)` just before a `try` whose `finally`
    /// starts with `V.reset(token)`, the `try` neither suspending nor copying the context for
    /// later code (`extract/restores.rs`, `reset_context_sets`): `v` is in no context once the
    /// function has returned.
    pub reset_context_sets: ThinVec<u32>,
    /// Starts of the calls that add a future to a container (`tasks.add(t)`) whose next statement
    /// hands the container's removal to the future as its done-callback
    /// (`t.add_done_callback(tasks.discard)`): the container holds it only until it is done.
    pub kept_until_done: ThinVec<u32>,
    /// The blocks of function bodies that run while a lock is held: the body of a `with` (or
    /// `async with`) one of whose items is a lock, and the body of a function decorated
    /// `@synchronized` or `@X.synchronized(...)`: see [`LockHeld`] and
    /// [`FileFacts::lock_held_at`].
    pub lock_held: ThinVec<LockHeld>,
    /// Starts of changes of a local or parameter made in the body of a `for` loop over that same
    /// object (`for k, v in options.items(): options[k] = ...`), the name bound only once in its
    /// function: on an empty container they never run.
    pub changed_while_iterated: ThinVec<u32>,
    /// Starts of changes of `self.x`, a local or a parameter that run only once an entry of that
    /// same object was read in a way that raises on an empty container: after an uncaught read by
    /// a constant index with no bind of the name in between (`if self.groups[-1] != g:
    /// self.groups.append(...)`, `syntax/extract/nonempty_reads.rs`), or by the method call's own
    /// arguments (`columns.insert(0, columns.pop(columns.index(name)))`,
    /// `syntax/extract/needs_entries.rs`). On an empty container they never run.
    pub changed_only_with_entries: ThinVec<u32>,
    /// Starts of the module- and class-level bindings and of the parameters whose value or
    /// default is an empty container: `{}`, `[]`, and `dict()`, `list()`, `set()` without
    /// arguments.
    pub empty_values: ThinVec<u32>,
    /// Calls made inside a first-time block: they run until the block's flag is set.
    pub first_time_calls: ThinVec<FirstTimeCall>,
    /// Stores of a false literal (`False`, `None`, `0`) into a shared name in functions, dotted as
    /// written (`ParserElement._enabled`, `cls._done`, `_LOADED` under `global`): each may make a
    /// first-time test hold again, so a block that name guards may run more than once.
    pub flag_clears: ThinVec<FlagClear>,
    /// Starts of item assignments whose key is a literal (`STATE["last"] = x`): they replace one
    /// entry rather than grow the container.
    pub constant_key_stores: ThinVec<u32>,
    /// Names of methods called on a local whose class cannot be known (`item.save()` with `item`
    /// unannotated), sorted and without repeats: such calls are not in `calls`, and any instance
    /// may run a method of that name.
    pub untyped_method_calls: ThinVec<Name>,
    /// Capitalised names, and dotted names ending in one, read as values (`[Volume, Snapshot]`,
    /// `kind = commands.Worker`, `return Volume`, `register(Volume)`), sorted and without
    /// repeats: not those called, whose attribute is taken, that are a class's base or that are
    /// handed to `super`, `isinstance` or `issubclass`. A class so read may be constructed by
    /// whatever receives it (`model::only_extended`).
    pub class_value_reads: ThinVec<Name>,
    /// Starts of stores of a parameter itself into a container (`REGISTRY.append(func)`,
    /// `HANDLERS[name] = handler`): the shape of a registration function.
    pub parameter_stores: ThinVec<u32>,
    /// Those of [`FileFacts::parameter_stores`] whose stored value is the parameter itself, a
    /// bare name (`REGISTRY[name] = handler`, `_PLUGINS.append(cls)`), with its name.
    pub stored_parameters: ThinVec<(u32, Name)>,
    /// Bodies of module-level `if __name__ == "__main__":` blocks: they run when the file is a
    /// script, not when it is imported.
    pub script_blocks: ThinVec<Span>,
    /// Changes of a local or parameter made only under `isinstance(name, T)` (an `if` or `elif`
    /// branch): the change's start and the types as written.
    pub type_guarded: ThinVec<(u32, Vec<Name>)>,
    /// Rebinds of a module global `G` (declared `global`) made directly in the body of an `if`
    /// or `elif` whose test is `not isinstance(G, T)`, `T` one name, to a new `T` made from `G`
    /// and constants alone (a `list`, `dict` or `set` display for those types, or a call of
    /// `T`; builtins such as `str` may be called on the parts): the rebind's start and `T` as
    /// written. The rebind runs only while `G` is not a `T`, leaves it one, and keeps nothing of
    /// the call (swift's `VALID_API_VERSIONS = [str(VALID_API_VERSIONS)]`).
    pub type_normalisations: ThinVec<(u32, Name)>,
    /// First-time bindings of a module global (starts among [`FileFacts::lazy_inits`]: `global
    /// G` then `if G is None: G = v`, the `if` testing `G` alone) whose value reads a parameter of
    /// the function that has no default: the start and the first such parameter. The first call that finds `G` unset fixes it with that
    /// call's data; every later call keeps it.
    pub first_call_data_inits: ThinVec<(u32, Name)>,
    /// Augmented assignments to a local (`local |= x`), by start, whose local the function binds
    /// in one statement alone besides them and bindings to immutable literals (`local = None`):
    /// `local = G`, with `G` a module global or an attribute of one (not `a or b`, not another
    /// local). The local holds what `G` held, a literal, or what the operators made of them.
    pub sole_alias_operators: ThinVec<u32>,
    /// Changes of a local or parameter made only under `name is not X` (an `if` or `elif`
    /// test, or one of the operands of its `and`): the change's start and `X` as written, dotted.
    /// A parameter whose default is `X` is never the object changed there. The change may go
    /// through a local alias of the parameter: `name` is then the alias, tested while it holds
    /// the parameter (`colours = colors` before `if colours is not MISSING: colours.x = v`).
    /// Also the aliases of a parameter `p` taken only under `p is not X` (`if colors is not
    /// MISSING: target = colors`), by the start of their read of `p` (a [`ParamUse::alias`]),
    /// when the alias is not itself a parameter that may keep its own default: a change through
    /// such an alias never reaches a default written `X`.
    pub identity_guarded: ThinVec<(u32, Name)>,
    /// Starts of the changes of a local or parameter made only under a test that requires it
    /// to be true (an `if` or `elif` test that is the name, or one of the operands of its `and`),
    /// through a local alias as for [`FileFacts::identity_guarded`]. A default that is always
    /// false (an instance of a class whose `__bool__` returns `False`) is never changed there.
    pub truth_guarded: ThinVec<u32>,
    /// Changes of a local or parameter made only under a test that requires an attribute of it
    /// to equal one of some literals (`if param.mode == "bypass":`, `in ("a", "b")`, `is None`;
    /// an `if` or `elif` test, or one of the operands of its `and`). An object whose attribute
    /// holds another literal for good is never changed there.
    pub literal_guarded: ThinVec<LiteralGuard>,
    /// Starts of the parameters whose default is a call with no arguments (`param=QueryParam()`):
    /// the object is what its class makes of nothing.
    pub bare_call_defaults: ThinVec<u32>,
    /// The class-level bindings to a literal a test may compare with ([`Literal`]), by the
    /// binding statement's start, in source order: `mode: str = "mix"` in a class body.
    pub class_literals: ThinVec<(u32, Literal)>,
    /// Changes and first rebinds of a function's parameters made only under a test of another
    /// of its parameters that the function never binds again: `tid is not None`, or `tid`'s
    /// truth (an `if` or `elif` test, or one of the operands of its `and`). A call that passes
    /// `None` (or, to a truth test, a false literal) for that parameter never gets there. So
    /// are the attribute stores on module-level names (`C.x = v`, SL103's resets) made only
    /// under such a test of one of the function's parameters. And,
    /// in instance methods, the changes of the instance's attributes made only under such a
    /// test of `self.<attr>` ([`Tested::SelfAttribute`]).
    pub param_guarded: ThinVec<ParamGuard>,
    /// Starts of the parameters whose default is a false literal (`None`, `False`, `0`, `""`):
    /// a call that leaves such a parameter out fails every test of its truth.
    pub false_defaults: ThinVec<u32>,
    /// What calls made in functions give the callee's parameters, for the calls whose
    /// arguments can fail a test of a parameter the callee makes (see [`CallArguments`]).
    pub call_arguments: ThinVec<CallArguments>,
    /// The literal `None` and other false literals (`False`, `0`, `""`) a call passes beside a
    /// defaulted parameter it hands on ([`ParamUseKind::Passed`]): what tests of the callee's
    /// parameters ([`FileFacts::param_guarded`]) they fail.
    pub false_arguments: ThinVec<FalseArgument>,
    /// `self.<attr> = <param>` stores of `__init__` methods (see [`ParamAttribute`]), in order.
    pub param_attributes: ThinVec<ParamAttribute>,
    /// The arguments of the calls module-level bindings are bound to, in binding order.
    pub binding_calls: ThinVec<BindingCall>,
    /// Attributes stored outside functions (at module level and in class bodies): `X.a = v`,
    /// `X.a += v`, `setattr(X, "a", v)`; sorted, without repeats.
    pub outer_attribute_stores: ThinVec<Name>,
    /// Code that runs only when `name` is not `X`, after an `if name is X:` whose branch ends in
    /// `return` or `raise`: the rest of the body, for such an `if` among a function's own
    /// statements with no `elif` or `else`; its `elif` and `else` clauses, for one anywhere in
    /// the function. Each as the start of the function's name, `name`, `X` as written (dotted)
    /// and the offsets where that code starts and ends. A parameter whose default is `X` is never
    /// the object read there.
    pub identity_exits: ThinVec<(u32, Name, Name, u32, u32)>,
    /// Module-level functions that take values out of a dict they are given on every call that
    /// does not raise (see [`NamespaceRemoval`]).
    pub namespace_removals: ThinVec<NamespaceRemoval>,
    /// Metaclass `__new__` methods that rewrite the class body's namespace before they make the
    /// class from it (see [`NamespaceRewrite`]).
    pub namespace_rewrites: ThinVec<NamespaceRewrite>,
    /// Calls `D(cls)` or `D(...)(cls)` of an `__init__` method's first parameter (the class, in
    /// a metaclass), made in statements of the method's own body before any that may return or
    /// rebind it: the method and `D` as written (`dataclasses.dataclass`, but also `vars`).
    pub decorating_inits: ThinVec<(FuncIdx, Name)>,
    /// `__init__` methods that call `super().__init__(...)` in a statement of their own body
    /// before any that may return or rebind their first parameter.
    pub super_calling_inits: ThinVec<FuncIdx>,
    /// `__init__` methods that hand the keywords they do not take to the base's `__init__`
    /// (`super().__init__(**kwargs)`) on every call, in the shape [`KwargsForward`] describes,
    /// in order.
    pub kwargs_forwards: ThinVec<KwargsForward>,
    /// Starts of the changes (mutations, attribute assignments and `setattr` calls), and of the
    /// calls in functions the call graph may resolve, that some calls of their function do not
    /// reach: inside a branch of an `if`, the body of a loop, an
    /// `except` handler or a `match` case, or after a `return` or `raise` inside one; inside an
    /// operand of `and`/`or`, a conditional expression, a comprehension or a lambda. Sorted.
    /// A change not listed runs on every call that neither ends early with an exception nor, in
    /// a generator, is left suspended at a `yield` before it.
    pub conditional_changes: ThinVec<u32>,
    /// The bodies of branches that no call runs: an `if`/`elif` whose test is false on every
    /// path to it (`if not name:` after `name = ".ssh"`), or a branch after one whose test is
    /// surely true (`syntax/extract/dead_branches.rs`). In start order.
    pub dead_code: ThinVec<DeadCode>,
    /// Module-level bindings (indexes in `globals`) to a container created with a bound:
    /// `deque(maxlen=100)`.
    pub bounded_globals: ThinVec<u32>,
    /// Objects a function creates that the functions defined inside it may keep (see
    /// [`ClosureLocal`]).
    pub closure_locals: ThinVec<ClosureLocal>,
    /// Items of a dict display handed to a call as an argument, under a string key, whose value
    /// is a name or attribute: `HTTPClient({"headers": self._headers})`.
    pub item_arguments: ThinVec<ItemArgument>,
    /// Attribute assignments (by index in `attribute_assignments`) whose value is an item, under
    /// a string key, of a name or attribute: `self._headers = config["headers"]`.
    pub item_reads: ThinVec<ItemRead>,
    /// `if self.m(...):` in a method: its body runs only when `m` returns a true value.
    pub self_call_guards: ThinVec<SelfCallGuard>,
    /// The `return` statements of instance methods (not of functions nested in them), in
    /// source order, with what they hand back.
    pub method_returns: ThinVec<MethodReturn>,
    /// `self.x = v` statements of the body of an instance method itself (not nested in an
    /// `if`, a loop or a `try`), which run on every call that gets past them: method, attribute,
    /// start.
    pub top_level_self_stores: ThinVec<(FuncIdx, Name, u32)>,
    /// Instance methods that return at once while an attribute of `self` fails a test (see
    /// [`SelfAttributeExit`]), in order.
    pub self_attribute_exits: ThinVec<SelfAttributeExit>,
    /// Where the module may write an attribute of some object by a name it computes, in any
    /// scope and whatever the object: `setattr` or `delattr` with a name that is not a string
    /// literal, a call of a `__setattr__` method, or a write into `vars(x)` or `x.__dict__`
    /// (anything but a call of one of their reading methods); the starts of those calls and
    /// namespace expressions, in walk order. A function whose span holds none of them (nested
    /// functions included) writes no attribute by a computed name itself.
    pub computed_attribute_writes: ThinVec<u32>,
    /// Names a nested function changes, or assigns attributes of, that an enclosing function
    /// binds: the closure's free variables that matter for sharing.
    pub captured: ThinVec<(FuncIdx, Name)>,
    /// `name = value` in a nested function that declares `name` `nonlocal`.
    pub closure_rebinds: ThinVec<ClosureRebind>,
    /// Functions decorated by a memoising decorator that builds its key itself: `@cached(c,
    /// key=lambda a, b: hashkey(a))`, `@cache.memoize()`.
    pub decorated_caches: ThinVec<DecoratedCache>,
    /// The receiver's attributes that `__repr__`, `__str__`, `__eq__`, `__hash__` and
    /// `__caching_id__` read (the parts of an object a key built from it can tell apart); `None`
    /// when the method uses the receiver otherwise.
    pub key_method_reads: ThinVec<(FuncIdx, Option<Vec<Name>>)>,
    /// Instance methods decorated `@property` or `@cached_property` alone whose body (a
    /// docstring aside) is only `return self.X` or `return self.X.Y...`: reading the property
    /// reads that attribute path (see [`AttributeProperty`]).
    pub attribute_properties: ThinVec<AttributeProperty>,
    /// What the return values of methods that a memo's value calls on the receiver
    /// (`C[k] = self.compile(k)`) may depend on, in [`MemoStore::value_inputs`]' terms: every
    /// name and receiver attribute (`self.x`; `self.m()` for a method called on it) the body
    /// reads outside the names it calls, its parameters included. Recorded only for a method
    /// whose body has no nested function, class, lambda, `yield`, `global`, `nonlocal` or
    /// `super()` (what the base's method reads is not followed).
    pub memo_method_reads: ThinVec<(FuncIdx, Vec<Name>)>,
    /// Calls of a class held as a value rather than named (`cls()`, `type(x)()`,
    /// `x.__class__()`), which the calls above leave out, in source order.
    pub class_calls: ThinVec<ClassCall>,
    /// Parts of the file that were not analysed (too deeply nested), with the reason.
    pub truncated: ThinVec<(Span, Name)>,
    /// Comments that suppress findings (`# noqa`, `# stateleak: ignore[...]`), in source order.
    pub suppressions: ThinVec<SuppressionComment>,
    /// The hashes of the names the calls are written with, worked out on first use
    /// ([`FileFacts::call_names`]); not stored in the cache.
    #[serde(skip)]
    pub kept_call_names: crate::call_names::KeptCallNames,
    /// The functions of each class, worked out on first use ([`FileFacts::class_methods`]); not
    /// stored in the cache.
    #[serde(skip)]
    pub kept_class_methods: crate::class_methods::KeptClassMethods,
    /// The calls SL203 follows to module-level instances, for the instances' names they were
    /// found for ([`crate::model::KeptSingletonCalls`]); not stored in the cache.
    #[serde(skip)]
    pub kept_singleton_calls: crate::model::KeptSingletonCalls,
}

impl FileFacts {
    /// Whether the module may write an attribute of some object by a name it computes (see
    /// [`FileFacts::computed_attribute_writes`]). A proof that nothing but one store binds an
    /// attribute holds only in a tree where no module does this.
    pub fn writes_computed_attributes(&self) -> bool {
        !self.computed_attribute_writes.is_empty()
    }

    /// The lock held where the code starting at `start` runs, as written (the innermost when
    /// several are): `start` lies in a block of [`FileFacts::lock_held`] and in no function
    /// defined inside that block (a nested function runs when it is called, not while the
    /// block holds the lock).
    pub fn lock_held_at(&self, start: u32) -> Option<&LockHeld> {
        self.lock_held
            .iter()
            .filter(|held| held.body.start <= start && start < held.body.end)
            .filter(|held| {
                !self
                    .function_ranges
                    .iter()
                    .any(|f| held.body.start <= f.start && f.start <= start && start < f.end)
            })
            .min_by_key(|held| held.body.end - held.body.start)
    }

    /// The branch of [`FileFacts::dead_code`] that the code starting at `start` lies in, if any.
    pub fn dead_branch_at(&self, start: u32) -> Option<&DeadCode> {
        self.dead_code
            .iter()
            .find(|dead| dead.body.start <= start && start < dead.body.end)
    }

    /// Whether the change starting at `start` runs on every call of its function (see
    /// [`FileFacts::conditional_changes`]): only then may a finding say "on every call".
    pub fn runs_on_every_call(&self, start: u32) -> bool {
        self.conditional_changes.binary_search(&start).is_err()
    }

    /// The hashes of the names each call of [`FileFacts::calls`] is written with, worked out on
    /// the first use and kept with these facts (which must not change after it).
    pub fn call_names(&self) -> &crate::call_names::CallNames {
        self.kept_call_names.get_or_init(self)
    }

    /// The functions of each class ([`crate::class_methods`]), worked out on the first use and
    /// kept with these facts (which must not change after it).
    pub fn class_methods(&self) -> &crate::class_methods::ClassMethods {
        self.kept_class_methods.get_or_init(self)
    }

    /// Whether `offset` lies in a module-level `if __name__ == "__main__":` block.
    pub fn in_script_block(&self, offset: u32) -> bool {
        self.script_blocks
            .iter()
            .any(|block| block.start <= offset && offset < block.end)
    }
}

/// A comment that suppresses findings on its line (see [`crate::suppression`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressionComment {
    /// 1-based line of the comment.
    pub line: u32,
    /// 1-based column of its `#`, in characters.
    pub column: u32,
    /// The comment, from its `#`.
    pub span: Span,
    /// The codes it names; empty for all codes (a bare `# noqa`).
    pub codes: Vec<Name>,
    /// Written `# stateleak: ignore` rather than `# noqa`.
    pub explicit: bool,
}

/// `import a.b as c` binds `c` to module `a.b`; `import a.b` binds `a` to module `a`;
/// `from ..m import C as D` binds `D` to `C` in the module two levels up, `m`; `from m import *`
/// has the binding `*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Import {
    pub binding: Name,
    pub target: ImportTarget,
    /// The function the import statement is in, when it is not at module level.
    pub function: Option<FuncIdx>,
    pub span: Span,
}

impl Import {
    /// `from module import *`: its binding is `*`.
    pub fn is_star(&self) -> bool {
        self.binding == "*"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportTarget {
    Module(Name),
    Member {
        level: u32,
        module: Option<Name>,
        name: Name,
    },
}

/// A name bound to a value at class or module level.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Binding {
    pub name: Name,
    pub value: Value,
    /// The annotation's outermost name (`ClassVar` for `ClassVar[dict]`), when annotated.
    pub annotation: Option<Name>,
    /// The class the annotation declares every element of the container to be, as written
    /// (`WebPage` for `Dict[int, "WebPage"]`; a mapping's keys must be `int`, `str`, ...).
    pub element_class: Option<Name>,
    /// The whole binding statement.
    pub span: Span,
}

/// A module-level function whose body, on every call that does not raise, loops over
/// `param.items()` (`param` its positional parameter at that index) and deletes `param[name]`
/// for every value that is an instance of one of `classes` (as written in the function's file):
/// `for name, value in tuple(d.items()): if isinstance(value, Override): del d[name]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamespaceRemoval {
    pub function: FuncIdx,
    pub param: u32,
    pub classes: Vec<Name>,
}

/// A metaclass's `__new__(mcs, name, bases, namespace)` that, on every call that does not raise,
/// before the statement that makes the class from `namespace` (`X.__new__(mcs, name, bases,
/// namespace)`), deletes from it the values that are instances of `removed` (its own loop, as
/// in [`NamespaceRemoval`]) and hands it to each function of `handed_to` (as written, and the
/// positional argument it is passed as).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamespaceRewrite {
    pub function: FuncIdx,
    pub removed: Vec<Name>,
    pub handed_to: Vec<(Name, u32)>,
}

/// What an expression evaluates to, as far as sharing is concerned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// A new container from a display or comprehension.
    Container(ContainerKind),
    /// A call of a (possibly dotted) name: `dict()`, `collections.deque()`, `Part()`.
    Call {
        callee: Name,
    },
    /// A new object copied from another: `x.copy()`, `x[:]`.
    Copy,
    /// The very object an access path refers to: `self.DEFAULTS`, `C.x`, `x or {}`.
    /// Boxed so that a value takes 16 bytes: it sits in every parameter and binding, and aliases
    /// are few.
    Alias(Box<AccessPath>),
    None,
    /// A literal of an immutable type (numbers, strings, tuples, frozensets of literals).
    Immutable,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerKind {
    List,
    Dict,
    Set,
}

impl ContainerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerKind::List => "list",
            ContainerKind::Dict => "dict",
            ContainerKind::Set => "set",
        }
    }
}

/// A branch no call of its function runs ([`FileFacts::dead_code`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadCode {
    pub function: FuncIdx,
    pub body: Span,
    /// The attributes of the method's class (`SSH_DIRS` of `self.SSH_DIRS[0]`) whose class-level
    /// tuple of true literals the proof reads: it holds only while nothing else in the tree binds
    /// or stores them (`model::dead_code`).
    pub class_attrs: Vec<Name>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassFacts {
    pub name: Name,
    /// `Outer.Inner` for nested classes.
    pub qualname: Name,
    /// Base class expressions as dotted names (`Generic[T]` is written `Generic`); `None` for a
    /// base that is not a name (a call, for example).
    pub bases: Vec<Option<Name>>,
    pub metaclass: Option<Name>,
    pub decorators: Vec<Decorator>,
    /// Bindings in the class body, in source order.
    pub bindings: Vec<Binding>,
    /// Defined inside a function body (then it is a new class on every call).
    pub in_function: bool,
    /// The class name.
    pub span: Span,
}

/// A block that runs while a lock is held ([`FileFacts::lock_held`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHeld {
    /// From the start of the block's first statement to the end of its last (for a decorated
    /// function, of its body).
    pub body: Span,
    /// The lock as written: `self._lock`, `get_lock(...)`, `self._locks[...]`, or the
    /// decorator's name (`lockutils.synchronized`).
    pub lock: Name,
    /// Held by a synchronizing decorator rather than a `with`.
    pub decorator: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decorator {
    pub name: Name,
    /// Written as a call: `@lru_cache(maxsize=None)`.
    pub called: bool,
    /// Keyword arguments of the call given the literal `True`: `frozen` in
    /// `@dataclass(frozen=True)`.
    pub true_keywords: Vec<Name>,
    /// The bound given as `maxsize=...` (or as the first positional argument), as written.
    pub maxsize: MaxSize,
    pub span: Span,
}

/// What a decorator's call gives as `maxsize`: `@lru_cache(maxsize=1)`, `@lru_cache(None)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaxSize {
    /// No argument, or no call (`@lru_cache`).
    NotGiven,
    /// The literal `None`.
    NoneLiteral,
    Literal(u32),
    /// A module-level name (`maxsize=CACHE_SIZE`), with the whole number a module-level
    /// `CACHE_SIZE = 7` bound it to before the decorator ran, if one did.
    Named {
        name: Name,
        value: Option<u32>,
    },
    /// Anything else.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FunctionKind {
    /// A function at module level.
    Module,
    /// A method whose first parameter is the instance.
    Instance,
    ClassMethod,
    StaticMethod,
    /// A function defined inside another function.
    Nested,
}

/// Its lists are `ThinVec`s, as [`FileFacts`]' are: one is held for every function of a project.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionFacts {
    pub name: Name,
    /// `Class.method`, `func.inner`.
    pub qualname: Name,
    pub kind: FunctionKind,
    /// The class whose body defines the function.
    pub class: Option<ClassIdx>,
    /// The function whose body defines this one.
    pub parent: Option<FuncIdx>,
    pub is_async: bool,
    pub decorators: ThinVec<Decorator>,
    pub params: ThinVec<Param>,
    /// Locals whose class is known: bound once to `C(...)`, or parameters annotated `C`.
    pub typed_locals: ThinVec<TypedLocal>,
    /// Names the function returns with `return NAME`, in first-seen order.
    pub returned_names: ThinVec<Name>,
    /// Some `return` gives something other than a plain name (or nothing).
    pub returns_other: bool,
    /// The function name.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TypedLocal {
    pub name: Name,
    /// The class as written.
    pub class: Name,
    /// Bound to `C(...)` (exactly `C`), rather than annotated (`C` or a subclass).
    pub exact: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Param {
    pub name: Name,
    pub annotation: Option<Name>,
    pub default: Option<Value>,
    pub span: Span,
}

/// A path from a root object through attributes: `self._samplecache`, `C.registry`, `cache`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccessPath {
    pub root: Root,
    pub attrs: Vec<Name>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Root {
    /// The first parameter of an instance method.
    SelfParam,
    /// The class: first parameter of a classmethod, `type(self)`, `self.__class__`.
    Class,
    /// A parameter or local variable of the enclosing function.
    Local(Name),
    /// A name not bound in the enclosing function: a module global, an import or a builtin.
    Global(Name),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributeAssignment {
    pub function: FuncIdx,
    /// The object whose attribute is assigned (`self` in `self.x = v`).
    pub object: AccessPath,
    pub attr: Name,
    pub value: Value,
    /// The assignment target.
    pub span: Span,
}

/// `setattr(object, name, value)` inside a function.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetattrCall {
    pub function: FuncIdx,
    pub object: AccessPath,
    /// The attribute name when it is a string literal.
    pub name: Option<Name>,
    /// The whole call.
    pub span: Span,
}

/// One attribute that `setattr(self, name, copy(getattr(self, name)))` in a loop over a list of
/// names copies into the instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceCopy {
    pub function: FuncIdx,
    pub attr: Name,
    /// The loop.
    pub span: Span,
}

/// A call that passes the class (`cls`, `type(self)`, `self.__class__`) as a positional argument.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassArgument {
    pub function: FuncIdx,
    /// The callee as written.
    pub callee: Name,
    /// 0-based position among the positional arguments.
    pub position: u32,
    /// The whole call.
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mutation {
    pub function: FuncIdx,
    /// The shared object that changes (`self._samplecache` in `self._samplecache[k].append(v)`).
    pub target: AccessPath,
    pub kind: MutationKind,
    /// The mutating expression or assignment target.
    pub span: Span,
    /// The change reaches an element of `target` (`self.x[k].append(v)`), not `target` itself.
    pub nested: bool,
    /// Where a local alias of `target` was taken, when the mutation goes through one.
    pub alias: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MutationKind {
    ItemAssign,
    ItemDelete,
    ItemAugAssign,
    SliceAssign,
    /// A mutating method: `append`, `update`, `setdefault`, ...
    Method(Name),
    /// `+=`, `|=`, ... applied to the object itself (in place for lists, sets and dicts).
    InPlaceOperator(Name),
    /// A function that mutates its first argument, as written: `heapq.heappush`, `insort`.
    MutatingCall(Name),
    /// `obj.attr = v` on an object reached through the target.
    AttributeAssign(Name),
    AttributeDelete(Name),
}

impl AccessPath {
    pub fn new(root: Root) -> Self {
        AccessPath {
            root,
            attrs: Vec::new(),
        }
    }
    pub fn with_attr(mut self, attr: &str) -> Self {
        self.attrs.push(attr.into());
        self
    }
    /// `self.x.y` as written in the source, for messages.
    pub fn display(&self) -> String {
        let mut out = match &self.root {
            Root::SelfParam => "self".to_string(),
            Root::Class => "cls".to_string(),
            Root::Local(n) | Root::Global(n) => n.to_string(),
        };
        for a in &self.attrs {
            out.push('.');
            out.push_str(a);
        }
        out
    }
}

/// One thing a function does with the object one of its parameters names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamUse {
    /// The function whose parameter it is (uses inside nested functions count for it).
    pub function: FuncIdx,
    /// Index in [`FunctionFacts::params`].
    pub param: u32,
    pub kind: ParamUseKind,
    pub span: Span,
    /// Where a local alias of the parameter was taken, when the use goes through one.
    pub alias: Option<Span>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ParamUseKind {
    /// The first time the parameter is bound to another object (recorded for every parameter).
    Rebound,
    /// Changed in place: the index of the change in [`FileFacts::mutations`].
    Mutated(u32),
    Returned,
    Yielded,
    /// Returned or yielded as an element of a tuple, list or set display (`return filters,
    /// types`): the caller gets the object too, though nothing follows it through the display.
    ReturnedInside,
    /// Stored where it outlives the call: in a global, on an attribute, or in a container reached
    /// from `self`, the class, a global or a parameter.
    Stored,
    /// Handed to a function as an argument.
    Passed {
        callee: Name,
        argument: Argument,
    },
}

/// A change or rebind that runs only while what `tested` names is not `None`, or only while it
/// is true (`truth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamGuard {
    /// The start of the guarded change or rebind.
    pub start: u32,
    pub tested: Tested,
    pub truth: bool,
}

/// What a [`ParamGuard`]'s test reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tested {
    /// A parameter of the function (an index in [`FunctionFacts::params`]) that it never binds
    /// again; the guarded changes and rebinds are of its other parameters.
    Param {
        index: u32,
        /// Whether a positional argument may give the parameter its value (not a keyword-only
        /// one).
        positional: bool,
        /// Whether a keyword argument may give it its value (not a positional-only one).
        keyword: bool,
    },
    /// `self.<attr>` in an instance method; the guarded changes are assignments of attributes of
    /// `self` and changes of what they hold, in the method's own body.
    SelfAttribute(Name),
}

/// `self.<attr> = <param>` in the body of an `__init__` (not in a function nested in it), the
/// parameter never bound again in the method: what the instance holds there unless something
/// else stores the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamAttribute {
    /// Index in [`FileFacts::attribute_assignments`].
    pub assignment: u32,
    /// Index in the `__init__`'s [`FunctionFacts::params`].
    pub param: u32,
}

/// An `__init__` whose own body calls `super().__init__(**kwargs)` (`kwargs` its `**`
/// parameter; optionally also `*args`, its `*` parameter, and keywords written out) in a statement
/// no earlier one may skip, uses those parameters nowhere else, calls no other `__init__`, reads
/// no frame's locals and has no decorator: the base's `__init__` gets, on every call, the
/// construction call's keywords that this method does not name, unchanged, and nothing else by
/// keyword but `keywords`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KwargsForward {
    pub function: FuncIdx,
    /// How many parameters after `self` a positional argument may fill.
    pub positional: u32,
    pub star_args: StarArgs,
    /// The parameters a keyword argument gives a value to (all but `self` and the
    /// positional-only ones): a keyword of one of these names stays in this method.
    pub taken_keywords: Vec<Name>,
    /// The keywords the forward writes out besides `**kwargs`, in order.
    pub keywords: Vec<Name>,
}

/// What a [`KwargsForward`]'s method does with positional arguments beyond its own parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StarArgs {
    /// No `*` parameter: such a call raises `TypeError`.
    Absent,
    /// A `*` parameter the method keeps to itself.
    Kept,
    /// A `*` parameter the forward hands on, first and alone among its positional arguments.
    HandedOn,
}

/// The arguments of the call a module-level binding is bound to (`link = Link(text="x")`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingCall {
    /// Index in [`FileFacts::globals`].
    pub global: u32,
    /// How many positional arguments are written before any `*` splat.
    pub positional: u32,
    /// Whether the call has a `*` or `**` splat: then any parameter may get a value.
    pub splat: bool,
    /// The keyword arguments' names, in order.
    pub keywords: Vec<Name>,
    /// The keyword arguments given a false literal, and whether it is `None`.
    pub false_keywords: Vec<(Name, bool)>,
}

/// The arguments of a call made in a function, recorded when the call has none or passes a
/// false literal or one of its function's own parameters: what a test of the callee's
/// parameter can know of the value the call gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallArguments {
    /// Index in [`FileFacts::calls`].
    pub call: u32,
    /// The positional arguments written before any `*` splat.
    pub positional: ThinVec<Given>,
    /// The keyword arguments, by name.
    pub keywords: ThinVec<(Name, Given)>,
    /// Whether the call has a `*` or `**` splat: then any parameter may get a value.
    pub splat: bool,
}

/// A literal that `==`, `is` and `in` compare by value: `None`, an integer (a `bool` as the `0`
/// or `1` that `==` takes it for), or a string short enough to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Literal {
    None,
    Int(i64),
    Str(Name),
}

/// A change (by its start) made only where its receiver's attribute `attr` equals one of
/// `literals` ([`FileFacts::literal_guarded`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiteralGuard {
    pub start: u32,
    pub attr: Name,
    pub literals: ThinVec<Literal>,
}

/// What one argument of a [`CallArguments`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Given {
    /// A false literal; `none` when it is `None`.
    False { none: bool },
    /// A parameter of the calling function (an index in its [`FunctionFacts::params`]), named
    /// as it is: the value the caller got, unless the caller binds the name again.
    Parameter(u32),
    /// Anything else.
    Other,
}

/// A literal false argument of a call that hands on a defaulted parameter: the start of that
/// parameter's [`ParamUse`], where the literal is passed, and whether it is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FalseArgument {
    pub use_start: u32,
    pub argument: Argument,
    pub none: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Argument {
    /// 0-based among the positional arguments as written.
    Position(u32),
    Keyword(Name),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallResultMutation {
    pub function: FuncIdx,
    /// The called function as written: `get_config`, `self.load`.
    pub callee: Name,
    pub kind: MutationKind,
    pub span: Span,
    /// The change is made to the result itself (`f().clear()`), not to an attribute or item of
    /// it (`f().items.clear()`, `f()[k].clear()`).
    pub direct: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeywordDefault {
    /// The class whose body binds it; `None` at module level.
    pub class: Option<ClassIdx>,
    pub name: Name,
    pub callee: Name,
    pub default: Value,
    /// The default expression.
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedReturn {
    pub function: FuncIdx,
    /// A returned local stands for the value it was last bound to.
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GlobalRebind {
    pub function: FuncIdx,
    pub name: Name,
    pub span: Span,
}

/// A store of a false literal into a shared name, in a function ([`FileFacts::flag_clears`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagClear {
    pub function: FuncIdx,
    /// The name stored into, dotted as written, as [`FirstTimeCall::flag`] is.
    pub name: Name,
    /// Whether the name starts at the method's receiver (`self._x`, `cls._x`), so that it means
    /// an attribute of that class (or instance) alone.
    pub through_receiver: bool,
}

/// `X.attr = asyncio.get_running_loop()` (one target, an attribute of a name other than `self`
/// and `cls`, or of a dotted path of names): the event loop running the code, kept where other
/// code finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningLoopStore {
    /// The function whose code stores it; `None` at module level and in class bodies.
    pub function: Option<FuncIdx>,
    /// The target as written: `core.loop`.
    pub target: Name,
    /// The call as written: `asyncio.get_running_loop`.
    pub callee: Name,
    /// The start of the assignment.
    pub start: u32,
    /// A statement of its function's own body after no statement that holds a `return` or a
    /// `yield`: every call of the function that does not raise first makes it (for a generator,
    /// before it first yields).
    pub every_run: bool,
    /// Its function holds a `yield`: calling it runs none of its body.
    pub in_generator: bool,
}

/// A call inside a first-time block (`if not self.discovered: self.discover_apps()`, `if _X is
/// None: _X = load()`): once the block's flag is set, the block no longer runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstTimeCall {
    /// Index in [`FileFacts::calls`].
    pub call: u32,
    /// What the block's test reads, dotted as written: `self.discovered`, `_X`, `cls._x`.
    pub flag: Name,
    /// Whether the block itself sets the flag to a value that ends the block; if not, the callee
    /// must set it for the call to run once.
    pub set_in_block: bool,
}

/// A call, or a function passed to a call as an argument (a callback), as written.
///
/// 24 bytes: the function the call is in, whether it follows a rebinding of its name and whether
/// it is a reference share one word ([`CallSite::function`], [`CallSite::after_rebinding`],
/// [`CallSite::reference`]), and the receiver is kept as one number
/// ([`receiver_number`], read through [`CallSite::receiver`]). It prints and is encoded field by
/// field as [`CallSiteParts`] (the cache's encoding is that of the 40-byte layout it replaced).
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "CallSiteParts", into = "CallSiteParts")]
pub struct CallSite {
    /// The function the call is in (the low 30 bits; [`NO_FUNCTION`] for none), whether it is made
    /// after a rebinding of its name (bit 30, [`CallSite::after_rebinding`]) and whether it is
    /// a reference (the top bit).
    origin: u32,
    /// The receiver, as [`receiver_number`] gives it.
    receiver: u32,
    /// The callee after the receiver, dotted: `save` and `store.save` (for
    /// [`CallReceiver::Name`]), `repo.save` for `self.repo.save()`, `m` for `super().m()`.
    pub callee: Name,
    /// Index in [`FileFacts::calls`] of the call this one is a direct argument of.
    pub argument_of: MaybeIndex,
    pub span: Span,
}

/// [`CallSite::origin`]'s function bits when the call is at module level or in a class body.
/// No function index reaches it: a function takes at least four bytes of source (`lambda`), and
/// a file's offsets are `u32`, so a file holds fewer than 2^30 functions.
const NO_FUNCTION: u32 = u32::MAX >> 2;
const REFERENCE_BIT: u32 = 1 << 31;
/// [`CallSite::after_rebinding`].
const REBOUND_BIT: u32 = 1 << 30;
const FUNCTION_BITS: u32 = !(REFERENCE_BIT | REBOUND_BIT);

impl CallSite {
    /// A call site in `function` (`None` at module level and in class bodies); `reference` when
    /// the callee is passed as an argument, not called. `None` when the function's index or the
    /// receiver's call index is one no file reaches (see [`NO_FUNCTION`] and
    /// [`FIRST_RECEIVER_KIND`]).
    pub fn try_new(
        function: Option<FuncIdx>,
        receiver: CallReceiver,
        callee: Name,
        reference: bool,
        argument_of: MaybeIndex,
        span: Span,
    ) -> Option<CallSite> {
        if function.is_some_and(|index| index >= NO_FUNCTION) {
            return None;
        }
        let index = function.unwrap_or(NO_FUNCTION);
        Some(CallSite {
            origin: index | if reference { REFERENCE_BIT } else { 0 },
            receiver: receiver_number(receiver)?,
            callee,
            argument_of,
            span,
        })
    }

    /// [`CallSite::try_new`] for a call extracted from a file, whose indexes are in range.
    pub fn new(
        function: Option<FuncIdx>,
        receiver: CallReceiver,
        callee: Name,
        reference: bool,
        argument_of: MaybeIndex,
        span: Span,
    ) -> CallSite {
        CallSite::try_new(function, receiver, callee, reference, argument_of, span)
            .expect("a function index of 2^30 - 1 or more, or a call index no file reaches")
    }

    /// Marks the call as made through a local that an assignment in the function rebound before
    /// it on every path ([`CallSite::after_rebinding`]).
    pub fn set_after_rebinding(&mut self) {
        self.origin |= REBOUND_BIT;
    }

    /// Made through a local name (or a dotted name on one, [`CallReceiver::Local`]) that an
    /// assignment in the same function, other than an import, bound on every path to the call,
    /// with no import of the name since: Python binds a function's locals per call, so the call
    /// runs what that assignment bound (`get_events = sync_to_async(get_events)`), not what an
    /// import of the name, or a function of the module named alike, would be.
    #[inline]
    pub fn after_rebinding(&self) -> bool {
        self.origin & REBOUND_BIT != 0
    }

    /// The function the call is in; `None` at module level and in class bodies.
    #[inline]
    pub fn function(&self) -> Option<FuncIdx> {
        let index = self.origin & FUNCTION_BITS;
        (index != NO_FUNCTION).then_some(index)
    }

    /// Passed as an argument (`submit(fn)`, `path("", views.index)`), not called here.
    #[inline]
    pub fn reference(&self) -> bool {
        self.origin & REFERENCE_BIT != 0
    }

    /// What the callee is looked up on.
    #[inline]
    pub fn receiver(&self) -> CallReceiver {
        receiver_of_number(self.receiver)
    }

    /// Sets the receiver, a call's result at an index a file reaches (see [`CallSite::new`]).
    pub fn set_receiver(&mut self, receiver: CallReceiver) {
        self.receiver =
            receiver_number(receiver).expect("a call index no file reaches (see NAME_TARGET)");
    }

    fn parts(&self) -> CallSiteParts {
        CallSiteParts {
            function: self.function(),
            receiver: self.receiver(),
            callee: self.callee,
            reference: self.reference(),
            after_rebinding: self.after_rebinding(),
            argument_of: self.argument_of,
            span: self.span,
        }
    }
}

/// A [`CallSite`] field by field, as it is printed and encoded.
#[derive(Debug, Serialize, Deserialize)]
struct CallSiteParts {
    function: Option<FuncIdx>,
    receiver: CallReceiver,
    callee: Name,
    reference: bool,
    after_rebinding: bool,
    argument_of: MaybeIndex,
    span: Span,
}

impl TryFrom<CallSiteParts> for CallSite {
    type Error = &'static str;

    fn try_from(parts: CallSiteParts) -> Result<CallSite, &'static str> {
        CallSite::try_new(
            parts.function,
            parts.receiver,
            parts.callee,
            parts.reference,
            parts.argument_of,
            parts.span,
        )
        .map(|mut site| {
            if parts.after_rebinding {
                site.set_after_rebinding();
            }
            site
        })
        .ok_or("a call site's function or call index no file reaches")
    }
}

impl From<CallSite> for CallSiteParts {
    fn from(site: CallSite) -> CallSiteParts {
        site.parts()
    }
}

impl std::fmt::Debug for CallSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = self.parts();
        f.debug_struct("CallSite")
            .field("function", &parts.function)
            .field("receiver", &parts.receiver)
            .field("callee", &parts.callee)
            .field("reference", &parts.reference)
            .field("after_rebinding", &parts.after_rebinding)
            .field("argument_of", &parts.argument_of)
            .field("span", &parts.span)
            .finish()
    }
}

/// An index that may be missing, in 4 bytes where `Option<u32>` takes 8 (so that a call site
/// takes 32 bytes, not 40): `u32::MAX` stands for none. It reads, prints and is encoded as an
/// `Option<u32>`; an encoding of `Some(u32::MAX)` is refused.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MaybeIndex(u32);

impl MaybeIndex {
    pub const NONE: MaybeIndex = MaybeIndex(u32::MAX);

    /// `None` for `Some(u32::MAX)`, which no fact index reaches.
    pub fn new(index: Option<u32>) -> Option<MaybeIndex> {
        match index {
            None => Some(MaybeIndex::NONE),
            Some(u32::MAX) => None,
            Some(index) => Some(MaybeIndex(index)),
        }
    }

    pub fn get(self) -> Option<u32> {
        (self != MaybeIndex::NONE).then_some(self.0)
    }
}

impl std::fmt::Debug for MaybeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl Serialize for MaybeIndex {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MaybeIndex {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        MaybeIndex::new(Option::<u32>::deserialize(deserializer)?)
            .ok_or_else(|| serde::de::Error::custom("an index of u32::MAX"))
    }
}

/// A value that may flow somewhere: `handler = views.index`, `return inner`, `x = make()`,
/// `run(job)`. A container holds what is put in it and gives it back when read or iterated
/// (`d = {"a": f}`, `d["a"]`, `for g in d`): containers are not told apart from their elements.
///
/// 20 bytes: the target and the source are kept as their names and numbers, which tell their
/// kinds apart (read them whole through [`ValueFlow::target`] and [`ValueFlow::source`]). It
/// prints and is encoded field by field as [`ValueFlowParts`] (the cache's encoding is that of
/// the 40-byte layout it replaced).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ValueFlowParts", into = "ValueFlowParts")]
pub struct ValueFlow {
    /// The function the flow is in; none at module level.
    function: MaybeIndex,
    /// The target's kind and call: the call of a keyword argument target, the call with
    /// [`POSITIONAL_BIT`] of a positional one, else [`NAME_TARGET`], [`GLOBAL_NAME_TARGET`] or
    /// [`RETURN_TARGET`].
    target_call: u32,
    /// The number of the target's name or keyword ([`Name::number`]), the index of a positional
    /// argument target, 0 for what is returned.
    target_word: u32,
    /// The name a [`FlowSource::Name`] reads; none for a call's result.
    source_name: Option<Name>,
    /// The call of a [`FlowSource::CallResult`]; with a name, its receiver (see
    /// [`receiver_number`]).
    source_number: u32,
}

/// [`ValueFlow::target_call`] of a name target, of one declared `global`, and of what is
/// returned. No argument target's call reaches them, with or without [`POSITIONAL_BIT`] (see
/// [`NO_ARGUMENT_CALL`]).
const NAME_TARGET: u32 = u32::MAX;
const GLOBAL_NAME_TARGET: u32 = u32::MAX - 1;
const RETURN_TARGET: u32 = u32::MAX - 2;
/// Set in [`ValueFlow::target_call`] for a positional argument target.
const POSITIONAL_BIT: u32 = 1 << 31;
/// The first call index an argument target may not hold (2^31 - 3): with [`POSITIONAL_BIT`] or
/// without it, it would read as a name target or what is returned. No file reaches it: a call
/// takes at least three bytes of source (`f()`), and a file's offsets are `u32`, so a call index
/// is below `u32::MAX / 3`.
const NO_ARGUMENT_CALL: u32 = RETURN_TARGET & !POSITIONAL_BIT;

/// The receivers other than a call's result, as [`ValueFlow::source_number`] and
/// [`CallSite::receiver`] keep them: the numbers from [`FIRST_RECEIVER_KIND`] up to
/// `u32::MAX - 1`, which no call index reaches (see [`NAME_TARGET`]). `u32::MAX` stays the
/// result of call `u32::MAX`, which the extractor writes for a call's result whose call is not
/// noted.
const RECEIVER_KINDS: [CallReceiver; 6] = [
    CallReceiver::Name,
    CallReceiver::Local,
    CallReceiver::SelfParam,
    CallReceiver::Class,
    CallReceiver::Super,
    CallReceiver::NewInstance,
];
const FIRST_RECEIVER_KIND: u32 = u32::MAX - RECEIVER_KINDS.len() as u32;

/// A receiver as one number: the call of [`CallReceiver::CallResult`], or its place among
/// [`RECEIVER_KINDS`] from [`FIRST_RECEIVER_KIND`]. `None` for a call index that reaches them.
fn receiver_number(receiver: CallReceiver) -> Option<u32> {
    match receiver {
        CallReceiver::CallResult(call) => {
            (call < FIRST_RECEIVER_KIND || call == u32::MAX).then_some(call)
        }
        kind => {
            let at = RECEIVER_KINDS.iter().position(|k| *k == kind)?;
            Some(FIRST_RECEIVER_KIND + at as u32)
        }
    }
}

/// The receiver [`receiver_number`] gave `number` for.
#[inline]
fn receiver_of_number(number: u32) -> CallReceiver {
    match number.checked_sub(FIRST_RECEIVER_KIND) {
        Some(at) if number != u32::MAX => RECEIVER_KINDS[at as usize],
        _ => CallReceiver::CallResult(number),
    }
}

impl ValueFlow {
    /// A flow in `function` (`None` at module level) from `source` into `target`; `None` when a
    /// call index is one no file reaches (see [`NAME_TARGET`] and [`FIRST_RECEIVER_KIND`]), or the
    /// function's index is `u32::MAX` (see [`MaybeIndex`]).
    pub fn try_new(
        function: Option<FuncIdx>,
        target: FlowTarget,
        source: FlowSource,
    ) -> Option<ValueFlow> {
        let (target_call, target_word) = match target {
            FlowTarget::Name { name, global } => (
                if global {
                    GLOBAL_NAME_TARGET
                } else {
                    NAME_TARGET
                },
                name.number(),
            ),
            FlowTarget::Return => (RETURN_TARGET, 0),
            FlowTarget::PositionalArgument { call, index } => {
                if call >= NO_ARGUMENT_CALL {
                    return None;
                }
                (call | POSITIONAL_BIT, index)
            }
            FlowTarget::KeywordArgument { call, keyword } => {
                if call >= NO_ARGUMENT_CALL {
                    return None;
                }
                (call, keyword.number())
            }
        };
        let (source_name, source_number) = match source {
            FlowSource::Name { receiver, name } => (Some(name), receiver_number(receiver)?),
            FlowSource::CallResult(call) => (None, call),
        };
        Some(ValueFlow {
            function: MaybeIndex::new(function)?,
            target_call,
            target_word,
            source_name,
            source_number,
        })
    }

    /// [`ValueFlow::try_new`] for a flow extracted from a file, whose indexes are in range.
    pub fn new(function: Option<FuncIdx>, target: FlowTarget, source: FlowSource) -> ValueFlow {
        ValueFlow::try_new(function, target, source)
            .expect("a call or function index no file reaches (see NAME_TARGET)")
    }

    /// The function the flow is in; `None` at module level.
    #[inline]
    pub fn function(&self) -> Option<FuncIdx> {
        self.function.get()
    }

    #[inline]
    pub fn target(&self) -> FlowTarget {
        // SAFETY (the names): `try_new`, the only maker of a flow, keeps a name's number in
        // `target_word` for a name target and for a keyword argument target.
        match self.target_call {
            NAME_TARGET | GLOBAL_NAME_TARGET => FlowTarget::Name {
                name: unsafe { Name::from_number(self.target_word) },
                global: self.target_call == GLOBAL_NAME_TARGET,
            },
            RETURN_TARGET => FlowTarget::Return,
            call if call & POSITIONAL_BIT != 0 => FlowTarget::PositionalArgument {
                call: call & !POSITIONAL_BIT,
                index: self.target_word,
            },
            call => FlowTarget::KeywordArgument {
                call,
                keyword: unsafe { Name::from_number(self.target_word) },
            },
        }
    }

    #[inline]
    pub fn source(&self) -> FlowSource {
        match self.source_name {
            None => FlowSource::CallResult(self.source_number),
            Some(name) => FlowSource::Name {
                receiver: receiver_of_number(self.source_number),
                name,
            },
        }
    }

    fn parts(&self) -> ValueFlowParts {
        ValueFlowParts {
            function: self.function(),
            target: self.target(),
            source: self.source(),
        }
    }
}

/// A [`ValueFlow`] field by field, as it is printed and encoded.
#[derive(Debug, Serialize, Deserialize)]
struct ValueFlowParts {
    function: Option<FuncIdx>,
    target: FlowTarget,
    source: FlowSource,
}

impl TryFrom<ValueFlowParts> for ValueFlow {
    type Error = &'static str;

    fn try_from(parts: ValueFlowParts) -> Result<ValueFlow, &'static str> {
        ValueFlow::try_new(parts.function, parts.target, parts.source)
            .ok_or("a value flow's call or function index no file reaches")
    }
}

impl From<ValueFlow> for ValueFlowParts {
    fn from(flow: ValueFlow) -> ValueFlowParts {
        flow.parts()
    }
}

impl std::fmt::Debug for ValueFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = self.parts();
        f.debug_struct("ValueFlow")
            .field("function", &parts.function)
            .field("target", &parts.target)
            .field("source", &parts.source)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowTarget {
    /// A name of the function (a local or parameter), or of the module when the flow is at module
    /// level or the function declares the name `global`.
    Name { name: Name, global: bool },
    /// What the function returns or yields.
    Return,
    /// A positional argument (`index`, 0-based among them) of the call site at index `call` of
    /// [`FileFacts::calls`].
    PositionalArgument { call: u32, index: u32 },
    /// The argument passed by `keyword` to the call site at index `call`.
    KeywordArgument { call: u32, keyword: Name },
}

impl FlowTarget {
    /// The call site and the position of an argument target.
    pub fn argument(&self) -> Option<(u32, ArgPosition)> {
        match *self {
            FlowTarget::PositionalArgument { call, index } => {
                Some((call, ArgPosition::Index(index)))
            }
            FlowTarget::KeywordArgument { call, keyword } => {
                Some((call, ArgPosition::Keyword(keyword)))
            }
            FlowTarget::Name { .. } | FlowTarget::Return => None,
        }
    }
}

/// Where an argument is passed, as [`FlowTarget::argument`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgPosition {
    /// 0-based among the positional arguments.
    Index(u32),
    Keyword(Name),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowSource {
    /// A name read, written like a callee: `f`, `mod.f`, `obj.m`, `self.m` (`m`).
    Name { receiver: CallReceiver, name: Name },
    /// The result of the call site at this index of [`FileFacts::calls`].
    CallResult(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallReceiver {
    /// A name not bound in the function: a module global, an import or a builtin.
    Name,
    /// A name bound in the function or an enclosing one (a parameter, a local, a nested `def`).
    Local,
    /// The instance parameter of a method.
    SelfParam,
    /// The class: `cls`, `type(self)`.
    Class,
    /// `super()`.
    Super,
    /// A method of an object constructed in place: `Tracker().record()` is written
    /// `Tracker.record`.
    NewInstance,
    /// What the call site at this index of [`FileFacts::calls`] returns: `make()()`; the callee
    /// is empty.
    CallResult(u32),
}

/// An object created in a function that defines other functions, which may keep it in their
/// closure: `state = {}`, `holder = Holder()`, or the function's `**kwargs` dict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClosureLocal {
    pub function: FuncIdx,
    pub name: Name,
    pub value: Value,
    /// Index in [`FunctionFacts::params`] when it is the `**kwargs` parameter.
    pub param: Option<u32>,
    /// The binding statement or the parameter.
    pub span: Span,
}

/// An item of a dict display passed as an argument (see [`FileFacts::item_arguments`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemArgument {
    pub function: FuncIdx,
    /// The called function as written: `HTTPClient`, `self._build`.
    pub callee: Name,
    pub argument: Argument,
    pub key: Name,
    pub value: AccessPath,
    /// The item's value.
    pub span: Span,
}

/// See [`FileFacts::self_call_guards`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelfCallGuard {
    pub function: FuncIdx,
    pub method: Name,
    /// From the first statement of the `if` body to the end of its last.
    pub body: Span,
}

/// A call that makes an instance of a class held as a value: the class a method runs for
/// (`cls(...)` in a classmethod, `type(self)(...)`, `self.__class__(...)`: `own`), or another
/// object's class (`type(x)(...)`, `x.__class__(...)`). Where the tree makes a class's
/// instances with no name of the class written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCall {
    /// The function the call is in; `None` at module level and in class bodies.
    pub function: Option<FuncIdx>,
    pub start: u32,
    pub own: bool,
    /// The local that `name = cls(...)`, the whole statement's value, binds the new object to.
    pub bound_to: Option<Name>,
}

/// An instance method whose first statement (after its docstring) is `if not self.<attr>:
/// return` (`truth`: the rest runs only while the attribute is true) or `if self.<attr> is None:
/// return` (only while it is not `None`), with no `elif` or `else`, returning nothing or `None`.
/// On an instance whose attribute fails the test for good, a call of the method does nothing but
/// bind its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfAttributeExit {
    pub function: FuncIdx,
    pub attr: Name,
    pub truth: bool,
}

/// A property whose body (a docstring aside) is only `return self.<path>` (see
/// [`FileFacts::attribute_properties`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct AttributeProperty {
    pub function: FuncIdx,
    /// The attribute path returned, dotted: `X` for `self.X`, `X.Y` for `self.X.Y`.
    pub path: Name,
    /// The one decorator, as written: `property`, or a name ending in `cached_property`
    /// (resolved by whoever asks: `functools.cached_property` keeps the first value it
    /// computes on the instance).
    pub decorator: Name,
}

/// See [`FileFacts::method_returns`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodReturn {
    pub function: FuncIdx,
    pub start: u32,
    pub value: Returned,
}

/// What a `return` hands back, as far as truth tests care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Returned {
    /// Nothing, `None`, `False` or `0`: never a true value.
    Falsy,
    /// `self.<attr>` of the method's instance.
    SelfAttribute(Name),
    Other,
}

/// `self.x = source["key"]` (see [`FileFacts::item_reads`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemRead {
    /// Index in [`FileFacts::attribute_assignments`].
    pub assignment: u32,
    pub source: AccessPath,
    pub key: Name,
}

/// A function decorated by a memoising decorator that builds its own key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecoratedCache {
    pub function: FuncIdx,
    /// The decorator as written: `cached`, `cachetools.cached`, `cache.memoize`.
    pub decorator: Name,
    /// The parameters a `key=lambda ...` uses (matched to the function's by position), sorted;
    /// `None` when the decorator has no such key function.
    pub key_params: Option<Vec<Name>>,
    /// The parameters the body reads, sorted.
    pub reads: Vec<Name>,
    /// The receiver's attributes the body reads, sorted.
    pub receiver_reads: Vec<Name>,
    /// The body uses the receiver other than by reading its attributes.
    pub uses_whole_receiver: bool,
    /// The decorator.
    pub span: Span,
}

/// A nested function rebinding a variable of an enclosing function through `nonlocal`.
/// A set-up that changes a module global only while it is unset: its body begins (after a
/// docstring and `global` statements) with `if G: return` or `if G is not None: return`, every
/// run that completes sets `G` (binds it to a non-`None` value, or, under a truth test, puts an
/// item into it or binds it to a non-empty display, maybe in a `for` over a non-empty literal),
/// and nothing in it unsets `G` again. Once one run has completed, later runs change nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunOnceSetup {
    pub function: FuncIdx,
    pub global: Name,
    /// The end of the early return's `if`: the set-up's changes of `G` come after it.
    pub after: u32,
    /// `None` when every run that completes leaves `G` set. Otherwise (`if G: return`, then a
    /// fill that may add nothing, in a function without parameters) the names its statements
    /// after the guard read that it does not bind (`G` and the containers it only stores into
    /// aside): when none of them denotes what changes at run time, every run adds what the
    /// first did, so a run that added nothing is followed by runs that add nothing.
    pub fill_inputs: Option<ThinVec<Name>>,
}

/// A call `f(...)` made as a statement of a cached function's own body (not under a test, in a
/// loop or in a `try`): every path of the function past its start runs it first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetUpCall {
    pub function: FuncIdx,
    pub callee: Name,
    pub start: u32,
    /// The names read (or imported) in the function before the call, and in the call itself.
    pub names_before: ThinVec<Name>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClosureRebind {
    pub function: FuncIdx,
    /// The nearest enclosing function that binds the name.
    pub owner: FuncIdx,
    pub name: Name,
    /// The parameter of `function` that is stored, when the value is one.
    pub stored_param: Option<Name>,
    /// Under a test that the variable is still unset (`if last is None: last = self`).
    pub first_time: bool,
    /// The assignment target.
    pub span: Span,
}

/// `self.<container>[key] = value`, `key` and `value` being parameters of `function`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamKeyedStore {
    pub function: FuncIdx,
    pub container: Name,
    pub key: Name,
    pub value: Name,
}

/// A store into a cache after a lookup of the same key: `if k not in C: C[k] = v`,
/// `C.setdefault(k, v)`, `v = C.get(k)` ... `C[k] = v`, `try: C[k] except KeyError: C[k] = v`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoStore {
    pub function: FuncIdx,
    pub cache: AccessPath,
    /// The function's inputs (parameters as named, `self` included, and free names) that the key
    /// depends on, sorted.
    pub key_inputs: Vec<Name>,
    /// The inputs the stored value depends on, sorted.
    pub value_inputs: Vec<Name>,
    /// What the key reads of the function's own parameters (the receiver included), as
    /// [`parameter_path`] writes it: `p:a.b` for the attribute path `p.a.b`, `self:m()` for a
    /// method called on the receiver, `p:` for the parameter whole; sorted. A parameter the key
    /// reads only through attributes is covered for the value only as far as those paths go
    /// ([`MemoStore::key_covers`]).
    pub key_paths: Vec<Name>,
    /// What the value reads of the function's own parameters, as `key_paths` writes it; sorted.
    /// A path read through a local is the path the local was bound to (`c = p.a` then `c.b`
    /// reads `p:a`): never narrower than what is read.
    pub value_paths: Vec<Name>,
    /// The receiver's attributes (`x` of `self.x`) the value reads, where this function has not
    /// stored into them first, sorted.
    pub receiver_reads: Vec<Name>,
    /// The value uses the receiver itself (passes it on, calls its methods), not only attributes.
    pub uses_whole_receiver: bool,
    /// The key is `repr(p)` or `str(p)` of a parameter `p`, directly or through a local.
    pub key_repr: Option<KeyRepr>,
    /// The methods the value calls on the receiver (`self.compile(k)`, sorted), when those calls
    /// are its only uses of the receiver whole (they count in `uses_whole_receiver` too).
    pub receiver_methods: Option<Vec<Name>>,
    /// The function hands back what it reads from the cache by key: a `return` or `yield` holds
    /// the read (`return C[k]`, `return C.setdefault(k, v)`), or a local bound to it (`v =
    /// C.get(k)` ... `return v`). Without it a later call never gets an earlier call's value: the
    /// read only refuses a second entry, or the entry is extended or replaced. False too for a
    /// store under a key the function first raises on when present (`if k in C: raise`): a
    /// later call with the key raises, and the value read back is another key's.
    pub serves_read_value: bool,
    /// The store (the subscript target or the `setdefault` call).
    pub span: Span,
}

impl MemoStore {
    /// Whether the key depends on `input`, an input of the value: the key reads it (or the whole
    /// `**kwargs` an item `kwargs['a']` is read from), and, when the key reads a parameter only
    /// through attribute paths, every path the value reads of it is one of those or lies under
    /// one (`x.a.b` covers `x.a.b`, `x.a.b.c`, and `x.a` or `x` handed on whole, not `x.b` or a
    /// method called on `x`). A name
    /// the key reads with no paths recorded (a free name) is covered by the name alone.
    pub fn key_covers(&self, input: &Name) -> bool {
        let name = if self.key_inputs.contains(input) {
            input.as_str()
        } else {
            match input.split_once("['") {
                Some((mapping, _)) if self.key_inputs.iter().any(|k| k.as_str() == mapping) => {
                    mapping
                }
                _ => return false,
            }
        };
        self.uncovered_paths(name).next().is_none()
    }

    /// The paths the value reads of the parameter `name` that the key's paths leave out (each
    /// `a.b` of `name.a.b`): none when the key reads `name` whole or reads no path of it at all
    /// (what the key reads of it was not recorded). An object the key reads inside of, handed
    /// on whole (the parameter itself, or `x.device` when the key reads `x.device.type`), is no
    /// such path: what the callee reads of it is not followed, and it may be only what the key
    /// reads (sglang's permutation indices, moved to the tensor's device, whose type and index
    /// are in the key).
    pub fn uncovered_paths<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        paths_of(&self.value_paths, name).filter(move |read| !self.key_covers_path(name, read))
    }

    /// Whether the key covers the path `read` (`a.b` of `name.a.b`, empty for `name` whole) of
    /// the parameter `name`, as [`MemoStore::uncovered_paths`] tells it.
    pub fn key_covers_path(&self, name: &str, read: &str) -> bool {
        let key_paths: Vec<&str> = paths_of(&self.key_paths, name).collect();
        if key_paths.is_empty() || key_paths.contains(&"") {
            return true;
        }
        key_paths.iter().any(|key| {
            // The object at `read` handed on whole while the key reads inside it.
            read.is_empty()
                || key
                    .strip_prefix(read)
                    .is_some_and(|rest| rest.starts_with('.'))
                // `read` is the key's path or lies under it.
                || read
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    }
}

/// The paths `paths` (as [`MemoStore::key_paths`] writes them) records of the parameter `name`.
fn paths_of<'s>(paths: &'s [Name], name: &'s str) -> impl Iterator<Item = &'s str> + 's {
    paths
        .iter()
        .filter_map(|entry| parameter_path(entry))
        .filter(move |(head, _)| *head == name)
        .map(|(_, path)| path)
}

/// An input entry that records what is read of a parameter (see [`MemoStore::key_paths`]):
/// the parameter and the path after it, `("p", "a.b")` for `p:a.b`, `("p", "")` for `p:`.
pub fn parameter_path(entry: &str) -> Option<(&str, &str)> {
    let (head, path) = entry.split_once(':')?;
    (!head.is_empty()
        && head
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80))
    .then_some((head, path))
}

/// A cache key made from an object's text: `repr(user)`, `str(user)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRepr {
    /// The parameter whose text the key is.
    pub input: Name,
    /// `str(...)` (the class's `__str__`, else its `__repr__`) rather than `repr(...)`.
    pub through_str: bool,
    /// The attributes of the parameter the stored value reads, sorted; `None` when the value uses
    /// the parameter otherwise too.
    pub value_reads: Option<Vec<Name>>,
}
/// The facts of every file are held at once, so their size is most of the peak memory: a name is
/// one 8-byte handle, and the two most numerous facts stay within these sizes.
#[cfg(all(test, target_pointer_width = "64"))]
mod sizes {
    use super::*;

    #[test]
    fn the_most_numerous_facts_stay_small() {
        assert_eq!(size_of::<Name>(), 4);
        assert_eq!(size_of::<Option<Name>>(), 4);
        assert_eq!(size_of::<ValueFlow>(), 20);
        assert_eq!(size_of::<CallSite>(), 24);
        assert_eq!(size_of::<Value>(), 16);
        assert_eq!(size_of::<Param>(), 32);
        assert_eq!(size_of::<ThinVec<Param>>(), 8);
        assert_eq!(size_of::<FunctionFacts>(), 72);
    }

    #[test]
    fn a_missing_index_reads_and_encodes_as_none() {
        for index in [None, Some(0), Some(7), Some(u32::MAX - 1)] {
            let packed = MaybeIndex::new(index).unwrap();
            assert_eq!(packed.get(), index);
            let bytes = postcard::to_allocvec(&packed).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&index).unwrap());
            assert_eq!(postcard::from_bytes::<MaybeIndex>(&bytes).unwrap(), packed);
        }
        assert_eq!(MaybeIndex::new(Some(u32::MAX)), None);
        let bytes = postcard::to_allocvec(&Some(u32::MAX)).unwrap();
        assert!(postcard::from_bytes::<MaybeIndex>(&bytes).is_err());
    }

    /// Names interned in an order unlike their texts', with repeats, come out sorted by text,
    /// each once.
    #[test]
    fn sorted_distinct_sorts_by_text_and_drops_repeats() {
        let names = [
            "zeta_sorted_distinct",
            "alpha_sorted_distinct",
            "mid_sorted_distinct",
        ]
        .map(intern);
        let listed = [names[0], names[2], names[0], names[1], names[2], names[0]];
        let sorted = sorted_distinct(listed);
        let texts: Vec<&str> = sorted.iter().map(|name| name.as_str()).collect();
        assert_eq!(
            texts,
            [
                "alpha_sorted_distinct",
                "mid_sorted_distinct",
                "zeta_sorted_distinct"
            ]
        );
    }

    /// A call site keeps its receiver as one number: every kind reads back, and so does the
    /// result of call `u32::MAX` (the extractor's placeholder for a call not noted); a call
    /// index among the kinds' numbers is refused, not misread.
    #[test]
    fn a_call_sites_receiver_reads_back() {
        let site = |receiver| {
            CallSite::try_new(
                Some(3),
                receiver,
                Name::from("f"),
                true,
                MaybeIndex::NONE,
                Span { start: 1, end: 4 },
            )
        };
        let mut receivers = RECEIVER_KINDS.to_vec();
        receivers.extend([0, 7, FIRST_RECEIVER_KIND - 1, u32::MAX].map(CallReceiver::CallResult));
        for receiver in receivers {
            let made = site(receiver).unwrap();
            assert_eq!(made.receiver(), receiver);
            assert_eq!((made.function(), made.reference()), (Some(3), true));
            let bytes = postcard::to_allocvec(&made).unwrap();
            let read: CallSite = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(read.receiver(), receiver);
        }
        for call in FIRST_RECEIVER_KIND..u32::MAX {
            assert!(site(CallReceiver::CallResult(call)).is_none());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `same_bytes` against the slices' own comparison, for every length up to past its words and
    /// a difference at every position; and `intern`'s table answers texts that share a slot.
    #[test]
    fn recent_names_compare_their_bytes_exactly() {
        for len in 0..40 {
            let a: Vec<u8> = (0..len as u8).map(|i| b'a' + i % 26).collect();
            assert!(same_bytes(&a, &a.clone()));
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_bytes(&a, &b), "length {len}, differing at {at}");
            }
        }
        let texts: Vec<String> = (0..50_000).map(|i| format!("recent_{i}")).collect();
        let names: Vec<Name> = texts.iter().map(|t| intern(t)).collect();
        for (text, name) in texts.iter().zip(&names) {
            assert_eq!(intern(text), *name);
            assert_eq!(interned(text), Some(*name));
            assert_eq!(name.as_str(), text);
        }
        assert_eq!(interned("recent_never_interned"), None);
    }

    fn facts_naming(names: &[&str]) -> FileFacts {
        FileFacts {
            untyped_method_calls: names.iter().map(|n| Name::from(n)).collect(),
            ..FileFacts::default()
        }
    }

    #[test]
    fn a_record_names_each_name_once_and_reads_back_the_same() {
        let facts = facts_naming(&["self", "get", "self", "os.path", "get", "self"]);
        let coded = with_name_table(|| postcard::to_allocvec(&facts)).unwrap();
        let plain = postcard::to_allocvec(&facts).unwrap();
        assert!(
            coded.len() < plain.len(),
            "{} >= {}",
            coded.len(),
            plain.len()
        );
        let read: FileFacts = with_name_table(|| postcard::from_bytes(&coded)).unwrap();
        assert_eq!(read.untyped_method_calls, facts.untyped_method_calls);
        // Outside a table a name is its text, as reports and other encodings expect.
        let read: FileFacts = postcard::from_bytes(&plain).unwrap();
        assert_eq!(read.untyped_method_calls, facts.untyped_method_calls);
    }

    #[test]
    fn each_record_starts_a_table_of_its_own() {
        let first = facts_naming(&["alpha", "beta"]);
        let second = facts_naming(&["beta", "alpha", "beta"]);
        let _first_bytes = with_name_table(|| postcard::to_allocvec(&first)).unwrap();
        let second_bytes = with_name_table(|| postcard::to_allocvec(&second)).unwrap();
        // Read alone, in a fresh table: it refers to nothing the first record wrote.
        let read: FileFacts = with_name_table(|| postcard::from_bytes(&second_bytes)).unwrap();
        assert_eq!(read.untyped_method_calls, second.untyped_method_calls);
        // The table ends with its record: what follows is plain again.
        assert_eq!(
            postcard::to_allocvec(&Name::from("beta")).unwrap(),
            postcard::to_allocvec("beta").unwrap()
        );
    }

    #[test]
    fn a_reference_to_a_name_not_yet_written_is_an_error() {
        // One name, coded as the second name of the record (code 2), which has none before it.
        let bytes = postcard::to_allocvec(&vec![2u32]).unwrap();
        let read = with_name_table(|| postcard::from_bytes::<Vec<Name>>(&bytes));
        assert!(read.is_err());
    }

    #[test]
    fn a_new_name_without_its_text_is_an_error() {
        // One name, coded as new (code 0), and the record ends before its text.
        let bytes = postcard::to_allocvec(&vec![0u32]).unwrap();
        let read = with_name_table(|| postcard::from_bytes::<Vec<Name>>(&bytes));
        assert!(read.is_err());
        // With its text, it is that name, and the next code 1 is it again.
        let bytes = postcard::to_allocvec(&(vec![(0u32, "alpha")], 1u32)).unwrap();
        let read = with_name_table(|| postcard::from_bytes::<(Vec<Name>, Name)>(&bytes)).unwrap();
        assert_eq!(read, (vec![Name::from("alpha")], Name::from("alpha")));
    }

    #[test]
    fn the_table_of_recent_names_gives_the_interners_names() {
        // More texts than slots: slots are taken over, and every answer is still the name the
        // interner gives.
        let texts: Vec<String> = (0..40_000).map(|i| format!("name_{i}.attr")).collect();
        for _ in 0..2 {
            for text in &texts {
                let name = intern(text);
                assert_eq!(name, Name::from(text.as_str()));
                assert_eq!(name.as_str(), text);
                assert_eq!(interned(text), Some(name));
            }
        }
        assert_eq!(
            interned("a text the table and the interner never saw 7f3a"),
            None
        );
    }
}
