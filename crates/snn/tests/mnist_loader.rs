//! MNIST loading: local files (gzip and raw), checksum and format errors, and
//! the download path against an HTTP server on loopback.

#[path = "../../../tests/support/mnist_dir.rs"]
mod mnist_support;
use mnist_support::mnist_dir;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use flate2::write::GzEncoder;
use xbar_snn::mnist::{self, Downloader, FileSpec, Files, MnistError};

/// A small IDX image file: `n` images of `side x side` pixels.
fn idx_images(n: usize, side: usize, seed: u8) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    for d in [n, side, side] {
        v.extend_from_slice(&(d as u32).to_be_bytes());
    }
    v.extend((0..n * side * side).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v
}

fn idx_labels(n: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend_from_slice(&(n as u32).to_be_bytes());
    v.extend((0..n).map(|i| (i % 10) as u8));
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Synthetic stand-ins for the four files, with their digests.
struct Synthetic {
    files: Files,
    contents: [Vec<u8>; 4],
}

fn synthetic() -> Synthetic {
    let contents = [
        idx_images(6, 28, 1),
        idx_labels(6),
        idx_images(4, 28, 2),
        idx_labels(4),
    ];
    let names = ["train-img", "train-lbl", "test-img", "test-lbl"];
    let spec = |k: usize| FileSpec {
        name: names[k].to_string(),
        sha256: mnist::sha256_hex(&contents[k]),
    };
    Synthetic {
        files: Files {
            train_images: spec(0),
            train_labels: spec(1),
            test_images: spec(2),
            test_labels: spec(3),
        },
        contents,
    }
}

fn names(files: &Files) -> [String; 4] {
    [
        files.train_images.name.clone(),
        files.train_labels.name.clone(),
        files.test_images.name.clone(),
        files.test_labels.name.clone(),
    ]
}

fn write_all(dir: &Path, s: &Synthetic, gz: bool) {
    for (name, c) in names(&s.files).iter().zip(&s.contents) {
        if gz {
            std::fs::write(dir.join(format!("{name}.gz")), gzip(c)).unwrap();
        } else {
            std::fs::write(dir.join(name), c).unwrap();
        }
    }
}

#[test]
fn loads_gzip_and_raw_files_with_their_contents() {
    let s = synthetic();
    for gz in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path(), &s, gz);
        let m = mnist::load_dir(dir.path(), &s.files).unwrap();
        assert_eq!((m.train.len(), m.test.len()), (6, 4));
        assert_eq!((m.train.rows, m.train.cols), (28, 28));
        assert_eq!(m.train.images, s.contents[0][16..]);
        assert_eq!(m.test.labels, vec![0, 1, 2, 3]);
        assert_eq!(m.train.image(5), &s.contents[0][16 + 5 * 784..16 + 6 * 784]);
    }
}

#[test]
fn missing_file_is_named_with_a_remedy() {
    let s = synthetic();
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &s, true);
    std::fs::remove_file(dir.path().join("test-lbl.gz")).unwrap();
    let err = mnist::load_dir(dir.path(), &s.files).unwrap_err();
    assert!(
        matches!(&err, MnistError::Missing { name, .. } if name == "test-lbl"),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("test-lbl") && msg.contains("--mnist DIR"),
        "{msg}"
    );
}

#[test]
fn truncated_gzip_is_reported_as_such() {
    let s = synthetic();
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &s, true);
    let path = dir.path().join("train-img.gz");
    let full = std::fs::read(&path).unwrap();
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let err = mnist::load_dir(dir.path(), &s.files).unwrap_err();
    assert!(matches!(err, MnistError::Gzip { .. }), "{err}");
    assert!(err.to_string().contains("corrupt or truncated"));
}

/// `header` followed by `zeros` zero bytes, gzip-compressed as a stream (a
/// gzip bomb: about a thousandth of its decompressed size).
fn gzip_bomb(header: &[u8], zeros: usize) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(header).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..zeros >> 20 {
        e.write_all(&block).unwrap();
    }
    e.finish().unwrap()
}

