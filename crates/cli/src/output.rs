//! Result files are written whole or not at all: into a temporary file in the
//! destination folder, renamed over the destination only once complete, so a
//! failure or an interruption never leaves a truncated file behind.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `path` with `fill`, atomically. The file gets ordinary permissions
/// (0666 less the umask), not the private 0600 of a temporary file.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".xbar-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    {
        let mut writer = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut writer).with_context(|| format!("writing {}", path.display()))?;
        writer
            .flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    tmp.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

/// Writes a CSV file atomically; `body` writes the header and the records.
pub fn write_csv(
    path: &Path,
    body: impl FnOnce(&mut csv::Writer<&mut dyn Write>) -> Result<()>,
) -> Result<()> {
    write_atomically(path, |w| {
        let mut writer = csv::Writer::from_writer(w);
        body(&mut writer)?;
        writer.flush()?;
        Ok(())
    })
}
