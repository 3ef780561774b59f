//! Changes that need the container to hold entries before they can run: `columns.insert(0,
//! columns.pop(columns.index(name)))` evaluates `columns.index(name)` before it changes
//! anything, and on an empty list that raises `ValueError`. On an empty container such a change
//! never happens, so it leaves an empty container empty (arches' `sort_field_names(self,
//! columns=[])`).

use ruff_python_ast::{self as ast, Expr};

/// Whether evaluating the arguments of `call`, a method call on the name `receiver`, surely runs
/// a read of that same name that raises on an empty container before the call itself: a
/// `receiver.index(...)` call (`ValueError` on an empty list or tuple) or a subscript
/// `receiver[key]` that is not a slice (`KeyError`, `IndexError`, or `TypeError` on a set). Only
/// parts evaluated on every evaluation of the arguments count ([`surely_evaluated`]), and an
/// assignment expression anywhere in the arguments spoils it: it might bind `receiver` to
/// another object first.
pub(super) fn raises_when_empty_first(receiver: &str, call: &ast::ExprCall) -> bool {
    let arguments = || {
        call.arguments
            .args
            .iter()
            .chain(call.arguments.keywords.iter().map(|k| &k.value))
    };
    if arguments().any(contains_named) {
        return false;
    }
    let mut found = false;
    for argument in arguments() {
        surely_evaluated(argument, &mut |part| found |= reads_entry(receiver, part));
    }
    found
}

/// Whether `expr` itself reads an entry of the name `receiver` in a way that raises when there is
/// none: `receiver.index(...)`, or `receiver[key]` with `key` not a slice.
fn reads_entry(receiver: &str, expr: &Expr) -> bool {
    let is_receiver = |expr: &Expr| matches!(expr, Expr::Name(n) if n.id.as_str() == receiver);
    match expr {
        Expr::Call(call) => matches!(&*call.func, Expr::Attribute(method)
            if method.attr.as_str() == "index" && is_receiver(&method.value)),
        Expr::Subscript(subscript) => {
            is_receiver(&subscript.value) && !matches!(&*subscript.slice, Expr::Slice(_))
        }
        _ => false,
    }
}

/// Calls `visit` on `expr` and on each of its parts that runs whenever `expr` is evaluated, the
/// outer before the inner: the operands of arithmetic and unary operators, the callee and
/// arguments of a call, the object and index of a subscript, the object of an attribute, the
/// elements of a tuple, list or set display, the first operand of `and`/`or`, the test of `x if c
/// else y`, the first pair of a comparison chain, the value of `:=`, `await` and `*`. Not the
/// parts that run on some evaluations only, nor what lambdas and comprehensions hold.
pub(super) fn surely_evaluated<'e>(expr: &'e Expr, visit: &mut dyn FnMut(&'e Expr)) {
    fn each<'e>(parts: &'e [Expr], visit: &mut dyn FnMut(&'e Expr)) {
        for part in parts {
            surely_evaluated(part, visit);
        }
    }
    visit(expr);
    match expr {
        Expr::Call(call) => {
            for part in call_parts(call) {
                surely_evaluated(part, visit);
            }
        }
        Expr::Subscript(subscript) => {
            surely_evaluated(&subscript.value, visit);
            surely_evaluated(&subscript.slice, visit);
        }
        Expr::Attribute(attribute) => surely_evaluated(&attribute.value, visit),
        Expr::BinOp(binary) => {
            surely_evaluated(&binary.left, visit);
            surely_evaluated(&binary.right, visit);
        }
        Expr::UnaryOp(unary) => surely_evaluated(&unary.operand, visit),
        Expr::Starred(starred) => surely_evaluated(&starred.value, visit),
        Expr::Await(awaited) => surely_evaluated(&awaited.value, visit),
        Expr::Named(named) => surely_evaluated(&named.value, visit),
        Expr::Tuple(tuple) => each(&tuple.elts, visit),
        Expr::List(list) => each(&list.elts, visit),
        Expr::Set(set) => each(&set.elts, visit),
        Expr::BoolOp(boolean) => each(&boolean.values[..1.min(boolean.values.len())], visit),
        Expr::If(conditional) => surely_evaluated(&conditional.test, visit),
        Expr::Compare(compare) => {
            surely_evaluated(&compare.left, visit);
            each(
                &compare.comparators[..1.min(compare.comparators.len())],
                visit,
            );
        }
        _ => {}
    }
}

/// The callee and the arguments of `call`, in evaluation order.
fn call_parts(call: &ast::ExprCall) -> impl Iterator<Item = &Expr> {
    std::iter::once(&*call.func)
        .chain(call.arguments.args.iter())
        .chain(call.arguments.keywords.iter().map(|k| &k.value))
}

fn contains_named(expr: &Expr) -> bool {
    use ruff_python_ast::visitor::{self, Visitor};
    struct Find(bool);
    impl<'a> Visitor<'a> for Find {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if matches!(expr, Expr::Named(_)) {
                self.0 = true;
            } else if !self.0 {
                visitor::walk_expr(self, expr);
            }
        }
    }
    let mut find = Find(false);
    find.visit_expr(expr);
    find.0
}
