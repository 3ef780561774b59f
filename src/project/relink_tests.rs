//! A link again from a kept one ([`Relinkable::link`]) gives what a full link of the same files
//! gives, over random edits of a small project: edits that add and remove classes (ids of later
//! files move), change imports, change flows that feed a slot past its cap, change calls no
//! value flows through (the values are kept), and append classes nothing uses (the values are
//! kept, renumbered).

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use super::{
    CountsMentions, EdgeKind, FuncId, KeptValues, LinkInput, MentionCounts, Mentions,
    PreviousValues, Project, link_signature, values_signature, values_stay,
};

/// Whether the link updated the values of the one before it for an edit of value flows.
fn values_updated(project: &Project) -> bool {
    project
        .link_times()
        .iter()
        .any(|(step, _)| *step == "link/values updated")
}
use crate::facts::FileFacts;

const ENTRY_POINTS: &[&str] = &["pkg.views.*"];

/// Per module of [`variants`], a call that every text of it can end with and that no value flows
/// through.
const NEUTRAL_CALLS: [&str; 5] = ["print()", "make()", "print()", "register()", "index()"];

/// A class each module's texts may end with (its name ends with the module's number), that
/// nothing of the project uses: appending it keeps the values (renumbered, since the ids of later
/// files move).
const UNUSED_CLASS: &str = "\n\nclass _Unused{}:\n    items = {{}}\n\n    def put(self, key, value):\n        self.items[key] = value\n";

/// What each module's texts may end with instead of [`UNUSED_CLASS`], also used by nothing: a
/// function of another name. Replacing one by the other keeps the values too (renumbered).
const UNUSED_FUNCTION: &str = "\n\ndef _spare{}(value):\n    return 1\n";

/// Enough functions handed to one parameter that it holds its cap of values: which are kept
/// depends on the order the calls are made in.
fn many(reversed: bool) -> String {
    let mut text = String::from("def pick(handler):\n    return handler\n\n\n");
    let mut calls: Vec<usize> = (0..40).collect();
    if reversed {
        calls.reverse();
    }
    for i in 0..40 {
        text.push_str(&format!("def handler_{i}():\n    return {i}\n\n\n"));
    }
    text.push_str("def register():\n");
    for i in calls {
        text.push_str(&format!("    pick(handler_{i})\n"));
    }
    text
}

/// The texts each module may have; an edit gives one module another of its texts.
fn variants() -> Vec<(&'static str, Vec<String>)> {
    let store = "class Store:\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n\n\n";
    let extra = "class Extra(Store):\n    def put(self, key, value):\n        self.log = key\n\n\n";
    let make = "def make():\n    return Store()\n\n\ndef build():\n    return Store\n";
    vec![
        // First: a class appended to it moves the ids of every class of the others.
        ("pkg/__init__.py", vec![String::new(), "from .b import Store\n".into()]),
        (
            "pkg/b.py",
            vec![
                format!("{store}{make}"),
                format!("{store}{extra}{make}"),
                format!("{extra}{store}{make}").replace("class Extra(Store)", "class Extra"),
                format!("{store}def make():\n    return build()()\n\n\ndef build():\n    return Store\n"),
                format!("{store}{extra}def make():\n    return Extra()\n\n\ndef build():\n    return Extra\n"),
                format!("print()\n\n\n{store}{make}"),
                format!("{store}{make}\n\nclass Late:\n    pass\n"),
                format!("{store}{make}").replace(
                    "        self.items[key] = value\n",
                    "        self.items[key] = value\n\n    def get(self, key):\n        return self.items[key]\n",
                ),
            ],
        ),
        (
            "pkg/a.py",
            vec![
                "from .b import make\n\n\ndef helper(store):\n    store.put(1, 2)\n".into(),
                "from .b import build as make\n\n\ndef helper(store):\n    store.put(1, 2)\n".into(),
                "from . import b\n\nmake = b.make\n\n\ndef helper(store):\n    store.put(1, 2)\n    print(store)\n".into(),
                "from .many import pick\n\n\ndef make():\n    return pick\n\n\ndef helper(store):\n    store.put(1, 2)\n".into(),
                "from .b import Late as make\n\n\ndef helper(store):\n    store.put(1, 2)\n".into(),
                // An import another module looks up (`make`, from views) bound otherwise, and
                // one nothing looks up.
                "import os\nfrom .b import make\n\n\ndef helper(store):\n    store.put(1, 2)\n".into(),
            ],
        ),
        ("pkg/many.py", vec![many(false), many(true), many(false).replace("    pick(handler_3)\n", "")]),
        (
            "pkg/views.py",
            vec![
                "from .a import make, helper\nfrom .many import pick\n\n\ndef index():\n    store = make()\n    helper(store)\n    pick(None)()\n".into(),
                "from .a import helper\nfrom .b import Extra\nfrom .many import pick\n\n\ndef index():\n    helper(Extra())\n    pick(index)()\n".into(),
                "from .a import make, helper\n\n\ndef index():\n    helper(make())\n\n\ndef other():\n    make().put(3, 4)\n".into(),
                // Import edits of the first text: an import nothing names, and the import a
                // flow calls through bound to another target (updated when nothing outside
                // looks the names up).
                "import json\nfrom .a import make, helper\nfrom .many import pick\n\n\ndef index():\n    store = make()\n    helper(store)\n    pick(None)()\n".into(),
                "from .a import make, helper\nfrom .b import build as pick\n\n\ndef index():\n    store = make()\n    helper(store)\n    pick(None)()\n".into(),
            ],
        ),
    ]
}

