//! The contract cases, one `pub async fn name(fx: &Fixture)` each. Keep the list in
//! `contract_tests!` (lib.rs) in step with these.

mod appeals;
mod leases;
mod parents;
mod purge;
mod review;
mod setup;
mod stats;
mod store;
mod uploads;

pub use appeals::*;
pub use leases::*;
pub use parents::*;
pub use purge::*;
pub use review::*;
pub use setup::*;
pub use stats::*;
pub use store::*;
pub use uploads::*;
