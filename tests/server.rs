//! End-to-end tests of `stateleak server`: a small LSP client on `lsp-server` and `lsp-types`
//! drives the binary over standard input and output, as an editor does.

#[allow(dead_code)] // Of the shared helpers, this test needs `stateleak` and `write`.
mod common;

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{stateleak, write};
use lsp_server::{Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidOpenTextDocument, Exit, Initialized,
    LogMessage, Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{CodeActionRequest, HoverRequest, Initialize, Shutdown};
use lsp_types::{
    ClientCapabilities, CodeActionContext, CodeActionOrCommand, CodeActionParams, Diagnostic,
    DiagnosticSeverity, DidChangeTextDocumentParams, DidChangeWatchedFilesClientCapabilities,
    DidChangeWatchedFilesParams, DidOpenTextDocumentParams, FileChangeType, FileEvent, Hover,
    HoverContents, HoverParams, InitializeParams, InitializedParams, LogMessageParams, MessageType,
    Position, PublishDiagnosticsParams, Range, ShowMessageParams, TextDocumentContentChangeEvent,
    TextDocumentIdentifier, TextDocumentItem, TextDocumentPositionParams, TextEdit, Url,
    VersionedTextDocumentIdentifier, WorkDoneProgressParams, WorkspaceClientCapabilities,
    WorkspaceFolder,
};

const WAIT: Duration = Duration::from_secs(30);

const VIEWS_WITHOUT_ROUTE: &str =
    "from shop.store import save\n\n\ndef helper(user, theme):\n    return user, theme\n";
const VIEWS_WITH_ROUTE: &str = "from flask import Flask, request\n\nfrom shop.store import save\n\napp = Flask(__name__)\n\n\n@app.post(\"/prefs\")\ndef set_prefs():\n    save(request.args[\"user\"], request.args[\"theme\"])\n    return \"ok\"\n";
const STORE: &str = "_prefs = {}\n\n\ndef save(user, theme):\n    _prefs[\"current\"] = theme\n";

/// A package whose `store.py` leaks once a request reaches `save` (from `views.py`).
fn shop(dir: &Path, views: &str) {
    write(dir, "shop/__init__.py", "");
    write(dir, "shop/views.py", views);
    write(dir, "shop/store.py", STORE);
}

/// An editor's side of the connection.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: mpsc::Receiver<Message>,
    next_id: i32,
    /// The last diagnostics published for each file.
    diagnostics: HashMap<Url, Vec<Diagnostic>>,
    messages: Vec<ShowMessageParams>,
    /// What the server logged (`window/logMessage`).
    logs: Vec<String>,
    versions: HashMap<Url, i32>,
}

