//! Typed values of non-ideality parameters, the parameter descriptions an
//! evaluator publishes, and dotted-key access into TOML tables.

use std::fmt;

/// The type a non-ideality parameter takes in the TOML table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    Float,
    Integer,
    Bool,
    Text,
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::Float => "a number",
            ValueKind::Integer => "an integer",
            ValueKind::Bool => "true or false",
            ValueKind::Text => "a string",
        })
    }
}

/// One parameter an evaluator understands, addressed by a dotted key of the
/// non-ideality table (e.g. `device.programming_sigma`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParameterSpec {
    pub key: &'static str,
    pub kind: ValueKind,
    /// SI unit for axis labels and docs; empty for dimensionless values.
    pub unit: &'static str,
    pub description: &'static str,
}

/// A concrete parameter value (one swept value, or one base setting).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Float(f64),
    Integer(i64),
    Bool(bool),
    Text(String),
}

impl Value {
    /// Converts a TOML value to `kind`; integers are accepted where numbers are
    /// expected, everything else must match exactly.
    pub fn from_toml(value: &toml::Value, kind: ValueKind) -> Result<Value, String> {
        let got = match (kind, value) {
            (ValueKind::Float, toml::Value::Float(x)) => Value::Float(*x),
            (ValueKind::Float, toml::Value::Integer(i)) => Value::Float(*i as f64),
            (ValueKind::Integer, toml::Value::Integer(i)) => Value::Integer(*i),
            (ValueKind::Bool, toml::Value::Boolean(b)) => Value::Bool(*b),
            (ValueKind::Text, toml::Value::String(s)) => Value::Text(s.clone()),
            _ => return Err(format!("expected {kind}, found `{value}`")),
        };
        if let Value::Float(x) = got {
            if !x.is_finite() {
                return Err(format!("expected a finite number, found `{value}`"));
            }
        }
        Ok(got)
    }

    pub fn to_toml(&self) -> toml::Value {
        match self {
            Value::Float(x) => toml::Value::Float(*x),
            Value::Integer(i) => toml::Value::Integer(*i),
            Value::Bool(b) => toml::Value::Boolean(*b),
            Value::Text(s) => toml::Value::String(s.clone()),
        }
    }

    /// The value as a number, for numeric axes.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(x) => Some(*x),
            Value::Integer(i) => Some(*i as f64),
            Value::Bool(_) | Value::Text(_) => None,
        }
    }
}

/// Same text as the CSV files: floats in shortest round-trip form.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Float(x) => f.write_str(&format_f64(*x)),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(s) => f.write_str(s),
        }
    }
}

/// Shortest text that parses back to the same `f64` (Rust's `{}` and `{:e}`
/// both round-trip); plain notation in the usual range, exponent outside it
/// so 1e-12 does not print as a dozen zeros.
pub fn format_f64(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || (1e-4..1e15).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// `x` rounded to `digits` significant decimal digits (the nearest `f64` to
/// that decimal), e.g. 0.060000000000000005 → 0.06 for 12 digits.
pub fn round_significant(x: f64, digits: usize) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{:.*e}", digits.saturating_sub(1), x)
        .parse()
        .unwrap_or(x)
}

/// Splits a dotted key into its segments, rejecting empty segments and
/// characters TOML would need quotes for.
pub fn split_dotted(key: &str) -> Result<Vec<&str>, String> {
    let parts: Vec<&str> = key.split('.').collect();
    for part in &parts {
        if part.is_empty() {
            return Err(format!("`{key}` is not a dotted key (empty segment)"));
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(format!(
                "`{key}` is not a dotted key (character `{c}`; use letters, digits, `_`, `-`)"
            ));
        }
    }
    Ok(parts)
}

/// Sets `key` (dotted) in `table`, creating intermediate tables.
pub fn set_dotted(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let parts = split_dotted(key)?;
    let (last, parents) = parts
        .split_last()
        .ok_or_else(|| format!("`{key}` is empty"))?;
    let mut current = table;
    for (depth, part) in parents.iter().enumerate() {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = match entry {
            toml::Value::Table(t) => t,
            other => {
                return Err(format!(
                    "cannot set `{key}`: `{}` is {}, not a table",
                    parts[..=depth].join("."),
                    other.type_str()
                ))
            }
        };
    }
    if let Some(toml::Value::Table(_)) = current.get(*last) {
        return Err(format!("cannot set `{key}`: it is a table, not a value"));
    }
    current.insert(last.to_string(), value);
    Ok(())
}

/// Looks up `key` (dotted) in `table`.
pub fn get_dotted<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// Removes `key` (dotted) from `table`, returning its value; tables left
/// empty are kept (they change nothing in a non-ideality table).
pub fn remove_dotted(table: &mut toml::Table, key: &str) -> Option<toml::Value> {
    let (parents, last) = match key.rsplit_once('.') {
        Some((parents, last)) => (Some(parents), last),
        None => (None, key),
    };
    let mut current = table;
    for part in parents.into_iter().flat_map(|p| p.split('.')) {
        current = current.get_mut(part)?.as_table_mut()?;
    }
    current.remove(last)
}

/// The scalar `value` as a typed [`Value`] (`None` for arrays, tables, dates).
pub fn from_scalar(value: &toml::Value) -> Option<Value> {
    match value {
        toml::Value::Float(x) => Some(Value::Float(*x)),
        toml::Value::Integer(i) => Some(Value::Integer(*i)),
        toml::Value::Boolean(b) => Some(Value::Bool(*b)),
        toml::Value::String(s) => Some(Value::Text(s.clone())),
        toml::Value::Datetime(_) | toml::Value::Array(_) | toml::Value::Table(_) => None,
    }
}

