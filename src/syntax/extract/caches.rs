//! What a memoising decorator's key and the decorated body depend on, and what the methods that
//! make an object into a key (`__repr__`, `__eq__`, ...) read of it.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::facts::{DecoratedCache, FuncIdx, Name, intern};
use crate::knowledge;

use super::{Extractor, MAX_WALK_DEPTH, dotted_name, span};

/// Methods whose view of the receiver is what a key built from the object tells apart.
const KEY_METHODS: &[&str] = &[
    "__repr__",
    "__str__",
    "__eq__",
    "__hash__",
    "__caching_id__",
];

/// Decorators, by their last name, that memoise with a key of their own making.
const KEYED_DECORATORS: &[&str] = &["cached", "memoize", "lru_cache", "cache"];

/// Names read in a body, and the receiver's attributes read through `self_name`.
struct Reads<'a> {
    self_name: Option<&'a str>,
    names: Vec<Name>,
    receiver_attrs: Vec<Name>,
    whole_receiver: bool,
    depth: u32,
}

impl<'a> Visitor<'a> for Reads<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.depth > MAX_WALK_DEPTH {
            return;
        }
        self.depth += 1;
        visitor::walk_stmt(self, stmt);
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.depth > MAX_WALK_DEPTH {
            return;
        }
        match expr {
            Expr::Attribute(attribute) if matches!(&*attribute.value, Expr::Name(n) if Some(n.id.as_str()) == self.self_name) =>
            {
                self.receiver_attrs.push(intern(attribute.attr.as_str()));
                return;
            }
            Expr::Name(name) => {
                if Some(name.id.as_str()) == self.self_name {
                    self.whole_receiver = true;
                }
                self.names.push(intern(name.id.as_str()));
            }
            _ => {}
        }
        self.depth += 1;
        visitor::walk_expr(self, expr);
        self.depth -= 1;
    }
}

fn reads<'a>(body: &'a [Stmt], self_name: Option<&'a str>) -> Reads<'a> {
    let mut reads = Reads {
        self_name,
        names: Vec::new(),
        receiver_attrs: Vec::new(),
        whole_receiver: false,
        depth: 0,
    };
    for stmt in body {
        reads.visit_stmt(stmt);
    }
    for list in [&mut reads.names, &mut reads.receiver_attrs] {
        list.sort();
        list.dedup();
    }
    reads
}

impl Extractor {
    /// Records what a finished function's body reads, when it is a key method or memoised by a
    /// decorator that builds its own key.
    pub(super) fn record_key_reads(&mut self, idx: FuncIdx, function: &ast::StmtFunctionDef) {
        let facts = &self.facts.functions[idx as usize];
        let self_name = match facts.kind {
            crate::facts::FunctionKind::Instance => facts.params.first().map(|p| p.name),
            _ => None,
        };
        if facts.class.is_some() && KEY_METHODS.contains(&facts.name.as_str()) {
            let Some(self_name) = &self_name else { return };
            let read = reads(&function.body, Some(self_name));
            let attrs = (!read.whole_receiver).then_some(read.receiver_attrs);
            self.facts.key_method_reads.push((idx, attrs));
            return;
        }
        for decorator in &function.decorator_list {
            let (callee, call) = match &decorator.expression {
                Expr::Call(call) => (dotted_name(&call.func), Some(call)),
                other => (dotted_name(other), None),
            };
            let Some(callee) = callee else { continue };
            let last = knowledge::last_segment(&callee);
            if !KEYED_DECORATORS.contains(&last) {
                continue;
            }
            let key_params = call.and_then(|call| self.key_params(idx, call));
            let params = &self.facts.functions[idx as usize].params;
            let read = reads(&function.body, self_name.as_deref());
            let mut read_params: Vec<Name> = read
                .names
                .iter()
                .filter(|n| params.iter().any(|p| p.name == **n))
                .filter(|n| Some(*n) != self_name.as_ref())
                .cloned()
                .collect();
            if !read.receiver_attrs.is_empty() || read.whole_receiver {
                read_params.extend(self_name);
                read_params.sort();
            }
            self.facts.decorated_caches.push(DecoratedCache {
                function: idx,
                decorator: callee,
                key_params,
                reads: read_params,
                receiver_reads: read.receiver_attrs,
                uses_whole_receiver: read.whole_receiver,
                span: span(decorator.range()),
            });
            return;
        }
    }

    /// The function's parameters a `key=lambda ...` of the decorator call uses, matched by
    /// position.
    fn key_params(&self, idx: FuncIdx, call: &ast::ExprCall) -> Option<Vec<Name>> {
        let keyword = call
            .arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "key"))?;
        let Expr::Lambda(lambda) = &keyword.value else {
            return None;
        };
        let lambda_params: Vec<&str> = lambda
            .parameters
            .as_ref()
            .map(|p| {
                p.iter_non_variadic_params()
                    .map(|p| p.parameter.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let mut used = Reads {
            self_name: None,
            names: Vec::new(),
            receiver_attrs: Vec::new(),
            whole_receiver: false,
            depth: 0,
        };
        used.visit_expr(&lambda.body);
        let params = &self.facts.functions[idx as usize].params;
        let mut key: Vec<Name> = lambda_params
            .iter()
            .enumerate()
            .filter(|(_, name)| used.names.iter().any(|n| n == *name))
            .filter_map(|(i, _)| Some(params.get(i)?.name))
            .collect();
        key.sort();
        Some(key)
    }
}