impl Client {
    fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stateleak"))
            .arg("server")
            // Not the workspace: the server must not depend on its working directory.
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Ok(Some(message)) = Message::read(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            incoming,
            next_id: 0,
            diagnostics: HashMap::new(),
            messages: Vec::new(),
            logs: Vec::new(),
            versions: HashMap::new(),
        };
        let root_uri = Url::from_directory_path(root).unwrap();
        #[allow(deprecated)] // `root_uri` for older servers; this one reads the folders.
        let params = InitializeParams {
            root_uri: Some(root_uri.clone()),
            workspace_folders: Some(vec![WorkspaceFolder {
                uri: root_uri,
                name: "test".into(),
            }]),
            capabilities: ClientCapabilities {
                workspace: Some(WorkspaceClientCapabilities {
                    did_change_watched_files: Some(DidChangeWatchedFilesClientCapabilities {
                        dynamic_registration: Some(true),
                        relative_pattern_support: None,
                    }),
                    ..WorkspaceClientCapabilities::default()
                }),
                ..ClientCapabilities::default()
            },
            ..InitializeParams::default()
        };
        let result = client.request::<Initialize>(params);
        assert_eq!(result.server_info.unwrap().name, "stateleak");
        client.notify::<Initialized>(InitializedParams {});
        client
    }

    fn send(&mut self, message: Message) {
        message.write(&mut self.stdin).expect("the server reads");
        self.stdin.flush().unwrap();
    }

    fn notify<N: lsp_types::notification::Notification>(&mut self, params: N::Params) {
        self.send(Notification::new(N::METHOD.into(), params).into());
    }

    fn request<R: lsp_types::request::Request>(&mut self, params: R::Params) -> R::Result {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.send(Request::new(id.clone(), R::METHOD.into(), params).into());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Message::Response(response) = self.receive(deadline)
                && response.id == id
            {
                assert!(response.error.is_none(), "{:?}", response.error);
                return serde_json::from_value(response.result.unwrap_or_default())
                    .expect("a well-formed result");
            }
        }
    }

    /// The next message; answers the server's own requests and records what it publishes.
    fn receive(&mut self, deadline: Instant) -> Message {
        let wait = deadline.saturating_duration_since(Instant::now());
        let message = self
            .incoming
            .recv_timeout(wait)
            .expect("the server answers in time");
        match &message {
            Message::Request(request) => {
                let answer = Response::new_ok(request.id.clone(), ());
                self.send(answer.into());
            }
            Message::Notification(n) if n.method == PublishDiagnostics::METHOD => {
                let params: PublishDiagnosticsParams =
                    serde_json::from_value(n.params.clone()).unwrap();
                self.diagnostics.insert(params.uri, params.diagnostics);
            }
            Message::Notification(n) if n.method == LogMessage::METHOD => {
                let params: LogMessageParams = serde_json::from_value(n.params.clone()).unwrap();
                self.logs.push(params.message);
            }
            Message::Notification(n) if n.method == ShowMessage::METHOD => {
                self.messages
                    .push(serde_json::from_value(n.params.clone()).unwrap());
            }
            _ => {}
        }
        message
    }

    /// Waits until `done` holds of the diagnostics published so far.
    fn wait_until(&mut self, what: &str, done: impl Fn(&Client) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(self) {
            if Instant::now() >= deadline {
                panic!(
                    "timed out waiting until {what}; have {:#?}",
                    self.diagnostics
                );
            }
            self.receive(deadline);
        }
    }

    /// The code actions at a place (each an edit).
    fn code_actions(&mut self, uri: &Url, at: Position) -> Vec<lsp_types::CodeAction> {
        let actions = self.request::<CodeActionRequest>(CodeActionParams {
            text_document: TextDocumentIdentifier::new(uri.clone()),
            range: Range::new(at, at),
            context: CodeActionContext::default(),
            work_done_progress_params: WorkDoneProgressParams::default(),
            partial_result_params: Default::default(),
        });
        actions
            .unwrap_or_default()
            .into_iter()
            .map(|action| match action {
                CodeActionOrCommand::CodeAction(action) => action,
                CodeActionOrCommand::Command(_) => panic!("an edit expected"),
            })
            .collect()
    }

    fn codes(&self, uri: &Url) -> Vec<String> {
        self.diagnostics
            .get(uri)
            .map(|list| {
                list.iter()
                    .map(|d| match &d.code {
                        Some(lsp_types::NumberOrString::String(code)) => code.clone(),
                        _ => "no code".to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn open(&mut self, uri: &Url, text: &str) {
        self.versions.insert(uri.clone(), 1);
        self.notify::<DidOpenTextDocument>(DidOpenTextDocumentParams {
            text_document: TextDocumentItem::new(uri.clone(), "python".into(), 1, text.into()),
        });
    }

    fn change(&mut self, uri: &Url, text: &str) {
        let version = self.versions.entry(uri.clone()).or_insert(1);
        *version += 1;
        let version = *version;
        self.notify::<DidChangeTextDocument>(DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier::new(uri.clone(), version),
            content_changes: vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: text.into(),
            }],
        });
    }

    fn watched_change(&mut self, uri: &Url, typ: FileChangeType) {
        self.notify::<DidChangeWatchedFiles>(DidChangeWatchedFilesParams {
            changes: vec![FileEvent::new(uri.clone(), typ)],
        });
    }

    fn hover(&mut self, uri: &Url, position: Position) -> Option<Hover> {
        self.request::<HoverRequest>(HoverParams {
            text_document_position_params: TextDocumentPositionParams::new(
                TextDocumentIdentifier::new(uri.clone()),
                position,
            ),
            work_done_progress_params: WorkDoneProgressParams::default(),
        })
    }

    /// Shuts the server down as an editor does and returns whether it exited with status 0.
    fn shut_down(mut self) -> bool {
        self.request::<Shutdown>(());
        self.notify::<Exit>(());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri(path: &Path) -> Url {
    Url::from_file_path(path).unwrap()
}

/// The root as the server names files (no symbolic links: temporary folders may be behind one).
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    (dir, root)
}

/// Applies edits (non-overlapping, on one document) to a text.
fn apply(text: &str, edits: &[TextEdit]) -> String {
    let offset = |position: Position| -> usize {
        let line_start: usize = text
            .split_inclusive('\n')
            .take(position.line as usize)
            .map(str::len)
            .sum();
        let line = &text[line_start..];
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= position.character as usize {
                return line_start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| std::cmp::Reverse((e.range.start.line, e.range.start.character)));
    let mut text = text.to_string();
    for edit in edits {
        let (start, end) = (offset(edit.range.start), offset(edit.range.end));
        text.replace_range(start..end, &edit.new_text);
    }
    text
}

#[test]
fn an_edit_in_one_module_shows_and_clears_the_finding_in_the_other() {
    let (_dir, root) = workspace();
    shop(&root, VIEWS_WITHOUT_ROUTE);
    let views = uri(&root.join("shop/views.py"));
    let store = uri(&root.join("shop/store.py"));
    let mut client = Client::start(&root);
    client.open(&views, VIEWS_WITHOUT_ROUTE);
    client.open(&store, STORE);
    // Nothing reaches `save` yet: no finding (the first analysis publishes nothing).
    client.hover(&store, Position::new(0, 1));
    assert_eq!(client.codes(&store), Vec::<String>::new());

    // A route in views.py now reaches `save`: the finding appears in store.py, not edited.
    client.change(&views, VIEWS_WITH_ROUTE);
    client.wait_until("store.py has SL201", |c| c.codes(&store) == ["SL201"]);
    let diagnostic = &client.diagnostics[&store][0];
    assert_eq!(diagnostic.severity, Some(DiagnosticSeverity::ERROR));
    assert_eq!(diagnostic.range.start, Position::new(4, 4));
    let href = &diagnostic.code_description.as_ref().unwrap().href;
    assert!(href.path().ends_with("/rules/SL201.md"), "{href}");
    let documentation = std::fs::read_to_string(href.to_file_path().unwrap()).unwrap();
    assert!(documentation.starts_with("# SL201"));
    let related = diagnostic.related_information.as_ref().unwrap();
    assert_eq!(related[0].location.uri, store);
    assert_eq!(related[0].location.range.start, Position::new(0, 0));
    assert!(
        related.iter().any(|r| r.location.uri == views
            && r.location.range.start.line == 8
            && r.message.contains("`set_prefs` (Flask route)")),
        "{related:#?}"
    );
    assert_eq!(client.codes(&views), Vec::<String>::new());

    // Hover on the definition: where the object is changed, and from which entry point.
    let hover = client.hover(&store, Position::new(0, 2)).expect("a hover");
    let HoverContents::Markup(markup) = hover.contents else {
        panic!("markdown expected");
    };
    assert!(markup.value.contains("1 finding"), "{}", markup.value);
    assert!(markup.value.contains("in `save`"), "{}", markup.value);
    assert!(
        markup
            .value
            .contains("`set_prefs` (shop/views.py:9, Flask route)"),
        "{}",
        markup.value
    );
    assert!(client.hover(&store, Position::new(3, 1)).is_none());
    // Each analysis logs its stages' times (before the answers to the hovers that follow it); the
    // edit's, the last, took the incremental path (it starts with the edited file's extraction).
    let edit = client
        .logs
        .last()
        .expect("the edit's stage times are logged");
    assert!(edit.starts_with("stateleak: analysed: extract "), "{edit}");
    for stage in ["; link", "; model ", "; rules ", "; report ", "; publish "] {
        assert!(edit.contains(stage), "{stage} missing from {edit}");
    }

    // The route removed again: the finding is cleared.
    client.change(&views, VIEWS_WITHOUT_ROUTE);
    client.wait_until("store.py is clear", |c| c.codes(&store).is_empty());
    assert!(client.shut_down());
}

#[test]
fn each_code_action_suppresses_the_finding() {
    let (_dir, root) = workspace();
    shop(&root, VIEWS_WITH_ROUTE);
    let store = uri(&root.join("shop/store.py"));
    let mut client = Client::start(&root);
    // Not even open: the finding is published for the file anyway.
    client.wait_until("store.py has SL201", |c| c.codes(&store) == ["SL201"]);
    let actions = client.code_actions(&store, Position::new(4, 6));
    assert_eq!(actions.len(), 2, "{actions:#?}");
    let expected = [
        (
            "Suppress SL201 on this line",
            "    _prefs[\"current\"] = theme  # noqa: SL201",
            4,
        ),
        (
            "Suppress SL201 for every use of the shared object, at its definition (shop/store.py:1)",
            "_prefs = {}  # noqa: SL201",
            0,
        ),
    ];
    let mut texts = Vec::new();
    for (action, (title, line, number)) in actions.iter().zip(expected) {
        assert_eq!(action.title, title);
        let changes = action.edit.as_ref().unwrap().changes.as_ref().unwrap();
        let edited = apply(STORE, &changes[&store]);
        assert_eq!(edited.lines().nth(number).unwrap(), line);
        texts.push(edited);
    }
    // Each edit, made in the buffer, clears the finding.
    for edited in texts {
        client.open(&store, STORE);
        client.wait_until("store.py has SL201", |c| c.codes(&store) == ["SL201"]);
        client.change(&store, &edited);
        client.wait_until("store.py is clear", |c| c.codes(&store).is_empty());
    }
    assert!(client.shut_down());
}

/// One line of a base class writes the `_help` dict of the base and of a subclass; the base is
/// constructed too (a base the tree only extends is no instance's class).
const COMMANDS: &str = "class Command:\n    _help = {}\n\n    def describe(self, text):\n        self._help[\"text\"] = text\n\n\nclass Add(Command):\n    _help = {}\n\n\ndef default():\n    return Command()\n";

/// The two objects changed at one place are one diagnostic with both definitions; its actions
/// suppress the line once, or one object at its definition (which leaves the other reported).
#[test]
fn one_diagnostic_per_place_with_a_suppression_per_definition() {
    let (_dir, root) = workspace();
    write(&root, "commands.py", COMMANDS);
    let commands = uri(&root.join("commands.py"));
    let mut client = Client::start(&root);
    client.wait_until("commands.py has SL101", |c| c.codes(&commands) == ["SL101"]);
    let diagnostic = client.diagnostics[&commands][0].clone();
    assert!(
        diagnostic.message.contains(
            "the same change is also reported for 1 other shared object: `commands.Command._help`"
        ),
        "{diagnostic:#?}"
    );
    let mut definitions: Vec<u32> = diagnostic
        .related_information
        .iter()
        .flatten()
        .filter(|r| r.message.contains("created once"))
        .map(|r| r.location.range.start.line)
        .collect();
    definitions.sort();
    assert_eq!(definitions, [1, 8], "{diagnostic:#?}");
    let actions = client.code_actions(&commands, Position::new(4, 10));
    let suppressions: Vec<&str> = actions
        .iter()
        .map(|a| a.title.as_str())
        .filter(|t| t.starts_with("Suppress"))
        .collect();
    assert_eq!(
        suppressions,
        [
            "Suppress SL101 on this line",
            "Suppress SL101 for every use of the shared object, at its definition (commands.py:9)",
            "Suppress SL101 for every use of the shared object, at its definition (commands.py:2)",
        ],
        "{actions:#?}"
    );
    let at_add = actions
        .iter()
        .find(|a| a.title.ends_with("(commands.py:9)"))
        .unwrap();
    let changes = at_add.edit.as_ref().unwrap().changes.as_ref().unwrap();
    let edited = apply(COMMANDS, &changes[&commands]);
    assert_eq!(
        edited.lines().nth(8).unwrap(),
        "    _help = {}  # noqa: SL101"
    );
    client.open(&commands, COMMANDS);
    client.change(&commands, &edited);
    client.wait_until("only Command._help is left", |c| {
        c.diagnostics
            .get(&commands)
            .is_some_and(|list| list.len() == 1 && !list[0].message.contains("also reported"))
    });
    assert!(client.shut_down());
}

const CART: &str = "from flask import Flask\n\napp = Flask(__name__)\n\n\nclass Cart:\n    items = []\n\n    def add(self, x):\n        self.items.append(x)\n\n\n@app.route(\"/\")\ndef index():\n    Cart().add(1)\n    return \"ok\"\n";

#[test]
fn the_fix_action_makes_the_fix_and_clears_the_finding() {
    let (_dir, root) = workspace();
    write(&root, "shop/__init__.py", "");
    write(&root, "shop/cart.py", CART);
    let cart = uri(&root.join("shop/cart.py"));
    let mut client = Client::start(&root);
    client.open(&cart, CART);
    client.wait_until("cart.py has SL101", |c| c.codes(&cart) == ["SL101"]);
    let actions = client.code_actions(&cart, Position::new(9, 12));
    let titles: Vec<&str> = actions.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles.len(), 3, "{titles:#?}");
    assert!(titles[0].starts_with("Fix SL101: "), "{titles:#?}");
    assert!(titles[0].ends_with("(unsafe: changes more than the leak)"));
    assert!(titles[1].starts_with("Suppress SL101 on this line"));
    // The class attribute becomes an instance attribute set in a new `__init__`.
    let fix = &actions[0];
    assert_eq!(fix.is_preferred, Some(false));
    let changes = fix.edit.as_ref().unwrap().changes.as_ref().unwrap();
    let fixed = apply(CART, &changes[&cart]);
    assert_eq!(
        fixed,
        CART.replace(
            "    items = []\n",
            "    def __init__(self):\n        self.items = []\n"
        )
    );
    client.change(&cart, &fixed);
    client.wait_until("cart.py is clear", |c| c.codes(&cart).is_empty());
    assert!(client.shut_down());
}

/// A finding as both the server and `stateleak check` show it: file, zero-based line and column
/// of its start and end (the texts are ASCII, so UTF-16 columns are character columns), code and
/// message, with the related places `stateleak check` lists (file, line, column, message).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Shown {
    file: String,
    start: (u32, u32),
    end: (u32, u32),
    code: String,
    message: String,
    related: Vec<(String, u32, u32, String)>,
}

impl Shown {
    /// All but the related places.
    fn place(&self) -> (&str, (u32, u32), (u32, u32), &str, &str) {
        (&self.file, self.start, self.end, &self.code, &self.message)
    }
}

/// What the server publishes now, with the related places of each.
fn published(client: &Client, root: &Path) -> Vec<Shown> {
    let relative = |uri: &Url| {
        let path = uri.to_file_path().unwrap();
        path.strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let mut shown: Vec<Shown> = client
        .diagnostics
        .iter()
        .flat_map(|(uri, list)| list.iter().map(move |d| (uri, d)))
        .map(|(uri, d)| {
            let code = match &d.code {
                Some(lsp_types::NumberOrString::String(code)) => code.clone(),
                _ => "no code".to_string(),
            };
            let related = d
                .related_information
                .iter()
                .flatten()
                .map(|r| {
                    let start = r.location.range.start;
                    (
                        relative(&r.location.uri),
                        start.line,
                        start.character,
                        r.message.clone(),
                    )
                })
                .collect();
            Shown {
                file: relative(uri),
                start: (d.range.start.line, d.range.start.character),
                end: (d.range.end.line, d.range.end.character),
                code,
                // The JSON output has no help, which the server adds after the message.
                message: d.message.split("\nhelp: ").next().unwrap().to_string(),
                related,
            }
        })
        .collect();
    shown.sort();
    shown
}

/// What `stateleak check` reports on the texts in `dir`.
fn checked(dir: &Path) -> Vec<Shown> {
    let output = stateleak(
        dir,
        &["check", "--no-cache", "--output-format", "json", "."],
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let number = |v: &serde_json::Value, key: &str| v[key].as_u64().unwrap() as u32;
    let text = |v: &serde_json::Value, key: &str| v[key].as_str().unwrap().to_string();
    let mut shown: Vec<Shown> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let related = f["related"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let line = number(r, "line") - 1;
                    (
                        text(r, "path"),
                        line,
                        number(r, "column") - 1,
                        text(r, "message"),
                    )
                })
                .collect();
            Shown {
                file: text(f, "path"),
                start: (number(f, "line") - 1, number(f, "column") - 1),
                end: (number(f, "end_line") - 1, number(f, "end_column") - 1),
                code: text(f, "code"),
                message: text(f, "message"),
                related,
            }
        })
        .collect();
    shown.sort();
    shown
}

