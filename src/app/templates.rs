//! `tierbench templates list | export DIR`: the built-in report templates, to read or to start
//! a replacement from (then `--templates DIR`).

use std::path::Path;

use crate::cli::TemplatesCommand;
use crate::exit;
use crate::report::catalog::builtins;

/// Runs `tierbench templates ...` and returns the exit code.
pub fn command(command: &TemplatesCommand) -> u8 {
    match command {
        TemplatesCommand::List => {
            list();
            exit::OK
        }
        TemplatesCommand::Export { dir, force } => match export(dir, *force) {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("error: {e}");
                exit::INVALID_INPUT
            }
        },
    }
}

fn list() {
    let all = builtins();
    let name_width = all.iter().map(|b| b.name.len()).max().unwrap_or(0);
    let format_width = all.iter().map(|b| b.format.len()).max().unwrap_or(0);
    println!(
        "{:name_width$}  {:format_width$}  description",
        "template", "format"
    );
    for b in all {
        println!(
            "{:name_width$}  {:format_width$}  {}",
            b.name, b.format, b.description
        );
    }
    println!("\njson is written from the document itself (no template); see docs/templates.md");
}

/// Writes every built-in template into `dir`; refuses (before writing anything) when one exists.
fn export(dir: &Path, force: bool) -> Result<(), String> {
    let all = builtins();
    if !force {
        let existing: Vec<String> = all
            .iter()
            .map(|b| dir.join(b.name))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(format!(
                "not overwriting {} (use --force to replace, or export into another folder)",
                existing.join(", ")
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for b in &all {
        let path = dir.join(b.name);
        std::fs::write(&path, b.source).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    eprintln!(
        "wrote {} templates into {}; render with --templates {}",
        all.len(),
        dir.display(),
        dir.display()
    );
    Ok(())
}
