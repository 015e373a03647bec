pub mod admin;
pub mod public;
pub mod review;
pub mod school;
