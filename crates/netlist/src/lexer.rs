//! From files to logical lines and tokens: the title line, comments,
//! continuation lines, `.include` expansion and `.end`.

use std::path::{Path, PathBuf};

use crate::circuit::SourceLoc;
use crate::error::{ErrorKind, NetlistError};
use crate::Limits;

/// One statement of the deck after joining `+` continuations and removing
/// comments. `text` keeps the original case (file names need it).
#[derive(Debug, Clone, PartialEq)]
pub struct LogicalLine {
    pub loc: SourceLoc,
    pub text: String,
}

/// The deck's lines: the title and the logical lines of the top-level file
/// with every `.include` expanded in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Lines {
    pub title: String,
    pub lines: Vec<LogicalLine>,
}

/// Guards against pathological include nesting that is not a cycle
/// (e.g. through symbolic links with different names).
const MAX_INCLUDE_DEPTH: usize = 64;

/// Splits `text` (the contents of the top-level deck `path`) into logical lines,
/// reading included files from disk relative to the including file.
pub fn read_deck(path: &Path, text: &str, limits: &Limits) -> Result<Lines, NetlistError> {
    let mut physical = text.lines();
    let title = physical.next().unwrap_or("").trim().to_string();
    let mut stack = vec![identity(path)];
    let lines = expand(path, text, 2, &mut stack, limits)?;
    Ok(Lines { title, lines })
}

/// Reads a deck or an included file: a regular file (a device such as
/// `/dev/zero` or a FIFO never ends) of at most `limits.max_file_bytes`.
pub fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, ErrorKind> {
    use std::io::Read;
    let io = |err: std::io::Error| ErrorKind::Io(err.to_string());
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(ErrorKind::Io("not a regular file".into()));
    }
    let too_large = || {
        ErrorKind::Limit(format!(
            "file larger than {} bytes (Limits::max_file_bytes; `xbar sim --max-file-bytes`)",
            limits.max_file_bytes
        ))
    };
    if meta.len() > limits.max_file_bytes {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    // The size can change between the check and the read.
    file.take(limits.max_file_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(too_large());
    }
    Ok(bytes)
}

