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
/// sub-expressions evaluated on every evaluation of the arguments count (not an operand of
/// `and`/`or`, a branch of a conditional expression, a lambda or a comprehension), and an
/// assignment expression anywhere in the arguments spoils it: it might bind `receiver` to
/// another object first.
pub(super) fn raises_when_empty_first(receiver: &str, call: &ast::ExprCall) -> bool {
    let arguments = call
        .arguments
        .args
        .iter()
        .chain(call.arguments.keywords.iter().map(|k| &k.value));
    let mut found = false;
    for argument in arguments {
        match surely_reads_entry(receiver, argument) {
            Surely::Spoiled => return false,
            Surely::Reads => found = true,
            Surely::No => {}
        }
    }
    found
}

#[derive(PartialEq)]
enum Surely {
    /// No read that raises on an empty `receiver` runs surely.
    No,
    /// One does.
    Reads,
    /// An assignment expression: the name may not hold the receiver's object any more.
    Spoiled,
}

fn is_name(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Name(n) if n.id.as_str() == name)
}

/// The combination of the sub-expressions `parts`, all evaluated surely.
fn all_of<'e>(name: &str, parts: impl IntoIterator<Item = &'e Expr>) -> Surely {
    let mut result = Surely::No;
    for part in parts {
        match surely_reads_entry(name, part) {
            Surely::Spoiled => return Surely::Spoiled,
            Surely::Reads => result = Surely::Reads,
            Surely::No => {}
        }
    }
    result
}

fn surely_reads_entry(name: &str, expr: &Expr) -> Surely {
    match expr {
        Expr::Named(_) => Surely::Spoiled,
        Expr::Call(call) => {
            if let Expr::Attribute(method) = &*call.func
                && method.attr.as_str() == "index"
                && is_name(&method.value, name)
            {
                // The arguments of `index` are evaluated first: they may spoil it.
                return match all_of(name, call_parts(call).skip(1)) {
                    Surely::Spoiled => Surely::Spoiled,
                    _ => Surely::Reads,
                };
            }
            all_of(name, call_parts(call))
        }
        Expr::Subscript(subscript) => {
            if is_name(&subscript.value, name) && !matches!(&*subscript.slice, Expr::Slice(_)) {
                return match surely_reads_entry(name, &subscript.slice) {
                    Surely::Spoiled => Surely::Spoiled,
                    _ => Surely::Reads,
                };
            }
            all_of(name, [&*subscript.value, &*subscript.slice])
        }
        Expr::Attribute(attribute) => surely_reads_entry(name, &attribute.value),
        Expr::BinOp(binary) => all_of(name, [&*binary.left, &*binary.right]),
        Expr::UnaryOp(unary) => surely_reads_entry(name, &unary.operand),
        Expr::Starred(starred) => surely_reads_entry(name, &starred.value),
        Expr::Tuple(tuple) => all_of(name, &tuple.elts),
        Expr::List(list) => all_of(name, &list.elts),
        Expr::Set(set) => all_of(name, &set.elts),
        // A comparison chain may stop after its first pair; that pair always runs.
        Expr::Compare(compare) => all_of(
            name,
            std::iter::once(&*compare.left).chain(compare.comparators.first()),
        ),
        // Other expressions run a part only on some evaluations, or hide one; count none of
        // them, but still refuse an assignment expression inside.
        other => {
            if contains_named(other) {
                Surely::Spoiled
            } else {
                Surely::No
            }
        }
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
