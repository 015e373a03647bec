//! Hostile CSV through the bureau imports and the roster export: encodings (BOM, GBK,
//! GB18030), line endings, quoted newlines, control characters, formula injection, size.

use gradphoto_api::ApiError;
use gradphoto_api::csv_io::{neutralise, parse_roster, parse_schools, roster_csv};
use gradphoto_core::{Reason, Stage, Status, Student, StudentId};
use std::collections::HashSet;

fn schools() -> HashSet<String> {
    ["s1", "s2"].into_iter().map(str::to_owned).collect()
}

/// The line errors of a refused import, as (line, code).
fn line_codes<T>(r: Result<Vec<T>, ApiError>) -> Vec<(usize, &'static str)> {
    match r {
        Err(ApiError::Lines { lines, .. }) => lines.iter().map(|l| (l.line, l.code)).collect(),
        Err(e) => panic!("expected line errors, got {e:?}"),
        Ok(v) => panic!("expected line errors, got {} rows", v.len()),
    }
}

fn code<T>(r: Result<Vec<T>, ApiError>) -> &'static str {
    match r {
        Err(e) => e.code(),
        Ok(v) => panic!("expected an error, got {} rows", v.len()),
    }
}

fn names(bytes: &[u8]) -> Vec<String> {
    parse_roster(bytes, &schools()).expect("roster parses").into_iter().map(|(_, r)| r.name).collect()
}

#[test]
fn utf8_bom_is_skipped_before_the_header() {
    let csv = "\u{FEFF}school_id,student_id,name,class\ns1,A1,张三,1班\n";
    assert_eq!(names(csv.as_bytes()), ["张三"]);
    let (bom_crlf, _, _) = encoding_rs::UTF_8.encode("\u{FEFF}district,school,stage\r\n黄浦区,格致中学,初中\r\n");
    assert_eq!(parse_schools(&bom_crlf, &HashSet::new()).unwrap()[0].name, "格致中学");
}

#[test]
fn gbk_and_gb18030_exports_are_read() {
    let text = "school_id,student_id,name,class\ns1,A1,王五,二班\ns1,A2,欧阳娜娜,三班\n";
    let (gbk, _, lossy) = encoding_rs::GBK.encode(text);
    assert!(!lossy);
    assert_eq!(names(&gbk), ["王五", "欧阳娜娜"]);
    // Rare name characters only GB18030 has (four-byte sequences), as Excel saves them.
    let text = "school_id,student_id,name,class\ns1,A1,王䶮,一班\ns1,A2,李𠀀,一班\n";
    let (gb, _, lossy) = encoding_rs::GB18030.encode(text);
    assert!(!lossy);
    assert!(std::str::from_utf8(&gb).is_err());
    assert_eq!(names(&gb), ["王䶮", "李𠀀"]);
    let (gbk, _, _) = encoding_rs::GBK.encode("district,school,stage\n黄浦区,格致中学,初中\n");
    assert_eq!(parse_schools(&gbk, &HashSet::new()).unwrap()[0].district, "黄浦区");
}

#[test]
fn crlf_lone_cr_and_missing_final_newline_are_all_lines() {
    for sep in ["\r\n", "\r", "\n"] {
        let csv = ["school_id,student_id,name,class", "s1,A1,张三,1班", "s1,A2,李四,2班"].join(sep);
        assert_eq!(names(csv.as_bytes()), ["张三", "李四"], "separator {sep:?}");
    }
    let csv = "school_id,student_id,name,class\r\ns1,A1,张三,1班\r\n\r\n\r\ns1,A2,李四,2班\r\n";
    assert_eq!(names(csv.as_bytes()), ["张三", "李四"], "blank lines are skipped");
}

#[test]
fn quoted_commas_quotes_and_newlines() {
    let csv = "district,school,stage\n徐汇区,\"南洋模范中学,初中部\",初中\n徐汇区,\"\"\"位育\"\"中学\",高中\n";
    let got = parse_schools(csv.as_bytes(), &HashSet::new()).unwrap();
    assert_eq!(got[0].name, "南洋模范中学,初中部");
    assert_eq!(got[1].name, "\"位育\"中学");
    // A newline inside a quoted name is a control character: refused. Lines are counted as
    // Excel numbers its rows (one row per record), so the next error is on row 3, not on
    // physical line 4.
    let csv = "school_id,student_id,name,class\ns1,A1,\"李\n四\",1班\ns1,A2,,1班\n";
    assert_eq!(line_codes(parse_roster(csv.as_bytes(), &schools())), [(2, "bad_name"), (3, "bad_name")]);
    // An unterminated quote swallows the rest of the file into one field: still a clean error.
    let csv = "school_id,student_id,name,class\ns1,A1,\"张三,1班\ns1,A2,李四,2班\n";
    assert_eq!(line_codes(parse_roster(csv.as_bytes(), &schools())), [(2, "bad_columns")]);
}