/// What the model and the rules read of a link's call graph, for every function.
fn observed(project: &Project) -> String {
    let graph = project.call_graph();
    let mut out = format!(
        "{:?}\n{:?}\n{:?}\n",
        super::export_edges(project),
        graph.entry_points(),
        graph.start_up_entry_points()
    );
    for id in (0..project.function_count() as u32).map(FuncId) {
        out.push_str(&format!(
            "{id:?} {:?} {:?} {} {} {}\n",
            graph.callees(id),
            graph.request_path(id),
            graph.import_time_only(id),
            graph.once_after_import(id),
            project.function(id).1.name,
        ));
    }
    out
}

/// Whether a link again may start from the kept values, as the language server decides (each
/// replaced file: its index, its facts before and after; `mentions`: the project's index before
/// the edits); and whether they are renumbered (not every file reads the same for the values
/// stage).
fn values_kept(
    replaced: &[(usize, Arc<FileFacts>, Arc<FileFacts>)],
    mentions: &impl CountsMentions,
) -> (bool, bool) {
    let edits: Vec<(u32, &FileFacts, &FileFacts, bool)> = replaced
        .iter()
        .map(|(file, old, new)| {
            (
                *file as u32,
                &**old,
                &**new,
                values_signature(old) == values_signature(new),
            )
        })
        .collect();
    let same = edits.iter().all(|(_, _, _, same)| *same);
    let stay = values_stay(&edits, mentions);
    (stay, stay && !same)
}

fn facts_of(text: &str) -> Arc<FileFacts> {
    crate::syntax::extract(text).unwrap().into()
}

