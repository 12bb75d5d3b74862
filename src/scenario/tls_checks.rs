//! The check every tier with TLS settings shares: each named file (`tls.ca_file`,
//! `cert_file`, `key_file`) exists, before anything connects.

use super::diagnostic::Problem;

/// A tier's TLS files (`ca_file`, `cert_file`, `key_file`): each one given exists (a relative
/// path from the working directory, as the tier reads it), and a client certificate comes with
/// its key. Checked here so that `validate` catches them, not the run's setup.
pub(super) fn check_tls_files(i: usize, files: [&Option<String>; 3], problems: &mut Vec<Problem>) {
    for (field, path) in ["ca_file", "cert_file", "key_file"].into_iter().zip(files) {
        if let Some(path) = path
            && !std::path::Path::new(path).is_file()
        {
            problems.push(
                Problem::new(
                    format!("/tiers/{i}/tls/{field}"),
                    format!("`{path}` is not a file"),
                )
                .expected("the path of a PEM file")
                .hint("a relative path is taken from the working directory"),
            );
        }
    }
    if files[1].is_some() != files[2].is_some() {
        problems.push(
            Problem::new(
                format!("/tiers/{i}/tls"),
                "a client certificate needs both `cert_file` and `key_file`",
            )
            .hint("give both, or neither"),
        );
    }
}