#[test]
fn control_and_nul_characters_in_fields_are_refused() {
    for (name, class) in [("张\0三", "1班"), ("张三", "1\u{7}班"), ("张\u{1B}[31m三", "1班"), ("张三", "1\u{85}班")] {
        let csv = format!("school_id,student_id,name,class\ns1,A1,{name},{class}\n");
        let got = line_codes(parse_roster(csv.as_bytes(), &schools()));
        assert_eq!(got.len(), 1, "{name:?} {class:?}");
        assert!(matches!(got[0], (2, "bad_name" | "bad_class")), "{got:?}");
    }
}

#[test]
fn invisible_reordering_and_zero_width_characters_in_names_are_refused() {
    // Right-to-left override, isolates, zero-width space/joiner, word joiner, BOM, soft hyphen.
    for bad in ["张\u{202E}三", "张\u{2067}三\u{2069}", "张\u{200B}三", "张\u{200D}三", "张\u{2060}三", "\u{FEFF}张三", "张\u{AD}三"] {
        let csv = format!("school_id,student_id,name,class\ns1,A1,{bad},1班\ns1,A2,李四,{bad}\n");
        assert_eq!(line_codes(parse_roster(csv.as_bytes(), &schools())), [(2, "bad_name"), (3, "bad_class")], "{bad:?}");
    }
    // Ordinary Chinese names with a middle dot (少数民族姓名) and spaces stay valid.
    let csv = "school_id,student_id,name,class\ns1,A1,买买提·艾力,高三(1)班\ns1,A2,Anna Li,1 班\n";
    assert_eq!(parse_roster(csv.as_bytes(), &schools()).map(|r| r.len()).ok(), Some(2));
}

#[test]
fn path_tricks_in_student_ids_are_line_errors() {
    let ids = ["../x", "a/b", "..\\x", "a.jpg", "", "学号", "A\u{200B}1", "１２３", &"9".repeat(33), "A 1"];
    let mut csv = String::from("school_id,student_id,name,class\n");
    for id in ids {
        csv.push_str(&format!("s1,\"{id}\",张三,1班\n"));
    }
    let got = line_codes(parse_roster(csv.as_bytes(), &schools()));
    // "A 1" keeps its inner space (only the ends are trimmed) and is refused too.
    let want: Vec<(usize, &str)> = (0..ids.len()).map(|i| (i + 2, "bad_student_id")).collect();
    assert_eq!(got, want);
}

#[test]
fn headers_must_match_and_junk_is_a_clean_error() {
    let upper = "SCHOOL_ID,Student_Id,NAME,Class\ns1,A1,张三,1班\n";
    assert_eq!(names(upper.as_bytes()), ["张三"]);
    for junk in [
        b"".as_slice(),
        b"\xEF\xBB\xBF",
        b"school_id,student_id,name\ns1,A1,x\n",
        b"\xFF\xFE\0s\0c\0h\0",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        b"school_id,student_id,name,class\n",
        b"school_id,student_id,name,class\n,,,\n\n",
    ] {
        assert_eq!(code(parse_roster(junk, &schools())), "invalid_csv", "{junk:?}");
        assert_eq!(code(parse_schools(junk, &HashSet::new())), "invalid_csv", "{junk:?}");
    }
}

#[test]
fn echoed_values_are_bounded() {
    let huge_school = "s".repeat(1_000_000);
    let huge_name = "名".repeat(1_000_000);
    let csv = format!("school_id,student_id,name,class\n{huge_school},A1,张三,1班\ns1,A2,{huge_name},1班\ns1,{huge_school},张三,1班\n");
    let Err(ApiError::Lines { lines, .. }) = parse_roster(csv.as_bytes(), &schools()) else { panic!("must fail") };
    assert_eq!(lines.iter().map(|l| l.code).collect::<Vec<_>>(), ["unknown_school", "bad_name", "bad_student_id"]);
    for l in &lines {
        assert!(l.message.chars().count() < 200, "{}: message of {} chars", l.code, l.message.chars().count());
    }
}

fn student(name: &str, class: &str, reason: &str) -> Student {
    Student {
        student_id: StudentId::parse("A1").unwrap(),
        school_id: "s1".into(),
        name: name.into(),
        class: class.into(),
        status: Status::Rejected,
        reasons: vec![Reason::new("x", reason)],
        uploaded_at: None,
        reviewed_at: None,
        photo_key: None,
        generation: 1,
        photo_hash: None,
        version: 0,
        decided_by: None,
        appeal: None,
        flags: Vec::new(),
        review_required: false,
        uploaded_by: None,
        auto_cropped: false,
        geometry: None,
    }
}

/// The export read back as a CSV reader (and Excel) sees it: BOM, header, records.
fn read_export(bytes: &[u8]) -> Vec<Vec<String>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("export starts with a UTF-8 BOM");
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(body);
    assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), ["学籍副号", "姓名", "班级", "上传状态", "原因", "上传人"]);
    r.records().map(|rec| rec.expect("valid CSV").iter().map(str::to_owned).collect()).collect()
}

