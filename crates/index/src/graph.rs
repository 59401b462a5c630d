//! The aggregation/association/transformation graph, read from postings:
//! who contained whom and when, and which events make up a transformation.
//!
//! Containment is a set of time intervals per (child, parent) pair, swept
//! over the pair's events in (eventTime, seq) order:
//! - an ADD or OBSERVE naming the child under the parent opens an interval
//!   (the child is inside from then on);
//! - it closes at a DELETE naming the child under the parent, a DELETE of
//!   the parent that names no children (unpack everything), or an ADD of the
//!   child to another parent (it cannot be in two places at once);
//! - a DELETE with no interval open means the child was inside since before
//!   anything the chain knows: the interval starts at −∞;
//! - an interval still open is open-ended (+∞).
//!
//! Events declared in error never link anything.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use crate::codec::{ActionCode, EventRecord, Kind, Posting};
use crate::error::IndexError;
use crate::model::{CHILD_ROLES, PARENT_ROLES, Role};
use crate::snapshot::Snapshot;

/// A closed time interval in UTC ms; `i64::MIN`/`i64::MAX` stand for ±∞.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Window {
    pub(crate) lo: i64,
    pub(crate) hi: i64,
}

impl Window {
    pub(crate) const ALL: Window = Window {
        lo: i64::MIN,
        hi: i64::MAX,
    };

    pub(crate) fn from(lo: i64) -> Window {
        Window { lo, hi: i64::MAX }
    }

    pub(crate) fn until(hi: i64) -> Window {
        Window { lo: i64::MIN, hi }
    }

    pub(crate) fn contains(self, t: i64) -> bool {
        self.lo <= t && t <= self.hi
    }

    pub(crate) fn covers(self, other: Window) -> bool {
        self.lo <= other.lo && other.hi <= self.hi
    }

    pub(crate) fn intersect(self, other: Window) -> Option<Window> {
        let w = Window {
            lo: self.lo.max(other.lo),
            hi: self.hi.min(other.hi),
        };
        (w.lo <= w.hi).then_some(w)
    }
}

/// `other` (a parent, or a child) contained / was contained during
/// `interval`; `event` is the event that opened the interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Containment {
    pub(crate) other: u64,
    pub(crate) interval: Window,
    pub(crate) event: u64,
}

/// What one event does to a (child, parent) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mark {
    /// ADD or OBSERVE of the child under the parent.
    Enter,
    /// DELETE of the child from the parent.
    Leave,
    /// The parent was emptied, or the child went into another parent.
    Close,
}

/// Reads the graph through one snapshot, caching what it decoded.
pub(crate) struct Graph<'s> {
    snap: &'s Snapshot,
    postings: HashMap<u64, Rc<Vec<Posting>>>,
    records: HashMap<u64, Rc<EventRecord>>,
}

impl<'s> Graph<'s> {
    pub(crate) fn new(snap: &'s Snapshot) -> Self {
        Graph {
            snap,
            postings: HashMap::new(),
            records: HashMap::new(),
        }
    }

    pub(crate) fn postings(&mut self, ident: u64) -> Result<Rc<Vec<Posting>>, IndexError> {
        if let Some(p) = self.postings.get(&ident) {
            return Ok(p.clone());
        }
        let p = Rc::new(self.snap.postings(ident)?);
        self.postings.insert(ident, p.clone());
        Ok(p)
    }

    pub(crate) fn record(&mut self, seq: u64) -> Result<Rc<EventRecord>, IndexError> {
        if let Some(r) = self.records.get(&seq) {
            return Ok(r.clone());
        }
        let r = Rc::new(self.snap.record(seq)?);
        self.records.insert(seq, r.clone());
        Ok(r)
    }

    /// The events that make up the transformation `seq` belongs to: the
    /// event itself, and every event sharing its transformationID; none
    /// declared in error. In chain order.
    pub(crate) fn transformation(
        &mut self,
        seq: u64,
    ) -> Result<Vec<(u64, Rc<EventRecord>)>, IndexError> {
        let record = self.record(seq)?;
        if record.transformation_id == 0 {
            return Ok(if record.in_error {
                Vec::new()
            } else {
                vec![(seq, record)]
            });
        }
        let mut out = Vec::new();
        for member in self.snap.transformation_group(record.transformation_id)? {
            let r = self.record(member)?;
            if !r.in_error && r.kind == Kind::Transformation {
                out.push((member, r));
            }
        }
        Ok(out)
    }

    /// The parents `child` was inside (through events of `kind`), with when.
    pub(crate) fn containers(
        &mut self,
        child: u64,
        kind: Kind,
    ) -> Result<Vec<Containment>, IndexError> {
        let mut by_parent: BTreeMap<u64, Vec<(i64, u64, Mark)>> = BTreeMap::new();
        // Every ADD of the child, to close its intervals in other parents.
        let mut adds: Vec<(i64, u64, u64)> = Vec::new();
        let postings = self.postings(child)?;
        for p in postings.iter() {
            if p.kind != kind || p.in_error || !p.roles.intersects(CHILD_ROLES) {
                continue;
            }
            let record = self.record(p.seq)?;
            let Some(parent) = parent_of(&record) else {
                continue;
            };
            let mark = match p.action {
                Some(ActionCode::Add | ActionCode::Observe) => Mark::Enter,
                Some(ActionCode::Delete) => Mark::Leave,
                None => continue,
            };
            by_parent
                .entry(parent)
                .or_default()
                .push((p.time, p.seq, mark));
            if p.action == Some(ActionCode::Add) {
                adds.push((p.time, p.seq, parent));
            }
        }
        let mut out = Vec::new();
        for (parent, mut marks) in by_parent {
            marks.extend(self.unpack_all_marks(parent, kind)?);
            marks.extend(
                adds.iter()
                    .filter(|(_, _, other)| *other != parent)
                    .map(|(t, seq, _)| (*t, *seq, Mark::Close)),
            );
            sweep(parent, marks, &mut out);
        }
        Ok(out)
    }

