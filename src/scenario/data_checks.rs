//! Semantic checks of `data`: the key space and its distribution's parameters, the value
//! shape and size. Part of `validate`; every problem is collected, none stops the rest.

use super::diagnostic::Problem;
use super::model::{DataFile, DistributionName, ShapeName, SizeFile};
use super::plan::{KeySpace, ValueConfig};
use crate::units::parse_bytes;
use crate::workload::keys::KeyDistribution;
use crate::workload::values::{SizeSpec, ValueShape};

/// Default key prefix: every key tierbench writes starts with it.
pub const DEFAULT_PREFIX: &str = "tierbench:";

/// The default exponent of `zipf` and `scrambled_zipf`.
pub const DEFAULT_ZIPF_EXPONENT: f64 = 0.99;

/// A prefix must name a space of its own: an empty one is every key of the server, and one
/// made only of glob characters reads as a pattern wherever someone looks at it.
fn check_prefix(prefix: &str, problems: &mut Vec<Problem>) {
    let why = if prefix.is_empty() {
        "an empty prefix would put tierbench's keys among every other key of the server"
    } else if prefix.chars().all(|c| matches!(c, '*' | '?' | '[' | ']')) {
        "a prefix made only of glob characters (`*`, `?`, `[`) reads as a pattern for all keys"
    } else {
        return;
    };
    problems.push(
        Problem::new("/data/keys/prefix", why)
            .expected("a prefix that names a key space of its own, e.g. \"tierbench:<scenario name>:\"")
            .hint(format!(
                "leave `prefix` out for the default \"{DEFAULT_PREFIX}\", or write one such as \"tierbench:checkout:\""
            )),
    );
}

pub(super) fn check_data(
    data: &DataFile,
    problems: &mut Vec<Problem>,
) -> (Option<KeySpace>, Option<ValueConfig>) {
    let keys = &data.keys;
    let d = keys.distribution;
    for (field, value, applies) in [
        (
            "zipf_exponent",
            keys.zipf_exponent.is_some(),
            matches!(d, DistributionName::Zipf | DistributionName::ScrambledZipf),
        ),
        (
            "hot_fraction",
            keys.hot_fraction.is_some(),
            d == DistributionName::Hotspot,
        ),
        (
            "hot_probability",
            keys.hot_probability.is_some(),
            d == DistributionName::Hotspot,
        ),
        ("mean", keys.mean.is_some(), d == DistributionName::Gaussian),
        (
            "stddev",
            keys.stddev.is_some(),
            d == DistributionName::Gaussian,
        ),
    ] {
        if value && !applies {
            problems.push(
                Problem::new(format!("/data/keys/{field}"), format!("`{field}` does not apply to this distribution"))
                    .hint("zipf_exponent: zipf, scrambled_zipf; hot_fraction, hot_probability: hotspot; mean, stddev: gaussian"),
            );
        }
    }
    let exponent = keys.zipf_exponent.unwrap_or(DEFAULT_ZIPF_EXPONENT);
    let distribution = match d {
        DistributionName::Uniform => KeyDistribution::Uniform,
        DistributionName::Sequential => KeyDistribution::Sequential,
        DistributionName::Latest => KeyDistribution::Latest,
        DistributionName::Zipf => KeyDistribution::Zipf { exponent },
        DistributionName::ScrambledZipf => KeyDistribution::ScrambledZipf { exponent },
        DistributionName::Hotspot => KeyDistribution::Hotspot {
            hot_fraction: keys.hot_fraction.unwrap_or(0.2),
            hot_probability: keys.hot_probability.unwrap_or(0.8),
        },
        DistributionName::Gaussian => KeyDistribution::Gaussian {
            mean: keys.mean.unwrap_or(0.5),
            stddev: keys.stddev.unwrap_or(0.1),
        },
    };
    if let Some(prefix) = &keys.prefix {
        check_prefix(prefix, problems);
    }
    let mut key_space = None;
    match distribution.validate(keys.count) {
        Ok(()) => {
            key_space = Some(KeySpace {
                count: keys.count,
                prefix: keys
                    .prefix
                    .clone()
                    .unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
                distribution,
            });
        }
        Err(message) => problems.push(
            Problem::new("/data/keys", message)
                .hint("see the `keys` section of `tierbench schema`"),
        ),
    }
    (key_space, check_values(data, problems))
}

/// The values' shape, size and compressibility.
fn check_values(data: &DataFile, problems: &mut Vec<Problem>) -> Option<ValueConfig> {
    let shape = match data.values.shape {
        ShapeName::Text => ValueShape::Text,
        ShapeName::Json => {
            let (shape, bad) = ValueShape::json(data.values.fields, data.values.depth);
            let at = |(name, m)| Problem::new(format!("/data/values/{name}"), m);
            problems.extend(bad.into_iter().map(at));
            shape
        }
        ShapeName::Binary => ValueShape::Binary,
    };
    let size = match parse_size(&data.values.size) {
        Ok(size) => size,
        Err(message) => {
            problems.push(
                Problem::new("/data/values/size", message)
                    .expected("a size (256, 1KiB) or an inclusive range MIN..MAX (200..400)"),
            );
            return None;
        }
    };
    let compressibility = data.values.compressibility.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&compressibility) {
        problems.push(
            Problem::new(
                "/data/values/compressibility",
                format!("{compressibility} is outside 0.0..1.0"),
            )
            .expected("a fraction: 0.0 (incompressible) to 1.0"),
        );
    }
    Some(ValueConfig {
        shape,
        size,
        compressibility,
    })
}

fn parse_size(size: &SizeFile) -> Result<SizeSpec, String> {
    let spec = match size {
        SizeFile::Fixed(b) => SizeSpec::Fixed(usize::try_from(b.0).map_err(|e| e.to_string())?),
        SizeFile::Range(text) => {
            let (lo, hi) = text
                .split_once("..")
                .ok_or_else(|| format!("`{text}` is not a range"))?;
            let (min, max) = (parse_bytes(lo)?, parse_bytes(hi)?);
            if min > max {
                return Err(format!("range `{text}` is empty: {min} > {max}"));
            }
            SizeSpec::Range {
                min: min as usize,
                max: max as usize,
            }
        }
        SizeFile::Weighted(map) => SizeSpec::Weighted(
            map.iter()
                .map(|(size, &weight)| parse_bytes(size).map(|b| (b as usize, weight)))
                .collect::<Result<_, _>>()?,
        ),
    };
    spec.validate()?;
    Ok(spec)
}