fn identity(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Logical lines of one file starting at physical line `first_line` (1-based;
/// 2 for a top-level deck whose line 1 is the title), includes expanded.
fn expand(
    path: &Path,
    text: &str,
    first_line: usize,
    stack: &mut Vec<PathBuf>,
    limits: &Limits,
) -> Result<Vec<LogicalLine>, NetlistError> {
    let mut out = Vec::new();
    for line in join_lines(path, text, first_line)? {
        let lower = line.text.to_ascii_lowercase();
        let keyword = lower.split_whitespace().next().unwrap_or("");
        if keyword == ".end" {
            break;
        }
        if keyword == ".include" || keyword == ".inc" {
            let raw = line.text.trim()[keyword.len()..].trim();
            let name = raw.trim_matches(|c| c == '"' || c == '\'');
            if name.is_empty() {
                return Err(NetlistError::new(
                    &line.loc,
                    ErrorKind::Missing("file name".into()),
                    keyword,
                ));
            }
            let base = path.parent().unwrap_or(Path::new(""));
            let target = base.join(name);
            let id = identity(&target);
            if stack.contains(&id) {
                return Err(NetlistError::new(&line.loc, ErrorKind::IncludeCycle, name));
            }
            if stack.len() >= MAX_INCLUDE_DEPTH {
                return Err(NetlistError::new(
                    &line.loc,
                    ErrorKind::Unsupported(format!(
                        "include nesting deeper than {MAX_INCLUDE_DEPTH}"
                    )),
                    name,
                ));
            }
            let contents = read_file(&target, limits)
                .map_err(|kind| NetlistError::new(&line.loc, kind, name))?;
            let contents = String::from_utf8_lossy(&contents);
            stack.push(id);
            out.extend(expand(&target, &contents, 1, stack, limits)?);
            stack.pop();
            continue;
        }
        out.push(line);
    }
    Ok(out)
}

/// Joins continuation lines and strips comments in one file.
fn join_lines(
    path: &Path,
    text: &str,
    first_line: usize,
) -> Result<Vec<LogicalLine>, NetlistError> {
    let mut out: Vec<LogicalLine> = Vec::new();
    let mut in_control = false;
    for (index, raw) in text.lines().enumerate().skip(first_line - 1) {
        let loc = SourceLoc {
            file: path.to_path_buf(),
            line: index + 1,
        };
        let keyword = raw.trim_start().to_ascii_lowercase();
        if keyword.starts_with(".control") {
            in_control = true;
        } else if keyword.starts_with(".endc") {
            in_control = false;
        }
        // Inside `.control`, `$name` is a variable, not a comment.
        let stripped = strip_comment(raw, !in_control);
        let trimmed = stripped.trim();
        if trimmed.is_empty() || trimmed.starts_with('*') {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('+') {
            match out.last_mut() {
                Some(previous) => {
                    previous.text.push(' ');
                    previous.text.push_str(rest);
                }
                None => return Err(NetlistError::new(&loc, ErrorKind::OrphanContinuation, "+")),
            }
            continue;
        }
        out.push(LogicalLine {
            loc,
            text: trimmed.to_string(),
        });
    }
    Ok(out)
}

/// Removes an end-of-line comment as ngspice does: from `;` or `//`
/// anywhere, or (outside `.control`, where `$name` is a variable) from a `$`
/// that follows a space, tab or comma (`a$b` is a name).
fn strip_comment(line: &str, dollar_comments: bool) -> &str {
    let bytes = line.as_bytes();
    for (pos, &b) in bytes.iter().enumerate() {
        let starts = match b {
            b';' => true,
            b'/' => bytes.get(pos + 1) == Some(&b'/'),
            b'$' => dollar_comments && pos > 0 && matches!(bytes[pos - 1], b' ' | b'\t' | b','),
            _ => false,
        };
        if starts {
            return &line[..pos];
        }
    }
    line
}

/// A token of a logical line.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A word, lower-cased.
    Word(String),
    /// The text of a `{...}` or `'...'` expression.
    Expr(String),
    Eq,
    LParen,
    RParen,
}

impl Token {
    /// The token as the deck spells it, for error messages.
    pub fn text(&self) -> String {
        match self {
            Token::Word(word) => word.clone(),
            Token::Expr(expr) => format!("{{{expr}}}"),
            Token::Eq => "=".into(),
            Token::LParen => "(".into(),
            Token::RParen => ")".into(),
        }
    }
}

/// Splits a logical line into tokens. Whitespace and commas separate words;
/// `=`, `(` and `)` are tokens of their own; `{...}` (nesting) and `'...'`
/// are single expression tokens.
pub fn tokenize(line: &LogicalLine) -> Result<Vec<Token>, NetlistError> {
    let text = &line.text;
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() || c == ',' => i += 1,
            '=' => {
                tokens.push(Token::Eq);
                i += 1;
            }
            '(' => {
                tokens.push(Token::LParen);
                i += 1;
            }
            ')' => {
                tokens.push(Token::RParen);
                i += 1;
            }
            '{' => {
                let start = i + 1;
                let mut depth = 1;
                i += 1;
                while i < chars.len() && depth > 0 {
                    match chars[i] {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    i += 1;
                }
                if depth > 0 {
                    let fragment: String = chars[start - 1..].iter().collect();
                    return Err(NetlistError::new(
                        &line.loc,
                        ErrorKind::Unterminated("`{` expression"),
                        fragment,
                    ));
                }
                tokens.push(Token::Expr(chars[start..i - 1].iter().collect()));
            }
            '\'' => {
                let start = i + 1;
                let Some(len) = chars[start..].iter().position(|&c| c == '\'') else {
                    let fragment: String = chars[i..].iter().collect();
                    return Err(NetlistError::new(
                        &line.loc,
                        ErrorKind::Unterminated("`'` expression"),
                        fragment,
                    ));
                };
                tokens.push(Token::Expr(chars[start..start + len].iter().collect()));
                i = start + len + 1;
            }
            '}' => {
                return Err(NetlistError::new(
                    &line.loc,
                    ErrorKind::Unexpected(String::new()),
                    "}",
                ));
            }
            _ => {
                let start = i;
                while i < chars.len() && !is_separator(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(Token::Word(word.to_lowercase()));
            }
        }
    }
    Ok(tokens)
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '=' | '(' | ')' | '{' | '}' | '\'')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        read_deck(Path::new("t.cir"), text, &Limits::default())
            .unwrap()
            .lines
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    #[test]
    fn comments_continuations_and_end() {
        let deck = "My Title\n* comment\nR1 a b 1k ; trailing\n+ extra\n* between\n+ more $ dollar comment\nV1 a$b 0 1 $no space\n r2 a,$x\nr3 a b 2 // slashes\n\n.END\nr9 x y 1\n";
        assert_eq!(
            lines(deck),
            vec!["R1 a b 1k  extra  more", "V1 a$b 0 1", "r2 a,", "r3 a b 2"]
        );
        let parsed = read_deck(Path::new("t.cir"), deck, &Limits::default()).unwrap();
        assert_eq!(parsed.title, "My Title");
        assert_eq!(parsed.lines[1].loc.line, 7);
    }

    #[test]
    fn orphan_continuation_is_an_error() {
        let err = read_deck(
            Path::new("t.cir"),
            "title\n+ r1 a b 1\n",
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::OrphanContinuation);
        assert_eq!(err.loc.line, 2);
    }

    #[test]
    fn tokens() {
        let line = LogicalLine {
            loc: SourceLoc::default(),
            text: "V1 A 0 PULSE(0, 1 {2*x} 'a + b') r= 3".into(),
        };
        let toks = tokenize(&line).unwrap();
        assert_eq!(
            toks,
            vec![
                Token::Word("v1".into()),
                Token::Word("a".into()),
                Token::Word("0".into()),
                Token::Word("pulse".into()),
                Token::LParen,
                Token::Word("0".into()),
                Token::Word("1".into()),
                Token::Expr("2*x".into()),
                Token::Expr("a + b".into()),
                Token::RParen,
                Token::Word("r".into()),
                Token::Eq,
                Token::Word("3".into()),
            ]
        );
        let bad = LogicalLine {
            loc: SourceLoc::default(),
            text: "r1 a b {1+".into(),
        };
        assert!(tokenize(&bad).is_err());
    }
}
