pub mod admin;
pub mod parent;
pub mod public;
pub mod review;
pub mod school;
