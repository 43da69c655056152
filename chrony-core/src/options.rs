//! Per-call options.

use std::time::Duration;

/// How long a query may take in total, from the first request to the last
/// reply, resends included. Three seconds is enough for chronyc-style
/// retransmission (1 s, then 2 s) and short enough for a monitoring scrape.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Options of a query or a [`Connection`](crate::Connection).
///
/// `#[non_exhaustive]`: build one with [`Options::new`] or `Options::default()`
/// and the `with_*` methods, so new options can be added later.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The total deadline of one query ([`DEFAULT_TIMEOUT`] unless set).
    /// Within it, an unanswered request is sent again after 1 s, 2 s, 4 s…
    /// as chronyc does. A zero timeout sends one request and gives up at once
    /// unless the reply is already there.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl Options {
    /// The default options.
    pub fn new() -> Self {
        Options::default()
    }

    /// These options with another total timeout per query.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_builder() {
        assert_eq!(Options::new().timeout, DEFAULT_TIMEOUT);
        let o = Options::new().with_timeout(Duration::from_millis(500));
        assert_eq!(o.timeout, Duration::from_millis(500));
    }
}
