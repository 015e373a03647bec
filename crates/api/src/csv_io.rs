//! CSV in (bureau imports) and out (roster export). Imports come from Excel, so a UTF-8 BOM is
//! skipped and a file that is not UTF-8 is read as GB18030 (what Chinese Excel saves).

use crate::error::{ApiError, ApiResult, LineError};
use gradphoto_core::{RosterRow, Stage, Student, StudentId};
use std::collections::{HashMap, HashSet};

pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// Reads a CSV with exactly the expected header; gives each data row with its 1-based line.
fn rows(text: &str, header: &[&str]) -> ApiResult<Vec<(usize, Vec<String>)>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let got: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::bad_request("invalid_csv", format!("CSV 无法读取：{e}")))?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    if got != header {
        return Err(ApiError::bad_request(
            "invalid_csv",
            format!("CSV 第一行应为 {}，当前为 {}", header.join(","), got.join(",")),
        ));
    }
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        match rec {
            Ok(r) if r.iter().all(|f| f.is_empty()) => continue,
            Ok(r) => out.push((line, r.iter().map(str::to_owned).collect())),
            // An unreadable record has no fields and is reported as a bad line.
            Err(_) => out.push((line, Vec::new())),
        }
    }
    Ok(out)
}

pub fn line_err(line: usize, code: &'static str, message: impl Into<String>) -> LineError {
    LineError { line, code, message: message.into() }
}

fn field_ok(s: &str, max: usize) -> bool {
    !s.is_empty() && s.chars().count() <= max && !s.chars().any(|c| c.is_control() || is_invisible_format(c))
}

/// Invisible characters that reorder or hide text (a right-to-left override makes "张三.exe"
/// display as something else; a zero-width space makes two equal-looking names differ). No
/// Chinese name or class needs them, and exports and diplomas must show what was imported.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

pub struct NewSchool {
    pub district: String,
    pub name: String,
    pub stage: Stage,
}

/// `district,school,stage`; every bad line is reported, and none is imported if any is bad.
pub fn parse_schools(bytes: &[u8], existing: &HashSet<(String, String, Stage)>) -> ApiResult<Vec<NewSchool>> {
    let text = decode_text(bytes);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (line, fields) in rows(&text, &["district", "school", "stage"])? {
        if fields.len() != 3 {
            errors.push(line_err(line, "bad_columns", "每行应有 3 列：区县,学校,学段"));
            continue;
        }
        let (district, name) = (fields[0].clone(), fields[1].clone());
        if !field_ok(&district, 50) || !field_ok(&name, 100) {
            errors.push(line_err(line, "bad_field", "区县和学校名称不能为空，不超过 50/100 字，且不能含有控制字符或不可见字符"));
            continue;
        }
        let stage = match Stage::parse(&fields[2]) {
            Ok(s) => s,
            Err(e) => {
                errors.push(line_err(line, "bad_stage", e.to_string()));
                continue;
            }
        };
        let key = (district.clone(), name.clone(), stage);
        if existing.contains(&key) || !seen.insert(key) {
            errors.push(line_err(line, "duplicate_school", format!("{district} {name}（{}）已存在", stage.label())));
            continue;
        }
        out.push(NewSchool { district, name, stage });
    }
    finish(out, errors)
}

/// `school_id,student_id,name,class`.
pub fn parse_roster(bytes: &[u8], known_schools: &HashSet<String>) -> ApiResult<Vec<(usize, RosterRow)>> {
    let text = decode_text(bytes);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, fields) in rows(&text, &["school_id", "student_id", "name", "class"])? {
        if fields.len() != 4 {
            errors.push(line_err(line, "bad_columns", "每行应有 4 列：学校编号,学籍副号,姓名,班级"));
            continue;
        }
        let student_id = match StudentId::parse(&fields[1]) {
            Ok(s) => s,
            Err(e) => {
                errors.push(line_err(line, "bad_student_id", e.to_string()));
                continue;
            }
        };
        if !known_schools.contains(&fields[0]) {
            errors.push(line_err(line, "unknown_school", format!("学校编号“{}”不存在", fields[0].chars().take(40).collect::<String>())));
            continue;
        }
        if !field_ok(&fields[2], 50) {
            errors.push(line_err(line, "bad_name", "姓名不能为空，不超过 50 字，且不能含有控制字符或不可见字符"));
            continue;
        }
        if !field_ok(&fields[3], 30) {
            errors.push(line_err(line, "bad_class", "班级不能为空，不超过 30 字，且不能含有控制字符或不可见字符"));
            continue;
        }
        if let Some(first) = seen.insert(student_id.to_string(), line) {
            errors.push(line_err(line, "duplicate_student", format!("学籍副号 {student_id} 与第 {first} 行重复")));
            continue;
        }
        out.push((line, RosterRow { school_id: fields[0].clone(), student_id, name: fields[2].clone(), class: fields[3].clone() }));
    }
    finish(out, errors)
}

