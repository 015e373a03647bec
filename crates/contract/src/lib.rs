//! Contract tests shared by all adapters.
