//! Keys written into one reused buffer: the measured path formats no string per operation.
//!
//! Every generated key is the scenario's prefix plus a decimal index; the prefix is written once
//! and only the digits change (itoa, no allocation). Trace keys replace the part after the prefix.

/// A key written as `prefix` + decimal index into one reused buffer.
pub struct KeyBuf {
    buf: String,
    prefix_len: usize,
    digits: itoa::Buffer,
}

impl KeyBuf {
    /// A buffer holding `prefix`, with room for any index.
    pub fn new(prefix: &str) -> KeyBuf {
        let mut buf = String::with_capacity(prefix.len() + 20);
        buf.push_str(prefix);
        KeyBuf {
            buf,
            prefix_len: prefix.len(),
            digits: itoa::Buffer::new(),
        }
    }

    /// Writes key `index` and returns it.
    #[inline]
    pub fn set(&mut self, index: u64) -> &str {
        self.buf.truncate(self.prefix_len);
        self.buf.push_str(self.digits.format(index));
        &self.buf
    }

    /// Writes a trace's key (after the prefix).
    #[inline]
    pub fn set_str(&mut self, key: &str) {
        self.buf.truncate(self.prefix_len);
        self.buf.push_str(key);
    }

    /// The whole key now in the buffer.
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    /// The key without its prefix.
    pub fn suffix(&self) -> &str {
        &self.buf[self.prefix_len..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_buffer_reuses_its_prefix() {
        let mut k = KeyBuf::new("qs:");
        assert_eq!(k.set(0), "qs:0");
        assert_eq!(k.set(123456), "qs:123456");
        assert_eq!(k.set(7), "qs:7");
        k.set_str("abc");
        assert_eq!(k.as_str(), "qs:abc");
        assert_eq!(k.suffix(), "abc");
    }
}
