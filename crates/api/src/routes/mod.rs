pub mod admin;
pub mod parent;
pub mod photo;
pub mod public;
pub mod review;
pub mod school;
