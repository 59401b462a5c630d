//! tracechain's web pages: HTML rendering and embedded static assets.