#[test]
fn gzip_bombs_are_cut_off_at_the_size_their_header_gives() {
    let s = synthetic();
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &s, true);
    // The header of the real 6-image file, then 64 MiB of zeros: reading
    // stops one byte past the 16 + 6 x 784 bytes the header allows.
    let bomb = gzip_bomb(&s.contents[0][..16], 64 << 20);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    std::fs::write(dir.path().join("train-img.gz"), &bomb).unwrap();
    let err = mnist::load_dir(dir.path(), &s.files).unwrap_err();
    assert!(
        matches!(err, MnistError::TooLarge { limit, .. } if limit == 16 + 6 * 784),
        "{err}"
    );
    assert!(err.to_string().contains("train-img.gz"), "{err}");
    // A header claiming 4e9 images (3 TB) is held to the absolute limit.
    let mut huge = vec![0, 0, 8, 3];
    for d in [4_000_000_000u32, 28, 28] {
        huge.extend_from_slice(&d.to_be_bytes());
    }
    let bomb = gzip_bomb(&huge, (mnist::MAX_FILE_BYTES as usize) + (1 << 20));
    std::fs::write(dir.path().join("train-img.gz"), &bomb).unwrap();
    let err = mnist::load_dir(dir.path(), &s.files).unwrap_err();
    assert!(
        matches!(err, MnistError::TooLarge { limit, .. } if limit == mnist::MAX_FILE_BYTES),
        "{err}"
    );
}

#[test]
fn truncated_raw_file_fails_the_checksum() {
    let s = synthetic();
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &s, false);
    let path = dir.path().join("train-img");
    std::fs::write(&path, &s.contents[0][..1000]).unwrap();
    let err = mnist::load_dir(dir.path(), &s.files).unwrap_err();
    match &err {
        MnistError::Checksum {
            expected, actual, ..
        } => {
            assert_eq!(expected, &s.files.train_images.sha256);
            assert_eq!(actual, &mnist::sha256_hex(&s.contents[0][..1000]));
        }
        other => panic!("expected a checksum error, got {other}"),
    }
}

#[test]
fn corrupted_contents_fail_the_checksum_even_in_valid_gzip() {
    let s = synthetic();
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &s, true);
    let mut bad = s.contents[2].clone();
    bad[100] ^= 0xff;
    std::fs::write(dir.path().join("test-img.gz"), gzip(&bad)).unwrap();
    let err = mnist::load_dir(dir.path(), &s.files).unwrap_err();
    assert!(matches!(err, MnistError::Checksum { .. }), "{err}");
}

#[test]
fn a_wrong_header_with_a_matching_digest_is_a_format_error() {
    let mut s = synthetic();
    // Claims 7 images but holds 6: the digest matches (we supply it) but the
    // structure does not.
    s.contents[0][7] = 7;
    s.files.train_images.sha256 = mnist::sha256_hex(&s.contents[0]);
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &s, false);
    let err = mnist::load_dir(dir.path(), &s.files).unwrap_err();
    assert!(matches!(err, MnistError::Format { .. }), "{err}");
    assert!(err.to_string().contains("5488 data bytes"), "{err}");
}

/// What the loopback server answers for one path.
#[derive(Clone)]
enum Reply {
    /// 200 with this body and a matching Content-Length.
    Body(Vec<u8>),
    /// 200 announcing `len` bytes but closing after sending `body`.
    Cut {
        body: Vec<u8>,
        len: usize,
    },
    NotFound,
}

/// Serves `routes` (path -> reply) on 127.0.0.1 until the test ends;
/// returns the base URL.
fn serve(routes: Vec<(String, Reply)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request);
            let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
            let reply = routes
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, r)| r.clone())
                .unwrap_or(Reply::NotFound);
            let (status, body, len) = match reply {
                Reply::Body(b) => ("200 OK", b.clone(), b.len()),
                Reply::Cut { body, len } => ("200 OK", body, len),
                Reply::NotFound => ("404 Not Found", b"no such file".to_vec(), 12),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {len}\r\nContent-Type: application/gzip\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}/mirror")
}

fn downloader(mirrors: Vec<String>) -> Downloader {
    Downloader {
        mirrors,
        progress: false,
        timeout: Duration::from_secs(20),
    }
}

