//! Computing fixes. A fix is derived from a finding's code and places (the spans of its related
//! labels, each with its file's text) by parsing the file again, so it
//! depends on no rule's internals: only on the documented meaning of the places (the first
//! related label is the definition of the shared object; see `Diagnostic::related`).
//!
//! - SL301 (mutable default): the default becomes `None`, the body starts with
//!   `if x is None: x = <the default>`, and an annotation `T` becomes `T | None` (or
//!   `Optional[T]` where `|` cannot be evaluated). Safe.
//! - SL104 (`self.x = SHARED`): the value is copied, `dict(...)`, `list(...)`, `set(...)` by the
//!   shared object's type, else `copy.copy(...)`. Safe.
//! - SL101 (class-level container changed through `self`): the class-level binding moves into
//!   `__init__` (`__post_init__` for dataclasses), which is added when missing. Unsafe: code that
//!   reads the attribute through the class no longer sees it (so no fix when the file does),
//!   and none when `__init__` uses the instance before the `super().__init__()` call the new
//!   attribute would follow, nor for a class of a model library (pydantic, msgspec, ...), nor
//!   for a public annotated default in a class with bases (it may be such a model's field), nor
//!   for a class whose `__init__` attrs writes (it would replace the added one) or that is
//!   slotted or frozen (`dataclass(slots=True)`, `frozen=True`), which refuses the attribute.

use ruff_python_ast::helpers::is_docstring_stmt;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::facts::Span;
use crate::fix::{Applicability, Edit, Fix};
use crate::knowledge;

/// A place of a finding in its file: the file's decoded text and a byte span in it.
#[derive(Clone, Copy)]
pub struct Place<'a> {
    pub text: &'a str,
    pub span: Span,
}

/// What the fix may write for the file it edits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Target {
    /// Whether `X | None` may be written in annotations evaluated at run time (Python 3.10+).
    pub union_syntax: bool,
}

/// Whether findings of a rule can carry a fix: `sometimes`, or `none` (for `stateleak rule`).
pub fn availability(code: &str) -> &'static str {
    match code {
        "SL101" | "SL104" | "SL301" => "sometimes",
        _ => "none",
    }
}

/// The fix of a finding from its related places, and which of them is in the file it edits
/// (`i` for `related[i]`). `None` when the finding has no mechanical fix. (The fixes so far
/// need only the related places; the primary span is where the leak shows, not what changes.)
pub fn compute(
    code: &str,
    related: &[Place<'_>],
    target: Target,
    modules: &mut Modules,
) -> Option<(usize, Fix)> {
    if availability(code) == "none" {
        return None;
    }
    for place in related.iter().take(2) {
        modules.load(place.text);
    }
    let module = |place: &Place<'_>| modules.get(place.text);
    match code {
        "SL301" => {
            let definition = related.first()?;
            mutable_default(
                definition.text,
                module(definition)?,
                definition.span,
                target,
            )
            .map(|fix| (0, fix))
        }
        "SL104" => {
            let (source, assignment) = (related.first()?, related.get(1)?);
            let source_module = module(source);
            copy_on_assignment(
                assignment.text,
                module(assignment)?,
                assignment.span,
                source_module.map(|m| (m, source.span)),
            )
            .map(|fix| (1, fix))
        }
        "SL101" => {
            let definition = related.first()?;
            per_instance(definition.text, module(definition)?, definition.span).map(|fix| (0, fix))
        }
        _ => None,
    }
}

/// Parsed files, so that a file with many findings is parsed once, whatever their number. Keyed
/// by the address of the text: the texts outlive the cache (they are the run's sources).
#[derive(Default)]
pub struct Modules {
    parsed: std::collections::HashMap<usize, Option<ast::ModModule>>,
}

impl Modules {
    fn load(&mut self, text: &str) {
        self.parsed
            .entry(text.as_ptr() as usize)
            .or_insert_with(|| parse(text));
    }

    fn get(&self, text: &str) -> Option<&ast::ModModule> {
        self.parsed.get(&(text.as_ptr() as usize))?.as_ref()
    }
}

fn parse(text: &str) -> Option<ast::ModModule> {
    super::nesting::check(text).ok()?;
    ruff_python_parser::parse_module(text)
        .ok()
        .map(|parsed| parsed.into_syntax())
}

fn overlaps(range: TextRange, span: Span) -> bool {
    range.start().to_u32() < span.end.max(span.start + 1) && span.start < range.end().to_u32()
}

fn slice(text: &str, range: TextRange) -> &str {
    &text[range.start().to_usize()..range.end().to_usize()]
}

/// Collects the statements of a module, at every depth, with the class each is directly in.
#[derive(Default)]
struct Statements<'a> {
    functions: Vec<&'a ast::StmtFunctionDef>,
    classes: Vec<&'a ast::StmtClassDef>,
    assignments: Vec<&'a ast::StmtAssign>,
    attribute_reads: Vec<(&'a str, &'a str)>,
}

