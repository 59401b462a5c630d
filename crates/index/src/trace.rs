//! Trace back / trace forward, recall impact and recall ancestry: one
//! breadth-first walk over the graph, with a time window per visited thing.
//!
//! Windows are what make the walk precise: a container contributes only
//! what happened while the thing was inside it, an input only its history
//! up to the transformation that consumed it, an output only its life after
//! it was made. A thing reached again with a window already covered is not
//! expanded again, which (with the depth bound) makes the walk cycle-safe.

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::codec::Kind;
use crate::error::IndexError;
use crate::graph::{Graph, Window};
use crate::model::{INPUT_ROLES, OUTPUT_ROLES, Role, StoredEvent};
use crate::snapshot::Snapshot;

/// Which way to trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Where did it come from: its events, the containers it travelled in
    /// while inside them, what it was made from, recursively.
    Back,
    /// Where did it go: its events, what was made from it, the containers
    /// it went into (while inside), and what it contains.
    Forward,
}

/// How two things of a trace are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeKind {
    /// `from` (parent) contained `to` (child).
    Aggregation,
    /// `from` (input) went into making `to` (output).
    Transformation,
    /// `from` (parent asset) had `to` (child, e.g. a sensor) attached.
    Association,
}

/// A thing in a trace, at the smallest number of links from the traced one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceNode {
    pub identifier: String,
    pub depth: u32,
}

/// A link of a trace, always oriented parent → child and input → output,
/// whichever way the trace goes; `event` is the event that made the link
/// (for containment: the one that put the child in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEdge {
    pub from: String,
    pub to: String,
    pub event: [u8; 32],
    pub kind: EdgeKind,
}

/// A trace as a graph. Nodes in discovery order (breadth first), edges and
/// events in chain order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub nodes: Vec<TraceNode>,
    pub edges: Vec<TraceEdge>,
    pub events: Vec<StoredEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Back,
    Forward,
    /// Forward through derivation only (transformation outputs, contents):
    /// what a recall of the root affects. Windows are `[lo, +∞)`: a thing is
    /// affected from the moment it was made from or put inside an affected
    /// thing.
    Affected,
    /// The exact inverse of `Affected`: every thing whose recall would
    /// affect the root. Windows are `(−∞, hi]`.
    Ancestry,
}

/// How a thing was reached, which decides where the walk may go next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Came {
    Root,
    /// Into a container: a forward trace goes on up (to the container's
    /// containers) but not down into the container's other contents.
    Up,
    Down,
    Derived,
}

#[derive(Debug, Clone, Copy)]
struct Visit {
    ident: u64,
    depth: u32,
    window: Window,
    came: Came,
}

/// What a walk found, as interned ids and seqs.
pub(crate) struct Walk {
    /// (identifier, depth) in discovery order, root first.
    pub(crate) nodes: Vec<(u64, u32)>,
    /// (event seq, from, to, kind), sorted.
    pub(crate) edges: BTreeSet<(u64, u64, u64, EdgeKind)>,
    pub(crate) events: BTreeSet<u64>,
}

struct Walker<'s> {
    graph: Graph<'s>,
    mode: Mode,
    max_depth: u32,
    walk: Walk,
    seen: HashMap<u64, usize>,
    /// Windows each thing was expanded with (and whether it could descend).
    expanded: HashMap<u64, Vec<(Window, bool)>>,
    queue: VecDeque<Visit>,
}

pub(crate) fn walk(
    snap: &Snapshot,
    root: u64,
    mode: Mode,
    max_depth: u32,
) -> Result<Walk, IndexError> {
    let mut w = Walker {
        graph: Graph::new(snap),
        mode,
        max_depth,
        walk: Walk {
            nodes: vec![(root, 0)],
            edges: BTreeSet::new(),
            events: BTreeSet::new(),
        },
        seen: HashMap::from([(root, 0)]),
        expanded: HashMap::new(),
        queue: VecDeque::from([Visit {
            ident: root,
            depth: 0,
            window: Window::ALL,
            came: Came::Root,
        }]),
    };
    while let Some(v) = w.queue.pop_front() {
        if w.already_covered(&v) {
            continue;
        }
        w.expand(v)?;
    }
    Ok(w.walk)
}

