//! Structural checks that make a deck unsolvable whatever the numbers: a node
//! with no DC path to ground, and a loop of voltage sources. Caught here so
//! the message points at the deck's lines instead of a singular matrix.

use std::collections::{HashMap, VecDeque};

use crate::circuit::{Analysis, Behavior, Circuit, Element, ElementKind};
use crate::error::{ErrorKind, NetlistError};

/// Union-find over node indices.
struct Sets {
    parent: Vec<usize>,
}

impl Sets {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        self.parent[ra] = rb;
        ra != rb
    }
}

/// Pairs of terminals an element connects with a DC (conductive) path.
fn dc_paths(element: &Element, capacitors_conduct: bool) -> Vec<(usize, usize)> {
    match element.kind {
        ElementKind::Resistor { .. }
        | ElementKind::VoltageSource(_)
        | ElementKind::Diode { .. }
        | ElementKind::Memristor { .. } => vec![(0, 1)],
        // A behavioural current usually depends on its own voltage (a
        // resistor `r={...}`, a memristor's port); one that does not leaves
        // the engine a singular matrix to report.
        ElementKind::Behavioral {
            quantity: Behavior::Voltage | Behavior::Current,
            ..
        } => vec![(0, 1)],
        ElementKind::Capacitor { .. }
        | ElementKind::Behavioral {
            quantity: Behavior::Capacitance | Behavior::Charge,
            ..
        } if capacitors_conduct => vec![(0, 1)],
        ElementKind::Behavioral { .. } => vec![],
        // Channel and bulk junctions join drain, source and bulk; the gate is insulated.
        ElementKind::Mosfet { .. } => vec![(0, 2), (2, 3)],
        ElementKind::Capacitor { .. } | ElementKind::CurrentSource(_) => vec![],
    }
}

pub fn check(circuit: &Circuit) -> Result<(), NetlistError> {
    let mut index: HashMap<&str, usize> = HashMap::from([("0", 0)]);
    let mut names = vec!["0"];
    for element in &circuit.elements {
        for node in &element.nodes {
            index.entry(node.as_str()).or_insert_with(|| {
                names.push(node.as_str());
                names.len() - 1
            });
        }
    }
    voltage_loops(circuit, &index)?;

    // Without an operating point (every analysis a `uic` transient) a
    // capacitor's companion conductance ties its nodes from the first step.
    let capacitors_conduct = !circuit.analyses.is_empty()
        && circuit
            .analyses
            .iter()
            .all(|a| matches!(a, Analysis::Tran { uic: true, .. }));
    let mut sets = Sets {
        parent: (0..names.len()).collect(),
    };
    for element in &circuit.elements {
        for (a, b) in dc_paths(element, capacitors_conduct) {
            sets.union(
                index[element.nodes[a].as_str()],
                index[element.nodes[b].as_str()],
            );
        }
    }
    let ground = sets.find(0);
    let floating: Vec<usize> = (1..names.len())
        .filter(|&n| sets.find(n) != ground)
        .collect();
    let mut is_floating = vec![false; names.len()];
    for &n in &floating {
        is_floating[n] = true;
    }
    // Report at the first element (in deck order) touching a floating node.
    let Some((element, first)) = circuit.elements.iter().find_map(|e| {
        e.nodes
            .iter()
            .map(|n| index[n.as_str()])
            .find(|&n| is_floating[n])
            .map(|n| (e, n))
    }) else {
        return Ok(());
    };
    let listed: Vec<String> = floating
        .iter()
        .take(8)
        .map(|&n| format!("`{}`", names[n]))
        .collect();
    let more = if floating.len() > 8 {
        format!(" and {} more", floating.len() - 8)
    } else {
        String::new()
    };
    let message = format!(
        "floating node: {}{more} {} no DC path to ground (first connected by `{}`)",
        listed.join(", "),
        if floating.len() == 1 { "has" } else { "have" },
        element.name
    );
    Err(NetlistError::new(
        &element.loc,
        ErrorKind::Topology(message),
        names[first],
    ))
}

/// A voltage source whose two nodes are already joined by other voltage
/// sources closes a loop: KVL then over-determines the branch currents.
fn voltage_loops(circuit: &Circuit, index: &HashMap<&str, usize>) -> Result<(), NetlistError> {
    let mut sets = Sets {
        parent: (0..index.len()).collect(),
    };
    let mut adjacency: HashMap<usize, Vec<(usize, &str)>> = HashMap::new();
    for element in &circuit.elements {
        let voltage_defined = matches!(
            element.kind,
            ElementKind::VoltageSource(_)
                | ElementKind::Behavioral {
                    quantity: Behavior::Voltage,
                    ..
                }
        );
        if !voltage_defined {
            continue;
        }
        let (a, b) = (
            index[element.nodes[0].as_str()],
            index[element.nodes[1].as_str()],
        );
        if !sets.union(a, b) {
            let mut loop_names = path(&adjacency, a, b);
            loop_names.push(element.name.clone());
            let listed: Vec<String> = loop_names.iter().map(|n| format!("`{n}`")).collect();
            let message = format!("loop of voltage sources: {}", listed.join(", "));
            return Err(NetlistError::new(
                &element.loc,
                ErrorKind::Topology(message),
                element.name.clone(),
            ));
        }
        adjacency.entry(a).or_default().push((b, &element.name));
        adjacency.entry(b).or_default().push((a, &element.name));
    }
    Ok(())
}

/// Names of the sources on the path from `from` to `to` in the source forest.
fn path(adjacency: &HashMap<usize, Vec<(usize, &str)>>, from: usize, to: usize) -> Vec<String> {
    let mut previous: HashMap<usize, (usize, &str)> = HashMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(node) = queue.pop_front() {
        if node == to {
            break;
        }
        for &(next, name) in adjacency.get(&node).into_iter().flatten() {
            if next != from && !previous.contains_key(&next) {
                previous.insert(next, (node, name));
                queue.push_back(next);
            }
        }
    }
    let mut names = Vec::new();
    let mut node = to;
    while let Some(&(prev, name)) = previous.get(&node) {
        names.push(name.to_string());
        node = prev;
    }
    names.reverse();
    names
}