impl<'a> Visitor<'a> for Statements<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(function) => self.functions.push(function),
            Stmt::ClassDef(class) => self.classes.push(class),
            Stmt::Assign(assign) => self.assignments.push(assign),
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Attribute(attribute) = expr
            && let Expr::Name(name) = attribute.value.as_ref()
        {
            self.attribute_reads
                .push((name.id.as_str(), attribute.attr.as_str()));
        }
        visitor::walk_expr(self, expr);
    }
}

fn statements(module: &ast::ModModule) -> Statements<'_> {
    let mut found = Statements::default();
    for stmt in &module.body {
        found.visit_stmt(stmt);
    }
    found
}

/// The start of the line `offset` is on.
fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The end of the line `offset` is on, after its line break.
fn next_line_start(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |i| offset + i + 1)
}

/// The whitespace that starts the line `offset` is on.
fn indentation_at(text: &str, offset: usize) -> &str {
    let start = line_start(text, offset);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// One level of indentation in the style of `indent`.
fn indent_unit(indent: &str) -> &'static str {
    if indent.contains('\t') { "\t" } else { "    " }
}

/// Whether the statement stands alone on its lines (nothing but blanks before it on its first
/// line, nothing but blanks or a comment after it on its last line).
fn alone_on_its_lines(text: &str, range: TextRange) -> bool {
    let (start, end) = (range.start().to_usize(), range.end().to_usize());
    let before = &text[line_start(text, start)..start];
    let after = &text[end..next_line_start(text, end)];
    let after = after.trim_start_matches([' ', '\t']);
    before.trim().is_empty() && (after.trim().is_empty() || after.starts_with('#'))
}

/// Where statements start in `body` (after a docstring), and the body's indentation. `None` when
/// the body shares its line with the header (`def f(): ...`), where no line can be inserted.
fn body_insertion<'t>(text: &'t str, header: TextRange, body: &[Stmt]) -> Option<(usize, &'t str)> {
    let first = body.first()?;
    let header_line = line_start(text, header.start().to_usize());
    if line_start(text, first.start().to_usize()) == header_line {
        return None;
    }
    let anchor = if is_docstring_stmt(first) {
        body.get(1).unwrap_or(first)
    } else {
        first
    };
    if !alone_on_its_lines(text, anchor.range()) {
        return None;
    }
    let indent = indentation_at(text, first.start().to_usize());
    if std::ptr::eq(anchor, first) || body.len() > 1 {
        Some((line_start(text, anchor.start().to_usize()), indent))
    } else {
        // Only a docstring: after it.
        Some((next_line_start(text, anchor.end().to_usize()), indent))
    }
}

/// Whether the module has `from __future__ import annotations` (annotations are not evaluated).
fn postponed_annotations(module: &ast::ModModule) -> bool {
    module.body.iter().any(|stmt| {
        matches!(stmt, Stmt::ImportFrom(import)
            if import.module.as_ref().is_some_and(|m| m.as_str() == "__future__")
                && import.names.iter().any(|a| a.name.as_str() == "annotations"))
    })
}

/// Whether `import NAME` binds `name` at module level, or `from MODULE import NAME` does.
fn imports(module: &ast::ModModule, from: Option<&str>, name: &str) -> bool {
    module.body.iter().any(|stmt| match (stmt, from) {
        (Stmt::Import(import), None) => import
            .names
            .iter()
            .any(|a| a.asname.is_none() && a.name.as_str() == name),
        (Stmt::ImportFrom(import), Some(from)) => {
            import.module.as_ref().is_some_and(|m| m.as_str() == from)
                && import
                    .names
                    .iter()
                    .any(|a| a.asname.is_none() && a.name.as_str() == name)
        }
        _ => false,
    })
}

