//! Objects created empty that nothing adds to: taking entries out of them changes nothing.

use crate::facts::{FileFacts, Mutation, MutationKind, Span};
use crate::knowledge;
use crate::project::{FileId, Project};

use super::{ChangeSite, Model, Through};

impl Model {
    /// Whether the object created at `site` of `file` is created empty (`{}`, `[]`, `dict()`,
    /// `list()`, `set()`) and stays so: every change the model attaches to it leaves an empty
    /// container empty (`pop`, `remove`, `discard`, `clear`, `del x[k]`, a sort, a change in a
    /// loop over the object itself, a change whose arguments first need an entry of it, a change
    /// made only while the object is true: `if filters: filters[k] = v`), or goes
    /// through `self` of an instance that has its own attribute by then (`self.cache = {}` earlier
    /// in the same method). Its `pop`s and `clear`s then change nothing. A change the model does
    /// not attach (a receiver of unknown class) is not seen here: the rule that asks must check
    /// the changes it reports itself with [`keeps_empty`].
    pub fn stays_empty(&self, project: &Project, file: FileId, site: Span) -> bool {
        let facts = &project.file(file).facts;
        if !facts.empty_values.contains(&site.start) {
            return false;
        }
        let Some(object) = self.by_file[file as usize]
            .iter()
            .copied()
            .find(|id| self.object(*id).site == site)
        else {
            return false;
        };
        let instance_assignments = self.instance_assignments(project);
        self.changes
            .iter()
            .filter(|change| change.objects.contains(&object))
            .all(|change| {
                let ChangeSite::Mutation(index) = change.site else {
                    return false;
                };
                let change_facts = &project.file(change.file).facts;
                let mutation = &change_facts.mutations[index as usize];
                keeps_empty(change_facts, mutation)
                    || change.through == Through::SelfAttribute
                        && matches!(mutation.target.attrs.as_slice(), [attr]
                            if project.method_class(change.file, mutation.function).is_some_and(|class| {
                                instance_assignments.shadows(
                                    project,
                                    class,
                                    attr,
                                    change.file,
                                    mutation.function,
                                    mutation.span.start,
                                )
                            }))
            })
    }
}

/// Whether `mutation` (of `facts`) leaves an empty container empty: it removes entries or
/// reorders them, on the object itself (not on an element of it), or it runs only in a loop over
/// the object itself ([`FileFacts::changed_while_iterated`]), which an empty one never enters, or
/// only once an entry of it was read in a way that raises when there is none
/// ([`FileFacts::changed_only_with_entries`]: `x[-1]` before the change, `x.index(...)` in its
/// arguments), or only while the object is true ([`changed_only_while_true`]).
pub fn keeps_empty(facts: &FileFacts, mutation: &Mutation) -> bool {
    takes_entries_out(mutation)
        || changed_only_while_true(facts, mutation)
        || facts.changed_while_iterated.contains(&mutation.span.start)
        || facts
            .changed_only_with_entries
            .contains(&mutation.span.start)
        || !mutation.nested
            && matches!(&mutation.kind, MutationKind::Method(name)
                if knowledge::REORDERING_METHODS.contains(&name.as_str()))
}

/// Whether `mutation` changes the object itself (not an attribute or an element of it) only
/// under a test that requires the name it goes through to be true ([`FileFacts::truth_guarded`]:
/// `if filters: filters[k] = v`). An empty container is false, so the change never runs on one:
/// with every other change keeping it empty too, it stays empty and the test never passes for it.
pub fn changed_only_while_true(facts: &FileFacts, mutation: &Mutation) -> bool {
    !mutation.nested
        && mutation.target.attrs.is_empty()
        && facts.truth_guarded.contains(&mutation.span.start)
}

/// Whether `mutation` only takes entries out of the object itself (not out of an element of it):
/// `del c[k]` or one of [`knowledge::REMOVING_METHODS`]. It puts nothing in.
pub fn takes_entries_out(mutation: &Mutation) -> bool {
    !mutation.nested
        && match &mutation.kind {
            MutationKind::ItemDelete => true,
            MutationKind::Method(name) => knowledge::REMOVING_METHODS.contains(&name.as_str()),
            _ => false,
        }
}
