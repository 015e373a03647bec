//! The reasons a reviewer may pick when rejecting: the photo rules (PHOTO_RULES.md) a person can
//! see in a photo that reached review, plus what only a person can judge. The file-level codes
//! (`not_jpeg`, sizes, `low_dpi`, `corrupt`, `not_colour`) are missing on purpose: such a photo
//! is rejected by the check and never reaches a reviewer. `stretched` and `rephotographed` are
//! the reviewer's verdicts on what the check can only flag (`possibly_stretched`,
//! `possibly_rephotographed`). The pages list them from `GET /api/review/reasons`; a code not
//! listed here is refused with 400 `unknown_reason`.

pub const ALL: &[(&str, &str)] = &[
    ("background_not_white", "照片背景应为白色、均匀、无阴影"),
    ("head_too_large", "人像过大（大头照），请重新拍摄或裁剪，头部约占照片高度的一半到三分之二"),
    ("head_too_small", "人像过小，请裁剪使头部约占照片高度的一半到三分之二"),
    ("head_cropped", "人像被裁剪缺损，头顶和两侧须完整"),
    ("off_centre", "人像未居中"),
    ("no_face", "照片中没有清晰的正面人像（请勿上传风景照片）"),
    ("multiple_faces", "照片中只能有学生本人"),
    ("blurry", "照片模糊，请上传清晰的照片"),
    ("too_dark", "照片过暗"),
    ("overexposed", "照片过亮（曝光过度）"),
    ("red_scarf", "应届初三毕业生照片不允许佩戴红领巾"),
    ("green_scarf", "小学毕业生照片不允许佩戴绿领巾"),
    ("accessories", "照片应免冠、无佩饰"),
    ("clothing_like_background", "着装颜色不应与背景相同"),
    ("phone_photo", "请勿上传手机自行拍摄的照片，请至照相馆拍摄标准证件照"),
    ("rephotographed", "请勿上传胶印翻拍的照片"),
    ("stretched", "照片被压缩或拉伸导致人像变形，请使用剪裁方式调整尺寸"),
    ("not_recent", "请上传学生本人近期照片"),
    ("wrong_person", "照片与学生信息不符"),
    ("duplicate_photo", "与其他学生的照片相同，请确认没有传错"),
    ("other", "其他原因，见审核备注"),
];

pub fn message(code: &str) -> Option<&'static str> {
    ALL.iter().find(|(c, _)| *c == code).map(|(_, m)| *m)
}
