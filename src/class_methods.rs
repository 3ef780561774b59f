//! Which functions of a file belong to each of its classes, worked out once per file's facts and
//! kept with them ([`FileFacts::class_methods`]), so that looking a method up along an MRO reads
//! the few functions of each class rather than every function of each class's file.
//!
//! Kept with the facts, it is correct across the language server's edits for as long as the facts
//! are, as [`crate::call_names`] is: it is read from the facts alone, facts are not changed once
//! shared (`Arc<FileFacts>`), an edited file gets new facts (and so computes it again on first
//! use), and a copy of facts (`Clone`) starts without it.

use std::sync::OnceLock;

use crate::facts::{ClassIdx, FileFacts, FuncIdx};

/// For each class of the file, the functions whose `class` it is, in the facts' order.
#[derive(Debug, Default)]
pub struct ClassMethods {
    /// The functions, class after class.
    functions: Vec<FuncIdx>,
    /// Where each class's functions end in `functions`.
    ends: Vec<u32>,
}

impl ClassMethods {
    pub fn of(facts: &FileFacts) -> Self {
        let mut counts = vec![0u32; facts.classes.len()];
        for function in &facts.functions {
            if let Some(class) = function.class
                && let Some(count) = counts.get_mut(class as usize)
            {
                *count += 1;
            }
        }
        let mut ends = Vec::with_capacity(counts.len());
        let mut total = 0;
        for count in counts {
            total += count;
            ends.push(total);
        }
        let mut next: Vec<u32> = std::iter::once(0)
            .chain(ends.iter().copied())
            .take(ends.len())
            .collect();
        let mut functions = vec![0; total as usize];
        for (index, function) in facts.functions.iter().enumerate() {
            if let Some(class) = function.class
                && let Some(slot) = next.get_mut(class as usize)
            {
                functions[*slot as usize] = index as FuncIdx;
                *slot += 1;
            }
        }
        ClassMethods { functions, ends }
    }

    /// The functions whose `class` is `class`, in the facts' order (none for an unknown class).
    pub fn of_class(&self, class: ClassIdx) -> &[FuncIdx] {
        let class = class as usize;
        let Some(&end) = self.ends.get(class) else {
            return &[];
        };
        let start = if class == 0 { 0 } else { self.ends[class - 1] };
        &self.functions[start as usize..end as usize]
    }
}

/// [`ClassMethods`] worked out on first use.
#[derive(Default)]
pub struct KeptClassMethods(OnceLock<ClassMethods>);

impl KeptClassMethods {
    pub fn get_or_init(&self, facts: &FileFacts) -> &ClassMethods {
        self.0.get_or_init(|| ClassMethods::of(facts))
    }
}

impl Clone for KeptClassMethods {
    /// A copy of facts may be changed before it is shared: it works its methods out again.
    fn clone(&self) -> Self {
        KeptClassMethods::default()
    }
}

impl std::fmt::Debug for KeptClassMethods {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeptClassMethods")
    }
}

#[cfg(test)]
mod tests {
    use super::ClassMethods;

    #[test]
    fn each_class_lists_its_functions_in_order() {
        let facts = crate::syntax::extract(
            "class A:\n    def a(self):\n        def inner(): pass\n\nclass B:\n    pass\n\n\
             def f(): pass\n\nclass C:\n    def c(self): pass\n    def d(self): pass\n",
        )
        .unwrap();
        let methods = ClassMethods::of(&facts);
        let names = |class: u32| -> Vec<&str> {
            methods
                .of_class(class)
                .iter()
                .map(|&f| facts.functions[f as usize].name.as_str())
                .collect()
        };
        assert_eq!(facts.classes.len(), 3);
        for (class, expected) in [(0, vec!["a"]), (1, vec![]), (2, vec!["c", "d"])] {
            let listed = names(class);
            let scanned: Vec<&str> = facts
                .functions
                .iter()
                .filter(|f| f.class == Some(class))
                .map(|f| f.name.as_str())
                .collect();
            assert_eq!(listed, scanned);
            assert_eq!(listed, expected);
        }
        assert!(methods.of_class(9).is_empty());
    }
}
