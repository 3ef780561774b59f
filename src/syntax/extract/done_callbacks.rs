//! Futures kept in a container only until they are done: `tasks.add(t)` right followed by
//! `t.add_done_callback(tasks.discard)`. A future's done-callbacks run once it is done (finished,
//! failed or cancelled; at once, or on the loop's next turn, when it is done already) and are
//! given the future itself, so the callback takes out exactly what the add put in: the container
//! holds only futures still running, and nothing of a call stays in it after its task ends.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::dotted_name;

/// Appends to `out` the start of the call in `stmt` when it adds a future to a container whose
/// removal `next`, the statement after it in its block, hands to the future as its
/// done-callback. Asked of each statement of a function's body (nested functions left to their
/// own visit) that has a statement after it (the walk over the body's blocks is shared:
/// `super::scan_function_blocks`).
pub(super) fn kept_until_done(stmt: &Stmt, next: &Stmt, out: &mut Vec<u32>) {
    // The callback must be registered by the very next statement: one in between could raise
    // and leave the future in the container for good. Registered before the add, a callback
    // of a future done already (`concurrent.futures` calls it at once) would run first.
    if let Some(start) = kept_add(stmt, next) {
        out.push(start);
    }
}

/// The start of `add` when it is `C.add(t)` (or `C.append(t)`), `t` a name, and `next` is
/// `t.add_done_callback(R)` with `R` the same container's bound removal: `C.discard` or
/// `C.remove` (only `C.remove` after an `append`: a list has no `discard`). Bound, `R` holds the
/// container the add went to; a lambda (`lambda f: C.discard(f)`) would look `C` up again when it
/// runs, after the call may have bound `C` to another container.
fn kept_add(add: &Stmt, next: &Stmt) -> Option<u32> {
    let (call, container, method, [Expr::Name(future)]) = method_call(add)? else {
        return None;
    };
    let removals: &[&str] = match method {
        "add" => &["discard", "remove"],
        "append" => &["remove"],
        _ => return None,
    };
    let (_, registrar, "add_done_callback", [callback]) = method_call(next)? else {
        return None;
    };
    if !matches!(registrar, Expr::Name(n) if n.id == future.id) {
        return None;
    }
    let container = dotted_name(container)?;
    let removes = |removal: &Expr| {
        matches!(removal, Expr::Attribute(a) if removals.contains(&a.attr.as_str())
            && dotted_name(&a.value).as_ref() == Some(&container))
    };
    removes(callback).then(|| call.range().start().to_u32())
}

/// `receiver.method(args...)` as a statement of its own, without keywords or starred arguments:
/// the call, the receiver, the method's name and the arguments.
fn method_call(stmt: &Stmt) -> Option<(&ast::ExprCall, &Expr, &str, &[Expr])> {
    let Stmt::Expr(ast::StmtExpr { value, .. }) = stmt else {
        return None;
    };
    let Expr::Call(call) = &**value else {
        return None;
    };
    let Expr::Attribute(attribute) = &*call.func else {
        return None;
    };
    if !call.arguments.keywords.is_empty()
        || call
            .arguments
            .args
            .iter()
            .any(|a| matches!(a, Expr::Starred(_)))
    {
        return None;
    }
    Some((
        call,
        &attribute.value,
        attribute.attr.as_str(),
        &call.arguments.args,
    ))
}
