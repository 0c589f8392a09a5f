//! Connectivity checks that run before any factorization, so that a
//! floating node or a loop of voltage sources is reported by name rather
//! than as a singular matrix.

use std::collections::VecDeque;

use crate::devices::{Device, LinkKind};
use crate::error::NodalError;
use crate::matrix::Unknown;

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Joins the sets of `a` and `b`; `false` if they were already one.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        self.parent[ra] = rb;
        true
    }
}

/// Checks that every node has a path to ground (through elements that
/// conduct at DC, plus capacitors when `capacitors_conduct`) and that no
/// voltage sources form a loop. `nodes` are the circuit's node names, whose
/// unknowns are `0..nodes.len()`.
pub fn check(
    nodes: &[String],
    devices: &[Box<dyn Device>],
    capacitors_conduct: bool,
) -> Result<(), NodalError> {
    let n = nodes.len();
    let ground = n;
    // Internal unknowns (a diode's series-resistance node) are reached only
    // through their own device, so they never float on their own.
    let idx = |u: Unknown| u.filter(|&i| i < n).unwrap_or(ground);
    let mut conn = UnionFind::new(n + 1);
    let mut sources = UnionFind::new(n + 1);
    // Adjacency of the voltage-source forest built so far: (neighbour, device).
    let mut forest: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n + 1];
    for (k, d) in devices.iter().enumerate() {
        for link in d.links() {
            let (a, b) = (idx(link.a), idx(link.b));
            match link.kind {
                LinkKind::Conductive => {
                    conn.union(a, b);
                }
                LinkKind::Capacitive => {
                    if capacitors_conduct {
                        conn.union(a, b);
                    }
                }
                LinkKind::VoltageSource => {
                    conn.union(a, b);
                    if !sources.union(a, b) {
                        let mut names: Vec<String> = path(&forest, a, b)
                            .into_iter()
                            .map(|j| devices[j].name().to_string())
                            .collect();
                        names.push(d.name().to_string());
                        return Err(NodalError::VoltageSourceLoop { sources: names });
                    }
                    forest[a].push((b, k));
                    forest[b].push((a, k));
                }
            }
        }
    }
    let root = conn.find(ground);
    let floating: Vec<String> = (0..n)
        .filter(|&i| conn.find(i) != root)
        .map(|i| nodes[i].clone())
        .collect();
    if floating.is_empty() {
        Ok(())
    } else {
        Err(NodalError::FloatingNodes {
            nodes: floating,
            dc_only: !capacitors_conduct,
        })
    }
}

/// Devices on the path from `from` to `to` in the source forest.
fn path(forest: &[Vec<(usize, usize)>], from: usize, to: usize) -> Vec<usize> {
    let mut prev: Vec<Option<(usize, usize)>> = vec![None; forest.len()];
    let mut seen = vec![false; forest.len()];
    let mut queue = VecDeque::from([from]);
    seen[from] = true;
    while let Some(u) = queue.pop_front() {
        if u == to {
            break;
        }
        for &(v, dev) in &forest[u] {
            if !seen[v] {
                seen[v] = true;
                prev[v] = Some((u, dev));
                queue.push_back(v);
            }
        }
    }
    let mut out = Vec::new();
    let mut at = to;
    while let Some((u, dev)) = prev[at] {
        out.push(dev);
        at = u;
    }
    out.reverse();
    out
}
