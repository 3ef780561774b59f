//! `__init__` methods that hand the keyword arguments they do not take themselves to the base
//! class's `__init__` (`super().__init__(**kwargs)`), unchanged, on every call that builds an
//! instance: a construction call's keyword that the subclass does not name reaches the base as
//! written, and one the call does not write reaches it nowhere.
//!
//! The shape is kept narrow so that what the base gets is known from the call alone: the
//! forwarding call is a statement of the method's own body that no statement before it may skip
//! (a `return`, a `yield`); it passes nothing positional but, optionally, the method's own `*`
//! parameter, and nothing by `**` but its own `**` parameter; those parameters are used nowhere
//! else in the method (not read, changed, rebound or deleted, in nested scopes either); nothing
//! in the method calls another `__init__` or reads the frame's locals (`locals`, `vars`, `eval`,
//! `exec`); and the method has no decorator.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};

use crate::facts::{FuncIdx, FunctionKind, KwargsForward, StarArgs, intern};

use super::{MAX_WALK_DEPTH, may_return};

/// The forward `function` (an `__init__` at index `idx`, of `kind`) makes, if it has the shape
/// above.
pub(super) fn scan(
    function: &ast::StmtFunctionDef,
    kind: FunctionKind,
    idx: FuncIdx,
) -> Option<KwargsForward> {
    if kind != FunctionKind::Instance
        || function.name.as_str() != "__init__"
        || function.is_async
        || !function.decorator_list.is_empty()
    {
        return None;
    }
    let parameters = &*function.parameters;
    let kwargs = parameters.kwarg.as_ref()?.name.as_str();
    let star = parameters.vararg.as_ref().map(|p| p.name.as_str());
    let mut forward = None;
    for stmt in &function.body {
        if let Stmt::Expr(ast::StmtExpr { value, .. }) = stmt
            && let Expr::Call(call) = &**value
            && is_super_init(call)
        {
            forward = Some(call);
            break;
        }
        if may_return(stmt) {
            return None;
        }
    }
    let call = forward?;
    let hands_on_star = match &*call.arguments.args {
        [] => false,
        [Expr::Starred(starred)] if star.is_some_and(|s| is_name(&starred.value, s)) => true,
        _ => return None,
    };
    let mut keywords = Vec::new();
    let mut splats = 0;
    for keyword in &call.arguments.keywords {
        match &keyword.arg {
            Some(name) => keywords.push(intern(name.as_str())),
            None if is_name(&keyword.value, kwargs) => splats += 1,
            None => return None,
        }
    }
    if splats != 1 {
        return None;
    }
    let mut uses = Uses {
        watched: [Some(kwargs), star],
        mentions: 0,
        init_calls: 0,
        reads_locals: false,
        depth: 0,
    };
    uses.visit_body(&function.body);
    // The forward itself mentions `**kwargs` once, and `*args` once when it hands it on.
    let own_mentions = 1 + usize::from(hands_on_star);
    if uses.mentions != own_mentions || uses.init_calls != 1 || uses.reads_locals {
        return None;
    }
    let positional_params: Vec<&str> = parameters
        .posonlyargs
        .iter()
        .chain(&parameters.args)
        .map(|p| p.parameter.name.as_str())
        .collect();
    // A keyword names a positional-only parameter in vain: it goes into `**kwargs`.
    let taken_keywords = parameters
        .args
        .iter()
        .chain(&parameters.kwonlyargs)
        .skip(usize::from(parameters.posonlyargs.is_empty()))
        .map(|p| intern(p.parameter.name.as_str()))
        .collect();
    let star_args = match (star, hands_on_star) {
        (None, _) => StarArgs::Absent,
        (Some(_), false) => StarArgs::Kept,
        (Some(_), true) => StarArgs::HandedOn,
    };
    Some(KwargsForward {
        function: idx,
        positional: positional_params.len().saturating_sub(1) as u32,
        star_args,
        taken_keywords,
        keywords,
    })
}

/// `super().__init__(...)`, `super` called without arguments.
fn is_super_init(call: &ast::ExprCall) -> bool {
    let Expr::Attribute(attribute) = &*call.func else {
        return false;
    };
    attribute.attr.as_str() == "__init__"
        && matches!(&*attribute.value, Expr::Call(inner)
            if matches!(&*inner.func, Expr::Name(n) if n.id.as_str() == "super")
                && inner.arguments.args.is_empty()
                && inner.arguments.keywords.is_empty())
}

