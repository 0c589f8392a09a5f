//! Any bytes as a deck: the front end returns a circuit or a typed error,
//! never panics, never hangs, never exhausts memory.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use xbar_netlist::{parse_str_with, Limits};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Relative `.include`s resolve in a folder that does not exist; absolute
    // ones (`/dev/zero`, `/etc/passwd`) reach the real file system, which is
    // what a hostile deck would do. The element bound is lowered so that a
    // multiplying deck is refused in milliseconds, as the default refuses it
    // in seconds.
    let limits = Limits {
        max_elements: 10_000,
        ..Limits::default()
    };
    if let Err(err) = parse_str_with(&text, Path::new("/nonexistent/fuzz.cir"), &limits) {
        // Every error names its file.
        assert!(!err.loc.file.as_os_str().is_empty(), "{err}");
    }
});