/// The modules `texts` (path, text) written under `dir` (module names come from the disk), and
/// their paths.
fn write_modules(dir: &std::path::Path, texts: &[(&str, &str)]) -> Vec<PathBuf> {
    texts
        .iter()
        .map(|(path, text)| {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

/// The link's input: each path with its facts.
fn inputs(paths: &[PathBuf], facts: &[Arc<FileFacts>]) -> Vec<LinkInput> {
    paths
        .iter()
        .zip(facts)
        .map(|(path, facts)| LinkInput {
            path: path.clone(),
            facts: Arc::clone(facts),
        })
        .collect()
}

fn full_link(inputs: Vec<LinkInput>) -> (Project, KeptValues) {
    let patterns: Vec<String> = ENTRY_POINTS.iter().map(|p| p.to_string()).collect();
    Project::link_keeping_values(inputs, &[], &patterns)
}

/// A small xorshift generator: the edits are random but the same on every run.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn a_link_again_from_a_kept_link_equals_a_full_link_after_random_edits() {
    let dir = tempfile::tempdir().unwrap();
    let variants = variants();
    let first: Vec<(&str, &str)> = variants.iter().map(|(p, t)| (*p, t[0].as_str())).collect();
    let paths = write_modules(dir.path(), &first);
    let mut chosen = vec![0usize; variants.len()];
    let mut printed = vec![false; variants.len()];
    // What each module ends with: nothing, `UNUSED_CLASS` or `UNUSED_FUNCTION`.
    let mut unused = vec![0usize; variants.len()];
    let mut facts: Vec<Arc<FileFacts>> = first.iter().map(|(_, text)| facts_of(text)).collect();
    let patterns: Vec<String> = ENTRY_POINTS.iter().map(|p| p.to_string()).collect();
    let (mut project, mut values) = full_link(inputs(&paths, &facts));
    // What the link cache keeps instead of the index: counts, brought up to date per edit.
    let mut counts = MentionCounts::of(facts.par_iter().map(|facts| &**facts));
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    let (mut relinked, mut values_kept_count, mut renumbered, mut updated) = (0, 0, 0, 0);
    let mut tails_replaced = 0;
    for step in 0..120 {
        // One or two modules get another text at once.
        let mut same_link = true;
        let mut replaced = Vec::new();
        let mut replaces_a_tail = false;
        for _ in 0..1 + random.below(2) {
            let file = random.below(variants.len());
            // A third of the edits add or remove a call no value flows through, at the end: of
            // a function of the file where all its texts have one (a module-level use of it); a
            // third add, remove or replace a definition nothing uses, after it (a class, or a
            // function of another name).
            match random.below(3) {
                0 => printed[file] = !printed[file],
                1 => {
                    let next = (unused[file] + 1 + random.below(2)) % 3;
                    replaces_a_tail |= unused[file] != 0 && next != 0;
                    unused[file] = next;
                }
                _ => chosen[file] = random.below(variants[file].1.len()),
            }
            let mut text = variants[file].1[chosen[file]].clone();
            if printed[file] {
                text.push_str(&format!("\n\n{}\n", NEUTRAL_CALLS[file]));
            }
            match unused[file] {
                1 => text.push_str(
                    &UNUSED_CLASS
                        .replace("{}", &file.to_string())
                        .replace("{{}}", "{}"),
                ),
                2 => text.push_str(&UNUSED_FUNCTION.replace("{}", &file.to_string())),
                _ => {}
            }
            let new = facts_of(&text);
            // A module edited twice at once: once, from its text before.
            match replaced.iter_mut().find(|(f, _, _)| *f == file) {
                Some((_, _, edited)) => *edited = Arc::clone(&new),
                None => replaced.push((file, Arc::clone(&facts[file]), Arc::clone(&new))),
            }
            facts[file] = new;
        }
        for (_, old, new) in &replaced {
            same_link &= link_signature(old) == link_signature(new);
        }
        let (same_values, appended) = values_kept(&replaced, project.mentions());
        // The counts answer as the index does, and are brought up to date as it is.
        assert_eq!(
            values_kept(&replaced, &counts),
            (same_values, appended),
            "step {step}"
        );
        let pairs: Vec<(&FileFacts, &FileFacts)> = replaced
            .iter()
            .map(|(_, old, new)| (&**old, &**new))
            .collect();
        counts = counts.replaced(&pairs);
        assert_eq!(
            counts,
            MentionCounts::of(facts.par_iter().map(|facts| &**facts)),
            "step {step}"
        );
        if same_link {
            // What the language server does: the facts are swapped into the linked project.
            for (file, _, new) in replaced {
                project.files[file].facts = new;
            }
            continue;
        }
        let mut relinkable = project.into_relinkable();
        for (file, _, new) in replaced {
            relinkable.replace_facts(file as u32, new);
        }
        relinked += 1;
        values_kept_count += usize::from(same_values);
        renumbered += usize::from(appended);
        tails_replaced += usize::from(appended && replaces_a_tail);
        let previous = if same_values {
            PreviousValues::Same(values)
        } else {
            PreviousValues::Update(values)
        };
        let (again, again_values) = relinkable.link(&patterns, previous);
        updated += usize::from(values_updated(&again));
        let (full, full_values) = full_link(inputs(&paths, &facts));
        let context = format!(
            "step {step}: texts {chosen:?} {printed:?} {unused:?}, values kept: {same_values}, \
             renumbered: {appended}"
        );
        assert_eq!(observed(&again), observed(&full), "{context}");
        assert_eq!(
            again_values.described(),
            full_values.described(),
            "{context}"
        );
        // The index of mentions, kept and brought up to date per edited file, is the one the
        // files' facts give.
        assert_eq!(
            again.mentions.as_ref(),
            Some(&Mentions::of(&again.files)),
            "{context}"
        );
        (project, values) = (again, again_values);
    }
    // The edits took every path, many times.
    assert!(
        relinked >= 50
            && values_kept_count >= 20
            && renumbered >= 8
            && updated >= 5
            && tails_replaced >= 3,
        "{relinked} {values_kept_count} {renumbered} {updated} {tails_replaced}"
    );
}

/// Each kind of edit, from the same project: a link again equals a full link, and keeps the
/// values renumbered exactly when the edit only appends definitions nothing uses.
/// Links `project` again with the facts of `file` replaced by `new`, its values taken as they
/// are (`keep`) or updated, and checks the result against a full link of the files' facts
/// (`facts`, which then hold `new`): the same project and the same values. Returns the link
/// again, for the next edit.
fn link_again_as_a_full_link(
    (project, values): (Project, KeptValues),
    (file, new): (usize, Arc<FileFacts>),
    keep: bool,
    facts: &mut [Arc<FileFacts>],
    (paths, patterns): (&[PathBuf], &[String]),
    kind: &str,
) -> (Project, KeptValues) {
    facts[file] = Arc::clone(&new);
    let mut relinkable = project.into_relinkable();
    relinkable.replace_facts(file as u32, new);
    let previous = if keep {
        PreviousValues::Same(values)
    } else {
        PreviousValues::Update(values)
    };
    let (again, again_values) = relinkable.link(patterns, previous);
    let (full, full_values) = full_link(inputs(paths, facts));
    assert_eq!(observed(&again), observed(&full), "{kind}");
    assert_eq!(again_values.described(), full_values.described(), "{kind}");
    (again, again_values)
}

#[test]
fn each_kind_of_edit_links_again_as_a_full_link_does() {
    let base = "class Store:\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n\n\ndef make():\n    return Store()\n\n\ndef helper(store):\n    store.put(1, 2)\n";
    let sub = "from .base import Store, helper\n\n\nclass Sub(Store):\n    pass\n\n\ndef run():\n    helper(Sub())\n";
    let views =
        "from .sub import run\nfrom .base import Later\n\n\ndef index():\n    run()\n    Later()\n";
    let files = [
        ("pkg/__init__.py", ""),
        ("pkg/base.py", base),
        ("pkg/sub.py", sub),
        ("pkg/views.py", views),
    ];
    let appended_class = format!(
        "{base}\n\nclass Unused:\n    def put(self, key, value):\n        self.key = key\n"
    );
    // Each edit: what it is, the module it edits, the module's text before when not the one
    // above, its text after, and whether the values are renumbered.
    let edits: Vec<(&str, usize, Option<String>, String, bool)> = vec![
        (
            "add a class nothing uses",
            1,
            None,
            appended_class.clone(),
            true,
        ),
        (
            "remove a class nothing uses",
            1,
            Some(appended_class),
            base.into(),
            true,
        ),
        (
            "add a function nothing calls",
            0,
            None,
            "def unused():\n    pass\n".into(),
            true,
        ),
        (
            "rename a class nothing uses",
            1,
            Some(format!(
                "{base}\n\nclass Unused:\n    def put(self, key, value):\n        self.key = key\n"
            )),
            format!("{base}\n\nclass Spare:\n    def get(self):\n        return 1\n"),
            true,
        ),
        (
            "replace a class nothing uses by a function nothing calls",
            1,
            Some(format!("{base}\n\nclass Unused:\n    pass\n")),
            format!("{base}\n\ndef unused(value):\n    return 1\n"),
            true,
        ),
        (
            "rename a function nothing calls",
            0,
            Some("def unused():\n    pass\n".into()),
            "def spare():\n    pass\n".into(),
            true,
        ),
        (
            "rename a trailing class to the name another module imports",
            1,
            Some(format!("{base}\n\nclass Sooner:\n    pass\n")),
            format!("{base}\n\nclass Later:\n    pass\n"),
            false,
        ),
        (
            "rename a trailing function another module imports and calls",
            1,
            Some(format!("{base}\n\ndef Later():\n    pass\n")),
            format!("{base}\n\ndef sooner():\n    pass\n"),
            false,
        ),
        (
            "add a class another module imports",
            1,
            None,
            format!("{base}\n\nclass Later:\n    pass\n"),
            false,
        ),
        (
            "add a method to a class others use",
            1,
            None,
            base.replace(
                "\n\n\ndef make",
                "\n\n    def get(self, key):\n        return self.items[key]\n\n\ndef make",
            ),
            false,
        ),
        (
            "rename a function another module imports",
            1,
            None,
            base.replace("def helper(", "def help_with("),
            false,
        ),
        (
            "add an import that now resolves",
            3,
            None,
            views.replace(
                "from .sub import run\n",
                "from .sub import run\nfrom .base import make\n",
            ),
            false,
        ),
        (
            "delete a class another module subclasses",
            1,
            None,
            base.replace("class Store:", "class Kept:"),
            false,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let patterns: Vec<String> = ENTRY_POINTS.iter().map(|p| p.to_string()).collect();
    let paths = write_modules(dir.path(), &files);
    for (kind, file, before, text, renumbers) in edits {
        let mut facts: Vec<Arc<FileFacts>> = files.iter().map(|(_, text)| facts_of(text)).collect();
        if let Some(before) = before {
            facts[file] = facts_of(&before);
        }
        let (mut project, values) = full_link(inputs(&paths, &facts));
        let new = facts_of(&text);
        let replaced = [(file, Arc::clone(&facts[file]), Arc::clone(&new))];
        let (keep, appended) = values_kept(&replaced, project.mentions());
        assert_eq!(appended, renumbers, "{kind}");
        let setup = (paths.as_slice(), patterns.as_slice());
        link_again_as_a_full_link(
            (project, values),
            (file, new),
            keep,
            &mut facts,
            setup,
            kind,
        );
    }
}

/// `count` functions, each handed once to `pick`'s parameter, which holds its cap of values
/// from 32 of them on.
fn handed(count: usize) -> String {
    let mut text = String::from("def pick(handler):\n    return handler\n\n\n");
    for i in 0..40 {
        text.push_str(&format!("def handler_{i}():\n    return {i}\n\n\n"));
    }
    text.push_str("def register():\n");
    for i in 0..count {
        text.push_str(&format!("    pick(handler_{i})\n"));
    }
    text
}

/// Edits of value flows one after the other, each from the project the one before left: the
/// values updated for the edit (`PreviousValues::Update`) equal those a full link learns, and so
/// do the call graphs; the update is made where the edit's reach holds no full slot and the
/// changed files define and import the same as before, and the values are learnt again otherwise.
#[test]
fn each_edit_of_a_value_flow_updates_the_values_as_a_full_link_learns_them() {
    let base = "class Store:\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n\n\ndef make():\n    return Store()\n\n\ndef helper(store):\n    store.put(1, 2)\n\n\ndef call_it(fn):\n    return fn()\n\n\ndef deco(f):\n    return f\n";
    // `tool` is bound only by an unpacking, which the module's bindings do not list: an import
    // or a star import that binds it takes it over, and the flow that calls it stays planned.
    let views = "from .base import make, helper, call_it, deco\nfrom .near import pick\n\ntool, spare = helper, helper\n\n\n@deco\ndef index():\n    store = make()\n    helper(store)\n    pick(index)()\n\n\ndef other():\n    return call_it(other)\n";
    let files = [
        ("pkg/__init__.py", String::new()),
        ("pkg/base.py", base.to_string()),
        ("pkg/near.py", handed(31)),
        ("pkg/views.py", views.to_string()),
    ];
    let aliased = views.replace(
        "    helper(store)\n",
        "    alias = store\n    helper(alias)\n",
    );
    let handed_on = views.replace(
        "    return call_it(other)\n",
        "    helper(make)\n    return call_it(make)\n",
    );
    let wrapping = base.replace("    return f\n", "    wrapped = f\n    return wrapped\n");
    let unused_class =
        "\n\nclass Unused:\n    def put(self, key, value):\n        self.key = key\n";
    // Each edit: what it is, the module, its text after, and whether the values are updated.
    let edits: Vec<(&str, usize, String, bool)> = vec![
        ("add a flow through a local alias", 3, aliased.clone(), true),
        ("remove that flow", 3, views.into(), true),
        (
            "add flows into another module's parameters",
            3,
            handed_on.clone(),
            true,
        ),
        ("remove them", 3, views.into(), true),
        ("add them again", 3, handed_on.clone(), true),
        ("fill a slot to its cap", 2, handed(32), false),
        (
            "a call that changes nothing the values read",
            3,
            format!("{handed_on}\nprint()\n"),
            false,
        ),
        (
            "remove the argument that made the slot full",
            2,
            handed(31),
            false,
        ),
        ("add past the cap", 2, handed(40), false),
        ("remove below it again", 2, handed(30), false),
        (
            "a flow through a decorator's body",
            1,
            wrapping.clone(),
            false,
        ),
        (
            "a decorator taken away",
            3,
            views.replace("@deco\n", ""),
            false,
        ),
        (
            "a flow in a function no decorator reads",
            3,
            aliased.replace("@deco\n", ""),
            true,
        ),
        (
            "an import changed",
            3,
            aliased.replace("from .near import pick", "from .base import make as pick"),
            false,
        ),
        ("the import back", 3, aliased.replace("@deco\n", ""), false),
        (
            "a flow removed again",
            3,
            views.replace("@deco\n", ""),
            true,
        ),
        // Values renumbered (every later function's id moves) keep which flows read and wrote
        // each slot: the next edit of a value flow updates them.
        (
            "an unused class appended",
            1,
            format!("{wrapping}{unused_class}"),
            false,
        ),
        (
            "a flow after the ids moved",
            3,
            aliased.replace("@deco\n", ""),
            true,
        ),
        ("the unused class taken away", 1, wrapping.clone(), false),
        (
            "a flow after the ids moved back",
            3,
            views.replace("@deco\n", ""),
            true,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let patterns: Vec<String> = ENTRY_POINTS.iter().map(|p| p.to_string()).collect();
    let texts: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let paths = write_modules(dir.path(), &texts);
    let mut facts: Vec<Arc<FileFacts>> = files.iter().map(|(_, text)| facts_of(text)).collect();
    let (mut project, mut values) = full_link(inputs(&paths, &facts));
    for (kind, file, text, updates) in edits {
        let new = facts_of(&text);
        let replaced = [(file, Arc::clone(&facts[file]), Arc::clone(&new))];
        let (keep, renumbered) = values_kept(&replaced, project.mentions());
        assert_eq!(renumbered, kind.contains("unused class"), "{kind}");
        let setup = (paths.as_slice(), patterns.as_slice());
        (project, values) = link_again_as_a_full_link(
            (project, values),
            (file, new),
            keep,
            &mut facts,
            setup,
            kind,
        );
        assert_eq!(values_updated(&project), updates, "{kind}");
    }
}

/// Edits `file` of `files` with each of `edits` in turn (a name, the new text, and whether the
/// values are updated rather than learnt again), each from the project the one before left,
/// checking every link again against a full link; none of the edits keeps the values as they are.
fn edit_one_file_as_full_links(
    files: &[(&str, String)],
    file: usize,
    edits: Vec<(&str, String, bool)>,
) {
    let dir = tempfile::tempdir().unwrap();
    let patterns: Vec<String> = ENTRY_POINTS.iter().map(|p| p.to_string()).collect();
    let texts: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let paths = write_modules(dir.path(), &texts);
    let mut facts: Vec<Arc<FileFacts>> = files.iter().map(|(_, text)| facts_of(text)).collect();
    let (mut project, mut values) = full_link(inputs(&paths, &facts));
    for (kind, text, updates) in edits {
        let new = facts_of(&text);
        let replaced = [(file, Arc::clone(&facts[file]), Arc::clone(&new))];
        let (keep, renumbered) = values_kept(&replaced, project.mentions());
        assert!(!keep && !renumbered, "{kind}");
        let setup = (paths.as_slice(), patterns.as_slice());
        (project, values) = link_again_as_a_full_link(
            (project, values),
            (file, new),
            keep,
            &mut facts,
            setup,
            kind,
        );
        assert_eq!(values_updated(&project), updates, "{kind}");
    }
}

/// Edits of imports one after the other, each from the project the one before left: the values
/// are updated (`PreviousValues::Update`) when the edited module's changed bindings are looked
/// up by nothing outside its own flows (`remap::rebound_names`), and equal those a full link
/// learns; they are learnt again when another module imports the name from it, finds it through
/// a star import of it, or the module's class bases name it, and when the edit adds a star
/// import.
#[test]
fn each_edit_of_an_import_updates_the_values_as_a_full_link_learns_them() {
    let base = "class Store:\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n\n\ndef make():\n    return Store()\n\n\ndef helper(store):\n    store.put(1, 2)\n\n\ndef call_it(fn):\n    return fn()\n\n\ndef deco(f):\n    return f\n";
    // `tool` is bound only by an unpacking, which the module's bindings do not list: an import
    // or a star import that binds it takes it over, and the flow that calls it stays planned.
    let views = "from .base import make, helper, call_it, deco\nfrom .near import pick\n\ntool, spare = helper, helper\n\n\n@deco\ndef index():\n    store = make()\n    helper(store)\n    pick(index)()\n    return tool()\n\n\ndef other():\n    return call_it(other)\n\n\nclass Page(Widget):\n    pass\n";
    let files = [
        ("pkg/__init__.py", String::new()),
        ("pkg/base.py", base.to_string()),
        ("pkg/near.py", handed(20)),
        (
            "pkg/tools.py",
            "from .base import Store\n\n\ndef tool():\n    return Store()\n".to_string(),
        ),
        (
            "pkg/other.py",
            "from .views import extra, Page\n\n\ndef run():\n    return extra()\n\n\ndef build():\n    page = Page()\n    return page.put\n".to_string(),
        ),
        (
            "pkg/starred.py",
            "from .views import *\n\n\ndef use():\n    return gadget()\n".to_string(),
        ),
        ("pkg/views.py", views.to_string()),
    ];
    let views_file = files.len() - 1;
    let json = format!("import json\n{views}");
    let with = |import: &str| format!("import json\n{import}\n{views}");
    // Each edit of `pkg/views.py`: what it is, its text after, and whether the values are
    // updated.
    let edits: Vec<(&str, String, bool)> = vec![
        ("an import nothing names", json.clone(), true),
        (
            "an import a flow already names",
            with("from .tools import tool"),
            true,
        ),
        (
            "the import's target changed",
            with("from .base import make as tool"),
            true,
        ),
        ("the import removed", json.clone(), true),
        (
            "an import of a name another module imports from this one",
            with("from .tools import tool as extra"),
            true,
        ),
        ("that import removed", json.clone(), true),
        ("a star import", with("from .tools import *"), false),
        ("the star import removed", json.clone(), false),
        (
            "an import of a name a star import of this module finds",
            with("from .tools import tool as gadget"),
            true,
        ),
        ("that import removed again", json.clone(), true),
        (
            "an import of a name a class base names",
            with("from .base import Store as Widget"),
            false,
        ),
        ("the base's import removed", json.clone(), false),
        (
            "an import in a function, with a flow that names it",
            json.replace(
                "    return call_it(other)\n",
                "    from .tools import tool\n    return call_it(tool)\n",
            ),
            true,
        ),
        ("the function's import removed", json.clone(), true),
        (
            "an import and a flow in one edit",
            with("from .tools import tool").replace(
                "    helper(store)\n",
                "    alias = store\n    helper(alias)\n",
            ),
            true,
        ),
        ("both taken back", json.clone(), true),
    ];
    edit_one_file_as_full_links(&files, views_file, edits);
}

/// Edits of module bindings one after the other, each from the project the one before left: the
/// values are updated (`PreviousValues::Update`) when the names the edited module binds
/// otherwise are looked up by nothing outside its own flows (`remap::rebound_names`), and equal
/// those a full link learns, call graphs included; they are learnt again when another module
/// imports the name from it or a class base of the module names it. A class rebound to itself
/// (`Page = Page`, which another module imports) is updated: the scope still binds the class,
/// and the new slot of the module name is read by nothing outside the module, so the other
/// modules' call edges are kept.
#[test]
fn each_edit_of_a_module_binding_updates_the_values_as_a_full_link_learns_them() {
    let base = "class Store:\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n\n\ndef make():\n    return Store()\n\n\ndef helper(store):\n    store.put(1, 2)\n    return store\n";
    let views = "from .base import make, helper, Store\n\n\nclass Page(Widget):\n    def put(self, key, value):\n        self.key = key\n\n\ndef index():\n    store = make()\n    helper(store)\n    return runner()\n\n\ndef other():\n    return Page().put\n";
    let files = [
        ("pkg/__init__.py", String::new()),
        ("pkg/base.py", base.to_string()),
        (
            "pkg/other.py",
            "from .views import Page, exported\n\n\ndef run():\n    return exported()\n\n\ndef build():\n    page = Page()\n    return page.put\n".to_string(),
        ),
        ("pkg/views.py", views.to_string()),
    ];
    let views_file = files.len() - 1;
    let with = |bindings: &str| format!("{views}\n\n{bindings}\n");
    // Each edit of `pkg/views.py`: what it is, its text after, and whether the values are
    // updated.
    let edits: Vec<(&str, String, bool)> = vec![
        (
            "a class another module imports rebound to itself",
            with("Page = Page"),
            true,
        ),
        ("that binding taken away", views.to_string(), true),
        (
            "a module binding a flow of the module calls through",
            with("runner = helper"),
            true,
        ),
        (
            "that binding given another object",
            with("runner = make"),
            true,
        ),
        ("and another value", with("runner = Store()"), true),
        ("the binding removed", views.to_string(), true),
        (
            "a module binding another module imports",
            with("exported = make"),
            true,
        ),
        (
            "that binding given another object",
            with("exported = helper"),
            true,
        ),
        ("that binding removed", views.to_string(), true),
        (
            "a module binding a class base names",
            with("Widget = Store"),
            false,
        ),
        ("the base's binding removed", views.to_string(), false),
        (
            "a binding and a flow in one edit",
            with("runner = helper").replace(
                "    helper(store)\n",
                "    alias = store\n    helper(alias)\n",
            ),
            true,
        ),
        ("both taken back", views.to_string(), true),
    ];
    edit_one_file_as_full_links(&files, views_file, edits);
}

/// A function handed to a function of another module is only handed over while that function
/// keeps it; the edge is decided in the module that hands it, from the other module's facts. An
/// edit of the other module that makes it hand its parameter to a thread, after which the values
/// of names are updated to what they were, must not leave the unchanged module's edge as it was
/// (and back).
#[test]
fn an_edit_of_the_module_a_function_is_handed_to_decides_the_edge_again() {
    let keep = "import threading\n\n_startup = []\n\n\ndef on_startup(handler):\n    _startup.append(handler)\n";
    let runs = keep.replace(
        "    _startup.append(handler)\n",
        "    _startup.append(handler)\n    threading.Thread(target=handler).start()\n",
    );
    let views = "from .keep import on_startup\n\n\ndef index():\n    def start():\n        pass\n\n    on_startup(start)\n";
    let files = [
        ("pkg/__init__.py", ""),
        ("pkg/keep.py", keep),
        ("pkg/views.py", views),
    ];
    let edits = [
        (runs.as_str(), EdgeKind::Callback, EdgeKind::HandedOver),
        (keep, EdgeKind::HandedOver, EdgeKind::Callback),
    ];
    edit_one_file_as_the_edge_of_index_says(&files, &edits, true);
}

/// Each of `edits` (the text of `files[1]` after it, the kind of edge `index` must then have to the
/// function it hands over, and the kind it must not have) linked again from the project the one
/// before left, as a full link does (values updated when `expect_values_updated`): the edge from
/// `index`, which starts handed over, is decided again.
fn edit_one_file_as_the_edge_of_index_says(
    files: &[(&str, &str)],
    edits: &[(&str, EdgeKind, EdgeKind)],
    expect_values_updated: bool,
) {
    let dir = tempfile::tempdir().unwrap();
    let patterns: Vec<String> = ENTRY_POINTS.iter().map(|p| p.to_string()).collect();
    let paths = write_modules(dir.path(), files);
    let mut facts: Vec<Arc<FileFacts>> = files.iter().map(|(_, text)| facts_of(text)).collect();
    let (mut project, mut values) = full_link(inputs(&paths, &facts));
    let kinds = |project: &Project| -> Vec<EdgeKind> {
        (0..project.function_count() as u32)
            .map(FuncId)
            .filter(|id| project.function(*id).1.name == "index")
            .flat_map(|id| project.call_graph().callees(id).iter().map(|e| e.kind))
            .collect()
    };
    assert!(kinds(&project).contains(&EdgeKind::HandedOver));
    for &(text, expected, not) in edits {
        let new = facts_of(text);
        let replaced = [(1, Arc::clone(&facts[1]), Arc::clone(&new))];
        let (same_values, _) = values_kept(&replaced, project.mentions());
        let setup = (paths.as_slice(), patterns.as_slice());
        (project, values) = link_again_as_a_full_link(
            (project, values),
            (1, new),
            same_values,
            &mut facts,
            setup,
            text,
        );
        if expect_values_updated {
            assert!(values_updated(&project), "{text}");
        }
        let kinds = kinds(&project);
        assert!(
            kinds.contains(&expected) && !kinds.contains(&not),
            "{text}: {kinds:?}"
        );
    }
}

/// A module global only annotated with a class of the tree (`app: Keeper`, bound elsewhere)
/// holds an instance of that class: a function handed to its method is kept or run as that
/// class's method does. An edit of the annotation alone, in the module of the global, must decide
/// the edge of the module that hands the function over again (and back).
#[test]
fn an_edit_of_the_annotation_of_a_global_decides_the_edge_of_a_call_on_it_again() {
    let lifecycle = "import threading\n\n_startup = []\n\n\nclass Keeper:\n    def on_startup(self, handler):\n        _startup.append(handler)\n\n\nclass Runner:\n    def on_startup(self, handler):\n        threading.Thread(target=handler).start()\n";
    let keeper = "from .lifecycle import Keeper, Runner\n\napp: Keeper\n";
    let runner = keeper.replace("app: Keeper", "app: Runner");
    let views = "from . import core\n\n\ndef index():\n    def start():\n        pass\n\n    core.app.on_startup(start)\n";
    let files = [
        ("pkg/__init__.py", ""),
        ("pkg/core.py", keeper),
        ("pkg/lifecycle.py", lifecycle),
        ("pkg/views.py", views),
    ];
    let edits = [
        (runner.as_str(), EdgeKind::Callback, EdgeKind::HandedOver),
        (keeper, EdgeKind::HandedOver, EdgeKind::Callback),
    ];
    edit_one_file_as_the_edge_of_index_says(&files, &edits, false);
}

/// Edits of module bindings other modules look up, one after the other, each from the project
/// the one before left: `from m import X` (and a module re-exporting it, imported in turn), and
/// `m.X`. The values are updated (`PreviousValues::Update`) when the name is bound to another
/// object, added, given another value or removed, by re-planning the flows of the files that name
/// it (the link's `readers`), and equal those a full link learns, call graphs included; they are
/// learnt again when another module resolves the name outside its flows and call sites (a class
/// base, a module binding's value).
#[test]
fn each_edit_of_a_module_binding_other_modules_import_updates_the_values_as_a_full_link_learns_them()
 {
    let base = "class Store:\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n\n\ndef make():\n    return Store()\n\n\ndef helper(store):\n    store.put(1, 2)\n    return store\n\n\nclass Deferred:\n    def put(self, key, value):\n        self.key = key\n\n\nDEFERRED = Deferred()\n";
    let files = [
        ("pkg/__init__.py", String::new()),
        ("pkg/base.py", base.to_string()),
        (
            "pkg/models.py",
            "from .base import DEFERRED, helper\n\n\ndef fill():\n    return helper(DEFERRED)\n"
                .to_string(),
        ),
        (
            "pkg/views.py",
            "from . import base\nfrom .models import DEFERRED\nfrom .base import LATER\n\n\ndef index():\n    DEFERRED.put(1, 2)\n    base.DEFERRED.put(3, 4)\n    LATER()\n    return other()\n\n\ndef other():\n    value = DEFERRED\n    value.put(5, 6)\n    return value\n".to_string(),
        ),
        (
            "pkg/typed.py",
            "from .base import Widget, shared\n\nALIAS = shared\n\n\nclass Page(Widget):\n    pass\n"
                .to_string(),
        ),
    ];
    let with = |bindings: &str| format!("{base}\n\n{bindings}\n");
    // Each edit of `pkg/base.py`: what it is, its text after, and whether the values are
    // updated.
    let edits: Vec<(&str, String, bool)> = vec![
        (
            "a binding other modules import, rebound to another object",
            with("DEFERRED = object()"),
            true,
        ),
        (
            "rebound to an instance of another class",
            with("DEFERRED = Store()"),
            true,
        ),
        ("rebound to a function", with("DEFERRED = helper"), true),
        ("the rebinding removed", base.to_string(), true),
        (
            "a binding another module imports before it exists, added",
            with("LATER = make"),
            true,
        ),
        ("its value changed", with("LATER = helper"), true),
        ("that binding removed", base.to_string(), true),
        (
            "a rebinding and a flow in one edit",
            with("DEFERRED = make").replace(
                "    store.put(1, 2)\n",
                "    alias = store\n    alias.put(1, 2)\n",
            ),
            true,
        ),
        ("both taken back", base.to_string(), true),
        (
            "a binding a class base of another module names",
            with("Widget = Store"),
            false,
        ),
        ("the base's binding removed", base.to_string(), false),
        (
            "a binding a module binding of another module names",
            with("shared = Store()"),
            false,
        ),
        ("that binding removed", base.to_string(), false),
    ];
    edit_one_file_as_full_links(&files, 1, edits);
}