/// An edit adding an import line after the module docstring and `__future__` imports.
fn add_import(text: &str, module: &ast::ModModule, line: &str) -> Edit {
    let mut after = None;
    for (index, stmt) in module.body.iter().enumerate() {
        let future = matches!(stmt, Stmt::ImportFrom(import)
            if import.module.as_ref().is_some_and(|m| m.as_str() == "__future__"));
        if (index == 0 && is_docstring_stmt(stmt)) || future {
            after = Some(stmt.end().to_usize());
        } else {
            break;
        }
    }
    let at = after.map_or(0, |end| next_line_start(text, end));
    // Two blank lines before a definition that would otherwise follow the import at once.
    let next = &text[at..];
    let spacing = if ["def ", "class ", "async ", "@"]
        .iter()
        .any(|s| next.starts_with(s))
    {
        "\n\n"
    } else {
        ""
    };
    Edit {
        start: at as u32,
        end: at as u32,
        content: format!("{line}\n{spacing}"),
    }
}

/// A fresh object is made by the expression itself (a display or a call), so writing the same
/// text again makes another one.
fn constructs(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::List(_)
            | Expr::Dict(_)
            | Expr::Set(_)
            | Expr::Call(_)
            | Expr::ListComp(_)
            | Expr::DictComp(_)
            | Expr::SetComp(_)
    )
}

/// The builtin that copies a container made by `expr` (`dict`, `list`, `set`), if it is one.
fn copying_builtin(expr: &Expr) -> Option<&'static str> {
    match expr {
        Expr::Dict(_) | Expr::DictComp(_) => Some("dict"),
        Expr::List(_) | Expr::ListComp(_) => Some("list"),
        Expr::Set(_) | Expr::SetComp(_) => Some("set"),
        Expr::Call(call) => match call.func.as_ref() {
            Expr::Name(name) => match name.id.as_str() {
                "dict" => Some("dict"),
                "list" => Some("list"),
                "set" => Some("set"),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The value of the module-level assignment to `name`, if there is exactly one.
fn module_value<'a>(module: &'a ast::ModModule, name: &str) -> Option<&'a Expr> {
    let mut values = module.body.iter().filter_map(|stmt| match stmt {
        Stmt::Assign(assign)
            if assign.targets.len() == 1
                && matches!(&assign.targets[0], Expr::Name(n) if n.id.as_str() == name) =>
        {
            Some(assign.value.as_ref())
        }
        Stmt::AnnAssign(assign)
            if matches!(assign.target.as_ref(), Expr::Name(n) if n.id.as_str() == name) =>
        {
            assign.value.as_deref()
        }
        _ => None,
    });
    let value = values.next()?;
    values.next().is_none().then_some(value)
}

/// The parameter with a default at `span`, and its function.
fn parameter_at<'a>(
    found: &Statements<'a>,
    span: Span,
) -> Option<(&'a ast::StmtFunctionDef, &'a ast::ParameterWithDefault)> {
    found.functions.iter().find_map(|function| {
        let parameters = &function.parameters;
        parameters
            .posonlyargs
            .iter()
            .chain(&parameters.args)
            .chain(&parameters.kwonlyargs)
            .find(|p| p.default.is_some() && overlaps(p.range, span))
            .map(|p| (*function, p))
    })
}

