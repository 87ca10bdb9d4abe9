//! Serde helper for `f64` fields that may hold `±inf` or `NaN`.
//!
//! JSON has no representation for non-finite numbers: `serde_json` writes `null` for them,
//! which then fails to deserialize back into an `f64`. This module writes finite values as
//! ordinary numbers and non-finite values as the strings `"inf"`, `"-inf"` and `"nan"`, and
//! reads back numbers, those strings (also `"+inf"`, `"infinity"`, `"-infinity"`, any case),
//! numeric strings, and `null` (read as `NaN`, so files written by plain serde still load).
//!
//! Use it on a field with `#[serde(with = "crate::stats::serde_f64_ext")]`; the
//! submodules [`option`](mod@option) and [`vec`](mod@vec) do the same for `Option<f64>` and `Vec<f64>` fields.
//! Deserialization relies on `deserialize_any`, so it needs a self-describing format
//! (JSON, TOML, ...).
//!
//! ```
//! use escapecert::stats::serde_f64_ext;
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Bound {
//!     #[serde(with = "serde_f64_ext")]
//!     hi: f64,
//! }
//! let s = serde_json::to_string(&Bound { hi: f64::INFINITY }).unwrap();
//! assert_eq!(s, r#"{"hi":"inf"}"#);
//! let b: Bound = serde_json::from_str(&s).unwrap();
//! assert_eq!(b.hi, f64::INFINITY);
//! ```

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Serialize an `f64`: finite values as numbers, `+inf` as `"inf"`, `-inf` as `"-inf"`,
/// `NaN` as `"nan"`.
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    let v = *value;
    if v.is_finite() {
        serializer.serialize_f64(v)
    } else if v.is_nan() {
        serializer.serialize_str("nan")
    } else if v > 0.0 {
        serializer.serialize_str("inf")
    } else {
        serializer.serialize_str("-inf")
    }
}

/// Deserialize an `f64` written by [`serialize`] (or a plain number, or `null` as `NaN`).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    deserializer.deserialize_any(F64ExtVisitor)
}

/// Parse the string forms accepted by [`deserialize`].
fn parse_str(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        _ => t.parse::<f64>().ok(),
    }
}

struct F64ExtVisitor;

impl<'de> Visitor<'de> for F64ExtVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number or one of the strings \"inf\", \"-inf\", \"nan\"")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_f32<E: de::Error>(self, v: f32) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        parse_str(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
        Ok(f64::NAN)
    }

    fn visit_none<E: de::Error>(self) -> Result<f64, E> {
        Ok(f64::NAN)
    }
}

/// An `f64` that (de)serializes with this module's conventions; used by [`option`](mod@option) and
/// [`vec`](mod@vec), and usable directly as a field or element type.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct F64Ext(pub f64);

impl Serialize for F64Ext {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for F64Ext {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer).map(F64Ext)
    }
}

/// The same conventions for `Option<f64>` fields (`None` is written as `null`, and `null`
/// reads back as `None`).
pub mod option {
    use super::F64Ext;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serialize an `Option<f64>`.
    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        value.map(F64Ext).serialize(serializer)
    }

    /// Deserialize an `Option<f64>`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        Ok(Option::<F64Ext>::deserialize(deserializer)?.map(|v| v.0))
    }
}

/// The same conventions for `Vec<f64>` fields.
pub mod vec {
    use super::F64Ext;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize a `Vec<f64>` (any `f64` slice field).
    pub fn serialize<S: Serializer>(value: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(value.len()))?;
        for v in value {
            seq.serialize_element(&F64Ext(*v))?;
        }
        seq.end()
    }

    /// Deserialize a `Vec<f64>`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<F64Ext>::deserialize(deserializer)?
            .into_iter()
            .map(|v| v.0)
            .collect())
    }
}
