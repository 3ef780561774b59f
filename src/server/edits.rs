//! Code actions and hover on the findings of the last analysis.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, Hover, HoverContents,
    HoverParams, MarkupContent, MarkupKind, Position, Range, TextEdit, Url, WorkspaceEdit,
};

use super::convert::{self, uri};
use crate::check::{CheckResult, Finding, Location};
use crate::config;
use crate::fix::Applicability;
use crate::report::{PathDisplay, group};
use crate::suppression;

/// What the actions of one finding may read: the last run and the open buffers.
struct Context<'a> {
    result: &'a CheckResult,
    documents: &'a HashMap<PathBuf, String>,
    /// Paths in titles are shown relative to the workspace.
    paths: PathDisplay,
}

/// Makes an action for a finding; `one_of` names the finding's object when the finding is one
/// member of a reported finding that names several, so that each member's action says whose it is.
type ActionProvider = fn(&Finding, &Context, one_of: Option<&str>) -> Option<CodeAction>;

/// The actions offered on each reported finding, in this order: the fixes of its objects first
/// (when they have one), then the suppression on its line, then the suppression at each object's
/// definition. A finding that names several objects (see [`crate::report::group`]) offers the
/// per-object actions once per object: each fixes or silences that object only.
const PER_OBJECT_FIRST: &[ActionProvider] = &[apply_fix];
const PER_PLACE: &[ActionProvider] = &[suppress_on_line];
const PER_OBJECT_LAST: &[ActionProvider] = &[suppress_at_definition];

/// The actions for the findings whose primary place meets the requested range.
pub fn code_actions(
    result: Option<&CheckResult>,
    documents: &HashMap<PathBuf, String>,
    root: &Path,
    params: &CodeActionParams,
) -> Vec<CodeActionOrCommand> {
    let (Some(result), Some(path)) = (result, document_path(&params.text_document.uri)) else {
        return Vec::new();
    };
    let context = Context {
        result,
        documents,
        paths: PathDisplay::relative_to(root),
    };
    result
        .findings
        .iter()
        .filter(|f| same_file(&f.primary.path, &path) && meets(f, &params.range, result))
        .flat_map(|finding| {
            let members = group::members(finding);
            let grouped = members.len() > 1;
            let per_object = |providers: &'static [ActionProvider]| {
                providers.iter().flat_map(move |provide| {
                    members.iter().map(move |member| {
                        let one_of = member.object.as_deref().filter(|_| grouped);
                        (provide, member, one_of)
                    })
                })
            };
            per_object(PER_OBJECT_FIRST)
                .chain(PER_PLACE.iter().map(|provide| (provide, finding, None)))
                .chain(per_object(PER_OBJECT_LAST))
                .filter_map(|(provide, finding, one_of)| provide(finding, &context, one_of))
                .collect::<Vec<_>>()
        })
        .map(CodeActionOrCommand::CodeAction)
        .collect()
}

/// The finding's fix (`stateleak check --fix`'s edits), on the text the finding was found in. A
/// safe fix is the preferred action; an unsafe one says that it changes more than the leak.
fn apply_fix(finding: &Finding, context: &Context, one_of: Option<&str>) -> Option<CodeAction> {
    let fix = finding.fix.as_ref()?;
    let text = context.result.sources.get(&fix.path)?;
    let edits = fix
        .edits
        .iter()
        .map(|edit| TextEdit {
            range: Range::new(
                convert::position(text, edit.start as usize),
                convert::position(text, edit.end as usize),
            ),
            new_text: edit.content.clone(),
        })
        .collect();
    let safe = fix.applicability == Applicability::Safe;
    let mut action = quick_fix(
        format!(
            "Fix {}{}: {}{}",
            finding.code,
            one_of.map_or(String::new(), |object| format!(" for `{object}`")),
            fix.message,
            if safe {
                ""
            } else {
                " (unsafe: changes more than the leak)"
            }
        ),
        (uri(&fix.path)?, edits),
    );
    action.is_preferred = Some(safe);
    Some(action)
}

