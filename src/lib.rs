//! stateleak: finds state that leaks between requests in long-running Python processes.
//!
//! The pipeline is described in `ARCHITECTURE.md`: [`discover`] → [`syntax`] (parse and extract
//! [`facts`], in parallel) → [`project`] (link) → [`rules`] → [`report`], driven by [`check`].

pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod discover;
pub mod facts;
pub mod knowledge;
pub mod project;
pub mod report;
pub mod rules;
pub mod source;
pub mod syntax;
