//! The embedded deployment: SQLite and a folder on disk behind the same ports as AWS, and the
//! `gradphoto` binary that serves everything from one process.

pub mod check_cmd;
pub mod check_queue;
pub mod crop_cmd;
pub mod demo;
pub mod disk;
pub mod purge_cmd;
pub mod server;
pub mod sqlite;
pub mod store_http;
