//! WebDriver tests (being built).
