//! Browser tests of the web pages (headless Chromium via playwright-core).