impl Walker<'_> {
    fn may_descend(&self, came: Came) -> bool {
        !(self.mode == Mode::Forward && came == Came::Up)
    }

    fn already_covered(&mut self, v: &Visit) -> bool {
        let descend = self.may_descend(v.came);
        let done = self.expanded.entry(v.ident).or_default();
        if done
            .iter()
            .any(|(w, d)| w.covers(v.window) && (*d || !descend))
        {
            return true;
        }
        done.push((v.window, descend));
        false
    }

    /// Link `from` → `to` by `event` and walk on to `next`.
    fn reach(
        &mut self,
        v: &Visit,
        edge: (u64, u64, u64, EdgeKind),
        next: u64,
        window: Window,
        came: Came,
    ) {
        let depth = v.depth + 1;
        self.walk.edges.insert(edge);
        self.walk.events.insert(edge.0);
        if let std::collections::hash_map::Entry::Vacant(e) = self.seen.entry(next) {
            e.insert(self.walk.nodes.len());
            self.walk.nodes.push((next, depth));
        }
        self.queue.push_back(Visit {
            ident: next,
            depth,
            window,
            came,
        });
    }

    fn expand(&mut self, v: Visit) -> Result<(), IndexError> {
        if matches!(self.mode, Mode::Back | Mode::Forward) {
            self.include_events(&v)?;
        }
        if v.depth >= self.max_depth {
            return Ok(());
        }
        match self.mode {
            Mode::Back => {
                self.producers(&v)?;
                self.containers(&v, Kind::Aggregation, EdgeKind::Aggregation)?;
                self.containers(&v, Kind::Association, EdgeKind::Association)?;
                self.attached(&v)?;
            }
            Mode::Forward => {
                self.consumers(&v)?;
                self.containers(&v, Kind::Aggregation, EdgeKind::Aggregation)?;
                if self.may_descend(v.came) {
                    self.contents(&v)?;
                }
            }
            Mode::Affected => {
                self.consumers(&v)?;
                self.contents(&v)?;
            }
            Mode::Ancestry => {
                self.producers(&v)?;
                self.ancestry_containers(&v)?;
            }
        }
        Ok(())
    }

    /// The thing's own events in its window. Beyond the root, a back trace
    /// leaves out events that only consumed the thing into something else
    /// (and a forward trace events that only produced it): they belong to
    /// other products; the ones on the trace's path come in as edges.
    fn include_events(&mut self, v: &Visit) -> Result<(), IndexError> {
        let skip_only = match (self.mode, v.came) {
            (_, Came::Root) => None,
            (Mode::Back, _) => Some(INPUT_ROLES),
            _ => Some(OUTPUT_ROLES),
        };
        for p in self.graph.postings(v.ident)?.iter() {
            if v.window.contains(p.time) && !skip_only.is_some_and(|s| p.roles.within(s)) {
                self.walk.events.insert(p.seq);
            }
        }
        Ok(())
    }

    /// Transformations that made the thing: their inputs, each with its
    /// history up to the event that consumed it.
    fn producers(&mut self, v: &Visit) -> Result<(), IndexError> {
        for p in self.graph.postings(v.ident)?.iter() {
            if p.kind != Kind::Transformation
                || p.in_error
                || !p.roles.intersects(OUTPUT_ROLES)
                || !v.window.contains(p.time)
            {
                continue;
            }
            for (seq, record) in self.graph.transformation(p.seq)? {
                for (role, input) in &record.identifiers {
                    if matches!(role, Role::Input | Role::InputQuantity) {
                        let edge = (seq, *input, v.ident, EdgeKind::Transformation);
                        let window = Window::until(record.event_time_ms);
                        self.reach(v, edge, *input, window, Came::Derived);
                    }
                }
            }
        }
        Ok(())
    }

    /// Transformations that consumed the thing: their outputs, each from the
    /// event that made it on.
    fn consumers(&mut self, v: &Visit) -> Result<(), IndexError> {
        for p in self.graph.postings(v.ident)?.iter() {
            if p.kind != Kind::Transformation
                || p.in_error
                || !p.roles.intersects(INPUT_ROLES)
                || !v.window.contains(p.time)
            {
                continue;
            }
            for (seq, record) in self.graph.transformation(p.seq)? {
                for (role, output) in &record.identifiers {
                    if matches!(role, Role::Output | Role::OutputQuantity) {
                        let edge = (seq, v.ident, *output, EdgeKind::Transformation);
                        let window = Window::from(record.event_time_ms);
                        self.reach(v, edge, *output, window, Came::Derived);
                    }
                }
            }
        }
        Ok(())
    }

    /// Containers the thing was inside during its window: each contributes
    /// what happened to it while the thing was inside.
    fn containers(&mut self, v: &Visit, kind: Kind, edge_kind: EdgeKind) -> Result<(), IndexError> {
        for c in self.graph.containers(v.ident, kind)? {
            if let Some(window) = c.interval.intersect(v.window) {
                let edge = (c.event, c.other, v.ident, edge_kind);
                self.reach(v, edge, c.other, window, Came::Up);
            }
        }
        Ok(())
    }

    /// Devices attached to the thing (association children) while attached:
    /// their readings describe it.
    fn attached(&mut self, v: &Visit) -> Result<(), IndexError> {
        for c in self.graph.contents(v.ident, Kind::Association)? {
            if let Some(window) = c.interval.intersect(v.window) {
                let edge = (c.event, v.ident, c.other, EdgeKind::Association);
                self.reach(v, edge, c.other, window, Came::Up);
            }
        }
        Ok(())
    }

    /// What the thing held from its window's start on: each is affected from
    /// when it went in (or from the window's start) onwards.
    fn contents(&mut self, v: &Visit) -> Result<(), IndexError> {
        for c in self.graph.contents(v.ident, Kind::Aggregation)? {
            if c.interval.hi >= v.window.lo {
                let edge = (c.event, v.ident, c.other, EdgeKind::Aggregation);
                let window = Window::from(c.interval.lo.max(v.window.lo));
                self.reach(v, edge, c.other, window, Came::Down);
            }
        }
        Ok(())
    }

    /// Inverse of `contents` under `Affected`: a container whose affected
    /// window would reach the thing. With the thing's bound `hi`, a
    /// container that held it during `[a, b]` with `a ≤ hi` must be affected
    /// by `min(hi, b)`.
    fn ancestry_containers(&mut self, v: &Visit) -> Result<(), IndexError> {
        for c in self.graph.containers(v.ident, Kind::Aggregation)? {
            if c.interval.lo <= v.window.hi {
                let edge = (c.event, c.other, v.ident, EdgeKind::Aggregation);
                let window = Window::until(v.window.hi.min(c.interval.hi));
                self.reach(v, edge, c.other, window, Came::Up);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;
    use crate::testkit::*;
    use crate::{BlockUpdate, Index, Role};

    const A: &str = "urn:t:a";
    const B: &str = "urn:t:b";
    const CASE: &str = "urn:t:case";
    const PALLET: &str = "urn:t:pallet";

    /// Event numbers (see `testkit::hash`) of a trace.
    fn numbers(t: &Trace) -> Vec<u64> {
        t.events
            .iter()
            .map(|e| {
                let mut n = [0u8; 8];
                n.copy_from_slice(&e.hash[..8]);
                u64::from_be_bytes(n)
            })
            .collect()
    }

    fn nodes(t: &Trace) -> Vec<(&str, u32)> {
        t.nodes
            .iter()
            .map(|n| (n.identifier.as_str(), n.depth))
            .collect()
    }

    fn edges(t: &Trace) -> Vec<(&str, &str, u8, EdgeKind)> {
        t.edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str(), e.event[7], e.kind))
            .collect()
    }

    fn back(index: &Index, id: &str, depth: u32) -> Trace {
        index.trace(id, Direction::Back, depth).expect("trace")
    }

    fn forward(index: &Index, id: &str, depth: u32) -> Trace {
        index.trace(id, Direction::Forward, depth).expect("trace")
    }

    #[test]
    fn an_item_inherits_a_case_only_while_inside_it() {
        let mut t = TestIndex::new();
        t.events(vec![
            observe(7, 5, &[CASE]), // the case before anything was packed
            observe(1, 1, &[A, B]),
            aggregate(2, 10, "ADD", CASE, &[A, B]),
            aggregate(3, 20, "DELETE", CASE, &[A]), // A taken out…
            observe(4, 30, &[CASE]),                // …before the case shipped
            aggregate(5, 40, "DELETE", CASE, &[]),  // unpack everything
            observe(6, 50, &[CASE]),                // B no longer inside
        ]);
        let a = back(&t.index, A, 5);
        assert_eq!(numbers(&a), vec![1, 2, 3]);
        assert_eq!(nodes(&a), vec![(A, 0), (CASE, 1)]);
        assert_eq!(edges(&a), vec![(CASE, A, 2, EdgeKind::Aggregation)]);
        let b = back(&t.index, B, 5);
        assert_eq!(numbers(&b), vec![1, 2, 3, 4, 5]);
        // The case's own trace has all of it.
        assert_eq!(numbers(&back(&t.index, CASE, 5)), vec![7, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn nested_containers_intersect_their_windows() {
        let mut t = TestIndex::new();
        t.events(vec![
            aggregate(1, 5, "ADD", PALLET, &[CASE]), // case on pallet before A is packed
            aggregate(2, 10, "ADD", CASE, &[A]),
            observe(3, 15, &[PALLET]), // shipped with A inside
            aggregate(4, 25, "DELETE", PALLET, &[CASE]),
            observe(5, 35, &[PALLET]), // pallet ships without the case
            observe(6, 7, &[PALLET]),  // before A was in the case
        ]);
        let a = back(&t.index, A, 5);
        assert_eq!(nodes(&a), vec![(A, 0), (CASE, 1), (PALLET, 2)]);
        assert_eq!(numbers(&a), vec![1, 2, 3, 4]);
        assert_eq!(
            edges(&a),
            vec![
                (PALLET, CASE, 1, EdgeKind::Aggregation),
                (CASE, A, 2, EdgeKind::Aggregation),
            ]
        );
        // Depth bounds the walk.
        assert_eq!(nodes(&back(&t.index, A, 1)), vec![(A, 0), (CASE, 1)]);
        assert_eq!(numbers(&back(&t.index, A, 0)), vec![2]);
    }

    #[test]
    fn moving_to_another_container_ends_the_first() {
        let mut t = TestIndex::new();
        t.events(vec![
            aggregate(1, 10, "ADD", "urn:t:c1", &[A]),
            aggregate(2, 20, "ADD", "urn:t:c2", &[A]), // no DELETE from c1
            observe(3, 25, &["urn:t:c1"]),
            observe(4, 26, &["urn:t:c2"]),
        ]);
        assert_eq!(numbers(&back(&t.index, A, 3)), vec![1, 2, 4]);
    }

    const F1: &str = "https://id.gs1.org/01/09521234543213/10/FARM1";
    const F2: &str = "https://id.gs1.org/01/09521234543213/10/FARM2";
    const FLOUR1: &str = "https://id.gs1.org/01/09521234543220/10/FL1";
    const FLOUR2: &str = "https://id.gs1.org/01/09521234543220/10/FL2";
    const BREAD: &str = "https://id.gs1.org/01/09521234543237/10/BR1";
    const I1: &str = "https://id.gs1.org/01/09521234543244/21/1";
    const I2: &str = "https://id.gs1.org/01/09521234543244/21/2";
    const I3: &str = "https://id.gs1.org/01/09521234543244/21/3";

    fn bakery() -> TestIndex {
        use Role::*;
        let mut t = TestIndex::new();
        t.events(vec![
            event(1, "ObjectEvent", 1, Some("ADD"), &[(Quantity, F1)]),
            event(2, "ObjectEvent", 1, Some("ADD"), &[(Quantity, F2)]),
            transform(
                3,
                10,
                &[
                    (InputQuantity, F1),
                    (InputQuantity, F2),
                    (OutputQuantity, FLOUR1),
                ],
            ),
            transform(4, 12, &[(InputQuantity, F2), (OutputQuantity, FLOUR2)]),
            event(5, "ObjectEvent", 15, Some("OBSERVE"), &[(Quantity, F2)]),
            transform(6, 20, &[(InputQuantity, FLOUR1), (OutputQuantity, BREAD)]),
            transform(7, 30, &[(InputQuantity, BREAD), (Output, I1), (Output, I2)]),
            transform(8, 31, &[(InputQuantity, BREAD), (Output, I3)]),
        ]);
        t
    }

    #[test]
    fn trace_back_through_class_level_transformations() {
        let t = bakery();
        let tr = back(&t.index, "urn:epc:id:sgtin:9521234.054324.1", 5);
        assert_eq!(
            nodes(&tr),
            vec![(I1, 0), (BREAD, 1), (FLOUR1, 2), (F1, 3), (F2, 3)]
        );
        // Not 8 (the batch made into other items), 4 and 5 (the farm lot
        // after it went into this flour).
        assert_eq!(numbers(&tr), vec![1, 2, 3, 6, 7]);
        assert_eq!(
            edges(&tr),
            vec![
                (F1, FLOUR1, 3, EdgeKind::Transformation),
                (F2, FLOUR1, 3, EdgeKind::Transformation),
                (FLOUR1, BREAD, 6, EdgeKind::Transformation),
                (BREAD, I1, 7, EdgeKind::Transformation),
            ]
        );
        assert_eq!(nodes(&back(&t.index, I1, 2)).len(), 3);
    }

    #[test]
    fn trace_forward_through_class_level_transformations() {
        let t = bakery();
        let tr = forward(&t.index, F1, 10);
        assert_eq!(
            nodes(&tr),
            vec![(F1, 0), (FLOUR1, 1), (BREAD, 2), (I1, 3), (I2, 3), (I3, 3)]
        );
        assert_eq!(numbers(&tr), vec![1, 3, 6, 7, 8]);
        let f2 = forward(&t.index, F2, 10);
        let f2: Vec<_> = nodes(&f2).into_iter().map(|n| n.0).collect();
        assert_eq!(f2, vec![F2, FLOUR1, FLOUR2, BREAD, I1, I2, I3]);
        assert_eq!(
            t.index.affected(F1).expect("affected"),
            vec![FLOUR1, BREAD, I1, I2, I3]
        );
        assert!(t.index.affected(I1).expect("affected").is_empty());
        assert!(
            t.index
                .affected("urn:t:unknown")
                .expect("affected")
                .is_empty()
        );
    }

    #[test]
    fn transformation_id_links_inputs_and_outputs_recorded_apart() {
        use Role::*;
        let mut t = TestIndex::new();
        let mut inputs = transform(1, 10, &[(Input, A)]);
        inputs.transformation_id = Some("urn:t:tid:1".into());
        let mut outputs = transform(2, 11, &[(Output, B)]);
        outputs.transformation_id = Some("urn:t:tid:1".into());
        t.events(vec![inputs, outputs]);
        let tr = back(&t.index, B, 3);
        assert_eq!(nodes(&tr), vec![(B, 0), (A, 1)]);
        assert_eq!(edges(&tr), vec![(A, B, 1, EdgeKind::Transformation)]);
        assert_eq!(numbers(&tr), vec![1, 2]);
        let tr = forward(&t.index, A, 3);
        assert_eq!(nodes(&tr), vec![(A, 0), (B, 1)]);
        assert_eq!(edges(&tr), vec![(A, B, 2, EdgeKind::Transformation)]);
    }

    #[test]
    fn forward_follows_containers_up_and_contents_down() {
        let mut t = TestIndex::new();
        let mut ship = observe(3, 20, &[CASE]);
        ship.identifiers
            .push((Role::Destination, "urn:t:store".into()));
        t.events(vec![
            aggregate(1, 10, "ADD", CASE, &[A, B]),
            aggregate(2, 15, "ADD", PALLET, &[CASE]),
            ship,
            aggregate(4, 40, "DELETE", CASE, &[]),
            observe(5, 50, &[CASE]),
        ]);
        let a = forward(&t.index, A, 5);
        // A's containers and where they went while A was inside; not B.
        assert_eq!(nodes(&a), vec![(A, 0), (CASE, 1), (PALLET, 2)]);
        assert_eq!(numbers(&a), vec![1, 2, 3, 4]);
        let case = forward(&t.index, CASE, 5);
        assert_eq!(nodes(&case), vec![(CASE, 0), (PALLET, 1), (A, 1), (B, 1)]);
        let pallet = forward(&t.index, PALLET, 5);
        assert_eq!(nodes(&pallet), vec![(PALLET, 0), (CASE, 1), (A, 2), (B, 2)]);
        assert_eq!(
            t.index.affected(PALLET).expect("affected"),
            vec![CASE, A, B]
        );
    }

    #[test]
    fn attached_sensors_describe_the_asset_while_attached() {
        let mut t = TestIndex::new();
        let sensor = "urn:t:sensor";
        t.events(vec![
            associate(1, 10, "ADD", PALLET, &[sensor]),
            observe(2, 15, &[sensor]),
            associate(3, 20, "DELETE", PALLET, &[sensor]),
            observe(4, 25, &[sensor]),
        ]);
        let tr = back(&t.index, PALLET, 3);
        assert_eq!(nodes(&tr), vec![(PALLET, 0), (sensor, 1)]);
        assert_eq!(numbers(&tr), vec![1, 2, 3]);
        assert_eq!(edges(&tr), vec![(PALLET, sensor, 1, EdgeKind::Association)]);
        let tr = back(&t.index, sensor, 3);
        assert_eq!(nodes(&tr), vec![(sensor, 0), (PALLET, 1)]);
    }

    #[test]
    fn events_declared_in_error_link_nothing() {
        use Role::*;
        let mut t = TestIndex::new();
        t.events(vec![
            aggregate(1, 10, "ADD", CASE, &[A]),
            observe(2, 20, &[CASE]),
            transform(3, 30, &[(Input, B), (Output, A)]),
        ]);
        assert_eq!(nodes(&back(&t.index, A, 3)).len(), 3);
        t.block(vec![
            BlockUpdate::DeclaredInError {
                original: hash(1),
                declaration: hash(9),
            },
            BlockUpdate::DeclaredInError {
                original: hash(3),
                declaration: hash(9),
            },
        ]);
        let tr = back(&t.index, A, 3);
        assert_eq!(nodes(&tr), vec![(A, 0)]);
        // Still shown, marked.
        assert_eq!(numbers(&tr), vec![1, 3]);
        assert!(
            tr.events
                .iter()
                .all(|e| e.declared_in_error == Some(hash(9)))
        );
    }

    #[test]
    fn cycles_terminate() {
        use Role::*;
        let mut t = TestIndex::new();
        t.events(vec![
            transform(1, 10, &[(Input, A), (Output, B)]),
            transform(2, 20, &[(Input, B), (Output, A)]),
            aggregate(3, 30, "ADD", A, &[B]),
            aggregate(4, 40, "ADD", B, &[A]),
            transform(5, 50, &[(Input, A), (Output, A)]),
        ]);
        for dir in [Direction::Back, Direction::Forward] {
            let tr = t.index.trace(A, dir, u32::MAX).expect("trace");
            let ids: BTreeSet<_> = tr.nodes.iter().map(|n| n.identifier.as_str()).collect();
            assert_eq!(ids, BTreeSet::from([A, B]));
        }
        assert_eq!(t.index.affected(A).expect("affected"), vec![B]);
        t.block(vec![BlockUpdate::Recalled {
            identifier: B.into(),
            by_tx: [1; 32],
            reason: "r".into(),
        }]);
        assert_eq!(t.index.recalls_of(A).expect("recalls").len(), 1);
    }

    #[test]
    fn recalls_reach_everything_derived_and_contained() {
        let mut t = bakery();
        t.events(vec![aggregate(20, 40, "ADD", CASE, &[I3])]);
        t.block(vec![BlockUpdate::Recalled {
            identifier: F1.into(),
            by_tx: [4; 32],
            reason: "aflatoxin".into(),
        }]);
        let recalls = t
            .index
            .recalls_of("urn:epc:id:sgtin:9521234.054324.3")
            .expect("recalls");
        assert_eq!(recalls.len(), 1);
        assert_eq!(recalls[0].identifier, F1);
        assert_eq!(recalls[0].reason, "aflatoxin");
        assert_eq!(recalls[0].by_tx, [4; 32]);
        assert!(t.index.recalls_of(FLOUR2).expect("recalls").is_empty());
        // The case holding a recalled item is not itself recalled…
        assert!(t.index.recalls_of(CASE).expect("recalls").is_empty());
        // …but recalling a case recalls what it holds.
        t.block(vec![BlockUpdate::Recalled {
            identifier: CASE.into(),
            by_tx: [5; 32],
            reason: "damaged".into(),
        }]);
        let recalls = t.index.recalls_of(I3).expect("recalls");
        let who: Vec<_> = recalls.iter().map(|r| r.identifier.as_str()).collect();
        assert_eq!(who, vec![F1, CASE]);
        assert!(t.index.recalls_of(I1).expect("recalls").len() == 1);
    }

    #[test]
    fn traces_of_a_real_capture() {
        let t = index_document(EPCIS_DOC);
        let item = "urn:epc:id:sgtin:0614141.107346.2017";
        let tr = back(&t.index, item, 5);
        assert_eq!(
            nodes(&tr),
            vec![
                ("https://id.gs1.org/01/10614141073464/21/2017", 0),
                ("https://id.gs1.org/00/106141412345678908", 1),
            ]
        );
        // Commissioning, packing, and the case's shipping while inside.
        assert_eq!(tr.events.len(), 3);
        assert_eq!(tr.edges[0].kind, EdgeKind::Aggregation);
        let made = back(&t.index, "urn:epc:id:sgtin:0614141.107346.3000", 5);
        assert_eq!(
            nodes(&made)[1],
            ("https://id.gs1.org/01/04012345111118/10/4444", 1)
        );
        assert_eq!(
            t.index
                .affected("urn:epc:class:lgtin:4012345.011111.4444")
                .expect("affected"),
            vec!["https://id.gs1.org/01/10614141073464/21/3000"]
        );
    }

    #[test]
    fn an_unknown_identifier_traces_to_itself() {
        let t = TestIndex::new();
        let tr = back(&t.index, "urn:epc:id:sgtin:0614141.107346.2018", 5);
        assert_eq!(
            nodes(&tr),
            vec![("https://id.gs1.org/01/10614141073464/21/2018", 0)]
        );
        assert!(tr.events.is_empty() && tr.edges.is_empty());
    }

    // ---- property: recall ancestry is the inverse of recall impact --------

    const THINGS: [&str; 6] = [
        "urn:t:0", "urn:t:1", "urn:t:2", "urn:t:3", "urn:t:4", "urn:t:5",
    ];

    #[derive(Debug, Clone)]
    enum Op {
        Aggregate(u8, usize, Vec<usize>),
        Transform(Option<u8>, Vec<(bool, usize)>, Vec<(bool, usize)>),
        Error(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        let thing = 0..THINGS.len();
        prop_oneof![
            3 => (0..3u8, thing.clone(), proptest::collection::vec(thing.clone(), 0..3))
                .prop_map(|(a, p, c)| Op::Aggregate(a, p, c)),
            2 => (proptest::option::of(0..2u8),
                  proptest::collection::vec((any::<bool>(), thing.clone()), 0..3),
                  proptest::collection::vec((any::<bool>(), thing.clone()), 0..3))
                .prop_map(|(tid, i, o)| Op::Transform(tid, i, o)),
            1 => (0..40usize).prop_map(Op::Error),
        ]
    }

    fn to_update(n: u64, time: i64, op: &Op) -> BlockUpdate {
        match op {
            Op::Aggregate(action, parent, children) => {
                let children: Vec<&str> = children.iter().map(|c| THINGS[*c]).collect();
                let action = ["ADD", "OBSERVE", "DELETE"][usize::from(*action)];
                BlockUpdate::Event(aggregate(n, time, action, THINGS[*parent], &children))
            }
            Op::Transform(tid, inputs, outputs) => {
                let mut ids = Vec::new();
                for (class, i) in inputs {
                    ids.push((
                        if *class {
                            Role::InputQuantity
                        } else {
                            Role::Input
                        },
                        THINGS[*i],
                    ));
                }
                for (class, o) in outputs {
                    ids.push((
                        if *class {
                            Role::OutputQuantity
                        } else {
                            Role::Output
                        },
                        THINGS[*o],
                    ));
                }
                let mut e = transform(n, time, &ids);
                e.transformation_id = tid.map(|t| format!("urn:t:tid:{t}"));
                BlockUpdate::Event(e)
            }
            Op::Error(k) => BlockUpdate::DeclaredInError {
                original: hash(*k as u64 + 1),
                declaration: hash(999),
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn recalls_of_is_the_inverse_of_affected(
            ops in proptest::collection::vec((op(), 0..20i64), 1..25),
        ) {
            let mut t = TestIndex::new();
            for (n, (op, time)) in ops.iter().enumerate() {
                t.block(vec![to_update(n as u64 + 1, *time, op)]);
            }
            for (k, thing) in THINGS.iter().enumerate() {
                t.block(vec![BlockUpdate::Recalled {
                    identifier: (*thing).into(),
                    by_tx: [k as u8; 32],
                    reason: String::new(),
                }]);
            }
            for y in THINGS {
                let affected = t.index.affected(y).expect("affected");
                let forward: BTreeSet<String> = t
                    .index
                    .trace(y, Direction::Forward, 1_000)
                    .expect("trace")
                    .nodes
                    .into_iter()
                    .map(|n| n.identifier)
                    .collect();
                for x in THINGS {
                    if x == y {
                        continue;
                    }
                    let is_affected = affected.iter().any(|a| a == x);
                    let recalled_by_y = t
                        .index
                        .recalls_of(x)
                        .expect("recalls")
                        .iter()
                        .any(|r| r.identifier == y);
                    prop_assert_eq!(is_affected, recalled_by_y, "x={} y={}", x, y);
                    prop_assert!(!is_affected || forward.contains(x));
                }
            }
        }
    }
}
