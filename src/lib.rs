//! stateleak: finds state that leaks between requests in long-running Python processes.
//!
//! The pipeline is described in `ARCHITECTURE.md`: [`discover`] → [`syntax`] (parse and extract
//! [`facts`], in parallel) → [`project`] (link) → [`model`] (shared objects, flows, changes) → [`rules`] → [`report`], driven by [`check`].

mod allocator;
pub use allocator::Allocator;
pub mod baseline;
pub mod cache;
pub mod cache_dir;
pub mod call_names;
pub mod check;
pub mod class_methods;
pub mod cli;
mod codec_tables;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod facts;
pub mod fix;
pub mod graph;
pub mod knowledge;
pub mod link_cache;
pub mod memory;
pub mod model;
pub mod progress;
pub mod project;
pub mod report;
pub mod rules;
pub mod run_cache;
pub mod server;
pub mod source;
pub mod stage_marks;
pub mod suppression;
pub mod syntax;
pub mod terminal;
pub mod text_stamps;