fn finish<T>(out: Vec<T>, errors: Vec<LineError>) -> ApiResult<Vec<T>> {
    if !errors.is_empty() {
        let n = errors.len();
        return Err(ApiError::Lines { message: format!("有 {n} 行数据有误，全部未导入，请修改后重新提交"), lines: errors });
    }
    if out.is_empty() {
        return Err(ApiError::bad_request("invalid_csv", "CSV 中没有数据行"));
    }
    Ok(out)
}

/// A cell that Excel would run as a formula gets a leading apostrophe.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// 学籍副号,姓名,班级,上传状态,原因 — UTF-8 with BOM so that Excel opens it correctly.
pub fn roster_csv(students: &[Student]) -> ApiResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let fail = |e: csv::Error| ApiError::Backend(gradphoto_core::ports::BackendError::new(e));
    w.write_record(["学籍副号", "姓名", "班级", "上传状态", "原因", "上传人"]).map_err(fail)?;
    for s in students {
        let reasons: Vec<&str> = s.reasons.iter().map(|r| r.message.as_str()).collect();
        w.write_record([
            s.student_id.as_str().to_owned(),
            neutralise(&s.name),
            neutralise(&s.class),
            s.status.label().to_owned(),
            neutralise(&reasons.join("；")),
            s.uploaded_by.map(|u| u.label()).unwrap_or_default().to_owned(),
        ])
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| ApiError::Backend(gradphoto_core::ports::BackendError::new(e)))
}

/// The chase list (催交名单): one row per student not uploaded or rejected.
pub fn chase_csv(rows: &[(&gradphoto_core::School, Student)]) -> ApiResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let fail = |e: csv::Error| ApiError::Backend(gradphoto_core::ports::BackendError::new(e));
    w.write_record(["区县", "学校", "学段", "学校注册", "老师用户名", "学籍副号", "姓名", "班级", "上传状态", "原因"]).map_err(fail)?;
    for (school, s) in rows {
        let reasons: Vec<&str> = s.reasons.iter().map(|r| r.message.as_str()).collect();
        w.write_record([
            neutralise(&school.district),
            neutralise(&school.name),
            school.stage.label().to_owned(),
            if school.username.is_some() { "已注册" } else { "未注册" }.to_owned(),
            school.username.as_deref().map(neutralise).unwrap_or_default(),
            s.student_id.as_str().to_owned(),
            neutralise(&s.name),
            neutralise(&s.class),
            s.status.label().to_owned(),
            neutralise(&reasons.join("；")),
        ])
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| ApiError::Backend(gradphoto_core::ports::BackendError::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_reports_every_bad_line() {
        let schools: HashSet<String> = ["s1".to_owned()].into();
        let csv = "school_id,student_id,name,class\ns1,A1,张三,1班\ns2,A2,李四,1班\ns1,../x,王五,1班\ns1,A1,赵六,2班\ns1,A3,,1班\n";
        let Err(ApiError::Lines { lines, .. }) = parse_roster(csv.as_bytes(), &schools) else { panic!("must fail") };
        let codes: Vec<_> = lines.iter().map(|l| (l.line, l.code)).collect();
        assert_eq!(codes, vec![(3, "unknown_school"), (4, "bad_student_id"), (5, "duplicate_student"), (6, "bad_name")]);
    }

    #[test]
    fn gbk_excel_export_is_read() {
        let (gbk, _, _) = encoding_rs::GBK.encode("district,school,stage\n黄浦区,格致中学,初中\n");
        let schools = parse_schools(&gbk, &HashSet::new()).unwrap();
        assert_eq!(schools[0].name, "格致中学");
        assert_eq!(schools[0].stage, Stage::Junior);
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("张三"), "张三");
    }
}
