//! Name resolution across modules: from a dotted name as written in a file to the class, function,
//! module or global it denotes, following imports (re-exports included) inside the analysed tree.
//! Names that leave the tree stay known by their qualified name (`django.views.generic.View`).

use rustc_hash::FxHashMap as HashMap;

use crate::facts::{ByText, FuncIdx, ImportTarget, Name, NameText};
use crate::knowledge;

use super::{ClassId, FileId, FuncId, Project, split_first_dot, split_name};

/// What a name denotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Class(ClassId),
    Function(FuncId),
    Module(FileId),
    /// A module-level variable: the file and the index of its last binding in
    /// [`crate::facts::FileFacts::globals`].
    Global(FileId, u32),
    /// Something outside the analysed tree, by its qualified name (`builtins.dict`).
    External(Name),
    Unknown,
}

/// A top-level name of a module.
#[derive(Debug, Clone, Copy)]
pub(super) enum Symbol {
    Class(u32),
    Function(u32),
    Global(u32),
    Import(u32),
}

/// Re-export chains longer than this are cut (they are cycles in practice).
const MAX_HOPS: u32 = 16;

/// Which names of each module's scope were looked up, found or not, by a resolution that did not
/// start there at module level: from another module, through a re-export, a star import or a
/// package's binding (a lookup with hops taken). Kept across the links of a long-lived caller
/// (the language server, [`super::Keep::ValuesAndFlows`]), so that an edit that binds a name of a
/// module to something else can tell whether anything outside the module's own flows could
/// resolve differently ([`super::Relinkable::link`]). Names are kept by their identifier hash
/// (a collision only makes a name look read).
#[derive(Debug, Default)]
pub(super) struct ScopeReads {
    by_file: Vec<std::sync::Mutex<rustc_hash::FxHashSet<u64>>>,
    /// Every resolution the kept values and edges of the files depend on was made by some link
    /// these reads were recorded in: the first link learnt the values from nothing and resolved
    /// every file's edges, and each link after it kept them (a link from stored values did not).
    pub(super) complete: bool,
}

impl ScopeReads {
    pub(super) fn new(files: usize, complete: bool) -> ScopeReads {
        ScopeReads {
            by_file: (0..files).map(|_| Default::default()).collect(),
            complete,
        }
    }

    /// Whether a lookup from outside asked `file`'s scope for a name of hash `name`.
    pub(super) fn read(&self, file: FileId, name: u64) -> bool {
        self.by_file.get(file as usize).is_none_or(|names| {
            names
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .contains(&name)
        })
    }

    fn note(&self, file: FileId, name: &str) {
        if let Some(names) = self.by_file.get(file as usize) {
            names
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(super::remap::identifier_hash(name.as_bytes()));
        }
    }
}

/// `head` looked up in `file`'s scope by a resolution with `hops` taken (see [`ScopeReads`]).
fn note_scope_read(project: &Project, file: FileId, head: &str, hops: u32) {
    if hops > 0
        && let Some(reads) = &project.scope_reads
    {
        reads.note(file, head);
    }
}

pub(super) fn module_scope(project: &Project, file: FileId) -> HashMap<Name, Symbol> {
    scope_of(&project.files[file as usize].facts)
}

/// The top-level names of a module whose facts are `facts` (read from them alone).
pub(super) fn scope_of(facts: &crate::facts::FileFacts) -> HashMap<Name, Symbol> {
    let mut scope = HashMap::default();
    // Later kinds overwrite earlier ones: a definition beats an import beats an assignment.
    for (i, binding) in facts.globals.iter().enumerate() {
        scope.insert(binding.name, Symbol::Global(i as u32));
    }
    for (i, import) in facts.imports.iter().enumerate() {
        if import.function.is_none() && !import.is_star() {
            scope.insert(import.binding, Symbol::Import(i as u32));
        }
    }
    for (i, function) in facts.functions.iter().enumerate() {
        if function.class.is_none() && function.parent.is_none() {
            scope.insert(function.name, Symbol::Function(i as u32));
        }
    }
    for (i, class) in facts.classes.iter().enumerate() {
        if !class.in_function && !class.qualname.contains('.') {
            scope.insert(class.name, Symbol::Class(i as u32));
        }
    }
    scope
}

