//! SPICE numbers: a decimal mantissa, an optional exponent and an optional
//! engineering suffix, with any trailing letters ignored (`1kohm`, `10uF`).

/// Parses a SPICE number as ngspice does: `f p n u m k g t` scale by powers of
/// ten, `meg` is 1e6, `mil` is 25.4e-6, case-insensitive (`M` is milli), and
/// letters after the number or suffix are ignored (`5v` is 5).
///
/// Returns `None` when the text is not a number or overflows to infinity.
pub fn parse_number(text: &str) -> Option<f64> {
    let (value, len) = scan_number(text)?;
    (len == text.len()).then_some(value)
}

/// Scans a number at the start of `text` (sign, mantissa, exponent, suffix and
/// trailing letters) and returns its value and the number of bytes consumed.
/// Used by the expression lexer, where the number is followed by operators.
pub fn scan_number(text: &str) -> Option<(f64, usize)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - digits_start;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    let mantissa_end = i;
    let mut exponent: i32 = 0;
    if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
        let mut j = i + 1;
        let negative = match bytes.get(j) {
            Some(b'-') => {
                j += 1;
                true
            }
            Some(b'+') => {
                j += 1;
                false
            }
            _ => false,
        };
        let exp_start = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        // `1e` without digits is a number followed by an ignored letter.
        if j > exp_start {
            let magnitude: i32 = text[exp_start..j]
                .parse()
                .unwrap_or(i32::MAX / 2)
                .min(100_000);
            exponent = if negative { -magnitude } else { magnitude };
            i = j;
        }
    }
    let letters_start = i;
    while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
        i += 1;
    }
    let letters = text[letters_start..i].to_ascii_lowercase();
    let mut factor = 1.0;
    if letters.starts_with("meg") {
        exponent += 6;
    } else if letters.starts_with("mil") {
        factor = 25.4e-6;
    } else if let Some(first) = letters.chars().next() {
        exponent += match first {
            'f' => -15,
            'p' => -12,
            'n' => -9,
            'u' => -6,
            'm' => -3,
            'k' => 3,
            'g' => 9,
            't' => 12,
            _ => 0,
        };
    }
    // Folding the suffix into the decimal exponent keeps `3.3n` bit-identical
    // to the literal `3.3e-9` (one correctly rounded conversion).
    let literal = format!("{}e{}", &text[..mantissa_end], exponent);
    let value = literal.parse::<f64>().ok()? * factor;
    value.is_finite().then_some((value, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_scale_as_ngspice() {
        let cases = [
            ("1", 1.0),
            ("-2.5", -2.5),
            ("+.5", 0.5),
            ("3.", 3.0),
            ("1e3", 1e3),
            ("1E-3", 1e-3),
            ("1f", 1e-15),
            ("1p", 1e-12),
            ("3.3n", 3.3e-9),
            ("1u", 1e-6),
            ("1m", 1e-3),
            ("1M", 1e-3),
            ("1k", 1e3),
            ("1meg", 1e6),
            ("1MEG", 1e6),
            ("1g", 1e9),
            ("1t", 1e12),
            ("2mil", 2.0 * 25.4e-6),
            ("1kohm", 1e3),
            ("1megohm", 1e6),
            ("10uF", 10e-6),
            ("5v", 5.0),
            ("1e3k", 1e6),
            ("1ohm", 1.0),
            ("1e", 1.0),
        ];
        for (text, want) in cases {
            assert_eq!(parse_number(text), Some(want), "{text}");
        }
    }

    #[test]
    fn rejects_non_numbers() {
        for text in [
            "", "k", "abc", ".", "-", "1.2.3", "1k%", "1e999", "1-2", "{1}",
        ] {
            assert_eq!(parse_number(text), None, "{text}");
        }
    }

    #[test]
    fn scan_stops_at_operators() {
        assert_eq!(scan_number("2k*x"), Some((2e3, 2)));
        assert_eq!(scan_number("1e-3+1"), Some((1e-3, 4)));
    }
}
