//! Real chronyd daemons on loopback for tests (stub; filled in by the fixture work).
pub mod cli;
