//! The dialect table cannot drift: the README shows exactly
//! `dialect::markdown_table()`, and the parser accepts every supported
//! element and directive of the list and refuses every refused one.
//!
//! After adding a row, `XBAR_BLESS=1 cargo test -p xbar-netlist --test
//! dialect` rewrites the README's table.

use std::path::Path;

use xbar_netlist::dialect::{Category, Status, DIALECT};
use xbar_netlist::{parse_str, ErrorKind};

const BEGIN: &str = "<!-- dialect table: generated from crates/netlist/src/dialect.rs -->\n";
const END: &str = "<!-- end of dialect table -->";

#[test]
fn readme_table_is_the_dialect_list() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(BEGIN)
        .expect("README has the dialect table marker")
        + BEGIN.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README has the end marker");
    let table = xbar_netlist::dialect::markdown_table();
    if std::env::var_os("XBAR_BLESS").is_some() {
        let updated = format!("{}{table}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        readme[start..end] == table,
        "README's dialect table differs from crates/netlist/src/dialect.rs; \
         rerun with XBAR_BLESS=1 to rewrite it"
    );
}

/// The error a deck with one extra line gets, if any.
fn error_kind(line: &str) -> Option<ErrorKind> {
    let deck = format!("dialect\nv1 a 0 1\nr1 a 0 1k\n{line}\n.op\n");
    parse_str(&deck, Path::new("d.cir")).err().map(|e| e.kind)
}

#[test]
fn parser_follows_the_list() {
    for feature in DIALECT {
        for keyword in feature.keywords {
            let line = match feature.category {
                Category::Element if keyword.len() > 1 => format!("{keyword} x1 a 0 1"),
                Category::Element => format!("{keyword}x1 a 0 1"),
                Category::Analysis | Category::Directive => keyword.to_string(),
                Category::Control => continue,
            };
            // Lines the lexer consumes before the parser sees them.
            if [
                ".end", ".include", ".inc", ".title", ".control", ".endc", ".subckt", ".ends",
            ]
            .contains(keyword)
            {
                continue;
            }
            let kind = error_kind(&line);
            let refused = matches!(kind, Some(ErrorKind::Unsupported(_)));
            let unknown = matches!(
                kind,
                Some(ErrorKind::UnknownDirective | ErrorKind::UnknownElement)
            );
            assert!(
                !unknown,
                "`{line}` is in the dialect list but the parser does not know it"
            );
            match feature.status {
                Status::Refused => {
                    assert!(refused, "`{line}` is listed refused but parses: {kind:?}")
                }
                _ => assert!(
                    !refused,
                    "`{line}` is listed {} but refused",
                    feature.status.name()
                ),
            }
        }
    }
}
