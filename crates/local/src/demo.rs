//! `gradphoto serve --demo`: a campaign open around the clock, two schools, a roster, a
//! reviewer and a bureau account, so a newcomer can try every screen at once.

use chrono::{Duration, Utc};
use gradphoto_core::ports::Records;
use gradphoto_core::{Campaign, DailyTime, Role, RosterRow, School, Stage, StudentId};
use gradphoto_service::{AccountRefused, NewAccountError};

pub const BUREAU: (&str, &str) = ("bureau", "bureau123");
pub const REVIEWER: (&str, &str) = ("reviewer1", "review123");

const SURNAMES: [&str; 12] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙"];
const GIVEN: [&str; 12] = ["子涵", "浩然", "欣怡", "宇轩", "梓萱", "俊杰", "雨桐", "思远", "佳怡", "博文", "诗琪", "天佑"];

fn roster(school_id: &str, prefix: &str, classes: &[&str], per_class: usize) -> Vec<RosterRow> {
    let mut rows = Vec::new();
    for (c, class) in classes.iter().enumerate() {
        for i in 0..per_class {
            let n = c * per_class + i;
            rows.push(RosterRow {
                school_id: school_id.to_owned(),
                student_id: StudentId::parse(&format!("{prefix}{:04}", n + 1)).expect("demo ids are valid"),
                name: format!("{}{}", SURNAMES[n % SURNAMES.len()], GIVEN[(n / SURNAMES.len() + n) % GIVEN.len()]),
                class: (*class).to_owned(),
            });
        }
    }
    rows
}

/// Seeds an empty store (a store that already has schools is left alone) and returns what to
/// print: the schools with their codes.
pub async fn seed(records: &dyn Records) -> Result<Vec<School>, String> {
    let existing = records.schools().await.map_err(|e| e.to_string())?;
    if !existing.is_empty() {
        return Ok(existing);
    }
    let today = Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let campaign = Campaign {
        name: "2026届毕业生照片采集（演示）".into(),
        starts_on: today - Duration::days(1),
        ends_on: today + Duration::days(90),
        daily_open: DailyTime::MIDNIGHT,
        daily_close: DailyTime::END_OF_DAY,
        timezone: chrono_tz::Asia::Shanghai,
        review_policy: Default::default(),
        parents_enabled: true,
    };
    records.put_campaign(&campaign).await.map_err(|e| e.to_string())?;
    let schools = vec![
        School {
            school_id: "demo-junior".into(),
            district: "黄浦区".into(),
            name: "格致初级中学".into(),
            stage: Stage::Junior,
            registration_code: "DEMO2026JR".into(),
            username: None,
        },
        School {
            school_id: "demo-primary".into(),
            district: "徐汇区".into(),
            name: "徐汇区实验小学".into(),
            stage: Stage::Primary,
            registration_code: "DEMO2026PR".into(),
            username: None,
        },
    ];
    records.insert_schools(&schools).await.map_err(|e| e.to_string())?;
    let mut rows = roster("demo-junior", "J2026", &["九(1)班", "九(2)班", "九(3)班"], 12);
    rows.extend(roster("demo-primary", "P2026", &["五(1)班", "五(2)班"], 10));
    records.import_roster(&rows).await.map_err(|e| e.to_string())?;
    for (user, pass, role) in [(BUREAU.0, BUREAU.1, Role::Bureau), (REVIEWER.0, REVIEWER.1, Role::Reviewer)] {
        match gradphoto_service::create_staff_account(records, role, user, pass, Utc::now()).await {
            Ok(_) | Err(NewAccountError::Refused(AccountRefused::UsernameTaken)) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(schools)
}

pub fn banner(schools: &[School], url: &str) -> String {
    let mut s = format!("\n gradphoto 演示服务器已启动：{url}\n\n 学校注册码（每个只能注册一次）：\n");
    for school in schools {
        let state = if school.username.is_some() { "（已注册）" } else { "" };
        s += &format!("   {} {}（{}）  注册码 {}{}\n", school.district, school.name, school.stage.label(), school.registration_code, state);
    }
    s += &format!(
        "\n 审核员：{} / {}    区县/市教委：{} / {}\n 教师页面：{url}/    审核台：{url}/review.html    管理页：{url}/bureau.html\n",
        REVIEWER.0, REVIEWER.1, BUREAU.0, BUREAU.1
    );
    s
}