/// After each edit of the open buffers (edits that keep the link, link again keeping the values
/// of names, or link again), the server shows exactly what `stateleak check` reports on the same
/// texts: the same findings at the same places with the same messages, and the related places
/// the command line lists among the server's. The fix offered after lines moved is computed from
/// the moved text.
#[test]
fn after_each_edit_the_server_shows_what_a_full_check_of_the_same_texts_reports() {
    let (_dir, root) = workspace();
    let (_mirror_dir, mirror) = workspace();
    let mut texts: HashMap<&str, String> = HashMap::from([
        ("shop/__init__.py", String::new()),
        ("shop/views.py", VIEWS_WITH_ROUTE.to_string()),
        ("shop/store.py", STORE.to_string()),
        ("shop/cart.py", CART.to_string()),
    ]);
    for (name, text) in &texts {
        write(&root, name, text);
    }
    let mut client = Client::start(&root);
    for name in ["shop/views.py", "shop/store.py", "shop/cart.py"] {
        client.open(&uri(&root.join(name)), &texts[name]);
    }
    let with_class = format!(
        "{STORE}\n\nclass Registry:\n    entries = {{}}\n\n    def add(self, key, value):\n        self.entries[key] = value\n"
    );
    let cart_moved = format!("# The cart.\n\n{CART}");
    let edits: Vec<(&str, String)> = vec![
        // Lines move; the link reads the same.
        ("shop/store.py", format!("# The preferences.\n\n{STORE}")),
        // Suppressions, at the end of a file and in its middle.
        (
            "shop/store.py",
            STORE.replace("= theme", "= theme  # noqa: SL201"),
        ),
        (
            "shop/cart.py",
            CART.replace("append(x)", "append(x)  # noqa: SL101"),
        ),
        ("shop/cart.py", CART.to_string()),
        ("shop/store.py", STORE.to_string()),
        // A new class: the link runs again.
        ("shop/store.py", with_class.clone()),
        // A call no value flows through: linked again with the values kept.
        (
            "shop/views.py",
            VIEWS_WITH_ROUTE.replace("    return \"ok\"\n", "    print()\n    return \"ok\"\n"),
        ),
        // The route goes and comes back: the finding in the other module goes and comes back.
        ("shop/views.py", VIEWS_WITHOUT_ROUTE.to_string()),
        ("shop/views.py", VIEWS_WITH_ROUTE.to_string()),
        // The cart's leak fixed, back, then its lines moved.
        ("shop/cart.py", CART.replace("items = []", "items = ()")),
        ("shop/cart.py", CART.to_string()),
        ("shop/cart.py", cart_moved.clone()),
        (
            "shop/store.py",
            with_class.replace("entries = {}", "entries = {}  # noqa"),
        ),
        // Imports change: the same function through its module, then a name no module binds.
        (
            "shop/views.py",
            VIEWS_WITH_ROUTE
                .replace("from shop.store import save", "from shop import store")
                .replace("    save(", "    store.save("),
        ),
        (
            "shop/views.py",
            VIEWS_WITH_ROUTE.replace("from shop.store import save", "from shop.cart import save"),
        ),
        ("shop/views.py", VIEWS_WITH_ROUTE.to_string()),
        // A class before the others (their ids and the functions' move), then every class gone.
        (
            "shop/store.py",
            format!("class First:\n    pass\n\n\n{with_class}"),
        ),
        ("shop/store.py", STORE.to_string()),
    ];
    let edit_count = edits.len();
    let mut compared = 0;
    for (i, (name, text)) in edits.into_iter().enumerate() {
        let file = uri(&root.join(name));
        client.change(&file, &text);
        texts.insert(name, text);
        // A request is answered once the pending analysis has been published.
        client.hover(&file, Position::new(0, 0));
        for (name, text) in &texts {
            write(&mirror, name, text);
        }
        let expected = checked(&mirror);
        let shown = published(&client, &root);
        compared += expected.len();
        assert_eq!(
            shown.len(),
            expected.len(),
            "edit {i}: {shown:#?}\n{expected:#?}"
        );
        for (shown, expected) in shown.iter().zip(&expected) {
            assert_eq!(shown.place(), expected.place(), "edit {i}");
            for place in &expected.related {
                assert!(
                    shown.related.contains(place),
                    "edit {i}: {place:?} not in {:#?}",
                    shown.related
                );
            }
        }
    }
    assert!(
        compared > edit_count,
        "too few findings compared: {compared}"
    );
    // The fix offered after the cart's lines moved is made from the moved text.
    let cart = uri(&root.join("shop/cart.py"));
    let at = client.diagnostics[&cart][0].range.start;
    let actions = client.code_actions(&cart, at);
    let fix = actions
        .iter()
        .find(|a| a.title.starts_with("Fix SL101: "))
        .expect("the fix");
    let changes = fix.edit.as_ref().unwrap().changes.as_ref().unwrap();
    assert_eq!(
        apply(&cart_moved, &changes[&cart]),
        cart_moved.replace(
            "    items = []\n",
            "    def __init__(self):\n        self.items = []\n"
        )
    );
    assert!(client.shut_down());
}

