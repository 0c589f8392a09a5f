//! MNIST in its original IDX layout: finding the files, downloading them into
//! the cache on first use, and verifying them before anything trains on them.
//!
//! The SHA-256 check is on the *decompressed* contents, so any faithful mirror
//! validates whichever gzip produced its archive, and raw (uncompressed) files
//! are accepted as well.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

use crate::atomic_write;

/// Pixels per MNIST image side.
pub const SIDE: usize = 28;
/// Pixels per MNIST image.
pub const PIXELS: usize = SIDE * SIDE;

/// Environment variable naming a folder that holds the four MNIST files.
pub const ENV_DIR: &str = "XBAR_MNIST_DIR";
/// Environment variable overriding the download mirrors: base URLs separated
/// by commas or white space; each file is fetched as `BASE/NAME.gz`.
pub const ENV_URL: &str = "XBAR_MNIST_URL";

/// Public mirrors of the original MNIST archives, tried in order.
pub const DEFAULT_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// The largest file (decompressed, or downloaded) the loader reads: about 2.7
/// times MNIST's largest, `train-images-idx3-ubyte` (47,040,016 bytes), so no
/// file, however it is compressed or served, makes the loader hold more.
pub const MAX_FILE_BYTES: u64 = 1 << 27;

const HOW_TO_SUPPLY: &str = "supply the four MNIST IDX files (gzip or raw) in a folder named by \
     --mnist DIR or the XBAR_MNIST_DIR environment variable, or delete the bad file from the \
     cache so that it is downloaded again";

/// One of the four MNIST files: its base name (without `.gz`) and the SHA-256
/// of its decompressed contents, as lower-case hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    pub name: String,
    pub sha256: String,
}

/// The four files that make up MNIST, with the digests they must have.
/// [`Files::standard`] gives the real MNIST; tests supply their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Files {
    pub train_images: FileSpec,
    pub train_labels: FileSpec,
    pub test_images: FileSpec,
    pub test_labels: FileSpec,
}

impl Files {
    /// The original MNIST files (digests of the decompressed IDX contents).
    pub fn standard() -> Self {
        let spec = |name: &str, sha256: &str| FileSpec {
            name: name.to_string(),
            sha256: sha256.to_string(),
        };
        Files {
            train_images: spec(
                "train-images-idx3-ubyte",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            train_labels: spec(
                "train-labels-idx1-ubyte",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            test_images: spec(
                "t10k-images-idx3-ubyte",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            test_labels: spec(
                "t10k-labels-idx1-ubyte",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        }
    }

    fn all(&self) -> [&FileSpec; 4] {
        [
            &self.train_images,
            &self.train_labels,
            &self.test_images,
            &self.test_labels,
        ]
    }

    /// The images and labels files of one split.
    pub fn split(&self, split: Split) -> [&FileSpec; 2] {
        match split {
            Split::Train => [&self.train_images, &self.train_labels],
            Split::Test => [&self.test_images, &self.test_labels],
        }
    }
}

/// One half of MNIST: a command reads (and downloads) only the halves it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The 60,000 training images.
    Train,
    /// The 10,000 test images.
    Test,
}

/// Everything that can go wrong while finding, fetching or reading MNIST.
#[derive(Debug, thiserror::Error)]
pub enum MnistError {
    #[error("MNIST file {name} not found in {dir} (looked for {name} and {name}.gz); {HOW_TO_SUPPLY}", dir = .dir.display())]
    Missing { dir: PathBuf, name: String },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: the gzip stream is corrupt or truncated ({source}); {HOW_TO_SUPPLY}", .path.display())]
    Gzip {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: SHA-256 of the decompressed contents is {actual}, expected {expected}: the file is corrupt or truncated; {HOW_TO_SUPPLY}", .path.display())]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{}: decompresses to more than {limit} bytes, the size its IDX header's dimensions give (at most {MAX_FILE_BYTES}, about 2.7 times the largest MNIST file); the file is corrupt or not MNIST; {HOW_TO_SUPPLY}", .path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{}: not a valid IDX file: {reason}", .path.display())]
    Format { path: PathBuf, reason: String },
    #[error("could not download MNIST file {name}: {attempts}; check the network, set XBAR_MNIST_URL to a mirror, or {HOW_TO_SUPPLY}")]
    Download { name: String, attempts: String },
    #[error("this system has no user cache folder to download MNIST into; pass --mnist DIR or set XBAR_MNIST_DIR")]
    NoCacheDir,
}

type Result<T> = std::result::Result<T, MnistError>;

/// A set of labelled images, pixels row-major as in the IDX file.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `len() * rows * cols` grey levels, 0 = background.
    pub images: Vec<u8>,
    /// One class label (0..=9) per image.
    pub labels: Vec<u8>,
    pub rows: usize,
    pub cols: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// The grey levels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let p = self.pixels();
        &self.images[i * p..(i + 1) * p]
    }

    /// The first `n` images (all of them if there are fewer).
    pub fn truncated(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            images: self.images[..n * self.pixels()].to_vec(),
            labels: self.labels[..n].to_vec(),
            rows: self.rows,
            cols: self.cols,
        }
    }
}

/// The standard split: 60,000 training and 10,000 test images.
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist {
    pub train: Dataset,
    pub test: Dataset,
}

/// Where the MNIST files were found, for messages to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Named by `--mnist DIR`.
    Argument(PathBuf),
    /// Named by `XBAR_MNIST_DIR`.
    Environment(PathBuf),
    /// The user's cache folder (filled by download when needed).
    Cache(PathBuf),
}