fn mutable_default(text: &str, module: &ast::ModModule, span: Span, target: Target) -> Option<Fix> {
    let found = statements(module);
    let (function, parameter) = parameter_at(&found, span)?;
    let default = parameter.default.as_deref()?;
    let name = parameter.parameter.name.as_str();
    let value = if constructs(default) {
        slice(text, default.range()).to_string()
    } else if let Expr::Name(shared) = default {
        let builtin = copying_builtin(module_value(module, shared.id.as_str())?)?;
        format!("{builtin}({})", shared.id)
    } else {
        return None;
    };
    // A multi-line default would need re-indenting: leave it to a person.
    if value.contains('\n') {
        return None;
    }
    let (at, indent_text) = body_insertion(text, function.range, &function.body)?;
    let unit = indent_unit(indent_text);
    let mut edits = vec![
        Edit {
            start: default.start().to_u32(),
            end: default.end().to_u32(),
            content: "None".into(),
        },
        Edit {
            start: at as u32,
            end: at as u32,
            content: format!(
                "{indent_text}if {name} is None:\n{indent_text}{unit}{name} = {value}\n"
            ),
        },
    ];
    if let Some(annotation) = parameter.parameter.annotation.as_deref() {
        let written = slice(text, annotation.range());
        let already_optional = written.contains("None") || written.contains("Optional");
        if !already_optional {
            // `"Name" | None` fails at run time: a string annotation gets `Optional`.
            let string = matches!(annotation, Expr::StringLiteral(_));
            let (content, import) = if string {
                optional(module, text, written)
            } else if target.union_syntax || postponed_annotations(module) {
                (format!("{written} | None"), None)
            } else {
                optional(module, text, written)
            };
            edits.push(Edit {
                start: annotation.start().to_u32(),
                end: annotation.end().to_u32(),
                content,
            });
            edits.extend(import);
        }
    }
    edits.sort();
    Some(Fix {
        path: Default::default(),
        applicability: Applicability::Safe,
        message: format!("default `{name}` to `None` and create the object in the body"),
        edits,
    })
}

/// `Optional[T]`, and the import it needs when `Optional` is not imported yet.
fn optional(module: &ast::ModModule, text: &str, written: &str) -> (String, Option<Edit>) {
    if imports(module, Some("typing"), "Optional") {
        (format!("Optional[{written}]"), None)
    } else if imports(module, None, "typing") {
        (format!("typing.Optional[{written}]"), None)
    } else {
        (
            format!("Optional[{written}]"),
            Some(add_import(text, module, "from typing import Optional")),
        )
    }
}

fn copy_on_assignment(
    text: &str,
    module: &ast::ModModule,
    span: Span,
    source: Option<(&ast::ModModule, Span)>,
) -> Option<Fix> {
    let found = statements(module);
    let assign = found.assignments.iter().find(|a| {
        overlaps(a.range, span)
            && a.targets.len() == 1
            && matches!(&a.targets[0], Expr::Attribute(attribute)
                if matches!(attribute.value.as_ref(), Expr::Name(n) if n.id.as_str() == "self"))
    })?;
    let value = assign.value.as_ref();
    if !matches!(value, Expr::Name(_) | Expr::Attribute(_)) {
        return None;
    }
    let written = slice(text, value.range());
    let builtin = source.and_then(|(module, span)| shared_container(module, span));
    let mut edits = Vec::new();
    let content = match builtin {
        Some(builtin) => format!("{builtin}({written})"),
        None => {
            if !imports(module, None, "copy") {
                edits.push(add_import(text, module, "import copy"));
            }
            format!("copy.copy({written})")
        }
    };
    edits.push(Edit {
        start: value.start().to_u32(),
        end: value.end().to_u32(),
        content,
    });
    edits.sort();
    Some(Fix {
        path: Default::default(),
        applicability: Applicability::Safe,
        message: "copy the shared object where it is assigned".into(),
        edits,
    })
}

/// The copying builtin for the object created at `source`: the outermost container expression
/// in the span (an assignment's value, or a parameter's default).
fn shared_container(module: &ast::ModModule, span: Span) -> Option<&'static str> {
    struct Outermost<'a> {
        span: Span,
        found: Option<&'a Expr>,
    }
    impl<'a> Visitor<'a> for Outermost<'a> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            let range = expr.range();
            let inside =
                range.start().to_u32() >= self.span.start && range.end().to_u32() <= self.span.end;
            if self.found.is_none() && inside && constructs(expr) {
                self.found = Some(expr);
                return;
            }
            visitor::walk_expr(self, expr);
        }
    }
    let mut visitor = Outermost { span, found: None };
    for stmt in &module.body {
        visitor.visit_stmt(stmt);
    }
    // A parameter's name may stand for its default.
    let found = visitor.found.or_else(|| {
        let (_, parameter) = parameter_at(&statements(module), span)?;
        parameter.default.as_deref()
    })?;
    copying_builtin(found)
}

