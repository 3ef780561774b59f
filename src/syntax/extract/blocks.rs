//! Whether a statement seen earlier in the function being walked runs on every path to the one
//! being walked now, as far as its nesting shows: it does when every block that held it is still
//! open. A block here is a body that some runs skip or leave early: a branch of an `if`, the body
//! or `else` of a loop, the body of a `try` (an exception may leave it anywhere) and each of its
//! handlers, `else` and `finally` blocks, a `match` case. A `with` body is no such block: only a
//! context manager that swallows the exception would let the code after it see a partial run.
//!
//! The levels are counted per function (a nested function starts at level 0), but the count of
//! blocks closed at each level is shared by all functions: a nested function's blocks closing
//! at a level make the outer function's earlier statements at that level count as left, which
//! only ever says "not on every path" where it was.

/// The blocks that enclose the statement being walked, and how many have closed at each level.
#[derive(Default)]
pub(super) struct Blocks {
    open: u32,
    closed_at_level: Vec<u32>,
}

/// Where a statement was walked: inside how many blocks, and how many blocks had closed at
/// that level by then.
#[derive(Clone, Copy, Debug)]
pub(super) struct BlockPosition {
    level: u32,
    closed_before: u32,
}

impl Blocks {
    pub(super) fn open(&mut self) {
        self.open += 1;
    }

    pub(super) fn close(&mut self) {
        let level = self.open as usize;
        if self.closed_at_level.len() <= level {
            self.closed_at_level.resize(level + 1, 0);
        }
        self.closed_at_level[level] += 1;
        self.open -= 1;
    }

    /// Enters a function's body: its statements start outside every block. Returns what
    /// [`Self::leave_function`] restores.
    pub(super) fn enter_function(&mut self) -> u32 {
        std::mem::take(&mut self.open)
    }

    pub(super) fn leave_function(&mut self, open: u32) {
        self.open = open;
    }

    pub(super) fn here(&self) -> BlockPosition {
        BlockPosition {
            level: self.open,
            closed_before: self.closed_at_level_count(self.open),
        }
    }

    /// Whether the block that held the statement walked at `at` is still open: then, since the
    /// walk follows the text, that statement ran before the one being walked now on every path
    /// that reaches it (within one run of the innermost loop around both).
    pub(super) fn still_open(&self, at: BlockPosition) -> bool {
        at.level <= self.open && self.closed_at_level_count(at.level) == at.closed_before
    }

    fn closed_at_level_count(&self, level: u32) -> u32 {
        self.closed_at_level
            .get(level as usize)
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_before_a_nested_block_still_runs_on_every_path_into_it() {
        let mut blocks = Blocks::default();
        let before = blocks.here();
        blocks.open();
        assert!(blocks.still_open(before));
        blocks.close();
        assert!(blocks.still_open(before));
    }

    #[test]
    fn a_statement_in_a_closed_branch_does_not() {
        let mut blocks = Blocks::default();
        blocks.open();
        let in_if = blocks.here();
        assert!(blocks.still_open(in_if));
        blocks.close();
        assert!(!blocks.still_open(in_if));
        // The `else` branch opens a block at the same level: still not the same block.
        blocks.open();
        assert!(!blocks.still_open(in_if));
    }

    #[test]
    fn an_inner_block_closing_leaves_the_outer_one_open() {
        let mut blocks = Blocks::default();
        blocks.open();
        let outer = blocks.here();
        blocks.open();
        blocks.close();
        assert!(blocks.still_open(outer));
        blocks.close();
        assert!(!blocks.still_open(outer));
    }
}
