//! The model's tables that read the linked project alone, not the model: they can be made while
//! the model is built (on the other core, when it is idle), rather than by the first rule to ask
//! for them, on that rule's thread, after the model.

use crate::project::Project;

use super::Model;
use super::instance_assignments::InstanceAssignments;
use super::instances::{InstanceChange, collect_instance_changes};

/// [`Model::instance_assignments`] and [`Model::instance_changes`] of a project, made before
/// the model they go into.
pub struct ProjectTables {
    instance_assignments: InstanceAssignments,
    instance_changes: Vec<InstanceChange>,
}

impl ProjectTables {
    /// Makes both tables, as the model's first question would.
    pub fn collect(project: &Project) -> ProjectTables {
        ProjectTables {
            instance_assignments: InstanceAssignments::collect(project),
            instance_changes: collect_instance_changes(project),
        }
    }
}

impl Model {
    /// Keeps `tables`, made of the same project as the model, as the answers to the model's first
    /// questions; a table already made (asked while the model was built) is kept instead: both
    /// are the same.
    pub fn keep_project_tables(&self, tables: ProjectTables) {
        let _ = self.instance_assignments.set(tables.instance_assignments);
        let _ = self.instance_changes.set(tables.instance_changes);
    }
}