/// Every leaf (non-table value) of `table` with its dotted key, in key order.
pub fn leaves(table: &toml::Table) -> Vec<(String, &toml::Value)> {
    fn walk<'a>(prefix: &str, table: &'a toml::Table, out: &mut Vec<(String, &'a toml::Value)>) {
        let mut keys: Vec<&String> = table.keys().collect();
        keys.sort();
        for key in keys {
            let full = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match &table[key.as_str()] {
                toml::Value::Table(sub) => walk(&full, sub, out),
                value => out.push((full, value)),
            }
        }
    }
    let mut out = Vec::new();
    walk("", table, &mut out);
    out
}

/// Recursively overlays `over` on `base` (tables merge key by key, anything
/// else replaces).
pub fn overlay(base: &mut toml::Table, over: &toml::Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => overlay(b, o),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// A canonical, order-independent text form of a TOML value, for hashing.
pub(crate) fn canonical(value: &toml::Value, out: &mut String) {
    match value {
        toml::Value::String(s) => out.push_str(&format!("s{s:?}")),
        toml::Value::Integer(i) => out.push_str(&format!("i{i}")),
        toml::Value::Float(x) => out.push_str(&format!("f{x:?}")),
        toml::Value::Boolean(b) => out.push_str(&format!("b{b}")),
        toml::Value::Datetime(d) => out.push_str(&format!("d{d}")),
        toml::Value::Array(items) => {
            out.push('[');
            for item in items {
                canonical(item, out);
                out.push(',');
            }
            out.push(']');
        }
        toml::Value::Table(table) => {
            out.push('{');
            let mut keys: Vec<&String> = table.keys().collect();
            keys.sort();
            for key in keys {
                out.push_str(&format!("{key:?}="));
                canonical(&table[key.as_str()], out);
                out.push(',');
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_set_get_and_errors() {
        let mut t: toml::Table = toml::from_str("[device]\ng_min = 1e-6\n[adc]\nbits = 4").unwrap();
        set_dotted(&mut t, "device.programming_sigma", toml::Value::Float(0.05)).unwrap();
        set_dotted(&mut t, "crossbar.r_wire", toml::Value::Float(2.5)).unwrap();
        assert_eq!(
            get_dotted(&t, "device.programming_sigma"),
            Some(&toml::Value::Float(0.05))
        );
        assert_eq!(
            get_dotted(&t, "device.g_min"),
            Some(&toml::Value::Float(1e-6))
        );
        assert_eq!(
            get_dotted(&t, "crossbar.r_wire"),
            Some(&toml::Value::Float(2.5))
        );
        let err = set_dotted(&mut t, "adc.bits.x", toml::Value::Integer(1)).unwrap_err();
        assert!(err.contains("`adc.bits` is integer, not a table"), "{err}");
        let err = set_dotted(&mut t, "adc", toml::Value::Integer(1)).unwrap_err();
        assert!(err.contains("is a table"), "{err}");
        assert_eq!(
            remove_dotted(&mut t.clone(), "device.g_min"),
            Some(toml::Value::Float(1e-6))
        );
        assert_eq!(remove_dotted(&mut t.clone(), "device.nothing"), None);
        assert_eq!(remove_dotted(&mut t.clone(), "adc.bits.x"), None);
        let mut removed = t.clone();
        remove_dotted(&mut removed, "crossbar.r_wire");
        assert_eq!(get_dotted(&removed, "crossbar.r_wire"), None);
        assert_eq!(
            get_dotted(&removed, "adc.bits"),
            Some(&toml::Value::Integer(4))
        );
        assert!(split_dotted("device..g").is_err());
        assert!(split_dotted("device.g min").is_err());
        let keys: Vec<String> = leaves(&t).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "adc.bits",
                "crossbar.r_wire",
                "device.g_min",
                "device.programming_sigma"
            ]
        );
    }

    #[test]
    fn floats_round_trip_and_read_well() {
        for x in [0.0, 0.964, 1e-12, 3.0e7, 1.0 / 3.0, -2.5e-5, 1e300, 5e-324] {
            let s = format_f64(x);
            assert_eq!(s.parse::<f64>().unwrap(), x, "{s}");
        }
        assert_eq!(format_f64(0.964), "0.964");
        assert_eq!(format_f64(1e-12), "1e-12");
        assert_eq!(format_f64(31536000.0), "31536000");
    }

    #[test]
    fn significant_rounding() {
        assert_eq!(round_significant(0.060000000000000005, 12), 0.06);
        assert_eq!(round_significant(0.12000000000000001, 12), 0.12);
        assert_eq!(round_significant(-1.23456789e-7, 3), -1.23e-7);
        assert_eq!(round_significant(0.0, 3), 0.0);
    }

    #[test]
    fn overlay_and_canonical_order() {
        let mut a: toml::Table = toml::from_str("[device]\ng_min = 1.0\ng_max = 2.0").unwrap();
        let b: toml::Table = toml::from_str("[device]\ng_max = 3.0\n[adc]\nbits = 6").unwrap();
        overlay(&mut a, &b);
        let c: toml::Table =
            toml::from_str("[adc]\nbits = 6\n[device]\ng_max = 3.0\ng_min = 1.0").unwrap();
        let (mut sa, mut sc) = (String::new(), String::new());
        canonical(&toml::Value::Table(a), &mut sa);
        canonical(&toml::Value::Table(c), &mut sc);
        assert_eq!(sa, sc);
    }
}
