//! How cell values and types are written in results: plain text, the same on every platform, so renderings and
//! snapshots are stable.

use polars::prelude::{AnyValue, DataType};

/// A value as text, `None` for null. Strings are unquoted, floats use the shortest text that reads back to the
/// same number, dates are ISO dates.
pub fn format_value(value: &AnyValue) -> Option<String> {
    Some(match value {
        AnyValue::Null => return None,
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(v) => format_float(*v),
        AnyValue::Float32(v) => format!("{v}"),
        other => other.to_string(),
    })
}

/// A float as the shortest text that reads back to it (`0.5`, `12`, `NaN`), rounded to 10 decimals when it needs
/// more, so binary noise does not show (`20.580000000000002` reads `20.58`, `1/3` reads `0.3333333333`).
pub fn format_float(v: f64) -> String {
    let shortest = format!("{v}");
    match shortest.split_once('.') {
        Some((_, decimals)) if decimals.len() > 10 && !shortest.contains('e') => {
            let rounded = format!("{v:.10}");
            rounded.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        _ => shortest,
    }
}

/// A type's short polars name (`str`, `i64`, `f64`, `date`, `bool`, ...).
pub fn dtype_name(dtype: &DataType) -> String {
    dtype.to_string()
}

#[cfg(test)]
mod tests {
    use super::format_float;

    #[test]
    fn floats_read_as_written_without_binary_noise() {
        assert_eq!(format_float(0.5), "0.5");
        assert_eq!(format_float(12.0), "12");
        assert_eq!(format_float(0.976964), "0.976964");
        assert_eq!(format_float(0.5000001), "0.5000001");
        assert_eq!(format_float(20.580000000000002), "20.58");
        assert_eq!(format_float(1.0 / 3.0), "0.3333333333");
        assert_eq!(format_float(-2.0 / 3.0), "-0.6666666667");
        assert_eq!(format_float(f64::NAN), "NaN");
    }
}
