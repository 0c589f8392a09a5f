//! Xyce's memristor cards, `.model <name> memristor level=N ...` with Xyce's
//! parameter names (Xyce Reference Guide, "Memristor Device"), mapped onto
//! xbar's models:
//!
//! - level 2, TEAM: [`Vteam`] with current thresholds (`ion < 0 < ioff`),
//!   `ivrelation` 0/1 the linear/exponential resistance, `xscaling` the unit
//!   of Xyce's state (x in metres times `xscaling`), windows `wt` 0 (none),
//!   1 (Joglekar on `x/D`) and 4 (Kvatinsky). `wt` 2 and 3 are refused: Xyce's
//!   Biolek window takes `stp(i)` where Biolek's takes `stp(-i)` (it vanishes
//!   at the wrong bound) and its Prodromakis window raises a negative number to
//!   the power `p`; neither is the published window.
//! - level 3, Yakopcic: [`Yakopcic`] with Xyce's defaults; `xo` is the
//!   initial state.
//! - level 4, the piecewise empirical model (PEM, tabulated windows): not in
//!   xbar, refused with an error that says so.
//! - level 5, Knowm's mean metastable switch (Knowm's Xyce model, not in
//!   Sandia's release): [`Mms`] with Knowm's defaults; `rinit` is the initial
//!   resistance.
//!
//! Instance parameters of Xyce (`xo`, `ivrelation`, `rinit`, `temp`) reach
//! the card from the `YMEMRISTOR` line. Xyce's random-telegraph-noise
//! parameters are accepted only switched off: xbar's variability lives in
//! `xbar device` and the statistics of `xbar infer`.

use std::collections::BTreeMap;

use crate::card::{bad, CardError, ParamReader};
use crate::mms::Mms;
use crate::vteam::{Control, ResistanceLaw, VteamWindow};
use crate::{CompactModel, Vteam, Yakopcic};

/// Xyce's random-telegraph-noise parameters (levels 2 and 3).
const NOISE: &[&str] = &[
    "resnoise",
    "resseed",
    "reslambda",
    "restd",
    "reseptd",
    "resdelta",
    "resdeltagrad",
    "xnoise",
    "xseed",
    "xlambda",
    "xtd",
    "xeptd",
    "xdelta",
    "xdeltagrad",
];

/// Builds the model of an Xyce `level=` card; `params` still holds `level`.
pub(crate) fn from_level(
    words: &BTreeMap<String, String>,
    params: &BTreeMap<String, f64>,
) -> Result<Box<dyn CompactModel>, CardError> {
    let level = params["level"];
    for (name, word) in words {
        if NOISE.contains(&name.as_str()) && word == "false" {
            continue;
        }
        return Err(CardError::BadWord {
            name: name.clone(),
            value: word.clone(),
            expected: "a number (an Xyce level card takes no word-valued parameters but `resnoise=false` and `xnoise=false`)",
        });
    }
    if let Some((name, value)) = params
        .iter()
        .find(|(name, value)| NOISE.contains(&name.as_str()) && **value != 0.0)
    {
        return Err(CardError::Unsupported {
            name: name.clone(),
            why: format!(
                "= {value}: Xyce's random telegraph noise is not modelled by xbar (use the \
                 variability of `xbar device` or the non-ideality file)"
            ),
        });
    }
    let mut params = params.clone();
    params.remove("level");
    params.retain(|name, _| !NOISE.contains(&name.as_str()));
    let mut reader = ParamReader::new(&params);
    let model: Box<dyn CompactModel> = match level {
        2.0 => Box::new(team(&mut reader)?),
        3.0 => Box::new(yakopcic(&mut reader)?),
        5.0 => Box::new(mms(&mut reader)?),
        4.0 => {
            return Err(CardError::XyceLevel {
                level,
                why: "is Xyce's piecewise empirical model (PEM, windows from data files), which \
                      xbar does not have; xbar runs Xyce levels 2 (TEAM), 3 (Yakopcic) and 5 \
                      (Knowm MMS), and its own cards `model=lid|vteam|yakopcic|stanford_pku|\
                      pershin|mms`"
                    .into(),
            })
        }
        _ => {
            return Err(CardError::XyceLevel {
                level,
                why: "is not a memristor level of Xyce (2 TEAM, 3 Yakopcic, 4 PEM; Knowm's Xyce \
                      adds 5, the MMS model)"
                    .into(),
            })
        }
    };
    reader.finish()?;
    Ok(model)
}

