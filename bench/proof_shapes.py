"""Which labelled findings fall in shapes whose harmlessness the analysis could prove.

Measures, over the findings of one `apps.py run` joined with their labels, three shapes read
from the packages' sources (Python's `ast`, not stateleak's facts):

- `restored`: the change is undone before the function returns: `old = T` ... `T = v` ... and
  `T = old` in a `finally`, or `X.add(k)` / `X[k] = v` with `X.discard(k)` / `X.pop(k)` /
  `del X[k]` in a `finally`; the finding is the change or its undoing.
- `constant`: a plain name or attribute rebound to a literal (`True`, `None`, `"json"`), and every
  assignment to that name (or attribute name) inside a function of the package stores the same
  literal: after the first such call the state no longer changes.
- `constant-here`: the same literal rebinding without the package-wide condition.
- `kept-until-done`: `C.add(t)` (or `C.append(t)`) whose next statement is
  `t.add_done_callback(R)`, `R` the same container's `discard`/`remove` or a lambda handing its
  parameter to it: the container holds the future only until it is done (SL109's shape).

Usage: python3 bench/proof_shapes.py FINDINGS.json LABELS.jsonl
"""

from __future__ import annotations

import ast
import collections
import json
import sys
from pathlib import Path

APPS = Path(__file__).resolve().parent / "apps"


def statement_at(tree: ast.AST, line: int) -> tuple[ast.stmt | None, list[ast.AST]]:
    """The innermost statement starting at or spanning `line`, with its ancestors."""
    best: tuple[ast.stmt | None, list[ast.AST]] = (None, [])

    def visit(node: ast.AST, parents: list[ast.AST]) -> None:
        nonlocal best
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                end = child.end_lineno or child.lineno
                if child.lineno <= line <= end:
                    best = (child, parents + [node])
                    visit(child, parents + [node])
            else:
                visit(child, parents + [node])

    visit(tree, [])
    return best


def text(node: ast.AST) -> str:
    return ast.unparse(node)


def literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return True
    if isinstance(node, ast.Tuple):
        return all(literal(e) for e in node.elts)
    return False


def plain_target(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def function_of(parents: list[ast.AST]) -> ast.AST | None:
    for node in reversed(parents):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
    return None


def restored(stmt: ast.stmt, function: ast.AST | None) -> bool:
    if function is None:
        return False
    saved: dict[str, str] = {}  # local -> target text it was read from
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, (ast.Attribute, ast.Name))
        ):
            saved[node.targets[0].id] = text(node.value)
    undone: set[str] = set()
    undone_keys: set[tuple[str, str]] = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Try):
            continue
        for final in node.finalbody:
            for sub in ast.walk(final):
                if isinstance(sub, ast.Assign) and len(sub.targets) == 1:
                    target = text(sub.targets[0])
                    if isinstance(sub.value, ast.Name) and saved.get(sub.value.id) == target:
                        undone.add(target)
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
                    if sub.func.attr in ("discard", "pop", "remove") and sub.args:
                        undone_keys.add((text(sub.func.value), text(sub.args[0])))
                if isinstance(sub, ast.Delete):
                    for t in sub.targets:
                        if isinstance(t, ast.Subscript):
                            undone_keys.add((text(t.value), text(t.slice)))
    added: set[tuple[str, str]] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in ("add", "append"):
                added.add((text(node.func.value), text(node.args[0])))
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Subscript):
                    added.add((text(t.value), text(t.slice)))
    # A key taken out in a `finally` undoes a change only if the function put it in.
    undone_keys &= added
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        assigned = stmt.targets[0]
        if text(assigned) in undone:
            return True
        if isinstance(assigned, ast.Subscript) and ((text(assigned.value), text(assigned.slice)) in undone_keys):
            return True
    for sub in ast.walk(stmt):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.args:
            if sub.func.attr in ("add", "append"):
                if (text(sub.func.value), text(sub.args[0])) in undone_keys:
                    return True
            if sub.func.attr in ("discard", "pop", "remove") and (
                (text(sub.func.value), text(sub.args[0])) in undone_keys
            ):
                return True
    return False