impl Origin {
    pub fn dir(&self) -> &Path {
        match self {
            Origin::Argument(p) | Origin::Environment(p) | Origin::Cache(p) => p,
        }
    }
}

/// Picks the folder: the explicit argument, else `XBAR_MNIST_DIR`, else
/// `<cache>/xbar/mnist`.
pub fn resolve_dir(arg: Option<&Path>) -> Result<Origin> {
    if let Some(dir) = arg {
        return Ok(Origin::Argument(dir.to_path_buf()));
    }
    if let Some(dir) = std::env::var_os(ENV_DIR).filter(|d| !d.is_empty()) {
        return Ok(Origin::Environment(PathBuf::from(dir)));
    }
    let cache = dirs::cache_dir().ok_or(MnistError::NoCacheDir)?;
    Ok(Origin::Cache(cache.join("xbar").join("mnist")))
}

/// The download mirrors: `XBAR_MNIST_URL` if set, else [`DEFAULT_MIRRORS`].
pub fn mirrors_from_env() -> Vec<String> {
    match std::env::var(ENV_URL) {
        Ok(list) if !list.trim().is_empty() => list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => DEFAULT_MIRRORS.iter().map(|s| s.to_string()).collect(),
    }
}

/// Loads MNIST the way the command line does: from `--mnist DIR`, else
/// `XBAR_MNIST_DIR`, else the cache folder, downloading into the cache any
/// file that is not there yet. Folders the user names are never written to.
pub fn load(arg: Option<&Path>, progress: bool) -> Result<Mnist> {
    let files = Files::standard();
    let dir = locate(arg, &[Split::Train, Split::Test], progress)?;
    load_dir(&dir, &files)
}

/// Loads one split as [`load`] does, fetching only that split's two files.
pub fn load_split(arg: Option<&Path>, split: Split, progress: bool) -> Result<Dataset> {
    let files = Files::standard();
    let dir = locate(arg, &[split], progress)?;
    let [images, labels] = files.split(split);
    read_split(&dir, images, labels)
}

/// The folder [`load`] reads `splits` from (`--mnist DIR`, else
/// `XBAR_MNIST_DIR`, else the cache), after downloading into the cache the
/// files of `splits` it does not hold yet.
pub fn locate(arg: Option<&Path>, splits: &[Split], progress: bool) -> Result<PathBuf> {
    let files = Files::standard();
    match resolve_dir(arg)? {
        Origin::Cache(dir) => {
            let downloader = Downloader {
                mirrors: mirrors_from_env(),
                progress,
                timeout: Duration::from_secs(120),
            };
            for &split in splits {
                downloader.fetch_missing_specs(&dir, &files.split(split))?;
            }
            Ok(dir)
        }
        origin => Ok(origin.dir().to_path_buf()),
    }
}

/// Reads and verifies the four files in `dir`.
pub fn load_dir(dir: &Path, files: &Files) -> Result<Mnist> {
    Ok(Mnist {
        train: read_split(dir, &files.train_images, &files.train_labels)?,
        test: read_split(dir, &files.test_images, &files.test_labels)?,
    })
}

