use serde::{Deserialize, Serialize};

/// Every threshold of the automatic check, in one place; a campaign may override any of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rules {
    pub min_bytes: u64,
    pub max_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub min_dpi: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Self { min_bytes: 5 * 1024, max_bytes: 1024 * 1024, width: 272, height: 354, min_dpi: 300 }
    }
}
