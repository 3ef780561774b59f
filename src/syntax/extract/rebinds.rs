//! The names a module may rebind in some other way than `name = value` at module level, the one
//! form [`crate::facts::FileFacts::globals`] records: a target of unpacking, `for`, `with`,
//! `except ... as`, `match`, `:=`, `del`, `+=`, `type`, and every name a function or class
//! declares `global`. Taken from the whole file, whatever the scope (a local of the same name
//! counts too), so the list errs on the side of holding a name: a name it does not hold is bound
//! at module level by its `globals` bindings alone. A module that reads `globals`, `vars`,
//! `locals`, `eval` or `exec` may bind any name, and so may a file too deep to walk: then the
//! list is `*` alone.
//!
//! With them, the attributes the file sets or deletes on an object it names (not `self` or
//! `cls`): `config.Base = X`, `del mod.Base`, `setattr(mod, "Base", X)`, in any scope. What
//! another module rebinds this way is only known from the file that does it.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, ExceptHandler, Expr, ExprContext, Pattern, Stmt};
use thin_vec::ThinVec;

use crate::facts::{Name, intern};

use super::{MAX_WALK_DEPTH, literal_text};

/// The names `body` may rebind other than by a module-level `name = value`, and the attributes
/// it sets on objects it names, each sorted, without repeats; `*` alone when it may rebind any
/// name.
pub(super) fn other_rebinds(body: &[Stmt]) -> (ThinVec<Name>, ThinVec<Name>) {
    let mut walk = Walk {
        names: Vec::new(),
        attributes: Vec::new(),
        any: false,
        depth: 0,
    };
    walk.visit_body(body);
    let names = if walk.any {
        std::iter::once(intern("*")).collect()
    } else {
        sorted(walk.names)
    };
    (names, sorted(walk.attributes))
}

fn sorted(mut names: Vec<&str>) -> ThinVec<Name> {
    names.sort_unstable();
    names.dedup();
    names.into_iter().map(intern).collect()
}

struct Walk<'a> {
    names: Vec<&'a str>,
    attributes: Vec<&'a str>,
    any: bool,
    depth: u32,
}

/// Whether `object` is a name other than `self` and `cls`.
fn names_an_object(object: &Expr) -> bool {
    matches!(object, Expr::Name(n) if !matches!(n.id.as_str(), "self" | "cls"))
}

impl<'a> Visitor<'a> for Walk<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.any {
            return;
        }
        self.depth += 1;
        if self.depth > MAX_WALK_DEPTH {
            self.any = true;
        } else {
            match stmt {
                // The form `globals` records (at module level; elsewhere a local or a class
                // attribute, or a `global` name, which counts below).
                Stmt::Assign(assign) => {
                    for target in &assign.targets {
                        if !matches!(target, Expr::Name(_)) {
                            self.visit_expr(target);
                        }
                    }
                    self.visit_expr(&assign.value);
                }
                Stmt::AnnAssign(assign) if matches!(&*assign.target, Expr::Name(_)) => {
                    self.visit_annotation(&assign.annotation);
                    if let Some(value) = &assign.value {
                        self.visit_expr(value);
                    }
                }
                Stmt::Global(ast::StmtGlobal { names, .. }) => {
                    self.names.extend(names.iter().map(|n| n.as_str()));
                }
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.any {
            return;
        }
        self.depth += 1;
        if self.depth > MAX_WALK_DEPTH {
            self.any = true;
        } else {
            match expr {
                Expr::Attribute(attribute)
                    if attribute.ctx != ExprContext::Load && names_an_object(&attribute.value) =>
                {
                    self.attributes.push(attribute.attr.as_str());
                    visitor::walk_expr(self, expr);
                }
                Expr::Call(call)
                    if matches!(&*call.func, Expr::Name(f) if matches!(f.id.as_str(), "setattr" | "delattr"))
                        && call.arguments.args.first().is_some_and(names_an_object) =>
                {
                    if let Some(Expr::StringLiteral(literal)) = call.arguments.args.get(1) {
                        self.attributes.push(literal_text(&literal.value));
                    }
                    visitor::walk_expr(self, expr);
                }
                Expr::Name(name) => {
                    let id = name.id.as_str();
                    if name.ctx != ExprContext::Load {
                        self.names.push(id);
                    } else if matches!(id, "globals" | "vars" | "locals" | "eval" | "exec") {
                        self.any = true;
                    }
                }
                _ => visitor::walk_expr(self, expr),
            }
        }
        self.depth -= 1;
    }

    fn visit_except_handler(&mut self, handler: &'a ExceptHandler) {
        let ExceptHandler::ExceptHandler(inner) = handler;
        if let Some(name) = &inner.name {
            self.names.push(name.as_str());
        }
        visitor::walk_except_handler(self, handler);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        match pattern {
            Pattern::MatchAs(ast::PatternMatchAs {
                name: Some(name), ..
            })
            | Pattern::MatchStar(ast::PatternMatchStar {
                name: Some(name), ..
            })
            | Pattern::MatchMapping(ast::PatternMatchMapping {
                rest: Some(name), ..
            }) => self.names.push(name.as_str()),
            _ => {}
        }
        visitor::walk_pattern(self, pattern);
    }
}

#[cfg(test)]
mod tests {
    fn rebinds(source: &str) -> (Vec<String>, Vec<String>) {
        let facts = crate::syntax::extract(source).expect("parses");
        let text = |names: &[crate::facts::Name]| names.iter().map(|n| n.to_string()).collect();
        (text(&facts.other_rebinds), text(&facts.attribute_rebinds))
    }

    #[test]
    fn every_other_form_of_binding_is_recorded() {
        let source = "\
Base = object
a, b = 1, 2
for c in (): pass
with open('f') as d: pass
try: pass
except Exception as e: pass
match 1:
    case [f, *g]: pass
    case {**h}: pass
if (i := 1): pass
del Base
j = 0
j += 1
def k():
    global m
    n = 1
class C:
    o = 1
    def p(self):
        self.q = 1
        mod.r = 2
        setattr(mod, 's', 3)
        del mod.t
";
        let (names, attributes) = rebinds(source);
        assert_eq!(
            names,
            [
                "Base", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "m"
            ]
        );
        assert_eq!(attributes, ["r", "s", "t"]);
    }

    #[test]
    fn reading_the_namespace_may_bind_any_name() {
        let (names, _) = rebinds("Base = object\nglobals()['Base'] = int\n");
        assert_eq!(names, ["*"]);
    }
}