/// Sets the modification time of a file to `hours` ago.
fn set_age(path: &Path, hours: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    let time = std::time::SystemTime::now() - Duration::from_secs(hours * 3600);
    file.set_modified(time).unwrap();
}

#[test]
fn changed_deleted_files_and_changed_settings_are_picked_up() {
    let (_dir, root) = workspace();
    shop(&root, VIEWS_WITH_ROUTE);
    for name in ["shop/__init__.py", "shop/views.py", "shop/store.py"] {
        set_age(&root.join(name), 3);
    }
    let store = uri(&root.join("shop/store.py"));
    let mut client = Client::start(&root);
    client.wait_until("store.py has SL201", |c| c.codes(&store) == ["SL201"]);

    // Settings switch the rule off.
    write(&root, "stateleak.toml", "ignore = [\"SL201\"]\n");
    client.watched_change(&uri(&root.join("stateleak.toml")), FileChangeType::CREATED);
    client.wait_until("the rule is off", |c| c.codes(&store).is_empty());
    std::fs::remove_file(root.join("stateleak.toml")).unwrap();
    client.watched_change(&uri(&root.join("stateleak.toml")), FileChangeType::DELETED);
    client.wait_until("the rule is on again", |c| c.codes(&store) == ["SL201"]);

    // The module with the route changed on disk (not open): the server reads it again, even
    // when its time is old enough for the server to trust it.
    let views = root.join("shop/views.py");
    for (text, hours, expected) in [
        (VIEWS_WITHOUT_ROUTE, 2, vec![]),
        (VIEWS_WITH_ROUTE, 1, vec!["SL201".to_string()]),
    ] {
        std::fs::write(&views, text).unwrap();
        set_age(&views, hours);
        client.watched_change(&uri(&views), FileChangeType::CHANGED);
        client.wait_until("the change is seen", |c| c.codes(&store) == expected);
    }

    // The module with the route deleted: nothing reaches `save` any more.
    std::fs::remove_file(root.join("shop/views.py")).unwrap();
    client.watched_change(&uri(&root.join("shop/views.py")), FileChangeType::DELETED);
    client.wait_until("store.py is clear", |c| c.codes(&store).is_empty());
    assert!(client.shut_down());
}

#[test]
fn bad_input_is_shown_and_the_server_goes_on() {
    let (_dir, root) = workspace();
    shop(&root, VIEWS_WITH_ROUTE);
    write(
        &root,
        "stateleak.toml",
        "ignore = [\"SL201\"]\nper_file_ignores = 3\n",
    );
    let settings = uri(&root.join("stateleak.toml"));
    let store = uri(&root.join("shop/store.py"));
    let views = uri(&root.join("shop/views.py"));
    let mut client = Client::start(&root);

    // A settings file with an error: a message, a diagnostic on it, and the defaults apply.
    client.wait_until("the settings file has a diagnostic", |c| {
        c.diagnostics.get(&settings).is_some_and(|d| d.len() == 1)
    });
    let problem = &client.diagnostics[&settings][0];
    assert!(problem.message.contains("per_file_ignores"), "{problem:?}");
    assert_eq!(problem.range.start.line, 1);
    assert!(
        client
            .messages
            .iter()
            .any(|m| m.typ == MessageType::ERROR && m.message.contains("per_file_ignores"))
    );
    client.wait_until("the defaults apply", |c| c.codes(&store) == ["SL201"]);
    write(&root, "stateleak.toml", "ignore = [\"SL201\"]\n");
    client.watched_change(&settings, FileChangeType::CHANGED);
    client.wait_until("the settings file is clear", |c| {
        c.diagnostics.get(&settings).is_some_and(Vec::is_empty)
    });

    // An unparsable buffer: a diagnostic on it, with its line.
    client.open(&views, "def broken(:\n    pass\n");
    client.wait_until("views.py has a syntax error", |c| {
        c.diagnostics
            .get(&views)
            .is_some_and(|d| d.len() == 1 && d[0].message.contains("not analysed"))
    });
    assert_eq!(client.diagnostics[&views][0].range.start.line, 0);

    // A file outside the workspace: said so, not analysed.
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = uri(&elsewhere.path().canonicalize().unwrap().join("x.py"));
    client.open(&outside, "class A:\n    items = {}\n");
    client.hover(&views, Position::new(0, 0));
    assert!(
        client
            .messages
            .iter()
            .any(|m| m.message.contains("outside the workspace")),
        "{:?}",
        client.messages
    );
    assert!(!client.diagnostics.contains_key(&outside));

    // Parameters that are not what the method takes: a message, no crash.
    client.send(Notification::new(DidOpenTextDocument::METHOD.into(), 42).into());
    client.hover(&views, Position::new(0, 0));
    assert!(
        client
            .messages
            .iter()
            .any(|m| m.message.contains("bad parameters"))
    );
    assert!(client.shut_down());
}