fn read_split(dir: &Path, images: &FileSpec, labels: &FileSpec) -> Result<Dataset> {
    let (img_path, img_bytes) = read_verified(dir, images)?;
    let (lbl_path, lbl_bytes) = read_verified(dir, labels)?;
    let (dims, pixels) = parse_idx(&img_path, &img_bytes, 3)?;
    let (ldims, labels) = parse_idx(&lbl_path, &lbl_bytes, 1)?;
    if dims[0] != ldims[0] {
        return Err(MnistError::Format {
            path: lbl_path,
            reason: format!(
                "{} labels for {} images in {}",
                ldims[0],
                dims[0],
                img_path.display()
            ),
        });
    }
    if let Some(bad) = labels.iter().find(|&&l| l > 9) {
        return Err(MnistError::Format {
            path: lbl_path,
            reason: format!("label {bad} is not a digit"),
        });
    }
    Ok(Dataset {
        images: pixels.to_vec(),
        labels: labels.to_vec(),
        rows: dims[1],
        cols: dims[2],
    })
}

/// Finds `NAME` or `NAME.gz` in `dir`, decompresses it if it is gzip and
/// checks the digest of the contents.
fn read_verified(dir: &Path, spec: &FileSpec) -> Result<(PathBuf, Vec<u8>)> {
    let candidates = [dir.join(&spec.name), dir.join(format!("{}.gz", spec.name))];
    let path = candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| MnistError::Missing {
            dir: dir.to_path_buf(),
            name: spec.name.clone(),
        })?;
    let io_error = |source| MnistError::Io {
        path: path.clone(),
        source,
    };
    if fs::metadata(&path).map_err(io_error)?.len() > MAX_FILE_BYTES {
        return Err(MnistError::TooLarge {
            path,
            limit: MAX_FILE_BYTES,
        });
    }
    let raw = fs::read(&path).map_err(io_error)?;
    let contents = decode_verified(&path, raw, spec)?;
    Ok((path, contents))
}

/// Decompresses (if gzip) and checks the SHA-256 of the contents. The
/// decompressed size is bounded by the dimensions in the IDX header (and by
/// [`MAX_FILE_BYTES`]) as it is read, so a gzip bomb costs no more memory
/// than the file it claims to be.
fn decode_verified(path: &Path, raw: Vec<u8>, spec: &FileSpec) -> Result<Vec<u8>> {
    let contents = if raw.starts_with(&[0x1f, 0x8b]) {
        let gzip_error = |source| MnistError::Gzip {
            path: path.to_path_buf(),
            source,
        };
        let mut decoder = GzDecoder::new(raw.as_slice());
        let mut out = Vec::new();
        (&mut decoder)
            .take(4)
            .read_to_end(&mut out)
            .map_err(gzip_error)?;
        let ndim = match out[..] {
            [0, 0, 0x08, ndim] => u64::from(ndim),
            _ => 0,
        };
        (&mut decoder)
            .take(4 * ndim)
            .read_to_end(&mut out)
            .map_err(gzip_error)?;
        let limit = idx_file_size(&out)
            .unwrap_or(MAX_FILE_BYTES)
            .min(MAX_FILE_BYTES);
        (&mut decoder)
            .take(limit + 1 - out.len() as u64)
            .read_to_end(&mut out)
            .map_err(gzip_error)?;
        if out.len() as u64 > limit {
            return Err(MnistError::TooLarge {
                path: path.to_path_buf(),
                limit,
            });
        }
        out
    } else {
        raw
    };
    let actual = sha256_hex(&contents);
    if !actual.eq_ignore_ascii_case(&spec.sha256) {
        return Err(MnistError::Checksum {
            path: path.to_path_buf(),
            expected: spec.sha256.clone(),
            actual,
        });
    }
    Ok(contents)
}

