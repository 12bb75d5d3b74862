//! Recording what a run issued (`--record-trace`): each worker writes its own part, and the
//! parts are assembled in workload, phase (warmup first), worker order into one CSV that
//! replays as a trace, a workload's records under its name.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::workload::op::Op;

/// Writes what one worker issued, as CSV lines that replay as a trace.
pub struct TraceWriter {
    out: BufWriter<File>,
    path: PathBuf,
}

impl TraceWriter {
    /// A writer for one worker's part, next to the final file.
    pub fn create(
        base: &Path,
        workload: usize,
        phase: usize,
        worker: usize,
    ) -> std::io::Result<TraceWriter> {
        let path = part_path(base, workload, phase, worker);
        Ok(TraceWriter {
            out: BufWriter::with_capacity(64 * 1024, File::create(&path)?),
            path,
        })
    }

    /// Records one operation (outside the timed interval).
    #[inline]
    pub fn write(&mut self, key: &str, op: Op, size: usize, worker: usize, workload: &str) {
        let _ = writeln!(self.out, "{key},{},{size},{worker},{workload}", op.name());
    }

    /// Flushes and returns the part's path.
    pub fn finish(mut self) -> std::io::Result<PathBuf> {
        self.out.flush()?;
        Ok(self.path)
    }
}

fn part_path(base: &Path, workload: usize, phase: usize, worker: usize) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(format!(".part-{workload:04}-{phase:04}-{worker:06}"));
    PathBuf::from(name)
}

/// Concatenates the parts (in workload, phase, worker order) into `base` with a header, and
/// removes them.
pub fn assemble(base: &Path, mut parts: Vec<PathBuf>) -> std::io::Result<()> {
    parts.sort();
    let mut out = BufWriter::new(File::create(base)?);
    writeln!(out, "key,op,size,worker,workload")?;
    for part in &parts {
        std::io::copy(&mut File::open(part)?, &mut out)?;
        std::fs::remove_file(part)?;
    }
    out.flush()
}