pub(super) fn resolve_name(
    project: &Project,
    file: FileId,
    function: Option<FuncIdx>,
    dotted: &(impl NameText + ?Sized),
) -> Resolved {
    // Text is looked up once, here; the tables below are asked with the name and its pieces. A
    // text never interned is the key of no entry of theirs.
    let name = dotted.interned();
    if let Some(found) = imported_in_function(project, file, function, dotted.text(), name) {
        return found;
    }
    // Every flow and call site of a file asks for the names of that file again and again (the
    // values worklist once per visit); what a name means at module level depends on nothing
    // else, so it is kept per file.
    if let Some(known) = name.and_then(|name| project.module_resolutions(file).get(&name).cloned())
    {
        return known;
    }
    let resolved = resolve_at_module_level(project, file, dotted.text(), 0);
    let name = name.unwrap_or_else(|| dotted.text().into());
    project
        .module_resolutions(file)
        .insert(name, resolved.clone());
    resolved
}

/// What `dotted` (interned as `name`, when it is) denotes through an import inside `function`
/// (or the functions around it), which comes before the module's names; `None` when no such
/// import binds its head.
#[inline]
fn imported_in_function(
    project: &Project,
    file: FileId,
    function: Option<FuncIdx>,
    dotted: &str,
    name: Option<Name>,
) -> Option<Resolved> {
    let (import, rest) = import_in_function(project, file, function, dotted, name)?;
    Some(follow_import(project, file, import, rest, 0))
}

/// Whether `dotted`, written in `function` of `file` (`None`: at module level), means what it
/// means at module level: no import inside the function or a function around it binds its head.
/// [`resolve_name`] looks there first, so a caller may then share one answer for the name among
/// all the scopes of the file where this holds.
pub(super) fn resolves_at_module_level(
    project: &Project,
    file: FileId,
    function: Option<FuncIdx>,
    dotted: &(impl NameText + ?Sized),
) -> bool {
    import_in_function(project, file, function, dotted.text(), dotted.interned()).is_none()
}

/// The import inside `function` (or the functions around it) that binds the head of `dotted`,
/// and what follows the head; `None` when there is none.
#[inline]
fn import_in_function<'d>(
    project: &Project,
    file: FileId,
    function: Option<FuncIdx>,
    dotted: &'d str,
    name: Option<Name>,
) -> Option<(u32, Option<&'d str>)> {
    let function = function?;
    let targets = &project.import_targets[file as usize];
    if !targets
        .under_an_import
        .get(function as usize)
        .copied()
        .unwrap_or(true)
    {
        return None;
    }
    import_around(project, file, function, dotted, name)
}

/// [`import_in_function`] for a function that has imports or is inside one that has.
fn import_around<'d>(
    project: &Project,
    file: FileId,
    mut current: FuncIdx,
    dotted: &'d str,
    name: Option<Name>,
) -> Option<(u32, Option<&'d str>)> {
    let in_functions = &project.import_targets[file as usize].in_functions;
    let (imports, rest) = match name {
        Some(name) => match split_name(name, false) {
            Some((head, rest)) => (in_functions.get(&head)?, Some(rest.as_str())),
            None => (in_functions.get(&name)?, None),
        },
        None => match split_first_dot(dotted) {
            Some((head, rest)) => (in_functions.get_text(head)?, Some(rest)),
            None => (in_functions.get_text(dotted)?, None),
        },
    };
    let functions = &project.files[file as usize].facts.functions;
    loop {
        if let Some((_, import)) = imports.iter().rev().find(|(f, _)| *f == current) {
            return Some((*import, rest));
        }
        current = functions[current as usize].parent?;
    }
}

