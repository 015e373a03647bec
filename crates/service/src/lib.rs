//! The application services the HTTP API and both command lines (`gradphoto`, `gradphoto-aws`)
//! share, so that a rule about accounts or codes is written once and no command line links the
//! HTTP application: creating accounts (parse, hash, build, store), checking passwords, and
//! minting and reading registration codes.

pub mod accounts;
pub mod codes;
pub mod parent_codes;

pub use accounts::{AccountRefused, NewAccountError, create_district_account, create_staff_account, hash_password, register_school, verify_password};
pub use codes::{RegistrationCode, new_school_id};
pub use parent_codes::{ParentCodeText, limiter_key};
