//! The fuzzing harness; `project.rs` is also compiled into the repository's regression tests.

pub mod project;
