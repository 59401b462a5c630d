//! Errors that name the offending field.

use std::fmt;

/// One problem with the input: `path` is a JSON pointer (RFC 6901) to the
/// offending field, e.g. `/epcisBody/eventList/1/bizStep`; the empty string
/// is the whole input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", display_path(path))]
pub struct EpcisError {
    pub path: String,
    pub reason: String,
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "(document)" } else { path }
}

impl EpcisError {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Every problem found in one input, in document order (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct EpcisErrors {
    errors: Vec<EpcisError>,
}

impl EpcisErrors {
    /// `errors` must not be empty.
    pub(crate) fn new(errors: Vec<EpcisError>) -> Self {
        debug_assert!(!errors.is_empty());
        Self { errors }
    }

    pub fn first(&self) -> &EpcisError {
        &self.errors[0]
    }

    pub fn errors(&self) -> &[EpcisError] {
        &self.errors
    }

    pub fn into_vec(self) -> Vec<EpcisError> {
        self.errors
    }

    /// Whether some error names exactly this JSON pointer.
    pub fn has_path(&self, path: &str) -> bool {
        self.errors.iter().any(|e| e.path == path)
    }
}

impl From<EpcisError> for EpcisErrors {
    fn from(e: EpcisError) -> Self {
        Self { errors: vec![e] }
    }
}

impl fmt::Display for EpcisErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Append one reference token to a JSON pointer, escaping `~` and `/`.
pub(crate) fn push_pointer_token(path: &mut String, token: &str) {
    for c in token.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

/// A JSON pointer under construction while walking the input: each step
/// borrows its parent and its key, and the text is only written out for an
/// error. The walk names every member of every event; building each
/// member's pointer as a string cost an allocation and a copy apiece on
/// inputs that are almost always valid.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pointer<'a> {
    parent: Option<&'a Pointer<'a>>,
    step: Step<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> Pointer<'a> {
    pub fn root() -> Pointer<'static> {
        Pointer {
            parent: None,
            step: Step::Root,
        }
    }

    pub fn key<'b>(&'b self, key: &'b str) -> Pointer<'b> {
        Pointer {
            parent: Some(self),
            step: Step::Key(key),
        }
    }

    pub fn index(&self, i: usize) -> Pointer<'_> {
        Pointer {
            parent: Some(self),
            step: Step::Index(i),
        }
    }

    /// The pointer's text, e.g. `/epcisBody/eventList/0/action`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.render_into(out);
        }
        match self.step {
            Step::Root => {}
            Step::Key(key) => {
                out.push('/');
                push_pointer_token(out, key);
            }
            Step::Index(i) => {
                use std::fmt::Write;
                let _ = write!(out, "/{i}");
            }
        }
    }

    pub fn error(&self, reason: impl Into<String>) -> EpcisError {
        EpcisError::new(self.render(), reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escapes_tokens() {
        let root = Pointer::root();
        let a = root.key("a/b");
        let c = a.key("c~d");
        let p = c.index(3);
        assert_eq!(p.render(), "/a~1b/c~0d/3");
    }

    #[test]
    fn display_names_path_and_reason() {
        let e = EpcisError::new("/epcisBody/eventList/0/action", "bad action");
        assert_eq!(e.to_string(), "/epcisBody/eventList/0/action: bad action");
        let all = EpcisErrors::new(vec![e.clone(), EpcisError::new("", "x")]);
        assert_eq!(all.to_string(), format!("{e}; (document): x"));
        assert!(all.has_path("/epcisBody/eventList/0/action"));
    }
}