/// What `dotted` denotes in the module-level scope of `file`.
fn resolve_at_module_level(project: &Project, file: FileId, dotted: &str, hops: u32) -> Resolved {
    if hops > MAX_HOPS {
        return Resolved::Unknown;
    }
    let (head, rest) = match split_first_dot(dotted) {
        Some((h, r)) => (h, Some(r)),
        None => (dotted, None),
    };
    let facts = &project.files[file as usize].facts;
    note_scope_read(project, file, head, hops);
    let Some(symbol) = project.scopes[file as usize].get_text(head).copied() else {
        if rest.is_none() && knowledge::is_builtin(head) {
            // A star import hides the builtin only where it is known to bring the name: the
            // extracted facts do not hold what an `__all__` lists, and builtins are public names.
            return match star_imported(project, file, dotted, hops, StarSources::WithoutAll) {
                Resolved::Unknown => Resolved::External(format!("builtins.{head}").into()),
                found => found,
            };
        }
        return star_imported(project, file, dotted, hops, StarSources::All);
    };
    match symbol {
        Symbol::Import(i) => follow_import(project, file, i, rest, hops),
        Symbol::Class(c) => match rest {
            None => Resolved::Class(project.class_id(file, c)),
            Some(rest) => {
                let qualname = format!("{}.{rest}", facts.classes[c as usize].qualname);
                match facts.classes.iter().position(|k| k.qualname == qualname) {
                    Some(nested) => Resolved::Class(project.class_id(file, nested as u32)),
                    None => Resolved::Unknown,
                }
            }
        },
        Symbol::Function(f) if rest.is_none() => Resolved::Function(project.function_id(file, f)),
        Symbol::Global(last) if rest.is_none() => Resolved::Global(file, last),
        _ => Resolved::Unknown,
    }
}

/// Which modules a name is looked up in by [`star_imported`].
#[derive(Clone, Copy, PartialEq)]
enum StarSources {
    All,
    /// Only modules that bind no `__all__` (whose star import brings every public name).
    WithoutAll,
}

/// A name that only a `from module import *` of a module of the tree can bind, looked up there.
fn star_imported(
    project: &Project,
    file: FileId,
    dotted: &str,
    hops: u32,
    sources: StarSources,
) -> Resolved {
    let targets = &project.import_targets[file as usize];
    for &import in targets.stars.iter().rev() {
        let Some(source) = targets.absolute[import as usize]
            .as_deref()
            .and_then(|base| project.module_file(base))
        else {
            continue;
        };
        if sources == StarSources::WithoutAll {
            note_scope_read(project, source, "__all__", hops + 1);
            if project.scopes[source as usize].contains_text("__all__") {
                continue;
            }
        }
        match resolve_at_module_level(project, source, dotted, hops + 1) {
            Resolved::Unknown | Resolved::External(_) => {}
            found => return found,
        }
    }
    Resolved::Unknown
}

fn follow_import(
    project: &Project,
    file: FileId,
    import: u32,
    rest: Option<&str>,
    hops: u32,
) -> Resolved {
    let Some(qualified) = &project.import_targets[file as usize].absolute[import as usize] else {
        return Resolved::Unknown;
    };
    if let ImportTarget::Member { name, .. } =
        &project.files[file as usize].facts.imports[import as usize].target
        && let Some(found) = bound_by_package(project, qualified, name, rest, hops)
    {
        return found;
    }
    match rest {
        Some(rest) => resolve_qualified(project, &format!("{qualified}.{rest}"), hops + 1),
        None => resolve_qualified(project, qualified, hops + 1),
    }
}

