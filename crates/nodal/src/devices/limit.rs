//! Newton step limiting for junctions and FET terminals, as SPICE3's
//! devsup.c does it: big exponential steps are replaced by logarithmic
//! ones so Newton does not overflow or oscillate.

/// Limits a junction voltage update; returns the new value and whether
/// limiting happened.
pub fn pnjlim(vnew: f64, vold: f64, vt: f64, vcrit: f64) -> (f64, bool) {
    if vnew > vcrit && (vnew - vold).abs() > vt + vt {
        if vold > 0.0 {
            // ngspice's form of the logarithmic step (devsup.c).
            let arg = (vnew - vold) / vt;
            if arg > 0.0 {
                (vold + vt * (2.0 + (arg - 2.0).ln()), true)
            } else {
                (vold - vt * (2.0 + (2.0 - arg).ln()), true)
            }
        } else {
            (vt * (vnew / vt).ln(), true)
        }
    } else if vnew < 0.0 {
        let arg = if vold > 0.0 {
            -vold - 1.0
        } else {
            2.0 * vold - 1.0
        };
        if vnew < arg {
            (arg, true)
        } else {
            (vnew, false)
        }
    } else {
        (vnew, false)
    }
}

/// Limits a gate-source voltage update around the threshold `vto`.
pub fn fetlim(vnew: f64, vold: f64, vto: f64) -> f64 {
    let vtsthi = (2.0 * (vold - vto)).abs() + 2.0;
    let vtstlo = (vold - vto).abs() + 1.0;
    let vtox = vto + 3.5;
    let delv = vnew - vold;
    if vold >= vto {
        if vold >= vtox {
            if delv <= 0.0 {
                if vnew >= vtox {
                    if -delv > vtstlo {
                        return vold - vtstlo;
                    }
                    vnew
                } else {
                    vnew.max(vto + 2.0)
                }
            } else if delv >= vtsthi {
                vold + vtsthi
            } else {
                vnew
            }
        } else if delv <= 0.0 {
            vnew.max(vto - 0.5)
        } else {
            vnew.min(vto + 4.0)
        }
    } else if delv <= 0.0 {
        if -delv > vtsthi {
            vold - vtsthi
        } else {
            vnew
        }
    } else {
        let vtemp = vto + 0.5;
        if vnew <= vtemp {
            if delv > vtstlo {
                vold + vtstlo
            } else {
                vnew
            }
        } else {
            vtemp
        }
    }
}

/// Limits a drain-source voltage update.
pub fn limvds(vnew: f64, vold: f64) -> f64 {
    if vold >= 3.5 {
        if vnew > vold {
            vnew.min(3.0 * vold + 2.0)
        } else if vnew < 3.5 {
            vnew.max(2.0)
        } else {
            vnew
        }
    } else if vnew > vold {
        vnew.min(4.0)
    } else {
        vnew.max(-0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnjlim_takes_log_steps_above_vcrit() {
        let vt = 0.025;
        let (v, hit) = pnjlim(5.0, 0.6, vt, 0.6);
        assert!(hit);
        assert!((v - (0.6 + vt * (2.0 + (4.4 / vt - 2.0).ln()))).abs() < 1e-15);
        assert_eq!(pnjlim(0.61, 0.6, vt, 0.6), (0.61, false));
        // Large negative steps are bounded too.
        assert_eq!(pnjlim(-10.0, 0.5, vt, 0.6), (-1.5, true));
    }

    #[test]
    fn fetlim_bounds_turn_on_step() {
        // Off device jumping far above threshold stops at vto + 0.5.
        assert_eq!(fetlim(10.0, 0.0, 1.0), 1.5);
        assert_eq!(limvds(10.0, 1.0), 4.0);
        assert_eq!(limvds(20.0, 5.0), 17.0);
    }
}
