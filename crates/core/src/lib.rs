//! gradphoto's domain: the types and rules every deployment shares, the photo checks, and the
//! ports (`Records`, `PhotoStore`, `Clock`) that the SQLite/disk and DynamoDB/S3 adapters
//! implement. Nothing here does I/O, so every rule can be tested at any instant, on any backend.

pub mod campaign;
pub mod domain;
pub mod lifecycle;
pub mod messages;
pub mod notes;
pub mod photo;
pub mod ports;
pub mod purge;
pub mod review_reasons;
pub mod stats;
pub mod stats_repair;
pub mod upload;
pub mod window;

pub use campaign::{AutoApprove, Campaign, CampaignDraft, CampaignError, DailyTime, ReviewPolicy, ReviewPolicyDraft};
pub use domain::*;
