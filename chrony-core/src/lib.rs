//! chrony-core (stub; filled in by the core work).
