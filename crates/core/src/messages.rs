//! The Chinese messages that more than one boundary shows (the API's refusals, the embedded
//! store, the check workers), each written once. Messages used in one place stay beside their
//! rule; the photo rules' messages are in `photo`.

use crate::domain::{Reason, Status};

/// A second upload for a student whose photo is uploaded, in review or approved.
pub fn already_uploaded(status: Status) -> String {
    format!("该学生照片状态为“{}”，每位学生只能成功上传一次，审核未通过后才能重新上传", status.label())
}

/// The soft flag when the automatic check could not finish (a panic, a dead worker): a person
/// decides instead, never a silent pass or rejection.
pub fn check_failed() -> Reason {
    Reason::new("check_failed", "自动检查未能完成，请人工仔细审核")
}

/// An object that was claimed but is missing from the store.
pub fn photo_missing() -> Reason {
    Reason::new("corrupt", "照片文件没有上传完整，请重新上传")
}

/// The audit note of an upload the page made from the crop suggestion (自动裁剪) unchanged.
pub const AUTO_CROPPED_NOTE: &str = "照片由自动裁剪生成（按建议取景，仅裁剪和等比例缩放）";