fn is_name(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Name(n) if n.id.as_str() == name)
}

/// What a method's body does with the parameters a forward hands on, and what else may reach
/// the base's `__init__` or the frame's locals.
struct Uses<'a> {
    /// The `**` parameter's name and the `*` parameter's, if any.
    watched: [Option<&'a str>; 2],
    /// How many times the body names a watched parameter, in any scope and any role.
    mentions: usize,
    /// Calls of an attribute named `__init__` (the forward among them).
    init_calls: usize,
    /// A call of `locals`, `vars`, `eval` or `exec`, or code nested too deep to walk.
    reads_locals: bool,
    depth: u32,
}

impl<'a> Visitor<'a> for Uses<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.depth += 1;
        if self.depth > MAX_WALK_DEPTH {
            self.reads_locals = true;
        } else {
            visitor::walk_stmt(self, stmt);
        }
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(name) if self.watched.contains(&Some(name.id.as_str())) => {
                self.mentions += 1;
            }
            Expr::Call(call) => match &*call.func {
                Expr::Attribute(attribute) if attribute.attr.as_str() == "__init__" => {
                    self.init_calls += 1;
                }
                Expr::Name(name)
                    if matches!(name.id.as_str(), "locals" | "vars" | "eval" | "exec") =>
                {
                    self.reads_locals = true;
                }
                _ => {}
            },
            _ => {}
        }
        self.depth += 1;
        if self.depth > MAX_WALK_DEPTH {
            self.reads_locals = true;
        } else {
            visitor::walk_expr(self, expr);
        }
        self.depth -= 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::facts::{KwargsForward, StarArgs};

    /// The forwards of `source`, each with its function's qualified name.
    fn forwards(source: &str) -> Vec<(String, KwargsForward)> {
        let facts = crate::syntax::extract(source).expect("parses");
        facts
            .kwargs_forwards
            .iter()
            .map(|f| {
                let name = facts.functions[f.function as usize].qualname.to_string();
                (name, f.clone())
            })
            .collect()
    }

    fn names(forward: &KwargsForward) -> (Vec<String>, Vec<String>) {
        let text = |names: &[crate::facts::Name]| names.iter().map(|n| n.to_string()).collect();
        (text(&forward.taken_keywords), text(&forward.keywords))
    }

    #[test]
    fn the_forward_and_what_stays_in_the_method_are_recorded() {
        let found = forwards(
            "\
class A(Base):
    def __init__(self, action, /, layer=None, *args, multi=False, **kwargs):
        '''Doc.'''
        if not action:
            raise ValueError(action)
        super().__init__(*args, icon=None, **kwargs)
        self.action = action

class B(Base):
    def __init__(self, action, **options):
        super().__init__(**options)
",
        );
        assert_eq!(found.len(), 2);
        let (name, a) = &found[0];
        assert_eq!(name, "A.__init__");
        assert_eq!((a.positional, a.star_args), (2, StarArgs::HandedOn));
        assert_eq!(
            names(a),
            (vec!["layer".into(), "multi".into()], vec!["icon".into()])
        );
        let (name, b) = &found[1];
        assert_eq!(name, "B.__init__");
        assert_eq!((b.positional, b.star_args), (1, StarArgs::Absent));
        assert_eq!(names(b), (vec!["action".into()], vec![]));
    }

    #[test]
    fn forwards_whose_keywords_may_change_or_be_skipped_are_not_recorded() {
        let source = "\
class Changed(Base):
    def __init__(self, **kwargs):
        kwargs.setdefault('html_data', {})
        super().__init__(**kwargs)

class ReadLater(Base):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.extra = kwargs

class Skipped(Base):
    def __init__(self, **kwargs):
        if kwargs_ready():
            return
        super().__init__(**kwargs)

class Nested(Base):
    def __init__(self, **kwargs):
        if ready():
            super().__init__(**kwargs)

class Twice(Base):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        Base.__init__(self, html_data={})

class Other(Base):
    def __init__(self, **kwargs):
        super().__init__(**other)

class Positional(Base):
    def __init__(self, text, **kwargs):
        super().__init__(text, **kwargs)

class Frame(Base):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        locals()

class Decorated(Base):
    @wraps(Base.__init__)
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

class Explicit(Base):
    def __init__(self, **kwargs):
        super(Explicit, self).__init__(**kwargs)

class Closure(Base):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        def later():
            kwargs['html_data'] = {}
        self.later = later
";
        assert_eq!(forwards(source), []);
    }
}
