//! What the shared-weight accelerator is made of, and how many clock cycles
//! a frame takes under a stated schedule.
//!
//! # Schedule (one core per layer, [`CLOCK_HZ`])
//! Per time step, core `l` serves each spike of layer `l - 1` by streaming
//! that input's `n_out` 4-bit indices; each cycle it reads one row of its
//! 16 x 16 table (the weight that index names; 16 bit lines sensed at once)
//! and adds it into one of the `n_out` membrane accumulators, so one
//! synapse event costs one cycle. After the events, the LIF update and
//! threshold compare take one cycle per neuron. Cores form a pipeline over
//! layers (core `l` works on step `t` while core `l + 1` works on step
//! `t - 1`), so a frame takes as long as the busiest core. Spike counts are
//! the measured averages of the run, so the numbers are those of the
//! simulated images.

use crate::quant::LEVELS;
use crate::shared::BITS;
use crate::snn::Outcome;

/// Clock of the paper's RTL.
pub const CLOCK_HZ: f64 = 50e6;

/// The paper's figures (Acta Phys. Sin. 71, 148401, 2022).
pub const PAPER_MEMRISTORS: f64 = 750.0;
pub const PAPER_NEURONS: f64 = 24e3;
pub const PAPER_SYNAPSES: f64 = 192e6;
pub const PAPER_FRAMES_PER_S: f64 = 148.2;

/// One core (layer) of the accelerator.
#[derive(Clone, Debug, PartialEq)]
pub struct Core {
    pub inputs: usize,
    pub neurons: usize,
    /// Binary memristors of the shared-weight table.
    pub memristors: usize,
    pub synapses: usize,
    /// Bits of synapse index memory.
    pub index_bits: usize,
    /// Average input spikes per frame (all time steps).
    pub spikes_in: f64,
    /// Synapse events plus LIF updates per frame.
    pub cycles: f64,
}

/// The whole accelerator for one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Resources {
    pub cores: Vec<Core>,
    pub timesteps: usize,
}

impl Resources {
    /// Counts from the run's measured spike totals.
    pub fn from_outcome(outcome: &Outcome) -> Self {
        let images = outcome.images().max(1) as f64;
        let cores = outcome
            .sizes
            .windows(2)
            .enumerate()
            .map(|(l, w)| {
                let (inputs, neurons) = (w[0], w[1]);
                let spikes_in = outcome.layer_spikes[l] as f64 / images;
                Core {
                    inputs,
                    neurons,
                    memristors: LEVELS * BITS,
                    synapses: inputs * neurons,
                    index_bits: 4 * inputs * neurons,
                    spikes_in,
                    cycles: spikes_in * neurons as f64 + (outcome.timesteps * neurons) as f64,
                }
            })
            .collect();
        Resources {
            cores,
            timesteps: outcome.timesteps,
        }
    }

    pub fn memristors(&self) -> usize {
        self.cores.iter().map(|c| c.memristors).sum()
    }

    pub fn neurons(&self) -> usize {
        self.cores.iter().map(|c| c.neurons).sum()
    }

    pub fn synapses(&self) -> usize {
        self.cores.iter().map(|c| c.synapses).sum()
    }

    /// Cycles per frame of the layer pipeline: the busiest core's.
    pub fn cycles_per_frame(&self) -> f64 {
        self.cores.iter().map(|c| c.cycles).fold(0.0, f64::max)
    }

    /// Cycles per frame if the cores ran one after the other.
    pub fn serial_cycles_per_frame(&self) -> f64 {
        self.cores.iter().map(|c| c.cycles).sum()
    }

    pub fn frames_per_s(&self) -> f64 {
        CLOCK_HZ / self.cycles_per_frame().max(1.0)
    }

    /// Rows `scope,quantity,value,paper` for `resources.csv`: every core,
    /// then the totals next to the paper's.
    pub fn rows(&self) -> Vec<[String; 4]> {
        let mut rows = vec![[
            "scope".to_string(),
            "quantity".to_string(),
            "value".to_string(),
            "paper".to_string(),
        ]];
        let mut push = |scope: &str, q: &str, v: f64, paper: Option<f64>| {
            rows.push([
                scope.to_string(),
                q.to_string(),
                v.to_string(),
                paper.map_or(String::new(), |p| p.to_string()),
            ])
        };
        for (l, c) in self.cores.iter().enumerate() {
            let scope = format!("core{}", l + 1);
            push(&scope, "inputs", c.inputs as f64, None);
            push(&scope, "neurons", c.neurons as f64, None);
            push(&scope, "memristors", c.memristors as f64, Some(256.0));
            push(&scope, "synapses", c.synapses as f64, None);
            push(&scope, "index_bits", c.index_bits as f64, None);
            push(&scope, "input_spikes_per_frame", c.spikes_in, None);
            push(&scope, "cycles_per_frame", c.cycles, None);
        }
        push(
            "total",
            "memristors",
            self.memristors() as f64,
            Some(PAPER_MEMRISTORS),
        );
        push(
            "total",
            "neurons",
            self.neurons() as f64,
            Some(PAPER_NEURONS),
        );
        push(
            "total",
            "synapses",
            self.synapses() as f64,
            Some(PAPER_SYNAPSES),
        );
        push("total", "timesteps", self.timesteps as f64, None);
        push("total", "cycles_per_frame", self.cycles_per_frame(), None);
        push(
            "total",
            "serial_cycles_per_frame",
            self.serial_cycles_per_frame(),
            None,
        );
        push("total", "clock_hz", CLOCK_HZ, Some(CLOCK_HZ));
        push(
            "total",
            "frames_per_s",
            self.frames_per_s(),
            Some(PAPER_FRAMES_PER_S),
        );
        rows
    }
}
