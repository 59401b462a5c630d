//! The shell every page shares: head, skip link, navigation with the
//! explorer search, footer; and the error page.

use maud::{DOCTYPE, Markup, html};

/// One page: its title, its body, and the module scripts it runs.
pub struct Page<'a> {
    pub title: &'a str,
    /// One line under the title in search results and link previews.
    pub description: &'a str,
    pub body: Markup,
    /// Paths of ES module scripts (under `/static/`).
    pub scripts: &'a [&'a str],
}

impl Page<'_> {
    /// The complete HTML document.
    pub fn render(&self) -> String {
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="description" content=(self.description);
                    meta name="color-scheme" content="light";
                    title { (self.title) " · tracechain" }
                    link rel="stylesheet" href="/static/style.css";
                    link rel="icon" href="/static/favicon.svg" type="image/svg+xml";
                    @for script in self.scripts {
                        script type="module" src=(script) {}
                    }
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    (header())
                    main #main tabindex="-1" { (self.body) }
                    (footer())
                }
            }
        }
        .into_string()
    }
}

fn header() -> Markup {
    html! {
        header.site {
            nav aria-label="Site" {
                a.brand href="/explorer" { "tracechain" }
                a href="/explorer" { "Explorer" }
            }
            (search_form())
        }
    }
}

/// The explorer search box (ids, hashes, heights, organisations).
fn search_form() -> Markup {
    html! {
        form.search role="search" action="/explorer/search" method="get" {
            label for="search-q" { "Search" }
            input #search-q type="search" name="q"
                placeholder="Block height, transaction or event hash, item, parcel, organisation"
                autocomplete="off" spellcheck="false";
            button type="submit" { "Go" }
        }
    }
}

fn footer() -> Markup {
    html! {
        footer.site {
            p {
                "Served by a tracechain node. Everything here is also JSON: "
                a href="/v1/openapi.json" { "API description" } "."
            }
        }
    }
}

/// A page for something that is not there or a request that cannot be
/// answered (`status` is shown, the HTTP status is set by the caller).
pub fn error_page(status: u16, title: &str, detail: &str) -> String {
    let body = html! {
        section.error aria-labelledby="error-title" {
            p.status { "Error " (status) }
            h1 #error-title { (title) }
            p { (detail) }
            p { "Try the search above, or go back to the " a href="/explorer" { "explorer" } "." }
        }
    };
    Page {
        title,
        description: detail,
        body,
        scripts: &[],
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_titles_and_details() {
        let page = error_page(404, "<script>alert(1)</script>", "a & b \"quoted\"");
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("a &amp; b &quot;quoted&quot;"));
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains(r#"<html lang="en">"#));
    }

    #[test]
    fn has_landmarks_and_skip_link() {
        let page = error_page(404, "Nothing", "gone");
        for needle in [
            r##"href="#main""##,
            "<main id=\"main\"",
            "role=\"search\"",
            "<label for=\"search-q\">",
            "name=\"viewport\"",
        ] {
            assert!(page.contains(needle), "{needle} missing");
        }
    }
}