    /// DELETE events of `parent` that name no children: it was emptied.
    fn unpack_all_marks(
        &mut self,
        parent: u64,
        kind: Kind,
    ) -> Result<Vec<(i64, u64, Mark)>, IndexError> {
        Ok(self
            .postings(parent)?
            .iter()
            .filter(|p| {
                p.kind == kind
                    && !p.in_error
                    && p.roles.intersects(PARENT_ROLES)
                    && p.action == Some(ActionCode::Delete)
                    && !p.lists_children
            })
            .map(|p| (p.time, p.seq, Mark::Close))
            .collect())
    }

    /// The children `parent` held (through events of `kind`), with when.
    pub(crate) fn contents(
        &mut self,
        parent: u64,
        kind: Kind,
    ) -> Result<Vec<Containment>, IndexError> {
        let mut children = BTreeSet::new();
        for p in self.postings(parent)?.iter() {
            if p.kind == kind && !p.in_error && p.roles.intersects(PARENT_ROLES) && p.lists_children
            {
                let record = self.record(p.seq)?;
                children.extend(
                    record
                        .identifiers
                        .iter()
                        .filter(|(role, _)| matches!(role, Role::Child | Role::ChildQuantity))
                        .map(|(_, id)| *id),
                );
            }
        }
        let mut out = Vec::new();
        for child in children {
            for c in self.containers(child, kind)? {
                if c.other == parent {
                    out.push(Containment {
                        other: child,
                        interval: c.interval,
                        event: c.event,
                    });
                }
            }
        }
        Ok(out)
    }
}

fn parent_of(record: &EventRecord) -> Option<u64> {
    record
        .identifiers
        .iter()
        .find(|(role, _)| *role == Role::Parent)
        .map(|(_, id)| *id)
}

/// Turn one pair's marks into intervals (see the module comment).
fn sweep(parent: u64, mut marks: Vec<(i64, u64, Mark)>, out: &mut Vec<Containment>) {
    marks.sort_unstable();
    let mut open: Option<(i64, u64)> = None;
    let mut any = false;
    for (t, seq, mark) in marks {
        match (mark, open) {
            (Mark::Enter, None) => open = Some((t, seq)),
            (Mark::Enter, Some(_)) => {}
            (Mark::Leave | Mark::Close, Some((lo, event))) => {
                out.push(Containment {
                    other: parent,
                    interval: Window { lo, hi: t },
                    event,
                });
                open = None;
                any = true;
            }
            (Mark::Leave, None) if !any => {
                out.push(Containment {
                    other: parent,
                    interval: Window::until(t),
                    event: seq,
                });
                any = true;
            }
            (Mark::Leave | Mark::Close, None) => {}
        }
    }
    if let Some((lo, event)) = open {
        out.push(Containment {
            other: parent,
            interval: Window::from(lo),
            event,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intervals(marks: Vec<(i64, u64, Mark)>) -> Vec<(i64, i64, u64)> {
        let mut out = Vec::new();
        sweep(9, marks, &mut out);
        out.iter()
            .map(|c| (c.interval.lo, c.interval.hi, c.event))
            .collect()
    }

    #[test]
    fn add_then_delete_is_one_interval() {
        let got = intervals(vec![(20, 2, Mark::Leave), (10, 1, Mark::Enter)]);
        assert_eq!(got, vec![(10, 20, 1)]);
    }

    #[test]
    fn observe_inside_does_not_reopen() {
        let got = intervals(vec![
            (10, 1, Mark::Enter),
            (15, 2, Mark::Enter),
            (20, 3, Mark::Close),
            (30, 4, Mark::Enter),
        ]);
        assert_eq!(got, vec![(10, 20, 1), (30, i64::MAX, 4)]);
    }

    #[test]
    fn delete_without_add_means_inside_since_ever() {
        assert_eq!(
            intervals(vec![(20, 2, Mark::Leave)]),
            vec![(i64::MIN, 20, 2)]
        );
        // …but not after a known interval (a late duplicate).
        assert_eq!(
            intervals(vec![
                (10, 1, Mark::Enter),
                (12, 2, Mark::Close),
                (20, 3, Mark::Leave)
            ]),
            vec![(10, 12, 1)]
        );
    }

    #[test]
    fn same_time_orders_by_chain_position() {
        let got = intervals(vec![(10, 2, Mark::Leave), (10, 1, Mark::Enter)]);
        assert_eq!(got, vec![(10, 10, 1)]);
    }

    #[test]
    fn windows() {
        let w = Window { lo: 5, hi: 10 };
        assert_eq!(w.intersect(Window::from(8)), Some(Window { lo: 8, hi: 10 }));
        assert_eq!(w.intersect(Window::from(11)), None);
        assert!(Window::ALL.covers(w));
        assert!(!w.covers(Window::ALL));
        assert!(w.contains(5) && w.contains(10) && !w.contains(11));
    }
}
