//! Blocks that run while a lock is held: the body of `with L:` (or `async with`, or `with A, L:`)
//! where `L` is written as a lock, and the body of a function decorated `@synchronized` or
//! `@X.synchronized(...)` (OpenStack's `lockutils`, `coordination` and `utils`). Code that
//! changes a shared object there was written knowing that the object is shared (SL111).
//!
//! A lock is known by its name, split into words on `_` and at lower-to-upper case changes:
//! - a name or attribute chain whose last segment ends with the word `lock`, `rlock` or `mutex`
//!   (`_lock`, `self._cache_lock`, `LOCK`, `cls._mutex`, `self._selectedFileMutex`); a name
//!   that only starts with it (`self._lock_free_ctx`, `self._lock_cache`) is not one;
//! - an item of a chain whose last segment ends with `locks`, `mutexes` or one of the words above
//!   (`self._locks[key]`, `cls._queues_lock[pid]`);
//! - `a or b` where each operand is a lock (`lock or self._lock`);
//! - a call of a function or method one of whose words is `lock`, `rlock` or `mutex`
//!   (`self._lock_for(key)`, `get_lock(name)`, `lockutils.lock(name)`, `FileLock(path)`): what a
//!   function so named returns to a `with` holds a lock; and a call of a method whose name
//!   starts with `acquire` on a lock (`lock.acquire_timeout(5)`).
//!
//! `L.acquire()` ... `finally: L.release()` is not taken for a held lock (on the app corpus it
//! would have moved two findings), nor is a name the project binds to a lock constructor
//! (`self._available = threading.Condition()`: one finding, see BENCHMARKS.md, round 40).

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::Ranged;

use crate::facts::{LockHeld, Name, Span, intern};

use super::dotted_name;

/// The lock one of the items of `with` holds, if any, and the block it holds it over.
pub(super) fn with_lock(with: &ast::StmtWith) -> Option<LockHeld> {
    let (first, last) = (with.body.first()?, with.body.last()?);
    let lock = with
        .items
        .iter()
        .find_map(|item| lock_written(&item.context_expr))?;
    Some(LockHeld {
        body: Span::new(first.start().to_u32(), last.end().to_u32()),
        lock,
        decorator: false,
    })
}

/// The synchronizing decorator of `function`, if it has one, and its body.
pub(super) fn synchronized(function: &ast::StmtFunctionDef) -> Option<LockHeld> {
    let (first, last) = (function.body.first()?, function.body.last()?);
    let lock = function.decorator_list.iter().find_map(|d| {
        let expr = match &d.expression {
            Expr::Call(call) => &*call.func,
            other => other,
        };
        let name = dotted_name(expr)?;
        (name.as_str().rsplit('.').next() == Some("synchronized")).then_some(name)
    })?;
    Some(LockHeld {
        body: Span::new(first.start().to_u32(), last.end().to_u32()),
        lock,
        decorator: true,
    })
}

/// `expr` as written when it is a lock (see the module's documentation).
fn lock_written(expr: &Expr) -> Option<Name> {
    match expr {
        Expr::Name(_) | Expr::Attribute(_) => {
            let name = dotted_name(expr)?;
            ends_with_word(last_segment(name.as_str()), &["lock", "rlock", "mutex"]).then_some(name)
        }
        Expr::Subscript(item) => {
            let name = dotted_name(&item.value)?;
            let last = last_segment(name.as_str());
            ends_with_word(last, &["lock", "locks", "rlock", "mutex", "mutexes"])
                .then(|| join_suffix(&name, "[...]"))
        }
        // `lock or self._lock`: whichever it is, a lock.
        Expr::BoolOp(either) => {
            let mut operands = either.values.iter().map(lock_written);
            let first = operands.next()??;
            operands.all(|o| o.is_some()).then_some(first)
        }
        Expr::Call(call) => {
            let callee = dotted_name(&call.func)?;
            let called = last_segment(callee.as_str());
            let lock_named =
                words(called).any(|w| matches!(w.as_str(), "lock" | "rlock" | "mutex"));
            let acquired_lock = called.starts_with("acquire")
                && matches!(&*call.func, Expr::Attribute(a) if lock_written(&a.value).is_some());
            (lock_named || acquired_lock).then(|| join_suffix(&callee, "(...)"))
        }
        _ => None,
    }
}

fn join_suffix(name: &Name, suffix: &str) -> Name {
    intern(&format!("{}{suffix}", name.as_str()))
}

fn last_segment(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

/// Whether the last word of `segment` is one of `last`.
fn ends_with_word(segment: &str, last: &[&str]) -> bool {
    words(segment)
        .last()
        .is_some_and(|w| last.contains(&w.as_str()))
}

/// The words of an identifier, lowercased: split on `_` and where a lowercase letter or digit is
/// followed by an uppercase one (`_selectedFileMutex`: `selected`, `file`, `mutex`).
fn words(segment: &str) -> impl Iterator<Item = String> + '_ {
    segment
        .split('_')
        .flat_map(|part| {
            let mut pieces = Vec::new();
            let mut current = String::new();
            let mut previous_lower = false;
            for c in part.chars() {
                if c.is_uppercase() && previous_lower {
                    pieces.push(std::mem::take(&mut current));
                }
                previous_lower = c.is_lowercase() || c.is_ascii_digit();
                current.extend(c.to_lowercase());
            }
            pieces.push(current);
            pieces
        })
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(source: &str) -> Option<String> {
        let parsed = ruff_python_parser::parse_expression(source).unwrap();
        lock_written(parsed.expr()).map(|n| n.as_str().to_string())
    }

    #[test]
    fn locks_by_name() {
        for written in [
            "_lock",
            "self._cache_lock",
            "LOCK",
            "cls._mutex",
            "self._selectedFileMutex",
            "self.rlock",
            "VIDEO_REGISTRY_LOCK",
        ] {
            assert_eq!(lock(written).as_deref(), Some(written));
        }
        assert_eq!(
            lock("self._locks[key]").as_deref(),
            Some("self._locks[...]")
        );
        assert_eq!(
            lock("cls._queues_lock[pid]").as_deref(),
            Some("cls._queues_lock[...]")
        );
        assert_eq!(lock("lock or self._lock").as_deref(), Some("lock"));
        assert_eq!(lock("lock or other"), None);
        assert_eq!(
            lock("self._lock_for(key)").as_deref(),
            Some("self._lock_for(...)")
        );
        assert_eq!(
            lock("lockutils.lock('x')").as_deref(),
            Some("lockutils.lock(...)")
        );
        assert_eq!(
            lock("lock.acquire_timeout(5)").as_deref(),
            Some("lock.acquire_timeout(...)")
        );
        for not_a_lock in [
            "self._lock_free_ctx",
            "self._lock_cache",
            "open('f')",
            "self.blocks",
            "clock",
            "unlocked(x)",
            "self._locks",
            "self.locked_addon(x)",
        ] {
            assert_eq!(lock(not_a_lock), None, "{not_a_lock}");
        }
    }
}