/// The server's incremental path, at the level of the library: after each edit of a buffer, the
/// result equals a full check of the same buffers.
mod incremental {
    use super::*;
    use stateleak::check::{self, CheckOptions, FactsMemory};
    use stateleak::report::{PathDisplay, render_json};
    use std::sync::Arc;

    fn options(root: &Path, overlays: &HashMap<PathBuf, String>) -> CheckOptions {
        let mut options = CheckOptions::new(vec![root.to_path_buf()]);
        options.threads = Some(1);
        options.overlays = overlays.clone();
        options
    }

    /// Checks of one workspace whose facts stay in memory between runs, as the server keeps
    /// them, and their findings as JSON with paths relative to the workspace.
    struct Session {
        root: PathBuf,
        memory: Arc<FactsMemory>,
    }

    impl Session {
        fn new(root: &Path) -> Session {
            Session {
                root: root.to_path_buf(),
                memory: Arc::new(FactsMemory::default()),
            }
        }

        /// [`options`], with the facts kept in this session's memory.
        fn options(&self, overlays: &HashMap<PathBuf, String>) -> CheckOptions {
            let mut options = options(&self.root, overlays);
            options.memory = Some(Arc::clone(&self.memory));
            options
        }

        fn json(&self, result: &check::CheckResult) -> String {
            render_json(result, &PathDisplay::relative_to(&self.root))
        }
    }

