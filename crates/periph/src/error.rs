use thiserror::Error;

/// Everything that can go wrong when configuring or running a peripheral block.
///
/// Every variant names the component (`"adc"`, `"lif"`, ...) and the offending
/// field or index, so that a message printed by the CLI points at the TOML key
/// or the array element to fix.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PeriphError {
    /// A configuration value is out of its physical or logical domain.
    #[error("{component}: invalid `{field}` = {value}: {reason}")]
    InvalidParameter {
        component: &'static str,
        field: &'static str,
        value: String,
        reason: String,
    },
    /// A slice passed to a vectorised call does not have the expected length.
    #[error("{component}: `{what}` has {got} elements, expected {expected}")]
    LengthMismatch {
        component: &'static str,
        what: &'static str,
        got: usize,
        expected: usize,
    },
    /// NaN (or, where it matters, an infinity) in data handed to a block.
    #[error("{component}: non-finite value {value} in `{what}` at index {index}")]
    NonFinite {
        component: &'static str,
        what: &'static str,
        index: usize,
        value: f64,
    },
    /// The ADC range is `calibrated` but no calibration data was given.
    #[error("adc: `range` is calibrated ({spec}); build the bank with `AdcBank::calibrated` and calibration data")]
    NeedsCalibration { spec: String },
    /// Calibration data from which no usable full-scale range follows.
    #[error("adc: calibration gives a zero full-scale range for the whole tile (all {samples} calibration values are zero or of the wrong sign)")]
    ZeroRange { samples: usize },
}

impl PeriphError {
    pub(crate) fn invalid(
        component: &'static str,
        field: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidParameter {
            component,
            field,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

/// Checks a slice length of a vectorised call.
pub(crate) fn check_len(
    component: &'static str,
    what: &'static str,
    got: usize,
    expected: usize,
) -> Result<(), PeriphError> {
    if got == expected {
        Ok(())
    } else {
        Err(PeriphError::LengthMismatch {
            component,
            what,
            got,
            expected,
        })
    }
}

/// Rejects NaN anywhere in `values`; infinities are left to the caller's policy.
pub(crate) fn check_not_nan<T: Copy + Into<f64>>(
    component: &'static str,
    what: &'static str,
    values: &[T],
) -> Result<(), PeriphError> {
    match values.iter().position(|&x| x.into().is_nan()) {
        None => Ok(()),
        Some(index) => Err(PeriphError::NonFinite {
            component,
            what,
            index,
            value: values[index].into(),
        }),
    }
}

/// Validation helpers shared by the config structs.
pub(crate) struct Check(pub &'static str);

impl Check {
    pub fn finite(&self, field: &'static str, v: f64) -> Result<(), PeriphError> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(PeriphError::invalid(self.0, field, v, "must be finite"))
        }
    }

    pub fn non_negative(&self, field: &'static str, v: f64) -> Result<(), PeriphError> {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(PeriphError::invalid(
                self.0,
                field,
                v,
                "must be finite and >= 0",
            ))
        }
    }

    pub fn positive(&self, field: &'static str, v: f64) -> Result<(), PeriphError> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(PeriphError::invalid(
                self.0,
                field,
                v,
                "must be finite and > 0",
            ))
        }
    }
}
