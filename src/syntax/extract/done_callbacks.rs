//! Futures kept in a container only until they are done: `tasks.add(t)` right followed by
//! `t.add_done_callback(tasks.discard)`. A future's done-callbacks run once it is done (finished,
//! failed or cancelled; at once, or on the loop's next turn, when it is done already) and are
//! given the future itself, so the callback takes out exactly what the add put in: the container
//! holds only futures still running, and nothing of a call stays in it after its task ends.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::dotted_name;

/// Appends to `out` the starts of the calls in `body` (a function's body, nested functions left
/// to their own visit) that add a future to a container whose removal the next statement hands to
/// the future as its done-callback.
pub(super) fn kept_until_done(body: &[Stmt], out: &mut Vec<u32>) {
    for (index, stmt) in body.iter().enumerate() {
        // The callback must be registered by the very next statement: one in between could raise
        // and leave the future in the container for good. Registered before the add, a callback
        // of a future done already (`concurrent.futures` calls it at once) would run first.
        if let Some(next) = body.get(index + 1)
            && let Some(start) = kept_add(stmt, next)
        {
            out.push(start);
        }
        for inner in nested_blocks(stmt) {
            kept_until_done(inner, out);
        }
    }
}

/// The blocks of statements directly inside `stmt` that run in the same function.
fn nested_blocks(stmt: &Stmt) -> Vec<&[Stmt]> {
    match stmt {
        Stmt::If(s) => std::iter::once(&s.body[..])
            .chain(s.elif_else_clauses.iter().map(|c| &c.body[..]))
            .collect(),
        Stmt::For(s) => vec![&s.body, &s.orelse],
        Stmt::While(s) => vec![&s.body, &s.orelse],
        Stmt::With(s) => vec![&s.body],
        Stmt::Try(s) => std::iter::once(&s.body[..])
            .chain(s.handlers.iter().map(|handler| {
                let ast::ExceptHandler::ExceptHandler(h) = handler;
                &h.body[..]
            }))
            .chain([&s.orelse[..], &s.finalbody[..]])
            .collect(),
        Stmt::Match(s) => s.cases.iter().map(|c| &c.body[..]).collect(),
        _ => Vec::new(),
    }
}

/// The start of `add` when it is `C.add(t)` (or `C.append(t)`), `t` a name, and `next` is
/// `t.add_done_callback(R)` with `R` the same container's removal of its argument: `C.discard` or
/// `C.remove` (only `C.remove` after an `append`: a list has no `discard`), bound or in a lambda
/// that does nothing else (`lambda f: C.discard(f)`).
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
    let taken_out = match callback {
        Expr::Attribute(_) => removes(callback),
        // A lambda that hands its one parameter to the removal: the bound method written out.
        Expr::Lambda(lambda) => {
            let parameters = lambda.parameters.as_deref();
            let parameter =
                parameters.and_then(|p| match (&p.args[..], p.posonlyargs.is_empty()) {
                    ([only], true)
                        if only.default.is_none()
                            && p.vararg.is_none()
                            && p.kwarg.is_none()
                            && p.kwonlyargs.is_empty() =>
                    {
                        Some(only.parameter.name.as_str())
                    }
                    _ => None,
                });
            let Expr::Call(inner) = &*lambda.body else {
                return None;
            };
            parameter.is_some_and(|parameter| {
                removes(&inner.func)
                    && inner.arguments.keywords.is_empty()
                    && matches!(&inner.arguments.args[..], [Expr::Name(a)] if a.id.as_str() == parameter)
            })
        }
        _ => false,
    };
    taken_out.then(|| call.range().start().to_u32())
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
