//! Returned files saved under `reports/images/`, with names no endpoint file
//! name can steer out of the folder.

use std::path::Path;

use crate::model::ImageFormat;

/// Saves returned bytes as `images/<scenario folders>/<leaf>.r<run>-<n>-<name>.<ext>`
/// (no folder per scenario, so a big suite creates one file per image, not a
/// directory too); returns the path relative to `reports`.
pub(crate) fn save_image(
    reports: &Path,
    scenario: &str,
    run: u32,
    i: usize,
    filename: &str,
    bytes: &[u8],
    ext: Option<&str>,
) -> Option<String> {
    let full = Path::new("images").join(crate::paths::scenario_path(scenario));
    let rel = full.parent().map(Path::to_path_buf).unwrap_or_default();
    let leaf = full
        .file_name()
        .map(|l| l.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = reports.join(&rel);
    std::fs::create_dir_all(&dir).ok()?;
    let stem = crate::paths::sanitize(
        Path::new(filename)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("image"),
    );
    let name = format!("{leaf}.r{run}-{i}-{stem}.{}", ext.unwrap_or("bin"));
    std::fs::write(dir.join(&name), bytes).ok()?;
    Some(crate::paths::slashed(&rel.join(&name)))
}

/// The extension for a still-image format.
pub(crate) fn image_ext(format: Option<ImageFormat>) -> Option<&'static str> {
    format.map(ImageFormat::extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_filename_cannot_leave_the_reports_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let reports = tmp.path().join("reports");
        let rel = save_image(
            &reports,
            "sdxl/../../evil",
            0,
            0,
            "../../x.png",
            b"png",
            Some("png"),
        )
        .unwrap();
        assert_eq!(rel, "images/sdxl/_/_/evil.r0-0-x.png");
        let written = reports.join(&rel);
        assert!(written.is_file());
        assert!(written
            .canonicalize()
            .unwrap()
            .starts_with(reports.canonicalize().unwrap()));
        let rel = save_image(&reports, "a", 0, 1, "/etc/passwd", b"x", None).unwrap();
        assert_eq!(rel, "images/a.r0-1-passwd.bin");
        let rel = save_image(&reports, "雪/狐", 0, 0, "狐_00001_.png", b"x", Some("png")).unwrap();
        assert_eq!(rel, "images/雪/狐.r0-0-狐_00001_.png");
    }
}