/// The size an IDX file of unsigned bytes has by its header (magic and
/// dimensions), when `header` holds a complete one.
fn idx_file_size(header: &[u8]) -> Option<u64> {
    let [0, 0, 0x08, ndim, ref dims @ ..] = *header else {
        return None;
    };
    if ndim == 0 || dims.len() != 4 * usize::from(ndim) {
        return None;
    }
    dims.chunks_exact(4)
        .map(|d| u64::from(u32::from_be_bytes([d[0], d[1], d[2], d[3]])))
        .try_fold(1u64, u64::checked_mul)?
        .checked_add(header.len() as u64)
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Parses an unsigned-byte IDX file with `ndim` dimensions, returning the
/// dimensions and the data.
fn parse_idx<'a>(path: &Path, bytes: &'a [u8], ndim: usize) -> Result<(Vec<usize>, &'a [u8])> {
    let bad = |reason: String| MnistError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(bad(format!(
            "{} bytes is shorter than the {header}-byte header",
            bytes.len()
        )));
    }
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] as usize != ndim {
        return Err(bad(format!(
            "magic {:02x}{:02x}{:02x}{:02x}, expected 000008{ndim:02x} (unsigned bytes, {ndim} dimensions)",
            bytes[0], bytes[1], bytes[2], bytes[3]
        )));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|d| {
            let o = 4 + 4 * d;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("dimensions {dims:?} overflow")))?;
    let data = &bytes[header..];
    if data.len() != expected {
        return Err(bad(format!(
            "dimensions {dims:?} need {expected} data bytes, the file has {}",
            data.len()
        )));
    }
    Ok((dims, data))
}

/// Fetches missing MNIST files from HTTP mirrors into a folder.
#[derive(Clone, Debug)]
pub struct Downloader {
    /// Base URLs; a file is fetched as `BASE/NAME.gz`.
    pub mirrors: Vec<String>,
    /// Draw a progress bar on the terminal.
    pub progress: bool,
    /// Overall time allowed for one file from one mirror.
    pub timeout: Duration,
}

impl Downloader {
    /// Downloads every file of `files` that is absent from `dir` (neither
    /// `NAME` nor `NAME.gz` there). Each download is verified before it is
    /// written, atomically, as `dir/NAME.gz`. Files already present are left
    /// alone (they are verified when loaded).
    pub fn fetch_missing(&self, dir: &Path, files: &Files) -> Result<()> {
        self.fetch_missing_specs(dir, &files.all())
    }

    /// [`Downloader::fetch_missing`] for some of the files.
    pub fn fetch_missing_specs(&self, dir: &Path, specs: &[&FileSpec]) -> Result<()> {
        for spec in specs {
            let present =
                dir.join(&spec.name).is_file() || dir.join(format!("{}.gz", spec.name)).is_file();
            if !present {
                self.fetch(dir, spec)?;
            }
        }
        Ok(())
    }

    /// Downloads one file, trying each mirror in turn until one serves
    /// contents with the expected digest.
    pub fn fetch(&self, dir: &Path, spec: &FileSpec) -> Result<PathBuf> {
        let target = dir.join(format!("{}.gz", spec.name));
        let mut attempts = Vec::new();
        for base in &self.mirrors {
            let url = format!("{}/{}.gz", base.trim_end_matches('/'), spec.name);
            let raw = match self.get(&url) {
                Ok(raw) => raw,
                Err(reason) => {
                    attempts.push(format!("{url}: {reason}"));
                    continue;
                }
            };
            match decode_verified(Path::new(&url), raw.clone(), spec) {
                Ok(_) => {
                    fs::create_dir_all(dir).map_err(|source| MnistError::Io {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                    atomic_write(&target, |w| w.write_all(&raw)).map_err(|source| {
                        MnistError::Io {
                            path: target.clone(),
                            source,
                        }
                    })?;
                    return Ok(target);
                }
                Err(err) => attempts.push(err.to_string()),
            }
        }
        if attempts.is_empty() {
            attempts.push("no mirror configured".to_string());
        }
        Err(MnistError::Download {
            name: spec.name.clone(),
            attempts: attempts.join("; "),
        })
    }

    fn get(&self, url: &str) -> std::result::Result<Vec<u8>, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .build()
            .into();
        let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
        let length = response.body().content_length();
        let bar = if self.progress {
            let bar = indicatif::ProgressBar::new(length.unwrap_or(0));
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let mut reader = response.body_mut().as_reader();
        let mut out = Vec::with_capacity(length.unwrap_or(1 << 20) as usize);
        let mut chunk = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut chunk).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
            if out.len() as u64 > MAX_FILE_BYTES {
                return Err(format!("the server sent more than {MAX_FILE_BYTES} bytes"));
            }
            bar.inc(n as u64);
        }
        bar.finish_and_clear();
        if let Some(len) = length {
            if out.len() as u64 != len {
                return Err(format!(
                    "connection closed after {} of {len} bytes",
                    out.len()
                ));
            }
        }
        Ok(out)
    }
}