/// Suppresses the finding on its line, with the codes of the findings told with it: they would
/// surface in its place otherwise.
fn suppress_on_line(finding: &Finding, context: &Context, _: Option<&str>) -> Option<CodeAction> {
    let codes: Vec<&str> = std::iter::once(finding.code)
        .chain(finding.told_with.iter().copied())
        .collect();
    let edit = suppression_edit(&finding.primary, &codes.join(", "), context)?;
    let title = if finding.told_with.is_empty() {
        format!("Suppress {} on this line", finding.code)
    } else {
        format!(
            "Suppress {} on this line (and {}, told with it)",
            finding.code,
            codes[1..].join(", ")
        )
    };
    Some(quick_fix(title, edit))
}

fn suppress_at_definition(
    finding: &Finding,
    context: &Context,
    _: Option<&str>,
) -> Option<CodeAction> {
    let definition = group::definition(finding)?;
    let edit = suppression_edit(definition, finding.code, context)?;
    let shown = context.paths.show(&definition.path);
    Some(quick_fix(
        format!(
            "Suppress {} for every use of the shared object, at its definition ({shown}:{})",
            finding.code, definition.line
        ),
        edit,
    ))
}

fn quick_fix(title: String, (uri, edits): (Url, Vec<TextEdit>)) -> CodeAction {
    CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri, edits)])),
            ..WorkspaceEdit::default()
        }),
        ..CodeAction::default()
    }
}

/// The edit that makes the first line of `location` suppress `code`.
fn suppression_edit(
    location: &Location,
    code: &str,
    context: &Context,
) -> Option<(Url, Vec<TextEdit>)> {
    let text = match context.documents.get(&config::absolute(&location.path)) {
        Some(text) => text.clone(),
        None => context
            .result
            .sources
            .get(&location.path)
            .cloned()
            .or_else(|| crate::source::read_source(&location.path, u64::MAX).ok())?,
    };
    let line = text.lines().nth(location.line.checked_sub(1)? as usize)?;
    let (offset, insert) = suppression::insertion(line, code);
    let character = line[..offset].encode_utf16().count() as u32;
    let at = Position::new(location.line - 1, character);
    Some((
        uri(&location.path)?,
        vec![TextEdit {
            range: Range::new(at, at),
            new_text: insert,
        }],
    ))
}

/// Hover on the definition of a shared object: the findings about it, where each is reported
/// and from which request entry point that place is reached.
pub fn hover(result: Option<&CheckResult>, root: &Path, params: &HoverParams) -> Option<Hover> {
    let result = result?;
    let at = &params.text_document_position_params;
    let path = document_path(&at.text_document.uri)?;
    let about: Vec<&Finding> = result
        .findings
        .iter()
        .flat_map(group::members)
        .filter(|f| {
            group::definition(f).is_some_and(|definition| {
                same_file(&definition.path, &path) && {
                    let range = convert::range(result, definition);
                    range.start <= at.position && at.position <= range.end
                }
            })
        })
        .collect();
    if about.is_empty() {
        return None;
    }
    let paths = PathDisplay::relative_to(root);
    let mut text = format!(
        "**stateleak**: {} about the object defined here\n",
        plural(about.len(), "finding")
    );
    for finding in about {
        text.push_str(&format!("\n- **{}** {}\n", finding.code, finding.message));
        let place = format!(
            "{}:{}",
            paths.show(&finding.primary.path),
            finding.primary.line
        );
        match (finding.entry_path.last(), finding.entry_path.first()) {
            (Some(function), Some(entry)) => {
                let kind = entry
                    .entry_kind
                    .as_deref()
                    .map_or(String::new(), |kind| format!(", {kind}"));
                text.push_str(&format!(
                    "  at {place} in `{}`, reached from the request entry point `{}` ({}:{}{kind})\n",
                    function.function,
                    entry.function,
                    paths.show(&entry.path),
                    entry.line
                ));
            }
            _ => text.push_str(&format!("  at {place}\n")),
        }
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: None,
    })
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn document_path(uri: &Url) -> Option<PathBuf> {
    uri.to_file_path().ok().map(|p| config::absolute(&p))
}

fn same_file(a: &Path, b: &Path) -> bool {
    config::absolute(a) == config::absolute(b)
}

fn meets(finding: &Finding, range: &Range, result: &CheckResult) -> bool {
    let primary = convert::range(result, &finding.primary);
    primary.start.line <= range.end.line && range.start.line <= primary.end.line
}