    /// How the run linked: it kept the link (`link kept`), linked again keeping the values of
    /// names (`link, values kept`), keeping them renumbered after classes or functions nothing
    /// uses were added (`link, values renumbered`), or linked again (`link`).
    fn link_stage(result: &check::CheckResult) -> Option<&'static str> {
        result
            .stage_times
            .iter()
            .map(|(stage, _)| *stage)
            .find(|stage| stage.starts_with("link"))
    }

    /// Whether the run kept the last run's model and rules' findings.
    fn analysis_kept(result: &check::CheckResult) -> bool {
        result
            .stage_times
            .iter()
            .any(|(stage, _)| *stage == "model and rules kept")
    }

    /// What the full check must report after an edit.
    enum Expect {
        Has(&'static str),
        Lacks(&'static str),
    }

    #[test]
    fn after_each_edit_the_incremental_result_equals_a_full_check() {
        let (_dir, root) = workspace();
        shop(&root, VIEWS_WITH_ROUTE);
        write(&root, "shop/cart.py", CART);
        // A harmless function of the same name, for an edit that changes where `save` comes from.
        write(
            &root,
            "shop/safe.py",
            "def save(user, theme):\n    return user\n",
        );
        let store = root.join("shop/store.py");
        let views = root.join("shop/views.py");
        let cart = root.join("shop/cart.py");
        let session = Session::new(&root);
        let mut overlays = HashMap::from([(store.clone(), STORE.to_string())]);
        let (first, kept) = check::check_and_keep(&session.options(&overlays));
        let mut kept = kept.expect("kept");
        assert_eq!(
            session.json(&first),
            session.json(&check::check(&options(&root, &overlays)))
        );

        let leak_in_new_function =
            format!("{STORE}\n\ndef forget(user):\n    _prefs.pop(\"current\")\n");
        let with_unused_class = format!(
            "{STORE}\n\nclass Unused:\n    entries = {{}}\n\n    def add(self, key, value):\n        self.entries[key] = value\n"
        );
        let with_class = format!(
            "{STORE}\n\nclass Registry:\n    entries = {{}}\n\n    def add(self, key, value):\n        self.entries[key] = value\n"
        );
        let route_without_call = VIEWS_WITH_ROUTE.replace(
            "    save(request.args[\"user\"], request.args[\"theme\"])\n",
            "    request.args[\"user\"]\n",
        );
        let save_from_elsewhere =
            VIEWS_WITH_ROUTE.replace("from shop.store import save", "from shop.safe import save");
        let save_through_module = VIEWS_WITH_ROUTE
            .replace("from shop.store import save", "from shop import store")
            .replace("    save(", "    store.save(");
        let without_save = "_prefs = {}\n\n\ndef load(user):\n    return _prefs.get(user)\n";
        // The route calls `save` or not; the call takes no argument and gives nothing, so the
        // values of names stay.
        let route_calling_nothing = VIEWS_WITH_ROUTE.replace(
            "    save(request.args[\"user\"], request.args[\"theme\"])\n",
            "",
        );
        let route_calling_save = VIEWS_WITH_ROUTE.replace(
            "    save(request.args[\"user\"], request.args[\"theme\"])\n",
            "    print(request)\n    save()\n",
        );
        use Expect::{Has, Lacks};
        const KEPT: &str = "link kept";
        const LINKED: &str = "link";
        const VALUES_KEPT: &str = "link, values kept";
        const RENUMBERED: &str = "link, values renumbered";
        let edits: Vec<(&PathBuf, String, Option<&str>, Expect)> = vec![
            // Lines move; what the link reads does not change.
            (
                &store,
                format!("# The preferences.\n\n{STORE}"),
                Some(KEPT),
                Has("SL201"),
            ),
            // A suppression comment.
            (
                &store,
                STORE.replace("= theme", "= theme  # noqa: SL201"),
                Some(KEPT),
                Lacks("SL201"),
            ),
            (&store, STORE.to_string(), Some(KEPT), Has("SL201")),
            // The same suppression again, and a comment at the end: every fact but the
            // suppressions stays where it was, so the model and the rules' findings are kept.
            (
                &store,
                STORE.replace("= theme", "= theme  # noqa: SL201"),
                Some(KEPT),
                Lacks("SL201"),
            ),
            (
                &store,
                format!("{STORE}# The end.\n"),
                Some(KEPT),
                Has("SL201"),
            ),
            // A class nothing uses, added and taken away.
            (&store, with_unused_class, Some(RENUMBERED), Has("SL201")),
            (&store, STORE.to_string(), Some(RENUMBERED), Has("SL201")),
            // A new function: the link changes; nothing calls it, so the values are renumbered.
            (&store, leak_in_new_function, Some(RENUMBERED), Has("SL201")),
            // The route goes: the finding in the other module goes too.
            (&views, VIEWS_WITHOUT_ROUTE.to_string(), Some(LINKED), Lacks("SL201")),
            (&views, VIEWS_WITH_ROUTE.to_string(), Some(LINKED), Has("SL201")),
            // The cart's leak fixed in two ways, and back.
            (
                &cart,
                CART.replace("self.items.append(x)", "self.items = self.items + [x]"),
                None,
                Lacks("SL101"),
            ),
            (&cart, CART.to_string(), None, Has("SL101")),
            (
                &cart,
                CART.replace("items = []", "items = ()"),
                None,
                Lacks("SL101"),
            ),
            // A new class whose attribute is shared, then a request that adds to it. The class
            // replaces the function nothing called, and nothing uses it yet: renumbered.
            (&store, with_class.clone(), Some(RENUMBERED), Has("SL101")),
            (
                &cart,
                CART.replace(
                    "    Cart().add(1)\n",
                    "    Cart().add(1)\n    from shop.store import Registry\n    Registry().add(1, 2)\n",
                ),
                Some(LINKED),
                Has("SL101"),
            ),
            (&cart, CART.to_string(), Some(LINKED), Has("SL101")),
            // The call that makes the other module's finding goes, and comes back.
            (&views, route_without_call, Some(LINKED), Lacks("SL201")),
            (&views, VIEWS_WITH_ROUTE.to_string(), Some(LINKED), Has("SL201")),
            // The import names another module's function, then the module itself.
            (&views, save_from_elsewhere, Some(LINKED), Lacks("SL201")),
            (&views, save_through_module, Some(LINKED), Has("SL201")),
            (&views, VIEWS_WITH_ROUTE.to_string(), Some(LINKED), Has("SL201")),
            // A call that makes the other module's finding comes and goes, the values kept.
            (&views, route_calling_nothing.clone(), Some(LINKED), Lacks("SL201")),
            (&views, route_calling_save, Some(VALUES_KEPT), Has("SL201")),
            (&views, route_calling_nothing, Some(VALUES_KEPT), Lacks("SL201")),
            (&views, VIEWS_WITH_ROUTE.to_string(), Some(LINKED), Has("SL201")),
            // The called function is deleted, then restored.
            (&store, without_save.to_string(), Some(LINKED), Lacks("SL201")),
            (&store, with_class, Some(LINKED), Has("SL201")),
        ];
        for (i, (path, text, expect_kept, expect)) in edits.into_iter().enumerate() {
            overlays.insert(path.clone(), text);
            let incremental =
                check::recheck(&session.options(&overlays), &mut kept).expect("incremental");
            let full = check::check(&options(&root, &overlays));
            assert_eq!(session.json(&incremental), session.json(&full), "edit {i}");
            if let Some(expected) = expect_kept {
                assert_eq!(link_stage(&incremental), Some(expected), "edit {i}");
            }
            // Only the edits that keep every fact but the suppressions where it was.
            assert_eq!(
                analysis_kept(&incremental),
                (2..=4).contains(&i),
                "edit {i}"
            );
            let codes: Vec<&str> = full.findings.iter().map(|f| f.code).collect();
            match expect {
                Has(code) => assert!(codes.contains(&code), "edit {i}: {codes:?}"),
                Lacks(code) => assert!(!codes.contains(&code), "edit {i}: {codes:?}"),
            }
        }

        // A buffer that does not parse is not handled incrementally; a full run is.
        overlays.insert(store.clone(), "def broken(:\n".to_string());
        assert!(check::recheck(&session.options(&overlays), &mut kept).is_none());
        // Nor is a closed buffer (its text comes from the disk again).
        overlays.remove(&store);
        let (full, kept) = check::check_and_keep(&session.options(&overlays));
        let mut kept = kept.expect("kept");
        overlays.remove(&cart);
        assert!(check::recheck(&session.options(&overlays), &mut kept).is_none());
        assert!(session.json(&full).contains("SL201"));
    }

    /// How the values of names were found: learnt from the flows (`link/values`), kept,
    /// renumbered or updated for the edit (`link/values updated`).
    fn values_step(result: &check::CheckResult) -> Option<&'static str> {
        result
            .stage_times
            .iter()
            .map(|(stage, _)| *stage)
            .find(|stage| stage.starts_with("link/values"))
    }

    const HANDLERS: &str = "from shop.store import save, keep\n\nhandler = keep\n\n\ndef setup():\n    global handler\n    print(handler)\n";

    const ROUTES: &str = "from flask import Flask, request\n\nfrom shop.handlers import handler\nfrom shop.store import save, keep\n\napp = Flask(__name__)\n\nrun = keep\n\n\n@app.post(\"/prefs\")\ndef set_prefs():\n    run(request.args[\"user\"], request.args[\"theme\"])\n    handler(request.args[\"user\"], request.args[\"theme\"])\n    return \"ok\"\n";

    /// Edits that change what names hold, and so whether a request reaches the change of
    /// `_prefs` (SL201), through a local, a module binding of the edited module, a module
    /// binding another module imports, and a function that rebinds a global another module
    /// calls through: after each, the server's result equals a full check, whether the values
    /// were updated for the edit or learnt again. A kept solution that missed a flow added, kept
    /// a value whose flow was removed, or kept the other modules' call edges while a name they
    /// read changed, would show the finding where the full check has none or the reverse.
    #[test]
    fn values_updated_for_each_edit_equal_a_full_check() {
        let (_dir, root) = workspace();
        write(&root, "shop/__init__.py", "");
        write(
            &root,
            "shop/store.py",
            &format!("{STORE}\n\ndef keep(user, theme):\n    return user\n"),
        );
        write(&root, "shop/handlers.py", HANDLERS);
        write(&root, "shop/routes.py", ROUTES);
        let store = root.join("shop/store.py");
        let routes = root.join("shop/routes.py");
        let handlers = root.join("shop/handlers.py");
        let session = Session::new(&root);
        let mut overlays = HashMap::new();
        let (first, kept) = check::check_and_keep(&session.options(&overlays));
        let mut kept = kept.expect("kept");
        assert_eq!(
            session.json(&first),
            session.json(&check::check(&options(&root, &overlays)))
        );
        assert!(!session.json(&first).contains("SL201"));
        let through_local = ROUTES.replace(
            "    run(request",
            "    act = save\n    act(request.args[\"user\"], request.args[\"theme\"])\n    run(request",
        );
        let store_text = format!("{STORE}\n\ndef keep(user, theme):\n    return user\n");
        use Expect::{Has, Lacks};
        const UPDATED: &str = "link/values updated";
        let edits: Vec<(&PathBuf, String, &str, Expect)> = vec![
            // A flow added into a local the route calls through, then removed.
            (&routes, through_local, UPDATED, Has("SL201")),
            (&routes, ROUTES.to_string(), UPDATED, Lacks("SL201")),
            // A module binding only the module's own route reads, given another object.
            (
                &routes,
                ROUTES.replace("run = keep", "run = save"),
                UPDATED,
                Has("SL201"),
            ),
            (&routes, ROUTES.to_string(), UPDATED, Lacks("SL201")),
            // A function imported by another module rebound to itself: its scope still binds
            // the function.
            (
                &store,
                format!("{store_text}\n\nsave = save\n"),
                UPDATED,
                Lacks("SL201"),
            ),
            (&store, store_text.clone(), UPDATED, Lacks("SL201")),
            // A name another module imports, bound to another object: the flows of the files
            // that name it are planned again, and their call edges resolved again.
            (
                &handlers,
                HANDLERS.replace("handler = keep", "handler = save"),
                UPDATED,
                Has("SL201"),
            ),
            (&handlers, HANDLERS.to_string(), UPDATED, Lacks("SL201")),
            // A function of that module rebinds the global the route calls through: only a
            // value flow changed, but into a slot another module reads, so every module's call
            // edges are resolved again.
            (
                &handlers,
                HANDLERS.replace("    print(handler)\n", "    handler = save\n"),
                UPDATED,
                Has("SL201"),
            ),
            (&handlers, HANDLERS.to_string(), UPDATED, Lacks("SL201")),
        ];
        for (i, (path, text, step, expect)) in edits.into_iter().enumerate() {
            overlays.insert(path.clone(), text);
            let incremental =
                check::recheck(&session.options(&overlays), &mut kept).expect("incremental");
            let full = check::check(&options(&root, &overlays));
            assert_eq!(session.json(&incremental), session.json(&full), "edit {i}");
            assert_eq!(values_step(&incremental), Some(step), "edit {i}");
            let codes: Vec<&str> = full.findings.iter().map(|f| f.code).collect();
            match expect {
                Has(code) => assert!(codes.contains(&code), "edit {i}: {codes:?}"),
                Lacks(code) => assert!(!codes.contains(&code), "edit {i}: {codes:?}"),
            }
        }
    }

    const PRICING: &str = "class PriceService:\n    def __init__(self):\n        self.rates = {\"EUR\": 1.0}\n\n    def total(self, sku):\n        return self.rates[\"EUR\"]\n\n    def quote(self, sku, user):\n        self.user = user\n        return self.rates[\"EUR\"] * 10\n\n\nservice = PriceService()\n";

    const API: &str = "from fastapi import APIRouter\n\nfrom svc.pricing import service\n\nrouter = APIRouter()\n\n\n@router.get(\"/quote/{sku}\")\ndef quote(sku: str, user: str):\n    return service.total(sku)\n";

    /// The names of each file's calls are kept with its facts (`FileFacts::call_names`), and
    /// SL101 and SL203 filter every call of the project through them: after an edit that adds,
    /// moves and removes calls in one module, what they find equals a full check (names kept for
    /// the old text, or by the file rather than its facts, would miss the new call or ask past
    /// the end of the old ones).
    #[test]
    fn calls_filtered_by_kept_names_follow_each_edit() {
        let (_dir, root) = workspace();
        write(&root, "svc/__init__.py", "");
        write(&root, "svc/pricing.py", PRICING);
        write(&root, "shop/__init__.py", "");
        write(&root, "shop/cart.py", CART);
        let api = root.join("svc/api.py");
        let cart = root.join("shop/cart.py");
        write(&root, "svc/api.py", API);
        let session = Session::new(&root);
        let mut overlays = HashMap::from([(api.clone(), API.to_string())]);
        let (first, kept) = check::check_and_keep(&session.options(&overlays));
        let mut kept = kept.expect("kept");
        assert_eq!(
            session.json(&first),
            session.json(&check::check(&options(&root, &overlays)))
        );
        let quoting = API.replace(
            "    return service.total(sku)\n",
            "    print(sku)\n    return service.quote(sku, user)\n",
        );
        let quoting_later = API.replace(
            "    return service.total(sku)\n",
            "    service.total(sku)\n    print(sku)\n    return service.quote(sku, user)\n",
        );
        let cart_without_call = CART.replace("    Cart().add(1)\n", "    Cart()\n");
        use Expect::{Has, Lacks};
        let edits: Vec<(&PathBuf, String, Expect)> = vec![
            (&api, quoting.clone(), Has("SL203")),
            (&api, API.to_string(), Lacks("SL203")),
            (&api, quoting_later, Has("SL203")),
            (&api, quoting, Has("SL203")),
            (&api, API.to_string(), Lacks("SL203")),
            // SL101 asks which classes' instances run `add` from the calls of `add`.
            (&cart, cart_without_call, Has("SL101")),
            (&cart, CART.to_string(), Has("SL101")),
        ];
        for (i, (path, text, expect)) in edits.into_iter().enumerate() {
            overlays.insert(path.clone(), text);
            let incremental =
                check::recheck(&session.options(&overlays), &mut kept).expect("incremental");
            let full = check::check(&options(&root, &overlays));
            assert_eq!(session.json(&incremental), session.json(&full), "edit {i}");
            let codes: Vec<&str> = full.findings.iter().map(|f| f.code).collect();
            match expect {
                Has(code) => assert!(codes.contains(&code), "edit {i}: {codes:?}"),
                Lacks(code) => assert!(!codes.contains(&code), "edit {i}: {codes:?}"),
            }
        }
    }

    /// Each file's functions by class are kept with its facts (`FileFacts::class_methods`), and
    /// method lookups along an MRO read them (SL101's singleton test asks for `__new__`, SL203
    /// for `__call__`): after edits that add a method, move it to a base class defined before
    /// (so every class of the file gets another index), rename it and take it away, what they
    /// find equals a full check.
    #[test]
    fn methods_looked_up_through_kept_class_methods_follow_each_edit() {
        let (_dir, root) = workspace();
        write(&root, "shop/__init__.py", "");
        let cart = root.join("shop/cart.py");
        write(&root, "shop/cart.py", CART);
        let session = Session::new(&root);
        let mut overlays = HashMap::from([(cart.clone(), CART.to_string())]);
        let (first, kept) = check::check_and_keep(&session.options(&overlays));
        let mut kept = kept.expect("kept");
        assert!(session.json(&first).contains("SL101"));
        let new = "    def __new__(cls):\n        if not hasattr(cls, \"instance\"):\n            cls.instance = super().__new__(cls)\n        return cls.instance\n\n";
        let own_new = CART.replace(
            "    def add(self, x):\n",
            &format!("{new}    def add(self, x):\n"),
        );
        let base_new = CART.replace(
            "class Cart:\n",
            &format!("class Once:\n{new}\nclass Cart(Once):\n"),
        );
        let renamed = base_new.replace("def __new__(cls)", "def __neu__(cls)");
        let after_add = own_new.replace(
            "        self.items.append(x)\n",
            &format!(
                "        self.items.append(x)\n\n{}",
                new.replace("__new__(cls)", "__new__(cls, *a)")
            ),
        );
        use Expect::{Has, Lacks};
        let edits: Vec<(String, Expect)> = vec![
            (own_new.clone(), Lacks("SL101")),
            (CART.to_string(), Has("SL101")),
            (base_new.clone(), Lacks("SL101")),
            (renamed, Has("SL101")),
            (base_new, Lacks("SL101")),
            (after_add, Lacks("SL101")),
            (own_new, Lacks("SL101")),
            (CART.to_string(), Has("SL101")),
        ];
        for (i, (text, expect)) in edits.into_iter().enumerate() {
            overlays.insert(cart.clone(), text);
            let incremental =
                check::recheck(&session.options(&overlays), &mut kept).expect("incremental");
            let full = check::check(&options(&root, &overlays));
            assert_eq!(session.json(&incremental), session.json(&full), "edit {i}");
            let codes: Vec<&str> = full.findings.iter().map(|f| f.code).collect();
            match expect {
                Has(code) => assert!(codes.contains(&code), "edit {i}: {codes:?}"),
                Lacks(code) => assert!(!codes.contains(&code), "edit {i}: {codes:?}"),
            }
        }
    }

    const AUTH_CLASS: &str = "class Auth:\n    def login(self, user):\n        self._remember(user)\n        return True\n\n    def _remember(self, user):\n        self.current_user = user\n\n\n";

    /// SL203 keeps, with each file's facts, the calls that may name a module-level instance, for
    /// the instances' names they were found for: when another module makes a different name an
    /// instance, the unchanged module that calls through that name is looked at again.
    #[test]
    fn calls_kept_for_the_instances_names_follow_each_edit_of_another_module() {
        let (_dir, root) = workspace();
        write(&root, "shop/__init__.py", "");
        let views = "from flask import Flask\n\nfrom shop.auth import auth, guard\n\napp = Flask(__name__)\n\n\n@app.post(\"/login\")\ndef login():\n    return str(guard.login(\"me\"))\n";
        write(&root, "shop/views.py", views);
        let auth = root.join("shop/auth.py");
        let auth_an_instance = format!("{AUTH_CLASS}auth = Auth()\nguard = None\n");
        let guard_an_instance = format!("{AUTH_CLASS}auth = None\nguard = Auth()\n");
        write(&root, "shop/auth.py", &auth_an_instance);
        let session = Session::new(&root);
        let mut overlays = HashMap::from([(auth.clone(), auth_an_instance.clone())]);
        let (first, kept) = check::check_and_keep(&session.options(&overlays));
        let mut kept = kept.expect("kept");
        assert!(
            !session.json(&first).contains("SL203"),
            "{}",
            session.json(&first)
        );
        let edits = [
            (guard_an_instance.clone(), true),
            (auth_an_instance, false),
            (guard_an_instance, true),
        ];
        for (i, (text, leaks)) in edits.into_iter().enumerate() {
            overlays.insert(auth.clone(), text);
            let incremental =
                check::recheck(&session.options(&overlays), &mut kept).expect("incremental");
            let full = check::check(&options(&root, &overlays));
            assert_eq!(session.json(&incremental), session.json(&full), "edit {i}");
            let codes: Vec<&str> = full.findings.iter().map(|f| f.code).collect();
            assert_eq!(codes.contains(&"SL203"), leaks, "edit {i}: {codes:?}");
        }
    }

    const LOADER: &str = "from flask import Flask, request\n\napp = Flask(__name__)\n_seen = {}\n\n\nclass Loader:\n    def __init__(self):\n        self.ready = False\n\n    def fill(self, key, value):\n        self.ready = True\n        _seen[key] = value\n\n    def get(self, key, value):\n        if not self.ready:\n            self.fill(key, value)\n        return _seen.get(key)\n\n\nloader = Loader()\n\n\n@app.route(\"/\")\ndef index():\n    return loader.get(\"k\", request.args[\"v\"])\n";

    const MAKES_NOTHING: &str = "from shop.loader import Loader\n\n\ndef make():\n    pass\n";

    /// A first-time call behind a flag of `self` runs once only while module-level code makes
    /// every instance; a second instance made by a function of another module, by a call no
    /// value flows through (so the values of names are kept), makes it per call in the
    /// unchanged module too.
    #[test]
    fn a_second_instance_made_elsewhere_makes_an_unchanged_modules_first_time_call_per_call() {
        let (_dir, root) = workspace();
        write(&root, "shop/__init__.py", "");
        write(&root, "shop/loader.py", LOADER);
        let other = root.join("shop/other.py");
        write(&root, "shop/other.py", MAKES_NOTHING);
        let session = Session::new(&root);
        let mut overlays = HashMap::from([(other.clone(), MAKES_NOTHING.to_string())]);
        let (first, kept) = check::check_and_keep(&session.options(&overlays));
        let mut kept = kept.expect("kept");
        assert!(first.findings.is_empty(), "{}", session.json(&first));

        overlays.insert(
            other.clone(),
            "from shop.loader import Loader\n\n\ndef make():\n    Loader()\n".to_string(),
        );
        let incremental =
            check::recheck(&session.options(&overlays), &mut kept).expect("incremental");
        assert_eq!(link_stage(&incremental), Some("link, values kept"));
        let full = check::check(&options(&root, &overlays));
        assert_eq!(session.json(&incremental), session.json(&full));
        assert!(
            full.findings.iter().any(|f| f.code == "SL201"),
            "{}",
            session.json(&full)
        );
    }

    const STARTUP: &str = "import threading\n\n_startup = []\n\n\nclass App:\n    def on_startup(self, handler):\n        _startup.append(handler)\n\n\napp = App()\n";

    const TASKS: &str = "from fastapi import FastAPI\n\nfrom shop import lifecycle\n\napi = FastAPI()\n_deferred = []\n\n\ndef defer(job):\n    def start():\n        _deferred.append(job)\n\n    lifecycle.app.on_startup(start)\n\n\n@api.get(\"/\")\ndef index():\n    defer(object())\n";

    /// A nested function handed to a method of another module that only stores it is not run
    /// by the request; once that method hands it to a thread (an edit of the other module only,
    /// after which the values of names are updated to what they were), the unchanged module's
    /// change in it is reported, and no longer once that is taken away again.
    #[test]
    fn an_edit_of_the_method_a_function_is_handed_to_decides_whether_it_runs() {
        let (_dir, root) = workspace();
        write(&root, "shop/__init__.py", "");
        write(&root, "shop/tasks.py", TASKS);
        let lifecycle = root.join("shop/lifecycle.py");
        write(&root, "shop/lifecycle.py", STARTUP);
        let session = Session::new(&root);
        let mut overlays = HashMap::from([(lifecycle.clone(), STARTUP.to_string())]);
        let (first, kept) = check::check_and_keep(&session.options(&overlays));
        let mut kept = kept.expect("kept");
        let in_tasks = |result: &check::CheckResult| {
            result
                .findings
                .iter()
                .any(|f| f.primary.path.ends_with("tasks.py"))
        };
        assert!(!in_tasks(&first), "{}", session.json(&first));
        let calling = STARTUP.replace(
            "        _startup.append(handler)\n",
            "        _startup.append(handler)\n        threading.Thread(target=handler).start()\n",
        );
        for (text, reported) in [(calling, true), (STARTUP.to_string(), false)] {
            overlays.insert(lifecycle.clone(), text);
            let incremental =
                check::recheck(&session.options(&overlays), &mut kept).expect("incremental");
            assert_eq!(link_stage(&incremental), Some("link"));
            let full = check::check(&options(&root, &overlays));
            assert_eq!(session.json(&incremental), session.json(&full));
            assert_eq!(in_tasks(&full), reported, "{}", session.json(&full));
        }
    }
}