/// `from package import name` where `package.name` is also a submodule: Python takes the
/// package's attribute first, and the package's `__init__.py` binding `name` (`from .Route import
/// Route` rebinds it from the submodule to the class) wins; only a name the package leaves unbound
/// falls back to the submodule. `None` when the submodule is meant.
fn bound_by_package(
    project: &Project,
    qualified: &str,
    name: &str,
    rest: Option<&str>,
    hops: u32,
) -> Option<Resolved> {
    project.module_file(qualified)?;
    let package = qualified.strip_suffix(name)?.strip_suffix('.')?;
    let package_file = project.module_file(package)?;
    if !project.files[package_file as usize].is_package {
        return None;
    }
    note_scope_read(project, package_file, name, hops + 1);
    let symbol = *project.scopes[package_file as usize].get_text(name)?;
    // `from . import name` in the package binds the submodule itself.
    if let Symbol::Import(i) = symbol
        && project.import_targets[package_file as usize].absolute[i as usize].as_deref()
            == Some(qualified)
    {
        return None;
    }
    let dotted = match rest {
        Some(rest) => format!("{name}.{rest}"),
        None => name.to_string(),
    };
    Some(resolve_at_module_level(
        project,
        package_file,
        &dotted,
        hops + 1,
    ))
}

/// What the imports of one file name, made absolute once: every name resolved through an import
/// starts there.
#[derive(Debug, Default)]
pub(super) struct ImportTargets {
    /// Per import of the file: the module or member it binds, fully qualified (for `from m import
    /// *`, the module); `None` when a relative import climbs out of every package.
    absolute: Vec<Option<Name>>,
    /// The imports inside functions by the name they bind, in source order: the function and
    /// the import's index (with none, a name means the same in every scope).
    in_functions: HashMap<Name, Vec<(FuncIdx, u32)>>,
    /// By function: whether it or a function around it has an import. Most names are asked in
    /// functions without one, which then need no look-up in `in_functions`.
    under_an_import: Vec<bool>,
    /// The module-level `from m import *` imports, in source order.
    stars: Vec<u32>,
}

impl ImportTargets {
    pub(super) fn imported_in_a_function(&self, head: &str) -> bool {
        !self.in_functions.is_empty() && self.in_functions.contains_text(head)
    }
}

pub(super) fn import_targets(project: &Project, file: FileId) -> ImportTargets {
    let imports = &project.files[file as usize].facts.imports;
    let absolute = imports
        .iter()
        .map(|import| match &import.target {
            ImportTarget::Module(module) => Some(*module),
            ImportTarget::Member {
                level,
                module,
                name,
            } => {
                let base = match level {
                    0 => (*module)?,
                    _ => absolute_module(project, file, *level, module.as_deref())?.into(),
                };
                Some(if import.is_star() {
                    base
                } else if base.is_empty() {
                    *name
                } else {
                    joined(base, *name)
                })
            }
        })
        .collect();
    let stars = imports
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            i.function.is_none() && i.is_star() && matches!(i.target, ImportTarget::Member { .. })
        })
        .map(|(index, _)| index as u32)
        .collect();
    let functions = &project.files[file as usize].facts.functions;
    let mut in_functions: HashMap<Name, Vec<(FuncIdx, u32)>> = HashMap::default();
    let mut importing = vec![false; functions.len()];
    for (index, import) in imports.iter().enumerate() {
        if let Some(function) = import.function {
            in_functions
                .entry(import.binding)
                .or_default()
                .push((function, index as u32));
            if let Some(importing) = importing.get_mut(function as usize) {
                *importing = true;
            }
        }
    }
    let under_an_import = (0..functions.len())
        .map(|f| {
            let mut current = Some(f as FuncIdx);
            while let Some(f) = current {
                if importing[f as usize] {
                    return true;
                }
                current = functions[f as usize].parent;
            }
            false
        })
        .collect();
    ImportTargets {
        absolute,
        in_functions,
        under_an_import,
        stars,
    }
}

thread_local! {
    /// [`joined`]'s answers on this thread.
    static JOINED: std::cell::RefCell<HashMap<(Name, Name), Name>> = std::cell::RefCell::default();
}

/// `module.member`, interned once per thread: every file of a project imports the same few
/// members of the same modules, and building and interning the text costs far more than asking a
/// table keyed by the two names.
fn joined(module: Name, member: Name) -> Name {
    JOINED.with_borrow_mut(|joined| {
        *joined
            .entry((module, member))
            .or_insert_with(|| format!("{module}.{member}").into())
    })
}

