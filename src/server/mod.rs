//! `stateleak server`: a language server over standard input and output.
//!
//! The server keeps the open buffers, the facts of every file it has seen (by text hash, in a
//! [`FactsMemory`]) and the last analysis's linked project. Each analysis runs the pipeline of
//! [`crate::check`] with the buffers overlaid on the disk: after edits of buffers alone,
//! [`check::recheck`] on the kept project (only the edited files are extracted, and the link is
//! redone only when it reads something else of them); otherwise the whole workspace, parsing
//! only changed files. It
//! publishes the findings of every file they point into, open or not, and clears the files whose
//! findings went away. Messages are handled one at a time; edits are debounced.

mod convert;
mod edits;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CodeActionParams, CodeActionProviderCapability, Diagnostic, DidChangeTextDocumentParams,
    DidChangeWatchedFilesParams, DidChangeWatchedFilesRegistrationOptions,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    FileSystemWatcher, GlobPattern, HoverParams, HoverProviderCapability, InitializeParams,
    InitializeResult, LogMessageParams, MessageType, PublishDiagnosticsParams, Registration,
    RegistrationParams, SaveOptions, ServerCapabilities, ServerInfo, ShowMessageParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Url,
};

use crate::check::{self, CheckOptions, CheckResult, FactsMemory};
use crate::config::{self, Overrides, Resolver};

/// How long edits must pause before the workspace is analysed again, when they come in a burst
/// (an edit within this long of the one before); the first edit after a pause is analysed at once,
/// after the messages already waiting are read.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Runs the server until the client says `exit`; returns the exit status.
pub fn run() -> u8 {
    let (connection, io_threads) = Connection::stdio();
    let status = match serve(&connection) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("stateleak server: {error}");
            1
        }
    };
    drop(connection);
    // The reader thread ends with standard input; when the client is gone it may not.
    if status == 0 {
        let _ = io_threads.join();
    }
    status
}

fn serve(connection: &Connection) -> Result<(), String> {
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| format!("initialising: {e}"))?;
    let params: InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("bad initialize parameters: {e}"))?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "stateleak".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, result)
        .map_err(|e| format!("initialising: {e}"))?;

    let mut server = Server::new(connection, workspace_root(&params));
    if watches_files_dynamically(&params) {
        server.register_file_watchers();
    }
    server.load_settings();
    server.analyse();
    server.main_loop()
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    }
}

/// The first workspace folder, else the root URI, else the working directory.
fn workspace_root(params: &InitializeParams) -> PathBuf {
    let from_folders = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .and_then(|folder| folder.uri.to_file_path().ok());
    #[allow(deprecated)] // Older clients send only `rootUri`.
    let from_root = params
        .root_uri
        .as_ref()
        .and_then(|uri| uri.to_file_path().ok());
    from_folders
        .or(from_root)
        .map(|root| config::absolute(&root))
        .unwrap_or_else(|| config::absolute(Path::new(".")))
}

fn watches_files_dynamically(params: &InitializeParams) -> bool {
    params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|w| w.dynamic_registration)
        .unwrap_or(false)
}

/// A settings file name: a change to one reloads the settings.
fn is_settings_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| config::CONFIG_FILE_NAMES.contains(&name))
}

struct Server<'a> {
    connection: &'a Connection,
    root: PathBuf,
    /// Open buffers under the root, by absolute path.
    documents: HashMap<PathBuf, String>,
    memory: Arc<FactsMemory>,
    /// Built from the settings; overlays and memory are set for each run.
    options: CheckOptions,
    /// The cache file is read (and written) by the first analysis only; memory serves the rest.
    first_run: bool,
    /// What was last published for each file (files with an empty list are cleared ones).
    published: HashMap<Url, Vec<Diagnostic>>,
    /// The settings file's own diagnostic, when it has an error.
    settings_problem: Option<(Url, Diagnostic)>,
    last: Option<CheckResult>,
    /// The last analysis's linked project, to analyse edits of the buffers incrementally.
    kept: Option<check::Kept>,
    /// Something besides the buffers changed (the disk, the settings, a buffer closed): the next
    /// analysis reads the workspace again.
    full_needed: bool,
    /// Each rule's documentation, as written for the diagnostics to link to.
    documentation: HashMap<&'static str, Url>,
    /// When edits are waiting to be analysed: since when.
    pending: Option<Instant>,
    /// When the last edit of a buffer came in.
    last_edit: Option<Instant>,
    next_request: i32,
}

