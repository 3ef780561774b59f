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
/// order (a group stands where its first member stood). Only findings about a shared object the
/// model names are grouped, and only with findings of the same severity and help (the grouped
/// finding prints one of each); a finding alone at its place is returned unchanged.
pub fn by_place(findings: Vec<Finding>) -> Vec<Finding> {
    type Place = (&'static str, PathBuf, u32, u32, &'static str, String);
    let mut index_of: HashMap<Place, usize> = HashMap::new();
    let mut groups: Vec<Vec<Finding>> = Vec::new();
    for finding in findings {
        let place = finding.object.is_some().then(|| {
            (
                finding.code,
                finding.primary.path.clone(),
                finding.primary.start,
                finding.primary.end,
                finding.severity.as_str(),
                finding.help.clone(),
            )
        });
        match place.as_ref().and_then(|place| index_of.get(place)) {
            Some(&index) => groups[index].push(finding),
            None => {
                if let Some(place) = place {
                    index_of.insert(place, groups.len());
                }
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

/// Where the finding's shared object is created: its first related place, when the finding is
/// about a shared object the model names (a finding about none, such as SL404's cache reading a
/// global, puts another place first).
pub fn definition(finding: &Finding) -> Option<&Location> {
    finding.object.as_ref().and(finding.related.first())
}

/// The finding reported for `members` (two or more, in report order, each about a named shared
/// object): the first member's story, its message saying which other objects the same change is
/// reported for, every member's definition among the related places, and every member's
/// findings told with it (tagged with its object), so that a suppression of the line names them.
fn grouped(members: Vec<Finding>) -> Finding {
    let mut representative = members[0].clone();
    let first_name = members[0].object.as_deref();
    let mut others: Vec<&str> = Vec::new();
    for name in members[1..].iter().filter_map(|m| m.object.as_deref()) {
        if Some(name) != first_name && !others.contains(&name) {
            others.push(name);
        }
    }
    representative
        .message
        .push_str(&others_clause(&others, members.len()));
    for member in &members[1..] {
        let Some(name) = member.object.as_deref() else {
            continue;
        };
        if let Some(definition) = definition(member) {
            representative.related.push(Location {
                message: format!("`{name}`: {}", definition.message),
                ..definition.clone()
            });
        }
        for (code, clause) in member.told_with.iter().zip(&member.told_clauses) {
            if !representative.told_with.contains(code) {
                representative.told_with.push(*code);
            }
            representative
                .note
                .push_str(&format!("; for `{name}`, {clause}"));
        }
    }
    if representative.fix.is_none() {
        representative.fix = members.iter().find_map(|m| m.fix.clone());
    }
    representative.members = members;
    representative
}

/// `; the same change is also reported for 2 other shared objects: `a.B.x` and `a.C.x``.
fn others_clause(others: &[&str], members: usize) -> String {
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
        let owned: Vec<String> = (0..5).map(|i| format!("m.C{i}.x")).collect();
        let all: Vec<&str> = owned.iter().map(String::as_str).collect();
        assert_eq!(
            others_clause(&all[..1], 2),
            "; the same change is also reported for 1 other shared object: `m.C0.x`"
        );
        assert_eq!(
            others_clause(&all[..3], 4),
            "; the same change is also reported for 3 other shared objects: `m.C0.x`, `m.C1.x` and `m.C2.x`"
        );
        assert_eq!(
            others_clause(&all, 6),
            "; the same change is also reported for 5 other shared objects: `m.C0.x`, `m.C1.x`, `m.C2.x` and 2 more"
        );
        assert_eq!(
            others_clause(&[], 2),
            "; the same change is reported 2 times for this shared object"
        );
    }
}