/// The absolute module a `from` import with `level` dots names. A file known by several names
/// (a namespace package under a root given on the command line) uses the first name under which
/// the import stays inside a package.
fn absolute_module(
    project: &Project,
    file: FileId,
    level: u32,
    module: Option<&str>,
) -> Option<String> {
    if level == 0 {
        return module.map(str::to_string);
    }
    let source = &project.files[file as usize];
    std::iter::once(&source.module)
        .chain(source.aliases.iter())
        .find_map(|name| {
            let mut package: Vec<&str> = name.split('.').collect();
            if !source.is_package {
                package.pop();
            }
            for _ in 1..level {
                package.pop()?;
            }
            // "attempted relative import with no known parent package": try the next name.
            if package.is_empty() {
                return None;
            }
            let mut out = package.join(".");
            if let Some(module) = module {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(module);
            }
            Some(out)
        })
}

/// Resolves a fully qualified name: the longest prefix that is a module of the tree, then names
/// inside it. A name with no module of the tree as prefix is external.
pub(super) fn resolve_qualified(project: &Project, qualified: &str, hops: u32) -> Resolved {
    if hops > MAX_HOPS {
        return Resolved::Unknown;
    }
    // File after file imports the same names (`django.db.models.Model`), and following one
    // through its re-exports is the costliest part of the link; the answer depends on nothing
    // but the name and the hops already taken, so it is kept.
    if let Some(known) = project
        .qualified_resolutions()
        .get(hops as usize)
        .and_then(|by_name| by_name.get_text(qualified))
    {
        return known.clone();
    }
    let resolved = resolve_qualified_uncached(project, qualified, hops);
    let mut memo = project.qualified_resolutions();
    if memo.len() <= hops as usize {
        memo.resize_with(hops as usize + 1, HashMap::default);
    }
    memo[hops as usize].insert(qualified.into(), resolved.clone());
    resolved
}

