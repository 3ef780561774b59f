//! What a rule reports: a [`Diagnostic`] with file ids and byte spans. The report stage turns it
//! into lines and columns.

use serde::Serialize;

use crate::facts::Span;
use crate::project::{FileId, FuncId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The label of each change of a finding after the first ([`Label::and_here`]).
pub const AND_HERE: &str = "and here";

/// A place in a file with what happens there.
#[derive(Debug, Clone)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// A finding. Rules build it with `RuleMeta::diagnostic` and the `with_*` methods below.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where the leak happens (the mutation).
    pub primary: Label,
    /// The other places of the story: the shared object's definition first. A suppression
    /// comment on the first label's lines suppresses the finding (see `crate::suppression`), so
    /// a rule whose finding is about no shared object must not put another place first.
    pub related: Vec<Label>,
    /// Why it leaks.
    pub note: String,
    /// How to fix it.
    pub help: String,
    /// Names that identify the finding independently of line numbers (class, attribute,
    /// function); the report adds the code and the path.
    pub identity: Vec<String>,
    /// The import path of the shared object (`jobs.Runner.__init__.<default plugins>`); filled
    /// from the model after the rules when a rule leaves it empty.
    pub object: Option<String>,
    /// The calls a request path must end with when the function that contains the primary
    /// label is reached on several objects and the finding is about one: the function that
    /// calls a method on that object, then the methods called through `self` down to the
    /// primary's (SL203); the function that hands a module global over, then the functions it
    /// is passed on to down to the one that changes it through its parameter (SL201). Empty
    /// when any shortest chain to that function will do.
    pub via: Vec<FuncId>,
}

impl Label {
    pub fn new(file: FileId, span: Span, message: impl Into<String>) -> Self {
        Label {
            file,
            span,
            message: message.into(),
        }
    }

    /// Another place where the finding's change happens; the primary label shows the first.
    pub fn and_here(file: FileId, span: Span) -> Self {
        Label::new(file, span, AND_HERE)
    }
}

impl Diagnostic {
    /// For a kind of finding the rule reports at another severity than its usual one.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn with_related(mut self, related: Vec<Label>) -> Self {
        self.related = related;
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    pub fn with_object(mut self, path: impl Into<String>) -> Self {
        self.object = Some(path.into());
        self
    }

    pub fn with_identity(mut self, identity: Vec<String>) -> Self {
        self.identity = identity;
        self
    }

    pub fn with_via(mut self, via: Vec<FuncId>) -> Self {
        self.via = via;
        self
    }
}
