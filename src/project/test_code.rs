//! Test code: modules and functions that run under a test runner, never in a request. The rules
//! drop changes made in test code, and the request search does not pass through a module of
//! tests.

use crate::facts::FuncIdx;
use crate::knowledge;

use super::{FileId, Project, SourceFile};

/// A module of tests: `test_x`, `x_test`, `conftest`, or anything in a `test`, `tests` or
/// `testing` package. Its functions run once per test, not per request.
/// Read in place, without collecting the parts: the link asks it of every file on every link.
fn is_test_module(module: &str) -> bool {
    let (packages, last) = match module.rsplit_once('.') {
        Some((packages, last)) => (Some(packages), last),
        None => (None, module),
    };
    last.starts_with("test_")
        || last.ends_with("_test")
        || matches!(last, "tests" | "conftest")
        || packages.is_some_and(|packages| {
            packages
                .split('.')
                .any(|p| matches!(p, "test" | "tests" | "testing"))
        })
}

/// A test function or a test framework's fixture method.
fn is_test_function(name: &str) -> bool {
    name.starts_with("test_") || knowledge::TEST_FIXTURE_METHODS.contains(&name)
}

/// Whether `function` of `file` is test code: in a test module, or a test function or fixture
/// method (or nested in one).
pub fn in_test_code(project: &Project, file: FileId, function: FuncIdx) -> bool {
    module_of_tests(project.file(file)) || in_test_function(project, file, function)
}

/// Whether the file is a module of tests under any of its names.
pub(super) fn module_of_tests(source: &SourceFile) -> bool {
    std::iter::once(&source.module)
        .chain(source.aliases.iter())
        .any(|m| is_test_module(m))
}

/// Whether `function` is a test function or fixture method, or nested in one.
fn in_test_function(project: &Project, file: FileId, function: FuncIdx) -> bool {
    let functions = &project.file(file).facts.functions;
    let mut current = Some(function);
    while let Some(f) = current {
        if is_test_function(&functions[f as usize].name) {
            return true;
        }
        current = functions[f as usize].parent;
    }
    false
}

/// For every function of the project, in id order, whether it is in a module of tests. Only the
/// module counts here, not a function's name: a function of the application may well be called
/// `test_connection`.
pub(super) fn functions_in_modules_of_tests(project: &Project) -> Vec<bool> {
    let of_tests: Vec<bool> = project.files.iter().map(module_of_tests).collect();
    project
        .functions
        .iter()
        .map(|&(file, _)| of_tests[file as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::is_test_module;

    #[test]
    fn test_modules_are_told_by_their_names_and_packages() {
        for module in [
            "test_views",
            "views_test",
            "conftest",
            "app.tests",
            "app.tests.views",
            "django.test.utils",
            "sqlalchemy.testing.fixtures",
        ] {
            assert!(is_test_module(module), "{module}");
        }
        // A lone `test.py` is as often a script as a test, and `testcases` is not a package of
        // tests by its name alone.
        for module in [
            "test",
            "app.views",
            "app.testcases",
            "contest",
            "latest_news",
        ] {
            assert!(!is_test_module(module), "{module}");
        }
    }
}
