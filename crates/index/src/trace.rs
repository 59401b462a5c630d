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
