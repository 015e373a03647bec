//! The bureau's export of approved photos: one ZIP with `{school_id}/{student_id}.jpg` and a
//! `manifest.csv`, built in a temporary file (a city-wide export does not fit in memory). The
//! same builder serves the streamed `GET /api/admin/export` and `POST /api/admin/exports`, which
//! stores the ZIP and answers a download link: API Gateway caps a Lambda's response at 6 MB,
//! so on AWS a school's photos can only leave through the bucket.

use crate::csv_io;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use gradphoto_core::ports::{BackendError, PhotoStore, ReadError, Records};
use gradphoto_core::{School, Student};
use std::collections::HashMap;
use std::io::{Seek, Write};

/// Where stored exports live; the bucket's lifecycle rule and `prune` expire them.
pub const PREFIX: &str = "exports/";
/// Photos read from the store at once while the ZIP is written in order.
const PARALLEL_READS: usize = 16;
const STAMP: &str = "%Y%m%d-%H%M%S";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("unknown school {0}")]
    UnknownSchool(String),
    #[error("{photos} photos exceed the limit of {limit} for one export")]
    TooMany { photos: usize, limit: usize },
    #[error("approved photo {key} unreadable: {reason}")]
    Unreadable { key: String, reason: String },
    #[error("writing the export: {0}")]
    Write(String),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

fn write_err(e: impl std::fmt::Display) -> ExportError {
    ExportError::Write(e.to_string())
}

/// A finished ZIP in a temporary file, rewound, deleted when dropped.
pub struct ExportZip {
    pub file: tempfile::NamedTempFile,
    /// `approved-{school|all}-{stamp}-{random}.zip`: unique, and safe as a key segment.
    pub name: String,
    pub photos: usize,
    pub bytes: u64,
}

/// Builds the export of one school (or all, with `None`), of one district's schools only with
/// `district`. `limit` caps the number of photos, for deployments that must finish within a
/// request's time (the Lambda behind API Gateway).
#[allow(clippy::too_many_arguments)]
pub async fn build(
    records: &dyn Records,
    store: &dyn PhotoStore,
    max_photo_bytes: u64,
    school_id: Option<&str>,
    district: Option<&str>,
    limit: Option<usize>,
    now: DateTime<Utc>,
) -> Result<ExportZip, ExportError> {
    let schools: HashMap<String, School> = records.schools().await?.into_iter().map(|s| (s.school_id.clone(), s)).collect();
    let in_scope = |id: &str| schools.get(id).is_some_and(|s| district.is_none_or(|d| s.district == d));
    if let Some(id) = school_id
        && !in_scope(id)
    {
        return Err(ExportError::UnknownSchool(id.to_owned()));
    }
    let students: Vec<Student> =
        records.approved(school_id).await?.into_iter().filter(|s| s.photo_key.is_some() && in_scope(&s.school_id)).collect();
    if let Some(limit) = limit
        && students.len() > limit
    {
        return Err(ExportError::TooMany { photos: students.len(), limit });
    }

    let mut file = tempfile::NamedTempFile::new().map_err(write_err)?;
    let mut zip = zip::ZipWriter::new(file.as_file_mut());
    // JPEGs do not compress; storing them keeps the export fast and the ZIP streamable.
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut manifest = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    manifest
        .write_record(["school_id", "district", "school", "stage", "student_id", "name", "class", "file", "reviewed_at", "decided_by"])
        .map_err(write_err)?;

    // Reads overlap (the store is remote on AWS); writes stay in roster order.
    let mut photos = futures_util::stream::iter(students)
        .map(|s| async move {
            let key = s.photo_key.clone().unwrap_or_default();
            match store.read(&key, max_photo_bytes).await {
                Ok(bytes) => Ok((s, bytes)),
                Err(ReadError::Backend(e)) => Err(ExportError::Backend(e)),
                Err(e) => Err(ExportError::Unreadable { key, reason: e.to_string() }),
            }
        })
        .buffered(PARALLEL_READS);
    let mut count = 0;
    while let Some((s, bytes)) = photos.try_next().await? {
        let path = format!("{}/{}.jpg", s.school_id, s.student_id);
        zip.start_file(path.as_str(), opts).map_err(write_err)?;
        zip.write_all(&bytes).map_err(write_err)?;
        let school = schools.get(&s.school_id);
        manifest
            .write_record([
                s.school_id.clone(),
                school.map(|x| csv_io::neutralise(&x.district)).unwrap_or_default(),
                school.map(|x| csv_io::neutralise(&x.name)).unwrap_or_default(),
                school.map(|x| x.stage.as_str().to_owned()).unwrap_or_default(),
                s.student_id.to_string(),
                csv_io::neutralise(&s.name),
                csv_io::neutralise(&s.class),
                path,
                s.reviewed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                s.decider().map(|d| d.as_str().to_owned()).unwrap_or_default(),
            ])
            .map_err(write_err)?;
        count += 1;
    }
    drop(photos);
    let manifest = manifest.into_inner().map_err(write_err)?;
    zip.start_file("manifest.csv", opts).map_err(write_err)?;
    zip.write_all(&manifest).map_err(write_err)?;
    zip.finish().map_err(write_err)?;
    let bytes = file.as_file().metadata().map_err(write_err)?.len();
    file.as_file_mut().rewind().map_err(write_err)?;
    Ok(ExportZip { file, name: file_name(school_id.or(district.map(|_| "district")), now), photos: count, bytes })
}

fn file_name(school_id: Option<&str>, now: DateTime<Utc>) -> String {
    let scope: String = school_id.unwrap_or("all").chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')).take(40).collect();
    let scope = if scope.is_empty() { "school".to_owned() } else { scope };
    format!("approved-{scope}-{}-{:06x}.zip", now.format(STAMP), rand::random::<u32>() & 0xff_ffff)
}

/// When a stored export was made, read back from its name.
fn made_at(key: &str) -> Option<DateTime<Utc>> {
    let name = key.strip_prefix(PREFIX)?.strip_suffix(".zip")?;
    // approved-{scope}-{YYYYmmdd}-{HHMMSS}-{random}: the stamp is the 2nd and 3rd fields from the end.
    let mut parts = name.rsplitn(4, '-');
    let (_random, time, date) = (parts.next()?, parts.next()?, parts.next()?);
    NaiveDateTime::parse_from_str(&format!("{date}-{time}"), STAMP).ok().map(|t| t.and_utc())
}

/// Deletes stored exports older than `keep`: a download link never outlives its file's
/// purpose, and photos do not pile up in a second copy (S3's lifecycle rule does the same).
pub async fn prune(store: &dyn PhotoStore, now: DateTime<Utc>, keep: Duration) -> Result<usize, BackendError> {
    let mut deleted = 0;
    for key in store.list(PREFIX).await? {
        if made_at(&key).is_some_and(|t| now - t > keep) {
            store.delete(&key).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_are_safe_unique_and_carry_their_time() {
        let now = Utc.with_ymd_and_hms(2026, 6, 30, 9, 5, 7).unwrap();
        let a = file_name(Some("sch-1"), now);
        assert!(a.starts_with("approved-sch-1-20260630-090507-") && a.ends_with(".zip"), "{a}");
        assert_eq!(made_at(&format!("{PREFIX}{a}")), Some(now));
        assert_eq!(made_at(&format!("{PREFIX}{}", file_name(None, now))), Some(now));
        let odd = file_name(Some("../x y\"z"), now);
        assert!(odd.starts_with("approved-xyz-"), "{odd}");
        assert_eq!(made_at("exports/notes.txt"), None);
        assert_eq!(made_at("uploads/a/b/c.jpg"), None);
    }
}
