//! xbar-periph: the circuits around a memristor crossbar that turn spikes
//! into read voltages and column currents back into spikes.
//!
//! - [`InputDriver`]: spikes as `v_read` pulses, multi-bit inputs bit-serial or
//!   pulse-width, the driver's output resistance and amplitude mismatch.
//! - [`Tia`]: transimpedance stage with finite op-amp gain (the column's
//!   virtual ground is not at 0 V), gain and offset errors, noise;
//!   [`SenseAmp`]: current comparator for binary cells.
//! - [`AdcBank`]: column ADCs, 1-16 bits or ideal, fixed or calibrated
//!   (percentile, per column or per tile) range, signed or unsigned, offset,
//!   gain, INL/DNL (table or seeded random), input-referred noise, saturation
//!   counting.
//! - [`LifLayer`]: the paper's discrete LIF neuron `V(t) = V(t-1) + sum O W +
//!   V_leak` with reset to a value or by subtraction, refractory steps,
//!   constant or multiplicative leak, threshold variability, membrane noise.
//! - [`AnalogIfNeuron`]: the circuit view (membrane capacitor, leak
//!   conductance, comparator with offset), integrated exactly, and its
//!   discrete equivalent ([`AnalogIfConfig::discretise`]).
//! - [`Activity`] and [`EnergyModel`]: operation counts and their energy.
//!
//! Configurations are serde structs with every non-ideality off by default and
//! unknown keys rejected, so a TOML file can carry `[adc]`, `[lif]`, ...
//! tables. Everything random is keyed by a seed: per-device draws by (seed,
//! device index), noise by (seed, stream id), never by thread. The hot paths
//! ([`AdcBank::convert`], [`LifLayer::step`]) work on caller-owned slices and do
//! not allocate. This crate depends on no other xbar crate; all quantities are
//! SI (A, V, ohm, F, s, J) except LIF potentials, which are in the units of
//! the synaptic input.
//!
//! ```
//! use xbar_periph::{AdcBank, LifLayer, PeriphConfig};
//!
//! let cfg: PeriphConfig = toml::from_str(
//!     "[adc]\nbits = 6\nrange = \"p99\"\n[lif]\nv_th = 1.0\nv_leak = -0.01\n",
//! )?;
//! cfg.validate()?;
//! // Ranges from column currents of calibration images (samples x columns).
//! let calibration: Vec<f64> = (0..400).map(|k| 1e-6 * ((k * 7) % 13) as f64).collect();
//! let mut adc = AdcBank::calibrated(&cfg.adc, 4, 42, &calibration)?;
//! let mut lif = LifLayer::new(&cfg.lif, 4, 42)?;
//! let (mut digital, mut spikes) = (vec![0.0; 4], vec![false; 4]);
//! for image in 0..2 {
//!     adc.reseed(image);
//!     lif.reset(image);
//!     for _step in 0..10 {
//!         adc.convert(&[3e-6, 8e-6, -1e-6, 20e-6], &mut digital)?;
//!         // Scale currents to membrane units as the network's weights dictate.
//!         let input: Vec<f64> = digital.iter().map(|i| i * 1e5).collect();
//!         lif.step(&input, &mut spikes)?;
//!     }
//! }
//! let activity = adc.activity() + lif.activity();
//! assert_eq!(activity.adc_conversions, 80);
//! assert_eq!(activity.neuron_updates, 80);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod activity;
pub mod adc;
pub mod analog;
pub mod driver;
mod error;
pub mod lif;
mod seed;
pub mod sense;

pub use activity::{Activity, EnergyModel, EnergyReport};
pub use adc::{percentile_of, AdcBank, AdcConfig, CalibrationScope, RangeSpec};
pub use analog::{AnalogIfConfig, AnalogIfNeuron, Discretised};
pub use driver::{DriverConfig, InputDriver, InputEncoding};
pub use error::PeriphError;
pub use lif::{LifConfig, LifInput, LifLayer, ResetMode};
pub use sense::{SenseAmp, SenseAmpConfig, Tia, TiaConfig};

use serde::{Deserialize, Serialize};

/// All peripheral settings as one document: the `[adc]`, `[lif]`, `[driver]`,
/// `[tia]`, `[sense_amp]`, `[analog_if]` and `[energy]` tables, each optional
/// and each defaulting to the ideal block. Unknown tables and keys are
/// errors, so a misspelt non-ideality is never silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeriphConfig {
    pub adc: AdcConfig,
    pub lif: LifConfig,
    pub driver: DriverConfig,
    pub tia: TiaConfig,
    pub sense_amp: SenseAmpConfig,
    pub analog_if: AnalogIfConfig,
    pub energy: EnergyModel,
}

impl PeriphConfig {
    /// Validates every table; the error names the table and the key.
    pub fn validate(&self) -> Result<(), PeriphError> {
        self.adc.validate()?;
        self.lif.validate()?;
        self.driver.validate()?;
        self.tia.validate()?;
        self.sense_amp.validate()?;
        self.analog_if.validate()?;
        self.energy.validate()
    }
}
