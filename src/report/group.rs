//! One diagnostic per place: the findings of one rule at one change expression, each about
//! another shared object, are reported as one finding that names them all.
//!
//! A line that writes a class attribute through `self` in a base class changes the attribute of
//! every subclass that redefines it; the analysis proves one finding per object, but the reader
//! has one place to look at and one comment to write there. Grouping runs at the report
//! boundary, after every filter that speaks of one object (per-file ignores, folder settings,
//! suppression comments, findings told once, the baseline), so silencing or recording one object
//! still takes only that object out of its group. Every output format and the language server
//! print the grouped findings; the members stay inside them for the structured formats, for
//! `--explain` and for the server's per-object code actions.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::check::{Finding, Location};

/// How many other objects a grouped message names before saying how many more there are.
pub const NAMED_IN_MESSAGE: usize = 3;

/// The findings with those of one rule at one change expression grouped into one, in report
/// order (a group stands where its first member stood). A finding alone at its place is
/// returned unchanged.
pub fn by_place(findings: Vec<Finding>) -> Vec<Finding> {
    type Place = (&'static str, PathBuf, u32, u32);
    let mut index_of: HashMap<Place, usize> = HashMap::new();
    let mut groups: Vec<Vec<Finding>> = Vec::new();
    for finding in findings {
        let place = (
            finding.code,
            finding.primary.path.clone(),
            finding.primary.start,
            finding.primary.end,
        );
        match index_of.get(&place) {
            Some(&index) => groups[index].push(finding),
            None => {
                index_of.insert(place, groups.len());
                groups.push(vec![finding]);
            }
        }
    }
    groups
        .into_iter()
        .map(|mut members| {
            if members.len() == 1 {
                members.pop().expect("a group has a member")
            } else {
                grouped(members)
            }
        })
        .collect()
}

/// The findings a reported finding stands for: its members, or itself when it is alone.
pub fn members(finding: &Finding) -> &[Finding] {
    if finding.members.is_empty() {
        std::slice::from_ref(finding)
    } else {
        &finding.members
    }
}

/// How a member is named in its group's message and related places: the import path of its
/// shared object, or its identity when the model knows no import path.
pub fn object_name(finding: &Finding) -> String {
    finding
        .object
        .clone()
        .unwrap_or_else(|| finding.identity.join("."))
}

/// The finding reported for `members` (two or more, in report order): the first member's story,
/// its message saying which other objects the same change is reported for, and every member's
/// definition among the related places.
fn grouped(members: Vec<Finding>) -> Finding {
    let mut representative = members[0].clone();
    let first_name = object_name(&members[0]);
    let mut others: Vec<String> = Vec::new();
    for member in &members[1..] {
        let name = object_name(member);
        if name != first_name && !others.contains(&name) {
            others.push(name);
        }
    }
    representative
        .message
        .push_str(&others_clause(&others, members.len()));
    for member in &members[1..] {
        if let Some(definition) = member.related.first() {
            representative.related.push(Location {
                message: format!("`{}`: {}", object_name(member), definition.message),
                ..definition.clone()
            });
        }
    }
    if representative.fix.is_none() {
        representative.fix = members.iter().find_map(|m| m.fix.clone());
    }
    representative.members = members;
    representative
}

/// `; the same change is also reported for 2 other shared objects: `a.B.x` and `a.C.x``.
fn others_clause(others: &[String], members: usize) -> String {
    if others.is_empty() {
        // Every member is about the same object (by different ways to it).
        return format!("; the same change is reported {members} times for this shared object");
    }
    let quoted: Vec<String> = others
        .iter()
        .take(NAMED_IN_MESSAGE)
        .map(|name| format!("`{name}`"))
        .collect();
    let named = match others.len() - quoted.len() {
        0 if quoted.len() == 1 => quoted[0].clone(),
        0 => format!(
            "{} and {}",
            quoted[..quoted.len() - 1].join(", "),
            quoted[quoted.len() - 1]
        ),
        more => format!("{} and {more} more", quoted.join(", ")),
    };
    let objects = if others.len() == 1 {
        "other shared object"
    } else {
        "other shared objects"
    };
    format!(
        "; the same change is also reported for {} {objects}: {named}",
        others.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_few_others_and_counts_the_rest() {
        let names = |n: usize| (0..n).map(|i| format!("m.C{i}.x")).collect::<Vec<_>>();
        assert_eq!(
            others_clause(&names(1), 2),
            "; the same change is also reported for 1 other shared object: `m.C0.x`"
        );
        assert_eq!(
            others_clause(&names(3), 4),
            "; the same change is also reported for 3 other shared objects: `m.C0.x`, `m.C1.x` and `m.C2.x`"
        );
        assert_eq!(
            others_clause(&names(5), 6),
            "; the same change is also reported for 5 other shared objects: `m.C0.x`, `m.C1.x`, `m.C2.x` and 2 more"
        );
        assert_eq!(
            others_clause(&[], 2),
            "; the same change is reported 2 times for this shared object"
        );
    }
}
