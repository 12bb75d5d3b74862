//! Value compression in front of a tier (`compression: { algorithm: zstd, level: 3 }`).
//!
//! A compressed tier stores what a client that compresses would store. The stack compresses
//! before the tier's write and decompresses after its read; that time is recorded apart from
//! the tier's own call time, with the bytes in and out, so a report shows the ratio and what
//! it cost.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Compression algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Zstandard (levels 1..=22, default 3).
    Zstd,
    /// LZ4 block format, size-prepended (lz4_flex; no levels).
    Lz4,
}

/// A tier's compression setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Its level (zstd only).
    pub level: i32,
}

impl Compression {
    /// Compresses `data`.
    pub fn compress(&self, data: &[u8]) -> Vec<u8> {
        match self.algorithm {
            // In-memory compression cannot fail but on a bad level, which validation rejects.
            Algorithm::Zstd => {
                zstd::bulk::compress(data, self.level).unwrap_or_else(|_| data.to_vec())
            }
            Algorithm::Lz4 => lz4_flex::compress_prepend_size(data),
        }
    }

    /// Decompresses what `compress` wrote.
    pub fn decompress(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        match self.algorithm {
            Algorithm::Zstd => zstd::stream::decode_all(data).map_err(|e| format!("zstd: {e}")),
            Algorithm::Lz4 => {
                lz4_flex::decompress_size_prepended(data).map_err(|e| format!("lz4: {e}"))
            }
        }
    }

    /// The name shown in results (`zstd-3`, `lz4`).
    pub fn name(&self) -> String {
        match self.algorithm {
            Algorithm::Zstd => format!("zstd-{}", self.level),
            Algorithm::Lz4 => "lz4".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_shrink_when_compressible() {
        let data: Vec<u8> = b"tierbench ".iter().copied().cycle().take(4096).collect();
        for c in [
            Compression {
                algorithm: Algorithm::Zstd,
                level: 3,
            },
            Compression {
                algorithm: Algorithm::Lz4,
                level: 0,
            },
        ] {
            let packed = c.compress(&data);
            assert!(
                packed.len() < data.len() / 10,
                "{}: {}",
                c.name(),
                packed.len()
            );
            assert_eq!(c.decompress(&packed).unwrap(), data);
            assert_eq!(c.decompress(&c.compress(b"")).unwrap(), b"");
            assert!(c.decompress(b"\xff\xfe not compressed").is_err());
        }
    }
}