impl<'a> Server<'a> {
    fn new(connection: &'a Connection, root: PathBuf) -> Self {
        let documentation =
            convert::write_rule_documents(&root.join(crate::cache_dir::DEFAULT_NAME));
        Server {
            connection,
            options: CheckOptions::new(vec![root.clone()]),
            root,
            documents: HashMap::new(),
            memory: Arc::new(FactsMemory::default()),
            first_run: true,
            published: HashMap::new(),
            settings_problem: None,
            last: None,
            kept: None,
            full_needed: true,
            documentation,
            pending: None,
            last_edit: None,
            next_request: 0,
        }
    }

    fn main_loop(&mut self) -> Result<(), String> {
        loop {
            let message = match self.pending {
                Some(since) => {
                    let wait = DEBOUNCE.saturating_sub(since.elapsed());
                    match self.connection.receiver.recv_timeout(wait) {
                        Ok(message) => message,
                        Err(error) if error.is_timeout() => {
                            self.analyse();
                            continue;
                        }
                        Err(_) => return Ok(()),
                    }
                }
                None => match self.connection.receiver.recv() {
                    Ok(message) => message,
                    Err(_) => return Ok(()),
                },
            };
            match message {
                Message::Request(request) => {
                    if self
                        .connection
                        .handle_shutdown(&request)
                        .map_err(|e| e.to_string())?
                    {
                        return Ok(());
                    }
                    self.answer(request);
                }
                Message::Notification(notification) => self.notified(notification),
                // Answers to our own requests (the watcher registration) need no action.
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, message: impl Into<Message>) {
        // The client going away ends the loop through the receiver; nothing to do here.
        let _ = self.connection.sender.send(message.into());
    }

    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        self.send(Notification::new(N::METHOD.to_string(), params));
    }

    fn show_message(&self, typ: MessageType, message: String) {
        self.notify::<lsp_types::notification::ShowMessage>(ShowMessageParams { typ, message });
    }

    fn register_file_watchers(&mut self) {
        let watchers = [
            "**/*.py",
            "**/pyproject.toml",
            "**/stateleak.toml",
            "**/.stateleak.toml",
        ]
        .into_iter()
        .map(|glob| FileSystemWatcher {
            glob_pattern: GlobPattern::String(glob.to_string()),
            kind: None,
        })
        .collect();
        let options = DidChangeWatchedFilesRegistrationOptions { watchers };
        let registration = Registration {
            id: "stateleak-watched-files".into(),
            method: lsp_types::notification::DidChangeWatchedFiles::METHOD.into(),
            register_options: serde_json::to_value(options).ok(),
        };
        self.next_request += 1;
        self.send(Request::new(
            RequestId::from(self.next_request),
            lsp_types::request::RegisterCapability::METHOD.into(),
            RegistrationParams {
                registrations: vec![registration],
            },
        ));
    }

    /// Reads the workspace's settings as the command line would. A settings file with an error
    /// is shown (a message and a diagnostic on the file) and the defaults apply until it is fixed.
    fn load_settings(&mut self) {
        let resolver = Resolver::new(None, false, Overrides::default())
            .expect("the default overrides are valid");
        // Checked now so that a broken file is shown at once; while the walk meets it, the
        // defaults stand in for it.
        match resolver.for_path(&self.root, true) {
            Ok(_) => self.settings_problem = None,
            Err(error) => {
                self.show_message(
                    MessageType::ERROR,
                    format!("stateleak: settings not used, the defaults apply: {error}"),
                );
                self.settings_problem = convert::settings_diagnostic(&error);
            }
        }
        let resolver = Arc::new(resolver);
        let mut options = CheckOptions::new(vec![self.root.clone()]);
        let root_settings = resolver.for_path_or_default(&self.root);
        if let Some(size) = root_settings.max_file_size {
            options.max_file_size = size;
        }
        // Fixes are offered as code actions, written for the Python the settings name.
        options.fixes = Some(crate::syntax::fix::Target {
            union_syntax: root_settings.python_minor.is_some_and(|minor| minor >= 10),
        });
        let walker = Arc::clone(&resolver);
        options.exclude = Some(Arc::new(move |path: &Path, _is_dir: bool| {
            walker.for_path_or_default(path).exclude.is_match(path)
        }));
        options.folder_settings = Some(resolver);
        options.memory = Some(Arc::clone(&self.memory));
        self.options = options;
        self.full_needed = true;
    }

    /// Analyses the workspace with the open buffers and publishes what changed.
    fn analyse(&mut self) {
        self.pending = None;
        self.options.overlays = self.documents.clone();
        self.options.cache_dir = self
            .first_run
            .then(|| self.root.join(crate::cache_dir::DEFAULT_NAME));
        self.first_run = false;
        // Only buffers changed: the kept project is analysed again with them; otherwise (or when
        // that cannot be done) the whole workspace is.
        let (options, kept) = (&self.options, &mut self.kept);
        let incremental = !std::mem::take(&mut self.full_needed);
        // The pipeline catches panics per file and per rule; this is the last net, so that a bug
        // costs one analysis, not the editor's server.
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let rechecked = kept
                .as_mut()
                .filter(|_| incremental)
                .and_then(|kept| check::recheck(options, kept));
            rechecked.unwrap_or_else(|| {
                // The old project is freed before the new one is built.
                drop(kept.take());
                let (result, fresh) = check::check_and_keep(options);
                *kept = fresh;
                result
            })
        }));
        self.options.overlays.clear();
        let mut result = match outcome {
            Ok(result) => result,
            Err(panic) => {
                self.kept = None;
                self.full_needed = true;
                self.show_message(
                    MessageType::ERROR,
                    format!(
                        "stateleak: internal error, nothing analysed: {}",
                        check::panic_message(&panic)
                    ),
                );
                return;
            }
        };
        let published_from = Instant::now();
        // One diagnostic per rule and change expression, as on the command line.
        result.findings = crate::report::group::by_place(std::mem::take(&mut result.findings));
        let mut diagnostics = convert::diagnostics(&result, &self.documentation);
        if let Some((uri, diagnostic)) = &self.settings_problem {
            diagnostics
                .entry(uri.clone())
                .or_default()
                .push(diagnostic.clone());
        }
        self.publish(diagnostics);
        self.log_times(&result, published_from.elapsed());
        self.last = Some(result);
    }

    /// Logs how long each stage of the analysis took (`window/logMessage`, shown in the editor's
    /// output panel; `bench/server.py` reads it to say where an edit's time goes).
    fn log_times(&self, result: &CheckResult, publishing: Duration) {
        let stages: Vec<String> = result
            .stage_times
            .iter()
            .map(|(stage, time)| format!("{stage} {:.1} ms", time.as_secs_f64() * 1e3))
            .chain([format!("publish {:.1} ms", publishing.as_secs_f64() * 1e3)])
            .collect();
        self.notify::<lsp_types::notification::LogMessage>(LogMessageParams {
            typ: MessageType::LOG,
            message: format!("stateleak: analysed: {}", stages.join("; ")),
        });
    }

    /// Publishes the files whose diagnostics changed, and clears those that have none left.
    fn publish(&mut self, mut diagnostics: HashMap<Url, Vec<Diagnostic>>) {
        for uri in self.published.keys() {
            diagnostics.entry(uri.clone()).or_default();
        }
        let mut uris: Vec<&Url> = diagnostics.keys().collect();
        uris.sort();
        for uri in uris {
            let now = &diagnostics[uri];
            if self.published.get(uri).unwrap_or(&Vec::new()) == now
                && self.published.contains_key(uri)
            {
                continue;
            }
            self.notify::<lsp_types::notification::PublishDiagnostics>(PublishDiagnosticsParams {
                uri: uri.clone(),
                diagnostics: now.clone(),
                version: None,
            });
        }
        diagnostics.retain(|_, list| !list.is_empty());
        self.published = diagnostics;
    }

    fn schedule(&mut self, after_debounce: bool) {
        let now = Instant::now();
        self.pending = Some(if after_debounce {
            now
        } else {
            now.checked_sub(DEBOUNCE).unwrap_or(now)
        });
    }

    /// The path of a document, when it lies in the workspace; otherwise says so (once per open).
    fn workspace_path(&self, uri: &Url, opened: bool) -> Option<PathBuf> {
        let path = uri.to_file_path().ok().map(|p| config::absolute(&p));
        match path {
            Some(path) if path.starts_with(&self.root) => Some(path),
            _ => {
                if opened {
                    self.show_message(
                        MessageType::INFO,
                        format!(
                            "stateleak: {uri} is outside the workspace folder {}; it is not analysed",
                            self.root.display()
                        ),
                    );
                }
                None
            }
        }
    }

    fn notified(&mut self, notification: Notification) {
        use lsp_types::notification::{
            DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument,
            DidOpenTextDocument, DidSaveTextDocument,
        };
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Some(params) = self.params::<DidOpenTextDocumentParams>(notification) else {
                    return;
                };
                let document = params.text_document;
                if let Some(path) = self.workspace_path(&document.uri, true) {
                    self.documents.insert(path, document.text);
                    self.schedule(false);
                }
            }
            DidChangeTextDocument::METHOD => {
                let Some(params) = self.params::<DidChangeTextDocumentParams>(notification) else {
                    return;
                };
                // Full synchronisation: the last change holds the whole text.
                if let Some(path) = self.workspace_path(&params.text_document.uri, false)
                    && let Some(change) = params.content_changes.into_iter().last()
                {
                    self.documents.insert(path, change.text);
                    // An edit in a burst waits for the burst to pause; the first after a pause
                    // is analysed once the messages already received are read (the loop reads
                    // every waiting message before a deadline that has passed).
                    let now = Instant::now();
                    let in_burst = self
                        .last_edit
                        .is_some_and(|last| now.duration_since(last) < DEBOUNCE);
                    self.last_edit = Some(now);
                    self.schedule(in_burst);
                }
            }
            DidSaveTextDocument::METHOD => {
                let Some(_saved) = self.params::<DidSaveTextDocumentParams>(notification) else {
                    return;
                };
                self.full_needed = true;
                self.schedule(false);
            }
            DidCloseTextDocument::METHOD => {
                let Some(params) = self.params::<DidCloseTextDocumentParams>(notification) else {
                    return;
                };
                if let Some(path) = self.workspace_path(&params.text_document.uri, false) {
                    self.documents.remove(&path);
                    self.full_needed = true;
                    self.schedule(false);
                }
            }
            DidChangeWatchedFiles::METHOD => {
                let Some(params) = self.params::<DidChangeWatchedFilesParams>(notification) else {
                    return;
                };
                let settings_changed = params.changes.iter().any(|change| {
                    change
                        .uri
                        .to_file_path()
                        .is_ok_and(|path| is_settings_file(&path))
                });
                if settings_changed {
                    self.load_settings();
                }
                self.full_needed = true;
                self.schedule(false);
            }
            _ => {}
        }
    }

    /// Decodes parameters; bad ones are shown to the user rather than stopping the server.
    fn params<P: serde::de::DeserializeOwned>(&self, notification: Notification) -> Option<P> {
        let method = notification.method.clone();
        match serde_json::from_value(notification.params) {
            Ok(params) => Some(params),
            Err(error) => {
                self.show_message(
                    MessageType::WARNING,
                    format!("stateleak: ignored a `{method}` with bad parameters: {error}"),
                );
                None
            }
        }
    }

    fn answer(&mut self, request: Request) {
        use lsp_types::request::{CodeActionRequest, HoverRequest};
        // Answers describe the buffers as they are now.
        if self.pending.is_some() {
            self.analyse();
        }
        let id = request.id.clone();
        let response = match request.method.as_str() {
            CodeActionRequest::METHOD => {
                self.respond::<CodeActionParams, _>(request, |server, params| {
                    edits::code_actions(
                        server.last.as_ref(),
                        &server.documents,
                        &server.root,
                        &params,
                    )
                })
            }
            HoverRequest::METHOD => self.respond::<HoverParams, _>(request, |server, params| {
                edits::hover(server.last.as_ref(), &server.root, &params)
            }),
            _ => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("stateleak does not handle `{}`", request.method),
            ),
        };
        self.send(response);
    }

    fn respond<P: serde::de::DeserializeOwned, R: serde::Serialize>(
        &self,
        request: Request,
        handle: impl FnOnce(&Self, P) -> R,
    ) -> Response {
        match serde_json::from_value::<P>(request.params) {
            Ok(params) => Response::new_ok(request.id, handle(self, params)),
            Err(error) => Response::new_err(
                request.id,
                ErrorCode::InvalidParams as i32,
                error.to_string(),
            ),
        }
    }
}