fn routes_for(s: &Synthetic, tweak: impl Fn(usize, Vec<u8>) -> Reply) -> Vec<(String, Reply)> {
    names(&s.files)
        .iter()
        .zip(&s.contents)
        .enumerate()
        .map(|(k, (name, c))| (format!("/mirror/{name}.gz"), tweak(k, gzip(c))))
        .collect()
}

#[test]
fn downloads_verifies_and_stores_missing_files() {
    let s = synthetic();
    let url = serve(routes_for(&s, |_, gz| Reply::Body(gz)));
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    downloader(vec![url])
        .fetch_missing(&cache, &s.files)
        .unwrap();
    for name in names(&s.files) {
        assert!(cache.join(format!("{name}.gz")).is_file());
    }
    let m = mnist::load_dir(&cache, &s.files).unwrap();
    assert_eq!(m.train.images, s.contents[0][16..]);
    // Nothing but the four files: no temporary files left behind.
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 4);
}

#[test]
fn corrupted_download_is_rejected_and_not_stored() {
    let s = synthetic();
    let url = serve(routes_for(&s, |k, gz| {
        if k == 0 {
            let mut bad = s.contents[0].clone();
            bad[500] ^= 1;
            Reply::Body(gzip(&bad))
        } else {
            Reply::Body(gz)
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let err = downloader(vec![url])
        .fetch_missing(dir.path(), &s.files)
        .unwrap_err();
    assert!(
        matches!(&err, MnistError::Download { name, .. } if name == "train-img"),
        "{err}"
    );
    assert!(err.to_string().contains("SHA-256"), "{err}");
    assert!(!dir.path().join("train-img.gz").exists());
}

#[test]
fn truncated_download_is_rejected_and_not_stored() {
    let s = synthetic();
    let url = serve(routes_for(&s, |k, gz| {
        if k == 2 {
            let len = gz.len();
            Reply::Cut {
                body: gz[..len / 2].to_vec(),
                len,
            }
        } else {
            Reply::Body(gz)
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let err = downloader(vec![url])
        .fetch_missing(dir.path(), &s.files)
        .unwrap_err();
    assert!(
        matches!(&err, MnistError::Download { name, .. } if name == "test-img"),
        "{err}"
    );
    assert!(!dir.path().join("test-img.gz").exists());
    // The files before it were fine and are kept.
    assert!(dir.path().join("train-img.gz").is_file());
}

#[test]
fn falls_back_to_the_next_mirror() {
    let s = synthetic();
    let broken = serve(routes_for(&s, |_, gz| {
        Reply::Body(gz[..gz.len() - 9].to_vec())
    }));
    let good = serve(routes_for(&s, |_, gz| Reply::Body(gz)));
    let dir = tempfile::tempdir().unwrap();
    downloader(vec![broken, good])
        .fetch_missing(dir.path(), &s.files)
        .unwrap();
    assert!(mnist::load_dir(dir.path(), &s.files).is_ok());
}

#[test]
fn unreachable_mirror_gives_a_clear_error() {
    let s = synthetic();
    // A port that was free a moment ago: connection refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let err = downloader(vec![format!("http://127.0.0.1:{port}/")])
        .fetch_missing(dir.path(), &s.files)
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("could not download") && msg.contains("XBAR_MNIST_URL"),
        "{msg}"
    );
}

#[test]
fn not_found_on_every_mirror_lists_each_attempt() {
    let s = synthetic();
    let a = serve(Vec::new());
    let b = serve(Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let err = downloader(vec![a.clone(), b.clone()])
        .fetch_missing(dir.path(), &s.files)
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&a) && msg.contains(&b) && msg.contains("404"),
        "{msg}"
    );
}

/// The real data set, where CI keeps it.
#[test]
fn real_mnist_verifies() {
    let dir = mnist_dir();
    let m = mnist::load_dir(&dir, &Files::standard()).unwrap();
    assert_eq!((m.train.len(), m.test.len()), (60_000, 10_000));
    assert_eq!(m.test.pixels(), mnist::PIXELS);
    // The first test digit is a 7 and the first training digit a 5.
    assert_eq!((m.test.labels[0], m.train.labels[0]), (7, 5));
}