fn per_instance(text: &str, module: &ast::ModModule, span: Span) -> Option<Fix> {
    let found = statements(module);
    let (class, statement) = found.classes.iter().find_map(|class| {
        class
            .body
            .iter()
            .find(|stmt| overlaps(stmt.range(), span))
            .map(|stmt| (*class, stmt))
    })?;
    let (name, annotation, value) = match statement {
        Stmt::Assign(assign) if assign.targets.len() == 1 => match &assign.targets[0] {
            Expr::Name(name) => (name.id.as_str(), None, assign.value.as_ref()),
            _ => return None,
        },
        Stmt::AnnAssign(assign) => match (assign.target.as_ref(), assign.value.as_deref()) {
            (Expr::Name(name), Some(value)) => {
                (name.id.as_str(), Some(assign.annotation.as_ref()), value)
            }
            _ => return None,
        },
        _ => return None,
    };
    let decorators: Vec<(&str, Option<&ast::Arguments>)> = class
        .decorator_list
        .iter()
        .map(|d| match &d.expression {
            Expr::Call(call) => (slice(text, call.func.range()), Some(&call.arguments)),
            other => (slice(text, other.range()), None),
        })
        .collect();
    let dataclass = decorators
        .iter()
        .any(|(written, _)| knowledge::has_last_segment(written, "dataclass"));
    // attrs writes `__init__` over the class's own (the attribute then exists nowhere), and its
    // `__attrs_post_init__` cannot set an attribute on a slotted (`define`) or frozen class; a
    // slotted or frozen dataclass refuses the new attribute in `__post_init__` too.
    let generated_init = decorators.iter().any(|(written, arguments)| {
        let from_attrs = written.starts_with("attr.") || written.starts_with("attrs.");
        let attrs_decorator = GENERATED_INIT_DECORATORS
            .iter()
            .any(|last| knowledge::has_last_segment(written, last));
        let refuses_attributes = arguments.is_some_and(|arguments| {
            arguments.keywords.iter().any(|keyword| {
                keyword
                    .arg
                    .as_ref()
                    .is_some_and(|arg| ["slots", "frozen"].contains(&arg.as_str()))
                    && !matches!(keyword.value, Expr::BooleanLiteral(ref b) if !b.value)
            })
        });
        from_attrs || attrs_decorator || refuses_attributes
    });
    let class_name = class.name.as_str();
    let read_through_class = found
        .attribute_reads
        .iter()
        .any(|(owner, attr)| *owner == class_name && *attr == name);
    let value_text = slice(text, value.range());
    // An annotated field of a dataclass is a field, not a class attribute; InitVars would change
    // `__post_init__`'s parameters.
    let unsupported =
        dataclass && (annotation.is_some() || slice(text, class.range).contains("InitVar"));
    // A model library's class (pydantic, msgspec, ...) generates `__init__` or refuses one, and
    // keeps no attribute that is not a field. Its base may be a class of another file: a public
    // annotated default in a class with bases may be such a field.
    let bases: &[Expr] = class.arguments.as_ref().map_or(&[], |a| &a.args);
    let model = bases.iter().any(|base| {
        let written = slice(text, base.range());
        knowledge::DEFAULT_COPYING_BASES
            .iter()
            .any(|(q, _)| knowledge::has_last_segment(written, knowledge::last_segment(q)))
    }) || (annotation.is_some() && !name.starts_with('_') && !bases.is_empty());
    if read_through_class
        || unsupported
        || generated_init
        || model
        || !constructs(value)
        || value_text.contains('\n')
        || !alone_on_its_lines(text, statement.range())
    {
        return None;
    }
    let class_indent = indentation_at(text, statement.start().to_usize()).to_string();
    let unit = indent_unit(&class_indent);
    let annotation = annotation
        .map(|a| format!(": {}", slice(text, a.range())))
        .unwrap_or_default();
    let method_name = if dataclass {
        "__post_init__"
    } else {
        "__init__"
    };
    let remove_start = line_start(text, statement.start().to_usize());
    let remove_end = next_line_start(text, statement.end().to_usize());
    let mut edits = vec![Edit {
        start: remove_start as u32,
        end: remove_end as u32,
        content: String::new(),
    }];
    let existing = class.body.iter().find_map(|stmt| match stmt {
        Stmt::FunctionDef(f) if f.name.as_str() == method_name => Some(f),
        _ => None,
    });
    match existing {
        Some(method) => {
            let receiver = method
                .parameters
                .posonlyargs
                .iter()
                .chain(&method.parameters.args)
                .next()?
                .parameter
                .name
                .as_str();
            let (mut at, body_indent) = body_insertion(text, method.range, &method.body)?;
            // After a `super().__init__(...)` among the first statements, so the base class
            // cannot overwrite the new attribute.
            if let Some(index) = method.body.iter().position(calls_super_init) {
                // The attribute exists only after that call: code before it that uses the
                // instance may use the attribute before it is made (a WTForms field changed
                // before `super().__init__()` binds the form's own), so no fix is offered.
                if method.body[..index]
                    .iter()
                    .any(|stmt| uses_instance(stmt, receiver))
                {
                    return None;
                }
                at = next_line_start(text, method.body[index].end().to_usize());
            }
            edits.push(Edit {
                start: at as u32,
                end: at as u32,
                content: format!("{body_indent}{receiver}.{name}{annotation} = {value_text}\n"),
            });
        }
        None => {
            let has_bases = class.arguments.as_ref().is_some_and(|a| !a.args.is_empty());
            let body = format!("{class_indent}{unit}self.{name}{annotation} = {value_text}\n");
            let method = if method_name == "__init__" && has_bases {
                format!(
                    "{class_indent}def __init__(self, *args, **kwargs):\n\
                     {class_indent}{unit}super().__init__(*args, **kwargs)\n{body}"
                )
            } else {
                format!("{class_indent}def {method_name}(self):\n{body}")
            };
            // Before the first method (its decorators included), else at the end of the class.
            let first_method = class.body.iter().find_map(|stmt| match stmt {
                Stmt::FunctionDef(f) => Some(
                    f.decorator_list
                        .first()
                        .map_or(f.start(), |d| d.start())
                        .to_usize(),
                ),
                _ => None,
            });
            let (at, content) = match first_method {
                Some(start) => (line_start(text, start), format!("{method}\n")),
                None => (
                    next_line_start(text, class.end().to_usize()),
                    format!("\n{method}"),
                ),
            };
            if at >= remove_end && text[remove_end..at].trim().is_empty() {
                // Only blank lines between the binding and the first method: the method takes
                // the binding's place.
                edits[0].end = at as u32;
                edits[0].content = if first_method.is_some() {
                    format!("{method}\n")
                } else {
                    method
                };
            } else {
                edits.push(Edit {
                    start: at as u32,
                    end: at as u32,
                    content,
                });
            }
        }
    }
    edits.sort();
    Some(Fix {
        path: Default::default(),
        applicability: Applicability::Unsafe,
        message: format!("create `{name}` per instance in `{method_name}`"),
        edits,
    })
}

