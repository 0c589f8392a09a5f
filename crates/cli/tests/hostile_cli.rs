//! Hostile input to `xbar crossbar`, `xbar device` and `xbar sim`: each is a
//! clear error naming the input and the limit, exit status 1, nothing
//! written, and it comes quickly (no allocation is attempted first).

use std::path::Path;
use std::process::{Command, Output};

fn xbar(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// Whether `dir` is missing or empty (the output folder may be made before
/// the work that fails).
fn nothing_in(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => true,
    }
}

/// Runs `args`, expects exit 1 with nothing in `--out`, returns stderr.
fn refused(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = xbar(args, &out);
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(1), "{args:?} was accepted: {stderr}");
    assert!(nothing_in(&out), "{args:?} wrote into {}", out.display());
    stderr
}

#[test]
fn huge_crossbars_are_refused_before_allocating() {
    let generator = ["--g-min", "1e-6", "--g-max", "1e-4", "--v-max", "0.3"];
    let e = refused(
        &[
            &["crossbar", "--rows", "100000", "--cols", "100000"][..],
            &generator,
        ]
        .concat(),
    );
    assert!(
        e.contains("10000000000 cells") && e.contains("--max-cells"),
        "{e}"
    );
    // rows x cols overflows 64 bits: named, not wrapped to 0.
    let e = refused(
        &[
            &["crossbar", "--rows", "4294967296", "--cols", "4294967296"][..],
            &generator,
        ]
        .concat(),
    );
    assert!(e.contains("18446744073709551616 cells"), "{e}");
    // The limit is an option: just above it is refused, at it accepted.
    let small = ["crossbar", "--rows", "3", "--cols", "4", "--max-cells"];
    let e = refused(&[&small[..], &["11"][..], &generator[..]].concat());
    assert!(e.contains("limit of 11"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let o = xbar(
        &[&small[..], &["12"][..], &generator[..]].concat(),
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn too_many_devices_are_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let preset = root.join("models/drift_pcm.toml");
    let e = refused(&[
        "device",
        "drift",
        "--model",
        preset.to_str().unwrap(),
        "--devices",
        "4000000000",
    ]);
    assert!(
        e.contains("--devices 4000000000") && e.contains("limit of 10000000"),
        "{e}"
    );
}

/// Two rows, two columns, equal cells of `g` S, 1 Ω wires, inputs 0.1 and
/// 0.2 V. As g grows, column 1 tends to 0.25 A (each cell a short) while
/// the cells' voltages fall below the last digit of the node voltages.
fn two_by_two(g: &str, solver: &str, out: &Path) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let gf = dir.path().join("g.csv");
    let vf = dir.path().join("v.csv");
    std::fs::write(&gf, format!("{g},{g}\n{g},{g}\n")).unwrap();
    std::fs::write(&vf, "0.1\n0.2\n").unwrap();
    let deck = out.with_extension("cir");
    let o = Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args([
            "crossbar", "--r-row", "1", "--r-col", "1", "--solver", solver, "--g-file",
        ])
        .arg(&gf)
        .arg("--v-file")
        .arg(&vf)
        .arg("--out")
        .arg(out)
        .arg("--emit-netlist")
        .arg(&deck)
        .output()
        .unwrap();
    assert_eq!(deck.exists(), o.status.success(), "deck written on failure");
    o
}

#[test]
fn ill_conditioned_crossbars_are_refused_not_answered() {
    for solver in ["direct", "iterative"] {
        for g in ["1e15", "1e20"] {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("out");
            let o = two_by_two(g, solver, &out);
            let e = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "G = {g}, {solver}: accepted: {e}");
            assert!(nothing_in(&out), "G = {g}, {solver}: output written");
            // Either the answer is refused, or the solver's own refusal
            // names the cause.
            assert!(
                (e.contains("meaningless") && e.contains("Kirchhoff")
                    || e.contains("more than double precision can resolve"))
                    && e.contains("ratio"),
                "G = {g}, {solver}: {e}"
            );
        }
        // 1e9 S is still right: column 1 within 1e-6 of its 0.25 A limit.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let o = two_by_two("1e9", solver, &out);
        assert!(
            o.status.success(),
            "{solver}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let columns = std::fs::read_to_string(out.join("columns.csv")).unwrap();
        let second: f64 = columns
            .lines()
            .nth(2)
            .unwrap()
            .split(',')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (second - 0.25).abs() < 1e-6,
            "{solver}: column 1 = {second} A"
        );
    }
}

#[test]
fn hostile_decks_are_refused_by_sim() {
    let dir = tempfile::tempdir().unwrap();
    let deck = dir.path().join("zero.cir");
    std::fs::write(
        &deck,
        "dev zero\nv1 a 0 1\nr1 a 0 1k\n.include /dev/zero\n.op\n.end\n",
    )
    .unwrap();
    let e = refused(&["sim", deck.to_str().unwrap()]);
    assert!(
        e.contains("zero.cir:4") && e.contains("not a regular file (/dev/zero)"),
        "{e}"
    );
    // Ten levels of ten instances: 10^10 resistors from a 1 kB deck.
    let mut text = String::from("laughs\n.subckt l0 a b\nr1 a b 1k\n.ends\n");
    for level in 1..=10 {
        text += &format!(".subckt l{level} a b\n");
        for k in 0..10 {
            text += &format!("x{k} a b l{}\n", level - 1);
        }
        text += ".ends\n";
    }
    text += "v1 in 0 1\nx1 in 0 l10\n.op\n.end\n";
    let deck = dir.path().join("laughs.cir");
    std::fs::write(&deck, text).unwrap();
    let e = refused(&["sim", deck.to_str().unwrap(), "--max-elements", "1000"]);
    assert!(
        e.contains("laughs.cir:3")
            && e.contains("more than 1000 elements")
            && e.contains("--max-elements"),
        "{e}"
    );
    let deck = dir.path().join("empty.cir");
    std::fs::write(&deck, "only a title\n").unwrap();
    let e = refused(&["sim", deck.to_str().unwrap()]);
    assert!(e.contains("empty.cir: deck has no elements"), "{e}");
}