fn resolve_qualified_uncached(project: &Project, qualified: &str, hops: u32) -> Resolved {
    let mut split = qualified.len();
    loop {
        let prefix = &qualified[..split];
        if let Some(file) = project.module_file(prefix) {
            if split == qualified.len() {
                return Resolved::Module(file);
            }
            let rest = &qualified[split + 1..];
            return resolve_at_module_level(project, file, rest, hops + 1);
        }
        match prefix.rfind('.') {
            Some(dot) => split = dot,
            None => return Resolved::External(qualified.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::LinkInput;

    fn link(files: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        let mut inputs = Vec::new();
        for (path, source) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, source).unwrap();
            let facts = crate::syntax::extract(source).unwrap().into();
            inputs.push(LinkInput { path, facts });
        }
        let project = Project::link(inputs, &[]);
        (dir, project)
    }

    /// `from pkg import X` is what `pkg/__init__.py` binds to `X` when it binds it, and the
    /// submodule `pkg.X` only when it does not (or when it binds the submodule itself).
    #[test]
    fn a_package_binding_beats_its_submodule_of_the_same_name() {
        let (_dir, project) = link(&[
            (
                "pkg/__init__.py",
                "from .Route import Route\nfrom . import Own\n",
            ),
            ("pkg/Route.py", "class Route:\n    pass\n"),
            ("pkg/Plain.py", "class Plain:\n    pass\n"),
            ("pkg/Own.py", "class Own:\n    pass\n"),
            (
                "app.py",
                "from pkg import Route, Plain, Own\nfrom pkg.Route import Route as Direct\n",
            ),
        ]);
        let file = |module: &str| project.module_file(module).unwrap();
        let app = file("app");
        let class = |module: &str, name: &str| {
            let (index, _) = project.files[file(module) as usize]
                .facts
                .classes
                .iter()
                .enumerate()
                .find(|(_, c)| c.name == name)
                .unwrap();
            Resolved::Class(project.class_id(file(module), index as u32))
        };
        assert_eq!(
            project.resolve(app, None, "Route"),
            class("pkg.Route", "Route")
        );
        assert_eq!(
            project.resolve(app, None, "Direct"),
            class("pkg.Route", "Route")
        );
        assert_eq!(
            project.resolve(app, None, "Plain"),
            Resolved::Module(file("pkg.Plain"))
        );
        assert_eq!(
            project.resolve(app, None, "Own"),
            Resolved::Module(file("pkg.Own"))
        );
        let pkg = file("pkg");
        assert_eq!(
            project.resolve(pkg, None, "Route"),
            class("pkg.Route", "Route")
        );
        assert_eq!(
            project.resolve(pkg, None, "Own"),
            Resolved::Module(file("pkg.Own"))
        );
    }

    /// A name means in a function what it means at module level unless an import inside the
    /// function, or a function around it, binds its head; an import in another function does
    /// not count.
    #[test]
    fn a_name_resolves_at_module_level_where_no_function_import_binds_its_head() {
        let (_dir, project) = link(&[
            ("helpers.py", "def dumps(value):\n    return value\n"),
            (
                "app.py",
                "import json\n\n\ndef outer():\n    from helpers import dumps as json\n\n    \
                 def inner():\n        return json()\n\n    return inner\n\n\n\
                 def other():\n    return json.dumps(1)\n",
            ),
        ]);
        let app = project.module_file("app").unwrap();
        let function = |name: &str| {
            project.files[app as usize]
                .facts
                .functions
                .iter()
                .position(|f| f.name == name)
                .map(|index| index as FuncIdx)
        };
        let (outer, inner, other) = (function("outer"), function("inner"), function("other"));
        assert!(project.resolves_at_module_level(app, None, "json"));
        assert!(project.resolves_at_module_level(app, other, "json"));
        assert!(project.resolves_at_module_level(app, other, "json.dumps"));
        assert!(project.resolves_at_module_level(app, outer, "os.path"));
        assert!(!project.resolves_at_module_level(app, outer, "json"));
        assert!(!project.resolves_at_module_level(app, inner, "json"));
        assert!(!project.resolves_at_module_level(app, inner, "json.dumps"));
        // Where it holds, the answer is the module level's; where it does not, it may differ.
        assert_eq!(
            project.resolve(app, other, "json.dumps"),
            project.resolve(app, None, "json.dumps")
        );
        assert_eq!(
            project.resolve(app, None, "json"),
            Resolved::External("json".into())
        );
        let helpers = project.module_file("helpers").unwrap();
        assert_eq!(
            project.resolve(app, inner, "json"),
            Resolved::Function(project.function_id(helpers, 0))
        );
    }

    /// `from helpers import *` binds every public name of `helpers`, so a name it defines hides the
    /// builtin of that name; a builtin it does not define stays the builtin, and so does one that
    /// a module with an `__all__` defines (what the list holds is not known here).
    #[test]
    fn a_star_imported_name_hides_the_builtin() {
        let (_dir, project) = link(&[
            ("helpers.py", "def open(path):\n    return path\n"),
            ("app.py", "from helpers import *\n"),
            (
                "listed.py",
                "__all__ = [\"render\"]\n\n\ndef open(path):\n    return path\n",
            ),
            ("other.py", "from listed import *\n"),
        ]);
        let other = project.module_file("other").unwrap();
        assert_eq!(
            project.resolve(other, None, "open"),
            Resolved::External("builtins.open".into())
        );
        let app = project.module_file("app").unwrap();
        let helpers = project.module_file("helpers").unwrap();
        let Resolved::Function(function) = project.resolve(app, None, "open") else {
            panic!("`open` should be the function of helpers.py");
        };
        assert_eq!(function, project.function_id(helpers, 0));
        assert_eq!(
            project.resolve(app, None, "len"),
            Resolved::External("builtins.len".into())
        );
    }
}