/// The last segments of attrs' class decorators as imported by name (`from attrs import define`),
/// whose classes get an `__init__` attrs writes: `attr.s`, `attr.attrs`, `define`, `mutable`,
/// `frozen`.
const GENERATED_INIT_DECORATORS: &[&str] = &["s", "attrs", "define", "mutable", "frozen"];

/// Whether `stmt` names the instance (`receiver`) or calls `super()`, which reaches it too.
fn uses_instance(stmt: &Stmt, receiver: &str) -> bool {
    struct Uses<'r> {
        receiver: &'r str,
        found: bool,
    }
    impl<'a> Visitor<'a> for Uses<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Name(name) = expr
                && (name.id.as_str() == self.receiver || name.id.as_str() == "super")
            {
                self.found = true;
            }
            if !self.found {
                visitor::walk_expr(self, expr);
            }
        }
    }
    let mut uses = Uses {
        receiver,
        found: false,
    };
    uses.visit_stmt(stmt);
    uses.found
}

fn calls_super_init(stmt: &Stmt) -> bool {
    let Stmt::Expr(expr) = stmt else {
        return false;
    };
    let Expr::Call(call) = expr.value.as_ref() else {
        return false;
    };
    let Expr::Attribute(attribute) = call.func.as_ref() else {
        return false;
    };
    attribute.attr.as_str() == "__init__"
        && matches!(attribute.value.as_ref(), Expr::Call(inner)
            if matches!(inner.func.as_ref(), Expr::Name(n) if n.id.as_str() == "super"))
}

/// Whether `text` parses (fixes that break the file are dropped).
pub fn parses(text: &str) -> bool {
    parse(text).is_some()
}
