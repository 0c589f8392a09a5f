//! Operation counters and the energy they cost.

use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign};

/// Counts of the operations performed by peripheral blocks.
///
/// Each block keeps its own counters (see `activity()` on [`crate::AdcBank`],
/// [`crate::LifLayer`], ...); sum them with `+`/`+=` to report a tile, a layer
/// or a whole inference, also across threads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Analog-to-digital conversions (one per column per read).
    pub adc_conversions: u64,
    /// Conversions whose input lay outside the ADC full-scale range.
    pub adc_saturations: u64,
    /// Array read operations (one per applied input vector or input phase).
    pub array_reads: u64,
    /// Non-zero read pulses applied by row drivers.
    pub input_pulses: u64,
    /// Sense-amplifier decisions (binary reads of a cell against a reference).
    pub sense_ops: u64,
    /// Transimpedance-amplifier samples (one per column per read).
    pub tia_samples: u64,
    /// Neuron state updates (one per neuron per time step).
    pub neuron_updates: u64,
    /// Output spikes.
    pub spikes: u64,
}

impl AddAssign for Activity {
    fn add_assign(&mut self, o: Self) {
        self.adc_conversions += o.adc_conversions;
        self.adc_saturations += o.adc_saturations;
        self.array_reads += o.array_reads;
        self.input_pulses += o.input_pulses;
        self.sense_ops += o.sense_ops;
        self.tia_samples += o.tia_samples;
        self.neuron_updates += o.neuron_updates;
        self.spikes += o.spikes;
    }
}

impl Add for Activity {
    type Output = Self;
    fn add(mut self, o: Self) -> Self {
        self += o;
        self
    }
}

impl std::iter::Sum for Activity {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), Add::add)
    }
}

/// Energy per operation, in joules. Every cost defaults to zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnergyModel {
    /// J per ADC conversion.
    pub adc_conversion: f64,
    /// J per array read (whole-array overhead: decoders, precharge).
    pub array_read: f64,
    /// J per non-zero row pulse (driver plus the charge the row draws).
    pub input_pulse: f64,
    /// J per sense-amplifier decision.
    pub sense_op: f64,
    /// J per TIA sample.
    pub tia_sample: f64,
    /// J per neuron update.
    pub neuron_update: f64,
    /// J per output spike.
    pub spike: f64,
}

/// Energy of an [`Activity`] record, split by operation kind (J).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct EnergyReport {
    /// ADC conversions.
    pub adc: f64,
    /// Array read overheads.
    pub array_read: f64,
    /// Row pulses.
    pub input_pulse: f64,
    /// Sense-amplifier decisions.
    pub sense: f64,
    /// TIA samples.
    pub tia: f64,
    /// Neuron updates.
    pub neuron_update: f64,
    /// Output spikes.
    pub spike: f64,
}

impl EnergyReport {
    /// Total energy (J).
    pub fn total(&self) -> f64 {
        self.adc
            + self.array_read
            + self.input_pulse
            + self.sense
            + self.tia
            + self.neuron_update
            + self.spike
    }
}

impl EnergyModel {
    /// Checks that every cost is finite and non-negative.
    pub fn validate(&self) -> Result<(), crate::PeriphError> {
        let c = crate::error::Check("energy");
        c.non_negative("adc_conversion", self.adc_conversion)?;
        c.non_negative("array_read", self.array_read)?;
        c.non_negative("input_pulse", self.input_pulse)?;
        c.non_negative("sense_op", self.sense_op)?;
        c.non_negative("tia_sample", self.tia_sample)?;
        c.non_negative("neuron_update", self.neuron_update)?;
        c.non_negative("spike", self.spike)
    }

    /// Energy spent by the operations in `a`.
    pub fn energy(&self, a: &Activity) -> EnergyReport {
        // u64 -> f64 is exact below 2^53 operations, far beyond any run.
        EnergyReport {
            adc: self.adc_conversion * a.adc_conversions as f64,
            array_read: self.array_read * a.array_reads as f64,
            input_pulse: self.input_pulse * a.input_pulses as f64,
            sense: self.sense_op * a.sense_ops as f64,
            tia: self.tia_sample * a.tia_samples as f64,
            neuron_update: self.neuron_update * a.neuron_updates as f64,
            spike: self.spike * a.spikes as f64,
        }
    }
}