def kept_until_done(stmt: ast.stmt, parents: list[ast.AST]) -> bool:
    """`C.add(t)` right followed by `t.add_done_callback(C.discard)` in the same block."""
    if not parents:
        return False
    following: ast.stmt | None = None
    for field in ("body", "orelse", "finalbody", "handlers"):
        block = getattr(parents[-1], field, None)
        if isinstance(block, list) and stmt in block:
            index = block.index(stmt)
            following = block[index + 1] if index + 1 < len(block) else None
    if following is None:
        return False

    def method_call(node: ast.stmt) -> tuple[str, str, list[ast.expr]] | None:
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            return None
        call = node.value
        if not isinstance(call.func, ast.Attribute) or call.keywords:
            return None
        return text(call.func.value), call.func.attr, call.args

    added, callback = method_call(stmt), method_call(following)
    if added is None or callback is None:
        return False
    container, method, args = added
    removals = {"add": ("discard", "remove"), "append": ("remove",)}.get(method)
    if removals is None or len(args) != 1 or not isinstance(args[0], ast.Name):
        return False
    future = args[0].id
    if callback[:2] != (future, "add_done_callback") or len(callback[2]) != 1:
        return False
    given = callback[2][0]
    if isinstance(given, ast.Lambda) and len(given.args.args) == 1 and isinstance(given.body, ast.Call):
        body = given.body
        if not (len(body.args) == 1 and isinstance(body.args[0], ast.Name)):
            return False
        if body.args[0].id != given.args.args[0].arg:
            return False
        given = body.func
    return isinstance(given, ast.Attribute) and given.attr in removals and text(given.value) == container


def run_time_values(tree: ast.AST, name: str) -> set[str]:
    """The values every assignment to `name` (plain or attribute) inside functions stores."""
    values: set[str] = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if plain_target(target) == name:
                        values.add(ast.dump(node.value) if literal(node.value) else "?")
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                if plain_target(node.target) == name:
                    values.add("?")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "setattr"
                and len(node.args) == 3
                and (not isinstance(node.args[1], ast.Constant) or node.args[1].value == name)
            ):
                if isinstance(node.args[1], ast.Constant):
                    values.add("?")  # a setattr of this name
    return values


def main() -> None:
    findings = json.load(open(sys.argv[1]))["findings"]
    labels = {}
    for line in open(sys.argv[2]):
        entry = json.loads(line)
        labels[entry["fingerprint"]] = entry
    trees: dict[str, ast.AST] = {}
    package_trees: dict[str, list[ast.AST]] = {}

    def tree_of(path: str) -> ast.AST:
        if path not in trees:
            trees[path] = ast.parse((APPS / path).read_text(errors="replace"))
        return trees[path]

    def package(name: str) -> list[ast.AST]:
        if name not in package_trees:
            out: list[ast.AST] = []
            for file in sorted((APPS / name).rglob("*.py")):
                try:
                    out.append(ast.parse(file.read_text(errors="replace")))
                except SyntaxError:
                    pass
            package_trees[name] = out
        return package_trees[name]

    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for finding in findings:
        kind = labels.get(finding["fingerprint"], {}).get("kind", "unlabelled")
        counts["all"][kind] += 1
        stmt, parents = statement_at(tree_of(finding["path"]), finding["line"])
        if stmt is None:
            continue
        function = function_of(parents + [stmt])
        shapes = []
        if restored(stmt, function):
            shapes.append("restored")
        if kept_until_done(stmt, parents):
            shapes.append("kept-until-done")
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and literal(stmt.value):
            name = plain_target(stmt.targets[0])
            if name is not None:
                shapes.append("constant-here")
                values = set()
                for tree in package(finding["package"]):
                    values |= run_time_values(tree, name)
                if len(values) == 1 and "?" not in values:
                    shapes.append("constant")
        for shape in shapes:
            counts[shape][kind] += 1
            print(f"{shape:14} {kind:12} {finding['code']} {finding['path']}:{finding['line']}")
    for shape, counter in counts.items():
        print(shape, dict(counter))


if __name__ == "__main__":
    main()