/// Level 2: TEAM, current-controlled.
fn team(r: &mut ParamReader<'_>) -> Result<Vteam, CardError> {
    let scaling = r.positive("xscaling", 1.0)?;
    let r_on = r.positive("ron", 50.0)?;
    let r_off = r.positive("roff", 1e3)?;
    if r_off <= r_on {
        return Err(bad("roff", r_off, &format!("must exceed ron = {r_on}")));
    }
    let w_on = r.finite("xon", 0.0)?;
    let w_off = r.finite("xoff", 3e-9)?;
    if w_off <= w_on {
        return Err(bad("xoff", w_off, &format!("must exceed xon = {w_on}")));
    }
    let k_on = r.negative("kon", -8e-13)?;
    let k_off = r.positive("koff", 8e-13)?;
    let alpha_on = r.positive("alphaon", 3.0)?;
    let alpha_off = r.positive("alphaoff", 3.0)?;
    let i_on = r.negative("ion", 8.9e-6)?;
    let i_off = r.positive("ioff", 1.15e-4)?;
    let d = r.positive("d", 1.15e-4)?;
    let p = r.positive("p", 1.15e-4)?;
    r.finite("j", 1.15e-4)?;
    let a_on = r.finite("aon", 0.0)?;
    let a_off = r.finite("aoff", 3e-9)?;
    let w_c = r.positive("wc", 1.07e-12)?;
    let window = match r.finite("wt", 0.0)? {
        0.0 => VteamWindow::None,
        // Xyce evaluates the window on its scaled state over `D`.
        1.0 => VteamWindow::Joglekar {
            p,
            origin: 0.0,
            span: d / scaling,
        },
        4.0 => VteamWindow::Kvatinsky { a_on, a_off, w_c },
        2.0 => {
            return Err(CardError::Unsupported {
                name: "wt".into(),
                why: "= 2: Xyce's TEAM Biolek window uses stp(i) where Biolek's uses stp(-i), so \
                      it vanishes at the bound the current moves away from; xbar does not \
                      reproduce it (use wt=1 or wt=4, or xbar's `model=vteam window=biolek`)"
                    .into(),
            })
        }
        3.0 => {
            return Err(CardError::Unsupported {
                name: "wt".into(),
                why: "= 3: Xyce's TEAM Prodromakis window raises ((x-0.5)^2 - 0.75) < 0 to the \
                      power p, which is not Prodromakis's window; xbar does not reproduce it"
                    .into(),
            })
        }
        other => return Err(bad("wt", other, "must be 0, 1, 2, 3 or 4")),
    };
    let law = match r.finite("ivrelation", 0.0)? {
        0.0 => ResistanceLaw::Linear,
        1.0 => ResistanceLaw::Exponential,
        other => {
            return Err(bad(
                "ivrelation",
                other,
                "must be 0 (linear) or 1 (nonlinear)",
            ))
        }
    };
    let w0 = r.in_range("x0", w_on, w_on, w_off)?;
    Ok(Vteam {
        r_on,
        r_off,
        w_on,
        w_off,
        k_on,
        k_off,
        alpha_on,
        alpha_off,
        control: Control::Current,
        d_on: i_on,
        d_off: i_off,
        law,
        window,
        w0,
    })
}

/// Level 3: Yakopcic. Xyce lists `xscaling` for it but its equations do not
/// use it, so it is read and has no effect, as in Xyce.
fn yakopcic(r: &mut ParamReader<'_>) -> Result<Yakopcic, CardError> {
    r.positive("xscaling", 1.0)?;
    let xo = r.in_range("xo", Yakopcic::XYCE.x0, 0.0, 1.0)?;
    Yakopcic::from_params(
        r,
        &Yakopcic {
            x0: xo,
            ..Yakopcic::XYCE
        },
    )
}

/// Level 5: Knowm's MMS; `rinit` (default `roff`) gives the initial state.
fn mms(r: &mut ParamReader<'_>) -> Result<Mms, CardError> {
    let given_x0 = r.has("x0");
    let mut model = Mms::from_params(r, &Mms::KNOWM_XYCE)?;
    if r.has("rinit") {
        if given_x0 {
            return Err(bad(
                "rinit",
                r.finite("rinit", 0.0)?,
                "give either rinit (Xyce) or x0 (xbar), not both",
            ));
        }
        let rinit = r.in_range("rinit", model.r_off, model.r_on, model.r_off)?;
        model.x0 = model.state_of_resistance(rinit);
    }
    Ok(model)
}