const FORMULAS: &[&str] = &[
    "=HYPERLINK(\"http://x\",\"点我\")",
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
    "=",
    "+",
    "-",
    "@",
];

#[test]
fn formula_cells_are_neutralised_in_the_roster_export() {
    let students: Vec<Student> = FORMULAS.iter().map(|f| student(f, f, f)).collect();
    let rows = read_export(&roster_csv(&students).unwrap());
    assert_eq!(rows.len(), FORMULAS.len());
    for (row, f) in rows.iter().zip(FORMULAS) {
        let want = format!("'{f}");
        assert_eq!(row[0], "A1");
        assert_eq!((&row[1], &row[2], &row[4]), (&want, &want, &want), "{f:?}");
        assert_eq!(row[3], "未通过审核");
    }
}

#[test]
fn harmless_cells_are_exported_unchanged() {
    let cells = ["张三", "初三(1)班", "1+1", "a=b", "'=already", " =1 with a space", "＝全角", "名,逗号", "引\"号", "换\n行"];
    let students: Vec<Student> = cells.iter().map(|c| student(c, c, c)).collect();
    let rows = read_export(&roster_csv(&students).unwrap());
    for (row, c) in rows.iter().zip(cells) {
        assert_eq!((&*row[1], &*row[2], &*row[4]), (c, c, c));
    }
}

#[test]
fn neutralise_is_exactly_the_owasp_leading_characters() {
    for c in ['=', '+', '-', '@', '\t', '\r'] {
        assert_eq!(neutralise(&format!("{c}x")), format!("'{c}x"));
    }
    for c in ['a', '1', '\'', ' ', '学', '＝', '"'] {
        assert_eq!(neutralise(&format!("{c}x")), format!("{c}x"));
    }
    assert_eq!(neutralise(""), "");
}

#[test]
fn imported_formula_names_round_trip_neutralised() {
    // What a hostile bureau file puts in: the import keeps the text, the export defuses it.
    let csv = "school_id,student_id,name,class\ns1,A1,=1+1,@班\ns1,A2,\"-2,3\",+1\n";
    let rows = parse_roster(csv.as_bytes(), &schools()).unwrap();
    let students: Vec<Student> = rows.iter().map(|(_, r)| student(&r.name, &r.class, "")).collect();
    let out = read_export(&roster_csv(&students).unwrap());
    assert_eq!((&*out[0][1], &*out[0][2]), ("'=1+1", "'@班"));
    assert_eq!((&*out[1][1], &*out[1][2]), ("'-2,3", "'+1"));
}

#[test]
fn a_roster_of_100k_lines_parses() {
    let mut csv = String::with_capacity(4_000_000);
    csv.push_str("\u{FEFF}school_id,student_id,name,class\r\n");
    for i in 0..100_000 {
        csv.push_str(&format!("s{},G{i:018},学生{i},初三({})班\r\n", 1 + i % 2, i % 12 + 1));
    }
    let rows = parse_roster(csv.as_bytes(), &schools()).expect("100k rows parse");
    assert_eq!(rows.len(), 100_000);
    assert_eq!(rows[99_999].0, 100_001, "line numbers count from the header");
    assert_eq!(rows[99_999].1.student_id.as_str(), "G000000000000099999");
    // One duplicate at the very end refuses the whole file, naming both lines.
    csv.push_str("s1,G000000000000000000,重复,1班\r\n");
    let Err(ApiError::Lines { lines, .. }) = parse_roster(csv.as_bytes(), &schools()) else { panic!("must fail") };
    assert_eq!((lines.len(), lines[0].line, lines[0].code), (1, 100_002, "duplicate_student"));
    assert!(lines[0].message.contains("第 2 行"), "{}", lines[0].message);
}

#[test]
fn generated_junk_never_panics() {
    let mut seed = 0x5EED_u64;
    let alphabet: &[&[u8]] = &[b",", b"\"", b"\n", b"\r", b"s1", b"A1", b"=", b"\xEF\xBB\xBF", b"\xFF", b"\xD5\xC5", b"\0", b"x"];
    let header = b"school_id,student_id,name,class\n";
    for i in 0..20_000 {
        let mut f = if i % 2 == 0 { header.to_vec() } else { Vec::new() };
        for _ in 0..(i % 64) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            f.extend_from_slice(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let _ = parse_schools(&f, &HashSet::from([("d".to_owned(), "s".to_owned(), Stage::Primary)]));
        if let Ok(rows) = parse_roster(&f, &schools()) {
            let students: Vec<Student> = rows.iter().map(|(_, r)| student(&r.name, &r.class, &r.name)).collect();
            for row in read_export(&roster_csv(&students).unwrap()) {
                for cell in &row[1..] {
                    assert!(!matches!(cell.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r')), "{cell:?}");
                }
            }
        }
    }
}
