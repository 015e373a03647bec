//! Arbitrary bytes through both bureau imports, and whatever roster parses through the export:
//! every outcome is Ok or a typed error, never a panic.
#![no_main]

use gradphoto_api::csv_io::{parse_roster, parse_schools, roster_csv};
use gradphoto_core::{Reason, Stage, Status, Student, lifecycle};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    let schools: HashSet<String> = ["s1", "s2", "sch-1"].into_iter().map(str::to_owned).collect();
    let existing: HashSet<(String, String, Stage)> = [("黄浦区".to_owned(), "格致中学".to_owned(), Stage::Junior)].into();

    let _ = parse_schools(data, &existing);

    if let Ok(rows) = parse_roster(data, &schools) {
        assert!(!rows.is_empty(), "Ok roster with no rows");
        let students: Vec<Student> = rows
            .into_iter()
            .map(|(line, r)| Student {
                // Names and classes land in the reasons too, so hostile text reaches every
                // exported column.
                reasons: vec![Reason::new("x", format!("{}{}", r.class, line))],
                status: Status::Rejected,
                ..lifecycle::enrol(&r)
            })
            .collect();
        let out = roster_csv(&students).expect("export of parsed rows");
        assert!(out.starts_with(b"\xEF\xBB\xBF"));
        // Read the export back: no exported cell may start like a formula.
        let mut rd = csv::ReaderBuilder::new().has_headers(true).from_reader(&out[3..]);
        for rec in rd.records() {
            let rec = rec.expect("export is valid CSV");
            assert_eq!(rec.len(), 5);
            for cell in rec.iter().skip(1) {
                assert!(
                    !matches!(cell.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r')),
                    "formula-like cell exported: {cell:?}"
                );
            }
        }
    }
});