/// `Request._names` is also SL402's finding on the changing line, told with its SL101 finding;
/// `Alpha._names` comes first in the group.
const HEADERS: &str = "class Request:\n    _names = {}\n\n    def header(self, name, prefix):\n        if name not in self._names:\n            self._names[name] = prefix + name.lower()\n        return self._names[name]\n\n\nclass Alpha(Request):\n    _names = {}\n\n\ndef default():\n    return Request()\n";

/// Suppressing the group's line names every code told there, or the finding told with a member
/// would surface in its place; each member's repair names its object.
#[test]
fn a_groups_actions_name_its_told_codes_and_objects() {
    let (_dir, root) = workspace();
    write(&root, "headers.py", HEADERS);
    let headers = uri(&root.join("headers.py"));
    let mut client = Client::start(&root);
    client.wait_until("headers.py has SL101", |c| c.codes(&headers) == ["SL101"]);
    let actions = client.code_actions(&headers, Position::new(5, 14));
    let on_line = actions
        .iter()
        .find(|a| a.title.contains("on this line"))
        .unwrap_or_else(|| panic!("{actions:#?}"));
    assert_eq!(
        on_line.title,
        "Suppress SL101 on this line (and SL402, told with it)"
    );
    let changes = on_line.edit.as_ref().unwrap().changes.as_ref().unwrap();
    let edited = apply(HEADERS, &changes[&headers]);
    assert!(
        edited
            .lines()
            .nth(5)
            .unwrap()
            .ends_with("# noqa: SL101, SL402"),
        "{edited}"
    );
    let fixes: Vec<&str> = actions
        .iter()
        .map(|a| a.title.as_str())
        .filter(|t| t.starts_with("Fix"))
        .collect();
    assert_eq!(fixes.len(), 2, "{actions:#?}");
    assert!(fixes[0].contains("`headers.Alpha._names`"), "{fixes:?}");
    assert!(fixes[1].contains("`headers.Request._names`"), "{fixes:?}");
    assert!(client.shut_down());
}
